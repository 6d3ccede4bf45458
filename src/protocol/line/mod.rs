//! The line codec (PROTOCOL.md §1): UTF-8 lines ending in `\n` (a trailing `\r` is dropped),
//! bounded in length, parsed by what the core expects: at `Username: ` a bare word is a
//! username, at `Password: ` the whole line is the password, logged in it is a command of the
//! [`crate::command`] table.

pub mod text;

use super::{flow, Sink};
use crate::command::{self, split_word, States};
use crate::input::{Expect, Input, LineError, RoomInput};
use std::ops::ControlFlow;

/// One framed input: a complete line, or why a line was rejected.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Line(&'a str),
    Bad(LineError),
}

/// A piece of a byte stream split at `\n`: a complete line (without the `\n`), or the report
/// that a line outgrew the limit (once; its bytes are dropped up to its newline), with its
/// first `limit` bytes (IRC reads the `label` tag there, to label the refusal).
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    Line(&'a [u8]),
    TooLong(&'a [u8]),
}

/// Splits a byte stream at `\n`, keeping only the unfinished tail, never more than the limit.
/// Shared by every line-based wire (the line protocol, the console, IRC), which differ only in
/// how they judge a complete line.
#[derive(Debug, Default)]
pub struct Splitter {
    partial: Vec<u8>,
    /// Inside an over-long line: drop bytes up to the next newline.
    discarding: bool,
}

impl Splitter {
    /// Feed received bytes; an unfinished line longer than `limit` bytes is reported as
    /// [`Piece::TooLong`] at once and discarded to its newline. Stops after a piece for which
    /// `emit` says break; returns the bytes of `data` consumed (all unless it stopped early).
    pub fn feed(
        &mut self,
        data: &[u8],
        limit: usize,
        mut emit: impl FnMut(Piece<'_>) -> ControlFlow<()>,
    ) -> usize {
        let mut rest = data;
        while !rest.is_empty() {
            let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                if !self.discarding {
                    if self.partial.len() + rest.len() > limit {
                        let room = limit.saturating_sub(self.partial.len()).min(rest.len());
                        self.partial.extend_from_slice(&rest[..room]);
                        let head = std::mem::take(&mut self.partial);
                        self.discarding = true;
                        let _ = emit(Piece::TooLong(&head));
                    } else {
                        self.partial.extend_from_slice(rest);
                    }
                }
                return data.len();
            };
            let seg = &rest[..nl];
            rest = &rest[nl + 1..];
            if std::mem::take(&mut self.discarding) {
                continue;
            }
            let flow = if self.partial.is_empty() {
                emit(Piece::Line(seg))
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(seg);
                emit(Piece::Line(&line))
            };
            if flow.is_break() {
                return data.len() - rest.len();
            }
        }
        data.len()
    }

    /// End of input: the unterminated tail, unless it was being discarded or is empty.
    pub fn finish(&mut self, emit: impl FnOnce(&[u8])) {
        let tail = std::mem::take(&mut self.partial);
        if !std::mem::take(&mut self.discarding) && !tail.is_empty() {
            emit(&tail);
        }
    }
}

/// Splits a byte stream into lines of at most `max` bytes (plus an optional `\r`).
#[derive(Debug, Default)]
pub struct LineFramer {
    splitter: Splitter,
}

fn frame(mut line: &[u8], max: usize) -> Frame<'_> {
    if let Some(stripped) = line.strip_suffix(b"\r") {
        line = stripped;
    }
    if line.len() > max {
        return Frame::Bad(LineError::TooLong);
    }
    match std::str::from_utf8(line) {
        Ok(s) => Frame::Line(s),
        Err(_) => Frame::Bad(LineError::InvalidUtf8),
    }
}

