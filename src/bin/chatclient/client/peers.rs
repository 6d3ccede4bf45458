//! The peer side of the client: the listener, outgoing connects, token checks, link lines,
//! stops, and the fall-back to the server relay when a link is lost.
//!
//! Incoming connections are taken only while a link is expected (a `y <user>` awaiting its
//! `P2P-ACCEPT`, or a token from one awaiting its link); others are closed at once. At most
//! [`MAX_PENDING_LINKS`] wait for their token, each for [`link::TOKEN_WAIT`]; a new one
//! beyond that replaces the oldest, so idle connections cannot keep the real peer out.

use super::{
    show, would_block, Client, Echo, MAX_LINKS, MAX_PENDING_LINKS, MAX_REMEMBERED, SWALLOW_FOR,
};
use crate::asks::{same_user, Ask};
use crate::lines;
use crate::link::{self, Link, Received, State};
use crate::parse;
use crate::sock::{Connect, Sock, Transport};
use crate::tls;
use mio::net::TcpStream;
use mio::{Interest, Token};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long a token from `P2P-ACCEPT` waits for its link (the requester dials at once).
const LINK_WAIT: Duration = Duration::from_secs(30);

/// A token from `P2P-ACCEPT`: the one incoming link it admits, and as whom.
#[derive(Debug)]
pub(super) struct Expected {
    token: String,
    pub(super) user: String,
    until: Instant,
}

impl Client {
    /// A writable event on an outgoing link is where its connect succeeds or fails.
    pub(super) fn writable(&mut self, token: Token, now: Instant) {
        let Some(link) = self.links.get_mut(token.0) else {
            return;
        };
        if link.state != State::Connecting {
            return;
        }
        match link.conn.connect_state() {
            Connect::Pending => {}
            Connect::Done => link.state = State::Up,
            Connect::Failed => self.drop_link(token.0, now),
        }
    }

    pub(super) fn accept(&mut self, now: Instant) {
        loop {
            match self.listener.accept() {
                // Dropping the stream closes it.
                Ok(_) if !self.expecting_link(now) => {}
                Ok((stream, _)) => {
                    let transport = match &self.tls {
                        Some(tls) => match tls.accept_peer(stream) {
                            Ok(tls) => Transport::Tls(Box::new(tls)),
                            Err(_) => continue,
                        },
                        None => Transport::Plain(stream),
                    };
                    self.make_room_for_pending();
                    let state = State::AwaitingToken(now + link::TOKEN_WAIT);
                    self.add_link(transport, state, "");
                }
                Err(e) if would_block(&e) => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Per-connection failures (ECONNABORTED, EMFILE): try again at the next event.
                Err(_) => return,
            }
        }
    }

    /// Whether an incoming link may come: a `y` awaits its `P2P-ACCEPT` (whose peer may dial
    /// before this client has read it), or a token from one awaits its link.
    fn expecting_link(&self, now: Instant) -> bool {
        self.asks.waiting(Ask::Accept, now) || self.expected.iter().any(|e| e.until > now)
    }

    /// At most [`MAX_PENDING_LINKS`] links wait for their token: drop the oldest to make room.
    fn make_room_for_pending(&mut self) {
        let mut pending: Vec<(Instant, usize)> = self
            .links
            .iter()
            .filter_map(|(k, l)| match l.state {
                State::AwaitingToken(deadline) => Some((deadline, k)),
                _ => None,
            })
            .collect();
        if pending.len() < MAX_PENDING_LINKS {
            return;
        }
        pending.sort_unstable();
        for (_, key) in &pending[..=pending.len() - MAX_PENDING_LINKS] {
            self.links.remove(*key);
        }
    }

    /// `P2P-ACCEPT <user> <token>` answered this client's `y <user>`: a new session with
    /// `user`, whose link is the one that shows `token`.
    pub(super) fn expect_link(&mut self, user: &str, token: &str, now: Instant) {
        self.forget_session(user);
        self.expected
            .retain(|e| e.until > now && !same_user(&e.user, user));
        if self.expected.len() >= MAX_REMEMBERED {
            self.expected.remove(0);
        }
        self.expected.push(Expected {
            token: token.to_string(),
            user: user.to_string(),
            until: now + LINK_WAIT,
        });
    }

    /// A new session with `user` starts clean: no stale link, notice or swallowed echo.
    pub(super) fn forget_session(&mut self, user: &str) {
        if let Some(key) = self.link_of(user) {
            self.links.remove(key);
        }
        self.lost.retain(|u| u != user);
        self.swallow.retain(|(u, _), _| u != user);
    }

    /// `P2P <user> <ip> <port> <token> [key]`: dial the peer, over TLS pinned to `key` if the
    /// peer takes TLS links. A `--tls` client makes no plaintext link: without a key, its
    /// private messages to `user` go through the server (over its TLS connection).
    pub(super) fn connect_link(
        &mut self,
        user: &str,
        addr: SocketAddr,
        token: &str,
        key: Option<&str>,
        now: Instant,
    ) {
        self.forget_session(user);
        if key.is_none() && self.tls.is_some() {
            return show(&relay_notice(user, "its client takes no TLS links"));
        }
        let Ok(stream) = TcpStream::connect(addr) else {
            return self.mark_lost(user);
        };
        let transport = match key {
            Some(key) => match tls::dial_peer(stream, addr.ip(), key) {
                Ok(tls) => Transport::Tls(Box::new(tls)),
                Err(e) => return show(&relay_notice(user, &e.to_string())),
            },
            None => Transport::Plain(stream),
        };
        match self.add_link(transport, State::Connecting, user) {
            Some(key) => {
                self.links[key].handshake_by = Some(now + link::HANDSHAKE_WAIT);
                self.links[key].queue_raw(format!("{token}\n").as_bytes());
            }
            None => self.mark_lost(user),
        }
    }

