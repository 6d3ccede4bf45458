//! One client connection: its transport (which owns the socket), its protocol, and its bounded
//! plaintext output queue ([`OutQueue`]: shared chunks and owned tails, written with `writev`,
//! issue 20). Tails are taken on first use and released when written, and what only some
//! connections need some of the time lives out of line ([`Rare`]), so an idle connection costs
//! a few dozen bytes beyond its transport's own state.

use crate::event::{Event, Shared};
use crate::protocol::{Boundary, Protocol, RenderCache, Sink};
use crate::queue::{Chunk, OutQueue, MAX_SLICES};
use crate::session::ConnId;
use crate::transport::{Received, Transport};
use std::io::{self, IoSlice};
use std::ops::Range;

/// What a read pass found.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadStatus {
    /// Drained until the transport had nothing more.
    Drained,
    /// Stopped at the per-pass budget; more may be waiting (edge-triggered: revisit it).
    Budget,
    /// The peer closed its sending side. `clean` is false when the transport says the end may
    /// have cut the peer's last input short (it is then not decoded).
    Eof { clean: bool },
}

/// How a connection is to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    Open,
    /// Flush what is queued, then close (redis CLIENT_CLOSE_AFTER_REPLY); the server drops it
    /// anyway at its closing deadline if the peer never reads.
    AfterFlush,
    /// To be removed, by a later iteration (its reaping phase ran out of time): neither read
    /// nor written meanwhile.
    Reaping,
}

/// How long a [`Boundary::Tail`] waits after the bytes before it (issue 21). Seed 002's
/// client takes 5-10 ms per message here (it clears the screen and reprints its history), and
/// sees `<quit>` only as a `recv` of its own: measured with it, no pause made it miss `<quit>`
/// every time a message had just arrived, 5 ms half the time, 10 ms never. 250 ms leaves room
/// for a slow terminal and a long history, and delays only a closing session.
pub const TAIL_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// A client's transport, protocol and output buffer.
#[derive(Debug)]
pub struct Connection {
    pub id: ConnId,
    pub transport: Transport,
    pub protocol: Protocol,
    /// Plaintext queued for the transport.
    out: OutQueue,
    /// Write cuts, delivery markers and held input, when there are any.
    rare: Option<Box<Rare>>,
    pub closing: Closing,
    /// On the loop's dirty list already.
    pub dirty: bool,
    /// The core asked to hear when the output is all written.
    pub notify_flushed: bool,
    /// An event said the peer shut down its side: read until EOF.
    pub peer_closed: bool,
    // Reliability (issue 8): delivery recorded only for bytes the kernel accepted.
    /// Plaintext bytes the kernel has accepted over the connection's life.
    written_total: u64,
    /// Plaintext the transport has taken but still holds as its own records (at most one of
    /// its writes): counted as written once the transport has nothing left.
    in_transport: u32,
    /// Not read while its output is above the soft limit (backpressure); the loop re-drives
    /// the read once the output drains.
    pub read_paused: bool,
    /// Where the connection came from (for the per-address count; none for a refusal, which
    /// was never counted).
    pub peer_ip: Option<std::net::IpAddr>,
    /// Command penalty: the time its inputs have used up (issue 8).
    pub penalty: std::time::Instant,
    /// The core knows this connection (false for a refusal on its way out, which never
    /// became a session, and for an HTTP request not upgraded to a WebSocket).
    pub admitted: bool,
    /// The next announcement it has to read (issue 20, `server/announce.rs`);
    /// [`NOT_SUBSCRIBED`] while it gets none.
    pub announced: u64,
    /// A refusal on its way out (counted against the loop's bound on those).
    pub refusal: bool,
}

/// What only some connections need, some of the time: one pointer on every connection instead
/// of five fields (an idle connection pays 8 bytes for it, not 120).
#[derive(Debug, Default)]
struct Rare {
    /// Positions in `out` at which a `write()` must end (events that must leave alone).
    cuts: Vec<u64>,
    /// Positions (also in `cuts`) from which writing waits [`TAIL_PAUSE`] (issue 21).
    pauses: Vec<u64>,
    /// Writing resumes at this time: a pause began.
    resume_at: Option<std::time::Instant>,
    /// Output offsets (in `written_total` terms) with the core's marker to report once the
    /// kernel has accepted everything before them, oldest first.
    marks: std::collections::VecDeque<(u64, u64)>,
    /// Plaintext read but not yet decoded: the input budget ran out inside it.
    held: Vec<u8>,
}

impl Rare {
    fn is_empty(&self) -> bool {
        self.cuts.is_empty()
            && self.pauses.is_empty()
            && self.resume_at.is_none()
            && self.marks.is_empty()
            && self.held.is_empty()
    }
}

/// [`Connection::announced`] of a connection that gets no announcements.
pub const NOT_SUBSCRIBED: u64 = u64::MAX;

/// The output cap was hit: the reader is too slow and must go.
#[derive(Debug)]
pub struct Overflow;

