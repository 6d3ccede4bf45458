//! The core driven by arbitrary (connection, input, time step) sequences, as the loop drives
//! it: inputs, timeouts, disconnects, commits that succeed or fail, flush and write reports.
//! Invariants after every step: no panic, each online user has exactly one live session, and
//! what one step queues for a connection is bounded. At some steps and at the end: the state a
//! compaction would freeze equals the replay of the records committed so far, and a state
//! frozen earlier still equals the replay of what was committed when it was frozen, however
//! the live state changed since (copy-on-write, issue 8).

#![no_main]

use chatserver::chat::{Action, Chat, Frozen, LoginStyle, Settings};
use chatserver::protocol::line::{parse, Frame};
use chatserver::protocol::line::text as line_text;
use chatserver::credentials::Credentials;
use chatserver::record::Record;
use chatserver::session::ConnId;
use chatserver::time::Now;
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

const SAMPLE: &str = "hans falcon*solo\nyoda wise\nluke jedi\n";
/// Words the fuzzer's lines are built from, so it reaches deep states quickly.
const WORDS: [&str; 26] = [
    "hans",
    "yoda",
    "luke",
    "ann",
    "wise",
    "jedi",
    "falcon*solo",
    "pw",
    "login",
    "register",
    "message",
    "broadcast",
    "whoelse",
    "whoelsesince",
    "block",
    "unblock",
    "logout",
    "exit",
    "help",
    "startprivate",
    "y",
    "n",
    "private",
    "10",
    "set-profile",
    "job",
];
const STEP_OUTPUT_BOUND: usize = 4 << 20;

fn settings() -> Settings {
    Settings {
        block_duration: Duration::from_secs(60),
        timeout: Duration::from_secs(300),
        login_timeout: Duration::from_secs(60),
        heartbeat: Some(Duration::from_secs(120)),
        register: true,
        replace_duplicate: false,
        max_offline: 50,
        max_rooms: 4,
        delivery_budget: 64,
        presence: true,
        history: 20,
        plain_credentials: false,
        max_accounts: 8,
        register_rate: 5,
        max_offline_bytes: 4096,
        limit_loopback: true,
    }
}

struct World {
    chat: Chat,
    now: Now,
    live: HashSet<ConnId>,
    store_ok: bool,
    notify: Vec<ConnId>,
    written: Vec<(ConnId, u64)>,
    /// What the journal holds: every record of a successful commit.
    committed: Vec<Record>,
    /// A state frozen earlier, and how many records were committed then.
    frozen: Option<(Frozen, usize)>,
}

/// A state's durable records in a comparable order. Lockouts aside: one that expired is
/// lifted in memory by its timer, while its record stays in the journal.
fn durable(frozen: Frozen) -> Vec<Record> {
    let mut records = frozen.into_sorted_records();
    records.retain(|r| !matches!(r, Record::Lockout { .. }));
    records
}

impl World {
    /// The state the first `n` committed records replay to.
    fn replayed(&self, n: usize) -> Vec<Record> {
        let Ok(creds) = Credentials::parse(SAMPLE) else {
            return Vec::new();
        };
        let mut chat = Chat::new(settings(), creds, self.now, [7; 32]);
        for r in &self.committed[..n] {
            chat.replay(r.clone());
        }
        durable(chat.freeze())
    }

    /// Check the state frozen last, then freeze the current one.
    fn check_freeze(&mut self) {
        if let Some((frozen, n)) = self.frozen.take() {
            assert_eq!(durable(frozen), self.replayed(n), "a frozen state changed");
        }
        let now = durable(self.chat.freeze());
        assert_eq!(
            now,
            self.replayed(self.committed.len()),
            "memory differs from the journal"
        );
        self.frozen = Some((self.chat.freeze(), self.committed.len()));
    }

