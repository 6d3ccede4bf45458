//! The loop's side of the admin socket (issue 21): its listener and up to [`MAX_CONNS`]
//! connections are more sources in the same poll, no thread. A command line runs through the
//! same `operator_command` as the console's, and its reply is written back with its verdict.

use super::backup::Requester;
use super::{Server, Tok};
use crate::admin::{Conn, Listener, Phase, Received};
use crate::console::{self, Reply};
use crate::time::Now;
use mio::Interest;
use std::io;
use std::path::Path;

/// Admin connections at once: a local tool's, one command each. One more is refused.
pub(super) const MAX_CONNS: usize = 32;

/// The admin socket and its connections, by token offset.
#[derive(Debug, Default)]
pub(super) struct Admin {
    listener: Option<Listener>,
    conns: Vec<Option<Conn>>,
}

impl Server {
    /// Listen for `chatserver ctl` on the Unix socket `path` (mode 0600).
    pub fn attach_admin(&mut self, path: &Path) -> io::Result<()> {
        let mut listener = Listener::bind(path)?;
        self.poll.registry().register(
            &mut listener.socket,
            Tok::AdminListener.token(),
            Interest::READABLE,
        )?;
        log::info!("admin socket at {}", listener.path().display());
        self.admin.listener = Some(listener);
        self.admin.conns = (0..MAX_CONNS).map(|_| None).collect();
        Ok(())
    }

    /// Accept until WouldBlock (edge-triggered).
    pub(super) fn admin_accept(&mut self) {
        let Some(listener) = self.admin.listener.as_ref() else {
            return;
        };
        loop {
            let mut stream = match listener.socket.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!("admin socket: accept: {e}");
                    return;
                }
            };
            let Some(slot) = self.admin.conns.iter().position(Option::is_none) else {
                log::warn!("admin socket: {MAX_CONNS} connections already, one refused");
                continue;
            };
            let registered = self.poll.registry().register(
                &mut stream,
                Tok::Admin(slot).token(),
                Interest::READABLE | Interest::WRITABLE,
            );
            match registered {
                Ok(()) => self.admin.conns[slot] = Some(Conn::new(stream)),
                Err(e) => log::warn!("admin socket: {e}"),
            }
        }
    }

    pub(super) fn admin_ready(&mut self, slot: usize, event: &mio::event::Event, now: Now) {
        let Some(mut conn) = self.admin.conns.get_mut(slot).and_then(Option::take) else {
            return;
        };
        if conn.phase == Phase::Reading && (event.is_readable() || event.is_read_closed()) {
            match conn.read() {
                Received::More => {}
                Received::Line(line) => match self.admin_command(&line, slot, now) {
                    Some(reply) => conn.reply(&reply),
                    None => conn.phase = Phase::Waiting,
                },
                Received::Done(Some(reply)) => conn.reply(&reply),
                Received::Done(None) => return self.admin_close(conn),
            }
        }
        if conn.phase == Phase::Writing && conn.flush() {
            return self.admin_close(conn);
        }
        self.admin.conns[slot] = Some(conn);
    }

    fn admin_command(&mut self, line: &str, slot: usize, now: Now) -> Option<Reply> {
        match console::parse(line) {
            Ok(command) => {
                log::info!("admin socket: {}", command.describe());
                self.operator_command(command, Requester::Admin(slot), now)
            }
            Err(text) => Some(Reply::err(text)),
        }
    }

    /// The later reply to the command of `slot`'s connection (gone if the peer left).
    pub(super) fn admin_answer(&mut self, slot: usize, reply: &Reply) {
        let Some(mut conn) = self.admin.conns.get_mut(slot).and_then(Option::take) else {
            return;
        };
        conn.reply(reply);
        if conn.flush() {
            return self.admin_close(conn);
        }
        self.admin.conns[slot] = Some(conn);
    }

    fn admin_close(&mut self, mut conn: Conn) {
        let _ = self.poll.registry().deregister(&mut conn.stream);
    }
}
