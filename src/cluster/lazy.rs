//! History waiting to be appended to the stream. History-only batches (a DM's, a room line's)
//! wait up to [`LAZY_DELAY`] and then go together, pipelined in one write, as entries of at
//! most [`LAZY_ENTRY_RECORDS`] records ([`Lazy::take_appends`] says why not one `MULTI`). Their
//! records are encoded as their batches arrive, a few per iteration, so the iteration that
//! sends a second of them only frames text already made: encoding 10,000 records there took
//! 16 ms of CPU at once, stretched to 50-65 ms by a busy machine, and every DM the node sent
//! meanwhile waited (BENCHMARKS.md, "Cluster on Redis").

use super::journal;
use crate::record::Record;
use std::time::{Duration, Instant};

/// Records in one entry of history-only batches at most. Every node reads and applies an
/// entry whole: a second of DMs at 10,000/s merged into one entry (740 KB) took 55-140 ms of
/// one iteration on each node, and every live message queued behind it.
pub const LAZY_ENTRY_RECORDS: usize = 256;

/// How long a batch of history records alone may wait for company before it is appended
/// (history is written lazily, as the file store syncs it within a second): every append
/// costs an fsync in Redis (`appendfsync always`), during which Redis serves nobody, live
/// messages included.
pub const LAZY_DELAY: Duration = Duration::from_secs(1);

/// History-only batches not yet sent, as the text of their entries.
#[derive(Debug, Default)]
pub struct Lazy {
    /// Each entry's transactions, each its records' text lines joined by `\n`.
    entries: Vec<Vec<String>>,
    /// Records in the last entry.
    filled: usize,
    /// The batches held, in order: the entries go under the last one's number (the core takes
    /// the earlier numbers for lost, a no-op for history).
    numbers: Vec<u64>,
    due: Option<Instant>,
}

impl Lazy {
    /// Batch `number`, history only, made at `now`: encoded now, sent by [`Lazy::due`] at
    /// the latest. A transaction is never split between entries.
    pub fn push(&mut self, number: u64, txns: &[Vec<Record>], now: Instant) {
        for txn in txns {
            if self.entries.is_empty() || self.filled + txn.len() > LAZY_ENTRY_RECORDS {
                self.entries.push(Vec::new());
                self.filled = 0;
            }
            self.filled += txn.len();
            if let Some(entry) = self.entries.last_mut() {
                entry.push(journal::txn_text(txn));
            }
        }
        self.numbers.push(number);
        self.due.get_or_insert(now + LAZY_DELAY);
    }

    /// When what is held must go.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// The batches held (not sent: after an outage they are no suspects).
    pub fn numbers(&self) -> &[u64] {
        &self.numbers
    }

    /// Everything held, as `(batch number, entries)`, to send now in this order.
    fn take(&mut self) -> Option<(u64, Vec<Vec<String>>)> {
        self.due = None;
        self.filled = 0;
        let number = *self.numbers.last()?;
        self.numbers.clear();
        Some((number, std::mem::take(&mut self.entries)))
    }

    /// Everything held as the `XADD`s that append it to `stream` for `node`, pipelined in
    /// one write. Redis reads a client 16 KB per turn of its loop and an entry is about 19 KB,
    /// so a second of history at 10,000 DMs/s (40 entries) is appended over about 40 turns,
    /// each with its fsync (`appendfsync always`; 0.6 ms median here). One `MULTI`/`EXEC`
    /// made it one turn and one fsync, and was measured worse (DM p99 between two nodes 5.9-8.0
    /// ms against 2.0-2.7 ms with `--cluster-live`, 8.7-141 against 2.5-14 ms without,
    /// alternating runs: BENCHMARKS.md): every node then got and applied the whole second at
    /// once, and Redis held pub/sub for one long fsync instead of many short ones. Their
    /// replies matter to nobody: nothing of a history batch waits to be settled.
    pub fn take_appends(&mut self, stream: &str, node: &str) -> Vec<Vec<String>> {
        let Some((number, entries)) = self.take() else {
            return Vec::new();
        };
        entries
            .into_iter()
            .map(|txns| journal::xadd_texts(stream, node, number, txns))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(i: usize) -> Record {
        Record::Block {
            by: format!("u{i}"),
            user: "x".into(),
        }
    }

    /// A second of DMs' history goes as entries a node applies a bounded piece at a time, in
    /// order, each transaction whole, under the last batch's number; and the records are text
    /// from the moment their batch is pushed (the iteration that sends them encodes nothing:
    /// `take` gives strings, and what it gives was made by `push`).
    #[test]
    fn history_is_encoded_as_it_comes_and_goes_as_bounded_entries() {
        let now = Instant::now();
        let mut lazy = Lazy::default();
        assert_eq!(lazy.take(), None);
        // 1,000 batches of one record, then one of three records in one transaction.
        for i in 0..1000 {
            lazy.push(
                i as u64,
                &[vec![said(i)]],
                now + Duration::from_millis(i as u64),
            );
        }
        assert_eq!(
            lazy.due(),
            Some(now + LAZY_DELAY),
            "the first batch sets the due time"
        );
        lazy.push(1000, &[vec![said(1000), said(1001), said(1002)]], now);
        assert_eq!(lazy.numbers().len(), 1001);
        let held: usize = lazy.entries.iter().flatten().map(String::len).sum();
        assert!(held > 1003 * 5, "encoded when pushed: {held} bytes");
        let (number, entries) = lazy.take().unwrap();
        assert_eq!(number, 1000);
        assert!(
            entries.len() > 1003 / LAZY_ENTRY_RECORDS,
            "{}",
            entries.len()
        );
        let mut all = Vec::new();
        for entry in entries {
            let records: usize = entry.iter().map(|t| t.split('\n').count()).sum();
            assert!((1..=LAZY_ENTRY_RECORDS).contains(&records), "{records}");
            all.extend(entry);
        }
        assert_eq!(all.len(), 1001, "every transaction, none split");
        assert_eq!(all[1000].split('\n').count(), 3);
        let flat: Vec<Record> = all
            .iter()
            .flat_map(|t| t.split('\n'))
            .filter_map(Record::parse)
            .collect();
        assert_eq!(flat, (0..1003).map(said).collect::<Vec<_>>());
        assert_eq!(
            (lazy.take(), lazy.due()),
            (None, None),
            "nothing held after"
        );
        assert!(lazy.numbers().is_empty());
    }

    /// A second of history goes as its entries' `XADD`s, pipelined, not as one `MULTI`/`EXEC`
    /// (measured worse: see `take_appends`); nothing held, nothing.
    #[test]
    fn a_second_of_history_goes_as_pipelined_entries() {
        let now = Instant::now();
        let mut lazy = Lazy::default();
        assert!(lazy.take_appends("p:journal", "n1").is_empty());
        for i in 0..600 {
            lazy.push(i as u64, &[vec![said(i)]], now);
        }
        let commands = lazy.take_appends("p:journal", "n1");
        let names: Vec<&str> = commands.iter().map(|c| c[0].as_str()).collect();
        assert_eq!(names, ["XADD", "XADD", "XADD"]);
        assert_eq!(
            &commands[1][1..7],
            ["p:journal", "*", "node", "n1", "batch", "599"]
        );
        assert!(lazy.take_appends("p:journal", "n1").is_empty());
    }
}
