//! The config file (`--config FILE`, issue 21): the subset of TOML a flat list of settings
//! needs, read by hand rather than with a TOML crate (which would outweigh the whole server
//! core on a small box). Every key is a long flag name; values are strings (`"…"` with `\"`,
//! `\\`, `\n`, `\t`, `\r` escapes, or `'…'` taken literally), integers (`4096`, `1_000`), and
//! booleans. `#` starts a comment. Tables and arrays are refused with the line they are on:
//! no setting takes one.

use super::flags::{self, Use};
use super::values::{Origin, Value, Values, POSITIONAL};
use std::path::Path;

/// Why a line is not a setting; the caller adds the file and line.
type LineError = String;

/// Read `text` (the contents of `path`) into `values`. `Err` is one line: `FILE:LINE: why`.
pub fn parse(path: &Path, text: &str, values: &mut Values) -> Result<(), String> {
    // Editors on Windows start a UTF-8 file with a byte order mark; TOML allows it. It read as
    // part of the first key: `invalid key "\u{feff}port"`, which no operator can see.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut seen = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let at = |e: LineError| format!("{}:{line}: {e}", path.display());
        let Some((key, value)) = setting(raw).map_err(at)? else {
            continue;
        };
        check_key(&key).map_err(at)?;
        if seen.contains(&key) {
            return Err(at(format!("{key} is set twice")));
        }
        let origin = Origin::File {
            path: path.to_path_buf(),
            line,
        };
        values.set(&key, value, origin);
        seen.push(key);
    }
    Ok(())
}

/// A key must name a setting: a long flag (not an action such as `help`) or a positional.
fn check_key(key: &str) -> Result<(), LineError> {
    if POSITIONAL.iter().any(|(k, _)| *k == key) {
        return Ok(());
    }
    match flags::find(key) {
        Some(f) if f.used == Use::Setting => Ok(()),
        Some(_) => Err(format!("{key} is not a setting (command line only)")),
        None => Err(format!(
            "unknown key {key:?} (keys are the long flag names of --help, and port, \
             block-duration, timeout)"
        )),
    }
}

/// One line: `None` for a blank or comment line, else the key and its value.
fn setting(line: &str) -> Result<Option<(String, Value)>, LineError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    if line.starts_with('[') {
        return Err("tables are not used: every key is top-level".into());
    }
    let (key, rest) = line.split_once('=').ok_or("expected key = value")?;
    let key = key.trim();
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!("invalid key {key:?}"));
    }
    let (value, rest) = value(rest.trim_start())?;
    let rest = rest.trim_start();
    if !rest.is_empty() && !rest.starts_with('#') {
        return Err(format!("unexpected {rest:?} after the value"));
    }
    Ok(Some((key.to_string(), value)))
}

/// A value at the start of `s`, and what follows it.
fn value(s: &str) -> Result<(Value, &str), LineError> {
    if let Some(body) = s.strip_prefix('"') {
        return basic_string(body);
    }
    if let Some(body) = s.strip_prefix('\'') {
        let end = body.find('\'').ok_or("unterminated string")?;
        return Ok((Value::Text(body[..end].to_string()), &body[end + 1..]));
    }
    if s.starts_with('[') {
        return Err("arrays are not used: no setting takes a list".into());
    }
    let end = s
        .find(|c: char| c.is_whitespace() || c == '#')
        .unwrap_or(s.len());
    let (word, rest) = s.split_at(end);
    match word {
        "" => Err("missing value".into()),
        "true" => Ok((Value::Bool(true), rest)),
        "false" => Ok((Value::Bool(false), rest)),
        _ => integer(word).map(|n| (Value::Int(n), rest)),
    }
}

fn integer(word: &str) -> Result<i64, LineError> {
    let digits = word.strip_prefix('+').unwrap_or(word);
    let (negative, digits) = match digits.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, digits),
    };
    let well_formed = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let n: Option<i64> = well_formed
        .then(|| digits.replace('_', "").parse().ok())
        .flatten();
    match n {
        Some(n) if negative => Ok(-n),
        Some(n) => Ok(n),
        None => Err(format!(
            "invalid value {word:?} (a \"string\", a whole number, true or false)"
        )),
    }
}

