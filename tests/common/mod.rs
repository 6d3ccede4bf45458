//! End-to-end test helpers: run the real `chatserver` binary on an ephemeral port in its own
//! temporary directory, and talk to it over TCP with exact-byte expectations (prompts such as
//! `Username: ` carry no newline, so `expect` compares bytes, not lines).
#![allow(dead_code)]

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The repository's sample accounts (credentials.txt), the COMP3331 starting set.
pub const SAMPLE_CREDENTIALS: &str =
    "hans falcon*solo\nyoda wise\nvader sithlord**\nr2d2 c3po\nluke jedi\n";

pub const WELCOME: &str = "Welcome to the greatest messaging application ever!\n";

/// How long any single expectation waits before failing.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A running `chatserver` child process with its own directory; killed and removed on drop.
pub struct Server {
    child: Option<Child>,
    dir: PathBuf,
    addr: SocketAddr,
    /// Everything after the fixed `--bind/--credentials/--data-dir` prefix, port `0` first.
    args: Vec<String>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique_dir() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "chatserver-test-{}-{n}-{nanos}",
        std::process::id()
    ))
}

impl Server {
    /// Start with the sample accounts. `args` follow the port (`0`): optionally
    /// `BLOCK_DURATION` and `TIMEOUT`, then any options, e.g. `&["1", "2", "--no-register"]`.
    pub fn start(args: &[&str]) -> Server {
        Server::start_with_credentials("", args)
    }

