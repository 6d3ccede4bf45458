//! The loop's side of cluster mode (issue 23): the Redis links' poll events and timers, the
//! iteration's batch to the stream instead of the file journal, no clients before the node
//! has caught up, and connections whose command is on its way through the stream read again
//! once it has settled.

use super::backup::Requester;
use super::Server;
#[cfg(feature = "cluster")]
use crate::cluster::node::Node;
#[cfg(feature = "cluster")]
use crate::console::Reply;
use crate::session::ConnId;
use crate::time::Now;

/// Where this run's connection generations start (cluster mode). A connection's name in the
/// stream (`slot.gen`, `chat::cluster::conn_name`) outlives the run: a node started again
/// under its id logs out the users its earlier run left online under their names
/// (`Chat::log_out_orphans`), and with generations counted from 0 in every run its first
/// connections took those very names, and those logouts ended them (sent back to `Username: `
/// whatever they were doing). A random start (below 2^31: room to count on before wrapping)
/// makes a clash improbable.
#[cfg(feature = "cluster")]
fn first_gen() -> u32 {
    let random = crate::store::os_random::<4>().map(u32::from_le_bytes);
    let fallback = || {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        t.map(|d| d.subsec_nanos() ^ std::process::id().rotate_left(16))
            .unwrap_or_default()
    };
    random.unwrap_or_else(|_| fallback()) >> 1
}

#[cfg(feature = "cluster")]
impl Server {
    /// Serve as a node of a cluster: the node's links join this poll.
    pub fn with_cluster(mut self, mut node: Node) -> Server {
        node.set_tokens(super::Tok::Redis(0).token().0);
        self.chat.enable_cluster(node.id());
        self.cluster = Some(node);
        self.doors_open = false;
        self.next_gen = first_gen();
        self
    }

    /// Clients are accepted: always with the file journal; in a cluster once caught up.
    pub(super) fn serving(&self) -> bool {
        self.cluster.as_ref().is_none_or(Node::is_ready)
    }

    pub(super) fn cluster_ready(&mut self, i: usize, event: &mio::event::Event, now: Now) {
        if let Some(node) = self.cluster.as_mut() {
            node.ready(i, event, self.poll.registry(), &mut self.chat, now);
        }
    }

    /// Reconnects and liveness; the first catch-up opens the doors (connections that came
    /// before wait in the backlog, their edge already spent: accept them now).
    pub(super) fn cluster_timeout(&mut self, now: Now) {
        if let Some(node) = self.cluster.as_mut() {
            node.handle_timeout(self.poll.registry(), &mut self.chat, now);
        }
        if !self.doors_open && self.serving() {
            self.doors_open = true;
            for i in 0..self.listeners.len() {
                self.accept(i, now);
            }
        }
    }

    /// The iteration's records to the stream; false with the file journal.
    pub(super) fn cluster_commit(&mut self, now: Now) -> bool {
        let Some(node) = self.cluster.as_mut() else {
            return false;
        };
        node.commit(&mut self.chat, now);
        true
    }

    pub(super) fn cluster_flush(&mut self, now: Now) {
        if let Some(node) = self.cluster.as_mut() {
            node.flush(self.poll.registry(), &mut self.chat, now);
        }
        // Operator account changes the stream decided.
        for (ticket, verdict) in self.chat.take_operator_answers() {
            let Some(i) = self.tickets.iter().position(|(t, ..)| *t == ticket) else {
                continue;
            };
            let (_, requester, done) = self.tickets.swap_remove(i);
            let reply = match verdict {
                Ok(()) => {
                    log::info!("operator: {}", done.trim_end());
                    Reply::ok(done)
                }
                Err(e) => Reply::err(format!("{e}\n")),
            };
            self.answer(requester, &reply);
        }
        // Connections whose command settled: their next input may be read.
        let chat = &self.chat;
        let unread = &mut self.unread;
        self.parked.retain(|id| {
            let waiting = chat.is_waiting(*id);
            if !waiting {
                unread.push(*id);
            }
            waiting
        });
    }

    pub(super) fn in_cluster(&self) -> bool {
        self.cluster.is_some()
    }

    /// An operator's account change went to the stream: `requester` is answered `done` (or
    /// why not) once it is decided there.
    pub(super) fn operator_waits(&mut self, ticket: u64, done: String, requester: Requester) {
        self.tickets.push((ticket, requester, done));
    }

    /// Whether `id` must not be read now (its command is on its way through the stream).
    pub(super) fn park_if_waiting(&mut self, id: ConnId) -> bool {
        let waiting = self.chat.is_waiting(id);
        if waiting && !self.parked.contains(&id) {
            self.parked.push(id);
        }
        waiting
    }

    pub(super) fn cluster_deadline(&self) -> Option<std::time::Instant> {
        self.cluster.as_ref().and_then(Node::poll_timeout)
    }

    /// Whether this node's state misses entries trimmed while it was cut off.
    pub(super) fn cluster_stale(&self) -> bool {
        self.cluster.as_ref().is_some_and(Node::is_stale)
    }

    /// Another running node holds this node's id: why this one stops (before any client).
    pub(super) fn cluster_refused(&self) -> Option<String> {
        self.cluster
            .as_ref()
            .and_then(Node::refused)
            .map(String::from)
    }

    /// The listeners, out of this poll, for the server that starts over (the others already
    /// logged this node's users out; their connections close with this server).
    pub(super) fn hand_back_listeners(&mut self) -> Vec<super::Listener> {
        let registry = self.poll.registry();
        self.listeners
            .drain(..)
            .map(|mut b| {
                let _ = registry.deregister(&mut b.socket);
                super::Listener {
                    socket: b.socket.into(),
                    protocol: b.protocol,
                    transport: b.transport,
                }
            })
            .collect()
    }
}

/// Without the cluster feature the file journal is the only one: every step is a no-op.
#[cfg(not(feature = "cluster"))]
impl Server {
    pub(super) fn serving(&self) -> bool {
        true
    }

    pub(super) fn cluster_ready(&mut self, _i: usize, _event: &mio::event::Event, _now: Now) {}

    pub(super) fn cluster_timeout(&mut self, _now: Now) {}

    pub(super) fn cluster_commit(&mut self, _now: Now) -> bool {
        false
    }

    pub(super) fn cluster_flush(&mut self, _now: Now) {}

    pub(super) fn park_if_waiting(&mut self, _id: ConnId) -> bool {
        false
    }

    pub(super) fn cluster_deadline(&self) -> Option<std::time::Instant> {
        None
    }

    pub(super) fn cluster_stale(&self) -> bool {
        false
    }

    pub(super) fn cluster_refused(&self) -> Option<String> {
        None
    }

    pub(super) fn in_cluster(&self) -> bool {
        false
    }

    pub(super) fn operator_waits(&mut self, _ticket: u64, _done: String, _requester: Requester) {}

    pub(super) fn hand_back_listeners(&mut self) -> Vec<super::Listener> {
        Vec::new()
    }
}
