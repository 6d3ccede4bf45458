//! What this client asked for that a machine line may answer (issue 17, F2). The server's stream
//! can carry a line another user smuggled into it, so a `P2P` or `P2P-ACCEPT` line is acted on
//! only as the answer to a request this client sent, to that user, and only once. No I/O here.

use std::time::{Duration, Instant};

/// A request the user typed that the server answers with a machine line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    /// `startprivate <user>`: answered by `P2P <user> …` once `<user>` accepts.
    Start,
    /// `y <user>`: answered at once by `P2P-ACCEPT <user> …`.
    Accept,
}

impl Ask {
    /// How long an answer is awaited. A `startprivate` waits for the other user (the server
    /// expires the request after 60 s, counted from the first ask); a `y` is answered at once,
    /// so its window only has to cover a busy server.
    fn patience(self) -> Duration {
        match self {
            Ask::Start => Duration::from_secs(75),
            Ask::Accept => Duration::from_secs(30),
        }
    }
}

/// Requests open at once; past this the oldest is forgotten, so typing cannot grow it forever.
const MAX_OPEN: usize = 64;

/// The open requests, each until its answer, its refusal or its deadline.
#[derive(Debug, Default)]
pub struct Asks {
    open: Vec<(Ask, String, Instant)>,
}

/// Names as the server compares them (its casemapping is ASCII), so `startprivate Hans`
/// matches the server's `P2P hans …`.
pub fn same_user(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

impl Asks {
    /// The user sent `ask` about `user`; asking again restarts the wait.
    pub fn note(&mut self, ask: Ask, user: &str, now: Instant) {
        self.withdraw(ask, user);
        if self.open.len() >= MAX_OPEN {
            self.open.remove(0);
        }
        self.open
            .push((ask, user.to_string(), now + ask.patience()));
    }

    /// A machine line answering `ask` about `user` arrived: `true` (and the request is used up)
    /// only if such a request is open and not past its deadline.
    pub fn answer(&mut self, ask: Ask, user: &str, now: Instant) -> bool {
        let Some(i) = self.position(ask, user) else {
            return false;
        };
        let (_, _, until) = self.open.remove(i);
        until > now
    }

    /// The server said `ask` about `user` will not be answered (declined, expired, no request).
    pub fn withdraw(&mut self, ask: Ask, user: &str) {
        if let Some(i) = self.position(ask, user) {
            self.open.remove(i);
        }
    }

    /// Whether any `ask` is still waiting at `now`.
    pub fn waiting(&self, ask: Ask, now: Instant) -> bool {
        self.open
            .iter()
            .any(|(a, _, until)| *a == ask && *until > now)
    }

    /// The server forgot every request (the connection to it was lost).
    pub fn clear(&mut self) {
        self.open.clear();
    }

    fn position(&self, ask: Ask, user: &str) -> Option<usize> {
        self.open
            .iter()
            .position(|(a, u, _)| *a == ask && same_user(u, user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_needs_its_own_request_and_uses_it_up() {
        let now = Instant::now();
        let mut asks = Asks::default();
        assert!(!asks.answer(Ask::Start, "hans", now), "nothing asked");
        asks.note(Ask::Start, "Hans", now);
        assert!(!asks.answer(Ask::Accept, "hans", now), "another kind");
        assert!(!asks.answer(Ask::Start, "eve", now), "another user");
        assert!(asks.answer(Ask::Start, "hans", now), "casemapped");
        assert!(!asks.answer(Ask::Start, "hans", now), "only once");
    }

    #[test]
    fn requests_lapse_and_can_be_withdrawn() {
        let now = Instant::now();
        let mut asks = Asks::default();
        asks.note(Ask::Accept, "yoda", now);
        assert!(asks.waiting(Ask::Accept, now));
        assert!(!asks.waiting(Ask::Start, now));
        let late = now + Duration::from_secs(31);
        assert!(!asks.waiting(Ask::Accept, late));
        assert!(!asks.answer(Ask::Accept, "yoda", late), "past its deadline");
        asks.note(Ask::Start, "yoda", now);
        asks.withdraw(Ask::Start, "YODA");
        assert!(!asks.answer(Ask::Start, "yoda", now));
    }

    #[test]
    fn open_requests_are_bounded() {
        let now = Instant::now();
        let mut asks = Asks::default();
        for i in 0..=MAX_OPEN {
            asks.note(Ask::Start, &format!("u{i}"), now);
        }
        assert_eq!(asks.open.len(), MAX_OPEN);
        assert!(!asks.answer(Ask::Start, "u0", now), "the oldest went first");
        assert!(asks.answer(Ask::Start, &format!("u{MAX_OPEN}"), now));
    }
}
