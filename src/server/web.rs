//! HTTP requests on `--http-port`/`--https-port` (issue 19): the loop's side of the web
//! transport. A request decides what follows: the embedded page, `/healthz` or `/metrics` as
//! a whole response and a close, or `/ws` upgraded to a WebSocket whose subprotocol picks the
//! protocol (events by default), which then becomes a session like any other connection.

use super::{push_dirty, Server};
use crate::chat::MessageKind;
use crate::protocol::{Protocol, ProtocolKind};
use crate::session::ConnId;
use crate::time::Now;
use crate::transport::web::{http, Delivery, Request, Requested, Status};
use std::fmt::Write;

/// Who may open WebSockets and read `/metrics`.
#[derive(Clone, Debug, Default)]
pub struct WebOptions {
    /// `--ws-origin`: browser origins allowed (empty: only the page's own, see [`origin_ok`]).
    pub origins: Vec<String>,
    /// `--metrics-public`: `/metrics` for every address, not only loopback.
    pub metrics_public: bool,
}

/// The page's files: path, content type, bytes (plain HTML, CSS and JavaScript modules).
const PAGE: &[(&str, &str, &[u8])] = &[
    (
        "/",
        "text/html; charset=utf-8",
        include_bytes!("../../web/index.html"),
    ),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/app.js"),
    ),
    (
        "/net.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/net.js"),
    ),
    (
        "/view.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/view.js"),
    ),
    (
        "/style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/style.css"),
    ),
];

/// The page may load only its own files and open WebSockets to its own server; user text can
/// never run (it is set with `textContent`, and inline scripts are refused anyway).
const CSP: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; \
    base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/// The subprotocols a WebSocket may ask for, in no order of ours (the client's order wins).
const SUBPROTOCOLS: &[(&str, ProtocolKind, Delivery)] = &[
    ("chatserver.events", ProtocolKind::Events, Delivery::Objects),
    ("chatserver.line", ProtocolKind::Line, Delivery::Stream),
    (
        "text.ircv3.net",
        ProtocolKind::Irc,
        Delivery::Lines { binary: false },
    ),
    (
        "binary.ircv3.net",
        ProtocolKind::Irc,
        Delivery::Lines { binary: true },
    ),
];

/// A WebSocket's origin is fine: no `Origin` (not a browser), one of `--ws-origin`, or by
/// default the page's own (the Origin's host is the Host the request was sent to), so a page
/// on another site cannot make a visitor's browser talk to a server only the visitor reaches.
fn origin_ok(r: &Request, allowed: &[String]) -> bool {
    let Some(origin) = r.origin.as_deref() else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    if !allowed.is_empty() {
        return allowed.iter().any(|a| a.eq_ignore_ascii_case(origin));
    }
    let host = origin.split_once("://").map_or("", |(_, h)| h);
    r.host
        .as_deref()
        .is_some_and(|h| !host.is_empty() && h.eq_ignore_ascii_case(host))
}

impl Server {
    /// Read a connection's request head; answer or upgrade once it is whole.
    pub(super) fn read_request(&mut self, id: ConnId, now: Now) {
        let Some(conn) = self.conns.get_mut(id.slot()).filter(|c| c.id == id) else {
            return;
        };
        let handshaking = conn.transport.handshaking();
        let Some(web) = conn.transport.web() else {
            return;
        };
        let requested = web.read_request(&mut self.scratch);
        if handshaking && !web.handshaking() {
            push_dirty(conn, &mut self.dirty);
        }
        match requested {
            Ok(Requested::Pending) => {}
            Ok(Requested::Ended) => self.dead.push(id),
            Err(e) => {
                log::info!("{} HTTP read error: {e}", self.chat.log_name(id));
                self.dead.push(id);
            }
            Ok(Requested::Ready(Err(status))) => {
                let why = match status {
                    Status::HeadersTooLarge => "request head over 8 KiB\n",
                    _ => "malformed request head\n",
                };
                self.http_error(id, status, why, false)
            }
            Ok(Requested::Ready(Ok(request))) => self.route(id, request, now),
        }
    }

    fn route(&mut self, id: ConnId, r: Request, now: Now) {
        if !r.get && !r.head {
            return self.http_error(id, Status::MethodNotAllowed, "GET only\n", false);
        }
        match r.path.as_str() {
            "/ws" => self.upgrade(id, &r, now),
            "/healthz" => self.respond(id, Status::Ok, "text/plain", b"ok\n", r.head),
            "/metrics" => {
                let loopback = self
                    .conns
                    .get_mut(id.slot())
                    .and_then(|c| c.transport.web().and_then(|w| w.peer()))
                    .map(|peer| peer.ip().is_loopback());
                if self.web.metrics_public || loopback == Some(true) {
                    let text = self.metrics(now);
                    let kind = "text/plain; version=0.0.4; charset=utf-8";
                    self.respond(id, Status::Ok, kind, text.as_bytes(), r.head);
                } else {
                    let why = "/metrics is served to loopback only (--metrics-public)\n";
                    self.http_error(id, Status::Forbidden, why, r.head);
                }
            }
            path => match PAGE
                .iter()
                .find(|(p, _, _)| *p == path || (path == "/index.html" && *p == "/"))
            {
                Some((_, kind, body)) => self.respond(id, Status::Ok, kind, body, r.head),
                None => self.http_error(id, Status::NotFound, "not found\n", r.head),
            },
        }
    }

