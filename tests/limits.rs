//! Running out of things: file descriptors, and a client that floods binary junk. The server
//! must degrade for the one connection at fault and keep serving everyone else.

mod common;

use common::{Client, SAMPLE_CREDENTIALS, WELCOME};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The real binary under `ulimit -n <fds>`, in its own directory; killed on drop.
struct Limited {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Limited {
    fn start(fds: u32) -> Limited {
        let dir =
            std::env::temp_dir().join(format!("chatserver-limits-{}-{fds}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create dir");
        std::fs::write(dir.join("credentials.txt"), SAMPLE_CREDENTIALS).expect("credentials");
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(format!("ulimit -n {fds} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_chatserver"))
            .args(["--bind", "127.0.0.1", "--data-dir", "data", "0"])
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chatserver under bash");
        let mut first = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("read first line");
        let addr = first
            .trim_end()
            .strip_prefix("chatserver listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("did not start: {first:?}"));
        Limited { child, dir, addr }
    }
}

impl Drop for Limited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// With only 16 descriptors, connections beyond what fits wait in the kernel's backlog instead
/// of being lost or crashing the server; when one connection closes, a waiting one is accepted
/// and greeted (the loop retries `accept` itself: no new connect is needed to wake it).
#[test]
fn descriptor_exhaustion_pauses_accept_and_resumes_when_one_closes() {
    let server = Limited::start(16);
    let mut greeted = Vec::new();
    let mut waiting = Vec::new();
    for _ in 0..16 {
        let mut c = Client::connect(server.addr);
        let mut buf = [0u8; 10];
        if c.try_read_exact(&mut buf, Duration::from_millis(300)) {
            assert_eq!(&buf, b"Username: ");
            greeted.push(c);
        } else {
            waiting.push(c);
        }
    }
    assert!(!greeted.is_empty(), "some connections were served");
    assert!(
        !waiting.is_empty(),
        "16 descriptors cannot hold 16 clients plus the server's own"
    );
    // The served ones work normally.
    greeted[0].send("yoda");
    greeted[0].expect("Password: ");
    greeted[0].send("wise");
    greeted[0].expect(WELCOME);
    // Free a descriptor: the oldest waiting client is now greeted.
    greeted.pop();
    let mut buf = [0u8; 10];
    assert!(
        waiting[0].try_read_exact(&mut buf, Duration::from_secs(5)),
        "a waiting client was accepted after a descriptor was freed"
    );
    assert_eq!(&buf, b"Username: ");
}

/// A client that pours megabytes of binary junk with no newline gets one
/// `Error. Line too long` (and its prompt again) and nothing else; a user logging in and chatting meanwhile is served.
#[test]
fn binary_flood_is_contained_to_its_connection() {
    let server = common::Server::start(&[]);
    let mut flooder = server.connect();
    flooder.expect("Username: ");
    let addr = server.addr();
    let junk: Vec<u8> = (0..1_000_000u32)
        .map(|i| (i * 7 + 3) as u8 | 0x80)
        .collect();
    let writer = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        for _ in 0..8 {
            if s.write_all(&junk).is_err() {
                break;
            }
        }
        s
    });
    let mut yoda = server.login("yoda", "wise");
    let mut hans = server.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
    hans.send("message yoda still here");
    yoda.expect("hans: still here\n");
    let junk_conn = writer.join().expect("writer thread");
    let mut reader = Client::from_stream(junk_conn);
    reader.expect("Username: ");
    reader.expect("Error. Line too long\nUsername: ");
    reader.send_raw(b"\n");
    reader.send("yoda");
    reader.expect("Error. yoda is already logged in\nUsername: ");
    drop(flooder);
}
