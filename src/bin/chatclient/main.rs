//! `chatclient`: the terminal client for chatserver, with direct peer-to-peer private messaging.
//! Parses the command line, connects, and hands over to the [`client`] loop.
//! Exit status: 0 on a clean exit, 1 if the server cannot be reached (or says nothing within
//! 10 s of the connection), 2 on bad arguments.
//!
//! # Layout
//! - [`lines`]: line framing with a 64 KiB cap, and prompt-aware server splitting.
//! - [`parse`]: what server lines and typed lines mean; token checks.
//! - [`link`]: one peer link and the link protocol (documented there).
//! - [`sock`]: a non-blocking socket with a bounded output buffer.
//! - [`asks`]: the requests a `P2P`/`P2P-ACCEPT` line may answer (nothing else is acted on).
//! - [`relogin`]: the credentials of the last login and the reconnect backoff.
//! - [`screen`]: stdout/stderr writes that never panic, and the password prompt's echo.
//! - [`client`]: the single mio loop over stdin, signals, server, listener and links;
//!   `client::server` handles the server stream and typed lines, `client::rejoin` reconnects,
//!   `client::peers` the links.
//! - [`tls`]: `--tls` for the server connection and the peer links (`no_tls.rs` stands in for
//!   it in a build without the `tls` feature, where nothing of it can exist).

#![forbid(unsafe_code)]
// As in the library: no unwrap or expect outside tests, on anything input or the OS can fail.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod asks;
mod client;
mod lines;
mod link;
mod parse;
mod relogin;
mod screen;
mod sock;
#[cfg(feature = "tls")]
mod tls;
#[cfg(not(feature = "tls"))]
#[path = "no_tls.rs"]
mod tls;

use screen::{complain, show};
use sock::{Sock, Transport};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Cli {
    Help,
    Version,
    Run {
        host: String,
        port: u16,
        heartbeat: Option<Duration>,
        /// `--tls`, and what the server's certificate is checked against.
        tls: Option<Trust>,
    },
}

/// What `--tls` checks the server's certificate against.
#[derive(Debug, PartialEq, Eq)]
pub enum Trust {
    /// The system's CA bundle (the default).
    System,
    /// `--ca FILE`: the CA certificates in FILE only.
    Ca(PathBuf),
    /// `--insecure`: nothing (said on screen).
    Insecure,
}

/// The longest `--heartbeat` taken (a day), far beyond any use, so deadlines never overflow.
const MAX_HEARTBEAT: u64 = 86_400;

fn options() -> getopts::Options {
    let mut opts = getopts::Options::new();
    opts.optflag("h", "help", "print this help and exit");
    opts.optflag("V", "version", "print the version and exit");
    opts.optopt(
        "",
        "heartbeat",
        "the server's --heartbeat: send `live` every SECS/3 while logged in",
        "SECS",
    );
    opts.optflag(
        "",
        "tls",
        "connect to the server's TLS port, checking its certificate; peer links are TLS too",
    );
    opts.optopt(
        "",
        "ca",
        "with --tls: trust the CA certificates in FILE (PEM) instead of the system's",
        "FILE",
    );
    opts.optflag(
        "",
        "insecure",
        "with --tls: do not check the server's certificate (anyone on the way can read along)",
    );
    opts
}

fn usage() -> String {
    options().usage("Usage: chatclient [OPTIONS] HOST PORT")
}

fn parse_cli(args: &[String]) -> Result<Cli, String> {
    let m = options().parse(args).map_err(|e| e.to_string())?;
    if m.opt_present("h") {
        return Ok(Cli::Help);
    }
    if m.opt_present("V") {
        return Ok(Cli::Version);
    }
    let heartbeat = match m.opt_str("heartbeat") {
        None => None,
        Some(s) => match s.parse::<u64>() {
            Ok(secs) if (1..=MAX_HEARTBEAT).contains(&secs) => Some(Duration::from_secs(secs)),
            _ => {
                return Err(format!(
                    "--heartbeat: not a positive number of seconds: {s}"
                ))
            }
        },
    };
    let tls = trust(&m)?;
    match m.free.as_slice() {
        [host, port] => {
            let port = port
                .parse()
                .map_err(|_| format!("not a port number: {port}"))?;
            Ok(Cli::Run {
                host: host.clone(),
                port,
                heartbeat,
                tls,
            })
        }
        _ => Err("expected HOST and PORT".to_string()),
    }
}

/// `--tls` with `--ca FILE` or `--insecure` (not both), or neither.
fn trust(m: &getopts::Matches) -> Result<Option<Trust>, String> {
    let (ca, insecure) = (m.opt_str("ca"), m.opt_present("insecure"));
    if !m.opt_present("tls") {
        return match (ca, insecure) {
            (None, false) => Ok(None),
            (Some(_), _) => Err("--ca needs --tls".into()),
            (None, true) => Err("--insecure needs --tls".into()),
        };
    }
    if !cfg!(feature = "tls") {
        return Err("--tls: this chatclient was built without TLS".into());
    }
    match (ca, insecure) {
        (None, false) => Ok(Some(Trust::System)),
        (Some(file), false) => Ok(Some(Trust::Ca(PathBuf::from(file)))),
        (None, true) => Ok(Some(Trust::Insecure)),
        (Some(_), true) => Err("--ca and --insecure contradict each other".into()),
    }
}

