//! The server side of the client: the server's stream (prompts, machine lines, the echoes to
//! hide) and what the user types. A `P2P` or `P2P-ACCEPT` line is acted on only as the answer
//! to a request the user sent (see [`crate::asks`]); any other is shown as the text it is.

use super::peers::down_notice;
use super::{show, would_block, Client, Echo, SERVER, SERVER_OUTPUT_CAP, STDIN};
use crate::asks::{same_user, Ask};
use crate::lines::{self, End, Piece};
use crate::link::State;
use crate::parse::{self, Input, ServerLine};
use mio::unix::SourceFd;
use mio::Interest;
use std::io::{self, Read};
use std::time::Instant;

impl Client {
    pub(super) fn read_server(&mut self, now: Instant) {
        let Some(conn) = self.server.as_mut() else {
            return;
        };
        let (data, ended) = Self::read_conn(conn, &mut self.scratch, SERVER, &mut self.again);
        if !data.is_empty() {
            self.greet_by = None;
        }
        for piece in self.reader.feed(&data) {
            self.server_piece(piece, now);
        }
        if ended {
            self.server_lost(now);
        }
    }

    /// The server connection ended (EOF, an error, or its output cap): everything the server
    /// knew of this client (requests, its place in the login dialog) is gone with it.
    pub(super) fn server_lost(&mut self, now: Instant) {
        let Some(mut conn) = self.server.take() else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut conn.stream);
        if self.rejoin.logging_in() {
            self.rejoin_failed(conn.failure.take());
        }
        let was_logged_in = std::mem::take(&mut self.logged_in);
        self.next_live = None;
        self.answering = false;
        self.p2p_port_unanswered = false;
        self.reader = Default::default();
        self.asks.clear();
        self.restore_echo();
        if self.exit_by.is_some() {
            self.done = true;
        } else if !self.rejoin_after_loss(was_logged_in, now) {
            show("Server connection lost\n");
        }
    }

    pub(super) fn server_piece(&mut self, mut piece: Piece, now: Instant) {
        if self.rejoin_piece(&mut piece, now) {
            return;
        }
        let fresh = piece.text.get(piece.shown..).unwrap_or_default();
        match piece.end {
            End::Open => show(fresh),
            End::Prompt => {
                self.login.prompted(&piece.text);
                self.answering = parse::MENU_PROMPTS.contains(&piece.text.as_str());
                if piece.text == parse::USERNAME_PROMPT {
                    self.set_logged_out();
                } else if piece.text == parse::PASSWORD_PROMPT && self.exit_by.is_none() {
                    // Before the prompt shows, so nothing typed at it is ever echoed.
                    self.echo.hide();
                }
                show(fresh);
            }
            End::Newline => {
                if self.server_line(&piece.text, now) {
                    show(&format!("{fresh}\n"));
                }
            }
        }
    }

    pub(super) fn set_logged_out(&mut self) {
        self.logged_in = false;
        self.answering = false;
        self.next_live = None;
    }

    pub(super) fn swallowed(&mut self, user: &str, echo: Echo, now: Instant) -> bool {
        self.swallow
            .remove(&(user.to_string(), echo))
            .is_some_and(|until| until > now)
    }

    /// Logged in (by the user, or again after a reconnect): announce the peer-to-peer port,
    /// and with `--tls` the fingerprint of the key its links are made with.
    pub(super) fn welcomed(&mut self, now: Instant) {
        self.logged_in = true;
        let port = match &self.tls {
            Some(tls) => format!("p2p-port {} {}", self.p2p_port, tls.peer_key()),
            None => format!("p2p-port {}", self.p2p_port),
        };
        self.send_server(&port, now);
        self.p2p_port_unanswered = true;
    }

    /// Act on a complete server line; `true` if it is to be shown.
    pub(super) fn server_line(&mut self, line: &str, now: Instant) -> bool {
        match ServerLine::parse(line) {
            ServerLine::Welcome => {
                self.login.welcomed();
                self.welcomed(now);
            }
            ServerLine::LoggedOut => self.leave_now(),
            ServerLine::Ended => self.set_logged_out(),
            ServerLine::P2p {
                user,
                addr,
                token,
                key,
            } => {
                if !self.asks.answer(Ask::Start, user, now) {
                    return true;
                }
                self.asks.withdraw(Ask::Accept, user);
                self.connect_link(user, addr, token, key, now);
                return false;
            }
            ServerLine::P2pAccept { user, token } => {
                if !self.asks.answer(Ask::Accept, user, now) {
                    return true;
                }
                self.asks.withdraw(Ask::Start, user);
                self.expect_link(user, token, now);
                return false;
            }
            ServerLine::Stopped(user) => {
                let swallowed = self.swallowed(user, Echo::Stopped, now);
                self.expected.retain(|e| e.user != user);
                if let Some(key) = self.link_of(user) {
                    self.links.remove(key);
                }
                return !swallowed;
            }
            ServerLine::NoSession(user) => return !self.swallowed(user, Echo::NoSession, now),
            ServerLine::Unanswered(user) => {
                self.asks.withdraw(Ask::Start, user);
                self.asks.withdraw(Ask::Accept, user);
            }
            ServerLine::Other if line == "Error. Invalid command" => {
                return !std::mem::take(&mut self.p2p_port_unanswered);
            }
            ServerLine::Other => {}
        }
        true
    }

    pub(super) fn read_stdin(&mut self, now: Instant) {
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
        if !self.stdin_unpolled {
            // More may be waiting, or the end of input may have come in the same edge as these
            // bytes (`printf … | chatclient`), and the edge is spent: re-arm it, so a pending
            // end or more bytes are reported again.
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
            self.restore_echo();
            self.typed(&line, now);
        }
    }

    pub(super) fn typed(&mut self, line: &str, now: Instant) {
        self.login.typed(line);
        let input = Input::parse(line);
        if input != Input::Exit && std::mem::take(&mut self.answering) {
            // A menu prompt takes the whole line as its answer, as the server does (`exit`
            // cancels it, in `leave`): `private bob …` is then the message text, not a line
            // for the link.
            return self.send_server(line, now);
        }
        match input {
            Input::Private { user, text } => {
                if let Some(key) = self.link_of(user) {
                    if self.links[key].queue_text(text) {
                        return;
                    }
                    self.drop_link(key, now);
                    return self.send_server(line, now);
                }
                if let Some(i) = self.lost.iter().position(|u| same_user(u, user)) {
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
                    // The peer's own spelling, as the server's echo of the stop has it.
                    let user = l.user.clone();
                    self.stopped(&user, now);
                } else {
                    self.send_server(line, now);
                }
            }
            Input::StartPrivate(user) => self.send_request(Ask::Start, user, line, now),
            Input::Accept(user) => self.send_request(Ask::Accept, user, line, now),
            Input::Exit => self.leave(now),
            Input::Other => self.send_server(line, now),
        }
    }

    /// Send a request that a machine line may answer, and remember it was sent.
    fn send_request(&mut self, ask: Ask, user: &str, line: &str, now: Instant) {
        if self.server_ready() {
            self.asks.note(ask, user, now);
        }
        self.send_server(line, now);
    }

    /// Queue a line for the server; a typed line with no server to take it is said to be lost.
    pub(super) fn send_server(&mut self, line: &str, now: Instant) {
        if !self.server_ready() {
            show("Not connected to the server\n");
            return;
        }
        self.queue_server(line, now);
    }

    /// Connected and not in the middle of logging in again (where a line typed before the
    /// login line would be taken for the user name).
    pub(super) fn server_ready(&self) -> bool {
        self.server.is_some() && !self.rejoin.logging_in()
    }

    /// Queue a line for the server if there is a connection (the login of a reconnect uses
    /// this directly).
    pub(super) fn queue_server(&mut self, line: &str, now: Instant) {
        self.p2p_port_unanswered = false;
        let Some(conn) = self.server.as_mut() else {
            return;
        };
        let bytes = format!("{line}\n");
        if !conn.queue(bytes.as_bytes(), SERVER_OUTPUT_CAP) {
            return self.server_lost(now);
        }
        if self.logged_in {
            self.next_live = self.live_every.map(|every| now + every);
        }
    }
}
