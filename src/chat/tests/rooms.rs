//! Chat rooms and profiles (PROTOCOL.md §5) in the core, with simulated time: every command and
//! every refusal through the line codec, and the multi-room API the IRC front-end uses.

use super::{settings, three, Sim};
use crate::chat::*;
use crate::input::Kind;
use crate::input::RoomInput;
use crate::protocol::line::text;

fn input(s: &mut Sim, k: usize, input: Input<'_>) {
    let now = s.at(1);
    s.chat.handle_input(Sim::id(k), input, now);
    s.settle();
}

#[test]
fn profiles_set_view_whoami_and_refusals() {
    let mut s = three();
    s.line(1, "whoami", 1);
    assert_eq!(
        s.take(1),
        "username : hans\nage : \nbirthday : \njob : \nphone_number : \nself_description : \n"
    );
    s.line(1, "set-profile job smuggler", 1);
    assert_eq!(s.take(1), "Attribute job set successfully.\n");
    s.line(1, "set-profile self_description  I shot  first ", 1);
    assert_eq!(s.take(1), "Attribute self_description set successfully.\n");
    s.line(2, "view-profile hans", 1);
    assert_eq!(
        s.take(2),
        "username : hans\nage : \nbirthday : \njob : smuggler\nphone_number : \nself_description : I shot  first \n"
    );
    s.line(1, "set-profile height 180", 1);
    assert_eq!(s.take(1), "Error. Invalid attribute\n");
    s.line(1, &format!("set-profile job {}", "x".repeat(257)), 1);
    assert_eq!(s.take(1), "Error. Value too long (at most 256 bytes)\n");
    s.line(1, "view-profile nobody", 1);
    assert_eq!(s.take(1), "Error. Invalid user\n");
    s.line(1, "set-profile job", 1);
    assert_eq!(s.take(1), "Error. Invalid command\n");
}

#[test]
fn list_user_shows_every_account_sorted_and_hides_blockers() {
    let mut s = three();
    s.line(1, "list-user", 1);
    assert_eq!(
        s.take(1),
        "hans online\nluke online\nr2d2 offline\nvader offline\nyoda online\n"
    );
    s.line(2, "block hans", 1);
    s.take(2);
    s.line(1, "list-user", 1);
    assert!(s.take(1).contains("yoda offline\n"));
}

#[test]
fn open_enter_chat_exit_in_a_public_room() {
    let mut s = three();
    s.line(1, "open-chatroom den public", 1);
    assert_eq!(s.take(1), "Chatroom den opened\n");
    s.line(2, "open-chatroom den private", 1);
    assert_eq!(s.take(2), "Error. Chatroom den already exists\n");
    s.line(1, "enter-chatroom den", 1);
    assert_eq!(s.take(1), "You entered chatroom den\n");
    s.line(2, "enter-chatroom den", 1);
    assert_eq!(s.take(2), "You entered chatroom den\n");
    assert_eq!(s.take(1), "[System]: yoda entered the chatroom\n");
    s.line(2, "hello there", 1);
    assert_eq!(s.take(1), "<yoda>: hello there\n");
    assert_eq!(s.take(2), "<yoda>: hello there\n");
    assert_eq!(s.take(3), "", "luke is in the lobby");
    s.line(3, "list-chatroom", 1);
    assert_eq!(s.take(3), "den hans public\n");
    s.line(2, "/exit-chatroom", 1);
    assert_eq!(s.take(2), "You left chatroom den\n");
    assert_eq!(s.take(1), "[System]: yoda left the chatroom\n");
    // Back in the lobby a plain line is a command again.
    s.line(2, "hello", 1);
    assert_eq!(s.take(2), "Error. Invalid command\n");
    s.line(2, "exit-chatroom", 1);
    assert_eq!(s.take(2), "Error. Invalid command\n");
}

