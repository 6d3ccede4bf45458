//! The one room engine (PROTOCOL.md §5 and §8; issue 17): chat rooms of the line protocol and
//! IRC channels are the same rooms with the same settings and the same rules for every
//! front-end. A line user gives a key with `enter-chatroom <room> <key>`, is kept out by ban
//! masks, and does not see secret rooms it is not in; an IRC user's `JOIN` opens a room the line
//! protocol sees. One set of inputs ([`RoomInput`]) and one set of events ([`RoomEvent`]);
//! each front-end renders the events its own way.
//!
//! Files: `room.rs` (one room's data and settings), `state.rs` (the rooms, their records, undo
//! and snapshot), `entry.rs` (open, join, part,
//! logout, close, guests' rooms), `talk.rs` (chat, topic), `moderation.rs` (kick, ban, permit,
//! settings), `listing.rs` (lists, members, settings and ban lists shown), `legacy.rs` (the
//! `channel` records of older files). Durable changes go through the outbox's record/undo
//! transaction, so a reply such as `Chatroom <room> opened` leaves only once its record is
//! synced. Room fan-out is one [`Shared`] event per line.

mod entry;
pub mod legacy;
mod listing;
mod moderation;
mod room;
pub mod state;
mod talk;

use super::Chat;
use crate::event::{Error, Event, HelpTopic, RoomEvent, Shared};
use crate::input::RoomInput;
use crate::session::ConnId;
use crate::time::Now;
use crate::valid::RoomName;
use std::sync::Arc;

