//! Which server certificates `--tls` accepts: one signed by a CA of the system's bundle
//! (`$SSL_CERT_FILE`, else the distribution's, as a cluster node finds it) or of `--ca FILE`,
//! for the host name typed; or, with `--insecure`, any (said on screen at start).

use super::provider;
use super::verify::{Accept, Verifier};
use crate::Trust;
use chatserver::transport::trusted_roots;
use rustls::{ClientConfig, ALL_VERSIONS};
use std::sync::Arc;

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
            Trust::System => builder.with_root_certificates(trusted_roots(None)?),
            Trust::Ca(file) => builder.with_root_certificates(trusted_roots(Some(file))?),
            Trust::Insecure => builder
                .dangerous()
                .with_custom_certificate_verifier(Verifier::new(Accept::AnyCertificate)),
        };
        Ok(Arc::new(config.with_no_client_auth()))
    }
}
