//! A connection's unsent output (issue 20): a queue of shared chunks (bytes rendered once for
//! many connections: a fan-out event, a run of presence lines) and owned tails (what this
//! connection alone is sent), in order, handed to the transport as one `writev` of slices. A
//! chunk sent to 10,000 connections is one allocation and 10,000 pointers, not 10,000 copies.
//! Consecutive ranges of one chunk merge into one segment. A drained queue keeps no capacity:
//! its tails go back to the caller's pool of spare buffers.
//!
//! Positions count every byte ever queued on the connection, so a write boundary or a pause
//! (`Connection`'s cuts) is a number that stays true however the queue is split.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::ops::Range;
use std::sync::Arc;

/// Bytes rendered once and shared by every connection that sends them.
pub type Chunk = Arc<[u8]>;

/// Slices gathered for one write: more would not make a write cheaper (Linux's `IOV_MAX` is
/// 1024; a connection seldom has more than a few segments).
pub const MAX_SLICES: usize = 64;

/// Shared bytes smaller than this are copied into the tail instead: a pointer and a range
/// cost more than the copy, and one contiguous tail is one slice for the kernel. It was 128;
/// an IRC line with `msgid` and `server-time` (issue 22) is 120-200 bytes, and callgrind
/// counted 86 more instructions a delivery for such a line as a segment than as a copy.
pub const SHARE_MIN: usize = 256;

#[derive(Debug)]
enum Segment {
    Shared {
        chunk: Chunk,
        start: usize,
        end: usize,
    },
    Owned(Vec<u8>),
}

impl Segment {
    fn bytes(&self) -> &[u8] {
        match self {
            Segment::Shared { chunk, start, end } => chunk.get(*start..*end).unwrap_or_default(),
            Segment::Owned(v) => v,
        }
    }
}

/// See the module doc.
#[derive(Debug, Default)]
pub struct OutQueue {
    segments: VecDeque<Segment>,
    /// Bytes of the first segment already written.
    front: usize,
    /// Bytes ever queued, and ever taken by the transport.
    queued: u64,
    taken: u64,
}

impl OutQueue {
    /// Bytes queued and not yet taken.
    pub fn len(&self) -> usize {
        (self.queued - self.taken) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.queued == self.taken
    }

    /// The position after the last byte queued.
    pub fn queued(&self) -> u64 {
        self.queued
    }

    /// The position after the last byte taken by the transport.
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// Append to the owned tail with `write` (a new tail from `spare` when the last segment is
    /// shared or there is none); returns what `write` returns.
    pub fn append<R>(
        &mut self,
        spare: &mut dyn FnMut() -> Vec<u8>,
        write: impl FnOnce(&mut Vec<u8>) -> R,
    ) -> R {
        if !matches!(self.segments.back(), Some(Segment::Owned(_))) {
            let mut tail = spare();
            tail.clear();
            self.segments.push_back(Segment::Owned(tail));
        }
        let Some(Segment::Owned(tail)) = self.segments.back_mut() else {
            return write(&mut Vec::new());
        };
        let before = tail.len();
        let result = write(tail);
        self.queued += (tail.len() - before) as u64;
        result
    }

    /// Take back what was appended after position `at`, which must be inside the owned tail
    /// (the last [`OutQueue::append`] over the cap).
    pub fn truncate(&mut self, at: u64) {
        let cut = self.queued.saturating_sub(at.max(self.taken));
        if let Some(Segment::Owned(tail)) = self.segments.back_mut() {
            let cut = (cut as usize).min(tail.len());
            tail.truncate(tail.len() - cut);
            self.queued -= cut as u64;
            if tail.is_empty() {
                self.segments.pop_back();
            }
        }
    }

    /// Queue `range` of `chunk`, after what is queued (small ones copied into the tail). The
    /// common case of a fan-out, a short line onto an open tail, is inlined into the caller's
    /// per-recipient loop (callgrind: as a call it cost 50 instructions a delivery).
    #[inline]
    pub fn push_shared(
        &mut self,
        chunk: &Chunk,
        range: Range<usize>,
        spare: &mut dyn FnMut() -> Vec<u8>,
    ) {
        if range.len() < SHARE_MIN {
            if let Some(Segment::Owned(tail)) = self.segments.back_mut() {
                let bytes = chunk.get(range).unwrap_or_default();
                tail.extend_from_slice(bytes);
                self.queued += bytes.len() as u64;
                return;
            }
        }
        self.push_shared_cold(chunk, range, spare);
    }

