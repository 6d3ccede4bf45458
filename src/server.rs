//! The thin mio event loop: accept on every listener, read and decode with each connection's
//! codec, feed the core, commit its records, then render and write what it says. One thread,
//! one `Poll`, one clock read per iteration.

mod guard; // Reliability guards (issue 8): per-address limit, penalty, worst iteration.
mod operator; // Server console and signals (PROTOCOL.md §7).

use crate::chat::{Action, Chat, LoginStyle};
use crate::codec::{Codec, CodecKind, CodecOptions};
use crate::connection::{Closing, Connection, ReadStatus};
use crate::event::{Error, Event};
use crate::input::{Expect, Input};
use crate::session::ConnId;
use crate::store::Store;
use crate::time::Now;
use crate::timer::TimerWheel;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// errno values for "too many open files" (system-wide, per process).
const ENFILE: i32 = 23;
const EMFILE: i32 = 24;
/// Lazy journal records (history) reach the disk at most this long after they are written.
const LAZY_SYNC: Duration = Duration::from_secs(1);
/// Bytes read from one connection per iteration before others get their turn.
const READ_BUDGET: usize = 64 * 1024;
/// Input lines (commands) decoded from one connection per iteration: the work, not the bytes,
/// is what must be bounded (thousands of cheap pipelined commands would stall everyone).
const INPUT_BUDGET: usize = 256;
/// Emptied output buffers kept for reuse, so fan-out does not allocate per iteration.
/// At most 128 x 16 KiB = 2 MiB is kept this way.
const SPARE_BUFFERS: usize = 128;
const SPARE_MAX_CAPACITY: usize = 16 * 1024;
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
}

/// Tokens after the waker's: stdin, signals, then the listeners.
const FIRST_LISTENER: usize = RESERVED_TOKENS + 3;

impl Tok {
    fn token(self) -> Token {
        match self {
            Tok::Conn(k) => Token(k),
            Tok::Listener(i) => Token(FIRST_LISTENER + i),
            Tok::Waker => Token(RESERVED_TOKENS),
            Tok::Stdin => Token(RESERVED_TOKENS + 1),
            Tok::Signals => Token(RESERVED_TOKENS + 2),
        }
    }

    fn of(t: Token) -> Tok {
        match t.0 {
            RESERVED_TOKENS => Tok::Waker,
            k if k == RESERVED_TOKENS + 1 => Tok::Stdin,
            k if k == RESERVED_TOKENS + 2 => Tok::Signals,
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
}

/// A listening socket and the codec its connections speak.
#[derive(Debug)]
pub struct Listener {
    pub socket: std::net::TcpListener,
    pub kind: CodecKind,
}

struct Bound {
    socket: TcpListener,
    kind: CodecKind,
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
    /// What new connections' codecs are built with (IRC front-end, issue 12).
    codec_options: CodecOptions,
    scratch: Vec<u8>,
    /// Connections with queued output, flushed once per iteration.
    dirty: Vec<ConnId>,
    /// Connections to remove this iteration.
    dead: Vec<ConnId>,
    /// Connections that hit the read budget and may hold more input (edge-triggered).
    unread: Vec<ConnId>,
    /// Connections whose output was all written while the core waited for that.
    flushed: Vec<ConnId>,
    /// Markers of `Action::WhenWritten` whose bytes the kernel accepted (issue 8).
    written: Vec<(ConnId, u64)>,
    spare: Vec<Vec<u8>>,
    /// Closing deadlines of connections being closed after a flush.
    closing: TimerWheel<ConnId>,
    expired: Vec<ConnId>,
    /// Connections closed so far (tells a paused accept that descriptors were freed).
    closed: u64,
    /// Generation of the next connection.
    next_gen: u32,
    /// When the lazily written journal records must be synced.
    sync_due: Option<Instant>,
    shutdown: Shutdown,
    /// Shutting down: the time by which the loop exits whatever is left unsent.
    draining: Option<Instant>,
    /// Server console and signals (§7): see `attach_operator`.
    operator: operator::Operator,
    // Reliability guards (issue 8).
    per_ip: guard::PerIp,
    /// Bytes queued over all connections.
    output_total: usize,
    /// Connections over their command penalty, with when they may be read again.
    throttled: TimerWheel<ConnId>,
    iterations: guard::IterationClock,
    slow_warning: guard::Quiet,
    accept_warning: guard::Quiet,
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

/// The core behind one connection, as its codec's sink.
struct CoreSink<'a> {
    chat: &'a mut Chat,
    id: ConnId,
    now: Now,
    /// Inputs decoded (for the command penalty).
    inputs: u32,
}

impl crate::codec::Sink for CoreSink<'_> {
    fn expects(&self) -> Expect {
        self.chat.expects(self.id)
    }

    fn input(&mut self, input: Input<'_>) {
        self.inputs = self.inputs.saturating_add(1);
        self.chat.handle_input(self.id, input, self.now);
    }

    fn reply(&mut self, event: Event) {
        self.chat.reply(self.id, event);
    }
}

/// An event for one connection: its own, or a fan-out one shared by many.
enum Out<'a> {
    Event(&'a Event),
    Shared(&'a crate::event::Shared),
}

/// The parts of the server that queueing output touches.
struct Queues<'a> {
    conns: &'a mut Slab<Connection>,
    spare: &'a mut Vec<Vec<u8>>,
    dirty: &'a mut Vec<ConnId>,
    dead: &'a mut Vec<ConnId>,
    cap: usize,
    output_total: &'a mut usize,
    slow_warning: &'a mut guard::Quiet,
    now: Instant,
}

impl Queues<'_> {
    /// Render `out` onto `id`'s buffer, or drop `id` as a slow reader if it is over the cap
    /// even after the socket took what it could.
    fn deliver(&mut self, id: ConnId, out: Out<'_>) {
        let Some(c) = self.conns.get_mut(id.slot).filter(|c| c.id == id) else {
            return;
        };
        let (cap, spare) = (self.cap, &mut *self.spare);
        let before = c.pending();
        let queue = |c: &mut Connection, spare: &mut dyn FnMut() -> Vec<u8>| match out {
            Out::Event(e) => c.queue_event(e, cap, spare),
            Out::Shared(s) => c.queue_shared(s, cap, spare),
        };
        let mut queued = queue(c, &mut || spare.pop().unwrap_or_default());
        if queued.is_err() {
            flush_some(c);
            queued = queue(c, &mut Vec::new);
        }
        *self.output_total = (*self.output_total + c.pending()).saturating_sub(before);
        if queued.is_ok() {
            push_dirty(c, self.dirty);
        } else {
            self.slow_warning.warn(self.now, || {
                format!("{id:?} output buffer over {cap} bytes: disconnecting slow reader")
            });
            self.dead.push(id);
        }
    }
}

