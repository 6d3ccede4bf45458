//! Sessions that register themselves (IRC, issue 22): liveness by ping instead of the
//! inactivity logout, an account proved before the login (SASL), the end of registration, and
//! a guest taking another name, an account proved after registration (the guest keeps its
//! name, PROTOCOL.md §8). The rules are the line protocol's: the same accounts, the same
//! lockout, the same casemapping, the same duplicate-login policy.

use super::login::Form;
use super::Chat;
use crate::event::{Error, Event, Shared};
use crate::session::{ConnId, State, TimerKind};
use crate::time::Now;
use crate::valid::{same_name, NewUserName};
use std::sync::Arc;

impl Chat {
    /// `Input::KeepsAlive`: liveness by ping from now on (the session's heartbeat).
    pub(super) fn keeps_alive(&mut self, conn: ConnId) {
        let Some(s) = self.sessions.get_mut(&conn) else {
            return;
        };
        s.pings = true;
        let last = s.last_heard;
        if let Some(hb) = self.settings.heartbeat_of(true) {
            self.arm(conn, TimerKind::Heartbeat, last + hb / 2);
        }
    }

    /// `Input::Authenticate`: check `password` for the account `user` names (any spelling)
    /// with the login's rules (lockout, failed-login rate, slow hash in steps), without logging
    /// in. A second login of an online account is refused here, with its reason.
    pub(super) fn authenticate(&mut self, conn: ConnId, user: &str, password: &str, now: Now) {
        if !self.check_one_line(conn, user, password) {
            return;
        }
        match self.account_named(user) {
            None => self.outbox.error(conn, Error::UnknownUsername),
            Some(account) => {
                let form = self.sasl_form(conn);
                self.attempt_login(conn, &account, password, form, now)
            }
        }
    }

    /// How a SASL exchange of `conn` ends: before registration it proves an account for the
    /// login to come; after it, the guest online logs in to the account.
    pub(super) fn sasl_form(&self, conn: ConnId) -> Form {
        match self.user_of(conn) {
            Some(_) => Form::Attach,
            None => Form::Sasl,
        }
    }

    /// `Input::Authenticate` and `Input::Scram` from `me`, online (issue 22: SASL after an IRC
    /// registration): only a guest may log in to an account so.
    pub(super) fn may_authenticate_online(&mut self, conn: ConnId, me: &str) -> bool {
        if self.is_account(me) {
            self.outbox.error(conn, Error::AlreadyAuthenticated);
            return false;
        }
        true
    }

    /// The guest online on `conn` proved `account`'s password (SASL after registration): it is
    /// logged in to the account under the name it has (both names reach it while it is
    /// online), with the account's rules: the duplicate-login policy, its blocks, its offline
    /// messages delivered now. Those who see the guest and asked (IRC account-notify, and
    /// extended-monitor for watchers) hear which account it holds; nothing else changes.
    /// In cluster mode a session's name is its account's (as at registration): the guest is
    /// renamed to the account by an `attach` record every node applies ([`Chat::defer_attach`]).
    pub(super) fn attach_account(&mut self, conn: ConnId, account: &str) {
        let Some(name) = self.user_of(conn) else {
            return;
        };
        if self.is_account(&name) {
            // A second exchange that raced the first.
            return self.outbox.error(conn, Error::AlreadyAuthenticated);
        }
        if self.defer_attach(conn, &name, account) {
            return;
        }
        if let Some(old) = self.online.get(account) {
            if !self.settings.replace_duplicate {
                let user = Arc::from(account);
                return self.outbox.error(conn, Error::AlreadyLoggedIn(user));
            }
            self.replace_session(old, account, &name);
        }
        let account: Arc<str> = Arc::from(account);
        self.online.attach(&name, account.clone());
        self.account_attached(conn, &name, &account);
        self.watched(&account, true);
    }

    /// `conn`'s session `name` now holds `account` (SASL after registration, here or applied
    /// from the cluster's stream): it is told and given the account's offline messages (a
    /// ghost, on its own node), and those here who see it and asked hear which account it holds.
    pub(super) fn account_attached(&mut self, conn: ConnId, name: &Arc<str>, account: &Arc<str>) {
        if !conn.is_ghost() {
            log::info!("{} logged in to account {account}", self.log_name(conn));
            self.outbox
                .send(conn, Event::Authenticated(account.clone()));
            self.deliver_offline(conn, name);
        }
        let (user, held) = (name.clone(), account.clone());
        self.tell_seers(name, conn, |watched| Event::AccountChanged {
            user: user.clone(),
            account: held.clone(),
            watched,
        });
    }

    /// The password for `user` was right: the session will log in as it.
    pub(super) fn authenticated(&mut self, conn: ConnId, user: &str) {
        if self.refuse_duplicate(conn, user) {
            return;
        }
        let user: Arc<str> = Arc::from(user);
        self.directory.prove(conn, user.clone());
        log::info!("{} authenticated as {user}", self.log_name(conn));
        self.outbox.send(conn, Event::Authenticated(user));
    }

