//! Room events, whichever front-end caused them, as channel messages and numerics; member
//! lists (`353` with multi-prefix and userhost-in-names) and room lists (`322`, filtered by the
//! `ELIST` filters a `LIST` gave).

use super::{message, Out};
use crate::event::{Member, RoomEvent, RoomInfo};
use crate::protocol::irc::caps::Cap;
use crate::protocol::irc::numerics::*;
use crate::protocol::irc::Purpose;
use crate::valid::glob;

fn channel(room: &str) -> String {
    format!("#{room}")
}

pub(super) fn room_event(o: &mut Out<'_, '_>, r: &RoomEvent) {
    let me = o.v.nick;
    match r {
        // IRC has no "opened": a `JOIN` opens a channel.
        RoomEvent::Opened(_) => {}
        RoomEvent::Entered {
            room,
            user,
            topic,
            secret,
            members,
            partial,
        } => {
            let chan = channel(room);
            o.by_user(user, "JOIN", &[&chan]);
            if let Some(t) = topic {
                o.num(RPL_TOPIC, &[&chan, &t.text]);
                let at = (t.at_ms / 1000).to_string();
                o.num(RPL_TOPICWHOTIME, &[&chan, &t.by, &at]);
            }
            names(o, room, *secret, members, *partial);
        }
        RoomEvent::Joined {
            room,
            user,
            account,
            realname,
        } => {
            let chan = channel(room);
            if o.has(Cap::ExtendedJoin) {
                let account = account.as_deref().unwrap_or("*");
                o.by_user(user, "JOIN", &[&chan, account, realname]);
            } else {
                o.by_user(user, "JOIN", &[&chan]);
            }
        }
        RoomEvent::Exited { room, user, reason } | RoomEvent::Left { room, user, reason } => {
            match reason {
                Some(why) if !why.is_empty() => o.by_user(user, "PART", &[&channel(room), why]),
                _ => o.by_user(user, "PART", &[&channel(room)]),
            }
        }
        RoomEvent::Quit { user, reason } => o.by_user(user, "QUIT", &[reason]),
        RoomEvent::Chat {
            room,
            from,
            text,
            meta,
        } => message(o, from, &channel(room), text, meta),
        // The sender's own copy: only with echo-message (IRC clients show what they sent).
        RoomEvent::Said {
            room,
            from,
            text,
            meta,
        } if o.has(Cap::EchoMessage) => message(o, from, &channel(room), text, meta),
        RoomEvent::Said { .. } => {}
        RoomEvent::List(rooms) => list(o, rooms),
        RoomEvent::Removed { room, by, reason } => {
            o.by_user(by, "KICK", &[&channel(room), me, reason]);
        }
        RoomEvent::Kicked {
            room,
            by,
            user,
            reason,
        } => o.by_user(by, "KICK", &[&channel(room), user, reason]),
        RoomEvent::Closed(room) => {
            let chan = channel(room);
            o.server_line("KICK", &[&chan, me, "chatroom closed"]);
        }
        RoomEvent::Topic { room, topic } => {
            let chan = o.chan(room);
            match topic {
                Some(t) => {
                    o.num(RPL_TOPIC, &[&chan, &t.text]);
                    let at = (t.at_ms / 1000).to_string();
                    o.num(RPL_TOPICWHOTIME, &[&chan, &t.by, &at]);
                }
                None => o.num(RPL_NOTOPIC, &[&chan, "No topic is set"]),
            }
        }
        RoomEvent::TopicSet { room, by, topic } => {
            let text = topic.as_ref().map_or("", |t| &*t.text);
            o.by_user(by, "TOPIC", &[&channel(room), text]);
        }
        RoomEvent::Members {
            room,
            secret,
            members,
            partial,
        } => names(o, room, *secret, members, *partial),
        RoomEvent::Modes {
            room,
            flags,
            key,
            limit,
            created_s,
        } => {
            let chan = o.chan(room);
            let modes = format!("+{flags}");
            let mut params: Vec<&str> = vec![&chan, &modes];
            let limit = limit.map(|l| l.to_string());
            // Arguments in the order of their letters: `k` before `l`.
            params.extend(key.as_deref());
            params.extend(limit.as_deref());
            o.num(RPL_CHANNELMODEIS, &params);
            o.num(RPL_CREATIONTIME, &[&chan, &created_s.to_string()]);
        }
        RoomEvent::Changed {
            room,
            by,
            changes,
            args,
        } => {
            let chan = channel(room);
            let mut params: Vec<&str> = vec![&chan, changes];
            params.extend(args.iter().map(|a| &**a));
            o.by_user(by, "MODE", &params);
        }
        RoomEvent::AccessList {
            room,
            banned: true,
            entries,
        } => {
            let chan = o.chan(room);
            for b in entries {
                o.num(RPL_BANLIST, &[&chan, b]);
            }
        }
        // Issue 22: invitations.
        RoomEvent::Invited { room, by, user } => {
            if o.has(Cap::InviteNotify) {
                o.by_user(by, "INVITE", &[user, &channel(room)]);
            }
        }
        RoomEvent::Inviting { room, user } => o.num(RPL_INVITING, &[user, &o.chan(room)]),
        // Answers to line commands only: server notices, line by line.
        RoomEvent::AccessList { banned: false, .. }
        | RoomEvent::Access { .. }
        | RoomEvent::CloseDone(_)
        | RoomEvent::Mode { .. } => {
            let event = crate::event::Event::Room(r.clone());
            let text = crate::protocol::line::text::to_string(&event);
            for line in text.lines() {
                o.notice(line);
            }
        }
    }
}

