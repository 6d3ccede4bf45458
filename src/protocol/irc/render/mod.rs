//! Core events as IRC messages (PROTOCOL.md §8's table). Users appear as
//! `nick!nick@<server name>` everywhere (issue 22: one host string in prefixes, WHOIS and WHO),
//! so a channel line is the same bytes for every recipient with the same capabilities and is
//! rendered once per such set; numerics and direct messages name the recipient and are not.
//! With `server-time` every line carries `time=` (a message's own time: an offline message
//! shows when it was sent), with `message-tags` messages carry `msgid=` and relayed client
//! tags, with `account-tag` a logged-in sender's `account=`.
//!
//! Files: this one (the recipient's view, the line writer, dispatch), `rooms.rs` (channel
//! events, names, lists), `users.rs` (cards, WHOIS/WHO/WHOX, WHOWAS, LUSERS, MONITOR, history
//! batches), `errors.rs` (refusals as numerics), `welcome.rs` (001-005 and ISUPPORT).

mod errors;
mod rooms;
mod users;
mod welcome;

pub use welcome::isupport;

use super::caps::{Cap, Caps};
use super::numerics::*;
use super::{tags, Ctx, Purpose};
use crate::event::{Audience, Event, Kind, Meta, Notice, RoomEvent};
use crate::protocol::irc::message::write_message;

/// What rendering needs to know about the recipient.
pub struct View<'a> {
    pub server: &'a str,
    /// `--server-description` (`WHOIS` `312`).
    pub description: &'a str,
    /// The recipient's nick (`*` before it has one).
    pub nick: &'a str,
    pub caps: Caps,
    /// When this rendering happens (Unix ms): the `time=` of lines without a time of their own.
    pub now_ms: u64,
    /// What the command being answered asked for.
    pub ctx: &'a Ctx,
    /// The `ERROR` text when the connection ends.
    pub quit: &'a str,
    /// `MAXLIST` for the welcome's 005.
    pub max_list: usize,
    /// The number of the batch this rendering may open (unique on the connection).
    pub batch: u32,
}

/// Whether `event` renders the same for every IRC recipient with the same render key.
pub fn shareable(event: &Event) -> bool {
    matches!(
        event,
        Event::Presence { .. }
            | Event::Away { .. }
            | Event::SetName { .. }
            | Event::Wallops { .. }
            | Event::Room(
                RoomEvent::Joined { .. }
                    | RoomEvent::Left { .. }
                    | RoomEvent::Quit { .. }
                    | RoomEvent::Chat { .. }
                    | RoomEvent::Kicked { .. }
                    | RoomEvent::TopicSet { .. }
                    | RoomEvent::Changed { .. }
                    | RoomEvent::Invited { .. }
            )
    )
}

/// The line writer for one event.
pub(super) struct Out<'a, 'b> {
    pub v: &'a View<'b>,
    pub out: &'a mut Vec<u8>,
}

impl Out<'_, '_> {
    fn has(&self, cap: Cap) -> bool {
        self.v.caps.has(cap)
    }

    /// Whether a change notification under `cap` (account-notify, away-notify, setname)
    /// reaches this client: a channel peer needs only `cap`; a `watched` one, known through
    /// MONITOR alone, also needs `extended-monitor`.
    fn notified(&self, cap: Cap, watched: bool) -> bool {
        self.has(cap) && (!watched || self.has(Cap::ExtendedMonitor))
    }

