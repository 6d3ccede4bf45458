//! Who is who (IRC front-end, issue 12): guest sessions, a session's self-description
//! (username and real name), its away message and invisibility, and the `Whois`/`Who` lookups
//! over them. Plain data, not durable (it lives as long as the session); line users have no
//! entry and show their name as username and real name.

use super::{Action, Chat};
use crate::event::{Card, Error, Event, Shared};
use crate::session::ConnId;
use crate::time::Now;
use crate::valid::{reason, same_name, UserName};
use std::collections::HashMap;
use std::sync::Arc;

/// What a session said about itself. Every IRC session has one, idle or not, so what few
/// sessions say is boxed apart (`Rare`) and its two names share one block: an entry is 32
/// bytes, not 88, plus one heap block, not two (issue 22's idle memory;
/// `tests::info_stays_small`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// The username (`names[..user_len]`; empty when no valid one was given), then the real
    /// name, in one block: both live as long as the session, and every IRC session gives
    /// them (`USER`, `SETNAME`). `None` when neither was given. A `Box`, not an `Arc`: they
    /// are read rarely (`WHOIS`, `JOIN`), and a reference count costs 16 bytes of the block.
    names: Option<Box<str>>,
    user_len: u16,
    /// A real name was given (it may be empty).
    has_realname: bool,
    invisible: bool,
    oper: bool,
    /// Receives `WALLOPS` (IRC user mode `+w`).
    wallops: bool,
    rare: Option<Box<Rare>>,
}

/// What only some sessions say, some of the time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Rare {
    away: Option<Arc<str>>,
    /// Set by `Quit`: the word others see when this session leaves.
    quit: Option<Arc<str>>,
    /// The account `Input::Authenticate` proved (issue 22), logged in to at `Input::Enter`.
    proved: Option<Arc<str>>,
}

impl Info {
    /// Set the username (`None`: none valid) and the real name (`None`: not given).
    fn set_names(&mut self, username: Option<&str>, realname: Option<&str>) {
        let username = username
            .filter(|u| u16::try_from(u.len()).is_ok())
            .unwrap_or("");
        self.names = match username.is_empty() && realname.is_none() {
            true => None,
            false => Some(Box::from(format!("{username}{}", realname.unwrap_or("")))),
        };
        self.user_len = u16::try_from(username.len()).unwrap_or(0);
        self.has_realname = realname.is_some();
    }

    fn username(&self) -> Option<&str> {
        let names = self.names.as_deref()?;
        names
            .get(..usize::from(self.user_len))
            .filter(|u| !u.is_empty())
    }

    fn realname(&self) -> Option<&str> {
        let names = self.names.as_deref()?;
        names
            .get(usize::from(self.user_len)..)
            .filter(|_| self.has_realname)
    }

    fn away(&self) -> Option<Arc<str>> {
        self.rare.as_ref().and_then(|r| r.away.clone())
    }

    /// Why it is leaving, for the `user-info` record that tells the other nodes.
    #[cfg(feature = "cluster")]
    fn quit(&self) -> Option<Arc<str>> {
        self.rare.as_ref().and_then(|r| r.quit.clone())
    }

    fn proved(&self) -> Option<Arc<str>> {
        self.rare.as_ref().and_then(|r| r.proved.clone())
    }

    fn rare(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Set or clear the away message (a cleared one frees the box when nothing else is in it).
    fn set_away(&mut self, away: Option<Arc<str>>) {
        self.rare().away = away;
        if self.rare.as_deref() == Some(&Rare::default()) {
            self.rare = None;
        }
    }
}

/// Self-descriptions by connection; only sessions that gave one have an entry.
#[derive(Debug, Default)]
pub struct Directory {
    by_conn: HashMap<ConnId, Info>,
}

impl Directory {
    fn entry(&mut self, conn: ConnId) -> &mut Info {
        self.by_conn.entry(conn).or_default()
    }

