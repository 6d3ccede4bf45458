//! The events protocol (issue 19, PROTOCOL.md §9): the core's own vocabulary as JSON, one
//! object per line (`--events-port`, for bots) or per WebSocket message (the page). Each core
//! [`Input`](crate::input::Input) is a request ([`request::Request`]), each
//! [`Event`] an object with a `type` ([`render`]). A request may carry an `id`: the replies to
//! it echo it, and a `done` object with it says the last of them has been sent.
//!
//! The `id` rides on the core's reply order: the codec reserves a ticket before the request's
//! input and one after it (`Sink::reserve`, as IRC does for its own numerics), so every event
//! queued between the two is a reply to that request, whatever else happens meanwhile.

pub mod fields;
pub mod render;
pub mod request;

use super::{flow, line::Piece, line::Splitter, Sink};
use crate::event::{Event, Ticket};
use crate::input::{Input, LineError};
use request::{Envelope, IdOnly};
use std::collections::VecDeque;

/// What a reserved ticket stands for.
#[derive(Debug)]
enum Marker {
    /// Replies to the request with this id (JSON text) follow.
    Start(Box<str>),
    /// The request with the current id is answered: `done`.
    End,
    /// A request that did not parse: its error (serde's words), with its id if it had one.
    Refusal { id: Option<Box<str>>, why: Box<str> },
}

/// One connection's events codec.
#[derive(Debug, Default)]
pub struct EventsCodec {
    splitter: Splitter,
    /// Markers issued and not yet rendered, oldest first, with their ticket numbers.
    markers: VecDeque<(u32, Marker)>,
    next: u32,
    /// The id of the request whose replies are being rendered.
    current: Option<Box<str>>,
}

impl EventsCodec {
    /// Decode lines until the sink stops wanting more; returns the bytes consumed.
    pub fn decode(&mut self, data: &[u8], max: usize, sink: &mut impl Sink) -> usize {
        let Self {
            splitter,
            markers,
            next,
            ..
        } = self;
        // The splitter judges only a line still coming; one that arrives whole in a read is
        // judged here (a 60 KiB request came through as a 60 KiB broadcast).
        splitter.feed(data, max + 1, |piece| {
            match piece {
                Piece::Line(line) if line.strip_suffix(b"\r").unwrap_or(line).len() <= max => {
                    request(line, markers, next, sink)
                }
                Piece::Line(_) | Piece::TooLong(_) => sink.input(Input::Bad(LineError::TooLong)),
            }
            flow(sink)
        })
    }

    /// End of input: an unterminated last line still counts (as on the line port).
    pub fn finish(&mut self, max: usize, sink: &mut impl Sink) {
        let Self {
            splitter,
            markers,
            next,
            ..
        } = self;
        splitter.finish(|tail| {
            if tail.len() <= max {
                request(tail, markers, next, sink);
            }
        });
    }

    /// Render `event`; a reserved ticket becomes what it marks.
    pub fn encode(&mut self, event: &Event, out: &mut Vec<u8>) {
        let Event::Reserved(Ticket(t)) = event else {
            return render::render(event, self.current.as_deref(), out);
        };
        while let Some((n, marker)) = self.markers.pop_front() {
            if n != *t {
                continue; // a marker whose reply was lost with its connection state
            }
            match marker {
                Marker::Start(id) => self.current = Some(id),
                Marker::End => {
                    let id = self.current.take();
                    render::Obj::new(out, id.as_deref(), "done").end();
                }
                Marker::Refusal { id, why } => {
                    render::Obj::new(out, id.as_deref(), "error")
                        .str("code", "bad_request")
                        .str("text", &format!("Error. Bad request: {why}"))
                        .end();
                    // Its only reply: a bot waiting for the id's `done` gets it here too.
                    if id.is_some() {
                        render::Obj::new(out, id.as_deref(), "done").end();
                    }
                }
            }
            return;
        }
    }

    /// Whether `event` renders the same for every events connection: not while a reply
    /// carries this connection's request id.
    pub fn shareable(&self, event: &Event) -> bool {
        self.current.is_none() && !matches!(event, Event::Reserved(_))
    }
}

/// One line: a request for the core, or a refusal the codec answers itself.
fn request(
    line: &[u8],
    markers: &mut VecDeque<(u32, Marker)>,
    next: &mut u32,
    sink: &mut impl Sink,
) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return sink.input(Input::Bad(LineError::InvalidUtf8));
    };
    let mut mark = |marker: Marker, sink: &mut dyn FnMut(Ticket)| {
        *next = next.wrapping_add(1);
        markers.push_back((*next, marker));
        sink(Ticket(*next));
    };
    match serde_json::from_str::<Envelope>(text) {
        Ok(Envelope { id, request }) => {
            let id = id.map(|id| id.json().into_boxed_str());
            let with_id = id.is_some();
            if let Some(id) = id {
                mark(Marker::Start(id), &mut |t| sink.reserve_opening(t));
            }
            request.with_input(|input| sink.input(input));
            if with_id {
                mark(Marker::End, &mut |t| sink.reserve(t));
            }
        }
        Err(e) => {
            let id = serde_json::from_str::<IdOnly>(text)
                .ok()
                .and_then(|r| r.id)
                .map(|id| id.json().into_boxed_str());
            let why = e.to_string().into_boxed_str();
            mark(Marker::Refusal { id, why }, &mut |t| sink.reserve(t));
        }
    }
}

#[cfg(test)]
mod tests;
