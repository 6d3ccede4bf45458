//! A hashed timer wheel of deadline *hints*. The owner re-checks each fired key against its own
//! state, so stale hints (renewed activity, a reused slab key) are no-ops. The one cancellation
//! is for hints whose owner is gone ([`TimerWheel::cancel`]): a closed connection's hints would
//! otherwise stay up to the inactivity timeout, so memory would grow with the connection churn
//! rate (a connect-and-close flood), not with the connections there are.

use std::num::NonZeroU16;
use std::time::{Duration, Instant};

/// Width of one slot, in milliseconds.
const TICK_MS: u64 = 100;
/// Slots in one rotation (204.8 s); later deadlines wait in their slot for a later round.
const SLOTS: usize = 2048;

/// Where a hint was put, for [`TimerWheel::cancel`]: the slot index plus one, so that an
/// `Option<Slot>` kept per session and kind is 2 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot(NonZeroU16);

/// Deadline hints keyed by `K`, bucketed by the 100 ms tick they fall in.
#[derive(Debug)]
pub struct TimerWheel<K> {
    slots: Vec<Vec<(Instant, K)>>,
    origin: Instant,
    /// The oldest tick that may still hold due entries; everything before it was expired.
    cursor: u64,
    len: usize,
    /// `next_deadline` memo, `None` when it must be recomputed.
    next: Option<Option<Instant>>,
}

impl<K> TimerWheel<K> {
    /// A wheel whose tick 0 starts at `origin` (any instant not after the first deadline).
    pub fn new(origin: Instant) -> TimerWheel<K> {
        let mut slots = Vec::with_capacity(SLOTS);
        slots.resize_with(SLOTS, Vec::new);
        TimerWheel {
            slots,
            origin,
            cursor: 0,
            len: 0,
            next: Some(None),
        }
    }

    fn tick_of(&self, t: Instant) -> u64 {
        let since = t.saturating_duration_since(self.origin);
        (since.as_millis() / u128::from(TICK_MS)) as u64
    }

    /// Remember that `key` wants attention at `deadline`. Returns the slot it went to, which
    /// [`TimerWheel::cancel`] needs.
    pub fn schedule(&mut self, deadline: Instant, key: K) -> Slot {
        let tick = self.tick_of(deadline).max(self.cursor);
        let slot = (tick % SLOTS as u64) as usize;
        let entries = &mut self.slots[slot];
        if entries.len() == entries.capacity() {
            // A quarter more, not double: every idle connection keeps a hint here, and
            // connections arriving together put theirs in the same few slots, where doubling
            // left a third of each slot's buffer unused on average (issue 22's idle memory).
            entries.reserve_exact((entries.len() / 4).max(4));
        }
        entries.push((deadline, key));
        self.len += 1;
        if let Some(next) = self.next {
            self.next = Some(Some(next.map_or(deadline, |n| n.min(deadline))));
        }
        Slot(NonZeroU16::MIN.saturating_add(slot as u16))
    }

    /// Forget the hint for `key` in `slot` (from [`TimerWheel::schedule`]), if still there.
    pub fn cancel(&mut self, slot: Slot, key: &K)
    where
        K: PartialEq,
    {
        let entries = &mut self.slots[usize::from(slot.0.get() - 1) % SLOTS];
        let Some(i) = entries.iter().position(|(_, k)| k == key) else {
            return;
        };
        let (deadline, _) = entries.swap_remove(i);
        if entries.is_empty() && entries.capacity() > 8 {
            entries.shrink_to(8);
        }
        self.len -= 1;
        if self.next == Some(Some(deadline)) {
            self.next = None;
        }
    }

