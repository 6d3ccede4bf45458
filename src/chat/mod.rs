//! The sans-IO core: the chat world behind every front-end. It takes semantic [`Input`]s and
//! emits semantic [`Event`]s; it never sees a wire format, a socket, a file or a clock.
//!
//! Calling contract (as quinn-proto's): feed inputs with `handle_*(…, now)`; after the inputs of
//! one loop iteration, hand [`Chat::pending_records`] to the store and report the outcome with
//! [`Chat::handle_commit`]; then drain [`Chat::drain_actions`] and sleep until
//! [`Chat::poll_timeout`]. `handle_timeout` is safe to call at any time.
//!
//! State lives by concept, each in its own file with its own undo, replay and snapshot:
//! [`accounts`] (credentials and lockouts), [`online`] (who is on, logouts by time),
//! [`blocks`], [`mailboxes`] (offline queues), [`history`], `private` (sessions and consent
//! requests, not durable, with their rules: §4). This file only dispatches; the rules are in
//! `login.rs` (PROTOCOL.md §2) and `messaging.rs` (§3).

mod accounts;
mod admin; // Accounts changed by the operator (issue 21).
mod blocks;
#[cfg(feature = "cluster")]
mod cluster; // Cluster mode (issue 23): parked commands, stream entries, ghosts.
pub(crate) mod cow_map; // Copy-on-write maps a compaction freezes (issue 8).
mod directory;
mod durable; // Commit verdicts, replay, the frozen state.
mod frozen; // What a compaction writes (issue 8).
mod guests; // JSON front-end guests (PROTOCOL.md §6).
mod hashing; // Slow password hashes in bounded steps (issue 21).
mod history;
mod identity; // One casemapping for every name (issue 17).
mod limits; // Reliability limits (issue 8).
mod login;
mod mailboxes;
mod menus; // §6 menus: prompt dialogs and history.
mod messaging;
mod online;
mod operator; // Server console (PROTOCOL.md §7).
mod opers; // Server operators on the wire and LUSERS (issue 22).
mod outbox;
mod private; // Private sessions and peer-to-peer (PROTOCOL.md §4).
mod profiles; // Profiles (PROTOCOL.md §5).
mod registration; // Sessions that register themselves: SASL, guests' names (issue 22).
mod replay; // CHATHISTORY (issue 22).
mod rooms; // Chat rooms (§5) and IRC channels (issue 12).
mod scram; // SASL SCRAM-SHA-256 exchanges (issue 22).
mod settings;
mod stamps; // Message times and ids (issue 22).
mod stream; // Paced output of long replies (issue 17, F14).
mod timers; // Session deadlines, lockouts, request expiry on the wheel.
mod watch; // MONITOR (issue 22).
mod whowas; // WHOWAS (issue 22).

pub use admin::{valid_password, AccountOp};
pub use operator::{CoreStats, MessageKind, Tally, UserInfo};

#[cfg(feature = "cluster")]
pub use cluster::{ClusterSnapshot, Forward};
pub use frozen::Frozen;
pub use history::HistoryEntry;
pub use mailboxes::Queued;
pub use settings::Settings;

use crate::credentials::Credentials;
use crate::event::{Audience, Error, Event, Prompt, Shared};
use crate::input::{Expect, Input, LineError};
use crate::session::{ConnId, Session, Sessions, State, TimerKind};
use crate::time::Now;
use crate::timer::TimerWheel;
use crate::valid::MessageText;
use accounts::Accounts;
use blocks::Blocks;
use directory::Directory;
use history::History;
use mailboxes::Mailboxes;
use online::Online;
use outbox::{Outbox, Undo};
use std::net::SocketAddr;
use std::sync::Arc;
use timers::TimerKey;

