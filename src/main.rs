//! `chatserver`: parse the command line, open the store, replay it into the core, bind, serve.
//! Exit status: 0 on a clean exit, 1 on a start-up failure, 2 on bad arguments.

#![forbid(unsafe_code)]
// As in the library: no unwrap or expect outside tests, on anything input or the OS can fail.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use chatserver::chat::{Chat, Settings};
use chatserver::config::{short_usage, usage, Cli, Config};
use chatserver::protocol::irc::IrcOptions;
use chatserver::protocol::{ProtocolKind, ProtocolOptions};
use chatserver::server::{Ended, Limits, Listener, Server};
use chatserver::store::{self, Store};
use chatserver::time::Now;
use chatserver::transport::{Certificates, TransportKind};
use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cli = Cli::parse(&args);
    let level = match &cli {
        Ok(Cli::Run(config)) => config.log_level,
        _ => None,
    };
    chatserver::logging::init(level);
    match cli {
        Err(msg) => {
            complain(&format!("chatserver: {msg}\n{}", short_usage()));
            ExitCode::from(2)
        }
        Ok(Cli::Help) => say(&usage()),
        Ok(Cli::Version) => say(&format!("chatserver {}\n", env!("CARGO_PKG_VERSION"))),
        Ok(Cli::HashCredentials { path, cost }) => {
            match store::hash_credentials_file(&path, cost) {
                Ok(n) => say(&format!(
                    "{}: hashed {n} plaintext entries\n",
                    path.display()
                )),
                Err(e) => fail(&e),
            }
        }
        Ok(Cli::Ctl { socket, command }) => ctl(&socket, &command),
        Ok(Cli::User { config, action }) => tool_reply(chatserver::tool::user(&config, action)),
        Ok(Cli::Backup { config, dir }) => tool_reply(chatserver::tool::backup(&config, &dir)),
        Ok(Cli::Restore { config, dir }) => tool_reply(chatserver::tool::restore(&config, &dir)),
        Ok(Cli::Run(config)) => match serve(&config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&*e),
        },
    }
}

/// `chatserver ctl CMD…`: one command to the running server's admin socket; its reply on
/// stdout (status 0) or, if the command failed, on stderr (status 1).
fn ctl(socket: &std::path::Path, command: &str) -> ExitCode {
    // A backup takes as long as the state is large; anything else answers at once.
    let wait = (!command.starts_with("backup")).then_some(Duration::from_secs(60));
    match chatserver::admin::request(socket, command, wait) {
        Ok(reply) => answer(&reply),
        Err(e) => fail(&format!(
            "ctl: {}: {e} (is the server running, with this --data-dir or --admin-socket?)",
            socket.display()
        )),
    }
}

fn tool_reply(result: Result<chatserver::console::Reply, String>) -> ExitCode {
    match result {
        Ok(reply) => answer(&reply),
        Err(e) => fail(&e),
    }
}

/// An operator command's reply: on stdout with status 0, or on stderr with status 1.
fn answer(reply: &chatserver::console::Reply) -> ExitCode {
    if reply.ok {
        say(&reply.text)
    } else {
        complain(&reply.text);
        ExitCode::from(1)
    }
}

/// Bind with SO_REUSEADDR (restart at once after a crash) and a backlog far above std's fixed
/// 128, so a burst of connects is queued by the kernel instead of refused (Linux caps it at
/// net.core.somaxconn).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(65_535)?;
    Ok(socket.into())
}

/// Write `text` to stdout. `print!` panics when stdout is closed or full; this reports it.
/// (Through the console's writer: once the console is attached, stdout may be non-blocking.)
fn print(text: &str) -> Result<(), String> {
    chatserver::console::write_stdout(text).map_err(|e| format!("stdout: {e}"))
}

