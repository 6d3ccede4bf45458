//! Core events as events-protocol objects (PROTOCOL.md §9): one JSON object per event, `type`
//! first, every field named, one line each. Exhaustive matches over the core's event types,
//! so a new event is a build error here until it has its object. Where PROTOCOL.md has a text
//! for an event (errors, notices, prompts, help), it rides along as `text`.

use crate::event::{
    Audience, Card, Error, Event, HelpTopic, HistoryLine, Kind, Member, Meta, Notice, PrivateEvent,
    Prompt, RoomEvent, RoomInfo, Topic,
};
use crate::protocol::line::text as line_text;

/// One object being written: `{"type":…` then fields, closed by [`Obj::end`].
pub struct Obj<'o> {
    out: &'o mut Vec<u8>,
}

/// A JSON string (serde_json's escaping; a `Vec` never fails to take it).
fn string(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

impl<'o> Obj<'o> {
    pub fn new(out: &'o mut Vec<u8>, id: Option<&str>, kind: &str) -> Obj<'o> {
        out.extend_from_slice(b"{\"type\":");
        string(out, kind);
        if let Some(id) = id {
            out.extend_from_slice(b",\"id\":");
            out.extend_from_slice(id.as_bytes());
        }
        Obj { out }
    }

    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        self.out.extend_from_slice(b",\"");
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    pub fn str(mut self, key: &str, value: &str) -> Self {
        string(self.key(key), value);
        self
    }

    fn opt(mut self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => string(self.key(key), v),
            None => self.key(key).extend_from_slice(b"null"),
        }
        self
    }

    fn num(mut self, key: &str, value: u64) -> Self {
        let n = value.to_string();
        self.key(key).extend_from_slice(n.as_bytes());
        self
    }

    fn opt_num(mut self, key: &str, value: Option<u64>) -> Self {
        match value {
            Some(v) => return self.num(key, v),
            None => self.key(key).extend_from_slice(b"null"),
        }
        self
    }

    /// A message's extras (issue 22): its kind, its time and id (IRC's server-time and msgid),
    /// whether its sender is logged in to an account. Client-only tags stay IRC's.
    fn meta(self, meta: &Meta) -> Self {
        self.str("kind", kind_name(meta.kind))
            .num("time_ms", meta.stamp.at_ms)
            .num("msgid", meta.stamp.id)
            .bool("account", meta.account.is_some())
    }

    fn bool(mut self, key: &str, value: bool) -> Self {
        let b: &[u8] = if value { b"true" } else { b"false" };
        self.key(key).extend_from_slice(b);
        self
    }

    /// A list of `items`, each written by `each` (a string, an object…).
    fn list<T>(mut self, key: &str, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) -> Self {
        let out = self.key(key);
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            each(out, item);
        }
        out.push(b']');
        self
    }

    fn strings(self, key: &str, items: &[std::sync::Arc<str>]) -> Self {
        self.list(key, items, |out, s| string(out, s))
    }

    /// An object as a field's value (`null` for `None`).
    fn object<T>(mut self, key: &str, value: Option<&T>, f: impl FnOnce(Obj<'_>, &T)) -> Self {
        let out = self.key(key);
        match value {
            Some(v) => {
                out.push(b'{');
                let start = out.len();
                f(Obj { out: &mut *out }, v);
                drop_first_comma(out, start);
                out.push(b'}');
            }
            None => out.extend_from_slice(b"null"),
        }
        self
    }

    /// The PROTOCOL.md text of `event` (its line without the line end).
    fn text_of(self, event: &Event) -> Self {
        let line = line_text::to_string(event);
        self.str("text", line.trim_end_matches('\n'))
    }

    pub fn end(self) {
        self.out.extend_from_slice(b"}\n");
    }
}

/// Write `fields` (as `,"k":v`) wrapped as an object into `out`.
fn inline(out: &mut Vec<u8>, f: impl FnOnce(Obj<'_>)) {
    out.push(b'{');
    let start = out.len();
    f(Obj { out: &mut *out });
    drop_first_comma(out, start);
    out.push(b'}');
}

/// Fields are written as `,"k":v`: the first one of an object drops its comma.
fn drop_first_comma(out: &mut Vec<u8>, start: usize) {
    if out.get(start) == Some(&b',') {
        out.remove(start);
    }
}

/// Append the object for `event`; `id` is the JSON text of the request it answers.
pub fn render(event: &Event, id: Option<&str>, out: &mut Vec<u8>) {
    match event {
        Event::Prompt(p) => Obj::new(out, id, "prompt")
            .str("prompt", prompt(*p))
            .text_of(event)
            .end(),
        Event::Help(topic) => Obj::new(out, id, "help")
            .str("topic", help(*topic))
            .text_of(event)
            .end(),
        Event::NewUser(user) => Obj::new(out, id, "new_user")
            .str("user", user)
            .text_of(event)
            .end(),
        Event::Welcome(user) => Obj::new(out, id, "welcome")
            .str("user", user)
            .text_of(event)
            .end(),
        // The sender's own copy of a DM is IRC's echo-message: the events protocol, like the
        // line protocol, shows nothing (its `message` request is answered as before).
        Event::Chat {
            to: Audience::Echo(_),
            ..
        } => {}
        Event::Chat {
            from,
            to,
            text,
            meta,
        } => {
            let (audience, to) = match to {
                Audience::Direct(to) => ("direct", Some(&**to)),
                Audience::Echo(to) => ("echo", Some(&**to)),
                Audience::Everyone => ("everyone", None),
                Audience::Announcement => ("announcement", None),
                Audience::Private(to) => ("private", Some(&**to)),
            };
            Obj::new(out, id, "chat")
                .str("from", from)
                .str("audience", audience)
                .opt("to", to)
                .str("text", text)
                .meta(meta)
                .end()
        }
        Event::Presence { user, online } => Obj::new(out, id, "presence")
            .str("user", user)
            .bool("online", *online)
            .end(),
        Event::Users(users) => Obj::new(out, id, "users").strings("users", users).end(),
        Event::Blocked(user) => Obj::new(out, id, "blocked").str("user", user).end(),
        Event::Unblocked(user) => Obj::new(out, id, "unblocked").str("user", user).end(),
        Event::LoggedOut => Obj::new(out, id, "logged_out").text_of(event).end(),
        Event::Goodbye => Obj::new(out, id, "goodbye").end(),
        Event::Notice(n) => {
            let (code, user) = notice(n);
            Obj::new(out, id, "notice")
                .str("notice", code)
                .opt("user", user)
                .text_of(event)
                .end()
        }
        Event::Error(e) => Obj::new(out, id, "error")
            .str("code", error_code(e))
            .text_of(event)
            .end(),
        // The protocol's own markers are rendered by `EventsCodec` before this is reached.
        Event::Reserved(_) => {}
        // Answers `Input::Scram` only, which this protocol does not offer (IRC's SASL).
        Event::ScramChallenge(_) => {}
        Event::KeepAlive => Obj::new(out, id, "keepalive").end(),
        Event::Card(card) => Obj::new(out, id, "card")
            .object("card", Some(&**card), card_fields)
            .end(),
        Event::Cards { room, cards } => Obj::new(out, id, "cards")
            .opt("room", room.as_deref())
            .list("cards", cards, |out, c| {
                inline(out, |obj| card_fields(obj, c))
            })
            .end(),
        Event::Private(p) => private(p, Obj::new(out, id, "private"))
            .text_of(event)
            .end(),
        Event::GuestWelcome(user) => Obj::new(out, id, "guest_welcome").str("user", user).end(),
        Event::UserAddrs(users) => Obj::new(out, id, "user_addrs")
            .list("users", users, |out, (user, addr)| {
                let addr = addr.map(|a| a.to_string());
                inline(out, |obj| {
                    obj.str("user", user).opt("address", addr.as_deref());
                })
            })
            .end(),
        Event::ServerAnnouncement(text) => Obj::new(out, id, "server_announcement")
            .str("text", text)
            .end(),
        Event::Profile(fields) => Obj::new(out, id, "profile")
            .list("profile", fields, |out, (key, value)| {
                inline(out, |obj| {
                    obj.str("key", key).str("value", value);
                })
            })
            .end(),
        Event::AttributeSet(attribute) => Obj::new(out, id, "attribute_set")
            .str("attribute", attribute)
            .end(),
        Event::UserStates(users) => Obj::new(out, id, "user_states")
            .list("users", users, |out, (user, online)| {
                inline(out, |obj| {
                    obj.str("user", user).bool("online", *online);
                })
            })
            .end(),
        Event::Room(room) => room_event(room, Obj::new(out, id, "room")).end(),
        Event::MessageSent => Obj::new(out, id, "message_sent").end(),
        Event::Cancelled => Obj::new(out, id, "cancelled").end(),
        Event::History(lines) => Obj::new(out, id, "history")
            .list("lines", lines, |out, line| {
                inline(out, |obj| history(obj, line))
            })
            .end(),
        // Issue 22's events, most of them IRC's, each with its own object.
        Event::Authenticated(user) => Obj::new(out, id, "authenticated").str("user", user).end(),
        Event::AccountChanged {
            user,
            account,
            watched,
        } => Obj::new(out, id, "account_changed")
            .str("user", user)
            .str("account", account)
            .bool("watched", *watched)
            .end(),
        Event::Opered => Obj::new(out, id, "opered").end(),
        Event::Renamed { old, new } => Obj::new(out, id, "renamed")
            .str("old", old)
            .str("new", new)
            .end(),
        Event::Away {
            user,
            message,
            watched,
        } => Obj::new(out, id, "away")
            .str("user", user)
            .opt("message", message.as_deref())
            .bool("watched", *watched)
            .end(),
        Event::IsAway { user, message } => Obj::new(out, id, "is_away")
            .str("user", user)
            .str("message", message)
            .end(),
        Event::Kept(user) => Obj::new(out, id, "kept")
            .str("user", user)
            .text_of(event)
            .end(),
        Event::Invitation { by, room, .. } => Obj::new(out, id, "invitation")
            .str("by", by)
            .str("room", room)
            .end(),
        Event::Monitor { online, users } => Obj::new(out, id, "monitor")
            .bool("online", *online)
            .strings("users", users)
            .end(),
        Event::MonitorList(users) => Obj::new(out, id, "monitor_list")
            .strings("users", users)
            .end(),
        Event::Found(cards) => Obj::new(out, id, "found")
            .list("cards", cards, |out, c| {
                inline(out, |obj| card_fields(obj, c))
            })
            .end(),
        Event::Whowas { name, past } => Obj::new(out, id, "whowas")
            .str("name", name)
            .list("past", past, |out, p| {
                inline(out, |obj| {
                    obj.str("username", &p.username)
                        .str("realname", &p.realname)
                        .num("gone_s", p.gone_s);
                })
            })
            .end(),
        Event::Lusers(l) => Obj::new(out, id, "lusers")
            .num("users", l.users as u64)
            .num("invisible", l.invisible as u64)
            .num("operators", l.operators as u64)
            .num("unknown", l.unknown as u64)
            .num("rooms", l.rooms as u64)
            .num("max_users", l.max_users as u64)
            .end(),
        Event::SetName {
            user,
            realname,
            watched,
        } => Obj::new(out, id, "set_name")
            .str("user", user)
            .str("realname", realname)
            .bool("watched", *watched)
            .end(),
        Event::Wallops { from, text } => Obj::new(out, id, "wallops")
            .str("from", from)
            .str("text", text)
            .end(),
        Event::Replay {
            target,
            room,
            lines,
        } => Obj::new(out, id, "replay")
            .str("target", target)
            .bool("room", *room)
            .list("lines", lines, |out, l| {
                inline(out, |obj| {
                    obj.str("from", &l.from)
                        .opt("to", l.to.as_deref())
                        .str("text", &l.text)
                        .meta(&l.meta);
                })
            })
            .end(),
        Event::ReplayTargets(targets) => Obj::new(out, id, "replay_targets")
            .list("targets", targets, |out, (target, room, at_ms)| {
                inline(out, |obj| {
                    obj.str("target", target)
                        .bool("room", *room)
                        .num("time_ms", *at_ms);
                })
            })
            .end(),
    }
}

fn prompt(p: Prompt) -> &'static str {
    match p {
        Prompt::Username => "username",
        Prompt::Password => "password",
        Prompt::PrivateTo => "private_to",
        Prompt::PrivateText => "private_text",
        Prompt::Recipient => "recipient",
        Prompt::Message => "message",
    }
}

fn help(t: HelpTopic) -> &'static str {
    match t {
        HelpTopic::Login => "login",
        HelpTopic::Lobby => "lobby",
        HelpTopic::Room => "room",
    }
}