#[test]
fn slash_commands_and_messages_reach_a_user_in_a_room() {
    let mut s = three();
    s.line(1, "open-chatroom den public", 1);
    s.line(1, "enter-chatroom den", 1);
    s.take(1);
    s.line(1, "/whoelse", 1);
    assert_eq!(s.take(1), "yoda\nluke\n");
    s.line(1, "/message yoda psst", 1);
    assert_eq!(s.take(2), "hans: psst\n");
    s.line(2, "message hans back", 1);
    assert_eq!(s.take(1), "yoda: back\n");
    s.line(3, "broadcast all", 1);
    assert_eq!(s.take(1), "luke: all\n");
    s.line(1, "/nonsense", 1);
    assert_eq!(s.take(1), "Error. Invalid command\n");
    s.line(1, "/list-chatroom", 1);
    assert_eq!(s.take(1), "den hans public\n");
    s.line(1, "", 1);
    s.line(1, "/help", 1);
    let help = s.take(1);
    assert!(help.contains("/exit-chatroom") && help.contains("/whoelse | /online"));
    assert!(help.contains("/ban-user <user>") && !help.contains("login"));
    s.line(2, "help", 1);
    let lobby = s.take(2);
    assert!(lobby.contains("open-chatroom <room> public|private") && !lobby.contains("ban-user"));
}

#[test]
fn private_room_needs_a_permit_and_ban_wins_over_public() {
    let mut s = three();
    s.line(1, "open-chatroom vault private", 1);
    s.take(1);
    s.line(2, "enter-chatroom vault", 1);
    assert_eq!(s.take(2), "Error. You are not allowed to enter vault\n");
    s.line(1, "enter-chatroom vault", 1);
    s.line(1, "/permit-user yoda", 1);
    assert_eq!(
        s.take(1),
        "You entered chatroom vault\nyoda is permitted in vault\n"
    );
    s.line(2, "enter-chatroom vault", 1);
    assert_eq!(s.take(2), "You entered chatroom vault\n");
    s.line(1, "/get-whitelist", 1);
    s.line(1, "/get-blacklist", 1);
    assert_eq!(s.take(1), "[System]: yoda entered the chatroom\nyoda\n");
    // A ban takes yoda off the whitelist and puts it out.
    s.line(1, "/ban-user yoda", 1);
    assert_eq!(
        s.take(1),
        "yoda is banned from vault\n[System]: yoda left the chatroom\n"
    );
    assert_eq!(s.take(2), "You were removed from vault\n");
    s.line(2, "hi?", 1);
    assert_eq!(s.take(2), "Error. Invalid command\n", "back in the lobby");
    s.line(1, "/get-blacklist", 1);
    s.line(1, "/get-whitelist", 1);
    assert_eq!(s.take(1), "yoda\n");
    s.line(2, "enter-chatroom vault", 1);
    assert_eq!(s.take(2), "Error. You are not allowed to enter vault\n");
    // Public: everyone but the banned.
    s.line(1, "/set-chatroom vault public", 1);
    assert_eq!(s.take(1), "Chatroom vault is now public\n");
    s.line(3, "enter-chatroom vault", 1);
    assert_eq!(s.take(3), "You entered chatroom vault\n");
    s.line(2, "enter-chatroom vault", 1);
    assert_eq!(s.take(2), "Error. You are not allowed to enter vault\n");
    s.line(1, "/unban-user yoda", 1);
    s.take(1);
    s.line(2, "enter-chatroom vault", 1);
    assert_eq!(s.take(2), "You entered chatroom vault\n");
}

