//! Command-line parsing into a [`Config`]: pure, so every flag is unit-tested without a process.
//! The flags themselves are one table (`flags`); the command line becomes named values
//! (`values`), which become a [`Config`] in one place.

mod cli;
mod flags;
mod toml;
mod values;

pub use cli::{usage, Cli, UserAction};

pub use flags::{short_usage, Arg, Flag, Use, FLAGS};
pub use values::{Origin, Value, Values, POSITIONAL};

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
    /// `credentials` is the default `./credentials.txt`: created empty if missing (a file named
    /// with `--credentials` must exist). The default stays the assignment's file, read at start
    /// and appended to by registrations (PROTOCOL.md §2), so an assignment harness finds its
    /// accounts where it wrote them.
    pub create_credentials: bool,
    pub data_dir: PathBuf,
    /// The admin socket (issue 21) for `chatserver ctl`; `None`: off.
    pub admin_socket: Option<PathBuf>,
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
    /// `--server-description`: a line about this server (IRC `LINKS` `364`, `WHOIS` `312`).
    pub server_description: String,
    /// `--operators NAMES`: the accounts that may become server operators (IRC `OPER` with
    /// the account's own password; none: `OPER` always fails).
    pub operators: Vec<String>,
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
    /// PBKDF2 iterations for new and changed passwords (issue 21).
    pub hash_cost: u32,
    /// Failed logins per source address per minute (0: unlimited), like `register_rate`.
    pub login_fail_rate: u32,
    /// `--log-level` (issue 21; `None`: `RUST_LOG`, else warn). Changes live on SIGHUP.
    pub log_level: Option<log::LevelFilter>,
    /// `--config FILE`, read again on SIGHUP (issue 21).
    pub config_file: Option<PathBuf>,
    /// The command line's settings, which override the file's at every reload too.
    pub command_line: Values,
    /// The settings this config was built from (file and command line merged).
    pub values: Values,
    /// Cluster mode (issue 23): `--cluster` and its companions; `None`: the file journal.
    pub cluster: Option<ClusterOptions>,
    // TLS (issue 18).
    /// `--tls-cert`/`--tls-key`: the PEM certificate chain and private key of every TLS
    /// listener (both or neither; required by any TLS port). Read again on SIGHUP.
    pub tls_files: Option<(PathBuf, PathBuf)>,
    /// `--tls-port`, `--json-tls-port`, `--irc-tls-port`: the front-ends over TLS (`None`: off).
    pub tls_port: Option<u16>,
    pub json_tls_port: Option<u16>,
    pub irc_tls_port: Option<u16>,
    // Chat from a browser (issue 19).
    /// `--http-port`, `--https-port`: the page, `/metrics`, `/healthz` and WebSockets.
    pub http_port: Option<u16>,
    pub https_port: Option<u16>,
    /// `--events-port`, `--events-tls-port`: the events protocol as JSON lines, for bots.
    pub events_port: Option<u16>,
    pub events_tls_port: Option<u16>,
    /// `--ws-origin`: browser origins allowed to open a WebSocket (empty: the page's own).
    pub ws_origins: Vec<String>,
    /// `--metrics-public`: `/metrics` for any address, not only loopback.
    pub metrics_public: bool,
}

/// What a SIGHUP reload found (issue 21).
#[derive(Debug)]
pub struct Reloaded {
    /// What to run with now: the new values of live settings, the old ones of the others.
    pub config: Config,
    /// Live settings that changed, as `key (old -> new)`.
    pub applied: Vec<String>,
    /// Settings that changed in the file but wait for a restart.
    pub restart: Vec<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            // Loopback unless told otherwise (issue 21): open registration and sample accounts
            // must not face a network by default.
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            block_duration: Duration::from_secs(60),
            timeout: Duration::from_secs(300),
            credentials: PathBuf::from("credentials.txt"),
            create_credentials: true,
            data_dir: PathBuf::from("chatserver-data"),
            admin_socket: Some(PathBuf::from("chatserver-data/admin.sock")),
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
            server_description: "chatserver".into(),
            operators: Vec::new(),
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
            hash_cost: DEFAULT_HASH_COST,
            login_fail_rate: 30,
            log_level: None,
            config_file: None,
            command_line: Values::default(),
            values: Values::default(),
            cluster: None,
            tls_files: None,
            tls_port: None,
            json_tls_port: None,
            irc_tls_port: None,
            http_port: None,
            https_port: None,
            events_port: None,
            events_tls_port: None,
            ws_origins: Vec::new(),
            metrics_public: false,
        }
    }
}

