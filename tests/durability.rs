//! Durable state over the real binary (issue 4): crash safety under SIGKILL, torn and corrupt
//! journals, compaction, storage faults (RLIMIT_FSIZE always, a full tmpfs when root), password
//! hashing and the offline mailbox bound. Unit-level checks of the same code are in `store.rs`.

mod durability_util;

use durability_util::*;
use std::fs;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// yoda, luke and hans, plus `u0..u{n}` to block.
fn accounts(n: usize) -> String {
    let mut s = String::from("yoda wise\nluke force\nhans solo\n");
    for i in 0..n {
        s.push_str(&format!("u{i} p{i}\n"));
    }
    s
}

fn get(count: &Arc<Mutex<usize>>) -> usize {
    count.lock().map(|c| *c).unwrap_or(0)
}

/// Write `lines` in order, pausing `pause` after every `every` lines; stops at the first error
/// (the server was killed). Only the first `hold` lines go before `killed` is set: a stream
/// that gets ahead waits there, so however the machine schedules the test, the kill comes
/// while every stream still has lines to send (the rest fail on the dead socket).
fn stream(
    mut to: std::net::TcpStream,
    lines: Vec<String>,
    (every, pause): (usize, Duration),
    hold: usize,
    killed: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    use std::io::Write;
    thread::spawn(move || {
        for (i, line) in lines.iter().enumerate() {
            while i == hold && !killed.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(5));
            }
            if to.write_all(line.as_bytes()).is_err() {
                return;
            }
            if (i + 1) % every == 0 {
                thread::sleep(pause);
            }
        }
    })
}

/// The numbers `0..n` as `yoda: m<k>` texts, the way luke receives them.
fn numbered(n: usize) -> Vec<String> {
    (0..n).map(|k| format!("m{k}")).collect()
}

