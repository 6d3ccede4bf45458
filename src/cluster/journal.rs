//! The stream journal's wire side: a batch of transactions as one `XADD` entry (fields `node`,
//! `batch`, then `t0`, `t1`, … each a transaction's records, one text line each), and the
//! entries an `XREAD` or `XRANGE` reply holds, parsed back. Everything read is network input:
//! a malformed entry or record is skipped whole, the same way on every node.

use super::resp::{text, Frame};
use crate::record::Record;

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
    let mut args = vec![
        "XADD".to_string(),
        stream.to_string(),
        "*".to_string(),
        "node".to_string(),
        node.to_string(),
        "batch".to_string(),
        batch.to_string(),
    ];
    for (i, txn) in txns.iter().enumerate() {
        args.push(format!("t{i}"));
        let lines: Vec<String> = txn
            .iter()
            .map(|r| r.encode().as_str().to_string())
            .collect();
        args.push(lines.join("\n"));
    }
    args
}

/// Records in one entry of history-only batches at most. Every node reads and applies an
/// entry in one loop iteration: a second of DMs at 10,000/s merged into one entry (740 KB) took
/// 55-140 ms of one iteration on each node (BENCHMARKS.md, "Cluster on Redis"), and every
/// live message queued behind it.
pub const LAZY_ENTRY_RECORDS: usize = 256;

/// History-only batches `(number, transactions)`, in order, as entries of at most
/// [`LAZY_ENTRY_RECORDS`] records (a transaction is never split), each under the last batch's
/// number: nothing in them waits to be settled, and the core takes the earlier numbers for
/// lost, a no-op for history.
pub fn lazy_entries(batches: Vec<(u64, Vec<Vec<Record>>)>) -> Vec<(u64, Vec<Vec<Record>>)> {
    let Some(number) = batches.last().map(|(n, _)| *n) else {
        return Vec::new();
    };
    let mut entries: Vec<(u64, Vec<Vec<Record>>)> = Vec::new();
    let mut records = 0;
    for txn in batches.into_iter().flat_map(|(_, txns)| txns) {
        if entries.is_empty() || records + txn.len() > LAZY_ENTRY_RECORDS {
            entries.push((number, Vec::new()));
            records = 0;
        }
        records += txn.len();
        if let Some((_, txns)) = entries.last_mut() {
            txns.push(txn);
        }
    }
    entries
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

    /// A second of DMs' history goes as entries a node applies a bounded piece at a time, in
    /// order, each transaction whole, under the last batch's number.
    #[test]
    fn history_only_batches_go_as_bounded_entries() {
        let said = |i: usize| Record::Block {
            by: format!("u{i}"),
            user: "x".into(),
        };
        // 1,000 batches of one record, then one of three records in one transaction.
        let mut batches: Vec<(u64, Vec<Vec<Record>>)> =
            (0..1000).map(|i| (i as u64, vec![vec![said(i)]])).collect();
        batches.push((1000, vec![vec![said(1000), said(1001), said(1002)]]));
        let entries = lazy_entries(batches);
        assert!(
            entries.len() > 1003 / LAZY_ENTRY_RECORDS,
            "{}",
            entries.len()
        );
        let mut all = Vec::new();
        for (number, txns) in entries {
            assert_eq!(number, 1000);
            let records: usize = txns.iter().map(Vec::len).sum();
            assert!((1..=LAZY_ENTRY_RECORDS).contains(&records), "{records}");
            all.extend(txns);
        }
        assert_eq!(all.len(), 1001, "every transaction, none split");
        assert_eq!(all[1000].len(), 3);
        let flat: Vec<Record> = all.into_iter().flatten().collect();
        assert_eq!(flat, (0..1003).map(said).collect::<Vec<_>>());
        assert!(lazy_entries(Vec::new()).is_empty());
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
