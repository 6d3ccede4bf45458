//! Output: the core's actions rendered onto connection buffers (fan-out rendered once per
//! protocol, each copy framed by its connection's transport), one write pass per dirty
//! connection, slow readers and the global output budget.

use super::announce::{catch_up, Announcements};
use super::arena::Arena;
use super::{push_dirty, Server};
use crate::chat::Action;
use crate::connection::{Closing, Connection, Overflow, NOT_SUBSCRIBED};
use crate::event::Shared;
use crate::protocol::RenderCache;
use crate::session::ConnId;
use crate::time::Now;
use slab::Slab;
use std::time::Instant;

/// Emptied output buffers kept for reuse, so fan-out does not allocate per iteration: at most
/// 128 buffers of at most 64 KiB each, 4 MiB in all. A tagged IRC fan-out line is 1.8x the
/// bytes, so a member's tail outgrew the 16 KiB kept before, and each iteration freed and grew
/// it again: 2.5x the page faults and twice the `brk`/`mmap` calls per delivery, all of the
/// server's extra system time with tags on (issue 22, BENCHMARKS.md).
const SPARE_BUFFERS: usize = 128;
const SPARE_MAX_CAPACITY: usize = 64 * 1024;
const SPARE_BYTES: usize = 4 * 1024 * 1024;

/// The parts of the server that queueing output touches.
struct Queues<'a> {
    conns: &'a mut Slab<Connection>,
    spare: &'a mut Vec<Vec<u8>>,
    /// The buffer lent to a transport per write ([`Connection::flush`]).
    pack: &'a mut Vec<u8>,
    dirty: &'a mut Vec<ConnId>,
    dead: &'a mut Vec<ConnId>,
    output_total: &'a mut usize,
    /// Dropped as slow readers (logged once the actions are applied).
    slow: Vec<ConnId>,
    /// Closed by the core before their TLS handshake finished (logged likewise).
    unshaken: Vec<ConnId>,
    now: Instant,
    cap: usize,
    /// Issue 20: what a connection has not read of these goes before anything else for it.
    announcements: &'a mut Announcements,
    /// Fan-out deliveries of this pass not queued yet (issue 22).
    arena: &'a mut Arena,
}

impl Queues<'_> {
    /// Queue an event onto `id`'s buffer with `queue` (given a source of empty buffers), or
    /// drop `id` as a slow reader if it is over the cap even after the socket took what it
    /// could. `queue` is a closure per call site, so the once-per-recipient path of a fan-out
    /// compiles to straight-line code (callgrind: a call or an enum match here cost 7 to 37
    /// instructions per delivery). First the announcements it has not read (issue 20), so its
    /// output keeps the order they were made in; a connection waiting to be reaped gets nothing.
    #[inline(always)]
    fn deliver(
        &mut self,
        id: ConnId,
        mut queue: impl FnMut(&mut Connection, &mut dyn FnMut() -> Vec<u8>) -> Result<(), Overflow>,
    ) {
        let Some(c) = self.conns.get_mut(id.slot()).filter(|c| c.id == id) else {
            return;
        };
        if c.closing == Closing::Reaping {
            return;
        }
        let (spare, cap, announcements) = (&mut *self.spare, self.cap, &mut *self.announcements);
        let before = c.pending();
        let mut both = |c: &mut Connection, spare: &mut dyn FnMut() -> Vec<u8>| {
            catch_up(announcements, c, cap, spare)?;
            queue(c, spare)
        };
        let mut queued = both(c, &mut || spare.pop().unwrap_or_default());
        if queued.is_err() {
            flush_some(c, self.now, spare, self.pack);
            queued = both(c, &mut Vec::new);
        }
        *self.output_total = (*self.output_total + c.pending()).saturating_sub(before);
        if queued.is_ok() {
            push_dirty(c, self.dirty);
        } else {
            self.slow.push(id);
            self.dead.push(id);
        }
    }
}

