//! Unit tests of the IRC codec: the registration state machine, the replies it makes itself,
//! and the rendering of core events (every numeric the front-end emits).

use super::*;
use crate::event::{test_meta, Audience, Card, Error, Member, Notice, RoomEvent, RoomInfo, Topic};
use crate::input::Input;

/// A core stand-in: records inputs, queues replies in order, and answers `expects`.
struct Fake {
    expect: Expect,
    /// What the fake core does with a login: `Some(ok)`.
    login_ok: bool,
    inputs: Vec<String>,
    out: Vec<Event>,
    /// Lines answered without an input (`Sink::answered`: the command penalty).
    answered: usize,
}

impl Fake {
    fn new(login_ok: bool) -> Fake {
        Fake {
            expect: Expect::Username,
            login_ok,
            inputs: Vec::new(),
            out: Vec::new(),
            answered: 0,
        }
    }
}

impl Sink for Fake {
    fn expects(&self) -> Expect {
        self.expect
    }

    fn input(&mut self, input: Input<'_>) {
        self.inputs.push(format!("{input:?}"));
        match input {
            Input::Enter { guest: false, .. } => {
                self.out.push(Event::Error(Error::PasswordRequired));
                self.out.push(Event::Goodbye);
                self.expect = Expect::Nothing;
            }
            Input::Login { user: name, .. } | Input::Enter { nick: name, .. } => {
                if self.login_ok {
                    self.expect = Expect::Command;
                    self.out.push(Event::Welcome(Arc::from(name)));
                } else {
                    self.out.push(Event::Notice(Notice::BadPassword));
                }
            }
            Input::Quit { .. } => {
                self.out.push(Event::Goodbye);
                self.expect = Expect::Nothing;
            }
            _ => {}
        }
    }

    fn reserve(&mut self, ticket: crate::event::Ticket) {
        self.out.push(Event::Reserved(ticket));
    }

    fn answered(&mut self) {
        self.answered += 1;
    }
}

const SERVER: &str = "irc.test";

fn codec(guests: bool) -> IrcCodec {
    IrcCodec::new(Arc::new(IrcOptions {
        server: Arc::from(SERVER),
        description: Arc::from("the test server"),
        guests,
        max_list: 100,
    }))
}

/// Feed `lines`, then render everything queued, as text.
fn run(c: &mut IrcCodec, sink: &mut Fake, lines: &str) -> String {
    c.decode(lines.as_bytes(), sink);
    let mut out = Vec::new();
    for e in std::mem::take(&mut sink.out) {
        c.encode(&e, 0, &mut out);
    }
    String::from_utf8(out).unwrap_or_default()
}

fn registered(nick: &str) -> (IrcCodec, Fake) {
    let mut c = codec(true);
    let mut s = Fake::new(true);
    let text = run(
        &mut c,
        &mut s,
        &format!("NICK {nick}\r\nUSER u * * :Real\r\n"),
    );
    assert!(text.contains(" 001 "), "{text}");
    (c, s)
}

