//! [`IdentityCache`]: the app's resolved user (a JSON value the app supplies, e.g. its database row) per
//! [`IdentityKey`] (`org:<orgId>:user:<userId>`), SPEC §5 / API.md §3.
//!
//! Defaults: 10,000 entries; TTL 5 min for tokens with a session id; **60 s** for tokens without one (JWT
//! templates, `sidlessTtlMs`). The sid-less TTL never exceeds the main TTL: an entry stored for a sid-less
//! token lives `min(ttlMs, sidlessTtlMs)`. Oldest-inserted-first eviction; a refresh restarts the TTL.
//!
//! Build keys with [`IdentityKey::from_claims`] (it validates the org and user claims) before any lookup, so a
//! token without a user id never reads or writes this cache.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value;

use super::error::CacheError;
use super::identity_key::{IdentityKey, Sid};
use super::ttl::{validate_ttl, TtlCache};
use crate::clock::Clock;

/// Default capacity.
pub const IDENTITY_DEFAULT_CAPACITY: usize = 10_000;
/// Default TTL in ms (5 min).
pub const IDENTITY_DEFAULT_TTL_MS: i64 = 300_000;
/// Default TTL in ms for tokens without `sid` (60 s).
pub const IDENTITY_DEFAULT_SIDLESS_TTL_MS: i64 = 60_000;

/// The identity cache. Thread-safe; see the module docs.
#[derive(Debug)]
pub struct IdentityCache {
    cache: TtlCache<IdentityKey, Arc<Value>>,
    sidless_ttl_ms: AtomicI64,
    /// Bumped by every invalidation and clear (local or from the fleet): a value resolved before one is not stored.
    generation: AtomicU64,
}

