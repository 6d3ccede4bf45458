//! The core driven by arbitrary (connection, input, time step) sequences, as the loop drives
//! it, through all four front-ends: line clients, IRC clients (guests and `PASS` logins, SASL
//! after registration, nick changes: channels, modes, kicks, topics, names, lists), seed-002
//! JSON guests and events-protocol clients, each decoded by its own codec and every event
//! rendered by the recipient's codec. Inputs, timeouts, disconnects,
//! commits that succeed or fail, flush and write reports.
//!
//! Invariants after every step: no panic, each online user has exactly one live session, and
//! what one step queues for a connection is bounded. At some steps and at the end: the state a
//! compaction would freeze equals the replay of the records committed so far (rooms and all
//! their settings included, issue 17), and a state frozen earlier still equals the replay of
//! what was committed when it was frozen, however the live state changed since.

#![no_main]

use chatserver::chat::{Action, Chat, Frozen, Settings};
use chatserver::credentials::Credentials;
use chatserver::event::{Event, Ticket};
use chatserver::input::{Expect, Input};
use chatserver::protocol::irc::IrcOptions;
use chatserver::protocol::{Protocol, ProtocolKind, ProtocolOptions, Sink};
use chatserver::record::Record;
use chatserver::session::ConnId;
use chatserver::time::Now;
use libfuzzer_sys::fuzz_target;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

const SAMPLE: &str = "hans falcon*solo\nyoda wise\nluke jedi\n";
/// Words the line protocol's lines are built from, so it reaches deep states quickly.
const WORDS: [&str; 40] = [
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
    "private",
    "10",
    "set-profile",
    "job",
    "open-chatroom",
    "enter-chatroom",
    "/exit-chatroom",
    "/ban-user",
    "/permit-user",
    "/kick-user",
    "close-chatroom",
    "set-topic",
    "list-chatroom",
    "den",
    "Den",
    "k3y",
    "public",
    "private",
    "history",
];
/// IRC lines, with `{a}`/`{b}` filled from [`IRC_ARGS`].
const IRC: [&str; 25] = [
    "NICK {a}\r\nUSER {a} 0 * :{b}",
    "NICK {a}",
    // SASL after registration (issue 22): a guest logs in to an account, or fails (three
    // failures lock it and close the guest: found by tests/chaos at stop 30).
    "CAP REQ :sasl\r\nAUTHENTICATE PLAIN\r\nAUTHENTICATE eW9kYQB5b2RhAHdpc2U=",
    "AUTHENTICATE PLAIN\r\nAUTHENTICATE eW9kYQB5b2RhAG5vcGU=",
    "AUTHENTICATE PLAIN\r\nAUTHENTICATE aGFucwBoYW5zAG5vcGU=",
    "INVITE {a} #{b}\r\nAWAY :{b}",
    "PASS {b}\r\nNICK {a}\r\nUSER u 0 * :r",
    "JOIN #{a}",
    "JOIN #{a},#{b} {b}",
    "JOIN 0",
    "PART #{a} :{b}",
    "PRIVMSG #{a} :{b}",
    "NOTICE #{a} :{b}",
    "PRIVMSG {a} :{b}",
    "MODE #{a} +kst {b}",
    "MODE #{a} +b {b}",
    "MODE #{a} -b+o {b} {a}",
    "MODE #{a} +vv-ik {a} {b} x",
    "MODE #{a}",
    "MODE #{a} +b",
    "TOPIC #{a} :{b}",
    "KICK #{a} {b} :out",
    "NAMES #{a}",
    "WHO #{a}\r\nWHOIS {b}\r\nLIST",
    "QUIT :{b}",
];
const IRC_ARGS: [&str; 12] = [
    "den", "Den", "yoda", "hans", "wise", "jedi", "*!*@*", "a b", "x\x01y", "eve", "k,k", "",
];
/// JSON objects, with `{a}` filled from [`IRC_ARGS`].
const JSON: [&str; 5] = [
    r#"{"msgType": "<first>", "content": "{a}"}"#,
    r#"{"msgType": "<list>", "content": ""}"#,
    r#"{"msgType": "<private>", "content": "hi\n{a}", "target": "{a}"}"#,
    r#"{"msgType": "<announce>", "content": "{a}"}"#,
    r#"{"msgType": "<quit>", "content": ""}"#,
];
/// Events-protocol requests (issue 19, one per line as on `--events-port`), with `{a}`/`{b}`
/// filled from [`IRC_ARGS`].
const EVENTS: [&str; 10] = [
    r#"{"type":"login","user":"{a}","password":"{b}"}"#,
    r#"{"type":"register","user":"{a}","password":"{b}"}"#,
    r#"{"type":"guest","name":"{a}"}"#,
    r#"{"type":"message","to":"{a}","text":"{b}","kind":"action"}"#,
    r#"{"type":"room_join","room":"{a}","create":true}"#,
    r#"{"type":"room_say","room":"{a}","text":"{b}"}"#,
    r#"{"type":"room_change","room":"{a}","changes":[{"change":"op","user":"{b}","on":true},{"change":"key","key":"{b}"}]}"#,
    r#"{"type":"room_kick","room":"{a}","user":"{b}"}"#,
    r#"{"type":"rename","name":"{a}"}"#,
    r#"{"type":"logout"}"#,
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
        max_rooms_per_user: 3,
        max_guest_rooms: 2,
        max_list: 3,
        delivery_budget: 64,
        max_held: 4096,
        presence: true,
        history: 20,
        plain_credentials: false,
        max_accounts: 8,
        register_rate: 5,
        max_offline_bytes: 4096,
        limit_loopback: true,
        hash_cost: 3,
        login_fail_rate: 0,
        operators: vec!["yoda".into()],
    }
}

