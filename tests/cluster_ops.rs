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

/// A node cut off from Redis for longer than its TTL (frozen with SIGSTOP) while the other
/// writes a snapshot and trims the stream past the frozen node's position: on waking it finds
/// entries it never read are gone, starts over from the snapshot on the same ports, and then
/// knows what it missed (an offline message sent meanwhile is delivered on it).
#[test]
fn a_node_whose_position_was_trimmed_away_reloads_from_the_snapshot() {
    let redis = Redis::start();
    // Node 2 alone writes snapshots (node 1 frozen holding the snapshot lock would stop it).
    let n1 = Node::start(&redis, "n1", &["--node-ttl", "1"]);
    let n2 = Node::start(
        &redis,
        "n2",
        &["--node-ttl", "1", "--cluster-snapshot-every", "1"],
    );
    let mut hans = n1.login("hans", "falcon*solo");
    let mut yoda = n2.login("yoda", "wise");
    hans.expect("yoda logged in\n");
    n1.signal("STOP");
    yoda.expect("hans logged out\n"); // Node 1 recorded down: its key expired.
    yoda.send("message luke while node one slept");
    yoda.send("bogus");
    yoda.expect("Error. Invalid command\n");
    // The stream's last entry now (the message's or later), as a one-line reply.
    let sent = redis.command(
        "EVAL \"return {ok = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1][1]}\" \
         1 chatserver:journal",
    );
    let sent = sent.trim_start_matches('+');
    // More entries until a snapshot covers the message and the stream is trimmed past it.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        yoda.send("block luke");
        yoda.expect("luke is blocked\n");
        yoda.send("unblock luke");
        yoda.expect("luke is unblocked\n");
        // Trimmed: the stream no longer holds the entry of the message.
        let left = redis.command(&format!("XRANGE chatserver:journal - {sent} COUNT 1"));
        if left == "*0" {
            break;
        }
        assert!(Instant::now() < deadline, "never trimmed: {left}");
        std::thread::sleep(Duration::from_millis(200));
    }
    n1.signal("CONT");
    wait_for_log(&n1, "starting over from the snapshot");
    hans.drain_until_closed();
    // Served again on the same port once caught up: the message node 1 never read is there.
    let mut luke = n1.connect();
    luke.login("luke", "jedi");
    luke.expect("yoda: while node one slept\n");
    yoda.expect("luke logged in\n");
}

