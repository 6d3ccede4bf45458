//! The thin mio event loop: accept, read and frame lines, feed the core, commit its records,
//! then write what it says. One thread, one `Poll`, one clock read per iteration.

use crate::chat::{Action, Chat};
use crate::connection::{Closing, Connection, Frame, ReadStatus};
use crate::protocol::text;
use crate::session::ConnId;
use crate::store::Store;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use std::io::{self, Write};
use std::time::{Duration, Instant};

const LISTENER: Token = Token(usize::MAX);
/// errno values for "too many open files" (system-wide, per process).
const ENFILE: i32 = 23;
const EMFILE: i32 = 24;
/// Lazy journal records (history) reach the disk at most this long after they are written.
const LAZY_SYNC: Duration = Duration::from_secs(1);
/// Bytes read from one connection per iteration before others get their turn.
const READ_BUDGET: usize = 64 * 1024;
/// Emptied output buffers kept for reuse, so fan-out does not allocate per iteration.
/// At most 128 x 16 KiB = 2 MiB is kept this way.
const SPARE_BUFFERS: usize = 128;
const SPARE_MAX_CAPACITY: usize = 16 * 1024;

/// Limits the loop enforces itself.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_line: usize,
    pub max_output: usize,
    pub max_clients: usize,
}

/// The event loop's state; `run` drives it.
struct Server {
    poll: Poll,
    listener: TcpListener,
    conns: Slab<Connection>,
    chat: Chat,
    store: Store,
    limits: Limits,
    scratch: Vec<u8>,
    /// Connections with queued output, flushed once per iteration.
    dirty: Vec<usize>,
    /// Connections to remove this iteration.
    dead: Vec<usize>,
    /// Connections that hit the read budget and may hold more input (edge-triggered).
    unread: Vec<usize>,
    /// Connections whose output was all written while the core waited for that.
    flushed: Vec<usize>,
    spare: Vec<Vec<u8>>,
    /// Accepting stopped for lack of file descriptors.
    accept_paused: bool,
    /// Connections closed so far (tells a paused accept that descriptors were freed).
    closed: u64,
    /// When the lazily written journal records must be synced.
    sync_due: Option<Instant>,
}