    pub fn get(&self, conn: ConnId) -> Option<&Info> {
        self.by_conn.get(&conn)
    }

    pub fn remove(&mut self, conn: ConnId) {
        self.by_conn.remove(&conn);
    }

    /// Why a leaving session leaves (its `QUIT` words or the server's cause), if it was
    /// said; taken, so it is said once.
    pub fn take_quit(&mut self, conn: ConnId) -> Option<Arc<str>> {
        let info = self.by_conn.get_mut(&conn)?;
        let quit = info.rare.as_mut()?.quit.take();
        if info.rare.as_deref() == Some(&Rare::default()) {
            info.rare = None;
        }
        quit
    }

    /// `conn` proved it holds `account`'s password (issue 22).
    pub fn prove(&mut self, conn: ConnId, account: Arc<str>) {
        self.entry(conn).rare().proved = Some(account);
    }

    pub fn proved(&self, conn: ConnId) -> Option<Arc<str>> {
        self.get(conn).and_then(Info::proved)
    }

    /// The away message of `conn`'s session.
    pub fn away(&self, conn: ConnId) -> Option<Arc<str>> {
        self.get(conn).and_then(Info::away)
    }

    /// The real name `conn`'s session gave (its name when it gave none).
    pub fn realname(&self, conn: ConnId, name: &Arc<str>) -> Arc<str> {
        let given = self.get(conn).and_then(Info::realname);
        given.map_or_else(|| name.clone(), Arc::from)
    }

    /// The username `conn`'s session gave (its name when it gave none).
    pub fn username(&self, conn: ConnId, name: &Arc<str>) -> Arc<str> {
        let given = self.get(conn).and_then(Info::username);
        given.map_or_else(|| name.clone(), Arc::from)
    }

    /// How many sessions are invisible and how many are server operators (`LUSERS`).
    pub fn counts(&self) -> (usize, usize) {
        let invisible = self.by_conn.values().filter(|i| i.invisible).count();
        let opers = self.by_conn.values().filter(|i| i.oper).count();
        (invisible, opers)
    }

    pub fn is_oper(&self, conn: ConnId) -> bool {
        self.get(conn).is_some_and(|i| i.oper)
    }

    /// The sessions that receive `WALLOPS`: operators and those who asked (`+w`).
    pub fn hearing_wallops(&self) -> Vec<ConnId> {
        let hearing = self.by_conn.iter().filter(|(_, i)| i.wallops || i.oper);
        hearing.map(|(c, _)| *c).collect()
    }

    /// Cluster mode (issue 23): what another node said about its user's session (a ghost's
    /// entry here), or this node's own once the stream has it.
    #[cfg(feature = "cluster")]
    pub fn set(&mut self, conn: ConnId, info: Info) {
        self.by_conn.insert(conn, info);
    }
}

/// Cluster mode (issue 23): a session's self-description crosses nodes as one record, so
/// `WHOIS`/`WHO` of a user on another node show its away message, names and operator status.
#[cfg(feature = "cluster")]
impl Info {
    pub fn record(&self, user: &str) -> crate::record::Record {
        let s = |v: &Option<Arc<str>>| v.as_deref().map(str::to_string);
        crate::record::Record::UserInfo {
            user: user.to_string(),
            username: self.username().map(str::to_string),
            realname: self.realname().map(str::to_string),
            away: s(&self.away()),
            invisible: self.invisible,
            oper: self.oper,
            quit: s(&self.quit()),
        }
    }

