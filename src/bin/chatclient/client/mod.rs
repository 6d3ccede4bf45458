//! The client's one mio loop over stdin, signals, the server connection, the peer-to-peer
//! listener and the peer links. Output to the server and to peers only appends to bounded
//! buffers; everything is flushed once per loop iteration. What lines mean lives in [`server`]
//! (the server stream and typed lines), [`rejoin`] (getting back in after the server restarts)
//! and [`peers`] (links).

mod peers;
mod rejoin;
mod server;

use crate::asks::Asks;
use crate::lines::{LineBuf, ServerReader};
use crate::link::{self, Link, State};
use crate::relogin::LoginWatch;
use crate::screen::{show, TerminalEcho};
use crate::sock::{ReadEnd, Sock};
use crate::tls;
use mio::net::TcpListener;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use peers::Expected;
use rejoin::Rejoin;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use slab::Slab;
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

const LISTENER: Token = Token(usize::MAX);
const SERVER: Token = Token(usize::MAX - 1);
const STDIN: Token = Token(usize::MAX - 2);
const SIGNALS: Token = Token(usize::MAX - 3);

/// Bytes read from one socket per pass, so a flooding peer cannot starve the others.
const READ_BUDGET: usize = 64 * 1024;
/// The server's output cap (what the user typed but the server has not read).
const SERVER_OUTPUT_CAP: usize = 1024 * 1024;
/// Incoming links not yet past their token; more are refused at once.
const MAX_PENDING_LINKS: usize = 32;
/// Per-user entries remembered at once (tokens from `P2P-ACCEPT`, lost links): the oldest is
/// forgotten first, so a server that floods machine lines cannot grow them without bound.
const MAX_REMEMBERED: usize = 64;
/// Links of any kind at once; a `P2P` beyond this counts as a link that could not be made.
const MAX_LINKS: usize = 256;
/// How long to wait for the server to close after `exit`.
const EXIT_WAIT: Duration = Duration::from_secs(2);
/// How long a duplicate server notice about a stop we already showed is swallowed.
const SWALLOW_FOR: Duration = Duration::from_secs(10);
/// How long the server may stay silent after the first connection (and its TLS handshake)
/// before the client gives up: a chatserver prompts at once, so a silent peer is not one, or
/// hangs. The same patience as the first TLS handshake's (`tls::HANDSHAKE_WAIT`).
const GREETING_WAIT: Duration = Duration::from_secs(10);

/// Server notices to hide because this side already showed or caused them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Echo {
    Stopped,
    NoSession,
}

