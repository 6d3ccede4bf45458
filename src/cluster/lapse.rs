//! A node cut off from Redis for longer than its TTL (issue 23): its liveness key expired, so
//! a snapshot's trim (`XTRIM MINID` up to the slowest *live* node) may have cut entries it
//! had not read yet. Reading on from its position would skip them silently: `XREAD` returns
//! what is after a position, not whether anything before the first entry it returns is gone.
//!
//! So the tail reads only while the key is surely alive (a `SET` of it acknowledged less
//! than two thirds of a TTL after it was sent); once the key may have lapsed, the next
//! acknowledged `SET` protects the position again and `XINFO STREAM` then tells whether the
//! stream's first entry is past the position. A live node's trim keeps the entry at each live
//! node's position (`MINID` removes only what is older), so a first entry past it means the
//! trim did not count this node and whatever came after its position may be gone: its state
//! may miss entries and it must reload from the snapshot. (This may reload a node that lost
//! nothing, when the trim stopped exactly at the next entry: a reload costs time, never state.
//! `max-deleted-entry-id` would be exact, but Redis 7.0 does not update it on `XTRIM`.)

use super::journal::StreamId;
use super::resp::{text, Frame};
use std::time::{Duration, Instant};

/// What the tail may do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// `XREAD` on from the position.
    Read,
    /// Send `XINFO STREAM` first, then wait for its answer.
    Ask,
    /// Nothing until the key is set again or the answer comes.
    Wait,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// The key may have lapsed since the last check.
    Needed,
    /// `XINFO STREAM` sent while the position was `from`.
    Asked {
        from: StreamId,
    },
    Clear,
    /// The stream now begins at `first`, past `from`: what was between is gone.
    Trimmed {
        from: StreamId,
        first: StreamId,
    },
}

/// See the module doc.
#[derive(Debug)]
pub struct Lapse {
    /// Reads are safe until then (the last acknowledged `SET`'s send time plus 2/3 TTL).
    fresh_until: Option<Instant>,
    check: Check,
}

impl Default for Lapse {
    fn default() -> Lapse {
        Lapse {
            fresh_until: None,
            check: Check::Needed,
        }
    }
}

impl Lapse {
    /// Redis acknowledged, at `now`, a `SET … PX ttl` of the key sent at `sent`.
    pub fn key_set(&mut self, sent: Instant, ttl: Duration, now: Instant) {
        let lapsed = self.fresh_until.is_none_or(|t| now >= t);
        if lapsed && self.check == Check::Clear {
            self.check = Check::Needed;
        }
        let until = sent + (ttl - ttl / 3);
        self.fresh_until = Some(self.fresh_until.map_or(until, |t| t.max(until)));
    }

    /// Whether the tail may read from `applied` at `now`.
    pub fn step(&mut self, applied: StreamId, now: Instant) -> Step {
        if self.fresh_until.is_none_or(|t| now >= t) {
            return Step::Wait;
        }
        match self.check {
            Check::Clear => Step::Read,
            Check::Needed => {
                self.check = Check::Asked { from: applied };
                Step::Ask
            }
            Check::Asked { .. } | Check::Trimmed { .. } => Step::Wait,
        }
    }

    /// The answer to `XINFO STREAM`: its first entry (or, for an emptied stream, the last id
    /// it gave) past the position asked from is a gap. An error (no stream yet) is none.
    pub fn answer(&mut self, reply: &Frame) {
        let Check::Asked { from } = self.check else {
            return;
        };
        let field = |name: &str| match reply {
            Frame::Array(kv) => kv
                .chunks(2)
                .find(|p| p.first().and_then(text) == Some(name))
                .and_then(|p| p.get(1)),
            _ => None,
        };
        let id = |f: &Frame| text(f).and_then(StreamId::parse);
        let first = match field("first-entry") {
            Some(Frame::Array(entry)) => entry.first().and_then(id),
            _ => field("last-generated-id").and_then(id),
        };
        // A node that has applied nothing (no snapshot yet) misses entries only if the stream
        // ever lost any (Redis 7 counts what was added).
        let count = |name: &str| match field(name) {
            Some(Frame::Integer(n)) => *n,
            _ => 0,
        };
        let lost_any = count("entries-added") > count("length");
        self.check = match first {
            Some(first) if first > from && (from != StreamId::default() || lost_any) => {
                Check::Trimmed { from, first }
            }
            _ => Check::Clear,
        };
    }

