//! Rooms as IRC channels (issue 12): joining (a room that does not exist is opened, public,
//! owned by the joiner), leaving, room chat, names, listing, a durable topic with its setter
//! and time, settings (private, secret, topic lock, members-only, key), operators and voice,
//! the ban list, and kicks. Names compare ASCII case-insensitively and keep the case they were
//! opened with. Settings, topic and bans are durable (`Record::Channel`, the room's whole
//! state in one line); membership lives as long as the sessions.

use super::{Chat, Undo};
use crate::event::{Error, Event, Member, RoomTopic, Shared};
use crate::input::{Input, RoomChange};
use crate::record::Record;
use crate::session::ConnId;
use crate::time::Now;
use std::collections::HashMap;
use std::sync::Arc;

/// Whether an IRC-only input renews the inactivity timer (what a person typed).
pub(super) fn is_activity(input: &Input<'_>) -> bool {
    matches!(
        input,
        Input::Away { .. }
            | Input::JoinRoom { .. }
            | Input::LeaveRoom { .. }
            | Input::RoomChat { .. }
            | Input::RoomTopic { .. }
            | Input::ChangeRoom { .. }
            | Input::Kick { .. }
    )
}

/// What survives a restart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Durable {
    owner: Arc<str>,
    created_s: u64,
    private: bool,
    secret: bool,
    topic_lock: bool,
    no_outside: bool,
    key: Option<Arc<str>>,
    ops: Vec<Arc<str>>,
    voiced: Vec<Arc<str>>,
    bans: Vec<Arc<str>>,
    topic: Option<RoomTopic>,
}

fn list(v: &[Arc<str>]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.iter().map(|s| &**s).collect::<Vec<_>>().join(",")
}

fn unlist(s: &str) -> Vec<Arc<str>> {
    match s {
        "-" => Vec::new(),
        _ => s.split(',').map(Arc::from).collect(),
    }
}

impl Durable {
    fn new(owner: Arc<str>, created_s: u64) -> Durable {
        Durable {
            owner,
            created_s,
            private: false,
            secret: false,
            topic_lock: true,
            no_outside: true,
            key: None,
            ops: Vec::new(),
            voiced: Vec::new(),
            bans: Vec::new(),
            topic: None,
        }
    }

    /// `owner created flags key ops voiced bans topic_by topic_at topic…`.
    fn to_text(&self) -> String {
        let (by, at, text) = match &self.topic {
            Some(t) => (&*t.by, t.at_s, &*t.text),
            None => ("-", 0, ""),
        };
        let mut flags = self.flags();
        if flags.is_empty() {
            flags.push('-');
        }
        format!(
            "{} {} {} {} {} {} {} {by} {at} {text}",
            self.owner,
            self.created_s,
            flags.replace('k', ""),
            self.key.as_deref().unwrap_or("-"),
            list(&self.ops),
            list(&self.voiced),
            list(&self.bans),
        )
    }

    fn parse(text: &str) -> Option<Durable> {
        let mut it = text.splitn(10, ' ');
        let mut next = || it.next();
        let owner = Arc::from(next()?);
        let created_s = next()?.parse().ok()?;
        let flags = next()?;
        let key = next().filter(|k| *k != "-").map(Arc::from);
        let (ops, voiced, bans) = (unlist(next()?), unlist(next()?), unlist(next()?));
        let by = next()?;
        let at_s = next()?.parse().ok()?;
        let text = next().unwrap_or("");
        let topic = (by != "-").then(|| RoomTopic {
            text: Arc::from(text),
            by: Arc::from(by),
            at_s,
        });
        Some(Durable {
            owner,
            created_s,
            private: flags.contains('i'),
            secret: flags.contains('s'),
            topic_lock: flags.contains('t'),
            no_outside: flags.contains('n'),
            key,
            ops,
            voiced,
            bans,
            topic,
        })
    }

