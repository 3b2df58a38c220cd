//! [`VerifiedCache`]: session JWTs that verified once, answered from memory on repeat.
//!
//! Key: [`TokenKey`] over (options fingerprint, token). The fingerprint is a [`Scope`] the caller computes from
//! the verification options that change the outcome (key source, authorizedParties, audience, headerType,
//! clock skew), e.g. with [`Scope::from_parts`], so a token verified under one set of options never answers
//! for another. Value: `Arc<`[`VerifiedEntry`]`>` (the payload JSON and its time claims).
//!
//! A hit is served only while the token would still pass verification's time checks at `now`, with the same
//! rules and skew as `verifyToken` (`crate::token::verify`):
//! - expired when `exp_ms <= now - skew` (so valid while `now < exp_ms + skew`);
//! - not active when `nbf_ms > now + skew`;
//! - issued in the future when `iat_ms > now + skew` (only possible if the clock moved back).
//!
//! An entry found but no longer valid is removed and counts as a miss; the caller then verifies the token again
//! and gets the real error (`token-expired`, ...). On top of that an entry's TTL is
//! `min(configured TTL, exp_ms + skew - now)`, so it is dropped from memory when it could no longer be served.
//!
//! Defaults: 10,000 entries, TTL 5 min (a session token usually lives 60 s, so `exp` bounds most entries; the
//! TTL bounds tokens with long lifetimes, e.g. JWT templates).
//!
//! [`VerifiedCache::invalidate`] removes a token under every fingerprint: the cache remembers the (few)
//! fingerprints it has stored entries under ([`SeenScopes`]) and removes the token's key in each.
//!
//! Spellings: every lookup, insert and invalidation keys the token by [`canonical_token`] (trailing `=` removed),
//! so the padded spellings that verification accepts for one token share one entry (see there).

use std::sync::Arc;

use serde_json::Value;

use super::error::CacheError;
use super::seen_scopes::SeenScopes;
use super::token_key::{Scope, TokenKey};
use super::ttl::TtlCache;
use crate::clock::Clock;
use crate::codec::jsfmt::seconds_to_date_ms;
use crate::token::{JwtPayload, VerifyOptions};

/// Default capacity.
pub const VERIFIED_DEFAULT_CAPACITY: usize = 10_000;
/// Default TTL in ms (5 min); `exp` usually ends an entry sooner.
pub const VERIFIED_DEFAULT_TTL_MS: i64 = 300_000;

/// A verified token's payload and the time claims needed to re-check it, in ms since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEntry {
    /// The verified payload, serialized.
    pub payload_json: Arc<str>,
    /// `exp` in ms (seconds truncated, as verification does). `i64::MAX` for a claim JavaScript reads as an
    /// invalid date (it then never expires there either).
    pub exp_ms: i64,
    /// `nbf` in ms, if present and a valid date.
    pub nbf_ms: Option<i64>,
    /// `iat` in ms, if present and a valid date.
    pub iat_ms: Option<i64>,
    /// The clock skew it was verified with, in ms.
    pub skew_ms: i64,
}

/// A verification-time claim (seconds) in ms, as `verifyToken` reads it: `Some(None)` for a number that is no
/// valid date (NaN in JavaScript: never compares true), `None` when absent or not a number.
fn claim_ms(v: Option<&Value>) -> Option<Option<i64>> {
    let secs = v?.as_f64()?;
    // Within ±8.64e15, so the conversion is exact.
    Some(seconds_to_date_ms(secs).map(|ms| ms as i64))
}

impl VerifiedEntry {
    /// The entry for a payload that just passed verification with `skew_ms`: serializes it and reads `exp`,
    /// `nbf`, `iat` the way verification does. `None` when `exp` is missing or not a number (such a payload
    /// cannot have verified) or the payload does not serialize.
    pub fn from_payload(payload: &JwtPayload, skew_ms: i64) -> Option<Self> {
        let exp_ms = claim_ms(payload.get("exp"))?.unwrap_or(i64::MAX);
        let payload_json: Arc<str> = serde_json::to_string(payload).ok()?.into();
        Some(Self {
            payload_json,
            exp_ms,
            nbf_ms: claim_ms(payload.get("nbf")).flatten(),
            iat_ms: claim_ms(payload.get("iat")).flatten(),
            skew_ms,
        })
    }

