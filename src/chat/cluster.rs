//! The core's side of cluster mode (issue 23). The node's state is the replay of the Redis
//! stream it has read: a command that writes records is *parked* at its end (its changes undone
//! at once, its replies kept, its connection not read) and its records leave with the
//! iteration's batch; when the stream brings an entry back, every node applies it the same way
//! ([`Chat::apply_entry`]): each transaction is checked whole against the state (the first
//! record in the stream wins) and applied or refused, and the node that wrote it releases the
//! replies or answers the loser. Users on other nodes are *ghosts*: sessions whose actions are
//! forwarded to their node ([`Chat::take_forwards`]). Applying an entry makes events for this
//! node's own connections only; each node tells its own users.

use super::directory::Info;
use super::outbox::Parked;
use super::private::Change as PrivateChange;
use super::rooms::state::Change;
use super::{Action, Chat};
use crate::credentials::Secret;
use crate::event::{Error, Event, Notice, Ticket};
use crate::record::Record;
use crate::session::{ConnId, Session, State};
use crate::time::Now;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// One parked transaction on its way through the stream.
#[derive(Debug)]
struct Waiting {
    conn: Option<ConnId>,
    /// An operator's account change (`user add|passwd|del`): its ticket, answered by the loop.
    operator: Option<u64>,
    /// Replies released once the stream has it (empty when they left at once: history only).
    actions: Vec<Action>,
    fallback: Vec<Action>,
    records: Vec<Record>,
    /// A wrong password for this account, in this form: answered once applied, from the
    /// count every node then has (locked by it, or try again).
    wrong_password: Option<(Arc<str>, super::login::Form)>,
}

/// An event for users on other nodes.
#[derive(Debug, PartialEq)]
pub enum Forward {
    /// To one connection, as its node names it.
    To {
        node: Arc<str>,
        conn: Arc<str>,
        event: Event,
    },
    /// To every member of `room` on every other node, as each node knows its members when it
    /// has applied what the sender had (not as the sender knew them: its view may lag).
    Room { room: Arc<str>, event: Event },
    /// To everyone online on every other node (a broadcast).
    All { event: Event },
}

/// Who a fan-out event is for, as far as other nodes are concerned.
enum Scope {
    Room(Arc<str>),
    All,
    /// Only the recipients named.
    Named,
}

fn scope(event: &Event) -> Scope {
    use crate::event::{Audience, RoomEvent};
    match event {
        Event::Room(
            RoomEvent::Joined { room, .. }
            | RoomEvent::Left { room, .. }
            | RoomEvent::Chat { room, .. }
            | RoomEvent::Kicked { room, .. }
            | RoomEvent::TopicSet { room, .. }
            | RoomEvent::Changed { room, .. }
            | RoomEvent::Closed(room),
        ) => Scope::Room(room.clone()),
        Event::Chat {
            to: Audience::Everyone | Audience::Announcement,
            ..
        }
        | Event::ServerAnnouncement(_) => Scope::All,
        _ => Scope::Named,
    }
}

/// The user a room line or broadcast is about: those who block them do not get it.
fn subject(event: &Event) -> Option<&Arc<str>> {
    use crate::event::RoomEvent;
    match event {
        Event::Chat { from, .. } | Event::Room(RoomEvent::Chat { from, .. }) => Some(from),
        Event::Room(RoomEvent::Joined { user, .. } | RoomEvent::Left { user, .. }) => Some(user),
        _ => None,
    }
}

/// The whole state as records, for a snapshot in Redis: accounts first (records may name
/// them), then the frozen durable state, both cheap to take at any size (copy-on-write shards)
/// and made into records a step at a time, then the tail: history, who is online where, who
/// is in which room, private sessions. The tail is read from the live state a piece at a
/// time, so the node applies no stream entry until the snapshot is written (`cluster/node.rs`):
/// in cluster mode the state changes only by applying entries, so it is the state of the
/// snapshot's instant throughout.
#[derive(Debug)]
pub struct ClusterSnapshot {
    /// Account shards not yet made into records, and the records of the one begun.
    accounts: Vec<Arc<super::cow_map::Shard<Secret>>>,
    account_records: VecDeque<Record>,
    frozen: super::Frozen,
    /// The records of the tail's piece begun.
    tail: VecDeque<Record>,
    /// Where the tail is.
    cursor: Tail,
}

/// Records of the tail made at a time, at most (plus one room's members, one user's records).
pub const TAIL_PIECE: usize = 512;

/// Which part of a snapshot's tail comes next.
#[derive(Debug)]
enum Tail {
    /// History, from this entry on.
    History(usize),
    /// Who is online: these users (taken when the part begins, a pointer copy each), from
    /// the `next`th.
    Online {
        users: Vec<Arc<str>>,
        next: usize,
    },
    /// Who is in which room: these rooms, from the `next`th.
    Rooms {
        rooms: Vec<Arc<str>>,
        next: usize,
    },
    /// Private sessions and requests (one piece: at most one per online user).
    Private,
    Done,
}

impl ClusterSnapshot {
    /// The next record, `None` after the last. `chat` is the state the snapshot was taken
    /// of, unchanged since (see the type's doc).
    pub fn next_record(&mut self, chat: &Chat) -> Option<Record> {
        use crate::store::Snapshot;
        while self.account_records.is_empty() {
            let Some(shard) = self.accounts.pop() else {
                break;
            };
            // One shard at a time: about 1/256 of the accounts.
            self.account_records
                .extend(shard.iter().map(|(user, secret)| Record::Account {
                    user: user.to_string(),
                    secret: (**secret).clone(),
                }));
        }
        if let Some(r) = self
            .account_records
            .pop_front()
            .or_else(|| self.frozen.next_record())
        {
            return Some(r);
        }
        while self.tail.is_empty() && !matches!(self.cursor, Tail::Done) {
            chat.snapshot_tail(&mut self.cursor, &mut self.tail);
        }
        self.tail.pop_front()
    }

    /// The tail's records made so far and not yet taken (for tests: at most a piece).
    pub fn tail_made(&self) -> usize {
        self.tail.len()
    }
}

/// Cluster state of the core; `None` in `Chat` when the file journal is in use.
#[derive(Debug)]
pub(super) struct Cluster {
    node: Arc<str>,
    /// Parked this iteration, in order.
    batch: Vec<Waiting>,
    /// Batches handed out and not yet read back, oldest first, with their numbers.
    sent: VecDeque<(u64, Vec<Waiting>)>,
    next_batch: u64,
    /// Connections with parked transactions (how many): not read until they settle.
    waiting: HashMap<ConnId, u32>,
    /// Connections whose login is on its way through the stream.
    logging_in: HashSet<ConnId>,
    /// Connections whose password was right, not yet logged in: the account and the
    /// fingerprint of the secret checked, for the `login-checked` record of the login.
    checked: HashMap<ConnId, (Arc<str>, String)>,
    /// This node's connections that were gone when their rename was applied: the name each is
    /// online under, until its logout (written at the disconnect, naming the old name) comes.
    renamed_gone: HashMap<ConnId, Arc<str>>,
    /// Ghosts by where they live, and back.
    ghosts: HashMap<(Arc<str>, Arc<str>), ConnId>,
    homes: HashMap<ConnId, (Arc<str>, Arc<str>)>,
    next_gen: u32,
    forwards: Vec<Forward>,
    /// The first this many actions are routed already, or are for this node only (made by
    /// applying an entry, or forwarded here by another node): never forwarded (again).
    routed: usize,
    /// The session's self-description when the current command began (IRC `AWAY`, `OPER`…):
    /// if the command changed it, the change goes to the stream with it.
    /// Noted for a logged-in session only, with its user (the command may log it out).
    info_before: Option<(ConnId, Arc<str>, Option<Info>)>,
    /// The room the current command changes, who changes it and whether as an operator
    /// (else its topic): if it writes records, a `room-by` goes first among them.
    room_actor: Option<(ConnId, Arc<str>, Arc<str>, bool)>,
    /// Operator changes decided: ticket and the reply's verdict.
    operator_done: Vec<(u64, Result<(), String>)>,
    next_ticket: u64,
    /// A codec's ticket opening the replies to a connection's next input, sent this iteration
    /// (its place in the outbox): if that input's command is parked, it moves into the parked
    /// replies (see [`Chat::reply_opening`]).
    opening: Option<(ConnId, Ticket, usize)>,
}

