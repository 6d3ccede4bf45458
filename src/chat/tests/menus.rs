//! Core tests of the menu-style command sets (PROTOCOL.md §6): the `private`, `BM` and `PM`
//! prompt dialogs and `history`/`CH`, with simulated time.

use super::{settings, Sim};
use crate::chat::*;
use crate::protocol::line::text;
use crate::protocol::line::{parse, Frame};
use crate::record::{Audience, Record};
use std::time::Duration;
use std::time::SystemTime;

/// hans on 1, yoda on 2, vader on 3, all logged in at 0 and their output discarded.
fn three() -> Sim {
    let mut s = Sim::new();
    s.login(1, "hans", "falcon*solo", 0);
    s.login(2, "yoda", "wise", 0);
    s.login(3, "vader", "sithlord**", 0);
    s.take_all();
    s
}

#[test]
fn bm_prompts_broadcasts_and_confirms() {
    let mut s = three();
    s.line(1, "BM", 1);
    assert_eq!(s.take(1), "Message: ");
    assert_eq!(s.chat.expects(Sim::id(1)), Expect::Answer);
    s.line(1, "  hello  all ", 2);
    assert_eq!(s.take(1), "Message sent\n");
    assert_eq!(s.take(2), "hans:   hello  all \n");
    assert_eq!(s.take(3), "hans:   hello  all \n");
    assert_eq!(s.chat.expects(Sim::id(1)), Expect::Command);
    // A blocker is skipped as for `broadcast`.
    s.line(3, "block hans", 3);
    s.take(3);
    s.line(1, "BM", 4);
    s.line(1, "again", 4);
    assert_eq!(
        s.take(1),
        format!("Message: {}Message sent\n", text::SOME_NOT_DELIVERED)
    );
    assert_eq!(s.take(3), "");
}

#[test]
fn pm_lists_prompts_and_sends() {
    let mut s = three();
    s.line(1, "PM", 1);
    assert_eq!(s.take(1), "yoda\nvader\nRecipient: ");
    s.line(1, " yoda ", 2);
    assert_eq!(s.take(1), "Message: ");
    s.line(1, "psst  there", 3);
    assert_eq!(s.take(1), "Message sent\n");
    assert_eq!(s.take(2), "hans: psst  there\n");
    assert_eq!(s.take(3), "");
    // To an offline user it is kept like `message`.
    s.line(1, "PM", 4);
    s.line(1, "luke", 4);
    s.line(1, "later", 4);
    assert_eq!(s.take(1), "yoda\nvader\nRecipient: Message: Message sent\n");
    s.login(4, "luke", "jedi", 5);
}

#[test]
fn pm_errors_are_message_errors() {
    let mut s = three();
    s.line(2, "block hans", 0);
    s.take(2);
    for (to, error) in [
        ("nobody", text::INVALID_USER),
        ("hans", text::MESSAGE_SELF),
        ("yoda", text::BLOCKED_BY_RECIPIENT),
    ] {
        s.line(1, "PM", 1);
        s.line(1, to, 1);
        s.line(1, "hi", 1);
        assert_eq!(
            s.take(1),
            format!("vader\nRecipient: Message: {error}"),
            "{to}"
        );
        assert_eq!(s.chat.expects(Sim::id(1)), Expect::Command);
    }
    assert_eq!(s.take(2), "");
}

#[test]
fn private_without_arguments_prompts_then_messages() {
    let mut s = three();
    s.line(1, "private", 1);
    assert_eq!(s.take(1), "Who do you want to send message to? ");
    s.line(1, "yoda", 1);
    assert_eq!(s.take(1), "Type message you want to send: ");
    s.line(1, "Hi yoda this is private", 1);
    assert_eq!(s.take(1), "", "no reply on success, as `message`");
    assert_eq!(s.take(2), "hans: Hi yoda this is private\n");
    s.line(1, "private", 2);
    s.line(1, "hans", 2);
    s.line(1, "me?", 2);
    assert_eq!(
        s.take(1),
        format!(
            "{}{}{}",
            text::PRIVATE_TO,
            text::PRIVATE_TEXT,
            text::MESSAGE_SELF
        )
    );
    // `private <user> <text>` is still the §4 relay.
    s.line(1, "private yoda hi", 3);
    assert_eq!(s.take(1), "Error. Private messaging to yoda not enabled\n");
}

