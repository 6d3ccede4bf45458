//! JSON-front-end guests (PROTOCOL.md §6) and the console's core calls (§7) in simulated time.
//! Rendered through the line codec's texts (what a line user sees); the JSON texts of the same
//! events are tested in `codec::json`.

use super::Sim;
use crate::chat::*;
use crate::input::Kind;
use crate::protocol::line::text;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

fn peer(k: usize) -> SocketAddr {
    SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, k as u8)),
        40_000 + k as u16,
    )
}

fn input(s: &mut Sim, k: usize, input: Input<'_>, secs: u64) {
    let now = s.at(secs);
    s.chat.handle_input(Sim::id(k), input, now);
    s.settle();
}

/// Connect `k` as a JSON client (no prompt) and name it `name`.
fn guest(s: &mut Sim, k: usize, name: &str, secs: u64) {
    let now = s.at(secs);
    s.chat
        .handle_connect(Sim::id(k), Some(peer(k)), LoginStyle::Guest.into(), now);
    s.settle();
    assert_eq!(s.take(k), "", "a guest connection gets no prompt");
    input(
        s,
        k,
        Input::Guest {
            name,
            any_free: true,
        },
        secs,
    );
    assert_eq!(s.take(k), text::WELCOME, "{name} joined");
}

#[test]
fn a_guest_joins_without_a_password_and_others_see_it() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    guest(&mut s, 2, "Mooyeong", 1);
    assert_eq!(s.take(1), "Mooyeong logged in\n");
    assert!(s.committed.is_empty(), "a guest is not an account");
    assert!(!s.chat.credentials().contains("Mooyeong"));
    s.line(1, "whoelse", 2);
    assert_eq!(s.take(1), "Mooyeong\n");
}

#[test]
fn taken_and_invalid_guest_names_may_be_retried() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    guest(&mut s, 2, "Jeremy", 0);
    s.take(1);
    let now = s.at(0);
    s.chat
        .handle_connect(Sim::id(3), Some(peer(3)), LoginStyle::Guest.into(), now);
    for (name, want) in [
        ("hans", "Error. The name hans is taken\n"),
        ("yoda", "Error. The name yoda is taken\n"),
        ("Jeremy", "Error. The name Jeremy is taken\n"),
        ("two words", text::INVALID_USERNAME),
        ("", text::INVALID_USERNAME),
        ("EX", text::INVALID_USERNAME),
    ] {
        let any_free = false; // IRC guests choose another nick themselves.
        input(&mut s, 3, Input::Guest { name, any_free }, 1);
        assert_eq!(s.take(3), want, "{name:?}");
    }
    let name = "Anthony";
    input(
        &mut s,
        3,
        Input::Guest {
            name,
            any_free: true,
        },
        1,
    );
    assert_eq!(s.take(3), text::WELCOME);
    let name = "Again";
    input(
        &mut s,
        3,
        Input::Guest {
            name,
            any_free: true,
        },
        1,
    );
    assert_eq!(s.take(3), text::INVALID_COMMAND, "named once only");
}

/// Issue 21: seed 002's client names itself once, so a taken name gets the first free variant
/// and the guest is told which; the number replaces the end of a 32-character name.
#[test]
fn a_taken_json_guest_name_gets_a_free_variant() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    guest(&mut s, 2, "yoda2", 0);
    s.take(1);
    let now = s.at(0);
    let long = "x".repeat(32);
    for (k, name, given) in [
        (3, "yoda", "yoda3"),
        (4, "yoda", "yoda4"),
        (5, "hans", "hans2"),
        (6, long.as_str(), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        (7, long.as_str(), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx2"),
    ] {
        s.chat
            .handle_connect(Sim::id(k), Some(peer(k)), LoginStyle::Guest.into(), now);
        input(
            &mut s,
            k,
            Input::Guest {
                name,
                any_free: true,
            },
            1,
        );
        let want = if name == given {
            text::WELCOME.to_string()
        } else {
            format!("Name taken, you are {given}\n{}", text::WELCOME)
        };
        assert_eq!(s.take(k), want, "{name}");
        assert_eq!(s.take(1), format!("{given} logged in\n"));
    }
}

#[test]
fn guests_and_line_users_message_each_other() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    guest(&mut s, 2, "Moo", 0);
    s.take(1);
    input(
        &mut s,
        2,
        Input::Message {
            to: "yoda",
            text: "hi yoda",
            kind: Kind::Say,
            relay: None,
        },
        1,
    );
    assert_eq!(s.take(1), "Moo: hi yoda\n");
    s.line(1, "message Moo hello guest", 1);
    assert_eq!(s.take(2), "yoda: hello guest\n");
    input(
        &mut s,
        2,
        Input::Message {
            to: "nobody",
            text: "x",
            kind: Kind::Say,
            relay: None,
        },
        1,
    );
    assert_eq!(s.take(2), text::INVALID_USER);
    // An account offline gets it at its next login; a guest that left is nobody.
    input(
        &mut s,
        2,
        Input::Message {
            to: "hans",
            text: "later",
            kind: Kind::Say,
            relay: None,
        },
        2,
    );
    assert_eq!(s.take(2), "");
    s.disconnect(2, 3);
    assert_eq!(s.take(1), "Moo logged out\n");
    s.line(1, "message Moo still there?", 4);
    assert_eq!(s.take(1), text::INVALID_USER, "guests have no mailbox");
    s.login(3, "hans", "falcon*solo", 5);
    s.take(1);
    s.line(3, "whoelse", 5);
    assert_eq!(s.take(3), "yoda\n");
}

