//! Watching users come and go (issue 22, IRC `MONITOR`): each session's list of names (at most
//! [`MONITOR_LEN`], compared under the casemapping), and who watches each name, so a login or
//! logout tells exactly its watchers. Not durable: a list lives as long as its session.

use super::Chat;
use crate::event::{Error, Event};
use crate::input::MonitorInput;
use crate::session::ConnId;
use crate::valid::{fold, same_name, UserName, MONITOR_LEN};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct Watch {
    /// Each session's names, keyed by their folded form, as it typed them.
    lists: HashMap<ConnId, BTreeMap<String, Arc<str>>>,
    /// Who watches each folded name.
    watchers: HashMap<String, Vec<ConnId>>,
}

impl Watch {
    fn add(&mut self, conn: ConnId, name: &str) -> bool {
        let list = self.lists.entry(conn).or_default();
        let key = fold(name);
        if list.contains_key(&key) {
            return true;
        }
        if list.len() >= MONITOR_LEN {
            return false;
        }
        list.insert(key.clone(), Arc::from(name));
        self.watchers.entry(key).or_default().push(conn);
        true
    }

    fn remove(&mut self, conn: ConnId, name: &str) {
        let key = fold(name);
        if let Some(list) = self.lists.get_mut(&conn) {
            list.remove(&key);
        }
        if let Some(w) = self.watchers.get_mut(&key) {
            w.retain(|c| *c != conn);
            if w.is_empty() {
                self.watchers.remove(&key);
            }
        }
    }

    /// Drop `conn`'s list (it ended, or `MONITOR C`).
    pub fn forget(&mut self, conn: ConnId) {
        let names: Vec<String> = self
            .lists
            .remove(&conn)
            .map(|l| l.into_keys().collect())
            .unwrap_or_default();
        for key in names {
            self.remove(conn, &key);
        }
    }

    fn of(&self, name: &str) -> Vec<ConnId> {
        self.watchers.get(&fold(name)).cloned().unwrap_or_default()
    }

    fn list(&self, conn: ConnId) -> Vec<Arc<str>> {
        self.lists
            .get(&conn)
            .map(|l| l.values().cloned().collect())
            .unwrap_or_default()
    }
}

impl Chat {
    /// The sessions watching `user`.
    pub(super) fn watchers_of(&self, user: &str) -> Vec<ConnId> {
        self.watch.of(user)
    }

    /// `user` came online (`online`) or went: its watchers hear of it (those it blocked do
    /// not, as they get no presence lines about it).
    pub(super) fn watched(&mut self, user: &Arc<str>, online: bool) {
        let blocked = self.blocked(user).cloned();
        for conn in self.watch.of(user) {
            let viewer = self.user_of(conn);
            let viewer = viewer.map(|v| self.account_of(&v));
            if viewer.is_some_and(|v| blocked.as_ref().is_some_and(|b| b.contains(&*v))) {
                continue;
            }
            let users = vec![user.clone()];
            self.outbox.send(conn, Event::Monitor { online, users });
        }
    }

    /// `Input::Monitor`.
    pub(super) fn monitor(&mut self, conn: ConnId, me: &str, input: MonitorInput<'_>) {
        match input {
            MonitorInput::Add(names) => {
                let mut wanted: Vec<&str> = Vec::new();
                for &name in names {
                    if UserName::new(name).is_err() {
                        continue;
                    }
                    if !self.watch.add(conn, name) {
                        self.outbox.error(conn, Error::MonitorFull);
                        break;
                    }
                    wanted.push(name);
                }
                self.monitor_status(conn, me, &wanted);
            }
            MonitorInput::Remove(names) => {
                for name in names {
                    self.watch.remove(conn, name);
                }
            }
            MonitorInput::Clear => self.watch.forget(conn),
            MonitorInput::List => {
                let list = self.watch.list(conn);
                self.outbox.send(conn, Event::MonitorList(list));
            }
            MonitorInput::Status => {
                let list = self.watch.list(conn);
                let names: Vec<&str> = list.iter().map(|n| &**n).collect();
                self.monitor_status(conn, me, &names);
            }
        }
    }

    /// Who of `names` is online (as they spell their names) and who is not (as asked): a user
    /// who blocked `me` is not online for it.
    fn monitor_status(&mut self, conn: ConnId, me: &str, names: &[&str]) {
        let mut online = Vec::new();
        let mut offline = Vec::new();
        for name in names {
            match self.online.find(name).map(|(n, _)| n.clone()) {
                // Found by the account it holds under another name (issue 22): the watched
                // name, as typed, is what came online for this watcher.
                Some(n) if !self.has_blocked(&n, me) && !same_name(&n, name) => {
                    online.push(Arc::from(*name))
                }
                Some(n) if !self.has_blocked(&n, me) => online.push(n),
                _ => offline.push(Arc::from(*name)),
            }
        }
        for (online, users) in [(true, online), (false, offline)] {
            if !users.is_empty() {
                self.outbox.send(conn, Event::Monitor { online, users });
            }
        }
    }
}
