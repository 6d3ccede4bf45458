//! What reaches the user's terminal: writes to stdout and stderr that never panic (a closed pipe,
//! as in `chatclient … | true`, is not worth dying for, unlike with `print!`), and the password
//! prompt's echo.

use std::io::{self, IsTerminal, Write};
use std::process::{Command, Stdio};

/// Print to stdout at once, ignoring a closed or failing stdout.
pub fn show(text: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Print to stderr, ignoring a closed or failing stderr.
pub fn complain(text: &str) {
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// Keeps a typed password off the screen. At the server's `Password: ` prompt, when stdin is a
/// terminal, echo is turned off with `stty -echo` (stty acts on its stdin, which is ours), and
/// turned back on when the next line has been read, when the client leaves, and on drop. std
/// has no termios and the crate forbids `unsafe`, so the stty program does it; if stty fails,
/// the password shows as before. Piped stdin is left alone.
#[derive(Debug)]
pub struct TerminalEcho {
    terminal: bool,
    /// Echo was turned off by us and is still off.
    off: bool,
}

impl TerminalEcho {
    pub fn new() -> TerminalEcho {
        TerminalEcho {
            terminal: io::stdin().is_terminal(),
            off: false,
        }
    }

    /// Turn echo off for the password about to be typed.
    pub fn hide(&mut self) {
        if self.terminal && !self.off {
            self.off = stty("-echo");
        }
    }

    /// Turn echo back on; `true` if it was off (the Enter that ended the line was not echoed
    /// either, so the caller owes the screen a newline).
    pub fn restore(&mut self) -> bool {
        if !self.off {
            return false;
        }
        self.off = false;
        stty("echo");
        true
    }
}

impl Drop for TerminalEcho {
    fn drop(&mut self) {
        self.restore();
    }
}

/// Run `stty <setting>` on our stdin; `true` if it worked.
fn stty(setting: &str) -> bool {
    Command::new("stty")
        .arg(setting)
        .stdin(Stdio::inherit())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
