//! The COMP3331 core (PROTOCOL.md §1-§3) in simulated time: the login dialog, messaging,
//! blocks, presence, timeouts, and what a failed commit undoes.

use super::{settings, Sim};
use crate::chat::*;
use crate::protocol::line::text;
use crate::protocol::line::{parse, Frame};
use crate::record::Record;
use std::time::Duration;

#[test]
fn login_dialog_and_welcome() {
    let mut s = Sim::new();
    s.connect(1, 0);
    assert_eq!(s.take(1), "Username: ");
    s.line(1, "yoda", 0);
    assert_eq!(s.take(1), "Password: ");
    s.line(1, "wise", 0);
    assert_eq!(s.take(1), text::WELCOME);
}

#[test]
fn lockout_after_three_failures_and_its_expiry() {
    let mut s = Sim::new();
    s.connect(1, 0);
    s.line(1, "yoda", 0);
    s.take(1);
    s.line(1, "bad1", 1);
    assert_eq!(s.take(1), "Invalid Password. Please try again\nPassword: ");
    s.line(1, "bad2", 2);
    assert_eq!(s.take(1), "Invalid Password. Please try again\nPassword: ");
    s.line(1, "bad3", 3);
    assert_eq!(
        s.take(1),
        "Invalid Password. Your account has been blocked. Please try again later\n"
    );
    assert_eq!(s.closed, vec![(1, "after flush")]);

    // From another connection, even with the right password, while locked (until t=63).
    s.connect(2, 10);
    s.line(2, "yoda", 10);
    s.line(2, "wise", 10);
    assert_eq!(
        s.take(2),
        "Username: Password: Your account is blocked due to multiple login failures. Please try again later\n"
    );
    // Attempts while locked do not extend the lock: 62 s is still locked, 63 s is free.
    s.connect(3, 62);
    s.line(3, "login yoda wise", 62);
    assert!(s.take(3).ends_with("Please try again later\n"));
    s.tick(63);
    s.login(4, "yoda", "wise", 63);
}

#[test]
fn lockout_counts_per_username_across_connections_and_resets_on_success() {
    let mut s = Sim::new();
    for (k, t) in [(1, 0), (2, 1)] {
        s.connect(k, t);
        s.line(k, "login hans nope", t);
        assert_eq!(
            s.take(k),
            "Username: Invalid Password. Please try again\nUsername: "
        );
    }
    s.connect(3, 2);
    s.line(3, "login hans nope", 2);
    assert!(s.take(3).contains("has been blocked"));
    // A success resets the count: luke fails twice, succeeds, fails twice more: not locked.
    s.connect(4, 3);
    for p in ["x", "y", "jedi"] {
        s.line(4, &format!("login luke {p}"), 3);
    }
    s.line(4, "logout", 3);
    s.take(4);
    s.line(4, "login luke x", 4);
    s.line(4, "login luke y", 4);
    s.line(4, "login luke jedi", 4);
    assert!(s.take(4).ends_with(text::WELCOME));
}

#[test]
fn inactivity_timeout_ignores_invalid_commands_and_live() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.take_all();
    s.line(1, "whoelse", 100); // valid: yoda's deadline moves to 400
    s.line(1, "bogus", 200); // invalid: does not count
    s.line(1, "live", 250); // heartbeat: does not count
    s.tick(300);
    assert_eq!(s.take(2), "You have been logged out due to inactivity\n");
    assert_eq!(s.take(1), "hans\nError. Invalid command\nhans logged out\n");
    s.tick(399);
    assert_eq!(s.take(1), "");
    s.tick(400);
    assert_eq!(s.take(1), "You have been logged out due to inactivity\n");
    assert_eq!(s.closed, vec![(2, "after flush"), (1, "after flush")]);
}

#[test]
fn timer_wheel_is_empty_when_nothing_is_pending() {
    let mut s = Sim::new();
    assert_eq!(s.chat.poll_timeout(), None, "a fresh server sleeps forever");
    s.connect(1, 0);
    assert_eq!(
        s.chat.poll_timeout(),
        Some(s.at(60).mono),
        "login timeout armed"
    );
    s.disconnect(1, 1);
    s.tick(60);
    assert_eq!(s.chat.poll_timeout(), None);
}

