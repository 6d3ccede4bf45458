//! Getting back to the server after it restarts (issue 21, #4). When a logged-in client loses
//! the server without being told its login ended (inactivity, kick, replaced), it dials the same
//! address again after 1 s, 2 s, 4 s … at most 30 s (each ±25%), answers the `Username: `
//! prompt (hidden) with the one-line `login <user> <password>` from the credentials typed for
//! the last login, and says `Reconnected to the server as <user>` at the welcome, which also
//! sends `p2p-port` again. Peer links are untouched throughout.

use super::{show, Client, SERVER};
use crate::lines::{End, Piece};
use crate::parse;
use crate::relogin::backoff;
use crate::sock::{Connect, Sock, Transport};
use mio::net::TcpStream;
use mio::Interest;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io;
use std::time::{Duration, Instant};

/// How long one reconnect attempt may take to connect before it counts as failed.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// Where getting back to the server stands.
#[derive(Debug)]
pub(super) enum Rejoin {
    /// Not trying: connected as usual, or the loss is final (never logged in, or the server
    /// ended the login on purpose).
    Off,
    /// Attempt `attempt` (from 0) starts at `at`.
    Waiting { attempt: u32, at: Instant },
    /// A non-blocking connect in flight, given up at `until`.
    Connecting {
        attempt: u32,
        sock: Sock,
        until: Instant,
    },
    /// Connected; `sent` once the `Username: ` prompt was hidden and answered with `login`.
    /// `prompt_by`: a TLS handshake not done, or no `Username: ` prompt, by then counts as a
    /// failed attempt (a server that takes the connection and says nothing would hold the
    /// reconnect forever; on plain TCP it did).
    LoggingIn {
        attempt: u32,
        sent: bool,
        prompt_by: Option<Instant>,
    },
}

impl Rejoin {
    /// Connected again and the login not yet through.
    pub(super) fn logging_in(&self) -> bool {
        matches!(self, Rejoin::LoggingIn { .. })
    }

    /// When the loop must come back for this.
    pub(super) fn deadline(&self) -> Option<Instant> {
        match self {
            Rejoin::Waiting { at, .. } => Some(*at),
            Rejoin::Connecting { until, .. } => Some(*until),
            Rejoin::LoggingIn { prompt_by, .. } => *prompt_by,
            Rejoin::Off => None,
        }
    }
}

/// A fraction in [0, 1) that differs between processes and calls (std's hasher keys are
/// random), to spread reconnects without a random-number crate.
fn spread() -> f64 {
    (RandomState::new().hash_one(0u8) % 1000) as f64 / 1000.0
}

impl Client {
    /// The server connection was lost, not on purpose: reconnect if there is a login to restore.
    /// `true` if a reconnect is under way (the caller then says nothing more).
    pub(super) fn rejoin_after_loss(&mut self, was_logged_in: bool, now: Instant) -> bool {
        match std::mem::replace(&mut self.rejoin, Rejoin::Off) {
            Rejoin::Connecting { attempt, .. } | Rejoin::LoggingIn { attempt, .. } => {
                self.retry(attempt.saturating_add(1), now);
                true
            }
            Rejoin::Off | Rejoin::Waiting { .. } => {
                if !was_logged_in || self.login.saved().is_none() {
                    return false;
                }
                show("Server connection lost; reconnecting\n");
                self.retry(0, now);
                true
            }
        }
    }

    fn retry(&mut self, attempt: u32, now: Instant) {
        let at = now + backoff(attempt, spread());
        self.rejoin = Rejoin::Waiting { attempt, at };
    }

    /// A deadline of the reconnect passed: start the next attempt, or give up a slow connect.
    pub(super) fn rejoin_due(&mut self, now: Instant) {
        match std::mem::replace(&mut self.rejoin, Rejoin::Off) {
            Rejoin::Waiting { attempt, .. } => self.dial(attempt, now),
            Rejoin::Connecting { attempt, .. } => self.retry(attempt.saturating_add(1), now),
            Rejoin::LoggingIn { attempt, sent, .. } => {
                self.rejoin = Rejoin::LoggingIn {
                    attempt,
                    sent,
                    prompt_by: None,
                };
                if !sent || self.server.as_ref().is_some_and(|s| s.stream.handshaking()) {
                    self.server_lost(now);
                }
            }
            Rejoin::Off => self.rejoin = Rejoin::Off,
        }
    }

