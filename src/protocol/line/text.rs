//! Every reply text of PROTOCOL.md, in one place: how the line codec renders core events.
//! Prompts end without a newline (a person typing in `nc` answers on the same line); every other
//! line ends in `\n`.

use crate::command::{self, States};
use crate::event::{
    Audience, Error, Event, HelpTopic, Kind, Notice, PrivateEvent, Prompt, RoomEvent,
};

pub const USERNAME: &str = "Username: ";
pub const PASSWORD: &str = "Password: ";
pub const WELCOME: &str = "Welcome to the greatest messaging application ever!\n";
pub const BAD_PASSWORD: &str = "Invalid Password. Please try again\n";
pub const NOW_LOCKED: &str =
    "Invalid Password. Your account has been blocked. Please try again later\n";
pub const STILL_LOCKED: &str =
    "Your account is blocked due to multiple login failures. Please try again later\n";
pub const UNKNOWN_USERNAME: &str = "Invalid Username. Please try again\n";
pub const INVALID_USERNAME: &str = "Error. Invalid username\n";
pub const INVALID_PASSWORD: &str = "Error. Invalid password\n";
pub const REGISTRATION_CLOSED: &str = "Error. Registration is closed\n";
pub const GOODBYE: &str = "Goodbye\n";
pub const INVALID_COMMAND: &str = "Error. Invalid command\n";
pub const INVALID_USER: &str = "Error. Invalid user\n";
pub const MESSAGE_SELF: &str = "Error. Cannot message self\n";
pub const BLOCKED_BY_RECIPIENT: &str =
    "Your message could not be delivered as the recipient has blocked you\n";
pub const SOME_NOT_DELIVERED: &str = "Your message could not be delivered to some recipients\n";
pub const BLOCK_SELF: &str = "Error. Cannot block self\n";
pub const LOGGED_OUT: &str = "You have logged out\n";
pub const INACTIVE: &str = "You have been logged out due to inactivity\n";
pub const LINE_TOO_LONG: &str = "Error. Line too long\n";
pub const INVALID_UTF8: &str = "Error. Invalid UTF-8\n";
pub const SERVER_FULL: &str = "Error. Server full\n";
pub const LOGIN_TIMEOUT: &str = "Error. Login timed out\n";
pub const STORAGE: &str = "Error. Storage unavailable, try again later\n";
pub const SHUTDOWN: &str = "Server shutting down\n";
pub const INVALID_PORT: &str = "Error. Invalid port\n";
pub const INVALID_PEER_KEY: &str = "Error. Invalid peer key\n";
// Server console (§7).
pub const KICKED: &str = "You have been kicked by the server\n";
/// The operator deleted the account (issue 21).
pub const ACCOUNT_DELETED: &str = "Your account has been deleted by the server\n";
pub const SERVER_ANNOUNCEMENT: &str = "Announcement from server: ";
// Reliability limits (issue 8).
pub const TOO_MANY_ACCOUNTS: &str = "Error. Too many accounts, registration closed\n";
pub const REGISTER_RATE: &str =
    "Error. Too many registrations from your address, try again later\n";
/// Issue 21: `--login-fail-rate` for this source address used up.
pub const LOGIN_RATE: &str = "Error. Too many failed logins from your address, try again later\n";
pub const STORAGE_FULL: &str = "Error. Server storage full\n";
pub const TOO_MANY_FROM_ADDRESS: &str = "Error. Too many connections from your address\n";
// Chat rooms and profiles (§5).
pub const INVALID_ROOM_NAME: &str = "Error. Invalid room name\n";
pub const NOT_OWNER: &str = "Error. Only the owner can do that\n";
pub const NOT_IN_ROOM: &str = "Error. You are not in a chatroom\n";
pub const OWNER_IMMUNE: &str = "Error. The owner cannot be put out of its room\n";
pub const INVALID_ATTRIBUTE: &str = "Error. Invalid attribute\n";
// Issue 17: the value rules (`crate::valid`).
pub const INVALID_TEXT: &str = "Error. Text may not contain control characters (tab is allowed)\n";
pub const INVALID_KEY: &str = "Error. Invalid key\n";
pub const INVALID_MASK: &str = "Error. Invalid ban mask\n";
pub const SYSTEM: &str = "[System]: ";
// §6 menus.
pub const PRIVATE_TO: &str = "Who do you want to send message to? ";
pub const PRIVATE_TEXT: &str = "Type message you want to send: ";
pub const RECIPIENT: &str = "Recipient: ";
pub const MESSAGE: &str = "Message: ";
pub const MESSAGE_SENT: &str = "Message sent\n";
pub const CANCELLED: &str = "Cancelled\n";

fn put(out: &mut Vec<u8>, parts: &[&str]) {
    for p in parts {
        out.extend_from_slice(p.as_bytes());
    }
}

