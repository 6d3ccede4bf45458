//! What the core tells a front-end: semantic events with shared string fields, never wire text.
//! Each protocol renders them its own way (the line protocol into PROTOCOL.md's exact strings).
//! A fan-out event is wrapped in [`Shared`], one allocation for every recipient; the loop
//! renders it once per protocol. Nothing here knows a protocol or a transport.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A prompt: an answer is expected on the same line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    Username,
    Password,
    // §6 menus.
    /// `private`: `Who do you want to send message to? `
    PrivateTo,
    /// `private`: `Type message you want to send: `
    PrivateText,
    /// `PM`: `Recipient: `
    Recipient,
    /// `BM`, `PM`: `Message: `
    Message,
}

/// Which commands `help` lists: those valid in this state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelpTopic {
    Login,
    Lobby,
    /// Inside a chat room (§5): commands spelled with a leading `/`.
    Room,
}

/// Where a chat line was addressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// `message`: to one user (this recipient).
    Direct(Arc<str>),
    /// The sender's own copy of its `message` to this user (issue 22: IRC's echo-message;
    /// other front-ends show nothing).
    Echo(Arc<str>),
    /// `broadcast`: to everyone online.
    Everyone,
    /// `announce`: to everyone online, the sender too.
    Announcement,
    // Private sessions (PROTOCOL.md §4).
    /// `private`: relayed inside an accepted private session to this peer.
    Private(Arc<str>),
}

/// What kind of chat line a message is (issue 22). Every front-end sends `Say`; IRC also sends
/// `NOTICE`s, `/me` (CTCP ACTION), other CTCP requests and replies, and `TAGMSG` (tags only).
/// Line and JSON users see `Say`, `Notice` and `Action` (`* hans waves`), never the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Say,
    /// Never answered automatically (IRC `NOTICE`).
    Notice,
    /// An action, shown as `* <from> <text>` (IRC `/me`, CTCP ACTION).
    Action,
    /// A CTCP request other than ACTION (`VERSION`, `PING …`): the text is its body.
    Ctcp,
    /// A CTCP reply (IRC sends them as `NOTICE`).
    CtcpReply,
    /// Tags only, no text (IRC `TAGMSG`: typing notifications, reactions).
    Tags,
}

impl Kind {
    /// Whether line and JSON users see this kind of message (and history keeps it).
    pub fn is_text(self) -> bool {
        match self {
            Kind::Say | Kind::Notice | Kind::Action => true,
            Kind::Ctcp | Kind::CtcpReply | Kind::Tags => false,
        }
    }
}

/// When a message was sent and its id (issue 22: IRC's `server-time` and `msgid`, and the
/// keys of `CHATHISTORY`). Ids grow with time: `at_ms << 12` plus a counter within the
/// millisecond, so no two messages share one and an id says roughly when it was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Stamp {
    pub at_ms: u64,
    pub id: u64,
}

/// What a message carries besides its sender and text (issue 22).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub kind: Kind,
    pub stamp: Stamp,
    /// The account the sender is logged in to (`None`: a guest): IRC's account-tag. Its
    /// name, as most often but not always (issue 22) the sender's.
    pub account: Option<Arc<str>>,
    /// Client-only tags as the sender's front-end wrote them (IRC `+draft/reply=…`), relayed
    /// only to recipients whose front-end shows them. The IRC codec checked their syntax.
    pub relay: Option<Arc<str>>,
}

impl Meta {
    /// A plain message (`Say`) at `stamp`.
    pub fn say(stamp: Stamp, account: Option<Arc<str>>) -> Meta {
        Meta {
            kind: Kind::Say,
            stamp,
            account,
            relay: None,
        }
    }
}

/// A message's extras for unit tests: a `Say` (or a `Notice`) at time 0, by a guest.
#[cfg(test)]
pub(crate) fn test_meta(notice: bool) -> Meta {
    Meta {
        kind: if notice { Kind::Notice } else { Kind::Say },
        ..Meta::say(Stamp::default(), None)
    }
}

