//! The events protocol's requests (PROTOCOL.md §9): one per core [`Input`], every field named,
//! `type` saying which. [`Request::of`] is the other direction, an exhaustive match over
//! `Input`: a new input fails the build here until it has its request (or a reason not to).

use super::fields::{replay_limit, AtBound, Bound, Names, With};
use crate::event::Kind;
use crate::input::{Input, Menu, MonitorInput, Replay, RoomChange, RoomInput};
use serde::{Deserialize, Serialize};

/// A request as a bot or the page sends it (`id` travels beside it, in [`Envelope`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// The answer to the prompt in progress (`Username: `, `Password: `, a §6 menu's).
    Answer {
        text: String,
    },
    Login {
        user: String,
        password: String,
    },
    Register {
        user: String,
        password: String,
    },
    /// A password-less guest session (`any_free`: a taken name gets a free variant).
    Guest {
        name: String,
        #[serde(default)]
        any_free: bool,
    },
    Message {
        to: String,
        text: String,
        #[serde(default)]
        kind: TextKind,
    },
    Broadcast {
        text: String,
    },
    Announce {
        text: String,
    },
    Whoelse,
    Whoelsesince {
        seconds: u64,
    },
    Block {
        user: String,
    },
    Unblock {
        user: String,
    },
    Logout,
    Exit,
    Help,
    Live,
    Describe {
        username: String,
        realname: String,
    },
    Away {
        #[serde(default)]
        message: Option<String>,
    },
    NoPresence,
    Invisible {
        on: bool,
    },
    Whois {
        name: String,
    },
    Who {
        mask: String,
    },
    Quit {
        #[serde(default)]
        reason: String,
    },
    StartPrivate {
        user: String,
        #[serde(default)]
        address: bool,
    },
    Consent {
        user: String,
        yes: bool,
    },
    Private {
        to: String,
        text: String,
    },
    StopPrivate {
        user: String,
    },
    P2pPort {
        port: u16,
        /// The fingerprint of the client's peer-to-peer key (PROTOCOL.md §4a).
        #[serde(default)]
        key: Option<String>,
    },
    ListAddrs,
    Whoami,
    ViewProfile {
        user: String,
    },
    SetProfile {
        attribute: String,
        value: String,
    },
    ListUsers,
    Menu {
        menu: MenuKind,
    },
    History {
        #[serde(default)]
        n: Option<usize>,
    },
    RoomOpen {
        room: String,
        #[serde(default)]
        private: bool,
    },
    RoomJoin {
        room: String,
        #[serde(default)]
        key: Option<String>,
        #[serde(default)]
        create: bool,
    },
    RoomPart {
        room: String,
        #[serde(default)]
        reason: Option<String>,
    },
    RoomPartAll,
    RoomSay {
        room: String,
        text: String,
        #[serde(default)]
        kind: TextKind,
    },
    RoomList {
        #[serde(default)]
        room: Option<String>,
    },
    RoomMembers {
        room: String,
    },
    RoomNames {
        room: String,
    },
    RoomWho {
        room: String,
    },
    RoomTopic {
        room: String,
    },
    RoomSetTopic {
        room: String,
        text: String,
    },
    RoomModes {
        room: String,
    },
    RoomBans {
        room: String,
    },
    RoomAccessList {
        room: String,
        banned: bool,
    },
    RoomChange {
        room: String,
        changes: Vec<Change>,
    },
    RoomSetPrivate {
        room: String,
        private: bool,
    },
    RoomBan {
        room: String,
        user: String,
        on: bool,
    },
    RoomPermit {
        room: String,
        user: String,
        on: bool,
    },
    RoomKick {
        room: String,
        user: String,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Let `user` into `room` once, whatever `+i` says (issue 22).
    RoomInvite {
        room: String,
        user: String,
    },
    RoomClose {
        room: String,
    },
    // Issue 22's inputs (PROTOCOL.md §9d): the lookups, presence watching, stored
    // conversations, a guest's rename, and the operators' requests (the core refuses them to
    // anyone else).
    /// A guest takes another free name.
    Rename {
        name: String,
    },
    /// Which of `names` are online, as cards (IRC `ISON`/`USERHOST`).
    Lookup {
        names: Names,
    },
    Whowas {
        name: String,
        #[serde(default)]
        count: Option<usize>,
    },
    Lusers,
    SetName {
        realname: String,
    },
    MonitorAdd {
        names: Names,
    },
    MonitorRemove {
        names: Names,
    },
    MonitorClear,
    MonitorList,
    MonitorStatus,
    /// The newest messages of a conversation (after `after` if given), oldest first.
    ReplayLatest {
        with: With,
        #[serde(default)]
        after: Option<Bound>,
        #[serde(default = "replay_limit")]
        limit: usize,
    },
    /// Those before, after or around a bound.
    ReplayBefore(AtBound),
    ReplayAfter(AtBound),
    ReplayAround(AtBound),
    ReplayBetween {
        with: With,
        #[serde(default)]
        from: Option<Bound>,
        #[serde(default)]
        to: Option<Bound>,
        #[serde(default = "replay_limit")]
        limit: usize,
    },
    /// The conversations with messages between two times, and when each last had one.
    ReplayTargets {
        #[serde(default)]
        from: Option<Bound>,
        #[serde(default)]
        to: Option<Bound>,
        #[serde(default = "replay_limit")]
        limit: usize,
    },
    /// Receive the operators' `wallops` objects.
    HearWallops {
        on: bool,
    },
    /// An operator ends `user`'s session.
    Kill {
        user: String,
        #[serde(default)]
        reason: String,
    },
    /// An operator's message to the operators.
    Wallops {
        text: String,
    },
}

