//! Incremental compaction: every crash point reads back exactly the state, a step is bounded by
//! its byte budget, and a failed step leaves the store usable.

use super::compaction::{Phase, NEXT};
use super::tests::{chat_of, history, offline, open, Scratch};
use super::*;
use crate::chat::Chat;

const SNAPSHOT_TMP: &str = "snapshot.tmp";

fn delivered(to: &str, count: u32) -> Record {
    Record::Delivered {
        to: to.into(),
        count,
    }
}

/// A store whose committed state is `before`; a compaction of it has begun, and `during` was
/// committed after that (to journal.next). Returns the store and a core holding the state
/// expected after a restart at any point from here on.
fn compacting(s: &Scratch, c: &Config) -> (Store, Chat) {
    let (mut store, creds, _) = open(c);
    let before: Vec<Record> = (1..=40)
        .map(|n| offline("luke", n))
        .chain([delivered("luke", 3), history(1)])
        .collect();
    store.commit(&before).expect("commit");
    let mut chat = chat_of(c, creds, before);
    let journal_before = fs::read(s.journal()).expect("read");
    store.begin_compaction(chat.freeze()).expect("begin");
    let during = [offline("luke", 41), delivered("luke", 2), history(2)];
    store.commit(&during).expect("commit");
    assert_eq!(
        fs::read(s.journal()).expect("read"),
        journal_before,
        "frozen"
    );
    for r in during {
        chat.replay(r);
    }
    (store, chat)
}

fn data(s: &Scratch, name: &str) -> PathBuf {
    s.0.join("data").join(name)
}

/// Restart and compare the state; afterwards the files are one snapshot and one journal, and a
/// commit plus another restart still reads back right (the recovery left consistent files).
fn assert_restarts_with(s: &Scratch, c: &Config, expected: &[Record]) {
    let (mut store, creds, records) = open(c);
    assert_eq!(chat_of(c, creds, records).snapshot(), expected);
    assert!(!data(s, NEXT).exists() && !data(s, SNAPSHOT_TMP).exists());
    store.commit(&[offline("hans", 7)]).expect("commit");
    drop(store);
    let (_, creds, records) = open(c);
    let mut chat = chat_of(c, creds, records);
    chat.replay(Record::Delivered {
        to: "hans".into(),
        count: 1,
    });
    assert_eq!(chat.snapshot(), expected);
}

fn config(s: &Scratch) -> Config {
    Config {
        history: 10,
        ..s.config("yoda wise\nluke force\nhans solo\n")
    }
}

/// Crash right after the start, and after some steps: snapshot G, frozen journal G and
/// journal.next G+1 are all replayed, in order.
#[test]
fn a_crash_before_the_snapshot_is_in_place_replays_all_three_files() {
    for steps in [0, 3] {
        let s = Scratch::new("crash-a");
        let c = config(&s);
        let (mut store, chat) = compacting(&s, &c);
        let expected = chat.snapshot();
        for _ in 0..steps {
            assert!(!store.compaction_step(64).expect("step"));
        }
        drop(store);
        assert!(data(&s, NEXT).exists());
        assert_restarts_with(&s, &c, &expected);
    }
}

/// Crash between the renames: snapshot G+1 already holds the frozen journal G, which must not
/// be applied again (it holds a `delivered`); journal.next follows the snapshot.
#[test]
fn a_crash_between_the_renames_replays_the_snapshot_and_journal_next() {
    let s = Scratch::new("crash-b");
    let c = config(&s);
    let (mut store, chat) = compacting(&s, &c);
    let expected = chat.snapshot();
    let frozen = fs::read(s.journal()).expect("read");
    while !store.compaction_step(1 << 20).expect("step") {}
    drop(store);
    fs::rename(s.journal(), data(&s, NEXT)).expect("rename");
    fs::write(s.journal(), frozen).expect("put the frozen journal back");
    assert_restarts_with(&s, &c, &expected);
    let snap = fs::read_to_string(data(&s, SNAPSHOT)).expect("read");
    assert!(snap
        .lines()
        .next()
        .is_some_and(|l| l.ends_with(" snapshot 1 format 2")));
}

/// The whole compaction, then a crash: the normal case.
#[test]
fn a_finished_compaction_replays_snapshot_and_journal() {
    let s = Scratch::new("crash-c");
    let c = config(&s);
    let (mut store, chat) = compacting(&s, &c);
    let expected = chat.snapshot();
    let frozen = fs::metadata(s.journal()).expect("meta").len();
    while !store.compaction_step(100).expect("step") {}
    assert!(!store.compacting());
    assert_eq!(
        store.journal_len(),
        fs::metadata(s.journal()).expect("meta").len()
    );
    assert!(store.journal_len() < frozen / 5);
    drop(store);
    assert_restarts_with(&s, &c, &expected);
}

