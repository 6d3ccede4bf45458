//! HTTP/1.1 as far as the server needs it (issue 19): one request per connection, parsed
//! with `httparse` from a header block of at most [`MAX_HEAD`] bytes, answered with a whole
//! response and `Connection: close`, or upgraded to a WebSocket (RFC 6455 §4.2). What a
//! route answers is the loop's business (`server/web.rs`); this file knows the syntax.

use sha1::{Digest, Sha1};

/// The longest request header block accepted (issue 19: 8 KiB); a longer one gets 431.
pub const MAX_HEAD: usize = 8 * 1024;
/// Headers a request may carry.
const MAX_HEADERS: usize = 64;

/// A request as the routes need it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// `HEAD` (answered without a body); anything but `GET` and `HEAD` gets 405.
    pub head: bool,
    pub get: bool,
    /// The path without its query.
    pub path: String,
    pub host: Option<String>,
    pub origin: Option<String>,
    /// `Upgrade: websocket` was asked for.
    pub upgrade: bool,
    /// `Connection` names `upgrade`.
    pub connection_upgrade: bool,
    pub key: Option<String>,
    pub version: Option<String>,
    /// `Sec-WebSocket-Protocol`, in the client's order of preference.
    pub protocols: Vec<String>,
}

/// What the request head said, or the status it earns.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// More bytes are needed.
    Partial,
    /// A request; its head ended at this offset (bytes after it are the peer's next ones).
    Complete(Request, usize),
    Bad(Status),
}

/// A response status the server sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    BadRequest,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    UpgradeRequired,
    HeadersTooLarge,
    Unavailable,
}

impl Status {
    pub fn line(self) -> &'static str {
        match self {
            Status::Ok => "200 OK",
            Status::BadRequest => "400 Bad Request",
            Status::Forbidden => "403 Forbidden",
            Status::NotFound => "404 Not Found",
            Status::MethodNotAllowed => "405 Method Not Allowed",
            Status::UpgradeRequired => "426 Upgrade Required",
            Status::HeadersTooLarge => "431 Request Header Fields Too Large",
            Status::Unavailable => "503 Service Unavailable",
        }
    }
}

/// Parse the head received so far.
pub fn parse(bytes: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let end = match req.parse(bytes) {
        Ok(httparse::Status::Complete(end)) => end,
        Ok(httparse::Status::Partial) if bytes.len() >= MAX_HEAD => {
            return Parsed::Bad(Status::HeadersTooLarge)
        }
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => return Parsed::Bad(Status::HeadersTooLarge),
        Err(_) => return Parsed::Bad(Status::BadRequest),
    };
    if end > MAX_HEAD {
        return Parsed::Bad(Status::HeadersTooLarge);
    }
    let method = req.method.unwrap_or_default();
    let target = req.path.unwrap_or_default();
    let mut r = Request {
        head: method == "HEAD",
        get: method == "GET",
        path: target.split('?').next().unwrap_or_default().to_string(),
        ..Request::default()
    };
    for h in req.headers.iter() {
        let Ok(value) = std::str::from_utf8(h.value) else {
            return Parsed::Bad(Status::BadRequest);
        };
        let value = value.trim();
        let tokens = || value.split(',').map(|t| t.trim().to_ascii_lowercase());
        match h.name.to_ascii_lowercase().as_str() {
            "host" => r.host = Some(value.to_string()),
            "origin" => r.origin = Some(value.to_string()),
            "upgrade" => r.upgrade |= tokens().any(|t| t == "websocket"),
            "connection" => r.connection_upgrade |= tokens().any(|t| t == "upgrade"),
            "sec-websocket-key" => r.key = Some(value.to_string()),
            "sec-websocket-version" => r.version = Some(value.to_string()),
            "sec-websocket-protocol" => r
                .protocols
                .extend(value.split(',').map(|t| t.trim().to_string())),
            _ => {}
        }
    }
    Parsed::Complete(r, end)
}

/// Why an upgrade request is refused, with the status it gets.
pub fn check_upgrade(r: &Request) -> Result<&str, (Status, &'static str)> {
    if !r.get {
        return Err((Status::MethodNotAllowed, "a WebSocket opens with GET"));
    }
    if !r.upgrade || !r.connection_upgrade {
        return Err((
            Status::UpgradeRequired,
            "this is a WebSocket endpoint: Upgrade: websocket and Connection: Upgrade",
        ));
    }
    if r.version.as_deref() != Some("13") {
        return Err((Status::UpgradeRequired, "Sec-WebSocket-Version must be 13"));
    }
    match r.key.as_deref() {
        Some(key) if valid_key(key) => Ok(key),
        _ => Err((
            Status::BadRequest,
            "Sec-WebSocket-Key must be 16 bytes in base64",
        )),
    }
}

/// A `Sec-WebSocket-Key`: 16 bytes in base64, which is 22 characters and `==`.
fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 24
        && key.ends_with("==")
        && b[..22]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// `Sec-WebSocket-Accept` for `key` (§4.2.2): base64 of SHA-1 of the key and the GUID.
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    crate::base64::encode(&h.finalize())
}

/// A whole response with `Connection: close`; the body is left out for `HEAD`.
pub fn response(
    status: Status,
    headers: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.line().as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    let length = format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    out.extend_from_slice(length.as_bytes());
    if !head_only {
        out.extend_from_slice(body);
    }
}

/// The `101 Switching Protocols` answer to a valid upgrade, naming `protocol` if the client
/// offered it.
pub fn switching(key: &str, protocol: Option<&str>, out: &mut Vec<u8>) {
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
    );
    out.extend_from_slice(format!("Sec-WebSocket-Accept: {}\r\n", accept_key(key)).as_bytes());
    if let Some(p) = protocol {
        out.extend_from_slice(format!("Sec-WebSocket-Protocol: {p}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6455 §1.3's worked example.
    #[test]
    fn the_accept_key_is_the_rfc_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn a_request_head_parses_in_pieces_and_within_its_limit() {
        let text = b"GET /ws?x=1 HTTP/1.1\r\nHost: a:1\r\nUpgrade: WebSocket\r\n\
            Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
            Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a, chatserver.line\r\n\r\nrest";
        assert_eq!(parse(&text[..20]), Parsed::Partial);
        let Parsed::Complete(r, end) = parse(text) else {
            panic!("complete");
        };
        assert_eq!(&text[end..], b"rest");
        assert_eq!(r.path, "/ws");
        assert!(r.upgrade && r.connection_upgrade && r.get);
        assert_eq!(r.protocols, ["a", "chatserver.line"]);
        assert_eq!(check_upgrade(&r), Ok("dGhlIHNhbXBsZSBub25jZQ=="));
        let long = [b"GET / HTTP/1.1\r\nX: ".as_slice(), &[b'a'; MAX_HEAD]].concat();
        assert_eq!(parse(&long), Parsed::Bad(Status::HeadersTooLarge));
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
            Parsed::Bad(Status::BadRequest)
        );
    }
}
