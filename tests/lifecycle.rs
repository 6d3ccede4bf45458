//! A connection's end and the server's: a peer that never reads is dropped at its closing
//! deadline, and a requested shutdown tells everyone, drains and returns.

mod common;

use chatserver::chat::{Chat, Settings};
use chatserver::config::Config;
use chatserver::protocol::ProtocolKind;
use chatserver::server::{Limits, Listener, Server};
use chatserver::store::Store;
use chatserver::time::Now;
use chatserver::transport::TransportKind;
use common::{Client, SAMPLE_CREDENTIALS};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// A client with a tiny receive buffer that asks for far more output than the kernel will hold
/// and never reads it. The login timeout then closes it "after flush", a flush that can never
/// finish: the closing deadline must drop it anyway (before the fix it held its descriptor and
/// megabytes of output forever).
#[test]
fn a_peer_that_never_reads_is_dropped_at_its_closing_deadline() {
    let server = common::Server::start(&[
        "--login-timeout",
        "1",
        "--close-timeout",
        "1",
        "--max-output",
        "16777216",
    ]);
    let pid = server.pid().expect("running");
    let baseline = open_fds(pid);
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket.connect(&server.addr().into()).expect("connect");
    let mut stream: TcpStream = socket.into();
    let flood = "help\n".repeat(20_000);
    stream.write_all(flood.as_bytes()).expect("send");
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline && open_fds(pid) == baseline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        open_fds(pid),
        baseline + 1,
        "the connection is held while open"
    );
    // Login timeout (1 s) + closing deadline (1 s) + a wheel tick of slack.
    let deadline = Instant::now() + Duration::from_secs(6);
    while Instant::now() < deadline && open_fds(pid) > baseline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(open_fds(pid), baseline, "the non-reading peer was dropped");
    // Everyone else is unaffected.
    let mut yoda = server.login("yoda", "wise");
    yoda.send("whoelse");
    yoda.expect_silence(100);
    drop(stream);
}

fn start_in_process(
    dir: &std::path::Path,
) -> (
    SocketAddr,
    chatserver::server::Shutdown,
    std::thread::JoinHandle<std::io::Result<()>>,
) {
    std::fs::write(dir.join("credentials.txt"), SAMPLE_CREDENTIALS).expect("credentials");
    let config = Config {
        credentials: dir.join("credentials.txt"),
        data_dir: dir.join("data"),
        ..Config::default()
    };
    let (store, credentials, records) = Store::open(&config).expect("store");
    let mut chat = Chat::new(Settings::from(&config), credentials, Now::read(), [5; 32]);
    for r in records {
        chat.replay(r);
    }
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = socket.local_addr().expect("addr");
    let limits = Limits {
        max_line: config.max_line,
        max_output: config.max_output,
        max_clients: config.max_clients,
        close_timeout: Duration::from_secs(5),
        drain_timeout: Duration::from_secs(2),
        max_per_ip: config.max_per_ip,
        limit_loopback: config.limit_loopback,
        max_output_total: config.max_output_total,
        penalty: config.penalty,
        request_timeout: config.login_timeout,
    };
    let listeners = vec![Listener {
        socket,
        protocol: ProtocolKind::Line,
        transport: TransportKind::Plain,
    }];
    let server = Server::new(listeners, chat, store, limits).expect("server");
    let shutdown = server.shutdown_handle();
    let thread = std::thread::spawn(move || server.run());
    (addr, shutdown, thread)
}

/// `Shutdown::request` stops the loop: every connection gets `Server shutting down` and is
/// closed, acknowledged state is on disk, and `run` returns `Ok`.
#[test]
fn a_requested_shutdown_tells_everyone_and_returns() {
    let dir = std::env::temp_dir().join(format!("chatserver-lifecycle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let (addr, shutdown, thread) = start_in_process(&dir);
    let mut yoda = Client::connect(addr);
    yoda.login("yoda", "wise");
    let mut fresh = Client::connect(addr);
    fresh.expect("Username: ");
    yoda.send("block luke");
    yoda.expect("luke is blocked\n");
    shutdown.request();
    yoda.expect("Server shutting down\n");
    yoda.expect_closed();
    fresh.expect("Server shutting down\n");
    fresh.expect_closed();
    let result = thread.join().expect("server thread");
    assert!(result.is_ok(), "{result:?}");
    let journal = std::fs::read_to_string(dir.join("data/journal.log")).expect("journal");
    assert!(journal.contains("block\tyoda\tluke\n"), "{journal}");
    let _ = std::fs::remove_dir_all(&dir);
}
