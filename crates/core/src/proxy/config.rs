//! Resolved proxy configuration and per-request preparation (SPEC 1.2, 1.7, 1.8).
//!
//! A [`ProxyConfig`] is built once per option set and never fails: configuration problems are kept and
//! reported per request, in Clerk's order (publishable key, secret key, path, FAPI URL), as JSON error
//! responses rather than exceptions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method};
use url::Url;

use super::error::ProxyError;
use super::fapi_url::{normalize_fapi_url, FapiBase};
use super::headers::{build_upstream_request_headers, is_valid_host_name, RequestContext};
use super::path::{matches_proxy_path, normalize_proxy_path, target_path};
use super::publishable_key::fapi_url_from_publishable_key;

/// Default time allowed for the upstream to send response headers.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// Default time a body may go without moving a byte before both sides are aborted.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 30_000;
/// Default bound on concurrent upstream exchanges (each holds at most one upstream connection) per proxy.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Upper bound on the summed size of the request headers we accept from the caller.
pub const MAX_REQUEST_HEADER_BYTES: usize = 64 * 1024;

/// Options as given by the caller, after the JS layer has applied environment fallbacks.
/// Empty strings count as unset (Clerk uses `||`).
#[derive(Debug, Clone, Default)]
pub struct ProxyOptions {
    /// Mount path; `None`, `""` or `"/"` mean `/__clerk`.
    pub proxy_path: Option<String>,
    /// Only its presence is checked; it selects the FAPI host when `fapi_url` is unset.
    pub publishable_key: Option<String>,
    /// Sent upstream as `Clerk-Secret-Key`.
    pub secret_key: Option<String>,
    /// Explicit FAPI base URL (option or `CLERK_FAPI_URL`).
    pub fapi_url: Option<String>,
    /// Response-header timeout in ms; 0 disables it. Default 30000.
    pub timeout_ms: Option<u64>,
    /// Body idle timeout in ms; 0 disables it. Default 30000.
    pub idle_timeout_ms: Option<u64>,
    /// Trust client-sent X-Forwarded-* / CF-Connecting-IP / X-Real-IP (Clerk's behaviour). Default true.
    pub trust_forwarded_headers: Option<bool>,
    /// Concurrent upstream exchanges allowed; more get 503 `proxy_too_many_requests`. `None` or 0 mean
    /// [`DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: Option<usize>,
}

/// Which option a [`ProxyConfig::configuration_problem`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigOption {
    /// `publishableKey` is missing.
    PublishableKeyMissing,
    /// `secretKey` is missing.
    SecretKeyMissing,
    /// `secretKey` has characters not allowed in a header value (CR, LF, NUL, other controls).
    SecretKeyInvalid,
    /// `fapiUrl` (or the URL derived from the publishable key) is not a usable FAPI base.
    FapiUrl,
}

impl ConfigOption {
    /// The option's name as the caller spells it: `publishableKey`, `secretKey` or `fapiUrl`.
    pub fn option_name(self) -> &'static str {
        match self {
            Self::PublishableKeyMissing => "publishableKey",
            Self::SecretKeyMissing | Self::SecretKeyInvalid => "secretKey",
            Self::FapiUrl => "fapiUrl",
        }
    }

    /// What is wrong with it: `missing` or `invalid`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::PublishableKeyMissing | Self::SecretKeyMissing => "missing",
            Self::SecretKeyInvalid | Self::FapiUrl => "invalid",
        }
    }
}

/// One in-flight upstream exchange of a [`ProxyConfig`]; the slot is free again when this is dropped.
#[derive(Debug)]
pub struct ConnectionSlot(Arc<AtomicUsize>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A proxy configuration ready to prepare requests.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    proxy_path: String,
    publishable_key_present: bool,
    secret_key_missing: bool,
    secret_key: Result<HeaderValue, ProxyError>,
    fapi: Result<FapiBase, ProxyError>,
    /// Response-header timeout (`None` = disabled).
    pub timeout: Option<Duration>,
    /// Body idle timeout (`None` = disabled).
    pub idle_timeout: Option<Duration>,
    trust_forwarded_headers: bool,
    max_connections: usize,
    /// Upstream exchanges in flight (shared by clones of this config).
    in_flight: Arc<AtomicUsize>,
}

