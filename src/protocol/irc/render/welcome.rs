//! The welcome burst (`001`-`005`, `LUSERS`-free, `422`) and the ISUPPORT tokens, which
//! `VERSION` repeats.

use super::Out;
use crate::protocol::irc::numerics::*;
use crate::protocol::irc::{TARGMAX_JOIN, TARGMAX_KICK, TARGMAX_NAMES, TARGMAX_PART};
use crate::valid::{KEY_LEN, MODES, MONITOR_LEN, REASON_LEN, REPLAY_MAX, TOPIC_LEN};

/// The ISUPPORT tokens (`005`), with `max_list` as `MAXLIST`.
pub fn isupport(max_list: usize) -> Vec<String> {
    vec![
        "CASEMAPPING=ascii".into(),
        "CHANTYPES=#".into(),
        "CHANMODES=b,k,l,imnst".into(),
        "PREFIX=(ov)@+".into(),
        "NICKLEN=32".into(),
        "CHANNELLEN=33".into(),
        format!("TOPICLEN={TOPIC_LEN}"),
        "NETWORK=chatserver".into(),
        format!(
            "TARGMAX=JOIN:{},PART:{},PRIVMSG:1,NOTICE:1,TAGMSG:1,KICK:{},NAMES:{},MONITOR:{MONITOR_LEN}",
            TARGMAX_JOIN.1, TARGMAX_PART.1, TARGMAX_KICK.1, TARGMAX_NAMES.1
        ),
        format!("MODES={MODES}"),
        format!("MAXLIST=b:{max_list}"),
        format!("KEYLEN={KEY_LEN}"),
        format!("AWAYLEN={REASON_LEN}"),
        format!("KICKLEN={REASON_LEN}"),
        format!("MONITOR={MONITOR_LEN}"),
        "WHOX".into(),
        "UTF8ONLY".into(),
        "ELIST=CMNTU".into(),
        format!("CHATHISTORY={REPLAY_MAX}"),
        "MSGREFTYPES=msgid,timestamp".into(),
    ]
}

pub(super) fn welcome(o: &mut Out<'_, '_>) {
    let (nick, server) = (o.v.nick, o.v.server);
    let version = concat!("chatserver-", env!("CARGO_PKG_VERSION"));
    o.num(
        RPL_WELCOME,
        &[&format!("Welcome to the chatserver IRC network, {nick}")],
    );
    o.num(
        RPL_YOURHOST,
        &[&format!("Your host is {server}, running version {version}")],
    );
    o.num(RPL_CREATED, &["This server was created at start-up"]);
    o.num(RPL_MYINFO, &[server, version, "iow", "biklmnostv", "bklov"]);
    let supported = "are supported by this server";
    for chunk in isupport(o.v.max_list).chunks(12) {
        let mut params: Vec<&str> = chunk.iter().map(String::as_str).collect();
        params.push(supported);
        o.num(RPL_ISUPPORT, &params);
    }
    o.num(ERR_NOMOTD, &["MOTD File is missing"]);
}
