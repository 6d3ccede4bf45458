//! Record format 2 in the store (issue 17): any value survives the checksummed line, a journal
//! commit, a compaction and a restart; format-1 files load and are rewritten at start-up, once
//! even across a crash; a newer format is refused, even by `--repair`; an account that would
//! not read back is refused before anything is written.

use super::format::{self, raw_line};
use super::tests::{chat_of, open, restart, Scratch};
use super::*;
use crate::credentials::Secret;
use crate::record::arbitrary::Gen;
use crate::record::{Access, RoomSetting};

fn journal_bytes(records: &[Record]) -> Vec<u8> {
    let mut bytes = header("journal", 0);
    records
        .iter()
        .for_each(|r| encode_line(r, &mut bytes, &mut String::new()));
    bytes
}

/// Issue 17: arbitrary Unicode in every field of every kind survives the store's line (with its
/// checksum) as each kind of file reads it.
#[test]
fn any_record_survives_the_checksummed_line() {
    for seed in 1..=3_000 {
        let records = Record::one_of_each(&mut Gen::new(seed));
        let bytes = journal_bytes(&records);
        for (kind, tail) in [
            ("journal", Tail::Torn),
            ("snapshot", Tail::Strict),
            ("history", Tail::Lenient),
        ] {
            let bytes = [&header(kind, 0), &bytes[header("journal", 0).len()..]].concat();
            let loaded = format::parse(Path::new("t"), &bytes, kind, tail, false);
            let loaded = loaded.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert_eq!(loaded.records, records, "seed {seed}");
            assert_eq!(loaded.good_len, bytes.len() as u64, "seed {seed}");
        }
    }
}

/// Issue 17: the same through real files: group commits, a restart, a compaction into a
/// snapshot and another restart. History goes to its own file and comes back after the rest.
#[test]
fn any_record_survives_a_commit_a_compaction_and_a_restart() {
    let s = Scratch::new("anyvalue");
    let c = s.config("yoda wise\n");
    let (mut store, _, _) = open(&c);
    let (mut durable, mut lazy) = (Vec::new(), Vec::new());
    for seed in 1..=150 {
        let mut batch = Record::one_of_each(&mut Gen::new(seed));
        // Accounts and their deletions go to credentials.txt, whose format holds only valid
        // names (tested below).
        batch.retain(|r| !matches!(r, Record::Account { .. } | Record::AccountDeleted { .. }));
        store.commit(&batch).expect("a batch of any values commits");
        let (l, d): (Vec<_>, Vec<_>) = batch.into_iter().partition(Record::is_lazy);
        durable.extend(d);
        lazy.extend(l);
    }
    let everything = [durable.clone(), lazy].concat();
    assert_eq!(restart(store, &c), everything);
    let (mut store, _, _) = open(&c);
    store.compact(&durable).expect("compact");
    assert_eq!(restart(store, &c), everything);
}

/// Issue 17, F1: the records `MODE #m +b :x y` and a key or mask with a space or newline
/// wrote. In format 1 the first stopped the next start (corrupt record) and the channel's
/// settings were dropped at replay; now the state is intact after a restart and a compaction.
#[test]
fn f1_values_with_spaces_and_newlines_survive_restarts() {
    let s = Scratch::new("f1");
    let c = s.config("yoda wise\n");
    let (mut store, creds, _) = open(&c);
    let set = |setting| Record::RoomSet {
        room: "m".into(),
        setting,
    };
    let batch = [
        Record::RoomOpen {
            room: "m".into(),
            owner: "mal".into(),
            private: false,
        },
        Record::RoomAccess {
            room: "m".into(),
            user: "x y".into(),
            access: Access::Banned,
        },
        // Issue 17: a room's settings are one `room-set` record per change.
        set(RoomSetting::Origin {
            created_s: 17,
            guest: false,
        }),
        set(RoomSetting::Secret(true)),
        set(RoomSetting::Key(Some("a b".into()))),
        set(RoomSetting::Op {
            user: "o p".into(),
            on: true,
        }),
        set(RoomSetting::Mask {
            mask: "x!y z@h".into(),
            on: true,
        }),
        set(RoomSetting::Mask {
            mask: "new\nline!*@*".into(),
            on: true,
        }),
        Record::Block {
            by: "yoda".into(),
            user: "vader".into(),
        },
    ];
    store.commit(&batch).expect("commit");
    let state = chat_of(&c, creds.clone(), batch.to_vec()).snapshot();
    for r in &batch {
        assert!(state.contains(r), "{r:?} in the state");
    }
    drop(store);
    let (mut store, creds, records) = open(&c);
    assert_eq!(records, batch);
    assert_eq!(chat_of(&c, creds.clone(), records).snapshot(), state);
    store.compact(&state).expect("compact");
    drop(store);
    let (_, creds, records) = open(&c);
    assert_eq!(chat_of(&c, creds, records).snapshot(), state);
}

fn v1_file(kind: &str, generation: u64, lines: &[&str]) -> Vec<u8> {
    let mut bytes = raw_line(&format!("chatserver {kind} {generation}"));
    for l in lines {
        bytes.extend(raw_line(l));
    }
    bytes
}

fn first_line(path: &Path) -> String {
    let text = fs::read_to_string(path).expect("read");
    text.lines().next().unwrap_or_default().to_string()
}

