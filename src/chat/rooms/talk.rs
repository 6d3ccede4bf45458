//! Talking in rooms: room chat (members only, blocks applied, the text rule checked) and the
//! topic (read by whoever may see the room; set by operators, or by members of a room without
//! the topic lock).

use super::room::Speech;
use super::Reach;
use crate::chat::{Chat, Undo};
use crate::event::{Error, Event, Kind, Meta, RoomEvent, Topic};
use crate::session::ConnId;
use crate::time::Now;
use crate::valid::{BoundedText, MessageText, TOPIC_LEN};
use std::sync::Arc;

impl Chat {
    /// Chat to a room: members, and anyone when the room allows outside messages (`-n`);
    /// under `+m` only operators and voiced members (issue 22). Stamped, kept for
    /// `CHATHISTORY` when it is text, and echoed to the sender as [`RoomEvent::Said`].
    #[allow(clippy::too_many_arguments)]
    pub(super) fn room_say(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        room: Option<&str>,
        text: &str,
        kind: Kind,
        relay: Option<&str>,
        now: Now,
    ) {
        let Some(text) = self.valid(conn, MessageText::new(text)) else {
            return;
        };
        let Some(room) = self.room_named(conn, me, room) else {
            return;
        };
        match self.rooms.get(&room).map(|(_, r)| r.may_speak(me)) {
            Some(Speech::Allowed) => {}
            Some(Speech::Moderated) => return self.outbox.error(conn, Error::Moderated(room)),
            Some(Speech::Outside) | None => {
                return self.outbox.error(conn, Error::CannotSendToRoom(room))
            }
        }
        self.tally.count(crate::chat::operator::MessageKind::Room);
        let stamp = self.stamps.next(now.unix_ms());
        let meta = Meta {
            kind,
            stamp,
            account: self.account_name(me),
            relay: relay.map(Arc::from),
        };
        let text: Arc<str> = Arc::from(text.as_str());
        let chat = RoomEvent::Chat {
            room: room.clone(),
            from: me.clone(),
            text: text.clone(),
            meta: meta.clone(),
        };
        self.room_fan(&room, chat, Some(me), Reach::From(me));
        if kind.is_text() {
            let to = crate::record::Audience::Room(room.clone());
            self.remember(stamp, me, to, kind, text.clone());
        }
        let said = RoomEvent::Said {
            room,
            from: me.clone(),
            text,
            meta,
        };
        self.outbox.send(conn, Event::Room(said));
    }

    pub(super) fn show_topic(&mut self, conn: ConnId, me: &str, room: Option<&str>) {
        if let Some(room) = self.visible_room(conn, me, room) {
            let topic = self.rooms.get(&room).and_then(|(_, r)| r.topic.clone());
            self.outbox
                .send(conn, Event::Room(RoomEvent::Topic { room, topic }));
        }
    }

    /// Set (or, with empty text, clear) a room's topic: operators, or any member when the
    /// topic is not locked (`-t`).
    pub(super) fn set_topic(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        room: Option<&str>,
        text: &str,
        now: Now,
    ) {
        let Some(room) = self.room_named(conn, me, room) else {
            return;
        };
        if let Some(error) = self.room_refusal(&room, me, false) {
            return self.outbox.error(conn, error);
        }
        self.note_room_actor(conn, &room, me, false);
        let member = self.rooms.is_member(&room, me);
        let Some(text) = self.valid(conn, BoundedText::new(text, TOPIC_LEN)) else {
            return;
        };
        let text = text.as_str();
        let topic = (!text.is_empty()).then(|| Topic {
            text: Arc::from(text),
            by: me.clone(),
            at_ms: now.unix_ms(),
        });
        if let Some((record, undo)) = self.rooms.set_topic(&room, topic.clone()) {
            self.outbox.record(record, Undo::Rooms(undo));
        }
        let event = RoomEvent::TopicSet {
            room: room.clone(),
            by: me.clone(),
            topic,
        };
        if !member {
            self.outbox.send(conn, Event::Room(event.clone()));
        }
        self.room_fan(&room, event, None, Reach::From(me));
    }
}