/// Append the line form of `event` to `out`.
pub fn render(event: &Event, out: &mut Vec<u8>) {
    match event {
        Event::Prompt(Prompt::Username) => put(out, &[USERNAME]),
        Event::Prompt(Prompt::Password) => put(out, &[PASSWORD]),
        // §6 menus.
        Event::Prompt(Prompt::PrivateTo) => put(out, &[PRIVATE_TO]),
        Event::Prompt(Prompt::PrivateText) => put(out, &[PRIVATE_TEXT]),
        Event::Prompt(Prompt::Recipient) => put(out, &[RECIPIENT]),
        Event::Prompt(Prompt::Message) => put(out, &[MESSAGE]),
        Event::Help(HelpTopic::Login) => put(out, &[&command::help(States::LOGIN)]),
        Event::Help(HelpTopic::Lobby) => put(out, &[&command::help(States::LOBBY)]),
        Event::Help(HelpTopic::Room) => put(out, &[&command::help(States::ROOM)]),
        Event::NewUser(user) => put(out, &["New user ", user, ". Choose a password\n"]),
        Event::Welcome(_) => put(out, &[WELCOME]),
        // Issue 22: the sender's own copy, CTCP and tags are IRC's alone.
        Event::Chat {
            to: Audience::Echo(_),
            ..
        } => {}
        Event::Chat { meta, .. } if !meta.kind.is_text() => {}
        Event::Chat {
            from,
            to: Audience::Private(_),
            text,
            ..
        } => put(out, &[from, "(private): ", text, "\n"]),
        Event::Chat {
            from, text, meta, ..
        } if meta.kind == Kind::Action => put(out, &["* ", from, " ", text, "\n"]),
        Event::Chat { from, text, .. } => put(out, &[from, ": ", text, "\n"]),
        Event::Presence { user, online } => {
            let what = if *online {
                " logged in\n"
            } else {
                " logged out\n"
            };
            put(out, &[user, what]);
        }
        Event::Users(names) => {
            for n in names {
                put(out, &[n, "\n"]);
            }
        }
        Event::Blocked(user) => put(out, &[user, " is blocked\n"]),
        Event::Unblocked(user) => put(out, &[user, " is unblocked\n"]),
        Event::LoggedOut => put(out, &[LOGGED_OUT]),
        Event::Goodbye => put(out, &[GOODBYE]),
        Event::Notice(n) => notice(n, out),
        Event::Error(e) => error(e, out),
        // IRC front-end (issue 12): cards for the line protocol, a quit as a logout.
        Event::Reserved(_) | Event::KeepAlive => {}
        Event::Card(card) => self::card(card, out),
        Event::Cards { cards, .. } => cards.iter().for_each(|c| self::card(c, out)),
        Event::Private(p) => private(p, out),
        // JSON front-end (§6): a guest on the line wire would see the usual welcome.
        Event::GuestWelcome(_) => put(out, &[WELCOME]),
        Event::UserAddrs(users) => {
            for (name, addr) in users {
                match addr {
                    Some(a) => put(
                        out,
                        &[
                            name,
                            " ",
                            &a.ip().to_string(),
                            " ",
                            &a.port().to_string(),
                            "\n",
                        ],
                    ),
                    None => put(out, &[name, "\n"]),
                }
            }
        }
        // Server console (§7).
        Event::ServerAnnouncement(text) => put(out, &[SERVER_ANNOUNCEMENT, text, "\n"]),
        // Chat rooms and profiles (§5).
        Event::Profile(lines) => {
            for (key, value) in lines {
                put(out, &[key, " : ", value, "\n"]);
            }
        }
        Event::AttributeSet(attr) => put(out, &["Attribute ", attr, " set successfully.\n"]),
        Event::UserStates(users) => {
            for (name, online) in users {
                let state = if *online { " online\n" } else { " offline\n" };
                put(out, &[name, state]);
            }
        }
        Event::Room(r) => room(r, out),
        // §6 menus.
        Event::MessageSent => put(out, &[MESSAGE_SENT]),
        Event::Cancelled => put(out, &[CANCELLED]),
        Event::History(lines) => {
            for l in lines {
                let at = crate::time::utc_timestamp(l.at_ms);
                put(out, &["[", &at, "] ", &l.from]);
                if let Some(to) = &l.to {
                    put(out, &[" -> ", to]);
                }
                put(out, &[": ", &l.text, "\n"]);
            }
        }
        // Issue 22: what the line protocol shows of modern IRC's events (most are IRC's own;
        // the COMP3331 contract has no reply to a message, even one kept or to an away user).
        Event::Renamed { old, new } => put(out, &[old, " is now known as ", new, "\n"]),
        Event::Invitation { by, room, .. } => {
            put(out, &[by, " invited you to chatroom ", room, "\n"])
        }
        Event::Authenticated(_)
        | Event::Opered
        | Event::ScramChallenge(_)
        | Event::Away { .. }
        | Event::AccountChanged { .. }
        | Event::IsAway { .. }
        | Event::Kept(_)
        | Event::Monitor { .. }
        | Event::MonitorList(_)
        | Event::Found(_)
        | Event::Whowas { .. }
        | Event::Lusers(_)
        | Event::SetName { .. }
        | Event::Wallops { .. }
        | Event::Replay { .. }
        | Event::ReplayTargets(_) => {}
    }
}

fn kind(private: bool) -> &'static str {
    if private {
        "private"
    } else {
        "public"
    }
}

