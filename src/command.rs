//! The command table, in ngIRCd's style: each command's name, aliases, arguments, the states it
//! is valid in, whether it counts as activity, and its help line. The line codec parses with it
//! and `help` is generated from it, so the help text cannot drift from the parser.

use crate::input::{Input, Menu, RoomInput};

/// Where a command is valid (a set of session states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct States(u8);

impl States {
    /// At the `Username: ` prompt.
    pub const LOGIN: States = States(1);
    /// Logged in, in the lobby or inside a chat room (§5), where it is spelled with a `/`.
    /// As a query it means "in the lobby": only the commands valid in both match.
    pub const LOBBY: States = States(6);
    /// Inside a chat room only (§5): `/exit-chatroom`, `/ban-user`, ….
    pub const ROOM: States = States(4);
    pub const ANY: States = States(7);

    pub fn contains(self, other: States) -> bool {
        self.0 & other.0 == other.0
    }
}

/// The words a command takes after its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Args {
    /// Exactly this many words, nothing after them (trailing spaces allowed).
    Words(usize),
    /// This many words, then free text to the end of the line (required, verbatim).
    WordsThenText(usize),
    /// Up to this many words (chat rooms' optional `[room]`); missing ones are empty.
    Upto(usize),
}

/// The parsed arguments handed to a command's builder.
pub struct Parsed<'a> {
    pub words: [&'a str; 2],
    pub text: &'a str,
}

/// One command.
pub struct Spec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub args: Args,
    pub states: States,
    /// Renews the inactivity timer (every command but `live` and an invalid one).
    pub activity: bool,
    /// Argument synopsis for `help`, e.g. `<user> <text>`.
    pub usage: &'static str,
    pub help: &'static str,
    /// Builds the input; `None` if an argument is malformed (`whoelsesince x`).
    pub build: for<'a> fn(&Parsed<'a>) -> Option<Input<'a>>,
}

