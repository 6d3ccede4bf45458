//! Who is online, in login order, and when everyone else last logged out, indexed by time so
//! `whoelsesince` reads only the users inside its window, never every account.
//!
//! Issue 22: a session has a *name* (what others see and reach it by) and, when logged in, an
//! *account*. They are the same for every login but one: an IRC client that proves an account
//! with SASL (before or after registration) keeps a free nick of its own. Such a session is
//! listed once, under its name, and found by either name ([`Online::find`], [`Online::get`]);
//! [`Online::account_of`] maps a name to the account whose blocks, mailbox and history it uses.

use crate::session::ConnId;
use crate::valid::fold;
use std::cell::Cell;
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
    /// Sessions whose name is not their account (issue 22): account → name, and name →
    /// account. Empty but for IRC clients that proved an account under a nick of their own.
    named: HashMap<Arc<str>, Arc<str>>,
    accounts: HashMap<Arc<str>, Arc<str>>,
    /// Of those, the names that held an account at their last logout: name → account, so
    /// the account's blocks still hide the name's past (`whoelsesince`).
    held: HashMap<Arc<str>, Arc<str>>,
    /// Names logged in by a command whose records wait for the commit (a new account's first
    /// login): a failed commit takes the login back, so whatever showed them then showed
    /// nobody. Cleared once the commit is decided.
    uncommitted: Vec<Arc<str>>,
    /// A listing or a lookup saw one of them: the command that made it depends on the commit
    /// (issue 8's rule, as for blocks, rooms and profiles).
    tainted: Cell<bool>,
}

impl Online {
    /// The session online as `user`, by its name or its account (exact spelling).
    pub fn get(&self, user: &str) -> Option<ConnId> {
        let found = self
            .by_name
            .get_key_value(user)
            .or_else(|| self.by_name.get_key_value(&**self.named.get(user)?));
        if let Some((name, _)) = found {
            self.saw(name);
        }
        found.map(|(_, c)| *c)
    }

    /// `user`'s login waits for the commit of the command that made it (its undo logs it out
    /// if the commit fails); until the commit is decided, what shows it depends on it.
    pub fn uncommitted(&mut self, user: &Arc<str>) {
        self.uncommitted.push(user.clone());
    }

    /// The commit of the logins so far is decided: they are what they are now.
    pub fn committed(&mut self) {
        self.uncommitted.clear();
    }

    /// Whether a listing or lookup since the last call saw an uncommitted login.
    pub fn take_tainted(&self) -> bool {
        self.tainted.replace(false)
    }

    /// `name` was shown or found: taint if its login is not committed yet.
    fn saw(&self, name: &str) {
        if self.uncommitted.iter().any(|n| **n == *name) {
            self.tainted.set(true);
        }
    }

    /// The online user spelled exactly `name` (its name, or the account it holds under it),
    /// as it spells its name.
    pub fn exact(&self, name: &str) -> Option<&Arc<str>> {
        self.find_exact(name).map(|(n, _)| n)
    }

    /// The account the user named `name` holds under it (issue 22); `None` for every other
    /// user, whose account, if any, is its name.
    pub fn account(&self, name: &str) -> Option<&Arc<str>> {
        self.accounts.get(name)
    }

    /// The online user called `name` under the casemapping, by its name or by the account it
    /// holds under another name, as it spelled its name; an exact spelling wins. The one
    /// resolution of a name to a session (issue 22).
    pub fn find(&self, name: &str) -> Option<(&Arc<str>, ConnId)> {
        self.find_exact(name).or_else(|| {
            let key = fold(name);
            self.find_exact(&key)
                .or_else(|| self.find_exact(self.folded.get(&key)?))
        })
    }

    /// [`Online::find`] for one exact spelling (of a name, or of an account).
    pub fn find_exact(&self, name: &str) -> Option<(&Arc<str>, ConnId)> {
        let name = self.named.get(name).map_or(name, |n| &**n);
        let found = self.by_name.get_key_value(name);
        if let Some((name, _)) = found {
            self.saw(name);
        }
        found.map(|(n, c)| (n, *c))
    }

    /// Whether `user` (a name or an account) is online.
    pub fn contains(&self, user: &str) -> bool {
        self.get(user).is_some()
    }

    /// The account whose blocks, mailbox and history the user named `name` uses: its account
    /// when it holds one under another name, else `name` itself.
    pub fn account_of<'a>(&'a self, name: &'a str) -> &'a str {
        self.accounts.get(name).map_or(name, |a| &**a)
    }

    /// The session online as `name` now also holds `account` (issue 22: an IRC client's SASL
    /// under a nick of its own); both names find it until it goes offline.
    pub fn attach(&mut self, name: &Arc<str>, account: Arc<str>) {
        let key = fold(&account);
        if *key != *account {
            self.folded.insert(key, account.clone());
        }
        self.named.insert(account.clone(), name.clone());
        self.accounts.insert(name.clone(), account);
    }

    /// Forget the account `name` held under it, if any.
    fn detach(&mut self, name: &str) {
        if let Some(account) = self.accounts.remove(name) {
            self.named.remove(&account);
            self.unfold(&account);
        }
    }

    /// How many are online (a count shows no name: it does not taint).
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Everyone online, in no order: a listing, so it taints while a login is uncommitted
    /// (whoever it leaves out afterwards).
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, ConnId)> {
        if !self.uncommitted.is_empty() {
            self.tainted.set(true);
        }
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
        self.detach(user);
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
        match self.accounts.get(&**user) {
            Some(account) => self.held.insert(user.clone(), account.clone()),
            None => self.held.remove(&**user),
        };
        self.detach(user);
        self.by_name.remove(&**user);
        self.unfold(user);
        if let Some(old) = self.last_logout.insert(user.clone(), now) {
            self.logouts.remove(&(old, user.clone()));
        }
        self.logouts.insert((now, user.clone()));
    }

    /// Users who logged out at or after `cutoff` (all, if `None`), most recent first, who are
    /// not online now (by their name, or by the account a session holds under another), each
    /// with the account it was logged in to when it left (its name, but for a held one).
    pub fn logged_out_since(
        &self,
        cutoff: Option<Instant>,
    ) -> impl Iterator<Item = (&Arc<str>, &str)> {
        let from = cutoff.map(|c| (c, Arc::<str>::from("")));
        let range = match &from {
            Some(f) => self.logouts.range(f.clone()..),
            None => self.logouts.range(..),
        };
        range
            .rev()
            .map(|(_, n)| (n, self.held.get(n).map_or(&**n, |a| &**a)))
            .filter(|(n, _)| !self.contains(n))
    }
}
