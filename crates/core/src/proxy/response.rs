//! The client-facing response head, as pure functions: what the caller gets from an upstream status line and
//! headers (SPEC 1.11 filter, Location rewrite, status text, framing), and the head of a local JSON error.

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, LOCATION, RETRY_AFTER, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, StatusCode};

use super::error::ProxyError;
use super::fapi_url::FapiBase;
use super::headers::filter_response_headers;
use super::location::rewrite_location;

/// A response whose Content-Length is at most this is delivered whole with its head (one call from JS).
pub const INLINE_BODY_LIMIT: u64 = 64 * 1024;

/// Status line, headers and the first body bytes of a response.
#[derive(Debug)]
pub struct ResponseHead {
    /// HTTP status code.
    pub status: u16,
    /// Reason phrase.
    pub status_text: String,
    /// Response headers; every Set-Cookie is its own entry.
    pub headers: HeaderMap,
    /// Body bytes already received (the whole body when `done`).
    pub body: Bytes,
    /// True when `body` is the complete body and the exchange need not be read.
    pub done: bool,
}

impl ResponseHead {
    /// The JSON error response for a proxy failure (`Cache-Control: no-store`; 503 adds `Retry-After: 1`).
    pub fn from_error(err: &ProxyError) -> Self {
        let mut headers = HeaderMap::new();
        for (name, value) in ProxyError::response_headers() {
            headers.insert(name, HeaderValue::from_static(value));
        }
        if matches!(err, ProxyError::TooManyRequests(_)) {
            headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        let status = err.status();
        let status_text = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
            .to_string();
        ResponseHead {
            status,
            status_text,
            headers,
            body: Bytes::from(err.to_json()),
            done: true,
        }
    }
}

/// The head the client gets for an upstream response head, before any body byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHead {
    /// The upstream status (200-599).
    pub status: u16,
    /// The upstream's reason phrase, else the canonical one, else empty.
    pub status_text: String,
    /// The forwarded headers.
    pub headers: HeaderMap,
    /// 204 or 304: the response has no body (RFC 9110 §15.3.5, §15.4.5).
    pub no_body: bool,
}

impl ClientHead {
    /// True when the body has a declared length of at most [`INLINE_BODY_LIMIT`] (delivered with the head).
    pub fn inline_body(&self) -> bool {
        self.headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n <= INLINE_BODY_LIMIT)
    }

    /// The head with its first body bytes (`done`: they are the whole body).
    pub fn into_response_head(self, body: Bytes, done: bool) -> ResponseHead {
        ResponseHead {
            status: self.status,
            status_text: self.status_text,
            headers: self.headers,
            body,
            done,
        }
    }
}

