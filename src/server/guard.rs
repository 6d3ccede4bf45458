//! The loop's own reliability guards (issue 8): connections per source address, a command
//! penalty per connection (ngIRCd style), the worst loop iteration, the time each phase of an
//! iteration may take (issue 20), and warnings that are logged once per burst rather than once
//! per connection.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// A connection whose penalty (`--penalty-us` per input) runs further ahead of now than this is
/// not read until it catches up: a flooder is slowed (with the default 500 us, 2000 commands a
/// second after a burst of 20000), never dropped.
pub const PENALTY_AHEAD: Duration = Duration::from_secs(10);

/// How long the reading, reaping and flushing phases of one iteration may each run before
/// the rest of their work waits for the next iteration (issue 20: no iteration over 50 ms,
/// whatever arrives at once: 10,000 sockets closing together cost 50 M presence lines). What
/// is left is served first next time, and the loop does not sleep while anything is left.
pub const READ_PHASE: Duration = Duration::from_millis(8);
pub const REAP_PHASE: Duration = Duration::from_millis(8);
pub const FLUSH_PHASE: Duration = Duration::from_millis(12);

/// Deliveries (a fan-out counted once per recipient) the reading phase admits per iteration:
/// their rendering and writing come later in the iteration, so they count against it, not the
/// time spent reading. A `broadcast` or a login costs one per user online, so one
/// connection's lines per read are scaled down as more users are online.
pub const DELIVERIES_PER_ITERATION: usize = 25_000;

/// The time one phase of an iteration has, counted only while the phase runs (a flush pass
/// between two commits is charged for the flushing, not for the commits' disk time).
#[derive(Debug)]
pub struct Phase {
    budget: Duration,
    /// Time spent in this phase so far in this iteration, before the current entry.
    spent: Duration,
    /// When the phase was last entered, while it runs.
    entered: Option<Instant>,
}

impl Phase {
    pub fn new(budget: Duration) -> Phase {
        Phase {
            budget,
            spent: Duration::ZERO,
            entered: None,
        }
    }

    /// A new iteration: nothing spent yet.
    pub fn reset(&mut self) {
        self.spent = Duration::ZERO;
        self.entered = None;
    }

    pub fn enter(&mut self) {
        self.entered = Some(Instant::now());
    }

    pub fn leave(&mut self) {
        if let Some(t) = self.entered.take() {
            self.spent += t.elapsed();
        }
    }

    /// Whether this phase has used its time in this iteration.
    pub fn over(&self) -> bool {
        let running = self.entered.map_or(Duration::ZERO, |t| t.elapsed());
        self.spent + running >= self.budget
    }
}

/// Open connections per source address.
#[derive(Debug, Default)]
pub struct PerIp {
    counts: HashMap<IpAddr, usize>,
}

impl PerIp {
    /// Count one more connection from `ip` unless it has `max` already (loopback is exempt
    /// unless `loopback` says otherwise).
    pub fn admit(&mut self, ip: IpAddr, max: usize, loopback: bool) -> bool {
        let n = self.counts.entry(ip).or_default();
        if *n >= max && (loopback || !ip.is_loopback()) {
            if *n == 0 {
                self.counts.remove(&ip);
            }
            return false;
        }
        *n += 1;
        true
    }

    pub fn release(&mut self, ip: IpAddr) {
        if let Some(n) = self.counts.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.counts.remove(&ip);
            }
        }
    }
}

/// The longest loop iteration, reported at `info` once a minute when it grew, with how much of
/// it went to the disk: commits and syncs, and compaction. The rest is CPU, or the machine not
/// running the server (a busy 2-core VM preempts it for tens of ms).
#[derive(Debug)]
pub struct IterationClock {
    pub worst: Duration,
    /// Disk time of the worst iteration: committing and syncing, compacting.
    worst_disk: [Duration; 2],
    /// Disk time of the iteration under way.
    disk: [Duration; 2],
    reported: Duration,
    next_report: Instant,
}

impl IterationClock {
    pub fn new(now: Instant) -> IterationClock {
        IterationClock {
            worst: Duration::ZERO,
            worst_disk: [Duration::ZERO; 2],
            disk: [Duration::ZERO; 2],
            reported: Duration::ZERO,
            next_report: now + Duration::from_secs(60),
        }
    }

