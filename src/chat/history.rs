//! The message history kept for `history`/`CH` (PROTOCOL.md §6) and, since issue 22, for IRC's
//! `CHATHISTORY` (room chat is kept too): the last `cap` messages, in memory and (lazily) on
//! disk as `said` records, each with its [`Stamp`] (time and id) and [`Kind`]. Ids grow with
//! time, so the entries are sorted by id and a query finds its place by binary search.

use crate::event::{Kind, Stamp};
use crate::input::Mark;
use crate::record::{Audience, Record};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

/// A message kept for `history`. Its strings are the ones the message was delivered with
/// (issue 20): keeping it, and making its record, copies pointers, never text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub stamp: Stamp,
    pub from: Arc<str>,
    pub to: Audience,
    pub kind: Kind,
    pub text: Arc<str>,
}

impl HistoryEntry {
    fn record(&self) -> Record {
        Record::Said {
            id: self.stamp.id,
            at_ms: self.stamp.at_ms,
            from: self.from.clone(),
            to: self.to.clone(),
            kind: self.kind,
            text: self.text.clone(),
        }
    }
}

/// The inverse of an append, for a failed commit: drop the entry appended (by its id, so a
/// guest's entries forgotten in between leave the others alone), restore what it evicted.
#[derive(Debug)]
pub struct Undo {
    id: u64,
    evicted: Option<HistoryEntry>,
}

#[derive(Debug)]
pub struct History {
    entries: VecDeque<HistoryEntry>,
    cap: usize,
    /// The guests with direct messages kept in memory: a guest without any (most) costs no
    /// walk over the history when it leaves. May name a guest whose entries were evicted or
    /// undone since (then the walk finds nothing).
    guests: HashSet<Arc<str>>,
}

/// How an entry stands to a [`Mark`]: before, at, or after it (a time mark is "at" every entry
/// of that millisecond; no mark is after everything).
pub fn against(e: &HistoryEntry, mark: Mark) -> std::cmp::Ordering {
    match mark {
        Mark::Id(id) => e.stamp.id.cmp(&id),
        Mark::Time(ms) => e.stamp.at_ms.cmp(&ms),
        Mark::None => std::cmp::Ordering::Less,
    }
}

impl History {
    pub fn new(cap: usize) -> History {
        History {
            entries: VecDeque::new(),
            cap,
            guests: HashSet::new(),
        }
    }

    fn push(&mut self, entry: HistoryEntry) -> Option<HistoryEntry> {
        if self.cap == 0 {
            return None;
        }
        self.entries.push_back(entry);
        if self.entries.len() > self.cap {
            return self.entries.pop_front();
        }
        None
    }

    /// Keep a message; `None` when history is off.
    pub fn remember(&mut self, entry: HistoryEntry) -> Option<(Record, Undo)> {
        let record = entry.record();
        self.append(entry).map(|undo| (record, undo))
    }

