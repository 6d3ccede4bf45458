//! The load generator's WebSocket client side (`--ws`, issue 19): the upgrade on the server's
//! `--http-port`, then the workload's bytes in masked text frames and the received frames'
//! payloads handed back as the protocol's bytes, so each workload runs unchanged over a
//! WebSocket. Three subprotocols: `chatserver.line` (`--ws 1`), where messages are a byte stream
//! as on TCP; `text.ircv3.net` (`--ws irc`), where each message is one IRC line without its
//! `\r\n`, as gamja and Kiwi IRC send and expect; and `chatserver.events` (`--ws events`, the
//! page's protocol, PROTOCOL.md §9), where the line workload's `login` and `broadcast` go as
//! JSON requests and the `welcome` and `chat` events come back as the lines it waits for.

/// Which subprotocol a run asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sub {
    /// `chatserver.line`: a stream of bytes.
    Line,
    /// `text.ircv3.net`: one IRC line per message.
    Irc,
    /// `chatserver.events`: one JSON object per message, translated to and from the line
    /// protocol's `login`, `broadcast`, welcome and delivery lines (with `--proto chat`).
    Events,
}

impl Sub {
    /// `--ws 1` or `--ws irc`.
    pub fn parse(v: &str) -> Option<Sub> {
        match v {
            "1" | "line" => Some(Sub::Line),
            "irc" => Some(Sub::Irc),
            "events" => Some(Sub::Events),
            _ => None,
        }
    }
}

/// Where a client's WebSocket is.
#[derive(Debug)]
pub struct Ws {
    pub sub: Sub,
    /// The 101 came: frames from here on.
    pub open: bool,
    /// Received bytes not yet a whole response head or frame.
    pending: Vec<u8>,
}

impl Ws {
    pub fn new(sub: Sub) -> Ws {
        Ws {
            sub,
            open: false,
            pending: Vec::new(),
        }
    }
}

/// The upgrade request.
pub fn request(host: &str, sub: Sub) -> Vec<u8> {
    let protocol = match sub {
        Sub::Line => "chatserver.line",
        Sub::Irc => "text.ircv3.net",
        Sub::Events => "chatserver.events",
    };
    format!(
        "GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {protocol}\r\n\r\n"
    )
    .into_bytes()
}

/// The longest message sent: the server closes with 1009 on one over its `--max-line` (4096 by
/// default), and a line may span messages in `chatserver.line`, so longer writes are split.
const MAX_MESSAGE: usize = 4096;

/// Append `data` as masked text frames: pieces of at most `MAX_MESSAGE` bytes (`Line`), or
/// one frame per line without its line end (`Irc`; the workload writes whole lines).
pub fn frame(data: &[u8], sub: Sub, out: &mut Vec<u8>) {
    match sub {
        Sub::Line => data
            .chunks(MAX_MESSAGE)
            .for_each(|chunk| frame_one(chunk, out)),
        Sub::Irc => data
            .split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .filter(|line| !line.is_empty())
            .for_each(|line| frame_one(line, out)),
        Sub::Events => data
            .split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .for_each(|line| frame_one(event_request(line).as_bytes(), out)),
    }
}

/// A line of the line protocol's workload as an events request: `login U P`, `broadcast T`,
/// `message TO T`; anything else as the answer to a prompt.
fn event_request(line: &[u8]) -> String {
    let line = String::from_utf8_lossy(line);
    let mut words = line.splitn(3, ' ');
    let request = match (words.next(), words.next(), words.next()) {
        (Some("login"), Some(user), Some(password)) => {
            serde_json::json!({"type": "login", "user": user, "password": password})
        }
        (Some("broadcast"), Some(first), rest) => {
            let text = rest.map_or(first.to_string(), |r| format!("{first} {r}"));
            serde_json::json!({"type": "broadcast", "text": text})
        }
        (Some("message"), Some(to), Some(text)) => {
            serde_json::json!({"type": "message", "to": to, "text": text})
        }
        _ => serde_json::json!({"type": "answer", "text": line}),
    };
    request.to_string()
}

/// An event as the line the workload waits for: `welcome` as the welcome line, a `chat` as
/// `<from>: <text>`, an `error` as `Error. …`; nothing for the others (presence, `done`).
fn event_line(payload: &[u8], out: &mut Vec<u8>) {
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return;
    };
    let text = event["text"].as_str().unwrap_or_default();
    match event["type"].as_str() {
        Some("welcome") => out.extend_from_slice(crate::proto::WELCOME),
        Some("chat") => {
            let from = event["from"].as_str().unwrap_or_default();
            out.extend_from_slice(format!("{from}: {text}").as_bytes());
        }
        Some("error") => out.extend_from_slice(format!("Error. {text}").as_bytes()),
        _ => return,
    }
    out.push(b'\n');
}

fn frame_one(data: &[u8], out: &mut Vec<u8>) {
    out.push(0x81);
    match data.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    let key = [0x5a, 0x17, 0xc3, 0x81];
    out.extend_from_slice(&key);
    out.extend(data.iter().enumerate().map(|(i, b)| b ^ key[i & 3]));
}

impl Ws {
    /// Take received bytes; `payload` gets the line protocol's bytes. `Err`: not a WebSocket.
    pub fn take(&mut self, data: &[u8], payload: &mut Vec<u8>) -> Result<(), String> {
        self.pending.extend_from_slice(data);
        let mut at = 0;
        if !self.open {
            let Some(end) = self.pending.windows(4).position(|w| w == b"\r\n\r\n") else {
                return Ok(());
            };
            if !self.pending.starts_with(b"HTTP/1.1 101") {
                let head = String::from_utf8_lossy(&self.pending[..end]).into_owned();
                return Err(format!("no upgrade: {head}"));
            }
            self.open = true;
            at = end + 4;
        }
        loop {
            let b = &self.pending[at..];
            if b.len() < 2 {
                break;
            }
            let (len, head) = match b[1] & 0x7f {
                126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
                127 if b.len() >= 10 => {
                    let mut n = [0u8; 8];
                    n.copy_from_slice(&b[2..10]);
                    (u64::from_be_bytes(n) as usize, 10)
                }
                126 | 127 => break,
                n => (n as usize, 2),
            };
            if b.len() < head + len {
                break;
            }
            match b[0] & 0x0f {
                0..=2 if self.sub == Sub::Events => event_line(&b[head..head + len], payload),
                0..=2 => {
                    payload.extend_from_slice(&b[head..head + len]);
                    if self.sub == Sub::Irc && b[0] & 0x80 != 0 {
                        payload.extend_from_slice(b"\r\n"); // a message is a line
                    }
                }
                8 => return Err("closed by the server (close frame)".into()),
                _ => {} // pings: the server sends them only with --heartbeat
            }
            at += head + len;
        }
        self.pending.drain(..at);
        if self.pending.is_empty() {
            self.pending = Vec::new();
        }
        Ok(())
    }
}
