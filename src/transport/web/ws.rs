//! One WebSocket's state after the upgrade (RFC 6455), sans-IO: received bytes in, the
//! protocol's plaintext out, frames for the peer onto the caller's wire buffer. Payload bytes
//! are unmasked where they lie and handed on as they stream in, so nothing is buffered per
//! message: a socket holds only a cut header, a control frame's payload and a cut character.
//!
//! How messages become plaintext depends on the subprotocol ([`Delivery`]): the line protocol
//! sees a byte stream (a message may hold several lines, a line may span messages), IRC and
//! the events protocol see one line per message.

use super::frame::{self, code, Head, Opcode, Utf8};

/// How messages map to the protocol's plaintext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// `chatserver.line`: text messages' bytes as they are, a stream; each write is one text
    /// message (cut at a character boundary).
    Stream,
    /// `text.ircv3.net` (`binary`: `binary.ircv3.net`): one line per message. A received
    /// message gets a `\n` at its end; each written line is one message without its line end.
    Lines { binary: bool },
    /// `chatserver.events`: as `Lines`, and line breaks inside a received message (JSON
    /// whitespace where they are legal at all) become tabs, so one message is one object.
    Objects,
    /// The echo example's raw access: each received message comes out whole as a record
    /// (`T`/`B`, its length as 4 bytes big-endian, its bytes); each write is one record.
    Records,
}

/// Where the closing handshake stands (§7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    Open,
    /// We sent a close frame and wait for the peer's.
    Sent,
    /// The handshake is over (or the connection failed): nothing more is read.
    Done,
}

/// Why the peer's bytes end the connection: the close code sent, and the log's words.
#[derive(Debug)]
pub struct Failure {
    pub code: u16,
    pub why: &'static str,
}

fn fail(code: u16, why: &'static str) -> Result<Step, Failure> {
    Err(Failure { code, why })
}

/// What [`Socket::receive`] did with one buffer of input.
#[derive(Debug, PartialEq, Eq)]
pub struct Received {
    /// Plaintext for the protocol, in the buffer's first `len` bytes.
    pub len: usize,
    /// Input from here on was not taken (kept for the next call).
    pub stopped_at: usize,
    /// The peer closed (its close frame came, and ours is queued or was sent before).
    pub closed: bool,
    /// What goes after the plaintext once the input past `stopped_at` is kept elsewhere.
    pub tail: Tail,
}

/// The end of a message that did not fit where it ended (see [`Received::tail`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail {
    None,
    /// A line protocol's message ends here: a `\n`.
    Newline,
    /// A whole message as a [`Delivery::Records`] record, which waits in the socket
    /// ([`Socket::record`]) until the caller has taken all of it: no second buffer and no
    /// pointer for it in every connection (issue 19's idle memory).
    Record,
}

/// Control flow inside `receive`.
enum Step {
    Go,
    /// Stop here and hand out what is ready (the caller keeps the rest of the input).
    Stop,
}

/// The frame being received.
#[derive(Clone, Copy, Debug)]
struct Frame {
    opcode: Opcode,
    fin: bool,
    remaining: u64,
    mask: [u8; 4],
    /// Where in the mask the next payload byte is (0-3); a byte, to keep a socket small.
    phase: u8,
}

/// A WebSocket after its handshake.
#[derive(Debug)]
pub struct Socket {
    delivery: Delivery,
    /// Longest message accepted (`--max-line`, at most 4 GiB); one longer closes with 1009.
    /// 32 bits here and in `message`: 16 bytes less in every idle WebSocket (issue 19).
    max_message: u32,
    /// A frame header cut by the end of a read.
    head: [u8; 14],
    head_len: u8,
    frame: Option<Frame>,
    /// Inside a data message: whether it is text, and its bytes so far.
    message: Option<(bool, u32)>,
    utf8: Utf8,
    /// A message being collected for [`Delivery::Records`], then its whole record; behind
    /// the message, a control frame's payload so far (a control frame may come between a
    /// message's fragments, and nothing else is ever behind it: see [`Socket::control_start`]).
    /// One buffer, not two: 24 bytes less in every idle WebSocket (issue 19).
    held: Vec<u8>,
    /// The end of the message just received, for the caller to place (a record's bytes are
    /// in `held`).
    tail: Tail,
    pub closing: Closing,
    /// A frame came since the last look (a pong counts as life for `--heartbeat`).
    pub heard: bool,
    /// Our last write ended inside a message: the next one continues it (see `batch.rs`).
    pub sending: bool,
}

