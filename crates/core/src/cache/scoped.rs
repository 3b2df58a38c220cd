//! [`ScopedTokenCache`]: the token caches' common shape, a [`TtlCache`] keyed by [`TokenKey`] (scope + SHA-256
//! of the token) plus the [`SeenScopes`] that let "forget this token" reach every scope without a scan. The
//! negative cache ([`NegativeCache`](super::NegativeCache)) and the verified-token cache
//! ([`VerifiedCache`](super::VerifiedCache)) are this with their own value and rules on top.

use std::sync::Arc;

use super::error::CacheError;
use super::seen_scopes::SeenScopes;
use super::stats::CacheStats;
use super::token_key::{Scope, TokenDigest, TokenKey};
use super::ttl::TtlCache;
use crate::clock::Clock;

/// Values of type `V` per (scope, token). Every insert records its scope first, so [`forget_everywhere`]
/// finds it. Thread-safe.
///
/// [`forget_everywhere`]: ScopedTokenCache::forget_everywhere
#[derive(Debug)]
pub struct ScopedTokenCache<V> {
    entries: TtlCache<TokenKey, V>,
    scopes: SeenScopes,
}

impl<V: Clone> ScopedTokenCache<V> {
    /// A cache with built-in defaults (clamped into range, never rejected).
    pub(crate) fn new_clamped(clock: Arc<dyn Clock>, capacity: usize, ttl_ms: i64) -> Self {
        Self {
            entries: TtlCache::new_clamped(clock, capacity, ttl_ms),
            scopes: SeenScopes::new(),
        }
    }

    /// A cache with the given capacity (`1..=MAX_CAPACITY`) and TTL in ms (`>= 1`).
    pub fn new(clock: Arc<dyn Clock>, capacity: usize, ttl_ms: i64) -> Result<Self, CacheError> {
        Ok(Self {
            entries: TtlCache::new(clock, capacity, ttl_ms)?,
            scopes: SeenScopes::new(),
        })
    }

    /// The value for `token` in `scope`, if held and not expired (counts a hit or a miss).
    pub fn get(&self, scope: &Scope, token: &str) -> Option<V> {
        self.entries.get(&TokenKey::new(scope, token))
    }

    /// As [`get`](Self::get), but a value for which `valid` is false is removed and counts as a miss.
    pub fn get_if(&self, scope: &Scope, token: &str, valid: impl FnOnce(&V) -> bool) -> Option<V> {
        self.entries.get_if(&TokenKey::new(scope, token), valid)
    }

    /// Store (or refresh) `value` for `token` in `scope` for the TTL.
    pub fn insert(&self, scope: &Scope, token: &str, value: V) {
        let key = TokenKey::new(scope, token);
        self.scopes
            .with_recorded(scope, || self.entries.insert(key, value));
    }

    /// Store `value` for the smaller of the TTL and `max_ttl_ms`; returns whether it was stored.
    pub fn insert_capped(&self, scope: &Scope, token: &str, value: V, max_ttl_ms: i64) -> bool {
        let key = TokenKey::new(scope, token);
        self.scopes
            .with_recorded(scope, || self.entries.insert_capped(key, value, max_ttl_ms))
    }

    /// Remove `token` in `scope`; returns whether a live entry went.
    pub fn remove(&self, scope: &Scope, token: &str) -> bool {
        self.entries.remove(&TokenKey::new(scope, token)).is_some()
    }

    /// Remove `token` in every scope; returns how many live entries went. See [`SeenScopes`] for how (and the
    /// fallback that clears everything).
    pub fn forget_everywhere(&self, token: &str) -> usize {
        self.scopes.forget_token(&self.entries, token)
    }

    /// Remove the token whose digest is `token` in every scope (a fleet invalidation); returns how many went.
    pub fn forget_digest_everywhere(&self, token: &TokenDigest) -> usize {
        self.scopes.forget_digest(&self.entries, token)
    }

    /// Drop every entry. Counters are kept.
    pub fn clear(&self) {
        self.scopes.clear_with(|| self.entries.clear());
    }

    /// The counters.
    pub fn stats(&self) -> CacheStats {
        self.entries.stats()
    }

    /// The default TTL in ms.
    pub fn ttl_ms(&self) -> i64 {
        self.entries.ttl_ms()
    }

    /// Entries held now (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Change capacity and/or TTL (validated; a smaller capacity evicts the oldest at once).
    pub fn reconfigure(
        &self,
        capacity: Option<usize>,
        ttl_ms: Option<i64>,
    ) -> Result<(), CacheError> {
        self.entries.reconfigure(capacity, ttl_ms)
    }
}