/// A refusal or failure, answered to the one connection that caused it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    InvalidCommand,
    InvalidUsername,
    InvalidPassword,
    /// `login` of an unknown name, or any unknown name with registration closed.
    UnknownUsername,
    RegistrationClosed,
    AlreadyLoggedIn(Arc<str>),
    UserExists(Arc<str>),
    InvalidUser,
    MessageSelf,
    BlockedByRecipient,
    MailboxFull(Arc<str>),
    BlockSelf,
    NotBlocked(Arc<str>),
    LineTooLong,
    InvalidUtf8,
    ServerFull,
    LoginTimeout,
    /// The store failed: the change was undone.
    Storage,
    // IRC front-end (issue 12): channel refusals, each naming the room.
    NotRoomOperator(Arc<str>),
    WrongRoomKey(Arc<str>),
    PrivateRoom(Arc<str>),
    BannedFromRoom(Arc<str>),
    /// Chat to a room the sender is not in (and the room takes no outside messages: `+n`).
    CannotSendToRoom(Arc<str>),
    /// Chat to a moderated room (`+m`, issue 22) by a member neither operator nor voiced.
    Moderated(Arc<str>),
    // Private sessions (PROTOCOL.md §4).
    /// `startprivate`/`getaddress` to a user who is not online.
    Offline(Arc<str>),
    /// `y`/`n` with no pending request from this user.
    NoPrivateRequest(Arc<str>),
    /// `private` outside an accepted session with this user.
    PrivateNotEnabled(Arc<str>),
    /// `stopprivate` with no session with this user.
    NoPrivateSession(Arc<str>),
    /// `p2p-port` outside 1-65535.
    InvalidPort,
    /// `p2p-port <port> <key>` whose key is not a fingerprint (see [`crate::valid::PeerKey`]).
    InvalidPeerKey,
    /// `getaddress` of a user whose client registered no peer-to-peer port.
    NoPeerAddress(Arc<str>),
    // JSON front-end (§6).
    /// A guest name that is an account or online already.
    NameTaken(Arc<str>),
    // Issue 22: modern IRC.
    /// A name that names nobody online, as typed (IRC `401 <nick>`).
    NoSuchUser(Arc<str>),
    /// A name that no remembered past session had (IRC `406`).
    WasNoSuchUser(Arc<str>),
    /// A logged-in user keeps its name; the account it is logged in to.
    NameIsAccount(Arc<str>),
    /// SASL after registration from a session logged in to an account already (IRC `907`).
    AlreadyAuthenticated,
    /// `+l`: the room holds as many members as its limit.
    RoomFull(Arc<str>),
    /// An invitation for someone already in the room.
    AlreadyInRoom {
        room: Arc<str>,
        user: Arc<str>,
    },
    /// A command for server operators (`OPER`).
    NotOperator,
    /// `OPER` named no account that `--operators` lists (issue 22).
    NoOperBlock,
    /// A change only an account keeps (a block, a profile value): a guest's would outlive it,
    /// durably, under a name the next user of it inherits.
    AccountsOnly,
    /// A room's member limit that is not a number from 1 to 100000.
    InvalidLimit,
    /// Registration ended without a password and the front-end takes no guests.
    PasswordRequired,
    /// A `MONITOR` list at its bound ([`crate::valid::MONITOR_LEN`]).
    MonitorFull,
    /// A conversation the caller may not read, or that does not exist (`CHATHISTORY`).
    NoHistory(Arc<str>),
    // Reliability limits (issue 8).
    /// `--max-accounts` reached: no new account.
    TooManyAccounts,
    /// `--register-rate` for this source address used up.
    RegisterRate,
    /// `--login-fail-rate` for this source address used up (issue 21).
    LoginRate,
    /// `--max-offline-bytes` reached: nothing more is queued for offline users.
    StorageFull,
    /// `--max-per-ip` connections from this address already.
    TooManyFromAddress,
    // Chat rooms and profiles (§5).
    InvalidRoomName,
    /// No room of this name.
    NoRoom(Arc<str>),
    RoomExists(Arc<str>),
    NotOwner,
    /// A room command without a room, outside any room.
    NotInRoom,
    /// The caller is not a member of this room.
    NotInThatRoom(Arc<str>),
    /// `--max-rooms` rooms exist already.
    TooManyRooms(usize),
    /// `kick`: this user is not in the room.
    NotMember {
        room: Arc<str>,
        user: Arc<str>,
    },
    /// The owner can be neither banned nor kicked from its own room.
    OwnerImmune,
    InvalidAttribute,
    /// A profile value over this many bytes.
    ValueTooLong(usize),
    // Issue 17: values are checked once, in the core (`crate::valid`).
    /// Text with a control character other than tab.
    InvalidText,
    /// A room key that is not 1-32 printable characters without spaces or commas.
    InvalidKey,
    /// A ban mask that is not 1-96 printable characters without spaces or commas.
    InvalidMask,
    /// A room's ban, permit, operator or voice list holds `--max-list` entries already.
    ListFull {
        room: Arc<str>,
        max: usize,
    },
    /// The caller opened this many rooms that exist still (`--max-rooms-per-user`; guests
    /// `--max-guest-rooms`).
    TooManyOwnRooms(usize),
}

