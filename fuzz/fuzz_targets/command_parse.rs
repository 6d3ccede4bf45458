//! Arbitrary lines through the command table in every state: no panic, and a line the table
//! accepts names a command that is valid in that state.

#![no_main]

use chatserver::command::{self, States};
use chatserver::input::Input;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    for state in [States::LOGIN, States::LOBBY, States::ANY] {
        let input = command::parse(line, state);
        let _ = format!("{input:?}");
        let word = line.split_whitespace().next().unwrap_or("");
        if command::find(word, state).is_none() && !word.is_empty() {
            assert!(
                !matches!(input, Input::Help),
                "unknown word {word:?} parsed as help"
            );
        }
    }
});
