//! Command-line parsing into a [`Config`]: pure, so every flag is unit-tested without a process.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What to do on duplicate login: refuse the newcomer (the assignment's rule) or replace the old session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuplicateLogin {
    Refuse,
    Replace,
}

/// Whether a commit waits for the disk: `Always` is the embedded-safe default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    Always,
    Never,
}

/// Every tunable of the server; `Default` is what `chatserver PORT` runs with.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind: IpAddr,
    pub port: u16,
    /// How long an account stays locked after three wrong passwords.
    pub block_duration: Duration,
    /// Inactivity logout: no valid command for this long.
    pub timeout: Duration,
    pub credentials: PathBuf,
    pub data_dir: PathBuf,
    pub max_line: usize,
    pub max_output: usize,
    pub max_clients: usize,
    pub login_timeout: Duration,
    pub register: bool,
    /// Send `<user> logged in/out` lines (the protocol's default; off for very large servers,
    /// where telling every user about every login is quadratic traffic).
    pub presence: bool,
    pub duplicate_login: DuplicateLogin,
    pub fsync: FsyncPolicy,
    /// Messages kept for `CH`/`history`.
    pub history: usize,
    /// Offline messages queued per recipient before senders are refused.
    pub max_offline: usize,
    /// Chat rooms (§5) that may exist at once; one more `open-chatroom` is refused.
    pub max_rooms: usize,
    // Issue 17: everything a user can grow is bounded.
    /// Rooms one account may have opened that still exist.
    pub max_rooms_per_user: usize,
    /// Rooms one guest may have opened that still exist.
    pub max_guest_rooms: usize,
    /// Entries per room in each list (bans, permits, operators, voice): IRC's `MAXLIST`.
    pub max_list: usize,
    /// Store new accounts as plaintext (the assignment's format) instead of salted SHA-256.
    pub plain_credentials: bool,
    /// Truncate a corrupt journal at the first bad record instead of refusing to start.
    pub repair: bool,
    /// Journal bytes (beyond the last snapshot's size) that trigger compaction into a snapshot.
    pub compact_bytes: u64,
    /// Close a connection that sends no line at all for this long (`None`: no heartbeat).
    pub heartbeat: Option<Duration>,
    /// A connection the server is closing is dropped this long after, whether or not the
    /// peer read its last lines (a peer that never reads must not hold it forever).
    pub close_timeout: Duration,
    // IRC front-end (issue 12).
    /// `--irc-port`: listen for IRC clients too (`None`: off).
    pub irc_port: Option<u16>,
    /// `--irc-guests`: an IRC client without `PASS` gets a guest session.
    pub irc_guests: bool,
    /// `--irc-server-name`: the name in IRC prefixes and numerics.
    pub irc_server_name: String,
    /// `--irc-oper NAME:PASSWORD`: the `OPER` credentials (none: `OPER` always fails).
    pub irc_oper: Option<(String, String)>,
    /// JSON front-end (§6): a second listener for the seed-002 client (`None`: off).
    pub json_port: Option<u16>,
    // Reliability limits (issue 8).
    pub max_accounts: usize,
    /// New accounts per source address per minute (0: unlimited).
    pub register_rate: u32,
    /// Bytes of queued offline messages in all.
    pub max_offline_bytes: usize,
    /// Connections per source address.
    pub max_per_ip: usize,
    /// Bytes of queued output over all connections.
    pub max_output_total: usize,
    /// `--max-per-ip`/`--register-rate` apply to loopback addresses too: only when one of
    /// them is given explicitly (local tools, tests and benchmarks connect from one address).
    pub limit_loopback: bool,
    /// Penalty time per input (0: no command rate limit).
    pub penalty: Duration,
    // TLS (issue 18).
    /// `--tls-cert`/`--tls-key`: the PEM certificate chain and private key of every TLS
    /// listener (both or neither; required by any TLS port).
    pub tls_files: Option<(PathBuf, PathBuf)>,
    /// `--tls-port`, `--json-tls-port`, `--irc-tls-port`: the front-ends over TLS (`None`: off).
    pub tls_port: Option<u16>,
    pub json_tls_port: Option<u16>,
    pub irc_tls_port: Option<u16>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            bind: IpAddr::from([0, 0, 0, 0]),
            port: 0,
            block_duration: Duration::from_secs(60),
            timeout: Duration::from_secs(300),
            credentials: PathBuf::from("credentials.txt"),
            data_dir: PathBuf::from("chatserver-data"),
            max_line: 4096,
            max_output: 1 << 20,
            max_clients: 100_000,
            login_timeout: Duration::from_secs(60),
            register: true,
            presence: true,
            duplicate_login: DuplicateLogin::Refuse,
            fsync: FsyncPolicy::Always,
            history: 10_000,
            max_offline: 1000,
            max_rooms: 1000,
            max_rooms_per_user: 10,
            max_guest_rooms: 2,
            max_list: 100,
            plain_credentials: false,
            repair: false,
            compact_bytes: 8 << 20,
            irc_port: None,
            irc_guests: false,
            irc_server_name: "chatserver".into(),
            irc_oper: None,
            heartbeat: None,
            close_timeout: Duration::from_secs(5),
            json_port: None,
            max_accounts: 100_000,
            register_rate: 10,
            max_offline_bytes: 64 << 20,
            max_per_ip: 64,
            max_output_total: 256 << 20,
            limit_loopback: false,
            penalty: Duration::from_micros(500),
            tls_files: None,
            tls_port: None,
            json_tls_port: None,
            irc_tls_port: None,
        }
    }
}