/// Three clients stream state changes at once: yoda queues 2000 offline messages for luke
/// (a `whoelse` every 20 is answered with `hans`, acknowledging the 20 before it, since a
/// connection's commands are committed in order before any later reply), hans blocks u0, u1, ...
/// (each `is blocked` reply acknowledges that block) and a third client registers r0, r1, ...
/// (each welcome acknowledges an account). The server is SIGKILLed mid-stream. After a restart
/// every acknowledged change is there exactly once and in order, and anything beyond is an
/// in-order continuation (a prefix of what was sent). Then luke reads his messages, the server is
/// killed again, and on the next start they are not delivered a second time.
#[test]
fn sigkill_mid_stream_loses_nothing_acknowledged_and_duplicates_nothing() {
    const MESSAGES: usize = 2000;
    const BATCH: usize = 20;
    const BLOCKS: usize = 200;
    const REGISTRATIONS: usize = 300;
    let s = Scratch::new("crash");
    s.write("credentials.txt", &accounts(BLOCKS));
    // Registrations at a low hash cost and a mailbox larger than the stream: the kill must
    // come while all three streams are still going (issue 21 made each registration slower).
    let launch = Launch::args(&["--hash-cost", "1", "--max-offline", "100000"]);
    let mut server = Server::start(&s.path, &launch);
    let mut hans = server.connect();
    hans.login("hans", "solo");
    let mut yoda = server.connect();
    yoda.login("yoda", "wise");
    let reg = server.connect();

    // Each stream stops at three quarters until the kill (see `stream`), far past the
    // progress awaited below.
    let killed = Arc::new(AtomicBool::new(false));
    let pace = (1, Duration::from_millis(10));
    let mut lines = Vec::new();
    for (k, m) in numbered(MESSAGES).into_iter().enumerate() {
        lines.push(format!("message luke {m}\n"));
        if (k + 1) % BATCH == 0 {
            lines.push("whoelse\n".into());
        }
    }
    let (yoda_acks, yoda_reader) =
        count_lines(yoda.stream.try_clone().expect("clone"), |l| l == "hans\n");
    let hold = lines.len() * 3 / 4;
    let yoda_writer = stream(
        yoda.stream.try_clone().expect("clone"),
        lines,
        (BATCH + 1, pace.1),
        hold,
        killed.clone(),
    );
    let lines = (0..BLOCKS).map(|i| format!("block u{i}\n")).collect();
    let (block_acks, block_reader) = count_lines(hans.stream.try_clone().expect("clone"), |l| {
        l.starts_with('u') && l.ends_with(" is blocked\n")
    });
    let block_writer = stream(
        hans.stream.try_clone().expect("clone"),
        lines,
        pace,
        BLOCKS * 3 / 4,
        killed.clone(),
    );
    let lines: Vec<String> = (0..REGISTRATIONS)
        .map(|i| format!("register r{i} pw{i}\nlogout\n"))
        .collect();
    let (reg_acks, reg_reader) = count_lines(reg.stream.try_clone().expect("clone"), |l| {
        l.contains(WELCOME.trim_end())
    });
    let reg_writer = stream(
        reg.stream.try_clone().expect("clone"),
        lines,
        pace,
        REGISTRATIONS * 3 / 4,
        killed.clone(),
    );

    wait_until("progress on all three streams", || {
        get(&yoda_acks) * BATCH >= 500 && get(&block_acks) >= 10 && get(&reg_acks) >= 5
    });
    server.kill();
    killed.store(true, Ordering::SeqCst);
    // Replies that reached the socket before the kill were sent after their commit: they count.
    let acked_messages = yoda_reader.join().expect("reader") * BATCH;
    let acked_blocks = block_reader.join().expect("reader");
    let acked_accounts = reg_reader.join().expect("reader");
    for w in [yoda_writer, block_writer, reg_writer] {
        w.join().expect("writer");
    }
    assert!(
        acked_messages < MESSAGES && acked_blocks < BLOCKS && acked_accounts < REGISTRATIONS,
        "the kill was not mid-stream: {acked_messages} {acked_blocks} {acked_accounts}"
    );

    eprintln!(
        "acknowledged before the kill: {acked_messages} messages, {acked_blocks} blocks, \
         {acked_accounts} accounts"
    );
    let mut server = Server::start(&s.path, &launch);
    // Offline messages: exactly a prefix of what was sent, covering everything acknowledged.
    let mut luke = server.connect();
    let got = luke.login("luke", "force");
    let got = messages_from("yoda", &got);
    assert!(
        got.len() >= acked_messages,
        "lost acknowledged messages: {} delivered, {acked_messages} acknowledged",
        got.len()
    );
    assert_eq!(
        got,
        numbered(got.len()),
        "not an in-order, duplicate-free prefix"
    );
    // Blocks: every acknowledged one is there; the ones there form a prefix.
    let mut hans = server.connect();
    hans.login("hans", "solo");
    let mut blocked = Vec::new();
    for i in 0..BLOCKS {
        let reply = hans.call(&format!("unblock u{i}"));
        match reply.as_str() {
            r if r == format!("u{i} is unblocked\n") => blocked.push(i),
            r if r == format!("Error. u{i} was not blocked\n") => {}
            r => panic!("unexpected reply {r:?}"),
        }
    }
    assert!(
        blocked.len() >= acked_blocks,
        "{blocked:?} vs {acked_blocks}"
    );
    assert_eq!(blocked, (0..blocked.len()).collect::<Vec<_>>());
    // Accounts: every welcomed one logs in; the ones that exist form a prefix.
    let mut reg = server.connect();
    let mut exists = 0;
    while reg
        .try_login(&format!("r{exists}"), &format!("pw{exists}"))
        .is_some()
    {
        reg.send("logout");
        reg.wait_for("Username: ");
        exists += 1;
    }
    assert!(exists >= acked_accounts, "{exists} vs {acked_accounts}");
    eprintln!(
        "after restart: {} messages, {} blocks, {exists} accounts",
        got.len(),
        blocked.len()
    );
    for i in exists + 1..(exists + 10).min(REGISTRATIONS) {
        assert!(
            reg.try_login(&format!("r{i}"), "x").is_none(),
            "r{i} after a gap"
        );
    }
    assert!(!server.stderr().contains("corrupt"), "{}", server.stderr());

    // Delivery is durable too: after another crash nothing is handed out twice. A delivery is
    // recorded once the kernel took its last byte, which may be the write that carried the
    // probe's answer; the answer to one more probe, read after that write, comes after the
    // record's commit.
    luke.sync();
    server.kill();
    let server = Server::start(&s.path, &Launch::default());
    let mut luke = server.connect();
    let again = luke.login("luke", "force");
    assert_eq!(messages_from("yoda", &again), Vec::<&str>::new());
}

