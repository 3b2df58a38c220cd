//! The JWKS cache and client: per-scope key sets with a TTL, single-flight fetches, an unknown-`kid` cooldown,
//! stale-if-error, and counters.
//!
//! Single-flight: each scope has an async fetch lock. A caller that needs a fetch notes the scope's fetch
//! generation, takes the lock, and fetches only if no fetch completed meanwhile; otherwise it uses the outcome of
//! the fetch that did (keys or error). So N concurrent misses on a cold scope cause exactly one fetch, and a
//! failed fetch answers the callers that waited for it but is not cached: the next caller fetches again. If the
//! fetching task is cancelled, the next waiter fetches instead.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::fetch::fetch_jwks;
use super::source::JwksSource;
use super::{JwksConfig, DEFAULT_CACHE_TTL_MS};
use crate::clock::{Clock, SystemClock};
use crate::codec::jsfmt::capped;
use crate::jwks::rate_limit::RateLimits;
use crate::jwt::error::{action, Reason, TokenVerificationError};
use crate::jwt::keys::KeyHandle;
use crate::transport;

/// Per-call cache policy (from the verify options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksLookup {
    /// Keys are fresh for this long after a successful fetch, ms (`jwksCacheTtlMs`, default [`DEFAULT_CACHE_TTL_MS`](super::DEFAULT_CACHE_TTL_MS)).
    pub ttl_ms: u64,
    /// Minimum gap between refetches caused by an unknown `kid`, ms (`jwksCooldownMs`, default [`DEFAULT_COOLDOWN_MS`](super::DEFAULT_COOLDOWN_MS)). A refetch
    /// because the cache expired is not limited by it.
    pub cooldown_ms: u64,
    /// Always refetch (`skipJwksCache`); the result is still cached.
    pub skip_cache: bool,
}

/// Answer of the synchronous cache probe [`JwksClient::cached_key`].
#[derive(Debug, Clone)]
pub enum CachedKey {
    /// The key is cached and fresh.
    Hit(KeyHandle),
    /// Answered without a fetch: an unknown `kid` within the cooldown (`jwk-kid-mismatch`).
    Rejected(TokenVerificationError),
    /// A fetch is needed: call [`JwksClient::get_key`].
    NeedsFetch,
}

/// Counters and sizes of a [`JwksClient`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JwksStats {
    /// Scopes (instances) cached.
    pub scopes: usize,
    /// Keys cached across scopes.
    pub keys: usize,
    /// Maximum number of scopes.
    pub capacity: usize,
    /// The effective cache TTL, ms: the `jwksCacheTtlMs` of the most recent lookup (the TTL is per call; an
    /// app with one set of options sees its configured value), [`DEFAULT_CACHE_TTL_MS`] before any lookup.
    pub ttl_ms: u64,
    /// Lookups answered from a fresh cache.
    pub hits: u64,
    /// Lookups that needed a fetch or were rejected by the cooldown.
    pub misses: u64,
    /// Keys written into the cache.
    pub inserts: u64,
    /// Scopes dropped (expired, or least recently used at capacity).
    pub evictions: u64,
    /// HTTP requests sent (each retry counts).
    pub fetches: u64,
    /// Fetches that failed after all attempts.
    pub failures: u64,
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    inserts: AtomicU64,
    evictions: AtomicU64,
    fetches: AtomicU64,
    failures: AtomicU64,
}

#[derive(Debug, Default)]
struct ScopeState {
    keys: HashMap<String, KeyHandle>,
    /// Time of the last successful fetch.
    loaded_at: Option<i64>,
    /// TTL of the most recent lookup (for pruning and stale serving).
    ttl_ms: u64,
    /// Time the most recent fetch started (the cooldown clock).
    last_attempt_at: Option<i64>,
    /// Completed fetches (success or failure): the single-flight generation.
    completed_fetches: u64,
    /// Error of the most recent completed fetch; `None` if it succeeded.
    last_failure: Option<TokenVerificationError>,
    last_used_at: i64,
}

