//! The proxy's error type: one variant per failure class, each with a stable code, an HTTP status and the JSON
//! body Clerk's proxy sends (SPEC 1.7).

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

impl ProxyError {
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
