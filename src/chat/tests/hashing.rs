//! Issue 21 in the core: a PBKDF2 password is checked a bounded number of rounds per loop
//! iteration while everyone else is served; an outdated salted SHA-256 is replaced at its next
//! successful login; wrong passwords from one address are throttled, whatever the account.

use super::{settings, Sim};
use crate::chat::hashing::ROUNDS_PER_STEP;
use crate::chat::*;
use crate::credentials::Secret;
use crate::protocol::line::text;
use crate::record::Record;
use std::net::SocketAddr;

/// Three loop steps of [`ROUNDS_PER_STEP`] (the first round is done when the check starts).
const COST: u32 = 3 * ROUNDS_PER_STEP;

fn accounts() -> String {
    let slow = Secret::pbkdf2("s3cret", [4; 16], COST);
    let old = Secret::hashed("old-pw", [5; 16]);
    format!("ann {slow}\nbob {old}\nyoda wise\nhans solo\n")
}

fn sim() -> Sim {
    Sim::with_accounts(settings(), &accounts())
}

/// Connect `k` from `ip` (the Sim's own `connect` has no address).
fn connect_from(s: &mut Sim, k: usize, ip: [u8; 4]) {
    let peer = SocketAddr::from((ip, 40000 + k as u16));
    let now = s.at(0);
    s.chat
        .handle_connect(Sim::id(k), Some(peer), LoginStyle::Dialog.into(), now);
    s.settle();
}

#[test]
fn a_slow_hash_runs_in_steps_while_others_are_served() {
    let mut s = sim();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "solo", 0);
    s.take_all();
    s.connect(3, 0);
    s.line(3, "ann", 0);
    s.line(3, "s3cret", 0);
    assert_eq!(
        s.take(3),
        "Username: Password: ",
        "not welcomed after one step"
    );
    assert!(s.chat.busy(Sim::id(3)) && s.chat.has_work());
    // Meanwhile the others chat as usual.
    s.line(1, "message hans still here", 0);
    assert_eq!(s.take(2), "yoda: still here\n");
    assert_eq!(s.take(3), "", "after two steps");
    s.tick(0);
    assert_eq!(
        s.take(3),
        text::WELCOME,
        "the third step finishes the login"
    );
    assert_eq!(s.resumed, [3], "the loop is told to read its input again");
    assert!(!s.chat.busy(Sim::id(3)) && !s.chat.has_work());
    assert_eq!(s.take(1), "ann logged in\n");
}

#[test]
fn a_wrong_password_found_in_steps_asks_again() {
    let mut s = sim();
    s.connect(1, 0);
    s.line(1, "ann", 0);
    s.line(1, "nope", 0);
    s.tick(0);
    s.tick(0);
    assert_eq!(
        s.take(1),
        "Username: Password: Invalid Password. Please try again\nPassword: "
    );
    s.line(1, "s3cret", 0);
    s.tick(0);
    s.tick(0);
    assert_eq!(s.take(1), text::WELCOME);
}

/// A connection that goes away while its hash runs: the job ends with it.
#[test]
fn a_session_closed_during_its_hash_drops_the_job() {
    let mut s = sim();
    s.connect(1, 0);
    s.line(1, "login ann s3cret", 0);
    s.disconnect(1, 0);
    assert!(!s.chat.has_work());
    s.tick(0);
    assert!(s.resumed.is_empty());
}

/// A new password is hashed in steps too; the account exists (and is committed) only then.
#[test]
fn registration_hashes_in_steps() {
    let mut settings = settings();
    settings.hash_cost = COST;
    let mut s = Sim::with_accounts(settings, &accounts());
    s.connect(1, 0);
    s.line(1, "register neo m4trix", 0);
    assert!(s.committed.is_empty() && s.chat.busy(Sim::id(1)));
    s.tick(0);
    s.tick(0);
    assert_eq!(s.take(1), format!("Username: {}", text::WELCOME));
    match s.committed.as_slice() {
        [Record::Account { user, secret }] => {
            assert_eq!(user, "neo");
            assert!(matches!(
                secret,
                Secret::Pbkdf2 {
                    iterations: COST,
                    ..
                }
            ));
            assert!(secret.verify("m4trix"));
        }
        other => panic!("{other:?}"),
    }
}

/// bob's salted SHA-256 from an older release matches at once; the PBKDF2 hash that replaces
/// it is made in steps after the welcome and committed like an account.
#[test]
fn an_outdated_hash_is_replaced_at_the_next_login() {
    let mut s = sim();
    s.connect(1, 0);
    s.line(1, "login bob old-pw", 0);
    assert_eq!(s.take(1), format!("Username: {}", text::WELCOME));
    while s.chat.has_work() {
        s.tick(0);
    }
    match s.committed.as_slice() {
        [Record::Account { user, secret }] => {
            assert_eq!(user, "bob");
            assert!(matches!(secret, Secret::Pbkdf2 { iterations: 3, .. }));
            assert!(secret.verify("old-pw") && !secret.verify("old-pw2"));
        }
        other => panic!("{other:?}"),
    }
    assert!(s
        .chat
        .credentials()
        .get("bob")
        .is_some_and(|x| !x.is_outdated()));
    s.line(1, "logout", 0);
    s.line(1, "login bob old-pw", 0);
    s.tick(0);
    assert!(s.take(1).ends_with(text::WELCOME), "the new hash works");
}