impl Socket {
    pub fn new(delivery: Delivery, max_message: usize) -> Socket {
        Socket {
            delivery,
            max_message: u32::try_from(max_message).unwrap_or(u32::MAX),
            head: [0; 14],
            head_len: 0,
            frame: None,
            message: None,
            utf8: Utf8::default(),
            held: Vec::new(),
            tail: Tail::None,
            closing: Closing::Open,
            heard: false,
            sending: false,
        }
    }

    /// Take `buf[..len]` (bytes from the peer), leaving plaintext in its front; control
    /// answers (pong, close) go onto `wire`. `Err`: the peer broke the protocol; a close frame
    /// with the code is on `wire` and the connection must end.
    pub fn receive(
        &mut self,
        buf: &mut [u8],
        len: usize,
        wire: &mut Vec<u8>,
    ) -> Result<Received, Failure> {
        let (mut i, mut o) = (0, 0);
        let mut closed = false;
        while i < len && self.closing != Closing::Done {
            let step = match self.frame {
                None => self.take_head(buf, &mut i, len, wire),
                Some(_) => self.take_payload(buf, &mut i, &mut o, len, wire),
            };
            match step {
                Ok(Step::Go) => {}
                Ok(Step::Stop) => break,
                Err(f) => {
                    self.closing = Closing::Done;
                    frame::put_close(wire, f.code);
                    return Err(f);
                }
            }
        }
        if self.closing == Closing::Done {
            closed = true;
            i = len;
        }
        Ok(Received {
            len: o,
            stopped_at: i,
            closed,
            tail: std::mem::replace(&mut self.tail, Tail::None),
        })
    }

    /// What is left of the record a [`Tail::Record`] announced.
    pub fn record(&self) -> &[u8] {
        &self.held
    }

    /// The caller placed the record's first `n` bytes; once all are placed the buffer goes
    /// (it collects the next message).
    pub fn take_record(&mut self, n: usize) {
        if n >= self.held.len() {
            self.held = Vec::new();
        } else {
            self.held.drain(..n);
        }
    }

    /// Where a control frame's payload starts in `held`: behind a [`Delivery::Records`]
    /// message's bytes so far (the record before it, if any, was taken before this frame was
    /// read: `receive` stops at a record's end).
    fn control_start(&self) -> usize {
        match (self.delivery, self.message) {
            (Delivery::Records, Some((_, n))) => (n as usize).min(self.held.len()),
            _ => 0,
        }
    }

    /// The control frame's payload is used: drop it from `held`.
    fn drop_control(&mut self) {
        let start = self.control_start();
        if start == 0 {
            self.held = Vec::new();
        } else {
            self.held.truncate(start);
        }
    }

    fn take_head(
        &mut self,
        buf: &mut [u8],
        i: &mut usize,
        len: usize,
        wire: &mut Vec<u8>,
    ) -> Result<Step, Failure> {
        let have = usize::from(self.head_len);
        let need = if have < 2 {
            2
        } else {
            Head::parse(self.head[0], self.head[1]).size()
        };
        let take = (need - have).min(len - *i);
        self.head[have..have + take].copy_from_slice(&buf[*i..*i + take]);
        *i += take;
        self.head_len = (have + take) as u8;
        if have + take < need {
            return Ok(Step::Go);
        }
        let head = Head::parse(self.head[0], self.head[1]);
        if need == 2 && head.size() > 2 {
            return Ok(Step::Go); // the extended length and mask follow
        }
        self.head_len = 0;
        self.heard = true;
        self.start_frame(head, wire)
    }