/// A step writes at most its budget to the snapshot, however large the state.
#[test]
fn a_compaction_step_writes_at_most_its_budget() {
    let s = Scratch::new("budget");
    let c = config(&s);
    let (mut store, _, _) = open(&c);
    let state: Vec<Record> = (0..2000).map(|n| offline("luke", n)).collect();
    store
        .begin_compaction(RecordList::from(state.clone()))
        .expect("begin");
    let tmp = data(&s, SNAPSHOT_TMP);
    let header = fs::metadata(&tmp).expect("meta").len();
    let mut len = header;
    let mut steps = 0;
    let writing = |store: &Store| {
        store
            .compaction
            .as_ref()
            .is_some_and(|c| c.phase == Phase::Writing)
    };
    while writing(&store) {
        assert!(!store.compaction_step(1000).expect("step"));
        let now = fs::metadata(&tmp).expect("meta").len();
        assert!(now - len <= 1000 && now > len, "{len} -> {now}");
        len = now;
        steps += 1;
    }
    assert_eq!(steps, (len - header).div_ceil(1000), "{len}");
    // Then sync and rename, sync the directory, free the state, rename journal.next: one
    // step each; then the replaced journal is emptied and removed, a step each.
    assert!(!store.compaction_step(1000).expect("step"));
    assert!(data(&s, SNAPSHOT).exists() && !tmp.exists());
    assert!(!store.compaction_step(1000).expect("step"));
    assert!(!store.compaction_step(1000).expect("step"));
    assert!(!store.compaction_step(1000).expect("step"));
    assert!(
        data(&s, "journal.old").exists(),
        "retired, not freed by the rename"
    );
    assert!(!store.compaction_step(1000).expect("step"));
    assert_eq!(
        fs::metadata(data(&s, "journal.old")).expect("meta").len(),
        0
    );
    assert!(store.compaction_step(1000).expect("step"));
    assert!(!data(&s, "journal.old").exists());
    assert_eq!(fs::metadata(data(&s, SNAPSHOT)).expect("meta").len(), len);
    drop(store);
    let (_, _, records) = open(&c);
    assert_eq!(records, state);
}

/// A step that fails (a full disk) deletes the temp snapshot; commits go on, the retry waits
/// for more journal, and a restart at any time reads back the state.
#[test]
fn a_failed_step_keeps_the_store_usable_and_retries_later() {
    let s = Scratch::new("step-fail");
    let c = config(&s);
    let (mut store, mut chat) = compacting(&s, &c);
    assert!(!store.compaction_step(64).expect("step"));
    if let Some(comp) = store.compaction.as_mut() {
        comp.file = Some(
            OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        );
    }
    let e = store.compaction_step(64).expect_err("ENOSPC");
    assert_eq!(e.raw_os_error(), Some(28), "{e}");
    assert!(!data(&s, SNAPSHOT_TMP).exists());
    // The abandoned snapshot is freed a step at a time, then the retry waits.
    assert!(data(&s, "snapshot.failed").exists());
    while store.compacting() {
        assert!(!store.compaction_step(64).expect("trim"));
    }
    assert!(!data(&s, "snapshot.failed").exists());
    assert!(!store.wants_compaction());
    assert!(!store.compaction_step(64).expect("waits"));
    assert!(!data(&s, SNAPSHOT_TMP).exists(), "retried at once");
    let mut n = 100;
    while store.journal_len() < store.compact_retry_at {
        store.commit(&[offline("luke", n)]).expect("commit");
        chat.replay(offline("luke", n));
        n += 1;
    }
    while !store.compaction_step(1 << 20).expect("step") {}
    drop(store);
    assert_restarts_with(&s, &c, &chat.snapshot());
}

/// journal.next of a generation that follows neither file is refused, naming it.
#[test]
fn a_journal_next_that_follows_nothing_is_refused() {
    let s = Scratch::new("orphan-next");
    let c = config(&s);
    let (store, _) = compacting(&s, &c);
    drop(store);
    fs::remove_file(s.journal()).expect("rm");
    match Store::open(&c) {
        Err(e @ StoreError::Inconsistent { .. }) => {
            assert!(e.to_string().contains(NEXT), "{e}");
        }
        other => panic!("expected Inconsistent, got {:?}", other.map(|_| ())),
    }
}

/// Replacing or removing a large file frees its blocks in one call (37 ms for 100 MB on ext4),
/// so a compaction retires the old snapshot and journal under a second name, trims them a step
/// at a time and removes them; names a crash left behind are removed at start-up.
#[test]
fn replaced_files_are_retired_and_freed_in_steps() {
    let s = Scratch::new("retire");
    let c = config(&s);
    let (mut store, chat) = compacting(&s, &c);
    while !store.compaction_step(100).expect("step") {}
    let first = fs::read(data(&s, SNAPSHOT)).expect("read");
    store.begin_compaction(chat.freeze()).expect("begin");
    let mut retired = 0;
    while !store.compaction_step(100).expect("step") {
        if let Ok(bytes) = fs::read(data(&s, "snapshot.old")) {
            assert!(
                first.starts_with(&bytes),
                "the old snapshot, trimmed from its end"
            );
            retired += 1;
        }
    }
    assert!(
        retired > 0,
        "the old snapshot was retired, not freed by the rename"
    );
    for name in ["snapshot.old", "journal.old", "snapshot.failed"] {
        assert!(!data(&s, name).exists(), "{name} removed once empty");
    }
    drop(store);
    for name in ["snapshot.old", "journal.old", "snapshot.failed"] {
        fs::write(data(&s, name), b"left by a crash").expect("write");
    }
    assert_restarts_with(&s, &c, &chat.snapshot());
    for name in ["snapshot.old", "journal.old", "snapshot.failed"] {
        assert!(!data(&s, name).exists(), "{name} removed at start-up");
    }
}

/// After a restart with a long journal, a compaction makes progress at once: the retry distance
/// only applies after a failure (the new journal starts short).
#[test]
fn a_compaction_after_a_restart_is_not_held_back() {
    let s = Scratch::new("restart-begin");
    let c = config(&s);
    let (mut store, _, _) = open(&c);
    let state: Vec<Record> = (0..3000).map(|n| offline("luke", n)).collect();
    store.commit(&state).expect("commit");
    drop(store);
    let (mut store, _, _) = open(&c);
    store
        .begin_compaction(RecordList::from(state))
        .expect("begin");
    assert!(store.compacting());
    let mut steps = 0;
    while !store.compaction_step(1 << 20).expect("step") {
        steps += 1;
        assert!(steps < 10, "held back");
    }
}
