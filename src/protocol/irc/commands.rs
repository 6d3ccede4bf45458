//! The registered client's commands (ngIRCd's table, STYLE.md §4): each command's name, its
//! minimum parameters (checked once, `461`), and its handler. Users and the server here;
//! channels in `channels.rs`. Handlers only translate IRC syntax into core inputs; what the
//! codec answers itself goes through [`Conn::numeric`] so it keeps its place in the replies.

use super::caps::Cap;
use super::numerics::*;
use super::{Conn, Note, Purpose, Reg, Whox};
use crate::input::{Input, Kind, MonitorInput, RoomInput};
use crate::protocol::irc::message::{channel_room, eq_casefold, Message};
use crate::protocol::irc::tags;
use crate::protocol::Sink;

type Handler = fn(&mut Conn, &Message<'_>, &mut dyn Sink);

/// `(command, minimum parameters, handler)`.
const COMMANDS: &[(&str, usize, Handler)] = &[
    ("AUTHENTICATE", 1, Conn::late_authenticate),
    ("AWAY", 0, Conn::away),
    ("CAP", 0, Conn::cap_command),
    ("CHATHISTORY", 1, Conn::chathistory),
    ("HELP", 0, Conn::help),
    ("HELPOP", 0, Conn::help),
    ("INFO", 0, Conn::info),
    ("INVITE", 2, Conn::invite),
    ("ISON", 1, Conn::ison),
    ("JOIN", 1, Conn::join),
    ("KICK", 2, Conn::kick),
    ("KILL", 1, Conn::kill),
    ("LINKS", 0, Conn::links),
    ("LIST", 0, Conn::list),
    ("LUSERS", 0, Conn::lusers),
    ("MODE", 1, Conn::mode),
    ("MONITOR", 1, Conn::monitor),
    ("MOTD", 0, Conn::motd),
    ("NAMES", 0, Conn::names),
    ("NICK", 0, Conn::nick_change),
    ("NOTICE", 0, Conn::privmsg),
    ("OPER", 2, Conn::oper),
    ("PART", 1, Conn::part),
    ("PASS", 0, Conn::reregister),
    ("PING", 0, Conn::ping),
    ("PONG", 0, Conn::pong_in),
    ("PRIVMSG", 0, Conn::privmsg),
    ("QUIT", 0, Conn::quit),
    ("SETNAME", 1, Conn::setname),
    ("TAGMSG", 1, Conn::privmsg),
    ("TIME", 0, Conn::time),
    ("TOPIC", 1, Conn::topic),
    ("USER", 0, Conn::reregister),
    ("USERHOST", 1, Conn::userhost),
    ("VERSION", 0, Conn::version),
    ("WALLOPS", 1, Conn::wallops),
    ("WHO", 0, Conn::who),
    ("WHOIS", 1, Conn::whois),
    ("WHOWAS", 1, Conn::whowas),
];

/// The topics `HELP` knows: every command in the table.
pub fn help_topics() -> impl Iterator<Item = &'static str> {
    COMMANDS.iter().map(|(name, _, _)| *name)
}

/// Split a comma list into at most `max` non-empty items.
fn list(s: &str, max: usize) -> Vec<&str> {
    s.split(',').filter(|t| !t.is_empty()).take(max).collect()
}

impl Conn {
    /// A registered client's command: the table's check, then its handler; else `421`.
    pub(super) fn command(&mut self, msg: Message<'_>, sink: &mut dyn Sink) {
        let name = msg.command.as_str();
        match COMMANDS.iter().find(|(n, _, _)| *n == name) {
            Some((_, min, handler)) => {
                if self.need(sink, &msg, *min) {
                    handler(self, &msg, sink);
                }
            }
            None => {
                let name = name.to_string();
                self.numeric(sink, ERR_UNKNOWNCOMMAND, &[&name, "Unknown command"]);
            }
        }
    }

    fn reregister(&mut self, _: &Message<'_>, sink: &mut dyn Sink) {
        self.numeric(sink, ERR_ALREADYREGISTERED, &["You may not reregister"]);
    }

    /// `AUTHENTICATE` after registration (issue 22): a guest may log in to an account and
    /// keep its nick; a session logged in to one already gets `907` at once.
    fn late_authenticate(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        if self.account {
            return self.numeric(sink, ERR_SASLALREADY, &["You have already authenticated"]);
        }
        self.authenticate(sink, msg.param(0).unwrap_or(""));
    }

    fn cap_command(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        self.cap(sink, msg);
    }

    fn ping(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        self.pong(sink, msg);
    }

    fn pong_in(&mut self, _: &Message<'_>, sink: &mut dyn Sink) {
        sink.input(Input::Live);
    }

    fn quit(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let reason = msg.param(0).unwrap_or("");
        // The words as everyone else reads them (the core's rule).
        self.set_quit(&crate::valid::quit_reason(reason));
        self.reg = Reg::Closed;
        sink.input(Input::Quit { reason });
    }

