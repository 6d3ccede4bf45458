//! Live traffic between nodes: events for users on another node, sent with `PUBLISH` to that
//! node's channel. A message is the id of the last stream entry the sender had applied, then
//! one line per event (`<conn>\t<event>`, in the record field codec, so any text travels). The
//! receiver holds a message until its own tail has applied that entry: nobody sees an event
//! before the state changes that came before it on the sender's node.
//!
//! Only events one user's command can send another cross nodes; every other kind is made by
//! each node for its own users (presence, from the records) or answers the sender itself.

use super::journal::StreamId;
use crate::event::{Audience, Event, Notice, RoomEvent};
use crate::record::{Field, Reader, Writer};
use std::sync::Arc;

/// A message's events, for connections of the receiving node.
#[derive(Debug, PartialEq)]
pub struct Message {
    pub after: StreamId,
    pub events: Vec<(String, Event)>,
}

/// The text of one message.
pub fn encode(after: StreamId, events: &[(Arc<str>, Event)]) -> String {
    let mut out = after.to_string();
    for (conn, event) in events {
        if let Some(text) = encode_event(event) {
            out.push('\n');
            out.push_str(conn);
            out.push('\t');
            out.push_str(&text);
        }
    }
    out
}

pub fn decode(payload: &str) -> Option<Message> {
    let mut lines = payload.split('\n');
    let after = StreamId::parse(lines.next()?)?;
    let events = lines
        .filter_map(|l| {
            let (conn, text) = l.split_once('\t')?;
            Some((conn.to_string(), decode_event(text)?))
        })
        .collect();
    Some(Message { after, events })
}

fn w(kind: &'static str) -> Writer {
    Writer::new(kind)
}

/// An event as one line; `None` for the kinds that never cross nodes.
pub fn encode_event(event: &Event) -> Option<String> {
    let mut out;
    match event {
        Event::Chat { from, to, text } => {
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
            }
            text.write(&mut out);
        }
        Event::Presence { user, online } => {
            out = w("presence");
            user.write(&mut out);
            online.write(&mut out);
        }
        Event::ServerAnnouncement(text) => {
            out = w("announcement");
            text.write(&mut out);
        }
        Event::Notice(Notice::Replaced(user)) => {
            out = w("replaced");
            user.write(&mut out);
        }
        Event::Room(RoomEvent::Chat { room, from, text }) => {
            out = w("room-chat");
            room.write(&mut out);
            from.write(&mut out);
            text.write(&mut out);
        }
        Event::Room(RoomEvent::Joined { room, user }) => {
            out = w("room-joined");
            room.write(&mut out);
            user.write(&mut out);
        }
        Event::Room(RoomEvent::Left { room, user, reason }) => {
            out = w("room-left");
            room.write(&mut out);
            user.write(&mut out);
            reason.write(&mut out);
        }
        Event::Room(RoomEvent::Closed(room)) => {
            out = w("room-closed");
            room.write(&mut out);
        }
        Event::Room(RoomEvent::Removed(room)) => {
            out = w("room-removed");
            room.write(&mut out);
        }
        Event::TopicSet { room, by, text } => {
            out = w("topic-set");
            room.write(&mut out);
            by.write(&mut out);
            text.write(&mut out);
        }
        Event::Kicked {
            room,
            by,
            user,
            reason,
        } => {
            out = w("kicked");
            room.write(&mut out);
            by.write(&mut out);
            user.write(&mut out);
            reason.write(&mut out);
        }
        Event::RoomChat {
            room,
            from,
            text,
            notice,
        } => {
            out = w("channel-chat");
            room.write(&mut out);
            from.write(&mut out);
            text.write(&mut out);
            notice.write(&mut out);
        }
        Event::Joined { room, user } => {
            out = w("channel-joined");
            room.write(&mut out);
            user.write(&mut out);
        }
        Event::Parted { room, user, reason } => {
            out = w("channel-parted");
            room.write(&mut out);
            user.write(&mut out);
            reason.write(&mut out);
        }
        Event::Quit { user, reason } => {
            out = w("quit");
            user.write(&mut out);
            reason.write(&mut out);
        }
        _ => {
            log::debug!("not forwarded to another node: {event:?}");
            return None;
        }
    }
    Some(out.finish().as_str().to_string())
}

