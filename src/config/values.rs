//! Settings as named values before they become a [`super::Config`]: the command line and the
//! config file both produce them, keyed by the long flag name, and each remembers where it came
//! from so an error names the flag (`--max-line`) or the file and line (`chat.toml:3: max-line`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A value as written: the command line gives text (or `true` for a switch), the config file
/// gives typed values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Int(i64),
    Bool(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Where a value came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A flag, or a positional argument (PORT, BLOCK_DURATION, TIMEOUT).
    CommandLine,
    /// A line of the config file.
    File { path: PathBuf, line: usize },
}

/// The positional arguments and the key each is stored under.
pub const POSITIONAL: [(&str, &str); 3] = [
    ("port", "PORT"),
    ("block-duration", "BLOCK_DURATION"),
    ("timeout", "TIMEOUT"),
];

#[derive(Clone, Debug)]
struct Entry {
    value: Value,
    origin: Origin,
}

/// The named values of one start-up (or one reload), the later source overriding the earlier.
#[derive(Clone, Debug, Default)]
pub struct Values {
    entries: BTreeMap<String, Entry>,
}

/// Longest accepted duration (about 31 years): `Instant + Duration` must never overflow.
const MAX_SECONDS: u64 = 1_000_000_000;

impl Values {
    pub fn set(&mut self, key: &str, value: Value, origin: Origin) {
        self.entries
            .insert(key.to_string(), Entry { value, origin });
    }

    /// The value of `key`, if given.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.get(key).map(|e| &e.value)
    }

    /// Make `key` what it is in `other` (given or not).
    pub fn copy_from(&mut self, other: &Values, key: &str) {
        match other.entries.get(key) {
            Some(e) => {
                self.entries.insert(key.to_string(), e.clone());
            }
            None => {
                self.entries.remove(key);
            }
        }
    }

    /// Take every value of `other`, replacing any of the same key.
    pub fn merge(&mut self, other: &Values) {
        for (k, e) in &other.entries {
            self.entries.insert(k.clone(), e.clone());
        }
    }

    /// Whether `key` was given at all (by either source).
    pub fn given(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// How an error names `key`: `--max-line`, `PORT`, or `chat.toml:3: max-line`.
    pub fn name(&self, key: &str) -> String {
        let positional = POSITIONAL.iter().find(|(k, _)| *k == key);
        match self.entries.get(key).map(|e| &e.origin) {
            Some(Origin::File { path, line }) => format!("{}:{line}: {key}", path.display()),
            _ => match positional {
                Some((_, upper)) => upper.to_string(),
                None => format!("--{key}"),
            },
        }
    }

    fn invalid(&self, key: &str, value: &Value, expected: &str) -> String {
        format!("invalid {}: {value} ({expected})", self.name(key))
    }

    /// A text value (a number in the file is taken as its digits: `bind = 127` is still text).
    pub fn text(&self, key: &str) -> Result<Option<String>, String> {
        match self.entries.get(key).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::Text(s)) => Ok(Some(s.clone())),
            Some(Value::Int(n)) => Ok(Some(n.to_string())),
            Some(v @ Value::Bool(_)) => Err(self.invalid(key, v, "text expected")),
        }
    }

    /// A switch: absent is false.
    pub fn switch(&self, key: &str) -> Result<bool, String> {
        match self.entries.get(key).map(|e| &e.value) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.invalid(key, v, "true or false expected")),
        }
    }

    /// A non-negative number of type `T`.
    pub fn number<T: TryFrom<u64> + std::str::FromStr>(
        &self,
        key: &str,
    ) -> Result<Option<T>, String> {
        let Some(v) = self.entries.get(key).map(|e| &e.value) else {
            return Ok(None);
        };
        let parsed = match v {
            Value::Int(n) => u64::try_from(*n).ok().and_then(|n| T::try_from(n).ok()),
            Value::Text(s) => s.parse().ok(),
            Value::Bool(_) => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| self.invalid(key, v, "a non-negative whole number in range expected"))
    }

    /// Whole seconds, at most about 31 years.
    pub fn seconds(&self, key: &str) -> Result<Option<Duration>, String> {
        let Some(v) = self.entries.get(key).map(|e| &e.value) else {
            return Ok(None);
        };
        match self.number::<u64>(key) {
            Ok(Some(s)) if s <= MAX_SECONDS => Ok(Some(Duration::from_secs(s))),
            Ok(_) => Err(self.invalid(key, v, "at most 1000000000 seconds")),
            Err(_) => Err(self.invalid(key, v, "whole seconds expected")),
        }
    }

    /// One of `choices`, as text.
    pub fn choice(&self, key: &str, choices: &[&'static str]) -> Result<Option<usize>, String> {
        let Some(v) = self.entries.get(key).map(|e| &e.value) else {
            return Ok(None);
        };
        let found = match v {
            Value::Text(s) => choices.iter().position(|c| c == s),
            _ => None,
        };
        found
            .map(Some)
            .ok_or_else(|| self.invalid(key, v, &choices.join("|")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_flag_or_the_file_line() {
        let mut v = Values::default();
        v.set("max-line", Value::Text("abc".into()), Origin::CommandLine);
        v.set(
            "block-duration",
            Value::Text("-5".into()),
            Origin::CommandLine,
        );
        v.set(
            "history",
            Value::Int(-1),
            Origin::File {
                path: "chat.toml".into(),
                line: 3,
            },
        );
        v.set("fsync", Value::Bool(true), Origin::CommandLine);
        assert_eq!(
            v.number::<usize>("max-line"),
            Err(
                "invalid --max-line: \"abc\" (a non-negative whole number in range expected)"
                    .into()
            )
        );
        assert_eq!(
            v.seconds("block-duration"),
            Err("invalid BLOCK_DURATION: \"-5\" (whole seconds expected)".into())
        );
        assert_eq!(
            v.number::<usize>("history"),
            Err(
                "invalid chat.toml:3: history: -1 (a non-negative whole number in range expected)"
                    .into()
            )
        );
        assert_eq!(
            v.choice("fsync", &["always", "never"]),
            Err("invalid --fsync: true (always|never)".into())
        );
        assert_eq!(v.number::<u16>("absent"), Ok(None));
    }

    #[test]
    fn typed_values_convert() {
        let mut v = Values::default();
        v.set("a", Value::Int(70000), Origin::CommandLine);
        v.set("b", Value::Text("7".into()), Origin::CommandLine);
        v.set("c", Value::Bool(true), Origin::CommandLine);
        assert!(v.number::<u16>("a").is_err(), "out of range");
        assert_eq!(v.number::<u32>("a"), Ok(Some(70000)));
        assert_eq!(v.number::<u8>("b"), Ok(Some(7)));
        assert_eq!(v.switch("c"), Ok(true));
        assert_eq!(v.switch("missing"), Ok(false));
        assert!(v.switch("b").is_err());
        assert_eq!(v.text("a"), Ok(Some("70000".into())));
        assert_eq!(v.seconds("a"), Ok(Some(Duration::from_secs(70000))));
    }
}
