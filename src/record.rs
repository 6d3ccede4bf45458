//! Durable facts the core emits and replays: one [`Record`] per state change, written by the
//! store as one human-readable line. New kinds of state (profiles, rooms) are new variants here;
//! the store's commit and recovery code never changes for them.

use crate::credentials::Secret;
use std::fmt;
use std::sync::Arc;

/// Who a history entry was addressed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Every online user (`broadcast`).
    Everyone,
    /// One user (`message`).
    User(String),
    // §6 menus.
    /// Every online user, the sender too (`announce`).
    Announcement,
}

// Chat rooms (PROTOCOL.md §5).
/// A user's standing in one room: its blacklist and whitelist are disjoint (the later of
/// `ban-user`/`permit-user` wins).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    None,
    Banned,
    Permitted,
}

impl Access {
    fn word(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::Banned => "ban",
            Access::Permitted => "permit",
        }
    }

    fn parse(w: &str) -> Option<Access> {
        Some(match w {
            "none" => Access::None,
            "ban" => Access::Banned,
            "permit" => Access::Permitted,
            _ => return None,
        })
    }
}

fn kind_word(private: bool) -> &'static str {
    if private {
        "private"
    } else {
        "public"
    }
}

fn parse_kind(w: &str) -> Option<bool> {
    match w {
        "private" => Some(true),
        "public" => Some(false),
        _ => None,
    }
}