/// A notice's code, and the user it names if any.
fn notice(n: &Notice) -> (&'static str, Option<&str>) {
    match n {
        Notice::BadPassword => ("bad_password", None),
        Notice::NowLocked => ("now_locked", None),
        Notice::StillLocked => ("still_locked", None),
        Notice::Inactive => ("inactive", None),
        Notice::SomeNotDelivered => ("some_not_delivered", None),
        Notice::Replaced(user) => ("replaced", Some(user)),
        Notice::ServerShutdown => ("server_shutdown", None),
        Notice::Kicked => ("kicked", None),
        Notice::AccountDeleted => ("account_deleted", None),
        Notice::Renamed(user) => ("renamed", Some(user)),
        Notice::PingTimeout(_) => ("ping_timeout", None),
        Notice::Killed { by, .. } => ("killed", Some(by)),
    }
}

/// The machine-readable code of an error (its PROTOCOL.md text rides beside it).
pub fn error_code(e: &Error) -> &'static str {
    match e {
        Error::InvalidCommand => "invalid_command",
        Error::InvalidUsername => "invalid_username",
        Error::InvalidPassword => "invalid_password",
        Error::UnknownUsername => "unknown_username",
        Error::RegistrationClosed => "registration_closed",
        Error::AlreadyLoggedIn(_) => "already_logged_in",
        Error::UserExists(_) => "user_exists",
        Error::InvalidUser => "invalid_user",
        Error::MessageSelf => "message_self",
        Error::BlockedByRecipient => "blocked_by_recipient",
        Error::MailboxFull(_) => "mailbox_full",
        Error::BlockSelf => "block_self",
        Error::NotBlocked(_) => "not_blocked",
        Error::LineTooLong => "line_too_long",
        Error::InvalidUtf8 => "invalid_utf8",
        Error::ServerFull => "server_full",
        Error::LoginTimeout => "login_timeout",
        Error::Storage => "storage",
        Error::NotRoomOperator(_) => "not_room_operator",
        Error::WrongRoomKey(_) => "wrong_room_key",
        Error::PrivateRoom(_) => "private_room",
        Error::BannedFromRoom(_) => "banned_from_room",
        Error::CannotSendToRoom(_) => "cannot_send_to_room",
        Error::Offline(_) => "offline",
        Error::NoPrivateRequest(_) => "no_private_request",
        Error::PrivateNotEnabled(_) => "private_not_enabled",
        Error::NoPrivateSession(_) => "no_private_session",
        Error::InvalidPort => "invalid_port",
        Error::InvalidPeerKey => "invalid_peer_key",
        Error::Moderated(_) => "moderated",
        Error::NoSuchUser(_) => "no_such_user",
        Error::WasNoSuchUser(_) => "was_no_such_user",
        Error::NameIsAccount(_) => "name_is_account",
        Error::AlreadyAuthenticated => "already_authenticated",
        Error::AccountsOnly => "accounts_only",
        Error::RoomFull(_) => "room_full",
        Error::AlreadyInRoom { .. } => "already_in_room",
        Error::NotOperator => "not_operator",
        Error::NoOperBlock => "no_oper_block",
        Error::InvalidLimit => "invalid_limit",
        Error::PasswordRequired => "password_required",
        Error::MonitorFull => "monitor_full",
        Error::NoHistory(_) => "no_history",
        Error::NoPeerAddress(_) => "no_peer_address",
        Error::NameTaken(_) => "name_taken",
        Error::TooManyAccounts => "too_many_accounts",
        Error::RegisterRate => "register_rate",
        Error::LoginRate => "login_rate",
        Error::StorageFull => "storage_full",
        Error::TooManyFromAddress => "too_many_from_address",
        Error::InvalidRoomName => "invalid_room_name",
        Error::NoRoom(_) => "no_room",
        Error::RoomExists(_) => "room_exists",
        Error::NotOwner => "not_owner",
        Error::NotInRoom => "not_in_room",
        Error::NotInThatRoom(_) => "not_in_that_room",
        Error::TooManyRooms(_) => "too_many_rooms",
        Error::NotMember { .. } => "not_member",
        Error::OwnerImmune => "owner_immune",
        Error::InvalidAttribute => "invalid_attribute",
        Error::ValueTooLong(_) => "value_too_long",
        Error::InvalidText => "invalid_text",
        Error::InvalidKey => "invalid_key",
        Error::InvalidMask => "invalid_mask",
        Error::ListFull { .. } => "list_full",
        Error::TooManyOwnRooms(_) => "too_many_own_rooms",
    }
}

