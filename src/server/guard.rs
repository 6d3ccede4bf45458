//! The loop's own reliability guards (issue 8): connections per source address, a command
//! penalty per connection (ngIRCd style) that its address keeps after a close (issue 17), the
//! worst loop iteration, the time each phase of an iteration may take (issue 20), and warnings
//! that are logged once per burst rather than once per connection.

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
/// Bringing subscribers up to date with the announcements (copying their lines out).
pub const ANNOUNCE_PHASE: Duration = Duration::from_millis(6);

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

    /// Time spent in this phase in this iteration, while it is not running.
    pub fn spent(&self) -> Duration {
        self.spent
    }

    /// Whether this phase has used its time in this iteration.
    pub fn over(&self) -> bool {
        let running = self.entered.map_or(Duration::ZERO, |t| t.elapsed());
        self.spent + running >= self.budget
    }
}

/// Addresses remembered with a command penalty still running and no connection open: past
/// this many, a closing connection's penalty is not remembered (a flood of one-shot addresses
/// must not grow the table; each entry lives at most `PENALTY_AHEAD` anyway).
const MAX_REMEMBERED: usize = 65_536;

/// One source address: its open connections, and the command penalty its last closed
/// connection had left, so reconnecting does not reset it (issue 17, F6).
#[derive(Debug, Default)]
struct Address {
    open: usize,
    penalty: Option<Instant>,
}

/// Open connections and running command penalties per source address.
#[derive(Debug, Default)]
pub struct PerIp {
    addresses: HashMap<IpAddr, Address>,
}

impl PerIp {
    /// Count one more connection from `ip` unless it has `max` already (loopback is exempt
    /// unless `loopback` says otherwise).
    pub fn admit(&mut self, ip: IpAddr, max: usize, loopback: bool) -> bool {
        let a = self.addresses.entry(ip).or_default();
        if a.open >= max && (loopback || !ip.is_loopback()) {
            if a.open == 0 && a.penalty.is_none() {
                self.addresses.remove(&ip);
            }
            return false;
        }
        a.open += 1;
        true
    }

    /// Where a new connection from `ip`'s command penalty starts: where the address's last
    /// one left it if that is still ahead of `now` (loopback only when `loopback`: local tools
    /// and tests reconnect freely), else `now`.
    pub fn penalty(&self, ip: IpAddr, now: Instant, loopback: bool) -> Instant {
        if ip.is_loopback() && !loopback {
            return now;
        }
        let left = self.addresses.get(&ip).and_then(|a| a.penalty);
        left.filter(|p| *p > now).unwrap_or(now)
    }

    /// A connection from `ip` closed with its penalty at `penalty`: remember it while it runs.
    pub fn release(&mut self, ip: IpAddr, penalty: Instant, now: Instant) {
        if self.addresses.len() >= MAX_REMEMBERED {
            self.tidy(now);
        }
        let remembered = self.addresses.len();
        let Some(a) = self.addresses.get_mut(&ip) else {
            return;
        };
        a.open = a.open.saturating_sub(1);
        let running = Some(penalty.max(a.penalty.unwrap_or(penalty))).filter(|p| *p > now);
        a.penalty = running.filter(|_| a.open > 0 || remembered < MAX_REMEMBERED);
        if a.open == 0 && a.penalty.is_none() {
            self.addresses.remove(&ip);
        }
    }

    /// Forget penalties that have run out (when the table is full).
    fn tidy(&mut self, now: Instant) {
        self.addresses.retain(|_, a| {
            a.penalty = a.penalty.filter(|p| *p > now);
            a.open > 0 || a.penalty.is_some()
        });
    }
}

/// An iteration longer than this is logged at `warn` with where its time went (the rule: no
/// iteration over 50 ms).
pub const SLOW_ITERATION: Duration = Duration::from_millis(50);

/// Where one loop iteration's time went, so a stall names its cause: the phases of the loop
/// body, the disk inside them, and what none of them counts (the machine not running the
/// server, or work outside every phase).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IterationParts {
    /// Reading and handling input, accepting.
    pub reading: Duration,
    /// The core's timers, its bounded slice of password hashes, the cluster's timers.
    pub timers: Duration,
    /// Reaping, committing, applying, flushing, compacting (`settle`), and the lazy sync.
    pub settling: Duration,
    /// Of settling: reaping closed connections, flushing output, catching up subscribers.
    pub reaping: Duration,
    pub flushing: Duration,
    pub announcing: Duration,
    /// Of settling: commits and syncs, compaction and backup steps.
    pub committing: Duration,
    pub compacting: Duration,
}

