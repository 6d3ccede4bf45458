//! A test PKI made inside the test (rcgen): a CA, server certificates it signs for
//! `localhost` and 127.0.0.1 written as PEM files, and a client configuration that trusts
//! that CA alone. Nothing is shared between tests or left on disk.
#![allow(dead_code)]

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A certificate authority and the directory its files go to.
pub struct Pki {
    pub dir: PathBuf,
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// Where a server certificate and its key were written.
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("chatserver-pki-{}-{n}-{name}", std::process::id()));
        fs::create_dir_all(&dir).expect("PKI directory");
        let mut params = CertificateParams::new(Vec::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("chatserver test CA {name}"));
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key"))
            .expect("CA certificate");
        Pki { dir, ca }
    }

    /// A server certificate for `localhost` and 127.0.0.1 with a fresh key, written to
    /// `<file>.cert.pem` and `<file>.key.pem` (the key mode 0600).
    pub fn issue(&self, file: &str) -> Pair {
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .expect("server parameters");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("server key");
        let cert = params
            .signed_by(&key, &self.ca)
            .expect("server certificate");
        let pair = Pair {
            cert: self.dir.join(format!("{file}.cert.pem")),
            key: self.dir.join(format!("{file}.key.pem")),
        };
        write_private(&pair.key, &key.serialize_pem());
        fs::write(&pair.cert, cert.pem()).expect("write certificate");
        pair
    }

    /// This CA's certificate as a PEM file (`--cluster-ca`), written on each call.
    pub fn ca_file(&self) -> PathBuf {
        let path = self.dir.join("ca.pem");
        fs::write(&path, self.ca.pem()).expect("write CA certificate");
        path
    }

    /// A client configuration trusting this CA only.
    pub fn client(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        let ca = CertificateDer::from_pem_slice(self.ca.pem().as_bytes()).expect("CA PEM");
        roots.add(ca).expect("CA in the root store");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Write `text` to `path` readable by its owner only (as a key should be).
pub fn write_private(path: &Path, text: &str) {
    fs::write(path, text).expect("write key");
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).expect("chmod key");
}

/// The `--tls-*` flags serving `pair` on every TLS port (the ports are `0`).
pub fn tls_args(pair: &Pair) -> Vec<String> {
    let mut args: Vec<String> = [
        "--tls-port",
        "0",
        "--json-tls-port",
        "0",
        "--irc-tls-port",
        "0",
    ]
    .map(String::from)
    .to_vec();
    args.push("--tls-cert".into());
    args.push(pair.cert.display().to_string());
    args.push("--tls-key".into());
    args.push(pair.key.display().to_string());
    args
}
