//! Upgrading from record format 1 (issue 17): `tests/fixtures/format1/` is a credentials file
//! and data directory written by the release before format 2 (`make.py` there drove it over
//! TCP: accounts, blocks, offline messages delivered and not, lockouts, rooms with lists and
//! topics, IRC channel modes, profiles, history of every kind, a compaction, and more journal
//! after it). Today's code must read every fact back, rewrite the files in format 2, and read
//! the same facts again.

mod durability_util;

use chatserver::chat::{Chat, Settings};
use chatserver::config::Config;
use chatserver::credentials::Credentials;
use chatserver::event::Kind;
use chatserver::record::{Access, Audience, Record, RoomSetting};
use chatserver::store::Store;
use chatserver::time::Now;
use durability_util::{Client, Launch, Scratch, Server};
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The two tests run one at a time: a server spawned by one inherits, between its fork and
/// exec, the other's open data-directory lock, which then looks held for a moment when the
/// other reopens its store ("in use by another chatserver process").
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn fixture() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/format1"
    ))
}

/// A copy of the fixture (the committed files are never opened for writing).
fn copy_of_fixture(name: &str) -> Scratch {
    let s = Scratch::new(name);
    fs::copy(fixture().join("credentials.txt"), s.file("credentials.txt"))
        .expect("copy credentials.txt");
    fs::create_dir_all(s.file("data")).expect("data dir");
    for entry in fs::read_dir(fixture().join("data")).expect("fixture data") {
        let entry = entry.expect("entry");
        fs::copy(entry.path(), s.file("data").join(entry.file_name())).expect("copy");
    }
    s
}

fn config(s: &Scratch) -> Config {
    Config {
        credentials: s.file("credentials.txt"),
        data_dir: s.file("data"),
        ..Config::default()
    }
}

/// Open the store as the server does and replay into the core; its durable state, sorted.
fn core_state(c: &Config) -> (Vec<Record>, Credentials) {
    let (store, credentials, records) = match Store::open(c) {
        Ok(opened) => opened,
        Err(e) => panic!("open: {e}"),
    };
    drop(store);
    let mut chat = Chat::new(Settings::from(c), credentials.clone(), Now::read(), [0; 32]);
    for r in records {
        chat.replay(r);
    }
    let mut state: Vec<Record> = chat.snapshot().into_iter().map(without_id).collect();
    state.sort_by_key(|r| format!("{r:?}"));
    (state, credentials)
}

/// Issue 22: the core keeps messages with an id (given at replay to format-1 `offline` and
/// `history` records, from their time); the facts written are the rest, so compare those, and
/// check the kind every format-1 message has.
fn without_id(r: Record) -> Record {
    match r {
        Record::Said {
            at_ms,
            from,
            to,
            kind,
            text,
            ..
        } => {
            assert_eq!(kind, Kind::Say);
            Record::History {
                at_ms,
                from,
                to,
                text,
            }
        }
        Record::Mail {
            to,
            from,
            at_ms,
            kind,
            text,
            ..
        } => {
            assert_eq!(kind, Kind::Say);
            Record::Offline {
                to,
                from,
                at_ms,
                text,
            }
        }
        other => other,
    }
}

fn s(text: &str) -> String {
    text.to_string()
}

fn a(text: &str) -> Arc<str> {
    Arc::from(text)
}

fn set(room: &str, setting: RoomSetting) -> Record {
    Record::RoomSet {
        room: s(room),
        setting,
    }
}

