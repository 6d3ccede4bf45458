//! Accounts and lockouts: the credential list, new-account creation with salted hashes, and the
//! per-username failure count and lock (PROTOCOL.md §2).

use crate::credentials::{Credentials, Secret};
use crate::record::Record;
use crate::valid::fold;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Salts for new password hashes: SHA-256 of a 32-byte seed from the OS and a counter, so the
/// core needs no random source of its own.
#[derive(Debug)]
struct SaltSource {
    seed: [u8; 32],
    counter: u64,
}

impl SaltSource {
    fn next(&mut self) -> [u8; 16] {
        self.counter += 1;
        let d = Sha256::new()
            .chain_update(self.seed)
            .chain_update(self.counter.to_le_bytes())
            .finalize();
        let mut salt = [0u8; 16];
        salt.copy_from_slice(&d[..16]);
        salt
    }
}

/// Failures in a row and the lock they led to; dropped once both are cleared.
#[derive(Debug, Default)]
struct Lockout {
    failures: u8,
    locked_until: Option<Instant>,
    /// The same deadline in wall-clock milliseconds, for the journal (issue 8).
    until_ms: u64,
}

/// The inverse of an account change, for a failed commit.
#[derive(Debug)]
pub enum Undo {
    Remove(String),
}

/// What a wrong password led to.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Try again.
    Retry,
    /// The third in a row: locked until then.
    Locked(Instant),
}

#[derive(Debug)]
pub struct Accounts {
    credentials: Credentials,
    /// The casemapping (issue 17): folded name to account for accounts whose name is not
    /// lower case (most are, and need no entry). Two accounts that differ only in case can
    /// exist in a credentials file written before the rule: a folded lookup finds the
    /// lower-case one, else the first in byte order, and each still logs in by its exact name.
    folded: HashMap<String, String>,
    lockouts: HashMap<String, Lockout>,
    salts: SaltSource,
    /// Replayed lockouts (wall-clock ends), turned into locks at the first `resume`.
    replayed: Vec<(String, u64)>,
}

