//! RESP2 for the Redis link: commands go out as arrays of bulk strings (written here: the one
//! shape we send cannot fail to encode), replies come in as frames decoded by `redis-protocol`
//! (the part that must survive any bytes a server or a man in the middle sends).

pub use redis_protocol::resp2::types::OwnedFrame as Frame;

/// Append one command, `args` as bulk strings, to `out`.
pub fn command<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: &[A]) {
    out.push(b'*');
    out.extend_from_slice(args.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(a.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// What one read of reply bytes gave.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    /// A whole frame and the bytes it took.
    Frame(Frame, usize),
    /// More bytes are needed.
    Partial,
    /// Not RESP: the link must be dropped.
    Invalid(String),
}

pub fn decode(buf: &[u8]) -> Decoded {
    match redis_protocol::resp2::decode::decode(buf) {
        Ok(Some((frame, used))) => Decoded::Frame(frame, used),
        Ok(None) => Decoded::Partial,
        Err(e) => Decoded::Invalid(e.to_string()),
    }
}

/// The bytes of a bulk or simple string reply.
pub fn bytes(frame: &Frame) -> Option<&[u8]> {
    match frame {
        Frame::BulkString(b) | Frame::SimpleString(b) => Some(b),
        _ => None,
    }
}

/// A string reply as text (lossless only for UTF-8; every value we store is).
pub fn text(frame: &Frame) -> Option<&str> {
    bytes(frame).and_then(|b| std::str::from_utf8(b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_an_array_of_bulk_strings() {
        let mut out = Vec::new();
        command(&mut out, &["SET", "k", "a b\r\n"]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na b\r\n\r\n");
        assert_eq!(
            decode(&out),
            Decoded::Frame(
                Frame::Array(vec![
                    Frame::BulkString(b"SET".to_vec()),
                    Frame::BulkString(b"k".to_vec()),
                    Frame::BulkString(b"a b\r\n".to_vec()),
                ]),
                out.len()
            )
        );
    }

    #[test]
    fn partial_and_invalid_replies() {
        assert_eq!(decode(b"$5\r\nab"), Decoded::Partial);
        assert_eq!(decode(b""), Decoded::Partial);
        assert!(matches!(decode(b"?what\r\n"), Decoded::Invalid(_)));
        assert_eq!(
            decode(b"-ERR no\r\n+OK\r\n"),
            Decoded::Frame(Frame::Error("ERR no".into()), 9)
        );
    }
}
