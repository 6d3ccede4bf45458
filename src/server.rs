//! The thin mio event loop: accept on every listener, read through each connection's transport
//! and decode with its protocol, feed the core, commit its records, then render and write what
//! it says. One thread, one `Poll`, one clock read per iteration. This file is the loop and its
//! state; each step of an iteration has its own file.

mod accept; // New connections.
mod admin; // The admin socket (issue 21).
mod announce; // Presence lines for every subscriber from one text (issue 20).
mod arena; // One pass's fan-out rendered into one buffer per render key (issue 22).
mod backup; // Backups in bounded steps (issue 21).
mod cluster; // Cluster mode (issue 23): the Redis links and the stream journal.
mod guard; // Reliability guards (issue 8): per-address limit, penalty, worst iteration.
mod operator; // Server console and signals (PROTOCOL.md §7).
mod output; // The core's actions onto connection buffers, and write passes.
mod read; // Bytes into core inputs.
mod reload; // SIGHUP: the config file again (issue 21).
mod settle; // Reap, commit, apply, flush; compaction steps and lazy syncs.
#[cfg(feature = "web")]
mod web; // HTTP requests: the page, /metrics, /healthz, WebSocket upgrades (issue 19).

#[cfg(feature = "web")]
pub use web::WebOptions;

use crate::chat::Chat;
use crate::connection::Connection;
use crate::protocol::{ProtocolKind, ProtocolOptions};
use crate::session::ConnId;
use crate::store::Store;
use crate::time::Now;
use crate::timer::TimerWheel;
use crate::transport::{Certificates, TransportKind};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tokens at and above this value name listeners and the waker, never connections.
const RESERVED_TOKENS: usize = usize::MAX - 256;

/// What a poll token names; slab keys are connection tokens, so they stay below the reserved
/// range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Conn(usize),
    Listener(usize),
    Waker,
    // Server console and signals (§7).
    Stdin,
    Signals,
    // The admin socket (issue 21).
    AdminListener,
    Admin(usize),
    /// Cluster mode (issue 23): one of the node's Redis links.
    Redis(usize),
}

/// Tokens after the waker's: stdin, signals, the admin socket and its connections, the
/// cluster's Redis links, then the listeners.
const FIRST_ADMIN: usize = RESERVED_TOKENS + 4;
const FIRST_REDIS: usize = FIRST_ADMIN + admin::MAX_CONNS;
/// Four Redis links (`cluster::node::LINKS`).
const FIRST_LISTENER: usize = FIRST_REDIS + 4;

impl Tok {
    fn token(self) -> Token {
        match self {
            Tok::Conn(k) => Token(k),
            Tok::Listener(i) => Token(FIRST_LISTENER + i),
            Tok::Waker => Token(RESERVED_TOKENS),
            Tok::Stdin => Token(RESERVED_TOKENS + 1),
            Tok::Signals => Token(RESERVED_TOKENS + 2),
            Tok::Redis(i) => Token(FIRST_REDIS + i),
            Tok::AdminListener => Token(RESERVED_TOKENS + 3),
            Tok::Admin(i) => Token(FIRST_ADMIN + i),
        }
    }

    fn of(t: Token) -> Tok {
        match t.0 {
            RESERVED_TOKENS => Tok::Waker,
            k if k == RESERVED_TOKENS + 1 => Tok::Stdin,
            k if k == RESERVED_TOKENS + 2 => Tok::Signals,
            k if k == RESERVED_TOKENS + 3 => Tok::AdminListener,
            k if (FIRST_ADMIN..FIRST_REDIS).contains(&k) => Tok::Admin(k - FIRST_ADMIN),
            k if (FIRST_REDIS..FIRST_LISTENER).contains(&k) => Tok::Redis(k - FIRST_REDIS),
            k if k > RESERVED_TOKENS => Tok::Listener(k - FIRST_LISTENER),
            k => Tok::Conn(k),
        }
    }
}

