//! `loadgen`: a non-blocking load generator for chatserver, IRC (ngIRCd) and RESP pub/sub (Redis).
//!
//! ```text
//! loadgen WORKLOAD --proto chat|chat-room|irc|resp --addr 127.0.0.1:PORT [--pid SERVER_PID] [OPTIONS]
//! ```
//! Workloads: `fanout`, `latency`, `idle`, `conns`, `wakeups`, `durable` (chatserver only),
//! plus the helpers `gen-credentials N FILE` and `table RESULTS.tsv`. Every figure is printed as
//! `RESULT <label> <metric> <value>` and, with `--out FILE`, appended to a TSV that `table` turns
//! into the markdown of BENCHMARKS.md. `bench/compare.sh` runs the whole comparison.

mod net;
mod procfs;
mod proto;
mod table;
mod tls;
mod work;
mod ws;

use proto::Proto;
use std::collections::HashMap;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: loadgen WORKLOAD [--proto chat|chat-room|irc|resp] [--addr HOST:PORT] [--pid PID] [OPTIONS]
workloads:
  fanout    --members 100 --messages 20000 --size 32 --window 1000 --runs 5
  latency   --pairs 100 --rate 100000 --secs 5 --warmup 1 --runs 3 [--trace FILE] [--idle-sleep-us N]
  idle      --conns 10000 --hold 3            (RSS per idle logged-in connection; needs --pid)
  conns     --conns 100000 --budget 90        (logged-in connections held, accept+login rate)
  wakeups   --secs 10                         (needs --pid; no traffic at all)
  durable   --messages 200000 --recipients 1000 --ack-every 100 --acks-in-flight 10 --runs 3
  handshakes --secs 5 --inflight 50           (TLS handshakes per second; needs --tls)
  jitter    --secs 3                          (scheduling stalls of this machine, no server)
  scrape    --conns 10000 --scrapes 50 --metrics HOST:PORT (time of a /metrics scrape)
  gen-credentials N FILE                      (lines `u<i> p<i>`)
  table RESULTS.tsv                           (markdown comparison table)
  free-port                                   (print a free TCP port on 127.0.0.1)
