//! Protocols: one per front-end wire (line, JSON, IRC). A connection's protocol turns the
//! plaintext its transport received into core [`Input`]s (asking the core what it expects where
//! the wire is stateful) and renders core [`Event`]s into plaintext for its transport to send.
//! A protocol never sees a socket, a TLS record or a frame: any protocol runs over any
//! transport (`crate::transport`). A new front-end is a variant here and a listener in
//! `main.rs`, nothing else.

#[cfg(feature = "web")]
pub mod events; // The events protocol (issue 19, PROTOCOL.md §9).
pub mod irc;
pub mod json; // JSON front-end (PROTOCOL.md §6, seed 002).
pub mod line;

use crate::chat::{Front, LoginStyle, ToSelf};
use crate::event::{Event, Ticket};
use crate::input::{Expect, Input};
use crate::queue::Chunk;
use std::ops::ControlFlow;

/// Kinds of protocol: what a listener speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolKind {
    Line,
    /// IRC front-end (issue 12).
    Irc,
    /// The seed-002 client's JSON objects (`--json-port`).
    Json,
    /// The core's inputs and events as JSON (issue 19: `--events-port`, the page's WebSocket).
    #[cfg(feature = "web")]
    Events,
}

/// Where decoded inputs go: the core behind one connection.
pub trait Sink {
    /// What the session waits for (a line protocol parses by it).
    fn expects(&self) -> Expect;
    /// One decoded input, applied at once (so the next one is parsed in the new state).
    fn input(&mut self, input: Input<'_>);
    /// Hold a place in the reply order for a reply the protocol keeps itself (IRC `PONG`,
    /// numerics): it comes back as [`Event::Reserved`] behind the core's replies to earlier
    /// inputs, so the order on the wire is the order of the requests.
    fn reserve(&mut self, ticket: Ticket);
    /// Like [`Sink::reserve`], for a reply that opens the replies to the next input (the
    /// events protocol's start of a request `id`'s replies): in cluster mode, where that
    /// input's replies wait for the stream, it waits with them, so nothing sent meanwhile
    /// (others' chat) is taken for one of them.
    fn reserve_opening(&mut self, ticket: Ticket) {
        self.reserve(ticket);
    }
    /// Whether to go on decoding. The loop bounds the inputs it takes from one connection
    /// per pass; once this is false the protocol stops after the input it is on and reports
    /// how many bytes it consumed (the rest waits in the connection).
    fn wants_more(&self) -> bool {
        true
    }
    /// One message of the wire that the protocol answered itself, with no input to the core
    /// (IRC's `PING` before registration, a `461`, `CAP`): it costs the command penalty an
    /// input costs, so a flood of such messages is paced like any other.
    fn answered(&mut self) {}
}

/// Go on while the sink wants more inputs (the framers' early-stop signal).
fn flow(sink: &impl Sink) -> ControlFlow<()> {
    if sink.wants_more() {
        ControlFlow::Continue(())
    } else {
        ControlFlow::Break(())
    }
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

/// One connection's protocol state.
#[derive(Debug)]
pub enum Protocol {
    Line(line::LineCodec),
    Irc(Box<irc::IrcCodec>),
    Json(json::JsonFront),
    #[cfg(feature = "web")]
    Events(Box<events::EventsCodec>),
}

/// Settings protocols are built with (one set per server).
#[derive(Clone, Debug, Default)]
pub struct ProtocolOptions {
    pub irc: std::sync::Arc<irc::IrcOptions>,
}

impl Protocol {
    pub fn new(kind: ProtocolKind, options: &ProtocolOptions) -> Protocol {
        match kind {
            ProtocolKind::Line => Protocol::Line(line::LineCodec::default()),
            ProtocolKind::Irc => Protocol::Irc(Box::new(irc::IrcCodec::new(options.irc.clone()))),
            ProtocolKind::Json => Protocol::Json(json::JsonFront::default()),
            #[cfg(feature = "web")]
            ProtocolKind::Events => Protocol::Events(Box::default()),
        }
    }

    pub fn kind(&self) -> ProtocolKind {
        match self {
            Protocol::Line(_) => ProtocolKind::Line,
            Protocol::Irc(_) => ProtocolKind::Irc,
            Protocol::Json(_) => ProtocolKind::Json,
            #[cfg(feature = "web")]
            Protocol::Events(_) => ProtocolKind::Events,
        }
    }

    /// Which shared renderings this connection can take ([`RenderKey`]).
    pub fn render_key(&self) -> RenderKey {
        match self {
            Protocol::Line(_) => RenderKey::Line,
            Protocol::Irc(c) => RenderKey::Irc(c.render_key()),
            Protocol::Json(_) => RenderKey::Json,
            #[cfg(feature = "web")]
            Protocol::Events(_) => RenderKey::Events,
        }
    }

    /// This wire's rules for its sessions. Logins: the line protocol runs the core's
    /// `Username: ` dialog; JSON clients name themselves, and IRC registration is the
    /// protocol's own dialog ending in the core's login; the events protocol sees the dialog's
    /// prompts as objects and may answer them, or log in with one request. A message to
    /// oneself: IRC delivers it; the seeds' wires (line, JSON) and the events protocol, which
    /// mirrors the line protocol's rules for the page, refuse it (PROTOCOL.md §3).
    pub fn front(&self) -> Front {
        let login = match self {
            Protocol::Line(_) => LoginStyle::Dialog,
            #[cfg(feature = "web")]
            Protocol::Events(_) => LoginStyle::Dialog,
            Protocol::Irc(_) | Protocol::Json(_) => LoginStyle::Guest,
        };
        let to_self = match self {
            Protocol::Irc(_) => ToSelf::Delivered,
            Protocol::Line(_) | Protocol::Json(_) => ToSelf::Refused,
            #[cfg(feature = "web")]
            Protocol::Events(_) => ToSelf::Refused,
        };
        Front { login, to_self }
    }

    /// Bytes sent on accept, before the core says anything (the line protocol has none: its
    /// first prompt comes from the core).
    pub fn greeting(&self) -> &'static [u8] {
        match self {
            Protocol::Line(_) | Protocol::Irc(_) => b"",
            Protocol::Json(_) => json::objects::wire::GREETING.as_bytes(),
            #[cfg(feature = "web")]
            Protocol::Events(_) => b"",
        }
    }

    /// Feed received plaintext; every complete input goes to `sink` in order, until the sink
    /// stops wanting more. Returns how many bytes of `data` were consumed (all of them unless
    /// the sink said stop; the caller keeps the rest for the next pass).
    pub fn decode(&mut self, data: &[u8], max: usize, sink: &mut impl Sink) -> usize {
        match self {
            Protocol::Line(c) => c.decode(data, max, sink),
            Protocol::Irc(c) => c.decode(data, sink),
            Protocol::Json(c) => c.decode(data, max, sink),
            #[cfg(feature = "web")]
            Protocol::Events(c) => c.decode(data, max, sink),
        }
    }

    /// End of input: a last unterminated input still counts.
    pub fn finish(&mut self, max: usize, sink: &mut impl Sink) {
        match self {
            Protocol::Line(c) => c.finish(max, sink),
            Protocol::Irc(c) => c.finish(sink),
            Protocol::Json(c) => c.finish(),
            #[cfg(feature = "web")]
            Protocol::Events(c) => c.finish(max, sink),
        }
    }

    /// Render `event` onto `out` at `now_ms` (Unix ms: IRC's `server-time` of what has no
    /// time of its own, issue 22).
    pub fn encode(&mut self, event: &Event, now_ms: u64, out: &mut Vec<u8>) -> Boundary {
        match self {
            Protocol::Line(_) => {
                line::text::render(event, out);
                Boundary::None
            }
            Protocol::Irc(c) => {
                c.encode(event, now_ms, out);
                Boundary::None
            }
            Protocol::Json(_) => json::render(event, out),
            #[cfg(feature = "web")]
            Protocol::Events(c) => {
                c.encode(event, out);
                Boundary::None
            }
        }
    }

    /// Whether `event` renders the same for every connection of this kind with the same
    /// [`Protocol::render_key`] (fan-out may then share one rendering).
    pub fn shareable(&self, event: &Event) -> bool {
        match self {
            Protocol::Line(_) => !matches!(event, Event::Reserved(_)),
            Protocol::Irc(c) => c.shareable(event),
            Protocol::Json(_) => json::shareable(event),
            #[cfg(feature = "web")]
            Protocol::Events(c) => c.shareable(event),
        }
    }
}

/// What a shared rendering depends on (issue 20): every connection with the same key gets the
/// same bytes for a shareable event, so a fan-out renders once per key and the recipients share
/// the chunk. Today a key is a protocol kind. A protocol whose rendering also depends on what a
/// connection negotiated (IRCv3 message tags on or off) adds a variant, its place in
/// [`RenderKey::ALL`] and its cases in [`Protocol::render_key`] and [`RenderKey::protocol`]; the
/// render cache and the announcements take their slots from these, and the exhaustive matches
/// fail the build until each case is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderKey {
    Line,
    Json,
    /// Issue 22: IRC connections differ by the capabilities that shape fan-out lines (tags);
    /// the number is their set ([`crate::protocol::irc::IrcCodec::render_key`]), 0 for none.
    Irc(u32),
    /// The events protocol (issue 19).
    #[cfg(feature = "web")]
    Events,
}

