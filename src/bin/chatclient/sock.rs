//! A non-blocking TCP socket with a bounded output buffer: the server connection and every peer
//! link are one of these. The client keeps its own (the server's `Connection` carries server-side
//! codec and ids the client has no use for).

use mio::net::TcpStream;
use std::io::{self, Read, Write};

/// How a read pass ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadEnd {
    /// Drained until WouldBlock: the next readiness event brings more.
    Drained,
    /// Stopped at the budget: more may be waiting, and no new event will say so (mio is
    /// edge-triggered), so the caller must come back.
    Budget,
    /// EOF or an error: the socket is finished.
    Closed,
}

#[derive(Debug)]
pub struct Sock {
    pub stream: TcpStream,
    /// Bytes queued for the peer; `out[sent..]` is still to go.
    out: Vec<u8>,
    sent: usize,
}

impl Sock {
    pub fn new(stream: TcpStream) -> Sock {
        Sock {
            stream,
            out: Vec::new(),
            sent: 0,
        }
    }

    /// Bytes queued but not yet written.
    pub fn pending(&self) -> usize {
        self.out.len() - self.sent
    }

    /// Append to the output (no syscall); `false`, queuing nothing, if that would pass `cap`.
    pub fn queue(&mut self, bytes: &[u8], cap: usize) -> bool {
        if self.pending() + bytes.len() > cap {
            return false;
        }
        self.out.extend_from_slice(bytes);
        true
    }

    /// Read until WouldBlock, EOF or about `budget` bytes, appending to `into`.
    pub fn read_into(&mut self, scratch: &mut [u8], budget: usize, into: &mut Vec<u8>) -> ReadEnd {
        let start = into.len();
        while into.len() - start < budget {
            match self.stream.read(scratch) {
                Ok(0) => return ReadEnd::Closed,
                Ok(n) => into.extend_from_slice(&scratch[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadEnd::Drained,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return ReadEnd::Closed,
            }
        }
        ReadEnd::Budget
    }

    /// Write until the output is empty (`Ok(true)`) or the socket would block (`Ok(false)`).
    pub fn flush(&mut self) -> io::Result<bool> {
        while self.sent < self.out.len() {
            match self.stream.write(&self.out[self.sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out = Vec::new();
        self.sent = 0;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream as StdStream};

    /// Our non-blocking side of a loopback connection, and the peer's blocking side.
    fn pair() -> (Sock, StdStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = StdStream::connect(listener.local_addr().unwrap()).unwrap();
        let (theirs, _) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        (Sock::new(TcpStream::from_std(ours)), theirs)
    }

    fn read_until(sock: &mut Sock, want: usize, budget: usize) -> (Vec<u8>, Vec<ReadEnd>) {
        let (mut got, mut ends, mut scratch) = (Vec::new(), Vec::new(), [0u8; 4096]);
        while got.len() < want {
            ends.push(sock.read_into(&mut scratch, budget, &mut got));
        }
        (got, ends)
    }

    #[test]
    fn reads_stop_at_the_budget_and_at_eof() {
        let (mut sock, mut peer) = pair();
        peer.write_all(&[7u8; 64 * 1024]).unwrap();
        let (got, ends) = read_until(&mut sock, 64 * 1024, 8 * 1024);
        assert_eq!(got.len(), 64 * 1024);
        assert!(ends.contains(&ReadEnd::Budget));
        drop(peer);
        let mut scratch = [0u8; 16];
        let mut rest = Vec::new();
        let mut end = sock.read_into(&mut scratch, 1024, &mut rest);
        while end == ReadEnd::Drained {
            std::thread::sleep(std::time::Duration::from_millis(5));
            end = sock.read_into(&mut scratch, 1024, &mut rest);
        }
        assert_eq!(end, ReadEnd::Closed);
    }

    #[test]
    fn output_is_capped_and_flushed_in_order() {
        let (mut sock, mut peer) = pair();
        assert!(sock.queue(b"hello ", 10));
        assert!(!sock.queue(b"world", 10), "past the cap: refused whole");
        assert!(sock.queue(b"you\n", 10));
        assert_eq!(sock.pending(), 10);
        assert!(sock.flush().unwrap());
        assert_eq!(sock.pending(), 0);
        let mut buf = [0u8; 10];
        peer.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hello you\n");
    }
}