/// The §6 menu dialogs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MenuKind {
    Private,
    Broadcast,
    Message,
}

/// One change of a room's settings ([`RoomChange`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Private {
        on: bool,
    },
    Secret {
        on: bool,
    },
    TopicLock {
        on: bool,
    },
    NoOutside {
        on: bool,
    },
    Key {
        key: Option<String>,
    },
    Op {
        user: String,
        on: bool,
    },
    Voice {
        user: String,
        on: bool,
    },
    Ban {
        mask: String,
        on: bool,
    },
    /// `+l` (issue 22): at most `limit` members (as typed; the core checks it), none if absent.
    Limit {
        limit: Option<String>,
    },
    /// `+m`: only operators and voiced members speak.
    Moderated {
        on: bool,
    },
}

/// A request with the `id` its replies echo (a string or a number, kept as its JSON text).
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(default)]
    pub id: Option<Id>,
    #[serde(flatten)]
    pub request: Request,
}

/// What may be an `id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    Number(i64),
    Text(String),
}

/// Only the `id` of a request that did not parse, so its error can echo it.
#[derive(Debug, Deserialize)]
pub struct IdOnly {
    #[serde(default)]
    pub id: Option<Id>,
}

impl Id {
    /// The id as JSON text, for the replies.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Request {
    /// Hand the core input this request stands for to `f`. A room change list is built for
    /// the call (as long as the request's own); a list of names is lent from a fixed array on
    /// the stack ([`Names::borrowed`]).
    pub fn with_input<R>(&self, f: impl FnOnce(Input<'_>) -> R) -> R {
        use Request as Q;
        use RoomInput as R;
        fn room(r: &str) -> Option<&str> {
            Some(r)
        }
        let mut scratch = Names::scratch();
        let input = match self {
            Q::RoomChange { room, changes } => {
                let changes: Vec<RoomChange<'_>> = changes.iter().map(Change::core).collect();
                return f(Input::Room(R::Change {
                    room,
                    changes: &changes,
                }));
            }
            Q::Answer { text } => Input::Answer(text),
            Q::Login { user, password } => Input::Login { user, password },
            Q::Register { user, password } => Input::Register { user, password },
            Q::Guest { name, any_free } => Input::Guest {
                name,
                any_free: *any_free,
            },
            Q::Message { to, text, kind } => Input::Message {
                to,
                text,
                kind: kind.core(),
                relay: None,
            },
            Q::Broadcast { text } => Input::Broadcast { text },
            Q::Announce { text } => Input::Announce { text },
            Q::Whoelse => Input::WhoElse,
            Q::Whoelsesince { seconds } => Input::WhoElseSince { seconds: *seconds },
            Q::Block { user } => Input::Block { user },
            Q::Unblock { user } => Input::Unblock { user },
            Q::Logout => Input::Logout,
            Q::Exit => Input::Exit,
            Q::Help => Input::Help,
            Q::Live => Input::Live,
            Q::Describe { username, realname } => Input::Describe { username, realname },
            Q::Away { message } => Input::Away {
                message: message.as_deref(),
            },
            Q::NoPresence => Input::NoPresence,
            Q::Invisible { on } => Input::Invisible(*on),
            Q::Whois { name } => Input::Whois { name },
            Q::Who { mask } => Input::Who { mask },
            Q::Quit { reason } => Input::Quit { reason },
            Q::StartPrivate { user, address } => Input::StartPrivate {
                user,
                address: *address,
            },
            Q::Consent { user, yes } => Input::Consent { user, yes: *yes },
            Q::Private { to, text } => Input::Private { to, text },
            Q::StopPrivate { user } => Input::StopPrivate { user },
            Q::P2pPort { port, key } => Input::P2pPort {
                port: (*port > 0).then_some(*port),
                key: key.as_deref(),
            },
            Q::ListAddrs => Input::ListAddrs,
            Q::Whoami => Input::WhoAmI,
            Q::ViewProfile { user } => Input::ViewProfile { user },
            Q::SetProfile { attribute, value } => Input::SetProfile { attribute, value },
            Q::ListUsers => Input::ListUsers,
            Q::Menu { menu } => Input::Menu(match menu {
                MenuKind::Private => Menu::Private,
                MenuKind::Broadcast => Menu::Broadcast,
                MenuKind::Message => Menu::Message,
            }),
            Q::History { n } => Input::History { n: *n },
            Q::RoomOpen { room, private } => Input::Room(R::Open {
                room,
                private: *private,
            }),
            Q::RoomJoin { room, key, create } => Input::Room(R::Join {
                room,
                key: key.as_deref(),
                create: *create,
                current: false,
            }),
            Q::RoomPart { room: r, reason } => Input::Room(R::Part {
                room: room(r),
                reason: reason.as_deref(),
            }),
            Q::RoomPartAll => Input::Room(R::PartAll),
            Q::RoomSay {
                room: r,
                text,
                kind,
            } => Input::Room(R::Say {
                room: room(r),
                text,
                kind: kind.core(),
                relay: None,
            }),
            Q::RoomList { room } => Input::Room(R::List {
                room: room.as_deref(),
            }),
            Q::RoomMembers { room: r } => Input::Room(R::Members { room: room(r) }),
            Q::RoomNames { room } => Input::Room(R::Names { room }),
            Q::RoomWho { room } => Input::Room(R::Who { room }),
            Q::RoomTopic { room: r } => Input::Room(R::ShowTopic { room: room(r) }),
            Q::RoomSetTopic { room: r, text } => Input::Room(R::SetTopic {
                room: room(r),
                text,
            }),
            Q::RoomModes { room } => Input::Room(R::Modes { room }),
            Q::RoomBans { room } => Input::Room(R::Bans { room }),
            Q::RoomAccessList { room: r, banned } => Input::Room(R::AccessList {
                room: room(r),
                banned: *banned,
            }),
            Q::RoomSetPrivate { room: r, private } => Input::Room(R::SetPrivate {
                room: room(r),
                private: *private,
            }),
            Q::RoomBan { room: r, user, on } => Input::Room(R::Ban {
                room: room(r),
                user,
                on: *on,
            }),
            Q::RoomPermit { room: r, user, on } => Input::Room(R::Permit {
                room: room(r),
                user,
                on: *on,
            }),
            Q::RoomKick {
                room: r,
                user,
                reason,
            } => Input::Room(R::Kick {
                room: room(r),
                user,
                reason: reason.as_deref(),
            }),
            Q::RoomClose { room: r } => Input::Room(R::Close { room: room(r) }),
            Q::RoomInvite { room, user } => Input::Room(R::Invite { room, user }),
            Q::Rename { name } => Input::Rename { name },
            Q::Lookup { names } => Input::Lookup {
                names: names.borrowed(&mut scratch),
            },
            Q::Whowas { name, count } => Input::Whowas {
                name,
                count: *count,
            },
            Q::Lusers => Input::Lusers,
            Q::SetName { realname } => Input::SetName { realname },
            Q::MonitorAdd { names } => {
                Input::Monitor(MonitorInput::Add(names.borrowed(&mut scratch)))
            }
            Q::MonitorRemove { names } => {
                Input::Monitor(MonitorInput::Remove(names.borrowed(&mut scratch)))
            }
            Q::MonitorClear => Input::Monitor(MonitorInput::Clear),
            Q::MonitorList => Input::Monitor(MonitorInput::List),
            Q::MonitorStatus => Input::Monitor(MonitorInput::Status),
            Q::ReplayLatest { with, after, limit } => Input::Replay(Replay::Latest {
                with: with.core(),
                after: Bound::core(*after),
                limit: *limit,
            }),
            Q::ReplayBefore(q) => {
                let (with, at, limit) = q.core();
                Input::Replay(Replay::Before { with, at, limit })
            }
            Q::ReplayAfter(q) => {
                let (with, at, limit) = q.core();
                Input::Replay(Replay::After { with, at, limit })
            }
            Q::ReplayAround(q) => {
                let (with, at, limit) = q.core();
                Input::Replay(Replay::Around { with, at, limit })
            }
            Q::ReplayBetween {
                with,
                from,
                to,
                limit,
            } => Input::Replay(Replay::Between {
                with: with.core(),
                from: Bound::core(*from),
                to: Bound::core(*to),
                limit: *limit,
            }),
            Q::ReplayTargets { from, to, limit } => Input::Replay(Replay::Targets {
                from: Bound::core(*from),
                to: Bound::core(*to),
                limit: *limit,
            }),
            Q::HearWallops { on } => Input::HearWallops(*on),
            Q::Kill { user, reason } => Input::Kill { user, reason },
            Q::Wallops { text } => Input::Wallops { text },
        };
        f(input)
    }

    /// The request for `input`, or why there is none: an exhaustive match, so a new core
    /// input is a build error here until the events protocol says how it is asked for.
    pub fn of(input: &Input<'_>) -> Result<Request, Unoffered> {
        use Request as Q;
        use RoomInput as R;
        let s = |v: &str| v.to_string();
        let o = |v: Option<&str>| v.map(str::to_string);
        // The events protocol names every room; the line protocol's "current room" (`None`)
        // has no request of its own.
        let named = |r: Option<&str>| r.map(str::to_string).ok_or(Unoffered::CurrentRoom);
        Ok(match *input {
            Input::Answer(text) => Q::Answer { text: s(text) },
            Input::Login { user, password } => Q::Login {
                user: s(user),
                password: s(password),
            },
            Input::Register { user, password } => Q::Register {
                user: s(user),
                password: s(password),
            },
            Input::Guest { name, any_free } => Q::Guest {
                name: s(name),
                any_free,
            },
            Input::Message {
                to,
                text,
                kind,
                relay,
            } => Q::Message {
                to: s(to),
                text: s(text),
                kind: TextKind::of(kind, relay)?,
            },
            Input::Broadcast { text } => Q::Broadcast { text: s(text) },
            Input::Announce { text } => Q::Announce { text: s(text) },
            Input::WhoElse => Q::Whoelse,
            Input::WhoElseSince { seconds } => Q::Whoelsesince { seconds },
            Input::Block { user } => Q::Block { user: s(user) },
            Input::Unblock { user } => Q::Unblock { user: s(user) },
            Input::Logout => Q::Logout,
            Input::Exit => Q::Exit,
            Input::Help => Q::Help,
            Input::Live => Q::Live,
            // Framing outcomes, not requests: a blank line, a line not understood, a line too
            // long or not UTF-8 (the decoder produces these itself).
            Input::Empty | Input::Invalid | Input::Bad(_) => return Err(Unoffered::Framing),
            Input::Describe { username, realname } => Q::Describe {
                username: s(username),
                realname: s(realname),
            },
            Input::Away { message } => Q::Away {
                message: o(message),
            },
            Input::NoPresence => Q::NoPresence,
            // OPER (an operator account's name and its password, checked by the core) is IRC's
            // only: an events session is never an operator, so the core refuses its `kill` and
            // `wallops` requests (`not_operator`).
            Input::Oper { .. } | Input::Deoper => return Err(Unoffered::Privileged),
            // IRC's registration (SASL, then the end of registration) and its PING/PONG
            // keepalive: an events client logs in with `login`/`register`/`guest`, and its
            // liveness is the WebSocket's pings or its own requests.
            Input::KeepsAlive
            | Input::Authenticate { .. }
            | Input::Scram { .. }
            | Input::Enter { .. } => return Err(Unoffered::IrcOnly),
            Input::Rename { name } => Q::Rename { name: s(name) },
            Input::Lookup { names } => Q::Lookup {
                names: Names::of(names),
            },
            Input::Whowas { name, count } => Q::Whowas {
                name: s(name),
                count,
            },
            Input::Lusers => Q::Lusers,
            Input::SetName { realname } => Q::SetName {
                realname: s(realname),
            },
            Input::Monitor(m) => match m {
                MonitorInput::Add(names) => Q::MonitorAdd {
                    names: Names::of(names),
                },
                MonitorInput::Remove(names) => Q::MonitorRemove {
                    names: Names::of(names),
                },
                MonitorInput::Clear => Q::MonitorClear,
                MonitorInput::List => Q::MonitorList,
                MonitorInput::Status => Q::MonitorStatus,
            },
            Input::Replay(query) => replay(query),
            // The core refuses these to a session that is not a server operator.
            Input::HearWallops(on) => Q::HearWallops { on },
            Input::Kill { user, reason } => Q::Kill {
                user: s(user),
                reason: s(reason),
            },
            Input::Wallops { text } => Q::Wallops { text: s(text) },
            Input::Invisible(on) => Q::Invisible { on },
            Input::Whois { name } => Q::Whois { name: s(name) },
            Input::Who { mask } => Q::Who { mask: s(mask) },
            Input::Quit { reason } => Q::Quit { reason: s(reason) },
            Input::StartPrivate { user, address } => Q::StartPrivate {
                user: s(user),
                address,
            },
            Input::Consent { user, yes } => Q::Consent { user: s(user), yes },
            Input::Private { to, text } => Q::Private {
                to: s(to),
                text: s(text),
            },
            Input::StopPrivate { user } => Q::StopPrivate { user: s(user) },
            Input::P2pPort { port, key } => Q::P2pPort {
                port: port.unwrap_or(0),
                key: key.map(s),
            },
            Input::ListAddrs => Q::ListAddrs,
            Input::WhoAmI => Q::Whoami,
            Input::ViewProfile { user } => Q::ViewProfile { user: s(user) },
            Input::SetProfile { attribute, value } => Q::SetProfile {
                attribute: s(attribute),
                value: s(value),
            },
            Input::ListUsers => Q::ListUsers,
            Input::Menu(menu) => Q::Menu {
                menu: match menu {
                    Menu::Private => MenuKind::Private,
                    Menu::Broadcast => MenuKind::Broadcast,
                    Menu::Message => MenuKind::Message,
                },
            },
            Input::History { n } => Q::History { n },
            Input::Room(room) => match room {
                R::Open { room, private } => Q::RoomOpen {
                    room: s(room),
                    private,
                },
                // `current` is the line protocol's one room; the events protocol has none.
                R::Join { current: true, .. } => return Err(Unoffered::CurrentRoom),
                R::Join {
                    room,
                    key,
                    create,
                    current: false,
                } => Q::RoomJoin {
                    room: s(room),
                    key: o(key),
                    create,
                },
                R::Part { room, reason } => Q::RoomPart {
                    room: named(room)?,
                    reason: o(reason),
                },
                R::PartAll => Q::RoomPartAll,
                R::Say {
                    room,
                    text,
                    kind,
                    relay,
                } => Q::RoomSay {
                    room: named(room)?,
                    text: s(text),
                    kind: TextKind::of(kind, relay)?,
                },
                R::List { room } => Q::RoomList { room: o(room) },
                R::Members { room } => Q::RoomMembers { room: named(room)? },
                R::Names { room } => Q::RoomNames { room: s(room) },
                R::Who { room } => Q::RoomWho { room: s(room) },
                R::ShowTopic { room } => Q::RoomTopic { room: named(room)? },
                R::SetTopic { room, text } => Q::RoomSetTopic {
                    room: named(room)?,
                    text: s(text),
                },
                R::Modes { room } => Q::RoomModes { room: s(room) },
                R::Bans { room } => Q::RoomBans { room: s(room) },
                R::AccessList { room, banned } => Q::RoomAccessList {
                    room: named(room)?,
                    banned,
                },
                R::Change { room, changes } => Q::RoomChange {
                    room: s(room),
                    changes: changes.iter().map(Change::of).collect(),
                },
                R::SetPrivate { room, private } => Q::RoomSetPrivate {
                    room: named(room)?,
                    private,
                },
                R::Ban { room, user, on } => Q::RoomBan {
                    room: named(room)?,
                    user: s(user),
                    on,
                },
                R::Permit { room, user, on } => Q::RoomPermit {
                    room: named(room)?,
                    user: s(user),
                    on,
                },
                R::Kick { room, user, reason } => Q::RoomKick {
                    room: named(room)?,
                    user: s(user),
                    reason: o(reason),
                },
                R::Close { room } => Q::RoomClose { room: named(room)? },
                R::Invite { room, user } => Q::RoomInvite {
                    room: s(room),
                    user: s(user),
                },
            },
        })
    }
}

/// The request for a stored-conversation query.
fn replay(query: Replay<'_>) -> Request {
    use Request as Q;
    match query {
        Replay::Latest { with, after, limit } => Q::ReplayLatest {
            with: With::of(with),
            after: Bound::of(after),
            limit,
        },
        Replay::Before { with, at, limit } => Q::ReplayBefore(AtBound::of(with, at, limit)),
        Replay::After { with, at, limit } => Q::ReplayAfter(AtBound::of(with, at, limit)),
        Replay::Around { with, at, limit } => Q::ReplayAround(AtBound::of(with, at, limit)),
        Replay::Between {
            with,
            from,
            to,
            limit,
        } => Q::ReplayBetween {
            with: With::of(with),
            from: Bound::of(from),
            to: Bound::of(to),
            limit,
        },
        Replay::Targets { from, to, limit } => Q::ReplayTargets {
            from: Bound::of(from),
            to: Bound::of(to),
            limit,
        },
    }
}

/// Why a core input has no request of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unoffered {
    /// What a decoder makes of a line it could not use.
    Framing,
    /// The line protocol's current room: every events request names its room.
    CurrentRoom,
    /// Said by a front-end after a check of its own (IRC `OPER`).
    Privileged,
    /// IRC's own message kinds (CTCP other than ACTION, `TAGMSG`) and client-only tags, its
    /// registration (SASL, the end of registration) and its PING keepalive.
    IrcOnly,
}

