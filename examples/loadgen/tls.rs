//! The load generator's TLS client side (`--tls CA.pem`): a rustls `ClientConnection` per
//! client, driven by hand over the non-blocking socket the same way as plain TCP, so every
//! workload runs unchanged over TLS against any server's TLS port (chatserver, ngIRCd, Redis).

use mio::net::TcpStream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};
use std::io::{self, Read, Write};
use std::sync::Arc;

/// Plaintext handed to rustls per write once the handshake is done: four records.
const CHUNK: usize = 64 * 1024;

/// A client configuration trusting the certificates in the PEM file `ca` (the benchmark's own
/// self-signed server certificate).
pub fn client_config(ca: &str) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| format!("--tls {ca}: {e}"))? {
        let cert = cert.map_err(|e| format!("--tls {ca}: {e}"))?;
        roots.add(cert).map_err(|e| format!("--tls {ca}: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A new client session for `localhost` (the name the benchmark certificate carries).
pub fn session(config: &Arc<ClientConfig>) -> io::Result<Box<ClientConnection>> {
    let name = ServerName::try_from("localhost").map_err(io::Error::other)?;
    let mut conn = ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
    // Plaintext written before the handshake ends waits inside rustls, however much.
    conn.set_buffer_limit(None);
    Ok(Box::new(conn))
}

/// Write the records rustls holds; true once none is left.
pub fn push(tls: &mut ClientConnection, stream: &mut TcpStream) -> io::Result<bool> {
    while tls.wants_write() {
        match tls.write_tls(stream) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Hand rustls plaintext from `out[*written..]` (all of it during the handshake, a chunk at a
/// time after) and push records until the socket would block.
pub fn send(
    tls: &mut ClientConnection,
    stream: &mut TcpStream,
    out: &[u8],
    written: &mut usize,
) -> io::Result<()> {
    while push(tls, stream)? && *written < out.len() {
        let end = if tls.is_handshaking() {
            out.len()
        } else {
            out.len().min(*written + CHUNK)
        };
        *written += tls.writer().write(&out[*written..end])?;
    }
    Ok(())
}

/// Plaintext into `buf`: `Ok(Some(n))`, `Ok(None)` when the socket has nothing more now, or
/// why the session ended.
pub fn read(
    tls: &mut ClientConnection,
    stream: &mut TcpStream,
    buf: &mut [u8],
) -> Result<Option<usize>, String> {
    loop {
        match tls.reader().read(buf) {
            Ok(0) => return Err("closed by server".into()),
            Ok(n) => return Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err("closed by server (no close_notify)".into())
            }
            Err(e) => return Err(format!("TLS read: {e}")),
        }
        match tls.read_tls(stream) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("read: {e}")),
        }
        tls.process_new_packets().map_err(|e| format!("TLS: {e}"))?;
        // Handshake messages, and the plaintext that waited for the handshake.
        push(tls, stream).map_err(|e| format!("write: {e}"))?;
    }
}
