//! [`VerifiedCache`]: session JWTs that verified once, answered from memory on repeat.
//!
//! Key: [`TokenKey`](super::TokenKey) over (options fingerprint, token). The fingerprint is a [`Scope`] the caller computes from
//! the verification options that change the outcome (key source, authorizedParties, audience, headerType,
//! clock skew), e.g. with [`Scope::from_parts`], so a token verified under one set of options never answers
//! for another. Value: `Arc<`[`VerifiedEntry`]`>` (the payload JSON and its time claims). The token side (the
//! fingerprint of `VerifyOptions`, and reading the claims into an entry with `VerifiedEntry::from_payload`) is
//! `crate::token::verified`: this cache knows no token types.
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
//! fingerprints it has stored entries under ([`SeenScopes`](super::seen_scopes::SeenScopes)) and removes the token's key in each.
//!
//! Spellings: every lookup, insert and invalidation keys the token by [`canonical_token`] (trailing `=` removed),
//! so the padded spellings that verification accepts for one token share one entry (see there).

use std::sync::Arc;

use super::error::CacheError;
use super::scoped::ScopedTokenCache;
use super::token_key::Scope;
use crate::clock::Clock;

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

impl VerifiedEntry {
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
    cache: ScopedTokenCache<Arc<VerifiedEntry>>,
}

impl VerifiedCache {
    /// A cache with the defaults (10,000 entries, 5 min).
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            cache: ScopedTokenCache::new_clamped(
                clock,
                VERIFIED_DEFAULT_CAPACITY,
                VERIFIED_DEFAULT_TTL_MS,
            ),
        }
    }

    /// A cache with the given capacity (`1..=MAX_CAPACITY`) and TTL in ms (`>= 1`).
    pub fn with_config(
        clock: Arc<dyn Clock>,
        capacity: usize,
        ttl_ms: i64,
    ) -> Result<Self, CacheError> {
        Ok(Self {
            cache: ScopedTokenCache::new(clock, capacity, ttl_ms)?,
        })
    }

    /// The entry for `token` verified under `fingerprint`, if held and still valid at `now_ms` (a hit);
    /// otherwise `None` (a miss; an entry no longer valid is removed).
    /// `token` is keyed by its [`canonical_token`] spelling.
    pub fn get(&self, fingerprint: &Scope, token: &str, now_ms: i64) -> Option<Arc<VerifiedEntry>> {
        self.cache.get_if(fingerprint, canonical_token(token), |e| {
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
        self.cache
            .insert_capped(fingerprint, canonical_token(token), entry, max_ttl)
    }

    /// Remove `token` under every fingerprint (for `invalidateToken`); returns how many live entries went. Any
    /// spelling removes the one entry of all of them ([`canonical_token`]).
    pub fn invalidate(&self, token: &str) -> usize {
        self.cache.forget_everywhere(canonical_token(token))
    }

    /// Remove the token whose canonical spelling has digest `token` under every fingerprint (a fleet
    /// invalidation); returns how many live entries went.
    pub fn invalidate_digest(&self, token: &super::token_key::TokenDigest) -> usize {
        self.cache.forget_digest_everywhere(token)
    }

    /// Drop every entry. Counters are kept.
    pub fn clear(&self) {
        self.cache.clear();
    }

    super::ttl_cache_controls!(configure);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    const NOW: i64 = 1_700_000_000_000;

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
