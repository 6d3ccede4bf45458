//! `--tls` (issue 18): the server connection and the peer links over TLS, with rustls (ring).
//! The server's certificate is checked against the system's CA bundle or `--ca FILE`
//! ([`trust`]); a peer link is TLS 1.3 with a raw public key the acceptor made at start, pinned
//! by the requester to the fingerprint the server passed on ([`peer`]); [`verify`] holds the
//! two checks other than CAs (`--insecure`, a pinned key). A [`Stream`] is the server's own TLS
//! transport over the non-blocking socket, behind the same calls as plain TCP.

mod peer;
mod trust;
mod verify;

use crate::screen::show;
use crate::Trust;
use chatserver::transport::{tls_error, Received, Tls, TlsError as TlsFailure};
use mio::net::TcpStream;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConfig, ClientConnection, Connection, Error as TlsError};
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long the first handshake with the server may take before the client gives up.
const HANDSHAKE_WAIT: Duration = Duration::from_secs(10);

/// What `--tls` sets up once: how to reach the server and this client's peer-to-peer key.
#[derive(Debug)]
pub struct Settings {
    server: Arc<ClientConfig>,
    /// The name (or address) the server's certificate must be for: HOST as typed.
    name: ServerName<'static>,
    peer: peer::Identity,
}

impl Settings {
    /// Read the CA certificates and make this run's peer-to-peer key. `--insecure` is said on
    /// screen here, before anything is sent.
    pub fn new(trust: &Trust, host: &str) -> Result<Settings, String> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| format!("--tls: {host} is not a host name or address"))?;
        let server = trust.client_config()?;
        if matches!(trust, Trust::Insecure) {
            show(trust::INSECURE_NOTICE);
        }
        Ok(Settings {
            server,
            name,
            peer: peer::Identity::generate()?,
        })
    }

    /// The first connection to the server: the handshake runs here, blocking (at most
    /// [`HANDSHAKE_WAIT`]), so a certificate that is not trusted stops the start with a reason.
    pub fn handshake(&self, mut tcp: std::net::TcpStream) -> Result<Stream, String> {
        let mut session = self.client_session().map_err(|e| e.to_string())?;
        let timeout = Some(HANDSHAKE_WAIT);
        tcp.set_read_timeout(timeout)
            .and_then(|()| tcp.set_write_timeout(timeout))
            .map_err(|e| e.to_string())?;
        while session.is_handshaking() {
            if let Err(e) = session.complete_io(&mut tcp) {
                return Err(explain(&e));
            }
        }
        tcp.set_nonblocking(true).map_err(|e| e.to_string())?;
        Ok(Stream::new(
            TcpStream::from_std(tcp),
            Connection::Client(session),
        ))
    }

    /// A reconnect to the server: the handshake runs in the loop, as the socket allows.
    pub fn connect(&self, tcp: TcpStream) -> io::Result<Stream> {
        Ok(Stream::new(tcp, Connection::Client(self.client_session()?)))
    }

    fn client_session(&self) -> io::Result<ClientConnection> {
        ClientConnection::new(self.server.clone(), self.name.clone()).map_err(tls_error)
    }

    /// An incoming peer link: TLS with this client's peer-to-peer key.
    pub fn accept_peer(&self, tcp: TcpStream) -> io::Result<Stream> {
        Ok(Stream::new(tcp, self.peer.accept()?))
    }

    /// The fingerprint to send with `p2p-port`, for the server to pass on to requesters.
    pub fn peer_key(&self) -> &str {
        self.peer.fingerprint()
    }
}

/// An outgoing peer link to the client at `ip` whose key has this fingerprint (from the `P2P`
/// line); the TCP connect may still be under way.
pub fn dial_peer(tcp: TcpStream, ip: IpAddr, key: &str) -> io::Result<Stream> {
    Ok(Stream::new(tcp, peer::dial(key, ip)?))
}

/// The reason a handshake failed, in words for the user.
pub fn explain(e: &io::Error) -> String {
    let inner = e.get_ref();
    let tls = inner
        .and_then(|i| i.downcast_ref::<TlsError>())
        .or_else(|| {
            inner
                .and_then(|i| i.downcast_ref::<TlsFailure>())
                .map(|f| &f.0)
        });
    let Some(tls) = tls else {
        return e.to_string();
    };
    match tls {
        TlsError::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the server's certificate is not signed by a CA this client trusts \
             (give --ca FILE with the CA that signed it)"
                .to_string()
        }
        TlsError::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "the server's certificate is not for this host name".to_string(),
        TlsError::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "the server's certificate has expired".to_string(),
        // webpki's `CaUsedAsEndEntity`, which rustls passes on only as an opaque error.
        TlsError::InvalidCertificate(CertificateError::Other(other))
            if other.to_string().contains("CaUsedAsEndEntity") =>
        {
            "the server's certificate is marked as a CA's, not a server's (a self-signed one \
             made with `openssl req -x509` needs `-addext basicConstraints=critical,CA:FALSE`)"
                .to_string()
        }
        TlsError::InvalidMessage(_) | TlsError::InappropriateMessage { .. } => {
            "the server does not speak TLS on this port (is it its --tls-port?)".to_string()
        }
        other => other.to_string(),
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// A TCP stream carrying TLS records: the client side of the server connection or of a peer
/// link, or the server side of a peer link. The server's own TLS transport drives it; this
/// gives it the plain stream's calls.
#[derive(Debug)]
pub struct Stream(Tls);

impl Stream {
    fn new(tcp: TcpStream, session: Connection) -> Stream {
        Stream(Tls::over(tcp, session))
    }

    pub fn tcp(&self) -> &TcpStream {
        self.0.stream()
    }

    pub fn tcp_mut(&mut self) -> &mut TcpStream {
        self.0.socket()
    }

    /// Plaintext rustls holds first, then the socket (driving the handshake). `Ok(0)` is the
    /// end, with or without a `close_notify`; `WouldBlock` means the socket is drained.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf)? {
            Received::Data { len, .. } => Ok(len),
            Received::Empty => Err(io::ErrorKind::WouldBlock.into()),
            Received::End { .. } => Ok(0),
        }
    }

    /// Take plaintext once the handshake is done and no records are waiting; `WouldBlock`
    /// before (the bytes stay in the `Sock`, counted as not sent).
    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.write(data)
    }

    /// Write the records rustls holds; `true` once none is left and the handshake is done,
    /// which is when plaintext handed over earlier has reached the kernel.
    pub fn flush(&mut self) -> io::Result<bool> {
        Ok(self.0.flush()? && !self.0.handshaking())
    }

    /// A `close_notify`, if the socket takes it now, so the peer knows nothing was cut.
    pub fn close(&mut self) {
        self.0.close();
    }

    /// The handshake is not done yet: nothing written has left as plaintext.
    pub fn handshaking(&self) -> bool {
        self.0.handshaking()
    }
}
