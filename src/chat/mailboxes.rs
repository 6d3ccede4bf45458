//! Offline mailboxes (PROTOCOL.md §3): messages queued for users who were offline, handed out
//! in order after their next welcome, a budget at a time. Durable as `offline`/`delivered`.
//!
//! A batch handed out stays "in flight" until the loop reports that the kernel accepted its last
//! byte (`written`); only then is its `delivered` record written. A batch still in flight when
//! its session ends goes back to the front of the queue (at-least-once delivery).

use super::cow_map::CowMap;
use super::frozen::{Flying, Part};
use crate::event::{Kind, Stamp};
use crate::record::Record;
use crate::session::ConnId;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// A message waiting for its offline recipient, with its stamp (issue 22: delivered later, it
/// still shows when it was sent, and keeps its id) and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    pub from: Arc<str>,
    pub stamp: Stamp,
    pub kind: Kind,
    pub text: Arc<str>,
}

impl Queued {
    /// The `mail` record that keeps it for `to`.
    pub fn record(&self, to: &Arc<str>) -> Record {
        Record::Mail {
            id: self.stamp.id,
            to: to.clone(),
            from: self.from.clone(),
            at_ms: self.stamp.at_ms,
            kind: self.kind,
            text: self.text.clone(),
        }
    }
}

/// The inverse of a mailbox change, for a failed commit.
#[derive(Debug)]
pub enum Undo {
    /// Drop the newest queued message of this user.
    PopNewest(Arc<str>),
}

/// The batches handed out to one user's connection and not yet written, oldest first, each
/// with the marker the loop reports back.
#[derive(Debug)]
struct InFlight {
    conn: ConnId,
    batches: VecDeque<(u64, Arc<[Queued]>)>,
}

#[derive(Debug, Default)]
pub struct Mailboxes {
    /// Copy-on-write, so a compaction can freeze them cheaply.
    queues: CowMap<VecDeque<Queued>>,
    /// At most one connection per user (the one it is logged in on) has batches in flight;
    /// they come before `queues` in the durable order.
    inflight: HashMap<Arc<str>, InFlight>,
    next_marker: u64,
    /// What all queued and in-flight messages cost against `--max-offline-bytes` (issue 8).
    bytes: usize,
    /// The recipient of each message queued since the last commit, which that commit may
    /// still undo: they are the newest of their queues, and never handed out before it.
    fresh: Vec<Arc<str>>,
}

fn cost(q: &Queued) -> usize {
    super::limits::offline_cost(&q.from, &q.text)
}

