//! The sans-IO core: accounts, sessions, blocks, offline queues, history and the timer wheel.
//!
//! Calling contract (as quinn-proto's): feed inputs with `handle_*(…, now)`; after the inputs of
//! one loop iteration, hand [`Chat::pending_records`] to the store and report the outcome with
//! [`Chat::handle_commit`]; then drain [`Chat::drain_actions`] and sleep until
//! [`Chat::poll_timeout`]. The core never reads a clock, a socket or a file, so every test drives
//! it with plain calls and simulated time. `handle_timeout` is safe to call at any time.

mod login;
mod messaging;
mod outbox;

use crate::config::Config;
use crate::credentials::Credentials;
use crate::protocol::{text, Command, LoginInput};
use crate::record::{Audience, Record};
use crate::session::{ConnId, Session, Sessions, State, TimerKind};
use crate::timer::TimerWheel;
use outbox::{Outbox, Undo};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Bytes for one connection. `Shared` is a fan-out line formatted once for every recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    Static(&'static str),
    Owned(String),
    Shared(Arc<str>),
}

impl Payload {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Payload::Static(s) => s.as_bytes(),
            Payload::Owned(s) => s.as_bytes(),
            Payload::Shared(s) => s.as_bytes(),
        }
    }
}

/// What the loop must do for the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Send(ConnId, Payload),
    /// Close now, dropping unsent output (the peer is gone or misbehaving).
    Close(ConnId),
    /// Send what is queued, then close.
    CloseAfterFlush(ConnId),
    /// Call [`Chat::handle_flushed`] once this connection's output is all written: the core
    /// has more queued offline messages for it and hands them out a buffer-full at a time.
    NotifyWhenFlushed(ConnId),
}

/// A framing problem the loop found in a connection's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineError {
    TooLong,
    InvalidUtf8,
}

/// A message waiting for its offline recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    pub from: String,
    pub at_ms: u64,
    pub text: String,
}

/// A message kept for `history`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub at_ms: u64,
    pub from: String,
    pub to: Audience,
    pub text: String,
}

/// Per-account state beyond the password; created on first need.
#[derive(Debug, Default)]
struct Account {
    /// Users this account has blocked.
    blocks: BTreeSet<String>,
    offline: VecDeque<Queued>,
    last_logout: Option<Instant>,
    failures: u8,
    locked_until: Option<Instant>,
}

impl Account {
    fn is_idle(&self) -> bool {
        self.blocks.is_empty()
            && self.offline.is_empty()
            && self.last_logout.is_none()
            && self.failures == 0
            && self.locked_until.is_none()
    }
}

/// What a wheel hint is about.
#[derive(Clone, Debug, PartialEq, Eq)]
enum TimerKey {
    Conn(ConnId, TimerKind),
    Lockout(String),
}

/// Maps the core's monotonic `Instant`s to wall-clock milliseconds for stored timestamps.
#[derive(Clone, Copy, Debug)]
struct WallClock {
    base: Instant,
    base_ms: u64,
}

impl WallClock {
    fn unix_ms(&self, now: Instant) -> u64 {
        self.base_ms + now.saturating_duration_since(self.base).as_millis() as u64
    }
}

/// Salts for new password hashes: SHA-256 of a 32-byte seed from the OS and a counter.
#[derive(Debug)]
struct SaltSource {
    seed: [u8; 32],
    counter: u64,
}

impl SaltSource {
    fn next(&mut self) -> [u8; 16] {
        self.counter += 1;
        let d = Sha256::new()
            .chain_update(self.seed)
            .chain_update(self.counter.to_le_bytes())
            .finalize();
        let mut salt = [0u8; 16];
        salt.copy_from_slice(&d[..16]);
        salt
    }
}

