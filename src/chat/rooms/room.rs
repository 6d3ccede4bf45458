//! One room: its owner and every setting (private, secret, topic lock, members only, key,
//! operators, voice, name bans and permits, ban masks, topic, creation time, guest origin) and
//! who is in it, with the rules that read them (who moderates, what a list holds) and how one
//! setting is applied and undone. The collection, its indexes and records are in `state.rs`.

use crate::event::{Member, Topic};
use crate::record::{Access, RoomSetting};
use crate::session::ConnId;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Room {
    pub owner: Arc<str>,
    /// Opened by a guest: it closes once it is empty and its owner has left.
    pub guest: bool,
    /// When it was opened (Unix seconds; 0 for rooms from files that did not say).
    pub created_s: u64,
    /// `+i`: only the owner, operators and permitted users enter.
    pub private: bool,
    /// `+s`: hidden from non-members (listings, names, topic, settings, WHOIS).
    pub secret: bool,
    /// `+t`: only operators set the topic.
    pub topic_lock: bool,
    /// `+n`: only members speak (room chat is always members only; shown for IRC clients).
    pub no_outside: bool,
    pub key: Option<Arc<str>>,
    pub topic: Option<Topic>,
    /// Each listed user's standing; the blacklist and whitelist are disjoint by construction.
    pub access: BTreeMap<Arc<str>, Access>,
    /// Ban masks (`nick!user@host` with wildcards).
    pub masks: BTreeSet<Arc<str>>,
    /// Operators besides the owner.
    pub ops: BTreeSet<Arc<str>>,
    pub voiced: BTreeSet<Arc<str>>,
    /// Who is in the room now, by name, with the connection each is on: room fan-out then
    /// needs no lookup per recipient (it costs what a broadcast costs).
    pub members: BTreeMap<Arc<str>, ConnId>,
    // Issue 22.
    /// `+l`: at most this many members.
    pub limit: Option<u32>,
    /// `+m`: only operators and voiced members speak.
    pub moderated: bool,
    /// Invited users (IRC `INVITE`): each may enter once whatever `+i`, `+k` and `+l` say.
    /// Not durable, like membership; bounded by `--max-list`.
    pub invited: BTreeSet<Arc<str>>,
}

/// Whether a user may chat to a room, and why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speech {
    Allowed,
    /// Not a member, and the room takes no outside messages (`+n`).
    Outside,
    /// `+m`, and neither an operator nor voiced.
    Moderated,
}

impl Room {
    pub(super) fn new(owner: Arc<str>, private: bool) -> Room {
        Room {
            owner,
            guest: false,
            created_s: 0,
            private,
            secret: false,
            topic_lock: true,
            no_outside: true,
            key: None,
            topic: None,
            access: BTreeMap::new(),
            masks: BTreeSet::new(),
            ops: BTreeSet::new(),
            voiced: BTreeSet::new(),
            members: BTreeMap::new(),
            limit: None,
            moderated: false,
            invited: BTreeSet::new(),
        }
    }

    /// The owner or an operator: moderates the room and enters it whatever its settings.
    pub fn is_op(&self, user: &str) -> bool {
        *self.owner == *user || self.ops.contains(user)
    }

    /// The blacklist (`banned`: names, then masks) or the whitelist, sorted.
    pub fn list(&self, banned: bool) -> Vec<Arc<str>> {
        let want = if banned {
            Access::Banned
        } else {
            Access::Permitted
        };
        let names = self.access.iter().filter(|(_, a)| **a == want);
        let mut out: Vec<Arc<str>> = names.map(|(u, _)| u.clone()).collect();
        if banned {
            out.extend(self.masks.iter().cloned());
        }
        out
    }

    /// Entries of the list a setting or a standing belongs to: bans (names and masks),
    /// permits, operators, voice; `--max-list` bounds each.
    pub fn list_len(&self, list: List) -> usize {
        let count = |a| self.access.values().filter(|v| **v == a).count();
        match list {
            List::Bans => count(Access::Banned) + self.masks.len(),
            List::Permits => count(Access::Permitted),
            List::Ops => self.ops.len(),
            List::Voiced => self.voiced.len(),
        }
    }

    /// The members in name order, with their standing.
    pub fn member_list(&self) -> Vec<Member> {
        self.members
            .keys()
            .map(|m| Member {
                name: m.clone(),
                owner: *self.owner == **m,
                op: self.is_op(m),
                voice: self.voiced.contains(m),
            })
            .collect()
    }

