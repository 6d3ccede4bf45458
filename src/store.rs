//! Durable state on disk: the credentials file (accounts) and, in the data directory, an
//! append-only journal of checksummed [`Record`] lines plus a snapshot it is compacted into.
//!
//! File format (both `journal.log` and `snapshot.log`), one record per line, readable with `less`:
//! a header `chatserver <kind> <generation>`, then `<16 hex digits of SHA-256(text)> <text>`,
//! where the header is checksummed the same way.
//!
//! Generations: compaction writes snapshot G+1 (everything so far) and then a fresh journal G+1.
//! At start-up a journal older than the snapshot is already contained in it and is discarded, so a
//! crash between the two renames never applies a record twice; a journal newer than the snapshot
//! means the snapshot it continues is missing, which is refused rather than silently losing it.
//!
//! Recovery: a bad last journal line is a write torn by a crash (nothing in it was acknowledged)
//! and is cut off with a warning. A bad line anywhere else, or anywhere in a snapshot (written
//! atomically, so never torn), stops start-up naming the file and byte offset; `--repair` cuts the
//! file there instead. A torn unterminated last line of credentials.txt is cut off likewise.
//!
//! Commit: accounts first (credentials.txt, always fsynced), then the journal (fdatasync unless
//! `--fsync never`). Any error cuts both files back to their previous length, so a failed batch
//! leaves nothing behind; a file that cannot be cut back is cut before its next append, and the
//! commit fails until it can be. The store never decides chat semantics: it writes what the core
//! emits and reads it back, so new record kinds need no change here.
//! The data directory is locked (`lock`) so two servers never append to one journal.

use crate::config::{Config, FsyncPolicy};
use crate::credentials::{Credentials, Secret};
use crate::record::Record;
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const JOURNAL: &str = "journal.log";
const SNAPSHOT: &str = "snapshot.log";
const LOCK: &str = "lock";
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
        }
    }
}

impl std::error::Error for StoreError {}

fn checksum(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// `<checksum> <text>\n`: one journal line. A text holding a newline would split the record in
/// two and read back as corruption, so it is refused (no record kind produces one today).
pub fn encode_line(text: &str, out: &mut Vec<u8>) -> io::Result<()> {
    if text.contains('\n') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "record text contains a newline",
        ));
    }
    out.extend_from_slice(checksum(text).as_bytes());
    out.push(b' ');
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
    Ok(())
}

/// The text of a journal line if its checksum matches.
fn decode_line(line: &str) -> Option<&str> {
    let (sum, text) = line.split_once(' ')?;
    (sum == checksum(text)).then_some(text)
}

fn header(kind: &str, generation: u64) -> Vec<u8> {
    let mut out = Vec::new();
    // A header never holds a newline.
    let _ = encode_line(&format!("chatserver {kind} {generation}"), &mut out);
    out
}

/// How [`load`] treats a bad line that ends the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tail {
    /// The journal: a crash mid-append leaves a torn last line; drop it.
    Torn,
    /// A snapshot is written atomically, so any bad line is corruption.
    Strict,
}

/// The records of one file and where its last good record ends.
#[derive(Debug)]
struct Loaded {
    generation: u64,
    records: Vec<Record>,
    good_len: u64,
    /// Bytes after `good_len` must be cut off (torn tail, or `--repair`).
    cut: bool,
}

/// Read a journal or snapshot. See the module doc for what counts as torn and as corrupt.
fn load(path: &Path, kind: &str, tail: Tail, repair: bool) -> Result<Option<Loaded>, StoreError> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => f
            .read_to_end(&mut bytes)
            .map_err(|e| StoreError::Io(path.into(), e))?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::Io(path.into(), e)),
    };
    let mut loaded = Loaded {
        generation: 0,
        records: Vec::new(),
        good_len: 0,
        cut: false,
    };
    let mut offset = 0usize;
    while offset < bytes.len() {
        let line_end = bytes[offset..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|e| offset + e);
        let parsed = match line_end {
            None => Err("no line end"),
            Some(e) => match std::str::from_utf8(&bytes[offset..e])
                .ok()
                .and_then(decode_line)
            {
                None => Err("bad checksum"),
                Some(text) if offset == 0 => text
                    .strip_prefix("chatserver ")
                    .and_then(|t| t.strip_prefix(kind))
                    .and_then(|t| t.strip_prefix(' '))
                    .and_then(|g| g.parse().ok())
                    .map(|g| {
                        loaded.generation = g;
                        (None, e)
                    })
                    .ok_or("bad header"),
                Some(text) => Record::parse(text)
                    .map(|r| (Some(r), e))
                    .ok_or("unknown or malformed record"),
            },
        };
        match parsed {
            Ok((record, e)) => {
                loaded.records.extend(record);
                offset = e + 1;
                loaded.good_len = offset as u64;
            }
            Err(reason) => {
                let last = line_end.is_none_or(|e| e + 1 == bytes.len());
                let dropped = bytes.len() - offset;
                if last && tail == Tail::Torn {
                    log::warn!(
                        "{}: dropping a torn last record at byte offset {offset} ({dropped} \
                         bytes, {reason}): a write cut short by a crash, never acknowledged",
                        path.display()
                    );
                } else if repair {
                    log::warn!(
                        "{}: --repair: {reason} at byte offset {offset}; dropping the {dropped} \
                         bytes from there on",
                        path.display()
                    );
                } else {
                    return Err(StoreError::Corrupt {
                        path: path.into(),
                        offset: offset as u64,
                        reason,
                    });
                }
                loaded.cut = true;
                break;
            }
        }
    }
    Ok(Some(loaded))
}

