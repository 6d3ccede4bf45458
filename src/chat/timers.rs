//! The core's timer wheel: session deadlines (login, inactivity, heartbeat, delivery retry,
//! IRC ping), lockouts and private-session requests. Hints are re-checked when they fire.

use super::Chat;
use crate::event::{Error, Event, Notice};
use crate::session::{ConnId, State, TimerKind};
use crate::time::Now;
use std::sync::Arc;

/// What a wheel hint is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum TimerKey {
    Conn(ConnId, TimerKind),
    Lockout(String),
    /// A private session request's 60 s expiry (PROTOCOL.md §4).
    PrivateRequest {
        from: Arc<str>,
        to: Arc<str>,
        serial: u64,
    },
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
                TimerKey::Lockout(user) => {
                    if self.accounts.unlock_if_due(&user, now.mono) {
                        log::info!("lockout of {user} expired");
                    }
                }
                TimerKey::PrivateRequest { from, to, serial } => {
                    self.private_request_timer(&from, &to, serial, now)
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
                self.timers.schedule(until, TimerKey::Lockout(user));
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
            TimerKind::Heartbeat if s.state != State::Closed => match heartbeat {
                Some(hb) => s.last_heard + hb,
                None => return,
            },
            TimerKind::Deliver if logged_in => return self.delivery_step(conn, now),
            TimerKind::Ping if s.state != State::Closed => match heartbeat {
                Some(hb) => s.last_heard + hb / 2,
                None => return,
            },
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
                self.close_after_flush(conn);
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
                        if let Some(user) = self.user_of(conn) {
                            self.logout(conn, &user, now);
                        }
                        self.close_after_flush(conn);
                    }
                    None => self.drop_connection(conn, now),
                }
            }
            TimerKind::Deliver => {}
            TimerKind::Ping => {
                // Silent for half the heartbeat: a client that answers pings (IRC) stays.
                self.outbox.send(conn, Event::KeepAlive);
                let pings = self.sessions.get(&conn).is_some_and(|s| s.pings);
                if let Some(hb) = self.settings.heartbeat_of(pings) {
                    self.arm(conn, TimerKind::Ping, now.mono + hb / 2);
                }
            }
        }
    }
}
