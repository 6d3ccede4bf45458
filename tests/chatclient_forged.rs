//! Issue 17, F2 and F16, against a scripted fake server: a `P2P`/`P2P-ACCEPT` line is acted on
//! only as the answer to the user's own `startprivate`/`y`, once; anything else is shown as
//! text, so a line another user smuggled into the server's stream cannot take over a session.
//! And connections that never show a token cannot keep the real peer out.

mod chatclient_util;

use chatclient_util::{Conn, Pair, Solo, TOKEN};
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::Duration;

/// Eve's token: valid in form, issued by nobody.
const EVE_TOKEN: &str = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";

/// A listener standing for a peer's client, polled without blocking.
fn peer_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    (listener, port)
}

/// Whether anyone connected to `listener` (accepted or still queued).
fn dialled(listener: &TcpListener) -> bool {
    match listener.accept() {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::WouldBlock => false,
        Err(e) => panic!("accept: {e}"),
    }
}

/// The F2 hijack, requester side: during alice's live session with bob, a forged
/// `P2P bob <eve's address> <token>` reaches alice (a relayed line that smuggled a newline).
/// Before the fix alice's client dropped bob's link, dialled eve, handed her the token and sent
/// her the next `private bob` line. Now the line is shown as text, eve is never dialled, and
/// the next private line still reaches bob.
#[test]
fn a_forged_p2p_line_cannot_take_over_a_live_session() {
    let mut p = Pair::new();
    let (eve, eve_port) = peer_listener();
    let forged = format!("P2P bob 127.0.0.1 {eve_port} {EVE_TOKEN}");
    p.alice_conn.send(&format!("{forged}\nsentinel-forged\n"));
    p.alice.wait_for("sentinel-forged\n");
    p.alice.type_line("private bob the secret plans");
    p.bob.wait_for("alice(private): the secret plans\n");
    thread::sleep(Duration::from_millis(100));
    assert!(!dialled(&eve), "eve was dialled");
    assert!(p.alice.output().contains(&format!("{forged}\n")));
}

/// The F2 hijack, acceptor side: a forged `P2P-ACCEPT alice <eve's token>` reaches bob while his
/// session with alice is live. Before the fix bob's client dropped alice's link and admitted
/// eve, whose line showed as `alice(private): …`. Now eve's link is closed unread and alice's
/// link still carries the session.
#[test]
fn a_forged_p2p_accept_cannot_pose_as_the_peer() {
    let mut p = Pair::new();
    p.bob_conn
        .send(&format!("P2P-ACCEPT alice {EVE_TOKEN}\nsentinel-forged\n"));
    p.bob.wait_for("sentinel-forged\n");
    let mut eve = Conn::connect(SocketAddr::from(([127, 0, 0, 1], p.bob_port)));
    eve.send(&format!("{EVE_TOKEN}\nsend me your password\n"));
    assert!(eve.closed_within(Duration::from_secs(3)), "eve kept a link");
    p.alice.type_line("private bob still us");
    p.bob.wait_for("alice(private): still us\n");
    assert!(!p.bob.output().contains("send me your password"));
}

/// Each request is answered once: a second `P2P-ACCEPT` for the same `y` admits nobody, and a
/// second `P2P` for the same `startprivate` dials nobody and leaves the first link in place.
#[test]
fn a_machine_line_answers_its_request_only_once() {
    let mut bob = Solo::new("bob", &[]);
    bob.expect_link_from("alice");
    let mut alice = bob.dial();
    alice.send(&format!("{TOKEN}\nhello\n"));
    bob.client.wait_for("alice(private): hello\n");
    bob.send_and_settle(&format!("P2P-ACCEPT alice {EVE_TOKEN}"));
    let mut eve = bob.dial();
    eve.send(&format!("{EVE_TOKEN}\nit is me, alice\n"));
    assert!(eve.closed_within(Duration::from_secs(3)), "eve kept a link");

    let (carol, carol_port) = peer_listener();
    let (mallory, mallory_port) = peer_listener();
    bob.ask("carol");
    bob.send_and_settle(&format!("P2P carol 127.0.0.1 {carol_port} {TOKEN}"));
    bob.send_and_settle(&format!("P2P carol 127.0.0.1 {mallory_port} {EVE_TOKEN}"));
    thread::sleep(Duration::from_millis(100));
    assert!(dialled(&carol), "the answered request dials");
    assert!(!dialled(&mallory), "the second answer dials nobody");
    assert!(!bob.client.output().contains("it is me"));
}

/// A `startprivate` answered by a refusal (`declined`, `expired`) is no longer open: a `P2P`
/// after it is shown, not acted on.
#[test]
fn a_refused_request_is_not_answered_later() {
    let mut bob = Solo::new("bob", &[]);
    let (carol, carol_port) = peer_listener();
    bob.ask("carol");
    bob.send_and_settle("carol declined private messaging");
    bob.send_and_settle(&format!("P2P carol 127.0.0.1 {carol_port} {TOKEN}"));
    thread::sleep(Duration::from_millis(100));
    assert!(!dialled(&carol));
    assert!(bob.client.output().contains("P2P carol 127.0.0.1"));
}

/// F16: with no link expected (no `y` awaiting its answer), a connection to the peer-to-peer
/// port is closed at once instead of holding a pending slot for the token wait.
#[test]
fn connections_nobody_expects_are_closed_at_once() {
    let bob = Solo::new("bob", &[]);
    let mut idle = bob.dial();
    assert!(idle.closed_within(Duration::from_secs(3)), "held open");
}

/// F16: idle connections cannot fill the pending slots. Forty connections that never send a
/// token arrive first (the client keeps 32 waiting); the real peer dialling after them still
/// gets its link, because the newest replaces the oldest.
#[test]
fn idle_connections_cannot_keep_the_peer_out() {
    let mut bob = Solo::new("bob", &[]);
    bob.accept("alice");
    let idle: Vec<Conn> = (0..40).map(|_| bob.dial()).collect();
    thread::sleep(Duration::from_millis(300));
    bob.send_and_settle(&format!("P2P-ACCEPT alice {TOKEN}"));
    let mut alice = bob.dial();
    alice.send(&format!("{TOKEN}\nmade it\n"));
    bob.client.wait_for("alice(private): made it\n");
    drop(idle);
}

/// A peer's text is shown as text: its control characters (an escape sequence, a carriage
/// return that would write over the `alice(private): ` prefix, a bell) never reach the
/// terminal, as none can through the server (PROTOCOL.md §1a). Before the fix a peer could
/// clear bob's screen and print a line posing as the server or another user
/// (`\x1b[2K\rvader: …`). A tab is kept, as the server keeps it.
#[test]
fn a_peer_cannot_send_control_characters_to_the_terminal() {
    let mut bob = Solo::new("bob", &[]);
    bob.expect_link_from("alice");
    let mut alice = bob.dial();
    alice.send(&format!(
        "{TOKEN}\n\x1b[2J\x1b[2K\rvader: send me your password\x07\ta\u{9b}b\n"
    ));
    bob.client
        .wait_for("alice(private): \u{fffd}[2J\u{fffd}[2K\u{fffd}vader: send me your password\u{fffd}\ta\u{fffd}b\n");
    let out = bob.client.output();
    assert!(!out.contains(['\x1b', '\r', '\x07', '\u{9b}']), "{out:?}");
}
