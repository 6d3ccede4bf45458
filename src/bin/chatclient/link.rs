//! One peer-to-peer link and its wire protocol.
//!
//! # Link protocol
//! A link is a TCP connection carrying UTF-8 text lines ending in `\n` (a trailing `\r` is
//! stripped; invalid UTF-8 is shown lossily, control characters but tab as U+FFFD; a line is
//! capped at 64 KiB, the rest dropped).
//! - The side that got `P2P <user> <ip> <port> <token>` (in answer to its own
//!   `startprivate <user>`) connects and sends `<token>\n` first. The listening side (which got
//!   `P2P-ACCEPT <requester> <token>` in answer to its own `y <requester>`) compares that first
//!   line with its expected tokens in constant time; a match names the peer and is used up,
//!   anything else (or no line within 5 s) closes the link without a word. Connections while no
//!   link is expected are closed at once; of those waiting for their token, at most 32 are kept
//!   and a new one replaces the oldest.
//! - Every later line is one private message text, shown as `<sender>(private): <text>`.
//! - A line starting with the byte `0x04` (EOT) is a control line. `\x04stop` ends the private
//!   session: the receiver says `Private messaging with <sender> stopped` and closes. Unknown
//!   control lines are ignored. A message text never starts with `0x04`: the sender turns a
//!   leading one into `?`.
//! - The link closing without `\x04stop` means it broke: the session goes on through the
//!   server relay.

use crate::lines::LineBuf;
use crate::sock::Sock;
use std::collections::VecDeque;
use std::time::Instant;

/// The control line that ends a private session.
pub const STOP: &[u8] = b"\x04stop";

/// How long a stopped link waits for the peer to close its side.
pub const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long an accepted link may take to send its token. A real peer sends it as it connects
/// (one round trip); a connection that has not by now is dropped, so idle ones do not linger.
pub const TOKEN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long an outgoing TLS connection (a peer link, a reconnect to the server) may take to
/// finish its handshake. A peer that accepts the connection and then says nothing would
/// otherwise hold the private messages queued on the link forever: at this deadline the link
/// is dropped and they go through the server (a reconnect dials again).
pub const HANDSHAKE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Where a link is in its life.
#[derive(Debug, PartialEq, Eq)]
pub enum State {
    /// Outgoing, the TCP connect not yet confirmed.
    Connecting,
    /// Incoming, its token line not yet received; closed at the deadline.
    AwaitingToken(Instant),
    /// Carrying messages for `Link::user`.
    Up,
    /// Stopped on purpose: flush what is queued, then half-close; its end is no loss.
    Stopping,
    /// Half-closed after a stop: wait (until the deadline) for the peer's close, so that the
    /// last lines are not cut off by a reset.
    Closing(Instant),
}

impl State {
    /// When a link in this state is given up.
    pub fn deadline(&self) -> Option<Instant> {
        match self {
            State::AwaitingToken(t) | State::Closing(t) => Some(*t),
            _ => None,
        }
    }
}

/// A peer link: the socket, its framer and what was handed to it but may not have left yet.
#[derive(Debug)]
pub struct Link {
    pub conn: Sock,
    pub reader: LineBuf,
    pub state: State,
    /// The peer's user name (empty until an incoming link shows its token).
    pub user: String,
    /// Message texts queued on the link, each with the byte offset at which it ends, kept until
    /// the kernel has them, so a link that breaks first sends them through the server instead.
    unsent: VecDeque<(u64, String)>,
    /// Total bytes ever queued on `conn`.
    queued: u64,
    /// An outgoing TLS link is dropped if its handshake is not done by then.
    pub handshake_by: Option<Instant>,
}

/// The output cap of a link: a peer that reads nothing is dropped, not buffered forever.
pub const LINK_OUTPUT_CAP: usize = 256 * 1024;

impl Link {
    pub fn new(conn: Sock, state: State, user: String) -> Link {
        Link {
            conn,
            reader: LineBuf::default(),
            state,
            user,
            unsent: VecDeque::new(),
            queued: 0,
            handshake_by: None,
        }
    }

