//! Live traffic between nodes: events for users on another node, sent with `PUBLISH`: to one
//! connection on that node's channel, or room lines and broadcasts on the channel every node
//! hears, each node handing them to its own members and users. A message is the id of the last
//! stream entry the sender had applied and the sender's name, then one line per event
//! (`c <conn>`, `r <room>` or `a`, then the event in the record field codec, so any text
//! travels). The receiver holds a message until its own tail has applied that entry: nobody
//! sees an event before the state changes that came before it on the sender's node.
//!
//! Only events one user's command can send another cross nodes; every other kind is made by
//! each node for its own users (presence, from the records) or answers the sender itself.

use super::journal::StreamId;
use crate::event::{Audience, Event, Kind, Meta, Notice, PrivateEvent, RoomEvent, Stamp, Topic};
use crate::record::{Field, Reader, Writer};
use std::sync::Arc;

/// Who on the receiving node an event is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One connection, as the receiver names it.
    Conn(Arc<str>),
    /// The receiver's members of a room.
    Room(Arc<str>),
    /// Everyone online on the receiver.
    All,
}

/// A message's events.
#[derive(Debug, PartialEq)]
pub struct Message {
    pub after: StreamId,
    /// The sender (a node hears its own messages on the shared channel, and skips them).
    pub origin: String,
    pub events: Vec<(Target, Event)>,
}

/// The text of one message.
pub fn encode(after: StreamId, origin: &str, events: &[(Target, Event)]) -> String {
    let mut out = format!("{after}\t{origin}");
    for (target, event) in events {
        let Some(text) = encode_event(event) else {
            continue;
        };
        out.push('\n');
        match target {
            Target::Conn(c) => out.push_str(&format!("c\t{c}\t")),
            Target::Room(r) => out.push_str(&format!("r\t{r}\t")),
            Target::All => out.push_str("a\t"),
        }
        out.push_str(&text);
    }
    out
}

pub fn decode(payload: &str) -> Option<Message> {
    let mut lines = payload.split('\n');
    let (after, origin) = lines.next()?.split_once('\t')?;
    let after = StreamId::parse(after)?;
    let events = lines
        .filter_map(|l| {
            let (kind, rest) = l.split_once('\t')?;
            let (target, text) = match kind {
                "a" => (Target::All, rest),
                "c" | "r" => {
                    let (name, text) = rest.split_once('\t')?;
                    let name = Arc::from(name);
                    let t = if kind == "c" {
                        Target::Conn(name)
                    } else {
                        Target::Room(name)
                    };
                    (t, text)
                }
                _ => return None,
            };
            Some((target, decode_event(text)?))
        })
        .collect();
    Some(Message {
        after,
        origin: origin.to_string(),
        events,
    })
}

fn w(kind: &'static str) -> Writer {
    Writer::new(kind)
}

/// A message's extras (issue 22: its kind, time and id, account and client tags).
fn write_meta(meta: &Meta, out: &mut Writer) {
    meta.kind.write(out);
    meta.stamp.at_ms.write(out);
    meta.stamp.id.write(out);
    meta.account.write(out);
    meta.relay.write(out);
}

fn read_meta(r: &mut Reader<'_>) -> Option<Meta> {
    Some(Meta {
        kind: Kind::read(r)?,
        stamp: Stamp {
            at_ms: u64::read(r)?,
            id: u64::read(r)?,
        },
        account: Option::<Arc<str>>::read(r)?,
        relay: Option::<Arc<str>>::read(r)?,
    })
}

/// An event as one line; `None` for the kinds that never cross nodes.
pub fn encode_event(event: &Event) -> Option<String> {
    let mut out;
    match event {
        Event::Chat {
            from,
            to,
            text,
            meta,
        } => {
            out = w("chat");
            from.write(&mut out);
            match to {
                Audience::Direct(u) => {
                    out.text("dm");
                    u.write(&mut out);
                }
                Audience::Everyone => out.text("broadcast"),
                Audience::Announcement => out.text("announce"),
                Audience::Private(u) => {
                    out.text("private");
                    u.write(&mut out);
                }
                Audience::Echo(u) => {
                    out.text("echo");
                    u.write(&mut out);
                }
            }
            text.write(&mut out);
            write_meta(meta, &mut out);
        }
        Event::Presence { user, online } => {
            out = w("presence");
            user.write(&mut out);
            online.write(&mut out);
        }
        // IRC away-notify (issue 22) for roommates and watchers on other nodes.
        Event::Away {
            user,
            message,
            watched,
        } => {
            out = w("away");
            user.write(&mut out);
            message.write(&mut out);
            watched.write(&mut out);
        }
        // An invitation into a room, for an invitee on another node.
        Event::Invitation { by, room, account } => {
            out = w("invitation");
            by.write(&mut out);
            room.write(&mut out);
            account.write(&mut out);
        }
        Event::ServerAnnouncement(text) => {
            out = w("announcement");
            text.write(&mut out);
        }
        Event::Notice(Notice::Replaced(user)) => {
            out = w("replaced");
            user.write(&mut out);
        }
        Event::Room(e) => return encode_room(e),
        Event::Private(e) => return Some(encode_private(e)),
        _ => {
            log::debug!("not forwarded to another node: {event:?}");
            return None;
        }
    }
    Some(out.finish().as_str().to_string())
}

