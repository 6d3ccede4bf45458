//! The COMP3331 messaging commands (PROTOCOL.md §3): message, broadcast, whoelse,
//! whoelsesince, block and unblock, with the block rules applied everywhere.

use super::{Action, Chat, Payload, Queued, Undo};
use crate::protocol::text;
use crate::record::{Audience, Record};
use crate::session::{ConnId, State};
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Chat {
    pub(super) fn message(&mut self, conn: ConnId, from: &str, to: &str, body: &str, now: Instant) {
        if !self.credentials.contains(to) {
            return self.outbox.text(conn, text::INVALID_USER);
        }
        if to == from {
            return self.outbox.text(conn, text::MESSAGE_SELF);
        }
        if self.has_blocked(to, from) {
            return self.outbox.text(conn, text::BLOCKED_BY_RECIPIENT);
        }
        let backlog = self.accounts.get(to).is_some_and(|a| !a.offline.is_empty());
        match self.online.get(to) {
            // Online with an empty queue: straight through. Otherwise queue behind the
            // backlog so the recipient sees everything in order.
            Some(&dest) if !backlog => self.outbox.owned(dest, format!("{from}: {body}\n")),
            _ => {
                let max = self.settings.max_offline;
                let at_ms = self.clock.unix_ms(now);
                let queue = &mut self.account(to).offline;
                if queue.len() >= max {
                    return self
                        .outbox
                        .owned(conn, format!("Error. {to}'s mailbox is full\n"));
                }
                queue.push_back(Queued {
                    from: from.to_string(),
                    at_ms,
                    text: body.to_string(),
                });
                let record = Record::Offline {
                    to: to.to_string(),
                    from: from.to_string(),
                    at_ms,
                    text: body.to_string(),
                };
                self.outbox.record(record, Undo::PopOffline(to.to_string()));
            }
        }
        self.remember(now, from, Audience::User(to.to_string()), body);
    }

    pub(super) fn broadcast(&mut self, conn: ConnId, from: &str, body: &str, now: Instant) {
        let line: Arc<str> = Arc::from(format!("{from}: {body}\n"));
        let mut skipped = false;
        for (name, &cid) in &self.online {
            if cid == conn {
                continue;
            }
            if self
                .accounts
                .get(&**name)
                .is_some_and(|a| a.blocks.contains(from))
            {
                skipped = true;
                continue;
            }
            self.outbox
                .actions
                .push(Action::Send(cid, Payload::Shared(line.clone())));
        }
        if skipped {
            self.outbox.text(conn, text::SOME_NOT_DELIVERED);
        }
        self.remember(now, from, Audience::Everyone, body);
    }

    /// Other online users in login order, leaving out those who blocked `me`.
    fn visible_online(&self, me: &str) -> Vec<(u64, &str)> {
        let mut names: Vec<(u64, &str)> = self
            .online
            .iter()
            .filter(|(name, _)| &***name != me && !self.has_blocked(name, me))
            .filter_map(
                |(name, cid)| match self.sessions.get(cid).map(|s| &s.state) {
                    Some(State::LoggedIn { seq, .. }) => Some((*seq, &**name)),
                    _ => None,
                },
            )
            .collect();
        names.sort_unstable();
        names
    }

    fn send_names<'a>(&mut self, conn: ConnId, names: impl Iterator<Item = &'a str>) {
        let mut out = String::new();
        for n in names {
            out.push_str(n);
            out.push('\n');
        }
        if !out.is_empty() {
            self.outbox.owned(conn, out);
        }
    }

    pub(super) fn whoelse(&mut self, conn: ConnId, me: &str) {
        let names: Vec<String> = self
            .visible_online(me)
            .into_iter()
            .map(|(_, n)| n.to_string())
            .collect();
        self.send_names(conn, names.iter().map(String::as_str));
    }

    /// Online now (login order), then logged out within the window (most recent first).
    pub(super) fn whoelsesince(&mut self, conn: ConnId, me: &str, seconds: u64, now: Instant) {
        let cutoff = now.checked_sub(Duration::from_secs(seconds));
        let mut names: Vec<String> = self
            .visible_online(me)
            .into_iter()
            .map(|(_, n)| n.to_string())
            .collect();
        let mut gone: Vec<(Instant, &str)> = self
            .accounts
            .iter()
            .filter(|(name, _)| name.as_str() != me && !self.online.contains_key(name.as_str()))
            .filter(|(name, _)| !self.has_blocked(name, me))
            .filter_map(|(name, a)| Some((a.last_logout?, name.as_str())))
            .filter(|(t, _)| cutoff.is_none_or(|c| *t >= c))
            .collect();
        gone.sort_unstable_by(|a, b| b.cmp(a));
        names.extend(gone.into_iter().map(|(_, n)| n.to_string()));
        self.send_names(conn, names.iter().map(String::as_str));
    }

    pub(super) fn block(&mut self, conn: ConnId, me: &str, user: &str) {
        if user == me {
            return self.outbox.text(conn, text::BLOCK_SELF);
        }
        if !self.credentials.contains(user) {
            return self.outbox.text(conn, text::INVALID_USER);
        }
        if self.set_block(me, user, true) {
            let (by, user) = (me.to_string(), user.to_string());
            let undo = Undo::Unblock {
                by: by.clone(),
                user: user.clone(),
            };
            self.outbox.record(Record::Block { by, user }, undo);
        }
        self.outbox.owned(conn, format!("{user} is blocked\n"));
    }

    pub(super) fn unblock(&mut self, conn: ConnId, me: &str, user: &str) {
        if user == me {
            return self
                .outbox
                .owned(conn, format!("Error. {user} was not blocked\n"));
        }
        if !self.credentials.contains(user) {
            return self.outbox.text(conn, text::INVALID_USER);
        }
        if !self.account(me).blocks.remove(user) {
            self.forget_if_idle(me);
            return self
                .outbox
                .owned(conn, format!("Error. {user} was not blocked\n"));
        }
        self.forget_if_idle(me);
        let (by, user) = (me.to_string(), user.to_string());
        let undo = Undo::Block {
            by: by.clone(),
            user: user.clone(),
        };
        self.outbox.owned(conn, format!("{user} is unblocked\n"));
        self.outbox.record(Record::Unblock { by, user }, undo);
    }
}