/// Who a room line about `user` may reach (issue 17, F13: blocks hold on every front-end).
#[derive(Clone, Copy)]
enum Reach<'a> {
    /// Every member (settings changes, a closing room).
    All,
    /// Not those who blocked `user` (its chat, its topic).
    From(&'a str),
    /// Not those who blocked `user`, nor those `user` blocked: its entering, leaving, quitting
    /// are presence, and a blocked user gets no presence of its blocker (§3).
    Presence(&'a str),
}

impl Chat {
    /// One room input of a logged-in user.
    pub(in crate::chat) fn room_input(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        input: RoomInput<'_>,
        now: Now,
    ) {
        match input {
            RoomInput::Open { room, private } => {
                self.open_room(conn, me, room, private, now);
            }
            RoomInput::Join {
                room,
                key,
                create,
                current,
            } => self.join_room(conn, me, room, key, create, current, now),
            RoomInput::Part { room, reason } => self.part_room(conn, me, room, reason),
            RoomInput::PartAll => {
                for room in self.rooms.joined(me) {
                    self.part_room(conn, me, Some(&room), None);
                }
            }
            RoomInput::Say {
                room,
                text,
                kind,
                relay,
            } => self.room_say(conn, me, room, text, kind, relay, now),
            RoomInput::Invite { room, user } => self.invite(conn, me, room, user),
            RoomInput::List { room } => self.list_rooms(conn, me, room),
            RoomInput::Members { room } => self.members(conn, me, room),
            RoomInput::Names { room } => self.names(conn, me, room),
            RoomInput::Who { room } => self.room_who(conn, me, room, now),
            RoomInput::ShowTopic { room } => self.show_topic(conn, me, room),
            RoomInput::SetTopic { room, text } => self.set_topic(conn, me, room, text, now),
            RoomInput::Modes { room } => self.show_modes(conn, me, room),
            RoomInput::Bans { room } => self.show_bans(conn, me, room),
            RoomInput::AccessList { room, banned } => self.access_list(conn, me, room, banned),
            RoomInput::Change { room, changes } => self.change_room(conn, me, room, changes),
            RoomInput::SetPrivate { room, private } => self.set_private(conn, me, room, private),
            RoomInput::Ban { room, user, on } => self.name_access(conn, me, room, user, true, on),
            RoomInput::Permit { room, user, on } => {
                self.name_access(conn, me, room, user, false, on)
            }
            RoomInput::Kick { room, user, reason } => self.kick(conn, me, room, user, reason),
            RoomInput::Close { room } => self.close_room(conn, me, room),
        }
    }

    /// `help` lists the commands of where the caller is: the lobby or a room.
    pub(in crate::chat) fn help_topic(&self, me: &str) -> HelpTopic {
        match self.rooms.current(me) {
            Some(_) => HelpTopic::Room,
            None => HelpTopic::Lobby,
        }
    }

    /// The room an input names (`None`: the current room), as it was opened, answering the
    /// error if there is none.
    fn room_named(&mut self, conn: ConnId, me: &str, room: Option<&str>) -> Option<Arc<str>> {
        let Some(room) = room else {
            let current = self.rooms.current(me).cloned();
            if current.is_none() {
                self.outbox.error(conn, Error::NotInRoom);
            }
            return current;
        };
        let room = self.valid(conn, RoomName::new(room))?.as_str();
        if let Some((name, _)) = self.rooms.get(room) {
            return Some(name.clone());
        }
        self.outbox.error(conn, Error::NoRoom(Arc::from(room)));
        None
    }

    /// Whether `me` may see `room` exists with what is in it: not secret, or a member or an
    /// operator of it (F8/F9: secret rooms are hidden from non-members everywhere).
    fn may_see(&self, room: &str, me: &str) -> bool {
        self.rooms
            .get(room)
            .is_some_and(|(_, r)| !r.secret || r.members.contains_key(me) || r.is_op(me))
    }

    /// Like [`Chat::room_named`], for what shows a room's insides: a secret room `me` is not in
    /// is answered as one that does not exist.
    fn visible_room(&mut self, conn: ConnId, me: &str, room: Option<&str>) -> Option<Arc<str>> {
        let found = self.room_named(conn, me, room)?;
        if self.may_see(&found, me) {
            return Some(found);
        }
        let typed = room.map_or_else(|| found.clone(), Arc::from);
        self.outbox.error(conn, Error::NoRoom(typed));
        None
    }

    /// Like [`Chat::room_named`], for the owner's and operators' commands.
    fn op_room(&mut self, conn: ConnId, me: &str, room: Option<&str>) -> Option<Arc<str>> {
        let room = self.room_named(conn, me, room)?;
        if let Some(error) = self.room_refusal(&room, me, true) {
            self.outbox.error(conn, error);
            return None;
        }
        self.note_room_actor(conn, &room, me, true);
        Some(room)
    }

    /// Why `me` may not change `room` (`op`: as an operator; else its topic: an operator, or
    /// a member when the topic is not locked), if it may not. The one rule, for the command
    /// and (cluster mode) again for its `room-by` record on every node that applies it.
    pub(super) fn room_refusal(&self, room: &str, me: &str, op: bool) -> Option<Error> {
        let Some((name, r)) = self.rooms.get(room) else {
            return Some(Error::NoRoom(Arc::from(room)));
        };
        let is_op = r.is_op(me);
        if is_op {
            return None;
        }
        if op || r.topic_lock {
            return Some(Error::NotRoomOperator(name.clone()));
        }
        if !r.members.contains_key(me) {
            return Some(Error::NotInThatRoom(name.clone()));
        }
        None
    }

    /// Send `event` to the members of `room` but `skip`, as far as `reach` lets it go.
    fn room_fan(&mut self, room: &str, event: RoomEvent, skip: Option<&str>, reach: Reach<'_>) {
        self.members_fan(room, Event::Room(event), skip, reach);
    }

    /// [`Chat::room_fan`] for an event about a member that is not a room event (issue 22: an
    /// away user's `Event::Away` after its join, for IRC's away-notify).
    fn members_fan(&mut self, room: &str, event: Event, skip: Option<&str>, reach: Reach<'_>) {
        let Some((_, r)) = self.rooms.get(room) else {
            return;
        };
        let event = Shared::new(event);
        let (blockers, blocked) = match reach {
            Reach::All => (None, None),
            Reach::From(user) => (self.blocks.blockers(self.online.account_of(user)), None),
            Reach::Presence(user) => {
                let account = self.online.account_of(user);
                (self.blocks.blockers(account), self.blocks.blocked(account))
            }
        };
        // Blocks are between accounts; members are named as they are seen (issue 22).
        let online = &self.online;
        let any_blocks = blockers.is_some() || blocked.is_some();
        let hidden = |m: &str| {
            let m = online.account_of(m);
            blockers.is_some_and(|b| b.contains(m)) || blocked.is_some_and(|b| b.contains(m))
        };
        // The sender is found once, by name, and then skipped by its connection: comparing
        // its name with every member's was 7% of a 100-member fan-out's server time.
        let skip = skip.and_then(|s| r.members.get(s).copied());
        // The recipients' list sized once: grown a push at a time it was reallocated about
        // eight times per 100-member fan-out.
        let mut ids = Vec::with_capacity(r.members.len());
        for (m, &cid) in &r.members {
            if skip == Some(cid) || (any_blocks && hidden(m)) {
                continue;
            }
            ids.push(cid);
        }
        self.outbox.share_all(event, ids);
    }

    /// The member of `room` called `user` under the casemapping, as it spells its name.
    fn member_named(&self, room: &str, user: &str) -> Option<Arc<str>> {
        let user = self.known_user(user)?;
        self.rooms.is_member(room, &user).then_some(user)
    }
}
