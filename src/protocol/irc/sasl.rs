//! SASL over IRC's `AUTHENTICATE` (issue 22, IRCv3 sasl-3.1): the PLAIN mechanism, its
//! payload in base64 chunks of 400 bytes (a chunk of exactly 400, or `+`, says more follows),
//! and the checks RFC 4616 asks for. The password check itself is the core's
//! (`Input::Authenticate`), with the login's lockout and rate limits. Pure: no I/O.

/// The mechanisms offered (`CAP LS 302`'s `sasl=` value, `908`).
pub const MECHANISMS: &str = "PLAIN";

/// The longest payload taken, in base64 bytes: a 1024-byte password with two names, and room.
const PAYLOAD_MAX: usize = 2800;

/// Where an `AUTHENTICATE` exchange is.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Sasl {
    /// No exchange under way.
    #[default]
    Idle,
    /// `AUTHENTICATE PLAIN` was answered `+`; the payload's chunks so far.
    Plain(String),
    /// The payload went to the core; its verdict is on its way.
    Checking,
    /// An account was proved; another exchange is refused (`907`).
    Done,
}

/// What one `AUTHENTICATE <param>` leads to.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Answer `AUTHENTICATE +`: the client sends the payload next.
    Continue,
    /// More chunks follow; say nothing.
    More,
    /// The payload is whole: check these credentials.
    Check { user: String, password: String },
    /// `904`: a malformed payload, one longer than [`PAYLOAD_MAX`] in all, or an unknown
    /// mechanism (`mechs`: also `908`).
    Fail { mechs: bool },
    /// `905`: one chunk longer than 400 bytes (sasl-3.1's `ERR_SASLTOOLONG`).
    TooLong,
    /// `906`: the client aborted (`*`).
    Aborted,
    /// `907`: already authenticated.
    Already,
}

impl Sasl {
    /// Feed one `AUTHENTICATE` parameter.
    pub fn step(&mut self, param: &str) -> Step {
        match std::mem::take(self) {
            Sasl::Done => {
                *self = Sasl::Done;
                Step::Already
            }
            Sasl::Idle | Sasl::Checking if param == "*" => Step::Aborted,
            Sasl::Idle | Sasl::Checking => {
                if param.eq_ignore_ascii_case("PLAIN") {
                    *self = Sasl::Plain(String::new());
                    Step::Continue
                } else {
                    Step::Fail { mechs: true }
                }
            }
            Sasl::Plain(_) if param == "*" => Step::Aborted,
            Sasl::Plain(_) if param.len() > 400 => Step::TooLong,
            Sasl::Plain(mut payload) => {
                if param != "+" {
                    payload.push_str(param);
                }
                // Endless chunks of 400 are a failed authentication, not a long message
                // (irctest's testPlainInfiniteMessages); the exchange is over either way.
                if payload.len() > PAYLOAD_MAX {
                    return Step::Fail { mechs: false };
                }
                if param.len() == 400 {
                    *self = Sasl::Plain(payload);
                    return Step::More;
                }
                match plain(&payload) {
                    Some((user, password)) => {
                        *self = Sasl::Checking;
                        Step::Check { user, password }
                    }
                    None => Step::Fail { mechs: false },
                }
            }
        }
    }

    /// An exchange is under way (registration ending now aborts it, `906`).
    pub fn in_progress(&self) -> bool {
        matches!(self, Sasl::Plain(_))
    }
}

/// PLAIN's `[authzid] NUL authcid NUL passwd`, base64: the account and the password, when the
/// authzid is empty or the authcid itself (no impersonation), and neither part is empty.
fn plain(b64: &str) -> Option<(String, String)> {
    let raw = base64_decode(b64)?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.split('\0');
    let (authzid, authcid, password) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || authcid.is_empty() || password.is_empty() {
        return None;
    }
    if !authzid.is_empty() && authzid != authcid {
        return None;
    }
    Some((authcid.to_string(), password.to_string()))
}

/// Standard base64 (RFC 4648, with padding) to bytes; `None` for anything malformed.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (i, quad) in b.chunks(4).enumerate() {
        let last = i == b.len() / 4 - 1;
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        for (enc, dec) in [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ] {
            assert_eq!(base64_decode(enc).as_deref(), Some(dec.as_bytes()), "{enc}");
        }
        for bad in ["Zg=", "Z===", "Zg==Zg==", "!!!!", "Zm9"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn plain_takes_the_authcid_and_refuses_impersonation_and_empties() {
        let mut s = Sasl::default();
        assert_eq!(s.step("PLAIN"), Step::Continue);
        // "jilles\0jilles\0sesame"
        assert_eq!(
            s.step("amlsbGVzAGppbGxlcwBzZXNhbWU="),
            Step::Check {
                user: "jilles".into(),
                password: "sesame".into()
            }
        );
        for bad in [
            "b3RoZXIAamlsbGVzAHNlc2FtZQ==", // other\0jilles\0sesame
            "AABzZXNhbWU=",                 // \0\0sesame
            "AGppbGxlcwA=",                 // \0jilles\0
            "AGppbGxlcwBzZXNhAG1l",         // \0jilles\0sesa\0me
            "!!!",
        ] {
            let mut s = Sasl::Plain(String::new());
            assert_eq!(s.step(bad), Step::Fail { mechs: false }, "{bad}");
        }
    }

    #[test]
    fn chunks_of_400_wait_for_more_and_the_payload_is_bounded() {
        let mut s = Sasl::Plain(String::new());
        assert_eq!(s.step(&"A".repeat(400)), Step::More);
        assert!(s.in_progress());
        let mut s = Sasl::Plain(String::new());
        let mut last = Step::More;
        for _ in 0..20 {
            last = s.step(&"A".repeat(400));
            if last != Step::More {
                break;
            }
        }
        assert_eq!(last, Step::Fail { mechs: false });
        assert_eq!(s, Sasl::Idle);
        let mut s = Sasl::Plain(String::new());
        assert_eq!(s.step(&"A".repeat(401)), Step::TooLong);
        let mut s = Sasl::default();
        assert_eq!(s.step("FOO"), Step::Fail { mechs: true });
        assert_eq!(s.step("*"), Step::Aborted);
        let mut s = Sasl::Done;
        assert_eq!(s.step("PLAIN"), Step::Already);
    }
}
