//! The binary's command line: exit statuses and the messages an operator sees when start-up fails.

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
        assert!(err.contains("Usage: chatserver"), "{args:?}: {err}");
    }
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

/// A missing credentials file is a clear error naming the file, exit status 1, not a panic.
#[test]
fn missing_credentials_names_the_file() {
    let dir = scratch_dir();
    let o = run(&dir, &["--bind", "127.0.0.1", "0"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("credentials.txt"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
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

/// `--hash-credentials` rewrites plaintext entries to salted SHA-256 and exits.
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
    assert!(lines[0].starts_with("yoda $sha256$"), "{text}");
    assert!(lines[1].starts_with("hans $sha256$"), "{text}");
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
