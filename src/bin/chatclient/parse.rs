//! Lines to meanings: the parsers for what the server sends and what the user types, and the
//! token checks. No I/O here.

/// A complete line from the server, as far as the client cares.
#[derive(Debug, PartialEq, Eq)]
pub enum ServerLine<'a> {
    Welcome,
    /// `You have logged out`: the confirmation of `logout`.
    LoggedOut,
    /// `You have been logged out due to inactivity`, `You have been kicked by the server` or
    /// `You have been logged out: <user> logged in from another connection`: the server ended
    /// this login on purpose, so it is not one to restore by reconnecting.
    Ended,
    /// `P2P <user> <ip> <port> <token> [key]`: connect to the peer and send the token; over
    /// TLS pinned to `key` (the fingerprint of the peer's key) if there is one.
    P2p {
        user: &'a str,
        addr: std::net::SocketAddr,
        token: &'a str,
        key: Option<&'a str>,
    },
    /// `P2P-ACCEPT <requester> <token>`: expect an incoming link from the requester.
    P2pAccept {
        user: &'a str,
        token: &'a str,
    },
    /// `Private messaging with <user> stopped`.
    Stopped(&'a str),
    /// `Error. No private session with <user>`.
    NoSession(&'a str),
    /// `<user> declined private messaging`, `Private session request to <user> expired` or
    /// `Error. No private session request from <user>`: a request to or from `<user>` will
    /// not be answered by a machine line.
    Unanswered(&'a str),
    Other,
}

pub const WELCOME: &str = "Welcome to the greatest messaging application ever!";
pub const USERNAME_PROMPT: &str = "Username: ";
pub const PASSWORD_PROMPT: &str = "Password: ";
/// The menu prompts (PROTOCOL.md §6: `BM`, `PM`, `private`): the whole next line answers them.
pub const MENU_PROMPTS: [&str; 4] = [
    "Message: ",
    "Recipient: ",
    "Who do you want to send message to? ",
    "Type message you want to send: ",
];

/// Tokens are 32 hex characters (128 bits).
pub fn valid_token(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Peer keys are SHA-256 fingerprints, 64 lowercase hex characters: the server's own check, so
/// the two cannot drift apart.
pub fn valid_key(key: &str) -> bool {
    chatserver::valid::PeerKey::new(key).is_ok()
}

/// Compares a received token with an expected one in time independent of where they differ.
pub fn token_eq(got: &[u8], expected: &str) -> bool {
    let expected = expected.as_bytes();
    got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

impl<'a> ServerLine<'a> {
    pub fn parse(line: &'a str) -> ServerLine<'a> {
        match line {
            WELCOME => return ServerLine::Welcome,
            "You have logged out" => return ServerLine::LoggedOut,
            "You have been logged out due to inactivity" | "You have been kicked by the server" => {
                return ServerLine::Ended
            }
            _ => {}
        }
        if line.starts_with("You have been logged out: ")
            && line.ends_with(" logged in from another connection")
        {
            return ServerLine::Ended;
        }
        if let Some(user) = line
            .strip_suffix(" declined private messaging")
            .or_else(|| {
                line.strip_prefix("Private session request to ")
                    .and_then(|rest| rest.strip_suffix(" expired"))
            })
            .or_else(|| line.strip_prefix("Error. No private session request from "))
        {
            return ServerLine::Unanswered(user);
        }
        if let Some(user) = line
            .strip_prefix("Private messaging with ")
            .and_then(|rest| rest.strip_suffix(" stopped"))
        {
            return ServerLine::Stopped(user);
        }
        if let Some(user) = line.strip_prefix("Error. No private session with ") {
            return ServerLine::NoSession(user);
        }
        let words: Vec<&str> = line.split(' ').collect();
        let (words, key) = match words.as_slice() {
            ["P2P", .., key] if words.len() == 6 && valid_key(key) => (&words[..5], Some(*key)),
            _ => (&words[..], None),
        };
        match words {
            ["P2P", user, ip, port, token] if valid_token(token) => {
                match (ip.parse(), port.parse()) {
                    (Ok(ip), Ok(port)) => ServerLine::P2p {
                        user,
                        addr: std::net::SocketAddr::new(ip, port),
                        token,
                        key,
                    },
                    _ => ServerLine::Other,
                }
            }
            ["P2P-ACCEPT", user, token] if valid_token(token) => {
                ServerLine::P2pAccept { user, token }
            }
            _ => ServerLine::Other,
        }
    }
}

/// A line the user typed, as far as the client cares; everything else goes to the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// `private <user> <text>`: over the peer link when one is up.
    Private {
        user: &'a str,
        text: &'a str,
    },
    /// `stopprivate <user>`.
    StopPrivate(&'a str),
    /// `startprivate <user>`: a `P2P <user> …` line may answer it.
    StartPrivate(&'a str),
    /// `y <user>` (or `Y`): a `P2P-ACCEPT <user> …` line may answer it.
    Accept(&'a str),
    /// `exit` (also `quit`, `EX`): leave like at end of input.
    Exit,
    Other,
}

/// Splits off the first space-separated word; the rest starts after the run of spaces.
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches(' ');
    match s.find(' ') {
        Some(i) => (&s[..i], s[i..].trim_start_matches(' ')),
        None => (s, ""),
    }
}

impl<'a> Input<'a> {
    pub fn parse(line: &'a str) -> Input<'a> {
        let (command, rest) = word(line);
        match command {
            "private" => {
                let (user, text) = word(rest);
                if user.is_empty() || text.is_empty() {
                    Input::Other
                } else {
                    Input::Private { user, text }
                }
            }
            "stopprivate" | "startprivate" | "y" | "Y" => match word(rest) {
                (user, "") if !user.is_empty() => match command {
                    "stopprivate" => Input::StopPrivate(user),
                    "startprivate" => Input::StartPrivate(user),
                    _ => Input::Accept(user),
                },
                _ => Input::Other,
            },
            "exit" | "quit" | "EX" if rest.trim_end_matches(' ').is_empty() => Input::Exit,
            _ => Input::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_lines_parse() {
        let t = "0123456789abcdef0123456789ABCDEF";
        assert_eq!(ServerLine::parse(WELCOME), ServerLine::Welcome);
        assert_eq!(
            ServerLine::parse(&format!("P2P bob 127.0.0.1 4001 {t}")),
            ServerLine::P2p {
                user: "bob",
                addr: "127.0.0.1:4001".parse().unwrap(),
                token: t,
                key: None
            }
        );
        let k = "0123456789abcdef".repeat(4);
        assert_eq!(
            ServerLine::parse(&format!("P2P bob 127.0.0.1 4001 {t} {k}")),
            ServerLine::P2p {
                user: "bob",
                addr: "127.0.0.1:4001".parse().unwrap(),
                token: t,
                key: Some(&k)
            }
        );
        for bad_key in [&k[1..], &k.to_uppercase(), "x"] {
            assert_eq!(
                ServerLine::parse(&format!("P2P bob 127.0.0.1 4001 {t} {bad_key}")),
                ServerLine::Other
            );
        }
        assert_eq!(
            ServerLine::parse(&format!("P2P-ACCEPT alice {t}")),
            ServerLine::P2pAccept {
                user: "alice",
                token: t
            }
        );
        assert_eq!(
            ServerLine::parse("P2P bob 127.0.0.1 99999 0123"),
            ServerLine::Other
        );
        assert_eq!(
            ServerLine::parse("Private messaging with bob stopped"),
            ServerLine::Stopped("bob")
        );
        assert_eq!(
            ServerLine::parse("Error. No private session with bob"),
            ServerLine::NoSession("bob")
        );
        assert_eq!(
            ServerLine::parse("You have logged out"),
            ServerLine::LoggedOut
        );
        assert_eq!(ServerLine::parse("bob: P2P rocks"), ServerLine::Other);
        for ended in [
            "You have been logged out due to inactivity",
            "You have been kicked by the server",
            "You have been logged out: bob logged in from another connection",
        ] {
            assert_eq!(ServerLine::parse(ended), ServerLine::Ended, "{ended}");
        }
        for unanswered in [
            "bob declined private messaging",
            "Private session request to bob expired",
            "Error. No private session request from bob",
        ] {
            assert_eq!(
                ServerLine::parse(unanswered),
                ServerLine::Unanswered("bob"),
                "{unanswered}"
            );
        }
    }

    #[test]
    fn typed_lines_parse() {
        assert_eq!(
            Input::parse("  private   bob  hi  there "),
            Input::Private {
                user: "bob",
                text: "hi  there "
            }
        );
        assert_eq!(Input::parse("private bob"), Input::Other);
        assert_eq!(Input::parse("private"), Input::Other);
        assert_eq!(Input::parse("stopprivate bob  "), Input::StopPrivate("bob"));
        assert_eq!(Input::parse("stopprivate bob x"), Input::Other);
        assert_eq!(
            Input::parse(" startprivate  bob "),
            Input::StartPrivate("bob")
        );
        assert_eq!(Input::parse("y bob"), Input::Accept("bob"));
        assert_eq!(Input::parse("Y bob"), Input::Accept("bob"));
        assert_eq!(Input::parse("y"), Input::Other);
        assert_eq!(Input::parse("startprivate bob now"), Input::Other);
        assert_eq!(Input::parse("exit"), Input::Exit);
        assert_eq!(Input::parse("message bob hi"), Input::Other);
    }

    #[test]
    fn tokens_compare_whole() {
        let t = "0123456789abcdef0123456789abcdef";
        assert!(token_eq(t.as_bytes(), t));
        assert!(!token_eq(b"0123456789abcdef0123456789abcdee", t));
        assert!(!token_eq(b"0123", t));
        assert!(valid_token(t));
        assert!(!valid_token("xyz"));
    }
}
