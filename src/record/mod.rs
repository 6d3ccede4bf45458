//! Durable facts the core emits and replays: one [`Record`] per state change, written by the
//! store as one human-readable line. New kinds of state are new lines in the `record_kinds!`
//! table below: their text form, parser and test generator come from it, so neither the store
//! nor any escaping code changes for them.
//!
//! Text form (format 2): the kind word, then every field in declaration order, tab-separated
//! and escaped by `fields`, so any value round-trips and no record spans two lines. Files of
//! format 1 (space-separated, free text last) are read by [`v1`].

mod fields;
pub mod v1;

#[cfg(test)]
pub(crate) mod arbitrary;
#[cfg(test)]
mod tests;

use crate::credentials::Secret;
pub use crate::event::Kind;
pub use fields::{Field, Reader, RecordText, Scalar, Writer};
use std::fmt;
use std::sync::Arc;

/// Who a history entry was addressed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Every online user (`broadcast`).
    Everyone,
    /// One user (`message`). Shared: a history entry holds the recipient's name without a copy.
    User(Arc<str>),
    // §6 menus.
    /// Every online user, the sender too (`announce`).
    Announcement,
    /// The members of a room (issue 22: room chat is kept for `CHATHISTORY`).
    Room(Arc<str>),
}

// Chat rooms (PROTOCOL.md §5).
/// A user's standing in one room: its blacklist and whitelist are disjoint (the later of
/// `ban-user`/`permit-user` wins).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    None,
    Banned,
    Permitted,
}

impl Access {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::Banned => "ban",
            Access::Permitted => "permit",
        }
    }

    pub(crate) fn parse(w: &str) -> Option<Access> {
        Some(match w {
            "none" => Access::None,
            "ban" => Access::Banned,
            "permit" => Access::Permitted,
            _ => return None,
        })
    }
}

/// One room setting (issue 17): every change of a room's settings is one small record, never
/// a rewrite of the whole room. The room's own `room-*` records keep its owner, private flag,
/// name lists and topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomSetting {
    /// When the room was opened (Unix seconds) and whether by a guest (whose rooms close when
    /// it has left and they are empty).
    Origin { created_s: u64, guest: bool },
    /// `+s`: hidden from non-members.
    Secret(bool),
    /// `+t`: only operators set the topic.
    TopicLock(bool),
    /// `+n`: only members speak.
    NoOutside(bool),
    /// `+k`: the key (`None`: no key).
    Key(Option<String>),
    /// `+o`: an operator besides the owner.
    Op { user: String, on: bool },
    /// `+v`.
    Voice { user: String, on: bool },
    /// `+b` with a `nick!user@host` mask (plain names are `room-access` records).
    Mask { mask: String, on: bool },
    // Issue 22.
    /// `+l`: at most this many members (`None`: no limit).
    Limit(Option<u32>),
    /// `+m`: only operators and voiced members speak.
    Moderated(bool),
}

/// Declares [`Record`] from one table: each kind's word and its fields, in the order they are
/// written. The text form, the parser and the test generator are all derived from that one
/// line, so what [`Record::encode`] writes is by construction what [`Record::parse`] reads.
macro_rules! record_kinds {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $word:literal { $($field:ident: $ty:ty),* $(,)? }
    )*) => {
        /// One state change that must survive a crash.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum Record {
            $( $(#[$doc])* $variant { $($field: $ty),* }, )*
        }

        impl Record {
            /// Every kind word, in declaration order.
            pub const KINDS: &'static [&'static str] = &[$($word),*];

            /// The word that starts this record's text.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( Record::$variant { .. } => $word, )*
                }
            }

            fn write_fields(&self, out: &mut Writer) {
                match self {
                    $( Record::$variant { $($field),* } => { $( Field::write($field, out); )* } )*
                }
            }

            // Struct fields are evaluated in the order written: the declaration order.
            fn read_fields(kind: &str, from: &mut Reader<'_>) -> Option<Record> {
                Some(match kind {
                    $( $word => Record::$variant { $( $field: Field::read(from)? ),* }, )*
                    _ => return None,
                })
            }

            /// One record of every kind, each field drawn from `g`.
            #[cfg(test)]
            pub(crate) fn one_of_each(g: &mut arbitrary::Gen) -> Vec<Record> {
                vec![ $( Record::$variant { $( $field: arbitrary::Arbitrary::arbitrary(g) ),* } ),* ]
            }
        }
    };
}

