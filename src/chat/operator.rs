//! What the server console asks of the core (PROTOCOL.md §7): who is online with address and
//! idle time, a server announcement, a kick, and counters for `stats`. The console's parsing
//! and replies live in `crate::console`; these are semantic calls.

use super::Chat;
use crate::event::{Event, Notice, Shared};
use crate::time::Now;
use crate::valid::{Invalid, MessageText};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// One online user, for the console's `list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub name: Arc<str>,
    pub peer: Option<SocketAddr>,
    /// Since the user's last valid command.
    pub idle: Duration,
}

/// The core's counters, for the console's `stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreStats {
    /// Sessions (connections the core knows of, logged in or not).
    pub sessions: usize,
    /// Logged-in users (guests included).
    pub users: usize,
    /// Chat messages accepted since start, of every kind and from every front-end.
    pub messages: u64,
}

/// What kind of chat message a user sent (`/metrics` counts each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    Direct,
    Broadcast,
    Announcement,
    /// Relayed inside a §4 private session.
    Private,
    Room,
}

impl MessageKind {
    pub const ALL: [MessageKind; 5] = [
        MessageKind::Direct,
        MessageKind::Broadcast,
        MessageKind::Announcement,
        MessageKind::Private,
        MessageKind::Room,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Direct => "direct",
            MessageKind::Broadcast => "broadcast",
            MessageKind::Announcement => "announcement",
            MessageKind::Private => "private",
            MessageKind::Room => "room",
        }
    }

    fn index(self) -> usize {
        match self {
            MessageKind::Direct => 0,
            MessageKind::Broadcast => 1,
            MessageKind::Announcement => 2,
            MessageKind::Private => 3,
            MessageKind::Room => 4,
        }
    }
}

/// The core's counters since start (issue 19: `/metrics`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Logins that reached the welcome (accounts and guests).
    pub logins: u64,
    /// Wrong passwords.
    pub failed_logins: u64,
    /// Accounts locked by their third wrong password in a row.
    pub lockouts: u64,
    /// Chat messages accepted, indexed as [`MessageKind::ALL`].
    pub messages: [u64; 5],
}

impl Tally {
    pub(super) fn count(&mut self, kind: MessageKind) {
        self.messages[kind.index()] += 1;
    }

    pub fn messages(&self, kind: MessageKind) -> u64 {
        self.messages[kind.index()]
    }
}

impl Chat {
    /// Online users in login order.
    pub fn console_users(&self, now: Now) -> Vec<UserInfo> {
        self.online_in_order("", true)
            .into_iter()
            .filter_map(|(name, cid)| {
                let s = self.sessions.get(&cid)?;
                Some(UserInfo {
                    name,
                    peer: s.peer(),
                    idle: now.mono.saturating_duration_since(s.last_active),
                })
            })
            .collect()
    }

    /// `Announcement from server: <text>` to every online user. The operator's text obeys
    /// the text rule as a user's does (PROTOCOL.md §1a): a control character would reach every
    /// terminal (an escape sequence) and every IRC client (a bare `\r` ends a line there).
    pub fn console_announce(&mut self, text: &str) -> Result<(), Invalid> {
        let text = MessageText::new(text)?;
        let event = Shared::new(Event::ServerAnnouncement(Arc::from(text.as_str())));
        let ids: Vec<_> = self.online.iter().map(|(_, c)| c).collect();
        for id in ids {
            self.outbox.share(id, &event);
        }
        Ok(())
    }

    /// Close `user`'s session with a line saying why; others see the usual logout. The
    /// operator's answer if not: `user` is not online, or (cluster mode) its session is on
    /// another node, which alone can close it (logging out its ghost here only would leave
    /// the nodes disagreeing on who is online).
    pub fn console_kick(&mut self, user: &str, now: Now) -> Result<(), String> {
        let Some((user, conn)) = self.online.find(user).map(|(u, c)| (u.clone(), c)) else {
            return Err(format!("{user} is not online\n"));
        };
        #[cfg(feature = "cluster")]
        if conn.is_ghost() {
            let node = self
                .home_node(conn)
                .unwrap_or_else(|| Arc::from("another node"));
            return Err(format!("{user} is on node {node}: kick it there\n"));
        }
        log::info!("{} kicked by the operator", self.log_name(conn));
        self.outbox.send(conn, Event::Notice(Notice::Kicked));
        self.set_quit(conn, "Kicked by the server");
        self.logout(conn, &user, now);
        self.close_after_flush(conn, now);
        Ok(())
    }

    /// How the log names a connection (issue 21): its user and address once logged in, else
    /// its address.
    pub fn log_name(&self, conn: crate::session::ConnId) -> String {
        let Some(s) = self.sessions.get(&conn) else {
            return "a closed connection".into();
        };
        match (s.user(), s.peer()) {
            (Some(user), Some(peer)) => format!("{user} ({peer})"),
            (Some(user), None) => user.to_string(),
            (None, Some(peer)) => peer.to_string(),
            (None, None) => "a connection".into(),
        }
    }

    pub fn stats(&self) -> CoreStats {
        CoreStats {
            sessions: self.sessions.len(),
            users: self.online.len(),
            messages: self.tally.messages.iter().sum(),
        }
    }

    /// Counters since start, for `/metrics` (issue 19).
    pub fn tally(&self) -> Tally {
        self.tally
    }
}
