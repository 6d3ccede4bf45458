//! Chat room rules (PROTOCOL.md §5), usable by any codec through `Input`s: open, enter (the line
//! front-end's one current room) or join (one more room, optionally opening it: IRC), part, room
//! chat, ban/permit lists, kick, close, topic, members, private flag. Durable changes go through
//! the outbox's record/undo transaction, so a reply such as `Chatroom <room> opened` leaves only
//! once its record is synced. Room fan-out is one [`Shared`] event per line.

pub mod channels;
pub mod state;

use super::outbox::Undo;
use super::Chat;
use crate::event::{Error, Event, HelpTopic, RoomEvent, Shared, Topic};
use crate::input::Input;
use crate::record::Access;
use crate::session::ConnId;
use crate::time::Now;
use crate::valid::{BoundedText, MessageText, TOPIC_LEN};
use state::{valid_name, Undo as RoomUndo};
use std::sync::Arc;

fn a(s: &str) -> Arc<str> {
    Arc::from(s)
}

impl Chat {
    /// One room or profile input of a logged-in user.
    pub(in crate::chat) fn room_command(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        input: Input<'_>,
        now: Now,
    ) {
        match input {
            Input::WhoAmI => self.view_profile(conn, me),
            Input::ViewProfile { user } => self.view_profile(conn, user),
            Input::SetProfile { attribute, value } => self.set_profile(conn, me, attribute, value),
            Input::ListUsers => self.list_users(conn, me),
            Input::OpenRoom { room, private } => {
                self.open_room(conn, me, room, private);
            }
            Input::EnterRoom { room } => self.enter_room(conn, me, room, true, false),
            Input::JoinRoom { room, create } => self.enter_room(conn, me, room, false, create),
            Input::PartRoom { room, reason } => self.part_room(conn, me, room, reason),
            Input::ListRooms => {
                let list = self.rooms.list();
                self.outbox.send(conn, Event::Room(RoomEvent::List(list)));
            }
            Input::RoomSay { room, text } => self.room_say(conn, me, room, text),
            Input::Ban { room, user, on } => self.set_access(conn, me, room, user, true, on),
            Input::Permit { room, user, on } => self.set_access(conn, me, room, user, false, on),
            Input::Kick { room, user, reason } => {
                if let Some(room) = self.owned_room(conn, me, room) {
                    self.kick(conn, me, &room, user, reason.unwrap_or("kicked"));
                }
            }
            Input::RoomAccessList { room, banned } => {
                if let Some(room) = self.owned_room(conn, me, room) {
                    let users = self.rooms.get(&room).map(|(_, r)| r.list(banned));
                    let users = users.unwrap_or_default();
                    let event = RoomEvent::AccessList {
                        room,
                        banned,
                        users,
                    };
                    self.outbox.send(conn, Event::Room(event));
                }
            }
            Input::CloseRoom { room } => self.close_room(conn, me, room),
            Input::ShowTopic { room } => {
                if let Some(room) = self.room_named(conn, me, room) {
                    let topic = self.rooms.get(&room).and_then(|(_, r)| r.topic.clone());
                    let event = Event::Room(RoomEvent::Topic { room, topic });
                    self.outbox.send(conn, event);
                }
            }
            Input::SetTopic { room, text } => self.set_topic(conn, me, room, text, now),
            Input::Members { room } => {
                if let Some(room) = self.room_named(conn, me, room) {
                    let members = self.rooms.get(&room).map(|(_, r)| {
                        r.members
                            .keys()
                            .map(|m| (m.clone(), *m == r.owner))
                            .collect()
                    });
                    let members = members.unwrap_or_default();
                    let event = Event::Room(RoomEvent::Members { room, members });
                    self.outbox.send(conn, event);
                }
            }
            Input::SetPrivate { room, private } => {
                if let Some(room) = self.owned_room(conn, me, room) {
                    if let Some((record, undo)) = self.rooms.set_private(&room, private) {
                        self.outbox.record(record, Undo::Rooms(undo));
                    }
                    let event = Event::Room(RoomEvent::Mode { room, private });
                    self.outbox.send(conn, event);
                }
            }
            _ => self.outbox.error(conn, Error::InvalidCommand),
        }
    }

    /// `help` lists the commands of where the caller is: the lobby or a room.
    pub(in crate::chat) fn help_topic(&self, me: &str) -> HelpTopic {
        match self.rooms.current(me) {
            Some(_) => HelpTopic::Room,
            None => HelpTopic::Lobby,
        }
    }

    /// The room an input names (`None`: the current room), answering the error if there is none.
    fn room_named(&mut self, conn: ConnId, me: &str, room: Option<&str>) -> Option<Arc<str>> {
        let Some(room) = room else {
            let current = self.rooms.current(me).cloned();
            if current.is_none() {
                self.outbox.error(conn, Error::NotInRoom);
            }
            return current;
        };
        let error = if !valid_name(room) {
            Error::InvalidRoomName
        } else if let Some((name, _)) = self.rooms.get(room) {
            return Some(name.clone());
        } else {
            Error::NoRoom(a(room))
        };
        self.outbox.error(conn, error);
        None
    }

