//! The login dialog (PROTOCOL.md §2): prompts, lockout, account creation, duplicate logins,
//! presence lines, logout and the inactivity logout.

use super::{Action, Chat, LoginInput, Payload, Undo};
use crate::credentials::{reserved_name, valid_token, Secret};
use crate::protocol::text;
use crate::record::Record;
use crate::session::{ConnId, State, TimerKind};
use std::sync::Arc;
use std::time::Instant;

/// How a password arrived: the outcome of a wrong one differs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `Username: ` then `Password: `: a wrong password prompts for the password again.
    Dialog,
    /// `login user password`: a wrong password goes back to `Username: `.
    OneLine,
}

impl Chat {
    fn prompt_username(&mut self, conn: ConnId) {
        self.set_state(conn, State::Username);
        self.outbox.text(conn, text::USERNAME);
    }

    fn set_state(&mut self, conn: ConnId, state: State) {
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.state = state;
        }
    }

    fn refuse(&mut self, conn: ConnId, line: String) {
        self.outbox.owned(conn, line);
        self.prompt_username(conn);
    }

    pub(super) fn username_line(&mut self, conn: ConnId, line: &str, now: Instant) {
        match LoginInput::parse(line) {
            LoginInput::Empty => self.outbox.text(conn, text::USERNAME),
            LoginInput::Help => {
                self.outbox.text(conn, text::HELP_LOGIN);
                self.outbox.text(conn, text::USERNAME);
            }
            LoginInput::Exit => {
                self.outbox.text(conn, text::GOODBYE);
                self.close_after_flush(conn);
            }
            LoginInput::Invalid => {
                self.outbox.text(conn, text::INVALID_COMMAND);
                self.outbox.text(conn, text::USERNAME);
            }
            LoginInput::Username(user) => self.dialog_username(conn, user),
            LoginInput::Login { user, password } => self.one_line_login(conn, user, password, now),
            LoginInput::Register { user, password } => self.register(conn, user, password, now),
        }
    }

    fn check_username(&mut self, conn: ConnId, user: &str) -> bool {
        let ok = valid_token(user) && !reserved_name(user);
        if !ok {
            self.outbox.text(conn, text::INVALID_USERNAME);
            self.outbox.text(conn, text::USERNAME);
        }
        ok
    }

    /// Refuse a second login of an online user unless `--duplicate-login replace`.
    fn refuse_duplicate(&mut self, conn: ConnId, user: &str) -> bool {
        let dup = !self.settings.replace_duplicate && self.online.contains_key(user);
        if dup {
            self.refuse(conn, format!("Error. {user} is already logged in\n"));
        }
        dup
    }

    fn dialog_username(&mut self, conn: ConnId, user: &str) {
        if !self.check_username(conn, user) || self.refuse_duplicate(conn, user) {
            return;
        }
        let new = !self.credentials.contains(user);
        if new && !self.settings.register {
            self.outbox.text(conn, text::INVALID_USERNAME_NO_REGISTER);
            self.outbox.text(conn, text::USERNAME);
            return;
        }
        if new {
            self.outbox
                .owned(conn, format!("New user {user}. Choose a password\n"));
        }
        let user = user.to_string();
        self.set_state(conn, State::Password { user, new });
        self.outbox.text(conn, text::PASSWORD);
    }

    pub(super) fn password_line(
        &mut self,
        conn: ConnId,
        user: String,
        new: bool,
        line: &str,
        now: Instant,
    ) {
        let password = line.trim_matches(' ');
        if !valid_token(password) {
            self.outbox.text(conn, text::INVALID_PASSWORD);
            self.outbox.text(conn, text::PASSWORD);
        } else if new {
            self.create_account(conn, &user, password, now);
        } else {
            self.attempt_login(conn, &user, password, Form::Dialog, now);
        }
    }

    /// Both words of a one-line form are well-formed; if not, say which and prompt again.
    fn check_one_line(&mut self, conn: ConnId, user: &str, password: &str) -> bool {
        if !self.check_username(conn, user) {
            return false;
        }
        if !valid_token(password) {
            self.outbox.text(conn, text::INVALID_PASSWORD);
            self.outbox.text(conn, text::USERNAME);
            return false;
        }
        true
    }

    fn one_line_login(&mut self, conn: ConnId, user: &str, password: &str, now: Instant) {
        if !self.check_one_line(conn, user, password) {
            return;
        }
        if !self.credentials.contains(user) {
            self.outbox.text(conn, text::INVALID_USERNAME_NO_REGISTER);
            self.outbox.text(conn, text::USERNAME);
        } else if !self.refuse_duplicate(conn, user) {
            self.attempt_login(conn, user, password, Form::OneLine, now);
        }
    }

    fn register(&mut self, conn: ConnId, user: &str, password: &str, now: Instant) {
        if !self.check_one_line(conn, user, password) {
            return;
        }
        if !self.settings.register {
            self.refuse(conn, "Error. Registration is closed\n".into());
        } else if self.credentials.contains(user) {
            self.refuse(conn, format!("Error. {user} already exists\n"));
        } else {
            self.create_account(conn, user, password, now);
        }
    }

    fn create_account(&mut self, conn: ConnId, user: &str, password: &str, now: Instant) {
        if self.credentials.contains(user) {
            // Someone else created it while this connection was choosing a password.
            return self.refuse(conn, format!("Error. {user} already exists\n"));
        }
        let secret = if self.settings.plain_credentials {
            Secret::Plain(password.to_string())
        } else {
            Secret::hashed(password, self.salts.next())
        };
        self.credentials.insert(user.to_string(), secret.clone());
        let record = Record::Account {
            user: user.to_string(),
            secret,
        };
        self.outbox
            .record(record, Undo::RemoveAccount(user.to_string()));
        self.outbox.set_fallback(vec![
            Action::Send(conn, Payload::Static(text::STORAGE)),
            Action::Send(conn, Payload::Static(text::USERNAME)),
        ]);
        log::info!("{conn:?} created account {user}");
        self.complete_login(conn, user, now);
        self.outbox.undo_also(Undo::AbortLogin(conn));
    }

    fn attempt_login(
        &mut self,
        conn: ConnId,
        user: &str,
        password: &str,
        form: Form,
        now: Instant,
    ) {
        let account = self.account(user);
        if account.locked_until.is_some_and(|t| t > now) {
            log::warn!("{conn:?} login to locked account {user}");
            self.outbox.text(conn, text::STILL_BLOCKED);
            return self.close_after_flush(conn);
        }
        let ok = self
            .credentials
            .get(user)
            .is_some_and(|s| s.verify(password));
        if ok {
            self.account(user).failures = 0;
            self.forget_if_idle(user);
            if !self.refuse_duplicate(conn, user) {
                self.complete_login(conn, user, now);
            }
            return;
        }
        let block_duration = self.settings.block_duration;
        let account = self.account(user);
        account.failures += 1;
        if account.failures >= 3 {
            account.failures = 0;
            let until = now + block_duration;
            account.locked_until = Some(until);
            self.timers
                .schedule(until, super::TimerKey::Lockout(user.to_string()));
            log::warn!("{conn:?} locked account {user} after 3 failed logins");
            self.outbox.text(conn, text::NOW_BLOCKED);
            return self.close_after_flush(conn);
        }
        log::info!("{conn:?} wrong password for {user}");
        self.outbox.text(conn, text::BAD_PASSWORD);
        match form {
            Form::Dialog => self.outbox.text(conn, text::PASSWORD),
            Form::OneLine => self.prompt_username(conn),
        }
    }

    /// Log `conn` in as `user`: welcome, offline messages in order, presence to others.
    fn complete_login(&mut self, conn: ConnId, user: &str, now: Instant) {
        let mark = self.outbox.mark();
        let replaced = self.online.get(user).copied();
        if let Some(old) = replaced {
            self.replace_session(old, user);
        }
        let user: Arc<str> = Arc::from(user);
        self.login_seq += 1;
        let seq = self.login_seq;
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.state = State::LoggedIn {
                user: user.clone(),
                seq,
            };
            s.last_active = now;
        }
        self.online.insert(user.clone(), conn);
        self.arm(conn, TimerKind::Idle, now + self.settings.timeout);
        log::info!("{conn:?} {user} logged in");
        self.outbox.text(conn, text::WELCOME);
        let first_message = self.outbox.since(mark).len();
        self.deliver_offline(conn, &user);
        let delivered = self.outbox.since(mark)[first_message..]
            .iter()
            .take_while(|a| matches!(a, Action::Send(..)))
            .count();
        if replaced.is_none() {
            self.presence(&user, "logged in");
        }
        if delivered > 0 {
            // If the delivery cannot be recorded the messages stay queued: log in without them
            // (everything else this login did, such as replacing an old session, still stands).
            let mut fallback: Vec<Action> = self.outbox.since(mark).to_vec();
            fallback.drain(first_message..first_message + delivered);
            self.outbox.set_fallback(fallback);
        }
    }

    /// Hand out the oldest queued messages of `user`, up to the delivery budget (at least one).
    /// If more remain, ask to be told when the connection has written them.
    fn deliver_offline(&mut self, conn: ConnId, user: &str) {
        let budget = self.settings.delivery_budget;
        let Some(account) = self.accounts.get_mut(user) else {
            return;
        };
        let mut bytes = 0;
        let mut batch = Vec::new();
        while let Some(q) = account.offline.front() {
            let size = q.from.len() + q.text.len() + 3;
            if !batch.is_empty() && bytes + size > budget {
                break;
            }
            bytes += size;
            batch.extend(account.offline.pop_front());
        }
        if batch.is_empty() {
            return;
        }
        let more = !account.offline.is_empty();
        for q in &batch {
            self.outbox.owned(conn, format!("{}: {}\n", q.from, q.text));
        }
        if more {
            self.outbox.actions.push(Action::NotifyWhenFlushed(conn));
        }
        let record = Record::Delivered {
            to: user.to_string(),
            count: batch.len() as u32,
        };
        self.outbox
            .record(record, Undo::Requeue(user.to_string(), batch));
        self.outbox.undo_also(Undo::RetryDelivery(conn));
        self.forget_if_idle(user);
    }

    /// One more budget of the backlog for whoever is logged in on `conn`. If it cannot be
    /// recorded, nothing is sent and a retry is scheduled.
    pub(super) fn delivery_step(&mut self, conn: ConnId, _now: Instant) {
        let Some(user) = self.sessions.get(&conn).and_then(|s| s.user().cloned()) else {
            return;
        };
        let mark = self.outbox.mark();
        self.deliver_offline(conn, &user);
        self.outbox.set_fallback(Vec::new());
        self.outbox.seal(mark, conn);
    }

    /// `--duplicate-login replace`: the old connection is told why and closed, silently to others.
    fn replace_session(&mut self, old: ConnId, user: &str) {
        log::info!("{old:?} {user} replaced by a new login");
        self.online.remove(user);
        self.outbox.owned(
            old,
            format!("You have been logged out: {user} logged in from another connection\n"),
        );
        self.close_after_flush(old);
    }

    /// `<user> <what>` to every other online user, except those `user` has blocked.
    pub(super) fn presence(&mut self, user: &str, what: &str) {
        if !self.settings.presence {
            return;
        }
        let line: Arc<str> = Arc::from(format!("{user} {what}\n"));
        let blocks = self.accounts.get(user).map(|a| &a.blocks);
        for (name, &cid) in &self.online {
            if &**name == user || blocks.is_some_and(|b| b.contains(&**name)) {
                continue;
            }
            self.outbox
                .actions
                .push(Action::Send(cid, Payload::Shared(line.clone())));
        }
    }

    /// Take `user` offline: presence to others, back to `Username: ` with a fresh login clock.
    pub(super) fn logout(&mut self, conn: ConnId, user: &str, now: Instant) {
        if self.online.get(user) == Some(&conn) {
            self.online.remove(user);
            self.account(user).last_logout = Some(now);
            self.presence(user, "logged out");
            log::info!("{conn:?} {user} logged out");
        }
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.state = State::Username;
            s.since = now;
        }
        self.arm(conn, TimerKind::Login, now + self.settings.login_timeout);
    }

    pub(super) fn inactivity_logout(&mut self, conn: ConnId, now: Instant) {
        let Some(user) = self.sessions.get(&conn).and_then(|s| s.user().cloned()) else {
            return;
        };
        log::info!("{conn:?} {user} timed out");
        self.outbox.text(conn, text::INACTIVE);
        self.logout(conn, &user, now);
        self.close_after_flush(conn);
    }
}
