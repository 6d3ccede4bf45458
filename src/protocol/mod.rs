//! Codecs: one per front-end wire. A connection's codec turns received bytes into core
//! [`Input`]s (asking the core what it expects where the wire is stateful) and renders core
//! [`Event`]s into bytes. The core never sees a wire; a new front-end is a new variant here and
//! a listener kind in the server, nothing else.

pub mod irc;
pub mod json; // JSON front-end (PROTOCOL.md §6, seed 002).
pub mod line;

use crate::event::Event;
use crate::input::{Expect, Input};

/// Kinds of codec, each with its own slot in a [`crate::event::Shared`] render cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodecKind {
    Line = 0,
    /// IRC front-end (issue 12).
    Irc = 2,
    /// The seed-002 client's JSON objects (`--json-port`).
    Json = 1,
}

/// How many [`CodecKind`]s there are.
pub const CODEC_KINDS: usize = 3;

/// Where decoded inputs go: the core behind one connection.
pub trait Sink {
    /// What the session waits for (a line codec parses by it).
    fn expects(&self) -> Expect;
    /// One decoded input, applied at once (so the next one is parsed in the new state).
    fn input(&mut self, input: Input<'_>);
    /// A reply the codec makes itself (IRC `PONG`, numerics), queued behind the core's
    /// replies to earlier inputs so the order on the wire is the order of the requests.
    fn reply(&mut self, event: Event);
}

/// Whether an encoded event must leave in a write of its own (seed 002's `<quit>`, which its
/// client recognises only as a whole chunk).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boundary {
    /// Coalesce with whatever else is queued.
    None,
    /// Its own write: nothing before or after it in the same `write()`.
    Alone,
    /// Its last this many bytes leave in a write of their own, at least
    /// [`crate::connection::TAIL_PAUSE`] after the rest (a notice, then seed 002's `<quit>`,
    /// which its client recognizes only as a whole read of its own, issue 21).
    Tail(usize),
}

/// One connection's codec.
#[derive(Debug)]
pub enum Codec {
    Line(line::LineCodec),
    Irc(Box<irc::IrcCodec>),
    Json(json::JsonFront),
}

/// Settings codecs are built with (one set per server).
#[derive(Clone, Debug, Default)]
pub struct CodecOptions {
    pub irc: std::sync::Arc<irc::IrcOptions>,
}

impl Codec {
    pub fn new(kind: CodecKind) -> Codec {
        Codec::with_options(kind, &CodecOptions::default())
    }

    pub fn with_options(kind: CodecKind, options: &CodecOptions) -> Codec {
        match kind {
            CodecKind::Line => Codec::Line(line::LineCodec::default()),
            CodecKind::Irc => Codec::Irc(Box::new(irc::IrcCodec::new(options.irc.clone()))),
            CodecKind::Json => Codec::Json(json::JsonFront::default()),
        }
    }

    pub fn kind(&self) -> CodecKind {
        match self {
            Codec::Line(_) => CodecKind::Line,
            Codec::Irc(_) => CodecKind::Irc,
            Codec::Json(_) => CodecKind::Json,
        }
    }

    /// Bytes sent on accept, before the core says anything (the line codec has none: its
    /// first prompt comes from the core).
    pub fn greeting(&self) -> &'static [u8] {
        match self {
            Codec::Line(_) | Codec::Irc(_) => b"",
            Codec::Json(_) => crate::protocol::json::objects::wire::GREETING.as_bytes(),
        }
    }

    /// Feed received bytes; every complete input goes to `sink` in order.
    pub fn decode(&mut self, data: &[u8], max: usize, sink: &mut impl Sink) {
        match self {
            Codec::Line(c) => c.decode(data, max, sink),
            Codec::Irc(c) => c.decode(data, sink),
            Codec::Json(c) => c.decode(data, max, sink),
        }
    }

    /// End of input: a last unterminated input still counts.
    pub fn finish(&mut self, max: usize, sink: &mut impl Sink) {
        match self {
            Codec::Line(c) => c.finish(max, sink),
            Codec::Irc(c) => c.finish(sink),
            Codec::Json(c) => c.finish(),
        }
    }

    /// Render `event` onto `out`.
    pub fn encode(&mut self, event: &Event, out: &mut Vec<u8>) -> Boundary {
        match self {
            Codec::Line(_) => {
                line::text::render(event, out);
                Boundary::None
            }
            Codec::Irc(c) => {
                c.encode(event, out);
                Boundary::None
            }
            Codec::Json(_) => json::render(event, out),
        }
    }

    /// Whether `event` renders the same for every connection of this kind (fan-out may then
    /// share one rendering).
    pub fn shareable(&self, event: &Event) -> bool {
        match self {
            Codec::Line(_) => !matches!(event, Event::Codec(_)),
            Codec::Irc(_) => irc::IrcCodec::shareable(event),
            Codec::Json(_) => json::shareable(event),
        }
    }
}
