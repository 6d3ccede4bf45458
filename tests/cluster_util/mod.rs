//! Cluster test helpers (issue 23): a `redis-server` of the test's own on a free loopback port
//! (`--appendonly yes --appendfsync always`, its files in a temporary directory, killed on
//! drop), and chatserver nodes joined to it, each with its line, JSON and IRC ports.
#![allow(dead_code)]

use crate::common::{Client, SAMPLE_CREDENTIALS};
use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn new_dir(what: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "chatserver-cluster-{what}-{}-{n}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("test directory");
    dir
}

/// A port nobody listens on now (the kernel's pick for port 0).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

fn sigkill(child: &mut Option<Child>) {
    if let Some(mut c) = child.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// A `redis-server` of this test's own.
pub struct Redis {
    child: Option<Child>,
    /// Plain RESP (the nodes use it unless `tls` is set; the test's own commands always).
    pub port: u16,
    /// Redis's own TLS port and the certificate and key it serves (`rediss://`).
    tls: Option<(u16, PathBuf, PathBuf)>,
    dir: PathBuf,
}

impl Redis {
    pub fn start() -> Redis {
        let mut r = Redis {
            child: None,
            port: free_port(),
            tls: None,
            dir: new_dir("redis"),
        };
        r.spawn();
        r
    }

    /// Redis with its TLS port too (`--tls-port`, serving `cert` and `key`; no client
    /// certificates asked); nodes are given `rediss://` to it.
    pub fn start_tls(cert: &Path, key: &Path) -> Redis {
        let mut r = Redis {
            child: None,
            port: free_port(),
            tls: Some((free_port(), cert.to_path_buf(), key.to_path_buf())),
            dir: new_dir("redis"),
        };
        r.spawn();
        r
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new("redis-server");
        if let Some((port, cert, key)) = &self.tls {
            cmd.args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
                .arg("--tls-cert-file")
                .arg(cert)
                .arg("--tls-key-file")
                .arg(key);
        }
        let child = cmd
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One command's one-line reply (an integer or a simple string), raw.
    pub fn command(&self, line: &str) -> String {
        use std::io::{Read, Write};
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to redis");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(format!("{line}\r\n").as_bytes())
            .expect("write");
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while !reply.ends_with(b"\r\n") && s.read(&mut byte).is_ok_and(|n| n == 1) {
            reply.push(byte[0]);
        }
        String::from_utf8_lossy(&reply).trim_end().to_string()
    }

    /// A string key's value, `None` if there is none (read back as a status reply, which
    /// [`Redis::command`] reads whole).
    pub fn get(&self, key: &str) -> Option<String> {
        let reply = self.command(&format!(
            "EVAL \"local v = redis.call('GET', KEYS[1]) if v then return {{ok = v}} end \
             return {{ok = '-'}}\" 1 {key}"
        ));
        reply
            .strip_prefix('+')
            .filter(|v| *v != "-")
            .map(str::to_string)
    }

    /// The records of every entry in the cluster's stream now, one a line (read back as one
    /// status reply, the lines joined by `|`).
    pub fn journal_records(&self) -> Vec<String> {
        let reply = self.command(
            "EVAL \"local out = {} \
             for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do \
             for i = 1, #e[2], 2 do \
             if string.match(e[2][i], '^t%d+$') then table.insert(out, e[2][i + 1]) end \
             end end \
             local nl = string.char(10) \
             local all = string.gsub(table.concat(out, nl), '[' .. nl .. string.char(13) .. ']', '|') \
             return {ok = all}\" 1 chatserver:journal",
        );
        let all = reply.strip_prefix('+').unwrap_or_default();
        all.split('|')
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Entries in the cluster's stream now.
    pub fn stream_len(&self) -> u64 {
        let reply = self.command("XLEN chatserver:journal");
        reply.trim_start_matches(':').parse().unwrap_or(u64::MAX)
    }

    pub fn url(&self) -> String {
        match &self.tls {
            Some((port, ..)) => format!("rediss://127.0.0.1:{port}"),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// SIGKILL: whatever Redis had not fsynced is gone.
    pub fn kill(&mut self) {
        sigkill(&mut self.child);
    }

    /// Send `signal` (`STOP`, `CONT`): a Redis frozen answers nobody, its links stay open.
    pub fn signal(&self, signal: &str) {
        send_signal(&self.child, signal);
    }

    /// Start again on the same port and files (the AOF).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// One chatserver node of a test cluster.
pub struct Node {
    child: Option<Child>,
    pub dir: PathBuf,
    pub line: SocketAddr,
    pub json: SocketAddr,
    pub irc: SocketAddr,
    pub name: String,
}

impl Node {
    /// Node `name` on `redis`, with `args` after the port (options such as `--node-ttl 1`).
    pub fn start(redis: &Redis, name: &str, args: &[&str]) -> Node {
        let dir = new_dir(name);
        fs::write(dir.join("credentials.txt"), SAMPLE_CREDENTIALS).expect("credentials.txt");
        let (child, line, json, irc) = spawn(&dir, &redis.url(), name, args);
        Node {
            child: Some(child),
            dir,
            line,
            json,
            irc,
            name: name.to_string(),
        }
    }

    pub fn connect(&self) -> Client {
        Client::connect(self.line)
    }

    pub fn login(&self, user: &str, password: &str) -> Client {
        let mut c = self.connect();
        c.login(user, password);
        c
    }

    /// SIGKILL, as a crash.
    pub fn kill(&mut self) {
        sigkill(&mut self.child);
    }

    /// Start this node again on the same directory (its data directory, its credentials),
    /// once it has exited (killed or stopped); its earlier log is kept as `server.log.1`.
    pub fn restart(&mut self, redis: &Redis, args: &[&str]) {
        self.kill();
        let _ = fs::rename(self.dir.join("server.log"), self.dir.join("server.log.1"));
        let (child, line, json, irc) = spawn(&self.dir, &redis.url(), &self.name, args);
        self.child = Some(child);
        (self.line, self.json, self.irc) = (line, json, irc);
    }

    /// Its exit status if it exits within `within` (polled: the process gives no other event).
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Send `signal` (`STOP`, `CONT`): a node frozen is a node cut off from Redis.
    pub fn signal(&self, signal: &str) {
        send_signal(&self.child, signal);
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// Wait until the node has read the stream up to its end (its log says so): before that,
    /// its accounts are still its credentials.txt's and a command that writes may meet a link
    /// to Redis not yet up.
    pub fn wait_caught_up(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while !self.log().contains(" caught up at stream entry ") {
            assert!(
                std::time::Instant::now() < deadline,
                "node {} never caught up:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("---- node {} log ----\n{}", self.name, self.log());
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn spawn(
    dir: &Path,
    url: &str,
    name: &str,
    args: &[&str],
) -> (Child, SocketAddr, SocketAddr, SocketAddr) {
    let log = fs::File::create(dir.join("server.log")).expect("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .current_dir(dir)
        .env("RUST_LOG", "info")
        .args(["--bind", "127.0.0.1", "--json-port", "0", "--irc-port", "0"])
        .args(["--cluster", url, "--node-id", name])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--credentials")
        .arg(dir.join("credentials.txt"))
        .arg("0")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn chatserver");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut addrs = Vec::new();
    for _ in 0..3 {
        let mut l = String::new();
        let _ = out.read_line(&mut l);
        match l
            .trim_end()
            .rsplit_once(" on ")
            .and_then(|(_, a)| a.parse().ok())
        {
            Some(a) => addrs.push(a),
            None => {
                let _ = child.kill();
                let log = fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                panic!("node {name} did not start: {l:?}\n{log}");
            }
        }
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, addrs[0], addrs[1], addrs[2])
}

/// `kill -s SIGNAL` to a child still running (a Redis's or a node's).
fn send_signal(child: &Option<Child>, signal: &str) {
    if let Some(c) = child {
        let status = std::process::Command::new("kill")
            .args(["-s", signal, &c.id().to_string()])
            .status();
        assert!(status.is_ok_and(|s| s.success()), "kill -s {signal}");
    }
}
