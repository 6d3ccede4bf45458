//! The incremental object splitter: a byte stream of back-to-back JSON objects (no delimiter,
//! optional whitespace between them) in, each complete top-level object's bytes out.
//!
//! It only counts braces outside strings; the grammar inside an object is the decoder's job.
//! Memory is bounded by `max`: an object is buffered only while it fits.

use super::JsonError;
use std::ops::ControlFlow;

/// Where the scanner is between bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Between objects. `junk` is true once a junk run has been reported, so that a run of
    /// junk costs one `Invalid` however many chunks it spans.
    Outside { junk: bool },
    /// Inside an object that still fits in `max`: its bytes are in `buf` (or in the chunk).
    Inside,
    /// Inside an object already reported as too long: scanned to find its end, not kept.
    Discard,
}

/// Splits a byte stream into JSON objects. Fed any chunking, it yields the same objects.
#[derive(Debug)]
pub struct Splitter {
    mode: Mode,
    /// The bytes of the current object that came in earlier chunks (never more than `max`).
    buf: Vec<u8>,
    /// Brace depth of the current object: 0 outside, 1 right after its opening `{`.
    depth: usize,
    /// Inside a string literal: braces do not count.
    in_string: bool,
    /// The previous byte was a backslash inside a string, so this one is escaped
    /// (`\"` does not close the string, `\\` does not escape what follows it).
    escaped: bool,
}

impl Default for Splitter {
    fn default() -> Self {
        Self::new()
    }
}

