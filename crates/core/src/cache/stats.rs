//! The counters every cache reports: the fixed `cacheStats()` shape of API.md §3.

use serde::Serialize;

/// One cache's counters, serialized as `{ size, capacity, ttlMs, hits, misses, inserts, evictions }`.
///
/// - `size`: entries held now, including expired ones not yet swept (expiry is checked on read, and each insert
///   sweeps at most two expired entries off the old end).
/// - `hits` / `misses`: lookups answered / not answered; a lookup that finds an expired (or no longer valid)
///   entry removes it and counts as a miss.
/// - `inserts`: every insert, including a refresh of an existing key.
/// - `evictions`: entries dropped by the cache itself: capacity evictions (oldest first, also when a
///   reconfigure shrinks the capacity) **and** expiry removals. Explicit removals (`forget`, `invalidate*`,
///   `clear`) are not counted. `expirations` (Rust only, not serialized) is the expiry part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheStats {
    /// Entries held now.
    pub size: u64,
    /// Most entries held at once.
    pub capacity: u64,
    /// Default time to live of an entry, in ms.
    pub ttl_ms: i64,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups not answered (absent, expired or no longer valid).
    pub misses: u64,
    /// Inserts, refreshes included.
    pub inserts: u64,
    /// Capacity evictions plus expiry removals.
    pub evictions: u64,
    /// The expiry removals counted in `evictions` (not serialized: the JS shape is fixed).
    #[serde(skip)]
    pub expirations: u64,
}
