//! The load generator's own event loop: many non-blocking client sockets on one `mio::Poll`,
//! each with a partial-line buffer, an output buffer, a scripted login and, with `--tls`, a
//! TLS session (`tls.rs`).

use crate::proto::{Proto, Step};
use crate::tls;
use crate::ws;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use socket2::{Domain, Socket, Type};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

/// Where a client is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Non-blocking connect in progress.
    Connecting,
    /// Running login step `n` (its bytes are sent; waiting for its reply line).
    Login(usize),
    /// Logged in: lines go to the workload.
    Ready,
    /// Closed by the peer or failed.
    Dead,
}

/// One client connection.
pub struct Client {
    pub stream: Option<TcpStream>,
    /// Its TLS session when the run speaks TLS.
    tls: Option<Box<rustls::ClientConnection>>,
    /// Its WebSocket when the run speaks WebSocket (`--ws`).
    ws: Option<Box<ws::Ws>>,
    pub phase: Phase,
    steps: Vec<Step>,
    partial: Vec<u8>,
    out: Vec<u8>,
    written: usize,
    /// Ready clients with `discard` set only count bytes (idle members flooded with presence).
    pub discard: bool,
    pub rx_bytes: u64,
    pub error: Option<String>,
}

/// Counters from an `open` phase.
#[derive(Debug, Default)]
pub struct OpenStats {
    pub ready: usize,
    pub failed: usize,
    pub elapsed: Duration,
    /// When each login completed, from the start of the open phase.
    pub ready_at: Vec<Duration>,
    /// Why the first failure happened, if any.
    pub first_error: Option<String>,
    /// The open stopped early (budget or resource exhaustion).
    pub stopped: Option<String>,
}

/// All clients of one workload run.
pub struct Net {
    poll: Poll,
    events: Events,
    pub clients: Vec<Client>,
    scratch: Vec<u8>,
    pub proto: Proto,
    server: SocketAddr,
    /// Cluster benchmarks (issue 23): a second node, and which clients connect to it.
    pub second: Option<(SocketAddr, Route)>,
    /// First source address; client `i` binds `src_base + i / per_src`.
    src_base: u32,
    per_src: usize,
    pub ready: usize,
    pub dead: usize,
    /// Speak TLS to the server, trusting these roots (`--tls`).
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    /// Speak the protocol over a WebSocket with this subprotocol (`--ws`: the server's
    /// `--http-port` or `--https-port`).
    pub ws: Option<ws::Sub>,
}

/// Queue `bytes` for the server: as they are, or as one WebSocket frame once the upgrade is
/// done.
fn push_out(c: &mut Client, bytes: &[u8]) {
    match c.ws.as_deref() {
        Some(socket) if socket.open => ws::frame(bytes, socket.sub, &mut c.out),
        Some(_) | None => c.out.extend_from_slice(bytes),
    }
}

/// Which clients go to the second node (`--addr2`).
#[derive(Clone, Copy, Debug)]
pub enum Route {
    /// Clients from this index on (latency: the senders).
    From(usize),
    /// Clients with an even index above 0 (fan-out: half the members).
    Even,
}

/// Source-address layout for client sockets.
#[derive(Clone, Copy, Debug)]
pub struct Sources {
    pub base: Ipv4Addr,
    pub per_addr: usize,
}

fn fd_hint(e: &io::Error) -> Option<String> {
    match e.raw_os_error() {
        Some(24) | Some(23) => Some(format!(
            "out of file descriptors ({e}); the soft RLIMIT_NOFILE is {}: raise it with `ulimit -n` \
             (as root: `ulimit -Hn 1048576; ulimit -n 1048576`) before starting the loadgen and the server",
            nofile_limit()
        )),
        Some(99) => Some(format!(
            "out of local ports ({e}); spread clients over more source addresses (--per-src smaller)"
        )),
        _ => None,
    }
}

