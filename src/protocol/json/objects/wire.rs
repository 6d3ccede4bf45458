//! The exact server texts of the seed-002 client (seed-002-wire.md §2), byte for byte, and
//! our two additions. Every literal the JSON front-end writes is here.
//!
//! Framing: there is none. The client appends each chunk it receives to its screen history,
//! so the seed's texts that follow earlier output start with `\n` and most end without one.
//! Our additions ([`NAME_TAKEN`], [`INVALID_REQUEST`]) follow that style: a leading `\n`, no
//! trailing one. [`QUIT`] must be written on its own (the client compares whole chunks with
//! `<quit>`) and the connection closed right after it.

/// Sent on accept, before the client has sent anything.
pub const GREETING: &str =
    "[*] Welcome to the chat room!\n[*] Please enter your user name to get started.\n";

/// The reply to a `<quit>` request; the client closes its socket when a chunk is exactly this.
pub const QUIT: &str = "<quit>";

/// To the sender of a `<private>` whose target is not online (no leading `\n`: sic).
pub const DM_ERROR: &str =
    "[*] Oops there was an error sending DM, please check the intended username again";

/// Ours: to a `<first>` whose name is an account or already online.
pub const NAME_TAKEN: &str = "\n[*] Name taken, choose another";

/// Ours: to an object that is not a valid request (bad JSON, missing keys).
pub const INVALID_REQUEST: &str = "\n[*] Invalid request";

/// Ours: to a `<first>` whose name the line protocol could not address (`message <user>`).
pub const INVALID_NAME: &str = "\n[*] Invalid name, choose another (1-32 characters, no spaces)";

/// Ours: the prefix of every other server text (errors and notices without a seed text).
pub const NOTE: &str = "\n[*] ";

/// To the new user after `<first>`.
pub fn welcome(name: &str) -> String {
    format!("\nServer: Welcome {name}!\n\nChoose msg options.\nType <help> to see the list of options\n")
}

/// To every user already in the room when `name` joins (not to `name` itself).
pub fn joined(name: &str) -> String {
    format!("\nServer: {name} has joined the chat room!")
}

/// The reply to `<list>`: one line per `(name, ip, port)`, in the given order.
pub fn user_list<'a>(users: impl IntoIterator<Item = (&'a str, &'a str, u16)>) -> String {
    let mut lines = String::new();
    for (name, ip, port) in users {
        lines.push_str(&format!("   Client: '{name}' ~ {ip} : {port}\n"));
    }
    format!("\n[*] List of users \n {lines}\n ")
}

/// To the target of a `<private>` (no newline at all: sic). No acknowledgement to the sender.
pub fn private(from: &str, to: &str, content: &str) -> String {
    format!("From {from} to {to}: {content}")
}

/// To everyone, the sender included, for `<announce>` (and, in the seed, any unknown msgType).
pub fn announce(sender: &str, content: &str) -> String {
    format!("\n{sender}: {content}")
}

/// To everyone (the quitter included, before its [`QUIT`] in the seed) when `name` leaves.
pub fn left(name: &str) -> String {
    format!("\n[*] {name} has left the chat room.")
}

/// The operator's console `announce` (PROTOCOL.md §7; the seed's code misspells it
/// "Announce ment", its write-up and our protocol say "Announcement").
pub fn server_announce(text: &str) -> String {
    format!("\nAnnouncement from server: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_the_seed_byte_for_byte() {
        assert_eq!(
            welcome("Mooyeong"),
            "\nServer: Welcome Mooyeong!\n\nChoose msg options.\nType <help> to see the list of options\n"
        );
        assert_eq!(
            joined("Jeremy"),
            "\nServer: Jeremy has joined the chat room!"
        );
        assert_eq!(private("A", "B", "hi"), "From A to B: hi");
        assert_eq!(announce("Jeremy", "yo"), "\nJeremy: yo");
        assert_eq!(left("Anthony"), "\n[*] Anthony has left the chat room.");
        assert_eq!(
            server_announce("Hello"),
            "\nAnnouncement from server: Hello"
        );
        assert_eq!(QUIT, "<quit>");
    }

    #[test]
    fn user_list_layout() {
        let users = [
            ("Woosuk", "127.0.0.1", 54030),
            ("Mooyeong", "127.0.0.1", 54033),
        ];
        assert_eq!(
            user_list(users),
            "\n[*] List of users \n    Client: 'Woosuk' ~ 127.0.0.1 : 54030\n   \
             Client: 'Mooyeong' ~ 127.0.0.1 : 54033\n\n "
        );
        assert_eq!(user_list([]), "\n[*] List of users \n \n ");
    }
}