/// What the loop must do for the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Render this event with the connection's codec and queue it.
    Send(ConnId, Event),
    /// A fan-out event for these recipients: rendered once per codec kind, shared by all.
    Share(Arc<Shared>, Vec<ConnId>),
    /// Close now, dropping unsent output (the peer is gone or misbehaving).
    Close(ConnId),
    /// Send what is queued, then close.
    CloseAfterFlush(ConnId),
    /// Call [`Chat::handle_flushed`] once this connection's output is all written: the core
    /// has more queued offline messages for it and hands them out a buffer-full at a time.
    NotifyWhenFlushed(ConnId),
    // Reliability: offline messages are recorded delivered only once written (issue 8).
    /// Call [`Chat::handle_written`] with this marker once the kernel has accepted every byte
    /// queued for this connection so far.
    WhenWritten(ConnId, u64),
    /// The session waited for a password hash and is ready for input again (issue 21): read
    /// what the connection sent meanwhile.
    Resume(ConnId),
    // Presence without a delivery per recipient (issue 20).
    /// A fan-out event for every connection subscribed to announcements, except these (the
    /// user it is about; those it blocked): the loop writes it once and each connection reads
    /// it from there, so a login seen by 19,000 users is one action, not 19,000 deliveries.
    Announce(Arc<Shared>, Vec<ConnId>),
    /// From now on this connection gets announcements (a logged-in user's `<user> logged
    /// in/out` lines).
    Subscribe(ConnId),
    /// From now on it gets none (logged out, or presence turned off); those made before still
    /// reach it.
    Unsubscribe(ConnId),
}

/// How a front-end logs its sessions in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginStyle {
    /// The line protocol: the core prompts `Username: ` and runs the dialog.
    Dialog,
    /// JSON front-end (§6): no prompt; the client names itself with `Input::Guest`.
    Guest,
}

/// What a front-end's wire decides for its sessions, given at connect (the core applies it;
/// the front-end only says which rules its wire has).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Front {
    pub login: LoginStyle,
    pub to_self: ToSelf,
}

/// A direct message to oneself: the seeds refuse it (`Error. Cannot message self`, the line
/// and JSON contracts); IRC delivers it (a client may talk to itself, and with echo-message it
/// sees the message twice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToSelf {
    Refused,
    Delivered,
}

/// The seeds' rules with this login style (the line, JSON and events protocols, and tests).
impl From<LoginStyle> for Front {
    fn from(login: LoginStyle) -> Front {
        Front {
            login,
            to_self: ToSelf::Refused,
        }
    }
}

/// The whole chat world. See the module doc for the calling contract.
#[derive(Debug)]
pub struct Chat {
    settings: Settings,
    accounts: Accounts,
    online: Online,
    blocks: Blocks,
    mailboxes: Mailboxes,
    history: History,
    /// IRC front-end (issue 12): self-descriptions, away, invisibility.
    directory: Directory,
    /// SASL SCRAM-SHA-256 exchanges under way (issue 22).
    scram: scram::Exchanges,
    sessions: Sessions,
    timers: TimerWheel<TimerKey>,
    outbox: Outbox,
    /// Private sessions and requests (not durable).
    private: private::Private,
    /// Reused buffer for expired timer keys.
    fired: Vec<TimerKey>,
    // Chat rooms and profiles (§5).
    rooms: rooms::state::Rooms,
    profiles: profiles::Profiles,
    /// Server console (§7) and `/metrics` (issue 19): chat messages accepted by kind
    /// (whichever front-end or menu sent them), logins, failed logins and lockouts; counted
    /// where each happens.
    tally: operator::Tally,
    /// Registrations per source address (issue 8).
    register_rate: limits::RegisterRate,
    /// Failed logins per source address (issue 21).
    login_fails: limits::RegisterRate,
    /// Password hashes waiting for their steps (issue 21).
    jobs: hashing::Jobs,
    /// §6 menus: prompt dialogs in progress.
    dialogs: menus::Dialogs,
    /// Cluster mode (issue 23); `None` with the file journal.
    #[cfg(feature = "cluster")]
    cluster: Option<Box<cluster::Cluster>>,
    /// Replay is over and the rooms it left were tidied (issue 17).
    resumed: bool,
    /// Long replies held and handed out as the connection drains (issue 17, F14).
    streams: stream::Streams,
    // Issue 22.
    /// Message times and ids.
    stamps: stamps::Stamps,
    /// Who watches whom (`MONITOR`).
    watch: watch::Watch,
    /// Recent logouts (`WHOWAS`).
    gone: whowas::Gone,
    /// The most users online at once (`LUSERS`).
    peak_users: usize,
}