#[derive(Debug, Default)]
struct ScopeEntry {
    state: Mutex<ScopeState>,
    fetch_lock: tokio::sync::Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

enum Decision {
    Hit(KeyHandle),
    Reject(TokenVerificationError),
    Fetch { generation: u64, merge: bool },
}

/// Clerk's `jwk-kid-mismatch` error (since #9394 the available kids are not listed). A `kid` longer than
/// [`ECHO_MAX_CHARS`](crate::codec::jsfmt::ECHO_MAX_CHARS) characters is cut ([`capped`]).
pub fn kid_mismatch(kid: &str) -> TokenVerificationError {
    let kid = capped(kid.to_owned());
    TokenVerificationError::with_action(
        Reason::JwkKidMismatch,
        format!(
            "Unable to find a signing key in JWKS that matches the kid='{kid}' of the provided session token. \
             Please make sure that the __session cookie or the HTTP authorization header contain a Clerk-generated \
             session JWT."
        ),
        action::KID_MISMATCH,
    )
}

/// A JWKS cache plus the HTTP client that fills it, and the Backend API client for machine-token calls (which
/// follows no redirect) with its rate-limit state.
#[derive(Debug)]
pub struct JwksClient {
    config: JwksConfig,
    clock: Arc<dyn Clock>,
    http: Result<reqwest::Client, String>,
    machine_http: Result<reqwest::Client, String>,
    rate_limits: RateLimits,
    scopes: Mutex<HashMap<[u8; 32], Arc<ScopeEntry>>>,
    counters: Counters,
    /// The TTL of the most recent lookup ([`JwksStats::ttl_ms`]).
    last_ttl_ms: AtomicU64,
}

impl JwksClient {
    /// A client on the system clock.
    pub fn new(config: JwksConfig) -> Self {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A client on the given clock (TTL, cooldown and stale checks use it; backoff sleeps are real time).
    pub fn with_clock(config: JwksConfig, clock: Arc<dyn Clock>) -> Self {
        let http = transport::jwks_client(config.fetch_timeout_ms).map_err(|e| e.to_string());
        let machine_http =
            transport::api_client(config.fetch_timeout_ms).map_err(|e| e.to_string());
        Self {
            config,
            clock,
            http,
            machine_http,
            rate_limits: RateLimits::default(),
            scopes: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            last_ttl_ms: AtomicU64::new(DEFAULT_CACHE_TTL_MS),
        }
    }

    /// The process-wide client (default config, system clock).
    pub fn global() -> Arc<JwksClient> {
        static GLOBAL: OnceLock<Arc<JwksClient>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| Arc::new(JwksClient::new(JwksConfig::default())))
            .clone()
    }

    /// The transport settings.
    pub fn config(&self) -> &JwksConfig {
        &self.config
    }

    /// The clock this client reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The client for machine-token verification calls: follows no redirect.
    pub(crate) fn machine_http(&self) -> Result<&reqwest::Client, &str> {
        self.machine_http.as_ref().map_err(String::as_str)
    }

    /// The Backend API rate limits noted by machine-token verification (per apiUrl + secret key).
    pub fn rate_limits(&self) -> &RateLimits {
        &self.rate_limits
    }

    /// Synchronous probe: answers from the cache when it can (a fresh key, or a `kid` miss within the cooldown),
    /// never touching the network. `NeedsFetch` means: call [`JwksClient::get_key`].
    pub fn cached_key(&self, source: &JwksSource, kid: &str, lookup: &JwksLookup) -> CachedKey {
        let now = self.clock.now_ms();
        self.note_ttl(lookup.ttl_ms);
        let Some(scope) = lock(&self.scopes).get(&source.scope_id()).cloned() else {
            return CachedKey::NeedsFetch;
        };
        let decision = Self::decide(&mut lock(&scope.state), kid, lookup, now);
        match decision {
            Decision::Hit(k) => {
                self.counters.hits.fetch_add(1, Ordering::Relaxed);
                CachedKey::Hit(k)
            }
            Decision::Reject(e) => {
                self.counters.misses.fetch_add(1, Ordering::Relaxed);
                CachedKey::Rejected(e)
            }
            Decision::Fetch { .. } => CachedKey::NeedsFetch,
        }
    }