    /// The set flags as letters, in `iknst` order.
    fn flags(&self) -> String {
        let mut f = String::new();
        for (on, c) in [
            (self.private, 'i'),
            (self.key.is_some(), 'k'),
            (self.no_outside, 'n'),
            (self.secret, 's'),
            (self.topic_lock, 't'),
        ] {
            if on {
                f.push(c);
            }
        }
        f
    }

    fn is_op(&self, user: &str) -> bool {
        &*self.owner == user || self.ops.iter().any(|o| &**o == user)
    }
}

/// One room.
#[derive(Debug)]
pub struct Room {
    name: Arc<str>,
    durable: Durable,
    /// Members in joining order, with their connection.
    members: Vec<(Arc<str>, ConnId)>,
}

impl Room {
    fn member(&self, user: &str) -> bool {
        self.members.iter().any(|(m, _)| &**m == user)
    }
}

/// The inverse of a durable room change.
#[derive(Debug)]
pub enum ChannelUndo {
    /// Put back the state before the change (`None`: the room did not exist).
    Restore(String, Option<(Arc<str>, Durable)>),
}

/// Every room, by case-folded name, and the rooms of each user.
#[derive(Debug, Default)]
pub struct Channels {
    rooms: HashMap<String, Room>,
    of_user: HashMap<Arc<str>, Vec<String>>,
}

fn key_of(room: &str) -> String {
    room.to_ascii_lowercase()
}

impl Channels {
    pub fn replay(&mut self, room: String, state: &str) {
        let Some(durable) = Durable::parse(state) else {
            log::warn!("unreadable channel record for {room}");
            return;
        };
        let key = key_of(&room);
        match self.rooms.get_mut(&key) {
            Some(r) => r.durable = durable,
            None => {
                let room = Room {
                    name: Arc::from(room),
                    durable,
                    members: Vec::new(),
                };
                self.rooms.insert(key, room);
            }
        }
    }

    pub fn snapshot(&self, out: &mut Vec<Record>) {
        for r in self.rooms.values() {
            out.push(Record::Channel {
                room: r.name.to_string(),
                state: r.durable.to_text(),
            });
        }
    }

    pub fn undo(&mut self, undo: ChannelUndo) {
        let ChannelUndo::Restore(key, before) = undo;
        match before {
            None => {
                if let Some(r) = self.rooms.remove(&key) {
                    for (m, _) in r.members {
                        self.forget(&m, &key);
                    }
                }
            }
            Some((name, durable)) => match self.rooms.get_mut(&key) {
                Some(r) => r.durable = durable,
                None => {
                    let members = Vec::new();
                    let room = Room {
                        name,
                        durable,
                        members,
                    };
                    self.rooms.insert(key, room);
                }
            },
        }
    }

    fn forget(&mut self, user: &str, key: &str) {
        if let Some(v) = self.of_user.get_mut(user) {
            v.retain(|k| k != key);
            if v.is_empty() {
                self.of_user.remove(user);
            }
        }
    }

    fn remove_member(&mut self, key: &str, user: &str) {
        if let Some(r) = self.rooms.get_mut(key) {
            r.members.retain(|(m, _)| &**m != user);
        }
        self.forget(user, key);
    }
}

impl Chat {
    /// Rooms `user` is in, with whether they operate each.
    pub(super) fn rooms_of_user(&self, user: &str) -> Vec<(Arc<str>, bool)> {
        let Some(keys) = self.channels.of_user.get(user) else {
            return Vec::new();
        };
        keys.iter()
            .filter_map(|k| self.channels.rooms.get(k))
            .filter(|r| !r.durable.secret)
            .map(|r| (r.name.clone(), r.durable.is_op(user)))
            .collect()
    }

    /// Whether `a` and `b` are in some room together.
    pub(super) fn share_a_room(&self, a: &str, b: &str) -> bool {
        let Some(keys) = self.channels.of_user.get(a) else {
            return false;
        };
        keys.iter()
            .filter_map(|k| self.channels.rooms.get(k))
            .any(|r| r.member(b))
    }

