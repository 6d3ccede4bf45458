//! Who is online, in login order, and when everyone else last logged out, indexed by time so
//! `whoelsesince` reads only the users inside its window, never every account.

use crate::session::ConnId;
use crate::valid::fold;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Default)]
pub struct Online {
    /// Logged-in users and their connection.
    by_name: HashMap<Arc<str>, ConnId>,
    /// The casemapping (issue 17): the folded form of each online name that is not already
    /// lower case, so a lookup by any spelling costs two hash lookups, not a scan.
    folded: HashMap<String, Arc<str>>,
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

    /// The online user spelled exactly `name`.
    pub fn exact(&self, name: &str) -> Option<&Arc<str>> {
        self.by_name.get_key_value(name).map(|(n, _)| n)
    }

    /// The online user called `name` under the casemapping, as it spelled its name; an exact
    /// spelling wins.
    pub fn find(&self, name: &str) -> Option<(&Arc<str>, ConnId)> {
        if let Some((n, c)) = self.by_name.get_key_value(name) {
            return Some((n, *c));
        }
        let key = fold(name);
        let (n, c) = match self.by_name.get_key_value(key.as_str()) {
            Some(found) => found,
            None => self.by_name.get_key_value(self.folded.get(&key)?)?,
        };
        Some((n, *c))
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
        let key = fold(&user);
        if *key != *user {
            self.folded.insert(key, user.clone());
        }
        self.by_name.insert(user, conn);
        self.seq
    }

    /// A guest took another name (issue 22): same connection, same place in login order.
    pub fn rename(&mut self, old: &str, new: Arc<str>) {
        if let Some(conn) = self.by_name.remove(old) {
            self.unfold(old);
            let key = fold(&new);
            if *key != *new {
                self.folded.insert(key, new.clone());
            }
            self.by_name.insert(new, conn);
        }
    }

    /// `user` left (without a logout time: a replaced or undone login).
    pub fn remove(&mut self, user: &str) {
        self.by_name.remove(user);
        self.unfold(user);
    }

    fn unfold(&mut self, user: &str) {
        let key = fold(user);
        if self.folded.get(&key).is_some_and(|n| **n == *user) {
            self.folded.remove(&key);
        }
    }

    /// `user` logged out at `now`.
    pub fn logout(&mut self, user: &Arc<str>, now: Instant) {
        self.by_name.remove(&**user);
        self.unfold(user);
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