/// The settings the core needs, copied out of [`Config`].
#[derive(Clone, Debug)]
pub struct Settings {
    pub block_duration: Duration,
    pub timeout: Duration,
    pub login_timeout: Duration,
    pub heartbeat: Option<Duration>,
    pub register: bool,
    pub presence: bool,
    pub replace_duplicate: bool,
    /// Bytes of queued offline messages handed out per step, so a large backlog never
    /// overflows the output cap (a quarter of `--max-output`).
    pub delivery_budget: usize,
    pub max_offline: usize,
    pub history: usize,
    pub plain_credentials: bool,
}

impl From<&Config> for Settings {
    fn from(c: &Config) -> Settings {
        Settings {
            block_duration: c.block_duration,
            timeout: c.timeout,
            login_timeout: c.login_timeout,
            heartbeat: c.heartbeat,
            register: c.register,
            presence: c.presence,
            delivery_budget: (c.max_output / 4).max(1),
            replace_duplicate: c.duplicate_login == crate::config::DuplicateLogin::Replace,
            max_offline: c.max_offline,
            history: c.history,
            plain_credentials: c.plain_credentials,
        }
    }
}

/// The whole chat world. See the module doc for the calling contract.
#[derive(Debug)]
pub struct Chat {
    settings: Settings,
    credentials: Credentials,
    accounts: HashMap<String, Account>,
    sessions: Sessions,
    /// Logged-in users and their connection.
    online: HashMap<Arc<str>, ConnId>,
    /// Reverse of `Account::blocks`: who has blocked a user, so fan-out checks one set per
    /// message instead of one lookup per recipient.
    blocked_by: HashMap<String, BTreeSet<String>>,
    history: VecDeque<HistoryEntry>,
    timers: TimerWheel<TimerKey>,
    outbox: Outbox,
    clock: WallClock,
    salts: SaltSource,
    login_seq: u64,
    /// Reused buffer for expired timer keys.
    fired: Vec<TimerKey>,
}

impl Chat {
    /// A core starting at `now` (which must correspond to wall-clock `wall`), with `seed` from
    /// the OS random source for password salts.
    pub fn new(
        settings: Settings,
        credentials: Credentials,
        now: Instant,
        wall: SystemTime,
        seed: [u8; 32],
    ) -> Chat {
        let base_ms = wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Chat {
            settings,
            credentials,
            accounts: HashMap::new(),
            sessions: Sessions::default(),
            online: HashMap::new(),
            blocked_by: HashMap::new(),
            history: VecDeque::new(),
            timers: TimerWheel::new(now),
            outbox: Outbox::default(),
            clock: WallClock { base: now, base_ms },
            salts: SaltSource { seed, counter: 0 },
            login_seq: 0,
            fired: Vec::new(),
        }
    }

    /// A new connection was accepted: greet it and start its login clock.
    pub fn handle_connect(&mut self, conn: ConnId, peer: Option<SocketAddr>, now: Instant) {
        self.sessions.insert(conn, Session::new(peer, now));
        self.arm(conn, TimerKind::Login, now + self.settings.login_timeout);
        if let Some(hb) = self.settings.heartbeat {
            self.arm(conn, TimerKind::Heartbeat, now + hb);
        }
        self.outbox.text(conn, text::USERNAME);
    }

    /// One complete input line (without its line ending).
    pub fn handle_line(&mut self, conn: ConnId, line: &str, now: Instant) {
        let Some(session) = self.sessions.get_mut(&conn) else {
            return;
        };
        session.last_heard = now;
        let mark = self.outbox.mark();
        match session.state.clone() {
            State::Username => self.username_line(conn, line, now),
            State::Password { user, new } => self.password_line(conn, user, new, line, now),
            State::LoggedIn { user, .. } => self.command_line(conn, user, line, now),
            State::Closed => {}
        }
        self.outbox.seal(mark, conn);
    }

