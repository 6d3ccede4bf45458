//! IRC messages (RFC 1459 §2.3, RFC 2812 §2.3, modern.ircdocs.horse): framing received bytes
//! into lines, parsing a line into a borrowed [`Message`], serializing replies, and the name
//! rules (ascii casemapping, nicknames, channels). Pure: no I/O, no state beyond the framer's
//! unfinished tail.
//!
//! Length policy: the part of a line after its IRCv3 tags may be at most [`MAX_BODY`] bytes
//! including the CRLF (the RFC's 512), the tags at most [`MAX_TAGS`] bytes (the message-tags
//! spec: a client sends at most 4094 bytes of tag data, 4096 with the `@` and the space). A longer line is dropped whole and reported as [`Frame::TooLong`]; the front-end
//! answers `417 ERR_INPUTTOOLONG` and keeps the connection (what Ergo does and irctest's
//! `LengthLimitTestCase` expects). Replies are truncated to 512 bytes on a UTF-8 boundary.

use crate::protocol::line::{Piece, Splitter};
use std::borrow::Cow;
use std::fmt;
use std::ops::ControlFlow;

/// RFC line limit for everything but tags, CRLF included.
pub const MAX_BODY: usize = 512;
/// Limit for the `@tags ` section, the `@` and the separating space included.
pub const MAX_TAGS: usize = 4096;
/// Most parameters a message carries; the 15th takes the rest of the line.
pub const MAX_PARAMS: usize = 15;
/// Longest command accepted: names are letters, numerics three digits.
pub const MAX_COMMAND: usize = 16;
/// `NICKLEN` in ISUPPORT, and the longest account name of the line protocol.
pub const NICKLEN: usize = 32;
/// `CHANNELLEN` in ISUPPORT: `#` plus a room name of at most 32 bytes.
pub const CHANNELLEN: usize = 33;

