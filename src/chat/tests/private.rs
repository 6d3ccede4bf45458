//! Private sessions (PROTOCOL.md §4) in simulated time: consent, refusals, expiry, tokens,
//! peer-to-peer lines, the relay and every way a session ends.

use super::{settings, Sim};
use crate::chat::*;
use crate::protocol::line::text;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const ASK_YODA: &str =
    "yoda would like to start a private session. Type 'y yoda' to accept or 'n yoda' to decline\n";

/// Connect `k` from 10.0.0.k and log in as `user` at `secs`, discarding the dialog.
fn login_from(s: &mut Sim, k: usize, user: &str, pass: &str, secs: u64) {
    let peer = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, k as u8)), 50_000);
    let now = s.at(secs);
    s.chat
        .handle_connect(Sim::id(k), Some(peer), LoginStyle::Dialog.into(), now);
    s.settle();
    s.line(k, user, secs);
    s.line(k, pass, secs);
    assert!(s.take(k).contains(text::WELCOME), "{user} login failed");
}

/// yoda on 1, hans on 2 (hans with p2p port `port`, if any), all output taken.
fn pair(port: Option<u16>) -> Sim {
    let mut s = Sim::new();
    login_from(&mut s, 1, "yoda", "wise", 0);
    login_from(&mut s, 2, "hans", "falcon*solo", 0);
    if let Some(port) = port {
        s.line(2, &format!("p2p-port {port}"), 0);
    }
    s.take_all();
    s
}

/// yoda asks hans at `secs` and hans accepts; returns (yoda's output, hans's output).
fn accept(s: &mut Sim, secs: u64) -> (String, String) {
    s.line(1, "startprivate hans", secs);
    assert_eq!(s.take(1), "Request sent to hans\n");
    assert_eq!(s.take(2), ASK_YODA);
    s.line(2, "y yoda", secs);
    (s.take(1), s.take(2))
}

/// The token of a `P2P-ACCEPT yoda <token>` line, checked to be 32 lowercase hex characters.
fn token_of(line: &str) -> String {
    let token = line.rsplit(' ').next().unwrap_or_default().trim_end();
    assert_eq!(token.len(), 32, "{line:?}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{line:?}"
    );
    token.to_string()
}

#[test]
fn consent_gives_both_sides_the_session_and_the_peer_to_peer_lines() {
    let mut s = pair(Some(4001));
    let (yoda, hans) = accept(&mut s, 1);
    let (started, accept_line) = hans.split_once('\n').unwrap_or_default();
    assert_eq!(started, "Start private messaging with yoda");
    assert!(accept_line.starts_with("P2P-ACCEPT yoda "), "{hans:?}");
    let token = token_of(accept_line);
    assert_eq!(
        yoda,
        format!("Start private messaging with hans\nP2P hans 10.0.0.2 4001 {token}\n"),
        "the ip is the acceptor's address as the server sees it"
    );
    assert_eq!(s.chat.private.len(), (0, 1));
}

#[test]
fn no_peer_to_peer_lines_when_the_acceptor_registered_no_port() {
    let mut s = pair(None);
    // The requester's port does not matter: the requester dials.
    s.line(1, "p2p-port 5000", 0);
    let (yoda, hans) = accept(&mut s, 1);
    assert_eq!(yoda, "Start private messaging with hans\n");
    assert_eq!(hans, "Start private messaging with yoda\n");
}

#[test]
fn every_session_gets_a_fresh_token() {
    let mut s = pair(Some(4001));
    let (_, first) = accept(&mut s, 1);
    s.line(1, "stopprivate hans", 2);
    s.take_all();
    let (_, second) = accept(&mut s, 3);
    let token = |out: &str| token_of(out.lines().nth(1).unwrap_or_default());
    assert_ne!(token(&first), token(&second));
}

#[test]
fn upper_case_answers_work_and_a_decline_tells_the_requester() {
    let mut s = pair(Some(4001));
    s.line(1, "startprivate hans", 1);
    s.take_all();
    s.line(2, "N yoda", 2);
    assert_eq!(s.take(1), "hans declined private messaging\n");
    assert_eq!(s.take(2), "", "the decliner gets no reply");
    s.line(2, "n yoda", 3);
    assert_eq!(s.take(2), "Error. No private session request from yoda\n");
    s.line(1, "startprivate hans", 4);
    s.take_all();
    s.line(2, "Y yoda", 5);
    assert!(s
        .take(1)
        .starts_with("Start private messaging with hans\nP2P hans "));
}

