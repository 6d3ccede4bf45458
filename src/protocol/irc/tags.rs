//! IRCv3 message tags (issue 22): reading the tags of a received line (`label`, client-only
//! `+` tags to relay), and writing the tags of a sent one (`time`, `msgid`, `account`, relayed
//! client tags, `label`, `batch`). Values are escaped as the spec says (`\:` `\s` `\\` `\r`
//! `\n`). Pure functions over strings.

/// The most bytes of client-only tags a message may carry (the spec's 4094).
pub const CLIENT_TAGS_MAX: usize = 4094;

/// The `key=value` pairs of a raw tag section (without its `@`), values still escaped.
pub fn pairs(raw: &str) -> impl Iterator<Item = (&str, &str)> {
    raw.split(';')
        .filter(|t| !t.is_empty())
        .map(|t| t.split_once('=').unwrap_or((t, "")))
}

/// The unescaped value of tag `key`, if present.
pub fn get(raw: &str, key: &str) -> Option<String> {
    pairs(raw)
        .find(|(k, _)| *k == key)
        .map(|(_, v)| unescape(v))
}

/// A tag value with its escapes undone; a lone trailing `\` is dropped.
pub fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(':') => out.push(';'),
            Some('s') => out.push(' '),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Append `v` escaped as a tag value.
pub fn escape(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            ';' => out.push_str("\\:"),
            ' ' => out.push_str("\\s"),
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\0' => {}
            c => out.push(c),
        }
    }
}

/// Whether `key` is a well-formed client-only tag name: `+`, an optional `vendor/`, then
/// letters, digits and `-`.
fn client_key(key: &str) -> bool {
    let Some(name) = key.strip_prefix('+') else {
        return false;
    };
    let (vendor, name) = name.rsplit_once('/').unwrap_or(("", name));
    let word = |s: &str, extra: &[u8]| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
    };
    !name.is_empty() && word(name, b"-") && word(vendor, b"-.")
}

/// The client-only tags of a raw tag section, re-joined as they came (still escaped): what is
/// relayed to recipients that take message tags. `None` when there are none, or when they
/// break the spec's rules (a bad name, over [`CLIENT_TAGS_MAX`] bytes): they are then dropped.
pub fn client_only(raw: &str) -> Option<String> {
    let mut out = String::new();
    for (key, value) in pairs(raw).filter(|(k, _)| k.starts_with('+')) {
        if !client_key(key) {
            return None;
        }
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(key);
        if !value.is_empty() {
            out.push('=');
            out.push_str(value);
        }
    }
    (!out.is_empty() && out.len() <= CLIENT_TAGS_MAX).then_some(out)
}

/// The tags of one sent line, written in a fixed order. Empty writes nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Out<'a> {
    /// `time=` (Unix ms).
    pub time: Option<u64>,
    /// `msgid=`.
    pub msgid: Option<u64>,
    /// `account=`.
    pub account: Option<&'a str>,
    /// Client-only tags, already escaped.
    pub relay: Option<&'a str>,
}

impl Out<'_> {
    /// Append `@tags ` to `out`, or nothing. Written straight into `out` (issue 22: a tagged
    /// fan-out line renders once per capability set, and temporary strings were most of it).
    pub fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let sep = |out: &mut Vec<u8>| out.push(if out.len() == start { b'@' } else { b';' });
        if let Some(id) = self.msgid {
            sep(out);
            out.extend_from_slice(b"msgid=");
            push_msgid(id, out);
        }
        if let Some(ms) = self.time {
            sep(out);
            out.extend_from_slice(b"time=");
            crate::time::push_rfc3339_utc(ms, out);
        }
        if let Some(account) = self.account {
            sep(out);
            let mut s = String::from("account=");
            escape(account, &mut s);
            out.extend_from_slice(s.as_bytes());
        }
        if let Some(relay) = self.relay {
            sep(out);
            out.extend_from_slice(relay.as_bytes());
        }
        if out.len() != start {
            out.push(b' ');
        }
    }
}