/// How a node names one of its connections in records: `slot.gen`.
pub fn conn_name(conn: ConnId) -> String {
    format!("{}.{}", conn.slot(), conn.gen())
}

fn parse_conn(text: &str) -> Option<ConnId> {
    let (slot, gen) = text.split_once('.')?;
    Some(ConnId::new(slot.parse().ok()?, gen.parse().ok()?))
}

/// Why a transaction lost: the first record the state refused.
#[derive(Debug)]
enum Refusal {
    Exists(Arc<str>),
    /// Online already; `guest`: a JSON guest's name, which has its own refusal.
    Online {
        user: Arc<str>,
        guest: bool,
    },
    RoomExists(Arc<str>),
    /// §4 across nodes: the request was answered (or expired) first.
    NoRequest(Arc<str>),
    NoSession(Arc<str>),
    /// Asked while offline (its logout came first).
    Offline(Arc<str>),
    /// A guest's new name was taken first (by a login or another rename).
    NameTaken(Arc<str>),
    /// SASL after registration: the account is online (and `--duplicate-login` refuses).
    AccountOnline(Arc<str>),
    /// SASL after registration, or a login: the account was deleted while it was on its way.
    AccountGone,
    /// No such account (deleted first), or its hash no longer outdated (an upgrade).
    NoAccount(Arc<str>),
    /// A login whose password was checked against a secret replaced first (on another node).
    PasswordChanged,
    /// Refused with the error one server would have answered: a join the room no longer
    /// takes (another node's join filled it, its ban or `+i` came first, it was closed), a
    /// message queued for (or a block of) an account deleted first.
    Answer(Error),
}

/// A private-session change as the record that carries it.
fn private_record(change: &PrivateChange) -> Record {
    let s = |a: &Arc<str>| a.to_string();
    match change {
        PrivateChange::Ask { from, to, address } => Record::PrivateAsk {
            from: s(from),
            to: s(to),
            address: *address,
        },
        PrivateChange::Open { from, to } => Record::PrivateOpen {
            from: s(from),
            to: s(to),
        },
        PrivateChange::Drop { from, to } => Record::PrivateDrop {
            from: s(from),
            to: s(to),
        },
        PrivateChange::Stop { user, peer } => Record::PrivateStop {
            user: s(user),
            peer: s(peer),
        },
        PrivateChange::Port { user, port, key } => Record::P2pPort {
            user: s(user),
            port: u32::from(*port),
            key: key.as_deref().map(String::from),
        },
    }
}

impl Chat {
    /// Run as a node of a cluster named `node` (issue 23): from now on records go to the
    /// stream through [`Chat::take_batch`] and state changes only through
    /// [`Chat::apply_entry`].
    pub fn enable_cluster(&mut self, node: &str) {
        self.rooms.changes = Some(Vec::new());
        self.cluster = Some(Box::new(Cluster {
            node: Arc::from(node),
            batch: Vec::new(),
            sent: VecDeque::new(),
            next_batch: 1,
            waiting: HashMap::new(),
            logging_in: HashSet::new(),
            checked: HashMap::new(),
            renamed_gone: HashMap::new(),
            ghosts: HashMap::new(),
            homes: HashMap::new(),
            next_gen: 0,
            forwards: Vec::new(),
            routed: 0,
            info_before: None,
            room_actor: None,
            operator_done: Vec::new(),
            next_ticket: 0,
            opening: None,
        }));
    }

    /// A login on its way through the stream counts as done for a codec that asks at once
    /// (IRC's registration): the password was right, and only another node's login of the
    /// same user in the same moment can still refuse it (then the refusal follows).
    pub(super) fn login_pending(&self, conn: ConnId) -> bool {
        self.cluster
            .as_ref()
            .is_some_and(|c| c.logging_in.contains(&conn))
    }

    /// Cluster mode: a protocol's own reply (an IRC numeric) to an input whose command is
    /// parked waits with the command's replies, so it neither overtakes them nor tells of a
    /// change the stream does not have yet (`306` before the away message is there for
    /// others). `Some(event)`: not held, send it now.
    pub(super) fn hold_reply(&mut self, conn: ConnId, event: Event) -> Option<Event> {
        let Some(c) = self.cluster.as_mut() else {
            return Some(event);
        };
        let parked = c
            .batch
            .iter_mut()
            .rev()
            .chain(
                c.sent
                    .iter_mut()
                    .rev()
                    .flat_map(|(_, b)| b.iter_mut().rev()),
            )
            .find(|w| w.conn == Some(conn));
        match parked {
            Some(w) => {
                w.actions.push(Action::Send(conn, event));
                None
            }
            None => Some(event),
        }
    }

    /// Whether `conn` has a command on its way through the stream: its next input waits.
    pub fn is_waiting(&self, conn: ConnId) -> bool {
        self.cluster
            .as_ref()
            .is_some_and(|c| c.waiting.contains_key(&conn))
    }

    /// A command of `conn` begins (cluster mode: its session's self-description is noted).
    pub(super) fn begin_command(&mut self, conn: ConnId) {
        let user = self.sessions.get(&conn).and_then(Session::user);
        if let (Some(c), Some(user)) = (self.cluster.as_mut(), user) {
            c.info_before = Some((conn, user.clone(), self.directory.get(conn).cloned()));
        }
    }

    /// End a command: single node, a transaction for the group commit; cluster, parked.
    pub(super) fn seal(&mut self, mark: super::outbox::Mark, conn: ConnId, now: Now) {
        let Some(c) = self.cluster.as_mut() else {
            return self.outbox.seal(mark, conn);
        };
        // A logged-in session that changed what it says about itself tells every node.
        let before = c.info_before.take().filter(|(id, ..)| *id == conn);
        if let (Some((_, user, before)), Some(after)) = (before, self.directory.get(conn)) {
            if before.as_ref() != Some(after) {
                let record = after.record(&user);
                self.outbox.record_first(mark, record);
            }
        }
        let actor = c.room_actor.take().filter(|(id, ..)| *id == conn);
        let changes = self.room_changes();
        if let Some((_, room, by, op)) = actor.filter(|_| self.outbox.wrote_since(mark)) {
            let record = Record::RoomBy {
                room: room.to_string(),
                by: by.to_string(),
                op,
            };
            self.outbox.record_first(mark, record);
        }
        if let Some(parked) = self.outbox.seal_parked(mark, conn) {
            self.park(Some(conn), parked, changes, now);
        }
    }

    /// Cluster mode: `conn`'s command changes `room` as `me` (`op`: with an operator's
    /// rights; else its topic), which every node checks again when it applies the change.
    pub(super) fn note_room_actor(&mut self, conn: ConnId, room: &Arc<str>, me: &str, op: bool) {
        if let Some(c) = self.cluster.as_mut() {
            c.room_actor = Some((conn, room.clone(), Arc::from(me), op));
        }
    }

    /// The membership changes since the last call, also as records in the outbox.
    fn room_changes(&mut self) -> Vec<Change> {
        let changes = self
            .rooms
            .changes
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        for ch in &changes {
            self.outbox.records.push(match ch {
                Change::Join {
                    room,
                    user,
                    current,
                } => Record::RoomJoin {
                    room: room.to_string(),
                    user: user.to_string(),
                    current: *current,
                },
                Change::Part { room, user, .. } => Record::RoomPart {
                    room: room.to_string(),
                    user: user.to_string(),
                },
            });
        }
        changes
    }

    /// Apply membership changes (or their inverse), not logging them.
    fn change_rooms(&mut self, changes: impl Iterator<Item = Change>, inverse: bool) {
        let log = self.rooms.changes.take();
        for ch in changes {
            let (room, user, current, join) = match ch {
                Change::Join {
                    room,
                    user,
                    current,
                } => (room, user, current, !inverse),
                Change::Part {
                    room,
                    user,
                    current,
                } => (room, user, current, inverse),
            };
            if join {
                if let Some(conn) = self.online.get(&user) {
                    self.rooms.join(&room, &user, conn, current);
                }
            } else {
                self.rooms.part(&room, &user);
            }
        }
        self.rooms.changes = log;
    }

