//! The IRC front-end (RFC 1459/2812 over TCP). So far only the wire format: [`message`].

pub mod message;
