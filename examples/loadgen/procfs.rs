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
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = after.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Read- and write-type syscalls made so far (`syscr`, `syscw` of /proc/PID/io).
pub fn syscalls(pid: u32) -> Option<(u64, u64)> {
    let path = format!("/proc/{pid}/io");
    Some((
        status_field(&path, "syscr:")?,
        status_field(&path, "syscw:")?,
    ))
}