/// Every line command, in `help` order.
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "login",
        aliases: &[],
        args: Args::Words(2),
        states: States::LOGIN,
        activity: true,
        usage: "<user> <password>",
        help: "log in in one line",
        build: |p| {
            Some(Input::Login {
                user: p.words[0],
                password: p.words[1],
            })
        },
    },
    Spec {
        name: "register",
        aliases: &[],
        args: Args::Words(2),
        states: States::LOGIN,
        activity: true,
        usage: "<user> <password>",
        help: "create an account and log in",
        build: |p| {
            Some(Input::Register {
                user: p.words[0],
                password: p.words[1],
            })
        },
    },
    Spec {
        name: "message",
        aliases: &[],
        args: Args::WordsThenText(1),
        states: States::LOBBY,
        activity: true,
        usage: "<user> <text>",
        help: "send to one user (kept until they log in if offline)",
        build: |p| {
            Some(Input::Message {
                to: p.words[0],
                text: p.text,
                kind: crate::input::Kind::Say,
                relay: None,
            })
        },
    },
    Spec {
        name: "broadcast",
        aliases: &[],
        args: Args::WordsThenText(0),
        states: States::LOBBY,
        activity: true,
        usage: "<text>",
        help: "send to everyone online",
        build: |p| Some(Input::Broadcast { text: p.text }),
    },
    Spec {
        name: "announce",
        aliases: &[],
        args: Args::WordsThenText(0),
        states: States::LOBBY,
        activity: true,
        usage: "<text>",
        help: "send to everyone online, you too",
        build: |p| Some(Input::Announce { text: p.text }),
    },
    Spec {
        name: "whoelse",
        aliases: &["online", "list"],
        args: Args::Words(0),
        states: States::LOBBY,
        activity: true,
        usage: "",
        help: "who else is online",
        build: |_| Some(Input::WhoElse),
    },
    Spec {
        name: "whoelsesince",
        aliases: &[],
        args: Args::Words(1),
        states: States::LOBBY,
        activity: true,
        usage: "<seconds>",
        help: "who was online in the last <seconds>",
        build: |p| {
            p.words[0]
                .parse()
                .ok()
                .map(|seconds| Input::WhoElseSince { seconds })
        },
    },
    Spec {
        name: "block",
        aliases: &[],
        args: Args::Words(1),
        states: States::LOBBY,
        activity: true,
        usage: "<user>",
        help: "stop <user> messaging you or seeing you online",
        build: |p| Some(Input::Block { user: p.words[0] }),
    },
    Spec {
        name: "unblock",
        aliases: &[],
        args: Args::Words(1),
        states: States::LOBBY,
        activity: true,
        usage: "<user>",
        help: "undo block",
        build: |p| Some(Input::Unblock { user: p.words[0] }),
    },
    Spec {
        name: "logout",
        aliases: &[],
        args: Args::Words(0),
        states: States::LOBBY,
        activity: true,
        usage: "",
        help: "log out, back to the Username prompt",
        build: |_| Some(Input::Logout),
    },
    // Private sessions and peer-to-peer (PROTOCOL.md §4). `private` with no arguments is §6's
    // prompt form, a separate entry; this one takes a user and text.
    Spec {
        name: "startprivate",
        aliases: &[],
        args: Args::Words(1),
        states: States::LOBBY,
        activity: true,
        usage: "<user>",
        help: "ask <user> for a private session",
        build: |p| {
            Some(Input::StartPrivate {
                user: p.words[0],
                address: false,
            })
        },
    },
    Spec {
        name: "getaddress",
        aliases: &[],
        args: Args::Words(1),
        states: States::LOBBY,
        activity: true,
        usage: "<user>",
        help: "ask <user> for consent, then show its peer-to-peer address",
        build: |p| {
            Some(Input::StartPrivate {
                user: p.words[0],
                address: true,
            })
        },
    },
    Spec {
        name: "y",
        aliases: &["Y"],
        args: Args::Words(1),
        states: States::LOBBY,
        activity: true,
        usage: "<user>",
        help: "accept <user>'s private session request",
        build: |p| {
            Some(Input::Consent {
                user: p.words[0],
                yes: true,
            })
        },
    },
    Spec {
        name: "n",
        aliases: &["N"],
        args: Args::Words(1),
        states: States::LOBBY,
        activity: true,
        usage: "<user>",
        help: "decline <user>'s private session request",
        build: |p| {
            Some(Input::Consent {
                user: p.words[0],
                yes: false,
            })
        },
    },
    Spec {
        name: "private",
        aliases: &[],
        args: Args::WordsThenText(1),
        states: States::LOBBY,
        activity: true,
        usage: "<user> <text>",
        help: "send within a private session",
        build: |p| {
            Some(Input::Private {
                to: p.words[0],
                text: p.text,
            })
        },
    },
    Spec {
        name: "stopprivate",
        aliases: &[],
        args: Args::Words(1),
        states: States::LOBBY,
        activity: true,
        usage: "<user>",
        help: "end the private session with <user>",
        build: |p| Some(Input::StopPrivate { user: p.words[0] }),
    },
    Spec {
        name: "p2p-port",
        aliases: &[],
        args: Args::Upto(2),
        states: States::LOBBY,
        activity: true,
        usage: "<port> [key]",
        help: "your client's peer-to-peer port and TLS key (chatclient sends it)",
        build: |p| {
            Some(Input::P2pPort {
                port: opt(p.words[0])?
                    .parse()
                    .ok()
                    .filter(|&port: &u16| port != 0),
                key: opt(p.words[1]),
            })
        },
    },
    // Chat rooms and profiles (PROTOCOL.md §5). Every logged-in command also works inside a
    // room, spelled with a `/`; the ROOM ones only there. `[room]` defaults to the current room.
    Spec {
        name: "whoami",
        aliases: &[],
        args: Args::Words(0),
        states: States::LOBBY,
        activity: true,
        usage: "",
        help: "your profile",
        build: |_| Some(Input::WhoAmI),
    },
    Spec {
        name: "view-profile",
        aliases: &[],
        args: Args::Words(1),
        states: States::LOBBY,
        activity: true,
        usage: "<user>",
        help: "<user>'s profile",
        build: |p| Some(Input::ViewProfile { user: p.words[0] }),
    },
    Spec {
        name: "set-profile",
        aliases: &[],
        args: Args::WordsThenText(1),
        states: States::LOBBY,
        activity: true,
        usage: "<attribute> <value>",
        help: "set age, birthday, job, phone_number or self_description",
        build: |p| {
            Some(Input::SetProfile {
                attribute: p.words[0],
                value: p.text,
            })
        },
    },
    Spec {
        name: "list-user",
        aliases: &[],
        args: Args::Words(0),
        states: States::LOBBY,
        activity: true,
        usage: "",
        help: "every user, online or offline",
        build: |_| Some(Input::ListUsers),
    },
    Spec {
        name: "open-chatroom",
        aliases: &[],
        args: Args::Words(2),
        states: States::LOBBY,
        activity: true,
        usage: "<room> public|private",
        help: "open a chat room you own",
        build: |p| {
            kind(p.words[1]).map(|private| {
                Input::Room(RoomInput::Open {
                    room: p.words[0],
                    private,
                })
            })
        },
    },
    Spec {
        name: "enter-chatroom",
        aliases: &[],
        args: Args::Upto(2),
        states: States::LOBBY,
        activity: true,
        usage: "<room> [key]",
        help: "enter a chat room (leaving the one you are in)",
        build: |p| {
            let room = opt(p.words[0])?;
            Some(Input::Room(RoomInput::Join {
                room,
                key: opt(p.words[1]),
                create: false,
                current: true,
            }))
        },
    },
    Spec {
        name: "list-chatroom",
        aliases: &[],
        args: Args::Words(0),
        states: States::LOBBY,
        activity: true,
        usage: "",
        help: "every chat room with its owner and kind",
        build: |_| Some(Input::Room(RoomInput::List { room: None })),
    },
    Spec {
        name: "close-chatroom",
        aliases: &[],
        args: Args::Upto(1),
        states: States::LOBBY,
        activity: true,
        usage: "[room]",
        help: "close your chat room; its members return to the lobby",
        build: |p| {
            Some(Input::Room(RoomInput::Close {
                room: opt(p.words[0]),
            }))
        },
    },
    Spec {
        name: "get-blacklist",
        aliases: &[],
        args: Args::Upto(1),
        states: States::LOBBY,
        activity: true,
        usage: "[room]",
        help: "who is banned from your chat room",
        build: |p| {
            Some(Input::Room(RoomInput::AccessList {
                room: opt(p.words[0]),
                banned: true,
            }))
        },
    },
    Spec {
        name: "get-whitelist",
        aliases: &[],
        args: Args::Upto(1),
        states: States::LOBBY,
        activity: true,
        usage: "[room]",
        help: "who is permitted in your chat room",
        build: |p| {
            Some(Input::Room(RoomInput::AccessList {
                room: opt(p.words[0]),
                banned: false,
            }))
        },
    },
    Spec {
        name: "list-members",
        aliases: &[],
        args: Args::Upto(1),
        states: States::LOBBY,
        activity: true,
        usage: "[room]",
        help: "who is in a chat room",
        build: |p| {
            Some(Input::Room(RoomInput::Members {
                room: opt(p.words[0]),
            }))
        },
    },
    Spec {
        name: "topic",
        aliases: &[],
        args: Args::Upto(1),
        states: States::LOBBY,
        activity: true,
        usage: "[room]",
        help: "a chat room's topic",
        build: |p| {
            Some(Input::Room(RoomInput::ShowTopic {
                room: opt(p.words[0]),
            }))
        },
    },
    Spec {
        name: "set-topic",
        aliases: &[],
        args: Args::WordsThenText(1),
        states: States::LOBBY,
        activity: true,
        usage: "<room> <text>",
        help: "set your chat room's topic",
        build: |p| {
            Some(Input::Room(RoomInput::SetTopic {
                room: Some(p.words[0]),
                text: p.text,
            }))
        },
    },
    Spec {
        name: "set-chatroom",
        aliases: &[],
        args: Args::Words(2),
        states: States::LOBBY,
        activity: true,
        usage: "<room> public|private",
        help: "make your chat room public or private",
        build: |p| {
            kind(p.words[1]).map(|private| {
                Input::Room(RoomInput::SetPrivate {
                    room: Some(p.words[0]),
                    private,
                })
            })
        },
    },
    Spec {
        name: "exit-chatroom",
        aliases: &[],
        args: Args::Words(0),
        states: States::ROOM,
        activity: true,
        usage: "",
        help: "leave the chat room",
        build: |_| {
            Some(Input::Room(RoomInput::Part {
                room: None,
                reason: None,
            }))
        },
    },
    Spec {
        name: "ban-user",
        aliases: &[],
        args: Args::Words(1),
        states: States::ROOM,
        activity: true,
        usage: "<user>",
        help: "owner: ban <user> (and put it out)",
        build: |p| {
            Some(Input::Room(RoomInput::Ban {
                room: None,
                user: p.words[0],
                on: true,
            }))
        },
    },
    Spec {
        name: "unban-user",
        aliases: &[],
        args: Args::Words(1),
        states: States::ROOM,
        activity: true,
        usage: "<user>",
        help: "owner: lift <user>'s ban",
        build: |p| {
            Some(Input::Room(RoomInput::Ban {
                room: None,
                user: p.words[0],
                on: false,
            }))
        },
    },
    Spec {
        name: "permit-user",
        aliases: &[],
        args: Args::Words(1),
        states: States::ROOM,
        activity: true,
        usage: "<user>",
        help: "owner: let <user> in (lifts a ban)",
        build: |p| {
            Some(Input::Room(RoomInput::Permit {
                room: None,
                user: p.words[0],
                on: true,
            }))
        },
    },
    Spec {
        name: "unpermit-user",
        aliases: &[],
        args: Args::Words(1),
        states: States::ROOM,
        activity: true,
        usage: "<user>",
        help: "owner: take <user> off the whitelist",
        build: |p| {
            Some(Input::Room(RoomInput::Permit {
                room: None,
                user: p.words[0],
                on: false,
            }))
        },
    },
    Spec {
        name: "kick-user",
        aliases: &[],
        args: Args::Words(1),
        states: States::ROOM,
        activity: true,
        usage: "<user>",
        help: "owner: put <user> out (it may come back)",
        build: |p| {
            Some(Input::Room(RoomInput::Kick {
                room: None,
                user: p.words[0],
                reason: None,
            }))
        },
    },
    // §6 menus (seeds 002 and 004): prompt dialogs and the history. `private` with no
    // arguments is a second entry of that name; `parse` tries each entry of a name in turn.
    Spec {
        name: "private",
        aliases: &[],
        args: Args::Words(0),
        states: States::LOBBY,
        activity: true,
        usage: "",
        help: "prompts for a user, then a message to send it",
        build: |_| Some(Input::Menu(Menu::Private)),
    },
    Spec {
        name: "BM",
        aliases: &[],
        args: Args::Words(0),
        states: States::LOBBY,
        activity: true,
        usage: "",
        help: "prompts for a message to broadcast",
        build: |_| Some(Input::Menu(Menu::Broadcast)),
    },
    Spec {
        name: "PM",
        aliases: &[],
        args: Args::Words(0),
        states: States::LOBBY,
        activity: true,
        usage: "",
        help: "lists who is online, prompts for a recipient and a message",
        build: |_| Some(Input::Menu(Menu::Message)),
    },
    Spec {
        name: "history",
        aliases: &["CH"],
        args: Args::Upto(1),
        states: States::LOBBY,
        activity: true,
        usage: "[n]",
        help: "the last n (default 20) messages you may see",
        build: |p| match p.words[0] {
            "" => Some(Input::History { n: None }),
            w => w.parse().ok().map(|n| Input::History { n: Some(n) }),
        },
    },
    Spec {
        name: "live",
        aliases: &["heartbeat"],
        args: Args::Words(0),
        states: States::LOBBY,
        activity: false,
        usage: "",
        help: "heartbeat: proves the client is alive",
        build: |_| Some(Input::Live),
    },
    Spec {
        name: "help",
        aliases: &[],
        args: Args::Words(0),
        states: States::ANY,
        activity: true,
        usage: "",
        help: "this list",
        build: |_| Some(Input::Help),
    },
    Spec {
        name: "exit",
        aliases: &["quit", "EX"],
        args: Args::Words(0),
        states: States::ANY,
        activity: true,
        usage: "",
        help: "log out and close the connection",
        build: |_| Some(Input::Exit),
    },
];

