//! Rooms as IRC channels (issue 12), over the §5 rooms (`room_state.rs`): one set of rooms,
//! owners, members, ban lists, private flags and topics for line and IRC users alike. This file
//! adds what a channel has beyond a §5 room: a key, the secret, topic-lock and members-only
//! flags, operators besides the owner, voice, ban masks (`nick!user@host` globs) and the
//! creation time (durable as `Record::Channel`, one record of the room's extras), and the channel
//! operations: join (a room that does not exist is opened, public, owned by the joiner), part,
//! say (with `notice`), names, who, list, topic under the lock, settings and kick. Names are
//! found ASCII case-insensitively and keep the case they were opened with.

use super::{Chat, Undo};
use crate::event::{Error, Event, Member, Shared, Topic};
use crate::input::{Input, RoomChange};
use crate::record::{Access, Record};
use crate::session::ConnId;
use crate::time::Now;
use std::collections::HashMap;
use std::sync::Arc;

/// Whether an IRC-only input renews the inactivity timer (what a person typed).
pub(super) fn is_activity(input: &Input<'_>) -> bool {
    matches!(
        input,
        Input::Away { .. }
            | Input::Join { .. }
            | Input::Leave { .. }
            | Input::Say { .. }
            | Input::RoomTopic { .. }
            | Input::ChangeRoom { .. }
            | Input::KickMember { .. }
    )
}

/// A channel's settings beyond its §5 room; durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extras {
    created_s: u64,
    secret: bool,
    topic_lock: bool,
    no_outside: bool,
    key: Option<Arc<str>>,
    ops: Vec<Arc<str>>,
    voiced: Vec<Arc<str>>,
    /// Ban masks with wildcards or `!`/`@` (plain names go to the room's blacklist).
    masks: Vec<Arc<str>>,
}

impl Default for Extras {
    fn default() -> Extras {
        Extras {
            created_s: 0,
            secret: false,
            topic_lock: true,
            no_outside: true,
            key: None,
            ops: Vec::new(),
            voiced: Vec::new(),
            masks: Vec::new(),
        }
    }
}

impl Extras {
    /// The durable form: every field as it is (the record's format escapes each value).
    fn to_record(&self, room: &str) -> Record {
        Record::Channel {
            room: room.to_string(),
            created_s: self.created_s,
            secret: self.secret,
            topic_lock: self.topic_lock,
            no_outside: self.no_outside,
            key: self.key.clone(),
            ops: self.ops.clone(),
            voiced: self.voiced.clone(),
            masks: self.masks.clone(),
        }
    }
}

/// The inverse of an extras change: the value before (`None`: there was none).
#[derive(Debug)]
pub struct ChannelUndo(Arc<str>, Option<Extras>);

/// Every room's extras, by the room's name.
#[derive(Debug, Default)]
pub struct Channels {
    extras: HashMap<Arc<str>, Extras>,
}

impl Channels {
    /// Replay a `Record::Channel` (any other record is not this module's).
    pub fn replay(&mut self, record: Record) {
        if let Record::Channel {
            room,
            created_s,
            secret,
            topic_lock,
            no_outside,
            key,
            ops,
            voiced,
            masks,
        } = record
        {
            let extras = Extras {
                created_s,
                secret,
                topic_lock,
                no_outside,
                key,
                ops,
                voiced,
                masks,
            };
            self.extras.insert(Arc::from(room), extras);
        }
    }

    pub fn snapshot(&self, out: &mut Vec<Record>) {
        for (room, x) in &self.extras {
            out.push(x.to_record(room));
        }
    }

    pub fn undo(&mut self, undo: ChannelUndo) {
        let ChannelUndo(room, before) = undo;
        match before {
            Some(x) => self.extras.insert(room, x),
            None => self.extras.remove(&room),
        };
    }

    fn get(&self, room: &str) -> Extras {
        self.extras.get(room).cloned().unwrap_or_default()
    }
}

/// A mask with wildcards or a `nick!user@host` form; anything else is a plain name.
fn is_mask(s: &str) -> bool {
    s.contains(['*', '?', '!', '@'])
}

impl Chat {
    /// The room called `room`, compared ASCII case-insensitively.
    fn find_room(&self, room: &str) -> Option<Arc<str>> {
        match self.rooms.get(room) {
            Some((name, _)) => Some(name.clone()),
            None => self.rooms.find_casefold(room).cloned(),
        }
    }

    fn is_op(&self, room: &str, user: &str) -> bool {
        let owner = self.rooms.get(room).is_some_and(|(_, r)| *r.owner == *user);
        owner || self.channels.get(room).ops.iter().any(|o| **o == *user)
    }