#[test]
fn login_timeout_closes_an_idle_connection() {
    let mut s = Sim::new();
    s.connect(1, 0);
    s.take(1);
    s.line(1, "yoda", 30);
    s.take(1);
    s.tick(59);
    assert!(s.closed.is_empty());
    s.tick(60);
    assert_eq!(s.take(1), text::LOGIN_TIMEOUT);
    assert_eq!(s.closed, vec![(1, "after flush")]);
}

/// The assignment's worked example: hans, yoda, luke online; vader logged in 300 s ago and out
/// 120 s ago; r2d2 in 600 s ago and out 300 s ago.
#[test]
fn whoelsesince_worked_example() {
    let mut s = Sim::new();
    let now = 1000;
    s.login(5, "r2d2", "c3po", now - 600);
    s.login(4, "vader", "sithlord**", now - 300);
    s.line(5, "logout", now - 300);
    s.login(1, "hans", "falcon*solo", now - 200);
    s.login(2, "yoda", "wise", now - 150);
    s.line(4, "logout", now - 120);
    s.login(3, "luke", "jedi", now - 100);
    s.take_all();
    s.line(3, "whoelsesince 200", now);
    assert_eq!(s.take(3), "hans\nyoda\nvader\n");
    s.line(2, "whoelsesince 500", now);
    assert_eq!(s.take(2), "hans\nluke\nvader\nr2d2\n");
    s.line(2, "whoelse", now);
    assert_eq!(s.take(2), "hans\nluke\n");
    s.line(2, "whoelsesince 2.5", now);
    assert_eq!(s.take(2), text::INVALID_COMMAND);
}

#[test]
fn presence_respects_blocks() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    assert_eq!(s.take(1), "hans logged in\n");
    s.line(1, "block hans", 1);
    assert_eq!(s.take(1), "hans is blocked\n");
    assert_eq!(s.take(2), "", "the blocked user is never told");
    s.line(1, "logout", 2);
    assert_eq!(s.take(2), "", "hans gets no presence about yoda");
    s.line(1, "login yoda wise", 3);
    assert_eq!(s.take(2), "");
    // yoda still sees hans come and go: hans has not blocked yoda.
    s.line(2, "logout", 4);
    s.take(1);
    s.take(2);
    s.line(2, "login hans falcon*solo", 5);
    s.take(2);
    assert_eq!(s.take(1), "hans logged in\n");
    // hans does not see yoda in whoelse / whoelsesince; yoda sees hans.
    s.line(2, "whoelse", 6);
    assert_eq!(s.take(2), "");
    s.line(2, "whoelsesince 100", 6);
    assert_eq!(s.take(2), "");
    s.line(1, "whoelse", 6);
    assert_eq!(s.take(1), "hans\n");
    s.line(1, "unblock hans", 7);
    assert_eq!(s.take(1), "hans is unblocked\n");
    s.line(2, "whoelse", 8);
    assert_eq!(s.take(2), "yoda\n");
}

#[test]
fn message_rules_and_errors() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.take_all();
    s.line(1, "message hans  hello  there ", 1);
    assert_eq!(s.take(2), "yoda: hello  there \n");
    assert_eq!(s.take(1), "", "no reply on success");
    s.line(1, "message nobody hi", 1);
    assert_eq!(s.take(1), text::INVALID_USER);
    s.line(1, "message yoda hi", 1);
    assert_eq!(s.take(1), text::MESSAGE_SELF);
    s.line(2, "block yoda", 1);
    s.line(1, "message hans hi", 1);
    assert_eq!(
        s.take(1),
        "Your message could not be delivered as the recipient has blocked you\n"
    );
    s.line(1, "block yoda", 1);
    assert_eq!(s.take(1), text::BLOCK_SELF);
    s.line(1, "block ghost", 1);
    assert_eq!(s.take(1), text::INVALID_USER);
    s.line(1, "unblock luke", 1);
    assert_eq!(s.take(1), "Error. luke was not blocked\n");
}