/// Queue `n` one-record messages (`--history 0`) for luke, each acknowledged.
fn queue(server: &Server, n: usize) {
    let mut yoda = server.connect();
    yoda.login("yoda", "wise");
    for m in numbered(n) {
        assert_eq!(yoda.call(&format!("message luke {m}")), "");
    }
}

/// What luke is handed at login; its `delivered` record is committed when this returns (see
/// the second probe in `sigkill_mid_stream…`).
fn delivered(server: &Server) -> Vec<String> {
    let mut luke = server.connect();
    let got = luke.login("luke", "force");
    luke.sync();
    messages_from("yoda", &got)
        .into_iter()
        .map(String::from)
        .collect()
}

/// Byte offset at which line `n` (0 = header) of a file starts.
fn line_start(bytes: &[u8], n: usize) -> usize {
    let mut offset = 0;
    for _ in 0..n {
        offset += bytes[offset..]
            .iter()
            .position(|&b| b == b'\n')
            .expect("line")
            + 1;
    }
    offset
}

/// A journal whose last record was cut in half (a crash mid-write) starts with a warning,
/// loses only that record and is truncated to the last good one.
#[test]
fn torn_journal_tail_starts_with_a_warning_and_loses_only_that_record() {
    let s = Scratch::new("torn");
    s.write("credentials.txt", &accounts(0));
    let launch = Launch::args(&["--history", "0"]);
    let mut server = Server::start(&s.path, &launch);
    queue(&server, 10);
    server.kill();
    let bytes = fs::read(s.journal()).expect("journal");
    let last = line_start(&bytes, 10);
    let cut = last + (bytes.len() - last) / 2;
    fs::write(s.journal(), &bytes[..cut]).expect("tear");

    let server = Server::start(&s.path, &launch);
    assert_eq!(delivered(&server), numbered(9));
    let log = server.stderr();
    assert!(
        log.contains("journal.log: dropping a torn last record at byte offset"),
        "{log}"
    );
    assert!(log.contains(&format!("offset {last}")), "{log}");
    let now = fs::read(s.journal()).expect("journal");
    // Cut back to the good prefix, then luke's `delivered` record appended.
    assert_eq!(&now[..last], &bytes[..last]);
    assert!(String::from_utf8_lossy(&now[last..]).contains(" delivered\tluke\t9\n"));
}

/// A bad checksum before the tail refuses to start, naming the file and byte offset, and
/// changes nothing; `--repair` truncates there and starts with what precedes it.
#[test]
fn corrupt_middle_refuses_with_the_offset_and_repair_starts() {
    let s = Scratch::new("corrupt");
    s.write("credentials.txt", &accounts(0));
    let launch = Launch::args(&["--history", "0"]);
    let mut server = Server::start(&s.path, &launch);
    queue(&server, 10);
    server.kill();
    let mut bytes = fs::read(s.journal()).expect("journal");
    let bad = line_start(&bytes, 5); // the record of m4
    bytes[bad + 20] ^= 0x20;
    fs::write(s.journal(), &bytes).expect("corrupt");

    let (status, err) = run_to_exit(&s.path, &launch);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("journal.log"), "{err}");
    assert!(
        err.contains(&format!("corrupt record at byte offset {bad}")),
        "{err}"
    );
    assert!(err.contains("--repair"), "{err}");
    assert_eq!(fs::read(s.journal()).expect("journal"), bytes);

    let repair = Launch::args(&["--history", "0", "--repair"]);
    let mut server = Server::start(&s.path, &repair);
    // stderr is collected by a thread: the warning may arrive just after the listening line.
    wait_until("the --repair warning", || {
        server.stderr().contains("--repair")
    });
    queue_more(&server, "after");
    server.kill();
    // The repaired journal needs no --repair any more.
    let server = Server::start(&s.path, &launch);
    let mut want = numbered(4);
    want.push("after".into());
    assert_eq!(delivered(&server), want);
}

fn queue_more(server: &Server, text: &str) {
    let mut yoda = server.connect();
    yoda.login("yoda", "wise");
    assert_eq!(yoda.call(&format!("message luke {text}")), "");
}

