//! Files a compaction retires, emptied a bounded piece per loop iteration. On ext4, replacing
//! or removing a 100 MB file frees all its blocks inside that one call (37 ms measured for the
//! rename of a new snapshot over the old one), so the old snapshot and journal are first given
//! a second name (a hard link: the rename that replaces them then frees nothing), and that name
//! is truncated [`TRIM_STEP`] bytes a step (3 ms worst measured) and removed once empty.
//!
//! A file is only ever truncated while the retired name is its one link: if the rename that
//! should replace it failed, the file is still live, and only the extra name is removed.
//! Names left by a crash are removed at start-up ([`remove_leftovers`]); none is ever read.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Bytes freed per step.
pub(super) const TRIM_STEP: u64 = 8 << 20;

/// Every name a retired file may have.
pub(super) const NAMES: [&str; 4] = [
    "snapshot.old",
    "journal.old",
    "snapshot.failed",
    super::history::RETIRED,
];

/// Retired files not yet removed.
#[derive(Debug, Default)]
pub(super) struct Trash {
    files: Vec<PathBuf>,
}

impl Trash {
    pub(super) fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Give the file at `path` the name `retired` too, before `path` is replaced.
    pub(super) fn link(&mut self, path: &Path, retired: &Path) -> io::Result<()> {
        match fs::remove_file(retired) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let linked = fs::hard_link(path, retired);
        self.keep(linked, retired)
    }

    /// Move the file at `path` away to `retired` (an abandoned file nothing else names).
    pub(super) fn rename(&mut self, path: &Path, retired: &Path) -> io::Result<()> {
        let renamed = fs::rename(path, retired);
        self.keep(renamed, retired)
    }

    /// Track `retired` if it was made; a missing original (nothing to retire) is no error.
    fn keep(&mut self, made: io::Result<()>, retired: &Path) -> io::Result<()> {
        match made {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
            Ok(()) => {
                self.files.push(retired.to_path_buf());
                Ok(())
            }
        }
    }

    /// Free at most [`TRIM_STEP`] bytes of one retired file, or remove it once empty. A file
    /// that fails is given up (its name is removed at the next start-up), so an error is
    /// reported once, not every iteration.
    pub(super) fn step(&mut self) -> io::Result<()> {
        let result = self.trim();
        if result.is_err() {
            self.files.pop();
        }
        result
    }

    fn trim(&mut self) -> io::Result<()> {
        let Some(path) = self.files.last() else {
            return Ok(());
        };
        let meta = match fs::metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.files.pop();
                return Ok(());
            }
            other => other?,
        };
        // Still another name's file (its replacement failed): removing this name frees nothing.
        if meta.nlink() > 1 || meta.len() == 0 {
            fs::remove_file(path)?;
            self.files.pop();
            return Ok(());
        }
        let file: File = OpenOptions::new().write(true).open(path)?;
        file.set_len(meta.len().saturating_sub(TRIM_STEP))
    }
}

/// Remove retired names a crash left behind (start-up: no loop to stall yet).
pub(super) fn remove_leftovers(dir: &Path) -> io::Result<()> {
    for name in NAMES {
        match fs::remove_file(dir.join(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("trash-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn a_replaced_file_is_trimmed_in_steps_then_removed() {
        let dir = scratch("trim");
        let (live, old) = (dir.join("snapshot.log"), dir.join("snapshot.old"));
        fs::write(&live, vec![b'x'; (TRIM_STEP * 2 + 5) as usize]).expect("write");
        fs::write(dir.join("new"), b"new").expect("write");
        let mut trash = Trash::default();
        trash.link(&live, &old).expect("link");
        fs::rename(dir.join("new"), &live).expect("rename");
        let mut sizes = Vec::new();
        while !trash.is_empty() {
            trash.step().expect("step");
            sizes.push(fs::metadata(&old).map_or(None, |m| Some(m.len())));
        }
        assert_eq!(sizes, [Some(TRIM_STEP + 5), Some(5), Some(0), None]);
        assert_eq!(
            fs::read(&live).expect("read"),
            b"new",
            "the live file untouched"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_whose_replacement_failed_is_never_truncated() {
        let dir = scratch("live");
        let (live, old) = (dir.join("snapshot.log"), dir.join("snapshot.old"));
        fs::write(&live, b"still the snapshot").expect("write");
        let mut trash = Trash::default();
        trash.link(&live, &old).expect("link");
        // No rename happened: both names are one file.
        trash.step().expect("step");
        assert!(trash.is_empty() && !old.exists());
        assert_eq!(fs::read(&live).expect("read"), b"still the snapshot");
        let _ = fs::remove_dir_all(&dir);
    }
}
