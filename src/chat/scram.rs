//! SASL SCRAM-SHA-256 exchanges (issue 22), the core's side: which connection is where in its
//! exchange, and the account rules applied to it, the same as for a password (`Input::Login`,
//! `Input::Authenticate`): the casemapping, the lockout, the failed-login rate, the
//! duplicate-login policy. The mechanism itself (grammar, keys, proofs) is [`crate::scram`];
//! front-ends only carry its messages (IRC: base64 in `AUTHENTICATE`).

use super::Chat;
use crate::credentials::Secret;
use crate::event::{Error, Event, Notice};
use crate::scram::{self, Exchange, Key};
use crate::session::ConnId;
use crate::time::Now;
use std::collections::HashMap;
use std::sync::Arc;

/// Where one connection's exchange is.
#[derive(Debug)]
enum Stage {
    /// The server sent its first message; the client's proof comes next. `account`: the
    /// account the name found (as spelled), if any.
    Proof {
        exchange: Exchange,
        account: Option<String>,
    },
    /// The proof was right and the server signed; the client's empty answer ends it.
    Signed { account: String },
}

/// Exchanges under way, by connection (an entry lives from the client's first message to the
/// end of its exchange or of its connection).
#[derive(Debug, Default)]
pub struct Exchanges {
    by_conn: HashMap<ConnId, Stage>,
}

impl Exchanges {
    pub fn forget(&mut self, conn: ConnId) {
        self.by_conn.remove(&conn);
    }
}

impl Chat {
    /// `Input::Scram`: one client message of an exchange (`first`: the client's first, which
    /// starts a new one).
    pub(super) fn scram(&mut self, conn: ConnId, first: bool, message: &str, now: Now) {
        let stage = self.scram.by_conn.remove(&conn);
        match (first, stage) {
            (true, _) => self.scram_start(conn, message),
            (false, Some(Stage::Proof { exchange, account })) => {
                self.scram_proof(conn, &exchange, account, message, now)
            }
            (false, Some(Stage::Signed { account })) if message.is_empty() => {
                self.password_right(conn, &account, None, None, self.sasl_form(conn), now)
            }
            (false, Some(Stage::Signed { .. }) | None) => {
                self.outbox.error(conn, Error::InvalidCommand)
            }
        }
    }

    /// The client named an account and sent its nonce: answer with the salt and iterations of
    /// its key (or a stand-in's), and a nonce of the server's.
    fn scram_start(&mut self, conn: ConnId, message: &str) {
        let first = match scram::client_first(message) {
            Ok(first) => first,
            Err(why) => {
                log::info!("{} SCRAM refused: {why:?}", self.log_name(conn));
                return self.outbox.error(conn, Error::InvalidCommand);
            }
        };
        let account = self.account_named(&first.user);
        let key = account
            .as_deref()
            .and_then(|a| self.accounts.get(a))
            .and_then(|secret| match *secret {
                Secret::Pbkdf2 {
                    iterations,
                    salt,
                    key,
                } => Some(Key {
                    salt,
                    iterations,
                    salted: key,
                }),
                Secret::Plain(_) | Secret::Sha256 { .. } => None,
            });
        let stand_in = (
            self.accounts.stand_in_salt(&first.user),
            self.settings.hash_cost,
        );
        let nonce = hex::encode(self.accounts.salt());
        let (exchange, server_first) = Exchange::start(first, key, stand_in, &nonce);
        self.scram
            .by_conn
            .insert(conn, Stage::Proof { exchange, account });
        self.outbox
            .send(conn, Event::ScramChallenge(Arc::from(server_first)));
    }

    /// The client's proof: right, the server signs and waits for the client's empty answer;
    /// wrong, it counts as a wrong password for the account.
    fn scram_proof(
        &mut self,
        conn: ConnId,
        exchange: &Exchange,
        account: Option<String>,
        message: &str,
        now: Now,
    ) {
        let Some(account) = account else {
            return self.outbox.error(conn, Error::UnknownUsername);
        };
        if self.accounts.is_locked(&account, now.mono) {
            log::warn!("{} login to locked account {account}", self.log_name(conn));
            self.outbox.send(conn, Event::Notice(Notice::StillLocked));
            return self.close_after_flush(conn, now);
        }
        if !self.may_try_password(conn, now) {
            return;
        }
        let has_key = matches!(self.accounts.get(&account), Some(Secret::Pbkdf2 { .. }));
        match exchange.finish(message) {
            Ok(Some(server_final)) => {
                self.scram.by_conn.insert(conn, Stage::Signed { account });
                self.outbox
                    .send(conn, Event::ScramChallenge(Arc::from(server_final)));
            }
            Ok(None) if has_key => self.password_wrong(conn, &account, self.sasl_form(conn), now),
            Ok(None) => {
                // Not the user's fault: no key to check against (plaintext or old hash).
                log::info!(
                    "{} SCRAM for {account}, whose password is not stored as PBKDF2: use PLAIN",
                    self.log_name(conn)
                );
                self.outbox.error(conn, Error::InvalidPassword);
            }
            Err(why) => {
                log::info!("{} SCRAM refused: {why:?}", self.log_name(conn));
                self.outbox.error(conn, Error::InvalidCommand);
            }
        }
    }
}
