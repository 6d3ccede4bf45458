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