impl IterationParts {
    /// The iteration's time that no phase accounts for.
    fn unaccounted(&self, took: Duration) -> Duration {
        took.saturating_sub(self.reading + self.timers + self.settling)
    }

    fn describe(&self, took: Duration) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!(
            "{:.1} ms: reading {:.1}, timers {:.1}, settling {:.1} (reaping {:.1}, flushing {:.1}, \
             announcing {:.1}, committing and syncing {:.1}, compacting {:.1}), outside every \
             phase {:.1}",
            ms(took),
            ms(self.reading),
            ms(self.timers),
            ms(self.settling),
            ms(self.reaping),
            ms(self.flushing),
            ms(self.announcing),
            ms(self.committing),
            ms(self.compacting),
            ms(self.unaccounted(took))
        )
    }
}

/// How long the server has waited for a CPU since start, from the kernel's scheduler
/// statistics (`/proc/thread-self/schedstat`, second field, ns): sampled once a second and at
/// a slow iteration, it says whether a stall was the machine running something else. `None`
/// where the kernel does not keep them.
fn cpu_wait() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// The longest loop iteration, reported at `info` once a minute when it grew, with where its
/// time went; an iteration over `SLOW_ITERATION` is logged at `warn` at once (once per burst).
/// Time outside every phase is the machine not running the server (a busy 2-core VM preempts
/// it for tens of ms) or work no phase counts.
#[derive(Debug)]
pub struct IterationClock {
    pub worst: Duration,
    /// Where the worst iteration's time went.
    worst_parts: IterationParts,
    /// Disk time of the iteration under way: committing and syncing, compacting.
    disk: [Duration; 2],
    reported: Duration,
    next_report: Instant,
    slow: Quiet,
    /// The last sample of `cpu_wait` and when it was taken.
    waited: Option<(Instant, Duration)>,
}

