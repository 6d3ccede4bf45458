//! The IRC front-end over TCP (issue 12, PROTOCOL.md §8): IRC clients and line clients in the
//! same world, `PASS` logins with the line login's lockout, the guest rule, offline delivery,
//! blocks in a channel.

mod common;
mod frontends_util;

use common::Client;
use frontends_util::Proc;
use std::net::SocketAddr;

const S: &str = "chatserver";

/// A server with the IRC port on (`--irc-port 0` plus `args`) and the IRC address.
fn start(args: &[&str]) -> (Proc, SocketAddr) {
    let mut all = vec!["--irc-port", "0"];
    all.extend_from_slice(args);
    let p = Proc::start(&all);
    let line = p.stdout_line();
    let addr = line
        .strip_prefix("chatserver irc listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("expected the IRC listening line, got {line:?}"));
    (p, addr)
}

/// Register on `addr` (with `PASS` when given) and read through the welcome numerics.
#[track_caller]
fn irc(addr: SocketAddr, nick: &str, pass: Option<&str>) -> Client {
    let mut c = Client::connect(addr);
    if let Some(pw) = pass {
        c.send(&format!("PASS {pw}"));
    }
    c.send(&format!("NICK {nick}\r\nUSER {nick} 0 * :{nick} real"));
    c.expect(&format!(
        ":{S} 001 {nick} :Welcome to the chatserver IRC network, {nick}\r\n"
    ));
    loop {
        let line = c.expect_line();
        if line.contains(" 422 ") {
            break;
        }
    }
    c.name = nick.to_string();
    c
}

/// Create `user` from the line port (its password stored hashed, as every new account's) and
/// log it out again.
fn register_on_the_line(p: &Proc, user: &str, password: &str) {
    let mut line = p.connect();
    line.expect("Username: ");
    line.send(&format!("register {user} {password}"));
    line.expect(common::WELCOME);
    line.send("logout");
    line.expect("You have logged out\nUsername: ");
}

/// Skip lines through the next `366` (the end of a JOIN's names).
#[track_caller]
fn through_names(c: &mut Client) {
    while !c.expect_line().contains(" 366 ") {}
}

#[test]
fn irc_and_line_users_message_each_other() {
    let (p, addr) = start(&[]);
    let mut yoda = p.login("yoda", "wise");
    let mut hans = irc(addr, "hans", Some("falcon*solo"));
    yoda.expect("hans logged in\n");
    yoda.send("message hans hello from the line");
    hans.expect(&format!(
        ":yoda!yoda@{S} PRIVMSG hans :hello from the line\r\n"
    ));
    hans.send("PRIVMSG yoda :hello from IRC");
    yoda.expect("hans: hello from IRC\n");
    yoda.send("broadcast all hands");
    hans.expect(&format!(":{S} NOTICE hans :yoda: all hands\r\n"));
    // Presence lines are not sent to IRC clients.
    let _luke = p.login("luke", "jedi");
    yoda.expect("luke logged in\n");
    hans.send("PING sync");
    hans.expect(&format!(":{S} PONG {S} sync\r\n"));
    hans.send("QUIT :bye");
    hans.expect("ERROR :Closing link: (hans) [Quit: bye]\r\n");
    hans.expect_closed();
    yoda.expect("hans logged out\n");
}

#[test]
fn pass_logs_in_and_wrong_passwords_lock_the_account_as_on_the_line() {
    let (p, addr) = start(&["--irc-guests"]);
    for attempt in 1..=3 {
        let mut c = Client::connect(addr);
        c.send("PASS nope\r\nNICK yoda\r\nUSER y 0 * :Y");
        c.expect(&format!(":{S} 464 yoda :Password incorrect\r\n"));
        if attempt < 3 {
            c.expect("ERROR :Closing link: (yoda) [Password incorrect]\r\n");
        } else {
            c.expect("ERROR :Closing link: account locked after failed logins, try later\r\n");
        }
        c.expect_closed();
    }
    let mut line = p.connect();
    line.expect("Username: ");
    line.send("yoda");
    line.expect("Password: ");
    line.send("wise");
    line.expect("Your account is blocked due to multiple login failures. Please try again later\n");
}

#[test]
fn guests_need_a_free_name_and_the_flag() {
    let (p, addr) = start(&["--irc-guests"]);
    let _yoda = p.login("yoda", "wise");
    let mut c = Client::connect(addr);
    c.send("NICK yoda\r\nUSER y 0 * :Y");
    c.expect(&format!(":{S} 433 * yoda :Nickname is already in use\r\n"));
    c.send("NICK luke");
    c.expect(&format!(":{S} 433 * luke :Nickname is already in use\r\n"));
    c.send("NICK newbie");
    c.expect(&format!(
        ":{S} 001 newbie :Welcome to the chatserver IRC network, newbie\r\n"
    ));
    let mut other = Client::connect(addr);
    other.send("NICK newbie\r\nUSER n 0 * :N");
    other.expect(&format!(
        ":{S} 433 * newbie :Nickname is already in use\r\n"
    ));

    let (_p2, addr2) = start(&[]);
    let mut c = Client::connect(addr2);
    c.send("NICK newbie\r\nUSER n 0 * :N");
    c.expect(&format!(":{S} 464 newbie :Password required\r\n"));
    c.expect("ERROR :Closing link: (newbie) [Password required]\r\n");
    c.expect_closed();
}

#[test]
fn a_message_to_an_offline_account_waits_in_its_mailbox() {
    let (p, addr) = start(&[]);
    let mut hans = irc(addr, "hans", Some("falcon*solo"));
    hans.send("PRIVMSG luke :read this later\r\nPRIVMSG nobody :x\r\nNOTICE nobody :x");
    // Issue 22: the sender is told the message is kept (the line protocol's seed does too).
    hans.expect(&format!(
        ":{S} NOTICE hans :luke is offline: your message is kept and delivered when luke logs in\r\n"
    ));
    hans.expect(&format!(":{S} 401 hans nobody :No such nick/channel\r\n"));
    hans.send("PING x");
    hans.expect(&format!(":{S} PONG {S} x\r\n"));
    let mut luke = p.connect();
    luke.login("luke", "jedi");
    luke.expect("hans: read this later\n");
}

#[test]
fn channels_join_talk_and_respect_blocks() {
    let (p, addr) = start(&[]);
    // hans blocks yoda on the line first.
    let mut line = p.login("hans", "falcon*solo");
    line.send("block yoda");
    line.expect("yoda is blocked\n");
    line.send("logout");
    line.expect("You have logged out\n");

    let mut hans = irc(addr, "hans", Some("falcon*solo"));
    hans.send("JOIN #Room");
    hans.expect(&format!(":hans!hans@{S} JOIN #Room\r\n"));
    hans.expect(&format!(":{S} 353 hans = #Room @hans\r\n"));
    hans.expect(&format!(":{S} 366 hans #Room :End of /NAMES list.\r\n"));
    // Issue 17, F13: blocks hold on IRC too. hans, who blocked yoda, is not in yoda's NAMES
    // (yoda cannot see hans online anywhere) and does not see yoda's JOIN.
    let mut yoda = irc(addr, "yoda", Some("wise"));
    yoda.send("JOIN #room");
    yoda.expect(&format!(":yoda!yoda@{S} JOIN #Room\r\n"));
    yoda.expect(&format!(":{S} 353 yoda = #Room yoda\r\n"));
    yoda.expect(&format!(":{S} 366 yoda #room :End of /NAMES list.\r\n"));
    let mut luke = irc(addr, "luke", Some("jedi"));
    luke.send("JOIN #room");
    luke.expect(&format!(":luke!luke@{S} JOIN #Room\r\n"));
    through_names(&mut luke);
    hans.expect(&format!(":luke!luke@{S} JOIN #Room\r\n"));
    yoda.expect(&format!(":luke!luke@{S} JOIN #Room\r\n"));

    // yoda speaks: luke hears it, hans (who blocked yoda) does not, yoda gets no echo.
    yoda.send("PRIVMSG #room :hello room");
    luke.expect(&format!(":yoda!yoda@{S} PRIVMSG #Room :hello room\r\n"));
    luke.send("PRIVMSG #room :hi yoda");
    hans.expect(&format!(":luke!luke@{S} PRIVMSG #Room :hi yoda\r\n"));
    yoda.expect(&format!(":luke!luke@{S} PRIVMSG #Room :hi yoda\r\n"));

    // Only the owner sets the topic (topic lock is on) and kicks.
    yoda.send("TOPIC #room :mine now");
    yoda.expect(&format!(
        ":{S} 482 yoda #room :You're not channel operator\r\n"
    ));
    hans.send("TOPIC #room :the topic");
    for c in [&mut hans, &mut yoda, &mut luke] {
        c.expect(&format!(":hans!hans@{S} TOPIC #Room :the topic\r\n"));
    }
    hans.send("KICK #room luke :out");
    for c in [&mut hans, &mut yoda, &mut luke] {
        c.expect(&format!(":hans!hans@{S} KICK #Room luke out\r\n"));
    }
    // A kicked member may join again and sees the topic with its setter.
    luke.send("JOIN #room");
    luke.expect(&format!(":luke!luke@{S} JOIN #Room\r\n"));
    luke.expect(&format!(":{S} 332 luke #Room :the topic\r\n"));
    let setter = luke.expect_line();
    assert!(
        setter.starts_with(&format!(":{S} 333 luke #Room hans ")),
        "{setter}"
    );
    through_names(&mut luke);
    hans.expect(&format!(":luke!luke@{S} JOIN #Room\r\n"));
    // A ban keeps a user out until it is lifted.
    hans.send("MODE #room +b luke\r\nKICK #room luke");
    hans.expect(&format!(":hans!hans@{S} MODE #Room +b luke\r\n"));
    luke.send("PART #room\r\nJOIN #room");
    luke.expect(&format!(":hans!hans@{S} MODE #Room +b luke\r\n"));
    // Issue 22: without a reason, the kicker's name is the reason.
    luke.expect(&format!(":hans!hans@{S} KICK #Room luke hans\r\n"));
    luke.expect(&format!(
        ":{S} 442 luke #room :You're not on that channel\r\n"
    ));
    luke.expect(&format!(
        ":{S} 474 luke #room :Cannot join channel (+b)\r\n"
    ));
    hans.send("MODE #room +b");
    hans.expect(&format!(":hans!hans@{S} KICK #Room luke hans\r\n"));
    // The ban list names the channel as the command did, like its end (368).
    hans.expect(&format!(":{S} 367 hans #room luke\r\n"));
    hans.expect(&format!(":{S} 368 hans #room :End of channel ban list\r\n"));
    drop(p);
}

/// A member's own output keeps the order its commands were made in when fan-out lines and
/// its direct replies meet in one pass (issue 22's fan-out arena defers the fan-out lines of
/// a pass and queues them as one range per member: a reply must still come after the lines
/// made before it, and before those made after it).
#[test]
fn fan_out_and_direct_replies_of_one_pass_keep_their_order() {
    let (_p, addr) = start(&[]);
    let mut hans = irc(addr, "hans", Some("falcon*solo"));
    hans.send("JOIN #order");
    through_names(&mut hans);
    let mut luke = irc(addr, "luke", Some("jedi"));
    luke.send("JOIN #order");
    through_names(&mut luke);
    hans.expect(&format!(":luke!luke@{S} JOIN #order\r\n"));
    // One write: the server reads it in one go, so one pass carries all of it.
    hans.send(
        "TOPIC #order :one\r\nPING a\r\nTOPIC #order :two\r\nPING b\r\nPRIVMSG nobody :x\r\nTOPIC #order :three",
    );
    hans.expect(&format!(":hans!hans@{S} TOPIC #order one\r\n"));
    hans.expect(&format!(":{S} PONG {S} a\r\n"));
    hans.expect(&format!(":hans!hans@{S} TOPIC #order two\r\n"));
    hans.expect(&format!(":{S} PONG {S} b\r\n"));
    hans.expect(&format!(":{S} 401 hans nobody :No such nick/channel\r\n"));
    hans.expect(&format!(":hans!hans@{S} TOPIC #order three\r\n"));
    for t in ["one", "two", "three"] {
        luke.expect(&format!(":hans!hans@{S} TOPIC #order {t}\r\n"));
    }
}

#[test]
fn the_topic_and_settings_survive_a_restart() {
    let (p, addr) = start(&[]);
    let mut hans = irc(addr, "hans", Some("falcon*solo"));
    hans.send("JOIN #keep\r\nTOPIC #keep :kept topic\r\nMODE #keep +s");
    through_names(&mut hans);
    hans.expect(&format!(":hans!hans@{S} TOPIC #keep :kept topic\r\n"));
    hans.expect(&format!(":hans!hans@{S} MODE #keep +s\r\n"));
    let p = p.restart();
    let line = p.stdout_line();
    let addr: SocketAddr = line
        .strip_prefix("chatserver irc listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{line:?}"));
    // F8: a secret room tells a non-member nothing, not even that it exists (nor its key).
    let mut yoda = irc(addr, "yoda", Some("wise"));
    yoda.send("TOPIC #keep\r\nMODE #keep\r\nMODE #keep +b");
    for _ in 0..3 {
        yoda.expect(&format!(":{S} 403 yoda #keep :No such channel\r\n"));
    }
    yoda.expect(&format!(":{S} 368 yoda #keep :End of channel ban list\r\n"));
    // Its owner sees it all after the restart.
    let mut hans = irc(addr, "hans", Some("falcon*solo"));
    hans.send("TOPIC #keep\r\nMODE #keep");
    hans.expect(&format!(":{S} 332 hans #keep :kept topic\r\n"));
    let who = hans.expect_line();
    assert!(
        who.starts_with(&format!(":{S} 333 hans #keep hans ")),
        "{who}"
    );
    hans.expect(&format!(":{S} 324 hans #keep +nst\r\n"));
}