    fn park(&mut self, conn: Option<ConnId>, parked: Parked, changes: Vec<Change>, now: Now) {
        let Parked {
            mut actions,
            records,
            undo,
            fallback,
        } = parked;
        let log = self.rooms.changes.take();
        for u in undo.into_iter().rev() {
            self.undo(u, now);
        }
        self.rooms.changes = log;
        self.change_rooms(changes.into_iter().rev(), true);
        self.blocks.committed();
        self.rooms.committed();
        self.profiles.committed();
        self.mailboxes.committed();
        // History only: nothing to decide, so nothing to wait for (as a single node does not
        // wait for the disk for it): the replies leave now and the connection is read on.
        let lazy = records.iter().all(Record::is_lazy);
        if lazy {
            self.outbox.actions.append(&mut actions);
        }
        let Some(c) = self.cluster.as_mut() else {
            return;
        };
        let conn = conn.filter(|_| !lazy);
        if let Some((opened, ticket, at)) = c.opening {
            let last = self.outbox.actions.len().checked_sub(1);
            let noted = matches!(
                self.outbox.actions.last(),
                Some(Action::Send(to, Event::Reserved(t))) if *to == opened && *t == ticket
            );
            if conn == Some(opened) && last == Some(at) && noted {
                c.opening = None;
                if let Some(start) = self.outbox.actions.pop() {
                    actions.insert(0, start);
                }
            }
        }
        // Its replies are out: if the batch is lost, nobody is told (history is best effort).
        let fallback = if lazy { Vec::new() } else { fallback };
        if let Some(conn) = conn {
            *c.waiting.entry(conn).or_default() += 1;
        }
        c.batch.push(Waiting {
            conn,
            operator: None,
            actions,
            fallback,
            records,
            wrong_password: None,
        });
    }

    /// The node a ghost (a session of another node) is on.
    pub(super) fn home_node(&self, conn: ConnId) -> Option<Arc<str>> {
        let c = self.cluster.as_ref()?;
        c.homes.get(&conn).map(|(node, _)| node.clone())
    }

    /// Whether this node is one of a cluster.
    pub(super) fn clustered(&self) -> bool {
        self.cluster.is_some()
    }

    /// Cluster mode: `login` instead of logging in now; true if so.
    pub(super) fn defer_login(&mut self, conn: ConnId, user: &str, guest: bool) -> bool {
        let Some(c) = &self.cluster else {
            return false;
        };
        let peer = self
            .sessions
            .get(&conn)
            .and_then(Session::peer)
            .map(|p| p.to_string());
        let record = Record::Login {
            user: user.to_string(),
            node: c.node.to_string(),
            conn: conn_name(conn),
            guest,
            peer,
        };
        if !guest {
            self.push_checked(conn, user);
        }
        self.outbox.records.push(record);
        // What an IRC session said before it logged in (`USER`), for every node.
        if let Some(info) = self.directory.get(conn) {
            self.outbox.records.push(info.record(user));
        }
        if let Some(c) = self.cluster.as_mut() {
            c.logging_in.insert(conn);
        }
        true
    }

    /// Cluster mode: `conn` typed the right password of `user`, checked against the secret
    /// whose fingerprint is `checked` (`None`: the account's secret now); its login says so.
    pub(super) fn note_checked(&mut self, conn: ConnId, user: &str, checked: Option<String>) {
        let now = self.accounts.get(user).map(Secret::fingerprint);
        if let (Some(c), Some(fingerprint)) = (self.cluster.as_mut(), checked.or(now)) {
            c.checked.insert(conn, (Arc::from(user), fingerprint));
        }
    }

    /// The `login-checked` record of `conn`'s login to `account`, if its password was checked
    /// (a registration's was not: its transaction makes the account).
    fn push_checked(&mut self, conn: ConnId, account: &str) {
        let Some(c) = self.cluster.as_mut() else {
            return;
        };
        if let Some((user, fingerprint)) = c.checked.remove(&conn) {
            if *user == *account {
                self.outbox.records.push(Record::LoginChecked {
                    user: user.to_string(),
                    fingerprint,
                });
            }
        }
    }

    /// A connection is gone: what cluster mode kept for it.
    pub(super) fn forget_checked(&mut self, conn: ConnId) {
        if let Some(c) = self.cluster.as_mut() {
            c.checked.remove(&conn);
        }
    }

    /// Cluster mode: `logout` instead of logging out now; true if so.
    pub(super) fn defer_logout(&mut self, conn: ConnId, user: &Arc<str>, now: Now) -> bool {
        let Some(c) = &self.cluster else {
            return false;
        };
        let name = conn_name(conn);
        // Once per session: a close after an explicit logout asks again (`close_after_flush`).
        let pending = self.outbox.records.iter().any(
            |r| matches!(r, Record::Logout { conn: c, user: u, .. } if *c == name && **u == **user),
        );
        if self.online.get(user) == Some(conn) && !pending {
            let record = Record::Logout {
                user: user.to_string(),
                node: c.node.to_string(),
                conn: name,
                at_ms: now.unix_ms(),
            };
            self.outbox.records.push(record);
        }
        true
    }

    /// Cluster mode: an operator's `KILL` of `user`, online on `target` (here or a ghost), goes
    /// to the stream, and every node ends the session when it applies it (its own node tells
    /// it and closes it); true if so.
    pub(super) fn defer_kill(&mut self, target: ConnId, user: &str, by: &str, why: &str) -> bool {
        let Some(c) = &self.cluster else {
            return false;
        };
        let (node, conn) = match c.homes.get(&target) {
            Some((node, conn)) => (node.to_string(), conn.to_string()),
            None => (c.node.to_string(), conn_name(target)),
        };
        self.outbox.records.push(Record::Kill {
            user: user.to_string(),
            node,
            conn,
            by: by.to_string(),
            reason: why.to_string(),
        });
        true
    }

    /// Cluster mode: guest `user`'s rename to `name` goes to the stream, and every node makes
    /// it when it applies the record (the first record to claim a name wins); true if so.
    pub(super) fn defer_rename(&mut self, conn: ConnId, user: &Arc<str>, name: &str) -> bool {
        let Some(c) = &self.cluster else {
            return false;
        };
        self.outbox.records.push(Record::Rename {
            user: user.to_string(),
            name: name.to_string(),
            node: c.node.to_string(),
            conn: conn_name(conn),
        });
        true
    }

    /// Cluster mode: guest `user` proved `account`'s password after registration (SASL); the
    /// rename to the account goes to the stream, and every node makes it when it applies the
    /// record ([`Chat::apply_attach`]); true if so.
    pub(super) fn defer_attach(&mut self, conn: ConnId, user: &Arc<str>, account: &str) -> bool {
        if self.cluster.is_none() {
            return false;
        }
        self.push_checked(conn, account);
        let Some(c) = &self.cluster else {
            return false;
        };
        self.outbox.records.push(Record::Attach {
            user: user.to_string(),
            account: account.to_string(),
            node: c.node.to_string(),
            conn: conn_name(conn),
        });
        true
    }

    /// Cluster mode: an invitation of `user` into `room` goes to the stream, and every node
    /// keeps it when it applies the record (the invitee's node lets it in, and uses it up when
    /// it applies the join); true if so.
    pub(super) fn defer_invite(&mut self, room: &str, user: &str) -> bool {
        if self.cluster.is_none() {
            return false;
        }
        self.outbox.records.push(Record::RoomInvite {
            room: room.to_string(),
            user: user.to_string(),
        });
        true
    }

    /// Cluster mode: a private-session change goes to the stream (the nodes of both users
    /// apply it from there); true if so.
    pub(super) fn defer_private(&mut self, change: &PrivateChange) -> bool {
        if self.cluster.is_none() {
            return false;
        }
        self.outbox.records.push(private_record(change));
        true
    }

