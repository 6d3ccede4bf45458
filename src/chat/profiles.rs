//! Profiles (PROTOCOL.md §5): five free-text attributes per account, durable as `profile`
//! records. An unset attribute is empty.

use super::cow_map::CowMap;
use super::frozen::Part;
use super::outbox::Undo as CoreUndo;
use super::Chat;
use crate::event::{Error, Event};
use crate::record::Record;
use crate::session::ConnId;
use crate::valid::{BoundedText, PROFILE_LEN};
use std::sync::Arc;

/// The settable attributes, in the order a profile is shown (after `username`).
pub const ATTRIBUTES: [&str; 5] = ["age", "birthday", "job", "phone_number", "self_description"];

/// The inverse of one attribute change: the value it had.
#[derive(Debug)]
pub struct Undo {
    user: String,
    index: usize,
    prev: String,
}

#[derive(Debug, Default)]
pub struct Profiles {
    /// Shared with a compaction's frozen state and copied on their first change after.
    by_user: CowMap<Values>,
    // Reliability (issue 8): no reply shows a profile change a failed commit undoes.
    /// Users whose profile a command changed since the last commit.
    uncommitted: Vec<String>,
    /// A lookup saw one of them: the command that made it depends on the commit.
    tainted: std::cell::Cell<bool>,
}

/// One user's attributes, in the order of [`ATTRIBUTES`].
pub type Values = [String; 5];

impl Profiles {
    fn set(&mut self, user: &str, index: usize, value: String) -> String {
        let values = self.by_user.get_or_default(user);
        std::mem::replace(&mut values[index], value)
    }

    /// `(key, value)` lines of `user`'s profile, `username` first.
    pub fn show(&self, user: &Arc<str>) -> Vec<(&'static str, Arc<str>)> {
        if self.uncommitted.iter().any(|u| **u == **user) {
            self.tainted.set(true);
        }
        let values = self.by_user.get(user);
        let mut out = vec![("username", user.clone())];
        for (i, key) in ATTRIBUTES.iter().enumerate() {
            out.push((key, Arc::from(values.map_or("", |v| v[i].as_str()))));
        }
        out
    }

    /// The commit of the changes so far is decided: they are what they are now.
    pub fn committed(&mut self) {
        self.uncommitted.clear();
    }

    /// Whether a lookup since the last call saw an uncommitted change.
    pub fn take_tainted(&self) -> bool {
        self.tainted.replace(false)
    }

    pub fn undo(&mut self, u: Undo) {
        self.set(&u.user, u.index, u.prev);
    }

    pub fn replay(&mut self, user: String, attribute: &str, value: String) {
        if let Some(i) = ATTRIBUTES.iter().position(|a| *a == attribute) {
            self.set(&user, i, value);
        }
    }

    /// Forget `user`'s profile (its account was deleted, issue 21).
    pub fn purge(&mut self, user: &str) {
        self.by_user.remove(user);
    }

    /// Every user's profile, as shared shards.
    pub fn freeze(&self, out: &mut Vec<Part>) {
        out.extend(self.by_user.freeze().into_iter().map(Part::Profiles));
    }
}

impl Chat {
    /// `whoami` (`user` = the caller) and `view-profile <user>`.
    pub(super) fn view_profile(&mut self, conn: ConnId, user: &str) {
        let Some(user) = self.addressee(conn, user) else {
            return;
        };
        let lines = self.profiles.show(&self.account_of(&user));
        self.outbox.send(conn, Event::Profile(lines));
    }

    /// A guest's profile would be durable under a name it gives up, for the next user of the
    /// name to inherit (and guests come and go without bound): refused.
    pub(super) fn set_profile(&mut self, conn: ConnId, user: &str, attribute: &str, value: &str) {
        if !self.is_account(user) {
            return self.outbox.error(conn, Error::AccountsOnly);
        }
        let user = &*self.account_of(user); // issue 22: the account's, whatever its name
        let Some(index) = ATTRIBUTES.iter().position(|a| *a == attribute) else {
            return self.outbox.error(conn, Error::InvalidAttribute);
        };
        let Some(value) = self.valid(conn, BoundedText::new(value, PROFILE_LEN)) else {
            return;
        };
        let value = value.as_str();
        let prev = self.profiles.set(user, index, value.to_string());
        let record = Record::Profile {
            user: user.to_string(),
            attribute: attribute.to_string(),
            value: value.to_string(),
        };
        let undo = Undo {
            user: user.to_string(),
            index,
            prev,
        };
        self.outbox.record(record, CoreUndo::Profiles(undo));
        self.profiles.uncommitted.push(user.to_string());
        self.outbox
            .send(conn, Event::AttributeSet(Arc::from(attribute)));
    }

    /// `list-user`: every account sorted, `online` unless offline or it has blocked `me` (who
    /// cannot see it online anywhere else either).
    pub(super) fn list_users(&mut self, conn: ConnId, me: &str) {
        let mut users: Vec<(Arc<str>, bool)> = self
            .accounts
            .credentials()
            .names()
            .map(|n| {
                let on = self.online.contains(n) && !self.has_blocked(n, me);
                (Arc::from(n), on)
            })
            .collect();
        users.sort_unstable();
        self.outbox.send(conn, Event::UserStates(users));
    }
}