    /// `NICK <new>`: a guest takes another free name; an account's name stays (PROTOCOL.md §8).
    fn nick_change(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let Some(new) = msg.param(0).filter(|n| !n.is_empty()) else {
            return self.numeric(sink, ERR_NONICKNAMEGIVEN, &["No nickname given"]);
        };
        if new == self.me() {
            return;
        }
        if !crate::protocol::irc::message::valid_nick(new) {
            return self.numeric(sink, ERR_ERRONEUSNICKNAME, &[new, "Erroneous nickname"]);
        }
        self.context(sink, Some(new), Purpose::Plain);
        sink.input(Input::Rename { name: new });
    }

    /// `PRIVMSG`, `NOTICE`, `TAGMSG`: one target (`TARGMAX`), a user or `#room`. CTCP ACTION
    /// becomes an action every front-end shows, other CTCP stays IRC's; formatting codes are
    /// dropped before the text enters the core (PROTOCOL.md §8); client-only tags are relayed.
    fn privmsg(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let cmd = msg.command.as_str();
        let tagmsg = cmd == "TAGMSG";
        let notice = cmd == "NOTICE";
        let Some(target) = msg.param(0).filter(|t| !t.is_empty()) else {
            if !notice {
                let why = format!("No recipient given ({cmd})");
                self.numeric(sink, ERR_NORECIPIENT, &[&why]);
            }
            return;
        };
        let raw = if tagmsg {
            ""
        } else {
            msg.param(1).unwrap_or("")
        };
        if raw.is_empty() && !tagmsg {
            if !notice {
                self.numeric(sink, ERR_NOTEXTTOSEND, &["No text to send"]);
            }
            return;
        }
        if target.contains(',') {
            if !notice {
                self.numeric(sink, ERR_TOOMANYTARGETS, &[target, "Too many targets"]);
            }
            return;
        }
        let relay = tags::client_only(msg.tags).filter(|_| self.has(Cap::MessageTags));
        if tagmsg && relay.is_none() {
            return;
        }
        let (kind, text) = match tagmsg {
            true => (Kind::Tags, String::new()),
            false => ctcp(raw, notice),
        };
        if text.is_empty() && !tagmsg {
            if !notice {
                self.numeric(sink, ERR_NOTEXTTOSEND, &["No text to send"]);
            }
            return;
        }
        let purpose = if notice {
            Purpose::Silent
        } else {
            Purpose::Plain
        };
        self.context(sink, Some(target), purpose);
        let relay = relay.as_deref();
        if target.starts_with('#') {
            match channel_room(target) {
                Some(room) => sink.input(Input::Room(RoomInput::Say {
                    room: Some(room),
                    text: &text,
                    kind,
                    relay,
                })),
                None if !notice => {
                    self.numeric(sink, ERR_NOSUCHCHANNEL, &[target, "No such channel"]);
                }
                None => {}
            }
        } else {
            sink.input(Input::Message {
                to: target,
                text: &text,
                kind,
                relay,
            });
        }
    }

    fn whois(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        // `WHOIS server nick` names the server first.
        let nick = msg.param(1).or(msg.param(0)).unwrap_or("");
        self.context(sink, Some(nick), Purpose::Plain);
        sink.input(Input::Whois { name: nick });
        self.numeric(sink, RPL_ENDOFWHOIS, &[nick, "End of /WHOIS list."]);
    }

    fn whowas(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let name = msg.param(0).unwrap_or("");
        let count = msg
            .param(1)
            .and_then(|c| c.parse::<i64>().ok())
            .and_then(|c| usize::try_from(c).ok())
            .filter(|c| *c > 0);
        self.context(sink, Some(name), Purpose::Plain);
        sink.input(Input::Whowas { name, count });
        self.numeric(sink, RPL_ENDOFWHOWAS, &[name, "End of WHOWAS"]);
    }

    /// `WHO <mask> [%fields[,token]]` (WHOX).
    fn who(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let mask = msg.param(0).filter(|m| !m.is_empty()).unwrap_or("*");
        let purpose = match msg.param(1).and_then(|f| f.strip_prefix('%')) {
            Some(spec) => {
                let (fields, token) = spec.split_once(',').unwrap_or((spec, ""));
                Purpose::Whox(Box::new(Whox {
                    fields: Box::from(fields),
                    token: Box::from(token),
                }))
            }
            None => Purpose::Plain,
        };
        self.context(sink, Some(mask), purpose);
        match channel_room(mask) {
            Some(room) => sink.input(Input::Room(RoomInput::Who { room })),
            None if mask.starts_with('#') => {}
            None => sink.input(Input::Who { mask }),
        }
        self.numeric(sink, RPL_ENDOFWHO, &[mask, "End of /WHO list."]);
    }

