//! Reading a connection: backpressure, the command penalty and the per-iteration input
//! budget, then its codec decodes the bytes into core inputs.

use super::{guard, push_dirty, Server};
use crate::chat::Chat;
use crate::connection::{Closing, ReadStatus};
use crate::event::Event;
use crate::input::{Expect, Input};
use crate::session::ConnId;
use crate::time::Now;

/// Bytes read from one connection per iteration before others get their turn.
const READ_BUDGET: usize = 64 * 1024;
/// Input lines (commands) decoded from one connection per iteration: the work, not the bytes,
/// is what must be bounded (thousands of cheap pipelined commands would stall everyone). Fewer
/// when many users are online (`guard::DELIVERIES_PER_ITERATION`); the reading phase's time
/// bounds all connections together (issue 20).
const INPUT_BUDGET: usize = 256;

/// The core behind one connection, as its codec's sink.
struct CoreSink<'a> {
    chat: &'a mut Chat,
    id: ConnId,
    now: Now,
    /// Inputs decoded (for the command penalty).
    inputs: u32,
}

impl crate::protocol::Sink for CoreSink<'_> {
    fn expects(&self) -> Expect {
        self.chat.expects(self.id)
    }

    fn input(&mut self, input: Input<'_>) {
        self.inputs = self.inputs.saturating_add(1);
        self.chat.handle_input(self.id, input, self.now);
    }

    fn reply(&mut self, event: Event) {
        self.chat.reply(self.id, event);
    }
}

impl Server {
    /// Drain a readable connection, decoding its bytes into core inputs.
    pub(super) fn read(&mut self, id: ConnId, now: Now) {
        let admitted = self.admitted();
        let Some(conn) = self.conns.get_mut(id.slot).filter(|c| c.id == id) else {
            return;
        };
        if conn.closing != Closing::Open {
            return;
        }
        if self.reading.over() || admitted >= guard::DELIVERIES_PER_ITERATION {
            // Issue 20: this iteration has its share of work; edge-triggered, so remember it.
            self.unread.push(id);
            return;
        }
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
        let mut sink = CoreSink {
            chat: &mut self.chat,
            id,
            now,
            inputs: 0,
        };
        let bytes_in = &mut self.operator.bytes_in;
        let lines = ((guard::DELIVERIES_PER_ITERATION - admitted) / (sink.chat.online_count() + 1))
            .clamp(1, INPUT_BUDGET);
        let status = conn.read(&mut self.scratch, READ_BUDGET, lines, |codec, data| {
            // Issue 21: a line may start a password hash that runs for several iterations;
            // what follows it waits in the connection (`Action::Resume` brings it back),
            // so it is taken in order, after the login.
            let mut took = 0;
            for line in data.split_inclusive(|&b| b == b'\n') {
                if sink.chat.busy(id) {
                    break;
                }
                codec.decode(line, max, &mut sink);
                took += line.len();
            }
            *bytes_in += took as u64;
            took
        });
        conn.penalty = conn.penalty.max(now.mono) + self.limits.penalty * sink.inputs;
        match status {
            Ok(ReadStatus::Drained) => {}
            Ok(ReadStatus::Budget) => self.unread.push(id),
            // Issue 21: read again when the core says so (`Action::Resume`).
            Ok(ReadStatus::Paused) => {}
            Ok(ReadStatus::Eof) => {
                conn.codec.finish(max, &mut sink);
                // Half-closed: answer what was sent, then close.
                conn.closing = Closing::AfterFlush;
                push_dirty(conn, &mut self.dirty);
                self.closing
                    .schedule(now.mono + self.limits.close_timeout, id);
            }
            Err(e) => {
                log::info!("{} read error: {e}", self.chat.log_name(id));
                self.dead.push(id);
            }
        }
    }
}
