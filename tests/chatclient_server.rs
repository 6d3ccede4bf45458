//! The real server with real `chatclient`s (PROTOCOL.md §4): login, a message, consent, private
//! messages over the peer-to-peer link, the link surviving a `kill -9` of the server, the clients
//! logging in again when it restarts, stopprivate on both sides, and the fallback to the server's
//! relay when a link is cut.

mod chatclient_util;
mod common;

use chatclient_util::{Client as ChatClient, WELCOME};
use common::Server;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::time::Duration;

/// yoda and hans on chatclients, consent given, and a first private message across.
fn linked(server: &Server) -> (ChatClient, ChatClient) {
    let mut yoda = ChatClient::spawn(server.addr(), &[]);
    yoda.log_in("yoda", "wise");
    let mut hans = ChatClient::spawn(server.addr(), &[]);
    hans.log_in("hans", "falcon*solo");
    yoda.wait_for("hans logged in\n");
    yoda.type_line("message hans hello through the server");
    hans.wait_for("yoda: hello through the server\n");
    yoda.type_line("startprivate hans");
    yoda.wait_for("Request sent to hans\n");
    hans.wait_for(
        "yoda would like to start a private session. Type 'y yoda' to accept or 'n yoda' to decline\n",
    );
    hans.type_line("y yoda");
    hans.wait_for("Start private messaging with yoda\n");
    yoda.wait_for("Start private messaging with hans\n");
    yoda.type_line("private hans over the link");
    hans.wait_for("yoda(private): over the link\n");
    (yoda, hans)
}

/// `kill -9` the server: both clients say they are reconnecting, and the link still carries
/// messages both ways, with no link-down notice and no machine line shown.
fn kill_and_talk_over_the_link(server: &mut Server, yoda: &mut ChatClient, hans: &mut ChatClient) {
    server.kill();
    yoda.wait_for("Server connection lost; reconnecting\n");
    hans.wait_for("Server connection lost; reconnecting\n");
    yoda.type_line("private hans after the crash");
    hans.wait_for("yoda(private): after the crash\n");
    hans.type_line("private yoda still here");
    yoda.wait_for("hans(private): still here\n");
    for c in [yoda, hans] {
        assert_eq!(c.count("Direct link to"), 0, "{}", c.output());
        assert_eq!(c.count("P2P"), 0, "machine lines are never shown");
    }
}

/// Consent through the real server gives the clients a direct link: after `kill -9` of the
/// server, private messages still flow both ways, and `stopprivate` ends it on both sides.
#[test]
fn links_outlive_the_server_and_stop_on_both_sides() {
    let mut server = Server::start(&[]);
    let (mut yoda, mut hans) = linked(&server);
    kill_and_talk_over_the_link(&mut server, &mut yoda, &mut hans);
    hans.type_line("stopprivate yoda");
    hans.wait_for("Private messaging with yoda stopped\n");
    yoda.wait_for("Private messaging with hans stopped\n");
    yoda.type_line("private hans gone");
    yoda.wait_for("Not connected to the server\n");
}

/// The server is killed and, after a while, started again on the same port. Both clients say
/// they are reconnecting; the link carries messages meanwhile; each dials again with backoff
/// (the first attempts find nobody), logs in with what was typed, and says
/// `Reconnected to the server as <user>`. The server then relays messages again and knows each
/// client's peer-to-peer port again (`getaddress` answers with it).
#[test]
fn clients_log_in_again_when_the_server_restarts() {
    let mut server = Server::start(&[]);
    let (mut yoda, mut hans) = linked(&server);
    kill_and_talk_over_the_link(&mut server, &mut yoda, &mut hans);
    server.restart_on_same_port(Duration::from_millis(1500));
    let back = Duration::from_secs(15);
    yoda.wait_for_nth_within("Reconnected to the server as yoda\n", 1, back);
    hans.wait_for_nth_within("Reconnected to the server as hans\n", 1, back);
    yoda.type_line("message hans back again");
    hans.wait_for("yoda: back again\n");
    yoda.type_line("getaddress hans");
    // The second request hans sees (the first was before the restart).
    hans.wait_for_nth(
        "yoda would like to start a private session. Type 'y yoda' to accept or 'n yoda' to decline\n",
        2,
    );
    hans.type_line("y yoda");
    yoda.wait_for("hans 127.0.0.1 ");
    hans.type_line("private yoda link still up");
    yoda.wait_for("hans(private): link still up\n");
    for c in [&yoda, &hans] {
        assert_eq!(c.count("Username: "), 1, "{}", c.output());
        assert_eq!(c.count(WELCOME), 1, "{}", c.output());
    }
}

