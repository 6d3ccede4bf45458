//! The seed-002 JSON front-end (PROTOCOL.md §6): the client's objects become the same core
//! inputs the line codec produces, and core events are rendered as the seed's texts
//! ([`crate::protocol::json::objects::wire`]). The core never learns this wire exists.
//!
//! | object / event | core input / JSON text |
//! |---|---|
//! | `<first>` | `Input::Guest` |
//! | `<list>` | `Input::ListAddrs` → `Event::UserAddrs` → the seed's list (others' addresses `hidden : 0`) |
//! | `<private>` | `Input::Message` → recipient: `From a to b: text` |
//! | `<announce>`, unknown msgType | `Input::Announce` → everyone: `\n{sender}: {text}` |
//! | `<quit>` | `Input::Exit` → `<quit>` alone, then close |
//! | malformed object / too long | `Input::Invalid` / `Input::Bad(TooLong)` |
//! | `Presence` | `\nServer: {name} has joined the chat room!` / `\n[*] {name} has left the chat room.` |
//! | `Chat` broadcast or announcement | `\n{sender}: {text}` |
//! | `ServerAnnouncement` | `\nAnnouncement from server: {text}` |
//! | errors of `message` | the seed's DM error |
//! | `InvalidCommand` | `\n[*] Invalid request` |
//! | `NameTaken` / `InvalidUsername` | `\n[*] Name taken, choose another` / `\n[*] Invalid name, …` |
//! | notices that close the session | `\n[*] {line text}`, then `<quit>` in a write of its own |
//! | `Prompt`, `LoggedOut` | nothing (guests have no prompts; `<quit>` says goodbye) |
//! | anything else | `\n[*] {line text without its newline}` |

pub mod objects;

use super::{flow, line::text as line_text, Boundary, Sink};
use crate::event::{Audience, Error, Event, Kind, Notice};
use crate::input::{Input, LineError};
use crate::protocol::json::objects::{wire, JsonCodec, JsonError, Request};

/// One connection's JSON decoder.
#[derive(Debug, Default)]
pub struct JsonFront {
    codec: JsonCodec,
}

impl JsonFront {
    /// Decode until the sink stops wanting more; returns the bytes consumed.
    pub fn decode(&mut self, data: &[u8], max: usize, sink: &mut impl Sink) -> usize {
        self.codec.decode(data, max, |request| {
            match request {
                Ok(r) => sink.input(input_of(&r)),
                Err(e) => sink.input(refusal(e)),
            }
            flow(sink)
        })
    }

    /// End of input: an object cut off by the close is dropped (there is nobody to answer).
    pub fn finish(&mut self) {
        if self.codec.finish().is_err() {
            log::debug!("JSON connection closed inside an object");
        }
    }
}

/// The core input a request stands for.
pub fn input_of(r: &Request) -> Input<'_> {
    match r {
        Request::First { name } => Input::Guest {
            name,
            any_free: true,
        },
        Request::List => Input::ListAddrs,
        Request::Private { target, text } => Input::Message {
            to: target,
            text,
            kind: Kind::Say,
            relay: None,
        },
        Request::Announce { text } => Input::Announce { text },
        // The seed's server treats any other msgType as an announcement.
        Request::Other { content, .. } => Input::Announce { text: content },
        Request::Quit => Input::Exit,
    }
}

fn refusal(e: JsonError) -> Input<'static> {
    match e {
        JsonError::ObjectTooLong => Input::Bad(LineError::TooLong),
        JsonError::Invalid | JsonError::Truncated => Input::Invalid,
    }
}

/// Whether `event` renders the same for every JSON connection and needs no write boundary.
pub fn shareable(event: &Event) -> bool {
    !matches!(event, Event::Goodbye | Event::Notice(_) | Event::Error(_))
}

/// Whether the core closes the session right after this event: the client is then sent
/// `<quit>` so it stops reading (it spins on a closed socket otherwise).
fn closes(event: &Event) -> bool {
    matches!(
        event,
        Event::Notice(
            Notice::ServerShutdown
                | Notice::Kicked
                | Notice::AccountDeleted
                | Notice::Inactive
                | Notice::Replaced(_)
                | Notice::NowLocked
                | Notice::StillLocked
        ) | Event::Error(Error::LoginTimeout | Error::ServerFull | Error::TooManyFromAddress)
    )
}