    #[inline(never)]
    fn push_shared_cold(
        &mut self,
        chunk: &Chunk,
        range: Range<usize>,
        spare: &mut dyn FnMut() -> Vec<u8>,
    ) {
        let Some(bytes) = chunk.get(range.clone()).filter(|b| !b.is_empty()) else {
            return;
        };
        if bytes.len() < SHARE_MIN {
            return self.append(spare, |tail| tail.extend_from_slice(bytes));
        }
        self.queued += bytes.len() as u64;
        if let Some(Segment::Shared {
            chunk: last, end, ..
        }) = self.segments.back_mut()
        {
            if Arc::ptr_eq(last, chunk) && *end == range.start {
                *end = range.end;
                return;
            }
        }
        self.segments.push_back(Segment::Shared {
            chunk: Arc::clone(chunk),
            start: range.start,
            end: range.end,
        });
    }

    /// The unsent bytes from the front up to position `stop`, as at most [`MAX_SLICES`]
    /// slices in `slices`; returns how many.
    pub fn slices<'a>(&'a self, stop: u64, slices: &mut [IoSlice<'a>; MAX_SLICES]) -> usize {
        let mut left = stop.saturating_sub(self.taken);
        let mut n = 0;
        for (i, seg) in self.segments.iter().enumerate() {
            if left == 0 || n == MAX_SLICES {
                break;
            }
            let mut bytes = seg.bytes();
            if i == 0 {
                bytes = bytes.get(self.front..).unwrap_or_default();
            }
            let take = bytes.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            if take == 0 {
                continue;
            }
            slices[n] = IoSlice::new(&bytes[..take]);
            n += 1;
            left -= take as u64;
        }
        n
    }

    /// The transport took `n` more bytes: drop what is written, handing emptied tails to
    /// `recycle`. Once all is written the queue holds no memory at all.
    pub fn advance(&mut self, mut n: usize, recycle: &mut dyn FnMut(Vec<u8>)) {
        self.taken += n as u64;
        while n > 0 {
            let Some(first) = self.segments.front() else {
                break;
            };
            let left = first.bytes().len() - self.front;
            if n < left {
                self.front += n;
                break;
            }
            n -= left;
            self.front = 0;
            if let Some(Segment::Owned(v)) = self.segments.pop_front() {
                recycle(v);
            }
        }
        if self.is_empty() {
            for seg in self.segments.drain(..) {
                if let Segment::Owned(v) = seg {
                    recycle(v);
                }
            }
            self.segments = VecDeque::new();
            self.front = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(q: &OutQueue, stop: u64) -> Vec<u8> {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let n = q.slices(stop, &mut slices);
        slices[..n].iter().flat_map(|s| s.iter().copied()).collect()
    }

    #[test]
    fn shared_ranges_and_tails_leave_in_order_and_contiguous_ranges_merge() {
        // Two ranges, each long enough to be shared rather than copied.
        let half = SHARE_MIN + 22;
        let chunk: Chunk = Arc::from(vec![b'x'; 2 * half]);
        let total = 2 * half + 7;
        let mut q = OutQueue::default();
        let mut fresh = Vec::new;
        q.append(&mut fresh, |t| t.extend_from_slice(b"hi\n"));
        q.push_shared(&chunk, 0..half, &mut fresh);
        q.push_shared(&chunk, half..2 * half, &mut fresh);
        q.append(&mut fresh, |t| t.extend_from_slice(b"bye\n"));
        assert_eq!(q.segments.len(), 3, "the two ranges are one segment");
        assert_eq!((q.len(), q.queued()), (total, total as u64));
        let all = written(&q, u64::MAX);
        assert!(all.starts_with(b"hi\nxxx") && all.ends_with(b"xxbye\n"));
        assert_eq!(written(&q, 10).len(), 10, "a cut is a position");
        let mut recycled = 0;
        q.advance(100, &mut |_| recycled += 1);
        assert_eq!((q.len(), recycled), (total - 100, 1));
        assert_eq!(written(&q, u64::MAX).len(), total - 100);
        q.advance(total - 100, &mut |_| recycled += 1);
        assert!(
            q.is_empty() && q.segments.capacity() == 0,
            "no capacity kept"
        );
        assert_eq!((recycled, q.taken()), (2, total as u64));
    }

    #[test]
    fn small_shared_bytes_are_copied_and_a_truncate_takes_back_the_tail() {
        let chunk: Chunk = Arc::from(&b"u1 logged in\n"[..]);
        let mut q = OutQueue::default();
        let mut fresh = Vec::new;
        q.push_shared(&chunk, 0..chunk.len(), &mut fresh);
        let at = q.queued();
        q.append(&mut fresh, |t| t.extend_from_slice(b"too much"));
        q.truncate(at);
        assert_eq!(written(&q, u64::MAX), b"u1 logged in\n");
        assert!(matches!(q.segments.back(), Some(Segment::Owned(_))));
        q.advance(q.len(), &mut |_| {});
        let at = q.queued();
        q.append(&mut fresh, |t| t.extend_from_slice(b"over the cap"));
        q.truncate(at);
        assert!(
            q.is_empty() && q.segments.is_empty(),
            "an emptied tail is not kept"
        );
    }
}