    fn dial(&mut self, attempt: u32, now: Instant) {
        let Ok(mut sock) = self.connect_server() else {
            return self.retry(attempt.saturating_add(1), now);
        };
        let both = Interest::READABLE | Interest::WRITABLE;
        if self
            .poll
            .registry()
            .register(&mut sock.stream, SERVER, both)
            .is_err()
        {
            return self.retry(attempt.saturating_add(1), now);
        }
        self.rejoin = Rejoin::Connecting {
            attempt,
            sock,
            until: now + CONNECT_WAIT,
        };
    }

    /// A non-blocking connect to the server, over TLS with `--tls` (its handshake runs in the
    /// loop once the connect is through).
    fn connect_server(&self) -> io::Result<Sock> {
        let stream = TcpStream::connect(self.server_addr)?;
        Ok(Sock::over(match &self.tls {
            Some(tls) => Transport::Tls(Box::new(tls.connect(stream)?)),
            None => Transport::Plain(stream),
        }))
    }

    /// A reconnect got through to the server but its connection ended before the login was
    /// back (a certificate no longer trusted, say): each new reason is said once.
    pub(super) fn rejoin_failed(&mut self, why: Option<String>) {
        if why.is_some() && why != self.rejoin_failure {
            if let Some(why) = &why {
                show(&format!("Could not reconnect: {why}\n"));
            }
            self.rejoin_failure = why;
        }
    }

    /// A writable event on the server token: where a reconnect's connect succeeds or fails.
    pub(super) fn server_writable(&mut self, now: Instant) {
        let Rejoin::Connecting { sock, .. } = &self.rejoin else {
            return;
        };
        let state = sock.connect_state();
        if state == Connect::Pending {
            return;
        }
        let Rejoin::Connecting { attempt, sock, .. } =
            std::mem::replace(&mut self.rejoin, Rejoin::Off)
        else {
            return;
        };
        if state == Connect::Failed {
            return self.retry(attempt.saturating_add(1), now);
        }
        self.server = Some(sock);
        self.rejoin = Rejoin::LoggingIn {
            attempt,
            sent: false,
            prompt_by: Some(now + crate::link::HANDSHAKE_WAIT),
        };
    }

    /// Server output while logging in again; `true` if it was dealt with here. The first
    /// `Username: ` is hidden and answered with `login`, and the welcome becomes the reconnect
    /// notice. Anything else means the login failed (a changed password, the name in use): the
    /// user takes over, and the piece is left to the caller, whole (its start was held here).
    pub(super) fn rejoin_piece(&mut self, piece: &mut Piece, now: Instant) -> bool {
        let Rejoin::LoggingIn { sent, .. } = &mut self.rejoin else {
            return false;
        };
        match piece.end {
            End::Open => return true,
            End::Prompt if piece.text == parse::USERNAME_PROMPT && !*sent => {
                *sent = true;
                if let Some(line) = self.login.saved().map(|c| c.login_line()) {
                    self.queue_server(&line, now);
                }
                return true;
            }
            End::Newline if piece.text == parse::WELCOME => {
                self.rejoin = Rejoin::Off;
                self.rejoin_failure = None;
                if let Some(c) = self.login.saved() {
                    show(&format!("Reconnected to the server as {}\n", c.user));
                }
                self.welcomed(now);
                return true;
            }
            End::Prompt | End::Newline => {}
        }
        self.rejoin = Rejoin::Off;
        if let Some(c) = self.login.saved() {
            show(&format!("Could not log in again as {}\n", c.user));
        }
        piece.shown = 0;
        false
    }
}
