//! What the owner and operators do to a room, from any front-end: kick, name bans and permits
//! (a §5 ban puts a member out; an IRC `+b` does not, IRC's rule), settings (`MODE`,
//! `set-chatroom`). Every list is bounded by `--max-list` and every change is one record
//! (issue 17, F4/F5); at most [`MODES`] changes with an argument per command.

use super::state::List;
use super::Reach;
use crate::chat::{Chat, Undo};
use crate::event::{Error, Event, RoomEvent};
use crate::input::RoomChange;
use crate::record::{Access, RoomSetting};
use crate::session::ConnId;
use crate::valid::{BanMask, RoomKey, MODES};
use std::sync::Arc;

impl Chat {
    /// `/kick-user`, IRC `KICK`: an operator puts a member out; it may come back.
    pub(super) fn kick(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        room: Option<&str>,
        user: &str,
        reason: Option<&str>,
    ) {
        let Some(room) = self.op_room(conn, me, room) else {
            return;
        };
        let Some(target) = self.member_named(&room, user) else {
            let user = Arc::from(user);
            return self.outbox.error(conn, Error::NotMember { room, user });
        };
        if self
            .rooms
            .get(&room)
            .is_some_and(|(_, r)| r.owner == target)
        {
            return self.outbox.error(conn, Error::OwnerImmune);
        }
        // Issue 22: without a reason the kicker's name is the reason (IRC servers' default).
        let why = reason
            .map(crate::valid::reason)
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| me.to_string());
        self.put_out(&room, &target, me, &why);
        if !self.rooms.is_member(&room, me) {
            let done = RoomEvent::Kicked {
                room,
                by: me.clone(),
                user: target,
                reason: Arc::from(why),
            };
            self.outbox.send(conn, Event::Room(done));
        }
    }

    /// Whether `room`'s `list` may grow by one; if not, the refusal is answered.
    fn list_has_room(&mut self, conn: ConnId, room: &Arc<str>, list: List) -> bool {
        let max = self.settings.max_list;
        let full = self
            .rooms
            .get(room)
            .is_some_and(|(_, r)| r.list_len(list) >= max);
        if full {
            let room = room.clone();
            self.outbox.error(conn, Error::ListFull { room, max });
        }
        !full
    }

    /// Set `user`'s name standing in `room`; false if the list is full (refusal answered).
    fn set_standing(&mut self, conn: ConnId, room: &Arc<str>, user: &str, to: Access) -> bool {
        let list = match to {
            Access::Banned => List::Bans,
            Access::Permitted => List::Permits,
            Access::None => List::Bans,
        };
        let had = self
            .rooms
            .get(room)
            .and_then(|(_, r)| r.access.get(user).copied());
        if to != Access::None && had != Some(to) && !self.list_has_room(conn, room, list) {
            return false;
        }
        if let Some((record, undo)) = self.rooms.set_access(room, user, to) {
            self.outbox.record(record, Undo::Rooms(undo));
        }
        true
    }

    /// `/ban-user`, `/unban-user` (`banned`), `/permit-user`, `/unpermit-user`: the name lists,
    /// disjoint (the later command wins); a banned member is put out.
    pub(super) fn name_access(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        room: Option<&str>,
        user: &str,
        banned: bool,
        on: bool,
    ) {
        let Some(room) = self.op_room(conn, me, room) else {
            return;
        };
        let Some(user) = self.addressee(conn, user) else {
            return;
        };
        let owner = self.rooms.get(&room).is_some_and(|(_, r)| r.owner == user);
        if banned && on && owner {
            return self.outbox.error(conn, Error::OwnerImmune);
        }
        let (this, to) = match (banned, on) {
            (true, true) => (Access::Banned, Access::Banned),
            (false, true) => (Access::Permitted, Access::Permitted),
            (true, false) => (Access::Banned, Access::None),
            (false, false) => (Access::Permitted, Access::None),
        };
        let had = self
            .rooms
            .get(&room)
            .and_then(|(_, r)| r.access.get(&user).copied());
        // Removing from one list leaves the other alone.
        if (on || had == Some(this)) && !self.set_standing(conn, &room, &user, to) {
            return;
        }
        let event = RoomEvent::Access {
            room: room.clone(),
            user: user.clone(),
            banned,
            on,
        };
        self.outbox.send(conn, Event::Room(event));
        if banned && on && self.rooms.is_member(&room, &user) {
            self.put_out(&room, &user, me, "banned");
        }
    }

    /// `get-blacklist`/`get-whitelist`: operators only.
    pub(super) fn access_list(&mut self, conn: ConnId, me: &str, room: Option<&str>, banned: bool) {
        if let Some(room) = self.op_room(conn, me, room) {
            let entries = self.rooms.get(&room).map(|(_, r)| r.list(banned));
            let entries = entries.unwrap_or_default();
            let event = RoomEvent::AccessList {
                room,
                banned,
                entries,
            };
            self.outbox.send(conn, Event::Room(event));
        }
    }

    /// `set-chatroom <room> public|private`: the operator is told; members see the change.
    pub(super) fn set_private(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        room: Option<&str>,
        private: bool,
    ) {
        let Some(room) = self.op_room(conn, me, room) else {
            return;
        };
        let changed = self.rooms.set_private(&room, private);
        let event = Event::Room(RoomEvent::Mode {
            room: room.clone(),
            private,
        });
        self.outbox.send(conn, event);
        if let Some((record, undo)) = changed {
            self.outbox.record(record, Undo::Rooms(undo));
            let sign = if private { "+i" } else { "-i" };
            self.tell_change(&room, me, String::from(sign), Vec::new());
        }
    }

    /// The applied changes, to every member and to the changer.
    fn tell_change(
        &mut self,
        room: &Arc<str>,
        by: &Arc<str>,
        changes: String,
        args: Vec<Arc<str>>,
    ) {
        let event = RoomEvent::Changed {
            room: room.clone(),
            by: by.clone(),
            changes: Arc::from(changes),
            args,
        };
        if let Some(conn) = self
            .online
            .get(by)
            .filter(|_| !self.rooms.is_member(room, by))
        {
            self.outbox.send(conn, Event::Room(event.clone()));
        }
        self.room_fan(room, event, None, Reach::All);
    }

    /// IRC `MODE #room ±…`: operators only; each change checked and recorded on its own, the
    /// first [`MODES`] with an argument applied (later ones ignored, as `MODES` says).
    pub(super) fn change_room(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        room: &str,
        changes: &[RoomChange<'_>],
    ) {
        let Some(room) = self.op_room(conn, me, Some(room)) else {
            return;
        };
        let (mut letters, mut args, mut sign, mut with_arg) = (String::new(), Vec::new(), ' ', 0);
        for &change in changes {
            let takes_arg = !matches!(
                change,
                RoomChange::Private(_)
                    | RoomChange::Secret(_)
                    | RoomChange::TopicLock(_)
                    | RoomChange::NoOutside(_)
                    | RoomChange::Moderated(_)
                    | RoomChange::Limit(None)
            );
            if takes_arg {
                with_arg += 1;
                if with_arg > MODES {
                    continue;
                }
            }
            let Some((c, on, arg)) = self.apply_change(conn, &room, change) else {
                continue;
            };
            let s = if on { '+' } else { '-' };
            if s != sign {
                letters.push(s);
                sign = s;
            }
            letters.push(c);
            if let Some(arg) = arg {
                args.push(arg);
            }
        }
        if !letters.is_empty() {
            self.tell_change(&room, me, letters, args);
        }
    }

    /// Record one setting change; whether it changed anything.
    fn record_setting(&mut self, room: &Arc<str>, setting: RoomSetting) -> bool {
        match self.rooms.set(room, setting) {
            Some((record, undo)) => {
                self.outbox.record(record, Undo::Rooms(undo));
                true
            }
            None => false,
        }
    }

    /// Apply one change; its letter, sign and argument when it changed anything (refusals are
    /// answered).
    fn apply_change(
        &mut self,
        conn: ConnId,
        room: &Arc<str>,
        change: RoomChange<'_>,
    ) -> Option<(char, bool, Option<Arc<str>>)> {
        let (c, on, arg, changed) = match change {
            RoomChange::Private(on) => {
                let done = self.rooms.set_private(room, on);
                let changed = done.is_some();
                if let Some((record, undo)) = done {
                    self.outbox.record(record, Undo::Rooms(undo));
                }
                ('i', on, None, changed)
            }
            RoomChange::Secret(on) => (
                's',
                on,
                None,
                self.record_setting(room, RoomSetting::Secret(on)),
            ),
            RoomChange::TopicLock(on) => (
                't',
                on,
                None,
                self.record_setting(room, RoomSetting::TopicLock(on)),
            ),
            RoomChange::NoOutside(on) => (
                'n',
                on,
                None,
                self.record_setting(room, RoomSetting::NoOutside(on)),
            ),
            RoomChange::Key(Some(key)) => {
                let key = self.valid(conn, RoomKey::new(key))?.as_str();
                let setting = RoomSetting::Key(Some(key.to_string()));
                (
                    'k',
                    true,
                    Some(Arc::from(key)),
                    self.record_setting(room, setting),
                )
            }
            RoomChange::Key(None) => {
                let changed = self.record_setting(room, RoomSetting::Key(None));
                ('k', false, Some(Arc::from("*")), changed)
            }
            RoomChange::Moderated(on) => (
                'm',
                on,
                None,
                self.record_setting(room, RoomSetting::Moderated(on)),
            ),
            RoomChange::Limit(Some(n)) => {
                let n = self.valid(conn, crate::valid::room_limit(n))?;
                let changed = self.record_setting(room, RoomSetting::Limit(Some(n)));
                ('l', true, Some(Arc::from(n.to_string().as_str())), changed)
            }
            RoomChange::Limit(None) => (
                'l',
                false,
                None,
                self.record_setting(room, RoomSetting::Limit(None)),
            ),
            RoomChange::Op(nick, on) | RoomChange::Voice(nick, on) => {
                let Some(user) = self.member_named(room, nick) else {
                    // Issue 22: nobody of that name is `401`, someone outside the room `441`.
                    let user: Arc<str> = Arc::from(nick);
                    let error = match self.online.find(nick) {
                        Some(_) => Error::NotMember {
                            room: room.clone(),
                            user,
                        },
                        None => Error::NoSuchUser(user),
                    };
                    self.outbox.error(conn, error);
                    return None;
                };
                let (c, list) = match change {
                    RoomChange::Op(..) => ('o', List::Ops),
                    _ => ('v', List::Voiced),
                };
                let setting = match list {
                    List::Ops => RoomSetting::Op {
                        user: user.to_string(),
                        on,
                    },
                    _ => RoomSetting::Voice {
                        user: user.to_string(),
                        on,
                    },
                };
                if on && !self.list_has_room(conn, room, list) {
                    return None;
                }
                (c, on, Some(user), self.record_setting(room, setting))
            }
            RoomChange::Ban(mask, on) => {
                let mask = self.valid(conn, BanMask::new(mask))?;
                return self.ban(conn, room, mask, on);
            }
        };
        changed.then_some((c, on, arg))
    }

    /// IRC `±b`: a user's name (any spelling) is a name ban; anything else, or a name nobody
    /// has, is a mask (`name!*@*` for a bare word). A name ban does not put a member out.
    fn ban(
        &mut self,
        conn: ConnId,
        room: &Arc<str>,
        mask: BanMask<'_>,
        on: bool,
    ) -> Option<(char, bool, Option<Arc<str>>)> {
        let user = (!mask.is_pattern())
            .then(|| self.known_user(mask.as_str()))
            .flatten();
        if let Some(user) = user {
            let to = if on { Access::Banned } else { Access::None };
            let was = self
                .rooms
                .get(room)
                .and_then(|(_, r)| r.access.get(&user).copied());
            if on == (was == Some(Access::Banned)) {
                return None;
            }
            if !on && was != Some(Access::Banned) {
                return None;
            }
            return self
                .set_standing(conn, room, &user, to)
                .then_some(('b', on, Some(user)));
        }
        let mask = match mask.is_pattern() {
            true => mask.as_str().to_string(),
            false => format!("{}!*@*", mask.as_str()),
        };
        // Masks match under the casemapping, so they are one mask in any spelling: the one
        // listed is kept (`+b A!*@*` then `+b a!*@*` adds nothing) and is what `-b` removes.
        let stored = self.rooms.get(room).and_then(|(_, r)| {
            r.masks
                .iter()
                .find(|m| m.eq_ignore_ascii_case(&mask))
                .map(|m| m.to_string())
        });
        let listed = stored.is_some();
        let mask = stored.unwrap_or(mask);
        if on && !listed && !self.list_has_room(conn, room, List::Bans) {
            return None;
        }
        let arg = Some(Arc::from(mask.as_str()));
        let changed = self.record_setting(room, RoomSetting::Mask { mask, on });
        changed.then_some(('b', on, arg))
    }
}