fn card_fields(obj: Obj<'_>, c: &Card) {
    obj.str("name", &c.name)
        .str("username", &c.username)
        .str("realname", &c.realname)
        .str("host", &c.host)
        .opt("away", c.away.as_deref())
        .bool("oper", c.oper)
        .bool("account", c.account.is_some())
        .num("idle_s", c.idle_s)
        .num("signon_s", c.signon_s)
        .list("rooms", &c.rooms, |out, (room, op)| {
            inline(out, |obj| {
                obj.str("room", room).bool("op", *op);
            })
        });
}

fn private<'o>(p: &PrivateEvent, obj: Obj<'o>) -> Obj<'o> {
    match p {
        PrivateEvent::Asked(user) => obj.str("event", "asked").str("user", user),
        PrivateEvent::RequestSent(user) => obj.str("event", "request_sent").str("user", user),
        PrivateEvent::Started(user) => obj.str("event", "started").str("user", user),
        PrivateEvent::Declined(user) => obj.str("event", "declined").str("user", user),
        PrivateEvent::Expired(user) => obj.str("event", "expired").str("user", user),
        PrivateEvent::Stopped(user) => obj.str("event", "stopped").str("user", user),
        PrivateEvent::Dial {
            user,
            ip,
            port,
            token,
            key,
        } => obj
            .str("event", "dial")
            .str("user", user)
            .str("ip", &ip.to_string())
            .num("port", u64::from(*port))
            .str("token", token)
            .opt("key", key.as_deref()),
        PrivateEvent::Expect { user, token } => obj
            .str("event", "expect")
            .str("user", user)
            .str("token", token),
        PrivateEvent::Address { user, ip, port } => obj
            .str("event", "address")
            .str("user", user)
            .str("ip", &ip.to_string())
            .num("port", u64::from(*port)),
    }
}

