//! Guests of the JSON front-end (PROTOCOL.md §6): password-less sessions in the same online
//! world. A guest has no account, so no mailbox, no blocks and nothing durable; it is
//! addressable by name while online.

use super::Chat;
use crate::credentials::{reserved_name, valid_token};
use crate::event::{Error, Event, Notice};
use crate::session::ConnId;
use crate::time::Now;
use std::sync::Arc;

impl Chat {
    /// `<first>`: log `conn` in as the guest `name`. Names follow the username rule (1-32
    /// printable ASCII characters, no spaces) so line users can `message` them; a name that is
    /// an account or online is taken: refused (the session may try again), or with `any_free`
    /// replaced by the first free variant, which the guest is told (issue 21).
    pub(super) fn guest_login(&mut self, conn: ConnId, name: &str, any_free: bool, now: Now) {
        if !valid_token(name) || reserved_name(name) {
            return self.outbox.error(conn, Error::InvalidUsername);
        }
        let name = match (self.name_free(name), any_free) {
            (true, _) => name.to_string(),
            (false, true) => {
                let free = self.free_variant(name);
                self.outbox.send(
                    conn,
                    Event::Notice(Notice::Renamed(Arc::from(free.as_str()))),
                );
                free
            }
            (false, false) => return self.outbox.error(conn, Error::NameTaken(Arc::from(name))),
        };
        let user: Arc<str> = Arc::from(name.as_str());
        self.go_online(conn, &user, now);
        log::info!("{} logged in as a guest", self.log_name(conn));
        self.outbox.send(conn, Event::GuestWelcome(user.clone()));
        self.presence(&user, true);
    }

    fn name_free(&self, name: &str) -> bool {
        !self.accounts.exists(name) && !self.online.contains(name)
    }

    /// The first of `name2`, `name3`, … that is free (cut to 32 characters before the number).
    /// One of the first `accounts + online + 1` numbers is free.
    fn free_variant(&self, name: &str) -> String {
        let mut n: u64 = 2;
        loop {
            let suffix = n.to_string();
            let keep = name.len().min(32 - suffix.len());
            let candidate = format!("{}{suffix}", &name[..keep]);
            if !reserved_name(&candidate) && self.name_free(&candidate) {
                return candidate;
            }
            n += 1;
        }
    }

    /// `<list>`: everyone online in login order, the asker included, with the address each
    /// connected from (users who block the asker left out, as in `whoelse`).
    pub(super) fn list_addrs(&mut self, conn: ConnId, me: &str) {
        let users = self
            .online_in_order(me, true)
            .into_iter()
            .map(|(name, cid)| {
                let peer = self.sessions.get(&cid).and_then(|s| s.peer);
                (name, peer)
            })
            .collect();
        self.outbox.send(conn, Event::UserAddrs(users));
    }
}
