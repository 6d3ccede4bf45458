//! Snapshots in Redis: the state a node froze, as a list of record lines `P:snapshot:<id>`
//! covering every stream entry up to `<id>`, written a bounded number of bytes per loop
//! iteration; then `P:snapshot` points at it and the stream is trimmed (`XTRIM MINID`) up to
//! the oldest position any live node still needs. A starting node loads the snapshot a
//! thousand records per reply, then tails the stream after its id. The previous snapshot is
//! kept until the next one replaces it, so a node loading it is never cut short.

use super::journal::StreamId;
use super::resp::{text, Frame};
use crate::chat::{Chat, ClusterSnapshot};
use crate::record::Record;

/// Record bytes sent per loop iteration while writing (as the file compaction's step).
pub const STEP_BYTES: usize = 256 << 10;
/// Records per `LRANGE` while loading.
pub const LOAD_COUNT: usize = 1000;

/// Where loading the newest snapshot is (at start-up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Load {
    /// Not asked yet (the command link is not up).
    NotStarted,
    /// `GET` of the pointer sent.
    Pointer,
    /// Reading the list `key` from index `next`.
    Reading {
        covered: StreamId,
        key: String,
        next: usize,
    },
    /// Loaded (or there was none): the tail may start.
    Done,
}

/// A snapshot being written.
#[derive(Debug)]
pub struct Writing {
    pub covered: StreamId,
    pub key: String,
    pub state: ClusterSnapshot,
    /// When it began (the loop runs its steps back to back: no timer waits).
    pub began: std::time::Instant,
}

impl Writing {
    /// The next `RPUSH` (at most [`STEP_BYTES`] of records) of `chat`'s state, unchanged
    /// since the snapshot began; `None` once all are out.
    pub fn step(&mut self, chat: &Chat) -> Option<Vec<String>> {
        let mut args = vec!["RPUSH".to_string(), self.key.clone()];
        let mut bytes = 0;
        while bytes < STEP_BYTES {
            let Some(r) = self.state.next_record(chat) else {
                break;
            };
            let line = r.encode().as_str().to_string();
            bytes += line.len();
            args.push(line);
        }
        (args.len() > 2).then_some(args)
    }
}

/// The records of an `LRANGE` reply (a line that does not parse is skipped with a warning).
pub fn records(reply: &Frame) -> (usize, Vec<Record>) {
    let Frame::Array(items) = reply else {
        return (0, Vec::new());
    };
    let records = items
        .iter()
        .filter_map(|f| {
            let r = text(f).and_then(Record::parse);
            if r.is_none() {
                log::warn!("cluster: a snapshot record that does not parse, skipped");
            }
            r
        })
        .collect();
    (items.len(), records)
}

/// The oldest stream position still needed: the snapshot's, or a live node's behind it
/// (each node's liveness key holds the last entry it applied).
pub fn trim_to(covered: StreamId, reply: &Frame) -> StreamId {
    let Frame::Array(values) = reply else {
        return covered;
    };
    values
        .iter()
        .filter_map(|v| text(v).and_then(StreamId::parse))
        .fold(covered, StreamId::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trim_stops_at_the_slowest_live_node() {
        let covered = StreamId { ms: 50, seq: 0 };
        let reply = Frame::Array(vec![
            Frame::BulkString(b"60-0".to_vec()),
            Frame::Null,
            Frame::BulkString(b"40-3".to_vec()),
            Frame::BulkString(b"junk".to_vec()),
        ]);
        assert_eq!(trim_to(covered, &reply), StreamId { ms: 40, seq: 3 });
        assert_eq!(trim_to(covered, &Frame::Null), covered);
    }

    #[test]
    fn snapshot_lines_read_back() {
        let r = Record::Block {
            by: "a".into(),
            user: "b c".into(),
        };
        let reply = Frame::Array(vec![
            Frame::BulkString(r.encode().as_str().as_bytes().to_vec()),
            Frame::BulkString(b"nonsense".to_vec()),
        ]);
        assert_eq!(records(&reply), (2, vec![r]));
    }
}
