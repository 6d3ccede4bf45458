//! The web transport (issue 19): HTTP/1.1 on `--http-port` (over `Plain`) and
//! `--https-port` (over `Tls`). A connection starts by receiving one request; the loop then
//! either has a response sent and the connection closed (the page, `/metrics`, errors), or
//! upgrades it to a WebSocket, after which this transport frames the chosen protocol's
//! plaintext into messages (`ws.rs`) and the protocol never learns it is in a browser.

mod batch;
pub mod frame;
pub mod http;
mod ws;

pub use http::{Request, Status};
pub use ws::Delivery;

use super::{Received, Transport};
use std::io;
use std::net::SocketAddr;

/// Plaintext framed per write: a write of more is taken in parts.
const WRITE_CHUNK: usize = 64 * 1024;

/// Our own bytes a WebSocket may hold unsent (a write's leftover frames, pongs) before a peer
/// whose frames add more (a flood of pings it never reads the pongs of) is cut as a slow
/// reader: nothing else bounds what its pings make us hold.
const MAX_HELD: usize = 4 * WRITE_CHUNK;

/// Where a web connection is in its life.
#[derive(Debug)]
enum Phase {
    /// Receiving the request head, from `peer`.
    Request {
        head: Vec<u8>,
        peer: SocketAddr,
    },
    /// The request is in: a response is on its way (then the connection closes), or the route
    /// decides on an upgrade. The peer is known until then: a WebSocket hands it to the core at
    /// the upgrade and does not keep it (32 bytes of every idle one, issue 19).
    Response {
        peer: SocketAddr,
    },
    WebSocket(ws::Socket),
}

/// What [`Web::read_request`] found.
#[derive(Debug)]
pub enum Requested {
    /// Not all of the head is here yet.
    Pending,
    /// A request head (or the status a bad one earns).
    Ready(Result<Request, Status>),
    /// The peer left before finishing its request.
    Ended,
}

/// HTTP, then a response or a WebSocket, over a byte-stream transport.
#[derive(Debug)]
pub struct Web {
    inner: Transport,
    phase: Phase,
    /// Our own bytes (response head, frames) the inner transport has not taken yet.
    wire: Vec<u8>,
    sent: usize,
    /// Input read past the request head or past where a message ended, processed first.
    stash: Vec<u8>,
    /// A message's end that had no room in the last read's buffer: its closing newline, or
    /// what is left of a record (which waits in the socket). `Tail::None`: nothing owed.
    owed: ws::Tail,
}

impl Web {
    pub fn new(inner: Transport, peer: SocketAddr) -> Web {
        Web {
            inner,
            phase: Phase::Request {
                head: Vec::new(),
                peer,
            },
            wire: Vec::new(),
            sent: 0,
            stash: Vec::new(),
            owed: ws::Tail::None,
        }
    }

    pub fn socket(&mut self) -> &mut mio::net::TcpStream {
        self.inner.socket()
    }

    /// Waiting for its request (the slowloris deadline applies).
    pub fn awaiting_request(&self) -> bool {
        matches!(self.phase, Phase::Request { .. })
    }

    /// The peer, until the connection is a WebSocket (see [`Phase::Response`]).
    pub fn peer(&self) -> Option<SocketAddr> {
        match &self.phase {
            Phase::Request { peer, .. } | Phase::Response { peer } => Some(*peer),
            Phase::WebSocket(_) => None,
        }
    }

    /// Whether it runs over TLS.
    pub fn inner_is_tls(&self) -> bool {
        !matches!(self.inner, Transport::Plain(_))
    }

    /// Whether this is a WebSocket.
    pub fn is_websocket(&self) -> bool {
        matches!(self.phase, Phase::WebSocket(_))
    }

    /// Read until the request head is complete (at most [`http::MAX_HEAD`] bytes).
    pub fn read_request(&mut self, scratch: &mut [u8]) -> io::Result<Requested> {
        let Phase::Request { head, peer } = &mut self.phase else {
            return Ok(Requested::Pending);
        };
        loop {
            let len = match self.inner.read(scratch)? {
                Received::Data { len, .. } => len,
                Received::Empty => return Ok(Requested::Pending),
                Received::End { .. } => return Ok(Requested::Ended),
            };
            head.extend_from_slice(&scratch[..len]);
            match http::parse(head) {
                http::Parsed::Partial => {}
                http::Parsed::Bad(status) => return Ok(Requested::Ready(Err(status))),
                http::Parsed::Complete(request, end) => {
                    self.stash = head[end..].to_vec();
                    self.phase = Phase::Response { peer: *peer };
                    return Ok(Requested::Ready(Ok(request)));
                }
            }
        }
    }

