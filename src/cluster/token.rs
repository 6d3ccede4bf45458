//! This node's owner token (`claim.rs`): 128 random bits kept in its data directory as
//! `node-token`, made once. The data directory's lock (`store::lock_dir`, held for the life
//! of the process) lets one process at a time use it, so a token found in Redis beside this
//! node's id is this node's own earlier run, and never a process running now. Read (or
//! written) once at start-up: one small file, bounded work.

use sha2::{Digest, Sha256};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The file's name in the data directory.
pub const FILE: &str = "node-token";
/// Hex digits in a token (128 bits).
const LEN: usize = 32;

/// The token kept in `dir`, made and kept there if there is none (or it is damaged). If it
/// cannot be kept, a token for this run only, with a warning: this node still starts, but a
/// restart waits its old liveness key out, as for another node.
pub fn load_or_create(dir: &Path) -> String {
    let path = dir.join(FILE);
    match fs::read_to_string(&path) {
        Ok(text) if valid(text.trim_end()) => return text.trim_end().to_string(),
        Ok(_) => log::warn!("{}: not a node token: making a new one", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => log::warn!("{}: {e}: making a new one", path.display()),
    }
    let token = fresh(dir);
    let tmp = dir.join(format!("{FILE}.tmp"));
    let kept = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(format!("{token}\n").as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, &path));
    if let Err(e) = kept {
        log::warn!(
            "{}: {e}: this node's token is this run's only (a restart waits for its old \
             liveness key to expire)",
            path.display()
        );
    }
    token
}

/// A new token: from `/dev/urandom`, or if that cannot be read, a hash of the time, the
/// process id and the directory (unique enough to tell this node's runs from others').
pub fn fresh(dir: &Path) -> String {
    match crate::store::os_random::<16>() {
        Ok(bytes) => hex::encode(bytes),
        Err(e) => {
            log::warn!("/dev/urandom: {e}: the node token is a hash of time, pid and path");
            let mut h = Sha256::new();
            let since = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            h.update(since.as_nanos().to_le_bytes());
            h.update(std::process::id().to_le_bytes());
            h.update(dir.as_os_str().as_encoded_bytes());
            hex::encode(&h.finalize()[..LEN / 2])
        }
    }
}

fn valid(token: &str) -> bool {
    token.len() == LEN && token.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_made_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("chatserver-token-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("dir");
        let first = load_or_create(&dir);
        assert!(valid(&first), "{first}");
        assert_eq!(load_or_create(&dir), first);
        // Damaged: replaced.
        fs::write(dir.join(FILE), "junk\n").expect("write");
        let second = load_or_create(&dir);
        assert!(valid(&second) && second != first);
        assert_eq!(load_or_create(&dir), second);
        let _ = fs::remove_dir_all(&dir);
    }
}
