//! Issue 17, F1 and F3 through the front-ends: values a record could not hold in format 1, sent
//! the way an attacker did. The core refuses them at the front door (`crate::valid`: a key or
//! mask with a space, text with a control character), writes nothing, and the server restarts
//! as before; the record-level tests (`src/store/format_tests.rs`) keep proving that any value
//! a record holds reads back.

mod common;
mod frontends_util;

use common::Client;
use frontends_util::Proc;
use std::net::SocketAddr;

const S: &str = "chatserver";

fn irc_addr(p: &Proc) -> SocketAddr {
    let line = p.stdout_line();
    line.strip_prefix("chatserver irc listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("expected the IRC listening line, got {line:?}"))
}

/// An IRC guest called `nick`, past the welcome.
fn guest(addr: SocketAddr, nick: &str) -> Client {
    let mut c = Client::connect(addr);
    c.send(&format!("NICK {nick}\r\nUSER {nick} 0 * :{nick}"));
    while !c.expect_line().contains(" 422 ") {}
    c.name = nick.to_string();
    c
}

/// F1: a guest's `MODE #m +b :x y` wrote `room-access m x y ban`, which did not parse back:
/// the next start refused to run. A key and a mask with a space lost the channel's settings.
/// Now each is refused with a notice, nothing is written, and the next start serves.
#[test]
fn f1_irc_values_with_spaces_are_refused_and_the_server_restarts() {
    let p = Proc::start(&["--irc-port", "0", "--irc-guests"]);
    let mut mal = guest(irc_addr(&p), "mal");
    mal.send("JOIN #m\r\nMODE #m +b :x y\r\nMODE #m +k :a b\r\nMODE #m +b :x!y z@h\r\nMODE #m +b");
    mal.expect_line();
    while !mal.expect_line().contains(" 366 ") {}
    mal.expect(&format!(":{S} NOTICE mal :Error. Invalid ban mask\r\n"));
    mal.expect(&format!(":{S} 696 mal #m k * :Error. Invalid key\r\n"));
    mal.expect(&format!(":{S} NOTICE mal :Error. Invalid ban mask\r\n"));
    mal.expect(&format!(":{S} 368 mal #m :End of channel ban list\r\n"));
    let p = p.restart();
    let mut eve = guest(irc_addr(&p), "eve");
    eve.send("JOIN #m\r\nMODE #m");
    eve.expect(&format!(":eve!eve@{S} JOIN #m\r\n"));
    while !eve.expect_line().contains(" 366 ") {}
    let modes = eve.expect_line();
    assert_eq!(
        modes,
        format!(":{S} 324 eve #m +nt\r"),
        "a new room: mal's closed with it"
    );
}

/// F3: a JSON escape put a newline into a message for an offline user; the record was refused
/// and the whole group commit with it, so other users' commands failed too. Now the message is
/// refused alone at the front door, and the others' messages are kept and delivered.
#[test]
fn f3_a_json_message_with_a_newline_is_refused_alone() {
    let p = Proc::start(&[]);
    let mut eve = Client::connect(p.json.expect("json port"));
    eve.expect("[*] Welcome to the chat room!\n[*] Please enter your user name to get started.\n");
    eve.send_raw(br#"{"msgType": "<first>", "content": "eve"}"#);
    eve.expect(
        "\nServer: Welcome eve!\n\nChoose msg options.\nType <help> to see the list of options\n",
    );
    eve.send_raw(br#"{"msgType": "<private>", "content": "two\nlines", "target": "yoda"}"#);
    eve.expect("\n[*] Error. Text may not contain control characters (tab is allowed)");
    let mut hans = p.login("hans", "falcon*solo");
    hans.send("message yoda after eve");
    hans.send("whoami");
    hans.expect("username : hans\n");
    let p = p.restart();
    let mut yoda = p.connect();
    yoda.login("yoda", "wise");
    yoda.expect("hans: after eve\n");
}

/// F6: the command penalty is kept per address for as long as it runs, so a flooder gains
/// nothing by reconnecting. With a second of penalty per command, thirteen commands put the
/// address thirteen seconds ahead; a new connection from it is not read until it is back
/// under ten (`--max-per-ip` given: loopback is then limited like any address).
#[test]
fn f6_the_command_penalty_survives_a_reconnect() {
    let server = common::Server::start(&["--penalty-us", "1000000", "--max-per-ip", "64"]);
    let mut flood = server.connect();
    flood.expect("Username: ");
    flood.send_raw(format!("{}exit\n", "help\n".repeat(12)).as_bytes());
    for _ in 0..12 {
        while !flood.expect_line().starts_with("exit") {}
        flood.expect("Username: ");
    }
    flood.expect("Goodbye\n");
    flood.expect_closed();
    let mut again = server.connect();
    again.expect("Username: ");
    again.send("help");
    again.expect_silence(1500);
    let first = again.expect_line();
    assert!(first.starts_with("Type a username"), "{first}");
}

/// F14: one reply larger than `--max-output` (here `history 300`, about 20 KiB against 8 KiB)
/// cut a client that was reading. Now it is paced as the client drains, and arrives whole.
#[test]
fn f14_a_history_larger_than_the_output_cap_reaches_a_reader() {
    let server = common::Server::start(&["--max-output", "8192"]);
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.login("yoda", "wise");
    hans.expect("yoda logged in\n");
    for i in 0..300 {
        hans.send(&format!(
            "broadcast message {i:03} of a history longer than the cap"
        ));
        yoda.expect(&format!(
            "hans: message {i:03} of a history longer than the cap\n"
        ));
    }
    yoda.send("history 300");
    for i in 0..300 {
        let line = yoda.expect_line();
        assert!(
            line.ends_with(&format!(
                "hans: message {i:03} of a history longer than the cap"
            )),
            "{line}"
        );
    }
    yoda.send("whoelse");
    yoda.expect("hans\n");
}
