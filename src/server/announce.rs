//! Announcements (issue 20): fan-out events for every connection subscribed to them (the
//! `<user> logged in/out` lines), rendered once per render key (protocol kind) into one text that each
//! connection reads from its own cursor. A login seen by 19,000 users is one rendering, and each
//! connection later queues, as one range of a shared chunk, everything announced since it last
//! caught up: the work is per announcement plus per connection, never per announcement and
//! connection, and the text is in memory once however many are behind. It is sealed into
//! chunks as readers need it and kept until every subscriber has read past it.

use super::{push_dirty, Server};
use crate::connection::{Closing, Connection, Overflow};
use crate::event::{Event, Shared};
use crate::protocol::{Boundary, Protocol, ProtocolOptions, RenderKey};
use crate::queue::Chunk;
use crate::session::ConnId;
use crate::time::Now;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Render keys there are (announcements render once per key).
const KINDS: usize = RenderKey::ALL.len();

/// A piece of what a connection has not read: text shared by every connection of its kind, or
/// an announcement to render with its own protocol.
#[derive(Debug)]
pub enum Piece<'a> {
    Text(Run<'a>),
    Own(&'a Event),
}

/// A run of shared text, from position `from` to `to`, in one or more sealed chunks.
#[derive(Debug)]
pub struct Run<'a> {
    chunks: &'a VecDeque<(u64, Chunk)>,
    from: u64,
    to: u64,
}

impl Run<'_> {
    pub fn len(&self) -> usize {
        (self.to - self.from) as usize
    }

    /// Each chunk the run covers, with the range of it that belongs to the run.
    pub fn parts(&self, mut each: impl FnMut(&Chunk, std::ops::Range<usize>)) {
        let first = self
            .chunks
            .partition_point(|(at, c)| at + c.len() as u64 <= self.from);
        for (at, chunk) in self.chunks.range(first..) {
            if *at >= self.to {
                break;
            }
            let start = self.from.saturating_sub(*at) as usize;
            let end = ((self.to - at) as usize).min(chunk.len());
            each(chunk, start..end);
        }
    }
}

/// One announcement not yet read by every subscriber.
#[derive(Debug)]
struct Entry {
    event: Arc<Shared>,
    /// Where its text starts in each kind's text (positions count every byte ever appended).
    at: [u64; KINDS],
}

/// The announcements as one render key renders them. Positions count every byte ever
/// rendered.
#[derive(Debug)]
struct Rendered {
    /// A protocol of this kind, to render with.
    protocol: Protocol,
    /// The text of the announcements not yet read by everyone, sealed: each chunk with the
    /// position of its first byte, one after the other.
    chunks: VecDeque<(u64, Chunk)>,
    /// Text rendered since the last seal, from position `open_at`.
    open: Vec<u8>,
    open_at: u64,
    /// Announcements this kind renders per connection (not the same for all, or written
    /// alone), oldest first.
    unshared: Vec<u64>,
}

impl Rendered {
    /// The position after the last byte rendered.
    fn end(&self) -> u64 {
        self.open_at + self.open.len() as u64
    }

    /// Make what is rendered so far a chunk readers can share.
    fn seal(&mut self) {
        if !self.open.is_empty() {
            let text = std::mem::take(&mut self.open);
            let at = self.open_at;
            self.open_at += text.len() as u64;
            self.chunks.push_back((at, Chunk::from(text)));
        }
    }
}

/// See the module doc.
#[derive(Debug)]
pub struct Announcements {
    /// Sequence number of `entries[0]`; the next announcement's is `first + entries.len()`.
    first: u64,
    entries: VecDeque<Entry>,
    kinds: [Rendered; KINDS],
    /// Announcements a connection must not get (it is the user announced, or was blocked by
    /// them), oldest first.
    skips: HashMap<ConnId, Vec<u64>>,
}

impl Announcements {
    pub fn new(options: &ProtocolOptions) -> Announcements {
        let kinds = RenderKey::ALL.map(|key| Rendered {
            protocol: key.protocol(options),
            chunks: VecDeque::new(),
            open: Vec::new(),
            open_at: 0,
            unshared: Vec::new(),
        });
        Announcements {
            first: 0,
            entries: VecDeque::new(),
            kinds,
            skips: HashMap::new(),
        }
    }

    /// The sequence number the next announcement will have: a new subscriber reads from here.
    pub fn end(&self) -> u64 {
        self.first + self.entries.len() as u64
    }

