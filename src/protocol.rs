//! Lines to commands and the exact reply texts of PROTOCOL.md. No state, no I/O.
//! One enum per command set: [`LoginInput`] before login, [`Command`] after.

/// Splits `line` into its first word and the rest, skipping the run of spaces between them.
/// The rest keeps trailing spaces: free text is verbatim.
pub fn split_word(line: &str) -> (&str, &str) {
    let line = line.trim_start_matches(' ');
    match line.find(' ') {
        Some(i) => (&line[..i], line[i..].trim_start_matches(' ')),
        None => (line, ""),
    }
}

/// Exactly `N` space-separated words and nothing after them (trailing spaces allowed).
fn args<const N: usize>(rest: &str) -> Option<[&str; N]> {
    let mut out = [""; N];
    let mut it = rest.split(' ').filter(|w| !w.is_empty());
    for slot in out.iter_mut() {
        *slot = it.next()?;
    }
    it.next().is_none().then_some(out)
}

/// `N` words, then free text (required, verbatim).
fn args_text<const N: usize>(mut rest: &str) -> Option<([&str; N], &str)> {
    let mut out = [""; N];
    for slot in out.iter_mut() {
        let (w, r) = split_word(rest);
        if w.is_empty() {
            return None;
        }
        *slot = w;
        rest = r;
    }
    (!rest.is_empty()).then_some((out, rest))
}

/// What a line means at the `Username: ` prompt.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginInput<'a> {
    /// A bare word: the username of the interactive dialog.
    Username(&'a str),
    Login {
        user: &'a str,
        password: &'a str,
    },
    Register {
        user: &'a str,
        password: &'a str,
    },
    Help,
    Exit,
    /// Nothing typed: prompt again.
    Empty,
    /// More than one word that is not a known one-line form.
    Invalid,
}

impl<'a> LoginInput<'a> {
    pub fn parse(line: &'a str) -> LoginInput<'a> {
        let (word, rest) = split_word(line);
        match word {
            "" => LoginInput::Empty,
            "help" if rest.trim_end().is_empty() => LoginInput::Help,
            "exit" | "quit" | "EX" if rest.trim_end().is_empty() => LoginInput::Exit,
            "login" | "register" => match args::<2>(rest) {
                Some([user, password]) if word == "login" => LoginInput::Login { user, password },
                Some([user, password]) => LoginInput::Register { user, password },
                None => LoginInput::Invalid,
            },
            user if rest.trim_end().is_empty() => LoginInput::Username(user),
            _ => LoginInput::Invalid,
        }
    }
}

/// A command of a logged-in user (PROTOCOL.md §3). Later command sets add variants here.
#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    Message {
        to: &'a str,
        text: &'a str,
    },
    Broadcast {
        text: &'a str,
    },
    WhoElse,
    WhoElseSince {
        seconds: u64,
    },
    Block {
        user: &'a str,
    },
    Unblock {
        user: &'a str,
    },
    Logout,
    Exit,
    Help,
    /// Heartbeat: proves liveness, does not count as activity.
    Live,
    /// Not understood here: `Error. Invalid command`, not activity.
    Invalid,
}

