//! Who is who, as IRC shows it: `WHOIS` (with `317` idle and signon, `330` account, `338` one's
//! own address), `WHO` and `WHOX` (`354` with the fields asked for), `USERHOST`/`ISON`,
//! `WHOWAS`, `LUSERS`, `MONITOR`, and `CHATHISTORY`'s batches.

use super::{message, Out};
use crate::event::{Card, Lusers, Past, Replayed};
use crate::protocol::irc::caps::Cap;
use crate::protocol::irc::numerics::*;
use crate::protocol::irc::Purpose;

pub(super) fn whois(o: &mut Out<'_, '_>, c: &Card) {
    let server = o.v.server;
    o.num(
        RPL_WHOISUSER,
        &[&c.name, &c.username, server, "*", &c.realname],
    );
    if !c.rooms.is_empty() {
        let rooms: Vec<String> = c
            .rooms
            .iter()
            .map(|(r, op)| format!("{}#{r}", if *op { "@" } else { "" }))
            .collect();
        o.num(RPL_WHOISCHANNELS, &[&c.name, &rooms.join(" ")]);
    }
    o.num(RPL_WHOISSERVER, &[&c.name, server, o.v.description]);
    if c.oper {
        o.num(RPL_WHOISOPERATOR, &[&c.name, "is an IRC operator"]);
    }
    if let Some(account) = &c.account {
        o.num(RPL_WHOISACCOUNT, &[&c.name, account, "is logged in as"]);
    }
    if let Some(away) = &c.away {
        o.num(RPL_AWAY, &[&c.name, away]);
    }
    // One's own address only (issue 17: nobody else's).
    if *c.name == *o.v.nick {
        let host = format!("{}@{}", c.username, c.host);
        o.num(
            RPL_WHOISACTUALLY,
            &[&c.name, &host, &c.host, "Actual user@host, Actual IP"],
        );
    }
    let (idle, signon) = (c.idle_s.to_string(), c.signon_s.to_string());
    o.num(
        RPL_WHOISIDLE,
        &[&c.name, &idle, &signon, "seconds idle, signon time"],
    );
}

/// `352` per card (`354` with the fields a WHOX query asked for).
pub(super) fn who(o: &mut Out<'_, '_>, room: Option<&str>, cards: &[Card]) {
    let whox = match &o.v.ctx.purpose {
        Purpose::Whox(w) => Some((w.fields.clone(), w.token.clone())),
        _ => None,
    };
    for c in cards {
        let mut flags = String::from(if c.away.is_some() { "G" } else { "H" });
        if c.oper {
            flags.push('*');
        }
        let op = room.is_some_and(|r| c.rooms.iter().any(|(cr, op)| &**cr == r && *op));
        let voiced = room.is_some_and(|r| c.voiced.iter().any(|v| &**v == r));
        // multi-prefix: every prefix the member has, highest first; else the highest.
        if op {
            flags.push('@');
        }
        if voiced && (!op || o.has(Cap::MultiPrefix)) {
            flags.push('+');
        }
        let chan = room.map_or_else(|| "*".to_string(), |r| format!("#{r}"));
        let server = o.v.server;
        match &whox {
            None => {
                let real = format!("0 {}", c.realname);
                let params = [&*chan, &c.username, server, server, &c.name, &flags, &real];
                o.num(RPL_WHOREPLY, &params);
            }
            Some((fields, token)) => {
                let idle = c.idle_s.to_string();
                let account = c.account.as_deref().unwrap_or("0");
                let oplevel = if op { "@" } else { "n/a" };
                let mut params: Vec<&str> = Vec::new();
                // The fields come in this order whatever order they were asked in.
                for f in "tcuihsnfdlaor".chars().filter(|f| fields.contains(*f)) {
                    params.push(match f {
                        't' => token,
                        'c' => &chan,
                        'u' => &c.username,
                        'i' => "255.255.255.255",
                        'h' | 's' => server,
                        'n' => &c.name,
                        'f' => &flags,
                        'd' => "0",
                        'l' => &idle,
                        'a' => account,
                        'o' => oplevel,
                        _ => &c.realname,
                    });
                }
                o.num(RPL_WHOSPCRPL, &params);
            }
        }
    }
}

/// `USERHOST` (`302`) or `ISON` (`303`), as the command asked.
pub(super) fn found(o: &mut Out<'_, '_>, cards: &[Card]) {
    let server = o.v.server.to_string();
    match o.v.ctx.purpose {
        Purpose::Ison => {
            let names: Vec<&str> = cards.iter().map(|c| &*c.name).collect();
            o.num(RPL_ISON, &[&names.join(" ")]);
        }
        _ => {
            let replies: Vec<String> = cards
                .iter()
                .map(|c| {
                    let oper = if c.oper { "*" } else { "" };
                    let away = if c.away.is_some() { '-' } else { '+' };
                    format!("{}{oper}={away}{}@{server}", c.name, c.username)
                })
                .collect();
            o.num(RPL_USERHOST, &[&replies.join(" ")]);
        }
    }
}

