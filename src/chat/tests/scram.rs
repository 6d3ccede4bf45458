//! Issue 22: SASL SCRAM-SHA-256 in the core. A test client computes its proof from the
//! password as RFC 5802 says; the core holds only the PBKDF2 key.

use super::{settings, Sim};
use crate::chat::*;
use crate::credentials::Secret;
use crate::event::Notice;
use crate::kdf::Pbkdf2;
use std::sync::Arc;

/// `zed` (password `pw-zed`) stored as PBKDF2; `hans` in plaintext, as the sample file has it.
fn sim() -> Sim {
    let zed = Secret::pbkdf2("pw-zed", [5; 16], 50);
    Sim::with_accounts(settings(), &format!("zed {zed}\nhans falcon*solo\n"))
}

fn scram(s: &mut Sim, k: usize, first: bool, message: &str) -> Vec<Event> {
    let now = s.at(1);
    s.chat
        .handle_input(Sim::id(k), Input::Scram { first, message }, now);
    s.settle();
    let (mine, rest) = std::mem::take(&mut s.events)
        .into_iter()
        .partition(|(c, _)| *c == k);
    s.events = rest;
    s.take(k);
    mine.into_iter()
        .map(|(_, e)| e)
        .filter(|e| !matches!(e, Event::Prompt(_)))
        .collect()
}

fn challenge(events: &[Event]) -> String {
    match events {
        [Event::ScramChallenge(m)] => m.to_string(),
        other => panic!("expected one SCRAM challenge, got {other:?}"),
    }
}

/// The client's side: from the server's first message and the password, the final message
/// and the server signature it must then see.
fn client_final(client_first_bare: &str, server_first: &str, password: &str) -> (String, String) {
    let field = |k: &str| {
        server_first
            .split(',')
            .find_map(|a| a.strip_prefix(k))
            .expect("field")
            .to_string()
    };
    let (nonce, salt, iterations) = (field("r="), field("s="), field("i="));
    let salt = crate::base64::decode(&salt).expect("salt");
    let salted = Pbkdf2::derive(password.as_bytes(), &salt, iterations.parse().expect("i"));
    let without_proof = format!("c=biws,r={nonce}");
    let auth = format!("{client_first_bare},{server_first},{without_proof}");
    let (proof, signature) = crate::scram::client_proof(&salted, &auth);
    (
        format!("{without_proof},p={}", crate::base64::encode(&proof)),
        format!("v={}", crate::base64::encode(&signature)),
    )
}

/// Log in with SCRAM up to the server's signature; returns what the proof got.
fn exchange(s: &mut Sim, k: usize, user: &str, password: &str) -> (Vec<Event>, String) {
    let bare = format!("n={user},r=clientnonce{k}");
    let server_first = challenge(&scram(s, k, true, &format!("n,,{bare}")));
    assert!(
        server_first.starts_with(&format!("r=clientnonce{k}")),
        "{server_first}"
    );
    let (fin, signature) = client_final(&bare, &server_first, password);
    (scram(s, k, false, &fin), signature)
}

/// The right password: the server proves it holds the key, the client's empty answer proves
/// the account, and the registration ends logged in, as with PLAIN.
#[test]
fn the_right_password_proves_the_account_without_crossing_the_wire() {
    let mut s = sim();
    s.connect(1, 0);
    let (got, signature) = exchange(&mut s, 1, "zed", "pw-zed");
    assert_eq!(challenge(&got), signature, "the server signs with the key");
    assert_eq!(
        scram(&mut s, 1, false, ""),
        vec![Event::Authenticated(Arc::from("zed"))]
    );
    // The casemapping applies as for a password: `ZED` names `zed`.
    s.connect(2, 0);
    let (got, _) = exchange(&mut s, 2, "ZED", "pw-zed");
    assert!(
        matches!(got.as_slice(), [Event::ScramChallenge(_)]),
        "{got:?}"
    );
}

