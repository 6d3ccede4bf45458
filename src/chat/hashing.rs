//! Slow password hashes in bounded steps (issue 21). Checking a password against a PBKDF2
//! secret, or hashing a new one, is a job here: the session waits in `State::Hashing` (the loop
//! reads no more of its input meanwhile), and each loop iteration's [`Chat::handle_work`] spends
//! at most [`ROUNDS_PER_STEP`] PBKDF2 rounds over the jobs in arrival order. So a burst of
//! logins costs each iteration a bounded slice of CPU and everyone else's messages keep
//! flowing; a finished job ends the login the way a fast check would, and `Action::Resume`
//! has the loop read what the connection sent meanwhile.

use super::login::Form;
use super::{Action, Chat};
use crate::credentials::{constant_time_eq, Secret};
use crate::event::Event;
use crate::kdf::Pbkdf2;
use crate::session::{ConnId, State};
use crate::time::Now;
use std::collections::VecDeque;

/// PBKDF2 rounds per loop iteration over all jobs: 0.6 ms on the benchmark machine (140 ns a
/// round with the CPU's SHA instructions), 28 M instructions without them (callgrind), so a
/// small ARM box without SHA extensions stays far inside the 50 ms bound of an iteration.
pub const ROUNDS_PER_STEP: u32 = 4096;

/// What a derivation is for.
#[derive(Debug)]
pub(super) enum Purpose {
    /// A login: compare the derived key with the account's.
    Login {
        user: String,
        key: [u8; 32],
        form: Form,
        /// Cluster mode: the [`Secret::fingerprint`] of the secret checked (the account's may
        /// change while the hash runs).
        checked: Option<String>,
    },
    /// A new account's password (`register`, or a new name at the dialog).
    Create { user: String, salt: [u8; 16] },
    /// `OPER` as `user` (issue 22): compare with the account's key; the session stays logged
    /// in, its input waiting.
    Oper { user: String, key: [u8; 32] },
    /// An outdated salted SHA-256 just matched: store the PBKDF2 hash instead (no session
    /// waits for it).
    Upgrade { user: String, salt: [u8; 16] },
}

#[derive(Debug)]
struct Job {
    conn: ConnId,
    purpose: Purpose,
    work: Box<Pbkdf2>,
    iterations: u32,
    /// Codec replies reserved behind the command that started the job (IRC's end of a
    /// labeled `AUTHENTICATE`), sent after its verdict.
    after: Vec<Event>,
}

/// The derivations waiting for CPU, oldest first.
#[derive(Debug, Default)]
pub(super) struct Jobs {
    queue: VecDeque<Job>,
}

impl Chat {
    /// Start deriving for `purpose` on behalf of `conn`; a login or creation puts the session
    /// in `State::Hashing` until it is done.
    pub(super) fn start_hash(
        &mut self,
        conn: ConnId,
        purpose: Purpose,
        work: Box<Pbkdf2>,
        iterations: u32,
    ) {
        match &purpose {
            // Issue 22: a guest online authenticating stays logged in, its input waiting.
            Purpose::Login {
                form: Form::Attach, ..
            } => {}
            Purpose::Login { user, .. } | Purpose::Create { user, .. } => {
                if let Some(s) = self.sessions.get_mut(&conn) {
                    s.state = State::Hashing { user: user.clone() };
                }
            }
            Purpose::Oper { .. } | Purpose::Upgrade { .. } => {}
        }
        self.jobs.queue.push_back(Job {
            conn,
            purpose,
            work,
            iterations,
            after: Vec::new(),
        });
    }

    /// While `conn` waits for a hash, a codec's reply (`Event::Reserved`) waits for the
    /// verdict: the loop reads nothing more of the connection meanwhile, so such a reply was
    /// reserved by the line that started the hash, and belongs after its answer (a labeled
    /// `AUTHENTICATE` was `ACK`ed before its `900`). `Some(event)`: not held, send it now.
    pub(super) fn after_hash(&mut self, conn: ConnId, event: Event) -> Option<Event> {
        if !self.busy(conn) {
            return Some(event);
        }
        let waiting = self
            .jobs
            .queue
            .iter_mut()
            .rev()
            .find(|j| j.conn == conn && !matches!(j.purpose, Purpose::Upgrade { .. }));
        match waiting {
            Some(job) => {
                job.after.push(event);
                None
            }
            None => Some(event),
        }
    }

    /// A new PBKDF2 derivation of `password` for a new secret at the configured cost.
    pub(super) fn new_derivation(&mut self, password: &str) -> (Box<Pbkdf2>, [u8; 16], u32) {
        let salt = self.accounts.salt();
        let cost = self.settings.hash_cost;
        (
            Box::new(Pbkdf2::new(password.as_bytes(), &salt, cost)),
            salt,
            cost,
        )
    }

    /// Hashes are waiting: call [`Chat::handle_work`] this iteration and do not sleep.
    pub fn has_work(&self) -> bool {
        !self.jobs.queue.is_empty()
    }

    /// Whether `conn`'s session waits for a hash (its input is not read meanwhile).
    pub fn busy(&self, conn: ConnId) -> bool {
        matches!(
            self.sessions.get(&conn).map(|s| &s.state),
            Some(State::Hashing { .. })
        ) || self.opering(conn)
    }

    /// Whether `conn` waits for a password check while logged in (`OPER`, or SASL after an
    /// IRC guest's registration).
    pub(super) fn opering(&self, conn: ConnId) -> bool {
        let online = |j: &Job| {
            j.conn == conn
                && matches!(
                    j.purpose,
                    Purpose::Oper { .. }
                        | Purpose::Login {
                            form: Form::Attach,
                            ..
                        }
                )
        };
        self.jobs.queue.iter().any(online)
    }

