//! Who is online, in login order, and when everyone else last logged out, indexed by time so
//! `whoelsesince` reads only the users inside its window, never every account.

use crate::session::ConnId;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Default)]
pub struct Online {
    /// Logged-in users and their connection.
    by_name: HashMap<Arc<str>, ConnId>,
    /// Each user's last logout.
    last_logout: HashMap<Arc<str>, Instant>,
    /// The same, ordered by time.
    logouts: BTreeSet<(Instant, Arc<str>)>,
    /// Login counter: orders users by login time.
    seq: u64,
}

impl Online {
    pub fn get(&self, user: &str) -> Option<ConnId> {
        self.by_name.get(user).copied()
    }

    pub fn contains(&self, user: &str) -> bool {
        self.by_name.contains_key(user)
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, ConnId)> {
        self.by_name.iter().map(|(n, &c)| (n, c))
    }

    /// `user` is now online on `conn`; returns its login sequence number.
    pub fn login(&mut self, user: Arc<str>, conn: ConnId) -> u64 {
        self.seq += 1;
        self.by_name.insert(user, conn);
        self.seq
    }

    /// `user` left (without a logout time: a replaced or undone login).
    pub fn remove(&mut self, user: &str) {
        self.by_name.remove(user);
    }

    /// `user` logged out at `now`.
    pub fn logout(&mut self, user: &Arc<str>, now: Instant) {
        self.by_name.remove(&**user);
        if let Some(old) = self.last_logout.insert(user.clone(), now) {
            self.logouts.remove(&(old, user.clone()));
        }
        self.logouts.insert((now, user.clone()));
    }

    /// Users who logged out at or after `cutoff` (all, if `None`), most recent first, who are
    /// not online now.
    pub fn logged_out_since(&self, cutoff: Option<Instant>) -> impl Iterator<Item = &Arc<str>> {
        let from = cutoff.map(|c| (c, Arc::<str>::from("")));
        let range = match &from {
            Some(f) => self.logouts.range(f.clone()..),
            None => self.logouts.range(..),
        };
        range
            .rev()
            .map(|(_, n)| n)
            .filter(|n| !self.by_name.contains_key(&***n))
    }
}
