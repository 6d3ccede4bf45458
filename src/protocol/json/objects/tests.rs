//! Decoder cases and the codec end to end; the property tests are in `props`.

use super::*;

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

/// Runs the codec over `chunks`, checking the memory bound after each one.
pub(super) fn decode_all(chunks: &[&[u8]], max: usize) -> Vec<Result<Request, JsonError>> {
    let mut codec = JsonCodec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        codec.decode(chunk, max, |r| {
            out.push(r);
            std::ops::ControlFlow::Continue(())
        });
        assert!(codec.buffered() <= max);
    }
    if let Err(e) = codec.finish() {
        out.push(Err(e));
    }
    out
}
