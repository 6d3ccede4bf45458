//! The IRC codec (issue 12, PROTOCOL.md §8): RFC 1459/2812 lines of at most 512 bytes (tags
//! ignored) in, core [`Input`]s out; core [`Event`]s in, IRC messages and numerics out
//! (`render.rs`). Registration (`PASS`/`NICK`/`USER`) is the codec's own state machine ending
//! in the core's login (`Input::Login`, or `Input::Guest` with `--irc-guests`). Replies the
//! codec makes itself (`PONG`, syntax numerics, the target of the next error numeric) are held
//! here as typed [`Note`]s; the core only queues a ticket for each ([`Sink::reserve`]), so they
//! keep their place behind the core's replies to earlier lines.

pub mod message;
mod numerics;
mod render;

use super::{flow, Sink};
use crate::event::{Event, Ticket};
use crate::input::{Expect, Input, RoomChange, RoomInput};
use crate::protocol::irc::message::{
    channel_room, valid_nick, write_message, Frame, Framer, Message,
};
use numerics::*;
use std::collections::VecDeque;
use std::sync::Arc;

/// Settings every IRC connection shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrcOptions {
    /// The server's name in prefixes and numerics (`--irc-server-name`).
    pub server: Arc<str>,
    /// `--irc-guests`: a client without `PASS` gets a guest session.
    pub guests: bool,
    /// `OPER` credentials (`--irc-oper`).
    pub oper: Option<(String, String)>,
    /// `--max-list`, advertised as `MAXLIST` (the core enforces it).
    pub max_list: usize,
}

impl Default for IrcOptions {
    fn default() -> IrcOptions {
        IrcOptions {
            server: Arc::from("chatserver"),
            guests: false,
            oper: None,
            max_list: 100,
        }
    }
}

/// Where the connection is in registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reg {
    /// Waiting for `NICK` and `USER`.
    Open,
    /// The core checks the password in steps (issue 21): the welcome, or the refusal, is the
    /// answer; the loop reads nothing meanwhile.
    Pending,
    /// Logged in: commands go to the core.
    Done,
    /// Refused or quitting: input is ignored.
    Closed,
}

/// What the core's next error replies are about (set by a [`Note::Context`], in order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Ctx {
    #[default]
    None,
    /// A `PRIVMSG`/`WHOIS` about this nick or channel.
    Target(Box<str>),
    /// A `NOTICE`: never answered with an error.
    Silent,
}

/// One IRC connection's codec.
#[derive(Debug)]
pub struct IrcCodec {
    framer: Framer,
    st: Conn,
}

/// The codec's state apart from the framer (so a framed line can borrow both).
#[derive(Debug)]
struct Conn {
    opts: Arc<IrcOptions>,
    reg: Reg,
    nick: Option<Box<str>>,
    /// `USER`'s username and realname, until registration hands them to the core.
    user: Option<(Box<str>, Box<str>)>,
    pass: Option<Box<str>>,
    ctx: Ctx,
    quit: Box<str>,
    /// User mode `+i`, as last set.
    invisible: bool,
    /// Replies made here, each waiting for its ticket to come back from the core's queue.
    held: VecDeque<(Ticket, Note)>,
    next_ticket: u32,
}

/// A reply the codec makes itself, held until the core's replies queued before it are out.
#[derive(Debug)]
enum Note {
    /// A whole message (`PONG`, a numeric), rendered when it was made.
    Line(Box<[u8]>),
    /// What the core's error replies after this point are about.
    Context(Ctx),
}

/// `TARGMAX` (advertised in 005 from these): which parameter holds the list, and its bound.
pub const TARGMAX_JOIN: (usize, usize) = (0, 4);
pub const TARGMAX_PART: (usize, usize) = (0, 4);
pub const TARGMAX_KICK: (usize, usize) = (1, 1);

impl IrcCodec {
    pub fn new(opts: Arc<IrcOptions>) -> IrcCodec {
        IrcCodec {
            framer: Framer::default(),
            st: Conn {
                opts,
                reg: Reg::Open,
                nick: None,
                user: None,
                pass: None,
                ctx: Ctx::None,
                quit: Box::from(""),
                invisible: false,
                held: VecDeque::new(),
                next_ticket: 0,
            },
        }
    }

