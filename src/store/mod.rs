//! Durable state on disk: the credentials file (accounts) and, in the data directory, an
//! append-only journal of checksummed [`Record`] lines plus a snapshot it is compacted into.
//!
//! File format (both `journal.log` and `snapshot.log`), one record per line, readable with `less`:
//! a header `chatserver <kind> <generation> format 2`, then `<16 hex digits of SHA-256(text)>
//! <text>`, where the header is checksummed the same way and `<text>` is the record's escaped,
//! tab-separated form ([`Record::encode`]). Files of format 1 (a header without `format`) are
//! read as written and rewritten in format 2 before the first append (`Store::open`).
//!
//! Generations: compaction writes snapshot G+1 (the state when it began, handed over frozen as
//! a [`Snapshot`]) a few hundred KiB per loop iteration while commits go to a new journal G+1
//! (`compaction`, which also lists every crash point); the files it replaces are freed a step
//! at a time too (`trash`). At start-up a journal older than the snapshot is already contained in it and is
//! discarded, so no record is applied twice; a journal newer than the snapshot means the snapshot
//! it continues is missing, which is refused rather than silently losing it.
//!
//! Recovery: a last journal line without its newline is a write torn by a crash (nothing in it
//! was acknowledged) and is cut off with a warning. A complete line that fails its checksum was
//! written whole and damaged afterwards, so wherever it is, like any bad line in a snapshot
//! (written atomically, so never torn), it stops start-up naming the file and byte offset; `--repair` cuts the
//! file there instead. A torn unterminated last line of credentials.txt is cut off likewise.
//!
//! Commit: accounts first (credentials.txt, always fsynced), then the journal (fdatasync unless
//! `--fsync never`), then the message history, which does not wait for the disk: it lives in
//! `history.log`/`history.old` (see `history`), reaches the disk by the kernel's own writeback
//! (the loop never waits for it: an `fdatasync` on a busy or slow disk held the loop 173 ms),
//! is synced at shutdown ([`Store::sync`]), and never takes part in snapshots or compaction. Any error cuts
//! both files back to their previous length, so a failed batch leaves nothing behind; a file that cannot be cut back is cut before its next append, and the
//! commit fails until it can be. The store never decides chat semantics: it writes what the core
//! emits and reads it back, so new record kinds need no change here.
//! The data directory is locked (`lock`) so two servers never append to one journal.

/// Syncs (`fdatasync`/`fsync`) the loop has made, per file: acknowledged changes cost one
/// per iteration that has any; history costs none while the server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSyncs {
    pub credentials: u64,
    pub journal: u64,
    pub history: u64,
}

mod accounts;
mod backup;
mod compaction;
mod files;
mod format;
mod history;
mod trash;

use accounts::create_missing_credentials;
pub use accounts::{hash_credentials_file, load_credentials};
pub use files::{os_random, write_atomic};

use crate::config::{Config, FsyncPolicy};
use crate::credentials::{account_line, deletion_line, Credentials};
use crate::record::Record;
use accounts::open_credentials;
pub use backup::Backup;
use compaction::{promote_next, recover, write_snapshot, Compaction, NEXT};
pub use compaction::{RecordList, Snapshot};
use files::{create_private_dir, sync_dir, truncate, AppendFile};
use format::{encode_line, header, load, Format, Tail};
use history::History;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use trash::Trash;

const JOURNAL: &str = "journal.log";
const SNAPSHOT: &str = "snapshot.log";
const LOCK: &str = "lock";
/// What the loop passes to [`Store::compaction_step`]: about 1 ms of encoding and writing, and
/// a sync of 1 MiB every fourth step (100 MB snapshot: 420 steps, none over 5 ms).
pub const COMPACTION_STEP_BYTES: usize = 256 << 10;
/// After a failed compaction, wait for this much more journal before trying again, so a full
/// disk is not hammered with snapshot writes every loop iteration.
const COMPACT_RETRY_BYTES: u64 = 256 * 1024;