fn render(c: &mut IrcCodec, e: &Event) -> String {
    let mut out = Vec::new();
    c.encode(e, 0, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

#[test]
fn guests_register_with_the_welcome_numerics() {
    let mut c = codec(true);
    let mut s = Fake::new(true);
    let text = run(
        &mut c,
        &mut s,
        "CAP LS 302\r\nNICK foo\r\nUSER bar * * :Foo Bar\r\n",
    );
    assert!(s.inputs.is_empty(), "registration waits for CAP END");
    let text = text + &run(&mut c, &mut s, "CAP END\r\n");
    assert_eq!(
        s.inputs,
        [
            r#"Describe { username: "bar", realname: "Foo Bar" }"#,
            "NoPresence",
            "KeepsAlive",
            r#"Enter { nick: "foo", guest: true, password: None }"#
        ]
    );
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert!(lines[0].starts_with(":irc.test CAP * LS :account-notify account-tag "));
    assert!(
        lines[0].contains(" sasl=PLAIN,SCRAM-SHA-256 server-time "),
        "values with 302"
    );
    assert_eq!(
        lines[1],
        ":irc.test 001 foo :Welcome to the chatserver IRC network, foo"
    );
    assert!(lines[2].starts_with(":irc.test 002 foo :Your host is irc.test"));
    assert!(lines[3].starts_with(":irc.test 003 foo :"));
    assert_eq!(
        lines[4],
        concat!(
            ":irc.test 004 foo irc.test chatserver-",
            env!("CARGO_PKG_VERSION"),
            " iow biklmnostv bklov"
        )
    );
    assert!(lines[5].starts_with(":irc.test 005 foo CASEMAPPING=ascii CHANTYPES=# "));
    assert!(lines[5].contains(" PREFIX=(ov)@+ NICKLEN=32 CHANNELLEN=33 "));
    assert!(lines[5].ends_with(" :are supported by this server"));
    assert!(lines[5].contains(" TARGMAX=JOIN:4,"));
    assert!(lines[6].starts_with(":irc.test 005 foo AWAYLEN="));
    assert!(lines[6].contains(" MONITOR=100 WHOX UTF8ONLY ELIST=CMNTU "));
    assert_eq!(lines[7], ":irc.test 422 foo :MOTD File is missing");
}

#[test]
fn pass_logs_into_the_account_named_by_the_nick() {
    let mut c = codec(false);
    let mut s = Fake::new(true);
    run(
        &mut c,
        &mut s,
        "PASS secret\r\nNICK yoda\r\nUSER y 0 * :Yoda\r\n",
    );
    assert_eq!(s.inputs[3], r#"Login { user: "yoda", password: "secret" }"#);
    assert_eq!(s.expect, Expect::Command);
}

#[test]
fn a_wrong_password_is_464_then_error_and_close() {
    let mut c = codec(true);
    let mut s = Fake::new(false);
    let text = run(
        &mut c,
        &mut s,
        "PASS nope\r\nNICK yoda\r\nUSER y 0 * :Yoda\r\n",
    );
    assert_eq!(
        text,
        ":irc.test 464 yoda :Password incorrect\r\n\
         ERROR :Closing link: (yoda) [Password incorrect]\r\n"
    );
    assert_eq!(
        s.inputs.last().map(String::as_str),
        Some(r#"Quit { reason: "Password incorrect" }"#)
    );
}

#[test]
fn without_pass_or_guests_the_password_is_required() {
    let mut c = codec(false);
    let mut s = Fake::new(true);
    let text = run(&mut c, &mut s, "NICK foo\r\nUSER u * * :R\r\n");
    assert_eq!(
        text,
        ":irc.test 464 foo :Password required\r\n\
         ERROR :Closing link: (foo) [Password required]\r\n"
    );
    assert!(!s.inputs.iter().any(|i| i.starts_with("Guest")));
}

#[test]
fn registration_refusals() {
    let mut c = codec(true);
    let mut s = Fake::new(true);
    let text = run(
        &mut c,
        &mut s,
        "NICK 1abc\r\nNICK\r\nUSER u * * :\r\nJOIN #x\r\nPING\r\nPING :\r\n",
    );
    assert_eq!(
        text,
        ":irc.test 432 * 1abc :Erroneous nickname\r\n\
         :irc.test 431 * :No nickname given\r\n\
         :irc.test 461 * USER :Not enough parameters\r\n\
         :irc.test 451 * :You have not registered\r\n\
         :irc.test 409 * :No origin specified\r\n\
         :irc.test PONG irc.test :\r\n"
    );
    let text = run(&mut c, &mut s, "USER 😊 * * :real\r\n");
    assert!(text.starts_with(":irc.test 468 * :Your username is invalid\r\nERROR "));
}

#[test]
fn a_guest_nick_in_use_may_be_changed() {
    let mut c = codec(true);
    let mut s = Fake::new(false);
    run(&mut c, &mut s, "NICK foo\r\nUSER u * * :R\r\n");
    assert_eq!(s.expect, Expect::Username, "still open");
    s.login_ok = true;
    let text = run(&mut c, &mut s, "NICK foo2\r\n");
    assert!(text.contains(" 001 foo2 "), "{text}");
}

#[test]
fn codec_replies_after_registration() {
    let (mut c, mut s) = registered("foo");
    let text = run(
        &mut c,
        &mut s,
        "PING abc\r\nBOGUS x\r\nUSER a b c :d\r\nNICK other\r\nOPER op pw\r\nMODE foo +i\r\nMODE foo\r\n\
         MODE bar +i\r\nAWAY :gone\r\nAWAY\r\nPRIVMSG foo :me\r\nPRIVMSG\r\nPRIVMSG x\r\nNOTICE x\r\n\
         PRIVMSG #bad@ :x\r\nMOTD\r\n",
    );
    assert_eq!(
        text,
        ":irc.test PONG irc.test abc\r\n\
         :irc.test 421 foo BOGUS :Unknown command\r\n\
         :irc.test 462 foo :You may not reregister\r\n\
         :foo!foo@irc.test MODE foo +i\r\n\
         :irc.test 221 foo +i\r\n\
         :irc.test 502 foo :Can't change mode for other users\r\n\
         :irc.test 306 foo :You have been marked as away\r\n\
         :irc.test 305 foo :You are no longer marked as away\r\n\
         :irc.test 411 foo :No recipient given (PRIVMSG)\r\n\
         :irc.test 412 foo :No text to send\r\n\
         :irc.test 403 foo #bad@ :No such channel\r\n\
         :irc.test 422 foo :MOTD File is missing\r\n"
    );
    assert!(s.inputs.contains(&"Invisible(true)".to_string()));
    let oper = r#"Oper { name: "op", password: "pw" }"#;
    assert!(s.inputs.contains(&oper.to_string()), "the core checks OPER");
    assert!(s
        .inputs
        .contains(&r#"Rename { name: "other" }"#.to_string()));
    assert!(s
        .inputs
        .contains(&r#"Away { message: Some("gone") }"#.to_string()));
}

#[test]
fn commands_become_inputs() {
    let (mut c, mut s) = registered("foo");
    s.inputs.clear();
    run(
        &mut c,
        &mut s,
        "JOIN #a,#b k1\r\nPART #a :bye\r\nPRIVMSG #a :hi there\r\nNOTICE bar :psst\r\n\
         TOPIC #a :new\r\nKICK #a bar :out\r\nMODE #a +kt-i key\r\nMODE #a +b\r\nJOIN 0\r\nQUIT :done\r\n",
    );
    assert_eq!(
        s.inputs,
        [
            r#"Room(Join { room: "a", key: Some("k1"), create: true, current: false })"#,
            r#"Room(Join { room: "b", key: None, create: true, current: false })"#,
            r#"Room(Part { room: Some("a"), reason: Some("bye") })"#,
            r#"Room(Say { room: Some("a"), text: "hi there", kind: Say, relay: None })"#,
            r#"Message { to: "bar", text: "psst", kind: Notice, relay: None }"#,
            r#"Room(SetTopic { room: Some("a"), text: "new" })"#,
            r#"Room(Kick { room: Some("a"), user: "bar", reason: Some("out") })"#,
            r#"Room(Change { room: "a", changes: [Key(Some("key")), TopicLock(true), Private(false)] })"#,
            r#"Room(Bans { room: "a" })"#,
            "Room(PartAll)",
            r#"Quit { reason: "done" }"#,
        ]
    );
}

#[test]
fn errors_name_the_target_and_notices_get_none() {
    let (mut c, mut s) = registered("foo");
    run(&mut c, &mut s, "PRIVMSG bob :hi\r\n");
    assert_eq!(
        render(&mut c, &Event::Error(Error::InvalidUser)),
        ":irc.test 401 foo bob :No such nick/channel\r\n"
    );
    run(&mut c, &mut s, "NOTICE bob :hi\r\n");
    assert_eq!(render(&mut c, &Event::Error(Error::InvalidUser)), "");
    run(&mut c, &mut s, "JOIN #Chan\r\n");
    let room = || Arc::from("chan");
    let cases = [
        (Error::NoRoom(room()), "403 foo #Chan :No such channel"),
        (
            Error::NotInThatRoom(room()),
            "442 foo #Chan :You're not on that channel",
        ),
        (
            Error::NotRoomOperator(room()),
            "482 foo #Chan :You're not channel operator",
        ),
        (
            Error::WrongRoomKey(room()),
            "475 foo #Chan :Cannot join channel (+k)",
        ),
        (
            Error::PrivateRoom(room()),
            "473 foo #Chan :Cannot join channel (+i)",
        ),
        (
            Error::BannedFromRoom(room()),
            "474 foo #Chan :Cannot join channel (+b)",
        ),
        (
            Error::CannotSendToRoom(room()),
            "404 foo #Chan :Cannot send to channel",
        ),
        (
            Error::NotMember {
                room: room(),
                user: Arc::from("bob"),
            },
            "441 foo bob #Chan :They aren't on that channel",
        ),
        (
            Error::AlreadyLoggedIn(Arc::from("foo")),
            "433 * foo :foo is already logged in",
        ),
        (Error::InvalidUsername, "432 foo #Chan :Erroneous nickname"),
        (Error::LineTooLong, "417 foo :Input line was too long"),
    ];
    for (e, want) in cases {
        assert_eq!(
            render(&mut c, &Event::Error(e)),
            format!(":irc.test {want}\r\n")
        );
    }
    assert_eq!(
        render(&mut c, &Event::Error(Error::BlockedByRecipient)),
        ":irc.test NOTICE foo :Your message could not be delivered as the recipient has blocked you\r\n"
    );
}

#[test]
fn room_events_render_as_channel_messages() {
    let (mut c, _) = registered("foo");
    let a = |s: &str| Arc::<str>::from(s);
    let room = |r| Event::Room(r);
    let chat = room(RoomEvent::Chat {
        room: a("chan"),
        from: a("bar"),
        text: a("hello there"),
        meta: test_meta(false),
    });
    assert_eq!(
        render(&mut c, &chat),
        ":bar!bar@irc.test PRIVMSG #chan :hello there\r\n"
    );
    assert!(c.shareable(&chat), "a channel line names no recipient");
    let notice = room(RoomEvent::Chat {
        room: a("chan"),
        from: a("bar"),
        text: a("x"),
        meta: test_meta(true),
    });
    assert_eq!(
        render(&mut c, &notice),
        ":bar!bar@irc.test NOTICE #chan x\r\n"
    );
    let own = room(RoomEvent::Said {
        room: a("chan"),
        from: a("foo"),
        text: a("x"),
        meta: test_meta(false),
    });
    assert_eq!(render(&mut c, &own), "", "no echo of one's own message");
    let joined = room(RoomEvent::Joined {
        room: a("chan"),
        user: a("bar"),
        account: None,
        realname: a("Bar"),
    });
    assert_eq!(render(&mut c, &joined), ":bar!bar@irc.test JOIN #chan\r\n");
    let left = room(RoomEvent::Left {
        room: a("chan"),
        user: a("bar"),
        reason: Some(a("bye all")),
    });
    assert_eq!(
        render(&mut c, &left),
        ":bar!bar@irc.test PART #chan :bye all\r\n"
    );
    let exited = room(RoomEvent::Exited {
        room: a("chan"),
        user: a("foo"),
        reason: None,
    });
    assert_eq!(render(&mut c, &exited), ":foo!foo@irc.test PART #chan\r\n");
    let kicked = room(RoomEvent::Kicked {
        room: a("chan"),
        by: a("foo"),
        user: a("bar"),
        reason: a("bar"),
    });
    assert_eq!(
        render(&mut c, &kicked),
        ":foo!foo@irc.test KICK #chan bar bar\r\n"
    );
    let removed = room(RoomEvent::Removed {
        room: a("chan"),
        by: a("yoda"),
        reason: a("banned"),
    });
    assert_eq!(
        render(&mut c, &removed),
        ":yoda!yoda@irc.test KICK #chan foo banned\r\n",
        "whichever front-end the owner used"
    );
    assert!(!c.shareable(&removed));
    let quit = room(RoomEvent::Quit {
        user: a("bar"),
        reason: a("Quit: out"),
    });
    assert_eq!(
        render(&mut c, &quit),
        ":bar!bar@irc.test QUIT :Quit: out\r\n",
        "the core's reason as it is (the core says `Quit: ` for a QUIT's words)"
    );
    let topic = room(RoomEvent::TopicSet {
        room: a("chan"),
        by: a("foo"),
        topic: None,
    });
    assert_eq!(
        render(&mut c, &topic),
        ":foo!foo@irc.test TOPIC #chan :\r\n"
    );
    let changed = room(RoomEvent::Changed {
        room: a("chan"),
        by: a("foo"),
        changes: a("+kv-i"),
        args: vec![a("key"), a("bar")],
    });
    assert_eq!(
        render(&mut c, &changed),
        ":foo!foo@irc.test MODE #chan +kv-i key bar\r\n"
    );
    let dm = Event::Chat {
        from: a("bar"),
        to: Audience::Direct(a("foo")),
        text: a("psst"),
        meta: test_meta(false),
    };
    assert_eq!(
        render(&mut c, &dm),
        ":bar!bar@irc.test PRIVMSG foo psst\r\n"
    );
    assert!(!c.shareable(&dm));
    let bc = Event::Chat {
        from: a("yoda"),
        to: Audience::Everyone,
        text: a("hi all"),
        meta: test_meta(false),
    };
    assert_eq!(
        render(&mut c, &bc),
        ":irc.test NOTICE foo :yoda: hi all\r\n"
    );
    assert!(!c.shareable(&bc), "a server notice names its recipient");
    let closed = room(RoomEvent::Closed(a("chan")));
    assert_eq!(
        render(&mut c, &closed),
        ":irc.test KICK #chan foo :chatroom closed\r\n"
    );
    assert!(!c.shareable(&closed));
    assert_eq!(render(&mut c, &room(RoomEvent::Opened(a("chan")))), "");
    let presence = Event::Presence {
        user: a("yoda"),
        online: true,
    };
    assert_eq!(render(&mut c, &presence), "");
}

#[test]
fn listings_render_as_numerics() {
    let (mut c, _) = registered("foo");
    let a = |s: &str| Arc::<str>::from(s);
    let room = |r| Event::Room(r);
    let members = vec![
        Member {
            name: a("bar"),
            owner: false,
            op: false,
            voice: true,
        },
        Member {
            name: a("foo"),
            owner: true,
            op: true,
            voice: false,
        },
    ];
    let names = room(RoomEvent::Members {
        room: a("chan"),
        secret: false,
        members: members.clone(),
        partial: false,
    });
    assert_eq!(
        render(&mut c, &names),
        ":irc.test 353 foo = #chan :+bar @foo\r\n:irc.test 366 foo #chan :End of /NAMES list.\r\n"
    );
    let topic = Topic {
        text: a("T0P1C"),
        by: a("foo"),
        at_ms: 1_700_999,
    };
    let entered = room(RoomEvent::Entered {
        room: a("chan"),
        user: a("foo"),
        topic: Some(topic.clone()),
        secret: true,
        members: members.clone(),
        partial: false,
    });
    assert_eq!(
        render(&mut c, &entered),
        ":foo!foo@irc.test JOIN #chan\r\n\
         :irc.test 332 foo #chan T0P1C\r\n:irc.test 333 foo #chan foo 1700\r\n\
         :irc.test 353 foo @ #chan :+bar @foo\r\n:irc.test 366 foo #chan :End of /NAMES list.\r\n"
    );
    let part = room(RoomEvent::Members {
        room: a("chan"),
        secret: false,
        members,
        partial: true,
    });
    assert_eq!(
        render(&mut c, &part),
        ":irc.test 353 foo = #chan :+bar @foo\r\n",
        "a paced part of a long list: no 366 yet"
    );
    let shown = room(RoomEvent::Topic {
        room: a("chan"),
        topic: Some(topic),
    });
    assert_eq!(
        render(&mut c, &shown),
        ":irc.test 332 foo #chan T0P1C\r\n:irc.test 333 foo #chan foo 1700\r\n"
    );
    let none = room(RoomEvent::Topic {
        room: a("chan"),
        topic: None,
    });
    assert_eq!(
        render(&mut c, &none),
        ":irc.test 331 foo #chan :No topic is set\r\n"
    );
    let info = |name: &str, members| RoomInfo {
        room: a(name),
        owner: a("foo"),
        private: false,
        members,
        topic: a("a topic"),
        created_s: 0,
        topic_at_s: 0,
    };
    let list = room(RoomEvent::List(vec![info("chan", 2), info("empty", 0)]));
    assert_eq!(
        render(&mut c, &list),
        ":irc.test 322 foo #chan 2 :a topic\r\n",
        "IRC lists channels with members only"
    );
    let modes = room(RoomEvent::Modes {
        room: a("chan"),
        flags: a("knt"),
        key: Some(a("sekrit")),
        limit: None,
        created_s: 5,
    });
    assert_eq!(
        render(&mut c, &modes),
        ":irc.test 324 foo #chan +knt sekrit\r\n:irc.test 329 foo #chan 5\r\n"
    );
    let bans = room(RoomEvent::AccessList {
        room: a("chan"),
        banned: true,
        entries: vec![a("bob"), a("*!*@10.*")],
    });
    assert_eq!(
        render(&mut c, &bans),
        ":irc.test 367 foo #chan bob\r\n:irc.test 367 foo #chan *!*@10.*\r\n"
    );
    let card = Card {
        name: a("bar"),
        username: a("~b"),
        realname: a("Bar Real"),
        host: a("127.0.0.1"),
        away: Some(a("lunch")),
        oper: true,
        rooms: vec![(a("chan"), true)],
        voiced: Vec::new(),
        account: None,
        idle_s: 0,
        signon_s: 0,
    };
    assert_eq!(
        render(&mut c, &Event::Card(Box::new(card.clone()))),
        ":irc.test 311 foo bar ~b irc.test * :Bar Real\r\n\
         :irc.test 319 foo bar @#chan\r\n\
         :irc.test 312 foo bar irc.test :the test server\r\n\
         :irc.test 313 foo bar :is an IRC operator\r\n\
         :irc.test 301 foo bar lunch\r\n\
         :irc.test 317 foo bar 0 0 :seconds idle, signon time\r\n"
    );
    let who = Event::Cards {
        room: Some(a("chan")),
        cards: vec![card],
    };
    assert_eq!(
        render(&mut c, &who),
        ":irc.test 352 foo #chan ~b irc.test irc.test bar G*@ :0 Bar Real\r\n"
    );
}

#[test]
fn session_endings_render_as_error_lines() {
    let (mut c, _) = registered("foo");
    for (n, want) in [
        (
            Notice::Inactive,
            "ERROR :Closing link: logged out due to inactivity\r\n",
        ),
        (Notice::ServerShutdown, "ERROR :Server shutting down\r\n"),
        (
            Notice::NowLocked,
            ":irc.test 464 foo :Password incorrect\r\n\
             ERROR :Closing link: account locked after failed logins, try later\r\n",
        ),
    ] {
        assert_eq!(render(&mut c, &Event::Notice(n)), want);
    }
}

#[test]
fn an_over_long_line_is_417_and_the_connection_stays() {
    let (mut c, mut s) = registered("foo");
    let long = format!("PRIVMSG bar :{}\r\nPING x\r\n", "a".repeat(600));
    let text = run(&mut c, &mut s, &long);
    assert_eq!(
        text,
        ":irc.test 417 foo :Input line was too long\r\n:irc.test PONG irc.test x\r\n"
    );
}

#[test]
fn the_codec_closes_listings_itself_in_order() {
    let (mut c, mut s) = registered("foo");
    s.inputs.clear();
    let text = run(
        &mut c,
        &mut s,
        "WHO coolni*\r\nWHO #chan\r\nWHOIS bar\r\nLIST\r\nLIST #a,#b\r\nMODE #a +b\r\nNAMES\r\nNAMES bad\r\n\
         CAP BOGUS\r\nCAP REQ :sasl\r\nMODE foo +x\r\nMODE #a +z\r\nPART\r\n",
    );
    assert_eq!(
        text,
        ":irc.test 315 foo coolni* :End of /WHO list.\r\n\
         :irc.test 315 foo #chan :End of /WHO list.\r\n\
         :irc.test 318 foo bar :End of /WHOIS list.\r\n\
         :irc.test 321 foo Channel :Users  Name\r\n\
         :irc.test 323 foo :End of /LIST\r\n\
         :irc.test 321 foo Channel :Users  Name\r\n\
         :irc.test 323 foo :End of /LIST\r\n\
         :irc.test 368 foo #a :End of channel ban list\r\n\
         :irc.test 366 foo * :End of /NAMES list.\r\n\
         :irc.test 366 foo bad :End of /NAMES list.\r\n\
         :irc.test 410 foo BOGUS :Invalid CAP command\r\n\
         :irc.test CAP foo ACK sasl\r\n\
         :irc.test 501 foo :Unknown MODE flag\r\n\
         :irc.test 472 foo z :is an unknown mode char to me\r\n\
         :irc.test 461 foo PART :Not enough parameters\r\n"
    );
    assert_eq!(
        s.inputs,
        [
            r#"Who { mask: "coolni*" }"#,
            r#"Room(Who { room: "chan" })"#,
            r#"Whois { name: "bar" }"#,
            "Room(List { room: None })",
            r#"Room(List { room: Some("a") })"#,
            r#"Room(List { room: Some("b") })"#,
            r#"Room(Bans { room: "a" })"#,
        ]
    );
    let mut plain = IrcCodec::new(Arc::new(IrcOptions {
        server: Arc::from(SERVER),
        description: Arc::from("the test server"),
        guests: true,
        max_list: 100,
    }));
    let mut s = Fake::new(true);
    run(&mut plain, &mut s, "NICK op\r\nUSER u * * :R\r\n");
    // Issue 22: the core's verdicts on `OPER`.
    run(&mut plain, &mut s, "OPER a b\r\n");
    assert_eq!(
        render(&mut plain, &Event::Error(Error::NoOperBlock)),
        ":irc.test 491 op :No O-lines for your host\r\n"
    );
    assert_eq!(
        render(&mut plain, &Event::Error(Error::InvalidPassword)),
        ":irc.test 464 op :Password incorrect\r\n"
    );
    assert_eq!(
        render(&mut plain, &Event::Opered),
        ":irc.test 381 op :You are now an IRC operator\r\n:op!op@irc.test MODE op +o\r\n"
    );
    run(&mut plain, &mut s, "JOIN #six\r\n");
    assert_eq!(
        render(&mut plain, &Event::Error(Error::TooManyRooms(5))),
        ":irc.test 405 op #six :Too many channels on this server\r\n"
    );
}

/// The replies the codec makes itself are typed notes held here; the core carries only their
/// tickets. A render retried for the same ticket (the loop retries one after flushing a slow
/// reader) gives the same bytes, and a ticket whose place never came back (its session ended
/// first) is dropped when a newer one arrives, so held notes do not pile up.
#[test]
fn reserved_replies_render_once_per_ticket_in_order_and_retries_repeat() {
    let (mut c, mut s) = registered("foo");
    c.decode(b"PING a\r\nPING b\r\nPING c\r\n", &mut s);
    let tickets: Vec<Event> = std::mem::take(&mut s.out);
    assert_eq!(tickets.len(), 3);
    assert!(tickets.iter().all(|e| matches!(e, Event::Reserved(_))));
    let a = render(&mut c, &tickets[0]);
    assert_eq!(a, ":irc.test PONG irc.test a\r\n");
    assert_eq!(render(&mut c, &tickets[0]), a, "a retried render repeats");
    // `b`'s place never came back: rendering `c` drops it.
    assert_eq!(render(&mut c, &tickets[2]), ":irc.test PONG irc.test c\r\n");
    let held = c.st.replies.as_ref().map_or(0, |r| r.held.len());
    assert_eq!(held, 1, "only the last note is kept");
    assert_eq!(
        render(&mut c, &tickets[1]),
        "",
        "a dropped ticket renders nothing"
    );
}

/// Issue 17, F11/F17: `TARGMAX` is enforced: more targets than advertised is refused whole
/// with `407`, and the core hears nothing of it.
#[test]
fn targmax_is_enforced() {
    let (mut c, mut s) = registered("foo");
    s.inputs.clear();
    let many = (0..5)
        .map(|i| format!("#r{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let text = run(
        &mut c,
        &mut s,
        &format!(
            "JOIN {many}\r\nPART {many}\r\nPRIVMSG a,b :hi\r\nKICK #a v,w,x,y,z\r\nJOIN #a,#b,#c,#d\r\n"
        ),
    );
    assert_eq!(
        text,
        format!(
            ":irc.test 407 foo {many} :Too many targets\r\n\
             :irc.test 407 foo {many} :Too many targets\r\n\
             :irc.test 407 foo a,b :Too many targets\r\n\
             :irc.test 407 foo v,w,x,y,z :Too many targets\r\n"
        )
    );
    assert_eq!(
        s.inputs.len(),
        4,
        "four channels is TARGMAX=JOIN:4: {:?}",
        s.inputs
    );
    let welcome = run(
        &mut codec(true),
        &mut Fake::new(true),
        "NICK a\r\nUSER a * * :A\r\n",
    );
    assert!(welcome.contains(
        " TARGMAX=JOIN:4,PART:4,PRIVMSG:1,NOTICE:1,TAGMSG:1,KICK:4,NAMES:4,MONITOR:100 MODES=4 MAXLIST=b:100 KEYLEN=32 "
    ), "{welcome}");
}

/// Issue 22: `NAMES` of several channels ends with one `366` naming them all (the core's
/// `Members` replies render their `353`s only); `KICK #a,#b x,y` pairs channels with users.
#[test]
fn names_of_several_channels_end_once_and_kick_pairs_targets() {
    let (mut c, mut s) = registered("foo");
    s.inputs.clear();
    c.decode(b"NAMES #a,#b\r\nKICK #a,#b x,y :out\r\n", &mut s);
    assert_eq!(
        s.inputs,
        [
            r#"Room(Names { room: "a" })"#,
            r#"Room(Names { room: "b" })"#,
            r#"Room(Kick { room: Some("a"), user: "x", reason: Some("out") })"#,
            r#"Room(Kick { room: Some("b"), user: "y", reason: Some("out") })"#,
        ]
    );
    let a = |s: &str| Arc::<str>::from(s);
    let members = |room: &str| {
        Event::Room(RoomEvent::Members {
            room: a(room),
            secret: false,
            members: vec![Member {
                name: a("foo"),
                owner: true,
                op: true,
                voice: false,
            }],
            partial: false,
        })
    };
    // The fake core answers nothing: put its two replies where the core would.
    let mut queued = std::mem::take(&mut s.out);
    queued.insert(1, members("a"));
    queued.insert(3, members("b"));
    let mut out = Vec::new();
    for e in queued {
        c.encode(&e, 0, &mut out);
    }
    let text = String::from_utf8(out).unwrap_or_default();
    assert_eq!(
        text,
        ":irc.test 353 foo = #a @foo\r\n\
         :irc.test 353 foo = #b @foo\r\n\
         :irc.test 366 foo #a,#b :End of /NAMES list.\r\n"
    );
}

/// Issue 22, labeled-response: a command that does not parse (`421`) is labeled too.
#[test]
fn an_unknown_command_is_answered_with_its_label() {
    let (mut c, mut s) = registered("foo");
    run(&mut c, &mut s, "CAP REQ :batch labeled-response\r\n");
    let text = run(&mut c, &mut s, "@label=x1 NONEXISTENT_COMMAND\r\n");
    assert_eq!(
        text,
        "@label=x1 :irc.test 421 foo NONEXISTENT_COMMAND :Unknown command\r\n"
    );
}

/// Labeled-response: a labeled line refused whole (not UTF-8, too long) is answered with its
/// label like any other labeled command, whenever the label can be read from the tags (even
/// when another tag, or the body, is what is wrong). The `FAIL` and the `417` went out bare,
/// so a client waiting for its label never saw the answer.
#[test]
fn a_line_refused_whole_is_answered_with_its_label() {
    let (mut c, mut s) = registered("foo");
    run(&mut c, &mut s, "CAP REQ :batch labeled-response\r\n");
    let bytes = |c: &mut IrcCodec, s: &mut Fake, chunks: &[&[u8]]| {
        for chunk in chunks {
            c.decode(chunk, s);
        }
        let mut out = Vec::new();
        for e in std::mem::take(&mut s.out) {
            c.encode(&e, 0, &mut out);
        }
        String::from_utf8(out).unwrap_or_default()
    };
    let fail = "FAIL PRIVMSG INVALID_UTF8 :Message rejected, your IRC software MUST use UTF-8";
    assert_eq!(
        bytes(&mut c, &mut s, &[b"@label=u1 PRIVMSG bar :caf\xe9\r\n"]),
        format!("@label=u1 :irc.test {fail}\r\n")
    );
    assert_eq!(
        bytes(
            &mut c,
            &mut s,
            &[b"@+x=\xff;label=u\\s2 PRIVMSG bar :hi\r\n"]
        ),
        format!("@label=u\\s2 :irc.test {fail}\r\n")
    );
    let too_long = ":irc.test 417 foo :Input line was too long";
    // Over 512 bytes, read whole.
    let long = format!("@label=l1 PRIVMSG bar :{}\r\n", "a".repeat(600));
    assert_eq!(
        bytes(&mut c, &mut s, &[long.as_bytes()]),
        format!("@label=l1 {too_long}\r\n")
    );
    // Over the framer's bound before its newline came (dropped as it arrives).
    let head = format!("@label=l2 PRIVMSG bar :{}", "a".repeat(6000));
    assert_eq!(
        bytes(&mut c, &mut s, &[head.as_bytes(), b"aaa\r\n"]),
        format!("@label=l2 {too_long}\r\n")
    );
    // Tags over 4096 bytes, the label among the complete ones.
    let tags = format!("@label=l3;+big={} PING x\r\n", "b".repeat(5000));
    assert_eq!(
        bytes(&mut c, &mut s, &[tags.as_bytes()]),
        format!("@label=l3 {too_long}\r\n")
    );
    // A label cut short by the bound is no label: the reply goes out bare.
    let cut = format!("@+big={};label=l4{}", "b".repeat(4590), "4".repeat(100));
    assert_eq!(
        bytes(&mut c, &mut s, &[cut.as_bytes(), b" PING x\r\n"]),
        format!("{too_long}\r\n")
    );
    // The connection goes on, labels and all.
    assert_eq!(
        bytes(&mut c, &mut s, &[b"@label=p1 PING after\r\n"]),
        "@label=p1 :irc.test PONG irc.test after\r\n"
    );
}

/// `MONITOR +` or `-` without a target is `461`, and an unknown subcommand is `400 <nick>
/// MONITOR <sub> :Unknown subcommand` (Ergo's replies; the monitor spec names none): both got
/// no reply at all (labeled, a bare `ACK`), and the empty list still went to the core.
#[test]
fn monitor_without_targets_or_with_an_unknown_subcommand_is_answered() {
    let (mut c, mut s) = registered("foo");
    s.inputs.clear();
    let text = run(
        &mut c,
        &mut s,
        "MONITOR +\r\nMONITOR + ,,\r\nMONITOR -\r\nMONITOR :\r\nMONITOR X a\r\nMONITOR s\r\n",
    );
    let more = ":irc.test 461 foo MONITOR :Not enough parameters\r\n";
    assert_eq!(
        text,
        format!("{more}{more}{more}{more}:irc.test 400 foo MONITOR X :Unknown subcommand\r\n")
    );
    assert_eq!(s.inputs, ["Monitor(Status)"]);
    run(&mut c, &mut s, "CAP REQ :labeled-response\r\n");
    assert_eq!(
        run(&mut c, &mut s, "@label=m1 MONITOR +\r\n"),
        format!("@label=m1 {more}")
    );
}

/// A long labeled reply (the core paces it over several iterations) is not collected whole:
/// past a few KiB (`labels::HELD_MAX`) its batch opens and its lines go out as they are rendered, so the
/// codec holds little and the connection's output is paced as for an unlabeled reply (it was
/// all queued at once at the end, over `--max-output`, and the reader was cut as slow). The
/// reply is still one labeled batch; without `batch`, the label is on its first line only.
#[test]
fn a_long_labeled_reply_streams_in_its_batch() {
    for caps in ["batch labeled-response", "labeled-response"] {
        let (mut c, mut s) = registered("foo");
        run(&mut c, &mut s, &format!("CAP REQ :{caps}\r\n"));
        c.decode(b"@label=big LUSERS\r\n", &mut s);
        let mut queued = std::mem::take(&mut s.out).into_iter();
        let mut out = Vec::new();
        let label = queued.next().expect("the label's ticket");
        c.encode(&label, 0, &mut out);
        let line = |i: usize| {
            Event::Room(RoomEvent::Chat {
                room: Arc::from("chan"),
                from: Arc::from("bar"),
                text: Arc::from(format!("{i} {}", "x".repeat(300)).as_str()),
                meta: test_meta(false),
            })
        };
        for i in 0..200 {
            c.encode(&line(i), 0, &mut out);
            let rendered = (i + 1) * 330;
            assert!(
                out.len() + 16 * 1024 >= rendered,
                "{caps}: {} bytes out after {rendered} rendered",
                out.len()
            );
        }
        queued.for_each(|e| c.encode(&e, 0, &mut out));
        let text = String::from_utf8(out).expect("UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.iter().filter(|l| l.contains("label=big")).count(),
            1,
            "{caps}"
        );
        let chat = lines.iter().filter(|l| l.contains(" PRIVMSG #chan :"));
        assert_eq!(chat.clone().count(), 200, "{caps}");
        if caps.starts_with("batch") {
            assert!(
                lines[0].starts_with("@label=big :irc.test BATCH +L"),
                "{}",
                lines[0]
            );
            let id = lines[0]
                .split(" +")
                .nth(1)
                .and_then(|r| r.split(' ').next());
            let id = id.expect("batch id");
            assert!(chat
                .clone()
                .all(|l| l.starts_with(&format!("@batch={id} "))));
            assert_eq!(
                lines.last(),
                Some(&format!(":irc.test BATCH -{id}").as_str())
            );
        } else {
            assert!(lines[0].starts_with("@label=big :bar!bar@irc.test PRIVMSG #chan :0 "));
            assert!(!text.contains("BATCH"));
        }
    }
}

/// A room's `chathistory` batch names it as a channel (`#den`, as the query did), and an
/// invitation from an account carries its `account` tag for `account-tag` clients (irctest's
/// chathistory.py and account_tag.py testInvite).
#[test]
fn history_batches_name_the_channel_and_invitations_carry_the_account() {
    let (mut c, mut s) = registered("hans");
    run(&mut c, &mut s, "CAP REQ :batch account-tag\r\n");
    let lines = vec![crate::event::Replayed {
        from: Arc::from("yoda"),
        to: None,
        text: Arc::from("hi"),
        meta: test_meta(false),
    }];
    let replay = Event::Replay {
        target: Arc::from("den"),
        room: true,
        lines,
    };
    let text = render(&mut c, &replay);
    assert!(text.contains(" chathistory #den\r\n"), "{text}");
    assert!(text.contains(" PRIVMSG #den hi\r\n"), "{text}");
    let invitation = |account| Event::Invitation {
        by: Arc::from("yoda"),
        room: Arc::from("den"),
        account,
    };
    let text = render(&mut c, &invitation(Some(Arc::from("yoda"))));
    assert!(text.starts_with("@account=yoda"), "{text}");
    assert!(
        text.ends_with(":yoda!yoda@irc.test INVITE hans #den\r\n"),
        "{text}"
    );
    let text = render(&mut c, &invitation(None));
    assert!(!text.contains("account="), "{text}");
}

/// A room's `chathistory` batch names its channel with the `#`, as the messages in it do; a
/// conversation with a user names the user (irctest's testChathistory: the batch named the
/// bare room).
#[test]
fn a_chathistory_batch_names_the_channel_or_the_user() {
    let (mut c, mut s) = registered("yoda");
    run(&mut c, &mut s, "CAP REQ :batch\r\n");
    let replay = |target: &str, room: bool| Event::Replay {
        target: Arc::from(target),
        room,
        lines: vec![],
    };
    let text = render(&mut c, &replay("den", true));
    assert!(text.contains(" chathistory #den\r\n"), "{text}");
    let text = render(&mut c, &replay("hans", false));
    assert!(text.contains(" chathistory hans\r\n"), "{text}");
}

/// Issue 22's idle memory (≤ 800 B per idle IRC connection): every connection pays for the
/// codec, so its size is a structural limit. Registration-only state, a labeled command's
/// capture and the replies in flight are boxed apart (312 bytes before issue 22's first
/// round, 200 after it), and the framer's line bound is a type parameter: 104 bytes fit
/// glibc's 112-byte block, 8 of them its header.
#[test]
fn codec_stays_small() {
    assert!(std::mem::size_of::<IrcCodec>() <= 104);
    assert!(std::mem::size_of::<Replies>() <= 88);
    assert!(std::mem::size_of::<Ctx>() <= 40);
    assert!(std::mem::size_of::<(Ticket, Note)>() <= 48);
}

/// A registered client that is idle holds no registration state and no replies in flight:
/// before, its `USER` strings and a four-note queue (256 bytes) stayed for its whole life,
/// and then its login's context (the nick, in a block of its own) and an empty queue.
#[test]
fn an_idle_registered_client_keeps_no_registration_state() {
    let (c, _) = registered("idler");
    assert!(c.st.registration.is_none());
    assert!(c.st.replies.is_none(), "{:?}", c.st.replies);
    // A PONG's line stays for a retried render, alone in a buffer of its own size.
    let (mut c, mut s) = registered("pinger");
    let text = run(&mut c, &mut s, "PING a\r\nPING b\r\n");
    assert!(text.contains("PONG irc.test b"), "{text}");
    let held = &c.st.replies.as_ref().map(|r| &r.held);
    assert!(held.is_some_and(|h| h.len() == 1 && h.capacity() == 1));
    // A command's context stays until the next command's replaces it (a channel's name as
    // the client wrote it, for the replies that come later); back to the default, it goes.
    let (mut c, mut s) = registered("joiner");
    run(&mut c, &mut s, "JOIN #Den\r\n");
    assert_eq!(c.st.ctx().target.as_deref(), Some("#Den"));
    run(&mut c, &mut s, "SETNAME :New Name\r\n");
    assert!(c.st.replies.is_none(), "{:?}", c.st.replies);
}

/// Once logged in, the codec's nick is the core's own name (the `Welcome`'s `Arc`), not a
/// copy in a block of its own.
#[test]
fn the_nick_is_the_cores_name_after_the_welcome() {
    let mut c = codec(true);
    let name: std::sync::Arc<str> = std::sync::Arc::from("hans");
    render(&mut c, &Event::GuestWelcome(name.clone()));
    assert!(c
        .st
        .nick
        .as_ref()
        .is_some_and(|n| std::sync::Arc::ptr_eq(n, &name)));
}

/// `LINKS`: this server alone, with its `--server-description` (issue 22; irctest's
/// testLinksSingleServer reads it from `364`).
#[test]
fn links_shows_this_server_with_its_description() {
    let (mut c, mut s) = registered("foo");
    assert_eq!(
        run(&mut c, &mut s, "LINKS\r\n"),
        ":irc.test 364 foo irc.test irc.test :0 the test server\r\n\
         :irc.test 365 foo * :End of /LINKS list\r\n"
    );
}

/// A `CAP REQ` read together with earlier lines changes only how the replies to the lines
/// after it look: the `PONG` to the `PING` before it has no `server-time`, the one after has.
#[test]
fn a_cap_req_read_with_earlier_lines_does_not_change_their_replies() {
    let (mut c, mut s) = registered("foo");
    assert_eq!(
        run(
            &mut c,
            &mut s,
            "PING a\r\nCAP REQ server-time\r\nPING b\r\n"
        ),
        ":irc.test PONG irc.test a\r\n\
         :irc.test CAP foo ACK server-time\r\n\
         @time=1970-01-01T00:00:00.000Z :irc.test PONG irc.test b\r\n"
    );
}

/// The context a line set (registration's: the nick) ends with the next line or when
/// registration ends: a later refusal never takes its parameters from it.
#[test]
fn a_reply_context_ends_with_registration_and_with_the_next_line() {
    let (mut c, mut s) = registered("op");
    assert_eq!(
        render(&mut c, &Event::Error(Error::TooManyRooms(5))),
        ":irc.test 405 op * :Too many channels on this server\r\n"
    );
    run(&mut c, &mut s, "KILL someone\r\n");
    run(&mut c, &mut s, "LUSERS\r\n");
    assert_eq!(
        render(&mut c, &Event::Error(Error::TooManyRooms(5))),
        ":irc.test 405 op * :Too many channels on this server\r\n"
    );
}

/// Issue 22: `AUTHENTICATE` after registration. A guest's exchange goes to the core and its
/// verdict reads `900 <nick> <nick>!… <account>` + `903` under the guest's own nick; a session
/// logged in to an account gets `907` at once.
#[test]
fn a_guest_authenticates_after_registration_and_keeps_its_nick() {
    let (mut c, mut s) = registered("bar");
    let already = format!(":{SERVER} 907 bar :You have already authenticated\r\n");
    assert_eq!(run(&mut c, &mut s, "AUTHENTICATE PLAIN\r\n"), already);
    render(&mut c, &Event::GuestWelcome(Arc::from("bar")));
    assert_eq!(
        run(&mut c, &mut s, "AUTHENTICATE PLAIN\r\n"),
        "AUTHENTICATE +\r\n"
    );
    let payload = crate::base64::encode(b"\0jilles\0sesame");
    run(&mut c, &mut s, &format!("AUTHENTICATE {payload}\r\n"));
    let last = s.inputs.last().cloned().unwrap_or_default();
    assert!(
        last.starts_with("Authenticate { user: \"jilles\""),
        "{last}"
    );
    assert_eq!(
        render(&mut c, &Event::Authenticated(Arc::from("jilles"))),
        format!(
            ":{SERVER} 900 bar bar!bar@{SERVER} jilles :You are now logged in as jilles\r\n\
             :{SERVER} 903 bar :SASL authentication successful\r\n"
        )
    );
    assert_eq!(run(&mut c, &mut s, "AUTHENTICATE PLAIN\r\n"), already);
}

/// The exchange's context ends with its verdict after registration: what comes later with no
/// line in between (a ping timeout, a shutdown) reads as itself. It read as `904 SASL
/// authentication failed`, the client never told why it was dropped (found trying a guest's
/// SASL after registration with `nc`, which does not answer pings).
#[test]
fn after_registration_a_sasl_verdict_ends_its_context() {
    let payload = crate::base64::encode(b"\0jilles\0sesame");
    for (verdict, failed) in [
        (Event::Authenticated(Arc::from("jilles")), false),
        (Event::Notice(Notice::BadPassword), true),
    ] {
        let (mut c, mut s) = registered("bar");
        render(&mut c, &Event::GuestWelcome(Arc::from("bar")));
        run(&mut c, &mut s, "AUTHENTICATE PLAIN\r\n");
        run(&mut c, &mut s, &format!("AUTHENTICATE {payload}\r\n"));
        let got = render(&mut c, &verdict);
        assert_eq!(got.contains(" 904 "), failed, "{got}");
        assert_eq!(
            render(&mut c, &Event::Notice(Notice::PingTimeout(300))),
            "ERROR :Closing link: Ping timeout: 300 seconds\r\n"
        );
        assert_eq!(
            render(&mut c, &Event::Notice(Notice::ServerShutdown)),
            "ERROR :Server shutting down\r\n"
        );
    }
}

/// Before registration too: a client that got its SASL verdict and then sent nothing more is
/// told why it is dropped (the registration timeout, a shutdown), not `904`. It read as `904
/// SASL authentication failed`, so a client that was still deciding whether to retry another
/// mechanism was told its credentials were wrong.
#[test]
fn before_registration_a_sasl_verdict_ends_its_context() {
    let payload = crate::base64::encode(b"\0jilles\0sesame");
    for (verdict, failed) in [
        (Event::Authenticated(Arc::from("jilles")), false),
        (Event::Notice(Notice::BadPassword), true),
    ] {
        let mut c = codec(true);
        let mut s = Fake::new(true);
        run(
            &mut c,
            &mut s,
            "CAP LS 302\r\nNICK bar\r\nUSER u * * :Real\r\n",
        );
        run(&mut c, &mut s, "AUTHENTICATE PLAIN\r\n");
        run(&mut c, &mut s, &format!("AUTHENTICATE {payload}\r\n"));
        let got = render(&mut c, &verdict);
        assert_eq!(got.contains(" 904 "), failed, "{got}");
        assert_eq!(got.contains(" 903 "), !failed, "{got}");
        assert_eq!(
            render(&mut c, &Event::Notice(Notice::ServerShutdown)),
            "ERROR :Server shutting down\r\n"
        );
        assert_eq!(
            render(&mut c, &Event::Error(Error::LoginTimeout)),
            "ERROR :Closing link: registration timed out\r\n"
        );
    }
}

/// Issue 22: `ACCOUNT` for roommates with account-notify, and for watchers only with
/// extended-monitor too.
#[test]
fn account_changes_reach_those_who_asked() {
    let changed = |watched| Event::AccountChanged {
        user: Arc::from("bar"),
        account: Arc::from("jilles"),
        watched,
    };
    let line = format!(":bar!bar@{SERVER} ACCOUNT jilles\r\n");
    let (mut c, mut s) = registered("hans");
    assert_eq!(render(&mut c, &changed(false)), "");
    run(&mut c, &mut s, "CAP REQ :account-notify\r\n");
    assert_eq!(render(&mut c, &changed(false)), line);
    assert_eq!(render(&mut c, &changed(true)), "");
    run(&mut c, &mut s, "CAP REQ :extended-monitor\r\n");
    assert_eq!(render(&mut c, &changed(true)), line);
}

/// `MODE #r bbbb…` asks for the ban list once: one list and one `368`, not one per `b` (490
/// `b`s made one 512-byte line 1.7 MB of replies with a full list).
#[test]
fn a_ban_list_is_sent_once_per_mode_command() {
    let (mut c, mut s) = registered("foo");
    s.inputs.clear();
    let text = run(&mut c, &mut s, &format!("MODE #a +{}\r\n", "b".repeat(400)));
    assert_eq!(text, ":irc.test 368 foo #a :End of channel ban list\r\n");
    assert_eq!(s.inputs, [r#"Room(Bans { room: "a" })"#]);
    s.inputs.clear();
    let text = run(&mut c, &mut s, "MODE #a +bb-b x\r\n");
    assert_eq!(text, ":irc.test 368 foo #a :End of channel ban list\r\n");
    assert_eq!(
        s.inputs,
        [
            r#"Room(Bans { room: "a" })"#,
            r#"Room(Change { room: "a", changes: [Ban("x", true)] })"#
        ]
    );
}

/// `FAIL CHATHISTORY INVALID_TARGET` names the target as the client wrote it: a channel
/// with its `#` (it said `nope` for `#nope`, the core's room name), a nick as spelled.
#[test]
fn a_history_refusal_names_the_target_as_written() {
    let (mut c, mut s) = registered("foo");
    for (query, core_name, want) in [
        ("CHATHISTORY LATEST #Nope * 10", "nope", "#Nope"),
        ("CHATHISTORY BEFORE Bob * 10", "bob", "Bob"),
    ] {
        run(&mut c, &mut s, &format!("{query}\r\n"));
        let sub = query.split(' ').nth(1).unwrap_or("");
        assert_eq!(
            render(
                &mut c,
                &Event::Error(Error::NoHistory(Arc::from(core_name)))
            ),
            format!(
                ":irc.test FAIL CHATHISTORY INVALID_TARGET {sub} {want} \
                 :Messages could not be retrieved\r\n"
            )
        );
    }
}

/// Every line costs the command penalty, also one the codec answers itself: a flood of
/// `PING`s before registration, `461`s or `412`s went unpaced (60,000 answered in a third of
/// a second, where the penalty allows a burst of 20,000 and then 2,000 a second).
#[test]
fn a_line_answered_by_the_codec_still_costs_the_penalty() {
    let mut c = codec(true);
    let mut s = Fake::new(true);
    run(&mut c, &mut s, "PING a\r\nCAP LS\r\nNICK 1bad\r\n");
    assert_eq!((s.answered, s.inputs.len()), (3, 0));
    let (mut c, mut s) = registered("foo");
    s.inputs.clear();
    s.answered = 0;
    run(
        &mut c,
        &mut s,
        "JOIN\r\nPRIVMSG #x :\r\nVERSION\r\nBOGUS\r\nLUSERS\r\nJOIN #a,#b\r\n",
    );
    assert_eq!(s.answered, 4, "LUSERS and JOIN are inputs: {:?}", s.inputs);
    assert_eq!(s.inputs.len(), 3);
}

/// A labeled `AUTHENTICATE` or `OPER` may wait for a password hashed over several loop
/// iterations; other users' channel lines that reach the client meanwhile go out around its
/// labeled reply, not inside it (they were wrapped in its `labeled-response` batch).
#[test]
fn other_users_lines_stay_out_of_a_labeled_password_check() {
    let (mut c, mut s) = registered("foo");
    run(&mut c, &mut s, "CAP REQ :labeled-response batch\r\n");
    c.decode(b"@label=o1 OPER zed pw\r\n", &mut s);
    let mut queued = std::mem::take(&mut s.out);
    let end = queued.pop().expect("the end of the label");
    let mut out = Vec::new();
    for e in &queued {
        c.encode(e, 0, &mut out);
    }
    let chat = Event::Room(RoomEvent::Chat {
        room: Arc::from("chan"),
        from: Arc::from("bar"),
        text: Arc::from("meanwhile"),
        meta: test_meta(false),
    });
    for e in [chat, Event::Opered, end] {
        c.encode(&e, 0, &mut out);
    }
    let text = String::from_utf8(out).unwrap_or_default();
    assert_eq!(
        text,
        ":bar!bar@irc.test PRIVMSG #chan meanwhile\r\n\
         @label=o1 :irc.test BATCH +L1 labeled-response\r\n\
         @batch=L1 :irc.test 381 foo :You are now an IRC operator\r\n\
         @batch=L1 :foo!foo@irc.test MODE foo +o\r\n\
         :irc.test BATCH -L1\r\n"
    );
}

/// `WALLOPS :` has no text: `461`, nothing for the core (an empty `WALLOPS` went to every
/// user with `+w`).
#[test]
fn an_empty_wallops_is_a_missing_parameter() {
    let (mut c, mut s) = registered("foo");
    s.inputs.clear();
    let text = run(&mut c, &mut s, "WALLOPS :\r\nWALLOPS :hi all\r\n");
    assert_eq!(text, ":irc.test 461 foo WALLOPS :Not enough parameters\r\n");
    assert_eq!(s.inputs, [r#"Wallops { text: "hi all" }"#]);
}

/// `SETNAME :` is IRCv3 setname's `FAIL SETNAME INVALID_REALNAME`, nothing for the core (it
/// was answered `Error. Text may not contain control characters`).
#[test]
fn an_empty_setname_fails_as_the_spec_says() {
    let (mut c, mut s) = registered("foo");
    s.inputs.clear();
    let text = run(&mut c, &mut s, "SETNAME :\r\n");
    assert_eq!(
        text,
        ":irc.test FAIL SETNAME INVALID_REALNAME :Realname is not valid\r\n"
    );
    assert!(s.inputs.is_empty(), "{:?}", s.inputs);
}

/// A word that is no channel name is no channel: `PART den`, `TOPIC den`, `KICK den u` and
/// `INVITE u den` get `403` and never reach the core, where the bare word named room `den`
/// (a `TOPIC lk :x` set the topic of `#lk`).
#[test]
fn a_target_without_a_channel_prefix_is_no_channel() {
    let (mut c, mut s) = registered("foo");
    for line in ["PART den", "TOPIC den :x", "KICK den bar", "INVITE bar den"] {
        let before = s.inputs.len();
        assert_eq!(
            run(&mut c, &mut s, &format!("{line}\r\n")),
            format!(":{SERVER} 403 foo den :No such channel\r\n"),
            "{line}"
        );
        assert_eq!(s.inputs.len(), before, "{line}: {:?}", s.inputs);
    }
    run(&mut c, &mut s, "PART #den\r\n");
    let last = s.inputs.last().cloned().unwrap_or_default();
    assert!(last.contains("\"den\""), "{last}");
}

/// `CAP LS` with a version too big for a number is still past 302 (capability values, cap-notify);
/// it read as no version at all.
#[test]
fn a_cap_version_past_any_number_is_past_302() {
    for (version, v302) in [
        ("302", true),
        ("99999999999999999999999", true),
        ("301", false),
        ("x", false),
    ] {
        let mut c = codec(true);
        let mut s = Fake::new(true);
        let text = run(&mut c, &mut s, &format!("CAP LS {version}\r\n"));
        assert_eq!(text.contains(" sasl=PLAIN"), v302, "{version}: {text}");
    }
}