/// Chat rooms (PROTOCOL.md §5), whichever front-end caused the event.
fn room(r: &RoomEvent, out: &mut Vec<u8>) {
    match r {
        RoomEvent::Opened(room) => put(out, &["Chatroom ", room, " opened\n"]),
        RoomEvent::Entered { room, .. } => put(out, &["You entered chatroom ", room, "\n"]),
        RoomEvent::Joined { user, .. } => put(out, &[SYSTEM, user, " entered the chatroom\n"]),
        RoomEvent::Exited { room, .. } => put(out, &["You left chatroom ", room, "\n"]),
        RoomEvent::Left { user, .. }
        | RoomEvent::Quit { user, .. }
        | RoomEvent::Kicked { user, .. } => put(out, &[SYSTEM, user, " left the chatroom\n"]),
        RoomEvent::Chat { meta, .. } | RoomEvent::Said { meta, .. } if !meta.kind.is_text() => {}
        RoomEvent::Chat {
            from, text, meta, ..
        }
        | RoomEvent::Said {
            from, text, meta, ..
        } if meta.kind == Kind::Action => put(out, &["* ", from, " ", text, "\n"]),
        RoomEvent::Chat { from, text, .. } | RoomEvent::Said { from, text, .. } => {
            put(out, &["<", from, ">: ", text, "\n"])
        }
        // Issue 22: IRC's invitations; the invitee sees `Event::Invitation`.
        RoomEvent::Invited { .. } => {}
        RoomEvent::Inviting { room, user } => {
            put(out, &[user, " is invited to chatroom ", room, "\n"])
        }
        RoomEvent::List(rooms) => {
            for r in rooms {
                put(out, &[&r.room, " ", &r.owner, " ", kind(r.private), "\n"]);
            }
        }
        RoomEvent::Access {
            room,
            user,
            banned,
            on,
        } => {
            let what = match (banned, on) {
                (true, true) => " is banned from ",
                (true, false) => " is unbanned from ",
                (false, true) => " is permitted in ",
                (false, false) => " is no longer permitted in ",
            };
            put(out, &[user, what, room, "\n"]);
        }
        RoomEvent::Removed { room, .. } => put(out, &["You were removed from ", room, "\n"]),
        RoomEvent::AccessList { entries, .. } => {
            for u in entries {
                put(out, &[u, "\n"]);
            }
        }
        RoomEvent::Closed(room) => put(out, &[SYSTEM, "chatroom ", room, " closed\n"]),
        RoomEvent::CloseDone(room) => put(out, &["Chatroom ", room, " closed\n"]),
        RoomEvent::Topic { room, topic: None }
        | RoomEvent::TopicSet {
            room, topic: None, ..
        } => put(out, &["No topic in ", room, "\n"]),
        RoomEvent::Topic {
            room,
            topic: Some(t),
        }
        | RoomEvent::TopicSet {
            room,
            topic: Some(t),
            ..
        } => put(
            out,
            &["Topic of ", room, ": ", &t.text, " (set by ", &t.by, ")\n"],
        ),
        RoomEvent::Members { members, .. } => {
            for m in members {
                put(out, &[&m.name, if m.owner { " (owner)\n" } else { "\n" }]);
            }
        }
        RoomEvent::Mode { room, private } => {
            put(out, &["Chatroom ", room, " is now ", kind(*private), "\n"])
        }
        // IRC settings: line users do not see them.
        RoomEvent::Modes { .. } | RoomEvent::Changed { .. } => {}
    }
}

/// Private sessions (PROTOCOL.md §4). `P2P` and `P2P-ACCEPT` are machine lines for
/// `chatclient`, which never shows them.
fn private(p: &PrivateEvent, out: &mut Vec<u8>) {
    match p {
        PrivateEvent::Asked(user) => put(
            out,
            &[
                user,
                " would like to start a private session. Type 'y ",
                user,
                "' to accept or 'n ",
                user,
                "' to decline\n",
            ],
        ),
        PrivateEvent::RequestSent(user) => put(out, &["Request sent to ", user, "\n"]),
        PrivateEvent::Started(user) => put(out, &["Start private messaging with ", user, "\n"]),
        PrivateEvent::Declined(user) => put(out, &[user, " declined private messaging\n"]),
        PrivateEvent::Expired(user) => {
            put(out, &["Private session request to ", user, " expired\n"])
        }
        PrivateEvent::Stopped(user) => put(out, &["Private messaging with ", user, " stopped\n"]),
        PrivateEvent::Dial {
            user,
            ip,
            port,
            token,
            key,
        } => {
            let (ip, port) = (ip.to_string(), port.to_string());
            put(out, &["P2P ", user, " ", &ip, " ", &port, " ", token]);
            if let Some(key) = key {
                put(out, &[" ", key]);
            }
            put(out, &["\n"]);
        }
        PrivateEvent::Expect { user, token } => put(out, &["P2P-ACCEPT ", user, " ", token, "\n"]),
        PrivateEvent::Address { user, ip, port } => put(
            out,
            &[user, " ", &ip.to_string(), " ", &port.to_string(), "\n"],
        ),
    }
}

/// `name (username@host): realname`, for a line user who somehow asked (IRC front-end).
fn card(c: &crate::event::Card, out: &mut Vec<u8>) {
    put(
        out,
        &[
            &c.name,
            " (",
            &c.username,
            "@",
            &c.host,
            "): ",
            &c.realname,
            "\n",
        ],
    );
}