/// Why the store could not open; each names the file so the operator can act.
#[derive(Debug)]
pub enum StoreError {
    Io(PathBuf, io::Error),
    Credentials {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A record before the tail failed its checksum or did not parse.
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: &'static str,
    },
    /// The files do not belong together (for example a journal whose snapshot is missing).
    Inconsistent {
        path: PathBuf,
        reason: String,
    },
    /// Another process holds the data directory.
    Locked(PathBuf),
    /// A file in a record format this release cannot read (a downgrade); never cut by
    /// `--repair`, since nothing in it is damaged.
    NewerFormat {
        path: PathBuf,
        format: u32,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            StoreError::Credentials { path, line, reason } => {
                write!(f, "{}:{line}: {reason}", path.display())
            }
            StoreError::Corrupt {
                path,
                offset,
                reason,
            } => write!(
                f,
                "{}: corrupt record at byte offset {offset} ({reason}); start with --repair to \
                 truncate the file there, losing everything from that offset on",
                path.display()
            ),
            StoreError::Inconsistent { path, reason } => write!(
                f,
                "{}: {reason} (start with --repair to use what is there)",
                path.display()
            ),
            StoreError::Locked(p) => {
                write!(f, "{}: in use by another chatserver process", p.display())
            }
            StoreError::NewerFormat { path, format } => write!(
                f,
                "{}: written in record format {format} by a newer chatserver; this one reads \
                 formats 1 and 2 (run the newer release, or restore the files from before the \
                 upgrade)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for StoreError {}

/// The durable side of the server. See the module doc for the formats and guarantees.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    credentials: AppendFile,
    /// credentials.txt does not end in a newline; add one before the next append.
    needs_newline: bool,
    journal: AppendFile,
    /// Generation of the newest snapshot; the journal appended to must carry the same one.
    generation: u64,
    /// A compaction under way; `journal` is then journal.next.
    compaction: Option<Compaction>,
    /// Files compaction replaced, freed a step at a time.
    trash: Trash,
    snapshot_len: u64,
    /// Compactions finished since start (issue 19: `/metrics`).
    compactions: u64,
    sync: bool,
    /// Reused encode buffers: the journal's lines, credentials' lines, and one record's text.
    buf: Vec<u8>,
    accounts_buf: Vec<u8>,
    deletions_buf: Vec<u8>,
    text: String,
    compact_bytes: u64,
    /// Journal length below which a failed compaction is not retried.
    compact_retry_at: u64,
    /// Lazy records (message history) live in their own files.
    history: History,
    /// The last history append failed (issue 8): entries are being lost, chat is not.
    history_degraded: bool,
    /// Holds the data directory's lock for the life of the store.
    _lock: File,
}

/// Take the data directory's lock: two servers must never append to one journal.
fn lock_dir(dir: &Path) -> Result<File, StoreError> {
    let lock_path = dir.join(LOCK);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| StoreError::Io(lock_path.clone(), e))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::Locked(dir.to_path_buf())),
        Err(fs::TryLockError::Error(e)) => Err(StoreError::Io(lock_path, e)),
    }
}

impl Store {
    /// Open (creating the data directory if needed), recover, and return the accounts and the
    /// records to replay, snapshot first.
    pub fn open(config: &Config) -> Result<(Store, Credentials, Vec<Record>), StoreError> {
        let io_at = |p: &Path| {
            let p = p.to_path_buf();
            move |e| StoreError::Io(p, e)
        };
        let cred_path = config.credentials.clone();
        let dir = config.data_dir.clone();
        if !dir.is_dir() {
            create_private_dir(&dir).map_err(io_at(&dir))?;
            sync_dir(&dir).map_err(io_at(&dir))?;
        }
        let lock = lock_dir(&dir)?;
        if config.create_credentials {
            create_missing_credentials(&cred_path)?;
        }
        let (credentials, needs_newline) = open_credentials(&cred_path)?;
        let snap_path = dir.join(SNAPSHOT);
        let journal_path = dir.join(JOURNAL);
        let snapshot = load(&snap_path, "snapshot", Tail::Strict, config.repair)?;
        let journal = load(&journal_path, "journal", Tail::Torn, config.repair)?;
        let next = load(&dir.join(NEXT), "journal", Tail::Torn, config.repair)?;
        if let Some(s) = snapshot.as_ref().filter(|s| s.cut) {
            truncate(&snap_path, s.good_len).map_err(io_at(&snap_path))?;
        }
        trash::remove_leftovers(&dir).map_err(io_at(&dir))?;
        let old_format = [&snapshot, &journal, &next]
            .into_iter()
            .flatten()
            .any(|l| l.format != Format::CURRENT);
        let recovered = recover(&dir, snapshot, journal, next, config.repair)?;
        let mut generation = recovered.generation;
        let mut snapshot_len = recovered.snapshot_len;
        let mut records = recovered.records;
        if old_format {
            // Files of an older release: appends must not mix formats in one file, so start a
            // new generation now, its snapshot the whole state as read (like finishing an
            // interrupted compaction), its journal empty; the old files are replaced.
            generation += 1;
            snapshot_len = write_snapshot(&dir, generation, &records).map_err(io_at(&snap_path))?;
            log::info!(
                "{}: rewrote the data files of an older release in record format 2 \
                 (generation {generation})",
                dir.display()
            );
        }
        if recovered.fresh_journal || old_format {
            // Missing, empty, torn header, or superseded by the snapshot.
            write_atomic(&journal_path, &header("journal", generation))
                .map_err(io_at(&journal_path))?;
        }
        let journal = AppendFile::open(&journal_path).map_err(io_at(&journal_path))?;
        let (history, recent) = History::open(&dir, config.history)?;
        records.extend(recent);
        let store = Store {
            credentials: AppendFile::open(&cred_path).map_err(io_at(&cred_path))?,
            needs_newline,
            dir,
            generation,
            compaction: None,
            trash: Trash::default(),
            snapshot_len,
            compactions: 0,
            sync: config.fsync == FsyncPolicy::Always,
            buf: Vec::new(),
            accounts_buf: Vec::new(),
            deletions_buf: Vec::new(),
            text: String::new(),
            compact_bytes: config.compact_bytes,
            compact_retry_at: journal.len,
            history,
            history_degraded: false,
            journal,
            _lock: lock,
        };
        Ok((store, credentials, records))
    }

