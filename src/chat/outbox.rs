//! What one loop iteration of the core produces: actions for the loop, records for the store, and
//! for every command that emitted records an undo list, so a failed commit can take it back.

use super::rooms::state as room_state;
use super::{accounts, blocks, history, mailboxes, profiles, Action};
use crate::event::{Error, Event, Shared};
use crate::record::Record;
use crate::session::ConnId;
use std::ops::Range;
use std::sync::Arc;

/// The inverse of one in-memory change, applied when its records could not be stored. Each
/// concept owns the undo of its own state.
#[derive(Debug)]
pub enum Undo {
    Accounts(accounts::Undo),
    Blocks(blocks::Undo),
    Mailboxes(mailboxes::Undo),
    History(history::Undo),
    // Chat rooms and IRC channels (§5, §8).
    Rooms(room_state::Undo),
    Profiles(profiles::Undo),
    /// Return `conn` (logged in by the failed command) to the `Username: ` prompt.
    AbortLogin(ConnId),
}

/// One command's replies that depend on a successful commit: a range of the outbox's actions,
/// so sealing a command allocates nothing (issue 20: every `message` is one).
#[derive(Debug)]
struct Txn {
    actions: Range<usize>,
    /// The command's connection, told of the storage error if the commit fails.
    conn: ConnId,
    /// Sent instead of `actions` if the commit fails, when not the storage error to `conn`.
    fallback: Option<Vec<Action>>,
}

#[cfg(feature = "cluster")]
/// Cluster mode (issue 23): one command's transaction taken out of the iteration: what it
/// wrote, what it answers once that is in the stream, and how to take it back now.
#[derive(Debug)]
pub struct Parked {
    pub actions: Vec<Action>,
    pub records: Vec<Record>,
    pub undo: Vec<Undo>,
    pub fallback: Vec<Action>,
}

/// A checkpoint taken before a command runs.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    actions: usize,
    records: usize,
    undo: usize,
}

/// The core's output of one iteration.
#[derive(Debug, Default)]
pub struct Outbox {
    pub actions: Vec<Action>,
    pub records: Vec<Record>,
    /// Undo steps of every change whose records wait for the commit, oldest first: those of
    /// the commands that became transactions and those of records written outside any command
    /// (a guest's room closing as it disconnects), so a failed commit undoes them all, in
    /// order, and memory never holds what the journal lacks. A command that wrote no record
    /// takes its steps back when it is sealed.
    undo: Vec<Undo>,
    txns: Vec<Txn>,
    /// Set by a command that needs a fallback other than the storage error line.
    fallback: Option<Vec<Action>>,
    /// Records outside any command's transaction (a lockout): added after its seal.
    pub late: Vec<Record>,
    /// The current command's replies show a change still to be committed (issue 8): if the
    /// commit fails they are replaced by the storage error too.
    pub dependent: bool,
    /// Events to deliver in `actions`, a fan-out counted once per recipient: the work the loop
    /// will do to render and write them (issue 20: it stops reading when this is large).
    pub deliveries: usize,
}

impl Outbox {
    pub fn send(&mut self, conn: ConnId, event: Event) {
        self.deliveries += 1;
        self.actions.push(Action::Send(conn, event));
    }

    pub fn error(&mut self, conn: ConnId, error: Error) {
        self.send(conn, Event::Error(error));
    }

    /// Add `conn` to the recipients of a fan-out event: consecutive calls for one event make
    /// one action, so the action list grows by a connection id per recipient, not by an event.
    pub fn share(&mut self, conn: ConnId, event: &Arc<Shared>) {
        self.deliveries += 1;
        if let Some(Action::Share(last, ids)) = self.actions.last_mut() {
            if Arc::ptr_eq(last, event) {
                ids.push(conn);
                return;
            }
        }
        self.actions.push(Action::Share(event.clone(), vec![conn]));
    }

    /// A fan-out event for recipients gathered by the caller (a list sized once, where
    /// [`Outbox::share`] grows it a push at a time).
    pub fn share_all(&mut self, event: Arc<Shared>, ids: Vec<ConnId>) {
        if !ids.is_empty() {
            self.deliveries += ids.len();
            self.actions.push(Action::Share(event, ids));
        }
    }

    /// A fan-out event for every connection subscribed to announcements except `except`
    /// ([`Action::Announce`]): one delivery's worth of work here, whoever is online.
    pub fn announce(&mut self, event: Arc<Shared>, except: Vec<ConnId>) {
        self.deliveries += 1;
        self.actions.push(Action::Announce(event, except));
    }

    pub fn record(&mut self, r: Record, undo: Undo) {
        self.records.push(r);
        self.undo.push(undo);
    }

    /// An extra undo step for a change that wrote no record of its own.
    pub fn undo_also(&mut self, undo: Undo) {
        self.undo.push(undo);
    }

