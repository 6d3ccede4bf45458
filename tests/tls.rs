//! TLS on every front-end (issue 18), end to end against the real binary with a CA made in the
//! test: the line, JSON and IRC protocols over TLS beside their plain ports; each bad input
//! closing only its own connection with one log line; refusals through TLS; slow TLS readers
//! cut like plain ones; SIGHUP reloading the certificate while a connection stays up.
#![cfg(feature = "tls")]

mod common;
mod frontends_util;
mod tls_util;

use common::Client;
use frontends_util::Proc;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tls_util::{tls_args, Pair, Pki};

/// Where a server started by [`start`] listens.
struct Ports {
    irc: SocketAddr,
    tls: SocketAddr,
    json_tls: SocketAddr,
    irc_tls: SocketAddr,
}

/// A server with the plain line, JSON and IRC ports and all three TLS ports serving `pair`,
/// plus `extra` options.
fn start(pair: &Pair, extra: &[&str]) -> (Proc, Ports) {
    let mut args: Vec<String> = vec!["--irc-port".into(), "0".into()];
    args.extend(tls_args(pair));
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let p = Proc::start(&args);
    let addr = |name: &str| -> SocketAddr {
        let line = p.stdout_line();
        line.strip_prefix(&format!("chatserver {name}listening on "))
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("expected the {name}listening line, got {line:?}"))
    };
    let ports = Ports {
        irc: addr("irc "),
        tls: addr("tls "),
        json_tls: addr("json tls "),
        irc_tls: addr("irc tls "),
    };
    (p, ports)
}

