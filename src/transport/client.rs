//! The client side of TLS, for the connections this server opens itself (a cluster node's
//! links to Redis over `rediss://`, issue 23): whom it trusts (a CA file given, or the
//! system's bundle) and the name the server's certificate must carry. Same safe defaults as
//! the server side: TLS 1.3 and 1.2 with rustls' ring cipher suites.

use super::{Tls, Transport};
use mio::net::TcpStream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where distributions keep the system's CA bundle (what `openssl-probe` looks for first):
/// Debian and Ubuntu, Fedora and RHEL, openSUSE, Alpine.
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// A TLS client's configuration and the server name it checks.
#[derive(Clone, Debug)]
pub struct ClientTls {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl ClientTls {
    /// Trust the CA certificates in `ca` (PEM), or, without it, the system's bundle
    /// (`SSL_CERT_FILE` if set, else the distribution's); `host` (a DNS name or an IP
    /// address) must be in the server's certificate. Errors name the file.
    pub fn new(host: &str, ca: Option<&Path>) -> Result<ClientTls, String> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| format!("{host:?} is not a name TLS can check a certificate for"))?;
        let file = match ca {
            Some(file) => file.to_path_buf(),
            None => system_bundle()?,
        };
        let mut roots = RootCertStore::empty();
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&file)
            .and_then(Iterator::collect)
            .map_err(|e| format!("CA file {}: {e}", file.display()))?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(format!("CA file {}: no usable certificate", file.display()));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(ClientTls {
            config: Arc::new(config),
            name,
        })
    }

    /// A TLS transport over `stream`, which is connecting (or connected) to the server.
    pub fn connect(&self, stream: TcpStream) -> io::Result<Transport> {
        let tls = Tls::client(stream, self.config.clone(), self.name.clone())?;
        Ok(Transport::Tls(Box::new(tls)))
    }
}

fn system_bundle() -> Result<PathBuf, String> {
    if let Some(file) = std::env::var_os("SSL_CERT_FILE") {
        return Ok(PathBuf::from(file));
    }
    SYSTEM_BUNDLES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "no system CA bundle found (install ca-certificates, or name a CA file)".to_string()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_ca_file_and_a_bad_name_are_refused_by_name() {
        let dir = std::env::temp_dir().join(format!("chatserver-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let missing = dir.join("missing.pem");
        let e = ClientTls::new("127.0.0.1", Some(&missing)).unwrap_err();
        assert!(
            e.starts_with(&format!("CA file {}", missing.display())),
            "{e}"
        );
        let e = ClientTls::new("127.0.0.1", Some(&empty)).unwrap_err();
        assert!(e.contains("no usable certificate"), "{e}");
        let e = ClientTls::new("bad name!", Some(&empty)).unwrap_err();
        assert!(e.contains("not a name"), "{e}");
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["redis.test".to_string()]).unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, params.self_signed(&key).unwrap().pem()).unwrap();
        assert!(ClientTls::new("redis.test", Some(&ca)).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
