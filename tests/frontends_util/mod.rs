//! A `chatserver` child whose stdin (the console) and stdout (console replies, listening
//! addresses) the test holds, for the JSON front-end, console and signal tests.
#![allow(dead_code)]

use crate::common::{Client, SAMPLE_CREDENTIALS};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// What the child's stdin is.
pub enum Input {
    /// A pipe the test writes console lines into.
    Piped,
    Null,
    /// A regular file (epoll refuses it).
    File,
}

pub struct Proc {
    child: Child,
    pub stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    pub dir: PathBuf,
    pub addr: SocketAddr,
    pub json: Option<SocketAddr>,
    args: Vec<String>,
}

fn new_dir() -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "chatserver-frontends-{}-{n}-{}",
        std::process::id(),
        Instant::now().elapsed().subsec_nanos()
    ));
    fs::create_dir_all(&dir).expect("test directory");
    fs::write(dir.join("credentials.txt"), SAMPLE_CREDENTIALS).expect("credentials.txt");
    dir
}

impl Proc {
    /// Start with `--json-port 0` and `args`, stdin piped.
    pub fn start(args: &[&str]) -> Proc {
        Proc::start_with(Input::Piped, args)
    }

    pub fn start_with(input: Input, args: &[&str]) -> Proc {
        let dir = new_dir();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        spawn(dir, args, input)
    }

    /// Start again on the same directory and arguments (after the last one exited).
    pub fn restart(mut self) -> Proc {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::take(&mut self.dir);
        let args = std::mem::take(&mut self.args);
        spawn(dir, args, Input::Piped)
    }

    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    pub fn connect_json(&self) -> Client {
        Client::connect(self.json.expect("--json-port given"))
    }

    pub fn login(&self, user: &str, password: &str) -> Client {
        let mut c = self.connect();
        c.login(user, password);
        c
    }

    /// Type a console line.
    pub fn console(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("piped stdin");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .expect("write to the console");
    }

    /// The next line the server prints on stdout.
    #[track_caller]
    pub fn stdout_line(&self) -> String {
        self.stdout
            .recv_timeout(Duration::from_secs(5))
            .expect("a console reply on stdout")
    }

    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{name}");
    }

    /// Wait (at most 10 s) for the child to exit on its own.
    #[track_caller]
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "chatserver did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the child is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- chatserver log ----\n{}", self.log());
        }
        if !self.dir.as_os_str().is_empty() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn spawn(dir: PathBuf, args: Vec<String>, input: Input) -> Proc {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .expect("server.log");
    let stdin = match input {
        Input::Piped => Stdio::piped(),
        Input::Null => Stdio::null(),
        Input::File => {
            fs::write(dir.join("stdin.txt"), "stats\n").expect("stdin file");
            Stdio::from(fs::File::open(dir.join("stdin.txt")).expect("stdin file"))
        }
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .current_dir(&dir)
        .env("RUST_LOG", "info")
        .args(["--bind", "127.0.0.1", "--json-port", "0"])
        .arg("--credentials")
        .arg(dir.join("credentials.txt"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("0")
        .args(&args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn chatserver");
    let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let addr_of = |prefix: &str| -> SocketAddr {
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no {prefix:?} line"));
        line.strip_prefix(prefix)
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"))
    };
    let addr = addr_of("chatserver listening on ");
    let json = Some(addr_of("chatserver json listening on "));
    Proc {
        stdin: child.stdin.take(),
        child,
        stdout: rx,
        dir,
        addr,
        json,
        args,
    }
}
