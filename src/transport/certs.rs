//! The server's TLS certificate chain and private key (PEM files, `--tls-cert`/`--tls-key`):
//! loaded at start, where any problem names the file and stops the start; reloaded on SIGHUP
//! (certbot renewals), where a problem is reported and the pair in use is kept. Connections
//! hold the configuration they were accepted with, so a reload never touches an open one.
//!
//! Safe defaults only: TLS 1.3 and 1.2 with rustls' ring cipher suites (forward-secret AEAD
//! only), no client certificates, and no renegotiation (rustls has none).

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
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
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

    /// Read the files again for connections accepted from now on (SIGHUP). On error the pair
    /// in use stays; the error says why. On success, says what was loaded.
    pub fn reload(&mut self) -> Result<String, String> {
        self.config = server_config(&self.cert, &self.key)?;
        warn_if_readable_by_others(&self.key);
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
