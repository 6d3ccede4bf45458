//! Reading a connection: backpressure, the command penalty and the per-iteration input
//! budget, then its transport reads plaintext and its protocol decodes it into core inputs.

use super::{guard, push_dirty, Server};
use crate::chat::Chat;
use crate::connection::{Closing, ReadStatus};
use crate::event::{Event, Ticket};
use crate::input::{Expect, Input};
use crate::session::ConnId;
use crate::time::Now;

/// Bytes read from one connection per iteration before others get their turn.
const READ_BUDGET: usize = 64 * 1024;
/// Inputs (commands, and replies a protocol makes itself) decoded from one connection per
/// iteration: the work, not the bytes, is what must be bounded (thousands of cheap pipelined
/// commands would stall everyone), and it is counted as decoded, whatever the wire's framing.
/// Fewer when many users are online (`guard::DELIVERIES_PER_ITERATION`); the reading phase's
/// time bounds all connections together (issue 20).
const INPUT_BUDGET: usize = 256;

/// The core behind one connection, as its protocol's sink.
struct CoreSink<'a> {
    chat: &'a mut Chat,
    id: ConnId,
    now: Now,
    /// Inputs decoded (for the command penalty).
    inputs: u32,
    /// Inputs and reserved replies (for the input budget).
    work: usize,
    /// The input budget of this read.
    budget: usize,
}

impl crate::protocol::Sink for CoreSink<'_> {
    fn expects(&self) -> Expect {
        self.chat.expects(self.id)
    }

    fn input(&mut self, input: Input<'_>) {
        self.inputs = self.inputs.saturating_add(1);
        self.work += 1;
        self.chat.handle_input(self.id, input, self.now);
    }

    fn reserve(&mut self, ticket: Ticket) {
        self.work += 1;
        self.chat.reply(self.id, Event::Reserved(ticket));
    }

    fn reserve_opening(&mut self, ticket: Ticket) {
        self.work += 1;
        self.chat.reply_opening(self.id, ticket);
    }

    fn answered(&mut self) {
        self.inputs = self.inputs.saturating_add(1);
    }

    /// Within the budget, and the core is not busy with this connection: a line may start a
    /// password hash that runs for several iterations (issue 21); what follows it waits in the
    /// connection until `Action::Resume`, so it is taken in order, after the login. In
    /// cluster mode (issue 23) nor while its last command waits for the stream.
    fn wants_more(&self) -> bool {
        self.work < self.budget && !self.chat.busy(self.id) && !self.chat.is_waiting(self.id)
    }
}

impl Server {
    /// Drain a readable connection, decoding its plaintext into core inputs.
    pub(super) fn read(&mut self, id: ConnId, now: Now) {
        let admitted = self.admitted();
        let Some(conn) = self.conns.get_mut(id.slot()).filter(|c| c.id == id) else {
            return;
        };
        #[cfg(feature = "web")]
        if conn.transport.web().is_some_and(|w| w.awaiting_request()) {
            return self.read_request(id, now);
        }
        if conn.closing != Closing::Open {
            // Its input is no longer read, but a transport handshake still under way (a TLS
            // refusal waits for it) is driven to its end, so what is queued can leave; a
            // closing handshake (a WebSocket's close frame) waits for the peer's answer.
            if conn.transport.awaits_close() {
                if let Err(e) = conn.drain_until_end(&mut self.scratch) {
                    log::info!("{} closed: {e}", self.chat.log_name(id));
                    self.dead.push(id);
                }
            } else if conn.transport.handshaking() {
                match conn.finish_handshake(&mut self.scratch) {
                    Ok(()) if !conn.transport.handshaking() => push_dirty(conn, &mut self.dirty),
                    Ok(()) => {}
                    Err(e) => {
                        log::info!("{} read error: {e}", self.chat.log_name(id));
                        self.dead.push(id);
                    }
                }
            }
            return;
        }
        if self.reading.over() || admitted >= guard::DELIVERIES_PER_ITERATION {
            // Issue 20: this iteration has its share of work; edge-triggered, so remember it.
            self.unread.push(id);
            return;
        }
        if self.park_if_waiting(id) {
            return;
        }
        let Some(conn) = self.conns.get_mut(id.slot()).filter(|c| c.id == id) else {
            return;
        };
        // Backpressure: a peer whose replies pile up is not read until they drain; only a
        // peer that does not drain at all meets the output cap as a slow reader. A long reply
        // the core paces (issue 17) counts as piled up until its last part is handed out.
        if conn.pending() > self.limits.max_output / 2 || self.chat.holds_output(id) {
            conn.read_paused = true;
            return;
        }
        // Command penalty (ngIRCd style): a connection far ahead of now waits until it is not.
        let ahead = conn.penalty.saturating_duration_since(now.mono);
        if ahead > guard::PENALTY_AHEAD {
            self.throttled
                .schedule(now.mono + (ahead - guard::PENALTY_AHEAD), id);
            return;
        }
        let max = self.limits.max_line;
        let budget = ((guard::DELIVERIES_PER_ITERATION - admitted)
            / (self.chat.online_count() + 1))
            .clamp(1, INPUT_BUDGET);
        let mut sink = CoreSink {
            chat: &mut self.chat,
            id,
            now,
            inputs: 0,
            work: 0,
            budget,
        };
        let handshaking = conn.transport.handshaking();
        let bytes_in = &mut self.operator.bytes_in;
        let status = conn.read(&mut self.scratch, READ_BUDGET, max, &mut sink, bytes_in);
        conn.penalty = conn.penalty.max(now.mono) + self.limits.penalty * sink.inputs;
        if conn.transport.take_heard() {
            sink.chat.handle_alive(id, now);
        }
        if handshaking && !conn.transport.handshaking() {
            // The transport's handshake just ended: what the protocol queued meanwhile (a
            // prompt, a greeting) can leave now, and no writable edge will say so.
            push_dirty(conn, &mut self.dirty);
        }
        match status {
            Ok(ReadStatus::Drained) => {}
            // Busy (issue 21): read again when the core says so (`Action::Resume`).
            Ok(ReadStatus::Budget) if sink.chat.busy(id) => {}
            // Cluster mode (issue 23): read again when its command has come back from the
            // stream.
            Ok(ReadStatus::Budget) if sink.chat.is_waiting(id) => {
                self.park_if_waiting(id);
            }
            Ok(ReadStatus::Budget) => self.unread.push(id),
            Ok(ReadStatus::Eof { clean }) => {
                if clean {
                    conn.protocol.finish(max, &mut sink);
                } else {
                    log::info!(
                        "{} ended without a TLS close_notify: its unfinished last input is dropped",
                        sink.chat.log_name(id)
                    );
                }
                // Half-closed: answer what was sent, then close.
                conn.closing = Closing::AfterFlush;
                push_dirty(conn, &mut self.dirty);
                self.closing
                    .schedule(now.mono + self.limits.close_timeout, id);
            }
            Err(e) => {
                log::info!("{} read error: {e}", sink.chat.log_name(id));
                self.dead.push(id);
            }
        }
    }
}
