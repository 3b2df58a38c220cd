//! Remote JWKS: where keys come from ([`JwksSource`]), how they are fetched (bounded retry with backoff and a
//! per-attempt timeout) and cached ([`JwksClient`]: per-scope TTL cache, single-flight, unknown-`kid` cooldown,
//! failures never cached, counters).
//!
//! Scope: one cache entry per (JWKS endpoint, API version, SHA-256 of the secret key), like Clerk's per-instance
//! cache since #9394, so keys of one instance never verify another instance's tokens. The raw secret is held
//! only by the [`JwksSource`] that sends it, never in the cache, in `Debug` output or in error messages.
//!
//! Stale-if-error: when the cache of a scope has expired and the refresh fails, keys it already holds keep
//! verifying tokens with a known `kid` for up to [`JwksConfig::stale_if_error_ms`] past expiry (default 1 hour).
//! Unknown `kid`s still fail, and every such call retries the refresh (failures are never cached).

mod client;
mod fetch;
pub(crate) mod rate_limit;
mod source;

pub use client::{CachedKey, JwksClient, JwksLookup, JwksStats};
pub use source::JwksSource;

/// Default JWKS cache TTL, ms (`jwksCacheTtlMs`): keys are fresh this long after a successful fetch.
pub const DEFAULT_CACHE_TTL_MS: u64 = 300_000;

/// Default minimum gap between refetches caused by unknown `kid`s, ms (`jwksCooldownMs`).
pub const DEFAULT_COOLDOWN_MS: u64 = 30_000;

/// Default Backend API base URL.
pub const DEFAULT_API_URL: &str = "https://api.clerk.com";

/// Default Backend API version path segment.
pub const DEFAULT_API_VERSION: &str = "v1";

/// Transport settings of a [`JwksClient`] (fixed per client; per-call TTL and cooldown are in [`JwksLookup`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksConfig {
    /// Time allowed for one HTTP attempt (connect, headers and body), ms. Default 5000.
    pub fetch_timeout_ms: u64,
    /// Attempts per fetch, including the first. Default 3 (minimum 1).
    pub max_attempts: u32,
    /// Backoff before retry `k` (1-based) is `backoff_base_ms · 2^(k-1)` times a jitter in [1, 1.5). Default 100.
    pub backoff_base_ms: u64,
    /// How long past expiry cached keys may still serve known `kid`s while refreshes fail, ms. Default 3600000;
    /// 0 disables stale serving.
    pub stale_if_error_ms: u64,
    /// Maximum number of scopes (instances) cached; the least recently used is evicted. Default 256.
    pub max_scopes: usize,
    /// Largest JWKS (or Backend API) response body accepted, bytes. Default 1 MiB.
    pub max_response_bytes: usize,
}

impl Default for JwksConfig {
    fn default() -> Self {
        Self {
            fetch_timeout_ms: 5_000,
            max_attempts: 3,
            backoff_base_ms: 100,
            stale_if_error_ms: 3_600_000,
            max_scopes: 256,
            max_response_bytes: 1024 * 1024,
        }
    }
}

/// Clerk's `jwk-remote-failed-to-load` error with `message` (action ContactSupport): a JWKS that could not be
/// located, fetched or parsed.
pub(crate) fn load_error(message: String) -> crate::jwt::TokenVerificationError {
    use crate::jwt::error::{action, Reason, TokenVerificationError};
    TokenVerificationError::with_action(
        Reason::JwkRemoteFailedToLoad,
        message,
        action::CONTACT_SUPPORT,
    )
}