/// The core behind one connection, as its codec's sink (the loop's `CoreSink`).
struct CoreSink<'a> {
    chat: &'a mut Chat,
    id: ConnId,
    now: Now,
}

impl Sink for CoreSink<'_> {
    fn expects(&self) -> Expect {
        self.chat.expects(self.id)
    }
    fn input(&mut self, input: Input<'_>) {
        self.chat.handle_input(self.id, input, self.now);
    }
    fn reserve(&mut self, ticket: Ticket) {
        self.chat.reply(self.id, Event::Reserved(ticket));
    }
}

struct World {
    chat: Chat,
    now: Now,
    /// Live connections and their codecs.
    live: HashMap<ConnId, Protocol>,
    store_ok: bool,
    notify: Vec<ConnId>,
    written: Vec<(ConnId, u64)>,
    /// What the journal holds: every record of a successful commit.
    committed: Vec<Record>,
    /// A state frozen earlier, and how many records were committed then.
    frozen: Option<(Frozen, usize)>,
    /// Connections that get announcements (presence lines, issue 20).
    subscribed: Vec<ConnId>,
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

    /// Render `event` with `id`'s codec; its length.
    fn render(&mut self, id: ConnId, event: &Event) -> usize {
        let Some(codec) = self.live.get_mut(&id) else {
            panic!("output for a closed connection");
        };
        let mut out = Vec::new();
        codec.encode(event, 1_700_000_000_000, &mut out);
        out.len()
    }