impl Chat {
    /// A core starting at `now`, with `seed` from the OS random source for password salts.
    pub fn new(settings: Settings, credentials: Credentials, now: Now, seed: [u8; 32]) -> Chat {
        Chat {
            history: History::new(settings.history),
            settings,
            accounts: Accounts::new(credentials, seed),
            online: Online::default(),
            blocks: Blocks::default(),
            mailboxes: Mailboxes::default(),
            directory: Directory::default(),
            scram: scram::Exchanges::default(),
            sessions: Sessions::default(),
            timers: TimerWheel::new(now.mono),
            outbox: Outbox::default(),
            private: private::Private::new(seed),
            fired: Vec::new(),
            rooms: rooms::state::Rooms::default(),
            profiles: profiles::Profiles::default(),
            tally: operator::Tally::default(),
            register_rate: limits::RegisterRate::default(),
            login_fails: limits::RegisterRate::default(),
            jobs: hashing::Jobs::default(),
            dialogs: menus::Dialogs::default(),
            #[cfg(feature = "cluster")]
            cluster: None,
            resumed: false,
            streams: stream::Streams::default(),
            stamps: stamps::Stamps::default(),
            watch: watch::Watch::default(),
            gone: whowas::Gone::default(),
            peak_users: 0,
        }
    }

    /// New settings from a reload (issue 21): they apply from the next input on (deadlines
    /// already set keep their time; the message history keeps the size it started with).
    pub fn set_settings(&mut self, settings: Settings) {
        self.settings = settings;
    }

    /// A new connection was accepted: greet it and start its login clock.
    pub fn handle_connect(
        &mut self,
        conn: ConnId,
        peer: Option<SocketAddr>,
        front: Front,
        now: Now,
    ) {
        self.resume_lockouts(now);
        if !self.resumed {
            // The first step after replay (issue 17).
            self.resumed = true;
            self.rooms_resume();
        }
        let mut session = Session::new(peer, now.mono);
        session.dialog = front.login == LoginStyle::Dialog;
        session.to_self = front.to_self;
        self.sessions.insert(conn, session);
        self.arm(
            conn,
            TimerKind::Login,
            now.mono + self.settings.login_timeout,
        );
        if let Some(hb) = self.settings.heartbeat {
            self.arm(conn, TimerKind::Heartbeat, now.mono + hb / 2);
        }
        match front.login {
            LoginStyle::Dialog => self.outbox.send(conn, Event::Prompt(Prompt::Username)),
            LoginStyle::Guest => {}
        }
    }

    /// What `conn` waits for, so a stateful codec can parse its next input.
    pub fn expects(&self, conn: ConnId) -> Expect {
        if self.login_pending(conn) {
            return Expect::Command; // Cluster mode (issue 23): see `login_pending`.
        }
        match self.sessions.get(&conn).map(|s| &s.state) {
            Some(State::Username) => Expect::Username,
            Some(State::Password { .. }) => Expect::Password,
            Some(State::Hashing { .. }) => Expect::Pending,
            // §6 menus: at a prompt the line is the answer.
            Some(State::LoggedIn { .. }) if self.dialogs.pending(conn) => Expect::Answer,
            // Chat rooms (§5): the line front-end's current room makes a line room chat.
            Some(State::LoggedIn { user, .. }) if self.rooms.current(user).is_some() => {
                Expect::RoomChat
            }
            Some(State::LoggedIn { .. }) => Expect::Command,
            Some(State::Closed) | None => Expect::Nothing,
        }
    }

    /// One decoded input of `conn`.
    pub fn handle_input(&mut self, conn: ConnId, input: Input<'_>, now: Now) {
        let Some(session) = self.sessions.get_mut(&conn) else {
            return;
        };
        session.last_heard = now.mono;
        if let Input::Bad(error) = input {
            return self.bad_input(conn, error);
        }
        let state = session.state.clone();
        self.in_command(conn, now, |chat| chat.dispatch(conn, state, input, now));
    }