#[test]
fn broadcast_skips_blockers_and_tells_the_sender() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.login(3, "luke", "jedi", 0);
    s.take_all();
    s.line(1, "broadcast hi all", 1);
    assert_eq!(s.take(2), "yoda: hi all\n");
    assert_eq!(s.take(3), "yoda: hi all\n");
    assert_eq!(s.take(1), "");
    s.line(3, "block yoda", 2);
    s.take(3);
    s.line(1, "broadcast again", 3);
    assert_eq!(s.take(2), "yoda: again\n");
    assert_eq!(s.take(3), "");
    assert_eq!(
        s.take(1),
        "Your message could not be delivered to some recipients\n"
    );
}

#[test]
fn offline_messages_arrive_in_order_after_the_welcome() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    for (k, text) in [(1, "first"), (2, "second"), (1, "third")] {
        s.line(k, &format!("message luke {text}"), 1);
    }
    s.take_all();
    s.connect(3, 2);
    s.line(3, "luke", 2);
    s.line(3, "jedi", 2);
    assert_eq!(
        s.take(3),
        format!(
            "Username: Password: {}yoda: first\nhans: second\nyoda: third\n",
            text::WELCOME
        )
    );
    assert_eq!(s.take(1), "luke logged in\n");
    // Delivered once only.
    s.line(3, "logout", 3);
    s.line(3, "login luke jedi", 3);
    assert_eq!(
        s.take(3),
        format!("You have logged out\nUsername: {}", text::WELCOME)
    );
    let delivered = s
        .committed
        .iter()
        .filter(|r| matches!(r, Record::Delivered { .. }))
        .count();
    assert_eq!(delivered, 1);
}

#[test]
fn mailbox_is_bounded() {
    let mut s = Sim::with(Settings {
        max_offline: 2,
        ..settings()
    });
    s.login(1, "yoda", "wise", 0);
    s.line(1, "message luke a", 1);
    s.line(1, "message luke b", 1);
    s.line(1, "message luke c", 1);
    assert_eq!(s.take(1), "Error. luke's mailbox is full\n");
}

#[test]
fn new_user_is_created_with_a_hashed_secret() {
    let mut s = Sim::new();
    s.connect(1, 0);
    s.line(1, "ann", 0);
    s.line(1, "pw1", 0);
    assert_eq!(
        s.take(1),
        format!(
            "Username: New user ann. Choose a password\nPassword: {}",
            text::WELCOME
        )
    );
    match s.committed.as_slice() {
        [Record::Account { user, secret }] => {
            assert_eq!(user, "ann");
            assert!(matches!(secret, crate::credentials::Secret::Pbkdf2 { .. }));
            assert!(secret.verify("pw1"));
        }
        other => panic!("{other:?}"),
    }
    s.connect(2, 1);
    s.line(2, "register ann x", 1);
    assert_eq!(s.take(2), "Username: Error. ann already exists\nUsername: ");
    s.line(2, "login ann pw1", 1);
    assert_eq!(s.take(2), "Error. ann is already logged in\nUsername: ");
}

#[test]
fn registration_closed_and_invalid_names() {
    let mut s = Sim::with(Settings {
        register: false,
        ..settings()
    });
    s.connect(1, 0);
    s.line(1, "ann", 0);
    assert_eq!(
        s.take(1),
        "Username: Invalid Username. Please try again\nUsername: "
    );
    s.line(1, "login", 0);
    assert_eq!(s.take(1), "Error. Invalid command\nUsername: ");
    s.line(1, &"x".repeat(33), 0);
    assert_eq!(s.take(1), "Error. Invalid username\nUsername: ");
    s.line(1, "yoda", 0);
    s.line(1, "has space", 0);
    assert_eq!(s.take(1), "Password: Error. Invalid password\nPassword: ");
}

#[test]
fn duplicate_login_replace_mode() {
    let mut s = Sim::with(Settings {
        replace_duplicate: true,
        ..settings()
    });
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.take_all();
    s.login(3, "yoda", "wise", 1);
    assert_eq!(
        s.take(1),
        "You have been logged out: yoda logged in from another connection\n"
    );
    assert_eq!(s.take(2), "", "yoda never went offline");
    s.disconnect(1, 2);
    assert_eq!(s.take(2), "");
    s.line(2, "message yoda hi", 3);
    assert_eq!(s.take(3), "hans: hi\n");
}

