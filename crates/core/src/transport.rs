//! HTTP transport shared by every outgoing call of the core: the one place that builds `reqwest` clients
//! (redirect policy, timeouts, TLS), reads capped bodies, and describes transport errors without secrets.
//!
//! Three clients, one builder ([`builder`]): no system proxy (Node's fetch ignores it too), rustls with ring,
//! `TCP_NODELAY`, a 60 s idle pool. They differ only in the redirect policy and the connect timeout:
//! - [`jwks_client`]: at most 3 redirects (SECURITY.md H25; reqwest drops `Authorization` when a redirect leaves
//!   the origin);
//! - [`api_client`]: machine-token verification, never follows a redirect (SECURITY.md H45: a 3xx answer is the
//!   verdict; following it would trust another host's 200, and a 307/308 would re-send the token there);
//! - [`proxy_client`]: the Frontend API proxy, never follows a redirect (the browser must see the 3xx), up to 256
//!   idle connections per host.
//!
//! A builder failure is an error ([`ClientError`]), never a silent fallback to `reqwest::Client::new()` (which
//! follows redirects and uses the system proxy).

use std::time::Duration;

/// `Clerk-API-Version` sent to the Backend API (Clerk's `SUPPORTED_BAPI_VERSION` at the pinned commit).
pub const SUPPORTED_BAPI_VERSION: &str = "2026-05-12";

/// `User-Agent` sent on Backend API and JWKS requests: `clerk-native/<version>`.
pub const USER_AGENT: &str = concat!("clerk-native/", env!("CARGO_PKG_VERSION"));

/// Connect timeout of the proxy client.
const PROXY_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle keep-alive connections the proxy client keeps per upstream host.
const PROXY_MAX_IDLE_PER_HOST: usize = 256;

/// An HTTP client could not be built (for example no TLS backend). Shown as `HTTP client unavailable: …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP client unavailable: {0}")]
pub struct ClientError(String);

/// The builder every client of the core starts from: no system proxy, rustls (ring), `TCP_NODELAY`, a 60 s idle
/// pool, the given redirect policy and connect timeout.
pub fn builder(
    redirects: reqwest::redirect::Policy,
    connect_timeout: Duration,
) -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(redirects)
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(60))
}

fn build(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, ClientError> {
    builder.build().map_err(|e| ClientError(e.to_string()))
}

/// The JWKS client: at most 3 redirects, connect timeout `connect_timeout_ms` (at least 1 ms).
pub fn jwks_client(connect_timeout_ms: u64) -> Result<reqwest::Client, ClientError> {
    build(builder(
        reqwest::redirect::Policy::limited(3),
        Duration::from_millis(connect_timeout_ms.max(1)),
    ))
}

/// The Backend API client for machine-token verification: never follows a redirect.
pub fn api_client(connect_timeout_ms: u64) -> Result<reqwest::Client, ClientError> {
    build(builder(
        reqwest::redirect::Policy::none(),
        Duration::from_millis(connect_timeout_ms.max(1)),
    ))
}

/// The Frontend API proxy client: never follows a redirect, 10 s connect timeout, 256 idle connections per host.
/// Callers own the instance (the proxy keeps one per process; tests one per runtime).
pub fn proxy_client() -> Result<reqwest::Client, ClientError> {
    build(
        builder(reqwest::redirect::Policy::none(), PROXY_CONNECT_TIMEOUT)
            .pool_max_idle_per_host(PROXY_MAX_IDLE_PER_HOST),
    )
}

/// Why reading a response body failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// More than the cap.
    TooLarge,
    /// The transport failed ([`describe`]).
    Transport(String),
}

/// Read a response body, refusing more than `max` bytes.
pub(crate) async fn read_body_capped(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(ReadError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(ReadError::Transport(describe(&e))),
        }
    }
}

/// Read a response body of at most `max` bytes; the error is a short, secret-free description.
pub(crate) async fn read_capped(
    response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, String> {
    read_body_capped(response, max).await.map_err(|e| match e {
        ReadError::TooLarge => format!("the response is larger than {max} bytes"),
        ReadError::Transport(d) => d,
    })
}

/// A short, secret-free description of a transport error: the kind, then the innermost cause.
pub(crate) fn describe(e: &reqwest::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_builds() {
        assert!(jwks_client(5_000).is_ok());
        assert!(api_client(0).is_ok());
        assert!(proxy_client().is_ok());
    }

    #[test]
    fn client_error_names_the_cause() {
        assert_eq!(
            ClientError("no TLS".into()).to_string(),
            "HTTP client unavailable: no TLS"
        );
    }
}
