//! End-to-end transcripts of the COMP3331 core (GitHub issue "Core server"): the login dialog,
//! lockout, presence, offline delivery, broadcast and blocks, whoelse/whoelsesince, inactivity,
//! account creation, slow readers, framing and the connection limits, over real TCP against the
//! real binary. Every string is the exact wire text of PROTOCOL.md §1-§3.

mod common;

use common::{sleep_until, Server, WELCOME};
use std::time::{Duration, Instant};

const BAD_PASSWORD: &str = "Invalid Password. Please try again\n";
const NOW_BLOCKED: &str =
    "Invalid Password. Your account has been blocked. Please try again later\n";
const STILL_BLOCKED: &str =
    "Your account is blocked due to multiple login failures. Please try again later\n";

/// `Username: ` → `yoda` → `Password: ` → `wise` → the welcome line, and the user is logged in
/// (a command is answered). A wrong password twice is answered
/// `Invalid Password. Please try again` and `Password: ` each time, and the right one on the
/// third try still logs in: the count resets, so a later single mistake is not a lockout.
#[test]
fn login_dialog_and_two_wrong_passwords() {
    let server = Server::start(&[]);
    let mut yoda = server.connect();
    yoda.expect("Username: ");
    yoda.send("yoda");
    yoda.expect("Password: ");
    yoda.send("wise");
    yoda.expect(WELCOME);
    yoda.send("block yoda");
    yoda.expect("Error. Cannot block self\n");

    let mut hans = server.connect();
    hans.expect("Username: ");
    hans.send("hans");
    hans.expect("Password: ");
    hans.send("falcon");
    hans.expect(BAD_PASSWORD);
    hans.expect("Password: ");
    hans.send("solo");
    hans.expect(BAD_PASSWORD);
    hans.expect("Password: ");
    hans.send("falcon*solo");
    hans.expect(WELCOME);
    yoda.expect("hans logged in\n");

    hans.send("logout");
    hans.expect("You have logged out\n");
    yoda.expect("hans logged out\n");
    hans.expect("Username: ");
    hans.send("hans");
    hans.expect("Password: ");
    hans.send("wrong");
    hans.expect(BAD_PASSWORD);
    hans.expect("Password: ");
    hans.send("falcon*solo");
    hans.expect(WELCOME);
}

/// Three wrong passwords in a row: `Invalid Password. Please try again` twice, then
/// `Invalid Password. Your account has been blocked. Please try again later` and the server
/// closes the connection. While the lock lasts (BLOCK_DURATION 1 s) a new connection that gives
/// the *right* password gets `Your account is blocked due to multiple login failures. Please try
/// again later` and is closed; other accounts are unaffected. Once the second has passed, the
/// right password logs in again.
#[test]
fn three_failures_lock_the_account_until_block_duration_passes() {
    let server = Server::start(&["1", "60"]);
    let mut hans = server.connect();
    hans.expect("Username: ");
    hans.send("hans");
    hans.expect("Password: ");
    hans.send("one");
    hans.expect(BAD_PASSWORD);
    hans.expect("Password: ");
    hans.send("two");
    hans.expect(BAD_PASSWORD);
    hans.expect("Password: ");
    hans.send("three");
    hans.expect(NOW_BLOCKED);
    hans.expect_closed();
    let locked_at = Instant::now();

    let mut again = server.connect();
    again.expect("Username: ");
    again.send("hans");
    again.expect("Password: ");
    again.send("falcon*solo");
    again.expect(STILL_BLOCKED);
    again.expect_closed();
    assert!(
        locked_at.elapsed() < Duration::from_millis(900),
        "the check above must run inside the 1 s lock; the machine is too slow for this test"
    );

    let _yoda = server.login("yoda", "wise");

    sleep_until(locked_at + Duration::from_millis(1200));
    let mut later = server.login("hans", "falcon*solo");
    later.send("whoelse");
    later.expect("yoda\n");
}

