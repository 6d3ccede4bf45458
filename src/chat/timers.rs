//! The core's timer wheel: session deadlines (login, inactivity, heartbeat, delivery retry,
//! IRC ping), lockouts and private-session requests. Hints are re-checked when they fire.

use super::Chat;
use crate::event::{Error, Event, Notice};
use crate::session::{ConnId, State, TimerKind};
use crate::time::Now;
use std::sync::Arc;

/// What a wheel hint is about. Every connection has one or more of these in the wheel at
/// all times, so the rare kinds are boxed behind thin pointers: the key is 16 bytes, not 48
/// (issues 20 and 22's idle memory; `tests::timer_key_stays_small`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum TimerKey {
    Conn(ConnId, TimerKind),
    Lockout(Box<Locked>),
    /// A private session request's 60 s expiry (PROTOCOL.md §4).
    PrivateRequest(Box<PrivateRequestKey>),
}

/// The account a [`TimerKey::Lockout`] unlocks (boxed: a thin pointer, where the name alone
/// is two words).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Locked(pub Box<str>);

/// Which private session request a [`TimerKey::PrivateRequest`] is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PrivateRequestKey {
    pub from: Arc<str>,
    pub to: Arc<str>,
    pub serial: u64,
}

impl Chat {
    /// Fire every due hint; each is re-checked against the state it is about.
    pub fn handle_timeout(&mut self, now: Now) {
        self.resume_lockouts(now);
        let mut fired = std::mem::take(&mut self.fired);
        self.timers.expire(now.mono, &mut fired);
        for key in fired.drain(..) {
            match key {
                TimerKey::Conn(conn, kind) => self.session_timer(conn, kind, now),
                TimerKey::Lockout(locked) => {
                    let user = locked.0;
                    if self.accounts.unlock_if_due(&user, now.mono) {
                        log::info!("lockout of {user} expired");
                    }
                }
                TimerKey::PrivateRequest(key) => {
                    self.private_request_timer(&key.from, &key.to, key.serial, now)
                }
            }
        }
        self.fired = fired;
    }

    /// Replayed lockouts become locks, from the wall clock of the first call after start-up.
    pub(super) fn resume_lockouts(&mut self, now: Now) {
        if self.accounts.has_replayed() {
            for (user, until) in self.accounts.resume(now) {
                log::info!("{user} is still locked after the restart");
                let locked = Box::new(Locked(user.into()));
                self.timers.schedule(until, TimerKey::Lockout(locked));
            }
        }
    }

    /// When the loop must call `handle_timeout` next; `None`: nothing scheduled, sleep forever.
    pub fn poll_timeout(&mut self) -> Option<std::time::Instant> {
        self.timers.next_deadline()
    }

    pub(super) fn arm(&mut self, conn: ConnId, kind: TimerKind, deadline: std::time::Instant) {
        if let Some(s) = self.sessions.get_mut(&conn) {
            if !s.is_armed(kind) {
                s.armed(
                    kind,
                    self.timers.schedule(deadline, TimerKey::Conn(conn, kind)),
                );
            }
        }
    }

    /// Take `conn`'s hint for `kind` out of the wheel: one that can only find nothing to do
    /// (a logged-in session's login timeout) would cost its entry until it fires.
    pub(super) fn cancel_hint(&mut self, conn: ConnId, kind: TimerKind) {
        let slot = self.sessions.get_mut(&conn).and_then(|s| s.take_hint(kind));
        if let Some(slot) = slot {
            self.timers.cancel(slot, &TimerKey::Conn(conn, kind));
        }
    }

    /// Fired hint for one session: act if its real deadline passed, else re-arm for it.
    pub(super) fn session_timer(&mut self, conn: ConnId, kind: TimerKind, now: Now) {
        let Some(s) = self.sessions.get_mut(&conn) else {
            return;
        };
        s.disarm(kind);
        let logged_in = s.user().is_some();
        let heartbeat = self.settings.heartbeat_of(s.pings);
        let deadline = match kind {
            TimerKind::Login if !logged_in && s.state != State::Closed => {
                s.since + self.settings.login_timeout
            }
            TimerKind::Idle if logged_in && !s.pings => s.last_active + self.settings.timeout,
            // One hint for both deadlines of the heartbeat (issue 22's idle memory: an entry
            // per connection fewer): half of it silent, a ping; all of it, the end.
            TimerKind::Heartbeat if s.state != State::Closed => match heartbeat {
                Some(hb) if now.mono < s.last_heard + hb / 2 => s.last_heard + hb / 2,
                Some(hb) if now.mono < s.last_heard + hb => {
                    let give_up = s.last_heard + hb;
                    // A client that answers pings (IRC) stays.
                    self.outbox.send(conn, Event::KeepAlive);
                    return self.arm(conn, kind, give_up);
                }
                Some(hb) => s.last_heard + hb,
                None => return,
            },
            TimerKind::Deliver if logged_in => return self.delivery_step(conn, now),
            _ => return,
        };
        if deadline > now.mono {
            self.arm(conn, kind, deadline);
            return;
        }
        match kind {
            TimerKind::Login => {
                log::info!("{} login timeout", self.log_name(conn));
                self.outbox.error(conn, Error::LoginTimeout);
                self.close_after_flush(conn, now);
            }
            TimerKind::Idle => self.inactivity_logout(conn, now),
            TimerKind::Heartbeat => {
                log::info!("{} heartbeat timeout", self.log_name(conn));
                let pings = self.sessions.get(&conn).is_some_and(|s| s.pings);
                match self.settings.heartbeat_of(pings).filter(|_| pings) {
                    // Issue 22: a client that answers pings is told why it goes.
                    Some(hb) => {
                        let notice = Notice::PingTimeout(hb.as_secs());
                        self.outbox.send(conn, Event::Notice(notice));
                        self.set_quit(conn, &format!("Ping timeout: {} seconds", hb.as_secs()));
                        if let Some(user) = self.user_of(conn) {
                            self.logout(conn, &user, now);
                        }
                        self.close_after_flush(conn, now);
                    }
                    None => {
                        self.set_quit(conn, "Heartbeat timeout");
                        self.drop_connection(conn, now)
                    }
                }
            }
            TimerKind::Deliver => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TimerKey;

    /// Every connection keeps one or more hints in the wheel (issues 20 and 22's idle
    /// memory): a wheel entry is a deadline and this key, 64 bytes before the rare kinds were
    /// boxed, 40 before `ConnId` shrank to 8 bytes and the lockout's name to a thin pointer.
    #[test]
    fn timer_key_stays_small() {
        assert!(std::mem::size_of::<TimerKey>() <= 16);
    }
}