#[test]
fn a_request_expires_after_60_seconds_and_not_before() {
    let mut s = pair(None);
    s.line(1, "startprivate hans", 10);
    s.take_all();
    s.tick(69);
    assert_eq!(s.take(1), "");
    s.tick(70);
    assert_eq!(s.take(1), "Private session request to hans expired\n");
    assert_eq!(s.take(2), "", "the asked user is not told");
    s.line(2, "y yoda", 71);
    assert_eq!(s.take(2), "Error. No private session request from yoda\n");
    assert_eq!(s.take(1), "");
}

#[test]
fn a_repeated_request_asks_again_and_keeps_its_deadline() {
    let mut s = pair(None);
    s.line(1, "startprivate hans", 0);
    let hints = s.chat.timers.len();
    s.line(1, "startprivate hans", 30);
    assert_eq!(s.take(1), "Request sent to hans\nRequest sent to hans\n");
    assert_eq!(s.take(2), format!("{ASK_YODA}{ASK_YODA}"));
    assert_eq!(
        s.chat.timers.len(),
        hints,
        "one hint however often it is asked"
    );
    s.tick(59);
    assert_eq!(s.take(1), "");
    s.tick(60);
    assert_eq!(s.take(1), "Private session request to hans expired\n");
    // A new request after the expiry has its own clock; the old hint is gone.
    s.line(1, "startprivate hans", 70);
    s.take_all();
    s.tick(129);
    assert_eq!(s.take(1), "");
    s.tick(130);
    assert_eq!(s.take(1), "Private session request to hans expired\n");
}

#[test]
fn a_stale_hint_does_not_expire_a_later_request_of_the_same_pair() {
    let mut s = pair(None);
    s.line(1, "startprivate hans", 0);
    s.line(2, "n yoda", 10);
    s.line(1, "startprivate hans", 20);
    s.take_all();
    s.tick(60);
    assert_eq!(
        s.take(1),
        "",
        "the first request's hint fired for the second"
    );
    s.tick(80);
    assert_eq!(s.take(1), "Private session request to hans expired\n");
}

#[test]
fn an_answered_request_does_not_expire_and_answers_the_reverse_one() {
    let mut s = pair(None);
    s.line(2, "startprivate yoda", 0);
    s.take_all();
    accept(&mut s, 0);
    s.tick(61);
    assert_eq!((s.take(1), s.take(2)), (String::new(), String::new()));
    s.line(1, "y hans", 62);
    assert_eq!(s.take(1), "Error. No private session request from hans\n");
}

#[test]
fn answering_a_request_that_does_not_exist() {
    let mut s = pair(None);
    for line in ["y luke", "n luke", "y nobody", "Y yoda"] {
        s.line(2, line, 1);
        let who = line.split(' ').nth(1).unwrap_or_default();
        assert_eq!(
            s.take(2),
            format!("Error. No private session request from {who}\n")
        );
    }
    // A request to hans cannot be answered by yoda.
    s.line(1, "startprivate hans", 2);
    s.take_all();
    s.line(1, "y hans", 3);
    assert_eq!(s.take(1), "Error. No private session request from hans\n");
}

#[test]
fn refusals_are_those_of_message_plus_offline() {
    let mut s = pair(Some(4001));
    login_from(&mut s, 3, "luke", "jedi", 0);
    s.line(3, "block yoda", 0);
    s.take_all();
    for cmd in ["startprivate", "getaddress"] {
        let cases = [
            ("nobody", "Error. Invalid user\n"),
            ("yoda", "Error. Cannot message self\n"),
            (
                "luke",
                "Your message could not be delivered as the recipient has blocked you\n",
            ),
            ("r2d2", "Error. r2d2 is offline\n"),
        ];
        for (user, want) in cases {
            s.line(1, &format!("{cmd} {user}"), 1);
            assert_eq!(s.take(1), want, "{cmd} {user}");
        }
    }
    assert_eq!(s.take(3), "", "a user who blocked you is never asked");
    // The blocker may still ask the user it blocked.
    s.line(3, "startprivate yoda", 2);
    assert_eq!(s.take(3), "Request sent to yoda\n");
    assert_eq!(s.chat.private.len(), (1, 0));
}

#[test]
fn p2p_port_is_validated_and_silent_on_success() {
    let mut s = pair(None);
    for bad in ["0", "65536", "-1", "abc", "4001x"] {
        s.line(2, &format!("p2p-port {bad}"), 1);
        assert_eq!(s.take(2), "Error. Invalid port\n", "{bad}");
    }
    for good in ["1", "65535"] {
        s.line(2, &format!("p2p-port {good}"), 1);
        assert_eq!(s.take(2), "", "{good}");
    }
    s.line(2, "p2p-port", 1);
    assert_eq!(s.take(2), "Error. Invalid command\n");
    let (yoda, _) = accept(&mut s, 2);
    assert!(
        yoda.contains("P2P hans 10.0.0.2 65535 "),
        "the last port wins"
    );
}

