//! Guests of the JSON front-end (PROTOCOL.md §6): password-less sessions in the same online
//! world. A guest has no account, so no mailbox, no blocks and nothing durable; it is
//! addressable by name while online.

use super::Chat;
use crate::event::{Error, Event};
use crate::session::ConnId;
use crate::time::Now;
use crate::valid::UserName;
use std::sync::Arc;

impl Chat {
    /// `<first>`: log `conn` in as the guest `name`. Names follow the username rule (1-32
    /// printable ASCII characters, no spaces) so line users can `message` them; a name that is
    /// an account or online, in any case (issue 17: `Hans` beside `hans`), is taken. Either
    /// refusal leaves the session free to try again.
    pub(super) fn guest_login(&mut self, conn: ConnId, name: &str, now: Now) {
        let Ok(name) = UserName::new(name) else {
            return self.outbox.error(conn, Error::InvalidUsername);
        };
        let name = name.as_str();
        if self.name_taken(name) {
            return self.outbox.error(conn, Error::NameTaken(Arc::from(name)));
        }
        let user: Arc<str> = Arc::from(name);
        self.go_online(conn, &user, now);
        log::info!("{conn:?} guest {user} logged in");
        self.outbox.send(conn, Event::GuestWelcome(user.clone()));
        self.presence(&user, true);
    }

    /// `<list>`: everyone online in login order, the asker included (users who block the asker
    /// left out, as in `whoelse`). Only the asker's own address is shown (issue 17, F13): no
    /// user's address goes to another without consent, which §4's `getaddress` asks for.
    pub(super) fn list_addrs(&mut self, conn: ConnId, me: &str) {
        let users = self
            .online_in_order(me, true)
            .into_iter()
            .map(|(name, cid)| {
                let peer = self.sessions.get(&cid).and_then(|s| s.peer);
                (name, peer.filter(|_| cid == conn))
            })
            .collect();
        self.outbox.send(conn, Event::UserAddrs(users));
    }
}
