//! Accepting connections: per-address limits, descriptor exhaustion, one codec per listener.

use super::{push_dirty, would_block, Server, Tok, RESERVED_TOKENS};
use crate::chat::LoginStyle;
use crate::connection::Connection;
use crate::event::{Error, Event};
use crate::protocol::{Codec, CodecKind};
use crate::session::ConnId;
use crate::time::Now;
use mio::Interest;
use std::io::{self, Write};

/// errno values for "too many open files" (system-wide, per process).
const ENFILE: i32 = 23;
const EMFILE: i32 = 24;

impl Server {
    /// Accept until WouldBlock (edge-triggered: no further event is guaranteed otherwise).
    pub(super) fn accept(&mut self, i: usize, now: Now) {
        let Some(l) = self.listeners.get_mut(i) else {
            return;
        };
        let kind = l.kind;
        loop {
            let (mut stream, peer) = match l.socket.accept() {
                Ok(pair) => pair,
                Err(e) if would_block(&e) => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error().is_some_and(|c| c == ENFILE || c == EMFILE) => {
                    // Out of descriptors: the backlog waits; retry when a connection closes.
                    if !l.paused {
                        log::warn!("accept: {e} (raise the open-file limit)");
                    }
                    l.paused = true;
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(e) => {
                    // Anything else (ENOBUFS, ENOMEM, EPERM from a firewall hook...): log once
                    // for this event and wait for the next one, as Redis does.
                    self.accept_warning
                        .warn(now.mono, || format!("accept: {e}"));
                    return;
                }
            };
            let refusal = if self.conns.len() >= self.limits.max_clients
                || self.conns.len() >= RESERVED_TOKENS
            {
                Some(Error::ServerFull)
            } else if !self.per_ip.admit(
                peer.ip(),
                self.limits.max_per_ip,
                self.limits.limit_loopback,
            ) {
                Some(Error::TooManyFromAddress)
            } else {
                None
            };
            if let Some(error) = refusal {
                self.accept_warning
                    .warn(now.mono, || format!("refusing {peer}: {error:?}"));
                let mut refusal = Vec::new();
                Codec::new(kind).encode(&Event::Error(error), &mut refusal);
                let _ = stream.write(&refusal);
                continue;
            }
            let _ = stream.set_nodelay(true);
            let entry = self.conns.vacant_entry();
            let k = entry.key();
            let interest = Interest::READABLE | Interest::WRITABLE;
            if let Err(e) =
                self.poll
                    .registry()
                    .register(&mut stream, Tok::Conn(k).token(), interest)
            {
                log::warn!("register {peer}: {e}");
                self.per_ip.release(peer.ip(), now.mono, now.mono);
                continue;
            }
            self.next_gen = self.next_gen.wrapping_add(1);
            let id = ConnId::new(k, self.next_gen);
            let codec = Codec::with_options(kind, &self.codec_options);
            let mut conn = Connection::new(id, stream, codec);
            let greeting = conn.codec.greeting();
            conn.peer_ip = Some(peer.ip());
            // Issue 17, F6: reconnecting does not reset the command penalty.
            conn.penalty = self
                .per_ip
                .penalty(peer.ip(), now.mono, self.limits.limit_loopback);
            self.output_total += greeting.len();
            if !greeting.is_empty() {
                conn.queue_bytes(greeting);
                push_dirty(&mut conn, &mut self.dirty);
            }
            entry.insert(conn);
            log::info!("connection from {peer}");
            let style = match kind {
                CodecKind::Line => LoginStyle::Dialog,
                CodecKind::Json => LoginStyle::Guest,
                // IRC front-end (issue 12): registration is the codec's own dialog.
                CodecKind::Irc => LoginStyle::Guest,
            };
            self.chat.handle_connect(id, Some(peer), style, now);
        }
    }
}
