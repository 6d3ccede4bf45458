//! chatserver: a single-threaded chat server for raw TCP clients (`nc`, `telnet`) that speaks
//! the COMP3331 instant-messaging protocol and keeps its state crash-safe on disk.
//!
//! # Layout
//! - [`config`]: command line to [`config::Config`] (pure, unit-tested).
//! - [`credentials`]: the account list format and constant-time password checks.
//! - [`protocol`]: lines to command enums, and the exact reply texts.
//! - [`session`]: per-connection state and the deadlines derived from it.
//! - [`chat`]: the sans-IO core: every rule of the protocol, driven by `handle_*(…, now)`.
//! - [`timer`]: the hashed timer wheel of deadline hints the core sleeps on.
//! - [`record`]: durable facts the core emits (one line each) and replays at start-up.
//! - [`store`]: credentials file, checksummed journal, snapshots, group commit, recovery
//!   (`format`: the line format and loader; `files`: atomic replace and append-with-undo;
//!   `accounts`: credentials.txt).
//! - [`connection`]: a socket with its bounded line framer and bounded output buffer.
//! - [`server`]: the thin mio loop that ties them together.
//! - [`json`]: the seed-002 client's JSON objects to requests, and its exact reply texts.
//!
//! # Data flow
//! `server` reads bytes → `connection` frames lines → `chat` decides, emitting records and
//! actions → `store` makes the records durable (one fdatasync per loop iteration) → `server`
//! performs the actions (one write per connection per iteration). Hot-path failures are small
//! enums (`LineError`, `Overflow`); start-up failures are `StoreError` with file and line.

pub mod chat;
pub mod config;
pub mod connection;
pub mod credentials;
pub mod json;
pub mod protocol;
pub mod record;
pub mod server;
pub mod session;
pub mod store;
pub mod timer;
