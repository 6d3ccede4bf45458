//! What a front-end tells the core: semantic inputs, never wire text. A codec (line, JSON, IRC)
//! turns its bytes into these; the core applies them. The core also says what it is waiting
//! for ([`Expect`]), so a line codec knows whether `wise` is a password or a command.

/// What a session waits for next; codecs whose wire is stateless (JSON, IRC) may ignore it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// At `Username: `: a bare word is a username; one-line `login`/`register` also work.
    Username,
    /// At `Password: `: the whole line is the password.
    Password,
    /// Logged in: commands.
    Command,
    /// Nothing more will be read (the core closed the session).
    Nothing,
}

/// A framing problem a codec found in a connection's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineError {
    TooLong,
    InvalidUtf8,
}

/// One input of a session, borrowed from the codec's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// The answer to the prompt in progress (a username or a password).
    Answer(&'a str),
    /// One-line login: `login <user> <password>`.
    Login {
        user: &'a str,
        password: &'a str,
    },
    /// One-line account creation: `register <user> <password>`.
    Register {
        user: &'a str,
        password: &'a str,
    },
    Message {
        to: &'a str,
        text: &'a str,
    },
    Broadcast {
        text: &'a str,
    },
    /// Like a broadcast, but the sender gets its own line too (§6).
    Announce {
        text: &'a str,
    },
    WhoElse,
    WhoElseSince {
        seconds: u64,
    },
    Block {
        user: &'a str,
    },
    Unblock {
        user: &'a str,
    },
    Logout,
    Exit,
    Help,
    /// Heartbeat: proves liveness, is not activity.
    Live,
    /// Nothing typed: prompt again where a prompt is pending.
    Empty,
    /// Not understood here: `Error. Invalid command`, not activity.
    Invalid,
    /// A framing error; the connection stays usable.
    Bad(LineError),
    // Private sessions (PROTOCOL.md §4).
    /// `startprivate <user>` (`address`: false) or `getaddress <user>` (true).
    StartPrivate {
        user: &'a str,
        address: bool,
    },
    /// `y <user>` / `n <user>`: the answer to `user`'s request.
    Consent {
        user: &'a str,
        yes: bool,
    },
    /// `private <user> <text>`: relayed inside an accepted session.
    Private {
        to: &'a str,
        text: &'a str,
    },
    StopPrivate {
        user: &'a str,
    },
    /// `p2p-port <port>`; `None` if the word is not a port number (1-65535).
    P2pPort {
        port: Option<u16>,
    },
    // JSON front-end (PROTOCOL.md §6, seed 002).
    /// `<first>`: log in as a password-less guest called `name` (no account is created).
    Guest {
        name: &'a str,
    },
    /// `<list>`: every visible online user with the address it connected from.
    ListAddrs,
}
