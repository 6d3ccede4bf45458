//! Private sessions and peer-to-peer (PROTOCOL.md §4): consent requests that expire after 60 s,
//! accepted sessions between pairs of users, the relay of `private` lines, each connection's
//! peer-to-peer port and the tokens that let two `chatclient`s link directly. Not durable:
//! requests and sessions end with the server (and with either user's login).
//!
//! Everything is keyed by user pairs and tied to the connections it was made on by generational
//! [`ConnId`]s, so nothing can land on a later connection in a reused slot.
//!
//! Every change of that state is a [`Change`]: a single node applies it at once; a cluster node
//! (issue 23) writes it to the stream and applies it when the stream brings it back, so the
//! nodes of both users hold the same requests and sessions (a request made on one node is
//! answered on another).

use super::timers::PrivateRequestKey;
use super::{Chat, TimerKey, ToSelf};
use crate::event::{Audience, Error, Event, PrivateEvent};
use crate::session::ConnId;
use crate::time::Now;
use crate::valid::{MessageText, PeerKey};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a request waits for `y`/`n` (PROTOCOL.md §4).
pub const REQUEST_TTL: Duration = Duration::from_secs(60);

/// Session tokens: SHA-256 used as a PRF in counter mode, keyed by 256 bits from the OS. Without
/// the key no output (past or future) can be predicted from the others, the counter never
/// repeats within a run, and every run has a fresh key, so each token is a fresh unguessable
/// 128-bit value. The key is derived from the core's OS seed under its own label, so it is
/// independent of the password-salt stream (`SaltSource`), whose outputs are stored on disk.
#[derive(Debug)]
struct TokenSource {
    key: [u8; 32],
    counter: u64,
}

impl TokenSource {
    fn new(seed: [u8; 32]) -> TokenSource {
        let key = Sha256::new()
            .chain_update(b"chatserver p2p session token key\0")
            .chain_update(seed)
            .finalize();
        TokenSource {
            key: key.into(),
            counter: 0,
        }
    }

    /// 128 bits as 32 lowercase hex characters.
    fn next(&mut self) -> Arc<str> {
        self.counter += 1;
        let d = Sha256::new()
            .chain_update(self.key)
            .chain_update(self.counter.to_le_bytes())
            .finalize();
        Arc::from(hex::encode(&d[..16]))
    }
}

/// One change of the private-session state, named by users (each node finds their
/// connections, its own or ghosts, when it applies it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// `from` asks `to` (asking again updates `address` and keeps the deadline).
    Ask {
        from: Arc<str>,
        to: Arc<str>,
        address: bool,
    },
    /// `to` accepted `from`'s request: requests both ways answered, a session both ways.
    Open { from: Arc<str>, to: Arc<str> },
    /// `from`'s request to `to` declined, or expired.
    Drop { from: Arc<str>, to: Arc<str> },
    /// The session between `user` and `peer` stopped.
    Stop { user: Arc<str>, peer: Arc<str> },
    /// `user`'s client listens for peers on `port` (for this login), over TLS with the key
    /// whose fingerprint is `key` if there is one (PROTOCOL.md §4a).
    Port {
        user: Arc<str>,
        port: u16,
        key: Option<Arc<str>>,
    },
}

/// A request waiting for consent.
#[derive(Debug)]
struct Request {
    from_conn: ConnId,
    to_conn: ConnId,
    /// `getaddress`: the requester is shown the address instead of the machine line.
    address: bool,
    /// Tells this request from an earlier one of the same pair when its wheel hint fires.
    serial: u64,
    deadline: Instant,
}

/// Where a client takes peer-to-peer links (`p2p-port <port> [key]`).
#[derive(Debug)]
struct Listening {
    port: u16,
    /// The fingerprint of the client's TLS key: its links are TLS, and the requester pins this.
    key: Option<Arc<str>>,
}

#[derive(Debug)]
pub struct Private {
    /// Pending requests by (requester, asked user).
    requests: BTreeMap<(Arc<str>, Arc<str>), Request>,
    /// The same keys reversed, (asked user, requester): whom a leaving user was asked by.
    asked: BTreeSet<(Arc<str>, Arc<str>)>,
    /// Accepted sessions, both ways: (user, peer) → the connections of (user, peer).
    sessions: BTreeMap<(Arc<str>, Arc<str>), (ConnId, ConnId)>,
    /// Peer-to-peer listeners registered with `p2p-port`, for the login they were sent in.
    ports: HashMap<ConnId, Listening>,
    tokens: TokenSource,
    serial: u64,
}