fn notice(n: &Notice, out: &mut Vec<u8>) {
    match n {
        Notice::BadPassword => put(out, &[BAD_PASSWORD]),
        Notice::NowLocked => put(out, &[NOW_LOCKED]),
        Notice::StillLocked => put(out, &[STILL_LOCKED]),
        Notice::Inactive => put(out, &[INACTIVE]),
        Notice::SomeNotDelivered => put(out, &[SOME_NOT_DELIVERED]),
        Notice::ServerShutdown => put(out, &[SHUTDOWN]),
        Notice::Kicked => put(out, &[KICKED]),
        Notice::AccountDeleted => put(out, &[ACCOUNT_DELETED]),
        Notice::Renamed(name) => put(out, &["Name taken, you are ", name, "\n"]),
        Notice::Replaced(user) => put(
            out,
            &[
                "You have been logged out: ",
                user,
                " logged in from another connection\n",
            ],
        ),
        // Issue 22.
        Notice::PingTimeout(_) => put(out, &["You have been logged out: no answer to pings\n"]),
        Notice::Killed { by, reason } => {
            put(out, &["You have been kicked by ", by, ": ", reason, "\n"])
        }
    }
}

fn error(e: &Error, out: &mut Vec<u8>) {
    match e {
        Error::InvalidCommand => put(out, &[INVALID_COMMAND]),
        Error::InvalidUsername => put(out, &[INVALID_USERNAME]),
        Error::InvalidPassword => put(out, &[INVALID_PASSWORD]),
        Error::UnknownUsername => put(out, &[UNKNOWN_USERNAME]),
        Error::RegistrationClosed => put(out, &[REGISTRATION_CLOSED]),
        Error::AlreadyLoggedIn(user) => put(out, &["Error. ", user, " is already logged in\n"]),
        Error::UserExists(user) => put(out, &["Error. ", user, " already exists\n"]),
        Error::InvalidUser => put(out, &[INVALID_USER]),
        Error::MessageSelf => put(out, &[MESSAGE_SELF]),
        Error::BlockedByRecipient => put(out, &[BLOCKED_BY_RECIPIENT]),
        Error::MailboxFull(user) => put(out, &["Error. ", user, "'s mailbox is full\n"]),
        Error::BlockSelf => put(out, &[BLOCK_SELF]),
        Error::NotBlocked(user) => put(out, &["Error. ", user, " was not blocked\n"]),
        Error::LineTooLong => put(out, &[LINE_TOO_LONG]),
        Error::InvalidUtf8 => put(out, &[INVALID_UTF8]),
        Error::ServerFull => put(out, &[SERVER_FULL]),
        Error::LoginTimeout => put(out, &[LOGIN_TIMEOUT]),
        Error::Storage => put(out, &[STORAGE]),
        // IRC front-end (issue 12): §5's room refusals where it has one.
        Error::PrivateRoom(room) | Error::BannedFromRoom(room) | Error::WrongRoomKey(room) => {
            put(out, &["Error. You are not allowed to enter ", room, "\n"])
        }
        Error::NotRoomOperator(_) => put(out, &["Error. Only the owner can do that\n"]),
        Error::CannotSendToRoom(room) => put(out, &["Error. You are not in chatroom ", room, "\n"]),
        Error::Moderated(room) => put(
            out,
            &[
                "Error. Chatroom ",
                room,
                " is moderated: only its operators and voiced members speak\n",
            ],
        ),
        // Private sessions (§4).
        Error::Offline(user) => put(out, &["Error. ", user, " is offline\n"]),
        Error::NoPrivateRequest(user) => put(
            out,
            &["Error. No private session request from ", user, "\n"],
        ),
        Error::PrivateNotEnabled(user) => put(
            out,
            &["Error. Private messaging to ", user, " not enabled\n"],
        ),
        Error::NoPrivateSession(user) => put(out, &["Error. No private session with ", user, "\n"]),
        Error::InvalidPort => put(out, &[INVALID_PORT]),
        Error::InvalidPeerKey => put(out, &[INVALID_PEER_KEY]),
        Error::NoPeerAddress(user) => {
            put(out, &["Error. ", user, " has no peer-to-peer address\n"])
        }
        // JSON front-end (§6).
        Error::NameTaken(user) => put(out, &["Error. The name ", user, " is taken\n"]),
        // Reliability limits (issue 8).
        Error::TooManyAccounts => put(out, &[TOO_MANY_ACCOUNTS]),
        Error::RegisterRate => put(out, &[REGISTER_RATE]),
        Error::LoginRate => put(out, &[LOGIN_RATE]),
        Error::StorageFull => put(out, &[STORAGE_FULL]),
        Error::TooManyFromAddress => put(out, &[TOO_MANY_FROM_ADDRESS]),
        // Chat rooms and profiles (§5).
        Error::InvalidRoomName => put(out, &[INVALID_ROOM_NAME]),
        Error::NoRoom(room) => put(out, &["Error. No chatroom ", room, "\n"]),
        Error::RoomExists(room) => put(out, &["Error. Chatroom ", room, " already exists\n"]),
        Error::NotOwner => put(out, &[NOT_OWNER]),
        Error::NotInRoom => put(out, &[NOT_IN_ROOM]),
        Error::NotInThatRoom(room) => put(out, &["Error. You are not in chatroom ", room, "\n"]),
        Error::TooManyRooms(max) => put(
            out,
            &[
                "Error. Too many chatrooms (at most ",
                &max.to_string(),
                ")\n",
            ],
        ),
        Error::NotMember { room, user } => put(out, &["Error. ", user, " is not in ", room, "\n"]),
        Error::OwnerImmune => put(out, &[OWNER_IMMUNE]),
        Error::InvalidAttribute => put(out, &[INVALID_ATTRIBUTE]),
        Error::ValueTooLong(max) => put(
            out,
            &[
                "Error. Value too long (at most ",
                &max.to_string(),
                " bytes)\n",
            ],
        ),
        // Issue 17.
        Error::InvalidText => put(out, &[INVALID_TEXT]),
        Error::InvalidKey => put(out, &[INVALID_KEY]),
        Error::InvalidMask => put(out, &[INVALID_MASK]),
        Error::ListFull { room, max } => put(
            out,
            &[
                "Error. A list of ",
                room,
                " is full (at most ",
                &max.to_string(),
                " entries)\n",
            ],
        ),
        Error::TooManyOwnRooms(max) => put(
            out,
            &[
                "Error. You have too many chatrooms open (at most ",
                &max.to_string(),
                ")\n",
            ],
        ),
        // Issue 22.
        Error::NoSuchUser(_) | Error::WasNoSuchUser(_) => put(out, &[INVALID_USER]),
        Error::NameIsAccount(user) => {
            put(out, &["Error. Your name is your account's: ", user, "\n"])
        }
        Error::AlreadyAuthenticated => put(out, &["Error. Already logged in to an account\n"]),
        Error::RoomFull(room) => put(out, &["Error. Chatroom ", room, " is full\n"]),
        Error::AlreadyInRoom { room, user } => put(
            out,
            &["Error. ", user, " is already in chatroom ", room, "\n"],
        ),
        Error::NotOperator => put(out, &["Error. Only server operators can do that\n"]),
        Error::NoOperBlock => put(out, &["Error. Not an operator account\n"]),
        Error::AccountsOnly => put(
            out,
            &["Error. Only accounts can do that (guests keep nothing)\n"],
        ),
        Error::InvalidLimit => put(out, &["Error. Invalid limit (1-100000)\n"]),
        Error::MonitorFull => put(out, &["Error. Your watch list is full\n"]),
        Error::NoHistory(with) => put(out, &["Error. No history with ", with, "\n"]),
        Error::PasswordRequired => put(out, &["Error. Password required\n"]),
    }
}

