//! The process-wide caches and the controls of API.md §3: [`caches`], [`Caches::stats`], [`Caches::clear`],
//! [`Caches::configure`], [`Caches::invalidate_token`], [`Caches::invalidate_identity`].
//!
//! The JWKS cache lives in `crate::jwks` and is not part of [`Caches`]: the binding adds its stats as `jwks` and
//! clears it for `clearCaches()` / `clearCaches('jwks')` ([`CacheName::Jwks`] is accepted here and clears
//! nothing of these three).

use std::sync::{Arc, OnceLock};

use serde::Serialize;

use super::config::CachesConfig;
use super::error::CacheError;
use super::identity::IdentityCache;
use super::negative::NegativeCache;
use super::stats::CacheStats;
use super::verified::VerifiedCache;
use crate::clock::{Clock, SystemClock};

/// A cache name for `clearCaches(name?)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheName {
    /// `'jwks'` (held by `crate::jwks`).
    Jwks,
    /// `'negative'`.
    Negative,
    /// `'verified'`.
    Verified,
    /// `'identity'`.
    Identity,
}

impl CacheName {
    /// Every name, in API order.
    pub const ALL: [CacheName; 4] = [Self::Jwks, Self::Negative, Self::Verified, Self::Identity];

    /// Parse `jwks`, `negative`, `verified` or `identity` (exact, lower case); anything else is
    /// [`CacheError::UnknownCache`].
    pub fn parse(name: &str) -> Result<Self, CacheError> {
        Self::ALL
            .into_iter()
            .find(|n| n.as_str() == name)
            .ok_or_else(|| CacheError::UnknownCache {
                name: name.to_owned(),
            })
    }

    /// The JS name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Jwks => "jwks",
            Self::Negative => "negative",
            Self::Verified => "verified",
            Self::Identity => "identity",
        }
    }
}

/// `cacheStats()` without `jwks`: `{ negative, verified, identity }`, each [`CacheStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AllCacheStats {
    /// The negative cache.
    pub negative: CacheStats,
    /// The verified-token cache.
    pub verified: CacheStats,
    /// The identity cache.
    pub identity: CacheStats,
}

/// The negative, verified and identity caches of one process (or of one test, with its own clock).
#[derive(Debug)]
pub struct Caches {
    /// Invalid `oat_` tokens.
    pub negative: NegativeCache,
    /// Verified session JWTs.
    pub verified: VerifiedCache,
    /// Resolved users per identity.
    pub identity: IdentityCache,
}

impl Caches {
    /// The three caches with their defaults, on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            negative: NegativeCache::new(clock.clone()),
            verified: VerifiedCache::new(clock.clone()),
            identity: IdentityCache::new(clock),
        }
    }

    /// Every cache's counters.
    pub fn stats(&self) -> AllCacheStats {
        AllCacheStats {
            negative: self.negative.stats(),
            verified: self.verified.stats(),
            identity: self.identity.stats(),
        }
    }

    /// Clear one cache, or all three for `None` (`Jwks` clears none of them: see the module docs).
    pub fn clear(&self, which: Option<CacheName>) {
        let all = which.is_none();
        if all || which == Some(CacheName::Negative) {
            self.negative.clear();
        }
        if all || which == Some(CacheName::Verified) {
            self.verified.clear();
        }
        if all || which == Some(CacheName::Identity) {
            self.identity.clear();
        }
    }

    /// `configureCaches(options)`: validates every given field first, then applies (all or nothing).
    pub fn configure(&self, config: &CachesConfig) -> Result<(), CacheError> {
        let [n, v, i] = config.check()?;
        self.negative.configure(n.capacity, n.ttl_ms)?;
        self.verified.configure(v.capacity, v.ttl_ms)?;
        self.identity
            .configure(i.capacity, i.ttl_ms, i.sidless_ttl_ms)
    }

    /// `configureCaches(options)` for the process, the shared tier included: everything is validated first.
    pub fn configure_process(&self, config: &CachesConfig) -> Result<(), CacheError> {
        self.configure(config)?;
        match &config.shared {
            None => Ok(()),
            Some(settings) => super::shared::configure(settings.as_ref()),
        }
    }

    /// `invalidateToken(token)`: forget `token` in the verified and negative caches, under every fingerprint and
    /// instance. Returns how many entries went.
    pub fn invalidate_token(&self, token: &str) -> usize {
        self.verified.invalidate(token) + self.negative.forget_everywhere(token)
    }

    /// `invalidateIdentity({ orgId?, userId? })`: see [`IdentityCache::invalidate`].
    pub fn invalidate_identity(&self, org_id: Option<&str>, user_id: Option<&str>) -> usize {
        self.identity.invalidate(org_id, user_id)
    }
}

/// The process-wide caches, on the system clock, created on first use.
pub fn caches() -> &'static Caches {
    static CACHES: OnceLock<Caches> = OnceLock::new();
    CACHES.get_or_init(|| {
        let mut c = Caches::new(Arc::new(SystemClock));
        c.negative = c.negative.with_shared_tier();
        c
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_exactly() {
        for n in CacheName::ALL {
            assert_eq!(CacheName::parse(n.as_str()), Ok(n));
        }
        assert_eq!(
            CacheName::parse("Negative").unwrap_err().code(),
            "unknown_cache"
        );
        assert!(CacheName::parse("").is_err());
    }

    #[test]
    fn stats_serialize_in_the_fixed_shape() {
        let c = Caches::new(Arc::new(crate::clock::ManualClock::new(0)));
        let v = serde_json::to_value(c.stats()).expect("serializes");
        let expected = serde_json::json!({
            "size": 0, "capacity": 10000, "ttlMs": 30000, "hits": 0, "misses": 0, "inserts": 0, "evictions": 0
        });
        assert_eq!(v["negative"], expected);
        assert_eq!(v["verified"]["ttlMs"], 300_000);
        assert_eq!(v["identity"]["ttlMs"], 300_000);
        assert_eq!(v.as_object().map(|o| o.len()), Some(3));
    }

    #[test]
    fn global_clear_rejects_unknown_names() {
        // What `clearCaches(name?)` runs: parse the name, then clear the process-wide caches.
        assert_eq!(
            CacheName::parse("nope").unwrap_err().code(),
            "unknown_cache"
        );
        assert_eq!(CacheName::parse("jwks"), Ok(CacheName::Jwks));
        caches().clear(None);
        assert_eq!(
            caches().stats().negative.capacity,
            caches().negative.stats().capacity
        );
    }
}