/// PBKDF2 iterations by default: about 1.4 ms a login on the machine the benchmarks ran on (the
/// cost of Ergo's bcrypt 4, which it ships with login throttling), so a restart's reconnect
/// storm of 10,000 users costs 14 s of CPU spread over the loop's steps rather than minutes,
/// and a stolen credentials file costs an attacker 10,000 HMACs a guess instead of one hash.
pub const DEFAULT_HASH_COST: u32 = 10_000;

/// An address, or a host name resolved once (`--bind localhost`): its first IPv4 address,
/// else its first address. The one lookup the otherwise pure parsing does.
fn resolve(host: &str) -> Result<IpAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(ip) = host.parse() {
        return Ok(ip);
    }
    let found: Vec<IpAddr> = (host, 0)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .map(|a| a.ip())
        .collect();
    found
        .iter()
        .find(|ip| ip.is_ipv4())
        .or(found.first())
        .copied()
        .ok_or_else(|| "no address".to_string())
}

impl Config {
    /// Build the settings from named values (command line and config file merged); `Err` is
    /// one line naming the flag or the file and line at fault.
    pub fn from_values(v: &Values) -> Result<Config, String> {
        Config::build(v, true)
    }

    /// The settings of `file` (if any) overridden by `command_line`'s. Reading the file is the
    /// one piece of I/O here besides `--bind`'s host name.
    fn load(file: Option<PathBuf>, command_line: Values, serving: bool) -> Result<Config, String> {
        let mut values = Values::default();
        if let Some(path) = &file {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            toml::parse(path, &text, &mut values)?;
        }
        values.merge(&command_line);
        let mut c = Config::build(&values, serving)?;
        c.config_file = file;
        c.command_line = command_line;
        c.values = values;
        Ok(c)
    }

    /// Read the config file again (SIGHUP), the command line still overriding it, and sort
    /// the changes into those the running server takes now and those that need a restart.
    /// `Err`: the file does not load; nothing changes.
    pub fn reload(&self) -> Result<Reloaded, String> {
        let fresh = Config::load(self.config_file.clone(), self.command_line.clone(), true)?;
        let keys: std::collections::BTreeSet<&str> =
            self.values.keys().chain(fresh.values.keys()).collect();
        let mut running = fresh.values.clone();
        let (mut applied, mut restart) = (Vec::new(), Vec::new());
        let show = |v: Option<&Value>| v.map_or("default".to_string(), Value::to_string);
        for key in keys {
            let (old, new) = (self.values.get(key), fresh.values.get(key));
            if old == new {
                continue;
            }
            let change = format!("{key} ({} -> {})", show(old), show(new));
            if flags::is_live(key) {
                applied.push(change);
            } else {
                restart.push(change);
                running.copy_from(&self.values, key);
            }
        }
        let mut config = Config::build(&running, true)?;
        config.config_file = fresh.config_file;
        config.command_line = fresh.command_line;
        config.values = running;
        Ok(Reloaded {
            config,
            applied,
            restart,
        })
    }

