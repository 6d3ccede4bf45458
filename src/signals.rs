//! SIGINT, SIGTERM and SIGHUP as one more source in the loop's poll (signal-hook-mio: the
//! handler only writes to a self-pipe, the loop reads it). SIGINT and SIGTERM ask for the
//! graceful shutdown; SIGHUP reads the config file again (issue 21) and the TLS certificate
//! and key (issue 18); without the handler it would kill the server when the terminal that
//! started it closes.

use mio::{Interest, Registry, Token};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::io;

/// What a received signal asks of the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT or SIGTERM: shut down gracefully.
    Stop,
    /// SIGHUP: reload the config file and the TLS certificate and key.
    Hangup,
}

pub struct Signals {
    inner: signal_hook_mio::v1_0::Signals,
}

impl std::fmt::Debug for Signals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signals")
    }
}

impl Signals {
    /// Install the handlers and register their pipe with `registry`.
    pub fn register(registry: &Registry, token: Token) -> io::Result<Signals> {
        let mut inner = signal_hook_mio::v1_0::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        registry.register(&mut inner, token, Interest::READABLE)?;
        Ok(Signals { inner })
    }

    /// The signals received since the last call, in order.
    pub fn pending(&mut self) -> Vec<Signal> {
        self.inner
            .pending()
            .map(|s| match s {
                SIGHUP => Signal::Hangup,
                _ => Signal::Stop,
            })
            .collect()
    }
}
