//! The loop's side of a backup (issue 21): begun by an operator command right after a commit,
//! then a bounded step per loop iteration (the loop does not sleep meanwhile), and the reply
//! to whoever asked once it is in place or has failed.

use super::Server;
use crate::console::Reply;
use crate::store::{Backup, COMPACTION_STEP_BYTES};
use crate::time::Now;
use std::path::Path;

/// Who asked for something the loop answers later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Requester {
    Console,
    /// An admin socket connection, by slot.
    Admin(usize),
}

/// A backup under way and who waits for it.
#[derive(Debug)]
pub(super) struct Running {
    backup: Backup,
    requester: Requester,
}

impl Server {
    /// `backup DIR`: freeze the state now and start writing it. `None`: the reply comes when
    /// it is done.
    pub(super) fn begin_backup(
        &mut self,
        target: &Path,
        requester: Requester,
        now: Now,
    ) -> Option<Reply> {
        if self.backup.is_some() {
            return Some(Reply::err("a backup is already running\n"));
        }
        if self.in_cluster() {
            return Some(Reply::err(
                "backup: a cluster node keeps no state of its own: the chat world is in Redis \
                 (the stream <prefix>:journal and the snapshot <prefix>:snapshot:*); back Redis \
                 up instead (its AOF or RDB files, e.g. after BGSAVE)\n",
            ));
        }
        if !target.is_absolute() {
            return Some(Reply::err(
                "backup: give an absolute directory (the server's working directory is not yours)\n",
            ));
        }
        // Every change so far on disk first: the frozen state is then exactly what is committed.
        self.commit(now);
        match self.store.begin_backup(target, self.chat.freeze()) {
            Ok(backup) => {
                log::info!("backup to {} started", target.display());
                self.backup = Some(Running { backup, requester });
                None
            }
            Err(e) => Some(Reply::err(format!("backup: {e}\n"))),
        }
    }

    /// The server stops with a backup unfinished: remove it and say so.
    pub(super) fn abandon_backup(&mut self) {
        if let Some(running) = self.backup.take() {
            log::warn!(
                "backup to {} abandoned: shutting down",
                running.backup.target().display()
            );
            running.backup.abandon();
            self.answer(
                running.requester,
                &Reply::err("backup abandoned: the server is shutting down\n"),
            );
        }
    }

    /// One bounded step of the backup under way, if any; its reply once it is over.
    pub(super) fn backup_step(&mut self) {
        let Some(running) = self.backup.as_mut() else {
            return;
        };
        let reply = match running.backup.step(COMPACTION_STEP_BYTES) {
            Ok(false) => return,
            Ok(true) => {
                let b = &running.backup;
                log::info!(
                    "backup to {} done ({} bytes)",
                    b.target().display(),
                    b.written
                );
                Reply::ok(format!(
                    "backup written to {} ({} bytes)\n",
                    b.target().display(),
                    b.written
                ))
            }
            Err(e) => {
                log::error!(
                    "backup to {} failed: {e}",
                    running.backup.target().display()
                );
                Reply::err(format!("backup failed: {e}\n"))
            }
        };
        if let Some(running) = self.backup.take() {
            if !reply.ok {
                running.backup.abandon();
            }
            self.answer(running.requester, &reply);
        }
    }
}
