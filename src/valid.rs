//! The value rules (issue 17), in one place: every name, key, mask and text that enters the core
//! from any front-end passes one of these constructors before the core acts on it or writes
//! it to a record. A value of one of these types cannot be bad; front-ends only translate their
//! wire into `Input`s and never judge values themselves.
//!
//! Names compare under one casemapping everywhere, `CASEMAPPING=ascii` (what the IRC front-end
//! advertises): `Yoda`, `yoda` and `YODA` are one name; each keeps the spelling it was created
//! with for display. [`fold`] gives the key they compare by.

use crate::credentials::{reserved_name, valid_token};

/// The longest room key (`KEYLEN` in the IRC front-end's 005).
pub const KEY_LEN: usize = 32;
/// The longest ban mask (`nick!user@host` with wildcards).
pub const MASK_LEN: usize = 96;
/// The longest topic (`TOPICLEN`).
pub const TOPIC_LEN: usize = 390;
/// The longest profile value.
pub const PROFILE_LEN: usize = 256;
/// The longest away message, part, kick or quit reason (`AWAYLEN`, `KICKLEN`): longer ones are
/// cut, as IRC servers do, rather than refused (a quit cannot be refused).
pub const REASON_LEN: usize = 390;
/// Most mode changes with an argument in one `MODE` command (`MODES`); later ones are ignored.
pub const MODES: usize = 4;
/// The most names one user watches (`MONITOR=` in the IRC front-end's 005).
pub const MONITOR_LEN: usize = 100;
/// The largest member limit of a room (`+l`).
pub const LIMIT_MAX: u32 = 100_000;
/// The most messages one `CHATHISTORY` query returns (`CHATHISTORY=` in 005).
pub const REPLAY_MAX: usize = 1000;

/// Why a value was refused; the core answers each with its own error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// Not 1-32 printable ASCII characters without spaces, or a reserved word.
    UserName,
    /// Not 1-32 characters of `[A-Za-z0-9_.-]`.
    RoomName,
    /// Not 1-[`KEY_LEN`] printable ASCII characters without spaces or commas.
    Key,
    /// Not 1-[`MASK_LEN`] printable ASCII characters without spaces or commas.
    Mask,
    /// A control character other than tab.
    Text,
    /// Longer than this many bytes.
    TooLong(usize),
    /// Not 64 lowercase hex digits (a SHA-256 fingerprint).
    PeerKey,
    /// A member limit that is not a whole number from 1 to [`LIMIT_MAX`].
    Limit,
}

/// A room's member limit (`+l`) as typed: a whole number from 1 to [`LIMIT_MAX`].
pub fn room_limit(s: &str) -> Result<u32, Invalid> {
    match s.parse::<u32>() {
        Ok(n) if (1..=LIMIT_MAX).contains(&n) && s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(Invalid::Limit),
    }
}

