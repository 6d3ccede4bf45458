//! Arbitrary text as one record's text, past the checksum that keeps `journal_replay` from
//! reaching most of the parser: in format 2 and in format 1, no panic, and any record either
//! reader accepts encodes to text (without a newline) that parses back to the same record.

#![no_main]

use chatserver::record::{v1, Record};
use libfuzzer_sys::fuzz_target;

fn round_trips(r: &Record) {
    let text = r.encode();
    assert!(!text.as_str().contains('\n'), "{text:?}");
    assert_eq!(Record::parse(text.as_str()).as_ref(), Some(r), "{text:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(r) = Record::parse(text) {
        round_trips(&r);
    }
    if let Some(v1::Line::Record(r)) = v1::parse(text) {
        round_trips(&r);
    }
});
