//! Core events as IRC messages (PROTOCOL.md §8's table). Users appear as
//! `nick!nick@<server name>`, so a channel line is the same bytes for every recipient and is
//! rendered once per fan-out; numerics and direct messages name the recipient and are not.

use super::numerics::*;
use crate::event::{Audience, Card, Error, Event, Notice, RoomEvent};
use crate::protocol::irc::message::write_message;
use crate::protocol::irc::{TARGMAX_JOIN, TARGMAX_KICK, TARGMAX_PART};
use crate::valid::{KEY_LEN, MODES, REASON_LEN, TOPIC_LEN};

/// What rendering needs to know about the recipient.
pub struct View<'a> {
    pub server: &'a str,
    /// The recipient's nick (`*` before it has one).
    pub nick: &'a str,
    /// The channel or nick the current command was about, as the client wrote it.
    pub target: Option<&'a str>,
    /// The `ERROR` text when the connection ends.
    pub quit: &'a str,
    /// The current command was a `NOTICE`: errors are not answered.
    pub silent: bool,
    /// `MAXLIST` for the welcome's 005.
    pub max_list: usize,
}

/// Whether `event` renders the same for every IRC recipient.
pub fn shareable(event: &Event) -> bool {
    matches!(
        event,
        Event::Presence { .. }
            | Event::Room(
                RoomEvent::Joined { .. }
                    | RoomEvent::Left { .. }
                    | RoomEvent::Quit { .. }
                    | RoomEvent::Chat { .. }
                    | RoomEvent::Kicked { .. }
                    | RoomEvent::TopicSet { .. }
                    | RoomEvent::Changed { .. }
            )
    )
}

/// `nick!nick@server`: the source of a user's messages.
fn source(nick: &str, server: &str) -> String {
    format!("{nick}!{nick}@{server}")
}

fn channel(room: &str) -> String {
    format!("#{room}")
}

struct Out<'a, 'b> {
    v: &'a View<'b>,
    out: &'a mut Vec<u8>,
}

impl Out<'_, '_> {
    /// `:server <numeric> <me> params…`.
    fn num(&mut self, numeric: &str, params: &[&str]) {
        let mut all = Vec::with_capacity(params.len() + 1);
        all.push(self.v.nick);
        all.extend_from_slice(params);
        write_message(self.out, Some(self.v.server), numeric, &all);
    }

    fn by_user(&mut self, nick: &str, command: &str, params: &[&str]) {
        write_message(
            self.out,
            Some(&source(nick, self.v.server)),
            command,
            params,
        );
    }

    fn notice(&mut self, text: &str) {
        let nick = self.v.nick;
        write_message(self.out, Some(self.v.server), "NOTICE", &[nick, text]);
    }

    fn error_line(&mut self, text: &str) {
        write_message(self.out, None, "ERROR", &[text]);
    }

    /// The channel an error is about: as the client wrote it, else `#room`.
    fn chan(&self, room: &str) -> String {
        match self.v.target {
            Some(t) if t.starts_with('#') => t.to_string(),
            _ => channel(room),
        }
    }
}

