//! Transports: what carries a connection's plaintext over its TCP stream. A transport does its
//! own handshakes and its own framing of writes, and says when it still holds bytes of its
//! own; the protocol above it (line, JSON, IRC) sees plaintext only, and the loop sees neither
//! (Redis's `ConnectionType`, Ergo's `IRCConn`). `Plain` is the stream as it is; `Tls` is
//! rustls over it (behind the `tls` cargo feature, on by default), the server side for the
//! listeners and, through [`ClientTls`], the client side for a cluster node's links to Redis.
//! `Web` (behind the `web` feature) is HTTP and then a WebSocket over a `Plain` or `Tls`
//! beneath it (issue 19).

#[cfg(feature = "tls")]
mod certs;
#[cfg(feature = "tls")]
mod client;
mod plain;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "web")]
pub mod web;

#[cfg(feature = "tls")]
pub use certs::Certificates;
#[cfg(feature = "tls")]
pub use client::{trusted_roots, ClientTls};
pub use plain::Plain;
#[cfg(feature = "tls")]
pub use tls::{tls_error, Tls, TlsError};
#[cfg(feature = "web")]
pub use web::Web;

use mio::net::TcpStream;
use std::io;

/// What a listener's connections are carried over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    Plain,
    /// TLS with the server's [`Certificates`].
    Tls,
    /// HTTP, then maybe a WebSocket (issue 19), over plain TCP.
    #[cfg(feature = "web")]
    Http,
    /// The same over TLS.
    #[cfg(feature = "web")]
    Https,
}

/// This build has no TLS (the `tls` cargo feature is off), so there are never certificates:
/// the type has no values, and every use of one is unreachable by construction.
#[cfg(not(feature = "tls"))]
#[derive(Debug)]
pub enum Certificates {}

#[cfg(not(feature = "tls"))]
impl Certificates {
    pub fn load(cert: &std::path::Path, _key: &std::path::Path) -> Result<Certificates, String> {
        Err(format!(
            "TLS certificate {}: this chatserver was built without TLS (cargo feature `tls`)",
            cert.display()
        ))
    }

    pub fn reload(
        &mut self,
        _files: Option<(std::path::PathBuf, std::path::PathBuf)>,
    ) -> Result<String, String> {
        match *self {}
    }

    fn accept(&self, _: TcpStream) -> io::Result<Transport> {
        match *self {}
    }
}

/// What one read from a transport gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Plaintext in the buffer's first `len` bytes. `last`: the transport knows nothing more
    /// is waiting now (the socket gave less than asked and nothing decoded is held), so a read
    /// before the next readiness edge would be a wasted system call.
    Data { len: usize, last: bool },
    /// Nothing now: wait for the next readiness edge.
    Empty,
    /// The peer ended its side. `clean` is false when the end may have cut the stream short
    /// of what the peer sent (a TLS peer that closed without `close_notify`).
    End { clean: bool },
}

/// One connection's transport.
#[derive(Debug)]
pub enum Transport {
    Plain(Plain),
    #[cfg(feature = "tls")]
    Tls(Box<Tls>),
    #[cfg(feature = "web")]
    Web(Box<Web>),
}

impl Transport {
    /// A transport of `kind` over a freshly accepted `stream` (TLS with `certs`).
    pub fn new(
        kind: TransportKind,
        stream: TcpStream,
        certs: Option<&Certificates>,
        peer: std::net::SocketAddr,
    ) -> io::Result<Transport> {
        #[cfg(not(feature = "web"))]
        let _ = peer;
        match (kind, certs) {
            (TransportKind::Plain, _) => Ok(Transport::Plain(Plain::new(stream))),
            (TransportKind::Tls, Some(certs)) => certs.accept(stream),
            #[cfg(feature = "web")]
            (TransportKind::Http, _) => {
                let inner = Transport::Plain(Plain::new(stream));
                Ok(Transport::Web(Box::new(Web::new(inner, peer))))
            }
            #[cfg(feature = "web")]
            (TransportKind::Https, Some(certs)) => {
                let inner = certs.accept(stream)?;
                Ok(Transport::Web(Box::new(Web::new(inner, peer))))
            }
            #[cfg(feature = "web")]
            (TransportKind::Https, None) => Err(io::Error::other(
                "an HTTPS listener without a certificate (Server::with_certificates)",
            )),
            (TransportKind::Tls, None) => Err(io::Error::other(
                "a TLS listener without a certificate (Server::with_certificates)",
            )),
        }
    }

    /// The web transport, for the loop's HTTP steps (issue 19).
    #[cfg(feature = "web")]
    pub fn web(&mut self) -> Option<&mut Web> {
        match self {
            Transport::Web(w) => Some(w),
            Transport::Plain(_) => None,
            #[cfg(feature = "tls")]
            Transport::Tls(_) => None,
        }
    }