pub(super) fn whowas(o: &mut Out<'_, '_>, name: &str, past: &[Past]) {
    let server = o.v.server;
    for p in past {
        o.num(
            RPL_WHOWASUSER,
            &[name, &p.username, server, "*", &p.realname],
        );
        let when = crate::time::utc_timestamp(p.gone_s * 1000);
        o.num(RPL_WHOISSERVER, &[name, server, &when]);
    }
}

pub(super) fn lusers(o: &mut Out<'_, '_>, c: &Lusers) {
    let visible = c.users - c.invisible;
    o.num(
        RPL_LUSERCLIENT,
        &[&format!(
            "There are {visible} users and {} invisible on 1 servers",
            c.invisible
        )],
    );
    o.num(
        RPL_LUSEROP,
        &[&c.operators.to_string(), "operator(s) online"],
    );
    o.num(
        RPL_LUSERUNKNOWN,
        &[&c.unknown.to_string(), "unknown connection(s)"],
    );
    o.num(
        RPL_LUSERCHANNELS,
        &[&c.rooms.to_string(), "channels formed"],
    );
    o.num(
        RPL_LUSERME,
        &[&format!("I have {} clients and 0 servers", c.users)],
    );
    let (n, max) = (c.users.to_string(), c.max_users.to_string());
    let text = format!("Current local users {n}, max {max}");
    o.num(RPL_LOCALUSERS, &[&n, &max, &text]);
    let text = format!("Current global users {n}, max {max}");
    o.num(RPL_GLOBALUSERS, &[&n, &max, &text]);
}

/// `730`/`731`: watched users online (as `nick!user@host`) or not.
pub(super) fn monitor(o: &mut Out<'_, '_>, online: bool, users: &[std::sync::Arc<str>]) {
    let names: Vec<String> = match online {
        true => users.iter().map(|u| o.source(u)).collect(),
        false => users.iter().map(|u| u.to_string()).collect(),
    };
    let numeric = if online {
        RPL_MONONLINE
    } else {
        RPL_MONOFFLINE
    };
    for chunk in names.chunks(8) {
        o.num(numeric, &[&chunk.join(",")]);
    }
}

pub(super) fn monitor_list(o: &mut Out<'_, '_>, names: &[std::sync::Arc<str>]) {
    let names: Vec<&str> = names.iter().map(|n| &**n).collect();
    for chunk in names.chunks(8) {
        o.num(RPL_MONLIST, &[&chunk.join(",")]);
    }
}

/// Stored messages in a `chathistory` batch (plain lines without the `batch` capability).
pub(super) fn replay(o: &mut Out<'_, '_>, target: &str, room: bool, lines: &[Replayed]) {
    let batch = o.has(Cap::Batch);
    let id = format!("H{}", o.v.batch);
    // A room is its channel on IRC, in the batch's target as in each message.
    let channel = format!("#{}", target.trim_start_matches('#'));
    if batch {
        let shown = if room { channel.as_str() } else { target };
        o.server_line("BATCH", &[&format!("+{id}"), "chathistory", shown]);
    }
    for l in lines {
        let to = match (&l.to, room) {
            (_, true) => channel.clone(),
            (Some(to), false) => to.to_string(),
            (None, false) => target.to_string(),
        };
        let start = o.out.len();
        message(o, &l.from, &to, &l.text, &l.meta);
        if batch {
            let line = o.out.split_off(start);
            let tagged = crate::protocol::irc::tags::with_tag(&line, "batch", &id, false);
            o.out.extend_from_slice(&tagged);
        }
    }
    if batch {
        o.server_line("BATCH", &[&format!("-{id}")]);
    }
}

/// `CHATHISTORY TARGETS`: a `draft/chathistory-targets` batch.
pub(super) fn replay_targets(o: &mut Out<'_, '_>, targets: &[(std::sync::Arc<str>, bool, u64)]) {
    let id = format!("T{}", o.v.batch);
    o.server_line("BATCH", &[&format!("+{id}"), "draft/chathistory-targets"]);
    for (name, room, at_ms) in targets {
        let name = if *room {
            format!("#{name}")
        } else {
            name.to_string()
        };
        let time = crate::time::rfc3339_utc(*at_ms);
        let start = o.out.len();
        o.server_line("CHATHISTORY", &["TARGETS", &name, &time]);
        let line = o.out.split_off(start);
        o.out
            .extend_from_slice(&crate::protocol::irc::tags::with_tag(
                &line, "batch", &id, false,
            ));
    }
    o.server_line("BATCH", &[&format!("-{id}")]);
}