/// Append the IRC form of `event` for the recipient `v`.
pub fn render(v: &View<'_>, event: &Event, out: &mut Vec<u8>) {
    let mut o = Out { v, out };
    match event {
        Event::Prompt(_)
        | Event::Help(_)
        | Event::NewUser(_)
        | Event::Presence { .. }
        | Event::Users(_)
        | Event::Blocked(_)
        | Event::Unblocked(_)
        | Event::LoggedOut
        | Event::Reserved(_)
        | Event::Private(_)
        | Event::UserAddrs(_) => {}
        // Menu replies (§6) answer line commands only.
        Event::MessageSent | Event::Cancelled => {}
        // Profiles (§5) and history (§6) have no IRC form: server notices, line by line.
        Event::Profile(_) | Event::AttributeSet(_) | Event::UserStates(_) | Event::History(_) => {
            let text = crate::protocol::line::text::to_string(event);
            for line in text.lines() {
                o.notice(line);
            }
        }
        Event::Welcome | Event::GuestWelcome(_) => welcome(&mut o),
        Event::KeepAlive => write_message(o.out, None, "PING", &[v.server]),
        Event::ServerAnnouncement(text) => o.notice(text),
        Event::Chat { from, to, text } => match to {
            Audience::Direct(_) | Audience::Private(_) => {
                o.by_user(from, "PRIVMSG", &[v.nick, text])
            }
            Audience::Everyone | Audience::Announcement => o.notice(&format!("{from}: {text}")),
        },
        Event::Goodbye => {
            let text = format!("Closing link: ({}) [{}]", v.nick, v.quit);
            o.error_line(&text);
        }
        Event::Notice(n) => notice(&mut o, n),
        Event::Error(e) if v.silent => {
            let _ = e;
        }
        Event::Error(e) => error(&mut o, e),
        Event::Card(card) => whois(&mut o, card),
        Event::Cards { room, cards } => {
            for c in cards {
                who(&mut o, room.as_deref(), c);
            }
        }
        Event::Room(r) => room_event(&mut o, r),
    }
}

/// Room events, whichever front-end caused them, as channel messages and numerics.
fn room_event(o: &mut Out<'_, '_>, r: &RoomEvent) {
    let me = o.v.nick;
    match r {
        // IRC has no "opened": a `JOIN` opens a channel.
        RoomEvent::Opened(_) => {}
        RoomEvent::Entered {
            room,
            user,
            topic,
            secret,
            members,
            partial,
        } => {
            let chan = channel(room);
            o.by_user(user, "JOIN", &[&chan]);
            if let Some(t) = topic {
                o.num(RPL_TOPIC, &[&chan, &t.text]);
                let at = (t.at_ms / 1000).to_string();
                o.num(RPL_TOPICWHOTIME, &[&chan, &t.by, &at]);
            }
            names(o, room, *secret, members, *partial);
        }
        RoomEvent::Joined { room, user } => o.by_user(user, "JOIN", &[&channel(room)]),
        RoomEvent::Exited { room, user, reason } | RoomEvent::Left { room, user, reason } => {
            match reason {
                Some(why) if !why.is_empty() => o.by_user(user, "PART", &[&channel(room), why]),
                _ => o.by_user(user, "PART", &[&channel(room)]),
            }
        }
        RoomEvent::Quit { user, reason } => o.by_user(user, "QUIT", &[&format!("Quit: {reason}")]),
        RoomEvent::Chat {
            room,
            from,
            text,
            notice,
        } => {
            let command = if *notice { "NOTICE" } else { "PRIVMSG" };
            o.by_user(from, command, &[&channel(room), text]);
        }
        // No echo: IRC clients show what they sent themselves.
        RoomEvent::Said { .. } => {}
        RoomEvent::List(rooms) => {
            // IRC lists channels with members only.
            for info in rooms.iter().filter(|i| i.members > 0) {
                let count = info.members.to_string();
                o.num(RPL_LIST, &[&channel(&info.room), &count, &info.topic]);
            }
        }
        RoomEvent::Removed { room, by, reason } => {
            o.by_user(by, "KICK", &[&channel(room), me, reason]);
        }
        RoomEvent::Kicked {
            room,
            by,
            user,
            reason,
        } => o.by_user(by, "KICK", &[&channel(room), user, reason]),
        RoomEvent::Closed(room) => {
            let server = o.v.server;
            let chan = channel(room);
            write_message(o.out, Some(server), "KICK", &[&chan, me, "chatroom closed"]);
        }
        RoomEvent::Topic { room, topic } => {
            let chan = channel(room);
            match topic {
                Some(t) => {
                    o.num(RPL_TOPIC, &[&chan, &t.text]);
                    let at = (t.at_ms / 1000).to_string();
                    o.num(RPL_TOPICWHOTIME, &[&chan, &t.by, &at]);
                }
                None => o.num(RPL_NOTOPIC, &[&chan, "No topic is set"]),
            }
        }
        RoomEvent::TopicSet { room, by, topic } => {
            let text = topic.as_ref().map_or("", |t| &*t.text);
            o.by_user(by, "TOPIC", &[&channel(room), text]);
        }
        RoomEvent::Members {
            room,
            secret,
            members,
            partial,
        } => names(o, room, *secret, members, *partial),
        RoomEvent::Modes {
            room,
            flags,
            key,
            created_s,
        } => {
            let chan = channel(room);
            let modes = format!("+{flags}");
            match key {
                Some(k) => o.num(RPL_CHANNELMODEIS, &[&chan, &modes, k]),
                None => o.num(RPL_CHANNELMODEIS, &[&chan, &modes]),
            }
            o.num(RPL_CREATIONTIME, &[&chan, &created_s.to_string()]);
        }
        RoomEvent::Changed {
            room,
            by,
            changes,
            args,
        } => {
            let chan = channel(room);
            let mut params: Vec<&str> = vec![&chan, changes];
            params.extend(args.iter().map(|a| &**a));
            o.by_user(by, "MODE", &params);
        }
        RoomEvent::AccessList {
            room,
            banned: true,
            entries,
        } => {
            let chan = channel(room);
            for b in entries {
                o.num(RPL_BANLIST, &[&chan, b]);
            }
        }
        // Answers to line commands only: server notices, line by line.
        RoomEvent::AccessList { banned: false, .. }
        | RoomEvent::Access { .. }
        | RoomEvent::CloseDone(_)
        | RoomEvent::Mode { .. } => {
            let text = crate::protocol::line::text::to_string(&Event::Room(r.clone()));
            for line in text.lines() {
                o.notice(line);
            }
        }
    }
}

