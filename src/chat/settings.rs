//! The settings the core runs with, taken from the command line.

use crate::config::Config;
use std::time::Duration;

/// The settings the core needs, copied out of [`Config`].
#[derive(Clone, Debug)]
pub struct Settings {
    pub block_duration: Duration,
    pub timeout: Duration,
    pub login_timeout: Duration,
    pub heartbeat: Option<Duration>,
    pub register: bool,
    pub presence: bool,
    pub replace_duplicate: bool,
    /// Bytes of queued offline messages handed out per step, so a large backlog never
    /// overflows the output cap (a quarter of `--max-output`).
    pub delivery_budget: usize,
    /// Output the core may hold behind a paced long reply (`--max-output`): more, and the
    /// client is not reading.
    pub max_held: usize,
    pub max_offline: usize,
    /// Chat rooms that may exist at once (§5).
    pub max_rooms: usize,
    // Issue 17: everything a user can grow is bounded.
    /// Rooms one account may have opened that still exist.
    pub max_rooms_per_user: usize,
    /// The same for a guest (fewer: a guest costs nothing to make).
    pub max_guest_rooms: usize,
    /// Entries per room in each of its lists: bans (names and masks), permits, operators,
    /// voice (IRC `MAXLIST`).
    pub max_list: usize,
    pub history: usize,
    pub plain_credentials: bool,
    // Reliability limits (issue 8).
    pub max_accounts: usize,
    /// New accounts per source address per minute (0: unlimited).
    pub register_rate: u32,
    /// Bytes of queued offline messages in all.
    pub max_offline_bytes: usize,
    /// The registration rate applies to loopback addresses too.
    pub limit_loopback: bool,
    /// PBKDF2 iterations for new and changed passwords (issue 21).
    pub hash_cost: u32,
    /// Failed logins per source address per minute (0: unlimited).
    pub login_fail_rate: u32,
    /// `--operators`: the accounts that may `OPER` (issue 22), as configured.
    pub operators: Vec<String>,
}

impl Settings {
    /// How long a session may be silent (no line at all) before it is dropped: `--heartbeat`
    /// for everyone if it is set; for a session that answers pings (IRC, issue 22) the
    /// inactivity timeout otherwise, which then is the ping timeout instead of a logout.
    pub fn heartbeat_of(&self, pings: bool) -> Option<Duration> {
        match (self.heartbeat, pings) {
            (Some(hb), _) => Some(hb),
            (None, true) => Some(self.timeout),
            (None, false) => None,
        }
    }
}

impl From<&Config> for Settings {
    fn from(c: &Config) -> Settings {
        Settings {
            block_duration: c.block_duration,
            timeout: c.timeout,
            login_timeout: c.login_timeout,
            heartbeat: c.heartbeat,
            register: c.register,
            presence: c.presence,
            delivery_budget: (c.max_output / 4).max(1),
            max_held: c.max_output,
            replace_duplicate: c.duplicate_login == crate::config::DuplicateLogin::Replace,
            max_offline: c.max_offline,
            max_rooms: c.max_rooms,
            max_rooms_per_user: c.max_rooms_per_user,
            max_guest_rooms: c.max_guest_rooms,
            max_list: c.max_list,
            history: c.history,
            plain_credentials: c.plain_credentials,
            max_accounts: c.max_accounts,
            register_rate: c.register_rate,
            max_offline_bytes: c.max_offline_bytes,
            limit_loopback: c.limit_loopback,
            hash_cost: c.hash_cost,
            login_fail_rate: c.login_fail_rate,
            operators: c.operators.clone(),
        }
    }
}