/// Write what the socket takes now, keeping the emptied buffer.
fn flush_some(c: &mut Connection) {
    if let Ok(Some(buf)) = c.flush() {
        c.restore_buffer(buf);
    }
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
                kind: l.kind,
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
            codec_options: CodecOptions::default(),
            scratch: vec![0; 64 * 1024],
            dirty: Vec::new(),
            dead: Vec::new(),
            unread: Vec::new(),
            flushed: Vec::new(),
            written: Vec::new(),
            spare: Vec::new(),
            closing: TimerWheel::new(Instant::now()),
            expired: Vec::new(),
            closed: 0,
            next_gen: 0,
            sync_due: None,
            shutdown: Shutdown {
                flag: Arc::new(AtomicBool::new(false)),
                waker,
            },
            draining: None,
            operator: operator::Operator::new(Instant::now()),
            per_ip: guard::PerIp::default(),
            output_total: 0,
            throttled: TimerWheel::new(Instant::now()),
            iterations: guard::IterationClock::new(Instant::now()),
            slow_warning: guard::Quiet::default(),
            accept_warning: guard::Quiet::default(),
        })
    }

    /// A handle that stops [`Server::run`] gracefully.
    /// The settings new connections' codecs are built with (IRC front-end, issue 12).
    pub fn with_codec_options(mut self, options: CodecOptions) -> Server {
        self.codec_options = options;
        self
    }

    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    fn next_timeout(&mut self) -> Option<Duration> {
        if !self.unread.is_empty() || self.store.compacting() {
            return Some(Duration::ZERO);
        }
        let next = earliest(self.chat.poll_timeout(), self.sync_due);
        let next = earliest(next, self.closing.next_deadline());
        let next = earliest(next, self.throttled.next_deadline());
        earliest(next, self.draining).map(until)
    }

    /// Serve until shut down (`Ok`) or until the poller fails (`Err`).
    pub fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.next_timeout();
            match self.poll.poll(&mut events, timeout) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => other?,
            }
            let now = Now::read();
            let closed_before = self.closed;
            self.throttled.expire(now.mono, &mut self.expired);
            for id in std::mem::take(&mut self.expired) {
                self.read(id, now);
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
                }
            }
            if self.shutdown.flag.load(Ordering::SeqCst) && self.draining.is_none() {
                self.begin_drain(now);
            }
            self.chat.handle_timeout(now);
            self.expire_closing(now);
            self.settle(now);
            self.sync_lazy(now);
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
            self.iterations.record(now.mono.elapsed(), now.mono);
            if let Some(deadline) = self.draining {
                if self.conns.is_empty() || now.mono >= deadline {
                    return self.finish_drain();
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
        log::warn!("shutting down");
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
        let unsent = self.conns.iter().filter(|(_, c)| c.pending() > 0).count();
        if unsent > 0 {
            log::warn!("drain deadline passed: {unsent} connections had unsent output");
        }
        if let Err(e) = self.store.sync() {
            log::error!("final sync failed: {e}");
        }
        Ok(())
    }

    /// Accept until WouldBlock (edge-triggered: no further event is guaranteed otherwise).
    fn accept(&mut self, i: usize, now: Now) {
        let Some(l) = self.listeners.get_mut(i) else {
            return;
        };
        let kind = l.kind;
        loop {
            let (mut stream, peer) = match l.socket.accept() {
                Ok(pair) => pair,
                Err(e) if would_block(&e) => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error().is_some_and(|c| c == ENFILE || c == EMFILE) => {
                    // Out of descriptors: the backlog waits; retry when a connection closes.
                    if !l.paused {
                        log::warn!("accept: {e} (raise the open-file limit)");
                    }
                    l.paused = true;
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(e) => {
                    // Anything else (ENOBUFS, ENOMEM, EPERM from a firewall hook...): log once
                    // for this event and wait for the next one, as Redis does.
                    self.accept_warning
                        .warn(now.mono, || format!("accept: {e}"));
                    return;
                }
            };
            let refusal = if self.conns.len() >= self.limits.max_clients
                || self.conns.len() >= RESERVED_TOKENS
            {
                Some(Error::ServerFull)
            } else if !self.per_ip.admit(
                peer.ip(),
                self.limits.max_per_ip,
                self.limits.limit_loopback,
            ) {
                Some(Error::TooManyFromAddress)
            } else {
                None
            };
            if let Some(error) = refusal {
                self.accept_warning
                    .warn(now.mono, || format!("refusing {peer}: {error:?}"));
                let mut refusal = Vec::new();
                Codec::new(kind).encode(&Event::Error(error), &mut refusal);
                let _ = stream.write(&refusal);
                continue;
            }
            let _ = stream.set_nodelay(true);
            let entry = self.conns.vacant_entry();
            let k = entry.key();
            let interest = Interest::READABLE | Interest::WRITABLE;
            if let Err(e) =
                self.poll
                    .registry()
                    .register(&mut stream, Tok::Conn(k).token(), interest)
            {
                log::warn!("register {peer}: {e}");
                self.per_ip.release(peer.ip());
                continue;
            }
            self.next_gen = self.next_gen.wrapping_add(1);
            let id = ConnId::new(k, self.next_gen);
            let codec = Codec::with_options(kind, &self.codec_options);
            let mut conn = Connection::new(id, stream, codec);
            let greeting = conn.codec.greeting();
            conn.peer_ip = Some(peer.ip());
            self.output_total += greeting.len();
            if !greeting.is_empty() {
                conn.queue_bytes(greeting);
                push_dirty(&mut conn, &mut self.dirty);
            }
            entry.insert(conn);
            log::info!("{id:?} connected from {peer}");
            let style = match kind {
                CodecKind::Line => LoginStyle::Dialog,
                CodecKind::Json => LoginStyle::Guest,
                // IRC front-end (issue 12): registration is the codec's own dialog.
                CodecKind::Irc => LoginStyle::Guest,
            };
            self.chat.handle_connect(id, Some(peer), style, now);
        }
    }

    /// Drain a readable connection, decoding its bytes into core inputs.
    fn read(&mut self, id: ConnId, now: Now) {
        let Some(conn) = self.conns.get_mut(id.slot).filter(|c| c.id == id) else {
            return;
        };
        if conn.closing != Closing::Open {
            return;
        }
        // Backpressure: a peer whose replies pile up is not read until they drain; only a
        // peer that does not drain at all meets the output cap as a slow reader.
        if conn.pending() > self.limits.max_output / 2 {
            conn.read_paused = true;
            return;
        }
        // Command penalty (ngIRCd style): a connection far ahead of now waits until it is not.
        let ahead = conn.penalty.saturating_duration_since(now.mono);
        if ahead > guard::PENALTY_AHEAD {
            self.throttled
                .schedule(now.mono + (ahead - guard::PENALTY_AHEAD), id);
            return;
        }
        let max = self.limits.max_line;
        let mut sink = CoreSink {
            chat: &mut self.chat,
            id,
            now,
            inputs: 0,
        };
        let bytes_in = &mut self.operator.bytes_in;
        let status = conn.read(
            &mut self.scratch,
            READ_BUDGET,
            INPUT_BUDGET,
            |codec, data| {
                *bytes_in += data.len() as u64;
                codec.decode(data, max, &mut sink)
            },
        );
        conn.penalty = conn.penalty.max(now.mono) + self.limits.penalty * sink.inputs;
        match status {
            Ok(ReadStatus::Drained) => {}
            Ok(ReadStatus::Budget) => self.unread.push(id),
            Ok(ReadStatus::Eof) => {
                conn.codec.finish(max, &mut sink);
                // Half-closed: answer what was sent, then close.
                conn.closing = Closing::AfterFlush;
                push_dirty(conn, &mut self.dirty);
                self.closing
                    .schedule(now.mono + self.limits.close_timeout, id);
            }
            Err(e) => {
                log::info!("{id:?} read error: {e}");
                self.dead.push(id);
            }
        }
    }

    fn mark_dirty(&mut self, id: ConnId) {
        if let Some(c) = self.conns.get_mut(id.slot).filter(|c| c.id == id) {
            push_dirty(c, &mut self.dirty);
        }
    }

    /// Drop connections whose closing deadline passed with output still unsent: a peer that
    /// never reads must not hold a descriptor and its buffers forever.
    fn expire_closing(&mut self, now: Now) {
        self.closing.expire(now.mono, &mut self.expired);
        for id in std::mem::take(&mut self.expired) {
            if let Some(c) = self.conns.get(id.slot).filter(|c| c.id == id) {
                if c.closing == Closing::AfterFlush {
                    log::info!(
                        "{id:?} closing deadline passed with {} bytes unsent",
                        c.pending()
                    );
                    self.dead.push(id);
                }
            }
        }
    }

    /// Commit, perform the core's actions, flush, reap; repeat while reaping makes more output.
    fn settle(&mut self, now: Now) {
        loop {
            for id in std::mem::take(&mut self.dead) {
                if self.conns.get(id.slot).is_none_or(|c| c.id != id) {
                    continue;
                }
                if let Some(mut conn) = self.conns.try_remove(id.slot) {
                    let _ = self.poll.registry().deregister(&mut conn.stream);
                    self.output_total = self.output_total.saturating_sub(conn.pending());
                    if let Some(ip) = conn.peer_ip {
                        self.per_ip.release(ip);
                    }
                    self.closed += 1;
                    log::info!("{id:?} closed");
                    self.chat.handle_disconnect(id, now);
                }
            }
            for id in std::mem::take(&mut self.flushed) {
                self.chat.handle_flushed(id, now);
            }
            for (id, marker) in std::mem::take(&mut self.written) {
                self.chat.handle_written(id, marker, now);
            }
            self.commit(now);
            self.apply_actions(now);
            self.flush_dirty();
            self.cut_largest_queues(now);
            if self.dead.is_empty() && self.flushed.is_empty() && self.written.is_empty() {
                break;
            }
        }
        self.chat.trim();
        if self.dirty.capacity() > 1 << 16 {
            self.dirty.shrink_to(1024);
        }
        // Compaction is incremental: a bounded step per iteration, never a frozen loop.
        let disk = Instant::now();
        if self.store.wants_compaction() && !self.store.compacting() {
            if let Err(e) = self.store.begin_compaction(self.chat.freeze()) {
                log::error!("compaction failed (will retry): {e}");
            }
        }
        if self.store.compacting() {
            if let Err(e) = self
                .store
                .compaction_step(crate::store::COMPACTION_STEP_BYTES)
            {
                log::error!("compaction failed (will retry): {e}");
            }
        }
        self.iterations.compacted_since(disk);
    }

    /// Sync lazily written records once their second is up (they are already in the page
    /// cache, so a crash of this process alone never loses them).
    fn sync_lazy(&mut self, now: Now) {
        if !self.store.has_unsynced() {
            self.sync_due = None;
            return;
        }
        match self.sync_due {
            None => self.sync_due = Some(now.mono + LAZY_SYNC),
            Some(due) if due <= now.mono => {
                let disk = Instant::now();
                let synced = self.store.sync();
                self.iterations.committed_since(disk);
                self.sync_due = match synced {
                    Ok(()) => None,
                    Err(e) => {
                        log::error!("journal sync failed (will retry): {e}");
                        Some(now.mono + LAZY_SYNC)
                    }
                }
            }
            Some(_) => {}
        }
    }

    /// Make this iteration's records durable before any reply that depends on them leaves.
    fn commit(&mut self, now: Now) {
        if self.chat.pending_records().is_empty() {
            return;
        }
        let disk = Instant::now();
        let result = self.store.commit(self.chat.pending_records());
        self.iterations.committed_since(disk);
        if let Err(e) = &result {
            log::error!("storage commit failed, refusing this iteration's changes: {e}");
        }
        self.chat.handle_commit(result.is_ok(), now);
    }

    fn apply_actions(&mut self, now: Now) {
        let limits = self.limits;
        let mut q = Queues {
            conns: &mut self.conns,
            spare: &mut self.spare,
            dirty: &mut self.dirty,
            dead: &mut self.dead,
            cap: limits.max_output,
            output_total: &mut self.output_total,
            slow_warning: &mut self.slow_warning,
            now: now.mono,
        };
        for action in self.chat.drain_actions() {
            match action {
                Action::Send(id, event) => q.deliver(id, Out::Event(&event)),
                Action::Share(shared, ids) => {
                    for id in ids {
                        q.deliver(id, Out::Shared(&shared));
                    }
                }
                Action::Close(id) => q.dead.push(id),
                Action::CloseAfterFlush(id) => {
                    if let Some(c) = q.conns.get_mut(id.slot).filter(|c| c.id == id) {
                        if c.closing != Closing::AfterFlush {
                            c.closing = Closing::AfterFlush;
                            self.closing.schedule(now.mono + limits.close_timeout, id);
                        }
                        push_dirty(c, q.dirty);
                    }
                }
                Action::WhenWritten(id, marker) => {
                    if let Some(c) = q.conns.get_mut(id.slot).filter(|c| c.id == id) {
                        c.mark(marker);
                        push_dirty(c, q.dirty);
                    }
                }
                Action::NotifyWhenFlushed(id) => {
                    if let Some(c) = q.conns.get_mut(id.slot).filter(|c| c.id == id) {
                        c.notify_flushed = true;
                        push_dirty(c, q.dirty);
                    }
                }
            }
        }
    }

    /// One write pass per dirty connection; what does not fit waits for a writable event.
    fn flush_dirty(&mut self) {
        for id in std::mem::take(&mut self.dirty) {
            let Some(c) = self.conns.get_mut(id.slot).filter(|c| c.id == id) else {
                continue;
            };
            c.dirty = false;
            let before = c.pending();
            let result = c.flush();
            self.operator.bytes_out += before.saturating_sub(c.pending()) as u64;
            self.output_total = (self.output_total + c.pending()).saturating_sub(before);
            let written = &mut self.written;
            c.take_written(|marker| written.push((id, marker)));
            if c.read_paused && c.pending() <= self.limits.max_output / 2 {
                // Edge-triggered: no new event will say the input is still waiting.
                c.read_paused = false;
                self.unread.push(id);
            }
            match result {
                Ok(Some(buf)) => {
                    if c.closing == Closing::AfterFlush {
                        self.dead.push(id);
                    } else if std::mem::take(&mut c.notify_flushed) {
                        self.flushed.push(id);
                    }
                    self.recycle(Some(buf));
                }
                Ok(None) => {}
                Err(e) => {
                    log::info!("{id:?} write error: {e}");
                    self.dead.push(id);
                }
            }
        }
    }

    /// Queued output over all connections above `--max-output-total`: cut the largest queues
    /// first, as slow readers, until the rest fits.
    fn cut_largest_queues(&mut self, now: Now) {
        if self.output_total <= self.limits.max_output_total {
            return;
        }
        let mut queues: Vec<(usize, ConnId)> = self
            .conns
            .iter()
            .filter(|(_, c)| c.pending() > 0 && !self.dead.contains(&c.id))
            .map(|(_, c)| (c.pending(), c.id))
            .collect();
        queues.sort_unstable_by(|a, b| b.cmp(a));
        let mut total = self.output_total;
        let mut cut = 0;
        for (pending, id) in queues {
            if total <= self.limits.max_output_total {
                break;
            }
            total -= pending;
            cut += 1;
            self.dead.push(id);
        }
        let limit = self.limits.max_output_total;
        self.slow_warning.warn(now.mono, || {
            format!("queued output over --max-output-total {limit}: cutting the {cut} largest queues as slow readers")
        });
    }

    fn recycle(&mut self, buf: Option<Vec<u8>>) {
        if let Some(buf) = buf {
            if buf.capacity() > 0
                && buf.capacity() <= SPARE_MAX_CAPACITY
                && self.spare.len() < SPARE_BUFFERS
            {
                self.spare.push(buf);
            }
        }
    }
}
