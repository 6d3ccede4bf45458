//! One object's bytes to a [`Request`] of the seed-002 client: a strict RFC 8259 reader for
//! the one shape it sends, `{"msgType": …, "content": …, "target": …}`.
//!
//! Keys may come in any order with any whitespace; string escapes are fully decoded (surrogate
//! pairs joined, lone surrogates refused); other keys are skipped whatever their value, nested
//! at most [`MAX_DEPTH`] deep; a repeated key's last value wins (as Python's `json` does).
//! Stricter than Python in one way: `NaN` and `Infinity` are not JSON and are refused.

use super::JsonError;

/// How deep an ignored value may nest arrays and objects. The client never sends any, so this
/// only bounds the recursion (and so the stack) that hostile input can cause.
pub const MAX_DEPTH: usize = 32;

/// What a seed-002 client asks for. `content` is required for `<first>`, `<private>`,
/// `<announce>` and unknown types, optional for `<list>` and `<quit>` (the original server
/// wanted it everywhere, but the client always sends it, so leniency costs nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `<first>`: the user's chosen name (free-form; may hold spaces).
    First { name: String },
    /// `<list>`: the online users with their addresses.
    List,
    /// `<private>`: `text` to the user called `target`.
    Private { target: String, text: String },
    /// `<announce>`: `text` to everyone, the sender included.
    Announce { text: String },
    /// `<quit>`: leave and close.
    Quit,
    /// Any other `msgType`. The original server handles it as `<announce>` with `content`.
    Other { msg_type: String, content: String },
}

impl Request {
    /// Decodes one complete JSON object (surrounding whitespace allowed, nothing else).
    pub fn parse(bytes: &[u8]) -> Result<Request, JsonError> {
        let text = std::str::from_utf8(bytes).map_err(|_| JsonError::Invalid)?;
        let mut p = Parser {
            s: text.as_bytes(),
            text,
            i: 0,
        };
        let fields = p.top_object()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(JsonError::Invalid);
        }
        fields.into_request()
    }
}

/// The three keys we read; `None` when absent.
#[derive(Default)]
struct Fields {
    msg_type: Option<String>,
    content: Option<String>,
    target: Option<String>,
}

impl Fields {
    fn into_request(self) -> Result<Request, JsonError> {
        let msg_type = self.msg_type.ok_or(JsonError::Invalid)?;
        let content = self.content;
        let req = match msg_type.as_str() {
            "<list>" => Request::List,
            "<quit>" => Request::Quit,
            "<first>" => Request::First {
                name: content.ok_or(JsonError::Invalid)?,
            },
            "<announce>" => Request::Announce {
                text: content.ok_or(JsonError::Invalid)?,
            },
            "<private>" => Request::Private {
                target: self.target.ok_or(JsonError::Invalid)?,
                text: content.ok_or(JsonError::Invalid)?,
            },
            _ => Request::Other {
                content: content.ok_or(JsonError::Invalid)?,
                msg_type,
            },
        };
        Ok(req)
    }
}

/// A cursor over input already checked to be UTF-8 (`text` and `s` are the same bytes).
struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Result<u8, JsonError> {
        let b = self.peek().ok_or(JsonError::Invalid)?;
        self.i += 1;
        Ok(b)
    }

    fn expect(&mut self, want: u8) -> Result<(), JsonError> {
        if self.next()? == want {
            Ok(())
        } else {
            Err(JsonError::Invalid)
        }
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(super::split::is_space) {
            self.i += 1;
        }
    }

    /// The top-level object: the three keys we know are kept, the rest skipped.
    fn top_object(&mut self) -> Result<Fields, JsonError> {
        let mut f = Fields::default();
        self.ws();
        self.members(|p, key| {
            let slot = match key.as_str() {
                "msgType" => &mut f.msg_type,
                "content" => &mut f.content,
                "target" => &mut f.target,
                _ => return p.skip_value(1),
            };
            if p.peek() != Some(b'"') {
                return Err(JsonError::Invalid);
            }
            *slot = Some(p.string()?);
            Ok(())
        })?;
        Ok(f)
    }

    /// `{ "key": value, … }` from the `{`, calling `value` after each key's colon and the
    /// whitespace that follows it; `value` must consume exactly the value.
    fn members(
        &mut self,
        mut value: impl FnMut(&mut Self, String) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        self.expect(b'{')?;
        self.items(b'}', |p| {
            let key = p.string()?;
            p.ws();
            p.expect(b':')?;
            p.ws();
            value(p, key)
        })
    }

    /// After an opening bracket: zero or more `item`s separated by commas, then `close`.
    fn items(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        self.ws();
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            item(self)?;
            self.ws();
            match self.next()? {
                b',' => {}
                b if b == close => return Ok(()),
                _ => return Err(JsonError::Invalid),
            }
        }
    }

    /// Any JSON value, checked and dropped. `depth` counts the arrays and objects around it.
    fn skip_value(&mut self, depth: usize) -> Result<(), JsonError> {
        match self.peek().ok_or(JsonError::Invalid)? {
            b'"' => self.string().map(drop),
            b'{' | b'[' if depth >= MAX_DEPTH => Err(JsonError::Invalid),
            b'{' => self.members(|p, _| p.skip_value(depth + 1)),
            b'[' => {
                self.i += 1;
                self.items(b']', |p| p.skip_value(depth + 1))
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        if self
            .s
            .get(self.i..)
            .is_some_and(|rest| rest.starts_with(word))
        {
            self.i += word.len();
            Ok(())
        } else {
            Err(JsonError::Invalid)
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<(), JsonError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return Err(JsonError::Invalid),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.digits1()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.digits1()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
    }

    fn digits1(&mut self) -> Result<(), JsonError> {
        let from = self.i;
        self.digits();
        if self.i == from {
            Err(JsonError::Invalid)
        } else {
            Ok(())
        }
    }

    /// A string literal from its opening quote, escapes decoded. Raw control characters are
    /// refused, as RFC 8259 and Python's strict decoder do.
    fn string(&mut self) -> Result<String, JsonError> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let run = self.i;
            while self
                .peek()
                .is_some_and(|b| b != b'"' && b != b'\\' && b >= 0x20)
            {
                self.i += 1;
            }
            // Stops only at ASCII bytes, so both ends are char boundaries.
            out.push_str(self.text.get(run..self.i).ok_or(JsonError::Invalid)?);
            match self.next()? {
                b'"' => return Ok(out),
                b'\\' => out.push(self.escape()?),
                _ => return Err(JsonError::Invalid),
            }
        }
    }

    /// The character of the escape after a backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        let c = match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                let code = match hi {
                    0xD800..=0xDBFF => {
                        self.expect(b'\\')?;
                        self.expect(b'u')?;
                        let lo = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return Err(JsonError::Invalid);
                        }
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    _ => hi,
                };
                // `from_u32` refuses a lone low surrogate.
                return char::from_u32(code).ok_or(JsonError::Invalid);
            }
            _ => return Err(JsonError::Invalid),
        };
        Ok(c)
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0;
        for _ in 0..4 {
            let d = char::from(self.next()?)
                .to_digit(16)
                .ok_or(JsonError::Invalid)?;
            v = v * 16 + d;
        }
        Ok(v)
    }
}
