//! The field types of issue 22's requests (PROTOCOL.md §9d): a bounded list of names, the
//! conversation a `replay_*` request is about and its bounds. Each knows its core value both
//! ways, so [`super::request::Request`] stays one match per direction.

use crate::input::{Conversation, Mark};
use crate::valid::REPLAY_MAX;
use serde::de::{Error as _, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// At most this many names in one `lookup` or `monitor_*` request: IRC's `ISON` reads as many
/// and the core looks up no more, so a longer list is refused rather than cut short.
pub const MAX_NAMES: usize = 64;

/// A list of at most [`MAX_NAMES`] names: a longer one is a `bad_request`, refused while it is
/// read, so no request holds more.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Names(Vec<String>);

/// The stack room [`Names::borrowed`] lends the core's `&[&str]` from: no allocation per
/// request, and never more than [`MAX_NAMES`] slots.
pub type Scratch<'a> = [&'a str; MAX_NAMES];

impl Names {
    pub fn scratch<'a>() -> Scratch<'a> {
        [""; MAX_NAMES]
    }

    /// The names as the core takes them (`&[&str]`), lent from `scratch`.
    pub fn borrowed<'a>(&'a self, scratch: &'a mut Scratch<'a>) -> &'a [&'a str] {
        let n = self.0.len().min(MAX_NAMES);
        for (slot, name) in scratch.iter_mut().zip(&self.0) {
            *slot = name;
        }
        &scratch[..n]
    }

    /// The request's list for the core's (an input with more is cut to the first ones: only
    /// a test builds one).
    pub fn of(names: &[&str]) -> Names {
        Names(
            names
                .iter()
                .take(MAX_NAMES)
                .map(|n| n.to_string())
                .collect(),
        )
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Names, D::Error> {
        struct Bounded;
        impl<'de> Visitor<'de> for Bounded {
            type Value = Names;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a list of at most {MAX_NAMES} names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Names, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    if names.len() == MAX_NAMES {
                        return Err(A::Error::invalid_length(MAX_NAMES + 1, &self));
                    }
                    names.push(name);
                }
                Ok(Names(names))
            }
        }
        d.deserialize_seq(Bounded)
    }
}

/// Whose stored messages a `replay_*` request asks for: `{"room":"den"}` or `{"user":"bob"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum With {
    Room(String),
    User(String),
}

impl With {
    pub fn core(&self) -> Conversation<'_> {
        match self {
            With::Room(room) => Conversation::Room(room),
            With::User(user) => Conversation::User(user),
        }
    }

    pub fn of(with: Conversation<'_>) -> With {
        match with {
            Conversation::Room(room) => With::Room(room.to_string()),
            Conversation::User(user) => With::User(user.to_string()),
        }
    }
}

/// Where a `replay_*` selection starts or ends: `{"msgid":N}` (a message's `msgid`) or
/// `{"time_ms":N}`; a bound left out (or `null`) is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    Msgid(u64),
    TimeMs(u64),
}

impl Bound {
    pub fn core(bound: Option<Bound>) -> Mark {
        match bound {
            Some(Bound::Msgid(id)) => Mark::Id(id),
            Some(Bound::TimeMs(ms)) => Mark::Time(ms),
            None => Mark::None,
        }
    }

    pub fn of(mark: Mark) -> Option<Bound> {
        match mark {
            Mark::Id(id) => Some(Bound::Msgid(id)),
            Mark::Time(ms) => Some(Bound::TimeMs(ms)),
            Mark::None => None,
        }
    }
}

/// The fields of `replay_before`, `replay_after` and `replay_around`: a conversation, a bound
/// (none if left out) and how many at most.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtBound {
    with: With,
    #[serde(default)]
    at: Option<Bound>,
    #[serde(default = "replay_limit")]
    limit: usize,
}

impl AtBound {
    pub fn core(&self) -> (Conversation<'_>, Mark, usize) {
        (self.with.core(), Bound::core(self.at), self.limit)
    }

    pub fn of(with: Conversation<'_>, at: Mark, limit: usize) -> AtBound {
        AtBound {
            with: With::of(with),
            at: Bound::of(at),
            limit,
        }
    }
}

/// A `replay_*` request without a `limit` asks for as many as the core gives.
pub fn replay_limit() -> usize {
    REPLAY_MAX
}
