//! Turns the results TSV (`label \t metric[@variant] \t value \t note`) into the markdown table
//! of BENCHMARKS.md: absolute figures, chatserver ÷ each anchor, and the targets.

use crate::Opts;

const SUBJECT: &str = "chatserver";
const ANCHORS: [(&str, &str); 2] = [("ngircd", "ngIRCd"), ("redis", "Redis")];
/// Rows of a chatserver-only variant whose anchors ran as another (their servers have no such
/// option): the anchors' figures are taken from there.
const ANCHORS_FROM: &[(&str, &str)] = &[(
    "idle_bytes_per_conn@tls-no-presence",
    "idle_bytes_per_conn@tls",
)];

/// Which way is better for a metric.
#[derive(Clone, Copy, PartialEq)]
enum Better {
    Higher,
    Lower,
}

/// What a row must reach: its text for the table and the check, given the subject's value and
/// its ratios to ngIRCd and to Redis (`None`: no target).
struct Target {
    text: &'static str,
    check: fn(f64, Option<f64>, Option<f64>) -> Option<bool>,
}

const NONE: Target = Target {
    text: "",
    check: |_, _, _| None,
};

struct Metric {
    /// The metric, or `metric@variant` for a variant judged on its own (the TLS rows).
    key: &'static str,
    /// The loadgen workload that measures it, with the rate for latency rows and the variant
    /// of a metric judged on its own: the worst loop iteration of that server is
    /// `worst_iter_ms@<workload>[-<variant>]`.
    workload: &'static str,
    title: &'static str,
    better: Better,
    /// The target of a row, by its variant (`None`: chatserver's defaults).
    target: fn(Option<&str>) -> Target,
}

/// The fan-out target of issue 20, for the defaults and for every variant.
const FANOUT: Target = Target {
    text: "≥ 5× ngIRCd, ≥ 2.5× Redis",
    check: |_, n, r| Some(n? >= 5.0 && r? >= 2.5),
};

/// Memory per connection no more than ngIRCd's (the TLS rows).
const NOT_ABOVE_NGIRCD: Target = Target {
    text: "≤ ngIRCd's",
    check: |_, n, _| Some(n? <= 1.0),
};

/// DM p99 at a rate: no worse than ngIRCd's.
const DM_P99: Target = Target {
    text: "≤ ngIRCd",
    check: |_, n, _| Some(n? <= 1.0),
};