/// What make.py did, as the state it leaves (its timestamps are the fixture's).
fn written() -> Vec<Record> {
    let mut state = vec![
        Record::Block {
            by: s("yoda"),
            user: s("vader"),
        },
        // luke's first three were delivered; the fourth waits, as do both of r2d2's.
        Record::Offline {
            to: a("luke"),
            from: a("yoda"),
            at_ms: 1796281969558,
            text: a("fourth, kept for later"),
        },
        Record::Offline {
            to: a("r2d2"),
            from: a("yoda"),
            at_ms: 1796281968856,
            text: a("beep boop #1 $HOME \\n literal"),
        },
        Record::Offline {
            to: a("r2d2"),
            from: a("yoda"),
            at_ms: 1796281969516,
            text: a("after the snapshot"),
        },
        Record::Lockout {
            user: s("r2d2"),
            until_ms: 2796281969601,
        },
        Record::Lockout {
            user: s("vader"),
            until_ms: 2796281968917,
        },
        // The IRC settings of each room, one `room-set` record each since issue 17 (format 1
        // held them as one `channel` record); rooms from before creation times were recorded
        // get 0, and none is known to be a guest's.
        set(
            "irc",
            RoomSetting::Origin {
                created_s: 1796281968,
                guest: false,
            },
        ),
        set("irc", RoomSetting::Secret(true)),
        set("irc", RoomSetting::TopicLock(false)),
        set("irc", RoomSetting::Key(Some(s("s3cret")))),
        set(
            "irc",
            RoomSetting::Op {
                user: s("yoda"),
                on: true,
            },
        ),
        set(
            "irc",
            RoomSetting::Voice {
                user: s("yoda"),
                on: true,
            },
        ),
        set(
            "irc",
            RoomSetting::Mask {
                mask: s("*!*@evil.example"),
                on: true,
            },
        ),
        set(
            "irc",
            RoomSetting::Mask {
                mask: s("*!*@second.example"),
                on: true,
            },
        ),
        set(
            "guests",
            RoomSetting::Origin {
                created_s: 1796281968,
                guest: false,
            },
        ),
        set(
            "guests",
            RoomSetting::Mask {
                mask: s("*!*@*.bad"),
                on: true,
            },
        ),
        set(
            "den",
            RoomSetting::Origin {
                created_s: 0,
                guest: false,
            },
        ),
        set(
            "lounge",
            RoomSetting::Origin {
                created_s: 0,
                guest: false,
            },
        ),
        Record::RoomOpen {
            room: s("den"),
            owner: s("bob"),
            private: true,
        },
        Record::RoomAccess {
            room: s("den"),
            user: s("ann"),
            access: Access::Permitted,
        },
        Record::RoomTopic {
            room: s("den"),
            by: s("bob"),
            at_ms: 1796281969603,
            text: s("Den  topic "),
        },
        Record::RoomOpen {
            room: s("guests"),
            owner: s("guest1"),
            private: false,
        },
        Record::RoomTopic {
            room: s("guests"),
            by: s("guest1"),
            at_ms: 1796281969000,
            text: s("guest topic"),
        },
        Record::RoomOpen {
            room: s("irc"),
            owner: s("hans"),
            private: false,
        },
        Record::RoomAccess {
            room: s("irc"),
            user: s("vader"),
            access: Access::Banned,
        },
        Record::RoomTopic {
            room: s("irc"),
            by: s("hans"),
            at_ms: 1796281968993,
            text: s("the irc  topic"),
        },
        Record::RoomOpen {
            room: s("lounge"),
            owner: s("ann"),
            private: false,
        },
        Record::RoomAccess {
            room: s("lounge"),
            user: s("bob"),
            access: Access::Banned,
        },
        Record::RoomAccess {
            room: s("lounge"),
            user: s("hans"),
            access: Access::Permitted,
        },
        Record::RoomTopic {
            room: s("lounge"),
            by: s("ann"),
            at_ms: 1796281968932,
            text: s("Welcome to the  lounge "),
        },
        Record::Profile {
            user: s("ann"),
            attribute: s("age"),
            value: s("42"),
        },
        Record::Profile {
            user: s("ann"),
            attribute: s("self_description"),
            value: s("I like  long walks "),
        },
        Record::Profile {
            user: s("bob"),
            attribute: s("phone_number"),
            value: s("+61 400 000 000"),
        },
    ];
    // The last entries of the history (--history 4 rotated the older ones away).
    for (at_ms, from, to, text) in [
        (1796281968940, "yoda", Audience::Everyone, "hello  everyone"),
        (
            1796281968980,
            "yoda",
            Audience::User("ann".into()),
            "psst ann",
        ),
        (1796281968980, "ann", Audience::Announcement, "all hands"),
        (
            1796281969516,
            "yoda",
            Audience::User("r2d2".into()),
            "after the snapshot",
        ),
        (
            1796281969558,
            "yoda",
            Audience::User("luke".into()),
            "fourth, kept for later",
        ),
        (
            1796281969604,
            "bob",
            Audience::Everyone,
            "after the restart",
        ),
    ] {
        state.push(Record::History {
            at_ms,
            from: from.into(),
            to,
            text: text.into(),
        });
    }
    state.sort_by_key(|r| format!("{r:?}"));
    state
}

fn first_line(path: &Path) -> String {
    let text = fs::read_to_string(path).expect("read");
    text.lines().next().unwrap_or_default().to_string()
}

