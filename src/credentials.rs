//! The account list: parsing `credentials.txt` (plaintext, salted SHA-256 or PBKDF2 entries) and
//! constant-time password checks. No I/O here: the store reads and appends the file.

use crate::chat::cow_map::{CowMap, Shard};
use crate::kdf::Pbkdf2;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

/// How a password is kept: the assignment's plaintext; `$sha256$<salt hex>$<digest hex>` (one
/// salted SHA-256, what older releases wrote: fast to brute-force, so replaced at the account's
/// next login); or `$pbkdf2-sha256$<iterations>$<salt hex>$<key hex>` (issue 21).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Secret {
    Plain(String),
    Sha256 {
        salt: [u8; 16],
        digest: [u8; 32],
    },
    Pbkdf2 {
        iterations: u32,
        salt: [u8; 16],
        key: [u8; 32],
    },
}

const PREFIX: &str = "$sha256$";
const PBKDF2_PREFIX: &str = "$pbkdf2-sha256$";

/// The most PBKDF2 iterations a secret may ask for (a corrupt or hostile file must not make
/// one login cost minutes).
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// The password field of a line that deletes the account named on it (issue 21): the file is
/// append-only, so a deletion is a line too, and the last line for a name wins. No password
/// can be stored as this text: one starting with `$` is always hashed.
pub const DELETED: &str = "$deleted";

/// What checking a password against a secret takes.
#[derive(Debug)]
pub enum Check {
    /// Decided at once (plaintext, salted SHA-256).
    Now(bool),
    /// A PBKDF2 derivation to run (in steps), then a comparison with this key.
    Derive(Box<Pbkdf2>, [u8; 32]),
}

impl Secret {
    /// The old form: digest = SHA-256(salt || password). Kept to read older files and tests.
    pub fn hashed(password: &str, salt: [u8; 16]) -> Secret {
        let digest = salted_digest(&salt, password);
        Secret::Sha256 { salt, digest }
    }

    /// PBKDF2-HMAC-SHA256 of `password` at once (tools and tests; the server steps it).
    pub fn pbkdf2(password: &str, salt: [u8; 16], iterations: u32) -> Secret {
        let iterations = iterations.clamp(1, MAX_ITERATIONS);
        Secret::Pbkdf2 {
            iterations,
            salt,
            key: Pbkdf2::derive(password.as_bytes(), &salt, iterations),
        }
    }

    /// Whether a new password is kept in plaintext: under `--plain-credentials`, unless it
    /// starts with `$`: in the file it would read back as a hash (refusing start-up) or as a
    /// future scheme, and refusing it instead would make a password valid on one server invalid
    /// on another. The user sees no difference; only the file's format changes for that account.
    pub fn stays_plain(password: &str, plain: bool) -> bool {
        plain && !password.starts_with('$')
    }

    /// The secret to store for a new password, computed at once (tools and tests): plaintext
    /// (see [`Secret::stays_plain`]) or PBKDF2 with `iterations`.
    pub fn for_new_account(password: &str, plain: bool, salt: [u8; 16], iterations: u32) -> Secret {
        if Secret::stays_plain(password, plain) {
            Secret::Plain(password.to_string())
        } else {
            Secret::pbkdf2(password, salt, iterations)
        }
    }