    /// Whether verification's time checks pass at `now_ms` (see the module docs).
    pub fn is_valid_at(&self, now_ms: i64) -> bool {
        let not_expired = self.exp_ms > now_ms.saturating_sub(self.skew_ms);
        let latest = now_ms.saturating_add(self.skew_ms);
        let active = self.nbf_ms.is_none_or(|nbf| nbf <= latest);
        let issued = self.iat_ms.is_none_or(|iat| iat <= latest);
        not_expired && active && issued
    }

    /// The first instant at which the entry is expired: `exp_ms + skew_ms`.
    pub fn expires_at_ms(&self) -> i64 {
        self.exp_ms.saturating_add(self.skew_ms)
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// The fingerprint of the verification options that change a verification's outcome: the key source (as
/// `Verifier` resolves it: `jwtKey`, else `jwksUrl`, else (`apiUrl`, `apiVersion`, SHA-256 of `secretKey`)),
/// `audience`, `authorizedParties`, `headerType` (unset and `["JWT"]` differ: unset also accepts a missing
/// `typ`) and `clockSkewInMs`. Empty strings count as unset, as in `Verifier`. No secret enters it unhashed.
pub fn options_fingerprint(options: &VerifyOptions) -> Scope {
    fn list(tag: &[u8], items: &[String], parts: &mut Vec<Vec<u8>>) {
        parts.push(tag.to_vec());
        parts.push((items.len() as u64).to_be_bytes().to_vec());
        parts.extend(items.iter().map(|i| i.as_bytes().to_vec()));
    }
    let mut parts: Vec<Vec<u8>> = vec![b"clerk-native/verified/v1".to_vec()];
    if let Some(pem) = non_empty(&options.jwt_key) {
        parts.push(b"jwtKey".to_vec());
        parts.push(pem.as_bytes().to_vec());
    } else if let Some(url) = non_empty(&options.jwks_url) {
        parts.push(b"jwksUrl".to_vec());
        parts.push(url.as_bytes().to_vec());
    } else if let Some(sk) = non_empty(&options.secret_key) {
        parts.push(b"secretKey".to_vec());
        parts.push(options.api_url.as_bytes().to_vec());
        parts.push(options.api_version.as_bytes().to_vec());
        parts.push(
            ring::digest::digest(&ring::digest::SHA256, sk.as_bytes())
                .as_ref()
                .to_vec(),
        );
    } else {
        parts.push(b"unresolvable".to_vec());
    }
    list(b"audience", &options.audience, &mut parts);
    list(
        b"authorizedParties",
        &options.authorized_parties,
        &mut parts,
    );
    match &options.header_type {
        None => parts.push(b"headerType:unset".to_vec()),
        Some(types) => list(b"headerType", types, &mut parts),
    }
    parts.push(options.clock_skew_ms.to_be_bytes().to_vec());
    Scope::from_parts(parts.iter().map(Vec::as_slice))
}

/// The spelling of a JWT that the verified-token cache keys: the token with its trailing `=` removed.
///
/// Base64url decoding is Clerk's loose form (`base64url.parse(s, { loose: true })` in `@clerk/backend`, our
/// [`base64url::decode`](crate::codec::base64url::decode)): any number of trailing `=` is ignored, `=` anywhere
/// else is an invalid character, and non-zero leftover bits are refused. So the only spellings of one token
/// that verify alike are those that differ in trailing `=` on the *signature* segment: `=` at the end of the
/// header or payload segment changes the signed text (`rawHeader.rawPayload`, exactly as Clerk signs it), so
/// such a spelling is a different token whose signature fails. Padding on the signature segment is the
/// trailing `=` of the whole token, which is what this removes. Without it, one valid token padded 0..N times
/// would take N entries (evicting other users) and `invalidateToken(t)` would leave `t + "=="` cached.
///
/// A slice of `token`: nothing is allocated, and an unpadded token (the common case) costs one byte compare.
pub fn canonical_token(token: &str) -> &str {
    token.trim_end_matches('=')
}

/// The verified-token cache. Thread-safe; see the module docs.
#[derive(Debug)]
pub struct VerifiedCache {
    cache: TtlCache<TokenKey, Arc<VerifiedEntry>>,
    fingerprints: SeenScopes,
}

impl VerifiedCache {
    /// A cache with the defaults (10,000 entries, 5 min).
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            cache: TtlCache::new_clamped(clock, VERIFIED_DEFAULT_CAPACITY, VERIFIED_DEFAULT_TTL_MS),
            fingerprints: SeenScopes::new(),
        }
    }

