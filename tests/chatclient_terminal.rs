//! chatclient and the terminal: the password prompt does not echo when stdin is a terminal (a
//! pseudo-terminal from `script`), echo comes back on every way out, and a closed stdout or
//! stderr is never a panic.

mod chatclient_util;

use chatclient_util::{Client, FakeServer, WELCOME};
use std::io::{PipeWriter, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_chatclient");

/// `sh -c SCRIPT` on a pseudo-terminal of its own (util-linux `script`), so that chatclient's
/// stdin is a terminal; what we type goes through the terminal, which echoes it unless told not
/// to. Its output lines end in `\r\n`.
fn on_a_terminal(script: &str) -> Client {
    let mut command = Command::new("script");
    command.args(["-qfec", &format!("sh -c '{script}'"), "/dev/null"]);
    Client::spawn_command(command)
}

/// The shell command running chatclient against `server`.
fn chatclient(server: SocketAddr) -> String {
    format!("\"{BIN}\" {} {}", server.ip(), server.port())
}

/// Answer the username prompt as alice and show the password prompt.
fn to_password_prompt(server: &FakeServer, client: &mut Client) -> chatclient_util::Conn {
    let mut conn = server.accept();
    conn.send("Username: ");
    client.wait_for("Username: ");
    client.type_line("alice");
    conn.expect("alice");
    client.wait_for("alice\r\n");
    conn.send("Password: ");
    client.wait_for("Password: ");
    conn
}

/// On a terminal the password typed at `Password: ` is not echoed (the name before it and the
/// command after it are), and the line ends with the newline the unechoed Enter did not show.
#[test]
fn the_password_is_not_echoed_on_a_terminal() {
    let server = FakeServer::new();
    let mut client = on_a_terminal(&chatclient(server.addr()));
    let mut conn = to_password_prompt(&server, &mut client);
    client.type_line("sekrit");
    conn.expect("sekrit");
    conn.send(WELCOME);
    let p2p = conn.line().expect("p2p-port");
    assert!(p2p.starts_with("p2p-port "), "{p2p}");
    client.wait_for("Password: \r\nWelcome to the greatest messaging application ever!\r\n");
    client.type_line("whoelse");
    conn.expect("whoelse");
    client.wait_for("whoelse\r\n");
    assert!(!client.output().contains("sekrit"), "{}", client.output());
}

/// Ctrl-C at the password prompt leaves (status 0) without sending `exit`, which the server
/// would take for a wrong password, and the terminal echoes again afterwards (`stty -a` says
/// `echo`, not `-echo`).
#[test]
fn ctrl_c_at_the_password_prompt_leaves_with_echo_back_on() {
    let server = FakeServer::new();
    let mut client = on_a_terminal(&format!(
        "trap : INT; {}; echo status $?; stty -a",
        chatclient(server.addr())
    ));
    let mut conn = to_password_prompt(&server, &mut client);
    client.type_bytes(b"sek\x03");
    assert_eq!(conn.line(), None, "the connection closes with nothing sent");
    client.wait_for("Password: \r\nstatus 0\r\n");
    client.wait_for("echok");
    let out = client.output();
    assert!(out.contains(" echo "), "{out}");
    assert!(!out.contains(" -echo "), "{out}");
    assert!(!out.contains("sek"), "{out}");
}

/// A pipe whose reading end is already closed: writing to it fails with EPIPE.
fn closed_pipe() -> PipeWriter {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    writer
}

/// `chatclient --help | true`-like runs: help into a closed stdout exits 0, an unreachable
/// server with a closed stderr exits 1, bad arguments with a closed stderr exit 2, and none of
/// them panics (before, `print!`/`eprintln!` panicked: status 101).
#[test]
fn a_closed_stdout_or_stderr_is_not_a_panic() {
    let help = Command::new(BIN)
        .arg("--help")
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    assert_eq!(help.status.code(), Some(0));
    assert!(
        help.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&help.stderr)
    );
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port().to_string();
    drop(closed);
    for (args, code) in [
        (vec!["127.0.0.1", port.as_str()], 1),
        (vec!["127.0.0.1"], 2),
    ] {
        let status = Command::new(BIN)
            .args(&args)
            .stdout(closed_pipe())
            .stderr(closed_pipe())
            .status()
            .expect("run");
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}

/// With stdout closed while it runs, chatclient still logs in, takes what the server sends,
/// forwards what is typed, and leaves with status 0 at end of input, with nothing on stderr.
#[test]
fn a_closed_stdout_while_running_is_not_a_panic() {
    let server = FakeServer::new();
    let mut child = Command::new(BIN)
        .arg(server.addr().ip().to_string())
        .arg(server.addr().port().to_string())
        .stdin(Stdio::piped())
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut conn = server.accept();
    conn.send("Username: ");
    stdin.write_all(b"alice\n").expect("type");
    conn.expect("alice");
    conn.send("Password: ");
    stdin.write_all(b"pw\n").expect("type");
    conn.expect("pw");
    conn.send(WELCOME);
    assert!(conn.line().is_some_and(|l| l.starts_with("p2p-port ")));
    conn.send(&"bob: hello\n".repeat(100));
    stdin.write_all(b"whoelse\n").expect("type");
    conn.expect("whoelse");
    drop(stdin);
    conn.expect("exit");
    drop(conn);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
}