/// Limits the loop enforces itself.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_line: usize,
    pub max_output: usize,
    pub max_clients: usize,
    /// A connection the server decided to close is dropped this long after, read or not.
    pub close_timeout: Duration,
    /// How long a shutdown waits for output to drain.
    pub drain_timeout: Duration,
    // Reliability limits (issue 8).
    /// Connections per source address.
    pub max_per_ip: usize,
    /// `max_per_ip` applies to loopback addresses too.
    pub limit_loopback: bool,
    /// Queued output over all connections; above it the largest queues are cut.
    pub max_output_total: usize,
    /// Penalty time each input adds to its connection (zero: no command rate limit).
    pub penalty: Duration,
    /// An HTTP request not received whole this long after accept is closed (slowloris;
    /// `--login-timeout`).
    pub request_timeout: Duration,
}

impl From<&crate::config::Config> for Limits {
    fn from(c: &crate::config::Config) -> Limits {
        Limits {
            max_line: c.max_line,
            max_output: c.max_output,
            max_clients: c.max_clients,
            close_timeout: c.close_timeout,
            drain_timeout: Duration::from_secs(2),
            // Reliability limits (issue 8).
            max_per_ip: c.max_per_ip,
            limit_loopback: c.limit_loopback,
            max_output_total: c.max_output_total,
            penalty: c.penalty,
            request_timeout: c.login_timeout,
        }
    }
}

/// A listening socket, the protocol its connections speak and the transport that carries it.
#[derive(Debug)]
pub struct Listener {
    pub socket: std::net::TcpListener,
    pub protocol: ProtocolKind,
    pub transport: TransportKind,
}

/// How [`Server::run_to_end`] ended.
#[derive(Debug)]
pub enum Ended {
    /// Shut down.
    Stopped,
    /// Cluster mode: this node's state misses stream entries trimmed while it was cut off
    /// (issue 23). Every connection is closed; the listeners are handed back for a server
    /// built afresh, which loads the snapshot as a starting node does.
    StartOver(Vec<Listener>),
}

struct Bound {
    socket: TcpListener,
    protocol: ProtocolKind,
    transport: TransportKind,
    /// Accepting stopped for lack of file descriptors.
    paused: bool,
}