/// JSON's insignificant whitespace (RFC 8259 §2).
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl Splitter {
    pub fn new() -> Self {
        Splitter {
            mode: Mode::Outside { junk: false },
            buf: Vec::new(),
            depth: 0,
            in_string: false,
            escaped: false,
        }
    }

    /// How many bytes of a partial object are held: at most `max` (the allocation under
    /// twice that, and released once it exceeds `max` with nothing held).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Scans `data`, calling `emit` with each complete object (`{` to its matching `}`), with
    /// `Err(ObjectTooLong)` once for an object longer than `max` bytes (then skipped to its end),
    /// and with `Err(Invalid)` once per run of non-whitespace bytes between objects (skipped up
    /// to the next `{`). An object that fits inside `data` is passed without copying.
    ///
    /// Stops after an object or error for which `emit` says break; returns the bytes of `data`
    /// consumed (all of them unless it stopped early). It only stops between objects or inside
    /// one being discarded, so nothing of `data` is half-kept.
    pub fn feed(
        &mut self,
        data: &[u8],
        max: usize,
        mut emit: impl FnMut(Result<&[u8], JsonError>) -> ControlFlow<()>,
    ) -> usize {
        // Start in `data` of the current object's bytes not yet in `buf`.
        let mut start = 0;
        for i in 0..data.len() {
            let flow = self.step(data, i, &mut start, max, &mut emit);
            if flow.is_break() {
                self.release(max);
                return i + 1;
            }
        }
        if self.mode == Mode::Inside {
            self.buf.extend_from_slice(&data[start..]);
        }
        self.release(max);
        data.len()
    }

    /// A burst of long objects must not pin their high-water mark forever.
    fn release(&mut self, max: usize) {
        if self.buf.is_empty() && self.buf.capacity() > max {
            self.buf = Vec::new();
        }
    }

    /// One byte, `data[i]`, of the scan.
    fn step(
        &mut self,
        data: &[u8],
        i: usize,
        start: &mut usize,
        max: usize,
        emit: &mut impl FnMut(Result<&[u8], JsonError>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let b = data[i];
        match self.mode {
            Mode::Outside { junk } => {
                if b == b'{' {
                    self.mode = Mode::Inside;
                    self.depth = 1;
                    *start = i;
                    if max == 0 {
                        self.mode = Mode::Discard;
                        return emit(Err(JsonError::ObjectTooLong));
                    }
                } else if !is_space(b) && !junk {
                    self.mode = Mode::Outside { junk: true };
                    return emit(Err(JsonError::Invalid));
                }
            }
            Mode::Inside => {
                let closed = self.scan(b);
                if self.buf.len() + (i + 1 - *start) > max {
                    self.buf.clear();
                    self.mode = if closed {
                        Mode::Outside { junk: false }
                    } else {
                        Mode::Discard
                    };
                    return emit(Err(JsonError::ObjectTooLong));
                } else if closed {
                    self.mode = Mode::Outside { junk: false };
                    let part = &data[*start..=i];
                    if self.buf.is_empty() {
                        return emit(Ok(part));
                    }
                    self.buf.extend_from_slice(part);
                    let flow = emit(Ok(&self.buf));
                    self.buf.clear();
                    return flow;
                }
            }
            Mode::Discard => {
                if self.scan(b) {
                    self.mode = Mode::Outside { junk: false };
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Advances the string/escape/depth state over one byte of an object; true when that
    /// byte is the `}` that closes the top-level object.
    fn scan(&mut self, b: u8) -> bool {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            return false;
        }
        match b {
            b'"' => self.in_string = true,
            b'{' => self.depth = self.depth.saturating_add(1),
            b'}' => {
                self.depth = self.depth.saturating_sub(1);
                return self.depth == 0;
            }
            _ => {}
        }
        false
    }

    /// End of stream: `Err(Truncated)` if an object was started and not finished (one already
    /// reported as too long is not reported again). Resets the splitter for reuse.
    pub fn finish(&mut self) -> Result<(), JsonError> {
        let partial = self.mode == Mode::Inside;
        *self = Splitter::new();
        if partial {
            Err(JsonError::Truncated)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds each chunk with `max`, then finishes; returns every event, objects as strings.
    fn run(chunks: &[&[u8]], max: usize) -> Vec<Result<String, JsonError>> {
        let mut s = Splitter::new();
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, max, |r| {
                out.push(r.map(|o| String::from_utf8_lossy(o).into_owned()));
                ControlFlow::Continue(())
            });
            assert!(s.buffered() <= max);
        }
        if let Err(e) = s.finish() {
            out.push(Err(e));
        }
        out
    }

    fn ok(s: &str) -> Result<String, JsonError> {
        Ok(s.to_string())
    }

    #[test]
    fn two_objects_in_one_chunk_with_and_without_whitespace() {
        let out = run(&[b"{\"a\": 1}{\"b\": 2} \r\n\t{}"], 100);
        assert_eq!(out, vec![ok("{\"a\": 1}"), ok("{\"b\": 2}"), ok("{}")]);
    }

    #[test]
    fn one_object_byte_by_byte() {
        let text = br#"{"msgType": "<private>", "content": "a{b}\"c\\", "target": "x"}"#;
        let chunks: Vec<&[u8]> = text.chunks(1).collect();
        let out = run(&chunks, 100);
        assert_eq!(out, vec![ok(std::str::from_utf8(text).unwrap_or(""))]);
    }

    #[test]
    fn strings_hide_braces_quotes_and_escapes() {
        let a = r#"{"k": "}}}{{", "q": "\"}", "b": "\\", "u": "\u007d\\\"}"}"#;
        let out = run(&[a.as_bytes(), b"{}"], 100);
        assert_eq!(out, vec![ok(a), ok("{}")]);
    }

    #[test]
    fn escaped_backslash_then_quote_closes_the_string() {
        // `"\\"` is a complete string, so the following `}` closes the object.
        let out = run(&[br#"{"a": "\\"}{"b": 1}"#], 100);
        assert_eq!(out, vec![ok(r#"{"a": "\\"}"#), ok(r#"{"b": 1}"#)]);
    }

    #[test]
    fn nested_objects_end_at_the_matching_brace() {
        let a = r#"{"a": {"b": {"c": [1, {"d": "}"}]}}, "e": 2}"#;
        let out = run(&[a.as_bytes(), b" {\"f\": {}}"], 100);
        assert_eq!(out, vec![ok(a), ok("{\"f\": {}}")]);
    }

    #[test]
    fn too_long_object_is_reported_once_then_skipped_and_the_next_one_kept() {
        let long = format!("{{\"a\": \"{}}}{{\", \"b\": {{}}}}", "x".repeat(50));
        let out = run(&[long.as_bytes(), b"{\"ok\": 1}"], 20);
        assert_eq!(out, vec![Err(JsonError::ObjectTooLong), ok("{\"ok\": 1}")]);
        // The same, byte by byte: the buffer never passes `max`.
        let all = format!("{long}{{\"ok\": 1}}");
        let chunks: Vec<&[u8]> = all.as_bytes().chunks(1).collect();
        assert_eq!(run(&chunks, 20), out);
    }

    #[test]
    fn object_of_exactly_max_bytes_fits() {
        assert_eq!(run(&[b"{\"a\":1}"], 7), vec![ok("{\"a\":1}")]);
        assert_eq!(run(&[b"{\"a\":1}"], 6), vec![Err(JsonError::ObjectTooLong)]);
        assert_eq!(run(&[b"{}{}"], 0), vec![Err(JsonError::ObjectTooLong); 2]);
    }

    #[test]
    fn junk_is_reported_once_per_run_and_skipped_to_the_next_brace() {
        let out = run(&[b"hello ", b"world} ]{\"a\": 1}xx", b"y {}"], 100);
        assert_eq!(
            out,
            vec![
                Err(JsonError::Invalid),
                ok("{\"a\": 1}"),
                Err(JsonError::Invalid),
                ok("{}")
            ]
        );
    }

    #[test]
    fn whitespace_alone_is_not_junk() {
        assert_eq!(run(&[b" \n\r\t", b"  "], 100), vec![]);
    }

    #[test]
    fn eof_inside_an_object_is_truncated_and_the_splitter_resets() {
        let mut s = Splitter::new();
        let mut n = 0;
        s.feed(b"{\"a\": \"}", 100, |_| {
            n += 1;
            ControlFlow::Continue(())
        });
        assert_eq!(n, 0);
        assert_eq!(s.buffered(), 8);
        assert_eq!(s.finish(), Err(JsonError::Truncated));
        assert_eq!(s.buffered(), 0);
        assert_eq!(s.finish(), Ok(()));
        // After reset a fresh object is seen from its start.
        assert_eq!(run(&[b"{}"], 100), vec![ok("{}")]);
    }

    #[test]
    fn eof_while_discarding_is_not_reported_twice() {
        let out = run(&[b"{\"a\": \"xxxxxxxxxxxxxxxxxxxxxxxx"], 10);
        assert_eq!(out, vec![Err(JsonError::ObjectTooLong)]);
    }
}
