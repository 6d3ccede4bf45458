//! The client's one mio loop over stdin, the server connection, the peer-to-peer listener and
//! the peer links, with what each line means. Output to the server and to peers only appends to
//! bounded buffers; everything is flushed once per loop iteration.

use crate::lines::{self, End, Input, LineBuf, Piece, ServerLine, ServerReader};
use crate::link::{self, Link, Received, State};
use chatserver::connection::{Connection, ReadStatus};
use mio::net::{TcpListener, TcpStream};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

const LISTENER: Token = Token(usize::MAX);
const SERVER: Token = Token(usize::MAX - 1);
const STDIN: Token = Token(usize::MAX - 2);

/// Bytes read from one socket per pass, so a flooding peer cannot starve the others.
const READ_BUDGET: usize = 64 * 1024;
/// The server's output cap (what the user typed but the server has not read).
const SERVER_OUTPUT_CAP: usize = 1024 * 1024;
/// Incoming links not yet past their token; more are refused at once.
const MAX_PENDING_LINKS: usize = 32;
/// Tokens remembered from `P2P-ACCEPT` at once (the oldest is forgotten first).
const MAX_EXPECTED: usize = 64;
/// How long to wait for the server to close after `exit`.
const EXIT_WAIT: Duration = Duration::from_secs(2);
/// How long a duplicate server notice about a stop we already showed is swallowed.
const SWALLOW_FOR: Duration = Duration::from_secs(10);

/// Server notices to hide because this side already showed or caused them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Echo {
    Stopped,
    NoSession,
}