/// One state change that must survive a crash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A new account or a new password; the store appends it to credentials.txt, not to the
    /// journal.
    Account {
        user: String,
        secret: Secret,
    },
    /// An account deleted by the operator (issue 21): replay drops everything kept for the
    /// name (mailbox, blocks both ways, profile, lockout, rooms it owned and its places on room
    /// lists). The store writes it to the journal and then a deletion line to credentials.txt.
    AccountDeleted {
        user: String,
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
    /// Shared strings: a snapshot of a large mailbox state clones pointers, not text.
    Offline {
        to: Arc<str>,
        from: Arc<str>,
        at_ms: u64,
        text: Arc<str>,
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
    // Reliability (issue 8): lockouts survive a restart.
    /// `user` is locked until this wall time (replay sets the lock from the clock then).
    Lockout {
        user: String,
        until_ms: u64,
    },
    /// IRC front-end (issue 12): a room's whole durable state after a change, in
    /// `chat::channels`' own text form (the last one replayed wins).
    Channel {
        room: String,
        state: String,
    },
    // Chat rooms and profiles (PROTOCOL.md §5).
    RoomOpen {
        room: String,
        owner: String,
        private: bool,
    },
    RoomClose {
        room: String,
    },
    RoomMode {
        room: String,
        private: bool,
    },
    RoomAccess {
        room: String,
        user: String,
        access: Access,
    },
    /// An empty `text` clears the topic.
    RoomTopic {
        room: String,
        by: String,
        at_ms: u64,
        text: String,
    },
    /// An empty `value` unsets the attribute.
    Profile {
        user: String,
        attribute: String,
        value: String,
    },
}

/// The one-line text form, e.g. `offline luke yoda 1700000000000 hello there`.
impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Record::Account { user, secret } => write!(f, "account {user} {secret}"),
            Record::AccountDeleted { user } => write!(f, "account-deleted {user}"),
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
            // §6 menus.
            Record::History {
                at_ms,
                from,
                to: Audience::Announcement,
                text,
            } => write!(f, "history {at_ms} announce {from} {text}"),
            Record::History {
                at_ms,
                from,
                to: Audience::User(to),
                text,
            } => write!(f, "history {at_ms} dm {from} {to} {text}"),
            Record::Lockout { user, until_ms } => write!(f, "lockout {user} {until_ms}"),
            Record::Channel { room, state } => write!(f, "channel {room} {state}"),
            // Chat rooms and profiles (§5).
            Record::RoomOpen {
                room,
                owner,
                private,
            } => write!(f, "room-open {room} {owner} {}", kind_word(*private)),
            Record::RoomClose { room } => write!(f, "room-close {room}"),
            Record::RoomMode { room, private } => {
                write!(f, "room-mode {room} {}", kind_word(*private))
            }
            Record::RoomAccess { room, user, access } => {
                write!(f, "room-access {room} {user} {}", access.word())
            }
            Record::RoomTopic {
                room,
                by,
                at_ms,
                text,
            } => write!(f, "room-topic {room} {by} {at_ms} {text}"),
            Record::Profile {
                user,
                attribute,
                value,
            } => write!(f, "profile {user} {attribute} {value}"),
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
            "account-deleted" => {
                let ([user], "") = words::<1>(rest)? else {
                    return None;
                };
                Record::AccountDeleted { user: owned(user) }
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
                    to: Arc::from(to),
                    from: Arc::from(from),
                    at_ms: at.parse().ok()?,
                    text: Arc::from(text),
                }
            }
            "lockout" => {
                let ([user, until], "") = words::<2>(rest)? else {
                    return None;
                };
                Record::Lockout {
                    user: owned(user),
                    until_ms: until.parse().ok()?,
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
                    // §6 menus: `announce` is a broadcast the sender saw too.
                    "broadcast" | "announce" => {
                        let ([from], text) = words::<1>(rest)?;
                        Record::History {
                            at_ms,
                            from: owned(from),
                            to: if kind == "announce" {
                                Audience::Announcement
                            } else {
                                Audience::Everyone
                            },
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
            // Chat rooms and profiles (§5).
            "room-open" => {
                let ([room, owner, kind], "") = words::<3>(rest)? else {
                    return None;
                };
                Record::RoomOpen {
                    room: owned(room),
                    owner: owned(owner),
                    private: parse_kind(kind)?,
                }
            }
            "room-close" => {
                let ([room], "") = words::<1>(rest)? else {
                    return None;
                };
                Record::RoomClose { room: owned(room) }
            }
            "room-mode" => {
                let ([room, kind], "") = words::<2>(rest)? else {
                    return None;
                };
                Record::RoomMode {
                    room: owned(room),
                    private: parse_kind(kind)?,
                }
            }
            "room-access" => {
                let ([room, user, access], "") = words::<3>(rest)? else {
                    return None;
                };
                Record::RoomAccess {
                    room: owned(room),
                    user: owned(user),
                    access: Access::parse(access)?,
                }
            }
            "room-topic" => {
                let ([room, by, at], text) = words::<3>(rest)?;
                Record::RoomTopic {
                    room: owned(room),
                    by: owned(by),
                    at_ms: at.parse().ok()?,
                    text: owned(text),
                }
            }
            "profile" => {
                let ([user, attribute], value) = words::<2>(rest)?;
                Record::Profile {
                    user: owned(user),
                    attribute: owned(attribute),
                    value: owned(value),
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
            Record::AccountDeleted { user: "bob".into() },
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
                text: Arc::from(""),
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
                state: "17 t - ann - - bob".into(),
            },
            // §6 menus.
            Record::History {
                at_ms: 1_700_000_000_000,
                from: "a".into(),
                to: Audience::Announcement,
                text: " all  of you".into(),
            },
            // Chat rooms and profiles (§5).
            Record::RoomOpen {
                room: "den.1".into(),
                owner: "tom".into(),
                private: true,
            },
            Record::RoomOpen {
                room: "x".into(),
                owner: "bob".into(),
                private: false,
            },
            Record::RoomClose { room: "den".into() },
            Record::RoomMode {
                room: "den".into(),
                private: false,
            },
            Record::RoomAccess {
                room: "den".into(),
                user: "bob".into(),
                access: Access::Banned,
            },
            Record::RoomAccess {
                room: "den".into(),
                user: "bob".into(),
                access: Access::Permitted,
            },
            Record::RoomAccess {
                room: "den".into(),
                user: "bob".into(),
                access: Access::None,
            },
            Record::RoomTopic {
                room: "den".into(),
                by: "tom".into(),
                at_ms: 17,
                text: " all  about it ".into(),
            },
            Record::RoomTopic {
                room: "den".into(),
                by: "tom".into(),
                at_ms: 18,
                text: String::new(),
            },
            Record::Profile {
                user: "tom".into(),
                attribute: "self_description".into(),
                value: "I like  long walks ".into(),
            },
            Record::Profile {
                user: "tom".into(),
                attribute: "age".into(),
                value: String::new(),
            },
        ];
        for r in records {
            let line = r.to_string();
            assert_eq!(Record::parse(&line), Some(r), "{line}");
        }
    }

    // §6 menus: records written before `announce` was kept still parse as they did.
    #[test]
    fn history_records_of_every_age_parse() {
        let parse = |l: &str| match Record::parse(l) {
            Some(Record::History { to, text, .. }) => Some((to, text)),
            _ => None,
        };
        assert_eq!(
            parse("history 5 broadcast yoda hi there"),
            Some((Audience::Everyone, "hi there".to_string()))
        );
        assert_eq!(
            parse("history 5 dm yoda hans psst"),
            Some((Audience::User("hans".into()), "psst".to_string()))
        );
        assert_eq!(
            parse("history 5 announce yoda all"),
            Some((Audience::Announcement, "all".to_string()))
        );
        assert_eq!(parse("history x announce yoda all"), None);
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
            "room-open den tom secret",
            "room-open den tom",
            "room-close",
            "room-mode den open",
            "room-access den bob maybe",
            "room-topic den tom soon hi",
            "profile tom",
        ] {
            assert_eq!(Record::parse(bad), None, "{bad:?}");
        }
    }
}