/// `p2p-port <port> <key>` (issue 18, `chatclient --tls`): the key, a SHA-256 fingerprint in
/// lowercase hex, is passed to the requester at the end of its `P2P` line (the acceptor's
/// `P2P-ACCEPT` is unchanged); a bad key is refused and registers nothing, not even the port.
#[test]
fn a_peer_key_is_checked_and_passed_on_in_the_p2p_line() {
    let mut s = pair(Some(4001));
    let key = "0123456789abcdef".repeat(4);
    for bad in [&key.to_uppercase(), &key[1..], "x"] {
        s.line(2, &format!("p2p-port 5000 {bad}"), 1);
        assert_eq!(s.take(2), "Error. Invalid peer key\n", "{bad}");
    }
    let (yoda, hans) = accept(&mut s, 1);
    let dial = yoda.lines().find(|l| l.starts_with("P2P ")).unwrap();
    assert_eq!(dial.split(' ').count(), 5, "no key registered: {dial}");
    assert!(dial.starts_with("P2P hans 10.0.0.2 4001 "), "{dial}");
    let token = token_of(hans.lines().last().unwrap());
    s.line(2, &format!("p2p-port 5000 {key}"), 2);
    assert_eq!(s.take(2), "");
    let (yoda, hans) = accept(&mut s, 3);
    let token2 = token_of(hans.lines().last().unwrap());
    assert_ne!(token, token2);
    assert!(
        yoda.contains(&format!("P2P hans 10.0.0.2 5000 {token2} {key}\n")),
        "{yoda:?}"
    );
    assert!(
        hans.ends_with(&format!("P2P-ACCEPT yoda {token2}\n")),
        "{hans:?}"
    );
}

#[test]
fn getaddress_shows_the_address_after_consent() {
    let mut s = pair(None);
    s.line(1, "getaddress hans", 1);
    assert_eq!(s.take(1), "Error. hans has no peer-to-peer address\n");
    assert_eq!(s.take(2), "");
    s.line(2, "p2p-port 4001", 1);
    s.line(1, "getaddress hans", 1);
    assert_eq!(s.take(1), "Request sent to hans\n");
    assert_eq!(s.take(2), ASK_YODA);
    s.line(2, "y yoda", 2);
    assert_eq!(s.take(2), "Start private messaging with yoda\n");
    assert_eq!(
        s.take(1),
        "Start private messaging with hans\nhans 10.0.0.2 4001\n"
    );
    s.line(1, "private hans relayed too", 3);
    assert_eq!(s.take(2), "yoda(private): relayed too\n");
}

#[test]
fn private_is_relayed_inside_a_session_only() {
    let mut s = pair(None);
    s.line(1, "private hans too early", 1);
    assert_eq!(s.take(1), "Error. Private messaging to hans not enabled\n");
    s.line(1, "private nobody hi", 1);
    assert_eq!(
        s.take(1),
        "Error. Private messaging to nobody not enabled\n"
    );
    accept(&mut s, 2);
    s.line(1, "private   hans   hi  there ", 3);
    assert_eq!(s.take(2), "yoda(private): hi  there \n", "text is verbatim");
    assert_eq!(s.take(1), "", "no reply on success");
    s.line(2, "private yoda back", 4);
    assert_eq!(s.take(1), "hans(private): back\n");
    // A block taken after the session started still holds.
    s.line(2, "block yoda", 5);
    s.take_all();
    s.line(1, "private hans blocked now", 6);
    assert_eq!(
        s.take(1),
        "Your message could not be delivered as the recipient has blocked you\n"
    );
    assert_eq!(s.take(2), "");
}

#[test]
fn stopprivate_tells_both_sides() {
    let mut s = pair(Some(4001));
    s.line(1, "stopprivate hans", 1);
    assert_eq!(s.take(1), "Error. No private session with hans\n");
    accept(&mut s, 2);
    s.line(2, "stopprivate yoda", 3);
    assert_eq!(s.take(2), "Private messaging with yoda stopped\n");
    assert_eq!(s.take(1), "Private messaging with hans stopped\n");
    s.line(1, "stopprivate hans", 4);
    assert_eq!(s.take(1), "Error. No private session with hans\n");
    s.line(1, "private hans gone", 4);
    assert_eq!(s.take(1), "Error. Private messaging to hans not enabled\n");
    assert_eq!(s.chat.private.len(), (0, 0));
}

