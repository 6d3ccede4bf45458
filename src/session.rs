//! Per-connection state: where the connection is in the login dialog and the timestamps its
//! deadlines are derived from. Deadlines are computed, never stored, so renewals cost nothing.

use crate::chat::ToSelf;
use crate::timer::Slot;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Identifies one connection: the server's slab key plus a generation. Slab keys are reused
/// as soon as a connection is gone; the generation is not, so anything that outlives a
/// connection (a consent request, a room membership, a console `kick`, an action still queued)
/// can never land on the next connection in the same slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId {
    pub slot: usize,
    pub gen: u32,
}

/// Slots at and above this name ghosts (cluster mode, issue 23): users logged in on another
/// node, whose actions are forwarded there. The slab never hands out such a key.
pub const GHOST_SLOTS: usize = 1 << (usize::BITS - 2);

impl ConnId {
    pub fn new(slot: usize, gen: u32) -> ConnId {
        ConnId { slot, gen }
    }

    /// A user on another node (cluster mode).
    pub fn is_ghost(self) -> bool {
        self.slot >= GHOST_SLOTS
    }
}

/// Where a connection is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// `Username: ` was sent.
    Username,
    /// `Password: ` was sent for `user`; `new` when it is an account being created.
    Password { user: String, new: bool },
    /// The password given for `user` is being checked or hashed, in steps across loop
    /// iterations (issue 21); the connection's input is not read until that ends.
    Hashing { user: String },
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
    /// No line at all for half of `--heartbeat` (or, for a session that answers pings, of the
    /// timeout): ask the client to prove it is there (IRC `PING`); none for all of it: the end.
    Heartbeat,
    /// Retry handing out queued offline messages after a failed commit.
    Deliver,
}

impl TimerKind {
    const ALL: [TimerKind; 4] = [
        TimerKind::Login,
        TimerKind::Idle,
        TimerKind::Heartbeat,
        TimerKind::Deliver,
    ];

    fn index(self) -> usize {
        match self {
            TimerKind::Login => 0,
            TimerKind::Idle => 1,
            TimerKind::Heartbeat => 2,
            TimerKind::Deliver => 3,
        }
    }
}

/// One connection's chat state.
#[derive(Debug)]
pub struct Session {
    /// Generation of the connection this session belongs to (see [`ConnId`]).
    gen: u32,
    pub state: State,
    pub peer: Option<SocketAddr>,
    /// Accept or logout: the login timeout counts from here. While logged in: the login.
    pub since: Instant,
    /// Last valid command: the inactivity timeout counts from here.
    pub last_active: Instant,
    /// Last line of any kind: the heartbeat counts from here.
    pub last_heard: Instant,
    /// Where each `TimerKind`'s hint is in the wheel, if it has one: activity never adds
    /// duplicates, and the hints are cancelled when the session ends.
    hints: [Option<Slot>; 4],
    /// Whether this session is told of others' logins and logouts (IRC front-end, issue 12:
    /// IRC clients see JOIN/PART/QUIT of shared rooms instead).
    pub presence: bool,
    /// Logs in through the prompts (the line protocol), not in one go (IRC): a wrong password
    /// found after a slow hash then asks again rather than ending the connection (issue 21).
    pub dialog: bool,
    /// Proves it is alive by answering pings (IRC, issue 22): no inactivity logout; pinged
    /// when silent, dropped when silent too long.
    pub pings: bool,
    /// Whether a message to oneself is delivered or refused: the wire's rule (issue 22).
    pub to_self: ToSelf,
}

impl Session {
    pub fn new(peer: Option<SocketAddr>, now: Instant) -> Session {
        Session {
            gen: 0,
            state: State::Username,
            peer,
            since: now,
            last_active: now,
            last_heard: now,
            hints: [None; 4],
            presence: true,
            dialog: true,
            pings: false,
            to_self: ToSelf::Refused,
        }
    }

    /// The logged-in username, if any.
    pub fn user(&self) -> Option<&Arc<str>> {
        match &self.state {
            State::LoggedIn { user, .. } => Some(user),
            _ => None,
        }
    }

    /// Whether `kind` has a hint pending (then no new one is needed).
    pub fn is_armed(&self, kind: TimerKind) -> bool {
        self.hints[kind.index()].is_some()
    }

    /// A hint for `kind` was put in `slot`.
    pub fn armed(&mut self, kind: TimerKind, slot: Slot) {
        self.hints[kind.index()] = Some(slot);
    }

    /// The hint for `kind` has fired.
    pub fn disarm(&mut self, kind: TimerKind) {
        self.hints[kind.index()] = None;
    }

    /// Forget the hint for `kind`, returning where it is (for [`crate::timer::TimerWheel::cancel`]).
    pub fn take_hint(&mut self, kind: TimerKind) -> Option<Slot> {
        self.hints[kind.index()].take()
    }

