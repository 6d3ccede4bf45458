//! Durable state on disk: the credentials file (accounts) and, in the data directory, an
//! append-only journal of checksummed [`Record`] lines plus a snapshot it is compacted into.
//!
//! File format (both `journal.log` and `snapshot.log`), one record per line, readable with `less`:
//! a header `chatserver <kind> <generation>`, then `<16 hex digits of SHA-256(text)> <text>`.
//! A snapshot of generation G already contains every journal of generation < G, so a crash
//! between writing a snapshot and resetting the journal never applies a record twice.
//! The store never decides chat semantics: it writes what the core emits and reads it back.

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
/// Journal size that triggers compaction (plus the size of the last snapshot).
pub const DEFAULT_COMPACT_BYTES: u64 = 8 << 20;

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
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            StoreError::Credentials { path, line, reason } => {
                write!(f, "{}:{line}: {reason}", path.display())
            }
            StoreError::Corrupt { path, offset } => write!(
                f,
                "{}: corrupt record at byte offset {offset} (start with --repair to truncate there)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for StoreError {}

fn checksum(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// `<checksum> <text>\n`: one journal line.
pub fn encode_line(text: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(checksum(text).as_bytes());
    out.push(b' ');
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
}

/// The text of a journal line if its checksum matches.
fn decode_line(line: &str) -> Option<&str> {
    let (sum, text) = line.split_once(' ')?;
    (sum == checksum(text)).then_some(text)
}

/// The records of one file and where its last good record ends.
struct Loaded {
    generation: u64,
    records: Vec<Record>,
    good_len: u64,
    torn: bool,
}

/// Read a journal or snapshot. A bad last line is torn (dropped); a bad line anywhere before
/// is corruption, unless `repair`, which keeps what precedes it.
fn load(path: &Path, kind: &str, repair: bool) -> Result<Option<Loaded>, StoreError> {
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
        torn: false,
    };
    let mut offset = 0usize;
    while offset < bytes.len() {
        let end = bytes[offset..].iter().position(|&b| b == b'\n');
        let line_end = end.map(|e| offset + e);
        let parsed = line_end.and_then(|e| {
            let text = decode_line(std::str::from_utf8(&bytes[offset..e]).ok()?)?;
            if offset == 0 {
                let gen = text.strip_prefix("chatserver ")?.strip_prefix(kind)?;
                loaded.generation = gen.trim_start().parse().ok()?;
                Some(None)
            } else {
                Record::parse(text).map(Some)
            }
        });
        match (parsed, line_end) {
            (Some(record), Some(e)) => {
                loaded.records.extend(record);
                offset = e + 1;
                loaded.good_len = offset as u64;
            }
            (_, e) => {
                let is_tail = e.is_none_or(|e| e + 1 == bytes.len());
                if !is_tail && !repair {
                    return Err(StoreError::Corrupt {
                        path: path.into(),
                        offset: offset as u64,
                    });
                }
                log::warn!(
                    "{}: dropping {} record at byte offset {offset}",
                    path.display(),
                    if is_tail { "a torn last" } else { "every" }
                );
                loaded.torn = true;
                break;
            }
        }
    }
    Ok(Some(loaded))
}

/// Write `bytes` to `path` atomically: temp file, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(path)
}

fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// 16 bytes from the OS random source.
pub fn os_random<const N: usize>() -> io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf)
}

/// Parse the credentials file, naming it and the line on any error.
pub fn load_credentials(path: &Path) -> Result<Credentials, StoreError> {
    let text = fs::read_to_string(path).map_err(|e| StoreError::Io(path.into(), e))?;
    Credentials::parse(&text).map_err(|e| StoreError::Credentials {
        path: path.into(),
        line: e.line,
        reason: e.reason,
    })
}

/// `chatserver --hash-credentials FILE`: rewrite plaintext entries as salted SHA-256, atomically.
pub fn hash_credentials_file(path: &Path) -> Result<usize, StoreError> {
    let io_err = |e| StoreError::Io(path.into(), e);
    load_credentials(path)?;
    let text = fs::read_to_string(path).map_err(io_err)?;
    let mut out = String::new();
    let mut hashed = 0;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some(user), Some(pass)) => {
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
            _ => continue,
        }
    }
    write_atomic(path, out.as_bytes()).map_err(io_err)?;
    Ok(hashed)
}

/// An append-only file whose length we know, so a failed append can be cut back off.
#[derive(Debug)]
struct AppendFile {
    path: PathBuf,
    file: File,
    /// Length of the durable, well-formed prefix.
    len: u64,
}

impl AppendFile {
    fn open(path: &Path) -> io::Result<AppendFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let len = file.metadata()?.len();
        Ok(AppendFile {
            path: path.into(),
            file,
            len,
        })
    }

    /// Append `bytes`; on any failure cut the file back so no half-written line remains.
    fn append(&mut self, bytes: &[u8], sync: bool) -> io::Result<()> {
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
                if let Err(t) = self.file.set_len(self.len) {
                    log::error!(
                        "{}: cannot cut back failed append: {t}",
                        self.path.display()
                    );
                }
                Err(e)
            }
        }
    }

    fn rollback(&mut self, to: u64) {
        if let Err(e) = self.file.set_len(to) {
            log::error!("{}: cannot roll back: {e}", self.path.display());
        } else {
            self.len = to;
        }
    }
}