#[test]
fn an_empty_answer_cancels_at_every_prompt() {
    let mut s = three();
    let prompts: [&[&str]; 5] = [
        &["BM"],
        &["PM"],
        &["PM", "yoda"],
        &["private"],
        &["private", "yoda"],
    ];
    for (i, lines) in prompts.iter().enumerate() {
        for empty in ["", "   "] {
            for l in *lines {
                s.line(1, l, 1);
            }
            s.take(1);
            s.line(1, empty, 1);
            assert_eq!(s.take(1), "Cancelled\n", "prompt {i} {empty:?}");
            assert_eq!(s.chat.expects(Sim::id(1)), Expect::Command);
        }
    }
    assert_eq!((s.take(2), s.take(3)), (String::new(), String::new()));
    assert_eq!(s.chat.dialogs.len(), 0);
    assert!(s.committed.is_empty(), "nothing sent, nothing kept");
}

#[test]
fn a_prompt_takes_the_whole_line_and_messages_still_arrive() {
    let mut s = three();
    s.line(1, "BM", 1);
    s.take(1);
    s.line(2, "message hans while you type", 2);
    assert_eq!(s.take(1), "hans: while you type\n".replace("hans", "yoda"));
    s.line(1, "logout", 3);
    assert_eq!(
        s.take(1),
        "Message sent\n",
        "a command word is just text here"
    );
    assert_eq!(s.take(2), "hans: logout\n");
    // A framing error asks again.
    s.line(1, "PM", 4);
    s.take(1);
    let id = Sim::id(1);
    s.chat
        .handle_input(id, Input::Bad(crate::input::LineError::TooLong), s.at(4));
    s.settle();
    assert_eq!(s.take(1), format!("{}Recipient: ", text::LINE_TOO_LONG));
    assert_eq!(s.chat.expects(id), Expect::Answer);
}

#[test]
fn answering_a_prompt_is_activity() {
    let mut s = three(); // timeout 300 s
    s.line(1, "BM", 0);
    s.line(1, "hi", 250);
    s.tick(400);
    assert!(!s.take(1).contains(text::INACTIVE), "answered at 250");
    s.take_all(); // yoda and vader timed out at 300
    s.line(1, "PM", 500);
    s.line(1, "yoda", 700);
    s.tick(900);
    assert_eq!(s.take(1), "Recipient: Message: ");
    s.tick(1001);
    assert_eq!(s.take(1), text::INACTIVE);
}

#[test]
fn inactivity_at_a_prompt_drops_it() {
    let mut s = three();
    s.line(1, "PM", 10);
    s.line(1, "yoda", 10);
    s.line(2, "whoelse", 100);
    s.take_all();
    s.tick(311);
    assert_eq!(s.take(1), text::INACTIVE);
    let yoda = s.take(2);
    assert!(yoda.contains("hans logged out\n") && !yoda.contains(text::INACTIVE));
    assert!(s.closed.contains(&(1, "after flush")));
    assert_eq!(s.chat.dialogs.len(), 0);
    assert_eq!(s.chat.expects(Sim::id(1)), Expect::Nothing);
    // A line still in flight is not an answer.
    s.line(1, "too late", 312);
    assert_eq!((s.take(1), s.take(2)), (String::new(), String::new()));
}

#[test]
fn disconnect_and_exit_at_a_prompt_drop_it() {
    let mut s = three();
    s.line(1, "BM", 1);
    s.take(1);
    s.disconnect(1, 2);
    assert_eq!(s.chat.dialogs.len(), 0);
    assert_eq!(s.take(2), "hans logged out\n");
    // The slot's next tenant starts clean.
    s.connect(1, 3);
    assert_eq!(s.chat.expects(Sim::id(1)), Expect::Username);
    // `logout` is not possible at a prompt (the line is the answer); after a cancel it is.
    s.line(2, "private", 4);
    s.line(2, "", 4);
    s.line(2, "EX", 4);
    assert_eq!(
        s.take(2),
        "Who do you want to send message to? Cancelled\nYou have logged out\nGoodbye\n"
    );
    assert!(s.closed.contains(&(2, "after flush")));
    assert_eq!(s.take(3), "hans logged out\nyoda logged out\n");
}