/// The kinds of chat line a request may send (PROTOCOL.md §9): `say` unless said.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextKind {
    #[default]
    Say,
    Notice,
    Action,
}

impl TextKind {
    fn core(self) -> Kind {
        match self {
            TextKind::Say => Kind::Say,
            TextKind::Notice => Kind::Notice,
            TextKind::Action => Kind::Action,
        }
    }

    /// The request's kind for a core message, if a request can say it.
    fn of(kind: Kind, relay: Option<&str>) -> Result<TextKind, Unoffered> {
        if relay.is_some() {
            return Err(Unoffered::IrcOnly);
        }
        match kind {
            Kind::Say => Ok(TextKind::Say),
            Kind::Notice => Ok(TextKind::Notice),
            Kind::Action => Ok(TextKind::Action),
            Kind::Ctcp | Kind::CtcpReply | Kind::Tags => Err(Unoffered::IrcOnly),
        }
    }
}

impl Change {
    fn core(&self) -> RoomChange<'_> {
        match self {
            Change::Private { on } => RoomChange::Private(*on),
            Change::Secret { on } => RoomChange::Secret(*on),
            Change::TopicLock { on } => RoomChange::TopicLock(*on),
            Change::NoOutside { on } => RoomChange::NoOutside(*on),
            Change::Key { key } => RoomChange::Key(key.as_deref()),
            Change::Op { user, on } => RoomChange::Op(user, *on),
            Change::Voice { user, on } => RoomChange::Voice(user, *on),
            Change::Ban { mask, on } => RoomChange::Ban(mask, *on),
            Change::Limit { limit } => RoomChange::Limit(limit.as_deref()),
            Change::Moderated { on } => RoomChange::Moderated(*on),
        }
    }

    fn of(change: &RoomChange<'_>) -> Change {
        match *change {
            RoomChange::Private(on) => Change::Private { on },
            RoomChange::Secret(on) => Change::Secret { on },
            RoomChange::TopicLock(on) => Change::TopicLock { on },
            RoomChange::NoOutside(on) => Change::NoOutside { on },
            RoomChange::Key(key) => Change::Key {
                key: key.map(str::to_string),
            },
            RoomChange::Op(user, on) => Change::Op {
                user: user.to_string(),
                on,
            },
            RoomChange::Voice(user, on) => Change::Voice {
                user: user.to_string(),
                on,
            },
            RoomChange::Ban(mask, on) => Change::Ban {
                mask: mask.to_string(),
                on,
            },
            RoomChange::Limit(limit) => Change::Limit {
                limit: limit.map(str::to_string),
            },
            RoomChange::Moderated(on) => Change::Moderated { on },
        }
    }
}