#[test]
fn owner_only_commands_are_refused_to_others() {
    let mut s = three();
    s.line(1, "open-chatroom den public", 1);
    s.line(2, "enter-chatroom den", 1);
    s.take_all();
    for cmd in [
        "/ban-user luke",
        "/permit-user luke",
        "/get-blacklist",
        "/kick-user hans",
    ] {
        s.line(2, cmd, 1);
        assert_eq!(s.take(2), "Error. Only the owner can do that\n", "{cmd}");
    }
    for cmd in [
        "get-whitelist den",
        "close-chatroom den",
        "set-topic den mine",
        "set-chatroom den private",
    ] {
        s.line(3, cmd, 1);
        assert_eq!(s.take(3), "Error. Only the owner can do that\n", "{cmd}");
    }
    s.line(1, "enter-chatroom den", 1);
    s.take_all();
    s.line(1, "/ban-user hans", 1);
    assert_eq!(
        s.take(1),
        "Error. The owner cannot be put out of its room\n"
    );
    s.line(1, "/ban-user nobody", 1);
    assert_eq!(s.take(1), "Error. Invalid user\n");
}

#[test]
fn unknown_rooms_bad_names_and_no_room_are_refused() {
    let mut s = three();
    s.line(1, "enter-chatroom nowhere", 1);
    assert_eq!(s.take(1), "Error. No chatroom nowhere\n");
    for bad in ["a/b", "ünï", &"x".repeat(33)] {
        s.line(1, &format!("open-chatroom {bad} public"), 1);
        assert_eq!(s.take(1), "Error. Invalid room name\n", "{bad}");
    }
    s.line(1, &format!("open-chatroom {} public", "x".repeat(32)), 1);
    assert!(s.take(1).ends_with("opened\n"));
    s.line(1, "open-chatroom ok semi", 1);
    assert_eq!(s.take(1), "Error. Invalid command\n");
    for cmd in ["get-blacklist", "close-chatroom", "topic", "list-members"] {
        s.line(1, cmd, 1);
        assert_eq!(s.take(1), "Error. You are not in a chatroom\n", "{cmd}");
    }
    s.line(1, "close-chatroom nowhere", 1);
    assert_eq!(s.take(1), "Error. No chatroom nowhere\n");
}

#[test]
fn max_rooms_is_enforced() {
    let mut s = Sim::with(Settings {
        max_rooms: 2,
        ..settings()
    });
    s.login(1, "hans", "falcon*solo", 0);
    s.line(1, "open-chatroom a public", 1);
    s.line(1, "open-chatroom b public", 1);
    s.take(1);
    s.line(1, "open-chatroom c public", 1);
    assert_eq!(s.take(1), "Error. Too many chatrooms (at most 2)\n");
    s.line(1, "close-chatroom a", 1);
    s.line(1, "open-chatroom c public", 1);
    assert_eq!(s.take(1), "Chatroom a closed\nChatroom c opened\n");
}

#[test]
fn close_returns_members_to_the_lobby() {
    let mut s = three();
    s.line(1, "open-chatroom den public", 1);
    s.line(2, "enter-chatroom den", 1);
    s.line(3, "enter-chatroom den", 1);
    s.take_all();
    s.line(1, "close-chatroom den", 1);
    assert_eq!(s.take(1), "Chatroom den closed\n");
    assert_eq!(s.take(2), "[System]: chatroom den closed\n");
    assert_eq!(s.take(3), "[System]: chatroom den closed\n");
    s.line(2, "whoelse", 1);
    assert_eq!(s.take(2), "hans\nluke\n", "a plain line is a command again");
    s.line(2, "list-chatroom", 1);
    assert_eq!(s.take(2), "");
}

#[test]
fn blocks_apply_in_rooms() {
    let mut s = three();
    s.line(1, "open-chatroom den public", 1);
    s.line(1, "enter-chatroom den", 1);
    s.line(2, "enter-chatroom den", 1);
    s.line(2, "/block hans", 1);
    s.take_all();
    s.line(1, "hi all", 1);
    assert_eq!(
        s.take(1),
        "<hans>: hi all\n",
        "the blocked sender is not told"
    );
    assert_eq!(s.take(2), "");
    s.line(2, "hi hans", 1);
    assert_eq!(s.take(1), "<yoda>: hi hans\n");
}