const METRICS: &[Metric] = &[
    Metric {
        key: "fanout_dps",
        workload: "fanout",
        title: "Fan-out deliveries/s (100 members, 20,000 × 32 B, lag ≤ 1000, median of 5)",
        better: Better::Higher,
        target: |v| match v {
            Some("musl-static") => NONE,
            _ => FANOUT,
        },
    },
    Metric {
        key: "idle_bytes_per_conn",
        workload: "idle",
        title: "RSS per idle logged-in connection at 10,000 (bytes)",
        better: Better::Lower,
        target: |v| match v {
            None => Target {
                text: "≤ 1 KiB after the 10,000-login presence storm",
                check: |v, _, _| Some(v <= 1024.0),
            },
            Some("irc") => Target {
                text: "≤ 800 B",
                check: |v, _, _| Some(v <= 800.0),
            },
            Some(_) => Target {
                text: "≤ 550 B",
                check: |v, _, _| Some(v <= 550.0),
            },
        },
    },
    Metric {
        key: "idle_wakeups_conns",
        workload: "idle",
        title: "Wake-ups/s with 10,000 idle connections (info)",
        better: Better::Lower,
        target: |_| NONE,
    },
    Metric {
        key: "conns_held",
        workload: "conns",
        title: "Logged-in connections held (of 100,000)",
        better: Better::Higher,
        target: |_| Target {
            text: "100,000",
            check: |v, _, _| Some(v >= 100_000.0),
        },
    },
    Metric {
        key: "conns_rate",
        workload: "conns",
        title: "Accept+login rate (/s) while opening them",
        better: Better::Higher,
        target: |v| match v {
            None => Target {
                text: "≥ 2,000/s with presence",
                check: |v, _, _| Some(v >= 2_000.0),
            },
            Some(_) => Target {
                text: "≥ 20,000/s",
                check: |v, _, _| Some(v >= 20_000.0),
            },
        },
    },
    Metric {
        key: "dm_p99_us_20k",
        workload: "latency_20k",
        title: "DM send→delivery p99 at 20k msgs/s (µs, median of 3 runs)",
        better: Better::Lower,
        target: |_| DM_P99,
    },
    Metric {
        key: "dm_p99_us_50k",
        workload: "latency_50k",
        title: "DM send→delivery p99 at 50k msgs/s (µs, median of 3 runs)",
        better: Better::Lower,
        target: |_| DM_P99,
    },
    Metric {
        key: "dm_p50_us",
        workload: "latency",
        title: "DM send→delivery p50 at 100k msgs/s (µs, median of 3 runs)",
        better: Better::Lower,
        target: |_| NONE,
    },
    Metric {
        key: "dm_p99_us",
        workload: "latency",
        title: "DM send→delivery p99 at 100k msgs/s (µs, median of 3 runs)",
        better: Better::Lower,
        target: |_| DM_P99,
    },
    Metric {
        key: "dm_p999_us",
        workload: "latency",
        title: "DM send→delivery p99.9 at 100k msgs/s (µs, median of 3 runs)",
        better: Better::Lower,
        target: |_| NONE,
    },
    Metric {
        key: "dm_rate",
        workload: "latency",
        title: "DM deliveries/s achieved (offered 100,000/s)",
        better: Better::Higher,
        target: |_| NONE,
    },
    Metric {
        key: "idle_wakeups",
        workload: "wakeups",
        title: "Idle wake-ups/s, no connections, nothing scheduled (10 s)",
        better: Better::Lower,
        target: |_| Target {
            text: "0",
            check: |v, _, _| Some(v == 0.0),
        },
    },
    Metric {
        key: "idle_rss_kib",
        workload: "wakeups",
        title: "Idle RSS, fresh server (KiB)",
        better: Better::Lower,
        target: |_| Target {
            text: "≤ 2048 KiB",
            check: |v, _, _| Some(v <= 2048.0),
        },
    },
    Metric {
        key: "durable_mps",
        workload: "durable",
        title: "Offline (durable) messages/s, closed loop (median of 3)",
        better: Better::Higher,
        target: |v| match v {
            // "with fsync" targets do not apply to a --fsync never row.
            Some(v) if v.contains("never") => NONE,
            _ => Target {
                text: "≥ 100,000/s with fsync",
                check: |v, _, _| Some(v >= 100_000.0),
            },
        },
    },
    // TLS (issue 18): the same workloads over each server's TLS port.
    Metric {
        key: "fanout_dps@tls",
        workload: "fanout-tls",
        title: "TLS fan-out deliveries/s (100 members, 20,000 × 32 B, lag ≤ 1000, median of 5)",
        better: Better::Higher,
        target: |_| Target {
            text: "≥ 3× ngIRCd, ≥ 1.5× Redis",
            check: |_, n, r| Some(n? >= 3.0 && r? >= 1.5),
        },
    },
    Metric {
        key: "idle_bytes_per_conn@tls",
        workload: "idle-tls",
        title: "RSS per idle logged-in TLS connection at 10,000 (bytes)",
        better: Better::Lower,
        target: |_| NOT_ABOVE_NGIRCD,
    },
    Metric {
        key: "idle_bytes_per_conn@tls-no-presence",
        workload: "idle-tls-no-presence",
        title:
            "RSS per idle logged-in TLS connection at 10,000, chatserver `--no-presence` (bytes)",
        better: Better::Lower,
        target: |_| NOT_ABOVE_NGIRCD,
    },
    Metric {
        key: "tls_handshakes_per_s",
        workload: "handshakes",
        title: "TLS handshakes/s (ECDSA P-256, 8 at a time, each closed when done)",
        better: Better::Higher,
        target: |_| Target {
            text: "≥ ngIRCd's",
            check: |_, n, _| Some(n? >= 1.0),
        },
    },
    Metric {
        key: "metrics_scrape_us",
        workload: "scrape",
        title: "`GET /metrics` with 10,000 logged-in connections (µs, connect to last byte, median of 50)",
        better: Better::Lower,
        target: |_| Target {
            text: "< 1000 µs",
            check: |v, _, _| Some(v < 1000.0),
        },
    },
    Metric {
        key: "binary_kib",
        workload: "",
        title: "Release binary, stripped (KiB)",
        better: Better::Lower,
        target: |_| Target {
            text: "≤ 1024 KiB",
            check: |v, _, _| Some(v <= 1024.0),
        },
    },
];