impl IterationClock {
    pub fn new(now: Instant) -> IterationClock {
        IterationClock {
            worst: Duration::ZERO,
            worst_parts: IterationParts::default(),
            disk: [Duration::ZERO; 2],
            reported: Duration::ZERO,
            next_report: now + Duration::from_secs(60),
            slow: Quiet::default(),
            waited: cpu_wait().map(|w| (now, w)),
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

    /// One iteration took `took`, ending at `now`; `parts` says where it went (its disk time
    /// comes from `committed_since` and `compacted_since`).
    pub fn record(&mut self, took: Duration, mut parts: IterationParts, now: Instant) {
        [parts.committing, parts.compacting] = self.disk;
        self.disk = [Duration::ZERO; 2];
        if took > self.worst {
            self.worst = took;
            self.worst_parts = parts;
        }
        if took > SLOW_ITERATION {
            let waited = self.sample_cpu_wait(now);
            self.slow.warn(now, || {
                let mut text = format!("slow loop iteration, {}", parts.describe(took));
                if let Some((over, w)) = waited {
                    text += &format!(
                        "; the server waited {:.1} ms for a CPU in the last {:.0} ms",
                        w.as_secs_f64() * 1e3,
                        over.as_secs_f64() * 1e3
                    );
                }
                text
            });
        } else if self
            .waited
            .is_some_and(|(at, _)| now.saturating_duration_since(at) >= Duration::from_secs(1))
        {
            self.sample_cpu_wait(now);
        }
        if now >= self.next_report {
            self.next_report = now + Duration::from_secs(60);
            if self.worst != self.reported {
                self.report();
            }
        }
    }

    /// Take a new sample of the CPU wait; the time since the last sample and the wait in it.
    fn sample_cpu_wait(&mut self, now: Instant) -> Option<(Duration, Duration)> {
        let (at, before) = self.waited?;
        let w = cpu_wait()?;
        self.waited = Some((now, w));
        Some((now.saturating_duration_since(at), w.saturating_sub(before)))
    }

    pub fn report(&mut self) {
        self.reported = self.worst;
        log::info!(
            "worst loop iteration so far: {} us ({} us committing and syncing, {} us compacting; {})",
            self.worst.as_micros(),
            self.worst_parts.committing.as_micros(),
            self.worst_parts.compacting.as_micros(),
            self.worst_parts.describe(self.worst)
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
        let now = Instant::now();
        let far: IpAddr = [192, 0, 2, 1].into();
        let me: IpAddr = [127, 0, 0, 1].into();
        assert!(p.admit(far, 2, false) && p.admit(far, 2, false));
        assert!(!p.admit(far, 2, false));
        p.release(far, now, now);
        assert!(p.admit(far, 2, false));
        assert!((0..5).all(|_| p.admit(me, 2, false)), "loopback exempt");
        assert!(!p.admit(me, 2, true), "unless the limit was set explicitly");
    }

    /// Issue 17, F6: a connection's command penalty outlives it at its address, so a flooder
    /// that reconnects starts where it left off; other addresses are not affected, loopback
    /// only when asked, and the memory goes once the penalty has run out.
    #[test]
    fn the_penalty_survives_a_reconnect_from_the_same_address() {
        let mut p = PerIp::default();
        let now = Instant::now();
        let far: IpAddr = [192, 0, 2, 1].into();
        let other: IpAddr = [192, 0, 2, 2].into();
        let me: IpAddr = [127, 0, 0, 1].into();
        let ahead = now + Duration::from_secs(30);
        assert!(p.admit(far, 4, false));
        p.release(far, ahead, now);
        assert!(p.admit(far, 4, false));
        assert_eq!(p.penalty(far, now, false), ahead, "carried over");
        assert_eq!(p.penalty(other, now, false), now);
        p.release(far, now, now);
        assert_eq!(p.penalty(far, now, false), ahead, "the larger one is kept");
        assert!(p.admit(me, 4, false));
        p.release(me, ahead, now);
        assert_eq!(p.penalty(me, now, false), now, "loopback exempt by default");
        assert_eq!(p.penalty(me, now, true), ahead);
        let later = ahead + Duration::from_secs(1);
        assert_eq!(p.penalty(far, later, false), later, "run out");
        p.tidy(later);
        assert!(p.addresses.is_empty());
    }

    #[test]
    fn the_worst_iteration_keeps_its_own_disk_time() {
        let t0 = Instant::now();
        let mut c = IterationClock::new(t0);
        let before = Instant::now() - Duration::from_millis(2);
        let none = IterationParts::default();
        c.committed_since(before);
        c.compacted_since(before);
        c.record(Duration::from_millis(5), none, t0);
        assert!(c.worst_parts.committing >= Duration::from_millis(2));
        assert!(c.worst_parts.compacting >= Duration::from_millis(2));
        c.record(Duration::from_millis(30), none, t0);
        assert_eq!(c.worst, Duration::from_millis(30));
        assert_eq!(c.worst_parts, none, "disk time is per iteration");
        c.compacted_since(before);
        c.record(Duration::from_millis(10), none, t0);
        assert_eq!(c.worst_parts, none, "only the worst's is kept");
    }

    /// Where the kernel keeps scheduler statistics, the CPU wait is read and never goes back.
    #[test]
    fn the_cpu_wait_is_read_where_the_kernel_keeps_it() {
        if !std::path::Path::new("/proc/thread-self/schedstat").exists() {
            return;
        }
        let first = cpu_wait().expect("schedstat parses");
        let mut clock = IterationClock::new(Instant::now());
        let (over, waited) = clock
            .sample_cpu_wait(Instant::now())
            .expect("a sample after the first");
        assert!(over < Duration::from_secs(60));
        assert!(cpu_wait().expect("again") >= first);
        assert!(waited < Duration::from_secs(60));
    }

    /// A stall names where its time went; what no phase counts is shown as such.
    #[test]
    fn a_slow_iteration_is_described_by_its_parts() {
        let ms = Duration::from_millis;
        let parts = IterationParts {
            reading: ms(3),
            timers: ms(1),
            settling: ms(60),
            flushing: ms(55),
            ..IterationParts::default()
        };
        let text = parts.describe(ms(70));
        assert!(
            text.starts_with("70.0 ms: reading 3.0, timers 1.0, settling 60.0"),
            "{text}"
        );
        assert!(text.contains("flushing 55.0"), "{text}");
        assert!(text.ends_with("outside every phase 6.0"), "{text}");
        assert_eq!(parts.unaccounted(ms(50)), Duration::ZERO, "never negative");
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
