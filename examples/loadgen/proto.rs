//! The three wire protocols the load generator speaks: chatserver's (PROTOCOL.md), IRC (RFC 2812,
//! as ngIRCd serves it) and RESP pub/sub (Redis). Only what the workloads need.

/// One login step: bytes to send, then wait for a line that `done` accepts.
pub struct Step {
    pub send: Vec<u8>,
    pub done: fn(&[u8]) -> bool,
}

/// Which server dialect a run speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Chat,
    /// chatserver with the fan-out group as a chat room (PROTOCOL.md §5): members enter the
    /// room and the sender's plain lines are room chat.
    ChatRoom,
    /// `tags`: registration asks for `server-time` and `message-tags` (`--irc-tags 1`, issue
    /// 22's tags-on fan-out row), so every delivery carries `@time=…;msgid=…`.
    Irc {
        tags: bool,
    },
    Resp,
}

/// What a client joins after logging in.
#[derive(Clone, Copy, Debug)]
pub enum Join<'a> {
    /// Nothing beyond logging in.
    None,
    /// The fan-out group: an IRC channel or a pub/sub channel (chatserver: every online user).
    Group(&'a str),
    /// Become reachable by name: Redis subscribes to a channel named after the user.
    Own,
}

pub const WELCOME: &[u8] = b"Welcome to the greatest messaging application ever!";

pub fn user(i: usize) -> String {
    format!("u{i}")
}

pub fn password(i: usize) -> String {
    format!("p{i}")
}

/// The IRCv3 capabilities `--irc-tags 1` asks for.
pub const IRC_TAGS: &str = "server-time message-tags";

/// An IRC line without its tags (`@time=…;msgid=… :u1!u1@h PRIVMSG …` → `:u1!u1@h PRIVMSG …`).
fn irc_untagged(line: &[u8]) -> &[u8] {
    match line.first() {
        Some(b'@') => line
            .iter()
            .position(|&b| b == b' ')
            .map_or(&[][..], |sp| &line[sp + 1..]),
        _ => line,
    }
}

/// The numeric of an IRC reply line (`:server 376 nick :End of MOTD`).
fn irc_numeric(line: &[u8]) -> Option<&[u8]> {
    let mut words = irc_untagged(line).split(|&b| b == b' ');
    let first = words.next()?;
    if !first.starts_with(b":") {
        return None;
    }
    words.next().filter(|w| w.len() == 3)
}