    /// A complete header: check it against §5 and what this connection accepts.
    fn start_frame(&mut self, head: Head, wire: &mut Vec<u8>) -> Result<Step, Failure> {
        let p = code::PROTOCOL_ERROR;
        if head.rsv != 0 {
            return fail(p, "reserved bits set with no extension negotiated");
        }
        let Some(opcode) = Opcode::from_bits(head.opcode) else {
            return fail(p, "unknown opcode");
        };
        if !head.masked {
            return fail(p, "unmasked client frame");
        }
        let Some((remaining, mask)) = head.finish(&self.head[..head.size()]) else {
            return fail(p, "frame length over 2^63");
        };
        if opcode.is_control() {
            if !head.fin || remaining > frame::MAX_CONTROL as u64 {
                return fail(p, "fragmented or long control frame");
            }
        } else {
            let text = match (opcode, self.message) {
                (Opcode::Continuation, Some((text, _))) => text,
                (Opcode::Continuation, None) => return fail(p, "continuation with no message"),
                (_, Some(_)) => return fail(p, "new message inside a fragmented one"),
                (Opcode::Text, None) => true,
                (_, None) => false,
            };
            let accepted = match self.delivery {
                Delivery::Lines { binary: true } | Delivery::Records => true,
                Delivery::Stream | Delivery::Lines { binary: false } | Delivery::Objects => text,
            };
            if !accepted {
                return fail(code::UNSUPPORTED, "binary message on a text subprotocol");
            }
            let so_far = self.message.map_or(0, |(_, n)| n);
            let total = u64::from(so_far).saturating_add(remaining);
            if total > u64::from(self.max_message) {
                return fail(code::TOO_BIG, "message over --max-line");
            }
            self.message = Some((text, so_far));
        }
        self.frame = Some(Frame {
            opcode,
            fin: head.fin,
            remaining,
            mask,
            phase: 0,
        });
        if remaining == 0 {
            return self.end_frame(wire, &mut [], &mut 0, 0);
        }
        Ok(Step::Go)
    }

    fn take_payload(
        &mut self,
        buf: &mut [u8],
        i: &mut usize,
        o: &mut usize,
        len: usize,
        wire: &mut Vec<u8>,
    ) -> Result<Step, Failure> {
        let Some(mut f) = self.frame else {
            return Ok(Step::Go);
        };
        let take = (f.remaining.min((len - *i) as u64)) as usize;
        let piece = *i..*i + take;
        f.phase = frame::unmask(&mut buf[piece.clone()], f.mask, usize::from(f.phase)) as u8;
        f.remaining -= take as u64;
        *i += take;
        if f.opcode.is_control() {
            self.held.extend_from_slice(&buf[piece]);
        } else {
            if let Some((true, _)) = self.message {
                if !self.utf8.feed(&buf[piece.clone()]) {
                    return fail(code::INVALID_DATA, "invalid UTF-8 in a text message");
                }
            }
            if let Some((_, n)) = self.message.as_mut() {
                // No overflow: `start_frame` checked the message's total against a u32.
                *n = n.saturating_add(u32::try_from(take).unwrap_or(u32::MAX));
            }
            match self.delivery {
                Delivery::Records => self.held.extend_from_slice(&buf[piece]),
                Delivery::Stream | Delivery::Lines { .. } | Delivery::Objects => {
                    if self.delivery == Delivery::Objects {
                        for b in &mut buf[piece.clone()] {
                            if matches!(*b, b'\n' | b'\r') {
                                *b = b'\t';
                            }
                        }
                    }
                    buf.copy_within(piece, *o);
                    *o += take;
                }
            }
        }
        self.frame = Some(f);
        if f.remaining > 0 {
            return Ok(Step::Go);
        }
        self.end_frame(wire, buf, o, *i)
    }