    /// The key for `kid`: from the cache when fresh, otherwise after a (single-flight) fetch. Errors are Clerk's:
    /// `jwk-remote-failed-to-load`, `secret-key-invalid`, `jwk-kid-mismatch`.
    pub async fn get_key(
        &self,
        source: &JwksSource,
        kid: &str,
        lookup: &JwksLookup,
    ) -> Result<KeyHandle, TokenVerificationError> {
        let now = self.clock.now_ms();
        let scope = self.scope_for(source, now);
        self.note_ttl(lookup.ttl_ms);
        let decision = Self::decide(&mut lock(&scope.state), kid, lookup, now);
        let (generation, merge) = match decision {
            Decision::Hit(k) => {
                self.counters.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(k);
            }
            Decision::Reject(e) => {
                self.counters.misses.fetch_add(1, Ordering::Relaxed);
                return Err(e);
            }
            Decision::Fetch { generation, merge } => {
                self.counters.misses.fetch_add(1, Ordering::Relaxed);
                (generation, merge)
            }
        };

        let _flight = scope.fetch_lock.lock().await;
        {
            let mut st = lock(&scope.state);
            if st.completed_fetches > generation {
                // Another caller fetched while we waited: share its outcome.
                return self.answer(&st, kid, self.clock.now_ms());
            }
            st.last_attempt_at = Some(self.clock.now_ms());
        }

        let result = match &self.http {
            Ok(http) => {
                let count = || {
                    self.counters.fetches.fetch_add(1, Ordering::Relaxed);
                };
                fetch_jwks(http, source, &self.config, &count).await
            }
            Err(msg) => Err(TokenVerificationError::with_action(
                Reason::JwkRemoteFailedToLoad,
                format!(
                    "Error loading Clerk JWKS from {}: {msg}",
                    source.display_url()
                ),
                action::CONTACT_SUPPORT,
            )),
        };

        let now = self.clock.now_ms();
        let mut st = lock(&scope.state);
        st.completed_fetches += 1;
        match result {
            Ok(keys) => {
                if !merge {
                    st.keys.clear();
                }
                self.counters
                    .inserts
                    .fetch_add(keys.len() as u64, Ordering::Relaxed);
                st.keys.extend(keys);
                st.loaded_at = Some(now);
                st.last_failure = None;
            }
            Err(e) => {
                self.counters.failures.fetch_add(1, Ordering::Relaxed);
                st.last_failure = Some(e);
            }
        }
        self.answer(&st, kid, now)
    }

    /// Counters and sizes.
    pub fn stats(&self) -> JwksStats {
        let scopes: Vec<Arc<ScopeEntry>> = lock(&self.scopes).values().cloned().collect();
        let keys = scopes.iter().map(|s| lock(&s.state).keys.len()).sum();
        JwksStats {
            scopes: scopes.len(),
            keys,
            capacity: self.config.max_scopes,
            ttl_ms: self.last_ttl_ms.load(Ordering::Relaxed),
            hits: self.counters.hits.load(Ordering::Relaxed),
            misses: self.counters.misses.load(Ordering::Relaxed),
            inserts: self.counters.inserts.load(Ordering::Relaxed),
            evictions: self.counters.evictions.load(Ordering::Relaxed),
            fetches: self.counters.fetches.load(Ordering::Relaxed),
            failures: self.counters.failures.load(Ordering::Relaxed),
        }
    }

    /// Drop every cached scope (counters are kept).
    pub fn clear(&self) {
        lock(&self.scopes).clear();
    }

    /// Remember the TTL of a lookup for [`JwksStats::ttl_ms`] (written only when it changes, so the hot path
    /// reads a shared cache line instead of writing it).
    fn note_ttl(&self, ttl_ms: u64) {
        if self.last_ttl_ms.load(Ordering::Relaxed) != ttl_ms {
            self.last_ttl_ms.store(ttl_ms, Ordering::Relaxed);
        }
    }

