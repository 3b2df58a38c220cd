//! Location header rewriting for redirects that point back at FAPI (SPEC 1.11, with GAP 4 of 1.14).

use url::Url;

use super::fapi_url::{authority_of, FapiBase};

/// Returns Some(new value) when Location points at the FAPI host (after resolving a relative value against
/// fapi.base + "/"), None to leave it unchanged (external host, unparsable, non-UTF-8).
///
/// The new value is `proxy_url + pathname + search + hash`; the host comparison is on `host[:port]` only (the
/// scheme is ignored). A pathname that starts with the FAPI path prefix (at a `/` boundary) has that prefix
/// removed first (GAP 4), so `https://h/base/v1/x` with base `https://h/base` becomes `<proxy_url>/v1/x`.
pub fn rewrite_location(
    location: &http::HeaderValue,
    fapi: &FapiBase,
    proxy_url: &str,
) -> Option<String> {
    let raw = std::str::from_utf8(location.as_bytes()).ok()?;
    let base = Url::parse(&format!("{}/", fapi.base)).ok()?;
    let resolved = base.join(raw).ok()?;
    if authority_of(&resolved)? != fapi.authority {
        return None;
    }
    let mut pathname = resolved.path();
    if !fapi.path_prefix.is_empty() {
        if let Some(rest) = pathname.strip_prefix(fapi.path_prefix.as_str()) {
            if rest.is_empty() || rest.starts_with('/') {
                pathname = rest;
            }
        }
    }
    let mut out = String::with_capacity(proxy_url.len() + resolved.as_str().len());
    out.push_str(proxy_url);
    out.push_str(pathname);
    // WHATWG `search` / `hash` are empty for an empty query / fragment.
    if let Some(query) = resolved.query().filter(|q| !q.is_empty()) {
        out.push('?');
        out.push_str(query);
    }
    if let Some(fragment) = resolved.fragment().filter(|f| !f.is_empty()) {
        out.push('#');
        out.push_str(fragment);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::fapi_url::normalize_fapi_url;
    use http::HeaderValue;

    const EXAMPLE: &str = "https://example.com/__clerk";
    const FORWARDED: &str = "https://myapp.example.com/__clerk";

    /// SPEC 6 Location cases plus edge cases: (FAPI base, Location, proxy_url, expected).
    #[test]
    fn rewrites_fapi_locations() {
        let cases: [(&str, &str, &str, Option<&str>); 17] = [
            (
                "https://frontend-api.clerk.dev",
                "https://frontend-api.clerk.dev/v1/oauth/callback?code=123",
                FORWARDED,
                Some("https://myapp.example.com/__clerk/v1/oauth/callback?code=123"),
            ),
            (
                "https://frontend-api.clerk.dev",
                "https://frontend-api.clerk.dev/v1/oauth/callback?code=123",
                EXAMPLE,
                Some("https://example.com/__clerk/v1/oauth/callback?code=123"),
            ),
            (
                "http://localhost:8001",
                "http://localhost:8001/v1/oauth/callback?code=123",
                EXAMPLE,
                Some("https://example.com/__clerk/v1/oauth/callback?code=123"),
            ),
            (
                "https://frontend-api.clerk.dev",
                "https://accounts.google.com/oauth/authorize",
                EXAMPLE,
                None,
            ),
            (
                "https://frontend-api.clerk.dev",
                "/v1/client",
                EXAMPLE,
                Some("https://example.com/__clerk/v1/client"),
            ),
            (
                "https://frontend-api.clerk.dev",
                "v1/client",
                EXAMPLE,
                Some("https://example.com/__clerk/v1/client"),
            ),
            (
                "https://frontend-api.clerk.dev",
                "/v1/client?a=1#frag",
                FORWARDED,
                Some("https://myapp.example.com/__clerk/v1/client?a=1#frag"),
            ),
            (
                "https://frontend-api.clerk.dev",
                "/v1/x?#",
                EXAMPLE,
                Some("https://example.com/__clerk/v1/x"),
            ),
            // Scheme ignored, host:port compared.
            (
                "https://frontend-api.clerk.dev",
                "http://frontend-api.clerk.dev/v1/x",
                EXAMPLE,
                Some("https://example.com/__clerk/v1/x"),
            ),
            (
                "http://localhost:8001",
                "http://localhost:8002/v1/x",
                EXAMPLE,
                None,
            ),
            (
                "https://frontend-api.clerk.dev",
                "https://frontend-api.clerk.dev.evil.com/x",
                EXAMPLE,
                None,
            ),
            // Protocol-relative to another host stays external.
            (
                "https://frontend-api.clerk.dev",
                "//evil.com/x",
                EXAMPLE,
                None,
            ),
            // Unparsable or hostless: unchanged.
            (
                "https://frontend-api.clerk.dev",
                "http://[::1",
                EXAMPLE,
                None,
            ),
            (
                "https://frontend-api.clerk.dev",
                "http://exa mple.com/",
                EXAMPLE,
                None,
            ),
            (
                "https://frontend-api.clerk.dev",
                "mailto:a@frontend-api.clerk.dev",
                EXAMPLE,
                None,
            ),
            // GAP 4: the FAPI path prefix is stripped at a '/' boundary only.
            (
                "https://h/base",
                "https://h/base/v1/x?y=1",
                EXAMPLE,
                Some("https://example.com/__clerk/v1/x?y=1"),
            ),
            (
                "https://h/base/",
                "/base",
                EXAMPLE,
                Some("https://example.com/__clerk"),
            ),
        ];
        for (base, location, proxy_url, want) in cases {
            let fapi = normalize_fapi_url(base).expect(base);
            let value = HeaderValue::from_str(location).expect(location);
            assert_eq!(
                rewrite_location(&value, &fapi, proxy_url).as_deref(),
                want,
                "{base} {location}"
            );
        }
    }

    #[test]
    fn prefix_boundary_and_relative_under_prefix() {
        let fapi = normalize_fapi_url("https://h/base").expect("valid");
        let cases = [
            (
                "https://h/basement/x",
                Some("https://example.com/__clerk/basement/x"),
            ),
            ("https://h/other", Some("https://example.com/__clerk/other")),
            // Relative values resolve against base + "/".
            ("v1/client", Some("https://example.com/__clerk/v1/client")),
            ("/v1/client", Some("https://example.com/__clerk/v1/client")),
        ];
        for (location, want) in cases {
            let value = HeaderValue::from_str(location).expect(location);
            assert_eq!(
                rewrite_location(&value, &fapi, EXAMPLE).as_deref(),
                want,
                "{location}"
            );
        }
    }

    #[test]
    fn non_utf8_location_is_left_alone() {
        let fapi = normalize_fapi_url("https://frontend-api.clerk.dev").expect("valid");
        let value = HeaderValue::from_bytes(b"/v1/\xff").expect("obs-text is a valid header value");
        assert_eq!(rewrite_location(&value, &fapi, EXAMPLE), None);
    }

    #[test]
    fn utf8_location_is_percent_encoded() {
        let fapi = normalize_fapi_url("https://frontend-api.clerk.dev").expect("valid");
        let value = HeaderValue::from_bytes("/v1/é".as_bytes()).expect("valid");
        assert_eq!(
            rewrite_location(&value, &fapi, EXAMPLE).as_deref(),
            Some("https://example.com/__clerk/v1/%C3%A9")
        );
    }
}
