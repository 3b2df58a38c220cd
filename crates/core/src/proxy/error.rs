//! The proxy's error types, each with stable codes: [`ProxyError`] (answered before the response head, with an
//! HTTP status and the JSON body Clerk's proxy sends, SPEC 1.7) and [`BodyError`] (a body that stopped after the
//! head was sent).

use std::fmt;

/// A proxy failure that is answered locally with a JSON error response (SPEC 1.7).
///
/// The codes are public API: `proxy_configuration_error`, `proxy_path_mismatch`, `proxy_too_many_requests` and
/// `proxy_request_failed`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// 500 `proxy_configuration_error`: a missing key or an invalid FAPI URL.
    #[error("{0}")]
    Configuration(String),
    /// 400 `proxy_path_mismatch`: the request path is not under the proxy path.
    #[error("{0}")]
    PathMismatch(String),
    /// 503 `proxy_too_many_requests`: the proxy's `maxConnections` upstream exchanges are all in use.
    #[error("{0}")]
    TooManyRequests(String),
    /// `proxy_request_failed` with the given HTTP status (400, 408, 413, 431, 502, 504 ...).
    #[error("{message}")]
    RequestFailed {
        /// HTTP status of the error response.
        status: u16,
        /// Human-readable message, sent as `errors[0].message`.
        message: String,
    },
}

/// The prefix of every upstream failure message.
const FAILED: &str = "Failed to proxy request to Clerk FAPI";

impl ProxyError {
    /// Every code [`ProxyError::code`] can return (the `.d.ts` union `ProxyErrorCode` is checked against it).
    pub const CODES: [&'static str; 4] = [
        "proxy_configuration_error",
        "proxy_path_mismatch",
        "proxy_too_many_requests",
        "proxy_request_failed",
    ];

    /// 503 `proxy_too_many_requests`: all `max_connections` upstream exchanges are in use.
    pub fn too_many_requests(max_connections: usize) -> Self {
        Self::TooManyRequests(format!(
            "Too many concurrent requests to Clerk FAPI through this proxy (maxConnections = {max_connections}); retry shortly"
        ))
    }

    /// 400 `proxy_request_failed` with `message` (an unusable request URL, Host or method).
    pub fn bad_request(message: &str) -> Self {
        Self::failed(400, message.to_string())
    }

    /// 400 `proxy_path_mismatch`: `pathname` is not under `proxy_path`.
    pub fn path_mismatch(pathname: &str, proxy_path: &str) -> Self {
        Self::PathMismatch(format!(
            "Request path \"{pathname}\" does not match proxy path \"{proxy_path}\""
        ))
    }

    /// 408: the upstream stopped reading the request body (the caller waited `idleTimeoutMs` for room).
    pub fn upload_stalled() -> Self {
        Self::failed(
            408,
            "The request body moved no byte within idleTimeoutMs (the upstream stopped reading it)"
                .to_string(),
        )
    }

    /// 408: the client stopped sending the request body for `idleTimeoutMs`.
    pub fn upload_idle() -> Self {
        Self::failed(
            408,
            "The request body moved no byte within idleTimeoutMs".to_string(),
        )
    }

    /// 504: no response head within `timeoutMs` after the request body was sent.
    pub fn upstream_timeout() -> Self {
        Self::failed(
            504,
            format!("{FAILED}: the upstream did not send response headers within timeoutMs"),
        )
    }

    /// 502: the upstream request failed before a response head (`cause`: the transport error, without the URL).
    pub fn upstream_failed(cause: &str) -> Self {
        Self::failed(502, format!("{FAILED}: {cause}"))
    }

    /// 502: the upstream answered with a status that cannot be forwarded as a final response (outside 200-599).
    pub fn status_not_forwarded(status: u16) -> Self {
        Self::failed(
            502,
            format!("{FAILED}: the upstream answered with status {status}, which is not forwarded"),
        )
    }

    /// 502: a small body failed before anything reached the client (`cause` without the URL).
    pub fn body_failed(cause: &str) -> Self {
        Self::failed(
            502,
            format!("{FAILED}: the upstream failed while sending the body: {cause}"),
        )
    }