impl RenderKey {
    /// Every key without capabilities, each at its [`RenderKey::index`] (the announcements
    /// render with these: IRC sessions, the only ones with capabilities, never subscribe).
    #[cfg(not(feature = "web"))]
    pub const ALL: [RenderKey; 3] = [RenderKey::Line, RenderKey::Json, RenderKey::Irc(0)];
    /// Every key without capabilities, each at its [`RenderKey::index`] (with the events
    /// protocol's).
    #[cfg(feature = "web")]
    pub const ALL: [RenderKey; 4] = [
        RenderKey::Line,
        RenderKey::Json,
        RenderKey::Irc(0),
        RenderKey::Events,
    ];

    /// This key's place in per-key arrays.
    pub fn index(self) -> usize {
        match self {
            RenderKey::Line => 0,
            RenderKey::Json => 1,
            RenderKey::Irc(_) => 2,
            #[cfg(feature = "web")]
            RenderKey::Events => 3,
        }
    }

    /// A protocol that renders as every connection with this key does (the announcements
    /// render with one per key).
    pub fn protocol(self, options: &ProtocolOptions) -> Protocol {
        let kind = match self {
            RenderKey::Line => ProtocolKind::Line,
            RenderKey::Json => ProtocolKind::Json,
            RenderKey::Irc(_) => ProtocolKind::Irc,
            #[cfg(feature = "web")]
            RenderKey::Events => ProtocolKind::Events,
        };
        Protocol::new(kind, options)
    }
}

