//! Helpers for the `chatclient` tests: a scripted fake server (a std listener on 127.0.0.1:0 that
//! plays the server's lines) and a real `chatclient` child process with piped stdin and stdout.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long any single expectation waits before failing.
pub const WAIT: Duration = Duration::from_secs(5);

pub const WELCOME: &str = "Welcome to the greatest messaging application ever!\n";

/// A 32-hex-character token, as the server would make.
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// The fake server's listening socket.
pub struct FakeServer {
    listener: TcpListener,
}

impl FakeServer {
    pub fn new() -> FakeServer {
        FakeServer {
            listener: TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("local_addr")
    }

    /// The next connection from the client; panics if none comes within [`WAIT`].
    pub fn accept(&self) -> Conn {
        self.accept_within(WAIT)
    }

    /// The next connection from the client; panics if none comes within `wait`.
    pub fn accept_within(&self, wait: Duration) -> Conn {
        self.listener.set_nonblocking(true).expect("nonblocking");
        let deadline = Instant::now() + wait;
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).expect("blocking");
                    return Conn::new(stream);
                }
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline =>
                {
                    thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("no connection to the fake server: {e}"),
            }
        }
    }
}

/// One TCP connection seen from the test side, read line by line with a timeout.
pub struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    pub fn new(stream: TcpStream) -> Conn {
        stream.set_read_timeout(Some(WAIT)).expect("timeout");
        Conn {
            reader: BufReader::new(stream),
        }
    }

    pub fn connect(addr: SocketAddr) -> Conn {
        Conn::new(TcpStream::connect(addr).expect("connect"))
    }

    pub fn send(&mut self, text: &str) {
        self.send_bytes(text.as_bytes());
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("send");
    }

    /// The next line, without its newline; `None` at EOF or timeout.
    pub fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches('\n').to_string()),
        }
    }

    pub fn expect(&mut self, want: &str) {
        assert_eq!(self.line().as_deref(), Some(want));
    }

    /// Wait up to `wait` for the peer to close; `true` if it did (EOF or reset).
    pub fn closed_within(&mut self, wait: Duration) -> bool {
        self.reader
            .get_ref()
            .set_read_timeout(Some(wait))
            .expect("timeout");
        let mut buf = [0u8; 256];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}

/// A running `chatclient`; its stdout is collected by a thread. Killed on drop.
pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<Vec<u8>>>,
    /// The thread collecting stdout; joined once the child has exited, so `output()` then
    /// holds everything it printed.
    reader: Option<thread::JoinHandle<()>>,
}

impl Client {
    pub fn spawn(server: SocketAddr, extra: &[&str]) -> Client {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chatclient"));
        command
            .args(extra)
            .arg(server.ip().to_string())
            .arg(server.port().to_string());
        Client::spawn_command(command)
    }