impl From<crate::valid::Invalid> for Error {
    /// The refusal of a value; a bad user name addresses nobody (`Error. Invalid user`).
    fn from(invalid: crate::valid::Invalid) -> Error {
        use crate::valid::Invalid;
        match invalid {
            Invalid::UserName => Error::InvalidUser,
            Invalid::RoomName => Error::InvalidRoomName,
            Invalid::Key => Error::InvalidKey,
            Invalid::Mask => Error::InvalidMask,
            Invalid::Text => Error::InvalidText,
            Invalid::TooLong(max) => Error::ValueTooLong(max),
            Invalid::PeerKey => Error::InvalidPeerKey,
            Invalid::Limit => Error::InvalidLimit,
        }
    }
}

/// Why a session ends or changes against its will.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    BadPassword,
    /// The third wrong password locked the account.
    NowLocked,
    /// The account is locked: try later.
    StillLocked,
    /// Logged out by the inactivity timeout.
    Inactive,
    /// A broadcast skipped users who block the sender.
    SomeNotDelivered,
    /// `--duplicate-login replace`: this session was replaced by a new login of `user`.
    Replaced(Arc<str>),
    /// The server is stopping; the connection closes after this.
    ServerShutdown,
    // Server console (§7).
    /// The operator's `kick`; the connection closes after this.
    Kicked,
    /// The operator deleted this account (issue 21); the connection closes after this.
    AccountDeleted,
    /// JSON front-end (issue 21): the guest name asked for was taken; this is the guest's name.
    Renamed(Arc<str>),
    // Issue 22.
    /// A session that answers pings (IRC) was silent this many seconds: closed.
    PingTimeout(u64),
    /// A server operator ended this session; the connection closes after this.
    Killed {
        by: Arc<str>,
        reason: Arc<str>,
    },
}

