//! Backups (issue 21): a data directory another server can start from, written while this one
//! serves. It is taken at one instant, right after a commit: the core's durable state frozen
//! (the same cheap copy-on-write freeze a compaction uses), and the lengths of credentials.txt
//! and the two history files, opened then (a history rotation or a compaction renaming files
//! afterwards does not change what an open file reads). Everything is then written a bounded
//! number of bytes per loop iteration into `<DIR>.partial`, synced, and renamed to `<DIR>`,
//! so a half-written backup never looks like a whole one.
//!
//! A backup holds `credentials.txt`, `snapshot.log` (the state as records), an empty
//! `journal.log` of the same generation, and `history.old`/`history.log` as they were. Restore
//! ([`restore`]) checks that it loads, moves the files it replaces aside, and copies it in.

use super::compaction::Snapshot;
use super::files::{create_private, create_private_dir, sync_dir, write_atomic};
use super::format::{encode_line, header, load, Tail};
use super::{accounts, StoreError, JOURNAL, SNAPSHOT};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const CREDENTIALS: &str = "credentials.txt";
const HISTORY: [&str; 2] = ["history.old", "history.log"];

/// A file to copy as it was at the freeze: the open file and how many bytes it had.
#[derive(Debug)]
struct Source {
    file: File,
    len: u64,
    name: &'static str,
}

/// What a backup step is writing.
#[derive(Debug)]
enum Phase {
    /// The frozen state into `snapshot.log`.
    Snapshot,
    /// Copying `sources[i]`.
    Copy(usize),
    /// Everything written: sync, rename the directory into place.
    Finish,
}

/// A backup in progress.
#[derive(Debug)]
pub struct Backup {
    target: PathBuf,
    partial: PathBuf,
    state: Box<dyn Snapshot>,
    drained: bool,
    sources: Vec<Source>,
    phase: Phase,
    out: Option<File>,
    buf: Vec<u8>,
    /// The text of the record being encoded (reused).
    text: String,
    /// Bytes written so far (for the reply).
    pub written: u64,
}

