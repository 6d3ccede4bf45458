//! A non-blocking socket with a bounded output buffer: the server connection and every peer
//! link are one of these. The client keeps its own (the server's `Connection` carries server-side
//! codec and ids the client has no use for). The bytes travel over a [`Transport`], plain TCP or
//! TLS, so the loop and the link code do not know which.

use crate::tls;
use mio::event::Source;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::net::Shutdown;

/// The byte stream under a [`Sock`].
#[derive(Debug)]
pub enum Transport {
    Plain(TcpStream),
    /// `--tls` (and a peer link to a client that takes TLS links only): a rustls session over
    /// the same socket, its handshake driven by the reads and flushes below.
    Tls(Box<tls::Stream>),
}

impl Transport {
    /// A TLS handshake still under way (never for plain TCP).
    pub fn handshaking(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            Transport::Tls(s) => s.handshaking(),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.read(buf),
            Transport::Tls(s) => s.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.write(buf),
            Transport::Tls(s) => s.write(buf),
        }
    }

    /// Push out what the transport holds beyond the socket (TLS records); `true` once nothing
    /// is held and everything taken by `write` is in the kernel.
    fn flush(&mut self) -> io::Result<bool> {
        match self {
            Transport::Plain(_) => Ok(true),
            Transport::Tls(s) => s.flush(),
        }
    }

    /// Before a half-close: TLS says it is done (`close_notify`), so the end is not a cut.
    fn close(&mut self) {
        match self {
            Transport::Plain(_) => {}
            Transport::Tls(s) => s.close(),
        }
    }

    /// The TCP socket underneath (for readiness, connect state and shutdown).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(s) => s,
            Transport::Tls(s) => s.tcp(),
        }
    }

    fn tcp_mut(&mut self) -> &mut TcpStream {
        match self {
            Transport::Plain(s) => s,
            Transport::Tls(s) => s.tcp_mut(),
        }
    }
}

/// Readiness is the TCP socket's, whatever runs over it.
impl Source for Transport {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.tcp_mut().register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.tcp_mut().reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.tcp_mut().deregister(registry)
    }
}

/// Where a non-blocking connect stands (asked at a writable event).
#[derive(Debug, PartialEq, Eq)]
pub enum Connect {
    Pending,
    Done,
    Failed,
}

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
    pub stream: Transport,
    /// Bytes queued for the peer; `out[sent..]` is still to go.
    out: Vec<u8>,
    sent: usize,
    /// Of `out[..sent]`, the bytes of the last write the transport still holds as records
    /// (TLS): not in the kernel yet, so still pending.
    held: usize,
    /// Why the socket failed, if it did (a TLS handshake refused, a reset), for the user.
    pub failure: Option<String>,
}

impl Sock {
    pub fn over(stream: Transport) -> Sock {
        Sock {
            stream,
            out: Vec::new(),
            sent: 0,
            held: 0,
            failure: None,
        }
    }

    /// Whether a connect started non-blocking has finished, one way or the other. A writable
    /// event may be spurious, so "not connected yet" is [`Connect::Pending`], not a failure.
    pub fn connect_state(&self) -> Connect {
        let tcp = self.stream.tcp();
        match tcp.take_error() {
            Ok(None) => {}
            Ok(Some(_)) | Err(_) => return Connect::Failed,
        }
        match tcp.peer_addr() {
            Ok(_) => Connect::Done,
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Connect::Pending,
            Err(_) => Connect::Failed,
        }
    }

    /// No more bytes from this side; the peer reads EOF after what is already written.
    pub fn shutdown_write(&mut self) {
        self.stream.close();
        let _ = self.stream.tcp().shutdown(Shutdown::Write);
    }

    /// Bytes queued but not yet in the kernel.
    pub fn pending(&self) -> usize {
        self.out.len() - self.sent + self.held
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
                Err(e) => {
                    self.failure = Some(tls::explain(&e));
                    return ReadEnd::Closed;
                }
            }
        }
        ReadEnd::Budget
    }

    /// Write until the output is in the kernel (`Ok(true)`) or the socket would block
    /// (`Ok(false)`; so would a TLS handshake still under way).
    pub fn flush(&mut self) -> io::Result<bool> {
        let pushed = self.push();
        if let Err(e) = &pushed {
            self.failure = Some(tls::explain(e));
        }
        pushed
    }

    fn push(&mut self) -> io::Result<bool> {
        if !self.stream.flush()? {
            return Ok(false);
        }
        self.held = 0;
        while self.sent < self.out.len() {
            match self.stream.write(&self.out[self.sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.sent += n;
                    if !self.stream.flush()? {
                        self.held = n;
                        return Ok(false);
                    }
                }
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
        (
            Sock::over(Transport::Plain(TcpStream::from_std(ours))),
            theirs,
        )
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
