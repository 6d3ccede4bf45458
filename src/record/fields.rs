//! The one field codec every record kind uses (format 2): a record is its kind word, then its
//! fields in declaration order, separated by tabs; each field is escaped, so any value at all
//! round-trips and no record's text can hold a newline.
//!
//! Escapes (PostgreSQL's COPY text format, which solved this problem the same way): `\\`, `\t`,
//! `\n`, `\r`, and `\xHH` for every other control character (C0, DEL, C1); `\N` is an absent
//! optional value. Everything else, spaces and all of Unicode included, is written as is, so a
//! journal stays readable with `less`. Tabs rather than spaces separate fields so that message
//! text, the bulk of a journal, needs no escaping at all.
//!
//! A field type implements [`Field`]; a new record kind made of existing field types needs no
//! code here. A new field type (say a validated name) implements it by writing and reading a
//! `String` (or another field), never by writing text itself.

use super::{Access, Audience, Kind, RoomSetting};
use crate::credentials::Secret;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::iter::Peekable;
use std::str::Split;
use std::sync::Arc;

/// Between fields.
const SEPARATOR: char = '\t';
/// An absent optional value. No text encodes to it: a backslash in text is always written `\\`.
const NONE: &str = "\\N";

/// A record's one-line text in format 2. Only [`Writer`] makes one, and it escapes every field,
/// so a `RecordText` never holds a newline: the store writes it as a line without checking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordText(String);

impl RecordText {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The buffer, to encode the next record into (see [`super::Record::encode_reusing`]).
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Builds a [`RecordText`], one escaped field at a time.
#[derive(Debug)]
pub struct Writer {
    text: String,
}

impl Writer {
    /// Start a record of `kind` (a word of [`super::Record::KINDS`], which a test keeps free of
    /// anything that would need escaping): the cluster's live records (issue 23).
    #[cfg(feature = "cluster")]
    pub(crate) fn new(kind: &'static str) -> Writer {
        Writer::reusing(kind, String::new())
    }

    /// Start a record of `kind`, written into `buf`'s memory (emptied first): the store's encoder
    /// reuses one buffer for every record (issue 20).
    pub(super) fn reusing(kind: &'static str, mut buf: String) -> Writer {
        buf.clear();
        buf.push_str(kind);
        Writer { text: buf }
    }

    /// Append one field holding `value`, whatever it holds.
    pub fn text(&mut self, value: &str) {
        self.text.push(SEPARATOR);
        escape(value, &mut self.text);
    }

    fn number(&mut self, n: u64) {
        // Digits need no escaping. Written two digits at a time rather than through `write!`:
        // every journal and history line has two to four numbers, and `core::fmt` cost about
        // 345 instructions each (callgrind of the durable row, BENCHMARKS.md).
        const PAIRS: &str = "0001020304050607080910111213141516171819\
            2021222324252627282930313233343536373839404142434445464748495051525354555657585960\
            616263646566676869707172737475767778798081828384858687888990919293949596979899";
        self.text.push(SEPARATOR);
        // The pairs from the lowest up (a u64 has at most ten), then written highest first.
        let mut pairs = [0usize; 10];
        let mut count = 0;
        let mut rest = n;
        while rest >= 100 {
            pairs[count] = usize::try_from(rest % 100).unwrap_or(0) * 2;
            rest /= 100;
            count += 1;
        }
        let top = usize::try_from(rest).unwrap_or(0) * 2;
        // The highest pair without its leading zero (`7`, not `07`).
        self.text
            .push_str(&PAIRS[top + usize::from(rest < 10)..top + 2]);
        for &pair in pairs[..count].iter().rev() {
            self.text.push_str(&PAIRS[pair..pair + 2]);
        }
    }

    fn none(&mut self) {
        self.text.push(SEPARATOR);
        self.text.push_str(NONE);
    }

    pub(crate) fn finish(self) -> RecordText {
        RecordText(self.text)
    }
}

/// The fields of one record's text, read in order.
#[derive(Debug)]
pub struct Reader<'a> {
    fields: Peekable<Split<'a, char>>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Reader<'a> {
        Reader {
            fields: text.split(SEPARATOR).peekable(),
        }
    }