/// `--login-fail-rate 2`: the third wrong password from one address in a minute is refused
/// before any hashing, whichever account it names; another address is not affected, and a
/// minute later the bucket has refilled.
#[test]
fn failed_logins_are_throttled_per_address() {
    let mut settings = settings();
    settings.login_fail_rate = 2;
    let mut s = Sim::with_accounts(settings, &accounts());
    connect_from(&mut s, 1, [10, 0, 0, 1]);
    s.line(1, "login yoda bad1", 0);
    s.line(1, "login hans bad2", 0);
    s.take(1);
    s.line(1, "login ann s3cret", 0);
    assert_eq!(
        s.take(1),
        "Error. Too many failed logins from your address, try again later\nUsername: "
    );
    assert!(!s.chat.has_work(), "refused before hashing");
    connect_from(&mut s, 2, [10, 0, 0, 2]);
    s.line(2, "login yoda wise", 0);
    assert!(s.take(2).ends_with(text::WELCOME));
    s.line(1, "login hans solo", 31);
    assert!(
        s.take(1).ends_with(text::WELCOME),
        "a token back after 30 s"
    );
}

/// Issue 22, `OPER`: the account must be one `--operators` names (any spelling) and the
/// password its own, checked as a login's is: at once for a fast secret, in steps for a
/// PBKDF2 one (the session logged in all the while, its input waiting). Then `KILL` works.
#[test]
fn oper_needs_a_listed_account_and_its_password() {
    let mut s = sim();
    s.login(1, "hans", "solo", 0);
    s.login(2, "bob", "old-pw", 0);
    s.take_all();
    let oper = |name, password| Input::Oper { name, password };
    let kill = Input::Kill {
        user: "bob",
        reason: "bye",
    };
    let now = s.at(1);
    s.chat.handle_input(Sim::id(1), oper("hans", "solo"), now);
    s.chat.handle_input(Sim::id(1), oper("Yoda", "nope"), now);
    s.chat.handle_input(Sim::id(1), kill, now);
    s.settle();
    assert_eq!(
        s.take(1),
        "Error. Not an operator account\nError. Invalid password\n\
         Error. Only server operators can do that\n"
    );
    s.chat.handle_input(Sim::id(1), oper("Yoda", "wise"), now);
    s.settle();
    assert!(s.events.iter().any(|(k, e)| *k == 1 && *e == Event::Opered));
    s.events.clear();
    s.chat.handle_input(Sim::id(1), Input::Deoper, now);
    s.chat.handle_input(Sim::id(1), oper("ANN", "s3cret"), now);
    s.settle();
    assert!(
        s.chat.busy(Sim::id(1)),
        "a PBKDF2 password is checked in steps"
    );
    assert!(!s.events.iter().any(|(_, e)| *e == Event::Opered));
    s.tick(1);
    s.tick(1);
    assert!(!s.chat.busy(Sim::id(1)) && s.resumed.contains(&1));
    assert!(s.events.iter().any(|(k, e)| *k == 1 && *e == Event::Opered));
    s.chat.handle_input(Sim::id(1), kill, now);
    s.settle();
    assert!(s.take(2).contains("bye"), "bob was killed");
}

/// A codec's own reply queued right behind a login whose hash runs in steps (the events
/// protocol's `done` for the login's `id`) comes after the hash's outcome, not before it: a
/// bot saw `{"type":"done","id":1}` and then a `welcome` without its id.
#[test]
fn a_reply_reserved_behind_a_slow_login_follows_its_outcome() {
    use crate::event::{Event, Ticket};
    let mut s = sim();
    s.connect(1, 0);
    s.line(1, "ann", 0);
    s.line(1, "s3cret", 0);
    s.chat.reply(Sim::id(1), Event::Reserved(Ticket(7)));
    s.settle();
    s.tick(0);
    s.tick(0);
    assert_eq!(s.take(1), format!("Username: Password: {}", text::WELCOME));
    let mine: Vec<&Event> = s
        .events
        .iter()
        .filter(|(k, _)| *k == 1)
        .map(|(_, e)| e)
        .collect();
    let welcome = mine.iter().position(|e| matches!(e, Event::Welcome(_)));
    let ticket = mine
        .iter()
        .position(|e| matches!(e, Event::Reserved(Ticket(7))));
    assert!(
        matches!((welcome, ticket), (Some(w), Some(t)) if w < t),
        "{mine:?}"
    );
    // Registration too: the reply waits for the new account's hash.
    let mut settings = settings();
    settings.hash_cost = COST;
    let mut s = Sim::with_accounts(settings, &accounts());
    s.connect(2, 0);
    s.line(2, "register neo m4trix", 0);
    s.chat.reply(Sim::id(2), Event::Reserved(Ticket(8)));
    s.settle();
    assert!(!s
        .events
        .iter()
        .any(|(_, e)| *e == Event::Reserved(Ticket(8))));
    s.tick(0);
    s.tick(0);
    assert!(matches!(
        s.events.last(),
        Some((2, Event::Reserved(Ticket(8))))
    ));
}