/// `event` as a string (tests and one-off writes).
pub fn to_string(event: &Event) -> String {
    let mut out = Vec::new();
    render(event, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{test_meta, HistoryLine, Member, RoomInfo, Topic};
    use std::sync::Arc;

    fn a(s: &str) -> Arc<str> {
        Arc::from(s)
    }

    /// Every event the core can emit, with the exact bytes PROTOCOL.md gives it.
    #[test]
    fn every_protocol_string() {
        let cases: Vec<(Event, &str)> =
            vec![
            (Event::Prompt(Prompt::Username), "Username: "),
            (Event::Prompt(Prompt::Password), "Password: "),
            (
                Event::NewUser(a("ann")),
                "New user ann. Choose a password\n",
            ),
            (
                Event::Welcome(Arc::from("yoda")),
                "Welcome to the greatest messaging application ever!\n",
            ),
            (
                Event::Chat {
                    from: a("yoda"),
                    to: Audience::Direct(a("hans")),
                    text: a(" hi  there "),
                    meta: test_meta(false),
                },
                "yoda:  hi  there \n",
            ),
            (
                Event::Chat {
                    from: a("yoda"),
                    to: Audience::Everyone,
                    text: a("all"),
                    meta: test_meta(false),
                },
                "yoda: all\n",
            ),
            (
                Event::Presence {
                    user: a("hans"),
                    online: true,
                },
                "hans logged in\n",
            ),
            (
                Event::Presence {
                    user: a("hans"),
                    online: false,
                },
                "hans logged out\n",
            ),
            (Event::Users(vec![a("a"), a("b")]), "a\nb\n"),
            (Event::Users(vec![]), ""),
            (Event::Blocked(a("luke")), "luke is blocked\n"),
            (Event::Unblocked(a("luke")), "luke is unblocked\n"),
            (Event::LoggedOut, "You have logged out\n"),
            (Event::Goodbye, "Goodbye\n"),
            (
                Event::Notice(Notice::BadPassword),
                "Invalid Password. Please try again\n",
            ),
            (
                Event::Notice(Notice::NowLocked),
                "Invalid Password. Your account has been blocked. Please try again later\n",
            ),
            (
                Event::Notice(Notice::StillLocked),
                "Your account is blocked due to multiple login failures. Please try again later\n",
            ),
            (
                Event::Notice(Notice::Inactive),
                "You have been logged out due to inactivity\n",
            ),
            (
                Event::Notice(Notice::SomeNotDelivered),
                "Your message could not be delivered to some recipients\n",
            ),
            (
                Event::Notice(Notice::Replaced(a("yoda"))),
                "You have been logged out: yoda logged in from another connection\n",
            ),
            (
                Event::Notice(Notice::ServerShutdown),
                "Server shutting down\n",
            ),
            (
                Event::Error(Error::InvalidCommand),
                "Error. Invalid command\n",
            ),
            (
                Event::Error(Error::InvalidUsername),
                "Error. Invalid username\n",
            ),
            (
                Event::Error(Error::InvalidPassword),
                "Error. Invalid password\n",
            ),
            (
                Event::Error(Error::UnknownUsername),
                "Invalid Username. Please try again\n",
            ),
            (
                Event::Error(Error::RegistrationClosed),
                "Error. Registration is closed\n",
            ),
            (
                Event::Error(Error::AlreadyLoggedIn(a("yoda"))),
                "Error. yoda is already logged in\n",
            ),
            (
                Event::Error(Error::UserExists(a("yoda"))),
                "Error. yoda already exists\n",
            ),
            (Event::Error(Error::InvalidUser), "Error. Invalid user\n"),
            (
                Event::Error(Error::MessageSelf),
                "Error. Cannot message self\n",
            ),
            (
                Event::Error(Error::BlockedByRecipient),
                "Your message could not be delivered as the recipient has blocked you\n",
            ),
            (
                Event::Error(Error::MailboxFull(a("luke"))),
                "Error. luke's mailbox is full\n",
            ),
            (Event::Error(Error::BlockSelf), "Error. Cannot block self\n"),
            (
                Event::Error(Error::NotBlocked(a("luke"))),
                "Error. luke was not blocked\n",
            ),
            (Event::Error(Error::LineTooLong), "Error. Line too long\n"),
            (Event::Error(Error::InvalidUtf8), "Error. Invalid UTF-8\n"),
            (Event::Error(Error::ServerFull), "Error. Server full\n"),
            (Event::Error(Error::LoginTimeout), "Error. Login timed out\n"),
            // Reliability limits (issue 8).
            (
                Event::Error(Error::TooManyAccounts),
                "Error. Too many accounts, registration closed\n",
            ),
            (
                Event::Error(Error::RegisterRate),
                "Error. Too many registrations from your address, try again later\n",
            ),
            (
                Event::Error(Error::LoginRate),
                "Error. Too many failed logins from your address, try again later\n",
            ),
            (Event::Error(Error::StorageFull), "Error. Server storage full\n"),
            (
                Event::Error(Error::TooManyFromAddress),
                "Error. Too many connections from your address\n",
            ),
            (
                Event::Error(Error::Storage),
                "Error. Storage unavailable, try again later\n",
            ),
            // Private sessions (§4).
            (
                Event::Chat {
                    from: a("yoda"),
                    to: Audience::Private(a("hans")),
                    text: a(" psst  "),
                    meta: test_meta(false),
                },
                "yoda(private):  psst  \n",
            ),
            (
                Event::Private(PrivateEvent::Asked(a("yoda"))),
                "yoda would like to start a private session. Type 'y yoda' to accept or 'n yoda' to decline\n",
            ),
            (
                Event::Private(PrivateEvent::RequestSent(a("hans"))),
                "Request sent to hans\n",
            ),
            (
                Event::Private(PrivateEvent::Started(a("hans"))),
                "Start private messaging with hans\n",
            ),
            (
                Event::Private(PrivateEvent::Declined(a("hans"))),
                "hans declined private messaging\n",
            ),
            (
                Event::Private(PrivateEvent::Expired(a("hans"))),
                "Private session request to hans expired\n",
            ),
            (
                Event::Private(PrivateEvent::Stopped(a("hans"))),
                "Private messaging with hans stopped\n",
            ),
            (
                Event::Private(PrivateEvent::Dial {
                    user: a("hans"),
                    ip: std::net::Ipv4Addr::LOCALHOST.into(),
                    port: 4001,
                    token: a("00112233445566778899aabbccddeeff"),
                    key: None,
                }),
                "P2P hans 127.0.0.1 4001 00112233445566778899aabbccddeeff\n",
            ),
            (
                Event::Private(PrivateEvent::Dial {
                    user: a("hans"),
                    ip: std::net::Ipv4Addr::LOCALHOST.into(),
                    port: 4001,
                    token: a("00112233445566778899aabbccddeeff"),
                    key: Some(a(&"5e".repeat(32))),
                }),
                "P2P hans 127.0.0.1 4001 00112233445566778899aabbccddeeff \
                 5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e\n",
            ),
            (
                Event::Private(PrivateEvent::Expect {
                    user: a("yoda"),
                    token: a("00112233445566778899aabbccddeeff"),
                }),
                "P2P-ACCEPT yoda 00112233445566778899aabbccddeeff\n",
            ),
            (
                Event::Private(PrivateEvent::Address {
                    user: a("hans"),
                    ip: std::net::Ipv6Addr::LOCALHOST.into(),
                    port: 4001,
                }),
                "hans ::1 4001\n",
            ),
            (Event::Error(Error::Offline(a("hans"))), "Error. hans is offline\n"),
            (
                Event::Error(Error::NoPrivateRequest(a("hans"))),
                "Error. No private session request from hans\n",
            ),
            (
                Event::Error(Error::PrivateNotEnabled(a("hans"))),
                "Error. Private messaging to hans not enabled\n",
            ),
            (
                Event::Error(Error::NoPrivateSession(a("hans"))),
                "Error. No private session with hans\n",
            ),
            (Event::Error(Error::InvalidPort), "Error. Invalid port\n"),
            (Event::Error(Error::InvalidPeerKey), "Error. Invalid peer key\n"),
            (
                Event::Error(Error::NoPeerAddress(a("hans"))),
                "Error. hans has no peer-to-peer address\n",
            ),
            // JSON front-end (§6) and console (§7) events on the line wire.
            (Event::GuestWelcome(a("ann")), "Welcome to the greatest messaging application ever!\n"),
            (
                Event::UserAddrs(vec![(a("ann"), "127.0.0.1:4000".parse().ok()), (a("bo"), None)]),
                "ann 127.0.0.1 4000\nbo\n",
            ),
            (Event::Error(Error::NameTaken(a("ann"))), "Error. The name ann is taken\n"),
            (Event::Notice(Notice::Kicked), "You have been kicked by the server\n"),
            (
                Event::Notice(Notice::AccountDeleted),
                "Your account has been deleted by the server\n",
            ),
            (
                Event::Notice(Notice::Renamed(a("yoda2"))),
                "Name taken, you are yoda2\n",
            ),
            (
                Event::ServerAnnouncement(a("maintenance at 5")),
                "Announcement from server: maintenance at 5\n",
            ),
            // Room events whichever front-end caused them (issue 17: one set of events).
            (
                Event::Room(RoomEvent::Quit {
                    user: a("hans"),
                    reason: a(""),
                }),
                "[System]: hans left the chatroom\n",
            ),
            (
                Event::Room(RoomEvent::Chat {
                    room: a("den"),
                    from: a("hans"),
                    text: a("hi all"),
                    meta: test_meta(true),
                }),
                "<hans>: hi all\n",
            ),
            (
                Event::Room(RoomEvent::Said {
                    room: a("den"),
                    from: a("Tom"),
                    text: a("me too"),
                    meta: test_meta(false),
                }),
                "<Tom>: me too\n",
            ),
            (
                Event::Room(RoomEvent::TopicSet {
                    room: a("den"),
                    by: a("hans"),
                    topic: Some(Topic { text: a("plans"), by: a("hans"), at_ms: 1 }),
                }),
                "Topic of den: plans (set by hans)\n",
            ),
            (
                Event::Room(RoomEvent::TopicSet {
                    room: a("den"),
                    by: a("hans"),
                    topic: None,
                }),
                "No topic in den\n",
            ),
            (
                Event::Room(RoomEvent::Kicked {
                    room: a("den"),
                    by: a("hans"),
                    user: a("yoda"),
                    reason: a("out"),
                }),
                "[System]: yoda left the chatroom\n",
            ),
            (
                Event::Room(RoomEvent::Modes {
                    room: a("den"),
                    flags: a("nt"),
                    key: None,
                    limit: None,
                    created_s: 1,
                }),
                "",
            ),
            (
                Event::Room(RoomEvent::Changed {
                    room: a("den"),
                    by: a("hans"),
                    changes: a("+s"),
                    args: Vec::new(),
                }),
                "",
            ),
            (Event::KeepAlive, ""),
            (Event::Reserved(crate::event::Ticket(7)), ""),
            // Chat rooms and profiles (§5).
            (
                Event::Profile(vec![("username", a("tom")), ("age", a(""))]),
                "username : tom\nage : \n",
            ),
            (Event::AttributeSet(a("job")), "Attribute job set successfully.\n"),
            (
                Event::UserStates(vec![(a("bob"), true), (a("tom"), false)]),
                "bob online\ntom offline\n",
            ),
            (Event::Room(RoomEvent::Opened(a("den"))), "Chatroom den opened\n"),
            (
                Event::Room(RoomEvent::Entered {
                    room: a("den"),
                    user: a("bob"),
                    topic: None,
                    secret: false,
                    members: Vec::new(),
                    partial: false,
                }),
                "You entered chatroom den\n",
            ),
            (
                Event::Room(RoomEvent::Joined { room: a("den"), user: a("bob"), account: None, realname: a("") }),
                "[System]: bob entered the chatroom\n",
            ),
            (
                Event::Room(RoomEvent::Exited { room: a("den"), user: a("bob"), reason: None }),
                "You left chatroom den\n",
            ),
            (
                Event::Room(RoomEvent::Left { room: a("den"), user: a("bob"), reason: Some(a("x")) }),
                "[System]: bob left the chatroom\n",
            ),
            (
                Event::Room(RoomEvent::Chat {
                    room: a("den"),
                    from: a("Tom"),
                    text: a("hello"),
                    meta: test_meta(false),
                }),
                "<Tom>: hello\n",
            ),
            (
                Event::Room(RoomEvent::List(vec![
                    RoomInfo {
                        room: a("den"),
                        owner: a("tom"),
                        private: false,
                        members: 0,
                        topic: a(""),
                        created_s: 0,
                        topic_at_s: 0,
                    },
                    RoomInfo {
                        room: a("vault"),
                        owner: a("bob"),
                        private: true,
                        members: 2,
                        topic: a("t"),
                        created_s: 0,
                        topic_at_s: 0,
                    },
                ])),
                "den tom public\nvault bob private\n",
            ),
            (
                Event::Room(RoomEvent::Access { room: a("den"), user: a("bob"), banned: true, on: true }),
                "bob is banned from den\n",
            ),
            (
                Event::Room(RoomEvent::Access { room: a("den"), user: a("bob"), banned: true, on: false }),
                "bob is unbanned from den\n",
            ),
            (
                Event::Room(RoomEvent::Access { room: a("den"), user: a("bob"), banned: false, on: true }),
                "bob is permitted in den\n",
            ),
            (
                Event::Room(RoomEvent::Access { room: a("den"), user: a("bob"), banned: false, on: false }),
                "bob is no longer permitted in den\n",
            ),
            (
                Event::Room(RoomEvent::Removed { room: a("den"), by: a("tom"), reason: a("x") }),
                "You were removed from den\n",
            ),
            (
                Event::Room(RoomEvent::AccessList {
                    room: a("den"),
                    banned: true,
                    entries: vec![a("a"), a("*!*@b")],
                }),
                "a\n*!*@b\n",
            ),
            (Event::Room(RoomEvent::Closed(a("den"))), "[System]: chatroom den closed\n"),
            (Event::Room(RoomEvent::CloseDone(a("den"))), "Chatroom den closed\n"),
            (Event::Room(RoomEvent::Topic { room: a("den"), topic: None }), "No topic in den\n"),
            (
                Event::Room(RoomEvent::Topic {
                    room: a("den"),
                    topic: Some(Topic { text: a("cats"), by: a("tom"), at_ms: 1 }),
                }),
                "Topic of den: cats (set by tom)\n",
            ),
            (
                Event::Room(RoomEvent::Members {
                    room: a("den"),
                    secret: false,
                    members: vec![
                        Member { name: a("bob"), owner: false, op: true, voice: false },
                        Member { name: a("tom"), owner: true, op: true, voice: false },
                    ],
                    partial: false,
                }),
                "bob\ntom (owner)\n",
            ),
            (
                Event::Room(RoomEvent::Mode { room: a("den"), private: true }),
                "Chatroom den is now private\n",
            ),
            (Event::Error(Error::InvalidRoomName), "Error. Invalid room name\n"),
            (Event::Error(Error::NoRoom(a("den"))), "Error. No chatroom den\n"),
            (Event::Error(Error::RoomExists(a("den"))), "Error. Chatroom den already exists\n"),
            (
                Event::Error(Error::PrivateRoom(a("den"))),
                "Error. You are not allowed to enter den\n",
            ),
            (
                Event::Error(Error::WrongRoomKey(a("den"))),
                "Error. You are not allowed to enter den\n",
            ),
            (Event::Error(Error::NotOwner), "Error. Only the owner can do that\n"),
            (Event::Error(Error::NotInRoom), "Error. You are not in a chatroom\n"),
            (
                Event::Error(Error::NotInThatRoom(a("den"))),
                "Error. You are not in chatroom den\n",
            ),
            (
                Event::Error(Error::TooManyRooms(1000)),
                "Error. Too many chatrooms (at most 1000)\n",
            ),
            (
                Event::Error(Error::NotMember { room: a("den"), user: a("bob") }),
                "Error. bob is not in den\n",
            ),
            (
                Event::Error(Error::OwnerImmune),
                "Error. The owner cannot be put out of its room\n",
            ),
            (Event::Error(Error::InvalidAttribute), "Error. Invalid attribute\n"),
            (
                Event::Error(Error::ValueTooLong(256)),
                "Error. Value too long (at most 256 bytes)\n",
            ),
            // Issue 17.
            (
                Event::Error(Error::InvalidText),
                "Error. Text may not contain control characters (tab is allowed)\n",
            ),
            (Event::Error(Error::InvalidKey), "Error. Invalid key\n"),
            (Event::Error(Error::InvalidMask), "Error. Invalid ban mask\n"),
            (
                Event::Error(Error::ListFull { room: a("den"), max: 100 }),
                "Error. A list of den is full (at most 100 entries)\n",
            ),
            (
                Event::Error(Error::TooManyOwnRooms(2)),
                "Error. You have too many chatrooms open (at most 2)\n",
            ),
            // §6 menus.
            (
                Event::Prompt(Prompt::PrivateTo),
                "Who do you want to send message to? ",
            ),
            (
                Event::Prompt(Prompt::PrivateText),
                "Type message you want to send: ",
            ),
            (Event::Prompt(Prompt::Recipient), "Recipient: "),
            (Event::Prompt(Prompt::Message), "Message: "),
            (Event::MessageSent, "Message sent\n"),
            (Event::Cancelled, "Cancelled\n"),
            (
                Event::Chat {
                    from: a("yoda"),
                    to: Audience::Announcement,
                    text: a("all"),
                    meta: test_meta(false),
                },
                "yoda: all\n",
            ),
            (
                Event::History(vec![
                    HistoryLine {
                        at_ms: 951_782_399_000,
                        from: a("yoda"),
                        to: None,
                        text: a(" hi  all "),
                    },
                    HistoryLine {
                        at_ms: 951_782_400_999,
                        from: a("yoda"),
                        to: Some(a("hans")),
                        text: a("psst"),
                    },
                ]),
                "[2000-02-28 23:59:59] yoda:  hi  all \n[2000-02-29 00:00:00] yoda -> hans: psst\n",
            ),
            (Event::History(Vec::new()), ""),
        ];
        for (event, want) in cases {
            assert_eq!(to_string(&event), want, "{event:?}");
        }
    }

    #[test]
    fn help_lists_the_state_s_commands() {
        let login = to_string(&Event::Help(HelpTopic::Login));
        assert!(login.contains("login <user> <password>") && !login.contains("broadcast"));
        let lobby = to_string(&Event::Help(HelpTopic::Lobby));
        assert!(lobby.contains("message <user> <text>") && !lobby.contains("register"));
        let room = to_string(&Event::Help(HelpTopic::Room));
        assert!(room.contains("/exit-chatroom") && room.contains("/message <user> <text>"));
    }
}