    /// Register a new link socket (its slab key is its token); `None` if that fails.
    pub(super) fn add_link(
        &mut self,
        mut stream: Transport,
        state: State,
        user: &str,
    ) -> Option<usize> {
        if self.links.len() >= MAX_LINKS {
            return None;
        }
        let entry = self.links.vacant_entry();
        let key = entry.key();
        let both = Interest::READABLE | Interest::WRITABLE;
        self.poll
            .registry()
            .register(&mut stream, Token(key), both)
            .ok()?;
        entry.insert(Link::new(Sock::over(stream), state, user.to_string()));
        Some(key)
    }

    /// Remember to tell the user, at the next message to `user`, that the relay takes over.
    pub(super) fn mark_lost(&mut self, user: &str) {
        if !self.lost.iter().any(|u| u == user) {
            if self.lost.len() >= MAX_REMEMBERED {
                self.lost.remove(0);
            }
            self.lost.push(user.to_string());
        }
    }

    /// The live link with `user`, named in any case (the server's casemapping is ASCII).
    pub(super) fn link_of(&self, user: &str) -> Option<usize> {
        self.links
            .iter()
            .find(|(_, l)| {
                same_user(&l.user, user) && matches!(l.state, State::Connecting | State::Up)
            })
            .map(|(k, _)| k)
    }

    pub(super) fn read_link(&mut self, key: usize, now: Instant) {
        let Some(l) = self.links.get_mut(key) else {
            return;
        };
        let (data, ended) =
            Self::read_conn(&mut l.conn, &mut self.scratch, Token(key), &mut self.again);
        let mut got = Vec::new();
        l.reader.feed(&data, |line| got.push(line.to_vec()));
        for line in got {
            if !self.link_line(key, &line, now) {
                return;
            }
        }
        if ended {
            self.drop_link(key, now);
        }
    }

    /// The user whose expected token `line` is (compared in constant time against each).
    fn match_token(&self, line: &[u8], now: Instant) -> Option<String> {
        self.expected
            .iter()
            .filter(|e| e.until > now)
            .fold(None, |hit, e| match parse::token_eq(line, &e.token) {
                true => Some(e.user.clone()),
                false => hit,
            })
    }

    /// Act on one line from a link; `false` once the link is gone.
    pub(super) fn link_line(&mut self, key: usize, line: &[u8], now: Instant) -> bool {
        let Some(l) = self.links.get_mut(key) else {
            return false;
        };
        match l.state {
            State::AwaitingToken(_) => {
                let mut found = self.match_token(line, now);
                if found.is_none() && self.server.is_some() {
                    // The peer may have connected before this client read the server's
                    // `P2P-ACCEPT` (it was sent first, but two sockets are read in any order):
                    // read what the server has sent, then check again.
                    self.read_server(now);
                    found = self.match_token(line, now);
                }
                let Some(user) = found else {
                    self.links.try_remove(key);
                    return false;
                };
                self.expected.retain(|e| e.user != user);
                if let Some(old) = self.link_of(&user) {
                    self.links.remove(old);
                }
                self.lost.retain(|u| *u != user);
                let Some(l) = self.links.get_mut(key) else {
                    return false;
                };
                l.user = user;
                l.state = State::Up;
                true
            }
            State::Up | State::Connecting => match link::classify(line) {
                Received::Text(text) => {
                    show(&format!(
                        "{}(private): {}\n",
                        l.user,
                        lines::peer_text(text)
                    ));
                    true
                }
                Received::Control => true,
                Received::Stop => {
                    let user = l.user.clone();
                    self.links.remove(key);
                    self.stopped(&user, now);
                    false
                }
            },
            State::Stopping | State::Closing(_) => true,
        }
    }

    /// The session with `user` ended here or at the peer: say so, tell the server once, and
    /// hide the server's echoes of the same stop.
    pub(super) fn stopped(&mut self, user: &str, now: Instant) {
        show(&format!("Private messaging with {user} stopped\n"));
        for echo in [Echo::Stopped, Echo::NoSession] {
            self.swallow
                .insert((user.to_string(), echo), now + SWALLOW_FOR);
        }
        if self.server_ready() {
            self.send_server(&format!("stopprivate {user}"), now);
        }
    }

    /// A link broke or could not be made: what never left goes through the server.
    pub(super) fn drop_link(&mut self, key: usize, now: Instant) {
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
        for text in unsent {
            self.send_server(&format!("private {} {text}", l.user), now);
        }
    }
}

/// Said when no direct link is made with `user` at all, and why.
fn relay_notice(user: &str, why: &str) -> String {
    format!("Private messages to {user} go through the server: {why}\n")
}

pub(super) fn down_notice(user: &str) -> String {
    format!("Direct link to {user} is down; sending through the server\n")
}
