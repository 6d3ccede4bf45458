//! The workloads. Each is bounded in message count and in time, and prints its figures through
//! `Opts::result`.

use crate::net::{Net, Phase};
use crate::procfs;
use crate::proto::{self, Join, Proto};
use crate::Opts;
use std::time::{Duration, Instant};

const GROUP: &str = "bench";

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Report the median of several runs' rates, listing every run and the last run's notes.
fn report_runs(opts: &Opts, key: &str, rates: &mut [f64], notes: &[String]) {
    let all: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
    let m = median(rates);
    let last = notes.last().map_or("", String::as_str);
    opts.result(
        key,
        m.round(),
        &format!("runs: {}; last run: {last}", all.join(", ")),
    );
}

fn payload(size: usize) -> String {
    (0..size).map(|i| (b'a' + (i % 26) as u8) as char).collect()
}

/// CPU time of the server and of the loadgen itself at one moment.
struct Usage {
    at: Instant,
    server_cpu: Option<u64>,
    own_cpu: Option<u64>,
}

impl Usage {
    fn now(pid: Option<u32>) -> Usage {
        Usage {
            at: Instant::now(),
            server_cpu: pid.and_then(|p| procfs::cpu_ticks(&p.to_string())),
            own_cpu: procfs::cpu_ticks("self"),
        }
    }

    /// "server CPU 97% (0.35 us per delivery), loadgen CPU 100%".
    fn since(&self, before: &Usage, units: u64, unit: &str) -> String {
        let secs = (self.at - before.at).as_secs_f64().max(1e-9);
        let mut parts = Vec::new();
        if let (Some(a), Some(b)) = (self.server_cpu, before.server_cpu) {
            // Clock ticks are 10 ms.
            let cpu = (a - b) as f64 / 100.0;
            parts.push(format!(
                "server CPU {:.0}% ({:.2} us per {unit})",
                cpu / secs * 100.0,
                cpu * 1e6 / units.max(1) as f64
            ));
        }
        if let (Some(a), Some(b)) = (self.own_cpu, before.own_cpu) {
            parts.push(format!("loadgen CPU {:.0}%", (a - b) as f64 / secs));
        }
        parts.join(", ")
    }
}

/// "heap 12 MiB, anon 50 MiB" of the server, for the memory notes.
fn memory_breakdown(pid: u32) -> String {
    match procfs::rss_breakdown(pid) {
        Some((heap, anon, file)) => format!(
            "RSS breakdown: [heap] {heap} KiB, other anonymous {anon} KiB, file-backed {file} KiB"
        ),
        None => String::new(),
    }
}

fn need_pid(opts: &Opts) -> Result<u32, String> {
    opts.pid()
        .ok_or_else(|| "--pid SERVER_PID is needed".to_string())
}

fn open_or_fail(
    net: &mut Net,
    what: &str,
    n: usize,
    inflight: usize,
    budget: Duration,
    script: impl FnMut(usize) -> Vec<proto::Step>,
) -> Result<(), String> {
    let stats = net.open(n, inflight, budget, false, script);
    if stats.ready < n {
        return Err(format!(
            "only {} of {n} {what} logged in ({} failed): {}",
            stats.ready,
            stats.failed,
            stats.first_error.unwrap_or_default()
        ));
    }
    Ok(())
}

/// One `GET /metrics` from `addr` (the server's `--http-port`): the time from connect to the
/// end of the response, and its size.
fn scrape_once(addr: &str) -> Result<(Duration, usize), String> {
    use std::io::{Read, Write};
    let start = Instant::now();
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| format!("scrape {addr}: {e}"))?;
    s.set_nodelay(true).ok();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    s.read_to_end(&mut body).map_err(|e| e.to_string())?;
    if !body.starts_with(b"HTTP/1.1 200") {
        return Err(format!(
            "scrape: {}",
            String::from_utf8_lossy(&body[..body.len().min(80)])
        ));
    }
    Ok((start.elapsed(), body.len()))
}

/// `/metrics` scraped every `--scrape-every` seconds from a thread of its own while a
/// workload runs (`--metrics HOST:PORT`); stopped by dropping the flag.
struct Scraper {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl Scraper {
    fn start(opts: &Opts) -> Option<Scraper> {
        let addr = opts.kv_get("metrics")?;
        let every = opts.secs("scrape-every", 1.0);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut n = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                if scrape_once(&addr).is_ok() {
                    n += 1;
                }
                std::thread::sleep(every);
            }
            n
        });
        Some(Scraper {
            stop,
            thread: Some(thread),
        })
    }

    fn finish(mut self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or(0)
    }
}

