//! Fan-out rendered into one buffer per render key for a whole pass over the core's actions,
//! so a member's share of the pass is one contiguous range: queued at the end of the pass as
//! one shared segment (one slice of one `writev`), not a copy per line (issue 22's tags-on
//! row, BENCHMARKS.md "Fan-out from one buffer").
//!
//! Why: with every line copied into each member's own tail, a pass of 25,000 deliveries wrote
//! 1.5 MB of tails (2.9 MB with `server-time` and `msgid`), more than a core's L2 cache, and
//! the kernel then read each tail back cold: `perf` put 20% of the server's time in the
//! kernel's copy from those tails without tags and 35% with. Here the pass's lines are written
//! once (a few KiB per key) and every member's `writev` reads the same warm bytes.
//!
//! Deliveries are *deferred*: recorded as (connection, range) and queued by [`Arena::settle`].
//! Order only matters within one connection's output, so it is kept by settling before
//! anything else is queued for, or marks a position in the output of, a connection with
//! deferred lines (the caller's rule: `Queues` settles before such a connection's `Send`,
//! close after flush, flush notes and unsubscribe, before a delivery that cannot wait (a
//! member still catching up on announcements, or near its cap), when a buffer passes
//! [`BUFFER_MAX`], and at the end of the pass).

use crate::connection::Connection;
use crate::event::Event;
use crate::protocol::RenderKey;
use crate::queue::Chunk;
use crate::session::ConnId;
use std::ops::Range;

/// A buffer past this settles the pass early (its lines are queued and it starts again), so a
/// pass of long replays never builds a big one.
const BUFFER_MAX: usize = 256 * 1024;
/// Capacity a buffer keeps between passes; a bigger one is freed.
const BUFFER_KEEP: usize = 64 * 1024;
/// No entry for a slot in [`Arena::last`].
const NONE: u32 = u32::MAX;

/// One member's deferred lines: a range of one buffer.
#[derive(Clone, Debug)]
struct Deferred {
    id: ConnId,
    buffer: usize,
    range: Range<usize>,
    /// The member's deferred bytes up to and including this entry.
    total: usize,
}

/// See the module doc.
#[derive(Debug, Default)]
pub(super) struct Arena {
    /// One buffer per render key met since the last settle.
    buffers: Vec<(RenderKey, Vec<u8>)>,
    /// The current event's rendering in each buffer, once rendered.
    rendered: Vec<Option<Range<usize>>>,
    /// Deliveries not yet queued, in the order they were made.
    deferred: Vec<Deferred>,
    /// Per connection slot, its last entry in `deferred` ([`NONE`], or stale when that entry
    /// is another connection's or past the end).
    last: Vec<u32>,
}

impl Arena {
    /// A new fan-out event: nothing of it is rendered yet.
    pub fn begin_event(&mut self) {
        self.rendered.iter_mut().for_each(|r| *r = None);
    }

    /// Whether deliveries wait to be queued.
    pub fn is_settled(&self) -> bool {
        self.deferred.is_empty()
    }

    fn last_of(&self, id: ConnId) -> Option<&Deferred> {
        let at = *self.last.get(id.slot())?;
        self.deferred.get(at as usize).filter(|d| d.id == id)
    }

    /// Bytes deferred for `id`.
    pub fn deferred_len(&self, id: ConnId) -> usize {
        self.last_of(id).map_or(0, |d| d.total)
    }

    /// Defer `event` for `c`, rendered with its protocol the first time its key meets this
    /// event, when `room` bytes are enough; false (nothing deferred) otherwise. The caller
    /// checked that the event is shareable for `c`.
    pub fn defer(&mut self, c: &mut Connection, event: &Event, now_ms: u64, room: usize) -> bool {
        let key = c.protocol.render_key();
        let buffer = match self.buffers.iter().position(|(k, _)| *k == key) {
            Some(b) => b,
            None => {
                self.buffers.push((key, Vec::new()));
                self.rendered.push(None);
                self.buffers.len() - 1
            }
        };
        let range = match self.rendered.get(buffer).cloned().flatten() {
            Some(range) => range,
            None => {
                let Some((_, bytes)) = self.buffers.get_mut(buffer) else {
                    return false;
                };
                let start = bytes.len();
                c.protocol.encode(event, now_ms, bytes);
                let range = start..bytes.len();
                if let Some(r) = self.rendered.get_mut(buffer) {
                    *r = Some(range.clone());
                }
                range
            }
        };
        if range.len() > room {
            return false;
        }
        let id = c.id;
        let at = self.last.get(id.slot()).copied().unwrap_or(NONE) as usize;
        let total = match self.deferred.get_mut(at).filter(|d| d.id == id) {
            Some(d) if d.buffer == buffer && d.range.end == range.start => {
                // The common case: the member took the previous line of this buffer too.
                d.range.end = range.end;
                d.total += range.len();
                return true;
            }
            Some(d) => d.total + range.len(),
            None => range.len(),
        };
        if self.last.len() <= id.slot() {
            self.last.resize(id.slot() + 1, NONE);
        }
        self.last[id.slot()] = u32::try_from(self.deferred.len()).unwrap_or(NONE);
        self.deferred.push(Deferred {
            id,
            buffer,
            range,
            total,
        });
        true
    }