#[test]
fn logout_and_exit() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.take_all();
    s.line(1, "logout", 1);
    assert_eq!(s.take(1), "You have logged out\nUsername: ");
    assert_eq!(s.take(2), "yoda logged out\n");
    s.line(2, "exit", 2);
    assert_eq!(s.take(2), "You have logged out\nGoodbye\n");
    assert_eq!(s.closed, vec![(2, "after flush")]);
    s.line(1, "quit", 3);
    assert_eq!(s.take(1), "Goodbye\n");
}

#[test]
fn disconnect_logs_out_with_presence() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.take_all();
    s.disconnect(2, 5);
    assert_eq!(s.take(1), "hans logged out\n");
    s.line(1, "whoelsesince 10", 6);
    assert_eq!(s.take(1), "hans\n");
    assert_eq!(s.chat.online_count(), 1);
}

#[test]
fn bad_lines_keep_the_connection_usable() {
    let mut s = Sim::new();
    s.connect(1, 0);
    s.take(1);
    s.chat
        .handle_input(Sim::id(1), Input::Bad(LineError::TooLong), s.at(0));
    s.settle();
    assert_eq!(s.take(1), "Error. Line too long\nUsername: ");
    s.login(2, "yoda", "wise", 0);
    s.chat
        .handle_input(Sim::id(2), Input::Bad(LineError::InvalidUtf8), s.at(1));
    s.settle();
    assert_eq!(s.take(2), "Error. Invalid UTF-8\n");
    s.line(2, "whoelse", 1);
    assert_eq!(s.take(2), "");
    assert!(s.closed.is_empty());
}

#[test]
fn failed_commit_rolls_back_and_answers_storage_error() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.take_all();
    s.store_ok = false;
    s.line(1, "block hans", 1);
    assert_eq!(s.take(1), text::STORAGE);
    s.line(1, "message luke kept?", 1);
    assert_eq!(s.take(1), text::STORAGE);
    s.line(1, "message hans live", 1);
    assert_eq!(s.take(1), text::STORAGE);
    assert_eq!(s.take(2), "", "a refused message is not delivered either");
    s.line(1, "whoelse", 1);
    assert_eq!(s.take(1), "hans\n", "reading commands still work");
    // New account: refused and rolled back; the dialog restarts.
    s.connect(3, 1);
    s.line(3, "register ann pw", 1);
    assert_eq!(s.take(3), format!("Username: {}Username: ", text::STORAGE));
    assert_eq!(s.take(1), "", "nobody saw ann log in");
    assert!(!s.chat.credentials().contains("ann"));
    // Space is back: nothing of the refused changes happened.
    s.store_ok = true;
    s.line(2, "message yoda still here", 2);
    assert_eq!(s.take(1), "hans: still here\n", "yoda did not block hans");
    s.login(4, "luke", "jedi", 2);
    assert_eq!(s.take(4), "", "no offline message was kept");
    s.line(3, "register ann pw", 3);
    assert!(s.take(3).ends_with(text::WELCOME));
}

#[test]
fn replay_rebuilds_state_and_snapshot_round_trips() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.line(1, "block hans", 0);
    s.line(1, "message luke one", 0);
    s.line(1, "message luke two", 0);
    s.line(1, "broadcast hi", 0);
    let mut fresh = Sim::new();
    for r in s.committed.clone() {
        fresh.chat.replay(r);
    }
    assert_eq!(fresh.chat.snapshot(), s.chat.snapshot());
    let mut again = Sim::new();
    for r in fresh.chat.snapshot() {
        again.chat.replay(r);
    }
    assert_eq!(again.chat.snapshot(), s.chat.snapshot());
    again.connect(2, 1);
    again.line(2, "login luke jedi", 1);
    assert!(again.take(2).ends_with("\nyoda: one\nyoda: two\n"));
    again.login(3, "hans", "falcon*solo", 1);
    again.line(3, "message yoda hi", 1);
    assert_eq!(again.take(3), text::BLOCKED_BY_RECIPIENT);
}

