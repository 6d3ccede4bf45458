//! Accounts without the network (issue 21): `chatserver user add|passwd|del|list` against a
//! running server (through its admin socket, journaled like any change) and a stopped one (the
//! same store code), with the password from stdin as a script gives it. Deleting an account ends
//! its session and drops its mailbox, blocks, profile and the rooms it owned, also across a
//! restart, and a new account of the same name inherits none of it.

mod common;

use common::Server;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `chatserver user ARGS…` on `server`'s directories, `password` on stdin.
fn user(server: &Server, args: &[&str], password: &str) -> Output {
    let dir = server.dir();
    user_in(dir, args, password)
}

fn user_in(dir: &Path, args: &[&str], password: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .arg("user")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--credentials")
        .arg(dir.join("credentials.txt"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run chatserver user");
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = stdin.write_all(format!("{password}\n").as_bytes());
    drop(stdin);
    child.wait_with_output().expect("wait")
}

fn says(o: &Output) -> (Option<i32>, String) {
    let text = if o.status.success() {
        &o.stdout
    } else {
        &o.stderr
    };
    (o.status.code(), String::from_utf8_lossy(text).into_owned())
}

#[test]
fn add_and_change_a_password_while_running() {
    let server = Server::start(&[]);
    assert_eq!(
        says(&user(&server, &["add", "ann"], "s3cret")),
        (Some(0), "added ann\n".into())
    );
    let mut ann = server.login("ann", "s3cret");
    ann.send("logout");
    ann.expect("You have logged out\nUsername: ");
    assert_eq!(
        says(&user(&server, &["add", "ann"], "other")),
        (Some(1), "ann already exists\n".into())
    );
    assert_eq!(
        says(&user(&server, &["add", "bob"], "two words")),
        (
            Some(1),
            "chatserver: bob: invalid password (1-32 printable characters, no spaces)\n".into()
        )
    );
    assert_eq!(
        says(&user(&server, &["passwd", "ann"], "n3w")),
        (Some(0), "new password for ann\n".into())
    );
    let mut c = server.connect();
    c.expect("Username: ");
    c.send("login ann s3cret");
    c.expect("Invalid Password. Please try again\nUsername: ");
    c.send("login ann n3w");
    c.expect(common::WELCOME);
    let (status, list) = says(&user(&server, &["list"], ""));
    assert_eq!(status, Some(0));
    assert!(list.starts_with("ann\nhans\nluke\n"), "{list}");
    let creds = std::fs::read_to_string(server.dir().join("credentials.txt")).expect("read");
    assert!(
        !creds.contains("s3cret") && !creds.contains("n3w"),
        "{creds}"
    );
}

/// The deleted user's session ends; the room it owned closes for those in it; after a restart
/// the name is free, and a new account of that name starts with nothing of the old one.
#[test]
fn deleting_an_account_ends_it_and_forgets_everything_of_it() {
    let mut server = Server::start(&[]);
    let [mut luke, mut yoda] = server.login_all([("luke", "jedi"), ("yoda", "wise")]);
    luke.send("open-chatroom den public");
    luke.expect("Chatroom den opened\n");
    luke.send("enter-chatroom den");
    luke.expect("You entered chatroom den\n");
    luke.send("/set-profile job farmer");
    luke.send("block hans");
    yoda.send("block luke");
    yoda.expect("luke is blocked\n");
    let mut hans = server.login("hans", "falcon*solo");
    hans.send("enter-chatroom den");
    hans.expect("You entered chatroom den\n");

    assert_eq!(
        says(&user(&server, &["del", "luke"], "")),
        (Some(0), "deleted luke\n".into())
    );
    luke.expect_line(); // Attribute job set successfully.
    luke.expect_line(); // hans is blocked
    luke.expect("hans logged in\n[System]: hans entered the chatroom\n");
    luke.expect("Your account has been deleted by the server\n");
    luke.expect_closed();
    hans.expect("[System]: luke left the chatroom\n");
    hans.expect("luke logged out\n");
    hans.expect("[System]: chatroom den closed\n");
    hans.send("message luke still there?");
    hans.expect("Error. Invalid user\n");

    // Mail for the old luke, sent before the deletion, must not reach a new luke: queue some
    // through an account deleted while offline.
    hans.send("message r2d2 beep");
    assert_eq!(
        says(&user(&server, &["del", "r2d2"], "")),
        (Some(0), "deleted r2d2\n".into())
    );
    assert_eq!(
        says(&user(&server, &["del", "luke"], "")),
        (Some(1), "no account luke\n".into())
    );

    server.restart();
    let mut c = server.connect();
    c.expect("Username: ");
    c.send("login luke jedi");
    c.expect("Invalid Username. Please try again\nUsername: ");
    c.send("register luke newhope");
    c.expect(common::WELCOME);
    c.send("view-profile luke");
    c.expect(
        "username : luke\nage : \nbirthday : \njob : \nphone_number : \nself_description : \n",
    );
    c.send("open-chatroom den private");
    c.expect("Chatroom den opened\n");
    c.send("message hans hi");
    let mut hans = server.login("hans", "falcon*solo");
    hans.expect("luke: hi\n");
    let mut yoda = server.login("yoda", "wise");
    c.expect("hans logged in\nyoda logged in\n");
    c.send("message yoda hello");
    yoda.expect("luke: hello\n");
    let mut r2 = server.connect();
    r2.expect("Username: ");
    r2.send("register r2d2 c3po");
    r2.expect(common::WELCOME);
    r2.expect_silence(200);
}

/// With no server running, the same commands work on its files; a server started afterwards
/// sees them.
#[test]
fn accounts_of_a_stopped_server() {
    let mut server = Server::start(&[]);
    server.kill();
    let dir = server.dir().to_path_buf();
    assert_eq!(
        says(&user_in(&dir, &["add", "ann"], "s3cret")),
        (Some(0), "added ann\n".into())
    );
    assert_eq!(
        says(&user_in(&dir, &["del", "yoda"], "")),
        (Some(0), "deleted yoda\n".into())
    );
    assert_eq!(
        says(&user_in(&dir, &["del", "hans"], "")),
        (Some(0), "deleted hans\n".into())
    );
    // A name deleted and created again is the new account after a restart (the journal's
    // deletion is replayed before, not after, the new credentials line).
    assert_eq!(
        says(&user_in(&dir, &["add", "hans"], "solo2")),
        (Some(0), "added hans\n".into())
    );
    server.restart();
    server.login("ann", "s3cret");
    server.login("hans", "solo2");
    let mut c = server.connect();
    c.expect("Username: ");
    c.send("login yoda wise");
    c.expect("Invalid Username. Please try again\nUsername: ");
}

/// A tool run on a stopped server from another directory, with the default
/// `./credentials.txt`, must not take an empty file there for the server's accounts: `user`
/// would add to the wrong file and `backup` would write a backup without any account. It
/// refuses, names the file and says what to give, and creates nothing.
#[test]
fn tools_of_a_stopped_server_refuse_a_missing_default_credentials_file() {
    let mut server = Server::start(&[]);
    server.kill();
    let dir = server.dir().to_path_buf();
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    let data = dir.join("data");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_chatserver"))
            .args(args)
            .current_dir(&elsewhere)
            .stdin(Stdio::null())
            .output()
            .expect("run chatserver")
    };
    let data_arg = data.to_str().expect("utf-8 path");
    let backup = dir.join("bk");
    for o in [
        run(&["user", "--data-dir", data_arg, "list"]),
        run(&[
            "backup",
            "--data-dir",
            data_arg,
            backup.to_str().expect("utf-8"),
        ]),
    ] {
        let (code, text) = says(&o);
        assert_eq!(code, Some(1), "{text}");
        assert!(
            text.contains("credentials.txt") && text.contains("--credentials"),
            "{text}"
        );
    }
    assert!(!elsewhere.join("credentials.txt").exists());
    assert!(!backup.exists());
    // From the server's own directory the default file is found, as before.
    let o = Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .args(["user", "--data-dir", data_arg, "list"])
        .current_dir(&dir)
        .output()
        .expect("run chatserver");
    assert_eq!(
        says(&o),
        (Some(0), "hans\nluke\nr2d2\nvader\nyoda\n".into())
    );
}
