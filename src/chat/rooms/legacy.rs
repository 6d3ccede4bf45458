//! The `channel` records of files written before issue 17: a room's whole IRC state in one
//! line, `<created> <flags> <key> <ops> <voiced> <masks>` (`-` for none, lists comma-separated).
//! They are read, never written: every change is now one `room-set` record.

use super::state::Room;
use std::sync::Arc;

/// One old `channel` record's state.
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

fn unlist(s: &str) -> Vec<Arc<str>> {
    match s {
        "-" => Vec::new(),
        _ => s.split(',').map(Arc::from).collect(),
    }
}

impl Extras {
    pub fn parse(text: &str) -> Option<Extras> {
        let w: Vec<&str> = text.split(' ').collect();
        let [created, flags, key, ops, voiced, masks] = w[..] else {
            return None;
        };
        Some(Extras {
            created_s: created.parse().ok()?,
            secret: flags.contains('s'),
            topic_lock: flags.contains('t'),
            no_outside: flags.contains('n'),
            key: (key != "-").then(|| Arc::from(key)),
            ops: unlist(ops),
            voiced: unlist(voiced),
            masks: unlist(masks),
        })
    }

    /// These settings replace the room's IRC settings (the last record replayed wins, as it
    /// did when it was written).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_channel_states_parse() {
        let x = Extras::parse("99 ns sekrit cy - *!*@10.0.0.1,b?b").expect("parses");
        assert_eq!(x.created_s, 99);
        assert!(x.secret && x.no_outside && !x.topic_lock);
        assert_eq!(x.key.as_deref(), Some("sekrit"));
        assert_eq!(x.ops, [Arc::from("cy")]);
        assert!(x.voiced.is_empty());
        assert_eq!(x.masks.len(), 2);
        let none = Extras::parse("0 - - - - -").expect("parses");
        assert!(none.key.is_none() && none.masks.is_empty() && !none.topic_lock);
        assert_eq!(Extras::parse("1 2"), None);
    }
}
