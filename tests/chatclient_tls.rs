//! `chatclient --tls` against the real server (issue 18, PROTOCOL.md §4): the server's
//! certificate checked against `--ca` (a CA made in the test), a wrong CA refused with a reason,
//! `--insecure` connecting and saying so, reconnects over TLS after a restart, and peer links over
//! TLS pinned to the key the server passed on, so an impostor at the peer's address gets neither
//! the token nor a message.
#![cfg(feature = "tls")]

mod chatclient_util;
mod common;
mod tls_util;

use chatclient_util::Client as ChatClient;
use common::Server;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::AlwaysResolvesServerRawPublicKeys;
use rustls::sign::CertifiedKey;
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tls_util::{Pair, Pki};

/// A port free a moment ago (bound to port 0 and let go), so a restarted server can take the
/// same TLS port again.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("local_addr").port()
}

/// A server with a line-protocol TLS port serving `pair`; returns it and the TLS address.
fn start(pair: &Pair) -> (Server, SocketAddr) {
    let port = free_port().to_string();
    let (cert, key) = (
        pair.cert.display().to_string(),
        pair.key.display().to_string(),
    );
    let args = ["--tls-port", &port, "--tls-cert", &cert, "--tls-key", &key];
    let server = Server::start(&args);
    let tls = SocketAddr::new(server.addr().ip(), port.parse().expect("port"));
    (server, tls)
}

/// A chatclient over TLS trusting `pki`'s CA, logged in as `user`.
fn tls_client(pki: &Pki, addr: SocketAddr, user: &str, password: &str) -> ChatClient {
    let ca = pki.ca_file().display().to_string();
    let mut client = ChatClient::spawn(addr, &["--tls", "--ca", &ca]);
    client.log_in(user, password);
    client
}

/// Over TLS checked against the test CA: two chatclients log in and chat through the server,
/// make a peer link (TLS, pinned) that carries private messages, keep it across a `kill -9` of
/// the server, and log in again over TLS when the server comes back on the same ports.
#[test]
fn tls_clients_chat_link_and_reconnect() {
    let pki = Pki::new("chatclient");
    let (mut server, tls) = start(&pki.issue("server"));
    let mut yoda = tls_client(&pki, tls, "yoda", "wise");
    let mut hans = tls_client(&pki, tls, "hans", "falcon*solo");
    yoda.wait_for("hans logged in\n");
    yoda.type_line("message hans hello over TLS");
    hans.wait_for("yoda: hello over TLS\n");
    yoda.type_line("startprivate hans");
    hans.wait_for("yoda would like to start a private session.");
    hans.type_line("y yoda");
    yoda.wait_for("Start private messaging with hans\n");
    yoda.type_line("private hans over the TLS link");
    hans.wait_for("yoda(private): over the TLS link\n");
    server.kill();
    yoda.wait_for("Server connection lost; reconnecting\n");
    hans.type_line("private yoda the link outlives the server");
    yoda.wait_for("hans(private): the link outlives the server\n");
    server.restart_on_same_port(Duration::from_millis(500));
    let back = Duration::from_secs(15);
    yoda.wait_for_nth_within("Reconnected to the server as yoda\n", 1, back);
    hans.wait_for_nth_within("Reconnected to the server as hans\n", 1, back);
    yoda.type_line("message hans back over TLS");
    hans.wait_for("yoda: back over TLS\n");
    for c in [&yoda, &hans] {
        let out = c.output();
        assert_eq!(c.count("Direct link to"), 0, "{out}");
        assert_eq!(c.count("go through the server"), 0, "{out}");
        assert_eq!(c.count("P2P"), 0, "machine lines are never shown: {out}");
        assert_eq!(c.count("Could not reconnect"), 0, "{out}");
    }
    let log = server.log();
    assert!(!log.contains("TLS handshake failed"), "{log}");
}

/// Run `chatclient --tls --ca <ca>` against `tls`, expecting it to stop with status 1; returns
/// what it printed (stdout, stderr).
fn refused(tls: SocketAddr, ca: &Path) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chatclient"))
        .args(["--tls", "--ca", &ca.display().to_string()])
        .args([tls.ip().to_string(), tls.port().to_string()])
        .output()
        .expect("run chatclient");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// A CA that did not sign the server's certificate: the client stops at start, exit 1, saying