/// Cut `path` to `len` bytes, durably.
fn truncate(path: &Path, len: u64) -> io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    f.set_len(len)?;
    f.sync_all()
}

/// Write `bytes` to `path`'s temp file and fsync it; returns the temp path.
fn write_temp(path: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let tmp = path.with_extension("tmp");
    let result = (|| {
        let mut f = File::create(&tmp)?;
        if let Ok(meta) = fs::metadata(path) {
            // Keep the mode of the file being replaced (credentials.txt may be 0600).
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Write `bytes` to `path` atomically: temp file, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = write_temp(path, bytes)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(path)
}

fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// `N` bytes from the OS random source.
pub fn os_random<const N: usize>() -> io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf)
}

/// Parse credentials text, naming the line on any error.
fn parse_credentials(path: &Path, bytes: &[u8]) -> Result<Credentials, StoreError> {
    let err = |line, reason: String| StoreError::Credentials {
        path: path.into(),
        line,
        reason,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        err(line, "not UTF-8".into())
    })?;
    Credentials::parse(text).map_err(|e| err(e.line, e.reason))
}

/// Parse the credentials file, naming it and the line on any error.
pub fn load_credentials(path: &Path) -> Result<Credentials, StoreError> {
    let bytes = fs::read(path).map_err(|e| StoreError::Io(path.into(), e))?;
    parse_credentials(path, &bytes)
}

/// Load credentials.txt for serving. An unterminated last line that does not parse is an append
/// torn by a crash (its account was never welcomed): cut it off with a warning. Returns whether
/// the file lacks a final newline (the next append must add one first).
fn open_credentials(path: &Path) -> Result<(Credentials, bool), StoreError> {
    let bytes = fs::read(path).map_err(|e| StoreError::Io(path.into(), e))?;
    let tail = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    match parse_credentials(path, &bytes) {
        Ok(c) => Ok((c, tail < bytes.len())),
        Err(e) if tail == bytes.len() => Err(e),
        Err(e) => {
            // Only the unterminated tail may be torn; an error before it stands.
            let Ok(c) = parse_credentials(path, &bytes[..tail]) else {
                return Err(e);
            };
            // The line may hold a password: report where it is, never what it says.
            log::warn!(
                "{}: dropping a torn last line at byte offset {tail} ({} bytes)",
                path.display(),
                bytes.len() - tail
            );
            truncate(path, tail as u64).map_err(|e| StoreError::Io(path.into(), e))?;
            Ok((c, false))
        }
    }
}

/// `chatserver --hash-credentials FILE`: rewrite plaintext entries as salted SHA-256, atomically
/// (keeping the file's mode). Run it while no server is using the file: a running server keeps
/// appending to the file it opened, which the rename replaces.
pub fn hash_credentials_file(path: &Path) -> Result<usize, StoreError> {
    let io_err = |e| StoreError::Io(path.into(), e);
    let text = fs::read(path).map_err(io_err)?;
    parse_credentials(path, &text)?;
    let text = String::from_utf8_lossy(&text);
    let mut out = String::new();
    let mut hashed = 0;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(user), Some(pass)) = (words.next(), words.next()) else {
            continue;
        };
        let secret = match Secret::parse(pass) {
            Ok(Secret::Plain(p)) => {
                hashed += 1;
                Secret::hashed(&p, os_random().map_err(io_err)?)
            }
            Ok(s) => s,
            Err(_) => continue,
        };
        out.push_str(&format!("{user} {secret}\n"));
    }
    write_atomic(path, out.as_bytes()).map_err(io_err)?;
    Ok(hashed)
}

/// An append-only file whose good length we know, so a failed append can be cut back off.
#[derive(Debug)]
struct AppendFile {
    path: PathBuf,
    file: File,
    /// Length of the durable, well-formed prefix.
    len: u64,
    /// The file may be longer than `len` (cutting back failed): cut it before appending again.
    dirty: bool,
}

