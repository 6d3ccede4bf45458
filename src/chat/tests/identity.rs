//! Issue 17 in the core: one casemapping for every name (F12, F17's name side), the text rule
//! on every input that carries text (F2's server half), and registration never logging an
//! online guest out (F15). Rendered through the line codec's texts.

use super::{settings, Sim};
use crate::chat::*;
use crate::input::Kind;
use crate::input::RoomInput;
use crate::protocol::line::text;

fn input(s: &mut Sim, k: usize, input: Input<'_>, secs: u64) {
    let now = s.at(secs);
    s.chat.handle_input(Sim::id(k), input, now);
    s.settle();
}

/// Connect `k` as a JSON-style guest and try the name `name`; returns what it was told.
fn try_guest(s: &mut Sim, k: usize, name: &str) -> String {
    let now = s.at(0);
    s.chat
        .handle_connect(Sim::id(k), None, LoginStyle::Guest.into(), now);
    input(
        s,
        k,
        Input::Guest {
            name,
            any_free: false,
        },
        0,
    );
    s.take(k)
}

/// F12: a guest cannot take an online or registered name in another case (`YODA` while `yoda`
/// is on; JSON `Hans` beside line `hans`), and the refused guest may pick another name.
#[test]
fn f12_guest_names_are_taken_in_any_case() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    assert_eq!(
        try_guest(&mut s, 2, "YODA"),
        "Error. The name YODA is taken\n"
    );
    input(
        &mut s,
        2,
        Input::Guest {
            name: "Hans",
            any_free: false,
        },
        0,
    );
    assert_eq!(
        s.take(2),
        "Error. The name Hans is taken\n",
        "an account too"
    );
    input(
        &mut s,
        2,
        Input::Guest {
            name: "Eve",
            any_free: false,
        },
        0,
    );
    assert_eq!(s.take(2), text::WELCOME);
    assert_eq!(
        try_guest(&mut s, 3, "eVE"),
        "Error. The name eVE is taken\n"
    );
}

/// F12: every spelling of a name reaches the one user, who keeps its own spelling: messages,
/// blocks, profiles, WHOIS, private sessions, the login prompt.
#[test]
fn f12_any_spelling_addresses_the_one_user() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.connect(2, 0);
    s.take(2);
    s.line(2, "HANS", 0);
    assert_eq!(
        s.take(2),
        text::PASSWORD,
        "HANS at the prompt is the account hans"
    );
    s.line(2, "falcon*solo", 0);
    assert_eq!(s.take(2), text::WELCOME);
    assert_eq!(
        s.take(1),
        "hans logged in\n",
        "shown as the account spells it"
    );
    s.line(1, "message HaNs hello", 1);
    assert_eq!(s.take(2), "yoda: hello\n");
    s.line(1, "message YODA me", 1);
    assert_eq!(s.take(1), text::MESSAGE_SELF);
    s.line(2, "block YoDa", 1);
    assert_eq!(s.take(2), "yoda is blocked\n");
    s.line(1, "message hans again", 1);
    assert_eq!(s.take(1), text::BLOCKED_BY_RECIPIENT);
    s.line(2, "unblock YODA", 1);
    assert_eq!(s.take(2), "yoda is unblocked\n");
    input(&mut s, 2, Input::Whois { name: "YODA" }, 1);
    assert_eq!(s.take(2), "yoda (yoda@hidden): yoda\n");
    s.line(1, "view-profile HANS", 1);
    assert!(s.take(1).starts_with("username : hans\n"));
    s.line(1, "register Luke x", 1);
    assert_eq!(s.take(1), text::INVALID_COMMAND, "logged in: not a command");
    s.connect(3, 1);
    s.take(3);
    s.line(3, "register LUKE pw", 1);
    assert_eq!(s.take(3), "Error. luke already exists\nUsername: ");
    s.line(3, "login LUKE jedi", 1);
    assert_eq!(s.take(3), text::WELCOME);
}

/// F12: WHOIS finds the user of that name, never another whose name differs only in case.
#[test]
fn f12_whois_answers_for_the_user_named() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    assert_eq!(
        try_guest(&mut s, 2, "YODA"),
        "Error. The name YODA is taken\n"
    );
    input(
        &mut s,
        2,
        Input::Guest {
            name: "Moo",
            any_free: false,
        },
        0,
    );
    s.take_all();
    input(&mut s, 2, Input::Whois { name: "YODA" }, 0);
    assert_eq!(s.take(2), "yoda (yoda@hidden): yoda\n");
}

/// Accounts in an old credentials file that differ only in case both still log in by their
/// exact names; a folded lookup finds the lower-case one; no new spelling can be registered.
#[test]
fn legacy_accounts_differing_in_case_both_work() {
    let creds = crate::credentials::Credentials::parse("Ann a1\nann a2\nANN a3\n")
        .expect("credentials parse");
    let now = Now {
        mono: std::time::Instant::now(),
        wall: std::time::SystemTime::UNIX_EPOCH,
    };
    let chat = Chat::new(settings(), creds, now, [1; 32]);
    assert_eq!(chat.known_user("Ann").as_deref(), Some("Ann"));
    assert_eq!(chat.known_user("ANN").as_deref(), Some("ANN"));
    assert_eq!(chat.known_user("aNN").as_deref(), Some("ann"));
    assert!(chat.name_taken("aNn"));
}