    /// Cluster mode: a request's expiry (`drop`, on the requester's node) goes to the stream on
    /// its own, and `expired` is told to `to` only if it is applied there before any answer.
    pub(super) fn defer_expiry(
        &mut self,
        drop: &PrivateChange,
        to: ConnId,
        expired: &Event,
    ) -> bool {
        let Some(c) = self.cluster.as_mut() else {
            return false;
        };
        c.batch.push(Waiting {
            conn: None,
            operator: None,
            actions: vec![Action::Send(to, expired.clone())],
            fallback: Vec::new(),
            records: vec![private_record(drop)],
            wrong_password: None,
        });
        true
    }

    /// Cluster mode: a wrong password is counted by every node when it applies the record, in
    /// the stream's order (logins in between start the count again), so that all of them lock
    /// the account at the same third failure, or none does; `conn` is answered then and not
    /// read meanwhile. True if so. (Counted at once by the node where it was typed, and by the
    /// others in the stream's order, the nodes could disagree on whether it was locked.)
    pub(super) fn defer_wrong_password(
        &mut self,
        conn: ConnId,
        user: &str,
        form: super::login::Form,
    ) -> bool {
        let Some(c) = self.cluster.as_mut() else {
            return false;
        };
        *c.waiting.entry(conn).or_default() += 1;
        c.batch.push(Waiting {
            conn: Some(conn),
            operator: None,
            actions: Vec::new(),
            // Lost to an outage: not counted anywhere, so "try again" is the truth (`settle`).
            fallback: Vec::new(),
            records: vec![Record::LoginFailed {
                user: user.to_string(),
            }],
            wrong_password: Some((Arc::from(user), form)),
        });
        true
    }

    /// The iteration's records as one batch for the stream: its number and its transactions,
    /// each a list of records (the last one: records outside any command). `None`: nothing to
    /// send.
    pub fn take_batch(&mut self) -> Option<(u64, Vec<Vec<Record>>)> {
        let _ = self.room_changes(); // Outside a command (none expected): applied already.
        let loose = self.outbox.take_loose();
        self.blocks.committed();
        self.rooms.committed();
        self.profiles.committed();
        self.mailboxes.committed();
        let c = self.cluster.as_mut()?;
        let mut batch = std::mem::take(&mut c.batch);
        // Each on its own: one refused (a password hash upgrade of an account another node
        // changed) must not take the others (a logout) with it.
        batch.extend(loose.into_iter().map(|r| Waiting {
            conn: None,
            operator: None,
            actions: Vec::new(),
            fallback: Vec::new(),
            records: vec![r],
            wrong_password: None,
        }));
        if batch.is_empty() {
            return None;
        }
        let number = c.next_batch;
        c.next_batch += 1;
        // History only: its replies are out and nobody waits for its verdict, so nothing is
        // kept to settle (a second of DMs kept here was freed in one iteration: BENCHMARKS.md,
        // "Cluster on Redis"); a lost one is lost as history is on a single node's crash.
        if batch.iter().flat_map(|w| &w.records).all(Record::is_lazy) {
            return Some((number, batch.into_iter().map(|w| w.records).collect()));
        }
        let txns = batch.iter().map(|w| w.records.clone()).collect();
        c.sent.push_back((number, batch));
        Some((number, txns))
    }

    /// Batch `number` never reached the stream (Redis refused it, or it is not there after an
    /// outage): its commands are answered with the storage error and changed nothing.
    pub fn lost_batch(&mut self, number: u64) {
        let Some(c) = self.cluster.as_mut() else {
            return;
        };
        let Some(at) = c.sent.iter().position(|(n, _)| *n == number) else {
            return;
        };
        let lost = c.sent.remove(at).map(|(_, b)| b).unwrap_or_default();
        for w in lost {
            self.settle(w, None);
        }
    }

    /// Batches sent and not yet read back, oldest first.
    pub fn unsettled(&self) -> Vec<u64> {
        self.cluster
            .as_ref()
            .map(|c| c.sent.iter().map(|(n, _)| *n).collect())
            .unwrap_or_default()
    }

    /// One transaction is decided: its replies (`ok`), the loser's answer, or the storage
    /// error (`None`: it never reached the stream).
    fn settle(&mut self, mut w: Waiting, verdict: Option<Result<(), Refusal>>) {
        // A codec's tickets among the replies (an events request's id and its `done`, an IRC
        // label) still bracket whatever answers instead of them: those that open the replies
        // before it, the rest after (dropped with the replies, a bot waited for its `done`
        // for ever, and an events connection took every later event for a reply to the id).
        let mut closing = Vec::new();
        if !matches!(verdict, Some(Ok(()))) {
            let ticket = |a: &Action| matches!(a, Action::Send(to, Event::Reserved(_)) if Some(*to) == w.conn);
            let opening = w.actions.iter().take_while(|a| ticket(a)).count();
            closing = w.actions.drain(opening..).filter(ticket).collect();
            self.outbox.actions.append(&mut w.actions);
        }
        if let (Some((user, form)), Some(conn)) = (w.wrong_password.take(), w.conn) {
            if verdict.is_none() {
                self.retry_after_wrong_password(conn, &user, form);
            }
        }
        if let (Some(ticket), Some(c)) = (w.operator, self.cluster.as_mut()) {
            let answer = match &verdict {
                Some(Ok(())) => Ok(()),
                None => Err("storage unavailable, nothing changed".to_string()),
                Some(Err(Refusal::Exists(user))) => Err(format!("{user} already exists")),
                Some(Err(Refusal::NoAccount(user))) => Err(format!("no account {user}")),
                Some(Err(refusal)) => Err(format!("refused: {refusal:?}")),
            };
            c.operator_done.push((ticket, answer));
            return;
        }
        if let (Some(conn), Some(c)) = (w.conn, self.cluster.as_mut()) {
            c.logging_in.remove(&conn);
            if let Some(n) = c.waiting.get_mut(&conn) {
                *n -= 1;
                if *n == 0 {
                    c.waiting.remove(&conn);
                }
            }
        }
        match verdict {
            Some(Ok(())) => self.outbox.actions.extend(w.actions),
            None => self.outbox.actions.extend(w.fallback),
            Some(Err(refusal)) => {
                let Some(conn) = w.conn else { return };
                match refusal {
                    Refusal::Exists(user) => self.refuse(conn, Error::UserExists(user)),
                    Refusal::Online { user, guest: true } => {
                        self.outbox.error(conn, Error::NameTaken(user))
                    }
                    Refusal::Online { user, guest: false } => {
                        self.refuse(conn, Error::AlreadyLoggedIn(user))
                    }
                    Refusal::RoomExists(room) => self.outbox.error(conn, Error::RoomExists(room)),
                    Refusal::NoRequest(from) => {
                        self.outbox.error(conn, Error::NoPrivateRequest(from))
                    }
                    Refusal::NoSession(peer) => {
                        self.outbox.error(conn, Error::NoPrivateSession(peer))
                    }
                    Refusal::Offline(user) => self.outbox.error(conn, Error::Offline(user)),
                    Refusal::NameTaken(name) => self.outbox.error(conn, Error::NameTaken(name)),
                    Refusal::AccountOnline(account) => {
                        self.outbox.error(conn, Error::AlreadyLoggedIn(account))
                    }
                    // A guest's SASL keeps its session; a login is back at `Username: `.
                    Refusal::AccountGone => self.refuse(conn, Error::UnknownUsername),
                    // The password typed was the account's old one: wrong, as on one server
                    // after the change.
                    Refusal::PasswordChanged => {
                        let user = self.user_of(conn);
                        self.outbox.send(conn, Event::Notice(Notice::BadPassword));
                        if user.is_none() {
                            self.prompt_username(conn);
                        }
                    }
                    Refusal::Answer(error) => self.outbox.error(conn, error),
                    // Only an operator's change or a hash upgrade (no connection waits) is
                    // refused so.
                    Refusal::NoAccount(_) => {}
                }
            }
        }
        self.outbox.actions.append(&mut closing);
    }

