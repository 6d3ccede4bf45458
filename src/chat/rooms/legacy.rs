//! The `channel` records of data directories written before issue 17: a room's whole IRC state
//! in one record, the last replayed winning. They are read, never written: every change is now
//! one `room-set` record. Old snapshots wrote a room's `channel` record before its `room-open`,
//! so one may arrive before its room exists.

use super::state::Room;
use crate::record::Record;
use std::sync::Arc;

/// One old `channel` record's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extras {
    created_s: u64,
    secret: bool,
    topic_lock: bool,
    no_outside: bool,
    key: Option<Arc<str>>,
    ops: Vec<Arc<str>>,
    voiced: Vec<Arc<str>>,
    masks: Vec<Arc<str>>,
}

impl Extras {
    /// The room and the settings of a `channel` record (`None` for any other record).
    pub fn of(record: Record) -> Option<(String, Extras)> {
        let Record::Channel {
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
        else {
            return None;
        };
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
        Some((room, extras))
    }

    /// These settings replace the room's IRC settings, as the record did when it was written.
    pub fn apply_to(&self, room: &mut Room) {
        room.created_s = self.created_s;
        room.secret = self.secret;
        room.topic_lock = self.topic_lock;
        room.no_outside = self.no_outside;
        room.key = self.key.clone();
        room.ops = self.ops.iter().cloned().collect();
        room.voiced = self.voiced.iter().cloned().collect();
        room.masks = self.masks.iter().cloned().collect();
    }
}