    /// As [`Config::from_values`]; a tool (`ctl`, `user`, …) needs no PORT.
    fn build(v: &Values, serving: bool) -> Result<Config, String> {
        let mut c = Config::default();
        match v.number("port")? {
            Some(port) => c.port = port,
            None if serving => return Err("missing PORT".into()),
            None => {}
        }
        c.block_duration = v.seconds("block-duration")?.unwrap_or(c.block_duration);
        c.timeout = v.seconds("timeout")?.unwrap_or(c.timeout);
        if c.timeout.is_zero() {
            return Err(format!("{} must be at least 1 second", v.name("timeout")));
        }
        if let Some(a) = v.text("bind")? {
            c.bind = resolve(&a).map_err(|e| format!("invalid {}: {a:?} ({e})", v.name("bind")))?;
        }
        if let Some(d) = v.text("data-dir")? {
            c.data_dir = d.into();
        }
        if let Some(f) = v.text("credentials")? {
            c.credentials = f.into();
            c.create_credentials = false;
        }
        c.admin_socket = match v.text("admin-socket")? {
            _ if v.switch("no-admin-socket")? => None,
            Some(path) if path.is_empty() => {
                return Err(format!("invalid {}: empty path", v.name("admin-socket")))
            }
            Some(path) => Some(path.into()),
            None => Some(c.data_dir.join("admin.sock")),
        };
        c.max_output = v.number("max-output")?.unwrap_or(c.max_output);
        // An unset --max-line follows a smaller --max-output down; a given one must fit.
        c.max_line = v
            .number("max-line")?
            .unwrap_or(c.max_line.min(c.max_output));
        c.max_clients = v.number("max-clients")?.unwrap_or(c.max_clients);
        c.history = v.number("history")?.unwrap_or(c.history);
        c.max_offline = v.number("max-offline")?.unwrap_or(c.max_offline);
        c.max_rooms = v.number("max-rooms")?.unwrap_or(c.max_rooms);
        // Issue 17: everything a user can grow is bounded.
        c.max_rooms_per_user = v
            .number("max-rooms-per-user")?
            .unwrap_or(c.max_rooms_per_user);
        c.max_guest_rooms = v.number("max-guest-rooms")?.unwrap_or(c.max_guest_rooms);
        c.max_list = v.number("max-list")?.unwrap_or(c.max_list);
        c.compact_bytes = v.number("compact-bytes")?.unwrap_or(c.compact_bytes);
        // IRC front-end (issue 12).
        c.irc_port = v.number("irc-port")?;
        c.irc_guests = v.switch("irc-guests")?;
        if let Some(name) = v.text("irc-server-name")? {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                return Err(format!("invalid {}: {name:?}", v.name("irc-server-name")));
            }
            c.irc_server_name = name;
        }
        if let Some(text) = v.text("server-description")? {
            // One IRC parameter (spaces allowed): never a line break.
            if text.is_empty() || text.len() > 100 || text.chars().any(char::is_control) {
                let name = v.name("server-description");
                return Err(format!(
                    "invalid {name} (1-100 characters, none a control character): {text:?}"
                ));
            }
            c.server_description = text;
        }
        if let Some(list) = v.text("operators")? {
            c.operators = list
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(String::from)
                .collect();
        }
        c.json_port = v.number("json-port")?;
        // TLS (issue 18).
        c.tls_port = v.number("tls-port")?;
        c.json_tls_port = v.number("json-tls-port")?;
        c.irc_tls_port = v.number("irc-tls-port")?;
        c.http_port = v.number("http-port")?;
        c.https_port = v.number("https-port")?;
        c.events_port = v.number("events-port")?;
        c.events_tls_port = v.number("events-tls-port")?;
        c.ws_origins = v
            .text("ws-origin")?
            .map(|list| {
                list.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_string())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        c.metrics_public = v.switch("metrics-public")?;
        let any_tls_port = c.tls_port.or(c.json_tls_port).or(c.irc_tls_port);
        let any_tls_port = any_tls_port
            .or(c.https_port)
            .or(c.events_tls_port)
            .is_some();
        c.tls_files = match (v.text("tls-cert")?, v.text("tls-key")?) {
            (Some(cert), Some(key)) if any_tls_port => Some((cert.into(), key.into())),
            (None, None) if !any_tls_port => None,
            (Some(_), Some(_)) => {
                return Err(format!(
                    "{} and {} serve {}, {}, {}, {} or {}: give one",
                    v.name("tls-cert"),
                    v.name("tls-key"),
                    v.name("tls-port"),
                    v.name("json-tls-port"),
                    v.name("irc-tls-port"),
                    v.name("https-port"),
                    v.name("events-tls-port")
                ))
            }
            _ => {
                return Err(format!(
                    "TLS needs both {} FILE and {} FILE",
                    v.name("tls-cert"),
                    v.name("tls-key")
                ))
            }
        };
        // Reliability limits (issue 8).
        c.max_accounts = v.number("max-accounts")?.unwrap_or(c.max_accounts);
        c.register_rate = v.number("register-rate")?.unwrap_or(c.register_rate);
        c.max_offline_bytes = v
            .number("max-offline-bytes")?
            .unwrap_or(c.max_offline_bytes);
        c.max_per_ip = v.number("max-per-ip")?.unwrap_or(c.max_per_ip);
        c.max_output_total = v.number("max-output-total")?.unwrap_or(c.max_output_total);
        c.hash_cost = v.number("hash-cost")?.unwrap_or(c.hash_cost);
        if !(1..=crate::credentials::MAX_ITERATIONS).contains(&c.hash_cost) {
            return Err(format!("{} must be 1 to 10000000", v.name("hash-cost")));
        }
        c.login_fail_rate = v.number("login-fail-rate")?.unwrap_or(c.login_fail_rate);
        c.limit_loopback =
            v.given("max-per-ip") || v.given("register-rate") || v.given("login-fail-rate");
        if let Some(us) = v.number::<u64>("penalty-us")? {
            c.penalty = Duration::from_micros(us.min(1_000_000));
        }
        if c.max_per_ip == 0 || c.max_output_total < c.max_output {
            return Err("--max-per-ip must be >= 1, --max-output-total >= --max-output".into());
        }
        c.login_timeout = v.seconds("login-timeout")?.unwrap_or(c.login_timeout);
        if c.login_timeout.is_zero() {
            // Every connection, an HTTP request too, would be closed as it arrives.
            return Err(format!(
                "{} must be at least 1 second",
                v.name("login-timeout")
            ));
        }
        c.close_timeout = v.seconds("close-timeout")?.unwrap_or(c.close_timeout);
        c.heartbeat = v.seconds("heartbeat")?.filter(|d| !d.is_zero());
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
        c.register = !v.switch("no-register")?;
        c.presence = !v.switch("no-presence")?;
        c.plain_credentials = v.switch("plain-credentials")?;
        c.repair = v.switch("repair")?;
        c.duplicate_login = match v.choice("duplicate-login", &["refuse", "replace"])? {
            Some(1) => DuplicateLogin::Replace,
            _ => DuplicateLogin::Refuse,
        };
        c.fsync = match v.choice("fsync", &["always", "never"])? {
            Some(1) => FsyncPolicy::Never,
            _ => FsyncPolicy::Always,
        };
        const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
        c.log_level = v
            .choice("log-level", &LEVELS)?
            .and_then(|i| LEVELS[i].parse().ok());
        c.cluster = cluster_options(v)?;
        Ok(c)
    }
}