    /// The tags every line gets: `time=` now (with `server-time`).
    fn plain_tags(&self) -> tags::Out<'static> {
        tags::Out {
            time: self.has(Cap::ServerTime).then_some(self.v.now_ms),
            ..tags::Out::default()
        }
    }

    /// `[@tags] [:prefix] command params…`.
    pub fn line(&mut self, t: tags::Out<'_>, prefix: Option<&str>, command: &str, params: &[&str]) {
        t.write(self.out);
        write_message(self.out, prefix, command, params);
    }

    /// `:server <numeric> <me> params…`.
    pub fn num(&mut self, numeric: &str, params: &[&str]) {
        let mut all = Vec::with_capacity(params.len() + 1);
        all.push(self.v.nick);
        all.extend_from_slice(params);
        let server = self.v.server;
        self.line(self.plain_tags(), Some(server), numeric, &all);
    }

    /// `:server command params…` (no recipient first).
    pub fn server_line(&mut self, command: &str, params: &[&str]) {
        let server = self.v.server;
        self.line(self.plain_tags(), Some(server), command, params);
    }

    /// A line from user `nick` that is not a message (JOIN, PART, MODE…).
    pub fn by_user(&mut self, nick: &str, command: &str, params: &[&str]) {
        let source = self.source(nick);
        self.line(self.plain_tags(), Some(&source), command, params);
    }

    /// A message from `nick` with its stamp, id, account and relayed tags as the recipient's
    /// capabilities allow.
    pub fn message(&mut self, nick: &str, meta: &Meta, command: &str, params: &[&str]) {
        let account = meta
            .account
            .as_deref()
            .filter(|_| self.has(Cap::AccountTag));
        let tagged = self.has(Cap::MessageTags);
        let t = tags::Out {
            time: self.has(Cap::ServerTime).then_some(meta.stamp.at_ms),
            msgid: (tagged && meta.stamp.id != 0).then_some(meta.stamp.id),
            account,
            relay: meta.relay.as_deref().filter(|_| tagged),
        };
        let source = self.source(nick);
        self.line(t, Some(&source), command, params);
    }

    pub fn source(&self, nick: &str) -> String {
        format!("{nick}!{nick}@{}", self.v.server)
    }

    pub fn notice(&mut self, text: &str) {
        let nick = self.v.nick;
        self.server_line("NOTICE", &[nick, text]);
    }

    pub fn error_line(&mut self, text: &str) {
        self.line(self.plain_tags(), None, "ERROR", &[text]);
    }

    /// The channel a reply is about: as the client wrote it, else `#room`.
    pub fn chan(&self, room: &str) -> String {
        match self.v.ctx.target.as_deref() {
            Some(t) if t.starts_with('#') && t[1..].eq_ignore_ascii_case(room) => t.to_string(),
            _ => format!("#{room}"),
        }
    }

    /// The target the command named, or `*`.
    pub fn target(&self) -> String {
        self.v.ctx.target.as_deref().unwrap_or("*").to_string()
    }
}

/// The IRC form of a message's kind and text: its command and trailing parameter. `None` for
/// tags only (`TAGMSG` has no text).
fn wire_text(meta: &Meta, text: &str) -> (&'static str, Option<String>) {
    match meta.kind {
        Kind::Say => ("PRIVMSG", Some(text.to_string())),
        Kind::Notice => ("NOTICE", Some(text.to_string())),
        Kind::Action => ("PRIVMSG", Some(format!("\u{1}ACTION {text}\u{1}"))),
        Kind::Ctcp => ("PRIVMSG", Some(format!("\u{1}{text}\u{1}"))),
        Kind::CtcpReply => ("NOTICE", Some(format!("\u{1}{text}\u{1}"))),
        Kind::Tags => ("TAGMSG", None),
    }
}

