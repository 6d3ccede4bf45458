//! IRCv3 capability negotiation (issue 22, CAP 302): the capabilities this server offers, a
//! connection's negotiated set as bits, and the `CAP` subcommands' replies. A capability
//! changes only how the IRC front-end renders what the core says, or what it says at all:
//! the core never learns which a client chose.

/// One capability. [`Cap::ALL`] is the order `CAP LS` lists them in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    AccountNotify,
    AccountTag,
    AwayNotify,
    Batch,
    /// `cap-notify`: told of capabilities that come and go (none do here).
    Notify,
    Chathistory,
    EchoMessage,
    ExtendedJoin,
    ExtendedMonitor,
    InviteNotify,
    LabeledResponse,
    MessageTags,
    MultiPrefix,
    Sasl,
    ServerTime,
    Setname,
    UserhostInNames,
}

impl Cap {
    pub const ALL: [Cap; 17] = [
        Cap::AccountNotify,
        Cap::AccountTag,
        Cap::AwayNotify,
        Cap::Batch,
        Cap::Notify,
        Cap::Chathistory,
        Cap::EchoMessage,
        Cap::ExtendedJoin,
        Cap::ExtendedMonitor,
        Cap::InviteNotify,
        Cap::LabeledResponse,
        Cap::MessageTags,
        Cap::MultiPrefix,
        Cap::Sasl,
        Cap::ServerTime,
        Cap::Setname,
        Cap::UserhostInNames,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Cap::AccountNotify => "account-notify",
            Cap::AccountTag => "account-tag",
            Cap::AwayNotify => "away-notify",
            Cap::Batch => "batch",
            Cap::Notify => "cap-notify",
            Cap::Chathistory => "draft/chathistory",
            Cap::EchoMessage => "echo-message",
            Cap::ExtendedJoin => "extended-join",
            Cap::ExtendedMonitor => "extended-monitor",
            Cap::InviteNotify => "invite-notify",
            Cap::LabeledResponse => "labeled-response",
            Cap::MessageTags => "message-tags",
            Cap::MultiPrefix => "multi-prefix",
            Cap::Sasl => "sasl",
            Cap::ServerTime => "server-time",
            Cap::Setname => "setname",
            Cap::UserhostInNames => "userhost-in-names",
        }
    }

    /// The value `CAP LS 302` shows after `=`.
    fn value(self) -> Option<&'static str> {
        match self {
            Cap::Sasl => Some(super::sasl::MECHANISMS),
            _ => None,
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    pub fn named(name: &str) -> Option<Cap> {
        Cap::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }
}

/// A connection's capabilities, one bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Caps(u32);

impl Caps {
    pub fn has(self, cap: Cap) -> bool {
        self.0 & cap.bit() != 0
    }

    fn set(&mut self, cap: Cap, on: bool) {
        if on {
            self.0 |= cap.bit();
        } else {
            self.0 &= !cap.bit();
        }
    }

    /// The bits that change how a fan-out event renders: connections whose sets agree on
    /// them share one rendering (issue 22: tags cost nothing for clients that did not ask).
    pub fn render_key(self) -> u32 {
        const SHAPING: [Cap; 8] = [
            Cap::AccountNotify,
            Cap::AccountTag,
            Cap::AwayNotify,
            Cap::ExtendedJoin,
            Cap::ExtendedMonitor,
            Cap::MessageTags,
            Cap::ServerTime,
            Cap::Setname,
        ];
        SHAPING.into_iter().fold(0, |k, c| k | (self.0 & c.bit()))
    }

    /// The enabled names, space-separated (`CAP LIST`).
    pub fn names(self) -> String {
        let on = Cap::ALL.into_iter().filter(|c| self.has(*c));
        on.map(Cap::name).collect::<Vec<_>>().join(" ")
    }

    /// Apply `CAP REQ :<list>`: all or nothing. `Some(new set)` when every name is offered
    /// (a `-` before a name disables it), `None` to refuse the whole request.
    pub fn request(self, list: &str) -> Option<Caps> {
        let mut caps = self;
        let mut any = false;
        for word in list.split(' ').filter(|w| !w.is_empty()) {
            let (on, name) = match word.strip_prefix('-') {
                Some(name) => (false, name),
                None => (true, word),
            };
            caps.set(Cap::named(name)?, on);
            any = true;
        }
        any.then_some(caps)
    }
}

/// The `CAP LS` lists: capabilities (with values for version 302) in lines of at most about
/// 400 bytes of names, so a reply never passes 512 bytes.
pub fn ls_lines(v302: bool) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for cap in Cap::ALL {
        let mut word = String::from(cap.name());
        if let Some(v) = cap.value().filter(|_| v302) {
            word.push('=');
            word.push_str(v);
        }
        match lines.last_mut() {
            Some(line) if line.len() + word.len() < 400 => {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&word);
            }
            _ => lines.push(word),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_all_or_nothing_and_may_disable() {
        let caps = Caps::default();
        let both = caps.request("multi-prefix  server-time").expect("offered");
        assert!(both.has(Cap::MultiPrefix) && both.has(Cap::ServerTime));
        assert_eq!(both.names(), "multi-prefix server-time");
        assert_eq!(both.request("server-time unknown-cap"), None);
        assert_eq!(both.request(""), None);
        let off = both.request("-server-time").expect("offered");
        assert!(!off.has(Cap::ServerTime) && off.has(Cap::MultiPrefix));
        assert!(Caps::default().request("DRAFT/CHATHISTORY").is_some());
    }

    #[test]
    fn only_shaping_caps_split_the_render_cache() {
        let a = Caps::default()
            .request("multi-prefix batch")
            .expect("offered");
        assert_eq!(a.render_key(), Caps::default().render_key());
        let b = Caps::default().request("server-time").expect("offered");
        assert_ne!(b.render_key(), a.render_key());
    }

    #[test]
    fn ls_lists_every_cap_with_values_only_for_302() {
        let old = ls_lines(false).join(" ");
        assert!(old.contains("sasl ") && !old.contains("sasl="), "{old}");
        let new = ls_lines(true).join(" ");
        assert!(new.contains("sasl=PLAIN"), "{new}");
        assert_eq!(new.split(' ').count(), Cap::ALL.len());
        assert!(ls_lines(true).iter().all(|l| l.len() <= 400));
    }
}