/// Where the cluster's Redis is and who this node is (issue 23).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterOptions {
    pub host: String,
    pub port: u16,
    /// `SELECT`ed after connecting, when given.
    pub db: Option<u32>,
    /// `rediss://`: TLS to Redis.
    pub tls: bool,
    /// `--cluster-ca`: the CA certificates Redis's is checked against (`None`: the system's).
    pub ca_file: Option<PathBuf>,
    /// Read at start-up; the password never appears on the command line.
    pub password_file: Option<PathBuf>,
    /// `None`: `HOSTNAME:PORT`, settled at start-up.
    pub node_id: Option<String>,
    pub prefix: String,
    /// A node whose liveness key is this old is down.
    pub node_ttl: Duration,
    /// Stream entries between two snapshots (then the stream is trimmed).
    pub snapshot_every: u64,
    /// `--cluster-live`: the Redis that carries live traffic (`PUBLISH`/`SUBSCRIBE`) instead
    /// of the one holding the stream. A Redis with `appendfsync always` serves nobody while
    /// it fsyncs a write, and a slow fsync then held every DM between nodes
    /// (BENCHMARKS.md, "Cluster on Redis"); pub/sub needs no persistence.
    pub live: Option<LiveRedis>,
}

/// Where live traffic between nodes goes (`--cluster-live redis://HOST:PORT`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRedis {
    pub host: String,
    pub port: u16,
    /// `rediss://` (checked against `--cluster-ca` too).
    pub tls: bool,
}

