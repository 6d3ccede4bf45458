//! The message history on disk: lazy records in two append-only files, `history.log` and the
//! previous `history.old`, in the journal's checksummed line format. When the current file
//! holds `cap` entries it becomes the old one (a rename) and a new one starts, so the last
//! `cap` messages are always on disk without any compaction, and no message ever waits for a
//! rewrite or an fsync. Loading is lenient: history is synced within a second, not before
//! delivery, so a power cut may leave damaged lines; they are skipped with a warning.
//!
//! Issue 20: each entry is encoded once, into the batch's buffer, with no allocation; the
//! replaced `history.old` is not unlinked in the rotation (ext4 frees a file's blocks inside
//! the unlink: 28 ms for 40 MB here, the size of 10,000 long messages) but renamed to
//! `history.trash` and trimmed a step at a time with the compaction's retired files.

use super::files::{create_private, truncate, write_atomic, AppendFile};
use super::format::{encode_line, header, load, Format, Tail};
use super::trash::Trash;
use super::StoreError;
use crate::record::Record;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const CURRENT: &str = "history.log";
const OLD: &str = "history.old";
/// Where a replaced `history.old` waits to be trimmed (one of `trash::NAMES`).
pub(super) const RETIRED: &str = "history.trash";

/// The history files of one data directory.
#[derive(Debug)]
pub(super) struct History {
    dir: PathBuf,
    file: AppendFile,
    /// Entries in `history.log`.
    count: usize,
    cap: usize,
    /// Bytes appended since the last sync.
    unsynced: u64,
    buf: Vec<u8>,
}

impl History {
    /// Open (creating `history.log` if needed) and return the last `cap` entries, oldest first.
    pub(super) fn open(dir: &Path, cap: usize) -> Result<(History, Vec<Record>), StoreError> {
        let io_at = |p: &Path| {
            let p = p.to_path_buf();
            move |e| StoreError::Io(p, e)
        };
        let current = dir.join(CURRENT);
        let mut records = Vec::new();
        if let Some(old) = load(&dir.join(OLD), "history", Tail::Lenient, false)? {
            records = old.records;
        }
        let mut count = 0;
        match load(&current, "history", Tail::Lenient, false)? {
            Some(cur) if cur.good_len > 0 => {
                if cur.format != Format::CURRENT {
                    // An older release's file: appends must not mix formats, so write what it
                    // holds again in the current one (history.old is only read, never appended).
                    let mut bytes = header("history", 0);
                    let mut text = String::new();
                    cur.records
                        .iter()
                        .for_each(|r| encode_line(r, &mut bytes, &mut text));
                    write_atomic(&current, &bytes).map_err(io_at(&current))?;
                } else if cur.cut {
                    truncate(&current, cur.good_len).map_err(io_at(&current))?;
                }
                count = cur.records.len();
                records.extend(cur.records);
            }
            _ => write_atomic(&current, &header("history", 0)).map_err(io_at(&current))?,
        }
        records.retain(Record::is_lazy);
        let keep_from = records.len().saturating_sub(cap);
        records.drain(..keep_from);
        let history = History {
            dir: dir.to_path_buf(),
            file: AppendFile::open(&current).map_err(io_at(&current))?,
            count,
            cap,
            unsynced: 0,
            buf: Vec::new(),
        };
        Ok((history, records))
    }

    /// Append the lazy records of one batch, without waiting for the disk. `text` is the
    /// caller's reusable encoding buffer; a rotation hands the replaced file to `trash`.
    pub(super) fn append<'a>(
        &mut self,
        records: impl Iterator<Item = &'a Record>,
        text: &mut String,
        trash: &mut Trash,
    ) -> io::Result<()> {
        self.buf.clear();
        let mut n = 0;
        for r in records {
            encode_line(r, &mut self.buf, text);
            n += 1;
        }
        if n == 0 {
            return Ok(());
        }
        self.file.append(&self.buf, false)?;
        self.unsynced += self.buf.len() as u64;
        self.count += n;
        if self.count >= self.cap {
            if let Err(e) = self.rotate(trash) {
                // Keep appending to the current file; try again after half a file more.
                log::error!("history rotation failed (will retry): {e}");
                self.count = self.cap / 2;
            }
        }
        Ok(())
    }

    /// `history.log` becomes `history.old`; a new `history.log` starts. No fsync: like the
    /// entries themselves, the rename reaches the disk with the next sync or kernel writeback.
    /// Postponed (to the next batch) while the file replaced last time is still being trimmed.
    fn rotate(&mut self, trash: &mut Trash) -> io::Result<()> {
        let current = self.dir.join(CURRENT);
        let old = self.dir.join(OLD);
        let retired = self.dir.join(RETIRED);
        if retired.exists() {
            return Ok(());
        }
        // Move the old file away first, to a free name: a rename over an existing file frees
        // its blocks in the rename and makes ext4 flush it (auto_da_alloc), a stall of
        // milliseconds in the event loop; the trash frees it a bounded step at a time.
        trash.rename(&old, &retired)?;
        fs::rename(&current, &old)?;
        create_private(&current)?.write_all(&header("history", 0))?;
        self.file = AppendFile::open(&current)?;
        self.count = 0;
        Ok(())
    }

    /// `history.log` and its length in whole records (for a backup).
    pub(super) fn path(&self) -> &Path {
        &self.file.path
    }

    pub(super) fn len(&self) -> u64 {
        self.file.len
    }

    pub(super) fn unsynced(&self) -> u64 {
        self.unsynced
    }

    pub(super) fn syncs(&self) -> u64 {
        self.file.syncs
    }

    pub(super) fn sync(&mut self) -> io::Result<()> {
        self.file.sync()?;
        self.unsynced = 0;
        Ok(())
    }
}