    /// Run one command of `conn` as a transaction: what it changed stands or falls with the
    /// commit of its records (issue 8); a finished password hash ends a login the same way.
    fn in_command(&mut self, conn: ConnId, now: Now, command: impl FnOnce(&mut Chat)) {
        let mark = self.outbox.mark();
        self.begin_command(conn); // Cluster mode (issue 23).
        self.blocks.take_tainted();
        self.rooms.take_tainted();
        self.profiles.take_tainted();
        self.online.take_tainted();
        command(self);
        // Issue 8: a reply that saw another command's uncommitted block, room, profile change
        // or login stands or falls with it.
        self.outbox.dependent |= self.blocks.take_tainted()
            | self.rooms.take_tainted()
            | self.profiles.take_tainted()
            | self.online.take_tainted();
        for room in self.outbox.rooms_changed_since(mark) {
            self.rooms.changed(room);
        }
        self.seal(mark, conn, now); // Cluster mode (issue 23): parked instead.
    }

    fn dispatch(&mut self, conn: ConnId, state: State, input: Input<'_>, now: Now) {
        match state {
            State::Username => self.username_input(conn, input, now),
            State::Password { user, new } => self.password_input(conn, user, new, input, now),
            // §6 menus.
            State::LoggedIn { user, .. } if self.dialogs.pending(conn) => {
                self.menu_answer(conn, user, input, now)
            }
            State::LoggedIn { user, .. } => self.command(conn, user, input, now),
            // Issue 21: not read while its hash runs; a stray input is ignored.
            State::Hashing { .. } | State::Closed => {}
        }
    }

    /// The connection's transport heard from the peer without any input (a WebSocket pong):
    /// life for `--heartbeat`, not activity.
    pub fn handle_alive(&mut self, conn: ConnId, now: Now) {
        if let Some(session) = self.sessions.get_mut(&conn) {
            session.last_heard = now.mono;
        }
    }

    /// Input the codec could not frame; the connection stays usable.
    fn bad_input(&mut self, conn: ConnId, error: LineError) {
        let prompt = match self.sessions.get(&conn).map(|s| &s.state) {
            Some(State::Username) => Some(Prompt::Username),
            Some(State::Password { .. }) => Some(Prompt::Password),
            Some(State::Hashing { .. }) => None,
            Some(State::LoggedIn { .. }) => self.dialogs.prompt(conn), // §6 menus: ask again.
            Some(State::Closed) | None => return,
        };
        let e = match error {
            LineError::TooLong => Error::LineTooLong,
            LineError::InvalidUtf8 => Error::InvalidUtf8,
        };
        self.outbox.error(conn, e);
        if let Some(p) = prompt {
            self.outbox.send(conn, Event::Prompt(p));
        }
    }

    /// The connection is gone (peer closed, I/O error, output cap, or a close the core asked for).
    pub fn handle_disconnect(&mut self, conn: ConnId, now: Now) {
        if let Some(user) = self.user_of(conn) {
            self.logout(conn, &user, now);
        }
        self.directory.remove(conn);
        self.watch.forget(conn);
        self.private.forget(conn);
        self.dialogs.forget(conn); // §6 menus.
        self.forget_hashes(conn); // Issue 21.
        self.scram.forget(conn); // Issue 22.
        self.streams.forget(conn);
        self.forget_checked(conn); // Issue 23.
        if let Some(s) = self.sessions.remove(&conn) {
            for (kind, slot) in s.hints() {
                self.timers.cancel(slot, &TimerKey::Conn(conn, kind));
            }
        }
    }

    /// The server is stopping: tell every session and close it after its output. Nothing is
    /// logged out one by one (no presence storm); state is durable already.
    pub fn handle_shutdown(&mut self, _now: Now) {
        let ids: Vec<ConnId> = self
            .sessions
            .iter()
            .map(|(id, _)| id)
            .filter(|id| !id.is_ghost())
            .collect();
        for conn in ids {
            self.outbox
                .send(conn, Event::Notice(crate::event::Notice::ServerShutdown));
            self.close_without_logout(conn);
        }
    }

