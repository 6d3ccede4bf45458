//! Issue 19 after issue 22: the core's newer inputs as events requests (PROTOCOL.md §9d) on
//! `--events-port` and over a WebSocket: each request, its reply objects with the `id`
//! echoed, and a clear error for what is missing or malformed, the connection kept.
#![cfg(feature = "web")]

mod common;
mod web_util;

use common::Client;
use serde_json::{json, Value};
use web_util::Web;

/// An events client on `--events-port`.
struct Bot(Client);

impl Bot {
    fn login(w: &Web, user: &str, password: &str) -> Bot {
        let mut bot = Bot(Client::connect(w.ports["events"]));
        assert_eq!(bot.next()["prompt"], "username");
        let login = json!({"type":"login","user":user,"password":password});
        assert_eq!(bot.ask(login)[0]["type"], "welcome");
        bot
    }

    fn next(&mut self) -> Value {
        serde_json::from_str(&self.0.expect_line()).expect("JSON")
    }

    /// Send `request` with an `id` and return its replies (each carrying the id) up to its
    /// `done`, without the id; objects that are not replies are skipped.
    fn ask(&mut self, mut request: Value) -> Vec<Value> {
        request["id"] = json!("q");
        self.0.send(&request.to_string());
        let mut replies = Vec::new();
        loop {
            let mut v = self.next();
            if v["id"] != "q" {
                continue;
            }
            if v["type"] == "done" {
                return replies;
            }
            v.as_object_mut().map(|o| o.remove("id"));
            replies.push(v);
        }
    }

    /// The next object that is not a reply to a request.
    fn unasked(&mut self, skip: &[&str]) -> Value {
        loop {
            let v = self.next();
            if v.get("id").is_none() && !skip.iter().any(|s| v["type"] == *s) {
                return v;
            }
        }
    }
}

/// A card's fields that vary from run to run, removed so the rest compares exactly.
fn steady(mut card: Value) -> Value {
    for varying in ["idle_s", "signon_s"] {
        let v = card.as_object_mut().and_then(|o| o.remove(varying));
        assert!(v.is_some_and(|v| v.is_u64()), "{varying} in {card}");
    }
    card
}

/// The lookups: `lookup` (cards of those online, in the order asked), `whowas` (a past
/// session), `lusers` (the counts), `set_name` (seen by the asker and in a later card).
#[test]
fn lookups_whowas_lusers_and_set_name() {
    let w = Web::start(&[]);
    let mut yoda = Bot::login(&w, "yoda", "wise");
    let mut hans = Client::connect(w.ports[""]);
    hans.login("hans", "falcon*solo");
    let found = yoda.ask(json!({"type":"lookup","names":["nobody","HANS","yoda","hans"]}));
    assert_eq!(found.len(), 1, "{found:?}");
    let cards = found[0]["cards"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = cards.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        (found[0]["type"].as_str(), names),
        (Some("found"), vec!["hans", "yoda"])
    );
    assert_eq!(
        steady(cards[0].clone()),
        json!({"name":"hans","username":"hans","realname":"hans","host":"hidden","away":null,"oper":false,"account":true,"rooms":[]})
    );
    assert_eq!(
        yoda.ask(json!({"type":"set_name","realname":"Master Yoda"})),
        vec![json!({"type":"set_name","user":"yoda","realname":"Master Yoda","watched":false})]
    );
    let me = yoda.ask(json!({"type":"lookup","names":["yoda"]}));
    assert_eq!(me[0]["cards"][0]["realname"], "Master Yoda");
    let lusers = yoda.ask(json!({"type":"lusers"}));
    assert_eq!(
        lusers,
        vec![
            json!({"type":"lusers","users":2,"invisible":0,"operators":0,"unknown":0,"rooms":0,"max_users":2})
        ]
    );
    let never = yoda.ask(json!({"type":"whowas","name":"hans"}));
    assert_eq!(never[0]["code"], "was_no_such_user", "{never:?}");
    hans.send("logout");
    let gone = yoda.ask(json!({"type":"whowas","name":"hans","count":1}));
    assert_eq!(gone[0]["type"], "whowas", "{gone:?}");
    assert_eq!(gone[0]["name"], "hans");
    assert_eq!(gone[0]["past"][0]["username"], "hans");
    assert_eq!(
        yoda.ask(json!({"type":"set_name","realname":""}))[0]["code"],
        "invalid_text"
    );
}