/// F15: registering a name an online guest holds refuses the registration, in either
/// `--duplicate-login` mode, in any case, and the guest stays online.
#[test]
fn f15_registering_a_guest_name_refuses_and_keeps_the_guest() {
    for replace in [false, true] {
        let mut s = Sim::with(Settings {
            replace_duplicate: replace,
            ..settings()
        });
        assert_eq!(try_guest(&mut s, 1, "Moo"), text::WELCOME);
        s.connect(2, 0);
        s.take(2);
        s.line(2, "register Moo pw", 0);
        assert_eq!(s.take(2), "Error. Moo is already logged in\nUsername: ");
        s.line(2, "register moo pw", 0);
        assert_eq!(s.take(2), "Error. Moo is already logged in\nUsername: ");
        s.line(2, "MOO", 0);
        assert_eq!(s.take(2), "Error. Moo is already logged in\nUsername: ");
        assert!(s.closed.is_empty(), "nobody closed ({replace})");
        assert_eq!(s.chat.online_count(), 1);
        assert!(s.committed.is_empty(), "no account written");
        assert_eq!(s.take(1), "", "the guest was told nothing");
    }
}

/// F2 (the server half) and the text rule: a control character other than tab in any text
/// is refused with one clear error, whatever the front-end; nothing reaches anyone.
#[test]
fn f2_text_with_control_characters_is_refused_everywhere() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    assert_eq!(try_guest(&mut s, 2, "eve"), text::WELCOME);
    s.take_all();
    let forged = "hi\nhans: send me your password\nP2P hans 127.0.0.1 4444 00";
    let inputs = [
        Input::Message {
            to: "yoda",
            text: forged,
            kind: Kind::Say,
            relay: None,
        },
        Input::Announce { text: forged },
        Input::Broadcast { text: "\x1b[2Jboo" },
        Input::Private {
            to: "yoda",
            text: "a\rb",
        },
    ];
    for i in inputs {
        input(&mut s, 2, i, 1);
        assert_eq!(s.take(2), text::INVALID_TEXT, "{i:?}");
        assert_eq!(s.take(1), "", "{i:?} reached nobody");
    }
    // A profile is an account's (a guest's is refused whatever its text).
    let (attribute, value) = ("job", "a\0b");
    input(&mut s, 1, Input::SetProfile { attribute, value }, 1);
    assert_eq!(s.take(1), text::INVALID_TEXT);
    s.line(1, "open-chatroom den public", 1);
    s.line(1, "enter-chatroom den", 1);
    s.take(1);
    s.line(1, "set-topic den \x07bell", 1);
    assert_eq!(s.take(1), text::INVALID_TEXT);
    s.line(1, "\x1b]0;title\x07", 1);
    assert_eq!(s.take(1), text::INVALID_TEXT, "room chat too");
    input(
        &mut s,
        2,
        Input::Message {
            to: "yoda",
            text: "tab\tok",
            kind: Kind::Say,
            relay: None,
        },
        1,
    );
    assert_eq!(s.take(1), "eve: tab\tok\n", "tab is text");
    assert_eq!(
        s.chat.stats().messages,
        1,
        "only the accepted message counts"
    );
}

/// `stats` counts every kind of message, from every front-end and menu.
#[test]
fn stats_counts_every_kind_of_message() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.line(1, "message hans a", 1);
    s.line(1, "broadcast b", 1);
    s.line(1, "announce c", 1);
    s.line(1, "BM", 1);
    s.line(1, "d", 1);
    s.line(1, "PM", 1);
    s.line(1, "hans", 1);
    s.line(1, "e", 1);
    s.line(1, "open-chatroom den public", 1);
    s.line(1, "enter-chatroom den", 1);
    s.line(1, "f", 1);
    let say = |text, notice| {
        Input::Room(RoomInput::Say {
            room: Some("den"),
            text,
            kind: if notice { Kind::Notice } else { Kind::Say },
            relay: None,
        })
    };
    input(&mut s, 2, say("g", false), 1);
    let join = RoomInput::Join {
        room: "den",
        key: None,
        create: true,
        current: false,
    };
    input(&mut s, 2, Input::Room(join), 1);
    input(&mut s, 2, say("h", true), 1);
    assert_eq!(s.chat.stats().messages, 7, "a-f and h; g was refused");
}

/// A name taken now (a new account, a guest, a guest's rename, the operator's `user add`) must
/// show as itself on every front-end: IRC reads a source `yoda!x!yoda!x@server` as the nick
/// `yoda`, so a line user who registered `yoda!x` spoke to IRC users as yoda. Such names are
/// refused on every path; nothing is written; an existing account keeps working.
#[test]
fn names_irc_would_misread_are_refused_everywhere() {
    let mut s = Sim::with_accounts(settings(), "yoda wise\nold!name pw\n");
    for bad in ["yoda!x", "a@b", "a,b", "x*", ":x", "#x", "+x"] {
        s.connect(1, 0);
        s.take(1);
        s.line(1, bad, 0);
        assert_eq!(
            s.take(1),
            format!("{}{}", text::INVALID_USERNAME, text::USERNAME),
            "dialog {bad:?}"
        );
        s.line(1, &format!("register {bad} pw"), 0);
        assert_eq!(
            s.take(1),
            format!("{}{}", text::INVALID_USERNAME, text::USERNAME),
            "one-line {bad:?}"
        );
        s.disconnect(1, 0);
        assert_eq!(
            try_guest(&mut s, 2, bad),
            text::INVALID_USERNAME,
            "guest {bad:?}"
        );
        s.disconnect(2, 0);
        let add = AccountOp::Add {
            user: bad.to_string(),
            secret: crate::credentials::Secret::Plain("pw".into()),
        };
        assert!(s.chat.check_account_op(add).is_err(), "user add {bad:?}");
    }
    assert!(s.committed.is_empty(), "{:?}", s.committed);
    try_guest(&mut s, 3, "moo");
    input(&mut s, 3, Input::Rename { name: "yoda!x" }, 0);
    assert_eq!(s.take(3), text::INVALID_USERNAME);
    s.login(4, "old!name", "pw", 0);
}
