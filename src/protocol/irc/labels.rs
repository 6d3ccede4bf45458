//! IRCv3 labeled-response (issue 22): the replies to a command sent with a `label` tag are
//! collected while they are rendered, then sent as the spec says: none as `ACK`, one with the
//! label on it, several inside a `labeled-response` batch (lines that belong to an inner batch
//! of their own, such as `chathistory`, keep only that one).

use super::caps::{Cap, Caps};
use super::tags::{with_tag, Out};
use crate::protocol::irc::message::write_message;

/// A labeled command's rendered replies, whole lines with their CRLF.
#[derive(Debug)]
pub struct Capture {
    label: Box<str>,
    pub buf: Vec<u8>,
}

impl Capture {
    pub fn new(label: &str) -> Capture {
        Capture {
            label: Box::from(label),
            buf: Vec::new(),
        }
    }

    /// Send the replies with the label, as batch number `batch` if there are several; what
    /// the server adds (`ACK`, `BATCH`) is stamped `now_ms` for `server-time`.
    pub fn finish(self, server: &str, caps: Caps, batch: u32, now_ms: u64, out: &mut Vec<u8>) {
        let lines: Vec<&[u8]> = self
            .buf
            .split_inclusive(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let own = |command: &str, params: &[&str]| {
            let mut line = Vec::new();
            let time = caps.has(Cap::ServerTime).then_some(now_ms);
            Out {
                time,
                ..Out::default()
            }
            .write(&mut line);
            write_message(&mut line, Some(server), command, params);
            line
        };
        match lines.as_slice() {
            [] => out.extend_from_slice(&with_tag(&own("ACK", &[]), "label", &self.label, false)),
            [one] => out.extend_from_slice(&with_tag(one, "label", &self.label, false)),
            many if caps.has(Cap::Batch) => {
                let id = format!("L{batch}");
                let start = own("BATCH", &[&format!("+{id}"), "labeled-response"]);
                out.extend_from_slice(&with_tag(&start, "label", &self.label, false));
                for line in many {
                    out.extend_from_slice(&with_tag(line, "batch", &id, true));
                }
                out.extend_from_slice(&own("BATCH", &[&format!("-{id}")]));
            }
            // Without batches the label goes on the first reply only.
            [first, rest @ ..] => {
                out.extend_from_slice(&with_tag(first, "label", &self.label, false));
                rest.iter().for_each(|l| out.extend_from_slice(l));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(list: &str) -> Caps {
        Caps::default().request(list).expect("offered")
    }

    fn finish(lines: &str, list: &str) -> String {
        let mut c = Capture::new("x1");
        c.buf.extend_from_slice(lines.as_bytes());
        let mut out = Vec::new();
        c.finish("srv", caps(list), 3, 0, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn none_one_and_many_replies() {
        assert_eq!(finish("", "labeled-response"), "@label=x1 :srv ACK\r\n");
        assert_eq!(
            finish(":srv PONG srv :t\r\n", "labeled-response"),
            "@label=x1 :srv PONG srv :t\r\n"
        );
        assert_eq!(
            finish(
                ":srv 1 a\r\n@batch=in :srv 2 b\r\n",
                "labeled-response batch"
            ),
            "@label=x1 :srv BATCH +L3 labeled-response\r\n@batch=L3 :srv 1 a\r\n\
             @batch=in :srv 2 b\r\n:srv BATCH -L3\r\n"
        );
        assert_eq!(
            finish(":srv 1 a\r\n:srv 2 b\r\n", "labeled-response"),
            "@label=x1 :srv 1 a\r\n:srv 2 b\r\n"
        );
    }
}