/// The soft open-file limit, read from /proc (no unsafe needed).
pub fn nofile_limit() -> String {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .map(|l| l.split_whitespace().nth(3).unwrap_or("?").to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

impl Net {
    pub fn new(proto: Proto, server: SocketAddr, sources: Sources) -> io::Result<Net> {
        Ok(Net {
            poll: Poll::new()?,
            events: Events::with_capacity(4096),
            clients: Vec::new(),
            scratch: vec![0; 256 * 1024],
            proto,
            server,
            second: None,
            src_base: u32::from(sources.base),
            per_src: sources.per_addr.max(1),
            ready: 0,
            dead: 0,
            tls: None,
            ws: None,
        })
    }

    /// Start a non-blocking connect for one more client with this login script.
    pub fn connect(&mut self, steps: Vec<Step>) -> io::Result<usize> {
        let idx = self.clients.len();
        let src = Ipv4Addr::from(self.src_base + (idx / self.per_src) as u32);
        let sock = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        sock.set_nonblocking(true)?;
        // Abortive close on drop: no TIME_WAIT left behind to exhaust ports on the next run.
        sock.set_linger(Some(Duration::ZERO))?;
        sock.set_tcp_nodelay(true)?;
        let server = match self.second {
            Some((addr, Route::From(first))) if idx >= first => addr,
            Some((addr, Route::Even)) if idx > 0 && idx.is_multiple_of(2) => addr,
            _ => self.server,
        };
        if server.ip().is_loopback() {
            sock.bind(&SocketAddr::V4(SocketAddrV4::new(src, 0)).into())?;
        }
        match sock.connect(&server.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(115) => {} // EINPROGRESS
            Err(e) => return Err(e),
        }
        let mut stream = TcpStream::from_std(sock.into());
        self.poll.registry().register(
            &mut stream,
            Token(idx),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let tls = match &self.tls {
            Some(config) => Some(tls::session(config)?),
            None => None,
        };
        let ws = self.ws.map(|sub| Box::new(ws::Ws::new(sub)));
        self.clients.push(Client {
            stream: Some(stream),
            tls,
            ws,
            phase: Phase::Connecting,
            steps,
            partial: Vec::new(),
            out: Vec::new(),
            written: 0,
            discard: false,
            rx_bytes: 0,
            error: None,
        });
        Ok(idx)
    }

    /// Open `n` clients (scripts from `script(i)`), at most `inflight` logins at a time, until
    /// all are ready or `budget` runs out. Ready clients are drained meanwhile.
    pub fn open(
        &mut self,
        n: usize,
        inflight: usize,
        budget: Duration,
        discard: bool,
        mut script: impl FnMut(usize) -> Vec<Step>,
    ) -> OpenStats {
        let start = Instant::now();
        let deadline = start + budget;
        let first = self.clients.len();
        let (ready0, dead0) = (self.ready, self.dead);
        let mut started = 0;
        let mut stats = OpenStats::default();
        let mut next_report = start + Duration::from_secs(5);
        loop {
            let done = self.ready - ready0;
            let failed = self.dead - dead0;
            let at = start.elapsed();
            while stats.ready_at.len() < done {
                stats.ready_at.push(at);
            }
            if done + failed >= n || (stats.stopped.is_some() && done + failed >= started) {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                stats.stopped = Some(format!(
                    "time budget of {}s used up with {done} of {n} logged in",
                    budget.as_secs()
                ));
                break;
            }
            if now >= next_report {
                eprintln!(
                    "  ... {done} logged in, {failed} failed after {:.1}s",
                    (now - start).as_secs_f64()
                );
                next_report += Duration::from_secs(5);
            }
            while stats.stopped.is_none() && started < n && started - done - failed < inflight {
                match self.connect(script(started)) {
                    Ok(idx) => self.clients[idx].discard = discard,
                    Err(e) => {
                        let msg = fd_hint(&e).unwrap_or_else(|| format!("connect: {e}"));
                        eprintln!("loadgen: {msg}");
                        stats.stopped = Some(msg);
                        break;
                    }
                }
                started += 1;
            }
            if let Err(e) = self.turn(Some(Duration::from_millis(5)), &mut |_, _, _| {}) {
                stats.stopped = Some(format!("poll: {e}"));
                break;
            }
        }
        stats.ready = self.ready - ready0;
        stats.failed = self.dead - dead0;
        stats.elapsed = start.elapsed();
        stats.first_error = self.clients[first..]
            .iter()
            .find_map(|c| c.error.clone())
            .or_else(|| stats.stopped.clone());
        stats
    }

    /// Keep draining until nothing arrived for `quiet`, or `max` passed. Returns the time spent.
    pub fn settle(&mut self, quiet: Duration, max: Duration) -> Duration {
        let start = Instant::now();
        let mut last = self.rx_total();
        let mut last_change = Instant::now();
        while start.elapsed() < max {
            let _ = self.turn(Some(Duration::from_millis(10)), &mut |_, _, _| {});
            let rx = self.rx_total();
            if rx != last {
                last = rx;
                last_change = Instant::now();
            } else if last_change.elapsed() >= quiet {
                break;
            }
        }
        start.elapsed()
    }

    pub fn rx_total(&self) -> u64 {
        self.clients.iter().map(|c| c.rx_bytes).sum()
    }

    /// Queue bytes for a client and try to write them now.
    pub fn send(&mut self, idx: usize, bytes: &[u8]) {
        let c = &mut self.clients[idx];
        if c.phase == Phase::Dead {
            return;
        }
        push_out(c, bytes);
        if c.phase != Phase::Connecting {
            self.flush(idx);
        }
    }

    /// Bytes queued but not yet written for a client (at least 1 while its TLS session still
    /// holds records).
    pub fn pending(&self, idx: usize) -> usize {
        let c = &self.clients[idx];
        let records = c.tls.as_ref().is_some_and(|t| t.wants_write());
        c.out.len() - c.written + usize::from(records)
    }

    /// Whether a TLS client's handshake is done (its Finished is queued or sent).
    pub fn handshaken(&self, idx: usize) -> bool {
        let c = &self.clients[idx];
        c.stream.is_some() && c.tls.as_ref().is_some_and(|t| !t.is_handshaking())
    }

    /// Close one client now (abortive).
    pub fn close(&mut self, idx: usize) {
        let c = &mut self.clients[idx];
        if let Some(mut s) = c.stream.take() {
            let _ = self.poll.registry().deregister(&mut s);
        }
        c.tls = None;
        if c.phase == Phase::Ready {
            self.ready -= 1;
        }
        c.phase = Phase::Dead;
    }

    fn flush(&mut self, idx: usize) {
        let c = &mut self.clients[idx];
        let Some(stream) = c.stream.as_mut() else {
            return;
        };
        if let Some(session) = c.tls.as_mut() {
            if let Err(e) = tls::send(session, stream, &c.out, &mut c.written) {
                self.kill(idx, format!("write: {e}"));
                return;
            }
            if c.written == c.out.len() {
                c.out.clear();
                c.written = 0;
            }
            return;
        }
        while c.written < c.out.len() {
            match stream.write(&c.out[c.written..]) {
                Ok(n) => c.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.kill(idx, format!("write: {e}"));
                    return;
                }
            }
        }
        c.out.clear();
        c.written = 0;
    }

    fn kill(&mut self, idx: usize, why: String) {
        let c = &mut self.clients[idx];
        if c.phase == Phase::Dead {
            return;
        }
        if c.phase == Phase::Ready {
            self.ready -= 1;
        }
        self.dead += 1;
        c.phase = Phase::Dead;
        c.error.get_or_insert(why);
        c.tls = None;
        if let Some(mut s) = c.stream.take() {
            let _ = self.poll.registry().deregister(&mut s);
        }
    }

    /// Close every client (abortive: RST, no TIME_WAIT).
    pub fn close_all(&mut self) {
        for c in &mut self.clients {
            if let Some(mut s) = c.stream.take() {
                let _ = self.poll.registry().deregister(&mut s);
            }
            c.tls = None;
            c.phase = Phase::Dead;
        }
    }

    /// Poll once and handle every event. Ready clients' complete lines (without `\r\n`) go to
    /// `on_line(client, line, received_at)`.
    pub fn turn(
        &mut self,
        timeout: Option<Duration>,
        on_line: &mut dyn FnMut(usize, &[u8], Instant),
    ) -> io::Result<()> {
        match self.poll.poll(&mut self.events, timeout) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            r => r?,
        }
        let tokens: Vec<(usize, bool, bool)> = self
            .events
            .iter()
            .map(|e| {
                (
                    e.token().0,
                    e.is_readable() || e.is_read_closed() || e.is_error(),
                    e.is_writable(),
                )
            })
            .collect();
        for (idx, readable, writable) in tokens {
            if idx >= self.clients.len() || self.clients[idx].phase == Phase::Dead {
                continue;
            }
            if self.clients[idx].phase == Phase::Connecting {
                if !(writable || readable) {
                    continue;
                }
                let c = &mut self.clients[idx];
                let stream = c.stream.as_ref().expect("connecting client has a socket");
                match stream.take_error() {
                    Ok(Some(e)) | Err(e) => {
                        self.kill(idx, format!("connect: {e}"));
                        continue;
                    }
                    Ok(None) => {}
                }
                match stream.peer_addr() {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => continue,
                    Err(e) => {
                        self.kill(idx, format!("connect: {e}"));
                        continue;
                    }
                }
                if let Some(sub) = self.ws {
                    // The upgrade first; the login script starts when the 101 comes.
                    let c = &mut self.clients[idx];
                    c.phase = Phase::Login(0);
                    c.out
                        .extend_from_slice(&ws::request(&self.server.to_string(), sub));
                    self.flush(idx);
                } else {
                    self.start_step(idx, 0);
                }
            }
            if writable {
                self.flush(idx);
            }
            if readable {
                self.read(idx, on_line);
            }
        }
        Ok(())
    }

    /// Send login step `n`, or mark the client ready when the script is done.
    fn start_step(&mut self, idx: usize, n: usize) {
        let c = &mut self.clients[idx];
        if n >= c.steps.len() {
            c.phase = Phase::Ready;
            c.steps = Vec::new();
            self.ready += 1;
            self.flush(idx);
            return;
        }
        c.phase = Phase::Login(n);
        let bytes = std::mem::take(&mut c.steps[n].send);
        push_out(c, &bytes);
        self.flush(idx);
    }

    fn read(&mut self, idx: usize, on_line: &mut dyn FnMut(usize, &[u8], Instant)) {
        let mut scratch = std::mem::take(&mut self.scratch);
        self.read_into(idx, &mut scratch, on_line);
        self.scratch = scratch;
    }

    fn read_into(
        &mut self,
        idx: usize,
        scratch: &mut [u8],
        on_line: &mut dyn FnMut(usize, &[u8], Instant),
    ) {
        loop {
            let c = &mut self.clients[idx];
            let Some(stream) = c.stream.as_mut() else {
                return;
            };
            if let Some(session) = c.tls.as_mut() {
                match tls::read(session, stream, scratch) {
                    Ok(Some(n)) => {
                        self.take(idx, &scratch[..n], on_line);
                        if self.clients[idx].phase == Phase::Dead {
                            return;
                        }
                        continue;
                    }
                    Ok(None) => {
                        // The handshake may have just let queued plaintext go.
                        self.flush(idx);
                        return;
                    }
                    Err(why) => {
                        self.kill(idx, why);
                        return;
                    }
                }
            }
            let n = match stream.read(scratch) {
                Ok(0) => {
                    let why = if c.phase == Phase::Ready {
                        "closed by server".to_string()
                    } else {
                        let tail = String::from_utf8_lossy(&c.partial).into_owned();
                        format!("closed by server during login (last text: {tail:?})")
                    };
                    self.kill(idx, why);
                    return;
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.kill(idx, format!("read: {e}"));
                    return;
                }
            };
            self.take(idx, &scratch[..n], on_line);
            if self.clients[idx].phase == Phase::Dead {
                return;
            }
        }
    }

    /// Received bytes: counted, then split into lines for the login script or the workload.
    fn take(&mut self, idx: usize, data: &[u8], on_line: &mut dyn FnMut(usize, &[u8], Instant)) {
        if let Some(mut socket) = self.clients[idx].ws.take() {
            let was_open = socket.open;
            let mut payload = Vec::new();
            let taken = socket.take(data, &mut payload);
            let open = socket.open;
            self.clients[idx].ws = Some(socket);
            if let Err(why) = taken {
                self.kill(idx, why);
                return;
            }
            if open && !was_open {
                self.start_step(idx, 0);
            }
            return self.take_plain(idx, &payload, on_line);
        }
        self.take_plain(idx, data, on_line)
    }

    fn take_plain(
        &mut self,
        idx: usize,
        data: &[u8],
        on_line: &mut dyn FnMut(usize, &[u8], Instant),
    ) {
        let c = &mut self.clients[idx];
        c.rx_bytes += data.len() as u64;
        if c.phase == Phase::Ready && c.discard {
            return;
        }
        let at = Instant::now();
        let mut data = data;
        // Complete lines; a line split across reads is joined in `partial`.
        while let Some(nl) = memchr::memchr(b'\n', data) {
            let c = &mut self.clients[idx];
            let seg = &data[..nl];
            data = &data[nl + 1..];
            if c.partial.is_empty() {
                let line = seg.strip_suffix(b"\r").unwrap_or(seg);
                self.line(idx, line, at, on_line);
            } else {
                let mut joined = std::mem::take(&mut c.partial);
                joined.extend_from_slice(seg);
                let line = joined.strip_suffix(b"\r").unwrap_or(&joined);
                self.line(idx, line, at, on_line);
            }
            if self.clients[idx].phase == Phase::Dead {
                return;
            }
        }
        let c = &mut self.clients[idx];
        c.partial.extend_from_slice(data);
        if c.partial.len() > 1 << 20 {
            self.kill(idx, "line over 1 MiB from server".into());
        }
    }

    fn line(
        &mut self,
        idx: usize,
        line: &[u8],
        at: Instant,
        on_line: &mut dyn FnMut(usize, &[u8], Instant),
    ) {
        if let Some(pong) = self.proto.keepalive_reply(line) {
            self.send(idx, &pong);
            return;
        }
        match self.clients[idx].phase {
            Phase::Login(n) => {
                let step = &self.clients[idx].steps[n];
                if (step.done)(line) {
                    self.start_step(idx, n + 1);
                } else if let Some(why) = self.proto.login_error(line) {
                    self.kill(idx, format!("login refused: {why}"));
                }
            }
            Phase::Ready => {
                if self.clients[idx].discard {
                    return;
                }
                on_line(idx, line, at);
            }
            _ => {}
        }
    }
}