    /// A commit or sync that began at `since` has just ended.
    pub fn committed_since(&mut self, since: Instant) {
        self.disk[0] += since.elapsed();
    }

    /// A compaction step that began at `since` has just ended.
    pub fn compacted_since(&mut self, since: Instant) {
        self.disk[1] += since.elapsed();
    }

    /// One iteration took `took`, ending at `now`.
    pub fn record(&mut self, took: Duration, now: Instant) {
        if took > self.worst {
            self.worst = took;
            self.worst_disk = self.disk;
        }
        self.disk = [Duration::ZERO; 2];
        if now >= self.next_report {
            self.next_report = now + Duration::from_secs(60);
            if self.worst != self.reported {
                self.report();
            }
        }
    }

    pub fn report(&mut self) {
        self.reported = self.worst;
        log::info!(
            "worst loop iteration so far: {} us ({} us committing and syncing, {} us compacting)",
            self.worst.as_micros(),
            self.worst_disk[0].as_micros(),
            self.worst_disk[1].as_micros()
        );
    }
}

/// A warning logged once per burst: the first occurrence, then a count at most once a second.
#[derive(Debug, Default)]
pub struct Quiet {
    suppressed: u64,
    last: Option<Instant>,
}

impl Quiet {
    /// Log `what` now, or count it if one was logged less than a second ago.
    pub fn warn(&mut self, now: Instant, what: impl FnOnce() -> String) {
        match self.last {
            Some(t) if now.saturating_duration_since(t) < Duration::from_secs(1) => {
                self.suppressed += 1;
            }
            _ => {
                let (text, more) = (what(), std::mem::take(&mut self.suppressed));
                if more > 0 {
                    log::warn!("{text} ({more} more like it before)");
                } else {
                    log::warn!("{text}");
                }
                self.last = Some(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_ip_admits_up_to_the_limit_and_exempts_loopback_by_default() {
        let mut p = PerIp::default();
        let far: IpAddr = [192, 0, 2, 1].into();
        let me: IpAddr = [127, 0, 0, 1].into();
        assert!(p.admit(far, 2, false) && p.admit(far, 2, false));
        assert!(!p.admit(far, 2, false));
        p.release(far);
        assert!(p.admit(far, 2, false));
        assert!((0..5).all(|_| p.admit(me, 2, false)), "loopback exempt");
        assert!(!p.admit(me, 2, true), "unless the limit was set explicitly");
    }

    #[test]
    fn the_worst_iteration_keeps_its_own_disk_time() {
        let t0 = Instant::now();
        let mut c = IterationClock::new(t0);
        let before = Instant::now() - Duration::from_millis(2);
        c.committed_since(before);
        c.compacted_since(before);
        c.record(Duration::from_millis(5), t0);
        assert!(c.worst_disk.iter().all(|d| *d >= Duration::from_millis(2)));
        c.record(Duration::from_millis(30), t0);
        assert_eq!(c.worst, Duration::from_millis(30));
        assert_eq!(
            c.worst_disk,
            [Duration::ZERO; 2],
            "disk time is per iteration"
        );
        c.compacted_since(before);
        c.record(Duration::from_millis(10), t0);
        assert_eq!(
            c.worst_disk,
            [Duration::ZERO; 2],
            "only the worst's is kept"
        );
    }

    #[test]
    fn a_phase_counts_only_the_time_it_runs() {
        let mut p = Phase::new(Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(30));
        assert!(!p.over(), "time outside the phase is not charged");
        p.enter();
        std::thread::sleep(Duration::from_millis(12));
        p.leave();
        std::thread::sleep(Duration::from_millis(30));
        p.enter();
        std::thread::sleep(Duration::from_millis(12));
        assert!(p.over(), "two runs of 12 ms use up 20 ms");
        p.leave();
        p.reset();
        assert!(!p.over(), "a new iteration");
    }

    #[test]
    fn quiet_logs_once_per_burst() {
        let mut q = Quiet::default();
        let t0 = Instant::now();
        let mut logged = 0;
        for i in 0..10 {
            q.warn(t0 + Duration::from_millis(i * 10), || {
                logged += 1;
                String::new()
            });
        }
        assert_eq!(logged, 1);
        assert_eq!(q.suppressed, 9);
        q.warn(t0 + Duration::from_secs(2), || {
            logged += 1;
            String::new()
        });
        assert_eq!((logged, q.suppressed), (2, 0));
    }
}
