//! The binary's command line: exit statuses and the messages an operator sees when start-up fails.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

fn scratch_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "chatserver-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn run(dir: &PathBuf, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run chatserver")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Bad arguments: one clear line plus the usage on stderr, and exit status 2.
#[test]
fn bad_arguments_exit_2_with_usage() {
    let dir = scratch_dir();
    for args in [
        &[][..],
        &["notaport"],
        &["4000", "sixty"],
        &["--fsync", "sometimes", "4000"],
        &["--nonsense", "4000"],
    ] {
        let o = run(&dir, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(err.starts_with("chatserver: "), "{args:?}: {err}");
        // The error and one usage line, not the whole help (issue 21).
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {err}");
        assert_eq!(
            lines[1],
            "Usage: chatserver [OPTIONS] PORT [BLOCK_DURATION [TIMEOUT]] (see --help)"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A negative number is named as the bad value it is, not reported as an unknown option `-5`
/// (issue 21).
#[test]
fn a_negative_number_is_named() {
    let dir = scratch_dir();
    for (args, expected) in [
        (
            &["5001", "-5"][..],
            "chatserver: invalid BLOCK_DURATION: \"-5\"",
        ),
        (
            &["5001", "60", "-5"][..],
            "chatserver: invalid TIMEOUT: \"-5\"",
        ),
        (&["-1"][..], "chatserver: invalid PORT: \"-1\""),
        (
            &["--max-line", "-5", "5001"][..],
            "chatserver: invalid --max-line: \"-5\"",
        ),
    ] {
        let o = run(&dir, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(err.starts_with(expected), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// `chatserver abc 2>&1 | true`: stderr is a pipe nobody reads. The error cannot be shown, but
/// the exit status must still be 2, not an abort from a panic while printing (issue 21).
#[test]
fn a_closed_stderr_does_not_turn_an_error_into_a_panic() {
    let dir = scratch_dir();
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let status = Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .arg("abc")
        .current_dir(&dir)
        .stdout(writer.try_clone().expect("clone"))
        .stderr(writer)
        .status()
        .expect("run chatserver");
    assert_eq!(status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}

/// `--help` says what the positional arguments mean (issue 21).
#[test]
fn help_explains_the_positional_arguments() {
    let dir = scratch_dir();
    let o = run(&dir, &["--help"]);
    let out = String::from_utf8_lossy(&o.stdout);
    for line in [
        "  BLOCK_DURATION   seconds an account stays locked after 3 wrong passwords",
        "  TIMEOUT          seconds without a valid command before a user is logged out",
    ] {
        assert!(out.contains(line), "{out}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The flags `--help` lists are exactly the flags in README's command-line table (issue 21).
#[test]
fn every_flag_in_help_is_in_the_readme_table_and_back() {
    let dir = scratch_dir();
    let o = run(&dir, &["--help"]);
    let help = String::from_utf8_lossy(&o.stdout).into_owned();
    let options = help.split("Options:").nth(1).expect("an Options section");
    // A help row starts with its flags (`-h, --help`, `--max-line BYTES`); the text follows.
    let in_help: BTreeSet<String> = options
        .lines()
        .filter(|l| l.trim_start().starts_with('-'))
        .flat_map(|l| {
            l.split_whitespace()
                .take_while(|w| w.starts_with('-') || !w.bytes().any(|b| b.is_ascii_lowercase()))
                .filter_map(|w| w.strip_prefix("--"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    // A table row names its flags in the first column: `--bind ADDR`, `-h`, `--help` / ….
    let in_readme: BTreeSet<String> = readme
        .lines()
        .filter(|l| l.starts_with("| `-"))
        .filter_map(|l| l.split(" | ").next())
        .flat_map(|col| {
            col.split(['`', ' ', ','])
                .filter_map(|w| w.strip_prefix("--"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(in_help.len() > 20, "{in_help:?}");
    assert_eq!(
        in_help, in_readme,
        "--help flags (left) and README table flags (right) differ"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `--help` and `--version` print to stdout and succeed.
#[test]
fn help_and_version() {
    let dir = scratch_dir();
    let o = run(&dir, &["--help"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("--max-line") && out.contains("--duplicate-login"));
    let o = run(&dir, &["-V"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("chatserver "));
    let _ = std::fs::remove_dir_all(dir);
}

/// A missing credentials file given with `--credentials` is a clear error naming the file,
/// exit status 1, not a panic.
#[test]
fn missing_credentials_names_the_file() {
    let dir = scratch_dir();
    let o = run(&dir, &["--credentials", "credentials.txt", "0"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("credentials.txt"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Without `--credentials` the accounts are the assignment's `./credentials.txt`: a
/// registration is appended to it (PROTOCOL.md §2), and the server listens on loopback only.
#[test]
fn registering_appends_to_the_working_directorys_credentials() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = scratch_dir();
    std::fs::write(dir.join("credentials.txt"), "yoda wise\n").expect("write creds");
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .arg("0")
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn chatserver");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("listening line");
    let addr = first
        .trim_end()
        .strip_prefix("chatserver listening on ")
        .expect("listening line")
        .to_string();
    assert!(
        addr.starts_with("127.0.0.1:"),
        "loopback by default: {addr}"
    );
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"register ann s3cret\nlogin yoda wise\n")
        .expect("send");
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !String::from_utf8_lossy(&got).contains("Welcome") {
        let n = s.read(&mut buf).expect("reply");
        assert!(n > 0, "closed: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let _ = child.kill();
    let _ = child.wait();
    let file = std::fs::read_to_string(dir.join("credentials.txt")).expect("credentials");
    assert!(file.starts_with("yoda wise\nann $"), "{file}");
    assert!(!dir.join("chatserver-data/credentials.txt").exists());
    let _ = std::fs::remove_dir_all(dir);
}

/// In a directory without `credentials.txt` the server starts with no accounts and creates the
/// file; an explicit `--credentials` that is missing is an error instead (above).
#[test]
fn a_missing_default_credentials_file_is_created_empty() {
    use std::io::{BufRead, BufReader};
    let dir = scratch_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .arg("0")
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn chatserver");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("listening line");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.starts_with("chatserver listening on 127.0.0.1:"),
        "{first}"
    );
    let file = std::fs::read_to_string(dir.join("credentials.txt")).expect("created");
    assert_eq!(file, "");
    let _ = std::fs::remove_dir_all(dir);
}

/// A malformed line is reported with the file and its line number.
#[test]
fn malformed_credentials_names_file_and_line() {
    let dir = scratch_dir();
    std::fs::write(dir.join("creds"), "yoda wise\nhans\n").expect("write creds");
    let o = run(
        &dir,
        &["--credentials", "creds", "--bind", "127.0.0.1", "0"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("creds:2:"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `--hash-credentials` rewrites plaintext entries to PBKDF2 (issue 21) and exits.
#[test]
fn hash_credentials_rewrites_the_file() {
    let dir = scratch_dir();
    let file = dir.join("credentials.txt");
    std::fs::write(&file, "yoda wise\nhans falcon*solo").expect("write creds");
    let o = run(&dir, &["--hash-credentials", "credentials.txt"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&file).expect("read back");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("yoda $pbkdf2-sha256$10000$"), "{text}");
    assert!(lines[1].starts_with("hans $pbkdf2-sha256$10000$"), "{text}");
    assert!(!text.contains("wise") && !text.contains("falcon"));
    let _ = std::fs::remove_dir_all(dir);
}

/// Start the server with `stdout` as its standard output and the given credentials; it must
/// exit on its own (the listening line cannot be written).
fn run_with_stdout(dir: &PathBuf, stdout: std::process::Stdio) -> Output {
    std::fs::write(dir.join("credentials.txt"), "yoda wise\n").expect("write creds");
    Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .args(["--bind", "127.0.0.1", "--data-dir", "data", "0"])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run chatserver")
}

/// An unwritable stdout at start-up (a full device, or a pipe nobody reads) is an error exit
/// with a message naming stdout, not a panic: scripts read the port from that line, so a
/// server that cannot print it must not keep running (issue 8).
#[test]
fn unwritable_stdout_exits_1_without_a_panic() {
    let dir = scratch_dir();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    for stdout in [full.into(), writer.into()] {
        let o = run_with_stdout(&dir, stdout);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains("chatserver: stdout:"), "{err}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A running server whose stdout and stderr both go away (the terminal closed, a log pipe
/// died) keeps serving: console replies and log lines are lost, not turned into panics; the
/// console's `quit` still shuts it down with status 0 (issue 21).
#[test]
fn closed_stdout_and_stderr_while_running_are_survived() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = scratch_dir();
    std::fs::write(dir.join("credentials.txt"), "yoda wise\n").expect("write creds");
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .args(["--bind", "127.0.0.1", "--data-dir", "data", "0"])
        .current_dir(&dir)
        .env("RUST_LOG", "debug")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(writer)
        .spawn()
        .expect("spawn chatserver");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("listening line");
    let addr = first
        .trim_end()
        .strip_prefix("chatserver listening on ")
        .expect("listening line")
        .to_string();
    drop(stdout);
    let mut console = child.stdin.take().expect("stdin");
    let talk = |line: &str| {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(line.as_bytes()).expect("send");
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).expect("a reply");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert!(talk("login yoda wise\n").starts_with("Username: "));
    for line in ["stats\n", "list\n", "help\n", "bogus\n"] {
        console.write_all(line.as_bytes()).expect("console");
    }
    // Served after every one of those replies failed to be written.
    assert!(talk("").starts_with("Username: "));
    console.write_all(b"quit\n").expect("console");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    let _ = std::fs::remove_dir_all(dir);
}

/// Under systemd (`JOURNAL_STREAM` set) the journal stamps each line, so the server does not
/// (issue 21).
#[test]
fn no_timestamps_for_journald() {
    let dir = scratch_dir();
    std::fs::write(dir.join("credentials.txt"), "yoda wise\n").expect("write creds");
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .args(["--log-level", "info", "--no-admin-socket", "0"])
        .env("JOURNAL_STREAM", "8:12345")
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(child.stderr.take().expect("stderr"))
        .read_line(&mut first)
        .expect("a log line");
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.starts_with("INFO  chatserver"), "{first:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `--help` names the operator's tools, and a tool word after options (as in `chatserver
/// --config FILE user add ann`) is answered with where it goes, not taken for the PORT.
#[test]
fn help_names_the_tools_and_a_misplaced_tool_word_says_where_it_goes() {
    let dir = scratch_dir();
    let o = run(&dir, &["--help"]);
    let out = String::from_utf8_lossy(&o.stdout);
    for tool in [
        "chatserver ctl ",
        "chatserver user ",
        "chatserver backup ",
        "chatserver restore ",
    ] {
        assert!(out.contains(tool), "{out}");
    }
    let o = run(&dir, &["--data-dir", "d", "user", "add", "ann"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with(
            "chatserver: \"user\" goes first: chatserver user [OPTIONS] add|passwd|del NAME or list\n"
        ),
        "{}",
        stderr(&o)
    );
    assert!(!dir.join("d").exists());
    let _ = std::fs::remove_dir_all(dir);
}
