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
    /// Connections accepted so far: each connection's number, so the oldest is known.
    accepted: u64,
}

impl Admin {
    /// When every slot is taken: the oldest connection that still sends its command or is
    /// sent its answer (a client that never finishes either), not one whose command runs.
    fn oldest_stalled(&self) -> Option<usize> {
        let conns = self.conns.iter().enumerate();
        conns
            .filter_map(|(slot, c)| c.as_ref().map(|c| (slot, c)))
            .filter(|(_, c)| c.phase != Phase::Waiting)
            .min_by_key(|(_, c)| c.number)
            .map(|(slot, _)| slot)
    }
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
            // All taken (clients that connected and never sent a line, or never read the
            // answer: nothing times them out): the oldest such one makes room, so they can
            // never lock the operator out.
            let free = self.admin.conns.iter().position(Option::is_none);
            let Some(slot) = free.or_else(|| self.admin.oldest_stalled()) else {
                log::warn!("admin socket: {MAX_CONNS} commands running, one refused");
                continue;
            };
            if let Some(mut stalled) = self.admin.conns[slot].take() {
                log::warn!("admin socket: {MAX_CONNS} connections already, the oldest closed");
                let _ = self.poll.registry().deregister(&mut stalled.stream);
            }
            let registered = self.poll.registry().register(
                &mut stream,
                Tok::Admin(slot).token(),
                Interest::READABLE | Interest::WRITABLE,
            );
            self.admin.accepted += 1;
            match registered {
                Ok(()) => self.admin.conns[slot] = Some(Conn::new(stream, self.admin.accepted)),
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
