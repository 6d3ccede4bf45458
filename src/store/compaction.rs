//! Incremental compaction: the snapshot is written a bounded number of bytes per loop iteration,
//! so a large state never stalls the clients (a 535 MB snapshot once froze the loop for 6 s).
//!
//! Files, with G the generation of the current snapshot:
//! 1. Begin: `snapshot.tmp` (header G+1) is created, then `journal.next` (header G+1) is put in
//!    place atomically and receives every commit from now on. `journal.log` (G) is frozen:
//!    together with `snapshot.log` (G) it holds exactly the state handed to the compaction.
//! 2. Steps append that state to `snapshot.tmp`, syncing it every [`SYNC_EVERY`] bytes so the
//!    final sync is short.
//! 3. Finish: sync `snapshot.tmp`, rename it to `snapshot.log` (G+1), sync the directory, rename
//!    `journal.next` to `journal.log`, sync the directory.
//!
//! Every crash point leaves one of three sets, each read back exactly once ([`recover`]):
//! - snapshot G, journal G, journal.next G+1 (crash before the snapshot's rename): replay all
//!   three in order, then finish at start-up by writing snapshot G+1 as the plain records of
//!   snapshot G and journal G (not compacted, but exactly the frozen state), and renaming;
//! - snapshot G+1, journal G (superseded), journal.next G+1 (crash between the renames): the
//!   snapshot already holds journal G, so replay the snapshot and journal.next, then rename;
//! - snapshot G+1, journal G+1: the normal case.
//!
//! Replaced files are retired to `trash`, which frees them a bounded piece per step.
//! A leftover `snapshot.tmp` is never read. The directory sync after the snapshot's rename makes
//! it durable before the journal's, so journal.next never loses its snapshot. A failed step (a
//! full disk) deletes `snapshot.tmp` and keeps the state in memory; commits go on to
//! journal.next (the first set above, valid at any restart) and the snapshot is written again
//! from the start once the journal has grown by the retry distance.

use super::files::{create_private, sync_dir, truncate, write_atomic};
use super::format::{encode_line, header, Loaded};
use super::trash::Trash;
use super::{StoreError, JOURNAL, SNAPSHOT};
use crate::record::Record;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The journal that receives commits while a compaction runs.
pub(super) const NEXT: &str = "journal.next";
const SNAPSHOT_TMP: &str = "snapshot.tmp";
/// Sync the snapshot being written at least this often, so its final sync stays short.
pub(super) const SYNC_EVERY: u64 = 1 << 20;
/// Records' worth of the compacted state freed per step once the snapshot is in place.
const FREE_PER_STEP: usize = 16_384;

/// The state a compaction writes, handed over as a cheap frozen view and turned into records a
/// step at a time: building 64 MiB of offline messages as records in the iteration that begins
/// the compaction took 50 ms, against issue 8's 50 ms bound for any iteration.
pub trait Snapshot: std::fmt::Debug + Send {
    /// The next record of the state, `None` after the last.
    fn next_record(&mut self) -> Option<Record>;
    /// Start again from the first record (a failed attempt is written again from the start).
    fn rewind(&mut self);
    /// Drop about `n` records' worth of the state; true once nothing is left. Only called once
    /// the snapshot is in place, so freeing a large state is spread over steps too.
    fn free_some(&mut self, n: usize) -> bool;
}

/// A state that already is a list of records (tests and [`super::Store::compact`]).
#[derive(Debug)]
pub struct RecordList {
    records: Vec<Record>,
    next: usize,
}

impl From<Vec<Record>> for RecordList {
    fn from(records: Vec<Record>) -> RecordList {
        RecordList { records, next: 0 }
    }
}

impl Snapshot for RecordList {
    fn next_record(&mut self) -> Option<Record> {
        let r = self.records.get(self.next).cloned();
        self.next += usize::from(r.is_some());
        r
    }

    fn rewind(&mut self) {
        self.next = 0;
    }

    fn free_some(&mut self, n: usize) -> bool {
        let keep = self.records.len().saturating_sub(n);
        self.records.truncate(keep);
        self.records.is_empty()
    }
}

/// A compaction in progress (see the module doc).
#[derive(Debug)]
pub(super) struct Compaction {
    dir: PathBuf,
    /// Of the snapshot being written and of journal.next.
    pub(super) generation: u64,
    /// The state handed over at the start; kept whole until the snapshot is in place, so a
    /// failed attempt can start again.
    state: Box<dyn Snapshot>,
    /// Every record of `state` was encoded.
    drained: bool,
    /// `state` is freed (once in place).
    freed: bool,
    /// Encoded bytes not yet written (at most one step's budget plus one record).
    buf: Vec<u8>,
    /// The text of the record being encoded (reused).
    text: String,
    /// `None` until the first step and after a failure: (re)start from the first record.
    pub(super) file: Option<File>,
    /// Bytes in `snapshot.tmp`.
    written: u64,
    /// Written since the last sync.
    unsynced: u64,
    pub(super) phase: Phase,
}

