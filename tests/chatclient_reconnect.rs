//! Issue 21 #4 against a scripted fake server: after losing the server while logged in,
//! chatclient dials again with backoff, logs in with the credentials typed for the last login
//! (one `login` line), hides the prompt that line answers, says so, and sends `p2p-port` again.
//! The restart of the real server is in `chatclient_server.rs`.

mod chatclient_util;

use chatclient_util::{Solo, WELCOME};
use std::time::Duration;

/// The first attempt comes after about a second (0.75 s to 1.25 s).
const FIRST_ATTEMPT: Duration = Duration::from_millis(3000);

/// The connection drops; the client says it is reconnecting, dials again, sends
/// `login alice pw` (what was typed at the prompts), and at the welcome says
/// `Reconnected to the server as alice` and sends its same `p2p-port` again. The second
/// `Username: ` prompt and the welcome line are not shown, and a line typed before the login
/// went through is refused, not sent (the server would take it for the user name).
#[test]
fn a_lost_server_is_dialled_again_and_logged_in() {
    let Solo {
        server,
        mut client,
        conn,
        port,
    } = Solo::new("alice", &[]);
    drop(conn);
    client.wait_for("Server connection lost; reconnecting\n");
    let mut conn = server.accept();
    // Time for the client to see its connect through.
    std::thread::sleep(Duration::from_millis(200));
    client.type_line("whoelse");
    client.wait_for("Not connected to the server\n");
    conn.send("Username: ");
    conn.expect("login alice pw");
    conn.send(WELCOME);
    conn.expect(&format!("p2p-port {port}"));
    client.wait_for("Reconnected to the server as alice\n");
    conn.send("bob: welcome back\n");
    client.wait_for("bob: welcome back\n");
    assert_eq!(client.count("Username: "), 1, "{}", client.output());
    assert_eq!(client.count(WELCOME), 1, "{}", client.output());
    client.type_line("whoelse");
    conn.expect("whoelse");
}

/// A login the server refuses after the reconnect (a changed password) hands over to the user:
/// the client says so, shows the server's answer and its prompt, and what the user types next
/// goes to the server. No further attempt is made.
#[test]
fn a_refused_login_after_reconnecting_hands_over_to_the_user() {
    let Solo {
        server,
        mut client,
        conn,
        ..
    } = Solo::new("alice", &[]);
    drop(conn);
    let mut conn = server.accept();
    conn.send("Username: ");
    conn.expect("login alice pw");
    conn.send("Invalid Password. Please try again\nUsername: ");
    client.wait_for(
        "Could not log in again as alice\nInvalid Password. Please try again\nUsername: ",
    );
    client.type_line("alice");
    conn.expect("alice");
    conn.send("Password: ");
    client.wait_for("Please try again\nUsername: Password: ");
}

/// A server that ends the login on purpose (here: the inactivity logout) is not dialled again.
#[test]
fn an_ended_login_is_not_restored() {
    let Solo {
        server,
        client,
        mut conn,
        ..
    } = Solo::new("alice", &[]);
    conn.send("You have been logged out due to inactivity\n");
    client.wait_for("You have been logged out due to inactivity\n");
    drop(conn);
    client.wait_for("Server connection lost\n");
    std::thread::sleep(FIRST_ATTEMPT);
    assert!(!client.output().contains("reconnecting"));
    assert!(!client.output().contains("Reconnected"));
    drop(server);
}

/// While the client waits to reconnect, `exit` leaves at once with status 0.
#[test]
fn exit_while_reconnecting_leaves() {
    let Solo {
        server,
        mut client,
        conn,
        ..
    } = Solo::new("alice", &[]);
    drop((conn, server));
    client.wait_for("Server connection lost; reconnecting\n");
    client.type_line("exit");
    let status = client.exit_within(Duration::from_secs(2)).expect("exited");
    assert!(status.success());
}

/// A reconnect that reaches something taking the connection and saying nothing (a server that
/// hangs) gives that attempt up once no `Username: ` came within 5 s, and dials again, as a
/// TLS reconnect whose handshake stalls does: on plain TCP it waited on that connection
/// forever.
#[test]
fn a_reconnect_to_a_silent_server_dials_again() {
    let Solo {
        server,
        client,
        conn,
        port,
    } = Solo::new("alice", &[]);
    drop(conn);
    client.wait_for("Server connection lost; reconnecting\n");
    let mut silent = server.accept();
    assert!(silent.closed_within(Duration::from_secs(10)), "given up");
    let mut conn = server.accept_within(Duration::from_secs(10));
    conn.send("Username: ");
    conn.expect("login alice pw");
    conn.send(WELCOME);
    conn.expect(&format!("p2p-port {port}"));
    client.wait_for("Reconnected to the server as alice\n");
}
