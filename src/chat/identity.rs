//! One identity rule (issue 17): a user is named under one casemapping everywhere
//! (`CASEMAPPING=ascii`, [`crate::valid::fold`]): logins, registration, guests, messages,
//! blocks, bans, WHOIS. The core resolves a typed name to the spelling the user was created
//! with once, where the name comes in; past that point every map is keyed by that spelling, so
//! exact comparison is identity. An exact spelling wins over a folded match, so two accounts
//! that differ only in case (possible in files written before the rule) both keep working.
//!
//! Issue 22: a name resolves to the session it reaches ([`Chat::known_user`] gives the name
//! the session is seen by, also when typed as the account it holds under another name), and
//! what belongs to an account (blocks, the mailbox, the guest-or-account question) goes
//! through [`Chat::is_account`] and [`Chat::has_blocked`], which map a name to its account.

use super::Chat;
use crate::event::Error;
use crate::session::ConnId;
use crate::valid::{Invalid, UserName};
use std::collections::BTreeSet;
use std::sync::Arc;

impl Chat {
    /// The user called `name` (an online user, guests included, or an account) as its name is
    /// spelled; `None` if there is none.
    pub(super) fn known_user(&self, name: &str) -> Option<Arc<str>> {
        // Exact spellings first, each one lookup, the name shared rather than copied: every
        // message pays for this (the durable row: three lookups, a case fold and an allocation
        // per message before). Online by its name or by the account it holds (issue 22).
        if let Some(n) = self.online.exact(name) {
            return Some(n.clone());
        }
        if let Some(n) = self.accounts.exact(name) {
            return Some(n.clone());
        }
        match self.online.find(name) {
            Some((n, _)) => Some(n.clone()),
            None => self.accounts.find(name).map(Arc::from),
        }
    }

    /// Whether the user named `name` is logged in to an account (not a guest).
    pub(super) fn is_account(&self, name: &str) -> bool {
        self.accounts.exists(self.online.account_of(name))
    }

    /// The account the user named `name` is logged in to; `None` for a guest.
    pub(super) fn account_name(&self, name: &str) -> Option<Arc<str>> {
        // Shared, not copied: every message's `Meta` carries it.
        let account = self.online.account(name).map_or(name, |a| &**a);
        self.accounts.exact(account).cloned()
    }

    /// The account of the user named `name` (itself, but for a session holding an account
    /// under another name).
    pub(super) fn account_of(&self, name: &str) -> Arc<str> {
        match self.online.account(name) {
            Some(account) => account.clone(),
            None => (self.accounts.exact(name).cloned()).unwrap_or_else(|| Arc::from(name)),
        }
    }

    /// Whether the user named `by` blocks the one named `user`, by their accounts.
    pub(super) fn has_blocked(&self, by: &str, user: &str) -> bool {
        let account = |n| self.online.account_of(n);
        self.blocks.has_blocked(account(by), account(user))
    }

    /// The accounts that block the user named `user`.
    pub(super) fn blockers(&self, user: &str) -> Option<&BTreeSet<String>> {
        self.blocks.blockers(self.online.account_of(user))
    }

    /// The accounts the user named `user` blocks.
    pub(super) fn blocked(&self, user: &str) -> Option<&BTreeSet<String>> {
        self.blocks.blocked(self.online.account_of(user))
    }

    /// `name` as the user it names spells it, or as typed when it names nobody (for errors
    /// that echo it).
    pub(super) fn spelled(&self, name: &str) -> Arc<str> {
        self.known_user(name).unwrap_or_else(|| Arc::from(name))
    }

    /// Whether `name`, under the casemapping, is an account or an online user already, or
    /// owns a room (a guest's, left open by others after the guest took another name or left).
    pub(super) fn name_taken(&self, name: &str) -> bool {
        self.online.find(name).is_some()
            || self.accounts.find(name).is_some()
            || self.rooms.has_owner(name)
    }

    /// The user an input names, answering `Error. Invalid user` when the name is malformed or
    /// nobody's.
    pub(super) fn addressee(&mut self, conn: ConnId, name: &str) -> Option<Arc<str>> {
        let found =
            UserName::new(name).and_then(|n| self.known_user(n.as_str()).ok_or(Invalid::UserName));
        self.valid(conn, found)
    }

    /// A checked value, or its refusal answered to `conn`.
    pub(super) fn valid<T>(&mut self, conn: ConnId, value: Result<T, Invalid>) -> Option<T> {
        match value {
            Ok(v) => Some(v),
            Err(e) => {
                self.outbox.error(conn, Error::from(e));
                None
            }
        }
    }
}