    /// Rooms `user` is in (secret ones left out), with whether they operate each.
    pub(super) fn rooms_of_user(&self, user: &str) -> Vec<(Arc<str>, bool)> {
        self.rooms
            .joined(user)
            .into_iter()
            .filter(|r| !self.channels.get(r).secret)
            .map(|r| {
                let op = self.is_op(&r, user);
                (r, op)
            })
            .collect()
    }

    /// Whether `a` and `b` are in some room together.
    pub(super) fn share_a_room(&self, a: &str, b: &str) -> bool {
        self.rooms
            .joined(a)
            .iter()
            .any(|r| self.rooms.is_member(r, b))
    }

    /// Record `room`'s extras as they are now, undoable to `before`.
    fn save_extras(&mut self, room: &Arc<str>, before: Option<Extras>) {
        let x = self.channels.get(room);
        let record = x.to_record(room);
        self.outbox
            .record(record, Undo::Channels(ChannelUndo(room.clone(), before)));
    }

    /// `event` to every member of `room` but `skip`, leaving out those who blocked `from`.
    fn chan_fan(&mut self, room: &str, event: Event, from: Option<&str>, skip: Option<ConnId>) {
        let Some((_, r)) = self.rooms.get(room) else {
            return;
        };
        let shared = Shared::new(event);
        let blockers = from.and_then(|f| self.blocks.blockers(f));
        for (m, &c) in &r.members {
            if Some(c) == skip || blockers.is_some_and(|b| b.contains(&**m)) {
                continue;
            }
            self.outbox.share(c, &shared);
        }
    }

    /// A room input of a logged-in IRC user.
    pub(super) fn room_input(&mut self, conn: ConnId, user: &Arc<str>, input: Input<'_>, now: Now) {
        match input {
            Input::Join { room, key } => self.chan_join(conn, user, room, key, now),
            Input::Leave { room, reason } => self.chan_part(conn, user, room, reason),
            Input::LeaveAll => {
                for room in self.rooms.joined(user) {
                    self.chan_part(conn, user, &room, "");
                }
            }
            Input::Say { room, text, notice } => self.chan_say(conn, user, room, text, notice),
            Input::RoomNames { room } => self.chan_names(conn, user, room),
            Input::RoomWho { room } => self.chan_who(conn, user, room),
            Input::RoomList { room } => self.chan_list(conn, user, room),
            Input::RoomTopic { room, topic } => self.chan_topic(conn, user, room, topic, now),
            Input::RoomModes { room } => match self.find_room(room) {
                Some(name) => {
                    let x = self.channels.get(&name);
                    let private = self.rooms.get(&name).is_some_and(|(_, r)| r.private);
                    let mut flags = String::new();
                    for (on, c) in [
                        (private, 'i'),
                        (x.key.is_some(), 'k'),
                        (x.no_outside, 'n'),
                        (x.secret, 's'),
                        (x.topic_lock, 't'),
                    ] {
                        if on {
                            flags.push(c);
                        }
                    }
                    let event = Event::RoomModes {
                        room: name,
                        flags: Arc::from(flags),
                        key: x.key,
                        created_s: x.created_s,
                    };
                    self.outbox.send(conn, event);
                }
                None => self.outbox.error(conn, Error::NoRoom(Arc::from(room))),
            },
            Input::RoomBans { room } => match self.find_room(room) {
                Some(name) => {
                    let mut bans = self.rooms.get(&name).map(|(_, r)| r.list(true));
                    let mut bans = bans.take().unwrap_or_default();
                    bans.extend(self.channels.get(&name).masks);
                    self.outbox.send(conn, Event::Bans { room: name, bans });
                }
                None => self.outbox.error(conn, Error::NoRoom(Arc::from(room))),
            },
            Input::ChangeRoom { room, changes } => self.chan_change(conn, user, room, changes),
            Input::KickMember {
                room,
                user: target,
                reason,
            } => self.chan_kick(conn, user, room, target, reason),
            _ => self.outbox.error(conn, Error::InvalidCommand),
        }
    }

    /// Whether `user` on `conn` is banned from `room`: by name (the room's blacklist) or mask.
    fn chan_banned(&self, room: &str, user: &str, conn: ConnId) -> bool {
        let named = self
            .rooms
            .get(room)
            .is_some_and(|(_, r)| r.access.get(user) == Some(&Access::Banned));
        let masks = self.channels.get(room).masks;
        if named || masks.is_empty() {
            return named;
        }
        let card = self.card_of(user, conn);
        let full = format!("{user}!{}@{}", card.username, card.host);
        masks
            .iter()
            .any(|m| super::directory::glob(m.as_bytes(), full.as_bytes()))
    }

