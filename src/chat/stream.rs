//! Paced output (issue 17, F14): a reply larger than the delivery budget (a quarter of
//! `--max-output`) — `history`, a long `list-user`, `NAMES` of a crowded room, a ban list, a
//! `LIST` — is cut into parts; the first leaves now and the rest wait here, a budget at a time,
//! each released when the connection has written what it was given
//! ([`Action::NotifyWhenFlushed`], the pacing offline delivery uses). So a client that reads
//! gets the whole answer however small `--max-output` is; only one that stops reading is cut.
//!
//! While a reply is held, everything else for that connection waits behind it, in order (the
//! codec's closing numerics, later replies, others' lines, a close after flush), and the loop
//! does not read the connection ([`super::Chat::holds_output`]). What waits behind is bounded
//! by `--max-output`: past it the client is not reading, and it is closed as a slow reader is.
//! Pacing happens as the loop takes the actions (after the commit decided every reply), so it
//! never meets a reply a failed commit will replace. An announcement (issue 20: presence lines
//! the loop hands every subscribed connection) skips a held connection and is held for it
//! behind the reply as a fan-out of one, like any other line.

use super::Action;
use crate::event::{Event, RoomEvent};
use crate::session::ConnId;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Rough bytes per list item beyond its text: an IRC numeric's prefix, number and nick.
const ITEM_OVERHEAD: usize = 48;

/// One connection's held output.
#[derive(Debug, Default)]
struct Held {
    /// In order: the parts of the long reply still owed, and what came after it, with each
    /// one's weight and whether it came after (counted against the bound) or is owed.
    queue: VecDeque<(Action, usize, bool)>,
    /// Bytes of what came after the long reply, still held.
    behind: usize,
}

/// Held output, by connection.
#[derive(Debug, Default)]
pub struct Streams {
    held: HashMap<ConnId, Held>,
    /// Actions released since the loop last took actions: they go before the new ones.
    released: Vec<Action>,
}

impl Streams {
    /// Whether output is held for `conn`.
    pub fn holds(&self, conn: ConnId) -> bool {
        self.held.contains_key(&conn)
    }

    pub fn forget(&mut self, conn: ConnId) {
        self.held.remove(&conn);
    }