fn welcome(o: &mut Out<'_, '_>) {
    let (nick, server) = (o.v.nick, o.v.server);
    let version = concat!("chatserver-", env!("CARGO_PKG_VERSION"));
    o.num(
        RPL_WELCOME,
        &[&format!("Welcome to the chatserver IRC network, {nick}")],
    );
    o.num(
        RPL_YOURHOST,
        &[&format!("Your host is {server}, running version {version}")],
    );
    o.num(RPL_CREATED, &["This server was created at start-up"]);
    o.num(RPL_MYINFO, &[server, version, "i", "biknostov", "bkov"]);
    let supported = "are supported by this server";
    o.num(
        RPL_ISUPPORT,
        &[
            "CASEMAPPING=ascii",
            "CHANTYPES=#",
            "CHANMODES=b,k,,inst",
            "PREFIX=(ov)@+",
            "NICKLEN=32",
            "CHANNELLEN=33",
            &format!("TOPICLEN={TOPIC_LEN}"),
            "NETWORK=chatserver",
            supported,
        ],
    );
    o.num(
        RPL_ISUPPORT,
        &[
            &format!(
                "TARGMAX=JOIN:{},PART:{},PRIVMSG:1,NOTICE:1,KICK:{}",
                TARGMAX_JOIN.1, TARGMAX_PART.1, TARGMAX_KICK.1
            ),
            &format!("MODES={MODES}"),
            &format!("MAXLIST=b:{}", o.v.max_list),
            &format!("KEYLEN={KEY_LEN}"),
            &format!("AWAYLEN={REASON_LEN}"),
            &format!("KICKLEN={REASON_LEN}"),
            supported,
        ],
    );
    o.num(ERR_NOMOTD, &["MOTD File is missing"]);
}

