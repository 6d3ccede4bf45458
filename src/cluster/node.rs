//! The loop's side of cluster mode: four Redis connections in the server's poll (commands,
//! the stream tail with `XREAD BLOCK`, the subscriber and the publisher of live traffic, these
//! two on `--cluster-live`'s Redis when given), each a [`Link`], and
//! what the loop asks of them: send the iteration's batch, apply what the tail read, forward
//! and receive live events, keep this node's liveness key fresh and notice dead nodes.

use super::claim::{Ask, Claim, CLAIM_SCRIPT, REFRESH_SCRIPT};
use super::journal::{self, StreamId};
use super::lapse::{Lapse, Step};
use super::lazy::Lazy;
use super::link::{Link, Phase, Setup};
use super::live::{self, Target};
use super::resp::{text, Frame};
use super::snapshot::{self, Load, Writing};
use crate::chat::Chat;
use crate::chat::Forward;
use crate::config::ClusterOptions;
use crate::event::Event;
use crate::record::Record;
use crate::time::Now;
use crate::transport::{ClientTls, Plain, Received, Transport};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which connection: the index into `Node::conns` and the poll token offset.
pub const CMD: usize = 0;
pub const TAIL: usize = 1;
pub const SUB: usize = 2;
/// `PUBLISH`es, apart from the command link: with `--cluster-live` they go to a Redis that
/// never stops for an fsync.
pub const PUB: usize = 3;
pub const LINKS: usize = 4;

/// Entries per `XREAD`: bounds one iteration's replay work (history-only entries hold at most
/// [`super::lazy::LAZY_ENTRY_RECORDS`] records; other entries are one iteration's commands).
/// The loop serves clients between one reply and the next.
const READ_COUNT: &str = "16";
/// While entries arrive, the position in the liveness key is refreshed at most this often
/// (a `SET` is a write: an fsync in Redis too).
const POSITION_EVERY: Duration = Duration::from_secs(1);
/// Records applied per loop iteration at most (whole entries, at least one): a reply of 16
/// history entries (4,096 records) applied at once took one iteration 10-25 ms of CPU on
/// each node at 10,000 DMs/s, and live messages waited behind it.
pub const APPLY_RECORDS: usize = 1024;
/// `XREAD BLOCK` times out this often, so a silently dead connection is noticed.
const BLOCK_MS: &str = "5000";

/// What a request was, to route its reply.
#[derive(Debug)]
pub enum Tag {
    Xadd(u64),
    /// A `node-down` record (no batch of ours waits for it).
    Note,
    Xread,
    /// `XINFO STREAM`: were entries past this node's position trimmed (`lapse.rs`)?
    Info,
    /// The stream's last id when the command link came up: catch up to it.
    LastId,
    /// The liveness key's refresh (with the owner key's), sent then.
    Refresh(Instant),
    /// The claim of the liveness key at start-up (`claim.rs`), and its `PTTL` when another
    /// holds it.
    Claim,
    ClaimTtl,
    Exists(Arc<str>),
    Publish,
    Subscribe,
    // Snapshots (`snapshot.rs`).
    SnapGet,
    SnapRange,
    SnapLock,
    SnapPush,
    SnapPoint,
    SnapPrev,
    SnapNodes,
    SnapMin,
}

#[derive(Debug)]
struct Conn {
    link: Link<Tag>,
    /// The socket under its transport: plain, or TLS for `rediss://` (whose handshake runs
    /// in the first reads; what the link queued meanwhile waits in the link).
    transport: Option<Transport>,
}

/// The Redis keys of one cluster.
#[derive(Debug)]
struct Keys {
    prefix: String,
    journal: String,
}

impl Keys {
    fn live(&self, node: &str) -> String {
        format!("{}:live:{node}", self.prefix)
    }
    /// The channel every node hears (room lines, broadcasts).
    fn live_all(&self) -> String {
        format!("{}:live", self.prefix)
    }
    fn node(&self, node: &str) -> String {
        format!("{}:node:{node}", self.prefix)
    }
    /// Beside the liveness key: the owner token of the node that set it (`claim.rs`).
    fn owner(&self, node: &str) -> String {
        format!("{}:owner:{node}", self.prefix)
    }
    fn snapshot(&self, suffix: &str) -> String {
        format!("{}:snapshot{suffix}", self.prefix)
    }
    fn nodes(&self) -> String {
        format!("{}:nodes", self.prefix)
    }
}