#[test]
fn a_line_user_and_an_irc_user_share_a_room_both_ways() {
    let (p, addr) = start(&[]);
    let mut yoda = p.login("yoda", "wise");
    yoda.send("open-chatroom den public");
    yoda.expect("Chatroom den opened\n");
    yoda.send("enter-chatroom den");
    yoda.expect("You entered chatroom den\n");
    let mut hans = irc(addr, "hans", Some("falcon*solo"));
    yoda.expect("hans logged in\n");
    hans.send("JOIN #DEN");
    hans.expect(&format!(":hans!hans@{S} JOIN #den\r\n"));
    hans.expect(&format!(":{S} 353 hans = #den :hans @yoda\r\n"));
    hans.expect(&format!(":{S} 366 hans #DEN :End of /NAMES list.\r\n"));
    yoda.expect("[System]: hans entered the chatroom\n");
    yoda.send("hello from the line");
    hans.expect(&format!(
        ":yoda!yoda@{S} PRIVMSG #den :hello from the line\r\n"
    ));
    yoda.expect("<yoda>: hello from the line\n");
    hans.send("PRIVMSG #den :hello from IRC");
    yoda.expect("<hans>: hello from IRC\n");
    yoda.send("/set-topic den plans");
    let topic = hans.expect_line();
    assert_eq!(topic, format!(":yoda!yoda@{S} TOPIC #den plans\r"));
    yoda.expect("Topic of den: plans (set by yoda)\n");
    hans.send("PART #den :later");
    hans.expect(&format!(":hans!hans@{S} PART #den later\r\n"));
    yoda.expect("[System]: hans left the chatroom\n");
    // Without words: `Client Quit`, not a bare `Quit: `.
    hans.send("QUIT");
    hans.expect("ERROR :Closing link: (hans) [Client Quit]\r\n");
    yoda.expect("hans logged out\n");
}

