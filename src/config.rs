//! Command-line parsing into a [`Config`]: pure, so every flag is unit-tested without a process.
//! The flags themselves are one table (`flags`); the command line becomes named values
//! (`values`), which become a [`Config`] in one place.

mod flags;
mod toml;
mod values;

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
    /// When `credentials` is the default (inside the data directory) and does not exist yet,
    /// it starts as a copy of this file if there is one (the repository's sample accounts),
    /// else empty: registering then never rewrites the tracked sample (issue 21).
    pub credentials_seed: Option<PathBuf>,
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
            credentials: PathBuf::from("chatserver-data/credentials.txt"),
            credentials_seed: Some(PathBuf::from("credentials.txt")),
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
            hash_cost: DEFAULT_HASH_COST,
            login_fail_rate: 30,
            log_level: None,
            config_file: None,
            command_line: Values::default(),
            values: Values::default(),
        }
    }
}

/// PBKDF2 iterations by default: about 1.4 ms a login on the machine the benchmarks ran on (the
/// cost of Ergo's bcrypt 4, which it ships with login throttling), so a restart's reconnect
/// storm of 10,000 users costs 14 s of CPU spread over the loop's steps rather than minutes,
/// and a stolen credentials file costs an attacker 10,000 HMACs a guess instead of one hash.
pub const DEFAULT_HASH_COST: u32 = 10_000;

/// What the command line asks for: run the server, or one of the one-shot actions.
#[derive(Debug)]
// Built once per process: the size difference costs nothing (the IRC settings tipped it).
#[allow(clippy::large_enum_variant)]
pub enum Cli {
    Run(Config),
    /// Rewrite a plaintext credentials file to hashed entries, then exit.
    HashCredentials {
        path: PathBuf,
        cost: u32,
    },
    /// `chatserver ctl CMD…`: send one console command to a running server's admin socket.
    Ctl {
        socket: PathBuf,
        command: String,
    },
    /// `chatserver user …`: an account command, through the admin socket of a running server
    /// or on the stopped server's files.
    User {
        config: Config,
        action: UserAction,
    },
    /// `chatserver backup DIR`: a backup into the new directory DIR, through the running
    /// server's admin socket or from the stopped server's files.
    Backup {
        config: Config,
        dir: PathBuf,
    },
    /// `chatserver restore DIR`: replace the stopped server's state with the backup in DIR.
    Restore {
        config: Config,
        dir: PathBuf,
    },
    Help,
    Version,
}

/// What `chatserver user` was asked (the password, where needed, is read separately).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserAction {
    Add(String),
    Passwd(String),
    Del(String),
    List,
}

/// The `--help` text.
pub fn usage() -> String {
    flags::usage()
}

/// The arguments after the program name with the positional ones picked out: getopts reads a
/// negative number such as `chatserver 5001 -5` as an unknown option `-5`, but the operator
/// meant a BLOCK_DURATION, and the error must name that value.
struct Args {
    /// Everything getopts should see.
    options: Vec<String>,
    /// Negative numbers in positional places, with their index among the positionals.
    negatives: Vec<(usize, String)>,
}

fn split_negatives(args: &[String]) -> Args {
    let mut out = Args {
        options: Vec::new(),
        negatives: Vec::new(),
    };
    let mut positionals = 0;
    let mut value_next = false;
    let mut only_free = false;
    for a in args {
        let looks_negative = a.len() > 1
            && a.starts_with('-')
            && a[1..].bytes().next().is_some_and(|b| b.is_ascii_digit());
        if value_next {
            value_next = false;
        } else if only_free || !a.starts_with('-') || a == "-" {
            positionals += 1;
        } else if a == "--" {
            only_free = true;
        } else if looks_negative {
            out.negatives.push((positionals, a.clone()));
            positionals += 1;
            continue;
        } else if let Some(name) = a.strip_prefix("--") {
            value_next = !name.contains('=')
                && flags::find(name).is_some_and(|f| matches!(f.arg, flags::Arg::Required(_)));
        }
        out.options.push(a.clone());
    }
    out
}

/// The settings flags present in `m`, as named values.
fn flag_values(m: &getopts::Matches) -> Values {
    let mut values = Values::default();
    for f in flags::FLAGS
        .iter()
        .filter(|f| f.used == flags::Use::Setting)
    {
        let value = match f.arg {
            flags::Arg::None if m.opt_present(f.name) => Value::Bool(true),
            _ => match m.opt_str(f.name) {
                Some(v) => Value::Text(v),
                None => continue,
            },
        };
        values.set(f.name, value, Origin::CommandLine);
    }
    values
}

