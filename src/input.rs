//! What a front-end tells the core: semantic inputs, never wire text. A codec (line, JSON, IRC)
//! turns its bytes into these; the core applies them. The core also says what it is waiting
//! for ([`Expect`]), so a line codec knows whether `wise` is a password or a command.

pub use crate::event::Kind;

/// What a session waits for next; codecs whose wire is stateless (JSON, IRC) may ignore it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// At `Username: `: a bare word is a username; one-line `login`/`register` also work.
    Username,
    /// At `Password: `: the whole line is the password.
    Password,
    /// Logged in: commands.
    Command,
    // Chat rooms (PROTOCOL.md §5).
    /// Logged in and inside a room (the line front-end's current room): a line is room chat,
    /// a line starting with `/` is a command.
    RoomChat,
    // §6 menus.
    /// At a menu prompt (`Message: `, `Recipient: `, …): the whole line is the answer.
    Answer,
    /// Nothing more will be read (the core closed the session).
    Nothing,
    /// A password is being checked in steps (issue 21); the loop reads nothing meanwhile, and
    /// the events that follow say how the login went.
    Pending,
}

// §6 menus.
/// A command that starts a prompt dialog (PROTOCOL.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Menu {
    /// `private` with no arguments: `Who do you want to send message to? `, then the text.
    Private,
    /// `BM`: `Message: `, then a broadcast.
    Broadcast,
    /// `PM`: the online users, `Recipient: `, `Message: `, then a message.
    Message,
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
    /// A direct message. `kind` and `relay` (issue 22): what the line and JSON front-ends
    /// send is `Kind::Say` without tags; IRC also sends notices, actions, CTCP and tags.
    Message {
        to: &'a str,
        text: &'a str,
        kind: Kind,
        relay: Option<&'a str>,
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
    // IRC front-end (issue 12): inputs of front-ends whose sessions describe themselves.
    /// The client's self-description (IRC `USER`): shown by `Whois`/`Who`.
    Describe {
        username: &'a str,
        realname: &'a str,
    },
    /// Set (`Some`) or clear the away message.
    Away {
        message: Option<&'a str>,
    },
    /// This session shows no `<user> logged in/out` lines: do not send them (valid before
    /// and after login).
    NoPresence,
    /// Become a server operator (IRC `OPER`): `name` must be an account `--operators` names
    /// and `password` that account's password (checked as a login's). Shown by `Who`;
    /// operators may `Kill` and `Wallops` (issue 22).
    Oper {
        name: &'a str,
        password: &'a str,
    },
    /// Give operator status up (IRC `MODE me -o`).
    Deoper,
    /// Hide from `Who` searches by users sharing no room with this one.
    Invisible(bool),
    /// Receive the operators' `Wallops` (issue 22; IRC user mode `w`).
    HearWallops(bool),
    /// One online user's card.
    Whois {
        name: &'a str,
    },
    /// Online users whose name matches `mask` (`*`/`?` globs, ASCII case-insensitive).
    Who {
        mask: &'a str,
    },
    /// Leave with a parting word that others in shared rooms see.
    Quit {
        reason: &'a str,
    },
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
    /// `p2p-port <port> [key]`; `port` is `None` if the word is not a port number (1-65535);
    /// `key` is the fingerprint of the client's peer-to-peer TLS key, checked by the core.
    P2pPort {
        port: Option<u16>,
        key: Option<&'a str>,
    },
    // JSON front-end (PROTOCOL.md §6, seed 002).
    /// `<first>`: log in as a password-less guest called `name` (no account is created).
    /// `any_free`: a taken name gets the first free `name2`, `name3`, … instead of a refusal
    /// (issue 21: seed 002's client names itself once; IRC clients pick another nick).
    Guest {
        name: &'a str,
        any_free: bool,
    },
    /// `<list>`: every visible online user with the address it connected from.
    ListAddrs,
    // Profiles (PROTOCOL.md §5).
    /// `whoami`: the caller's own profile.
    WhoAmI,
    ViewProfile {
        user: &'a str,
    },
    /// `set-profile <attribute> <value>`: `value` is free text to the end of the line.
    SetProfile {
        attribute: &'a str,
        value: &'a str,
    },
    /// `list-user`: every account, online or offline.
    ListUsers,
    /// A chat room (§5) or IRC channel command: one set for every front-end (issue 17).
    Room(RoomInput<'a>),
    // §6 menus.
    /// `private` (no arguments), `BM`, `PM`: start a prompt dialog.
    Menu(Menu),
    /// `history [n]` / `CH`: the last `n` (default 20) messages this user may see.
    History {
        n: Option<usize>,
    },
    // Issue 22: modern IRC. The concepts are the core's; only the syntax is IRC's.
    /// This client proves it is alive by answering the server's pings and sending its own
    /// (IRC): no inactivity logout; silent for half of the timeout it is pinged, silent for
    /// the whole timeout it is dropped.
    KeepsAlive,
    /// Check a password for an account without logging in yet (IRC SASL): the session logs in
    /// as it when its registration ends ([`Input::Enter`]).
    Authenticate {
        user: &'a str,
        password: &'a str,
    },
    /// One client message of a SASL SCRAM-SHA-256 exchange (IRC `AUTHENTICATE`, decoded):
    /// `first` starts a new exchange with the client's first message; then comes its final
    /// message with the proof, then an empty one (the client's answer to the server's
    /// signature), which proves the account as [`Input::Authenticate`] does.
    Scram {
        first: bool,
        message: &'a str,
    },
    /// Registration is over (IRC): log in as the account [`Input::Authenticate`] proved, else
    /// with `password` (IRC `PASS`, given with a SASL exchange that proved nothing) as the
    /// one-line login of `nick` does, else (`guest`) as a guest called `nick`, else refuse.
    Enter {
        nick: &'a str,
        guest: bool,
        password: Option<&'a str>,
    },
    /// A guest takes another free name.
    Rename {
        name: &'a str,
    },
    /// The users among `names` who are online, as cards (IRC `USERHOST`, `ISON`).
    Lookup {
        names: &'a [&'a str],
    },
    /// Past sessions of a name (IRC `WHOWAS`), at most `count` (all with `None`).
    Whowas {
        name: &'a str,
        count: Option<usize>,
    },
    /// Counts of users and rooms (IRC `LUSERS`).
    Lusers,
    /// Change one's real name (IRC `SETNAME`).
    SetName {
        realname: &'a str,
    },
    /// Watch users come and go (IRC `MONITOR`).
    Monitor(MonitorInput<'a>),
    /// Stored messages of a conversation (IRC `CHATHISTORY`).
    Replay(Replay<'a>),
    /// A server operator ends a user's session (IRC `KILL`, the console's `kick`).
    Kill {
        user: &'a str,
        reason: &'a str,
    },
    /// A server operator's message to the operators (IRC `WALLOPS`).
    Wallops {
        text: &'a str,
    },
}

/// What `MONITOR` does (issue 22).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonitorInput<'a> {
    /// Watch these names: answered with who of them is online and who is not.
    Add(&'a [&'a str]),
    Remove(&'a [&'a str]),
    Clear,
    List,
    /// Who of the watched names is online and who is not.
    Status,
}