    /// Pace this iteration's actions: released parts first, then the new ones, each long reply
    /// cut at `budget`, what follows a held reply held behind it (a connection holding more
    /// than `cap` behind is closed). `subscribed` says which connections get announcements
    /// now, after these actions.
    pub fn pace(
        &mut self,
        actions: &mut Vec<Action>,
        budget: usize,
        cap: usize,
        subscribed: impl Fn(ConnId) -> bool,
    ) {
        if self.held.is_empty()
            && self.released.is_empty()
            && !actions.iter().any(|a| long(a, budget))
        {
            return;
        }
        // Subscriptions that change in this batch, so an announcement is held for exactly the
        // connections subscribed when it was made.
        let toggles: Vec<(usize, ConnId, bool)> = actions
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match a {
                Action::Subscribe(c) => Some((i, *c, true)),
                Action::Unsubscribe(c) => Some((i, *c, false)),
                _ => None,
            })
            .collect();
        let subscribed_at = |conn: ConnId, i: usize| {
            toggles
                .iter()
                .find(|(at, c, _)| *at > i && *c == conn)
                .map_or_else(|| subscribed(conn), |(_, _, on)| !on)
        };
        let mut out = std::mem::take(&mut self.released);
        for (i, action) in actions.drain(..).enumerate() {
            match action {
                Action::Announce(shared, mut except) => {
                    let w = weight(&shared.event);
                    let held: Vec<ConnId> = self.held.keys().copied().collect();
                    for conn in held {
                        if !except.contains(&conn) && subscribed_at(conn, i) {
                            let one = Action::Share(Arc::clone(&shared), vec![conn]);
                            self.hold_behind(conn, one, w, cap, &mut out);
                            except.push(conn);
                        }
                    }
                    out.push(Action::Announce(shared, except));
                }
                Action::Send(conn, event) if self.held.contains_key(&conn) => {
                    let w = weight(&event);
                    self.hold_behind(conn, Action::Send(conn, event), w, cap, &mut out);
                }
                Action::Send(conn, event) if weight(&event) > budget => {
                    let mut parts = split(event, budget).into_iter();
                    if let Some(first) = parts.next() {
                        out.push(Action::Send(conn, first));
                    }
                    let queue: VecDeque<_> = parts
                        .map(|p| {
                            let w = weight(&p);
                            (Action::Send(conn, p), w, false)
                        })
                        .collect();
                    if !queue.is_empty() {
                        self.held.insert(conn, Held { queue, behind: 0 });
                        out.push(Action::NotifyWhenFlushed(conn));
                    }
                }
                Action::Share(shared, mut ids) => {
                    let w = weight(&shared.event);
                    let mut i = 0;
                    while i < ids.len() {
                        if self.held.contains_key(&ids[i]) {
                            let conn = ids.swap_remove(i);
                            let one = Action::Share(Arc::clone(&shared), vec![conn]);
                            self.hold_behind(conn, one, w, cap, &mut out);
                        } else {
                            i += 1;
                        }
                    }
                    if !ids.is_empty() {
                        out.push(Action::Share(shared, ids));
                    }
                }
                Action::Close(conn) => {
                    self.held.remove(&conn);
                    out.push(Action::Close(conn));
                }
                Action::CloseAfterFlush(conn)
                | Action::NotifyWhenFlushed(conn)
                | Action::WhenWritten(conn, _)
                    if self.held.contains_key(&conn) =>
                {
                    self.hold_behind(conn, action, 0, cap, &mut out);
                }
                other => out.push(other),
            }
        }
        *actions = out;
    }

    /// Hold `action` (of `w` bytes) behind `conn`'s long reply; past `cap` the connection is
    /// not reading and is closed.
    fn hold_behind(
        &mut self,
        conn: ConnId,
        action: Action,
        w: usize,
        cap: usize,
        out: &mut Vec<Action>,
    ) {
        let Some(h) = self.held.get_mut(&conn) else {
            return out.push(action);
        };
        h.behind += w;
        h.queue.push_back((action, w, true));
        if h.behind > cap {
            log::warn!("{conn:?} held output over {cap} bytes: disconnecting slow reader");
            self.held.remove(&conn);
            out.push(Action::Close(conn));
        }
    }

    /// `conn` wrote what it was given: release its next `budget` of held output. False if
    /// nothing was held for it.
    pub fn release(&mut self, conn: ConnId, budget: usize) -> bool {
        let Some(h) = self.held.get_mut(&conn) else {
            return false;
        };
        let mut given = 0;
        while let Some((action, w, behind)) = h.queue.pop_front() {
            if behind {
                h.behind -= w;
            }
            given += w;
            self.released.push(action);
            if given >= budget {
                break;
            }
        }
        if h.queue.is_empty() {
            self.held.remove(&conn);
        } else {
            self.released.push(Action::NotifyWhenFlushed(conn));
        }
        true
    }
}

/// Whether `action` is a reply long enough to be paced.
fn long(action: &Action, budget: usize) -> bool {
    matches!(action, Action::Send(_, e) if weight(e) > budget)
}

/// About how many bytes `event` renders to, on any wire.
fn weight(event: &Event) -> usize {
    let text = |s: &str| s.len() + ITEM_OVERHEAD;
    match event {
        Event::History(lines) => lines
            .iter()
            .map(|l| text(&l.text) + l.from.len() + l.to.as_ref().map_or(0, |t| t.len()) + 24)
            .sum(),
        Event::Users(names) => names.iter().map(|n| text(n)).sum(),
        Event::UserStates(users) => users.iter().map(|(n, _)| text(n)).sum(),
        Event::UserAddrs(users) => users.iter().map(|(n, _)| text(n) + 24).sum(),
        Event::Cards { cards, .. } => cards
            .iter()
            .map(|c| text(&c.name) + c.username.len() + c.realname.len() + c.host.len() + 32)
            .sum(),
        Event::Room(RoomEvent::List(rooms)) => rooms
            .iter()
            .map(|r| text(&r.room) + r.owner.len() + r.topic.len())
            .sum(),
        Event::Room(RoomEvent::AccessList { entries, .. }) => entries.iter().map(|e| text(e)).sum(),
        Event::Room(RoomEvent::Members { members, .. })
        | Event::Room(RoomEvent::Entered { members, .. }) => {
            members.iter().map(|m| m.name.len() + 2).sum::<usize>() + 4 * ITEM_OVERHEAD
        }
        Event::Chat { text: t, .. } => text(t),
        _ => ITEM_OVERHEAD * 2,
    }
}