    /// Spend at most [`ROUNDS_PER_STEP`] rounds on the waiting hashes, the one with the fewest
    /// rounds left first (the oldest of those), and finish those that are done. Safe to call
    /// at any time.
    ///
    /// Fewest left first, not oldest first: one account stored at a huge cost (an operator's
    /// `user add --hash-cost 2000000`) held every login behind it for half a minute. Among
    /// jobs of one cost (a reconnect storm) it is oldest first, as the one started has fewer
    /// rounds left; a huge one waits while shorter ones keep coming, which only its own
    /// cost can make long.
    pub fn handle_work(&mut self, now: Now) {
        let mut budget = ROUNDS_PER_STEP;
        while budget > 0 {
            let next = (self.jobs.queue.iter().enumerate())
                .min_by_key(|(i, j)| (j.work.left(), *i))
                .map(|(i, _)| i);
            let Some(job) = next.and_then(|i| self.jobs.queue.get_mut(i)) else {
                return;
            };
            let spend = budget.min(job.work.left());
            budget -= spend;
            let Some(key) = job.work.step(spend) else {
                return;
            };
            if let Some(job) = next.and_then(|i| self.jobs.queue.remove(i)) {
                self.finish_hash(job, key, now);
            }
        }
    }

    /// The job is done: its verdict, then the replies reserved behind it.
    fn finish_hash(&mut self, mut job: Job, key: [u8; 32], now: Now) {
        let (conn, after) = (job.conn, std::mem::take(&mut job.after));
        self.conclude_hash(job, key, now);
        for event in after {
            self.reply(conn, event);
        }
    }

    fn conclude_hash(&mut self, job: Job, key: [u8; 32], now: Now) {
        let Job {
            conn,
            purpose,
            iterations,
            ..
        } = job;
        if let Purpose::Upgrade { user, salt } = purpose {
            let secret = Secret::Pbkdf2 {
                iterations,
                salt,
                key,
            };
            // Only if the account still has the hash that was checked (not changed or deleted
            // meanwhile). A failed commit merely leaves the old hash on disk until next time.
            if self.accounts.get(&user).is_some_and(Secret::is_outdated) {
                log::info!("{user}: password hash upgraded to PBKDF2");
                // Cluster mode: from the stream, as every node does (replaced here first, the
                // login it came with, applied after, no longer matched its `login-checked`).
                if !self.clustered() {
                    self.accounts.replay(user.clone(), secret.clone());
                }
                let record = self.upgrade_record(user, secret);
                self.outbox.records.push(record);
            }
            return;
        }
        if let Purpose::Oper { user, key: want } = purpose {
            // Only for the session that asked, still logged in.
            if self.user_of(conn).is_some() {
                self.outbox.actions.push(Action::Resume(conn));
                let right = constant_time_eq(&key, &want);
                self.in_command(conn, now, |chat| chat.opered(conn, &user, right, now));
            }
            return;
        }
        // The session may have closed or timed out meanwhile: then the result is dropped.
        let waiting = match (&purpose, self.sessions.get(&conn).map(|s| &s.state)) {
            (
                Purpose::Login {
                    form: Form::Attach, ..
                },
                Some(State::LoggedIn { .. }),
            ) => true,
            (
                Purpose::Login { user, .. } | Purpose::Create { user, .. },
                Some(State::Hashing { user: u }),
            ) => u == user,
            _ => false,
        };
        if !waiting {
            return;
        }
        self.outbox.actions.push(Action::Resume(conn));
        self.in_command(conn, now, |chat| match purpose {
            Purpose::Login {
                user,
                key: want,
                form,
                checked,
            } => {
                chat.restore_login_state(conn, &user, form);
                if constant_time_eq(&key, &want) {
                    chat.password_right(conn, &user, None, checked, form, now);
                    // The account logged in elsewhere while its password was hashed: that
                    // refusal, too, ends a one-go login (IRC's `PASS` was left registering,
                    // its input ignored, until the login timeout).
                    let refused = chat.user_of(conn).is_none() && !chat.login_pending(conn);
                    if refused && form == Form::OneLine {
                        chat.end_refused_login(conn, now);
                    }
                } else {
                    chat.password_wrong(conn, &user, form, now);
                    if form != Form::Sasl && form != Form::Attach {
                        chat.end_refused_login(conn, now);
                    }
                }
            }
            Purpose::Create { user, salt } => {
                let secret = Secret::Pbkdf2 {
                    iterations,
                    salt,
                    key,
                };
                chat.restore_login_state(conn, &user, Form::Dialog);
                chat.finish_account(conn, &user, secret, now);
            }
            Purpose::Oper { .. } | Purpose::Upgrade { .. } => {}
        });
    }

    /// A front-end that logs in in one go (IRC) ends the connection after a wrong password;
    /// after a fast check it does so itself, after a slow one the core must.
    fn end_refused_login(&mut self, conn: ConnId, now: Now) {
        let one_go = self
            .sessions
            .get(&conn)
            .is_some_and(|s| !s.dialog && s.state != State::Closed);
        if one_go {
            self.outbox.send(conn, Event::Goodbye);
            self.close_after_flush(conn, now);
        }
    }

    /// The connection's session is gone: its waiting hashes are dropped.
    pub(super) fn forget_hashes(&mut self, conn: ConnId) {
        self.jobs
            .queue
            .retain(|j| j.conn != conn || matches!(j.purpose, Purpose::Upgrade { .. }));
    }
}
