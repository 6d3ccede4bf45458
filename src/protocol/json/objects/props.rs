//! Property tests without dependencies: random requests encoded the way Python's
//! `json.dumps` does, cut at random points, decode to exactly themselves; random garbage never
//! panics nor grows the buffer past `max`.

use super::tests::decode_all;
use super::*;
use std::fmt::Write;

/// xorshift64: deterministic, dependency-free randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A string of the characters that stress a JSON decoder.
    fn nasty(&mut self) -> String {
        const CHARS: &[char] = &[
            '{',
            '}',
            '"',
            '\\',
            '/',
            '[',
            ']',
            ':',
            ',',
            ' ',
            'a',
            'u',
            'Z',
            '<',
            '>',
            '\n',
            '\r',
            '\t',
            '\u{0}',
            '\u{8}',
            '\u{c}',
            '\u{1f}',
            '\u{7f}',
            '\u{80}',
            'é',
            '中',
            '\u{d7ff}',
            '\u{e000}',
            '\u{fffd}',
            '\u{ffff}',
            '😀',
            '\u{10000}',
            '\u{10ffff}',
        ];
        let n = self.below(12);
        (0..n).map(|_| *self.pick(CHARS)).collect()
    }

    fn request(&mut self) -> Request {
        match self.below(6) {
            0 => Request::First { name: self.nasty() },
            1 => Request::List,
            2 => Request::Private {
                target: self.nasty(),
                text: self.nasty(),
            },
            3 => Request::Announce { text: self.nasty() },
            4 => Request::Quit,
            _ => {
                let msg_type = format!("<{}", self.nasty());
                Request::Other {
                    msg_type,
                    content: self.nasty(),
                }
            }
        }
    }
}

/// A JSON string as Python's `json.dumps` writes it: with `ascii` (its default,
/// `ensure_ascii=True`) everything outside printable ASCII as `\uXXXX`, astral characters as
/// surrogate pairs; without, only control characters, quotes and backslashes escaped.
fn json_string(s: &str, ascii: bool) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ if !ascii && c > '\u{1f}' => out.push(c),
            _ => {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

fn py_string(s: &str) -> String {
    json_string(s, true)
}

/// The request's fields as the client's dict lists them: msgType, content, target.
fn fields(req: &Request) -> Vec<(&'static str, String)> {
    let (msg_type, content, target) = match req {
        Request::First { name } => ("<first>", name.as_str(), None),
        Request::List => ("<list>", "", None),
        Request::Private { target, text } => ("<private>", text.as_str(), Some(target.as_str())),
        Request::Announce { text } => ("<announce>", text.as_str(), None),
        Request::Quit => ("<quit>", "", None),
        Request::Other { msg_type, content } => (msg_type.as_str(), content.as_str(), None),
    };
    let mut out = vec![
        ("msgType", msg_type.to_string()),
        ("content", content.to_string()),
    ];
    out.extend(target.map(|t| ("target", t.to_string())));
    out
}

/// `json.dumps(dict)`: separators `", "` and `": "`.
fn py_dumps(req: &Request) -> String {
    let body: Vec<String> = fields(req)
        .iter()
        .map(|(k, v)| format!("{}: {}", py_string(k), py_string(v)))
        .collect();
    format!("{{{}}}", body.join(", "))
}

/// Cuts `bytes` at random points into chunks of 1 to `most` bytes.
fn random_chunks<'a>(rng: &mut Rng, bytes: &'a [u8], most: usize) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (a, b) = rest.split_at((1 + rng.below(most)).min(rest.len()));
        chunks.push(a);
        rest = b;
    }
    chunks
}

/// What may come between two objects.
const GAPS: [&str; 5] = ["", "", " ", "\n", "\r\n\t "];

/// Encodings the Python-style stream must show at least once: an astral pair, an escaped
/// control, an escaped backslash, an escaped quote, and braces.
const NEEDLES: [&str; 6] = ["\\ud83d\\ude00", "\\u0000", "\\\\", "\\\"", "}", "{"];

