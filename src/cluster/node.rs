//! The loop's side of cluster mode: three Redis connections in the server's poll (commands,
//! the stream tail with `XREAD BLOCK`, the subscriber for live traffic), each a [`Link`], and
//! what the loop asks of them: send the iteration's batch, apply what the tail read, forward
//! and receive live events, keep this node's liveness key fresh and notice dead nodes.

use super::journal::{self, StreamId};
use super::link::{Link, Phase, Setup};
use super::live;
use super::resp::{text, Frame};
use crate::chat::Chat;
use crate::config::ClusterOptions;
use crate::record::Record;
use crate::time::Now;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which connection: the index into `Node::conns` and the poll token offset.
pub const CMD: usize = 0;
pub const TAIL: usize = 1;
pub const SUB: usize = 2;
pub const LINKS: usize = 3;

/// Entries per `XREAD`: bounds one iteration's replay work.
const READ_COUNT: &str = "1000";
/// `XREAD BLOCK` times out this often, so a silently dead connection is noticed.
const BLOCK_MS: &str = "5000";

/// What a request was, to route its reply.
#[derive(Debug)]
pub enum Tag {
    Xadd(u64),
    /// A `node-down` record (no batch of ours waits for it).
    Note,
    Xread,
    /// The stream's last id when the command link came up: catch up to it.
    LastId,
    Refresh,
    Exists(Arc<str>),
    Publish,
    Subscribe,
}

#[derive(Debug)]
struct Conn {
    link: Link<Tag>,
    sock: Option<TcpStream>,
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
    fn node(&self, node: &str) -> String {
        format!("{}:node:{node}", self.prefix)
    }
}

/// This node's part of the cluster. See the module doc.
#[derive(Debug)]
pub struct Node {
    id: Arc<str>,
    addr: SocketAddr,
    keys: Keys,
    ttl: Duration,
    conns: [Conn; LINKS],
    first_token: usize,
    /// The last stream entry applied.
    applied: StreamId,
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
}

impl Node {
    /// A node named `id` of the cluster `opts` describes; Redis at `addr` (resolved once).
    pub fn new(
        opts: &ClusterOptions,
        id: &str,
        addr: SocketAddr,
        password: Option<String>,
        now: Instant,
    ) -> Node {
        let setup = Setup {
            password,
            db: opts.db,
        };
        let conn = |pushes| Conn {
            link: Link::new(setup.clone(), pushes, now),
            sock: None,
        };
        Node {
            id: Arc::from(id),
            addr,
            keys: Keys {
                prefix: opts.prefix.clone(),
                journal: format!("{}:journal", opts.prefix),
            },
            ttl: opts.node_ttl,
            conns: [conn(false), conn(false), conn(true)],
            first_token: 0,
            applied: StreamId::default(),
            target: None,
            suspects: Vec::new(),
            ready: false,
            reading: false,
            held: VecDeque::new(),
            down_since: None,
            up_since: None,
            refresh_at: now,
            reported: HashSet::new(),
        }
    }

    /// The poll tokens of the three links are `first..first + LINKS`.
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

    pub fn poll_timeout(&self) -> Option<Instant> {
        let links = self.conns.iter().filter_map(|c| c.link.poll_timeout());
        links.chain(std::iter::once(self.refresh_at)).min()
    }

    /// Reconnect what is down, refresh the liveness key, judge other nodes.
    pub fn handle_timeout(&mut self, registry: &Registry, chat: &mut Chat, now: Now) {
        for i in 0..LINKS {
            if self.conns[i].link.wants_connect(now.mono) {
                self.connect(i, registry, chat, now);
            }
        }
        if now.mono >= self.refresh_at {
            self.refresh_at = now.mono + self.ttl / 3;
            self.refresh(chat);
        }
    }

