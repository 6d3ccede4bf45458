//! The admin socket and `chatserver ctl` end to end (issue 21): the real binary on both sides,
//! the console's commands over a Unix socket with mode 0600, the verdict as the exit status, a
//! stale socket left by a crash replaced at the next start.

mod common;

use common::Server;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `chatserver ctl --socket SOCKET ARGS…`.
pub fn ctl(socket: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .arg("ctl")
        .arg("--socket")
        .arg(socket)
        .args(args)
        .output()
        .expect("run chatserver ctl")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn socket_of(server: &Server) -> PathBuf {
    server.dir().join("data/admin.sock")
}

#[test]
fn ctl_speaks_the_console_commands() {
    let server = Server::start(&[]);
    let socket = socket_of(&server);
    let meta = std::fs::metadata(&socket).expect("the admin socket exists by default");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    let o = ctl(&socket, &["list"]);
    assert_eq!(
        (o.status.code(), out(&o).as_str()),
        (Some(0), "no users online\n")
    );
    let mut yoda = server.login("yoda", "wise");
    let mut hans = server.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
    let o = ctl(&socket, &["list"]);
    let text = out(&o);
    let listed: Vec<&str> = text.lines().filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(listed, ["yoda", "hans"], "{text}");

    let o = ctl(&socket, &["announce", "back", "in", "5"]);
    assert_eq!(out(&o), "announced to 2 users\n");
    yoda.expect("Announcement from server: back in 5\n");
    hans.expect("Announcement from server: back in 5\n");

    let o = ctl(&socket, &["kick", "hans"]);
    assert_eq!(
        (o.status.code(), out(&o).as_str()),
        (Some(0), "kicked hans\n")
    );
    hans.expect("You have been kicked by the server\n");
    hans.expect_closed();
    yoda.expect("hans logged out\n");

    // A command that fails says so on stderr and in the exit status.
    let o = ctl(&socket, &["kick", "hans"]);
    assert_eq!(
        (o.status.code(), err(&o).as_str()),
        (Some(1), "hans is not online\n")
    );
    let o = ctl(&socket, &["reboot"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(err(&o), "unknown command: reboot (type help)\n");

    let o = ctl(&socket, &["stats"]);
    let stats = out(&o);
    assert!(
        stats.starts_with("connections 1\nsessions 1\nusers 1\n"),
        "{stats}"
    );
    assert!(
        server.log().contains("admin socket: kick hans"),
        "{}",
        server.log()
    );
}

/// ctl without a server says where it looked; a crash leaves a socket file nobody answers on,
/// and the next start replaces it.
#[test]
fn a_stale_socket_is_replaced_and_a_missing_server_is_reported() {
    let mut server = Server::start(&[]);
    let socket = socket_of(&server);
    server.kill();
    assert!(socket.exists(), "kill -9 leaves the socket file");
    let o = ctl(&socket, &["list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("admin.sock"), "{}", err(&o));
    server.restart();
    let o = ctl(&socket, &["list"]);
    assert_eq!(
        (o.status.code(), out(&o).as_str()),
        (Some(0), "no users online\n")
    );
}

/// A second server told to use a socket another one answers on refuses to start rather than
/// take it over; `--no-admin-socket` turns it off.
#[test]
fn a_live_socket_is_never_taken_over() {
    let first = Server::start(&[]);
    let socket = socket_of(&first);
    let dir = std::env::temp_dir().join(format!("chatserver-admin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("credentials.txt"), "yoda wise\n").expect("creds");
    let o = Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .current_dir(&dir)
        .arg("--admin-socket")
        .arg(&socket)
        .arg("0")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("another server answers on it"),
        "{}",
        err(&o)
    );
    let o = ctl(&socket, &["list"]);
    assert_eq!(o.status.code(), Some(0), "the first server still has it");
    let _ = std::fs::remove_dir_all(&dir);

    let off = Server::start(&["--no-admin-socket"]);
    assert!(!socket_of(&off).exists());
}

/// `--config FILE`: SIGHUP (and `ctl reload`) read it again; a live setting changes at once, a
/// listening address waits for a restart and the reload says so; a broken file changes
/// nothing (issue 21).
#[test]
fn sighup_reloads_the_config_file() {
    let dir = std::env::temp_dir().join(format!("chatserver-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("chat.toml");
    std::fs::write(&file, "# test\nmax-offline = 1\njson-port = 0\n").expect("write");
    let server = Server::start(&["--config", file.to_str().expect("utf-8")]);
    let socket = socket_of(&server);
    let mut yoda = server.login("yoda", "wise");
    yoda.send("message luke one");
    yoda.send("message luke two");
    yoda.expect("Error. luke's mailbox is full\n");

    std::fs::write(&file, "max-offline = 3\njson-port = 1\n").expect("write");
    let kill = Command::new("kill")
        .args(["-HUP", &server.pid().expect("pid").to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !server.log().contains("reloaded") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    yoda.send("message luke two");
    yoda.send("message luke three");
    yoda.send("message luke four");
    yoda.expect("Error. luke's mailbox is full\n");
    let log = server.log();
    assert!(
        log.contains("changed max-offline (1 -> 3); needs a restart: json-port (0 -> 1)"),
        "{log}"
    );

    std::fs::write(&file, "max-offline = many\n").expect("write");
    let o = ctl(&socket, &["reload"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("chat.toml:1"), "{}", err(&o));
    std::fs::write(&file, "max-offline = 4\njson-port = 1\n").expect("write");
    let o = ctl(&socket, &["reload"]);
    assert!(
        out(&o).contains("changed max-offline (3 -> 4); needs a restart: json-port (0 -> 1)"),
        "{}",
        out(&o)
    );
    yoda.send("message luke four");
    yoda.send("block hans");
    yoda.expect("hans is blocked\n");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Clients that connect and never send their command (a forgotten `socat`, a hung script)
/// took every one of the 32 connection slots for good, and `ctl` was refused until restart;
/// now the oldest of them makes room for a new one.
#[test]
fn idle_connections_cannot_lock_the_operator_out() {
    let server = Server::start(&[]);
    let socket = socket_of(&server);
    let idle: Vec<std::os::unix::net::UnixStream> = (0..40)
        .map(|_| std::os::unix::net::UnixStream::connect(&socket).expect("connect"))
        .collect();
    for _ in 0..3 {
        let o = ctl(&socket, &["list"]);
        assert_eq!(
            (o.status.code(), out(&o).as_str()),
            (Some(0), "no users online\n"),
            "{}",
            err(&o)
        );
    }
    drop(idle);
}

/// The operator's announcement obeys the text rule a user's does (PROTOCOL.md §1a): an
/// escape sequence or a bare `\r` (which ends an IRC line) reached every user's terminal and
/// IRC client as sent; now it is refused and nobody gets it.
#[test]
fn an_announcement_with_control_characters_is_refused() {
    let server = Server::start(&[]);
    let socket = socket_of(&server);
    let mut yoda = server.login("yoda", "wise");
    for bad in ["\x1b[2Jcleared", "one\rtwo", "bell\x07"] {
        let o = ctl(&socket, &["announce", bad]);
        assert_eq!(o.status.code(), Some(1), "{bad:?}");
        assert_eq!(
            err(&o),
            "Error. Text may not contain control characters (tab is allowed)\n"
        );
    }
    let o = ctl(&socket, &["announce", "tab\tis fine"]);
    assert_eq!(out(&o), "announced to 1 users\n");
    yoda.expect("Announcement from server: tab\tis fine\n");
}

/// A command line that is not UTF-8 is refused: it was read lossily, so `user add ann p\x85w`
/// (with `--plain-credentials`) stored a password with U+FFFD in it, not the one given, and
/// an announcement in Latin-1 reached everyone with replacement characters.
#[test]
fn a_command_line_that_is_not_utf8_is_refused() {
    use std::io::{Read, Write};
    let server = Server::start(&["--plain-credentials"]);
    let socket = socket_of(&server);
    let mut s = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
    s.write_all(b"user add ann p\x85w\n").expect("send");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("answer");
    assert_eq!(answer, "error\ncommand line is not UTF-8\n");
    let o = ctl(&socket, &["user", "list"]);
    assert!(!out(&o).contains("ann"), "{}", out(&o));
}