/// A tool's arguments (`chatserver ctl|user … [OPTIONS] WORDS…`): the options before the words
/// are the server's (`--data-dir`, `--admin-socket`, `--credentials`, …, so a tool finds what
/// the server uses) plus `--socket PATH` for `--admin-socket`; the words follow.
fn parse_tool(tool: &str, args: &[String]) -> Result<(Config, Vec<String>), String> {
    let mut o = flags::options();
    o.optopt(
        "",
        "socket",
        "the admin socket (the same as --admin-socket)",
        "PATH",
    );
    o.parsing_style(getopts::ParsingStyle::StopAtFirstFree);
    let m = o.parse(args).map_err(|e| format!("{tool}: {e}"))?;
    let mut values = flag_values(&m);
    if let Some(socket) = m.opt_str("socket") {
        values.set("admin-socket", Value::Text(socket), Origin::CommandLine);
    }
    let config = Config::load(m.opt_str("config").map(PathBuf::from), values, false)?;
    Ok((config, m.free))
}

/// `chatserver ctl CMD…`: the words are the console line.
fn parse_ctl(args: &[String]) -> Result<Cli, String> {
    let (config, words) = parse_tool("ctl", args)?;
    if words.is_empty() {
        return Err("ctl: missing command (`chatserver ctl help` lists them)".into());
    }
    let socket = config
        .admin_socket
        .ok_or("ctl: the admin socket is off (--no-admin-socket)")?;
    Ok(Cli::Ctl {
        socket,
        command: words.join(" "),
    })
}

/// `chatserver user add|passwd|del NAME`, `user list`.
fn parse_user(args: &[String]) -> Result<Cli, String> {
    let (config, words) = parse_tool("user", args)?;
    let owned = |s: &String| s.clone();
    let action = match words.as_slice() {
        [w] if w == "list" => UserAction::List,
        [w, name] if w == "add" => UserAction::Add(owned(name)),
        [w, name] if w == "passwd" => UserAction::Passwd(owned(name)),
        [w, name] if w == "del" => UserAction::Del(owned(name)),
        _ => return Err("user: expected add NAME, passwd NAME, del NAME or list".into()),
    };
    Ok(Cli::User { config, action })
}

/// `chatserver backup|restore [OPTIONS] DIR`.
fn parse_dir_tool(tool: &str, args: &[String]) -> Result<Cli, String> {
    let (config, words) = parse_tool(tool, args)?;
    let [dir] = words.as_slice() else {
        return Err(format!("{tool}: expected one directory"));
    };
    let dir = PathBuf::from(dir);
    Ok(match tool {
        "backup" => Cli::Backup { config, dir },
        _ => Cli::Restore { config, dir },
    })
}