pub fn decode_event(text: &str) -> Option<Event> {
    let mut r = Reader::new(text);
    let a = |r: &mut Reader<'_>| Arc::<str>::read(r);
    let event = match r.raw()? {
        "chat" => {
            let from = a(&mut r)?;
            let to = match r.raw()? {
                "dm" => Audience::Direct(a(&mut r)?),
                "broadcast" => Audience::Everyone,
                "announce" => Audience::Announcement,
                "private" => Audience::Private(a(&mut r)?),
                _ => return None,
            };
            Event::Chat {
                from,
                to,
                text: a(&mut r)?,
            }
        }
        "presence" => Event::Presence {
            user: a(&mut r)?,
            online: bool::read(&mut r)?,
        },
        "announcement" => Event::ServerAnnouncement(a(&mut r)?),
        "replaced" => Event::Notice(Notice::Replaced(a(&mut r)?)),
        "room-chat" => Event::Room(RoomEvent::Chat {
            room: a(&mut r)?,
            from: a(&mut r)?,
            text: a(&mut r)?,
        }),
        "room-joined" => Event::Room(RoomEvent::Joined {
            room: a(&mut r)?,
            user: a(&mut r)?,
        }),
        "room-left" => Event::Room(RoomEvent::Left {
            room: a(&mut r)?,
            user: a(&mut r)?,
            reason: Option::<Arc<str>>::read(&mut r)?,
        }),
        "room-closed" => Event::Room(RoomEvent::Closed(a(&mut r)?)),
        "room-removed" => Event::Room(RoomEvent::Removed(a(&mut r)?)),
        "topic-set" => Event::TopicSet {
            room: a(&mut r)?,
            by: a(&mut r)?,
            text: a(&mut r)?,
        },
        "kicked" => Event::Kicked {
            room: a(&mut r)?,
            by: a(&mut r)?,
            user: a(&mut r)?,
            reason: a(&mut r)?,
        },
        "channel-chat" => Event::RoomChat {
            room: a(&mut r)?,
            from: a(&mut r)?,
            text: a(&mut r)?,
            notice: bool::read(&mut r)?,
        },
        "channel-joined" => Event::Joined {
            room: a(&mut r)?,
            user: a(&mut r)?,
        },
        "channel-parted" => Event::Parted {
            room: a(&mut r)?,
            user: a(&mut r)?,
            reason: a(&mut r)?,
        },
        "quit" => Event::Quit {
            user: a(&mut r)?,
            reason: a(&mut r)?,
        },
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
        let events = vec![
            Event::Chat {
                from: s("a"),
                to: Audience::Direct(s("b")),
                text: s("tab\there\nnewline \\ back  "),
            },
            Event::Chat {
                from: s("a"),
                to: Audience::Everyone,
                text: s(""),
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
            Event::RoomChat {
                room: s("den"),
                from: s("x"),
                text: s("hi"),
                notice: true,
            },
            Event::Kicked {
                room: s("den"),
                by: s("o"),
                user: s("x"),
                reason: s("out\tnow"),
            },
            Event::Room(RoomEvent::Closed(s("den"))),
        ];
        let tagged: Vec<(Arc<str>, Event)> = events.iter().map(|e| (s("3.1"), e.clone())).collect();
        let after = StreamId { ms: 9, seq: 2 };
        let text = encode(after, &tagged);
        let back = decode(&text).unwrap();
        assert_eq!(back.after, after);
        let got: Vec<Event> = back
            .events
            .into_iter()
            .map(|(c, e)| {
                assert_eq!(c, "3.1");
                e
            })
            .collect();
        assert_eq!(got, events);
    }

    #[test]
    fn junk_is_dropped() {
        assert_eq!(decode("nonsense"), None);
        let m = decode("1-1\nno tab here\n2.2\tchat\tonly-from").unwrap();
        assert!(m.events.is_empty());
        assert_eq!(encode_event(&Event::Welcome), None);
    }
}
