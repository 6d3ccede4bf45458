//! `chatclient`: the terminal client for chatserver, with direct peer-to-peer private messaging.
//! Parses the command line, connects, and hands over to the [`client`] loop.
//! Exit status: 0 on a clean exit, 1 if the server cannot be reached, 2 on bad arguments.
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

#![forbid(unsafe_code)]

mod asks;
mod client;
mod lines;
mod link;
mod parse;
mod relogin;
mod screen;
mod sock;

use screen::{complain, show};
use std::net::{TcpStream, ToSocketAddrs};
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
    },
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
    match m.free.as_slice() {
        [host, port] => {
            let port = port
                .parse()
                .map_err(|_| format!("not a port number: {port}"))?;
            Ok(Cli::Run {
                host: host.clone(),
                port,
                heartbeat,
            })
        }
        _ => Err("expected HOST and PORT".to_string()),
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
    let (host, port, heartbeat) = match parse_cli(&args) {
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
        }) => (host, port, heartbeat),
        Err(msg) => {
            complain(&format!(
                "chatclient: {msg}\nUsage: chatclient [OPTIONS] HOST PORT (see --help)\n"
            ));
            return ExitCode::from(2);
        }
    };
    let stream = match connect(&host, port).and_then(|s| s.set_nonblocking(true).map(|()| s)) {
        Ok(s) => mio::net::TcpStream::from_std(s),
        Err(e) => {
            complain(&format!(
                "chatclient: cannot connect to {host}:{port}: {e}\n"
            ));
            return ExitCode::from(1);
        }
    };
    match client::Client::new(stream, heartbeat).and_then(|mut c| c.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            complain(&format!("chatclient: {e}\n"));
            ExitCode::from(1)
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
                heartbeat: None
            })
        );
        assert_eq!(
            parse_cli(&args("--heartbeat 3 localhost 1")),
            Ok(Cli::Run {
                host: "localhost".into(),
                port: 1,
                heartbeat: Some(Duration::from_secs(3))
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
}