    /// Decode until the sink stops wanting more; returns the bytes consumed.
    pub fn decode(&mut self, data: &[u8], sink: &mut impl Sink) -> usize {
        let st = &mut self.st;
        self.framer.feed_until(data, |f| {
            st.frame(f, sink);
            flow(sink)
        })
    }

    pub fn finish(&mut self, sink: &mut impl Sink) {
        let st = &mut self.st;
        self.framer.finish(|f| st.frame(f, sink));
    }

    /// Render `event` for this connection.
    pub fn encode(&mut self, event: &Event, out: &mut Vec<u8>) {
        if let Event::Reserved(ticket) = event {
            return self.st.redeem(*ticket, out);
        }
        // Issue 21: how a login whose password was checked in steps went.
        if self.st.reg == Reg::Pending {
            match event {
                Event::Welcome => self.st.reg = Reg::Done,
                Event::Notice(_) | Event::Error(_) => {
                    self.st.reg = Reg::Closed;
                    self.st.quit = Box::from("Password incorrect");
                }
                _ => {}
            }
        }
        render::render(&self.st.view(), event, out);
    }

    /// Whether `event` renders the same for every IRC connection: what names the recipient
    /// (numerics, DMs, server notices) does not.
    pub fn shareable(event: &Event) -> bool {
        render::shareable(event)
    }
}