    /// Group commit: append every record of one loop iteration and sync once per file.
    /// On error nothing of this batch remains on disk and the caller rolls back in memory.
    pub fn commit(&mut self, records: &[Record]) -> io::Result<()> {
        self.buf.clear();
        self.accounts_buf.clear();
        if self.needs_newline {
            self.accounts_buf.push(b'\n');
        }
        self.deletions_buf.clear();
        let mut accounts = false;
        let refused = |user: &str, reason| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{user}: {reason}"))
        };
        for r in records {
            match r {
                Record::Account { user, secret } => {
                    accounts = true;
                    // A line that does not read back would stop the next start-up.
                    let line = account_line(user, secret).map_err(|e| refused(user, e))?;
                    self.accounts_buf.extend_from_slice(line.as_bytes());
                    self.accounts_buf.push(b'\n');
                }
                Record::AccountDeleted { user } => {
                    let line = deletion_line(user).map_err(|e| refused(user, e))?;
                    self.deletions_buf.extend_from_slice(line.as_bytes());
                    self.deletions_buf.push(b'\n');
                    encode_line(r, &mut self.buf, &mut self.text);
                }
                lazy if lazy.is_lazy() => {}
                other => encode_line(other, &mut self.buf, &mut self.text),
            }
        }
        // Accounts first: journal records may name them. Always synced: a welcome line must
        // never precede its account on disk, whatever `--fsync` says.
        let credentials_before = self.credentials.len;
        if accounts {
            self.credentials.append(&self.accounts_buf, true)?;
        }
        let journal_before = self.journal.len;
        if !self.buf.is_empty() {
            if let Err(e) = self.journal.append(&self.buf, self.sync) {
                if accounts {
                    self.credentials.rollback(credentials_before);
                }
                return Err(e);
            }
        }
        // Deletions last (issue 21): the journal already drops the account's state, so a crash
        // before this line leaves an emptied account that still exists (the deletion was not
        // acknowledged and can be run again), never a deleted name whose mail a new account of
        // that name would inherit.
        if !self.deletions_buf.is_empty() {
            let mut lines = std::mem::take(&mut self.deletions_buf);
            if self.needs_newline && !accounts {
                lines.insert(0, b'\n');
            }
            let appended = self.credentials.append(&lines, true);
            self.deletions_buf = lines;
            if let Err(e) = appended {
                self.journal.rollback(journal_before);
                self.credentials.rollback(credentials_before);
                return Err(e);
            }
            accounts = true;
        }
        // History last: it is the only part that does not wait for the disk. Reliability
        // (issue 8): a failed history append never refuses the batch (live chat goes on); the
        // history is marked degraded, logged once, and appends are tried again each batch.
        let lazy = records.iter().filter(|r| r.is_lazy());
        match self.history.append(lazy, &mut self.text, &mut self.trash) {
            Ok(()) if self.history_degraded => {
                self.history_degraded = false;
                log::warn!("message history writable again");
            }
            Ok(()) => {}
            Err(e) if !self.history_degraded => {
                self.history_degraded = true;
                log::error!("message history not written (degraded; chat goes on): {e}");
            }
            Err(_) => {}
        }
        if accounts {
            self.needs_newline = false;
        }
        Ok(())
    }

    /// History was written but not yet synced (never with `--fsync never`).
    pub fn has_unsynced(&self) -> bool {
        self.sync && self.history.unsynced() > 0
    }

    /// Sync the history file, at shutdown. While the server runs, history is left to the
    /// kernel's writeback (about 30 s, `vm.dirty_expire_centisecs`): it is not acknowledged
    /// to anyone, and a sync of it in the loop holds every user for as long as the disk
    /// takes, which on a busy disk or an SD card is tens to hundreds of milliseconds.
    pub fn sync(&mut self) -> io::Result<()> {
        self.history.sync()
    }

    /// How often the loop has waited for the disk, per file, since start (`/metrics`).
    pub fn syncs(&self) -> DiskSyncs {
        DiskSyncs {
            credentials: self.credentials.syncs,
            journal: self.journal.syncs,
            history: self.history.syncs(),
        }
    }

    /// Whether the journal has grown enough to be worth compacting and no compaction is under
    /// way: then call [`Store::begin_compaction`].
    pub fn wants_compaction(&self) -> bool {
        self.compaction.is_none()
            && self.trash.is_empty()
            && self.journal.len > self.compact_bytes.saturating_add(self.snapshot_len)
            && self.journal.len >= self.compact_retry_at
    }

    /// A compaction step has work to do: call [`Store::compaction_step`] once per loop
    /// iteration, and do not sleep in `poll` meanwhile. False while a failed compaction waits
    /// for the journal to grow (commits wake the loop anyway), so the loop never spins.
    pub fn compacting(&self) -> bool {
        (self.compaction.is_some() && self.journal.len >= self.compact_retry_at)
            || !self.trash.is_empty()
    }

    /// Start compacting snapshot + journal into a snapshot of `state`, the core's durable state
    /// (every record of it committed). Cheap: it creates two small files and takes `state`;
    /// from now on commits go to journal.next. On failure nothing changed and the next attempt
    /// waits for more journal. Does nothing if a compaction is already under way.
    pub fn begin_compaction(&mut self, state: impl Snapshot + 'static) -> io::Result<()> {
        if self.compaction.is_some() {
            return Ok(());
        }
        let result = self.try_begin(Box::new(state));
        if result.is_err() {
            self.compact_retry_at = self.journal.len.saturating_add(COMPACT_RETRY_BYTES);
        }
        result
    }

    fn try_begin(&mut self, state: Box<dyn Snapshot>) -> io::Result<()> {
        if self.journal.dirty {
            // The frozen journal must end in a whole record.
            self.journal.cut()?;
        }
        let generation = self.generation + 1;
        let mut compaction = Compaction::new(&self.dir, generation, state);
        // The temp snapshot first: if it cannot be created, nothing else was touched.
        compaction.start()?;
        let next = self.dir.join(NEXT);
        // It becomes journal.log: it keeps that file's mode.
        let mode = fs::metadata(&self.journal.path).map(|m| m.permissions());
        let opened = write_atomic(&next, &header("journal", generation))
            .and(mode)
            .and_then(|mode| fs::set_permissions(&next, mode))
            .and_then(|()| AppendFile::open(&next));
        match opened {
            Ok(journal) => {
                self.journal = journal;
                self.compaction = Some(compaction);
                // The retry distance is for failures; the new journal starts short.
                self.compact_retry_at = 0;
                Ok(())
            }
            Err(e) => {
                compaction.abort(&mut self.trash);
                // Nothing was committed to it; left behind it would be read as empty anyway.
                let _ = fs::remove_file(&next);
                Err(e)
            }
        }
    }

    /// Write at most `budget` bytes of the snapshot (plus, every [`compaction::SYNC_EVERY`]
    /// bytes, one sync of them); the last step syncs the rest and renames both files into
    /// place. Returns whether the compaction is over. After a failure the snapshot is deleted
    /// and written again from the start once the journal has grown by the retry distance;
    /// until then steps return `Ok(false)` at once. Commits work throughout.
    pub fn compaction_step(&mut self, budget: usize) -> io::Result<bool> {
        self.step(budget, false)
    }

    fn step(&mut self, budget: usize, force: bool) -> io::Result<bool> {
        // Old files are freed between compactions, or before a failed one starts again (so a
        // second failure never replaces the first's file at once).
        if !self.trash.is_empty() && self.compaction.as_ref().is_none_or(Compaction::restarting) {
            self.trash.step()?;
            return Ok(self.trash.is_empty() && self.compaction.is_none());
        }
        if !force && !self.compacting() {
            return Ok(self.compaction.is_none());
        }
        let Some(c) = self.compaction.as_mut() else {
            return Ok(true);
        };
        let result = if c.ready() {
            self.generation = c.generation;
            self.snapshot_len = c.snapshot_len();
            promote_next(&self.dir, Some(&mut self.trash)).map(|()| true)
        } else {
            // Promoting is a step of its own: its directory sync never adds to another's.
            c.step(budget, &mut self.trash).map(|_| false)
        };
        match result {
            Ok(false) => Ok(false),
            Ok(true) => {
                self.journal.path = self.dir.join(JOURNAL);
                self.compaction = None;
                self.compactions += 1;
                log::info!(
                    "compacted the journal into a {} byte snapshot (generation {})",
                    self.snapshot_len,
                    self.generation
                );
                Ok(self.trash.is_empty())
            }
            Err(e) => {
                c.abort(&mut self.trash);
                self.compact_retry_at = self.journal.len.saturating_add(COMPACT_RETRY_BYTES);
                Err(e)
            }
        }
    }

    /// Compact in one go (begin, then steps until done): for tests and tools, never the loop.
    pub fn compact(&mut self, state: &[Record]) -> io::Result<()> {
        self.begin_compaction(RecordList::from(state.to_vec()))?;
        while !self.step(1 << 20, true)? {}
        Ok(())
    }

    /// Begin a backup into `target` (issue 21) of `state`, the core's durable state with every
    /// record committed, and of the credentials and history files as they are now. Cheap;
    /// then call [`Backup::step`] once per loop iteration until it says done.
    pub fn begin_backup(
        &self,
        target: &Path,
        state: impl Snapshot + 'static,
    ) -> io::Result<Backup> {
        let old = self.dir.join("history.old");
        let old_len = fs::metadata(&old).map(|m| m.len()).ok();
        backup::Backup::begin(
            target,
            Box::new(state),
            self.generation,
            [
                Some((self.credentials.path.as_path(), self.credentials.len)),
                old_len.map(|len| (old.as_path(), len)),
                Some((self.history.path(), self.history.len())),
            ],
        )
    }

    /// Current journal size in bytes (for tests and stats).
    pub fn journal_len(&self) -> u64 {
        self.journal.len
    }

    /// The newest snapshot's size in bytes (issue 19: `/metrics`).
    pub fn snapshot_len(&self) -> u64 {
        self.snapshot_len
    }

    /// Compactions finished since start.
    pub fn compactions(&self) -> u64 {
        self.compactions
    }
}