#[test]
fn ex_logs_out_and_closes() {
    let mut s = three();
    s.line(1, "EX", 1);
    assert_eq!(s.take(1), "You have logged out\nGoodbye\n");
    assert_eq!(s.take(2), "hans logged out\n");
    assert_eq!(s.closed, [(1, "after flush")]);
}

/// `CH` of `k`, the lines only.
fn history(s: &mut Sim, k: usize, line: &str) -> String {
    s.take(k);
    s.line(k, line, 1000);
    s.take(k)
}

#[test]
fn history_shows_what_the_user_may_see_oldest_first() {
    let mut s = three();
    s.login(4, "luke", "jedi", 0);
    s.take_all();
    s.line(1, "broadcast b1", 1);
    s.line(2, "message hans y2h", 2);
    s.line(1, "message yoda h2y", 3);
    s.line(2, "message vader y2v", 4); // someone else's DM
    s.line(3, "announce a3", 5);
    s.line(1, "PM", 6);
    s.line(1, "vader", 6);
    s.line(1, "h2v", 6);
    s.line(1, "BM", 7);
    s.line(1, "b7", 7);
    assert_eq!(
        history(&mut s, 1, "CH"),
        "[1970-01-01 00:00:01] hans: b1\n\
         [1970-01-01 00:00:02] yoda -> hans: y2h\n\
         [1970-01-01 00:00:03] hans -> yoda: h2y\n\
         [1970-01-01 00:00:05] vader: a3\n\
         [1970-01-01 00:00:06] hans -> vader: h2v\n\
         [1970-01-01 00:00:07] hans: b7\n"
    );
    assert_eq!(
        history(&mut s, 4, "history"),
        "[1970-01-01 00:00:01] hans: b1\n\
         [1970-01-01 00:00:05] vader: a3\n\
         [1970-01-01 00:00:07] hans: b7\n",
        "luke sees no one's DMs"
    );
    // Blocking hides everything from the blocked user, its DMs too.
    s.line(2, "block hans", 8);
    assert_eq!(
        history(&mut s, 2, "CH"),
        "[1970-01-01 00:00:02] yoda -> hans: y2h\n\
         [1970-01-01 00:00:04] yoda -> vader: y2v\n\
         [1970-01-01 00:00:05] vader: a3\n"
    );
    // Broadcasts of a sender who blocks you never reached you: not shown either.
    assert_eq!(
        history(&mut s, 1, "CH 2"),
        "[1970-01-01 00:00:06] hans -> vader: h2v\n[1970-01-01 00:00:07] hans: b7\n",
        "hans still sees its own lines"
    );
    s.line(4, "block vader", 9);
    assert_eq!(
        history(&mut s, 4, "CH"),
        "[1970-01-01 00:00:01] hans: b1\n[1970-01-01 00:00:07] hans: b7\n"
    );
    // yoda's broadcast is hidden from hans, who yoda blocks.
    s.line(2, "broadcast from yoda", 10);
    assert!(!history(&mut s, 1, "CH").contains("from yoda"));
    assert!(history(&mut s, 3, "CH").contains("yoda: from yoda"));
}