    /// A short stable name of this secret (16 hex digits of a SHA-256 of its text), that
    /// changes whenever the secret does: a cluster login carries the one its password was
    /// checked against, so that every node can tell the secret was replaced meanwhile.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.to_string().as_bytes());
        hex::encode(&digest[..8])
    }

    /// What checking `password` against this secret takes.
    pub fn check(&self, password: &str) -> Check {
        match self {
            Secret::Plain(p) => Check::Now(constant_time_eq(p.as_bytes(), password.as_bytes())),
            Secret::Sha256 { salt, digest } => {
                Check::Now(constant_time_eq(&salted_digest(salt, password), digest))
            }
            Secret::Pbkdf2 {
                iterations,
                salt,
                key,
            } => Check::Derive(
                Box::new(Pbkdf2::new(password.as_bytes(), salt, *iterations)),
                *key,
            ),
        }
    }

    /// Compare at once, in constant time for a given length (tools and tests; the server
    /// steps a PBKDF2 check through [`Secret::check`]).
    pub fn verify(&self, password: &str) -> bool {
        match self.check(password) {
            Check::Now(ok) => ok,
            Check::Derive(mut job, key) => loop {
                if let Some(derived) = job.step(u32::MAX) {
                    break constant_time_eq(&derived, &key);
                }
            },
        }
    }

    /// The salted SHA-256 of older releases: replaced by PBKDF2 at the next successful login.
    pub fn is_outdated(&self) -> bool {
        matches!(self, Secret::Sha256 { .. })
    }

    /// Parse the password field of a credentials line.
    pub fn parse(field: &str) -> Result<Secret, &'static str> {
        if let Some(rest) = field.strip_prefix(PBKDF2_PREFIX) {
            let mut parts = rest.split('$');
            let (Some(iterations), Some(salt_hex), Some(key_hex), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err("expected $pbkdf2-sha256$ITERATIONS$SALT$KEY");
            };
            let iterations = iterations
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_ITERATIONS).contains(n))
                .ok_or("iterations must be 1 to 10000000")?;
            let mut salt = [0u8; 16];
            let mut key = [0u8; 32];
            hex::decode_to_slice(salt_hex, &mut salt).map_err(|_| "salt must be 32 hex digits")?;
            hex::decode_to_slice(key_hex, &mut key).map_err(|_| "key must be 64 hex digits")?;
            return Ok(Secret::Pbkdf2 {
                iterations,
                salt,
                key,
            });
        }
        let Some(rest) = field.strip_prefix(PREFIX) else {
            return Ok(Secret::Plain(field.to_string()));
        };
        let (salt_hex, digest_hex) = rest.split_once('$').ok_or("expected $sha256$SALT$DIGEST")?;
        let mut salt = [0u8; 16];
        let mut digest = [0u8; 32];
        hex::decode_to_slice(salt_hex, &mut salt).map_err(|_| "salt must be 32 hex digits")?;
        hex::decode_to_slice(digest_hex, &mut digest)
            .map_err(|_| "digest must be 64 hex digits")?;
        Ok(Secret::Sha256 { salt, digest })
    }
}

/// The password field as written to credentials.txt.
impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Plain(p) => f.write_str(p),
            Secret::Sha256 { salt, digest } => {
                write!(f, "{PREFIX}{}${}", hex::encode(salt), hex::encode(digest))
            }
            Secret::Pbkdf2 {
                iterations,
                salt,
                key,
            } => write!(
                f,
                "{PBKDF2_PREFIX}{iterations}${}${}",
                hex::encode(salt),
                hex::encode(key)
            ),
        }
    }
}

fn salted_digest(salt: &[u8; 16], password: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(salt)
        .chain_update(password.as_bytes())
        .finalize()
        .into()
}

/// Equal bytes, compared in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A malformed credentials file: which line and why, for a start-up error the operator can fix.
#[derive(Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub reason: String,
}

/// All accounts, by username: copy-on-write, so a cluster snapshot (issue 23) takes them at
/// one instant with a few hundred pointer copies however many there are.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    accounts: CowMap<Secret>,
    len: usize,
}