/// The failure count belongs to the username, not the connection: one wrong password from each
/// of three connections (the middle one in the one-line `login hans <wrong>` form, answered with
/// `Username: ` instead of `Password: `) locks `hans`, and a fourth connection is refused with
/// the blocked line even though its password is right.
#[test]
fn lockout_counts_failures_from_any_connection() {
    let server = Server::start(&["1", "60"]);
    let mut first = server.connect();
    first.expect("Username: ");
    first.send("hans");
    first.expect("Password: ");
    first.send("nope");
    first.expect(BAD_PASSWORD);
    first.expect("Password: ");

    let mut second = server.connect();
    second.expect("Username: ");
    second.send("login hans nope");
    second.expect(BAD_PASSWORD);
    second.expect("Username: ");

    let mut third = server.connect();
    third.expect("Username: ");
    third.send("hans");
    third.expect("Password: ");
    third.send("nope");
    third.expect(NOW_BLOCKED);
    third.expect_closed();

    let mut fourth = server.connect();
    fourth.expect("Username: ");
    fourth.send("hans");
    fourth.expect("Password: ");
    fourth.send("falcon*solo");
    fourth.expect(STILL_BLOCKED);
    fourth.expect_closed();

    // The first connection is still at its password prompt; the lock reaches it too.
    first.send("falcon*solo");
    first.expect(STILL_BLOCKED);
    first.expect_closed();
}

/// Presence: when `hans` logs in, online `yoda` gets `hans logged in`; when `hans` logs out,
/// `yoda` gets `hans logged out` and `hans` is back at `Username: `. After `hans` blocks `yoda`,
/// `yoda` hears nothing of `hans` coming or going: the next line `yoda` sees is
/// `luke logged in`, which happened later.
#[test]
fn presence_lines_skip_users_the_subject_has_blocked() {
    let server = Server::start(&[]);
    let mut yoda = server.login("yoda", "wise");
    let mut hans = server.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");

    hans.send("logout");
    hans.expect("You have logged out\n");
    hans.expect("Username: ");
    yoda.expect("hans logged out\n");

    hans.send("login hans falcon*solo");
    hans.expect(WELCOME);
    yoda.expect("hans logged in\n");
    hans.send("block yoda");
    hans.expect("yoda is blocked\n");
    hans.send("logout");
    hans.expect("You have logged out\n");
    hans.login("hans", "falcon*solo");

    let mut luke = server.login("luke", "jedi");
    yoda.expect("luke logged in\n");
    hans.expect("luke logged in\n");
    luke.send("whoelse");
    luke.expect("yoda\nhans\n");
}

/// Messages to an offline user are kept and arrive right after the welcome line of its next
/// login, in the order they were sent, as `sender: text` with the text verbatim (inner and
/// trailing spaces kept). They are delivered once: the login after that shows none.
#[test]
fn offline_messages_arrive_after_welcome_in_order() {
    let server = Server::start(&[]);
    let mut hans = server.login("hans", "falcon*solo");
    let mut luke = server.login("luke", "jedi");
    hans.expect("luke logged in\n");

    hans.send("message yoda first");
    hans.send("whoelse");
    hans.expect("luke\n");
    luke.send("message yoda second,  from luke");
    luke.send("whoelse");
    luke.expect("hans\n");
    hans.send("message   yoda   third with trailing spaces  ");
    hans.send("whoelse");
    hans.expect("luke\n");

    let mut yoda = server.login("yoda", "wise");
    yoda.expect("hans: first\n");
    yoda.expect("luke: second,  from luke\n");
    yoda.expect("hans: third with trailing spaces  \n");
    hans.expect("yoda logged in\n");
    luke.expect("yoda logged in\n");
    yoda.send("whoelse");
    yoda.expect("hans\nluke\n");

    yoda.send("logout");
    yoda.expect("You have logged out\n");
    hans.expect("yoda logged out\n");
    luke.expect("yoda logged out\n");
    yoda.login("yoda", "wise");
    yoda.send("whoelse");
    yoda.expect("hans\nluke\n");
}

