//! Registration (PROTOCOL.md §8, issue 22): `CAP` negotiation (registration waits for
//! `CAP END` once it began), SASL `AUTHENTICATE`, `PASS`, `NICK`, `USER`; then the core's
//! login: `Input::Login` with `PASS`, else `Input::Enter` (the account SASL proved, else
//! `PASS` if given, else a guest). Also `PING`/`PONG` and `CAP` after registration.

use super::caps::{ls_lines, Cap, Caps};
use super::numerics::*;
use super::sasl::{Step, MECHANISMS};
use super::{Conn, Note, Purpose, Reg};
use crate::input::{Expect, Input};
use crate::protocol::irc::message::{valid_nick, Message};
use crate::protocol::Sink;

impl Conn {
    /// Before registration: `CAP`, `AUTHENTICATE`, `PASS`, `NICK`, `USER`, `PING`, `PONG`,
    /// `QUIT`; anything else `451`.
    pub(super) fn registering(&mut self, msg: Message<'_>, sink: &mut dyn Sink) {
        match msg.command.as_str() {
            "PASS" => {
                if self.need(sink, &msg, 1) {
                    self.registration().pass = msg.param(0).map(Box::from);
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
                    self.nick = Some(std::sync::Arc::from(n));
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
                    self.registration().user = Some((Box::from(username), Box::from(realname)));
                    self.try_register(sink);
                }
            }
            "CAP" => self.cap(sink, &msg),
            "AUTHENTICATE" => {
                if self.need(sink, &msg, 1) {
                    self.authenticate(sink, msg.param(0).unwrap_or(""));
                }
            }
            "PING" => self.pong(sink, &msg),
            "PONG" => {}
            "QUIT" => {
                self.reg = Reg::Closed;
                sink.input(Input::Quit { reason: "" });
            }
            _ => self.numeric(sink, ERR_NOTREGISTERED, &["You have not registered"]),
        }
    }

    /// `PING <token>`: `PONG`, in order; it also proves the client is there.
    pub(super) fn pong(&mut self, sink: &mut dyn Sink, msg: &Message<'_>) {
        match msg.param(0) {
            Some(token) => {
                let server = self.opts.server.clone();
                self.raw(sink, Some(&server), "PONG", &[&server, token]);
                if self.reg == Reg::Done {
                    sink.input(Input::Live);
                }
            }
            None => self.numeric(sink, ERR_NOORIGIN, &["No origin specified"]),
        }
    }

    /// `CAP LS|LIST|REQ|END` (version 302; `LS` in several lines when long). Before
    /// registration, `LS` and `REQ` make it wait for `END`.
    pub(super) fn cap(&mut self, sink: &mut dyn Sink, msg: &Message<'_>) {
        let sub = msg.param(0).unwrap_or("").to_ascii_uppercase();
        let server = self.opts.server.clone();
        let me = self.me().to_string();
        let before = self.reg == Reg::Open;
        match sub.as_str() {
            "LS" => {
                // A version too big for a number is still past 302 (it read as none).
                let v = msg.param(1).unwrap_or("");
                let version = match v.parse::<u64>() {
                    Ok(n) => n,
                    Err(_) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => u64::MAX,
                    Err(_) => 0,
                };
                if version >= 302 {
                    self.v302 = true;
                    let caps = self.asked.request("cap-notify").unwrap_or(self.asked);
                    self.set_caps(caps, sink);
                }
                self.negotiating |= before;
                let lines = ls_lines(self.v302);
                let last = lines.len() - 1;
                for (i, line) in lines.iter().enumerate() {
                    match i < last && self.v302 {
                        true => self.raw(sink, Some(&server), "CAP", &[&me, "LS", "*", line]),
                        false => self.raw(sink, Some(&server), "CAP", &[&me, "LS", line]),
                    }
                }
            }
            "LIST" => {
                let names = self.asked.names();
                self.raw(sink, Some(&server), "CAP", &[&me, "LIST", &names]);
            }
            "REQ" => {
                self.negotiating |= before;
                let list = msg.param(1).unwrap_or("");
                match self.asked.request(list) {
                    Some(caps) => {
                        self.raw(sink, Some(&server), "CAP", &[&me, "ACK", list]);
                        self.set_caps(caps, sink);
                    }
                    None => self.raw(sink, Some(&server), "CAP", &[&me, "NAK", list]),
                }
            }
            "END" => {
                if before && self.negotiating {
                    self.negotiating = false;
                    self.try_register(sink);
                }
            }
            _ => self.numeric(sink, ERR_INVALIDCAPCMD, &[&sub, "Invalid CAP command"]),
        }
    }