    /// Whether the command begun at `mark` wrote records.
    #[cfg(feature = "cluster")]
    pub fn wrote_since(&self, mark: Mark) -> bool {
        self.records.len() > mark.records
    }

    /// The rooms changed by the command begun at `mark`, if it wrote records (a command that
    /// wrote none takes its steps back when it is sealed).
    pub fn rooms_changed_since(&self, mark: Mark) -> impl Iterator<Item = &Arc<str>> {
        let wrote = self.records.len() > mark.records;
        let steps = if wrote {
            self.undo.get(mark.undo..)
        } else {
            None
        };
        steps.into_iter().flatten().filter_map(|u| match u {
            Undo::Rooms(u) => Some(u.room()),
            _ => None,
        })
    }

    pub fn mark(&self) -> Mark {
        Mark {
            actions: self.actions.len(),
            records: self.records.len(),
            undo: self.undo.len(),
        }
    }

    /// What the current command sends instead of its actions if the commit fails. The first
    /// call of a command wins: a command that fails as a whole (account creation) must not be
    /// overridden by a step inside it (the offline delivery of the login it performs), or a
    /// failed account would still be welcomed.
    pub fn set_fallback(&mut self, actions: Vec<Action>) {
        if self.fallback.is_none() {
            self.fallback = Some(actions);
        }
    }

    /// Close the command begun at `mark`: if it wrote records it becomes a transaction.
    pub fn seal(&mut self, mark: Mark, conn: ConnId) {
        self.seal_txn(mark, conn);
        self.records.append(&mut self.late);
    }

    fn seal_txn(&mut self, mark: Mark, conn: ConnId) {
        let fallback = self.fallback.take();
        if self.records.len() == mark.records && !std::mem::take(&mut self.dependent) {
            // Nothing of it waits for the commit: its steps (the last ones) are not needed.
            self.undo.truncate(mark.undo);
            return;
        }
        self.txns.push(Txn {
            actions: mark.actions..self.actions.len(),
            conn,
            fallback,
        });
    }

    #[cfg(feature = "cluster")]
    /// Cluster mode (issue 23): close the command begun at `mark` like [`Outbox::seal`], but
    /// hand a transaction that wrote records back instead of keeping it, its replies taken out
    /// of the action list (they wait for the stream), for the core to park.
    pub fn seal_parked(&mut self, mark: Mark, conn: ConnId) -> Option<Parked> {
        let before = self.txns.len();
        self.seal_txn(mark, conn);
        let parked = if self.txns.len() > before && self.records.len() > mark.records {
            self.txns.pop().map(|txn| Parked {
                actions: self.actions.drain(txn.actions).collect(),
                records: self.records.drain(mark.records..).collect(),
                undo: self.undo.drain(mark.undo.min(self.undo.len())..).collect(),
                fallback: txn
                    .fallback
                    .unwrap_or_else(|| vec![Action::Send(conn, Event::Error(Error::Storage))]),
            })
        } else {
            None
        };
        self.records.append(&mut self.late);
        parked
    }

    #[cfg(feature = "cluster")]
    /// Cluster mode: `r` goes first among the records of the command begun at `mark` (what a
    /// session says about itself must be applied before a logout of the same command uses it).
    pub fn record_first(&mut self, mark: Mark, r: Record) {
        self.records.insert(mark.records.min(self.records.len()), r);
    }

    #[cfg(feature = "cluster")]
    /// Cluster mode: records outside any command's transaction (a delivery, a lockout, a
    /// logout on disconnect), and the end of the iteration's transactions.
    pub fn take_loose(&mut self) -> Vec<Record> {
        self.txns.clear();
        self.undo.clear();
        std::mem::take(&mut self.records)
    }

    /// The commit succeeded: nothing to undo any more.
    pub fn committed(&mut self) {
        self.records.clear();
        self.txns.clear();
        self.undo.clear();
    }

    /// The commit failed: swap each transaction's actions for its fallback and hand back the
    /// undo steps, newest first, for the core to apply.
    pub fn abort(&mut self) -> Vec<Undo> {
        self.records.clear();
        let txns = std::mem::take(&mut self.txns);
        let old = std::mem::take(&mut self.actions);
        let mut kept = old.into_iter().enumerate().peekable();
        for txn in txns {
            while let Some((_, a)) = kept.next_if(|(i, _)| *i < txn.actions.start) {
                self.actions.push(a);
            }
            while kept.next_if(|(i, _)| *i < txn.actions.end).is_some() {}
            match txn.fallback {
                Some(fallback) => self.actions.extend(fallback),
                None => self
                    .actions
                    .push(Action::Send(txn.conn, Event::Error(Error::Storage))),
            }
        }
        self.actions.extend(kept.map(|(_, a)| a));
        let mut undo = std::mem::take(&mut self.undo);
        undo.reverse();
        undo
    }
}