fn accounts_are_intact(credentials: &Credentials) {
    assert_eq!(credentials.len(), 7);
    for (user, password) in [
        ("hans", "falcon*solo"),
        ("yoda", "wise"),
        ("vader", "sithlord**"),
        ("r2d2", "c3po"),
        ("luke", "jedi"),
        ("ann", "annpass"),
        ("bob", "bobpass"),
    ] {
        assert!(
            credentials.get(user).is_some_and(|s| s.verify(password)),
            "{user}"
        );
    }
}

/// Every fact make.py wrote reads back, before and after the start-up that rewrites the files
/// in format 2, and the journal then takes new records in format 2.
#[test]
fn a_format_1_directory_opens_with_nothing_lost_and_is_rewritten_in_format_2() {
    let _serial = ONE_AT_A_TIME.lock();
    let data = |name: &str| fixture().join("data").join(name);
    for (file, header) in [
        ("snapshot.log", " chatserver snapshot 2"),
        ("journal.log", " chatserver journal 2"),
        ("history.log", " chatserver history 0"),
        ("history.old", " chatserver history 0"),
    ] {
        assert!(
            first_line(&data(file)).ends_with(header),
            "{file}: format 1"
        );
    }
    let dir = copy_of_fixture("format1");
    let c = config(&dir);
    let credentials_before = fs::read(&c.credentials).expect("read");
    let history_old_before = fs::read(dir.file("data/history.old")).expect("read");
    let (state, credentials) = core_state(&c);
    assert_eq!(state, written());
    accounts_are_intact(&credentials);
    for (file, header) in [
        ("snapshot.log", " chatserver snapshot 3 format 2"),
        ("journal.log", " chatserver journal 3 format 2"),
        ("history.log", " chatserver history 0 format 2"),
    ] {
        assert!(
            first_line(&dir.file("data").join(file)).ends_with(header),
            "{file}: {}",
            first_line(&dir.file("data").join(file))
        );
    }
    // Never appended to again, so left as written; credentials.txt's format is unchanged.
    assert_eq!(
        fs::read(dir.file("data/history.old")).expect("read"),
        history_old_before
    );
    assert_eq!(fs::read(&c.credentials).expect("read"), credentials_before);
    let (again, _) = core_state(&c);
    assert_eq!(again, written());
    let (mut store, _, _) = Store::open(&c).expect("open");
    let block = Record::Block {
        by: s("ann"),
        user: s("luke\nwith a newline"),
    };
    store.commit(std::slice::from_ref(&block)).expect("commit");
    drop(store);
    let (after, _) = core_state(&c);
    let mut want = written();
    want.push(block);
    want.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(after, want);
}

/// The release binary on a copy of the fixture: the users see what they left, twice (the
/// second start reads the format-2 files the first one wrote).
#[test]
fn the_server_serves_a_format_1_directory_as_it_was_left() {
    let _serial = ONE_AT_A_TIME.lock();
    let dir = copy_of_fixture("format1-server");
    let server = Server::start(&dir.path, &Launch::default());
    let mut luke = Client::connect(server.addr);
    assert_eq!(luke.login("luke", "jedi"), "yoda: fourth, kept for later\n");
    let mut vader = Client::connect(server.addr);
    vader.send("login vader sithlord**");
    vader.wait_for("Your account is blocked due to multiple login failures");
    drop(server);
    for _ in 0..2 {
        let server = Server::start(&dir.path, &Launch::default());
        let mut ann = Client::connect(server.addr);
        ann.login("ann", "annpass");
        // `irc` is secret (`+s`): since issue 17 (F9) it is listed to its members only.
        assert_eq!(
            ann.call("list-chatroom"),
            "den bob private\nguests guest1 public\nlounge ann public\n"
        );
        assert_eq!(ann.call("get-blacklist lounge"), "bob\n");
        assert_eq!(
            ann.call("topic lounge"),
            "Topic of lounge: Welcome to the  lounge  (set by ann)\n"
        );
        let profile = ann.call("view-profile ann");
        assert!(
            profile.contains("self_description : I like  long walks \n"),
            "{profile}"
        );
        let history = ann.call("history");
        for line in [
            "] yoda: hello  everyone\n",
            "] yoda -> ann: psst ann\n",
            "] ann: all hands\n",
            "] bob: after the restart\n",
        ] {
            assert!(history.contains(line), "{line:?} in {history}");
        }
    }
}
