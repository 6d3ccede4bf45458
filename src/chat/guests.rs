//! Guests of the JSON front-end (PROTOCOL.md §6): password-less sessions in the same online
//! world. A guest has no account, so no mailbox, no blocks and nothing durable; it is
//! addressable by name while online.

use super::Chat;
use crate::credentials::{reserved_name, valid_token};
use crate::event::{Error, Event};
use crate::session::ConnId;
use crate::time::Now;
use std::sync::Arc;

impl Chat {
    /// `<first>`: log `conn` in as the guest `name`. Names follow the username rule (1-32
    /// printable ASCII characters, no spaces) so line users can `message` them; a name that is
    /// an account or online is taken. Either refusal leaves the session free to try again.
    pub(super) fn guest_login(&mut self, conn: ConnId, name: &str, now: Now) {
        if !valid_token(name) || reserved_name(name) {
            return self.outbox.error(conn, Error::InvalidUsername);
        }
        if self.accounts.exists(name) || self.online.contains(name) {
            return self.outbox.error(conn, Error::NameTaken(Arc::from(name)));
        }
        let user: Arc<str> = Arc::from(name);
        self.go_online(conn, &user, now);
        log::info!("{} logged in as a guest", self.log_name(conn));
        self.outbox.send(conn, Event::GuestWelcome(user.clone()));
        self.presence(&user, true);
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
