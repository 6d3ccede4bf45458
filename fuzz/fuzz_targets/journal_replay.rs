//! Arbitrary bytes as a journal, snapshot and history file through the store's loader, in
//! either record format the header names (1: space-separated, read-only; 2: escaped
//! tab-separated fields): no panic, and the loader's invariants hold (see `store::fuzz_load`),
//! among them that every record read back encodes to text that parses to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    chatserver::store::fuzz_load(data);
});
