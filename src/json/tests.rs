//! Decoder cases, the codec end to end, and property tests: random requests encoded the way
//! Python's `json.dumps` does, cut at random points, must decode to exactly themselves; random
//! garbage must never panic nor grow the buffer past `max`.

use super::*;
use std::fmt::Write;

fn parse(s: &str) -> Result<Request, JsonError> {
    Request::parse(s.as_bytes())
}

fn announce(text: &str) -> Result<Request, JsonError> {
    Ok(Request::Announce {
        text: text.to_string(),
    })
}

#[test]
fn the_five_requests_as_the_client_sends_them() {
    assert_eq!(
        parse(r#"{"msgType": "<first>", "content": "Moo yeong"}"#),
        Ok(Request::First {
            name: "Moo yeong".into()
        })
    );
    assert_eq!(
        parse(r#"{"msgType": "<list>", "content": ""}"#),
        Ok(Request::List)
    );
    assert_eq!(
        parse(r#"{"msgType": "<private>", "content": "hi there", "target": "Woosuk"}"#),
        Ok(Request::Private {
            target: "Woosuk".into(),
            text: "hi there".into()
        })
    );
    assert_eq!(
        parse(r#"{"msgType": "<announce>", "content": "yo"}"#),
        announce("yo")
    );
    assert_eq!(
        parse(r#"{"msgType": "<quit>", "content": ""}"#),
        Ok(Request::Quit)
    );
}

#[test]
fn unknown_msg_type_is_other_with_its_content() {
    assert_eq!(
        parse(r#"{"msgType": "<shout>", "content": "hey"}"#),
        Ok(Request::Other {
            msg_type: "<shout>".into(),
            content: "hey".into()
        })
    );
    assert_eq!(parse(r#"{"msgType": "<shout>"}"#), Err(JsonError::Invalid));
}

#[test]
fn any_key_order_and_any_whitespace() {
    let text = "\r\n {\t\"target\"\n:\"B\" ,\"content\" :  \"x\",\"msgType\":\"<private>\"}\n ";
    assert_eq!(
        parse(text),
        Ok(Request::Private {
            target: "B".into(),
            text: "x".into()
        })
    );
    assert_eq!(
        parse(r#"{"content":"x","msgType":"<announce>"}"#),
        announce("x")
    );
}

#[test]
fn escapes_are_decoded() {
    let text =
        r#"{"msgType": "<announce>", "content": "\"\\\/\b\f\n\r\t\u00e9\u00C9\ud83d\ude00\u0000"}"#;
    assert_eq!(parse(text), announce("\"\\/\u{8}\u{c}\n\r\té\u{c9}😀\0"));
    // Keys are decoded too, before they are matched.
    assert_eq!(
        parse(r#"{"msg\u0054ype": "<announce>", "content": "a"}"#),
        announce("a")
    );
    // Raw UTF-8 passes through.
    assert_eq!(
        parse(r#"{"msgType": "<announce>", "content": "中😀é"}"#),
        announce("中😀é")
    );
}

#[test]
fn bad_escapes_and_lone_surrogates_are_invalid() {
    for content in [
        r#""\ud83d""#,
        r#""\ud83dx""#,
        r#""\ud83d\u0041""#,
        r#""\ud83d\ud83d""#,
        r#""\ude00""#,
        r#""\x""#,
        r#""\u12""#,
        r#""\u12g4""#,
        r#""\'""#,
        r#""\"#,
    ] {
        let text = format!(r#"{{"msgType": "<announce>", "content": {content}}}"#);
        assert_eq!(parse(&text), Err(JsonError::Invalid), "{text}");
    }
}

#[test]
fn non_string_values_for_our_keys_are_invalid() {
    for (key, value) in [
        ("content", "5"),
        ("content", "null"),
        ("content", "[\"a\"]"),
        ("msgType", "true"),
        ("target", "{}"),
    ] {
        let mut fields = vec![
            ("msgType", "\"<private>\""),
            ("content", "\"c\""),
            ("target", "\"t\""),
        ];
        fields.retain(|(k, _)| *k != key);
        fields.push((key, value));
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("\"{k}\": {v}"))
            .collect();
        let text = format!("{{{}}}", body.join(", "));
        assert_eq!(parse(&text), Err(JsonError::Invalid), "{text}");
    }
}

#[test]
fn unknown_keys_are_skipped_whatever_their_value() {
    let text = r#"{"x": [1, -2.5e+3, 0, 0.5E-7, true, false, null, {"a": [ ], "b": {}}, "s\"}"],
        "msgType": "<announce>", "y": {}, "z": [], "content": "ok", "w": "\u0041"}"#;
    assert_eq!(parse(text), announce("ok"));
}

#[test]
fn nesting_is_limited() {
    let nested = |n: usize| {
        format!(
            r#"{{"x": {}{}, "msgType": "<list>"}}"#,
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    assert_eq!(parse(&nested(MAX_DEPTH - 1)), Ok(Request::List));
    assert_eq!(parse(&nested(MAX_DEPTH)), Err(JsonError::Invalid));
    // Deep enough to overflow the stack if it recursed without a limit.
    assert_eq!(parse(&nested(1_000_000)), Err(JsonError::Invalid));
    let objects = format!(
        r#"{{"x": {}1{}}}"#,
        r#"{"a": "#.repeat(100),
        "}".repeat(100)
    );
    assert_eq!(parse(&objects), Err(JsonError::Invalid));
}

#[test]
fn duplicate_keys_last_wins() {
    let text = r#"{"msgType": "<quit>", "content": "a", "msgType": "<announce>", "content": "b"}"#;
    assert_eq!(parse(text), announce("b"));
}

#[test]
fn missing_keys() {
    assert_eq!(parse(r#"{"msgType": "<list>"}"#), Ok(Request::List));
    assert_eq!(parse(r#"{"msgType": "<quit>"}"#), Ok(Request::Quit));
    for text in [
        r#"{"msgType": "<first>"}"#,
        r#"{"msgType": "<announce>"}"#,
        r#"{"msgType": "<private>", "target": "x"}"#,
        r#"{"msgType": "<private>", "content": "x"}"#,
        r#"{"content": "x"}"#,
        r#"{}"#,
    ] {
        assert_eq!(parse(text), Err(JsonError::Invalid), "{text}");
    }
    // A target where none is wanted is ignored.
    assert_eq!(
        parse(r#"{"msgType": "<announce>", "content": "a", "target": "t"}"#),
        announce("a")
    );
}

#[test]
fn malformed_json_is_invalid() {
    for text in [
        "",
        "   ",
        "[]",
        "\"x\"",
        "{",
        "}",
        r#"{"msgType": "<list>",}"#,
        r#"{"msgType" "<list>"}"#,
        r#"{"msgType": "<list>" "content": ""}"#,
        r#"{'msgType': '<list>'}"#,
        r#"{msgType: "<list>"}"#,
        r#"{"msgType": "<list>"}}"#,
        r#"{"msgType": "<list>"} x"#,
        r#"{"msgType": "<list>"}{}"#,
        r#"{"msgType": "<list>", "x": 01}"#,
        r#"{"msgType": "<list>", "x": 1.}"#,
        r#"{"msgType": "<list>", "x": .5}"#,
        r#"{"msgType": "<list>", "x": -}"#,
        r#"{"msgType": "<list>", "x": +1}"#,
        r#"{"msgType": "<list>", "x": 1e}"#,
        r#"{"msgType": "<list>", "x": tru}"#,
        r#"{"msgType": "<list>", "x": nul}"#,
        r#"{"msgType": "<list>", "x": [1,]}"#,
        r#"{"msgType": "<list>", "x": [1 2]}"#,
        "{\"msgType\": \"<announce>\", \"content\": \"a\nb\"}",
        "{\"msgType\": \"<announce>\", \"content\": \"a\tb\"}",
    ] {
        assert_eq!(parse(text), Err(JsonError::Invalid), "{text:?}");
    }
}

#[test]
fn invalid_utf8_is_invalid() {
    let mut bytes = br#"{"msgType": "<announce>", "content": "a"}"#.to_vec();
    bytes[38] = 0xff;
    assert_eq!(Request::parse(&bytes), Err(JsonError::Invalid));
    // An overlong encoding of `"`.
    let bytes = b"{\"msgType\": \"<list>\", \"x\": \"\xc0\xa2\"}";
    assert_eq!(Request::parse(bytes), Err(JsonError::Invalid));
}

/// Runs the codec over `chunks`, checking the memory bound after each one.
fn decode_all(chunks: &[&[u8]], max: usize) -> Vec<Result<Request, JsonError>> {
    let mut codec = JsonCodec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        codec.decode(chunk, max, |r| out.push(r));
        assert!(codec.buffered() <= max);
    }
    if let Err(e) = codec.finish() {
        out.push(Err(e));
    }
    out
}

#[test]
fn codec_reports_each_bad_object_and_keeps_going() {
    let stream = concat!(
        r#"{"msgType": "<first>", "content": "A"}"#,
        r#"{"msgType": 1}"#,
        "junk ",
        r#"{"msgType": "<announce>", "content": "this one is far too long for the limit"}"#,
        "\n",
        r#"{"msgType": "<quit>", "content": ""}"#,
        r#"{"msgType": "<list>""#,
    );
    let want = vec![
        Ok(Request::First { name: "A".into() }),
        Err(JsonError::Invalid),
        Err(JsonError::Invalid),
        Err(JsonError::ObjectTooLong),
        Ok(Request::Quit),
        Err(JsonError::Truncated),
    ];
    assert_eq!(decode_all(&[stream.as_bytes()], 60), want);
    let bytes: Vec<&[u8]> = stream.as_bytes().chunks(1).collect();
    assert_eq!(decode_all(&bytes, 60), want);
}

#[test]
fn greeting_and_sniffing() {
    assert_eq!(JsonCodec::greet(), wire::GREETING);
    assert_eq!(sniff(b""), None);
    assert_eq!(sniff(b" \r\n"), None);
    assert_eq!(sniff(b"\n {\"msgType\""), Some(true));
    assert_eq!(sniff(b"login bob pw\n"), Some(false));
}

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

/// A JSON string as Python's `json.dumps` writes it by default (`ensure_ascii=True`).
fn py_string(s: &str) -> String {
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
                raw_string(&v)
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

/// A JSON string with non-ASCII left as raw UTF-8 (`ensure_ascii=False`).
fn raw_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{0}'..='\u{1f}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            _ => out.push(c),
        }
    }
    out.push('"');
    out
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