/// `CASEMAPPING=ascii`: the key two names compare by.
pub fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Whether `a` and `b` are one name under the casemapping.
pub fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Whether `s` is free text a user may send: anything but control characters (Unicode `Cc`:
/// C0, DEL, C1), tab excepted. A newline would forge a second line on the line protocol, an
/// escape sequence would drive a reader's terminal; neither can reach anyone.
pub fn is_text(s: &str) -> bool {
    // Printable ASCII and tab first, as a fold without an early exit (the compiler makes it
    // vector compares): every message is checked, and decoding chars cost about 550
    // instructions a 32-byte message (callgrind, the durable row).
    let printable = |b: u8| (b' '..=b'~').contains(&b) | (b == b'\t');
    s.bytes().fold(true, |all, b| all & printable(b))
        || !s.chars().any(|c| c.is_control() && c != '\t')
}

/// `*`/`?` glob match under ASCII casemapping; linear backtracking to the last `*`, so a
/// mask from the network costs at most `mask × name` steps.
pub fn glob(mask: &[u8], name: &[u8]) -> bool {
    let (mut m, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match mask.get(m) {
            Some(b'*') => {
                star = Some((m, n));
                m += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&name[n]) => {
                m += 1;
                n += 1;
            }
            _ => match star {
                Some((sm, sn)) => {
                    star = Some((sm, sn + 1));
                    m = sm + 1;
                    n = sn + 1;
                }
                None => return false,
            },
        }
    }
    mask[m.min(mask.len())..].iter().all(|&c| c == b'*')
}

/// A borrowed string type whose constructor applies one rule: holding one proves the check.
macro_rules! checked {
    ($(#[$doc:meta])* $name:ident, $rule:expr, $refusal:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name<'a>(&'a str);

        impl<'a> $name<'a> {
            pub fn new(s: &'a str) -> Result<$name<'a>, Invalid> {
                let rule: fn(&str) -> bool = $rule;
                if rule(s) {
                    Ok($name(s))
                } else {
                    Err($refusal)
                }
            }

            pub fn as_str(&self) -> &'a str {
                self.0
            }
        }
    };
}

checked!(
    /// A user's name: 1-32 printable ASCII characters without spaces, not a login-prompt word.
    UserName,
    |s| valid_token(s) && !reserved_name(s),
    Invalid::UserName
);

checked!(
    /// A room's name: 1-32 characters of `[A-Za-z0-9_.-]` (an IRC channel is `#` and one).
    RoomName,
    |s| {
        (1..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    },
    Invalid::RoomName
);

/// Bytes a name taken now may not hold: IRC reads a message's source `nick!user@host` up to
/// the first `!`, so a line user called `yoda!x` showed on IRC as `yoda` (and `a@b` split the
/// same way); `,` separates IRC targets; `*` and `?` make a name a mask (`WHO`, a ban).
const NOT_IN_NEW_NAMES: &[u8] = b"!@,*?";
/// Bytes a name taken now may not start with: an IRC parameter starting with `:` takes the
/// rest of the line, `#` names a channel, `+` is how `NAMES` shows a voiced member.
const NOT_FIRST_IN_NEW_NAMES: &[u8] = b":#+";

checked!(
    /// A name a user takes now, for a new account or a guest, from any front-end: a
    /// [`UserName`] that every front-end shows as itself (see [`NOT_IN_NEW_NAMES`] and
    /// [`NOT_FIRST_IN_NEW_NAMES`]). Names made before this rule keep logging in as
    /// [`UserName`]s.
    NewUserName,
    |s| {
        UserName::new(s).is_ok()
            && !s.bytes().any(|b| NOT_IN_NEW_NAMES.contains(&b))
            && !s.bytes().next().is_some_and(|b| NOT_FIRST_IN_NEW_NAMES.contains(&b))
    },
    Invalid::UserName
);

/// Printable ASCII without spaces or commas (IRC's list separator), `1..=max` bytes.
fn list_word(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic() && b != b',')
}

checked!(
    /// A room key (IRC `+k`).
    RoomKey,
    |s| list_word(s, KEY_LEN),
    Invalid::Key
);

checked!(
    /// A ban mask: `nick!user@host` with `*`/`?` wildcards, matched ASCII case-insensitively.
    BanMask,
    |s| list_word(s, MASK_LEN),
    Invalid::Mask
);

impl BanMask<'_> {
    /// Whether this is a mask rather than a plain name: it has wildcards or a `!`/`@` part.
    pub fn is_pattern(&self) -> bool {
        self.0.contains(['*', '?', '!', '@'])
    }
}

checked!(
    /// The fingerprint of a `chatclient`'s peer-to-peer TLS key (`p2p-port <port> <key>`): the
    /// SHA-256 of its public key, 64 lowercase hex digits, passed on in the `P2P` line so the
    /// requester's client can pin it (PROTOCOL.md §4).
    PeerKey,
    |s| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
    Invalid::PeerKey
);

checked!(
    /// Text of a message (direct, broadcast, announcement, private, room chat): see [`is_text`].
    MessageText,
    is_text,
    Invalid::Text
);

/// Text with a length bound: a topic ([`TOPIC_LEN`]) or a profile value ([`PROFILE_LEN`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundedText<'a>(&'a str);

impl<'a> BoundedText<'a> {
    pub fn new(s: &'a str, max: usize) -> Result<BoundedText<'a>, Invalid> {
        if !is_text(s) {
            Err(Invalid::Text)
        } else if s.len() > max {
            Err(Invalid::TooLong(max))
        } else {
            Ok(BoundedText(s))
        }
    }

    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// What everyone reads when a user leaves with IRC `QUIT` (or the events protocol's `quit`):
/// `Quit: <words>`, the words as [`reason`] makes them; without words, `Client Quit` (as
/// Solanum and Hybrid say), never a bare `Quit: `. One rule for the core's `QUIT` to roommates
/// and the IRC front-end's own `ERROR` line.
pub fn quit_reason(words: &str) -> String {
    match reason(words) {
        words if words.trim().is_empty() => "Client Quit".to_string(),
        words => format!("Quit: {words}"),
    }
}

/// A reason or away message: control characters are dropped and the text is cut to
/// [`REASON_LEN`] bytes (on a character boundary), since a quit or a part cannot be refused.
pub fn reason(s: &str) -> String {
    let mut out: String = s
        .chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect();
    let mut end = out.len().min(REASON_LEN);
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_refuses_control_characters_but_tab() {
        assert!(is_text("hi\tthere, ünïcode ✓"));
        assert!(is_text("plain ASCII ~") && is_text("") && is_text("tab\tonly"));
        for bad in [
            "a\nb",
            "a\rb",
            "\0",
            "\x1b[2J",
            "\x7f",
            "\u{85}",
            "\u{9b}",
            "ascii then \u{85}",
            "é then \x7f",
        ] {
            assert!(!is_text(bad), "{bad:?}");
            assert_eq!(MessageText::new(bad), Err(Invalid::Text));
        }
        assert_eq!(
            BoundedText::new(&"x".repeat(11), 10),
            Err(Invalid::TooLong(10))
        );
        assert_eq!(BoundedText::new("a\nb", 10), Err(Invalid::Text));
    }

    #[test]
    fn names_keys_and_masks() {
        assert!(UserName::new("yoda").is_ok());
        for bad in ["", "a b", "login", "héllo", &"x".repeat(33)] {
            assert_eq!(UserName::new(bad), Err(Invalid::UserName), "{bad:?}");
        }
        for ok in [
            "yoda",
            "r2-d2",
            "[m]_x^{|}`-",
            "a:b",
            "a#b",
            "a+b",
            "C-3PO.",
        ] {
            assert!(NewUserName::new(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "yoda!x", "a@b", "a,b", "a*", "?", ":x", "#x", "+x", "login", "a b",
        ] {
            assert_eq!(NewUserName::new(bad), Err(Invalid::UserName), "{bad:?}");
            assert!(UserName::new(bad).is_ok() || bad.contains(' ') || bad == "login");
        }
        assert!(RoomName::new("den.1_x-y").is_ok());
        assert_eq!(RoomName::new("d n"), Err(Invalid::RoomName));
        assert!(RoomKey::new("s3cr$t").is_ok());
        for bad in ["", "a b", "a,b", "x\ny", &"k".repeat(33)] {
            assert_eq!(RoomKey::new(bad), Err(Invalid::Key), "{bad:?}");
        }
        assert!(BanMask::new("*!*@10.0.0.1").is_ok_and(|m| m.is_pattern()));
        assert!(PeerKey::new(&"0a".repeat(32)).is_ok());
        for bad in [
            "",
            &"0A".repeat(32),
            &"0a".repeat(31),
            &"0a".repeat(33),
            &"0g".repeat(32),
        ] {
            assert_eq!(PeerKey::new(bad), Err(Invalid::PeerKey), "{bad:?}");
        }
        assert!(BanMask::new("bob").is_ok_and(|m| !m.is_pattern()));
        for bad in ["x y", "a,b", "", &"m".repeat(97)] {
            assert_eq!(BanMask::new(bad), Err(Invalid::Mask), "{bad:?}");
        }
    }

    #[test]
    fn one_casemapping() {
        assert!(same_name("Yoda", "yOdA"));
        assert_eq!(fold("HaNs"), "hans");
        assert!(!same_name("hans", "hans2"));
    }

    #[test]
    fn reasons_are_cleaned_and_cut() {
        assert_eq!(reason("bye\r\nnow\t!"), "byenow\t!");
        let long = "é".repeat(300);
        let cut = reason(&long);
        assert!(cut.len() <= REASON_LEN && cut.chars().all(|c| c == 'é'));
    }
}
