//! A `chatserver` with its HTTP and events ports, and a small WebSocket client written from
//! RFC 6455 for the tests (masking on or off, frames of any opcode and flags), so the tests
//! can send exactly what a broken client would.
#![allow(dead_code)]

use crate::common::SAMPLE_CREDENTIALS;
use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A running server; its listeners by name (`""` is the line port, then `http`, `events`…).
pub struct Web {
    child: Child,
    pub dir: PathBuf,
    pub ports: HashMap<String, SocketAddr>,
}

impl Web {
    /// Start with `--http-port 0 --events-port 0` and `args`.
    pub fn start(args: &[&str]) -> Web {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("chatserver-web-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("test directory");
        fs::write(dir.join("credentials.txt"), SAMPLE_CREDENTIALS).expect("credentials.txt");
        let log = fs::File::create(dir.join("server.log")).expect("server.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_chatserver"))
            .current_dir(&dir)
            .env("RUST_LOG", "info")
            .args([
                "--bind",
                "127.0.0.1",
                "--http-port",
                "0",
                "--events-port",
                "0",
            ])
            .args(["--no-admin-socket", "--credentials"])
            .arg(dir.join("credentials.txt"))
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(args)
            .arg("0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn chatserver");
        let mut ports = HashMap::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        while out.read_line(&mut line).is_ok_and(|n| n > 0) {
            let (name, addr) = line
                .trim_end()
                .strip_prefix("chatserver ")
                .and_then(|l| l.split_once("listening on "))
                .expect("a listening line");
            ports.insert(name.trim().to_string(), addr.parse().expect("address"));
            line.clear();
            if ports.contains_key("events") {
                break;
            }
        }
        Web { child, dir, ports }
    }

    pub fn http(&self) -> SocketAddr {
        self.ports["http"]
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// A raw HTTP exchange: send `request`, read until the server closes.
    pub fn exchange(&self, request: &[u8]) -> String {
        let mut s = TcpStream::connect(self.http()).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        s.write_all(request).expect("send");
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        String::from_utf8_lossy(&got).into_owned()
    }

    /// A WebSocket to `/ws` asking for `protocols` (none: the default).
    pub fn ws(&self, protocols: &[&str]) -> Ws {
        let (ws, head) = Ws::open(self.http(), protocols, &[]);
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        ws
    }
}

impl Drop for Web {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- chatserver log ----\n{}", self.log());
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A WebSocket client.
pub struct Ws {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

/// A frame as received.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl Ws {
    /// Send the upgrade request (with `extra` header lines) and read the response head.
    pub fn open(addr: SocketAddr, protocols: &[&str], extra: &[&str]) -> (Ws, String) {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut req = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        );
        if !protocols.is_empty() {
            req.push_str(&format!(
                "Sec-WebSocket-Protocol: {}\r\n",
                protocols.join(", ")
            ));
        }
        for h in extra {
            req.push_str(h);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        let mut ws = Ws {
            stream,
            buf: Vec::new(),
        };
        ws.stream.write_all(req.as_bytes()).expect("send request");
        let head = ws.read_head();
        (ws, head)
    }

    fn read_head(&mut self) -> String {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                self.buf.drain(..end + 4);
                return head;
            }
            if !self.fill() {
                return String::from_utf8_lossy(&self.buf).into_owned();
            }
        }
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Send one frame; `masked: false` breaks RFC 6455 on purpose.
    pub fn frame(&mut self, fin: bool, opcode: u8, payload: &[u8], masked: bool) {
        let mut f = vec![if fin { 0x80 } else { 0 } | opcode];
        let m = if masked { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => f.push(m | n as u8),
            n if n < 65536 => {
                f.push(m | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(m | 127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let key = [0x37, 0xfa, 0x21, 0x3d];
        if masked {
            f.extend_from_slice(&key);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            f.extend_from_slice(payload);
        }
        self.stream.write_all(&f).expect("send frame");
    }

    /// Send a masked text frame a byte per write (the server sees its header cut anywhere).
    pub fn trickle(&mut self, text: &str) {
        let mut f = Vec::new();
        let payload = text.as_bytes();
        let key = [9u8, 8, 7, 6];
        f.push(0x81);
        if payload.len() < 126 {
            f.push(0x80 | payload.len() as u8);
        } else {
            f.push(0x80 | 126);
            f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        self.stream.set_nodelay(true).ok();
        for b in f {
            self.stream.write_all(&[b]).expect("send");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    pub fn text(&mut self, text: &str) {
        self.frame(true, 1, text.as_bytes(), true);
    }

    /// The next frame, or `None` once the server closed the TCP stream.
    pub fn read_frame(&mut self) -> Option<Frame> {
        loop {
            if self.buf.len() >= 2 {
                let (b0, b1) = (self.buf[0], self.buf[1]);
                assert_eq!(b1 & 0x80, 0, "server frames are not masked");
                let (len, at) = match b1 & 0x7f {
                    126 if self.buf.len() >= 4 => {
                        (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
                    }
                    127 if self.buf.len() >= 10 => {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(&self.buf[2..10]);
                        (u64::from_be_bytes(b) as usize, 10)
                    }
                    126 | 127 => (usize::MAX, 0),
                    n => (n as usize, 2),
                };
                if len != usize::MAX && self.buf.len() >= at + len {
                    let payload = self.buf[at..at + len].to_vec();
                    self.buf.drain(..at + len);
                    return Some(Frame {
                        fin: b0 & 0x80 != 0,
                        opcode: b0 & 0x0f,
                        payload,
                    });
                }
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// The next text message's text, its fragments joined (control frames are answered or
    /// skipped).
    pub fn recv(&mut self) -> String {
        let mut message: Option<Vec<u8>> = None;
        loop {
            let f = self.read_frame().expect("a frame, not the end");
            match f.opcode {
                1 | 0 => {
                    assert_eq!(f.opcode == 0, message.is_some(), "fragments in order");
                    let mut text = message.take().unwrap_or_default();
                    text.extend_from_slice(&f.payload);
                    if f.fin {
                        return String::from_utf8(text).expect("UTF-8 text");
                    }
                    message = Some(text);
                }
                9 => self.frame(true, 10, &f.payload, true),
                10 => {}
                8 => panic!("closed: {:?}", close_code(&f.payload)),
                op => panic!("unexpected opcode {op}"),
            }
        }
    }

    /// The next event object of the events protocol whose `type` is not one of `skip`.
    pub fn event(&mut self, skip: &[&str]) -> serde_json::Value {
        loop {
            let v: serde_json::Value = serde_json::from_str(&self.recv()).expect("JSON");
            if !skip.iter().any(|s| v["type"] == *s) {
                return v;
            }
        }
    }

    /// Expect a close frame with `code`, then the end of the TCP stream.
    pub fn expect_close(&mut self, code: u16) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            assert!(Instant::now() < deadline, "no close frame");
            let f = self.read_frame().expect("a close frame before the end");
            if f.opcode == 8 {
                assert_eq!(close_code(&f.payload), Some(code), "close code");
                break;
            }
        }
        assert!(
            self.read_frame().is_none(),
            "the server closes the TCP stream"
        );
    }
}

pub fn close_code(payload: &[u8]) -> Option<u16> {
    (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]))
}