#[test]
fn logout_ends_every_session_of_the_user_and_tells_each_peer() {
    let mut s = pair(None);
    login_from(&mut s, 3, "luke", "jedi", 0);
    s.take_all();
    accept(&mut s, 1);
    s.line(3, "startprivate hans", 1);
    s.line(2, "y luke", 1);
    s.take_all();
    s.line(2, "logout", 2);
    assert_eq!(s.take(2), "You have logged out\nUsername: ");
    for k in [1, 3] {
        assert_eq!(
            s.take(k),
            "Private messaging with hans stopped\nhans logged out\n"
        );
    }
    s.line(1, "private hans hi", 3);
    assert_eq!(s.take(1), "Error. Private messaging to hans not enabled\n");
    // Logging in again on the same connection starts with no sessions and no port.
    s.line(2, "hans", 4);
    s.line(2, "falcon*solo", 4);
    s.take_all();
    s.line(2, "private yoda hi", 5);
    assert_eq!(s.take(2), "Error. Private messaging to yoda not enabled\n");
    assert_eq!(s.chat.private.len(), (0, 0));
}

#[test]
fn an_inactivity_timeout_ends_the_sessions() {
    let mut s = pair(None);
    accept(&mut s, 0);
    s.line(1, "whoelse", 100);
    s.take_all();
    s.tick(300);
    assert_eq!(s.take(2), "You have been logged out due to inactivity\n");
    assert_eq!(
        s.take(1),
        "Private messaging with hans stopped\nhans logged out\n"
    );
    s.line(1, "private hans hi", 301);
    assert_eq!(s.take(1), "Error. Private messaging to hans not enabled\n");
}

#[test]
fn a_disconnect_ends_the_sessions() {
    let mut s = pair(None);
    accept(&mut s, 1);
    s.disconnect(1, 2);
    assert_eq!(
        s.take(2),
        "Private messaging with yoda stopped\nyoda logged out\n"
    );
    assert_eq!(s.chat.private.len(), (0, 0));
}

#[test]
fn heartbeat_loss_ends_the_sessions() {
    let mut s = Sim::with(Settings {
        heartbeat: Some(Duration::from_secs(30)),
        ..settings()
    });
    login_from(&mut s, 1, "yoda", "wise", 0);
    login_from(&mut s, 2, "hans", "falcon*solo", 0);
    s.take_all();
    accept(&mut s, 0);
    s.line(1, "live", 20);
    s.tick(30);
    assert_eq!(
        s.take(1),
        "Private messaging with hans stopped\nhans logged out\n"
    );
}

#[test]
fn a_replacing_login_ends_the_old_login_s_sessions() {
    let mut s = Sim::with(Settings {
        replace_duplicate: true,
        ..settings()
    });
    login_from(&mut s, 1, "yoda", "wise", 0);
    login_from(&mut s, 2, "hans", "falcon*solo", 0);
    s.take_all();
    accept(&mut s, 0);
    login_from(&mut s, 3, "hans", "falcon*solo", 1);
    assert_eq!(s.take(1), "Private messaging with hans stopped\n");
    s.line(3, "private yoda hi", 2);
    assert_eq!(s.take(3), "Error. Private messaging to yoda not enabled\n");
}

#[test]
fn requests_to_and_from_a_user_who_leaves_are_dropped() {
    let mut s = pair(None);
    login_from(&mut s, 3, "luke", "jedi", 0);
    s.line(1, "startprivate hans", 1);
    s.line(2, "startprivate luke", 1);
    s.take_all();
    s.disconnect(2, 2);
    assert_eq!(
        s.take(1),
        "Private session request to hans expired\nhans logged out\n",
        "the requester is told at once"
    );
    assert_eq!(s.take(3), "hans logged out\n", "the asked user is not told");
    s.line(3, "y hans", 3);
    assert_eq!(s.take(3), "Error. No private session request from hans\n");
    s.tick(61);
    assert_eq!((s.take(1), s.take(3)), (String::new(), String::new()));
    assert_eq!(s.chat.private.len(), (0, 0));
}

#[test]
fn nothing_lands_on_a_later_connection_in_a_reused_slot() {
    let mut s = pair(None);
    s.line(1, "startprivate hans", 1);
    s.take_all();
    // hans's connection goes; a new one takes slot 2 with a new generation and logs in as hans.
    s.disconnect(2, 2);
    let now = s.at(3);
    let new = ConnId::new(2, 2);
    s.chat
        .handle_connect(new, None, LoginStyle::Dialog.into(), now);
    for line in ["hans", "falcon*solo", "y yoda"] {
        let input = crate::protocol::line::parse(
            crate::protocol::line::Frame::Line(line),
            s.chat.expects(new),
        );
        s.chat.handle_input(new, input, now);
    }
    s.settle();
    assert!(
        s.take(2)
            .ends_with("Error. No private session request from yoda\n"),
        "the request was made to the old connection"
    );
}