impl Queues<'_> {
    /// A fan-out delivery: deferred into the pass's arena (one range per member, queued at
    /// [`Queues::settle`]) when it can be, else queued now after settling what waits, so
    /// every connection's output keeps the order it was made in. It waits when the event is
    /// shared for the member's protocol, the member has read every announcement (its catch-up
    /// goes first, queued directly) and its queue plus what waits has room for the line.
    fn deliver_shared(&mut self, id: ConnId, shared: &Shared, cache: &mut RenderCache, now: u64) {
        let Some(c) = self.conns.get_mut(id.slot()).filter(|c| c.id == id) else {
            return;
        };
        if c.closing == Closing::Reaping {
            return;
        }
        let waiting = self.arena.deferred_len(id);
        let used = c.pending() + waiting;
        if c.announced >= self.announcements.end()
            && used < self.cap
            && c.protocol.shareable(&shared.event)
            && self.arena.defer(c, &shared.event, now, self.cap - used)
        {
            return;
        }
        self.settle();
        let cap = self.cap;
        self.deliver(id, |c, spare| {
            c.queue_shared(shared, cache, now, cap, spare)
        });
    }

    /// Settle before something else is queued for `id` if fan-out waits for it.
    fn settle_for(&mut self, id: ConnId) {
        if self.arena.deferred_len(id) > 0 {
            self.settle();
        }
    }

    /// Queue every deferred fan-out delivery (see [`Arena`]); they were checked against the
    /// cap when deferred, so none overflows.
    fn settle(&mut self) {
        if self.arena.is_settled() {
            return;
        }
        let (conns, spare, dirty) = (&mut *self.conns, &mut *self.spare, &mut *self.dirty);
        let output_total = &mut *self.output_total;
        self.arena.settle(|id, chunk, range| {
            let Some(c) = conns.get_mut(id.slot()).filter(|c| c.id == id) else {
                return;
            };
            if c.closing == Closing::Reaping {
                return;
            }
            let before = c.pending();
            let mut fresh = || spare.pop().unwrap_or_default();
            let _ = c.queue_chunk(chunk, range, usize::MAX, &mut fresh);
            *output_total = (*output_total + c.pending()).saturating_sub(before);
            push_dirty(c, dirty);
        });
    }
}

/// Write what the socket takes now, keeping the emptied tails.
pub(super) fn flush_some(
    c: &mut Connection,
    now: Instant,
    spare: &mut Vec<Vec<u8>>,
    pack: &mut Vec<u8>,
) {
    let _ = c.flush(now, &mut |buf| keep_spare(spare, buf), pack);
}

/// Keep an emptied tail for reuse, within the pool's bounds.
pub(super) fn keep_spare(spare: &mut Vec<Vec<u8>>, buf: Vec<u8>) {
    let size = buf.capacity();
    if size == 0 || size > SPARE_MAX_CAPACITY || spare.len() >= SPARE_BUFFERS {
        return;
    }
    if spare.iter().map(Vec::capacity).sum::<usize>() + size <= SPARE_BYTES {
        spare.push(buf);
    }
}

impl Server {
    pub(super) fn mark_dirty(&mut self, id: ConnId) {
        if let Some(c) = self.conns.get_mut(id.slot()).filter(|c| c.id == id) {
            push_dirty(c, &mut self.dirty);
        }
    }

