//! Explicit FAPI URL normalisation (SPEC 1.5) and upstream target URL construction (SPEC 1.8).

use url::Url;

use super::error::ProxyError;
use super::path::strip_trailing_slashes;

const INVALID_URL: &str = "Invalid URL";
const BAD_SCHEME: &str = "FAPI URL must use http or https";
const BAD_PARTS: &str = "FAPI URL must not include credentials, a query string, or a hash";
const HOST_MISMATCH: &str = "Resolved target does not match the expected host";

/// A validated FAPI base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FapiBase {
    /// Serialized URL with trailing '/' stripped, e.g. `http://localhost:8001` or `https://h/base`.
    pub base: String,
    /// `host[:port]` exactly as the URL serializes it (port only when not default), e.g. "localhost:8001".
    pub authority: String,
    /// The path prefix without trailing slash ("" when none), e.g. "/base".
    pub path_prefix: String,
}

/// Validates and normalizes an explicit FAPI URL (the `fapiUrl` option, `CLERK_FAPI_URL`, or the value derived
/// from the publishable key) per SPEC 1.5.
///
/// Errors are [`ProxyError::Configuration`] with the messages `Invalid URL`, `FAPI URL must use http or https`
/// and `FAPI URL must not include credentials, a query string, or a hash` (an empty `?` or `#` counts too).
pub fn normalize_fapi_url(raw: &str) -> Result<FapiBase, ProxyError> {
    let url = Url::parse(raw).map_err(|_| ProxyError::Configuration(INVALID_URL.to_owned()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ProxyError::Configuration(BAD_SCHEME.to_owned()));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(ProxyError::Configuration(BAD_PARTS.to_owned()));
    }
    let Some(authority) = authority_of(&url) else {
        return Err(ProxyError::Configuration(INVALID_URL.to_owned()));
    };
    Ok(FapiBase {
        base: strip_trailing_slashes(url.as_str()).to_owned(),
        authority,
        path_prefix: strip_trailing_slashes(url.path()).to_owned(),
    })
}

impl FapiBase {
    /// The upstream URL for `target_path` (see [`super::path::target_path`]): `base + target_path` parsed as one
    /// string (never relative resolution, so `//evil.com/steal` stays on the FAPI host), with the query set to
    /// `search` (the incoming query without `?`; `None` = no query) and no fragment.
    ///
    /// Returns `RequestFailed { status: 400 }` with `Resolved target does not match the expected host` if the
    /// result is unparsable or its authority is not [`FapiBase::authority`] (defense in depth).
    pub fn target_url(&self, target_path: &str, search: Option<&str>) -> Result<Url, ProxyError> {
        let mismatch = || ProxyError::RequestFailed {
            status: 400,
            message: HOST_MISMATCH.to_owned(),
        };
        let mut joined = String::with_capacity(self.base.len() + target_path.len());
        joined.push_str(&self.base);
        joined.push_str(target_path);
        let mut url = Url::parse(&joined).map_err(|_| mismatch())?;
        url.set_query(search);
        url.set_fragment(None);
        if authority_of(&url).as_deref() != Some(self.authority.as_str()) {
            return Err(mismatch());
        }
        Ok(url)
    }
}

