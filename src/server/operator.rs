//! The loop's side of the server console and signals (PROTOCOL.md §7): stdin and the signal
//! pipe are two more sources in the same poll (no thread). Console lines become semantic calls
//! on the core; replies go to stdout. `quit`, SIGINT and SIGTERM raise the same flag as
//! [`super::Shutdown::request`], so every way out is the one graceful drain.

use super::backup::Requester;
use super::{Server, Tok};
use crate::console::{self, ConsoleCommand, LoopStats, Reply, Stdin};
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
    /// Time since the server started.
    pub fn uptime(&self, now: crate::time::Now) -> std::time::Duration {
        now.mono.saturating_duration_since(self.started)
    }

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

/// A reply for the operator at the console. stdout going away must not stop the server.
fn print(text: &str) {
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
                    log::info!("signal received: shutting down");
                    self.shutdown.flag.store(true, Ordering::SeqCst);
                }
                Signal::Hangup => {
                    let reply = self.reload();
                    if self
                        .config
                        .as_ref()
                        .is_some_and(|c| c.config_file.is_none())
                    {
                        // The config's line; the TLS reload logged its own.
                        let first = reply.text.lines().next().unwrap_or_default();
                        log::info!("SIGHUP: {first}");
                    }
                }
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
            let reply = match line.and_then(|l| console::parse(&l)) {
                Ok(command) => self.operator_command(command, Requester::Console, now),
                Err(text) => Some(Reply::err(text)),
            };
            if let Some(reply) = reply {
                print(&reply.text);
            }
        }
    }

    /// A reply that comes after the command's own iteration (a backup's).
    pub(super) fn answer(&mut self, requester: Requester, reply: &Reply) {
        match requester {
            Requester::Console => print(&reply.text),
            Requester::Admin(slot) => self.admin_answer(slot, reply),
        }
    }

    /// One operator command, from the console or the admin socket (the same language).
    /// `None`: it runs on, and [`Server::answer`] gives `requester` the reply later.
    pub(super) fn operator_command(
        &mut self,
        command: ConsoleCommand,
        requester: Requester,
        now: Now,
    ) -> Option<Reply> {
        if let ConsoleCommand::Backup(dir) = &command {
            return self.begin_backup(dir, requester, now);
        }
        // A cluster node that has not yet caught up with the stream holds its credentials
        // file's accounts, not the cluster's: what would read or change the chat world waits
        // (clients are not even accepted before; issue 23).
        let touches_the_world = match &command {
            ConsoleCommand::Help
            | ConsoleCommand::Stats
            | ConsoleCommand::Quit
            | ConsoleCommand::Reload
            | ConsoleCommand::Nothing => false,
            ConsoleCommand::List
            | ConsoleCommand::Announce(_)
            | ConsoleCommand::Kick(_)
            | ConsoleCommand::User(_)
            | ConsoleCommand::Backup(_) => true,
        };
        if touches_the_world && !self.serving() {
            return Some(Reply::err(
                "this node has not caught up with the cluster yet; try again in a moment\n",
            ));
        }
        Some(match command {
            ConsoleCommand::Nothing => Reply::ok(""),
            ConsoleCommand::Help => Reply::ok(console::HELP),
            ConsoleCommand::List => Reply::ok(console::format_users(&self.chat.console_users(now))),
            ConsoleCommand::Announce(text) => match self.chat.console_announce(&text) {
                Ok(()) => Reply::ok(format!("announced to {} users\n", self.chat.online_count())),
                Err(_) => Reply::err(crate::protocol::line::text::INVALID_TEXT),
            },
            ConsoleCommand::Kick(user) => match self.chat.console_kick(&user, now) {
                Ok(()) => Reply::ok(format!("kicked {user}\n")),
                Err(answer) => Reply::err(answer),
            },
            ConsoleCommand::Stats => {
                let run = LoopStats {
                    connections: self.conns.len(),
                    bytes_in: self.operator.bytes_in,
                    bytes_out: self.operator.bytes_out,
                    uptime: self.operator.uptime(now),
                    worst_iteration: self.iterations.worst,
                };
                Reply::ok(console::format_stats(
                    self.chat.stats(),
                    run,
                    console::rss_bytes(),
                ))
            }
            ConsoleCommand::User(cmd) if self.in_cluster() => {
                // Cluster mode (issue 23): through the stream, applied there by every node.
                let (op, _, done) = match crate::tool::check_account_command(&mut self.chat, cmd) {
                    Ok(checked) => checked,
                    Err(reply) => return Some(reply),
                };
                match self.chat.operator_change(&op) {
                    Some(ticket) => {
                        self.operator_waits(ticket, done, requester);
                        return None;
                    }
                    None => Reply::err("not a cluster node\n"),
                }
            }
            ConsoleCommand::User(cmd) => {
                // Earlier changes of this iteration first: the journal keeps their order.
                self.commit(now);
                crate::tool::account_command(&mut self.chat, &mut self.store, cmd, now)
            }
            ConsoleCommand::Quit => {
                self.shutdown.flag.store(true, Ordering::SeqCst);
                Reply::ok("shutting down\n")
            }
            ConsoleCommand::Backup(_) => Reply::err("backup: already handled\n"),
            ConsoleCommand::Reload => self.reload(),
        })
    }
}
