//! Menu-style command sets (PROTOCOL.md §6, seeds 002 and 004): the prompt dialogs of
//! `private` (no arguments), `BM` and `PM`, and `history`/`CH`.
//!
//! A dialog in progress belongs to its session: while one is pending the session expects an
//! answer ([`Expect::Answer`](crate::input::Expect::Answer)), so the line codec hands over the
//! whole line. Answering counts as activity; an empty (or all-space) answer cancels with
//! `Cancelled`; logging out for any reason (inactivity, `exit`, a dropped connection) drops it.
//! Messages to the user keep arriving while it is at a prompt.

use super::blocks::Blocks;
use super::history::HistoryEntry;
use super::Chat;
use crate::event::Kind;
use crate::event::{Audience, Error, Event, HistoryLine, Prompt};
use crate::input::{Input, Menu};
use crate::record;
use crate::session::ConnId;
use crate::time::Now;
use crate::valid::MessageText;
use std::collections::HashMap;
use std::sync::Arc;

/// Lines `history`/`CH` shows without an argument.
pub const DEFAULT_HISTORY: usize = 20;

/// Where a menu dialog is: what its next answer means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Dialog {
    /// `private`: who to send to.
    PrivateTo,
    /// `private`: the text for `to`.
    PrivateText { to: String },
    /// `BM`: the text to broadcast.
    BroadcastText,
    /// `PM`: who to send to.
    MessageTo,
    /// `PM`: the text for `to`.
    MessageText { to: String },
}

impl Dialog {
    fn prompt(&self) -> Prompt {
        match self {
            Dialog::PrivateTo => Prompt::PrivateTo,
            Dialog::PrivateText { .. } => Prompt::PrivateText,
            Dialog::MessageTo => Prompt::Recipient,
            Dialog::BroadcastText | Dialog::MessageText { .. } => Prompt::Message,
        }
    }
}

/// The dialogs in progress, by connection. Kept beside the sessions rather than in them so an
/// idle session stays small; every way out of a login (`Chat::logout`) and a disconnect
/// forget the connection's entry.
#[derive(Debug, Default)]
pub(super) struct Dialogs(HashMap<ConnId, Dialog>);

impl Dialogs {
    pub fn pending(&self, conn: ConnId) -> bool {
        self.0.contains_key(&conn)
    }

    /// The prompt `conn` is at, if any (to ask again after a framing error).
    pub fn prompt(&self, conn: ConnId) -> Option<Prompt> {
        self.0.get(&conn).map(Dialog::prompt)
    }

    pub fn forget(&mut self, conn: ConnId) {
        self.0.remove(&conn);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Whether `me` may see `e` in its history: broadcasts and announcements (but not those of a
/// sender who blocks `me`: they never reached it), its own direct messages sent and received,
/// never anyone else's, never anything from a user `me` blocks. Blocks as they are now.
fn may_see(blocks: &Blocks, me: &str, e: &HistoryEntry) -> bool {
    // Issue 22: room chat is kept for IRC's CHATHISTORY; `history` shows what it always did.
    if matches!(e.to, record::Audience::Room(_)) {
        return false;
    }
    if *e.from == *me {
        return true;
    }
    if blocks.has_blocked(me, &e.from) {
        return false;
    }
    match &e.to {
        record::Audience::User(to) => **to == *me,
        record::Audience::Everyone | record::Audience::Announcement => {
            !blocks.has_blocked(&e.from, me)
        }
        record::Audience::Room(_) => false,
    }
}

fn history_line(e: &HistoryEntry) -> HistoryLine {
    HistoryLine {
        at_ms: e.stamp.at_ms,
        from: e.from.clone(),
        to: match &e.to {
            record::Audience::User(to) => Some(to.clone()),
            record::Audience::Everyone
            | record::Audience::Announcement
            | record::Audience::Room(_) => None,
        },
        text: e.text.clone(),
    }
}

impl Chat {
    /// `private`, `BM`, `PM`: `PM` lists the online users first (as `whoelse`); then the first
    /// prompt.
    pub(super) fn start_menu(&mut self, conn: ConnId, me: &str, menu: Menu) {
        let dialog = match menu {
            Menu::Private => Dialog::PrivateTo,
            Menu::Broadcast => Dialog::BroadcastText,
            Menu::Message => {
                self.whoelse(conn, me);
                Dialog::MessageTo
            }
        };
        self.ask(conn, dialog);
    }

    fn ask(&mut self, conn: ConnId, dialog: Dialog) {
        self.outbox.send(conn, Event::Prompt(dialog.prompt()));
        self.dialogs.0.insert(conn, dialog);
    }

    /// The answer to the prompt `conn` is at.
    pub(super) fn menu_answer(&mut self, conn: ConnId, user: Arc<str>, input: Input<'_>, now: Now) {
        let Some(dialog) = self.dialogs.0.remove(&conn) else {
            return;
        };
        let answer = match input {
            Input::Answer(a) => a,
            Input::Empty => "",
            // A front-end that ignores `Expect` sent a command: not an answer; ask again.
            _ => {
                self.outbox.error(conn, Error::InvalidCommand);
                return self.ask(conn, dialog);
            }
        };
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.last_active = now.mono;
        }
        if answer.trim().is_empty() {
            return self.outbox.send(conn, Event::Cancelled);
        }
        let to = || answer.trim_matches(' ').to_string();
        match dialog {
            Dialog::PrivateTo => self.ask(conn, Dialog::PrivateText { to: to() }),
            Dialog::MessageTo => self.ask(conn, Dialog::MessageText { to: to() }),
            Dialog::PrivateText { to } => {
                if let Some(text) = self.valid(conn, MessageText::new(answer)) {
                    self.message(conn, &user, &to, text, Kind::Say, None, now);
                }
            }
            Dialog::BroadcastText => {
                if let Some(text) = self.valid(conn, MessageText::new(answer)) {
                    self.broadcast(conn, &user, text, Audience::Everyone, now);
                    self.outbox.send(conn, Event::MessageSent);
                }
            }
            Dialog::MessageText { to } => {
                let Some(text) = self.valid(conn, MessageText::new(answer)) else {
                    return;
                };
                if self.message(conn, &user, &to, text, Kind::Say, None, now) {
                    self.outbox.send(conn, Event::MessageSent);
                }
            }
        }
    }

    /// `history [n]`/`CH`: the last `n` (default 20, at most `--history`) messages `me` may
    /// see, oldest first. Scans newest first and stops at `n` visible ones; the scan never
    /// passes the in-memory history, which `--history` caps (default 10000 entries).
    pub(super) fn show_history(&mut self, conn: ConnId, me: &str, n: Option<usize>) {
        let n = n.unwrap_or(DEFAULT_HISTORY).min(self.settings.history);
        let blocks = &self.blocks;
        let lines = self
            .history
            .last_visible(n, |e| may_see(blocks, me, e))
            .into_iter()
            .map(history_line)
            .collect();
        self.outbox.send(conn, Event::History(lines));
    }
}