    /// The output of `conn` is all written, as asked by `Action::NotifyWhenFlushed`.
    pub fn handle_flushed(&mut self, conn: ConnId, now: Now) {
        if !self.streams.release(conn, self.settings.delivery_budget) {
            self.delivery_step(conn, now);
        }
    }

    /// The kernel accepted `conn`'s output up to the point `Action::WhenWritten(conn, marker)`
    /// was performed. May emit records: commit them as usual.
    pub fn handle_written(&mut self, conn: ConnId, marker: u64, _now: Now) {
        self.delivery_written(conn, marker);
    }

    /// The actions of this iteration, in order, long replies paced (`stream.rs`).
    pub fn drain_actions(&mut self) -> std::vec::Drain<'_, Action> {
        self.actions_drained(); // Cluster mode (issue 23).
        let (budget, cap) = (self.settings.delivery_budget, self.settings.max_held);
        let (sessions, presence) = (&self.sessions, self.settings.presence);
        let subscribed = |c| {
            presence
                && sessions
                    .get(&c)
                    .is_some_and(|s| s.presence && s.user().is_some())
        };
        self.streams
            .pace(&mut self.outbox.actions, budget, cap, subscribed);
        self.outbox.deliveries = 0;
        self.outbox.actions.drain(..)
    }

    /// Events waiting in [`Chat::drain_actions`], a fan-out counted once per recipient: the
    /// rendering and writing they will cost the loop.
    pub fn pending_deliveries(&self) -> usize {
        self.outbox.deliveries
    }

    /// Whether the core holds output back for `conn` (a long reply being paced): the loop
    /// does not read the connection meanwhile, as when its own output buffer is full.
    pub fn holds_output(&self, conn: ConnId) -> bool {
        self.streams.holds(conn)
    }

    /// Give back memory a burst left behind (say, presence lines for thousands of logins in one
    /// iteration): the action list keeps its peak capacity otherwise. Call with no actions
    /// pending.
    pub fn trim(&mut self) {
        const KEEP: usize = 1024;
        if self.outbox.actions.is_empty() && self.outbox.actions.capacity() > 16 * KEEP {
            self.outbox.actions.shrink_to(KEEP);
        }
    }

    /// Logged-in users.
    pub fn online_count(&self) -> usize {
        self.online.len()
    }

    /// The account list (for start-up checks and tests).
    pub fn credentials(&self) -> &Credentials {
        self.accounts.credentials()
    }

    fn user_of(&self, conn: ConnId) -> Option<Arc<str>> {
        self.sessions.get(&conn).and_then(|s| s.user().cloned())
    }

    /// Close `conn` once its output is written. A session still online is logged out first,
    /// so that no path closes a connection and leaves its user online: a guest closed by a
    /// lockout of the account it tried to log in to after registration (issue 22's SASL)
    /// stayed online under its name, unheard of by its roommates, its room open until the
    /// next start (found by a chaos run at stop 30).
    fn close_after_flush(&mut self, conn: ConnId, now: Now) {
        if let Some(user) = self.user_of(conn) {
            self.logout(conn, &user, now);
        }
        self.close_without_logout(conn);
    }

    /// Close `conn` once its output is written, its user (if any) left online: only at
    /// shutdown, where nobody is told of each user one by one and every state is durable.
    fn close_without_logout(&mut self, conn: ConnId) {
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.state = State::Closed;
        }
        self.outbox.actions.push(Action::CloseAfterFlush(conn));
    }

    /// Close at once, logging out first (heartbeat loss).
    fn drop_connection(&mut self, conn: ConnId, now: Now) {
        if let Some(user) = self.user_of(conn) {
            self.logout(conn, &user, now);
        }
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.state = State::Closed;
        }
        self.outbox.actions.push(Action::Close(conn));
    }

    /// A logged-in user's input: dispatch one command.
    fn command(&mut self, conn: ConnId, user: Arc<str>, input: Input<'_>, now: Now) {
        if crate::command::is_activity(&input) {
            if let Some(s) = self.sessions.get_mut(&conn) {
                s.last_active = now.mono;
            }
        }
        match input {
            Input::Message {
                to,
                text,
                kind,
                relay,
            } => {
                if let Some(text) = self.valid(conn, MessageText::new(text)) {
                    self.message(conn, &user, to, text, kind, relay, now);
                }
            }
            Input::Broadcast { text } => {
                if let Some(text) = self.valid(conn, MessageText::new(text)) {
                    self.broadcast(conn, &user, text, Audience::Everyone, now);
                }
            }
            Input::Announce { text } => {
                if let Some(text) = self.valid(conn, MessageText::new(text)) {
                    self.broadcast(conn, &user, text, Audience::Announcement, now);
                }
            }
            Input::WhoElse => self.whoelse(conn, &user),
            Input::WhoElseSince { seconds } => self.whoelsesince(conn, &user, seconds, now),
            Input::Block { user: target } => self.block(conn, &user, target),
            Input::Unblock { user: target } => self.unblock(conn, &user, target),
            Input::Logout => {
                self.set_quit(conn, "Logged out");
                self.logout(conn, &user, now);
                self.outbox.send(conn, Event::LoggedOut);
                self.outbox.send(conn, Event::Prompt(Prompt::Username));
            }
            Input::Exit => {
                self.set_quit(conn, "Logged out");
                self.logout(conn, &user, now);
                self.outbox.send(conn, Event::LoggedOut);
                self.outbox.send(conn, Event::Goodbye);
                self.close_after_flush(conn, now);
            }
            Input::Help => {
                let topic = self.help_topic(&user);
                self.outbox.send(conn, Event::Help(topic));
            }
            Input::Live => {}
            // IRC front-end (issue 12).
            Input::Quit { reason } => {
                self.set_quit(conn, &crate::valid::quit_reason(reason));
                self.logout(conn, &user, now);
                self.outbox.send(conn, Event::Goodbye);
                self.close_after_flush(conn, now);
            }
            Input::Describe { username, realname } => self.describe(conn, username, realname),
            Input::Away { message } => self.set_away(conn, &user, message),
            Input::Invisible(on) => self.set_invisible(conn, on),
            Input::HearWallops(on) => self.set_wallops(conn, on),
            Input::Oper { name, password } => self.oper_up(conn, name, password, now),
            Input::Deoper => self.set_oper(conn, false),
            Input::NoPresence => self.no_presence(conn),
            Input::Whois { name } => self.whois(conn, &user, name, now),
            Input::Who { mask } => self.who(conn, &user, mask, now),
            // Issue 22: modern IRC.
            Input::KeepsAlive => self.keeps_alive(conn),
            Input::Rename { name } => self.rename(conn, &user, name),
            Input::Lookup { names } => self.lookup(conn, &user, names, now),
            Input::Whowas { name, count } => self.whowas(conn, &user, name, count),
            Input::Lusers => self.lusers(conn),
            Input::SetName { realname } => self.set_name(conn, &user, realname),
            Input::Monitor(m) => self.monitor(conn, &user, m),
            Input::Replay(query) => self.replay_history(conn, &user, query),
            Input::Kill {
                user: target,
                reason,
            } => self.kill(conn, &user, target, reason, now),
            Input::Wallops { text } => self.wallops(conn, &user, text),
            // Private sessions (§4).
            Input::StartPrivate {
                user: target,
                address,
            } => self.start_private(conn, &user, target, address, now),
            Input::Consent { user: from, yes } => self.consent(conn, &user, from, yes, now),
            Input::Private { to, text } => {
                if let Some(text) = self.valid(conn, MessageText::new(text)) {
                    self.private_message(conn, &user, to, text);
                }
            }
            Input::StopPrivate { user: peer } => self.stop_private(conn, &user, peer, now),
            Input::P2pPort { port, key } => self.p2p_port(&user, conn, port, key, now),
            // §6 menus.
            Input::Menu(menu) => self.start_menu(conn, &user, menu),
            Input::History { n } => self.show_history(conn, &user, n),
            // JSON front-end (§6).
            Input::ListAddrs => self.list_addrs(conn, &user),
            // Chat rooms and IRC channels: one engine (issue 17).
            Input::Room(room) => self.room_input(conn, &user, room, now),
            // Profiles (§5).
            Input::WhoAmI => self.view_profile(conn, &user),
            Input::ViewProfile { user: name } => self.view_profile(conn, name),
            Input::SetProfile { attribute, value } => {
                self.set_profile(conn, &user, attribute, value)
            }
            Input::ListUsers => self.list_users(conn, &user),
            // Issue 22: SASL after an IRC guest's registration.
            Input::Authenticate {
                user: account,
                password,
            } => {
                if self.may_authenticate_online(conn, &user) {
                    self.authenticate(conn, account, password, now);
                }
            }
            Input::Scram { first, message } => {
                if self.may_authenticate_online(conn, &user) {
                    self.scram(conn, first, message, now);
                }
            }
            Input::Guest { .. }
            | Input::Enter { .. }
            | Input::Answer(_)
            | Input::Login { .. }
            | Input::Register { .. }
            | Input::Empty
            | Input::Invalid
            | Input::Bad(_) => self.outbox.error(conn, Error::InvalidCommand),
        }
    }
}

