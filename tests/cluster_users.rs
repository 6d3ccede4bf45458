//! What users on different nodes of a cluster see of each other beyond messages (issue 23):
//! private sessions (§4) and the peer-to-peer handshake between nodes, and IRC's view of users
//! on other nodes (`WHOIS`, `WHO`: away, real name, operator). Each test starts its own
//! `redis-server` (`--appendonly yes --appendfsync always`, a free loopback port) and two nodes.
#![cfg(feature = "cluster")]

mod cluster_util;
mod common;

use cluster_util::{Node, Redis};
use std::time::{Duration, Instant};

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

/// An IRC client registered on `addr` with `PASS` and the real name `real`, past the welcome
/// numerics.
fn irc(addr: std::net::SocketAddr, nick: &str, pass: &str, real: &str) -> common::Client {
    let mut c = common::Client::connect(addr);
    c.send(&format!(
        "PASS {pass}\r\nNICK {nick}\r\nUSER {nick} 0 * :{real}"
    ));
    while !c.expect_line().contains(" 422 ") {}
    c.name = nick.to_string();
    c
}

/// Redis and two nodes (node 1 with `n1_args`), `luke` registered on node 1 and `hans` on node
/// 2 over IRC; the servers live as long as the first element (the nodes stop before Redis).
fn luke_and_hans(n1_args: &[&str]) -> ((Node, Node, Redis), common::Client, common::Client) {
    let redis = Redis::start();
    let n1 = Node::start(&redis, "n1", n1_args);
    let n2 = Node::start(&redis, "n2", &[]);
    let luke = irc(n1.irc, "luke", "jedi", "Luke Skywalker");
    let hans = irc(n2.irc, "hans", "falcon*solo", "Han Solo");
    ((n1, n2, redis), luke, hans)
}

