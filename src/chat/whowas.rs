//! Past sessions (issue 22, IRC `WHOWAS`): who logged out, with the username and real name it
//! had, newest first. Beside the logout times `whoelsesince` reads (`online.rs`), this keeps the
//! last [`GONE_MAX`] logouts of every front-end's users; not durable (a restart forgets them,
//! as it forgets who was online).

use super::Chat;
use crate::event::{Error, Event, Past};
use crate::session::ConnId;
use crate::time::Now;
use crate::valid::same_name;
use std::collections::VecDeque;
use std::sync::Arc;

/// How many logouts are remembered, over all names.
pub const GONE_MAX: usize = 1024;

#[derive(Debug, Default)]
pub struct Gone {
    /// Newest last: the name, the account it was logged in to (itself, for a guest or for
    /// most logins; issue 22), and the session.
    entries: VecDeque<(Arc<str>, Arc<str>, Past)>,
}

impl Chat {
    /// `user` on `conn` logs out at `now`: remember how it described itself.
    pub(super) fn remember_gone(&mut self, conn: ConnId, user: &Arc<str>, now: Now) {
        let past = Past {
            username: self.directory.username(conn, user),
            realname: self.directory.realname(conn, user),
            gone_s: now.unix_ms() / 1000,
        };
        let account = self.account_of(user);
        let gone = &mut self.gone.entries;
        if gone.len() >= GONE_MAX {
            gone.pop_front();
        }
        gone.push_back((user.clone(), account, past));
    }

    /// `Input::Whowas`: the past sessions of `name` (any spelling), newest first, at most
    /// `count`; none is an error naming it as asked. A user who blocked `me` has no past for it.
    pub(super) fn whowas(&mut self, conn: ConnId, me: &str, name: &str, count: Option<usize>) {
        let mine = self.online.account_of(me);
        let past: Vec<Past> = self
            .gone
            .entries
            .iter()
            .rev()
            .filter(|(n, _, _)| same_name(n, name))
            .filter(|(_, account, _)| !self.blocks.has_blocked(account, mine))
            .take(count.unwrap_or(usize::MAX))
            .map(|(_, _, p)| p.clone())
            .collect();
        let name: Arc<str> = Arc::from(name);
        if past.is_empty() {
            return self.outbox.error(conn, Error::WasNoSuchUser(name));
        }
        self.outbox.send(conn, Event::Whowas { name, past });
    }
}
