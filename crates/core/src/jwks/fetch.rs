//! One JWKS fetch: bounded attempts with exponential backoff and jitter, a timeout per attempt, Clerk's error
//! mapping (SPEC 3.3), and parsing of the keys.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use super::source::JwksSource;
use super::{load_error, JwksConfig};
use crate::jwt::error::{action, Reason, TokenVerificationError};
use crate::jwt::keys::{jwk_entry, KeyHandle};
use crate::transport::{describe, read_body_capped, ReadError, SUPPORTED_BAPI_VERSION, USER_AGENT};

/// Pseudo-random jitter in [1, 1.5) for backoff (xorshift; no need for cryptographic randomness).
fn jitter() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    1.0 + (x >> 11) as f64 / (1u64 << 53) as f64 * 0.5
}

/// Outcome of one attempt: a retryable failure or a final one.
enum AttemptError {
    Retry(TokenVerificationError),
    Final(TokenVerificationError),
}

/// Fetch and parse a JWKS: up to `max_attempts` attempts. Network errors, timeouts, 5xx/429 answers and
/// unparsable bodies are retried; other 4xx answers, `clerk_key_invalid` and an empty key set are not.
/// `on_attempt` is called before each HTTP request (for the `fetches` counter).
pub(crate) async fn fetch_jwks(
    http: &reqwest::Client,
    source: &JwksSource,
    config: &JwksConfig,
    on_attempt: &(dyn Fn() + Sync),
) -> Result<Vec<(String, KeyHandle)>, TokenVerificationError> {
    let attempts = config.max_attempts.max(1);
    let mut last = load_error(format!(
        "Error loading Clerk JWKS from {}",
        source.display_url()
    ));
    for attempt in 0..attempts {
        if attempt > 0 {
            let base = config
                .backoff_base_ms
                .saturating_mul(1 << (attempt - 1).min(16));
            let delay = (base as f64 * jitter()) as u64;
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        on_attempt();
        let timeout = Duration::from_millis(config.fetch_timeout_ms.max(1));
        let outcome = match tokio::time::timeout(timeout, attempt_once(http, source, config)).await
        {
            Ok(r) => r,
            Err(_) => Err(AttemptError::Retry(load_error(format!(
                "Error loading Clerk JWKS from {}: timed out after {} ms",
                source.display_url(),
                config.fetch_timeout_ms
            )))),
        };
        match outcome {
            Ok(keys) => return Ok(keys),
            Err(AttemptError::Final(e)) => return Err(e),
            Err(AttemptError::Retry(e)) => last = e,
        }
    }
    Err(last)
}

async fn attempt_once(
    http: &reqwest::Client,
    source: &JwksSource,
    config: &JwksConfig,
) -> Result<Vec<(String, KeyHandle)>, AttemptError> {
    let url = source.display_url();
    let mut req = http
        .get(source.endpoint())
        .header("Clerk-API-Version", SUPPORTED_BAPI_VERSION)
        .header("Content-Type", "application/json")
        .header("User-Agent", USER_AGENT);
    if let Some(secret) = source.bearer() {
        let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {secret}")).map_err(|_| {
            AttemptError::Final(load_error(format!(
                "Error loading Clerk JWKS from {url}: the secret key contains characters that are not valid in a header"
            )))
        })?;
        req = req.header(reqwest::header::AUTHORIZATION, value);
    }
    let response = req.send().await.map_err(|e| {
        AttemptError::Retry(load_error(format!(
            "Error loading Clerk JWKS from {url}: {}",
            describe(&e)
        )))
    })?;
    let status = response.status();
    let body = read_body_capped(response, config.max_response_bytes)
        .await
        .map_err(|e| match e {
            ReadError::TooLarge => AttemptError::Final(load_error(format!(
                "Error loading Clerk JWKS from {url}: the response is larger than {} bytes",
                config.max_response_bytes
            ))),
            ReadError::Transport(d) => AttemptError::Retry(load_error(format!(
                "Error loading Clerk JWKS from {url}: {d}"
            ))),
        })?;
    let json: Option<Value> = serde_json::from_slice(&body).ok();

    if !status.is_success() {
        let invalid_key = json
            .as_ref()
            .and_then(|j| j.get("errors"))
            .and_then(Value::as_array)
            .and_then(|errs| {
                errs.iter()
                    .find(|e| e.get("code").and_then(Value::as_str) == Some("clerk_key_invalid"))
            });
        if let Some(err) = invalid_key {
            let message = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("Invalid secret key")
                .to_owned();
            return Err(AttemptError::Final(TokenVerificationError::with_action(
                Reason::SecretKeyInvalid,
                message,
                action::CONTACT_SUPPORT,
            )));
        }
        let e = load_error(format!(
            "Error loading Clerk JWKS from {url} with code={}",
            status.as_u16()
        ));
        return Err(
            if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
                AttemptError::Retry(e)
            } else {
                AttemptError::Final(e)
            },
        );
    }

    let Some(json) = json else {
        return Err(AttemptError::Retry(load_error(format!(
            "Error loading Clerk JWKS from {url}: the response is not valid JSON"
        ))));
    };
    let keys = json.get("keys").and_then(Value::as_array);
    let keys: Vec<(String, KeyHandle)> = keys
        .map(|k| k.iter().filter(|j| j.is_object()).map(jwk_entry).collect())
        .unwrap_or_default();
    if keys.is_empty() {
        return Err(AttemptError::Final(load_error(
            "The JWKS endpoint did not contain any signing keys. Contact support@clerk.com."
                .to_owned(),
        )));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((1.0..1.5).contains(&j), "{j}");
        }
    }
}
