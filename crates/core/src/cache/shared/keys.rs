//! Every Redis key and fleet message of the shared tier. Nothing raw goes to Redis: token keys are the local
//! [`TokenKey`]s (SHA-256 over the instance scope and SHA-256 of the token), identity keys are SHA-256 over the
//! token's verified issuer (the Clerk instance), the organization and the user, and messages carry digests.
//!
//! | key | what |
//! |---|---|
//! | `<prefix>neg:<hex TokenKey>` | an invalid `oat_` token, value `1`, expiring with the negative TTL |
//! | `<prefix>scopes:neg` | the (hashed) instance scopes negative entries were written under, for `invalidateToken` |
//! | `<prefix>id:<hex identity hash>` | a resolved user (the app's JSON), expiring with the identity TTL |
//! | `<prefix>lock:<hex identity hash>` | the `resolveUser` lock of one identity, a random lease id, `PX` lease |
//! | `<prefix>idx:u:<hex user hash>`, `<prefix>idx:o:<hex org hash>` | the identity keys of a user / an org |
//! | channel `<prefix>invalidate` | fleet invalidations (see [`Message`]) |

use crate::cache::identity_key::IdentityKey;
use crate::cache::token_key::{Scope, TokenDigest, TokenKey};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// 32 bytes from 64 hex digits.
pub fn unhex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(b[2 * i])? << 4) | nibble(b[2 * i + 1])?;
    }
    Some(out)
}

/// The hash of a user id as it appears in keys and messages.
pub fn user_hash(user_id: &str) -> [u8; 32] {
    *Scope::from_parts([b"clerk-native:user".as_slice(), user_id.as_bytes()]).as_bytes()
}

/// The hash of an organization id (`""` = personal account) as it appears in keys and messages.
pub fn org_hash(org_id: &str) -> [u8; 32] {
    *Scope::from_parts([b"clerk-native:org".as_slice(), org_id.as_bytes()]).as_bytes()
}

/// The shared key of an identity: instance (the verified `iss`, `""` if none), organization, user.
pub fn identity_hash(issuer: &str, key: &IdentityKey) -> [u8; 32] {
    *Scope::from_parts([
        b"clerk-native:identity".as_slice(),
        issuer.as_bytes(),
        key.org_id().as_bytes(),
        key.user_id().as_bytes(),
    ])
    .as_bytes()
}

/// Key names under one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Keys under `prefix`.
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    fn key(&self, kind: &str, hash: &[u8]) -> String {
        format!("{}{kind}{}", self.prefix, hex(hash))
    }

    /// A negative entry.
    pub fn negative(&self, key: &TokenKey) -> String {
        self.key("neg:", key.as_bytes())
    }

    /// The negative entry of the token with digest `token` under the scope given in hex.
    pub fn negative_in(&self, scope_hex: &str, token: &TokenDigest) -> Option<String> {
        let scope = Scope::from_bytes(unhex32(scope_hex)?);
        Some(self.negative(&TokenKey::from_digest(&scope, token)))
    }

    /// The set of scopes negative entries were written under.
    pub fn negative_scopes(&self) -> String {
        format!("{}scopes:neg", self.prefix)
    }

    /// A resolved user.
    pub fn identity(&self, hash: &[u8; 32]) -> String {
        self.key("id:", hash)
    }

    /// The `resolveUser` lock of an identity.
    pub fn lock(&self, hash: &[u8; 32]) -> String {
        self.key("lock:", hash)
    }

    /// The identity keys of a user.
    pub fn user_index(&self, user_hash: &[u8; 32]) -> String {
        self.key("idx:u:", user_hash)
    }

    /// The identity keys of an organization.
    pub fn org_index(&self, org_hash: &[u8; 32]) -> String {
        self.key("idx:o:", org_hash)
    }

    /// `SCAN` pattern of one cache's entries (`neg`, `id` or `idx`).
    pub fn pattern(&self, kind: &str) -> String {
        format!("{}{kind}:*", self.prefix)
    }

    /// The invalidation channel.
    pub fn channel(&self) -> String {
        format!("{}invalidate", self.prefix)
    }
}

