//! SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash), the server's side, pure: parse the client's
//! messages, build the server's, check the proof. With it a client proves it knows a password
//! without sending it, and the server proves it holds the account's key.
//!
//! Why it fits this server: an account's stored secret (issue 21) is PBKDF2-HMAC-SHA256 of the
//! password with a 16-byte salt, which is exactly SCRAM's `SaltedPassword` (`Hi()`), so the
//! server derives the client and server keys from what it stores and never needs the password
//! or a slow hash during the exchange. Accounts kept in plaintext (`--plain-credentials`) or
//! in the old salted SHA-256 have no such key; for them, and for unknown names, the exchange
//! goes on with a stand-in salt and fails at the proof, so a name's existence does not show.
//!
//! Not offered: channel binding (`p=`; a client that asks for it is refused) and SASLprep of
//! the password (the client normalizes; an ASCII password is unchanged by it).

use crate::kdf::Hmac;
use sha2::{Digest, Sha256};

/// The mechanism's name on the wire.
pub const MECHANISM: &str = "SCRAM-SHA-256";

/// What a server needs of an account to check a proof: the PBKDF2 salt, its iterations and
/// the derived key (SCRAM's `SaltedPassword`).
#[derive(Clone, Copy)]
pub struct Key {
    pub salt: [u8; 16],
    pub iterations: u32,
    pub salted: [u8; 32],
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("Key")
    }
}

/// The client's first message: who, and its nonce.
#[derive(Debug, PartialEq, Eq)]
pub struct ClientFirst {
    /// The account name (`n=`, unescaped).
    pub user: String,
    /// The GS2 header (`n,,` or `y,,` with an optional `a=` authzid), echoed in `c=` later.
    gs2_header: String,
    /// `client-first-message-bare`, part of the signed `AuthMessage`.
    bare: String,
    nonce: String,
}

/// Why a client message was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not the grammar of RFC 5802 §7.
    Malformed,
    /// The client asked for channel binding (`p=`), which is not offered.
    ChannelBinding,
    /// An authorization identity other than the account itself (no impersonation).
    OtherAuthzid,
    /// The final message's nonce or channel-binding echo does not match the exchange.
    Mismatch,
}

/// Parse `client-first-message`.
pub fn client_first(message: &str) -> Result<ClientFirst, Refusal> {
    let mut parts = message.splitn(3, ',');
    let (Some(cbind), Some(authzid), Some(bare)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed);
    };
    match cbind {
        "n" | "y" => {}
        c if c.starts_with("p=") => return Err(Refusal::ChannelBinding),
        _ => return Err(Refusal::Malformed),
    }
    let gs2_header = format!("{cbind},{authzid},");
    let authzid = match authzid {
        "" => None,
        a => Some(sasl_name(a.strip_prefix("a=").ok_or(Refusal::Malformed)?)?),
    };
    let mut attrs = bare.split(',');
    // A mandatory extension (`m=`) is one this server does not know: refused.
    let user = sasl_name(
        attrs
            .next()
            .and_then(|a| a.strip_prefix("n="))
            .ok_or(Refusal::Malformed)?,
    )?;
    let nonce = attrs
        .next()
        .and_then(|a| a.strip_prefix("r="))
        .filter(|r| valid_nonce(r))
        .ok_or(Refusal::Malformed)?;
    // Optional extensions follow, each `letter=value`.
    if user.is_empty() || !attrs.all(|a| a.len() >= 2 && a.as_bytes()[1] == b'=') {
        return Err(Refusal::Malformed);
    }
    if authzid.is_some_and(|a| a != user) {
        return Err(Refusal::OtherAuthzid);
    }
    Ok(ClientFirst {
        user,
        gs2_header,
        nonce: nonce.to_string(),
        bare: bare.to_string(),
    })
}

/// An exchange after the server's first message, waiting for the client's proof.
#[derive(Debug)]
pub struct Exchange {
    /// The account the client named.
    pub user: String,
    /// The account's key, `None` when it has none (the proof then always fails).
    key: Option<Key>,
    gs2_header: String,
    /// Client and server nonces together.
    nonce: String,
    /// `client-first-message-bare "," server-first-message`: the start of `AuthMessage`.
    signed_so_far: String,
}

