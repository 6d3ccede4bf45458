//! Stored conversations (issue 22, IRC `CHATHISTORY`), served from the message history: a
//! room's chat to its members, the direct messages between the caller and one user (to itself
//! too) to either of them. Only what line users could see as text is kept (no CTCP, no tags);
//! a message from a user the caller blocks is left out, as everywhere.

use super::history::{against, HistoryEntry};
use super::Chat;
use crate::event::{Error, Event, Meta, Replayed};
use crate::input::{Conversation, Mark, Replay};
use crate::record::Audience;
use crate::session::ConnId;
use crate::valid::REPLAY_MAX;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

/// Which entries belong to a conversation, as names are spelled (resolved once).
enum Wanted {
    Room(String),
    /// The direct messages between `me` and `peer`.
    Direct {
        me: String,
        peer: String,
    },
}

impl Wanted {
    fn holds(&self, e: &HistoryEntry) -> bool {
        match (self, &e.to) {
            (Wanted::Room(room), Audience::Room(to)) => **to == **room,
            (Wanted::Direct { me, peer }, Audience::User(to)) => {
                (*e.from == **me && **to == **peer) || (*e.from == **peer && **to == **me)
            }
            _ => false,
        }
    }
}

impl Chat {
    /// `Input::Replay`.
    pub(super) fn replay_history(&mut self, conn: ConnId, me: &Arc<str>, query: Replay<'_>) {
        let (with, limit) = match query {
            Replay::Targets { from, to, limit } => {
                return self.replay_targets(conn, me, from, to, limit)
            }
            Replay::Latest { with, limit, .. }
            | Replay::Before { with, limit, .. }
            | Replay::After { with, limit, .. }
            | Replay::Around { with, limit, .. }
            | Replay::Between { with, limit, .. } => (with, limit.min(REPLAY_MAX)),
        };
        let Some(wanted) = self.conversation(me, with) else {
            let target = match with {
                Conversation::Room(r) | Conversation::User(r) => Arc::from(r),
            };
            return self.outbox.error(conn, Error::NoHistory(target));
        };
        let blocks = &self.blocks;
        let account = self.online.account_of(me);
        let ok = |e: &&HistoryEntry| wanted.holds(e) && !blocks.has_blocked(account, &e.from);
        let h = &self.history;
        let found: Vec<&HistoryEntry> = match query {
            // `LATEST *` (no `after`) is the newest whatever their age: `against` puts every
            // entry before an absent mark, so it must not filter them.
            Replay::Latest { after, .. } => h.before(Mark::None, limit, |e| {
                ok(e) && (after == Mark::None || against(e, after).is_gt())
            }),
            Replay::Before { at, .. } => h.before(at, limit, ok),
            Replay::After { at, .. } => h.after(at, false, limit, ok),
            Replay::Around { at, .. } => {
                let mut out = h.before(at, limit.saturating_sub(1) / 2, ok);
                let rest = limit - out.len();
                out.extend(h.after(at, true, rest, ok));
                out
            }
            Replay::Between { from, to, .. } => match compare(from, to) {
                Ordering::Less => h.after(from, false, limit, |e| ok(e) && against(e, to).is_lt()),
                _ => h.before(from, limit, |e| ok(e) && against(e, to).is_gt()),
            },
            Replay::Targets { .. } => Vec::new(),
        };
        let lines = found.into_iter().map(|e| self.replayed(e)).collect();
        let (target, room) = match with {
            Conversation::Room(r) => (Arc::from(r), true),
            Conversation::User(u) => (Arc::from(u), false),
        };
        self.outbox.send(
            conn,
            Event::Replay {
                target,
                room,
                lines,
            },
        );
    }

    /// The conversation `with` names, if `me` may read it: a room it is in, a known user.
    fn conversation(&self, me: &str, with: Conversation<'_>) -> Option<Wanted> {
        match with {
            Conversation::Room(room) => {
                let (name, _) = self.rooms.get(room)?;
                self.rooms
                    .is_member(name, me)
                    .then(|| Wanted::Room(name.to_string()))
            }
            Conversation::User(user) => {
                let peer = self.known_user(user)?;
                // A conversation is between accounts, kept under their names (issue 22).
                Some(Wanted::Direct {
                    me: self.online.account_of(me).to_string(),
                    peer: self.online.account_of(&peer).to_string(),
                })
            }
        }
    }

    fn replayed(&self, e: &HistoryEntry) -> Replayed {
        let to = match &e.to {
            Audience::User(to) => Some(to.clone()),
            Audience::Room(_) | Audience::Everyone | Audience::Announcement => None,
        };
        Replayed {
            from: e.from.clone(),
            to,
            text: e.text.clone(),
            meta: Meta {
                kind: e.kind,
                stamp: e.stamp,
                account: self.account_name(&e.from),
                relay: None,
            },
        }
    }

    /// `CHATHISTORY TARGETS`: the rooms `me` is in and the users it exchanged direct messages
    /// with whose latest message falls between the two times, oldest first (the draft's order;
    /// `limit` keeps the earliest).
    fn replay_targets(&mut self, conn: ConnId, me: &str, from: Mark, to: Mark, limit: usize) {
        let (low, high) = match compare(from, to) {
            Ordering::Greater => (to, from),
            _ => (from, to),
        };
        let mut latest: HashMap<(Arc<str>, bool), u64> = HashMap::new();
        let mut order: Vec<(Arc<str>, bool, u64)> = Vec::new();
        let account = self.online.account_of(me);
        for e in self.history.newest_first() {
            let key = match &e.to {
                Audience::Room(room) if self.rooms.is_member(room, me) => (room.clone(), true),
                Audience::User(to) if **to == *account => (e.from.clone(), false),
                Audience::User(to) if *e.from == *account => (to.clone(), false),
                _ => continue,
            };
            if self.has_blocked(me, &key.0) || latest.contains_key(&key) {
                continue;
            }
            latest.insert(key.clone(), e.stamp.at_ms);
            if against(e, low).is_gt() && against(e, high).is_lt() {
                order.push((key.0, key.1, e.stamp.at_ms));
            }
        }
        order.reverse();
        order.truncate(limit.min(REPLAY_MAX));
        self.outbox.send(conn, Event::ReplayTargets(order));
    }
}

/// The order of two marks of one query (a time against an id compares the id's time).
fn compare(a: Mark, b: Mark) -> Ordering {
    let key = |m: Mark| match m {
        Mark::Id(id) => (id >> 12, id),
        Mark::Time(ms) => (ms, 0),
        Mark::None => (u64::MAX, u64::MAX),
    };
    key(a).cmp(&key(b))
}