/// A password stored at a huge cost does not hold the logins behind it: the hash with the
/// fewest rounds left goes first. Oldest first, ann waited for all 60 of big's steps (an
/// operator's `user add --hash-cost 2000000` held every login for half a minute).
#[test]
fn a_huge_hash_cost_does_not_hold_the_logins_behind_it() {
    let big = Secret::pbkdf2("b1g", [6; 16], 60 * ROUNDS_PER_STEP);
    let mut s = Sim::with_accounts(settings(), &format!("{}big {big}\n", accounts()));
    s.connect(1, 0);
    s.line(1, "big", 0);
    s.line(1, "b1g", 0);
    s.connect(2, 0);
    s.line(2, "ann", 0);
    s.line(2, "s3cret", 0);
    s.take_all();
    for _ in 0..3 {
        s.tick(0);
    }
    assert_eq!(s.take(2), text::WELCOME, "ann's three steps came first");
    assert!(s.chat.busy(Sim::id(1)), "big's hash goes on");
    for _ in 0..60 {
        s.tick(0);
    }
    assert_eq!(s.take(1), text::WELCOME);
    assert!(!s.chat.has_work());
}

/// A name taken while a new account's password is hashed (issue 21's window) is refused at
/// the end as at the start (PROTOCOL.md §1a): by a guest, who stays online (it was replaced
/// as a duplicate login, its connection closed), or by an account in another case (two
/// accounts `neo` and `NEO` were made).
#[test]
fn a_name_taken_while_its_password_is_hashed_is_refused() {
    let mut settings = settings();
    settings.hash_cost = COST;
    let mut s = Sim::with_accounts(settings, &accounts());
    s.connect(1, 0);
    s.line(1, "register neo m4trix", 0);
    assert!(s.chat.busy(Sim::id(1)));
    let now = s.at(0);
    s.chat
        .handle_connect(Sim::id(2), None, LoginStyle::Guest.into(), now);
    let guest = Input::Guest {
        name: "Neo",
        any_free: false,
    };
    s.chat.handle_input(Sim::id(2), guest, now);
    s.settle();
    assert_eq!(s.take(2), text::WELCOME);
    s.tick(0);
    s.tick(0);
    assert_eq!(
        s.take(1),
        "Username: Error. Neo is already logged in\nUsername: "
    );
    assert_eq!(s.take(2), "", "the guest is not logged out");
    assert!(s.committed.is_empty(), "{:?}", s.committed);

    s.line(1, "register trin1ty pw-one", 0);
    s.connect(3, 0);
    s.line(3, "register TRIN1TY pw-two", 0);
    for _ in 0..4 {
        s.tick(0);
    }
    let made: Vec<String> = s
        .committed
        .iter()
        .filter_map(|r| match r {
            Record::Account { user, .. } => Some(user.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(made, ["trin1ty"]);
    assert_eq!(
        s.take(3),
        "Username: Error. trin1ty already exists\nUsername: "
    );
}

/// Two one-go logins (IRC's `PASS`) of one account whose password is hashed in steps: the
/// first is welcomed; the second, refused when its hash ends because the account is online by
/// then, is closed as a wrong password's would be (it stayed open, waiting for nothing).
#[test]
fn a_one_go_login_refused_after_its_hash_is_closed() {
    let mut s = sim();
    let now = s.at(0);
    for k in [1, 2] {
        s.chat
            .handle_connect(Sim::id(k), None, LoginStyle::Guest.into(), now);
        let login = Input::Login {
            user: "ann",
            password: "s3cret",
        };
        s.chat.handle_input(Sim::id(k), login, now);
        s.settle();
    }
    assert!(s.chat.busy(Sim::id(1)) && s.chat.busy(Sim::id(2)));
    for _ in 0..6 {
        s.tick(0);
    }
    assert_eq!(s.take(1), text::WELCOME);
    assert_eq!(
        s.take(2),
        "Error. ann is already logged in\nUsername: Goodbye\n"
    );
    assert_eq!(
        s.closed,
        vec![(2, "after flush")],
        "the refused one is closed"
    );
}