    /// Hints still pending.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The earliest pending deadline: what the event loop sleeps until. `None`: sleep forever.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        if let Some(next) = self.next {
            return next;
        }
        let next = self.compute_next();
        self.next = Some(next);
        next
    }

    fn compute_next(&self) -> Option<Instant> {
        if self.len == 0 {
            return None;
        }
        for i in 0..SLOTS as u64 {
            let tick = self.cursor + i;
            let round_end = self.origin + Duration::from_millis(TICK_MS * (tick + 1));
            let slot = &self.slots[(tick % SLOTS as u64) as usize];
            if let Some(d) = slot.iter().map(|e| e.0).filter(|&d| d < round_end).min() {
                return Some(d);
            }
        }
        self.slots.iter().flatten().map(|e| e.0).min()
    }

    /// Move every hint due at `now` into `out` (in no particular order).
    pub fn expire(&mut self, now: Instant, out: &mut Vec<K>) {
        if self.len == 0 {
            self.cursor = self.tick_of(now);
            return;
        }
        let now_tick = self.tick_of(now);
        let span = (now_tick.saturating_sub(self.cursor) + 1).min(SLOTS as u64);
        let before = out.len();
        for i in 0..span {
            let slot = &mut self.slots[((self.cursor + i) % SLOTS as u64) as usize];
            let mut j = 0;
            while j < slot.len() {
                if slot[j].0 <= now {
                    out.push(slot.swap_remove(j).1);
                } else {
                    j += 1;
                }
            }
            if slot.is_empty() && slot.capacity() > 8 {
                slot.shrink_to(8);
            }
        }
        self.len -= out.len() - before;
        self.cursor = self.cursor.max(now_tick);
        if out.len() > before {
            self.next = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// Hints that fall in one slot (connections that arrived together) grow its buffer by a
    /// quarter at a time, so at most about a fifth of it is unused.
    #[test]
    fn a_crowded_slot_wastes_little() {
        let t0 = Instant::now();
        let mut w = TimerWheel::new(t0);
        for i in 0..10_000u32 {
            w.schedule(t0 + secs(1.0), i);
        }
        let cap = w.slots.iter().map(Vec::capacity).max().unwrap_or(0);
        assert!((10_000..=12_500).contains(&cap), "capacity {cap}");
    }

    #[test]
    fn fires_at_deadline_not_before() {
        let t0 = Instant::now();
        let mut w = TimerWheel::new(t0);
        w.schedule(t0 + secs(1.5), "a");
        w.schedule(t0 + secs(0.25), "b");
        assert_eq!(w.next_deadline(), Some(t0 + secs(0.25)));
        let mut out = Vec::new();
        w.expire(t0 + secs(0.2), &mut out);
        assert!(out.is_empty());
        w.expire(t0 + secs(0.25), &mut out);
        assert_eq!(out, vec!["b"]);
        assert_eq!(w.next_deadline(), Some(t0 + secs(1.5)));
        w.expire(t0 + secs(1.49), &mut out);
        assert_eq!(out, vec!["b"]);
        w.expire(t0 + secs(10.0), &mut out);
        assert_eq!(out, vec!["b", "a"]);
        assert!(w.is_empty());
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn deadlines_beyond_one_rotation_wait_their_round() {
        let t0 = Instant::now();
        let mut w = TimerWheel::new(t0);
        w.schedule(t0 + secs(300.0), 1);
        w.schedule(t0 + secs(300.0 - 204.8), 2);
        assert_eq!(w.next_deadline(), Some(t0 + secs(300.0 - 204.8)));
        let mut out = Vec::new();
        w.expire(t0 + secs(100.0), &mut out);
        assert_eq!(out, vec![2]);
        assert_eq!(w.next_deadline(), Some(t0 + secs(300.0)));
        w.expire(t0 + secs(299.9), &mut out);
        assert_eq!(out, vec![2]);
        w.expire(t0 + secs(300.0), &mut out);
        assert_eq!(out, vec![2, 1]);
    }

    #[test]
    fn past_deadlines_fire_on_next_expire() {
        let t0 = Instant::now();
        let mut w = TimerWheel::new(t0);
        let mut out = Vec::new();
        w.expire(t0 + secs(50.0), &mut out);
        w.schedule(t0 + secs(1.0), 'x');
        assert_eq!(w.next_deadline(), Some(t0 + secs(1.0)));
        w.expire(t0 + secs(50.0), &mut out);
        assert_eq!(out, vec!['x']);
    }

    #[test]
    fn long_sleep_scans_each_slot_once() {
        let t0 = Instant::now();
        let mut w = TimerWheel::new(t0);
        for i in 0..5000u32 {
            w.schedule(t0 + Duration::from_millis(u64::from(i) * 37), i);
        }
        let mut out = Vec::new();
        w.expire(t0 + secs(10_000.0), &mut out);
        assert_eq!(out.len(), 5000);
        assert!(w.is_empty());
    }

    #[test]
    fn a_cancelled_hint_never_fires_and_frees_its_place() {
        let t0 = Instant::now();
        let mut w = TimerWheel::new(t0);
        let a = w.schedule(t0 + secs(5.0), "a");
        w.schedule(t0 + secs(5.0), "b");
        let c = w.schedule(t0 + secs(1.0), "c");
        assert_eq!(w.next_deadline(), Some(t0 + secs(1.0)));
        w.cancel(c, &"c");
        w.cancel(a, &"a");
        w.cancel(a, &"a");
        assert_eq!(w.len(), 1);
        assert_eq!(
            w.next_deadline(),
            Some(t0 + secs(5.0)),
            "the earliest is gone"
        );
        let mut out = Vec::new();
        w.expire(t0 + secs(10.0), &mut out);
        assert_eq!(out, ["b"]);
        assert!(w.is_empty());
    }
}