impl Connection {
    pub fn new(id: ConnId, transport: Transport, protocol: Protocol) -> Connection {
        Connection {
            id,
            transport,
            protocol,
            out: OutQueue::default(),
            rare: None,
            closing: Closing::Open,
            dirty: false,
            notify_flushed: false,
            peer_closed: false,
            written_total: 0,
            in_transport: 0,
            read_paused: false,
            peer_ip: None,
            penalty: std::time::Instant::now(),
            admitted: true,
            announced: NOT_SUBSCRIBED,
            refusal: false,
        }
    }

    /// Bytes queued but not yet taken by the transport.
    pub fn pending(&self) -> usize {
        self.out.len()
    }

    /// Render `event` with this connection's protocol onto the output queue's tail (no
    /// syscall; a tail from `spare` if none is open). Over `cap` nothing is queued.
    pub fn queue_event(
        &mut self,
        event: &Event,
        now_ms: u64,
        cap: usize,
        spare: &mut dyn FnMut() -> Vec<u8>,
    ) -> Result<(), Overflow> {
        if matches!(event, Event::KeepAlive) {
            // A transport with a keepalive of its own asks too (a WebSocket ping).
            self.transport.keepalive();
        }
        let start = self.out.queued();
        let protocol = &mut self.protocol;
        let boundary = self
            .out
            .append(spare, |tail| protocol.encode(event, now_ms, tail));
        if self.pending() > cap {
            self.out.truncate(start);
            return Err(Overflow);
        }
        match boundary {
            Boundary::None => {}
            Boundary::Alone => self.cut_around(start),
            Boundary::Tail(n) => {
                let tail = self.out.queued().saturating_sub(n as u64).max(start);
                self.cut_around(tail);
                self.rare().pauses.push(tail);
            }
        }
        Ok(())
    }

    /// Queue `range` of a chunk rendered once for many connections (issue 20: a run of
    /// presence lines); over `cap` nothing is queued.
    pub fn queue_chunk(
        &mut self,
        chunk: &Chunk,
        range: Range<usize>,
        cap: usize,
        spare: &mut dyn FnMut() -> Vec<u8>,
    ) -> Result<(), Overflow> {
        if self.pending() + range.len() > cap {
            return Err(Overflow);
        }
        self.out.push_shared(chunk, range, spare);
        Ok(())
    }

    /// Queue a fan-out event, rendered once per protocol kind (`cache`) when the protocol
    /// allows it; the transport frames this connection's copy when it is written.
    #[inline]
    pub fn queue_shared(
        &mut self,
        shared: &Shared,
        cache: &mut RenderCache,
        now_ms: u64,
        cap: usize,
        spare: &mut dyn FnMut() -> Vec<u8>,
    ) -> Result<(), Overflow> {
        if !self.protocol.shareable(&shared.event) {
            return self.queue_event(&shared.event, now_ms, cap, spare);
        }
        let chunk = cache.chunk(&mut self.protocol, &shared.event, now_ms);
        if self.pending() + chunk.len() > cap {
            return Err(Overflow);
        }
        self.out.push_shared(chunk, 0..chunk.len(), spare);
        Ok(())
    }