/// 1 to 32 printable ASCII characters, no spaces: the rule for usernames.
pub fn valid_token(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

/// The longest password, in bytes (issue 22: SASL clients send long ones; a password is only
/// ever hashed, so its length costs nothing to store).
pub const PASSWORD_LEN: usize = 1024;

/// The rule for passwords, on every front-end: 1 to [`PASSWORD_LEN`] bytes of UTF-8 without
/// spaces or control characters (so a plaintext entry is still one word of credentials.txt).
pub fn valid_password(s: &str) -> bool {
    (1..=PASSWORD_LEN).contains(&s.len()) && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The credentials.txt line (without its newline) for an account, if it reads back as exactly
/// this account; the store never writes a line the loader would reject or misread.
pub fn account_line(user: &str, secret: &Secret) -> Result<String, &'static str> {
    let line = format!("{user} {secret}");
    let parsed = Credentials::parse(&line).map_err(|_| "account does not parse back")?;
    match parsed.get(user) {
        Some(s) if s == secret && parsed.len() == 1 => Ok(line),
        _ => Err("account reads back differently"),
    }
}

/// The credentials.txt line (without its newline) that deletes `user`.
pub fn deletion_line(user: &str) -> Result<String, &'static str> {
    if !valid_token(user) || reserved_name(user) {
        return Err("not a username");
    }
    Ok(format!("{user} {DELETED}"))
}

/// Words that are commands at the `Username: ` prompt and so can never be usernames.
pub fn reserved_name(s: &str) -> bool {
    matches!(s, "login" | "register" | "help" | "exit" | "quit" | "EX")
}

impl Credentials {
    /// Parse credentials.txt text. Blank lines are skipped; anything else must be `user secret`.
    pub fn parse(text: &str) -> Result<Credentials, ParseError> {
        let mut accounts = Credentials::default();
        for (i, raw) in text.lines().enumerate() {
            let err = |reason: &str| ParseError {
                line: i + 1,
                reason: reason.to_string(),
            };
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace();
            let (Some(user), Some(pass), None) = (words.next(), words.next(), words.next()) else {
                return Err(err("expected \"username password\""));
            };
            if !valid_token(user) || reserved_name(user) {
                return Err(err("invalid username"));
            }
            if pass == DELETED {
                accounts.remove(user);
                continue;
            }
            let secret = Secret::parse(pass).map_err(err)?;
            accounts.insert(user.to_string(), secret);
        }
        Ok(accounts)
    }

    pub fn get(&self, user: &str) -> Option<&Secret> {
        self.accounts.get(user)
    }

    /// The account's entry with its name as stored.
    pub fn get_key_value(&self, user: &str) -> Option<(&str, &Secret)> {
        self.accounts.get_key_value(user)
    }

    pub fn contains(&self, user: &str) -> bool {
        self.accounts.contains_key(user)
    }

    /// The account spelled exactly `user`, its name shared with the map.
    pub fn name(&self, user: &str) -> Option<&Arc<str>> {
        self.accounts.key(user)
    }

    pub fn insert(&mut self, user: String, secret: Secret) {
        if self.accounts.insert(&user, secret) {
            self.len += 1;
        }
    }

    pub fn remove(&mut self, user: &str) {
        if self.accounts.remove(user).is_some() {
            self.len -= 1;
        }
    }

