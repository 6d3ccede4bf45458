//! One Redis connection as a sans-IO state machine: the caller owns the socket and feeds this
//! what happened (`handle_*`); this says what to write (`pending_out`), what came back
//! (`poll_reply`, each reply with the tag of its request, in order) and when to try again
//! (`poll_timeout`). It does the setup (AUTH, SELECT) on every connect and backs off after a
//! failure, 100 ms doubling to 5 s, so an outage costs a connect attempt every few seconds.

use super::resp::{self, Decoded, Frame};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Where the connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No socket; connect again at this time.
    Down { retry_at: Instant },
    /// A non-blocking connect is under way.
    Connecting,
    /// Connected: the setup commands were sent first, requests may follow them.
    Up,
}

/// What a reply answers.
#[derive(Debug)]
enum Waiter<T> {
    Setup,
    Request(T),
}

/// What to send on every connect before anything else.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    pub password: Option<String>,
    pub db: Option<u32>,
}

#[derive(Debug)]
pub struct Link<T> {
    phase: Phase,
    setup: Setup,
    /// Bytes to write; the caller writes from the front and reports with `handle_written`.
    out: Vec<u8>,
    /// Reply bytes not yet a whole frame.
    inbuf: Vec<u8>,
    waiting: VecDeque<Waiter<T>>,
    replies: VecDeque<(Option<T>, Frame)>,
    backoff: Duration,
    /// Replies that arrive with no request waiting (pub/sub messages) are allowed.
    pushes: bool,
}

impl<T> Link<T> {
    /// A link that connects at `now`. `pushes`: a subscriber connection, whose messages come
    /// unasked.
    pub fn new(setup: Setup, pushes: bool, now: Instant) -> Link<T> {
        Link {
            phase: Phase::Down { retry_at: now },
            setup,
            out: Vec::new(),
            inbuf: Vec::new(),
            waiting: VecDeque::new(),
            replies: VecDeque::new(),
            backoff: FIRST_BACKOFF,
            pushes,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn is_up(&self) -> bool {
        self.phase == Phase::Up
    }

    /// Time to open a socket and call `handle_connecting`.
    pub fn wants_connect(&self, now: Instant) -> bool {
        matches!(self.phase, Phase::Down { retry_at } if retry_at <= now)
    }

    /// When the caller must look again (a reconnect), if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Down { retry_at } => Some(retry_at),
            _ => None,
        }
    }

    pub fn handle_connecting(&mut self) {
        self.phase = Phase::Connecting;
    }

    /// The connect finished: the setup goes first, then requests.
    pub fn handle_connected(&mut self) {
        self.phase = Phase::Up;
        self.out.clear();
        self.inbuf.clear();
        if let Some(pw) = self.setup.password.clone() {
            resp::command(&mut self.out, &["AUTH", pw.as_str()]);
            self.waiting.push_back(Waiter::Setup);
        }
        if let Some(db) = self.setup.db {
            resp::command(&mut self.out, &["SELECT", db.to_string().as_str()]);
            self.waiting.push_back(Waiter::Setup);
        }
    }

    /// The connection failed or closed: back off. Returns the requests that got no reply
    /// (whether Redis carried them out is unknown).
    pub fn handle_down(&mut self, now: Instant) -> Vec<T> {
        self.phase = Phase::Down {
            retry_at: now + self.backoff,
        };
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        self.out.clear();
        self.inbuf.clear();
        self.waiting
            .drain(..)
            .filter_map(|w| match w {
                Waiter::Request(t) => Some(t),
                Waiter::Setup => None,
            })
            .collect()
    }

