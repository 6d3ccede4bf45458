//! Chat rooms (PROTOCOL.md §5, §8), one kind of room for every front-end (each a
//! [`Room`], `room.rs`): the collection with its indexes (the casemapping, rooms per owner,
//! memberships, the line front-end's current room). The settings live and die with the room:
//! closing it removes them from memory and from the next snapshot, so a new room of the same
//! name starts clean (issue 17, F6/F7). Every change is one small record
//! (`room-*`, `room-set`) with its undo; membership is not durable (a restart empties every
//! room). The rules are in the other files of `rooms/`.

use super::legacy::Extras;
pub use super::room::{List, Room};
use crate::event::{RoomInfo, Topic};
use crate::record::{Access, Record, RoomSetting};
use crate::session::ConnId;
use crate::valid::fold;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The inverse of one room change, for a failed commit.
#[derive(Debug)]
pub enum Undo {
    /// Remove a room just opened (and whoever joined it since).
    Open(Arc<str>),
    /// Bring back a closed room with its members; `current`: those whose current room it was.
    Close {
        name: Arc<str>,
        room: Box<Room>,
        current: Vec<Arc<str>>,
    },
    /// Set this setting back.
    Setting {
        room: Arc<str>,
        setting: RoomSetting,
    },
    Access {
        room: Arc<str>,
        user: Arc<str>,
        prev: Access,
    },
    Private {
        room: Arc<str>,
        private: bool,
    },
    Topic {
        room: Arc<str>,
        prev: Option<Topic>,
    },
    /// Put back a member the failed command put out.
    Rejoin {
        room: Arc<str>,
        user: Arc<str>,
        conn: ConnId,
        current: bool,
    },
}

impl Undo {
    /// The room the change was made to.
    pub fn room(&self) -> &Arc<str> {
        match self {
            Undo::Open(room)
            | Undo::Close { name: room, .. }
            | Undo::Setting { room, .. }
            | Undo::Access { room, .. }
            | Undo::Private { room, .. }
            | Undo::Topic { room, .. }
            | Undo::Rejoin { room, .. } => room,
        }
    }
}

/// A membership change, as cluster mode (issue 23) records it: membership is not durable,
/// but every node must know who is in a room on every node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Join {
        room: Arc<str>,
        user: Arc<str>,
        current: bool,
    },
    /// `current`: it was the user's current room.
    Part {
        room: Arc<str>,
        user: Arc<str>,
        current: bool,
    },
}

#[derive(Debug, Default)]
pub struct Rooms {
    /// Cluster mode: membership changes since the last look (`None`: not kept).
    pub changes: Option<Vec<Change>>,
    rooms: BTreeMap<Arc<str>, Room>,
    /// The casemapping (issue 17): the folded form of each room name that is not lower case.
    folded: HashMap<String, Arc<str>>,
    /// Rooms that exist, by the name of who opened them (`--max-rooms-per-user`).
    owned: HashMap<Arc<str>, usize>,
    /// The rooms each user is in.
    joined: HashMap<Arc<str>, BTreeSet<Arc<str>>>,
    /// The line front-end's current room of each user in one.
    current: HashMap<Arc<str>, Arc<str>>,
    /// Replay of files written before issue 17: their snapshots hold a room's `channel` record
    /// before its `room-open`; kept here until the room opens, dropped when replay is over.
    pending: HashMap<Arc<str>, Extras>,
    // Reliability (issue 8): no reply shows a room change a failed commit undoes.
    /// Rooms (folded names) a command changed since the last commit.
    uncommitted: Vec<String>,
    /// A lookup saw one of them: the command that made it depends on the commit.
    tainted: std::cell::Cell<bool>,
}

impl Rooms {
    pub fn len(&self) -> usize {
        self.rooms.len()
    }

    /// The room called `room` under the casemapping, with its name as opened; an exact
    /// spelling wins (two rooms differing only in case may exist in files written before
    /// the rule).
    pub fn get(&self, room: &str) -> Option<(&Arc<str>, &Room)> {
        if !self.uncommitted.is_empty() && self.uncommitted.contains(&fold(room)) {
            self.tainted.set(true);
        }
        if let Some(found) = self.rooms.get_key_value(room) {
            return Some(found);
        }
        let key = fold(room);
        match self.rooms.get_key_value(key.as_str()) {
            Some(found) => Some(found),
            None => self.rooms.get_key_value(self.folded.get(&key)?),
        }
    }