    /// Keep a message in memory only (issue 22: a guest has nothing durable), a direct message
    /// with these `guests` on either side; `None` when history is off.
    pub fn keep<'a>(
        &mut self,
        entry: HistoryEntry,
        guests: impl Iterator<Item = &'a Arc<str>>,
    ) -> Option<Undo> {
        if self.cap == 0 {
            return None;
        }
        self.guests.extend(guests.cloned());
        self.append(entry)
    }

    #[cfg(feature = "cluster")]
    /// Cluster mode: a direct message replayed from the stream has these `guests` on either
    /// side, so that [`History::forget_direct`] finds it when one leaves.
    pub fn note_guests(&mut self, guests: impl Iterator<Item = Arc<str>>) {
        if self.cap > 0 {
            self.guests.extend(guests);
        }
    }

    fn append(&mut self, entry: HistoryEntry) -> Option<Undo> {
        if self.cap == 0 {
            return None;
        }
        let id = entry.stamp.id;
        let evicted = self.push(entry);
        Some(Undo { id, evicted })
    }

    pub fn undo(&mut self, Undo { id, evicted }: Undo) {
        if self.entries.back().is_some_and(|e| e.stamp.id == id) {
            self.entries.pop_back();
        }
        if let Some(e) = evicted {
            self.entries.push_front(e);
        }
    }

    /// Drop the direct messages from or to `user` (a guest logging out or taking another
    /// name): whoever is called that next, guest or account, never reads them. A walk over the
    /// history (capped by `--history`), only for a guest that has such messages.
    pub fn forget_direct(&mut self, user: &str) {
        if !self.guests.remove(user) {
            return;
        }
        self.entries.retain(|e| match &e.to {
            Audience::User(to) => *e.from != *user && **to != *user,
            Audience::Room(_) | Audience::Everyone | Audience::Announcement => true,
        });
    }

    pub fn replay(&mut self, entry: HistoryEntry) {
        self.push(entry);
    }

    pub fn snapshot(&self, out: &mut Vec<Record>) {
        out.extend(self.entries.iter().map(HistoryEntry::record));
    }

    #[cfg(feature = "cluster")]
    /// The records of up to `n` entries from the `from`th on (a cluster snapshot's piece);
    /// how many.
    pub fn records_from(&self, from: usize, n: usize, out: &mut VecDeque<Record>) -> usize {
        let before = out.len();
        out.extend(
            self.entries
                .range(from.min(self.entries.len())..)
                .take(n)
                .map(HistoryEntry::record),
        );
        out.len() - before
    }

    // §6 menus.
    /// The newest `n` entries `visible` accepts, oldest first. Walks back from the newest and
    /// stops at the `n`th visible one, so the cost is bounded by `n` plus the entries skipped,
    /// at most the whole history (capped by `--history`).
    pub fn last_visible(
        &self,
        n: usize,
        visible: impl FnMut(&&HistoryEntry) -> bool,
    ) -> Vec<&HistoryEntry> {
        let mut out: Vec<&HistoryEntry> =
            self.entries.iter().rev().filter(visible).take(n).collect();
        out.reverse();
        out
    }

    // Issue 22: CHATHISTORY.
    /// Up to `limit` entries `wanted` accepts strictly before `mark`, oldest first.
    pub fn before(
        &self,
        mark: Mark,
        limit: usize,
        wanted: impl FnMut(&&HistoryEntry) -> bool,
    ) -> Vec<&HistoryEntry> {
        let end = self.entries.partition_point(|e| against(e, mark).is_lt());
        let mut out: Vec<_> = self
            .entries
            .range(..end)
            .rev()
            .filter(wanted)
            .take(limit)
            .collect();
        out.reverse();
        out
    }

    /// Up to `limit` entries `wanted` accepts strictly after `mark` (`inclusive`: at or after
    /// it), oldest first.
    pub fn after(
        &self,
        mark: Mark,
        inclusive: bool,
        limit: usize,
        wanted: impl FnMut(&&HistoryEntry) -> bool,
    ) -> Vec<&HistoryEntry> {
        let start = self.entries.partition_point(|e| match against(e, mark) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Equal => !inclusive,
            std::cmp::Ordering::Greater => false,
        });
        self.entries
            .range(start..)
            .filter(wanted)
            .take(limit)
            .collect()
    }

    /// Every entry, newest first (`CHATHISTORY TARGETS`).
    pub fn newest_first(&self) -> impl Iterator<Item = &HistoryEntry> {
        self.entries.iter().rev()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64, to: &str) -> HistoryEntry {
        HistoryEntry {
            stamp: Stamp { at_ms: id, id },
            from: "a".into(),
            to: Audience::Room(to.into()),
            kind: Kind::Say,
            text: format!("m{id}").into(),
        }
    }

    fn ids(v: Vec<&HistoryEntry>) -> Vec<u64> {
        v.into_iter().map(|e| e.stamp.id).collect()
    }

    /// Before and after leave out the message (or millisecond) a query names unless asked to
    /// include it, and skip what `wanted` refuses.
    #[test]
    fn before_and_after_bounds() {
        let mut h = History::new(100);
        for id in [10, 20, 30, 40, 50] {
            h.replay(entry(id, if id == 30 { "other" } else { "den" }));
        }
        let den = |e: &&HistoryEntry| e.to == Audience::Room("den".into());
        assert_eq!(ids(h.before(Mark::Id(40), 10, den)), [10, 20]);
        assert_eq!(ids(h.before(Mark::Time(40), 1, den)), [20]);
        assert_eq!(ids(h.after(Mark::Id(20), false, 10, den)), [40, 50]);
        assert_eq!(ids(h.after(Mark::Time(20), false, 10, den)), [40, 50]);
        assert_eq!(ids(h.after(Mark::Time(20), true, 10, den)), [20, 40, 50]);
        assert_eq!(ids(h.before(Mark::None, 2, den)), [40, 50]);
        assert_eq!(ids(h.after(Mark::Id(99), false, 2, den)), Vec::<u64>::new());
    }

    #[test]
    fn the_cap_evicts_the_oldest_and_undo_restores_it() {
        let mut h = History::new(2);
        h.replay(entry(1, "den"));
        h.replay(entry(2, "den"));
        let (_, undo) = h.remember(entry(3, "den")).expect("kept");
        assert_eq!(ids(h.before(Mark::None, 9, |_| true)), [2, 3]);
        h.undo(undo);
        assert_eq!(ids(h.before(Mark::None, 9, |_| true)), [1, 2]);
    }

    /// A guest leaving drops the direct messages kept for it, and only those; a name with none
    /// kept (an account's, here `hans`) drops nothing.
    #[test]
    fn forgetting_a_guest_drops_only_its_kept_direct_messages() {
        let dm = |id: u64, from: &str, to: &str| HistoryEntry {
            stamp: Stamp { at_ms: id, id },
            from: from.into(),
            to: Audience::User(to.into()),
            kind: Kind::Say,
            text: "x".into(),
        };
        let mut h = History::new(100);
        h.replay(dm(1, "yoda", "hans"));
        h.replay(entry(2, "den"));
        let moo: Arc<str> = "moo".into();
        h.keep(dm(3, "moo", "yoda"), [&moo].into_iter());
        h.keep(dm(4, "yoda", "moo"), [&moo].into_iter());
        h.forget_direct("hans");
        assert_eq!(ids(h.before(Mark::None, 9, |_| true)), [1, 2, 3, 4]);
        h.forget_direct("moo");
        assert_eq!(ids(h.before(Mark::None, 9, |_| true)), [1, 2]);
    }
}