    /// `Input::Enter`: registration is over. Log in to the proved account, under the nick
    /// the client chose when that is free (issue 22, as SASL after registration does), else
    /// under the account's name; else, with a `password` (IRC `PASS` beside a SASL exchange
    /// that proved nothing), as the one-line login of `nick` (a wrong one is refused as ever,
    /// never dropped for a guest session); else as a guest (when the front-end allows
    /// guests); else refuse and close.
    pub(super) fn enter(
        &mut self,
        conn: ConnId,
        nick: &str,
        guest: bool,
        password: Option<&str>,
        now: Now,
    ) {
        let proved = self.directory.proved(conn);
        match (proved.filter(|a| self.accounts.exists(a)), password) {
            (Some(account), _) => {
                if self.refuse_duplicate(conn, &account) {
                    return;
                }
                let own = !same_name(nick, &account)
                    && !self.clustered()
                    && NewUserName::new(nick).is_ok()
                    && !self.name_taken(nick);
                match own {
                    true => self.finish_login_as(conn, nick, &account, now),
                    false => self.complete_login(conn, &account, now),
                }
            }
            (None, Some(password)) => self.one_line_login(conn, nick, password, now),
            (None, None) if guest => self.guest_login(conn, nick, false, now),
            (None, None) => {
                self.outbox.error(conn, Error::PasswordRequired);
                self.outbox.send(conn, Event::Goodbye);
                self.close_after_flush(conn, now);
            }
        }
    }

    /// `Input::Rename`: a guest takes `name` if it is free (a logged-in user keeps its name,
    /// PROTOCOL.md §8). In cluster mode the rename goes through the stream and every node makes
    /// it when it applies the record ([`Chat::defer_rename`]), so that all of them judge the
    /// next login of either name alike.
    pub(super) fn rename(&mut self, conn: ConnId, me: &Arc<str>, name: &str) {
        if self.is_account(me) {
            return self
                .outbox
                .error(conn, Error::NameIsAccount(self.account_of(me)));
        }
        let Ok(name) = NewUserName::new(name) else {
            return self.outbox.error(conn, Error::InvalidUsername);
        };
        let name = name.as_str();
        if name == &**me {
            return;
        }
        if self.rename_taken(me, name) {
            return self.outbox.error(conn, Error::NameTaken(Arc::from(name)));
        }
        if self.defer_rename(conn, me, name) {
            return;
        }
        self.make_rename(conn, me, name, true);
    }

    /// Whether guest `me` may not take `name`: another user's (online or an account), not a
    /// change of case of its own.
    pub(super) fn rename_taken(&self, me: &str, name: &str) -> bool {
        !same_name(name, me) && self.name_taken(name)
    }

    /// Guest `me` on `conn` is now `name`, checked free. Everyone who sees the guest hears of
    /// it once: itself, its roommates, the users shown presence lines, and those who watch
    /// either name. `record`: the room settings it moves are written (one node); in cluster
    /// mode every node derives them from the rename record instead.
    pub(super) fn make_rename(&mut self, conn: ConnId, me: &Arc<str>, name: &str, record: bool) {
        let new: Arc<str> = Arc::from(name);
        let was = self.log_name(conn);
        let mut told: Vec<ConnId> = vec![conn];
        for room in self.rooms.joined(me) {
            if let Some((_, r)) = self.rooms.get(&room) {
                told.extend(r.members.values().copied());
            }
        }
        if self.settings.presence {
            let shown = self
                .online
                .iter()
                .filter(|(_, c)| self.sessions.get(c).is_some_and(|s| s.presence));
            told.extend(shown.map(|(_, c)| c));
        }
        // A change of case only is the same name to those who watch it: nothing to tell them.
        let case_only = same_name(&new, me);
        if !case_only {
            self.watched(me, false);
            // The next user of the old name must not read this guest's conversations.
            self.history.forget_direct(me);
        }
        self.online.rename(me, new.clone());
        if let Some(s) = self.sessions.get_mut(&conn) {
            if let State::LoggedIn { user, .. } = &mut s.state {
                *user = new.clone();
            }
        }
        // What stays with the old name (a permit, an invitation) goes: it is free for anyone.
        let mut moved = self.rooms.rename(me, &new);
        if !case_only {
            moved.extend(self.rooms.forget_standing(me));
        }
        for (r, undo) in moved {
            if record {
                self.outbox.record(r, super::Undo::Rooms(undo));
            }
        }
        if !case_only {
            self.watched(&new, true);
        }
        log::info!("{was} is now known as {new}");
        told.sort_unstable();
        told.dedup();
        let event = Shared::new(Event::Renamed {
            old: me.clone(),
            new,
        });
        for c in told {
            self.outbox.share(c, &event);
        }
    }
}