impl Mailboxes {
    /// Bytes held for offline users in all.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn len(&self, user: &str) -> usize {
        self.queues.get(user).map_or(0, |q| q.len())
    }

    /// Queue a message and record it (the record and the undo share `to`'s and the text's
    /// memory).
    pub fn push(&mut self, to: &Arc<str>, q: Queued) -> (Record, Undo) {
        let record = q.record(to);
        self.bytes += cost(&q);
        self.fresh.push(to.clone());
        self.queue_mut(to).push_back(q);
        (record, Undo::PopNewest(to.clone()))
    }

    /// Messages handed out to `user` and not yet written (with [`Mailboxes::len`], all it
    /// holds: the caller has that already, so the queue is not looked up twice).
    pub fn in_flight(&self, user: &str) -> usize {
        self.inflight
            .get(user)
            .map_or(0, |f| f.batches.iter().map(|(_, b)| b.len()).sum())
    }

    /// `user`'s queue to change, created if missing (copied first if a compaction shares it).
    fn queue_mut(&mut self, user: &str) -> &mut VecDeque<Queued> {
        self.queues.get_or_default(user)
    }

    /// The commit of the messages queued so far is decided (undone already if it failed).
    pub fn committed(&mut self) {
        self.fresh.clear();
    }

    /// Take the oldest messages of `user` up to `budget` bytes (at least one) for `conn`, of
    /// those committed: a message queued in this iteration waits for its commit, which may
    /// fail. They stay in flight until [`Mailboxes::written`]. Returns them, whether more
    /// remain, and the marker to report once they are written; `None` if nothing can be taken
    /// now ([`Mailboxes::len`] says whether anything waits).
    pub fn take(
        &mut self,
        user: &str,
        conn: ConnId,
        budget: usize,
    ) -> Option<(Arc<[Queued]>, bool, u64)> {
        let fresh = self.fresh.iter().filter(|to| ***to == *user).count();
        let queue = self.queues.get_mut(user)?;
        let ready = queue.len().saturating_sub(fresh);
        let mut bytes = 0;
        let mut batch = Vec::new();
        while let Some(q) = queue.front().filter(|_| batch.len() < ready) {
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
        let batch: Arc<[Queued]> = batch.into();
        if self.inflight.get(user).is_some_and(|f| f.conn != conn) {
            self.requeue(user);
        }
        self.next_marker += 1;
        let marker = self.next_marker;
        self.inflight
            .entry(Arc::from(user))
            .or_insert_with(|| InFlight {
                conn,
                batches: VecDeque::new(),
            })
            .batches
            .push_back((marker, batch.clone()));
        Some((batch, more, marker))
    }

    /// The kernel accepted every byte of `conn`'s batches up to `marker`: they are delivered.
    /// Returns the record saying so (none if they were requeued meanwhile).
    pub fn written(&mut self, user: &str, conn: ConnId, marker: u64) -> Option<Record> {
        let f = self.inflight.get_mut(user).filter(|f| f.conn == conn)?;
        let mut count = 0;
        while let Some((_, b)) = f.batches.front().filter(|(m, _)| *m <= marker) {
            count += b.len();
            self.bytes -= b.iter().map(cost).sum::<usize>().min(self.bytes);
            f.batches.pop_front();
        }
        if f.batches.is_empty() {
            self.inflight.remove(user);
        }
        (count > 0).then(|| Record::Delivered {
            to: user.to_string(),
            count: count as u32,
        })
    }

    /// `user`'s session ended with batches unwritten: back to the front of the queue.
    pub fn requeue(&mut self, user: &str) {
        let Some(f) = self.inflight.remove(user) else {
            return;
        };
        let q = self.queue_mut(user);
        for (_, batch) in f.batches.into_iter().rev() {
            for m in batch.iter().rev() {
                q.push_front(m.clone());
            }
        }
    }

    pub fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::PopNewest(user) => {
                if let Some(q) = self.queues.get_mut(&user) {
                    if let Some(m) = q.pop_back() {
                        self.bytes -= cost(&m).min(self.bytes);
                    }
                    if q.is_empty() {
                        self.queues.remove(&user);
                    }
                }
            }
        }
    }

    /// Drop `user`'s mailbox, queued and in flight (its account was deleted, issue 21).
    pub fn purge(&mut self, user: &str) {
        self.requeue(user);
        if let Some(q) = self.queues.remove(user) {
            let gone: usize = q.iter().map(cost).sum();
            self.bytes -= gone.min(self.bytes);
        }
    }

    pub fn replay_offline(&mut self, to: String, q: Queued) {
        self.bytes += cost(&q);
        self.queue_mut(&to).push_back(q);
    }

    pub fn replay_delivered(&mut self, to: &str, count: u32) {
        if let Some(q) = self.queues.get_mut(to) {
            let gone: usize = q
                .drain(..q.len().min(count as usize))
                .map(|m| cost(&m))
                .sum();
            self.bytes -= gone.min(self.bytes);
            if q.is_empty() {
                self.queues.remove(to);
            }
        }
    }

    /// Every user's queued messages as shared shards, and the batches in flight (a pointer
    /// per user with some: they come first in the durable order).
    pub fn freeze(&self, out: &mut Vec<Part>) -> Flying {
        out.extend(self.queues.freeze().into_iter().map(Part::Mail));
        let mut flying = Flying::with_capacity(self.inflight.len());
        for (to, f) in &self.inflight {
            if !self.queues.contains_key(to) {
                out.push(Part::Flying(to.clone()));
            }
            flying.insert(
                to.clone(),
                f.batches.iter().map(|(_, b)| b.clone()).collect(),
            );
        }
        flying
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(text: &str) -> Queued {
        Queued {
            from: Arc::from("yoda"),
            stamp: Stamp { at_ms: 0, id: 0 },
            kind: Kind::Say,
            text: Arc::from(text),
        }
    }

    /// What a mailbox holds against `--max-offline` is what is queued ([`Mailboxes::len`]) plus
    /// what was handed out and not yet written ([`Mailboxes::in_flight`]), each counted once.
    #[test]
    fn messages_in_flight_count_until_written() {
        let mut m = Mailboxes::default();
        let luke: Arc<str> = Arc::from("luke");
        for text in ["a", "b", "c"] {
            m.push(&luke, queued(text));
        }
        let conn = ConnId::new(1, 0);
        assert!(
            m.take("luke", conn, 8).is_none(),
            "not handed out before the commit"
        );
        m.committed();
        // A budget of one message (`yoda` + `a` + 3).
        let (batch, more, marker) = m.take("luke", conn, 8).expect("queued");
        assert_eq!((batch.len(), more), (1, true));
        assert_eq!((m.len("luke"), m.in_flight("luke")), (2, 1));
        assert!(m.written("luke", conn, marker).is_some());
        assert_eq!((m.len("luke"), m.in_flight("luke")), (2, 0));
        assert_eq!(m.in_flight("leia"), 0);
    }
}