/// `monitor_*`: adding answers who is online now, and from then on presence of the watched
/// comes as `monitor` objects; list, remove, clear and status say what is watched.
#[test]
fn monitor_requests_watch_users_come_and_go() {
    let w = Web::start(&[]);
    let mut yoda = Bot::login(&w, "yoda", "wise");
    assert_eq!(
        yoda.ask(json!({"type":"monitor_add","names":["luke","hans","bad name!"]})),
        vec![json!({"type":"monitor","online":false,"users":["luke","hans"]})]
    );
    let mut luke = Client::connect(w.ports[""]);
    luke.login("luke", "jedi");
    assert_eq!(
        yoda.unasked(&["presence"]),
        json!({"type":"monitor","online":true,"users":["luke"]})
    );
    assert_eq!(
        yoda.ask(json!({"type":"monitor_status"})),
        vec![
            json!({"type":"monitor","online":true,"users":["luke"]}),
            json!({"type":"monitor","online":false,"users":["hans"]}),
        ]
    );
    assert_eq!(
        yoda.ask(json!({"type":"monitor_remove","names":["hans"]})),
        Vec::<Value>::new()
    );
    assert_eq!(
        yoda.ask(json!({"type":"monitor_list"})),
        vec![json!({"type":"monitor_list","users":["luke"]})]
    );
    assert_eq!(
        yoda.ask(json!({"type":"monitor_clear"})),
        Vec::<Value>::new()
    );
    assert_eq!(
        yoda.ask(json!({"type":"monitor_list"})),
        vec![json!({"type":"monitor_list","users":[]})]
    );
}

