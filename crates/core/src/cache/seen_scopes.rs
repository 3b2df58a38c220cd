//! [`SeenScopes`]: the bounded set of scopes (instances or options fingerprints) a token cache has stored entries
//! under, so that "forget this token everywhere" is a handful of keyed removals instead of a scan.
//!
//! Why a set of scopes rather than a per-token index or a token hash in every entry: scopes come from server
//! configuration (one per Clerk instance, one per set of verification options), not from requests, so there are
//! a few of them, while there are as many tokens as entries. Invalidating a token is then one SHA-256 and one
//! removal per scope, with no per-entry memory and nothing to keep in sync on eviction. If more than
//! [`SCOPE_LIMIT`] scopes are ever seen the set stops growing and is marked overflowed; the next invalidation
//! then clears the whole cache (always safe for these caches: they only save work) and starts over.
//!
//! Ordering: an insert runs under the set's read lock after recording its scope, and invalidation and clearing
//! take the write lock, so an invalidation never misses an entry stored by an insert that finished before it.

use std::collections::HashSet;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::token_key::{Scope, TokenDigest, TokenKey};
use super::ttl::TtlCache;

/// Distinct scopes remembered before falling back to clearing everything on invalidation.
pub const SCOPE_LIMIT: usize = 1024;

#[derive(Debug, Default)]
struct Seen {
    scopes: HashSet<Scope>,
    overflowed: bool,
}

/// A bounded set of the scopes entries were stored under. See the module docs.
#[derive(Debug, Default)]
pub struct SeenScopes {
    inner: RwLock<Seen>,
}

impl SeenScopes {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, Seen> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Seen> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Record `scope`, then run `insert` (the cache insert) while invalidations are held off.
    pub fn with_recorded<R>(&self, scope: &Scope, insert: impl FnOnce() -> R) -> R {
        {
            let seen = self.read();
            if seen.overflowed || seen.scopes.contains(scope) {
                return insert();
            }
        }
        let mut seen = self.write();
        if !seen.overflowed && !seen.scopes.contains(scope) {
            if seen.scopes.len() >= SCOPE_LIMIT {
                seen.overflowed = true;
            } else {
                seen.scopes.insert(*scope);
            }
        }
        insert()
    }

    /// Invalidate one token: `per_scope` for every recorded scope (summing what it returns), or `everything` once
    /// if the set overflowed (after which the set starts over). No insert runs meanwhile.
    pub fn invalidate(
        &self,
        per_scope: impl FnMut(&Scope) -> usize,
        everything: impl FnOnce() -> usize,
    ) -> usize {
        let mut seen = self.write();
        if seen.overflowed {
            let n = everything();
            *seen = Seen::default();
            n
        } else {
            seen.scopes.iter().map(per_scope).sum()
        }
    }

    /// Run `clear` (the cache clear) and forget every scope, with no insert running meanwhile.
    pub fn clear_with(&self, clear: impl FnOnce()) {
        let mut seen = self.write();
        clear();
        *seen = Seen::default();
    }

    /// Remove `token` under every recorded scope from `cache` (a token cache whose entries were all stored through
    /// [`with_recorded`](Self::with_recorded)), or clear `cache` if the set overflowed. Returns how many entries
    /// went (live ones; with the fallback, everything held).
    pub fn forget_token<V: Clone>(&self, cache: &TtlCache<TokenKey, V>, token: &str) -> usize {
        self.forget_digest(cache, &TokenDigest::of(token))
    }

    /// As [`forget_token`](Self::forget_token), for the token whose digest is `token` (a fleet invalidation).
    pub fn forget_digest<V: Clone>(
        &self,
        cache: &TtlCache<TokenKey, V>,
        token: &TokenDigest,
    ) -> usize {
        self.invalidate(
            |scope| usize::from(cache.remove(&TokenKey::from_digest(scope, token)).is_some()),
            || cache.clear_counting(),
        )
    }

    /// How many scopes are recorded, and whether the set overflowed.
    #[cfg(test)]
    pub(crate) fn len_and_overflow(&self) -> (usize, bool) {
        let seen = self.read();
        (seen.scopes.len(), seen.overflowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn scope(i: usize) -> Scope {
        Scope::from_parts([i.to_be_bytes().as_slice()])
    }

    #[test]
    fn records_each_scope_once() {
        let s = SeenScopes::new();
        let runs = AtomicUsize::new(0);
        for _ in 0..3 {
            s.with_recorded(&scope(1), || runs.fetch_add(1, Ordering::SeqCst));
            s.with_recorded(&scope(2), || runs.fetch_add(1, Ordering::SeqCst));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 6);
        assert_eq!(s.len_and_overflow(), (2, false));
        let mut visited = 0;
        let n = s.invalidate(
            |_| {
                visited += 1;
                1
            },
            || 100,
        );
        assert_eq!((n, visited), (2, 2));
        s.clear_with(|| {});
        assert_eq!(s.len_and_overflow(), (0, false));
    }

    #[test]
    fn overflow_falls_back_to_everything_then_starts_over() {
        let s = SeenScopes::new();
        for i in 0..=SCOPE_LIMIT {
            s.with_recorded(&scope(i), || ());
        }
        assert_eq!(s.len_and_overflow(), (SCOPE_LIMIT, true));
        assert_eq!(s.invalidate(|_| 1, || 42), 42);
        assert_eq!(s.len_and_overflow(), (0, false));
    }
}
