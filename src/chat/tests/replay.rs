//! Issue 22: `CHATHISTORY` in the core, served from the message history (events read from
//! `Sim::events`).

use super::ircv3::{events, guest, input};
use super::Sim;
use crate::chat::*;
use crate::input::{Conversation, Kind, Mark, Replay};
use std::sync::Arc;

/// The texts of the `CHATHISTORY` replay `k` was sent last (panics if none came).
fn replayed(s: &mut Sim, k: usize, query: Replay<'_>, secs: u64) -> Vec<String> {
    input(s, k, Input::Replay(query), secs);
    let got = events(s, k);
    let lines = got.iter().find_map(|e| match e {
        Event::Replay { lines, .. } => Some(lines),
        _ => None,
    });
    let lines = lines.unwrap_or_else(|| panic!("no replay: {got:?}"));
    lines.iter().map(|l| l.text.to_string()).collect()
}

fn latest(with: Conversation<'_>, limit: usize) -> Replay<'_> {
    let after = Mark::None;
    Replay::Latest { with, after, limit }
}

/// `CHATHISTORY LATEST <target> *` (no bound) gives the newest messages of the conversation,
/// both directions, oldest first; `TARGETS` lists conversations by their latest message,
/// oldest first, and its limit keeps the earliest.
#[test]
fn latest_without_a_bound_and_targets_oldest_first() {
    let mut s = super::three();
    let [hans, yoda] = [1, 2];
    s.line(yoda, "message hans m0", 1);
    s.line(hans, "message yoda m1", 2);
    s.line(yoda, "message hans m2", 3);
    s.line(yoda, "message luke m3", 4);
    let got = replayed(&mut s, yoda, latest(Conversation::User("HANS"), 2), 5);
    assert_eq!(got, ["m1", "m2"]);
    let got = replayed(&mut s, hans, latest(Conversation::User("yoda"), 9), 5);
    assert_eq!(got, ["m0", "m1", "m2"]);
    let (from, to) = (Mark::Time(0), Mark::Time(10_000));
    let targets = Input::Replay(Replay::Targets { from, to, limit: 1 });
    input(&mut s, yoda, targets, 5);
    let first = (Arc::from("hans"), false, 3000);
    assert!(events(&mut s, yoda).contains(&Event::ReplayTargets(vec![first])));
}

/// A guest's direct messages are kept in memory only, while it is online under that name:
/// its peer reads them then; once it is gone, whoever takes the name next (here a new account,
/// Ergo's #833) reads nothing of them.
#[test]
fn a_guests_conversations_are_not_read_by_the_next_user_of_its_name() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    guest(&mut s, 2, "moo", 0);
    let dm = Input::Message {
        to: "yoda",
        text: "from a guest",
        kind: Kind::Say,
        relay: None,
    };
    input(&mut s, 2, dm, 1);
    let got = replayed(&mut s, 1, latest(Conversation::User("moo"), 9), 2);
    assert_eq!(got, ["from a guest"]);
    let said = |r: &crate::record::Record| matches!(r, crate::record::Record::Said { .. });
    assert!(
        !s.committed.iter().any(said),
        "a guest's message is not durable"
    );
    s.disconnect(2, 3);
    s.connect(3, 4);
    s.line(3, "register moo cow", 4);
    assert!(s.take(3).contains(crate::protocol::line::text::WELCOME));
    let got = replayed(&mut s, 3, latest(Conversation::User("yoda"), 9), 6);
    assert!(got.is_empty(), "{got:?}");
}
