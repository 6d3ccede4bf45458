//! Issue 22, over real sockets: an IRC guest that proves an account with SASL after
//! registration keeps its nick, and a line user reaches it by either name; what the account
//! owns (a block) is durable under the account and survives a kill -9 and restart, while the
//! nick is free again.

mod common;
mod frontends_util;

use common::Client;
use std::net::SocketAddr;

const S: &str = "chatserver";

fn irc_addr(p: &frontends_util::Proc) -> SocketAddr {
    let line = p.stdout_line();
    line.strip_prefix("chatserver irc listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("expected the IRC listening line, got {line:?}"))
}

/// The guest `bar` registers, then authenticates as `luke` with SASL PLAIN and stays `bar`;
/// the line user `yoda` messages it as `bar` and as `luke`, blocks it, and after a kill -9 and
/// restart the block is `luke`'s, `bar` is unknown and `luke`'s mail waits in its mailbox.
#[test]
fn a_guest_authenticating_after_registration_is_reached_by_both_names() {
    let p = frontends_util::Proc::start(&["--irc-port", "0", "--irc-guests"]);
    let addr = irc_addr(&p);
    let mut yoda = p.login("yoda", "wise");
    let mut bar = Client::connect(addr);
    bar.send("NICK bar\r\nUSER bar 0 * :Bar");
    bar.expect(&format!(
        ":{S} 001 bar :Welcome to the chatserver IRC network, bar\r\n"
    ));
    while !bar.expect_line().contains(" 422 ") {}
    yoda.expect("bar logged in\n");

    bar.send("AUTHENTICATE PLAIN");
    bar.expect("AUTHENTICATE +\r\n");
    let payload = chatserver::base64::encode(b"\0luke\0jedi");
    bar.send(&format!("AUTHENTICATE {payload}"));
    bar.expect(&format!(
        ":{S} 900 bar bar!bar@{S} luke :You are now logged in as luke\r\n"
    ));
    bar.expect(&format!(":{S} 903 bar :SASL authentication successful\r\n"));
    bar.send("AUTHENTICATE PLAIN");
    bar.expect(&format!(":{S} 907 bar :You have already authenticated\r\n"));

    yoda.send("message bar by the nick");
    bar.expect(&format!(":yoda!yoda@{S} PRIVMSG bar :by the nick\r\n"));
    yoda.send("message luke by the account");
    bar.expect(&format!(":yoda!yoda@{S} PRIVMSG bar :by the account\r\n"));
    bar.send("PRIVMSG yoda :seen as bar");
    yoda.expect("bar: seen as bar\n");
    bar.send("WHOIS luke");
    let mut account = String::new();
    loop {
        let line = bar.expect_line();
        if line.contains(" 330 ") {
            account = line;
        } else if line.contains(" 318 ") {
            break;
        }
    }
    assert_eq!(account, format!(":{S} 330 bar bar luke :is logged in as\r"));
    // WHO, ISON and MONITOR of the account's name find the session too: WHO shows it as
    // `bar`; ISON and MONITOR answer with the name asked, as a client watching `luke` expects.
    bar.send("WHO luke");
    bar.expect(&format!(":{S} 352 bar * bar {S} {S} bar H :0 Bar\r\n"));
    while !bar.expect_line().contains(" 315 ") {}
    bar.send("ISON luke nobody");
    bar.expect(&format!(":{S} 303 bar luke\r\n"));
    bar.send("MONITOR + luke");
    bar.expect(&format!(":{S} 730 bar luke!luke@{S}\r\n"));
    yoda.send("whoelse");
    yoda.expect("bar\n");
    yoda.send("block bar");
    yoda.expect("bar is blocked\n");

    let p = p.restart();
    let _ = irc_addr(&p);
    let mut yoda = p.login("yoda", "wise");
    yoda.send("message bar gone");
    yoda.expect("Error. Invalid user\n");
    yoda.send("unblock luke");
    yoda.expect("luke is unblocked\n");
    yoda.send("message luke kept for later");
    let mut luke = p.connect();
    luke.login("luke", "jedi");
    luke.expect("yoda: kept for later\n");
}