    /// Make the room's current durable state a record, undoable to `before`.
    fn save_room(&mut self, key: &str, before: Option<(Arc<str>, Durable)>) {
        let Some(r) = self.channels.rooms.get(key) else {
            return;
        };
        let record = Record::Channel {
            room: r.name.to_string(),
            state: r.durable.to_text(),
        };
        let undo = ChannelUndo::Restore(key.to_string(), before);
        self.outbox.record(record, Undo::Channels(undo));
    }

    fn before(&self, key: &str) -> Option<(Arc<str>, Durable)> {
        self.channels
            .rooms
            .get(key)
            .map(|r| (r.name.clone(), r.durable.clone()))
    }

    /// `event` to every member of the room at `key` (except `skip`), leaving out those who
    /// blocked `from`.
    fn fan_room(&mut self, key: &str, event: Event, from: Option<&str>, skip: Option<ConnId>) {
        let Some(r) = self.channels.rooms.get(key) else {
            return;
        };
        let shared = Shared::new(event);
        let blockers = from.and_then(|f| self.blocks.blockers(f));
        for (m, c) in &r.members {
            if Some(*c) == skip || blockers.is_some_and(|b| b.contains(&**m)) {
                continue;
            }
            self.outbox.share(*c, &shared);
        }
    }

    /// A room input of a logged-in user.
    pub(super) fn room_input(&mut self, conn: ConnId, user: &Arc<str>, input: Input<'_>, now: Now) {
        match input {
            Input::JoinRoom { room, key } => self.join_room(conn, user, room, key, now),
            Input::LeaveRoom { room, reason } => self.leave_room(conn, user, room, reason),
            Input::LeaveAllRooms => {
                let keys = self.channels.of_user.get(&**user).cloned();
                for k in keys.unwrap_or_default() {
                    let name = self.channels.rooms.get(&k).map(|r| r.name.clone());
                    if let Some(name) = name {
                        self.leave_room(conn, user, &name, "");
                    }
                }
            }
            Input::RoomChat { room, text, notice } => {
                self.room_chat(conn, user, room, text, notice)
            }
            Input::RoomNames { room } => self.room_names(conn, user, room),
            Input::RoomWho { room } => self.room_who(conn, user, room),
            Input::RoomList { room } => self.room_list(conn, user, room),
            Input::RoomTopic { room, topic } => self.room_topic(conn, user, room, topic, now),
            Input::RoomModes { room } => match self.channels.rooms.get(&key_of(room)) {
                Some(r) => {
                    let event = Event::RoomModes {
                        room: r.name.clone(),
                        flags: Arc::from(r.durable.flags()),
                        key: r.durable.key.clone(),
                        created_s: r.durable.created_s,
                    };
                    self.outbox.send(conn, event);
                }
                None => self.outbox.error(conn, Error::NoSuchRoom(Arc::from(room))),
            },
            Input::RoomBans { room } => match self.channels.rooms.get(&key_of(room)) {
                Some(r) => {
                    let event = Event::Bans {
                        room: r.name.clone(),
                        bans: r.durable.bans.clone(),
                    };
                    self.outbox.send(conn, event);
                }
                None => self.outbox.error(conn, Error::NoSuchRoom(Arc::from(room))),
            },
            Input::ChangeRoom { room, changes } => self.change_room(conn, user, room, changes),
            Input::Kick {
                room,
                user: target,
                reason,
            } => self.kick(conn, user, room, target, reason),
            _ => self.outbox.error(conn, Error::InvalidCommand),
        }
    }

    fn banned(&self, r: &Room, user: &str, conn: ConnId) -> bool {
        let card = self.card_of(user, conn);
        let full = format!("{user}!{}@{}", card.username, card.host);
        r.durable.bans.iter().any(|b| {
            super::directory::glob(b.as_bytes(), user.as_bytes())
                || super::directory::glob(b.as_bytes(), full.as_bytes())
        })
    }