/// With a small `--compact-bytes` the journal is compacted into a snapshot many times while
/// messages and blocks pile up; after a SIGKILL the state is the same (every message once, in
/// order, the block still there) and the journal is far smaller than what was written.
#[test]
fn compaction_keeps_state_and_shrinks_the_journal() {
    let s = Scratch::new("compact");
    s.write("credentials.txt", &accounts(5));
    let launch = Launch::args(&["--compact-bytes", "4096"]);
    let mut server = Server::start(&s.path, &launch);
    let mut yoda = server.connect();
    yoda.login("yoda", "wise");
    assert_eq!(yoda.call("block u1"), "u1 is blocked\n");
    let texts = numbered(300);
    let mut written = 0;
    for m in &texts {
        let text = format!("{m} {}", "x".repeat(60));
        written += 2 * (text.len() + 40); // an offline and a history record
        assert_eq!(yoda.call(&format!("message luke {text}")), "");
    }
    let snapshot = fs::read_to_string(s.file("data/snapshot.log")).expect("snapshot");
    let header = snapshot.lines().next().expect("header");
    let generation: u64 = header
        .strip_suffix(" format 2")
        .and_then(|h| h.rsplit(' ').next())
        .and_then(|g| g.parse().ok())
        .expect("generation");
    assert!(generation >= 3, "{header}");
    let journal = fs::metadata(s.journal()).expect("journal").len() as usize;
    assert!(
        journal < written / 4,
        "journal {journal} of {written} written"
    );
    server.kill();

    let mut server = Server::start(&s.path, &launch);
    let got = delivered(&server);
    let want: Vec<String> = texts
        .iter()
        .map(|m| format!("{m} {}", "x".repeat(60)))
        .collect();
    assert_eq!(got, want);
    let mut yoda = server.connect();
    yoda.login("yoda", "wise");
    assert_eq!(yoda.call("block u1"), "u1 is blocked\n");
    assert_eq!(yoda.call("unblock u2"), "Error. u2 was not blocked\n");
    server.kill();
    let server = Server::start(&s.path, &launch);
    assert_eq!(delivered(&server), Vec::<String>::new());
}

/// Credentials padded to just under `target` bytes, so that exactly one more hashed account
/// (109 bytes for `r1`) fits after it.
fn padded_credentials(target: usize) -> String {
    let mut s = accounts(50);
    let mut i = 0;
    while s.len() + 40 <= target - 120 {
        s.push_str(&format!("f{i:05} {}\n", "p".repeat(32)));
        i += 1;
    }
    assert!((target - 160..=target - 120).contains(&s.len()));
    s
}

/// What was acknowledged and what was refused while storage failed.
#[derive(Default)]
struct Outcome {
    messages: Vec<String>,
    blocks: Vec<usize>,
    refused_blocks: Vec<usize>,
    extra_account: bool,
}