#[test]
fn owners_on_either_side_put_the_other_side_out() {
    let (p, addr) = start(&[]);
    let mut hans = irc(addr, "hans", Some("falcon*solo"));
    let mut yoda = p.login("yoda", "wise");
    hans.send("JOIN #k");
    through_names(&mut hans);
    yoda.send("enter-chatroom k");
    yoda.expect("You entered chatroom k\n");
    hans.expect(&format!(":yoda!yoda@{S} JOIN #k\r\n"));
    hans.send("KICK #k yoda :enough");
    hans.expect(&format!(":hans!hans@{S} KICK #k yoda enough\r\n"));
    // One room engine (issue 17): a removal reads as §5's, whoever removed.
    yoda.expect("You were removed from k\n");
    yoda.send("list-chatroom");
    yoda.expect("k hans public\n");

    yoda.send("open-chatroom den public");
    yoda.expect("Chatroom den opened\n");
    hans.send("JOIN #den");
    through_names(&mut hans);
    yoda.send("close-chatroom den");
    yoda.expect("Chatroom den closed\n");
    hans.expect(&format!(":{S} KICK #den hans :chatroom closed\r\n"));
    hans.send("NAMES #den");
    hans.expect(&format!(":{S} 366 hans #den :End of /NAMES list.\r\n"));
}

