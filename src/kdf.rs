//! PBKDF2-HMAC-SHA256 (RFC 8018) on the `sha2` the server already has, for password hashes
//! (issue 21): slow by design, so it runs in bounded steps. [`Pbkdf2`] is one derivation that
//! advances `rounds` iterations per [`Pbkdf2::step`]; the event loop gives it a bounded number
//! per loop iteration and no iteration ever waits for a whole hash.
//!
//! Only what the server needs: a 32-byte key (one PBKDF2 block). HMAC keeps the hash states
//! after the padded key blocks, so each iteration costs two SHA-256 compressions.

use sha2::{Digest, Sha256};

const BLOCK: usize = 64;

/// HMAC-SHA256 with a fixed key (RFC 2104): the inner and outer states after the key blocks.
#[derive(Clone)]
pub struct Hmac {
    inner: Sha256,
    outer: Sha256,
}

impl Hmac {
    pub fn new(key: &[u8]) -> Hmac {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let pad = |byte: u8| {
            let mut padded = block;
            padded.iter_mut().for_each(|b| *b ^= byte);
            Sha256::new().chain_update(padded)
        };
        Hmac {
            inner: pad(0x36),
            outer: pad(0x5c),
        }
    }

    /// HMAC(key, parts concatenated).
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut inner = self.inner.clone();
        for p in parts {
            inner.update(p);
        }
        let mut outer = self.outer.clone();
        outer.update(inner.finalize());
        outer.finalize().into()
    }
}

impl std::fmt::Debug for Hmac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, not even derived states.
        f.write_str("Hmac")
    }
}

/// One PBKDF2-HMAC-SHA256 derivation of a 32-byte key, in steps.
#[derive(Debug)]
pub struct Pbkdf2 {
    hmac: Hmac,
    /// U_i of the last iteration done.
    u: [u8; 32],
    /// U_1 ^ … ^ U_i so far.
    t: [u8; 32],
    left: u32,
}

impl Pbkdf2 {
    /// Start deriving from `password` and `salt` with `iterations` (at least 1) rounds; the
    /// first round is done here.
    pub fn new(password: &[u8], salt: &[u8], iterations: u32) -> Pbkdf2 {
        let hmac = Hmac::new(password);
        let u = hmac.mac(&[salt, &1u32.to_be_bytes()]);
        Pbkdf2 {
            hmac,
            u,
            t: u,
            left: iterations.saturating_sub(1),
        }
    }

    /// Rounds still to do.
    pub fn left(&self) -> u32 {
        self.left
    }

    /// Do at most `rounds` more; the key once every round is done.
    pub fn step(&mut self, rounds: u32) -> Option<[u8; 32]> {
        let n = rounds.min(self.left);
        for _ in 0..n {
            self.u = self.hmac.mac(&[&self.u]);
            self.t.iter_mut().zip(self.u).for_each(|(t, u)| *t ^= u);
        }
        self.left -= n;
        (self.left == 0).then_some(self.t)
    }

    /// The whole derivation at once: for tools and tests, never the event loop.
    pub fn derive(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
        let mut p = Pbkdf2::new(password, salt, iterations);
        loop {
            if let Some(key) = p.step(u32::MAX) {
                return key;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).expect("hex");
        out
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block is hashed first).
    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        let cases: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, data, want) in cases {
            assert_eq!(Hmac::new(key).mac(&[data]), hex32(want));
        }
    }

    /// The published PBKDF2-HMAC-SHA256 vectors (the RFC 6070 inputs with SHA-256, as in
    /// RFC 7914 §11's companion lists): "password"/"salt" at 1, 2 and 4096 iterations.
    #[test]
    fn pbkdf2_sha256_matches_published_vectors() {
        for (iterations, want) in [
            (
                1,
                "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b",
            ),
            (
                2,
                "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43",
            ),
            (
                4096,
                "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a",
            ),
        ] {
            assert_eq!(
                Pbkdf2::derive(b"password", b"salt", iterations),
                hex32(want)
            );
        }
        // RFC 7914 §11: P = "passwd", S = "salt", c = 1 (its first 32 of 64 bytes).
        assert_eq!(
            Pbkdf2::derive(b"passwd", b"salt", 1),
            hex32("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
        );
    }

    /// Steps of any size give the same key as one go.
    #[test]
    fn steps_add_up() {
        let whole = Pbkdf2::derive(b"pw", b"0123456789abcdef", 1000);
        let mut p = Pbkdf2::new(b"pw", b"0123456789abcdef", 1000);
        let mut steps = 0;
        let key = loop {
            steps += 1;
            if let Some(k) = p.step(7) {
                break k;
            }
        };
        assert_eq!(key, whole);
        assert_eq!(steps, 143, "999 rounds after the first, 7 a step");
        assert_eq!(p.step(5), Some(whole), "done stays done");
    }
}
