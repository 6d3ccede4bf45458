//! What server operators do (issue 22: IRC `OPER` is the console's rights on the wire) and
//! the server's counts: `KILL` ends a session as the console's `kick` does, `WALLOPS` reaches
//! the operators and those who asked for it, `LUSERS` counts users and rooms.

use super::hashing::Purpose;
use super::Chat;
use crate::credentials::Check;
use crate::event::{Error, Event, Lusers, Notice, Shared};
use crate::session::ConnId;
use crate::time::Now;
use crate::valid::{reason, MessageText};
use std::sync::Arc;

impl Chat {
    /// Whether `conn` is a server operator; if not, the refusal is answered.
    fn operator(&mut self, conn: ConnId) -> bool {
        let oper = self.directory.is_oper(conn);
        if !oper {
            self.outbox.error(conn, Error::NotOperator);
        }
        oper
    }

    /// `Input::Oper`: `name` must be an account the configuration names (`--operators`,
    /// under the casemapping) and `password` its password, checked as a login's is (in steps
    /// for a PBKDF2 secret, the session's input waiting meanwhile; a wrong one counts as a
    /// failed login of the address). Which session asks does not matter: an operator block,
    /// as on other IRC servers, here backed by an account.
    pub(super) fn oper_up(&mut self, conn: ConnId, name: &str, password: &str, now: Now) {
        let rate = self.settings.login_fail_rate;
        if let Some(ip) = self.limited_address(conn) {
            if !self.login_fails.has(ip, rate, now.mono) {
                return self.outbox.error(conn, Error::LoginRate);
            }
        }
        let named = self.accounts.find(name).filter(|account| {
            let same = crate::valid::same_name;
            self.settings.operators.iter().any(|o| same(o, account))
        });
        let Some(account) = named.map(String::from) else {
            return self.outbox.error(conn, Error::NoOperBlock);
        };
        match self.accounts.get(&account).map(|s| s.check(password)) {
            Some(Check::Now(true)) => self.opered(conn, &account, true, now),
            Some(Check::Now(false)) | None => self.opered(conn, &account, false, now),
            Some(Check::Derive(work, key)) => {
                let iterations = work.left() + 1;
                let purpose = Purpose::Oper { user: account, key };
                self.start_hash(conn, purpose, work, iterations);
            }
        }
    }

    /// How `Input::Oper`'s password check for `account` went.
    pub(super) fn opered(&mut self, conn: ConnId, account: &str, right: bool, now: Now) {
        if right {
            log::info!("{} is an operator (as {account})", self.log_name(conn));
            self.set_oper(conn, true);
            self.outbox.send(conn, Event::Opered);
        } else {
            log::warn!("{} OPER {account}: wrong password", self.log_name(conn));
            self.count_failed_login(conn, now);
            self.outbox.error(conn, Error::InvalidPassword);
        }
    }

    /// `Input::Kill`: the operator `me` ends `user`'s session; its roommates see it quit with
    /// the operator's name and reason.
    pub(super) fn kill(&mut self, conn: ConnId, me: &Arc<str>, user: &str, why: &str, now: Now) {
        if !self.operator(conn) {
            return;
        }
        let Some((name, target)) = self.online.find(user).map(|(n, c)| (n.clone(), c)) else {
            return self.outbox.error(conn, Error::NoSuchUser(Arc::from(user)));
        };
        let why: Arc<str> = Arc::from(reason(why));
        log::info!("{} killed {name} ({why})", self.log_name(conn));
        // Cluster mode: wherever the session is, every node ends it when it applies the kill.
        if self.defer_kill(target, &name, me, &why) {
            return;
        }
        self.end_killed(target, &name, me, &why, now);
    }

    /// `user`'s session on `target` (here, or a ghost of another node's in cluster mode) ends,
    /// killed by `by` for `why`: told and closed here, logged out, its roommates see it quit.
    pub(super) fn end_killed(
        &mut self,
        target: ConnId,
        user: &Arc<str>,
        by: &str,
        why: &str,
        now: Now,
    ) {
        self.set_quit(target, &format!("Killed ({by} ({why}))"));
        if !target.is_ghost() {
            let notice = Notice::Killed {
                by: Arc::from(by),
                reason: Arc::from(why),
            };
            self.outbox.send(target, Event::Notice(notice));
        }
        // Not `logout`: in cluster mode this is the kill's record being applied, which every
        // node applies alike (a `logout` record would follow it for nothing).
        self.finish_logout(target, user, now);
        if !target.is_ghost() {
            self.close_after_flush(target, now);
        }
    }

    /// `Input::Wallops`: to every session that asked for them (`+w`) and the sender.
    pub(super) fn wallops(&mut self, conn: ConnId, me: &Arc<str>, text: &str) {
        if !self.operator(conn) {
            return;
        }
        let Some(text) = self.valid(conn, MessageText::new(text)) else {
            return;
        };
        let event = Shared::new(Event::Wallops {
            from: me.clone(),
            text: Arc::from(text.as_str()),
        });
        let mut to: Vec<ConnId> = self.directory.hearing_wallops();
        to.push(conn);
        to.sort_unstable();
        to.dedup();
        for c in to {
            if self.user_of(c).is_some() {
                self.outbox.share(c, &event);
            }
        }
    }

    /// `Input::Lusers`: the counts, valid before and after login.
    pub(super) fn lusers(&mut self, conn: ConnId) {
        let (invisible, operators) = self.directory.counts();
        let users = self.online.len();
        let counts = Lusers {
            users,
            invisible: invisible.min(users),
            operators,
            unknown: self.sessions.len().saturating_sub(users),
            rooms: self.rooms.len(),
            max_users: self.peak_users.max(users),
        };
        self.outbox.send(conn, Event::Lusers(counts));
    }
}
