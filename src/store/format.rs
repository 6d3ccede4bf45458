//! The line format shared by journal, snapshot and history: `<checksum> <text>`, a checksummed header,
//! and the loader that tells a torn tail from corruption.

use super::StoreError;
use crate::record::Record;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

pub(super) fn checksum(text: &str) -> String {
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
pub(super) fn decode_line(line: &str) -> Option<&str> {
    let (sum, text) = line.split_once(' ')?;
    (sum == checksum(text)).then_some(text)
}

pub(super) fn header(kind: &str, generation: u64) -> Vec<u8> {
    let mut out = Vec::new();
    // A header never holds a newline.
    let _ = encode_line(&format!("chatserver {kind} {generation}"), &mut out);
    out
}

/// How [`load`] treats a bad line that ends the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tail {
    /// The journal: a crash mid-append leaves a last line without its newline; drop it. A
    /// complete last line that fails its checksum was written whole and damaged later: corrupt.
    Torn,
    /// A snapshot is written atomically, so any bad line is corruption.
    Strict,
    /// History is synced lazily: skip damaged lines wherever they are.
    Lenient,
}

/// The records of one file and where its last good record ends.
#[derive(Debug)]
pub(super) struct Loaded {
    pub(super) generation: u64,
    pub(super) records: Vec<Record>,
    pub(super) good_len: u64,
    /// Bytes after `good_len` must be cut off (torn tail, or `--repair`).
    pub(super) cut: bool,
}

/// Read a journal or snapshot. See the module doc for what counts as torn and as corrupt.
pub(super) fn load(
    path: &Path,
    kind: &str,
    tail: Tail,
    repair: bool,
) -> Result<Option<Loaded>, StoreError> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => f
            .read_to_end(&mut bytes)
            .map_err(|e| StoreError::Io(path.into(), e))?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::Io(path.into(), e)),
    };
    parse(path, &bytes, kind, tail, repair).map(Some)
}

/// [`load`] of bytes already read; `path` only names them in messages.
pub(super) fn parse(
    path: &Path,
    bytes: &[u8],
    kind: &str,
    tail: Tail,
    repair: bool,
) -> Result<Loaded, StoreError> {
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
                // Only an unterminated line can be a write cut short; it is always the last.
                let torn = line_end.is_none();
                let dropped = bytes.len() - offset;
                if torn && tail == Tail::Torn {
                    log::warn!(
                        "{}: dropping a torn last record at byte offset {offset} ({dropped} \
                         bytes, {reason}): a write cut short by a crash, never acknowledged",
                        path.display()
                    );
                } else if tail == Tail::Lenient {
                    log::warn!(
                        "{}: skipping a damaged line at byte offset {offset} ({reason})",
                        path.display()
                    );
                    if let Some(e) = line_end {
                        offset = e + 1;
                        continue;
                    }
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
    Ok(loaded)
}