    fn userhost(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let names: Vec<&str> = msg.params.iter().copied().take(5).collect();
        self.context(sink, None, Purpose::Userhost);
        sink.input(Input::Lookup { names: &names });
    }

    fn ison(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let names: Vec<&str> = msg
            .params
            .iter()
            .flat_map(|p| p.split(' '))
            .take(64)
            .collect();
        self.context(sink, None, Purpose::Ison);
        sink.input(Input::Lookup { names: &names });
    }

    fn away(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let message = msg.param(0).filter(|m| !m.is_empty());
        sink.input(Input::Away { message });
        match message {
            Some(_) => self.numeric(sink, RPL_NOWAWAY, &["You have been marked as away"]),
            None => self.numeric(sink, RPL_UNAWAY, &["You are no longer marked as away"]),
        }
    }

    /// `SETNAME :realname`; an empty one is IRCv3 setname's `FAIL SETNAME INVALID_REALNAME`
    /// (it was answered as text with control characters).
    fn setname(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let realname = msg.param(0).unwrap_or("");
        if realname.is_empty() {
            let server = self.opts.server.clone();
            let fail = ["SETNAME", "INVALID_REALNAME", "Realname is not valid"];
            return self.raw(sink, Some(&server), "FAIL", &fail);
        }
        self.context(sink, None, Purpose::Plain);
        sink.input(Input::SetName { realname });
    }

    /// `MONITOR +|-|C|L|S [targets]`. `+`/`-` without a target is `461`, an unknown
    /// subcommand `400` (what Ergo answers; the monitor spec names no reply for either).
    fn monitor(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let names = list(msg.param(1).unwrap_or(""), 128);
        let sub = msg.param(0).unwrap_or("");
        let input = match sub {
            "" | "+" | "-" if sub.is_empty() || names.is_empty() => {
                let why = "Not enough parameters";
                return self.numeric(sink, ERR_NEEDMOREPARAMS, &["MONITOR", why]);
            }
            "+" => MonitorInput::Add(&names),
            "-" => MonitorInput::Remove(&names),
            "C" | "c" => MonitorInput::Clear,
            "L" | "l" => MonitorInput::List,
            "S" | "s" => MonitorInput::Status,
            _ => {
                let why = "Unknown subcommand";
                return self.numeric(sink, ERR_UNKNOWNERROR, &["MONITOR", sub, why]);
            }
        };
        self.context(sink, msg.param(1), Purpose::Plain);
        sink.input(Input::Monitor(input));
        if matches!(input, MonitorInput::List) {
            self.numeric(sink, RPL_ENDOFMONLIST, &["End of MONITOR list"]);
        }
    }

    fn lusers(&mut self, _: &Message<'_>, sink: &mut dyn Sink) {
        sink.input(Input::Lusers);
    }

    fn motd(&mut self, _: &Message<'_>, sink: &mut dyn Sink) {
        self.numeric(sink, ERR_NOMOTD, &["MOTD File is missing"]);
    }

    /// `OPER <account> <password>`: the core checks that `--operators` names the account and
    /// that the password is its own; then the console's rights (`KILL`, `WALLOPS`).
    fn oper(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let (name, password) = (msg.param(0).unwrap_or(""), msg.param(1).unwrap_or(""));
        self.context(sink, Some(name), Purpose::Plain);
        sink.input(Input::Oper { name, password });
    }

    fn kill(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let user = msg.param(0).unwrap_or("");
        self.context(sink, Some(user), Purpose::Plain);
        let reason = msg.param(1).unwrap_or("");
        sink.input(Input::Kill { user, reason });
    }

    /// `WALLOPS :text`; an empty text is a missing one (`461`: it went to every `+w` user as
    /// an empty line).
    fn wallops(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let Some(text) = msg.param(0).filter(|t| !t.is_empty()) else {
            return self.numeric(
                sink,
                ERR_NEEDMOREPARAMS,
                &["WALLOPS", "Not enough parameters"],
            );
        };
        self.context(sink, None, Purpose::Plain);
        sink.input(Input::Wallops { text });
    }

    /// `TIME`: rendered when it is sent, with the time then.
    fn time(&mut self, _: &Message<'_>, sink: &mut dyn Sink) {
        self.hold(Note::Time, sink);
    }

    fn version(&mut self, _: &Message<'_>, sink: &mut dyn Sink) {
        let server = self.opts.server.clone();
        let version = concat!("chatserver-", env!("CARGO_PKG_VERSION"));
        self.numeric(sink, RPL_VERSION, &[version, &server, "IRCv3 chat server"]);
        let supported = "are supported by this server";
        for chunk in super::render::isupport(self.opts.max_list).chunks(12) {
            let mut params: Vec<&str> = chunk.iter().map(String::as_str).collect();
            params.push(supported);
            self.numeric(sink, RPL_ISUPPORT, &params);
        }
    }

