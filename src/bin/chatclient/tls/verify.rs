//! The two ways `chatclient` checks a TLS server other than against CAs: `--insecure` (any
//! certificate) and a peer link (exactly the raw public key the server announced). One verifier,
//! since both differ only in what they accept.

use super::provider;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, verify_tls13_signature_with_raw_key,
    CryptoProvider,
};
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::{DigitallySignedStruct, Error as TlsError, PeerMisbehaved, SignatureScheme};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The SHA-256 of a public key (its DER `SubjectPublicKeyInfo`), in lowercase hex.
pub fn fingerprint(spki: &[u8]) -> String {
    hex::encode(Sha256::digest(spki))
}

/// What a server's end-entity key is accepted for.
#[derive(Debug)]
pub enum Accept {
    /// `--insecure`: any certificate, though the handshake must still be signed by its key
    /// (which proves nothing about who holds it).
    AnyCertificate,
    /// A peer link: a raw public key (RFC 7250) with this fingerprint, and nothing else.
    Key(String),
}

#[derive(Debug)]
pub struct Verifier {
    accept: Accept,
    provider: Arc<CryptoProvider>,
}

impl Verifier {
    pub fn new(accept: Accept) -> Arc<Verifier> {
        Arc::new(Verifier {
            accept,
            provider: provider(),
        })
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        match &self.accept {
            Accept::AnyCertificate => Ok(ServerCertVerified::assertion()),
            Accept::Key(pinned) if fingerprint(end_entity.as_ref()) == *pinned => {
                Ok(ServerCertVerified::assertion())
            }
            Accept::Key(_) => Err(TlsError::General(
                "the peer's key is not the one the server announced".into(),
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algorithms = &self.provider.signature_verification_algorithms;
        match self.accept {
            Accept::AnyCertificate => verify_tls12_signature(message, cert, dss, algorithms),
            // Peer links are TLS 1.3 only (raw public keys are), so this is never reached.
            Accept::Key(_) => Err(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into()),
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algorithms = &self.provider.signature_verification_algorithms;
        match self.accept {
            Accept::AnyCertificate => verify_tls13_signature(message, cert, dss, algorithms),
            Accept::Key(_) => {
                let spki = SubjectPublicKeyInfoDer::from(cert.as_ref());
                verify_tls13_signature_with_raw_key(message, &spki, dss, algorithms)
            }
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        matches!(self.accept, Accept::Key(_))
    }
}