/// One thing the core tells one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Prompt(Prompt),
    Help(HelpTopic),
    /// An unknown username will become an account with the password that follows.
    NewUser(Arc<str>),
    /// Logged in as this user (an account, or a guest's name).
    Welcome(Arc<str>),
    /// A message from `from`.
    Chat {
        from: Arc<str>,
        to: Audience,
        text: Arc<str>,
        meta: Meta,
    },
    /// `user` logged in (`online`) or out.
    Presence {
        user: Arc<str>,
        online: bool,
    },
    /// Users, one per line (`whoelse`, `whoelsesince`).
    Users(Vec<Arc<str>>),
    Blocked(Arc<str>),
    Unblocked(Arc<str>),
    LoggedOut,
    Goodbye,
    Notice(Notice),
    Error(Error),
    // IRC front-end (issue 12).
    /// The place of a reply the connection's protocol keeps itself (IRC's `PONG`, its syntax
    /// numerics, the target of the next error numeric), queued through the core so it keeps
    /// its order among the core's replies. The core carries only the ticket; what it stands
    /// for is the protocol's private business.
    Reserved(Ticket),
    /// The connection has been silent for half the heartbeat: a wire with a keepalive of its
    /// own asks the client for one (IRC `PING`); others show nothing.
    KeepAlive,
    /// One user's card (`Whois`).
    Card(Box<Card>),
    /// `Who`: the matching users; `room` when the search was a room's members.
    Cards {
        room: Option<Arc<str>>,
        cards: Vec<Card>,
    },
    // Private sessions (PROTOCOL.md §4).
    Private(PrivateEvent),
    // JSON front-end (§6).
    /// A guest session started under this name (the guest's welcome).
    GuestWelcome(Arc<str>),
    /// `<list>`: online users in login order with the address each connected from.
    UserAddrs(Vec<(Arc<str>, Option<SocketAddr>)>),
    // Server console (§7).
    /// The operator's `announce`.
    ServerAnnouncement(Arc<str>),
    // Chat rooms and profiles (§5).
    /// A profile: `(key, value)` in PROTOCOL.md order, `username` first; unset values empty.
    Profile(Vec<(&'static str, Arc<str>)>),
    AttributeSet(Arc<str>),
    /// `list-user`: every account, sorted, with whether it is online.
    UserStates(Vec<(Arc<str>, bool)>),
    /// Chat rooms and IRC channels (issue 17: one set of events; each front-end renders them).
    Room(RoomEvent),
    // §6 menus.
    /// `BM`/`PM` went through.
    MessageSent,
    /// An empty answer to a menu prompt.
    Cancelled,
    /// `history`/`CH`: oldest first.
    History(Vec<HistoryLine>),
    // Issue 22: modern IRC (line and JSON users see some of these as lines, most not at all).
    /// The password given for this account was right (SASL): the session will log in as it
    /// when its registration ends, or (after registration) is logged in to it now, keeping its
    /// name.
    Authenticated(Arc<str>),
    /// `user` (online under that name) is now logged in to `account` (IRC account-notify);
    /// `watched` as for [`Event::Away`].
    AccountChanged {
        user: Arc<str>,
        account: Arc<str>,
        watched: bool,
    },
    /// `Input::Oper` succeeded: this session is a server operator.
    Opered,
    /// The server's next SASL SCRAM-SHA-256 message (its first, with the salt, or its final,
    /// with its signature): the client answers it.
    ScramChallenge(Arc<str>),
    /// A guest is now called `new` (to it, and to those who see it: roommates, monitors,
    /// users shown presence lines).
    Renamed {
        old: Arc<str>,
        new: Arc<str>,
    },
    /// `user` set or cleared its away message (IRC away-notify); `watched`: the recipient
    /// shares no room with it and only watches it (`MONITOR`).
    Away {
        user: Arc<str>,
        message: Option<Arc<str>>,
        watched: bool,
    },
    /// To a sender: the user it wrote to is away with this message (IRC `301`).
    IsAway {
        user: Arc<str>,
        message: Arc<str>,
    },
    /// To a sender: its message to an offline account is kept for its next login.
    Kept(Arc<str>),
    /// `by` invites this user into `room`.
    Invitation {
        by: Arc<str>,
        room: Arc<str>,
        /// The account `by` is logged in to (IRC's `account-tag` on the `INVITE`).
        account: Option<Arc<str>>,
    },
    /// Monitored users came online (`online`) or went offline.
    Monitor {
        online: bool,
        users: Vec<Arc<str>>,
    },
    /// The caller's monitor list.
    MonitorList(Vec<Arc<str>>),
    /// Cards of the users asked about that are online (IRC `USERHOST`, `ISON`).
    Found(Vec<Card>),
    /// Past sessions of a name, newest first (IRC `WHOWAS`).
    Whowas {
        name: Arc<str>,
        past: Vec<Past>,
    },
    /// Counts of users, operators and rooms (IRC `LUSERS`).
    Lusers(Lusers),
    /// `user` changed its real name (IRC setname); `watched` as for [`Event::Away`].
    SetName {
        user: Arc<str>,
        realname: Arc<str>,
        watched: bool,
    },
    /// A server operator's message to operators (IRC `WALLOPS`).
    Wallops {
        from: Arc<str>,
        text: Arc<str>,
    },
    /// Stored messages of a conversation, oldest first (IRC `CHATHISTORY`).
    Replay {
        /// The room (`#`-less) or the other user, as asked.
        target: Arc<str>,
        room: bool,
        lines: Vec<Replayed>,
    },
    /// The conversations whose latest message falls in a time window, oldest first
    /// (`CHATHISTORY TARGETS`): the room or user and its latest message's time.
    ReplayTargets(Vec<(Arc<str>, bool, u64)>),
}

/// One stored message as `CHATHISTORY` replays it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replayed {
    pub from: Arc<str>,
    /// The user a direct message went to (`None` in a room).
    pub to: Option<Arc<str>>,
    pub text: Arc<str>,
    pub meta: Meta,
}

/// One past session of a name (`WHOWAS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Past {
    pub username: Arc<str>,
    pub realname: Arc<str>,
    /// When it logged out (Unix seconds).
    pub gone_s: u64,
}

