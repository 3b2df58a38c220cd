//! Bounded in-memory caches with an injectable [`Clock`](crate::clock::Clock) (API.md §3, SPEC §4-5):
//!
//! - [`ttl`]: [`TtlCache`], the generic bounded TTL cache (oldest-inserted-first eviction, expiry on read);
//! - [`token_key`]: [`Scope`] and [`TokenKey`], SHA-256 keys so no raw token or secret is held;
//! - [`negative`]: [`NegativeCache`], `oat_` tokens the Backend API answered 404 (PR #8519, improved);
//! - [`verified`]: [`VerifiedCache`], verified session JWTs, never served past `exp` or before `nbf`;
//! - [`identity_key`] and [`identity`]: [`IdentityKey`] from validated claims, and [`IdentityCache`] of the app's
//!   resolved users (the mission-control lesson);
//! - [`scoped`]: [`ScopedTokenCache`], the shape both token caches share (a [`TtlCache`] of [`TokenKey`]s plus
//!   [`seen_scopes`], how a token is invalidated under every scope without a scan);
//! - [`config`], [`stats`], [`error`]: the controls' options, counters and errors;
//! - [`registry`]: the process-wide [`Caches`] and `cacheStats` / `clearCaches` / `configureCaches`;
//! - [`shared`]: the shared tier on Redis under the negative and identity caches, and fleet invalidation.

/// The size and counter methods every data cache answers from the [`TtlCache`] in its `cache` field, and with
/// `configure` the capacity/TTL control (a cache with more settings writes its own).
macro_rules! ttl_cache_controls {
    () => {
        /// The counters.
        pub fn stats(&self) -> $crate::cache::CacheStats {
            self.cache.stats()
        }

        /// Entries held now (expired ones not yet swept included).
        pub fn len(&self) -> usize {
            self.cache.len()
        }

        /// Whether nothing is held.
        pub fn is_empty(&self) -> bool {
            self.cache.is_empty()
        }
    };
    (configure) => {
        $crate::cache::ttl_cache_controls!();

        /// Change capacity and/or TTL (validated; a smaller capacity evicts the oldest at once).
        pub fn configure(
            &self,
            capacity: Option<usize>,
            ttl_ms: Option<i64>,
        ) -> Result<(), $crate::cache::CacheError> {
            self.cache.reconfigure(capacity, ttl_ms)
        }
    };
}
pub(crate) use ttl_cache_controls;

pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod exposition;
pub(crate) mod identity;
pub(crate) mod identity_key;
pub(crate) mod negative;
pub(crate) mod registry;
pub(crate) mod scoped;
pub mod seen_scopes;
pub mod shared;
pub(crate) mod stats;
pub(crate) mod token_key;
pub(crate) mod ttl;
pub(crate) mod verified;

pub use config::{CacheSettings, CachesConfig, IdentitySettings};
pub use error::CacheError;
pub use exposition::render_metrics;
pub use identity::IdentityCache;
pub use identity_key::{IdentityError, IdentityKey, Sid};
pub use negative::NegativeCache;
pub use registry::{caches, AllCacheStats, CacheName, Caches};
pub use scoped::ScopedTokenCache;
pub use stats::CacheStats;
pub use token_key::{Scope, TokenDigest, TokenKey};
pub use ttl::{TtlCache, MAX_CAPACITY};
pub use verified::{VerifiedCache, VerifiedEntry};