#[test]
fn heartbeat_closes_silent_connections() {
    let mut s = Sim::with(Settings {
        heartbeat: Some(Duration::from_secs(30)),
        ..settings()
    });
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.take_all();
    s.line(2, "live", 20);
    s.tick(30);
    assert_eq!(s.closed, vec![(1, "now")]);
    assert_eq!(s.take(2), "yoda logged out\n");
    s.tick(50);
    assert_eq!(s.closed.len(), 2);
}

#[test]
fn a_large_backlog_is_handed_out_a_budget_at_a_time_in_order() {
    let mut s = Sim::with(Settings {
        delivery_budget: 30,
        ..settings()
    });
    s.login(1, "yoda", "wise", 0);
    for i in 0..5 {
        s.line(1, &format!("message luke msg-{i}"), 0);
    }
    s.connect(2, 1);
    s.line(2, "login luke jedi", 1);
    // "yoda: msg-0\n" is 12 bytes: two fit in 30.
    assert_eq!(
        s.take(2),
        format!("Username: {}yoda: msg-0\nyoda: msg-1\n", text::WELCOME)
    );
    assert_eq!(s.notify, vec![2]);
    // Something sent to luke meanwhile queues behind the backlog, keeping the order.
    s.line(1, "message luke late", 1);
    assert_eq!(s.take(2), "");
    s.flushed(2);
    assert_eq!(s.take(2), "yoda: msg-2\nyoda: msg-3\n");
    s.flushed(2);
    assert_eq!(s.take(2), "yoda: msg-4\nyoda: late\n");
    assert!(s.notify.is_empty(), "backlog done");
    s.line(1, "message luke direct", 3);
    assert_eq!(s.take(2), "yoda: direct\n");
    let delivered: u32 = s
        .committed
        .iter()
        .map(|r| match r {
            Record::Delivered { count, .. } => *count,
            _ => 0,
        })
        .sum();
    assert_eq!(delivered, 6);
}

#[test]
fn no_presence_mode_sends_no_presence_lines() {
    let mut s = Sim::with(Settings {
        presence: false,
        ..settings()
    });
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.line(2, "logout", 1);
    assert_eq!(s.take(1), "");
    s.line(1, "whoelsesince 10", 2);
    assert_eq!(s.take(1), "hans\n");
}

#[test]
fn announce_reaches_everyone_and_the_sender() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.login(3, "luke", "jedi", 0);
    s.take_all();
    s.line(1, "announce  meeting at 5 ", 1);
    assert_eq!(s.take(1), "yoda: meeting at 5 \n");
    assert_eq!(s.take(2), "yoda: meeting at 5 \n");
    assert_eq!(s.take(3), "yoda: meeting at 5 \n");
    s.line(3, "block yoda", 2);
    s.take(3);
    s.line(1, "announce again", 3);
    assert_eq!(
        s.take(1),
        "yoda: again\nYour message could not be delivered to some recipients\n"
    );
    assert_eq!(s.take(3), "");
}

/// A connection id of a closed connection is never taken for the next tenant of its slot:
/// inputs, flush notices and disconnects under the old generation are ignored.
#[test]
fn a_stale_connection_id_is_ignored() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    let stale = Sim::id(1);
    s.disconnect(1, 1);
    let fresh = ConnId::new(1, 2);
    let now = s.at(2);
    s.chat
        .handle_connect(fresh, None, LoginStyle::Dialog.into(), now);
    s.settle();
    assert_eq!(s.take(1), "Username: ");
    s.chat.handle_input(stale, Input::Answer("hans"), now);
    s.chat.handle_flushed(stale, now);
    s.chat.handle_disconnect(stale, now);
    s.settle();
    assert_eq!(s.take(1), "", "nothing reaches the new tenant");
    assert_eq!(s.chat.expects(fresh), Expect::Username);
    let input = parse(Frame::Line("yoda"), s.chat.expects(fresh));
    s.chat.handle_input(fresh, input, now);
    s.settle();
    assert_eq!(
        s.take(1),
        "Password: ",
        "the new tenant's session is intact"
    );
}