/// This node's part of the cluster. See the module doc.
#[derive(Debug)]
pub struct Node {
    id: Arc<str>,
    addr: SocketAddr,
    /// `rediss://`: every link speaks TLS to Redis.
    tls: Option<ClientTls>,
    /// Where the live links (`SUB`, `PUB`) connect: `--cluster-live`, else `addr` and `tls`.
    live: Option<(SocketAddr, Option<ClientTls>)>,
    keys: Keys,
    ttl: Duration,
    conns: [Conn; LINKS],
    first_token: usize,
    /// The last stream entry applied.
    applied: StreamId,
    /// History-only batches not yet sent (until they are due, or a batch that must not wait).
    lazy: Lazy,
    /// The last one applied that changed more than history: what a live message must wait
    /// for on the receiving node (history-only entries, one per DM, change nothing a
    /// receiver shows; waiting for them would put Redis's fsync on every DM's path).
    causal: StreamId,
    /// Catching up to this entry (the stream's end when the command link came up).
    target: Option<StreamId>,
    /// Batches whose fate was unknown when the command link came up: not in the stream by
    /// the time the tail reaches `target`, they never will be.
    suspects: Vec<u64>,
    /// Caught up once: clients may be served.
    ready: bool,
    /// An `XREAD` is outstanding on the tail.
    reading: bool,
    /// Live messages waiting for the tail to reach their entry.
    held: VecDeque<live::Message>,
    /// Redis unreachable since then (logged once per outage).
    down_since: Option<Instant>,
    /// The command link came up then: other nodes are judged a TTL after.
    up_since: Option<Instant>,
    refresh_at: Instant,
    /// Nodes already recorded down (until they log someone in again).
    reported: HashSet<Arc<str>>,
    /// Loading the newest snapshot at start-up.
    load: Load,
    /// The applied position is next written to the liveness key then (at the latest).
    position_at: Instant,
    /// The position last written there.
    position_sent: StreamId,
    /// The snapshot just pointed at, for the trim that follows.
    trim_covered: Option<StreamId>,
    /// A snapshot being written by this node. Its tail is read from the state itself, so
    /// meanwhile no entry is applied: what the tail reads waits in `unapplied`.
    writing: Option<Writing>,
    /// Entries read and not yet applied, applied [`APPLY_RECORDS`] at a time, one slice per
    /// iteration; the tail reads on once they are all applied.
    unapplied: VecDeque<journal::Entry>,
    /// When the last `XREAD` reply came (a past deadline while entries wait).
    read_at: Instant,
    /// The snapshot lock was asked for.
    locking: bool,
    /// Entries applied since the last snapshot began; one is due at `snapshot_every`.
    since_snapshot: u64,
    snapshot_every: u64,
    /// Whether the liveness key may have lapsed, and entries past the position been trimmed.
    lapse: Lapse,
    /// Whether this node holds its id on this Redis: nothing else is asked before it does.
    claim: Claim,
    /// This node's owner token (`token.rs`): the data directory's, or this run's own.
    token: String,
}

impl Node {
    /// A node named `id` of the cluster `opts` describes; Redis at `addr` (resolved once),
    /// over TLS when `tls` is given.
    pub fn new(
        opts: &ClusterOptions,
        id: &str,
        addr: SocketAddr,
        tls: Option<ClientTls>,
        live: Option<(SocketAddr, Option<ClientTls>)>,
        password: Option<String>,
        now: Instant,
    ) -> Node {
        let setup = Setup {
            password,
            db: opts.db,
        };
        let conn = |pushes| Conn {
            link: Link::new(setup.clone(), pushes, now),
            transport: None,
        };
        Node {
            id: Arc::from(id),
            addr,
            tls,
            live,
            keys: Keys {
                prefix: opts.prefix.clone(),
                journal: format!("{}:journal", opts.prefix),
            },
            ttl: opts.node_ttl,
            conns: [conn(false), conn(false), conn(true), conn(false)],
            first_token: 0,
            applied: StreamId::default(),
            lazy: Lazy::default(),
            causal: StreamId::default(),
            target: None,
            suspects: Vec::new(),
            ready: false,
            reading: false,
            held: VecDeque::new(),
            down_since: None,
            up_since: None,
            refresh_at: now,
            reported: HashSet::new(),
            load: Load::NotStarted,
            trim_covered: None,
            position_at: now,
            position_sent: StreamId::default(),
            writing: None,
            unapplied: VecDeque::new(),
            read_at: now,
            locking: false,
            since_snapshot: 0,
            snapshot_every: opts.snapshot_every,
            lapse: Lapse::default(),
            claim: Claim::default(),
            token: super::token::fresh(std::path::Path::new(id)),
        }
    }