    /// As [`Server::start`], with `extra` appended to the sample credentials.txt.
    pub fn start_with_credentials(extra: &str, args: &[&str]) -> Server {
        let dir = unique_dir();
        fs::create_dir_all(&dir).expect("create test directory");
        fs::write(
            dir.join("credentials.txt"),
            format!("{SAMPLE_CREDENTIALS}{extra}"),
        )
        .expect("write credentials.txt");
        let mut all = vec!["0".to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        let (child, addr) = spawn(&dir, &all);
        Server {
            child: Some(child),
            dir,
            addr,
            args: all,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's process id (to count its descriptors in /proc).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The server's working directory (credentials.txt, data/, server.log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A new connection to this server (nothing read yet).
    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// A new connection, logged in as `user` through the dialog, welcome line consumed.
    pub fn login(&self, user: &str, password: &str) -> Client {
        let mut c = self.connect();
        c.login(user, password);
        c
    }

    /// Log `accounts` in one after another; each earlier user must see `<user> logged in` for
    /// every later one (no blocks in place). Returns the clients in the same order.
    pub fn login_all<const N: usize>(&self, accounts: [(&str, &str); N]) -> [Client; N] {
        let mut clients: Vec<Client> = Vec::with_capacity(N);
        for (user, password) in accounts {
            let c = self.login(user, password);
            for earlier in clients.iter_mut() {
                earlier.expect(&format!("{user} logged in\n"));
            }
            clients.push(c);
        }
        match clients.try_into() {
            Ok(all) => all,
            Err(_) => unreachable!("exactly N clients were pushed"),
        }
    }

    /// SIGKILL the server (no graceful shutdown) and wait for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kill the server if running and start it again on the same directory and arguments.
    /// The port is new: use `addr()` again.
    pub fn restart(&mut self) {
        self.kill();
        let (child, addr) = spawn(&self.dir, &self.args);
        self.child = Some(child);
        self.addr = addr;
    }

    /// Kill the server if running, wait `down_for`, and start it again on the same directory,
    /// arguments and port, where reconnecting clients look for it (the port came from binding
    /// port 0; the server binds with SO_REUSEADDR, so the old connections do not hold it).
    pub fn restart_on_same_port(&mut self, down_for: Duration) {
        self.kill();
        std::thread::sleep(down_for);
        let mut args = self.args.clone();
        args[0] = self.addr.port().to_string();
        let (child, addr) = spawn(&self.dir, &args);
        self.child = Some(child);
        self.addr = addr;
    }

    /// The server's stderr so far (logged at `info`).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- chatserver log ({}) ----\n{}",
                self.dir.display(),
                self.log()
            );
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The server binary under test: this build's, or the one `CHATSERVER_BIN` names, so that the
/// same tests can be run against another build of it (dist/small-build.sh runs them against the
/// small embedded build).
fn server_binary() -> PathBuf {
    std::env::var_os("CHATSERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_chatserver")))
}

/// Spawn the binary in `dir` and read the port from its first stdout line.
fn spawn(dir: &Path, args: &[String]) -> (Child, SocketAddr) {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .expect("open server.log");
    let mut child = Command::new(server_binary())
        .current_dir(dir)
        .env("RUST_LOG", "info")
        .arg("--bind")
        .arg("127.0.0.1")
        .arg("--credentials")
        .arg(dir.join("credentials.txt"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn chatserver");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    let _ = stdout.read_line(&mut first);
    let addr = first
        .trim_end()
        .strip_prefix("chatserver listening on ")
        .and_then(|a| a.parse().ok());
    let Some(addr) = addr else {
        let _ = child.kill();
        let _ = child.wait();
        let log = fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        panic!("chatserver {args:?} did not start: first line {first:?}\n{log}");
    };
    // Keep the pipe drained so the child can never block on a full stdout.
    std::thread::spawn(move || io::copy(&mut stdout, &mut io::sink()));
    (child, addr)
}

/// One raw TCP client, or a TLS one over TCP (`connect_tls`). Reads are buffered here, so an
/// expectation never eats the next one's bytes.
pub struct Client {
    stream: TcpStream,
    /// The client side of TLS when the connection speaks it (issue 18): every expectation
    /// below then reads and writes plaintext through it.
    #[cfg(feature = "tls")]
    tls: Option<Box<rustls::ClientConnection>>,
    /// Received but not yet expected.
    pending: Vec<u8>,
    /// For failure messages: the user once logged in, else the local port.
    pub name: String,
}

fn show(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        Client::from_stream(TcpStream::connect(addr).expect("connect to chatserver"))
    }

    /// Wrap a stream connected elsewhere (for example by a helper thread).
    pub fn from_stream(stream: TcpStream) -> Client {
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        let name = format!("client:{}", stream.local_addr().unwrap().port());
        Client {
            stream,
            #[cfg(feature = "tls")]
            tls: None,
            pending: Vec::new(),
            name,
        }
    }

    /// A TLS connection to `addr` verified with `config` as `localhost` (the handshake runs
    /// with the first read or write).
    #[cfg(feature = "tls")]
    pub fn connect_tls(addr: SocketAddr, config: std::sync::Arc<rustls::ClientConfig>) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to chatserver");
        Client::tls_over(stream, config)
    }

    /// TLS over a stream connected elsewhere (e.g. with a small receive window).
    #[cfg(feature = "tls")]
    pub fn tls_over(stream: TcpStream, config: std::sync::Arc<rustls::ClientConfig>) -> Client {
        let mut c = Client::from_stream(stream);
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        c.tls = Some(Box::new(
            rustls::ClientConnection::new(config, name).unwrap(),
        ));
        c
    }

    /// Read plaintext: through TLS when the connection speaks it.
    fn read_some(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.as_mut() {
            return match rustls::Stream::new(&mut **tls, &mut self.stream).read(buf) {
                // Closed without a close_notify: an end like any other here.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                other => other,
            };
        }
        self.stream.read(buf)
    }

    /// The socket (to clone a writer for another thread).
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Send one line (a `\n` is appended).
    pub fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\n").as_bytes());
    }

    /// Send bytes exactly as given.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.as_mut() {
            return rustls::Stream::new(&mut **tls, &mut self.stream)
                .write_all(bytes)
                .unwrap_or_else(|e| panic!("{}: TLS write failed: {e}", self.name));
        }
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("{}: write failed: {e}", self.name));
    }

    /// Half-close: no more input from this client; replies can still arrive.
    pub fn shutdown_write(&mut self) {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.as_mut() {
            tls.send_close_notify();
            let _ = rustls::Stream::new(&mut **tls, &mut self.stream).flush();
        }
        self.stream.shutdown(Shutdown::Write).unwrap();
    }

    /// Whether exactly `buf.len()` bytes arrive within `wait` (they are consumed into `buf`).
    pub fn try_read_exact(&mut self, buf: &mut [u8], wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while self.pending.len() < buf.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.fill() {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        self.stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        if self.pending.len() < buf.len() {
            return false;
        }
        buf.copy_from_slice(&self.pending[..buf.len()]);
        self.pending.drain(..buf.len());
        true
    }

    /// Read once into `pending`; `Ok(0)` on EOF.
    fn fill(&mut self) -> io::Result<usize> {
        let mut buf = [0u8; 16 * 1024];
        // A signal to this test process (EINTR) is no answer from the server: read again.
        let n = loop {
            match self.read_some(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        self.pending.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    /// The next bytes must be exactly `want`. Fails as soon as they diverge.
    #[track_caller]
    pub fn expect(&mut self, want: &str) {
        let want = want.as_bytes();
        loop {
            let n = self.pending.len().min(want.len());
            if self.pending[..n] != want[..n] {
                panic!(
                    "{}: expected {}, got {}",
                    self.name,
                    show(want),
                    show(&self.pending)
                );
            }
            if n == want.len() {
                self.pending.drain(..n);
                return;
            }
            match self.fill() {
                Ok(0) => panic!(
                    "{}: expected {}, got {} then the connection closed",
                    self.name,
                    show(want),
                    show(&self.pending)
                ),
                Ok(_) => {}
                Err(e) => panic!(
                    "{}: expected {}, got {} then {e}",
                    self.name,
                    show(want),
                    show(&self.pending)
                ),
            }
        }
    }

    /// Accept `from`'s private-session request (`y <from>`), this client having registered a
    /// peer-to-peer port: returns the token of the `P2P-ACCEPT` line that follows.
    #[track_caller]
    pub fn accept_private(&mut self, from: &str) -> String {
        self.expect(&format!(
            "{from} would like to start a private session. Type 'y {from}' to accept or 'n {from}' to decline\n"
        ));
        self.send(&format!("y {from}"));
        self.expect(&format!("Start private messaging with {from}\n"));
        let line = self.expect_line();
        line.strip_prefix(&format!("P2P-ACCEPT {from} "))
            .unwrap_or_else(|| panic!("{}: expected P2P-ACCEPT, got {line:?}", self.name))
            .to_string()
    }

    /// The next complete line, without its `\n`.
    #[track_caller]
    pub fn expect_line(&mut self) -> String {
        loop {
            if let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=i).collect();
                return String::from_utf8_lossy(&line[..i]).into_owned();
            }
            match self.fill() {
                Ok(0) => panic!(
                    "{}: expected a line, got {} then the connection closed",
                    self.name,
                    show(&self.pending)
                ),
                Ok(_) => {}
                Err(e) => panic!(
                    "{}: expected a line, got {} then {e}",
                    self.name,
                    show(&self.pending)
                ),
            }
        }
    }

    /// The next complete line without its `\n`, or `None` if the server closes first
    /// (a partial line before the close is discarded).
    #[track_caller]
    pub fn expect_line_or_closed(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=i).collect();
                return Some(String::from_utf8_lossy(&line[..i]).into_owned());
            }
            match self.fill() {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!(
                    "{}: expected a line, got {} then {e}",
                    self.name,
                    show(&self.pending)
                ),
            }
        }
    }

    /// The server closes the connection (EOF or reset) with nothing more sent.
    #[track_caller]
    pub fn expect_closed(&mut self) {
        loop {
            if !self.pending.is_empty() {
                panic!(
                    "{}: expected the connection to close, got {}",
                    self.name,
                    show(&self.pending)
                );
            }
            match self.fill() {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return,
                Err(e) => panic!("{}: expected the connection to close, got {e}", self.name),
            }
        }
    }

    /// Read and discard until the server closes; returns how many bytes were discarded.
    #[track_caller]
    pub fn drain_until_closed(&mut self) -> usize {
        let mut total = std::mem::take(&mut self.pending).len();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match self.read_some(&mut buf) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return total,
                Err(e) => panic!("{}: expected the connection to close, got {e}", self.name),
            }
        }
    }

    /// Nothing arrives for `ms` milliseconds. Proves an absence, so use sparingly: prefer
    /// expecting the next line that must come after the absent one.
    #[track_caller]
    pub fn expect_silence(&mut self, ms: u64) {
        if !self.pending.is_empty() {
            panic!(
                "{}: expected silence, got {}",
                self.name,
                show(&self.pending)
            );
        }
        let deadline = Instant::now() + Duration::from_millis(ms);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.fill() {
                Ok(0) => panic!("{}: expected silence, the connection closed", self.name),
                Ok(_) => panic!(
                    "{}: expected silence, got {}",
                    self.name,
                    show(&self.pending)
                ),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("{}: expected silence, got {e}", self.name),
            }
        }
        self.stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    }

    /// The interactive dialog from a fresh connection: `Username: `, `Password: `, welcome.
    #[track_caller]
    pub fn login(&mut self, user: &str, password: &str) {
        self.expect("Username: ");
        self.send(user);
        self.expect("Password: ");
        self.send(password);
        self.expect(WELCOME);
        self.name = user.to_string();
    }
}

/// Sleep until `deadline` (no-op if it has passed).
/// The first connection to `listener` within `wait` (a client's dial to a peer-to-peer port),
/// blocking with reads timing out after [`READ_TIMEOUT`].
#[track_caller]
pub fn accept_within(listener: &std::net::TcpListener, wait: Duration) -> TcpStream {
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + wait;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).expect("blocking");
                stream
                    .set_read_timeout(Some(READ_TIMEOUT))
                    .expect("timeout");
                return stream;
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("nobody dialed within {wait:?}: {e}"),
        }
    }
}

pub fn sleep_until(deadline: Instant) {
    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
}
