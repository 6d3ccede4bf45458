//! Arbitrary bytes through each protocol's framer and parser, with the session's expectation
//! cycling (username, password, command, nothing) as inputs arrive: no panic, and every
//! decoded input renders (the reply path) without panicking either.

#![no_main]

use chatserver::protocol::{line::LineCodec, Protocol, ProtocolKind, ProtocolOptions, Sink};
use chatserver::event::Ticket;
use chatserver::input::{Expect, Input};
use libfuzzer_sys::fuzz_target;

const EXPECTS: [Expect; 4] = [
    Expect::Username,
    Expect::Password,
    Expect::Command,
    Expect::Nothing,
];

struct Cycle {
    at: usize,
    inputs: usize,
}

impl Sink for Cycle {
    fn expects(&self) -> Expect {
        EXPECTS[self.at % EXPECTS.len()]
    }

    fn input(&mut self, input: Input<'_>) {
        let _ = format!("{input:?}");
        self.at = self.at.wrapping_add(1);
        self.inputs += 1;
    }

    fn reserve(&mut self, ticket: Ticket) {
        let _ = format!("{ticket:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let max = 16 + usize::from(first) * 4;
    // Feed in chunks whose sizes come from the data itself, so lines straddle reads.
    let chunk = usize::from(first % 31) + 1;
    for kind in [ProtocolKind::Line, ProtocolKind::Json, ProtocolKind::Irc] {
        let mut codec = Protocol::new(kind, &ProtocolOptions::default());
        let mut sink = Cycle {
            at: usize::from(first),
            inputs: 0,
        };
        for piece in rest.chunks(chunk) {
            codec.decode(piece, max, &mut sink);
        }
        codec.finish(max, &mut sink);
        assert!(sink.inputs <= rest.len() + 1, "more inputs than bytes");
    }
    let mut line = LineCodec::default();
    let mut sink = Cycle { at: 2, inputs: 0 };
    line.decode(rest, max, &mut sink);
});