/// Fill storage until commits fail, check the refusals and that the server keeps serving,
/// then `make_space` and (if it could) check commits work again without a restart. Finally
/// restart (without any limit) and check exactly the acknowledged state is there.
/// Runs with `--no-presence` so every reply read is the answer to the command just sent.
fn storage_fault(dir: &std::path::Path, launch: &Launch, make_space: impl FnOnce(&Server) -> bool) {
    let pad = "x".repeat(200);
    let mut server = Server::start(dir, launch);
    let mut hans = server.connect();
    hans.login("hans", "solo");
    let mut yoda = server.connect();
    yoda.login("yoda", "wise");
    let mut reg = server.connect();
    assert!(reg.try_login("r1", "pw1").is_none());
    reg.send("register r1 pw1");
    reg.wait_for(WELCOME);
    reg.call("logout");

    let mut out = Outcome::default();
    let mut refused = 0;
    for n in 0..2000 {
        let text = format!("m{n} {pad}");
        let reply = yoda.call(&format!("message luke {text}"));
        if reply == STORAGE {
            refused += 1;
            if refused == 3 {
                break;
            }
        } else {
            assert_eq!(reply, "", "message {n}");
            out.messages.push(text);
        }
    }
    assert_eq!(refused, 3, "storage never filled up");
    assert!(!out.messages.is_empty());
    for i in 10..60 {
        let reply = yoda.call(&format!("block u{i}"));
        if reply == STORAGE {
            out.refused_blocks.push(i);
            if out.refused_blocks.len() == 3 {
                break;
            }
        } else {
            assert_eq!(reply, format!("u{i} is blocked\n"));
            out.blocks.push(i);
        }
    }
    assert_eq!(out.refused_blocks.len(), 3, "small records never refused");
    // Refused in memory too: the refused block is not there.
    let i = out.refused_blocks[0];
    assert_eq!(
        yoda.call(&format!("unblock u{i}")),
        format!("Error. u{i} was not blocked\n")
    );
    // Reading commands keep working.
    assert_eq!(yoda.call("whoelse"), "hans\n");
    // A registration that cannot be stored is refused and forgotten.
    reg.send("register rfull pwf");
    let got = reg.sync();
    assert!(got.contains(STORAGE) && !got.contains("Welcome"), "{got}");
    assert!(reg.try_login("rfull", "pwf").is_none());
    // Logging in still works and the messages are handed out; their delivery cannot be
    // recorded, so they stay queued on disk and come again after a restart (at-least-once).
    let mut luke = server.connect();
    let got = luke.login("luke", "force");
    let got = messages_from("yoda", &got);
    assert!(
        !got.is_empty() && got.iter().zip(&out.messages).all(|(a, b)| a == b),
        "{got:?}"
    );
    luke.call("logout");
    assert!(server.is_running());
    // stderr is collected by a thread: under load it can lag behind the replies.
    wait_until("the commit failure in the log", || {
        server.stderr().contains("storage commit failed")
    });
    let log = server.stderr();
    assert!(!log.contains("panicked"), "{log}");

    if make_space(&server) {
        // The server retries on its own: commits work again without a restart.
        thread::sleep(Duration::from_millis(50));
        assert_eq!(yoda.call("message luke back"), "");
        out.messages.push("back".into());
        let i = out.refused_blocks[0];
        assert_eq!(
            yoda.call(&format!("block u{i}")),
            format!("u{i} is blocked\n")
        );
        out.blocks.push(i);
        out.refused_blocks.remove(0);
        reg.send("register rback pwb");
        reg.wait_for(WELCOME);
        reg.call("logout");
        out.extra_account = true;
    } else {
        eprintln!("note: could not make space in place; checking recovery by restart only");
    }
    server.kill();

    // Restart without a limit: exactly what was acknowledged, nothing refused.
    let server = Server::start(dir, &Launch::args(&["--no-presence"]));
    let log = server.stderr();
    assert!(!log.contains("torn") && !log.contains("corrupt"), "{log}");
    let mut luke = server.connect();
    let got = luke.login("luke", "force");
    assert_eq!(messages_from("yoda", &got), out.messages);
    let mut yoda = server.connect();
    yoda.login("yoda", "wise");
    for &i in &out.blocks {
        assert_eq!(
            yoda.call(&format!("block u{i}")),
            format!("u{i} is blocked\n")
        );
    }
    for &i in &out.refused_blocks {
        assert_eq!(
            yoda.call(&format!("unblock u{i}")),
            format!("Error. u{i} was not blocked\n")
        );
    }
    let mut reg = server.connect();
    assert!(reg.try_login("r1", "pw1").is_some());
    reg.call("logout");
    assert!(reg.try_login("rfull", "pwf").is_none());
    assert_eq!(reg.try_login("rback", "pwb").is_some(), out.extra_account);
}

/// Storage fault without privileges: the server runs under `ulimit -f 64` (KiB) with SIGXFSZ
/// ignored, so appends past 64 KiB fail with EFBIG, for the journal and credentials.txt alike.
/// State changes get `Error. Storage unavailable, try again later` and are undone in memory,
/// reads keep working, nothing crashes. Space comes back by raising the limit of the running
/// process (`prlimit`; skipped if unavailable) and, in any case, by a restart without it.
#[test]
fn storage_full_rlimit_refuses_changes_and_recovers() {
    let s = Scratch::new("efbig");
    s.write("credentials.txt", &padded_credentials(64 * 1024));
    let launch = Launch {
        fsize_kib: Some(64),
        ..Launch::args(&["--no-presence"])
    };
    storage_fault(&s.path, &launch, |server| {
        Command::new("prlimit")
            .arg("--pid")
            .arg(server.pid().to_string())
            .arg("--fsize=unlimited:unlimited")
            .status()
            .is_ok_and(|st| st.success())
    });
}