    /// When this link is given up: its state's deadline, or its handshake's while that runs.
    pub fn deadline(&self) -> Option<Instant> {
        let handshake = self.handshake_by.filter(|_| self.conn.stream.handshaking());
        match (self.state.deadline(), handshake) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Queue raw bytes; `false` if the output cap was hit (the link must be dropped).
    pub fn queue_raw(&mut self, bytes: &[u8]) -> bool {
        if !self.conn.queue(bytes, LINK_OUTPUT_CAP) {
            return false;
        }
        self.queued += bytes.len() as u64;
        true
    }

    /// Queue one message text, remembered until written; `false` if the output cap was hit.
    pub fn queue_text(&mut self, text: &str) -> bool {
        let line = encode_text(text);
        if !self.queue_raw(line.as_bytes()) {
            return false;
        }
        self.unsent.push_back((self.queued, text.to_string()));
        true
    }

    /// Forget the texts the kernel has taken.
    pub fn note_written(&mut self) {
        let written = self.queued - self.conn.pending() as u64;
        while self.unsent.front().is_some_and(|(end, _)| *end <= written) {
            self.unsent.pop_front();
        }
    }

    /// The texts that never fully left, for the relay.
    pub fn take_unsent(&mut self) -> Vec<String> {
        self.note_written();
        self.unsent.drain(..).map(|(_, text)| text).collect()
    }
}

/// The wire form of a message text: one line, never mistaken for a control line.
pub fn encode_text(text: &str) -> String {
    match text.strip_prefix('\x04') {
        Some(rest) => format!("?{rest}\n"),
        None => format!("{text}\n"),
    }
}

/// What one received line on an up link means.
#[derive(Debug, PartialEq, Eq)]
pub enum Received<'a> {
    Text(&'a [u8]),
    Stop,
    /// An unknown control line, ignored.
    Control,
}

pub fn classify(line: &[u8]) -> Received<'_> {
    if line == STOP {
        Received::Stop
    } else if line.first() == Some(&0x04) {
        Received::Control
    } else {
        Received::Text(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sock::Transport;

    #[test]
    fn control_lines_are_told_apart_from_text() {
        assert_eq!(classify(b"\x04stop"), Received::Stop);
        assert_eq!(classify(b"\x04later"), Received::Control);
        assert_eq!(classify(b"stop"), Received::Text(b"stop"));
        assert_eq!(classify(b""), Received::Text(b""));
    }

    /// A link over a real loopback socket: the server side of `127.0.0.1:0`, never read.
    fn link_pair() -> (Link, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (theirs, _) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        let conn = Sock::over(Transport::Plain(mio::net::TcpStream::from_std(ours)));
        (Link::new(conn, State::Up, "bob".into()), theirs)
    }

    #[test]
    fn texts_are_kept_until_written_then_forgotten() {
        let (mut link, _peer) = link_pair();
        assert!(link.queue_raw(b"token\n"));
        assert!(link.queue_text("one"));
        assert!(link.queue_text("two"));
        assert_eq!(link.take_unsent(), ["one", "two"]);
        assert!(link.queue_text("three"));
        assert!(matches!(link.conn.flush(), Ok(true)));
        assert!(link.take_unsent().is_empty());
    }

    #[test]
    fn output_is_bounded() {
        let (mut link, _peer) = link_pair();
        let big = "x".repeat(LINK_OUTPUT_CAP / 2);
        assert!(link.queue_text(&big));
        assert!(!link.queue_text(&big), "the cap refuses, it does not grow");
        assert_eq!(link.take_unsent().len(), 1);
    }

    #[test]
    fn texts_never_encode_as_control() {
        assert_eq!(encode_text("hi there "), "hi there \n");
        assert_eq!(encode_text("\x04stop"), "?stop\n");
        assert_eq!(
            classify(encode_text("\x04stop").trim_end().as_bytes()),
            Received::Text(b"?stop")
        );
    }
}
