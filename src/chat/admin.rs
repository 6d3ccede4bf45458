//! Accounts changed by the operator (issue 21): `user add|passwd|del|list` from the console,
//! the admin socket, or `chatserver user` on a stopped server. The rules (which names, which
//! passwords) are the login dialog's, checked here once for every way in.
//!
//! Unlike a user's command, an operator's change is committed before it is applied: the loop
//! commits what is pending, then [`Chat::check_account_op`]'s records, and only if they are on
//! disk calls [`Chat::apply_account_op`]. A deletion ends sessions and closes rooms, which no
//! undo could take back; committed first, it never needs one.

use super::Chat;
use crate::credentials::Secret;
use crate::event::{Event, Notice, RoomEvent, Shared};
use crate::record::Record;
use crate::time::Now;
use crate::valid::{NewUserName, UserName};
use std::sync::Arc;

/// One account change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountOp {
    Add { user: String, secret: Secret },
    Passwd { user: String, secret: Secret },
    Delete { user: String },
}

/// The rule for passwords typed anywhere (the login dialog's, SASL's): see
/// [`crate::credentials::valid_password`]. A tool checks it before hashing a password it sends
/// already hashed.
pub fn valid_password(password: &str) -> bool {
    crate::credentials::valid_password(password)
}

impl Chat {
    /// The records that make `op` durable, with the op as it will be applied (the account's
    /// name as it is spelled: the casemapping finds `YODA` for `yoda`, issue 17), or the reason
    /// it cannot be done (one line). Nothing changes yet.
    pub fn check_account_op(&self, op: AccountOp) -> Result<(AccountOp, Vec<Record>), String> {
        let typed = match &op {
            AccountOp::Add { user, .. }
            | AccountOp::Passwd { user, .. }
            | AccountOp::Delete { user } => user.clone(),
        };
        // A new account takes a name every front-end shows as itself; one made before that
        // rule can still change its password or go.
        let fits = match &op {
            AccountOp::Add { .. } => NewUserName::new(&typed).is_ok(),
            AccountOp::Passwd { .. } | AccountOp::Delete { .. } => UserName::new(&typed).is_ok(),
        };
        if !fits {
            return Err(format!(
                "invalid username {typed:?} (1-32 printable characters, no spaces, none of \
                 !@,*? and not starting with :#+, not a command word)"
            ));
        }
        let account = self.accounts.find(&typed).map(str::to_string);
        let op = match (op, account) {
            (AccountOp::Add { .. }, Some(existing)) => {
                return Err(format!("{existing} already exists"))
            }
            (AccountOp::Add { .. }, None) if self.online.find(&typed).is_some() => {
                return Err(format!("{typed} is in use by a guest"))
            }
            (AccountOp::Passwd { .. } | AccountOp::Delete { .. }, None) => {
                return Err(format!("no account {typed}"))
            }
            (op @ AccountOp::Add { .. }, None) => op,
            (AccountOp::Passwd { secret, .. }, Some(user)) => AccountOp::Passwd { user, secret },
            (AccountOp::Delete { .. }, Some(user)) => AccountOp::Delete { user },
        };
        let record = match &op {
            AccountOp::Add { user, secret } | AccountOp::Passwd { user, secret } => {
                Record::Account {
                    user: user.clone(),
                    secret: secret.clone(),
                }
            }
            AccountOp::Delete { user } => Record::AccountDeleted { user: user.clone() },
        };
        Ok((op, vec![record]))
    }

    /// Apply `op`, whose records are committed: a deleted account's session is told and
    /// closed, the rooms it owned are closed for their members, and everything kept for the
    /// name goes (as its replay does).
    pub fn apply_account_op(&mut self, op: AccountOp, now: Now) {
        match op {
            AccountOp::Add { user, secret } | AccountOp::Passwd { user, secret } => {
                self.accounts.replay(user, secret)
            }
            AccountOp::Delete { user } => {
                if let Some(conn) = self.online.get(&user) {
                    // The session's own name (issue 22: it may hold the account under another).
                    let name = self
                        .user_of(conn)
                        .unwrap_or_else(|| Arc::from(user.as_str()));
                    log::info!("{user} logged out: account deleted by the operator");
                    self.outbox
                        .send(conn, Event::Notice(Notice::AccountDeleted));
                    self.set_quit(conn, "Account deleted");
                    self.logout(conn, &name, now);
                    self.close_after_flush(conn, now);
                }
                self.accounts.remove(&user);
                let closed = self.purge_account(&user);
                self.tell_rooms_closed(closed);
            }
        }
    }

    /// The members online of rooms a deleted account owned are told they closed.
    pub(super) fn tell_rooms_closed(&mut self, rooms: Vec<(Arc<str>, Vec<Arc<str>>)>) {
        for (room, members) in rooms {
            let closed = Shared::new(Event::Room(RoomEvent::Closed(room)));
            for m in members {
                if let Some(cid) = self.online.get(&m) {
                    self.outbox.share(cid, &closed);
                }
            }
        }
    }

    /// The secret to store for a password the operator gave: an already hashed secret (from
    /// `chatserver user`, which hashes before sending) as it is, else a password under the
    /// login dialog's rules, hashed as a new account's would be.
    pub fn operator_secret(&mut self, password: &str) -> Result<Secret, String> {
        match Secret::parse(password) {
            Ok(Secret::Plain(_)) | Err(_) if !valid_password(password) => {
                Err("invalid password (1-1024 bytes, no spaces or control characters)".into())
            }
            Ok(Secret::Plain(p)) if Secret::stays_plain(&p, self.settings.plain_credentials) => {
                Ok(Secret::Plain(p))
            }
            // Hashed here at once only if that fits one loop step (issue 21); `chatserver
            // user` hashes in its own process and sends the result.
            Ok(Secret::Plain(p)) if self.settings.hash_cost <= super::hashing::ROUNDS_PER_STEP => {
                Ok(Secret::pbkdf2(
                    &p,
                    self.accounts.salt(),
                    self.settings.hash_cost,
                ))
            }
            Ok(Secret::Plain(_)) => Err(format!(
                "hashing a password at --hash-cost {} would stall the server: use `chatserver \
                 user add|passwd`, which hashes it in its own process",
                self.settings.hash_cost
            )),
            Ok(hashed) => Ok(hashed),
            Err(reason) => Err(format!("invalid password hash: {reason}")),
        }
    }

    /// Every account name, sorted.
    pub fn account_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.credentials().names().map(str::to_string).collect();
        names.sort_unstable();
        names
    }

    /// Drop everything kept for `user` but its credentials (replay of `account-deleted`, and
    /// its apply). Returns the rooms it owned, now closed, with who was in each.
    pub(super) fn purge_account(&mut self, user: &str) -> Vec<(Arc<str>, Vec<Arc<str>>)> {
        self.accounts.purge_lockout(user);
        self.blocks.purge(user);
        self.mailboxes.purge(user);
        self.profiles.purge(user);
        self.rooms.purge(user)
    }
}