/// `/metrics` at scale: `--conns` logged-in connections held, then `--scrapes` scrapes of
/// `--metrics HOST:PORT`, one after another; the median and worst time (connect to the end of
/// the response) in microseconds.
pub fn scrape(opts: &Opts) -> Result<(), String> {
    let proto = opts.proto();
    let n: usize = opts.num("conns", 10_000);
    let scrapes: usize = opts.num::<usize>("scrapes", 50).max(1);
    let inflight: usize = opts.num("inflight", 500);
    let addr = opts
        .kv_get("metrics")
        .ok_or("scrape needs --metrics HOST:PORT")?;
    let mut net = opts.net(proto)?;
    let stats = net.open(n, inflight, opts.secs("budget", 120.0), true, |i| {
        proto.login(i, Join::Own)
    });
    net.settle(Duration::from_millis(500), Duration::from_secs(120));
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..scrapes {
        let (took, bytes) = scrape_once(&addr)?;
        times.push(took.as_secs_f64() * 1e6);
        size = bytes;
        net.turn(Some(Duration::from_millis(20)), &mut |_, _, _| {})
            .map_err(|e| e.to_string())?;
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let worst = times.last().copied().unwrap_or_default();
    let note = format!(
        "{} conns held ({} failed), {scrapes} scrapes of {size} bytes, worst {worst:.0} us",
        net.ready, stats.failed
    );
    eprintln!("  /metrics: median {median:.0} us; {note}");
    opts.result("metrics_scrape_us", median.round(), &note);
    Ok(())
}

/// Fan-out: one sender, `members` receivers in one group, closed loop with a bounded lag.
pub fn fanout(opts: &Opts) -> Result<(), String> {
    let scraper = Scraper::start(opts);
    let result = fanout_runs(opts);
    if let Some(s) = scraper {
        eprintln!("  /metrics scraped {} times meanwhile", s.finish());
    }
    result
}

fn fanout_runs(opts: &Opts) -> Result<(), String> {
    let proto = opts.proto();
    let members: usize = opts.num("members", 100);
    let total: u64 = opts.num("messages", 20_000);
    let size: usize = opts.num("size", 32);
    let window: u64 = opts.num("window", 1000);
    let runs: usize = opts.num("runs", 5);
    let budget = opts.secs("budget", 60.0);
    let base: usize = opts.num("user-base", 0);
    let text = payload(size);
    let msg = proto.group_message(GROUP, &text);
    let mut rates = Vec::new();
    let mut notes = Vec::new();
    // Runs that stopped delivering (ngIRCd over TLS sometimes holds a member's last lines with
    // every kernel queue empty): said in the notes, left out of the median.
    let mut stalled = Vec::new();
    'runs: for run in 0..runs {
        let first = base + run * (members + 1);
        let mut net = opts.net(proto)?;
        net.second = opts.addr2().map(|a| (a, crate::net::Route::Even));
        let sender_join = if proto == Proto::Resp {
            Join::None
        } else {
            Join::Group(GROUP)
        };
        open_or_fail(&mut net, "sender", 1, 1, budget, |_| {
            proto.login(first, sender_join)
        })?;
        open_or_fail(&mut net, "members", members, 50, budget, |i| {
            proto.login(first + 1 + i, Join::Group(GROUP))
        })?;
        net.settle(Duration::from_millis(200), Duration::from_secs(10));
        let marker = proto.delivery_marker(first);
        let mut counts = vec![0u64; members + 1];
        let mut sent = 0u64;
        let before = Usage::now(opts.pid());
        let start = Instant::now();
        let deadline = start + budget;
        let mut last_delivery = start;
        let per_write = (64 * 1024 / msg.len()).max(1) as u64;
        let mut batch = Vec::with_capacity(64 * 1024 + msg.len());
        loop {
            let slowest = counts[1..].iter().copied().min().unwrap_or(total);
            if slowest >= total {
                break;
            }
            if Instant::now() >= deadline {
                let why = format!(
                    "run {run}: time budget used up: sent {sent}, slowest member has {slowest}"
                );
                eprintln!("  fanout {why}");
                stalled.push(why);
                net.close_all();
                continue 'runs;
            }
            if net.dead > 0 {
                let why = net.clients.iter().find_map(|c| c.error.clone());
                return Err(format!("run {run}: a client was dropped: {why:?}"));
            }
            let room = (window - (sent - slowest)).min(total - sent).min(per_write);
            if room > 0 && net.pending(0) == 0 {
                batch.clear();
                for _ in 0..room {
                    batch.extend_from_slice(&msg);
                }
                net.send(0, &batch);
                sent += room;
            }
            net.turn(Some(Duration::from_millis(1)), &mut |idx, line, at| {
                if idx != 0 && proto.is_delivery(line, &marker) {
                    counts[idx] += 1;
                    last_delivery = at;
                }
            })
            .map_err(|e| e.to_string())?;
        }
        let secs = (last_delivery - start).as_secs_f64();
        let rate = (total * members as u64) as f64 / secs;
        let usage = Usage::now(opts.pid()).since(&before, total * members as u64, "delivery");
        eprintln!(
            "  fanout run {run}: {} deliveries in {secs:.3}s = {:.0}/s; {usage}",
            total * members as u64,
            rate
        );
        notes.push(usage);
        rates.push(rate);
        net.close_all();
        std::thread::sleep(Duration::from_millis(300));
    }
    if rates.is_empty() {
        return Err(stalled.join("; "));
    }
    notes.extend(stalled.into_iter().map(|s| format!("{s} (left out)")));
    report_runs(opts, "fanout_dps", &mut rates, &notes);
    Ok(())
}