    pub(super) fn apply_actions(&mut self, now: Now) {
        self.delivered += self.chat.pending_deliveries();
        let limits = self.limits;
        let cap = limits.max_output;
        let mut q = Queues {
            conns: &mut self.conns,
            spare: &mut self.spare,
            pack: &mut self.pack,
            dirty: &mut self.dirty,
            dead: &mut self.dead,
            output_total: &mut self.output_total,
            slow: Vec::new(),
            unshaken: Vec::new(),
            now: now.mono,
            cap,
            announcements: &mut self.announcements,
            arena: &mut self.arena,
        };
        let now_ms = now.unix_ms();
        for action in self.chat.drain_actions() {
            // Whatever else is queued for a member, or marks a position in its output, goes
            // after the fan-out deferred for it (order matters per connection only).
            match &action {
                Action::Send(id, _)
                | Action::CloseAfterFlush(id)
                | Action::WhenWritten(id, _)
                | Action::NotifyWhenFlushed(id)
                | Action::Unsubscribe(id) => q.settle_for(*id),
                Action::Share(..)
                | Action::Close(_)
                | Action::Resume(_)
                | Action::Announce(..)
                | Action::Subscribe(_) => {}
            }
            match action {
                Action::Send(id, event) => {
                    super::Delivery::count(&event, 1, &mut self.counters.deliveries);
                    q.deliver(id, |c, spare| c.queue_event(&event, now_ms, cap, spare));
                }
                Action::Share(shared, ids) => {
                    super::Delivery::count(&shared.event, ids.len(), &mut self.counters.deliveries);
                    let mut cache = RenderCache::default();
                    q.arena.begin_event();
                    for id in ids {
                        q.deliver_shared(id, &shared, &mut cache, now_ms);
                    }
                    if q.arena.is_full() {
                        q.settle();
                    }
                }
                Action::Close(id) => q.dead.push(id),
                // Issue 20: presence lines, read by each subscriber from one text.
                Action::Announce(shared, except) => q.announcements.announce(shared, &except),
                Action::Subscribe(id) => {
                    let end = q.announcements.end();
                    if let Some(c) = q.conns.get_mut(id.slot()).filter(|c| c.id == id) {
                        c.announced = c.announced.min(end);
                    }
                }
                Action::Unsubscribe(id) => {
                    q.deliver(id, |_, _| Ok(()));
                    if let Some(c) = q.conns.get_mut(id.slot()).filter(|c| c.id == id) {
                        c.announced = NOT_SUBSCRIBED;
                    }
                }
                Action::CloseAfterFlush(id) => {
                    q.deliver(id, |_, _| Ok(()));
                    if let Some(c) = q.conns.get_mut(id.slot()).filter(|c| c.id == id) {
                        if c.transport.handshaking() {
                            // Nothing can reach it before its handshake, which had the whole
                            // login timeout (or the shutdown came first): give up now.
                            q.unshaken.push(id);
                            q.dead.push(id);
                            continue;
                        }
                        if c.closing != Closing::AfterFlush {
                            c.closing = Closing::AfterFlush;
                            self.closing.schedule(now.mono + limits.close_timeout, id);
                        }
                        push_dirty(c, q.dirty);
                    }
                }
                Action::WhenWritten(id, marker) => {
                    if let Some(c) = q.conns.get_mut(id.slot()).filter(|c| c.id == id) {
                        c.mark(marker);
                        push_dirty(c, q.dirty);
                    }
                }
                // Issue 21: a password hash ended; what the connection sent meanwhile waits.
                Action::Resume(id) => self.unread.push(id),
                Action::NotifyWhenFlushed(id) => {
                    if let Some(c) = q.conns.get_mut(id.slot()).filter(|c| c.id == id) {
                        c.notify_flushed = true;
                        push_dirty(c, q.dirty);
                    }
                }
            }
        }
        q.settle();
        for id in q.unshaken {
            let name = self.chat.log_name(id);
            log::info!("{name} closed before its TLS handshake finished");
        }
        self.counters.slow_cuts += q.slow.len() as u64;
        for id in q.slow {
            let chat = &self.chat;
            self.slow_warning.warn(now.mono, || {
                format!(
                    "{} output buffer over {cap} bytes: disconnecting slow reader",
                    chat.log_name(id)
                )
            });
        }
    }