    /// The user and entry a `user-info` record describes (its text cleaned again: it is
    /// network input); `None` for any other record.
    pub fn from_record(record: crate::record::Record) -> Option<(String, Info)> {
        let crate::record::Record::UserInfo {
            user,
            username,
            realname,
            away,
            invisible,
            oper,
            quit,
        } = record
        else {
            return None;
        };
        let text = |v: Option<String>| v.map(|t| Arc::from(reason(&t)));
        let username = username.filter(|u| UserName::new(u).is_ok());
        let realname = realname.map(|r| reason(&r));
        let mut info = Info {
            invisible,
            oper,
            ..Info::default()
        };
        info.set_names(username.as_deref(), realname.as_deref());
        info.set_away(text(away));
        if let Some(quit) = text(quit) {
            info.rare().quit = Some(quit);
        }
        Some((user, info))
    }
}

/// The host shown for another user's session.
pub const HIDDEN_HOST: &str = "hidden";

pub use crate::valid::glob;

impl Chat {
    /// A codec's own reply, queued in order behind the core's replies (while a password is
    /// checked in steps: behind its verdict; cluster mode: behind those of a command still on
    /// its way through the stream).
    pub fn reply(&mut self, conn: ConnId, event: Event) {
        if self.sessions.get(&conn).is_some() {
            let Some(event) = self.after_hash(conn, event) else {
                return;
            };
            if let Some(event) = self.hold_reply(conn, event) {
                self.outbox.send(conn, event);
            }
        }
    }

    /// `Input::Describe`, valid before and after login. Both are shown to others, so they are
    /// cleaned as reasons are (issue 17): a username that is not a valid name is replaced by
    /// the session's own name when shown.
    pub(super) fn describe(&mut self, conn: ConnId, username: &str, realname: &str) {
        let username = UserName::new(username).ok();
        let realname = reason(realname);
        let username = username.as_ref().map(|u| u.as_str());
        self.directory
            .entry(conn)
            .set_names(username, Some(&realname));
    }

    /// Set or clear the away message; those who see `me` hear of it (IRC away-notify).
    pub(super) fn set_away(&mut self, conn: ConnId, me: &Arc<str>, message: Option<&str>) {
        let message: Option<Arc<str>> =
            message.map(reason).filter(|m| !m.is_empty()).map(Arc::from);
        self.directory.entry(conn).set_away(message.clone());
        let user = me.clone();
        self.tell_seers(me, conn, |watched| Event::Away {
            user: user.clone(),
            message: message.clone(),
            watched,
        });
    }

    /// `Input::SetName`: a new real name (cleaned as reasons are); those who see `me` hear of it.
    pub(super) fn set_name(&mut self, conn: ConnId, me: &Arc<str>, realname: &str) {
        let realname: Arc<str> = Arc::from(reason(realname));
        if realname.is_empty() {
            return self.outbox.error(conn, Error::InvalidText);
        }
        let info = self.directory.entry(conn);
        let username = info.username().map(str::to_string);
        info.set_names(username.as_deref(), Some(&realname));
        let user = me.clone();
        let event = |watched| Event::SetName {
            user: user.clone(),
            realname: realname.clone(),
            watched,
        };
        self.outbox.send(conn, event(false));
        self.tell_seers(me, conn, event);
    }

    /// Send `event(false)` once to everyone sharing a room with `me` (not those blocks keep
    /// apart), and `event(true)` to those who only watch it (`MONITOR`): what a front-end shows
    /// may differ (IRC's extended-monitor).
    pub(super) fn tell_seers(
        &mut self,
        me: &Arc<str>,
        conn: ConnId,
        event: impl Fn(bool) -> Event,
    ) {
        let mut roommates: Vec<ConnId> = Vec::new();
        for room in self.rooms.joined(me) {
            if let Some((_, r)) = self.rooms.get(&room) {
                let seen = r
                    .members
                    .iter()
                    .filter(|(m, _)| !self.has_blocked(m, me) && !self.has_blocked(me, m));
                roommates.extend(seen.map(|(_, c)| *c).filter(|c| *c != conn));
            }
        }
        roommates.sort_unstable();
        roommates.dedup();
        let mut watchers = self.watchers_of(me);
        watchers.retain(|c| *c != conn && roommates.binary_search(c).is_err());
        // Watchers it blocked hear nothing of it, as for MONITOR's presence (`watched`); by
        // its account's blocks (issue 22: also when it holds the account under its own name).
        watchers.retain(|c| !self.user_of(*c).is_some_and(|v| self.has_blocked(me, &v)));
        for (ids, watched) in [(roommates, false), (watchers, true)] {
            if ids.is_empty() {
                continue;
            }
            let shared = Shared::new(event(watched));
            for c in ids {
                self.outbox.share(c, &shared);
            }
        }
    }