fn partial_of(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

impl Backup {
    /// Start a backup of `state` (generation `generation`, every record of it committed) with
    /// the first `len` bytes of each `(path, len)` of `files` (credentials.txt, then the history
    /// files, each `None` if missing) as they are now. Cheap: it opens files.
    pub(super) fn begin(
        target: &Path,
        state: Box<dyn Snapshot>,
        generation: u64,
        files: [Option<(&Path, u64)>; 3],
    ) -> io::Result<Backup> {
        if target.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists; a backup goes to a new directory",
                    target.display()
                ),
            ));
        }
        let partial = partial_of(target);
        if partial.exists() {
            // A backup cut short by a crash; it was never complete.
            fs::remove_dir_all(&partial)?;
        }
        let mut sources = Vec::new();
        for (file, name) in files.into_iter().zip([CREDENTIALS, HISTORY[0], HISTORY[1]]) {
            if let Some((path, len)) = file {
                let file = File::open(path)?;
                sources.push(Source { file, len, name });
            }
        }
        create_private_dir(&partial)?;
        write_atomic(&partial.join(JOURNAL), &header("journal", generation))?;
        let mut out = create_private(&partial.join(SNAPSHOT))?;
        out.write_all(&header("snapshot", generation))?;
        let mut state = state;
        state.rewind();
        Ok(Backup {
            target: target.to_path_buf(),
            partial,
            state,
            drained: false,
            sources,
            phase: Phase::Snapshot,
            out: Some(out),
            buf: Vec::new(),
            text: String::new(),
            written: 0,
        })
    }

    /// Write at most about `budget` bytes. Returns whether the backup is complete and in place.
    /// On error the caller drops the backup (see [`Backup::abandon`]).
    pub fn step(&mut self, budget: usize) -> io::Result<bool> {
        match self.phase {
            Phase::Snapshot => {
                while self.buf.len() < budget && !self.drained {
                    match self.state.next_record() {
                        Some(r) if r.is_lazy() => {}
                        Some(r) => encode_line(&r, &mut self.buf, &mut self.text),
                        None => self.drained = true,
                    }
                }
                self.write_buf()?;
                if self.drained {
                    self.next_file(0)?;
                }
            }
            Phase::Copy(i) => {
                let Some(src) = self.sources.get_mut(i) else {
                    self.phase = Phase::Finish;
                    return Ok(false);
                };
                let want = budget.min(usize::try_from(src.len).unwrap_or(usize::MAX));
                self.buf.resize(want, 0);
                let n = src.file.read(&mut self.buf)?;
                self.buf.truncate(n);
                src.len -= n as u64;
                let done = n == 0 || src.len == 0;
                self.write_buf()?;
                if done {
                    self.next_file(i + 1)?;
                }
            }
            Phase::Finish => {
                fs::rename(&self.partial, &self.target)?;
                sync_dir(&self.target)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn write_buf(&mut self) -> io::Result<()> {
        if let Some(out) = self.out.as_mut() {
            out.write_all(&self.buf)?;
        }
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Sync the file just written and open the one for `sources[i]` (or finish).
    fn next_file(&mut self, i: usize) -> io::Result<()> {
        if let Some(out) = self.out.take() {
            out.sync_all()?;
        }
        match self.sources.get(i) {
            Some(src) => {
                self.out = Some(create_private(&self.partial.join(src.name))?);
                self.phase = Phase::Copy(i);
            }
            None => {
                File::open(&self.partial)?.sync_all()?;
                self.phase = Phase::Finish;
            }
        }
        Ok(())
    }

    /// Give up: remove what was written.
    pub fn abandon(self) {
        if let Err(e) = fs::remove_dir_all(&self.partial) {
            log::error!("{}: cannot remove: {e}", self.partial.display());
        }
    }

    pub fn target(&self) -> &Path {
        &self.target
    }
}

/// Check that `dir` is a backup a server can start from: its credentials parse, its snapshot
/// and journal load whole (a backup is never torn).
fn verify(dir: &Path) -> Result<(), StoreError> {
    accounts::load_credentials(&dir.join(CREDENTIALS))?;
    for (name, kind) in [(SNAPSHOT, "snapshot"), (JOURNAL, "journal")] {
        let path = dir.join(name);
        match load(&path, kind, Tail::Strict, false)? {
            Some(l) if !l.cut => {}
            _ => {
                return Err(StoreError::Inconsistent {
                    path,
                    reason: "missing or incomplete: not a backup".into(),
                })
            }
        }
    }
    for name in HISTORY {
        load(&dir.join(name), "history", Tail::Lenient, false)?;
    }
    Ok(())
}

/// `chatserver restore DIR` into the stopped server's `data_dir` (whose lock the caller holds)
/// and `credentials`: check the backup, move the files it replaces into
/// `data_dir/pre-restore-<unix seconds>/` (`…-2`, `-3`, … for another restore in that second),
/// and copy it in. Returns where the old files went.
pub(super) fn restore(
    backup: &Path,
    data_dir: &Path,
    credentials: &Path,
    now_s: u64,
) -> Result<PathBuf, StoreError> {
    verify(backup)?;
    let io_at = |p: &Path| {
        let p = p.to_path_buf();
        move |e| StoreError::Io(p, e)
    };
    // A name of its own even for a second restore in the same second (the data directory's
    // lock keeps anyone else out meanwhile): moving files into an earlier restore's directory
    // would replace, and so delete, what that one kept.
    let aside = (1..)
        .map(|n| match n {
            1 => data_dir.join(format!("pre-restore-{now_s}")),
            n => data_dir.join(format!("pre-restore-{now_s}-{n}")),
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| data_dir.join(format!("pre-restore-{now_s}")));
    create_private_dir(&aside).map_err(io_at(&aside))?;
    for name in [
        SNAPSHOT,
        JOURNAL,
        super::compaction::NEXT,
        "snapshot.old",
        "journal.old",
        HISTORY[0],
        HISTORY[1],
    ] {
        let from = data_dir.join(name);
        match fs::rename(&from, aside.join(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(StoreError::Io(from, e)),
            _ => {}
        }
    }
    if let Ok(old) = fs::read(credentials) {
        let keep = aside.join(CREDENTIALS);
        write_atomic(&keep, &old).map_err(io_at(&keep))?;
    }
    let copy = |from: &Path, to: &Path| -> Result<(), StoreError> {
        match fs::read(from) {
            Ok(bytes) => write_atomic(to, &bytes).map_err(io_at(to)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::Io(from.into(), e)),
        }
    };
    copy(&backup.join(CREDENTIALS), credentials)?;
    for name in [SNAPSHOT, JOURNAL, HISTORY[0], HISTORY[1]] {
        copy(&backup.join(name), &data_dir.join(name))?;
    }
    sync_dir(&data_dir.join(SNAPSHOT)).map_err(io_at(data_dir))?;
    Ok(aside)
}
