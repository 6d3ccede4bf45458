//! What users on different nodes of a cluster see of each other beyond messages (issue 23):
//! private sessions (§4) and the peer-to-peer handshake between nodes, and IRC's view of users
//! on other nodes (`WHOIS`, `WHO`: away, real name, operator). Each test starts its own
//! `redis-server` (`--appendonly yes --appendfsync always`, a free loopback port) and two nodes.
#![cfg(feature = "cluster")]

mod cluster_util;
mod common;

use cluster_util::{Node, Redis};

/// §4 across nodes: hans on node 1 asks yoda on node 2, yoda accepts there; since yoda's
/// client registered a peer-to-peer port, both get the handshake lines with one token and
/// yoda's address; `private` lines cross both ways; yoda logging out ends the session for hans
/// (told before the logout line, as on one node).
#[test]
fn private_sessions_and_the_peer_handshake_cross_nodes() {
    let redis = Redis::start();
    let n1 = Node::start(&redis, "n1", &[]);
    let n2 = Node::start(&redis, "n2", &[]);
    let mut hans = n1.login("hans", "falcon*solo");
    let mut yoda = n2.login("yoda", "wise");
    hans.expect("yoda logged in\n");
    yoda.send("p2p-port 4567");
    hans.send("startprivate yoda");
    hans.expect("Request sent to yoda\n");
    yoda.expect(
        "hans would like to start a private session. Type 'y hans' to accept or 'n hans' to decline\n",
    );
    yoda.send("y hans");
    yoda.expect("Start private messaging with hans\n");
    let accept = yoda.expect_line();
    let token = accept
        .strip_prefix("P2P-ACCEPT hans ")
        .unwrap_or_else(|| panic!("{accept:?}"))
        .to_string();
    assert_eq!(token.len(), 32, "{accept:?}");
    hans.expect("Start private messaging with yoda\n");
    hans.expect(&format!("P2P yoda 127.0.0.1 4567 {token}\n"));
    hans.send("private yoda the plans");
    yoda.expect("hans(private): the plans\n");
    yoda.send("private hans received");
    hans.expect("yoda(private): received\n");
    hans.send("getaddress yoda");
    hans.expect("Request sent to yoda\n");
    yoda.expect(
        "hans would like to start a private session. Type 'y hans' to accept or 'n hans' to decline\n",
    );
    yoda.send("n hans");
    hans.expect("yoda declined private messaging\n");
    yoda.send("logout");
    yoda.expect("You have logged out\n");
    hans.expect("Private messaging with yoda stopped\n");
    hans.expect("yoda logged out\n");
    hans.send("private yoda anyone?");
    hans.expect("Error. Private messaging to yoda not enabled\n");
}