/// A one-shot mode's output, then its exit status.
fn say(text: &str) -> ExitCode {
    match print(text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    complain(&format!("chatserver: {e}\n"));
    ExitCode::from(1)
}

/// Cluster mode (issue 23): this node's part, Redis resolved once here.
#[cfg(feature = "cluster")]
fn join_cluster(
    server: Server,
    opts: &chatserver::config::ClusterOptions,
    data_dir: &std::path::Path,
    port: u16,
    resumed: bool,
) -> Result<Server, Box<dyn std::error::Error>> {
    use std::net::ToSocketAddrs;
    let tls = match opts.tls {
        true => Some(
            chatserver::transport::ClientTls::new(&opts.host, opts.ca_file.as_deref())
                .map_err(|e| format!("--cluster rediss://: {e}"))?,
        ),
        false => None,
    };
    let addr = (opts.host.as_str(), opts.port)
        .to_socket_addrs()
        .map_err(|e| format!("--cluster: cannot resolve {}: {e}", opts.host))?
        .next()
        .ok_or_else(|| format!("--cluster: {} has no address", opts.host))?;
    let live = match &opts.live {
        None => None,
        Some(l) => {
            let addr = (l.host.as_str(), l.port)
                .to_socket_addrs()
                .map_err(|e| format!("--cluster-live: cannot resolve {}: {e}", l.host))?
                .next()
                .ok_or_else(|| format!("--cluster-live: {} has no address", l.host))?;
            let tls = match l.tls {
                true => Some(
                    chatserver::transport::ClientTls::new(&l.host, opts.ca_file.as_deref())
                        .map_err(|e| format!("--cluster-live rediss://: {e}"))?,
                ),
                false => None,
            };
            log::info!("cluster: live traffic through Redis at {addr}");
            Some((addr, tls))
        }
    };
    let password = match &opts.password_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .trim_end_matches(['\n', '\r'])
                .to_string(),
        ),
        None => None,
    };
    let id = match &opts.node_id {
        Some(id) => id.clone(),
        None => {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "localhost".into());
            format!("{host}:{port}")
        }
    };
    log::info!(
        "cluster: node {id}, Redis at {addr}{}, keys {}:*",
        if opts.tls { " over TLS" } else { "" },
        opts.prefix
    );
    let now = std::time::Instant::now();
    // The data directory is locked (the store holds its lock): its token is this node's
    // alone, and a restart of this node takes its id back at once (`cluster/claim.rs`).
    let token = chatserver::cluster::token::load_or_create(data_dir);
    let node =
        chatserver::cluster::Node::new(opts, &id, addr, tls, live, password, now).with_token(token);
    let node = match resumed {
        true => node.holding_id(),
        false => node,
    };
    Ok(server.with_cluster(node))
}

#[cfg(not(feature = "cluster"))]
fn join_cluster(
    _server: Server,
    _opts: &chatserver::config::ClusterOptions,
    _data_dir: &std::path::Path,
    _port: u16,
    _resumed: bool,
) -> Result<Server, Box<dyn std::error::Error>> {
    Err("--cluster: this chatserver was built without the cluster feature".into())
}