fn notice(o: &mut Out<'_, '_>, n: &Notice) {
    match n {
        Notice::BadPassword | Notice::NowLocked | Notice::StillLocked => {
            o.num(ERR_PASSWDMISMATCH, &["Password incorrect"]);
            if *n != Notice::BadPassword {
                o.error_line("Closing link: account locked after failed logins, try later");
            }
        }
        Notice::Inactive => o.error_line("Closing link: logged out due to inactivity"),
        Notice::SomeNotDelivered => {
            o.notice("Your message could not be delivered to some recipients")
        }
        Notice::ServerShutdown => o.error_line("Server shutting down"),
        Notice::Kicked => o.error_line("Closing link: kicked by the server"),
        Notice::AccountDeleted => o.error_line("Closing link: account deleted by the server"),
        Notice::Renamed(name) => o.notice(&format!("Name taken, you are {name}")),
        Notice::Replaced(_) => o.error_line("Closing link: logged in from another connection"),
    }
}

fn error(o: &mut Out<'_, '_>, e: &Error) {
    let target = o.v.target.unwrap_or("*").to_string();
    match e {
        Error::InvalidUser => o.num(ERR_NOSUCHNICK, &[&target, "No such nick/channel"]),
        Error::InvalidUsername => o.num(ERR_ERRONEUSNICKNAME, &[&target, "Erroneous nickname"]),
        Error::InvalidPassword | Error::UnknownUsername | Error::RegistrationClosed => {
            o.num(ERR_PASSWDMISMATCH, &["Password incorrect"])
        }
        Error::AlreadyLoggedIn(user) | Error::UserExists(user) | Error::NameTaken(user) => {
            write_message(
                o.out,
                Some(o.v.server),
                ERR_NICKNAMEINUSE,
                &["*", user, "Nickname is already in use"],
            );
        }
        Error::LineTooLong => o.num(ERR_INPUTTOOLONG, &["Input line was too long"]),
        Error::InvalidUtf8 => {}
        Error::ServerFull => o.error_line("Closing link: server full"),
        Error::TooManyFromAddress => {
            o.error_line("Closing link: too many connections from your address")
        }
        Error::LoginTimeout => o.error_line("Closing link: registration timed out"),
        Error::InvalidCommand => o.num(ERR_UNKNOWNCOMMAND, &[&target, "Unknown command"]),
        Error::MessageSelf
        | Error::BlockedByRecipient
        | Error::MailboxFull(_)
        | Error::BlockSelf
        | Error::NotBlocked(_)
        | Error::Offline(_)
        | Error::NoPrivateRequest(_)
        | Error::PrivateNotEnabled(_)
        | Error::NoPrivateSession(_)
        | Error::InvalidPort
        | Error::InvalidPeerKey
        | Error::NoPeerAddress(_)
        | Error::Storage
        // Reliability limits (issue 8).
        | Error::TooManyAccounts
        | Error::RegisterRate
        | Error::LoginRate
        | Error::StorageFull => {
            let text = crate::protocol::line::text::to_string(&Event::Error(e.clone()));
            o.notice(text.trim_end());
        }
        Error::NoRoom(room) => {
            let chan = o.chan(room);
            o.num(ERR_NOSUCHCHANNEL, &[&chan, "No such channel"]);
        }
        Error::InvalidRoomName => o.num(ERR_NOSUCHCHANNEL, &[&target, "No such channel"]),
        Error::NotInThatRoom(room) => {
            let chan = o.chan(room);
            o.num(ERR_NOTONCHANNEL, &[&chan, "You're not on that channel"]);
        }
        Error::NotInRoom => o.num(ERR_NOTONCHANNEL, &[&target, "You're not on that channel"]),
        Error::NotOwner | Error::OwnerImmune => o.num(
            ERR_CHANOPRIVSNEEDED,
            &[&target, "You're not channel operator"],
        ),
        Error::ListFull { room, .. } => {
            let chan = o.chan(room);
            o.num(ERR_BANLISTFULL, &[&chan, "b", "Channel list is full"]);
        }
        Error::TooManyRooms(_) | Error::TooManyOwnRooms(_) => o.num(
            ERR_TOOMANYCHANNELS,
            &[&target, "Too many channels on this server"],
        ),
        Error::NotRoomOperator(room) => {
            let chan = o.chan(room);
            o.num(
                ERR_CHANOPRIVSNEEDED,
                &[&chan, "You're not channel operator"],
            );
        }
        Error::WrongRoomKey(room) => {
            let chan = o.chan(room);
            o.num(ERR_BADCHANNELKEY, &[&chan, "Cannot join channel (+k)"]);
        }
        Error::PrivateRoom(room) => {
            let chan = o.chan(room);
            o.num(ERR_INVITEONLYCHAN, &[&chan, "Cannot join channel (+i)"]);
        }
        Error::BannedFromRoom(room) => {
            let chan = o.chan(room);
            o.num(ERR_BANNEDFROMCHAN, &[&chan, "Cannot join channel (+b)"]);
        }
        Error::CannotSendToRoom(room) => {
            let chan = o.chan(room);
            o.num(ERR_CANNOTSENDTOCHAN, &[&chan, "Cannot send to channel"]);
        }
        Error::NotMember { room, user } => {
            let chan = o.chan(room);
            o.num(
                ERR_USERNOTINCHANNEL,
                &[user, &chan, "They aren't on that channel"],
            );
        }
        Error::RoomExists(_)
        | Error::InvalidAttribute
        | Error::ValueTooLong(_)
        // Issue 17: no numeric says "bad text"; the line protocol's sentence does.
        | Error::InvalidText
        | Error::InvalidKey
        | Error::InvalidMask => {
            let text = crate::protocol::line::text::to_string(&Event::Error(e.clone()));
            o.notice(text.trim_end());
        }
    }
}

