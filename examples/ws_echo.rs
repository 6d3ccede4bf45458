//! The project's own WebSocket transport under an echo protocol, for the Autobahn test cases
//! (issue 19): `cargo run --release --example ws_echo -- PORT` serves `ws://127.0.0.1:PORT/`
//! and sends every message back as it came (text or binary). One thread, one mio poll, the
//! same `Transport::Web` the server runs, with messages of up to 64 MiB (Autobahn's section 9
//! sends 16 MiB ones); `tests/autobahn.sh` drives it with PyPI's `kosoku`.

use chatserver::transport::web::{Delivery, Requested};
use chatserver::transport::{Received, Transport, TransportKind};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use std::collections::VecDeque;
use std::io;

const LISTENER: Token = Token(usize::MAX);
const MAX_MESSAGE: usize = 64 << 20;

struct Client {
    transport: Transport,
    /// Echo records not yet taken by the transport.
    queue: VecDeque<Vec<u8>>,
    /// Record bytes read so far (a record may span reads).
    partial: Vec<u8>,
    upgraded: bool,
}

fn main() -> io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(9001);
    let mut listener = TcpListener::bind(([127, 0, 0, 1], port).into())?;
    println!("ws_echo listening on {}", listener.local_addr()?);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut clients: Slab<Client> = Slab::new();
    let mut events = Events::with_capacity(256);
    let mut scratch = vec![0u8; MAX_MESSAGE + 64 * 1024];
    loop {
        poll.poll(&mut events, None)?;
        for event in events.iter() {
            if event.token() == LISTENER {
                while let Ok((stream, peer)) = listener.accept() {
                    let _ = stream.set_nodelay(true);
                    let mut transport = Transport::new(TransportKind::Http, stream, None, peer)?;
                    let entry = clients.vacant_entry();
                    let token = Token(entry.key());
                    poll.registry().register(
                        transport.socket(),
                        token,
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    entry.insert(Client {
                        transport,
                        queue: VecDeque::new(),
                        partial: Vec::new(),
                        upgraded: false,
                    });
                }
                continue;
            }
            let key = event.token().0;
            let Some(client) = clients.get_mut(key) else {
                continue;
            };
            if serve(client, &mut scratch).is_err() {
                let mut gone = clients.remove(key);
                gone.transport.close();
                let _ = poll.registry().deregister(gone.transport.socket());
            }
        }
    }
}

/// Read what is there, echo whole messages, write what the socket takes. `Err`: drop it.
fn serve(client: &mut Client, scratch: &mut [u8]) -> io::Result<()> {
    if !client.upgraded {
        let Some(web) = client.transport.web() else {
            return Err(io::ErrorKind::Other.into());
        };
        match web.read_request(scratch)? {
            Requested::Pending => return Ok(()),
            Requested::Ended => return Err(io::ErrorKind::UnexpectedEof.into()),
            Requested::Ready(Err(_)) => return Err(io::ErrorKind::InvalidData.into()),
            Requested::Ready(Ok(request)) => {
                let key = chatserver::transport::web::http::check_upgrade(&request)
                    .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?
                    .to_string();
                web.upgrade(&key, None, Delivery::Records, MAX_MESSAGE);
                client.upgraded = true;
            }
        }
    }
    loop {
        match client.transport.read(scratch)? {
            Received::Data { len, .. } => {
                client.partial.extend_from_slice(&scratch[..len]);
                take_records(client);
            }
            Received::Empty => break,
            Received::End { .. } => {
                flush(client)?;
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
    flush(client)
}

/// Complete records (`T`/`B`, length, bytes) become echoes.
fn take_records(client: &mut Client) {
    let mut at = 0;
    while client.partial.len() - at >= 5 {
        let b = &client.partial[at..];
        let len = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
        if b.len() < 5 + len {
            break;
        }
        client.queue.push_back(b[..5 + len].to_vec());
        at += 5 + len;
    }
    client.partial.drain(..at);
}

fn flush(client: &mut Client) -> io::Result<()> {
    while let Some(record) = client.queue.front() {
        match client.transport.write(record) {
            Ok(_) => {
                client.queue.pop_front();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    client.transport.flush().map(|_| ())
}