    /// `INFO [server]`.
    fn info(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let server = self.opts.server.clone();
        if let Some(other) = msg.param(0).filter(|s| !self.names_this_server(s)) {
            return self.numeric(sink, ERR_NOSUCHSERVER, &[other, "No such server"]);
        }
        for line in [
            concat!("chatserver ", env!("CARGO_PKG_VERSION")),
            "A single-threaded chat server: line clients, JSON, IRC, one world.",
            &format!("This server is {server}."),
        ] {
            self.numeric(sink, RPL_INFO, &[line]);
        }
        self.numeric(sink, RPL_ENDOFINFO, &["End of INFO list"]);
    }

    /// Whether `name` (a server name or a mask of one) is this server.
    fn names_this_server(&self, name: &str) -> bool {
        crate::valid::glob(name.as_bytes(), self.opts.server.as_bytes())
    }

    /// `LINKS`: this server alone.
    fn links(&mut self, _: &Message<'_>, sink: &mut dyn Sink) {
        let server = self.opts.server.clone();
        let hops_and_description = format!("0 {}", self.opts.description);
        self.numeric(sink, RPL_LINKS, &[&server, &server, &hops_and_description]);
        self.numeric(sink, RPL_ENDOFLINKS, &["*", "End of /LINKS list"]);
    }

    /// `HELP [subject]`: the commands, or one command's line.
    fn help(&mut self, msg: &Message<'_>, sink: &mut dyn Sink) {
        let subject = msg.param(0).unwrap_or("*").to_ascii_uppercase();
        if subject == "*" {
            self.numeric(sink, RPL_HELPSTART, &["*", "chatserver IRC commands"]);
            let names: Vec<&str> = help_topics().collect();
            for chunk in names.chunks(10) {
                self.numeric(sink, RPL_HELPTXT, &["*", &chunk.join(" ")]);
            }
            return self.numeric(sink, RPL_ENDOFHELP, &["*", "End of /HELP"]);
        }
        match help_topics().find(|n| eq_casefold(n, &subject)) {
            Some(name) => {
                let line = format!("{name}: see PROTOCOL.md §8 for what it maps to");
                self.numeric(sink, RPL_HELPSTART, &[name, &format!("Help for {name}")]);
                self.numeric(sink, RPL_HELPTXT, &[name, &line]);
                self.numeric(sink, RPL_ENDOFHELP, &[name, "End of /HELP"]);
            }
            None => self.numeric(sink, ERR_HELPNOTFOUND, &[&subject, "No help for that"]),
        }
    }
}

/// The kind and core text of an IRC message: a CTCP ACTION is an action, other CTCP the CTCP
/// body (a `NOTICE` one a reply), anything else plain text; IRC formatting codes (bold, colour,
/// italics, underline, reverse, monospace, reset) are dropped, with a colour's digits.
fn ctcp(raw: &str, notice: bool) -> (Kind, String) {
    if let Some(body) = raw.strip_prefix('\u{1}') {
        let body = body.strip_suffix('\u{1}').unwrap_or(body);
        return match body.strip_prefix("ACTION") {
            Some(rest) if rest.is_empty() || rest.starts_with(' ') => {
                (Kind::Action, strip_formatting(rest.trim_start_matches(' ')))
            }
            _ if notice => (Kind::CtcpReply, strip_formatting(body)),
            _ => (Kind::Ctcp, strip_formatting(body)),
        };
    }
    let kind = if notice { Kind::Notice } else { Kind::Say };
    (kind, strip_formatting(raw))
}

/// `text` without mIRC formatting codes: `\x02` bold, `\x1d` italics, `\x1f` underline,
/// `\x1e` strike-through, `\x11` monospace, `\x16` reverse, `\x0f` reset, `\x03[fg[,bg]]`
/// colour and `\x04RRGGBB[,RRGGBB]` hex colour.
pub fn strip_formatting(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{2}' | '\u{1d}' | '\u{1f}' | '\u{1e}' | '\u{11}' | '\u{16}' | '\u{f}' => {}
            '\u{3}' | '\u{4}' => {
                let hex = c == '\u{4}';
                let digit = |d: &char| {
                    if hex {
                        d.is_ascii_hexdigit()
                    } else {
                        d.is_ascii_digit()
                    }
                };
                let max = if hex { 6 } else { 2 };
                for part in 0..2 {
                    if part == 1 {
                        let mut ahead = chars.clone();
                        if ahead.next() != Some(',') || !ahead.peek().is_some_and(digit) {
                            break;
                        }
                        chars.next();
                    }
                    let mut n = 0;
                    while n < max && chars.peek().is_some_and(digit) {
                        chars.next();
                        n += 1;
                    }
                    if n == 0 {
                        break;
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}