    /// A cache with the given capacity (`1..=MAX_CAPACITY`) and TTL in ms (`>= 1`).
    pub fn with_config(
        clock: Arc<dyn Clock>,
        capacity: usize,
        ttl_ms: i64,
    ) -> Result<Self, CacheError> {
        Ok(Self {
            cache: TtlCache::new(clock, capacity, ttl_ms)?,
            fingerprints: SeenScopes::new(),
        })
    }

    /// The entry for `token` verified under `fingerprint`, if held and still valid at `now_ms` (a hit);
    /// otherwise `None` (a miss; an entry no longer valid is removed).
    /// `token` is keyed by its [`canonical_token`] spelling.
    pub fn get(&self, fingerprint: &Scope, token: &str, now_ms: i64) -> Option<Arc<VerifiedEntry>> {
        self.cache
            .get_if(&TokenKey::new(fingerprint, canonical_token(token)), |e| {
                e.is_valid_at(now_ms)
            })
    }

    /// Store `token`'s entry after a successful verification under `fingerprint` at `now_ms`, for
    /// `min(TTL, expires_at_ms - now_ms)`, keyed by its [`canonical_token`] spelling. Refused (false) when the entry
    /// is not valid at `now_ms`.
    pub fn insert(
        &self,
        fingerprint: &Scope,
        token: &str,
        entry: Arc<VerifiedEntry>,
        now_ms: i64,
    ) -> bool {
        if !entry.is_valid_at(now_ms) {
            return false;
        }
        let max_ttl = entry.expires_at_ms().saturating_sub(now_ms);
        let key = TokenKey::new(fingerprint, canonical_token(token));
        self.fingerprints.with_recorded(fingerprint, || {
            self.cache.insert_capped(key, entry, max_ttl)
        })
    }

    /// Remove `token` under every fingerprint (for `invalidateToken`); returns how many live entries went. Any
    /// spelling removes the one entry of all of them ([`canonical_token`]).
    pub fn invalidate(&self, token: &str) -> usize {
        self.fingerprints
            .forget_token(&self.cache, canonical_token(token))
    }

    /// Drop every entry. Counters are kept.
    pub fn clear(&self) {
        self.fingerprints.clear_with(|| self.cache.clear());
    }

    super::ttl_cache_controls!(configure);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000_000;

    fn payload(v: Value) -> JwtPayload {
        match v {
            Value::Object(m) => m,
            _ => JwtPayload::new(),
        }
    }

    #[test]
    fn from_payload_reads_claims_like_verification() {
        let e = VerifiedEntry::from_payload(
            &payload(
                json!({"sub": "u", "exp": 1_700_000_060.9, "nbf": 1_699_999_990, "iat": 1e300}),
            ),
            5_000,
        )
        .expect("entry");
        assert_eq!(e.exp_ms, 1_700_000_060_000, "seconds truncated");
        assert_eq!(e.nbf_ms, Some(1_699_999_990_000));
        assert_eq!(e.iat_ms, None, "an invalid date never fails the check");
        assert_eq!(e.skew_ms, 5_000);
        assert!(e.payload_json.contains("\"sub\":\"u\""));
        assert!(VerifiedEntry::from_payload(&payload(json!({"sub": "u"})), 0).is_none());
        assert!(VerifiedEntry::from_payload(&payload(json!({"exp": "1"})), 0).is_none());
        let forever =
            VerifiedEntry::from_payload(&payload(json!({"exp": 1e300})), 0).expect("entry");
        assert_eq!(forever.exp_ms, i64::MAX);
        assert!(forever.is_valid_at(i64::MAX - 1));
    }

