//! Frames for one write of the protocol's plaintext, sans-IO. The connection hands its output
//! queue over as slices of shared chunks and owned tails (issue 20); a batch builds the frame
//! headers in an array of its own and borrows every payload from those slices, so the inner
//! transport gets headers and payloads in one vectored write and no byte of a shared chunk is
//! copied (the web transport copies only what the socket did not take). Before this, each
//! slice was copied into a fresh wire buffer and written alone: a system call, an allocation
//! and a copy per slice, which held WebSocket fan-out under 0.8× plain fan-out (issue 19).
//!
//! How plaintext becomes frames depends on the subprotocol ([`Delivery`]):
//! - `Stream` (`chatserver.line`): the whole write is one text message, cut at a character
//!   boundary when it is over the budget;
//! - `Lines` and `Objects` (IRC, events): one message per line, without its line end; only
//!   whole lines, unless the first line alone is over the budget (then it goes as it is);
//! - `Records` (the echo example): the first slice is one record, one message.

use super::frame::{self, Opcode};
use super::ws::Delivery;
use std::io::IoSlice;

/// Frames built at most per write. Its parts (a header and a payload each) fill the 64 slices
/// a connection's queue and the TLS transport gather per write; a larger batch costs more to
/// set up than it saves (callgrind, WebSocket fan-out: 421 instructions a delivery at 128
/// frames, 395 at 32, 385 on plain TCP).
pub const MAX_FRAMES: usize = 32;

/// Headers and payloads at most per write (a header and a payload per frame).
pub const PARTS: usize = 2 * MAX_FRAMES;

/// A piece of the wire: a header in the batch's own array, or a payload borrowed from the
/// caller's slices.
#[derive(Clone, Copy, Debug)]
enum Part<'a> {
    Head { at: usize, len: usize },
    Payload(&'a [u8]),
}

/// See the module doc.
#[derive(Debug)]
pub struct Batch<'a> {
    heads: [u8; MAX_FRAMES * frame::MAX_HEAD],
    heads_len: usize,
    parts: [Part<'a>; PARTS],
    count: usize,
    frames: usize,
    /// Plaintext bytes the frames account for (line ends and a record's prefix included):
    /// what the write took from the caller's slices.
    pub taken: usize,
}

