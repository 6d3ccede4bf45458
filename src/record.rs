//! Durable facts the core emits and replays: one [`Record`] per state change, written by the
//! store as one human-readable line. New kinds of state (profiles, rooms) are new variants here;
//! the store's commit and recovery code never changes for them.

use crate::credentials::Secret;
use std::fmt;

/// Who a history entry was addressed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Every online user (`broadcast`).
    Everyone,
    /// One user (`message`).
    User(String),
}

/// One state change that must survive a crash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A new account; the store appends it to credentials.txt, not to the journal.
    Account {
        user: String,
        secret: Secret,
    },
    Block {
        by: String,
        user: String,
    },
    Unblock {
        by: String,
        user: String,
    },
    /// A message queued for a user who was offline.
    Offline {
        to: String,
        from: String,
        at_ms: u64,
        text: String,
    },
    /// The oldest `count` queued messages of `to` were handed to its connection.
    Delivered {
        to: String,
        count: u32,
    },
    /// A message kept for `history`.
    History {
        at_ms: u64,
        from: String,
        to: Audience,
        text: String,
    },
    /// IRC front-end (issue 12): a room's whole durable state after a change, in
    /// `chat::channels`' own text form (the last one replayed wins).
    Channel {
        room: String,
        state: String,
    },
}

/// The one-line text form, e.g. `offline luke yoda 1700000000000 hello there`.
impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Record::Account { user, secret } => write!(f, "account {user} {secret}"),
            Record::Block { by, user } => write!(f, "block {by} {user}"),
            Record::Unblock { by, user } => write!(f, "unblock {by} {user}"),
            Record::Offline {
                to,
                from,
                at_ms,
                text,
            } => write!(f, "offline {to} {from} {at_ms} {text}"),
            Record::Delivered { to, count } => write!(f, "delivered {to} {count}"),
            Record::History {
                at_ms,
                from,
                to: Audience::Everyone,
                text,
            } => write!(f, "history {at_ms} broadcast {from} {text}"),
            Record::History {
                at_ms,
                from,
                to: Audience::User(to),
                text,
            } => write!(f, "history {at_ms} dm {from} {to} {text}"),
            Record::Channel { room, state } => write!(f, "channel {room} {state}"),
        }
    }
}

/// Split off the next space-separated word; the rest keeps its spaces (free text is verbatim).
fn word(s: &str) -> Option<(&str, &str)> {
    match s.split_once(' ') {
        Some((w, rest)) => Some((w, rest)),
        None if !s.is_empty() => Some((s, "")),
        None => None,
    }
}

fn words<const N: usize>(mut s: &str) -> Option<([&str; N], &str)> {
    let mut out = [""; N];
    for slot in out.iter_mut() {
        let (w, rest) = word(s)?;
        *slot = w;
        s = rest;
    }
    Some((out, s))
}

impl Record {
    /// A lazy record is written with its batch but does not by itself wait for the disk: losing
    /// the last second of it to a power cut breaks no promise. Only history is lazy (PROTOCOL.md
    /// §3 promises durability for accounts, blocks and offline messages, not for the log of
    /// messages already delivered), which keeps fsync off the path of every live message.
    pub fn is_lazy(&self) -> bool {
        matches!(self, Record::History { .. })
    }

    /// Parse the text form; `None` for anything malformed (the store reports where).
    pub fn parse(line: &str) -> Option<Record> {
        let (kind, rest) = word(line)?;
        let owned = |s: &str| s.to_string();
        Some(match kind {
            "account" => {
                let ([user, secret], "") = words::<2>(rest)? else {
                    return None;
                };
                Record::Account {
                    user: owned(user),
                    secret: Secret::parse(secret).ok()?,
                }
            }
            "block" | "unblock" => {
                let ([by, user], "") = words::<2>(rest)? else {
                    return None;
                };
                let (by, user) = (owned(by), owned(user));
                if kind == "block" {
                    Record::Block { by, user }
                } else {
                    Record::Unblock { by, user }
                }
            }
            "offline" => {
                let ([to, from, at], text) = words::<3>(rest)?;
                Record::Offline {
                    to: owned(to),
                    from: owned(from),
                    at_ms: at.parse().ok()?,
                    text: owned(text),
                }
            }
            "delivered" => {
                let ([to, count], "") = words::<2>(rest)? else {
                    return None;
                };
                Record::Delivered {
                    to: owned(to),
                    count: count.parse().ok()?,
                }
            }
            "history" => {
                let ([at, kind], rest) = words::<2>(rest)?;
                let at_ms = at.parse().ok()?;
                match kind {
                    "broadcast" => {
                        let ([from], text) = words::<1>(rest)?;
                        Record::History {
                            at_ms,
                            from: owned(from),
                            to: Audience::Everyone,
                            text: owned(text),
                        }
                    }
                    "dm" => {
                        let ([from, to], text) = words::<2>(rest)?;
                        Record::History {
                            at_ms,
                            from: owned(from),
                            to: Audience::User(owned(to)),
                            text: owned(text),
                        }
                    }
                    _ => return None,
                }
            }
            "channel" => {
                let ([room], state) = words::<1>(rest)?;
                Record::Channel {
                    room: owned(room),
                    state: owned(state),
                }
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        let records = [
            Record::Account {
                user: "ann".into(),
                secret: Secret::hashed("pw", [3; 16]),
            },
            Record::Account {
                user: "bob".into(),
                secret: Secret::Plain("x*y".into()),
            },
            Record::Block {
                by: "yoda".into(),
                user: "hans".into(),
            },
            Record::Unblock {
                by: "yoda".into(),
                user: "hans".into(),
            },
            Record::Offline {
                to: "luke".into(),
                from: "yoda".into(),
                at_ms: 1_700_000_000_123,
                text: "  spaced  text ".into(),
            },
            Record::Offline {
                to: "luke".into(),
                from: "yoda".into(),
                at_ms: 5,
                text: String::new(),
            },
            Record::Delivered {
                to: "luke".into(),
                count: 3,
            },
            Record::History {
                at_ms: 9,
                from: "a".into(),
                to: Audience::Everyone,
                text: "hi all".into(),
            },
            Record::History {
                at_ms: 9,
                from: "a".into(),
                to: Audience::User("b".into()),
                text: "psst ".into(),
            },
            Record::Channel {
                room: "chan".into(),
                state: "ann 17 t - ann - - - 0 a topic".into(),
            },
        ];
        for r in records {
            let line = r.to_string();
            assert_eq!(Record::parse(&line), Some(r), "{line}");
        }
    }

    #[test]
    fn malformed_lines_are_rejected() {
        for bad in [
            "",
            "bogus x y",
            "block onlyone",
            "block a b c",
            "delivered luke many",
            "offline luke yoda notanumber hi",
            "history 1 sideways a b",
        ] {
            assert_eq!(Record::parse(bad), None, "{bad:?}");
        }
    }
}