fn resp_command(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

impl Proto {
    pub fn parse(s: &str) -> Option<Proto> {
        match s {
            "chat" | "chatserver" => Some(Proto::Chat),
            "chat-room" => Some(Proto::ChatRoom),
            "irc" | "ngircd" => Some(Proto::Irc { tags: false }),
            "resp" | "redis" => Some(Proto::Resp),
            _ => None,
        }
    }

    /// The login script for user `i`.
    pub fn login(self, i: usize, join: Join<'_>) -> Vec<Step> {
        let name = user(i);
        let mut steps = Vec::new();
        match self {
            Proto::Chat => steps.push(Step {
                send: format!("login {name} {}\n", password(i)).into_bytes(),
                done: |l| l.ends_with(WELCOME),
            }),
            Proto::Irc { tags } => {
                let (req, end) = match tags {
                    true => (format!("CAP REQ :{IRC_TAGS}\r\n"), "CAP END\r\n"),
                    false => (String::new(), ""),
                };
                steps.push(Step {
                    send: format!("{req}NICK {name}\r\nUSER {name} 0 * :{name}\r\n{end}")
                        .into_bytes(),
                    done: |l| matches!(irc_numeric(l), Some(b"376") | Some(b"422")),
                });
                if let Join::Group(ch) = join {
                    steps.push(Step {
                        send: format!("JOIN #{ch}\r\n").into_bytes(),
                        done: |l| irc_numeric(l) == Some(b"366"),
                    });
                }
            }
            Proto::ChatRoom => {
                steps.push(Step {
                    send: format!("login {name} {}\n", password(i)).into_bytes(),
                    done: |l| l.ends_with(WELCOME),
                });
                if let Join::Group(room) = join {
                    // Whoever comes first opens it; the others' "already exists" is expected.
                    steps.push(Step {
                        send: format!("open-chatroom {room} public\nenter-chatroom {room}\n")
                            .into_bytes(),
                        done: |l| l.starts_with(b"You entered chatroom"),
                    });
                }
            }
            Proto::Resp => {
                let channel = match join {
                    Join::None => None,
                    Join::Group(ch) => Some(ch.to_string()),
                    Join::Own => Some(name),
                };
                if let Some(ch) = channel {
                    steps.push(Step {
                        send: resp_command(&[b"SUBSCRIBE", ch.as_bytes()]),
                        done: |l| l == b"subscribe",
                    });
                }
            }
        }
        steps
    }

    /// A line that means the login failed, with the reason.
    pub fn login_error(self, line: &[u8]) -> Option<String> {
        let bad = match self {
            Proto::Chat | Proto::ChatRoom => {
                let l = String::from_utf8_lossy(line);
                (l.contains("Error.") && !l.contains("already exists"))
                    || l.contains("Invalid")
                    || l.contains("blocked")
            }
            Proto::Irc { .. } => {
                line.starts_with(b"ERROR")
                    || irc_numeric(line).is_some_and(|n| n[0] == b'4' || n[0] == b'5')
            }
            Proto::Resp => line.starts_with(b"-"),
        };
        bad.then(|| String::from_utf8_lossy(line).into_owned())
    }

    /// IRC servers PING idle clients; answer so they stay connected.
    pub fn keepalive_reply(self, line: &[u8]) -> Option<Vec<u8>> {
        let line = irc_untagged(line);
        if matches!(self, Proto::Irc { .. }) && line.starts_with(b"PING ") {
            let mut v = b"PONG ".to_vec();
            v.extend_from_slice(&line[5..]);
            v.extend_from_slice(b"\r\n");
            return Some(v);
        }
        None
    }

    /// One fan-out message from the sender to the group.
    pub fn group_message(self, group: &str, text: &str) -> Vec<u8> {
        match self {
            Proto::Chat => format!("broadcast {text}\n").into_bytes(),
            Proto::ChatRoom => format!("{text}\n").into_bytes(),
            Proto::Irc { .. } => format!("PRIVMSG #{group} :{text}\r\n").into_bytes(),
            Proto::Resp => resp_command(&[b"PUBLISH", group.as_bytes(), text.as_bytes()]),
        }
    }

    /// A direct message to user `to` (Redis: a publish on the channel named after `to`).
    pub fn direct_message(self, to: usize, text: &str) -> Vec<u8> {
        let to = user(to);
        match self {
            Proto::Chat => format!("message {to} {text}\n").into_bytes(),
            Proto::ChatRoom => format!("/message {to} {text}\n").into_bytes(),
            Proto::Irc { .. } => format!("PRIVMSG {to} :{text}\r\n").into_bytes(),
            Proto::Resp => resp_command(&[b"PUBLISH", to.as_bytes(), text.as_bytes()]),
        }
    }

    /// A message that must be stored durably for user `to` (chatserver: offline, since the
    /// durable workload never logs its recipients in; Redis: a list per user).
    pub fn durable_message(self, to: usize, text: &str) -> Vec<u8> {
        match self {
            Proto::Resp => resp_command(&[b"LPUSH", user(to).as_bytes(), text.as_bytes()]),
            _ => self.direct_message(to, text),
        }
    }

    /// The command that closes a batch of durable messages: its reply comes only after every
    /// message before it is stored (chatserver: a message to oneself, refused).
    pub fn durable_ack(self, sender: usize) -> Vec<u8> {
        match self {
            Proto::Resp => resp_command(&[b"PING"]),
            _ => format!("message {} ack\n", user(sender)).into_bytes(),
        }
    }

    /// The reply line of [`Proto::durable_ack`].
    pub fn durable_ack_reply(self) -> &'static [u8] {
        match self {
            Proto::Resp => b"+PONG",
            _ => b"Error. Cannot message self",
        }
    }

    /// The prefix that marks a delivery from `sender` (Redis: the `message` line of the push).
    pub fn delivery_marker(self, sender: usize) -> Vec<u8> {
        match self {
            Proto::Chat => format!("{}: ", user(sender)).into_bytes(),
            Proto::ChatRoom => format!("<{}>: ", user(sender)).into_bytes(),
            Proto::Irc { .. } => format!(":{}!", user(sender)).into_bytes(),
            Proto::Resp => b"message".to_vec(),
        }
    }

    /// Is `line` a delivery carrying a message from the sender with this marker?
    pub fn is_delivery(self, line: &[u8], marker: &[u8]) -> bool {
        match self {
            Proto::Resp => line == marker,
            Proto::Irc { .. } => irc_untagged(line).starts_with(marker),
            _ => line.starts_with(marker),
        }
    }
}

/// The send timestamp carried in a latency probe: the text ends in `T<nanoseconds>`.
pub fn probe_stamp(line: &[u8]) -> Option<u64> {
    let t = memchr::memrchr(b'T', line)?;
    let digits = &line[t + 1..];
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_and_numerics() {
        assert_eq!(probe_stamp(b"u1: T12345"), Some(12345));
        assert_eq!(probe_stamp(b":u1!~u1@h PRIVMSG u2 :T7"), Some(7));
        assert_eq!(probe_stamp(b"u1 logged in"), None);
        assert_eq!(irc_numeric(b":srv 376 u1 :End"), Some(&b"376"[..]));
        assert_eq!(irc_numeric(b"PING :x"), None);
        assert_eq!(irc_numeric(b"@time=x :srv 376 u1 :End"), Some(&b"376"[..]));
        let tagged = Proto::Irc { tags: true };
        let line = b"@time=2026-12-03T13:00:00.000Z;msgid=a1 :u1!u1@h PRIVMSG #g :x";
        assert!(tagged.is_delivery(line, &tagged.delivery_marker(1)));
        assert!(!tagged.is_delivery(b"@time=t :u2!u2@h PRIVMSG #g :x", b":u1!"));
        let login = String::from_utf8(tagged.login(1, Join::None).remove(0).send).unwrap();
        assert!(login.starts_with("CAP REQ :server-time message-tags\r\nNICK u1\r\n"));
        assert!(login.ends_with("CAP END\r\n"));
    }
}
