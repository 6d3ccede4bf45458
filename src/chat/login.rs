//! The login dialog (PROTOCOL.md §2): prompts, lockout, account creation, duplicate logins,
//! presence, logout and the inactivity logout.

use super::accounts::Failure;
use super::hashing::Purpose;
use super::{Action, Chat, TimerKey, Undo};
use crate::credentials::{valid_password, Check, Secret};
use crate::event::{Error, Event, HelpTopic, Notice, Prompt, Shared};
use crate::input::Input;
use crate::session::{ConnId, State, TimerKind};
use crate::time::Now;
use crate::valid::{NewUserName, UserName};
use std::sync::Arc;

/// How a password arrived: the outcome of a wrong one differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Form {
    /// `Username: ` then `Password: `: a wrong password prompts for the password again.
    Dialog,
    /// `login user password`: a wrong password goes back to `Username: `.
    OneLine,
    /// IRC SASL (issue 22): a right password proves the account without logging in yet; a
    /// wrong one is answered and the session may try again.
    Sasl,
    /// IRC SASL after registration (issue 22): the guest online logs in to the account and
    /// keeps its name; a wrong password is answered and it stays a guest.
    Attach,
}

impl Chat {
    fn prompt(&mut self, conn: ConnId, p: Prompt) {
        self.outbox.send(conn, Event::Prompt(p));
    }

    pub(super) fn prompt_username(&mut self, conn: ConnId) {
        self.set_state(conn, State::Username);
        self.prompt(conn, Prompt::Username);
    }