    /// A line the framer rejected; the connection stays usable.
    pub fn handle_bad_line(&mut self, conn: ConnId, error: LineError, now: Instant) {
        let Some(session) = self.sessions.get_mut(&conn) else {
            return;
        };
        session.last_heard = now;
        let prompt = match session.state {
            State::Username => Some(text::USERNAME),
            State::Password { .. } => Some(text::PASSWORD),
            State::LoggedIn { .. } => None,
            State::Closed => return,
        };
        self.outbox.text(
            conn,
            match error {
                LineError::TooLong => text::LINE_TOO_LONG,
                LineError::InvalidUtf8 => text::INVALID_UTF8,
            },
        );
        if let Some(p) = prompt {
            self.outbox.text(conn, p);
        }
    }

    /// The connection is gone (peer closed, I/O error, output cap, or a close the core asked for).
    pub fn handle_disconnect(&mut self, conn: ConnId, now: Instant) {
        if let Some(user) = self.sessions.get(&conn).and_then(|s| s.user().cloned()) {
            self.logout(conn, &user, now);
        }
        self.sessions.remove(&conn);
    }

    /// The output of `conn` is all written, as asked by `Action::NotifyWhenFlushed`.
    pub fn handle_flushed(&mut self, conn: ConnId, now: Instant) {
        self.delivery_step(conn, now);
    }