    /// 504: a small body moved no byte for `idleTimeoutMs` before anything reached the client.
    pub fn body_idle() -> Self {
        Self::failed(
            504,
            format!("{FAILED}: the upstream body moved no byte within idleTimeoutMs"),
        )
    }

    /// 502: the exchange was cancelled (or its head already taken) before a response head.
    pub fn cancelled() -> Self {
        Self::failed(502, format!("{FAILED}: the request was cancelled"))
    }

    fn failed(status: u16, message: String) -> Self {
        Self::RequestFailed { status, message }
    }

    /// The stable error code: `proxy_configuration_error`, `proxy_path_mismatch`, `proxy_too_many_requests` or
    /// `proxy_request_failed`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Configuration(_) => "proxy_configuration_error",
            Self::PathMismatch(_) => "proxy_path_mismatch",
            Self::TooManyRequests(_) => "proxy_too_many_requests",
            Self::RequestFailed { .. } => "proxy_request_failed",
        }
    }

    /// The HTTP status of the error response: 500, 400, 503, or the status carried by `RequestFailed`.
    pub fn status(&self) -> u16 {
        match self {
            Self::Configuration(_) => 500,
            Self::PathMismatch(_) => 400,
            Self::TooManyRequests(_) => 503,
            Self::RequestFailed { status, .. } => *status,
        }
    }

    /// The error body, exactly `{"errors":[{"code":"<code>","message":"<message>"}]}` with JSON string escaping.
    pub fn to_json(&self) -> String {
        let mut out = String::from(r#"{"errors":[{"code":"#);
        push_json_string(&mut out, self.code());
        out.push_str(r#","message":"#);
        push_json_string(&mut out, &self.to_string());
        out.push_str("}]}");
        out
    }

    /// The headers every error response carries: `Content-Type: application/json` and `Cache-Control: no-store`.
    pub fn response_headers() -> [(&'static str, &'static str); 2] {
        [
            ("content-type", "application/json"),
            ("cache-control", "no-store"),
        ]
    }
}

/// Why a body stopped before its end (after the response head was sent). The codes are public API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// No byte moved for `idleTimeoutMs`.
    Idle,
    /// The upstream connection failed mid-body.
    Upstream(String),
    /// The exchange was cancelled.
    Cancelled,
}

impl BodyError {
    /// Every code [`BodyError::code`] can return (the `.d.ts` union `ProxyBodyErrorCode` is checked against it).
    pub const CODES: [&'static str; 3] = [
        "proxy_body_idle_timeout",
        "proxy_upstream_body_error",
        "proxy_cancelled",
    ];

    /// Stable code for JS (`err.code`).
    pub fn code(&self) -> &'static str {
        match self {
            BodyError::Idle => "proxy_body_idle_timeout",
            BodyError::Upstream(_) => "proxy_upstream_body_error",
            BodyError::Cancelled => "proxy_cancelled",
        }
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Idle => f.write_str("Proxied body moved no byte within idleTimeoutMs"),
            BodyError::Upstream(m) => write!(f, "Upstream body failed: {m}"),
            BodyError::Cancelled => f.write_str("Proxy exchange was cancelled"),
        }
    }
}

impl std::error::Error for BodyError {}