/// A tmpfs that unmounts itself.
struct Tmpfs(std::path::PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The same on a really full filesystem (ENOSPC): a 64 KiB tmpfs, remounted bigger while the
/// server runs. Needs root (mount); skipped otherwise.
#[test]
fn storage_full_tmpfs_refuses_changes_and_recovers() {
    let s = Scratch::new("enospc");
    let mnt = s.file("mnt");
    fs::create_dir(&mnt).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "chatserver-test"])
        .arg(&mnt)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|st| st.success());
    if !mounted {
        eprintln!("skipping: cannot mount a tmpfs (not root?)");
        return;
    }
    let _tmpfs = Tmpfs(mnt.clone());
    fs::write(mnt.join("credentials.txt"), padded_credentials(8192)).expect("credentials");
    storage_fault(&mnt, &Launch::args(&["--no-presence"]), |_| {
        Command::new("mount")
            .args(["-o", "remount,size=4m"])
            .arg(&mnt)
            .status()
            .is_ok_and(|st| st.success())
    });
}

/// Plaintext and hashed entries both log in; new accounts are stored hashed (or plain with
/// `--plain-credentials`) after a newline is added to a file that lacks one; after
/// `--hash-credentials` every account still logs in and no plaintext password is left; no
/// password ever appears in the log, even at trace level.
#[test]
fn plain_and_hashed_credentials_log_in_and_passwords_stay_out_of_logs() {
    let s = Scratch::new("hash");
    let hashed = chatserver::credentials::Secret::hashed("s3cret-hans", [7; 16]);
    s.write(
        "credentials.txt",
        &format!("yoda w1se-yoda\nhans {hashed}\nluke f0rce-luke"),
    );
    let mut server = start_traced(&s, &[]);
    let mut c = server.connect();
    c.login("yoda", "w1se-yoda");
    c.call("logout");
    c.login("hans", "s3cret-hans");
    c.call("logout");
    c.send("login luke wrong-luke");
    assert!(c.sync().contains("Invalid Password"));
    c.send("register neo m4trix-neo");
    c.wait_for(WELCOME);
    c.call("logout");
    server.kill();
    let text = fs::read_to_string(s.file("credentials.txt")).expect("read");
    assert!(text.starts_with("yoda w1se-yoda\nhans $sha256$"), "{text}");
    // Issue 21: hans's salted SHA-256 was replaced by PBKDF2 at its login; neo is PBKDF2.
    assert!(
        text.contains("\nluke f0rce-luke\nhans $pbkdf2-sha256$10000$"),
        "{text}"
    );
    assert!(text.contains("\nneo $pbkdf2-sha256$10000$"), "{text}");
    assert!(!text.contains("m4trix-neo"));
    let mut logs = server.stderr();

    let mut server = start_traced(&s, &["--plain-credentials"]);
    let mut c = server.connect();
    c.login("neo", "m4trix-neo");
    c.call("logout");
    c.send("register trin1ty pl4in-trin");
    c.wait_for(WELCOME);
    server.kill();
    logs.push_str(&server.stderr());
    let text = fs::read_to_string(s.file("credentials.txt")).expect("read");
    assert!(text.ends_with("\ntrin1ty pl4in-trin\n"), "{text}");

    let (status, out) = run_to_exit(
        &s.path,
        &Launch::args(&["--hash-credentials", "credentials.txt"]),
    );
    assert!(status.success(), "{out}");
    let text = fs::read_to_string(s.file("credentials.txt")).expect("read");
    for pw in ["w1se-yoda", "f0rce-luke", "pl4in-trin"] {
        assert!(!text.contains(pw), "{text}");
    }
    // Every line hashed: three were plaintext; hans's old line stays, superseded.
    assert_eq!(text.matches("$pbkdf2-sha256$").count(), 5, "{text}");
    assert_eq!(text.matches("$sha256$").count(), 1, "{text}");
    let mut server = start_traced(&s, &[]);
    let mut c = server.connect();
    for (user, pw) in [
        ("yoda", "w1se-yoda"),
        ("hans", "s3cret-hans"),
        ("luke", "f0rce-luke"),
        ("neo", "m4trix-neo"),
        ("trin1ty", "pl4in-trin"),
    ] {
        c.login(user, pw);
        c.call("logout");
    }
    c.send("login yoda w1se-yodA");
    assert!(c.sync().contains("Invalid Password"));
    server.kill();
    logs.push_str(&server.stderr());
    assert!(
        logs.contains("logged in"),
        "trace logging was not on: {logs}"
    );
    for pw in [
        "w1se-yoda",
        "s3cret-hans",
        "f0rce-luke",
        "wrong-luke",
        "m4trix-neo",
        "pl4in-trin",
        "w1se-yodA",
    ] {
        assert!(!logs.contains(pw), "password {pw} in the log:\n{logs}");
    }
}