/// Where a `CHATHISTORY` query starts or ends: a message id or a time (Unix ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Id(u64),
    Time(u64),
    /// No bound (`LATEST *`).
    None,
}

/// Whose messages a `CHATHISTORY` query is about: a room's, or those between the caller and
/// one user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conversation<'a> {
    Room(&'a str),
    User(&'a str),
}

/// A `CHATHISTORY` query (issue 22): the messages of a conversation, at most `limit`, always
/// answered oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replay<'a> {
    /// The newest, after `after` if it is set.
    Latest {
        with: Conversation<'a>,
        after: Mark,
        limit: usize,
    },
    Before {
        with: Conversation<'a>,
        at: Mark,
        limit: usize,
    },
    After {
        with: Conversation<'a>,
        at: Mark,
        limit: usize,
    },
    /// The message at `at` with about as many before as after it.
    Around {
        with: Conversation<'a>,
        at: Mark,
        limit: usize,
    },
    /// Strictly between two marks, from the first towards the second.
    Between {
        with: Conversation<'a>,
        from: Mark,
        to: Mark,
        limit: usize,
    },
    /// The conversations with messages between two times, and when each last had one.
    Targets { from: Mark, to: Mark, limit: usize },
}

/// What a user does with chat rooms, from any front-end (PROTOCOL.md §5 and §8; issue 17: one
/// room engine). `room: None` means the line front-end's current room; a front-end with
/// several rooms per user (IRC) always names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomInput<'a> {
    /// `open-chatroom <room> public|private`: the caller owns it.
    Open { room: &'a str, private: bool },
    /// Enter a room with its key if it has one. `create`: open it first (public, owned by the
    /// joiner) if it does not exist (IRC `JOIN`). `current`: it becomes the line front-end's
    /// one current room, leaving the one before (`enter-chatroom`).
    Join {
        room: &'a str,
        key: Option<&'a str>,
        create: bool,
        current: bool,
    },
    /// Leave a room (`/exit-chatroom`, IRC `PART`).
    Part {
        room: Option<&'a str>,
        reason: Option<&'a str>,
    },
    /// Leave every room (IRC `JOIN 0`).
    PartAll,
    /// Chat to a room; `kind` and `relay` as in [`Input::Message`].
    Say {
        room: Option<&'a str>,
        text: &'a str,
        kind: Kind,
        relay: Option<&'a str>,
    },
    /// Let `user` into the room once, whatever `+i` says (IRC `INVITE`).
    Invite { room: &'a str, user: &'a str },
    /// `list-chatroom`, IRC `LIST [#room]`: the rooms the caller may see.
    List { room: Option<&'a str> },
    /// `list-members [room]`: who is in a room (an unknown or hidden room is an error).
    Members { room: Option<&'a str> },
    /// IRC `NAMES #room`: as `Members`, but an unknown or hidden room answers an empty list.
    Names { room: &'a str },
    /// IRC `WHO #room`: the members as cards.
    Who { room: &'a str },
    /// `topic [room]`, IRC `TOPIC #room`.
    ShowTopic { room: Option<&'a str> },
    /// `set-topic <room> <text>`, IRC `TOPIC #room :text`; empty text clears it.
    SetTopic {
        room: Option<&'a str>,
        text: &'a str,
    },
    /// IRC `MODE #room`: the settings.
    Modes { room: &'a str },
    /// IRC `MODE #room +b`: the ban list (names and masks).
    Bans { room: &'a str },
    /// `get-blacklist`/`get-whitelist [room]` (operators only).
    AccessList { room: Option<&'a str>, banned: bool },
    /// IRC `MODE #room ±…`: change settings (operators only).
    Change {
        room: &'a str,
        changes: &'a [RoomChange<'a>],
    },
    /// `set-chatroom <room> public|private` (operators only).
    SetPrivate {
        room: Option<&'a str>,
        private: bool,
    },
    /// `/ban-user`, `/unban-user`: the name ban; a banned member is put out.
    Ban {
        room: Option<&'a str>,
        user: &'a str,
        on: bool,
    },
    /// `/permit-user`, `/unpermit-user`.
    Permit {
        room: Option<&'a str>,
        user: &'a str,
        on: bool,
    },
    /// `/kick-user`, IRC `KICK`: put a member out; unlike a ban it may come back.
    Kick {
        room: Option<&'a str>,
        user: &'a str,
        reason: Option<&'a str>,
    },
    /// `close-chatroom [room]` (owner only): every setting goes with it.
    Close { room: Option<&'a str> },
}

/// One change to a room's settings (IRC front-end, issue 12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomChange<'a> {
    /// Only the owner and operators may join.
    Private(bool),
    /// Left out of listings and of searches by non-members.
    Secret(bool),
    /// Only operators set the topic.
    TopicLock(bool),
    /// Only members may speak in the room.
    NoOutside(bool),
    /// A key is needed to join (`None` removes it).
    Key(Option<&'a str>),
    /// Make `user` an operator (or not).
    Op(&'a str, bool),
    /// Let `user` speak (marked as voiced).
    Voice(&'a str, bool),
    /// Ban (or unban) a user name or `nick!user@host` mask.
    Ban(&'a str, bool),
    // Issue 22.
    /// At most this many members (`None` removes the limit); the number as typed.
    Limit(Option<&'a str>),
    /// Only operators and voiced members speak.
    Moderated(bool),
}
