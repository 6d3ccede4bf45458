//! IRCv3 labeled-response (issue 22): the replies to a command sent with a `label` tag are
//! collected while they are rendered, then sent as the spec says: none as `ACK`, one with the
//! label on it, several inside a `labeled-response` batch (lines that belong to an inner batch
//! of their own, such as `chathistory`, keep only that one).
//!
//! Collected replies are bounded ([`HELD_MAX`]): a long one (a big `WHO`, `LIST` or
//! `CHATHISTORY`, paced by the core over several loop iterations) opens its batch, or puts the
//! label on its first line, as soon as it is known to have several lines and streams on, so a
//! labeled reply costs no more memory than an unlabeled one and is paced like one. (It was
//! collected whole: the core's pacing saw nothing written and released every part at once,
//! the codec held the whole reply, then queued it at once, over `--max-output` for a reader
//! that cannot take it all, which is then cut as slow.)

use super::caps::{Cap, Caps};
use super::tags::{with_tag, Out};
use crate::protocol::irc::message::write_message;

/// The most bytes of replies collected before the label's lines start to go out.
pub const HELD_MAX: usize = 4096;

/// A labeled command's rendered replies, whole lines with their CRLF.
#[derive(Debug)]
pub struct Capture {
    label: Box<str>,
    pub buf: Vec<u8>,
    /// The replies started to go out (see [`HELD_MAX`]): in batch `L<n>` (`Some(n)`), or with
    /// the label on the first line only when the client takes no batches (`Some(0)`).
    open: Option<u32>,
    /// The command's replies are never channel or presence lines (`AUTHENTICATE`, `OPER`,
    /// registration): such lines are someone else's, arriving while its password is hashed
    /// over several loop iterations, and go out around the labeled reply.
    pub replies_only: bool,
}

impl Capture {
    pub fn new(label: &str, replies_only: bool) -> Capture {
        Capture {
            label: Box::from(label),
            buf: Vec::new(),
            open: None,
            replies_only,
        }
    }

    /// Call after rendering into [`Capture::buf`]: past [`HELD_MAX`], send the whole lines
    /// collected as the start of the labeled reply (as batch number `batch` if the client
    /// takes batches; `true`: that number is now used) and collect no more.
    pub fn spill(
        &mut self,
        server: &str,
        caps: Caps,
        batch: u32,
        now_ms: u64,
        out: &mut Vec<u8>,
    ) -> bool {
        if self.buf.len() <= HELD_MAX {
            return false;
        }
        let opened = self.open.is_none();
        if opened {
            let batched = caps.has(Cap::Batch);
            self.open = Some(if batched { batch } else { 0 });
            if batched {
                let start = own(
                    server,
                    caps,
                    now_ms,
                    "BATCH",
                    &[&format!("+L{batch}"), "labeled-response"],
                );
                out.extend_from_slice(&with_tag(&start, "label", &self.label, false));
            }
        }
        let end = self
            .buf
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let lines: Vec<u8> = self.buf.drain(..end).collect();
        self.send_open(&lines, opened, out);
        opened && caps.has(Cap::Batch)
    }

    /// `lines`, sent as part of an open labeled reply; `first`: they begin it.
    fn send_open(&self, lines: &[u8], first: bool, out: &mut Vec<u8>) {
        for (i, line) in lines.split_inclusive(|&b| b == b'\n').enumerate() {
            match self.open {
                Some(0) if first && i == 0 => {
                    out.extend_from_slice(&with_tag(line, "label", &self.label, false))
                }
                Some(0) | None => out.extend_from_slice(line),
                Some(n) => out.extend_from_slice(&with_tag(line, "batch", &format!("L{n}"), true)),
            }
        }
    }

    /// Send the replies with the label, as batch number `batch` if there are several; what
    /// the server adds (`ACK`, `BATCH`) is stamped `now_ms` for `server-time`.
    pub fn finish(self, server: &str, caps: Caps, batch: u32, now_ms: u64, out: &mut Vec<u8>) {
        if let Some(open) = self.open {
            self.send_open(&self.buf, false, out);
            if open != 0 {
                out.extend_from_slice(&own(server, caps, now_ms, "BATCH", &[&format!("-L{open}")]));
            }
            return;
        }
        let lines: Vec<&[u8]> = self
            .buf
            .split_inclusive(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let own = |command: &str, params: &[&str]| own(server, caps, now_ms, command, params);
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

/// A line the server adds to a labeled reply (`ACK`, `BATCH`), stamped `now_ms` for
/// `server-time`.
fn own(server: &str, caps: Caps, now_ms: u64, command: &str, params: &[&str]) -> Vec<u8> {
    let mut line = Vec::new();
    let time = caps.has(Cap::ServerTime).then_some(now_ms);
    Out {
        time,
        ..Out::default()
    }
    .write(&mut line);
    write_message(&mut line, Some(server), command, params);
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(list: &str) -> Caps {
        Caps::default().request(list).expect("offered")
    }

    fn finish(lines: &str, list: &str) -> String {
        let mut c = Capture::new("x1", false);
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