fn encode_room(event: &RoomEvent) -> Option<String> {
    let mut out;
    match event {
        RoomEvent::Chat {
            room,
            from,
            text,
            meta,
        } => {
            out = w("room-chat");
            room.write(&mut out);
            from.write(&mut out);
            text.write(&mut out);
            write_meta(meta, &mut out);
        }
        RoomEvent::Joined {
            room,
            user,
            account,
            realname,
        } => {
            out = w("room-joined");
            room.write(&mut out);
            user.write(&mut out);
            account.write(&mut out);
            realname.write(&mut out);
        }
        RoomEvent::Left { room, user, reason } => {
            out = w("room-left");
            room.write(&mut out);
            user.write(&mut out);
            reason.write(&mut out);
        }
        RoomEvent::Quit { user, reason } => {
            out = w("room-quit");
            user.write(&mut out);
            reason.write(&mut out);
        }
        RoomEvent::Closed(room) => {
            out = w("room-closed");
            room.write(&mut out);
        }
        RoomEvent::Removed { room, by, reason } => {
            out = w("room-removed");
            room.write(&mut out);
            by.write(&mut out);
            reason.write(&mut out);
        }
        RoomEvent::Kicked {
            room,
            by,
            user,
            reason,
        } => {
            out = w("room-kicked");
            room.write(&mut out);
            by.write(&mut out);
            user.write(&mut out);
            reason.write(&mut out);
        }
        RoomEvent::TopicSet { room, by, topic } => {
            out = w("room-topic");
            room.write(&mut out);
            by.write(&mut out);
            topic.as_ref().map(|t| t.text.clone()).write(&mut out);
            topic.as_ref().map(|t| t.by.clone()).write(&mut out);
            topic.as_ref().map(|t| t.at_ms).write(&mut out);
        }
        // IRC invite-notify, for the room's operators on other nodes.
        RoomEvent::Invited { room, by, user } => {
            out = w("room-invited");
            room.write(&mut out);
            by.write(&mut out);
            user.write(&mut out);
        }
        RoomEvent::Changed {
            room,
            by,
            changes,
            args,
        } => {
            out = w("room-changed");
            room.write(&mut out);
            by.write(&mut out);
            changes.write(&mut out);
            args.write(&mut out);
        }
        _ => {
            log::debug!("not forwarded to another node: {event:?}");
            return None;
        }
    }
    Some(out.finish().as_str().to_string())
}

/// §4 across nodes: every private-session event (a request, its answer, the peer-to-peer
/// lines) may be for a user on the other node.
fn encode_private(event: &PrivateEvent) -> String {
    let ip = |ip: &std::net::IpAddr| Arc::<str>::from(ip.to_string());
    let one = |kind: &'static str, user: &Arc<str>| {
        let mut out = w(kind);
        user.write(&mut out);
        out
    };
    let out = match event {
        PrivateEvent::Asked(u) => one("p-asked", u),
        PrivateEvent::RequestSent(u) => one("p-sent", u),
        PrivateEvent::Started(u) => one("p-started", u),
        PrivateEvent::Declined(u) => one("p-declined", u),
        PrivateEvent::Expired(u) => one("p-expired", u),
        PrivateEvent::Stopped(u) => one("p-stopped", u),
        PrivateEvent::Dial {
            user,
            ip: addr,
            port,
            token,
            key,
        } => {
            let mut out = one("p-dial", user);
            ip(addr).write(&mut out);
            u32::from(*port).write(&mut out);
            token.write(&mut out);
            key.write(&mut out);
            out
        }
        PrivateEvent::Expect { user, token } => {
            let mut out = one("p-expect", user);
            token.write(&mut out);
            out
        }
        PrivateEvent::Address {
            user,
            ip: addr,
            port,
        } => {
            let mut out = one("p-address", user);
            ip(addr).write(&mut out);
            u32::from(*port).write(&mut out);
            out
        }
    };
    out.finish().as_str().to_string()
}

