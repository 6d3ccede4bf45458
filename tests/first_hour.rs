//! What README's first sections promise a newcomer (issue 21), kept true: what `help` is at
//! each prompt, `/exit-chatroom` against `/exit` in a room, and the server closing the
//! connection itself after `Goodbye` (nc's wait for Enter is nc's).

mod common;

use common::{Server, WELCOME};

/// `help` at `Username: ` lists the login commands; at `Password: ` it is a password attempt;
/// logged in it lists the commands; in a room it is chat, and `/help` lists the room's.
#[test]
fn help_is_what_the_readme_says_at_each_prompt() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    c.expect("Username: ");
    c.send("help");
    c.expect("Type a username, then its password (an unknown name creates an account).\n");
    assert!(c.expect_line().starts_with("login <user> <password>"));
    let mut c = server.connect();
    c.expect("Username: ");
    c.send("yoda");
    c.expect("Password: ");
    c.send("help");
    c.expect("Invalid Password. Please try again\nPassword: ");
    c.send("wise");
    c.expect(WELCOME);
    c.send("help");
    assert!(c.expect_line().starts_with("message <user> <text>"));
    c.send("open-chatroom den public");
    c.send("enter-chatroom den");
    while c.expect_line() != "You entered chatroom den" {}
    c.send("help");
    c.expect("<yoda>: help\n");
    c.send("/help");
    c.expect("A line is chat to the room; a command starts with /.\n");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    assert!(readme.contains("at `Password: ` whatever is typed is\nthe password"));
}

/// In a room `/exit-chatroom` leaves the room; `/exit`, like `exit`, logs out and the server
/// closes the connection after `Goodbye`.
#[test]
fn exit_chatroom_leaves_the_room_and_exit_leaves_the_server() {
    let server = Server::start(&[]);
    let mut c = server.login("yoda", "wise");
    c.send("open-chatroom den public");
    c.expect("Chatroom den opened\n");
    c.send("enter-chatroom den");
    c.expect("You entered chatroom den\n");
    c.send("/exit-chatroom");
    c.expect("You left chatroom den\n");
    c.send("enter-chatroom den");
    c.expect("You entered chatroom den\n");
    c.send("/exit");
    c.expect("You have logged out\nGoodbye\n");
    c.expect_closed();
}