record_kinds! {
    /// A new account or a new password; the store appends it to credentials.txt, not to the
    /// journal.
    Account = "account" { user: String, secret: Secret }
    /// An account deleted by the operator (issue 21): replay drops everything kept for the
    /// name (mailbox, blocks both ways, profile, lockout, rooms it owned and its places on room
    /// lists). The store writes it to the journal and then a deletion line to credentials.txt.
    AccountDeleted = "account-deleted" { user: String }
    Block = "block" { by: String, user: String }
    Unblock = "unblock" { by: String, user: String }
    /// A message queued for a user who was offline.
    /// Shared strings: a snapshot of a large mailbox state clones pointers, not text.
    Offline = "offline" { to: Arc<str>, from: Arc<str>, at_ms: u64, text: Arc<str> }
    /// The oldest `count` queued messages of `to` were handed to its connection.
    Delivered = "delivered" { to: String, count: u32 }
    /// A message kept for `history`, as releases before issue 22 wrote it (read, no longer
    /// written: its id is given at replay from its time, in file order).
    History = "history" { at_ms: u64, from: Arc<str>, to: Audience, text: Arc<str> }
    /// Issue 22: a message kept for `history` and `CHATHISTORY`, with its id and kind.
    Said = "said" { id: u64, at_ms: u64, from: Arc<str>, to: Audience, kind: Kind, text: Arc<str> }
    /// Issue 22: a message queued for a user who was offline, with its id and kind (`offline`
    /// records of older files get an id from their time at replay).
    Mail = "mail" { id: u64, to: Arc<str>, from: Arc<str>, at_ms: u64, kind: Kind, text: Arc<str> }
    // Reliability (issue 8): lockouts survive a restart.
    /// `user` is locked until this wall time (replay sets the lock from the clock then).
    Lockout = "lockout" { user: String, until_ms: u64 }
    /// IRC front-end (issue 12): a room's whole IRC settings after a change (the last one
    /// replayed wins). `key: None` is no key. Read, no longer written (issue 17: one
    /// [`Record::RoomSet`] per change).
    Channel = "channel" {
        room: String,
        created_s: u64,
        secret: bool,
        topic_lock: bool,
        no_outside: bool,
        key: Option<Arc<str>>,
        ops: Vec<Arc<str>>,
        voiced: Vec<Arc<str>>,
        masks: Vec<Arc<str>>,
    }
    // Chat rooms and profiles (PROTOCOL.md §5).
    RoomOpen = "room-open" { room: String, owner: String, private: bool }
    RoomClose = "room-close" { room: String }
    /// Issue 17: one setting of a room changed (replaces `channel`, no longer written).
    RoomSet = "room-set" { room: String, setting: RoomSetting }
    RoomMode = "room-mode" { room: String, private: bool }
    RoomAccess = "room-access" { room: String, user: String, access: Access }
    /// An empty `text` clears the topic.
    RoomTopic = "room-topic" { room: String, by: String, at_ms: u64, text: String }
    /// An empty `value` unsets the attribute.
    Profile = "profile" { user: String, attribute: String, value: String }
    // Cluster mode (issue 23): who is online on which node. Only the Redis stream carries
    // these; the file journal never sees one.
    /// `user` logged in on `node`, on the connection that node calls `conn`.
    Login = "login" { user: String, node: String, conn: String, guest: bool, peer: Option<String> }
    Logout = "logout" { user: String, node: String, conn: String, at_ms: u64 }
    /// Guest `user`, on `node`'s connection `conn`, is now called `name` (`NICK`, `/nick`):
    /// every node renames it, or none does when the name was taken first.
    Rename = "rename" { user: String, name: String, node: String, conn: String }
    /// Guest `user`, on `node`'s connection `conn`, proved the password of `account` (SASL after
    /// an IRC registration): every node renames the session to the account, or none does when
    /// the account is online (and `--duplicate-login` refuses) or gone.
    Attach = "attach" { user: String, account: String, node: String, conn: String }
    /// `node` stopped refreshing its liveness key: every user on it is logged out.
    NodeDown = "node-down" { node: String }
    /// A server operator (`by`, IRC `KILL`) ended `user`'s session, on `node`'s connection
    /// `conn`, for `reason`: every node logs it out (no `logout` record), its own node tells
    /// it and closes the connection, and roommates everywhere see it quit with the reason.
    Kill = "kill" { user: String, node: String, conn: String, by: String, reason: String }
    /// A wrong password for `user` (the lockout counts failures on every node).
    LoginFailed = "login-failed" { user: String }
    /// `user` entered `room` (`current`: as the line front-end's current room).
    RoomJoin = "room-join" { room: String, user: String, current: bool }
    RoomPart = "room-part" { room: String, user: String }
    /// The room change that follows in its transaction (a kick, a setting, a name list, the
    /// topic) was made by `by` (`op`: with an operator's rights; else a topic's: an operator's,
    /// or a member's of a room whose topic is not locked). Every node checks it again when it
    /// applies it: refused where `room` is gone or `by` no longer has those rights there.
    RoomBy = "room-by" { room: String, by: String, op: bool }
    /// `user` may enter `room` once, past `+i` (IRC `INVITE`): every node keeps the
    /// invitation, so the invitee's node lets it in wherever the inviter is.
    RoomInvite = "room-invite" { room: String, user: String }
    // Private sessions (§4) in cluster mode: not durable, but both users' nodes must agree.
    /// `from` asks `to` for a private session (`address`: `getaddress`).
    PrivateAsk = "private-ask" { from: String, to: String, address: bool }
    /// `to` accepted `from`'s request.
    PrivateOpen = "private-open" { from: String, to: String }
    /// `from`'s request to `to` was declined or expired.
    PrivateDrop = "private-drop" { from: String, to: String }
    /// The private session of `user` and `peer` stopped.
    PrivateStop = "private-stop" { user: String, peer: String }
    /// Account `user`'s secret replaced (the operator's `user passwd`; `upgrade`: a password
    /// hash upgrade, which holds only while the account still has an outdated hash). An
    /// `account` record for an existing name is a registration that lost; this is not.
    Password = "password" { user: String, secret: Secret, upgrade: bool }
    /// The password of the `login` (or `attach`) of `user` that follows in its transaction
    /// was checked against the secret whose [`Secret::fingerprint`] this is: refused where
    /// the account has another secret by then (a password change came first in the stream).
    LoginChecked = "login-checked" { user: String, fingerprint: String }
    /// `user`'s client listens for peers on `port` (`p2p-port`), over TLS with the key whose
    /// fingerprint is `key` if there is one (`chatclient --tls`, PROTOCOL.md §4a).
    P2pPort = "p2p-port" { user: String, port: u32, key: Option<String> }
    /// What `user`'s session says about itself (IRC `USER`, `AWAY`, `MODE +i`, `OPER`, the
    /// `QUIT` word), after its login and after each change.
    UserInfo = "user-info" {
        user: String,
        username: Option<String>,
        realname: Option<String>,
        away: Option<String>,
        invisible: bool,
        oper: bool,
        quit: Option<String>,
    }
}

