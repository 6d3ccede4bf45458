//! The server console (PROTOCOL.md §7): the operator's lines on stdin, parsed here into
//! [`ConsoleCommand`]s, and the text of the replies (written to stdout by the server). Stdin is
//! one more source in the loop's poll; when it is not pollable (a regular file, `/dev/null`)
//! or reaches EOF, the console is simply off and the server keeps serving.

use crate::chat::{CoreStats, UserInfo};
use crate::protocol::line::{Frame, LineFramer};
use mio::unix::pipe::Receiver;
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::time::Duration;

/// The longest console line kept; longer ones are refused.
const MAX_LINE: usize = 4096;

/// An answer to the operator: its text, and whether the command did what it asked (the admin
/// socket says so on its first line, and `chatserver ctl` exits 1 when it did not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub ok: bool,
    pub text: String,
}

impl Reply {
    pub fn ok(text: impl Into<String>) -> Reply {
        Reply {
            ok: true,
            text: text.into(),
        }
    }

    pub fn err(text: impl Into<String>) -> Reply {
        Reply {
            ok: false,
            text: text.into(),
        }
    }
}

/// What the operator can ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsoleCommand {
    Help,
    /// Online users with address and idle time.
    List,
    /// `Announcement from server: <text>` to everyone online.
    Announce(String),
    /// Close this user's session.
    Kick(String),
    Stats,
    /// Graceful shutdown.
    Quit,
    /// Accounts (issue 21).
    User(UserCommand),
    /// Read the config file again, as SIGHUP does (issue 21).
    Reload,
    /// Write a backup into this new directory (issue 21).
    Backup(std::path::PathBuf),
    /// A blank line: nothing to do.
    Nothing,
}

/// `user …`: the operator's account commands (issue 21).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserCommand {
    /// Every account name.
    List,
    /// `password` is a password (hashed by the server) or an already hashed secret
    /// (`$sha256$…`, which no password can be: those are at most 32 characters).
    Add {
        user: String,
        password: String,
    },
    Passwd {
        user: String,
        password: String,
    },
    /// Delete the account: its sessions end, its mailbox, blocks, profile and rooms go.
    Del {
        user: String,
    },
}

impl UserCommand {
    /// The console line for this command (what `chatserver user` sends to the admin socket).
    pub fn line(&self) -> String {
        match self {
            UserCommand::List => "user list".into(),
            UserCommand::Add { user, password } => format!("user add {user} {password}"),
            UserCommand::Passwd { user, password } => format!("user passwd {user} {password}"),
            UserCommand::Del { user } => format!("user del {user}"),
        }
    }
}

const USER_USAGE: &str = "usage: user list | user add <name> <password> | \
                          user passwd <name> <password> | user del <name>\n";

fn parse_user(arg: &str) -> Result<UserCommand, String> {
    let words: Vec<&str> = arg.split_whitespace().collect();
    let owned = |s: &str| s.to_string();
    match words.as_slice() {
        ["list"] => Ok(UserCommand::List),
        ["add", user, password] => Ok(UserCommand::Add {
            user: owned(user),
            password: owned(password),
        }),
        ["passwd", user, password] => Ok(UserCommand::Passwd {
            user: owned(user),
            password: owned(password),
        }),
        ["del", user] => Ok(UserCommand::Del { user: owned(user) }),
        _ => Err(USER_USAGE.into()),
    }
}

impl ConsoleCommand {
    /// The command for the log: its words without any secret (never a password).
    pub fn describe(&self) -> String {
        match self {
            ConsoleCommand::Help => "help".into(),
            ConsoleCommand::List => "list".into(),
            ConsoleCommand::Announce(_) => "announce".into(),
            ConsoleCommand::Kick(user) => format!("kick {user}"),
            ConsoleCommand::Stats => "stats".into(),
            ConsoleCommand::Quit => "quit".into(),
            ConsoleCommand::Reload => "reload".into(),
            ConsoleCommand::Nothing => "(blank line)".into(),
            ConsoleCommand::Backup(dir) => format!("backup {}", dir.display()),
            ConsoleCommand::User(u) => match u {
                UserCommand::List => "user list".into(),
                UserCommand::Add { user, .. } => format!("user add {user}"),
                UserCommand::Passwd { user, .. } => format!("user passwd {user}"),
                UserCommand::Del { user } => format!("user del {user}"),
            },
        }
    }
}