    fn join_room(
        &mut self,
        conn: ConnId,
        user: &Arc<str>,
        room: &str,
        key: Option<&str>,
        now: Now,
    ) {
        let k = key_of(room);
        match self.channels.rooms.get(&k) {
            None => {
                let durable = Durable::new(user.clone(), now.unix_ms() / 1000);
                let r = Room {
                    name: Arc::from(room),
                    durable,
                    members: Vec::new(),
                };
                self.channels.rooms.insert(k.clone(), r);
                self.save_room(&k, None);
            }
            Some(r) if r.member(user) => return,
            Some(r) => {
                let name = r.name.clone();
                let op = r.durable.is_op(user);
                if self.banned(r, user, conn) && !op {
                    return self.outbox.error(conn, Error::BannedFromRoom(name));
                }
                if r.durable.private && !op {
                    return self.outbox.error(conn, Error::PrivateRoom(name));
                }
                if r.durable.key.as_deref().is_some_and(|k| Some(k) != key) && !op {
                    return self.outbox.error(conn, Error::WrongRoomKey(name));
                }
            }
        }
        let Some(r) = self.channels.rooms.get_mut(&k) else {
            return;
        };
        r.members.push((user.clone(), conn));
        let name = r.name.clone();
        let topic = r.durable.topic.clone();
        self.channels
            .of_user
            .entry(user.clone())
            .or_default()
            .push(k.clone());
        let joined = Event::Joined {
            room: name.clone(),
            user: user.clone(),
        };
        self.fan_room(&k, joined, None, None);
        if topic.is_some() {
            self.outbox.send(conn, Event::Topic { room: name, topic });
        }
        self.room_names(conn, user, room);
    }

    fn leave_room(&mut self, conn: ConnId, user: &Arc<str>, room: &str, reason: &str) {
        let k = key_of(room);
        let Some(r) = self.channels.rooms.get(&k) else {
            return self.outbox.error(conn, Error::NoSuchRoom(Arc::from(room)));
        };
        if !r.member(user) {
            return self.outbox.error(conn, Error::NotInRoom(r.name.clone()));
        }
        let parted = Event::Parted {
            room: r.name.clone(),
            user: user.clone(),
            reason: Arc::from(reason),
        };
        self.fan_room(&k, parted, None, None);
        self.channels.remove_member(&k, user);
    }

    /// On logout: out of every room; each roommate hears of it once.
    pub(super) fn leave_all_rooms(&mut self, conn: ConnId, user: &Arc<str>) {
        let Some(keys) = self.channels.of_user.remove(&**user) else {
            return;
        };
        let mut told: Vec<ConnId> = Vec::new();
        for k in &keys {
            if let Some(r) = self.channels.rooms.get_mut(k) {
                r.members.retain(|(m, _)| m != user);
                told.extend(r.members.iter().map(|(_, c)| *c));
            }
        }
        told.sort_unstable();
        told.dedup();
        let reason = self
            .directory
            .quit_reason(conn)
            .unwrap_or_else(|| Arc::from(""));
        let quit = Shared::new(Event::Quit {
            user: user.clone(),
            reason,
        });
        for c in told {
            self.outbox.share(c, &quit);
        }
    }

    fn room_chat(&mut self, conn: ConnId, user: &Arc<str>, room: &str, text: &str, notice: bool) {
        let k = key_of(room);
        let Some(r) = self.channels.rooms.get(&k) else {
            return self.outbox.error(conn, Error::NoSuchRoom(Arc::from(room)));
        };
        if !r.member(user) {
            return self
                .outbox
                .error(conn, Error::CannotSendToRoom(r.name.clone()));
        }
        let event = Event::RoomChat {
            room: r.name.clone(),
            from: user.clone(),
            text: Arc::from(text),
            notice,
        };
        // The sender's own copy (the line protocol shows it; IRC does not echo).
        self.outbox.send(conn, event.clone());
        self.fan_room(&k, event, Some(user), Some(conn));
    }

    pub(super) fn room_members(&self, r: &Room) -> Vec<Member> {
        r.members
            .iter()
            .map(|(m, _)| Member {
                name: m.clone(),
                op: r.durable.is_op(m),
                voice: r.durable.voiced.iter().any(|v| v == m),
            })
            .collect()
    }