    pub(super) fn set_invisible(&mut self, conn: ConnId, on: bool) {
        self.directory.entry(conn).invisible = on;
    }

    /// Receive `WALLOPS` or not (IRC user mode `w`).
    pub(super) fn set_wallops(&mut self, conn: ConnId, on: bool) {
        self.directory.entry(conn).wallops = on;
    }

    pub(super) fn no_presence(&mut self, conn: ConnId) {
        if let Some(s) = self.sessions.get_mut(&conn) {
            if s.presence && s.user().is_some() && self.settings.presence {
                self.outbox.actions.push(Action::Unsubscribe(conn));
            }
            s.presence = false;
        }
    }

    pub(super) fn set_oper(&mut self, conn: ConnId, on: bool) {
        self.directory.entry(conn).oper = on;
    }

    /// Why `conn` is about to leave, as its roommates will read it (IRC `QUIT`): its `QUIT`
    /// words as `Quit: <words>`, or the server's cause.
    pub(super) fn set_quit(&mut self, conn: ConnId, reason: &str) {
        self.directory.entry(conn).rare().quit = Some(Arc::from(crate::valid::reason(reason)));
    }

    /// The address `conn` came from, as ban masks match it (`unknown` when there is none).
    pub(super) fn host_of(&self, conn: ConnId) -> Arc<str> {
        self.sessions
            .get(&conn)
            .and_then(crate::session::Session::peer)
            .map_or_else(|| Arc::from("unknown"), |p| Arc::from(p.ip().to_string()))
    }

    /// The card of `name` on `conn` as `viewer` sees it at `now`: a user's address only to
    /// itself (issue 17: no address goes to another without consent; others see `hidden`).
    pub(super) fn card_of(&self, name: &str, conn: ConnId, viewer: &str, now: Now) -> Card {
        let name: Arc<str> = Arc::from(name);
        let info = self.directory.get(conn);
        let host = match *name == *viewer {
            true => self.host_of(conn),
            false => Arc::from(HIDDEN_HOST),
        };
        let session = self.sessions.get(&conn);
        let ago = |t: Option<std::time::Instant>| {
            t.map_or(0, |t| now.mono.saturating_duration_since(t).as_secs())
        };
        Card {
            name: name.clone(),
            username: self.directory.username(conn, &name),
            realname: self.directory.realname(conn, &name),
            host,
            away: info.and_then(Info::away),
            oper: info.is_some_and(|i| i.oper),
            rooms: self.rooms_of_user(&name),
            voiced: self.voiced_rooms(&name),
            account: self.account_name(&name),
            idle_s: ago(session.map(|s| s.last_active)),
            signon_s: (now.unix_ms() / 1000).saturating_sub(ago(session.map(|s| s.since))),
        }
    }

    /// A user who blocked the asker is not online for it (issue 17, F13), as in `whoelse`.
    pub(super) fn whois(&mut self, conn: ConnId, me: &str, name: &str, now: Now) {
        let found = self.online.find(name).map(|(n, c)| (n.clone(), c));
        let found = found.filter(|(n, _)| !self.has_blocked(n, me));
        match found {
            Some((n, c)) => {
                let card = self.card_of(&n, c, me, now);
                self.outbox.send(conn, Event::Card(Box::new(card)));
            }
            None => self.outbox.error(conn, Error::NoSuchUser(Arc::from(name))),
        }
    }

