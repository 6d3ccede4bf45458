//! One identity rule (issue 17): a user is named under one casemapping everywhere
//! (`CASEMAPPING=ascii`, [`crate::valid::fold`]): logins, registration, guests, messages,
//! blocks, bans, WHOIS. The core resolves a typed name to the spelling the user was created
//! with once, where the name comes in; past that point every map is keyed by that spelling, so
//! exact comparison is identity. An exact spelling wins over a folded match, so two accounts
//! that differ only in case (possible in files written before the rule) both keep working.

use super::Chat;
use crate::event::Error;
use crate::session::ConnId;
use crate::valid::{Invalid, UserName};
use std::sync::Arc;

impl Chat {
    /// The user called `name` (an online user, guests included, or an account) as its name is
    /// spelled; `None` if there is none.
    pub(super) fn known_user(&self, name: &str) -> Option<Arc<str>> {
        // Exact spellings first, each one lookup, the name shared rather than copied: every
        // message pays for this (the durable row: three lookups, a case fold and an allocation
        // per message before).
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

    /// `name` as the user it names spells it, or as typed when it names nobody (for errors
    /// that echo it).
    pub(super) fn spelled(&self, name: &str) -> Arc<str> {
        self.known_user(name).unwrap_or_else(|| Arc::from(name))
    }

    /// Whether `name`, under the casemapping, is an account or an online user already.
    pub(super) fn name_taken(&self, name: &str) -> bool {
        self.online.find(name).is_some() || self.accounts.find(name).is_some()
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
