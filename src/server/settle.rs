//! The end of an iteration: reap closed connections, commit the records, apply the actions,
//! flush; then a bounded compaction step. History is never synced here (see `Store::sync`).

use super::{guard, Server};
use crate::connection::Closing;
use crate::session::ConnId;
use crate::time::Now;
use std::time::Instant;

impl Server {
    /// Drop connections whose closing deadline passed with output still unsent: a peer that
    /// never reads must not hold a descriptor and its buffers forever.
    pub(super) fn expire_closing(&mut self, now: Now) {
        self.closing.expire(now.mono, &mut self.expired);
        for id in std::mem::take(&mut self.expired) {
            if let Some(c) = self.conns.get_mut(id.slot).filter(|c| c.id == id) {
                #[cfg(feature = "web")]
                if c.transport.web().is_some_and(|w| w.awaiting_request()) {
                    log::info!(
                        "{}: HTTP request not received in time",
                        self.chat.log_name(id)
                    );
                    self.dead.push(id);
                    continue;
                }
                if c.closing == Closing::AfterFlush {
                    log::info!(
                        "{} closing deadline passed with {} bytes unsent",
                        self.chat.log_name(id),
                        c.pending()
                    );
                    self.dead.push(id);
                }
            }
        }
    }

    /// Commit, perform the core's actions, flush, reap; repeat while reaping makes more output.
    /// Reaping stops when its phase's time is up (a reaped user's logout tells every user
    /// online): the rest wait for the next iteration, first in line.
    pub(super) fn settle(&mut self, now: Now) {
        self.reaping.enter();
        for id in std::mem::take(&mut self.dead_later) {
            if self.reap_is_over() {
                self.dead_later.push(id);
            } else {
                self.reap(id, now);
            }
        }
        self.reaping.leave();
        loop {
            self.reaping.enter();
            for id in std::mem::take(&mut self.dead) {
                let over = self.reap_is_over();
                let Some(c) = self.conns.get_mut(id.slot).filter(|c| c.id == id) else {
                    continue;
                };
                if c.closing == Closing::Reaping {
                    continue; // On `dead_later` already.
                }
                if over {
                    c.closing = Closing::Reaping;
                    self.dead_later.push(id);
                } else {
                    self.reap(id, now);
                }
            }
            self.reaping.leave();
            for id in std::mem::take(&mut self.flushed) {
                self.chat.handle_flushed(id, now);
            }
            for (id, marker) in std::mem::take(&mut self.written) {
                self.chat.handle_written(id, marker, now);
            }
            self.commit(now);
            self.apply_actions(now);
            self.catch_up_subscribers(now);
            self.flush_dirty(now);
            self.cluster_flush(now);
            self.cut_largest_queues(now);
            if self.dead.is_empty() && self.flushed.is_empty() && self.written.is_empty() {
                break;
            }
        }
        self.chat.trim();
        if self.dirty.capacity() > 1 << 16 {
            self.dirty.shrink_to(1024);
        }
        // Compaction is incremental: a bounded step per iteration, never a frozen loop.
        let disk = Instant::now();
        if self.store.wants_compaction() && !self.store.compacting() {
            if let Err(e) = self.store.begin_compaction(self.chat.freeze()) {
                log::error!("compaction failed (will retry): {e}");
            }
        }
        if self.store.compacting() {
            if let Err(e) = self
                .store
                .compaction_step(crate::store::COMPACTION_STEP_BYTES)
            {
                log::error!("compaction failed (will retry): {e}");
            }
        }
        self.backup_step();
        self.iterations.compacted_since(disk);
    }

    /// The reaping phase has used its time, or the logouts so far made their share of
    /// presence lines for this iteration.
    fn reap_is_over(&self) -> bool {
        self.reaping.over() || self.admitted() >= guard::DELIVERIES_PER_ITERATION
    }

    /// Remove a connection and tell the core.
    fn reap(&mut self, id: ConnId, now: Now) {
        if let Some(mut conn) = self.conns.try_remove(id.slot) {
            conn.transport.close();
            let _ = self.poll.registry().deregister(conn.transport.socket());
            self.output_total = self.output_total.saturating_sub(conn.pending());
            if let Some(ip) = conn.peer_ip {
                self.per_ip.release(ip, conn.penalty, now.mono);
            }
            self.closed += 1;
            if conn.admitted {
                log::info!("{} closed", self.chat.log_name(id));
                self.chat.handle_disconnect(id, now);
            } else if conn.refusal {
                self.refusing -= 1;
            }
        }
    }

    /// Make this iteration's records durable before any reply that depends on them leaves.
    pub(super) fn commit(&mut self, now: Now) {
        if self.cluster_commit(now) {
            return;
        }
        if self.chat.pending_records().is_empty() {
            return;
        }
        let disk = Instant::now();
        let result = self.store.commit(self.chat.pending_records());
        self.iterations.committed_since(disk);
        if let Err(e) = &result {
            log::error!("storage commit failed, refusing this iteration's changes: {e}");
        }
        self.chat.handle_commit(result.is_ok(), now);
    }
}
