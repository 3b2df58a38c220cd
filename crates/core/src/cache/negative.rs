//! [`NegativeCache`]: opaque OAuth tokens (`oat_…`) that the Backend API answered 404 `token-invalid`, so a
//! repeat is rejected locally without a network call (Clerk PR #8519, SPEC §4, improved).
//!
//! Defaults: 10,000 entries, 30 s. Improvements over the PR: keys are [`TokenKey`](super::TokenKey)s (SHA-256, no raw token held)
//! scoped by instance ([`Scope::instance`]: apiUrl + SHA-256(secretKey)), so one tenant's entries never answer
//! for another's. Eviction stays oldest-inserted-first, and a refresh keeps its position, as in the PR.
//!
//! What to remember is the caller's decision (only a `MachineTokenVerificationError` with code `token-invalid`,
//! i.e. a 404; never 401, 5xx, network errors, timeouts or successes: `crate::auth::negative_policy` decides),
//! but [`NegativeCache::remember`] itself
//! refuses anything that is not an `oat_` token, so `ak_`/`mt_` tokens and JWTs can never be cached by mistake.

use std::sync::Arc;

use super::error::CacheError;
use super::scoped::ScopedTokenCache;
use super::token_key::Scope;
use crate::clock::Clock;

/// Default capacity (as in PR #8519).
pub const NEGATIVE_DEFAULT_CAPACITY: usize = 10_000;
/// Default TTL in ms (as in PR #8519).
pub const NEGATIVE_DEFAULT_TTL_MS: i64 = 30_000;
/// The only token prefix the negative cache holds: opaque OAuth access tokens.
pub const NEGATIVE_TOKEN_PREFIX: &str = "oat_";

/// The negative cache of invalid opaque OAuth tokens. Thread-safe; see the module docs.
#[derive(Debug)]
pub struct NegativeCache {
    cache: ScopedTokenCache<()>,
    /// Whether this cache writes to and reads from the process's shared tier (only the process-wide cache does).
    shared: bool,
}