    /// The room (by its name as opened), to change.
    fn room_mut(&mut self, room: &str) -> Option<&mut Room> {
        self.rooms.get_mut(room)
    }

    /// How many existing rooms `owner` opened.
    pub fn owned_by(&self, owner: &str) -> usize {
        self.owned.get(owner).copied().unwrap_or(0)
    }

    /// Whether an existing room was opened under `name`, in any case: a guest's room outlives
    /// its owner's use of the name (a rename, or a logout while others are in it), and its
    /// ownership must not pass to the next user of that name.
    pub fn has_owner(&self, name: &str) -> bool {
        self.owned.contains_key(name) || self.owned.keys().any(|o| o.eq_ignore_ascii_case(name))
    }

    pub fn current(&self, user: &str) -> Option<&Arc<str>> {
        self.current.get(user)
    }

    pub fn is_member(&self, room: &str, user: &str) -> bool {
        self.rooms
            .get(room)
            .is_some_and(|r| r.members.contains_key(user))
    }

    /// The rooms `user` is in.
    pub fn joined(&self, user: &str) -> Vec<Arc<str>> {
        self.joined
            .get(user)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// A command changed `room` (its records wait for the commit).
    pub fn changed(&mut self, room: &str) {
        self.uncommitted.push(fold(room));
    }

    /// The commit of the changes so far is decided: they are what they are now.
    pub fn committed(&mut self) {
        self.uncommitted.clear();
    }

    /// Whether a lookup since the last call saw an uncommitted change.
    pub fn take_tainted(&self) -> bool {
        self.tainted.replace(false)
    }

    /// Every room, sorted by name, with `visible` deciding which are shown.
    pub fn list(&self, visible: impl Fn(&Room) -> bool) -> Vec<RoomInfo> {
        if !self.uncommitted.is_empty() {
            self.tainted.set(true);
        }
        self.rooms
            .iter()
            .filter(|(_, r)| visible(r))
            .map(|(name, r)| RoomInfo {
                room: name.clone(),
                owner: r.owner.clone(),
                private: r.private,
                members: r.members.len(),
                topic: r
                    .topic
                    .as_ref()
                    .map_or_else(|| Arc::from(""), |t| t.text.clone()),
                created_s: r.created_s,
                topic_at_s: r.topic.as_ref().map_or(0, |t| t.at_ms / 1000),
            })
            .collect()
    }

    /// Rooms owned by guests that are empty and whose owner `online` says is gone: they
    /// close (after a guest leaves, and at the first start-up step after replay).
    pub fn abandoned(&self, online: impl Fn(&str) -> bool) -> Vec<Arc<str>> {
        let gone = |r: &Room| r.guest && r.members.is_empty() && !online(&r.owner);
        let rooms = self.rooms.iter().filter(|(_, r)| gone(r));
        rooms.map(|(name, _)| name.clone()).collect()
    }

    /// Open `room` owned by `owner` at `created_s`; the records and the undo.
    pub fn open(
        &mut self,
        room: &str,
        owner: &Arc<str>,
        private: bool,
        origin: RoomSetting,
    ) -> (Vec<Record>, Undo) {
        let name: Arc<str> = Arc::from(room);
        self.insert(name.clone(), owner.clone(), private);
        if let Some(r) = self.room_mut(room) {
            r.apply(&origin);
        }
        let records = vec![
            Record::RoomOpen {
                room: room.to_string(),
                owner: owner.to_string(),
                private,
            },
            Record::RoomSet {
                room: room.to_string(),
                setting: origin,
            },
        ];
        (records, Undo::Open(name))
    }

    fn insert(&mut self, name: Arc<str>, owner: Arc<str>, private: bool) {
        let mut room = Room::new(owner.clone(), private);
        if let Some(x) = self.pending.remove(&name) {
            x.apply_to(&mut room);
        }
        let key = fold(&name);
        if *key != *name {
            self.folded.insert(key, name.clone());
        }
        *self.owned.entry(owner).or_default() += 1;
        if let Some(old) = self.rooms.insert(name, room) {
            self.disown(&old.owner);
        }
    }

    fn remove(&mut self, room: &str) -> Option<(Arc<str>, Room)> {
        let (name, r) = self.rooms.remove_entry(room)?;
        let key = fold(&name);
        if self.folded.get(&key) == Some(&name) {
            self.folded.remove(&key);
        }
        self.disown(&r.owner);
        Some((name, r))
    }

    fn disown(&mut self, owner: &str) {
        if let Some(n) = self.owned.get_mut(owner) {
            *n -= 1;
            if *n == 0 {
                self.owned.remove(owner);
            }
        }
    }

    /// Close `room` with everything it holds; its members are out of it. Returns the members
    /// with the record and undo.
    pub fn close(&mut self, room: &str) -> Option<(Vec<Arc<str>>, Record, Undo)> {
        let (name, r) = self.remove(room)?;
        let mut current = Vec::new();
        for m in r.members.keys() {
            self.forget(&name, m, &mut current);
        }
        let members = r.members.keys().cloned().collect();
        let record = Record::RoomClose {
            room: name.to_string(),
        };
        let undo = Undo::Close {
            name,
            room: Box::new(r),
            current,
        };
        Some((members, record, undo))
    }

    /// Drop `room` from `user`'s memberships, noting in `current` if it was the current room.
    fn forget(&mut self, room: &str, user: &Arc<str>, current: &mut Vec<Arc<str>>) {
        if let Some(set) = self.joined.get_mut(&**user) {
            set.remove(room);
            if set.is_empty() {
                self.joined.remove(&**user);
            }
        }
        if self.current.get(&**user).is_some_and(|c| **c == *room) {
            self.current.remove(&**user);
            current.push(user.clone());
        }
    }

    /// `user` joins `room` (as its current room if `current`); false if there is no such room.
    pub fn join(&mut self, room: &Arc<str>, user: &Arc<str>, conn: ConnId, current: bool) -> bool {
        let Some(r) = self.rooms.get_mut(room) else {
            return false;
        };
        r.members.insert(user.clone(), conn);
        self.joined
            .entry(user.clone())
            .or_default()
            .insert(room.clone());
        if let Some(log) = self.changes.as_mut() {
            log.push(Change::Join {
                room: room.clone(),
                user: user.clone(),
                current,
            });
        }
        if current {
            self.current.insert(user.clone(), room.clone());
        }
        true
    }

    /// `user` leaves `room`; returns whether it was its current room (`None`: not a member).
    pub fn part(&mut self, room: &str, user: &Arc<str>) -> Option<bool> {
        let (name, _) = self.rooms.get_key_value(room)?;
        let name = name.clone();
        self.rooms.get_mut(room)?.members.remove(&**user)?;
        let mut current = Vec::new();
        self.forget(room, user, &mut current);
        if let Some(log) = self.changes.as_mut() {
            log.push(Change::Part {
                room: name,
                user: user.clone(),
                current: !current.is_empty(),
            });
        }
        Some(!current.is_empty())
    }

    /// A guest took another name (issue 22): its memberships follow it, and so does its
    /// standing as an operator (the owner's as an operator: ownership stays with the name
    /// that opened the room, which closes once empty) or voiced member, as records.
    pub fn rename(&mut self, old: &Arc<str>, new: &Arc<str>) -> Vec<(Record, Undo)> {
        let mut changes = Vec::new();
        let rooms: Vec<Arc<str>> = self.joined(old);
        for room in &rooms {
            let Some(r) = self.rooms.get_mut(room) else {
                continue;
            };
            if let Some(conn) = r.members.remove(&**old) {
                r.members.insert(new.clone(), conn);
            }
            let op = r.is_op(old);
            let ops = r.ops.contains(&**old);
            let voiced = r.voiced.contains(&**old);
            let mut settings = Vec::new();
            if ops {
                settings.push(RoomSetting::Op {
                    user: old.to_string(),
                    on: false,
                });
            }
            if op {
                settings.push(RoomSetting::Op {
                    user: new.to_string(),
                    on: true,
                });
            }
            if voiced {
                settings.push(RoomSetting::Voice {
                    user: old.to_string(),
                    on: false,
                });
                settings.push(RoomSetting::Voice {
                    user: new.to_string(),
                    on: true,
                });
            }
            for setting in settings {
                changes.extend(self.set(room, setting));
            }
        }
        if let Some(set) = self.joined.remove(&**old) {
            self.joined.insert(new.clone(), set);
        }
        if let Some(room) = self.current.remove(&**old) {
            self.current.insert(new.clone(), room);
        }
        changes
    }

    /// Guest name `name` is nobody's now (its guest logged out): its standing in every room
    /// (operator, voice, permit, invitation) goes, as records, so the next user of the name
    /// inherits none of it (a new guest `gop` joined a `+ik` room as an operator).
    pub fn forget_standing(&mut self, name: &str) -> Vec<(Record, Undo)> {
        let mut changes = Vec::new();
        let rooms: Vec<Arc<str>> = self.rooms.keys().cloned().collect();
        for room in &rooms {
            let Some(r) = self.rooms.get_mut(room) else {
                continue;
            };
            r.invited.remove(name);
            let op = r.ops.contains(name);
            let voiced = r.voiced.contains(name);
            let permitted = r.access.get(name) == Some(&Access::Permitted);
            let user = name.to_string();
            if op {
                let off = RoomSetting::Op {
                    user: user.clone(),
                    on: false,
                };
                changes.extend(self.set(room, off));
            }
            if voiced {
                changes.extend(self.set(room, RoomSetting::Voice { user, on: false }));
            }
            if permitted {
                changes.extend(self.set_access(room, name, Access::None));
            }
        }
        changes
    }

    /// Every name with a standing in some room (operator, voice, permit).
    pub fn standing_names(&self) -> BTreeSet<Arc<str>> {
        let mut names = BTreeSet::new();
        for r in self.rooms.values() {
            names.extend(r.ops.iter().cloned());
            names.extend(r.voiced.iter().cloned());
            let permits = r.access.iter().filter(|(_, a)| **a == Access::Permitted);
            names.extend(permits.map(|(n, _)| n.clone()));
        }
        names
    }

    /// Whether `room` has room for an invitation of `user` ([`Rooms::invite`] would take it).
    pub fn may_invite(&self, room: &str, user: &str, max: usize) -> bool {
        self.rooms
            .get(room)
            .is_some_and(|r| r.invited.len() < max || r.invited.contains(user))
    }

    /// Let `user` into `room` once (issue 22); false when the room holds `max` invitations.
    pub fn invite(&mut self, room: &str, user: &Arc<str>, max: usize) -> bool {
        if !self.may_invite(room, user, max) {
            return false;
        }
        if let Some(r) = self.rooms.get_mut(room) {
            r.invited.insert(user.clone());
        }
        true
    }

    /// The invitations into `room`, as the records that replay to them (cluster mode's
    /// snapshot).
    #[cfg(feature = "cluster")]
    pub fn invitations_of<'a>(&'a self, room: &'a Arc<str>) -> impl Iterator<Item = Record> + 'a {
        let invited = self.rooms.get(room).map(|r| r.invited.iter());
        invited
            .into_iter()
            .flatten()
            .map(move |user| Record::RoomInvite {
                room: room.to_string(),
                user: user.to_string(),
            })
    }

    /// `user` used its invitation to `room` (or had none).
    pub fn uninvite(&mut self, room: &str, user: &str) {
        if let Some(r) = self.rooms.get_mut(room) {
            r.invited.remove(user);
        }
    }

    /// Who is in which room, as the records that replay to it (cluster mode's snapshot).
    #[cfg(feature = "cluster")]
    #[cfg(test)]
    pub fn memberships(&self, out: &mut Vec<Record>) {
        for name in self.rooms.keys() {
            out.extend(self.members_of(name));
        }
    }

    #[cfg(feature = "cluster")]
    /// Every room's name (a cluster snapshot's tail walks them a few at a time).
    pub fn names(&self) -> Vec<Arc<str>> {
        self.rooms.keys().cloned().collect()
    }

    #[cfg(feature = "cluster")]
    /// Who is in `room`, as the records that replay to it.
    pub fn members_of<'a>(&'a self, room: &'a Arc<str>) -> impl Iterator<Item = Record> + 'a {
        let members = self.rooms.get(room).map(|r| r.members.keys());
        members
            .into_iter()
            .flatten()
            .map(move |user| Record::RoomJoin {
                room: room.to_string(),
                user: user.to_string(),
                current: self.current.get(user).is_some_and(|c| c == room),
            })
    }

    /// Change one setting of `room`; `None` if there is no such room or nothing changed.
    pub fn set(&mut self, room: &Arc<str>, setting: RoomSetting) -> Option<(Record, Undo)> {
        let before = self.room_mut(room)?.apply(&setting)?;
        let record = Record::RoomSet {
            room: room.to_string(),
            setting,
        };
        let undo = Undo::Setting {
            room: room.clone(),
            setting: before,
        };
        Some((record, undo))
    }

    pub fn set_access(
        &mut self,
        room: &Arc<str>,
        user: &str,
        access: Access,
    ) -> Option<(Record, Undo)> {
        let r = self.room_mut(room)?;
        let user: Arc<str> = Arc::from(user);
        let prev = match access {
            Access::None => r.access.remove(&user),
            a => r.access.insert(user.clone(), a),
        }
        .unwrap_or(Access::None);
        (prev != access).then(|| {
            let record = Record::RoomAccess {
                room: room.to_string(),
                user: user.to_string(),
                access,
            };
            let undo = Undo::Access {
                room: room.clone(),
                user,
                prev,
            };
            (record, undo)
        })
    }

    pub fn set_private(&mut self, room: &Arc<str>, private: bool) -> Option<(Record, Undo)> {
        let r = self.room_mut(room)?;
        (r.private != private).then(|| {
            r.private = private;
            let record = Record::RoomMode {
                room: room.to_string(),
                private,
            };
            let undo = Undo::Private {
                room: room.clone(),
                private: !private,
            };
            (record, undo)
        })
    }

    /// Set (or clear, with `None`) the topic.
    pub fn set_topic(&mut self, room: &Arc<str>, topic: Option<Topic>) -> Option<(Record, Undo)> {
        let r = self.room_mut(room)?;
        let record = Record::RoomTopic {
            room: room.to_string(),
            by: topic.as_ref().map(|t| t.by.to_string()).unwrap_or_default(),
            at_ms: topic.as_ref().map_or(0, |t| t.at_ms),
            text: topic
                .as_ref()
                .map(|t| t.text.to_string())
                .unwrap_or_default(),
        };
        let prev = std::mem::replace(&mut r.topic, topic);
        let undo = Undo::Topic {
            room: room.clone(),
            prev,
        };
        Some((record, undo))
    }

    pub fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::Open(name) => {
                if let Some((name, r)) = self.remove(&name) {
                    let mut current = Vec::new();
                    for m in r.members.keys() {
                        self.forget(&name, m, &mut current);
                    }
                }
            }
            Undo::Close {
                name,
                room,
                current,
            } => {
                let members: Vec<(Arc<str>, ConnId)> =
                    room.members.iter().map(|(m, c)| (m.clone(), *c)).collect();
                let key = fold(&name);
                if *key != *name {
                    self.folded.insert(key, name.clone());
                }
                *self.owned.entry(room.owner.clone()).or_default() += 1;
                self.rooms.insert(name.clone(), *room);
                for (m, c) in members {
                    let cur = current.contains(&m);
                    self.join(&name, &m, c, cur);
                }
            }
            Undo::Setting { room, setting } => {
                self.set(&room, setting);
            }
            Undo::Access { room, user, prev } => {
                self.set_access(&room, &user, prev);
            }
            Undo::Private { room, private } => {
                self.set_private(&room, private);
            }
            Undo::Topic { room, prev } => {
                self.set_topic(&room, prev);
            }
            Undo::Rejoin {
                room,
                user,
                conn,
                current,
            } => {
                self.join(&room, &user, conn, current);
            }
        }
    }

    /// Apply one replayed room record (exact names: records name rooms as they were opened).
    /// `user`'s account was deleted (issue 21): close the rooms it owned and take it off every
    /// other room's lists (access, operators, voice). Returns the rooms closed with who was in
    /// each. Not a command's change: the `account-deleted` record replays to the same.
    pub fn purge(&mut self, user: &str) -> Vec<(Arc<str>, Vec<Arc<str>>)> {
        let owned: Vec<Arc<str>> = self
            .rooms
            .iter()
            .filter(|(_, r)| *r.owner == *user)
            .map(|(name, _)| name.clone())
            .collect();
        let mut closed = Vec::new();
        for name in owned {
            if let Some((members, _, _)) = self.close(&name) {
                closed.push((name, members));
            }
        }
        for r in self.rooms.values_mut() {
            r.access.remove(user);
            r.ops.remove(user);
            r.voiced.remove(user);
        }
        closed
    }

    pub fn replay(&mut self, record: Record) {
        match record {
            Record::RoomOpen {
                room,
                owner,
                private,
            } => self.insert(Arc::from(room), Arc::from(owner), private),
            Record::RoomClose { room } => {
                // Its members (cluster mode: on every node) are out of it.
                let _ = self.close(&room);
                self.pending.remove(room.as_str());
            }
            Record::RoomMode { room, private } => {
                self.set_private(&Arc::from(room), private);
            }
            Record::RoomAccess { room, user, access } => {
                self.set_access(&Arc::from(room), &user, access);
            }
            Record::RoomTopic {
                room,
                by,
                at_ms,
                text,
            } => {
                let topic = (!text.is_empty()).then(|| Topic {
                    text: Arc::from(text),
                    by: Arc::from(by),
                    at_ms,
                });
                self.set_topic(&Arc::from(room), topic);
            }
            Record::RoomSet { room, setting } => {
                self.set(&Arc::from(room), setting);
            }
            r @ Record::Channel { .. } => self.replay_channel(r),
            Record::Account { .. }
            // Issue 21: its rooms are closed by `Chat::purge_account` (`purge` here).
            | Record::AccountDeleted { .. }
            | Record::Block { .. }
            | Record::Unblock { .. }
            | Record::Offline { .. }
            | Record::Mail { .. }
            | Record::Said { .. }
            | Record::Delivered { .. }
            | Record::History { .. }
            | Record::Lockout { .. }
            | Record::Profile { .. }
            | Record::Login { .. }
            | Record::Logout { .. }
            | Record::Rename { .. }
            | Record::Attach { .. }
            | Record::RoomInvite { .. }
            | Record::RoomBy { .. }
            | Record::NodeDown { .. }
            | Record::Kill { .. }
            | Record::LoginFailed { .. }
            | Record::LoginChecked { .. }
            | Record::RoomJoin { .. }
            | Record::RoomPart { .. }
            | Record::PrivateAsk { .. }
            | Record::PrivateOpen { .. }
            | Record::PrivateDrop { .. }
            | Record::PrivateStop { .. }
            | Record::P2pPort { .. }
            | Record::UserInfo { .. }
            | Record::Password { .. } => {}
        }
    }

    /// A `channel` record of a file written before issue 17: the room's whole IRC state. It
    /// applies to the room if it is open, else waits for its `room-open` (old snapshots wrote
    /// it first) until replay is over.
    fn replay_channel(&mut self, record: Record) {
        let Some((room, x)) = Extras::of(record) else {
            return;
        };
        match self.rooms.get_mut(room.as_str()) {
            Some(r) => x.apply_to(r),
            None => {
                self.pending.insert(Arc::from(room), x);
            }
        }
    }

    /// Replay is over: old `channel` records of rooms that never opened are garbage (the
    /// settings of a room closed before issue 17) and must not reach a new room of that name.
    pub fn replay_done(&mut self) {
        self.pending = HashMap::new();
    }

    /// Every room as records that replay to it, sorted by name.
    pub fn snapshot(&self, out: &mut Vec<Record>) {
        for (name, r) in &self.rooms {
            out.push(Record::RoomOpen {
                room: name.to_string(),
                owner: r.owner.to_string(),
                private: r.private,
            });
            out.extend(r.settings().into_iter().map(|setting| Record::RoomSet {
                room: name.to_string(),
                setting,
            }));
            for (user, access) in &r.access {
                out.push(Record::RoomAccess {
                    room: name.to_string(),
                    user: user.to_string(),
                    access: *access,
                });
            }
            if let Some(t) = &r.topic {
                out.push(Record::RoomTopic {
                    room: name.to_string(),
                    by: t.by.to_string(),
                    at_ms: t.at_ms,
                    text: t.text.to_string(),
                });
            }
        }
    }
}