    /// The owner token kept in this node's data directory (`token.rs`): a restart of this
    /// node takes its id back at once. Without it the token is this run's only.
    pub fn with_token(mut self, token: String) -> Node {
        self.token = token;
        self
    }

    /// A node that starts over in the same process (`Ended::StartOver`): it holds its id
    /// already (its liveness key is its own).
    pub fn holding_id(mut self) -> Node {
        self.claim = Claim::held();
        self
    }

    /// Another running node holds this node's id (`--node-id`): why this one must stop.
    pub fn refused(&self) -> Option<&str> {
        self.claim.refused()
    }

    /// The poll tokens of the links are `first..first + LINKS`.
    pub fn set_tokens(&mut self, first: usize) {
        self.first_token = first;
    }

    /// Caught up with the stream at least once: clients may be served.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Entries past this node's position were trimmed while it was cut off: its state misses
    /// them, and it must be rebuilt from the snapshot (the server starts over).
    pub fn is_stale(&self) -> bool {
        self.lapse.trimmed().is_some()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let links = self.conns.iter().filter_map(|c| c.link.poll_timeout());
        if !self.claim.is_held() {
            // Nothing else runs before the id is held (`handle_timeout`).
            return links.chain(self.claim.due()).min();
        }
        let position = (self.applied != self.position_sent).then_some(self.position_at);
        // A snapshot is written a step per iteration, one after the other.
        let writing = self
            .writing
            .as_ref()
            .filter(|_| self.conns[CMD].link.is_up())
            .map(|w| w.began);
        // Entries read and waiting: applied a slice per iteration, without sleeping.
        let unapplied =
            (!self.unapplied.is_empty() && self.writing.is_none()).then_some(self.read_at);
        links
            .chain(writing)
            .chain(unapplied)
            .chain(std::iter::once(self.refresh_at))
            .chain(self.claim.due())
            .chain(position)
            .chain(self.lazy.due())
            .min()
    }

    /// Reconnect what is down, refresh the liveness key, judge other nodes.
    pub fn handle_timeout(&mut self, registry: &Registry, chat: &mut Chat, now: Now) {
        for i in 0..LINKS {
            if self.conns[i].link.wants_connect(now.mono) {
                self.connect(i, registry, chat, now);
            }
        }
        if self.conns[CMD].link.is_up() && self.claim.ask(now.mono) == Ask::Claim {
            self.ask_claim();
        }
        if !self.claim.is_held() {
            return;
        }
        self.apply_slice(chat, now);
        if self.lazy.due().is_some_and(|due| now.mono >= due) {
            self.send_batches(chat, None);
        }
        if self.applied != self.position_sent && now.mono >= self.position_at {
            self.set_position(now.mono);
        }
        if now.mono >= self.refresh_at {
            self.refresh_at = now.mono + self.ttl / 3;
            self.refresh(chat, now.mono);
        }
    }

    /// Refresh this node's liveness key, and its owner key with it (`claim.rs`). Its value
    /// is the last entry applied: a snapshot's trim never cuts what a live node still needs.
    fn set_position(&mut self, now: Instant) {
        self.position_at = now + POSITION_EVERY;
        self.position_sent = self.applied;
        let args = self.liveness_args(REFRESH_SCRIPT);
        self.conns[CMD].link.send(&args, Tag::Refresh(now));
    }

    /// `EVAL script 2 <liveness key> <owner key> <position> <token> <ttl ms>`.
    fn liveness_args(&self, script: &str) -> [String; 8] {
        [
            "EVAL".to_string(),
            script.to_string(),
            "2".to_string(),
            self.keys.node(&self.id),
            self.keys.owner(&self.id),
            self.applied.to_string(),
            self.token.clone(),
            self.ttl.as_millis().to_string(),
        ]
    }

    fn refresh(&mut self, chat: &Chat, now: Instant) {
        self.set_position(now);
        if self.trim_covered.is_some() {
            // The trim after our last snapshot waits for the slowest live node: try again.
            let nodes = self.keys.nodes();
            self.conns[CMD]
                .link
                .send(&["SMEMBERS", nodes.as_str()], Tag::SnapNodes);
        }
        let cmd = &mut self.conns[CMD].link;
        // After an outage every key may have expired: give the others a TTL to refresh.
        let judge = self.up_since.is_some_and(|t| now >= t + self.ttl);
        if !judge {
            return;
        }
        for node in chat.nodes_with_users() {
            if *node != *self.id && !self.reported.contains(&node) {
                let key = self.keys.node(&node);
                cmd.send(&["EXISTS", key.as_str()], Tag::Exists(node));
            }
        }
    }