/// `stopprivate` typed on both sides while the server runs: each side sees one stop line, and
/// the server's own session is ended too (a relayed `private` is refused afterwards).
#[test]
fn stopprivate_from_both_sides_with_the_server_up() {
    let server = Server::start(&[]);
    let (mut yoda, mut hans) = linked(&server);
    yoda.type_line("stopprivate hans");
    hans.type_line("stopprivate yoda");
    yoda.wait_for("Private messaging with hans stopped\n");
    hans.wait_for("Private messaging with yoda stopped\n");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(yoda.count("Private messaging with hans stopped"), 1);
    assert_eq!(hans.count("Private messaging with yoda stopped"), 1);
    yoda.type_line("private hans no session");
    yoda.wait_for("Error. Private messaging to hans not enabled\n");
}

/// The acceptor is a raw TCP client with its own listener: the chatclient dials the address
/// the server gave it, sends the token the acceptor was given as its first line, and once the
/// link is cut its private messages go through the server's relay, with one notice.
#[test]
fn a_cut_link_falls_back_to_the_relay() {
    let server = Server::start(&[]);
    let mut yoda = ChatClient::spawn(server.addr(), &[]);
    yoda.log_in("yoda", "wise");
    let mut hans = server.login("hans", "falcon*solo");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local_addr").port();
    hans.send(&format!("p2p-port {port}"));
    yoda.type_line("startprivate hans");
    let token = hans.accept_private("yoda");
    let link = common::accept_within(&listener, Duration::from_secs(5));
    let mut link = BufReader::new(link);
    let mut first = String::new();
    link.read_line(&mut first).expect("token line");
    assert_eq!(
        first,
        format!("{token}\n"),
        "the token goes first over the link"
    );
    yoda.type_line("private hans direct");
    let mut msg = String::new();
    link.read_line(&mut msg).expect("message line");
    assert_eq!(msg, "direct\n");
    drop(link);
    std::thread::sleep(Duration::from_millis(300));
    yoda.type_line("private hans relayed");
    hans.expect("yoda(private): relayed\n");
    yoda.wait_for("Direct link to hans is down; sending through the server\n");
    yoda.type_line("private hans relayed again");
    hans.expect("yoda(private): relayed again\n");
    assert_eq!(yoda.count("Direct link to hans is down"), 1);
}

/// Input piped in all at once (`printf 'yoda\nwise\nwhoelse\n' | chatclient …`): its end comes
/// in the same readiness edge as its lines, and the client still sees it, says `exit` and
/// quits with status 0 instead of waiting for more input forever.
#[test]
fn piped_input_that_ends_at_once_still_ends_the_client() {
    let server = Server::start(&[]);
    let mut yoda = ChatClient::spawn(server.addr(), &[]);
    yoda.type_bytes(b"login yoda wise\nwhoelse\n");
    yoda.close_stdin();
    let status = yoda.exit_within(Duration::from_secs(10));
    let out = yoda.output();
    assert!(status.is_some_and(|s| s.success()), "{status:?}: {out}");
    assert!(out.contains(WELCOME), "{out}");
    assert!(out.contains("Goodbye\n"), "{out}");
}
