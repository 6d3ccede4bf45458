//! Blocks (PROTOCOL.md §3): who blocked whom, with a reverse index so fan-out checks one set per
//! message instead of one lookup per recipient. Durable as `block`/`unblock` records.

use super::cow_map::CowMap;
use super::frozen::Part;
use crate::record::Record;
use std::collections::BTreeSet;

/// Each user's set of names; copy-on-write so a compaction can freeze it cheaply.
type Sets = CowMap<BTreeSet<String>>;

/// The inverse of a block change, for a failed commit.
#[derive(Debug)]
pub enum Undo {
    Block { by: String, user: String },
    Unblock { by: String, user: String },
}

#[derive(Debug, Default)]
pub struct Blocks {
    /// Users each user has blocked.
    by: Sets,
    /// Reverse of `by`: who has blocked each user.
    blocked_by: Sets,
    // Reliability (issue 8): no reply shows a block a failed commit undoes.
    /// Pairs changed since the last commit (by, user).
    uncommitted: Vec<(String, String)>,
    /// A lookup saw one of them: the command that made it depends on the commit.
    tainted: std::cell::Cell<bool>,
}

fn set_pair(map: &mut Sets, key: &str, value: &str, on: bool) -> bool {
    if map.get(key).is_some_and(|set| set.contains(value)) == on {
        return false;
    }
    if on {
        return map.get_or_default(key).insert(value.to_string());
    }
    let Some(set) = map.get_mut(key) else {
        return false;
    };
    let changed = set.remove(value);
    if set.is_empty() {
        map.remove(key);
    }
    changed
}

impl Blocks {
    /// Block or unblock, keeping the reverse index in step. Returns whether anything changed.
    pub fn set(&mut self, by: &str, user: &str, on: bool) -> bool {
        let changed = set_pair(&mut self.by, by, user, on);
        if changed {
            set_pair(&mut self.blocked_by, user, by, on);
        }
        changed
    }

    /// Forget every block by or of `user` (its account was deleted, issue 21).
    pub fn purge(&mut self, user: &str) {
        let mine: Vec<String> = self.by.get(user).into_iter().flatten().cloned().collect();
        for other in mine {
            self.set(user, &other, false);
        }
        let theirs: Vec<String> = self
            .blocked_by
            .get(user)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        for other in theirs {
            self.set(&other, user, false);
        }
    }

    /// Has `by` blocked `user`?
    /// The commit of the changes so far is decided: they are what they are now.
    pub fn committed(&mut self) {
        self.uncommitted.clear();
    }

    /// Whether a lookup since the last call saw an uncommitted change.
    pub fn take_tainted(&self) -> bool {
        self.tainted.replace(false)
    }

    pub fn has_blocked(&self, by: &str, user: &str) -> bool {
        if self.uncommitted.iter().any(|(b, u)| b == by && u == user) {
            self.tainted.set(true);
        }
        self.by.get(by).is_some_and(|s| s.contains(user))
    }

    /// The users `by` has blocked.
    pub fn blocked(&self, by: &str) -> Option<&BTreeSet<String>> {
        self.by.get(by)
    }

    /// The users who have blocked `user`.
    pub fn blockers(&self, user: &str) -> Option<&BTreeSet<String>> {
        if self.uncommitted.iter().any(|(_, u)| u == user) {
            self.tainted.set(true);
        }
        self.blocked_by.get(user)
    }

    /// Block and record it; `None` if it was already blocked.
    pub fn block(&mut self, by: &str, user: &str) -> Option<(Record, Undo)> {
        self.set(by, user, true).then(|| {
            self.uncommitted.push((by.to_string(), user.to_string()));
            let (by, user) = (by.to_string(), user.to_string());
            let undo = Undo::Unblock {
                by: by.clone(),
                user: user.clone(),
            };
            (Record::Block { by, user }, undo)
        })
    }

    /// Unblock and record it; `None` if it was not blocked.
    pub fn unblock(&mut self, by: &str, user: &str) -> Option<(Record, Undo)> {
        self.set(by, user, false).then(|| {
            self.uncommitted.push((by.to_string(), user.to_string()));
            let (by, user) = (by.to_string(), user.to_string());
            let undo = Undo::Block {
                by: by.clone(),
                user: user.clone(),
            };
            (Record::Unblock { by, user }, undo)
        })
    }

    pub fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::Block { by, user } => self.set(&by, &user, true),
            Undo::Unblock { by, user } => self.set(&by, &user, false),
        };
    }

    /// Every user's blocks, as shared shards.
    pub fn freeze(&self, out: &mut Vec<Part>) {
        out.extend(self.by.freeze().into_iter().map(Part::Blocks));
    }
}
