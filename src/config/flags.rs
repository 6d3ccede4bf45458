//! The table of every command-line flag: its value, its help line, and whether it is also a
//! config-file key. `--help`, the getopts parser, the config file and the README's flag table
//! (a test compares them) all come from this one list, so none can fall out of step.

/// What follows a flag on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A switch: present or not (`true` / `false` in the config file).
    None,
    /// A value, named in the help by this placeholder.
    Required(&'static str),
    /// A value that may be left out (`--hash-credentials [FILE]`).
    Optional(&'static str),
    /// A value that may be given several times (`--ws-origin`); the values are kept as one
    /// comma-separated list (the config file writes that list).
    Many(&'static str),
}

/// What a flag is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// A setting of the running server: also a key of the config file.
    Setting,
    /// Does something else and exits, or names the config file: command line only.
    Action,
}

/// One command-line flag.
#[derive(Clone, Copy, Debug)]
pub struct Flag {
    /// The long name without `--`, which is also its config-file key.
    pub name: &'static str,
    pub short: Option<&'static str>,
    pub arg: Arg,
    pub help: &'static str,
    pub used: Use,
    /// A SIGHUP reload applies a change of it to the running server; otherwise the change
    /// waits for a restart (and the reload says so).
    pub live: bool,
}

const fn setting(name: &'static str, value: &'static str, help: &'static str) -> Flag {
    Flag {
        name,
        short: None,
        arg: Arg::Required(value),
        help,
        used: Use::Setting,
        live: false,
    }
}

const fn switch(name: &'static str, help: &'static str) -> Flag {
    Flag {
        name,
        short: None,
        arg: Arg::None,
        help,
        used: Use::Setting,
        live: false,
    }
}

/// A setting a SIGHUP reload changes in the running server.
const fn live(f: Flag) -> Flag {
    Flag { live: true, ..f }
}

/// Every flag, in `--help` order.
pub const FLAGS: &[Flag] = &[
    Flag {
        name: "config",
        short: None,
        arg: Arg::Required("FILE"),
        help: "read settings from this TOML file (keys: the long flag names, port, \
               block-duration, timeout); flags override it; SIGHUP reads it again",
        used: Use::Action,
        live: false,
    },
    setting("bind", "ADDR", "address or host name to listen on (default 127.0.0.1; 0.0.0.0: every interface)"),
    setting("credentials", "FILE", "account file (default ./credentials.txt, created empty if missing)"),
    setting("data-dir", "DIR", "journal directory (default ./chatserver-data)"),
    setting(
        "admin-socket",
        "PATH",
        "Unix socket (mode 0600) for chatserver ctl (default DIR/admin.sock)",
    ),
    switch("no-admin-socket", "no admin socket"),
    live(setting("max-line", "BYTES", "longest input line in bytes (default 4096)")),
    live(setting("max-output", "BYTES", "output buffer cap per connection (default 1048576)")),
    live(setting("max-clients", "N", "most connections at once (default 100000)")),
    live(setting("login-timeout", "SECS", "seconds to log in before close (default 60)")),
    live(setting("heartbeat", "SECS", "close a connection silent this long (default off)")),
    live(setting("close-timeout",
        "SECS",
        "drop a closing connection that has not read its last lines after this (default 5)",
    )),
    live(switch("no-register", "refuse unknown usernames instead of creating accounts")),
    live(switch("no-presence", "do not send logged in/out lines (for very many users)")),
    live(setting("duplicate-login", "MODE", "refuse (default) or replace")),
    setting("fsync", "MODE", "always (default) or never"),
    setting("history", "N", "messages kept for history (default 10000)"),
    live(setting("max-offline", "N", "offline messages per user (default 1000)")),
    live(setting("max-rooms", "N", "chat rooms that may exist at once (default 1000)")),
    // Issue 17: everything a user can grow is bounded.
    live(setting(
        "max-rooms-per-user",
        "N",
        "rooms one account may have open (default 10)",
    )),
    live(setting(
        "max-guest-rooms",
        "N",
        "rooms one guest may have open (default 2)",
    )),
    live(setting(
        "max-list",
        "N",
        "entries per room list: bans, permits, operators, voice (default 100)",
    )),
    live(switch("plain-credentials", "store new passwords in plaintext")),
    Flag {
        name: "hash-credentials",
        short: None,
        arg: Arg::Optional("FILE"),
        help: "hash a plaintext credentials file and exit",
        used: Use::Action,
        live: false,
    },
    switch("repair", "truncate a corrupt journal at the first bad record"),
    live(setting("log-level",
        "LEVEL",
        "off, error, warn, info, debug or trace (default RUST_LOG, else warn)",
    )),
    setting(
        "compact-bytes",
        "BYTES",
        "journal growth that triggers a snapshot (default 8388608)",
    ),
    // IRC front-end (issue 12).
    setting("irc-port", "PORT", "also accept IRC clients on this port (off)"),
    switch("irc-guests", "IRC clients without PASS get guest sessions"),
    setting(
        "irc-server-name",
        "NAME",
        "server name shown to IRC clients (default chatserver)",
    ),
    setting(
        "server-description",
        "TEXT",
        "the server's description in IRC LINKS and WHOIS (default chatserver)",
    ),
    live(setting(
        "operators",
        "NAMES",
        "accounts (comma-separated) that may become server operators with OPER (none)",
    )),
    setting(
        "json-port",
        "PORT",
        "also listen here for the seed-002 JSON client (guests)",
    ),
    // TLS (issue 18): the files are read again on SIGHUP, new paths included.
    live(setting("tls-cert", "FILE", "PEM certificate chain for the TLS ports")),
    live(setting("tls-key", "FILE", "PEM private key for the TLS ports")),
    setting("tls-port", "PORT", "also accept line clients over TLS here (off)"),
    setting(
        "json-tls-port",
        "PORT",
        "also accept the JSON client over TLS here (off)",
    ),
    setting(
        "irc-tls-port",
        "PORT",
        "also accept IRC clients over TLS here, e.g. 6697 (off)",
    ),
    // Chat from a browser (issue 19).
    setting(
        "http-port",
        "PORT",
        "also serve the web page, /metrics and WebSockets over HTTP here (off)",
    ),
    setting(
        "https-port",
        "PORT",
        "the same over TLS, with --tls-cert/--tls-key (off)",
    ),
    setting(
        "events-port",
        "PORT",
        "also accept the events protocol (JSON lines, for bots) here (off)",
    ),
    setting(
        "events-tls-port",
        "PORT",
        "the events protocol over TLS here (off)",
    ),
    Flag {
        name: "ws-origin",
        short: None,
        arg: Arg::Many("ORIGIN"),
        help: "a browser Origin allowed to open WebSockets, repeatable (default: the page's own)",
        used: Use::Setting,
        live: false,
    },
    switch(
        "metrics-public",
        "serve /metrics to any address, not only loopback",
    ),
    // Reliability limits (issue 8).
    live(setting("max-accounts", "N", "most accounts (default 100000)")),
    live(setting("register-rate",
        "N",
        "new accounts per source address per minute (default 10, 0: unlimited)",
    )),
    live(setting(
        "hash-cost",
        "N",
        "PBKDF2 iterations for new and changed passwords (default 10000, about 1.4 ms a login)",
    )),
    live(setting(
        "login-fail-rate",
        "N",
        "failed logins per source address per minute (default 30, 0: unlimited)",
    )),
    live(setting("max-offline-bytes",
        "BYTES",
        "bytes of queued offline messages in all (default 67108864)",
    )),
    live(setting("max-per-ip", "N", "connections per source address (default 64)")),
    live(setting("max-output-total",
        "BYTES",
        "queued output over all connections; the largest queues are cut first (default 268435456)",
    )),
    live(setting("penalty-us",
        "US",
        "penalty per command in microseconds; a connection 10 s ahead is not read (default 500, 0: off)",
    )),
    // Cluster mode (issue 23).
    setting(
        "cluster",
        "redis://HOST:PORT[/DB]",
        "share one chat world with other nodes through Redis (off)",
    ),
    setting(
        "cluster-ca",
        "FILE",
        "CA certificates (PEM) a rediss:// Redis is checked against (default: the system's)",
    ),
    setting(
        "cluster-password-file",
        "FILE",
        "Redis password (AUTH), read from FILE",
    ),
    setting(
        "node-id",
        "NAME",
        "this node's name in the cluster (default HOSTNAME:PORT)",
    ),
    setting(
        "cluster-prefix",
        "P",
        "prefix of the Redis keys (default chatserver)",
    ),
    setting(
        "node-ttl",
        "SECS",
        "seconds before a silent node is taken as down (default 10)",
    ),
    setting(
        "cluster-live",
        "URL",
        "a Redis for live traffic between nodes (pub/sub, no persistence needed; default: --cluster's)",
    ),
    setting(
        "cluster-snapshot-every",
        "N",
        "stream entries between snapshots to Redis (default 10000)",
    ),
    Flag {
        name: "help",
        short: Some("h"),
        arg: Arg::None,
        help: "print this help",
        used: Use::Action,
        live: false,
    },
    Flag {
        name: "version",
        short: Some("V"),
        arg: Arg::None,
        help: "print the version",
        used: Use::Action,
        live: false,
    },
];

/// Whether a change of the setting `key` (a long flag or a positional) applies live on SIGHUP.
pub fn is_live(key: &str) -> bool {
    match key {
        "block-duration" | "timeout" => true,
        "port" => false,
        _ => find(key).is_some_and(|f| f.live),
    }
}

/// The flag named `name` (without `--`).
pub fn find(name: &str) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.name == name)
}