    /// The frame's payload is all in: act on a control frame, end a message on `fin`.
    /// `buf[*o..]` up to `i` is free for what ends a message.
    fn end_frame(
        &mut self,
        wire: &mut Vec<u8>,
        buf: &mut [u8],
        o: &mut usize,
        i: usize,
    ) -> Result<Step, Failure> {
        let Some(f) = self.frame.take() else {
            return Ok(Step::Go);
        };
        match f.opcode {
            Opcode::Ping => {
                frame::put_frame(wire, Opcode::Pong, &self.held[self.control_start()..]);
                self.drop_control();
                Ok(Step::Go)
            }
            Opcode::Pong => {
                self.drop_control();
                Ok(Step::Go)
            }
            Opcode::Close => self.peer_closed(wire),
            Opcode::Text | Opcode::Binary | Opcode::Continuation if !f.fin => Ok(Step::Go),
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                let Some((text, _)) = self.message.take() else {
                    return Ok(Step::Go);
                };
                if text && !self.utf8.finish() {
                    return fail(code::INVALID_DATA, "text message ends inside a character");
                }
                self.end_message(text, buf, o, i)
            }
        }
    }

    fn end_message(
        &mut self,
        text: bool,
        buf: &mut [u8],
        o: &mut usize,
        i: usize,
    ) -> Result<Step, Failure> {
        match self.delivery {
            Delivery::Stream => Ok(Step::Go),
            Delivery::Lines { .. } | Delivery::Objects => {
                // The frame's header freed room behind the payload, unless the header came in
                // an earlier read: then the caller adds the newline once it has kept the rest
                // of the input.
                if *o < i {
                    buf[*o] = b'\n';
                    *o += 1;
                    return Ok(Step::Go);
                }
                self.tail = Tail::Newline;
                Ok(Step::Stop)
            }
            Delivery::Records => {
                let message = std::mem::take(&mut self.held);
                let mut record = Vec::with_capacity(5 + message.len());
                record.push(if text { b'T' } else { b'B' });
                record.extend_from_slice(&(message.len() as u32).to_be_bytes());
                record.extend_from_slice(&message);
                self.held = record;
                self.tail = Tail::Record;
                Ok(Step::Stop)
            }
        }
    }

    /// The peer's close frame (§5.5.1): check its code and reason, answer with the same code
    /// unless we closed first.
    fn peer_closed(&mut self, wire: &mut Vec<u8>) -> Result<Step, Failure> {
        let start = self.control_start();
        let payload = self.held.split_off(start);
        self.drop_control();
        let code = match payload.len() {
            0 => None,
            1 => return fail(code::PROTOCOL_ERROR, "close frame of one byte"),
            _ => Some(u16::from_be_bytes([payload[0], payload[1]])),
        };
        if code.is_some_and(|c| !frame::valid_close_code(c)) {
            return fail(code::PROTOCOL_ERROR, "invalid close code");
        }
        if std::str::from_utf8(payload.get(2..).unwrap_or_default()).is_err() {
            return fail(code::INVALID_DATA, "close reason is not UTF-8");
        }
        if self.closing == Closing::Open {
            match code {
                Some(c) => frame::put_close(wire, c),
                None => frame::put_frame(wire, Opcode::Close, &[]),
            }
        }
        self.closing = Closing::Done;
        Ok(Step::Stop)
    }

    /// How this socket's messages map to the protocol's plaintext (for framing writes).
    pub fn delivery(&self) -> Delivery {
        self.delivery
    }

    /// Start the closing handshake with `code` (once).
    pub fn close(&mut self, code: u16, wire: &mut Vec<u8>) {
        if self.closing == Closing::Open {
            frame::put_close(wire, code);
            self.closing = Closing::Sent;
        }
    }

    /// Ask the peer for a sign of life (§5.5.2): browsers answer pings by themselves.
    pub fn ping(&mut self, wire: &mut Vec<u8>) {
        if self.closing == Closing::Open {
            frame::put_frame(wire, Opcode::Ping, b"");
        }
    }
}
