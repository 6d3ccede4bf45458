//! Into and out of rooms: open, join (with the key, bans, masks and the private flag checked
//! the same for every front-end), part, leaving them all at logout, close, and the rooms of
//! guests, which close once their guest has left and nobody is in them (issue 17, F11).

use super::state::Undo as RoomUndo;
use super::Reach;
use crate::chat::{Chat, Undo};
use crate::event::{Error, Event, RoomEvent, Shared};
use crate::record::{Access, RoomSetting};
use crate::session::ConnId;
use crate::time::Now;
use crate::valid::RoomName;
use std::sync::Arc;

impl Chat {
    /// Open `room` owned by `me`; returns its name if it was opened (errors answered).
    pub(super) fn open_room(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        room: &str,
        private: bool,
        now: Now,
    ) -> Option<Arc<str>> {
        let room = self.valid(conn, RoomName::new(room))?.as_str();
        // A name that is not an account (a guest's, or one held apart from its account, issue
        // 22) opens a guest's room: it closes with the name, which nothing durable keeps.
        let guest = !self.accounts.exists(me);
        let own = if guest {
            self.settings.max_guest_rooms
        } else {
            self.settings.max_rooms_per_user
        };
        let error = if self.rooms.get(room).is_some() {
            Error::RoomExists(Arc::from(room))
        } else if self.rooms.len() >= self.settings.max_rooms {
            Error::TooManyRooms(self.settings.max_rooms)
        } else if self.rooms.owned_by(me) >= own {
            Error::TooManyOwnRooms(own)
        } else {
            let origin = RoomSetting::Origin {
                created_s: now.unix_ms() / 1000,
                guest,
            };
            let (records, undo) = self.rooms.open(room, me, private, origin);
            for r in records {
                self.outbox.records.push(r);
            }
            self.outbox.undo_also(Undo::Rooms(undo));
            let name: Arc<str> = Arc::from(room);
            self.outbox
                .send(conn, Event::Room(RoomEvent::Opened(name.clone())));
            return Some(name);
        };
        self.outbox.error(conn, error);
        None
    }

