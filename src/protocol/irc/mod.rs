//! The IRC codec (issue 12, issue 22; PROTOCOL.md §8): IRC lines (RFC 1459/2812 with IRCv3
//! tags) in, core [`Input`]s out; core [`Event`]s in, IRC messages and numerics out
//! (`render/`). Registration (`CAP`, `AUTHENTICATE`, `PASS`/`NICK`/`USER`) is the codec's own
//! state machine ending in the core's login (`register.rs`); a command table dispatches the
//! rest (`commands.rs`, `channels.rs`). Replies the codec makes itself (`PONG`, syntax
//! numerics), the context of the core's next replies (the target of an error numeric, the
//! `WHOX` fields) and the bounds of a labeled response are held here as typed [`Note`]s; the
//! core only queues a ticket for each ([`Sink::reserve`]), so they keep their place behind the
//! core's replies to earlier lines. Capabilities (`caps.rs`) only change how this codec
//! renders: the core never learns them.

mod caps;
mod channels;
mod commands;
mod labels;
pub mod message;
mod numerics;
mod register;
mod render;
mod sasl;
pub mod tags;

use super::{flow, Sink};
use crate::event::{Audience, Error, Event, Notice, Ticket};
use crate::input::Expect;
use crate::protocol::irc::message::{write_message, Frame, Framer, Message};
use caps::{Cap, Caps};
use labels::Capture;
use numerics::*;
use sasl::Sasl;
use std::collections::VecDeque;
use std::sync::Arc;

/// Settings every IRC connection shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrcOptions {
    /// The server's name in prefixes and numerics (`--irc-server-name`), and the host shown
    /// for every user (issue 22: one host string in prefixes, WHOIS and WHO).
    pub server: Arc<str>,
    /// `--server-description`: shown by `LINKS` and `WHOIS` (`312`).
    pub description: Arc<str>,
    /// `--irc-guests`: a client without `PASS` or SASL gets a guest session.
    pub guests: bool,
    /// `--max-list`, advertised as `MAXLIST` (the core enforces it).
    pub max_list: usize,
}

impl Default for IrcOptions {
    fn default() -> IrcOptions {
        IrcOptions {
            server: Arc::from("chatserver"),
            description: Arc::from("chatserver"),
            guests: false,
            max_list: 100,
        }
    }
}

/// Where the connection is in registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reg {
    /// Waiting for `NICK`, `USER` and, once `CAP` was used, `CAP END`.
    Open,
    /// The core checks a password in steps (issue 21), or the login's verdict is on its way:
    /// the welcome, or the refusal, is the answer.
    Pending,
    /// Logged in: commands go to the core.
    Done,
    /// Refused or quitting: input is ignored.
    Closed,
}

/// What the core's next replies are about (set by a [`Note::Context`], in order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Ctx {
    /// The nick or channel the command named, as written (error numerics echo it).
    target: Option<Box<str>>,
    /// How replies read.
    purpose: Purpose,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Purpose {
    #[default]
    Plain,
    /// A `NOTICE`: never answered with an error.
    Silent,
    /// `AUTHENTICATE`: the core's login verdict reads as SASL numerics.
    Sasl,
    /// `USERHOST`: found users as `302`.
    Userhost,
    /// `ISON`: found users as `303`.
    Ison,
    /// `WHO <mask> %fields[,token]`: cards as `354` with these fields (boxed: the context
    /// lives on every connection, and this is its largest kind).
    Whox(Box<Whox>),
    /// `CHATHISTORY <subcommand>`: a refusal is `FAIL CHATHISTORY …`.
    History(&'static str),
    /// `LIST <ELIST filters>`: only the rooms they match are shown.
    List(Box<str>),
    /// `NAMES` of several channels: `353`s only; the codec ends them with one `366` naming
    /// them all (issue 22, the modern spec's form).
    SeveralNames,
}

/// The fields of a `WHOX` query (`WHO <mask> %fields[,token]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Whox {
    fields: Box<str>,
    token: Box<str>,
}