#[test]
fn entering_another_room_leaves_the_current_one() {
    let mut s = three();
    s.line(1, "open-chatroom a public", 1);
    s.line(1, "open-chatroom b public", 1);
    s.line(1, "enter-chatroom a", 1);
    s.line(2, "enter-chatroom a", 1);
    s.take_all();
    s.line(2, "/enter-chatroom b", 1);
    assert_eq!(s.take(2), "You left chatroom a\nYou entered chatroom b\n");
    assert_eq!(s.take(1), "[System]: yoda left the chatroom\n");
    s.line(1, "/logout", 1);
    assert_eq!(
        s.take(2),
        "hans logged out\n",
        "presence still reaches a room"
    );
    s.line(2, "still here", 1);
    assert_eq!(s.take(2), "<yoda>: still here\n");
}

#[test]
fn logout_leaves_every_room() {
    let mut s = three();
    s.line(1, "open-chatroom den public", 1);
    s.line(1, "enter-chatroom den", 1);
    s.line(2, "enter-chatroom den", 1);
    s.take_all();
    s.line(2, "/logout", 1);
    assert_eq!(
        s.take(1),
        "[System]: yoda left the chatroom\nyoda logged out\n"
    );
    s.line(1, "/list-members", 1);
    assert_eq!(s.take(1), "hans (owner)\n");
}

#[test]
fn multi_room_membership_through_the_core_api() {
    let mut s = three();
    input(
        &mut s,
        1,
        Input::Room(RoomInput::Join {
            room: "a",
            key: None,
            create: true,
            current: false,
        }),
    );
    assert_eq!(s.take(1), "Chatroom a opened\nYou entered chatroom a\n");
    input(
        &mut s,
        1,
        Input::Room(RoomInput::Join {
            room: "b",
            key: None,
            create: true,
            current: false,
        }),
    );
    input(
        &mut s,
        2,
        Input::Room(RoomInput::Join {
            room: "a",
            key: None,
            create: false,
            current: false,
        }),
    );
    input(
        &mut s,
        2,
        Input::Room(RoomInput::Join {
            room: "b",
            key: None,
            create: false,
            current: false,
        }),
    );
    input(
        &mut s,
        3,
        Input::Room(RoomInput::Join {
            room: "zz",
            key: None,
            create: false,
            current: false,
        }),
    );
    assert_eq!(s.take(3), "Error. No chatroom zz\n");
    s.take_all();
    assert_eq!(
        s.chat.expects(Sim::id(2)),
        Expect::Command,
        "no current room"
    );
    input(
        &mut s,
        2,
        Input::Room(RoomInput::Say {
            room: Some("a"),
            text: "in a",
            kind: Kind::Say,
            relay: None,
        }),
    );
    input(
        &mut s,
        2,
        Input::Room(RoomInput::Say {
            room: Some("b"),
            text: "in b",
            kind: Kind::Say,
            relay: None,
        }),
    );
    assert_eq!(s.take(1), "<yoda>: in a\n<yoda>: in b\n");
    assert_eq!(s.take(2), "<yoda>: in a\n<yoda>: in b\n", "the sender too");
    input(
        &mut s,
        3,
        Input::Room(RoomInput::Say {
            room: Some("a"),
            text: "x",
            kind: Kind::Say,
            relay: None,
        }),
    );
    assert_eq!(s.take(3), "Error. You are not in chatroom a\n");
    input(
        &mut s,
        1,
        Input::Room(RoomInput::Members { room: Some("b") }),
    );
    assert_eq!(s.take(1), "hans (owner)\nyoda\n");
    input(
        &mut s,
        1,
        Input::Room(RoomInput::SetTopic {
            room: Some("b"),
            text: "droids",
        }),
    );
    assert_eq!(s.take(2), "Topic of b: droids (set by hans)\n");
    assert_eq!(s.take(1), "Topic of b: droids (set by hans)\n");
    input(
        &mut s,
        3,
        Input::Room(RoomInput::ShowTopic { room: Some("b") }),
    );
    assert_eq!(s.take(3), "Topic of b: droids (set by hans)\n");
    input(
        &mut s,
        1,
        Input::Room(RoomInput::Kick {
            room: Some("a"),
            user: "yoda",
            reason: None,
        }),
    );
    assert_eq!(s.take(2), "You were removed from a\n");
    assert_eq!(s.take(1), "[System]: yoda left the chatroom\n");
    input(
        &mut s,
        2,
        Input::Room(RoomInput::Join {
            room: "a",
            key: None,
            create: false,
            current: false,
        }),
    );
    assert_eq!(s.take(2), "You entered chatroom a\n", "a kick is not a ban");
    input(
        &mut s,
        2,
        Input::Room(RoomInput::Part {
            room: Some("b"),
            reason: Some("bye"),
        }),
    );
    assert_eq!(s.take(2), "You left chatroom b\n");
    input(
        &mut s,
        1,
        Input::Room(RoomInput::Members { room: Some("a") }),
    );
    assert_eq!(s.take(1), "[System]: yoda entered the chatroom\n[System]: yoda left the chatroom\nhans (owner)\nyoda\n");
}