/// Longest loop iteration allowed in any workload (issue 8, issue 20).
const WORST_ITERATION_MS: f64 = 50.0;

/// The variant whose fan-out the defaults are held against (issue 20: ≥ 0.9×).
const NO_DURABILITY: &str = "fsync-never-history-0";

struct Row {
    label: String,
    metric: String,
    value: f64,
    note: String,
}

fn fmt_num(v: f64) -> String {
    if v.fract() != 0.0 && v.abs() < 1000.0 {
        return format!("{v:.1}");
    }
    let s = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if v < 0.0 {
        out.insert(0, '-');
    }
    out
}

fn fmt_ratio(r: Option<f64>) -> String {
    match r {
        Some(r) if r.is_finite() => format!("{r:.2}×"),
        Some(_) => "∞".into(),
        None => "—".into(),
    }
}

/// A chatserver row judged against another chatserver row of the same run (the web rows of
/// issue 19: the same workload over a WebSocket, or with /metrics scraped, beside plain TCP).
struct Relative {
    key: &'static str,
    /// The row it is compared with.
    versus: &'static str,
    title: &'static str,
    better: Better,
    /// The target as text, and the check on `key ÷ versus` (`None`: a baseline row).
    target: &'static str,
    check: Option<fn(f64) -> bool>,
}

const RELATIVE: &[Relative] = &[
    Relative {
        key: "fanout_dps@line",
        versus: "fanout_dps@line",
        title: "Web rows' baseline: line fan-out deliveries/s, `--http-port` open (median of 5)",
        better: Better::Higher,
        target: "",
        check: None,
    },
    Relative {
        key: "fanout_dps@ws",
        versus: "fanout_dps@line",
        title: "WebSocket fan-out deliveries/s (`chatserver.line` over `--http-port`, median of 5)",
        better: Better::Higher,
        target: "≥ 0.8× line fan-out",
        check: Some(|r| r >= 0.8),
    },
    Relative {
        key: "fanout_dps@scraped-1s",
        versus: "fanout_dps@line",
        title: "Line fan-out deliveries/s while /metrics is scraped every second (median of 5)",
        better: Better::Higher,
        target: "unchanged: ≥ 0.9× line fan-out",
        check: Some(|r| r >= 0.9),
    },
    Relative {
        key: "fanout_dps@irc-tags",
        versus: "fanout_dps@irc",
        title: "IRC fan-out deliveries/s with `server-time message-tags`, alternated with \
                the same without tags on one server (median of 5)",
        better: Better::Higher,
        target: "≥ 0.9× IRC fan-out without tags",
        check: Some(|r| r >= 0.9),
    },
    Relative {
        key: "idle_bytes_per_conn@line-no-presence",
        versus: "idle_bytes_per_conn@line-no-presence",
        title:
            "Web rows' baseline: RSS per idle line connection at 10,000, `--http-port` open (bytes)",
        better: Better::Lower,
        target: "",
        check: None,
    },
    Relative {
        key: "idle_bytes_per_conn@ws-no-presence",
        versus: "idle_bytes_per_conn@line-no-presence",
        title: "RSS per idle WebSocket connection at 10,000, `chatserver.line` (bytes)",
        better: Better::Lower,
        target: "≤ 1.5× a line connection",
        check: Some(|r| r <= 1.5),
    },
];

impl Better {
    fn arrow(self) -> &'static str {
        match self {
            Better::Higher => "↑",
            Better::Lower => "↓",
        }
    }
}