/// Write to stderr, ignoring failure: `eprintln!` panics when stderr is closed
/// (`chatserver abc 2>&1 | true`), and there is nowhere left to report that anyway; the exit
/// status still says what happened.
fn complain(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

fn serve(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    // TLS first: a missing, unreadable or mismatched certificate or key stops the start
    // before anything else is opened.
    let mut certificates = load_certificates(config)?;
    let (mut listeners, ready, line_port) = bind(config)?;
    let mut first = true;
    // Cluster mode: when this server last started over (one that must again at once would
    // only spin).
    let mut started_over: Option<std::time::Instant> = None;
    loop {
        // A node that starts over holds its cluster id already (its liveness key is its own).
        let resumed = started_over.is_some();
        let server = build(config, listeners, certificates, line_port, resumed)?;
        if first {
            // Printed once the server is complete (its descriptors all open), so whoever
            // reads it can count on a ready server. If it cannot be written nobody learns the
            // port: exit rather than serve unseen.
            print(&ready)?;
            first = false;
        }
        match server.run_to_end()? {
            Ended::Stopped => break,
            // Cluster mode (issue 23): the node missed trimmed entries; everything but the
            // listening sockets is built again, and the node loads the snapshot.
            Ended::StartOver(_) if started_over.is_some_and(|t| t.elapsed().as_secs() < 10) => {
                return Err(
                    "cluster: the stream was trimmed past this node's position again \
                     right after it loaded the snapshot (is the snapshot missing?)"
                        .into(),
                );
            }
            Ended::StartOver(kept) => {
                started_over = Some(std::time::Instant::now());
                listeners = kept;
                certificates = load_certificates(config)?;
            }
        }
    }
    log::info!("stopped");
    Ok(())
}

fn load_certificates(config: &Config) -> Result<Option<Certificates>, Box<dyn std::error::Error>> {
    Ok(match &config.tls_files {
        Some((cert, key)) => Some(Certificates::load(cert, key)?),
        None => None,
    })
}

/// One listener per front-end asked for, with the lines that announce them (in this order;
/// tests and scripts read the real ports, PORT may be 0, from these lines, the line port's
/// first) and the line port as bound (a cluster node's default id names it).
fn bind(config: &Config) -> Result<(Vec<Listener>, String, u16), Box<dyn std::error::Error>> {
    let (line, json, irc) = (ProtocolKind::Line, ProtocolKind::Json, ProtocolKind::Irc);
    let (plain, tls) = (TransportKind::Plain, TransportKind::Tls);
    #[cfg_attr(not(feature = "web"), allow(unused_mut))]
    let mut wanted = vec![
        (Some(config.port), line, plain, ""),
        (config.json_port, json, plain, "json "),
        // IRC front-end (issue 12).
        (config.irc_port, irc, plain, "irc "),
        // TLS (issue 18).
        (config.tls_port, line, tls, "tls "),
        (config.json_tls_port, json, tls, "json tls "),
        (config.irc_tls_port, irc, tls, "irc tls "),
    ];
    // Chat from a browser (issue 19): the page and WebSockets, and the events protocol.
    #[cfg(feature = "web")]
    {
        let events = ProtocolKind::Events;
        wanted.extend([
            (config.http_port, events, TransportKind::Http, "http "),
            (config.https_port, events, TransportKind::Https, "https "),
            (config.events_port, events, plain, "events "),
            (config.events_tls_port, events, tls, "events tls "),
        ]);
    }
    #[cfg(not(feature = "web"))]
    {
        let web = [config.http_port, config.https_port, config.events_port];
        if web
            .iter()
            .chain([&config.events_tls_port])
            .any(Option::is_some)
        {
            return Err(
                "this chatserver was built without the web front-end (cargo feature `web`)".into(),
            );
        }
    }
    let mut ready = String::new();
    let mut listeners = Vec::new();
    let mut line_port = config.port;
    for (port, protocol, transport, name) in wanted {
        let Some(port) = port else {
            continue;
        };
        let addr = SocketAddr::new(config.bind, port);
        let socket = listen(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = socket.local_addr()?;
        if listeners.is_empty() {
            line_port = local.port();
        }
        ready.push_str(&format!("chatserver {name}listening on {local}\n"));
        listeners.push(Listener {
            socket,
            protocol,
            transport,
        });
    }
    Ok((listeners, ready, line_port))
}

/// The store, the core and the server on `listeners`, with the console, the admin socket
/// and (cluster mode) this node's part.
fn build(
    config: &Config,
    listeners: Vec<Listener>,
    certificates: Option<Certificates>,
    line_port: u16,
    resumed: bool,
) -> Result<Server, Box<dyn std::error::Error>> {
    let (store, credentials, records) = Store::open(config)?;
    let seed = store::os_random::<32>().map_err(|e| format!("/dev/urandom: {e}"))?;
    let mut chat = Chat::new(Settings::from(config), credentials, Now::read(), seed);
    let replayed = records.len();
    if config.cluster.is_some() {
        // Cluster mode (issue 23): the state is the Redis stream's; only the accounts file
        // is read here (the same on every node).
        if replayed > 0 {
            log::warn!("cluster mode: the journal in the data directory is not used");
        }
    } else {
        for r in records {
            chat.replay(r);
        }
    }
    log::info!(
        "{} accounts, {replayed} journal records replayed",
        chat.credentials().len()
    );
    let limits = Limits::from(config);
    let protocol_options = ProtocolOptions {
        irc: std::sync::Arc::new(IrcOptions {
            server: std::sync::Arc::from(config.irc_server_name.as_str()),
            description: std::sync::Arc::from(config.server_description.as_str()),
            guests: config.irc_guests,
            max_list: config.max_list,
        }),
    };
    let mut server = Server::new(listeners, chat, store, limits)?
        .with_protocol_options(protocol_options)
        .with_config(config.clone());
    if let Some(certificates) = certificates {
        server = server.with_certificates(certificates);
    }
    #[cfg(feature = "web")]
    {
        server = server.with_web(chatserver::server::WebOptions {
            origins: config.ws_origins.clone(),
            metrics_public: config.metrics_public,
        });
    }
    if let Some(opts) = &config.cluster {
        server = join_cluster(server, opts, &config.data_dir, line_port, resumed)?;
    }
    // Console on stdin when it can be polled; SIGINT/SIGTERM shut down gracefully (§7).
    server.attach_operator(true)?;
    if let Some(path) = &config.admin_socket {
        server
            .attach_admin(path)
            .map_err(|e| format!("admin socket {}: {e}", path.display()))?;
    }
    Ok(server)
}
