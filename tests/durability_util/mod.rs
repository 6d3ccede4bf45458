//! Helpers for `tests/durability.rs`: a scratch directory, the real `chatserver` binary as a child
//! process (killable with SIGKILL, optionally under a file-size limit), and a line client.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const WELCOME: &str = "Welcome to the greatest messaging application ever!\n";
pub const INVALID_COMMAND: &str = "Error. Invalid command\n";
pub const STORAGE: &str = "Error. Storage unavailable, try again later\n";
pub const UNKNOWN_USER: &str = "Invalid Username. Please try again\n";
const WAIT: Duration = Duration::from_secs(20);

/// A directory under the system temp dir, removed (with everything in it) on drop.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "chatserver-durability-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("create scratch dir");
        Scratch { path }
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.file(name), text).expect("write scratch file");
    }

    pub fn journal(&self) -> PathBuf {
        self.file("data/journal.log")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// How to start the binary.
#[derive(Clone, Debug, Default)]
pub struct Launch {
    /// Extra arguments before the standard ones.
    pub args: Vec<String>,
    /// Run under `ulimit -S -f KIB` with SIGXFSZ ignored, so writes past it fail with EFBIG.
    pub fsize_kib: Option<u64>,
    /// `RUST_LOG` for the child (default `warn`).
    pub rust_log: Option<String>,
}

impl Launch {
    pub fn args(args: &[&str]) -> Launch {
        Launch {
            args: args.iter().map(|s| s.to_string()).collect(),
            ..Launch::default()
        }
    }
}

fn command(dir: &Path, launch: &Launch) -> Command {
    let bin = env!("CARGO_BIN_EXE_chatserver");
    let mut cmd = match launch.fsize_kib {
        None => Command::new(bin),
        Some(kib) => {
            // The ignored signal survives exec; only the soft limit is set, so it can be raised
            // again without privileges (prlimit).
            let mut c = Command::new("bash");
            c.arg("-c")
                .arg(format!(
                    "trap '' XFSZ; ulimit -S -f {kib} || exit 97; exec \"$0\" \"$@\""
                ))
                .arg(bin);
            c
        }
    };
    cmd.current_dir(dir)
        .args(&launch.args)
        .args([
            "--bind",
            "127.0.0.1",
            "--credentials",
            "credentials.txt",
            "--data-dir",
            "data",
            "0",
            "60",
            "600",
        ])
        .env("RUST_LOG", launch.rust_log.as_deref().unwrap_or("warn"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Collect a child's stderr in the background.
fn drain(mut from: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut s) = sink.lock() {
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    });
    text
}

/// A running `chatserver`; killed (SIGKILL) on drop.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Start in `dir` and wait for its `chatserver listening on ADDR` line; panics with its
    /// stderr if it exits instead.
    pub fn start(dir: &Path, launch: &Launch) -> Server {
        let mut child = command(dir, launch).spawn().expect("spawn chatserver");
        let stderr = drain(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let _ = out.read_line(&mut line);
        let Some(addr) = line.trim().strip_prefix("chatserver listening on ") else {
            let status = child.wait();
            thread::sleep(Duration::from_millis(100));
            panic!(
                "chatserver did not start ({status:?}); stdout {line:?}; stderr:\n{}",
                stderr.lock().map(|s| s.clone()).unwrap_or_default()
            );
        };
        let addr = addr.parse().expect("listening address");
        // Keep stdout drained so later prints can never block the server.
        thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        Server {
            child,
            addr,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// SIGKILL: no shutdown code runs, exactly like a crash or power cut of the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Run the binary expecting it to exit (for example refusing to start); returns status and
/// stderr. Panics if it is still running after a while.
pub fn run_to_exit(dir: &Path, launch: &Launch) -> (ExitStatus, String) {
    let mut child = command(dir, launch).spawn().expect("spawn chatserver");
    let mut pipe = child.stderr.take().expect("stderr");
    // Read to the end: once the child exited, its stderr ends, and all of it is here (a fixed
    // pause after the exit lost the last lines on a loaded machine).
    let stderr = thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return (status, stderr.join().expect("stderr reader"));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chatserver kept running; expected it to exit");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A line-oriented client over one TCP connection.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(WAIT))
            .expect("set read timeout");
        let mut c = Client {
            stream,
            buf: Vec::new(),
        };
        c.wait_for("Username: ");
        c
    }

    pub fn send(&mut self, line: &str) {
        self.stream
            .write_all(format!("{line}\n").as_bytes())
            .expect("send");
    }

    /// Read until `needle` has arrived; return everything up to and including it.
    pub fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(i) = find(&self.buf, needle.as_bytes()) {
                let rest = self.buf.split_off(i + needle.len());
                let got = std::mem::replace(&mut self.buf, rest);
                return String::from_utf8_lossy(&got).into_owned();
            }
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!(
                    "connection closed waiting for {needle:?}; got {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => panic!(
                    "waiting for {needle:?}: {e}; got {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}"
            );
        }
    }

    /// Send `line`, then a line the server always answers with `Error. Invalid command`;
    /// return what came back before that answer. Replies keep command order, so the answer
    /// acknowledges `line` (and everything sent before it).
    pub fn call(&mut self, line: &str) -> String {
        self.send(line);
        self.sync()
    }

    /// Everything the server sent before its answer to a probe line.
    pub fn sync(&mut self) -> String {
        self.send("?probe now");
        let got = self.wait_for(INVALID_COMMAND);
        got[..got.len() - INVALID_COMMAND.len()].to_string()
    }

    /// One-line login; returns what followed the welcome line (offline messages) up to a probe.
    pub fn login(&mut self, user: &str, password: &str) -> String {
        self.send(&format!("login {user} {password}"));
        let got = self.wait_for(WELCOME);
        assert!(!got.contains("Error") && !got.contains("Invalid"), "{got}");
        self.sync()
    }

    /// Try a one-line login: `Some(offline messages)` if welcomed, `None` if the user is unknown.
    pub fn try_login(&mut self, user: &str, password: &str) -> Option<String> {
        self.send(&format!("login {user} {password}"));
        let got = self.sync();
        if got.contains(WELCOME) {
            Some(got)
        } else {
            assert!(got.contains(UNKNOWN_USER), "{got}");
            None
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `yoda: <text>` lines of a received block, as the texts.
pub fn messages_from<'a>(from: &str, text: &'a str) -> Vec<&'a str> {
    let prefix = format!("{from}: ");
    text.split('\n')
        .filter_map(|l| l.strip_prefix(prefix.as_str()))
        .collect()
}

/// Count lines matching `pred` on a stream until EOF (or error), in a thread.
pub fn count_lines(
    stream: TcpStream,
    pred: impl Fn(&str) -> bool + Send + 'static,
) -> (Arc<Mutex<usize>>, thread::JoinHandle<usize>) {
    let count = Arc::new(Mutex::new(0usize));
    let shared = count.clone();
    let handle = thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        let mut n = 0;
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if pred(&String::from_utf8_lossy(&line)) {
                        n += 1;
                        if let Ok(mut c) = shared.lock() {
                            *c = n;
                        }
                    }
                }
            }
        }
        n
    });
    (count, handle)
}

/// Wait until `f` holds (polling), panicking after a while.
pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(5));
    }
}