#[test]
fn a_failed_commit_undoes_a_room_open_and_a_profile() {
    let mut s = three();
    s.store_ok = false;
    s.line(1, "open-chatroom den public", 1);
    assert_eq!(s.take(1), text::STORAGE);
    s.line(1, "set-profile job x", 1);
    assert_eq!(s.take(1), text::STORAGE);
    s.store_ok = true;
    s.line(1, "list-chatroom", 1);
    s.line(1, "whoami", 1);
    assert_eq!(
        s.take(1),
        "username : hans\nage : \nbirthday : \njob : \nphone_number : \nself_description : \n"
    );
    s.line(1, "open-chatroom den public", 1);
    assert_eq!(s.take(1), "Chatroom den opened\n");
}

#[test]
fn a_failed_commit_undoes_a_ban_and_a_close() {
    let mut s = three();
    s.line(1, "open-chatroom den public", 1);
    s.line(1, "enter-chatroom den", 1);
    s.line(2, "enter-chatroom den", 1);
    s.take_all();
    s.store_ok = false;
    s.line(1, "/ban-user yoda", 1);
    assert_eq!(s.take(1), text::STORAGE);
    assert_eq!(s.take(2), "", "yoda is not told");
    s.line(1, "/close-chatroom", 1);
    assert_eq!(s.take(1), text::STORAGE);
    s.store_ok = true;
    s.line(2, "still in", 1);
    assert_eq!(s.take(1), "<yoda>: still in\n");
    s.line(1, "/get-blacklist", 1);
    assert_eq!(s.take(1), "");
}

#[test]
fn rooms_and_profiles_snapshot_and_replay() {
    let mut s = three();
    s.line(1, "open-chatroom den private", 1);
    s.line(1, "open-chatroom pub public", 1);
    s.line(1, "enter-chatroom den", 1);
    s.line(1, "/permit-user yoda", 1);
    s.line(1, "/ban-user luke", 1);
    s.line(1, "/set-topic den the den", 1);
    s.line(1, "/close-chatroom pub", 1);
    s.line(2, "set-profile age 900", 1);
    let snap = s.chat.snapshot();
    let mut t = Sim::new();
    for r in s.committed.clone() {
        t.chat.replay(r);
    }
    assert_eq!(
        t.chat.snapshot(),
        snap,
        "journal replay equals the snapshot"
    );
    let mut u = Sim::new();
    for r in snap {
        u.chat.replay(r);
    }
    u.login(2, "yoda", "wise", 2);
    u.line(2, "list-chatroom", 2);
    u.line(2, "enter-chatroom den", 2);
    u.line(2, "/topic", 2);
    u.line(2, "/whoami", 2);
    assert_eq!(
        u.take(2),
        "den hans private\nYou entered chatroom den\nTopic of den: the den (set by hans)\n\
         username : yoda\nage : 900\nbirthday : \njob : \nphone_number : \nself_description : \n"
    );
    u.login(3, "luke", "jedi", 2);
    u.line(3, "enter-chatroom den", 2);
    assert_eq!(u.take(3), "Error. You are not allowed to enter den\n");
}