/// One IRC connection's codec. Every connection pays for it while idle (issue 22's target:
/// 800 B per idle IRC connection), so what only registration, a labeled command or replies in
/// flight use is boxed apart and dropped after use: the codec fits a 128-byte heap block
/// (`tests::codec_stays_small` pins the sizes).
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
    /// The capabilities replies are rendered with: those in effect when the command being
    /// answered was read (changed by a [`Note::Caps`], in order).
    caps: Caps,
    /// The capabilities as negotiated by the lines read so far (what the next line sees).
    asked: Caps,
    /// `CAP LS 302` was sent: values in `LS`, cap-notify on.
    v302: bool,
    /// Logged in to an account (not a guest): `AUTHENTICATE` is `907` (issue 22).
    account: bool,
    /// `CAP` was used before registration ended: it waits for `CAP END`.
    negotiating: bool,
    /// The nick; once logged in, the core's own copy of the name (no block of its own).
    nick: Option<Arc<str>>,
    /// What registration collects, until it ends (then `None`: an idle client does not keep
    /// its `USER` strings or a SASL buffer).
    registration: Option<Box<Registration>>,
    /// An `AUTHENTICATE` exchange reached the core: registration then ends with
    /// `Input::Enter`, not `PASS`'s login.
    sasl_used: bool,
    /// Replies in flight (`None` when nothing is held and the context is the default).
    replies: Option<Box<Replies>>,
    /// A line read set a context for the core's replies: the next line read clears it first
    /// (a numeric must never take its parameters from an earlier command's, or from
    /// registration's, context).
    ctx_held: bool,
    /// User modes `+i` and `+w`, as last set.
    invisible: bool,
    wallops: bool,
    next_ticket: u32,
    /// A labeled command's replies, collected until its end (`labels.rs`).
    capture: Option<Box<Capture>>,
    /// Batches opened so far (their ids).
    batches: u32,
}

/// What the codec holds between a command and the core's replies to it. Boxed and dropped
/// when empty: an idle connection has nothing in flight, and before this box its context,
/// its held queue and the quit word cost 88 bytes inline and a block for the context's target.
#[derive(Debug, Default)]
struct Replies {
    /// What the core's next replies are about (set by a [`Note::Context`], in order).
    ctx: Ctx,
    /// Replies made here, each waiting for its ticket to come back from the core's queue.
    held: VecDeque<(Ticket, Note)>,
    /// The `ERROR` text when the connection ends (empty until it does).
    quit: Box<str>,
}

impl Replies {
    fn is_empty(&self) -> bool {
        self.held.is_empty() && self.ctx == Ctx::default() && self.quit.is_empty()
    }
}

/// The context of a connection with no replies in flight.
static PLAIN: Ctx = Ctx {
    target: None,
    purpose: Purpose::Plain,
};

/// What registration collects before the core's login.
#[derive(Debug, Default)]
struct Registration {
    /// `USER`'s username and realname, handed to the core at registration.
    user: Option<(Box<str>, Box<str>)>,
    pass: Option<Box<str>>,
    sasl: Sasl,
}

/// A reply the codec makes itself, held until the core's replies queued before it are out.
#[derive(Debug)]
enum Note {
    /// A whole message without tags (`PONG`, a numeric), rendered when it was made.
    Line(Box<[u8]>),
    /// What the core's replies after this point are about.
    Context(Ctx),
    /// A command with this `label` begins: its replies are collected (`true`: only replies,
    /// see [`Capture::replies_only`]).
    Label(Box<str>, bool),
    /// The labeled command's replies are over.
    EndLabel,
    /// `TIME`: `391` with the time it is sent.
    Time,
    /// `CAP REQ` (or `LS 302`'s cap-notify): the replies after this point render with these.
    Caps(Caps),
}

/// `TARGMAX` (advertised in 005 from these): which parameter holds the list, and its bound.
pub const TARGMAX_JOIN: (usize, usize) = (0, 4);
pub const TARGMAX_PART: (usize, usize) = (0, 4);
pub const TARGMAX_KICK: (usize, usize) = (1, 4);
pub const TARGMAX_NAMES: (usize, usize) = (0, 4);

