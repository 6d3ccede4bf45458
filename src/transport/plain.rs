//! The plain transport: the TCP stream as it is. Its one piece of judgement is the first read:
//! a TLS ClientHello on a plain port is a client dialled at the wrong port, refused at once
//! rather than fed to a protocol as binary junk.

use super::Received;
use mio::net::TcpStream;
use std::io::{self, Read, Write};

/// A TCP stream carrying a protocol's plaintext directly.
#[derive(Debug)]
pub struct Plain {
    stream: TcpStream,
    /// Nothing read yet: the first bytes are checked for a TLS handshake.
    fresh: bool,
}

/// A TLS record carrying a handshake (content type 22, protocol major version 3): how every
/// TLS client opens, and nothing a line, JSON or IRC client would type.
fn looks_like_tls(first: &[u8]) -> bool {
    first.starts_with(&[0x16, 0x03])
}

impl Plain {
    pub fn new(stream: TcpStream) -> Plain {
        Plain {
            stream,
            fresh: true,
        }
    }

    pub fn socket(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<Received> {
        loop {
            return match self.stream.read(buf) {
                Ok(0) => Ok(Received::End { clean: true }),
                Ok(n) => {
                    if std::mem::take(&mut self.fresh) && looks_like_tls(&buf[..n]) {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "a TLS handshake on a plain port",
                        ));
                    }
                    // A short read emptied the socket buffer: anything arriving later raises
                    // a new edge.
                    let last = n < buf.len();
                    Ok(Received::Data { len: n, last })
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Received::Empty),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
        }
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.stream.write(data)
    }

    pub fn write_vectored(&mut self, data: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.stream.write_vectored(data)
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like_tls;

    #[test]
    fn a_client_hello_is_recognised_and_protocol_openers_are_not() {
        assert!(looks_like_tls(&[0x16, 0x03, 0x01, 0x02, 0x00]));
        for opener in [
            &b"login yoda wise\n"[..],
            b"NICK a\r\n",
            b"{\"msgType\"",
            b"\x16",
        ] {
            assert!(!looks_like_tls(opener), "{opener:?}");
        }
    }
}