/// Without the cluster feature (issue 23) every command's transaction goes to the file journal.
#[cfg(not(feature = "cluster"))]
impl Chat {
    fn seal(&mut self, mark: outbox::Mark, conn: ConnId, _now: Now) {
        self.outbox.seal(mark, conn)
    }

    fn clustered(&self) -> bool {
        false
    }

    fn defer_login(&mut self, _conn: ConnId, _user: &str, _guest: bool) -> bool {
        false
    }

    fn defer_logout(&mut self, _conn: ConnId, _user: &Arc<str>, _now: Now) -> bool {
        false
    }

    fn defer_rename(&mut self, _conn: ConnId, _user: &Arc<str>, _name: &str) -> bool {
        false
    }

    fn defer_attach(&mut self, _conn: ConnId, _user: &Arc<str>, _account: &str) -> bool {
        false
    }

    fn defer_invite(&mut self, _room: &str, _user: &str) -> bool {
        false
    }

    fn defer_kill(&mut self, _target: ConnId, _user: &str, _by: &str, _why: &str) -> bool {
        false
    }

    fn defer_wrong_password(&mut self, _conn: ConnId, _user: &str, _form: login::Form) -> bool {
        false
    }

    fn login_pending(&self, _conn: ConnId) -> bool {
        false
    }

