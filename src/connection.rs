//! One client socket with its bounded line framer and bounded output buffer. Buffers are
//! allocated on first use and released when empty, so an idle connection costs a few dozen bytes.

use crate::chat::LineError;
use mio::net::TcpStream;
use std::io::{self, Read, Write};

/// One framed input: a complete line, or why a line was rejected.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Line(&'a str),
    Bad(LineError),
}

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

/// Splits a byte stream into lines of at most `max` bytes; keeps only the unfinished tail.
#[derive(Debug, Default)]
pub struct LineFramer {
    partial: Vec<u8>,
    /// Inside an over-long line: drop bytes up to the next newline.
    discarding: bool,
}

fn frame(mut line: &[u8], max: usize) -> Frame<'_> {
    if let Some(stripped) = line.strip_suffix(b"\r") {
        line = stripped;
    }
    if line.len() > max {
        return Frame::Bad(LineError::TooLong);
    }
    match std::str::from_utf8(line) {
        Ok(s) => Frame::Line(s),
        Err(_) => Frame::Bad(LineError::InvalidUtf8),
    }
}

impl LineFramer {
    /// Feed received bytes; `emit` gets every complete line in order.
    pub fn feed(&mut self, mut data: &[u8], max: usize, mut emit: impl FnMut(Frame<'_>)) {
        while !data.is_empty() {
            let Some(nl) = data.iter().position(|&b| b == b'\n') else {
                if !self.discarding {
                    if self.partial.len() + data.len() > max + 1 {
                        emit(Frame::Bad(LineError::TooLong));
                        self.partial = Vec::new();
                        self.discarding = true;
                    } else {
                        self.partial.extend_from_slice(data);
                    }
                }
                return;
            };
            let (seg, rest) = (&data[..nl], &data[nl + 1..]);
            data = rest;
            if std::mem::take(&mut self.discarding) {
                continue;
            }
            if self.partial.is_empty() {
                emit(frame(seg, max));
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(seg);
                emit(frame(&line, max));
            }
        }
    }

    /// End of input: an unterminated last line still counts.
    pub fn finish(&mut self, max: usize, emit: impl FnOnce(Frame<'_>)) {
        let tail = std::mem::take(&mut self.partial);
        if !tail.is_empty() && !std::mem::take(&mut self.discarding) {
            emit(frame(&tail, max));
        }
    }
}

/// How a connection is to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    Open,
    /// Flush what is queued, then close (redis CLIENT_CLOSE_AFTER_REPLY).
    AfterFlush,
}

/// A client socket and its buffers.
#[derive(Debug)]
pub struct Connection {
    pub stream: TcpStream,
    pub framer: LineFramer,
    out: Vec<u8>,
    /// Bytes of `out` already written.
    written: usize,
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
    pub fn new(stream: TcpStream) -> Connection {
        Connection {
            stream,
            framer: LineFramer::default(),
            out: Vec::new(),
            written: 0,
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

    /// Append to the output buffer (no syscall); `spare` supplies a recycled buffer if empty.
    pub fn queue(
        &mut self,
        bytes: &[u8],
        cap: usize,
        spare: impl FnOnce() -> Vec<u8>,
    ) -> Result<(), Overflow> {
        if self.pending() + bytes.len() > cap {
            return Err(Overflow);
        }
        if self.out.capacity() == 0 {
            self.out = spare();
        }
        self.out.extend_from_slice(bytes);
        Ok(())
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
        mut on_data: impl FnMut(&mut LineFramer, &[u8]),
    ) -> io::Result<ReadStatus> {
        loop {
            match self.stream.read(scratch) {
                Ok(0) => return Ok(ReadStatus::Eof),
                Ok(n) => {
                    on_data(&mut self.framer, &scratch[..n]);
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
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.written = 0;
        let mut buf = std::mem::take(&mut self.out);
        buf.clear();
        Ok(Some(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(framer: &mut LineFramer, chunks: &[&[u8]], max: usize) -> Vec<String> {
        let mut out = Vec::new();
        for c in chunks {
            framer.feed(c, max, |f| {
                out.push(match f {
                    Frame::Line(s) => format!("L:{s}"),
                    Frame::Bad(e) => format!("E:{e:?}"),
                })
            });
        }
        out
    }

    #[test]
    fn split_reads_join() {
        let mut f = LineFramer::default();
        assert_eq!(
            lines(&mut f, &[b"mes", b"sage yo", b"da hi\nwho", b"else\n"], 100),
            ["L:message yoda hi", "L:whoelse"]
        );
    }

    #[test]
    fn crlf_is_stripped_once() {
        let mut f = LineFramer::default();
        assert_eq!(
            lines(&mut f, &[b"a\r\nb\r", b"\n\r\r\n"], 100),
            ["L:a", "L:b", "L:\r"]
        );
    }

    #[test]
    fn many_lines_in_one_read() {
        let mut f = LineFramer::default();
        let data: Vec<u8> = (0..1000)
            .flat_map(|i| format!("l{i}\n").into_bytes())
            .collect();
        let got = lines(&mut f, &[&data], 100);
        assert_eq!(got.len(), 1000);
        assert_eq!(got[999], "L:l999");
    }

    #[test]
    fn over_long_line_is_reported_once_and_discarded_to_its_newline() {
        let mut f = LineFramer::default();
        let long = vec![b'x'; 40];
        assert_eq!(
            lines(&mut f, &[&long, &long, b"tail\nok\n"], 16),
            ["E:TooLong", "L:ok"]
        );
        assert_eq!(
            lines(&mut f, &[&long, b"\nafter\n"], 16),
            ["E:TooLong", "L:after"]
        );
        assert!(f.partial.capacity() <= 17, "no unbounded growth");
    }

    #[test]
    fn line_at_the_limit_passes_with_crlf() {
        let mut f = LineFramer::default();
        let mut exact = vec![b'y'; 16];
        exact.extend_from_slice(b"\r\n");
        assert_eq!(
            lines(&mut f, &[&exact], 16),
            [format!("L:{}", "y".repeat(16))]
        );
        let over = vec![b'z'; 17];
        assert_eq!(lines(&mut f, &[&over, b"\n"], 16), ["E:TooLong"]);
    }

    #[test]
    fn invalid_utf8_is_one_error_and_the_stream_goes_on() {
        let mut f = LineFramer::default();
        assert_eq!(
            lines(&mut f, &[b"\xff\xfe junk\nh\xc3", b"\xa9llo\n"], 100),
            ["E:InvalidUtf8", "L:h\u{e9}llo"]
        );
    }

    #[test]
    fn unterminated_tail_is_a_line_at_eof() {
        let mut f = LineFramer::default();
        assert!(lines(&mut f, &[b"logout"], 100).is_empty());
        let mut got = None;
        f.finish(100, |fr| got = Some(format!("{fr:?}")));
        assert_eq!(got.as_deref(), Some("Line(\"logout\")"));
    }
}