/// TLS handshakes per second: `inflight` connections at a time, each closed (abortively) as
/// soon as its handshake is done, for `secs`. The server has then signed its key exchange and
/// sent its Finished; no protocol bytes are exchanged.
pub fn handshakes(opts: &Opts) -> Result<(), String> {
    let secs = opts.secs("secs", 5.0);
    let inflight: usize = opts.num("inflight", 50);
    let mut net = opts.net(opts.proto())?;
    if net.tls.is_none() {
        return Err("handshakes needs --tls CA.pem".into());
    }
    let before = Usage::now(opts.pid());
    let start = Instant::now();
    let (mut open, mut done) = (Vec::new(), 0u64);
    while start.elapsed() < secs {
        while open.len() < inflight {
            let idx = net
                .connect(Vec::new())
                .map_err(|e| format!("connect: {e}"))?;
            open.push(idx);
        }
        net.turn(Some(Duration::from_millis(5)), &mut |_, _, _| {})
            .map_err(|e| e.to_string())?;
        let (mut finished, mut failed) = (Vec::new(), None);
        open.retain(|&idx| {
            if net.handshaken(idx) {
                finished.push(idx);
            } else if net.clients[idx].phase == Phase::Dead {
                failed = net.clients[idx].error.clone();
            } else {
                return true;
            }
            false
        });
        if let Some(why) = failed {
            return Err(format!("a handshake failed: {why}"));
        }
        for idx in finished {
            done += 1;
            net.close(idx);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let usage = Usage::now(opts.pid()).since(&before, done, "handshake");
    eprintln!("  {done} handshakes in {elapsed:.2}s; {usage}");
    opts.result(
        "tls_handshakes_per_s",
        (done as f64 / elapsed).round(),
        &usage,
    );
    Ok(())
}

/// Direct-message latency at a fixed offered rate, measured from each message's scheduled send
/// time (no coordinated omission) to its arrival at the recipient, on one clock.
pub fn latency(opts: &Opts) -> Result<(), String> {
    let runs: usize = opts.num("runs", 3);
    let pairs: usize = opts.num("pairs", 100);
    let base: usize = opts.num("user-base", 0);
    let mut results = Vec::new();
    for run in 0..runs {
        let r = latency_run(opts, base + run * 2 * pairs)?;
        eprintln!(
            "  latency run {run}: p50 {:.0} us, p99 {:.0} us, p99.9 {:.0} us; {}",
            r.p50, r.p99, r.p999, r.note
        );
        results.push(r);
        std::thread::sleep(Duration::from_millis(300));
    }
    let med = |f: fn(&LatencyRun) -> f64| median(&mut results.iter().map(f).collect::<Vec<_>>());
    let all_p99: Vec<String> = results.iter().map(|r| format!("{:.0}", r.p99)).collect();
    let note = format!(
        "median of {runs} runs (p99 per run: {} us); last run: {}",
        all_p99.join(", "),
        results.last().map(|r| r.note.as_str()).unwrap_or("")
    );
    // The 100k row keeps its historic names; other rates are named after theirs.
    let rate: f64 = opts.num("rate", 100_000.0);
    let at = if rate == 100_000.0 {
        String::new()
    } else {
        format!("_{}k", (rate / 1000.0).round())
    };
    opts.result(&format!("dm_p50_us{at}"), med(|r| r.p50).round(), "");
    opts.result(&format!("dm_p99_us{at}"), med(|r| r.p99).round(), "");
    opts.result(&format!("dm_p999_us{at}"), med(|r| r.p999).round(), "");
    opts.result(&format!("dm_rate{at}"), med(|r| r.achieved).round(), &note);
    Ok(())
}

/// One latency run's percentiles (µs), achieved delivery rate and diagnostics.
struct LatencyRun {
    p50: f64,
    p99: f64,
    p999: f64,
    achieved: f64,
    note: String,
}

fn latency_run(opts: &Opts, base: usize) -> Result<LatencyRun, String> {
    let proto = opts.proto();
    let pairs: usize = opts.num("pairs", 100);
    let rate: f64 = opts.num("rate", 100_000.0);
    let secs: f64 = opts.num("secs", 5.0);
    let warmup: f64 = opts.num("warmup", 1.0);
    let budget = opts.secs("budget", 60.0);
    let mut net = opts.net(proto)?;
    net.second = opts.addr2().map(|a| (a, crate::net::Route::From(pairs)));
    let idle_sleep = Duration::from_micros(opts.num("idle-sleep-us", 0));
    // Receivers are clients 0..pairs (user base+2i+1), senders pairs..2*pairs (user base+2i).
    open_or_fail(&mut net, "receivers", pairs, 50, budget, |i| {
        proto.login(base + 2 * i + 1, Join::Own)
    })?;
    open_or_fail(&mut net, "senders", pairs, 50, budget, |i| {
        proto.login(base + 2 * i, Join::None)
    })?;
    net.settle(Duration::from_millis(200), Duration::from_secs(10));
    let total = (rate * secs) as u64;
    let warm_ns = (warmup * 1e9) as u64;
    let mut samples: Vec<u64> = Vec::with_capacity(total as usize);
    let trace = opts.kv_get("trace");
    let mut stamps: Vec<u64> = Vec::new();
    let received = std::cell::Cell::new(0u64);
    let mut sent = 0u64;
    let mut max_lag = Duration::ZERO;
    let mut batches: Vec<Vec<u8>> = vec![Vec::new(); pairs];
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs_f64(secs);
    let mut before = None;
    let mut on_line = |idx: usize, line: &[u8], at: Instant| {
        if idx < pairs {
            if let Some(ts) = proto::probe_stamp(line) {
                received.set(received.get() + 1);
                if ts >= warm_ns {
                    let sched = t0 + Duration::from_nanos(ts);
                    samples.push(at.saturating_duration_since(sched).as_nanos() as u64);
                    if trace.is_some() {
                        stamps.push(ts);
                    }
                }
            }
        }
    };
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if before.is_none() && now - t0 >= Duration::from_secs_f64(warmup) {
            before = Some((Usage::now(opts.pid()), received.get()));
        }
        let due = (((now - t0).as_secs_f64() * rate) as u64 + 1).min(total);
        if due > sent {
            let lag = now - (t0 + Duration::from_secs_f64(sent as f64 / rate));
            max_lag = max_lag.max(lag);
            for k in sent..due {
                let ns = (k as f64 * 1e9 / rate) as u64;
                let pair = (k % pairs as u64) as usize;
                let to = base + 2 * pair + 1;
                batches[pair].extend_from_slice(&proto.direct_message(to, &format!("T{ns}")));
            }
            sent = due;
            for (pair, b) in batches.iter_mut().enumerate() {
                if !b.is_empty() {
                    net.send(pairs + pair, b);
                    b.clear();
                }
            }
        }
        let got = received.get();
        net.turn(Some(Duration::ZERO), &mut on_line)
            .map_err(|e| e.to_string())?;
        // `--idle-sleep-us`: a turn that brought nothing sleeps (at most until the next send
        // is due) instead of spinning, leaving the CPU to the servers on a small machine; an
        // arrival is then seen up to that much late.
        if idle_sleep > Duration::ZERO && received.get() == got {
            let next = t0 + Duration::from_secs_f64(sent as f64 / rate);
            std::thread::sleep(idle_sleep.min(next.saturating_duration_since(Instant::now())));
        }
    }
    let usage = before
        .map(|(b, r)| Usage::now(opts.pid()).since(&b, received.get() - r, "message"))
        .unwrap_or_default();
    let drain_end = Instant::now() + Duration::from_secs(3);
    while received.get() < sent && Instant::now() < drain_end {
        net.turn(Some(Duration::from_millis(5)), &mut on_line)
            .map_err(|e| e.to_string())?;
    }
    if net.dead > 0 {
        let why = net.clients.iter().find_map(|c| c.error.clone());
        eprintln!("  warning: {} clients dropped: {why:?}", net.dead);
    }
    if let Some(path) = &trace {
        // `scheduled_ms latency_us` per delivery, in arrival order, for plotting stalls.
        let mut out = String::new();
        for (ts, lat) in stamps.iter().zip(&samples) {
            out.push_str(&format!(
                "{:.3} {:.1}\n",
                *ts as f64 / 1e6,
                *lat as f64 / 1e3
            ));
        }
        std::fs::write(path, out).map_err(|e| format!("{path}: {e}"))?;
    }
    samples.sort_unstable();
    if samples.is_empty() {
        return Err("no message was delivered".into());
    }
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
    let measured = secs - warmup;
    let achieved = samples.len() as f64 / measured;
    let note = format!(
        "offered {rate:.0}/s over {pairs} pairs for {secs}s ({warmup}s warm-up), {} of {sent} delivered, max {:.0} us, loadgen max send lag {:.0} us; {usage}",
        received.get(),
        *samples.last().unwrap() as f64 / 1000.0,
        max_lag.as_secs_f64() * 1e6
    );
    net.close_all();
    Ok(LatencyRun {
        p50: pct(0.5),
        p99: pct(0.99),
        p999: pct(0.999),
        achieved,
        note,
    })
}

/// RSS per idle logged-in connection, plus wake-ups while they sit idle.
pub fn idle(opts: &Opts) -> Result<(), String> {
    let proto = opts.proto();
    let pid = need_pid(opts)?;
    let n: usize = opts.num("conns", 10_000);
    let base: usize = opts.num("user-base", 0);
    let hold = opts.secs("hold", 3.0);
    let inflight: usize = opts.num("inflight", 200);
    let budget = opts.secs("budget", 120.0);
    let rss0 = procfs::rss_kib(pid).ok_or("cannot read the server's RSS")?;
    let mut net = opts.net(proto)?;
    let stats = net.open(n, inflight, budget, true, |i| {
        proto.login(base + i, Join::Own)
    });
    let settled = net.settle(Duration::from_millis(500), Duration::from_secs(120));
    let held = net.ready;
    let rss1 = procfs::rss_kib(pid).ok_or("cannot read the server's RSS")?;
    if held < n {
        eprintln!(
            "  only {held} of {n} held: {}",
            stats.first_error.clone().unwrap_or_default()
        );
    }
    let per = (rss1.saturating_sub(rss0)) as f64 * 1024.0 / held.max(1) as f64;
    eprintln!(
        "  RSS {rss0} KiB -> {rss1} KiB with {held} idle connections ({:.1}s to log in, {:.1}s to go quiet, {} MiB received)",
        stats.elapsed.as_secs_f64(),
        settled.as_secs_f64(),
        net.rx_total() >> 20
    );
    let mut note = format!(
        "{held} conns, RSS {rss0} -> {rss1} KiB, {} MiB received by the clients while logging in; {}",
        net.rx_total() >> 20,
        memory_breakdown(pid)
    );
    if held < n {
        note.push_str(&format!(
            "; only {held} of {n} held: {}",
            stats.first_error.clone().unwrap_or_default()
        ));
    }
    opts.result("idle_bytes_per_conn", per.round(), &note);
    let c0 = procfs::voluntary_switches(pid).ok_or("cannot read /proc status")?;
    std::thread::sleep(hold);
    let c1 = procfs::voluntary_switches(pid).ok_or("cannot read /proc status")?;
    opts.result(
        "idle_wakeups_conns",
        ((c1 - c0) as f64 / hold.as_secs_f64() * 10.0).round() / 10.0,
        &format!("{held} idle connections, {}s", hold.as_secs_f64()),
    );
    Ok(())
}

/// Logged-in connections held (up to `--conns`) and the accept+login rate.
pub fn conns(opts: &Opts) -> Result<(), String> {
    let proto = opts.proto();
    let n: usize = opts.num("conns", 100_000);
    let base: usize = opts.num("user-base", 0);
    let inflight: usize = opts.num("inflight", 500);
    let budget = opts.secs("budget", 90.0);
    let mut net = opts.net(proto)?;
    let before = Usage::now(opts.pid());
    let stats = net.open(n, inflight, budget, true, |i| {
        proto.login(base + i, Join::Own)
    });
    let usage = Usage::now(opts.pid()).since(&before, stats.ready as u64, "login");
    let rate = stats.ready as f64 / stats.elapsed.as_secs_f64();
    let tenth = (n / 10).max(1);
    let pace = match (stats.ready_at.get(tenth - 1), stats.ready_at.last()) {
        (Some(&a), Some(&z)) if stats.ready_at.len() >= 2 * tenth => {
            let b = stats.ready_at[stats.ready_at.len() - tenth - 1];
            format!(
                "first {tenth} at {:.0}/s, last {tenth} at {:.0}/s",
                tenth as f64 / a.as_secs_f64().max(1e-9),
                tenth as f64 / (z - b).as_secs_f64().max(1e-9)
            )
        }
        _ => String::new(),
    };
    eprintln!(
        "  {} logged in, {} failed in {:.2}s ({rate:.0}/s){}",
        stats.ready,
        stats.failed,
        stats.elapsed.as_secs_f64(),
        stats
            .first_error
            .as_ref()
            .map(|e| format!("; first problem: {e}"))
            .unwrap_or_default()
    );
    // Hold them a moment (draining whatever the server sends) and count who is still there.
    net.settle(Duration::from_secs(1), Duration::from_secs(20));
    let held = net
        .clients
        .iter()
        .filter(|c| c.phase == Phase::Ready)
        .count();
    let rss = opts.pid().and_then(procfs::rss_kib);
    let mut note = format!(
        "{} of {n} logged in within {:.1}s",
        stats.ready,
        stats.elapsed.as_secs_f64()
    );
    if let Some(rss) = rss {
        note.push_str(&format!(", server RSS {} MiB", rss >> 10));
    }
    if let Some(e) = stats.stopped.or(stats.first_error) {
        note.push_str(&format!("; {e}"));
    }
    note.push_str(&format!(
        "; {pace}; {usage}; {} MiB received by the clients",
        net.rx_total() >> 20
    ));
    if let Some(pid) = opts.pid() {
        note.push_str(&format!("; {}", memory_breakdown(pid)));
    }
    opts.result("conns_held", held as f64, &note);
    opts.result("conns_rate", rate.round(), "");
    Ok(())
}

/// Wake-ups of an idle server: voluntary context switches (all threads) over `--secs`.
pub fn wakeups(opts: &Opts) -> Result<(), String> {
    let pid = need_pid(opts)?;
    let secs = opts.secs("secs", 10.0);
    let rss = procfs::rss_kib(pid).ok_or("cannot read the server's RSS")?;
    let c0 = procfs::voluntary_switches(pid).ok_or("cannot read /proc status")?;
    std::thread::sleep(secs);
    let c1 = procfs::voluntary_switches(pid).ok_or("cannot read /proc status")?;
    let threads = procfs::threads(pid).unwrap_or(0);
    let per = (c1 - c0) as f64 / secs.as_secs_f64();
    opts.result(
        "idle_wakeups",
        (per * 10.0).round() / 10.0,
        &format!("{} in {}s, {threads} threads", c1 - c0, secs.as_secs_f64()),
    );
    opts.result("idle_rss_kib", rss as f64, &memory_breakdown(pid));
    Ok(())
}

/// Offline (durable) messages per second: one sender streams `message <offline user> <text>`
/// (Redis: `LPUSH <user> <text>`), acknowledged in order by a command with a reply every
/// `--ack-every` messages.
pub fn durable(opts: &Opts) -> Result<(), String> {
    let proto = opts.proto();
    if proto != Proto::Chat && proto != Proto::Resp {
        return Err("durable is a chatserver or Redis workload".into());
    }
    let total: u64 = opts.num("messages", 200_000);
    let recipients: usize = opts.num("recipients", 1000);
    let every: u64 = opts.num("ack-every", 100);
    let in_flight: u64 = opts.num("acks-in-flight", 10);
    let runs: usize = opts.num("runs", 3);
    let size: usize = opts.num("size", 32);
    let base: usize = opts.num("user-base", 0);
    let budget = opts.secs("budget", 60.0);
    let text = payload(size);
    let ack_reply = proto.durable_ack_reply();
    let mut rates = Vec::new();
    let mut notes = Vec::new();
    for run in 0..runs {
        // Each run has its own sender; recipients (never logged in) follow it.
        let sender = base + run * (recipients + 1);
        let mut net = opts.net(proto)?;
        open_or_fail(&mut net, "sender", 1, 1, budget, |_| {
            proto.login(sender, Join::None)
        })?;
        net.settle(Duration::from_millis(100), Duration::from_secs(5));
        let ack = proto.durable_ack(sender);
        let batches = total.div_ceil(every);
        let (mut acked, mut issued, mut queued) = (0u64, 0u64, 0u64);
        let (mut full, mut other) = (0u64, None::<String>);
        let before = Usage::now(opts.pid());
        let start = Instant::now();
        let deadline = start + budget;
        let mut batch = Vec::new();
        while acked < batches {
            if Instant::now() >= deadline {
                return Err(format!("run {run}: time budget used up after {acked} acks"));
            }
            if net.dead > 0 {
                return Err(format!(
                    "run {run}: sender dropped: {:?}",
                    net.clients[0].error
                ));
            }
            if issued < batches && issued - acked < in_flight && net.pending(0) == 0 {
                batch.clear();
                for _ in 0..every.min(total - queued) {
                    let to = sender + 1 + (queued % recipients as u64) as usize;
                    batch.extend_from_slice(&proto.durable_message(to, &text));
                    queued += 1;
                }
                batch.extend_from_slice(&ack);
                issued += 1;
                net.send(0, &batch);
            }
            net.turn(Some(Duration::from_millis(1)), &mut |_, line, _| {
                if line == ack_reply {
                    acked += 1;
                } else if line.ends_with(b"mailbox is full") {
                    full += 1;
                } else if other.is_none() && !(proto == Proto::Resp && line.starts_with(b":")) {
                    // (Redis answers each LPUSH with the list's length.)
                    other = Some(String::from_utf8_lossy(line).into_owned());
                }
            })
            .map_err(|e| e.to_string())?;
        }
        let secs = start.elapsed().as_secs_f64();
        let rate = (queued - full) as f64 / secs;
        let usage = Usage::now(opts.pid()).since(&before, queued, "message");
        eprintln!(
            "  durable run {run}: {queued} messages ({full} refused: mailbox full) in {secs:.3}s = {rate:.0}/s; {usage}{}",
            other.map(|o| format!("; unexpected reply {o:?}")).unwrap_or_default()
        );
        notes.push(usage);
        rates.push(rate);
        net.close_all();
        std::thread::sleep(Duration::from_millis(200));
    }
    report_runs(opts, "durable_mps", &mut rates, &notes);
    Ok(())
}

/// How steady this machine is: a spinning thread notes every gap between two clock reads.
/// Gaps are time the thread was not running (preemption, vCPU steal), which any latency
/// percentile measured here includes.
pub fn jitter(opts: &Opts) -> Result<(), String> {
    let secs = opts.secs("secs", 3.0);
    let start = Instant::now();
    let mut last = start;
    let (mut over_200us, mut over_1ms, mut max, mut lost) =
        (0u64, 0u64, Duration::ZERO, Duration::ZERO);
    while last - start < secs {
        let now = Instant::now();
        let gap = now - last;
        last = now;
        if gap > Duration::from_micros(200) {
            over_200us += 1;
            lost += gap;
            if gap > Duration::from_millis(1) {
                over_1ms += 1;
            }
        }
        max = max.max(gap);
    }
    let s = secs.as_secs_f64();
    println!(
        "spin loop on an idle machine: {:.1} stalls/s over 200 us, {:.1}/s over 1 ms, longest {:.2} ms, {:.2}% of the time lost",
        over_200us as f64 / s,
        over_1ms as f64 / s,
        max.as_secs_f64() * 1e3,
        lost.as_secs_f64() / s * 100.0
    );
    Ok(())
}