/// Blocks: `yoda` sends `block hans` (`hans is blocked`). `hans`'s `broadcast` reaches `luke` but
/// not `yoda`, and `hans` is told `Your message could not be delivered to some recipients`;
/// `message yoda ...` from `hans` gets
/// `Your message could not be delivered as the recipient has blocked you`. The errors:
/// `Error. Cannot block self`, `Error. Invalid user`, `Error. luke was not blocked`. After
/// `unblock hans` (`hans is unblocked`) both kinds of message reach `yoda` again, with no warning.
#[test]
fn broadcast_and_message_respect_blocks() {
    let server = Server::start(&[]);
    let [mut hans, mut yoda, mut luke] =
        server.login_all([("hans", "falcon*solo"), ("yoda", "wise"), ("luke", "jedi")]);

    yoda.send("block hans");
    yoda.expect("hans is blocked\n");
    hans.send("broadcast hello all");
    hans.expect("Your message could not be delivered to some recipients\n");
    luke.expect("hans: hello all\n");
    hans.send("message yoda psst");
    hans.expect("Your message could not be delivered as the recipient has blocked you\n");
    luke.send("broadcast from luke");
    yoda.expect("luke: from luke\n");
    hans.expect("luke: from luke\n");

    yoda.send("block yoda");
    yoda.expect("Error. Cannot block self\n");
    yoda.send("block nobody");
    yoda.expect("Error. Invalid user\n");
    yoda.send("unblock luke");
    yoda.expect("Error. luke was not blocked\n");
    yoda.send("unblock nobody");
    yoda.expect("Error. Invalid user\n");
    yoda.send("unblock hans");
    yoda.expect("hans is unblocked\n");

    hans.send("message yoda back again");
    hans.send("broadcast to everyone");
    hans.send("whoelse");
    hans.expect("yoda\nluke\n");
    yoda.expect("hans: back again\n");
    yoda.expect("hans: to everyone\n");
    luke.expect("hans: to everyone\n");
}

/// `whoelse` and its aliases `online` and `list` list the other online users, one per line in
/// login order, leaving out whoever blocked the asker. `whoelsesince <seconds>` adds users who
/// logged out within the window (most recent first), again leaving out those who blocked the
/// asker; after the window has passed they drop out. `whoelsesince abc` is
/// `Error. Invalid command`.
#[test]
fn whoelse_and_whoelsesince() {
    let server = Server::start(&[]);
    let [mut hans, mut yoda, mut luke, mut vader] = server.login_all([
        ("hans", "falcon*solo"),
        ("yoda", "wise"),
        ("luke", "jedi"),
        ("vader", "sithlord**"),
    ]);

    hans.send("whoelse");
    hans.expect("yoda\nluke\nvader\n");
    hans.send("online");
    hans.expect("yoda\nluke\nvader\n");
    hans.send("list");
    hans.expect("yoda\nluke\nvader\n");

    luke.send("block hans");
    luke.expect("hans is blocked\n");
    hans.send("whoelse");
    hans.expect("yoda\nvader\n");

    vader.send("logout");
    vader.expect("You have logged out\n");
    hans.expect("vader logged out\n");
    yoda.expect("vader logged out\n");
    luke.expect("vader logged out\n");
    luke.send("logout");
    luke.expect("You have logged out\n");
    yoda.expect("luke logged out\n");
    let luke_left = Instant::now();

    hans.send("whoelse");
    hans.expect("yoda\n");
    hans.send("whoelsesince 60");
    hans.expect("yoda\nvader\n");
    yoda.send("whoelsesince 60");
    yoda.expect("hans\nluke\nvader\n");
    yoda.send("whoelsesince abc");
    yoda.expect("Error. Invalid command\n");

    sleep_until(luke_left + Duration::from_millis(1200));
    yoda.send("whoelsesince 1");
    yoda.expect("hans\n");
}

/// Inactivity (TIMEOUT 2 s): `yoda` sends only `bogus` (answered `Error. Invalid command`, which
/// is not activity) and is logged out 2 s after its login with
/// `You have been logged out due to inactivity`, then closed; `hans` gets `yoda logged out`.
/// `hans` sent a valid command 1.2 s in, so its own logout comes about 1.2 s later than yoda's.
#[test]
fn inactivity_logout_and_invalid_commands_are_not_activity() {
    let server = Server::start(&["1", "2"]);
    let mut yoda = server.login("yoda", "wise");
    let yoda_in = Instant::now();
    let mut hans = server.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");

    sleep_until(yoda_in + Duration::from_millis(1200));
    yoda.send("bogus");
    yoda.expect("Error. Invalid command\n");
    hans.send("whoelse");
    hans.expect("yoda\n");
    let hans_active = Instant::now();

    yoda.expect("You have been logged out due to inactivity\n");
    let yoda_out = yoda_in.elapsed();
    yoda.expect_closed();
    hans.expect("yoda logged out\n");
    assert!(
        yoda_out >= Duration::from_millis(1900) && yoda_out < Duration::from_millis(2900),
        "yoda logged out {yoda_out:?} after login; TIMEOUT is 2 s and `bogus` must not count"
    );

    hans.expect("You have been logged out due to inactivity\n");
    let hans_out = hans_active.elapsed();
    hans.expect_closed();
    assert!(
        hans_out >= Duration::from_millis(1800),
        "hans logged out only {hans_out:?} after its last command"
    );
}