/// Connect to the first address of `host` that answers.
fn connect(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(10)) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (host, port, heartbeat, trust) = match parse_cli(&args) {
        Ok(Cli::Help) => {
            show(&usage());
            return ExitCode::SUCCESS;
        }
        Ok(Cli::Version) => {
            show(&format!("chatclient {}\n", env!("CARGO_PKG_VERSION")));
            return ExitCode::SUCCESS;
        }
        Ok(Cli::Run {
            host,
            port,
            heartbeat,
            tls,
        }) => (host, port, heartbeat, tls),
        Err(msg) => {
            complain(&format!(
                "chatclient: {msg}\nUsage: chatclient [OPTIONS] HOST PORT (see --help)\n"
            ));
            return ExitCode::from(2);
        }
    };
    let tls = match trust.map(|t| tls::Settings::new(&t, &host)).transpose() {
        Ok(tls) => tls,
        Err(e) => {
            complain(&format!("chatclient: {e}\n"));
            return ExitCode::from(1);
        }
    };
    let server = match connect(&host, port) {
        Ok(stream) => over(stream, tls.as_ref()),
        Err(e) => Err(e.to_string()),
    };
    let server = match server {
        Ok(transport) => Sock::over(transport),
        Err(e) => {
            let how = if tls.is_some() { " over TLS" } else { "" };
            complain(&format!(
                "chatclient: cannot connect to {host}:{port}{how}: {e}\n"
            ));
            return ExitCode::from(1);
        }
    };
    match client::Client::new(server, heartbeat, tls).and_then(|mut c| c.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            complain(&format!("chatclient: {e}\n"));
            ExitCode::from(1)
        }
    }
}

/// The first server connection, made non-blocking: with `--tls` after its handshake.
fn over(stream: TcpStream, tls: Option<&tls::Settings>) -> Result<Transport, String> {
    match tls {
        Some(tls) => Ok(Transport::Tls(Box::new(tls.handshake(stream)?))),
        None => {
            stream.set_nonblocking(true).map_err(|e| e.to_string())?;
            Ok(Transport::Plain(mio::net::TcpStream::from_std(stream)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn assignment_form_and_options() {
        assert_eq!(
            parse_cli(&args("127.0.0.1 4000")),
            Ok(Cli::Run {
                host: "127.0.0.1".into(),
                port: 4000,
                heartbeat: None,
                tls: None,
            })
        );
        assert_eq!(
            parse_cli(&args("--heartbeat 3 localhost 1")),
            Ok(Cli::Run {
                host: "localhost".into(),
                port: 1,
                heartbeat: Some(Duration::from_secs(3)),
                tls: None,
            })
        );
        assert_eq!(parse_cli(&args("-h")), Ok(Cli::Help));
        assert_eq!(parse_cli(&args("-V")), Ok(Cli::Version));
    }

    #[test]
    fn bad_command_lines_are_errors() {
        assert!(parse_cli(&args("127.0.0.1")).is_err());
        assert!(parse_cli(&args("127.0.0.1 70000")).is_err());
        assert!(parse_cli(&args("--heartbeat 0 h 1")).is_err());
        assert!(parse_cli(&args("--heartbeat x h 1")).is_err());
        assert!(parse_cli(&args("--heartbeat 86401 h 1")).is_err());
        assert!(parse_cli(&args("--bogus h 1")).is_err());
    }

    /// `--ca` and `--insecure` only with `--tls`, and not together; without the `tls` feature
    /// `--tls` itself is refused, saying why.
    #[test]
    fn tls_options() {
        let trust = |s: &str| match parse_cli(&args(s)) {
            Ok(Cli::Run { tls, .. }) => Ok(tls),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        };
        assert_eq!(trust("--ca x h 1"), Err("--ca needs --tls".into()));
        assert_eq!(
            trust("--insecure h 1"),
            Err("--insecure needs --tls".into())
        );
        if cfg!(feature = "tls") {
            assert_eq!(trust("--tls h 1"), Ok(Some(Trust::System)));
            assert_eq!(
                trust("--tls --ca ca.pem h 1"),
                Ok(Some(Trust::Ca("ca.pem".into())))
            );
            assert_eq!(trust("--tls --insecure h 1"), Ok(Some(Trust::Insecure)));
            assert!(trust("--tls --insecure --ca x h 1").is_err());
        } else {
            assert_eq!(
                trust("--tls h 1"),
                Err("--tls: this chatclient was built without TLS".into())
            );
        }
    }
}