    fn close(&mut self, id: ConnId) {
        self.subscribed.retain(|s| *s != id);
        if self.live.remove(&id).is_some() {
            self.chat.handle_disconnect(id, self.now);
        }
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
            let mut out = HashMap::<ConnId, usize>::new();
            let actions: Vec<Action> = self.chat.drain_actions().collect();
            let mut closing = Vec::new();
            for a in actions {
                match a {
                    Action::Send(id, e) => *out.entry(id).or_default() += self.render(id, &e),
                    Action::Share(e, ids) => {
                        for id in ids {
                            *out.entry(id).or_default() += self.render(id, &e.event);
                        }
                    }
                    Action::Close(id) | Action::CloseAfterFlush(id) => closing.push(id),
                    Action::NotifyWhenFlushed(id) => self.notify.push(id),
                    Action::WhenWritten(id, m) => self.written.push((id, m)),
                    // Input is fed whole here: nothing waits to be read again.
                    Action::Resume(_) => {}
                    Action::Announce(e, except) => {
                        let to: Vec<ConnId> = self
                            .subscribed
                            .iter()
                            .copied()
                            .filter(|id| !except.contains(id) && self.live.contains_key(id))
                            .collect();
                        for id in to {
                            *out.entry(id).or_default() += self.render(id, &e.event);
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
            for id in closing {
                self.close(id);
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

    /// Feed `bytes` to `id`'s codec, as the loop's read does.
    fn feed(&mut self, id: ConnId, bytes: &[u8]) {
        let Some(mut codec) = self.live.remove(&id) else {
            return;
        };
        let mut sink = CoreSink {
            chat: &mut self.chat,
            id,
            now: self.now,
        };
        codec.decode(bytes, 512, &mut sink);
        self.live.insert(id, codec);
    }
}

fn fill(template: &str, a: u8, b: u8) -> String {
    template
        .replace("{a}", IRC_ARGS[usize::from(a) % IRC_ARGS.len()])
        .replace("{b}", IRC_ARGS[usize::from(b) % IRC_ARGS.len()])
}

fuzz_target!(|data: &[u8]| {
    let Ok(creds) = Credentials::parse(SAMPLE) else {
        return;
    };
    let now = Now {
        mono: Instant::now(),
        wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    };
    let options = ProtocolOptions {
        irc: Arc::new(IrcOptions {
            guests: true,
            max_list: 3,
            ..IrcOptions::default()
        }),
    };
    let mut w = World {
        chat: Chat::new(settings(), creds, now, [7; 32]),
        now,
        live: HashMap::new(),
        store_ok: true,
        notify: Vec::new(),
        written: Vec::new(),
        committed: Vec::new(),
        frozen: None,
        subscribed: Vec::new(),
    };
    let mut gen = 0u32;
    let mut ops = data.chunks(4);
    while let Some(op) = ops.next() {
        let [kind, slot, a, b] = [0, 1, 2, 3].map(|i| op.get(i).copied().unwrap_or(0));
        // A live connection in that slot, or (sometimes) a stale id of an earlier tenant.
        let id = w
            .live
            .keys()
            .copied()
            .find(|c| c.slot() == usize::from(slot % 6) && slot & 0x80 == 0)
            .unwrap_or(ConnId::new(u32::from(slot % 6), gen.wrapping_sub(2)));
        match kind % 8 {
            0 => {
                // The loop never reuses a slot while its connection lives.
                if w.live.keys().any(|c| c.slot() == usize::from(slot % 6)) {
                    continue;
                }
                gen = gen.wrapping_add(2);
                let id = ConnId::new(u32::from(slot % 6), gen);
                let codec_kind = match a % 4 {
                    0 => ProtocolKind::Line,
                    1 => ProtocolKind::Irc,
                    2 => ProtocolKind::Json,
                    _ => ProtocolKind::Events,
                };
                let codec = Protocol::new(codec_kind, &options);
                // As the loop connects it: the login style and the rule for messages to self
                // are the front-end's.
                w.chat.handle_connect(id, None, codec.front(), w.now);
                w.live.insert(id, codec);
            }
            1 | 2 => {
                let Some(codec_kind) = w.live.get(&id).map(Protocol::kind) else {
                    continue;
                };
                let bytes = match codec_kind {
                    ProtocolKind::Line => {
                        let line = format!(
                            "{} {} {}",
                            WORDS[usize::from(a) % WORDS.len()],
                            WORDS[usize::from(b) % WORDS.len()],
                            WORDS[usize::from(a ^ b) % WORDS.len()]
                        );
                        let cut = usize::from(kind >> 6).min(line.len());
                        let line = line.get(..line.len() - cut).unwrap_or(&line).to_string();
                        format!("{line}\n")
                    }
                    ProtocolKind::Irc => {
                        let line = fill(IRC[usize::from(kind >> 3) % IRC.len()], a, b);
                        format!("{line}\r\n")
                    }
                    ProtocolKind::Json => fill(JSON[usize::from(kind >> 3) % JSON.len()], a, b),
                    ProtocolKind::Events => {
                        let line = fill(EVENTS[usize::from(kind >> 3) % EVENTS.len()], a, b);
                        format!("{line}\n")
                    }
                };
                w.feed(id, bytes.as_bytes());
            }
            3 => w.close(id),
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
