//! Per-connection state: where the connection is in the login dialog and the timestamps its
//! deadlines are derived from. Deadlines are computed, never stored, so renewals cost nothing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Identifies one connection: the server's slab key, reused after the connection is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub usize);

/// Where a connection is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// `Username: ` was sent.
    Username,
    /// `Password: ` was sent for `user`; `new` when it is an account being created.
    Password { user: String, new: bool },
    /// Logged in; `seq` orders users by login time for `whoelse`.
    LoggedIn { user: Arc<str>, seq: u64 },
    /// The core closed it; lines still in flight are ignored until the loop reaps it.
    Closed,
}

/// The deadlines a session can have; each has at most one hint in the wheel at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// Not logged in within `--login-timeout` of accept or logout.
    Login,
    /// No valid command for the inactivity timeout.
    Idle,
    /// No line at all for `--heartbeat`.
    Heartbeat,
}

impl TimerKind {
    fn bit(self) -> u8 {
        match self {
            TimerKind::Login => 1,
            TimerKind::Idle => 2,
            TimerKind::Heartbeat => 4,
        }
    }
}

/// One connection's chat state.
#[derive(Debug)]
pub struct Session {
    pub state: State,
    pub peer: Option<SocketAddr>,
    /// Accept or logout: the login timeout counts from here.
    pub since: Instant,
    /// Last valid command: the inactivity timeout counts from here.
    pub last_active: Instant,
    /// Last line of any kind: the heartbeat counts from here.
    pub last_heard: Instant,
    /// Which `TimerKind`s have a hint in the wheel, so activity never adds duplicates.
    armed: u8,
}

impl Session {
    pub fn new(peer: Option<SocketAddr>, now: Instant) -> Session {
        Session {
            state: State::Username,
            peer,
            since: now,
            last_active: now,
            last_heard: now,
            armed: 0,
        }
    }

    /// The logged-in username, if any.
    pub fn user(&self) -> Option<&Arc<str>> {
        match &self.state {
            State::LoggedIn { user, .. } => Some(user),
            _ => None,
        }
    }

    /// Marks `kind` armed; returns false if a hint was already pending (no new one needed).
    pub fn arm(&mut self, kind: TimerKind) -> bool {
        let fresh = self.armed & kind.bit() == 0;
        self.armed |= kind.bit();
        fresh
    }

    /// The hint for `kind` has fired.
    pub fn disarm(&mut self, kind: TimerKind) {
        self.armed &= !kind.bit();
    }
}