impl Exchange {
    /// Answer `first` with `server-first-message`. `key` is the account's (`None`: unknown,
    /// or no PBKDF2 key); `stand_in` the salt and iterations shown then (the same for a name
    /// every time, so probing names learns nothing); `server_nonce` fresh and printable.
    pub fn start(
        first: ClientFirst,
        key: Option<Key>,
        stand_in: ([u8; 16], u32),
        server_nonce: &str,
    ) -> (Exchange, String) {
        let (salt, iterations) = key.map_or(stand_in, |k| (k.salt, k.iterations));
        let nonce = format!("{}{server_nonce}", first.nonce);
        let server_first = format!(
            "r={nonce},s={},i={iterations}",
            crate::base64::encode(&salt)
        );
        let signed_so_far = format!("{},{server_first}", first.bare);
        let exchange = Exchange {
            user: first.user,
            key,
            gs2_header: first.gs2_header,
            nonce,
            signed_so_far,
        };
        (exchange, server_first)
    }

    /// Check `client-final-message`: `Ok(Some(server-final-message))` when the proof is right,
    /// `Ok(None)` when it is wrong (a wrong password), `Err` when the message is malformed or
    /// does not belong to this exchange.
    pub fn finish(&self, message: &str) -> Result<Option<String>, Refusal> {
        let (without_proof, proof) = message.rsplit_once(",p=").ok_or(Refusal::Malformed)?;
        let proof = crate::base64::decode(proof).ok_or(Refusal::Malformed)?;
        let mut attrs = without_proof.split(',');
        let binding = attrs
            .next()
            .and_then(|a| a.strip_prefix("c="))
            .and_then(crate::base64::decode)
            .ok_or(Refusal::Malformed)?;
        let nonce = attrs
            .next()
            .and_then(|a| a.strip_prefix("r="))
            .ok_or(Refusal::Malformed)?;
        if binding != self.gs2_header.as_bytes() || nonce != self.nonce {
            return Err(Refusal::Mismatch);
        }
        let Some(key) = self.key else {
            return Ok(None);
        };
        let Ok(proof) = <[u8; 32]>::try_from(proof.as_slice()) else {
            return Ok(None);
        };
        let auth_message = format!("{},{without_proof}", self.signed_so_far);
        let stored_key: [u8; 32] = Sha256::digest(client_key(&key.salted)).into();
        let signature = Hmac::new(&stored_key).mac(&[auth_message.as_bytes()]);
        let mut claimed = proof;
        claimed.iter_mut().zip(signature).for_each(|(p, s)| *p ^= s);
        let claimed_stored: [u8; 32] = Sha256::digest(claimed).into();
        if !crate::credentials::constant_time_eq(&claimed_stored, &stored_key) {
            return Ok(None);
        }
        let server_signature = server_signature(&key.salted, &auth_message);
        Ok(Some(format!(
            "v={}",
            crate::base64::encode(&server_signature)
        )))
    }
}

/// `ClientKey`: HMAC(SaltedPassword, "Client Key").
fn client_key(salted: &[u8; 32]) -> [u8; 32] {
    Hmac::new(salted).mac(&[b"Client Key"])
}

/// `ServerSignature`: HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage).
fn server_signature(salted: &[u8; 32], auth_message: &str) -> [u8; 32] {
    let server_key = Hmac::new(salted).mac(&[b"Server Key"]);
    Hmac::new(&server_key).mac(&[auth_message.as_bytes()])
}

/// The client's side of the proof, for the tests that play a SCRAM client: `ClientProof` and
/// the `ServerSignature` the client must then see, from the salted password and the
/// `AuthMessage`.
pub fn client_proof(salted: &[u8; 32], auth_message: &str) -> ([u8; 32], [u8; 32]) {
    let client_key = client_key(salted);
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    let mut proof = Hmac::new(&stored_key).mac(&[auth_message.as_bytes()]);
    proof.iter_mut().zip(client_key).for_each(|(p, k)| *p ^= k);
    (proof, server_signature(salted, auth_message))
}