    /// Queue a request; false (nothing queued) unless the link is up.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A], tag: T) -> bool {
        if self.phase != Phase::Up {
            return false;
        }
        resp::command(&mut self.out, args);
        self.waiting.push_back(Waiter::Request(tag));
        true
    }

    /// Requests sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.waiting.len()
    }

    pub fn pending_out(&self) -> &[u8] {
        &self.out
    }

    pub fn handle_written(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
    }

    /// Bytes read from the socket. An error means the link must be dropped (call
    /// `handle_down`): the bytes were not RESP, a reply came that nobody asked for, or the
    /// setup was refused (a wrong password).
    pub fn handle_bytes(&mut self, data: &[u8]) -> Result<(), String> {
        self.inbuf.extend_from_slice(data);
        let mut used = 0;
        let result = loop {
            match resp::decode(&self.inbuf[used..]) {
                Decoded::Partial => break Ok(()),
                Decoded::Invalid(e) => break Err(format!("not RESP: {e}")),
                Decoded::Frame(frame, n) => {
                    used += n;
                    match self.waiting.pop_front() {
                        Some(Waiter::Setup) => {
                            if let Frame::Error(e) = frame {
                                break Err(format!("setup refused: {e}"));
                            }
                            self.backoff = FIRST_BACKOFF;
                        }
                        Some(Waiter::Request(tag)) => {
                            self.backoff = FIRST_BACKOFF;
                            self.replies.push_back((Some(tag), frame));
                        }
                        None if self.pushes => self.replies.push_back((None, frame)),
                        None => break Err("a reply nobody asked for".to_string()),
                    }
                }
            }
        };
        self.inbuf.drain(..used);
        result
    }

    /// The next reply, with the tag of its request (`None`: a message on a subscriber link).
    pub fn poll_reply(&mut self) -> Option<(Option<T>, Frame)> {
        self.replies.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(setup: Setup) -> (Link<u32>, Instant) {
        let now = Instant::now();
        let mut l = Link::new(setup, false, now);
        assert!(l.wants_connect(now));
        l.handle_connecting();
        l.handle_connected();
        (l, now)
    }

    #[test]
    fn setup_goes_first_and_replies_come_with_their_tags() {
        let (mut l, _) = up(Setup {
            password: Some("pw".into()),
            db: Some(2),
        });
        assert!(l.send(&["PING"], 7));
        let out = String::from_utf8_lossy(l.pending_out()).to_string();
        assert!(out.starts_with("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*2\r\n$6\r\nSELECT"));
        assert!(out.ends_with("*1\r\n$4\r\nPING\r\n"));
        l.handle_written(out.len());
        assert!(l.pending_out().is_empty());
        l.handle_bytes(b"+OK\r\n+OK\r\n+PO").unwrap();
        assert!(l.poll_reply().is_none(), "a partial reply waits");
        l.handle_bytes(b"NG\r\n").unwrap();
        assert_eq!(
            l.poll_reply(),
            Some((Some(7), Frame::SimpleString(b"PONG".to_vec())))
        );
    }

    #[test]
    fn a_refused_password_drops_the_link_and_backs_off() {
        let (mut l, now) = up(Setup {
            password: Some("bad".into()),
            db: None,
        });
        assert!(l.send(&["XADD"], 1));
        assert!(l.handle_bytes(b"-WRONGPASS invalid\r\n").is_err());
        assert_eq!(
            l.handle_down(now),
            vec![1],
            "the unanswered request is reported"
        );
        assert!(!l.wants_connect(now));
        assert!(l.wants_connect(now + FIRST_BACKOFF));
        assert!(!l.send(&["PING"], 2), "nothing is queued while down");
        l.handle_connecting();
        let again = l.handle_down(now);
        assert!(again.is_empty());
        assert_eq!(l.poll_timeout(), Some(now + FIRST_BACKOFF * 2), "doubling");
    }

    #[test]
    fn garbage_and_unasked_replies_drop_the_link() {
        let (mut l, _) = up(Setup::default());
        assert!(l.handle_bytes(b"+OK\r\n").is_err(), "nobody asked");
        let (mut l, _) = up(Setup::default());
        l.send(&["PING"], 1);
        assert!(l.handle_bytes(b"!!\r\n").is_err());
        let now = Instant::now();
        let mut sub: Link<u32> = Link::new(Setup::default(), true, now);
        sub.handle_connecting();
        sub.handle_connected();
        sub.handle_bytes(b"*1\r\n$1\r\nx\r\n").unwrap();
        assert!(matches!(sub.poll_reply(), Some((None, Frame::Array(_)))));
    }
}