/// Asks a running server to shut down (from a signal handler's thread or a test).
#[derive(Clone, Debug)]
pub struct Shutdown {
    flag: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl Shutdown {
    /// Ask the loop to stop: everyone is told, output drains (bounded), state is synced.
    pub fn request(&self) {
        self.flag.store(true, Ordering::SeqCst);
        if let Err(e) = self.waker.wake() {
            log::error!("shutdown wake-up failed: {e}");
        }
    }
}

/// The event loop's state; [`Server::run`] drives it.
pub struct Server {
    poll: Poll,
    listeners: Vec<Bound>,
    conns: Slab<Connection>,
    chat: Chat,
    store: Store,
    limits: Limits,
    /// What new connections' protocols are built with (IRC front-end, issue 12).
    protocol_options: ProtocolOptions,
    /// The certificate and key TLS listeners present (issue 18); reloaded on SIGHUP.
    certificates: Option<Certificates>,
    /// Origins and `/metrics` access for the HTTP listeners (issue 19).
    #[cfg(feature = "web")]
    web: WebOptions,
    /// Counters only the loop sees, for `/metrics`.
    counters: Counters,
    scratch: Vec<u8>,
    /// Connections with queued output, flushed once per iteration.
    dirty: Vec<ConnId>,
    /// Connections to remove this iteration.
    dead: Vec<ConnId>,
    /// Connections to remove that the reaping phase had no time for (issue 20): removed first
    /// next iteration; meanwhile neither read nor written (`Closing::Reaping`).
    dead_later: Vec<ConnId>,
    /// Connections that hit the read budget and may hold more input (edge-triggered).
    unread: Vec<ConnId>,
    /// Connections whose output was all written while the core waited for that.
    flushed: Vec<ConnId>,
    /// Markers of `Action::WhenWritten` whose bytes the kernel accepted (issue 8).
    written: Vec<(ConnId, u64)>,
    spare: Vec<Vec<u8>>,
    /// Lent to each connection's transport per write: a WebSocket copies its small frames
    /// into it (at most a write's 64 KiB, kept, so no write allocates; issue 19).
    pack: Vec<u8>,
    /// One pass's fan-out lines, queued as one range per member (`arena.rs`).
    arena: arena::Arena,
    /// Closing deadlines of connections being closed after a flush.
    closing: TimerWheel<ConnId>,
    /// Connections whose output waits out a pause before its last part (issue 21).
    paused: TimerWheel<ConnId>,
    expired: Vec<ConnId>,
    /// Connections closed so far (tells a paused accept that descriptors were freed).
    closed: u64,
    /// Refused connections still delivering their refusal.
    refusing: usize,
    /// Generation of the next connection.
    next_gen: u32,
    shutdown: Shutdown,
    /// Shutting down: the time by which the loop exits whatever is left unsent.
    draining: Option<Instant>,
    /// Server console and signals (§7): see `attach_operator`.
    operator: operator::Operator,
    /// The admin socket (issue 21): see `attach_admin`.
    admin: admin::Admin,
    /// A backup being written (issue 21).
    backup: Option<backup::Running>,
    /// What the server runs with, for a SIGHUP reload (issue 21); `None` in tests that build a
    /// server by hand.
    config: Option<crate::config::Config>,
    // Reliability guards (issue 8).
    per_ip: guard::PerIp,
    /// Bytes queued over all connections.
    output_total: usize,
    /// Connections over their command penalty, with when they may be read again.
    throttled: TimerWheel<ConnId>,
    iterations: guard::IterationClock,
    /// The time each phase of the current iteration has left (issue 20).
    reading: guard::Phase,
    /// Deliveries rendered so far in this iteration (issue 20).
    delivered: usize,
    /// Presence lines for every subscribed connection, and the round of catch-ups that
    /// brings them up to date: the next slot to visit, and where the round began.
    announcements: announce::Announcements,
    announcing: guard::Phase,
    next_subscriber: usize,
    round_start: u64,
    reaping: guard::Phase,
    flushing: guard::Phase,
    slow_warning: guard::Quiet,
    accept_warning: guard::Quiet,
    /// Cluster mode (issue 23): this node's part of the cluster.
    #[cfg(feature = "cluster")]
    cluster: Option<crate::cluster::Node>,
    /// Connections not read while their command is on its way through the stream.
    #[cfg(feature = "cluster")]
    parked: Vec<ConnId>,
    /// Clients are accepted (cluster mode: once the node has caught up with the stream).
    #[cfg(feature = "cluster")]
    doors_open: bool,
    /// Operator account changes on their way through the stream: ticket, who waits, the
    /// reply once made.
    #[cfg(feature = "cluster")]
    tickets: Vec<(u64, backup::Requester, String)>,
}

/// What the loop counts for `/metrics` (the core counts its own).
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    /// Connections cut as slow readers (their own cap, or the largest under the total cap).
    pub slow_cuts: u64,
    /// Connections accepted since start.
    pub accepted: u64,
    /// Chat lines queued for recipients, by kind ([`Delivery::ALL`]).
    pub deliveries: [u64; 6],
}

/// What kind of chat line a delivery carried (`/metrics`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Direct,
    Broadcast,
    Announcement,
    Private,
    Room,
    /// The operator's `announce`.
    Server,
}