/// Keys of `map` whose first user is `user`.
fn keys_of<V>(map: &BTreeMap<(Arc<str>, Arc<str>), V>, user: &str) -> Vec<Arc<str>> {
    let from = (Arc::<str>::from(user), Arc::<str>::from(""));
    map.range(from..)
        .take_while(|((a, _), _)| &**a == user)
        .map(|((_, b), _)| b.clone())
        .collect()
}

fn pair(a: &str, b: &str) -> (Arc<str>, Arc<str>) {
    (Arc::from(a), Arc::from(b))
}

impl Private {
    pub fn new(seed: [u8; 32]) -> Private {
        Private {
            requests: BTreeMap::new(),
            asked: BTreeSet::new(),
            sessions: BTreeMap::new(),
            ports: HashMap::new(),
            tokens: TokenSource::new(seed),
            serial: 0,
        }
    }

    fn take_request(&mut self, from: &str, to: &str) -> Option<Request> {
        let key = pair(from, to);
        let r = self.requests.remove(&key)?;
        self.asked.remove(&(key.1, key.0));
        Some(r)
    }

    #[cfg(feature = "cluster")]
    /// Whether `from` has a request waiting for `to`'s answer.
    pub fn requested(&self, from: &str, to: &str) -> bool {
        self.requests.contains_key(&pair(from, to))
    }

    #[cfg(feature = "cluster")]
    /// Whether `user` and `peer` have a session.
    pub fn in_session(&self, user: &str, peer: &str) -> bool {
        self.sessions.contains_key(&pair(user, peer))
    }

    #[cfg(feature = "cluster")]
    /// Every request, session (once per pair) and port as the changes that make them, for a
    /// cluster snapshot.
    pub fn changes(&self, online: impl Fn(ConnId) -> Option<Arc<str>>) -> Vec<Change> {
        let mut out: Vec<Change> = self
            .requests
            .iter()
            .map(|((from, to), r)| Change::Ask {
                from: from.clone(),
                to: to.clone(),
                address: r.address,
            })
            .collect();
        out.extend(
            self.sessions
                .keys()
                .filter(|(a, b)| a < b)
                .map(|(a, b)| Change::Open {
                    from: a.clone(),
                    to: b.clone(),
                }),
        );
        out.extend(self.ports.iter().filter_map(|(conn, listening)| {
            Some(Change::Port {
                user: online(*conn)?,
                port: listening.port,
                key: listening.key.clone(),
            })
        }));
        out
    }

    /// The peer's connection if `me` (on `conn`) has a session with `peer`.
    fn session(&self, me: &str, conn: ConnId, peer: &str) -> Option<ConnId> {
        self.sessions
            .get(&pair(me, peer))
            .filter(|(mine, _)| *mine == conn)
            .map(|&(_, theirs)| theirs)
    }

    fn end_session(&mut self, a: &str, b: &str) -> Option<(ConnId, ConnId)> {
        self.sessions.remove(&pair(b, a));
        self.sessions.remove(&pair(a, b))
    }

    /// A connection is gone: forget its port (normally gone with its login already).
    pub fn forget(&mut self, conn: ConnId) {
        self.ports.remove(&conn);
    }

    /// Pending requests and sessions (tests).
    #[cfg(test)]
    pub fn len(&self) -> (usize, usize) {
        (self.requests.len(), self.sessions.len() / 2)
    }
}

impl Chat {
    /// `startprivate <user>` / `getaddress <user>`: the refusals of `message`, then offline.
    pub(super) fn start_private(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        user: &str,
        address: bool,
        now: Now,
    ) {
        let Some(user) = self.may_address(conn, me, user, ToSelf::Refused) else {
            return;
        };
        let user = &*user;
        let Some(to_conn) = self.online.get(user) else {
            return self.outbox.error(conn, Error::Offline(Arc::from(user)));
        };
        if address && self.peer_address(to_conn).is_none() {
            return self
                .outbox
                .error(conn, Error::NoPeerAddress(Arc::from(user)));
        }
        let (from, to) = pair(me, user);
        let ask = Change::Ask {
            from: from.clone(),
            to: to.clone(),
            address,
        };
        self.change_private(ask, now);
        self.outbox
            .send(to_conn, Event::Private(PrivateEvent::Asked(from)));
        self.outbox
            .send(conn, Event::Private(PrivateEvent::RequestSent(to)));
    }

    /// Make `change`: now on a single node; in cluster mode once the stream has it.
    fn change_private(&mut self, change: Change, now: Now) {
        if !self.defer_private(&change) {
            self.apply_private(change, now);
        }
    }