/// Appends `s` as a JSON string literal (quotes included), escaped by serde_json.
fn push_json_string(out: &mut String, s: &str) {
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        // Serializing a &str cannot fail; keep a valid (if empty) literal rather than panic.
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_statuses_and_bodies() {
        let cases = [
            (
                ProxyError::Configuration("Missing secretKey.".into()),
                "proxy_configuration_error",
                500,
                r#"{"errors":[{"code":"proxy_configuration_error","message":"Missing secretKey."}]}"#,
            ),
            (
                ProxyError::PathMismatch(
                    r#"Request path "/api/users" does not match proxy path "/__clerk""#.into(),
                ),
                "proxy_path_mismatch",
                400,
                r#"{"errors":[{"code":"proxy_path_mismatch","message":"Request path \"/api/users\" does not match proxy path \"/__clerk\""}]}"#,
            ),
            (
                ProxyError::RequestFailed {
                    status: 502,
                    message: "Failed to proxy request to Clerk FAPI: Network error".into(),
                },
                "proxy_request_failed",
                502,
                r#"{"errors":[{"code":"proxy_request_failed","message":"Failed to proxy request to Clerk FAPI: Network error"}]}"#,
            ),
            (
                ProxyError::RequestFailed {
                    status: 504,
                    message: "line\nbreak\\ \u{1} é".into(),
                },
                "proxy_request_failed",
                504,
                r#"{"errors":[{"code":"proxy_request_failed","message":"line\nbreak\\ \u0001 é"}]}"#,
            ),
        ];
        for (err, code, status, json) in cases {
            assert_eq!(err.code(), code);
            assert_eq!(err.status(), status);
            assert_eq!(err.to_json(), json);
        }
    }

    #[test]
    fn json_body_has_exactly_one_error_with_two_fields() {
        let err = ProxyError::Configuration("Invalid URL".into());
        let v: serde_json::Value = serde_json::from_str(&err.to_json()).expect("valid JSON");
        let errors = v["errors"].as_array().expect("array");
        assert_eq!(errors.len(), 1);
        let obj = errors[0].as_object().expect("object");
        assert_eq!(obj.len(), 2);
        assert_eq!(obj["code"], "proxy_configuration_error");
        assert_eq!(obj["message"], "Invalid URL");
    }

    #[test]
    fn display_is_the_message() {
        assert_eq!(ProxyError::PathMismatch("m".into()).to_string(), "m");
        let e = ProxyError::RequestFailed {
            status: 408,
            message: "timeout".into(),
        };
        assert_eq!(e.to_string(), "timeout");
    }

    #[test]
    fn named_failures_have_their_status_and_message() {
        let cases = [
            (ProxyError::bad_request("Invalid Host header"), 400, "Invalid Host header"),
            (ProxyError::path_mismatch("/api", "/__clerk"), 400, r#"Request path "/api" does not match proxy path "/__clerk""#),
            (ProxyError::too_many_requests(7), 503, "Too many concurrent requests to Clerk FAPI through this proxy (maxConnections = 7); retry shortly"),
            (ProxyError::upload_stalled(), 408, "The request body moved no byte within idleTimeoutMs (the upstream stopped reading it)"),
            (ProxyError::upload_idle(), 408, "The request body moved no byte within idleTimeoutMs"),
            (ProxyError::upstream_timeout(), 504, "Failed to proxy request to Clerk FAPI: the upstream did not send response headers within timeoutMs"),
            (ProxyError::upstream_failed("Connection refused"), 502, "Failed to proxy request to Clerk FAPI: Connection refused"),
            (ProxyError::status_not_forwarded(101), 502, "Failed to proxy request to Clerk FAPI: the upstream answered with status 101, which is not forwarded"),
            (ProxyError::body_failed("reset"), 502, "Failed to proxy request to Clerk FAPI: the upstream failed while sending the body: reset"),
            (ProxyError::body_idle(), 504, "Failed to proxy request to Clerk FAPI: the upstream body moved no byte within idleTimeoutMs"),
            (ProxyError::cancelled(), 502, "Failed to proxy request to Clerk FAPI: the request was cancelled"),
        ];
        for (err, status, message) in cases {
            assert_eq!(err.status(), status, "{message}");
            assert_eq!(err.to_string(), message);
            assert!(ProxyError::CODES.contains(&err.code()));
        }
    }

    #[test]
    fn code_lists_match_the_variants() {
        let proxy = [
            ProxyError::Configuration(String::new()),
            ProxyError::PathMismatch(String::new()),
            ProxyError::TooManyRequests(String::new()),
            ProxyError::cancelled(),
        ];
        assert_eq!(proxy.map(|e| e.code()), ProxyError::CODES);
        let body = [
            BodyError::Idle,
            BodyError::Upstream(String::new()),
            BodyError::Cancelled,
        ];
        assert_eq!(body.map(|e| e.code()), BodyError::CODES);
    }

    #[test]
    fn error_response_headers() {
        assert_eq!(
            ProxyError::response_headers(),
            [
                ("content-type", "application/json"),
                ("cache-control", "no-store")
            ]
        );
    }
}