impl Delivery {
    pub const ALL: [Delivery; 6] = [
        Delivery::Direct,
        Delivery::Broadcast,
        Delivery::Announcement,
        Delivery::Private,
        Delivery::Room,
        Delivery::Server,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Delivery::Direct => "direct",
            Delivery::Broadcast => "broadcast",
            Delivery::Announcement => "announcement",
            Delivery::Private => "private",
            Delivery::Room => "room",
            Delivery::Server => "server",
        }
    }

    /// The kind of chat line `event` is, if it is one.
    fn of(event: &crate::event::Event) -> Option<Delivery> {
        use crate::event::{Audience, Event, RoomEvent};
        match event {
            Event::Chat { to, .. } => match to {
                Audience::Direct(_) => Some(Delivery::Direct),
                // The sender's own copy (IRC echo-message) is not a delivery.
                Audience::Echo(_) => None,
                Audience::Everyone => Some(Delivery::Broadcast),
                Audience::Announcement => Some(Delivery::Announcement),
                Audience::Private(_) => Some(Delivery::Private),
            },
            Event::Room(RoomEvent::Chat { .. }) => Some(Delivery::Room),
            Event::ServerAnnouncement(_) => Some(Delivery::Server),
            _ => None,
        }
    }

    fn count(event: &crate::event::Event, recipients: usize, counts: &mut [u64; 6]) {
        if let Some(kind) = Delivery::of(event) {
            let i = Delivery::ALL.iter().position(|k| *k == kind).unwrap_or(0);
            counts[i] += recipients as u64;
        }
    }
}