/// `replay_*` over a WebSocket: a room's stored chat and the DMs with one user, oldest first,
/// limited, selected by `msgid` bounds; `replay_targets` lists both conversations; a room the
/// caller is not in has no history for it.
#[test]
fn replay_selects_a_conversations_stored_messages() {
    let w = Web::start(&[]);
    let mut hans = Client::connect(w.ports[""]);
    hans.login("hans", "falcon*solo");
    let mut yoda = w.ws(&["chatserver.events"]);
    yoda.event(&[]);
    yoda.text(r#"{"type":"login","user":"yoda","password":"wise"}"#);
    assert_eq!(yoda.event(&[])["type"], "welcome");
    for text in ["one", "two", "three"] {
        hans.send(&format!("message yoda {text}"));
        assert_eq!(yoda.event(&["presence"])["text"], text);
    }
    yoda.text(r#"{"type":"room_join","room":"den","create":true}"#);
    assert_eq!(yoda.event(&[])["event"], "opened");
    assert_eq!(yoda.event(&[])["event"], "entered");
    yoda.text(r#"{"type":"room_say","room":"den","text":"in the den"}"#);
    let ask = |yoda: &mut web_util::Ws, request: Value| -> Value {
        let mut request = request;
        request["id"] = json!(7);
        yoda.text(&request.to_string());
        let reply = yoda.event(&["room", "presence"]);
        assert_eq!(reply["id"], 7, "{reply}");
        assert_eq!(yoda.event(&[]), json!({"type":"done","id":7}));
        reply
    };
    let texts = |reply: &Value| -> Vec<String> {
        let lines = reply["lines"].as_array().cloned().unwrap_or_default();
        lines
            .iter()
            .filter_map(|l| l["text"].as_str().map(String::from))
            .collect()
    };
    let latest = ask(
        &mut yoda,
        json!({"type":"replay_latest","with":{"user":"hans"},"limit":2}),
    );
    assert_eq!(
        (
            latest["type"].as_str(),
            latest["target"].as_str(),
            latest["room"].as_bool()
        ),
        (Some("replay"), Some("hans"), Some(false))
    );
    assert_eq!(texts(&latest), ["two", "three"]);
    let line = &latest["lines"][1];
    assert_eq!(
        (line["from"].as_str(), line["to"].as_str()),
        (Some("hans"), Some("yoda"))
    );
    let three = line["msgid"].as_u64().expect("msgid");
    let before = ask(
        &mut yoda,
        json!({"type":"replay_before","with":{"user":"hans"},"at":{"msgid":three}}),
    );
    assert_eq!(texts(&before), ["one", "two"]);
    let room = ask(
        &mut yoda,
        json!({"type":"replay_latest","with":{"room":"den"}}),
    );
    assert_eq!(
        (room["room"].as_bool(), texts(&room)),
        (Some(true), vec!["in the den".to_string()])
    );
    let targets = ask(
        &mut yoda,
        json!({"type":"replay_targets","from":{"time_ms":0}}),
    );
    let mut names: Vec<&str> = targets["targets"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["target"].as_str()).collect())
        .unwrap_or_default();
    names.sort();
    assert_eq!(
        (targets["type"].as_str(), names),
        (Some("replay_targets"), vec!["den", "hans"])
    );
    let none = ask(
        &mut yoda,
        json!({"type":"replay_latest","with":{"room":"elsewhere"}}),
    );
    assert_eq!(none["code"], "no_history", "{none}");
}

/// A guest renames itself; an account holder cannot. The operators' requests are refused to
/// a session that is not an operator (no request makes one); `hear_wallops` is anyone's.
/// Malformed requests get `bad_request` with their id and the connection goes on.
#[test]
fn rename_operator_requests_and_malformed_ones() {
    let w = Web::start(&[]);
    let mut guest = Bot(Client::connect(w.ports["events"]));
    guest.next();
    assert_eq!(
        guest.ask(json!({"type":"guest","name":"visitor"}))[0]["type"],
        "guest_welcome"
    );
    assert_eq!(
        guest.ask(json!({"type":"rename","name":"wanderer"})),
        vec![json!({"type":"renamed","old":"visitor","new":"wanderer"})]
    );
    let mut yoda = Bot::login(&w, "yoda", "wise");
    assert_eq!(
        yoda.ask(json!({"type":"lookup","names":["visitor","wanderer"]}))[0]["cards"][0]["name"],
        "wanderer"
    );
    assert_eq!(
        yoda.ask(json!({"type":"rename","name":"yoda2"}))[0]["code"],
        "name_is_account"
    );
    for request in [
        json!({"type":"kill","user":"wanderer","reason":"x"}),
        json!({"type":"wallops","text":"hello ops"}),
    ] {
        let reply = yoda.ask(request);
        assert_eq!(reply[0]["code"], "not_operator", "{reply:?}");
        assert_eq!(reply[0]["text"], "Error. Only server operators can do that");
    }
    assert_eq!(
        yoda.ask(json!({"type":"hear_wallops","on":true})),
        Vec::<Value>::new()
    );
    let names: Vec<String> = (0..65).map(|i| format!("u{i}")).collect();
    for (request, why) in [
        (
            json!({"type":"lookup","names":names}),
            "a list of at most 64 names",
        ),
        (json!({"type":"monitor_add"}), "missing field `names`"),
        (
            json!({"type":"replay_before","at":{"msgid":1}}),
            "missing field `with`",
        ),
        (
            json!({"type":"replay_latest","with":{"room":"den"},"after":{"msgid":1e30}}),
            "invalid type",
        ),
        (
            json!({"type":"whowas","name":"hans","count":-2}),
            "invalid value",
        ),
        (
            json!({"type":"oper","name":"op","password":"pw"}),
            "unknown variant `oper`",
        ),
        (
            json!({"type":"authenticate","user":"yoda","password":"wise"}),
            "unknown variant",
        ),
    ] {
        let reply = yoda.ask(request.clone());
        assert_eq!(reply.len(), 1, "{request}: {reply:?}");
        assert_eq!(reply[0]["code"], "bad_request", "{request}");
        let text = reply[0]["text"].as_str().unwrap_or_default();
        assert!(text.contains(why), "{request}: {text}");
    }
    assert_eq!(
        yoda.ask(json!({"type":"lusers"}))[0]["users"],
        2,
        "the connection goes on"
    );
}
