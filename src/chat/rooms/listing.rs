//! What rooms show: the list of rooms, members, members as cards, settings and ban lists.
//! Secret rooms are shown only to their members and operators, on every front-end (issue 17,
//! F8/F9), and a user who blocked the asker is left out of member lists (F13), as it is out of
//! `whoelse`.

use crate::chat::Chat;
use crate::event::{Event, Member, RoomEvent};
use crate::session::ConnId;
use crate::time::Now;
use std::sync::Arc;

impl Chat {
    /// The members of `room` as `me` may see them: without those who blocked `me`.
    pub(super) fn member_list(&self, room: &str, me: &str) -> Vec<Member> {
        let Some((_, r)) = self.rooms.get(room) else {
            return Vec::new();
        };
        let mut members = r.member_list();
        members.retain(|m| *m.name == *me || !self.has_blocked(&m.name, me));
        members
    }

    /// `list-chatroom`, IRC `LIST [#room]`: the rooms `me` may see.
    pub(super) fn list_rooms(&mut self, conn: ConnId, me: &str, room: Option<&str>) {
        let wanted = room.map(|r| self.rooms.get(r).map(|(name, _)| name.clone()));
        let rooms = self
            .rooms
            .list(|r| !r.secret || r.members.contains_key(me) || r.is_op(me));
        let rooms = rooms
            .into_iter()
            .filter(|info| {
                wanted
                    .as_ref()
                    .is_none_or(|w| w.as_ref() == Some(&info.room))
            })
            .collect();
        self.outbox.send(conn, Event::Room(RoomEvent::List(rooms)));
    }

    /// `list-members [room]`: an unknown or hidden room is an error.
    pub(super) fn members(&mut self, conn: ConnId, me: &str, room: Option<&str>) {
        if let Some(room) = self.visible_room(conn, me, room) {
            self.send_members(conn, me, room);
        }
    }

    fn send_members(&mut self, conn: ConnId, me: &str, room: Arc<str>) {
        let secret = self.rooms.get(&room).is_some_and(|(_, r)| r.secret);
        let members = self.member_list(&room, me);
        let event = RoomEvent::Members {
            room,
            secret,
            members,
            partial: false,
        };
        self.outbox.send(conn, Event::Room(event));
    }

    /// IRC `NAMES #room`: an unknown or hidden room answers an empty list under the name asked.
    pub(super) fn names(&mut self, conn: ConnId, me: &str, room: &str) {
        match self.rooms.get(room).map(|(name, _)| name.clone()) {
            Some(name) if self.may_see(&name, me) => self.send_members(conn, me, name),
            Some(_) | None => {
                let event = RoomEvent::Members {
                    room: Arc::from(room),
                    secret: false,
                    members: Vec::new(),
                    partial: false,
                };
                self.outbox.send(conn, Event::Room(event));
            }
        }
    }

    /// IRC `WHO #room`: the members as cards; nothing for an unknown or hidden room.
    pub(super) fn room_who(&mut self, conn: ConnId, me: &str, room: &str, now: Now) {
        let Some(name) = self.rooms.get(room).map(|(name, _)| name.clone()) else {
            return;
        };
        if !self.may_see(&name, me) {
            return;
        }
        let cards = self
            .member_list(&name, me)
            .into_iter()
            .filter_map(|m| {
                let c = self.online.get(&m.name)?;
                let mut card = self.card_of(&m.name, c, me, now);
                card.rooms = vec![(name.clone(), m.op)];
                Some(card)
            })
            .collect();
        let room = Some(name);
        self.outbox.send(conn, Event::Cards { room, cards });
    }

    /// IRC `MODE #room`: the settings; the key only to members and operators (F8).
    pub(super) fn show_modes(&mut self, conn: ConnId, me: &str, room: &str) {
        let Some(room) = self.visible_room(conn, me, Some(room)) else {
            return;
        };
        let Some((_, r)) = self.rooms.get(&room) else {
            return;
        };
        let insider = r.members.contains_key(me) || r.is_op(me);
        let event = RoomEvent::Modes {
            flags: Arc::from(r.flags()),
            key: r.key.clone().filter(|_| insider),
            limit: r.limit,
            created_s: r.created_s,
            room,
        };
        self.outbox.send(conn, Event::Room(event));
    }

    /// IRC `MODE #room +b`: the ban list, names and masks (F8: not for a hidden room).
    pub(super) fn show_bans(&mut self, conn: ConnId, me: &str, room: &str) {
        if let Some(room) = self.visible_room(conn, me, Some(room)) {
            let entries = self.rooms.get(&room).map(|(_, r)| r.list(true));
            let entries = entries.unwrap_or_default();
            let event = RoomEvent::AccessList {
                room,
                banned: true,
                entries,
            };
            self.outbox.send(conn, Event::Room(event));
        }
    }

    /// Rooms `user` is in (secret ones left out), with whether it operates each (WHOIS).
    pub(in crate::chat) fn rooms_of_user(&self, user: &str) -> Vec<(Arc<str>, bool)> {
        let rooms = self.rooms.joined(user).into_iter();
        rooms
            .filter_map(|name| {
                let (_, r) = self.rooms.get(&name)?;
                (!r.secret).then(|| (name.clone(), r.is_op(user)))
            })
            .collect()
    }

    /// The rooms where `user` has voice (`+v`: WHO's `+` flag).
    pub(in crate::chat) fn voiced_rooms(&self, user: &str) -> Vec<Arc<str>> {
        let rooms = self.rooms.joined(user).into_iter();
        let voiced = |name: &Arc<str>| {
            self.rooms
                .get(name)
                .is_some_and(|(_, r)| r.voiced.contains(user))
        };
        rooms.filter(voiced).collect()
    }

    /// Whether `a` and `b` are in some room together.
    pub(in crate::chat) fn share_a_room(&self, a: &str, b: &str) -> bool {
        self.rooms
            .joined(a)
            .iter()
            .any(|r| self.rooms.is_member(r, b))
    }
}
