//! Slow password hashes end to end (issue 21): a PBKDF2 account logs in (IRC: tests/irc.rs);
//! what a client sends right after its password is taken in order once the hash is
//! done; and during a burst of 100 logins at the default cost the users already online keep
//! chatting (the hashes run a bounded slice per loop iteration).

mod common;

use chatserver::credentials::Secret;
use common::{Client, Server, WELCOME};
use std::fmt::Write as _;

/// `n` accounts `b<i>` / `pw<i>` hashed with PBKDF2 at `cost`.
fn hashed_accounts(n: usize, cost: u32) -> String {
    let mut out = String::new();
    for i in 0..n {
        let secret = Secret::pbkdf2(&format!("pw{i}"), [i as u8; 16], cost);
        let _ = writeln!(out, "b{i} {secret}");
    }
    out
}

#[test]
fn pipelined_commands_after_a_slow_login_come_in_order() {
    let server = Server::start_with_credentials(&hashed_accounts(1, 10_000), &[]);
    let mut hans = server.login("hans", "falcon*solo");
    let mut c = server.connect();
    c.expect("Username: ");
    c.send_raw(b"login b0 pw0\nmessage hans first\nlogout\nlogin b0 wrong\nlogin b0 pw0\n");
    c.expect(WELCOME);
    c.expect("You have logged out\nUsername: ");
    c.expect("Invalid Password. Please try again\nUsername: ");
    c.expect(WELCOME);
    hans.expect("b0 logged in\nb0: first\nb0 logged out\nb0 logged in\n");
}

#[test]
fn a_burst_of_slow_logins_does_not_stop_the_chat() {
    const N: usize = 100;
    let server = Server::start_with_credentials(&hashed_accounts(N, 2_000), &["--no-presence"]);
    let mut yoda = server.login("yoda", "wise");
    let mut hans = server.login("hans", "falcon*solo");
    let mut burst: Vec<Client> = (0..N).map(|_| server.connect()).collect();
    for (i, c) in burst.iter_mut().enumerate() {
        c.expect("Username: ");
        c.send(&format!("login b{i} pw{i}"));
    }
    // The 100 hashes take many loop iterations; a message sent now gets through long before
    // the last of them is done.
    yoda.send("message hans during the burst");
    hans.expect("yoda: during the burst\n");
    let mut pending = 0;
    for c in burst.iter_mut() {
        let mut one = [0u8; 1];
        if !c.try_read_exact(&mut one, std::time::Duration::ZERO) {
            pending += 1;
        }
    }
    assert!(pending > 0, "all {N} logins were done before one message");
    for c in burst.iter_mut() {
        c.expect(WELCOME);
    }
}