    /// `Input::Lookup`: the cards of those of `names` who are online (not those who blocked
    /// `me`), in the order asked, each once.
    pub(super) fn lookup(&mut self, conn: ConnId, me: &str, names: &[&str], now: Now) {
        let mut cards: Vec<Card> = Vec::new();
        for name in names.iter().take(64) {
            let Some((n, c)) = self.online.find(name).map(|(n, c)| (n.clone(), c)) else {
                continue;
            };
            // Found by the account it holds under another name (issue 22): answered under the
            // account's name, as asked (ISON lists the nicks asked that are online; MONITOR
            // does the same).
            let shown = match same_name(&n, name) {
                true => n.clone(),
                false => self.account_of(&n),
            };
            if self.has_blocked(&n, me) || cards.iter().any(|k| k.name == shown) {
                continue;
            }
            let mut card = self.card_of(&n, c, me, now);
            card.name = shown;
            cards.push(card);
        }
        self.outbox.send(conn, Event::Found(cards));
    }

    /// Online users matching `mask`; an invisible user only for an exact name or to someone
    /// sharing a room with them; never one who blocked `me` (F13).
    pub(super) fn who(&mut self, conn: ConnId, me: &str, mask: &str, now: Now) {
        let exact = !mask.contains(['*', '?']);
        let mut found: Vec<(u64, Card)> = Vec::new();
        for (name, c) in self.online.iter() {
            // Issue 22: an exact mask finds a session by the account it holds too.
            let by_account = || exact && same_name(self.online.account_of(name), mask);
            let matched = glob(mask.as_bytes(), name.as_bytes()) || by_account();
            if !matched || self.has_blocked(name, me) {
                continue;
            }
            let hidden = self.directory.get(c).is_some_and(|i| i.invisible);
            if hidden && !exact && &**name != me && !self.share_a_room(me, name) {
                continue;
            }
            let seq = match self.sessions.get(&c).map(|s| &s.state) {
                Some(crate::session::State::LoggedIn { seq, .. }) => *seq,
                _ => 0,
            };
            found.push((seq, self.card_of(name, c, me, now)));
        }
        found.sort_by_key(|(seq, _)| *seq);
        let cards = found.into_iter().map(|(_, c)| c).collect();
        self.outbox.send(conn, Event::Cards { room: None, cards });
    }
}

#[cfg(test)]
mod tests {
    use super::{glob, Info};

    /// Every IRC session has an entry, idle or not (issue 22's idle memory): what few
    /// sessions say (away, quit, a SASL proof) is boxed apart; it was 88 bytes.
    #[test]
    fn info_stays_small() {
        assert!(std::mem::size_of::<Info>() <= 32);
    }

    /// Both names in one block read back as they were given, each on its own, including a
    /// missing username, an empty real name and none at all.
    #[test]
    fn names_share_one_block_and_read_back() {
        let names = |u: Option<&str>, r: Option<&str>| {
            let mut info = Info::default();
            info.set_names(u, r);
            info
        };
        let both = names(Some("hans"), Some("Hans Wurst"));
        assert_eq!(
            (both.username(), both.realname()),
            (Some("hans"), Some("Hans Wurst"))
        );
        let no_user = names(None, Some("Real"));
        assert_eq!(
            (no_user.username(), no_user.realname()),
            (None, Some("Real"))
        );
        let empty_real = names(Some("u"), Some(""));
        assert_eq!(
            (empty_real.username(), empty_real.realname()),
            (Some("u"), Some(""))
        );
        let user_only = names(Some("u"), None);
        assert_eq!(
            (user_only.username(), user_only.realname()),
            (Some("u"), None)
        );
        assert_eq!(names(None, None), Info::default());
    }

    #[test]
    fn globs_match_case_insensitively() {
        assert!(glob(b"coolni*", b"coolNick"));
        assert!(glob(b"*", b"x"));
        assert!(glob(b"c?ol*k", b"COOLNICK"));
        assert!(!glob(b"eva*", b"shivaram"));
        assert!(!glob(b"evan", b"evans"));
    }
}