    fn settle(&mut self) {
        for _ in 0..8 {
            if !self.chat.pending_records().is_empty() {
                if self.store_ok {
                    let records = self.chat.pending_records().iter().cloned();
                    self.committed.extend(records);
                }
                self.chat.handle_commit(self.store_ok, self.now);
            }
            let mut out = std::collections::HashMap::<ConnId, usize>::new();
            let actions: Vec<Action> = self.chat.drain_actions().collect();
            for a in actions {
                match a {
                    Action::Send(id, e) => {
                        assert!(self.live.contains(&id), "output for a closed connection");
                        *out.entry(id).or_default() += line_text::to_string(&e).len();
                    }
                    Action::Share(e, ids) => {
                        for id in ids {
                            assert!(self.live.contains(&id), "fan-out to a closed connection");
                            *out.entry(id).or_default() += line_text::to_string(&e.event).len();
                        }
                    }
                    Action::Close(id) | Action::CloseAfterFlush(id) => {
                        if self.live.remove(&id) {
                            self.chat.handle_disconnect(id, self.now);
                        }
                    }
                    Action::NotifyWhenFlushed(id) => self.notify.push(id),
                    Action::WhenWritten(id, m) => self.written.push((id, m)),
                }
            }
            assert!(
                out.values().all(|&n| n < STEP_OUTPUT_BOUND),
                "unbounded output"
            );
            if self.chat.pending_records().is_empty() {
                break;
            }
        }
        let users = self.chat.console_users(self.now);
        let names: HashSet<_> = users.iter().map(|u| u.name.clone()).collect();
        assert_eq!(names.len(), users.len(), "a user online twice");
        assert_eq!(
            users.len(),
            self.chat.online_count(),
            "online without a session"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(creds) = Credentials::parse(SAMPLE) else {
        return;
    };
    let now = Now {
        mono: Instant::now(),
        wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    };
    let mut w = World {
        chat: Chat::new(settings(), creds, now, [7; 32]),
        now,
        live: HashSet::new(),
        store_ok: true,
        notify: Vec::new(),
        written: Vec::new(),
        committed: Vec::new(),
        frozen: None,
    };
    let mut gen = 0u32;
    let mut ops = data.chunks(4);
    while let Some(op) = ops.next() {
        let [kind, slot, a, b] = [0, 1, 2, 3].map(|i| op.get(i).copied().unwrap_or(0));
        // A live connection in that slot, or (sometimes) a stale id of an earlier tenant.
        let id = w
            .live
            .iter()
            .copied()
            .find(|c| c.slot == usize::from(slot % 6) && slot & 0x80 == 0)
            .unwrap_or(ConnId::new(usize::from(slot % 6), gen.wrapping_sub(2)));
        match kind % 8 {
            0 => {
                // The loop never reuses a slot while its connection lives.
                if w.live.iter().any(|c| c.slot == usize::from(slot % 6)) {
                    continue;
                }
                gen = gen.wrapping_add(2);
                let id = ConnId::new(usize::from(slot % 6), gen);
                w.live.insert(id);
                w.chat.handle_connect(id, None, LoginStyle::Dialog, w.now);
            }
            1 | 2 => {
                if !w.live.contains(&id) {
                    continue;
                }
                let line = format!(
                    "{} {} {}",
                    WORDS[usize::from(a) % WORDS.len()],
                    WORDS[usize::from(b) % WORDS.len()],
                    WORDS[usize::from(a ^ b) % WORDS.len()]
                );
                let line = &line[..line.len() - usize::from(kind >> 6).min(line.len())];
                let input = parse(Frame::Line(line), w.chat.expects(id));
                w.chat.handle_input(id, input, w.now);
            }
            3 => {
                if w.live.remove(&id) {
                    w.chat.handle_disconnect(id, w.now);
                }
            }
            4 => {
                w.now = w.now.after(Duration::from_secs(u64::from(a) * 4));
                w.chat.handle_timeout(w.now);
            }
            5 => {
                w.store_ok = a % 4 != 0;
                if b % 4 == 0 {
                    w.check_freeze();
                }
            }
            6 => {
                for id in std::mem::take(&mut w.notify) {
                    w.chat.handle_flushed(id, w.now);
                }
            }
            _ => {
                for (id, m) in std::mem::take(&mut w.written) {
                    w.chat.handle_written(id, m, w.now);
                }
            }
        }
        w.settle();
    }
    w.check_freeze();
    w.check_freeze();
});
