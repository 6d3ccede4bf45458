//! One client socket with its codec and bounded output buffer. Buffers are allocated on first
//! use and released when empty, so an idle connection costs a few dozen bytes.

use crate::event::{Event, Shared};
use crate::protocol::{Boundary, Codec};
use crate::session::ConnId;
use mio::net::TcpStream;
use std::io::{self, Read, Write};

/// What a read pass found.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadStatus {
    /// Drained until WouldBlock.
    Drained,
    /// Stopped at the per-pass budget; more may be waiting (edge-triggered: revisit it).
    Budget,
    /// The peer closed its sending side.
    Eof,
    /// The consumer stopped taking input (a password hash runs, issue 21); the rest is held
    /// until it asks for it again.
    Paused,
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

/// A client socket, its codec and its output buffer.
#[derive(Debug)]
pub struct Connection {
    pub id: ConnId,
    pub stream: TcpStream,
    pub codec: Codec,
    out: Vec<u8>,
    /// Bytes of `out` already written.
    written: usize,
    /// Offsets in `out` at which a `write()` must end (events that must leave alone).
    cuts: Vec<usize>,
    /// Offsets (also in `cuts`) from which writing waits [`TAIL_PAUSE`] (issue 21).
    pauses: Vec<usize>,
    /// Writing resumes at this time: a pause began.
    resume_at: Option<std::time::Instant>,
    pub closing: Closing,
    /// On the loop's dirty list already.
    pub dirty: bool,
    /// The core asked to hear when the output is all written.
    pub notify_flushed: bool,
    /// An event said the peer shut down its side: read until EOF.
    pub peer_closed: bool,
    // Reliability (issue 8): delivery recorded only for bytes the kernel accepted.
    /// Bytes the kernel has accepted over the connection's life.
    written_total: u64,
    /// Output offsets (in `written_total` terms) with the core's marker to report once the
    /// kernel has accepted everything before them, oldest first.
    marks: std::collections::VecDeque<(u64, u64)>,
    /// Bytes read but not yet decoded: the input budget ran out inside them.
    held: Vec<u8>,
    /// Not read while its output is above the soft limit (backpressure); the loop re-drives
    /// the read once the output drains.
    pub read_paused: bool,
    /// Where the connection came from (for the per-address count).
    pub peer_ip: Option<std::net::IpAddr>,
    /// Command penalty: the time its inputs have used up (issue 8).
    pub penalty: std::time::Instant,
    /// The next announcement it has to read (issue 20, `server/announce.rs`);
    /// [`NOT_SUBSCRIBED`] while it gets none.
    pub announced: u64,
}

/// [`Connection::announced`] of a connection that gets no announcements.
pub const NOT_SUBSCRIBED: u64 = u64::MAX;

/// The output cap was hit: the reader is too slow and must go.
#[derive(Debug)]
pub struct Overflow;

impl Connection {
    pub fn new(id: ConnId, stream: TcpStream, codec: Codec) -> Connection {
        Connection {
            id,
            stream,
            codec,
            out: Vec::new(),
            written: 0,
            cuts: Vec::new(),
            pauses: Vec::new(),
            resume_at: None,
            closing: Closing::Open,
            dirty: false,
            notify_flushed: false,
            peer_closed: false,
            written_total: 0,
            marks: std::collections::VecDeque::new(),
            held: Vec::new(),
            read_paused: false,
            peer_ip: None,
            penalty: std::time::Instant::now(),
            announced: NOT_SUBSCRIBED,
        }
    }

    /// Bytes queued but not yet written.
    pub fn pending(&self) -> usize {
        self.out.len() - self.written
    }

    fn reserve(&mut self, spare: &mut dyn FnMut() -> Vec<u8>) {
        if self.out.capacity() == 0 {
            self.out = spare();
        }
    }

