//! Stands in for `tls.rs` in a build without the `tls` feature: `--tls` is refused on the
//! command line, so no [`Settings`] or [`Stream`] can exist (both are empty enums), and a peer
//! that takes TLS links only is reached through the server.

use crate::Trust;
use mio::net::TcpStream;
use std::io;
use std::net::IpAddr;

#[derive(Debug)]
pub enum Settings {}

impl Settings {
    pub fn new(_trust: &Trust, _host: &str) -> Result<Settings, String> {
        Err("--tls: this chatclient was built without TLS".into())
    }

    pub fn handshake(&self, _tcp: std::net::TcpStream) -> Result<Stream, String> {
        match *self {}
    }

    pub fn connect(&self, _tcp: TcpStream) -> io::Result<Stream> {
        match *self {}
    }

    pub fn accept_peer(&self, _tcp: TcpStream) -> io::Result<Stream> {
        match *self {}
    }

    pub fn peer_key(&self) -> &str {
        match *self {}
    }
}

pub fn dial_peer(_tcp: TcpStream, _ip: IpAddr, _key: &str) -> io::Result<Stream> {
    Err(io::Error::other(
        "its client takes TLS links only, and this chatclient was built without TLS",
    ))
}

pub fn explain(e: &io::Error) -> String {
    e.to_string()
}

#[derive(Debug)]
pub enum Stream {}

impl Stream {
    pub fn tcp(&self) -> &TcpStream {
        match *self {}
    }

    pub fn handshaking(&self) -> bool {
        match *self {}
    }

    pub fn tcp_mut(&mut self) -> &mut TcpStream {
        match *self {}
    }

    pub fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        match *self {}
    }

    pub fn write(&mut self, _data: &[u8]) -> io::Result<usize> {
        match *self {}
    }

    pub fn flush(&mut self) -> io::Result<bool> {
        match *self {}
    }

    pub fn close(&mut self) {
        match *self {}
    }
}
