//! A small seeded generator of arbitrary records for property tests (no dependency): every field
//! type draws its values here, so a new record kind is covered by `Record::one_of_each` as soon
//! as it is declared. Strings lean towards what broke or could break a line format: spaces at
//! either end, newlines, CR, tabs, NUL and other controls, `\`, `\N`, `$`, `#`, `,`, `-`, and
//! non-ASCII text; an empty string is drawn often.

use super::{Access, Audience, Kind, RoomSetting};
use crate::credentials::Secret;
use std::sync::Arc;

/// xorshift64*: reproducible from its seed, which every failing assertion should print.
#[derive(Debug)]
pub(crate) struct Gen(u64);

impl Gen {
    pub(crate) fn new(seed: u64) -> Gen {
        Gen(seed.max(1))
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (near enough for tests).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Characters that mean something to some line format, a shell, or a terminal.
const AWKWARD: &[char] = &[
    ' ', ' ', '\n', '\r', '\t', '\0', '\\', 'N', 'x', '$', '#', ',', '-', ':', '*', '!', '@',
    '\x07', '\x1b', '\x7f', '\u{85}', '\u{a0}', '\u{2028}', '\u{202e}', '\u{feff}', 'é', '✓', '😀',
];

pub(crate) trait Arbitrary {
    fn arbitrary(g: &mut Gen) -> Self;
}

impl Arbitrary for String {
    fn arbitrary(g: &mut Gen) -> String {
        if g.below(5) == 0 {
            return String::new();
        }
        let len = g.below(12) + 1;
        (0..len)
            .map(|_| match g.below(4) {
                0 | 1 => AWKWARD[g.below(AWKWARD.len() as u64) as usize],
                2 => char::from(b'a' + g.below(26) as u8),
                // Any scalar value at all.
                _ => char::from_u32(g.below(0x11_0000) as u32).unwrap_or('\u{fffd}'),
            })
            .collect()
    }
}

impl Arbitrary for Arc<str> {
    fn arbitrary(g: &mut Gen) -> Arc<str> {
        Arc::from(String::arbitrary(g))
    }
}

impl Arbitrary for u64 {
    fn arbitrary(g: &mut Gen) -> u64 {
        match g.below(3) {
            0 => g.below(10),
            1 => u64::MAX - g.below(2),
            _ => g.next(),
        }
    }
}

impl Arbitrary for u32 {
    fn arbitrary(g: &mut Gen) -> u32 {
        u64::arbitrary(g) as u32
    }
}

impl Arbitrary for bool {
    fn arbitrary(g: &mut Gen) -> bool {
        g.below(2) == 0
    }
}

impl<T: Arbitrary> Arbitrary for Option<T> {
    fn arbitrary(g: &mut Gen) -> Option<T> {
        (g.below(2) == 0).then(|| T::arbitrary(g))
    }
}

impl<T: Arbitrary> Arbitrary for Vec<T> {
    fn arbitrary(g: &mut Gen) -> Vec<T> {
        (0..g.below(4)).map(|_| T::arbitrary(g)).collect()
    }
}

impl Arbitrary for Access {
    fn arbitrary(g: &mut Gen) -> Access {
        [Access::None, Access::Banned, Access::Permitted][g.below(3) as usize]
    }
}

impl Arbitrary for Audience {
    fn arbitrary(g: &mut Gen) -> Audience {
        match g.below(4) {
            0 => Audience::Everyone,
            1 => Audience::Announcement,
            2 => Audience::Room(Arc::from(String::arbitrary(g))),
            _ => Audience::User(Arc::from(String::arbitrary(g))),
        }
    }
}

impl Arbitrary for Kind {
    fn arbitrary(g: &mut Gen) -> Kind {
        [
            Kind::Say,
            Kind::Notice,
            Kind::Action,
            Kind::Ctcp,
            Kind::CtcpReply,
            Kind::Tags,
        ][g.below(6) as usize]
    }
}

impl Arbitrary for RoomSetting {
    fn arbitrary(g: &mut Gen) -> RoomSetting {
        let name = |g: &mut Gen| String::arbitrary(g);
        match g.below(10) {
            8 => RoomSetting::Limit(Option::arbitrary(g)),
            9 => RoomSetting::Moderated(bool::arbitrary(g)),
            0 => RoomSetting::Origin {
                created_s: u64::arbitrary(g),
                guest: bool::arbitrary(g),
            },
            1 => RoomSetting::Secret(bool::arbitrary(g)),
            2 => RoomSetting::TopicLock(bool::arbitrary(g)),
            3 => RoomSetting::NoOutside(bool::arbitrary(g)),
            4 => RoomSetting::Key(Option::arbitrary(g)),
            5 => RoomSetting::Op {
                user: name(g),
                on: bool::arbitrary(g),
            },
            6 => RoomSetting::Voice {
                user: name(g),
                on: bool::arbitrary(g),
            },
            _ => RoomSetting::Mask {
                mask: name(g),
                on: bool::arbitrary(g),
            },
        }
    }
}

impl Arbitrary for Secret {
    fn arbitrary(g: &mut Gen) -> Secret {
        if g.below(2) == 0 {
            return Secret::Plain(String::arbitrary(g));
        }
        let mut salt = [0u8; 16];
        salt.iter_mut().for_each(|b| *b = g.next() as u8);
        if g.below(2) == 0 {
            let mut key = [0u8; 32];
            key.iter_mut().for_each(|b| *b = g.next() as u8);
            let iterations = 1 + g.below(100_000) as u32;
            return Secret::Pbkdf2 {
                iterations,
                salt,
                key,
            };
        }
        Secret::hashed(&String::arbitrary(g), salt)
    }
}
