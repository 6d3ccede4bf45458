//! Accepting connections: per-address limits, descriptor exhaustion, and for each listener its
//! protocol and transport. A refusal is a connection too: rendered by the listener's protocol
//! with the server's real options and sent through its transport (a TLS client sees it after
//! its handshake), then closed; the core never hears of it.

use super::{push_dirty, would_block, Server, Tok, RESERVED_TOKENS};
use crate::connection::{Closing, Connection};
use crate::event::{Error, Event};
use crate::protocol::{Protocol, ProtocolKind};
use crate::session::ConnId;
use crate::time::Now;
use crate::transport::{Transport, TransportKind};
use mio::net::TcpStream;
use mio::Interest;
use std::io;
use std::net::SocketAddr;

/// errno values for "too many open files" (system-wide, per process).
const ENFILE: i32 = 23;
const EMFILE: i32 = 24;

/// Refusals on their way out at once; beyond this a refused connection is closed without a
/// word (a TLS refusal waits for its handshake, and a flood of them must not pile up).
const MAX_REFUSING: usize = 256;

impl Server {
    /// Accept until WouldBlock (edge-triggered: no further event is guaranteed otherwise).
    pub(super) fn accept(&mut self, i: usize, now: Now) {
        if !self.serving() {
            return; // Cluster mode: not before the node has caught up (it accepts then).
        }
        loop {
            let Some(l) = self.listeners.get_mut(i) else {
                return;
            };
            let kinds = (l.protocol, l.transport);
            let (stream, peer) = match l.socket.accept() {
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
                self.refuse(stream, peer, kinds, error, now);
                continue;
            }
            let Some(id) = self.open(stream, peer, kinds) else {
                self.per_ip.release(peer.ip(), now.mono, now.mono);
                continue;
            };
            let Some(conn) = self.conns.get_mut(id.slot) else {
                continue;
            };
            conn.peer_ip = Some(peer.ip());
            // Issue 17, F6: reconnecting does not reset the command penalty.
            conn.penalty = self
                .per_ip
                .penalty(peer.ip(), now.mono, self.limits.limit_loopback);
            self.counters.accepted += 1;
            #[cfg(feature = "web")]
            if conn.transport.web().is_some() {
                // An HTTP request becomes a session only if it upgrades to a WebSocket; until
                // its head is in, the request deadline bounds it (slowloris).
                conn.admitted = false;
                self.closing
                    .schedule(now.mono + self.limits.request_timeout, id);
                continue;
            }
            let greeting = conn.protocol.greeting();
            self.output_total += greeting.len();
            if !greeting.is_empty() {
                conn.queue_bytes(greeting);
                push_dirty(conn, &mut self.dirty);
            }
            let front = conn.protocol.front();
            log::info!("connection from {peer}");
            self.chat.handle_connect(id, Some(peer), front, now);
        }
    }

    /// SIGHUP and `reload` (certbot renewals): read the TLS certificate and key again, from
    /// the files the configuration names now, for connections accepted from now on; open
    /// connections keep the pair they were accepted with. A bad new pair is logged and the one
    /// in use kept. `None`: this server has no TLS listener.
    pub(super) fn reload_certificates(&mut self) -> Option<Result<String, String>> {
        let files = self.config.as_ref().and_then(|c| c.tls_files.clone());
        let certificates = self.certificates.as_mut()?;
        let result = certificates.reload(files);
        match &result {
            Ok(what) => log::warn!("{what}"),
            Err(e) => log::error!("{e}; keeping the certificate in use"),
        }
        Some(result)
    }

    /// Make `stream` a connection speaking `kinds`, registered with the poll (readable and
    /// writable once: edge-triggered, so no re-registering is ever needed).
    fn open(
        &mut self,
        stream: TcpStream,
        peer: SocketAddr,
        (protocol, transport): (ProtocolKind, TransportKind),
    ) -> Option<ConnId> {
        let _ = stream.set_nodelay(true);
        let mut transport =
            match Transport::new(transport, stream, self.certificates.as_ref(), peer) {
                Ok(t) => t,
                Err(e) => {
                    log::warn!("{peer}: {e}");
                    return None;
                }
            };
        let entry = self.conns.vacant_entry();
        let k = entry.key();
        let interest = Interest::READABLE | Interest::WRITABLE;
        let registry = self.poll.registry();
        if let Err(e) = registry.register(transport.socket(), Tok::Conn(k).token(), interest) {
            log::warn!("register {peer}: {e}");
            return None;
        }
        self.next_gen = self.next_gen.wrapping_add(1);
        let id = ConnId::new(k, self.next_gen);
        let protocol = Protocol::new(protocol, &self.protocol_options);
        entry.insert(Connection::new(id, transport, protocol));
        Some(id)
    }

    /// Tell `peer` why it is refused, through its listener's protocol and transport, then
    /// close: a connection the core never sees, dropped at the closing deadline at the latest.
    fn refuse(
        &mut self,
        stream: TcpStream,
        peer: SocketAddr,
        kinds: (ProtocolKind, TransportKind),
        error: Error,
        now: Now,
    ) {
        self.accept_warning
            .warn(now.mono, || format!("refusing {peer}: {error:?}"));
        if self.refusing >= MAX_REFUSING {
            return;
        }
        let Some(id) = self.open(stream, peer, kinds) else {
            return;
        };
        let Some(conn) = self.conns.get_mut(id.slot) else {
            return;
        };
        conn.admitted = false;
        conn.refusal = true;
        conn.closing = Closing::AfterFlush;
        #[cfg(feature = "web")]
        if let Some(web) = conn.transport.web() {
            // An HTTP client is refused in HTTP, whatever it asked for.
            let text = crate::protocol::line::text::to_string(&Event::Error(error.clone()));
            web.respond(
                crate::transport::web::Status::Unavailable,
                &[("Content-Type", "text/plain; charset=utf-8")],
                text.as_bytes(),
                false,
            );
        }
        // A refusal is a few dozen bytes: no cap applies.
        #[cfg(feature = "web")]
        let refused_in_http = conn.transport.web().is_some();
        #[cfg(not(feature = "web"))]
        let refused_in_http = false;
        if !refused_in_http {
            let now_ms = crate::time::Now::read().unix_ms();
            let _ = conn.queue_event(&Event::Error(error), now_ms, usize::MAX, &mut Vec::new);
        }
        self.output_total += conn.pending();
        push_dirty(conn, &mut self.dirty);
        self.refusing += 1;
        self.closing
            .schedule(now.mono + self.limits.close_timeout, id);
    }
}
