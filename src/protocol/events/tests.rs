//! The events protocol's mapping both ways: every core input survives request → JSON →
//! request → input unchanged, and every event renders as one line of valid JSON with its
//! `type` and named fields.

use super::render::render;
use super::request::{Envelope, Request, Unoffered};
use crate::event::*;
use crate::input::{
    Conversation, Input, LineError, Mark, Menu, MonitorInput, Replay, RoomChange, RoomInput,
};
use std::sync::Arc;

fn a(s: &str) -> Arc<str> {
    Arc::from(s)
}

/// One of every input (and every room input and change).
fn inputs() -> Vec<Input<'static>> {
    const CHANGES: &[RoomChange<'static>] = &[
        RoomChange::Private(true),
        RoomChange::Secret(false),
        RoomChange::TopicLock(true),
        RoomChange::NoOutside(false),
        RoomChange::Key(Some("k")),
        RoomChange::Key(None),
        RoomChange::Op("bob", true),
        RoomChange::Voice("bob", false),
        RoomChange::Ban("*!*@x", true),
    ];
    let room = Some("den");
    vec![
        Input::Answer("yoda"),
        Input::Login {
            user: "yoda",
            password: "wise",
        },
        Input::Register {
            user: "ann",
            password: "pw",
        },
        Input::Guest {
            name: "g",
            any_free: true,
        },
        Input::Message {
            to: "hans",
            text: "hi \"there\"\t",
            kind: Kind::Say,
            relay: None,
        },
        Input::Message {
            to: "hans",
            text: "waves",
            kind: Kind::Action,
            relay: None,
        },
        Input::Broadcast { text: "all" },
        Input::Announce { text: "ann" },
        Input::WhoElse,
        Input::WhoElseSince { seconds: u64::MAX },
        Input::Block { user: "luke" },
        Input::Unblock { user: "luke" },
        Input::Logout,
        Input::Exit,
        Input::Help,
        Input::Live,
        Input::Describe {
            username: "u",
            realname: "Real Name",
        },
        Input::Away {
            message: Some("lunch"),
        },
        Input::Away { message: None },
        Input::NoPresence,
        Input::Invisible(true),
        Input::Whois { name: "hans" },
        Input::Who { mask: "h*" },
        Input::Quit { reason: "bye" },
        Input::StartPrivate {
            user: "hans",
            address: true,
        },
        Input::Consent {
            user: "hans",
            yes: false,
        },
        Input::Private {
            to: "hans",
            text: "psst",
        },
        Input::StopPrivate { user: "hans" },
        Input::P2pPort {
            port: Some(4000),
            key: Some("ab"),
        },
        Input::P2pPort {
            port: None,
            key: None,
        },
        Input::ListAddrs,
        Input::WhoAmI,
        Input::ViewProfile { user: "hans" },
        Input::SetProfile {
            attribute: "job",
            value: "pilot, smuggler",
        },
        Input::ListUsers,
        Input::Menu(Menu::Private),
        Input::Menu(Menu::Broadcast),
        Input::Menu(Menu::Message),
        Input::History { n: Some(5) },
        Input::History { n: None },
        Input::Room(RoomInput::Open {
            room: "den",
            private: true,
        }),
        Input::Room(RoomInput::Join {
            room: "den",
            key: Some("k"),
            create: true,
            current: false,
        }),
        Input::Room(RoomInput::Part {
            room,
            reason: Some("later"),
        }),
        Input::Room(RoomInput::PartAll),
        Input::Room(RoomInput::Say {
            room,
            text: "hello",
            kind: Kind::Notice,
            relay: None,
        }),
        Input::Room(RoomInput::Invite {
            room: "den",
            user: "eve",
        }),
        Input::Room(RoomInput::List { room: None }),
        Input::Room(RoomInput::List { room }),
        Input::Room(RoomInput::Members { room }),
        Input::Room(RoomInput::Names { room: "den" }),
        Input::Room(RoomInput::Who { room: "den" }),
        Input::Room(RoomInput::ShowTopic { room }),
        Input::Room(RoomInput::SetTopic { room, text: "t" }),
        Input::Room(RoomInput::Modes { room: "den" }),
        Input::Room(RoomInput::Bans { room: "den" }),
        Input::Room(RoomInput::AccessList { room, banned: true }),
        Input::Room(RoomInput::Change {
            room: "den",
            changes: CHANGES,
        }),
        Input::Room(RoomInput::SetPrivate {
            room,
            private: false,
        }),
        Input::Room(RoomInput::Ban {
            room,
            user: "bob",
            on: true,
        }),
        Input::Room(RoomInput::Permit {
            room,
            user: "bob",
            on: false,
        }),
        Input::Room(RoomInput::Kick {
            room,
            user: "bob",
            reason: None,
        }),
        Input::Room(RoomInput::Close { room }),
        Input::Rename { name: "g2" },
        Input::Lookup {
            names: &["hans", "luke"],
        },
        Input::Lookup { names: &[] },
        Input::Whowas {
            name: "hans",
            count: Some(2),
        },
        Input::Whowas {
            name: "hans",
            count: None,
        },
        Input::Lusers,
        Input::SetName {
            realname: "Han Solo",
        },
        Input::Monitor(MonitorInput::Add(&["hans", "leia"])),
        Input::Monitor(MonitorInput::Remove(&["leia"])),
        Input::Monitor(MonitorInput::Clear),
        Input::Monitor(MonitorInput::List),
        Input::Monitor(MonitorInput::Status),
        Input::Replay(Replay::Latest {
            with: Conversation::Room("den"),
            after: Mark::None,
            limit: 50,
        }),
        Input::Replay(Replay::Before {
            with: Conversation::User("hans"),
            at: Mark::Id(7),
            limit: 1,
        }),
        Input::Replay(Replay::After {
            with: Conversation::Room("den"),
            at: Mark::Time(u64::MAX),
            limit: 2,
        }),
        Input::Replay(Replay::Around {
            with: Conversation::Room("den"),
            at: Mark::Id(3),
            limit: 3,
        }),
        Input::Replay(Replay::Between {
            with: Conversation::User("hans"),
            from: Mark::Time(1),
            to: Mark::Id(9),
            limit: 4,
        }),
        Input::Replay(Replay::Targets {
            from: Mark::Time(0),
            to: Mark::None,
            limit: 5,
        }),
        Input::HearWallops(true),
        Input::Kill {
            user: "hans",
            reason: "spam",
        },
        Input::Wallops { text: "ops, look" },
    ]
}

