//! The admin socket (issue 21): a Unix socket, mode 0600, that speaks the console's commands
//! (PROTOCOL.md §7) for `chatserver ctl`. Under systemd stdin is `/dev/null`, so this is the
//! operator's way in. One command per connection: the client sends a line, the server answers
//! `ok` or `error` on the first line, then the reply text, and closes.
//!
//! This file has the socket's I/O (binding safely, a bounded per-connection buffer, the client
//! side); `server/admin.rs` puts it in the loop's poll.

use crate::console::Reply;
use mio::net::{UnixListener, UnixStream};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest command line: a user command with a hashed password fits many times over.
pub const MAX_LINE: usize = 4096;

/// The socket file, removed again when the server stops (if it is still ours).
#[derive(Debug)]
pub struct Listener {
    pub socket: UnixListener,
    path: PathBuf,
    /// The inode bound, so a socket another server put at the same path is never removed.
    inode: u64,
}

impl Listener {
    /// Bind `path` with mode 0600. A stale socket file (nobody answers on it) from a crash is
    /// replaced; a live one is an error, never silently taken over. The socket is made at a
    /// temporary name, restricted, then renamed into place, so it never exists at `path` with
    /// a wider mode.
    pub fn bind(path: &Path) -> io::Result<Listener> {
        if let Ok(meta) = fs::symlink_metadata(path) {
            if !meta.file_type().is_socket() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "exists and is not a socket",
                ));
            }
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    "another server answers on it",
                ));
            }
        }
        let tmp = path.with_extension("sock-new");
        let _ = fs::remove_file(&tmp);
        let std_listener = std::os::unix::net::UnixListener::bind(&tmp)?;
        let placed = fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600))
            .and_then(|()| fs::rename(&tmp, path))
            .and_then(|()| fs::metadata(path));
        let meta = match placed {
            Ok(meta) => meta,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        std_listener.set_nonblocking(true)?;
        Ok(Listener {
            socket: UnixListener::from_std(std_listener),
            path: path.to_path_buf(),
            inode: meta.ino(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if fs::metadata(&self.path).is_ok_and(|m| m.ino() == self.inode) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Where one admin connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Reading the command line.
    Reading,
    /// The command runs over several loop iterations (a backup); the reply comes later.
    Waiting,
    /// Writing the reply; closed once it is all written.
    Writing,
}

/// One admin connection: its command line coming in, its reply going out.
#[derive(Debug)]
pub struct Conn {
    pub stream: UnixStream,
    input: Vec<u8>,
    output: Vec<u8>,
    written: usize,
    pub phase: Phase,
    /// Its place in the order of accepting (the oldest stalled one gives way to a new one).
    pub number: u64,
}

/// What reading a connection gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Nothing complete yet.
    More,
    /// A whole command line.
    Line(String),
    /// The peer went away or broke the rules; close it (with a reply if there is one).
    Done(Option<Reply>),
}

impl Conn {
    pub fn new(stream: UnixStream, number: u64) -> Conn {
        Conn {
            stream,
            input: Vec::new(),
            output: Vec::new(),
            written: 0,
            phase: Phase::Reading,
            number,
        }
    }

    /// Read until WouldBlock (edge-triggered) or a whole line.
    pub fn read(&mut self) -> Received {
        let mut buf = [0u8; 1024];
        loop {
            if let Some(end) = self.input.iter().position(|&b| b == b'\n') {
                return self.line(end);
            }
            if self.input.len() > MAX_LINE {
                return Received::Done(Some(Reply::err("command line too long\n")));
            }
            match self.stream.read(&mut buf) {
                Ok(0) if self.input.is_empty() => return Received::Done(None),
                Ok(0) => return self.line(self.input.len()),
                Ok(n) => self.input.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Received::More,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Received::Done(None),
            }
        }
    }

    /// The command line, which must be UTF-8: read lossily, a password or an announcement
    /// in another encoding was stored or sent with U+FFFD in place of its bytes.
    fn line(&mut self, end: usize) -> Received {
        let Ok(line) = std::str::from_utf8(&self.input[..end]) else {
            return Received::Done(Some(Reply::err("command line is not UTF-8\n")));
        };
        let line = line.strip_suffix('\r').unwrap_or(line).to_string();
        self.input.clear();
        Received::Line(line)
    }

    /// Queue the reply (status line, then text) and start writing it.
    pub fn reply(&mut self, reply: &Reply) {
        self.output.clear();
        self.output
            .extend_from_slice(if reply.ok { b"ok\n" } else { b"error\n" });
        self.output.extend_from_slice(reply.text.as_bytes());
        self.written = 0;
        self.phase = Phase::Writing;
    }

    /// Write until done or WouldBlock. True once the connection can be closed.
    pub fn flush(&mut self) -> bool {
        while self.written < self.output.len() {
            match self.stream.write(&self.output[self.written..]) {
                Ok(0) => return true,
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
        true
    }
}

/// The client side (`chatserver ctl`): send `line`, return the server's verdict and text.
/// `wait` bounds the whole exchange (a backup may take a while; `None` waits as long as it
/// takes).
pub fn request(path: &Path, line: &str, wait: Option<Duration>) -> io::Result<Reply> {
    let mut s = std::os::unix::net::UnixStream::connect(path)?;
    s.set_read_timeout(wait)?;
    s.set_write_timeout(wait)?;
    s.write_all(format!("{line}\n").as_bytes())?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    let (status, text) = answer.split_once('\n').unwrap_or((&answer, ""));
    match status {
        "ok" => Ok(Reply::ok(text)),
        "error" => Ok(Reply::err(text)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not an admin socket reply: {status:?}"),
        )),
    }
}