/// One line to `node`'s admin socket, and its reply.
fn ctl(node: &Node, line: &str) -> chatserver::console::Reply {
    let socket = node.dir.join("data/admin.sock");
    chatserver::admin::request(&socket, line, Some(Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// The admin socket's account commands on a cluster node go through the stream (issue 23):
/// an account added on node 1 logs in on node 2 and cannot be added again there, a password
/// changed on node 1 holds on node 2, a deletion on node 1 ends the user's session on node 2.
/// A backup asked of a node says where the state is instead of copying files that are not it.
#[test]
fn account_commands_hold_on_every_node_and_a_backup_says_where_the_state_is() {
    let redis = Redis::start();
    let n1 = Node::start(&redis, "n1", &[]);
    let n2 = Node::start(&redis, "n2", &[]);
    // A node still loading the snapshot answers "not caught up yet" (that rule is
    // `a_node_not_yet_caught_up_refuses_operator_changes_with_the_reason`); this test is about
    // what holds once both have read the stream.
    n1.wait_caught_up();
    n2.wait_caught_up();
    // As `chatserver user` sends them: hashed in the tool's process.
    let secret = |pw: &str| chatserver::credentials::Secret::pbkdf2(pw, [7; 16], 1000).to_string();
    let r = ctl(&n1, &format!("user add eve {}", secret("evepw")));
    assert_eq!((r.ok, r.text.as_str()), (true, "added eve\n"));
    // Refused by node 2's own view or by the stream: either way node 2 has eve now.
    let r = ctl(&n2, &format!("user add eve {}", secret("other")));
    assert_eq!((r.ok, r.text.as_str()), (false, "eve already exists\n"));
    let mut eve = n2.login("eve", "evepw");

    let r = ctl(&n1, &format!("user passwd luke {}", secret("newjedi")));
    assert_eq!((r.ok, r.text.as_str()), (true, "new password for luke\n"));
    // A change through node 2's stream position: it has applied the password since.
    let r = ctl(&n2, &format!("user add sync {}", secret("x")));
    assert_eq!((r.ok, r.text.as_str()), (true, "added sync\n"));
    let mut luke = n2.login("luke", "newjedi");
    eve.expect("luke logged in\n");

    let r = ctl(&n1, "user del eve");
    assert_eq!((r.ok, r.text.as_str()), (true, "deleted eve\n"));
    eve.expect("Your account has been deleted by the server\n");
    eve.expect_closed();
    luke.expect("eve logged out\n");
    let r = ctl(&n2, "user list");
    assert!(
        r.ok && !r.text.contains("eve") && r.text.contains("sync"),
        "{r:?}"
    );

    let r = ctl(&n1, "backup /tmp/never-written");
    assert!(!r.ok && r.text.contains("Redis"), "{r:?}");
    assert!(!std::path::Path::new("/tmp/never-written").exists());
}

/// In cluster mode the stream and its snapshot are the accounts, and credentials.txt only
/// seeds a world that has no snapshot yet: an account deleted on node 1 stays deleted on a node
/// started after a snapshot covered the deletion, though that node's credentials.txt still
/// lists it (it used to come back there, on that node alone).
#[test]
fn a_deleted_account_stays_deleted_on_a_node_whose_credentials_list_it() {
    let redis = Redis::start();
    let n1 = Node::start(&redis, "n1", &["--cluster-snapshot-every", "1"]);
    n1.wait_caught_up();
    let r = ctl(&n1, "user del luke");
    assert_eq!((r.ok, r.text.as_str()), (true, "deleted luke\n"));
    // The deletion's entry, and then a snapshot covering it.
    let deleted = redis.command(
        "EVAL \"return {ok = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1][1]}\" \
         1 chatserver:journal",
    );
    let deleted = stream_id(deleted.trim_start_matches('+'));
    let mut yoda = n1.login("yoda", "wise");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let pointer = redis.command(
            "EVAL \"return {ok = redis.call('GET', KEYS[1]) or '0-0'}\" 1 chatserver:snapshot",
        );
        if stream_id(pointer.trim_start_matches('+')) >= deleted {
            break;
        }
        assert!(Instant::now() < deadline, "no snapshot past {deleted:?}");
        yoda.send("block vader");
        yoda.expect("vader is blocked\n");
        yoda.send("unblock vader");
        yoda.expect("vader is unblocked\n");
        std::thread::sleep(Duration::from_millis(100));
    }
    let n2 = Node::start(&redis, "n2", &[]);
    n2.wait_caught_up();
    assert!(
        std::fs::read_to_string(n2.dir.join("credentials.txt"))
            .is_ok_and(|c| c.lines().any(|l| l.starts_with("luke "))),
        "node 2's credentials.txt lists luke"
    );
    let mut c = n2.connect();
    c.expect("Username: ");
    c.send("luke");
    // No such account: a new user may take the name (registration is open).
    c.expect("New user luke. Choose a password\nPassword: ");
    let r = ctl(&n2, "user list");
    assert!(
        r.ok && !r.text.contains("luke") && r.text.contains("yoda"),
        "{r:?}"
    );
    // Accounts the snapshot holds log in on node 2.
    n2.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
}

/// `ms-seq` as numbers, to order stream ids.
fn stream_id(id: &str) -> (u64, u64) {
    let (ms, seq) = id.trim().split_once('-').unwrap_or((id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

/// `--cluster-live`: live traffic between nodes goes through a Redis of its own, so the fsync
/// of the Redis holding the stream never holds a DM (BENCHMARKS.md, "Cluster on Redis"). A DM
/// and a room line cross the nodes; both nodes subscribe on the live Redis and nothing is
/// published on the stream's.
#[test]
fn live_traffic_goes_through_the_live_redis() {
    let redis = Redis::start();
    let live = Redis::start();
    let url = live.url();
    let n1 = Node::start(&redis, "n1", &["--cluster-live", &url]);
    let n2 = Node::start(&redis, "n2", &["--cluster-live", &url]);
    let mut yoda = n1.login("yoda", "wise");
    let mut hans = n2.login("hans", "falcon*solo");
    yoda.expect("hans logged in\n");
    hans.send("message yoda through the live Redis");
    yoda.expect("hans: through the live Redis\n");
    yoda.send("broadcast to every node");
    hans.expect("yoda: to every node\n");
    let subscribers = |r: &Redis| {
        r.command("EVAL \"return redis.call('PUBSUB', 'NUMSUB', KEYS[1])[2]\" 1 chatserver:live")
    };
    assert_eq!(subscribers(&live), ":2");
    assert_eq!(subscribers(&redis), ":0");
    let published = |r: &Redis| {
        r.command(
            "EVAL \"return string.find(redis.call('INFO', 'commandstats'), 'cmdstat_publish') \
             and 1 or 0\" 0",
        )
    };
    assert_eq!(published(&live), ":1");
    assert_eq!(published(&redis), ":0");
}

/// A node that has not caught up with the stream holds its credentials file's accounts, not
/// the cluster's (clients are not even accepted yet): an operator command that would read or
/// change the chat world is refused with its reason until it has, and then works. Here Redis
/// is down when the node starts (the command used to reach the core and get the storage error
/// at best).
#[test]
fn a_node_not_yet_caught_up_refuses_operator_changes_with_the_reason() {
    let mut redis = Redis::start();
    redis.kill();
    let n1 = Node::start(&redis, "n1", &[]);
    let not_yet = "this node has not caught up with the cluster yet; try again in a moment\n";
    for command in ["user del luke", "user list", "list", "kick luke"] {
        let r = ctl(&n1, command);
        assert_eq!((r.ok, r.text.as_str()), (false, not_yet), "{command}");
    }
    assert!(ctl(&n1, "stats").ok);
    redis.restart();
    n1.wait_caught_up();
    let r = ctl(&n1, "user del luke");
    assert_eq!((r.ok, r.text.as_str()), (true, "deleted luke\n"));
}

/// Redis frozen (SIGSTOP) for three TTLs while every node is fine: when it answers again,
/// every node's liveness key has expired on its clock, but no node was down, so nobody is
/// logged out. Each node asked whether the others' keys existed while Redis was frozen and
/// took the late answers (`0`) as the others being dead: users of healthy nodes were shown
/// logged out and their sessions closed.
#[test]
fn a_redis_stall_longer_than_the_ttl_logs_nobody_out() {
    let redis = Redis::start();
    let n1 = Node::start(&redis, "n1", &["--node-ttl", "1"]);
    let n2 = Node::start(&redis, "n2", &["--node-ttl", "1"]);
    n1.wait_caught_up();
    n2.wait_caught_up();
    let mut hans = n1.login("hans", "falcon*solo");
    let mut yoda = n2.login("yoda", "wise");
    hans.expect("yoda logged in\n");
    // Past the first TTL after the links came up: the nodes judge each other from now on.
    std::thread::sleep(Duration::from_millis(1500));
    redis.signal("STOP");
    std::thread::sleep(Duration::from_secs(3));
    redis.signal("CONT");
    std::thread::sleep(Duration::from_secs(3));
    for n in [&n1, &n2] {
        assert!(
            !n.log().contains("stopped refreshing its key"),
            "{}: {}",
            n.name,
            n.log()
        );
    }
    yoda.send("message hans still here");
    hans.expect("yoda: still here\n");
}