/// The request as the application received it.
#[derive(Debug)]
pub struct IncomingRequest<'a> {
    /// HTTP method, passed through unchanged.
    pub method: &'a str,
    /// Absolute URL as received (scheme and host from the app, path and query from the request target).
    pub url: &'a str,
    /// Request headers, repeated names kept.
    pub headers: HeaderMap,
    /// Socket peer address, used for X-Forwarded-For when nothing better is known.
    pub remote_address: Option<&'a str>,
}

/// Everything needed to send the upstream request.
#[derive(Debug)]
pub struct PreparedRequest {
    /// Method to send.
    pub method: Method,
    /// Upstream URL (always on the FAPI host).
    pub target: Url,
    /// Upstream request headers.
    pub headers: HeaderMap,
    /// `publicOrigin + proxyPath`: the base for Location rewriting.
    pub proxy_url: String,
}

const MISSING_PUBLISHABLE_KEY: &str =
    "Missing publishableKey. Provide it in options or set CLERK_PUBLISHABLE_KEY environment variable.";

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

impl ProxyConfig {
    /// Resolves options. Never fails; problems surface per request (see [`ProxyConfig::prepare`]).
    pub fn new(options: &ProxyOptions) -> Self {
        let proxy_path = normalize_proxy_path(options.proxy_path.as_deref());
        let publishable_key = non_empty(&options.publishable_key);
        let secret_key = match non_empty(&options.secret_key) {
            None => Err(ProxyError::Configuration(
                "Missing secretKey. Provide it in options or set CLERK_SECRET_KEY environment variable."
                    .to_string(),
            )),
            // Never echo the key: it is a credential.
            Some(sk) => HeaderValue::from_str(sk).map_err(|_| {
                ProxyError::Configuration(
                    "Invalid secretKey: it contains characters that are not allowed in an HTTP header value (such as CR or LF)."
                        .to_string(),
                )
            }),
        };
        let fapi = match non_empty(&options.fapi_url) {
            Some(raw) => normalize_fapi_url(raw),
            None => {
                normalize_fapi_url(fapi_url_from_publishable_key(publishable_key.unwrap_or("")))
            }
        };
        let millis = |v: Option<u64>, default: u64| match v.unwrap_or(default) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        };
        ProxyConfig {
            proxy_path,
            publishable_key_present: publishable_key.is_some(),
            secret_key_missing: non_empty(&options.secret_key).is_none(),
            secret_key,
            fapi,
            timeout: millis(options.timeout_ms, DEFAULT_TIMEOUT_MS),
            idle_timeout: millis(options.idle_timeout_ms, DEFAULT_IDLE_TIMEOUT_MS),
            trust_forwarded_headers: options.trust_forwarded_headers.unwrap_or(true),
            max_connections: match options.max_connections {
                None | Some(0) => DEFAULT_MAX_CONNECTIONS,
                Some(n) => n,
            },
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The first configuration problem, in the order requests report them (publishable key, secret key, FAPI
    /// URL), with its per-request message; `None` when the configuration is complete. Lets callers refuse a bad
    /// configuration when they build a proxy instead of on the first request.
    pub fn configuration_problem(&self) -> Option<(ConfigOption, String)> {
        if !self.publishable_key_present {
            return Some((
                ConfigOption::PublishableKeyMissing,
                MISSING_PUBLISHABLE_KEY.to_string(),
            ));
        }
        if let Err(e) = &self.secret_key {
            let kind = if self.secret_key_missing {
                ConfigOption::SecretKeyMissing
            } else {
                ConfigOption::SecretKeyInvalid
            };
            return Some((kind, e.to_string()));
        }
        if let Err(e) = &self.fapi {
            return Some((ConfigOption::FapiUrl, e.to_string()));
        }
        None
    }

    /// The bound on concurrent upstream exchanges.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// Takes one of the `maxConnections` exchange slots, or `None` when all are in use.
    pub fn try_acquire_slot(&self) -> Option<ConnectionSlot> {
        let prev = self.in_flight.fetch_add(1, Ordering::AcqRel);
        let slot = ConnectionSlot(Arc::clone(&self.in_flight));
        if prev >= self.max_connections {
            drop(slot);
            return None;
        }
        Some(slot)
    }

    /// The normalized mount path (e.g. `/__clerk`).
    pub fn proxy_path(&self) -> &str {
        &self.proxy_path
    }

    /// The FAPI base, if the configuration resolved one.
    pub fn fapi(&self) -> Option<&FapiBase> {
        self.fapi.as_ref().ok()
    }

    /// Validates the request and builds the upstream request, in Clerk's order of checks (SPEC 1.7).
    pub fn prepare(&self, req: IncomingRequest<'_>) -> Result<PreparedRequest, ProxyError> {
        if !self.publishable_key_present {
            return Err(ProxyError::Configuration(
                MISSING_PUBLISHABLE_KEY.to_string(),
            ));
        }
        let secret_key = self.secret_key.as_ref().map_err(Clone::clone)?;
        let request_url = parse_request_url(req.url)?;
        let pathname = request_url.path();
        if !matches_proxy_path(pathname, &self.proxy_path) {
            return Err(ProxyError::path_mismatch(pathname, &self.proxy_path));
        }
        let fapi = self.fapi.as_ref().map_err(Clone::clone)?;
        let method = Method::from_bytes(req.method.as_bytes())
            .map_err(|_| ProxyError::bad_request("Invalid request method"))?;
        check_header_size(&req.headers)?;
        let target = fapi.target_url(
            target_path(pathname, &self.proxy_path),
            request_url.query().filter(|q| !q.is_empty()),
        )?;
        let built = build_upstream_request_headers(
            &req.headers,
            &RequestContext {
                request_url: &request_url,
                proxy_path: &self.proxy_path,
                secret_key,
                fapi_authority: &fapi.authority,
                remote_address: req.remote_address,
                trust_forwarded_headers: self.trust_forwarded_headers,
            },
        );
        Ok(PreparedRequest {
            method,
            target,
            headers: built.headers,
            proxy_url: built.proxy_url,
        })
    }
}

/// The request URL: absolute, http(s), with a host of the proxy's one host grammar (the one X-Forwarded-Host and
/// the adapters' Host check use). 400 otherwise.
fn parse_request_url(raw: &str) -> Result<Url, ProxyError> {
    let url = Url::parse(raw).map_err(|_| ProxyError::bad_request("Invalid request URL"))?;
    let Some(host) = url
        .host_str()
        .filter(|_| matches!(url.scheme(), "http" | "https"))
    else {
        return Err(ProxyError::bad_request("Invalid request URL"));
    };
    if !is_valid_host_name(host) {
        return Err(ProxyError::bad_request("Invalid Host header"));
    }
    Ok(url)
}

/// 431 when the request headers add up to more than [`MAX_REQUEST_HEADER_BYTES`].
fn check_header_size(headers: &HeaderMap) -> Result<(), ProxyError> {
    let bytes: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    if bytes > MAX_REQUEST_HEADER_BYTES {
        return Err(ProxyError::RequestFailed {
            status: 431,
            message: "Request headers are too large".to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_options_name_the_option_and_the_kind() {
        let cases = [
            (
                ConfigOption::PublishableKeyMissing,
                "publishableKey",
                "missing",
            ),
            (ConfigOption::SecretKeyMissing, "secretKey", "missing"),
            (ConfigOption::SecretKeyInvalid, "secretKey", "invalid"),
            (ConfigOption::FapiUrl, "fapiUrl", "invalid"),
        ];
        for (option, name, kind) in cases {
            assert_eq!((option.option_name(), option.kind()), (name, kind));
        }
    }

    const PK: &str = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k";

    fn opts() -> ProxyOptions {
        ProxyOptions {
            publishable_key: Some(PK.into()),
            secret_key: Some("sk_test_xxx".into()),
            ..Default::default()
        }
    }

    fn get(url: &str) -> IncomingRequest<'_> {
        IncomingRequest {
            method: "GET",
            url,
            headers: HeaderMap::new(),
            remote_address: None,
        }
    }

    #[test]
    fn order_of_checks_matches_clerk() {
        let mut o = opts();
        o.publishable_key = Some(String::new());
        o.secret_key = None;
        let e = ProxyConfig::new(&o)
            .prepare(get("https://example.com/api/users"))
            .unwrap_err();
        assert!(e.to_string().contains("publishableKey"));

        let mut o = opts();
        o.secret_key = None;
        let e = ProxyConfig::new(&o)
            .prepare(get("https://example.com/api/users"))
            .unwrap_err();
        assert_eq!(e.code(), "proxy_configuration_error");
        assert!(e.to_string().contains("secretKey"));

        let mut o = opts();
        o.fapi_url = Some("not-a-url".into());
        let e = ProxyConfig::new(&o)
            .prepare(get("https://example.com/api/users"))
            .unwrap_err();
        assert_eq!((e.status(), e.code()), (400, "proxy_path_mismatch"));
        assert_eq!(
            e.to_string(),
            "Request path \"/api/users\" does not match proxy path \"/__clerk\""
        );

        let e = ProxyConfig::new(&o)
            .prepare(get("https://example.com/__clerk/v1"))
            .unwrap_err();
        assert_eq!((e.status(), e.code()), (500, "proxy_configuration_error"));
        assert!(e.to_string().contains("Invalid URL"));
    }

    #[test]
    fn secret_key_with_crlf_is_refused_without_echo() {
        let mut o = opts();
        o.secret_key = Some("sk_live_SECRETVALUE\r\nX-Injected: 1".into());
        let e = ProxyConfig::new(&o)
            .prepare(get("https://example.com/__clerk/v1"))
            .unwrap_err();
        assert_eq!(e.status(), 500);
        assert!(!e.to_string().contains("SECRETVALUE"));
        assert!(!e.to_json().contains("SECRETVALUE"));
    }

    #[test]
    fn builds_target_on_fapi_host() {
        let cfg = ProxyConfig::new(&opts());
        let p = cfg
            .prepare(get("https://example.com/__clerk//evil.com/steal?x=1"))
            .unwrap();
        assert_eq!(p.target.host_str(), Some("frontend-api.clerk.dev"));
        assert_eq!(
            p.target.as_str(),
            "https://frontend-api.clerk.dev//evil.com/steal?x=1"
        );
        assert_eq!(p.proxy_url, "https://example.com/__clerk");
        let p = cfg.prepare(get("https://example.com/__clerk")).unwrap();
        assert_eq!(p.target.as_str(), "https://frontend-api.clerk.dev/");
    }

    #[test]
    fn dot_segments_are_resolved_before_matching() {
        let cfg = ProxyConfig::new(&opts());
        let e = cfg
            .prepare(get("https://example.com/__clerk/../admin"))
            .unwrap_err();
        assert_eq!(e.code(), "proxy_path_mismatch");
        let e = cfg
            .prepare(get("https://example.com/__clerk/%2e%2e/admin"))
            .unwrap_err();
        assert_eq!(e.code(), "proxy_path_mismatch");
    }

    #[test]
    fn timeouts_default_and_zero_disables() {
        let cfg = ProxyConfig::new(&opts());
        assert_eq!(cfg.timeout, Some(Duration::from_millis(30_000)));
        let mut o = opts();
        o.timeout_ms = Some(0);
        o.idle_timeout_ms = Some(250);
        let cfg = ProxyConfig::new(&o);
        assert_eq!(cfg.timeout, None);
        assert_eq!(cfg.idle_timeout, Some(Duration::from_millis(250)));
    }

    #[test]
    fn oversized_headers_get_431() {
        let cfg = ProxyConfig::new(&opts());
        let mut req = get("https://example.com/__clerk/v1");
        let big = HeaderValue::from_str(&"a".repeat(70 * 1024)).unwrap();
        req.headers.insert("x-big", big);
        let e = cfg.prepare(req).unwrap_err();
        assert_eq!(e.status(), 431);
    }

    #[test]
    fn bad_method_is_400() {
        let cfg = ProxyConfig::new(&opts());
        let mut req = get("https://example.com/__clerk/v1");
        req.method = "GE T";
        assert_eq!(cfg.prepare(req).unwrap_err().status(), 400);
    }
}