// Chat rooms (§5).
/// `public` / `private` as the private flag.
fn kind(word: &str) -> Option<bool> {
    match word {
        "public" => Some(false),
        "private" => Some(true),
        _ => None,
    }
}

/// An optional word (`Args::Upto`).
fn opt(word: &str) -> Option<&str> {
    (!word.is_empty()).then_some(word)
}

/// The command named `word` (or an alias of it) valid in `state`.
pub fn find(word: &str, state: States) -> Option<&'static Spec> {
    COMMANDS
        .iter()
        .find(|s| s.states.contains(state) && (s.name == word || s.aliases.contains(&word)))
}

/// Splits `line` into its first word and the rest, skipping the run of spaces between them.
/// The rest keeps trailing spaces: free text is verbatim.
pub fn split_word(line: &str) -> (&str, &str) {
    let line = line.trim_start_matches(' ');
    match line.find(' ') {
        Some(i) => (&line[..i], line[i..].trim_start_matches(' ')),
        None => (line, ""),
    }
}

/// The arguments of `spec` from the rest of its line, checked against its arity.
fn parse_args<'a>(args: Args, mut rest: &'a str) -> Option<Parsed<'a>> {
    let mut p = Parsed {
        words: [""; 2],
        text: "",
    };
    match args {
        Args::Words(n) => {
            let mut it = rest.split(' ').filter(|w| !w.is_empty());
            for slot in p.words.iter_mut().take(n) {
                *slot = it.next()?;
            }
            it.next().is_none().then_some(p)
        }
        Args::Upto(n) => {
            let mut it = rest.split(' ').filter(|w| !w.is_empty());
            for slot in p.words.iter_mut().take(n) {
                *slot = it.next().unwrap_or("");
            }
            it.next().is_none().then_some(p)
        }
        Args::WordsThenText(n) => {
            for slot in p.words.iter_mut().take(n) {
                let (w, r) = split_word(rest);
                if w.is_empty() {
                    return None;
                }
                *slot = w;
                rest = r;
            }
            p.text = rest;
            (!rest.is_empty()).then_some(p)
        }
    }
}