    /// The next field as written (the kind word, or a field not yet unescaped).
    pub(crate) fn raw(&mut self) -> Option<&'a str> {
        self.fields.next()
    }

    /// The next field's value; `None` if there is none or its escapes are malformed.
    pub fn text(&mut self) -> Option<Cow<'a, str>> {
        unescape(self.raw()?)
    }

    fn next_is_none(&mut self) -> bool {
        self.fields.next_if_eq(&NONE).is_some()
    }

    /// Every field was read: a record with fields left over is malformed.
    pub(crate) fn finish(mut self) -> bool {
        self.fields.next().is_none()
    }
}

/// A byte that may start something to escape. 0xC2 leads the two-byte forms of U+0080-U+00BF,
/// the C1 controls among them; the slow path looks at the whole character.
fn needs_care(b: u8) -> bool {
    (b < 0x20) | (b == 0x7f) | (b == b'\\') | (b == 0xc2)
}

fn escape(value: &str, out: &mut String) {
    // A fold without an early exit, so the compiler makes it vector compares: message text,
    // the bulk of every journal and history line, almost never needs escaping, and this scan
    // is then all the escaping costs (`any` took a branch a byte).
    if !value.bytes().fold(false, |seen, b| seen | needs_care(b)) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            // Every control character is below U+0100: two hex digits hold it.
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

fn unescape(field: &str) -> Option<Cow<'_, str>> {
    if !field.contains('\\') {
        return Some(Cow::Borrowed(field));
    }
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (c, used) = match after.as_bytes().first()? {
            b'\\' => ('\\', 1),
            b't' => ('\t', 1),
            b'n' => ('\n', 1),
            b'r' => ('\r', 1),
            b'x' => {
                let hex = after.get(1..3)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                (char::from(u8::from_str_radix(hex, 16).ok()?), 3)
            }
            _ => return None,
        };
        out.push(c);
        rest = &after[used..];
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

/// A type a record field can have: written as one or more fields, read back as the same value.
pub trait Field: Sized {
    fn write(&self, out: &mut Writer);
    fn read(from: &mut Reader<'_>) -> Option<Self>;
}

/// A field that is exactly one value and never written `\N`: what an `Option` may hold (so
/// `None` and `Some` can never be confused).
pub trait Scalar: Field {}

impl Field for String {
    fn write(&self, out: &mut Writer) {
        out.text(self);
    }
    fn read(from: &mut Reader<'_>) -> Option<String> {
        from.text().map(Cow::into_owned)
    }
}
impl Scalar for String {}

impl Field for Arc<str> {
    fn write(&self, out: &mut Writer) {
        out.text(self);
    }
    fn read(from: &mut Reader<'_>) -> Option<Arc<str>> {
        from.text().map(|t| Arc::from(&*t))
    }
}
impl Scalar for Arc<str> {}

impl Field for u64 {
    fn write(&self, out: &mut Writer) {
        out.number(*self);
    }
    fn read(from: &mut Reader<'_>) -> Option<u64> {
        digits(from.raw()?)?.parse().ok()
    }
}
impl Scalar for u64 {}

impl Field for u32 {
    fn write(&self, out: &mut Writer) {
        out.number(u64::from(*self));
    }
    fn read(from: &mut Reader<'_>) -> Option<u32> {
        digits(from.raw()?)?.parse().ok()
    }
}
impl Scalar for u32 {}

/// Only plain digits: `parse` would also take a `+`, which the writer never writes.
fn digits(s: &str) -> Option<&str> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

impl Field for bool {
    fn write(&self, out: &mut Writer) {
        out.text(if *self { "true" } else { "false" });
    }
    fn read(from: &mut Reader<'_>) -> Option<bool> {
        match from.raw()? {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}
impl Scalar for bool {}

impl<T: Scalar> Field for Option<T> {
    fn write(&self, out: &mut Writer) {
        match self {
            Some(v) => v.write(out),
            None => out.none(),
        }
    }
    fn read(from: &mut Reader<'_>) -> Option<Option<T>> {
        if from.next_is_none() {
            return Some(None);
        }
        T::read(from).map(Some)
    }
}

/// A count, then each item.
impl<T: Field> Field for Vec<T> {
    fn write(&self, out: &mut Writer) {
        out.number(self.len() as u64);
        for item in self {
            item.write(out);
        }
    }
    fn read(from: &mut Reader<'_>) -> Option<Vec<T>> {
        let count = u64::read(from)?;
        // No capacity from the count: a damaged count must not allocate; items run out first.
        let mut items = Vec::new();
        for _ in 0..count {
            items.push(T::read(from)?);
        }
        Some(items)
    }
}

impl Field for Access {
    fn write(&self, out: &mut Writer) {
        out.text(self.word());
    }
    fn read(from: &mut Reader<'_>) -> Option<Access> {
        Access::parse(from.raw()?)
    }
}
impl Scalar for Access {}

/// `broadcast`, `announce`, or `dm` and the user.
impl Field for Audience {
    fn write(&self, out: &mut Writer) {
        match self {
            Audience::Everyone => out.text("broadcast"),
            Audience::Announcement => out.text("announce"),
            Audience::User(to) => {
                out.text("dm");
                out.text(to);
            }
            Audience::Room(room) => {
                out.text("room");
                out.text(room);
            }
        }
    }
    fn read(from: &mut Reader<'_>) -> Option<Audience> {
        Some(match from.raw()? {
            "broadcast" => Audience::Everyone,
            "announce" => Audience::Announcement,
            "dm" => Audience::User(Arc::<str>::read(from)?),
            "room" => Audience::Room(Arc::<str>::read(from)?),
            _ => return None,
        })
    }
}

/// A message's kind as a word (issue 22).
impl Field for Kind {
    fn write(&self, out: &mut Writer) {
        out.text(match self {
            Kind::Say => "say",
            Kind::Notice => "notice",
            Kind::Action => "action",
            Kind::Ctcp => "ctcp",
            Kind::CtcpReply => "ctcp-reply",
            Kind::Tags => "tags",
        });
    }
    fn read(from: &mut Reader<'_>) -> Option<Kind> {
        Some(match from.raw()? {
            "say" => Kind::Say,
            "notice" => Kind::Notice,
            "action" => Kind::Action,
            "ctcp" => Kind::Ctcp,
            "ctcp-reply" => Kind::CtcpReply,
            "tags" => Kind::Tags,
            _ => return None,
        })
    }
}
impl Scalar for Kind {}

/// The setting's word, then its values.
impl Field for RoomSetting {
    fn write(&self, out: &mut Writer) {
        let flag = |out: &mut Writer, word: &str, on: &bool| {
            out.text(word);
            on.write(out);
        };
        let named = |out: &mut Writer, word: &str, name: &String, on: &bool| {
            out.text(word);
            name.write(out);
            on.write(out);
        };
        match self {
            RoomSetting::Origin { created_s, guest } => {
                out.text("origin");
                created_s.write(out);
                guest.write(out);
            }
            RoomSetting::Secret(on) => flag(out, "secret", on),
            RoomSetting::TopicLock(on) => flag(out, "topic-lock", on),
            RoomSetting::NoOutside(on) => flag(out, "no-outside", on),
            RoomSetting::Key(key) => {
                out.text("key");
                key.write(out);
            }
            RoomSetting::Op { user, on } => named(out, "op", user, on),
            RoomSetting::Voice { user, on } => named(out, "voice", user, on),
            RoomSetting::Mask { mask, on } => named(out, "mask", mask, on),
            RoomSetting::Limit(limit) => {
                out.text("limit");
                limit.write(out);
            }
            RoomSetting::Moderated(on) => flag(out, "moderated", on),
        }
    }
    fn read(from: &mut Reader<'_>) -> Option<RoomSetting> {
        Some(match from.raw()? {
            "origin" => RoomSetting::Origin {
                created_s: u64::read(from)?,
                guest: bool::read(from)?,
            },
            "secret" => RoomSetting::Secret(bool::read(from)?),
            "topic-lock" => RoomSetting::TopicLock(bool::read(from)?),
            "no-outside" => RoomSetting::NoOutside(bool::read(from)?),
            "key" => RoomSetting::Key(Option::<String>::read(from)?),
            "op" => RoomSetting::Op {
                user: String::read(from)?,
                on: bool::read(from)?,
            },
            "voice" => RoomSetting::Voice {
                user: String::read(from)?,
                on: bool::read(from)?,
            },
            "mask" => RoomSetting::Mask {
                mask: String::read(from)?,
                on: bool::read(from)?,
            },
            "limit" => RoomSetting::Limit(Option::<u32>::read(from)?),
            "moderated" => RoomSetting::Moderated(bool::read(from)?),
            _ => return None,
        })
    }
}

/// `plain` and the password, `sha256` with the salt and the digest in hex, or `pbkdf2-sha256`
/// with the iterations, the salt and the key: a plain password
/// that starts with `$sha256$` stays plain (credentials.txt's form could not tell them apart).
impl Field for Secret {
    fn write(&self, out: &mut Writer) {
        match self {
            Secret::Plain(p) => {
                out.text("plain");
                out.text(p);
            }
            Secret::Sha256 { salt, digest } => {
                out.text("sha256");
                out.text(&hex::encode(salt));
                out.text(&hex::encode(digest));
            }
            Secret::Pbkdf2 {
                iterations,
                salt,
                key,
            } => {
                out.text("pbkdf2-sha256");
                out.text(&iterations.to_string());
                out.text(&hex::encode(salt));
                out.text(&hex::encode(key));
            }
        }
    }
    fn read(from: &mut Reader<'_>) -> Option<Secret> {
        Some(match from.raw()? {
            "plain" => Secret::Plain(String::read(from)?),
            "sha256" => {
                let mut salt = [0u8; 16];
                let mut digest = [0u8; 32];
                hex::decode_to_slice(from.raw()?, &mut salt).ok()?;
                hex::decode_to_slice(from.raw()?, &mut digest).ok()?;
                Secret::Sha256 { salt, digest }
            }
            "pbkdf2-sha256" => {
                let iterations = from.raw()?.parse().ok()?;
                let mut salt = [0u8; 16];
                let mut key = [0u8; 32];
                hex::decode_to_slice(from.raw()?, &mut salt).ok()?;
                hex::decode_to_slice(from.raw()?, &mut key).ok()?;
                Secret::Pbkdf2 {
                    iterations,
                    salt,
                    key,
                }
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        escape(s, &mut out);
        out
    }

    #[test]
    fn escapes_read_back_and_leave_spaces_and_unicode_alone() {
        for (value, text) in [
            ("hello there", "hello there"),
            ("", ""),
            ("a\tb\nc\rd\\e", "a\\tb\\nc\\rd\\\\e"),
            ("nul\0 bel\x07 del\x7f", "nul\\x00 bel\\x07 del\\x7f"),
            ("nel\u{85} é ✓ $x #y \\N", "nel\\x85 é ✓ $x #y \\\\N"),
        ] {
            assert_eq!(escaped(value), text, "{value:?}");
            assert_eq!(unescape(text).as_deref(), Some(value), "{text:?}");
        }
    }

    /// The scan finds a byte to escape wherever it sits in text of any length: first, last,
    /// inside or at the edges of the compiler's vector chunks, or in a short tail.
    #[test]
    fn a_byte_to_escape_is_found_at_every_position() {
        for len in [1, 2, 15, 16, 17, 31, 32, 33, 64, 100] {
            for at in 0..len {
                for special in ["\t", "\u{1f}", "\u{7f}", "\\", "\u{85}"] {
                    let value = format!("{}{special}{}", "a".repeat(at), "b".repeat(len - at));
                    assert_eq!(unescape(&escaped(&value)).as_deref(), Some(value.as_str()));
                    assert_ne!(escaped(&value), value, "{special:?} at {at} of {len}");
                }
            }
            assert_eq!(escaped(&"é ✓".repeat(len)), "é ✓".repeat(len));
        }
    }

    #[test]
    fn numbers_are_written_as_display_writes_them() {
        for n in [
            0,
            7,
            10,
            99,
            100,
            101,
            1000,
            1_733_260_000_000,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut w = Writer::reusing("k", String::new());
            w.number(n);
            assert_eq!(w.finish().as_str(), format!("k\t{n}"));
        }
    }

    #[test]
    fn malformed_escapes_are_refused() {
        for bad in ["\\", "a\\", "\\q", "\\x4", "\\x+f", "\\xzz", "\\N", "\\xé1"] {
            assert_eq!(unescape(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn numbers_are_plain_digits() {
        for (text, n) in [("0", Some(0)), ("17", Some(17)), ("+1", None), ("", None)] {
            assert_eq!(u64::read(&mut Reader::new(text)), n, "{text:?}");
        }
        assert_eq!(u32::read(&mut Reader::new("4294967296")), None);
    }
}