/// What the command line asks for: run the server, or one of the one-shot actions.
#[derive(Debug)]
// Built once per process: the size difference costs nothing (the IRC settings tipped it).
#[allow(clippy::large_enum_variant)]
pub enum Cli {
    Run(Config),
    /// Rewrite a plaintext credentials file to hashed entries, then exit.
    HashCredentials(PathBuf),
    Help,
    Version,
}

/// The usage text printed by `--help` and after any argument error.
pub fn usage() -> String {
    options().usage("Usage: chatserver [OPTIONS] PORT [BLOCK_DURATION [TIMEOUT]]")
}

fn options() -> getopts::Options {
    let mut o = getopts::Options::new();
    o.optopt("", "bind", "address to listen on (default 0.0.0.0)", "ADDR");
    o.optopt(
        "",
        "credentials",
        "account file (default ./credentials.txt)",
        "FILE",
    );
    o.optopt(
        "",
        "data-dir",
        "journal directory (default ./chatserver-data)",
        "DIR",
    );
    o.optopt(
        "",
        "max-line",
        "longest input line in bytes (default 4096)",
        "BYTES",
    );
    o.optopt(
        "",
        "max-output",
        "output buffer cap per connection (default 1048576)",
        "BYTES",
    );
    o.optopt(
        "",
        "max-clients",
        "most connections at once (default 100000)",
        "N",
    );
    o.optopt(
        "",
        "login-timeout",
        "seconds to log in before close (default 60)",
        "SECS",
    );
    o.optopt(
        "",
        "heartbeat",
        "close a connection silent this long (default off)",
        "SECS",
    );
    o.optopt(
        "",
        "close-timeout",
        "drop a closing connection that has not read its last lines after this (default 5)",
        "SECS",
    );
    o.optflag(
        "",
        "no-register",
        "refuse unknown usernames instead of creating accounts",
    );
    o.optflag(
        "",
        "no-presence",
        "do not send logged in/out lines (for very many users)",
    );
    o.optopt("", "duplicate-login", "refuse (default) or replace", "MODE");
    o.optopt("", "fsync", "always (default) or never", "MODE");
    o.optopt(
        "",
        "history",
        "messages kept for history (default 10000)",
        "N",
    );
    o.optopt(
        "",
        "max-offline",
        "offline messages per user (default 1000)",
        "N",
    );
    o.optopt(
        "",
        "max-rooms",
        "chat rooms that may exist at once (default 1000)",
        "N",
    );
    o.optopt(
        "",
        "max-rooms-per-user",
        "rooms one account may have open (default 10)",
        "N",
    );
    o.optopt(
        "",
        "max-guest-rooms",
        "rooms one guest may have open (default 2)",
        "N",
    );
    o.optopt(
        "",
        "max-list",
        "entries per room list: bans, permits, operators, voice (default 100)",
        "N",
    );
    o.optflag("", "plain-credentials", "store new passwords in plaintext");
    o.optflagopt(
        "",
        "hash-credentials",
        "hash a plaintext credentials file and exit",
        "FILE",
    );
    o.optflag(
        "",
        "repair",
        "truncate a corrupt journal at the first bad record",
    );
    o.optopt(
        "",
        "compact-bytes",
        "journal growth that triggers a snapshot (default 8388608)",
        "BYTES",
    );
    // IRC front-end (issue 12).
    o.optopt(
        "",
        "irc-port",
        "also accept IRC clients on this port (off)",
        "PORT",
    );
    o.optflag(
        "",
        "irc-guests",
        "IRC clients without PASS get guest sessions",
    );
    o.optopt(
        "",
        "irc-server-name",
        "server name shown to IRC clients (default chatserver)",
        "NAME",
    );
    o.optopt(
        "",
        "irc-oper",
        "IRC operator credentials for OPER (off)",
        "NAME:PASSWORD",
    );
    o.optopt(
        "",
        "json-port",
        "also listen here for the seed-002 JSON client (guests)",
        "PORT",
    );
    // TLS (issue 18).
    o.optopt(
        "",
        "tls-cert",
        "PEM certificate chain for the TLS ports",
        "FILE",
    );
    o.optopt("", "tls-key", "PEM private key for the TLS ports", "FILE");
    o.optopt(
        "",
        "tls-port",
        "also accept line clients over TLS here (off)",
        "PORT",
    );
    o.optopt(
        "",
        "json-tls-port",
        "also accept the JSON client over TLS here (off)",
        "PORT",
    );
    o.optopt(
        "",
        "irc-tls-port",
        "also accept IRC clients over TLS here, e.g. 6697 (off)",
        "PORT",
    );
    // Reliability limits (issue 8).
    o.optopt("", "max-accounts", "most accounts (default 100000)", "N");
    o.optopt(
        "",
        "register-rate",
        "new accounts per source address per minute (default 10, 0: unlimited)",
        "N",
    );
    o.optopt(
        "",
        "max-offline-bytes",
        "bytes of queued offline messages in all (default 67108864)",
        "BYTES",
    );
    o.optopt(
        "",
        "max-per-ip",
        "connections per source address (default 64)",
        "N",
    );
    o.optopt(
        "",
        "max-output-total",
        "queued output over all connections; the largest queues are cut first (default 268435456)",
        "BYTES",
    );
    o.optopt(
        "",
        "penalty-us",
        "penalty per command in microseconds; a connection 10 s ahead is not read (default 500, 0: off)",
        "US",
    );
    o.optflag("h", "help", "print this help");
    o.optflag("V", "version", "print the version");
    o
}