    /// One write pass per dirty connection; what does not fit waits for a writable event.
    /// When the flushing phase's time is up the rest stay dirty for the next iteration.
    pub(super) fn flush_dirty(&mut self, now: Now) {
        self.flushing.enter();
        let mut dirty = std::mem::take(&mut self.dirty).into_iter();
        while let Some(id) = dirty.next() {
            if self.flushing.over() {
                self.dirty.push(id);
                self.dirty.extend(dirty);
                break;
            }
            let Some(c) = self.conns.get_mut(id.slot()).filter(|c| c.id == id) else {
                continue;
            };
            c.dirty = false;
            if c.closing == Closing::Reaping {
                continue;
            }
            let before = c.pending();
            let spare = &mut self.spare;
            let result = c.flush(now.mono, &mut |buf| keep_spare(spare, buf), &mut self.pack);
            if let Some(at) = c.resume_at() {
                // Issue 21: the rest waits for its pause; nothing else will flush it then.
                self.paused.schedule(at, id);
            }
            self.operator.bytes_out += before.saturating_sub(c.pending()) as u64;
            self.output_total = (self.output_total + c.pending()).saturating_sub(before);
            let written = &mut self.written;
            c.take_written(|marker| written.push((id, marker)));
            if c.read_paused && c.pending() <= self.limits.max_output / 2 {
                // Edge-triggered: no new event will say the input is still waiting.
                c.read_paused = false;
                self.unread.push(id);
            }
            match result {
                Ok(true) => {
                    if c.closing == Closing::AfterFlush {
                        // A WebSocket's close frame goes out and waits for the peer's answer
                        // (bounded by the closing deadline); anything else closes now.
                        if c.transport.close_handshake() {
                            if let Err(e) = c.transport.flush() {
                                log::info!("{} write error: {e}", self.chat.log_name(id));
                                self.dead.push(id);
                            }
                        } else {
                            self.dead.push(id);
                        }
                    } else if std::mem::take(&mut c.notify_flushed) {
                        self.flushed.push(id);
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    log::info!("{} write error: {e}", self.chat.log_name(id));
                    self.dead.push(id);
                }
            }
        }
        self.flushing.leave();
    }

    /// Queued output over all connections above `--max-output-total`: cut the largest queues
    /// first, as slow readers, until the rest fits.
    pub(super) fn cut_largest_queues(&mut self, now: Now) {
        if self.output_total <= self.limits.max_output_total {
            return;
        }
        let mut dead = self.dead.clone();
        dead.sort_unstable();
        let queues = self
            .conns
            .iter()
            .filter(|(_, c)| c.pending() > 0)
            .map(|(_, c)| {
                let going = c.closing == Closing::Reaping || dead.binary_search(&c.id).is_ok();
                (c.pending(), c.id, going)
            });
        let limit = self.limits.max_output_total;
        let cut = queues_to_cut(queues, self.output_total, limit);
        if cut.is_empty() {
            return;
        }
        let n = cut.len();
        self.counters.slow_cuts += n as u64;
        self.dead.extend(cut);
        self.slow_warning.warn(now.mono, || {
            format!("queued output over --max-output-total {limit}: cutting the {n} largest queues as slow readers")
        });
    }
}

/// Which of `queues` (bytes pending, id, already on its way out) to cut, largest first, so that
/// the rest of `total` fits in `limit`. A queue on its way out is never picked again and its
/// bytes count as gone: a reap deferred to the next iteration (the reaping phase's bound) must
/// not make `settle` pick the same connection again and again, which spun the loop forever.
fn queues_to_cut(
    queues: impl Iterator<Item = (usize, ConnId, bool)>,
    total: usize,
    limit: usize,
) -> Vec<ConnId> {
    let mut total = total;
    let mut live = Vec::new();
    for (pending, id, going) in queues {
        if going {
            total = total.saturating_sub(pending);
        } else {
            live.push((pending, id));
        }
    }
    live.sort_unstable_by(|a, b| b.cmp(a));
    let mut cut = Vec::new();
    for (pending, id) in live {
        if total <= limit {
            break;
        }
        total = total.saturating_sub(pending);
        cut.push(id);
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tails of up to 64 KiB come back for reuse (a tagged IRC fan-out fills 20-40 KiB per
    /// member per iteration; 16 KiB was the bound before), but the pool never holds more than
    /// 4 MiB or 128 buffers, and a larger tail is freed.
    #[test]
    fn spare_tails_up_to_64_kib_are_kept_within_4_mib() {
        let mut spare = Vec::new();
        keep_spare(&mut spare, Vec::with_capacity(40 * 1024));
        assert_eq!(spare.len(), 1, "a 40 KiB tail is kept");
        keep_spare(&mut spare, Vec::with_capacity(65 * 1024));
        assert_eq!(spare.len(), 1, "one over 64 KiB is not");
        for _ in 0..200 {
            keep_spare(&mut spare, Vec::with_capacity(64 * 1024));
        }
        let kept: usize = spare.iter().map(Vec::capacity).sum();
        assert!(
            kept <= SPARE_BYTES && kept > SPARE_BYTES - 64 * 1024,
            "{kept}"
        );
        spare.clear();
        for _ in 0..200 {
            keep_spare(&mut spare, Vec::with_capacity(16));
        }
        assert_eq!(spare.len(), SPARE_BUFFERS);
    }

    /// Regression: 10,000 logins with presence under a small `--max-output-total` hung the
    /// loop. The reaping phase had deferred the cut connections (still holding their queues)
    /// to the next iteration, and each pass of `settle` cut them again, so `dead` was never
    /// empty and the iteration never ended. A queue on its way out is not picked and its bytes
    /// count as gone; only as many live queues are cut as the rest needs.
    #[test]
    fn queues_on_their_way_out_are_not_cut_again_and_count_as_gone() {
        let id = |n| ConnId::new(n, 1);
        let going = [(500, id(1), true), (400, id(2), true)];
        assert!(queues_to_cut(going.into_iter(), 900, 100).is_empty());
        let mixed = [
            (500, id(1), true),
            (300, id(2), false),
            (200, id(3), false),
            (50, id(4), false),
        ];
        assert_eq!(queues_to_cut(mixed.into_iter(), 1050, 300), vec![id(2)]);
        assert_eq!(
            queues_to_cut(mixed.into_iter(), 1050, 100),
            vec![id(2), id(3)]
        );
    }
}
