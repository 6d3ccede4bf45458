//! Format 1, read-only: the text form of releases before format 2, kept so their journal,
//! snapshot and history files still load exactly as they did. Space-separated words with free
//! text last; a value holding a space or newline could not be written back (issue 17, F1), so
//! this reader is frozen: nothing writes format 1 any more.

use super::{Access, Audience, Record};
use crate::credentials::Secret;
use std::sync::Arc;

/// What one line of a format-1 file holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Record(Record),
    /// A `channel` record whose settings do not read back (a key or mask held a space). The
    /// release that wrote it loaded it and ignored it at replay with a warning, keeping the
    /// room's previous settings; the loader skips it with a warning, to the same state.
    UnreadableChannel {
        room: String,
    },
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

/// Exactly `N` words, nothing after them.
fn only<const N: usize>(s: &str) -> Option<[&str; N]> {
    match words::<N>(s)? {
        (w, "") => Some(w),
        _ => None,
    }
}

fn parse_kind(w: &str) -> Option<bool> {
    match w {
        "private" => Some(true),
        "public" => Some(false),
        _ => None,
    }
}

/// Parse a format-1 line; `None` for anything malformed (the store reports where).
pub fn parse(line: &str) -> Option<Line> {
    let (kind, rest) = word(line)?;
    let owned = |s: &str| s.to_string();
    Some(Line::Record(match kind {
        "account" => {
            let [user, secret] = only::<2>(rest)?;
            Record::Account {
                user: owned(user),
                secret: Secret::parse(secret).ok()?,
            }
        }
        "block" => {
            let [by, user] = only::<2>(rest)?;
            Record::Block {
                by: owned(by),
                user: owned(user),
            }
        }
        "unblock" => {
            let [by, user] = only::<2>(rest)?;
            Record::Unblock {
                by: owned(by),
                user: owned(user),
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
            let [user, until] = only::<2>(rest)?;
            Record::Lockout {
                user: owned(user),
                until_ms: until.parse().ok()?,
            }
        }
        "delivered" => {
            let [to, count] = only::<2>(rest)?;
            Record::Delivered {
                to: owned(to),
                count: count.parse().ok()?,
            }
        }
        "history" => history(rest)?,
        "channel" => {
            let ([room], state) = words::<1>(rest)?;
            match channel(room, state) {
                Some(record) => record,
                None => return Some(Line::UnreadableChannel { room: owned(room) }),
            }
        }
        // Chat rooms and profiles (§5).
        "room-open" => {
            let [room, owner, kind] = only::<3>(rest)?;
            Record::RoomOpen {
                room: owned(room),
                owner: owned(owner),
                private: parse_kind(kind)?,
            }
        }
        "room-close" => {
            let [room] = only::<1>(rest)?;
            Record::RoomClose { room: owned(room) }
        }
        "room-mode" => {
            let [room, kind] = only::<2>(rest)?;
            Record::RoomMode {
                room: owned(room),
                private: parse_kind(kind)?,
            }
        }
        "room-access" => {
            // Room names never held a space; a user value could (issue 17, F1): it is
            // everything between the room and the last word, which format 1 refused to read.
            let ([room], rest) = words::<1>(rest)?;
            let (user, access) = rest.rsplit_once(' ')?;
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
    }))
}

/// `<ms> broadcast|announce <from> <text>` or `<ms> dm <from> <to> <text>`; files written
/// before `announce` existed hold only the other two.
fn history(rest: &str) -> Option<Record> {
    let ([at, kind], rest) = words::<2>(rest)?;
    let at_ms = at.parse().ok()?;
    let (from, to, text) = match kind {
        "broadcast" | "announce" => {
            let ([from], text) = words::<1>(rest)?;
            let to = if kind == "announce" {
                Audience::Announcement
            } else {
                Audience::Everyone
            };
            (from, to, text)
        }
        "dm" => {
            let ([from, to], text) = words::<2>(rest)?;
            (from, Audience::User(Arc::from(to)), text)
        }
        _ => return None,
    };
    Some(Record::History {
        at_ms,
        from: Arc::from(from),
        to,
        text: Arc::from(text),
    })
}

/// A `channel` record's state, `<created> <flags> <key> <ops> <voiced> <masks>` (`-` for none,
/// lists comma-separated), read exactly as the release that wrote it read it.
fn channel(room: &str, state: &str) -> Option<Record> {
    let w: Vec<&str> = state.split(' ').collect();
    let [created, flags, key, ops, voiced, masks] = w[..] else {
        return None;
    };
    let list = |s: &str| match s {
        "-" => Vec::new(),
        _ => s.split(',').map(Arc::from).collect(),
    };
    Some(Record::Channel {
        room: room.to_string(),
        created_s: created.parse().ok()?,
        secret: flags.contains('s'),
        topic_lock: flags.contains('t'),
        no_outside: flags.contains('n'),
        key: (key != "-").then(|| Arc::from(key)),
        ops: list(ops),
        voiced: list(voiced),
        masks: list(masks),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(line: &str) -> Option<Record> {
        match parse(line)? {
            Line::Record(r) => Some(r),
            Line::UnreadableChannel { .. } => None,
        }
    }

    /// One line of every kind as format 1 wrote it, and what it held.
    #[test]
    fn every_kind_reads_as_the_release_that_wrote_it_did() {
        let hashed = Secret::hashed("pw", [3; 16]);
        let cases = [
            (
                format!("account ann {hashed}"),
                Record::Account {
                    user: "ann".into(),
                    secret: hashed.clone(),
                },
            ),
            (
                "account bob x*y".into(),
                Record::Account {
                    user: "bob".into(),
                    secret: Secret::Plain("x*y".into()),
                },
            ),
            (
                "block yoda hans".into(),
                Record::Block {
                    by: "yoda".into(),
                    user: "hans".into(),
                },
            ),
            (
                "unblock yoda hans".into(),
                Record::Unblock {
                    by: "yoda".into(),
                    user: "hans".into(),
                },
            ),
            (
                "offline luke yoda 1700000000123   spaced  text ".into(),
                Record::Offline {
                    to: "luke".into(),
                    from: "yoda".into(),
                    at_ms: 1_700_000_000_123,
                    text: "  spaced  text ".into(),
                },
            ),
            (
                "offline luke yoda 5 ".into(),
                Record::Offline {
                    to: "luke".into(),
                    from: "yoda".into(),
                    at_ms: 5,
                    text: "".into(),
                },
            ),
            (
                "delivered luke 3".into(),
                Record::Delivered {
                    to: "luke".into(),
                    count: 3,
                },
            ),
            (
                "lockout yoda 60000".into(),
                Record::Lockout {
                    user: "yoda".into(),
                    until_ms: 60_000,
                },
            ),
            (
                "channel #den 17 nt key ann,bob - *!*@h,x!y@z".into(),
                Record::Channel {
                    room: "#den".into(),
                    created_s: 17,
                    secret: false,
                    topic_lock: true,
                    no_outside: true,
                    key: Some("key".into()),
                    ops: vec!["ann".into(), "bob".into()],
                    voiced: vec![],
                    masks: vec!["*!*@h".into(), "x!y@z".into()],
                },
            ),
            (
                "channel den 5 - - - - -".into(),
                Record::Channel {
                    room: "den".into(),
                    created_s: 5,
                    secret: false,
                    topic_lock: false,
                    no_outside: false,
                    key: None,
                    ops: vec![],
                    voiced: vec![],
                    masks: vec![],
                },
            ),
            (
                "room-open den.1 tom private".into(),
                Record::RoomOpen {
                    room: "den.1".into(),
                    owner: "tom".into(),
                    private: true,
                },
            ),
            (
                "room-close den".into(),
                Record::RoomClose { room: "den".into() },
            ),
            (
                "room-mode den public".into(),
                Record::RoomMode {
                    room: "den".into(),
                    private: false,
                },
            ),
            (
                "room-access den bob permit".into(),
                Record::RoomAccess {
                    room: "den".into(),
                    user: "bob".into(),
                    access: Access::Permitted,
                },
            ),
            (
                "room-topic den tom 17  all  about it ".into(),
                Record::RoomTopic {
                    room: "den".into(),
                    by: "tom".into(),
                    at_ms: 17,
                    text: " all  about it ".into(),
                },
            ),
            (
                "profile tom self_description I like  long walks ".into(),
                Record::Profile {
                    user: "tom".into(),
                    attribute: "self_description".into(),
                    value: "I like  long walks ".into(),
                },
            ),
            (
                "profile tom age ".into(),
                Record::Profile {
                    user: "tom".into(),
                    attribute: "age".into(),
                    value: "".into(),
                },
            ),
        ];
        for (line, want) in cases {
            assert_eq!(record(&line), Some(want), "{line}");
        }
    }

    // §6 menus: records written before `announce` was kept still parse as they did.
    #[test]
    fn history_records_of_every_age_parse() {
        let parse = |l: &str| match record(l) {
            Some(Record::History { to, text, .. }) => Some((to, text)),
            _ => None,
        };
        assert_eq!(
            parse("history 5 broadcast yoda hi there"),
            Some((Audience::Everyone, "hi there".into()))
        );
        assert_eq!(
            parse("history 5 dm yoda hans psst"),
            Some((Audience::User("hans".into()), "psst".into()))
        );
        assert_eq!(
            parse("history 5 announce yoda all"),
            Some((Audience::Announcement, "all".into()))
        );
        assert_eq!(parse("history x announce yoda all"), None);
    }

    /// Issue 17, F1: the record the bricking `MODE #m +b :x y` wrote reads back as what it
    /// meant (format 1 refused it, stopping start-up), and a channel whose key held a space
    /// is skipped as its release skipped it at replay.
    #[test]
    fn f1_lines_load() {
        assert_eq!(
            record("room-access m x y ban"),
            Some(Record::RoomAccess {
                room: "m".into(),
                user: "x y".into(),
                access: Access::Banned,
            })
        );
        assert_eq!(
            parse("channel #m 17 nt a b - - -"),
            Some(Line::UnreadableChannel { room: "#m".into() })
        );
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
            "room-access den bob",
            "room-topic den tom soon hi",
            "profile tom",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