    fn connect(&mut self, i: usize, registry: &Registry, chat: &mut Chat, now: Now) {
        let token = Token(self.first_token + i);
        let (addr, tls) = match &self.live {
            Some((addr, tls)) if i == SUB || i == PUB => (*addr, tls),
            _ => (self.addr, &self.tls),
        };
        let result = TcpStream::connect(addr).and_then(|s| {
            let mut t = match tls {
                Some(tls) => tls.connect(s)?,
                None => Transport::Plain(Plain::new(s)),
            };
            registry.register(t.socket(), token, Interest::READABLE | Interest::WRITABLE)?;
            Ok(t)
        });
        match result {
            Ok(t) => {
                self.conns[i].transport = Some(t);
                self.conns[i].link.handle_connecting();
            }
            Err(e) => self.down(i, registry, chat, &e.to_string(), now),
        }
    }

    /// A poll event for link `i`.
    pub fn ready(
        &mut self,
        i: usize,
        event: &mio::event::Event,
        registry: &Registry,
        chat: &mut Chat,
        now: Now,
    ) {
        if i >= LINKS || self.conns[i].transport.is_none() {
            return;
        }
        if self.conns[i].link.phase() == Phase::Connecting
            && (event.is_writable() || event.is_error())
        {
            let connected = self.conns[i]
                .transport
                .as_mut()
                .map(|t| (t.socket().take_error(), t.socket().peer_addr()));
            match connected {
                Some((Ok(None), Ok(_))) => {
                    let _ = self.conns[i]
                        .transport
                        .as_mut()
                        .map(|t| t.socket().set_nodelay(true));
                    self.conns[i].link.handle_connected();
                    self.link_up(i, chat, now);
                }
                Some((Ok(Some(e)) | Err(e), _)) => {
                    return self.down(i, registry, chat, &e.to_string(), now)
                }
                Some((_, Err(e))) if e.kind() == io::ErrorKind::NotConnected => return,
                Some((_, Err(e))) => return self.down(i, registry, chat, &e.to_string(), now),
                None => return,
            }
        }
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            self.read(i, registry, chat, now);
        }
    }

    /// The liveness key's first `SET`, if nobody holds it or an earlier run of this node
    /// left it (`claim.rs`).
    fn ask_claim(&mut self) {
        let args = self.liveness_args(CLAIM_SCRIPT);
        self.conns[CMD].link.send(&args, Tag::Claim);
    }

    /// Link `i` is up: what each one starts with.
    fn link_up(&mut self, i: usize, chat: &mut Chat, now: Now) {
        match i {
            CMD if !self.claim.is_held() => {
                self.up_since = Some(now.mono);
                if self.claim.ask(now.mono) == Ask::Claim {
                    self.ask_claim();
                }
            }
            CMD => self.command_link_up(chat, now),
            TAIL => {
                self.reading = false;
                self.read_more(now.mono);
            }
            SUB => {
                let (own, all) = (self.keys.live(&self.id), self.keys.live_all());
                self.conns[SUB]
                    .link
                    .send(&["SUBSCRIBE", own.as_str(), all.as_str()], Tag::Subscribe);
            }
            _ => {} // PUB: what is published while it is down is lost, as on a dropped link.
        }
        if self.conns.iter().all(|c| c.link.is_up()) {
            if let Some(since) = self.down_since.take() {
                log::warn!(
                    "cluster: Redis at {} reachable again after {:.1} s",
                    self.addr,
                    since.elapsed().as_secs_f64()
                );
            }
        }
    }

    /// The command link is up and the id held: load, catch up, refresh the liveness key.
    fn command_link_up(&mut self, chat: &mut Chat, now: Now) {
        self.up_since = Some(now.mono);
        let (nodes, id) = (self.keys.nodes(), self.id.clone());
        let cmd = &mut self.conns[CMD].link;
        cmd.send(&["SADD", nodes.as_str(), &*id], Tag::Note);
        match self.load.clone() {
            Load::NotStarted | Load::Pointer => {
                let pointer = self.keys.snapshot("");
                cmd.send(&["GET", pointer.as_str()], Tag::SnapGet);
                self.load = Load::Pointer;
            }
            Load::Reading { key, next, .. } => self.read_snapshot(&key, next),
            Load::Done => self.ask_last_id(),
        }
        self.refresh_at = now.mono;
        // A snapshot half written when the link fell is abandoned (its lock expires).
        self.locking = false;
        self.snapshot_over(chat, now);
    }

    fn ask_last_id(&mut self) {
        let journal = self.keys.journal.clone();
        self.conns[CMD].link.send(
            &["XREVRANGE", journal.as_str(), "+", "-", "COUNT", "1"],
            Tag::LastId,
        );
    }

    fn read_snapshot(&mut self, key: &str, from: usize) {
        let (start, stop) = (
            from.to_string(),
            (from + snapshot::LOAD_COUNT - 1).to_string(),
        );
        self.conns[CMD].link.send(
            &["LRANGE", key, start.as_str(), stop.as_str()],
            Tag::SnapRange,
        );
    }

    fn read_more(&mut self, now: Instant) {
        let busy = self.writing.is_some() || !self.unapplied.is_empty();
        if self.reading || self.load != Load::Done || busy {
            return;
        }
        match self.lapse.step(self.applied, now) {
            Step::Read => {}
            Step::Wait => return,
            Step::Ask => {
                let journal = self.keys.journal.clone();
                self.reading = self.conns[TAIL]
                    .link
                    .send(&["XINFO", "STREAM", journal.as_str()], Tag::Info);
                return;
            }
        }
        let from = self.applied.to_string();
        let journal = self.keys.journal.clone();
        self.reading = self.conns[TAIL].link.send(
            &[
                "XREAD",
                "COUNT",
                READ_COUNT,
                "BLOCK",
                BLOCK_MS,
                "STREAMS",
                journal.as_str(),
                from.as_str(),
            ],
            Tag::Xread,
        );
    }

    /// Link `i` failed: back off, and note the outage once.
    fn down(&mut self, i: usize, registry: &Registry, _chat: &mut Chat, why: &str, now: Now) {
        if let Some(mut t) = self.conns[i].transport.take() {
            let _ = registry.deregister(t.socket());
        }
        // Unanswered requests: a batch's fate is learnt from the stream after reconnecting.
        let _unanswered = self.conns[i].link.handle_down(now.mono);
        if i == CMD {
            self.up_since = None;
            self.claim.link_down();
        }
        if i == TAIL {
            self.reading = false;
        }
        if self.down_since.is_none() {
            self.down_since = Some(now.mono);
            log::error!(
                "cluster: Redis at {} unreachable ({why}): changes are refused until it is back",
                self.addr
            );
        }
    }

    fn read(&mut self, i: usize, registry: &Registry, chat: &mut Chat, now: Now) {
        let mut buf = [0u8; 64 * 1024];
        // Drain until the transport has nothing more (edge-triggered: no further event is
        // guaranteed otherwise).
        loop {
            let Some(transport) = self.conns[i].transport.as_mut() else {
                return;
            };
            match transport.read(&mut buf) {
                Ok(Received::End { .. }) => {
                    return self.down(i, registry, chat, "connection closed", now)
                }
                Ok(Received::Data { len, .. }) => {
                    if let Err(e) = self.conns[i].link.handle_bytes(&buf[..len]) {
                        return self.down(i, registry, chat, &e, now);
                    }
                }
                Ok(Received::Empty) => break,
                Err(e) => return self.down(i, registry, chat, &e.to_string(), now),
            }
        }
        while let Some((tag, frame)) = self.conns[i].link.poll_reply() {
            self.reply(tag, frame, chat, now);
        }
    }

    fn reply(&mut self, tag: Option<Tag>, frame: Frame, chat: &mut Chat, now: Now) {
        let Some(tag) = tag else {
            return self.message(&frame, chat);
        };
        if let Frame::Error(e) = &frame {
            if !matches!(tag, Tag::Info) {
                // (`XINFO` of a stream not made yet is no error.)
                log::error!("cluster: Redis refused a {tag:?}: {e}");
            }
        }
        match tag {
            Tag::Xadd(batch) => {
                if matches!(frame, Frame::Error(_)) {
                    chat.lost_batch(batch);
                }
            }
            Tag::Xread => {
                self.reading = false;
                // Applied from the next `handle_timeout` on (in this iteration, unless a
                // snapshot is being written).
                self.unapplied.extend(journal::xread_entries(&frame));
                self.read_at = now.mono;
                self.read_more(now.mono);
            }
            Tag::LastId => {
                let last = journal::first_id(&frame).unwrap_or_default();
                // Batches sent before: whether they reached the stream is known once caught up.
                let unsent = self.lazy.numbers();
                self.suspects = chat.unsettled();
                self.suspects.retain(|n| !unsent.contains(n));
                self.target = Some(last);
                self.caught_up(chat, now);
            }
            Tag::Exists(node) => {
                // Judged only if Redis answered nothing late since (a stall below): a key that
                // lapsed while Redis was frozen says nothing about its node.
                let judge = self.up_since.is_some_and(|t| now.mono >= t + self.ttl);
                if judge && frame == Frame::Integer(0) {
                    log::warn!(
                        "cluster: node {node} stopped refreshing its key: recording it down"
                    );
                    self.reported.insert(node.clone());
                    let args = journal::xadd(
                        &self.keys.journal,
                        &self.id,
                        0,
                        &[vec![Record::NodeDown {
                            node: node.to_string(),
                        }]],
                    );
                    self.conns[CMD].link.send(&args, Tag::Note);
                }
            }
            Tag::Info => {
                self.reading = false;
                self.lapse.answer(&frame);
                if let Some((at, first)) = self.lapse.trimmed() {
                    log::error!(
                        "cluster: node {} was cut off from Redis longer than its TTL and the \
                         stream was trimmed past its position (applied {at}, the stream now \
                         begins at {first}): starting over from the snapshot",
                        self.id
                    );
                }
                self.read_more(now.mono);
            }
            Tag::Claim => {
                let key = self.keys.node(&self.id);
                match self.claim.set_answer(&frame, now.mono, (&self.id, &key)) {
                    Ask::Ttl => {
                        self.conns[CMD]
                            .link
                            .send(&["PTTL", key.as_str()], Tag::ClaimTtl);
                    }
                    Ask::Claim => self.ask_claim(),
                    Ask::Nothing if self.claim.is_held() => {
                        log::info!("cluster: node id {} is this node's", self.id);
                        self.command_link_up(chat, now);
                        self.read_more(now.mono);
                    }
                    Ask::Nothing => {}
                }
            }
            Tag::ClaimTtl => {
                let key = self.keys.node(&self.id);
                if self.claim.ttl_answer(&frame, now.mono, (&self.id, &key)) == Ask::Claim {
                    self.ask_claim();
                }
            }
            Tag::Refresh(sent) => {
                // Answered more than a third of a TTL late: Redis (or this node) stalled, and
                // no node could refresh its key meanwhile: as after an outage, the others get
                // a TTL to refresh before they are judged (their keys may have expired while
                // they were fine; the `EXISTS` answers queued behind this one are not judged).
                if now.mono.saturating_duration_since(sent) > self.ttl / 3 {
                    self.up_since = Some(now.mono);
                }
                if !matches!(frame, Frame::Error(_)) {
                    self.lapse.key_set(sent, self.ttl, now.mono);
                    self.read_more(now.mono);
                }
            }
            Tag::Note | Tag::Publish | Tag::Subscribe => {}
            Tag::SnapGet => match text(&frame).and_then(StreamId::parse) {
                Some(covered) => {
                    let key = self.keys.snapshot(&format!(":{covered}"));
                    log::info!("cluster: loading the snapshot at stream entry {covered}");
                    chat.adopt_snapshot_accounts();
                    self.read_snapshot(&key, 0);
                    self.load = Load::Reading {
                        covered,
                        key,
                        next: 0,
                    };
                }
                None => {
                    // No snapshot yet: this node's credentials.txt seeds the world; a snapshot
                    // as soon as it has caught up puts them in Redis for every node after it.
                    self.since_snapshot = self.snapshot_every;
                    self.load = Load::Done;
                    self.ask_last_id();
                    self.read_more(now.mono);
                }
            },
            Tag::SnapRange => {
                let Load::Reading { covered, key, next } = self.load.clone() else {
                    return;
                };
                let (n, records) = snapshot::records(&frame);
                chat.load_snapshot(records, now);
                if n == snapshot::LOAD_COUNT {
                    self.read_snapshot(&key, next + n);
                    self.load = Load::Reading {
                        covered,
                        key,
                        next: next + n,
                    };
                } else {
                    log::info!("cluster: snapshot loaded ({} records)", next + n);
                    self.applied = covered;
                    self.causal = covered;
                    self.load = Load::Done;
                    self.ask_last_id();
                    self.read_more(now.mono);
                }
            }
            Tag::SnapLock => {
                self.locking = false;
                if matches!(frame, Frame::SimpleString(_)) {
                    let covered = self.applied;
                    let key = self.keys.snapshot(&format!(":{covered}"));
                    self.conns[CMD].link.send(&["DEL", key.as_str()], Tag::Note);
                    self.writing = Some(Writing {
                        covered,
                        key,
                        state: chat.cluster_snapshot(),
                        began: now.mono,
                    });
                }
            }
            Tag::SnapPush => {}
            Tag::SnapPoint => {
                let lock = self.keys.snapshot("-lock");
                self.conns[CMD]
                    .link
                    .send(&["DEL", lock.as_str()], Tag::Note);
                log::info!("cluster: snapshot written");
                // The snapshot before this one stays (a node may be loading it); the one
                // before that goes.
                if let Some(old) = text(&frame).map(str::to_string) {
                    let prev = self.keys.snapshot("-prev");
                    self.conns[CMD]
                        .link
                        .send(&["SET", prev.as_str(), old.as_str(), "GET"], Tag::SnapPrev);
                }
                let nodes = self.keys.nodes();
                self.conns[CMD]
                    .link
                    .send(&["SMEMBERS", nodes.as_str()], Tag::SnapNodes);
            }
            Tag::SnapPrev => {
                if let Some(older) = text(&frame) {
                    let key = self.keys.snapshot(&format!(":{older}"));
                    self.conns[CMD].link.send(&["DEL", key.as_str()], Tag::Note);
                }
            }
            Tag::SnapNodes => {
                let Frame::Array(names) = &frame else { return };
                let mut args = vec!["MGET".to_string()];
                args.extend(names.iter().filter_map(text).map(|n| self.keys.node(n)));
                if args.len() > 1 {
                    self.conns[CMD].link.send(&args, Tag::SnapMin);
                }
            }
            Tag::SnapMin => {
                let Some(covered) = self.trim_covered else {
                    return;
                };
                let min = snapshot::trim_to(covered, &frame);
                if min == covered {
                    self.trim_covered = None; // Trimmed as far as this snapshot allows.
                }
                let min = min.to_string();
                let journal = self.keys.journal.clone();
                self.conns[CMD].link.send(
                    &["XTRIM", journal.as_str(), "MINID", min.as_str()],
                    Tag::Note,
                );
                log::debug!("cluster: stream trimmed to {min} (snapshot at {covered})");
            }
        }
    }

    /// Apply the next slice of the entries read from the stream, in order; read on once all
    /// are applied.
    fn apply_slice(&mut self, chat: &mut Chat, now: Now) {
        if self.writing.is_some() || self.unapplied.is_empty() {
            return;
        }
        for e in journal::take_slice(&mut self.unapplied, APPLY_RECORDS) {
            if e.txns.iter().flatten().any(|r| !r.is_lazy()) {
                self.causal = e.id;
            }
            if !e.node.is_empty() {
                chat.apply_entry(&e.node, e.batch, e.txns, now);
            }
            self.applied = self.applied.max(e.id);
            self.since_snapshot += 1;
        }
        if now.mono >= self.position_at {
            self.set_position(now.mono);
        }
        self.caught_up(chat, now);
        self.deliver_held(chat);
        self.read_more(now.mono);
    }

    /// The snapshot is written (or abandoned): the entries read meanwhile are applied.
    fn snapshot_over(&mut self, chat: &mut Chat, now: Now) {
        self.writing = None;
        self.apply_slice(chat, now);
        self.read_more(now.mono);
    }

    /// The tail reached the target set when the command link came up.
    fn caught_up(&mut self, chat: &mut Chat, now: Now) {
        let Some(target) = self.target else { return };
        if self.applied < target {
            return;
        }
        self.target = None;
        let unsettled = chat.unsettled();
        for n in std::mem::take(&mut self.suspects) {
            if unsettled.contains(&n) {
                log::warn!(
                    "cluster: batch {n} did not reach the stream: answered with the storage error"
                );
                chat.lost_batch(n);
            }
        }
        // Sessions that ended while Redis was away (or in a previous life of this node).
        chat.log_out_orphans(now);
        if !self.ready {
            self.ready = true;
            log::info!(
                "cluster: node {} caught up at stream entry {}",
                self.id,
                self.applied
            );
        }
    }

    /// A message on the subscriber link.
    fn message(&mut self, frame: &Frame, chat: &mut Chat) {
        let Frame::Array(parts) = frame else { return };
        if parts.first().and_then(text) != Some("message") {
            return;
        }
        let Some(msg) = parts.get(2).and_then(text).and_then(live::decode) else {
            log::warn!("cluster: a live message that does not parse, dropped");
            return;
        };
        if *msg.origin == *self.id {
            return; // Our own, on the channel every node hears: delivered here already.
        }
        self.held.push_back(msg);
        self.deliver_held(chat);
    }

    fn deliver_held(&mut self, chat: &mut Chat) {
        while self.held.front().is_some_and(|m| m.after <= self.applied) {
            if let Some(m) = self.held.pop_front() {
                for (target, event) in m.events {
                    match target {
                        Target::Conn(conn) => chat.deliver_forwarded(&conn, event),
                        Target::Room(room) => chat.deliver_to_room(&room, event),
                        Target::All => chat.deliver_to_all(event),
                    }
                }
            }
        }
    }

    /// The iteration's batch to the stream (or, with Redis away, the storage error to its
    /// commands), and events for other nodes' users to their channels.
    pub fn commit(&mut self, chat: &mut Chat, now: Now) {
        self.snapshot_step(chat, now);
        let now = now.mono;
        if let Some((number, txns)) = chat.take_batch() {
            if txns.iter().flatten().all(Record::is_lazy) {
                // History only: it may wait a little, so that live messages sent meanwhile do
                // not wait for the fsync Redis makes in the same turn as this append.
                self.lazy.push(number, &txns, now);
            } else {
                self.send_batches(chat, Some((number, txns)));
            }
        }
        let forwards = chat.take_forwards();
        if forwards.is_empty() {
            return;
        }
        // One message per channel: each node's own, and the one every node hears.
        let mut by_channel: HashMap<String, Vec<(Target, Event)>> = HashMap::new();
        for f in forwards {
            let (channel, target, event) = match f {
                Forward::To { node, conn, event } => {
                    (self.keys.live(&node), Target::Conn(conn), event)
                }
                Forward::Room { room, event } => (self.keys.live_all(), Target::Room(room), event),
                Forward::All { event } => (self.keys.live_all(), Target::All, event),
            };
            by_channel.entry(channel).or_default().push((target, event));
        }
        for (channel, events) in by_channel {
            let payload = live::encode(self.causal, &self.id, &events);
            self.conns[PUB].link.send(
                &["PUBLISH", channel.as_str(), payload.as_str()],
                Tag::Publish,
            );
        }
    }

    /// The history waiting, then `last` (a batch that must not wait), in order, to the stream
    /// (or the storage error if Redis is away). The history goes as a few bounded entries
    /// already encoded, pipelined in one write ([`Lazy::take_appends`]).
    fn send_batches(&mut self, chat: &mut Chat, last: Option<(u64, Vec<Vec<Record>>)>) {
        for args in self.lazy.take_appends(&self.keys.journal, &self.id) {
            // Lost with the link: as history is on a single node's crash (nothing waits).
            self.conns[CMD].link.send(&args, Tag::Note);
        }
        if let Some((number, txns)) = last {
            let args = journal::xadd(&self.keys.journal, &self.id, number, &txns);
            if !self.conns[CMD].link.send(&args, Tag::Xadd(number)) {
                chat.lost_batch(number);
            }
        }
    }

    /// A bounded step of the snapshot under way, or the start of one when due.
    fn snapshot_step(&mut self, chat: &mut Chat, now: Now) {
        if !self.conns[CMD].link.is_up() {
            return;
        }
        if let Some(w) = self.writing.as_mut() {
            match w.step(chat) {
                Some(args) => {
                    self.conns[CMD].link.send(&args, Tag::SnapPush);
                }
                None => {
                    let covered = w.covered.to_string();
                    self.trim_covered = Some(w.covered);
                    let pointer = self.keys.snapshot("");
                    self.conns[CMD].link.send(
                        &["SET", pointer.as_str(), covered.as_str(), "GET"],
                        Tag::SnapPoint,
                    );
                    self.snapshot_over(chat, now);
                }
            }
            return;
        }
        if self.ready && !self.locking && self.since_snapshot >= self.snapshot_every {
            self.since_snapshot = 0;
            self.locking = true;
            let lock = self.keys.snapshot("-lock");
            self.conns[CMD].link.send(
                &["SET", lock.as_str(), &*self.id, "NX", "PX", "60000"],
                Tag::SnapLock,
            );
        }
    }

    /// Write what each link has queued: first what its transport holds of its own (a TLS
    /// handshake's messages, records a full socket left), then the link's requests.
    pub fn flush(&mut self, registry: &Registry, chat: &mut Chat, now: Now) {
        for i in 0..LINKS {
            loop {
                let c = &mut self.conns[i];
                let Some(transport) = c.transport.as_mut().filter(|_| c.link.is_up()) else {
                    break;
                };
                let written = match transport.flush() {
                    Ok(true) if c.link.pending_out().is_empty() => break,
                    Ok(true) => transport.write(c.link.pending_out()),
                    Ok(false) => break,
                    Err(e) => Err(e),
                };
                match written {
                    Ok(n) => c.link.handle_written(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.down(i, registry, chat, &e.to_string(), now);
                        break;
                    }
                }
            }
        }
    }
}