    /// Apply one stream entry: batch `number` of `node`, its transactions in order. Every node
    /// decides each transaction the same way; this node settles its own.
    pub fn apply_entry(&mut self, node: &str, number: u64, txns: Vec<Vec<Record>>, now: Now) {
        let Some(c) = self.cluster.as_ref() else {
            return;
        };
        let own = *c.node == *node;
        let mut mine = Vec::new();
        if own {
            // Earlier batches of ours that are not in the stream before this one never will be.
            while let Some(n) = self
                .cluster
                .as_ref()
                .and_then(|c| c.sent.front())
                .map(|(n, _)| *n)
                .filter(|n| *n < number)
            {
                self.lost_batch(n);
            }
            let Some(c) = self.cluster.as_mut() else {
                return;
            };
            if c.sent.front().is_some_and(|(n, _)| *n == number) {
                mine = c.sent.pop_front().map(|(_, b)| b).unwrap_or_default();
            }
        }
        let mut verdicts = Vec::with_capacity(txns.len());
        self.local_only(|chat| {
            let log = chat.rooms.changes.take();
            for records in txns {
                let verdict = chat.check(&records);
                if verdict.is_ok() {
                    for r in records {
                        chat.apply_record(r, own, now);
                    }
                }
                verdicts.push(verdict);
            }
            chat.rooms.changes = log;
        });
        let mut mine = mine.into_iter();
        for verdict in verdicts {
            if let Some(mut w) = mine.next() {
                if let (Some((user, form)), Some(conn)) = (w.wrong_password.take(), w.conn) {
                    let locked = self.accounts.is_locked(&user, now.mono);
                    self.answer_wrong_password(conn, &user, form, locked, now);
                }
                self.settle(w, Some(verdict));
            }
        }
    }

