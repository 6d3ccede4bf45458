//! The seed-002 JSON front-end codec, sans-IO: bytes of back-to-back JSON objects in,
//! [`Request`]s out, and the client's exact reply texts ([`wire`]). Depends on nothing else in
//! the crate; the server plugs a [`JsonCodec`] into each connection of its JSON listener.
//!
//! The decoder is hand-written rather than serde_json: the grammar needed is one flat object
//! of strings, the code is small, keeps the embedded binary small, and adds no dependency.
//!
//! - `split`: the incremental, string-aware, bounded object splitter.
//! - `request`: one object to a [`Request`].
//! - [`wire`]: every text the server sends to this client.

mod request;
mod split;
pub mod wire;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

pub use request::{Request, MAX_DEPTH};
pub use split::Splitter;
use std::ops::ControlFlow;

/// Why some input gave no request. The front-end answers [`JsonError::Invalid`] and
/// [`JsonError::ObjectTooLong`] with [`wire::INVALID_REQUEST`]; the connection stays usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    /// Malformed JSON, invalid UTF-8, a missing or non-string key, or junk between objects.
    Invalid,
    /// An object longer than the limit; it is skipped up to its closing brace.
    ObjectTooLong,
    /// The stream ended inside an object (from [`JsonCodec::finish`] only).
    Truncated,
}

/// Whether a connection's first bytes look like this client: the first non-whitespace byte
/// is `{`. `None` while only whitespace has arrived.
pub fn sniff(data: &[u8]) -> Option<bool> {
    data.iter()
        .find(|&&b| !split::is_space(b))
        .map(|&b| b == b'{')
}

/// One connection's decoder: feed it whatever `read` returned, get requests in order.
#[derive(Debug, Default)]
pub struct JsonCodec {
    split: Splitter,
}

impl JsonCodec {
    pub fn new() -> Self {
        Self::default()
    }

    /// The text to write on accept, before anything is read.
    pub fn greet() -> &'static str {
        wire::GREETING
    }

    /// Decodes every object completed by `data`, in order, objects longer than `max` bytes
    /// refused, until `emit` says break; returns the bytes consumed. Holds at most `max` bytes
    /// between calls.
    pub fn decode(
        &mut self,
        data: &[u8],
        max: usize,
        mut emit: impl FnMut(Result<Request, JsonError>) -> ControlFlow<()>,
    ) -> usize {
        self.split
            .feed(data, max, |object| emit(object.and_then(Request::parse)))
    }

    /// End of stream: `Err(Truncated)` if it stopped inside an object. Resets the codec.
    pub fn finish(&mut self) -> Result<(), JsonError> {
        self.split.finish()
    }

    /// Bytes held for an unfinished object (for memory accounting).
    pub fn buffered(&self) -> usize {
        self.split.buffered()
    }
}