    /// Send a whole response (the connection then closes once it is out).
    pub fn respond(&mut self, status: Status, headers: &[(&str, &str)], body: &[u8], head: bool) {
        if let Some(peer) = self.peer() {
            self.phase = Phase::Response { peer };
        }
        http::response(status, headers, body, head, &mut self.wire);
    }

    /// Accept the upgrade: `101`, then WebSocket frames carrying `delivery`'s plaintext,
    /// messages up to `max_message` bytes.
    pub fn upgrade(
        &mut self,
        key: &str,
        protocol: Option<&str>,
        delivery: Delivery,
        max_message: usize,
    ) {
        http::switching(key, protocol, &mut self.wire);
        self.phase = Phase::WebSocket(ws::Socket::new(delivery, max_message));
    }

    /// Plaintext from WebSocket messages (nothing in the other phases).
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<Received> {
        let Phase::WebSocket(socket) = &mut self.phase else {
            return Ok(Received::Empty);
        };
        let mut o = 0;
        match std::mem::replace(&mut self.owed, ws::Tail::None) {
            ws::Tail::Newline => {
                buf[0] = b'\n';
                o = 1;
            }
            ws::Tail::Record => {
                let record = socket.record();
                let n = record.len().min(buf.len());
                buf[..n].copy_from_slice(&record[..n]);
                socket.take_record(n);
                if !socket.record().is_empty() {
                    self.owed = ws::Tail::Record;
                }
                return Ok(Received::Data {
                    len: n,
                    last: false,
                });
            }
            ws::Tail::None => {}
        }
        // Input kept from before comes first, then the socket.
        let (len, last) = if !self.stash.is_empty() {
            let n = self.stash.len().min(buf.len() - o);
            buf[o..o + n].copy_from_slice(&self.stash[..n]);
            self.stash.drain(..n);
            if self.stash.is_empty() {
                self.stash = Vec::new();
            }
            (o + n, false)
        } else {
            match self.inner.read(&mut buf[o..])? {
                Received::Data { len, last } => (o + len, last),
                Received::Empty if o > 0 => {
                    return Ok(Received::Data {
                        len: o,
                        last: false,
                    })
                }
                Received::Empty => return Ok(Received::Empty),
                Received::End { .. } => {
                    // The TCP stream ended without a close frame: what a message had sent so
                    // far may be cut short.
                    let clean = socket.closing == ws::Closing::Done;
                    return Ok(Received::End { clean });
                }
            }
        };
        // `receive` works on the bytes after the owed newline.
        let queued = self.wire.len();
        let got = match socket.receive(&mut buf[o..], len - o, &mut self.wire) {
            Ok(got) => got,
            Err(f) => {
                let _ = self.flush_wire();
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("WebSocket: {} (closed with {})", f.why, f.code),
                ));
            }
        };
        let mut out = o + got.len;
        let rest = o + got.stopped_at..len;
        if !rest.is_empty() {
            let mut kept = buf[rest].to_vec();
            kept.append(&mut self.stash);
            self.stash = kept;
        }
        match got.tail {
            ws::Tail::None => {}
            ws::Tail::Newline if out < buf.len() => {
                buf[out] = b'\n';
                out += 1;
            }
            ws::Tail::Newline => self.owed = ws::Tail::Newline,
            ws::Tail::Record => {
                let record = socket.record();
                if out + record.len() <= buf.len() {
                    buf[out..out + record.len()].copy_from_slice(record);
                    out += record.len();
                    socket.take_record(record.len());
                } else {
                    self.owed = ws::Tail::Record;
                }
            }
        }
        if !self.wire.is_empty() {
            // Pongs and the answer to a close go out at once.
            self.flush_wire()?;
            let held = self.wire.len() - self.sent;
            if self.wire.len() > queued && held > MAX_HELD {
                return Err(io::Error::other(format!(
                    "WebSocket: {held} bytes of our frames unsent, the peer does not read"
                )));
            }
        }
        if got.closed && out == 0 {
            return Ok(Received::End { clean: true });
        }
        let last = last && self.stash.is_empty() && self.owed == ws::Tail::None && !got.closed;
        Ok(Received::Data { len: out, last })
    }

    /// Frame plaintext (WebSocket); nothing else writes through here. Its own buffer for the
    /// copied frames: the loop's writes go through [`Web::write_vectored`] with a lent one.
    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[io::IoSlice::new(data)], &mut Vec::new())
    }

    /// Frame what of `data` fits one write ([`batch`]: small frames copied into `pack`, the
    /// loop's buffer lent for the write, large payloads borrowed from the caller's slices) and
    /// hand the frames to the inner transport in one vectored write. Only what the inner
    /// transport did not take is copied, into `wire`, which goes first next time. Returns the
    /// plaintext bytes taken.
    pub fn write_vectored(
        &mut self,
        data: &[io::IoSlice<'_>],
        pack: &mut Vec<u8>,
    ) -> io::Result<usize> {
        if !self.flush()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let Phase::WebSocket(socket) = &mut self.phase else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        if socket.closing != ws::Closing::Open {
            // Nothing more goes out after a close frame: count it as sent.
            return Ok(data.iter().map(|s| s.len()).sum());
        }
        let frames =
            batch::Batch::build(socket.delivery(), data, WRITE_CHUNK, pack, socket.sending);
        socket.sending = frames.open;
        let mut slices = [io::IoSlice::new(&[]); batch::PARTS];
        let n = frames.io_slices(pack, &mut slices);
        let inner = &mut self.inner;
        write_or_hold(&mut slices[..n], &mut self.wire, |s| {
            inner.write_vectored(s, &mut Vec::new())
        })?;
        self.flush()?;
        Ok(frames.taken)
    }

    /// Push our bytes to the inner transport, then its own: true once nothing is held.
    pub fn flush(&mut self) -> io::Result<bool> {
        Ok(self.flush_wire()? && self.inner.flush()?)
    }

    fn flush_wire(&mut self) -> io::Result<bool> {
        while self.sent < self.wire.len() {
            match self.inner.write(&self.wire[self.sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // An idle connection keeps no buffer.
        self.wire = Vec::new();
        self.sent = 0;
        Ok(true)
    }

    pub fn handshaking(&self) -> bool {
        self.inner.handshaking()
    }

    /// `--heartbeat`: a silent WebSocket client is pinged; its pong counts as life.
    pub fn keepalive(&mut self) {
        if let Phase::WebSocket(socket) = &mut self.phase {
            socket.ping(&mut self.wire);
        }
    }

    /// A frame arrived since the last call (a pong proves life without being input).
    /// The inner transport's [`Transport::take_wire`].
    pub fn take_wire(&mut self) -> usize {
        self.inner.take_wire()
    }

    pub fn take_heard(&mut self) -> bool {
        match &mut self.phase {
            Phase::WebSocket(socket) => std::mem::take(&mut socket.heard),
            Phase::Request { .. } | Phase::Response { .. } => false,
        }
    }

    /// The connection's output is all out and it is to close: a WebSocket sends its close
    /// frame and waits for the peer's (true while it waits; the closing deadline bounds it).
    pub fn close_handshake(&mut self) -> bool {
        match &mut self.phase {
            Phase::WebSocket(socket) => {
                socket.close(frame::code::NORMAL, &mut self.wire);
                socket.closing == ws::Closing::Sent
            }
            Phase::Request { .. } | Phase::Response { .. } => false,
        }
    }

    /// Its close frame is sent and the peer's answer awaited.
    pub fn awaits_close(&self) -> bool {
        matches!(&self.phase, Phase::WebSocket(s) if s.closing == ws::Closing::Sent)
    }

    /// Dropped now: a WebSocket that is still open is told (1001, going away), best effort.
    pub fn close(&mut self) {
        if let Phase::WebSocket(socket) = &mut self.phase {
            socket.close(frame::code::GOING_AWAY, &mut self.wire);
        }
        let _ = self.flush_wire();
        self.inner.close();
    }
}

/// Hand `parts` to `write` until it has taken them all or would block; what it did not take,
/// down to the byte (a write may end inside a frame), is copied onto `held` in order, to go
/// out before anything else.
fn write_or_hold(
    mut parts: &mut [io::IoSlice<'_>],
    held: &mut Vec<u8>,
    mut write: impl FnMut(&[io::IoSlice<'_>]) -> io::Result<usize>,
) -> io::Result<()> {
    while !parts.is_empty() {
        match write(parts) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(k) => io::IoSlice::advance_slices(&mut parts, k),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    for part in parts.iter() {
        held.extend_from_slice(part);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every idle WebSocket holds one of these (boxed): issue 19's row "RSS per idle WebSocket
    /// connection ≤ 1.5× a plain one" had no room for the 240 bytes it once took (the peer's
    /// address kept for good, an owed record of its own, 64-bit message counters, a control
    /// frame's buffer apart from the message's). 168 bytes is glibc's 176-byte chunk.
    #[test]
    fn an_idle_websocket_keeps_its_state_small() {
        assert!(
            std::mem::size_of::<Web>() <= 168,
            "{}",
            std::mem::size_of::<Web>()
        );
    }

    /// A record longer than the caller's buffer comes out whole over several reads (it was
    /// cut to the first buffer's length, and the rest dropped).
    #[test]
    fn a_record_longer_than_the_read_buffer_comes_out_whole() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, peer) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let stream = mio::net::TcpStream::from_std(server);
        let mut web = Web::new(Transport::Plain(crate::transport::Plain::new(stream)), peer);
        assert_eq!(web.peer(), Some(peer));
        web.upgrade("dGhlIHNhbXBsZSBub25jZQ==", None, Delivery::Records, 1 << 20);
        assert_eq!(web.peer(), None);
        let payload: Vec<u8> = (0..100u8).collect();
        let mask = [1u8, 2, 3, 4];
        let mut frame = vec![0x82, 0x80 | 100];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        std::io::Write::write_all(&mut client, &frame).unwrap();
        let mut expected = vec![b'B'];
        expected.extend_from_slice(&100u32.to_be_bytes());
        expected.extend_from_slice(&payload);
        let (mut got, mut buf) = (Vec::new(), [0u8; 16]);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while got.len() < expected.len() && std::time::Instant::now() < deadline {
            match web.read(&mut buf).unwrap() {
                Received::Data { len, .. } => got.extend_from_slice(&buf[..len]),
                Received::Empty => std::thread::sleep(std::time::Duration::from_millis(5)),
                Received::End { .. } => break,
            }
        }
        assert_eq!(got, expected);
    }

    /// A write the socket takes only `k` bytes of (a few at a time, then WouldBlock), for
    /// every `k`: cuts inside a header, inside a copied payload, inside a borrowed one and
    /// between parts. What was sent and what is held are the frames, whole and in order.
    #[test]
    fn a_partial_write_holds_the_rest_down_to_the_byte() {
        let big = format!("{}\n", "é".repeat(batch::COPY_MAX / 2 + 1));
        let data = [
            "one\r\ntwo\n",
            big.as_str(),
            "three\n",
            big.as_str(),
            "four\n",
        ];
        let slices: Vec<io::IoSlice> = data
            .iter()
            .map(|d| io::IoSlice::new(d.as_bytes()))
            .collect();
        let mut pack = Vec::new();
        let frames = batch::Batch::build(Delivery::Objects, &slices, WRITE_CHUNK, &mut pack, false);
        assert_eq!(frames.taken, data.concat().len());
        let mut whole = Vec::new();
        for line in data.concat().lines() {
            frame::put_frame(&mut whole, frame::Opcode::Text, line.as_bytes());
        }
        for k in 0..=whole.len() {
            let mut parts = [io::IoSlice::new(&[]); batch::PARTS];
            let n = frames.io_slices(&pack, &mut parts);
            let (mut sent, mut held, mut left) = (Vec::new(), Vec::new(), k);
            let mut calls = 0;
            write_or_hold(&mut parts[..n], &mut held, |s| {
                calls += 1;
                if calls % 3 == 0 {
                    return Err(io::ErrorKind::Interrupted.into());
                }
                let mut n = 0;
                for part in s {
                    let take = left.min(7 - n).min(part.len());
                    sent.extend_from_slice(&part[..take]);
                    (n, left) = (n + take, left - take);
                }
                if n == 0 {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                Ok(n)
            })
            .unwrap();
            assert_eq!(sent.len(), k);
            sent.extend_from_slice(&held);
            assert!(sent == whole, "cut at {k}");
        }
        let mut parts = [io::IoSlice::new(b"x")];
        let zero = write_or_hold(&mut parts, &mut Vec::new(), |_| Ok(0));
        assert_eq!(zero.unwrap_err().kind(), io::ErrorKind::WriteZero);
    }
}
