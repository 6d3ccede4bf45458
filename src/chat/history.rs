//! The message history kept for `history`/`CH` (PROTOCOL.md §6): the last `cap` messages, in
//! memory and (lazily) on disk as `history` records.

use crate::record::{Audience, Record};
use std::collections::VecDeque;
use std::sync::Arc;

/// A message kept for `history`. Its strings are the ones the message was delivered with
/// (issue 20): keeping it, and making its record, copies pointers, never text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub at_ms: u64,
    pub from: Arc<str>,
    pub to: Audience,
    pub text: Arc<str>,
}

impl HistoryEntry {
    fn record(&self) -> Record {
        Record::History {
            at_ms: self.at_ms,
            from: self.from.clone(),
            to: self.to.clone(),
            text: self.text.clone(),
        }
    }
}

/// The inverse of an append, for a failed commit: drop the newest, restore what it evicted.
#[derive(Debug)]
pub struct Undo(Option<HistoryEntry>);

#[derive(Debug)]
pub struct History {
    entries: VecDeque<HistoryEntry>,
    cap: usize,
}

impl History {
    pub fn new(cap: usize) -> History {
        History {
            entries: VecDeque::new(),
            cap,
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
        if self.cap == 0 {
            return None;
        }
        let record = entry.record();
        let evicted = self.push(entry);
        Some((record, Undo(evicted)))
    }

    pub fn undo(&mut self, Undo(evicted): Undo) {
        self.entries.pop_back();
        if let Some(e) = evicted {
            self.entries.push_front(e);
        }
    }

    pub fn replay(&mut self, entry: HistoryEntry) {
        self.push(entry);
    }

    pub fn snapshot(&self, out: &mut Vec<Record>) {
        out.extend(self.entries.iter().map(HistoryEntry::record));
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
}
