//! Bytes to lines: the bounded line buffer shared by every input, and the server-stream
//! splitter that lets prompts show at once. What the lines mean is in [`crate::parse`]. No I/O.

/// The longest line kept from any input; the rest of a longer line is dropped.
pub const MAX_LINE: usize = 64 * 1024;

/// Splits a byte stream into lines of at most [`MAX_LINE`] bytes (a trailing `\r` stripped),
/// keeping only the unfinished tail.
#[derive(Debug, Default)]
pub struct LineBuf {
    /// Never longer than [`MAX_LINE`]: bytes past the cap are dropped up to the newline.
    partial: Vec<u8>,
}

impl LineBuf {
    /// Feed received bytes; `emit` gets every complete line in order.
    pub fn feed(&mut self, data: &[u8], mut emit: impl FnMut(&[u8])) {
        let mut segments = data.split(|&b| b == b'\n').peekable();
        while let Some(seg) = segments.next() {
            let room = MAX_LINE.saturating_sub(self.partial.len());
            self.partial.extend_from_slice(&seg[..seg.len().min(room)]);
            if segments.peek().is_some() {
                let line = self.partial.strip_suffix(b"\r").unwrap_or(&self.partial);
                emit(line);
                self.partial.clear();
            }
        }
    }

    /// The unfinished line so far.
    pub fn partial(&self) -> &[u8] {
        &self.partial
    }

    /// Forget the unfinished line (it has been handled as a prompt).
    pub fn clear(&mut self) {
        self.partial.clear();
    }
}

/// Shows invalid UTF-8 lossily: junk is displayed, never fatal.
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A peer's message text as shown: lossily, and with every control character but tab
/// replaced by U+FFFD. The server refuses those in any text it relays (PROTOCOL.md §1a), but a
/// peer link has no server in between, and an escape sequence, a carriage return or a bell
/// from a peer would otherwise reach the terminal: clear it, or write a line over the
/// `<peer>(private): ` prefix that poses as the server or another user.
pub fn peer_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// How a piece of server text ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// A complete line (its newline is not in `text`).
    Newline,
    /// A prompt: an unfinished line ending in `": "` or `"? "`; the server now waits for input.
    Prompt,
    /// More of this line is still to come; shown now so that nothing waits on a newline.
    Open,
}

/// One piece of server output. `text[..shown]` is already on the screen.
#[derive(Debug, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub shown: usize,
    pub end: End,
}

/// Splits the server stream into lines and prompts. Text that cannot be the start of a machine
/// line (`P2P ...`) is passed on at once, so a prompt sent without a newline shows as a prompt;
/// a possible machine line is held until whole, as it may be acted on rather than shown.
#[derive(Debug, Default)]
pub struct ServerReader {
    buf: LineBuf,
    /// Bytes of the unfinished line already handed out as [`End::Open`].
    shown: usize,
}

/// Could this unfinished line still become a machine line, which is not shown if acted on?
fn maybe_machine(partial: &[u8]) -> bool {
    partial.starts_with(b"P2P") || b"P2P".starts_with(partial)
}

impl ServerReader {
    pub fn feed(&mut self, data: &[u8]) -> Vec<Piece> {
        let mut pieces = Vec::new();
        let shown = &mut self.shown;
        self.buf.feed(data, |line| {
            pieces.push(Piece {
                text: lossy(line),
                shown: std::mem::take(shown),
                end: End::Newline,
            })
        });
        let partial = self.buf.partial();
        if partial.is_empty() || maybe_machine(partial) {
            return pieces;
        }
        if partial.ends_with(b": ") || partial.ends_with(b"? ") {
            pieces.push(Piece {
                text: lossy(partial),
                shown: std::mem::take(&mut self.shown),
                end: End::Prompt,
            });
            self.buf.clear();
            return pieces;
        }
        // Hold back an incomplete UTF-8 sequence at the end until its last bytes arrive.
        let ready = match std::str::from_utf8(partial) {
            Ok(_) => partial.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => partial.len(),
        };
        if ready > self.shown {
            pieces.push(Piece {
                text: lossy(&partial[..ready]),
                shown: self.shown,
                end: End::Open,
            });
            self.shown = ready;
        }
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::WELCOME;

    fn lines(buf: &mut LineBuf, chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for c in chunks {
            buf.feed(c, |l| out.push(l.to_vec()));
        }
        out
    }

    #[test]
    fn line_buf_joins_split_reads_and_strips_cr() {
        let mut b = LineBuf::default();
        let got = lines(&mut b, &[b"hel", b"lo\r\nwor", b"ld\n", b"tail"]);
        assert_eq!(got, [b"hello".to_vec(), b"world".to_vec()]);
        assert_eq!(b.partial(), b"tail");
    }

    #[test]
    fn line_buf_caps_a_long_line_and_drops_the_rest() {
        let mut b = LineBuf::default();
        let big = vec![b'x'; MAX_LINE];
        let got = lines(&mut b, &[&big, &big, b"yyy\nnext\n"]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), MAX_LINE);
        assert!(got[0].iter().all(|&c| c == b'x'));
        assert_eq!(got[1], b"next");
        assert!(b.partial().is_empty());
    }

    #[test]
    fn prompts_show_at_once_and_lines_complete() {
        let mut r = ServerReader::default();
        let p = r.feed(b"Username: ");
        assert_eq!(
            p,
            [Piece {
                text: "Username: ".into(),
                shown: 0,
                end: End::Prompt
            }]
        );
        let p = r.feed(b"Welcome to the gr");
        assert_eq!(p[0].end, End::Open);
        assert_eq!(p[0].text, "Welcome to the gr");
        let p = r.feed(b"eatest messaging application ever!\nhans: hi\n");
        assert_eq!(p[0].text, WELCOME);
        assert_eq!(p[0].shown, "Welcome to the gr".len());
        assert_eq!(p[1].text, "hans: hi");
        assert_eq!(p[1].shown, 0);
    }

    #[test]
    fn machine_line_prefix_is_held_back() {
        let mut r = ServerReader::default();
        assert!(r.feed(b"P").is_empty());
        assert!(r.feed(b"2P-ACCEPT bob ").is_empty());
        let p = r.feed(b"0123456789abcdef0123456789abcdef\n");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].shown, 0);
        assert!(p[0].text.starts_with("P2P-ACCEPT bob "));
        // "Private..." starts like "P2P" for one byte only, then shows.
        assert_eq!(r.feed(b"Pr")[0].text, "Pr");
    }

    #[test]
    fn split_utf8_and_junk_are_shown_lossily() {
        let mut r = ServerReader::default();
        let p = r.feed(b"caf\xc3");
        assert_eq!(p[0].text, "caf");
        let p = r.feed(b"\xa9 \xff\n");
        assert_eq!(p[0].text, "caf\u{e9} \u{fffd}");
        assert_eq!(p[0].shown, 3);
    }
}