    fn chan_join(
        &mut self,
        conn: ConnId,
        user: &Arc<str>,
        room: &str,
        key: Option<&str>,
        now: Now,
    ) {
        let name = match self.find_room(room) {
            None => {
                if self.rooms.len() >= self.settings.max_rooms {
                    let max = self.settings.max_rooms;
                    return self.outbox.error(conn, Error::TooManyRooms(max));
                }
                let (record, undo) = self.rooms.open(room, user, false);
                self.outbox.record(record, Undo::Rooms(undo));
                let name: Arc<str> = Arc::from(room);
                let before = self.channels.extras.remove(&name);
                let extras = Extras {
                    created_s: now.unix_ms() / 1000,
                    ..Extras::default()
                };
                self.channels.extras.insert(name.clone(), extras);
                self.save_extras(&name, before);
                name
            }
            Some(name) => {
                if self.rooms.is_member(&name, user) {
                    return;
                }
                if !self.is_op(&name, user) {
                    let may = self
                        .rooms
                        .get(&name)
                        .is_some_and(|(_, r)| r.may_enter(user));
                    let wrong_key = self
                        .channels
                        .get(&name)
                        .key
                        .is_some_and(|k| Some(&*k) != key);
                    let error = if self.chan_banned(&name, user, conn) {
                        Some(Error::BannedFromRoom(name.clone()))
                    } else if !may {
                        Some(Error::PrivateRoom(name.clone()))
                    } else if wrong_key {
                        Some(Error::WrongRoomKey(name.clone()))
                    } else {
                        None
                    };
                    if let Some(e) = error {
                        return self.outbox.error(conn, e);
                    }
                }
                name
            }
        };
        self.rooms.join(&name, user, conn, false);
        let joined = Event::Joined {
            room: name.clone(),
            user: user.clone(),
        };
        self.chan_fan(&name, joined, None, None);
        let topic = self.rooms.get(&name).and_then(|(_, r)| r.topic.clone());
        if topic.is_some() {
            let room = name.clone();
            self.outbox.send(conn, Event::Topic { room, topic });
        }
        self.chan_names(conn, user, &name);
    }

    fn chan_part(&mut self, conn: ConnId, user: &Arc<str>, room: &str, reason: &str) {
        let Some(name) = self.find_room(room) else {
            return self.outbox.error(conn, Error::NoRoom(Arc::from(room)));
        };
        if !self.rooms.is_member(&name, user) {
            return self.outbox.error(conn, Error::NotInThatRoom(name));
        }
        let parted = Event::Parted {
            room: name.clone(),
            user: user.clone(),
            reason: Arc::from(reason),
        };
        self.chan_fan(&name, parted, None, None);
        self.rooms.part(&name, user);
    }

    /// On logout: out of every room; each roommate hears of it once (an IRC `QUIT`).
    pub(super) fn leave_all_rooms(&mut self, conn: ConnId, user: &Arc<str>) {
        let mut told: Vec<ConnId> = Vec::new();
        for room in self.rooms.joined(user) {
            self.rooms.part(&room, user);
            if let Some((_, r)) = self.rooms.get(&room) {
                told.extend(r.members.values().copied());
            }
        }
        if told.is_empty() {
            return;
        }
        told.sort_unstable();
        told.dedup();
        let reason = self
            .directory
            .quit_reason(conn)
            .unwrap_or_else(|| "".into());
        let quit = Shared::new(Event::Quit {
            user: user.clone(),
            reason,
        });
        for c in told {
            self.outbox.share(c, &quit);
        }
    }

    fn chan_say(&mut self, conn: ConnId, user: &Arc<str>, room: &str, text: &str, notice: bool) {
        let Some(name) = self.find_room(room) else {
            return self.outbox.error(conn, Error::NoRoom(Arc::from(room)));
        };
        if !self.rooms.is_member(&name, user) {
            return self.outbox.error(conn, Error::CannotSendToRoom(name));
        }
        let event = Event::RoomChat {
            room: name.clone(),
            from: user.clone(),
            text: Arc::from(text),
            notice,
        };
        self.chan_fan(&name, event, Some(user), Some(conn));
    }

    fn chan_members(&self, room: &str) -> Vec<Member> {
        let Some((_, r)) = self.rooms.get(room) else {
            return Vec::new();
        };
        let x = self.channels.get(room);
        r.members
            .keys()
            .map(|m| Member {
                name: m.clone(),
                op: *r.owner == **m || x.ops.contains(m),
                voice: x.voiced.contains(m),
            })
            .collect()
    }