fn number<T: std::str::FromStr>(m: &getopts::Matches, name: &str) -> Result<Option<T>, String> {
    match m.opt_str(name) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| format!("invalid value for --{name}: {v:?}")),
    }
}

/// Longest accepted duration (about 31 years): `Instant + Duration` must never overflow.
const MAX_SECONDS: u64 = 1_000_000_000;

fn seconds(text: &str, what: &str) -> Result<Duration, String> {
    match text.parse::<u64>() {
        Ok(s) if s <= MAX_SECONDS => Ok(Duration::from_secs(s)),
        Ok(_) => Err(format!(
            "invalid {what}: {text:?} (at most {MAX_SECONDS} seconds)"
        )),
        Err(_) => Err(format!("invalid {what}: {text:?} (whole seconds expected)")),
    }
}

impl Cli {
    /// Parse the arguments after the program name. `Err` holds one line for stderr.
    pub fn parse(args: &[String]) -> Result<Cli, String> {
        let m = options().parse(args).map_err(|e| e.to_string())?;
        if m.opt_present("help") {
            return Ok(Cli::Help);
        }
        if m.opt_present("version") {
            return Ok(Cli::Version);
        }
        if m.opt_present("hash-credentials") {
            let file = m
                .opt_str("hash-credentials")
                .or_else(|| m.free.first().cloned())
                .unwrap_or_else(|| "credentials.txt".into());
            return Ok(Cli::HashCredentials(PathBuf::from(file)));
        }
        let mut c = Config::default();
        let port = m.free.first().ok_or("missing PORT")?;
        c.port = port
            .parse()
            .map_err(|_| format!("invalid PORT: {port:?}"))?;
        if let Some(b) = m.free.get(1) {
            c.block_duration = seconds(b, "BLOCK_DURATION")?;
        }
        if let Some(t) = m.free.get(2) {
            c.timeout = seconds(t, "TIMEOUT")?;
            if c.timeout.is_zero() {
                return Err("TIMEOUT must be at least 1 second".into());
            }
        }
        if m.free.len() > 3 {
            return Err(format!("unexpected argument: {:?}", m.free[3]));
        }
        if let Some(a) = m.opt_str("bind") {
            c.bind = a
                .parse()
                .map_err(|_| format!("invalid --bind address: {a:?}"))?;
        }
        if let Some(f) = m.opt_str("credentials") {
            c.credentials = f.into();
        }
        if let Some(d) = m.opt_str("data-dir") {
            c.data_dir = d.into();
        }
        c.max_output = number(&m, "max-output")?.unwrap_or(c.max_output);
        // An unset --max-line follows a smaller --max-output down; a given one must fit.
        c.max_line = number(&m, "max-line")?.unwrap_or(c.max_line.min(c.max_output));
        c.max_clients = number(&m, "max-clients")?.unwrap_or(c.max_clients);
        c.history = number(&m, "history")?.unwrap_or(c.history);
        c.max_offline = number(&m, "max-offline")?.unwrap_or(c.max_offline);
        c.max_rooms = number(&m, "max-rooms")?.unwrap_or(c.max_rooms);
        c.max_rooms_per_user = number(&m, "max-rooms-per-user")?.unwrap_or(c.max_rooms_per_user);
        c.max_guest_rooms = number(&m, "max-guest-rooms")?.unwrap_or(c.max_guest_rooms);
        c.max_list = number(&m, "max-list")?.unwrap_or(c.max_list);
        c.compact_bytes = number(&m, "compact-bytes")?.unwrap_or(c.compact_bytes);
        // IRC front-end (issue 12).
        c.irc_port = number(&m, "irc-port")?;
        c.irc_guests = m.opt_present("irc-guests");
        if let Some(name) = m.opt_str("irc-server-name") {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                return Err(format!("invalid --irc-server-name: {name:?}"));
            }
            c.irc_server_name = name;
        }
        if let Some(pair) = m.opt_str("irc-oper") {
            let (name, password) = pair
                .split_once(':')
                .filter(|(n, p)| !n.is_empty() && !p.is_empty())
                .ok_or_else(|| format!("invalid --irc-oper (NAME:PASSWORD expected): {pair:?}"))?;
            c.irc_oper = Some((name.to_string(), password.to_string()));
        }
        c.json_port = number(&m, "json-port")?;
        // TLS (issue 18).
        c.tls_port = number(&m, "tls-port")?;
        c.json_tls_port = number(&m, "json-tls-port")?;
        c.irc_tls_port = number(&m, "irc-tls-port")?;
        let any_tls_port = c.tls_port.or(c.json_tls_port).or(c.irc_tls_port).is_some();
        c.tls_files = match (m.opt_str("tls-cert"), m.opt_str("tls-key")) {
            (Some(cert), Some(key)) if any_tls_port => Some((cert.into(), key.into())),
            (None, None) if !any_tls_port => None,
            (Some(_), Some(_)) => {
                return Err(
                    "--tls-cert and --tls-key serve --tls-port, --json-tls-port or \
                     --irc-tls-port: give one"
                        .into(),
                )
            }
            _ => {
                return Err("TLS needs both --tls-cert FILE and --tls-key FILE".into());
            }
        };
        // Reliability limits (issue 8).
        c.max_accounts = number(&m, "max-accounts")?.unwrap_or(c.max_accounts);
        c.register_rate = number(&m, "register-rate")?.unwrap_or(c.register_rate);
        c.max_offline_bytes = number(&m, "max-offline-bytes")?.unwrap_or(c.max_offline_bytes);
        c.max_per_ip = number(&m, "max-per-ip")?.unwrap_or(c.max_per_ip);
        c.max_output_total = number(&m, "max-output-total")?.unwrap_or(c.max_output_total);
        c.limit_loopback = m.opt_present("max-per-ip") || m.opt_present("register-rate");
        if let Some(us) = number::<u64>(&m, "penalty-us")? {
            c.penalty = Duration::from_micros(us.min(1_000_000));
        }
        if c.max_per_ip == 0 || c.max_output_total < c.max_output {
            return Err("--max-per-ip must be >= 1, --max-output-total >= --max-output".into());
        }
        if let Some(s) = m.opt_str("login-timeout") {
            c.login_timeout = seconds(&s, "--login-timeout")?;
        }
        if let Some(s) = m.opt_str("close-timeout") {
            c.close_timeout = seconds(&s, "--close-timeout")?;
        }
        if let Some(s) = m.opt_str("heartbeat") {
            c.heartbeat = Some(seconds(&s, "--heartbeat")?).filter(|d| !d.is_zero());
        }
        if !(16..=1 << 24).contains(&c.max_line)
            || !(1024..=1 << 30).contains(&c.max_output)
            || c.max_clients == 0
        {
            return Err(
                "--max-line must be 16..=16777216, --max-output 1024..=1073741824, \
                 --max-clients >= 1"
                    .into(),
            );
        }
        if c.max_line > c.max_output {
            // A line the server accepts could never be echoed back in one reply.
            return Err(format!(
                "--max-line ({}) must not exceed --max-output ({})",
                c.max_line, c.max_output
            ));
        }
        c.register = !m.opt_present("no-register");
        c.presence = !m.opt_present("no-presence");
        c.plain_credentials = m.opt_present("plain-credentials");
        c.repair = m.opt_present("repair");
        c.duplicate_login = match m.opt_str("duplicate-login").as_deref() {
            None | Some("refuse") => DuplicateLogin::Refuse,
            Some("replace") => DuplicateLogin::Replace,
            Some(o) => return Err(format!("invalid --duplicate-login: {o:?} (refuse|replace)")),
        };
        c.fsync = match m.opt_str("fsync").as_deref() {
            None | Some("always") => FsyncPolicy::Always,
            Some("never") => FsyncPolicy::Never,
            Some(o) => return Err(format!("invalid --fsync: {o:?} (always|never)")),
        };
        Ok(Cli::Run(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &str) -> Result<Cli, String> {
        let v: Vec<String> = args.split_whitespace().map(String::from).collect();
        Cli::parse(&v)
    }

    fn run(args: &str) -> Config {
        match parse(args) {
            Ok(Cli::Run(c)) => c,
            other => panic!("expected Run for {args:?}, got {other:?}"),
        }
    }

    #[test]
    fn assignment_form() {
        let c = run("4000 60 120");
        assert_eq!(c.port, 4000);
        assert_eq!(c.block_duration, Duration::from_secs(60));
        assert_eq!(c.timeout, Duration::from_secs(120));
    }

    #[test]
    fn defaults_when_only_port() {
        let c = run("5000");
        assert_eq!(c.block_duration, Duration::from_secs(60));
        assert_eq!(c.timeout, Duration::from_secs(300));
        assert_eq!(c.max_line, 4096);
        assert!(c.register);
        assert_eq!(c.fsync, FsyncPolicy::Always);
    }

    #[test]
    fn options_are_read() {
        let c = run("--bind 127.0.0.1 --max-line 100 --no-register --duplicate-login replace --fsync never 0");
        assert_eq!(c.bind, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(c.max_line, 100);
        assert!(!c.register);
        assert!(c.presence);
        assert!(!run("--no-presence 1").presence);
        assert_eq!(c.duplicate_login, DuplicateLogin::Replace);
        assert_eq!(c.fsync, FsyncPolicy::Never);
        let c = run("--compact-bytes 4096 --max-offline 3 --history 7 --repair 0");
        assert_eq!(run("--max-rooms 5 0").max_rooms, 5);
        let d = run("--max-rooms-per-user 3 --max-guest-rooms 1 --max-list 7 0");
        assert_eq!(
            (d.max_rooms_per_user, d.max_guest_rooms, d.max_list),
            (3, 1, 7)
        );
        assert_eq!((c.compact_bytes, c.max_offline, c.history), (4096, 3, 7));
        assert!(c.repair);
        assert_eq!(run("0").compact_bytes, 8 << 20);
        assert_eq!(run("--json-port 33000 0").json_port, Some(33000));
        assert_eq!(run("0").json_port, None);
    }

    #[test]
    fn irc_options() {
        let c = run("5000");
        assert_eq!(c.irc_port, None, "the IRC port is off by default");
        assert!(!c.irc_guests);
        assert_eq!(c.irc_server_name, "chatserver");
        let c = run(
            "--irc-port 6667 --irc-guests --irc-server-name irc.example --irc-oper op:s3cret 0",
        );
        assert_eq!(c.irc_port, Some(6667));
        assert!(c.irc_guests);
        assert_eq!(c.irc_server_name, "irc.example");
        assert_eq!(c.irc_oper, Some(("op".into(), "s3cret".into())));
    }

    #[test]
    fn tls_options() {
        let c = run("5000");
        assert_eq!(
            (c.tls_files, c.tls_port, c.irc_tls_port),
            (None, None, None)
        );
        let c = run("--tls-cert c.pem --tls-key k.pem --tls-port 4443 --irc-tls-port 6697 0");
        assert_eq!(c.tls_files, Some(("c.pem".into(), "k.pem".into())));
        assert_eq!((c.tls_port, c.irc_tls_port), (Some(4443), Some(6697)));
        let c = run("--tls-cert c.pem --tls-key k.pem --json-tls-port 0 0");
        assert_eq!((c.json_tls_port, c.tls_port), (Some(0), None));
        for bad in [
            "--tls-port 4443 0",
            "--tls-cert c.pem --tls-port 4443 0",
            "--tls-key k.pem --irc-tls-port 6697 0",
            "--tls-cert c.pem --tls-key k.pem 0",
            "--tls-cert c.pem --tls-key k.pem --tls-port 70000 0",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn bad_arguments_are_errors() {
        for bad in [
            "",
            "notaport",
            "70000",
            "4000 x",
            "4000 1 0",
            "4000 1 2 3",
            "4000 18446744073709551615",
            "--max-line 18446744073709551615 4000",
            "--max-output 10 4000",
            "4000 1 9999999999",
            "--max-line abc 4000",
            "--duplicate-login maybe 4000",
            "--bogus 4000",
            "--json-port 70000 4000",
            "--json-port x 4000",
            "--irc-port 70000 4000",
            "--irc-server-name a:b 4000",
            "--irc-oper nopassword 4000",
            "--irc-oper :pw 4000",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    /// A line longer than the output cap could never be answered (issue 8).
    #[test]
    fn max_line_above_max_output_is_rejected() {
        let e = parse("--max-line 4096 --max-output 2048 0").expect_err("must be rejected");
        assert!(
            e.contains("--max-line (4096) must not exceed --max-output (2048)"),
            "{e}"
        );
        let c = run("--max-line 2048 --max-output 2048 0");
        assert_eq!((c.max_line, c.max_output), (2048, 2048));
        let c = run("--max-output 2048 0");
        assert_eq!((c.max_line, c.max_output), (2048, 2048));
    }

    #[test]
    fn one_shot_modes() {
        assert!(matches!(parse("-h"), Ok(Cli::Help)));
        assert!(matches!(parse("--version"), Ok(Cli::Version)));
        match parse("--hash-credentials creds.txt") {
            Ok(Cli::HashCredentials(p)) => assert_eq!(p, PathBuf::from("creds.txt")),
            other => panic!("{other:?}"),
        }
    }

    /// Reliability limits (issue 8): defaults, flags, and when loopback is limited too.
    #[test]
    fn reliability_limits() {
        let c = run("0");
        assert_eq!(
            (
                c.max_accounts,
                c.register_rate,
                c.max_per_ip,
                c.limit_loopback
            ),
            (100_000, 10, 64, false)
        );
        assert_eq!(
            (c.max_offline_bytes, c.max_output_total),
            (64 << 20, 256 << 20)
        );
        assert_eq!(c.penalty, Duration::from_micros(500));
        let c = run("--max-accounts 5 --register-rate 2 --max-offline-bytes 9 --max-per-ip 3 --max-output-total 2000000 --penalty-us 0 0");
        assert_eq!(
            (
                c.max_accounts,
                c.register_rate,
                c.max_per_ip,
                c.limit_loopback
            ),
            (5, 2, 3, true)
        );
        assert_eq!((c.max_offline_bytes, c.max_output_total), (9, 2_000_000));
        assert_eq!(c.penalty, Duration::ZERO);
        assert!(parse("--max-per-ip 0 0").is_err());
        assert!(
            parse("--max-output-total 1024 0").is_err(),
            "below --max-output"
        );
    }
}