    /// A short plain-text answer (errors).
    fn http_error(&mut self, id: ConnId, status: Status, text: &str, head: bool) {
        self.respond(
            id,
            status,
            "text/plain; charset=utf-8",
            text.as_bytes(),
            head,
        );
    }

    fn respond(&mut self, id: ConnId, status: Status, kind: &str, body: &[u8], head: bool) {
        let Some(conn) = self.conns.get_mut(id.slot()).filter(|c| c.id == id) else {
            return;
        };
        let Some(web) = conn.transport.web() else {
            return;
        };
        let mut headers = vec![
            ("Content-Type", kind),
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", CSP),
        ];
        if status == Status::MethodNotAllowed {
            headers.push(("Allow", "GET, HEAD"));
        }
        if status == Status::UpgradeRequired {
            headers.push(("Sec-WebSocket-Version", "13"));
            headers.push(("Upgrade", "websocket"));
        }
        web.respond(status, &headers, body, head);
        conn.closing = crate::connection::Closing::AfterFlush;
        push_dirty(conn, &mut self.dirty);
    }

    /// `GET /ws`: check the handshake and the origin, pick the protocol, upgrade, and make
    /// the connection a session.
    fn upgrade(&mut self, id: ConnId, r: &Request, now: Now) {
        let key = match http::check_upgrade(r) {
            Ok(key) => key.to_string(),
            Err((status, why)) => return self.http_error(id, status, &format!("{why}\n"), r.head),
        };
        if !origin_ok(r, &self.web.origins) {
            let why = "this Origin may not open a WebSocket here (--ws-origin)\n";
            return self.http_error(id, Status::Forbidden, why, false);
        }
        let chosen = if r.protocols.is_empty() {
            Some((None, ProtocolKind::Events, Delivery::Objects))
        } else {
            r.protocols.iter().find_map(|asked| {
                SUBPROTOCOLS
                    .iter()
                    .find(|(name, _, _)| name == asked)
                    .map(|&(name, kind, delivery)| (Some(name), kind, delivery))
            })
        };
        let Some((name, kind, delivery)) = chosen else {
            let names: Vec<&str> = SUBPROTOCOLS.iter().map(|(n, _, _)| *n).collect();
            let why = format!(
                "no known subprotocol; this server speaks {}\n",
                names.join(", ")
            );
            return self.http_error(id, Status::BadRequest, &why, false);
        };
        let max_line = self.limits.max_line;
        let Some(conn) = self.conns.get_mut(id.slot()).filter(|c| c.id == id) else {
            return;
        };
        let Some(web) = conn.transport.web() else {
            return;
        };
        let Some(peer) = web.peer() else {
            return;
        };
        web.upgrade(&key, name, delivery, max_line);
        conn.protocol = Protocol::new(kind, &self.protocol_options);
        conn.admitted = true;
        let greeting = conn.protocol.greeting();
        if !greeting.is_empty() {
            conn.queue_bytes(greeting);
            self.output_total += greeting.len();
        }
        let front = conn.protocol.front();
        push_dirty(conn, &mut self.dirty);
        // Frames the client sent right behind its request wait in the transport.
        self.unread.push(id);
        log::info!(
            "WebSocket ({}) from {peer}",
            name.unwrap_or("chatserver.events")
        );
        self.chat.handle_connect(id, Some(peer), front, now);
    }