/// A wrong password counts against the account as any wrong password does: the third locks it.
#[test]
fn wrong_proofs_count_toward_the_lockout() {
    let mut s = sim();
    s.connect(1, 0);
    for _ in 0..2 {
        let (got, _) = exchange(&mut s, 1, "zed", "nope");
        assert_eq!(got, vec![Event::Notice(Notice::BadPassword)]);
    }
    let (got, _) = exchange(&mut s, 1, "zed", "nope");
    assert_eq!(got, vec![Event::Notice(Notice::NowLocked)]);
    // Locked: the right password is refused too, on another connection.
    s.connect(2, 0);
    let (got, _) = exchange(&mut s, 2, "zed", "pw-zed");
    assert_eq!(got, vec![Event::Notice(Notice::StillLocked)]);
}

/// An unknown name gets a salt like any account's (the same every time) and fails at the proof;
/// an account kept in plaintext has no key: refused without counting as a wrong password.
#[test]
fn unknown_names_and_plaintext_accounts_fail_at_the_proof() {
    let mut s = sim();
    s.connect(1, 0);
    let first = |s: &mut Sim| challenge(&scram(s, 1, true, "n,,n=ghost,r=abc"));
    let salt_of = |m: &str| m.split(',').nth(1).map(str::to_string);
    let (a, b) = (first(&mut s), first(&mut s));
    assert_eq!(salt_of(&a), salt_of(&b), "a stand-in salt is stable");
    assert!(a.ends_with(",i=3"), "the configured cost: {a}");
    let (fin, _) = client_final("n=ghost,r=abc", &b, "x");
    assert_eq!(
        scram(&mut s, 1, false, &fin),
        vec![Event::Error(Error::UnknownUsername)]
    );
    for _ in 0..4 {
        let (got, _) = exchange(&mut s, 1, "hans", "falcon*solo");
        assert_eq!(got, vec![Event::Error(Error::InvalidPassword)]);
    }
}

/// Messages out of turn or malformed are refused and change nothing.
#[test]
fn malformed_and_out_of_turn_messages_are_refused() {
    let mut s = sim();
    s.connect(1, 0);
    let invalid = vec![Event::Error(Error::InvalidCommand)];
    assert_eq!(scram(&mut s, 1, false, "c=biws,r=x,p=AAAA"), invalid);
    assert_eq!(scram(&mut s, 1, false, ""), invalid);
    assert_eq!(scram(&mut s, 1, true, "p=tls-unique,,n=zed,r=x"), invalid);
    assert_eq!(scram(&mut s, 1, true, "n,,n=zed"), invalid);
    // An exchange whose final message carries another nonce.
    challenge(&scram(&mut s, 1, true, "n,,n=zed,r=abc"));
    assert_eq!(scram(&mut s, 1, false, "c=biws,r=other,p=AAAA"), invalid);
    // A new first message starts over.
    let (got, _) = exchange(&mut s, 1, "zed", "pw-zed");
    assert!(
        matches!(got.as_slice(), [Event::ScramChallenge(_)]),
        "{got:?}"
    );
}

/// Issue 22: SCRAM after an IRC guest's registration logs the guest in to the account under
/// its own name, as PLAIN does.
#[test]
fn scram_after_registration_keeps_the_guests_name() {
    let mut s = sim();
    s.login(1, "hans", "falcon*solo", 0);
    super::ircv3::guest(&mut s, 3, "bar", 0);
    s.take_all();
    s.events.clear();
    let (got, signature) = exchange(&mut s, 3, "zed", "pw-zed");
    assert_eq!(challenge(&got), signature);
    assert_eq!(
        scram(&mut s, 3, false, ""),
        vec![Event::Authenticated(Arc::from("zed"))]
    );
    s.line(1, "message zed hi", 2);
    assert_eq!(s.take(3), "hans: hi\n");
    s.line(1, "whoelse", 2);
    assert_eq!(s.take(1), "bar\n");
}