#[test]
fn a_silent_client_is_pinged_at_half_the_heartbeat_and_stays_if_it_answers() {
    let (_p, addr) = start(&["--heartbeat", "2"]);
    let mut hans = irc(addr, "hans", Some("falcon*solo"));
    for _ in 0..3 {
        hans.expect(&format!("PING {S}\r\n"));
        hans.send(&format!("PONG {S}"));
    }
    // No answer: closed at the heartbeat, with the reason.
    hans.expect(&format!("PING {S}\r\n"));
    hans.expect("ERROR :Closing link: Ping timeout: 2 seconds\r\n");
    hans.expect_closed();
}

/// Issue 21: an account registered over the line protocol has a PBKDF2 hash, checked in steps;
/// `PASS` with it logs in, a wrong one gets 464 and the link is closed.
#[test]
fn pass_with_a_slow_hash() {
    let (p, addr) = start(&[]);
    register_on_the_line(&p, "zed", "pw-zed");
    let mut zed = irc(addr, "zed", Some("pw-zed"));
    zed.send("PING :x");
    zed.expect(&format!(":{S} PONG {S} x\r\n"));
    zed.send("QUIT :bye");
    zed.drain_until_closed();
    let mut bad = Client::connect(addr);
    bad.send("PASS nope\r\nNICK zed\r\nUSER zed 0 * :z");
    let refused = bad.expect_line();
    assert!(refused.contains(" 464 "), "{refused}");
    let closing = bad.expect_line();
    assert!(closing.starts_with("ERROR :Closing link"), "{closing}");
    bad.expect_closed();
}