    /// `(position, the stream's first entry now)` once the stream was found trimmed past the
    /// position.
    pub fn trimmed(&self) -> Option<(StreamId, StreamId)> {
        match self.check {
            Check::Trimmed { from, first } => Some((from, first)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> StreamId {
        StreamId { ms, seq: 0 }
    }

    fn bulk(s: &str) -> Frame {
        Frame::BulkString(s.as_bytes().to_vec())
    }

    /// `XINFO STREAM`'s reply (its fields as Redis 7.0 gives them, some left out), of a
    /// stream that lost entries.
    fn info(first: Option<&str>, last: &str) -> Frame {
        let first = match first {
            Some(id) => Frame::Array(vec![bulk(id), Frame::Array(vec![bulk("n"), bulk("x")])]),
            None => Frame::Null,
        };
        Frame::Array(vec![
            bulk("length"),
            Frame::Integer(3),
            bulk("entries-added"),
            Frame::Integer(7),
            bulk("last-generated-id"),
            bulk(last),
            bulk("max-deleted-entry-id"),
            bulk("0-0"),
            bulk("first-entry"),
            first,
        ])
    }

    #[test]
    fn reads_wait_for_the_key_and_one_check_after_it_may_have_lapsed() {
        let t0 = Instant::now();
        let ttl = Duration::from_secs(3);
        let mut l = Lapse::default();
        assert_eq!(l.step(id(5), t0), Step::Wait, "no key set yet");
        l.key_set(t0, ttl, t0);
        assert_eq!(l.step(id(5), t0), Step::Ask, "checked once at start");
        assert_eq!(l.step(id(5), t0), Step::Wait);
        l.answer(&info(Some("5-0"), "9-0"));
        assert_eq!(l.step(id(5), t0), Step::Read);
        // Refreshed in time: no check.
        let t1 = t0 + Duration::from_secs(1);
        l.key_set(t1, ttl, t1);
        assert_eq!(l.step(id(6), t1), Step::Read);
        // Nothing acknowledged for longer than 2/3 TTL (a pause, an outage): reads stop.
        let t2 = t1 + Duration::from_secs(3);
        assert_eq!(l.step(id(6), t2), Step::Wait);
        l.key_set(t2, ttl, t2);
        assert_eq!(l.step(id(6), t2), Step::Ask);
        l.answer(&info(Some("6-0"), "9-0"));
        assert_eq!(l.trimmed(), None, "trimmed up to the position, not past it");
        assert_eq!(l.step(id(6), t2), Step::Read);
    }

    #[test]
    fn entries_trimmed_past_the_position_are_found() {
        let t0 = Instant::now();
        let mut l = Lapse::default();
        l.key_set(t0, Duration::from_secs(3), t0);
        assert_eq!(l.step(id(6), t0), Step::Ask);
        l.answer(&info(Some("9-1"), "12-0"));
        assert_eq!(l.trimmed(), Some((id(6), StreamId { ms: 9, seq: 1 })));
        assert_eq!(l.step(id(6), t0), Step::Wait, "never reads on");
        // A stream trimmed empty: the last id it gave tells.
        let mut l = Lapse::default();
        l.key_set(t0, Duration::from_secs(3), t0);
        assert_eq!(l.step(id(6), t0), Step::Ask);
        l.answer(&info(None, "7-0"));
        assert_eq!(l.trimmed(), Some((id(6), id(7))));
    }

    #[test]
    fn no_stream_one_read_to_its_end_or_one_never_trimmed_is_no_gap() {
        let t0 = Instant::now();
        let Frame::Array(mut never_trimmed) = info(Some("1-0"), "9-0") else {
            unreachable!()
        };
        never_trimmed[3] = Frame::Integer(3); // entries-added: as many as it holds
        let replies = [
            (id(6), Frame::Error("ERR no such key".into())),
            (id(6), info(None, "6-0")),
            (StreamId::default(), Frame::Array(never_trimmed)),
        ];
        for (at, reply) in replies {
            let mut l = Lapse::default();
            l.key_set(t0, Duration::from_secs(3), t0);
            assert_eq!(l.step(at, t0), Step::Ask);
            l.answer(&reply);
            assert_eq!(l.step(at, t0), Step::Read, "{reply:?}");
        }
        // Nothing applied yet, and the stream lost entries: a gap.
        let mut l = Lapse::default();
        l.key_set(t0, Duration::from_secs(3), t0);
        assert_eq!(l.step(StreamId::default(), t0), Step::Ask);
        l.answer(&info(Some("4-0"), "9-0"));
        assert!(l.trimmed().is_some());
    }
}
