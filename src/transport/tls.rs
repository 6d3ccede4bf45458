//! The TLS transport: a rustls session driven by hand over the non-blocking stream
//! (`read_tls` → `process_new_packets` → plaintext; plaintext → records → `write_tls`). Its
//! handshake runs inside `read`, which answers on the socket itself; nothing of the protocol's
//! output is taken before the handshake ends. rustls is a sans-IO session like our core: the
//! loop's edge-triggered rules stay the loop's. The server side carries the TLS front-ends; the
//! client side carries a cluster node's links to Redis (`rediss://`, issue 23), and opens with
//! its ClientHello from [`Tls::flush`] once the TCP connect is done. `chatclient --tls` drives
//! its sessions (the server link, both sides of peer links) with it too.

use super::Received;
use crate::queue::MAX_SLICES;
use mio::net::TcpStream;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection};
use std::io::{self, Read, Write};
use std::sync::Arc;

/// Plaintext handed to rustls per write: four full records, sent with one vectored write. It
/// is also rustls' buffer limit: a reader that never reads meets `--max-output` in the
/// connection's own buffer, and rustls holds at most this much more (as records) beside it.
const WRITE_CHUNK: usize = 64 * 1024;

/// A TCP stream carrying TLS records.
#[derive(Debug)]
pub struct Tls {
    stream: TcpStream,
    /// Either side (rustls's `Connection` is no larger than its `ServerConnection`).
    session: Connection,
    /// Bytes of records read from the socket since [`Tls::take_wire`] last took them: a
    /// reader's budget counts these as well as the plaintext they gave, since a record of one
    /// byte costs a decryption all the same.
    wire: usize,
}

/// The socket as rustls reads it, remembering whether the last read came back short (the
/// socket buffer is then empty, and the next read would only say WouldBlock).
struct Counted<'a> {
    stream: &'a mut TcpStream,
    short: bool,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.short = n < buf.len();
        Ok(n)
    }
}

/// Why a TLS session failed, inside the `io::Error` the transport returns: logged as
/// `TLS: <reason>`, and kept as rustls's error so a client can say it in the user's words.
#[derive(Debug)]
pub struct TlsError(pub rustls::Error);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TLS: {}", self.0)
    }
}

impl std::error::Error for TlsError {}

pub fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, TlsError(e))
}

impl Tls {
    /// The server side, over an accepted stream.
    pub fn new(stream: TcpStream, config: Arc<ServerConfig>) -> io::Result<Tls> {
        let session = ServerConnection::new(config).map_err(tls_error)?;
        Ok(Tls::over(stream, Connection::Server(session)))
    }