    /// Apply `change` to the state (each user's connection as this node knows it: its own, or
    /// a ghost for a user on another node). A change about a user no longer online, or a
    /// request no longer waiting, changes nothing.
    pub(super) fn apply_private(&mut self, change: Change, now: Now) {
        match change {
            Change::Ask { from, to, address } => {
                let (Some(from_conn), Some(to_conn)) =
                    (self.online.get(&from), self.online.get(&to))
                else {
                    return;
                };
                let p = &mut self.private;
                if let Some(r) = p.requests.get_mut(&(from.clone(), to.clone())) {
                    // Asking again asks again but keeps the deadline, so the wheel holds one
                    // hint per pending request however often it is repeated.
                    r.address = address;
                    return;
                }
                p.serial += 1;
                let deadline = now.mono + REQUEST_TTL;
                let request = Request {
                    from_conn,
                    to_conn,
                    address,
                    serial: p.serial,
                    deadline,
                };
                p.requests.insert((from.clone(), to.clone()), request);
                p.asked.insert((to.clone(), from.clone()));
                let key = TimerKey::PrivateRequest(Box::new(PrivateRequestKey {
                    from,
                    to,
                    serial: p.serial,
                }));
                self.timers.schedule(deadline, key);
            }
            Change::Open { from, to } => {
                let Some(r) = self.private.take_request(&from, &to) else {
                    return;
                };
                // Accepting answers the other direction's request too.
                self.private.take_request(&to, &from);
                let p = &mut self.private;
                p.sessions
                    .insert((from.clone(), to.clone()), (r.from_conn, r.to_conn));
                p.sessions.insert((to, from), (r.to_conn, r.from_conn));
            }
            Change::Drop { from, to } => {
                self.private.take_request(&from, &to);
            }
            Change::Stop { user, peer } => {
                self.private.end_session(&user, &peer);
            }
            Change::Port { user, port, key } => {
                if let Some(conn) = self.online.get(&user) {
                    self.private.ports.insert(conn, Listening { port, key });
                }
            }
        }
    }

    /// Where `conn`'s client listens for peers: the address the server sees it at and the port
    /// it registered.
    fn peer_address(&self, conn: ConnId) -> Option<(IpAddr, u16, Option<Arc<str>>)> {
        let listening = self.private.ports.get(&conn)?;
        let ip = self.sessions.get(&conn)?.peer()?.ip().to_canonical();
        Some((ip, listening.port, listening.key.clone()))
    }

    /// `y <from>` / `n <from>` answered by `me` on `conn`.
    pub(super) fn consent(&mut self, conn: ConnId, me: &Arc<str>, from: &str, yes: bool, now: Now) {
        let from = &*self.spelled(from);
        let from_online = self.online.get(from);
        let request = match self.private.requests.get(&pair(from, me)) {
            Some(r) if r.to_conn == conn && from_online == Some(r.from_conn) => r,
            _ => {
                return self
                    .outbox
                    .error(conn, Error::NoPrivateRequest(Arc::from(from)))
            }
        };
        let (from, from_conn, address) =
            (Arc::<str>::from(from), request.from_conn, request.address);
        if !yes {
            log::info!(
                "{} declined a private session with {from}",
                self.log_name(conn)
            );
            let drop = Change::Drop {
                from: from.clone(),
                to: me.clone(),
            };
            self.change_private(drop, now);
            let declined = PrivateEvent::Declined(me.clone());
            return self.outbox.send(from_conn, Event::Private(declined));
        }
        let open = Change::Open {
            from: from.clone(),
            to: me.clone(),
        };
        self.change_private(open, now);
        log::info!(
            "{} accepted a private session with {from}",
            self.log_name(conn)
        );
        let started = |user: &Arc<str>| Event::Private(PrivateEvent::Started(user.clone()));
        self.outbox.send(conn, started(&from));
        let peer = self.peer_address(conn);
        if address {
            self.outbox.send(from_conn, started(me));
            if let Some((ip, port, _)) = peer {
                let user = me.clone();
                let shown = PrivateEvent::Address { user, ip, port };
                self.outbox.send(from_conn, Event::Private(shown));
            }
            return;
        }
        let Some((ip, port, key)) = peer else {
            return self.outbox.send(from_conn, started(me));
        };
        // The acceptor's client learns the token first, so it is ready when the requester dials.
        let token = self.private.tokens.next();
        let expect = PrivateEvent::Expect {
            user: from.clone(),
            token: token.clone(),
        };
        self.outbox.send(conn, Event::Private(expect));
        self.outbox.send(from_conn, started(me));
        let dial = PrivateEvent::Dial {
            user: me.clone(),
            ip,
            port,
            token,
            key,
        };
        self.outbox.send(from_conn, Event::Private(dial));
    }