/// Registration: an unknown username gets `New user ann. Choose a password`, then `Password: `,
/// then the welcome line; credentials.txt gains a line `ann $sha256$...` and the account works
/// from a new connection. One-line forms: `register ben pw` logs straight in,
/// `register yoda x` is `Error. yoda already exists`, `login hans falcon*solo` logs in.
#[test]
fn new_user_is_created_and_persisted() {
    let server = Server::start(&[]);
    let mut ann = server.connect();
    ann.expect("Username: ");
    ann.send("ann");
    ann.expect("New user ann. Choose a password\n");
    ann.expect("Password: ");
    ann.send("secret1");
    ann.expect(WELCOME);

    let creds = std::fs::read_to_string(server.dir().join("credentials.txt")).unwrap();
    assert!(
        creds.lines().any(|l| l.starts_with("ann $pbkdf2-sha256$")),
        "credentials.txt lacks a hashed ann line:\n{creds}"
    );
    assert!(creds.starts_with(common::SAMPLE_CREDENTIALS));

    ann.send("exit");
    ann.expect("You have logged out\n");
    ann.expect("Goodbye\n");
    ann.expect_closed();
    let mut ann = server.login("ann", "secret1");

    let mut ben = server.connect();
    ben.expect("Username: ");
    ben.send("register yoda x");
    ben.expect("Error. yoda already exists\n");
    ben.expect("Username: ");
    ben.send("register ben pw");
    ben.expect(WELCOME);
    ann.expect("ben logged in\n");

    let mut hans = server.connect();
    hans.expect("Username: ");
    hans.send("login hans falcon*solo");
    hans.expect(WELCOME);
    ann.expect("hans logged in\n");
    ben.expect("hans logged in\n");
    hans.send("whoelse");
    hans.expect("ann\nben\n");
}

/// With `--no-register` an unknown username is `Invalid Username. Please try again` followed by
/// `Username: `, and known users still log in.
#[test]
fn no_register_refuses_unknown_usernames() {
    let server = Server::start(&["--no-register"]);
    let mut c = server.connect();
    c.expect("Username: ");
    c.send("ann");
    c.expect("Invalid Username. Please try again\n");
    c.expect("Username: ");
    c.send("yoda");
    c.expect("Password: ");
    c.send("wise");
    c.expect(WELCOME);
}

/// A second login of an online user, in either form, gets `Error. yoda is already logged in`
/// and `Username: `; the first session is untouched.
#[test]
fn duplicate_login_is_refused() {
    let server = Server::start(&[]);
    let mut yoda = server.login("yoda", "wise");
    let mut dup = server.connect();
    dup.expect("Username: ");
    dup.send("yoda");
    dup.expect("Error. yoda is already logged in\n");
    dup.expect("Username: ");
    dup.send("login yoda wise");
    dup.expect("Error. yoda is already logged in\n");
    dup.expect("Username: ");
    dup.send("luke");
    dup.expect("Password: ");
    dup.send("jedi");
    dup.expect(WELCOME);
    yoda.expect("luke logged in\n");
    yoda.send("whoelse");
    yoda.expect("luke\n");
}