/// `<list>`: everyone in login order; only the asker's own address (issue 17, F13: no user's
/// address goes to another without consent).
#[test]
fn list_addrs_is_everyone_in_login_order_with_only_ones_own_address() {
    let mut s = Sim::new();
    let now = s.at(0);
    s.chat
        .handle_connect(Sim::id(1), Some(peer(1)), LoginStyle::Dialog.into(), now);
    s.line(1, "yoda", 0);
    s.line(1, "wise", 0);
    guest(&mut s, 2, "Moo", 1);
    s.take_all();
    input(&mut s, 2, Input::ListAddrs, 2);
    assert_eq!(
        s.take(2),
        "yoda\nMoo 10.0.0.2 40002\n",
        "F13: yoda's withheld"
    );
    // Those who block the asker are left out, as in whoelse (yoda blocks hans).
    s.login(3, "hans", "falcon*solo", 3);
    s.line(1, "block hans", 3);
    s.take_all();
    input(&mut s, 3, Input::ListAddrs, 4);
    assert_eq!(s.take(3), "Moo\nhans\n");
}

#[test]
fn console_kick_announce_list_and_stats() {
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    guest(&mut s, 2, "Moo", 0);
    s.take_all();
    s.chat.console_announce("back soon").expect("plain text");
    s.settle();
    assert_eq!(s.take(1), "Announcement from server: back soon\n");
    assert_eq!(s.take(2), "Announcement from server: back soon\n");
    let users = s.chat.console_users(s.at(10));
    let names: Vec<&str> = users.iter().map(|u| &*u.name).collect();
    assert_eq!(names, ["yoda", "Moo"]);
    assert_eq!(users[1].peer, Some(peer(2)));
    assert_eq!(users[0].idle, Duration::from_secs(10));
    s.line(1, "broadcast hi", 11);
    input(&mut s, 2, Input::Announce { text: "yo" }, 11);
    s.take_all();
    let now = s.at(12);
    assert_eq!(s.chat.console_kick("Moo", now), Ok(()));
    let gone = Err("Moo is not online\n".to_string());
    assert_eq!(s.chat.console_kick("Moo", now), gone, "already gone");
    assert!(s.chat.console_kick("hans", now).is_err());
    s.settle();
    assert_eq!(s.take(2), "You have been kicked by the server\n");
    assert_eq!(s.take(1), "Moo logged out\n");
    assert_eq!(s.closed, [(2, "after flush")]);
    let stats = s.chat.stats();
    assert_eq!((stats.users, stats.sessions, stats.messages), (1, 2, 2));
}