    /// Something is announced that not every subscriber may have read.
    pub fn unread(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Append `event` for every subscriber but `except`.
    pub fn announce(&mut self, event: Arc<Shared>, except: &[ConnId]) {
        let seq = self.end();
        let mut at = [0; KINDS];
        for (r, at) in self.kinds.iter_mut().zip(&mut at) {
            *at = r.end();
            let start = r.open.len();
            if !r.protocol.shareable(&event.event)
                || r.protocol.encode(&event.event, NO_TIME, &mut r.open) != Boundary::None
            {
                r.open.truncate(start);
                r.unshared.push(seq);
            }
        }
        for c in except {
            self.skips.entry(*c).or_default().push(seq);
        }
        self.entries.push_back(Entry { event, at });
    }

    /// Where announcement `seq` starts in kind `k`'s text (or where the next would).
    fn position(&self, seq: u64, k: usize) -> u64 {
        match self.entries.get((seq - self.first) as usize) {
            Some(e) => e.at[k],
            None => self.kinds[k].end(),
        }
    }

    /// What `conn` (rendering as `key`) has not read from `from` on, in order, while `each`
    /// takes it: runs of shared text, and the announcements its protocol must render itself.
    /// Returns the cursor after the last piece taken (the end if all were).
    pub fn read(
        &mut self,
        conn: ConnId,
        key: RenderKey,
        from: u64,
        mut each: impl FnMut(Piece<'_>) -> bool,
    ) -> u64 {
        let (k, end) = (key.index(), self.end());
        if from < end {
            self.kinds[k].seal();
        }
        let mut next = from.max(self.first);
        let skips = self.skips.get(&conn).map_or(&[][..], Vec::as_slice);
        let unshared = self.kinds[k].unshared.as_slice();
        let (mut s, mut u) = (first_at(skips, next), first_at(unshared, next));
        while next < end {
            // The next announcement that is not part of a run of shared text.
            let stop = match (skips.get(s), unshared.get(u)) {
                (Some(&a), Some(&b)) => a.min(b),
                (Some(&a), None) | (None, Some(&a)) => a,
                (None, None) => end,
            };
            if stop > next {
                let run = Run {
                    chunks: &self.kinds[k].chunks,
                    from: self.position(next, k),
                    to: self.position(stop, k),
                };
                if run.len() > 0 && !each(Piece::Text(run)) {
                    return next;
                }
            }
            if stop >= end {
                break;
            }
            let skipped = skips.get(s) == Some(&stop);
            if skipped {
                s += 1;
            }
            if unshared.get(u) == Some(&stop) {
                u += 1;
                let entry = self.entries.get((stop - self.first) as usize);
                if let Some(e) = entry.filter(|_| !skipped) {
                    if !each(Piece::Own(&e.event.event)) {
                        return stop;
                    }
                }
            }
            next = stop + 1;
        }
        end.max(from)
    }

    /// Every subscriber has read up to `seq`: forget what comes before it.
    pub fn trim(&mut self, seq: u64) {
        let seq = seq.min(self.end());
        if seq <= self.first {
            return;
        }
        for k in 0..KINDS {
            let keep_from = self.position(seq, k);
            let r = &mut self.kinds[k];
            while r
                .chunks
                .front()
                .is_some_and(|(at, c)| at + c.len() as u64 <= keep_from)
            {
                r.chunks.pop_front();
            }
            r.unshared.retain(|&n| n >= seq);
        }
        self.entries.drain(..(seq - self.first) as usize);
        self.first = seq;
        self.skips.retain(|_, list| {
            list.retain(|&n| n >= seq);
            !list.is_empty()
        });
        if self.entries.is_empty() {
            // After a storm: keep no capacity.
            for r in &mut self.kinds {
                r.seal();
                r.chunks = VecDeque::new();
                r.open = Vec::new();
                r.unshared = Vec::new();
            }
            self.skips = HashMap::new();
        }
    }
}

/// The time announcements are rendered at (issue 22's `server-time` is IRC's, and IRC sessions
/// never subscribe to presence lines, `Input::NoPresence`): no rendering of them shows a time.
const NO_TIME: u64 = 0;

/// Queue on `c` what it has not read of `a`, in order (nothing for a connection that is not
/// subscribed): runs of text as ranges of shared chunks. Over `cap` it stops, its cursor at
/// what did not fit.
pub(super) fn catch_up(
    a: &mut Announcements,
    c: &mut Connection,
    cap: usize,
    spare: &mut dyn FnMut() -> Vec<u8>,
) -> Result<(), Overflow> {
    if c.announced >= a.end() {
        return Ok(());
    }
    let (id, key, from) = (c.id, c.protocol.render_key(), c.announced);
    let mut fits = true;
    c.announced = a.read(id, key, from, |piece| {
        fits = match piece {
            Piece::Text(run) if c.pending() + run.len() <= cap => {
                run.parts(|chunk, range| {
                    let _ = c.queue_chunk(chunk, range, usize::MAX, spare);
                });
                true
            }
            Piece::Text(_) => false,
            Piece::Own(event) => c.queue_event(event, NO_TIME, cap, spare).is_ok(),
        };
        fits
    });
    if fits {
        Ok(())
    } else {
        Err(Overflow)
    }
}

impl Server {
    /// Bring subscribers up to date a few at a time, round the connection table, for the
    /// announcing phase's time; each completed round forgets what every subscriber has read.
    pub(super) fn catch_up_subscribers(&mut self, now: Now) {
        if !self.announcements.unread() {
            return;
        }
        self.announcing.enter();
        let cap = self.limits.max_output;
        while !self.announcing.over() {
            if self.next_subscriber >= self.conns.capacity() {
                // A whole round: everyone subscribed then has read what was announced then.
                self.announcements.trim(self.round_start);
                self.round_start = self.announcements.end();
                self.next_subscriber = 0;
                break;
            }
            let slot = self.next_subscriber;
            self.next_subscriber += 1;
            let Some(c) = self.conns.get_mut(slot) else {
                continue;
            };
            if c.closing == Closing::Reaping || c.announced >= self.announcements.end() {
                continue;
            }
            let before = c.pending();
            let spare = &mut self.spare;
            let mut queued = catch_up(&mut self.announcements, c, cap, &mut || {
                spare.pop().unwrap_or_default()
            });
            if queued.is_err() {
                super::output::flush_some(c, now.mono, spare, &mut self.pack);
                queued = catch_up(&mut self.announcements, c, cap, &mut Vec::new);
            }
            self.output_total = (self.output_total + c.pending()).saturating_sub(before);
            let id = c.id;
            if queued.is_ok() {
                push_dirty(c, &mut self.dirty);
            } else {
                self.dead.push(id);
                let name = self.chat.log_name(id);
                self.slow_warning.warn(now.mono, || {
                    format!("{name} output buffer over {cap} bytes: disconnecting slow reader")
                });
            }
        }
        self.announcing.leave();
    }
}

/// Index of the first of `sorted` at or after `seq`.
fn first_at(sorted: &[u64], seq: u64) -> usize {
    sorted.partition_point(|&n| n < seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn presence(user: &str) -> Arc<Shared> {
        Shared::new(Event::Presence {
            user: Arc::from(user),
            online: true,
        })
    }

    fn read_all(a: &mut Announcements, conn: ConnId, from: u64) -> (String, u64) {
        let mut out = Vec::new();
        let cursor = a.read(conn, RenderKey::Line, from, |piece| {
            if let Piece::Text(run) = piece {
                run.parts(|chunk, range| out.extend_from_slice(&chunk[range]));
            }
            true
        });
        (String::from_utf8_lossy(&out).into_owned(), cursor)
    }

    #[test]
    fn each_reader_gets_every_line_since_its_cursor_but_its_own_skips() {
        let mut a = Announcements::new(&ProtocolOptions::default());
        let (ann, bob) = (ConnId::new(1, 1), ConnId::new(2, 1));
        a.announce(presence("ann"), &[ann]);
        a.announce(presence("bob"), &[bob]);
        a.announce(presence("cid"), &[]);
        assert_eq!(
            read_all(&mut a, ann, 0),
            ("bob logged in\ncid logged in\n".to_string(), 3)
        );
        assert_eq!(
            read_all(&mut a, bob, 0),
            ("ann logged in\ncid logged in\n".to_string(), 3)
        );
        assert_eq!(read_all(&mut a, bob, 2), ("cid logged in\n".to_string(), 3));
        assert_eq!(read_all(&mut a, bob, 3), (String::new(), 3));
    }

    #[test]
    fn a_reader_skipping_the_last_line_still_reaches_the_end() {
        let mut a = Announcements::new(&ProtocolOptions::default());
        let ann = ConnId::new(1, 1);
        a.announce(presence("u1"), &[]);
        a.announce(presence("ann"), &[ann]);
        assert_eq!(read_all(&mut a, ann, 0), ("u1 logged in\n".to_string(), 2));
        let mut taken = 0;
        let stopped = a.read(ann, RenderKey::Line, 0, |_| {
            taken += 1;
            false
        });
        assert_eq!(
            (taken, stopped),
            (1, 0),
            "a refused piece is read again next time"
        );
    }

    #[test]
    fn trimming_keeps_what_a_late_reader_still_needs() {
        let mut a = Announcements::new(&ProtocolOptions::default());
        let ann = ConnId::new(1, 1);
        for user in ["u1", "u2", "u3", "u4"] {
            a.announce(presence(user), &[]);
        }
        a.announce(presence("ann"), &[ann]);
        a.trim(2);
        assert_eq!(
            read_all(&mut a, ann, 2),
            ("u3 logged in\nu4 logged in\n".to_string(), 5)
        );
        assert_eq!(read_all(&mut a, ConnId::new(9, 1), 4).0, "ann logged in\n");
        a.trim(5);
        assert!(a.entries.is_empty() && a.kinds[0].chunks.capacity() == 0 && a.skips.is_empty());
        a.announce(presence("u6"), &[]);
        assert_eq!(read_all(&mut a, ann, 5), ("u6 logged in\n".to_string(), 6));
    }
}
