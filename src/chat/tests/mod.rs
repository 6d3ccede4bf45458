//! Core tests with simulated time: no sockets, no sleeps. Each test drives `Chat` with plain
//! calls at `t0 + n seconds` and checks exactly what each connection would be sent. This file
//! is the harness (`Sim`); the tests are in one file per concept beside it.

mod basics; // §1-§3: login, messaging, blocks, timeouts, commits.
#[cfg(feature = "cluster")]
mod cluster; // Issue 23: nodes over a simulated stream.
mod guests; // JSON guests (§6) and the console (§7).
mod hashing; // Issue 21: password hashes in steps, upgrades, failed-login throttling.
mod identity; // Issue 17: one casemapping, the text rule, registration vs guests.
mod ircv3; // Issue 22: modern IRC's concepts in the core.
mod menus; // §6 menus.
mod nicks; // Issue 22: a session's name apart from its account.
mod pacing; // Issue 17, F14: long replies paced.
mod private; // Private sessions (§4).
mod reliability; // Issue 8: delivery recorded once written, bounds, degraded history.
mod replay; // Issue 22: CHATHISTORY from the history.
mod room_engine; // Issue 17: one room engine, its bounds, records and privacy.
mod rooms;
mod scram; // Issue 22: SASL SCRAM-SHA-256. // Chat rooms and profiles (§5).

use super::*;
use crate::credentials::Credentials;
use crate::protocol::line::text;
use crate::protocol::line::{parse, Frame};
use crate::record::Record;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

pub(super) const SAMPLE: &str =
    "hans falcon*solo\nyoda wise\nvader sithlord**\nr2d2 c3po\nluke jedi\n";

pub(super) fn settings() -> Settings {
    Settings {
        block_duration: Duration::from_secs(60),
        timeout: Duration::from_secs(300),
        login_timeout: Duration::from_secs(60),
        heartbeat: None,
        register: true,
        replace_duplicate: false,
        max_offline: 1000,
        max_rooms: 1000,
        max_rooms_per_user: 10,
        max_guest_rooms: 2,
        max_list: 100,
        delivery_budget: 1 << 18,
        max_held: 1 << 20,
        presence: true,
        history: 100,
        plain_credentials: false,
        max_accounts: 100,
        register_rate: 0,
        max_offline_bytes: 1 << 20,
        limit_loopback: true,
        hash_cost: 3,
        login_fail_rate: 0,
        operators: vec!["YODA".into(), "ann".into()],
    }
}

/// A core at simulated time, with helpers that read like a transcript.
pub(super) struct Sim {
    pub(super) chat: Chat,
    pub(super) t0: Instant,
    /// Output per connection since the last `take`.
    pub(super) out: HashMap<usize, String>,
    pub(super) closed: Vec<(usize, &'static str)>,
    /// What the simulated store answers to the next commit.
    pub(super) store_ok: bool,
    pub(super) committed: Vec<Record>,
    /// Connections the core asked to hear about once their output is written.
    pub(super) notify: Vec<usize>,
    /// `Action::WhenWritten` markers not yet reported back.
    pub(super) written: Vec<(ConnId, u64)>,
    /// Report every marker as written at once (the kernel took all output).
    pub(super) write_through: bool,
    /// Connections the core said are ready for input again after a password hash (issue 21).
    pub(super) resumed: Vec<usize>,
    /// Every event sent, by connection (issue 22: most of modern IRC's events have no line
    /// form, so `out` cannot show them).
    pub(super) events: Vec<(usize, Event)>,
    /// Connections subscribed to announcements (issue 20), as the loop keeps them.
    pub(super) subscribed: Vec<ConnId>,
}

impl Sim {
    pub(super) fn new() -> Sim {
        Sim::with(settings())
    }

    pub(super) fn with(s: Settings) -> Sim {
        Sim::with_accounts(s, SAMPLE)
    }

    /// A core whose credentials.txt is `accounts`.
    pub(super) fn with_accounts(s: Settings, accounts: &str) -> Sim {
        let t0 = Instant::now();
        let creds = Credentials::parse(accounts).expect("credentials parse");
        Sim {
            chat: Chat::new(
                s,
                creds,
                Now {
                    mono: t0,
                    wall: SystemTime::UNIX_EPOCH,
                },
                [9; 32],
            ),
            t0,
            out: HashMap::new(),
            closed: Vec::new(),
            subscribed: Vec::new(),
            store_ok: true,
            committed: Vec::new(),
            notify: Vec::new(),
            written: Vec::new(),
            resumed: Vec::new(),
            events: Vec::new(),
            write_through: true,
        }
    }

    pub(super) fn at(&self, secs: u64) -> Now {
        Now {
            mono: self.t0,
            wall: SystemTime::UNIX_EPOCH,
        }
        .after(Duration::from_secs(secs))
    }

    pub(super) fn id(k: usize) -> ConnId {
        ConnId::new(u32::try_from(k).unwrap(), 1)
    }