    fn chan_names(&mut self, conn: ConnId, user: &str, room: &str) {
        let found = self.find_room(room);
        let event = match found {
            Some(name) if !self.channels.get(&name).secret || self.rooms.is_member(&name, user) => {
                Event::Members {
                    secret: self.channels.get(&name).secret,
                    members: self.chan_members(&name),
                    room: name,
                }
            }
            _ => Event::Members {
                room: Arc::from(room),
                secret: false,
                members: Vec::new(),
            },
        };
        self.outbox.send(conn, event);
    }

    fn chan_who(&mut self, conn: ConnId, user: &str, room: &str) {
        let Some(name) = self.find_room(room) else {
            return;
        };
        if self.channels.get(&name).secret && !self.rooms.is_member(&name, user) {
            return;
        }
        let cards = self
            .chan_members(&name)
            .into_iter()
            .filter_map(|m| {
                let c = self.online.get(&m.name)?;
                let mut card = self.card_of(&m.name, c);
                card.rooms = vec![(name.clone(), m.op)];
                Some(card)
            })
            .collect();
        let room = Some(name);
        self.outbox.send(conn, Event::Cards { room, cards });
    }

    fn chan_list(&mut self, conn: ConnId, user: &str, room: Option<&str>) {
        let wanted = room.map(|r| self.find_room(r));
        let rooms: Vec<(Arc<str>, usize, Arc<str>)> = self
            .rooms
            .list()
            .into_iter()
            .map(|info| info.room)
            .filter(|r| wanted.as_ref().is_none_or(|w| w.as_ref() == Some(r)))
            .filter_map(|r| {
                let (_, room) = self.rooms.get(&r)?;
                let visible = !self.channels.get(&r).secret || room.members.contains_key(user);
                if room.members.is_empty() || !visible {
                    return None;
                }
                let topic = room.topic.as_ref().map(|t| t.text.clone());
                Some((
                    r.clone(),
                    room.members.len(),
                    topic.unwrap_or_else(|| "".into()),
                ))
            })
            .collect();
        if !rooms.is_empty() {
            self.outbox.send(conn, Event::Rooms(rooms));
        }
    }

    fn chan_topic(
        &mut self,
        conn: ConnId,
        user: &Arc<str>,
        room: &str,
        text: Option<&str>,
        now: Now,
    ) {
        let Some(name) = self.find_room(room) else {
            return self.outbox.error(conn, Error::NoRoom(Arc::from(room)));
        };
        let Some(text) = text else {
            let topic = self.rooms.get(&name).and_then(|(_, r)| r.topic.clone());
            return self.outbox.send(conn, Event::Topic { room: name, topic });
        };
        if !self.rooms.is_member(&name, user) {
            return self.outbox.error(conn, Error::NotInThatRoom(name));
        }
        if self.channels.get(&name).topic_lock && !self.is_op(&name, user) {
            return self.outbox.error(conn, Error::NotRoomOperator(name));
        }
        let topic = (!text.is_empty()).then(|| Topic {
            text: Arc::from(text),
            by: user.clone(),
            at_ms: now.unix_ms(),
        });
        if let Some((record, undo)) = self.rooms.set_topic(&name, topic) {
            self.outbox.record(record, Undo::Rooms(undo));
        }
        let event = Event::TopicSet {
            room: name.clone(),
            by: user.clone(),
            text: Arc::from(text),
        };
        self.chan_fan(&name, event, None, None);
    }

