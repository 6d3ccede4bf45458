//! Channel commands (PROTOCOL.md §8): `JOIN`, `PART`, `NAMES`, `LIST`, `TOPIC`, `KICK`,
//! `INVITE`, `MODE` (channel and user modes) and `CHATHISTORY`, translated into the one room
//! engine's inputs (`RoomInput`) and the core's history queries. A channel is `#` and a room.

use super::numerics::*;
use super::{Conn, Purpose, TARGMAX_JOIN, TARGMAX_KICK, TARGMAX_NAMES, TARGMAX_PART};
use crate::input::{Conversation, Input, Mark, Replay, RoomChange, RoomInput};
use crate::protocol::irc::message::{channel_room, eq_casefold, Message};
use crate::protocol::irc::tags::parse_msgid;
use crate::protocol::Sink;

impl Conn {
    pub(super) fn join(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let channels = msg.param(0).unwrap_or("");
        if channels == "0" {
            return sink.input(Input::Room(RoomInput::PartAll));
        }
        if !self.targets(sink, msg, TARGMAX_JOIN) {
            return;
        }
        let mut keys = msg.param(1).unwrap_or("").split(',');
        for channel in channels.split(',').filter(|c| !c.is_empty()) {
            let key = keys.next().filter(|k| !k.is_empty());
            match channel_room(channel) {
                Some(room) => {
                    self.context(sink, Some(channel), Purpose::Plain);
                    sink.input(Input::Room(RoomInput::Join {
                        room,
                        key,
                        create: true,
                        current: false,
                    }));
                }
                None => self.numeric(sink, ERR_NOSUCHCHANNEL, &[channel, "No such channel"]),
            }
        }
    }

    pub(super) fn part(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        if !self.targets(sink, msg, TARGMAX_PART) {
            return;
        }
        for channel in msg
            .param(0)
            .unwrap_or("")
            .split(',')
            .filter(|c| !c.is_empty())
        {
            let Some(room) = self.room_named(sink, channel) else {
                continue;
            };
            self.context(sink, Some(channel), Purpose::Plain);
            sink.input(Input::Room(RoomInput::Part {
                room: Some(room),
                reason: msg.param(1).filter(|r| !r.is_empty()),
            }));
        }
    }

    /// `NAMES [#a,#b]`: each channel's members (`TARGMAX=NAMES:4`).
    pub(super) fn names(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        if !self.targets(sink, msg, TARGMAX_NAMES) {
            return;
        }
        let target = msg.param(0).filter(|t| !t.is_empty()).unwrap_or("*");
        let end = "End of /NAMES list.";
        let several = target.split(',').filter(|c| !c.is_empty()).count() > 1;
        for channel in target.split(',').filter(|c| !c.is_empty()) {
            match channel_room(channel) {
                Some(room) => {
                    let purpose = match several {
                        true => Purpose::SeveralNames,
                        false => Purpose::Plain,
                    };
                    self.context(sink, Some(channel), purpose);
                    sink.input(Input::Room(RoomInput::Names { room }));
                }
                None if several => {}
                None => self.numeric(sink, RPL_ENDOFNAMES, &[channel, end]),
            }
        }
        if several {
            self.context(sink, None, Purpose::Plain);
            self.numeric(sink, RPL_ENDOFNAMES, &[target, end]);
        }
    }

    /// `LIST [#a,#b | ELIST filters]`: rooms, filtered as `ELIST=CMNTU` says when rendered.
    pub(super) fn list(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let arg = msg.param(0).filter(|r| !r.is_empty());
        self.numeric(sink, RPL_LISTSTART, &["Channel", "Users  Name"]);
        let named: Vec<&str> = arg
            .map(|a| a.split(',').filter_map(channel_room).collect())
            .unwrap_or_default();
        match arg {
            Some(a) if !named.is_empty() && !a.contains(['*', '?']) => {
                self.context(sink, None, Purpose::Plain);
                for room in named {
                    sink.input(Input::Room(RoomInput::List { room: Some(room) }));
                }
            }
            Some(filter) => {
                self.context(sink, None, Purpose::List(Box::from(filter)));
                sink.input(Input::Room(RoomInput::List { room: None }));
            }
            None => {
                self.context(sink, None, Purpose::Plain);
                sink.input(Input::Room(RoomInput::List { room: None }));
            }
        }
        self.numeric(sink, RPL_LISTEND, &["End of /LIST"]);
    }