#[test]
fn every_input_is_a_request_that_reads_back_as_itself() {
    for input in inputs() {
        let request = Request::of(&input).unwrap_or_else(|why| panic!("{input:?}: {why:?}"));
        let json = serde_json::to_string(&request).expect("serialize");
        let back: Request = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
        back.with_input(|got| assert_eq!(got, input, "{json}"));
    }
}

#[test]
fn inputs_without_a_request_say_why() {
    let none = [
        (
            Input::Oper {
                name: "op",
                password: "pw",
            },
            Unoffered::Privileged,
        ),
        (Input::Deoper, Unoffered::Privileged),
        (Input::KeepsAlive, Unoffered::IrcOnly),
        (
            Input::Authenticate {
                user: "yoda",
                password: "wise",
            },
            Unoffered::IrcOnly,
        ),
        (
            Input::Enter {
                nick: "yoda",
                guest: true,
                password: None,
            },
            Unoffered::IrcOnly,
        ),
        (
            Input::Scram {
                first: true,
                message: "n,,n=yoda,r=abc",
            },
            Unoffered::IrcOnly,
        ),
        (
            Input::Message {
                to: "hans",
                text: "VERSION",
                kind: Kind::Ctcp,
                relay: None,
            },
            Unoffered::IrcOnly,
        ),
        (Input::Empty, Unoffered::Framing),
        (Input::Invalid, Unoffered::Framing),
        (Input::Bad(LineError::TooLong), Unoffered::Framing),
        (
            Input::Room(RoomInput::Say {
                room: None,
                text: "x",
                kind: Kind::Say,
                relay: None,
            }),
            Unoffered::CurrentRoom,
        ),
        (
            Input::Room(RoomInput::Join {
                room: "den",
                key: None,
                create: false,
                current: true,
            }),
            Unoffered::CurrentRoom,
        ),
    ];
    for (input, why) in none {
        assert_eq!(Request::of(&input), Err(why), "{input:?}");
    }
}

