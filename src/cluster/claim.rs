//! Whether this node holds its id (`--node-id`) on its Redis (issue 23). Two nodes with one id
//! would share one liveness key, one `live:<id>` channel and one name for their connections
//! in records: each would take the other's users for its own. So a starting node first sets
//! its liveness key with `SET … NX PX <ttl>`: set, the id is its own; already there, the key
//! is either what a crashed run of this node left (nobody refreshes it: it expires within its
//! `PTTL`) or a running node's (refreshed every third of its TTL: still there once that
//! `PTTL` has passed). The node asks again just after the key would have expired and, finding
//! it still there, refuses to start (`main` exits with status 1 before any client is served).
//! A node that starts over after a lapse (`Ended::StartOver`) held the id already.

use super::resp::Frame;
use std::time::{Duration, Instant};

/// How long after the key's expiry, as its `PTTL` said, it is asked for again.
const AFTER_EXPIRY: Duration = Duration::from_millis(50);

/// What to send next on the command link.
#[derive(Debug, PartialEq, Eq)]
pub enum Ask {
    /// `SET <key> <position> NX PX <ttl>`.
    SetNx,
    /// `PTTL <key>`.
    Ttl,
    Nothing,
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    /// Not held: `asked`, an answer is awaited; `expires`, the key found first would have
    /// expired then had nobody refreshed it; `retry`, ask again then.
    Asking {
        asked: bool,
        expires: Option<Instant>,
        retry: Option<Instant>,
    },
    Held,
    /// Another running node holds the id: why this one stops.
    Refused(String),
}

/// See the module doc.
#[derive(Debug)]
pub struct Claim {
    state: State,
}

impl Default for Claim {
    fn default() -> Claim {
        Claim {
            state: State::Asking {
                asked: false,
                expires: None,
                retry: None,
            },
        }
    }
}

impl Claim {
    /// A claim already held (a node that starts over in the same process).
    pub fn held() -> Claim {
        Claim { state: State::Held }
    }

    pub fn is_held(&self) -> bool {
        self.state == State::Held
    }

    /// Why this node must not run, if another holds its id.
    pub fn refused(&self) -> Option<&str> {
        match &self.state {
            State::Refused(why) => Some(why),
            _ => None,
        }
    }

    /// When to ask again (a timer for the loop).
    pub fn due(&self) -> Option<Instant> {
        match self.state {
            State::Asking {
                asked: false,
                retry,
                ..
            } => retry,
            _ => None,
        }
    }

    /// The command link is up, or `now` may be the retry's time: whether to send `SET NX`.
    pub fn ask(&mut self, now: Instant) -> Ask {
        match &mut self.state {
            State::Asking {
                asked: asked @ false,
                retry,
                ..
            } if retry.is_none_or(|at| now >= at) => {
                *asked = true;
                Ask::SetNx
            }
            _ => Ask::Nothing,
        }
    }

    /// The command link fell: whatever was asked is asked again once it is back.
    pub fn link_down(&mut self) {
        if let State::Asking { asked, retry, .. } = &mut self.state {
            *asked = false;
            *retry = None;
        }
    }

    /// The answer to `SET NX` (`who`: this node's id and key, for the refusal's words).
    pub fn set_answer(&mut self, frame: &Frame, now: Instant, who: (&str, &str)) -> Ask {
        let State::Asking { expires, .. } = &mut self.state else {
            return Ask::Nothing;
        };
        match frame {
            // Not set: the key is there.
            Frame::Null => match *expires {
                Some(at) if now > at => {
                    let (id, key) = who;
                    self.state = State::Refused(format!(
                        "cluster: node id {id} is in use: a running node keeps its liveness key \
                         {key} fresh on this Redis; give this node another --node-id"
                    ));
                    Ask::Nothing
                }
                _ => Ask::Ttl,
            },
            Frame::Error(_) => {
                // Logged by the caller; asked again in a while.
                self.state = State::Asking {
                    asked: false,
                    expires: *expires,
                    retry: Some(now + Duration::from_secs(1)),
                };
                Ask::Nothing
            }
            _ => {
                self.state = State::Held;
                Ask::Nothing
            }
        }
    }

