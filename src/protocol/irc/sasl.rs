//! SASL over IRC's `AUTHENTICATE` (issue 22, IRCv3 sasl-3.1): the PLAIN and SCRAM-SHA-256
//! mechanisms, their messages in base64 chunks of 400 bytes (a chunk of exactly 400, or `+`,
//! says more follows), and the checks RFC 4616 asks of PLAIN. The password check itself is the
//! core's (`Input::Authenticate`; SCRAM's messages go to the core whole, `Input::Scram`), with
//! the login's lockout and rate limits. Pure: no I/O.

/// The mechanisms offered (`CAP LS 302`'s `sasl=` value, `908`).
pub const MECHANISMS: &str = "PLAIN,SCRAM-SHA-256";

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
    /// `AUTHENTICATE SCRAM-SHA-256` was answered `+`: the chunks of the client's next
    /// message so far; `first`: it is the client's first message of the exchange.
    Scram { chunks: String, first: bool },
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
    /// A whole SCRAM message for the core.
    Scram { first: bool, message: String },
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
                } else if param.eq_ignore_ascii_case(crate::scram::MECHANISM) {
                    *self = Sasl::Scram {
                        chunks: String::new(),
                        first: true,
                    };
                    Step::Continue
                } else {
                    Step::Fail { mechs: true }
                }
            }
            Sasl::Scram { .. } if param == "*" => Step::Aborted,
            Sasl::Scram { .. } if param.len() > 400 => Step::TooLong,
            Sasl::Scram { mut chunks, first } => {
                if param != "+" {
                    chunks.push_str(param);
                }
                if chunks.len() > PAYLOAD_MAX {
                    return Step::Fail { mechs: false };
                }
                if param.len() == 400 {
                    *self = Sasl::Scram { chunks, first };
                    return Step::More;
                }
                let message =
                    crate::base64::decode(&chunks).and_then(|b| String::from_utf8(b).ok());
                match message {
                    Some(message) => {
                        // The exchange goes on until the core ends it (a verdict).
                        *self = Sasl::Scram {
                            chunks: String::new(),
                            first: false,
                        };
                        Step::Scram { first, message }
                    }
                    None => Step::Fail { mechs: false },
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
        matches!(self, Sasl::Plain(_) | Sasl::Scram { .. })
    }
}

/// PLAIN's `[authzid] NUL authcid NUL passwd`, base64: the account and the password, when the
/// authzid is empty or the authcid itself (no impersonation), and neither part is empty.
fn plain(b64: &str) -> Option<(String, String)> {
    let raw = crate::base64::decode(b64)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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

    /// SCRAM's messages go to the core whole, the first marked; the exchange stays open for
    /// the next message until the core's verdict; `+` alone is the empty final answer.
    #[test]
    fn scram_messages_go_whole_to_the_core() {
        let mut s = Sasl::default();
        assert_eq!(s.step("scram-sha-256"), Step::Continue);
        assert!(s.in_progress());
        // "n,,n=zed,r=abc"
        assert_eq!(
            s.step("biwsbj16ZWQscj1hYmM="),
            Step::Scram {
                first: true,
                message: "n,,n=zed,r=abc".into()
            }
        );
        // A message of 400 base64 bytes waits for its `+`.
        let long = "A".repeat(400);
        assert_eq!(s.step(&long), Step::More);
        assert_eq!(
            s.step("+"),
            Step::Scram {
                first: false,
                message: "\0".repeat(300)
            }
        );
        assert_eq!(
            s.step("+"),
            Step::Scram {
                first: false,
                message: String::new()
            }
        );
        assert_eq!(s.step("!!!!"), Step::Fail { mechs: false });
        let mut s = Sasl::default();
        s.step("SCRAM-SHA-256");
        assert_eq!(s.step("*"), Step::Aborted);
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
