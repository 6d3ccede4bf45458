//! The stream journal's wire side: a batch of transactions as one `XADD` entry (fields `node`,
//! `batch`, then `t0`, `t1`, … each a transaction's records, one text line each), and the
//! entries an `XREAD` or `XRANGE` reply holds, parsed back. Everything read is network input:
//! a malformed entry or record is skipped whole, the same way on every node.

use super::resp::{text, Frame};
use crate::record::Record;
use std::collections::VecDeque;

/// A stream entry id, `<ms>-<seq>`, ordered as Redis orders them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub fn parse(s: &str) -> Option<StreamId> {
        let (ms, seq) = s.split_once('-')?;
        Some(StreamId {
            ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One entry read back: which node wrote it, its batch number there, its transactions.
#[derive(Debug, PartialEq)]
pub struct Entry {
    pub id: StreamId,
    pub node: String,
    pub batch: u64,
    pub txns: Vec<Vec<Record>>,
}

/// The arguments of the `XADD` that appends batch `batch` of `node`.
pub fn xadd(stream: &str, node: &str, batch: u64, txns: &[Vec<Record>]) -> Vec<String> {
    xadd_texts(
        stream,
        node,
        batch,
        txns.iter().map(|t| txn_text(t)).collect(),
    )
}

/// [`xadd`] of transactions already in their text form ([`txn_text`]).
pub fn xadd_texts(stream: &str, node: &str, batch: u64, txns: Vec<String>) -> Vec<String> {
    let mut args = vec![
        "XADD".to_string(),
        stream.to_string(),
        "*".to_string(),
        "node".to_string(),
        node.to_string(),
        "batch".to_string(),
        batch.to_string(),
    ];
    for (i, text) in txns.into_iter().enumerate() {
        args.push(format!("t{i}"));
        args.push(text);
    }
    args
}

/// A transaction's field in an entry: its records' text lines joined by `\n`.
pub fn txn_text(txn: &[Record]) -> String {
    let lines: Vec<String> = txn.iter().map(|r| r.encode().into_string()).collect();
    lines.join("\n")
}

/// The next entries of `queue` to apply, whole and in order: at least one, then as many as
/// keep the records under `budget`, so one loop iteration applies a bounded piece.
pub fn take_slice(queue: &mut VecDeque<Entry>, budget: usize) -> Vec<Entry> {
    let mut slice = Vec::new();
    let mut records = 0;
    while let Some(e) = queue.front() {
        let n: usize = e.txns.iter().map(Vec::len).sum();
        if !slice.is_empty() && records + n > budget {
            break;
        }
        records += n;
        slice.extend(queue.pop_front());
    }
    slice
}

/// The entries of an `XREAD` reply (`[[stream, [entry…]]]`, or nil when the block timed out).
pub fn xread_entries(reply: &Frame) -> Vec<Entry> {
    let Frame::Array(streams) = reply else {
        return Vec::new();
    };
    streams
        .iter()
        .filter_map(|s| match s {
            Frame::Array(pair) => pair.get(1),
            _ => None,
        })
        .flat_map(range_entries)
        .collect()
}

/// The entries of an `XRANGE`/`XREVRANGE` reply (`[[id, [field, value, …]], …]`).
pub fn range_entries(reply: &Frame) -> Vec<Entry> {
    let Frame::Array(entries) = reply else {
        return Vec::new();
    };
    entries.iter().filter_map(entry).collect()
}

/// The id of an entry of a range reply, even one that is not ours to parse.
pub fn first_id(reply: &Frame) -> Option<StreamId> {
    let Frame::Array(entries) = reply else {
        return None;
    };
    match entries.first()? {
        Frame::Array(e) => StreamId::parse(text(e.first()?)?),
        _ => None,
    }
}

fn entry(frame: &Frame) -> Option<Entry> {
    let Frame::Array(e) = frame else { return None };
    let id = StreamId::parse(text(e.first()?)?)?;
    let Some(Frame::Array(fields)) = e.get(1) else {
        return Some(skipped(id));
    };
    let mut node = None;
    let mut batch = None;
    let mut txns = Vec::new();
    for pair in fields.chunks(2) {
        let (Some(k), Some(v)) = (pair.first().and_then(text), pair.get(1).and_then(text)) else {
            return Some(skipped(id));
        };
        match k {
            "node" => node = Some(v.to_string()),
            "batch" => batch = v.parse().ok(),
            _ => {
                let records: Option<Vec<Record>> = if v.is_empty() {
                    Some(Vec::new())
                } else {
                    v.split('\n').map(Record::parse).collect()
                };
                match records {
                    Some(r) => txns.push(r),
                    None => {
                        log::warn!("stream entry {id}: a transaction that does not parse, skipped")
                    }
                }
            }
        }
    }
    match (node, batch) {
        (Some(node), Some(batch)) => Some(Entry {
            id,
            node,
            batch,
            txns,
        }),
        _ => Some(skipped(id)),
    }
}

/// An entry that is not ours (or damaged): read past, applied as nothing.
fn skipped(id: StreamId) -> Entry {
    log::warn!("stream entry {id} is not a chatserver batch: skipped");
    Entry {
        id,
        node: String::new(),
        batch: 0,
        txns: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::BulkString(s.as_bytes().to_vec())
    }

    /// A reply of 16 history entries of 256 records is applied 4 entries per iteration, in
    /// order; an entry larger than the budget still goes (alone), and nothing is lost.
    #[test]
    fn entries_are_applied_in_bounded_slices() {
        let entry = |i: u64, records: usize| Entry {
            id: StreamId { ms: i, seq: 0 },
            node: "n".into(),
            batch: i,
            txns: vec![vec![Record::NodeDown { node: "x".into() }; records]],
        };
        let mut queue: VecDeque<Entry> = (0..16).map(|i| entry(i, 256)).collect();
        queue.push_back(entry(16, 5000));
        queue.push_back(entry(17, 1));
        let mut slices = Vec::new();
        while !queue.is_empty() {
            let ids: Vec<u64> = take_slice(&mut queue, 1024)
                .iter()
                .map(|e| e.id.ms)
                .collect();
            slices.push(ids);
        }
        assert_eq!(slices.len(), 6, "{slices:?}");
        assert!(slices[..4].iter().all(|s| s.len() == 4), "{slices:?}");
        assert_eq!(slices[4..], [vec![16], vec![17]]);
        let order: Vec<u64> = slices.concat();
        assert_eq!(order, (0..18).collect::<Vec<_>>());
        assert!(take_slice(&mut queue, 1024).is_empty());
    }

    #[test]
    fn a_batch_reads_back_as_written() {
        let txns = vec![
            vec![
                Record::Block {
                    by: "a".into(),
                    user: "b\tc\nd".into(),
                },
                Record::NodeDown { node: "n2".into() },
            ],
            vec![],
        ];
        let args = xadd("p:journal", "n1", 7, &txns);
        assert_eq!(
            &args[..7],
            ["XADD", "p:journal", "*", "node", "n1", "batch", "7"]
        );
        let fields: Vec<Frame> = args[3..].iter().map(|a| bulk(a)).collect();
        let reply = Frame::Array(vec![Frame::Array(vec![
            bulk("p:journal"),
            Frame::Array(vec![Frame::Array(vec![bulk("5-1"), Frame::Array(fields)])]),
        ])]);
        let got = xread_entries(&reply);
        assert_eq!(
            got,
            vec![Entry {
                id: StreamId { ms: 5, seq: 1 },
                node: "n1".into(),
                batch: 7,
                txns
            }]
        );
    }

    #[test]
    fn foreign_and_damaged_entries_are_skipped_not_fatal() {
        let reply = Frame::Array(vec![
            Frame::Array(vec![bulk("1-0"), Frame::Array(vec![bulk("x"), bulk("y")])]),
            Frame::Array(vec![
                bulk("2-0"),
                Frame::Array(vec![
                    bulk("node"),
                    bulk("n"),
                    bulk("batch"),
                    bulk("1"),
                    bulk("t0"),
                    bulk("bogus\trecord"),
                ]),
            ]),
            Frame::Integer(3),
        ]);
        let got = range_entries(&reply);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].batch, got[0].txns.len()), (0, 0));
        assert_eq!(
            (got[1].batch, got[1].txns.len()),
            (1, 0),
            "the bad txn is dropped"
        );
        assert!(xread_entries(&Frame::Null).is_empty());
        assert!(StreamId::parse("1-2") < StreamId::parse("2-0"));
        assert_eq!(StreamId::parse("x"), None);
    }
}