/// Parse a line in `state`: a command of the table, or `Invalid`. A name with several entries
/// (`private <user> <text>` of §4 and `private` of §6) is the first whose arguments fit.
pub fn parse(line: &str, state: States) -> Input<'_> {
    let (word, rest) = split_word(line);
    COMMANDS
        .iter()
        .filter(|s| s.states.contains(state) && (s.name == word || s.aliases.contains(&word)))
        .find_map(|spec| parse_args(spec.args, rest).and_then(|p| (spec.build)(&p)))
        .unwrap_or(Input::Invalid)
}

/// The table entry an input came from, if it is a command.
fn spec_of(input: &Input<'_>) -> Option<&'static Spec> {
    let name = match input {
        Input::Login { .. } => "login",
        Input::Register { .. } => "register",
        Input::Message { .. } => "message",
        Input::Broadcast { .. } => "broadcast",
        Input::Announce { .. } => "announce",
        Input::WhoElse => "whoelse",
        Input::WhoElseSince { .. } => "whoelsesince",
        Input::Block { .. } => "block",
        Input::Unblock { .. } => "unblock",
        Input::Logout => "logout",
        Input::Live => "live",
        Input::Help => "help",
        Input::Exit => "exit",
        // Private sessions (§4).
        Input::StartPrivate { address: false, .. } => "startprivate",
        Input::StartPrivate { address: true, .. } => "getaddress",
        Input::Consent { yes: true, .. } => "y",
        Input::Consent { yes: false, .. } => "n",
        Input::Private { .. } => "private",
        Input::StopPrivate { .. } => "stopprivate",
        Input::P2pPort { .. } => "p2p-port",
        Input::Answer(_) | Input::Empty | Input::Invalid | Input::Bad(_) => return None,
        // IRC front-end (issue 12): not line commands.
        Input::Guest { .. }
        | Input::Describe { .. }
        | Input::Away { .. }
        | Input::Invisible(_)
        | Input::Oper { .. }
        | Input::Deoper
        | Input::NoPresence
        | Input::Whois { .. }
        | Input::Who { .. }
        | Input::Quit { .. } => return None,
        // Issue 22: modern IRC, no line commands either.
        Input::KeepsAlive
        | Input::Authenticate { .. }
        | Input::Scram { .. }
        | Input::Enter { .. }
        | Input::Rename { .. }
        | Input::Lookup { .. }
        | Input::Whowas { .. }
        | Input::Lusers
        | Input::SetName { .. }
        | Input::Monitor(_)
        | Input::Replay(_)
        | Input::Kill { .. }
        | Input::Wallops { .. }
        | Input::HearWallops(_) => return None,
        // JSON front-end (§6): `<list>` counts as activity like `whoelse`.
        Input::ListAddrs => "whoelse",
        // Profiles (§5).
        Input::WhoAmI => "whoami",
        Input::ViewProfile { .. } => "view-profile",
        Input::SetProfile { .. } => "set-profile",
        Input::ListUsers => "list-user",
        // Rooms and channels (issue 17: one set of inputs): each counts like its line command;
        // IRC's lookups (names, cards, settings, ban list) are not activity.
        Input::Room(room) => match room {
            RoomInput::Open { .. } => "open-chatroom",
            RoomInput::Join { .. } => "enter-chatroom",
            RoomInput::Part { .. } | RoomInput::PartAll => "exit-chatroom",
            RoomInput::List { .. } => "list-chatroom",
            // Room chat is a message like `broadcast`.
            RoomInput::Say { .. } => "broadcast",
            RoomInput::Ban { on: true, .. } => "ban-user",
            RoomInput::Ban { on: false, .. } => "unban-user",
            RoomInput::Permit { on: true, .. } => "permit-user",
            RoomInput::Permit { on: false, .. } => "unpermit-user",
            RoomInput::Kick { .. } => "kick-user",
            RoomInput::AccessList { banned: true, .. } => "get-blacklist",
            RoomInput::AccessList { banned: false, .. } => "get-whitelist",
            RoomInput::Close { .. } => "close-chatroom",
            RoomInput::ShowTopic { .. } => "topic",
            RoomInput::SetTopic { .. } => "set-topic",
            RoomInput::Members { .. } => "list-members",
            RoomInput::SetPrivate { .. } | RoomInput::Change { .. } => "set-chatroom",
            RoomInput::Names { .. }
            | RoomInput::Who { .. }
            | RoomInput::Modes { .. }
            | RoomInput::Bans { .. }
            | RoomInput::Invite { .. } => return None,
        },
        // §6 menus.
        Input::Menu(Menu::Private) => "private",
        Input::Menu(Menu::Broadcast) => "BM",
        Input::Menu(Menu::Message) => "PM",
        Input::History { .. } => "history",
    };
    COMMANDS.iter().find(|s| s.name == name)
}

/// Whether `input` renews the inactivity timer (PROTOCOL.md §3: every command except an
/// invalid one and `live`).
pub fn is_activity(input: &Input<'_>) -> bool {
    // IRC's `AWAY`, `INVITE`, `SETNAME`, `NICK`, `KILL`, `WALLOPS` are things a person typed,
    // with no line command of their own.
    spec_of(input).is_some_and(|s| s.activity)
        || matches!(
            input,
            Input::Away { .. }
                | Input::Room(RoomInput::Invite { .. })
                | Input::SetName { .. }
                | Input::Rename { .. }
                | Input::Kill { .. }
                | Input::Wallops { .. }
        )
}

/// The `help` text for `state`: one line per command valid there.
pub fn help(state: States) -> String {
    let mut out = String::new();
    if state == States::LOGIN {
        out.push_str("Type a username, then its password (an unknown name creates an account).\n");
    }
    // Chat rooms (§5): inside a room a line is chat and a command starts with `/`.
    let slash = if state == States::ROOM {
        out.push_str("A line is chat to the room; a command starts with /.\n");
        "/"
    } else {
        ""
    };
    for s in COMMANDS.iter().filter(|s| s.states.contains(state)) {
        let mut names = format!("{slash}{}", s.name);
        for a in s.aliases {
            names.push_str(" | ");
            names.push_str(slash);
            names.push_str(a);
        }
        let synopsis = if s.usage.is_empty() {
            names
        } else {
            format!("{names} {}", s.usage)
        };
        out.push_str(&format!("{synopsis:<30} {}\n", s.help));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_help_line_where_it_is_valid() {
        for state in [States::LOGIN, States::LOBBY, States::ROOM] {
            let help = help(state);
            let slash = if state == States::ROOM { "/" } else { "" };
            for s in COMMANDS {
                let name = format!("{slash}{} ", s.name);
                let listed = help
                    .lines()
                    .any(|l| l.starts_with(&name) && l.contains(s.help));
                assert_eq!(listed, s.states.contains(state), "{} in {state:?}", s.name);
            }
        }
        assert!(help(States::LOBBY).contains("whoelse | online | list"));
    }

    #[test]
    fn arity_is_checked() {
        for bad in [
            "message yoda",
            "message",
            "broadcast",
            "broadcast   ",
            "whoelse x",
            "whoelsesince",
            "whoelsesince 1.5",
            "whoelsesince -3",
            "whoelsesince 1 2",
            "block",
            "block a b",
            "logout now",
            "Message yoda hi",
            "",
        ] {
            assert_eq!(parse(bad, States::LOBBY), Input::Invalid, "{bad:?}");
        }
        assert_eq!(
            parse("block hans  ", States::LOBBY),
            Input::Block { user: "hans" }
        );
        assert_eq!(
            parse("whoelsesince 200", States::LOBBY),
            Input::WhoElseSince { seconds: 200 }
        );
        assert_eq!(parse("online", States::LOBBY), Input::WhoElse);
        assert_eq!(parse("heartbeat", States::LOBBY), Input::Live);
    }

    #[test]
    fn free_text_is_verbatim_after_the_argument_spaces() {
        assert_eq!(
            parse("message   yoda   hello  there  ", States::LOBBY),
            Input::Message {
                to: "yoda",
                text: "hello  there  ",
                kind: crate::input::Kind::Say,
                relay: None,
            }
        );
        assert_eq!(
            parse("  broadcast   hi  ", States::LOBBY),
            Input::Broadcast { text: "hi  " }
        );
    }

    #[test]
    fn commands_are_only_valid_in_their_states() {
        assert_eq!(parse("message a b", States::LOGIN), Input::Invalid);
        assert_eq!(parse("login a b", States::LOBBY), Input::Invalid);
        assert_eq!(parse("EX", States::LOGIN), Input::Exit);
        assert_eq!(parse("EX", States::LOBBY), Input::Exit);
    }

    // Private sessions (§4).
    #[test]
    fn private_session_commands_parse() {
        let lobby = |l| parse(l, States::LOBBY);
        assert_eq!(
            lobby("Y yoda"),
            Input::Consent {
                user: "yoda",
                yes: true
            }
        );
        assert_eq!(
            lobby("n  yoda "),
            Input::Consent {
                user: "yoda",
                yes: false
            }
        );
        assert_eq!(
            lobby("getaddress hans"),
            Input::StartPrivate {
                user: "hans",
                address: true
            }
        );
        assert_eq!(
            lobby("private  hans  hi  "),
            Input::Private {
                to: "hans",
                text: "hi  "
            }
        );
        assert_eq!(
            lobby("p2p-port 0"),
            Input::P2pPort {
                port: None,
                key: None
            }
        );
        assert_eq!(
            lobby("p2p-port 9 ab"),
            Input::P2pPort {
                port: Some(9),
                key: Some("ab")
            }
        );
        for bad in ["startprivate", "y", "y a b", "private hans", "stopprivate"] {
            assert_eq!(lobby(bad), Input::Invalid, "{bad:?}");
        }
        assert_eq!(parse("y yoda", States::LOGIN), Input::Invalid);
    }

    // Chat rooms and profiles (§5).
    #[test]
    fn room_commands_parse_with_optional_rooms_and_states() {
        let lobby = |l| parse(l, States::LOBBY);
        let room = |l| parse(l, States::ROOM);
        assert_eq!(
            lobby("open-chatroom den private"),
            Input::Room(RoomInput::Open {
                room: "den",
                private: true
            })
        );
        assert_eq!(lobby("open-chatroom den secret"), Input::Invalid);
        assert_eq!(
            lobby("close-chatroom"),
            Input::Room(RoomInput::Close { room: None })
        );
        assert_eq!(
            lobby("enter-chatroom den s3cret"),
            Input::Room(RoomInput::Join {
                room: "den",
                key: Some("s3cret"),
                create: false,
                current: true
            }),
            "a line user gives a room's key after its name"
        );
        assert_eq!(lobby("enter-chatroom"), Input::Invalid);
        assert_eq!(lobby("enter-chatroom a b c"), Input::Invalid);
        assert_eq!(
            lobby("get-blacklist  den "),
            Input::Room(RoomInput::AccessList {
                room: Some("den"),
                banned: true
            })
        );
        assert_eq!(lobby("get-whitelist a b"), Input::Invalid);
        assert_eq!(
            lobby("set-profile self_description  two  words "),
            Input::SetProfile {
                attribute: "self_description",
                value: "two  words "
            }
        );
        assert_eq!(lobby("ban-user yoda"), Input::Invalid, "only inside a room");
        assert_eq!(
            room("ban-user yoda"),
            Input::Room(RoomInput::Ban {
                room: None,
                user: "yoda",
                on: true
            })
        );
        assert_eq!(
            room("whoelse"),
            Input::WhoElse,
            "lobby commands work in a room"
        );
        assert_eq!(room("login a b"), Input::Invalid);
        assert!(is_activity(&Input::Room(RoomInput::Say {
            room: None,
            text: "hi",
            kind: crate::input::Kind::Say,
            relay: None,
        })));
    }

    // §6 menus.
    #[test]
    fn menu_commands_parse() {
        let lobby = |l| parse(l, States::LOBBY);
        assert_eq!(lobby("private"), Input::Menu(Menu::Private));
        assert_eq!(lobby("private  "), Input::Menu(Menu::Private));
        assert_eq!(
            lobby("private yoda hi"),
            Input::Private {
                to: "yoda",
                text: "hi"
            },
            "the §4 form is untouched"
        );
        assert_eq!(lobby("private yoda"), Input::Invalid);
        assert_eq!(lobby("BM"), Input::Menu(Menu::Broadcast));
        assert_eq!(lobby("PM"), Input::Menu(Menu::Message));
        assert_eq!(lobby("CH"), Input::History { n: None });
        assert_eq!(lobby("history"), Input::History { n: None });
        assert_eq!(lobby("history 5"), Input::History { n: Some(5) });
        assert_eq!(lobby("CH 0"), Input::History { n: Some(0) });
        for bad in [
            "history x",
            "history -1",
            "history 1 2",
            "BM hi",
            "bm",
            "ch",
            "PM x",
        ] {
            assert_eq!(lobby(bad), Input::Invalid, "{bad:?}");
        }
        assert_eq!(parse("BM", States::LOGIN), Input::Invalid);
        assert_eq!(parse("CH", States::ROOM), Input::History { n: None });
        assert!(is_activity(&Input::Menu(Menu::Message)));
        assert!(is_activity(&Input::History { n: None }));
        assert!(help(States::LOBBY).contains("history | CH [n]"));
    }

    #[test]
    fn activity_comes_from_the_table() {
        assert!(is_activity(&Input::WhoElse));
        assert!(!is_activity(&Input::Live));
        assert!(!is_activity(&Input::Invalid));
        assert!(!is_activity(&Input::Empty));
    }
}