/// why and what to do; nothing is sent.
#[test]
fn a_wrong_ca_is_refused_with_a_reason() {
    let pki = Pki::new("right");
    let other = Pki::new("wrong");
    let (_server, tls) = start(&pki.issue("server"));
    let ca = other.ca_file();
    let (stdout, stderr) = refused(tls, &ca);
    assert!(
        stderr.contains("not signed by a CA this client trusts (give --ca FILE"),
        "{stderr}"
    );
    assert!(!stdout.contains("Username"), "{stdout}");
    // A CA file that is not PEM is named in the error.
    let junk = other.dir.join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").expect("write junk");
    let (_, stderr) = refused(tls, &junk);
    assert!(
        stderr.contains(&format!(
            "CA file {}: no usable certificate",
            junk.display()
        )),
        "{stderr}"
    );
}

/// A self-signed server certificate marked as a CA (what `openssl req -x509` makes by default)
/// is refused by name, with the option that fixes it.
#[test]
fn a_self_signed_ca_certificate_is_explained() {
    let pki = Pki::new("self-signed");
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let pair = Pair {
        cert: pki.dir.join("self.cert.pem"),
        key: pki.dir.join("self.key.pem"),
    };
    std::fs::write(&pair.cert, cert.pem()).unwrap();
    tls_util::write_private(&pair.key, &key.serialize_pem());
    let (_server, tls) = start(&pair);
    let (_, stderr) = refused(tls, &pair.cert);
    assert!(
        stderr.contains("basicConstraints=critical,CA:FALSE"),
        "{stderr}"
    );
}

/// `--insecure` connects to a server whose CA it does not know, and says on screen first that
/// the certificate is not checked.
#[test]
fn insecure_connects_and_says_so() {
    let pki = Pki::new("insecure");
    let (_server, tls) = start(&pki.issue("server"));
    let mut luke = ChatClient::spawn(tls, &["--tls", "--insecure"]);
    luke.log_in("luke", "jedi");
    let out = luke.output();
    let warning = out.find("Warning: --insecure").expect("the warning");
    assert!(warning < out.find("Username: ").expect("prompt"), "{out}");
}

/// A TLS server for the impostor: it offers a raw public key as a real peer does, but its own
/// (the server certificate's key), not the one the server announced.
fn impostor_config(pair: &Pair) -> Arc<rustls::ServerConfig> {
    let key = PrivateKeyDer::from_pem_file(&pair.key).expect("key");
    let key = rustls::crypto::ring::sign::any_supported_type(&key).expect("signing key");
    let spki = key.public_key().expect("public key").as_ref().to_vec();
    let certified = CertifiedKey::new(vec![CertificateDer::from(spki)], key);
    let resolver = AlwaysResolvesServerRawPublicKeys::new(Arc::new(certified));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    Arc::new(config)
}

/// A third party at the address the server gives for a peer (here a raw client that registered
/// its own listener with a key it does not hold) cannot take the link over: the `--tls`
/// requester's first bytes are a TLS ClientHello, never the token; the impostor's own key is
/// refused; and the private messages go through the server instead, with one notice.
#[test]
fn an_impostor_at_the_peer_address_gets_neither_token_nor_messages() {
    let pki = Pki::new("impostor");
    let pair = pki.issue("server");
    let (server, tls) = start(&pair);
    let mut yoda = tls_client(&pki, tls, "yoda", "wise");
    let mut hans = server.login("hans", "falcon*solo");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local_addr").port();
    hans.send(&format!("p2p-port {port} {}", "ab".repeat(32)));
    yoda.type_line("startprivate hans");
    let token = hans.accept_private("yoda");
    let mut link = common::accept_within(&listener, Duration::from_secs(5));
    let mut hello = vec![0u8; 4096];
    let n = link.read(&mut hello).expect("the ClientHello");
    assert_eq!(hello.first(), Some(&0x16), "a TLS handshake record first");
    assert!(
        !String::from_utf8_lossy(&hello[..n]).contains(&token),
        "the token is never sent before the key is checked"
    );
    // Answer as a TLS server with a key of our own: the client must refuse it.
    let mut session = rustls::ServerConnection::new(impostor_config(&pair)).expect("session");
    session.read_tls(&mut &hello[..n]).expect("read hello");
    session.process_new_packets().expect("process hello");
    while session.wants_write() {
        session.write_tls(&mut link).expect("send our flight");
    }
    yoda.type_line("private hans secret plans");
    hans.expect("yoda(private): secret plans\n");
    link.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut rest = Vec::new();
    let _ = link.read_to_end(&mut rest);
    session.read_tls(&mut &rest[..]).ok();
    let processed = session.process_new_packets();
    assert!(
        processed.is_err() || session.is_handshaking(),
        "the client never finished a handshake with the impostor's key"
    );
    let mut plain = Vec::new();
    let _ = session.reader().read_to_end(&mut plain);
    assert!(
        plain.is_empty(),
        "no plaintext reached the impostor: {plain:?}"
    );
    yoda.type_line("private hans more plans");
    hans.expect("yoda(private): more plans\n");
    assert!(
        yoda.count("Direct link to hans is down; sending through the server\n") == 1,
        "{}",
        yoda.output()
    );
}

