//! The loop's side of the server console and signals (PROTOCOL.md §7): stdin and the signal
//! pipe are two more sources in the same poll (no thread). Console lines become semantic calls
//! on the core; replies go to stdout. `quit`, SIGINT and SIGTERM raise the same flag as
//! [`super::Shutdown::request`], so every way out is the one graceful drain.

use super::{Server, Tok};
use crate::console::{self, ConsoleCommand, LoopStats, Stdin};
use crate::signals::{Signal, Signals};
use crate::time::Now;
use std::io;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Console, signals and the counters `stats` reports.
#[derive(Debug)]
pub(super) struct Operator {
    stdin: Option<Stdin>,
    signals: Option<Signals>,
    started: Instant,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl Operator {
    pub fn new(started: Instant) -> Operator {
        Operator {
            stdin: None,
            signals: None,
            started,
            bytes_in: 0,
            bytes_out: 0,
        }
    }
}

/// A reply for the operator. stdout going away must not stop the server.
fn reply(text: &str) {
    if let Err(e) = console::write_stdout(text) {
        log::warn!("console reply lost: stdout: {e}");
    }
}

impl Server {
    /// Handle SIGINT/SIGTERM (graceful shutdown) and SIGHUP (TLS reload) in the loop, and, with
    /// `console`, read operator commands from stdin when it can be polled (otherwise there is
    /// simply no console: `chatserver < /dev/null` and a systemd service keep serving).
    pub fn attach_operator(&mut self, console: bool) -> io::Result<()> {
        let registry = self.poll.registry();
        self.operator.signals = Some(Signals::register(registry, Tok::Signals.token())?);
        if console {
            self.operator.stdin = Stdin::open(registry, Tok::Stdin.token());
        }
        Ok(())
    }

    pub(super) fn signals_ready(&mut self) {
        let Some(signals) = self.operator.signals.as_mut() else {
            return;
        };
        for signal in signals.pending() {
            match signal {
                Signal::Stop => {
                    log::warn!("signal received: shutting down");
                    self.shutdown.flag.store(true, Ordering::SeqCst);
                }
                Signal::Hangup => self.reload_certificates(),
            }
        }
    }

    pub(super) fn console_ready(&mut self, now: Now) {
        let Some(stdin) = self.operator.stdin.as_mut() else {
            return;
        };
        let mut lines = Vec::new();
        let open = stdin.read(|l| lines.push(l.map(str::to_string)));
        if !open {
            log::info!("stdin closed: console off, still serving");
            stdin.deregister(self.poll.registry());
            self.operator.stdin = None;
        }
        for line in lines {
            match line.and_then(|l| console::parse(&l)) {
                Ok(command) => self.console_command(command, now),
                Err(text) => reply(&text),
            }
        }
    }

    fn console_command(&mut self, command: ConsoleCommand, now: Now) {
        match command {
            ConsoleCommand::Nothing => {}
            ConsoleCommand::Help => reply(console::HELP),
            ConsoleCommand::List => reply(&console::format_users(&self.chat.console_users(now))),
            ConsoleCommand::Announce(text) => {
                self.chat.console_announce(&text);
                reply(&format!(
                    "announced to {} users\n",
                    self.chat.online_count()
                ));
            }
            ConsoleCommand::Kick(user) => {
                if self.chat.console_kick(&user, now) {
                    reply(&format!("kicked {user}\n"));
                } else {
                    reply(&format!("{user} is not online\n"));
                }
            }
            ConsoleCommand::Stats => {
                let run = LoopStats {
                    connections: self.conns.len(),
                    bytes_in: self.operator.bytes_in,
                    bytes_out: self.operator.bytes_out,
                    uptime: now.mono.saturating_duration_since(self.operator.started),
                    worst_iteration: self.iterations.worst,
                };
                let text = console::format_stats(self.chat.stats(), run, console::rss_bytes());
                reply(&text);
            }
            ConsoleCommand::Quit => {
                reply("shutting down\n");
                self.shutdown.flag.store(true, Ordering::SeqCst);
            }
        }
    }
}