/// The getopts parser for [`FLAGS`].
pub fn options() -> getopts::Options {
    let mut o = getopts::Options::new();
    for f in FLAGS {
        let short = f.short.unwrap_or("");
        match f.arg {
            Arg::None => o.optflag(short, f.name, f.help),
            Arg::Required(hint) => o.optopt(short, f.name, f.help, hint),
            Arg::Optional(hint) => o.optflagopt(short, f.name, f.help, hint),
            Arg::Many(hint) => o.optmulti(short, f.name, f.help, hint),
        };
    }
    o
}

/// The synopsis line; every usage message starts with it.
pub const SYNOPSIS: &str = "Usage: chatserver [OPTIONS] PORT [BLOCK_DURATION [TIMEOUT]]";

/// What the positional arguments and the tool commands mean, printed by `--help` above the
/// flags (an operator meeting `chatserver 4000 60 120` must not have to read the source).
const ABOUT: &str = concat!(
    "  PORT             TCP port for line clients (nc, telnet, chatclient); 0 picks a free one\n",
    "  BLOCK_DURATION   seconds an account stays locked after 3 wrong passwords in a row (default 60)\n",
    "  TIMEOUT          seconds without a valid command before a user is logged out (default 300)\n",
    "\n",
    "Tools (the word first, then the server's --config, --data-dir or --admin-socket):\n",
    "  chatserver ctl [OPTIONS] CMD...            a console command through the admin socket\n",
    "  chatserver user [OPTIONS] add|passwd|del NAME, or list   accounts\n",
    "  chatserver backup [OPTIONS] DIR            a backup a server can start from\n",
    "  chatserver restore [OPTIONS] DIR           put a backup in place (server stopped)",
);

/// How each tool is called, for an error that found its word where the PORT goes.
pub fn tool_synopsis(word: &str) -> Option<&'static str> {
    Some(match word {
        "ctl" => "chatserver ctl [OPTIONS] CMD... (chatserver ctl help lists them)",
        "user" => "chatserver user [OPTIONS] add|passwd|del NAME or list",
        "backup" => "chatserver backup [OPTIONS] DIR",
        "restore" => "chatserver restore [OPTIONS] DIR",
        _ => return None,
    })
}

/// The `--help` text.
pub fn usage() -> String {
    options().usage(&format!("{SYNOPSIS}\n\n{ABOUT}"))
}

/// The one line printed under an argument error, instead of the whole help.
pub fn short_usage() -> String {
    format!("{SYNOPSIS} (see --help)\n")
}