    /// The hints pending, to cancel when the session ends.
    pub fn hints(&self) -> impl Iterator<Item = (TimerKind, Slot)> + '_ {
        TimerKind::ALL
            .into_iter()
            .filter_map(|k| self.hints[k.index()].map(|slot| (k, slot)))
    }
}

/// Sessions indexed by `ConnId`. Slab keys are dense and reused, so a vector beats a hash map
/// on both lookups (every line) and memory (no hashing, no control bytes). A lookup with a
/// stale generation finds nothing.
#[derive(Debug, Default)]
pub struct Sessions {
    slots: Vec<Option<Session>>,
    /// Ghosts (cluster mode), indexed by `slot - GHOST_SLOTS`.
    ghosts: Vec<Option<Session>>,
    len: usize,
}

impl Sessions {
    /// The table and index a slot lives at: ghosts have their own, so their high slot
    /// numbers cost nothing.
    fn table(&self, slot: usize) -> (&Vec<Option<Session>>, usize) {
        match slot.checked_sub(GHOST_SLOTS) {
            Some(i) => (&self.ghosts, i),
            None => (&self.slots, slot),
        }
    }

    fn table_mut(&mut self, slot: usize) -> (&mut Vec<Option<Session>>, usize) {
        match slot.checked_sub(GHOST_SLOTS) {
            Some(i) => (&mut self.ghosts, i),
            None => (&mut self.slots, slot),
        }
    }

    pub fn get(&self, id: &ConnId) -> Option<&Session> {
        let (table, i) = self.table(id.slot);
        table
            .get(i)
            .and_then(Option::as_ref)
            .filter(|s| s.gen == id.gen)
    }

    pub fn get_mut(&mut self, id: &ConnId) -> Option<&mut Session> {
        let (table, i) = self.table_mut(id.slot);
        table
            .get_mut(i)
            .and_then(Option::as_mut)
            .filter(|s| s.gen == id.gen)
    }

    pub fn insert(&mut self, id: ConnId, mut session: Session) {
        let (table, i) = self.table_mut(id.slot);
        if i >= table.len() {
            table.resize_with(i + 1, || None);
        }
        session.gen = id.gen;
        if table[i].replace(session).is_none() {
            self.len += 1;
        }
    }

    pub fn remove(&mut self, id: &ConnId) -> Option<Session> {
        self.get(id)?;
        let (table, i) = self.table_mut(id.slot);
        let old = table.get_mut(i).and_then(Option::take);
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    /// A free ghost slot (cluster mode).
    pub fn free_ghost_slot(&self) -> usize {
        let i = self.ghosts.iter().position(Option::is_none);
        GHOST_SLOTS + i.unwrap_or(self.ghosts.len())
    }

    /// Every live session with its id, ghosts last.
    pub fn iter(&self) -> impl Iterator<Item = (ConnId, &Session)> {
        let local = self.slots.iter().enumerate();
        let ghosts = self
            .ghosts
            .iter()
            .enumerate()
            .map(|(i, s)| (GHOST_SLOTS + i, s));
        local
            .chain(ghosts)
            .filter_map(|(slot, s)| s.as_ref().map(|s| (ConnId::new(slot, s.gen), s)))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_reuse_slots_and_count() {
        let t = Instant::now();
        let mut s = Sessions::default();
        assert!(s.is_empty());
        let id = |slot| ConnId::new(slot, 1);
        s.insert(id(3), Session::new(None, t));
        s.insert(id(0), Session::new(None, t));
        assert_eq!(s.len(), 2);
        assert!(s.get(&id(1)).is_none() && s.get(&id(3)).is_some());
        assert!(s.remove(&id(3)).is_some());
        assert!(s.remove(&id(3)).is_none());
        assert!(s.get(&id(99)).is_none());
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn a_stale_generation_finds_nothing() {
        let t = Instant::now();
        let mut s = Sessions::default();
        let old = ConnId::new(2, 7);
        let new = ConnId::new(2, 8);
        s.insert(old, Session::new(None, t));
        assert!(s.remove(&old).is_some());
        s.insert(new, Session::new(None, t));
        assert!(
            s.get(&old).is_none(),
            "the slot's next tenant is not the old one"
        );
        assert!(s.get_mut(&old).is_none());
        assert!(
            s.remove(&old).is_none(),
            "a stale remove leaves the new session"
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s.iter().map(|(id, _)| id).collect::<Vec<_>>(), [new]);
    }

    #[test]
    fn an_idle_session_stays_small() {
        // Part of the per-connection memory budget (issue: <= 0.6 KiB per idle connection).
        assert!(std::mem::size_of::<Option<Session>>() <= 136);
    }
}
