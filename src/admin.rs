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
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
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
    /// replaced; a live one is an error, never silently taken over. The socket is bound inside
    /// a directory beside `path` that this call makes with mode 0700, restricted to 0600, then
    /// renamed into place: before its chmod its mode is whatever the umask left (0777 under
    /// umask 0), and nobody else can reach it there, nor ever at `path` with a wider mode.
    /// (std has no umask, and the design card has no `unsafe`: a private directory needs
    /// neither, nor a thread-wide umask change.)
    pub fn bind(path: &Path) -> io::Result<Listener> {
        Listener::bind_with(path, |_| ())
    }

    /// [`Listener::bind`], calling `bound` with the socket's temporary path as soon as it is
    /// bound (the tests look at what others could reach then).
    fn bind_with(path: &Path, bound: impl FnOnce(&Path)) -> io::Result<Listener> {
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
        let private = path.with_extension("sock-new");
        remove_stale(&private)?;
        // Made here or not at all (mkdir fails on anything already there), so nobody else
        // made it or holds it open; the umask can only take bits away from 0700.
        fs::DirBuilder::new().mode(0o700).create(&private)?;
        let tmp = private.join("s");
        let placed = fs::set_permissions(&private, fs::Permissions::from_mode(0o700))
            .and_then(|()| bind_placed(&tmp, path, bound));
        // Whatever happened, nothing is left beside `path` (the socket went on if it was
        // placed; it is still here if not).
        let _ = fs::remove_file(&tmp);
        let _ = fs::remove_dir(&private);
        let (std_listener, meta) = placed?;
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

/// Bind `tmp` (inside the private directory), restrict it to 0600 and rename it to `path`:
/// the listener and what is at `path` now.
fn bind_placed(
    tmp: &Path,
    path: &Path,
    bound: impl FnOnce(&Path),
) -> io::Result<(std::os::unix::net::UnixListener, fs::Metadata)> {
    let listener = std::os::unix::net::UnixListener::bind(tmp)?;
    bound(tmp);
    fs::set_permissions(tmp, fs::Permissions::from_mode(0o600))?;
    fs::rename(tmp, path)?;
    Ok((listener, fs::metadata(path)?))
}

/// What a crash between binding and renaming left at `private`: this version's directory, or
/// an older version's temporary socket.
fn remove_stale(private: &Path) -> io::Result<()> {
    match fs::symlink_metadata(private) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(private),
        Ok(_) => fs::remove_file(private),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a user other than the owner could reach the socket at `socket` by a path
    /// through `top`: the socket itself, or a directory between them, shuts them out.
    fn others_shut_out(socket: &Path, top: &Path) -> bool {
        let mode = |p: &Path| fs::symlink_metadata(p).map(|m| m.mode() & 0o777);
        if mode(socket).is_ok_and(|m| m & 0o077 == 0) {
            return true;
        }
        socket
            .ancestors()
            .skip(1)
            .take_while(|d| *d != top)
            .any(|d| mode(d).is_ok_and(|m| m & 0o077 == 0))
    }

    /// The socket is never reachable by others, whatever the umask: from the moment it is
    /// bound it sits in a directory only its owner may enter, until it is restricted to 0600
    /// and renamed into place. It was bound beside its final path with the mode the umask
    /// left (0755 under 022, 0777 under 0: anyone could connect before the chmod), then
    /// restricted.
    #[test]
    fn the_socket_is_never_open_to_others() {
        let dir = std::env::temp_dir().join(format!("chatserver-admin-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("test dir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod test dir");
        let path = dir.join("admin.sock");
        let mut seen = None;
        let listener = Listener::bind_with(&path, |tmp| {
            let mode = fs::symlink_metadata(tmp).map_or(0, |m| m.mode() & 0o777);
            seen = Some((tmp.to_path_buf(), mode, others_shut_out(tmp, &dir)));
        })
        .expect("bind");
        let (tmp, mode, shut_out) = seen.expect("bound");
        assert!(shut_out, "{} ({mode:o}) was open to others", tmp.display());
        let meta = fs::symlink_metadata(&path).expect("in place");
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert!(meta.file_type().is_socket());
        // Nothing else is left beside it.
        let names: Vec<_> = fs::read_dir(&dir)
            .expect("read dir")
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .expect("entries");
        assert_eq!(names, ["admin.sock"]);
        assert!(std::os::unix::net::UnixStream::connect(&path).is_ok());
        drop(listener);
        assert!(fs::symlink_metadata(&path).is_err(), "removed at the end");
        // A crash between binding and renaming left the private directory (or, before it, a
        // temporary socket): it is cleared, and nothing of it stays.
        for stale_dir in [true, false] {
            let stale = path.with_extension("sock-new");
            if stale_dir {
                fs::create_dir(&stale).expect("stale dir");
                fs::write(stale.join("s"), b"").expect("stale file");
            } else {
                fs::write(&stale, b"").expect("stale file");
            }
            let listener = Listener::bind(&path).expect("bind over a stale leftover");
            assert!(
                fs::symlink_metadata(&stale).is_err(),
                "stale leftover cleared"
            );
            drop(listener);
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