/// `items` in runs of at most about `budget` bytes (at least one item each).
fn runs<T>(items: Vec<T>, budget: usize, w: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let mut out = vec![Vec::new()];
    let mut size = 0;
    for item in items {
        let n = w(&item);
        if size + n > budget && out.last().is_some_and(|r| !r.is_empty()) {
            out.push(Vec::new());
            size = 0;
        }
        size += n;
        if let Some(run) = out.last_mut() {
            run.push(item);
        }
    }
    out
}

/// `event` as parts of about `budget` bytes each, in order; an event that is not a list is one
/// part. A member list's parts but the last say more follows (IRC ends `NAMES` once).
fn split(event: Event, budget: usize) -> Vec<Event> {
    let item = |s: &str| s.len() + ITEM_OVERHEAD;
    match event {
        Event::History(lines) => runs(lines, budget, |l| item(&l.text) + 24)
            .into_iter()
            .map(Event::History)
            .collect(),
        Event::Users(names) => runs(names, budget, |n| item(n))
            .into_iter()
            .map(Event::Users)
            .collect(),
        Event::UserStates(users) => runs(users, budget, |(n, _)| item(n))
            .into_iter()
            .map(Event::UserStates)
            .collect(),
        Event::Cards { room, cards } => {
            runs(cards, budget, |c| item(&c.name) + c.realname.len() + 32)
                .into_iter()
                .map(|cards| Event::Cards {
                    room: room.clone(),
                    cards,
                })
                .collect()
        }
        Event::Room(RoomEvent::List(rooms)) => {
            runs(rooms, budget, |r| item(&r.room) + r.topic.len())
                .into_iter()
                .map(|r| Event::Room(RoomEvent::List(r)))
                .collect()
        }
        Event::Room(RoomEvent::AccessList {
            room,
            banned,
            entries,
        }) => runs(entries, budget, |e| item(e))
            .into_iter()
            .map(|entries| {
                let room = room.clone();
                Event::Room(RoomEvent::AccessList {
                    room,
                    banned,
                    entries,
                })
            })
            .collect(),
        Event::Room(RoomEvent::Members {
            room,
            secret,
            members,
            partial,
        }) => members_in_parts(room, secret, members, partial, budget),
        Event::Room(RoomEvent::Entered {
            room,
            user,
            topic,
            secret,
            members,
            partial,
        }) => {
            let mut parts = members_in_parts(room.clone(), secret, members, partial, budget);
            let first = match parts.first_mut() {
                Some(Event::Room(RoomEvent::Members {
                    members, partial, ..
                })) => (std::mem::take(members), *partial),
                _ => (Vec::new(), partial),
            };
            if let Some(p) = parts.first_mut() {
                *p = Event::Room(RoomEvent::Entered {
                    room,
                    user,
                    topic,
                    secret,
                    members: first.0,
                    partial: first.1,
                });
            }
            parts
        }
        other => vec![other],
    }
}

fn members_in_parts(
    room: Arc<str>,
    secret: bool,
    members: Vec<crate::event::Member>,
    partial: bool,
    budget: usize,
) -> Vec<Event> {
    let parts = runs(members, budget, |m| m.name.len() + 2);
    let last = parts.len().saturating_sub(1);
    parts
        .into_iter()
        .enumerate()
        .map(|(i, members)| {
            Event::Room(RoomEvent::Members {
                room: room.clone(),
                secret,
                members,
                partial: i < last || partial,
            })
        })
        .collect()
}