    fn decide(st: &mut ScopeState, kid: &str, lookup: &JwksLookup, now: i64) -> Decision {
        st.last_used_at = now;
        st.ttl_ms = lookup.ttl_ms;
        let ttl = i64::try_from(lookup.ttl_ms).unwrap_or(i64::MAX);
        let fresh = st.loaded_at.is_some_and(|t| now.saturating_sub(t) < ttl);
        if fresh && !lookup.skip_cache {
            if let Some(k) = st.keys.get(kid) {
                return Decision::Hit(k.clone());
            }
            let cooldown = i64::try_from(lookup.cooldown_ms).unwrap_or(i64::MAX);
            if st
                .last_attempt_at
                .is_some_and(|t| now.saturating_sub(t) < cooldown)
            {
                return Decision::Reject(kid_mismatch(kid));
            }
        }
        Decision::Fetch {
            generation: st.completed_fetches,
            merge: fresh,
        }
    }

    /// The outcome for `kid` after a completed fetch: the key, or stale keys while the refresh failed, or the
    /// fetch error, or `jwk-kid-mismatch`.
    fn answer(
        &self,
        st: &ScopeState,
        kid: &str,
        now: i64,
    ) -> Result<KeyHandle, TokenVerificationError> {
        match &st.last_failure {
            None => st.keys.get(kid).cloned().ok_or_else(|| kid_mismatch(kid)),
            Some(err) => {
                if let (Some(key), Some(loaded)) = (st.keys.get(kid), st.loaded_at) {
                    let limit = st.ttl_ms.saturating_add(self.config.stale_if_error_ms);
                    if self.config.stale_if_error_ms > 0
                        && now.saturating_sub(loaded) < i64::try_from(limit).unwrap_or(i64::MAX)
                    {
                        return Ok(key.clone());
                    }
                }
                Err(err.clone())
            }
        }
    }

    fn scope_for(&self, source: &JwksSource, now: i64) -> Arc<ScopeEntry> {
        let id = source.scope_id();
        let mut scopes = lock(&self.scopes);
        if let Some(s) = scopes.get(&id) {
            return s.clone();
        }
        // Creating a scope first drops expired ones (as Clerk does), then the least recently used at capacity.
        let stale_ms = self.config.stale_if_error_ms;
        let before = scopes.len();
        scopes.retain(|_, s| {
            if Arc::strong_count(s) > 1 {
                return true; // in use by a lookup or fetch
            }
            let st = lock(&s.state);
            match st.loaded_at {
                None => false,
                Some(t) => {
                    let limit = st.ttl_ms.saturating_add(stale_ms);
                    now.saturating_sub(t) < i64::try_from(limit).unwrap_or(i64::MAX)
                }
            }
        });
        let mut evicted = before - scopes.len();
        while scopes.len() >= self.config.max_scopes.max(1) {
            let oldest = scopes
                .iter()
                .min_by_key(|(_, s)| lock(&s.state).last_used_at)
                .map(|(k, _)| *k);
            match oldest {
                Some(k) => {
                    scopes.remove(&k);
                    evicted += 1;
                }
                None => break,
            }
        }
        self.counters
            .evictions
            .fetch_add(evicted as u64, Ordering::Relaxed);
        let scope = Arc::new(ScopeEntry::default());
        scopes.insert(id, scope.clone());
        scope
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_report_the_effective_ttl() {
        let client = JwksClient::new(JwksConfig::default());
        assert_eq!(client.stats().ttl_ms, DEFAULT_CACHE_TTL_MS);
        let source = JwksSource::url("https://jwks.example/jwks.json").expect("url");
        let lookup = JwksLookup {
            ttl_ms: 1_234,
            cooldown_ms: 0,
            skip_cache: false,
        };
        assert!(matches!(
            client.cached_key(&source, "kid", &lookup),
            CachedKey::NeedsFetch
        ));
        assert_eq!(client.stats().ttl_ms, 1_234);
    }
}
