//! Talking in rooms: room chat (members only, blocks applied, the text rule checked) and the
//! topic (read by whoever may see the room; set by operators, or by members of a room without
//! the topic lock).

use super::Reach;
use crate::chat::{Chat, Undo};
use crate::event::{Error, Event, RoomEvent, Topic};
use crate::session::ConnId;
use crate::time::Now;
use crate::valid::{BoundedText, MessageText, TOPIC_LEN};
use std::sync::Arc;

impl Chat {
    pub(super) fn room_say(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        room: Option<&str>,
        text: &str,
        notice: bool,
    ) {
        let Some(text) = self.valid(conn, MessageText::new(text)) else {
            return;
        };
        let Some(room) = self.room_named(conn, me, room) else {
            return;
        };
        if !self.rooms.is_member(&room, me) {
            return self.outbox.error(conn, Error::CannotSendToRoom(room));
        }
        self.tally.count(crate::chat::operator::MessageKind::Room);
        let text: Arc<str> = Arc::from(text.as_str());
        let chat = RoomEvent::Chat {
            room: room.clone(),
            from: me.clone(),
            text: text.clone(),
            notice,
        };
        self.room_fan(&room, chat, Some(me), Reach::From(me));
        let said = RoomEvent::Said {
            room,
            from: me.clone(),
            text,
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
        let (op, locked) = match self.rooms.get(&room) {
            Some((_, r)) => (r.is_op(me), r.topic_lock),
            None => return,
        };
        let member = self.rooms.is_member(&room, me);
        if locked && !op {
            return self.outbox.error(conn, Error::NotRoomOperator(room));
        }
        if !member && !op {
            return self.outbox.error(conn, Error::NotInThatRoom(room));
        }
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