/// Append the JSON client's text for `event` to `out`.
pub fn render(event: &Event, out: &mut Vec<u8>) -> Boundary {
    let text = match event {
        Event::GuestWelcome(name) => wire::welcome(name),
        Event::Presence { user, online: true } => wire::joined(user),
        Event::Presence {
            user,
            online: false,
        } => wire::left(user),
        // Issue 22: the sender's own copy, CTCP and tags are IRC's alone; an action reads
        // `* hans waves`.
        Event::Chat {
            to: Audience::Echo(_),
            ..
        } => return Boundary::None,
        Event::Chat { meta, .. } if !meta.kind.is_text() => return Boundary::None,
        Event::Chat {
            from, text, meta, ..
        } if meta.kind == Kind::Action => {
            let action = format!("* {from} {text}");
            match event {
                Event::Chat {
                    to: Audience::Direct(to) | Audience::Private(to),
                    ..
                } => wire::private(from, to, &action),
                _ => wire::announce(from, &action),
            }
        }
        Event::Chat {
            from,
            to: Audience::Direct(to) | Audience::Private(to),
            text,
            ..
        } => wire::private(from, to, text),
        Event::Chat { from, text, .. } => wire::announce(from, text),
        Event::UserAddrs(users) => {
            let rows: Vec<(&str, String, u16)> = users
                .iter()
                .map(|(name, addr)| match addr {
                    Some(a) => (&**name, a.ip().to_string(), a.port()),
                    // Issue 17, F13: another user's address is withheld (seed's layout kept).
                    None => (&**name, "hidden".to_string(), 0),
                })
                .collect();
            wire::user_list(rows.iter().map(|(n, ip, port)| (*n, ip.as_str(), *port)))
        }
        Event::ServerAnnouncement(text) => wire::server_announce(text),
        Event::Goodbye => {
            out.extend_from_slice(wire::QUIT.as_bytes());
            return Boundary::Alone;
        }
        Event::Prompt(_) | Event::LoggedOut => return Boundary::None,
        // IRC front-end (issue 12): a keepalive for wires that have one; IRC's reserved replies.
        Event::KeepAlive | Event::Reserved(_) => return Boundary::None,
        Event::Error(
            Error::InvalidUser
            | Error::MessageSelf
            | Error::BlockedByRecipient
            | Error::MailboxFull(_)
            | Error::Offline(_),
        ) => wire::DM_ERROR.to_string(),
        Event::Error(Error::InvalidCommand) => wire::INVALID_REQUEST.to_string(),
        Event::Error(Error::NameTaken(_) | Error::AlreadyLoggedIn(_) | Error::UserExists(_)) => {
            wire::NAME_TAKEN.to_string()
        }
        Event::Error(Error::InvalidUsername) => wire::INVALID_NAME.to_string(),
        other => {
            let line = line_text::to_string(other);
            if line.is_empty() {
                // Issue 22: an event the line protocol does not show (most of modern IRC's).
                return Boundary::None;
            }
            let note = format!("{}{}", wire::NOTE, line.trim_end_matches('\n'));
            if closes(other) {
                out.extend_from_slice(note.as_bytes());
                out.extend_from_slice(wire::QUIT.as_bytes());
                return Boundary::Tail(wire::QUIT.len());
            }
            note
        }
    };
    out.extend_from_slice(text.as_bytes());
    Boundary::None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_meta;
    use std::sync::Arc;

    fn a(s: &str) -> Arc<str> {
        Arc::from(s)
    }

    fn text(event: &Event) -> (String, Boundary) {
        let mut out = Vec::new();
        let b = render(event, &mut out);
        (String::from_utf8_lossy(&out).into_owned(), b)
    }

    fn req(json: &str) -> Request {
        Request::parse(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e:?}"))
    }

    /// Each of the client's objects (as Python's json.dumps writes them) maps to one input.
    #[test]
    fn requests_map_to_core_inputs() {
        let first = req(r#"{"msgType": "<first>", "content": "Mooyeong"}"#);
        assert_eq!(
            input_of(&first),
            Input::Guest {
                name: "Mooyeong",
                any_free: true
            }
        );
        let list = req(r#"{"msgType": "<list>", "content": ""}"#);
        assert_eq!(input_of(&list), Input::ListAddrs);
        let private = req(r#"{"msgType": "<private>", "content": "hi there", "target": "yoda"}"#);
        assert_eq!(
            input_of(&private),
            Input::Message {
                to: "yoda",
                text: "hi there",
                kind: Kind::Say,
                relay: None,
            }
        );
        let announce = req(r#"{"msgType": "<announce>", "content": "yo"}"#);
        assert_eq!(input_of(&announce), Input::Announce { text: "yo" });
        let other = req(r#"{"msgType": "<shout>", "content": "hey"}"#);
        assert_eq!(input_of(&other), Input::Announce { text: "hey" });
        let quit = req(r#"{"msgType": "<quit>", "content": ""}"#);
        assert_eq!(input_of(&quit), Input::Exit);
        assert_eq!(refusal(JsonError::Invalid), Input::Invalid);
        assert_eq!(
            refusal(JsonError::ObjectTooLong),
            Input::Bad(LineError::TooLong)
        );
    }

    /// Core events as the seed's texts, byte for byte.
    #[test]
    fn events_render_as_the_seed_texts() {
        let none = Boundary::None;
        let cases: Vec<(Event, &str, Boundary)> = vec![
            (
                Event::GuestWelcome(a("Jeremy")),
                "\nServer: Welcome Jeremy!\n\nChoose msg options.\nType <help> to see the list of options\n",
                none,
            ),
            (
                Event::Presence { user: a("Jeremy"), online: true },
                "\nServer: Jeremy has joined the chat room!",
                none,
            ),
            (
                Event::Presence { user: a("Jeremy"), online: false },
                "\n[*] Jeremy has left the chat room.",
                none,
            ),
            (
                Event::Chat { from: a("A"), to: Audience::Direct(a("B")), text: a("hi"),  meta: test_meta(false) },
                "From A to B: hi",
                none,
            ),
            (
                Event::Chat { from: a("A"), to: Audience::Everyone, text: a("all"),  meta: test_meta(false) },
                "\nA: all",
                none,
            ),
            (
                Event::Chat { from: a("A"), to: Audience::Announcement, text: a("all"),  meta: test_meta(false) },
                "\nA: all",
                none,
            ),
            (
                Event::UserAddrs(vec![
                    (a("A"), "127.0.0.1:5000".parse().ok()),
                    (a("B"), None),
                ]),
                "\n[*] List of users \n    Client: 'A' ~ 127.0.0.1 : 5000\n   Client: 'B' ~ hidden : 0\n\n ",
                none,
            ),
            (Event::ServerAnnouncement(a("bye")), "\nAnnouncement from server: bye", none),
            (Event::Goodbye, "<quit>", Boundary::Alone),
            (Event::LoggedOut, "", none),
            (Event::Prompt(crate::event::Prompt::Username), "", none),
            (Event::Error(Error::InvalidUser), wire::DM_ERROR, none),
            (Event::Error(Error::MessageSelf), wire::DM_ERROR, none),
            (Event::Error(Error::BlockedByRecipient), wire::DM_ERROR, none),
            (Event::Error(Error::InvalidCommand), "\n[*] Invalid request", none),
            (Event::Error(Error::NameTaken(a("x"))), "\n[*] Name taken, choose another", none),
            (Event::Error(Error::InvalidUsername), wire::INVALID_NAME, none),
            (Event::Error(Error::LineTooLong), "\n[*] Error. Line too long", none),
            (
                Event::Notice(Notice::SomeNotDelivered),
                "\n[*] Your message could not be delivered to some recipients",
                none,
            ),
            (
                Event::Notice(Notice::ServerShutdown),
                "\n[*] Server shutting down<quit>",
                Boundary::Tail(6),
            ),
            (
                Event::Notice(Notice::Kicked),
                "\n[*] You have been kicked by the server<quit>",
                Boundary::Tail(6),
            ),
        ];
        for (event, want, boundary) in cases {
            assert_eq!(text(&event), (want.to_string(), boundary), "{event:?}");
        }
    }

    #[test]
    fn only_boundary_free_events_are_shared() {
        assert!(shareable(&Event::Presence {
            user: a("A"),
            online: true
        }));
        assert!(!shareable(&Event::Goodbye));
        assert!(!shareable(&Event::Notice(Notice::ServerShutdown)));
    }
}
