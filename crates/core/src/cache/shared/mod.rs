//! The shared tier (API.md §8, issue 15): the negative and identity caches on Redis under the local caches, and
//! invalidation across every process of a fleet.
//!
//! - Local stays the first level. On a local miss the tier is asked within `lookupTimeoutMs` (default 5 ms);
//!   over budget, on any error, or while the [`breaker`] is open, the request goes on with local state. A shared
//!   hit is copied into the local cache for the entry's remaining TTL.
//! - Negative cache: each `oat_` 404 is written with the local TTL; a local miss asks Redis before the Backend
//!   API is called (`NegativeCache::shared_hit`).
//! - Identity cache: resolved users under a hash of (verified `iss`, org, user), so one Clerk instance never
//!   answers for another; `resolveUser` of one identity runs once across the fleet behind a lock with a lease
//!   ([`SharedTier::identity_acquire`]).
//! - `invalidateToken`, `invalidateIdentity`, `clearCaches` are applied locally, removed from Redis, and
//!   published on `<prefix>invalidate` ([`subscriber`]).
//! - Nothing raw is written ([`keys`]): token keys are the local SHA-256 keys, identities and messages hashes.
//! - The verified-token cache stays local: verifying a cached key is a few µs, less than a Redis round trip.

pub mod breaker;
pub mod config;
pub mod keys;
mod subscriber;
pub mod tier;

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use serde::Serialize;

use super::error::CacheError;
use super::registry::{caches, CacheName};
use super::token_key::TokenDigest;
use super::verified::canonical_token;
pub use config::SharedSettings;
use keys::{org_hash, user_hash, Message};
pub use tier::{Acquired, SharedTier};

static TIER: RwLock<Option<Arc<SharedTier>>> = RwLock::new(None);
static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
static CLEAR_HOOK: OnceLock<fn(Option<CacheName>)> = OnceLock::new();

fn runtime() -> Result<&'static tokio::runtime::Runtime, CacheError> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("clerk-native-shared")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| CacheError::InvalidShared {
            field: "shared".into(),
            message: format!("cannot start the shared tier's runtime: {e}"),
        })
}

/// The process's shared tier, when configured.
pub fn tier() -> Option<Arc<SharedTier>> {
    TIER.read().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Turns the tier on (replacing any previous one) or off (`None`). Settings are checked first.
pub fn configure(settings: Option<&SharedSettings>) -> Result<(), CacheError> {
    let next = match settings {
        None => None,
        Some(s) => {
            let checked = s.check()?;
            let rt = runtime()?;
            Some(SharedTier::start(rt.handle(), checked).map_err(|e| {
                CacheError::InvalidShared {
                    field: "shared.url".into(),
                    message: format!("cannot be used ({:?})", e.kind()),
                }
            })?)
        }
    };
    let old = std::mem::replace(
        &mut *TIER.write().unwrap_or_else(PoisonError::into_inner),
        next,
    );
    drop(old);
    Ok(())
}

/// What the binding runs when a fleet message clears caches this module does not hold (the JWKS cache).
pub fn set_clear_hook(hook: fn(Option<CacheName>)) {
    let _ = CLEAR_HOOK.set(hook);
}

/// `invalidateToken(token)` for the fleet: local (verified + negative), Redis, then every process.
pub fn invalidate_token(token: &str) -> usize {
    let n = caches().invalidate_token(token);
    if let Some(t) = tier() {
        t.invalidate(Message::Token {
            raw: TokenDigest::of(token),
            canonical: TokenDigest::of(canonical_token(token)),
        });
    }
    n
}

/// `invalidateIdentity({ orgId?, userId? })` for the fleet.
pub fn invalidate_identity(org_id: Option<&str>, user_id: Option<&str>) -> usize {
    let n = caches().invalidate_identity(org_id, user_id);
    let org = org_id.filter(|o| !o.is_empty());
    let user = user_id.filter(|u| !u.is_empty());
    if let (Some(t), true) = (tier(), org.is_some() || user.is_some()) {
        t.invalidate(Message::Identity {
            org: org.map(org_hash),
            user: user.map(user_hash),
        });
    }
    n
}

/// `clearCaches(name?)` for the fleet (the caller clears what this module does not hold, e.g. JWKS, locally).
pub fn clear(which: Option<CacheName>) {
    caches().clear(which);
    if let Some(t) = tier() {
        t.invalidate(Message::Clear(which.map(|w| w.as_str().to_owned())));
    }
}

/// Applies a message from another process to the local caches.
fn apply(msg: Message) {
    let c = caches();
    match msg {
        Message::Token { raw, canonical } => {
            c.negative.forget_digest_everywhere(&raw);
            c.verified.invalidate_digest(&canonical);
        }
        Message::Identity { org, user } => {
            c.identity.invalidate_hashed(org.as_ref(), user.as_ref());
        }
        Message::Clear(name) => {
            let which = match name.as_deref().map(CacheName::parse) {
                None => None,
                Some(Ok(w)) => Some(w),
                Some(Err(_)) => return,
            };
            c.clear(which);
            if let Some(hook) = CLEAR_HOOK.get() {
                hook(which);
            }
        }
    }
}

/// The subscription came back after a loss: drop what a missed invalidation could have left stale.
fn apply_missed() {
    let c = caches();
    c.negative.clear();
    c.verified.clear();
    c.identity.clear();
}

/// `cacheStats().shared`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedStats {
    /// The last call reached Redis.
    pub connected: bool,
    /// The invalidation subscription is live.
    pub subscribed: bool,
    /// `closed`, `open` or `half-open`.
    pub breaker: &'static str,
    /// Lookups answered by Redis.
    pub hits: u64,
    /// Lookups Redis did not answer.
    pub misses: u64,
    /// Failed calls (connection, protocol, unexpected reply) and malformed messages.
    pub errors: u64,
    /// Lookups over `lookupTimeoutMs`.
    pub timeouts: u64,
    /// Calls skipped while the breaker was open.
    pub skipped: u64,
    /// Times the breaker opened.
    pub breaker_opens: u64,
    /// Entries written.
    pub writes: u64,
    /// Invalidations sent.
    pub published: u64,
    /// Invalidations received and applied.
    pub received: u64,
    /// `resolveUser` calls that waited for another process.
    pub lock_waits: u64,
    /// The lookup budget in ms.
    pub lookup_timeout_ms: u64,
}

/// The tier's health and counters, `None` when it is off.
pub fn stats() -> Option<SharedStats> {
    let t = tier()?;
    let c = t.counters();
    let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    Some(SharedStats {
        connected: c.connected.load(Ordering::Relaxed),
        subscribed: c.subscribed.load(Ordering::Relaxed),
        breaker: t.breaker.state().as_str(),
        hits: n(&c.hits),
        misses: n(&c.misses),
        errors: n(&c.errors),
        timeouts: n(&c.timeouts),
        skipped: n(&c.skipped),
        breaker_opens: n(&c.breaker_opens),
        writes: n(&c.writes),
        published: n(&c.published),
        received: n(&c.received),
        lock_waits: n(&c.lock_waits),
        lookup_timeout_ms: t.lookup_timeout_ms(),
    })
}
