//! What it takes to get back in after the server restarts (issue 21, #4): the credentials of
//! the last successful login, read off the prompts and what the user typed at them, and the
//! backoff between reconnect attempts. The credentials live in memory only: never written,
//! logged or shown. No I/O here.

use std::time::Duration;

/// A user name and password that logged in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl Credentials {
    /// The one-line login (PROTOCOL.md §2): one line to send, and never creates an account.
    pub fn login_line(&self) -> String {
        format!("login {} {}", self.user, self.password)
    }
}

/// The login prompts, which say what the next typed line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prompt {
    Username,
    Password,
}

/// Follows the login dialog (`Username: `, `Password: `, or `login`/`register <user> <pw>` at
/// the first prompt) to know which credentials a welcome line accepted.
#[derive(Debug, Default)]
pub struct LoginWatch {
    /// The login prompt the server showed last, until the user answers it.
    prompt: Option<Prompt>,
    /// The name typed at the last `Username: `, for the `Password: ` that follows.
    user: Option<String>,
    /// What the login in progress uses, if the server welcomes it.
    trying: Option<Credentials>,
    /// The credentials of the last welcomed login.
    saved: Option<Credentials>,
}

impl LoginWatch {
    /// The server showed a prompt (any prompt: others end the login dialog).
    pub fn prompted(&mut self, prompt: &str) {
        self.prompt = match prompt {
            "Username: " => Some(Prompt::Username),
            "Password: " => Some(Prompt::Password),
            _ => None,
        };
    }

    /// The user typed `line`.
    pub fn typed(&mut self, line: &str) {
        let words: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
        match (self.prompt.take(), words.as_slice()) {
            (Some(Prompt::Username), ["login" | "register", user, password]) => {
                self.user = None;
                self.trying = Some(Credentials {
                    user: user.to_string(),
                    password: password.to_string(),
                });
            }
            (Some(Prompt::Username), [user]) => {
                self.user = Some(user.to_string());
                self.trying = None;
            }
            (Some(Prompt::Password), [password]) => {
                if let Some(user) = &self.user {
                    self.trying = Some(Credentials {
                        user: user.clone(),
                        password: password.to_string(),
                    });
                }
            }
            _ => {}
        }
    }

    /// The server welcomed the login the user typed: its credentials are the ones to reuse
    /// (none if the dialog went a way this watch did not follow).
    pub fn welcomed(&mut self) {
        self.saved = self.trying.take();
        self.user = None;
    }

    /// The `Password: ` prompt is showing, unanswered: the next line is taken as a password.
    pub fn awaiting_password(&self) -> bool {
        self.prompt == Some(Prompt::Password)
    }

    pub fn saved(&self) -> Option<&Credentials> {
        self.saved.as_ref()
    }
}

/// The longest wait between reconnect attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The wait before reconnect attempt `attempt` (0 first): 1 s, doubling to at most 30 s, each
/// scaled by a factor in [0.75, 1.25) from `spread` (in [0, 1)) so that clients cut off by
/// one restart do not all come back in the same instant.
pub fn backoff(attempt: u32, spread: f64) -> Duration {
    let base = Duration::from_secs(1u64 << attempt.min(5)).min(MAX_BACKOFF);
    base.mul_f64(0.75 + 0.5 * spread.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(user: &str, password: &str) -> Option<Credentials> {
        Some(Credentials {
            user: user.into(),
            password: password.into(),
        })
    }

    #[test]
    fn the_dialog_gives_the_welcomed_credentials() {
        let mut w = LoginWatch::default();
        w.prompted("Username: ");
        w.typed(" yoda ");
        w.prompted("Password: ");
        assert!(w.awaiting_password());
        w.typed("wrong");
        assert!(!w.awaiting_password());
        w.prompted("Password: ");
        w.typed("wise");
        assert_eq!(w.saved(), None, "not welcomed yet");
        w.welcomed();
        assert_eq!(w.saved().cloned(), creds("yoda", "wise"));
        assert_eq!(
            w.saved().map(Credentials::login_line).as_deref(),
            Some("login yoda wise")
        );
    }

    #[test]
    fn one_line_login_and_register_count() {
        for verb in ["login", "register"] {
            let mut w = LoginWatch::default();
            w.prompted("Username: ");
            w.typed(&format!("{verb} hans falcon*solo"));
            w.welcomed();
            assert_eq!(w.saved().cloned(), creds("hans", "falcon*solo"));
        }
    }

    #[test]
    fn lines_not_typed_at_a_login_prompt_are_not_credentials() {
        let mut w = LoginWatch::default();
        w.typed("yoda");
        w.prompted("Password: ");
        w.typed("wise");
        w.welcomed();
        assert_eq!(w.saved(), None, "no name was typed at Username:");
        w.prompted("Username: ");
        w.typed("yoda");
        w.prompted("Enter your choice: ");
        w.prompted("Password: ");
        w.typed("wise");
        w.prompted("Username: ");
        w.typed("help");
        w.welcomed();
        assert_eq!(w.saved(), None, "`help` took the name's place");
    }

    #[test]
    fn backoff_doubles_to_a_cap_with_spread() {
        let secs = |a, s| backoff(a, s).as_secs_f64();
        assert_eq!(secs(0, 0.5), 1.0);
        assert_eq!(secs(1, 0.5), 2.0);
        assert_eq!(secs(4, 0.5), 16.0);
        assert_eq!(secs(5, 0.5), 30.0);
        assert_eq!(secs(60, 0.5), 30.0);
        assert_eq!(secs(0, 0.0), 0.75);
        assert!(secs(0, 0.999) < 1.25);
    }
}
