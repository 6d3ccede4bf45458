//! TLS on a peer-to-peer link (PROTOCOL.md §4). At start a `--tls` client makes an Ed25519 key
//! that lives as long as the process and sends its fingerprint (SHA-256 of the public key, in
//! hex) with `p2p-port`; its listener speaks TLS 1.3 with that key as a raw public key (RFC
//! 7250: no certificate, nothing to expire). The server passes the fingerprint to the requester
//! at the end of the `P2P` line, and the requester's client accepts only a link whose handshake
//! is signed by the key with that fingerprint. The token then travels inside TLS and still says
//! who the requester is.

use super::provider;
use super::verify::{fingerprint, Accept, Verifier};
use chatserver::transport::tls_error;
use rustls::crypto::ring;
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::AlwaysResolvesServerRawPublicKeys;
use rustls::sign::CertifiedKey;
use rustls::version::TLS13;
use rustls::{ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection};
use std::io;
use std::net::IpAddr;
use std::sync::Arc;

/// This client's peer-to-peer key, as its listener presents it.
#[derive(Debug)]
pub struct Identity {
    config: Arc<ServerConfig>,
    fingerprint: String,
}

impl Identity {
    pub fn generate() -> Result<Identity, String> {
        let random = ::ring::rand::SystemRandom::new();
        let pkcs8 = ::ring::signature::Ed25519KeyPair::generate_pkcs8(&random)
            .map_err(|_| "TLS: cannot make a peer-to-peer key".to_string())?;
        let der = PrivatePkcs8KeyDer::from(pkcs8.as_ref().to_vec());
        let key = ring::sign::any_eddsa_type(&der).map_err(|e| format!("TLS: {e}"))?;
        let spki = key
            .public_key()
            .ok_or("TLS: the peer-to-peer key has no public key")?
            .as_ref()
            .to_vec();
        let fingerprint = fingerprint(&spki);
        let certified = CertifiedKey::new(vec![CertificateDer::from(spki)], key);
        let config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&TLS13])
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(AlwaysResolvesServerRawPublicKeys::new(Arc::new(
                certified,
            ))));
        Ok(Identity {
            config: Arc::new(config),
            fingerprint,
        })
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The server side of an incoming link.
    pub fn accept(&self) -> io::Result<Connection> {
        let session = ServerConnection::new(self.config.clone()).map_err(tls_error)?;
        Ok(Connection::Server(session))
    }
}

/// The client side of a link to the peer at `ip` whose key has the fingerprint `key`.
pub fn dial(key: &str, ip: IpAddr) -> io::Result<Connection> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&TLS13])
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(Verifier::new(Accept::Key(key.to_string())))
        // No client key: the token, sent first inside TLS, says who the requester is.
        .with_no_client_auth();
    let session =
        ClientConnection::new(Arc::new(config), ServerName::from(ip)).map_err(tls_error)?;
    Ok(Connection::Client(session))
}