    /// Whether a buffer has grown past [`BUFFER_MAX`] (the caller settles).
    pub fn is_full(&self) -> bool {
        self.buffers.iter().any(|(_, b)| b.len() > BUFFER_MAX)
    }

    /// Queue every deferred delivery, in order: `queue` gets each member's range of the
    /// buffer its key rendered into, shared by every member of the key.
    pub fn settle(&mut self, mut queue: impl FnMut(ConnId, &Chunk, Range<usize>)) {
        if self.deferred.is_empty() {
            return;
        }
        let chunks: Vec<Chunk> = self
            .buffers
            .iter()
            .map(|(_, bytes)| Chunk::from(bytes.as_slice()))
            .collect();
        for d in self.deferred.drain(..) {
            if let Some(chunk) = chunks.get(d.buffer) {
                queue(d.id, chunk, d.range);
            }
        }
        for (_, bytes) in &mut self.buffers {
            bytes.clear();
            if bytes.capacity() > BUFFER_KEEP {
                *bytes = Vec::new();
            }
        }
        self.rendered.iter_mut().for_each(|r| *r = None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Audience;
    use crate::protocol::{Protocol, ProtocolKind, ProtocolOptions};
    use crate::transport::{Transport, TransportKind};
    use std::sync::Arc;

    /// A line-protocol connection on a real loopback socket (`slot`, generation 1); the peer
    /// end is returned to keep the socket open.
    fn line_conn(slot: u32) -> (Connection, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, addr) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        let stream = mio::net::TcpStream::from_std(ours);
        let transport = Transport::new(TransportKind::Plain, stream, None, addr).unwrap();
        let protocol = Protocol::new(ProtocolKind::Line, &ProtocolOptions::default());
        (
            Connection::new(ConnId::new(slot, 1), transport, protocol),
            peer,
        )
    }

    fn event(text: &str) -> Event {
        Event::Chat {
            from: Arc::from("hans"),
            to: Audience::Everyone,
            text: Arc::from(text),
            meta: crate::event::test_meta(false),
        }
    }

    /// Settled deliveries, as (slot, bytes) in the order queued.
    fn settled(arena: &mut Arena) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        arena.settle(|id, chunk, range| {
            let text = String::from_utf8_lossy(&chunk[range]).into_owned();
            out.push((id.slot(), text));
        });
        out
    }

    #[test]
    fn a_members_lines_of_a_pass_are_one_range_rendered_once_for_all() {
        let mut arena = Arena::default();
        let ((mut a, _pa), (mut b, _pb)) = (line_conn(0), line_conn(1));
        for text in ["one", "two", "three"] {
            arena.begin_event();
            assert!(arena.defer(&mut a, &event(text), 0, usize::MAX));
            assert!(arena.defer(&mut b, &event(text), 0, usize::MAX));
        }
        assert_eq!(arena.deferred.len(), 2, "one entry per member");
        assert_eq!(arena.deferred_len(a.id), arena.deferred_len(b.id));
        let lines = settled(&mut arena);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].1, lines[1].1, "the same bytes for both");
        let text = &lines[0].1;
        let at = |s: &str| text.find(s).unwrap_or(usize::MAX);
        assert!(at("one") < at("two") && at("two") < at("three"), "{text}");
        assert_eq!(text.matches("one").count(), 1, "rendered once: {text}");
        assert!(arena.is_settled() && arena.deferred_len(a.id) == 0);
    }

    #[test]
    fn a_member_that_misses_an_event_gets_its_lines_in_order_as_separate_ranges() {
        let mut arena = Arena::default();
        let ((mut a, _pa), (mut b, _pb)) = (line_conn(0), line_conn(1));
        arena.begin_event();
        assert!(arena.defer(&mut a, &event("first"), 0, usize::MAX));
        arena.begin_event();
        assert!(arena.defer(&mut b, &event("only b"), 0, usize::MAX));
        arena.begin_event();
        assert!(arena.defer(&mut a, &event("second"), 0, usize::MAX));
        let lines = settled(&mut arena);
        let of_a: Vec<&str> = lines
            .iter()
            .filter(|(s, _)| *s == 0)
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(of_a.len(), 2);
        assert!(of_a[0].contains("first") && of_a[1].contains("second"));
        assert!(!of_a.concat().contains("only b"));
    }

    #[test]
    fn a_line_over_the_room_left_is_not_deferred() {
        let mut arena = Arena::default();
        let (mut a, _pa) = line_conn(0);
        arena.begin_event();
        assert!(!arena.defer(&mut a, &event("too long for the room"), 0, 5));
        assert_eq!(arena.deferred_len(a.id), 0);
        assert!(arena.is_settled());
    }

    #[test]
    fn a_stale_slot_entry_is_not_another_generations() {
        let mut arena = Arena::default();
        let (mut old, _po) = line_conn(3);
        arena.begin_event();
        assert!(arena.defer(&mut old, &event("for the old one"), 0, usize::MAX));
        let reused = ConnId::new(3, 2);
        assert_eq!(arena.deferred_len(reused), 0);
    }
}