    fn set_state(&mut self, conn: ConnId, state: State) {
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.state = state;
        }
    }

    /// An error, then `Username: ` again (only the error for a session already online: an
    /// IRC guest's SASL after registration, issue 22).
    pub(super) fn refuse(&mut self, conn: ConnId, error: Error) {
        self.outbox.error(conn, error);
        if self.user_of(conn).is_none() {
            self.prompt_username(conn);
        }
    }

    pub(super) fn username_input(&mut self, conn: ConnId, input: Input<'_>, now: Now) {
        match input {
            Input::Empty => self.prompt(conn, Prompt::Username),
            Input::Help => {
                self.outbox.send(conn, Event::Help(HelpTopic::Login));
                self.prompt(conn, Prompt::Username);
            }
            Input::Exit => {
                self.outbox.send(conn, Event::Goodbye);
                self.close_after_flush(conn, now);
            }
            Input::Answer(user) => self.dialog_username(conn, user),
            Input::Login { user, password } => self.one_line_login(conn, user, password, now),
            Input::Register { user, password } => self.register(conn, user, password, now),
            // IRC front-end (issue 12): no prompts on a wire that registers itself.
            Input::Describe { username, realname } => self.describe(conn, username, realname),
            Input::NoPresence => self.no_presence(conn),
            Input::Quit { .. } => {
                self.outbox.send(conn, Event::Goodbye);
                self.close_after_flush(conn, now);
            }
            // JSON front-end (§6).
            Input::Guest { name, any_free } => self.guest_login(conn, name, any_free, now),
            // Issue 22: sessions that register themselves (IRC).
            Input::KeepsAlive => self.keeps_alive(conn),
            Input::Authenticate { user, password } => self.authenticate(conn, user, password, now),
            Input::Scram { first, message } => self.scram(conn, first, message, now),
            Input::Enter {
                nick,
                guest,
                password,
            } => self.enter(conn, nick, guest, password, now),
            Input::Lusers => self.lusers(conn),
            // What only a logged-in user may do (listed, so a new input is a decision here).
            Input::Rename { .. }
            | Input::Lookup { .. }
            | Input::Whowas { .. }
            | Input::SetName { .. }
            | Input::Monitor(_)
            | Input::Replay(_)
            | Input::Kill { .. }
            | Input::Wallops { .. }
            | Input::Message { .. }
            | Input::Broadcast { .. }
            | Input::Announce { .. }
            | Input::WhoElse
            | Input::WhoElseSince { .. }
            | Input::Block { .. }
            | Input::Unblock { .. }
            | Input::Logout
            | Input::Live
            | Input::Invalid
            | Input::Bad(_)
            | Input::Away { .. }
            | Input::Oper { .. }
            | Input::Deoper
            | Input::Invisible(_)
            | Input::HearWallops(_)
            | Input::Whois { .. }
            | Input::Who { .. }
            | Input::StartPrivate { .. }
            | Input::Consent { .. }
            | Input::Private { .. }
            | Input::StopPrivate { .. }
            | Input::P2pPort { .. }
            | Input::ListAddrs
            | Input::WhoAmI
            | Input::ViewProfile { .. }
            | Input::SetProfile { .. }
            | Input::ListUsers
            | Input::Room(_)
            | Input::Menu(_)
            | Input::History { .. } => self.refuse(conn, Error::InvalidCommand),
        }
    }

    /// The account `user` names under the casemapping (issue 17), as its name is spelled:
    /// `YODA` at the prompt logs in to `yoda`.
    pub(super) fn account_named(&self, user: &str) -> Option<String> {
        self.accounts.find(user).map(str::to_string)
    }

    fn check_username(&mut self, conn: ConnId, user: &str) -> bool {
        let ok = UserName::new(user).is_ok();
        if !ok {
            self.refuse(conn, Error::InvalidUsername);
        }
        ok
    }

    /// Refuse a second login of an online user unless `--duplicate-login replace`.
    pub(super) fn refuse_duplicate(&mut self, conn: ConnId, user: &str) -> bool {
        let dup = !self.settings.replace_duplicate && self.online.contains(user);
        if dup {
            self.refuse(conn, Error::AlreadyLoggedIn(Arc::from(user)));
        }
        dup
    }

    /// Refuse a new account whose name is not a [`NewUserName`] (one every front-end shows as
    /// itself), or is taken in any case: by an account, or by an online guest, who is never
    /// logged out for it (F15), whatever `--duplicate-login` says.
    fn refuse_new_name(&mut self, conn: ConnId, user: &str) -> bool {
        let error = if NewUserName::new(user).is_err() {
            Error::InvalidUsername
        } else if let Some(account) = self.accounts.find(user) {
            Error::UserExists(Arc::from(account))
        } else if let Some((guest, _)) = self.online.find(user) {
            Error::AlreadyLoggedIn(guest.clone())
        } else if self.rooms.has_owner(user) {
            // A guest's room still open: its owner's name does not pass to a new account.
            Error::NameTaken(Arc::from(user))
        } else {
            return false;
        };
        self.refuse(conn, error);
        true
    }

    fn dialog_username(&mut self, conn: ConnId, user: &str) {
        if !self.check_username(conn, user) {
            return;
        }
        let (user, new) = match self.account_named(user) {
            Some(account) => (account, false),
            None => (user.to_string(), true),
        };
        if self.refuse_duplicate(conn, &user) || (new && self.refuse_new_name(conn, &user)) {
            return;
        }
        if new && !self.settings.register {
            return self.refuse(conn, Error::UnknownUsername);
        }
        if new {
            self.outbox
                .send(conn, Event::NewUser(Arc::from(user.as_str())));
        }
        self.set_state(conn, State::Password { user, new });
        self.prompt(conn, Prompt::Password);
    }

    pub(super) fn password_input(
        &mut self,
        conn: ConnId,
        user: String,
        new: bool,
        input: Input<'_>,
        now: Now,
    ) {
        let password = match input {
            Input::Answer(line) => line.trim_matches(' '),
            _ => "",
        };
        if !valid_password(password) {
            self.outbox.error(conn, Error::InvalidPassword);
            self.prompt(conn, Prompt::Password);
        } else if new {
            self.create_account(conn, &user, password, now);
        } else {
            self.attempt_login(conn, &user, password, Form::Dialog, now);
        }
    }

    /// Both words of a one-line form are well-formed; if not, say which and prompt again.
    pub(super) fn check_one_line(&mut self, conn: ConnId, user: &str, password: &str) -> bool {
        if !self.check_username(conn, user) {
            return false;
        }
        if !valid_password(password) {
            self.refuse(conn, Error::InvalidPassword);
            return false;
        }
        true
    }

    pub(super) fn one_line_login(&mut self, conn: ConnId, user: &str, password: &str, now: Now) {
        if !self.check_one_line(conn, user, password) {
            return;
        }
        match self.account_named(user) {
            None => self.refuse(conn, Error::UnknownUsername),
            Some(user) => {
                if !self.refuse_duplicate(conn, &user) {
                    self.attempt_login(conn, &user, password, Form::OneLine, now);
                }
            }
        }
    }

    fn register(&mut self, conn: ConnId, user: &str, password: &str, now: Now) {
        if !self.check_one_line(conn, user, password) {
            return;
        }
        if !self.settings.register {
            self.refuse(conn, Error::RegistrationClosed);
        } else if !self.refuse_new_name(conn, user) {
            self.create_account(conn, user, password, now);
        }
    }

    fn create_account(&mut self, conn: ConnId, user: &str, password: &str, now: Now) {
        // Someone else may have taken it while this connection was choosing a password.
        if self.refuse_new_name(conn, user) {
            return;
        }
        if !self.may_create_account(conn, now) {
            return;
        }
        if Secret::stays_plain(password, self.settings.plain_credentials) {
            return self.finish_account(conn, user, Secret::Plain(password.to_string()), now);
        }
        // Issue 21: the slow hash runs in steps; the account is made when it is done.
        let (work, salt, iterations) = self.new_derivation(password);
        let user = user.to_string();
        self.start_hash(conn, Purpose::Create { user, salt }, work, iterations);
    }

    /// Make the account `user` with `secret` and log `conn` in as it.
    pub(super) fn finish_account(&mut self, conn: ConnId, user: &str, secret: Secret, now: Now) {
        // Taken while the password was being hashed: an account made meanwhile in any case, or
        // a guest who took the name (it stays online; it was logged out as a duplicate login).
        if self.refuse_new_name(conn, user) {
            return;
        }
        let (record, undo) = self.accounts.create(user, secret);
        self.outbox.record(record, Undo::Accounts(undo));
        self.outbox.set_fallback(vec![
            Action::Send(conn, Event::Error(Error::Storage)),
            Action::Send(conn, Event::Prompt(Prompt::Username)),
        ]);
        log::info!("{} created account {user}", self.log_name(conn));
        self.complete_login(conn, user, now);
        self.outbox.undo_also(Undo::AbortLogin(conn));
        // Online before its account is stored (a cluster node logs in from the stream, later).
        if let Some(name) = self.user_of(conn) {
            self.online.uncommitted(&name);
        }
    }

    pub(super) fn attempt_login(
        &mut self,
        conn: ConnId,
        user: &str,
        password: &str,
        form: Form,
        now: Now,
    ) {
        if self.accounts.is_locked(user, now.mono) {
            log::warn!("{} login to locked account {user}", self.log_name(conn));
            self.outbox.send(conn, Event::Notice(Notice::StillLocked));
            return self.close_after_flush(conn, now);
        }
        if !self.may_try_password(conn, now) {
            return;
        }
        let secret = self.accounts.get(user).cloned();
        let checked = secret
            .as_ref()
            .filter(|_| self.clustered())
            .map(Secret::fingerprint);
        match secret.map(|s| s.check(password)) {
            Some(Check::Now(true)) => {
                self.password_right(conn, user, Some(password), checked, form, now)
            }
            Some(Check::Now(false)) | None => self.password_wrong(conn, user, form, now),
            // Issue 21: a PBKDF2 secret is checked in steps; the login ends when it is done.
            Some(Check::Derive(work, key)) => {
                let (user, iterations) = (user.to_string(), work.left() + 1);
                let purpose = Purpose::Login {
                    user,
                    key,
                    form,
                    checked,
                };
                self.start_hash(conn, purpose, work, iterations);
            }
        }
    }

    /// A hash for `user` ended: the session is back where the password was typed, so the
    /// outcome takes the same path as a fast check's.
    pub(super) fn restore_login_state(&mut self, conn: ConnId, user: &str, form: Form) {
        let state = match form {
            Form::Dialog => State::Password {
                user: user.to_string(),
                new: false,
            },
            Form::OneLine | Form::Sasl => State::Username,
            Form::Attach => return, // logged in all the while
        };
        self.set_state(conn, state);
    }

    /// The password was right: log in (`password` given when an outdated hash matched, to
    /// store it the new way; `checked`: the fingerprint of the secret it was checked against,
    /// if not the account's secret now).
    pub(super) fn password_right(
        &mut self,
        conn: ConnId,
        user: &str,
        password: Option<&str>,
        checked: Option<String>,
        form: Form,
        now: Now,
    ) {
        self.note_checked(conn, user, checked);
        // Cluster mode: the count starts again when the login is applied, in the stream's order.
        if !self.clustered() {
            self.accounts.succeeded(user);
        }
        if let Some(pw) =
            password.filter(|_| self.accounts.get(user).is_some_and(Secret::is_outdated))
        {
            let (work, salt, iterations) = self.new_derivation(pw);
            let user = user.to_string();
            self.start_hash(conn, Purpose::Upgrade { user, salt }, work, iterations);
        }
        match form {
            Form::Sasl => return self.authenticated(conn, user),
            Form::Attach => return self.attach_account(conn, user),
            Form::Dialog | Form::OneLine => {}
        }
        if !self.refuse_duplicate(conn, user) {
            self.complete_login(conn, user, now);
        }
    }

    /// The password was wrong: count it against the account and the address. In cluster mode
    /// the account's count is kept in the stream's order on every node, so the answer waits
    /// for the stream ([`Chat::defer_wrong_password`]).
    pub(super) fn password_wrong(&mut self, conn: ConnId, user: &str, form: Form, now: Now) {
        self.count_failed_login(conn, now);
        if self.defer_wrong_password(conn, user, form) {
            return;
        }
        let locked = self.count_wrong_password(user, now);
        if locked {
            // Durable (issue 8), but not part of the command: a failed commit must not
            // turn the lock notice into a storage error.
            self.outbox.late.extend(self.accounts.lock_record(user));
        }
        self.answer_wrong_password(conn, user, form, locked, now);
    }

    /// Count a wrong password for `user`; true if it locked the account (the third).
    pub(super) fn count_wrong_password(&mut self, user: &str, now: Now) -> bool {
        match self
            .accounts
            .failed(user, now, self.settings.block_duration)
        {
            Failure::Locked(until) => {
                self.tally.lockouts += 1;
                let locked = Box::new(super::timers::Locked(user.into()));
                self.timers.schedule(until, TimerKey::Lockout(locked));
                log::warn!("account {user} locked after 3 failed logins");
                true
            }
            Failure::Retry => false,
        }
    }

    /// Tell `conn` its password for `user` was wrong, and that the account is now locked
    /// (then close it) or to try again.
    pub(super) fn answer_wrong_password(
        &mut self,
        conn: ConnId,
        user: &str,
        form: Form,
        locked: bool,
        now: Now,
    ) {
        if locked {
            log::warn!("{} locked account {user}", self.log_name(conn));
            self.outbox.send(conn, Event::Notice(Notice::NowLocked));
            return self.close_after_flush(conn, now);
        }
        self.retry_after_wrong_password(conn, user, form);
    }

    /// Tell `conn` its password for `user` was wrong, and to try again.
    pub(super) fn retry_after_wrong_password(&mut self, conn: ConnId, user: &str, form: Form) {
        log::info!("{} wrong password for {user}", self.log_name(conn));
        self.outbox.send(conn, Event::Notice(Notice::BadPassword));
        match form {
            Form::Dialog => self.prompt(conn, Prompt::Password),
            Form::OneLine => self.prompt_username(conn),
            Form::Sasl | Form::Attach => {}
        }
    }

    /// `user` is online on `conn` from `now`: in login order, with its inactivity clock running.
    /// Shared by account logins and guests.
    pub(super) fn go_online(&mut self, conn: ConnId, user: &Arc<str>, now: Now) {
        self.tally.logins += 1;
        let seq = self.online.login(user.clone(), conn);
        self.peak_users = self.peak_users.max(self.online.len());
        let mut pings = false;
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.state = State::LoggedIn {
                user: user.clone(),
                seq,
            };
            s.last_active = now.mono;
            // While logged in, `since` is the login (WHOIS's signon time).
            s.since = now.mono;
            pings = s.pings;
            if s.presence && self.settings.presence {
                self.outbox.actions.push(Action::Subscribe(conn));
            }
        }
        // Its login timeout is moot until a logout arms it again (issue 22's idle memory).
        self.cancel_hint(conn, TimerKind::Login);
        // Issue 22: a session that answers pings is alive while it answers, idle or not.
        if !pings {
            self.arm(conn, TimerKind::Idle, now.mono + self.settings.timeout);
        }
        self.watched(user, true);
    }

    /// `conn`'s user is no longer online: no more presence lines for it (issue 20).
    fn go_offline(&mut self, conn: ConnId) {
        if self.settings.presence {
            self.outbox.actions.push(Action::Unsubscribe(conn));
        }
    }

    /// Log `conn` in as `user`: welcome, offline messages in order, presence to others. In
    /// cluster mode (issue 23) this writes a `login` record and the login happens when the
    /// stream brings it back ([`Chat::finish_login`]), so two nodes agree on who won.
    pub(super) fn complete_login(&mut self, conn: ConnId, user: &str, now: Now) {
        if self.defer_login(conn, user, false) {
            return;
        }
        self.finish_login(conn, user, now);
    }

    pub(super) fn finish_login(&mut self, conn: ConnId, user: &str, now: Now) {
        self.finish_login_as(conn, user, user, now);
    }

    /// Log `conn` in to `account` under `name` (issue 22: an IRC client's own free nick; for
    /// every other login the account's name).
    pub(super) fn finish_login_as(&mut self, conn: ConnId, name: &str, account: &str, now: Now) {
        // A replacement under the same name is silent to others; under another name it is
        // the old name's logout and this one's login (issue 22).
        let silent = match self.online.get(account) {
            Some(old) => self.replace_session(old, account, name),
            None => false,
        };
        let user: Arc<str> = Arc::from(name);
        let held = (name != account).then(|| Arc::<str>::from(account));
        if let Some(account) = &held {
            // Attached before anyone hears of the name: the account's blocks apply from the
            // first event about it (issue 22).
            self.online.attach(&user, account.clone());
        }
        self.go_online(conn, &user, now);
        if let Some(account) = &held {
            log::info!("{} holds account {account}", self.log_name(conn));
            self.watched(account, true);
        }
        log::info!("{} logged in", self.log_name(conn));
        self.outbox.send(conn, Event::Welcome(user.clone()));
        self.deliver_offline(conn, &user);
        if !silent {
            self.presence(&user, true);
        }
    }

    /// A login whose commit failed: back to `Username: `.
    pub(super) fn abort_login(&mut self, conn: ConnId, now: Now) {
        if let Some(user) = self.user_of(conn) {
            self.end_private(&user);
            self.mailboxes.requeue(self.online.account_of(&user));
            self.leave_all_rooms(conn, &user);
        }
        if let Some(s) = self.sessions.get_mut(&conn) {
            if let State::LoggedIn { user, .. } = &s.state {
                self.online.remove(user);
            }
            s.state = State::Username;
            s.since = now.mono;
        }
        self.go_offline(conn);
    }

    /// Hand out the oldest queued messages of `user`, up to the delivery budget (at least one),
    /// and ask to hear when the kernel has accepted them: only then are they recorded as
    /// delivered (PROTOCOL.md §3, at-least-once). If more remain, ask to be told when the
    /// connection has written them.
    pub(super) fn deliver_offline(&mut self, conn: ConnId, user: &str) {
        // The account's mailbox, addressed to the name the session is seen by (issue 22).
        let account = self.account_of(user);
        let budget = self.settings.delivery_budget;
        let Some((batch, more, marker)) = self.mailboxes.take(&account, conn, budget) else {
            // Only messages still to be committed: they come once the output is flushed,
            // which is after the commit (or not at all, if it failed).
            if self.mailboxes.len(&account) > 0 {
                self.outbox.actions.push(Action::NotifyWhenFlushed(conn));
            }
            return;
        };
        for q in batch.iter() {
            // Issue 22: stamped with when it was sent, with its id.
            let meta = crate::event::Meta {
                kind: q.kind,
                stamp: q.stamp,
                account: self.account_name(&q.from),
                relay: None,
            };
            let event = Event::Chat {
                from: q.from.clone(),
                to: crate::event::Audience::Direct(Arc::from(user)),
                text: q.text.clone(),
                meta,
            };
            self.outbox.send(conn, event);
        }
        self.outbox.actions.push(Action::WhenWritten(conn, marker));
        if more {
            self.outbox.actions.push(Action::NotifyWhenFlushed(conn));
        }
    }

    /// One more budget of the backlog for whoever is logged in on `conn`.
    pub(super) fn delivery_step(&mut self, conn: ConnId, _now: Now) {
        let Some(user) = self.user_of(conn) else {
            return;
        };
        self.deliver_offline(conn, &user);
    }

    /// The kernel accepted `conn`'s output up to `marker`: record those messages delivered (in
    /// the next group commit; if that fails they are merely delivered again after a restart).
    pub(super) fn delivery_written(&mut self, conn: ConnId, marker: u64) {
        let Some(user) = self.user_of(conn) else {
            return;
        };
        let account = self.online.account_of(&user);
        if let Some(record) = self.mailboxes.written(account, conn, marker) {
            self.outbox.records.push(record);
        }
    }

    /// `--duplicate-login replace`: the old connection is told why and closed, silently to
    /// others when the new session of the account `user` goes by the old one's name,
    /// `new_name`; returns whether so. The old session may hold the account under another name
    /// (issue 22): it is known by that name in its rooms and the online list, and when the
    /// names differ the others hear the old name leave (presence, `MONITOR`), as for a logout.
    pub(super) fn replace_session(&mut self, old: ConnId, user: &str, new_name: &str) -> bool {
        log::info!("{} replaced by a new login", self.log_name(old));
        let name = self.user_of(old).unwrap_or_else(|| Arc::from(user));
        let silent = *name == *new_name;
        self.end_private(&name);
        self.mailboxes.requeue(user);
        self.set_quit(old, "Logged in from another connection");
        self.leave_all_rooms(old, &name);
        if !silent {
            self.watched(&name, false);
            self.presence(&name, false);
        }
        self.online.remove(&name);
        self.go_offline(old);
        self.outbox
            .send(old, Event::Notice(Notice::Replaced(Arc::from(user))));
        // Logged out above, its own way: the name may be online again at once, the new
        // session's.
        self.close_without_logout(old);
        silent
    }

    /// `<user> logged in/out` to every other online user, except those `user` has blocked: an
    /// announcement to every subscribed connection (issue 20), whatever the number online.
    pub(super) fn presence(&mut self, user: &Arc<str>, online: bool) {
        if !self.settings.presence {
            return;
        }
        let event = Shared::new(Event::Presence {
            user: user.clone(),
            online,
        });
        let mut except: Vec<ConnId> = self.online.get(user).into_iter().collect();
        if let Some(blocked) = self.blocked(user) {
            except.extend(blocked.iter().filter_map(|name| self.online.get(name)));
        }
        self.outbox.announce(event, except);
    }

    /// Take `user` offline: presence to others, back to `Username: ` with a fresh login clock.
    /// In cluster mode (issue 23) this writes a `logout` record; the rest happens when the
    /// stream brings it back.
    pub(super) fn logout(&mut self, conn: ConnId, user: &Arc<str>, now: Now) {
        if self.defer_logout(conn, user, now) {
            return;
        }
        self.finish_logout(conn, user, now);
    }

    pub(super) fn finish_logout(&mut self, conn: ConnId, user: &Arc<str>, now: Now) {
        if self.online.get(user) == Some(conn) {
            self.leave_all_rooms(conn, user);
            self.end_private(user);
            let account = self.account_of(user);
            self.mailboxes.requeue(&account);
            // Told while the name still holds its account, so that the account's blocks
            // apply (issue 22).
            self.remember_gone(conn, user, now);
            self.watched(user, false);
            if account != *user {
                self.watched(&account, false);
            }
            self.presence(user, false);
            self.online.logout(user, now.mono);
            self.go_offline(conn);
            if !self.accounts.exists(user) {
                // A guest's rooms nobody is in close with it (issue 17, F11); so do those of
                // a name held apart from its account (issue 22). Its standing in other rooms
                // goes too: the name is free for anyone now.
                self.close_guest_rooms();
                for (record, undo) in self.rooms.forget_standing(user) {
                    self.outbox.record(record, Undo::Rooms(undo));
                }
                self.history.forget_direct(user);
            }
            log::info!("{} logged out", self.log_name(conn));
        }
        self.dialogs.forget(conn); // §6 menus: a prompt in progress ends with the login.
        if let Some(s) = self.sessions.get_mut(&conn) {
            if s.state == State::Closed {
                return; // Cluster mode: closed while its logout record was on its way.
            }
            s.state = State::Username;
            s.since = now.mono;
        }
        self.arm(
            conn,
            TimerKind::Login,
            now.mono + self.settings.login_timeout,
        );
    }

    pub(super) fn inactivity_logout(&mut self, conn: ConnId, now: Now) {
        let Some(user) = self.user_of(conn) else {
            return;
        };
        log::info!("{} timed out", self.log_name(conn));
        self.outbox.send(conn, Event::Notice(Notice::Inactive));
        self.set_quit(conn, "Logged out due to inactivity");
        self.logout(conn, &user, now);
        self.close_after_flush(conn, now);
    }
}