    /// Every account name, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.accounts.keys()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The accounts as they are now (issue 23: a cluster snapshot's), whatever changes after.
    pub fn freeze(&self) -> Vec<std::sync::Arc<Shard<Secret>>> {
        self.accounts.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_hashed_entries_verify() {
        let hashed = Secret::hashed("falcon*solo", [7; 16]);
        let text = format!("yoda wise\nhans {hashed}\n\n");
        let c = Credentials::parse(&text).expect("parses");
        assert!(c.get("yoda").is_some_and(|s| s.verify("wise")));
        assert!(!c.get("yoda").is_some_and(|s| s.verify("wisE")));
        assert!(c.get("hans").is_some_and(|s| s.verify("falcon*solo")));
        assert!(!c.get("hans").is_some_and(|s| s.verify("falcon")));
    }

    #[test]
    fn hashed_round_trips_through_text() {
        let s = Secret::hashed("pw", [1; 16]);
        let text = s.to_string();
        assert!(text.starts_with("$sha256$01010101"));
        assert_eq!(Secret::parse(&text), Ok(s));
    }

    #[test]
    fn errors_name_the_line() {
        let e = Credentials::parse("yoda wise\nbroken\n").expect_err("must fail");
        assert_eq!(e.line, 2);
        let e = Credentials::parse("a b\nc $sha256$zz$00\n").expect_err("must fail");
        assert_eq!(e.line, 2);
    }

    /// Plain mode keeps a password as text only when it cannot be read back as a hash.
    #[test]
    fn new_accounts_starting_with_a_dollar_are_hashed_even_in_plain_mode() {
        assert_eq!(
            Secret::for_new_account("wise", true, [1; 16], 10),
            Secret::Plain("wise".into())
        );
        for pw in ["$sha256$abc", "$x", "$"] {
            let s = Secret::for_new_account(pw, true, [1; 16], 10);
            assert!(matches!(s, Secret::Pbkdf2 { .. }) && s.verify(pw), "{pw}");
            assert_eq!(account_line("eve", &s).map(|_| ()), Ok(()));
        }
        assert!(account_line("eve", &Secret::Plain("$sha256$abc".into())).is_err());
        assert!(account_line("login", &Secret::Plain("pw".into())).is_err());
        assert!(account_line("a b", &Secret::Plain("pw".into())).is_err());
    }

    /// A later line for a name replaces the earlier one; a deletion line removes it, and a
    /// later line brings it back (issue 21).
    #[test]
    fn later_lines_win_and_deletions_remove() {
        let text =
            "yoda wise\nhans solo\nyoda wiser\nhans $deleted\nluke a\nluke $deleted\nluke b\n";
        let c = Credentials::parse(text).expect("parses");
        assert!(c.get("yoda").is_some_and(|s| s.verify("wiser")));
        assert!(!c.contains("hans"));
        assert!(c.get("luke").is_some_and(|s| s.verify("b")));
        assert_eq!(c.len(), 2);
        assert_eq!(deletion_line("hans"), Ok("hans $deleted".into()));
        assert!(deletion_line("login").is_err() && deletion_line("a b").is_err());
        // A password that reads like the marker is stored hashed, so it cannot delete.
        let s = Secret::for_new_account(DELETED, true, [1; 16], 10);
        assert!(matches!(s, Secret::Pbkdf2 { .. }));
    }

    /// Issue 17: whatever a user and secret hold, the writer either refuses them or writes a
    /// line that reads back as exactly that account (the file's format cannot hold every value,
    /// so refusing is the only other answer).
    #[test]
    fn account_lines_read_back_or_are_refused() {
        use crate::record::arbitrary::{Arbitrary, Gen};
        let mut written = 0;
        for seed in 1..=20_000 {
            let mut g = Gen::new(seed);
            let user = match g.below(3) {
                0 => String::arbitrary(&mut g),
                _ => char::from(b'a' + g.below(26) as u8).to_string(),
            };
            let secret = Secret::arbitrary(&mut g);
            if let Ok(line) = account_line(&user, &secret) {
                let parsed = Credentials::parse(&line).expect("a written line parses");
                assert_eq!(parsed.get(&user), Some(&secret), "seed {seed}: {line:?}");
                assert_eq!(parsed.len(), 1);
                written += 1;
            }
        }
        // Both answers happen: the property is not vacuous either way.
        assert!((1_000..19_000).contains(&written), "{written}");
    }

    #[test]
    fn token_rules() {
        assert!(valid_token("yoda"));
        assert!(!valid_token(""));
        assert!(!valid_token("a b"));
        assert!(!valid_token(&"x".repeat(33)));
        assert!(!valid_token("héllo"));
        // Issue 22: passwords may be long and non-ASCII (SASL clients), never spaced.
        assert!(valid_password(&"é".repeat(100)));
        assert!(valid_password(&"x".repeat(PASSWORD_LEN)));
        assert!(!valid_password(&"x".repeat(PASSWORD_LEN + 1)));
        assert!(!valid_password("a b"));
        assert!(!valid_password("a\u{0}b"));
        assert!(!valid_password(""));
        assert!(reserved_name("login") && reserved_name("EX"));
    }
}