fn push_dirty(c: &mut Connection, k: usize, dirty: &mut Vec<usize>) {
    if !c.dirty {
        c.dirty = true;
        dirty.push(k);
    }
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// Serve until the poller or listener fails. Per-connection errors close that connection only.
pub fn run(
    listener: std::net::TcpListener,
    chat: Chat,
    store: Store,
    limits: Limits,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(listener);
    let poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut server = Server {
        poll,
        listener,
        conns: Slab::new(),
        chat,
        store,
        limits,
        scratch: vec![0; 64 * 1024],
        dirty: Vec::new(),
        dead: Vec::new(),
        unread: Vec::new(),
        flushed: Vec::new(),
        spare: Vec::new(),
        accept_paused: false,
        closed: 0,
        sync_due: None,
    };
    let mut events = Events::with_capacity(1024);
    loop {
        let timeout = if server.unread.is_empty() {
            let next = server.chat.poll_timeout();
            let next = match (next, server.sync_due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            next.map(until)
        } else {
            Some(Duration::ZERO)
        };
        match server.poll.poll(&mut events, timeout) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => other?,
        }
        let now = Instant::now();
        let closed_before = server.closed;
        for k in std::mem::take(&mut server.unread) {
            server.read(k, now);
        }
        for event in events.iter() {
            match event.token() {
                LISTENER => {
                    server.accept_paused = false;
                    server.accept(now)?;
                }
                Token(k) => {
                    if event.is_read_closed() || event.is_error() {
                        if let Some(c) = server.conns.get_mut(k) {
                            c.peer_closed = true;
                        }
                    }
                    if event.is_readable() || event.is_read_closed() || event.is_error() {
                        server.read(k, now);
                    }
                    if event.is_writable() {
                        server.mark_dirty(k);
                    }
                }
            }
        }
        server.chat.handle_timeout(now);
        server.settle(now);
        server.sync_lazy(now);
        if server.accept_paused && server.closed != closed_before {
            // Descriptors were freed: edge-triggered, so nobody else will say the backlog waits.
            server.accept_paused = false;
            server.accept(now)?;
            server.settle(now);
        }
    }
}

/// Time from now until `deadline`, rounded up to whole milliseconds so we never wake early.
fn until(deadline: Instant) -> Duration {
    let d = deadline.saturating_duration_since(Instant::now());
    let ms = d.as_nanos().div_ceil(1_000_000);
    Duration::from_millis(ms as u64)
}

impl Server {
    /// Accept until WouldBlock (edge-triggered: no further event is guaranteed otherwise).
    fn accept(&mut self, now: Instant) -> io::Result<()> {
        loop {
            let (mut stream, peer) = match self.listener.accept() {
                Ok(pair) => pair,
                Err(e) if would_block(&e) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error().is_some_and(|c| c == ENFILE || c == EMFILE) => {
                    // Out of descriptors: the backlog waits; retry when a connection closes.
                    if !self.accept_paused {
                        log::warn!("accept: {e} (raise the open-file limit)");
                    }
                    self.accept_paused = true;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(e) => return Err(e),
            };
            if self.conns.len() >= self.limits.max_clients {
                log::warn!("refusing {peer}: server full");
                let _ = stream.write(text::SERVER_FULL.as_bytes());
                continue;
            }
            let _ = stream.set_nodelay(true);
            let entry = self.conns.vacant_entry();
            let k = entry.key();
            let interest = Interest::READABLE | Interest::WRITABLE;
            if let Err(e) = self
                .poll
                .registry()
                .register(&mut stream, Token(k), interest)
            {
                log::warn!("register {peer}: {e}");
                continue;
            }
            entry.insert(Connection::new(stream));
            log::info!("{:?} connected from {peer}", ConnId(k));
            self.chat.handle_connect(ConnId(k), Some(peer), now);
        }
    }

    /// Drain a readable connection, feeding every framed line to the core.
    fn read(&mut self, k: usize, now: Instant) {
        let Some(conn) = self.conns.get_mut(k) else {
            return;
        };
        if conn.closing != Closing::Open {
            return;
        }
        let (chat, max) = (&mut self.chat, self.limits.max_line);
        let id = ConnId(k);
        let feed = |frame: Frame<'_>| match frame {
            Frame::Line(line) => chat.handle_line(id, line, now),
            Frame::Bad(err) => chat.handle_bad_line(id, err, now),
        };
        let mut feed = feed;
        let status = conn.read(&mut self.scratch, READ_BUDGET, |framer, data| {
            framer.feed(data, max, &mut feed)
        });
        match status {
            Ok(ReadStatus::Drained) => {}
            Ok(ReadStatus::Budget) => self.unread.push(k),
            Ok(ReadStatus::Eof) => {
                conn.framer.finish(max, &mut feed);
                // Half-closed: answer what was sent, then close.
                conn.closing = Closing::AfterFlush;
                push_dirty(conn, k, &mut self.dirty);
            }
            Err(e) => {
                log::info!("{id:?} read error: {e}");
                self.dead.push(k);
            }
        }
    }

    fn mark_dirty(&mut self, k: usize) {
        if let Some(c) = self.conns.get_mut(k) {
            push_dirty(c, k, &mut self.dirty);
        }
    }

    /// Commit, perform the core's actions, flush, reap; repeat while reaping makes more output.
    fn settle(&mut self, now: Instant) {
        loop {
            for k in std::mem::take(&mut self.dead) {
                if let Some(mut conn) = self.conns.try_remove(k) {
                    let _ = self.poll.registry().deregister(&mut conn.stream);
                    self.closed += 1;
                    log::info!("{:?} closed", ConnId(k));
                    self.chat.handle_disconnect(ConnId(k), now);
                }
            }
            for k in std::mem::take(&mut self.flushed) {
                self.chat.handle_flushed(ConnId(k), now);
            }
            self.commit(now);
            self.apply_actions();
            self.flush_dirty();
            if self.dead.is_empty() && self.flushed.is_empty() {
                break;
            }
        }
        self.chat.trim();
        if self.dirty.capacity() > 1 << 16 {
            self.dirty.shrink_to(1024);
        }
        if self.store.wants_compaction() {
            if let Err(e) = self.store.compact(&self.chat.snapshot()) {
                log::error!("compaction failed (will retry): {e}");
            }
        }
    }

    /// Sync lazily written records once their second is up (they are already in the page
    /// cache, so a crash of this process alone never loses them).
    fn sync_lazy(&mut self, now: Instant) {
        if !self.store.has_unsynced() {
            self.sync_due = None;
            return;
        }
        match self.sync_due {
            None => self.sync_due = Some(now + LAZY_SYNC),
            Some(due) if due <= now => {
                self.sync_due = match self.store.sync() {
                    Ok(()) => None,
                    Err(e) => {
                        log::error!("journal sync failed (will retry): {e}");
                        Some(now + LAZY_SYNC)
                    }
                }
            }
            Some(_) => {}
        }
    }

    /// Make this iteration's records durable before any reply that depends on them leaves.
    fn commit(&mut self, now: Instant) {
        if self.chat.pending_records().is_empty() {
            return;
        }
        let result = self.store.commit(self.chat.pending_records());
        if let Err(e) = &result {
            log::error!("storage commit failed, refusing this iteration's changes: {e}");
        }
        self.chat.handle_commit(result.is_ok(), now);
    }

    fn apply_actions(&mut self) {
        let limits = self.limits;
        for action in self.chat.drain_actions() {
            let (k, payload) = match action {
                Action::Send(ConnId(k), p) => (k, p),
                Action::Close(ConnId(k)) => {
                    self.dead.push(k);
                    continue;
                }
                Action::CloseAfterFlush(ConnId(k)) => {
                    if let Some(c) = self.conns.get_mut(k) {
                        c.closing = Closing::AfterFlush;
                        push_dirty(c, k, &mut self.dirty);
                    }
                    continue;
                }
                Action::NotifyWhenFlushed(ConnId(k)) => {
                    if let Some(c) = self.conns.get_mut(k) {
                        c.notify_flushed = true;
                        push_dirty(c, k, &mut self.dirty);
                    }
                    continue;
                }
            };
            let Some(c) = self.conns.get_mut(k) else {
                continue;
            };
            let spare = &mut self.spare;
            let mut queued = c.queue(payload.as_bytes(), limits.max_output, || {
                spare.pop().unwrap_or_default()
            });
            if queued.is_err() {
                // Over the cap: it is a slow reader only if the socket will not take it either.
                if let Ok(Some(buf)) = c.flush() {
                    c.restore_buffer(buf);
                }
                queued = c.queue(payload.as_bytes(), limits.max_output, Vec::new);
            }
            if queued.is_err() {
                log::warn!(
                    "{:?} output buffer over {} bytes: disconnecting slow reader",
                    ConnId(k),
                    limits.max_output
                );
                self.dead.push(k);
                continue;
            }
            push_dirty(c, k, &mut self.dirty);
        }
    }

    /// One write pass per dirty connection; what does not fit waits for a writable event.
    fn flush_dirty(&mut self) {
        for k in std::mem::take(&mut self.dirty) {
            let Some(c) = self.conns.get_mut(k) else {
                continue;
            };
            c.dirty = false;
            match c.flush() {
                Ok(Some(buf)) => {
                    if c.closing == Closing::AfterFlush {
                        self.dead.push(k);
                    } else if std::mem::take(&mut c.notify_flushed) {
                        self.flushed.push(k);
                    }
                    self.recycle(Some(buf));
                }
                Ok(None) => {}
                Err(e) => {
                    log::info!("{:?} write error: {e}", ConnId(k));
                    self.dead.push(k);
                }
            }
        }
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