    /// What the loop does after each batch of input: commit, then perform actions.
    pub(super) fn settle(&mut self) {
        // As the loop does each iteration (issue 21): a slice of the waiting password hashes.
        if self.chat.has_work() {
            let now = self.at(0);
            self.chat.handle_work(now);
        }
        // Cluster mode: records go to the stream (`take_batch`, the test's `Nodes::flush`), as
        // the loop's `cluster_commit` sends them, never to a store.
        let clustered = self.chat.clustered();
        if !clustered && !self.chat.pending_records().is_empty() {
            if self.store_ok {
                self.committed
                    .extend_from_slice(self.chat.pending_records());
            }
            let now = self.at(0);
            self.chat.handle_commit(self.store_ok, now);
        }
        for a in self.chat.drain_actions() {
            match a {
                Action::Send(id, e) => {
                    self.events.push((id.slot(), e.clone()));
                    self.out
                        .entry(id.slot())
                        .or_default()
                        .push_str(&text::to_string(&e))
                }
                Action::Share(e, ids) => {
                    for id in ids {
                        self.events.push((id.slot(), e.event.clone()));
                        self.out
                            .entry(id.slot())
                            .or_default()
                            .push_str(&text::to_string(&e.event));
                    }
                }
                Action::Close(id) => self.closed.push((id.slot(), "now")),
                Action::CloseAfterFlush(id) => self.closed.push((id.slot(), "after flush")),
                Action::NotifyWhenFlushed(id) => self.notify.push(id.slot()),
                Action::WhenWritten(id, marker) => self.written.push((id, marker)),
                Action::Resume(id) => self.resumed.push(id.slot()),
                Action::Announce(e, except) => {
                    for id in self.subscribed.iter().filter(|id| !except.contains(id)) {
                        self.out
                            .entry(id.slot())
                            .or_default()
                            .push_str(&text::to_string(&e.event));
                    }
                }
                Action::Subscribe(id) => {
                    if !self.subscribed.contains(&id) {
                        self.subscribed.push(id);
                    }
                }
                Action::Unsubscribe(id) => self.subscribed.retain(|s| *s != id),
            }
        }
        if self.write_through {
            let now = self.at(0);
            for (id, marker) in std::mem::take(&mut self.written) {
                self.chat.handle_written(id, marker, now);
            }
            if !clustered && !self.chat.pending_records().is_empty() {
                self.settle();
            }
        }
    }

    pub(super) fn connect(&mut self, k: usize, secs: u64) {
        let now = self.at(secs);
        self.chat
            .handle_connect(Sim::id(k), None, LoginStyle::Dialog.into(), now);
        self.settle();
    }

    pub(super) fn line(&mut self, k: usize, line: &str, secs: u64) {
        let now = self.at(secs);
        let id = Sim::id(k);
        let input = parse(Frame::Line(line), self.chat.expects(id));
        self.chat.handle_input(id, input, now);
        self.settle();
    }

    /// Several users' lines in one loop iteration: all handled, then one commit (races with
    /// a commit that fails or with a login, found at stop 33).
    pub(super) fn lines_at_once(&mut self, lines: &[(usize, &str)], secs: u64) {
        let now = self.at(secs);
        for &(k, line) in lines {
            let id = Sim::id(k);
            let input = parse(Frame::Line(line), self.chat.expects(id));
            self.chat.handle_input(id, input, now);
        }
        self.settle();
    }

    pub(super) fn tick(&mut self, secs: u64) {
        let now = self.at(secs);
        self.chat.handle_timeout(now);
        self.settle();
    }

    pub(super) fn disconnect(&mut self, k: usize, secs: u64) {
        let now = self.at(secs);
        self.chat.handle_disconnect(Sim::id(k), now);
        self.settle();
    }

    /// Everything sent to `k` since the last call.
    pub(super) fn take(&mut self, k: usize) -> String {
        self.out.remove(&k).unwrap_or_default()
    }

    /// Connect `k` and log in as `user` at `secs`, discarding the dialog.
    pub(super) fn login(&mut self, k: usize, user: &str, pass: &str, secs: u64) {
        self.connect(k, secs);
        self.line(k, user, secs);
        self.line(k, pass, secs);
        let got = self.take(k);
        assert!(got.contains(text::WELCOME), "{user} login failed: {got:?}");
    }

    /// Connect `k` as a password-less guest (JSON, IRC) named exactly `name` at `secs`.
    pub(super) fn guest(&mut self, k: usize, name: &str, secs: u64) {
        let now = self.at(secs);
        self.chat
            .handle_connect(Sim::id(k), None, LoginStyle::Guest.into(), now);
        let guest = Input::Guest {
            name,
            any_free: false,
        };
        self.chat.handle_input(Sim::id(k), guest, now);
        self.settle();
        let got = self.take(k);
        assert!(got.contains(text::WELCOME), "guest {name} failed: {got:?}");
    }

    /// The loop wrote everything it was asked to tell the core about.
    pub(super) fn flushed(&mut self, secs: u64) {
        let now = self.at(secs);
        for k in std::mem::take(&mut self.notify) {
            self.chat.handle_flushed(Sim::id(k), now);
        }
        self.settle();
    }

    pub(super) fn take_all(&mut self) {
        self.out.clear();
    }
}

/// hans (1), yoda (2), luke (3) logged in, their login lines taken.
pub(super) fn three() -> Sim {
    let mut s = Sim::new();
    s.login(1, "hans", "falcon*solo", 0);
    s.login(2, "yoda", "wise", 0);
    s.login(3, "luke", "jedi", 0);
    s.take_all();
    s
}