/// What `LUSERS` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Lusers {
    pub users: usize,
    pub invisible: usize,
    pub operators: usize,
    pub unknown: usize,
    pub rooms: usize,
    pub max_users: usize,
}

// §6 menus.
/// One line of `history`: `to` is the recipient of a direct message, `None` for a broadcast
/// or an announcement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryLine {
    pub at_ms: u64,
    pub from: Arc<str>,
    pub to: Option<Arc<str>>,
    pub text: Arc<str>,
}

/// A room's topic (§5), durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    pub text: Arc<str>,
    pub by: Arc<str>,
    pub at_ms: u64,
}

/// One row of `list-chatroom` / IRC `LIST`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomInfo {
    pub room: Arc<str>,
    pub owner: Arc<str>,
    pub private: bool,
    /// Who is in it now.
    pub members: usize,
    /// Its topic text, empty when none is set.
    pub topic: Arc<str>,
    // Issue 22 (IRC's `ELIST`).
    /// When it was opened (Unix seconds).
    pub created_s: u64,
    /// When its topic was set (Unix seconds; 0 without a topic).
    pub topic_at_s: u64,
}

/// What chat rooms and channels tell a user, whatever front-end caused it (PROTOCOL.md §5,
/// §8). Events to several members are fan-out ([`Shared`]): their rendering may not depend on
/// the recipient, so what only the actor sees is an event of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomEvent {
    /// To the opener.
    Opened(Arc<str>),
    /// To the user who entered `room`: with the topic and the members, which a front-end
    /// may show on entering (IRC: `JOIN`, `332`/`333`, `353`/`366`).
    Entered {
        room: Arc<str>,
        user: Arc<str>,
        topic: Option<Topic>,
        secret: bool,
        members: Vec<Member>,
        /// More members follow in [`RoomEvent::Members`] parts (a long list, paced).
        partial: bool,
    },
    /// To the others in `room`: `user` entered (`account`: the account it is logged in to;
    /// `realname` as it describes itself: IRC's extended-join).
    Joined {
        room: Arc<str>,
        user: Arc<str>,
        account: Option<Arc<str>>,
        realname: Arc<str>,
    },
    /// To the user who left `room` by its own command.
    Exited {
        room: Arc<str>,
        user: Arc<str>,
        reason: Option<Arc<str>>,
    },
    /// To the others in `room`: `user` left by its own command.
    Left {
        room: Arc<str>,
        user: Arc<str>,
        reason: Option<Arc<str>>,
    },
    /// To those sharing a room with `user`, once each: it logged out (IRC `QUIT`).
    Quit { user: Arc<str>, reason: Arc<str> },
    /// Room chat, to every other member (the sender gets [`RoomEvent::Said`]).
    Chat {
        room: Arc<str>,
        from: Arc<str>,
        text: Arc<str>,
        meta: Meta,
    },
    /// The sender's own copy of its room chat (the line protocol shows it; IRC only with
    /// echo-message).
    Said {
        room: Arc<str>,
        from: Arc<str>,
        text: Arc<str>,
        meta: Meta,
    },
    /// To the operators of `room` but `by` (IRC invite-notify): `by` invited `user`.
    Invited {
        room: Arc<str>,
        by: Arc<str>,
        user: Arc<str>,
    },
    /// To the inviter: `user` was invited into `room` (IRC `341`).
    Inviting { room: Arc<str>, user: Arc<str> },
    /// Rooms the caller may see, sorted by name.
    List(Vec<RoomInfo>),
    /// To an operator: `user`'s name standing changed (`banned`: the blacklist, else the
    /// whitelist).
    Access {
        room: Arc<str>,
        user: Arc<str>,
        banned: bool,
        on: bool,
    },
    /// To a member `by` put out of `room` (a kick, or a ban of a member).
    Removed {
        room: Arc<str>,
        by: Arc<str>,
        reason: Arc<str>,
    },
    /// To the other members, and to an operator outside the room who did it: `by` put `user`
    /// out of `room`.
    Kicked {
        room: Arc<str>,
        by: Arc<str>,
        user: Arc<str>,
        reason: Arc<str>,
    },
    /// The blacklist (`banned`: names and masks) or the whitelist of `room`, sorted.
    AccessList {
        room: Arc<str>,
        banned: bool,
        entries: Vec<Arc<str>>,
    },
    /// To the members of a closed room (they are back in the lobby).
    Closed(Arc<str>),
    /// To the owner who closed `room`.
    CloseDone(Arc<str>),
    /// `room`'s topic, on request.
    Topic {
        room: Arc<str>,
        topic: Option<Topic>,
    },
    /// `by` set (or, `None`, cleared) the topic of `room`: to every member and the setter.
    TopicSet {
        room: Arc<str>,
        by: Arc<str>,
        topic: Option<Topic>,
    },
    /// Members of `room` sorted by name.
    Members {
        room: Arc<str>,
        secret: bool,
        members: Vec<Member>,
        /// More members follow in another part (a long list, paced): the list is not over.
        partial: bool,
    },
    /// To the operator who ran `set-chatroom`: `room` is now private or public.
    Mode { room: Arc<str>, private: bool },
    /// A room's settings: flags as letters (`i` private, `k` key, `n` members only, `s`
    /// secret, `t` topic lock), the key (only for members and operators), and when it was
    /// opened (Unix seconds).
    Modes {
        room: Arc<str>,
        flags: Arc<str>,
        key: Option<Arc<str>>,
        /// `+l` (issue 22).
        limit: Option<u32>,
        created_s: u64,
    },
    /// `by` changed settings of `room` (to every member and the changer): `+`/`-` letters and
    /// their arguments.
    Changed {
        room: Arc<str>,
        by: Arc<str>,
        changes: Arc<str>,
        args: Vec<Arc<str>>,
    },
}