impl IdentityCache {
    /// A cache with the defaults (10,000 entries, 5 min, 60 s sid-less).
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            cache: TtlCache::new_clamped(clock, IDENTITY_DEFAULT_CAPACITY, IDENTITY_DEFAULT_TTL_MS),
            sidless_ttl_ms: AtomicI64::new(IDENTITY_DEFAULT_SIDLESS_TTL_MS),
            generation: AtomicU64::new(0),
        }
    }

    /// A cache with the given capacity (`1..=MAX_CAPACITY`) and TTLs in ms (`>= 1`).
    pub fn with_config(
        clock: Arc<dyn Clock>,
        capacity: usize,
        ttl_ms: i64,
        sidless_ttl_ms: i64,
    ) -> Result<Self, CacheError> {
        let sidless = validate_ttl("sidlessTtlMs", sidless_ttl_ms)?;
        Ok(Self {
            cache: TtlCache::new(clock, capacity, ttl_ms)?,
            sidless_ttl_ms: AtomicI64::new(sidless),
            generation: AtomicU64::new(0),
        })
    }

    /// The resolved user for `key`, if held and not expired.
    pub fn get(&self, key: &IdentityKey) -> Option<Arc<Value>> {
        self.cache.get(key)
    }

    /// Store the resolved user for `key`: for the TTL, or `min(TTL, sidless TTL)` when the token had no `sid`.
    pub fn insert(&self, key: IdentityKey, value: Arc<Value>, sid: Sid) {
        match sid {
            Sid::Present => self.cache.insert(key, value),
            Sid::Absent => {
                let sidless = self.sidless_ttl_ms.load(Ordering::Relaxed);
                self.cache.insert_capped(key, value, sidless);
            }
        }
    }

    /// Store the resolved user for `key` for at most `max_ttl_ms` (a value read from the shared tier, for its
    /// remaining TTL), within the usual TTL for `sid`.
    pub fn insert_for(&self, key: IdentityKey, value: Arc<Value>, sid: Sid, max_ttl_ms: i64) {
        self.cache
            .insert_capped(key, value, max_ttl_ms.min(self.ttl_for(sid)));
    }

    /// The TTL in ms an entry stored for a token with / without `sid` gets.
    pub fn ttl_for(&self, sid: Sid) -> i64 {
        let ttl = self.cache.ttl_ms();
        match sid {
            Sid::Present => ttl,
            Sid::Absent => ttl.min(self.sidless_ttl_ms.load(Ordering::Relaxed)),
        }
    }

    /// The invalidation generation (see the field): read it before resolving, compare before storing.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// A fleet `invalidateIdentity` with hashed ids (`keys::org_hash` / `keys::user_hash`): the same rules as
    /// [`invalidate`](Self::invalidate), matching entries by hash (a scan). Returns how many went.
    pub fn invalidate_hashed(&self, org: Option<&[u8; 32]>, user: Option<&[u8; 32]>) -> usize {
        use super::shared::keys::{org_hash, user_hash};
        if org.is_none() && user.is_none() {
            return 0;
        }
        self.bump();
        self.cache.remove_where(|k, _| {
            org.is_none_or(|o| org_hash(k.org_id()) == *o)
                && user.is_none_or(|u| user_hash(k.user_id()) == *u)
        })
    }

    /// Remove one key; returns whether a live entry went.
    pub fn remove(&self, key: &IdentityKey) -> bool {
        self.cache.remove(key).is_some()
    }

    /// `invalidateIdentity({ orgId?, userId? })`: returns how many entries went (for org and user together, live
    /// ones; otherwise expired ones not yet swept are counted too). An empty string counts as not given.
    /// - org and user: that one entry;
    /// - org only: every user of that org;
    /// - user only: that user in every org, and as a personal account;
    /// - neither: nothing (0), so a mistaken empty call cannot flush everything; use `clear` for that.
    ///
    /// O(n) in the entries held (it scans), except for org and user together.
    pub fn invalidate(&self, org_id: Option<&str>, user_id: Option<&str>) -> usize {
        let org = org_id.filter(|o| !o.is_empty());
        let user = user_id.filter(|u| !u.is_empty());
        if org.is_some() || user.is_some() {
            self.bump();
        }
        match (org, user) {
            (None, None) => 0,
            (Some(o), Some(u)) => match IdentityKey::new(Some(o), u) {
                Ok(key) => usize::from(self.cache.remove(&key).is_some()),
                Err(_) => 0,
            },
            (Some(o), None) => self.cache.remove_where(|k, _| k.org_id() == o),
            (None, Some(u)) => self.cache.remove_where(|k, _| k.user_id() == u),
        }
    }

    /// Drop every entry. Counters are kept.
    pub fn clear(&self) {
        self.bump();
        self.cache.clear();
    }

    /// Change capacity and/or TTLs (validated first; nothing changes on error). New TTLs apply to later inserts.
    pub fn configure(
        &self,
        capacity: Option<usize>,
        ttl_ms: Option<i64>,
        sidless_ttl_ms: Option<i64>,
    ) -> Result<(), CacheError> {
        let sidless = sidless_ttl_ms
            .map(|t| validate_ttl("sidlessTtlMs", t))
            .transpose()?;
        self.cache.reconfigure(capacity, ttl_ms)?;
        if let Some(s) = sidless {
            self.sidless_ttl_ms.store(s, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The TTL for tokens without `sid`, in ms (as configured; the main TTL still caps it).
    pub fn sidless_ttl_ms(&self) -> i64 {
        self.sidless_ttl_ms.load(Ordering::Relaxed)
    }

    // `stats()` reports the main TTL as `ttlMs`.
    super::ttl_cache_controls!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use serde_json::json;

    #[test]
    fn defaults_and_configure_validation() {
        let c = IdentityCache::new(Arc::new(ManualClock::new(0)));
        let s = c.stats();
        assert_eq!((s.capacity, s.ttl_ms), (10_000, 300_000));
        assert_eq!(c.sidless_ttl_ms(), 60_000);
        let e = c.configure(Some(5), Some(10), Some(0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sidlessTtlMs must be at least 1 (milliseconds), got 0"
        );
        assert_eq!(c.stats().capacity, 10_000, "nothing changed on error");
        c.configure(None, None, Some(1_000)).expect("valid");
        assert_eq!(c.sidless_ttl_ms(), 1_000);
    }

    #[test]
    fn invalidate_with_neither_does_nothing() {
        let c = IdentityCache::new(Arc::new(ManualClock::new(0)));
        let k = IdentityKey::new(Some("o"), "u").expect("key");
        c.insert(k.clone(), Arc::new(json!(1)), Sid::Present);
        assert_eq!(c.invalidate(None, None), 0);
        assert_eq!(c.invalidate(Some(""), Some("")), 0);
        assert!(c.get(&k).is_some());
    }

    #[test]
    fn fleet_invalidation_by_hash_and_generation() {
        use crate::cache::shared::keys::{org_hash, user_hash};
        let c = IdentityCache::new(Arc::new(ManualClock::new(0)));
        let key = |o: Option<&str>, u| IdentityKey::new(o, u).expect("key");
        c.insert(key(Some("o1"), "u1"), Arc::new(json!(1)), Sid::Present);
        c.insert(key(Some("o2"), "u1"), Arc::new(json!(2)), Sid::Present);
        c.insert(key(Some("o1"), "u2"), Arc::new(json!(3)), Sid::Present);
        c.insert(key(None, "u3"), Arc::new(json!(4)), Sid::Absent);
        let g = c.generation();
        assert_eq!(c.invalidate_hashed(None, None), 0);
        assert_eq!(c.generation(), g, "nothing asked, nothing bumped");
        assert_eq!(
            c.invalidate_hashed(Some(&org_hash("o1")), Some(&user_hash("u1"))),
            1
        );
        assert!(c.generation() > g);
        assert_eq!(c.invalidate_hashed(None, Some(&user_hash("u1"))), 1);
        assert_eq!(c.invalidate_hashed(Some(&org_hash("o1")), None), 1);
        assert_eq!(
            c.invalidate_hashed(Some(&org_hash("")), None),
            1,
            "personal accounts"
        );
        assert!(c.is_empty());
        assert_eq!(c.ttl_for(Sid::Absent), IDENTITY_DEFAULT_SIDLESS_TTL_MS);
        assert_eq!(c.ttl_for(Sid::Present), IDENTITY_DEFAULT_TTL_MS);
        let g = c.generation();
        c.clear();
        assert!(c.generation() > g);
    }
}