    /// The Prometheus text format: every counter the issue lists.
    fn metrics(&self, now: Now) -> String {
        let mut m = String::with_capacity(4096);
        let family = |m: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(
                m,
                "# HELP chatserver_{name} {help}\n# TYPE chatserver_{name} {kind}"
            );
        };
        family(
            &mut m,
            "connections",
            "gauge",
            "Open connections by front-end and transport.",
        );
        let mut open: std::collections::BTreeMap<(&str, &str), u64> = Default::default();
        for (_, c) in self.conns.iter() {
            let protocol = if c.admitted {
                protocol_name(c.protocol.kind())
            } else {
                "none"
            };
            *open.entry((protocol, c.transport.name())).or_default() += 1;
        }
        for ((protocol, transport), n) in open {
            let _ = writeln!(
                m,
                "chatserver_connections{{protocol=\"{protocol}\",transport=\"{transport}\"}} {n}"
            );
        }
        let stats = self.chat.stats();
        let tally = self.chat.tally();
        let scalar = |m: &mut String, name: &str, kind: &str, help: &str, v: f64| {
            let _ = writeln!(
                m,
                "# HELP chatserver_{name} {help}\n# TYPE chatserver_{name} {kind}\nchatserver_{name} {v}"
            );
        };
        scalar(
            &mut m,
            "sessions",
            "gauge",
            "Sessions the core knows (logged in or not).",
            stats.sessions as f64,
        );
        scalar(
            &mut m,
            "users_online",
            "gauge",
            "Logged-in users, guests included.",
            stats.users as f64,
        );
        scalar(
            &mut m,
            "connections_accepted_total",
            "counter",
            "Connections accepted.",
            self.counters.accepted as f64,
        );
        scalar(
            &mut m,
            "logins_total",
            "counter",
            "Logins that reached the welcome.",
            tally.logins as f64,
        );
        scalar(
            &mut m,
            "login_failures_total",
            "counter",
            "Wrong passwords.",
            tally.failed_logins as f64,
        );
        scalar(
            &mut m,
            "lockouts_total",
            "counter",
            "Accounts locked after three wrong passwords.",
            tally.lockouts as f64,
        );
        family(
            &mut m,
            "messages_total",
            "counter",
            "Chat messages accepted, by kind.",
        );
        for kind in MessageKind::ALL {
            let _ = writeln!(
                m,
                "chatserver_messages_total{{kind=\"{}\"}} {}",
                kind.name(),
                tally.messages(kind)
            );
        }
        family(
            &mut m,
            "deliveries_total",
            "counter",
            "Chat lines queued for recipients, by kind.",
        );
        for (kind, n) in super::Delivery::ALL.iter().zip(self.counters.deliveries) {
            let _ = writeln!(
                m,
                "chatserver_deliveries_total{{kind=\"{}\"}} {n}",
                kind.name()
            );
        }
        scalar(
            &mut m,
            "received_bytes_total",
            "counter",
            "Plaintext bytes received.",
            self.operator.bytes_in as f64,
        );
        scalar(
            &mut m,
            "sent_bytes_total",
            "counter",
            "Plaintext bytes sent.",
            self.operator.bytes_out as f64,
        );
        scalar(
            &mut m,
            "slow_reader_cuts_total",
            "counter",
            "Connections cut as slow readers.",
            self.counters.slow_cuts as f64,
        );
        scalar(
            &mut m,
            "worst_iteration_seconds",
            "gauge",
            "The longest loop iteration since start.",
            self.iterations.worst.as_secs_f64(),
        );
        scalar(
            &mut m,
            "journal_bytes",
            "gauge",
            "Size of the journal.",
            self.store.journal_len() as f64,
        );
        scalar(
            &mut m,
            "snapshot_bytes",
            "gauge",
            "Size of the newest snapshot.",
            self.store.snapshot_len() as f64,
        );
        scalar(
            &mut m,
            "compactions_total",
            "counter",
            "Journal compactions finished.",
            self.store.compactions() as f64,
        );
        family(
            &mut m,
            "disk_syncs_total",
            "counter",
            "Times the loop waited for the disk (fdatasync), by file.",
        );
        let syncs = self.store.syncs();
        for (file, n) in [
            ("credentials", syncs.credentials),
            ("journal", syncs.journal),
            ("history", syncs.history),
        ] {
            let _ = writeln!(m, "chatserver_disk_syncs_total{{file=\"{file}\"}} {n}");
        }
        let uptime = self.operator.uptime(now).as_secs_f64();
        scalar(
            &mut m,
            "uptime_seconds",
            "gauge",
            "Seconds since start.",
            uptime,
        );
        m
    }
}

/// A protocol's name in `/metrics`.
fn protocol_name(kind: ProtocolKind) -> &'static str {
    match kind {
        ProtocolKind::Line => "line",
        ProtocolKind::Irc => "irc",
        ProtocolKind::Json => "json",
        ProtocolKind::Events => "events",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(host: &str, origin: Option<&str>) -> Request {
        Request {
            host: Some(host.to_string()),
            origin: origin.map(str::to_string),
            ..Request::default()
        }
    }

    #[test]
    fn origins_default_to_the_page_s_own() {
        assert!(origin_ok(&request("chat.lan:8080", None), &[]));
        assert!(origin_ok(
            &request("chat.lan:8080", Some("http://chat.lan:8080")),
            &[]
        ));
        assert!(origin_ok(
            &request("chat.lan:8080", Some("https://CHAT.lan:8080/")),
            &[]
        ));
        assert!(!origin_ok(
            &request("chat.lan:8080", Some("https://evil.example")),
            &[]
        ));
        assert!(!origin_ok(&request("chat.lan:8080", Some("null")), &[]));
        let allowed = vec!["https://app.gamja.example".to_string()];
        assert!(origin_ok(
            &request("x", Some("https://app.gamja.example")),
            &allowed
        ));
        assert!(!origin_ok(&request("x", Some("http://x")), &allowed));
    }
}
