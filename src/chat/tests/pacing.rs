//! Issue 17, F14: long replies are paced, not punished. A reply over the delivery budget leaves
//! a part at a time as the connection drains; what comes after it waits behind it in order;
//! only a client that lets the held output grow past `--max-output` is cut.

use super::{settings, Sim};
use crate::chat::*;

fn paced() -> Sim {
    let mut s = Sim::with(Settings {
        delivery_budget: 300,
        max_held: 2000,
        history: 1000,
        ..settings()
    });
    s.login(1, "hans", "falcon*solo", 0);
    s.login(2, "yoda", "wise", 0);
    for i in 0..40 {
        s.line(
            1,
            &format!("broadcast line number {i:02} of the long history"),
            1,
        );
    }
    s.take_all();
    s
}

/// F14: `history 40` (a few KiB) reaches a reading client whole, in order, a budget at a time
/// as it drains; a command pipelined behind it is answered after its last line.
#[test]
fn f14_a_long_history_is_paced_to_a_reader() {
    let mut s = paced();
    s.line(2, "history 40", 2);
    s.line(2, "whoelse", 2);
    let first = s.take(2);
    assert!(first.lines().count() < 40, "only the first part: {first}");
    assert!(s.chat.holds_output(Sim::id(2)));
    assert_eq!(s.notify, [2], "told to come back when written");
    let mut all = first;
    for _ in 0..40 {
        if s.notify.is_empty() {
            break;
        }
        s.flushed(3);
        all.push_str(&s.take(2));
    }
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 41, "{all}");
    for (i, line) in lines[..40].iter().enumerate() {
        assert!(
            line.ends_with(&format!("hans: line number {i:02} of the long history")),
            "{line}"
        );
    }
    assert_eq!(lines[40], "hans", "the whoelse behind it, after it");
    assert!(!s.chat.holds_output(Sim::id(2)));
}

/// A client that stops reading while output is held for it is cut once what waits behind the
/// long reply passes `--max-output` (others' messages keep coming); the others are not.
#[test]
fn f14_a_client_that_stops_reading_is_cut() {
    let mut s = paced();
    s.line(2, "history 40", 2);
    s.take_all();
    for i in 0..60 {
        s.line(1, &format!("broadcast and another message {i}"), 3);
        if s.closed.iter().any(|(k, _)| *k == 2) {
            break;
        }
    }
    assert_eq!(s.closed, [(2, "now")], "cut as a slow reader");
    s.disconnect(2, 3);
    s.take_all();
    s.line(1, "whoelse", 3);
    assert_eq!(s.take(1), "", "hans goes on; yoda is gone");
}

/// Issue 20: presence lines are announcements the loop hands every subscriber, not deliveries;
/// one made while a long reply is held for a connection still waits behind the reply there,
/// while everyone else gets it at once.
#[test]
fn a_presence_line_waits_behind_a_held_reply() {
    let mut s = paced();
    s.line(2, "history 40", 2);
    let first = s.take(2);
    assert!(s.chat.holds_output(Sim::id(2)), "{first}");
    s.login(3, "luke", "jedi", 2);
    assert_eq!(s.take(1), "luke logged in\n", "hans is told at once");
    assert_eq!(s.take(2), "", "yoda's copy waits behind the history");
    let mut all = first;
    while !s.notify.is_empty() {
        s.flushed(3);
        all.push_str(&s.take(2));
    }
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 41, "{all}");
    assert_eq!(lines[40], "luke logged in", "after the last history line");
}