impl Accounts {
    pub fn new(credentials: Credentials, seed: [u8; 32]) -> Accounts {
        let mut folded = HashMap::new();
        for name in credentials.names() {
            index(&mut folded, name);
        }
        Accounts {
            credentials,
            folded,
            lockouts: HashMap::new(),
            salts: SaltSource { seed, counter: 0 },
            replayed: Vec::new(),
        }
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn exists(&self, user: &str) -> bool {
        self.credentials.contains(user)
    }

    pub fn get(&self, user: &str) -> Option<&Secret> {
        self.credentials.get(user)
    }

    /// The account spelled exactly `name`, its name shared (no allocation).
    pub fn exact(&self, name: &str) -> Option<&Arc<str>> {
        self.credentials.name(name)
    }

    /// The account called `name` under the casemapping, as its name is spelled; an exact
    /// spelling wins.
    pub fn find(&self, name: &str) -> Option<&str> {
        if let Some((n, _)) = self.credentials.get_key_value(name) {
            return Some(n);
        }
        let key = fold(name);
        if let Some((n, _)) = self.credentials.get_key_value(&key) {
            return Some(n);
        }
        self.folded.get(&key).map(String::as_str)
    }

    /// Create `user` with `secret`; returns the record that makes it durable.
    pub fn create(&mut self, user: &str, secret: Secret) -> (Record, Undo) {
        self.credentials.insert(user.to_string(), secret.clone());
        index(&mut self.folded, user);
        let record = Record::Account {
            user: user.to_string(),
            secret,
        };
        (record, Undo::Remove(user.to_string()))
    }

    /// A fresh salt for a new password hash.
    pub fn salt(&mut self) -> [u8; 16] {
        self.salts.next()
    }

    /// What SCRAM shows for `name` when it has no PBKDF2 key (issue 22): a salt made from the
    /// server's seed and the folded name, the same for a name every time, so asking twice
    /// does not tell a real account from a stand-in.
    pub fn stand_in_salt(&self, name: &str) -> [u8; 16] {
        let d = Sha256::new()
            .chain_update(self.salts.seed)
            .chain_update(b"scram stand-in\0")
            .chain_update(fold(name).as_bytes())
            .finalize();
        let mut salt = [0u8; 16];
        salt.copy_from_slice(&d[..16]);
        salt
    }

    pub fn is_locked(&self, user: &str, now: Instant) -> bool {
        self.lockouts
            .get(user)
            .and_then(|l| l.locked_until)
            .is_some_and(|t| t > now)
    }

    /// A right password: the count starts again.
    pub fn succeeded(&mut self, user: &str) {
        self.lockouts.remove(user);
    }

    /// A wrong password: count it, locking the account for `lock` at the third.
    pub fn failed(&mut self, user: &str, now: crate::time::Now, lock: Duration) -> Failure {
        let l = self.lockouts.entry(user.to_string()).or_default();
        l.failures += 1;
        if l.failures < 3 {
            return Failure::Retry;
        }
        l.failures = 0;
        let until = now.mono + lock;
        l.locked_until = Some(until);
        l.until_ms = now.unix_ms().saturating_add(lock.as_millis() as u64);
        Failure::Locked(until)
    }

    /// The record that makes `user`'s current lock survive a restart.
    pub fn lock_record(&self, user: &str) -> Option<Record> {
        let l = self
            .lockouts
            .get(user)
            .filter(|l| l.locked_until.is_some())?;
        Some(Record::Lockout {
            user: user.to_string(),
            until_ms: l.until_ms,
        })
    }

    pub fn replay_lockout(&mut self, user: String, until_ms: u64) {
        self.replayed.push((user, until_ms));
    }

    /// Turn replayed lockouts into locks from the wall clock of `now`; returns the locks made,
    /// for their expiry hints. Those already over are dropped.
    pub fn resume(&mut self, now: crate::time::Now) -> Vec<(String, Instant)> {
        let now_ms = now.unix_ms();
        let mut made = Vec::new();
        for (user, until_ms) in std::mem::take(&mut self.replayed) {
            if until_ms <= now_ms {
                self.lockouts.remove(&user);
                continue;
            }
            let until = now.mono + Duration::from_millis(until_ms - now_ms);
            self.lockouts.insert(
                user.clone(),
                Lockout {
                    failures: 0,
                    locked_until: Some(until),
                    until_ms,
                },
            );
            made.push((user, until));
        }
        made
    }

    /// Current locks as records (for a snapshot); replayed ones not yet resumed too.
    pub fn snapshot(&self, out: &mut Vec<Record>) {
        let mut locks: Vec<(&str, u64)> = self
            .lockouts
            .iter()
            .filter(|(_, l)| l.locked_until.is_some())
            .map(|(u, l)| (u.as_str(), l.until_ms))
            .chain(self.replayed.iter().map(|(u, t)| (u.as_str(), *t)))
            .collect();
        locks.sort_unstable();
        out.extend(locks.into_iter().map(|(user, until_ms)| Record::Lockout {
            user: user.to_string(),
            until_ms,
        }));
    }

    pub fn has_replayed(&self) -> bool {
        !self.replayed.is_empty()
    }

    /// A lockout's hint fired: lift the lock if its time has come.
    pub fn unlock_if_due(&mut self, user: &str, now: Instant) -> bool {
        let due = self
            .lockouts
            .get(user)
            .is_some_and(|l| l.locked_until.is_some_and(|t| t <= now));
        if due {
            self.lockouts.remove(user);
        }
        due
    }

    /// Forget any lock of `user` (its account was deleted, issue 21). Its credentials are
    /// not touched: credentials.txt says which accounts exist, and a name deleted in the
    /// journal may have been created again after.
    pub fn purge_lockout(&mut self, user: &str) {
        self.lockouts.remove(user);
        self.replayed.retain(|(u, _)| u != user);
    }

    /// The operator deleted `user` (its deletion line is committed).
    pub fn remove(&mut self, user: &str) {
        self.undo(Undo::Remove(user.to_string()));
    }

    #[cfg(feature = "cluster")]
    /// Forget every account and lockout (cluster mode, issue 23: a snapshot in Redis is the
    /// world's accounts, and what credentials.txt listed must not outlive a deletion there).
    pub fn forget_all(&mut self) {
        self.credentials = Credentials::default();
        self.folded.clear();
        self.lockouts.clear();
        self.replayed.clear();
    }

    pub fn replay(&mut self, user: String, secret: Secret) {
        index(&mut self.folded, &user);
        self.credentials.insert(user, secret);
    }

    pub fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::Remove(user) => {
                self.credentials.remove(&user);
                let key = fold(&user);
                if self.folded.get(&key) == Some(&user) {
                    // Rare (a failed commit): look for another spelling of the same name.
                    self.folded.remove(&key);
                    let others: Vec<String> = self
                        .credentials
                        .names()
                        .filter(|n| fold(n) == key)
                        .map(str::to_string)
                        .collect();
                    for n in others {
                        index(&mut self.folded, &n);
                    }
                }
            }
        }
    }
}

/// Add `name` to the folded index if it is not lower case, keeping the first in byte order.
fn index(folded: &mut HashMap<String, String>, name: &str) {
    let key = fold(name);
    if key == name {
        return;
    }
    match folded.get_mut(&key) {
        Some(first) if **first <= *name => {}
        Some(first) => *first = name.to_string(),
        None => {
            folded.insert(key, name.to_string());
        }
    }
}