#[test]
fn property_python_encoded_requests_round_trip_through_any_chunking() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seen = [false; 6];
    for _ in 0..300 {
        let reqs: Vec<Request> = (0..1 + rng.below(8)).map(|_| rng.request()).collect();
        let mut stream = String::new();
        for r in &reqs {
            stream.push_str(&py_dumps(r));
            stream.push_str(GAPS[rng.below(GAPS.len())]);
        }
        let most = 1 + rng.below(64);
        let chunks = random_chunks(&mut rng, stream.as_bytes(), most);
        for (i, needle) in NEEDLES.iter().enumerate() {
            seen[i] |= stream.contains(needle);
        }
        let got = decode_all(&chunks, 4096);
        let want: Vec<_> = reqs.into_iter().map(Ok).collect();
        assert_eq!(got, want, "{stream}");
    }
    assert_eq!(seen, [true; 6]);
}

/// Any key order, unknown keys with arbitrary values, overwritten duplicates, raw UTF-8 and
/// odd whitespace: still exactly the request.
#[test]
fn property_reordered_padded_raw_utf8_objects_decode_the_same() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let values = [
        "1",
        "-0.5e+10",
        "true",
        "null",
        "[{}, [], \"}\"]",
        "{\"a\": {\"b\": [false]}}",
    ];
    for _ in 0..300 {
        let req = rng.request();
        let unknown = |rng: &mut Rng| format!("{}: {}", py_string(&rng.nasty()), rng.pick(&values));
        // Decoys first (an earlier value of a key we read, unknown keys), so the last wins.
        let mut members = Vec::new();
        let mut real = Vec::new();
        for (k, v) in fields(&req) {
            if rng.below(3) == 0 {
                members.push(format!("\"{k}\": {}", py_string(&rng.nasty())));
            }
            let v = if rng.below(2) == 0 {
                py_string(&v)
            } else {
                json_string(&v, false)
            };
            real.push(format!("\"{k}\": {v}"));
        }
        for _ in 0..rng.below(3) {
            members.push(unknown(&mut rng));
        }
        // Fisher-Yates over the real members, then unknown keys dropped in among them.
        for i in (1..real.len()).rev() {
            real.swap(i, rng.below(i + 1));
        }
        for _ in 0..rng.below(3) {
            let at = rng.below(real.len() + 1);
            real.insert(at, unknown(&mut rng));
        }
        members.extend(real);
        let pad = |rng: &mut Rng| *rng.pick(&["", " ", "\n", "\t\r "]);
        let mut text = format!("{}{{", pad(&mut rng));
        for (i, m) in members.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(text, "{sep}{}{m}{}", pad(&mut rng), pad(&mut rng));
        }
        text.push('}');
        assert_eq!(Request::parse(text.as_bytes()), Ok(req), "{text}");
    }
}

#[test]
fn property_garbage_never_panics_and_stays_bounded() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let bytes = b"{}[]\"\\:, \nu0123456789abcdefntrlsxe+-.\xff\xc3\xa9";
    for round in 0..400 {
        let len = rng.below(2000);
        let garbage: Vec<u8> = (0..len)
            .map(|_| {
                if rng.below(8) == 0 {
                    rng.next() as u8
                } else {
                    *rng.pick(bytes)
                }
            })
            .collect();
        let max = 1 + rng.below(256);
        let most = 1 + rng.below(300);
        let chunks = random_chunks(&mut rng, &garbage, most);
        decode_all(&chunks, max);
        let _ = Request::parse(&garbage);
        // Valid requests with a few bytes flipped.
        let mut stream: Vec<u8> = (0..4)
            .flat_map(|_| py_dumps(&rng.request()).into_bytes())
            .collect();
        for _ in 0..1 + round % 5 {
            let at = rng.below(stream.len());
            stream[at] = *rng.pick(bytes);
        }
        let most = 1 + rng.below(40);
        let chunks = random_chunks(&mut rng, &stream, most);
        decode_all(&chunks, max);
    }
}