/// Found case: in one iteration hans opens `den` and yoda enters it. The commit fails and the
/// room is undone, so yoda, told `You entered chatroom den`, was in no room (its next line
/// `Error. Invalid command`): a reply that saw the uncommitted room stands or falls with it, as
/// one that saw an uncommitted block does. So does a `list-chatroom` that listed it.
#[test]
fn no_reply_shows_a_room_a_failed_commit_undid() {
    let mut s = three();
    s.take_all();
    s.store_ok = false;
    let lines = [
        (1, "open-chatroom den public"),
        (2, "enter-chatroom den"),
        (3, "list-chatroom"),
    ];
    s.lines_at_once(&lines, 1);
    assert_eq!(s.take(1), text::STORAGE);
    assert_eq!(s.take(2), text::STORAGE);
    assert_eq!(s.take(3), text::STORAGE);
    // Nothing was opened: the same commands now say so.
    s.store_ok = true;
    s.line(2, "enter-chatroom den", 2);
    assert_eq!(s.take(2), "Error. No chatroom den\n");
    s.line(3, "list-chatroom", 2);
    assert_eq!(s.take(3), "");
}

/// The same for a profile: in one iteration hans sets his job and yoda views his profile. The
/// commit fails and the job is undone, so the profile yoda was shown is refused too.
#[test]
fn no_reply_shows_a_profile_a_failed_commit_undid() {
    let mut s = three();
    s.store_ok = false;
    s.lines_at_once(&[(1, "set-profile job sith"), (2, "view-profile hans")], 1);
    assert_eq!(s.take(1), text::STORAGE);
    assert_eq!(s.take(2), text::STORAGE);
    s.store_ok = true;
    s.line(2, "view-profile hans", 2);
    assert!(s.take(2).contains("job : \n"));
}

/// Roommates are told why a user left (IRC `QUIT :<reason>`): its `QUIT` words, the server's
/// cause, or a closed connection, each said once. A closed connection read `Quit: ` with
/// nothing after it, as did a logout and a ping timeout (found with an IRC client whose
/// roommate's connection dropped).
#[test]
fn roommates_are_told_why_a_user_left() {
    let mut s = three();
    s.line(1, "open-chatroom den public", 1);
    for k in 1..=3 {
        s.line(k, "enter-chatroom den", 1);
    }
    let quits = |s: &mut Sim| -> Vec<String> {
        let got = std::mem::take(&mut s.events);
        got.into_iter()
            .filter_map(|(k, e)| match e {
                Event::Room(crate::event::RoomEvent::Quit { user, reason }) if k == 1 => {
                    Some(format!("{user}: {reason}"))
                }
                _ => None,
            })
            .collect()
    };
    quits(&mut s);
    s.line(3, "/logout", 2);
    assert_eq!(quits(&mut s), ["luke: Logged out"]);
    s.line(3, "luke", 2);
    s.line(3, "jedi", 2);
    s.line(3, "enter-chatroom den", 2);
    s.disconnect(3, 3);
    assert_eq!(
        quits(&mut s),
        ["luke: Connection closed"],
        "not the old reason"
    );
    input(
        &mut s,
        2,
        Input::Quit {
            reason: "bye\u{1b}[2J",
        },
    );
    assert_eq!(quits(&mut s), ["yoda: Quit: bye[2J"]);
    // A `QUIT` without words (or only control characters) read a bare `Quit: `.
    s.connect(3, 4);
    s.line(3, "luke", 4);
    s.line(3, "jedi", 4);
    s.line(3, "enter-chatroom den", 4);
    quits(&mut s);
    input(&mut s, 3, Input::Quit { reason: "\u{7}" });
    assert_eq!(quits(&mut s), ["luke: Client Quit"]);
}