impl<'a> Command<'a> {
    pub fn parse(line: &'a str) -> Command<'a> {
        let (word, rest) = split_word(line);
        let parsed = match word {
            "message" => args_text::<1>(rest).map(|([to], text)| Command::Message { to, text }),
            "broadcast" => args_text::<0>(rest).map(|(_, text)| Command::Broadcast { text }),
            "whoelse" | "online" | "list" => args::<0>(rest).map(|_| Command::WhoElse),
            "whoelsesince" => args::<1>(rest)
                .and_then(|[s]| s.parse().ok())
                .map(|seconds| Command::WhoElseSince { seconds }),
            "block" => args::<1>(rest).map(|[user]| Command::Block { user }),
            "unblock" => args::<1>(rest).map(|[user]| Command::Unblock { user }),
            "logout" => args::<0>(rest).map(|_| Command::Logout),
            "exit" | "quit" | "EX" => args::<0>(rest).map(|_| Command::Exit),
            "help" => args::<0>(rest).map(|_| Command::Help),
            "live" | "heartbeat" => args::<0>(rest).map(|_| Command::Live),
            _ => None,
        };
        parsed.unwrap_or(Command::Invalid)
    }
}

/// Fixed reply texts, each with its line ending (prompts have none).
pub mod text {
    pub const USERNAME: &str = "Username: ";
    pub const PASSWORD: &str = "Password: ";
    pub const WELCOME: &str = "Welcome to the greatest messaging application ever!\n";
    pub const BAD_PASSWORD: &str = "Invalid Password. Please try again\n";
    pub const NOW_BLOCKED: &str =
        "Invalid Password. Your account has been blocked. Please try again later\n";
    pub const STILL_BLOCKED: &str =
        "Your account is blocked due to multiple login failures. Please try again later\n";
    pub const INVALID_USERNAME_NO_REGISTER: &str = "Invalid Username. Please try again\n";
    pub const INVALID_USERNAME: &str = "Error. Invalid username\n";
    pub const INVALID_PASSWORD: &str = "Error. Invalid password\n";
    pub const GOODBYE: &str = "Goodbye\n";
    pub const INVALID_COMMAND: &str = "Error. Invalid command\n";
    pub const INVALID_USER: &str = "Error. Invalid user\n";
    pub const MESSAGE_SELF: &str = "Error. Cannot message self\n";
    pub const BLOCKED_BY_RECIPIENT: &str =
        "Your message could not be delivered as the recipient has blocked you\n";
    pub const SOME_NOT_DELIVERED: &str = "Your message could not be delivered to some recipients\n";
    pub const BLOCK_SELF: &str = "Error. Cannot block self\n";
    pub const LOGGED_OUT: &str = "You have logged out\n";
    pub const INACTIVE: &str = "You have been logged out due to inactivity\n";
    pub const LINE_TOO_LONG: &str = "Error. Line too long\n";
    pub const INVALID_UTF8: &str = "Error. Invalid UTF-8\n";
    pub const SERVER_FULL: &str = "Error. Server full\n";
    pub const LOGIN_TIMEOUT: &str = "Error. Login timed out\n";
    pub const STORAGE: &str = "Error. Storage unavailable, try again later\n";
    pub const HELP_LOGIN: &str = "\
Type a username, then its password (an unknown name creates an account).
One-line forms: login <user> <password> | register <user> <password>
exit, quit or EX closes the connection.
";
    pub const HELP: &str = "\
message <user> <text>    send to one user (kept until they log in if offline)
broadcast <text>         send to everyone online
whoelse | online | list  who else is online
whoelsesince <seconds>   who was online in the last <seconds>
block <user>             stop <user> messaging you or seeing you online
unblock <user>           undo block
logout                   log out, back to the Username prompt
exit | quit | EX         log out and close
";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_is_verbatim_after_the_argument_spaces() {
        assert_eq!(
            Command::parse("message   yoda   hello  there  "),
            Command::Message {
                to: "yoda",
                text: "hello  there  "
            }
        );
        assert_eq!(
            Command::parse("  broadcast   hi  "),
            Command::Broadcast { text: "hi  " }
        );
    }

    #[test]
    fn arity_is_checked() {
        for bad in [
            "message yoda",
            "message",
            "broadcast",
            "broadcast   ",
            "whoelse x",
            "whoelsesince",
            "whoelsesince 1.5",
            "whoelsesince -3",
            "whoelsesince 1 2",
            "block",
            "block a b",
            "logout now",
            "Message yoda hi",
            "",
        ] {
            assert_eq!(Command::parse(bad), Command::Invalid, "{bad:?}");
        }
        assert_eq!(
            Command::parse("block hans  "),
            Command::Block { user: "hans" }
        );
        assert_eq!(
            Command::parse("whoelsesince 200"),
            Command::WhoElseSince { seconds: 200 }
        );
        assert_eq!(Command::parse("online"), Command::WhoElse);
        assert_eq!(Command::parse("heartbeat"), Command::Live);
    }

    #[test]
    fn login_prompt_forms() {
        assert_eq!(LoginInput::parse("yoda"), LoginInput::Username("yoda"));
        assert_eq!(LoginInput::parse("  yoda  "), LoginInput::Username("yoda"));
        assert_eq!(
            LoginInput::parse("login yoda wise"),
            LoginInput::Login {
                user: "yoda",
                password: "wise"
            }
        );
        assert_eq!(
            LoginInput::parse("register ann pw"),
            LoginInput::Register {
                user: "ann",
                password: "pw"
            }
        );
        assert_eq!(LoginInput::parse("login yoda"), LoginInput::Invalid);
        assert_eq!(LoginInput::parse("two words"), LoginInput::Invalid);
        assert_eq!(LoginInput::parse(""), LoginInput::Empty);
        assert_eq!(LoginInput::parse("EX"), LoginInput::Exit);
        assert_eq!(LoginInput::parse("help"), LoginInput::Help);
    }
}