    fn begin_command(&mut self, _conn: ConnId) {}

    fn note_checked(&mut self, _conn: ConnId, _user: &str, _checked: Option<String>) {}

    fn forget_checked(&mut self, _conn: ConnId) {}

    fn note_room_actor(&mut self, _conn: ConnId, _room: &Arc<str>, _me: &str, _op: bool) {}

    fn upgrade_record(
        &self,
        user: String,
        secret: crate::credentials::Secret,
    ) -> crate::record::Record {
        crate::record::Record::Account { user, secret }
    }

    /// Without the cluster feature an operator's change is always committed here.
    pub fn operator_change(&mut self, _op: &AccountOp) -> Option<u64> {
        None
    }

    pub fn take_operator_answers(&mut self) -> Vec<(u64, Result<(), String>)> {
        Vec::new()
    }

    fn hold_reply(&mut self, _conn: ConnId, event: Event) -> Option<Event> {
        Some(event)
    }

    /// A codec's reply opening the replies to `conn`'s next input: only a cluster parks one.
    pub fn reply_opening(&mut self, conn: ConnId, ticket: crate::event::Ticket) {
        self.reply(conn, Event::Reserved(ticket));
    }

    fn defer_private(&mut self, _change: &private::Change) -> bool {
        false
    }

    fn defer_expiry(&mut self, _drop: &private::Change, _to: ConnId, _expired: &Event) -> bool {
        false
    }

    fn actions_drained(&mut self) {}

    /// Only a cluster's commands wait for a stream.
    pub fn is_waiting(&self, _conn: ConnId) -> bool {
        false
    }
}

#[cfg(test)]
mod tests;