/// Write a message from `from` to `target` (a nick or `#room`).
pub(super) fn message(o: &mut Out<'_, '_>, from: &str, target: &str, text: &str, meta: &Meta) {
    if meta.kind == Kind::Tags && !o.has(Cap::MessageTags) {
        return;
    }
    match wire_text(meta, text) {
        (command, Some(text)) => o.message(from, meta, command, &[target, &text]),
        (command, None) => o.message(from, meta, command, &[target]),
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
        Event::Welcome(_) | Event::GuestWelcome(_) => welcome::welcome(&mut o),
        Event::KeepAlive => {
            let server = v.server;
            o.line(o.plain_tags(), None, "PING", &[server]);
        }
        Event::ServerAnnouncement(text) => o.notice(text),
        Event::Chat {
            from,
            to,
            text,
            meta,
        } => match to {
            Audience::Direct(to) | Audience::Private(to) => message(&mut o, from, to, text, meta),
            // Issue 22: the sender's own copy, for echo-message.
            Audience::Echo(to) if o.has(Cap::EchoMessage) => message(&mut o, from, to, text, meta),
            Audience::Echo(_) => {}
            Audience::Everyone | Audience::Announcement => o.notice(&format!("{from}: {text}")),
        },
        Event::Goodbye => {
            let text = format!("Closing link: ({}) [{}]", v.nick, v.quit);
            o.error_line(&text);
        }
        Event::Notice(n) => notice(&mut o, n),
        Event::Error(_) if v.ctx.purpose == Purpose::Silent => {}
        Event::Error(e) => errors::error(&mut o, e),
        Event::Card(card) => users::whois(&mut o, card),
        Event::Cards { room, cards } => users::who(&mut o, room.as_deref(), cards),
        Event::Room(r) => rooms::room_event(&mut o, r),
        // Issue 22.
        // The client's nick (issue 22: it keeps it when free); before any `NICK`, the
        // account's name, the one it will have unless it sends a free one.
        Event::Authenticated(account) => {
            let nick = if v.nick == "*" { account } else { v.nick };
            let me = format!("{nick}!{nick}@{}", v.server);
            let text = format!("You are now logged in as {account}");
            o.server_line(RPL_LOGGEDIN, &[nick, &me, account, &text]);
            o.server_line(RPL_SASLSUCCESS, &[nick, "SASL authentication successful"]);
        }
        Event::AccountChanged {
            user,
            account,
            watched,
        } => {
            if o.notified(Cap::AccountNotify, *watched) {
                o.by_user(user, "ACCOUNT", &[account]);
            }
        }
        Event::Opered => {
            o.num(RPL_YOUREOPER, &["You are now an IRC operator"]);
            let me = v.nick;
            o.by_user(me, "MODE", &[me, "+o"]);
        }
        Event::ScramChallenge(message) => {
            // IRCv3 SASL: base64 in chunks of 400; a last chunk of exactly 400 is followed by
            // `+`, so the client knows the message is whole.
            let b64 = crate::base64::encode(message.as_bytes());
            for chunk in b64.as_bytes().chunks(400) {
                let chunk = std::str::from_utf8(chunk).unwrap_or_default();
                o.line(o.plain_tags(), None, "AUTHENTICATE", &[chunk]);
            }
            if b64.len().is_multiple_of(400) {
                o.line(o.plain_tags(), None, "AUTHENTICATE", &["+"]);
            }
        }
        Event::Renamed { old, new } => o.by_user(old, "NICK", &[new]),
        Event::Away {
            user,
            message,
            watched,
        } => {
            if o.notified(Cap::AwayNotify, *watched) {
                match message {
                    Some(m) => o.by_user(user, "AWAY", &[m]),
                    None => o.by_user(user, "AWAY", &[]),
                }
            }
        }
        Event::SetName {
            user,
            realname,
            watched,
        } => {
            if o.notified(Cap::Setname, *watched) {
                o.by_user(user, "SETNAME", &[realname]);
            }
        }
        Event::IsAway { user, message } => o.num(RPL_AWAY, &[user, message]),
        Event::Kept(user) => {
            let text = format!(
                "{user} is offline: your message is kept and delivered when {user} logs in"
            );
            o.notice(&text);
        }
        Event::Invitation { by, room, account } => {
            let chan = format!("#{room}");
            let me = v.nick;
            let tags = tags::Out {
                account: account.as_deref().filter(|_| o.has(Cap::AccountTag)),
                ..o.plain_tags()
            };
            let source = o.source(by);
            o.line(tags, Some(&source), "INVITE", &[me, &chan]);
        }
        Event::Monitor { online, users } => users::monitor(&mut o, *online, users),
        Event::MonitorList(names) => users::monitor_list(&mut o, names),
        Event::Found(cards) => users::found(&mut o, cards),
        Event::Whowas { name, past } => users::whowas(&mut o, name, past),
        Event::Lusers(counts) => users::lusers(&mut o, counts),
        Event::Wallops { from, text } => o.by_user(from, "WALLOPS", &[text]),
        Event::Replay {
            target,
            room,
            lines,
        } => users::replay(&mut o, target, *room, lines),
        Event::ReplayTargets(targets) => users::replay_targets(&mut o, targets),
    }
}

fn notice(o: &mut Out<'_, '_>, n: &Notice) {
    if o.v.ctx.purpose == Purpose::Sasl {
        return errors::sasl_refusal(o, n);
    }
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
        Notice::PingTimeout(secs) => {
            o.error_line(&format!("Closing link: Ping timeout: {secs} seconds"))
        }
        Notice::Killed { by, reason } => {
            o.error_line(&format!("Closing link: Killed ({by} ({reason}))"))
        }
    }
}