/// A room member as listings show them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: Arc<str>,
    pub owner: bool,
    /// The owner or an operator (`+o`).
    pub op: bool,
    pub voice: bool,
}

/// Who a user is, as `Whois`/`Who` show it (IRC front-end, issue 12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    pub name: Arc<str>,
    /// The self-described username (the name itself when none was given).
    pub username: Arc<str>,
    pub realname: Arc<str>,
    /// The peer's address.
    pub host: Arc<str>,
    pub away: Option<Arc<str>>,
    /// A server operator.
    pub oper: bool,
    /// Rooms the user is in, with whether they own (operate) each.
    pub rooms: Vec<(Arc<str>, bool)>,
    /// Rooms where the user has voice (`+v`; IRC's WHO shows `+`).
    pub voiced: Vec<Arc<str>>,
    // Issue 22.
    /// The account it is logged in to (`None`: a guest).
    pub account: Option<Arc<str>>,
    /// Seconds since its last message or command (IRC `317`).
    pub idle_s: u64,
    /// When it logged in (Unix seconds).
    pub signon_s: u64,
}

/// What private sessions tell a user (PROTOCOL.md §4); each names the other user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrivateEvent {
    /// `user` asks this user for consent.
    Asked(Arc<str>),
    /// The request to `user` was delivered.
    RequestSent(Arc<str>),
    /// The session with `user` is accepted.
    Started(Arc<str>),
    /// `user` said no.
    Declined(Arc<str>),
    /// The request to `user` got no answer in time (or `user` left).
    Expired(Arc<str>),
    /// The session with `user` ended.
    Stopped(Arc<str>),
    /// Machine line for the requester's client: dial `user`'s client with `token`, over TLS
    /// pinned to `key` if `user`'s client registered one.
    Dial {
        user: Arc<str>,
        ip: IpAddr,
        port: u16,
        token: Arc<str>,
        key: Option<Arc<str>>,
    },
    /// Machine line for the acceptor's client: expect `user` to dial with `token`.
    Expect { user: Arc<str>, token: Arc<str> },
    /// `getaddress`: where `user`'s client listens.
    Address {
        user: Arc<str>,
        ip: IpAddr,
        port: u16,
    },
}

/// A fan-out event: one allocation shared by every recipient. The loop renders it at most once
/// per protocol (`protocol::RenderCache`), and each connection's transport frames its copy.
#[derive(Debug)]
pub struct Shared {
    pub event: Event,
}

impl Shared {
    pub fn new(event: Event) -> Arc<Shared> {
        Arc::new(Shared { event })
    }
}

/// A protocol's claim on a place in a connection's reply order ([`Event::Reserved`]): numbered
/// per connection by the protocol that issued it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket(pub u32);

impl PartialEq for Shared {
    fn eq(&self, other: &Shared) -> bool {
        self.event == other.event
    }
}

impl Eq for Shared {}
