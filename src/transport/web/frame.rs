//! RFC 6455 framing, the parts both directions share: frame headers (§5.2), masking (§5.3),
//! close codes (§7.4) and UTF-8 checked as it streams in (§8.1), so a text message split over
//! frames and reads is refused at its first bad byte rather than at its end.

/// Frame opcodes (§5.2); any other value is a protocol error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    pub fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0 => Opcode::Continuation,
            1 => Opcode::Text,
            2 => Opcode::Binary,
            8 => Opcode::Close,
            9 => Opcode::Ping,
            10 => Opcode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0,
            Opcode::Text => 1,
            Opcode::Binary => 2,
            Opcode::Close => 8,
            Opcode::Ping => 9,
            Opcode::Pong => 10,
        }
    }

    pub fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// Close codes the server sends (§7.4.1).
pub mod code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const UNSUPPORTED: u16 = 1003;
    pub const INVALID_DATA: u16 = 1007;
    pub const TOO_BIG: u16 = 1009;
}

/// A close code a peer may send (§7.4.1-2): the defined ones it may put on the wire, and
/// the ranges for libraries (3000-3999) and applications (4000-4999).
pub fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Payloads of control frames are at most this long (§5.5).
pub const MAX_CONTROL: usize = 125;

/// A frame's fixed part as received: what the first two bytes say and how long the whole
/// header is (2 + extended length + 4 mask bytes when masked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub fin: bool,
    /// RSV1-3: no extension is negotiated, so any set bit is a protocol error.
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    /// The 7-bit length field.
    len7: u8,
}

impl Head {
    pub fn parse(b0: u8, b1: u8) -> Head {
        Head {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0x7,
            opcode: b0 & 0x0f,
            masked: b1 & 0x80 != 0,
            len7: b1 & 0x7f,
        }
    }

    /// Bytes of the whole header, these two included.
    pub fn size(&self) -> usize {
        let ext = match self.len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        2 + ext + if self.masked { 4 } else { 0 }
    }

    /// The payload length and the mask from the complete header `h` (`h.len() == self.len()`).
    /// `None`: a 64-bit length with its top bit set, which §5.2 forbids.
    pub fn finish(&self, h: &[u8]) -> Option<(u64, [u8; 4])> {
        let (len, at) = match self.len7 {
            126 => (u64::from(u16::from_be_bytes([h[2], h[3]])), 4),
            127 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&h[2..10]);
                (u64::from_be_bytes(b), 10)
            }
            n => (u64::from(n), 2),
        };
        if len >> 63 != 0 {
            return None;
        }
        let mut mask = [0u8; 4];
        if self.masked {
            mask.copy_from_slice(&h[at..at + 4]);
        }
        Some((len, mask))
    }
}

/// XOR `data` with `mask`, starting `phase` bytes into it; returns the phase after.
pub fn unmask(data: &mut [u8], mask: [u8; 4], phase: usize) -> usize {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= mask[(phase + i) & 3];
    }
    (phase + data.len()) & 3
}

/// Bytes of a server frame header at most: 2, then a 64-bit length (no mask).
pub const MAX_HEAD: usize = 10;

/// Bytes of the server frame header for a payload of `len` bytes (what [`head`] makes).
pub fn head_size(len: usize) -> usize {
    if len < 126 {
        2
    } else if len <= usize::from(u16::MAX) {
        4
    } else {
        MAX_HEAD
    }
}

/// An unmasked (server) frame header for a final frame of `opcode` carrying `len` payload
/// bytes, in the first `.1` bytes of `.0`.
pub fn head(opcode: Opcode, len: usize) -> ([u8; MAX_HEAD], usize) {
    fragment_head(opcode, len, true)
}

