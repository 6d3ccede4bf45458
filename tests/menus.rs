//! The menu-style command sets (PROTOCOL.md §6) over real TCP against the real binary: `BM`,
//! `PM`, `private` with prompts, `CH`/`history` transcripts, and the history after a restart.

mod common;

use common::{Client, Server};

/// A `history` line with its `[YYYY-MM-DD HH:MM:SS] ` stamp checked and cut off.
fn unstamped(line: &str) -> String {
    let b = line.as_bytes();
    let shape = b.len() > 22
        && b[0] == b'['
        && b[20] == b']'
        && b[21] == b' '
        && b[1..20].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    assert!(shape, "not a history line: {line:?}");
    line[22..].to_string()
}

/// `CH` (or `history …`) of `c`: `n` lines, stamps checked and removed.
fn history(c: &mut Client, command: &str, n: usize) -> Vec<String> {
    c.send(command);
    (0..n).map(|_| unstamped(&c.expect_line())).collect()
}

#[test]
fn bm_pm_private_and_ch_transcripts() {
    let server = Server::start(&[]);
    let [mut hans, mut yoda, mut luke] =
        server.login_all([("hans", "falcon*solo"), ("yoda", "wise"), ("luke", "jedi")]);

    hans.send("BM");
    hans.expect("Message: ");
    hans.send("hello  everyone");
    hans.expect("Message sent\n");
    yoda.expect("hans: hello  everyone\n");
    luke.expect("hans: hello  everyone\n");

    hans.send("PM");
    hans.expect("yoda\nluke\nRecipient: ");
    hans.send("yoda");
    hans.expect("Message: ");
    hans.send("just you");
    hans.expect("Message sent\n");
    yoda.expect("hans: just you\n");

    hans.send("PM");
    hans.expect("yoda\nluke\nRecipient: ");
    hans.send("nobody");
    hans.expect("Message: ");
    hans.send("hi");
    hans.expect("Error. Invalid user\n");

    yoda.send("private");
    yoda.expect("Who do you want to send message to? ");
    yoda.send("hans");
    yoda.expect("Type message you want to send: ");
    yoda.send("back at you");
    hans.expect("yoda: back at you\n");

    luke.send("BM");
    luke.expect("Message: ");
    yoda.send("announce all hands");
    yoda.expect("yoda: all hands\n");
    luke.expect("yoda: all hands\n"); // delivered while luke is at the prompt
    hans.expect("yoda: all hands\n");
    luke.send("");
    luke.expect("Cancelled\n");

    assert_eq!(
        history(&mut hans, "CH", 4),
        [
            "hans: hello  everyone",
            "hans -> yoda: just you",
            "yoda -> hans: back at you",
            "yoda: all hands"
        ]
    );
    assert_eq!(
        history(&mut luke, "history", 2),
        ["hans: hello  everyone", "yoda: all hands"]
    );
    assert_eq!(history(&mut yoda, "history 1", 1), ["yoda: all hands"]);
    yoda.send("history x");
    yoda.expect("Error. Invalid command\n");
    luke.expect_silence(100);

    luke.send("EX");
    luke.expect("You have logged out\nGoodbye\n");
    luke.expect_closed();
    hans.expect("luke logged out\n");
    yoda.expect("luke logged out\n");
}

/// The history is durable: after a `kill -9` and a restart `CH` shows the same lines.
#[test]
fn history_after_a_restart() {
    let mut server = Server::start(&[]);
    let before;
    {
        let [mut hans, mut yoda] = server.login_all([("hans", "falcon*solo"), ("yoda", "wise")]);
        hans.send("broadcast one");
        yoda.expect("hans: one\n");
        yoda.send("message hans two");
        hans.expect("yoda: two\n");
        hans.send("announce three");
        hans.expect("hans: three\n");
        yoda.expect("hans: three\n");
        hans.send("CH");
        before = (0..3).map(|_| hans.expect_line()).collect::<Vec<_>>();
        assert_eq!(
            before.iter().map(|l| unstamped(l)).collect::<Vec<_>>(),
            ["hans: one", "yoda -> hans: two", "hans: three"]
        );
        server.kill();
    }
    server.restart();
    let mut hans = server.login("hans", "falcon*solo");
    hans.send("CH");
    let after = (0..3).map(|_| hans.expect_line()).collect::<Vec<_>>();
    assert_eq!(after, before, "same lines, same timestamps");
    hans.expect_silence(100);
}