/// Builds the client-facing head from the upstream's status, reason phrase and headers:
/// - a status outside 200-599 is refused (502): hyper consumes 100/102/103 itself, and a 101 (an upgrade nobody
///   asked for) or 600-999 cannot be passed to a client as an ordinary response;
/// - headers are filtered (SPEC 1.11: hop-by-hop and Connection-listed names dropped, Set-Cookie kept apart);
/// - Content-Length is dropped for 204/304, and when Transfer-Encoding is present (RFC 9112 §6.3: it overrides
///   Content-Length, so forwarding both would let a client or a pooling front proxy frame the body differently
///   from us; without Transfer-Encoding hyper reads exactly Content-Length bytes or fails);
/// - a Location on the FAPI host is rewritten under `proxy_url` (`fapi` unset: left as is).
///
/// Content-Encoding needs no rule here: when reqwest decodes a body it removes Content-Encoding and
/// Content-Length from the headers it hands over.
pub fn client_response_head(
    status: StatusCode,
    reason_phrase: Option<&[u8]>,
    upstream: &HeaderMap,
    fapi: Option<&FapiBase>,
    proxy_url: &str,
) -> Result<ClientHead, ProxyError> {
    let code = status.as_u16();
    if !(200..=599).contains(&code) {
        return Err(ProxyError::status_not_forwarded(code));
    }
    let no_body = code == 204 || code == 304;
    let mut headers = filter_response_headers(upstream);
    if no_body || upstream.contains_key(TRANSFER_ENCODING) {
        headers.remove(CONTENT_LENGTH);
    }
    if let (Some(loc), Some(fapi)) = (headers.get(LOCATION), fapi) {
        if let Some(v) =
            rewrite_location(loc, fapi, proxy_url).and_then(|new| HeaderValue::from_str(&new).ok())
        {
            headers.insert(LOCATION, v);
        }
    }
    let status_text = reason_phrase
        .and_then(|r| std::str::from_utf8(r).ok())
        .or_else(|| status.canonical_reason())
        .unwrap_or("")
        .to_string();
    Ok(ClientHead {
        status: code,
        status_text,
        headers,
        no_body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::fapi_url::normalize_fapi_url;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        m
    }

    fn head(status: u16, reason: Option<&[u8]>, pairs: &[(&str, &str)]) -> ClientHead {
        let fapi = normalize_fapi_url("https://frontend-api.clerk.dev").unwrap();
        client_response_head(
            StatusCode::from_u16(status).unwrap(),
            reason,
            &map(pairs),
            Some(&fapi),
            "https://app.example/__clerk",
        )
        .unwrap()
    }

    #[test]
    fn statuses_outside_200_to_599_are_refused_with_502() {
        for code in [101u16, 199, 600, 999] {
            let err = client_response_head(
                StatusCode::from_u16(code).unwrap(),
                None,
                &HeaderMap::new(),
                None,
                "",
            )
            .unwrap_err();
            assert_eq!(err, ProxyError::status_not_forwarded(code));
            assert_eq!(err.status(), 502);
        }
        for code in [200u16, 299, 404, 599] {
            assert_eq!(head(code, None, &[]).status, code);
        }
    }

    #[test]
    fn content_length_dropped_with_transfer_encoding() {
        let h = head(
            200,
            None,
            &[("transfer-encoding", "chunked"), ("content-length", "10")],
        );
        assert!(!h.headers.contains_key(CONTENT_LENGTH));
        assert!(!h.headers.contains_key(TRANSFER_ENCODING));
        assert!(!h.no_body);
        assert!(!h.inline_body());
    }

    #[test]
    fn content_length_dropped_for_204_and_304_only() {
        for code in [204u16, 304] {
            let h = head(code, None, &[("content-length", "5"), ("etag", "\"x\"")]);
            assert!(h.no_body);
            assert!(!h.headers.contains_key(CONTENT_LENGTH));
            assert_eq!(h.headers.get("etag").unwrap(), "\"x\"");
        }
        let h = head(200, None, &[("content-length", "5")]);
        assert!(!h.no_body);
        assert_eq!(h.headers.get(CONTENT_LENGTH).unwrap(), "5");
    }

    #[test]
    fn inline_body_up_to_the_limit_with_a_declared_length() {
        let limit = INLINE_BODY_LIMIT.to_string();
        let over = (INLINE_BODY_LIMIT + 1).to_string();
        assert!(head(200, None, &[("content-length", "0")]).inline_body());
        assert!(head(200, None, &[("content-length", &limit)]).inline_body());
        assert!(!head(200, None, &[("content-length", &over)]).inline_body());
        assert!(!head(200, None, &[("content-length", "x")]).inline_body());
        assert!(!head(200, None, &[]).inline_body());
    }

    #[test]
    fn location_on_the_fapi_host_is_rewritten() {
        let h = head(
            302,
            None,
            &[("location", "https://frontend-api.clerk.dev/v1/oauth?x=1")],
        );
        assert_eq!(
            h.headers.get(LOCATION).unwrap(),
            "https://app.example/__clerk/v1/oauth?x=1"
        );
        let other = head(302, None, &[("location", "https://evil.example/v1")]);
        assert_eq!(
            other.headers.get(LOCATION).unwrap(),
            "https://evil.example/v1"
        );
    }

    #[test]
    fn location_kept_without_a_fapi_base() {
        let upstream = map(&[("location", "https://frontend-api.clerk.dev/v1")]);
        let h = client_response_head(
            StatusCode::FOUND,
            None,
            &upstream,
            None,
            "https://a/__clerk",
        )
        .unwrap();
        assert_eq!(
            h.headers.get(LOCATION).unwrap(),
            "https://frontend-api.clerk.dev/v1"
        );
    }

    #[test]
    fn status_text_prefers_the_upstream_phrase() {
        assert_eq!(head(200, Some(b"Fine"), &[]).status_text, "Fine");
        assert_eq!(head(404, None, &[]).status_text, "Not Found");
        assert_eq!(head(299, None, &[]).status_text, "");
        // A phrase that is not UTF-8 falls back to the canonical one.
        assert_eq!(head(200, Some(b"\xff"), &[]).status_text, "OK");
    }

    #[test]
    fn hop_by_hop_filtered_and_cookies_kept_apart() {
        let h = head(
            200,
            None,
            &[
                ("connection", "close, x-private"),
                ("x-private", "1"),
                ("keep-alive", "timeout=5"),
                ("set-cookie", "a=1"),
                ("set-cookie", "b=2"),
            ],
        );
        assert!(!h.headers.contains_key("x-private"));
        assert!(!h.headers.contains_key("keep-alive"));
        assert_eq!(h.headers.get_all("set-cookie").iter().count(), 2);
    }

    #[test]
    fn error_heads_are_json_and_no_store() {
        let h = ResponseHead::from_error(&ProxyError::too_many_requests(1));
        assert_eq!(h.status, 503);
        assert_eq!(h.status_text, "Service Unavailable");
        assert_eq!(h.headers.get(RETRY_AFTER).unwrap(), "1");
        assert_eq!(h.headers.get("cache-control").unwrap(), "no-store");
        assert!(h.done);
        let h = ResponseHead::from_error(&ProxyError::upstream_timeout());
        assert_eq!(h.status, 504);
        assert!(h.headers.get(RETRY_AFTER).is_none());
        assert!(std::str::from_utf8(&h.body)
            .unwrap()
            .contains("proxy_request_failed"));
    }
}
