//! The COMP3331 messaging commands (PROTOCOL.md §3): message, broadcast, whoelse,
//! whoelsesince, block and unblock, with the block rules applied everywhere.

use super::history::HistoryEntry;
use super::operator::MessageKind;
use super::{Chat, Queued, ToSelf, Undo};
use crate::event::{Audience, Error, Event, Kind, Meta, Notice, Shared, Stamp};
use crate::record;
use crate::session::{ConnId, State};
use crate::time::Now;
use crate::valid::MessageText;
use std::sync::Arc;
use std::time::Duration;

impl Chat {
    /// `message`; false if it was refused (the error is answered). Issue 22: the message is
    /// stamped (time and id); its sender gets its own copy (`Audience::Echo`, shown by IRC's
    /// echo-message), an away recipient's message (IRC `301`), and, when it was kept for an
    /// offline recipient, a word saying so (IRC; the line protocol's contract has no reply).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn message(
        &mut self,
        conn: ConnId,
        from: &Arc<str>,
        to: &str,
        body: MessageText<'_>,
        kind: Kind,
        relay: Option<&str>,
        now: Now,
    ) -> bool {
        let to_self = self
            .sessions
            .get(&conn)
            .map_or(ToSelf::Refused, |s| s.to_self);
        let Some(to) = self.may_address(conn, from, to, to_self) else {
            return false;
        };
        let stamp = self.stamps.next(now.unix_ms());
        let meta = Meta {
            kind,
            stamp,
            account: self.account_name(from),
            relay: relay.map(Arc::from),
        };
        let text: Arc<str> = Arc::from(body.as_str());
        // The mailbox is the account's, whatever name reaches it (issue 22).
        let mailbox = self.online.account(&to).unwrap_or(&to).clone();
        let queued = self.mailboxes.len(&mailbox);
        let backlog = queued > 0;
        let chat = |to: Audience| Event::Chat {
            from: from.clone(),
            to,
            text: text.clone(),
            meta: meta.clone(),
        };
        let online = self.online.get(&to);
        match online {
            // Online with an empty queue (or a line that is not kept anyway): straight
            // through. Otherwise queue behind the backlog so the recipient sees all in order.
            Some(dest) if !backlog || !kind.is_text() => {
                self.outbox.send(dest, chat(Audience::Direct(to.clone())));
                let away = self.directory.away(dest);
                if let Some(message) = away.filter(|_| matches!(kind, Kind::Say | Kind::Action)) {
                    let user = to.clone();
                    self.outbox.send(conn, Event::IsAway { user, message });
                }
            }
            // CTCP and tags are for someone there to answer them: an offline user is nobody.
            None if !kind.is_text() => {
                self.outbox.error(conn, Error::NoSuchUser(to));
                return false;
            }
            _ => {
                if queued + self.mailboxes.in_flight(&mailbox) >= self.settings.max_offline {
                    self.outbox.error(conn, Error::MailboxFull(to));
                    return false;
                }
                // Reliability limits (issue 8): all mailboxes together are bounded too.
                let cost = super::limits::offline_cost(from, &text);
                if self.mailboxes.bytes() + cost > self.settings.max_offline_bytes {
                    log::info!("offline storage full: message to {to} refused");
                    self.outbox.error(conn, Error::StorageFull);
                    return false;
                }
                let q = Queued {
                    from: from.clone(),
                    stamp,
                    kind,
                    text: text.clone(),
                };
                let (record, undo) = self.mailboxes.push(&mailbox, q);
                self.outbox.record(record, Undo::Mailboxes(undo));
                if kind != Kind::Notice && online.is_none() {
                    self.outbox.send(conn, Event::Kept(to.clone()));
                }
            }
        }
        self.outbox.send(conn, chat(Audience::Echo(to.clone())));
        self.tally.count(MessageKind::Direct);
        if kind.is_text() {
            let from_account = meta.account.is_some();
            self.remember_direct(stamp, (from, from_account), &to, kind, text);
        }
        true
    }

    /// Keep a direct message for `history` and `CHATHISTORY`: durably between accounts; in
    /// memory only, until the guest logs out or takes another name, when a guest is on either
    /// side (issue 22: a guest has nothing durable, and the next user of its name, guest or
    /// account, must not read its conversations). `from` comes with whether it is an account,
    /// which the caller looked up already.
    fn remember_direct(
        &mut self,
        stamp: Stamp,
        (from, from_account): (&Arc<str>, bool),
        to: &Arc<str>,
        kind: Kind,
        text: Arc<str>,
    ) {
        // Kept under the accounts' names (issue 22: a session may hold one under another).
        let from = &self.online.account(from).unwrap_or(from).clone();
        let to = &self.online.account(to).unwrap_or(to).clone();
        let sides = [(from, !from_account), (to, !self.accounts.exists(to))];
        // Cluster mode: every node keeps it, from the stream; each node applying the record
        // keeps a guest's side in memory only, as here ([`Chat::apply_entry`]).
        if sides.iter().all(|(_, guest)| !guest) || self.clustered() {
            let to = record::Audience::User(to.clone());
            return self.remember(stamp, from, to, kind, text);
        }
        let entry = HistoryEntry {
            stamp,
            from: from.clone(),
            to: record::Audience::User(to.clone()),
            kind,
            text,
        };
        let guests = sides.into_iter().filter(|(_, guest)| *guest);
        if let Some(undo) = self.history.keep(entry, guests.map(|(name, _)| name)) {
            self.outbox.undo_also(Undo::History(undo));
        }
    }

    /// The refusals of `message` (also those of `startprivate`, §4): an unknown user (an online
    /// guest, JSON front-end §6, has no account but can be addressed), yourself unless the
    /// sender's wire delivers messages to oneself (`to_self`, issue 22: IRC), a user who
    /// blocked you. Answers the error and returns `None` if one applies, else the recipient as
    /// its name is spelled (issue 17: any spelling of it finds it).
    pub(super) fn may_address(
        &mut self,
        conn: ConnId,
        from: &str,
        to: &str,
        to_self: ToSelf,
    ) -> Option<Arc<str>> {
        let to = self.addressee(conn, to)?;
        let error = if *to == *from && to_self == ToSelf::Refused {
            Error::MessageSelf
        } else if self.has_blocked(&to, from) {
            Error::BlockedByRecipient
        } else {
            return Some(to);
        };
        self.outbox.error(conn, error);
        None
    }

    /// `broadcast` (`to` = everyone else) or `announce` (the sender too).
    pub(super) fn broadcast(
        &mut self,
        conn: ConnId,
        from: &Arc<str>,
        body: MessageText<'_>,
        to: Audience,
        now: Now,
    ) {
        let body = body.as_str();
        let echo = to == Audience::Announcement;
        let stamp = self.stamps.next(now.unix_ms());
        let text: Arc<str> = Arc::from(body);
        self.tally.count(if echo {
            MessageKind::Announcement
        } else {
            MessageKind::Broadcast
        });
        let event = Shared::new(Event::Chat {
            from: from.clone(),
            to,
            text: text.clone(),
            meta: Meta::say(stamp, self.account_name(from)),
        });
        let blockers = self.blockers(from);
        let mut skipped = false;
        let mut ids = Vec::with_capacity(self.online.len());
        for (name, cid) in self.online.iter() {
            if cid == conn && !echo {
                continue;
            }
            if blockers.is_some_and(|b| b.contains(self.online.account_of(name))) {
                skipped = true;
                continue;
            }
            ids.push(cid);
        }
        self.outbox.share_all(event, ids);
        if skipped {
            self.outbox
                .send(conn, Event::Notice(Notice::SomeNotDelivered));
        }
        // §6 menus: announcements are kept as such.
        let kept = if echo {
            record::Audience::Announcement
        } else {
            record::Audience::Everyone
        };
        self.remember(stamp, from, kept, Kind::Say, text);
    }

    /// Keep a message for `history`, durably (sharing the delivered message's strings).
    pub(super) fn remember(
        &mut self,
        stamp: Stamp,
        from: &Arc<str>,
        to: record::Audience,
        kind: Kind,
        text: Arc<str>,
    ) {
        let entry = HistoryEntry {
            stamp,
            from: from.clone(),
            to,
            kind,
            text,
        };
        if let Some((record, undo)) = self.history.remember(entry) {
            self.outbox.record(record, Undo::History(undo));
        }
    }

    /// Other online users in login order, leaving out those who blocked `me`.
    fn visible_online(&self, me: &str) -> Vec<Arc<str>> {
        let users = self.online_in_order(me, false);
        users.into_iter().map(|(n, _)| n).collect()
    }

    /// Online users in login order with their connections, leaving out those who blocked
    /// `me`, and `me` too unless `with_me`.
    pub(super) fn online_in_order(&self, me: &str, with_me: bool) -> Vec<(Arc<str>, ConnId)> {
        let mut users: Vec<(u64, &Arc<str>, ConnId)> = self
            .online
            .iter()
            .filter(|(name, _)| (with_me || &***name != me) && !self.has_blocked(name, me))
            .filter_map(
                |(name, cid)| match self.sessions.get(&cid).map(|s| &s.state) {
                    Some(State::LoggedIn { seq, .. }) => Some((*seq, name, cid)),
                    _ => None,
                },
            )
            .collect();
        users.sort_unstable();
        users.into_iter().map(|(_, n, c)| (n.clone(), c)).collect()
    }

    fn send_users(&mut self, conn: ConnId, names: Vec<Arc<str>>) {
        if !names.is_empty() {
            self.outbox.send(conn, Event::Users(names));
        }
    }

    pub(super) fn whoelse(&mut self, conn: ConnId, me: &str) {
        let names = self.visible_online(me);
        self.send_users(conn, names);
    }

    /// Online now (login order), then logged out within the window (most recent first).
    pub(super) fn whoelsesince(&mut self, conn: ConnId, me: &str, seconds: u64, now: Now) {
        let cutoff = now.mono.checked_sub(Duration::from_secs(seconds));
        let mut names = self.visible_online(me);
        // A name gone is hidden by the blocks of the account it held (issue 22).
        let mine = self.online.account_of(me);
        names.extend(
            self.online
                .logged_out_since(cutoff)
                .filter(|(n, account)| &***n != me && !self.blocks.has_blocked(account, mine))
                .map(|(n, _)| n.clone()),
        );
        self.send_users(conn, names);
    }

    /// A guest's block would be a durable record under a name it gives up: refused.
    pub(super) fn block(&mut self, conn: ConnId, me: &str, user: &str) {
        if !self.is_account(me) {
            return self.outbox.error(conn, Error::AccountsOnly);
        }
        let Some(user) = self.addressee(conn, user) else {
            return;
        };
        let user = &*user;
        if user == me {
            return self.outbox.error(conn, Error::BlockSelf);
        }
        if !self.is_account(user) {
            return self.outbox.error(conn, Error::InvalidUser);
        }
        // A block is between accounts, whatever names they are seen by (issue 22).
        let account = |n| self.online.account_of(n);
        if let Some((record, undo)) = self.blocks.block(account(me), account(user)) {
            self.outbox.record(record, Undo::Blocks(undo));
        }
        self.outbox.send(conn, Event::Blocked(Arc::from(user)));
    }

    pub(super) fn unblock(&mut self, conn: ConnId, me: &str, user: &str) {
        if !self.is_account(me) {
            return self.outbox.error(conn, Error::AccountsOnly);
        }
        let Some(user) = self.addressee(conn, user) else {
            return;
        };
        let user = &*user;
        if user != me && !self.is_account(user) {
            return self.outbox.error(conn, Error::InvalidUser);
        }
        let account = |n| self.online.account_of(n);
        match self.blocks.unblock(account(me), account(user)) {
            Some((record, undo)) => {
                self.outbox.send(conn, Event::Unblocked(Arc::from(user)));
                self.outbox.record(record, Undo::Blocks(undo));
            }
            None => self.outbox.error(conn, Error::NotBlocked(Arc::from(user))),
        }
    }
}