    /// A short name for logs and `/metrics`: `plain`, `tls`, `ws`, `wss`, `http`, `https`.
    pub fn name(&self) -> &'static str {
        match self {
            Transport::Plain(_) => "plain",
            #[cfg(feature = "tls")]
            Transport::Tls(_) => "tls",
            #[cfg(feature = "web")]
            Transport::Web(w) => match (w.is_websocket(), w.inner_is_tls()) {
                (true, false) => "ws",
                (true, true) => "wss",
                (false, false) => "http",
                (false, true) => "https",
            },
        }
    }

    /// The socket, for the poll's registration.
    pub fn socket(&mut self) -> &mut TcpStream {
        match self {
            Transport::Plain(p) => p.socket(),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.socket(),
            #[cfg(feature = "web")]
            Transport::Web(w) => w.socket(),
        }
    }

    /// Read plaintext into `buf` (drives the transport's own handshake on the way).
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<Received> {
        match self {
            Transport::Plain(p) => p.read(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.read(buf),
            #[cfg(feature = "web")]
            Transport::Web(w) => w.read(buf),
        }
    }

    /// Send from `data`: how many plaintext bytes the transport took (`WouldBlock` when it
    /// can take none now, e.g. during its handshake). A transport takes a write as one unit
    /// of its framing, so a protocol's write boundary stays a boundary.
    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(p) => p.write(data),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.write(data),
            #[cfg(feature = "web")]
            Transport::Web(w) => w.write(data),
        }
    }

    /// [`Transport::write`] from several slices at once (a connection's queue of shared
    /// chunks and owned tails, issue 20): one `writev` for the plain transport, one run of
    /// records for TLS, one `writev` of frames for a WebSocket. `pack` is a buffer the loop
    /// lends for the write (one for all connections, so it keeps its capacity and no write
    /// allocates): a WebSocket copies its small frames into it; its contents on return mean
    /// nothing.
    pub fn write_vectored(
        &mut self,
        data: &[io::IoSlice<'_>],
        pack: &mut Vec<u8>,
    ) -> io::Result<usize> {
        #[cfg(not(feature = "web"))]
        let _ = pack;
        match self {
            Transport::Plain(p) => p.write_vectored(data),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.write_vectored(data),
            // A WebSocket frames the slices' lines (a slice, shared chunk or owned tail,
            // holds whole renderings) and writes them in one vectored write.
            #[cfg(feature = "web")]
            Transport::Web(w) => w.write_vectored(data, pack),
        }
    }

    /// Push out what the transport holds of its own (encrypted records): true once nothing
    /// is left, false when the socket would block first.
    pub fn flush(&mut self) -> io::Result<bool> {
        match self {
            Transport::Plain(_) => Ok(true),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.flush(),
            #[cfg(feature = "web")]
            Transport::Web(w) => w.flush(),
        }
    }

    /// Still in its own handshake: nothing the protocol queued can leave yet.
    pub fn handshaking(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.handshaking(),
            #[cfg(feature = "web")]
            Transport::Web(w) => w.handshaking(),
        }
    }

    /// The connection is being dropped: say goodbye where the transport has a way to
    /// (best effort, never blocking).
    pub fn close(&mut self) {
        match self {
            Transport::Plain(_) => {}
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.close(),
            #[cfg(feature = "web")]
            Transport::Web(w) => w.close(),
        }
    }

    /// `--heartbeat` found the peer silent: a transport with a keepalive of its own uses it
    /// (a WebSocket ping), whatever the protocol above renders.
    pub fn keepalive(&mut self) {
        #[cfg(feature = "web")]
        if let Transport::Web(w) = self {
            w.keepalive();
        }
    }

    /// Bytes taken off the socket since the last call, where they can be many more than the
    /// plaintext they gave (TLS records of one byte each); 0 for plain TCP, where they are the
    /// plaintext.
    pub fn take_wire(&mut self) -> usize {
        match self {
            Transport::Plain(_) => 0,
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.take_wire(),
            #[cfg(feature = "web")]
            Transport::Web(w) => w.take_wire(),
        }
    }

    /// The transport heard from the peer without any plaintext (a WebSocket pong) since the
    /// last call: life for `--heartbeat`.
    pub fn take_heard(&mut self) -> bool {
        match self {
            #[cfg(feature = "web")]
            Transport::Web(w) => w.take_heard(),
            Transport::Plain(_) => false,
            #[cfg(feature = "tls")]
            Transport::Tls(_) => false,
        }
    }

    /// Its closing handshake waits for the peer's answer (a WebSocket close frame sent).
    pub fn awaits_close(&self) -> bool {
        match self {
            #[cfg(feature = "web")]
            Transport::Web(w) => w.awaits_close(),
            Transport::Plain(_) => false,
            #[cfg(feature = "tls")]
            Transport::Tls(_) => false,
        }
    }

    /// All output is out and the connection is to close: true while the transport's own
    /// closing handshake still waits for the peer (a WebSocket close frame's answer).
    pub fn close_handshake(&mut self) -> bool {
        match self {
            #[cfg(feature = "web")]
            Transport::Web(w) => w.close_handshake(),
            Transport::Plain(_) => false,
            #[cfg(feature = "tls")]
            Transport::Tls(_) => false,
        }
    }
}