    /// Fire every due hint; each is re-checked against the state it is about.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut fired = std::mem::take(&mut self.fired);
        self.timers.expire(now, &mut fired);
        for key in fired.drain(..) {
            match key {
                TimerKey::Conn(conn, kind) => self.session_timer(conn, kind, now),
                TimerKey::Lockout(user) => self.lockout_timer(&user, now),
            }
        }
        self.fired = fired;
    }

    /// When the loop must call `handle_timeout` next; `None`: nothing scheduled, sleep forever.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// Records this iteration must make durable before any action is performed.
    pub fn pending_records(&self) -> &[Record] {
        &self.outbox.records
    }

    /// Report the store's verdict on `pending_records`. On failure every command that changed
    /// state is undone in memory and answered with the storage error instead.
    pub fn handle_commit(&mut self, ok: bool, now: Instant) {
        if ok {
            self.outbox.committed();
            return;
        }
        for undo in self.outbox.abort() {
            self.undo(undo, now);
        }
    }

    /// The actions of this iteration, in order.
    pub fn drain_actions(&mut self) -> std::vec::Drain<'_, Action> {
        self.outbox.actions.drain(..)
    }

    /// Give back memory a burst left behind (say, presence lines for thousands of logins in one
    /// iteration): the action list keeps its peak capacity otherwise. Call with no actions
    /// pending.
    pub fn trim(&mut self) {
        const KEEP: usize = 1024;
        if self.outbox.actions.is_empty() && self.outbox.actions.capacity() > 16 * KEEP {
            self.outbox.actions.shrink_to(KEEP);
        }
    }

    /// Rebuild durable state from a record read back from the store at start-up.
    pub fn replay(&mut self, record: Record) {
        match record {
            Record::Account { user, secret } => self.credentials.insert(user, secret),
            Record::Block { by, user } => {
                self.set_block(&by, &user, true);
            }
            Record::Unblock { by, user } => {
                self.set_block(&by, &user, false);
            }
            Record::Offline {
                to,
                from,
                at_ms,
                text,
            } => self
                .account(&to)
                .offline
                .push_back(Queued { from, at_ms, text }),
            Record::Delivered { to, count } => {
                let q = &mut self.account(&to).offline;
                q.drain(..q.len().min(count as usize));
                self.forget_if_idle(&to);
            }
            Record::History {
                at_ms,
                from,
                to,
                text,
            } => {
                self.push_history(HistoryEntry {
                    at_ms,
                    from,
                    to,
                    text,
                });
            }
        }
    }

    /// The durable state as records that replay to it: what a snapshot holds.
    pub fn snapshot(&self) -> Vec<Record> {
        let mut out = Vec::new();
        let mut names: Vec<&String> = self.accounts.keys().collect();
        names.sort_unstable();
        for name in names {
            let a = &self.accounts[name];
            for blocked in &a.blocks {
                out.push(Record::Block {
                    by: name.clone(),
                    user: blocked.clone(),
                });
            }
            for q in &a.offline {
                out.push(Record::Offline {
                    to: name.clone(),
                    from: q.from.clone(),
                    at_ms: q.at_ms,
                    text: q.text.clone(),
                });
            }
        }
        out.extend(self.history.iter().map(|h| Record::History {
            at_ms: h.at_ms,
            from: h.from.clone(),
            to: h.to.clone(),
            text: h.text.clone(),
        }));
        out
    }

    /// Logged-in users.
    pub fn online_count(&self) -> usize {
        self.online.len()
    }

    /// The account list (for start-up checks and tests).
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    fn account(&mut self, user: &str) -> &mut Account {
        self.accounts.entry(user.to_string()).or_default()
    }

    fn forget_if_idle(&mut self, user: &str) {
        if self.accounts.get(user).is_some_and(Account::is_idle) {
            self.accounts.remove(user);
        }
    }

    /// Block or unblock, keeping the reverse index in step. Returns whether anything changed.
    fn set_block(&mut self, by: &str, user: &str, on: bool) -> bool {
        let changed = if on {
            self.account(by).blocks.insert(user.to_string())
        } else {
            let changed = self.account(by).blocks.remove(user);
            self.forget_if_idle(by);
            changed
        };
        if changed && on {
            self.blocked_by
                .entry(user.to_string())
                .or_default()
                .insert(by.to_string());
        } else if changed {
            if let Some(set) = self.blocked_by.get_mut(user) {
                set.remove(by);
                if set.is_empty() {
                    self.blocked_by.remove(user);
                }
            }
        }
        changed
    }

    /// Has `by` blocked `user`?
    fn has_blocked(&self, by: &str, user: &str) -> bool {
        self.accounts
            .get(by)
            .is_some_and(|a| !a.blocks.is_empty() && a.blocks.contains(user))
    }

    fn arm(&mut self, conn: ConnId, kind: TimerKind, deadline: Instant) {
        if let Some(s) = self.sessions.get_mut(&conn) {
            if s.arm(kind) {
                self.timers.schedule(deadline, TimerKey::Conn(conn, kind));
            }
        }
    }

    /// Fired hint for one session: act if its real deadline passed, else re-arm for it.
    fn session_timer(&mut self, conn: ConnId, kind: TimerKind, now: Instant) {
        let Some(s) = self.sessions.get_mut(&conn) else {
            return;
        };
        s.disarm(kind);
        let logged_in = s.user().is_some();
        let deadline = match kind {
            TimerKind::Login if !logged_in && s.state != State::Closed => {
                s.since + self.settings.login_timeout
            }
            TimerKind::Idle if logged_in => s.last_active + self.settings.timeout,
            TimerKind::Heartbeat if s.state != State::Closed => match self.settings.heartbeat {
                Some(hb) => s.last_heard + hb,
                None => return,
            },
            TimerKind::Deliver if logged_in => return self.delivery_step(conn, now),
            _ => return,
        };
        if deadline > now {
            self.arm(conn, kind, deadline);
            return;
        }
        match kind {
            TimerKind::Login => {
                log::info!("{conn:?} login timeout");
                self.outbox.text(conn, text::LOGIN_TIMEOUT);
                self.close_after_flush(conn);
            }
            TimerKind::Idle => self.inactivity_logout(conn, now),
            TimerKind::Heartbeat => {
                log::info!("{conn:?} heartbeat timeout");
                self.drop_connection(conn, now);
            }
            TimerKind::Deliver => {}
        }
    }

    fn lockout_timer(&mut self, user: &str, now: Instant) {
        let Some(a) = self.accounts.get_mut(user) else {
            return;
        };
        if a.locked_until.is_some_and(|t| t <= now) {
            a.locked_until = None;
            a.failures = 0;
            log::info!("lockout of {user} expired");
            self.forget_if_idle(user);
        }
    }

    fn close_after_flush(&mut self, conn: ConnId) {
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.state = State::Closed;
        }
        self.outbox.actions.push(Action::CloseAfterFlush(conn));
    }

    /// Close at once, logging out first (heartbeat loss).
    fn drop_connection(&mut self, conn: ConnId, now: Instant) {
        if let Some(user) = self.sessions.get(&conn).and_then(|s| s.user().cloned()) {
            self.logout(conn, &user, now);
        }
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.state = State::Closed;
        }
        self.outbox.actions.push(Action::Close(conn));
    }

    fn push_history(&mut self, entry: HistoryEntry) -> Option<HistoryEntry> {
        if self.settings.history == 0 {
            return None;
        }
        self.history.push_back(entry);
        if self.history.len() > self.settings.history {
            return self.history.pop_front();
        }
        None
    }

    /// Keep a message for `history`, durably.
    fn remember(&mut self, now: Instant, from: &str, to: Audience, text: &str) {
        if self.settings.history == 0 {
            return;
        }
        let at_ms = self.clock.unix_ms(now);
        let entry = HistoryEntry {
            at_ms,
            from: from.to_string(),
            to,
            text: text.to_string(),
        };
        let record = Record::History {
            at_ms,
            from: entry.from.clone(),
            to: entry.to.clone(),
            text: entry.text.clone(),
        };
        let evicted = self.push_history(entry);
        self.outbox.record(record, Undo::PopHistory(evicted));
    }

    fn undo(&mut self, undo: Undo, now: Instant) {
        match undo {
            Undo::RemoveAccount(user) => self.credentials.remove(&user),
            Undo::AbortLogin(conn) => {
                if let Some(s) = self.sessions.get_mut(&conn) {
                    if let State::LoggedIn { user, .. } = &s.state {
                        self.online.remove(user);
                    }
                    s.state = State::Username;
                    s.since = now;
                }
            }
            Undo::Block { by, user } => {
                self.set_block(&by, &user, true);
            }
            Undo::Unblock { by, user } => {
                self.set_block(&by, &user, false);
            }
            Undo::PopOffline(user) => {
                self.account(&user).offline.pop_back();
                self.forget_if_idle(&user);
            }
            Undo::Requeue(user, msgs) => {
                let q = &mut self.account(&user).offline;
                for m in msgs.into_iter().rev() {
                    q.push_front(m);
                }
            }
            Undo::RetryDelivery(conn) => {
                self.arm(conn, TimerKind::Deliver, now + Duration::from_secs(1));
            }
            Undo::PopHistory(evicted) => {
                self.history.pop_back();
                if let Some(e) = evicted {
                    self.history.push_front(e);
                }
            }
        }
    }

    /// A logged-in user's line: dispatch one command.
    fn command_line(&mut self, conn: ConnId, user: Arc<str>, line: &str, now: Instant) {
        let cmd = Command::parse(line);
        if !matches!(cmd, Command::Invalid | Command::Live) {
            if let Some(s) = self.sessions.get_mut(&conn) {
                s.last_active = now;
            }
        }
        match cmd {
            Command::Message { to, text } => self.message(conn, &user, to, text, now),
            Command::Broadcast { text } => self.broadcast(conn, &user, text, now),
            Command::WhoElse => self.whoelse(conn, &user),
            Command::WhoElseSince { seconds } => self.whoelsesince(conn, &user, seconds, now),
            Command::Block { user: target } => self.block(conn, &user, target),
            Command::Unblock { user: target } => self.unblock(conn, &user, target),
            Command::Logout => {
                self.logout(conn, &user, now);
                self.outbox.text(conn, text::LOGGED_OUT);
                self.outbox.text(conn, text::USERNAME);
            }
            Command::Exit => {
                self.logout(conn, &user, now);
                self.outbox.text(conn, text::LOGGED_OUT);
                self.outbox.text(conn, text::GOODBYE);
                self.close_after_flush(conn);
            }
            Command::Help => self.outbox.text(conn, text::HELP),
            Command::Live => {}
            Command::Invalid => self.outbox.text(conn, text::INVALID_COMMAND),
        }
    }
}

#[cfg(test)]
mod tests;