impl IrcCodec {
    pub fn new(opts: Arc<IrcOptions>) -> IrcCodec {
        IrcCodec {
            framer: Framer::default(),
            st: Conn {
                opts,
                reg: Reg::Open,
                caps: Caps::default(),
                asked: Caps::default(),
                v302: false,
                account: false,
                negotiating: false,
                nick: None,
                registration: None,
                sasl_used: false,
                replies: None,
                ctx_held: false,
                invisible: false,
                wallops: false,
                next_ticket: 0,
                capture: None,
                batches: 0,
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

    /// Render `event` for this connection at `now_ms`.
    pub fn encode(&mut self, event: &Event, now_ms: u64, out: &mut Vec<u8>) {
        if let Event::Reserved(ticket) = event {
            return self.st.redeem(*ticket, now_ms, out);
        }
        self.st.follow(event);
        // A message delivered to this user is no reply, even when it is the labeled command's
        // own message to itself (issue 22: the echo carries the label, the delivery does not).
        let delivery = matches!(
            event,
            Event::Chat {
                to: Audience::Direct(_),
                ..
            }
        );
        match self.st.capture.take() {
            Some(capture) if delivery || (capture.replies_only && render::shareable(event)) => {
                self.st.capture = Some(capture);
                render::render(&self.st.view(now_ms), event, out);
            }
            Some(mut capture) => {
                render::render(&self.st.view(now_ms), event, &mut capture.buf);
                let next = self.st.batches.wrapping_add(1);
                let st = &mut self.st;
                if capture.spill(&st.opts.server, st.caps, next, now_ms, out) {
                    st.batches = next;
                }
                self.st.capture = Some(capture);
            }
            None => render::render(&self.st.view(now_ms), event, out),
        }
        self.st.rendered(event);
    }

    /// Whether `event` renders the same for every IRC connection with the same
    /// [`IrcCodec::render_key`]: what names the recipient (numerics, DMs, server notices) does
    /// not, and nothing does while a labeled response is collected.
    pub fn shareable(&self, event: &Event) -> bool {
        self.st.capture.is_none() && render::shareable(event)
    }

    /// Which shared rendering this connection can copy (issue 22: one per distinct set of
    /// the capabilities that shape fan-out lines).
    pub fn render_key(&self) -> u32 {
        self.st.caps.render_key()
    }
}

impl Conn {
    /// How this connection sees a rendering at `now_ms` (Unix ms: the `server-time` of what
    /// has no stamp of its own).
    fn view(&self, now_ms: u64) -> render::View<'_> {
        render::View {
            server: &self.opts.server,
            description: &self.opts.description,
            nick: self.nick.as_deref().unwrap_or("*"),
            caps: self.caps,
            now_ms,
            ctx: self.ctx(),
            quit: self.replies.as_ref().map_or("", |r| &r.quit),
            max_list: self.opts.max_list,
            batch: self.batches,
        }
    }

    /// What the codec learns from the core's events before rendering them: the name it is
    /// logged in as, how a login or a SASL exchange went, a new nick.
    fn follow(&mut self, event: &Event) {
        match event {
            Event::Replay { .. } | Event::ReplayTargets(_) => {
                self.batches = self.batches.wrapping_add(1);
            }
            // Registration's replies end here; the login's context (its nick, for a refusal)
            // has done its work, so an idle client keeps none.
            Event::Welcome(name) | Event::GuestWelcome(name) => {
                self.account = matches!(event, Event::Welcome(_));
                self.nick = Some(name.clone());
                self.reg = Reg::Done;
                self.set_ctx(Ctx::default());
            }
            // The nick stays the client's (issue 22); after registration the exchange's state
            // goes.
            Event::Authenticated(_) if self.reg == Reg::Done => {
                self.account = true;
                self.registration = None;
            }
            Event::Authenticated(_) => {
                if let Some(r) = self.registration.as_mut() {
                    r.sasl = Sasl::Done;
                }
            }
            Event::Renamed { old, new } if self.nick.as_deref() == Some(&**old) => {
                self.nick = Some(new.clone());
            }
            Event::Notice(Notice::BadPassword | Notice::NowLocked | Notice::StillLocked)
            | Event::Error(_)
                if self.ctx().purpose == Purpose::Sasl =>
            {
                if self.reg == Reg::Done {
                    self.registration = None;
                } else if let Some(r) = self.registration.as_mut() {
                    r.sasl = Sasl::Idle;
                }
            }
            // Issue 22: a second login is refused with its reason, never "Password incorrect".
            Event::Error(Error::AlreadyLoggedIn(user)) if self.ctx().purpose != Purpose::Sasl => {
                self.set_quit(&format!("{user} is already logged in"));
            }
            Event::Error(Error::PasswordRequired) => {
                self.reg = Reg::Closed;
                self.set_quit("Password required");
            }
            // Issue 21: how a login whose password was checked in steps went.
            Event::Notice(_) | Event::Error(_) if self.reg == Reg::Pending => {
                self.reg = Reg::Closed;
                self.set_quit("Password incorrect");
            }
            _ => {}
        }
    }

    /// What the codec learns from an event once it is rendered: a SASL exchange's verdict
    /// (success, or a refusal read as `904`) ends its context, before registration or after
    /// it, so what comes later with no line in between (a ping or registration timeout, a
    /// shutdown) reads as itself, not as a SASL failure.
    fn rendered(&mut self, event: &Event) {
        let verdict = matches!(
            event,
            Event::Authenticated(_)
                | Event::Error(_)
                | Event::Notice(Notice::BadPassword | Notice::NowLocked | Notice::StillLocked)
        );
        if verdict && self.ctx().purpose == Purpose::Sasl {
            self.set_ctx(Ctx::default());
        }
    }

    /// What the core's replies are about now.
    fn ctx(&self) -> &Ctx {
        self.replies.as_ref().map_or(&PLAIN, |r| &r.ctx)
    }

    fn replies(&mut self) -> &mut Replies {
        self.replies.get_or_insert_with(Box::default)
    }

    /// Drop the replies' box once nothing is in it.
    fn tidy(&mut self) {
        if self.replies.as_ref().is_some_and(|r| r.is_empty()) {
            self.replies = None;
        }
    }

    fn set_ctx(&mut self, ctx: Ctx) {
        if ctx != *self.ctx() {
            self.replies().ctx = ctx;
            self.tidy();
        }
    }

    fn set_quit(&mut self, why: &str) {
        self.replies().quit = Box::from(why);
    }

    /// Hold `note` and queue its ticket behind the core's replies so far.
    fn hold(&mut self, note: Note, sink: &mut dyn Sink) {
        let ticket = Ticket(self.next_ticket);
        self.next_ticket = self.next_ticket.wrapping_add(1);
        self.replies().held.push_back((ticket, note));
        sink.reserve(ticket);
    }

    /// The core's queue reached `ticket`: apply its note. Notes older than it never came back
    /// (their session ended first) and are dropped; the note itself stays until a newer ticket
    /// comes, so a render retried after a slow-reader flush gives the same bytes.
    fn redeem(&mut self, ticket: Ticket, now_ms: u64, out: &mut Vec<u8>) {
        let Some(replies) = self.replies.as_mut() else {
            return;
        };
        let held = &mut replies.held;
        while let Some((t, _)) = held.front() {
            if t.0.wrapping_sub(ticket.0) as i32 >= 0 {
                break;
            }
            held.pop_front();
        }
        if held.len() == 1 && held.capacity() > 1 {
            // The note kept for a retried render alone: give back the rest of the buffer.
            held.shrink_to_fit();
        }
        let front = match held.front() {
            Some((t, _)) if *t != ticket => return,
            Some((_, note)) => note,
            None => {
                replies.held = VecDeque::new();
                return self.tidy();
            }
        };
        match front {
            Note::Line(bytes) => {
                let bytes = bytes.clone();
                let time = self.caps.has(Cap::ServerTime).then_some(now_ms);
                let sink = match self.capture.as_mut() {
                    Some(c) => &mut c.buf,
                    None => out,
                };
                tags::Out {
                    time,
                    ..Default::default()
                }
                .write(sink);
                sink.extend_from_slice(&bytes);
            }
            // Applying one again changes nothing, so it need not stay for a retried render.
            Note::Context(ctx) => {
                replies.ctx = ctx.clone();
                self.forget_front();
            }
            Note::Caps(caps) => {
                self.caps = *caps;
                self.forget_front();
            }
            Note::Time => {
                let (server, me, now) = (self.opts.server.clone(), self.me().to_string(), now_ms);
                let secs = (now / 1000).to_string();
                let human = crate::time::rfc3339_utc(now);
                let mut line = Vec::new();
                let time = self.caps.has(Cap::ServerTime).then_some(now);
                tags::Out {
                    time,
                    ..Default::default()
                }
                .write(&mut line);
                write_message(
                    &mut line,
                    Some(&server),
                    RPL_TIME,
                    &[&me, &server, &secs, "0", &human],
                );
                match self.capture.as_mut() {
                    Some(c) => c.buf.extend_from_slice(&line),
                    None => out.extend_from_slice(&line),
                }
            }
            Note::Label(label, replies_only) => {
                if self.capture.is_none() {
                    self.capture = Some(Box::new(Capture::new(label, *replies_only)));
                }
                self.forget_front();
            }
            Note::EndLabel => {
                if let Some(capture) = self.capture.take() {
                    self.batches = self.batches.wrapping_add(1);
                    let server = self.opts.server.clone();
                    capture.finish(&server, self.caps, self.batches, now_ms, out);
                }
            }
        }
    }

    /// Drop the note just applied (one whose render makes no bytes); an emptied queue gives
    /// its buffer back, so an idle connection holds none.
    fn forget_front(&mut self) {
        if let Some(replies) = self.replies.as_mut() {
            replies.held.pop_front();
            if replies.held.is_empty() {
                replies.held = VecDeque::new();
            }
        }
        self.tidy();
    }

    /// Registration's state, made on first use.
    fn registration(&mut self) -> &mut Registration {
        self.registration.get_or_insert_with(Box::default)
    }

    fn me(&self) -> &str {
        self.nick.as_deref().unwrap_or("*")
    }

    /// Queue `:server <command> <me> params…`.
    fn numeric(&mut self, sink: &mut dyn Sink, command: &str, params: &[&str]) {
        let mut all: Vec<&str> = Vec::with_capacity(params.len() + 1);
        all.push(self.me());
        all.extend_from_slice(params);
        let mut out = Vec::new();
        write_message(&mut out, Some(&self.opts.server), command, &all);
        self.hold(Note::Line(out.into_boxed_slice()), sink);
    }

    /// Queue `[:prefix] <command> params…` as written.
    fn raw(&mut self, sink: &mut dyn Sink, prefix: Option<&str>, command: &str, params: &[&str]) {
        let mut out = Vec::new();
        write_message(&mut out, prefix, command, params);
        self.hold(Note::Line(out.into_boxed_slice()), sink);
    }

    /// `nick!nick@server`: how this connection's user appears.
    fn source(&self) -> String {
        let me = self.me();
        format!("{me}!{me}@{}", self.opts.server)
    }

    /// The core's next replies are about `target`, read as `purpose` says.
    fn context(&mut self, sink: &mut dyn Sink, target: Option<&str>, purpose: Purpose) {
        let ctx = Ctx {
            target: target.map(Box::from),
            purpose,
        };
        self.ctx_held = true;
        self.hold(Note::Context(ctx), sink);
    }

    /// The core's next replies are about nothing a line named (if a context was set).
    fn clear_context(&mut self, sink: &mut dyn Sink) {
        if std::mem::take(&mut self.ctx_held) {
            self.hold(Note::Context(Ctx::default()), sink);
        }
    }

    /// One framed line: answered here, or translated into core inputs. A line that made no
    /// input still costs the command penalty (`Sink::answered`): `PING`s before registration,
    /// `461`s and `412`s were free, 60,000 of them answered in a third of a second.
    fn frame(&mut self, frame: Frame<'_>, sink: &mut dyn Sink) {
        if self.reg == Reg::Closed || sink.expects() == Expect::Nothing {
            return;
        }
        let mut counted = Counted {
            sink: &mut *sink,
            inputs: 0,
        };
        self.message(frame, &mut counted);
        if counted.inputs == 0 {
            sink.answered();
        }
    }

    fn message(&mut self, frame: Frame<'_>, sink: &mut dyn Sink) {
        self.clear_context(sink);
        let line = match frame {
            Frame::Line(l) => l,
            Frame::TooLong { label } => {
                let label = self.label(sink, label, false);
                self.numeric(sink, ERR_INPUTTOOLONG, &["Input line was too long"]);
                return self.end_label(label, sink);
            }
            Frame::NotUtf8 { command, label } => {
                let label = self.label(sink, label, false);
                let server = self.opts.server.clone();
                let why = "Message rejected, your IRC software MUST use UTF-8";
                let fail = ["FAIL", &command, "INVALID_UTF8", why];
                self.raw(sink, Some(&server), fail[0], &fail[1..]);
                return self.end_label(label, sink);
            }
        };
        let msg = match Message::parse(&line) {
            Ok(Some(m)) => m,
            Ok(None) => return,
            Err(crate::protocol::irc::message::ParseError::BadCommand) => {
                let word = line.split(' ').find(|w| !w.starts_with([':', '@']));
                let word = word.unwrap_or("");
                let raw_tags = line.strip_prefix('@').and_then(|l| l.split(' ').next());
                let label = self.label(sink, raw_tags.unwrap_or(""), false);
                self.numeric(sink, ERR_UNKNOWNCOMMAND, &[word, "Unknown command"]);
                return self.end_label(label, sink);
            }
            Err(_) => return,
        };
        // Commands whose verdict may wait for a password hashed in steps, while other users'
        // lines reach this connection (see `Capture::replies_only`).
        let replies_only =
            self.reg == Reg::Open || matches!(msg.command.as_str(), "AUTHENTICATE" | "OPER");
        let label = self.label(sink, msg.tags, replies_only);
        match self.reg {
            Reg::Open => self.registering(msg, sink),
            Reg::Done => self.command(msg, sink),
            // The loop holds input while a password is checked; nothing arrives here then.
            Reg::Pending | Reg::Closed => {}
        }
        self.end_label(label, sink);
    }

    /// The end of a labeled command's replies (`label`: it had one).
    fn end_label(&mut self, label: bool, sink: &mut dyn Sink) {
        if label {
            self.hold(Note::EndLabel, sink);
        }
    }

    /// Issue 22, labeled-response: a command with a `label` tag has its replies collected
    /// from here to a [`Note::EndLabel`]; true if it has one.
    fn label(&mut self, sink: &mut dyn Sink, raw_tags: &str, replies_only: bool) -> bool {
        let label = tags::get(raw_tags, "label")
            .filter(|l| !l.is_empty() && l.len() <= 64 && self.asked.has(Cap::LabeledResponse));
        if let Some(label) = &label {
            self.hold(Note::Label(Box::from(label.as_str()), replies_only), sink);
        }
        label.is_some()
    }

    /// At least `n` parameters, else `461`.
    fn need(&mut self, sink: &mut dyn Sink, msg: &Message<'_>, n: usize) -> bool {
        let ok = msg.params.len() >= n;
        if !ok {
            let cmd = msg.command.as_str();
            self.numeric(sink, ERR_NEEDMOREPARAMS, &[cmd, "Not enough parameters"]);
        }
        ok
    }

    /// `TARGMAX`: more comma-separated targets than `max` in parameter `at` is refused whole
    /// with `407` (F11: `JOIN` took 20 targets although `TARGMAX=JOIN:4`).
    fn targets(
        &mut self,
        sink: &mut dyn Sink,
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
}

/// A sink that counts the inputs one line made (see [`Conn::frame`]).
struct Counted<'a> {
    sink: &'a mut dyn Sink,
    inputs: u32,
}

impl Sink for Counted<'_> {
    fn expects(&self) -> Expect {
        self.sink.expects()
    }

    fn input(&mut self, input: crate::input::Input<'_>) {
        self.inputs += 1;
        self.sink.input(input);
    }

    fn reserve(&mut self, ticket: Ticket) {
        self.sink.reserve(ticket);
    }

    fn wants_more(&self) -> bool {
        self.sink.wants_more()
    }

    fn answered(&mut self) {
        self.sink.answered();
    }
}

#[cfg(test)]
mod tests;
