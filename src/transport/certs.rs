//! The server's TLS certificate chain and private key (PEM files, `--tls-cert`/`--tls-key`):
//! loaded at start, where any problem names the file and stops the start; reloaded on SIGHUP
//! (certbot renewals), where a problem is reported and the pair in use is kept. Connections
//! hold the configuration they were accepted with, so a reload never touches an open one.
//!
//! Safe defaults only: TLS 1.3 and 1.2 with rustls' ring cipher suites (forward-secret AEAD
//! only, in the server's order of preference), no client certificates, and no renegotiation
//! (rustls has none).

use super::{Tls, Transport};
use mio::net::TcpStream;
use rustls::crypto::ring;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{Error as TlsError, InconsistentKeys, ServerConfig};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The certificate and key every TLS listener presents, and where they were read from.
#[derive(Debug)]
pub struct Certificates {
    cert: PathBuf,
    key: PathBuf,
    config: Arc<ServerConfig>,
}

/// Why a PEM file gave nothing usable, in words for an operator.
fn pem_problem(e: pem::Error, what: &str) -> String {
    match e {
        pem::Error::Io(e) => e.to_string(),
        pem::Error::NoItemsFound => format!("no PEM {what} in it"),
        other => format!("not a valid PEM file: {other}"),
    }
}

/// Read both files and build the rustls configuration; every error names its file.
fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let cert_error = |why: String| format!("TLS certificate {}: {why}", cert.display());
    let key_error = |why: String| format!("TLS key {}: {why}", key.display());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| cert_error(pem_problem(e, "certificate")))?
        .collect::<Result<_, _>>()
        .map_err(|e| cert_error(pem_problem(e, "certificate")))?;
    if chain.is_empty() {
        return Err(cert_error("no PEM certificate in it".into()));
    }
    let private =
        PrivateKeyDer::from_pem_file(key).map_err(|e| key_error(pem_problem(e, "private key")))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| match e {
            TlsError::InconsistentKeys(InconsistentKeys::KeyMismatch) => key_error(format!(
                "does not belong to the certificate {}",
                cert.display()
            )),
            other => key_error(other.to_string()),
        })?;
    // Choose the cipher suite by our order (AEADs, strongest first), not the client's.
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

impl Certificates {
    /// Load the pair for the start of the server: an error here stops the start.
    pub fn load(cert: &Path, key: &Path) -> Result<Certificates, String> {
        let config = server_config(cert, key)?;
        warn_if_readable_by_others(key);
        Ok(Certificates {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            config,
        })
    }

    /// Read the files again (at `files` if the configuration now names others) for
    /// connections accepted from now on (SIGHUP). On error the pair in use stays; the error
    /// says why. On success, says what was loaded.
    pub fn reload(&mut self, files: Option<(PathBuf, PathBuf)>) -> Result<String, String> {
        let (cert, key) = files.unwrap_or_else(|| (self.cert.clone(), self.key.clone()));
        self.config = server_config(&cert, &key)?;
        warn_if_readable_by_others(&key);
        (self.cert, self.key) = (cert, key);
        Ok(format!(
            "TLS certificate {} and key {} reloaded",
            self.cert.display(),
            self.key.display()
        ))
    }

    /// A TLS transport over a freshly accepted stream, with the pair loaded last.
    pub fn accept(&self, stream: TcpStream) -> io::Result<Transport> {
        Ok(Transport::Tls(Box::new(Tls::new(
            stream,
            self.config.clone(),
        )?)))
    }
}

/// A private key anyone on the machine may read is a key to replace: say so (group-readable
/// is the Debian `ssl-cert` convention, and fine).
fn warn_if_readable_by_others(key: &Path) {
    if let Ok(meta) = std::fs::metadata(key) {
        let mode = meta.permissions().mode();
        if mode & 0o004 != 0 {
            log::warn!(
                "TLS key {} is readable by others (mode {:o}): chmod o-r it",
                key.display(),
                mode & 0o777
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{ClientConfig, ClientConnection, RootCertStore};

    /// A handshake between `client` and `server` in memory; the suite they agreed on.
    fn agree(server: Arc<ServerConfig>, client: ClientConfig) -> rustls::SupportedCipherSuite {
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut c = ClientConnection::new(Arc::new(client), name).unwrap();
        let mut s = rustls::ServerConnection::new(server).unwrap();
        for _ in 0..10 {
            let mut wire = Vec::new();
            c.write_tls(&mut wire).unwrap();
            s.read_tls(&mut &wire[..]).unwrap();
            s.process_new_packets().unwrap();
            wire.clear();
            s.write_tls(&mut wire).unwrap();
            c.read_tls(&mut &wire[..]).unwrap();
            c.process_new_packets().unwrap();
        }
        assert!(!c.is_handshaking() && !s.is_handshaking());
        s.negotiated_cipher_suite().unwrap()
    }

    /// The server picks the suite by its own order (testssl.sh rates a server that follows the
    /// client's order HIGH): a client preferring ChaCha20 still gets AES-256-GCM, on TLS 1.3
    /// and on TLS 1.2.
    #[test]
    fn the_server_chooses_the_cipher_suite_by_its_own_order() {
        let dir = std::env::temp_dir().join(format!("chatserver-certs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        let server = server_config(&cert_file, &key_file).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let mut roots = RootCertStore::empty();
        roots.add(cert.der().clone()).unwrap();
        use rustls::crypto::ring::cipher_suite::{
            TLS13_AES_256_GCM_SHA384, TLS13_CHACHA20_POLY1305_SHA256,
            TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        };
        let cases = [
            (
                &rustls::version::TLS13,
                [TLS13_CHACHA20_POLY1305_SHA256, TLS13_AES_256_GCM_SHA384],
            ),
            (
                &rustls::version::TLS12,
                [
                    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                ],
            ),
        ];
        for (version, chacha_first) in cases {
            let provider = rustls::crypto::CryptoProvider {
                cipher_suites: chacha_first.to_vec(),
                ..ring::default_provider()
            };
            let client = ClientConfig::builder_with_provider(Arc::new(provider))
                .with_protocol_versions(&[version])
                .unwrap()
                .with_root_certificates(roots.clone())
                .with_no_client_auth();
            assert_eq!(agree(server.clone(), client), chacha_first[1]);
        }
    }
}
