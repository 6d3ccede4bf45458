//! What the server process costs, read from /proc: resident memory and voluntary context
//! switches (each one a sleep in the kernel, i.e. a wake-up afterwards).

use std::fs;

fn status_field(path: &str, key: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// Resident set size in KiB (VmRSS).
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_field(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// Voluntary context switches summed over all threads of the process.
pub fn voluntary_switches(pid: u32) -> Option<u64> {
    let mut total = 0;
    for entry in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = entry.ok()?.path().join("status");
        total += status_field(path.to_str()?, "voluntary_ctxt_switches:")?;
    }
    Some(total)
}

/// Number of threads of the process.
pub fn threads(pid: u32) -> Option<usize> {
    Some(fs::read_dir(format!("/proc/{pid}/task")).ok()?.count())
}

/// CPU time (user + system) of a process in clock ticks (1/100 s on Linux).
pub fn cpu_ticks(pid: &str) -> Option<u64> {
    cpu_ticks_split(pid).map(|(user, system)| user + system)
}

/// User and system CPU time of a process in clock ticks: the system part is what the kernel
/// spends on its syscalls (copying bytes into and out of sockets).
pub fn cpu_ticks_split(pid: &str) -> Option<(u64, u64)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = after.split_whitespace().collect();
    Some((f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?))
}

/// Resident KiB in the `[heap]` mapping, in other anonymous mappings (large allocations,
/// stacks) and in file-backed mappings (binary, libraries), from /proc/PID/smaps.
pub fn rss_breakdown(pid: u32) -> Option<(u64, u64, u64)> {
    let text = fs::read_to_string(format!("/proc/{pid}/smaps")).ok()?;
    let (mut heap, mut anon, mut file) = (0, 0, 0);
    let mut kind = 0;
    for line in text.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            let name = line.split_whitespace().nth(5).unwrap_or("");
            kind = match name {
                "[heap]" => 0,
                n if n.starts_with('/') => 2,
                _ => 1,
            };
        } else if let Some(v) = line.strip_prefix("Rss:") {
            let kib: u64 = v.split_whitespace().next()?.parse().ok()?;
            match kind {
                0 => heap += kib,
                1 => anon += kib,
                _ => file += kib,
            }
        }
    }
    Some((heap, anon, file))
}