/// `322` for each room with members that the `LIST`'s filters (if any) let through.
fn list(o: &mut Out<'_, '_>, rooms: &[RoomInfo]) {
    let filter = match &o.v.ctx.purpose {
        Purpose::List(f) => Some(f.clone()),
        _ => None,
    };
    let now_s = o.v.now_ms / 1000;
    for info in rooms.iter().filter(|i| i.members > 0) {
        if let Some(f) = &filter {
            if !elist(f, info, now_s) {
                continue;
            }
        }
        let count = info.members.to_string();
        o.num(RPL_LIST, &[&channel(&info.room), &count, &info.topic]);
    }
}

/// Whether `info` passes every comma-separated `ELIST` filter: `mask`/`!mask` (M, N), `<n`/`>n`
/// members (U), `C<n`/`C>n` created less/more than n minutes ago, `T<n`/`T>n` the same for the
/// topic. An unreadable filter lets everything through.
fn elist(filters: &str, info: &RoomInfo, now_s: u64) -> bool {
    let chan = channel(&info.room);
    filters.split(',').filter(|f| !f.is_empty()).all(|f| {
        let minutes = |since_s: u64| now_s.saturating_sub(since_s) / 60;
        let num = |s: &str| s.parse::<u64>().ok();
        let cmp = |value: u64, rest: &str| match (
            rest.as_bytes().first(),
            num(&rest[1.min(rest.len())..]),
        ) {
            (Some(b'<'), Some(n)) => value < n,
            (Some(b'>'), Some(n)) => value > n,
            _ => true,
        };
        if let Some(mask) = f.strip_prefix('!') {
            return !glob(mask.as_bytes(), chan.as_bytes());
        }
        if let Some(rest) = f.strip_prefix('C').filter(|r| r.starts_with(['<', '>'])) {
            return cmp(minutes(info.created_s), rest);
        }
        if let Some(rest) = f.strip_prefix('T').filter(|r| r.starts_with(['<', '>'])) {
            return info.topic_at_s > 0 && cmp(minutes(info.topic_at_s), rest);
        }
        if f.starts_with(['<', '>']) {
            return cmp(info.members as u64, f);
        }
        glob(f.as_bytes(), chan.as_bytes())
    })
}

/// `353` lines of at most ~400 bytes of names each, then `366` (unless more parts follow).
fn names(o: &mut Out<'_, '_>, room: &str, secret: bool, members: &[Member], partial: bool) {
    let chan = channel(room);
    let symbol = if secret { "@" } else { "=" };
    let (multi, full) = (o.has(Cap::MultiPrefix), o.has(Cap::UserhostInNames));
    let server = o.v.server.to_string();
    let mut line = String::new();
    for m in members {
        if line.len() > 400 {
            o.num(RPL_NAMREPLY, &[symbol, &chan, &line]);
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        if m.op {
            line.push('@');
        }
        if m.voice && (multi || !m.op) {
            line.push('+');
        }
        line.push_str(&m.name);
        if full {
            line.push_str(&format!("!{}@{server}", m.name));
        }
    }
    if !line.is_empty() {
        o.num(RPL_NAMREPLY, &[symbol, &chan, &line]);
    }
    if partial || o.v.ctx.purpose == Purpose::SeveralNames {
        return;
    }
    let chan = o.chan(room);
    o.num(RPL_ENDOFNAMES, &[&chan, "End of /NAMES list."]);
}
