//! Chat room data (PROTOCOL.md §5): each room's owner, kind, black/white lists and topic
//! (durable, as `room-*` records) and who is in it (not durable: a restart empties every room).
//! Membership is a set of rooms per user (the IRC front-end joins several); the line
//! front-end's one current room is kept beside it. The rules are in `rooms.rs`.

use crate::event::{RoomInfo, Topic};
use crate::record::{Access, Record};
use crate::session::ConnId;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Room {
    pub owner: Arc<str>,
    pub private: bool,
    /// Each listed user's standing; the blacklist and whitelist are disjoint by construction.
    pub access: BTreeMap<Arc<str>, Access>,
    pub topic: Option<Topic>,
    /// Who is in the room now, by name, with the connection each is on: room fan-out then
    /// needs no lookup per recipient (it costs what a broadcast costs).
    pub members: BTreeMap<Arc<str>, ConnId>,
}

impl Room {
    /// Owner always; then a ban wins; a private room also needs a permit.
    pub fn may_enter(&self, user: &str) -> bool {
        if *self.owner == *user {
            return true;
        }
        match self.access.get(user).copied().unwrap_or(Access::None) {
            Access::Banned => false,
            Access::Permitted => true,
            Access::None => !self.private,
        }
    }

    /// The blacklist (`banned`) or whitelist, sorted.
    pub fn list(&self, banned: bool) -> Vec<Arc<str>> {
        let want = if banned {
            Access::Banned
        } else {
            Access::Permitted
        };
        self.access
            .iter()
            .filter(|(_, a)| **a == want)
            .map(|(u, _)| u.clone())
            .collect()
    }
}

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
    Access {
        room: Arc<str>,
        user: Arc<str>,
        prev: Access,
    },
    Mode {
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

#[derive(Debug, Default)]
pub struct Rooms {
    rooms: BTreeMap<Arc<str>, Room>,
    /// The rooms each user is in.
    joined: HashMap<Arc<str>, BTreeSet<Arc<str>>>,
    /// The line front-end's current room of each user in one.
    current: HashMap<Arc<str>, Arc<str>>,
}

/// Room names: 1-32 characters of `[A-Za-z0-9_.-]`.
pub fn valid_name(room: &str) -> bool {
    (1..=32).contains(&room.len())
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl Rooms {
    /// The room's shared name and the room, to change.
    fn entry(&mut self, room: &str) -> Option<(Arc<str>, &mut Room)> {
        let name = self.rooms.get_key_value(room)?.0.clone();
        self.rooms.get_mut(room).map(|r| (name, r))
    }

    pub fn len(&self) -> usize {
        self.rooms.len()
    }

    /// The room and its shared name.
    pub fn get(&self, room: &str) -> Option<(&Arc<str>, &Room)> {
        self.rooms.get_key_value(room)
    }

    /// The name of the room called `room` under ASCII case folding (IRC front-end, issue 12).
    pub fn find_casefold(&self, room: &str) -> Option<&Arc<str>> {
        self.rooms.keys().find(|k| k.eq_ignore_ascii_case(room))
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

    pub fn list(&self) -> Vec<RoomInfo> {
        self.rooms
            .iter()
            .map(|(name, r)| RoomInfo {
                room: name.clone(),
                owner: r.owner.clone(),
                private: r.private,
            })
            .collect()
    }

    pub fn open(&mut self, room: &str, owner: &Arc<str>, private: bool) -> (Record, Undo) {
        let name: Arc<str> = Arc::from(room);
        self.insert(name.clone(), owner.clone(), private);
        let record = Record::RoomOpen {
            room: room.to_string(),
            owner: owner.to_string(),
            private,
        };
        (record, Undo::Open(name))
    }

    fn insert(&mut self, name: Arc<str>, owner: Arc<str>, private: bool) {
        let room = Room {
            owner,
            private,
            access: BTreeMap::new(),
            topic: None,
            members: BTreeMap::new(),
        };
        self.rooms.insert(name, room);
    }

    /// Close `room`; its members are out of it. Returns the members with the record and undo.
    pub fn close(&mut self, room: &str) -> Option<(Vec<Arc<str>>, Record, Undo)> {
        let (name, r) = self.rooms.remove_entry(room)?;
        let mut current = Vec::new();
        for m in r.members.keys() {
            self.forget(&name, m, &mut current);
        }
        let members = r.members.keys().cloned().collect();
        let record = Record::RoomClose {
            room: room.to_string(),
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
    pub fn join(&mut self, room: &str, user: &Arc<str>, conn: ConnId, current: bool) -> bool {
        let Some((name, r)) = self.entry(room) else {
            return false;
        };
        r.members.insert(user.clone(), conn);
        self.joined
            .entry(user.clone())
            .or_default()
            .insert(name.clone());
        if current {
            self.current.insert(user.clone(), name);
        }
        true
    }

    /// The connection member `user` of `room` is on.
    pub fn member_conn(&self, room: &str, user: &str) -> Option<ConnId> {
        self.rooms.get(room)?.members.get(user).copied()
    }

    /// `user` leaves `room`; returns whether it was a member and whether it was its current room.
    pub fn part(&mut self, room: &str, user: &Arc<str>) -> Option<bool> {
        let r = self.rooms.get_mut(room)?;
        r.members.remove(&**user)?;
        let mut current = Vec::new();
        self.forget(room, user, &mut current);
        Some(!current.is_empty())
    }

    pub fn set_access(&mut self, room: &str, user: &str, access: Access) -> Option<(Record, Undo)> {
        let (name, r) = self.entry(room)?;
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
                room: name,
                user,
                prev,
            };
            (record, undo)
        })
    }

    pub fn set_private(&mut self, room: &str, private: bool) -> Option<(Record, Undo)> {
        let (name, r) = self.entry(room)?;
        (r.private != private).then(|| {
            r.private = private;
            let record = Record::RoomMode {
                room: room.to_string(),
                private,
            };
            let undo = Undo::Mode {
                room: name,
                private: !private,
            };
            (record, undo)
        })
    }

    /// Set (or clear, with empty text) the topic.
    pub fn set_topic(&mut self, room: &str, topic: Option<Topic>) -> Option<(Record, Undo)> {
        let (name, r) = self.entry(room)?;
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
        let undo = Undo::Topic { room: name, prev };
        Some((record, undo))
    }

    pub fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::Open(name) => {
                if let Some(r) = self.rooms.remove(&name) {
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
                self.rooms.insert(name.clone(), *room);
                for (m, c) in members {
                    let cur = current.contains(&m);
                    self.join(&name, &m, c, cur);
                }
            }
            Undo::Access { room, user, prev } => {
                self.set_access(&room, &user, prev);
            }
            Undo::Mode { room, private } => {
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

    /// `user`'s account was deleted (issue 21): close the rooms it owned and take it off every
    /// other room's lists. Returns the rooms closed with who was in each.
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
        }
        closed
    }

    /// Apply one replayed `room-*` record.
    pub fn replay(&mut self, record: Record) {
        match record {
            Record::RoomOpen {
                room,
                owner,
                private,
            } => self.insert(Arc::from(room), Arc::from(owner), private),
            Record::RoomClose { room } => {
                self.rooms.remove(room.as_str());
            }
            Record::RoomMode { room, private } => {
                self.set_private(&room, private);
            }
            Record::RoomAccess { room, user, access } => {
                self.set_access(&room, &user, access);
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
                self.set_topic(&room, topic);
            }
            _ => {}
        }
    }

    /// Every room as records that replay to it, sorted by name.
    pub fn snapshot(&self, out: &mut Vec<Record>) {
        for (name, r) in &self.rooms {
            out.push(Record::RoomOpen {
                room: name.to_string(),
                owner: r.owner.to_string(),
                private: r.private,
            });
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