    /// Whether `user` may speak here: anyone but `+m` and `+n` say otherwise.
    pub fn may_speak(&self, user: &str) -> Speech {
        if !self.members.contains_key(user) && self.no_outside {
            Speech::Outside
        } else if self.moderated && !self.is_op(user) && !self.voiced.contains(user) {
            Speech::Moderated
        } else {
            Speech::Allowed
        }
    }

    /// The flag letters IRC shows (`i`, `k`, `l`, `m`, `n`, `s`, `t`).
    pub fn flags(&self) -> String {
        let flags = [
            (self.private, 'i'),
            (self.key.is_some(), 'k'),
            (self.limit.is_some(), 'l'),
            (self.moderated, 'm'),
            (self.no_outside, 'n'),
            (self.secret, 's'),
            (self.topic_lock, 't'),
        ];
        flags
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, c)| *c)
            .collect()
    }

    /// Set `setting`; returns the setting that undoes it, or `None` if nothing changed.
    pub(super) fn apply(&mut self, setting: &RoomSetting) -> Option<RoomSetting> {
        let flip = |f: &mut bool, on: bool| (std::mem::replace(f, on) != on).then_some(!on);
        let set = |s: &mut BTreeSet<Arc<str>>, v: &str, on: bool| {
            let changed = if on {
                s.insert(Arc::from(v))
            } else {
                s.remove(v)
            };
            changed.then_some(!on)
        };
        Some(match setting {
            RoomSetting::Origin { created_s, guest } => {
                let before = RoomSetting::Origin {
                    created_s: self.created_s,
                    guest: self.guest,
                };
                (self.created_s, self.guest) = (*created_s, *guest);
                before
            }
            RoomSetting::Secret(on) => RoomSetting::Secret(flip(&mut self.secret, *on)?),
            RoomSetting::TopicLock(on) => RoomSetting::TopicLock(flip(&mut self.topic_lock, *on)?),
            RoomSetting::NoOutside(on) => RoomSetting::NoOutside(flip(&mut self.no_outside, *on)?),
            RoomSetting::Key(key) => {
                let new = key.as_deref().map(Arc::from);
                if self.key == new {
                    return None;
                }
                let old = std::mem::replace(&mut self.key, new);
                RoomSetting::Key(old.map(|k| k.to_string()))
            }
            RoomSetting::Op { user, on } => RoomSetting::Op {
                on: set(&mut self.ops, user, *on)?,
                user: user.clone(),
            },
            RoomSetting::Voice { user, on } => RoomSetting::Voice {
                on: set(&mut self.voiced, user, *on)?,
                user: user.clone(),
            },
            RoomSetting::Mask { mask, on } => RoomSetting::Mask {
                on: set(&mut self.masks, mask, *on)?,
                mask: mask.clone(),
            },
            RoomSetting::Limit(limit) => {
                if self.limit == *limit {
                    return None;
                }
                RoomSetting::Limit(std::mem::replace(&mut self.limit, *limit))
            }
            RoomSetting::Moderated(on) => RoomSetting::Moderated(flip(&mut self.moderated, *on)?),
        })
    }

    /// The settings as `room-set` records, defaults left out.
    pub(super) fn settings(&self) -> Vec<RoomSetting> {
        let mut out = vec![RoomSetting::Origin {
            created_s: self.created_s,
            guest: self.guest,
        }];
        for (on, default, setting) in [
            (self.secret, false, RoomSetting::Secret(self.secret)),
            (
                self.topic_lock,
                true,
                RoomSetting::TopicLock(self.topic_lock),
            ),
            (
                self.no_outside,
                true,
                RoomSetting::NoOutside(self.no_outside),
            ),
        ] {
            if on != default {
                out.push(setting);
            }
        }
        if let Some(k) = &self.key {
            out.push(RoomSetting::Key(Some(k.to_string())));
        }
        if self.limit.is_some() {
            out.push(RoomSetting::Limit(self.limit));
        }
        if self.moderated {
            out.push(RoomSetting::Moderated(true));
        }
        let named = |s: &BTreeSet<Arc<str>>| s.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        out.extend(
            named(&self.ops)
                .into_iter()
                .map(|user| RoomSetting::Op { user, on: true }),
        );
        out.extend(
            named(&self.voiced)
                .into_iter()
                .map(|user| RoomSetting::Voice { user, on: true }),
        );
        out.extend(
            named(&self.masks)
                .into_iter()
                .map(|mask| RoomSetting::Mask { mask, on: true }),
        );
        out
    }
}

/// The lists `--max-list` bounds, per room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    Bans,
    Permits,
    Ops,
    Voiced,
}
