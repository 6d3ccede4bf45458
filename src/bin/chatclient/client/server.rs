//! The server side of the client: the server's stream (prompts, machine lines, the echoes to
//! hide) and what the user types.

use super::peers::down_notice;
use super::{show, would_block, Client, Echo, MAX_REMEMBERED, SERVER, SERVER_OUTPUT_CAP, STDIN};
use crate::lines::{self, End, Input, Piece, ServerLine};
use crate::link::State;
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
        for piece in self.reader.feed(&data) {
            self.server_piece(piece, now);
        }
        if ended {
            self.server_lost();
        }
    }

    pub(super) fn server_lost(&mut self) {
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

    pub(super) fn server_piece(&mut self, piece: Piece, now: Instant) {
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

    pub(super) fn set_logged_out(&mut self) {
        self.logged_in = false;
        self.next_live = None;
    }

    pub(super) fn swallowed(&mut self, user: &str, echo: Echo, now: Instant) -> bool {
        self.swallow
            .remove(&(user.to_string(), echo))
            .is_some_and(|until| until > now)
    }

    /// Act on a complete server line; `true` if it is to be shown.
    pub(super) fn server_line(&mut self, line: &str, now: Instant) -> bool {
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
                if self.expected.len() >= MAX_REMEMBERED {
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

    pub(super) fn typed(&mut self, line: &str, now: Instant) {
        match Input::parse(line) {
            Input::Private { user, text } => {
                if let Some(key) = self.link_of(user) {
                    if self.links[key].queue_text(text) {
                        return;
                    }
                    self.drop_link(key, now);
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
    pub(super) fn send_server(&mut self, line: &str, now: Instant) {
        self.p2p_port_unanswered = false;
        let Some(conn) = self.server.as_mut() else {
            show("Not connected to the server\n");
            return;
        };
        let bytes = format!("{line}\n");
        if !conn.queue(bytes.as_bytes(), SERVER_OUTPUT_CAP) {
            return self.server_lost();
        }
        if self.logged_in {
            self.next_live = self.live_every.map(|every| now + every);
        }
    }
}
