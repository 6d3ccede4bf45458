//! Issue 22: modern IRC's concepts in the core, whatever front-end uses them (events the line
//! protocol does not show are read from `Sim::events`).

use super::Sim;
use crate::chat::*;
use crate::input::{Kind, MonitorInput, RoomChange, RoomInput};
use std::sync::Arc;

pub(super) fn input(s: &mut Sim, k: usize, input: Input<'_>, secs: u64) {
    let now = s.at(secs);
    s.chat.handle_input(Sim::id(k), input, now);
    s.settle();
}

/// The events `k` was sent since the last call.
pub(super) fn events(s: &mut Sim, k: usize) -> Vec<Event> {
    let (mine, rest) = std::mem::take(&mut s.events)
        .into_iter()
        .partition(|(c, _)| *c == k);
    s.events = rest;
    mine.into_iter().map(|(_, e)| e).collect()
}

pub(super) fn guest(s: &mut Sim, k: usize, name: &str, secs: u64) {
    let now = s.at(secs);
    s.chat
        .handle_connect(Sim::id(k), None, LoginStyle::Guest.into(), now);
    let any_free = false;
    input(s, k, Input::Guest { name, any_free }, secs);
}

/// An away user who joins a room: the members hear it is away (IRC's away-notify after the
/// JOIN), the line user as nothing at all.
#[test]
fn an_away_user_joining_a_room_is_announced_away_to_its_members() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.line(2, "open-chatroom den public", 1);
    s.line(2, "enter-chatroom den", 1);
    input(
        &mut s,
        1,
        Input::Away {
            message: Some("lunch"),
        },
        1,
    );
    s.take_all();
    events(&mut s, 2);
    let join = RoomInput::Join {
        room: "den",
        key: None,
        create: false,
        current: false,
    };
    input(&mut s, 1, Input::Room(join), 2);
    let away = Event::Away {
        user: Arc::from("yoda"),
        message: Some(Arc::from("lunch")),
        watched: false,
    };
    assert!(events(&mut s, 2).contains(&away));
    assert_eq!(s.take(2), "[System]: yoda entered the chatroom\n");
}

/// A guest's change of case only is the same name to its watchers: no monitor event; a real
/// change tells them it went offline, under the name as it was spelled.
#[test]
fn a_case_only_rename_tells_no_watcher() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    guest(&mut s, 2, "moo", 0);
    input(&mut s, 1, Input::Monitor(MonitorInput::Add(&["moo"])), 1);
    events(&mut s, 1);
    input(&mut s, 2, Input::Rename { name: "MOO" }, 2);
    let monitor = |e: &Event| matches!(e, Event::Monitor { .. });
    assert!(!events(&mut s, 1).iter().any(monitor));
    input(&mut s, 2, Input::Rename { name: "cow" }, 3);
    let offline = Event::Monitor {
        online: false,
        users: vec![Arc::from("MOO")],
    };
    assert!(events(&mut s, 1).contains(&offline));
}

/// `+m`: a member neither operator nor voiced is told the room is moderated (not "not in
/// chatroom"), on every front-end; a voiced member speaks.
#[test]
fn a_moderated_room_refuses_members_without_voice() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    s.login(2, "hans", "falcon*solo", 0);
    s.line(1, "open-chatroom den public", 1);
    s.line(1, "enter-chatroom den", 1);
    s.line(2, "enter-chatroom den", 1);
    let moderated = [RoomChange::Moderated(true)];
    let change = RoomInput::Change {
        room: "den",
        changes: &moderated,
    };
    input(&mut s, 1, Input::Room(change), 2);
    s.take_all();
    let say = |text| {
        Input::Room(RoomInput::Say {
            room: Some("den"),
            text,
            kind: Kind::Say,
            relay: None,
        })
    };
    input(&mut s, 2, say("hi"), 3);
    assert_eq!(
        s.take(2),
        "Error. Chatroom den is moderated: only its operators and voiced members speak\n"
    );
    let voice = [RoomChange::Voice("hans", true)];
    let change = RoomInput::Change {
        room: "den",
        changes: &voice,
    };
    input(&mut s, 1, Input::Room(change), 4);
    s.take_all();
    input(&mut s, 2, say("now"), 5);
    assert_eq!(s.take(1), "<hans>: now\n");
}

/// A message to oneself is the sender's wire's rule, applied by the core: a session whose
/// front-end delivers it (IRC) gets the delivery and its own echo; a guest of a wire that
/// refuses it (the JSON seed) gets `Cannot message self`.
#[test]
fn a_message_to_oneself_follows_the_senders_front() {
    let mut s = Sim::new();
    let now = s.at(0);
    let irc = Front {
        login: LoginStyle::Guest,
        to_self: ToSelf::Delivered,
    };
    s.chat.handle_connect(Sim::id(1), None, irc, now);
    let any_free = false;
    input(
        &mut s,
        1,
        Input::Guest {
            name: "moo",
            any_free,
        },
        0,
    );
    guest(&mut s, 2, "cow", 0);
    s.take_all();
    events(&mut s, 1);
    events(&mut s, 2);
    let message = |to| Input::Message {
        to,
        text: "hi me",
        kind: Kind::Say,
        relay: None,
    };
    input(&mut s, 1, message("MOO"), 1);
    let audiences: Vec<Audience> = events(&mut s, 1)
        .into_iter()
        .filter_map(|e| match e {
            Event::Chat { from, to, .. } if &*from == "moo" => Some(to),
            _ => None,
        })
        .collect();
    let moo: Arc<str> = Arc::from("moo");
    assert_eq!(
        audiences,
        [Audience::Direct(moo.clone()), Audience::Echo(moo)]
    );
    input(&mut s, 2, message("cow"), 1);
    assert_eq!(events(&mut s, 2), [Event::Error(Error::MessageSelf)]);
}

/// A guest's block and profile were durable records under its name: anonymous guests could
/// grow the journal without bound (a new name, five profile values, a block per account), and
/// the next user of the name, an account registered later, inherited them (blocking yoda,
/// showing the guest's job). Both are refused for guests; nothing is written.
#[test]
fn a_guest_writes_no_block_or_profile_record() {
    let mut s = Sim::new();
    guest(&mut s, 1, "moo", 0);
    s.take(1);
    let only = "Error. Only accounts can do that (guests keep nothing)\n";
    input(&mut s, 1, Input::Block { user: "yoda" }, 0);
    assert_eq!(s.take(1), only);
    input(&mut s, 1, Input::Unblock { user: "yoda" }, 0);
    assert_eq!(s.take(1), only);
    let (attribute, value) = ("job", "moo-er");
    input(&mut s, 1, Input::SetProfile { attribute, value }, 0);
    assert_eq!(s.take(1), only);
    assert!(s.committed.is_empty(), "{:?}", s.committed);
    s.disconnect(1, 1);
    s.connect(2, 2);
    s.line(2, "register moo pw", 2);
    s.line(2, "view-profile moo", 2);
    assert!(!s.take(2).contains("moo-er"));
    s.login(3, "yoda", "wise", 2);
    s.line(2, "message yoda hi", 3);
    assert_eq!(s.take(3), "moo: hi\n");
}
