//! Reading a password for `chatserver user add|passwd`: from the terminal without echo (twice,
//! to catch a typo), or one line from stdin when it is not a terminal (scripts). Echo is turned
//! off with `stty` on /dev/tty, so no `unsafe` termios code is needed.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::process::{Command, Stdio};

/// Run `stty ARGS` on the terminal `tty`; its output (for `-g`) as text.
fn stty(tty: &File, args: &[&str]) -> io::Result<String> {
    let out = Command::new("stty")
        .args(args)
        .stdin(tty.try_clone()?)
        .stderr(Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!("stty {} failed", args.join(" "))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn read_line(input: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "no password given",
        ));
    }
    let line = line.strip_suffix('\n').unwrap_or(&line);
    Ok(line.strip_suffix('\r').unwrap_or(line).to_string())
}

/// One answer typed at `prompt` with echo off; the terminal's settings are restored after.
fn ask(tty: &mut File, prompt: &str) -> io::Result<String> {
    let saved = stty(tty, &["-g"])?;
    tty.write_all(prompt.as_bytes())?;
    stty(tty, &["-echo"])?;
    let answer = read_line(&mut BufReader::new(tty.try_clone()?));
    let restored = stty(tty, &[&saved]);
    tty.write_all(b"\n")?;
    restored?;
    answer
}

/// The new password: typed twice at the terminal, or the first line of stdin.
pub fn read_new_password() -> io::Result<String> {
    if !io::stdin().is_terminal() {
        return read_line(&mut io::stdin().lock());
    }
    let mut tty = OpenOptions::new().read(true).write(true).open("/dev/tty")?;
    let first = ask(&mut tty, "Password: ")?;
    let again = ask(&mut tty, "Again: ")?;
    if first != again {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the passwords differ",
        ));
    }
    Ok(first)
}