/// Where a compaction is; each step moves at most one phase on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Appending records to `snapshot.tmp`.
    Writing,
    /// All written: sync and rename next.
    Written,
    /// Renamed to `snapshot.log`; the directory sync is next.
    Renamed,
    /// Durably in place: the state is freed a part per step, then journal.next is renamed.
    InPlace,
}

impl Compaction {
    pub(super) fn new(dir: &Path, generation: u64, state: Box<dyn Snapshot>) -> Compaction {
        Compaction {
            dir: dir.to_path_buf(),
            generation,
            state,
            drained: false,
            freed: false,
            buf: Vec::new(),
            text: String::new(),
            file: None,
            written: 0,
            unsynced: 0,
            phase: Phase::Writing,
        }
    }

    /// Create `snapshot.tmp` with its header (keeping the current snapshot's mode).
    pub(super) fn start(&mut self) -> io::Result<()> {
        let tmp = self.dir.join(SNAPSHOT_TMP);
        let mut file = create_private(&tmp)?;
        if let Ok(meta) = fs::metadata(self.dir.join(SNAPSHOT)) {
            file.set_permissions(fs::Permissions::from_mode(meta.permissions().mode()))?;
        }
        let head = header("snapshot", self.generation);
        file.write_all(&head)?;
        self.written = head.len() as u64;
        self.unsynced = self.written;
        self.state.rewind();
        self.drained = false;
        self.buf.clear();
        self.file = Some(file);
        Ok(())
    }

    /// One bounded piece of work: write at most `budget` bytes of the snapshot; or, once all
    /// are written, sync it and rename it into place; or sync the directory. Each of these is
    /// its own step so none of them adds to another's time. Returns whether the snapshot is
    /// durably in place (journal.next may then be renamed). On error the caller calls [`abort`].
    ///
    /// [`abort`]: Compaction::abort
    pub(super) fn step(&mut self, budget: usize, trash: &mut Trash) -> io::Result<bool> {
        let snap = self.dir.join(SNAPSHOT);
        match self.phase {
            Phase::InPlace if self.freed => return Ok(true),
            Phase::InPlace => {
                // Freeing a large state at once is itself a stall (40 ms for 600,000 records).
                self.freed = self.state.free_some(FREE_PER_STEP);
                return Ok(self.freed);
            }
            Phase::Renamed => {
                // Until this sync the rename may be lost; journal.next's must not overtake it.
                sync_dir(&snap)?;
                self.phase = Phase::InPlace;
                return Ok(false);
            }
            Phase::Written => {
                if let Some(file) = self.file.take() {
                    file.sync_all()?;
                }
                // Replacing the old snapshot must not free its blocks now (see `trash`).
                trash.link(&snap, &self.dir.join("snapshot.old"))?;
                fs::rename(self.dir.join(SNAPSHOT_TMP), &snap)?;
                self.phase = Phase::Renamed;
                return Ok(false);
            }
            Phase::Writing => {}
        }
        if self.file.is_none() {
            self.start()?;
        }
        let budget = budget.max(1);
        while self.buf.len() < budget && !self.drained {
            match self.state.next_record() {
                // History is kept by its own files, not in snapshots.
                Some(r) if r.is_lazy() => {}
                Some(r) => encode_line(&r, &mut self.buf, &mut self.text),
                None => self.drained = true,
            }
        }
        let n = self.buf.len().min(budget);
        let Some(file) = self.file.as_mut() else {
            return Ok(false);
        };
        file.write_all(&self.buf[..n])?;
        self.buf.drain(..n);
        self.written += n as u64;
        self.unsynced += n as u64;
        if self.unsynced >= SYNC_EVERY {
            file.sync_data()?;
            self.unsynced = 0;
        }
        if self.buf.is_empty() && self.drained {
            self.phase = Phase::Written;
        }
        Ok(false)
    }

    /// The snapshot is durably in place and the state freed: journal.next may be renamed.
    pub(super) fn ready(&self) -> bool {
        self.phase == Phase::InPlace && self.freed
    }

    /// Size of the snapshot once in place.
    pub(super) fn snapshot_len(&self) -> u64 {
        self.written
    }

    /// Whether the next step (re)starts the snapshot from the first record.
    pub(super) fn restarting(&self) -> bool {
        self.phase == Phase::Writing && self.file.is_none()
    }

    /// Give up this attempt: retire `snapshot.tmp` so a full disk gets its space back (a step
    /// at a time, like every large file); the next step starts again from the first record.
    pub(super) fn abort(&mut self, trash: &mut Trash) {
        if matches!(self.phase, Phase::Renamed | Phase::InPlace) {
            return;
        }
        self.phase = Phase::Writing;
        self.file = None;
        self.buf = Vec::new();
        let tmp = self.dir.join(SNAPSHOT_TMP);
        if let Err(e) = trash.rename(&tmp, &self.dir.join("snapshot.failed")) {
            log::error!("{}: cannot remove: {e}", tmp.display());
        }
    }
}

