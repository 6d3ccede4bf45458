//! Reliability (issue 8): a full disk must not stop live chat. Message history does not wait
//! for the disk and is not what a live message depends on: a failed history append is logged
//! once, the history is degraded, and `message`/`broadcast` to online users go on.

mod durability_util;

use durability_util::*;

#[test]
fn a_full_disk_degrades_history_but_not_live_chat() {
    let s = Scratch::new("history-full");
    s.write("credentials.txt", "yoda wise\nhans solo\nluke force\n");
    let launch = Launch {
        fsize_kib: Some(64),
        ..Launch::args(&["--no-presence"])
    };
    let server = Server::start(&s.path, &launch);
    let mut yoda = server.connect();
    yoda.login("yoda", "wise");
    let mut hans = server.connect();
    hans.login("hans", "solo");
    let pad = "x".repeat(2000);
    // 100 × 2 KB of history is three times what the file may hold.
    for n in 0..100 {
        let text = format!("m{n} {pad}");
        let cmd = if n % 2 == 0 {
            "message hans"
        } else {
            "broadcast"
        };
        assert_eq!(yoda.call(&format!("{cmd} {text}")), "", "message {n}");
        assert_eq!(hans.sync(), format!("yoda: {text}\n"), "message {n}");
    }
    wait_until("the degraded history in the log", || {
        server.stderr().contains("message history not written")
    });
    let log = server.stderr();
    assert_eq!(
        log.matches("message history not written").count(),
        1,
        "logged once: {log}"
    );
    // Durable changes still meet the full disk (the journal is a file like the others), but
    // the server is alive and reads work.
    assert_eq!(yoda.call("whoelse"), "hans\n");
}