/// The durable side of the server. See the module doc for the formats.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    credentials: AppendFile,
    /// credentials.txt did not end in a newline; add one before the first append.
    needs_newline: bool,
    journal: AppendFile,
    generation: u64,
    snapshot_len: u64,
    sync: bool,
    /// Reused encode buffer.
    buf: Vec<u8>,
    pub compact_bytes: u64,
}

impl Store {
    /// Open (creating the data directory if needed), recover, and return the accounts and the
    /// records to replay, snapshot first.
    pub fn open(config: &Config) -> Result<(Store, Credentials, Vec<Record>), StoreError> {
        let credentials = load_credentials(&config.credentials)?;
        let dir = config.data_dir.clone();
        let io_at = |p: &Path| {
            let p = p.to_path_buf();
            move |e| StoreError::Io(p, e)
        };
        fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        let snap_path = dir.join(SNAPSHOT);
        let journal_path = dir.join(JOURNAL);
        let snapshot = load(&snap_path, "snapshot", false)?;
        let journal = load(&journal_path, "journal", config.repair)?;
        let generation = snapshot.as_ref().map_or(0, |s| s.generation);
        let snapshot_len = snapshot.as_ref().map_or(0, |s| s.good_len);
        let mut records = snapshot.map(|s| s.records).unwrap_or_default();
        match journal {
            Some(j) if j.generation >= generation && j.good_len > 0 => {
                records.extend(j.records);
                if j.torn {
                    let f = OpenOptions::new().write(true).open(&journal_path);
                    f.and_then(|f| f.set_len(j.good_len).and_then(|()| f.sync_all()))
                        .map_err(io_at(&journal_path))?;
                }
            }
            _ => {
                // Missing, empty, headerless or superseded by the snapshot: start a fresh one.
                let mut header = Vec::new();
                encode_line(&format!("chatserver journal {generation}"), &mut header);
                write_atomic(&journal_path, &header).map_err(io_at(&journal_path))?;
            }
        }
        let cred_path = config.credentials.clone();
        let needs_newline = fs::read(&cred_path)
            .map(|b| b.last().is_some_and(|&c| c != b'\n'))
            .map_err(io_at(&cred_path))?;
        let store = Store {
            credentials: AppendFile::open(&cred_path).map_err(io_at(&cred_path))?,
            needs_newline,
            journal: AppendFile::open(&journal_path).map_err(io_at(&journal_path))?,
            dir,
            generation,
            snapshot_len,
            sync: config.fsync == FsyncPolicy::Always,
            buf: Vec::new(),
            compact_bytes: DEFAULT_COMPACT_BYTES,
        };
        Ok((store, credentials, records))
    }

    /// Group commit: append every record of one loop iteration and sync once per file.
    /// On error nothing of this batch remains on disk and the caller rolls back in memory.
    pub fn commit(&mut self, records: &[Record]) -> io::Result<()> {
        let mut accounts = Vec::new();
        if self.needs_newline {
            accounts.push(b'\n');
        }
        self.buf.clear();
        for r in records {
            match r {
                Record::Account { user, secret } => {
                    accounts.extend_from_slice(format!("{user} {secret}\n").as_bytes());
                }
                other => encode_line(&other.to_string(), &mut self.buf),
            }
        }
        let journal_before = self.journal.len;
        if !self.buf.is_empty() {
            self.journal.append(&self.buf, self.sync)?;
        }
        if accounts.len() > usize::from(self.needs_newline) {
            // Accounts are always synced: a welcome line must never precede its account on disk.
            if let Err(e) = self.credentials.append(&accounts, true) {
                self.journal.rollback(journal_before);
                return Err(e);
            }
            self.needs_newline = false;
        }
        Ok(())
    }

    /// Whether the journal has grown enough to be worth compacting.
    pub fn wants_compaction(&self) -> bool {
        self.journal.len > self.compact_bytes + self.snapshot_len
    }

    /// Replace snapshot + journal by a snapshot of `state` and an empty journal.
    pub fn compact(&mut self, state: &[Record]) -> io::Result<()> {
        let generation = self.generation + 1;
        let mut bytes = Vec::new();
        encode_line(&format!("chatserver snapshot {generation}"), &mut bytes);
        for r in state {
            encode_line(&r.to_string(), &mut bytes);
        }
        write_atomic(&self.dir.join(SNAPSHOT), &bytes)?;
        self.generation = generation;
        self.snapshot_len = bytes.len() as u64;
        let journal_path = self.dir.join(JOURNAL);
        let mut header = Vec::new();
        encode_line(&format!("chatserver journal {generation}"), &mut header);
        write_atomic(&journal_path, &header)?;
        self.journal = AppendFile::open(&journal_path)?;
        log::info!(
            "compacted journal into a {} byte snapshot (generation {generation})",
            bytes.len()
        );
        Ok(())
    }

    /// Current journal size in bytes (for tests and stats).
    pub fn journal_len(&self) -> u64 {
        self.journal.len
    }
}
