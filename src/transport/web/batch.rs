//! Frames for one write of the protocol's plaintext, sans-IO. The connection hands its output
//! queue over as slices of shared chunks and owned tails (issue 20). A frame whose payload is
//! small (at most [`COPY_MAX`] bytes) is copied, header and payload, into `pack`, one
//! contiguous buffer the loop lends for the write; a larger payload stays borrowed from the
//! caller's slice and only its header goes into `pack`. The inner transport then gets the runs
//! of `pack` and the borrowed payloads, in order, in one vectored write, so a write carries as
//! many frames as its budget (64 KiB of wire bytes) allows, however many there are.
//!
//! Before this (issue 19), every payload was borrowed: a frame took two of the 64 slices a
//! write gathers, so a write held at most 32 frames. For the subprotocols that send one message
//! per line (IRC, events) that was about 2.5 KB of lines per system call instead of 64 KiB, and
//! IRC over a WebSocket cost 2.2× IRC on TCP per delivery.
//!
//! How plaintext becomes frames depends on the subprotocol ([`Delivery`]):
//! - `Stream` (`chatserver.line`): the whole write is one text message, cut at a character
//!   boundary when it is over the budget;
//! - `Lines` and `Objects` (IRC, events): one message per line, without its line end; only
//!   whole lines, unless the first line alone is over the budget (then as much of it as fits,
//!   cut at a character boundary, and the rest of it is the next write's first message);
//! - `Records` (the echo example): the first slice is one record, one message.

use super::frame::{self, Opcode};
use super::ws::Delivery;
use std::io::IoSlice;

/// Parts (runs of `pack` and borrowed payloads) at most per write: the slices a connection's
/// queue and the TLS transport gather per write.
pub const PARTS: usize = crate::queue::MAX_SLICES;

/// Payloads up to this many bytes are copied into `pack` rather than borrowed. Copying a
/// line of IRC or an event (under 200 bytes in the fan-out) costs less than the slice it would
/// take in the system call, and borrowing only large payloads means even the worst write (all
/// of them large) carries 31 frames of over 1 KiB, a write's worth of bytes.
pub const COPY_MAX: usize = 1024;

/// A piece of the wire, in order.
#[derive(Clone, Copy, Debug)]
enum Part<'a> {
    /// `pack[start..end]`: frame headers and small payloads, copied.
    Packed { start: usize, end: usize },
    /// A large payload, borrowed from the caller's slices.
    Borrowed(&'a [u8]),
}

/// See the module doc.
#[derive(Debug)]
pub struct Batch<'a> {
    parts: [Part<'a>; PARTS],
    count: usize,
    /// Where the run of `pack` being written starts: it becomes a part once a borrowed
    /// payload follows it or the batch is done (one part however many frames it holds).
    run: Option<usize>,
    frames: usize,
    /// Wire bytes so far (headers and payloads).
    wire: usize,
    /// Plaintext bytes the frames account for (line ends and a record's prefix included):
    /// what the write took from the caller's slices.
    pub taken: usize,
    /// The write ends inside a message (a line alone over the budget): the next one starts
    /// with the rest of it, as `Continuation` frames (§5.4), so it stays one message.
    pub open: bool,
}

/// `n`, or less so that `bytes[..n]` does not end inside a UTF-8 character (unless that
/// leaves nothing: a message is never empty for want of room).
fn char_boundary(bytes: &[u8], mut n: usize) -> usize {
    let cut = n;
    while n > 0 && n < bytes.len() && bytes[n] & 0xc0 == 0x80 {
        n -= 1;
    }
    if n == 0 {
        cut
    } else {
        n
    }
}