impl<'a> Batch<'a> {
    /// Frames for as much of `data` as fits in `budget` plaintext bytes and [`MAX_FRAMES`].
    pub fn build(delivery: Delivery, data: &'a [IoSlice<'_>], budget: usize) -> Batch<'a> {
        let mut batch = Batch {
            heads: [0; MAX_FRAMES * frame::MAX_HEAD],
            heads_len: 0,
            parts: [Part::Payload(&[]); PARTS],
            count: 0,
            frames: 0,
            taken: 0,
        };
        let data = data.iter().map(|s| &**s).filter(|s| !s.is_empty());
        match delivery {
            Delivery::Stream => batch.stream(data, budget),
            Delivery::Lines { binary: true } => batch.lines(Opcode::Binary, data, budget),
            Delivery::Lines { binary: false } | Delivery::Objects => {
                batch.lines(Opcode::Text, data, budget)
            }
            Delivery::Records => batch.record(data),
        }
        batch
    }

    /// The wire bytes in order, into `out`; returns how many slices were filled.
    pub fn io_slices<'b>(&'b self, out: &mut [IoSlice<'b>; PARTS]) -> usize {
        for (part, slot) in self.parts[..self.count].iter().zip(out.iter_mut()) {
            *slot = match *part {
                Part::Head { at, len } => IoSlice::new(&self.heads[at..at + len]),
                Part::Payload(p) => IoSlice::new(p),
            };
        }
        self.count
    }

    fn full(&self) -> bool {
        self.frames == MAX_FRAMES || self.count + 2 > PARTS
    }

    /// One frame of `opcode` whose payload is the next `len` bytes pushed.
    fn head(&mut self, opcode: Opcode, len: usize) {
        let (h, size) = frame::head(opcode, len);
        let at = self.heads_len;
        self.heads[at..at + size].copy_from_slice(&h[..size]);
        self.heads_len += size;
        self.parts[self.count] = Part::Head { at, len: size };
        self.count += 1;
        self.frames += 1;
    }

    fn payload(&mut self, bytes: &'a [u8]) {
        if !bytes.is_empty() {
            self.parts[self.count] = Part::Payload(bytes);
            self.count += 1;
        }
    }

    fn frame(&mut self, opcode: Opcode, payload: &'a [u8]) {
        self.head(opcode, payload.len());
        self.payload(payload);
    }

    /// One text message of whole slices, the last one cut at a character boundary if the
    /// budget ends inside it.
    fn stream(&mut self, data: impl Iterator<Item = &'a [u8]>, budget: usize) {
        // The header goes first; its length is known once the payloads are chosen.
        self.count = 1;
        let mut room = budget;
        for slice in data {
            if room == 0 || self.count == PARTS {
                break;
            }
            let mut n = slice.len().min(room);
            if n < slice.len() {
                while n > 0 && slice[n] & 0xc0 == 0x80 {
                    n -= 1;
                }
            }
            self.payload(&slice[..n]);
            self.taken += n;
            room = if n < slice.len() { 0 } else { room - n };
        }
        let (h, size) = frame::head(Opcode::Text, self.taken);
        self.heads[..size].copy_from_slice(&h[..size]);
        self.heads_len = size;
        self.parts[0] = Part::Head { at: 0, len: size };
        self.frames = 1;
        if self.taken == 0 {
            self.count = 0;
            self.frames = 0;
        }
    }

    /// A message per line. A slice's last line without a line end is a message of its own
    /// (a slice holds whole renderings).
    fn lines(&mut self, opcode: Opcode, data: impl Iterator<Item = &'a [u8]>, budget: usize) {
        let mut room = budget;
        for slice in data {
            let window = &slice[..slice.len().min(room)];
            let cut = window.len() < slice.len();
            for line in window.split_inclusive(|&b| b == b'\n') {
                if self.full() {
                    return;
                }
                match line.strip_suffix(b"\n") {
                    Some(body) => self.frame(opcode, body.strip_suffix(b"\r").unwrap_or(body)),
                    // Cut by the budget: it waits for the next write, unless nothing else
                    // went in this one.
                    None if cut && self.taken > 0 => return,
                    None => self.frame(opcode, line),
                }
                self.taken += line.len();
                room -= line.len();
            }
            if cut || room == 0 {
                return;
            }
        }
    }

    /// The first slice as one record: `T`/`B`, 4 bytes of length, the message.
    fn record(&mut self, mut data: impl Iterator<Item = &'a [u8]>) {
        if let Some(record) = data.next() {
            let opcode = match record.first() {
                Some(b'B') => Opcode::Binary,
                _ => Opcode::Text,
            };
            self.frame(opcode, record.get(5..).unwrap_or_default());
            self.taken = record.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire bytes a batch of `data` makes, and what it took.
    fn wire(delivery: Delivery, data: &[&[u8]], budget: usize) -> (Vec<u8>, usize) {
        let slices: Vec<IoSlice> = data.iter().map(|d| IoSlice::new(d)).collect();
        let batch = Batch::build(delivery, &slices, budget);
        let mut out = [IoSlice::new(&[]); PARTS];
        let n = batch.io_slices(&mut out);
        (
            out[..n].iter().flat_map(|s| s.iter().copied()).collect(),
            batch.taken,
        )
    }

    fn frames(list: &[(Opcode, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (opcode, payload) in list {
            frame::put_frame(&mut out, *opcode, payload);
        }
        out
    }

    #[test]
    fn a_stream_write_is_one_message_of_every_slice() {
        let (bytes, taken) = wire(Delivery::Stream, &[b"a b\n", b"", b"c d\n"], 1024);
        assert_eq!(bytes, frames(&[(Opcode::Text, b"a b\nc d\n")]));
        assert_eq!(taken, 8);
        // The budget ends inside "é" (2 bytes): the message stops before it.
        let (bytes, taken) = wire(Delivery::Stream, &[b"ab", "xé\n".as_bytes()], 4);
        assert_eq!(bytes, frames(&[(Opcode::Text, b"abx")]));
        assert_eq!(taken, 3);
        assert_eq!(wire(Delivery::Stream, &[b""], 1024), (Vec::new(), 0));
    }

    #[test]
    fn lines_are_messages_of_their_own_across_slices() {
        let data: [&[u8]; 3] = [b"one\r\ntwo\n", b"three\n", b"four"];
        let (bytes, taken) = wire(Delivery::Objects, &data, 1024);
        let want: [(Opcode, &[u8]); 4] = [
            (Opcode::Text, b"one"),
            (Opcode::Text, b"two"),
            (Opcode::Text, b"three"),
            (Opcode::Text, b"four"),
        ];
        assert_eq!(bytes, frames(&want));
        assert_eq!(taken, 19);
        let (bytes, _) = wire(Delivery::Lines { binary: true }, &[b"x\n"], 1024);
        assert_eq!(bytes, frames(&[(Opcode::Binary, b"x")]));
    }

    /// Only whole lines fit the budget, except a first line longer than the budget.
    #[test]
    fn the_budget_takes_whole_lines_unless_one_alone_is_over_it() {
        let lines = Delivery::Lines { binary: false };
        let (bytes, taken) = wire(lines, &[b"ab\n", b"cdef\n"], 6);
        assert_eq!(bytes, frames(&[(Opcode::Text, b"ab")]));
        assert_eq!(taken, 3);
        let (bytes, taken) = wire(lines, &[b"abcdefgh\n"], 4);
        assert_eq!(bytes, frames(&[(Opcode::Text, b"abcd")]));
        assert_eq!(taken, 4);
    }

    #[test]
    fn a_batch_stops_at_its_frame_limit() {
        let many = b"x\n".repeat(MAX_FRAMES + 5);
        let (bytes, taken) = wire(Delivery::Objects, &[&many], 1 << 20);
        assert_eq!(taken, 2 * MAX_FRAMES);
        assert_eq!(bytes, frames(&vec![(Opcode::Text, &b"x"[..]); MAX_FRAMES]));
    }

    #[test]
    fn a_record_is_the_first_slice_alone() {
        let (bytes, taken) = wire(Delivery::Records, &[b"B\0\0\0\x02hi", b"T\0\0\0\0"], 1024);
        assert_eq!(bytes, frames(&[(Opcode::Binary, b"hi")]));
        assert_eq!(taken, 7);
    }
}