/// The whole client: sockets plus the little state the protocol needs.
pub struct Client {
    poll: Poll,
    server: Option<Connection>,
    reader: ServerReader,
    listener: TcpListener,
    p2p_port: u16,
    links: Slab<Link>,
    /// Tokens from `P2P-ACCEPT`, each naming the user whose incoming link it admits.
    expected: Vec<(String, String)>,
    /// Users whose link was lost and who have not yet been told so.
    lost: Vec<String>,
    /// Server notices to swallow, until the given time.
    swallow: HashMap<(String, Echo), Instant>,
    logged_in: bool,
    /// `p2p-port` was the last line sent: an `Error. Invalid command` now is a server without
    /// peer-to-peer support refusing it, not something the user did, so it is not shown.
    p2p_port_unanswered: bool,
    /// The `live` interval (a third of `--heartbeat`).
    live_every: Option<Duration>,
    next_live: Option<Instant>,
    /// Unbuffered stdin (a dup of fd 0); `None` after end of input.
    stdin: Option<File>,
    /// Stdin could not be registered (a regular file): read it every iteration instead.
    stdin_unpolled: bool,
    input: LineBuf,
    /// Set once leaving: the time to give up waiting for the server to close.
    exit_by: Option<Instant>,
    done: bool,
    /// Sockets with more to read than one pass took (edge-triggered: no new event will come).
    again: Vec<Token>,
    scratch: Vec<u8>,
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// Print to stdout at once; a closed stdout is not worth dying for.
fn show(text: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

impl Client {
    pub fn new(server: TcpStream, heartbeat: Option<Duration>) -> io::Result<Client> {
        let poll = Poll::new()?;
        let local = server.local_addr()?;
        let mut listener = TcpListener::bind(SocketAddr::new(local.ip(), 0))?;
        let p2p_port = listener.local_addr()?.port();
        let mut server = server;
        let both = Interest::READABLE | Interest::WRITABLE;
        poll.registry().register(&mut server, SERVER, both)?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let stdin = File::from(io::stdin().as_fd().try_clone_to_owned()?);
        // epoll refuses regular files (EPERM); they never block, so read them in turn instead.
        let stdin_unpolled = poll
            .registry()
            .register(&mut SourceFd(&0), STDIN, Interest::READABLE)
            .is_err();
        Ok(Client {
            poll,
            server: Some(Connection::new(server)),
            reader: ServerReader::default(),
            listener,
            p2p_port,
            links: Slab::new(),
            expected: Vec::new(),
            lost: Vec::new(),
            swallow: HashMap::new(),
            logged_in: false,
            p2p_port_unanswered: false,
            live_every: heartbeat.map(|h| h / 3),
            next_live: None,
            stdin: Some(stdin),
            stdin_unpolled,
            input: LineBuf::default(),
            exit_by: None,
            done: false,
            again: Vec::new(),
            scratch: vec![0; 16 * 1024],
        })
    }

    /// Run until the user leaves. Only a failing `Poll` is an error.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(128);
        while !self.done {
            let timeout = self.poll_timeout(Instant::now());
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            let mut ready: Vec<Token> = std::mem::take(&mut self.again);
            for event in events.iter() {
                if event.is_read_closed() || event.is_error() {
                    self.mark_peer_closed(event.token());
                }
                if event.token() != LISTENER && event.token() != STDIN && event.is_writable() {
                    self.writable(event.token());
                }
                ready.push(event.token());
            }
            if self.stdin_unpolled && self.stdin.is_some() {
                ready.push(STDIN);
            }
            ready.sort_unstable();
            ready.dedup();
            for token in ready {
                match token {
                    LISTENER => self.accept(now),
                    SERVER => self.read_server(now),
                    STDIN => self.read_stdin(now),
                    Token(key) => self.read_link(key),
                }
            }
            self.handle_timeout(now);
            self.flush_all(now);
        }
        self.flush_all(Instant::now());
        Ok(())
    }

    fn poll_timeout(&self, now: Instant) -> Option<Duration> {
        if !self.again.is_empty() || (self.stdin_unpolled && self.stdin.is_some()) {
            return Some(Duration::ZERO);
        }
        let links = self.links.iter().filter_map(|(_, l)| l.state.deadline());
        let next = links.chain(self.next_live).chain(self.exit_by).min()?;
        // Round up so the wake-up never comes a hair early and spins.
        Some(next.saturating_duration_since(now) + Duration::from_millis(1))
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.next_live.is_some_and(|t| t <= now) {
            self.send_server("live", now);
        }
        if self.exit_by.is_some_and(|t| t <= now) {
            self.done = true;
        }
        let late: Vec<usize> = self
            .links
            .iter()
            .filter(|(_, l)| l.state.deadline().is_some_and(|d| d <= now))
            .map(|(k, _)| k)
            .collect();
        for key in late {
            self.links.remove(key);
        }
    }

    fn mark_peer_closed(&mut self, token: Token) {
        match token {
            SERVER => {
                if let Some(s) = self.server.as_mut() {
                    s.peer_closed = true;
                }
            }
            Token(key) => {
                if let Some(l) = self.links.get_mut(key) {
                    l.conn.peer_closed = true;
                }
            }
        }
    }

    /// A writable event on an outgoing link is where its connect succeeds or fails.
    fn writable(&mut self, token: Token) {
        let Some(link) = self.links.get_mut(token.0) else {
            return;
        };
        if link.state != State::Connecting {
            return;
        }
        match link.conn.stream.take_error() {
            Ok(None) => {}
            Ok(Some(_)) | Err(_) => return self.drop_link(token.0),
        }
        match link.conn.stream.peer_addr() {
            Ok(_) => link.state = State::Up,
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
            Err(_) => self.drop_link(token.0),
        }
    }

    fn accept(&mut self, now: Instant) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    let pending = self
                        .links
                        .iter()
                        .filter(|(_, l)| matches!(l.state, State::AwaitingToken(_)))
                        .count();
                    if pending >= MAX_PENDING_LINKS {
                        continue;
                    }
                    let state = State::AwaitingToken(now + link::TOKEN_WAIT);
                    self.add_link(stream, state, "");
                }
                Err(e) if would_block(&e) => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Per-connection failures (ECONNABORTED, EMFILE): try again at the next event.
                Err(_) => return,
            }
        }
    }

    /// Read one socket for up to one budget: the bytes, and whether the socket is gone (EOF or
    /// error; the bytes before the end still count).
    fn read_conn(
        conn: &mut Connection,
        scratch: &mut [u8],
        token: Token,
        again: &mut Vec<Token>,
    ) -> (Vec<u8>, bool) {
        let mut data = Vec::new();
        let status = conn.read(scratch, READ_BUDGET, |_, d| data.extend_from_slice(d));
        match status {
            Ok(ReadStatus::Drained) => (data, false),
            Ok(ReadStatus::Budget) => {
                again.push(token);
                (data, false)
            }
            Ok(ReadStatus::Eof) | Err(_) => (data, true),
        }
    }

    fn read_server(&mut self, now: Instant) {
        let Some(conn) = self.server.as_mut() else {
            return;
        };
        let (data, ended) = Self::read_conn(conn, &mut self.scratch, SERVER, &mut self.again);
        for piece in self.reader.feed(&data) {
            self.server_piece(piece, now);
        }
        if ended {
            self.server_lost();
        }
    }

    fn server_lost(&mut self) {
        if self.server.take().is_none() {
            return;
        }
        self.logged_in = false;
        self.next_live = None;
        if self.exit_by.is_some() {
            self.done = true;
        } else {
            show("Server connection lost\n");
        }
    }

    fn server_piece(&mut self, piece: Piece, now: Instant) {
        let fresh = piece.text.get(piece.shown..).unwrap_or_default();
        match piece.end {
            End::Open => show(fresh),
            End::Prompt => {
                show(fresh);
                if piece.text == lines::USERNAME_PROMPT {
                    self.set_logged_out();
                }
            }
            End::Newline => {
                if self.server_line(&piece.text, now) {
                    show(&format!("{fresh}\n"));
                }
            }
        }
    }

    fn set_logged_out(&mut self) {
        self.logged_in = false;
        self.next_live = None;
    }

    fn swallowed(&mut self, user: &str, echo: Echo, now: Instant) -> bool {
        self.swallow
            .remove(&(user.to_string(), echo))
            .is_some_and(|until| until > now)
    }

    /// Act on a complete server line; `true` if it is to be shown.
    fn server_line(&mut self, line: &str, now: Instant) -> bool {
        match ServerLine::parse(line) {
            ServerLine::Welcome => {
                self.logged_in = true;
                let port = format!("p2p-port {}", self.p2p_port);
                self.send_server(&port, now);
                self.p2p_port_unanswered = true;
            }
            ServerLine::LoggedOut => self.leave_now(),
            ServerLine::IdleLoggedOut => self.set_logged_out(),
            ServerLine::P2p { user, addr, token } => {
                self.connect_link(user, addr, token);
                return false;
            }
            ServerLine::P2pAccept { user, token } => {
                self.forget_session(user);
                self.expected.retain(|(_, u)| u != user);
                if self.expected.len() >= MAX_EXPECTED {
                    self.expected.remove(0);
                }
                self.expected.push((token.to_string(), user.to_string()));
                return false;
            }
            ServerLine::Stopped(user) => {
                let swallowed = self.swallowed(user, Echo::Stopped, now);
                self.expected.retain(|(_, u)| u != user);
                if let Some(key) = self.link_of(user) {
                    self.links.remove(key);
                }
                return !swallowed;
            }
            ServerLine::NoSession(user) => return !self.swallowed(user, Echo::NoSession, now),
            ServerLine::Other if line == "Error. Invalid command" => {
                return !std::mem::take(&mut self.p2p_port_unanswered);
            }
            ServerLine::Other => return !ServerLine::is_machine(line),
        }
        true
    }

    /// A new session with `user` starts clean: no stale link, notice or swallowed echo.
    fn forget_session(&mut self, user: &str) {
        if let Some(key) = self.link_of(user) {
            self.links.remove(key);
        }
        self.lost.retain(|u| u != user);
        self.swallow.retain(|(u, _), _| u != user);
    }

    fn connect_link(&mut self, user: &str, addr: SocketAddr, token: &str) {
        self.forget_session(user);
        let Ok(stream) = TcpStream::connect(addr) else {
            return self.mark_lost(user);
        };
        match self.add_link(stream, State::Connecting, user) {
            Some(key) => {
                self.links[key].queue_raw(format!("{token}\n").as_bytes());
            }
            None => self.mark_lost(user),
        }
    }

    /// Register a new link socket (its slab key is its token); `None` if that fails.
    fn add_link(&mut self, mut stream: TcpStream, state: State, user: &str) -> Option<usize> {
        let entry = self.links.vacant_entry();
        let key = entry.key();
        let both = Interest::READABLE | Interest::WRITABLE;
        self.poll
            .registry()
            .register(&mut stream, Token(key), both)
            .ok()?;
        entry.insert(Link::new(Connection::new(stream), state, user.to_string()));
        Some(key)
    }

    /// Remember to tell the user, at the next message to `user`, that the relay takes over.
    fn mark_lost(&mut self, user: &str) {
        if !self.lost.iter().any(|u| u == user) {
            self.lost.push(user.to_string());
        }
    }

    fn link_of(&self, user: &str) -> Option<usize> {
        self.links
            .iter()
            .find(|(_, l)| l.user == user && matches!(l.state, State::Connecting | State::Up))
            .map(|(k, _)| k)
    }

    fn read_link(&mut self, key: usize) {
        let Some(l) = self.links.get_mut(key) else {
            return;
        };
        let (data, ended) =
            Self::read_conn(&mut l.conn, &mut self.scratch, Token(key), &mut self.again);
        let mut got = Vec::new();
        l.reader.feed(&data, |line| got.push(line.to_vec()));
        for line in got {
            if !self.link_line(key, &line) {
                return;
            }
        }
        if ended {
            self.drop_link(key);
        }
    }

    /// Act on one line from a link; `false` once the link is gone.
    fn link_line(&mut self, key: usize, line: &[u8]) -> bool {
        let Some(l) = self.links.get_mut(key) else {
            return false;
        };
        match l.state {
            State::AwaitingToken(_) => {
                let found =
                    self.expected
                        .iter()
                        .fold(None, |hit, (t, u)| match lines::token_eq(line, t) {
                            true => Some(u.clone()),
                            false => hit,
                        });
                let Some(user) = found else {
                    self.links.remove(key);
                    return false;
                };
                self.expected.retain(|(_, u)| *u != user);
                if let Some(old) = self.link_of(&user) {
                    self.links.remove(old);
                }
                self.lost.retain(|u| *u != user);
                let l = &mut self.links[key];
                l.user = user;
                l.state = State::Up;
                true
            }
            State::Up | State::Connecting => match link::classify(line) {
                Received::Text(text) => {
                    show(&format!("{}(private): {}\n", l.user, lines::lossy(text)));
                    true
                }
                Received::Control => true,
                Received::Stop => {
                    let user = l.user.clone();
                    self.links.remove(key);
                    self.stopped(&user, Instant::now());
                    false
                }
            },
            State::Stopping | State::Closing(_) => true,
        }
    }

    /// The session with `user` ended here or at the peer: say so, tell the server once, and
    /// hide the server's echoes of the same stop.
    fn stopped(&mut self, user: &str, now: Instant) {
        show(&format!("Private messaging with {user} stopped\n"));
        for echo in [Echo::Stopped, Echo::NoSession] {
            self.swallow
                .insert((user.to_string(), echo), now + SWALLOW_FOR);
        }
        if self.server.is_some() {
            self.send_server(&format!("stopprivate {user}"), now);
        }
    }

    /// A link broke or could not be made: what never left goes through the server.
    fn drop_link(&mut self, key: usize) {
        let Some(mut l) = self.links.try_remove(key) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut l.conn.stream);
        if !matches!(l.state, State::Connecting | State::Up) {
            return;
        }
        let unsent = l.take_unsent();
        if unsent.is_empty() {
            return self.mark_lost(&l.user);
        }
        show(&down_notice(&l.user));
        let now = Instant::now();
        for text in unsent {
            self.send_server(&format!("private {} {text}", l.user), now);
        }
    }

    fn read_stdin(&mut self, now: Instant) {
        let Some(stdin) = self.stdin.as_mut() else {
            return;
        };
        // Readiness was reported (or stdin is a regular file), so this read does not block.
        let n = match stdin.read(&mut self.scratch) {
            Ok(n) => n,
            Err(e) if would_block(&e) || e.kind() == io::ErrorKind::Interrupted => return,
            Err(_) => 0,
        };
        if n == 0 {
            self.close_stdin();
            let mut tail = Vec::new();
            self.input.feed(b"\n", |l| tail = l.to_vec());
            if !tail.is_empty() {
                self.typed(&lines::lossy(&tail), now);
            }
            return self.leave(now);
        }
        if n == self.scratch.len() && !self.stdin_unpolled {
            // More may be waiting and the edge is spent: re-arm it.
            let _ = self
                .poll
                .registry()
                .reregister(&mut SourceFd(&0), STDIN, Interest::READABLE);
        }
        let mut got = Vec::new();
        self.input
            .feed(&self.scratch[..n], |l| got.push(lines::lossy(l)));
        for line in got {
            if self.stdin.is_none() || self.exit_by.is_some() {
                return;
            }
            self.typed(&line, now);
        }
    }

    fn typed(&mut self, line: &str, now: Instant) {
        match Input::parse(line) {
            Input::Private { user, text } => {
                if let Some(key) = self.link_of(user) {
                    if self.links[key].queue_text(text) {
                        return;
                    }
                    self.drop_link(key);
                    return self.send_server(line, now);
                }
                if let Some(i) = self.lost.iter().position(|u| u == user) {
                    self.lost.swap_remove(i);
                    show(&down_notice(user));
                }
                self.send_server(line, now);
            }
            Input::StopPrivate(user) => {
                if let Some(key) = self.link_of(user) {
                    let l = &mut self.links[key];
                    l.state = State::Stopping;
                    l.queue_raw(b"\x04stop\n");
                    self.stopped(user, now);
                } else {
                    self.send_server(line, now);
                }
            }
            Input::Exit => self.leave(now),
            Input::Other => self.send_server(line, now),
        }
    }

    /// Queue a line for the server; a typed line with no server to take it is said to be lost.
    fn send_server(&mut self, line: &str, now: Instant) {
        self.p2p_port_unanswered = false;
        let Some(conn) = self.server.as_mut() else {
            show("Not connected to the server\n");
            return;
        };
        let bytes = format!("{line}\n");
        if conn
            .queue(bytes.as_bytes(), SERVER_OUTPUT_CAP, Vec::new)
            .is_err()
        {
            return self.server_lost();
        }
        if self.logged_in {
            self.next_live = self.live_every.map(|every| now + every);
        }
    }

    /// End of input or `exit`: stop the links, tell the server, give it a moment to close.
    fn leave(&mut self, now: Instant) {
        if self.exit_by.is_some() {
            return;
        }
        self.close_stdin();
        self.stop_all_links();
        if self.server.is_some() {
            self.send_server("exit", now);
            self.next_live = None;
            self.exit_by = Some(now + EXIT_WAIT);
        } else {
            self.done = true;
        }
    }

    fn close_stdin(&mut self) {
        if self.stdin.take().is_some() && !self.stdin_unpolled {
            let _ = self.poll.registry().deregister(&mut SourceFd(&0));
        }
    }

    /// The server confirmed `logout`: leave at once.
    fn leave_now(&mut self) {
        self.stop_all_links();
        self.done = true;
    }

    fn stop_all_links(&mut self) {
        for (_, l) in self.links.iter_mut() {
            if matches!(l.state, State::Up) {
                l.queue_raw(b"\x04stop\n");
            }
            l.state = State::Stopping;
        }
    }

    /// Write what is queued everywhere; close links that are done or broken.
    fn flush_all(&mut self, now: Instant) {
        if let Some(conn) = self.server.as_mut() {
            if conn.flush().is_err() {
                self.server_lost();
            }
        }
        let keys: Vec<usize> = self.links.iter().map(|(k, _)| k).collect();
        for key in keys {
            let l = &mut self.links[key];
            if l.state == State::Connecting {
                continue;
            }
            match l.conn.flush() {
                Ok(Some(_)) if l.state == State::Stopping => {
                    let _ = l.conn.stream.shutdown(Shutdown::Write);
                    l.state = State::Closing(now + link::CLOSE_WAIT);
                }
                Ok(_) => l.note_written(),
                Err(_) => self.drop_link(key),
            }
        }
    }
}

fn down_notice(user: &str) -> String {
    format!("Direct link to {user} is down; sending through the server\n")
}