    #[test]
    fn validity_matches_the_skew_rules() {
        let e = VerifiedEntry {
            payload_json: "{}".into(),
            exp_ms: NOW + 60_000,
            nbf_ms: Some(NOW - 10_000),
            iat_ms: Some(NOW - 10_000),
            skew_ms: 5_000,
        };
        assert!(e.is_valid_at(NOW + 64_999));
        assert!(!e.is_valid_at(NOW + 65_000), "exp <= now - skew");
        assert!(e.is_valid_at(NOW - 15_000), "nbf == now + skew is active");
        assert!(!e.is_valid_at(NOW - 15_001), "nbf > now + skew");
        assert_eq!(e.expires_at_ms(), NOW + 65_000);
    }

    #[test]
    fn validity_agrees_with_verification_at_every_edge() {
        use crate::token::verify::check_claims;
        for skew in [0, 5_000, -2_000] {
            let options = VerifyOptions {
                clock_skew_ms: skew,
                ..VerifyOptions::default()
            };
            let secs = NOW / 1000;
            let p =
                payload(json!({"sub": "u", "exp": secs + 60, "nbf": secs - 10, "iat": secs + 3}));
            let e = VerifiedEntry::from_payload(&p, skew).expect("entry");
            let edges = [
                (secs + 60) * 1000 + skew,
                (secs - 10) * 1000 - skew,
                (secs + 3) * 1000 - skew,
            ];
            for edge in edges {
                for now in [edge - 1, edge, edge + 1] {
                    assert_eq!(
                        e.is_valid_at(now),
                        check_claims(&p, &options, now).is_ok(),
                        "skew {skew}, now {now}"
                    );
                }
            }
        }
    }

    #[test]
    fn fingerprint_follows_the_options_that_matter() {
        let base = VerifyOptions {
            jwt_key: Some("PEM".into()),
            ..VerifyOptions::default()
        };
        let fp = options_fingerprint(&base);
        assert_eq!(fp, options_fingerprint(&base.clone()));
        let changed = [
            VerifyOptions {
                jwt_key: Some("PEM2".into()),
                ..base.clone()
            },
            VerifyOptions {
                audience: vec!["a".into()],
                ..base.clone()
            },
            VerifyOptions {
                authorized_parties: vec!["https://a".into()],
                ..base.clone()
            },
            VerifyOptions {
                header_type: Some(vec!["JWT".into()]),
                ..base.clone()
            },
            VerifyOptions {
                clock_skew_ms: 0,
                ..base.clone()
            },
            VerifyOptions {
                audience: vec!["ab".into()],
                authorized_parties: vec![],
                ..base.clone()
            },
            VerifyOptions {
                audience: vec!["a".into(), "b".into()],
                ..base.clone()
            },
        ];
        for (i, c) in changed.iter().enumerate() {
            assert_ne!(options_fingerprint(c), fp, "case {i}");
        }
        // Options that do not change the outcome do not split the cache.
        let same = VerifyOptions {
            jwks_cache_ttl_ms: 1,
            skip_jwks_cache: true,
            ..base.clone()
        };
        assert_eq!(options_fingerprint(&same), fp);
        // Key source precedence as in Verifier: an empty jwtKey is unset.
        let sk = |k: &str| VerifyOptions {
            jwt_key: Some(String::new()),
            secret_key: Some(k.into()),
            ..VerifyOptions::default()
        };
        assert_ne!(
            options_fingerprint(&sk("sk_a")),
            options_fingerprint(&sk("sk_b"))
        );
        let url = VerifyOptions {
            jwks_url: Some("https://x/jwks".into()),
            ..sk("sk_a")
        };
        assert_eq!(
            options_fingerprint(&url),
            options_fingerprint(&VerifyOptions {
                jwks_url: Some("https://x/jwks".into()),
                ..sk("sk_b")
            }),
            "jwksUrl wins over secretKey"
        );
    }