pub const HELP: &str = "\
help              this list
list              online users with address and idle time
announce <text>   'Announcement from server: <text>' to everyone online
kick <user>       close a user's session
stats             connections, users, messages, bytes, uptime, memory
user list         every account name
user add <name> <password>     create an account
user passwd <name> <password>  set a new password
user del <name>   delete an account: its session ends, its mail, blocks, profile and rooms go
backup <dir>      write a backup into this new directory (an absolute path)
reload            read the --config file again, as SIGHUP does
quit              shut down gracefully
";

/// One console line to a command, or the reply explaining why it is not one.
pub fn parse(line: &str) -> Result<ConsoleCommand, String> {
    let line = line.trim_start();
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let arg = rest.trim_start_matches(' ');
    let word = word.trim_end();
    let bare = |c: ConsoleCommand| {
        if arg.trim_end().is_empty() {
            Ok(c)
        } else {
            Err(format!("usage: {word} (no arguments)\n"))
        }
    };
    match word {
        "" => Ok(ConsoleCommand::Nothing),
        "help" => bare(ConsoleCommand::Help),
        "list" => bare(ConsoleCommand::List),
        "stats" => bare(ConsoleCommand::Stats),
        "quit" => bare(ConsoleCommand::Quit),
        "reload" => bare(ConsoleCommand::Reload),
        "announce" if !arg.is_empty() => Ok(ConsoleCommand::Announce(arg.to_string())),
        "announce" => Err("usage: announce <text>\n".into()),
        "user" => parse_user(arg).map(ConsoleCommand::User),
        "backup" if !arg.trim_end().is_empty() => Ok(ConsoleCommand::Backup(arg.trim_end().into())),
        "backup" => Err("usage: backup <new directory>\n".into()),
        "kick" => match arg.trim_end() {
            user if !user.is_empty() && !user.contains(' ') => {
                Ok(ConsoleCommand::Kick(user.to_string()))
            }
            _ => Err("usage: kick <user>\n".into()),
        },
        other => Err(format!("unknown command: {other} (type help)\n")),
    }
}

/// The reply to `list`: one user per line, or a line saying nobody is online.
pub fn format_users(users: &[UserInfo]) -> String {
    if users.is_empty() {
        return "no users online\n".into();
    }
    let mut out = String::new();
    for u in users {
        let addr = u.peer.map_or_else(|| "-".to_string(), |a| a.to_string());
        out.push_str(&format!("{} {} idle {}s\n", u.name, addr, u.idle.as_secs()));
    }
    out
}

/// What the loop counts itself, for `stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoopStats {
    pub connections: usize,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub uptime: Duration,
    /// The longest loop iteration so far (issue 8).
    pub worst_iteration: Duration,
}

/// The reply to `stats`. `rss` is the resident set in bytes when /proc tells it.
pub fn format_stats(core: CoreStats, run: LoopStats, rss: Option<u64>) -> String {
    let rss = rss.map_or_else(|| "unknown".to_string(), |b| format!("{} KiB", b / 1024));
    format!(
        "connections {}\nsessions {}\nusers {}\nmessages {}\nbytes in {}\nbytes out {}\n\
         uptime {}s\nrss {rss}\nworst iteration {}us\n",
        run.connections,
        core.sessions,
        core.users,
        core.messages,
        run.bytes_in,
        run.bytes_out,
        run.uptime.as_secs(),
        run.worst_iteration.as_micros(),
    )
}

/// Resident memory from /proc/self/statm (its second field, in pages; 4 KiB pages assumed,
/// which is what every Linux target of this server uses).
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Write `text` to stdout, waiting out `WouldBlock` for up to a second. In a terminal, stdin
/// and stdout are usually one open file description, so making stdin non-blocking for the
/// poll makes stdout non-blocking too; a slow terminal must not cost the operator a reply.
pub fn write_stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let mut rest = text.as_bytes();
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    while !rest.is_empty() {
        match out.write(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if std::time::Instant::now() >= deadline {
                    return Err(e);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e),
        }
    }
    loop {
        match out.flush() {
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(1))
            }
            other => return other,
        }
    }
}

/// Stdin as a non-blocking source in the loop's poll.
#[derive(Debug)]
pub struct Stdin {
    rx: Receiver,
    framer: LineFramer,
}

impl Stdin {
    /// Register stdin (a duplicate of fd 0) with `registry`. `None` when it cannot be polled:
    /// epoll refuses regular files and `/dev/null` (EPERM), and fd 0 may be closed. That is
    /// the same as EOF: no console.
    pub fn open(registry: &Registry, token: Token) -> Option<Stdin> {
        let fd = match io::stdin().as_fd().try_clone_to_owned() {
            Ok(fd) => fd,
            Err(e) => {
                log::info!("no console: stdin: {e}");
                return None;
            }
        };
        let mut rx = Receiver::from(fd);
        if let Err(e) = registry.register(&mut rx, token, Interest::READABLE) {
            log::info!("no console: stdin cannot be polled ({e})");
            return None;
        }
        // Only once registered: a refused stdin keeps its blocking mode.
        if let Err(e) = rx.set_nonblocking(true) {
            log::info!("no console: stdin: {e}");
            let _ = registry.deregister(&mut rx);
            return None;
        }
        Some(Stdin {
            rx,
            framer: LineFramer::default(),
        })
    }

