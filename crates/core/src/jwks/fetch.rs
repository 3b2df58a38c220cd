//! One JWKS fetch: bounded attempts with exponential backoff and jitter, a timeout per attempt, Clerk's error
//! mapping (SPEC 3.3), and parsing of the keys.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use super::source::JwksSource;
use super::{JwksConfig, SUPPORTED_BAPI_VERSION, USER_AGENT};
use crate::token::error::{action, Reason, TokenVerificationError};
use crate::token::keys::{jwk_entry, KeyHandle};

/// An HTTP client for JWKS and Backend API calls: no system proxy (Node's fetch ignores it too), rustls with ring,
/// and the given redirect policy: at most 3 for JWKS fetches (reqwest drops `Authorization` when a redirect
/// leaves the origin), none for machine-token verification ([`build_machine_http_client`]).
pub(crate) fn build_http_client(
    config: &JwksConfig,
    redirects: reqwest::redirect::Policy,
) -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(redirects)
        .connect_timeout(Duration::from_millis(config.fetch_timeout_ms.max(1)))
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| format!("HTTP client unavailable: {e}"))
}

/// The HTTP client for JWKS fetches: at most 3 redirects (SECURITY.md H25).
pub(crate) fn build_jwks_http_client(config: &JwksConfig) -> Result<reqwest::Client, String> {
    build_http_client(config, reqwest::redirect::Policy::limited(3))
}

/// The HTTP client for machine-token verification (`POST {apiUrl}/.../verify` with the secret key and the token
/// in the body): redirects are never followed. A 3xx answer is the verdict (`unexpected-error` with its status):
/// following it would trust another host's 200, and a 307/308 would re-send the token there.
pub(crate) fn build_machine_http_client(config: &JwksConfig) -> Result<reqwest::Client, String> {
    build_http_client(config, reqwest::redirect::Policy::none())
}

/// Why reading a response failed.
#[derive(Debug)]
pub(crate) enum BodyError {
    TooLarge,
    Transport(String),
}

/// Read a response body, refusing more than `max` bytes.
pub(crate) async fn read_body_capped(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(BodyError::Transport(describe_reqwest_error(&e))),
        }
    }
}

/// A short, secret-free description of a transport error.
pub(crate) fn describe_reqwest_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "response body failed"
    } else if e.is_redirect() {
        "too many redirects"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({detail})")
    }
}

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

fn load_error(message: String) -> TokenVerificationError {
    TokenVerificationError::with_action(
        Reason::JwkRemoteFailedToLoad,
        message,
        action::CONTACT_SUPPORT,
    )
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
            describe_reqwest_error(&e)
        )))
    })?;
    let status = response.status();
    let body = read_body_capped(response, config.max_response_bytes)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => AttemptError::Final(load_error(format!(
                "Error loading Clerk JWKS from {url}: the response is larger than {} bytes",
                config.max_response_bytes
            ))),
            BodyError::Transport(d) => AttemptError::Retry(load_error(format!(
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