/// `chatserver restore DIR` (issue 21): with no server running on `config`'s data directory
/// (its lock is taken), check the backup in `dir`, move the files it replaces aside and copy it
/// in. Returns the directory the replaced files went to.
pub fn restore(config: &Config, dir: &Path, now_s: u64) -> Result<PathBuf, StoreError> {
    let data = &config.data_dir;
    if !data.is_dir() {
        create_private_dir(data).map_err(|e| StoreError::Io(data.clone(), e))?;
    }
    let _lock = lock_dir(data)?;
    backup::restore(dir, data, &config.credentials, now_s)
}

/// Fuzzing entry (`fuzz/fuzz_targets/journal_replay.rs`): read `bytes` as a journal, a snapshot
/// and a history file, with and without `--repair`, exactly as start-up does but without the
/// disk. Panics only if an invariant of the loader breaks: the good prefix is within the input,
/// reading that prefix again gives the same records with nothing to cut (so `--repair` is
/// idempotent), and every record read back prints to text that parses to itself.
#[doc(hidden)]
pub fn fuzz_load(bytes: &[u8]) {
    let path = Path::new("fuzz-input");
    for (kind, tail) in [
        ("journal", Tail::Torn),
        ("snapshot", Tail::Strict),
        ("history", Tail::Lenient),
    ] {
        for repair in [false, true] {
            let loaded = match format::parse(path, bytes, kind, tail, repair) {
                Ok(loaded) => loaded,
                // A newer release's file is refused even by --repair: nothing in it is damaged.
                Err(StoreError::NewerFormat { .. }) => continue,
                Err(e) => {
                    assert!(!repair || tail == Tail::Lenient, "--repair failed: {e}");
                    continue;
                }
            };
            let good = usize::try_from(loaded.good_len).unwrap_or(usize::MAX);
            assert!(good <= bytes.len(), "good prefix beyond the input");
            for r in &loaded.records {
                assert_eq!(Record::parse(&r.to_string()).as_ref(), Some(r), "{r}");
            }
            if tail == Tail::Lenient {
                continue;
            }
            match format::parse(path, &bytes[..good], kind, tail, false) {
                Ok(again) => {
                    assert_eq!(again.records, loaded.records, "prefix reads differently");
                    assert!(!again.cut, "the good prefix still needs a cut");
                }
                Err(e) => panic!("the good prefix does not load: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod compaction_tests;
#[cfg(test)]
mod format_tests;
#[cfg(test)]
mod tests;
