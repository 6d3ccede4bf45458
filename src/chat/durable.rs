//! The durable side of the core: the store's verdict on each iteration's records (undo on
//! failure), replay at start-up, and the state a compaction freezes.

use super::frozen::{Frozen, Part};
use super::outbox::Undo;
use super::{Chat, HistoryEntry, Queued};
use crate::event::{Kind, Stamp};
use crate::record::Record;
use crate::time::Now;
use std::sync::Arc;

impl Chat {
    /// Records this iteration must make durable before any action is performed.
    pub fn pending_records(&self) -> &[Record] {
        &self.outbox.records
    }

    /// Report the store's verdict on `pending_records`. On failure every command that changed
    /// state is undone in memory and answered with the storage error instead.
    pub fn handle_commit(&mut self, ok: bool, now: Now) {
        self.blocks.committed();
        self.rooms.committed();
        self.profiles.committed();
        self.online.committed();
        if ok {
            self.outbox.committed();
            self.mailboxes.committed();
            return;
        }
        for undo in self.outbox.abort() {
            self.undo(undo, now);
        }
        self.mailboxes.committed();
    }

    /// Rebuild durable state from a record read back from the store at start-up.
    /// A message queued for `to` while it was offline, read back.
    fn replay_mail(&mut self, to: &str, from: Arc<str>, stamp: Stamp, kind: Kind, text: Arc<str>) {
        let q = Queued {
            from,
            stamp,
            kind,
            text,
        };
        self.mailboxes.replay_offline(to.to_string(), q)
    }

    pub fn replay(&mut self, record: Record) {
        match record {
            Record::Account { user, secret } | Record::Password { user, secret, .. } => {
                self.accounts.replay(user, secret)
            }
            Record::AccountDeleted { user } => {
                self.purge_account(&user);
            }
            Record::Block { by, user } => {
                self.blocks.set(&by, &user, true);
            }
            Record::Unblock { by, user } => {
                self.blocks.set(&by, &user, false);
            }
            // Written before issue 22: an id is given now, from the message's time.
            Record::Offline {
                to,
                from,
                at_ms,
                text,
            } => {
                let stamp = self.stamps.next(at_ms);
                self.replay_mail(&to, from, stamp, Kind::Say, text);
            }
            Record::Mail {
                id,
                to,
                from,
                at_ms,
                kind,
                text,
            } => {
                self.stamps.seen(id);
                self.replay_mail(&to, from, Stamp { at_ms, id }, kind, text);
            }
            Record::Delivered { to, count } => self.mailboxes.replay_delivered(&to, count),
            Record::History {
                at_ms,
                from,
                to,
                text,
            } => {
                let stamp = self.stamps.next(at_ms);
                self.history.replay(HistoryEntry {
                    stamp,
                    from,
                    to,
                    kind: Kind::Say,
                    text,
                })
            }
            Record::Said {
                id,
                at_ms,
                from,
                to,
                kind,
                text,
            } => {
                self.stamps.seen(id);
                self.history.replay(HistoryEntry {
                    stamp: Stamp { at_ms, id },
                    from,
                    to,
                    kind,
                    text,
                })
            }
            // Reliability (issue 8).
            Record::Lockout { user, until_ms } => self.accounts.replay_lockout(user, until_ms),
            // Chat rooms and profiles (§5).
            Record::Profile {
                user,
                attribute,
                value,
            } => self.profiles.replay(user, &attribute, value),
            r @ (Record::RoomOpen { .. }
            | Record::RoomClose { .. }
            | Record::RoomMode { .. }
            | Record::RoomAccess { .. }
            | Record::RoomTopic { .. }
            | Record::RoomSet { .. }
            | Record::Channel { .. }) => self.rooms.replay(r),
            // Cluster mode (issue 23): who is online is not durable state; `apply_entry`
            // handles these, the file journal never holds one.
            Record::Login { .. }
            | Record::Logout { .. }
            | Record::Rename { .. }
            | Record::Attach { .. }
            | Record::RoomInvite { .. }
            | Record::RoomBy { .. }
            | Record::NodeDown { .. }
            | Record::Kill { .. }
            | Record::LoginFailed { .. }
            | Record::LoginChecked { .. }
            | Record::RoomJoin { .. }
            | Record::RoomPart { .. }
            | Record::PrivateAsk { .. }
            | Record::PrivateOpen { .. }
            | Record::PrivateDrop { .. }
            | Record::PrivateStop { .. }
            | Record::P2pPort { .. }
            | Record::UserInfo { .. } => {}
        }
    }

    /// The durable state as records that replay to it, in a reproducible order (for tests;
    /// compaction uses [`Chat::freeze`]).
    pub fn snapshot(&self) -> Vec<Record> {
        let mut out = self.freeze().into_sorted_records();
        self.history.snapshot(&mut out);
        out
    }

    /// The durable state for a compaction, history aside (it has its own files): a pointer per
    /// user for the large parts, so this costs the loop little at any size (issue 8).
    pub fn freeze(&self) -> Frozen {
        let mut parts = Vec::new();
        self.blocks.freeze(&mut parts);
        let flying = self.mailboxes.freeze(&mut parts);
        let mut small = Vec::new();
        self.accounts.snapshot(&mut small); // Lockouts (issue 8).
        self.rooms.snapshot(&mut small);
        parts.extend(small.into_iter().map(Part::Record));
        self.profiles.freeze(&mut parts);
        Frozen::new(parts, flying)
    }

    pub(super) fn undo(&mut self, undo: Undo, now: Now) {
        match undo {
            Undo::Accounts(u) => self.accounts.undo(u),
            Undo::Blocks(u) => self.blocks.undo(u),
            Undo::Mailboxes(u) => self.mailboxes.undo(u),
            Undo::History(u) => self.history.undo(u),
            Undo::Rooms(u) => self.rooms.undo(u),
            Undo::Profiles(u) => self.profiles.undo(u),
            Undo::AbortLogin(conn) => self.abort_login(conn, now),
        }
    }
}
