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
    /// The session proved it is a server operator (IRC `OPER`): shown by `Who`.
    Oper,
    /// Hide from `Who` searches by users sharing no room with this one.
    Invisible(bool),
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
    /// Join a room, opening it (public, owned by the joiner) if it does not exist.
    Join {
        room: &'a str,
        key: Option<&'a str>,
    },
    Leave {
        room: &'a str,
        reason: &'a str,
    },
    LeaveAll,
    /// Say something in a room; `notice`: a reply must never be automatic (IRC `NOTICE`).
    Say {
        room: &'a str,
        text: &'a str,
        notice: bool,
    },
    /// The members of a room.
    RoomNames {
        room: &'a str,
    },
    /// The members of a room as cards.
    RoomWho {
        room: &'a str,
    },
    /// Visible rooms (or the one named) with their sizes and topics.
    RoomList {
        room: Option<&'a str>,
    },
    /// Read (`None`) or set a room's topic (`Some("")` clears it).
    RoomTopic {
        room: &'a str,
        topic: Option<&'a str>,
    },
    /// A room's settings.
    RoomModes {
        room: &'a str,
    },
    /// A room's ban list.
    RoomBans {
        room: &'a str,
    },
    /// Owner only: change a room's settings.
    ChangeRoom {
        room: &'a str,
        changes: &'a [RoomChange<'a>],
    },
    /// Owner only: remove `user` from `room` (they may join again).
    KickMember {
        room: &'a str,
        user: &'a str,
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
    /// `p2p-port <port>`; `None` if the word is not a port number (1-65535).
    P2pPort {
        port: Option<u16>,
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
    // Chat rooms and profiles (PROTOCOL.md §5). `room: None` means the line front-end's
    // current room; a front-end with several rooms per user (IRC) always names one.
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
    /// `open-chatroom <room> public|private`: the caller owns it.
    OpenRoom {
        room: &'a str,
        private: bool,
    },
    /// `enter-chatroom`: the line front-end's one current room (entering leaves the current one).
    EnterRoom {
        room: &'a str,
    },
    /// Join one more room (IRC `JOIN`); `create`: open it, public and owned by the joiner, if it
    /// does not exist.
    JoinRoom {
        room: &'a str,
        create: bool,
    },
    /// Leave a room (`/exit-chatroom`, IRC `PART`).
    PartRoom {
        room: Option<&'a str>,
        reason: Option<&'a str>,
    },
    /// `list-chatroom`.
    ListRooms,
    /// Chat to everyone in a room, the sender too.
    RoomSay {
        room: Option<&'a str>,
        text: &'a str,
    },
    /// Owner only: blacklist (`on`) or unblacklist `user`; a banned member is put out.
    Ban {
        room: Option<&'a str>,
        user: &'a str,
        on: bool,
    },
    /// Owner only: whitelist (`on`) or unwhitelist `user`.
    Permit {
        room: Option<&'a str>,
        user: &'a str,
        on: bool,
    },
    /// Owner only: put a member out; unlike a ban it may come back.
    Kick {
        room: Option<&'a str>,
        user: &'a str,
        reason: Option<&'a str>,
    },
    /// Owner only: the blacklist (`banned`) or the whitelist.
    RoomAccessList {
        room: Option<&'a str>,
        banned: bool,
    },
    /// Owner only: close the room; its members return to the lobby.
    CloseRoom {
        room: Option<&'a str>,
    },
    /// Show a room's topic.
    ShowTopic {
        room: Option<&'a str>,
    },
    /// Owner only: set (or, with empty text, clear) a room's topic.
    SetTopic {
        room: Option<&'a str>,
        text: &'a str,
    },
    /// Who is in a room, with the owner marked.
    Members {
        room: Option<&'a str>,
    },
    /// Owner only: make a room private or public.
    SetPrivate {
        room: Option<&'a str>,
        private: bool,
    },
    // §6 menus.
    /// `private` (no arguments), `BM`, `PM`: start a prompt dialog.
    Menu(Menu),
    /// `history [n]` / `CH`: the last `n` (default 20) messages this user may see.
    History {
        n: Option<usize>,
    },
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
}