    /// Enter `room`: `enter-chatroom` (`current`: it becomes the one current room, leaving the
    /// last one) or IRC `JOIN` (`create`: open it first if missing).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn join_room(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        room: &str,
        key: Option<&str>,
        create: bool,
        current: bool,
        now: Now,
    ) {
        let missing = RoomName::new(room).is_ok() && self.rooms.get(room).is_none();
        let room = if create && missing {
            self.open_room(conn, me, room, false, now)
        } else {
            self.room_named(conn, me, Some(room))
        };
        let Some(room) = room else {
            return;
        };
        if self.rooms.is_member(&room, me) {
            if current {
                if self.rooms.current(me) != Some(&room) {
                    self.leave_current(conn, me);
                    self.rooms.join(&room, me, conn, true);
                }
                self.entered(conn, me, &room);
            }
            return;
        }
        if let Some(error) = self.refusal(conn, me, &room, key) {
            return self.outbox.error(conn, error);
        }
        if !self.clustered() {
            // In a cluster every node uses it up when it applies the join (`apply_record`).
            self.rooms.uninvite(&room, me);
        }
        if current {
            self.leave_current(conn, me);
        }
        let joined = RoomEvent::Joined {
            room: room.clone(),
            user: me.clone(),
            account: self.account_name(me),
            realname: self.directory.realname(conn, me),
        };
        self.room_fan(&room, joined, None, Reach::Presence(me));
        if let Some(message) = self.directory.away(conn) {
            let away = Event::Away {
                user: me.clone(),
                message: Some(message),
                watched: false,
            };
            self.members_fan(&room, away, None, Reach::Presence(me));
        }
        self.rooms.join(&room, me, conn, current);
        self.entered(conn, me, &room);
    }

    /// Why `me` on `conn` may not enter `room` (the same checks for every front-end): a name
    /// ban or a matching mask, the private flag without a permit, a wrong key, a full room
    /// (`+l`). The owner and operators always enter; an invited user (issue 22) passes the
    /// private flag, the key and the limit, not a ban.
    fn refusal(
        &self,
        conn: ConnId,
        me: &Arc<str>,
        room: &Arc<str>,
        key: Option<&str>,
    ) -> Option<Error> {
        let (_, r) = self.rooms.get(room)?;
        if r.is_op(me) {
            return None;
        }
        let access = r.access.get(&**me).copied().unwrap_or(Access::None);
        let masked = !r.masks.is_empty() && {
            let username = self.directory.username(conn, me);
            let full = format!("{me}!{username}@{}", self.host_of(conn));
            let glob = crate::chat::directory::glob;
            r.masks.iter().any(|m| glob(m.as_bytes(), full.as_bytes()))
        };
        let invited = r.invited.contains(&**me);
        let full = r.limit.is_some_and(|l| r.members.len() >= l as usize);
        if access == Access::Banned || masked {
            Some(Error::BannedFromRoom(room.clone()))
        } else if invited {
            None
        } else if r.private && access != Access::Permitted {
            Some(Error::PrivateRoom(room.clone()))
        } else if r.key.as_deref().is_some_and(|k| Some(k) != key) {
            Some(Error::WrongRoomKey(room.clone()))
        } else if full {
            Some(Error::RoomFull(room.clone()))
        } else {
            None
        }
    }

    /// In a cluster, as every node applies a `room-join`: why the room no longer takes it,
    /// decided on the stream's state (the joiner's node checked its own view, which may have
    /// missed another node's join that filled the room, or a ban or `+i` set a moment before).
    /// [`Chat::refusal`]'s rules that the record can carry: not the key (the record has none)
    /// nor a mask (it matches the host as the joiner's node sees it); those stay its node's.
    #[cfg(feature = "cluster")]
    pub(in crate::chat) fn join_refused(&self, room: &str, user: &str) -> Option<Error> {
        let (name, r) = self.rooms.get(room)?;
        if r.members.contains_key(user) || r.is_op(user) {
            return None;
        }
        let access = r.access.get(user).copied().unwrap_or(Access::None);
        let full = r.limit.is_some_and(|l| r.members.len() >= l as usize);
        if access == Access::Banned {
            Some(Error::BannedFromRoom(name.clone()))
        } else if r.invited.contains(user) {
            None
        } else if r.private && access != Access::Permitted {
            Some(Error::PrivateRoom(name.clone()))
        } else if full {
            Some(Error::RoomFull(name.clone()))
        } else {
            None
        }
    }

    /// `RoomInput::Invite`: a member lets `user` in once (IRC `INVITE`); under `+i` only
    /// operators may. The invitee is told wherever it is; the room's other operators hear of it
    /// (IRC invite-notify); the inviter is answered (`341`). Invitations live in memory, at most
    /// `--max-list` per room. In a cluster the invitation is a `room-invite` record every node
    /// applies, so the invitee may be on any node (its events reach it as any other's do).
    pub(super) fn invite(&mut self, conn: ConnId, me: &Arc<str>, room: &str, user: &str) {
        let Some(target) = self.online.find(user).map(|(n, c)| (n.clone(), c)) else {
            return self.outbox.error(conn, Error::NoSuchUser(Arc::from(user)));
        };
        let Some(room) = self.room_named(conn, me, Some(room)) else {
            return;
        };
        let Some((_, r)) = self.rooms.get(&room) else {
            return;
        };
        if !r.members.contains_key(&**me) {
            return self.outbox.error(conn, Error::NotInThatRoom(room));
        }
        if r.private && !r.is_op(me) {
            return self.outbox.error(conn, Error::NotRoomOperator(room));
        }
        let (user, target_conn) = target;
        if r.members.contains_key(&*user) {
            return self.outbox.error(conn, Error::AlreadyInRoom { room, user });
        }
        if self.has_blocked(&user, me) {
            // Blocked: the inviter is answered as usual; the invitee hears nothing.
            let inviting = RoomEvent::Inviting { room, user };
            return self.outbox.send(conn, Event::Room(inviting));
        }
        let max = self.settings.max_list;
        if !self.rooms.may_invite(&room, &user, max) {
            return self.outbox.error(conn, Error::ListFull { room, max });
        }
        if !self.defer_invite(&room, &user) {
            self.rooms.invite(&room, &user, max);
        }
        let inviting = RoomEvent::Inviting {
            room: room.clone(),
            user: user.clone(),
        };
        self.outbox.send(conn, Event::Room(inviting));
        let invitation = Event::Invitation {
            by: me.clone(),
            room: room.clone(),
            account: self.account_name(me),
        };
        self.outbox.send(target_conn, invitation);
        let invited = RoomEvent::Invited {
            room: room.clone(),
            by: me.clone(),
            user,
        };
        let ops: Vec<ConnId> = self.rooms.get(&room).map_or_else(Vec::new, |(_, r)| {
            let ops = r.members.iter().filter(|(m, _)| r.is_op(m) && ***m != **me);
            ops.map(|(_, c)| *c).collect()
        });
        let event = Shared::new(Event::Room(invited));
        for c in ops {
            self.outbox.share(c, &event);
        }
    }

    /// Tell `me` it is in `room`, with what a front-end may show on entering.
    fn entered(&mut self, conn: ConnId, me: &Arc<str>, room: &Arc<str>) {
        let Some((_, r)) = self.rooms.get(room) else {
            return;
        };
        let event = RoomEvent::Entered {
            room: room.clone(),
            user: me.clone(),
            topic: r.topic.clone(),
            secret: r.secret,
            members: self.member_list(room, me),
            partial: false,
        };
        self.outbox.send(conn, Event::Room(event));
    }

    /// The line front-end's one room: entering another leaves the current one.
    fn leave_current(&mut self, conn: ConnId, me: &Arc<str>) {
        if let Some(old) = self.rooms.current(me).cloned() {
            self.part_room(conn, me, Some(&old), None);
        }
    }

    pub(super) fn part_room(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        room: Option<&str>,
        reason: Option<&str>,
    ) {
        let Some(room) = self.room_named(conn, me, room) else {
            return;
        };
        if self.rooms.part(&room, me).is_none() {
            return self.outbox.error(conn, Error::NotInThatRoom(room));
        }
        let reason = reason.map(crate::valid::reason).map(Arc::from);
        let exited = RoomEvent::Exited {
            room: room.clone(),
            user: me.clone(),
            reason: reason.clone(),
        };
        self.outbox.send(conn, Event::Room(exited));
        let left = RoomEvent::Left {
            room: room.clone(),
            user: me.clone(),
            reason,
        };
        self.room_fan(&room, left, None, Reach::Presence(me));
        self.close_if_abandoned(&room);
    }

    /// `user` logs out (or its login is undone, or replaced): out of every room; each roommate
    /// hears of it once (an IRC `QUIT`), unless blocks keep it apart. Leaving this way is
    /// leaving: a guest's room it was the last one in closes (F11), as after a part.
    pub(in crate::chat) fn leave_all_rooms(&mut self, conn: ConnId, user: &Arc<str>) {
        // Why it leaves, as roommates read it: its `QUIT` words, the server's cause, or a
        // closed connection. Used up here, so a later logout of the same connection (a line
        // user logs in again) gives its own.
        let reason = self
            .directory
            .take_quit(conn)
            .unwrap_or_else(|| "Connection closed".into());
        let mut told: Vec<ConnId> = Vec::new();
        let blockers = self.blockers(user).cloned();
        let blocked = self.blocked(user).cloned();
        let online = &self.online;
        let hidden = |m: &str| {
            let m = online.account_of(m);
            blockers.as_ref().is_some_and(|b| b.contains(m))
                || blocked.as_ref().is_some_and(|b| b.contains(m))
        };
        let left = self.rooms.joined(user);
        for room in &left {
            self.rooms.part(room, user);
            if let Some((_, r)) = self.rooms.get(room) {
                let others = r.members.iter().filter(|(m, _)| !hidden(m));
                told.extend(others.map(|(_, c)| *c));
            }
        }
        for room in &left {
            self.close_if_abandoned(room);
        }
        if told.is_empty() {
            return;
        }
        told.sort_unstable();
        told.dedup();
        let quit = Shared::new(Event::Room(RoomEvent::Quit {
            user: user.clone(),
            reason,
        }));
        for c in told {
            self.outbox.share(c, &quit);
        }
    }

    /// A guest's room closes once it is empty and its owner has left (F11): one guest cannot
    /// hold rooms for ever, nor leave its settings to whoever takes its name next.
    pub(super) fn close_if_abandoned(&mut self, room: &str) {
        let gone = self.rooms.get(room).is_some_and(|(_, r)| {
            r.guest && r.members.is_empty() && self.online.get(&r.owner).is_none()
        });
        if gone {
            if let Some((_, record, undo)) = self.rooms.close(room) {
                self.outbox.record(record, Undo::Rooms(undo));
            }
        }
    }

    /// After a guest left: close the guests' rooms that nobody is in.
    pub(in crate::chat) fn close_guest_rooms(&mut self) {
        let online = &self.online;
        let gone = self.rooms.abandoned(|o| online.get(o).is_some());
        for room in gone {
            self.close_if_abandoned(&room);
        }
    }

    /// The first step after replay: old `channel` records of rooms that never opened are
    /// dropped, and guests' rooms (their guests all left when the server stopped) close.
    pub(in crate::chat) fn rooms_resume(&mut self) {
        self.rooms.replay_done();
        let online = &self.online;
        let gone = self.rooms.abandoned(|o| online.get(o).is_some());
        for room in gone {
            if let Some((_, record, _)) = self.rooms.close(&room) {
                self.outbox.records.push(record);
            }
        }
        // So do guests' standings in other rooms (a crash wrote no logout for them): a name
        // that is no account and not online (cluster mode: on another node) is nobody's.
        let stale: Vec<Arc<str>> = (self.rooms.standing_names().into_iter())
            .filter(|name| self.accounts.find(name).is_none() && self.online.find(name).is_none())
            .collect();
        for name in stale {
            for (record, _) in self.rooms.forget_standing(&name) {
                self.outbox.records.push(record);
            }
        }
    }

    pub(super) fn close_room(&mut self, conn: ConnId, me: &Arc<str>, room: Option<&str>) {
        let Some(room) = self.room_named(conn, me, room) else {
            return;
        };
        if self.rooms.get(&room).is_none_or(|(_, r)| *r.owner != **me) {
            return self.outbox.error(conn, Error::NotOwner);
        }
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

    /// Take member `user` out of `room` on `by`'s order: it is told, the others see it go.
    pub(super) fn put_out(&mut self, room: &Arc<str>, user: &Arc<str>, by: &Arc<str>, why: &str) {
        let Some(conn) = self
            .rooms
            .get(room)
            .and_then(|(_, r)| r.members.get(user).copied())
        else {
            return;
        };
        let Some(current) = self.rooms.part(room, user) else {
            return;
        };
        self.outbox.undo_also(Undo::Rooms(RoomUndo::Rejoin {
            room: room.clone(),
            user: user.clone(),
            conn,
            current,
        }));
        let reason: Arc<str> = Arc::from(why);
        let removed = RoomEvent::Removed {
            room: room.clone(),
            by: by.clone(),
            reason: reason.clone(),
        };
        self.outbox.send(conn, Event::Room(removed));
        let kicked = RoomEvent::Kicked {
            room: room.clone(),
            by: by.clone(),
            user: user.clone(),
            reason,
        };
        self.room_fan(room, kicked, None, Reach::Presence(user));
        self.close_if_abandoned(room);
    }
}
