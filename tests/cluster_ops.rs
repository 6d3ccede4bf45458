//! A cluster on Redis as its operators run it (issue 23): nodes reaching Redis over TLS
//! (`rediss://`), the admin socket's account commands and backups in cluster mode, and a node
//! cut off from Redis for longer than the stream keeps its entries. Each test starts its own
//! `redis-server` (`--appendonly yes --appendfsync always`, free loopback ports).
#![cfg(feature = "cluster")]

mod cluster_util;
mod common;
mod tls_util;

use cluster_util::{Node, Redis};
use std::time::{Duration, Instant};
use tls_util::Pki;

/// Wait until `node`'s log holds `needle`.
#[track_caller]
fn wait_for_log(node: &Node, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = node.log();
        if log.contains(needle) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in the log:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `rediss://`: two nodes reach Redis only on its own TLS port (`--tls-port`), checking its
/// certificate against `--cluster-ca`; logins, presence and a DM go through the stream and
/// pub/sub as over plain TCP. A node given another CA refuses Redis's certificate: it never
/// catches up (so serves nobody) and its log says why.
#[test]
fn nodes_reach_redis_over_tls_and_check_its_certificate() {
    let pki = Pki::new("redis");
    let pair = pki.issue("redis");
    let redis = Redis::start_tls(&pair.cert, &pair.key);
    assert!(redis.url().starts_with("rediss://"));
    let ca = pki.ca_file();
    let ca = ca.to_str().expect("a UTF-8 path");
    let n1 = Node::start(&redis, "n1", &["--cluster-ca", ca]);
    let n2 = Node::start(&redis, "n2", &["--cluster-ca", ca]);
    let mut yoda = n1.login("yoda", "wise");
    let mut hans = n2.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
    hans.send("message yoda over TLS");
    yoda.expect("hans: over TLS\n");
    yoda.send("whoelse");
    yoda.expect("hans\n");
    assert!(
        redis.stream_len() >= 2,
        "the logins are entries in the stream"
    );
    assert!(n1.log().contains("over TLS"), "{}", n1.log());

    let other = Pki::new("other");
    let wrong = other.ca_file();
    let n3 = Node::start(
        &redis,
        "n3",
        &["--cluster-ca", wrong.to_str().expect("UTF-8")],
    );
    let log = wait_for_log(&n3, "unreachable");
    assert!(log.contains("certificate"), "{log}");
    assert!(!log.contains("caught up"), "{log}");
}
