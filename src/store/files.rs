//! File-system primitives with the durability rules spelled out once: atomic replace
//! (temp, fsync, rename, directory fsync) and an append-only file that can take back a failed
//! append.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of every file and directory the store creates: they hold private messages and
/// password hashes. Files that already exist keep theirs.
const PRIVATE: u32 = 0o600;

/// Create `dir` (and its parents) as `0700` if missing.
pub(super) fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE | 0o100)
        .create(dir)
}

/// Create (or empty) `path` for writing; a new file is `0600`.
pub(super) fn create_private(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(PRIVATE)
        .open(path)
}

/// Cut `path` to `len` bytes, durably.
pub(super) fn truncate(path: &Path, len: u64) -> io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    f.set_len(len)?;
    f.sync_all()
}

/// Write `bytes` to `path`'s temp file and fsync it; returns the temp path.
fn write_temp(path: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let tmp = path.with_extension("tmp");
    let result = (|| {
        let mut f = create_private(&tmp)?;
        // Keep the mode of the file being replaced; a new one (or a stale temp file) is private.
        let mode = fs::metadata(path).map_or(PRIVATE, |m| m.permissions().mode());
        f.set_permissions(fs::Permissions::from_mode(mode))?;
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

pub(super) fn sync_dir(path: &Path) -> io::Result<()> {
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

/// An append-only file whose good length we know, so a failed append can be cut back off.
#[derive(Debug)]
pub(super) struct AppendFile {
    pub(super) path: PathBuf,
    pub(super) file: File,
    /// Length of the durable, well-formed prefix.
    pub(super) len: u64,
    /// The file may be longer than `len` (cutting back failed): cut it before appending again.
    pub(super) dirty: bool,
    /// Syncs of this file so far (`/metrics`: how often the loop waited for the disk).
    pub(super) syncs: u64,
}

impl AppendFile {
    pub(super) fn open(path: &Path) -> io::Result<AppendFile> {
        // O_APPEND: after a cut, the next write lands at the new end, not at a stale offset.
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(PRIVATE)
            .open(path)?;
        let len = file.metadata()?.len();
        Ok(AppendFile {
            path: path.into(),
            file,
            len,
            dirty: false,
            syncs: 0,
        })
    }

    /// Append `bytes` (and sync if asked); on any failure cut the file back so no part of them
    /// remains.
    pub(super) fn append(&mut self, bytes: &[u8], sync: bool) -> io::Result<()> {
        if self.dirty {
            self.cut()?;
        }
        let result = self
            .file
            .write_all(bytes)
            .and_then(|()| if sync { self.sync() } else { Ok(()) });
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

    /// Make what was appended durable.
    pub(super) fn sync(&mut self) -> io::Result<()> {
        self.syncs += 1;
        self.file.sync_data()
    }

    /// Forget everything after `to` (an append this batch must take back).
    pub(super) fn rollback(&mut self, to: u64) {
        self.len = to;
        self.cut_or_log();
    }

    /// Make the file `len` bytes long again, durably.
    pub(super) fn cut(&mut self) -> io::Result<()> {
        self.dirty = true;
        self.file.set_len(self.len)?;
        self.syncs += 1;
        self.file.sync_all()?;
        self.dirty = false;
        Ok(())
    }

    pub(super) fn cut_or_log(&mut self) {
        if let Err(e) = self.cut() {
            log::error!(
                "{}: cannot cut back a failed append (retried before the next one): {e}",
                self.path.display()
            );
        }
    }
}