    #[test]
    fn fingerprint_has_no_separator_collisions() {
        // Lists whose joined text would collide under a separator-joined key (issue item 5): every field and
        // every list item is length-prefixed, so none of these share a fingerprint.
        let with = |audience: &[&str], parties: &[&str]| {
            options_fingerprint(&VerifyOptions {
                jwt_key: Some("PEM".into()),
                audience: audience.iter().map(|s| s.to_string()).collect(),
                authorized_parties: parties.iter().map(|s| s.to_string()).collect(),
                ..VerifyOptions::default()
            })
        };
        let sets = [
            with(&[], &["a", "b"]),
            with(&[], &["a\u{1}b"]),
            with(&[], &["a\u{0}b"]),
            with(&[], &["ab"]),
            with(&["q\u{0}p"], &[]),
            with(&["q"], &["p\u{0}"]),
            with(&["q"], &["p"]),
            with(&["q", "p"], &[]),
        ];
        for (i, a) in sets.iter().enumerate() {
            for b in &sets[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn padded_spellings_share_one_entry() {
        assert_eq!(canonical_token("h.p.sig"), "h.p.sig");
        assert_eq!(canonical_token("h.p.sig=="), "h.p.sig");
        assert_eq!(
            canonical_token("h=.p=.sig="),
            "h=.p=.sig",
            "only the signature's padding"
        );
        assert_eq!(canonical_token("h.p.="), "h.p.");
        let clock = Arc::new(ManualClock::new(NOW));
        let cache = VerifiedCache::new(clock);
        let fp = Scope::from_parts([b"jwtKey".as_slice()]);
        let entry = || {
            Arc::new(VerifiedEntry {
                payload_json: "{}".into(),
                exp_ms: NOW + 60_000,
                nbf_ms: None,
                iat_ms: None,
                skew_ms: 0,
            })
        };
        for n in 0..100 {
            let spelling = format!("h.p.sig{}", "=".repeat(n));
            assert!(cache.insert(&fp, &spelling, entry(), NOW));
        }
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.stats().evictions, 0);
        assert!(cache.get(&fp, "h.p.sig", NOW).is_some());
        assert!(cache.get(&fp, "h.p.sig===", NOW).is_some());
        assert!(
            cache.get(&fp, "h=.p.sig", NOW).is_none(),
            "a padded header is another token"
        );
        assert_eq!(cache.invalidate("h.p.sig=="), 1);
        assert!(cache.get(&fp, "h.p.sig", NOW).is_none());
        assert!(cache.insert(&fp, "h.p.sig=", entry(), NOW));
        assert_eq!(cache.invalidate("h.p.sig"), 1);
        assert!(cache.is_empty());
    }

    #[test]
    fn ttl_is_capped_by_exp() {
        let clock = Arc::new(ManualClock::new(NOW));
        let cache = VerifiedCache::new(clock.clone());
        let fp = Scope::from_parts([b"jwtKey".as_slice()]);
        let entry = Arc::new(VerifiedEntry {
            payload_json: "{}".into(),
            exp_ms: NOW + 1_000,
            nbf_ms: None,
            iat_ms: None,
            skew_ms: 0,
        });
        assert!(cache.insert(&fp, "t", entry, NOW));
        clock.advance(1_000);
        // A read with a stale `now` still misses: the TTL (capped at exp + skew) has run out.
        assert!(cache.get(&fp, "t", NOW).is_none());
        assert_eq!(cache.stats().expirations, 1);
        assert!(cache.is_empty());
    }
}
