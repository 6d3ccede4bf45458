//! Whether this node holds its id (`--node-id`) on its Redis (issue 23). Two nodes with one id
//! would share one liveness key, one `live:<id>` channel and one name for their connections
//! in records: each would take the other's users for its own.
//!
//! Beside its liveness key `P:node:<id>` (its value the last stream entry applied, as before)
//! a node keeps `P:owner:<id>`: its owner token (`token.rs`, kept in its data directory, whose
//! lock lets one process at a time use it). Both are written together, by one script, with
//! one TTL, the owner key first: it never outlives the liveness key it came with.
//!
//! A starting node runs [`CLAIM_SCRIPT`]: the liveness key is not there, it sets both (the id
//! is its own: 1); it is there and the owner key holds this node's token, the key is what an
//! earlier run of this very node left (a crash, or a stop: nobody deletes it), and the node
//! takes it back at once (2); otherwise (0) the key is either a running node's (refreshed
//! every third of its TTL: still there once its `PTTL` has passed) or what a crashed node of
//! another data directory, or of a version without owner keys, left (it expires within its
//! `PTTL`). The node asks again just after the key would have expired and, finding it still
//! there, refuses to start (`main` exits with status 1 before any client is served). A node
//! that starts over after a lapse (`Ended::StartOver`) held the id already.

use super::resp::Frame;
use std::time::{Duration, Instant};

/// How long after the key's expiry, as its `PTTL` said, it is asked for again.
const AFTER_EXPIRY: Duration = Duration::from_millis(50);

/// The claim: `EVAL CLAIM_SCRIPT 2 <liveness key> <owner key> <position> <token> <ttl ms>`.
/// 1: set (the key was free); 2: taken back from this node's earlier run; 0: another holds it.
pub const CLAIM_SCRIPT: &str = "\
if redis.call('EXISTS', KEYS[1]) == 0 then \
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) \
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) return 1 end \
if redis.call('GET', KEYS[2]) == ARGV[2] then \
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) \
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) return 2 end \
return 0";

/// A refresh of a held id: the same keys and arguments; both keys set, the owner key first.
pub const REFRESH_SCRIPT: &str = "\
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) \
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) return 1";

/// What to send next on the command link.
#[derive(Debug, PartialEq, Eq)]
pub enum Ask {
    /// [`CLAIM_SCRIPT`].
    Claim,
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

