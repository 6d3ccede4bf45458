//! chatserver: a single-threaded chat server for raw TCP clients (`nc`, `telnet`) that speaks
//! the COMP3331 instant-messaging protocol and keeps its state crash-safe on disk.
//!
//! # Layout
//! - [`config`]: command line to [`config::Config`] (pure, unit-tested); `config::FLAGS` is the
//!   one table of flags that `--help`, the parser and README's flag table follow.
//! - [`credentials`]: the account list format and constant-time password checks; [`kdf`]:
//!   PBKDF2-HMAC-SHA256 in steps, so a slow hash never stalls the loop; [`scram`]: SASL
//!   SCRAM-SHA-256 on those keys (the password never crosses the wire); [`base64`] for both.
//! - [`logging`]: the log's line format (RFC 3339 UTC times unless journald stamps them) and
//!   its level, changeable on SIGHUP.
//! - [`time`]: [`time::Now`], the one clock reading per loop iteration the core is given.
//! - [`input`] and [`event`]: the seam. Front-ends hand the core semantic inputs and render
//!   the semantic events it emits; the core never sees a wire format.
//! - [`valid`]: the value rules (names, keys, masks, text) and the one casemapping; the core
//!   checks every value from every front-end with them, once.
//! - [`command`]: the command table (name, aliases, arity, states, activity, help line).
//! - [`protocol`]: one folder per wire protocol, each with its parser, its renderer and its
//!   login style: `line` (PROTOCOL.md's lines, every reply text in `protocol::line::text`),
//!   `json` (seed 002's objects; `json::objects` is the hand-written decoder and the seed's
//!   texts), `irc` (`irc::message` is the IRC wire format: framing, parsing, names), `events`
//!   (PROTOCOL.md §9: the core's inputs and events as JSON objects, for the page and bots;
//!   cargo feature `web`). A protocol sees plaintext only.
//! - [`transport`]: what carries a protocol's plaintext over a connection's TCP stream, with
//!   its own handshakes and write framing: `plain` (the stream as it is), `tls` (rustls driven
//!   by hand; `certs` loads and reloads the certificate and key), `web` (HTTP/1.1 requests,
//!   then an RFC 6455 WebSocket framing the protocol's plaintext, over plain or TLS; feature
//!   `web`; `server::web` routes the requests, serves the page, `/metrics` and `/healthz`).
//! - [`session`]: per-connection state, generational connection ids, deadlines.
//! - [`chat`]: the sans-IO core, state by concept (accounts, online, blocks, mailboxes,
//!   history, private sessions, one room engine for chat rooms and IRC channels, profiles, §6
//!   menu prompts), driven by
//!   `handle_*(…, now)`.
//! - [`timer`]: the hashed timer wheel of deadline hints the core sleeps on.
//! - [`record`]: durable facts the core emits and replays at start-up, and their text form:
//!   one table of kinds and typed fields, every field escaped (any value reads back).
//! - [`store`]: credentials file, checksummed journal, snapshots, group commit, recovery.
//! - `cluster` (feature `cluster`, issue 23): the other journal, a Redis stream shared by
//!   several nodes: the Redis link, batches out and entries in, forwarded events, liveness,
//!   snapshots in Redis.
//! - [`connection`]: a transport, a protocol and a bounded output queue; [`queue`]: that queue,
//!   shared chunks (a fan-out rendered once) and owned tails, written with `writev`.
//! - [`server`]: the thin mio loop over a table of listeners, each with its protocol and
//!   transport.
//! - [`console`]: the operator's stdin commands (§7) and their replies; [`signals`]: SIGINT and
//!   SIGTERM to the graceful shutdown, SIGHUP to a reload of the config file and the TLS certificate, polled by the loop; [`admin`]: the
//!   Unix admin socket that speaks the console's commands for `chatserver ctl`; [`tool`]: the
//!   operator's changes to durable state (accounts), shared by the server and the offline tools.
//!
//! # Data flow
//! `server` reads through the connection's `transport` → its `protocol` decodes the plaintext
//! into inputs (asking the core what it expects) → `chat` decides, emitting records and events
//! → `store` makes the records durable (one fdatasync per loop iteration) → `server` renders
//! each event with the recipient's protocol (fan-out once per protocol kind) and writes once
//! per connection per iteration through its transport. See ARCHITECTURE.md for the diagram and
//! where a new command, protocol or transport goes.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod base64;
pub mod chat;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod command;
pub mod config;
pub mod connection;
pub mod console;
pub mod credentials;
pub mod event;
pub mod input;
pub mod kdf;
pub mod logging;
pub mod protocol;
pub mod queue;
pub mod record;
pub mod scram;
pub mod server;
pub mod session;
pub mod signals;
pub mod store;
pub mod time;
pub mod timer;
pub mod tool;
pub mod transport;
pub mod valid;