fn topic_fields(obj: Obj<'_>, t: &Topic) {
    obj.str("text", &t.text)
        .str("by", &t.by)
        .num("at_ms", t.at_ms);
}

fn members<'o>(obj: Obj<'o>, members: &[Member]) -> Obj<'o> {
    obj.list("members", members, |out, m| {
        inline(out, |obj| {
            obj.str("name", &m.name)
                .bool("owner", m.owner)
                .bool("op", m.op)
                .bool("voice", m.voice);
        })
    })
}

fn room_info(out: &mut Vec<u8>, r: &RoomInfo) {
    inline(out, |obj| {
        obj.str("room", &r.room)
            .str("owner", &r.owner)
            .bool("private", r.private)
            .num("members", r.members as u64)
            .str("topic", &r.topic)
            .num("created_s", r.created_s)
            .num("topic_at_s", r.topic_at_s);
    })
}

fn history(obj: Obj<'_>, line: &HistoryLine) {
    obj.num("at_ms", line.at_ms)
        .str("from", &line.from)
        .opt("to", line.to.as_deref())
        .str("text", &line.text);
}

fn room_event<'o>(e: &RoomEvent, obj: Obj<'o>) -> Obj<'o> {
    let ev = |obj: Obj<'o>, name: &str, room: &str| obj.str("event", name).str("room", room);
    match e {
        RoomEvent::Opened(room) => ev(obj, "opened", room),
        RoomEvent::Entered {
            room,
            user,
            topic,
            secret,
            members: list,
            partial,
        } => members(
            ev(obj, "entered", room)
                .str("user", user)
                .object("topic", topic.as_ref(), topic_fields)
                .bool("secret", *secret),
            list,
        )
        .bool("partial", *partial),
        RoomEvent::Joined {
            room,
            user,
            account,
            realname,
        } => ev(obj, "joined", room)
            .str("user", user)
            .bool("account", account.is_some())
            .str("realname", realname),
        RoomEvent::Exited { room, user, reason } => ev(obj, "exited", room)
            .str("user", user)
            .opt("reason", reason.as_deref()),
        RoomEvent::Left { room, user, reason } => ev(obj, "left", room)
            .str("user", user)
            .opt("reason", reason.as_deref()),
        RoomEvent::Quit { user, reason } => obj
            .str("event", "quit")
            .str("user", user)
            .str("reason", reason),
        RoomEvent::Chat {
            room,
            from,
            text,
            meta,
        } => ev(obj, "chat", room)
            .str("from", from)
            .str("text", text)
            .meta(meta),
        RoomEvent::Said {
            room,
            from,
            text,
            meta,
        } => ev(obj, "said", room)
            .str("from", from)
            .str("text", text)
            .meta(meta),
        RoomEvent::Invited { room, by, user } => {
            ev(obj, "invited", room).str("by", by).str("user", user)
        }
        RoomEvent::Inviting { room, user } => ev(obj, "inviting", room).str("user", user),
        RoomEvent::List(rooms) => obj.str("event", "list").list("rooms", rooms, room_info),
        RoomEvent::Access {
            room,
            user,
            banned,
            on,
        } => ev(obj, "access", room)
            .str("user", user)
            .bool("banned", *banned)
            .bool("on", *on),
        RoomEvent::Removed { room, by, reason } => {
            ev(obj, "removed", room).str("by", by).str("reason", reason)
        }
        RoomEvent::Kicked {
            room,
            by,
            user,
            reason,
        } => ev(obj, "kicked", room)
            .str("by", by)
            .str("user", user)
            .str("reason", reason),
        RoomEvent::AccessList {
            room,
            banned,
            entries,
        } => ev(obj, "access_list", room)
            .bool("banned", *banned)
            .strings("entries", entries),
        RoomEvent::Closed(room) => ev(obj, "closed", room),
        RoomEvent::CloseDone(room) => ev(obj, "close_done", room),
        RoomEvent::Topic { room, topic } => {
            ev(obj, "topic", room).object("topic", topic.as_ref(), topic_fields)
        }
        RoomEvent::TopicSet { room, by, topic } => {
            ev(obj, "topic_set", room)
                .str("by", by)
                .object("topic", topic.as_ref(), topic_fields)
        }
        RoomEvent::Members {
            room,
            secret,
            members: list,
            partial,
        } => members(ev(obj, "members", room).bool("secret", *secret), list)
            .bool("partial", *partial),
        RoomEvent::Mode { room, private } => ev(obj, "mode", room).bool("private", *private),
        RoomEvent::Modes {
            room,
            flags,
            key,
            limit,
            created_s,
        } => ev(obj, "modes", room)
            .str("flags", flags)
            .opt("key", key.as_deref())
            .opt_num("limit", limit.map(u64::from))
            .num("created_s", *created_s),
        RoomEvent::Changed {
            room,
            by,
            changes,
            args,
        } => ev(obj, "changed", room)
            .str("by", by)
            .str("changes", changes)
            .strings("args", args),
    }
}

/// A message kind's name on the wire (PROTOCOL.md §9).
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Say => "say",
        Kind::Notice => "notice",
        Kind::Action => "action",
        Kind::Ctcp => "ctcp",
        Kind::CtcpReply => "ctcp_reply",
        Kind::Tags => "tags",
    }
}