    /// The command link is up, or `now` may be the retry's time: whether to send the claim.
    pub fn ask(&mut self, now: Instant) -> Ask {
        match &mut self.state {
            State::Asking {
                asked: asked @ false,
                retry,
                ..
            } if retry.is_none_or(|at| now >= at) => {
                *asked = true;
                Ask::Claim
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

    /// The answer to [`CLAIM_SCRIPT`] (`who`: this node's id and key, for the refusal's words).
    pub fn set_answer(&mut self, frame: &Frame, now: Instant, who: (&str, &str)) -> Ask {
        let State::Asking { expires, .. } = &mut self.state else {
            return Ask::Nothing;
        };
        match frame {
            Frame::Integer(1) => {
                self.state = State::Held;
                Ask::Nothing
            }
            Frame::Integer(2) => {
                log::info!(
                    "cluster: node id {}: its liveness key was this node's own (an earlier run \
                     on this data directory): taken back at once",
                    who.0
                );
                self.state = State::Held;
                Ask::Nothing
            }
            // Not set: the key is another's.
            Frame::Integer(0) => match *expires {
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
            _ => {
                // An error (logged by the caller), or no answer of the script's: asked again
                // in a while.
                self.state = State::Asking {
                    asked: false,
                    expires: *expires,
                    retry: Some(now + Duration::from_secs(1)),
                };
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
                        "cluster: node id {id} is held on Redis, not by an earlier run of this \
                         node (by another node with this id, or a crashed one): waiting {ms} ms \
                         for it to expire"
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
                Ask::Claim
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

    fn set() -> Frame {
        Frame::Integer(1)
    }

    fn another_s() -> Frame {
        Frame::Integer(0)
    }

    #[test]
    fn a_free_id_is_held_at_once() {
        let t0 = Instant::now();
        let mut c = Claim::default();
        assert_eq!(c.ask(t0), Ask::Claim);
        assert_eq!(c.ask(t0), Ask::Nothing, "one question at a time");
        assert_eq!(c.set_answer(&set(), t0, WHO), Ask::Nothing);
        assert!(c.is_held());
        assert_eq!(c.due(), None);
    }

    /// The key an earlier run of this node left (its owner token beside it): held at once,
    /// without waiting for it to expire.
    #[test]
    fn this_node_s_own_key_is_taken_back_at_once() {
        let t0 = Instant::now();
        let mut c = Claim::default();
        assert_eq!(c.ask(t0), Ask::Claim);
        assert_eq!(c.set_answer(&Frame::Integer(2), t0, WHO), Ask::Nothing);
        assert!(c.is_held() && c.refused().is_none());
        assert_eq!(c.due(), None);
    }

    /// An answer that is not the script's is asked again in a while, not taken for a hold.
    #[test]
    fn an_unexpected_answer_is_asked_again() {
        let t0 = Instant::now();
        let mut c = Claim::default();
        c.ask(t0);
        let odd = Frame::SimpleString(b"OK".to_vec());
        assert_eq!(c.set_answer(&odd, t0, WHO), Ask::Nothing);
        assert!(!c.is_held() && c.refused().is_none());
        let again = t0 + Duration::from_secs(1);
        assert_eq!(c.due(), Some(again));
        assert_eq!(c.ask(again), Ask::Claim);
    }

    /// What another crashed node left expires unrefreshed: asked again just after, the id is held.
    #[test]
    fn a_stale_key_is_waited_out() {
        let t0 = Instant::now();
        let mut c = Claim::default();
        c.ask(t0);
        assert_eq!(c.set_answer(&another_s(), t0, WHO), Ask::Ttl);
        assert_eq!(c.ttl_answer(&Frame::Integer(700), t0, WHO), Ask::Nothing);
        let again = t0 + Duration::from_millis(700) + AFTER_EXPIRY;
        assert_eq!(c.due(), Some(again));
        assert_eq!(c.ask(again - Duration::from_millis(1)), Ask::Nothing);
        assert_eq!(c.ask(again), Ask::Claim);
        assert_eq!(c.set_answer(&set(), again, WHO), Ask::Nothing);
        assert!(c.is_held() && c.refused().is_none());
    }

    /// A running node's key is still there once it would have expired: refused, naming the id.
    #[test]
    fn a_refreshed_key_refuses_the_id() {
        let t0 = Instant::now();
        let mut c = Claim::default();
        c.ask(t0);
        c.set_answer(&another_s(), t0, WHO);
        c.ttl_answer(&Frame::Integer(3000), t0, WHO);
        let again = t0 + Duration::from_millis(3000) + AFTER_EXPIRY;
        assert_eq!(c.ask(again), Ask::Claim);
        assert_eq!(c.set_answer(&another_s(), again, WHO), Ask::Nothing);
        let why = c.refused().unwrap_or_default();
        assert!(why.contains("node id n1 is in use"), "{why}");
        assert!(!c.is_held());
    }

    /// A key that vanished between the claim and the `PTTL` is asked for at once; one
    /// without an expiry is no node's and refuses.
    #[test]
    fn a_vanished_key_is_asked_again_and_one_without_expiry_refuses() {
        let t0 = Instant::now();
        let mut c = Claim::default();
        c.ask(t0);
        c.set_answer(&another_s(), t0, WHO);
        assert_eq!(c.ttl_answer(&Frame::Integer(-2), t0, WHO), Ask::Claim);
        assert_eq!(c.set_answer(&another_s(), t0, WHO), Ask::Ttl);
        assert_eq!(c.ttl_answer(&Frame::Integer(-1), t0, WHO), Ask::Nothing);
        assert!(c.refused().is_some_and(|w| w.contains("without an expiry")));
    }
}