fn whois(o: &mut Out<'_, '_>, c: &Card) {
    o.num(
        RPL_WHOISUSER,
        &[&c.name, &c.username, &c.host, "*", &c.realname],
    );
    if !c.rooms.is_empty() {
        let rooms: Vec<String> = c
            .rooms
            .iter()
            .map(|(r, op)| format!("{}#{r}", if *op { "@" } else { "" }))
            .collect();
        o.num(RPL_WHOISCHANNELS, &[&c.name, &rooms.join(" ")]);
    }
    let server = o.v.server;
    o.num(RPL_WHOISSERVER, &[&c.name, server, "chatserver"]);
    if let Some(away) = &c.away {
        o.num(RPL_AWAY, &[&c.name, away]);
    }
}

fn who(o: &mut Out<'_, '_>, room: Option<&str>, c: &Card) {
    let mut flags = String::from(if c.away.is_some() { "G" } else { "H" });
    if c.oper {
        flags.push('*');
    }
    let chan = match room {
        Some(r) => {
            if c.rooms.iter().any(|(cr, op)| &**cr == r && *op) {
                flags.push('@');
            }
            channel(r)
        }
        None => "*".to_string(),
    };
    let server = o.v.server;
    let real = format!("0 {}", c.realname);
    o.num(
        RPL_WHOREPLY,
        &[&chan, &c.username, &c.host, server, &c.name, &flags, &real],
    );
}

/// `353` lines of at most ~400 bytes of names each, then `366` (unless more parts follow).
fn names(
    o: &mut Out<'_, '_>,
    room: &str,
    secret: bool,
    members: &[crate::event::Member],
    partial: bool,
) {
    let chan = channel(room);
    let symbol = if secret { "@" } else { "=" };
    let mut line = String::new();
    for m in members {
        if line.len() > 400 {
            o.num(RPL_NAMREPLY, &[symbol, &chan, &line]);
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        if m.op {
            line.push('@');
        } else if m.voice {
            line.push('+');
        }
        line.push_str(&m.name);
    }
    if !line.is_empty() {
        o.num(RPL_NAMREPLY, &[symbol, &chan, &line]);
    }
    if partial {
        return;
    }
    let chan = match o.v.target {
        Some(t) if t.eq_ignore_ascii_case(&chan) => t.to_string(),
        _ => chan,
    };
    o.num(RPL_ENDOFNAMES, &[&chan, "End of /NAMES list."]);
}