    /// Read until WouldBlock (edge-triggered), passing each complete line to `line`.
    /// Returns false at EOF or on an error: the console is then off.
    pub fn read(&mut self, mut line: impl FnMut(Result<&str, String>)) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match self.rx.read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => self.framer.feed(&buf[..n], MAX_LINE, |f| match f {
                    Frame::Line(l) => line(Ok(l)),
                    Frame::Bad(e) => line(Err(format!("console line refused: {e:?}\n"))),
                }),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::warn!("console off: stdin: {e}");
                    return false;
                }
            }
        }
    }

    pub fn deregister(&mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.rx);
    }
}

impl Drop for Stdin {
    /// O_NONBLOCK belongs to the open file description, shared with the shell's terminal:
    /// give it back blocking.
    fn drop(&mut self) {
        let _ = self.rx.set_nonblocking(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(parse("help"), Ok(ConsoleCommand::Help));
        assert_eq!(parse("  list  "), Ok(ConsoleCommand::List));
        assert_eq!(parse("stats"), Ok(ConsoleCommand::Stats));
        assert_eq!(parse("quit"), Ok(ConsoleCommand::Quit));
        assert_eq!(parse(""), Ok(ConsoleCommand::Nothing));
        assert_eq!(
            parse("announce  back in 5 minutes  "),
            Ok(ConsoleCommand::Announce("back in 5 minutes  ".into()))
        );
        assert_eq!(parse("kick yoda "), Ok(ConsoleCommand::Kick("yoda".into())));
        let add = UserCommand::Add {
            user: "ann".into(),
            password: "s3cret".into(),
        };
        assert_eq!(
            parse("user add ann s3cret"),
            Ok(ConsoleCommand::User(add.clone()))
        );
        assert_eq!(parse(&add.line()), Ok(ConsoleCommand::User(add)));
        assert_eq!(
            parse("user del ann"),
            Ok(ConsoleCommand::User(UserCommand::Del {
                user: "ann".into()
            }))
        );
        assert_eq!(
            parse("user list"),
            Ok(ConsoleCommand::User(UserCommand::List))
        );
        // The log never shows a password.
        let passwd = parse("user passwd ann hunter2").map(|c| c.describe());
        assert_eq!(passwd, Ok("user passwd ann".into()));
    }

    #[test]
    fn bad_lines_get_a_reply() {
        assert_eq!(parse("announce"), Err("usage: announce <text>\n".into()));
        assert_eq!(parse("kick"), Err("usage: kick <user>\n".into()));
        assert_eq!(parse("kick a b"), Err("usage: kick <user>\n".into()));
        for bad in [
            "user",
            "user add ann",
            "user del",
            "user frob x",
            "user list x",
        ] {
            assert_eq!(parse(bad), Err(USER_USAGE.into()), "{bad}");
        }
        assert_eq!(
            parse("quit now"),
            Err("usage: quit (no arguments)\n".into())
        );
        assert_eq!(
            parse("reboot"),
            Err("unknown command: reboot (type help)\n".into())
        );
    }

    #[test]
    fn replies_read_well() {
        let users = [UserInfo {
            name: "yoda".into(),
            peer: "127.0.0.1:5000".parse().ok(),
            idle: Duration::from_secs(7),
        }];
        assert_eq!(format_users(&users), "yoda 127.0.0.1:5000 idle 7s\n");
        assert_eq!(format_users(&[]), "no users online\n");
        let core = CoreStats {
            sessions: 3,
            users: 2,
            messages: 9,
        };
        let run = LoopStats {
            connections: 3,
            bytes_in: 100,
            bytes_out: 200,
            uptime: Duration::from_secs(61),
            worst_iteration: Duration::from_micros(1500),
        };
        assert_eq!(
            format_stats(core, run, Some(8192)),
            "connections 3\nsessions 3\nusers 2\nmessages 9\nbytes in 100\nbytes out 200\n\
             uptime 61s\nrss 8 KiB\nworst iteration 1500us\n"
        );
        assert!(rss_bytes().is_some_and(|b| b > 0));
    }
}
