//! Private sessions and peer-to-peer (PROTOCOL.md §4) over real TCP against the real binary,
//! with raw clients: consent, the machine lines with matching tokens and the acceptor's address,
//! the relay, stopprivate, and sessions ended by a logout. (The 60 s expiry is tested in the
//! core with simulated time, `chat::tests::private`.)

mod common;

use common::{Client, Server};

const ASK_YODA: &str =
    "yoda would like to start a private session. Type 'y yoda' to accept or 'n yoda' to decline\n";

/// yoda asks hans, hans (who registered a port) accepts; returns the token hans was given.
fn start(yoda: &mut Client, hans: &mut Client) -> String {
    yoda.send("startprivate hans");
    yoda.expect("Request sent to hans\n");
    hans.expect(ASK_YODA);
    hans.send("y yoda");
    hans.expect("Start private messaging with yoda\n");
    let accept = hans.expect_line();
    let token = accept
        .strip_prefix("P2P-ACCEPT yoda ")
        .unwrap_or_else(|| panic!("hans got {accept:?}"))
        .trim_end()
        .to_string();
    assert_eq!(token.len(), 32, "{accept:?}");
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    yoda.expect("Start private messaging with hans\n");
    token
}

/// The acceptor registered a port: the requester is told to dial the acceptor's address as the
/// server sees it (127.0.0.1) with the same token the acceptor was told to expect; a second
/// session gets a different token.
#[test]
fn consent_sends_matching_machine_lines() {
    let server = Server::start(&[]);
    let [mut yoda, mut hans] = server.login_all([("yoda", "wise"), ("hans", "falcon*solo")]);
    hans.send("p2p-port 4001");
    let token = start(&mut yoda, &mut hans);
    yoda.expect(&format!("P2P hans 127.0.0.1 4001 {token}\n"));
    hans.send("stopprivate yoda");
    hans.expect("Private messaging with yoda stopped\n");
    yoda.expect("Private messaging with hans stopped\n");
    let again = start(&mut yoda, &mut hans);
    assert_ne!(token, again, "a fresh token per session");
    yoda.expect(&format!("P2P hans 127.0.0.1 4001 {again}\n"));
    assert!(!server.log().contains(&token), "tokens are never logged");
}

/// Without a session `private` is refused; inside one the server relays it verbatim, both ways,
/// with no reply to the sender; `stopprivate` tells both sides and ends the relay.
#[test]
fn relay_inside_a_session_and_stopprivate() {
    let server = Server::start(&[]);
    let [mut yoda, mut hans] = server.login_all([("yoda", "wise"), ("hans", "falcon*solo")]);
    yoda.send("private hans too early");
    yoda.expect("Error. Private messaging to hans not enabled\n");
    yoda.send("startprivate hans");
    yoda.expect("Request sent to hans\n");
    hans.expect(ASK_YODA);
    hans.send("Y yoda");
    hans.expect("Start private messaging with yoda\n");
    yoda.expect("Start private messaging with hans\n");
    yoda.send("private hans   hello  there ");
    hans.expect("yoda(private): hello  there \n");
    hans.send("private yoda back");
    yoda.expect("hans(private): back\n");
    yoda.send("stopprivate hans");
    yoda.expect("Private messaging with hans stopped\n");
    hans.expect("Private messaging with yoda stopped\n");
    hans.send("private yoda gone");
    hans.expect("Error. Private messaging to yoda not enabled\n");
    yoda.send("stopprivate hans");
    yoda.expect("Error. No private session with hans\n");
    hans.expect_silence(100);
}

/// Refusals over the wire: decline, offline, a missing request, a bad port.
#[test]
fn refusals_and_decline() {
    let server = Server::start(&[]);
    let [mut yoda, mut hans] = server.login_all([("yoda", "wise"), ("hans", "falcon*solo")]);
    yoda.send("startprivate luke");
    yoda.expect("Error. luke is offline\n");
    yoda.send("getaddress hans");
    yoda.expect("Error. hans has no peer-to-peer address\n");
    hans.send("y yoda");
    hans.expect("Error. No private session request from yoda\n");
    hans.send("p2p-port 70000");
    hans.expect("Error. Invalid port\n");
    yoda.send("startprivate hans");
    yoda.expect("Request sent to hans\n");
    hans.expect(ASK_YODA);
    hans.send("n yoda");
    yoda.expect("hans declined private messaging\n");
    hans.send("whoelse");
    hans.expect("yoda\n");
}

/// A peer that leaves (here by closing its socket) ends the session and the other side is told.
#[test]
fn a_disconnect_ends_the_session() {
    let server = Server::start(&[]);
    let [mut yoda, mut hans] = server.login_all([("yoda", "wise"), ("hans", "falcon*solo")]);
    hans.send("p2p-port 4001");
    start(&mut yoda, &mut hans);
    yoda.expect_line();
    drop(hans);
    yoda.expect("Private messaging with hans stopped\nhans logged out\n");
    yoda.send("private hans hi");
    yoda.expect("Error. Private messaging to hans not enabled\n");
}