fn start_traced(s: &Scratch, args: &[&str]) -> Server {
    let launch = Launch {
        rust_log: Some("trace".into()),
        ..Launch::args(args)
    };
    Server::start(&s.path, &launch)
}

/// `--max-offline N`: the sender of message N+1 for an offline user gets
/// `Error. <user>'s mailbox is full`; the queue survives a restart and, once read, takes more.
#[test]
fn offline_mailbox_is_bounded() {
    let s = Scratch::new("mailbox");
    s.write("credentials.txt", &accounts(0));
    let launch = Launch::args(&["--max-offline", "3"]);
    let mut server = Server::start(&s.path, &launch);
    let mut yoda = server.connect();
    yoda.login("yoda", "wise");
    for m in numbered(3) {
        assert_eq!(yoda.call(&format!("message luke {m}")), "");
    }
    assert_eq!(
        yoda.call("message luke m3"),
        "Error. luke's mailbox is full\n"
    );
    server.kill();
    let server = Server::start(&s.path, &launch);
    assert_eq!(delivered(&server), numbered(3));
    let mut yoda = server.connect();
    yoda.login("yoda", "wise");
    assert_eq!(yoda.call("message luke again"), "");
}

/// No false ack through the core's rollback: an account created by a command whose commit fails
/// must not be welcomed, even when offline messages were already queued under that name (a
/// journal can hold them, for example after an operator removed the account from
/// credentials.txt): the delivery step inside the login must not replace the account's fallback.
#[test]
fn failed_account_commit_never_sends_the_welcome_line() {
    use chatserver::chat::{Action, Chat, LoginStyle, Settings};
    use chatserver::config::Config;
    use chatserver::protocol::line::text as line_text;
    use chatserver::protocol::line::{parse, Frame};
    use chatserver::record::Record;
    use chatserver::session::ConnId;
    use chatserver::time::Now;

    let config = Config::default();
    let credentials = chatserver::credentials::Credentials::parse("yoda wise\n").expect("parse");
    let now = Now::read();
    let mut chat = Chat::new(Settings::from(&config), credentials, now, [1; 32]);
    chat.replay(Record::Offline {
        to: "ghost".into(),
        from: "yoda".into(),
        at_ms: 1,
        text: "boo".into(),
    });
    let conn = ConnId::new(0, 1);
    chat.handle_connect(conn, None, LoginStyle::Dialog.into(), now);
    let input = parse(Frame::Line("register ghost pw"), chat.expects(conn));
    chat.handle_input(conn, input, now);
    // The new password is hashed in steps (issue 21), as the loop drives them.
    while chat.has_work() {
        chat.handle_work(now);
    }
    assert!(!chat.pending_records().is_empty());
    chat.handle_commit(false, now);
    let sent: String = chat
        .drain_actions()
        .filter_map(|a| match a {
            Action::Send(_, e) => Some(line_text::to_string(&e)),
            _ => None,
        })
        .collect();
    assert!(!sent.contains("Welcome"), "false ack: {sent:?}");
    assert!(sent.ends_with(&format!("{STORAGE}Username: ")), "{sent:?}");
    assert!(!chat.credentials().contains("ghost"));
}

/// `register eve $sha256$abc` under `--plain-credentials` once wrote a plaintext line that
/// read back as a malformed hash, so the server never started again (issue 8). Now it must
/// restart and eve must log in with that password.
#[test]
fn a_dollar_password_in_plain_mode_never_stops_the_next_start() {
    let s = Scratch::new("dollar");
    s.write("credentials.txt", &accounts(0));
    let launch = Launch::args(&["--plain-credentials"]);
    let mut server = Server::start(&s.path, &launch);
    let mut c = server.connect();
    c.send("register eve $sha256$abc");
    c.wait_for(WELCOME);
    server.kill();
    let server = Server::start(&s.path, &launch);
    let mut c = server.connect();
    c.login("eve", "$sha256$abc");
    c.call("logout");
    c.login("yoda", "wise");
}