fn push_dirty(c: &mut Connection, dirty: &mut Vec<ConnId>) {
    if !c.dirty {
        c.dirty = true;
        dirty.push(c.id);
    }
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// Time from now until `deadline`, rounded up to whole milliseconds so we never wake early.
fn until(deadline: Instant) -> Duration {
    let d = deadline.saturating_duration_since(Instant::now());
    let ms = d.as_nanos().div_ceil(1_000_000);
    Duration::from_millis(ms as u64)
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Server {
    /// Register `listeners` with a new poller. Per-connection errors never end the server;
    /// only the poller failing does.
    pub fn new(
        listeners: Vec<Listener>,
        chat: Chat,
        store: Store,
        limits: Limits,
    ) -> io::Result<Server> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), Tok::Waker.token())?);
        let mut bound = Vec::new();
        for (i, l) in listeners.into_iter().enumerate() {
            l.socket.set_nonblocking(true)?;
            let mut socket = TcpListener::from_std(l.socket);
            poll.registry()
                .register(&mut socket, Tok::Listener(i).token(), Interest::READABLE)?;
            bound.push(Bound {
                socket,
                protocol: l.protocol,
                transport: l.transport,
                paused: false,
            });
        }
        Ok(Server {
            poll,
            listeners: bound,
            conns: Slab::new(),
            chat,
            store,
            limits,
            protocol_options: ProtocolOptions::default(),
            certificates: None,
            #[cfg(feature = "web")]
            web: WebOptions::default(),
            counters: Counters::default(),
            scratch: vec![0; 64 * 1024],
            dirty: Vec::new(),
            dead: Vec::new(),
            dead_later: Vec::new(),
            unread: Vec::new(),
            flushed: Vec::new(),
            written: Vec::new(),
            spare: Vec::new(),
            pack: Vec::new(),
            arena: arena::Arena::default(),
            closing: TimerWheel::new(Instant::now()),
            paused: TimerWheel::new(Instant::now()),
            expired: Vec::new(),
            closed: 0,
            refusing: 0,
            next_gen: 0,
            shutdown: Shutdown {
                flag: Arc::new(AtomicBool::new(false)),
                waker,
            },
            draining: None,
            operator: operator::Operator::new(Instant::now()),
            admin: admin::Admin::default(),
            backup: None,
            config: None,
            per_ip: guard::PerIp::default(),
            output_total: 0,
            throttled: TimerWheel::new(Instant::now()),
            iterations: guard::IterationClock::new(Instant::now()),
            reading: guard::Phase::new(guard::READ_PHASE),
            delivered: 0,
            announcements: announce::Announcements::new(&ProtocolOptions::default()),
            announcing: guard::Phase::new(guard::ANNOUNCE_PHASE),
            next_subscriber: 0,
            round_start: 0,
            reaping: guard::Phase::new(guard::REAP_PHASE),
            flushing: guard::Phase::new(guard::FLUSH_PHASE),
            slow_warning: guard::Quiet::default(),
            accept_warning: guard::Quiet::default(),
            #[cfg(feature = "cluster")]
            cluster: None,
            #[cfg(feature = "cluster")]
            parked: Vec::new(),
            #[cfg(feature = "cluster")]
            doors_open: true,
            #[cfg(feature = "cluster")]
            tickets: Vec::new(),
        })
    }

    /// The settings new connections' protocols are built with (IRC front-end, issue 12).
    pub fn with_protocol_options(mut self, options: ProtocolOptions) -> Server {
        self.announcements = announce::Announcements::new(&options);
        self.protocol_options = options;
        self
    }

    /// The certificate and key of the TLS listeners (issue 18).
    pub fn with_certificates(mut self, certificates: Certificates) -> Server {
        self.certificates = Some(certificates);
        self
    }

    /// Who may open WebSockets and read `/metrics` (issue 19).
    #[cfg(feature = "web")]
    pub fn with_web(mut self, options: WebOptions) -> Server {
        self.web = options;
        self
    }

    /// The configuration this server was started with, for SIGHUP reloads (issue 21).
    pub fn with_config(mut self, config: crate::config::Config) -> Server {
        self.config = Some(config);
        self
    }

    /// A handle that stops [`Server::run`] gracefully.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Deliveries this iteration has taken on: rendered, or waiting in the core's actions.
    fn admitted(&self) -> usize {
        self.delivered + self.chat.pending_deliveries()
    }

    fn next_timeout(&mut self) -> Option<Duration> {
        // Work an iteration's phases had no time for (issue 20) is done at once.
        let left = !self.unread.is_empty()
            || !self.dirty.is_empty()
            || !self.dead_later.is_empty()
            || self.announcements.unread();
        if left || self.store.compacting() || self.backup.is_some() || self.chat.has_work() {
            return Some(Duration::ZERO);
        }
        let next = self.chat.poll_timeout();
        let next = earliest(next, self.closing.next_deadline());
        let next = earliest(next, self.paused.next_deadline());
        let next = earliest(next, self.throttled.next_deadline());
        let next = earliest(next, self.cluster_deadline());
        earliest(next, self.draining).map(until)
    }

    /// Serve until shut down (`Ok`) or until the poller fails (`Err`).
    pub fn run(self) -> io::Result<()> {
        self.run_to_end().map(|_| ())
    }

    /// Serve until shut down, until the poller fails (`Err`), or (cluster mode) until the
    /// node must start over from the snapshot.
    pub fn run_to_end(mut self) -> io::Result<Ended> {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.next_timeout();
            match self.poll.poll(&mut events, timeout) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => other?,
            }
            let now = Now::read();
            let closed_before = self.closed;
            self.reading.reset();
            self.delivered = 0;
            self.reaping.reset();
            self.flushing.reset();
            self.announcing.reset();
            self.throttled.expire(now.mono, &mut self.expired);
            self.reading.enter();
            for id in std::mem::take(&mut self.expired) {
                self.read(id, now);
            }
            // Issue 21: output whose pause is over is written again.
            self.paused.expire(now.mono, &mut self.expired);
            for id in std::mem::take(&mut self.expired) {
                self.mark_dirty(id);
            }
            for id in std::mem::take(&mut self.unread) {
                self.read(id, now);
            }
            for event in events.iter() {
                match Tok::of(event.token()) {
                    Tok::Waker => {}
                    Tok::Listener(i) => {
                        if let Some(l) = self.listeners.get_mut(i) {
                            l.paused = false;
                        }
                        self.accept(i, now);
                    }
                    Tok::Conn(k) => self.ready(k, event, now),
                    Tok::Stdin => self.console_ready(now),
                    Tok::Signals => self.signals_ready(),
                    Tok::Redis(i) => self.cluster_ready(i, event, now),
                    Tok::AdminListener => self.admin_accept(),
                    Tok::Admin(i) => self.admin_ready(i, event, now),
                }
            }
            self.reading.leave();
            let read_end = Instant::now();
            if self.shutdown.flag.load(Ordering::SeqCst) && self.draining.is_none() {
                self.begin_drain(now);
            }
            self.chat.handle_timeout(now);
            // Issue 21: a bounded slice of the waiting password hashes.
            self.chat.handle_work(now);
            self.cluster_timeout(now);
            let timers_end = Instant::now();
            if self.cluster_stale() {
                return Ok(Ended::StartOver(self.hand_back_listeners()));
            }
            if let Some(why) = self.cluster_refused() {
                log::error!("{why}");
                return Err(io::Error::other(why));
            }
            self.expire_closing(now);
            self.settle(now);
            if self.closed != closed_before {
                // Descriptors were freed: edge-triggered, so nobody else will say the backlog
                // of a paused listener waits.
                for i in 0..self.listeners.len() {
                    if self.listeners[i].paused {
                        self.listeners[i].paused = false;
                        self.accept(i, now);
                    }
                }
                self.settle(now);
            }
            let parts = guard::IterationParts {
                reading: read_end.saturating_duration_since(now.mono),
                timers: timers_end.saturating_duration_since(read_end),
                settling: timers_end.elapsed(),
                reaping: self.reaping.spent(),
                flushing: self.flushing.spent(),
                announcing: self.announcing.spent(),
                ..guard::IterationParts::default()
            };
            self.iterations.record(now.mono.elapsed(), parts, now.mono);
            if let Some(deadline) = self.draining {
                if self.conns.is_empty() || now.mono >= deadline {
                    return self.finish_drain().map(|()| Ended::Stopped);
                }
            }
        }
    }

    fn ready(&mut self, k: usize, event: &mio::event::Event, now: Now) {
        let Some(c) = self.conns.get_mut(k) else {
            return;
        };
        let id = c.id;
        if event.is_read_closed() || event.is_error() {
            c.peer_closed = true;
        }
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            self.read(id, now);
        }
        if event.is_writable() {
            self.mark_dirty(id);
        }
    }

    /// Stop accepting, tell everyone, and give output until the drain deadline to leave.
    fn begin_drain(&mut self, now: Now) {
        log::info!("shutting down");
        for l in &mut self.listeners {
            let _ = self.poll.registry().deregister(&mut l.socket);
        }
        self.listeners.clear();
        self.draining = Some(now.mono + self.limits.drain_timeout);
        self.chat.handle_shutdown(now);
    }

    /// The loop's last act: make every lazily written record durable.
    fn finish_drain(&mut self) -> io::Result<()> {
        self.iterations.report();
        self.abandon_backup();
        let unsent = self.conns.iter().filter(|(_, c)| c.pending() > 0).count();
        if unsent > 0 {
            log::warn!("drain deadline passed: {unsent} connections had unsent output");
        }
        if let Err(e) = self.store.sync() {
            log::error!("final sync failed: {e}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Tok;

    /// Every token names what it was made for (a merge once let the admin range swallow the
    /// cluster's Redis links).
    #[test]
    fn tokens_round_trip() {
        let all = [
            Tok::Conn(0),
            Tok::Conn(12345),
            Tok::Waker,
            Tok::Stdin,
            Tok::Signals,
            Tok::AdminListener,
            Tok::Admin(0),
            Tok::Admin(super::admin::MAX_CONNS - 1),
            Tok::Redis(0),
            Tok::Redis(2),
            Tok::Redis(3),
            Tok::Listener(0),
            Tok::Listener(3),
        ];
        for t in all {
            assert_eq!(Tok::of(t.token()), t);
        }
    }
}