    fn room_names(&mut self, conn: ConnId, user: &str, room: &str) {
        let event = match self.channels.rooms.get(&key_of(room)) {
            Some(r) if !r.durable.secret || r.member(user) => Event::Members {
                room: r.name.clone(),
                secret: r.durable.secret,
                members: self.room_members(r),
            },
            _ => Event::Members {
                room: Arc::from(room),
                secret: false,
                members: Vec::new(),
            },
        };
        self.outbox.send(conn, event);
    }

    fn room_who(&mut self, conn: ConnId, user: &str, room: &str) {
        let Some(r) = self.channels.rooms.get(&key_of(room)) else {
            return;
        };
        if r.durable.secret && !r.member(user) {
            return;
        }
        let cards = r
            .members
            .iter()
            .map(|(m, c)| {
                let mut card = self.card_of(m, *c);
                card.rooms = vec![(r.name.clone(), r.durable.is_op(m))];
                card
            })
            .collect();
        let room = Some(r.name.clone());
        self.outbox.send(conn, Event::Cards { room, cards });
    }

    fn room_list(&mut self, conn: ConnId, user: &str, room: Option<&str>) {
        let mut rooms: Vec<(Arc<str>, usize, Arc<str>)> = self
            .channels
            .rooms
            .iter()
            .filter(|(k, _)| room.is_none_or(|want| key_of(want) == **k))
            .map(|(_, r)| r)
            .filter(|r| !r.members.is_empty() && (!r.durable.secret || r.member(user)))
            .map(|r| {
                let topic = r.durable.topic.as_ref().map(|t| t.text.clone());
                let topic = topic.unwrap_or_else(|| Arc::from(""));
                (r.name.clone(), r.members.len(), topic)
            })
            .collect();
        rooms.sort();
        if !rooms.is_empty() {
            self.outbox.send(conn, Event::Rooms(rooms));
        }
    }

    fn room_topic(
        &mut self,
        conn: ConnId,
        user: &Arc<str>,
        room: &str,
        topic: Option<&str>,
        now: Now,
    ) {
        let k = key_of(room);
        let Some(r) = self.channels.rooms.get(&k) else {
            return self.outbox.error(conn, Error::NoSuchRoom(Arc::from(room)));
        };
        let name = r.name.clone();
        let Some(text) = topic else {
            let topic = r.durable.topic.clone();
            return self.outbox.send(conn, Event::Topic { room: name, topic });
        };
        if !r.member(user) {
            return self.outbox.error(conn, Error::NotInRoom(name));
        }
        if r.durable.topic_lock && !r.durable.is_op(user) {
            return self.outbox.error(conn, Error::NotRoomOperator(name));
        }
        let before = self.before(&k);
        if let Some(r) = self.channels.rooms.get_mut(&k) {
            r.durable.topic = (!text.is_empty()).then(|| RoomTopic {
                text: Arc::from(text),
                by: user.clone(),
                at_s: now.unix_ms() / 1000,
            });
        }
        self.save_room(&k, before);
        let event = Event::TopicSet {
            room: name,
            by: user.clone(),
            text: Arc::from(text),
        };
        self.fan_room(&k, event, None, None);
    }