    /// Run `command` (a chatclient, or something that runs one) with piped stdin and stdout.
    pub fn spawn_command(mut command: Command) -> Client {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn chatclient");
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().expect("stdout");
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&out);
        let reader = thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("lock").extend_from_slice(&buf[..n]);
            }
        });
        Client {
            child,
            stdin,
            out,
            reader: Some(reader),
        }
    }

    /// Stop (`STOP`) or resume (`CONT`) the client process, to hold its reads while several
    /// sockets fill.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal}");
    }

    /// Log in through a real server's dialog: the prompts, then its welcome.
    /// How many file descriptors the client process has open: a test waits for a link's
    /// socket to be closed by watching this fall, instead of sleeping and hoping.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|dir| dir.count())
            .unwrap_or(0)
    }

    /// Wait (up to `WAIT`) until the client has fewer than `before` descriptors open.
    pub fn wait_fds_below(&self, before: usize) {
        let start = Instant::now();
        while self.open_fds() >= before {
            assert!(
                start.elapsed() < WAIT,
                "the client still has {} descriptors open",
                self.open_fds()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn log_in(&mut self, user: &str, password: &str) {
        self.wait_for("Username: ");
        self.type_line(user);
        self.wait_for("Password: ");
        self.type_line(password);
        self.wait_for(WELCOME);
    }

    pub fn type_line(&mut self, line: &str) {
        self.type_bytes(format!("{line}\n").as_bytes());
    }

    /// Type raw bytes, with no newline added (a Ctrl-C is `\x03` on a terminal).
    pub fn type_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("type");
        stdin.flush().expect("flush");
    }

    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().expect("lock")).into_owned()
    }

    /// Wait until stdout contains `want`; panics with the output so far if it does not.
    pub fn wait_for(&self, want: &str) {
        self.wait_for_nth_within(want, 1, WAIT);
    }

    /// Wait until stdout contains `want` at least `n` times.
    pub fn wait_for_nth(&self, want: &str, n: usize) {
        self.wait_for_nth_within(want, n, WAIT);
    }

    /// Wait up to `wait` until stdout contains `want` at least `n` times.
    pub fn wait_for_nth_within(&self, want: &str, n: usize, wait: Duration) {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if self.count(want) >= n {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!("fewer than {n} {want:?} in output:\n{}", self.output());
    }

    pub fn count(&self, want: &str) -> usize {
        self.output().matches(want).count()
    }

    pub fn exit_within(&mut self, wait: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return Some(status);
            }
            thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Log `user` in through the fake server: the prompts, the welcome, then the client's
/// `p2p-port N`. Returns the server side of the connection and the client's p2p port.
pub fn login(server: &FakeServer, client: &mut Client, user: &str) -> (Conn, u16) {
    let mut conn = server.accept();
    conn.send("Username: ");
    client.wait_for("Username: ");
    client.type_line(user);
    conn.expect(user);
    conn.send("Password: ");
    client.wait_for("Password: ");
    client.type_line("pw");
    conn.expect("pw");
    conn.send(WELCOME);
    let line = conn.line().expect("p2p-port line");
    let port = line
        .strip_prefix("p2p-port ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("expected p2p-port N, got {line:?}"));
    (conn, port)
}

/// Two logged-in clients, alice and bob, joined by a link made the way the server would: alice
/// types `startprivate bob`, bob `y alice`; then `P2P-ACCEPT alice TOKEN` to bob (the acceptor)
/// and `P2P bob 127.0.0.1 <port> TOKEN` to alice.
pub struct Pair {
    pub server: FakeServer,
    pub alice: Client,
    pub alice_conn: Conn,
    pub bob: Client,
    pub bob_conn: Conn,
    /// Bob's peer-to-peer port.
    pub bob_port: u16,
}

impl Pair {
    pub fn new() -> Pair {
        let server = FakeServer::new();
        let mut alice = Client::spawn(server.addr(), &[]);
        let (mut alice_conn, _) = login(&server, &mut alice, "alice");
        let mut bob = Client::spawn(server.addr(), &[]);
        let (mut bob_conn, bob_port) = login(&server, &mut bob, "bob");
        alice.type_line("startprivate bob");
        alice_conn.expect("startprivate bob");
        bob.type_line("y alice");
        bob_conn.expect("y alice");
        // A shown line after each machine line tells when the client has taken it.
        bob_conn.send(&format!("P2P-ACCEPT alice {TOKEN}\nsentinel-bob\n"));
        bob.wait_for("sentinel-bob\n");
        alice_conn.send(&format!(
            "P2P bob 127.0.0.1 {bob_port} {TOKEN}\nsentinel-alice\n"
        ));
        alice.wait_for("sentinel-alice\n");
        let mut pair = Pair {
            server,
            alice,
            alice_conn,
            bob,
            bob_conn,
            bob_port,
        };
        // The link is up once a message crosses it.
        pair.alice.type_line("private bob ping");
        pair.bob.wait_for("alice(private): ping\n");
        pair
    }
}

/// One logged-in client with its fake server: the setup most single-client tests share.
pub struct Solo {
    pub server: FakeServer,
    pub client: Client,
    pub conn: Conn,
    /// The client's peer-to-peer port, from its `p2p-port N`.
    pub port: u16,
}

impl Solo {
    pub fn new(user: &str, extra: &[&str]) -> Solo {
        let server = FakeServer::new();
        let mut client = Client::spawn(server.addr(), extra);
        let (conn, port) = login(&server, &mut client, user);
        Solo {
            server,
            client,
            conn,
            port,
        }
    }

    /// The user accepts `peer`'s request (`y <peer>`, read here as the server would).
    pub fn accept(&mut self, peer: &str) {
        self.client.type_line(&format!("y {peer}"));
        self.conn.expect(&format!("y {peer}"));
    }

    /// The user asks `peer` for a private session (`startprivate <peer>`, read here).
    pub fn ask(&mut self, peer: &str) {
        self.client.type_line(&format!("startprivate {peer}"));
        self.conn.expect(&format!("startprivate {peer}"));
    }

    /// Send the client a server line followed by a sentinel line, and wait until it has shown
    /// the sentinel: the line before it has then been acted on or shown.
    pub fn send_and_settle(&mut self, line: &str) {
        let seen = self.client.count("sentinel\n");
        self.conn.send(&format!("{line}\nsentinel\n"));
        self.client.wait_for_nth("sentinel\n", seen + 1);
    }

    /// Accept `peer`, then tell the client to expect its link with `token` (as the server
    /// would), and wait until the client has read that.
    pub fn expect_link_with(&mut self, peer: &str, token: &str) {
        self.accept(peer);
        self.send_and_settle(&format!("P2P-ACCEPT {peer} {token}"));
    }

    /// [`Solo::expect_link_with`] the shared [`TOKEN`].
    pub fn expect_link_from(&mut self, peer: &str) {
        self.expect_link_with(peer, TOKEN);
    }

    /// Open a connection to the client's peer-to-peer port.
    pub fn dial(&self) -> Conn {
        Conn::connect(([127, 0, 0, 1], self.port).into())
    }
}
