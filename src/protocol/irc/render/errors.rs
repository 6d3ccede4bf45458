//! The core's refusals as IRC numerics: about the nick or channel the command named (the
//! context the codec set), as SASL numerics during `AUTHENTICATE`, as `FAIL CHATHISTORY`
//! during a history query; those without a numeric as a server `NOTICE` with the line
//! protocol's sentence.

use super::Out;
use crate::event::{Error, Event, Notice};
use crate::protocol::irc::numerics::*;
use crate::protocol::irc::Purpose;

/// A refusal during `AUTHENTICATE`: `904` (a second login's reason first, as `433`).
pub(super) fn sasl_refusal(o: &mut Out<'_, '_>, n: &Notice) {
    o.num(ERR_SASLFAIL, &["SASL authentication failed"]);
    if matches!(n, Notice::NowLocked | Notice::StillLocked) {
        o.error_line("Closing link: account locked after failed logins, try later");
    }
}

/// The line protocol's sentence for `e`, as a server notice.
fn as_notice(o: &mut Out<'_, '_>, e: &Error) {
    let text = crate::protocol::line::text::to_string(&Event::Error(e.clone()));
    o.notice(text.trim_end());
}

pub(super) fn error(o: &mut Out<'_, '_>, e: &Error) {
    let target = o.target();
    match (&o.v.ctx.purpose, e) {
        (Purpose::Sasl, Error::AlreadyLoggedIn(user)) => {
            let why = format!("{user} is already logged in");
            o.server_line(ERR_NICKNAMEINUSE, &["*", user, &why]);
            return o.num(ERR_SASLFAIL, &["SASL authentication failed"]);
        }
        (Purpose::Sasl, Error::AlreadyAuthenticated) => {
            return o.num(ERR_SASLALREADY, &["You have already authenticated"])
        }
        (Purpose::Sasl, _) => return o.num(ERR_SASLFAIL, &["SASL authentication failed"]),
        // The target as the client wrote it (`#room`, not the core's room name), so the
        // client can tell which of its queries failed.
        (Purpose::History(sub), Error::NoHistory(_)) => {
            let why = "Messages could not be retrieved";
            return o.server_line(
                "FAIL",
                &["CHATHISTORY", "INVALID_TARGET", sub, &target, why],
            );
        }
        _ => {}
    }
    match e {
        Error::InvalidUser | Error::NoSuchUser(_) | Error::NoHistory(_) => {
            let name = match e {
                Error::NoSuchUser(n) => n.to_string(),
                _ => target,
            };
            o.num(ERR_NOSUCHNICK, &[&name, "No such nick/channel"]);
        }
        Error::WasNoSuchUser(name) => o.num(ERR_WASNOSUCHNICK, &[name, "There was no such nickname"]),
        Error::InvalidUsername => o.num(ERR_ERRONEUSNICKNAME, &[&target, "Erroneous nickname"]),
        Error::InvalidPassword | Error::UnknownUsername | Error::RegistrationClosed => {
            o.num(ERR_PASSWDMISMATCH, &["Password incorrect"])
        }
        Error::PasswordRequired => o.num(ERR_PASSWDMISMATCH, &["Password required"]),
        // Issue 22: a second login is refused with its reason.
        Error::AlreadyLoggedIn(user) => {
            let why = format!("{user} is already logged in");
            o.server_line(ERR_NICKNAMEINUSE, &["*", user, &why]);
        }
        Error::UserExists(user) | Error::NameTaken(user) => {
            let me = o.v.nick;
            o.server_line(ERR_NICKNAMEINUSE, &[me, user, "Nickname is already in use"]);
        }
        Error::AlreadyAuthenticated => {
            o.num(ERR_SASLALREADY, &["You have already authenticated"])
        }
        Error::NameIsAccount(user) => {
            let why = format!("You are logged in to account {user}: your nick cannot change");
            o.num(ERR_NONICKCHANGE, &[&why]);
        }
        Error::LineTooLong => o.num(ERR_INPUTTOOLONG, &["Input line was too long"]),
        Error::InvalidUtf8 => {}
        Error::ServerFull => o.error_line("Closing link: server full"),
        Error::TooManyFromAddress => {
            o.error_line("Closing link: too many connections from your address")
        }
        Error::LoginTimeout => o.error_line("Closing link: registration timed out"),
        Error::InvalidCommand => o.num(ERR_UNKNOWNCOMMAND, &[&target, "Unknown command"]),
        Error::NoOperBlock => o.num(ERR_NOOPERHOST, &["No O-lines for your host"]),
        Error::NotOperator => o.num(ERR_NOPRIVILEGES, &["Permission Denied- You're not an IRC operator"]),
        Error::AccountsOnly => o.notice("Error. Only accounts can do that (guests keep nothing)"),
        Error::MonitorFull => {
            let max = crate::valid::MONITOR_LEN.to_string();
            o.num(ERR_MONLISTFULL, &[&max, &target, "Monitor list is full"]);
        }
        Error::NoRoom(room) => {
            let chan = o.chan(room);
            o.num(ERR_NOSUCHCHANNEL, &[&chan, "No such channel"]);
        }
        Error::InvalidRoomName => o.num(ERR_NOSUCHCHANNEL, &[&target, "No such channel"]),
        Error::NotInThatRoom(room) => {
            let chan = o.chan(room);
            o.num(ERR_NOTONCHANNEL, &[&chan, "You're not on that channel"]);
        }
        Error::NotInRoom => o.num(ERR_NOTONCHANNEL, &[&target, "You're not on that channel"]),
        Error::NotOwner | Error::OwnerImmune => {
            o.num(ERR_CHANOPRIVSNEEDED, &[&target, "You're not channel operator"])
        }
        Error::ListFull { room, .. } => {
            let chan = o.chan(room);
            o.num(ERR_BANLISTFULL, &[&chan, "b", "Channel list is full"]);
        }
        Error::TooManyRooms(_) | Error::TooManyOwnRooms(_) => {
            o.num(ERR_TOOMANYCHANNELS, &[&target, "Too many channels on this server"])
        }
        Error::NotRoomOperator(room) => {
            let chan = o.chan(room);
            o.num(ERR_CHANOPRIVSNEEDED, &[&chan, "You're not channel operator"]);
        }
        Error::WrongRoomKey(room) => {
            let chan = o.chan(room);
            o.num(ERR_BADCHANNELKEY, &[&chan, "Cannot join channel (+k)"]);
        }
        Error::PrivateRoom(room) => {
            let chan = o.chan(room);
            o.num(ERR_INVITEONLYCHAN, &[&chan, "Cannot join channel (+i)"]);
        }
        Error::BannedFromRoom(room) => {
            let chan = o.chan(room);
            o.num(ERR_BANNEDFROMCHAN, &[&chan, "Cannot join channel (+b)"]);
        }
        Error::RoomFull(room) => {
            let chan = o.chan(room);
            o.num(ERR_CHANNELISFULL, &[&chan, "Cannot join channel (+l)"]);
        }
        Error::CannotSendToRoom(room) | Error::Moderated(room) => {
            let chan = o.chan(room);
            o.num(ERR_CANNOTSENDTOCHAN, &[&chan, "Cannot send to channel"]);
        }
        Error::NotMember { room, user } => {
            let chan = o.chan(room);
            o.num(ERR_USERNOTINCHANNEL, &[user, &chan, "They aren't on that channel"]);
        }
        Error::AlreadyInRoom { room, user } => {
            let chan = o.chan(room);
            o.num(ERR_USERONCHANNEL, &[user, &chan, "is already on channel"]);
        }
        // Issue 22: a bad mode value is `696` about its mode letter.
        Error::InvalidKey | Error::InvalidLimit if target.starts_with('#') => {
            let letter = if *e == Error::InvalidKey { "k" } else { "l" };
            let text = crate::protocol::line::text::to_string(&Event::Error(e.clone()));
            o.num(ERR_INVALIDMODEPARAM, &[&target, letter, "*", text.trim_end()]);
        }
        Error::MessageSelf
        | Error::BlockedByRecipient
        | Error::MailboxFull(_)
        | Error::BlockSelf
        | Error::NotBlocked(_)
        | Error::Offline(_)
        | Error::NoPrivateRequest(_)
        | Error::PrivateNotEnabled(_)
        | Error::NoPrivateSession(_)
        | Error::InvalidPort
        | Error::InvalidPeerKey
        | Error::NoPeerAddress(_)
        | Error::Storage
        | Error::TooManyAccounts
        | Error::RegisterRate
        | Error::LoginRate
        | Error::StorageFull
        | Error::RoomExists(_)
        | Error::InvalidAttribute
        | Error::ValueTooLong(_)
        // Issue 17: no numeric says "bad text"; the line protocol's sentence does.
        | Error::InvalidText
        | Error::InvalidKey
        | Error::InvalidLimit
        | Error::InvalidMask => as_notice(o, e),
    }
}