    fn change_room(&mut self, conn: ConnId, user: &Arc<str>, room: &str, changes: &[RoomChange]) {
        let k = key_of(room);
        let Some(r) = self.channels.rooms.get(&k) else {
            return self.outbox.error(conn, Error::NoSuchRoom(Arc::from(room)));
        };
        if !r.durable.is_op(user) {
            return self
                .outbox
                .error(conn, Error::NotRoomOperator(r.name.clone()));
        }
        let before = self.before(&k);
        let mut letters = String::new();
        let mut args: Vec<Arc<str>> = Vec::new();
        let mut sign = ' ';
        let mut missing: Vec<Arc<str>> = Vec::new();
        let Some(r) = self.channels.rooms.get_mut(&k) else {
            return;
        };
        for change in changes {
            let (on, c, arg) = match *change {
                RoomChange::Private(on) => (on, 'i', None),
                RoomChange::Secret(on) => (on, 's', None),
                RoomChange::TopicLock(on) => (on, 't', None),
                RoomChange::NoOutside(on) => (on, 'n', None),
                RoomChange::Key(key) => {
                    let key = key.filter(|k| *k != "-" && !k.contains(','));
                    (key.is_some(), 'k', Some(key.unwrap_or("*")))
                }
                RoomChange::Op(m, on) | RoomChange::Voice(m, on) => {
                    if !r.member(m) {
                        missing.push(Arc::from(m));
                        continue;
                    }
                    let c = if matches!(change, RoomChange::Op(..)) {
                        'o'
                    } else {
                        'v'
                    };
                    (on, c, Some(m))
                }
                RoomChange::Ban(mask, on) => {
                    if mask.contains(',') {
                        continue;
                    }
                    (on, 'b', Some(mask))
                }
            };
            let d = &mut r.durable;
            let set = |v: &mut Vec<Arc<str>>, x: &str| {
                let had = v.iter().any(|e| &**e == x);
                if on && !had {
                    v.push(Arc::from(x));
                } else if !on {
                    v.retain(|e| &**e != x);
                }
                had != on
            };
            let changed = match c {
                'i' => std::mem::replace(&mut d.private, on) != on,
                's' => std::mem::replace(&mut d.secret, on) != on,
                't' => std::mem::replace(&mut d.topic_lock, on) != on,
                'n' => std::mem::replace(&mut d.no_outside, on) != on,
                'k' => {
                    let new = if on { arg.map(Arc::from) } else { None };
                    std::mem::replace(&mut d.key, new.clone()) != new
                }
                'o' => set(&mut d.ops, arg.unwrap_or("")),
                'v' => set(&mut d.voiced, arg.unwrap_or("")),
                _ => set(&mut d.bans, arg.unwrap_or("")),
            };
            if !changed {
                continue;
            }
            let s = if on { '+' } else { '-' };
            if s != sign {
                letters.push(s);
                sign = s;
            }
            letters.push(c);
            if let Some(a) = arg {
                args.push(Arc::from(a));
            }
        }
        let name = r.name.clone();
        for m in missing {
            self.outbox.error(conn, Error::NotAMember(m));
        }
        if letters.is_empty() {
            return;
        }
        self.save_room(&k, before);
        let event = Event::RoomChanged {
            room: name,
            by: user.clone(),
            changes: Arc::from(letters),
            args,
        };
        self.fan_room(&k, event, None, None);
    }

    fn kick(&mut self, conn: ConnId, user: &Arc<str>, room: &str, target: &str, reason: &str) {
        let k = key_of(room);
        let Some(r) = self.channels.rooms.get(&k) else {
            return self.outbox.error(conn, Error::NoSuchRoom(Arc::from(room)));
        };
        if !r.member(user) {
            return self.outbox.error(conn, Error::NotInRoom(r.name.clone()));
        }
        if !r.durable.is_op(user) {
            return self
                .outbox
                .error(conn, Error::NotRoomOperator(r.name.clone()));
        }
        let Some((target, _)) = r
            .members
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(target))
        else {
            return self
                .outbox
                .error(conn, Error::NotAMember(Arc::from(target)));
        };
        let target = target.clone();
        let event = Event::Kicked {
            room: r.name.clone(),
            by: user.clone(),
            user: target.clone(),
            reason: Arc::from(reason),
        };
        self.fan_room(&k, event, None, None);
        self.channels.remove_member(&k, &target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durable_state_round_trips() {
        let mut d = Durable::new(Arc::from("ann"), 17);
        assert_eq!(Durable::parse(&d.to_text()), Some(d.clone()));
        d.key = Some(Arc::from("sekrit"));
        d.private = true;
        d.bans = vec![Arc::from("bob"), Arc::from("*!*@10.0.0.1")];
        d.ops = vec![Arc::from("cy")];
        d.topic = Some(RoomTopic {
            text: Arc::from("  spaced topic "),
            by: Arc::from("ann"),
            at_s: 99,
        });
        assert_eq!(d.flags(), "iknt");
        assert_eq!(Durable::parse(&d.to_text()), Some(d));
    }
}