/// Read lines (each without its `\n`) up to and including one that contains `end`.
#[track_caller]
fn lines_through(c: &mut Client, end: &str) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let line = c.expect_line();
        let done = line.contains(end);
        lines.push(line);
        if done {
            return lines;
        }
    }
}

/// Issue 22: `CHATHISTORY` serves DMs from the one history, whichever front-end sent them and
/// whether they waited in a mailbox: a line user's message to an offline IRC user replays in a
/// `chathistory` batch with its id and time, after the IRC user's own reply.
#[test]
fn chathistory_replays_a_line_users_offline_dm_and_the_reply() {
    let (p, addr) = start(&[]);
    let mut yoda = p.login("yoda", "wise");
    yoda.send("message hans kept for you");
    // A later command answered: the message is stored.
    yoda.send("message yoda sync");
    yoda.expect("Error. Cannot message self\n");
    let mut hans = irc(addr, "hans", Some("falcon*solo"));
    yoda.expect("hans logged in\n");
    hans.send("CAP REQ :batch server-time message-tags\r\nPING sync");
    lines_through(&mut hans, "PONG");
    hans.send("PRIVMSG yoda :thanks\r\nCHATHISTORY LATEST YODA * 10");
    yoda.expect("hans: thanks\n");
    let lines = lines_through(&mut hans, "BATCH -");
    let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
    assert!(texts[0].ends_with(" chathistory YODA\r"), "{texts:?}");
    let kept = format!(":yoda!yoda@{S} PRIVMSG hans :kept for you\r");
    let reply = format!(":hans!hans@{S} PRIVMSG yoda thanks\r");
    assert!(
        texts[1].starts_with("@batch=H") && texts[1].ends_with(&kept),
        "{texts:?}"
    );
    assert!(
        texts[1].contains(";msgid=") && texts[1].contains(";time="),
        "{texts:?}"
    );
    assert!(texts[2].ends_with(&reply), "{texts:?}");
    assert_eq!(texts.len(), 4, "{texts:?}");
}

/// `CHATHISTORY LATEST <target> * <n>` (IRCv3): the newest messages, whatever their age. A
/// regression: the absent bound filtered every message out, so the batch came back empty.
#[test]
fn chathistory_latest_star_replays_the_newest_messages() {
    let (p, addr) = start(&[]);
    let mut yoda = p.login("yoda", "wise");
    let mut hans = irc(addr, "hans", Some("falcon*solo"));
    yoda.expect("hans logged in\n");
    for text in ["the first", "the second", "the third"] {
        yoda.send(&format!("message hans {text}"));
        hans.expect(&format!(":yoda!yoda@{S} PRIVMSG hans :{text}\r\n"));
    }
    hans.send("CHATHISTORY LATEST yoda * 2\r\nPING sync");
    let mut got = Vec::new();
    loop {
        let line = hans.expect_line();
        if line.contains("PONG") {
            break;
        }
        if let Some((_, text)) = line.split_once(" PRIVMSG hans :") {
            got.push(text.trim_end().to_string());
        }
    }
    assert_eq!(got, ["the second", "the third"]);
}