    fn refresh(&mut self, chat: &Chat) {
        let key = self.keys.node(&self.id);
        let ttl = self.ttl.as_millis().to_string();
        let cmd = &mut self.conns[CMD].link;
        cmd.send(
            &["SET", key.as_str(), "up", "PX", ttl.as_str()],
            Tag::Refresh,
        );
        // After an outage every key may have expired: give the others a TTL to refresh.
        let judge = self.up_since.is_some_and(|t| t.elapsed() >= self.ttl);
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
        let result = TcpStream::connect(self.addr).and_then(|mut s| {
            registry.register(&mut s, token, Interest::READABLE | Interest::WRITABLE)?;
            Ok(s)
        });
        match result {
            Ok(s) => {
                self.conns[i].sock = Some(s);
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
        if i >= LINKS || self.conns[i].sock.is_none() {
            return;
        }
        if self.conns[i].link.phase() == Phase::Connecting
            && (event.is_writable() || event.is_error())
        {
            let connected = self.conns[i]
                .sock
                .as_ref()
                .map(|s| (s.take_error(), s.peer_addr()));
            match connected {
                Some((Ok(None), Ok(_))) => {
                    let _ = self.conns[i].sock.as_ref().map(|s| s.set_nodelay(true));
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

    /// Link `i` is up: what each one starts with.
    fn link_up(&mut self, i: usize, chat: &mut Chat, now: Now) {
        match i {
            CMD => {
                self.up_since = Some(now.mono);
                let journal = self.keys.journal.clone();
                self.conns[CMD].link.send(
                    &["XREVRANGE", journal.as_str(), "+", "-", "COUNT", "1"],
                    Tag::LastId,
                );
                self.refresh_at = now.mono;
            }
            TAIL => {
                self.reading = false;
                self.read_more();
            }
            _ => {
                let channel = self.keys.live(&self.id);
                self.conns[SUB]
                    .link
                    .send(&["SUBSCRIBE", channel.as_str()], Tag::Subscribe);
            }
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
        let _ = chat;
    }

    fn read_more(&mut self) {
        if self.reading {
            return;
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
        if let Some(mut s) = self.conns[i].sock.take() {
            let _ = registry.deregister(&mut s);
        }
        // Unanswered requests: a batch's fate is learnt from the stream after reconnecting.
        let _unanswered = self.conns[i].link.handle_down(now.mono);
        if i == CMD {
            self.up_since = None;
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
        loop {
            let Some(sock) = self.conns[i].sock.as_mut() else {
                return;
            };
            match sock.read(&mut buf) {
                Ok(0) => return self.down(i, registry, chat, "connection closed", now),
                Ok(n) => {
                    if let Err(e) = self.conns[i].link.handle_bytes(&buf[..n]) {
                        return self.down(i, registry, chat, &e, now);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
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
            log::error!("cluster: Redis refused a {tag:?}: {e}");
        }
        match tag {
            Tag::Xadd(batch) => {
                if matches!(frame, Frame::Error(_)) {
                    chat.lost_batch(batch);
                }
            }
            Tag::Xread => {
                self.reading = false;
                let entries = journal::xread_entries(&frame);
                let full = entries.len() >= 1000;
                for e in entries {
                    if !e.node.is_empty() {
                        chat.apply_entry(&e.node, e.batch, e.txns, now);
                    }
                    self.applied = self.applied.max(e.id);
                }
                self.caught_up(chat, now);
                self.deliver_held(chat);
                let _ = full;
                self.read_more();
            }
            Tag::LastId => {
                let last = journal::first_id(&frame).unwrap_or_default();
                self.suspects = chat.unsettled();
                self.target = Some(last);
                self.caught_up(chat, now);
            }
            Tag::Exists(node) => {
                if frame == Frame::Integer(0) {
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
            Tag::Note | Tag::Refresh | Tag::Publish | Tag::Subscribe => {}
        }
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
        self.held.push_back(msg);
        self.deliver_held(chat);
    }

    fn deliver_held(&mut self, chat: &mut Chat) {
        while self.held.front().is_some_and(|m| m.after <= self.applied) {
            if let Some(m) = self.held.pop_front() {
                for (conn, event) in m.events {
                    chat.deliver_forwarded(&conn, event);
                }
            }
        }
    }

    /// The iteration's batch to the stream (or, with Redis away, the storage error to its
    /// commands), and events for other nodes' users to their channels.
    pub fn commit(&mut self, chat: &mut Chat) {
        if let Some((number, txns)) = chat.take_batch() {
            let args = journal::xadd(&self.keys.journal, &self.id, number, &txns);
            if !self.conns[CMD].link.send(&args, Tag::Xadd(number)) {
                chat.lost_batch(number);
            }
        }
        let forwards = chat.take_forwards();
        if forwards.is_empty() {
            return;
        }
        let mut by_node: HashMap<Arc<str>, Vec<(Arc<str>, crate::event::Event)>> = HashMap::new();
        for f in forwards {
            by_node.entry(f.node).or_default().push((f.conn, f.event));
        }
        for (node, events) in by_node {
            let payload = live::encode(self.applied, &events);
            let channel = self.keys.live(&node);
            self.conns[CMD].link.send(
                &["PUBLISH", channel.as_str(), payload.as_str()],
                Tag::Publish,
            );
        }
    }

    /// Write what each link has queued.
    pub fn flush(&mut self, registry: &Registry, chat: &mut Chat, now: Now) {
        for i in 0..LINKS {
            loop {
                let c = &mut self.conns[i];
                let (Some(sock), false) = (c.sock.as_mut(), c.link.pending_out().is_empty()) else {
                    break;
                };
                if !c.link.is_up() {
                    break;
                }
                match sock.write(c.link.pending_out()) {
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
