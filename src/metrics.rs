//! `metrics()` (API.md §8): the Prometheus text exposition of the core's counters, and the verification-outcome
//! counts taken where native outcomes are converted for JS (one call per authentication, no JS work).

use clerk_native_core::auth::{AuthDecision, AuthOutcome};
use clerk_native_core::cache::{render_metrics, CacheStats};
use clerk_native_core::jwks::JwksClient;
use clerk_native_core::metrics::{self, Exposition, VERIFICATIONS};
use napi_derive::napi;

/// Counts an `authenticateRequest` outcome (result and Clerk's reason).
pub(crate) fn count_outcome(outcome: &AuthOutcome) {
    match outcome {
        AuthOutcome::SignedIn { token_type, .. } => {
            VERIFICATIONS.inc("signed_in", token_type.as_str())
        }
        AuthOutcome::SignedOut { reason, .. } => VERIFICATIONS.inc("signed_out", reason),
    }
}

/// Counts the outcome of `Authenticator::start_with` when it is final, and hands the result on.
pub(crate) fn started<P>(r: Result<AuthDecision, P>) -> Result<AuthDecision, P> {
    if let Ok(d) = &r {
        count_outcome(&d.outcome);
    }
    r
}

/// Counts an `authenticateRequest` decision and hands it on.
pub(crate) fn counted(d: AuthDecision) -> AuthDecision {
    count_outcome(&d.outcome);
    d
}

/// Counts a `verifyToken` result (`verified`, or `failed` with the reason).
pub(crate) fn count_verify<T>(r: &Result<T, clerk_native_core::token::TokenVerificationError>) {
    match r {
        Ok(_) => VERIFICATIONS.inc("verified", "session_token"),
        Err(e) => VERIFICATIONS.inc("failed", e.reason.as_str()),
    }
}

/// The Prometheus text exposition (format 0.0.4, `text/plain; version=0.0.4`) of every `clerk_native_*`
/// family: proxy requests by outcome and status and upstream latency, verification outcomes by reason, cache
/// hits/misses/inserts/evictions/size per cache and tier, JWKS fetches and failures, Backend API calls and
/// latency, and the shared tier's health. Join it to another registry's text with a newline.
#[napi(catch_unwind)]
pub fn metrics() -> String {
    let mut e = Exposition::new();
    metrics::render(&mut e);
    let j = JwksClient::global().stats();
    let jwks = CacheStats {
        size: j.scopes as u64,
        capacity: j.capacity as u64,
        ttl_ms: j.ttl_ms as i64,
        hits: j.hits,
        misses: j.misses,
        inserts: j.inserts,
        evictions: j.evictions,
        expirations: 0,
    };
    render_metrics(&mut e, &[("jwks", jwks)]);
    for (name, help, v) in [
        (
            "clerk_native_jwks_fetches_total",
            "JWKS fetch attempts.",
            j.fetches,
        ),
        (
            "clerk_native_jwks_failures_total",
            "JWKS fetches that failed.",
            j.failures,
        ),
    ] {
        e.family(name, "counter", help);
        e.sample(name, &[], v as f64);
    }
    e.finish()
}
