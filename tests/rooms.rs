//! Chat rooms and profiles (PROTOCOL.md §5) over real TCP against the real binary: public and
//! private rooms with ban and permit among three users, `/` commands inside a room, close
//! returning members to the lobby, and rooms, lists and profiles surviving `kill -9`.

mod common;

use common::Server;

/// hans opens a public room and a private one; yoda and luke come and go; a ban puts yoda out
/// and keeps it out; a permit lets luke into the private room (and lifts nothing else).
#[test]
fn public_and_private_rooms_with_ban_and_permit() {
    let server = Server::start(&[]);
    let [mut hans, mut yoda, mut luke] =
        server.login_all([("hans", "falcon*solo"), ("yoda", "wise"), ("luke", "jedi")]);
    hans.send("open-chatroom den public");
    hans.expect("Chatroom den opened\n");
    hans.send("open-chatroom vault private");
    hans.expect("Chatroom vault opened\n");
    yoda.send("list-chatroom");
    yoda.expect("den hans public\nvault hans private\n");

    hans.send("enter-chatroom den");
    hans.expect("You entered chatroom den\n");
    yoda.send("enter-chatroom den");
    yoda.expect("You entered chatroom den\n");
    hans.expect("[System]: yoda entered the chatroom\n");
    yoda.send("hello");
    yoda.expect("<yoda>: hello\n");
    hans.expect("<yoda>: hello\n");

    hans.send("/ban-user yoda");
    hans.expect("yoda is banned from den\n[System]: yoda left the chatroom\n");
    yoda.expect("You were removed from den\n");
    yoda.send("enter-chatroom den");
    yoda.expect("Error. You are not allowed to enter den\n");
    hans.send("/get-blacklist");
    hans.expect("yoda\n");

    luke.send("enter-chatroom vault");
    luke.expect("Error. You are not allowed to enter vault\n");
    hans.send("/enter-chatroom vault");
    hans.expect("You left chatroom den\nYou entered chatroom vault\n");
    hans.send("/permit-user luke");
    hans.expect("luke is permitted in vault\n");
    luke.send("enter-chatroom vault");
    luke.expect("You entered chatroom vault\n");
    hans.expect("[System]: luke entered the chatroom\n");
    hans.send("/get-whitelist");
    hans.expect("luke\n");
    luke.send("/ban-user hans");
    luke.expect("Error. Only the owner can do that\n");
    luke.send("/enter-chatroom nowhere");
    luke.expect("Error. No chatroom nowhere\n");
    yoda.send("open-chatroom bad/name public");
    yoda.expect("Error. Invalid room name\n");
    yoda.expect_silence(100);
}

/// Inside a room `/whoelse` and `/message` are the lobby commands; a direct message reaches a
/// user in a room; `/exit-chatroom` leaves it.
#[test]
fn slash_commands_inside_a_room() {
    let server = Server::start(&[]);
    let [mut hans, mut yoda] = server.login_all([("hans", "falcon*solo"), ("yoda", "wise")]);
    hans.send("open-chatroom den public");
    hans.expect("Chatroom den opened\n");
    hans.send("enter-chatroom den");
    hans.expect("You entered chatroom den\n");
    hans.send("/whoelse");
    hans.expect("yoda\n");
    hans.send("/message yoda from the den");
    hans.expect_silence(100);
    yoda.expect("hans: from the den\n");
    yoda.send("message hans to the den");
    hans.expect("yoda: to the den\n");
    hans.send("whoelse");
    hans.expect("<hans>: whoelse\n");
    hans.send("/exit-chatroom");
    hans.expect("You left chatroom den\n");
    hans.send("whoelse");
    hans.expect("yoda\n");
}

/// `close-chatroom` by the owner sends every member back to the lobby.
#[test]
fn close_chatroom_returns_members_to_the_lobby() {
    let server = Server::start(&[]);
    let [mut hans, mut yoda, mut luke] =
        server.login_all([("hans", "falcon*solo"), ("yoda", "wise"), ("luke", "jedi")]);
    hans.send("open-chatroom den public");
    hans.expect("Chatroom den opened\n");
    for c in [&mut yoda, &mut luke] {
        c.send("enter-chatroom den");
        c.expect("You entered chatroom den\n");
    }
    yoda.expect("[System]: luke entered the chatroom\n");
    yoda.send("/close-chatroom");
    yoda.expect("Error. Only the owner can do that\n");
    hans.send("close-chatroom den");
    hans.expect("Chatroom den closed\n");
    yoda.expect("[System]: chatroom den closed\n");
    luke.expect("[System]: chatroom den closed\n");
    luke.send("whoelse");
    luke.expect("hans\nyoda\n");
    luke.send("list-chatroom");
    luke.expect_silence(100);
}

/// Rooms, their kind, both lists, the topic and profiles acknowledged before a SIGKILL are all
/// there after a restart (membership is not: everyone starts in the lobby).
#[test]
fn rooms_lists_and_profiles_survive_kill_9() {
    let mut server = Server::start(&[]);
    {
        let [mut hans, mut yoda] = server.login_all([("hans", "falcon*solo"), ("yoda", "wise")]);
        hans.send("open-chatroom vault private");
        hans.expect("Chatroom vault opened\n");
        hans.send("open-chatroom gone public");
        hans.expect("Chatroom gone opened\n");
        hans.send("enter-chatroom vault");
        hans.expect("You entered chatroom vault\n");
        hans.send("/permit-user yoda");
        hans.expect("yoda is permitted in vault\n");
        hans.send("/ban-user luke");
        hans.expect("luke is banned from vault\n");
        hans.send("/set-topic vault  secrets  here");
        hans.expect("Topic of vault: secrets  here (set by hans)\n");
        hans.send("/close-chatroom gone");
        hans.expect("Chatroom gone closed\n");
        yoda.send("set-profile self_description small  and green");
        yoda.expect("Attribute self_description set successfully.\n");
        server.kill();
    }
    server.restart();
    let [mut yoda, mut luke] = server.login_all([("yoda", "wise"), ("luke", "jedi")]);
    yoda.send("list-chatroom");
    yoda.expect("vault hans private\n");
    yoda.send("view-profile yoda");
    yoda.expect(
        "username : yoda\nage : \nbirthday : \njob : \nphone_number : \n\
         self_description : small  and green\n",
    );
    yoda.send("enter-chatroom vault");
    yoda.expect("You entered chatroom vault\n");
    yoda.send("/topic");
    yoda.expect("Topic of vault: secrets  here (set by hans)\n");
    luke.send("enter-chatroom vault");
    luke.expect("Error. You are not allowed to enter vault\n");
    let mut hans = server.login("hans", "falcon*solo");
    hans.send("get-blacklist vault");
    hans.expect("luke\n");
    hans.send("get-whitelist vault");
    hans.expect("yoda\n");
}