/// One fan-out event's renderings, a slot per [`RenderKey`]: the first recipient of a key
/// renders, the others share the chunk (issue 20: queued by pointer, or copied when small).
/// IRC connections with capabilities (issue 22) get a slot per distinct set, in a short list.
#[derive(Debug, Default)]
pub struct RenderCache {
    slots: [Option<Chunk>; RenderKey::ALL.len()],
    tagged: Vec<(u32, Chunk)>,
}

impl RenderCache {
    /// `event` as `protocol` renders it at `now_ms`, rendered on the first call for its key.
    #[inline]
    pub fn chunk(&mut self, protocol: &mut Protocol, event: &Event, now_ms: u64) -> &Chunk {
        match protocol.render_key() {
            RenderKey::Irc(caps) if caps != 0 => {
                let at = match self.tagged.iter().position(|(k, _)| *k == caps) {
                    Some(at) => at,
                    None => {
                        let chunk = render_once(protocol, event, now_ms);
                        self.tagged.push((caps, chunk));
                        self.tagged.len() - 1
                    }
                };
                &self.tagged[at].1
            }
            key => {
                self.slots[key.index()].get_or_insert_with(|| render_once(protocol, event, now_ms))
            }
        }
    }
}

/// The first recipient's rendering of a fan-out event: once per protocol kind, so kept out of
/// line (inlined, it made the per-recipient copy path too big to inline into the loop).
#[cold]
#[inline(never)]
fn render_once(protocol: &mut Protocol, event: &Event, now_ms: u64) -> Chunk {
    let mut v = Vec::new();
    protocol.encode(event, now_ms, &mut v);
    Chunk::from(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Notice;

    /// Counts inputs and reserved replies (the loop's unit of work) and stops wanting more
    /// after `budget` of them.
    struct Budget {
        work: usize,
        budget: usize,
    }

    impl Sink for Budget {
        fn expects(&self) -> Expect {
            Expect::Command
        }
        fn input(&mut self, _: Input<'_>) {
            self.work += 1;
        }
        fn reserve(&mut self, _: Ticket) {
            self.work += 1;
        }
        fn wants_more(&self) -> bool {
            self.work < self.budget
        }
    }

    /// The input budget counts decoded inputs, whatever the wire: JSON objects carry no
    /// newline, so a budget that counted `\n` in the bytes let a whole read of objects through.
    #[test]
    fn every_protocol_stops_at_the_input_budget_and_says_what_it_consumed() {
        let cases: [(ProtocolKind, &[u8]); 3] = [
            (ProtocolKind::Line, b"whoelse\n"),
            (ProtocolKind::Irc, b"PING x\r\n"),
            (
                ProtocolKind::Json,
                br#"{"msgType": "<list>", "content": ""}"#,
            ),
        ];
        for (kind, one) in cases {
            let data = one.repeat(10);
            let mut p = Protocol::new(kind, &ProtocolOptions::default());
            let mut sink = Budget { work: 0, budget: 3 };
            let used = p.decode(&data, 4096, &mut sink);
            assert_eq!((sink.work, used), (3, 3 * one.len()), "{kind:?}");
            sink.budget = 10;
            let rest = p.decode(&data[used..], 4096, &mut sink);
            assert_eq!((sink.work, used + rest), (10, data.len()), "{kind:?}");
        }
    }

    #[test]
    fn every_render_key_has_its_place_and_a_protocol_that_renders_with_it() {
        let options = ProtocolOptions::default();
        for (i, key) in RenderKey::ALL.into_iter().enumerate() {
            assert_eq!(key.index(), i);
            assert_eq!(key.protocol(&options).render_key(), key);
        }
    }

    #[test]
    fn the_render_cache_renders_once_per_protocol_kind() {
        let event = Event::Notice(Notice::SomeNotDelivered);
        let options = ProtocolOptions::default();
        let mut cache = RenderCache::default();
        let mut a = Protocol::new(ProtocolKind::Line, &options);
        let first = cache.chunk(&mut a, &event, 0).as_ptr();
        let mut b = Protocol::new(ProtocolKind::Line, &options);
        assert_eq!(
            cache.chunk(&mut b, &event, 0).as_ptr(),
            first,
            "shared, not rendered"
        );
        let mut j = Protocol::new(ProtocolKind::Json, &options);
        assert_ne!(cache.chunk(&mut j, &event, 0).as_ptr(), first);
    }
}
