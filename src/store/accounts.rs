//! credentials.txt on disk: loading (naming file and line on errors, cutting a torn last
//! line) and `--hash-credentials`.

use super::files::{os_random, truncate, write_atomic};
use super::StoreError;
use crate::credentials::{account_line, Credentials, Secret};
use std::fs;
use std::path::Path;

/// Parse credentials text, naming the line on any error.
pub(super) fn parse_credentials(path: &Path, bytes: &[u8]) -> Result<Credentials, StoreError> {
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
pub(super) fn open_credentials(path: &Path) -> Result<(Credentials, bool), StoreError> {
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

/// The default `./credentials.txt` on the first start where there is none: an empty account
/// list, so `chatserver 5000` runs in an empty directory (registration fills it).
pub(super) fn create_missing_credentials(path: &Path) -> Result<(), StoreError> {
    if path.exists() {
        return Ok(());
    }
    log::info!("no accounts yet: {} created empty", path.display());
    write_atomic(path, b"").map_err(|e| StoreError::Io(path.into(), e))
}

/// `chatserver --hash-credentials FILE`: rewrite plaintext entries as PBKDF2 at `cost`, atomically
/// (keeping the file's mode). Run it while no server is using the file: a running server keeps
/// appending to the file it opened, which the rename replaces.
pub fn hash_credentials_file(path: &Path, cost: u32) -> Result<usize, StoreError> {
    let io_err = |e| StoreError::Io(path.into(), e);
    let text = fs::read(path).map_err(io_err)?;
    parse_credentials(path, &text)?;
    let text = String::from_utf8_lossy(&text);
    let mut out = String::new();
    let mut hashed = 0;
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        let (Some(user), Some(pass)) = (words.next(), words.next()) else {
            continue;
        };
        let secret = match Secret::parse(pass) {
            Ok(Secret::Plain(p)) => {
                hashed += 1;
                Secret::pbkdf2(&p, os_random().map_err(io_err)?, cost)
            }
            Ok(s) => s,
            Err(_) => continue,
        };
        // Lines of a file that just parsed; the writer's check still stands between any
        // value and the file.
        let line = account_line(user, &secret).map_err(|reason| StoreError::Credentials {
            path: path.into(),
            line: i + 1,
            reason: reason.into(),
        })?;
        out.push_str(&line);
        out.push('\n');
    }
    write_atomic(path, out.as_bytes()).map_err(io_err)?;
    Ok(hashed)
}
