//! Backups (issue 21): `chatserver backup DIR` taken by a running server under heavy traffic
//! while compactions run, restored with `chatserver restore DIR` into the stopped server,
//! holds every change acknowledged before the backup was asked for.

mod common;

use common::{Client, Server, WELCOME};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn tool(server: &Server, args: &[&str]) -> Output {
    let dir = server.dir();
    Command::new(env!("CARGO_BIN_EXE_chatserver"))
        .arg(args[0])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--credentials")
        .arg(dir.join("credentials.txt"))
        .args(&args[1..])
        .output()
        .expect("run chatserver")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What the writers had acknowledged: offline messages to r2d2 and registered accounts.
#[derive(Default)]
struct Acked {
    messages: Vec<String>,
    accounts: Vec<String>,
}

/// One writer: queue an offline message for r2d2, then a block toggle whose reply, coming
/// after the message's (replies are in command order, each after its commit), acknowledges
/// both; every tenth round, register a new account on a second connection.
fn writer(
    server_addr: std::net::SocketAddr,
    me: usize,
    acked: Arc<Mutex<Acked>>,
    stop: Arc<AtomicBool>,
) {
    let mut c = Client::connect(server_addr);
    let name = format!("w{me}");
    c.expect("Username: ");
    c.send(&format!("register {name} pw"));
    c.expect(WELCOME);
    let mut reg = Client::connect(server_addr);
    reg.expect("Username: ");
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let text = format!("{name}-{i} {}", "x".repeat(100));
        c.send(&format!("message r2d2 {text}"));
        let (cmd, reply) = if i % 2 == 0 {
            ("block luke", "luke is blocked\n")
        } else {
            ("unblock luke", "luke is unblocked\n")
        };
        c.send(cmd);
        c.expect(reply);
        acked.lock().expect("lock").messages.push(text);
        if i % 10 == 0 {
            let account = format!("n{me}x{i}");
            reg.send(&format!("register {account} pw"));
            reg.expect(WELCOME);
            reg.send("logout");
            reg.expect("You have logged out\nUsername: ");
            acked.lock().expect("lock").accounts.push(account);
        }
        i += 1;
    }
}

#[test]
fn a_backup_under_load_and_compaction_keeps_everything_acknowledged_before_it() {
    // Compactions every 16 KiB of journal: several run while the writers write.
    let mut server = Server::start(&[
        "--compact-bytes",
        "16384",
        "--penalty-us",
        "0",
        "--max-offline",
        "100000",
        // Writers read only their own replies.
        "--no-presence",
    ]);
    let acked = Arc::new(Mutex::new(Acked::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|me| {
            let (addr, acked, stop) = (server.addr(), acked.clone(), stop.clone());
            std::thread::spawn(move || writer(addr, me, acked, stop))
        })
        .collect();
    while acked.lock().expect("lock").messages.len() < 1500 {
        assert!(!writers.iter().any(|w| w.is_finished()), "a writer failed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (before_messages, before_accounts) = {
        let a = acked.lock().expect("lock");
        (a.messages.clone(), a.accounts.clone())
    };
    let target = server.dir().join("backup-1");
    let said = ok(&tool(
        &server,
        &["backup", target.to_str().expect("utf-8 path")],
    ));
    assert!(said.starts_with("backup written to "), "{said}");
    // Traffic goes on after the backup: wait for more acknowledgements (a fixed 200 ms was
    // not always enough on a loaded machine).
    let waited = std::time::Instant::now();
    while acked.lock().expect("lock").messages.len() <= before_messages.len() {
        assert!(!writers.iter().any(|w| w.is_finished()), "a writer failed");
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "no message acknowledged after the backup"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("writer");
    }
    let after = acked.lock().expect("lock").messages.len();
    assert!(
        after > before_messages.len(),
        "traffic went on during the backup"
    );
    let log = server.log();
    assert!(
        log.matches("compacted the journal").count() >= 2,
        "compactions ran: {log}"
    );
    assert!(
        log.contains("backup to ") && log.contains(" done ("),
        "{log}"
    );

    server.kill();
    let said = ok(&tool(
        &server,
        &["restore", target.to_str().expect("utf-8 path")],
    ));
    assert!(said.starts_with("restored "), "{said}");
    server.restart();

    let accounts: BTreeSet<String> = ok(&tool(&server, &["user", "list"]))
        .lines()
        .map(str::to_string)
        .collect();
    for a in &before_accounts {
        assert!(
            accounts.contains(a),
            "account {a} acknowledged before the backup is missing"
        );
    }
    // Every message acknowledged before the backup arrives (a missing one: expect_line times
    // out naming what it got last).
    let mut r2 = server.login("r2d2", "c3po");
    let mut missing: BTreeSet<String> = before_messages.into_iter().collect();
    while !missing.is_empty() {
        let line = r2.expect_line();
        let text = line.split_once(": ").map_or(line.as_str(), |(_, t)| t);
        missing.remove(text);
    }
    assert!(!Path::new(&format!("{}.partial", target.display())).exists());
}

/// Two restores in one second (a wrong backup put back, then the right one) each keep what
/// they replaced: the second must not move its files over the first one's in the same
/// `pre-restore-<unix seconds>/`, which would delete the server's files from before both.
#[test]
fn two_restores_in_one_second_keep_both_sets_of_replaced_files() {
    let mut server = Server::start(&[]);
    let dir = server.dir().to_path_buf();
    let bk = dir.join("bk");
    let target = bk.to_str().expect("utf-8 path");
    ok(&tool(&server, &["backup", target]));
    let mut yoda = server.login("yoda", "wise");
    yoda.send("block luke");
    yoda.expect("luke is blocked\n");
    server.kill();
    let before = std::fs::read(dir.join("data/journal.log")).expect("journal");
    for _ in 0..2 {
        let said = ok(&tool(&server, &["restore", target]));
        assert!(said.starts_with("restored "), "{said}");
    }
    let kept: Vec<Vec<u8>> = std::fs::read_dir(dir.join("data"))
        .expect("read data dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("pre-restore-"))
        .filter_map(|e| std::fs::read(e.path().join("journal.log")).ok())
        .collect();
    assert!(
        kept.contains(&before),
        "the journal the first restore replaced is gone"
    );
}