/// [`head`] for a frame of a fragmented message (§5.4): `fin` false, a later frame
/// (`Continuation`) carries more of it.
pub fn fragment_head(opcode: Opcode, len: usize, fin: bool) -> ([u8; MAX_HEAD], usize) {
    let mut h = [0u8; MAX_HEAD];
    h[0] = if fin { 0x80 } else { 0 } | opcode.bits();
    let size = if len < 126 {
        h[1] = len as u8;
        2
    } else if let Ok(short) = u16::try_from(len) {
        h[1] = 126;
        h[2..4].copy_from_slice(&short.to_be_bytes());
        4
    } else {
        h[1] = 127;
        h[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    (h, size)
}

/// Append [`head`] to `out`.
pub fn put_head(out: &mut Vec<u8>, opcode: Opcode, len: usize) {
    let (h, size) = head(opcode, len);
    out.extend_from_slice(&h[..size]);
}

/// Append a whole final frame.
pub fn put_frame(out: &mut Vec<u8>, opcode: Opcode, payload: &[u8]) {
    put_head(out, opcode, payload.len());
    out.extend_from_slice(payload);
}

/// Append a close frame with `code` (and no reason).
pub fn put_close(out: &mut Vec<u8>, code: u16) {
    put_frame(out, Opcode::Close, &code.to_be_bytes());
}

/// UTF-8 checked as it streams in: holds the start of a character cut by a frame or read
/// boundary (at most 3 bytes) and says no at the first byte that cannot be UTF-8.
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8 {
    held: [u8; 4],
    len: u8,
}

/// Whether `bytes` can begin a UTF-8 character (an incomplete but so far valid sequence).
fn valid_prefix(bytes: &[u8]) -> bool {
    matches!(std::str::from_utf8(bytes), Err(e) if e.valid_up_to() == 0 && e.error_len().is_none())
}

/// Bytes of the UTF-8 character `lead` starts (lead bytes only).
fn width(lead: u8) -> usize {
    match lead {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        _ => 2,
    }
}

impl Utf8 {
    /// Take the next bytes of the message; false as soon as they cannot be UTF-8.
    pub fn feed(&mut self, mut data: &[u8]) -> bool {
        if self.len > 0 {
            let have = usize::from(self.len);
            let want = width(self.held[0]);
            let take = (want - have).min(data.len());
            self.held[have..have + take].copy_from_slice(&data[..take]);
            let have = have + take;
            data = &data[take..];
            if have < want {
                self.len = have as u8;
                return valid_prefix(&self.held[..have]);
            }
            if std::str::from_utf8(&self.held[..want]).is_err() {
                return false;
            }
            self.len = 0;
        }
        match std::str::from_utf8(data) {
            Ok(_) => true,
            Err(e) if e.error_len().is_none() => {
                let rest = &data[e.valid_up_to()..];
                self.held[..rest.len()].copy_from_slice(rest);
                self.len = rest.len() as u8;
                valid_prefix(rest)
            }
            Err(_) => false,
        }
    }

    /// The message ended: true unless a character was left unfinished.
    pub fn finish(&mut self) -> bool {
        std::mem::take(&mut self.len) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_at_each_length_form() {
        for len in [0usize, 125, 126, 65_535, 65_536, 1 << 20] {
            let mut out = Vec::new();
            put_head(&mut out, Opcode::Binary, len);
            let head = Head::parse(out[0], out[1]);
            assert_eq!(head.size(), out.len(), "{len}");
            assert_eq!(head_size(len), out.len(), "{len}");
            assert!(head.fin && !head.masked && head.rsv == 0);
            assert_eq!(head.finish(&out), Some((len as u64, [0; 4])));
        }
        let huge = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(Head::parse(huge[0], huge[1]).finish(&huge), None);
    }

    #[test]
    fn unmasking_carries_its_phase_across_pieces() {
        let mask = [1, 2, 3, 4];
        let mut whole = *b"hello, world";
        unmask(&mut whole, mask, 0);
        let mut pieces = whole;
        let phase = unmask(&mut pieces[..5], mask, 0);
        unmask(&mut pieces[5..], mask, phase);
        assert_eq!(&pieces, b"hello, world");
    }

    /// Split anywhere, valid text passes and the first impossible byte fails at once (the
    /// Autobahn 6.x cases): 0xF4 0x90 can start no character.
    #[test]
    fn utf8_is_checked_across_any_split() {
        let text = "κόσμε 𝄞 ok".as_bytes();
        for cut in 0..=text.len() {
            let mut v = Utf8::default();
            assert!(
                v.feed(&text[..cut]) && v.feed(&text[cut..]) && v.finish(),
                "{cut}"
            );
        }
        let mut v = Utf8::default();
        assert!(v.feed(b"ab\xf4"));
        assert!(!v.feed(b"\x90"));
        let mut v = Utf8::default();
        assert!(v.feed(b"\xe2\x82"));
        assert!(!v.finish(), "an unfinished character at the end");
        assert!(!Utf8::default().feed(b"\xc0\xaf"), "an overlong form");
        assert!(!Utf8::default().feed(b"\xed\xa0\x80"), "a surrogate");
        assert!(valid_close_code(1000) && valid_close_code(4999));
        assert!(!valid_close_code(1005) && !valid_close_code(1016) && !valid_close_code(2999));
    }
}
