//! Offline mailboxes (PROTOCOL.md §3): messages queued for users who were offline, handed out
//! in order after their next welcome, a budget at a time. Durable as `offline`/`delivered`.

use crate::record::Record;
use std::collections::{HashMap, VecDeque};

/// A message waiting for its offline recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    pub from: String,
    pub at_ms: u64,
    pub text: String,
}

/// The inverse of a mailbox change, for a failed commit.
#[derive(Debug)]
pub enum Undo {
    /// Drop the newest queued message of this user.
    PopNewest(String),
    /// Put messages handed out back at the front of the queue.
    Requeue(String, Vec<Queued>),
}

#[derive(Debug, Default)]
pub struct Mailboxes {
    queues: HashMap<String, VecDeque<Queued>>,
}

impl Mailboxes {
    pub fn len(&self, user: &str) -> usize {
        self.queues.get(user).map_or(0, VecDeque::len)
    }

    /// Queue a message and record it.
    pub fn push(&mut self, to: &str, q: Queued) -> (Record, Undo) {
        let record = Record::Offline {
            to: to.to_string(),
            from: q.from.clone(),
            at_ms: q.at_ms,
            text: q.text.clone(),
        };
        self.queues.entry(to.to_string()).or_default().push_back(q);
        (record, Undo::PopNewest(to.to_string()))
    }

    /// Take the oldest messages of `user` up to `budget` bytes (at least one). Returns them,
    /// whether more remain, and the record of their delivery.
    pub fn take(&mut self, user: &str, budget: usize) -> Option<(Vec<Queued>, bool, Record, Undo)> {
        let queue = self.queues.get_mut(user)?;
        let mut bytes = 0;
        let mut batch = Vec::new();
        while let Some(q) = queue.front() {
            let size = q.from.len() + q.text.len() + 3;
            if !batch.is_empty() && bytes + size > budget {
                break;
            }
            bytes += size;
            batch.extend(queue.pop_front());
        }
        let more = !queue.is_empty();
        if !more {
            self.queues.remove(user);
        }
        if batch.is_empty() {
            return None;
        }
        let record = Record::Delivered {
            to: user.to_string(),
            count: batch.len() as u32,
        };
        let undo = Undo::Requeue(user.to_string(), batch.clone());
        Some((batch, more, record, undo))
    }

    pub fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::PopNewest(user) => {
                if let Some(q) = self.queues.get_mut(&user) {
                    q.pop_back();
                    if q.is_empty() {
                        self.queues.remove(&user);
                    }
                }
            }
            Undo::Requeue(user, msgs) => {
                let q = self.queues.entry(user).or_default();
                for m in msgs.into_iter().rev() {
                    q.push_front(m);
                }
            }
        }
    }

    pub fn replay_offline(&mut self, to: String, q: Queued) {
        self.queues.entry(to).or_default().push_back(q);
    }

    pub fn replay_delivered(&mut self, to: &str, count: u32) {
        if let Some(q) = self.queues.get_mut(to) {
            q.drain(..q.len().min(count as usize));
            if q.is_empty() {
                self.queues.remove(to);
            }
        }
    }

    pub fn snapshot(&self, out: &mut Vec<Record>) {
        let mut names: Vec<&String> = self.queues.keys().collect();
        names.sort_unstable();
        for to in names {
            for q in &self.queues[to] {
                out.push(Record::Offline {
                    to: to.clone(),
                    from: q.from.clone(),
                    at_ms: q.at_ms,
                    text: q.text.clone(),
                });
            }
        }
    }
}
