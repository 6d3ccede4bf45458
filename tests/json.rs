//! The seed-002 JSON port (PROTOCOL.md §6) end to end: a test client sends the exact bytes the
//! seed's client.py sends (Python's json.dumps with its default `", "` and `": "` separators,
//! no newline) and checks the exact replies of seed-002-wire.md, byte for byte.

mod common;
mod frontends_util;

use common::Client;
use frontends_util::Proc;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const GREETING: &str =
    "[*] Welcome to the chat room!\n[*] Please enter your user name to get started.\n";

fn welcome(name: &str) -> String {
    format!("\nServer: Welcome {name}!\n\nChoose msg options.\nType <help> to see the list of options\n")
}

fn first(name: &str) -> String {
    format!(r#"{{"msgType": "<first>", "content": "{name}"}}"#)
}

fn announce(text: &str) -> String {
    format!(r#"{{"msgType": "<announce>", "content": "{text}"}}"#)
}

fn private(text: &str, target: &str) -> String {
    format!(r#"{{"msgType": "<private>", "content": "{text}", "target": "{target}"}}"#)
}

const LIST: &str = r#"{"msgType": "<list>", "content": ""}"#;
const QUIT: &str = r#"{"msgType": "<quit>", "content": ""}"#;

/// A JSON connection past its greeting, and its own address (for `<list>`).
fn connect(addr: SocketAddr) -> (Client, SocketAddr) {
    let stream = TcpStream::connect(addr).expect("connect");
    let local = stream.local_addr().expect("local address");
    let mut c = Client::from_stream(stream);
    c.expect(GREETING);
    (c, local)
}

/// A JSON guest called `name`, welcomed.
fn guest(p: &Proc, name: &str) -> (Client, SocketAddr) {
    let (mut c, local) = connect(p.json.expect("json port"));
    c.send_raw(first(name).as_bytes());
    c.expect(&welcome(name));
    c.name = name.to_string();
    (c, local)
}

/// The seed's session: two guests join, list, DM, announce, and one quits.
#[test]
fn the_seed_transcript_byte_for_byte() {
    let p = Proc::start(&[]);
    let (mut moo, moo_addr) = guest(&p, "Mooyeong");
    let (mut jer, jer_addr) = guest(&p, "Jeremy");
    moo.expect("\nServer: Jeremy has joined the chat room!");

    // The seed's layout; another user's address is withheld (issue 17, F13).
    jer.send_raw(LIST.as_bytes());
    jer.expect(&format!(
        "\n[*] List of users \n    Client: 'Mooyeong' ~ hidden : 0\n   Client: 'Jeremy' ~ 127.0.0.1 : {}\n\n ",
        jer_addr.port()
    ));
    moo.send_raw(LIST.as_bytes());
    moo.expect(&format!(
        "\n[*] List of users \n    Client: 'Mooyeong' ~ 127.0.0.1 : {}\n   Client: 'Jeremy' ~ hidden : 0\n\n ",
        moo_addr.port()
    ));

    moo.send_raw(private("hi there", "Jeremy").as_bytes());
    jer.expect("From Mooyeong to Jeremy: hi there");
    moo.send_raw(private("hello?", "Nobody").as_bytes());
    moo.expect("[*] Oops there was an error sending DM, please check the intended username again");

    moo.send_raw(announce("hello all").as_bytes());
    moo.expect("\nMooyeong: hello all");
    jer.expect("\nMooyeong: hello all");
    // Any other msgType is an announcement, as in the seed's server.
    moo.send_raw(br#"{"msgType": "<shout>", "content": "loud"}"#);
    moo.expect("\nMooyeong: loud");
    jer.expect("\nMooyeong: loud");
    moo.expect_silence(100);
}

/// `<quit>` is answered with `<quit>` as a write of its own, then the close; others see the
/// seed's leave line.
#[test]
fn quit_is_its_own_write_then_close() {
    let p = Proc::start(&[]);
    let (mut moo, _) = guest(&p, "Mooyeong");
    let mut stream = TcpStream::connect(p.json.expect("json port")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buf = [0u8; 1024];
    let mut greeting = Vec::new();
    while greeting.len() < GREETING.len() {
        let n = stream.read(&mut buf).expect("greeting");
        assert!(n > 0, "closed early");
        greeting.extend_from_slice(&buf[..n]);
    }
    assert_eq!(greeting, GREETING.as_bytes());
    std::io::Write::write_all(&mut stream, first("Anthony").as_bytes()).expect("send");
    let mut got = Vec::new();
    while got.len() < welcome("Anthony").len() {
        let n = stream.read(&mut buf).expect("welcome");
        assert!(n > 0, "closed early");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, welcome("Anthony").as_bytes());
    moo.expect("\nServer: Anthony has joined the chat room!");
    std::thread::sleep(Duration::from_millis(100));
    std::io::Write::write_all(&mut stream, QUIT.as_bytes()).expect("send");
    let n = stream.read(&mut buf).expect("<quit>");
    assert_eq!(
        &buf[..n],
        b"<quit>",
        "the client compares whole chunks with <quit>"
    );
    assert_eq!(stream.read(&mut buf).map_err(|e| e.kind()), Ok(0), "closed");
    moo.expect("\n[*] Anthony has left the chat room.");
}

/// The client sends one object per write, but TCP may join or split them: two objects in one
/// write are two requests, one object in three writes is one.
#[test]
fn objects_are_split_from_the_stream_not_from_reads() {
    let p = Proc::start(&[]);
    let (mut moo, _) = guest(&p, "Mooyeong");
    let (mut jer, _) = guest(&p, "Jeremy");
    moo.expect("\nServer: Jeremy has joined the chat room!");
    let two = format!("{}{}", announce("one"), private("two", "Jeremy"));
    moo.send_raw(two.as_bytes());
    moo.expect("\nMooyeong: one");
    jer.expect("\nMooyeong: one");
    jer.expect("From Mooyeong to Jeremy: two");
    // As json.dumps writes it: the quotes escaped.
    let split = announce(r#"in three {parts}, \"quoted\""#);
    let bytes = split.as_bytes();
    moo.send_raw(&bytes[..10]);
    std::thread::sleep(Duration::from_millis(50));
    moo.send_raw(&bytes[10..30]);
    std::thread::sleep(Duration::from_millis(50));
    moo.send_raw(&bytes[30..]);
    jer.expect("\nMooyeong: in three {parts}, \"quoted\"");
    moo.expect("\nMooyeong: in three {parts}, \"quoted\"");
}

/// A name that is an account or online is taken: the guest gets the first free variant and is
/// told so (issue 21: the seed's client names itself once). One the line protocol cannot
/// address is invalid, and the client may try again. Malformed objects get
/// `[*] Invalid request` and the connection stays.
#[test]
fn name_taken_invalid_name_and_invalid_request_keep_the_connection() {
    let p = Proc::start(&["--max-line", "256"]);
    let _yoda = p.login("yoda", "wise");
    let (_moo, _) = guest(&p, "Mooyeong");
    let mut renamed = Vec::new();
    for (taken, given) in [
        ("yoda", "yoda2"),
        ("hans", "hans2"),
        ("Mooyeong", "Mooyeong2"),
    ] {
        let (mut c, _) = connect(p.json.expect("json port"));
        c.send_raw(first(taken).as_bytes());
        c.expect(&format!(
            "\n[*] Name taken, you are {given}{}",
            welcome(given)
        ));
        renamed.push(c);
    }
    let (mut c, _) = connect(p.json.expect("json port"));
    c.send_raw(first("Moo yeong").as_bytes());
    c.expect("\n[*] Invalid name, choose another (1-32 characters, no spaces)");
    c.send_raw(br#"{"msgType": 7}"#);
    c.expect("\n[*] Invalid request");
    c.send_raw(br#"{"content": "no type"} nonsense {"msgType": "<first>"}"#);
    c.expect("\n[*] Invalid request\n[*] Invalid request\n[*] Invalid request");
    let long = announce(&"x".repeat(300));
    c.send_raw(long.as_bytes());
    c.expect("\n[*] Error. Line too long");
    c.send_raw(first("Jeremy").as_bytes());
    c.expect(&welcome("Jeremy"));
    c.send_raw(b"{\"msgType\": \"<list>\", \"content\": \"\"");
    c.send_raw(b"}");
    let list = c.expect_line();
    assert_eq!(list, "");
    c.expect("[*] List of users \n    Client: 'yoda' ~ hidden : 0\n");
}

/// A line user and a JSON guest see each other (whoelse / <list>) and message each other both
/// ways; join and leave reach each in its own wire's words.
#[test]
fn line_users_and_guests_share_one_world() {
    let p = Proc::start(&[]);
    let mut yoda = p.login("yoda", "wise");
    let (mut moo, _) = guest(&p, "Moo");
    yoda.expect("Moo logged in\n");
    let mut hans = p.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
    moo.expect("\nServer: hans has joined the chat room!");

    yoda.send("whoelse");
    yoda.expect("Moo\nhans\n");
    moo.send_raw(LIST.as_bytes());
    moo.expect("\n[*] List of users \n    Client: 'yoda' ~ hidden : 0\n");
    moo.expect("   Client: 'Moo' ~ 127.0.0.1 : ");
    let rest = moo.expect_line();
    assert!(rest.parse::<u16>().is_ok(), "{rest:?}");
    moo.expect("   Client: 'hans' ~ hidden : 0\n");
    moo.expect("\n ");

    yoda.send("message Moo hello guest");
    moo.expect("From yoda to Moo: hello guest");
    moo.send_raw(private("hi yoda", "yoda").as_bytes());
    yoda.expect("Moo: hi yoda\n");
    yoda.send("broadcast to all");
    moo.expect("\nyoda: to all");
    hans.expect("yoda: to all\n");
    moo.send_raw(announce("from the guest").as_bytes());
    moo.expect("\nMoo: from the guest");
    yoda.expect("Moo: from the guest\n");
    hans.expect("Moo: from the guest\n");

    hans.send("logout");
    hans.expect("You have logged out\nUsername: ");
    yoda.expect("hans logged out\n");
    moo.expect("\n[*] hans has left the chat room.");
    moo.send_raw(QUIT.as_bytes());
    moo.expect("<quit>");
    moo.expect_closed();
    yoda.expect("Moo logged out\n");
    yoda.send("message Moo are you there");
    yoda.expect("Error. Invalid user\n");
}

/// Issue 21: when the server ends a guest's session, the closing notice and `<quit>` are two
/// writes with a pause between them (connection::TAIL_PAUSE, 250 ms), so seed 002's client,
/// which may still be busy with a message that came just before, reads `<quit>` on its own.
/// tests/seed002/run.sh checks it with the real client.
#[test]
fn a_kick_sends_quit_alone_after_a_pause() {
    let mut p = Proc::start(&[]);
    let mut stream = TcpStream::connect(p.json.expect("json port")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    std::io::Write::write_all(&mut stream, first("Anthony").as_bytes()).expect("send");
    let want = format!("{GREETING}{}", welcome("Anthony"));
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < want.len() {
        let n = stream.read(&mut buf).expect("welcome");
        assert!(n > 0, "closed early");
        got.extend_from_slice(&buf[..n]);
    }
    p.console("announce one moment\nkick Anthony");
    let notice = b"\n[*] You have been kicked by the server";
    let mut got = Vec::new();
    while !got.ends_with(notice) {
        let n = stream.read(&mut buf).expect("the notice");
        assert!(
            n > 0,
            "closed before the notice: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    let at = std::time::Instant::now();
    let n = stream.read(&mut buf).expect("<quit>");
    let gap = at.elapsed();
    assert_eq!(&buf[..n], b"<quit>");
    assert!(
        gap >= Duration::from_millis(150),
        "only {gap:?} between them"
    );
    assert_eq!(stream.read(&mut buf).map_err(|e| e.kind()), Ok(0), "closed");
}

/// Issue 17 F2 (the server half): a JSON string escape puts `\n` into a message; it is refused
/// with a clear error, so no line user ever sees a forged second line (`hans: send me your
/// password`, a `P2P` machine line). A clean message after it arrives alone.
#[test]
fn f2_a_newline_from_json_never_forges_a_line() {
    let p = Proc::start(&[]);
    let mut yoda = p.login("yoda", "wise");
    let (mut eve, _) = guest(&p, "eve");
    yoda.expect("eve logged in\n");
    let forged = r"hi\nhans: send me your password\nP2P hans 127.0.0.1 4444 00";
    let refused = "\n[*] Error. Text may not contain control characters (tab is allowed)";
    eve.send_raw(private(forged, "yoda").as_bytes());
    eve.expect(refused);
    eve.send_raw(announce(r"all\u001b[2J").as_bytes());
    eve.expect(refused);
    eve.send_raw(private("clean", "yoda").as_bytes());
    yoda.expect("eve: clean\n");
}