/// The one-line text form, e.g. `offline\tluke\tyoda\t1700000000000\thello there`.
impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encode().as_str())
    }
}

impl Record {
    /// A lazy record is written with its batch but does not by itself wait for the disk: losing
    /// the last second of it to a power cut breaks no promise. Only history is lazy (PROTOCOL.md
    /// §3 promises durability for accounts, blocks and offline messages, not for the log of
    /// messages already delivered), which keeps fsync off the path of every live message.
    pub fn is_lazy(&self) -> bool {
        matches!(self, Record::History { .. } | Record::Said { .. })
    }

    /// The text form (format 2), which holds no newline whatever the fields hold.
    pub fn encode(&self) -> RecordText {
        self.encode_reusing(String::new())
    }

    /// [`Record::encode`] into `buf`'s memory (emptied first), so a store encoding a batch
    /// allocates nothing once its buffer has grown: get it back with [`RecordText::into_string`].
    pub fn encode_reusing(&self, buf: String) -> RecordText {
        let mut out = Writer::reusing(self.kind(), buf);
        self.write_fields(&mut out);
        out.finish()
    }

    /// Parse the text form (format 2); `None` for anything malformed (the store reports where).
    pub fn parse(text: &str) -> Option<Record> {
        let mut from = Reader::new(text);
        let kind = from.raw()?;
        let record = Record::read_fields(kind, &mut from)?;
        from.finish().then_some(record)
    }
}