/// Rename `journal.next` to `journal.log`, durably. Again after a failed directory sync, the
/// rename is already done and only the sync is left. With a `trash`, the old journal is
/// retired there instead of freed by the rename.
pub(super) fn promote_next(dir: &Path, trash: Option<&mut Trash>) -> io::Result<()> {
    let journal = dir.join(JOURNAL);
    if let Some(trash) = trash.filter(|_| dir.join(NEXT).exists()) {
        trash.link(&journal, &dir.join("journal.old"))?;
    }
    match fs::rename(dir.join(NEXT), &journal) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && journal.exists() => {}
        other => other?,
    }
    sync_dir(&journal)
}

/// Write `records` as snapshot `generation` in one go (atomically) and return its size: for
/// start-up only (finishing an interrupted compaction, rewriting an older release's files),
/// never in the loop.
pub(super) fn write_snapshot(dir: &Path, generation: u64, records: &[Record]) -> io::Result<u64> {
    let mut bytes = header("snapshot", generation);
    let mut text = String::new();
    for r in records.iter().filter(|r| !r.is_lazy()) {
        encode_line(r, &mut bytes, &mut text);
    }
    write_atomic(&dir.join(SNAPSHOT), &bytes)?;
    Ok(bytes.len() as u64)
}

/// What start-up replays, and the generation the journal continues.
pub(super) struct Recovered {
    pub(super) generation: u64,
    pub(super) snapshot_len: u64,
    pub(super) records: Vec<Record>,
    /// journal.log is missing, empty or superseded: start a new one.
    pub(super) fresh_journal: bool,
}

/// Put the files of a crashed or interrupted compaction back to one snapshot and one journal,
/// returning the records to replay in order (see the module doc for the cases).
pub(super) fn recover(
    dir: &Path,
    snapshot: Option<Loaded>,
    journal: Option<Loaded>,
    next: Option<Loaded>,
    repair: bool,
) -> Result<Recovered, StoreError> {
    let path = |name: &str| dir.join(name);
    let io_at = |name: &'static str| move |e| StoreError::Io(dir.join(name), e);
    match fs::remove_file(path(SNAPSHOT_TMP)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_at(SNAPSHOT_TMP)(e)),
        _ => {}
    }
    let (mut generation, mut snapshot_len, mut records) = match snapshot {
        Some(s) => (s.generation, s.good_len, s.records),
        None => (0, 0, Vec::new()),
    };
    let journal = journal.filter(|j| j.good_len > 0);
    let next = match next.filter(|n| n.good_len > 0) {
        Some(n) if n.generation < generation => {
            log::warn!(
                "{}: generation {} already in the snapshot; removing it",
                path(NEXT).display(),
                n.generation
            );
            None
        }
        other => other,
    };
    let inconsistent = |name: &str, reason: String| StoreError::Inconsistent {
        path: path(name),
        reason,
    };
    let Some(next) = next else {
        // No compaction was under way (an empty journal.next never received a commit).
        match fs::remove_file(path(NEXT)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_at(NEXT)(e)),
            _ => {}
        }
        let mut fresh_journal = true;
        if let Some(j) = journal {
            if j.generation > generation && !repair {
                return Err(inconsistent(
                    JOURNAL,
                    format!(
                        "journal of generation {} continues a snapshot of that generation, but \
                         {} is of generation {generation} (missing or replaced)",
                        j.generation,
                        path(SNAPSHOT).display()
                    ),
                ));
            }
            if j.generation >= generation {
                generation = j.generation;
                records.extend(j.records);
                if j.cut {
                    truncate(&path(JOURNAL), j.good_len).map_err(io_at(JOURNAL))?;
                }
                fresh_journal = false;
            } else {
                log::info!(
                    "{}: generation {} already in the snapshot; starting a new journal",
                    path(JOURNAL).display(),
                    j.generation
                );
            }
        }
        return Ok(Recovered {
            generation,
            snapshot_len,
            records,
            fresh_journal,
        });
    };
    let journal_generation = journal.as_ref().map(|j| j.generation);
    let frozen = journal.filter(|j| j.generation == generation);
    if next.generation == generation && frozen.is_none() {
        // Crash between the renames: the snapshot already holds the frozen journal.
        log::warn!("finishing an interrupted compaction (generation {generation})");
    } else if next.generation > generation
        && (repair || (next.generation == generation + 1 && frozen.is_some()))
    {
        // Crash before the snapshot's rename: write it now from the frozen records.
        log::warn!(
            "finishing an interrupted compaction (generation {})",
            next.generation
        );
        records.extend(frozen.map(|j| j.records).unwrap_or_default());
        snapshot_len = write_snapshot(dir, next.generation, &records).map_err(io_at(SNAPSHOT))?;
        generation = next.generation;
    } else {
        return Err(inconsistent(
            NEXT,
            format!(
                "journal.next of generation {} does not follow {} (generation {generation}) and \
                 {} (generation {})",
                next.generation,
                path(SNAPSHOT).display(),
                path(JOURNAL).display(),
                journal_generation.map_or("missing".into(), |g| g.to_string())
            ),
        ));
    }
    if next.cut {
        truncate(&path(NEXT), next.good_len).map_err(io_at(NEXT))?;
    }
    records.extend(next.records);
    promote_next(dir, None).map_err(io_at(NEXT))?;
    Ok(Recovered {
        generation,
        snapshot_len,
        records,
        fresh_journal: false,
    })
}