/// The 64 digits of a message id, in ASCII order (so ids of one length sort as text as they
/// do as numbers, and a longer id is a larger one), all legal in a tag value unescaped.
const MSGID_DIGITS: &[u8; 64] = b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/// A message id as IRC clients see it: the id in base 64 without leading zeros, 9 characters
/// for a stamp of this century's first decades (issue 22: every tagged delivery carries one,
/// and a tagged fan-out's cost is its bytes; 16 hex digits made the tags 7 bytes longer).
pub fn msgid(id: u64) -> String {
    let mut out = Vec::with_capacity(11);
    push_msgid(id, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`msgid`] appended to `out`.
fn push_msgid(id: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 11];
    let mut at = digits.len();
    let mut rest = id;
    loop {
        at -= 1;
        digits[at] = MSGID_DIGITS[(rest & 63) as usize];
        rest >>= 6;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A message id read back from a client (`CHATHISTORY … msgid=…`). The 16 hex digits the
/// server gave before the base-64 form still name their messages (a client may have kept
/// them across the upgrade); no base-64 id is 16 characters long.
pub fn parse_msgid(s: &str) -> Option<u64> {
    if s.len() == 16 {
        return u64::from_str_radix(s, 16).ok();
    }
    if s.is_empty() || s.len() > 11 || (s.len() > 1 && s.starts_with('-')) {
        return None;
    }
    s.bytes().try_fold(0u64, |id, c| {
        let digit = MSGID_DIGITS.iter().position(|&d| d == c)?;
        id.checked_mul(64)?.checked_add(digit as u64)
    })
}

/// `line` (one rendered message with its CRLF) with `key=value` added to its tags; unless
/// `only_if_absent` names a tag it already has (an inner batch's lines keep their own).
pub fn with_tag(line: &[u8], key: &str, value: &str, only_if_absent: bool) -> Vec<u8> {
    let mut tag = String::from(key);
    tag.push('=');
    escape(value, &mut tag);
    let mut out = Vec::with_capacity(line.len() + tag.len() + 2);
    match line.strip_prefix(b"@") {
        Some(rest) => {
            let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
            let present = rest[..end]
                .split(|&b| b == b';')
                .any(|t| t.starts_with(key.as_bytes()) && t.get(key.len()) == Some(&b'='));
            if present && only_if_absent {
                return line.to_vec();
            }
            out.push(b'@');
            out.extend_from_slice(tag.as_bytes());
            out.push(b';');
            out.extend_from_slice(rest);
        }
        None => {
            out.push(b'@');
            out.extend_from_slice(tag.as_bytes());
            out.push(b' ');
            out.extend_from_slice(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_escape_and_unescape() {
        let v = "a;b c\\d\r\ne";
        let mut s = String::new();
        escape(v, &mut s);
        assert_eq!(s, "a\\:b\\sc\\\\d\\r\\ne");
        assert_eq!(unescape(&s), v);
        assert_eq!(unescape("x\\"), "x", "a lone trailing backslash is dropped");
        assert_eq!(unescape("\\b"), "b");
        assert_eq!(get("label=a\\sb;+x=1", "label").as_deref(), Some("a b"));
        assert_eq!(get("label", "label").as_deref(), Some(""));
        assert_eq!(get("a=b", "label"), None);
    }

    #[test]
    fn client_only_tags_are_kept_as_sent_and_checked() {
        assert_eq!(
            client_only("label=1;+typing=active;time=x").as_deref(),
            Some("+typing=active")
        );
        assert_eq!(
            client_only("+draft/reply=abc;+example.com/x").as_deref(),
            Some("+draft/reply=abc;+example.com/x")
        );
        assert_eq!(client_only("label=1"), None);
        assert_eq!(client_only("+bad key=1"), None);
        let long = format!("+x={}", "a".repeat(CLIENT_TAGS_MAX));
        assert_eq!(client_only(&long), None);
    }

    #[test]
    fn tags_are_written_in_order_and_added_to_lines() {
        let mut out = Vec::new();
        Out {
            time: Some(7),
            msgid: Some(255),
            account: Some("a b"),
            relay: Some("+x=1"),
        }
        .write(&mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "@msgid=2z;time=1970-01-01T00:00:00.007Z;account=a\\sb;+x=1 "
        );
        assert_eq!(parse_msgid("2z"), Some(255));
        assert_eq!(parse_msgid("00000000000000ff"), Some(255), "the old form");
        assert_eq!(msgid(0), "-");
        assert_eq!(msgid(u64::MAX), "Ezzzzzzzzzz");
        assert_eq!(parse_msgid(&msgid(u64::MAX - 1)), Some(u64::MAX - 1));
        assert_eq!(parse_msgid(&msgid(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_msgid("zzzzzzzzzzz"), None, "over 64 bits");
        assert_eq!(parse_msgid("-2z"), None, "a leading zero");
        assert_eq!(parse_msgid("2z;"), None);
        // A stamp of today (`at_ms << 12`) is 9 characters, and ids of one length sort as
        // text as they do as numbers.
        let today = 1_796_400_000_000u64 << 12;
        assert_eq!(msgid(today).len(), 9);
        let mut ids: Vec<u64> = (0..2000u64).map(|i| today + i * 4099).collect();
        ids.push(today + 63);
        ids.push(today + 64);
        let mut texts: Vec<String> = ids.iter().map(|&i| msgid(i)).collect();
        texts.sort();
        ids.sort();
        assert_eq!(texts, ids.iter().map(|&i| msgid(i)).collect::<Vec<_>>());
        for (text, &id) in texts.iter().zip(&ids) {
            assert_eq!(parse_msgid(text), Some(id));
        }
        let mut line = Vec::new();
        Out {
            time: Some(1_700_000_000_999),
            msgid: Some(255),
            account: Some("a;b"),
            relay: Some("+x=1"),
        }
        .write(&mut line);
        assert_eq!(
            String::from_utf8_lossy(&line),
            "@msgid=2z;time=2023-11-14T22:13:20.999Z;account=a\\:b;+x=1 "
        );
        Out::default().write(&mut line);
        assert!(line.ends_with(b"+x=1 "), "no tags: nothing");
        assert_eq!(parse_msgid(""), None);
        let plain = with_tag(b":s PONG s :x\r\n", "label", "1", false);
        assert_eq!(plain, b"@label=1 :s PONG s :x\r\n");
        let tagged = with_tag(b"@time=t :s PONG\r\n", "batch", "b", true);
        assert_eq!(tagged, b"@batch=b;time=t :s PONG\r\n");
        let inner = with_tag(b"@batch=in :s X\r\n", "batch", "out", true);
        assert_eq!(inner, b"@batch=in :s X\r\n");
    }
}