pub fn decode_event(text: &str) -> Option<Event> {
    let mut r = Reader::new(text);
    let a = |r: &mut Reader<'_>| Arc::<str>::read(r);
    let room = |e: RoomEvent| Event::Room(e);
    let event = match r.raw()? {
        "chat" => {
            let from = a(&mut r)?;
            let to = match r.raw()? {
                "dm" => Audience::Direct(a(&mut r)?),
                "broadcast" => Audience::Everyone,
                "announce" => Audience::Announcement,
                "private" => Audience::Private(a(&mut r)?),
                "echo" => Audience::Echo(a(&mut r)?),
                _ => return None,
            };
            Event::Chat {
                from,
                to,
                text: a(&mut r)?,
                meta: read_meta(&mut r)?,
            }
        }
        "presence" => Event::Presence {
            user: a(&mut r)?,
            online: bool::read(&mut r)?,
        },
        "away" => Event::Away {
            user: a(&mut r)?,
            message: Option::<Arc<str>>::read(&mut r)?,
            watched: bool::read(&mut r)?,
        },
        "invitation" => Event::Invitation {
            by: a(&mut r)?,
            room: a(&mut r)?,
            account: Option::<Arc<str>>::read(&mut r)?,
        },
        "announcement" => Event::ServerAnnouncement(a(&mut r)?),
        "replaced" => Event::Notice(Notice::Replaced(a(&mut r)?)),
        "room-chat" => room(RoomEvent::Chat {
            room: a(&mut r)?,
            from: a(&mut r)?,
            text: a(&mut r)?,
            meta: read_meta(&mut r)?,
        }),
        "room-joined" => room(RoomEvent::Joined {
            room: a(&mut r)?,
            user: a(&mut r)?,
            account: Option::<Arc<str>>::read(&mut r)?,
            realname: a(&mut r)?,
        }),
        "room-left" => room(RoomEvent::Left {
            room: a(&mut r)?,
            user: a(&mut r)?,
            reason: Option::<Arc<str>>::read(&mut r)?,
        }),
        "room-quit" => room(RoomEvent::Quit {
            user: a(&mut r)?,
            reason: a(&mut r)?,
        }),
        "room-closed" => room(RoomEvent::Closed(a(&mut r)?)),
        "room-removed" => room(RoomEvent::Removed {
            room: a(&mut r)?,
            by: a(&mut r)?,
            reason: a(&mut r)?,
        }),
        "room-kicked" => room(RoomEvent::Kicked {
            room: a(&mut r)?,
            by: a(&mut r)?,
            user: a(&mut r)?,
            reason: a(&mut r)?,
        }),
        "room-topic" => {
            let (name, by) = (a(&mut r)?, a(&mut r)?);
            let text = Option::<Arc<str>>::read(&mut r)?;
            let setter = Option::<Arc<str>>::read(&mut r)?;
            let at_ms = Option::<u64>::read(&mut r)?;
            let topic = match (text, setter, at_ms) {
                (Some(text), Some(by), Some(at_ms)) => Some(Topic { text, by, at_ms }),
                _ => None,
            };
            room(RoomEvent::TopicSet {
                room: name,
                by,
                topic,
            })
        }
        "room-invited" => room(RoomEvent::Invited {
            room: a(&mut r)?,
            by: a(&mut r)?,
            user: a(&mut r)?,
        }),
        "room-changed" => room(RoomEvent::Changed {
            room: a(&mut r)?,
            by: a(&mut r)?,
            changes: a(&mut r)?,
            args: Vec::<Arc<str>>::read(&mut r)?,
        }),
        "p-asked" => Event::Private(PrivateEvent::Asked(a(&mut r)?)),
        "p-sent" => Event::Private(PrivateEvent::RequestSent(a(&mut r)?)),
        "p-started" => Event::Private(PrivateEvent::Started(a(&mut r)?)),
        "p-declined" => Event::Private(PrivateEvent::Declined(a(&mut r)?)),
        "p-expired" => Event::Private(PrivateEvent::Expired(a(&mut r)?)),
        "p-stopped" => Event::Private(PrivateEvent::Stopped(a(&mut r)?)),
        "p-dial" => Event::Private(PrivateEvent::Dial {
            user: a(&mut r)?,
            ip: a(&mut r)?.parse().ok()?,
            port: u16::try_from(u32::read(&mut r)?).ok()?,
            token: a(&mut r)?,
            // Checked as `p2p-port` checked it: the key ends up in a client's `P2P` line.
            key: match Option::<Arc<str>>::read(&mut r)? {
                Some(key) => Some(Arc::from(crate::valid::PeerKey::new(&key).ok()?.as_str())),
                None => None,
            },
        }),
        "p-expect" => Event::Private(PrivateEvent::Expect {
            user: a(&mut r)?,
            token: a(&mut r)?,
        }),
        "p-address" => Event::Private(PrivateEvent::Address {
            user: a(&mut r)?,
            ip: a(&mut r)?.parse().ok()?,
            port: u16::try_from(u32::read(&mut r)?).ok()?,
        }),
        _ => return None,
    };
    r.finish().then_some(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Arc<str> {
        Arc::from(x)
    }

    #[test]
    fn forwarded_events_read_back_whatever_their_text() {
        let events = [
            Event::Chat {
                from: s("a"),
                to: Audience::Direct(s("b")),
                text: s("tab\there\nnewline \\ back  "),
                meta: Meta {
                    kind: Kind::Action,
                    stamp: Stamp {
                        at_ms: 7,
                        id: 7 << 12,
                    },
                    account: Some(s("yoda")),
                    relay: Some(s("+draft/reply=a\\sb")),
                },
            },
            Event::Chat {
                from: s("a"),
                to: Audience::Echo(s("b")),
                text: s("mine"),
                meta: crate::event::test_meta(false),
            },
            Event::Chat {
                from: s("a"),
                to: Audience::Everyone,
                text: s(""),
                meta: crate::event::test_meta(false),
            },
            Event::Away {
                user: s("a"),
                message: Some(s("out\tto lunch\n")),
                watched: true,
            },
            Event::Away {
                user: s("a"),
                message: None,
                watched: false,
            },
            Event::Presence {
                user: s("a"),
                online: false,
            },
            Event::Room(RoomEvent::Left {
                room: s("den"),
                user: s("a"),
                reason: None,
            }),
            Event::Room(RoomEvent::Chat {
                room: s("den"),
                from: s("x"),
                text: s("hi"),
                meta: crate::event::test_meta(true),
            }),
            Event::Room(RoomEvent::Joined {
                room: s("den"),
                user: s("x"),
                account: Some(s("x")),
                realname: s("X \t Y"),
            }),
            Event::Room(RoomEvent::Kicked {
                room: s("den"),
                by: s("o"),
                user: s("x"),
                reason: s("out\tnow"),
            }),
            Event::Room(RoomEvent::Closed(s("den"))),
            Event::Room(RoomEvent::TopicSet {
                room: s("den"),
                by: s("o"),
                topic: Some(Topic {
                    text: s("t"),
                    by: s("o"),
                    at_ms: 5,
                }),
            }),
            Event::Room(RoomEvent::Changed {
                room: s("den"),
                by: s("o"),
                changes: s("+k"),
                args: vec![s("key")],
            }),
            Event::Invitation {
                by: s("o p"),
                room: s("den\t"),
                account: Some(s("o")),
            },
            Event::Invitation {
                by: s("o"),
                room: s("den"),
                account: None,
            },
            Event::Room(RoomEvent::Invited {
                room: s("den"),
                by: s("o"),
                user: s("x\ny"),
            }),
            Event::Private(PrivateEvent::Asked(s("a"))),
            Event::Private(PrivateEvent::Stopped(s("b c"))),
            Event::Private(PrivateEvent::Dial {
                user: s("y"),
                ip: "::1".parse().unwrap(),
                port: 65535,
                token: s("00ff"),
                key: None,
            }),
            Event::Private(PrivateEvent::Dial {
                user: s("y"),
                ip: "10.0.0.7".parse().unwrap(),
                port: 1,
                token: s("00ff"),
                key: Some(s(&"5e".repeat(32))),
            }),
            Event::Private(PrivateEvent::Address {
                user: s("y"),
                ip: "10.0.0.7".parse().unwrap(),
                port: 1,
            }),
        ];
        let targets = [Target::Conn(s("3.1")), Target::Room(s("den")), Target::All];
        let tagged: Vec<(Target, Event)> = events
            .iter()
            .zip(targets.iter().cycle())
            .map(|(e, t)| (t.clone(), e.clone()))
            .collect();
        let after = StreamId { ms: 9, seq: 2 };
        let text = encode(after, "n1", &tagged);
        let back = decode(&text).unwrap();
        assert_eq!((back.after, back.origin.as_str()), (after, "n1"));
        assert_eq!(back.events, tagged);
    }

    #[test]
    fn junk_is_dropped() {
        assert_eq!(decode("nonsense"), None);
        let m = decode("1-1\tn\nno tab here\nc\t2.2\tchat\tonly-from\nx\ty").unwrap();
        assert!(m.events.is_empty());
        assert_eq!(encode_event(&Event::Welcome(s("a"))), None);
    }
}