    /// The client side, over a stream connecting to `name` (checked against its certificate).
    pub fn client(
        stream: TcpStream,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> io::Result<Tls> {
        let session = ClientConnection::new(config, name).map_err(tls_error)?;
        Ok(Tls::over(stream, Connection::Client(session)))
    }

    /// Any session over `stream` (a client's, or a peer link's either side).
    pub fn over(stream: TcpStream, mut session: Connection) -> Tls {
        session.set_buffer_limit(Some(WRITE_CHUNK));
        Tls {
            stream,
            session,
            wire: 0,
        }
    }

    pub fn socket(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Decrypted plaintext first (rustls may hold some after the socket said WouldBlock: the
    /// loop's input budget stopped the last pass), then the socket, driving the handshake.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<Received> {
        // The socket gave less than asked this call: once its plaintext is taken, a read before
        // the next edge would be wasted.
        let mut drained = false;
        loop {
            match self.session.reader().read(buf) {
                Ok(0) => return Ok(Received::End { clean: true }),
                Ok(n) => {
                    let last = drained && n < buf.len();
                    return Ok(Received::Data { len: n, last });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The TCP stream ended without a close_notify: a cut that TLS would notice.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Ok(Received::End { clean: false })
                }
                Err(e) => return Err(e),
            }
            // No plaintext yet (a handshake message, a partial record): read the socket again
            // even after a short read, since the peer's FIN may have come with the same edge.
            let mut socket = Counted {
                stream: &mut self.stream,
                short: false,
            };
            match self.session.read_tls(&mut socket) {
                // The end: the reader above now says how it ended.
                Ok(0) => drained = true,
                Ok(n) => {
                    self.wire += n;
                    drained = socket.short;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Received::Empty),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            if let Err(e) = self.session.process_new_packets() {
                // rustls queued an alert saying why: one try to send it, then the error.
                let _ = self.flush();
                return Err(tls_error(e));
            }
            // Handshake messages, and answers such as a key update.
            self.flush()?;
        }
    }

    /// Encrypt up to [`WRITE_CHUNK`] of `data` into records once the ones before are out.
    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.session.is_handshaking() || !self.flush()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self
            .session
            .writer()
            .write(&data[..data.len().min(WRITE_CHUNK)])?;
        self.flush()?;
        Ok(n)
    }

    /// The same from several slices (issue 20: a connection's queue of shared chunks), up to
    /// [`WRITE_CHUNK`] in all, encrypted as one run of records.
    pub fn write_vectored(&mut self, data: &[io::IoSlice<'_>]) -> io::Result<usize> {
        if self.session.is_handshaking() || !self.flush()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let mut room = WRITE_CHUNK;
        let mut limited = [io::IoSlice::new(&[]); MAX_SLICES];
        let mut n = 0;
        for (slice, to) in data.iter().zip(&mut limited) {
            if room == 0 {
                break;
            }
            let take = slice.len().min(room);
            *to = io::IoSlice::new(&slice[..take]);
            room -= take;
            n += 1;
        }
        let n = self.session.writer().write_vectored(&limited[..n])?;
        self.flush()?;
        Ok(n)
    }

    /// Write the records rustls holds until none is left (true) or the socket would block.
    pub fn flush(&mut self) -> io::Result<bool> {
        while self.session.wants_write() {
            match self.session.write_tls(&mut self.stream) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    pub fn handshaking(&self) -> bool {
        self.session.is_handshaking()
    }

    /// The bytes of records read from the socket since the last call.
    pub fn take_wire(&mut self) -> usize {
        std::mem::take(&mut self.wire)
    }

    /// Send a `close_notify` if the socket takes it now, so the peer knows nothing was cut.
    pub fn close(&mut self) {
        self.session.send_close_notify();
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
    use rustls::{ClientConfig, ClientConnection, RootCertStore};

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    /// A server transport and a rustls client over a loopback TCP pair, with a self-signed
    /// certificate the client trusts.
    fn pair() -> (Tls, std::net::TcpStream, ClientConnection) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        let cert: CertificateDer<'static> = params.self_signed(&key).unwrap().der().clone();
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let server = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], private)
            .unwrap();
        let mut roots = RootCertStore::empty();
        roots.add(cert).unwrap();
        let client = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let near = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (far, _) = listener.accept().unwrap();
        far.set_nonblocking(true).unwrap();
        near.set_nonblocking(true).unwrap();
        let tls = Tls::new(TcpStream::from_std(far), Arc::new(server)).unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let conn = ClientConnection::new(Arc::new(client), name).unwrap();
        (tls, near, conn)
    }

    /// Move bytes both ways until neither side is handshaking.
    fn handshake(tls: &mut Tls, sock: &mut std::net::TcpStream, client: &mut ClientConnection) {
        let mut buf = [0u8; 256];
        for _ in 0..1000 {
            if !tls.handshaking() && !client.is_handshaking() {
                return;
            }
            while client.wants_write() {
                client.write_tls(sock).unwrap();
            }
            assert!(matches!(tls.read(&mut buf), Ok(Received::Empty)));
            if client.read_tls(sock).is_ok() {
                client.process_new_packets().unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("the handshake did not finish");
    }

    /// Nothing of the protocol's output is taken before the handshake; decrypted plaintext
    /// the socket no longer shows is read before the socket (the loop's budget may stop a
    /// pass with some held), and only a short socket read ends a pass without a wasted read.
    #[test]
    fn output_waits_for_the_handshake_and_held_plaintext_comes_first() {
        let (mut tls, mut sock, mut client) = pair();
        let refused = tls.write(b"too early\n").unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::WouldBlock);
        handshake(&mut tls, &mut sock, &mut client);
        client.writer().write_all(b"a\nb\nc\n").unwrap();
        while client.wants_write() {
            client.write_tls(&mut sock).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut small = [0u8; 4];
        let mut got = Vec::new();
        loop {
            match tls.read(&mut small).unwrap() {
                Received::Data { len, last } => {
                    got.extend_from_slice(&small[..len]);
                    if last {
                        break;
                    }
                }
                Received::Empty => break,
                Received::End { .. } => panic!("no end yet"),
            }
        }
        assert_eq!(got, b"a\nb\nc\n");
        assert_eq!(tls.read(&mut small).unwrap(), Received::Empty);
        assert_eq!(tls.write(b"hello\n").unwrap(), 6);
        assert!(tls.flush().unwrap(), "nothing held");
        std::thread::sleep(std::time::Duration::from_millis(20));
        client.read_tls(&mut sock).unwrap();
        client.process_new_packets().unwrap();
        let mut reply = [0u8; 6];
        client.reader().read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"hello\n");
    }
}