common: --label NAME (row label, default the protocol) --variant TEXT (metric suffix)
        --out FILE (append TSV results) --src 127.1.0.1 --per-src 5000 (client source addresses)
        --user-base N (first account index) --inflight N (concurrent logins) --budget SECS
        --addr2 HOST:PORT (a second cluster node: latency senders, every other fan-out member)

        --tls CA.pem (speak TLS to the server, trusting CA.pem, as `localhost`)
        --ws 1 (the line protocol over a WebSocket: --addr is the server's --http-port)
        --ws irc (IRC over a WebSocket, subprotocol text.ircv3.net: one line per message)
        --ws events (with --proto chat: the events protocol, chatserver.events, JSON)
          (with --tls too: wss, --addr is the server's --https-port)
        --irc-tags 1 (IRC: ask for `server-time message-tags`, so deliveries carry tags)
        --metrics HOST:PORT --scrape-every 1 (fanout: scrape /metrics meanwhile)";

/// Parsed command line: the workload, then `--key value` pairs.
pub struct Opts {
    pub workload: String,
    pub positional: Vec<String>,
    kv: HashMap<String, String>,
}

impl Opts {
    fn parse(args: &[String]) -> Result<Opts, String> {
        let workload = args.first().ok_or("missing workload")?.clone();
        let mut kv = HashMap::new();
        let mut positional = Vec::new();
        let mut it = args[1..].iter();
        while let Some(a) = it.next() {
            if let Some(k) = a.strip_prefix("--") {
                let v = it.next().ok_or(format!("--{k} needs a value"))?;
                kv.insert(k.to_string(), v.clone());
            } else {
                positional.push(a.clone());
            }
        }
        Ok(Opts {
            workload,
            positional,
            kv,
        })
    }

    pub fn kv_get(&self, k: &str) -> Option<String> {
        self.kv.get(k).cloned()
    }

    pub fn str(&self, k: &str, default: &str) -> String {
        self.kv
            .get(k)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    pub fn num<T: std::str::FromStr>(&self, k: &str, default: T) -> T {
        match self.kv.get(k) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| {
                eprintln!("loadgen: --{k} {v:?} is not a valid number");
                std::process::exit(2)
            }),
        }
    }

    pub fn secs(&self, k: &str, default: f64) -> Duration {
        Duration::from_secs_f64(self.num(k, default))
    }

    pub fn proto(&self) -> Proto {
        let p = self.str("proto", "chat");
        match Proto::parse(&p) {
            Some(Proto::Irc { .. }) => Proto::Irc {
                tags: self.kv.get("irc-tags").is_some_and(|v| v == "1"),
            },
            Some(proto) => proto,
            None => {
                eprintln!("loadgen: unknown --proto {p:?} (chat|chat-room|irc|resp)");
                std::process::exit(2)
            }
        }
    }

    pub fn addr(&self) -> SocketAddr {
        let a = self.str("addr", "127.0.0.1:4000");
        a.parse().unwrap_or_else(|_| {
            eprintln!("loadgen: bad --addr {a:?}");
            std::process::exit(2)
        })
    }

    /// `--addr2`: a second cluster node (issue 23); latency senders and half the fan-out
    /// members connect there.
    pub fn addr2(&self) -> Option<SocketAddr> {
        let a = self.kv.get("addr2")?;
        Some(a.parse().unwrap_or_else(|_| {
            eprintln!("loadgen: bad --addr2 {a:?}");
            std::process::exit(2)
        }))
    }

    pub fn pid(&self) -> Option<u32> {
        self.kv.get("pid").and_then(|p| p.parse().ok())
    }

    /// A client table for `proto` against `--addr`, speaking TLS with `--tls`.
    pub fn net(&self, proto: Proto) -> Result<net::Net, String> {
        let mut net =
            net::Net::new(proto, self.addr(), self.sources()).map_err(|e| e.to_string())?;
        net.ws = match self.kv.get("ws") {
            None => None,
            Some(v) => Some(ws::Sub::parse(v).ok_or_else(|| format!("bad --ws {v:?}"))?),
        };
        if let Some(ca) = self.kv.get("tls") {
            net.tls = Some(tls::client_config(ca)?);
        }
        Ok(net)
    }

    pub fn sources(&self) -> net::Sources {
        let base: Ipv4Addr = self.str("src", "127.1.0.1").parse().unwrap_or_else(|_| {
            eprintln!("loadgen: bad --src");
            std::process::exit(2)
        });
        net::Sources {
            base,
            per_addr: self.num("per-src", 5000),
        }
    }

    /// Print one figure and append it to `--out`.
    pub fn result(&self, metric: &str, value: f64, note: &str) {
        let label = self.str("label", &format!("{:?}", self.proto()).to_lowercase());
        let variant = self.str("variant", "");
        let metric = if variant.is_empty() {
            metric.to_string()
        } else {
            format!("{metric}@{variant}")
        };
        println!("RESULT {label} {metric} {value} {note}");
        if let Some(path) = self.kv.get("out") {
            let line = format!("{label}\t{metric}\t{value}\t{note}\n");
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(line.as_bytes()));
            if let Err(e) = written {
                eprintln!("loadgen: cannot append to {path}: {e}");
            }
        }
    }
}

fn gen_credentials(opts: &Opts) -> Result<(), String> {
    let [n, file] = opts.positional.as_slice() else {
        return Err("usage: loadgen gen-credentials N FILE".into());
    };
    let n: usize = n.parse().map_err(|_| "N must be a number")?;
    let mut out = String::with_capacity(n * 16);
    for i in 0..n {
        out.push_str(&format!("{} {}\n", proto::user(i), proto::password(i)));
    }
    std::fs::write(PathBuf::from(file), out).map_err(|e| format!("{file}: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args[0] == "--help" || args[0] == "-h" {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let opts = match Opts::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("loadgen: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match opts.workload.as_str() {
        "fanout" => work::fanout(&opts),
        "latency" => work::latency(&opts),
        "idle" => work::idle(&opts),
        "scrape" => work::scrape(&opts),
        "conns" => work::conns(&opts),
        "wakeups" => work::wakeups(&opts),
        "durable" => work::durable(&opts),
        "jitter" => work::jitter(&opts),
        "handshakes" => work::handshakes(&opts),
        "gen-credentials" => gen_credentials(&opts),
        "table" => table::print(&opts),
        "free-port" => std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| println!("{}", a.port()))
            .map_err(|e| e.to_string()),
        w => Err(format!("unknown workload {w:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen {}: {e}", opts.workload);
            ExitCode::FAILURE
        }
    }
}
