//! Reliability under faults (issue 8), end to end against the real binary.

mod common;

use common::{Client, Server, WELCOME};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The index in `yoda: NNNN-xxx…` lines.
fn index_of(line: &str) -> usize {
    let body = line
        .strip_prefix("yoda: ")
        .unwrap_or_else(|| panic!("{line:?}"));
    body[..4].parse().unwrap_or_else(|_| panic!("{line:?}"))
}

fn text_for(i: usize) -> String {
    format!("{i:04}-{}", "x".repeat(4000))
}

/// Everything the (killed) server's kernel had accepted, up to the end of the stream.
fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut all = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return all,
        }
    }
}

/// 1000 × 4 KB queued for luke; luke logs in with a small receive buffer and does not read;
/// `kill -9`. A message is recorded delivered only once the kernel took all of it, so what the
/// old socket carried plus what the next login hands out is every message, in order (the tail
/// of the first part may come again).
#[test]
fn offline_messages_survive_kill_9_while_the_recipient_reads_slowly() {
    const N: usize = 1000;
    let mut server = Server::start(&["--max-output", "4194304"]);
    let mut yoda = server.login("yoda", "wise");
    for i in 0..N {
        yoda.send(&format!("message luke {}", text_for(i)));
    }
    yoda.send("message yoda sync");
    yoda.expect("Error. Cannot message self\n");

    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket.connect(&server.addr().into()).expect("connect");
    let mut old: TcpStream = socket.into();
    old.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    // The dialog read byte-exactly, so nothing after the welcome is consumed.
    for (want, answer) in [("Username: ", "luke\n"), ("Password: ", "jedi\n")] {
        let mut got = vec![0; want.len()];
        old.read_exact(&mut got).expect("prompt");
        assert_eq!(got, want.as_bytes());
        old.write_all(answer.as_bytes()).expect("answer");
    }
    let mut got = vec![0; WELCOME.len()];
    old.read_exact(&mut got).expect("welcome");
    assert_eq!(got, WELCOME.as_bytes());
    std::thread::sleep(Duration::from_secs(1));
    server.kill();
    let first = read_to_end(&mut old);
    let first = String::from_utf8_lossy(&first);
    // Complete lines only: the last one may be cut.
    let got: Vec<usize> = first
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| index_of(l.trim_end_matches('\n')))
        .collect();
    assert_eq!(got, (0..got.len()).collect::<Vec<_>>(), "in order");
    assert!(
        got.len() < N,
        "the slow reader did not get everything before the kill"
    );

    server.restart();
    let mut luke = server.login("luke", "jedi");
    let line = luke.expect_line();
    let start = index_of(&line);
    assert!(
        start <= got.len(),
        "messages {}..{start} were lost (the first connection got {})",
        got.len(),
        got.len()
    );
    let mut next = start + 1;
    while next < N {
        let line = luke.expect_line();
        assert_eq!(index_of(&line), next, "in order");
        assert_eq!(line, format!("yoda: {}", text_for(next)));
        next += 1;
    }
    luke.expect_silence(200);
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid}");
}

/// Log in `n` fresh accounts `u0..` by registration (their output is never read).
fn crowd(server: &Server, n: usize) -> Vec<Client> {
    (0..n)
        .map(|i| {
            let mut c = server.connect();
            c.expect("Username: ");
            c.send(&format!("register u{i} pw"));
            c.expect(WELCOME);
            c
        })
        .collect()
}

/// Pipelining commands with large replies, read as fast as possible, is not a slow reader:
/// the server stops reading the connection while its replies pile up, instead of queueing
/// them past the output cap.
#[test]
fn pipelined_commands_with_large_replies_are_not_punished() {
    const USERS: usize = 200;
    const COMMANDS: usize = 10_000;
    let server = Server::start(&["--no-presence"]);
    let _crowd = crowd(&server, USERS);
    let mut hans = server.login("hans", "falcon*solo");
    // Stopped while the commands arrive, the server finds a socket buffer full of them.
    let pid = server.pid().expect("pid");
    signal(pid, "-STOP");
    let mut writer = hans.stream().try_clone().expect("clone");
    let sender = std::thread::spawn(move || {
        let all = "whoelse\n".repeat(COMMANDS);
        writer.write_all(all.as_bytes())
    });
    std::thread::sleep(Duration::from_millis(300));
    signal(pid, "-CONT");
    // A steady reader, a little slower than the server writes: it drains, so it is no slow
    // reader, but it cannot take a whole iteration's replies at once.
    let mut reader = hans.stream().try_clone().expect("clone");
    let (mut lines, mut buf) = (0, vec![0; 16 * 1024]);
    while lines < COMMANDS * USERS {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => panic!("disconnected after {lines} lines"),
            Ok(n) => lines += buf[..n].iter().filter(|&&b| b == b'\n').count(),
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    sender.join().expect("sender").expect("all commands sent");
    hans.send("whoelse");
    assert_eq!(hans.expect_line(), "u0");
}

/// Thousands of cheap pipelined commands are read a bounded number per iteration: another
/// client's command is answered after at most a few hundred of them, not after all. The server
/// is stopped while both arrive, so both are waiting when it goes on.
#[test]
fn a_flood_of_cheap_commands_does_not_stall_others() {
    const FLOOD: usize = 20_000;
    let server = Server::start(&["--no-presence"]);
    let mut yoda = server.login("yoda", "wise");
    let hans = server.login("hans", "falcon*solo");
    let pid = server.pid().expect("pid");
    signal(pid, "-STOP");
    let mut writer = hans.stream().try_clone().expect("clone");
    let sender = std::thread::spawn(move || {
        let all = "broadcast x\n".repeat(FLOOD);
        writer.write_all(all.as_bytes())
    });
    std::thread::sleep(Duration::from_millis(300));
    yoda.send("whoelse");
    std::thread::sleep(Duration::from_millis(100));
    signal(pid, "-CONT");
    let mut before = 0;
    loop {
        let line = yoda.expect_line();
        if line == "hans" {
            break;
        }
        assert_eq!(line, "hans: x");
        before += 1;
    }
    assert!(before < 1000, "{before} flood commands were served first");
    for _ in before..FLOOD {
        assert_eq!(yoda.expect_line(), "hans: x");
    }
    sender.join().expect("sender").expect("flood sent");
}

/// `--max-per-ip`: one connection too many from an address is told why and closed; others
/// from it keep working, and a freed place is taken again.
#[test]
fn connections_per_address_are_limited() {
    let server = Server::start(&["--max-per-ip", "2"]);
    let mut a = server.connect();
    a.expect("Username: ");
    let mut b = server.connect();
    b.expect("Username: ");
    let mut c = server.connect();
    c.expect("Error. Too many connections from your address\n");
    c.expect_closed();
    drop(a);
    // The server notices the close on its next iteration: retry until the place is free.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let mut d = server.connect();
        let mut buf = [0u8; 10];
        if d.try_read_exact(&mut buf, Duration::from_secs(1)) && &buf == b"Username: " {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "place never freed");
    }
    b.send("yoda");
    b.expect("Password: ");
}