/// A reader that never reads (`--max-output 16384`): `vader` logs in and stops reading while
/// `hans` broadcasts 1000-byte lines in small batches that `luke` reads as they come. Once the
/// kernel buffers and vader's 16 KiB output cap are full, the server drops vader: `hans` and
/// `luke` get `vader logged out` and vader's socket ends. `luke` never falls behind or gets
/// disconnected, and keeps receiving afterwards.
#[test]
fn slow_reader_is_disconnected_without_hurting_others() {
    let server = Server::start(&["--max-output", "16384", "--fsync", "never"]);
    let mut vader = server.login("vader", "sithlord**");
    let mut hans = server.login("hans", "falcon*solo");
    vader.expect("hans logged in\n");
    let mut luke = server.login("luke", "jedi");
    hans.expect("luke logged in\n");

    // Lockstep: each batch (8 KiB) is read by luke before the next is sent, so luke's output
    // never nears the cap while vader's kernel buffers, then its 16 KiB, fill up.
    let filler = "x".repeat(990);
    let mut sent = 0usize;
    let started = Instant::now();
    let mut batch = 0u32;
    loop {
        assert!(
            sent < 256 << 20,
            "sent {sent} bytes and vader is still connected"
        );
        let mut lines = String::new();
        for i in 0..8 {
            lines.push_str(&format!("broadcast {batch:06}.{i} {filler}\n"));
        }
        hans.send_raw(lines.as_bytes());
        sent += lines.len();
        let mut vader_gone = false;
        for i in 0..8 {
            let mut got = luke.expect_line();
            if got == "vader logged out" {
                vader_gone = true;
                got = luke.expect_line();
            }
            assert_eq!(
                got,
                format!("hans: {batch:06}.{i} {filler}"),
                "luke lost a line"
            );
        }
        if vader_gone {
            break;
        }
        batch += 1;
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the flood took {:?}",
        started.elapsed()
    );
    hans.expect("vader logged out\n");
    hans.send("whoelse");
    hans.expect("luke\n");

    let t = Instant::now();
    hans.send("broadcast still here");
    luke.expect("hans: still here\n");
    assert!(t.elapsed() < Duration::from_secs(1), "luke was slowed down");

    let got = vader.drain_until_closed();
    assert!(
        got < sent,
        "vader got {got} of {sent} bytes, yet was disconnected"
    );
}

/// Framing over TCP: `\r\n` line ends are accepted (telnet) and the `\r` never reaches a
/// message; a line over `--max-line 64` is `Error. Line too long` and the connection still
/// works; invalid UTF-8 is `Error. Invalid UTF-8` (nothing is sent on); several commands in one
/// write are all answered in order; a command split across two writes is one command.
#[test]
fn framing_over_tcp() {
    let server = Server::start(&["--max-line", "64"]);
    let mut hans = server.login("hans", "falcon*solo");

    let mut yoda = server.connect();
    yoda.expect("Username: ");
    yoda.send_raw(b"yoda\r\n");
    yoda.expect("Password: ");
    yoda.send_raw(b"wise\r\n");
    yoda.expect(WELCOME);
    hans.expect("yoda logged in\n");
    yoda.send_raw(b"whoelse\r\n");
    yoda.expect("hans\n");
    yoda.send_raw(b"message hans hi there\r\n");
    hans.expect("yoda: hi there\n");

    let long = format!("broadcast {}\n", "y".repeat(100));
    yoda.send_raw(long.as_bytes());
    yoda.expect("Error. Line too long\n");
    yoda.send("whoelse");
    yoda.expect("hans\n");

    let mut anon = server.connect();
    anon.expect("Username: ");
    anon.send(&"z".repeat(200));
    anon.expect("Error. Line too long\n");
    anon.expect("Username: ");
    anon.send_raw(b"\xff\xfeyoda\n");
    anon.expect("Error. Invalid UTF-8\n");
    anon.expect("Username: ");

    yoda.send_raw(b"message hans caf\xe9\n");
    yoda.expect("Error. Invalid UTF-8\n");
    yoda.send("message hans caf\u{e9} ok");
    hans.expect("yoda: caf\u{e9} ok\n");

    yoda.send_raw(
        b"block hans\nunblock hans\nbogus\nwhoelse\nmessage hans a\nmessage hans b\nblock yoda\n",
    );
    yoda.expect("hans is blocked\n");
    yoda.expect("hans is unblocked\n");
    yoda.expect("Error. Invalid command\n");
    yoda.expect("hans\n");
    yoda.expect("Error. Cannot block self\n");
    hans.expect("yoda: a\nyoda: b\n");

    yoda.send_raw(b"mess");
    std::thread::sleep(Duration::from_millis(50));
    yoda.send_raw(b"age hans split\n");
    hans.expect("yoda: split\n");
}

/// Commands: anything not understood is `Error. Invalid command` (unknown words, wrong case,
/// missing arguments). `logout` answers `You have logged out` and returns to `Username: `.
/// `exit` logs out the same way, sends `Goodbye` and closes; at the `Username: ` prompt `exit`
/// just says `Goodbye` and closes.
#[test]
fn invalid_commands_logout_and_exit() {
    let server = Server::start(&[]);
    let mut yoda = server.login("yoda", "wise");
    let mut hans = server.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
    for bad in [
        "dance",
        "Message hans hi",
        "message hans",
        "whoelse now",
        "block",
    ] {
        hans.send(bad);
        hans.expect("Error. Invalid command\n");
    }
    hans.send("logout");
    hans.expect("You have logged out\n");
    hans.expect("Username: ");
    yoda.expect("hans logged out\n");
    hans.send("exit");
    hans.expect("Goodbye\n");
    hans.expect_closed();

    yoda.send("exit");
    yoda.expect("You have logged out\n");
    yoda.expect("Goodbye\n");
    yoda.expect_closed();
}

