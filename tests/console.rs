//! The server console and signals (PROTOCOL.md §7) through a real child process: console
//! lines on its stdin, replies on its stdout, SIGTERM/SIGINT for a graceful exit (status 0,
//! everyone told, nothing acknowledged lost), and a stdin that cannot be read or ends.

mod common;
mod frontends_util;

use frontends_util::{Input, Proc};
use std::time::Duration;

const SHUTDOWN: &str = "Server shutting down\n";

#[test]
fn console_list_announce_kick_stats_and_quit() {
    let mut p = Proc::start(&[]);
    let mut yoda = p.login("yoda", "wise");
    let mut hans = p.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
    let mut guest = p.connect_json();
    guest
        .expect("[*] Welcome to the chat room!\n[*] Please enter your user name to get started.\n");
    guest.send_raw(br#"{"msgType": "<first>", "content": "Moo"}"#);
    guest.expect(
        "\nServer: Welcome Moo!\n\nChoose msg options.\nType <help> to see the list of options\n",
    );
    yoda.expect("Moo logged in\n");
    hans.expect("Moo logged in\n");

    p.console("help");
    assert!(p.stdout_line().starts_with("help "));
    while !p.stdout_line().starts_with("quit ") {}
    p.console("list");
    for name in ["yoda", "hans", "Moo"] {
        let line = p.stdout_line();
        assert!(
            line.starts_with(&format!("{name} 127.0.0.1:")) && line.contains(" idle "),
            "{line:?}"
        );
    }

    p.console("announce maintenance at 5, be quick");
    assert_eq!(p.stdout_line(), "announced to 3 users");
    for c in [&mut yoda, &mut hans] {
        c.expect("Announcement from server: maintenance at 5, be quick\n");
    }
    guest.expect("\nAnnouncement from server: maintenance at 5, be quick");

    p.console("kick hans");
    assert_eq!(p.stdout_line(), "kicked hans");
    hans.expect("You have been kicked by the server\n");
    hans.expect_closed();
    yoda.expect("hans logged out\n");
    guest.expect("\n[*] hans has left the chat room.");
    p.console("kick hans");
    assert_eq!(p.stdout_line(), "hans is not online");
    p.console("kick Moo");
    assert_eq!(p.stdout_line(), "kicked Moo");
    guest.expect("\n[*] You have been kicked by the server<quit>");
    guest.expect_closed();
    yoda.expect("Moo logged out\n");

    p.console("frobnicate");
    assert_eq!(p.stdout_line(), "unknown command: frobnicate (type help)");
    p.console("stats");
    let stats: Vec<String> = (0..9).map(|_| p.stdout_line()).collect();
    assert_eq!(stats[0], "connections 1");
    assert_eq!(stats[2], "users 1");
    assert!(
        stats[4].starts_with("bytes in ")
            && stats[7].starts_with("rss ")
            && stats[8].starts_with("worst iteration "),
        "{stats:?}"
    );

    p.console("quit");
    assert_eq!(p.stdout_line(), "shutting down");
    yoda.expect(SHUTDOWN);
    yoda.expect_closed();
    assert!(p.wait_exit().success());
}

/// SIGTERM and SIGINT: everyone is told, the exit status is 0, and what was acknowledged
/// before the signal (a block, an offline message) is there after a restart.
#[test]
fn sigterm_and_sigint_shut_down_gracefully_losing_nothing() {
    for signal in ["TERM", "INT"] {
        let mut p = Proc::start(&[]);
        let mut yoda = p.login("yoda", "wise");
        let mut guest = p.connect_json();
        guest.expect(
            "[*] Welcome to the chat room!\n[*] Please enter your user name to get started.\n",
        );
        yoda.send("block vader");
        yoda.expect("vader is blocked\n");
        yoda.send("message hans see you after the restart");
        yoda.send("block luke"); // its reply acknowledges the message too (PROTOCOL.md §1)
        yoda.expect("luke is blocked\n");
        p.signal(signal);
        yoda.expect(SHUTDOWN);
        yoda.expect_closed();
        guest.expect("\n[*] Server shutting down<quit>");
        guest.expect_closed();
        let status = p.wait_exit();
        assert!(status.success(), "SIG{signal}: {status:?}");

        let p = p.restart();
        let mut yoda = p.login("yoda", "wise");
        yoda.send("unblock vader");
        yoda.expect("vader is unblocked\n");
        let mut hans = p.connect();
        hans.login("hans", "falcon*solo");
        hans.expect("yoda: see you after the restart\n");
    }
}

/// SIGHUP (the terminal went away, or a reload asked for) without `--config` is logged and
/// changes nothing; the server keeps serving.
#[test]
fn sighup_without_a_config_file_changes_nothing() {
    let mut p = Proc::start(&[]);
    p.signal("HUP");
    std::thread::sleep(Duration::from_millis(200));
    assert!(p.running());
    let mut yoda = p.login("yoda", "wise");
    yoda.send("whoelse");
    yoda.expect_silence(50);
    assert!(p
        .log()
        .contains("started without --config: nothing to reload"));
}

/// A stdin that is /dev/null, a regular file (epoll refuses both) or a pipe that ends at
/// once means no console, and the server keeps serving.
#[test]
fn no_console_still_serves() {
    for (input, logged) in [
        (Input::Null, "no console: stdin cannot be polled"),
        (Input::File, "no console: stdin cannot be polled"),
        (Input::Piped, "stdin closed: console off, still serving"),
    ] {
        let mut p = Proc::start_with(input, &[]);
        p.stdin = None; // a piped stdin: closed now (EOF)
        std::thread::sleep(Duration::from_millis(200));
        assert!(p.running());
        let mut yoda = p.login("yoda", "wise");
        let mut hans = p.login("hans", "falcon*solo");
        yoda.expect("hans logged in\n");
        hans.send("message yoda still here");
        yoda.expect("hans: still here\n");
        assert!(p.log().contains(logged), "{logged:?} not in\n{}", p.log());
        p.signal("TERM");
        yoda.expect(SHUTDOWN);
        assert!(p.wait_exit().success());
    }
}

/// Every log line starts with its RFC 3339 UTC time and level; a connection is named by its
/// user and address, never `ConnId { … }`; the operator's kick and a normal shutdown are INFO,
/// not WARN (issue 21).
#[test]
fn log_lines_are_stamped_and_name_users() {
    let mut p = Proc::start(&[]);
    let mut yoda = p.login("yoda", "wise");
    p.console("kick yoda");
    assert_eq!(p.stdout_line(), "kicked yoda");
    yoda.expect("You have been kicked by the server\n");
    p.console("quit");
    assert_eq!(p.stdout_line(), "shutting down");
    assert!(p.wait_exit().success());
    let log = p.log();
    for line in log.lines() {
        let (stamp, rest) = line.split_once(' ').unwrap_or(("", ""));
        let shape: String = stamp
            .chars()
            .map(|c| if c.is_ascii_digit() { '9' } else { c })
            .collect();
        assert_eq!(shape, "9999-99-99T99:99:99.999Z", "{line}");
        assert!(
            ["ERROR ", "WARN  ", "INFO  ", "DEBUG ", "TRACE "]
                .iter()
                .any(|l| rest.starts_with(l)),
            "{line}"
        );
    }
    assert!(!log.contains("ConnId"), "{log}");
    for want in [
        "INFO  chatserver::chat::login: yoda (127.0.0.1:",
        "INFO  chatserver::chat::operator: yoda (127.0.0.1:",
        "INFO  chatserver::server: shutting down",
        "INFO  chatserver: stopped",
    ] {
        assert!(log.contains(want), "{want:?} not in\n{log}");
    }
    assert!(!log.contains("WARN "), "{log}");
}