/// Issue 22: a message to oneself is the wire's rule. IRC delivers it (with echo-message the
/// sender sees it twice: the delivery, and the labeled echo, no batch); the line protocol keeps
/// its seed's refusal.
#[test]
fn irc_delivers_a_message_to_oneself_and_the_line_refuses_it() {
    let (p, addr) = start(&[]);
    let mut hans = Client::connect(addr);
    hans.send("CAP LS 302\r\nCAP REQ :echo-message batch labeled-response\r\nPASS falcon*solo");
    hans.send("NICK hans\r\nUSER hans 0 * :hans\r\nCAP END");
    while !hans.expect_line().contains(" 422 ") {}
    hans.send("@label=x1 PRIVMSG hans :hi me\r\n@label=x2 NOTICE HANS :a note");
    let me = format!(":hans!hans@{S}");
    hans.expect(&format!("{me} PRIVMSG hans :hi me\r\n"));
    hans.expect(&format!("@label=x1 {me} PRIVMSG hans :hi me\r\n"));
    hans.expect(&format!("{me} NOTICE hans :a note\r\n"));
    hans.expect(&format!("@label=x2 {me} NOTICE hans :a note\r\n"));
    let mut yoda = p.login("yoda", "wise");
    yoda.send("message yoda hi me");
    yoda.expect("Error. Cannot message self\n");
}

/// SASL SCRAM-SHA-256 over the wire (issue 22): the password never crosses it. The client here
/// is RFC 5802's, written from the RFC on the server's own HMAC and PBKDF2; irctest's
/// `testScramSha256*` check it with an independent client (tests/irc/irctest.sh --services).
#[test]
fn scram_sha_256_proves_an_account_without_sending_its_password() {
    use chatserver::base64;
    use chatserver::kdf::Pbkdf2;

    let (p, addr) = start(&[]);
    register_on_the_line(&p, "zed", "pw-zed");

    let mut c = Client::connect(addr);
    c.send("CAP LS 302");
    let ls = c.expect_line();
    assert!(ls.contains("sasl=PLAIN,SCRAM-SHA-256"), "{ls}");
    c.send("CAP REQ :sasl");
    assert!(c.expect_line().contains("ACK"));
    c.send("AUTHENTICATE SCRAM-SHA-256");
    c.expect("AUTHENTICATE +\r\n");
    let bare = "n=zed,r=fyko+d2lbbFgONRv9qkxdawL";
    c.send(&format!(
        "AUTHENTICATE {}",
        base64::encode(format!("n,,{bare}").as_bytes())
    ));
    let reply = c.expect_line();
    let b64 = reply
        .trim_end()
        .strip_prefix("AUTHENTICATE ")
        .unwrap_or_else(|| panic!("expected AUTHENTICATE, got {reply:?}"));
    let server_first = String::from_utf8(base64::decode(b64).expect("base64")).expect("utf-8");
    let field = |k: &str| {
        server_first
            .split(',')
            .find_map(|a| a.strip_prefix(k))
            .expect("field")
            .to_string()
    };
    let nonce = field("r=");
    assert!(
        nonce.starts_with("fyko+d2lbbFgONRv9qkxdawL") && nonce.len() > 24,
        "{nonce}"
    );
    let salt = base64::decode(&field("s=")).expect("salt");
    let salted = Pbkdf2::derive(b"pw-zed", &salt, field("i=").parse().expect("i"));
    let without_proof = format!("c=biws,r={nonce}");
    let auth = format!("{bare},{server_first},{without_proof}");
    let (proof, signature) = chatserver::scram::client_proof(&salted, &auth);
    let fin = format!("{without_proof},p={}", base64::encode(&proof));
    c.send(&format!("AUTHENTICATE {}", base64::encode(fin.as_bytes())));
    let server_final = format!("v={}", base64::encode(&signature));
    c.expect(&format!(
        "AUTHENTICATE {}\r\n",
        base64::encode(server_final.as_bytes())
    ));
    c.send("AUTHENTICATE +");
    c.expect(&format!(
        ":{S} 900 zed zed!zed@{S} zed :You are now logged in as zed\r\n"
    ));
    c.expect(&format!(":{S} 903 zed :SASL authentication successful\r\n"));
    c.send("CAP END\r\nNICK zed\r\nUSER zed 0 * :Zed");
    c.expect(&format!(
        ":{S} 001 zed :Welcome to the chatserver IRC network, zed\r\n"
    ));

    // A wrong password: 904, and the connection may try again.
    let mut bad = Client::connect(addr);
    bad.send("CAP REQ :sasl");
    bad.expect_line();
    bad.send("AUTHENTICATE SCRAM-SHA-256");
    bad.expect("AUTHENTICATE +\r\n");
    bad.send(&format!(
        "AUTHENTICATE {}",
        base64::encode(format!("n,,{bare}").as_bytes())
    ));
    let reply = bad.expect_line();
    let server_first = reply
        .trim_end()
        .strip_prefix("AUTHENTICATE ")
        .expect("first");
    let server_first =
        String::from_utf8(base64::decode(server_first).expect("b64")).expect("utf-8");
    let nonce = server_first
        .split(',')
        .find_map(|a| a.strip_prefix("r="))
        .expect("nonce");
    let fin = format!("c=biws,r={nonce},p={}", base64::encode(&[0u8; 32]));
    bad.send(&format!("AUTHENTICATE {}", base64::encode(fin.as_bytes())));
    bad.expect(&format!(":{S} 904 * :SASL authentication failed\r\n"));
    bad.send("AUTHENTICATE PLAIN");
    bad.expect("AUTHENTICATE +\r\n");
}