    fn rare(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Free the out-of-line state once nothing is in it.
    fn tidy(&mut self) {
        if self.rare.as_ref().is_some_and(|r| r.is_empty()) {
            self.rare = None;
        }
    }

    /// Remember `marker` for the end of what is queued now; see [`Connection::take_written`].
    pub fn mark(&mut self, marker: u64) {
        let end = self.written_total + u64::from(self.in_transport) + self.pending() as u64;
        self.rare().marks.push_back((end, marker));
    }

    /// The markers whose bytes the kernel has now accepted, oldest first.
    pub fn take_written(&mut self, mut each: impl FnMut(u64)) {
        let Some(rare) = self.rare.as_mut() else {
            return;
        };
        while let Some(&(at, marker)) = rare.marks.front() {
            if at > self.written_total {
                break;
            }
            rare.marks.pop_front();
            each(marker);
        }
        self.tidy();
    }

    /// Queue raw bytes (a protocol's greeting, a refusal).
    pub fn queue_bytes(&mut self, bytes: &[u8]) {
        self.out
            .append(&mut Vec::new, |tail| tail.extend_from_slice(bytes));
    }

    /// The bytes from position `start` to the end leave in a write of their own.
    fn cut_around(&mut self, start: u64) {
        let (taken, end) = (self.out.taken(), self.out.queued());
        let cuts = &mut self.rare().cuts;
        if start > taken && cuts.last() != Some(&start) {
            cuts.push(start);
        }
        cuts.push(end);
    }

    /// Read and decode until the transport has nothing more now, its end, `budget` bytes or
    /// the sink's input budget ([`Sink::wants_more`]). Plaintext read past the input budget is
    /// held and decoded first next time, so a pipelining peer costs at most a budget of inputs
    /// of work per pass, however cheap they are. `bytes_in` counts the plaintext read.
    pub fn read(
        &mut self,
        scratch: &mut [u8],
        mut budget: usize,
        max_line: usize,
        sink: &mut impl Sink,
        bytes_in: &mut u64,
    ) -> io::Result<ReadStatus> {
        // The core may not want input now at all (a password hash runs, issue 21).
        if !sink.wants_more() {
            return Ok(ReadStatus::Budget);
        }
        if let Some(rare) = self.rare.as_mut().filter(|r| !r.held.is_empty()) {
            let held = std::mem::take(&mut rare.held);
            let used = self.protocol.decode(&held, max_line, sink);
            if used < held.len() {
                self.rare().held = held[used..].to_vec();
                return Ok(ReadStatus::Budget);
            }
            self.tidy();
            if !sink.wants_more() {
                return Ok(ReadStatus::Budget);
            }
        }
        loop {
            let (len, last) = match self.transport.read(scratch)? {
                Received::Data { len, last } => (len, last),
                Received::Empty => return Ok(ReadStatus::Drained),
                Received::End { clean } => return Ok(ReadStatus::Eof { clean }),
            };
            *bytes_in += len as u64;
            let data = &scratch[..len];
            let used = self.protocol.decode(data, max_line, sink);
            // TLS records of one byte each cost a decryption per byte: count the larger of
            // the plaintext and the records it came in.
            budget = budget.saturating_sub(len.max(self.transport.take_wire()));
            if used < len {
                self.rare().held.extend_from_slice(&data[used..]);
                return Ok(ReadStatus::Budget);
            }
            if budget == 0 || !sink.wants_more() {
                return Ok(ReadStatus::Budget);
            }
            if last && !self.peer_closed {
                // Anything arriving later raises a new edge, so the read that would follow is
                // a wasted syscall (one per message at low load). Not once the peer has shut
                // down: its FIN raised no edge of its own, so read on to the end.
                return Ok(ReadStatus::Drained);
            }
        }
    }

    /// Drive the transport's handshake as far as the peer's bytes allow, without taking
    /// input: for a connection that is closing (its input is ignored) but still has to finish
    /// its handshake for its last words to leave. A peer that ends meanwhile is an error.
    pub fn finish_handshake(&mut self, scratch: &mut [u8]) -> io::Result<()> {
        while self.transport.handshaking() {
            match self.transport.read(scratch)? {
                Received::Data { .. } => {}
                Received::Empty => break,
                Received::End { .. } => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
        }
        Ok(())
    }

    /// A closing connection waits for its transport's closing handshake: read and drop
    /// whatever comes until the transport says the peer's end came (`Err` then too, so the
    /// caller drops it; `Ok` while it waits).
    pub fn drain_until_end(&mut self, scratch: &mut [u8]) -> io::Result<()> {
        loop {
            match self.transport.read(scratch)? {
                Received::Data { .. } => {}
                Received::Empty => return Ok(()),
                Received::End { .. } => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "closing handshake done",
                    ))
                }
            }
        }
    }

    /// When writing may go on after a pause ([`Boundary::Tail`]), if one is under way.
    pub fn resume_at(&self) -> Option<std::time::Instant> {
        self.rare.as_ref().and_then(|r| r.resume_at)
    }

    /// Whether writing waits for a pause at the current position (and starts it if it is due).
    fn pausing(&mut self, now: std::time::Instant) -> bool {
        let written = self.out.taken();
        let Some(rare) = self.rare.as_mut() else {
            return false;
        };
        if rare.pauses.first() != Some(&written) {
            return false;
        }
        match rare.resume_at {
            None => {
                rare.resume_at = Some(now + TAIL_PAUSE);
                true
            }
            Some(at) if now < at => true,
            Some(_) => {
                rare.pauses.remove(0);
                rare.resume_at = None;
                false
            }
        }
    }

    /// Hand the transport what it takes until the queue is empty, the socket would block or a
    /// pause begins (see [`Connection::resume_at`]), a `writev` of the queue's slices at a time;
    /// emptied tails go to `recycle`, and `pack` is lent to the transport for each write (see
    /// [`Transport::write_vectored`]). True once everything is out, the transport's own bytes
    /// included (the queue then holds no memory).
    pub fn flush(
        &mut self,
        now: std::time::Instant,
        recycle: &mut dyn FnMut(Vec<u8>),
        pack: &mut Vec<u8>,
    ) -> io::Result<bool> {
        loop {
            if !self.transport.flush()? {
                return Ok(false);
            }
            self.written_total += u64::from(std::mem::take(&mut self.in_transport));
            if self.out.is_empty() {
                break;
            }
            if self.pausing(now) {
                return Ok(false);
            }
            let cut = self.rare.as_ref().and_then(|r| r.cuts.first().copied());
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let n = self.out.slices(cut.unwrap_or(u64::MAX), &mut slices);
            match self.transport.write_vectored(&slices[..n], pack) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out.advance(n, recycle);
                    // A transport takes at most one write's worth (64 KiB) at a time.
                    self.in_transport = u32::try_from(n).unwrap_or(u32::MAX);
                    if cut.is_some() && cut == Some(self.out.taken()) {
                        self.rare().cuts.remove(0);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(rare) = self.rare.as_mut() {
            rare.cuts.clear();
            rare.pauses.clear();
        }
        self.tidy();
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