    /// Apply one change; `Some(argument)` (possibly empty) when it changed anything.
    fn chan_apply(
        &mut self,
        name: &Arc<str>,
        change: RoomChange<'_>,
    ) -> Option<(char, bool, String)> {
        let x = self.channels.extras.entry(name.clone()).or_default();
        let flip = |f: &mut bool, on: bool| std::mem::replace(f, on) != on;
        let set = |v: &mut Vec<Arc<str>>, s: &str, on: bool| {
            let had = v.iter().any(|e| **e == *s);
            if on && !had {
                v.push(Arc::from(s));
            } else if !on {
                v.retain(|e| **e != *s);
            }
            had != on
        };
        let (c, on, arg, changed) = match change {
            RoomChange::Secret(on) => ('s', on, "", flip(&mut x.secret, on)),
            RoomChange::TopicLock(on) => ('t', on, "", flip(&mut x.topic_lock, on)),
            RoomChange::NoOutside(on) => ('n', on, "", flip(&mut x.no_outside, on)),
            RoomChange::Key(Some(k)) if !k.contains(',') && k != "-" => {
                let new = Some(Arc::from(k));
                (
                    'k',
                    true,
                    k,
                    std::mem::replace(&mut x.key, new.clone()) != new,
                )
            }
            RoomChange::Key(Some(_)) => return None,
            RoomChange::Key(None) => ('k', false, "*", x.key.take().is_some()),
            RoomChange::Op(m, on) => ('o', on, m, set(&mut x.ops, m, on)),
            RoomChange::Voice(m, on) => ('v', on, m, set(&mut x.voiced, m, on)),
            RoomChange::Ban(mask, on) if is_mask(mask) => {
                if mask.contains(',') {
                    return None;
                }
                ('b', on, mask, set(&mut x.masks, mask, on))
            }
            RoomChange::Ban(user, on) => {
                let access = if on { Access::Banned } else { Access::None };
                let done = self.rooms.set_access(name, user, access);
                let changed = done.is_some();
                if let Some((record, undo)) = done {
                    self.outbox.record(record, Undo::Rooms(undo));
                }
                ('b', on, user, changed)
            }
            RoomChange::Private(on) => {
                let done = self.rooms.set_private(name, on);
                let changed = done.is_some();
                if let Some((record, undo)) = done {
                    self.outbox.record(record, Undo::Rooms(undo));
                }
                ('i', on, "", changed)
            }
        };
        changed.then(|| (c, on, arg.to_string()))
    }

    fn chan_change(&mut self, conn: ConnId, user: &Arc<str>, room: &str, changes: &[RoomChange]) {
        let Some(name) = self.find_room(room) else {
            return self.outbox.error(conn, Error::NoRoom(Arc::from(room)));
        };
        if !self.is_op(&name, user) {
            return self.outbox.error(conn, Error::NotRoomOperator(name));
        }
        let before = self.channels.extras.get(&name).cloned();
        let (mut letters, mut args, mut sign) = (String::new(), Vec::new(), ' ');
        for &change in changes {
            if let RoomChange::Op(m, _) | RoomChange::Voice(m, _) = change {
                if !self.rooms.is_member(&name, m) {
                    let user = Arc::from(m);
                    let error = Error::NotMember {
                        room: name.clone(),
                        user,
                    };
                    self.outbox.error(conn, error);
                    continue;
                }
            }
            let Some((c, on, arg)) = self.chan_apply(&name, change) else {
                continue;
            };
            let s = if on { '+' } else { '-' };
            if s != sign {
                letters.push(s);
                sign = s;
            }
            letters.push(c);
            if !arg.is_empty() {
                args.push(Arc::from(arg));
            }
        }
        if letters.is_empty() {
            return;
        }
        if self.channels.extras.get(&name) != before.as_ref() {
            self.save_extras(&name, before);
        }
        let event = Event::RoomChanged {
            room: name.clone(),
            by: user.clone(),
            changes: Arc::from(letters),
            args,
        };
        self.chan_fan(&name, event, None, None);
    }

    fn chan_kick(&mut self, conn: ConnId, user: &Arc<str>, room: &str, target: &str, reason: &str) {
        let Some(name) = self.find_room(room) else {
            return self.outbox.error(conn, Error::NoRoom(Arc::from(room)));
        };
        if !self.rooms.is_member(&name, user) {
            return self.outbox.error(conn, Error::NotInThatRoom(name));
        }
        if !self.is_op(&name, user) {
            return self.outbox.error(conn, Error::NotRoomOperator(name));
        }
        let found = self.rooms.get(&name).and_then(|(_, r)| {
            r.members
                .keys()
                .find(|m| m.eq_ignore_ascii_case(target))
                .cloned()
        });
        let Some(target) = found else {
            let user = Arc::from(target);
            return self
                .outbox
                .error(conn, Error::NotMember { room: name, user });
        };
        let event = Event::Kicked {
            room: name.clone(),
            by: user.clone(),
            user: target.clone(),
            reason: Arc::from(reason),
        };
        self.chan_fan(&name, event, None, None);
        self.rooms.part(&name, &target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17, F1: a key or mask with a space or newline comes back from the record's text.
    #[test]
    fn extras_round_trip_through_the_record_text() {
        let x = Extras {
            key: Some(Arc::from("sek rit")),
            secret: true,
            topic_lock: false,
            masks: vec![Arc::from("*!*@10.0.0.1"), Arc::from("b?b\nx y")],
            ops: vec![Arc::from("cy")],
            created_s: 99,
            ..Extras::default()
        };
        for x in [Extras::default(), x] {
            let text = x.to_record("#m").to_string();
            let mut channels = Channels::default();
            channels.replay(Record::parse(&text).expect("parses"));
            assert_eq!(channels.get("#m"), x, "{text}");
        }
    }
}