    /// Render `event` with this connection's codec onto the output buffer (no syscall). Over
    /// `cap` nothing is queued.
    pub fn queue_event(
        &mut self,
        event: &Event,
        cap: usize,
        spare: &mut dyn FnMut() -> Vec<u8>,
    ) -> Result<(), Overflow> {
        self.reserve(spare);
        let start = self.out.len();
        let boundary = self.codec.encode(event, &mut self.out);
        if self.pending() > cap {
            self.out.truncate(start);
            return Err(Overflow);
        }
        match boundary {
            Boundary::None => {}
            Boundary::Alone => self.cut_around(start),
            Boundary::Tail(n) => {
                let tail = self.out.len().saturating_sub(n).max(start);
                self.cut_around(tail);
                self.pauses.push(tail);
            }
        }
        Ok(())
    }

    /// Queue a fan-out event, rendered once per codec kind when the codec allows it.
    pub fn queue_shared(
        &mut self,
        shared: &Shared,
        cap: usize,
        spare: &mut dyn FnMut() -> Vec<u8>,
    ) -> Result<(), Overflow> {
        if !self.codec.shareable(&shared.event) {
            return self.queue_event(&shared.event, cap, spare);
        }
        let codec = &mut self.codec;
        let bytes = shared.bytes(codec.kind(), |e| {
            let mut v = Vec::new();
            codec.encode(e, &mut v);
            v
        });
        if self.pending() + bytes.len() > cap {
            return Err(Overflow);
        }
        self.reserve(spare);
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    /// Remember `marker` for the end of what is queued now; see [`Connection::take_written`].
    pub fn mark(&mut self, marker: u64) {
        self.marks
            .push_back((self.written_total + self.pending() as u64, marker));
    }

    /// The markers whose bytes the kernel has now accepted, oldest first.
    pub fn take_written(&mut self, mut each: impl FnMut(u64)) {
        while let Some(&(at, marker)) = self.marks.front() {
            if at > self.written_total {
                break;
            }
            self.marks.pop_front();
            each(marker);
        }
    }

    /// Queue raw bytes (a codec's greeting).
    pub fn queue_bytes(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// The bytes from `start` to the end leave in a write of their own.
    fn cut_around(&mut self, start: usize) {
        if start > self.written && self.cuts.last() != Some(&start) {
            self.cuts.push(start);
        }
        self.cuts.push(self.out.len());
    }

    /// Put back the (emptied) buffer `flush` returned, keeping its capacity for the next append.
    pub fn restore_buffer(&mut self, buf: Vec<u8>) {
        if self.out.capacity() == 0 {
            self.out = buf;
        }
    }

    /// Read until WouldBlock, EOF, `budget` bytes or `lines` input lines, passing each chunk to
    /// `on_data`, which says how much of it it took. What is read past the line budget, or
    /// what `on_data` did not take, is held and decoded first next time, so a pipelining peer
    /// costs at most `lines` commands of work per pass, however cheap they are.
    pub fn read(
        &mut self,
        scratch: &mut [u8],
        mut budget: usize,
        mut lines: usize,
        mut on_data: impl FnMut(&mut Codec, &[u8]) -> usize,
    ) -> io::Result<ReadStatus> {
        if !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            let (rest, paused) = feed_lines(&held, &mut lines, |d| on_data(&mut self.codec, d));
            if !rest.is_empty() {
                self.held = rest.to_vec();
                return Ok(if paused {
                    ReadStatus::Paused
                } else {
                    ReadStatus::Budget
                });
            }
            if lines == 0 {
                return Ok(ReadStatus::Budget);
            }
        }
        loop {
            match self.stream.read(scratch) {
                Ok(0) => return Ok(ReadStatus::Eof),
                Ok(n) => {
                    let data = &scratch[..n];
                    let (rest, paused) =
                        feed_lines(data, &mut lines, |d| on_data(&mut self.codec, d));
                    budget = budget.saturating_sub(n);
                    if !rest.is_empty() {
                        self.held.extend_from_slice(rest);
                        return Ok(if paused {
                            ReadStatus::Paused
                        } else {
                            ReadStatus::Budget
                        });
                    }
                    if budget == 0 || lines == 0 {
                        return Ok(ReadStatus::Budget);
                    }
                    if n < scratch.len() && !self.peer_closed {
                        // A short read emptied the socket buffer: anything arriving later raises
                        // a new edge, so the WouldBlock read that would follow is a wasted
                        // syscall (one per message at low load). Not once the peer has shut
                        // down: its FIN raised no edge of its own, so read on to the EOF.
                        return Ok(ReadStatus::Drained);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(ReadStatus::Drained),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// When writing may go on after a pause ([`Boundary::Tail`]), if one is under way.
    pub fn resume_at(&self) -> Option<std::time::Instant> {
        self.resume_at
    }

    /// Write until the buffer is empty, the socket would block, or a pause begins (see
    /// [`Connection::resume_at`]). Returns the emptied buffer (for recycling) once
    /// everything is out.
    pub fn flush(&mut self, now: std::time::Instant) -> io::Result<Option<Vec<u8>>> {
        while self.written < self.out.len() {
            if self.pauses.first() == Some(&self.written) {
                match self.resume_at {
                    None => {
                        self.resume_at = Some(now + TAIL_PAUSE);
                        return Ok(None);
                    }
                    Some(at) if now < at => return Ok(None),
                    Some(_) => {
                        self.pauses.remove(0);
                        self.resume_at = None;
                    }
                }
            }
            let end = self.cuts.first().copied().unwrap_or(self.out.len());
            match self.stream.write(&self.out[self.written..end]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.written += n;
                    self.written_total += n as u64;
                    if self.written == end && !self.cuts.is_empty() {
                        self.cuts.remove(0);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.written = 0;
        self.cuts.clear();
        self.pauses.clear();
        let mut buf = std::mem::take(&mut self.out);
        buf.clear();
        Ok(Some(buf))
    }
}

/// Pass `data` to `feed` up to and including its `lines`-th newline, counting off the lines
/// it takes; returns the rest and whether `feed` stopped short of what it was given (it
/// returns how many bytes it took). (A wire without newlines is bounded by the byte budget.)
fn feed_lines<'a>(
    data: &'a [u8],
    lines: &mut usize,
    mut feed: impl FnMut(&[u8]) -> usize,
) -> (&'a [u8], bool) {
    let mut end = data.len();
    let mut seen = 0;
    for (i, _) in data.iter().enumerate().filter(|(_, &b)| b == b'\n') {
        seen += 1;
        if seen == *lines {
            end = i + 1;
            break;
        }
    }
    let took = feed(&data[..end]).min(end);
    let taken = data[..took].iter().filter(|&&b| b == b'\n').count();
    *lines -= taken.min(*lines);
    (&data[took..], took < end)
}

#[cfg(test)]
mod tests {
    use super::feed_lines;

    #[test]
    fn feed_lines_stops_after_the_budget_of_lines() {
        let mut got = Vec::new();
        let mut lines = 2;
        let mut take_all = |d: &[u8]| {
            got.extend_from_slice(d);
            d.len()
        };
        let (rest, paused) = feed_lines(b"a\nb\nc\nd", &mut lines, &mut take_all);
        assert_eq!((rest, paused, lines), (&b"c\nd"[..], false, 0));
        let mut lines = 5;
        let (rest, paused) = feed_lines(b"c\nd", &mut lines, &mut take_all);
        assert_eq!((rest, paused, lines), (&b""[..], false, 4));
        assert_eq!(got, b"a\nb\nc\nd");
        // Issue 21: the consumer stops after one line (a password hash started).
        let mut lines = 5;
        let (rest, paused) = feed_lines(b"x\ny\nz\n", &mut lines, |_| 2);
        assert_eq!((rest, paused, lines), (&b"y\nz\n"[..], true, 4));
    }
}