/// Wait (at most 5 s) until the server log holds `needle` `n` times; returns the log.
#[track_caller]
fn logged(p: &Proc, needle: &str, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = p.log();
        let seen = log.matches(needle).count();
        if seen >= n || Instant::now() > deadline {
            assert_eq!(seen, n, "{needle:?} in the log:\n{log}");
            return log;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// IRC registration with `PASS`, read through the welcome numerics.
#[track_caller]
fn irc_login(mut c: Client, nick: &str, pass: &str) -> Client {
    c.send(&format!(
        "PASS {pass}\r\nNICK {nick}\r\nUSER {nick} 0 * :{nick}"
    ));
    c.expect(&format!(
        ":chatserver 001 {nick} :Welcome to the chatserver IRC network, {nick}\r\n"
    ));
    while !c.expect_line().contains(" 422 ") {}
    c.name = nick.to_string();
    c
}

/// Nothing else was disturbed: a new plain user logs in, and `yoda` (logged in already, on
/// whatever transport) sees it and gets its message.
#[track_caller]
fn others_are_served(p: &Proc, yoda: &mut Client) {
    let mut hans = p.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
    hans.send("message yoda still served");
    yoda.expect("hans: still served\n");
}

/// The bytes a TLS client opens with (a real ClientHello).
fn client_hello(config: Arc<rustls::ClientConfig>) -> Vec<u8> {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(config, name).unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    hello
}

/// Line, JSON and IRC users over TLS and over plain TCP share one world: dialog and one-line
/// logins, messages both ways, an IRC channel, a JSON guest's list and DM.
#[test]
fn every_front_end_works_over_tls_beside_plain_tcp() {
    let pki = Pki::new("e2e");
    let (p, ports) = start(&pki.issue("server"), &["--irc-guests"]);
    let client = pki.client();
    let mut yoda = Client::connect_tls(ports.tls, client.clone());
    yoda.login("yoda", "wise");
    let mut hans = p.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
    hans.send("message yoda plain to TLS");
    yoda.expect("hans: plain to TLS\n");
    yoda.send("message hans TLS to plain");
    hans.expect("yoda: TLS to plain\n");

    let mut luke = irc_login(
        Client::connect_tls(ports.irc_tls, client.clone()),
        "luke",
        "jedi",
    );
    yoda.expect("luke logged in\n");
    let mut r2 = irc_login(Client::connect(ports.irc), "r2d2", "c3po");
    yoda.expect("r2d2 logged in\n");
    luke.send("JOIN #den");
    while !luke.expect_line().contains(" 366 ") {}
    r2.send("JOIN #den");
    while !r2.expect_line().contains(" 366 ") {}
    luke.expect(":r2d2!r2d2@chatserver JOIN #den\r\n");
    r2.send("PRIVMSG #den :beep over plain");
    luke.expect(":r2d2!r2d2@chatserver PRIVMSG #den :beep over plain\r\n");
    luke.send("PRIVMSG #den :hello over TLS\r\nPING tls");
    r2.expect(":luke!luke@chatserver PRIVMSG #den :hello over TLS\r\n");
    luke.expect(":chatserver PONG chatserver tls\r\n");

    let mut moo = Client::connect_tls(ports.json_tls, client);
    moo.expect("[*] Welcome to the chat room!\n[*] Please enter your user name to get started.\n");
    moo.send_raw(br#"{"msgType": "<first>", "content": "Moo"}"#);
    moo.expect(
        "\nServer: Welcome Moo!\n\nChoose msg options.\nType <help> to see the list of options\n",
    );
    yoda.expect("Moo logged in\n");
    moo.send_raw(br#"{"msgType": "<private>", "content": "moo", "target": "yoda"}"#);
    yoda.expect("Moo: moo\n");
    yoda.send("message Moo hi cow");
    moo.expect("From yoda to Moo: hi cow");
    moo.send_raw(br#"{"msgType": "<quit>", "content": ""}"#);
    moo.expect("<quit>");
    yoda.expect("Moo logged out\n");
    yoda.send("logout");
    yoda.expect("You have logged out\n");
}

/// A plaintext client on a TLS port gets a TLS alert and is closed, with one log line; a TLS
/// client and a plain one beside it are not disturbed.
#[test]
fn a_plaintext_client_on_a_tls_port_is_closed_alone() {
    let pki = Pki::new("plain-on-tls");
    let (p, ports) = start(&pki.issue("server"), &[]);
    let mut yoda = Client::connect_tls(ports.tls, pki.client());
    yoda.login("yoda", "wise");
    let mut wrong = Client::connect(ports.tls);
    wrong.send("login hans falcon*solo");
    let alert = wrong.drain_until_closed();
    assert!(
        alert > 0 && alert < 16,
        "a TLS alert, then the close: {alert} bytes"
    );
    logged(&p, "read error: TLS: received corrupt message", 1);
    others_are_served(&p, &mut yoda);
}

/// A TLS client on a plain port (line or IRC) is closed at its ClientHello, with one log
/// line, instead of having its handshake fed to a protocol as junk.
#[test]
fn a_tls_client_on_a_plain_port_is_closed_alone() {
    let pki = Pki::new("tls-on-plain");
    let (p, ports) = start(&pki.issue("server"), &[]);
    let mut yoda = p.login("yoda", "wise");
    for addr in [p.addr, ports.irc] {
        let mut raw = TcpStream::connect(addr).unwrap();
        raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        raw.write_all(&client_hello(pki.client())).unwrap();
        let mut rest = Vec::new();
        let _ = raw.read_to_end(&mut rest);
        assert!(
            !String::from_utf8_lossy(&rest).contains("Invalid"),
            "no protocol error lines: {rest:?}"
        );
    }
    logged(&p, "read error: a TLS handshake on a plain port", 2);
    others_are_served(&p, &mut yoda);
}

/// A handshake that never finishes (nothing sent, or half a ClientHello) is closed at the
/// login timeout, long before the closing deadline, with one log line each.
#[test]
fn a_handshake_that_never_finishes_ends_at_the_login_timeout() {
    let pki = Pki::new("slow-handshake");
    let (p, ports) = start(
        &pki.issue("server"),
        &["--login-timeout", "1", "--close-timeout", "30"],
    );
    let hello = client_hello(pki.client());
    let started = Instant::now();
    let mut silent = Client::connect(ports.tls);
    let mut half = Client::connect(ports.irc_tls);
    half.send_raw(&hello[..hello.len() / 2]);
    // At most a close_notify alert, then the close.
    assert!(silent.drain_until_closed() < 16);
    assert!(half.drain_until_closed() < 16);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    logged(&p, "closed before its TLS handshake finished", 2);
    let mut yoda = Client::connect_tls(ports.tls, pki.client());
    yoda.login("yoda", "wise");
}

/// A ClientHello that is garbage after a valid record header: a TLS alert, the close, one
/// log line; the server serves the next client.
#[test]
fn a_garbage_client_hello_is_closed_alone() {
    let pki = Pki::new("garbage");
    let (p, ports) = start(&pki.issue("server"), &[]);
    let mut junk = Client::connect(ports.tls);
    let mut record = vec![0x16, 0x03, 0x01, 0x00, 0x40];
    record.extend((0..0x40u8).map(|b| b.wrapping_mul(37)));
    junk.send_raw(&record);
    junk.drain_until_closed();
    logged(&p, "read error: TLS:", 1);
    let mut yoda = Client::connect_tls(ports.tls, pki.client());
    yoda.login("yoda", "wise");
}

/// A client that drops mid-record (its TCP stream ends inside a TLS record): one log line,
/// and the cut input is not taken as a command.
#[test]
fn a_client_that_drops_mid_record_is_closed_alone() {
    let pki = Pki::new("mid-record");
    let (p, ports) = start(&pki.issue("server"), &[]);
    let mut hans = p.login("hans", "falcon*solo");
    let mut yoda = Client::connect_tls(ports.tls, pki.client());
    yoda.login("yoda", "wise");
    hans.expect("yoda logged in\n");
    // A client connection whose records we cut by hand.
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(pki.client(), name).unwrap();
    let mut sock = TcpStream::connect(ports.tls).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).unwrap();
    }
    let mut prompt = [0u8; 10];
    rustls::Stream::new(&mut conn, &mut sock)
        .read_exact(&mut prompt)
        .unwrap();
    assert_eq!(&prompt, b"Username: ");
    conn.writer()
        .write_all(b"login luke jedi\nbroadcast cut")
        .unwrap();
    let mut record = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut record).unwrap();
    }
    sock.write_all(&record[..record.len() - 5]).unwrap();
    sock.shutdown(std::net::Shutdown::Write).unwrap();
    // Read to the server's close, so the unread session tickets do not turn ours into a reset.
    let _ = sock.read_to_end(&mut Vec::new());
    logged(&p, "ended without a TLS close_notify", 1);
    // The record was cut, so nothing of it counts: luke never logged in.
    hans.send("whoelse");
    hans.expect("yoda\n");
    yoda.send("message hans ok");
    hans.expect("yoda: ok\n");
}

/// Refusals go through the listener's transport: a TLS client over `--max-clients` completes
/// its handshake and reads `Error. Server full` in the clear of its own session.
#[test]
fn a_refusal_reaches_a_tls_client_through_tls() {
    let pki = Pki::new("refusal");
    let (p, ports) = start(&pki.issue("server"), &["--max-clients", "1"]);
    let mut yoda = Client::connect_tls(ports.tls, pki.client());
    yoda.login("yoda", "wise");
    let mut late = Client::connect_tls(ports.tls, pki.client());
    late.expect("Error. Server full\n");
    late.expect_closed();
    let mut irc_late = Client::connect_tls(ports.irc_tls, pki.client());
    irc_late.expect("ERROR :Closing link: server full\r\n");
    irc_late.expect_closed();
    yoda.send("whoelse");
    yoda.send("logout");
    yoda.expect("You have logged out\n");
    drop(p);
}

/// A TLS reader that never reads is cut at `--max-output` like a plain one (rustls holds at
/// most one write's records beside the connection's buffer), and everyone else is served.
#[test]
fn a_tls_reader_that_never_reads_is_cut_as_a_slow_reader() {
    let pki = Pki::new("slow-reader");
    let (p, ports) = start(
        &pki.issue("server"),
        &["--max-output", "65536", "--penalty-us", "0"],
    );
    let mut hans = p.login("hans", "falcon*solo");
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket.connect(&ports.tls.into()).expect("connect");
    let mut sleeper = Client::tls_over(socket.into(), pki.client());
    sleeper.login("yoda", "wise");
    hans.expect("yoda logged in\n");
    let line = "x".repeat(1000);
    for _ in 0..5000 {
        hans.send(&format!("broadcast {line}"));
        if p.log().contains("disconnecting slow reader") {
            break;
        }
    }
    logged(&p, "disconnecting slow reader", 1);
    hans.expect("yoda logged out\n");
    let mut luke = Client::connect_tls(ports.tls, pki.client());
    luke.login("luke", "jedi");
    hans.expect("luke logged in\n");
}

/// A handshake with `config` on `addr` succeeds (or says why not).
fn handshake(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Result<(), String> {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(config, name).unwrap();
    let mut sock = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// SIGHUP (a certbot renewal) reloads the certificate and key for new connections without
/// dropping an open one; a bad new pair is logged and the pair in use kept.
#[test]
fn sighup_reloads_the_certificate_and_keeps_connections() {
    let (old, new, other) = (Pki::new("old"), Pki::new("new"), Pki::new("other"));
    let pair = old.issue("server");
    let (p, ports) = start(&pair, &[]);
    let mut yoda = Client::connect_tls(ports.tls, old.client());
    yoda.login("yoda", "wise");
    let renewed = new.issue("renewed");
    std::fs::copy(&renewed.cert, &pair.cert).unwrap();
    std::fs::copy(&renewed.key, &pair.key).unwrap();
    p.signal("HUP");
    logged(&p, "server.key.pem reloaded", 1);
    assert!(
        handshake(ports.irc_tls, old.client()).is_err(),
        "the old CA's pair is gone"
    );
    let mut hans = Client::connect_tls(ports.tls, new.client());
    hans.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
    hans.send("message yoda across the reload");
    yoda.expect("hans: across the reload\n");

    // A certificate whose key is not the one beside it: refused, the renewed pair kept.
    std::fs::copy(&other.issue("mismatch").cert, &pair.cert).unwrap();
    p.signal("HUP");
    let log = logged(&p, "keeping the certificate in use", 1);
    assert!(log.contains("does not belong to the certificate"), "{log}");
    handshake(ports.json_tls, new.client()).expect("the renewed pair still serves");
    yoda.send("message hans still up");
    hans.expect("yoda: still up\n");
}

/// Start-up problems with the certificate or key exit with status 1 naming the file; a key
/// readable by others starts with a warning.
#[test]
fn bad_certificate_files_stop_the_start_naming_the_file() {
    let pki = Pki::new("start");
    let good = pki.issue("good");
    let other = pki.issue("other");
    let missing = pki.dir.join("missing.pem");
    let not_pem = pki.dir.join("not.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let run = |cert: &std::path::Path, key: &std::path::Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_chatserver"))
            .args(["--bind", "127.0.0.1", "--tls-port", "0", "--tls-cert"])
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .arg("--data-dir")
            .arg(pki.dir.join("data"))
            .arg("--credentials")
            .arg(pki.dir.join("credentials.txt"))
            .arg("0")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let cases = [
        (&missing, &good.key, &missing, "No such file"),
        (&good.cert, &missing, &missing, "No such file"),
        (&not_pem, &good.key, &not_pem, "no PEM certificate"),
        (&good.cert, &not_pem, &not_pem, "no PEM private key"),
        (
            &good.cert,
            &other.key,
            &other.key,
            "does not belong to the certificate",
        ),
    ];
    for (cert, key, named, why) in cases {
        let (code, stderr) = run(cert, key);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains(&named.display().to_string()), "{stderr}");
        assert!(stderr.contains(why), "{why:?} in {stderr}");
    }
    std::fs::set_permissions(
        &good.key,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let (p, _) = start(&good, &[]);
    logged(&p, "is readable by others", 1);
}

/// With `--config`, a reload reads the certificate and key from the files the file names now:
/// a renewal that moves them (a new certbot lineage) needs no restart.
#[test]
fn a_reload_follows_the_config_file_to_new_certificate_files() {
    let (old, new) = (Pki::new("cfg-old"), Pki::new("cfg-new"));
    let (first, second) = (old.issue("first"), new.issue("second"));
    let config = old.dir.join("chatserver.toml");
    let write = |pair: &tls_util::Pair| {
        let text = format!(
            "tls-cert = \"{}\"\ntls-key = \"{}\"\n",
            pair.cert.display(),
            pair.key.display()
        );
        std::fs::write(&config, text).unwrap();
    };
    write(&first);
    let config_arg = config.display().to_string();
    let p = Proc::start(&["--config", &config_arg, "--tls-port", "0"]);
    let line = p.stdout_line();
    let tls: SocketAddr = line
        .strip_prefix("chatserver tls listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("expected the TLS listening line, got {line:?}"));
    handshake(tls, old.client()).expect("the first pair");
    write(&second);
    p.signal("HUP");
    logged(&p, "second.key.pem reloaded", 1);
    handshake(tls, new.client()).expect("the pair the config names now");
    assert!(handshake(tls, old.client()).is_err());
}
