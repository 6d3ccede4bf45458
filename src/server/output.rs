//! Output: the core's actions rendered onto connection buffers (fan-out rendered once per
//! codec), one write pass per dirty connection, slow readers and the global output budget.

use super::announce::{catch_up, Announcements};
use super::{push_dirty, Server};
use crate::chat::Action;
use crate::connection::{Closing, Connection, NOT_SUBSCRIBED};
use crate::event::Event;
use crate::session::ConnId;
use crate::time::Now;
use slab::Slab;
use std::time::Instant;

/// Emptied output buffers kept for reuse, so fan-out does not allocate per iteration.
/// At most 128 x 16 KiB = 2 MiB is kept this way.
const SPARE_BUFFERS: usize = 128;
const SPARE_MAX_CAPACITY: usize = 16 * 1024;

/// An event for one connection: its own, or a fan-out one shared by many; or only the
/// announcements it has not read yet, which go before anything else queued for it.
enum Out<'a> {
    Event(&'a Event),
    Shared(&'a crate::event::Shared),
    CatchUp,
}

/// The parts of the server that queueing output touches.
struct Queues<'a> {
    conns: &'a mut Slab<Connection>,
    spare: &'a mut Vec<Vec<u8>>,
    dirty: &'a mut Vec<ConnId>,
    dead: &'a mut Vec<ConnId>,
    cap: usize,
    output_total: &'a mut usize,
    /// Dropped as slow readers (logged once the actions are applied).
    slow: Vec<ConnId>,
    now: Instant,
    announcements: &'a mut Announcements,
}

impl Queues<'_> {
    /// Render `out` onto `id`'s buffer, or drop `id` as a slow reader if it is over the cap
    /// even after the socket took what it could.
    fn deliver(&mut self, id: ConnId, out: Out<'_>) {
        // A connection waiting to be reaped (issue 20) writes nothing more: nothing is queued.
        let Some(c) = self.conns.get_mut(id.slot).filter(|c| c.id == id) else {
            return;
        };
        if c.closing == Closing::Reaping {
            return;
        }
        let (cap, spare, announcements) = (self.cap, &mut *self.spare, &*self.announcements);
        let before = c.pending();
        let queue = |c: &mut Connection, spare: &mut dyn FnMut() -> Vec<u8>| {
            catch_up(announcements, c, cap, spare)?;
            match out {
                Out::Event(e) => c.queue_event(e, cap, spare),
                Out::Shared(s) => c.queue_shared(s, cap, spare),
                Out::CatchUp => Ok(()),
            }
        };
        let mut queued = queue(c, &mut || spare.pop().unwrap_or_default());
        if queued.is_err() {
            flush_some(c, self.now);
            queued = queue(c, &mut Vec::new);
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

/// Write what the socket takes now, keeping the emptied buffer.
fn flush_some(c: &mut Connection, now: Instant) {
    if let Ok(Some(buf)) = c.flush(now) {
        c.restore_buffer(buf);
    }
}

impl Server {
    pub(super) fn mark_dirty(&mut self, id: ConnId) {
        if let Some(c) = self.conns.get_mut(id.slot).filter(|c| c.id == id) {
            push_dirty(c, &mut self.dirty);
        }
    }

    pub(super) fn apply_actions(&mut self, now: Now) {
        self.delivered += self.chat.pending_deliveries();
        let limits = self.limits;
        let mut q = Queues {
            conns: &mut self.conns,
            spare: &mut self.spare,
            dirty: &mut self.dirty,
            dead: &mut self.dead,
            cap: limits.max_output,
            output_total: &mut self.output_total,
            slow: Vec::new(),
            now: now.mono,
            announcements: &mut self.announcements,
        };
        for action in self.chat.drain_actions() {
            match action {
                Action::Send(id, event) => q.deliver(id, Out::Event(&event)),
                Action::Share(shared, ids) => {
                    for id in ids {
                        q.deliver(id, Out::Shared(&shared));
                    }
                }
                Action::Close(id) => q.dead.push(id),
                // Issue 20: presence lines, read by each subscriber from one text.
                Action::Announce(shared, except) => q.announcements.announce(shared, &except),
                Action::Subscribe(id) => {
                    let end = q.announcements.end();
                    if let Some(c) = q.conns.get_mut(id.slot).filter(|c| c.id == id) {
                        c.announced = c.announced.min(end);
                    }
                }
                Action::Unsubscribe(id) => {
                    q.deliver(id, Out::CatchUp);
                    if let Some(c) = q.conns.get_mut(id.slot).filter(|c| c.id == id) {
                        c.announced = NOT_SUBSCRIBED;
                    }
                }
                Action::CloseAfterFlush(id) => {
                    q.deliver(id, Out::CatchUp);
                    if let Some(c) = q.conns.get_mut(id.slot).filter(|c| c.id == id) {
                        if c.closing != Closing::AfterFlush {
                            c.closing = Closing::AfterFlush;
                            self.closing.schedule(now.mono + limits.close_timeout, id);
                        }
                        push_dirty(c, q.dirty);
                    }
                }
                Action::WhenWritten(id, marker) => {
                    if let Some(c) = q.conns.get_mut(id.slot).filter(|c| c.id == id) {
                        c.mark(marker);
                        push_dirty(c, q.dirty);
                    }
                }
                // Issue 21: a password hash ended; what the connection sent meanwhile waits.
                Action::Resume(id) => self.unread.push(id),
                Action::NotifyWhenFlushed(id) => {
                    if let Some(c) = q.conns.get_mut(id.slot).filter(|c| c.id == id) {
                        c.notify_flushed = true;
                        push_dirty(c, q.dirty);
                    }
                }
            }
        }
        let cap = limits.max_output;
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
            let Some(c) = self.conns.get_mut(id.slot).filter(|c| c.id == id) else {
                continue;
            };
            c.dirty = false;
            if c.closing == Closing::Reaping {
                continue;
            }
            let before = c.pending();
            let result = c.flush(now.mono);
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
                Ok(Some(buf)) => {
                    if c.closing == Closing::AfterFlush {
                        self.dead.push(id);
                    } else if std::mem::take(&mut c.notify_flushed) {
                        self.flushed.push(id);
                    }
                    self.recycle(Some(buf));
                }
                Ok(None) => {}
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
        let mut queues: Vec<(usize, ConnId)> = self
            .conns
            .iter()
            .filter(|(_, c)| c.pending() > 0 && !self.dead.contains(&c.id))
            .map(|(_, c)| (c.pending(), c.id))
            .collect();
        queues.sort_unstable_by(|a, b| b.cmp(a));
        let mut total = self.output_total;
        let mut cut = 0;
        for (pending, id) in queues {
            if total <= self.limits.max_output_total {
                break;
            }
            total -= pending;
            cut += 1;
            self.dead.push(id);
        }
        let limit = self.limits.max_output_total;
        self.slow_warning.warn(now.mono, || {
            format!("queued output over --max-output-total {limit}: cutting the {cut} largest queues as slow readers")
        });
    }

    pub(super) fn recycle(&mut self, buf: Option<Vec<u8>>) {
        if let Some(buf) = buf {
            if buf.capacity() > 0
                && buf.capacity() <= SPARE_MAX_CAPACITY
                && self.spare.len() < SPARE_BUFFERS
            {
                self.spare.push(buf);
            }
        }
    }
}