impl AppendFile {
    fn open(path: &Path) -> io::Result<AppendFile> {
        // O_APPEND: after a cut, the next write lands at the new end, not at a stale offset.
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let len = file.metadata()?.len();
        Ok(AppendFile {
            path: path.into(),
            file,
            len,
            dirty: false,
        })
    }

    /// Append `bytes` (and sync if asked); on any failure cut the file back so no part of them
    /// remains.
    fn append(&mut self, bytes: &[u8], sync: bool) -> io::Result<()> {
        if self.dirty {
            self.cut()?;
        }
        let result =
            self.file
                .write_all(bytes)
                .and_then(|()| if sync { self.file.sync_data() } else { Ok(()) });
        match result {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.cut_or_log();
                Err(e)
            }
        }
    }

    /// Forget everything after `to` (an append this batch must take back).
    fn rollback(&mut self, to: u64) {
        self.len = to;
        self.cut_or_log();
    }

    /// Make the file `len` bytes long again, durably.
    fn cut(&mut self) -> io::Result<()> {
        self.dirty = true;
        self.file.set_len(self.len)?;
        self.file.sync_all()?;
        self.dirty = false;
        Ok(())
    }

    fn cut_or_log(&mut self) {
        if let Err(e) = self.cut() {
            log::error!(
                "{}: cannot cut back a failed append (retried before the next one): {e}",
                self.path.display()
            );
        }
    }
}

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
    /// A compaction put its snapshot in place but could not replace the journal: the old
    /// journal is superseded, so nothing may be appended to it until it is replaced.
    journal_stale: bool,
    snapshot_len: u64,
    sync: bool,
    /// Reused encode buffers.
    buf: Vec<u8>,
    accounts_buf: Vec<u8>,
    compact_bytes: u64,
    /// Journal length below which a failed compaction is not retried.
    compact_retry_at: u64,
    /// Holds the data directory's lock for the life of the store.
    _lock: File,
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
        let (credentials, needs_newline) = open_credentials(&cred_path)?;
        let dir = config.data_dir.clone();
        if !dir.is_dir() {
            fs::create_dir_all(&dir).map_err(io_at(&dir))?;
            sync_dir(&dir).map_err(io_at(&dir))?;
        }
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_at(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(dir)),
            Err(fs::TryLockError::Error(e)) => return Err(StoreError::Io(lock_path, e)),
        }
        let snap_path = dir.join(SNAPSHOT);
        let journal_path = dir.join(JOURNAL);
        let snapshot = load(&snap_path, "snapshot", Tail::Strict, config.repair)?;
        let journal = load(&journal_path, "journal", Tail::Torn, config.repair)?;
        let mut generation = 0;
        let mut snapshot_len = 0;
        let mut records = Vec::new();
        if let Some(s) = snapshot {
            if s.cut {
                truncate(&snap_path, s.good_len).map_err(io_at(&snap_path))?;
            }
            generation = s.generation;
            snapshot_len = s.good_len;
            records = s.records;
        }
        let mut fresh_journal = true;
        if let Some(j) = journal.filter(|j| j.good_len > 0) {
            if j.generation > generation && !config.repair {
                return Err(StoreError::Inconsistent {
                    path: journal_path,
                    reason: format!(
                        "journal of generation {} continues a snapshot of that generation, but \
                         {} is of generation {generation} (missing or replaced)",
                        j.generation,
                        snap_path.display()
                    ),
                });
            }
            if j.generation >= generation {
                generation = j.generation;
                records.extend(j.records);
                if j.cut {
                    truncate(&journal_path, j.good_len).map_err(io_at(&journal_path))?;
                }
                fresh_journal = false;
            } else {
                log::info!(
                    "{}: generation {} already in the snapshot; starting a new journal",
                    journal_path.display(),
                    j.generation
                );
            }
        }
        if fresh_journal {
            // Missing, empty, torn header, or superseded by the snapshot.
            write_atomic(&journal_path, &header("journal", generation))
                .map_err(io_at(&journal_path))?;
        }
        let journal = AppendFile::open(&journal_path).map_err(io_at(&journal_path))?;
        let store = Store {
            credentials: AppendFile::open(&cred_path).map_err(io_at(&cred_path))?,
            needs_newline,
            dir,
            generation,
            journal_stale: false,
            snapshot_len,
            sync: config.fsync == FsyncPolicy::Always,
            buf: Vec::new(),
            accounts_buf: Vec::new(),
            compact_bytes: config.compact_bytes,
            compact_retry_at: journal.len,
            journal,
            _lock: lock,
        };
        Ok((store, credentials, records))
    }

    /// Group commit: append every record of one loop iteration and sync once per file.
    /// On error nothing of this batch remains on disk and the caller rolls back in memory.
    pub fn commit(&mut self, records: &[Record]) -> io::Result<()> {
        if self.journal_stale {
            self.reset_journal()?;
        }
        self.buf.clear();
        self.accounts_buf.clear();
        if self.needs_newline {
            self.accounts_buf.push(b'\n');
        }
        let mut accounts = false;
        for r in records {
            match r {
                Record::Account { user, secret } => {
                    accounts = true;
                    self.accounts_buf
                        .extend_from_slice(format!("{user} {secret}\n").as_bytes());
                }
                other => encode_line(&other.to_string(), &mut self.buf)?,
            }
        }
        // Accounts first: journal records may name them. Always synced: a welcome line must
        // never precede its account on disk, whatever `--fsync` says.
        let credentials_before = self.credentials.len;
        if accounts {
            self.credentials.append(&self.accounts_buf, true)?;
        }
        if !self.buf.is_empty() {
            if let Err(e) = self.journal.append(&self.buf, self.sync) {
                if accounts {
                    self.credentials.rollback(credentials_before);
                }
                return Err(e);
            }
        }
        if accounts {
            self.needs_newline = false;
        }
        Ok(())
    }

    /// Whether the journal has grown enough to be worth compacting.
    pub fn wants_compaction(&self) -> bool {
        self.journal_stale
            || (self.journal.len > self.compact_bytes.saturating_add(self.snapshot_len)
                && self.journal.len >= self.compact_retry_at)
    }

    /// Replace snapshot + journal by a snapshot of `state` (the core's durable state, every
    /// record of which is committed) and an empty journal. On failure the store stays usable:
    /// either nothing changed, or commits replace the superseded journal first.
    pub fn compact(&mut self, state: &[Record]) -> io::Result<()> {
        let result = if self.journal_stale {
            self.reset_journal()
        } else {
            self.write_snapshot(state)
        };
        if result.is_err() {
            self.compact_retry_at = self.journal.len.saturating_add(COMPACT_RETRY_BYTES);
        }
        result
    }

    fn write_snapshot(&mut self, state: &[Record]) -> io::Result<()> {
        let generation = self.generation + 1;
        let mut bytes = header("snapshot", generation);
        for r in state {
            encode_line(&r.to_string(), &mut bytes)?;
        }
        let snap_path = self.dir.join(SNAPSHOT);
        let journal_path = self.dir.join(JOURNAL);
        // Both new files are complete on disk before either takes its name, so running out of
        // space leaves the old pair untouched.
        let snap_tmp = write_temp(&snap_path, &bytes)?;
        let journal_tmp = match write_temp(&journal_path, &header("journal", generation)) {
            Ok(t) => t,
            Err(e) => {
                let _ = fs::remove_file(&snap_tmp);
                return Err(e);
            }
        };
        if let Err(e) = fs::rename(&snap_tmp, &snap_path) {
            let _ = fs::remove_file(&snap_tmp);
            let _ = fs::remove_file(&journal_tmp);
            return Err(e);
        }
        // From here the snapshot supersedes the journal: never append to the old one again.
        self.generation = generation;
        self.snapshot_len = bytes.len() as u64;
        self.journal_stale = true;
        // The snapshot's rename is durable before the journal's, so no crash can leave a
        // new journal next to an old snapshot.
        sync_dir(&snap_path)?;
        fs::rename(&journal_tmp, &journal_path)?;
        sync_dir(&journal_path)?;
        self.journal = AppendFile::open(&journal_path)?;
        self.journal_stale = false;
        log::info!(
            "compacted the journal into a {} byte snapshot (generation {generation})",
            bytes.len()
        );
        Ok(())
    }

    /// Put an empty journal of the current generation in place of a superseded one.
    fn reset_journal(&mut self) -> io::Result<()> {
        let journal_path = self.dir.join(JOURNAL);
        write_atomic(&journal_path, &header("journal", self.generation))?;
        self.journal = AppendFile::open(&journal_path)?;
        self.journal_stale = false;
        Ok(())
    }

    /// Current journal size in bytes (for tests and stats).
    pub fn journal_len(&self) -> u64 {
        self.journal.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{Chat, Settings};
    use crate::record::Audience;
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Instant, SystemTime};

    /// A scratch directory removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!(
                "chatserver-store-{name}-{}-{:?}",
                std::process::id(),
                Instant::now()
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("scratch dir");
            Scratch(dir)
        }

        fn config(&self, credentials: &str) -> Config {
            let path = self.0.join("credentials.txt");
            if !path.exists() {
                fs::write(&path, credentials).expect("write credentials");
            }
            Config {
                credentials: path,
                data_dir: self.0.join("data"),
                ..Config::default()
            }
        }

        fn journal(&self) -> PathBuf {
            self.0.join("data").join(JOURNAL)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn open(c: &Config) -> (Store, Credentials, Vec<Record>) {
        match Store::open(c) {
            Ok(v) => v,
            Err(e) => panic!("open: {e}"),
        }
    }

    fn offline(to: &str, n: u64) -> Record {
        Record::Offline {
            to: to.into(),
            from: "yoda".into(),
            at_ms: n,
            text: format!("message {n}"),
        }
    }

    fn block(by: &str, user: &str) -> Record {
        Record::Block {
            by: by.into(),
            user: user.into(),
        }
    }

    fn chat_of(c: &Config, credentials: Credentials, records: Vec<Record>) -> Chat {
        let mut chat = Chat::new(
            Settings::from(c),
            credentials,
            Instant::now(),
            SystemTime::now(),
            [0; 32],
        );
        for r in records {
            chat.replay(r);
        }
        chat
    }

    /// Byte offset at which the `n`th line (0 = header) of a file starts.
    fn line_start(path: &Path, n: usize) -> u64 {
        let bytes = fs::read(path).expect("read");
        let mut offset = 0;
        for _ in 0..n {
            offset += bytes[offset..]
                .iter()
                .position(|&b| b == b'\n')
                .expect("line")
                + 1;
        }
        offset as u64
    }

    #[test]
    fn commits_read_back_in_order_and_accounts_go_to_credentials() {
        let s = Scratch::new("roundtrip");
        let c = s.config("yoda wise");
        let (mut store, creds, records) = open(&c);
        assert_eq!(creds.len(), 1);
        assert!(records.is_empty());
        let ann = Record::Account {
            user: "ann".into(),
            secret: Secret::hashed("pw", [9; 16]),
        };
        store
            .commit(&[ann, offline("luke", 1), block("luke", "hans")])
            .expect("commit");
        store.commit(&[offline("luke", 2)]).expect("commit");
        drop(store);
        let text = fs::read_to_string(&c.credentials).expect("read");
        assert!(text.starts_with("yoda wise\nann $sha256$0909"), "{text:?}");
        assert!(text.ends_with('\n'));
        let journal = fs::read_to_string(s.journal()).expect("read");
        assert!(journal
            .lines()
            .next()
            .is_some_and(|l| l.ends_with(" chatserver journal 0")));
        assert!(
            journal.contains(" offline luke yoda 1 message 1\n"),
            "{journal}"
        );
        let (_, creds, records) = open(&c);
        assert!(creds.get("ann").is_some_and(|s| s.verify("pw")));
        assert!(creds.get("yoda").is_some_and(|s| s.verify("wise")));
        assert_eq!(
            records,
            vec![
                offline("luke", 1),
                block("luke", "hans"),
                offline("luke", 2)
            ]
        );
    }

    #[test]
    fn torn_journal_tail_is_cut_with_nothing_else_lost() {
        let s = Scratch::new("torn");
        let c = s.config("yoda wise\n");
        let (mut store, _, _) = open(&c);
        for n in 1..=3 {
            store.commit(&[offline("luke", n)]).expect("commit");
        }
        drop(store);
        let third = line_start(&s.journal(), 3);
        let len = fs::metadata(s.journal()).expect("meta").len();
        let f = OpenOptions::new()
            .write(true)
            .open(s.journal())
            .expect("open");
        f.set_len(len - 7).expect("truncate");
        drop(f);
        let (mut store, _, records) = open(&c);
        assert_eq!(records, vec![offline("luke", 1), offline("luke", 2)]);
        assert_eq!(fs::metadata(s.journal()).expect("meta").len(), third);
        store.commit(&[offline("luke", 4)]).expect("commit");
        drop(store);
        let (_, _, records) = open(&c);
        assert_eq!(records.len(), 3);
    }

    #[test]
    fn corrupt_middle_names_file_and_offset_and_repair_cuts_there() {
        let s = Scratch::new("corrupt");
        let c = s.config("yoda wise\n");
        let (mut store, _, _) = open(&c);
        for n in 1..=3 {
            store.commit(&[offline("luke", n)]).expect("commit");
        }
        drop(store);
        let second = line_start(&s.journal(), 2);
        let mut bytes = fs::read(s.journal()).expect("read");
        let i = second as usize + 30;
        bytes[i] ^= 0x01;
        fs::write(s.journal(), &bytes).expect("write");
        match Store::open(&c) {
            Err(e @ StoreError::Corrupt { offset, .. }) => {
                assert_eq!(offset, second);
                let text = e.to_string();
                assert!(text.contains("journal.log"), "{text}");
                assert!(text.contains(&format!("byte offset {second}")), "{text}");
            }
            other => panic!("expected Corrupt, got {:?}", other.map(|_| ())),
        }
        // Refusing changed nothing.
        assert_eq!(fs::read(s.journal()).expect("read"), bytes);
        let repair = Config {
            repair: true,
            ..c.clone()
        };
        let (mut store, _, records) = open(&repair);
        assert_eq!(records, vec![offline("luke", 1)]);
        assert_eq!(fs::metadata(s.journal()).expect("meta").len(), second);
        store.commit(&[offline("luke", 9)]).expect("commit");
        drop(store);
        let (_, _, records) = open(&c);
        assert_eq!(records, vec![offline("luke", 1), offline("luke", 9)]);
    }

    #[test]
    fn a_bad_snapshot_line_is_corruption_even_at_the_end() {
        let s = Scratch::new("snaptail");
        let c = s.config("yoda wise\n");
        let (mut store, _, _) = open(&c);
        store
            .compact(&[offline("luke", 1), offline("luke", 2)])
            .expect("compact");
        drop(store);
        let snap = s.0.join("data").join(SNAPSHOT);
        let len = fs::metadata(&snap).expect("meta").len();
        let f = OpenOptions::new().write(true).open(&snap).expect("open");
        f.set_len(len - 3).expect("truncate");
        drop(f);
        assert!(matches!(
            Store::open(&c),
            Err(StoreError::Corrupt { offset, .. }) if offset == line_start(&snap, 2)
        ));
        let repair = Config {
            repair: true,
            ..c.clone()
        };
        let (_, _, records) = open(&repair);
        assert_eq!(records, vec![offline("luke", 1)]);
    }

    #[test]
    fn a_journal_without_its_snapshot_is_refused() {
        let s = Scratch::new("nosnap");
        let c = s.config("yoda wise\n");
        let (mut store, _, _) = open(&c);
        store.compact(&[offline("luke", 1)]).expect("compact");
        store.commit(&[offline("luke", 2)]).expect("commit");
        drop(store);
        fs::remove_file(s.0.join("data").join(SNAPSHOT)).expect("rm");
        let e = Store::open(&c).map(|_| ()).expect_err("must refuse");
        assert!(matches!(e, StoreError::Inconsistent { .. }), "{e}");
        let repair = Config {
            repair: true,
            ..c.clone()
        };
        let (_, _, records) = open(&repair);
        assert_eq!(records, vec![offline("luke", 2)]);
    }

    /// A crash after the snapshot's rename but before the journal's: the old journal is
    /// already inside the snapshot, so a `delivered` in it must not be applied a second time.
    #[test]
    fn crash_between_snapshot_and_journal_reset_applies_each_record_once() {
        let s = Scratch::new("gen");
        let c = s.config("yoda wise\nluke force\n");
        let (mut store, creds, _) = open(&c);
        let batch = [
            offline("luke", 1),
            offline("luke", 2),
            offline("luke", 3),
            Record::Delivered {
                to: "luke".into(),
                count: 2,
            },
            offline("luke", 4),
        ];
        store.commit(&batch).expect("commit");
        let chat = chat_of(&c, creds.clone(), batch.to_vec());
        let state = chat.snapshot();
        assert_eq!(state, vec![offline("luke", 3), offline("luke", 4)]);
        let old_journal = fs::read(s.journal()).expect("read");
        store.compact(&state).expect("compact");
        drop(store);
        fs::write(s.journal(), &old_journal).expect("put the old journal back");
        let (_, creds, records) = open(&c);
        assert_eq!(chat_of(&c, creds, records).snapshot(), state);
        // The superseded journal was replaced by an empty one of the snapshot's generation.
        let journal = fs::read_to_string(s.journal()).expect("read");
        assert_eq!(journal.lines().count(), 1);
        assert!(journal.ends_with(" chatserver journal 1\n"), "{journal}");
    }

    #[test]
    fn compaction_keeps_state_identical_and_shrinks_the_journal() {
        let s = Scratch::new("compact");
        let c = Config {
            history: 50,
            ..s.config("yoda wise\nluke force\nhans solo\n")
        };
        let (mut store, creds, _) = open(&c);
        let mut chat = chat_of(&c, creds, Vec::new());
        for round in 0..40u64 {
            let mut batch = vec![
                offline("luke", round),
                block("hans", "yoda"),
                Record::Unblock {
                    by: "hans".into(),
                    user: "yoda".into(),
                },
                Record::History {
                    at_ms: round,
                    from: "yoda".into(),
                    to: Audience::Everyone,
                    text: format!("broadcast {round}"),
                },
            ];
            if round % 10 == 9 {
                batch.push(Record::Delivered {
                    to: "luke".into(),
                    count: 8,
                });
            }
            if round == 39 {
                batch.push(block("luke", "hans"));
            }
            store.commit(&batch).expect("commit");
            for r in batch {
                chat.replay(r);
            }
        }
        let before = chat.snapshot();
        let journal_before = store.journal_len();
        store.compact(&before).expect("compact");
        assert!(store.journal_len() < journal_before / 10);
        assert!(fs::metadata(s.journal()).expect("meta").len() < journal_before / 10);
        store.commit(&[offline("luke", 100)]).expect("commit");
        drop(store);
        let (_, creds, records) = open(&c);
        let mut after = chat_of(&c, creds, records);
        let mut expected = before.clone();
        expected.insert(
            expected
                .iter()
                .position(|r| matches!(r, Record::History { .. }))
                .expect("history"),
            offline("luke", 100),
        );
        assert_eq!(after.snapshot(), expected);
        after.replay(Record::Delivered {
            to: "luke".into(),
            count: 1,
        });
        assert_eq!(after.snapshot().len(), expected.len() - 1);
        // Twice more: generations keep counting up and nothing is lost.
        let (mut store, creds, records) = open(&c);
        let state = chat_of(&c, creds, records).snapshot();
        store.compact(&state).expect("compact");
        store.compact(&state).expect("compact");
        drop(store);
        let (_, creds, records) = open(&c);
        assert_eq!(chat_of(&c, creds, records).snapshot(), expected);
        let snap = fs::read_to_string(s.0.join("data").join(SNAPSHOT)).expect("read");
        assert!(snap
            .lines()
            .next()
            .is_some_and(|l| l.ends_with(" chatserver snapshot 3")));
    }

    #[test]
    fn wants_compaction_past_the_threshold_and_backs_off_after_a_failure() {
        let s = Scratch::new("threshold");
        let c = Config {
            compact_bytes: 1000,
            ..s.config("yoda wise\n")
        };
        let (mut store, _, _) = open(&c);
        while !store.wants_compaction() {
            store.commit(&[offline("luke", 1)]).expect("commit");
        }
        assert!(store.journal_len() > 1000);
        // Make the snapshot's temp file impossible to create.
        let blocker = s.0.join("data").join("snapshot.tmp");
        fs::create_dir(&blocker).expect("mkdir");
        assert!(store.compact(&[offline("luke", 1)]).is_err());
        assert!(!store.wants_compaction(), "retried at once");
        // Nothing changed: commits keep working and everything is still there.
        store.commit(&[offline("luke", 2)]).expect("commit");
        fs::remove_dir(&blocker).expect("rmdir");
        drop(store);
        let (_, _, records) = open(&c);
        assert_eq!(records.last(), Some(&offline("luke", 2)));
        assert!(!s.0.join("data").join(SNAPSHOT).exists());
    }

    /// A failed batch leaves neither file longer than before, and the next one goes through.
    #[test]
    fn a_failed_commit_leaves_nothing_behind() {
        let s = Scratch::new("fail");
        let c = s.config("yoda wise");
        let (mut store, _, _) = open(&c);
        store.commit(&[offline("luke", 1)]).expect("commit");
        let journal_len = store.journal_len();
        // Every write to the journal now fails with ENOSPC.
        let real = std::mem::replace(
            &mut store.journal.file,
            OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        );
        let ann = Record::Account {
            user: "ann".into(),
            secret: Secret::Plain("pw".into()),
        };
        let e = store
            .commit(&[ann.clone(), offline("luke", 2)])
            .expect_err("ENOSPC");
        assert_eq!(e.raw_os_error(), Some(28), "{e}");
        assert_eq!(
            fs::read_to_string(&c.credentials).expect("read"),
            "yoda wise"
        );
        assert!(store.needs_newline);
        assert_eq!(store.journal.len, journal_len);
        store.journal.file = real;
        store.journal.dirty = true;
        store.commit(&[ann, offline("luke", 3)]).expect("commit");
        drop(store);
        assert_eq!(
            fs::read_to_string(&c.credentials).expect("read"),
            "yoda wise\nann pw\n"
        );
        let (_, creds, records) = open(&c);
        assert!(creds.contains("ann"));
        assert_eq!(records, vec![offline("luke", 1), offline("luke", 3)]);
    }

    /// Bytes a failed cut-back left behind are removed before the next append.
    #[test]
    fn a_dirty_journal_is_cut_before_the_next_append() {
        let s = Scratch::new("dirty");
        let c = s.config("yoda wise\n");
        let (mut store, _, _) = open(&c);
        store.commit(&[offline("luke", 1)]).expect("commit");
        let mut f = OpenOptions::new()
            .append(true)
            .open(s.journal())
            .expect("open");
        f.write_all(b"0123456789abcdef offline luke half")
            .expect("write");
        store.journal.dirty = true;
        store.commit(&[offline("luke", 2)]).expect("commit");
        drop(store);
        let (_, _, records) = open(&c);
        assert_eq!(records, vec![offline("luke", 1), offline("luke", 2)]);
    }

    #[test]
    fn a_superseded_journal_is_replaced_before_anything_is_appended() {
        let s = Scratch::new("stale");
        let c = s.config("yoda wise\n");
        let (mut store, _, _) = open(&c);
        store.commit(&[offline("luke", 1)]).expect("commit");
        // As if a compaction renamed its snapshot and then failed to replace the journal.
        let mut snap = header("snapshot", 1);
        encode_line(&offline("luke", 1).to_string(), &mut snap).expect("encode");
        write_atomic(&s.0.join("data").join(SNAPSHOT), &snap).expect("write");
        store.generation = 1;
        store.journal_stale = true;
        assert!(store.wants_compaction());
        store.commit(&[offline("luke", 2)]).expect("commit");
        drop(store);
        let (_, _, records) = open(&c);
        assert_eq!(records, vec![offline("luke", 1), offline("luke", 2)]);
    }

    #[test]
    fn a_record_text_with_a_newline_is_refused_not_written() {
        let s = Scratch::new("newline");
        let c = s.config("yoda wise\n");
        let (mut store, _, _) = open(&c);
        let bad = Record::Offline {
            to: "luke".into(),
            from: "yoda".into(),
            at_ms: 1,
            text: "two\nlines".into(),
        };
        assert!(store.commit(&[offline("luke", 1), bad]).is_err());
        drop(store);
        let (_, _, records) = open(&c);
        assert!(records.is_empty());
    }

    #[test]
    fn a_torn_unterminated_credentials_line_is_cut_off() {
        let s = Scratch::new("credtail");
        let c = s.config("yoda wise\nann $sha256$00ff");
        let (mut store, creds, _) = open(&c);
        assert!(!creds.contains("ann") && creds.contains("yoda"));
        assert_eq!(
            fs::read_to_string(&c.credentials).expect("read"),
            "yoda wise\n"
        );
        assert!(!store.needs_newline);
        store
            .commit(&[Record::Account {
                user: "bob".into(),
                secret: Secret::Plain("x".into()),
            }])
            .expect("commit");
        assert_eq!(
            fs::read_to_string(&c.credentials).expect("read"),
            "yoda wise\nbob x\n"
        );
        drop(store);
        // A bad line that is not the unterminated tail stays an error naming the line.
        fs::write(&c.credentials, "yoda wise\nbroken\nbob x").expect("write");
        assert!(matches!(
            Store::open(&c),
            Err(StoreError::Credentials { line: 2, .. })
        ));
    }

    #[test]
    fn hash_credentials_file_hashes_plain_entries_and_keeps_the_mode() {
        let s = Scratch::new("hash");
        let path = s.0.join("credentials.txt");
        let kept = Secret::hashed("old", [5; 16]);
        fs::write(&path, format!("yoda wise\n\nhans {kept}\nluke force")).expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        assert_eq!(hash_credentials_file(&path).expect("hash"), 2);
        let text = fs::read_to_string(&path).expect("read");
        assert!(!text.contains("wise") && !text.contains("force"), "{text}");
        assert_eq!(text.lines().count(), 3);
        let creds = load_credentials(&path).expect("parse");
        assert!(creds.get("yoda").is_some_and(|s| s.verify("wise")));
        assert!(creds.get("luke").is_some_and(|s| s.verify("force")));
        assert_eq!(creds.get("hans"), Some(&kept));
        let mode = fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!path.with_extension("tmp").exists());
        // Idempotent.
        assert_eq!(hash_credentials_file(&path).expect("hash"), 0);
    }

    #[test]
    fn a_second_store_on_the_same_directory_is_refused() {
        let s = Scratch::new("lock");
        let c = s.config("yoda wise\n");
        let (store, _, _) = open(&c);
        assert!(matches!(Store::open(&c), Err(StoreError::Locked(_))));
        drop(store);
        open(&c);
    }

    #[test]
    fn fsync_policy_is_read_from_the_config() {
        let s = Scratch::new("fsync");
        let c = Config {
            fsync: FsyncPolicy::Never,
            ..s.config("yoda wise\n")
        };
        assert!(!open(&c).0.sync);
        drop(s);
        let s = Scratch::new("fsync2");
        assert!(open(&s.config("yoda wise\n")).0.sync);
    }
}
