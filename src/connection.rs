//! One client socket with its codec and bounded output buffer. Buffers are allocated on first
//! use and released when empty, so an idle connection costs a few dozen bytes.

use crate::codec::{Boundary, Codec};
use crate::event::{Event, Shared};
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
}

/// How a connection is to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    Open,
    /// Flush what is queued, then close (redis CLIENT_CLOSE_AFTER_REPLY); the server drops it
    /// anyway at its closing deadline if the peer never reads.
    AfterFlush,
}

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
    pub closing: Closing,
    /// On the loop's dirty list already.
    pub dirty: bool,
    /// The core asked to hear when the output is all written.
    pub notify_flushed: bool,
    /// An event said the peer shut down its side: read until EOF.
    pub peer_closed: bool,
}

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
            closing: Closing::Open,
            dirty: false,
            notify_flushed: false,
            peer_closed: false,
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
            Boundary::Tail(n) => self.cut_around(self.out.len().saturating_sub(n).max(start)),
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

    /// Read until WouldBlock, EOF or `budget` bytes, passing each chunk to `on_data`.
    pub fn read(
        &mut self,
        scratch: &mut [u8],
        mut budget: usize,
        mut on_data: impl FnMut(&mut Codec, &[u8]),
    ) -> io::Result<ReadStatus> {
        loop {
            match self.stream.read(scratch) {
                Ok(0) => return Ok(ReadStatus::Eof),
                Ok(n) => {
                    on_data(&mut self.codec, &scratch[..n]);
                    budget = budget.saturating_sub(n);
                    if budget == 0 {
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

    /// Write until the buffer is empty or the socket would block. Returns the emptied buffer
    /// (for recycling) once everything is out.
    pub fn flush(&mut self) -> io::Result<Option<Vec<u8>>> {
        while self.written < self.out.len() {
            let end = self.cuts.first().copied().unwrap_or(self.out.len());
            match self.stream.write(&self.out[self.written..end]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.written += n;
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
        let mut buf = std::mem::take(&mut self.out);
        buf.clear();
        Ok(Some(buf))
    }
}
