//! Guests of the JSON front-end (PROTOCOL.md §6): password-less sessions in the same online
//! world. A guest has no account, so no mailbox, no blocks and nothing durable; it is
//! addressable by name while online.

use super::Chat;
use crate::event::{Error, Event, Notice};
use crate::session::ConnId;
use crate::time::Now;
use crate::valid::NewUserName;
use std::sync::Arc;

impl Chat {
    /// `<first>`: log `conn` in as the guest `name`. Names follow the username rule (1-32
    /// printable ASCII characters, no spaces) so line users can `message` them; a name that is
    /// an account or online, in any case (issue 17: `Hans` beside `hans`), is taken: refused
    /// (the session may try again), or with `any_free` replaced by the first free variant,
    /// which the guest is told (issue 21: seed 002's client names itself only once).
    pub(super) fn guest_login(&mut self, conn: ConnId, name: &str, any_free: bool, now: Now) {
        let Ok(name) = NewUserName::new(name) else {
            return self.outbox.error(conn, Error::InvalidUsername);
        };
        let name = match (self.name_taken(name.as_str()), any_free) {
            (false, _) => name.as_str().to_string(),
            (true, true) => {
                let free = self.free_variant(name.as_str());
                let renamed = Notice::Renamed(Arc::from(free.as_str()));
                self.outbox.send(conn, Event::Notice(renamed));
                free
            }
            (true, false) => {
                let taken = Arc::from(name.as_str());
                return self.outbox.error(conn, Error::NameTaken(taken));
            }
        };
        if self.defer_login(conn, &name, true) {
            return;
        }
        self.finish_guest_login(conn, &name, now);
    }

    /// The guest's login itself (in cluster mode, once its record is back from the stream).
    pub(super) fn finish_guest_login(&mut self, conn: ConnId, name: &str, now: Now) {
        let user: Arc<str> = Arc::from(name);
        self.go_online(conn, &user, now);
        log::info!("{} logged in as a guest", self.log_name(conn));
        self.outbox.send(conn, Event::GuestWelcome(user.clone()));
        self.presence(&user, true);
    }

    /// The first of `name2`, `name3`, … that is free (cut to 32 characters before the number).
    /// One of the first `accounts + online + 1` numbers is free.
    fn free_variant(&self, name: &str) -> String {
        let mut n: u64 = 2;
        loop {
            let suffix = n.to_string();
            let keep = name.len().min(32 - suffix.len());
            let candidate = format!("{}{suffix}", &name[..keep]);
            if NewUserName::new(&candidate).is_ok() && !self.name_taken(&candidate) {
                return candidate;
            }
            n += 1;
        }
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