    /// The room a channel parameter names, for the core. A word that is no channel name
    /// (`PART den` for `#den`) is answered `403` here: passed on as written, a bare word that
    /// is a room name acted on that room. An empty one goes on as written, for the core's
    /// refusal.
    fn room_named<'m>(&mut self, sink: &mut dyn Sink, channel: &'m str) -> Option<&'m str> {
        match channel_room(channel) {
            Some(room) => Some(room),
            None if channel.is_empty() => Some(channel),
            None => {
                self.numeric(sink, ERR_NOSUCHCHANNEL, &[channel, "No such channel"]);
                None
            }
        }
    }

    pub(super) fn topic(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let channel = msg.param(0).unwrap_or("");
        let Some(room) = self.room_named(sink, channel) else {
            return;
        };
        self.context(sink, Some(channel), Purpose::Plain);
        let room = Some(room);
        sink.input(Input::Room(match msg.param(1) {
            None => RoomInput::ShowTopic { room },
            Some(text) => RoomInput::SetTopic { room, text },
        }));
    }

    /// `KICK #room nick[,nick] [:reason]` (`TARGMAX=KICK:4`).
    pub(super) fn kick(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        if !self.targets(sink, msg, TARGMAX_KICK) {
            return;
        }
        let channels: Vec<&str> = msg.param(0).unwrap_or("").split(',').collect();
        let users = msg
            .param(1)
            .unwrap_or("")
            .split(',')
            .filter(|u| !u.is_empty());
        let reason = msg.param(2).filter(|r| !r.is_empty());
        // RFC 2812: one channel and several users, or as many channels as users, in pairs.
        for (i, user) in users.enumerate() {
            let channel = match channels.len() {
                1 => channels[0],
                _ => match channels.get(i) {
                    Some(c) => c,
                    None => break,
                },
            };
            let Some(room) = self.room_named(sink, channel) else {
                continue;
            };
            self.context(sink, Some(channel), Purpose::Plain);
            sink.input(Input::Room(RoomInput::Kick {
                room: Some(room),
                user,
                reason,
            }));
        }
    }

    /// `INVITE nick #room`.
    pub(super) fn invite(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let (user, channel) = (msg.param(0).unwrap_or(""), msg.param(1).unwrap_or(""));
        let Some(room) = self.room_named(sink, channel) else {
            return;
        };
        self.context(sink, Some(channel), Purpose::Plain);
        sink.input(Input::Room(RoomInput::Invite { room, user }));
    }

    pub(super) fn mode(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let target = msg.param(0).unwrap_or("");
        if target.starts_with('#') {
            return self.channel_mode(msg, sink);
        }
        if !eq_casefold(target, self.me()) {
            let why = "Can't change mode for other users";
            return self.numeric(sink, ERR_USERSDONTMATCH, &[why]);
        }
        let Some(modes) = msg.param(1) else {
            let mut modes = String::from("+");
            modes.extend(
                [(self.invisible, 'i'), (self.wallops, 'w')]
                    .iter()
                    .filter(|m| m.0)
                    .map(|m| m.1),
            );
            return self.numeric(sink, RPL_UMODEIS, &[&modes]);
        };
        let mut on = true;
        let mut applied = String::new();
        let mut sign = ' ';
        for c in modes.chars() {
            let input = match c {
                '+' | '-' => {
                    on = c == '+';
                    continue;
                }
                'i' => {
                    self.invisible = on;
                    Input::Invisible(on)
                }
                'w' => {
                    self.wallops = on;
                    Input::HearWallops(on)
                }
                // Operator status is given by `OPER` only.
                'o' if !on => Input::Deoper,
                'o' => continue,
                _ => {
                    self.numeric(sink, ERR_UMODEUNKNOWNFLAG, &["Unknown MODE flag"]);
                    continue;
                }
            };
            sink.input(input);
            let s = if on { '+' } else { '-' };
            if s != sign {
                applied.push(s);
                sign = s;
            }
            applied.push(c);
        }
        if !applied.is_empty() {
            let (source, me) = (self.source(), self.me().to_string());
            self.raw(sink, Some(&source), "MODE", &[&me, &applied]);
        }
    }

    /// `MODE #room [changes [args…]]`.
    fn channel_mode(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let channel = msg.param(0).unwrap_or("");
        let Some(room) = channel_room(channel) else {
            return self.numeric(sink, ERR_NOSUCHCHANNEL, &[channel, "No such channel"]);
        };
        self.context(sink, Some(channel), Purpose::Plain);
        let Some(modes) = msg.param(1) else {
            return sink.input(Input::Room(RoomInput::Modes { room }));
        };
        let mut args = msg.params.iter().skip(2).copied();
        let mut on = true;
        let mut changes: Vec<RoomChange<'_>> = Vec::new();
        // The ban list is sent once per command, however many `b`s ask for it (`MODE #r
        // bbbb…` asked for it 490 times: 1.7 MB of replies to one 512-byte line).
        let mut listed = false;
        for c in modes.chars() {
            let change = match c {
                '+' | '-' => {
                    on = c == '+';
                    continue;
                }
                'i' => RoomChange::Private(on),
                's' => RoomChange::Secret(on),
                't' => RoomChange::TopicLock(on),
                'n' => RoomChange::NoOutside(on),
                'm' => RoomChange::Moderated(on),
                'l' if on => match args.next() {
                    Some(n) => RoomChange::Limit(Some(n)),
                    None => continue,
                },
                'l' => RoomChange::Limit(None),
                'k' if on => match args.next() {
                    Some(k) => RoomChange::Key(Some(k)),
                    None => continue,
                },
                'k' => {
                    args.next();
                    RoomChange::Key(None)
                }
                'o' | 'v' => match args.next() {
                    Some(user) if c == 'o' => RoomChange::Op(user, on),
                    Some(user) => RoomChange::Voice(user, on),
                    None => continue,
                },
                'b' => match args.next() {
                    Some(mask) => RoomChange::Ban(mask, on),
                    None if listed => continue,
                    None => {
                        listed = true;
                        sink.input(Input::Room(RoomInput::Bans { room }));
                        let end = "End of channel ban list";
                        self.numeric(sink, RPL_ENDOFBANLIST, &[channel, end]);
                        continue;
                    }
                },
                _ => {
                    let flag = c.to_string();
                    self.numeric(
                        sink,
                        ERR_UNKNOWNMODE,
                        &[&flag, "is an unknown mode char to me"],
                    );
                    continue;
                }
            };
            changes.push(change);
        }
        if !changes.is_empty() {
            sink.input(Input::Room(RoomInput::Change {
                room,
                changes: &changes,
            }));
        }
    }

    /// `CHATHISTORY <subcommand> …` (IRCv3 draft/chathistory): a query of the core's history;
    /// a malformed one is `FAIL CHATHISTORY INVALID_PARAMS`.
    pub(super) fn chathistory<'m>(&mut self, msg: &Message<'m>, sink: &mut dyn Sink) {
        let sub = msg.param(0).unwrap_or("").to_ascii_uppercase();
        let Some(sub) = ["LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS"]
            .into_iter()
            .find(|s| *s == sub)
        else {
            let sub = msg.param(0).unwrap_or("");
            let server = self.opts.server.clone();
            return self.raw(
                sink,
                Some(&server),
                "FAIL",
                &["CHATHISTORY", "INVALID_PARAMS", sub, "Unknown subcommand"],
            );
        };
        let p = |i| msg.param(i).unwrap_or("");
        let limit = |s: &str| s.parse::<usize>().ok();
        let with = |t: &'m str| match channel_room(t) {
            Some(room) => Some(Conversation::Room(room)),
            None if t.starts_with('#') || t.is_empty() => None,
            None => Some(Conversation::User(t)),
        };
        let query = match sub {
            "TARGETS" => match (mark(p(1)), mark(p(2)), limit(p(3))) {
                (Some(from), Some(to), Some(limit)) => Some(Replay::Targets { from, to, limit }),
                _ => None,
            },
            "BETWEEN" => match (with(p(1)), mark(p(2)), mark(p(3)), limit(p(4))) {
                (Some(with), Some(from), Some(to), Some(limit)) => Some(Replay::Between {
                    with,
                    from,
                    to,
                    limit,
                }),
                _ => None,
            },
            _ => match (with(p(1)), mark(p(2)), limit(p(3))) {
                (Some(with), Some(at), Some(limit)) => Some(match sub {
                    "LATEST" => Replay::Latest {
                        with,
                        after: at,
                        limit,
                    },
                    "BEFORE" => Replay::Before { with, at, limit },
                    "AFTER" => Replay::After { with, at, limit },
                    _ => Replay::Around { with, at, limit },
                }),
                _ => None,
            },
        };
        match query {
            Some(query) => {
                self.context(sink, msg.param(1), Purpose::History(sub));
                sink.input(Input::Replay(query));
            }
            None if sub != "TARGETS" && with(p(1)).is_none() => {
                let server = self.opts.server.clone();
                let why = "Messages could not be retrieved";
                self.raw(
                    sink,
                    Some(&server),
                    "FAIL",
                    &["CHATHISTORY", "INVALID_TARGET", sub, p(1), why],
                );
            }
            None => {
                let server = self.opts.server.clone();
                let why = "Invalid parameters";
                self.raw(
                    sink,
                    Some(&server),
                    "FAIL",
                    &["CHATHISTORY", "INVALID_PARAMS", sub, why],
                );
            }
        }
    }
}

/// A `CHATHISTORY` reference: `*`, `msgid=…` or `timestamp=…`.
fn mark(s: &str) -> Option<Mark> {
    if s == "*" {
        return Some(Mark::None);
    }
    if let Some(id) = s.strip_prefix("msgid=") {
        return parse_msgid(id).map(Mark::Id);
    }
    let time = s.strip_prefix("timestamp=")?;
    crate::time::parse_rfc3339_utc(time).map(Mark::Time)
}