    /// Like [`Chat::room_named`], for owner-only commands.
    fn owned_room(&mut self, conn: ConnId, me: &str, room: Option<&str>) -> Option<Arc<str>> {
        let room = self.room_named(conn, me, room)?;
        if self.rooms.get(&room).is_some_and(|(_, r)| *r.owner == *me) {
            return Some(room);
        }
        self.outbox.error(conn, Error::NotOwner);
        None
    }

    /// Send `event` to the members of `room` except `except`, skipping those who block `from`.
    fn room_fan(&mut self, room: &str, event: RoomEvent, except: Option<&str>, from: &str) {
        let Some((_, r)) = self.rooms.get(room) else {
            return;
        };
        let event = Shared::new(Event::Room(event));
        let blockers = self.blocks.blockers(from);
        for (m, &cid) in &r.members {
            if except == Some(&**m) || blockers.is_some_and(|b| b.contains(&**m)) {
                continue;
            }
            self.outbox.share(cid, &event);
        }
    }

    /// Open `room` owned by `me`; returns whether it was opened (errors answered).
    fn open_room(&mut self, conn: ConnId, me: &Arc<str>, room: &str, private: bool) -> bool {
        let error = if !valid_name(room) {
            Error::InvalidRoomName
        } else if self.rooms.get(room).is_some() {
            Error::RoomExists(a(room))
        } else if self.rooms.len() >= self.settings.max_rooms {
            Error::TooManyRooms(self.settings.max_rooms)
        } else {
            let (record, undo) = self.rooms.open(room, me, private);
            self.outbox.record(record, Undo::Rooms(undo));
            self.outbox
                .send(conn, Event::Room(RoomEvent::Opened(a(room))));
            return true;
        };
        self.outbox.error(conn, error);
        false
    }

    /// `enter-chatroom` (`current`: it becomes the one current room, leaving the last one) or
    /// a join of one more room (`create`: open it first if missing).
    fn enter_room(&mut self, conn: ConnId, me: &Arc<str>, room: &str, current: bool, create: bool) {
        let missing = create && valid_name(room) && self.rooms.get(room).is_none();
        if missing && !self.open_room(conn, me, room, false) {
            return;
        }
        let Some(room) = self.room_named(conn, me, Some(room)) else {
            return;
        };
        if !self.rooms.get(&room).is_some_and(|(_, r)| r.may_enter(me)) {
            return self.outbox.error(conn, Error::NotAllowed(room));
        }
        if self.rooms.is_member(&room, me) {
            if current && self.rooms.current(me) != Some(&room) {
                self.leave_current(conn, me);
                self.rooms.join(&room, me, conn, true);
            }
            if current {
                self.outbox
                    .send(conn, Event::Room(RoomEvent::Entered(room)));
            }
            return;
        }
        if current {
            self.leave_current(conn, me);
        }
        let joined = RoomEvent::Joined {
            room: room.clone(),
            user: me.clone(),
        };
        self.room_fan(&room, joined, None, me);
        self.rooms.join(&room, me, conn, current);
        self.outbox
            .send(conn, Event::Room(RoomEvent::Entered(room)));
    }

    /// The line front-end's one room: entering another leaves the current one.
    fn leave_current(&mut self, conn: ConnId, me: &Arc<str>) {
        if let Some(old) = self.rooms.current(me).cloned() {
            self.part_room(conn, me, Some(&old), None);
        }
    }

    fn part_room(&mut self, conn: ConnId, me: &Arc<str>, room: Option<&str>, why: Option<&str>) {
        let Some(room) = self.room_named(conn, me, room) else {
            return;
        };
        if self.rooms.part(&room, me).is_none() {
            return self.outbox.error(conn, Error::NotInThatRoom(room));
        }
        self.outbox
            .send(conn, Event::Room(RoomEvent::Exited(room.clone())));
        let left = RoomEvent::Left {
            room: room.clone(),
            user: me.clone(),
            reason: why.map(a),
        };
        self.room_fan(&room, left, None, me);
    }

    fn room_say(&mut self, conn: ConnId, me: &Arc<str>, room: Option<&str>, text: &str) {
        let Some(text) = self.valid(conn, MessageText::new(text)) else {
            return;
        };
        let text = text.as_str();
        let Some(room) = self.room_named(conn, me, room) else {
            return;
        };
        if !self.rooms.is_member(&room, me) {
            return self.outbox.error(conn, Error::NotInThatRoom(room));
        }
        let event = RoomEvent::Chat {
            room: room.clone(),
            from: me.clone(),
            text: a(text),
        };
        self.messages += 1;
        self.room_fan(&room, event, None, me);
    }