/// Labeled-response with a password checked in steps (issue 21): the verdict of a labeled
/// `AUTHENTICATE`, before registration or after it, and of a labeled `OPER` carries the label.
/// The end of the label was queued when the line was read, before the hash ran, so the
/// client got `ACK` and then the `900`/`903` (or `904`, `381`) unlabeled.
#[test]
fn a_labeled_command_whose_password_is_hashed_in_steps_labels_its_verdict() {
    let (p, addr) = start(&["--irc-guests", "--operators", "zed"]);
    register_on_the_line(&p, "zed", "pw-zed");
    let plain = |pw: &str| chatserver::base64::encode(format!("\0zed\0{pw}").as_bytes());

    let mut early = Client::connect(addr);
    early.send("CAP LS 302\r\nCAP REQ :sasl batch labeled-response");
    while !early.expect_line().contains(" ACK ") {}
    early.send("AUTHENTICATE PLAIN");
    early.expect("AUTHENTICATE +\r\n");
    early.send(&format!("@label=a1 AUTHENTICATE {}", plain("wrong")));
    early.expect(&format!(
        "@label=a1 :{S} 904 * :SASL authentication failed\r\n"
    ));
    early.send("@label=a2 PING after");
    early.expect(&format!("@label=a2 :{S} PONG {S} after\r\n"));

    let mut late = Client::connect(addr);
    late.send("CAP LS 302\r\nCAP REQ :batch labeled-response\r\nNICK gx\r\nUSER gx 0 * :gx");
    late.send("CAP END");
    while !late.expect_line().contains(" 422 ") {}
    late.send("AUTHENTICATE PLAIN");
    late.expect("AUTHENTICATE +\r\n");
    late.send(&format!("@label=b1 AUTHENTICATE {}", plain("pw-zed")));
    late.expect(&format!("@label=b1 :{S} BATCH +L1 labeled-response\r\n"));
    late.expect(&format!(
        "@batch=L1 :{S} 900 gx gx!gx@{S} zed :You are now logged in as zed\r\n"
    ));
    late.expect(&format!(
        "@batch=L1 :{S} 903 gx :SASL authentication successful\r\n"
    ));
    late.expect(&format!(":{S} BATCH -L1\r\n"));
    late.send("@label=b2 OPER zed pw-zed");
    late.expect(&format!("@label=b2 :{S} BATCH +L2 labeled-response\r\n"));
    late.expect(&format!(
        "@batch=L2 :{S} 381 gx :You are now an IRC operator\r\n"
    ));
}