/// The new requests' fields as a bot writes them, their defaults, and their refusals: a list
/// of names is capped while it is read, a conversation is a room or a user, a bound a msgid or
/// a time.
#[test]
fn issue_22_requests_read_as_written_and_refuse_what_is_wrong() {
    use super::fields::MAX_NAMES;
    let read = |json: &str| serde_json::from_str::<Envelope>(json).map(|e| e.request);
    let input = |json: &str| {
        let request = read(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        request.with_input(|i| format!("{i:?}"))
    };
    assert_eq!(
        input(r#"{"type":"replay_latest","with":{"room":"den"}}"#),
        format!(
            "{:?}",
            Input::Replay(Replay::Latest {
                with: Conversation::Room("den"),
                after: Mark::None,
                limit: crate::valid::REPLAY_MAX,
            })
        )
    );
    assert_eq!(
        input(r#"{"type":"replay_before","with":{"user":"hans"},"at":{"msgid":9},"limit":2}"#),
        format!(
            "{:?}",
            Input::Replay(Replay::Before {
                with: Conversation::User("hans"),
                at: Mark::Id(9),
                limit: 2,
            })
        )
    );
    let names: Vec<String> = (0..MAX_NAMES).map(|i| format!("u{i}")).collect();
    let full = serde_json::json!({"type":"lookup","names":names}).to_string();
    assert!(input(&full).contains("u63"), "{MAX_NAMES} names are taken");
    let over: Vec<String> = (0..=MAX_NAMES).map(|i| format!("u{i}")).collect();
    let refused = [
        (
            serde_json::json!({"type":"monitor_add","names":over}).to_string(),
            "a list of at most 64 names",
        ),
        (r#"{"type":"lookup"}"#.into(), "missing field `names`"),
        (r#"{"type":"lookup","names":"hans"}"#.into(), "invalid type"),
        (r#"{"type":"replay_latest"}"#.into(), "missing field `with`"),
        (
            r#"{"type":"replay_latest","with":{"channel":"den"}}"#.into(),
            "unknown variant `channel`",
        ),
        (
            r#"{"type":"replay_after","with":{"room":"den"},"at":{"msgid":-1}}"#.into(),
            "invalid value",
        ),
        (
            r#"{"type":"replay_after","with":{"room":"den"},"at":5}"#.into(),
            "invalid type",
        ),
        (
            r#"{"type":"whowas","name":"x","count":"2"}"#.into(),
            "invalid type",
        ),
        (r#"{"type":"kill"}"#.into(), "missing field `user`"),
    ];
    for (json, why) in refused {
        let e = read(&json).expect_err(&json);
        assert!(e.to_string().contains(why), "{json}: {e}");
    }
}

/// One of every event, each a JSON object of the expected `type` on one line.
#[test]
fn every_event_renders_as_one_line_of_json() {
    let topic = Some(Topic {
        text: a("t"),
        by: a("hans"),
        at_ms: 5,
    });
    let member = Member {
        name: a("hans"),
        owner: true,
        op: true,
        voice: false,
    };
    let card = Card {
        name: a("hans"),
        username: a("h"),
        realname: a("Han"),
        host: a("hidden"),
        away: None,
        oper: false,
        rooms: vec![(a("den"), true)],
        voiced: vec![],
        account: Some(a("hans")),
        idle_s: 3,
        signon_s: 4,
    };
    let ip = "127.0.0.1".parse().expect("ip");
    let room_events = vec![
        RoomEvent::Opened(a("den")),
        RoomEvent::Entered {
            room: a("den"),
            user: a("y"),
            topic: topic.clone(),
            secret: false,
            members: vec![member.clone()],
            partial: false,
        },
        RoomEvent::Joined {
            room: a("den"),
            user: a("y"),
            account: None,
            realname: a("Y"),
        },
        RoomEvent::Exited {
            room: a("den"),
            user: a("y"),
            reason: None,
        },
        RoomEvent::Left {
            room: a("den"),
            user: a("y"),
            reason: Some(a("r")),
        },
        RoomEvent::Quit {
            user: a("y"),
            reason: a("bye"),
        },
        RoomEvent::Chat {
            room: a("den"),
            from: a("y"),
            text: a("hi"),
            meta: test_meta(false),
        },
        RoomEvent::Said {
            room: a("den"),
            from: a("y"),
            text: a("hi"),
            meta: test_meta(true),
        },
        RoomEvent::Invited {
            room: a("den"),
            by: a("y"),
            user: a("e"),
        },
        RoomEvent::Inviting {
            room: a("den"),
            user: a("e"),
        },
        RoomEvent::List(vec![RoomInfo {
            room: a("den"),
            owner: a("y"),
            private: false,
            members: 2,
            topic: a(""),
            created_s: 5,
            topic_at_s: 0,
        }]),
        RoomEvent::Access {
            room: a("den"),
            user: a("b"),
            banned: true,
            on: true,
        },
        RoomEvent::Removed {
            room: a("den"),
            by: a("y"),
            reason: a("banned"),
        },
        RoomEvent::Kicked {
            room: a("den"),
            by: a("y"),
            user: a("b"),
            reason: a("r"),
        },
        RoomEvent::AccessList {
            room: a("den"),
            banned: false,
            entries: vec![a("b")],
        },
        RoomEvent::Closed(a("den")),
        RoomEvent::CloseDone(a("den")),
        RoomEvent::Topic {
            room: a("den"),
            topic: None,
        },
        RoomEvent::TopicSet {
            room: a("den"),
            by: a("y"),
            topic,
        },
        RoomEvent::Members {
            room: a("den"),
            secret: true,
            members: vec![member],
            partial: true,
        },
        RoomEvent::Mode {
            room: a("den"),
            private: true,
        },
        RoomEvent::Modes {
            room: a("den"),
            flags: a("nt"),
            key: None,
            limit: Some(9),
            created_s: 1,
        },
        RoomEvent::Changed {
            room: a("den"),
            by: a("y"),
            changes: a("+k"),
            args: vec![a("key")],
        },
    ];
    let private = vec![
        PrivateEvent::Asked(a("y")),
        PrivateEvent::RequestSent(a("y")),
        PrivateEvent::Started(a("y")),
        PrivateEvent::Declined(a("y")),
        PrivateEvent::Expired(a("y")),
        PrivateEvent::Stopped(a("y")),
        PrivateEvent::Dial {
            user: a("y"),
            ip,
            port: 1,
            token: a("t"),
            key: Some(a("k")),
        },
        PrivateEvent::Expect {
            user: a("y"),
            token: a("t"),
        },
        PrivateEvent::Address {
            user: a("y"),
            ip,
            port: 2,
        },
    ];
    let mut events: Vec<(Event, &str)> = vec![
        (Event::Prompt(Prompt::Password), "prompt"),
        (Event::Help(HelpTopic::Room), "help"),
        (Event::NewUser(a("ann")), "new_user"),
        (Event::Welcome(a("y")), "welcome"),
        (
            Event::Chat {
                from: a("y"),
                to: Audience::Direct(a("h")),
                text: a("\u{1F600}\"\\"),
                meta: test_meta(false),
            },
            "chat",
        ),
        (Event::Kept(a("h")), "kept"),
        (
            Event::Away {
                user: a("h"),
                message: Some(a("out")),
                watched: false,
            },
            "away",
        ),
        (Event::Lusers(Lusers::default()), "lusers"),
        (
            Event::Presence {
                user: a("y"),
                online: true,
            },
            "presence",
        ),
        (Event::Users(vec![a("y"), a("h")]), "users"),
        (Event::Blocked(a("l")), "blocked"),
        (Event::Unblocked(a("l")), "unblocked"),
        (Event::LoggedOut, "logged_out"),
        (Event::Goodbye, "goodbye"),
        (Event::Notice(Notice::Replaced(a("y"))), "notice"),
        (
            Event::Error(Error::NotMember {
                room: a("den"),
                user: a("b"),
            }),
            "error",
        ),
        (Event::KeepAlive, "keepalive"),
        (Event::Card(Box::new(card.clone())), "card"),
        (
            Event::Cards {
                room: None,
                cards: vec![card],
            },
            "cards",
        ),
        (Event::GuestWelcome(a("g")), "guest_welcome"),
        (
            Event::UserAddrs(vec![(a("g"), None), (a("y"), "127.0.0.1:5".parse().ok())]),
            "user_addrs",
        ),
        (Event::ServerAnnouncement(a("x")), "server_announcement"),
        (
            Event::Profile(vec![("username", a("y")), ("age", a(""))]),
            "profile",
        ),
        (Event::AttributeSet(a("age")), "attribute_set"),
        (Event::UserStates(vec![(a("y"), true)]), "user_states"),
        (Event::MessageSent, "message_sent"),
        (Event::Cancelled, "cancelled"),
        (
            Event::History(vec![HistoryLine {
                at_ms: 1,
                from: a("y"),
                to: None,
                text: a("t"),
            }]),
            "history",
        ),
    ];
    events.extend(room_events.into_iter().map(|e| (Event::Room(e), "room")));
    events.extend(private.into_iter().map(|e| (Event::Private(e), "private")));
    for (event, kind) in events {
        let mut out = Vec::new();
        render(&event, Some("\"r1\""), &mut out);
        let text = String::from_utf8(out).expect("UTF-8");
        assert!(
            text.ends_with('\n') && text.matches('\n').count() == 1,
            "{text}"
        );
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            (v["type"].as_str(), v["id"].as_str()),
            (Some(kind), Some("r1")),
            "{text}"
        );
    }
    let mut out = Vec::new();
    render(&Event::Error(Error::InvalidUser), None, &mut out);
    assert_eq!(
        out,
        b"{\"type\":\"error\",\"code\":\"invalid_user\",\"text\":\"Error. Invalid user\"}\n"
    );
}

/// Regression (issue 22's merge): the sender's own copy of a DM (IRC's echo-message) rendered
/// as a chat object, and the page showed the user's own DM a second time, in "Everyone".
#[test]
fn a_dms_echo_copy_renders_nothing() {
    let mut out = Vec::new();
    let echo = Event::Chat {
        from: Arc::from("yoda"),
        to: Audience::Echo(Arc::from("hans")),
        text: Arc::from("hi"),
        meta: test_meta(false),
    };
    render(&echo, None, &mut out);
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
}
