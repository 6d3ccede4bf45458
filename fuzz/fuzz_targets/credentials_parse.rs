//! Arbitrary text as credentials.txt and as one password field: no panic, and whatever parses
//! prints back to text that parses to the same thing; every accepted password can be stored.

#![no_main]

use chatserver::credentials::{account_line, valid_token, Credentials, Secret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Credentials::parse(text);
    if let Ok(secret) = Secret::parse(text) {
        assert_eq!(Secret::parse(&secret.to_string()), Ok(secret));
    }
    // Every password the server accepts makes an account line that reads back, in both modes.
    if valid_token(text) {
        for plain in [false, true] {
            let secret = Secret::for_new_account(text, plain, [7; 16], 3);
            assert!(secret.verify(text));
            assert!(account_line("eve", &secret).is_ok(), "{text:?}");
        }
    }
});