/// SASL proves an account before registration ends; if the account logs in elsewhere before
/// `CAP END`, the registration is refused as `PASS`'s would be: `433` with the reason, then
/// `ERROR` and the close. The client was left unregistered with every `NICK` refused the same
/// way (the proof is spent, `AUTHENTICATE` is `907`) until the login timeout. A guest whose
/// SASL failed and whose nick is taken may still pick another.
#[test]
fn a_sasl_login_refused_at_registration_closes_the_connection() {
    let (p, addr) = start(&["--irc-guests"]);
    let plain = |pw: &str| chatserver::base64::encode(format!("\0luke\0{pw}").as_bytes());
    let mut c = Client::connect(addr);
    c.send("CAP LS 302\r\nCAP REQ :sasl\r\nAUTHENTICATE PLAIN");
    while !c.expect_line().contains(" ACK ") {}
    c.expect("AUTHENTICATE +\r\n");
    c.send(&format!(
        "AUTHENTICATE {}\r\nNICK lk\r\nUSER lk 0 * :lk",
        plain("jedi")
    ));
    while !c.expect_line().contains(" 903 ") {}
    let _luke = p.login("luke", "jedi");
    c.send("CAP END");
    c.expect(&format!(":{S} 433 * luke :luke is already logged in\r\n"));
    c.expect("ERROR :Closing link: (lk) [luke is already logged in]\r\n");
    c.expect_closed();

    let _taken = irc(addr, "taken", None);
    let mut g = Client::connect(addr);
    g.send("CAP LS 302\r\nCAP REQ :sasl\r\nAUTHENTICATE PLAIN");
    while !g.expect_line().contains(" ACK ") {}
    g.expect("AUTHENTICATE +\r\n");
    g.send(&format!("AUTHENTICATE {}", plain("wrong")));
    g.expect(&format!(":{S} 904 * :SASL authentication failed\r\n"));
    g.send("NICK taken\r\nUSER g 0 * :g\r\nCAP END");
    g.expect(&format!(":{S} 433 * taken :Nickname is already in use\r\n"));
    g.send("NICK free");
    g.expect(&format!(
        ":{S} 001 free :Welcome to the chatserver IRC network, free\r\n"
    ));
}

/// `PASS` given with a SASL exchange that failed: registration follows whichever credential
/// is valid, as Ergo does (a `PASS` login is tried while no account is proved). The right
/// `PASS` logs in to the nick's account; a wrong one is refused as a wrong `PASS` always is
/// (`464`, `ERROR`, close), under an account's nick or a free one. The failed exchange made
/// registration forget `PASS`: the client entered as a guest (`001 newbie`), or under an
/// account's nick was told `433` and could pick a guest nick.
#[test]
fn pass_with_a_failed_sasl_is_checked_not_ignored() {
    let (_p, addr) = start(&["--irc-guests"]);
    let sasl_fails = |c: &mut Client, user: &str| {
        let wrong = chatserver::base64::encode(format!("\0{user}\0wrong").as_bytes());
        c.send("CAP LS 302\r\nCAP REQ :sasl\r\nAUTHENTICATE PLAIN");
        while !c.expect_line().contains(" ACK ") {}
        c.expect("AUTHENTICATE +\r\n");
        c.send(&format!("AUTHENTICATE {wrong}"));
        c.expect(&format!(":{S} 904 * :SASL authentication failed\r\n"));
    };
    let mut right = Client::connect(addr);
    sasl_fails(&mut right, "luke");
    right.send("PASS wise\r\nNICK yoda\r\nUSER y 0 * :Y\r\nCAP END");
    right.expect(&format!(
        ":{S} 001 yoda :Welcome to the chatserver IRC network, yoda\r\n"
    ));
    while !right.expect_line().contains(" 422 ") {}
    right.send("WHOIS yoda");
    right.expect_line(); // 311
    right.expect_line(); // 312
    right.expect(&format!(":{S} 330 yoda yoda yoda :is logged in as\r\n"));

    for nick in ["luke", "newbie"] {
        let mut wrong = Client::connect(addr);
        sasl_fails(&mut wrong, "hans");
        wrong.send(&format!(
            "PASS nope\r\nNICK {nick}\r\nUSER n 0 * :N\r\nCAP END"
        ));
        wrong.expect(&format!(":{S} 464 {nick} :Password incorrect\r\n"));
        wrong.expect(&format!(
            "ERROR :Closing link: ({nick}) [Password incorrect]\r\n"
        ));
        wrong.expect_closed();
    }
}