/// One framed input line, or why a line was dropped. A dropped line's `label` is its raw
/// `label=…` tag (still escaped; empty if it has none that can be read), so the refusal is a
/// labeled reply like any other (labeled-response).
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A line without its `\r\n` / `\n`.
    Line(Cow<'a, str>),
    /// Over [`MAX_BODY`] / [`MAX_TAGS`]: answer 417, keep the connection.
    TooLong { label: &'a str },
    /// Not UTF-8 (issue 22: the server says `UTF8ONLY`): answer `FAIL <command>
    /// INVALID_UTF8`, keep the connection. `command`: the command word, or `*`.
    NotUtf8 { command: String, label: &'a str },
}

/// Splits a byte stream into IRC lines ending in `\r\n` or `\n`; keeps only the unfinished
/// tail, bounded by the longest acceptable line. It accepts bodies of at most `BODY` bytes
/// counting the CRLF ([`MAX_BODY`] is the RFC's; a larger value tolerates long lines from lax
/// clients). The bound is a type parameter, not a field: every IRC connection has a framer,
/// and the field took 8 bytes of each (issue 22's idle memory).
#[derive(Debug, Default)]
pub struct Framer<const BODY: usize = MAX_BODY> {
    splitter: Splitter,
}

impl<const BODY: usize> Framer<BODY> {
    const MAX_BODY: usize = if BODY < 3 { 3 } else { BODY };

    /// Feed received bytes; `emit` gets every complete line in order.
    pub fn feed(&mut self, data: &[u8], mut emit: impl FnMut(Frame<'_>)) {
        self.feed_until(data, |f| {
            emit(f);
            ControlFlow::Continue(())
        });
    }

    /// As [`Framer::feed`], stopping after a line for which `emit` says break; returns the
    /// bytes consumed.
    pub fn feed_until(
        &mut self,
        data: &[u8],
        mut emit: impl FnMut(Frame<'_>) -> ControlFlow<()>,
    ) -> usize {
        // Longest buffered line (tags, body, CRLF) before it is known to be too long.
        let max_body = Self::MAX_BODY;
        let limit = MAX_TAGS + max_body;
        self.splitter.feed(data, limit, |piece| match piece {
            Piece::Line(line) => emit(frame(line, max_body)),
            Piece::TooLong(head) => emit(Frame::TooLong {
                label: label_tag(head),
            }),
        })
    }

    /// End of input: an unterminated last line still counts.
    pub fn finish(&mut self, mut emit: impl FnMut(Frame<'_>)) {
        let max_body = Self::MAX_BODY;
        self.splitter.finish(|tail| emit(frame(tail, max_body)));
    }
}

fn frame(line: &[u8], max_body: usize) -> Frame<'_> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (tags, body) = split_tags(line);
    if tags.len() > MAX_TAGS || body.len() + 2 > max_body {
        return Frame::TooLong {
            label: label_tag(line),
        };
    }
    match std::str::from_utf8(line) {
        Ok(s) => Frame::Line(Cow::Borrowed(s)),
        Err(_) => {
            let lossy = String::from_utf8_lossy(body);
            let word = lossy
                .split(' ')
                .find(|w| !w.is_empty() && !w.starts_with(':'));
            let command = word.and_then(Command::new);
            Frame::NotUtf8 {
                command: command.map_or_else(|| "*".to_string(), |c| c.to_string()),
                label: label_tag(line),
            }
        }
    }
}

/// The raw `label` tag (`label=…`, still escaped) of a line that is refused whole, or of its
/// first bytes when the rest was dropped: read from the tags that are complete there (a tag
/// the cut went through is not read), and only if it is UTF-8 itself; else empty.
fn label_tag(line: &[u8]) -> &str {
    let Some(tags) = line.strip_prefix(b"@") else {
        return "";
    };
    let tags = match tags.iter().position(|&b| b == b' ') {
        Some(end) => &tags[..end],
        None => &tags[..tags.iter().rposition(|&b| b == b';').unwrap_or(0)],
    };
    tags.split(|&b| b == b';')
        .find(|t| *t == b"label" || t.starts_with(b"label="))
        .and_then(|t| std::str::from_utf8(t).ok())
        .unwrap_or("")
}

/// `(tags section with its '@' and trailing spaces, rest)`; empty tags when there are none.
fn split_tags(line: &[u8]) -> (&[u8], &[u8]) {
    if line.first() != Some(&b'@') {
        return (&[], line);
    }
    let end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let body_start = line[end..]
        .iter()
        .position(|&b| b != b' ')
        .map_or(line.len(), |i| end + i);
    line.split_at(body_start)
}

/// Why a non-empty line is not a message. The front-end ignores such lines silently (there is
/// no command to name in an error numeric) except [`ParseError::BadCommand`], which gets
/// `421 ERR_UNKNOWNCOMMAND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Tags and/or prefix but no command.
    NoCommand,
    /// `:` followed by a space: a prefix must name someone.
    EmptyPrefix,
    /// The command is not letters or three digits, or is over [`MAX_COMMAND`] bytes.
    BadCommand,
    /// A NUL or a lone CR inside the line (RFC 2812 §2.3.1 forbids both).
    ControlChar,
}

/// A command name, ASCII-uppercased, so dispatch is a plain `match cmd.as_str()`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Command {
    buf: [u8; MAX_COMMAND],
    len: usize,
}

impl Command {
    /// `Some` for letters (any case) or exactly three digits, at most [`MAX_COMMAND`] bytes.
    pub fn new(raw: &str) -> Option<Command> {
        let b = raw.as_bytes();
        let letters = b.iter().all(u8::is_ascii_alphabetic);
        let numeric = b.len() == 3 && b.iter().all(u8::is_ascii_digit);
        if b.is_empty() || b.len() > MAX_COMMAND || !(letters || numeric) {
            return None;
        }
        let mut buf = [0; MAX_COMMAND];
        for (d, s) in buf.iter_mut().zip(b) {
            *d = s.to_ascii_uppercase();
        }
        Some(Command { buf, len: b.len() })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters and digits are ever stored.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    /// Whether this is a three-digit numeric reply.
    pub fn is_numeric(&self) -> bool {
        self.buf[0].is_ascii_digit()
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Command {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Command {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Up to [`MAX_PARAMS`] parameters borrowed from the line; no allocation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Params<'a> {
    items: [&'a str; MAX_PARAMS],
    len: usize,
}

impl<'a> Params<'a> {
    pub fn new() -> Params<'a> {
        Params {
            items: [""; MAX_PARAMS],
            len: 0,
        }
    }

    /// Append `p`; `false` (and nothing stored) when already full.
    pub fn push(&mut self, p: &'a str) -> bool {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = p;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    pub fn as_slice(&self) -> &[&'a str] {
        &self.items[..self.len]
    }
}

impl Default for Params<'_> {
    fn default() -> Self {
        Params::new()
    }
}

impl<'a> std::ops::Deref for Params<'a> {
    type Target = [&'a str];
    fn deref(&self) -> &[&'a str] {
        self.as_slice()
    }
}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// A parsed line: `[@tags] [:prefix] COMMAND [params] [:trailing]`. The tag section is kept
/// raw (issue 22: `label`, client-only tags; `tags.rs` reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The tags without their `@`, still escaped; empty when there are none.
    pub tags: &'a str,
    pub prefix: Option<&'a str>,
    pub command: Command,
    pub params: Params<'a>,
}

impl<'a> Message<'a> {
    /// Parse one line (without its line ending). `Ok(None)` for a line that is empty or only
    /// spaces, which IRC servers silently ignore. Runs of spaces separate parameters; a
    /// parameter starting with `:` takes the rest of the line (spaces included, possibly
    /// empty), and so does the 15th parameter even without `:`.
    pub fn parse(line: &'a str) -> Result<Option<Message<'a>>, ParseError> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.bytes().any(|b| b == 0 || b == b'\r') {
            return Err(ParseError::ControlChar);
        }
        let mut rest = line.trim_start_matches(' ');
        if rest.is_empty() {
            return Ok(None);
        }
        let mut tags = "";
        if let Some(t) = rest.strip_prefix('@') {
            let end = t.find(' ').unwrap_or(t.len());
            tags = &t[..end];
            rest = t[end..].trim_start_matches(' ');
        }
        let mut prefix = None;
        if let Some(p) = rest.strip_prefix(':') {
            let (word, tail) = split_word(p);
            if word.is_empty() {
                return Err(ParseError::EmptyPrefix);
            }
            prefix = Some(word);
            rest = tail.trim_start_matches(' ');
        }
        let (word, mut rest) = split_word(rest);
        if word.is_empty() {
            return Err(ParseError::NoCommand);
        }
        let command = Command::new(word).ok_or(ParseError::BadCommand)?;
        let mut params = Params::new();
        loop {
            rest = rest.trim_start_matches(' ');
            if rest.is_empty() {
                break;
            }
            if let Some(trailing) = rest.strip_prefix(':') {
                params.push(trailing);
                break;
            }
            if params.len() == MAX_PARAMS - 1 {
                params.push(rest);
                break;
            }
            let (word, tail) = split_word(rest);
            params.push(word);
            rest = tail;
        }
        Ok(Some(Message {
            tags,
            prefix,
            command,
            params,
        }))
    }

    /// The `i`th parameter, if present.
    pub fn param(&self, i: usize) -> Option<&'a str> {
        self.params.get(i).copied()
    }
}

/// `(first word, rest after it)`, splitting at the first space.
fn split_word(s: &str) -> (&str, &str) {
    match s.find(' ') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// Append `[:prefix ]COMMAND p1 p2 :last\r\n` to `out`, at most [`MAX_BODY`] bytes in all.
///
/// The last parameter gets ` :` when it is empty, starts with `:` or holds a space; the others
/// are nicks, channels and numerics' fixed words, each written as one word (`push_middle`). CR, LF and NUL in any
/// part are dropped so no input can forge a second line. An over-long line is cut on a UTF-8
/// boundary, keeping the CRLF.
pub fn write_message(out: &mut Vec<u8>, prefix: Option<&str>, command: &str, params: &[&str]) {
    let start = out.len();
    if let Some(p) = prefix {
        out.push(b':');
        push_clean(out, p);
        out.push(b' ');
    }
    push_clean(out, command);
    if let Some((last, middle)) = params.split_last() {
        for p in middle {
            out.push(b' ');
            push_middle(out, p);
        }
        out.push(b' ');
        if last.is_empty() || last.starts_with(':') || last.contains(' ') {
            out.push(b':');
        }
        push_clean(out, last);
    }
    let keep = match std::str::from_utf8(&out[start..]) {
        Ok(body) => truncate_utf8(body, MAX_BODY - 2).len(),
        Err(_) => 0, // unreachable: only &str parts were pushed
    };
    out.truncate(start + keep);
    out.extend_from_slice(b"\r\n");
}

/// [`write_message`] into a new `String` (tests, one-off replies).
pub fn render(prefix: Option<&str>, command: &str, params: &[&str]) -> String {
    let mut out = Vec::new();
    write_message(&mut out, prefix, command, params);
    String::from_utf8_lossy(&out).into_owned()
}

/// A parameter before the last, as one word: up to its first space, and `*` when that is
/// empty or starts with `:`. Only a client's malformed name echoed back is such a value
/// (`WHOIS :`, `TOPIC : x`, `PART :a :b`); written as it came it made an empty parameter or
/// shifted and forged the reply's parameters (`403 me a :b :No such channel`).
fn push_middle(out: &mut Vec<u8>, p: &str) {
    match p.split(' ').next() {
        Some(word) if !word.is_empty() && !word.starts_with(':') => push_clean(out, word),
        _ => out.push(b'*'),
    }
}

fn push_clean(out: &mut Vec<u8>, s: &str) {
    out.extend(s.bytes().filter(|&b| b != b'\r' && b != b'\n' && b != 0));
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `CASEMAPPING=ascii`: the key under which nicks and channels compare equal.
pub fn casefold(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// Whether two names are equal under `CASEMAPPING=ascii`.
pub fn eq_casefold(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// RFC 2812 §2.3.1 nickname with `NICKLEN=32`: a letter or one of ``[]\`_^{|}``, then letters,
/// digits, those specials and `-`. Every such nick is also a valid line-protocol username
/// (1-32 printable ASCII, no spaces); the converse is not true, so an account like `r2-d2!`
/// cannot take its name as an IRC nick.
pub fn valid_nick(nick: &str) -> bool {
    let special = |b: u8| b"[]\\`_^{|}".contains(&b);
    let b = nick.as_bytes();
    match b.split_first() {
        Some((&first, rest)) => {
            b.len() <= NICKLEN
                && (first.is_ascii_alphabetic() || special(first))
                && rest
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || special(c) || c == b'-')
        }
        None => false,
    }
}

/// The room behind a channel name: `#` then 1-32 of `[A-Za-z0-9_.-]`, our room-name
/// alphabet. `None` for anything else (other prefixes, `,`, spaces, control characters),
/// which the front-end answers with `403 ERR_NOSUCHCHANNEL` / `476 ERR_BADCHANMASK`.
pub fn channel_room(channel: &str) -> Option<&str> {
    let room = channel.strip_prefix('#')?;
    let ok = !room.is_empty()
        && room.len() < CHANNELLEN
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    ok.then_some(room)
}

/// Whether `channel` is a valid channel name (see [`channel_room`]).
pub fn valid_channel(channel: &str) -> bool {
    channel_room(channel).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Message<'_> {
        match Message::parse(line) {
            Ok(Some(m)) => m,
            other => panic!("{line:?} parsed to {other:?}"),
        }
    }

    fn frames<const B: usize>(framer: &mut Framer<B>, data: &[u8]) -> Vec<Result<String, ()>> {
        let mut got = Vec::new();
        framer.feed(data, |f| {
            got.push(match f {
                Frame::Line(l) => Ok(l.into_owned()),
                Frame::TooLong { .. } => Err(()),
                Frame::NotUtf8 { command, .. } => Ok(format!("not UTF-8: {command}")),
            })
        });
        got
    }

    #[test]
    fn parses_command_and_params() {
        let m = p("PRIVMSG #room :hello there");
        assert_eq!(m.prefix, None);
        assert_eq!(m.command, "PRIVMSG");
        assert_eq!(*m.params, ["#room", "hello there"]);
        assert_eq!(m.param(1), Some("hello there"));
        assert_eq!(m.param(2), None);
    }

    #[test]
    fn uppercases_command() {
        assert_eq!(p("privmsg a b").command, "PRIVMSG");
        assert_eq!(p("NiCk foo").command.as_str(), "NICK");
        let n = p(":srv 001 foo :Welcome").command;
        assert!(n.is_numeric());
        assert_eq!(n.to_string(), "001");
        assert!(!p("JOIN #a").command.is_numeric());
    }

    #[test]
    fn prefix_and_tags() {
        let m = p(":nick!user@host PRIVMSG bob :hi");
        assert_eq!(m.prefix, Some("nick!user@host"));
        assert_eq!(*m.params, ["bob", "hi"]);
        let m = p("@time=2021-01-01T00:00:00Z;+draft/x=a\\sb :n PART #c");
        assert_eq!(m.tags, "time=2021-01-01T00:00:00Z;+draft/x=a\\sb");
        assert_eq!(m.prefix, Some("n"));
        assert_eq!(m.command, "PART");
        assert_eq!(*m.params, ["#c"]);
        let m = p("@a=b;c   PING  x");
        assert_eq!(m.command, "PING");
        assert_eq!(*m.params, ["x"]);
    }

    #[test]
    fn spaces_and_trailing() {
        assert_eq!(
            *p("USER  u   0  *   :Real  Name ").params,
            ["u", "0", "*", "Real  Name "]
        );
        assert_eq!(*p("   JOIN #a   ").params, ["#a"]);
        assert_eq!(*p("TOPIC #a :").params, ["#a", ""]);
        assert_eq!(*p("PRIVMSG #a ::-)").params, ["#a", ":-)"]);
        assert_eq!(*p("PRIVMSG #a :x :y").params, ["#a", "x :y"]);
        assert_eq!(*p("NICK a:b").params, ["a:b"]);
        assert!(p("QUIT").params.is_empty());
        assert_eq!(*p("PING :").params, [""]);
        assert_eq!(*p("PONG x\r").params, ["x"]);
    }

    #[test]
    fn fifteenth_param_takes_the_rest() {
        let m = p("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 :17");
        assert_eq!(m.params.len(), MAX_PARAMS);
        assert_eq!(m.params[13], "14");
        assert_eq!(m.params[14], "15 16 :17");
        let m = p("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :last one");
        assert_eq!(m.params[14], "last one");
        let m = p("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15");
        assert_eq!(m.params[14], "15");
    }

    #[test]
    fn empty_and_bad_lines() {
        assert_eq!(Message::parse(""), Ok(None));
        assert_eq!(Message::parse("    "), Ok(None));
        assert_eq!(Message::parse("\r"), Ok(None));
        assert_eq!(Message::parse("@a=b"), Err(ParseError::NoCommand));
        assert_eq!(Message::parse("@a=b  "), Err(ParseError::NoCommand));
        assert_eq!(Message::parse(":pfx"), Err(ParseError::NoCommand));
        assert_eq!(Message::parse(":pfx   "), Err(ParseError::NoCommand));
        assert_eq!(Message::parse(": NICK a"), Err(ParseError::EmptyPrefix));
        assert_eq!(Message::parse(":"), Err(ParseError::EmptyPrefix));
        assert_eq!(Message::parse("PRIV-MSG a"), Err(ParseError::BadCommand));
        assert_eq!(Message::parse("12 a"), Err(ParseError::BadCommand));
        assert_eq!(Message::parse("1234"), Err(ParseError::BadCommand));
        assert_eq!(Message::parse("ÉTÉ x"), Err(ParseError::BadCommand));
        assert_eq!(Message::parse(&"A".repeat(17)), Err(ParseError::BadCommand));
        assert!(Message::parse(&"A".repeat(16)).is_ok());
        assert_eq!(
            Message::parse("PRIVMSG a :b\0c"),
            Err(ParseError::ControlChar)
        );
        assert_eq!(
            Message::parse("PRIVMSG a :b\rc"),
            Err(ParseError::ControlChar)
        );
    }

    #[test]
    fn parse_never_panics_on_odd_input() {
        for line in [
            ":",
            "@",
            "@ ",
            ": ",
            "::",
            ":a :b",
            "A :",
            "😃",
            ":😃 😃",
            "@😃 X 😃",
        ] {
            let _ = Message::parse(line);
        }
        assert_eq!(Message::parse(":a :b"), Err(ParseError::BadCommand));
    }

    #[test]
    fn params_push_is_bounded() {
        let mut ps = Params::default();
        for _ in 0..MAX_PARAMS {
            assert!(ps.push("x"));
        }
        assert!(!ps.push("y"));
        assert_eq!(ps.len(), MAX_PARAMS);
    }

    #[test]
    fn serializes() {
        assert_eq!(render(None, "PING", &["tok"]), "PING tok\r\n");
        assert_eq!(
            render(Some("My.Little.Server"), "001", &["foo", "Welcome to IRC"]),
            ":My.Little.Server 001 foo :Welcome to IRC\r\n"
        );
        assert_eq!(
            render(Some("a!b@c"), "JOIN", &["#room"]),
            ":a!b@c JOIN #room\r\n"
        );
        assert_eq!(render(None, "TOPIC", &["#a", ""]), "TOPIC #a :\r\n");
        assert_eq!(render(None, "PRIVMSG", &["b", ":)"]), "PRIVMSG b ::)\r\n");
        assert_eq!(render(None, "QUIT", &[]), "QUIT\r\n");
        assert_eq!(
            render(Some("s"), "353", &["n", "=", "#a", "@x y"]),
            ":s 353 n = #a :@x y\r\n"
        );
    }

    /// A parameter before the last is one word whatever it holds, so a reply parses back
    /// into the parameters it was written with.
    #[test]
    fn serializer_keeps_middle_parameters_one_word() {
        for (middle, want) in [
            ("", "*"),
            (" x", "*"),
            (":x", "*"),
            ("a :forged", "a"),
            ("#room", "#room"),
        ] {
            let line = render(Some("s"), "403", &["me", middle, "No such channel"]);
            assert_eq!(line, format!(":s 403 me {want} :No such channel\r\n"));
            let m = p(line.trim_end());
            assert_eq!(*m.params, ["me", want, "No such channel"]);
        }
    }

    #[test]
    fn serializer_drops_line_breaks() {
        assert_eq!(
            render(Some("a"), "PRIVMSG", &["b", "x\r\nQUIT :y\0"]),
            ":a PRIVMSG b :xQUIT :y\r\n"
        );
    }

    #[test]
    fn serializer_round_trips() {
        let line = render(Some("n!u@h"), "PRIVMSG", &["#c", "hi :there  "]);
        let body = line.strip_suffix("\r\n").unwrap_or("");
        let m = p(body);
        assert_eq!(m.prefix, Some("n!u@h"));
        assert_eq!(*m.params, ["#c", "hi :there  "]);
    }

    #[test]
    fn serializer_truncates_to_512_on_char_boundary() {
        let long = "é".repeat(400);
        let line = render(Some("srv"), "PRIVMSG", &["bob", &long]);
        assert!(line.len() <= MAX_BODY, "{}", line.len());
        assert!(line.ends_with("é\r\n"));
        assert!(line.len() >= MAX_BODY - 1);
        let exact = "a".repeat(MAX_BODY - 2 - "PRIVMSG b ".len());
        let line = render(None, "PRIVMSG", &["b", &exact]);
        assert_eq!(line.len(), MAX_BODY);
        assert!(line.ends_with("a\r\n"));
        let mut out = b"keep".to_vec();
        write_message(&mut out, None, "X", &[&"y".repeat(600)]);
        assert_eq!(out.len(), 4 + MAX_BODY);
        assert!(out.starts_with(b"keepX y"));
    }

    #[test]
    fn truncate_helper() {
        assert_eq!(truncate_utf8("héllo", 2), "h");
        assert_eq!(truncate_utf8("héllo", 3), "hé");
        assert_eq!(truncate_utf8("abc", 10), "abc");
        assert_eq!(truncate_utf8("😃", 3), "");
        assert_eq!(truncate_utf8("", 0), "");
    }

    #[test]
    fn framer_splits_crlf_and_lf() {
        let mut f: Framer = Framer::default();
        assert_eq!(
            frames(&mut f, b"NICK a\r\nUSER u 0 * :r\nPI"),
            [Ok("NICK a".into()), Ok("USER u 0 * :r".into())]
        );
        assert_eq!(frames(&mut f, b"NG x\r"), []);
        assert_eq!(
            frames(&mut f, b"\n\r\n"),
            [Ok("PING x".into()), Ok("".into())]
        );
        let mut last = Vec::new();
        f.feed(b"QUIT", |_| {});
        f.finish(|fr| last.push(fr == Frame::Line("QUIT".into())));
        assert_eq!(last, [true]);
    }

    #[test]
    fn framer_byte_by_byte() {
        let mut f: Framer = Framer::default();
        let mut got = Vec::new();
        for b in "PRIVMSG n :😃\r\n".bytes() {
            got.extend(frames(&mut f, &[b]));
        }
        assert_eq!(got, [Ok("PRIVMSG n :😃".into())]);
    }

    /// Issue 22 (`UTF8ONLY`): a line that is not UTF-8 is refused with its command named.
    #[test]
    fn framer_refuses_invalid_utf8_naming_the_command() {
        let mut f: Framer = Framer::default();
        assert_eq!(
            frames(
                &mut f,
                b"USER u * * :i\xe8rc\xe9\r\n@a=b :x privmsg #c hi\xaa\r\n\xff\r\n"
            ),
            [
                Ok("not UTF-8: USER".into()),
                Ok("not UTF-8: PRIVMSG".into()),
                Ok("not UTF-8: *".into())
            ]
        );
    }

    #[test]
    fn framer_length_limits() {
        let mut f: Framer = Framer::default();
        let at_limit = format!("PING {}\r\n", "x".repeat(505));
        assert_eq!(at_limit.len(), 512);
        assert_eq!(frames(&mut f, at_limit.as_bytes()).len(), 1);
        assert!(frames(&mut f, at_limit.as_bytes())[0].is_ok());
        let over = format!("PING {}\r\n", "x".repeat(506));
        assert_eq!(frames(&mut f, over.as_bytes()), [Err(())]);
        // A bare LF counts as the two bytes of CRLF.
        let over_lf = format!("PING {}\n", "x".repeat(506));
        assert_eq!(frames(&mut f, over_lf.as_bytes()), [Err(())]);
        // Tags have their own budget.
        let tagged = format!("@+t={} {}", "a".repeat(4091), at_limit);
        assert_eq!(tagged.find("PING"), Some(MAX_TAGS));
        assert!(matches!(frames(&mut f, tagged.as_bytes())[..], [Ok(_)]));
        let tagged_over = format!("@+t={} PING x\r\n", "a".repeat(MAX_TAGS));
        assert_eq!(frames(&mut f, tagged_over.as_bytes()), [Err(())]);
        // Still in step afterwards.
        assert_eq!(frames(&mut f, b"PING y\r\n"), [Ok("PING y".into())]);
    }

    #[test]
    fn framer_drops_unterminated_flood_once() {
        let mut f: Framer = Framer::default();
        let chunk = vec![b'x'; 4096];
        let mut got = Vec::new();
        for _ in 0..10 {
            got.extend(frames(&mut f, &chunk));
        }
        assert_eq!(got, [Err(())]);
        assert_eq!(frames(&mut f, b"tail\r\nPING z\r\n"), [Ok("PING z".into())]);
        let mut none = true;
        f.feed(&chunk, |_| {});
        f.feed(&chunk, |_| {});
        f.feed(&chunk, |_| {});
        f.finish(|_| none = false);
        assert!(none);
    }

    #[test]
    fn framer_configurable_body() {
        let mut f = Framer::<4096>::default();
        let long = format!("PRIVMSG a :{}\r\n", "x".repeat(3000));
        assert!(matches!(frames(&mut f, long.as_bytes())[..], [Ok(_)]));
    }

    #[test]
    fn casemapping_ascii() {
        assert_eq!(casefold("NiCk[]"), "nick[]");
        assert_eq!(casefold("#Room"), "#room");
        assert!(eq_casefold("FOO", "foo"));
        assert!(!eq_casefold("foo[", "foo{"));
        assert!(!eq_casefold("É", "é"));
    }

    #[test]
    fn nicks() {
        for ok in [
            "a",
            "yoda",
            "Z9",
            "[x]",
            "`_^{|}\\",
            "a-b",
            "r2d2",
            &"n".repeat(32),
        ] {
            assert!(valid_nick(ok), "{ok:?}");
        }
        for bad in [
            "",
            "1abc",
            "-ab",
            "a b",
            "a!b",
            "a@b",
            "a,b",
            "#c",
            "é",
            ":a",
            "*",
            &"n".repeat(33),
        ] {
            assert!(!valid_nick(bad), "{bad:?}");
        }
    }

    #[test]
    fn channels() {
        assert_eq!(channel_room("#room"), Some("room"));
        assert_eq!(channel_room("#a.b-c_9"), Some("a.b-c_9"));
        assert_eq!(
            channel_room(&format!("#{}", "r".repeat(32))),
            Some(&*"r".repeat(32))
        );
        for bad in [
            "",
            "#",
            "room",
            "&room",
            "#a b",
            "#a,b",
            "#a:b",
            "##",
            "#é",
            "#\x07",
            &format!("#{}", "r".repeat(33)),
        ] {
            assert!(!valid_channel(bad), "{bad:?}");
        }
        assert!(valid_channel("#Room"));
    }
}