impl Conn {
    fn view(&self) -> render::View<'_> {
        render::View {
            server: &self.opts.server,
            nick: self.nick.as_deref().unwrap_or("*"),
            target: match &self.ctx {
                Ctx::Target(t) => Some(t),
                Ctx::None | Ctx::Silent => None,
            },
            quit: &self.quit,
            silent: self.ctx == Ctx::Silent,
            max_list: self.opts.max_list,
        }
    }

    /// Hold `note` and queue its ticket behind the core's replies so far.
    fn hold(&mut self, note: Note, sink: &mut impl Sink) {
        let ticket = Ticket(self.next_ticket);
        self.next_ticket = self.next_ticket.wrapping_add(1);
        self.held.push_back((ticket, note));
        sink.reserve(ticket);
    }

    /// The core's queue reached `ticket`: apply its note. Notes older than it never came back
    /// (their session ended first) and are dropped; the note itself stays until a newer ticket
    /// comes, so a render retried after a slow-reader flush gives the same bytes.
    fn redeem(&mut self, ticket: Ticket, out: &mut Vec<u8>) {
        while let Some((t, _)) = self.held.front() {
            if t.0.wrapping_sub(ticket.0) as i32 >= 0 {
                break;
            }
            self.held.pop_front();
        }
        match self.held.front() {
            Some((t, Note::Line(bytes))) if *t == ticket => out.extend_from_slice(bytes),
            Some((t, Note::Context(ctx))) if *t == ticket => self.ctx = ctx.clone(),
            _ => {}
        }
    }

    fn me(&self) -> &str {
        self.nick.as_deref().unwrap_or("*")
    }

    /// Queue `:server <command> <me> params…`.
    fn numeric(&mut self, sink: &mut impl Sink, command: &str, params: &[&str]) {
        let mut all: Vec<&str> = Vec::with_capacity(params.len() + 1);
        all.push(self.me());
        all.extend_from_slice(params);
        let mut out = Vec::new();
        write_message(&mut out, Some(&self.opts.server), command, &all);
        self.hold(Note::Line(out.into_boxed_slice()), sink);
    }

    fn raw(&mut self, sink: &mut impl Sink, prefix: Option<&str>, command: &str, params: &[&str]) {
        let mut out = Vec::new();
        write_message(&mut out, prefix, command, params);
        self.hold(Note::Line(out.into_boxed_slice()), sink);
    }

    /// Errors the core answers next are about `target` (or silent, for `NOTICE`).
    fn context(&mut self, sink: &mut impl Sink, target: Option<&str>) {
        let ctx = match target {
            Some(t) => Ctx::Target(Box::from(t)),
            None => Ctx::Silent,
        };
        self.hold(Note::Context(ctx), sink);
    }

    fn frame(&mut self, frame: Frame<'_>, sink: &mut impl Sink) {
        if self.reg == Reg::Closed || sink.expects() == Expect::Nothing {
            return;
        }
        let line = match frame {
            Frame::Line(l) => l,
            Frame::TooLong => {
                return self.numeric(sink, ERR_INPUTTOOLONG, &["Input line was too long"])
            }
        };
        let msg = match Message::parse(&line) {
            Ok(Some(m)) => m,
            Ok(None) => return,
            Err(crate::protocol::irc::message::ParseError::BadCommand) => {
                let word = line.split(' ').find(|w| !w.starts_with([':', '@']));
                let word = word.unwrap_or("");
                return self.numeric(sink, ERR_UNKNOWNCOMMAND, &[word, "Unknown command"]);
            }
            Err(_) => return,
        };
        match self.reg {
            Reg::Open => self.registering(msg, sink),
            Reg::Done => self.command(msg, sink),
            // The loop holds input while a password is checked; nothing arrives here then.
            Reg::Pending | Reg::Closed => {}
        }
    }

    fn need(&mut self, sink: &mut impl Sink, msg: &Message<'_>, n: usize) -> bool {
        let ok = msg.params.len() >= n;
        if !ok {
            let cmd = msg.command.as_str();
            self.numeric(sink, ERR_NEEDMOREPARAMS, &[cmd, "Not enough parameters"]);
        }
        ok
    }

    /// `TARGMAX`: more comma-separated targets than `max` in the first parameter is refused
    /// whole with `407` (F11: `JOIN` took 20 targets although `TARGMAX=JOIN:4`).
    fn targets(
        &mut self,
        sink: &mut impl Sink,
        msg: &Message<'_>,
        (at, max): (usize, usize),
    ) -> bool {
        let list = msg.param(at).unwrap_or("");
        let ok = list.split(',').filter(|t| !t.is_empty()).count() <= max;
        if !ok {
            self.numeric(sink, ERR_TOOMANYTARGETS, &[list, "Too many targets"]);
        }
        ok
    }

    fn pong(&mut self, sink: &mut impl Sink, msg: &Message<'_>) {
        match msg.param(0) {
            Some(token) => {
                let server = self.opts.server.clone();
                self.raw(sink, Some(&server), "PONG", &[&server, token]);
            }
            None => self.numeric(sink, ERR_NOORIGIN, &["No origin specified"]),
        }
    }

    fn cap(&mut self, sink: &mut impl Sink, msg: &Message<'_>) {
        let sub = msg.param(0).unwrap_or("").to_ascii_uppercase();
        let server = &*self.opts.server.clone();
        let me = &*self.me().to_string();
        match sub.as_str() {
            "LS" => self.raw(sink, Some(server), "CAP", &[me, "LS", ""]),
            "LIST" => self.raw(sink, Some(server), "CAP", &[me, "LIST", ""]),
            "REQ" => {
                let caps = msg.param(1).unwrap_or("");
                self.raw(sink, Some(server), "CAP", &[me, "NAK", caps]);
            }
            "END" => {}
            _ => self.numeric(sink, ERR_INVALIDCAPCMD, &[&sub, "Invalid CAP command"]),
        }
    }

    /// Before registration: `PASS`, `NICK`, `USER`, `CAP`, `PING`, `QUIT`.
    fn registering(&mut self, msg: Message<'_>, sink: &mut impl Sink) {
        match msg.command.as_str() {
            "PASS" => {
                if self.need(sink, &msg, 1) {
                    self.pass = msg.param(0).map(Box::from);
                }
            }
            "NICK" => match msg.param(0) {
                None | Some("") => {
                    self.numeric(sink, ERR_NONICKNAMEGIVEN, &["No nickname given"]);
                }
                Some(n) if !valid_nick(n) => {
                    self.numeric(sink, ERR_ERRONEUSNICKNAME, &[n, "Erroneous nickname"]);
                }
                Some(n) => {
                    self.nick = Some(Box::from(n));
                    self.try_register(sink);
                }
            },
            "USER" => {
                let username = msg.param(0).unwrap_or("");
                let realname = msg.param(3).unwrap_or("");
                if msg.params.len() < 4 || username.is_empty() || realname.is_empty() {
                    self.numeric(sink, ERR_NEEDMOREPARAMS, &["USER", "Not enough parameters"]);
                } else if !username.bytes().all(|b| b.is_ascii_graphic()) {
                    self.numeric(sink, ERR_INVALIDUSERNAME, &["Your username is invalid"]);
                    self.refuse(sink, "Invalid username");
                } else {
                    self.user = Some((Box::from(username), Box::from(realname)));
                    self.try_register(sink);
                }
            }
            "CAP" => self.cap(sink, &msg),
            "PING" => self.pong(sink, &msg),
            "PONG" => {}
            "QUIT" => {
                self.reg = Reg::Closed;
                sink.input(Input::Quit { reason: "" });
            }
            _ => self.numeric(sink, ERR_NOTREGISTERED, &["You have not registered"]),
        }
    }

    /// `ERROR` and close, before registration.
    fn refuse(&mut self, sink: &mut impl Sink, why: &str) {
        self.quit = Box::from(why);
        self.reg = Reg::Closed;
        sink.input(Input::Quit { reason: why });
    }

    /// Both `NICK` and `USER` are in: log in (with `PASS`) or start a guest session.
    fn try_register(&mut self, sink: &mut impl Sink) {
        let (Some(nick), Some((username, realname))) = (self.nick.clone(), self.user.clone())
        else {
            return;
        };
        sink.input(Input::Describe {
            username: &username,
            realname: &realname,
        });
        sink.input(Input::NoPresence);
        let with_pass = self.pass.is_some();
        if let Some(password) = self.pass.take() {
            sink.input(Input::Login {
                user: &nick,
                password: &password,
            });
        } else if self.opts.guests {
            sink.input(Input::Guest {
                name: &nick,
                any_free: false,
            });
        } else {
            self.numeric(sink, ERR_PASSWDMISMATCH, &["Password required"]);
            return self.refuse(sink, "Password required");
        }
        match sink.expects() {
            Expect::Command => self.reg = Reg::Done,
            Expect::Pending => self.reg = Reg::Pending,
            Expect::Nothing => self.reg = Reg::Closed,
            // A wrong password ends the connection; a guest nick in use may be changed.
            _ if with_pass => self.refuse(sink, "Password incorrect"),
            _ => self.nick = None,
        }
    }

    /// A registered client's command.
    fn command(&mut self, msg: Message<'_>, sink: &mut impl Sink) {
        let p = |i| msg.param(i).unwrap_or("");
        match msg.command.as_str() {
            "PING" => self.pong(sink, &msg),
            "PONG" => sink.input(Input::Live),
            "CAP" => self.cap(sink, &msg),
            "PASS" | "USER" => {
                self.numeric(sink, ERR_ALREADYREGISTERED, &["You may not reregister"]);
            }
            "NICK" => {
                if msg.param(0).is_none_or(|n| n != self.me()) {
                    self.numeric(sink, ERR_NONICKCHANGE, &["Nick changes are not supported"]);
                }
            }
            "QUIT" => {
                self.quit = Box::from(format!("Quit: {}", p(0)));
                self.reg = Reg::Closed;
                sink.input(Input::Quit { reason: p(0) });
            }
            "PRIVMSG" | "NOTICE" => self.privmsg(&msg, sink),
            "WHOIS" => {
                if !self.need(sink, &msg, 1) {
                    return;
                }
                // `WHOIS server nick` names the server first.
                let nick = msg.param(1).unwrap_or(p(0));
                self.context(sink, Some(nick));
                sink.input(Input::Whois { name: nick });
                self.numeric(sink, RPL_ENDOFWHOIS, &[nick, "End of /WHOIS list."]);
            }
            "WHO" => {
                let mask = if msg.params.is_empty() { "*" } else { p(0) };
                match channel_room(mask) {
                    Some(room) => sink.input(Input::Room(RoomInput::Who { room })),
                    None if mask.starts_with('#') => {}
                    None => sink.input(Input::Who { mask }),
                }
                self.numeric(sink, RPL_ENDOFWHO, &[mask, "End of /WHO list."]);
            }
            "AWAY" => {
                let message = msg.param(0).filter(|m| !m.is_empty());
                sink.input(Input::Away { message });
                match message {
                    Some(_) => self.numeric(sink, RPL_NOWAWAY, &["You have been marked as away"]),
                    None => self.numeric(sink, RPL_UNAWAY, &["You are no longer marked as away"]),
                }
            }
            "OPER" => {
                if !self.need(sink, &msg, 2) {
                    return;
                }
                match &self.opts.oper {
                    Some((n, pw)) if n == p(0) && pw == p(1) => {
                        sink.input(Input::Oper);
                        self.numeric(sink, RPL_YOUREOPER, &["You are now an IRC operator"]);
                    }
                    Some(_) => self.numeric(sink, ERR_PASSWDMISMATCH, &["Password incorrect"]),
                    None => self.numeric(sink, ERR_NOOPERHOST, &["No O-lines for your host"]),
                }
            }
            "MOTD" => self.numeric(sink, ERR_NOMOTD, &["MOTD File is missing"]),
            "MODE" => self.mode(&msg, sink),
            "JOIN" => self.join(&msg, sink),
            "PART" => {
                if self.need(sink, &msg, 1) && self.targets(sink, &msg, TARGMAX_PART) {
                    for channel in p(0).split(',').filter(|c| !c.is_empty()) {
                        self.context(sink, Some(channel));
                        sink.input(Input::Room(RoomInput::Part {
                            room: Some(channel_room(channel).unwrap_or(channel)),
                            reason: msg.param(1).filter(|r| !r.is_empty()),
                        }));
                    }
                }
            }
            "NAMES" => {
                let target = if p(0).is_empty() { "*" } else { p(0) };
                for channel in target.split(',').filter(|c| !c.is_empty()) {
                    match channel_room(channel) {
                        Some(room) => {
                            self.context(sink, Some(channel));
                            sink.input(Input::Room(RoomInput::Names { room }));
                        }
                        None => {
                            let end = "End of /NAMES list.";
                            self.numeric(sink, RPL_ENDOFNAMES, &[channel, end]);
                        }
                    }
                }
            }
            "LIST" => {
                let rooms = msg.param(0).filter(|r| !r.is_empty());
                self.numeric(sink, RPL_LISTSTART, &["Channel", "Users  Name"]);
                match rooms {
                    None => sink.input(Input::Room(RoomInput::List { room: None })),
                    Some(list) => {
                        for room in list.split(',').filter_map(channel_room) {
                            let room = Some(room);
                            sink.input(Input::Room(RoomInput::List { room }));
                        }
                    }
                }
                self.numeric(sink, RPL_LISTEND, &["End of /LIST"]);
            }
            "TOPIC" => {
                if self.need(sink, &msg, 1) {
                    self.context(sink, Some(p(0)));
                    let room = Some(channel_room(p(0)).unwrap_or(p(0)));
                    sink.input(Input::Room(match msg.param(1) {
                        None => RoomInput::ShowTopic { room },
                        Some(text) => RoomInput::SetTopic { room, text },
                    }));
                }
            }
            "KICK" => {
                if self.need(sink, &msg, 2) && self.targets(sink, &msg, TARGMAX_KICK) {
                    self.context(sink, Some(p(0)));
                    let reason = msg.param(2).filter(|r| !r.is_empty());
                    for user in p(1).split(',').filter(|u| !u.is_empty()) {
                        sink.input(Input::Room(RoomInput::Kick {
                            room: Some(channel_room(p(0)).unwrap_or(p(0))),
                            user,
                            reason,
                        }));
                    }
                }
            }
            other => {
                let other = other.to_string();
                self.numeric(sink, ERR_UNKNOWNCOMMAND, &[&other, "Unknown command"]);
            }
        }
    }

    fn privmsg(&mut self, msg: &Message<'_>, sink: &mut impl Sink) {
        let notice = msg.command == "NOTICE";
        let cmd = msg.command.as_str();
        let (Some(target), Some(text)) = (msg.param(0), msg.param(1)) else {
            if !notice {
                match msg.param(0) {
                    None => {
                        let why = format!("No recipient given ({cmd})");
                        self.numeric(sink, ERR_NORECIPIENT, &[&why]);
                    }
                    Some(_) => self.numeric(sink, ERR_NOTEXTTOSEND, &["No text to send"]),
                }
            }
            return;
        };
        if text.is_empty() {
            if !notice {
                self.numeric(sink, ERR_NOTEXTTOSEND, &["No text to send"]);
            }
            return;
        }
        if target.contains(',') {
            // TARGMAX=PRIVMSG:1,NOTICE:1.
            if !notice {
                self.numeric(sink, ERR_TOOMANYTARGETS, &[target, "Too many targets"]);
            }
            return;
        }
        if notice {
            self.context(sink, None);
        } else {
            self.context(sink, Some(target));
        }
        if target.starts_with('#') {
            match channel_room(target) {
                Some(room) => {
                    let room = Some(room);
                    sink.input(Input::Room(RoomInput::Say { room, text, notice }));
                }
                None if !notice => {
                    self.numeric(sink, ERR_NOSUCHCHANNEL, &[target, "No such channel"]);
                }
                None => {}
            }
        } else if crate::protocol::irc::message::eq_casefold(target, self.me()) {
            // To oneself: the core refuses self-messages; IRC echoes them.
            let me = self.me().to_string();
            let prefix = format!("{me}!{me}@{}", self.opts.server);
            self.raw(sink, Some(&prefix), cmd, &[&me, text]);
        } else {
            sink.input(Input::Message { to: target, text });
        }
    }

    fn join(&mut self, msg: &Message<'_>, sink: &mut impl Sink) {
        if !self.need(sink, msg, 1) {
            return;
        }
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
                    self.context(sink, Some(channel));
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

    fn mode(&mut self, msg: &Message<'_>, sink: &mut impl Sink) {
        if !self.need(sink, msg, 1) {
            return;
        }
        let target = msg.param(0).unwrap_or("");
        if target.starts_with('#') {
            return self.channel_mode(msg, sink);
        }
        if !crate::protocol::irc::message::eq_casefold(target, self.me()) {
            let why = "Can't change mode for other users";
            return self.numeric(sink, ERR_USERSDONTMATCH, &[why]);
        }
        let Some(modes) = msg.param(1) else {
            let modes = if self.invisible { "+i" } else { "+" };
            return self.numeric(sink, RPL_UMODEIS, &[modes]);
        };
        let mut on = true;
        let mut applied = String::new();
        for c in modes.chars() {
            match c {
                '+' | '-' => on = c == '+',
                'i' => {
                    self.invisible = on;
                    sink.input(Input::Invisible(on));
                    applied.push(if on { '+' } else { '-' });
                    applied.push('i');
                }
                _ => self.numeric(sink, ERR_UMODEUNKNOWNFLAG, &["Unknown MODE flag"]),
            }
        }
        if !applied.is_empty() {
            let me = self.me().to_string();
            let prefix = format!("{me}!{me}@{}", self.opts.server);
            self.raw(sink, Some(&prefix), "MODE", &[&me, &applied]);
        }
    }

    /// `MODE #room [changes [args…]]`.
    fn channel_mode(&mut self, msg: &Message<'_>, sink: &mut impl Sink) {
        let channel = msg.param(0).unwrap_or("");
        let Some(room) = channel_room(channel) else {
            return self.numeric(sink, ERR_NOSUCHCHANNEL, &[channel, "No such channel"]);
        };
        self.context(sink, Some(channel));
        let Some(modes) = msg.param(1) else {
            return sink.input(Input::Room(RoomInput::Modes { room }));
        };
        let mut args = msg.params.iter().skip(2).copied();
        let mut on = true;
        let mut changes: Vec<RoomChange<'_>> = Vec::new();
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
                    None => {
                        sink.input(Input::Room(RoomInput::Bans { room }));
                        let end = "End of channel ban list";
                        self.numeric(sink, RPL_ENDOFBANLIST, &[channel, end]);
                        continue;
                    }
                },
                _ => {
                    let flag = c.to_string();
                    self.numeric(sink, "472", &[&flag, "is an unknown mode char to me"]);
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
}

#[cfg(test)]
mod tests;