impl<'a> Batch<'a> {
    /// Frames for as much of `data` as fits in `budget` wire bytes and [`PARTS`], the copied
    /// parts in `pack` (cleared first; it keeps its capacity, at most `budget` bytes, so the
    /// loop's one buffer serves every write without allocating).
    /// `continuing`: the last write ended inside a message ([`Batch::open`]).
    pub fn build(
        delivery: Delivery,
        data: &'a [IoSlice<'_>],
        budget: usize,
        pack: &mut Vec<u8>,
        continuing: bool,
    ) -> Batch<'a> {
        pack.clear();
        // Once: the copied parts never pass the budget (a record aside), so no write grows it.
        pack.reserve(budget);
        let mut batch = Batch {
            parts: [Part::Borrowed(&[]); PARTS],
            count: 0,
            run: None,
            frames: 0,
            wire: 0,
            taken: 0,
            open: false,
        };
        let data = data.iter().map(|s| &**s).filter(|s| !s.is_empty());
        match delivery {
            Delivery::Stream => batch.stream(data, budget, pack),
            Delivery::Lines { binary: true } => {
                batch.lines(Opcode::Binary, data, budget, pack, continuing)
            }
            Delivery::Lines { binary: false } | Delivery::Objects => {
                batch.lines(Opcode::Text, data, budget, pack, continuing)
            }
            Delivery::Records => batch.record(data, pack),
        }
        batch.end_run(pack);
        batch
    }

    /// The wire bytes in order (`pack` as [`Batch::build`] left it), into `out`; returns how
    /// many slices were filled.
    pub fn io_slices<'b>(&'b self, pack: &'b [u8], out: &mut [IoSlice<'b>; PARTS]) -> usize {
        for (part, slot) in self.parts[..self.count].iter().zip(out.iter_mut()) {
            *slot = match *part {
                Part::Packed { start, end } => IoSlice::new(&pack[start..end]),
                Part::Borrowed(p) => IoSlice::new(p),
            };
        }
        self.count
    }

    /// Whether the parts have room for a payload of `len` bytes (and a header before it): a
    /// copied one needs the run's part, a borrowed one that and its own.
    fn room_for(&self, len: usize) -> bool {
        self.count + if len <= COPY_MAX { 1 } else { 2 } <= PARTS
    }

    /// Copying goes on at the end of `pack`.
    fn open_run(&mut self, pack: &[u8]) {
        self.run.get_or_insert(pack.len());
    }

    /// The run so far becomes a part.
    fn end_run(&mut self, pack: &[u8]) {
        if let Some(start) = self.run.take() {
            if start < pack.len() {
                self.parts[self.count] = Part::Packed {
                    start,
                    end: pack.len(),
                };
                self.count += 1;
            }
        }
    }

    /// A payload (or a stream's piece of one): copied when small, else borrowed.
    fn payload(&mut self, bytes: &'a [u8], pack: &mut Vec<u8>) {
        if bytes.len() <= COPY_MAX {
            self.open_run(pack);
            pack.extend_from_slice(bytes);
        } else {
            self.end_run(pack);
            self.parts[self.count] = Part::Borrowed(bytes);
            self.count += 1;
        }
        self.wire += bytes.len();
    }

    /// A whole frame: its header copied, and its payload copied when small (in the same run)
    /// or borrowed.
    fn frame(&mut self, opcode: Opcode, payload: &'a [u8], pack: &mut Vec<u8>, fin: bool) {
        let (head, size) = frame::fragment_head(opcode, payload.len(), fin);
        self.open_run(pack);
        if size == 2 {
            // The common case (payloads under 126 bytes), with a length the compiler sees.
            pack.extend_from_slice(&head[..2]);
        } else {
            pack.extend_from_slice(&head[..size]);
        }
        self.wire += size;
        self.payload(payload, pack);
        self.frames += 1;
    }

    /// One text message of whole slices, the last one cut at a character boundary if the
    /// budget ends inside it.
    fn stream(&mut self, data: impl Iterator<Item = &'a [u8]>, budget: usize, pack: &mut Vec<u8>) {
        // The header goes first, in a part of its own; its length is known once the payloads
        // are chosen.
        self.count = 1;
        let mut room = budget.saturating_sub(frame::head_size(budget));
        for slice in data {
            if room == 0 {
                break;
            }
            let mut n = slice.len().min(room);
            if n < slice.len() {
                n = char_boundary(slice, n);
            }
            if !self.room_for(n) {
                break;
            }
            self.payload(&slice[..n], pack);
            self.taken += n;
            room = if n < slice.len() { 0 } else { room - n };
        }
        self.end_run(pack);
        if self.taken == 0 {
            self.count = 0;
            return;
        }
        let start = pack.len();
        frame::put_head(pack, Opcode::Text, self.taken);
        self.parts[0] = Part::Packed {
            start,
            end: pack.len(),
        };
        self.wire += pack.len() - start;
        self.frames = 1;
    }

    /// A message per line. A slice's last line without a line end is a message of its own
    /// (a slice holds whole renderings). `continuing`: the first line is the rest of one the
    /// last write began.
    fn lines(
        &mut self,
        line_opcode: Opcode,
        data: impl Iterator<Item = &'a [u8]>,
        budget: usize,
        pack: &mut Vec<u8>,
        continuing: bool,
    ) {
        let mut opcode = match continuing {
            true => Opcode::Continuation,
            false => line_opcode,
        };
        // Still inside the message until a frame ends it (nothing queued: still inside).
        self.open = continuing;
        for slice in data {
            let mut at = 0;
            let mut ends = memchr::memchr_iter(b'\n', slice);
            while at < slice.len() {
                let (next, body_end) = match ends.next() {
                    Some(end) if end > at && slice[end - 1] == b'\r' => (end + 1, end - 1),
                    Some(end) => (end + 1, end),
                    None => (slice.len(), slice.len()),
                };
                let body = &slice[at..body_end];
                let len = body.len();
                if len < 126 && self.wire + 2 + len <= budget && self.count < PARTS {
                    // The fan-out's case (a line of IRC, an event): a 2-byte header and the
                    // line, copied onto the run.
                    let (head, _) = frame::head(opcode, len);
                    self.open_run(pack);
                    pack.extend_from_slice(&head[..2]);
                    pack.extend_from_slice(body);
                    self.wire += 2 + len;
                    self.frames += 1;
                } else if self.wire + frame::head_size(len) + len <= budget && self.room_for(len) {
                    self.frame(opcode, body, pack, true);
                } else {
                    if self.frames == 0 {
                        // Alone over the budget: as much as fits now, the rest next time, in
                        // frames of the same message (an object cut into two messages was
                        // two halves no client could parse).
                        let room = budget.saturating_sub(frame::head_size(budget));
                        let n = char_boundary(body, room.min(len));
                        if n > 0 {
                            self.frame(opcode, &body[..n], pack, false);
                            self.taken = n;
                            self.open = true;
                        }
                    }
                    return;
                }
                self.taken += next - at;
                at = next;
                opcode = line_opcode;
                self.open = false;
            }
        }
    }

    /// The first slice as one record: `T`/`B`, 4 bytes of length, the message.
    fn record(&mut self, mut data: impl Iterator<Item = &'a [u8]>, pack: &mut Vec<u8>) {
        if let Some(record) = data.next() {
            let opcode = match record.first() {
                Some(b'B') => Opcode::Binary,
                _ => Opcode::Text,
            };
            self.frame(opcode, record.get(5..).unwrap_or_default(), pack, true);
            self.taken = record.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire bytes a batch of `data` makes, what it took, and how many parts it used.
    fn wire(delivery: Delivery, data: &[&[u8]], budget: usize) -> (Vec<u8>, usize, usize) {
        let slices: Vec<IoSlice> = data.iter().map(|d| IoSlice::new(d)).collect();
        let mut pack = Vec::new();
        let batch = Batch::build(delivery, &slices, budget, &mut pack, false);
        let mut out = [IoSlice::new(&[]); PARTS];
        let n = batch.io_slices(&pack, &mut out);
        let bytes: Vec<u8> = out[..n].iter().flat_map(|s| s.iter().copied()).collect();
        assert!(
            bytes.len() <= budget.max(frame::MAX_HEAD + 1),
            "over the budget"
        );
        assert!(pack.len() <= bytes.len());
        (bytes, batch.taken, n)
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
        let (bytes, taken, _) = wire(Delivery::Stream, &[b"a b\n", b"", b"c d\n"], 1024);
        assert_eq!(bytes, frames(&[(Opcode::Text, b"a b\nc d\n")]));
        assert_eq!(taken, 8);
        // 5 wire bytes leave 3 for the payload after the header: the budget ends inside "é"
        // (2 bytes), so the message stops before it.
        let (bytes, taken, _) = wire(Delivery::Stream, &[b"a", "xé\n".as_bytes()], 5);
        assert_eq!(bytes, frames(&[(Opcode::Text, b"ax")]));
        assert_eq!(taken, 2);
        assert_eq!(wire(Delivery::Stream, &[b""], 1024), (Vec::new(), 0, 0));
    }

    /// Small slices are copied behind the header, large ones borrowed, in order.
    #[test]
    fn a_stream_copies_small_slices_and_borrows_large_ones() {
        let big = vec![b'y'; COPY_MAX + 1];
        let data: [&[u8]; 4] = [b"one\n", &big, b"two\n", b"three\n"];
        let (bytes, taken, parts) = wire(Delivery::Stream, &data, 1 << 16);
        assert_eq!(bytes, frames(&[(Opcode::Text, &data.concat())]));
        assert_eq!(taken, data.concat().len());
        // The header, "one\n", the borrowed payload, then "two\nthree\n" in one run.
        assert_eq!(parts, 4);
    }

    #[test]
    fn lines_are_messages_of_their_own_across_slices() {
        let data: [&[u8]; 3] = [b"one\r\ntwo\n", b"three\n", b"four"];
        let (bytes, taken, parts) = wire(Delivery::Objects, &data, 1024);
        let want: [(Opcode, &[u8]); 4] = [
            (Opcode::Text, b"one"),
            (Opcode::Text, b"two"),
            (Opcode::Text, b"three"),
            (Opcode::Text, b"four"),
        ];
        assert_eq!(bytes, frames(&want));
        assert_eq!(taken, 19);
        assert_eq!(parts, 1, "small frames are one copied run");
        let (bytes, _, _) = wire(Delivery::Lines { binary: true }, &[b"x\n"], 1024);
        assert_eq!(bytes, frames(&[(Opcode::Binary, b"x")]));
    }

    /// Only whole lines fit the budget (wire bytes: a header and the line without its end),
    /// except a first line longer than the budget: as much of it as fits, at a character
    /// boundary, in a frame that does not end the message; the next write goes on with the
    /// rest as `Continuation` frames, so the line stays one message (an events object over
    /// 64 KiB, a `history`, reached a browser as pieces that were not JSON).
    #[test]
    fn the_budget_takes_whole_lines_unless_one_alone_is_over_it() {
        let lines = Delivery::Lines { binary: false };
        let (bytes, taken, _) = wire(lines, &[b"ab\n", b"cdef\n"], 8);
        assert_eq!(bytes, frames(&[(Opcode::Text, b"ab")]));
        assert_eq!(taken, 3);
        let fragment = |opcode, payload: &[u8], fin| {
            let (h, n) = frame::fragment_head(opcode, payload.len(), fin);
            [&h[..n], payload].concat()
        };
        // One write of `data` (wire bytes, taken, open) after a write that ended inside a
        // message (`continuing`) or not.
        fn write(data: &[&[u8]], budget: usize, continuing: bool) -> (Vec<u8>, usize, bool) {
            let slices: Vec<IoSlice> = data.iter().map(|d| IoSlice::new(d)).collect();
            let mut pack = Vec::new();
            let batch = Batch::build(Delivery::Objects, &slices, budget, &mut pack, continuing);
            let mut out = [IoSlice::new(&[]); PARTS];
            let n = batch.io_slices(&pack, &mut out);
            let bytes = out[..n].iter().flat_map(|s| s.iter().copied()).collect();
            (bytes, batch.taken, batch.open)
        }
        assert_eq!(
            write(&[b"abcdefghij\n", b"k\n"], 6, false),
            (fragment(Opcode::Text, b"abcd", false), 4, true)
        );
        assert_eq!(
            write(&[b"efghij\n", b"k\n"], 6, true),
            (fragment(Opcode::Continuation, b"efgh", false), 4, true)
        );
        let end = [
            fragment(Opcode::Continuation, b"ij", true),
            fragment(Opcode::Text, b"k", true),
        ];
        assert_eq!(
            write(&[b"ij\n", b"k\n"], 64, true),
            (end.concat(), 5, false)
        );
        assert!(
            write(&[], 64, true).2,
            "nothing queued: still inside the message"
        );
        let (bytes, taken, _) = wire(lines, &["abcé\n".as_bytes()], 6);
        assert_eq!(bytes, fragment(Opcode::Text, b"abc", false));
        assert_eq!(taken, 3);
    }

    /// Small lines fill a write up to its budget, far past the 32 frames two parts each
    /// allowed; large ones stop at the parts (a header run and a payload each).
    #[test]
    fn a_write_holds_as_many_small_lines_as_the_budget_allows() {
        let many = b"x\n".repeat(40_000);
        let (bytes, taken, parts) = wire(Delivery::Objects, &[&many], 1 << 16);
        let fit = (1 << 16) / 3;
        assert_eq!(taken, 2 * fit);
        assert_eq!(bytes, frames(&vec![(Opcode::Text, &b"x"[..]); fit]));
        assert_eq!(parts, 1);
        let mut large = vec![b'z'; COPY_MAX + 1];
        large.push(b'\n');
        let large = large.repeat(40);
        let (bytes, taken, parts) = wire(Delivery::Objects, &[&large], 1 << 20);
        assert_eq!((taken, parts), ((PARTS / 2) * (COPY_MAX + 2), PARTS));
        let want = vec![(Opcode::Text, &large[..=COPY_MAX]); PARTS / 2];
        assert_eq!(bytes, frames(&want));
    }

    #[test]
    fn a_record_is_the_first_slice_alone() {
        let (bytes, taken, _) = wire(Delivery::Records, &[b"B\0\0\0\x02hi", b"T\0\0\0\0"], 1024);
        assert_eq!(bytes, frames(&[(Opcode::Binary, b"hi")]));
        assert_eq!(taken, 7);
    }
}
