//! The durable state frozen for a compaction (issue 8). Taking it happens in one loop
//! iteration, so it must cost little at any size: the large parts (offline queues, blocks,
//! profiles) are [`CowMap`]s, frozen as a few hundred shared shards, and become records only as
//! the snapshot is written, a shard per step at most. Small parts (rooms with their settings,
//! lockouts) are taken as records at once.
//!
//! [`CowMap`]: super::cow_map::CowMap

use super::cow_map::Shard;
use super::mailboxes::Queued;
use super::profiles::{Values, ATTRIBUTES};
use crate::record::Record;
use crate::store::Snapshot;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

/// Batches handed out and not yet written, by user, at the freeze.
pub type Flying = HashMap<Arc<str>, Vec<Arc<[Queued]>>>;

/// One piece of the frozen state; each turns into the records that replay to it.
#[derive(Debug)]
pub enum Part {
    /// Small state, taken as a record.
    Record(Record),
    /// Offline queues (after each user's batches in flight).
    Mail(Arc<Shard<VecDeque<Queued>>>),
    /// A user with batches in flight and nothing queued.
    Flying(Arc<str>),
    /// Who blocked whom.
    Blocks(Arc<Shard<BTreeSet<String>>>),
    Profiles(Arc<Shard<Values>>),
}

impl Part {
    /// About how many records this part is, so freeing is spread over steps by size.
    fn weight(&self) -> usize {
        match self {
            Part::Record(_) | Part::Flying(_) => 1,
            Part::Mail(shard) => shard.values().map(|q| q.len()).sum(),
            Part::Blocks(shard) => shard.values().map(|b| b.len()).sum(),
            Part::Profiles(shard) => shard.len(),
        }
    }
}

/// Append the records that replay to `part`, in replay order.
fn expand(part: &Part, flying: &Flying, out: &mut VecDeque<Record>) {
    match part {
        Part::Record(r) => out.push_back(r.clone()),
        Part::Mail(shard) => {
            for (to, queue) in shard.iter() {
                mail(to, flying, Some(queue), out);
            }
        }
        Part::Flying(to) => mail(to, flying, None, out),
        Part::Blocks(shard) => {
            for (by, users) in shard.iter() {
                out.extend(users.iter().map(|user| Record::Block {
                    by: by.to_string(),
                    user: user.clone(),
                }));
            }
        }
        Part::Profiles(shard) => {
            for (user, values) in shard.iter() {
                let set = ATTRIBUTES.iter().zip(values.iter());
                out.extend(
                    set.filter(|(_, v)| !v.is_empty())
                        .map(|(a, v)| Record::Profile {
                            user: user.to_string(),
                            attribute: a.to_string(),
                            value: v.clone(),
                        }),
                );
            }
        }
    }
}

/// `to`'s offline messages: those in flight first (their `delivered` record is still to come).
fn mail(
    to: &Arc<str>,
    flying: &Flying,
    queued: Option<&Arc<VecDeque<Queued>>>,
    out: &mut VecDeque<Record>,
) {
    let batches = flying.get(to).into_iter().flatten();
    let queued = queued.into_iter().flat_map(|q| q.iter());
    for q in batches.flat_map(|b| b.iter()).chain(queued) {
        out.push_back(q.record(to));
    }
}

/// Order for [`Frozen::into_sorted_records`]: the kind, then the user.
fn sort_key(r: &Record) -> (u8, &str) {
    match r {
        Record::Block { by, .. } => (0, by),
        Record::Offline { to, .. } | Record::Mail { to, .. } => (1, to),
        Record::Profile { user, .. } => (3, user),
        _ => (2, ""),
    }
}

/// The frozen state, handed to [`crate::store::Store::begin_compaction`].
#[derive(Debug, Default)]
pub struct Frozen {
    parts: Vec<Part>,
    flying: Flying,
    /// Index of the next part to expand.
    next: usize,
    /// Records of the parts expanded and not yet given.
    pending: VecDeque<Record>,
}