/// A `saslname`: `=2C` is `,` and `=3D` is `=`; any other `=` is malformed.
fn sasl_name(s: &str) -> Result<String, Refusal> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        match rest.get(i + 1..i + 3) {
            Some("2C") => out.push(','),
            Some("3D") => out.push('='),
            _ => return Err(Refusal::Malformed),
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A nonce: printable ASCII but `,`, not empty, of a sane length.
fn valid_nonce(r: &str) -> bool {
    (1..=256).contains(&r.len()) && r.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kdf::Pbkdf2;

    /// RFC 7677 §3's example exchange, byte for byte: user `user`, password `pencil`.
    #[test]
    fn rfc_7677_example() {
        let salt_b64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
        let salt: [u8; 16] = crate::base64::decode(salt_b64)
            .and_then(|s| s.try_into().ok())
            .expect("16-byte salt");
        let key = Key {
            salt,
            iterations: 4096,
            salted: Pbkdf2::derive(b"pencil", &salt, 4096),
        };
        let first = client_first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO").expect("first");
        assert_eq!(first.user, "user");
        let (exchange, server_first) = Exchange::start(
            first,
            Some(key),
            ([0; 16], 1),
            "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        );
        assert_eq!(
            server_first,
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        );
        let fin = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                   p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        assert_eq!(
            exchange.finish(fin),
            Ok(Some(
                "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".to_string()
            ))
        );
        // One bit of the proof changed: a wrong password, not a malformed message.
        let wrong = fin.replace("p=dHzb", "p=dHza");
        assert_eq!(exchange.finish(&wrong), Ok(None));
        // A nonce that is not the exchange's, or a channel-binding echo that is not its header.
        let other = fin.replace("r=rOpr", "r=xOpr");
        assert_eq!(exchange.finish(&other), Err(Refusal::Mismatch));
        let bound = fin.replace("c=biws", "c=eSws");
        assert_eq!(exchange.finish(&bound), Err(Refusal::Mismatch));
    }

    /// Without a key (unknown name, or no PBKDF2 secret) the stand-in salt is shown and every
    /// proof fails.
    #[test]
    fn without_a_key_the_stand_in_is_shown_and_the_proof_fails() {
        let first = client_first("n,,n=ghost,r=abc").expect("first");
        let (exchange, server_first) = Exchange::start(first, None, ([7; 16], 600_000), "xyz");
        assert_eq!(server_first, "r=abcxyz,s=BwcHBwcHBwcHBwcHBwcHBw==,i=600000");
        let fin = format!("c=biws,r=abcxyz,p={}", crate::base64::encode(&[0; 32]));
        assert_eq!(exchange.finish(&fin), Ok(None));
    }

    #[test]
    fn client_first_grammar() {
        let f = client_first("y,a=bob,n=bob,r=n0nce").expect("authzid equal to the user");
        assert_eq!(
            (f.user.as_str(), f.gs2_header.as_str()),
            ("bob", "y,a=bob,")
        );
        let f = client_first("n,,n=a=2Cb=3Dc,r=x").expect("escaped name");
        assert_eq!(f.user, "a,b=c");
        assert_eq!(
            client_first("p=tls-unique,,n=bob,r=x"),
            Err(Refusal::ChannelBinding)
        );
        assert_eq!(
            client_first("n,a=alice,n=bob,r=x"),
            Err(Refusal::OtherAuthzid)
        );
        for bad in [
            "",
            "n,,",
            "n,,n=bob",
            "n,,r=x,n=bob",
            "m=ext,,n=bob,r=x",
            "n,,m=ext,n=bob,r=x",
            "n,,n=,r=x",
            "n,,n=b=ob,r=x",
            "n,,n=bob,r=",
            "n,,n=bob,r=a,b",
            "q,,n=bob,r=x",
        ] {
            assert!(client_first(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_final_grammar() {
        let first = client_first("n,,n=bob,r=abc").expect("first");
        let (exchange, _) = Exchange::start(first, None, ([0; 16], 1), "def");
        for bad in [
            "",
            "c=biws,r=abcdef",
            "c=biws,r=abcdef,p=!!",
            "r=abcdef,p=AAAA",
        ] {
            assert_eq!(exchange.finish(bad), Err(Refusal::Malformed), "{bad}");
        }
    }
}