/// A guest's room outlives the guest's use of its name while others are in it (the guest
/// renamed, or left): the name stays taken while the room is open, so its ownership (entry
/// past the key, kicks, settings) never passes to the next user of the name, guest or
/// account. A new guest `own1` joined the keyed room as its owner and kicked its members.
#[test]
fn the_name_of_an_open_rooms_owner_is_not_given_to_another() {
    let mut s = Sim::new();
    guest(&mut s, 1, "own1", 0);
    guest(&mut s, 2, "other", 0);
    let join = |room| {
        Input::Room(crate::input::RoomInput::Join {
            room,
            key: None,
            create: true,
            current: false,
        })
    };
    input(&mut s, 1, join("grm"), 0);
    input(&mut s, 2, join("grm"), 0);
    input(&mut s, 1, Input::Rename { name: "own2" }, 0);
    s.take_all();
    let now = s.at(0);
    s.chat
        .handle_connect(Sim::id(3), Some(peer(3)), LoginStyle::Guest.into(), now);
    let take = Input::Guest {
        name: "OWN1",
        any_free: false,
    };
    input(&mut s, 3, take, 0);
    assert_eq!(s.take(3), "Error. The name OWN1 is taken\n");
    input(&mut s, 2, Input::Rename { name: "own1" }, 0);
    assert_eq!(s.take(2), "Error. The name own1 is taken\n");
    s.connect(4, 0);
    s.line(4, "register own1 pw", 0);
    assert_eq!(
        s.take(4),
        "Username: Error. The name own1 is taken\nUsername: "
    );
    // The room closes once nobody is in it; then the name is free.
    s.disconnect(1, 0);
    s.disconnect(2, 0);
    assert_eq!(s.chat.rooms.len(), 0);
    input(&mut s, 3, take, 0);
    assert_eq!(s.take(3), text::WELCOME);
}

/// A guest's standing in a room it does not own (operator, voice, permit, invitation) is its
/// name's, and the name is free once the guest is gone: the standing goes with it. The next
/// guest `gop` joined a `+i` room as an operator and took its key off.
#[test]
fn a_gone_guests_standing_in_rooms_is_not_given_to_the_next_user_of_its_name() {
    use crate::input::{RoomChange, RoomInput};
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    guest(&mut s, 2, "gop", 0);
    guest(&mut s, 3, "ginv", 0);
    let room = |input| Input::Room(input);
    let join = |room| RoomInput::Join {
        room,
        key: None,
        create: true,
        current: false,
    };
    input(&mut s, 1, room(join("den")), 0);
    let private = [RoomChange::Private(true)];
    let change = RoomInput::Change {
        room: "den",
        changes: &private,
    };
    input(&mut s, 1, room(change), 0);
    for user in ["gop", "ginv"] {
        input(&mut s, 1, room(RoomInput::Invite { room: "den", user }), 0);
    }
    input(&mut s, 2, room(join("den")), 0);
    let ops = [RoomChange::Op("gop", true), RoomChange::Voice("gop", true)];
    let change = RoomInput::Change {
        room: "den",
        changes: &ops,
    };
    input(&mut s, 1, room(change), 0);
    s.disconnect(2, 0);
    s.disconnect(3, 0);
    let (_, den) = s.chat.rooms.get("den").expect("den is open");
    assert!(!den.ops.contains("gop") && !den.voiced.contains("gop"));
    assert!(!den.invited.contains("ginv"));
    s.take_all();
    for (k, name) in [(4, "gop"), (5, "ginv")] {
        guest(&mut s, k, name, 0);
        input(&mut s, k, room(join("den")), 0);
        assert_eq!(
            s.take(k),
            "Error. You are not allowed to enter den\n",
            "{name}"
        );
    }
}

/// A crash writes no logout: a guest's standing in a room (here operator and voice) was in
/// the journal after a restart, and the next guest of that name joined the `+i` room as an
/// operator. No guest survives a restart, so the first step after replay drops every
/// standing of a name that is no account (an account's stays).
#[test]
fn a_guests_standing_in_rooms_does_not_survive_a_restart() {
    use crate::input::{RoomChange, RoomInput};
    let mut s = Sim::new();
    s.login(1, "yoda", "wise", 0);
    guest(&mut s, 2, "gop", 0);
    let join = || {
        Input::Room(RoomInput::Join {
            room: "den",
            key: None,
            create: true,
            current: false,
        })
    };
    s.login(4, "luke", "jedi", 0);
    input(&mut s, 1, join(), 0);
    input(&mut s, 2, join(), 0);
    input(&mut s, 4, join(), 0);
    let changes = [
        RoomChange::Op("gop", true),
        RoomChange::Voice("gop", true),
        RoomChange::Op("luke", true),
        RoomChange::Private(true),
    ];
    let change = RoomInput::Change {
        room: "den",
        changes: &changes,
    };
    input(&mut s, 1, Input::Room(change), 0);
    let mut fresh = Sim::new();
    for r in s.committed.clone() {
        fresh.chat.replay(r);
    }
    guest(&mut fresh, 3, "gop", 0);
    input(&mut fresh, 3, join(), 0);
    assert_eq!(fresh.take(3), "Error. You are not allowed to enter den\n");
    let (_, den) = fresh.chat.rooms.get("den").expect("den");
    assert!(den.ops.contains("luke"), "an account's standing stays");
    assert!(!den.voiced.contains("gop"));
}