impl Frozen {
    pub fn new(parts: Vec<Part>, flying: Flying) -> Frozen {
        Frozen {
            parts,
            flying,
            next: 0,
            pending: VecDeque::new(),
        }
    }

    /// Every record, in order.
    pub fn into_records(mut self) -> Vec<Record> {
        self.rewind();
        std::iter::from_fn(|| self.next_record()).collect()
    }

    /// Every record in a reproducible order (by kind and user; each user's records keep their
    /// order), so two equal states compare equal. For tests: sorting is not free.
    pub fn into_sorted_records(self) -> Vec<Record> {
        let mut records = self.into_records();
        records.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        records
    }
}

impl Snapshot for Frozen {
    fn next_record(&mut self) -> Option<Record> {
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Some(r);
            }
            let part = self.parts.get(self.next)?;
            expand(part, &self.flying, &mut self.pending);
            self.next += 1;
        }
    }

    fn rewind(&mut self) {
        self.next = 0;
        self.pending.clear();
    }

    fn free_some(&mut self, n: usize) -> bool {
        self.pending = VecDeque::new();
        let mut freed = 0;
        while freed < n {
            match self.parts.pop() {
                Some(part) => freed += part.weight().max(1),
                None => break,
            }
        }
        if self.parts.is_empty() {
            self.flying = Flying::new();
        }
        self.parts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(text: &str) -> Queued {
        Queued {
            from: Arc::from("yoda"),
            stamp: crate::event::Stamp {
                at_ms: 7,
                id: 7 << 12,
            },
            kind: crate::event::Kind::Say,
            text: Arc::from(text),
        }
    }

    fn offline(to: &str, text: &str) -> Record {
        queued(text).record(&Arc::from(to))
    }

    fn shard<V>(entries: Vec<(&str, V)>) -> Arc<Shard<V>> {
        Arc::new(
            entries
                .into_iter()
                .map(|(k, v)| (Arc::from(k), Arc::new(v)))
                .collect(),
        )
    }

    #[test]
    fn parts_expand_in_replay_order_and_rewind() {
        let queue: VecDeque<Queued> = [queued("c"), queued("d")].into_iter().collect();
        let mut flying = Flying::new();
        flying.insert(
            Arc::from("luke"),
            vec![Arc::from(vec![queued("a"), queued("b")])],
        );
        flying.insert(Arc::from("leia"), vec![Arc::from(vec![queued("e")])]);
        let values: Values = [
            "19".into(),
            String::new(),
            "jedi".into(),
            String::new(),
            String::new(),
        ];
        let mut f = Frozen::new(
            vec![
                Part::Mail(shard(vec![("luke", queue)])),
                Part::Flying(Arc::from("leia")),
                Part::Profiles(shard(vec![("luke", values)])),
            ],
            flying,
        );
        let first: Vec<Record> = std::iter::from_fn(|| f.next_record()).collect();
        let profile = |attribute: &str, value: &str| Record::Profile {
            user: "luke".into(),
            attribute: attribute.into(),
            value: value.into(),
        };
        let expected = vec![
            offline("luke", "a"),
            offline("luke", "b"),
            offline("luke", "c"),
            offline("luke", "d"),
            offline("leia", "e"),
            profile("age", "19"),
            profile("job", "jedi"),
        ];
        assert_eq!(first, expected);
        f.next_record();
        assert_eq!(f.into_records(), expected, "rewound to the first record");
    }

    #[test]
    fn freeing_goes_by_weight() {
        let big: VecDeque<Queued> = (0..100).map(|i| queued(&i.to_string())).collect();
        let mail = || Part::Mail(shard(vec![("luke", big.clone())]));
        let mut f = Frozen::new(vec![mail(), mail(), mail()], Flying::new());
        assert!(!f.free_some(150), "two parts of 100 freed, one left");
        assert_eq!(f.parts.len(), 1);
        assert!(f.free_some(1));
    }
}
