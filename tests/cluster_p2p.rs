//! `chatclient --tls` peer links between users of different cluster nodes (issue 23, PROTOCOL.md
//! §4a): each client registers its port with the fingerprint of its link key on its own node,
//! the `P2pPort` record carries the key through the stream, and the requester on the other
//! node pins it. Starts its own `redis-server` on a free loopback port and two nodes with a TLS
//! line port each.
#![cfg(all(feature = "cluster", feature = "tls"))]

mod chatclient_util;
mod cluster_util;
mod common;
mod tls_util;

use chatclient_util::Client as ChatClient;
use cluster_util::{Node, Redis};
use std::net::{SocketAddr, TcpListener};
use tls_util::{Pair, Pki};

/// Node `name` with a line-protocol TLS port serving `pair`; returns it and the TLS address.
fn tls_node(redis: &Redis, name: &str, pair: &Pair) -> (Node, SocketAddr) {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("local_addr").port().to_string()
    };
    let (cert, key) = (
        pair.cert.display().to_string(),
        pair.key.display().to_string(),
    );
    let args = ["--tls-port", &port, "--tls-cert", &cert, "--tls-key", &key];
    let node = Node::start(redis, name, &args);
    let tls = SocketAddr::new(node.line.ip(), port.parse().expect("port"));
    (node, tls)
}

/// yoda on node 1 and hans on node 2, both `chatclient --tls`: the private session is asked,
/// accepted and linked across the nodes, and its messages go over the pinned TLS peer link, as
/// they still do once both nodes are gone (`kill -9`); neither client fell back to the relay.
#[test]
fn a_tls_peer_link_works_between_users_of_two_nodes() {
    let redis = Redis::start();
    let pki = Pki::new("cluster-p2p");
    let pair = pki.issue("server");
    let (mut n1, tls1) = tls_node(&redis, "n1", &pair);
    let (mut n2, tls2) = tls_node(&redis, "n2", &pair);
    let ca = pki.ca_file().display().to_string();
    let mut yoda = ChatClient::spawn(tls1, &["--tls", "--ca", &ca]);
    yoda.log_in("yoda", "wise");
    let mut hans = ChatClient::spawn(tls2, &["--tls", "--ca", &ca]);
    hans.log_in("hans", "falcon*solo");
    yoda.wait_for("hans logged in\n");
    yoda.type_line("message hans across the nodes");
    hans.wait_for("yoda: across the nodes\n");
    yoda.type_line("startprivate hans");
    hans.wait_for("yoda would like to start a private session.");
    hans.type_line("y yoda");
    yoda.wait_for("Start private messaging with hans\n");
    yoda.type_line("private hans over the peer link");
    hans.wait_for("yoda(private): over the peer link\n");
    hans.type_line("private yoda and back");
    yoda.wait_for("hans(private): and back\n");
    // The link is the clients' own: it outlives both nodes.
    n1.kill();
    n2.kill();
    yoda.wait_for("Server connection lost; reconnecting\n");
    hans.type_line("private yoda with no node left");
    yoda.wait_for("hans(private): with no node left\n");
    for c in [&yoda, &hans] {
        let out = c.output();
        assert_eq!(c.count("Direct link to"), 0, "{out}");
        assert_eq!(c.count("go through the server"), 0, "{out}");
        assert_eq!(c.count("P2P"), 0, "machine lines are never shown: {out}");
    }
}