impl NegativeCache {
    /// A cache with the defaults (10,000 entries, 30 s).
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            cache: ScopedTokenCache::new_clamped(
                clock,
                NEGATIVE_DEFAULT_CAPACITY,
                NEGATIVE_DEFAULT_TTL_MS,
            ),
            shared: false,
        }
    }

    /// This cache with the shared tier under it (when one is configured): `remember` also writes to it and
    /// [`shared_hit`](Self::shared_hit) reads it.
    pub fn with_shared_tier(mut self) -> Self {
        self.shared = true;
        self
    }

    /// On a local miss: whether the shared tier holds `token` in `scope` (within the lookup budget; any failure is
    /// a miss). A hit is copied into this cache for the entry's remaining TTL. Without a tier, or for a token
    /// without the `oat_` prefix, false at once.
    pub async fn shared_hit(entry: Option<&(&'static NegativeCache, Scope)>, token: &str) -> bool {
        let Some((cache, scope)) = entry else {
            return false;
        };
        let tier = match cache.shared && token.starts_with(NEGATIVE_TOKEN_PREFIX) {
            true => super::shared::tier(),
            false => None,
        };
        let Some(tier) = tier else { return false };
        let key = super::token_key::TokenKey::new(scope, token);
        match tier.negative_lookup(&key).await {
            Some(remaining_ms) => {
                cache
                    .cache
                    .insert_capped(scope, token, (), remaining_ms.max(1));
                true
            }
            None => false,
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
            shared: false,
        })
    }

    /// Whether `token` is a remembered invalid token in `scope` (true until its TTL runs out; an expired entry
    /// is removed). Counts a hit or a miss. A token without the `oat_` prefix is never cached: false at once,
    /// not hashed, not counted.
    pub fn is_cached(&self, scope: &Scope, token: &str) -> bool {
        token.starts_with(NEGATIVE_TOKEN_PREFIX) && self.cache.get(scope, token).is_some()
    }

    /// Remember `token` as invalid in `scope` for the TTL (a repeat restarts the TTL, keeping its eviction
    /// position). Refuses (returns false) a token without the `oat_` prefix.
    pub fn remember(&self, scope: &Scope, token: &str) -> bool {
        if !token.starts_with(NEGATIVE_TOKEN_PREFIX) {
            return false;
        }
        self.cache.insert(scope, token, ());
        if let (true, Some(tier)) = (self.shared, super::shared::tier()) {
            let key = super::token_key::TokenKey::new(scope, token);
            tier.negative_put(scope, &key, self.cache.ttl_ms());
        }
        true
    }

    /// Forget `token` in `scope`; returns whether a live entry went.
    pub fn forget(&self, scope: &Scope, token: &str) -> bool {
        self.cache.remove(scope, token)
    }

    /// Forget `token` in every scope (for `invalidateToken`); returns how many live entries went. See
    /// [`SeenScopes`](super::seen_scopes::SeenScopes) for how (and the fallback that clears everything).
    pub fn forget_everywhere(&self, token: &str) -> usize {
        self.cache.forget_everywhere(token)
    }

    /// Forget the token whose digest is `token` in every scope (a fleet invalidation).
    pub fn forget_digest_everywhere(&self, token: &super::token_key::TokenDigest) -> usize {
        self.cache.forget_digest_everywhere(token)
    }

    /// Drop every entry (`resetOAuthNegativeCache` / `clearCaches('negative')`). Counters are kept.
    pub fn clear(&self) {
        self.cache.clear();
    }

    super::ttl_cache_controls!(configure);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn setup() -> (Arc<ManualClock>, NegativeCache, Scope) {
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let cache = NegativeCache::new(clock.clone());
        (
            clock,
            cache,
            Scope::instance("https://api.clerk.com", "sk_test_xxx"),
        )
    }

    #[test]
    fn defaults() {
        let (_c, cache, _s) = setup();
        let s = cache.stats();
        assert_eq!((s.capacity, s.ttl_ms, s.size), (10_000, 30_000, 0));
    }

    #[test]
    fn only_oat_tokens_are_held() {
        let (_c, cache, scope) = setup();
        for t in ["ak_123", "mt_123", "eyJhbGciOi.x.y", "", "OAT_123", "oat"] {
            assert!(!cache.remember(&scope, t), "{t}");
            assert!(!cache.is_cached(&scope, t), "{t}");
        }
        assert!(cache.is_empty());
        assert_eq!(cache.stats().misses, 0, "non-oat lookups are not counted");
        assert!(cache.remember(&scope, "oat_123"));
        assert!(cache.is_cached(&scope, "oat_123"));
    }

    #[test]
    fn scoped_by_instance() {
        let (_c, cache, scope) = setup();
        let other = Scope::instance("https://api.clerk.com", "sk_test_other");
        cache.remember(&scope, "oat_x");
        assert!(cache.is_cached(&scope, "oat_x"));
        assert!(!cache.is_cached(&other, "oat_x"));
    }

    #[test]
    fn forget_and_forget_everywhere() {
        let (_c, cache, scope) = setup();
        let other = Scope::instance("https://api.clerk.com", "sk_test_other");
        cache.remember(&scope, "oat_x");
        cache.remember(&other, "oat_x");
        cache.remember(&scope, "oat_y");
        assert!(cache.forget(&scope, "oat_y"));
        assert!(!cache.forget(&scope, "oat_y"));
        assert_eq!(cache.forget_everywhere("oat_x"), 2);
        assert!(cache.is_empty());
    }

    #[test]
    fn forget_by_digest_reaches_every_scope() {
        let (_c, cache, scope) = setup();
        let other = Scope::instance("https://api.clerk.com", "sk_test_other");
        cache.remember(&scope, "oat_x");
        cache.remember(&other, "oat_x");
        cache.remember(&scope, "oat_y");
        let digest = crate::cache::token_key::TokenDigest::of("oat_x");
        assert_eq!(cache.forget_digest_everywhere(&digest), 2);
        assert!(cache.is_cached(&scope, "oat_y"));
    }

    #[tokio::test]
    async fn shared_hit_without_a_tier_is_a_miss_at_once() {
        static CACHE: std::sync::OnceLock<NegativeCache> = std::sync::OnceLock::new();
        let cache = CACHE
            .get_or_init(|| NegativeCache::new(Arc::new(ManualClock::new(0))).with_shared_tier());
        let scope = Scope::instance("u", "k");
        assert!(!NegativeCache::shared_hit(None, "oat_x").await);
        assert!(!NegativeCache::shared_hit(Some(&(cache, scope)), "oat_x").await);
        assert!(!NegativeCache::shared_hit(Some(&(cache, scope)), "ak_x").await);
    }
}