/// A format-1 journal is read as its release read it (an unreadable channel record skipped,
/// keeping the settings before it), then rewritten as a snapshot of a new generation. A crash
/// after that snapshot, before the new journal, leaves the old journal superseded: every record
/// still applies exactly once, and appends never go to a format-1 file.
#[test]
fn format_1_files_load_once_and_are_rewritten_even_across_a_crash() {
    let s = Scratch::new("upgrade");
    let c = s.config("yoda wise\n");
    fs::create_dir_all(&c.data_dir).expect("data dir");
    let journal = v1_file(
        "journal",
        0,
        &[
            "offline luke yoda 1 hi  there ",
            "delivered luke 1",
            "offline luke yoda 2 second",
            "channel m 5 nt k - - -",
            "channel m 6 nt a b - - -",
        ],
    );
    fs::write(s.journal(), &journal).expect("write");
    let history = c.data_dir.join("history.log");
    fs::write(
        &history,
        v1_file("history", 0, &["history 3 dm yoda luke hi"]),
    )
    .expect("write");
    let expected = vec![
        Record::Offline {
            to: "luke".into(),
            from: "yoda".into(),
            at_ms: 1,
            text: "hi  there ".into(),
        },
        Record::Delivered {
            to: "luke".into(),
            count: 1,
        },
        Record::Offline {
            to: "luke".into(),
            from: "yoda".into(),
            at_ms: 2,
            text: "second".into(),
        },
        Record::Channel {
            room: "m".into(),
            created_s: 5,
            secret: false,
            topic_lock: true,
            no_outside: true,
            key: Some("k".into()),
            ops: vec![],
            voiced: vec![],
            masks: vec![],
        },
        Record::History {
            at_ms: 3,
            from: "yoda".into(),
            to: crate::record::Audience::User("luke".into()),
            text: "hi".into(),
        },
    ];
    let (store, _, records) = open(&c);
    drop(store);
    assert_eq!(records, expected);
    let snapshot = c.data_dir.join(SNAPSHOT);
    assert!(first_line(&snapshot).ends_with(" chatserver snapshot 1 format 2"));
    assert!(first_line(&s.journal()).ends_with(" chatserver journal 1 format 2"));
    assert!(first_line(&history).ends_with(" chatserver history 0 format 2"));
    // The crash: the new snapshot is in place, the old journal is back.
    fs::write(s.journal(), &journal).expect("write");
    let (mut store, _, records) = open(&c);
    assert_eq!(records, expected);
    assert!(first_line(&s.journal()).ends_with(" chatserver journal 2 format 2"));
    let more = Record::Block {
        by: "luke".into(),
        user: "a b".into(),
    };
    store.commit(std::slice::from_ref(&more)).expect("commit");
    let mut want = expected.clone();
    want.insert(4, more);
    assert_eq!(restart(store, &c), want);
}

/// A downgrade: a file of a format this release does not know is refused with its name, and
/// `--repair` does not cut it (nothing in it is damaged).
#[test]
fn a_newer_format_is_refused_even_by_repair() {
    let s = Scratch::new("newer");
    let mut c = s.config("yoda wise\n");
    fs::create_dir_all(&c.data_dir).expect("data dir");
    let mut bytes = raw_line("chatserver journal 4 format 3");
    bytes.extend(raw_line("offline\x1fsomething new"));
    fs::write(s.journal(), &bytes).expect("write");
    for repair in [false, true] {
        c.repair = repair;
        match Store::open(&c) {
            Err(StoreError::NewerFormat { path, format: 3 }) => assert_eq!(path, s.journal()),
            other => panic!("{:?}", other.map(|_| ())),
        }
        assert_eq!(fs::read(s.journal()).expect("read"), bytes);
    }
}

/// credentials.txt keeps its assignment format (`user password`), which cannot hold every
/// value: an account that would not read back as itself fails its commit before anything is
/// written, and the files still open.
#[test]
fn an_account_that_would_not_read_back_is_refused_before_anything_is_written() {
    let s = Scratch::new("badaccount");
    let c = s.config("yoda wise\n");
    let (mut store, _, _) = open(&c);
    let queued = Record::Block {
        by: "yoda".into(),
        user: "vader".into(),
    };
    for (user, secret) in [
        ("a b", Secret::Plain("pw".into())),
        ("eve\nmallory", Secret::Plain("pw".into())),
        ("login", Secret::Plain("pw".into())),
        ("eve", Secret::Plain("pass word".into())),
        ("eve", Secret::Plain("pw\nmallory pw".into())),
        ("eve", Secret::Plain("$sha256$00$00".into())),
        ("", Secret::hashed("pw", [1; 16])),
    ] {
        let account = Record::Account {
            user: user.into(),
            secret,
        };
        let journal = fs::read(s.journal()).expect("read");
        let err = store.commit(&[queued.clone(), account]).expect_err(user);
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(fs::read(s.journal()).expect("read"), journal);
        assert_eq!(
            fs::read_to_string(&c.credentials).expect("read"),
            "yoda wise\n"
        );
    }
    assert!(restart(store, &c).is_empty());
    assert_eq!(open(&c).1.len(), 1);
}

/// The journal_replay fuzz seeds keep the loader's invariants, and the format-2 ones are what
/// they claim: every line but a torn tail (or a damaged history line) reads.
#[test]
fn the_journal_replay_seeds_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/journal_replay");
    let mut format2 = 0;
    for entry in fs::read_dir(&dir).expect("seeds") {
        let path = entry.expect("entry").path();
        let bytes = fs::read(&path).expect("read");
        fuzz_load(&bytes);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some(kind) = name.strip_suffix("-format2") else {
            continue;
        };
        let tail = match kind {
            "journal" => Tail::Torn,
            "snapshot" => Tail::Strict,
            _ => Tail::Lenient,
        };
        let loaded = format::parse(&path, &bytes, kind, tail, false).expect(name);
        assert_eq!(loaded.format, format::Format::V2);
        assert!(loaded.records.len() >= 3, "{name}");
        format2 += 1;
    }
    assert_eq!(format2, 3);
}