    /// Whether the state takes `records` as a whole; the first refusal if not.
    fn check(&self, records: &[Record]) -> Result<(), Refusal> {
        for r in records {
            match r {
                // Names compare under the casemapping, as a single node's registration does
                // (`refuse_new_name`): another spelling of an account is that account, and a
                // name an online guest holds is taken (the same refusals, in the same order).
                Record::Account { user, .. } => {
                    if let Some(account) = self.accounts.find(user) {
                        return Err(Refusal::Exists(Arc::from(account)));
                    }
                    if let Some((guest, _)) = self.online.find(user) {
                        let user = guest.clone();
                        return Err(Refusal::Online { user, guest: false });
                    }
                }
                Record::Password { user, upgrade, .. }
                    if !self
                        .accounts
                        .get(user)
                        .is_some_and(|s| !upgrade || s.is_outdated()) =>
                {
                    return Err(Refusal::NoAccount(Arc::from(user.as_str())));
                }
                Record::AccountDeleted { user } if !self.accounts.exists(user) => {
                    return Err(Refusal::NoAccount(Arc::from(user.as_str())));
                }
                // (A deleted account is refused by its `login` record, as a name with none.)
                Record::LoginChecked { user, fingerprint }
                    if self
                        .accounts
                        .get(user)
                        .is_some_and(|s| s.fingerprint() != *fingerprint) =>
                {
                    return Err(Refusal::PasswordChanged);
                }
                Record::Login { user, guest, .. }
                    if (!self.settings.replace_duplicate || *guest)
                        && self.online.find(user).is_some()
                        || *guest && self.accounts.find(user).is_some() =>
                {
                    return Err(Refusal::Online {
                        user: Arc::from(user.as_str()),
                        guest: *guest,
                    });
                }
                // An account deleted (on another node) after its password was checked and
                // before its login reached the stream: refused as the login of a name with no
                // account is (unless this transaction creates it: a registration).
                Record::Login {
                    user, guest: false, ..
                } if self.accounts.find(user).is_none()
                    && !records
                        .iter()
                        .any(|r| matches!(r, Record::Account { user: u, .. } if u == user)) =>
                {
                    return Err(Refusal::AccountGone);
                }
                Record::Rename {
                    user, node, conn, ..
                } if !matches!(self.online.get(user), Some(id) if Some(id) == self.conn_of(node, conn)) =>
                {
                    return Err(Refusal::Offline(Arc::from(user.as_str())));
                }
                Record::Rename { user, name, .. } if self.rename_taken(user, name) => {
                    return Err(Refusal::NameTaken(Arc::from(name.as_str())));
                }
                Record::Attach {
                    user, node, conn, ..
                } if !matches!(self.online.get(user), Some(id) if Some(id) == self.conn_of(node, conn)) =>
                {
                    return Err(Refusal::Offline(Arc::from(user.as_str())));
                }
                // Gone (or its session replaced) first: as `KILL` of a user not online.
                Record::Kill {
                    user, node, conn, ..
                } if !matches!(self.online.get(user), Some(id) if Some(id) == self.conn_of(node, conn)) =>
                {
                    return Err(Refusal::Answer(Error::NoSuchUser(Arc::from(user.as_str()))));
                }
                Record::Attach { account, .. } if !self.accounts.exists(account) => {
                    return Err(Refusal::AccountGone);
                }
                Record::Attach { account, .. }
                    if !self.settings.replace_duplicate && self.online.find(account).is_some() =>
                {
                    return Err(Refusal::AccountOnline(Arc::from(account.as_str())));
                }
                Record::RoomOpen { room, .. } if self.rooms.get(room).is_some() => {
                    return Err(Refusal::RoomExists(Arc::from(room.as_str())));
                }
                // Queued for an account the operator deleted (on another node) first: it would
                // wait for whoever registers the name next.
                Record::Mail { to, .. } if self.accounts.find(to).is_none() => {
                    return Err(Refusal::Answer(Error::NoSuchUser(to.clone())));
                }
                // Likewise a block (between accounts) held against the name's next account.
                Record::Block { by, user }
                    if self.accounts.find(by).is_none() || self.accounts.find(user).is_none() =>
                {
                    return Err(Refusal::Answer(Error::InvalidUser));
                }
                // The actor of a room change lost its rights, or the room went, first.
                Record::RoomBy { room, by, op } => {
                    if let Some(error) = self.room_refusal(room, by, *op) {
                        return Err(Refusal::Answer(error));
                    }
                }
                Record::RoomJoin { room, user, .. } => {
                    // Closed (on another node) since the joiner's node saw it, unless this
                    // transaction opens it.
                    let opens =
                        |r: &Record| matches!(r, Record::RoomOpen { room: o, .. } if o == room);
                    if self.rooms.get(room).is_none() && !records.iter().any(opens) {
                        return Err(Refusal::Answer(Error::NoRoom(Arc::from(room.as_str()))));
                    }
                    if let Some(error) = self.join_refused(room, user) {
                        return Err(Refusal::Answer(error));
                    }
                }
                Record::PrivateAsk { from, to, .. }
                    if !self.online.contains(from) || !self.online.contains(to) =>
                {
                    return Err(Refusal::Offline(Arc::from(to.as_str())));
                }
                Record::PrivateOpen { from, to } | Record::PrivateDrop { from, to }
                    if !self.private.requested(from, to) =>
                {
                    return Err(Refusal::NoRequest(Arc::from(from.as_str())));
                }
                Record::PrivateStop { user, peer } if !self.private.in_session(user, peer) => {
                    return Err(Refusal::NoSession(Arc::from(peer.as_str())));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn apply_record(&mut self, record: Record, own: bool, now: Now) {
        match record {
            Record::Login {
                user,
                node,
                conn,
                guest,
                peer,
            } => self.apply_login(&user, &node, &conn, guest, peer, now),
            Record::Logout {
                user, node, conn, ..
            } => {
                if let Some(id) = self.conn_of(&node, &conn) {
                    // The session's name now: a rename on its way when the connection dropped
                    // was applied before this logout, which names the old one.
                    let gone = self
                        .cluster
                        .as_mut()
                        .and_then(|c| c.renamed_gone.remove(&id));
                    let user = match gone.or_else(|| self.user_of(id)) {
                        Some(now_named) if self.online.get(&now_named) == Some(id) => now_named,
                        _ => Arc::from(user),
                    };
                    self.finish_logout(id, &user, now);
                    self.forget_ghost(id);
                }
            }
            Record::Rename {
                user,
                name,
                node,
                conn,
            } => {
                if let Some(id) = self.conn_of(&node, &conn) {
                    self.make_rename(id, &Arc::from(user), &name, false);
                    if self.sessions.get(&id).is_none() {
                        if let Some(c) = self.cluster.as_mut() {
                            c.renamed_gone.insert(id, Arc::from(name));
                        }
                    }
                }
            }
            Record::Attach {
                user,
                account,
                node,
                conn,
            } => {
                if let Some(id) = self.conn_of(&node, &conn) {
                    self.apply_attach(id, &Arc::from(user), &account);
                }
            }
            Record::NodeDown { node } => self.node_down(&node, now),
            Record::Kill {
                user,
                node,
                conn,
                by,
                reason,
            } => {
                let Some(id) = self.conn_of(&node, &conn) else {
                    return;
                };
                let user: Arc<str> = Arc::from(user);
                if self.online.get(&user) == Some(id) {
                    if !id.is_ghost() {
                        log::info!("{} killed by {by} ({reason})", self.log_name(id));
                    }
                    // Every node logs it out here: no `logout` record follows.
                    self.end_killed(id, &user, &by, &reason, now);
                    self.forget_ghost(id);
                }
            }
            Record::AccountDeleted { user } => self.apply_account_deleted(&user, now),
            Record::PrivateAsk { from, to, address } => {
                let (from, to) = (Arc::from(from), Arc::from(to));
                self.apply_private(PrivateChange::Ask { from, to, address }, now);
            }
            Record::PrivateOpen { from, to } => {
                let (from, to) = (Arc::from(from), Arc::from(to));
                self.apply_private(PrivateChange::Open { from, to }, now);
            }
            Record::PrivateDrop { from, to } => {
                let (from, to) = (Arc::from(from), Arc::from(to));
                self.apply_private(PrivateChange::Drop { from, to }, now);
            }
            Record::PrivateStop { user, peer } => {
                let (user, peer) = (Arc::from(user), Arc::from(peer));
                self.apply_private(PrivateChange::Stop { user, peer }, now);
            }
            record @ Record::UserInfo { .. } => {
                let Some((user, info)) = Info::from_record(record) else {
                    return;
                };
                if let Some(conn) = self.online.get(&user) {
                    self.directory.set(conn, info);
                }
            }
            Record::P2pPort { user, port, key } => {
                // A key that is not a fingerprint registers nothing, as from a client.
                let key = match key.as_deref().map(crate::valid::PeerKey::new).transpose() {
                    Ok(key) => key.map(|k| Arc::from(k.as_str())),
                    Err(_) => return,
                };
                if let Ok(port) = u16::try_from(port) {
                    let user = Arc::from(user);
                    self.apply_private(PrivateChange::Port { user, port, key }, now);
                }
            }
            Record::RoomJoin {
                room,
                user,
                current,
            } => {
                // An invitation is used up by the join, on every node (`join_room` leaves it).
                self.rooms.uninvite(&room, &user);
                let join = Change::Join {
                    room: Arc::from(room),
                    user: Arc::from(user),
                    current,
                };
                self.change_rooms(std::iter::once(join), false);
            }
            Record::RoomInvite { room, user } => {
                let max = self.settings.max_list;
                self.rooms.invite(&room, &Arc::from(user), max);
            }
            Record::RoomPart { room, user } => {
                let part = Change::Part {
                    room: Arc::from(room),
                    user: Arc::from(user),
                    current: false,
                };
                self.change_rooms(std::iter::once(part), false);
            }
            // A direct message with a guest on either side: kept like any message, and the
            // guest's side noted so that its logout or rename forgets it on this node as on the
            // sender's (it stayed on the sender's node only; loaded from a snapshot, it outlived
            // the guest).
            Record::Said {
                ref from,
                to: crate::record::Audience::User(ref to),
                ..
            } => {
                let guests: Vec<Arc<str>> = [from, to]
                    .into_iter()
                    .filter(|name| !self.accounts.exists(name))
                    .cloned()
                    .collect();
                self.replay(record);
                self.history.note_guests(guests.into_iter());
            }
            // Every node counts it here, the one it was typed on too (`defer_wrong_password`).
            Record::LoginFailed { user } => {
                self.count_wrong_password(&user, now);
            }
            // Applied by this node when they happened: a delivery, a lockout (written by
            // releases that counted a failure where it was typed).
            Record::Delivered { .. } | Record::Lockout { .. } if own => {}
            other => self.replay(other),
        }
    }

    /// An account the operator deleted (on any node): its session, here or a ghost, ends on
    /// every node alike (no `logout` record: each applies this), its rooms close.
    fn apply_account_deleted(&mut self, user: &str, now: Now) {
        if let Some(conn) = self.online.get(user) {
            let name: Arc<str> = Arc::from(user);
            if !conn.is_ghost() {
                log::info!("{user} logged out: account deleted by the operator");
                self.outbox
                    .send(conn, Event::Notice(crate::event::Notice::AccountDeleted));
            }
            self.finish_logout(conn, &name, now);
            if conn.is_ghost() {
                self.forget_ghost(conn);
            } else {
                self.close_after_flush(conn, now);
            }
        }
        self.accounts.remove(user);
        let closed = self.purge_account(user);
        self.tell_rooms_closed(closed);
    }

    /// Cluster mode: an operator's account change goes to the stream and is applied by every
    /// node from there (`Some(ticket)`; [`Chat::take_operator_answers`] says how it went).
    pub fn operator_change(&mut self, op: &super::AccountOp) -> Option<u64> {
        use super::AccountOp;
        let c = self.cluster.as_mut()?;
        let record = match op.clone() {
            AccountOp::Add { user, secret } => Record::Account { user, secret },
            AccountOp::Passwd { user, secret } => Record::Password {
                user,
                secret,
                upgrade: false,
            },
            AccountOp::Delete { user } => Record::AccountDeleted { user },
        };
        let ticket = c.next_ticket;
        c.next_ticket += 1;
        c.batch.push(Waiting {
            conn: None,
            operator: Some(ticket),
            actions: Vec::new(),
            fallback: Vec::new(),
            records: vec![record],
            wrong_password: None,
        });
        Some(ticket)
    }

    /// Operator changes decided since the last call.
    pub fn take_operator_answers(&mut self) -> Vec<(u64, Result<(), String>)> {
        self.cluster
            .as_mut()
            .map(|c| std::mem::take(&mut c.operator_done))
            .unwrap_or_default()
    }

    /// A password hash upgrade's record: cluster mode, one every node applies while the
    /// account still has an outdated hash.
    pub(super) fn upgrade_record(&self, user: String, secret: Secret) -> Record {
        match self.cluster {
            Some(_) => Record::Password {
                user,
                secret,
                upgrade: true,
            },
            None => Record::Account { user, secret },
        }
    }

    /// The connection `node` calls `conn`, here: one of ours, or its ghost.
    fn conn_of(&self, node: &str, conn: &str) -> Option<ConnId> {
        let c = self.cluster.as_ref()?;
        if *c.node == *node {
            return parse_conn(conn);
        }
        c.ghosts.get(&(Arc::from(node), Arc::from(conn))).copied()
    }

    fn apply_login(
        &mut self,
        user: &str,
        node: &str,
        conn: &str,
        guest: bool,
        peer: Option<String>,
        now: Now,
    ) {
        self.accounts.succeeded(user);
        let Some(c) = self.cluster.as_mut() else {
            return;
        };
        if *c.node == *node {
            let Some(id) = parse_conn(conn) else { return };
            let ready = self
                .sessions
                .get(&id)
                .is_some_and(|s| matches!(s.state, State::Username | State::Password { .. }));
            if ready {
                if guest {
                    self.finish_guest_login(id, user, now);
                } else {
                    self.finish_login(id, user, now);
                }
            } else {
                // Gone while its login was on its way: in, and out again at once.
                self.online.login(Arc::from(user), id);
                let node = node.to_string();
                self.outbox.records.push(Record::Logout {
                    user: user.to_string(),
                    node,
                    conn: conn.to_string(),
                    at_ms: now.unix_ms(),
                });
            }
            return;
        }
        let key = (Arc::<str>::from(node), Arc::<str>::from(conn));
        c.next_gen = c.next_gen.wrapping_add(1);
        let Some(slot) = self.sessions.free_ghost_slot() else {
            return log::warn!("no ghost slot left for {user} on {node}");
        };
        let id = ConnId::new(slot, c.next_gen);
        c.ghosts.insert(key.clone(), id);
        c.homes.insert(id, key);
        let user: Arc<str> = Arc::from(user);
        if let Some(old) = self.online.get(&user) {
            self.give_way(old, &user);
            self.ghost_online(id, &user, peer, now);
            return;
        }
        self.ghost_online(id, &user, peer, now);
        self.presence(&user, true);
    }

    /// `--duplicate-login replace`: the session `old` of `user`, wherever it is, gives way
    /// (a ghost here is forgotten: its own node replaces it when it applies the same record).
    fn give_way(&mut self, old: ConnId, user: &Arc<str>) {
        if old.is_ghost() {
            self.online.remove(user);
            self.sessions.remove(&old);
            self.forget_ghost(old);
        } else {
            self.replace_session(old, user, user);
        }
    }

    /// An `attach` record (SASL after registration): guest `user` on `id` (here or a ghost) is
    /// now `account`'s session, under the account's name: a session that held the account gives
    /// way (the check let it only under `--duplicate-login replace`), the guest is renamed as
    /// by `rename` (everyone who sees it is told), and on its own node it is told and given
    /// the account's offline messages; those here who watch for accounts hear of it.
    fn apply_attach(&mut self, id: ConnId, user: &Arc<str>, account: &str) {
        let account: Arc<str> = Arc::from(account);
        self.accounts.succeeded(&account);
        if let Some(old) = self.online.get(&account).filter(|old| *old != id) {
            self.give_way(old, &account);
        }
        self.make_rename(id, user, &account, false);
        if self.sessions.get(&id).is_none() {
            if let Some(c) = self.cluster.as_mut() {
                c.renamed_gone.insert(id, account.clone());
            }
            return;
        }
        self.account_attached(id, &account, &account);
    }

    fn ghost_online(&mut self, id: ConnId, user: &Arc<str>, peer: Option<String>, now: Now) {
        let mut s = Session::new(peer.and_then(|p| p.parse().ok()), now.mono);
        s.presence = false;
        self.sessions.insert(id, s);
        let seq = self.online.login(user.clone(), id);
        if let Some(s) = self.sessions.get_mut(&id) {
            s.state = State::LoggedIn {
                user: user.clone(),
                seq,
            };
        }
    }

    fn forget_ghost(&mut self, id: ConnId) {
        if !id.is_ghost() {
            return;
        }
        self.sessions.remove(&id);
        self.directory.remove(id);
        if let Some(c) = self.cluster.as_mut() {
            if let Some(key) = c.homes.remove(&id) {
                c.ghosts.remove(&key);
            }
        }
    }

    /// Every user of `node` is logged out (its liveness key expired).
    fn node_down(&mut self, node: &str, now: Now) {
        let Some(c) = self.cluster.as_ref() else {
            return;
        };
        let ours = *c.node == *node;
        let gone: Vec<(Arc<str>, ConnId)> = self
            .online
            .iter()
            .filter(|(_, id)| {
                if ours {
                    !id.is_ghost()
                } else {
                    c.homes.get(id).is_some_and(|(n, _)| **n == *node)
                }
            })
            .map(|(u, id)| (u.clone(), id))
            .collect();
        if !gone.is_empty() {
            log::warn!("node {node} is down: logging out its {} users", gone.len());
        }
        for (user, id) in gone {
            self.finish_logout(id, &user, now);
            if ours {
                // Taken for down by the others (a long outage): they logged this session
                // out, so it ends here too.
                self.close_after_flush(id, now);
            }
            self.forget_ghost(id);
        }
    }

    /// Actions made while applying an entry go to this node's connections only: every node
    /// tells its own users.
    fn drop_ghost_actions(&mut self, from: usize) {
        let mut kept = self.outbox.actions.split_off(from);
        kept.retain_mut(|a| match a {
            Action::Send(id, _)
            | Action::Close(id)
            | Action::CloseAfterFlush(id)
            | Action::NotifyWhenFlushed(id)
            | Action::Resume(id)
            | Action::WhenWritten(id, _)
            | Action::Subscribe(id)
            | Action::Unsubscribe(id) => !id.is_ghost(),
            // Announcements reach this node's subscribers only, which a ghost never is.
            Action::Announce(..) => true,
            Action::Share(_, ids) => {
                ids.retain(|id| !id.is_ghost());
                !ids.is_empty()
            }
        });
        self.outbox.actions.append(&mut kept);
    }

    /// Run `f`, whose actions are for this node's connections only.
    fn local_only(&mut self, f: impl FnOnce(&mut Chat)) {
        self.route_ghosts();
        let from = self.outbox.actions.len();
        f(self);
        self.drop_ghost_actions(from);
        if let Some(c) = self.cluster.as_mut() {
            c.routed = self.outbox.actions.len();
        }
    }

    /// The loop took the actions.
    pub(super) fn actions_drained(&mut self) {
        if let Some(c) = self.cluster.as_mut() {
            c.routed = 0;
            c.opening = None;
        }
    }

    /// A codec's reply opening the replies to `conn`'s next input (the events protocol's
    /// start of an `id`): sent as [`Chat::reply`] sends it, and noted, so that if the input's
    /// command is parked it waits with the command's replies; sent at once, it made the codec
    /// take whatever reached the connection meanwhile (others' chat) for replies to the id.
    pub fn reply_opening(&mut self, conn: ConnId, ticket: Ticket) {
        let at = self.outbox.actions.len();
        self.reply(conn, Event::Reserved(ticket));
        if let Some(c) = self.cluster.as_mut() {
            let sent = self.outbox.actions.len() == at + 1;
            c.opening = sent.then_some((conn, ticket, at));
        }
    }

    /// Take out the actions addressed to ghosts, as events to forward to their nodes.
    pub(super) fn route_ghosts(&mut self) {
        let Some(c) = self.cluster.as_mut() else {
            return;
        };
        let mut fresh = self
            .outbox
            .actions
            .split_off(c.routed.min(self.outbox.actions.len()));
        let homes = &c.homes;
        let forwards = &mut c.forwards;
        fn to(
            homes: &HashMap<ConnId, (Arc<str>, Arc<str>)>,
            forwards: &mut Vec<Forward>,
            id: &ConnId,
            event: &Event,
        ) {
            if let Some((node, conn)) = homes.get(id) {
                forwards.push(Forward::To {
                    node: node.clone(),
                    conn: conn.clone(),
                    event: event.clone(),
                });
            }
        }
        // No `_` arm: a new kind of action must say here whether it crosses nodes.
        fresh.retain_mut(|a| match a {
            Action::Send(id, event) => {
                if id.is_ghost() {
                    to(homes, forwards, id, event);
                }
                !id.is_ghost()
            }
            Action::Share(shared, ids) => {
                let event = &shared.event;
                match scope(event) {
                    Scope::Room(room) => forwards.push(Forward::Room {
                        room,
                        event: event.clone(),
                    }),
                    Scope::All => forwards.push(Forward::All {
                        event: event.clone(),
                    }),
                    Scope::Named => {
                        for id in ids.iter().filter(|id| id.is_ghost()) {
                            to(homes, forwards, id, event);
                        }
                    }
                }
                ids.retain(|id| !id.is_ghost());
                !ids.is_empty()
            }
            // About a connection: a ghost's is on its own node, which does this itself.
            Action::Close(id)
            | Action::CloseAfterFlush(id)
            | Action::NotifyWhenFlushed(id)
            | Action::WhenWritten(id, _)
            | Action::Resume(id)
            | Action::Subscribe(id)
            | Action::Unsubscribe(id) => !id.is_ghost(),
            // Presence: every node announces to its own users from the records it applies.
            Action::Announce(..) => true,
        });
        self.outbox.actions.append(&mut fresh);
        c.routed = self.outbox.actions.len();
    }

    /// Events for users on other nodes, to send there.
    pub fn take_forwards(&mut self) -> Vec<Forward> {
        self.route_ghosts();
        self.cluster
            .as_mut()
            .map(|c| std::mem::take(&mut c.forwards))
            .unwrap_or_default()
    }

    /// A room line another node forwarded: to this node's members of `room`, but not those
    /// who block the user it is about.
    pub fn deliver_to_room(&mut self, room: &str, event: Event) {
        self.local_only(|chat| chat.room_lines(room, event));
    }

    fn room_lines(&mut self, room: &str, event: Event) {
        let Some((_, r)) = self.rooms.get(room) else {
            return;
        };
        let blockers = subject(&event).and_then(|s| self.blocks.blockers(s));
        let event = crate::event::Shared::new(event);
        let members: Vec<ConnId> = r
            .members
            .iter()
            .filter(|(m, c)| !c.is_ghost() && !blockers.is_some_and(|b| b.contains(&***m)))
            .map(|(_, c)| *c)
            .collect();
        for c in members {
            self.outbox.share(c, &event);
        }
    }

    /// A broadcast another node forwarded: to everyone online here, but not those who block
    /// its sender.
    pub fn deliver_to_all(&mut self, event: Event) {
        self.local_only(|chat| chat.broadcast_lines(event));
    }

    fn broadcast_lines(&mut self, event: Event) {
        let from = subject(&event).cloned();
        let blockers = from.as_ref().and_then(|s| self.blocks.blockers(s));
        let event = crate::event::Shared::new(event);
        let online: Vec<ConnId> = self
            .online
            .iter()
            .filter(|(u, c)| {
                !c.is_ghost()
                    && from.as_ref() != Some(*u)
                    && !blockers.is_some_and(|b| b.contains(&***u))
            })
            .map(|(_, c)| c)
            .collect();
        for c in online {
            self.outbox.share(c, &event);
        }
    }

    /// An event another node forwarded to our connection `conn` (as we name it). A message
    /// from a user the recipient has blocked is dropped here too: the sender's node may not
    /// have applied the block yet, but the recipient was told it holds.
    pub fn deliver_forwarded(&mut self, conn: &str, event: Event) {
        let Some(id) = parse_conn(conn).filter(|id| !id.is_ghost()) else {
            return;
        };
        let Some(me) = self.sessions.get(&id).map(|s| s.user().cloned()) else {
            return;
        };
        let from = match &event {
            Event::Chat { from, .. } | Event::Room(crate::event::RoomEvent::Chat { from, .. }) => {
                Some(from)
            }
            _ => None,
        };
        if let (Some(me), Some(from)) = (me, from) {
            if self.blocks.has_blocked(&me, from) {
                return;
            }
        }
        self.local_only(|chat| chat.outbox.send(id, event));
    }

    /// Users the stream has online on this node whose session is gone here (a disconnect
    /// while Redis was down): their `logout` records, to send now.
    pub fn log_out_orphans(&mut self, now: Now) {
        let Some(c) = self.cluster.as_ref() else {
            return;
        };
        let node = c.node.to_string();
        let orphans: Vec<(Arc<str>, ConnId)> = self
            .online
            .iter()
            .filter(|(user, id)| {
                !id.is_ghost() && self.sessions.get(id).and_then(Session::user) != Some(*user)
            })
            .map(|(u, id)| (u.clone(), id))
            .collect();
        for (user, id) in orphans {
            self.outbox.records.push(Record::Logout {
                user: user.to_string(),
                node: node.clone(),
                conn: conn_name(id),
                at_ms: now.unix_ms(),
            });
        }
    }

    /// Who is online here, as the records that replay to it (for a snapshot): users on this
    /// node under this node's name.
    pub fn online_records(&self) -> Vec<Record> {
        let mut out = VecDeque::new();
        for (user, id) in self.online.iter() {
            self.online_record(user, id, &mut out);
        }
        out.into()
    }

    /// `user`, online on `id`: its login (under its node's name) and what it said of itself.
    fn online_record(&self, user: &str, id: ConnId, out: &mut VecDeque<Record>) {
        let Some(c) = self.cluster.as_ref() else {
            return;
        };
        let (node, conn) = match c.homes.get(&id) {
            Some((n, k)) => (n.to_string(), k.to_string()),
            None => (c.node.to_string(), conn_name(id)),
        };
        let peer = self
            .sessions
            .get(&id)
            .and_then(Session::peer)
            .map(|p| p.to_string());
        out.push_back(Record::Login {
            user: user.to_string(),
            node,
            conn,
            guest: !self.accounts.exists(user),
            peer,
        });
        if let Some(info) = self.directory.get(id) {
            out.push_back(info.record(user));
        }
    }

    /// The state as it is now, for a snapshot covering every entry applied so far: the
    /// accounts and the durable state frozen (copy-on-write), the tail still to be read.
    pub fn cluster_snapshot(&self) -> ClusterSnapshot {
        ClusterSnapshot {
            accounts: self.accounts.credentials().freeze(),
            account_records: VecDeque::new(),
            frozen: self.freeze(),
            tail: VecDeque::new(),
            cursor: Tail::History(0),
        }
    }

    /// The next piece of a snapshot's tail into `out`, and where the tail is then.
    fn snapshot_tail(&self, cursor: &mut Tail, out: &mut VecDeque<Record>) {
        match cursor {
            Tail::History(next) => {
                let n = self.history.records_from(*next, TAIL_PIECE, out);
                *next += n;
                if n < TAIL_PIECE {
                    let users = self.online.iter().map(|(u, _)| u.clone()).collect();
                    *cursor = Tail::Online { users, next: 0 };
                }
            }
            Tail::Online { users, next } => {
                let end = (*next + TAIL_PIECE / 2).min(users.len());
                for user in &users[*next..end] {
                    if let Some(id) = self.online.get(user) {
                        self.online_record(user, id, out);
                    }
                }
                *next = end;
                if end == users.len() {
                    let rooms = self.rooms.names();
                    *cursor = Tail::Rooms { rooms, next: 0 };
                }
            }
            Tail::Rooms { rooms, next } => {
                while out.len() < TAIL_PIECE {
                    let Some(room) = rooms.get(*next) else {
                        *cursor = Tail::Private;
                        return;
                    };
                    out.extend(self.rooms.members_of(room));
                    out.extend(self.rooms.invitations_of(room));
                    *next += 1;
                }
            }
            Tail::Private => {
                let online = |conn| self.sessions.get(&conn).and_then(Session::user).cloned();
                out.extend(self.private.changes(online).iter().map(private_record));
                *cursor = Tail::Done;
            }
            Tail::Done => {}
        }
    }

    /// The cluster has a snapshot: the accounts are its own (and the stream's after it), not
    /// those credentials.txt listed, which seed only a world that has none yet. Otherwise an
    /// account deleted cluster-wide before the snapshot would live again on this node.
    pub fn adopt_snapshot_accounts(&mut self) {
        self.accounts.forget_all();
    }

    /// Records of a snapshot read from Redis at start-up, in order (nothing to decide: the
    /// state they describe was decided).
    pub fn load_snapshot(&mut self, records: Vec<Record>, now: Now) {
        self.local_only(|chat| {
            let log = chat.rooms.changes.take();
            for r in records {
                chat.apply_record(r, false, now);
            }
            chat.rooms.changes = log;
        });
    }

    /// Nodes that have users online here (whose liveness matters).
    pub fn nodes_with_users(&self) -> Vec<Arc<str>> {
        let Some(c) = self.cluster.as_ref() else {
            return Vec::new();
        };
        let mut nodes: Vec<Arc<str>> = c.homes.values().map(|(n, _)| n.clone()).collect();
        nodes.sort_unstable();
        nodes.dedup();
        nodes
    }
}