/// A `--tls` client never makes a plaintext link: to a peer that registered no key it dials
/// nothing, says once that private messages go through the server, and relays them there.
#[test]
fn no_plaintext_link_from_a_tls_client() {
    let pki = Pki::new("no-key");
    let (server, tls) = start(&pki.issue("server"));
    let mut yoda = tls_client(&pki, tls, "yoda", "wise");
    let mut hans = server.login("hans", "falcon*solo");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local_addr").port();
    hans.send(&format!("p2p-port {port}"));
    yoda.type_line("startprivate hans");
    hans.accept_private("yoda");
    yoda.wait_for(
        "Private messages to hans go through the server: its client takes no TLS links\n",
    );
    yoda.type_line("private hans relayed");
    hans.expect("yoda(private): relayed\n");
    listener.set_nonblocking(true).expect("nonblocking");
    assert!(listener.accept().is_err(), "no plaintext link was dialed");
}

/// A peer address that takes the TCP connection and then says nothing (a client that hung, a
/// port now held by something else) must not swallow private messages: the requester's TLS
/// handshake never ends, and within `link::HANDSHAKE_WAIT` (5 s) the link is dropped and what
/// was typed for it goes through the server, with the one notice. It waited forever, the
/// messages held unsent and nothing said.
#[test]
fn a_peer_that_never_answers_the_handshake_gets_the_messages_relayed() {
    let pki = Pki::new("silent");
    let (server, tls) = start(&pki.issue("server"));
    let mut yoda = tls_client(&pki, tls, "yoda", "wise");
    let mut hans = server.login("hans", "falcon*solo");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local_addr").port();
    hans.send(&format!("p2p-port {port} {}", "ab".repeat(32)));
    yoda.type_line("startprivate hans");
    hans.accept_private("yoda");
    // Taken, and never answered.
    let _silent = common::accept_within(&listener, Duration::from_secs(5));
    yoda.type_line("private hans are you there");
    std::thread::sleep(Duration::from_secs(4));
    hans.expect("yoda(private): are you there\n");
    assert_eq!(
        yoda.count("Direct link to hans is down; sending through the server\n"),
        1,
        "{}",
        yoda.output()
    );
}

/// A reconnect that reaches something taking the connection and saying nothing (a server
/// that hangs, a port briefly held by another process) gives that attempt up once its TLS
/// handshake has not finished within 5 s and dials again, so the client is back when the real
/// server is. It waited on that connection forever.
#[test]
fn a_reconnect_whose_handshake_stalls_dials_again() {
    let pki = Pki::new("stall");
    let (mut server, tls) = start(&pki.issue("server"));
    let yoda = tls_client(&pki, tls, "yoda", "wise");
    server.kill();
    yoda.wait_for("Server connection lost; reconnecting\n");
    // mio's listener sets SO_REUSEADDR, so the server can listen here again while the
    // connection taken below is still open.
    let silent = mio::net::TcpListener::bind(tls).expect("bind the TLS port");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let _held = loop {
        match silent.accept() {
            Ok((stream, _)) => break stream,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("the reconnect never dialed: {e}"),
        }
    };
    drop(silent);
    server.restart_on_same_port(Duration::ZERO);
    yoda.wait_for_nth_within(
        "Reconnected to the server as yoda\n",
        1,
        Duration::from_secs(20),
    );
}