    /// `AUTHENTICATE <param>`, before registration or after it (a guest's, `commands.rs`).
    pub(super) fn authenticate(&mut self, sink: &mut dyn Sink, param: &str) {
        match self.registration().sasl.step(param) {
            Step::Continue => self.raw(sink, None, "AUTHENTICATE", &["+"]),
            Step::More => {}
            Step::Check { user, password } => {
                self.sasl_used = true;
                self.context(sink, Some(&user), Purpose::Sasl);
                sink.input(Input::Authenticate {
                    user: &user,
                    password: &password,
                });
            }
            Step::Scram { first, message } => {
                self.sasl_used = true;
                self.context(sink, None, Purpose::Sasl);
                sink.input(Input::Scram {
                    first,
                    message: &message,
                });
            }
            Step::Fail { mechs } => {
                if mechs {
                    let what = "are available SASL mechanisms";
                    self.numeric(sink, RPL_SASLMECHS, &[MECHANISMS, what]);
                }
                self.numeric(sink, ERR_SASLFAIL, &["SASL authentication failed"]);
            }
            Step::TooLong => self.numeric(sink, ERR_SASLTOOLONG, &["SASL message too long"]),
            Step::Aborted => self.numeric(sink, ERR_SASLABORTED, &["SASL authentication aborted"]),
            Step::Already => {
                self.numeric(sink, ERR_SASLALREADY, &["You have already authenticated"])
            }
        }
    }

    /// `ERROR` and close, before registration.
    fn refuse(&mut self, sink: &mut dyn Sink, why: &str) {
        self.set_quit(why);
        self.reg = Reg::Closed;
        sink.input(Input::Quit { reason: why });
    }

    /// `NICK` and `USER` are in and `CAP` negotiation (if any) ended: log in with `PASS`, or
    /// enter as the account SASL proved, or as a guest.
    fn try_register(&mut self, sink: &mut dyn Sink) {
        let user = self.registration.as_ref().and_then(|r| r.user.clone());
        let (Some(nick), Some((username, realname))) = (self.nick.clone(), user) else {
            return;
        };
        if self.negotiating {
            return;
        }
        if self.registration().sasl.in_progress() {
            // The spec: registration ending aborts an unfinished exchange.
            self.registration().sasl = super::sasl::Sasl::Idle;
            self.numeric(sink, ERR_SASLABORTED, &["SASL authentication aborted"]);
        }
        sink.input(Input::Describe {
            username: &username,
            realname: &realname,
        });
        sink.input(Input::NoPresence);
        sink.input(Input::KeepsAlive);
        let proved = self.registration().sasl == super::sasl::Sasl::Done;
        let pass = self.registration().pass.take();
        self.context(sink, Some(&nick), Purpose::Plain);
        match (&pass, self.sasl_used) {
            (Some(password), false) => sink.input(Input::Login {
                user: &nick,
                password,
            }),
            // After SASL the core decides: the account it proved, else `PASS` as above (a
            // failed exchange never makes `PASS` moot), else a guest.
            (password, _) => sink.input(Input::Enter {
                nick: &nick,
                guest: self.opts.guests,
                password: password.as_deref(),
            }),
        }
        match sink.expects() {
            Expect::Command => {
                self.reg = Reg::Done;
                self.clear_context(sink);
            }
            Expect::Pending => self.reg = Reg::Pending,
            Expect::Nothing => self.reg = Reg::Closed,
            // A wrong password ends the connection, and so does a refused login to the account
            // SASL proved (online elsewhere by now): another nick would be refused the same,
            // and the exchange is spent (`907`). A guest nick in use may be changed.
            _ if pass.is_some() || proved => self.refuse(sink, "Password incorrect"),
            _ => self.nick = None,
        }
        if self.reg != Reg::Open {
            self.registration = None;
        }
    }

    /// Whether the client negotiated `cap` (for the command handlers).
    pub(super) fn has(&self, cap: Cap) -> bool {
        self.asked.has(cap)
    }

    /// The client's capabilities are now `caps`: at once for the lines that follow, and for
    /// rendering once the replies to the lines before are out (a `CAP REQ` read together with
    /// earlier commands must not change how their replies look).
    fn set_caps(&mut self, caps: Caps, sink: &mut dyn Sink) {
        self.asked = caps;
        self.hold(Note::Caps(caps), sink);
    }
}
