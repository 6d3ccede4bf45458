//! The connection's output queue over a real socket: shared chunks are counted in bytes
//! against the cap, and what reaches the peer is every byte queued, in order.

use super::*;
use crate::event::Audience;
use crate::protocol::{ProtocolKind, ProtocolOptions};
use std::io::Read;
use std::sync::Arc;

fn connected() -> (Connection, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (ours, addr) = listener.accept().unwrap();
    ours.set_nonblocking(true).unwrap();
    let stream = mio::net::TcpStream::from_std(ours);
    let transport =
        Transport::new(crate::transport::TransportKind::Plain, stream, None, addr).unwrap();
    let protocol = Protocol::new(ProtocolKind::Line, &ProtocolOptions::default());
    (
        Connection::new(ConnId::new(1, 1), transport, protocol),
        peer,
    )
}

fn broadcast(text: &str) -> Arc<Shared> {
    Shared::new(Event::Chat {
        from: Arc::from("hans"),
        to: Audience::Everyone,
        text: Arc::from(text),
        meta: crate::event::test_meta(false),
    })
}

/// A slow reader is cut at the same limit as before the queue held shared chunks: a chunk
/// counts every byte it adds, not the pointer, so a 1,007-byte line fits 16 times under a
/// 16,384-byte cap and the 17th is refused, the queue unchanged. Flushed, the peer reads
/// exactly the 16 lines, and the drained queue keeps no memory.
#[test]
fn shared_chunks_count_in_bytes_against_the_cap() {
    let (mut conn, mut peer) = connected();
    let line = broadcast(&"x".repeat(1000));
    let mut cache = RenderCache::default();
    let cap = 16_384;
    let mut fits = 0;
    while conn
        .queue_shared(&line, &mut cache, 0, cap, &mut Vec::new)
        .is_ok()
    {
        fits += 1;
    }
    let one = "hans: ".len() + 1000 + 1;
    assert_eq!((fits, conn.pending()), (cap / one, cap / one * one));
    let small = broadcast("hi");
    assert!(conn
        .queue_shared(&small, &mut RenderCache::default(), 0, cap, &mut Vec::new)
        .is_ok());
    let total = conn.pending();
    assert_eq!(total, cap / one * one + "hans: hi\n".len());
    let mut recycled = 0;
    while !conn
        .flush(
            std::time::Instant::now(),
            &mut |_| recycled += 1,
            &mut Vec::new(),
        )
        .unwrap()
    {}
    assert_eq!(
        (conn.pending(), recycled),
        (0, 1),
        "the small line's tail came back"
    );
    let mut got = vec![0; total];
    peer.read_exact(&mut got).unwrap();
    let expected = format!("hans: {}\n", "x".repeat(1000)).repeat(fits) + "hans: hi\n";
    assert!(got == expected.as_bytes(), "the peer got other bytes");
}

/// The slab holds one of these per connection, idle or not (issues 20 and 22's idle memory):
/// 208 bytes before `ConnId` shrank to 8.
#[test]
fn a_connection_stays_small() {
    assert!(std::mem::size_of::<Connection>() <= 200);
}

/// Counts the inputs decoded, and always wants more: only the read budget stops a pass.
#[cfg(feature = "tls")]
#[derive(Default)]
struct Inputs(usize);

#[cfg(feature = "tls")]
impl crate::protocol::Sink for Inputs {
    fn expects(&self) -> crate::input::Expect {
        crate::input::Expect::Command
    }
    fn input(&mut self, _: crate::input::Input<'_>) {
        self.0 += 1;
    }
    fn reserve(&mut self, _: crate::event::Ticket) {}
}

/// A TLS peer that sends its bytes one per record makes the server decrypt a record per byte:
/// a pass's read budget counts the records' bytes off the socket, not only the plaintext, or
/// one pass over 64 KiB of plaintext was 64 Ki decryptions and 1.4 MB read (the loop's 3 ms
/// share of reading went to one connection many times over). Nothing is lost: the rest is
/// read in the passes after.
#[cfg(feature = "tls")]
#[test]
fn tls_records_of_one_byte_count_against_the_read_budget() {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
    use std::io::Write;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let cert: CertificateDer<'static> = params.self_signed(&key).unwrap().der().clone();
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], private)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut sock = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (ours, _) = listener.accept().unwrap();
    ours.set_nonblocking(true).unwrap();
    let tls = crate::transport::Tls::new(mio::net::TcpStream::from_std(ours), Arc::new(server));
    let transport = Transport::Tls(Box::new(tls.unwrap()));
    let protocol = Protocol::new(ProtocolKind::Line, &ProtocolOptions::default());
    let mut conn = Connection::new(ConnId::new(1, 1), transport, protocol);
    let name = ServerName::try_from("localhost").unwrap();
    let mut peer = rustls::ClientConnection::new(Arc::new(client), name).unwrap();
    let (mut scratch, mut sink, mut bytes_in) = (vec![0; 64 * 1024], Inputs::default(), 0);
    let budget = 16 * 1024;
    for _ in 0..1000 {
        if !peer.is_handshaking() && !conn.transport.handshaking() {
            break;
        }
        while peer.wants_write() {
            peer.write_tls(&mut sock).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
        conn.read(&mut scratch, budget, 1024, &mut sink, &mut bytes_in)
            .unwrap();
        sock.set_nonblocking(true).unwrap();
        if peer.read_tls(&mut sock).is_ok() {
            peer.process_new_packets().unwrap();
        }
        sock.set_nonblocking(false).unwrap();
    }
    assert!(
        !conn.transport.handshaking(),
        "the handshake did not finish"
    );
    // 2,000 lines of `x\n`, a record per byte: 4,000 bytes of plaintext, about 88 KB of records.
    peer.set_buffer_limit(None);
    for _ in 0..2000 {
        for byte in b"x\n" {
            peer.writer().write_all(&[*byte]).unwrap();
        }
    }
    let mut sent = 0;
    while peer.wants_write() {
        sent += peer.write_tls(&mut sock).unwrap();
    }
    assert!(sent > 80_000, "{sent} bytes of records");
    std::thread::sleep(std::time::Duration::from_millis(50));
    let status = conn.read(&mut scratch, budget, 1024, &mut sink, &mut bytes_in);
    assert_eq!(
        status.unwrap(),
        ReadStatus::Budget,
        "one pass stops at the budget"
    );
    assert!(
        sink.0 < 1000,
        "one pass decoded {} of the 2,000 lines",
        sink.0
    );
    for _ in 0..100 {
        if sink.0 == 2000 {
            break;
        }
        conn.read(&mut scratch, budget, 1024, &mut sink, &mut bytes_in)
            .unwrap();
    }
    assert_eq!(sink.0, 2000, "every line, in the passes after");
}