    /// The answer to `PTTL`: when the key found would expire (`who` as for [`Claim::set_answer`]).
    pub fn ttl_answer(&mut self, frame: &Frame, now: Instant, who: (&str, &str)) -> Ask {
        let State::Asking { asked, expires, .. } = &mut self.state else {
            return Ask::Nothing;
        };
        match frame {
            Frame::Integer(ms) if *ms >= 0 => {
                let at = now + Duration::from_millis(ms.unsigned_abs());
                let first = *expires.get_or_insert(at);
                if first == at {
                    let (id, _) = who;
                    log::warn!(
                        "cluster: node id {id} is held on Redis (a crashed run of this node, or \
                         another node with this id): waiting {ms} ms for it to expire"
                    );
                }
                self.state = State::Asking {
                    asked: false,
                    expires: Some(first),
                    retry: Some(at + AFTER_EXPIRY),
                };
                Ask::Nothing
            }
            // Gone meanwhile: ask at once.
            Frame::Integer(-2) => {
                *asked = true;
                Ask::SetNx
            }
            _ => {
                let (id, key) = who;
                self.state = State::Refused(format!(
                    "cluster: node id {id} is in use: its liveness key {key} exists on this Redis \
                     without an expiry (not one a node sets: delete it if no node runs as {id})"
                ));
                Ask::Nothing
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHO: (&str, &str) = ("n1", "chatserver:node:n1");

    fn ok() -> Frame {
        Frame::SimpleString(b"OK".to_vec())
    }

    #[test]
    fn a_free_id_is_held_at_once() {
        let t0 = Instant::now();
        let mut c = Claim::default();
        assert_eq!(c.ask(t0), Ask::SetNx);
        assert_eq!(c.ask(t0), Ask::Nothing, "one question at a time");
        assert_eq!(c.set_answer(&ok(), t0, WHO), Ask::Nothing);
        assert!(c.is_held());
        assert_eq!(c.due(), None);
    }

    /// What a crashed run left expires unrefreshed: asked again just after, the id is held.
    #[test]
    fn a_stale_key_is_waited_out() {
        let t0 = Instant::now();
        let mut c = Claim::default();
        c.ask(t0);
        assert_eq!(c.set_answer(&Frame::Null, t0, WHO), Ask::Ttl);
        assert_eq!(c.ttl_answer(&Frame::Integer(700), t0, WHO), Ask::Nothing);
        let again = t0 + Duration::from_millis(700) + AFTER_EXPIRY;
        assert_eq!(c.due(), Some(again));
        assert_eq!(c.ask(again - Duration::from_millis(1)), Ask::Nothing);
        assert_eq!(c.ask(again), Ask::SetNx);
        assert_eq!(c.set_answer(&ok(), again, WHO), Ask::Nothing);
        assert!(c.is_held() && c.refused().is_none());
    }

    /// A running node's key is still there once it would have expired: refused, naming the id.
    #[test]
    fn a_refreshed_key_refuses_the_id() {
        let t0 = Instant::now();
        let mut c = Claim::default();
        c.ask(t0);
        c.set_answer(&Frame::Null, t0, WHO);
        c.ttl_answer(&Frame::Integer(3000), t0, WHO);
        let again = t0 + Duration::from_millis(3000) + AFTER_EXPIRY;
        assert_eq!(c.ask(again), Ask::SetNx);
        assert_eq!(c.set_answer(&Frame::Null, again, WHO), Ask::Nothing);
        let why = c.refused().unwrap_or_default();
        assert!(why.contains("node id n1 is in use"), "{why}");
        assert!(!c.is_held());
    }

    /// A key that vanished between the `SET NX` and the `PTTL` is asked for at once; one
    /// without an expiry is no node's and refuses.
    #[test]
    fn a_vanished_key_is_asked_again_and_one_without_expiry_refuses() {
        let t0 = Instant::now();
        let mut c = Claim::default();
        c.ask(t0);
        c.set_answer(&Frame::Null, t0, WHO);
        assert_eq!(c.ttl_answer(&Frame::Integer(-2), t0, WHO), Ask::SetNx);
        assert_eq!(c.set_answer(&Frame::Null, t0, WHO), Ask::Ttl);
        assert_eq!(c.ttl_answer(&Frame::Integer(-1), t0, WHO), Ask::Nothing);
        assert!(c.refused().is_some_and(|w| w.contains("without an expiry")));
    }
}