/// `--max-clients 2`: with two connections open, the third is told `Error. Server full` and
/// closed; once one of the two has gone, a new connection is greeted with `Username: `.
#[test]
fn max_clients_refuses_the_extra_connection() {
    let server = Server::start(&["--max-clients", "2"]);
    let mut first = server.connect();
    first.expect("Username: ");
    let mut second = server.connect();
    second.expect("Username: ");
    let mut third = server.connect();
    third.expect("Error. Server full\n");
    third.expect_closed();

    first.send("exit");
    first.expect("Goodbye\n");
    first.expect_closed();
    let mut fourth = server.connect();
    fourth.expect("Username: ");
    fourth.send("login yoda wise");
    fourth.expect(WELCOME);
    second.send("login hans falcon*solo");
    second.expect(WELCOME);
    fourth.expect("hans logged in\n");
}

/// The COMP3331 sample-interaction flavour, scripted like `printf 'yoda\nwise\n...' | nc`: the
/// client writes its whole session and half-closes (shutdown of its sending side). The server
/// still answers every line (prompts, welcome, the `whoelse` list, the message to `hans`) before
/// it closes, and `hans` sees `yoda` come and go.
#[test]
fn half_closed_client_gets_all_answers_before_close() {
    let server = Server::start(&[]);
    let mut hans = server.login("hans", "falcon*solo");
    let mut yoda = server.connect();
    yoda.send_raw(b"yoda\nwise\nwhoelse\nmessage hans hello from a script\n");
    yoda.shutdown_write();
    yoda.expect("Username: Password: ");
    yoda.expect(WELCOME);
    yoda.expect("hans\n");
    yoda.expect_closed();
    hans.expect("yoda logged in\n");
    hans.expect("yoda: hello from a script\n");
    hans.expect("yoda logged out\n");
}

/// Offline messages are never lost to the output cap. `hans` leaves ten 500-byte messages for
/// offline `yoda` on a server with `--max-output 2048`; `yoda`'s login backlog (about 5 KiB)
/// is larger than the cap. Whatever the server does with the first login (deliver it all, or
/// cut the connection), all ten messages must reach `yoda` in order by the second login.
/// (The server hands a backlog out a quarter of the cap at a time, as the socket drains, and
/// answers commands meanwhile: a `block yoda` sent at once may be answered before the
/// backlog's end, so the test waits for the ten, then for the answer to one `block yoda`.)
#[test]
fn offline_backlog_larger_than_output_cap_is_not_lost() {
    const SELF_BLOCK: &str = "Error. Cannot block self";
    let server = Server::start(&["--max-output", "2048"]);
    let mut hans = server.login("hans", "falcon*solo");
    let body = "m".repeat(500);
    for i in 0..10 {
        hans.send(&format!("message yoda {i} {body}"));
    }
    hans.send("block hans");
    hans.expect("Error. Cannot block self\n");

    let mut received = Vec::new();
    let mut yoda = server.login("yoda", "wise");
    // Whether `block yoda` was sent on this connection since the ten were in.
    let mut probed = false;
    loop {
        if received.len() >= 10 && !probed {
            yoda.send("block yoda");
            probed = true;
        }
        let line = yoda.expect_line_or_closed();
        match line.as_deref() {
            None => {
                yoda = server.login("yoda", "wise");
                probed = false;
            }
            Some(SELF_BLOCK) if probed => break,
            Some(SELF_BLOCK) => panic!("a self-block answered that was never sent"),
            Some(l) => {
                let (n, rest) = l.strip_prefix("hans: ").unwrap().split_once(' ').unwrap();
                assert_eq!(rest, body, "message {n} was altered");
                received.push(n.parse::<u32>().unwrap());
            }
        }
    }
    assert_eq!(
        received,
        (0..10).collect::<Vec<u32>>(),
        "offline messages received"
    );
}