/// A fleet invalidation, sent as `<origin>|<kind>|…` text on the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `invalidateToken`: the digests of the token and of its canonical (verified-cache) spelling.
    Token {
        /// Digest of the token as given (negative cache).
        raw: TokenDigest,
        /// Digest of its canonical spelling (verified cache).
        canonical: TokenDigest,
    },
    /// `invalidateIdentity`: the hashed organization and/or user.
    Identity {
        /// [`org_hash`] of the organization, if given.
        org: Option<[u8; 32]>,
        /// [`user_hash`] of the user, if given.
        user: Option<[u8; 32]>,
    },
    /// `clearCaches(name?)`: `None` = every cache.
    Clear(Option<String>),
}

fn opt_hex(v: &Option<[u8; 32]>) -> String {
    v.as_ref().map_or_else(|| "-".to_owned(), |h| hex(h))
}

fn opt_unhex(s: &str) -> Option<Option<[u8; 32]>> {
    if s == "-" {
        Some(None)
    } else {
        unhex32(s).map(Some)
    }
}

impl Message {
    /// The wire text from process `origin`.
    pub fn encode(&self, origin: &str) -> String {
        match self {
            Self::Token { raw, canonical } => format!(
                "{origin}|t|{}|{}",
                hex(raw.as_bytes()),
                hex(canonical.as_bytes())
            ),
            Self::Identity { org, user } => {
                format!("{origin}|i|{}|{}", opt_hex(org), opt_hex(user))
            }
            Self::Clear(name) => format!("{origin}|c|{}", name.as_deref().unwrap_or("*")),
        }
    }

    /// `(origin, message)` from wire text; `None` for anything malformed (ignored, counted as an error).
    pub fn decode(text: &str) -> Option<(&str, Self)> {
        let mut parts = text.split('|');
        let origin = parts.next()?;
        let msg = match (parts.next()?, parts.next(), parts.next()) {
            ("t", Some(raw), Some(canonical)) => Self::Token {
                raw: TokenDigest::from_bytes(unhex32(raw)?),
                canonical: TokenDigest::from_bytes(unhex32(canonical)?),
            },
            ("i", Some(org), Some(user)) => Self::Identity {
                org: opt_unhex(org)?,
                user: opt_unhex(user)?,
            },
            ("c", Some(name), None) => Self::Clear((name != "*").then(|| name.to_owned())),
            _ => return None,
        };
        parts.next().is_none().then_some((origin, msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let b = [0xabu8; 32];
        assert_eq!(unhex32(&hex(&b)), Some(b));
        assert_eq!(unhex32("zz"), None);
        assert_eq!(unhex32(&"A".repeat(64)), None, "lower case only");
    }

    #[test]
    fn messages_round_trip_and_garbage_is_refused() {
        let t = Message::Token {
            raw: TokenDigest::of("oat_x="),
            canonical: TokenDigest::of("oat_x"),
        };
        let i = Message::Identity {
            org: None,
            user: Some(user_hash("user_1")),
        };
        for m in [
            t,
            i,
            Message::Clear(None),
            Message::Clear(Some("identity".into())),
        ] {
            let text = m.encode("p1");
            assert_eq!(Message::decode(&text), Some(("p1", m)));
        }
        for bad in [
            "",
            "p",
            "p|t|00",
            "p|x|1|2",
            "p|c|a|b",
            "p|i|-|-|-",
            "p|i|zz|-",
        ] {
            assert_eq!(Message::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn no_raw_identifier_in_keys() {
        let keys = Keys::new("pfx:");
        let k = IdentityKey::new(Some("org_secret"), "user_secret").expect("key");
        let h = identity_hash("https://clerk.example.com", &k);
        for key in [
            keys.identity(&h),
            keys.lock(&h),
            keys.user_index(&user_hash("user_secret")),
            keys.org_index(&org_hash("org_secret")),
        ] {
            assert!(key.starts_with("pfx:"));
            assert!(
                !key.contains("secret") && !key.contains("clerk.example"),
                "{key}"
            );
        }
        let other = identity_hash("https://clerk.other.com", &k);
        assert_ne!(h, other, "scoped per instance");
    }
}
