//! Arbitrary bytes as a journal, snapshot and history file through the store's loader: no
//! panic, and the loader's invariants hold (see `store::fuzz_load`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    chatserver::store::fuzz_load(data);
});