#[test]
fn history_counts_default_and_bounds() {
    let mut s = Sim::with(Settings {
        history: 30,
        ..settings()
    });
    s.login(1, "hans", "falcon*solo", 0);
    s.login(2, "yoda", "wise", 0);
    for i in 0..40 {
        s.line(2, &format!("broadcast m{i}"), i);
        s.line(2, &format!("message vader hidden{i}"), i);
    }
    s.take_all();
    let lines = |out: String| -> Vec<String> {
        out.lines()
            .map(|l| l.rsplit(' ').next().unwrap_or_default().to_string())
            .collect()
    };
    let want = |r: std::ops::Range<u64>| -> Vec<String> { r.map(|i| format!("m{i}")).collect() };
    // 30 kept (half hidden DMs to vader): the 15 newest broadcasts exist.
    assert_eq!(lines(history(&mut s, 1, "CH")), want(25..40));
    assert_eq!(lines(history(&mut s, 1, "CH 3")), want(37..40));
    assert_eq!(history(&mut s, 1, "history 0"), "");
    assert_eq!(lines(history(&mut s, 1, "history 1000")), want(25..40));
    for bad in [
        "history x",
        "history -1",
        "CH 1 2",
        "history 99999999999999999999999",
    ] {
        assert_eq!(history(&mut s, 1, bad), text::INVALID_COMMAND, "{bad}");
    }

    // Default 20 with a longer history.
    let mut s = Sim::new(); // history 100
    s.login(1, "hans", "falcon*solo", 0);
    for i in 0..25 {
        s.line(1, &format!("broadcast m{i}"), i);
    }
    s.take_all();
    assert_eq!(lines(history(&mut s, 1, "CH")), want(5..25));
    assert_eq!(lines(history(&mut s, 1, "CH 22")), want(3..25));
}

#[test]
fn history_off_shows_nothing() {
    let mut s = Sim::with(Settings {
        history: 0,
        ..settings()
    });
    s.login(1, "hans", "falcon*solo", 0);
    s.line(1, "broadcast hi", 1);
    assert_eq!(history(&mut s, 1, "CH"), "");
}

#[test]
fn history_timestamps_are_utc_from_now_wall() {
    let mut s = three();
    // 2024-02-29 23:59:59.500 UTC, a leap day.
    let wall = SystemTime::UNIX_EPOCH + Duration::from_millis(1_709_251_199_500);
    let now = Now { mono: s.t0, wall };
    let id = Sim::id(1);
    for line in ["announce leap", "message yoda day"] {
        let input = parse(Frame::Line(line), s.chat.expects(id));
        s.chat.handle_input(id, input, now);
        s.settle();
    }
    let input = parse(Frame::Line("history 2"), s.chat.expects(id));
    s.chat
        .handle_input(id, input, now.after(Duration::from_secs(1)));
    s.settle();
    s.take(1);
    s.line(1, "CH", 2);
    assert_eq!(
        s.take(1),
        "[2024-02-29 23:59:59] hans: leap\n[2024-02-29 23:59:59] hans -> yoda: day\n"
    );
}

#[test]
fn history_survives_replay_with_announcements() {
    let mut s = three();
    s.line(1, "announce all", 1);
    s.line(1, "message yoda dm", 2);
    s.line(2, "broadcast b", 3);
    let before = history(&mut s, 1, "CH");
    assert!(s.committed.iter().any(|r| matches!(r, Record::Said {
        at_ms: 1000,
        from,
        to: Audience::Announcement,
        text,
        ..
    } if &**from == "hans" && &**text == "all")));
    let mut fresh = Sim::new();
    for r in s.committed.clone() {
        fresh.chat.replay(r);
    }
    fresh.login(1, "hans", "falcon*solo", 0);
    assert_eq!(history(&mut fresh, 1, "CH"), before);
    assert_eq!(
        before,
        "[1970-01-01 00:00:01] hans: all\n\
         [1970-01-01 00:00:02] hans -> yoda: dm\n\
         [1970-01-01 00:00:03] yoda: b\n"
    );
}

#[test]
fn a_prompt_inside_a_chat_room_takes_the_line_then_room_chat_resumes() {
    let mut s = three();
    s.line(1, "open-chatroom den public", 1);
    s.line(1, "enter-chatroom den", 1);
    s.take(1);
    s.line(1, "/BM", 2);
    assert_eq!(s.take(1), "Message: ");
    assert_eq!(s.chat.expects(Sim::id(1)), Expect::Answer);
    s.line(1, "/not a command", 2);
    assert_eq!(s.take(1), "Message sent\n");
    assert_eq!(s.take(2), "hans: /not a command\n");
    assert_eq!(s.chat.expects(Sim::id(1)), Expect::RoomChat);
    s.line(1, "hi room", 3);
    assert_eq!(s.take(1), "<hans>: hi room\n");
}
