//! The line format shared by journal, snapshot and history: `<checksum> <text>`, a checksummed
//! header naming the file's kind, generation and record format, and the loader that tells a torn
//! tail from corruption.

use super::StoreError;
use crate::record::{v1, Record, RecordText};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The record format of a file, from its header. Every file written now is [`Format::CURRENT`];
/// older ones are read as they were written until a compaction (or the upgrade at start-up,
/// `Store::open`) rewrites them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Format {
    /// Space-separated words, free text last (`record::v1`); its header has no format.
    V1,
    /// Tab-separated escaped fields (`record`); the header ends `format 2`.
    V2,
}

impl Format {
    pub(super) const CURRENT: Format = Format::V2;
}

/// The first 8 bytes of SHA-256(text) in lower-case hex, on the stack: every journal and
/// history line has one, so it must not allocate.
fn checksum(text: &str) -> [u8; 16] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(text.as_bytes());
    let mut out = [0u8; 16];
    for (pair, byte) in out.chunks_exact_mut(2).zip(&digest[..8]) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 15)];
    }
    out
}

/// `<checksum> <text>\n`. Callers hold text without a newline: a record's [`RecordText`]
/// (escaped) or a header (fixed words and a number).
fn push_line(text: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&checksum(text));
    out.push(b' ');
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
}

/// A checksummed line of any text, for tests that write what no release would.
#[cfg(test)]
pub(super) fn raw_line(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    push_line(text, &mut out);
    out
}

/// Append `record` as one journal line. It cannot fail: whatever its fields hold, the record's
/// text has no newline, so one odd value never fails a group commit. `scratch` is the text
/// buffer, kept by the caller so that a batch of lines allocates nothing (issue 20).
pub(super) fn encode_line(record: &Record, out: &mut Vec<u8>, scratch: &mut String) {
    let text: RecordText = record.encode_reusing(std::mem::take(scratch));
    push_line(text.as_str(), out);
    *scratch = text.into_string();
}

/// The text of a journal line if its checksum matches.
pub(super) fn decode_line(line: &str) -> Option<&str> {
    let (sum, text) = line.split_once(' ')?;
    (sum.as_bytes() == checksum(text)).then_some(text)
}

/// `chatserver <kind> <generation> format 2`, the header of every file written now.
pub(super) fn header(kind: &str, generation: u64) -> Vec<u8> {
    let mut out = Vec::new();
    push_line(
        &format!("chatserver {kind} {generation} format 2"),
        &mut out,
    );
    out
}

/// What a file's header says.
enum Header {
    Read(u64, Format),
    /// A format number this release does not know: written by a newer one.
    Newer(u32),
    Bad,
}

fn parse_header(text: &str, kind: &str) -> Header {
    let Some(rest) = text
        .strip_prefix("chatserver ")
        .and_then(|t| t.strip_prefix(kind))
        .and_then(|t| t.strip_prefix(' '))
    else {
        return Header::Bad;
    };
    let (generation, format) = match rest.split_once(' ') {
        None => (rest, Format::V1),
        Some((g, f)) => match f.strip_prefix("format ").map(str::parse::<u32>) {
            Some(Ok(2)) => (g, Format::V2),
            Some(Ok(n)) if n > 2 => return Header::Newer(n),
            _ => return Header::Bad,
        },
    };
    match generation.parse() {
        Ok(g) => Header::Read(g, format),
        Err(_) => Header::Bad,
    }
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
    /// From the header; [`Format::CURRENT`] for a file without one (it holds no records).
    pub(super) format: Format,
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
        format: Format::CURRENT,
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
                Some(text) if offset == 0 => match parse_header(text, kind) {
                    Header::Read(generation, format) => {
                        loaded.generation = generation;
                        loaded.format = format;
                        Ok((None, e))
                    }
                    // Not corruption, and not for --repair to cut: the file is fine, this
                    // release is too old for it (a downgrade).
                    Header::Newer(format) => {
                        return Err(StoreError::NewerFormat {
                            path: path.into(),
                            format,
                        })
                    }
                    Header::Bad => Err("bad header"),
                },
                Some(text) => parse_record(path, offset, text, loaded.format)
                    .map(|r| (r, e))
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

/// One record line of a file in `format`: `Some(None)` for a format-1 line that holds nothing
/// any more (logged), `None` if malformed.
fn parse_record(path: &Path, offset: usize, text: &str, format: Format) -> Option<Option<Record>> {
    match format {
        Format::V2 => Record::parse(text).map(Some),
        Format::V1 => match v1::parse(text)? {
            v1::Line::Record(r) => Some(Some(r)),
            v1::Line::UnreadableChannel { room } => {
                log::warn!(
                    "{}: byte offset {offset}: unreadable channel record for {room} (format 1 \
                     could not hold a value with a space); its settings are not restored",
                    path.display()
                );
                Some(None)
            }
        },
    }
}