pub fn print(opts: &Opts) -> Result<(), String> {
    let path = opts
        .positional
        .first()
        .ok_or("usage: loadgen table RESULTS.tsv")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let rows: Vec<Row> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(4, '\t');
            Some(Row {
                label: f.next()?.to_string(),
                metric: f.next()?.to_string(),
                value: f.next()?.parse().ok()?,
                note: f.next().unwrap_or("").to_string(),
            })
        })
        .collect();
    let find = |label: &str, metric: &str| {
        rows.iter()
            .rev()
            .find(|r| r.label == label && r.metric == metric)
    };
    println!(
        "| Metric | chatserver | worst iteration (ms) | ngIRCd | Redis | chatserver ÷ ngIRCd | chatserver ÷ Redis | Target | Met? |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|:-:|");
    for m in METRICS {
        // The plain metric first, then each variant in the order it was measured.
        // A variant with a metric of its own is judged there, not here.
        let exact = m.key.contains('@');
        let mut names: Vec<&str> = Vec::new();
        for r in &rows {
            let base = r.metric.split('@').next().unwrap_or("");
            let ours = if exact {
                r.metric == m.key
            } else {
                base == m.key
                    && !METRICS
                        .iter()
                        .any(|o| o.key.contains('@') && o.key == r.metric)
                    && !RELATIVE.iter().any(|o| o.key == r.metric)
            };
            if ours && !names.contains(&r.metric.as_str()) {
                names.push(&r.metric);
            }
        }
        names.sort_by_key(|n| n.contains('@'));
        for name in names {
            let variant = name.split_once('@').map(|(_, v)| v).filter(|_| !exact);
            let anchored = ANCHORS_FROM.iter().find(|(n, _)| *n == name);
            let cell = |label: &str| {
                find(label, name)
                    .or_else(|| variant.and(find(label, m.key)).filter(|_| label != SUBJECT))
                    .or_else(|| {
                        let from = anchored.filter(|_| label != SUBJECT);
                        from.and_then(|(_, a)| find(label, a))
                    })
                    .map(|r| r.value)
            };
            let subject = cell(SUBJECT);
            let anchors: Vec<Option<f64>> = ANCHORS.iter().map(|(l, _)| cell(l)).collect();
            let ratio = |a: Option<f64>| Some(subject? / a?);
            let (rn, rr) = (ratio(anchors[0]), ratio(anchors[1]));
            let title = match variant {
                Some(v) => format!("{} [chatserver {}]", m.title, v.replace('-', " ")),
                None => m.title.to_string(),
            };
            let show = |v: Option<f64>| v.map(fmt_num).unwrap_or_else(|| "—".into());
            let target = (m.target)(variant);
            let met = match subject.and_then(|v| (target.check)(v, rn, rr)) {
                Some(true) => "✅",
                Some(false) => "❌",
                None => "",
            };
            let arrow = m.better.arrow();
            let row = match variant {
                Some(v) => format!("{}-{v}", m.workload),
                None => m.workload.to_string(),
            };
            let worst = match find(SUBJECT, &format!("worst_iter_ms@{row}")) {
                Some(r) if r.value > WORST_ITERATION_MS => format!("{:.1} ❌", r.value),
                Some(r) => format!("{:.1}", r.value),
                None => "—".into(),
            };
            println!(
                "| {title} {arrow} | {} | {worst} | {} | {} | {} | {} | {} | {met} |",
                show(subject),
                show(anchors[0]),
                show(anchors[1]),
                fmt_ratio(rn),
                fmt_ratio(rr),
                target.text,
            );
        }
        if m.key == "fanout_dps" {
            let plain = find(SUBJECT, m.key);
            let bare = find(SUBJECT, &format!("{}@{NO_DURABILITY}", m.key));
            if let (Some(plain), Some(bare)) = (plain, bare) {
                let r = plain.value / bare.value;
                println!(
                    "| Fan-out with the defaults ÷ `--fsync never --history 0` (runs alternated) ↑ | {r:.2}× | | | | | | ≥ 0.9× | {} |",
                    if r >= 0.9 { "✅" } else { "❌" }
                );
            }
        }
    }
    for m in RELATIVE {
        let Some(subject) = find(SUBJECT, m.key).map(|r| r.value) else {
            continue;
        };
        let judged = m.check.zip(find(SUBJECT, m.versus));
        let (target, met) = match judged {
            Some((check, base)) => {
                let ratio = subject / base.value;
                let met = if check(ratio) { "✅" } else { "❌" };
                (format!("{} (here {ratio:.2}×)", m.target), met)
            }
            None => (String::new(), ""),
        };
        println!(
            "| {} {} | {} | — | — | — | — | — | {target} | {met} |",
            m.title,
            m.better.arrow(),
            fmt_num(subject)
        );
    }
    println!();
    println!("↑ higher is better, ↓ lower is better. Notes per measurement:");
    println!();
    for r in &rows {
        if !r.note.is_empty() {
            println!("- {} `{}`: {}", r.label, r.metric, r.note);
        }
    }
    Ok(())
}