/// WHATWG `url.host`: the host plus `:port` when the port is not the scheme's default; `None` without a host.
pub(crate) fn authority_of(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_valid_urls() {
        let cases = [
            (
                "http://localhost:8001/",
                "http://localhost:8001",
                "localhost:8001",
                "",
            ),
            (
                "http://localhost:8001",
                "http://localhost:8001",
                "localhost:8001",
                "",
            ),
            (
                "https://frontend-api.clerk.dev",
                "https://frontend-api.clerk.dev",
                "frontend-api.clerk.dev",
                "",
            ),
            (
                "https://frontend-api.clerkstage.dev",
                "https://frontend-api.clerkstage.dev",
                "frontend-api.clerkstage.dev",
                "",
            ),
            ("https://h/base/", "https://h/base", "h", "/base"),
            ("https://h/base//", "https://h/base", "h", "/base"),
            ("https://h/a/b", "https://h/a/b", "h", "/a/b"),
            ("https://h:443/", "https://h", "h", ""),
            ("http://h:80", "http://h", "h", ""),
            ("http://h:443", "http://h:443", "h:443", ""),
            (
                "HTTPS://Frontend-API.Clerk.DEV/",
                "https://frontend-api.clerk.dev",
                "frontend-api.clerk.dev",
                "",
            ),
            (
                "  http://127.0.0.1:9/  ",
                "http://127.0.0.1:9",
                "127.0.0.1:9",
                "",
            ),
            ("http://[::1]:8001/", "http://[::1]:8001", "[::1]:8001", ""),
        ];
        for (raw, base, authority, prefix) in cases {
            let got = normalize_fapi_url(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(
                got,
                FapiBase {
                    base: base.to_owned(),
                    authority: authority.to_owned(),
                    path_prefix: prefix.to_owned()
                },
                "{raw}"
            );
        }
    }

    /// SPEC 1.5 and the SPEC 6 fapiUrl error lines.
    #[test]
    fn rejects_invalid_urls() {
        let cases = [
            ("not-a-url", INVALID_URL),
            ("", INVALID_URL),
            ("http://", INVALID_URL),
            ("//frontend-api.clerk.dev", INVALID_URL),
            ("http://exa mple.com", INVALID_URL),
            ("ftp://frontend-api.clerk.dev", BAD_SCHEME),
            ("ws://frontend-api.clerk.dev", BAD_SCHEME),
            ("file:///etc/passwd", BAD_SCHEME),
            ("mailto:a@b.c", BAD_SCHEME),
            ("https://user:password@frontend-api.clerk.dev", BAD_PARTS),
            ("https://user@frontend-api.clerk.dev", BAD_PARTS),
            ("https://:pw@frontend-api.clerk.dev", BAD_PARTS),
            ("https://frontend-api.clerk.dev?env=staging", BAD_PARTS),
            ("https://frontend-api.clerk.dev#staging", BAD_PARTS),
            ("https://frontend-api.clerk.dev/?", BAD_PARTS),
            ("https://frontend-api.clerk.dev/#", BAD_PARTS),
        ];
        for (raw, msg) in cases {
            let err = normalize_fapi_url(raw).expect_err(raw);
            assert_eq!(err, ProxyError::Configuration(msg.to_owned()), "{raw}");
            assert_eq!(err.status(), 500);
            assert_eq!(err.code(), "proxy_configuration_error");
        }
    }

    #[test]
    fn invalid_url_message_does_not_echo_the_value() {
        let err = normalize_fapi_url("sk_test_secret not a url").expect_err("invalid");
        assert_eq!(err.to_string(), "Invalid URL");
    }

    /// SPEC 1.8 examples and the SPEC 6 URL lines.
    #[test]
    fn builds_target_urls() {
        let cases: [(&str, &str, Option<&str>, &str); 9] = [
            (
                "https://frontend-api.clerk.dev",
                "/v1/client",
                None,
                "https://frontend-api.clerk.dev/v1/client",
            ),
            (
                "https://frontend-api.clerk.dev",
                "/",
                None,
                "https://frontend-api.clerk.dev/",
            ),
            (
                "http://localhost:8001/",
                "/v1/client",
                None,
                "http://localhost:8001/v1/client",
            ),
            ("https://h/base/", "/v1/x", None, "https://h/base/v1/x"),
            (
                "https://frontend-api.clerk.dev",
                "/v1/client",
                Some("_clerk_js_version=5.0.0"),
                "https://frontend-api.clerk.dev/v1/client?_clerk_js_version=5.0.0",
            ),
            (
                "https://frontend-api.clerk.dev",
                "/v1/client",
                Some("a=%20b&c=d%2F&e"),
                "https://frontend-api.clerk.dev/v1/client?a=%20b&c=d%2F&e",
            ),
            (
                "https://frontend-api.clerk.dev",
                "/v1/client",
                Some(""),
                "https://frontend-api.clerk.dev/v1/client?",
            ),
            (
                "https://frontend-api.clerk.dev",
                "/v1/x#frag",
                None,
                "https://frontend-api.clerk.dev/v1/x",
            ),
            (
                "https://frontend-api.clerk.dev",
                "/v1/x?old=1",
                Some("new=2"),
                "https://frontend-api.clerk.dev/v1/x?new=2",
            ),
        ];
        for (base, target, search, want) in cases {
            let fapi = normalize_fapi_url(base).expect(base);
            let url = fapi.target_url(target, search).expect(target);
            assert_eq!(url.as_str(), want, "{base} + {target}");
        }
    }

    /// SPEC 6: `/__clerk//evil.com/steal` keeps the FAPI host.
    #[test]
    fn double_slash_target_keeps_fapi_host() {
        let fapi = normalize_fapi_url("https://frontend-api.clerk.dev").expect("valid");
        let url = fapi
            .target_url("//evil.com/steal", None)
            .expect("same host");
        assert_eq!(url.host_str(), Some("frontend-api.clerk.dev"));
        assert_eq!(
            url.as_str(),
            "https://frontend-api.clerk.dev//evil.com/steal"
        );
        let url = fapi
            .target_url("/\\evil.com/steal", None)
            .expect("same host");
        assert_eq!(url.host_str(), Some("frontend-api.clerk.dev"));
    }

    #[test]
    fn host_changing_targets_are_rejected() {
        let fapi = normalize_fapi_url("https://frontend-api.clerk.dev").expect("valid");
        let want = ProxyError::RequestFailed {
            status: 400,
            message: HOST_MISMATCH.to_owned(),
        };
        for target in [".evil.com/x", "@evil.com/x", ":444/x", "x", ":99999999/"] {
            assert_eq!(fapi.target_url(target, None), Err(want.clone()), "{target}");
        }
    }
}