/// Send the query `ask` until its reply, the lines up to and including the one containing
/// `end`, is `want`: a read shows this node's view, which may lag what another node has
/// already answered (PROTOCOL §11). `WHOIS`'s `317` (idle and sign-on times, which move) is
/// left out of the comparison.
#[track_caller]
fn until_reply(c: &mut common::Client, ask: &str, end: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        c.send(ask);
        let mut reply = String::new();
        loop {
            let line = c.expect_line();
            if line.contains(end) {
                reply.push_str(&line);
                reply.push('\n');
                break;
            }
            if !line.contains(" 317 ") {
                reply.push_str(&line);
                reply.push('\n');
            }
        }
        if reply == want {
            return;
        }
        assert!(Instant::now() < deadline, "{ask}: still {reply:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// IRC's view of a user on another node: `WHOIS` and `WHO` show its real name, its away
/// message (and its clearing), its operator flag, as they show a user of the same node; its
/// `QUIT` word reaches channel members on the other node.
#[test]
fn irc_users_see_away_realname_and_oper_of_users_on_other_nodes() {
    let (_cluster, mut luke, mut hans) = luke_and_hans(&["--operators", "luke"]);
    luke.send("AWAY :on Dagobah");
    luke.expect(":chatserver 306 luke :You have been marked as away\r\n");
    luke.send("OPER luke jedi");
    luke.expect(":chatserver 381 luke :You are now an IRC operator\r\n");
    luke.expect(":luke!luke@chatserver MODE luke +o\r\n");
    until_reply(
        &mut hans,
        "WHOIS luke",
        " 318 ",
        ":chatserver 311 hans luke luke chatserver * :Luke Skywalker\r\n\
         :chatserver 312 hans luke chatserver chatserver\r\n\
         :chatserver 313 hans luke :is an IRC operator\r\n\
         :chatserver 330 hans luke luke :is logged in as\r\n\
         :chatserver 301 hans luke :on Dagobah\r\n\
         :chatserver 318 hans luke :End of /WHOIS list.\r\n",
    );
    // `G`one (away) or `H`ere, `*` operator.
    let who_luke = |flags: &str| {
        format!(
            ":chatserver 352 hans * luke chatserver chatserver luke {flags} :0 Luke Skywalker\r\n\
             :chatserver 315 hans luke :End of /WHO list.\r\n"
        )
    };
    until_reply(&mut hans, "WHO luke", " 315 ", &who_luke("G*"));
    luke.send("AWAY");
    luke.expect(":chatserver 305 luke :You are no longer marked as away\r\n");
    until_reply(&mut hans, "WHO luke", " 315 ", &who_luke("H*"));

    luke.send("JOIN #den");
    luke.expect(":luke!luke@chatserver JOIN #den\r\n");
    luke.expect(":chatserver 353 luke = #den @luke\r\n");
    luke.expect(":chatserver 366 luke #den :End of /NAMES list.\r\n");
    until_reply(
        &mut hans,
        "NAMES #den",
        " 366 ",
        ":chatserver 353 hans = #den @luke\r\n:chatserver 366 hans #den :End of /NAMES list.\r\n",
    );
    hans.send("JOIN #den");
    hans.expect(":hans!hans@chatserver JOIN #den\r\n");
    luke.expect(":hans!hans@chatserver JOIN #den\r\n");
    luke.send("QUIT :off to Dagobah");
    loop {
        let line = hans.expect_line();
        if line.contains(" QUIT ") {
            assert_eq!(
                line.trim_end(),
                ":luke!luke@chatserver QUIT :Quit: off to Dagobah"
            );
            break;
        }
    }
}

/// IRC `INVITE` across nodes: luke on node 1 invites hans, on node 2, into `+i` `#den`; hans
/// is told on node 2 and gets in there, and the join uses the invitation up (a second join
/// after a `PART` is refused again). It was refused: an invitation was the inviting node's
/// state.
#[test]
fn an_invitation_crosses_nodes_and_lets_the_invitee_in() {
    let (_cluster, mut luke, mut hans) = luke_and_hans(&[]);
    luke.send("JOIN #den");
    luke.expect(":luke!luke@chatserver JOIN #den\r\n");
    luke.expect(":chatserver 353 luke = #den @luke\r\n");
    luke.expect(":chatserver 366 luke #den :End of /NAMES list.\r\n");
    luke.send("MODE #den +i");
    luke.expect(":luke!luke@chatserver MODE #den +i\r\n");
    until_reply(
        &mut luke,
        "ISON hans",
        " 303 ",
        ":chatserver 303 luke hans\r\n",
    );
    let refused = ":chatserver 473 hans #den :Cannot join channel (+i)\r\n";
    until_reply(&mut hans, "JOIN #den", " 473 ", refused);
    luke.send("INVITE hans #den");
    luke.expect(":chatserver 341 luke hans #den\r\n");
    hans.expect(":luke!luke@chatserver INVITE hans #den\r\n");
    hans.send("JOIN #den");
    hans.expect(":hans!hans@chatserver JOIN #den\r\n");
    luke.expect(":hans!hans@chatserver JOIN #den\r\n");
    hans.expect(":chatserver 353 hans = #den :hans @luke\r\n");
    hans.expect(":chatserver 366 hans #den :End of /NAMES list.\r\n");
    hans.send("PART #den");
    hans.expect(":hans!hans@chatserver PART #den\r\n");
    hans.send("JOIN #den");
    hans.expect(refused);
}

/// SASL after registration in a cluster: the guest `bar` on node 1 proves `luke`'s password
/// and is renamed to the account on every node (in cluster mode a session's name is its
/// account's); `hans`, in `#den` with it from node 2, sees the `NICK` and reaches it as `luke`.
/// It was refused in cluster mode.
#[test]
fn sasl_after_registration_renames_a_guest_to_its_account_across_nodes() {
    let redis = Redis::start();
    let n1 = Node::start(&redis, "n1", &["--irc-guests"]);
    let n2 = Node::start(&redis, "n2", &[]);
    let mut hans = irc(n2.irc, "hans", "falcon*solo", "Han Solo");
    let mut bar = common::Client::connect(n1.irc);
    bar.send("NICK bar\r\nUSER bar 0 * :Bar");
    while !bar.expect_line().contains(" 422 ") {}
    bar.send("JOIN #den");
    bar.expect(":bar!bar@chatserver JOIN #den\r\n");
    while !bar.expect_line().contains(" 366 ") {}
    let names =
        ":chatserver 353 hans = #den @bar\r\n:chatserver 366 hans #den :End of /NAMES list.\r\n";
    until_reply(&mut hans, "NAMES #den", " 366 ", names);
    hans.send("JOIN #den");
    hans.expect(":hans!hans@chatserver JOIN #den\r\n");
    bar.expect(":hans!hans@chatserver JOIN #den\r\n");
    bar.send("AUTHENTICATE PLAIN");
    bar.expect("AUTHENTICATE +\r\n");
    let payload = chatserver::base64::encode(b"\0luke\0jedi");
    bar.send(&format!("AUTHENTICATE {payload}"));
    let mut got = Vec::new();
    loop {
        let line = bar.expect_line();
        let done = line.contains(" 903 ");
        got.push(line);
        if done {
            break;
        }
    }
    assert!(
        got.iter().any(|l| l == ":bar!bar@chatserver NICK luke\r"),
        "{got:?}"
    );
    assert!(got.iter().any(|l| l.contains(" 900 ")), "{got:?}");
    loop {
        let line = hans.expect_line();
        if line.contains(" NICK ") {
            assert_eq!(line, ":bar!bar@chatserver NICK luke\r");
            break;
        }
    }
    hans.send("PRIVMSG luke :hi luke");
    bar.expect(":hans!hans@chatserver PRIVMSG luke :hi luke\r\n");
}