/// `redis://HOST:PORT[/DB]` or `rediss://…` given to `flag`: host, port, database, TLS.
fn redis_url(flag: &str, url: &str) -> Result<(String, u16, Option<u32>, bool), String> {
    let bad = || format!("invalid {flag}: {url:?} (redis://HOST:PORT[/DB] expected)");
    let (tls, rest) = match url.split_once("://") {
        Some(("redis", rest)) => (false, rest),
        Some(("rediss", rest)) => (true, rest),
        _ => return Err(bad()),
    };
    let (addr, db) = match rest.split_once('/') {
        Some((addr, "")) => (addr, None),
        Some((addr, db)) => (addr, Some(db.parse::<u32>().map_err(|_| bad())?)),
        None => (rest, None),
    };
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse::<u16>().map_err(|_| bad())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok((host.to_string(), port, db, tls))
}

/// `--cluster redis://HOST:PORT[/DB]` (or `rediss://`) and the flags that only mean something
/// with it.
fn cluster_options(v: &Values) -> Result<Option<ClusterOptions>, String> {
    let Some(url) = v.text("cluster")? else {
        for flag in [
            "cluster-ca",
            "cluster-password-file",
            "node-id",
            "cluster-prefix",
            "node-ttl",
            "cluster-snapshot-every",
            "cluster-live",
        ] {
            if v.get(flag).is_some() {
                return Err(format!("{} needs --cluster", v.name(flag)));
            }
        }
        return Ok(None);
    };
    let (host, port, db, tls) = redis_url(&v.name("cluster"), &url)?;
    let live = match v.text("cluster-live")? {
        None => None,
        Some(url) => match redis_url(&v.name("cluster-live"), &url)? {
            (_, _, Some(_), _) => {
                return Err(format!(
                    "{} takes no /DB (pub/sub channels are not per database)",
                    v.name("cluster-live")
                ))
            }
            (host, port, None, tls) => Some(LiveRedis { host, port, tls }),
        },
    };
    let ca_file = v.text("cluster-ca")?.map(PathBuf::from);
    if ca_file.is_some() && !tls && !live.as_ref().is_some_and(|l| l.tls) {
        return Err(format!(
            "{} needs a rediss:// --cluster (TLS to Redis)",
            v.name("cluster-ca")
        ));
    }
    let node_id = v.text("node-id")?;
    if node_id
        .as_deref()
        .is_some_and(|n| n.is_empty() || n.len() > 64 || !n.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err("invalid --node-id (1-64 printable ASCII characters, no spaces)".into());
    }
    let prefix = v
        .text("cluster-prefix")?
        .unwrap_or_else(|| "chatserver".into());
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("invalid --cluster-prefix (printable ASCII, no spaces)".into());
    }
    let node_ttl = v.seconds("node-ttl")?.unwrap_or(Duration::from_secs(10));
    if node_ttl.is_zero() {
        return Err("--node-ttl must be at least 1 second".into());
    }
    let snapshot_every = v.number("cluster-snapshot-every")?.unwrap_or(10_000);
    if snapshot_every == 0 {
        return Err("--cluster-snapshot-every must be at least 1".into());
    }
    Ok(Some(ClusterOptions {
        host,
        port,
        db,
        tls,
        ca_file,
        password_file: v.text("cluster-password-file")?.map(PathBuf::from),
        node_id,
        prefix,
        node_ttl,
        snapshot_every,
        live,
    }))
}

#[cfg(test)]
mod tests;