    /// Ban/unban (`banned`) or permit/unpermit `user` in a room `me` owns.
    fn set_access(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        room: Option<&str>,
        user: &str,
        banned: bool,
        on: bool,
    ) {
        let Some(room) = self.owned_room(conn, me, room) else {
            return;
        };
        if !self.accounts.exists(user) && !self.online.contains(user) {
            return self.outbox.error(conn, Error::InvalidUser);
        }
        if banned && on && user == &**me {
            return self.outbox.error(conn, Error::OwnerImmune);
        }
        let access = match (banned, on) {
            (true, true) => Access::Banned,
            (false, true) => Access::Permitted,
            _ => Access::None,
        };
        let was = if banned {
            Access::Banned
        } else {
            Access::Permitted
        };
        let current = self
            .rooms
            .get(&room)
            .and_then(|(_, r)| r.access.get(user))
            .copied();
        // Removing from one list leaves the other alone.
        if on || current == Some(was) {
            if let Some((record, undo)) = self.rooms.set_access(&room, user, access) {
                self.outbox.record(record, Undo::Rooms(undo));
            }
        }
        let event = RoomEvent::Access {
            room: room.clone(),
            user: a(user),
            banned,
            on,
        };
        self.outbox.send(conn, Event::Room(event));
        if banned && on && self.rooms.is_member(&room, user) {
            self.put_out(&room, user, "banned");
        }
    }

    /// Owner's kick: the member is put out and may come back.
    fn kick(&mut self, conn: ConnId, me: &Arc<str>, room: &Arc<str>, user: &str, why: &str) {
        if user == &**me {
            return self.outbox.error(conn, Error::OwnerImmune);
        }
        if !self.rooms.is_member(room, user) {
            let error = Error::NotMember {
                room: room.clone(),
                user: a(user),
            };
            return self.outbox.error(conn, error);
        }
        self.put_out(room, user, why);
        if !self.rooms.is_member(room, me) {
            let event = RoomEvent::Kicked {
                room: room.clone(),
                user: a(user),
            };
            self.outbox.send(conn, Event::Room(event));
        }
    }

    /// Take member `user` out of `room`: it is told, the others see it leave.
    fn put_out(&mut self, room: &Arc<str>, user: &str, why: &str) {
        let user = a(user);
        let Some(conn) = self.rooms.member_conn(room, &user) else {
            return;
        };
        let Some(current) = self.rooms.part(room, &user) else {
            return;
        };
        self.outbox.undo_also(Undo::Rooms(RoomUndo::Rejoin {
            room: room.clone(),
            user: user.clone(),
            conn,
            current,
        }));
        if let Some(cid) = self.online.get(&user) {
            self.outbox
                .send(cid, Event::Room(RoomEvent::Removed(room.clone())));
        }
        let left = RoomEvent::Left {
            room: room.clone(),
            user: user.clone(),
            reason: Some(a(why)),
        };
        self.room_fan(room, left, None, &user);
    }

    fn close_room(&mut self, conn: ConnId, me: &Arc<str>, room: Option<&str>) {
        let Some(room) = self.owned_room(conn, me, room) else {
            return;
        };
        let Some((members, record, undo)) = self.rooms.close(&room) else {
            return;
        };
        self.outbox.record(record, Undo::Rooms(undo));
        let closed = Shared::new(Event::Room(RoomEvent::Closed(room.clone())));
        for m in members.iter().filter(|m| **m != *me) {
            if let Some(cid) = self.online.get(m) {
                self.outbox.share(cid, &closed);
            }
        }
        self.outbox
            .send(conn, Event::Room(RoomEvent::CloseDone(room)));
    }

    fn set_topic(&mut self, conn: ConnId, me: &Arc<str>, room: Option<&str>, text: &str, now: Now) {
        let Some(room) = self.owned_room(conn, me, room) else {
            return;
        };
        let Some(text) = self.valid(conn, BoundedText::new(text, TOPIC_LEN)) else {
            return;
        };
        let text = text.as_str();
        let topic = (!text.is_empty()).then(|| Topic {
            text: a(text),
            by: me.clone(),
            at_ms: now.unix_ms(),
        });
        if let Some((record, undo)) = self.rooms.set_topic(&room, topic.clone()) {
            self.outbox.record(record, Undo::Rooms(undo));
        }
        let event = RoomEvent::Topic {
            room: room.clone(),
            topic,
        };
        if !self.rooms.is_member(&room, me) {
            self.outbox.send(conn, Event::Room(event.clone()));
        }
        self.room_fan(&room, event, None, me);
    }

    /// `user` logs out (or its login is undone): out of every room, the others see it leave.
    pub(in crate::chat) fn leave_rooms(&mut self, user: &Arc<str>) {
        for room in self.rooms.joined(user) {
            if self.rooms.part(&room, user).is_some() {
                let left = RoomEvent::Left {
                    room: room.clone(),
                    user: user.clone(),
                    reason: None,
                };
                self.room_fan(&room, left, None, user);
            }
        }
    }
}