impl Cli {
    /// Parse the arguments after the program name. `Err` holds one line for stderr.
    pub fn parse(args: &[String]) -> Result<Cli, String> {
        match args.first().map(String::as_str) {
            Some("ctl") => return parse_ctl(&args[1..]),
            Some("user") => return parse_user(&args[1..]),
            Some(tool @ ("backup" | "restore")) => return parse_dir_tool(tool, &args[1..]),
            _ => {}
        }
        let split = split_negatives(args);
        let m = flags::options()
            .parse(&split.options)
            .map_err(|e| e.to_string())?;
        if m.opt_present("help") {
            return Ok(Cli::Help);
        }
        if m.opt_present("version") {
            return Ok(Cli::Version);
        }
        let mut free = m.free.clone();
        for (i, a) in split.negatives {
            free.insert(i.min(free.len()), a);
        }
        if m.opt_present("hash-credentials") {
            let file = m
                .opt_str("hash-credentials")
                .or_else(|| free.first().cloned())
                .unwrap_or_else(|| "credentials.txt".into());
            let cost = match m.opt_str("hash-cost") {
                Some(c) => c
                    .parse()
                    .ok()
                    .filter(|c| (1..=crate::credentials::MAX_ITERATIONS).contains(c))
                    .ok_or_else(|| format!("invalid --hash-cost: {c:?} (1 to 10000000)"))?,
                None => DEFAULT_HASH_COST,
            };
            return Ok(Cli::HashCredentials {
                path: PathBuf::from(file),
                cost,
            });
        }
        let mut values = flag_values(&m);
        if free.len() > POSITIONAL.len() {
            return Err(format!("unexpected argument: {:?}", free[POSITIONAL.len()]));
        }
        for ((key, _), v) in POSITIONAL.iter().zip(free) {
            values.set(key, Value::Text(v), Origin::CommandLine);
        }
        Config::load(m.opt_str("config").map(PathBuf::from), values, true).map(Cli::Run)
    }
}

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
        match v.text("credentials")? {
            Some(f) => {
                c.credentials = f.into();
                c.credentials_seed = None;
            }
            None => c.credentials = c.data_dir.join("credentials.txt"),
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
        if let Some(pair) = v.text("irc-oper")? {
            let (name, password) = pair
                .split_once(':')
                .filter(|(n, p)| !n.is_empty() && !p.is_empty())
                .ok_or_else(|| {
                    format!(
                        "invalid {} (NAME:PASSWORD expected): {pair:?}",
                        v.name("irc-oper")
                    )
                })?;
            c.irc_oper = Some((name.to_string(), password.to_string()));
        }
        c.json_port = v.number("json-port")?;
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
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

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
        assert_eq!(c.bind, IpAddr::from([127, 0, 0, 1]), "loopback by default");
        assert_eq!(
            c.credentials,
            PathBuf::from("chatserver-data/credentials.txt")
        );
        assert_eq!(c.credentials_seed, Some(PathBuf::from("credentials.txt")));
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
        assert_eq!((c.compact_bytes, c.max_offline, c.history), (4096, 3, 7));
        assert!(c.repair);
        assert_eq!(run("0").compact_bytes, 8 << 20);
        assert_eq!(run("--json-port 33000 0").json_port, Some(33000));
        assert_eq!(run("0").json_port, None);
    }

    /// The admin socket sits in the data directory unless placed or turned off; `ctl` finds it
    /// the same way (issue 21).
    #[test]
    fn admin_socket_and_ctl() {
        assert_eq!(
            run("0").admin_socket,
            Some(PathBuf::from("chatserver-data/admin.sock"))
        );
        assert_eq!(
            run("--data-dir /srv/c 0").admin_socket,
            Some(PathBuf::from("/srv/c/admin.sock"))
        );
        assert_eq!(
            run("--admin-socket /run/c.sock 0").admin_socket,
            Some(PathBuf::from("/run/c.sock"))
        );
        assert_eq!(run("--no-admin-socket 0").admin_socket, None);
        match parse("ctl --data-dir /srv/c kick bob") {
            Ok(Cli::Ctl { socket, command }) => {
                assert_eq!(socket, PathBuf::from("/srv/c/admin.sock"));
                assert_eq!(command, "kick bob");
            }
            other => panic!("{other:?}"),
        }
        match parse("ctl --socket s announce --not-an-option here") {
            Ok(Cli::Ctl { socket, command }) => {
                assert_eq!(socket, PathBuf::from("s"));
                assert_eq!(command, "announce --not-an-option here");
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("ctl").is_err());
        match parse("user --data-dir d add ann") {
            Ok(Cli::User { config, action }) => {
                assert_eq!(action, UserAction::Add("ann".into()));
                assert_eq!(config.credentials, PathBuf::from("d/credentials.txt"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse("user list"),
            Ok(Cli::User {
                action: UserAction::List,
                ..
            })
        ));
        for bad in [
            "user",
            "user add",
            "user add a b",
            "user frob x",
            "user list x",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("ctl --no-admin-socket list").is_err());
    }

    /// The file's settings, the command line over them; a reload sorts what changed into live
    /// and restart (issue 21).
    #[test]
    fn config_file_and_reload() {
        let dir = std::env::temp_dir().join(format!("chatserver-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("chat.toml");
        let path = file.to_str().expect("utf-8");
        std::fs::write(
            &file,
            "port = 4000\nmax-offline = 5\nbind = \"0.0.0.0\"\nfsync = \"never\"\n",
        )
        .expect("write");
        let c = run(&format!("--config {path} --max-rooms 7 --fsync always"));
        assert_eq!((c.port, c.max_offline, c.max_rooms), (4000, 5, 7));
        assert_eq!(c.bind, IpAddr::from([0, 0, 0, 0]));
        assert_eq!(c.fsync, FsyncPolicy::Always, "the command line wins");
        assert_eq!(run(&format!("--config {path} 5000")).port, 5000);

        std::fs::write(
            &file,
            "port = 4001\nmax-offline = 9\nbind = \"127.0.0.1\"\nfsync = \"never\"\nmax-rooms = 1\n\
             log-level = \"debug\"\n",
        )
        .expect("write");
        let r = c.reload().expect("reloads");
        assert_eq!(
            r.applied,
            ["log-level (default -> \"debug\")", "max-offline (5 -> 9)"]
        );
        assert_eq!(
            r.restart,
            ["bind (\"0.0.0.0\" -> \"127.0.0.1\")", "port (4000 -> 4001)"]
        );
        assert_eq!(r.config.max_offline, 9);
        assert_eq!(r.config.max_rooms, 7, "the command line still wins");
        assert_eq!(r.config.log_level, Some(log::LevelFilter::Debug));
        assert_eq!(
            (r.config.port, r.config.bind),
            (4000, IpAddr::from([0, 0, 0, 0]))
        );
        // Asked again, a restart-only change is still pending; nothing live is.
        let again = r.config.reload().expect("reloads");
        assert!(again.applied.is_empty());
        assert_eq!(again.restart.len(), 2);

        std::fs::write(&file, "port = 4000\nmax-offline = \"many\"\n").expect("write");
        let e = c.reload().expect_err("a bad file changes nothing");
        assert!(e.contains("chat.toml:2: max-offline"), "{e}");
        let e = parse(&format!("--config {path}/missing 0")).expect_err("missing file");
        assert!(e.contains("missing"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The sample config file the systemd unit installs reads as it says.
    #[test]
    fn the_shipped_config_file_loads() {
        let mut v = Values::default();
        let text = include_str!("../dist/chatserver.toml");
        toml::parse(Path::new("dist/chatserver.toml"), text, &mut v).expect("parses");
        let c = Config::from_values(&v).expect("valid");
        assert_eq!((c.port, c.json_port), (4000, Some(33000)));
        assert_eq!(c.bind, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(
            c.admin_socket,
            Some(PathBuf::from("/var/lib/chatserver/admin.sock"))
        );
        assert_eq!(c.log_level, Some(log::LevelFilter::Info));
    }

    /// A host name is resolved once; a given credentials file is used as is, never seeded.
    #[test]
    fn bind_host_names_and_credentials_paths() {
        assert_eq!(run("--bind localhost 0").bind.to_string(), "127.0.0.1");
        assert_eq!(run("--bind 0.0.0.0 0").bind, IpAddr::from([0, 0, 0, 0]));
        assert_eq!(run("--bind ::1 0").bind.to_string(), "::1");
        let e = parse("--bind no-such-host.invalid 0").expect_err("rejected");
        assert!(
            e.starts_with("invalid --bind: \"no-such-host.invalid\""),
            "{e}"
        );
        let c = run("--data-dir /srv/chat 0");
        assert_eq!(c.credentials, PathBuf::from("/srv/chat/credentials.txt"));
        let c = run("--credentials creds.txt 0");
        assert_eq!(c.credentials, PathBuf::from("creds.txt"));
        assert_eq!(c.credentials_seed, None);
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

    /// A negative number in a positional place is that argument's bad value, wherever the
    /// options around it are (issue 21).
    #[test]
    fn negative_positionals_are_named() {
        let e = parse("5001 -5").expect_err("rejected");
        assert!(e.starts_with("invalid BLOCK_DURATION: \"-5\""), "{e}");
        let e = parse("--max-line 100 5001 60 -7").expect_err("rejected");
        assert!(e.starts_with("invalid TIMEOUT: \"-7\""), "{e}");
        let e = parse("-3 --fsync never").expect_err("rejected");
        assert!(e.starts_with("invalid PORT: \"-3\""), "{e}");
        let e = parse("--bind 127.0.0.1 5001 -5").expect_err("rejected");
        assert!(e.starts_with("invalid BLOCK_DURATION"), "{e}");
        assert!(
            parse("-5x 4000").is_err(),
            "not a number: an unknown option"
        );
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
            Ok(Cli::HashCredentials { path, cost }) => {
                assert_eq!(
                    (path, cost),
                    (PathBuf::from("creds.txt"), DEFAULT_HASH_COST)
                )
            }
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