impl LineFramer {
    /// Feed received bytes; `emit` gets every complete line in order.
    pub fn feed(&mut self, data: &[u8], max: usize, mut emit: impl FnMut(Frame<'_>)) {
        self.feed_until(data, max, |f| {
            emit(f);
            ControlFlow::Continue(())
        });
    }

    /// As [`LineFramer::feed`], stopping after a line for which `emit` says break; returns
    /// the bytes consumed.
    pub fn feed_until(
        &mut self,
        data: &[u8],
        max: usize,
        mut emit: impl FnMut(Frame<'_>) -> ControlFlow<()>,
    ) -> usize {
        self.splitter.feed(data, max + 1, |piece| match piece {
            Piece::Line(line) => emit(frame(line, max)),
            Piece::TooLong(_) => emit(Frame::Bad(LineError::TooLong)),
        })
    }

    /// End of input: an unterminated last line still counts.
    pub fn finish(&mut self, max: usize, emit: impl FnOnce(Frame<'_>)) {
        self.splitter.finish(|tail| emit(frame(tail, max)));
    }
}

/// The line codec of one connection.
#[derive(Debug, Default)]
pub struct LineCodec {
    framer: LineFramer,
}

impl LineCodec {
    /// Decode until the sink stops wanting more; returns the bytes consumed.
    pub fn decode(&mut self, data: &[u8], max: usize, sink: &mut impl Sink) -> usize {
        self.framer.feed_until(data, max, |f| {
            sink.input(parse(f, sink.expects()));
            flow(sink)
        })
    }

    pub fn finish(&mut self, max: usize, sink: &mut impl Sink) {
        self.framer
            .finish(max, |f| sink.input(parse(f, sink.expects())));
    }
}

/// What a framed line means to a session that expects `expect`.
pub fn parse(frame: Frame<'_>, expect: Expect) -> Input<'_> {
    let line = match frame {
        Frame::Line(line) => line,
        Frame::Bad(e) => return Input::Bad(e),
    };
    match expect {
        Expect::Username => username_line(line),
        Expect::Password => Input::Answer(line),
        Expect::Command => command::parse(line, States::LOBBY),
        // Chat rooms (§5): a `/` line is a command, an empty one nothing, any other chat.
        Expect::RoomChat => match line.strip_prefix('/') {
            Some(cmd) => command::parse(cmd, States::ROOM),
            None if line.is_empty() => Input::Empty,
            None => Input::Room(RoomInput::Say {
                room: None,
                text: line,
                kind: crate::input::Kind::Say,
                relay: None,
            }),
        },
        // §6 menus: the whole line answers the prompt (empty cancels).
        Expect::Answer => Input::Answer(line),
        Expect::Nothing | Expect::Pending => Input::Empty,
    }
}

/// At the `Username: ` prompt: a bare word is the username; the one-line forms and the
/// prompt's commands come from the table; anything else of several words is invalid.
fn username_line(line: &str) -> Input<'_> {
    let (word, rest) = split_word(line);
    if word.is_empty() {
        return Input::Empty;
    }
    match command::parse(line, States::LOGIN) {
        Input::Invalid
            if rest.trim_end().is_empty() && command::find(word, States::LOGIN).is_none() =>
        {
            Input::Answer(word)
        }
        parsed => parsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(framer: &mut LineFramer, chunks: &[&[u8]], max: usize) -> Vec<String> {
        let mut out = Vec::new();
        for c in chunks {
            framer.feed(c, max, |f| {
                out.push(match f {
                    Frame::Line(s) => format!("L:{s}"),
                    Frame::Bad(e) => format!("E:{e:?}"),
                })
            });
        }
        out
    }

    #[test]
    fn split_reads_join() {
        let mut f = LineFramer::default();
        assert_eq!(
            lines(&mut f, &[b"mes", b"sage yo", b"da hi\nwho", b"else\n"], 100),
            ["L:message yoda hi", "L:whoelse"]
        );
    }

    #[test]
    fn crlf_is_stripped_once() {
        let mut f = LineFramer::default();
        assert_eq!(
            lines(&mut f, &[b"a\r\nb\r", b"\n\r\r\n"], 100),
            ["L:a", "L:b", "L:\r"]
        );
    }

    #[test]
    fn many_lines_in_one_read() {
        let mut f = LineFramer::default();
        let data: Vec<u8> = (0..1000)
            .flat_map(|i| format!("l{i}\n").into_bytes())
            .collect();
        let got = lines(&mut f, &[&data], 100);
        assert_eq!(got.len(), 1000);
        assert_eq!(got[999], "L:l999");
    }

    #[test]
    fn over_long_line_is_reported_once_and_discarded_to_its_newline() {
        let mut f = LineFramer::default();
        let long = vec![b'x'; 40];
        assert_eq!(
            lines(&mut f, &[&long, &long, b"tail\nok\n"], 16),
            ["E:TooLong", "L:ok"]
        );
        assert_eq!(
            lines(&mut f, &[&long, b"\nafter\n"], 16),
            ["E:TooLong", "L:after"]
        );
        assert!(f.splitter.partial.capacity() <= 17, "no unbounded growth");
    }

    #[test]
    fn line_at_the_limit_passes_with_crlf() {
        let mut f = LineFramer::default();
        let mut exact = vec![b'y'; 16];
        exact.extend_from_slice(b"\r\n");
        assert_eq!(
            lines(&mut f, &[&exact], 16),
            [format!("L:{}", "y".repeat(16))]
        );
        let over = vec![b'z'; 17];
        assert_eq!(lines(&mut f, &[&over, b"\n"], 16), ["E:TooLong"]);
    }

    #[test]
    fn invalid_utf8_is_one_error_and_the_stream_goes_on() {
        let mut f = LineFramer::default();
        assert_eq!(
            lines(&mut f, &[b"\xff\xfe junk\nh\xc3", b"\xa9llo\n"], 100),
            ["E:InvalidUtf8", "L:h\u{e9}llo"]
        );
    }

    #[test]
    fn unterminated_tail_is_a_line_at_eof() {
        let mut f = LineFramer::default();
        assert!(lines(&mut f, &[b"logout"], 100).is_empty());
        let mut got = None;
        f.finish(100, |fr| got = Some(format!("{fr:?}")));
        assert_eq!(got.as_deref(), Some("Line(\"logout\")"));
    }

    fn at_username(line: &str) -> Input<'_> {
        parse(Frame::Line(line), Expect::Username)
    }

    #[test]
    fn login_prompt_forms() {
        assert_eq!(at_username("yoda"), Input::Answer("yoda"));
        assert_eq!(at_username("  yoda  "), Input::Answer("yoda"));
        assert_eq!(
            at_username("login yoda wise"),
            Input::Login {
                user: "yoda",
                password: "wise"
            }
        );
        assert_eq!(
            at_username("register ann pw"),
            Input::Register {
                user: "ann",
                password: "pw"
            }
        );
        assert_eq!(at_username("login yoda"), Input::Invalid);
        assert_eq!(at_username("login"), Input::Invalid);
        assert_eq!(at_username("two words"), Input::Invalid);
        assert_eq!(at_username(""), Input::Empty);
        assert_eq!(at_username("EX"), Input::Exit);
        assert_eq!(at_username("help"), Input::Help);
        assert_eq!(at_username("whoelse"), Input::Answer("whoelse"));
    }

    #[test]
    fn a_password_is_the_whole_line_and_bad_frames_pass_through() {
        assert_eq!(
            parse(Frame::Line("message x y"), Expect::Password),
            Input::Answer("message x y")
        );
        assert_eq!(
            parse(Frame::Bad(LineError::TooLong), Expect::Command),
            Input::Bad(LineError::TooLong)
        );
        assert_eq!(
            parse(Frame::Line("whoelse"), Expect::Command),
            Input::WhoElse
        );
    }
}
