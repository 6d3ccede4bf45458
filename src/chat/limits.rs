//! Reliability limits of the core (issue 8): how many accounts may exist, how fast one source
//! address may register new ones (a token bucket per IP), and how many bytes of offline
//! messages the server holds in all.

use super::Chat;
use crate::event::Error;
use crate::session::ConnId;
use crate::time::Now;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// Buckets kept before full ones (addresses quiet for a minute) are forgotten.
const MAX_BUCKETS: usize = 4096;

/// Registrations per source address: `rate` per minute, bursts of up to `rate`.
#[derive(Debug, Default)]
pub struct RegisterRate {
    buckets: HashMap<IpAddr, (f64, Instant)>,
}

impl RegisterRate {
    /// Whether `ip`'s bucket holds a token at `now`, without taking it.
    pub fn has(&mut self, ip: IpAddr, rate: u32, now: Instant) -> bool {
        if rate == 0 {
            return true;
        }
        let cap = f64::from(rate);
        match self.buckets.get(&ip) {
            None => true,
            Some((tokens, at)) => {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * cap / 60.0 >= 1.0
            }
        }
    }

    /// Take a token for `ip` at `now`; false if its bucket is empty. `rate` 0: unlimited.
    pub fn allow(&mut self, ip: IpAddr, rate: u32, now: Instant) -> bool {
        if rate == 0 {
            return true;
        }
        let cap = f64::from(rate);
        let per_sec = cap / 60.0;
        if self.buckets.len() >= MAX_BUCKETS {
            self.buckets.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * per_sec < cap
            });
        }
        let (tokens, at) = self.buckets.entry(ip).or_insert((cap, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * per_sec).min(cap);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The size a queued message is charged against `--max-offline-bytes`.
pub fn offline_cost(from: &str, text: &str) -> usize {
    from.len() + text.len() + 16
}

impl Chat {
    /// `conn`'s address, if the per-address limits apply to it (loopback only when a limit
    /// was given explicitly).
    pub(super) fn limited_address(&self, conn: ConnId) -> Option<IpAddr> {
        self.sessions
            .get(&conn)
            .and_then(|s| s.peer)
            .map(|p| p.ip())
            .filter(|ip| self.settings.limit_loopback || !ip.is_loopback())
    }

    /// Whether `conn` may try a password now (issue 21): its address has failed logins left
    /// this minute. If not, the attempt is refused before any hashing is spent on it.
    pub(super) fn may_try_password(&mut self, conn: ConnId, now: Now) -> bool {
        let rate = self.settings.login_fail_rate;
        match self.limited_address(conn) {
            Some(ip) if !self.login_fails.has(ip, rate, now.mono) => {
                log::warn!(
                    "{} login refused: too many failed logins",
                    self.log_name(conn)
                );
                self.refuse(conn, Error::LoginRate);
                false
            }
            _ => true,
        }
    }

    /// A wrong password from `conn`: one token off its address's bucket.
    pub(super) fn count_failed_login(&mut self, conn: ConnId, now: Now) {
        self.tally.failed_logins += 1;
        if let Some(ip) = self.limited_address(conn) {
            self.login_fails
                .allow(ip, self.settings.login_fail_rate, now.mono);
        }
    }

    /// Whether `conn` may create another account now; if not, the refusal is answered.
    pub(super) fn may_create_account(&mut self, conn: ConnId, now: Now) -> bool {
        let error = if self.accounts.credentials().len() >= self.settings.max_accounts {
            Error::TooManyAccounts
        } else {
            match self.limited_address(conn) {
                Some(ip)
                    if !self
                        .register_rate
                        .allow(ip, self.settings.register_rate, now.mono) =>
                {
                    Error::RegisterRate
                }
                _ => return true,
            }
        };
        log::warn!("{} registration refused: {error:?}", self.log_name(conn));
        self.refuse(conn, error);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn register_rate_is_a_token_bucket_per_address() {
        let mut r = RegisterRate::default();
        let t0 = Instant::now();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        assert!(r.allow(a, 2, t0) && r.allow(a, 2, t0));
        assert!(!r.allow(a, 2, t0), "burst spent");
        assert!(r.allow(b, 2, t0), "another address has its own bucket");
        assert!(
            r.allow(a, 2, t0 + Duration::from_secs(30)),
            "one token per 30 s"
        );
        assert!(!r.allow(a, 2, t0 + Duration::from_secs(31)));
        assert!(r.allow(a, 0, t0), "0 is unlimited");
    }
}