    /// `private <to> <text>`: relayed inside an accepted session only.
    pub(super) fn private_message(
        &mut self,
        conn: ConnId,
        me: &Arc<str>,
        to: &str,
        text: MessageText<'_>,
    ) {
        let to = &*self.spelled(to);
        let text = text.as_str();
        let Some(peer) = self.private.session(me, conn, to) else {
            return self
                .outbox
                .error(conn, Error::PrivateNotEnabled(Arc::from(to)));
        };
        if self.has_blocked(to, me) {
            return self.outbox.error(conn, Error::BlockedByRecipient);
        }
        // Relays are not kept and carry no id (issue 22): only line clients have sessions.
        let meta = crate::event::Meta::say(crate::event::Stamp::default(), self.account_name(me));
        let event = Event::Chat {
            from: me.clone(),
            to: Audience::Private(Arc::from(to)),
            text: Arc::from(text),
            meta,
        };
        self.tally.count(super::operator::MessageKind::Private);
        self.outbox.send(peer, event);
    }

    /// `stopprivate <user>`: both sides are told.
    pub(super) fn stop_private(&mut self, conn: ConnId, me: &Arc<str>, user: &str, now: Now) {
        let user = &*self.spelled(user);
        let Some(peer) = self.private.session(me, conn, user) else {
            return self
                .outbox
                .error(conn, Error::NoPrivateSession(Arc::from(user)));
        };
        let user: Arc<str> = Arc::from(user);
        let stop = Change::Stop {
            user: me.clone(),
            peer: user.clone(),
        };
        self.change_private(stop, now);
        let stopped = |u: Arc<str>| Event::Private(PrivateEvent::Stopped(u));
        self.outbox.send(conn, stopped(user));
        self.outbox.send(peer, stopped(me.clone()));
    }

    /// `p2p-port <port> [key]`: silent on success; a bad port or key registers nothing.
    pub(super) fn p2p_port(
        &mut self,
        me: &Arc<str>,
        conn: ConnId,
        port: Option<u16>,
        key: Option<&str>,
        now: Now,
    ) {
        let Some(port) = port else {
            return self.outbox.error(conn, Error::InvalidPort);
        };
        let key = match key.map(PeerKey::new).transpose() {
            Ok(key) => key.map(|k| Arc::from(k.as_str())),
            Err(invalid) => return self.outbox.error(conn, invalid.into()),
        };
        let user = me.clone();
        self.change_private(Change::Port { user, port, key }, now);
    }

    /// `user` is leaving (logout, exit, inactivity, heartbeat loss, disconnect, a replacing
    /// login, a console kick): end all of its sessions, telling each peer; drop the requests it
    /// made (the asked users are not told: answering gets the no-request error) and the requests
    /// made to it (each requester is told it expired: no answer will come); forget its port.
    pub(super) fn end_private(&mut self, user: &str) {
        if let Some(conn) = self.online.get(user) {
            self.private.ports.remove(&conn);
        }
        let leaver: Arc<str> = Arc::from(user);
        for peer in keys_of(&self.private.sessions, user) {
            if let Some((_, peer_conn)) = self.private.end_session(user, &peer) {
                let stopped = PrivateEvent::Stopped(leaver.clone());
                self.outbox.send(peer_conn, Event::Private(stopped));
            }
        }
        for to in keys_of(&self.private.requests, user) {
            self.private.take_request(user, &to);
        }
        let askers: Vec<Arc<str>> = self
            .private
            .asked
            .range((leaver.clone(), Arc::from(""))..)
            .take_while(|(to, _)| &**to == user)
            .map(|(_, from)| from.clone())
            .collect();
        for from in askers {
            if let Some(r) = self.private.take_request(&from, user) {
                let expired = PrivateEvent::Expired(leaver.clone());
                self.outbox.send(r.from_conn, Event::Private(expired));
            }
        }
    }

    /// A request's wheel hint fired: expire it if it is still the same, unanswered request.
    pub(super) fn private_request_timer(&mut self, from: &str, to: &str, serial: u64, now: Now) {
        let due = self
            .private
            .requests
            .get(&pair(from, to))
            .is_some_and(|r| r.serial == serial && r.deadline <= now.mono);
        if !due {
            return;
        }
        let Some(from_conn) = self
            .private
            .requests
            .get(&pair(from, to))
            .map(|r| r.from_conn)
        else {
            return;
        };
        if from_conn.is_ghost() {
            return; // Cluster mode: the requester's node expires it, for every node.
        }
        log::info!("{from_conn:?} private session request {from} -> {to} expired");
        let expired = Event::Private(PrivateEvent::Expired(Arc::from(to)));
        let drop = Change::Drop {
            from: Arc::from(from),
            to: Arc::from(to),
        };
        if !self.defer_expiry(&drop, from_conn, &expired) {
            self.apply_private(drop, now);
            self.outbox.send(from_conn, expired);
        }
    }
}