/// The rest of a `"…"` string after its opening quote.
fn basic_string(body: &str) -> Result<(Value, &str), LineError> {
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((Value::Text(out), &body[i + 1..])),
            '\\' => match chars.next().map(|(_, e)| e) {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                other => {
                    return Err(format!(
                        "unsupported escape \\{}",
                        other.map_or(String::new(), String::from)
                    ))
                }
            },
            c => out.push(c),
        }
    }
    Err("unterminated string".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Values, String> {
        let mut v = Values::default();
        parse(Path::new("chat.toml"), text, &mut v).map(|()| v)
    }

    #[test]
    fn the_subset_reads() {
        let v = read(
            "# chatserver\n\nport = 4000\nbind = \"0.0.0.0\"  # every interface\n\
             data-dir = '/var/lib/chat#1'\nno-register = true\nmax-offline-bytes = 64_000_000\n\
             irc-server-name = \"a\\\"b\\\\c\"\nblock-duration = +60\n",
        )
        .expect("parses");
        assert_eq!(v.number::<u16>("port"), Ok(Some(4000)));
        assert_eq!(v.text("bind"), Ok(Some("0.0.0.0".into())));
        assert_eq!(v.text("data-dir"), Ok(Some("/var/lib/chat#1".into())));
        assert_eq!(v.switch("no-register"), Ok(true));
        assert_eq!(v.number::<usize>("max-offline-bytes"), Ok(Some(64_000_000)));
        assert_eq!(v.text("irc-server-name"), Ok(Some("a\"b\\c".into())));
        assert_eq!(
            v.seconds("block-duration").map(|d| d.map(|d| d.as_secs())),
            Ok(Some(60))
        );
        assert_eq!(v.name("bind"), "chat.toml:4: bind");
    }

    /// A byte order mark at the start of the file is not part of the first key.
    #[test]
    fn a_byte_order_mark_is_skipped() {
        let v = read("\u{feff}port = 4000\nbind = \"\u{feff}\"\n").expect("parses");
        assert_eq!(v.number::<u16>("port"), Ok(Some(4000)));
        assert_eq!(
            v.text("bind"),
            Ok(Some("\u{feff}".into())),
            "only the file's first"
        );
    }

    #[test]
    fn errors_name_the_line() {
        for (text, want) in [
            ("port = 1\n[server]\n", "chat.toml:2: tables are not used"),
            ("bind = [\"a\"]\n", "chat.toml:1: arrays are not used"),
            ("\n\nnope = 1\n", "chat.toml:3: unknown key \"nope\""),
            ("help = true\n", "chat.toml:1: help is not a setting"),
            ("port = 1\nport = 2\n", "chat.toml:2: port is set twice"),
            ("bind = \"0.0.0.0\n", "chat.toml:1: unterminated string"),
            ("max-line = 4_\n", "chat.toml:1: invalid value \"4_\""),
            (
                "max-line = 12 13\n",
                "chat.toml:1: unexpected \"13\" after the value",
            ),
            ("max-line\n", "chat.toml:1: expected key = value"),
            ("max-line = \n", "chat.toml:1: missing value"),
            ("bind = \"\\x\"\n", "chat.toml:1: unsupported escape \\x"),
        ] {
            let e = read(text).expect_err(text);
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }

    /// A typed value of the wrong kind is reported where it is used, with its line.
    #[test]
    fn wrong_kinds_name_the_line() {
        let v = read("max-line = \"big\"\nno-register = 1\n").expect("parses");
        assert!(v
            .number::<usize>("max-line")
            .is_err_and(|e| e.contains("chat.toml:1: max-line")));
        assert!(v
            .switch("no-register")
            .is_err_and(|e| e.contains("chat.toml:2: no-register")));
    }
}
