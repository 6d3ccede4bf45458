//! Which server certificates `--tls` accepts: one signed by a CA of the system's bundle
//! (`$SSL_CERT_FILE`, else Debian's `/etc/ssl/certs/ca-certificates.crt`) or of `--ca FILE`,
//! for the host name typed; or, with `--insecure`, any (said on screen at start).

use super::provider;
use super::verify::{Accept, Verifier};
use crate::Trust;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore, ALL_VERSIONS};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the system's CA certificates are on Debian and its derivatives.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

pub const INSECURE_NOTICE: &str = "Warning: --insecure: the server's certificate is not \
    checked, so anyone on the way can pose as the server and read what you send, passwords \
    included\n";

impl Trust {
    /// The rustls configuration for the server connection: TLS 1.3 and 1.2, no client
    /// certificate.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(ALL_VERSIONS)
            .map_err(|e| format!("TLS: {e}"))?;
        let config = match self {
            Trust::System => {
                let bundle = std::env::var_os("SSL_CERT_FILE")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(SYSTEM_BUNDLE));
                builder.with_root_certificates(roots(&bundle, "the system's CA bundle")?)
            }
            Trust::Ca(file) => builder.with_root_certificates(roots(file, "--ca")?),
            Trust::Insecure => builder
                .dangerous()
                .with_custom_certificate_verifier(Verifier::new(Accept::AnyCertificate)),
        };
        Ok(Arc::new(config.with_no_client_auth()))
    }
}

/// The CA certificates in a PEM file; an error names the file.
fn roots(file: &Path, what: &str) -> Result<RootCertStore, String> {
    let problem = |why: String| format!("{what} {}: {why}", file.display());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
        .map_err(|e| problem(pem_problem(e)))?
        .collect::<Result<_, _>>()
        .map_err(|e| problem(pem_problem(e)))?;
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(certs);
    if store.is_empty() {
        return Err(problem("no CA certificate in it".into()));
    }
    Ok(store)
}

fn pem_problem(e: pem::Error) -> String {
    match e {
        pem::Error::Io(e) => e.to_string(),
        other => format!("not a PEM file of certificates: {other}"),
    }
}