/// The whole client: sockets plus the little state the protocol needs.
pub struct Client {
    poll: Poll,
    /// SIGINT, SIGTERM and SIGHUP: leave as at end of input, so the terminal's echo and the
    /// peers are put right (a second one leaves at once).
    signals: Signals,
    /// The server connection while it is up (a reconnect still connecting is in `rejoin`).
    server: Option<Sock>,
    /// Where the server is: the address first connected to, dialled again after a loss.
    server_addr: SocketAddr,
    /// `--tls`: the server connection, its reconnects and the peer links are TLS.
    tls: Option<tls::Settings>,
    reader: ServerReader,
    /// Getting back to the server after a loss.
    rejoin: Rejoin,
    /// Why the last reconnect failed, once said (each new reason is said once).
    rejoin_failure: Option<String>,
    /// The credentials of the last login, for logging in again after a reconnect.
    login: LoginWatch,
    echo: TerminalEcho,
    listener: TcpListener,
    p2p_port: u16,
    links: Slab<Link>,
    /// Requests the user sent that a `P2P` or `P2P-ACCEPT` line may answer.
    asks: Asks,
    /// Tokens from `P2P-ACCEPT`, each naming the user whose incoming link it admits.
    expected: Vec<Expected>,
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
    /// A menu prompt (`Message: `, …) waits for the user's answer: the server takes the whole
    /// next line as the answer, so a `live` now would be sent as the user's message.
    answering: bool,
    /// Unbuffered stdin (a dup of fd 0); `None` after end of input.
    stdin: Option<File>,
    /// Stdin could not be registered (a regular file): read it every iteration instead.
    stdin_unpolled: bool,
    input: LineBuf,
    /// Set once leaving: the time to give up waiting for the server to close.
    exit_by: Option<Instant>,
    /// Until the server's first bytes: when to give up on a server that says nothing.
    greet_by: Option<Instant>,
    /// Why the client stopped, if it failed (the exit status is then 1).
    failure: Option<io::Error>,
    done: bool,
    /// Sockets with more to read than one pass took (edge-triggered: no new event will come).
    again: Vec<Token>,
    scratch: Vec<u8>,
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

impl Client {
    pub fn new(
        mut server: Sock,
        heartbeat: Option<Duration>,
        tls: Option<tls::Settings>,
    ) -> io::Result<Client> {
        let poll = Poll::new()?;
        let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)?;
        let local = server.stream.tcp().local_addr()?;
        let server_addr = server.stream.tcp().peer_addr()?;
        let mut listener = TcpListener::bind(SocketAddr::new(local.ip(), 0))?;
        let p2p_port = listener.local_addr()?.port();
        let both = Interest::READABLE | Interest::WRITABLE;
        poll.registry().register(&mut server.stream, SERVER, both)?;
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
            signals,
            server: Some(server),
            server_addr,
            tls,
            reader: ServerReader::default(),
            rejoin: Rejoin::Off,
            rejoin_failure: None,
            login: LoginWatch::default(),
            echo: TerminalEcho::new(),
            listener,
            p2p_port,
            links: Slab::new(),
            asks: Asks::default(),
            expected: Vec::new(),
            lost: Vec::new(),
            swallow: HashMap::new(),
            logged_in: false,
            p2p_port_unanswered: false,
            live_every: heartbeat.map(|h| h / 3),
            next_live: None,
            answering: false,
            stdin: Some(stdin),
            stdin_unpolled,
            input: LineBuf::default(),
            exit_by: None,
            greet_by: Some(Instant::now() + GREETING_WAIT),
            failure: None,
            done: false,
            // The first TLS handshake may have left the server's first lines decrypted in
            // rustls, where no readiness event will announce them.
            again: vec![SERVER],
            scratch: vec![0; 16 * 1024],
        })
    }

    /// Run until the user leaves. A failing `Poll` is an error, and so is a server that says
    /// nothing within [`GREETING_WAIT`] of the start.
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
                match event.token() {
                    LISTENER | STDIN | SIGNALS => {}
                    // A refused connect may be reported as an error without writability.
                    SERVER if event.is_writable() || event.is_error() => self.server_writable(now),
                    token if event.is_writable() => self.writable(token, now),
                    _ => {}
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
                    SIGNALS => self.signalled(now),
                    Token(key) => self.read_link(key, now),
                }
            }
            self.handle_timeout(now);
            self.flush_all(now);
        }
        self.flush_all(Instant::now());
        self.restore_echo();
        self.failure.take().map_or(Ok(()), Err)
    }

    fn poll_timeout(&self, now: Instant) -> Option<Duration> {
        if !self.again.is_empty() || (self.stdin_unpolled && self.stdin.is_some()) {
            return Some(Duration::ZERO);
        }
        let links = self.links.iter().filter_map(|(_, l)| l.deadline());
        let next = links
            .chain(self.next_live)
            .chain(self.exit_by)
            .chain(self.greet_by)
            .chain(self.rejoin.deadline())
            .min()?;
        // Round up so the wake-up never comes a hair early and spins.
        Some(next.saturating_duration_since(now) + Duration::from_millis(1))
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.next_live.is_some_and(|t| t <= now) {
            if self.answering {
                // The answer, when the user sends it, is the sign of life; the heartbeat
                // starts again from it.
                self.next_live = None;
            } else {
                self.send_server("live", now);
            }
        }
        if self.exit_by.is_some_and(|t| t <= now) {
            self.done = true;
        }
        if self.greet_by.is_some_and(|t| t <= now) {
            let secs = GREETING_WAIT.as_secs();
            let why = format!(
                "no word from the server at {} within {secs} s (is it a chatserver line port?)",
                self.server_addr
            );
            self.failure = Some(io::Error::new(io::ErrorKind::TimedOut, why));
            self.done = true;
        }
        if self.rejoin.deadline().is_some_and(|t| t <= now) {
            self.rejoin_due(now);
        }
        let late: Vec<usize> = self
            .links
            .iter()
            .filter(|(_, l)| l.deadline().is_some_and(|d| d <= now))
            .map(|(k, _)| k)
            .collect();
        for key in late {
            // An outgoing link whose handshake never ended sends its messages through the
            // server; the others (a token never shown, a close never answered) just go.
            self.drop_link(key, now);
        }
    }

    /// Read one socket for up to one budget: the bytes, and whether the socket is gone (EOF or
    /// error; the bytes before the end still count).
    fn read_conn(
        conn: &mut Sock,
        scratch: &mut [u8],
        token: Token,
        again: &mut Vec<Token>,
    ) -> (Vec<u8>, bool) {
        let mut data = Vec::new();
        match conn.read_into(scratch, READ_BUDGET, &mut data) {
            ReadEnd::Drained => (data, false),
            ReadEnd::Budget => {
                again.push(token);
                (data, false)
            }
            ReadEnd::Closed => (data, true),
        }
    }

    /// SIGINT, SIGTERM or SIGHUP: leave; a second one while leaving quits at once.
    fn signalled(&mut self, now: Instant) {
        for _ in 0..self.signals.pending().count() {
            if self.exit_by.is_some() {
                self.done = true;
            } else {
                self.leave(now);
            }
        }
    }

    /// End of input, `exit` or a signal: stop the links, tell the server, give it a moment to
    /// close. At the `Password: ` prompt the server would take `exit` for a password (a failed
    /// login towards the lockout), so the connection is just closed; at a menu prompt, for the
    /// message to send, so the prompt is cancelled first.
    fn leave(&mut self, now: Instant) {
        if self.exit_by.is_some() {
            return;
        }
        self.restore_echo();
        self.close_stdin();
        // Leaving on purpose: a server still silent is no longer a failure.
        self.greet_by = None;
        self.rejoin = Rejoin::Off;
        self.stop_all_links();
        if self.server.is_some() && !self.login.awaiting_password() {
            if std::mem::take(&mut self.answering) {
                // A menu prompt would take `exit` for its answer (a message to send): an
                // empty answer cancels it first.
                self.queue_server("", now);
            }
            self.queue_server("exit", now);
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

    /// Turn the terminal's echo back on if a password prompt turned it off; the line the user
    /// was typing then gets the newline its unechoed Enter did not show.
    fn restore_echo(&mut self) {
        if self.echo.restore() {
            show("\n");
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
                self.server_lost(now);
            }
        }
        let keys: Vec<usize> = self.links.iter().map(|(k, _)| k).collect();
        for key in keys {
            let l = &mut self.links[key];
            if l.state == State::Connecting {
                continue;
            }
            match l.conn.flush() {
                Ok(true) if l.state == State::Stopping => {
                    l.conn.shutdown_write();
                    l.state = State::Closing(now + link::CLOSE_WAIT);
                }
                Ok(_) => l.note_written(),
                Err(_) => self.drop_link(key, now),
            }
        }
    }
}