/// A flood of commands is slowed, not dropped: after its burst a connection is served a
/// bounded number of commands a second, and everyone else sees no delay.
#[test]
fn a_command_flood_is_slowed_not_dropped() {
    let server = Server::start(&["--no-presence"]);
    let mut yoda = server.login("yoda", "wise");
    let mut hans = server.login("hans", "falcon*solo");
    // 30000 commands: 20000 in the burst (10 s of penalty), the rest at 2000 a second.
    let mut writer = hans.stream().try_clone().expect("clone");
    let sender =
        std::thread::spawn(move || writer.write_all("whoelse\n".repeat(30_000).as_bytes()));
    let started = std::time::Instant::now();
    for _ in 0..20_000 {
        assert_eq!(hans.expect_line(), "yoda");
    }
    yoda.send("whoelse");
    assert_eq!(yoda.expect_line(), "hans", "others are served meanwhile");
    for _ in 20_000..30_000 {
        assert_eq!(hans.expect_line(), "yoda");
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(4), "not slowed: {took:?}");
    sender.join().expect("sender").expect("sent");
}

/// A logged-in client with a 4 KiB receive buffer, so what it does not read piles up in the
/// server rather than in the kernel.
fn small_window_login(server: &Server, user: &str, password: &str) -> Client {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket.connect(&server.addr().into()).expect("connect");
    let mut c = Client::from_stream(socket.into());
    c.login(user, password);
    c
}

/// Read until `marker` has arrived (`true`) or the server closed the connection (`false`).
fn read_until(stream: &TcpStream, marker: &[u8]) -> bool {
    let mut stream = stream.try_clone().expect("clone");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let (mut tail, mut buf) = (Vec::new(), vec![0; 64 * 1024]);
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => {
                tail.extend_from_slice(&buf[..n]);
                if tail.windows(marker.len()).any(|w| w == marker) {
                    return true;
                }
                let keep = tail.len().saturating_sub(marker.len());
                tail.drain(..keep);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return false,
            Err(e) => panic!("neither {marker:?} nor the end arrived: {e}"),
        }
    }
}

/// yoda broadcasts 1,500 lines of 4 KB (6 MB for each recipient) to three users who never read
/// and to luke, who reads; `--max-output` is 8 MiB, so no single queue reaches its own cap.
/// Returns the server, how many of the three were cut, and whether luke still gets a reply.
fn flood_past_three_sleepers(max_output_total: &str) -> (Server, usize, bool) {
    let server = Server::start(&[
        "--no-presence",
        "--max-output",
        "8388608",
        "--max-output-total",
        max_output_total,
    ]);
    let sleepers = [
        ("hans", "falcon*solo"),
        ("vader", "sithlord**"),
        ("r2d2", "c3po"),
    ]
    .map(|(user, password)| small_window_login(&server, user, password));
    let mut luke = server.login("luke", "jedi");
    let yoda = server.login("yoda", "wise");
    let mut writer = yoda.stream().try_clone().expect("clone");
    let sender = std::thread::spawn(move || {
        let line = format!("broadcast {}\n", "x".repeat(4000));
        for _ in 0..1500 {
            writer.write_all(line.as_bytes())?;
        }
        writer.write_all(b"broadcast end\n")
    });
    assert!(read_until(luke.stream(), b"yoda: end\n"), "luke was cut");
    sender.join().expect("sender").expect("flood sent");
    let cut = sleepers
        .iter()
        .filter(|s| !read_until(s.stream(), b"yoda: end\n"))
        .count();
    luke.send("whoelse");
    let answered = luke.expect_line_or_closed().is_some();
    (server, cut, answered)
}

/// `--max-output-total`: once the output queued for all connections together passes it, the
/// largest queues are cut as slow readers (the biggest first, only as many as needed), and a
/// client that reads goes on. The same load under a larger budget cuts nobody.
#[test]
fn over_the_global_output_budget_the_largest_queues_are_cut() {
    let (server, cut, answered) = flood_past_three_sleepers("8388608");
    assert!(answered, "luke still served");
    assert!((1..3).contains(&cut), "{cut} of 3 cut");
    assert!(server.log().contains("over --max-output-total"));

    let (server, cut, answered) = flood_past_three_sleepers("67108864");
    assert!(answered);
    assert_eq!(cut, 0, "under the budget nobody is cut");
    assert!(!server.log().contains("--max-output-total"));
}
