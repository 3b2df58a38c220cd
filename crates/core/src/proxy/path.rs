//! Proxy path normalisation, matching and target-path extraction (SPEC 1.2, 1.6, 1.8).

/// The proxy path used when none (or an empty one) is configured.
pub const DEFAULT_PROXY_PATH: &str = "/__clerk";

/// Removes every trailing `/` from `s` (a plain loop, no regex). `"/a//"` becomes `"/a"`, `"/"` becomes `""`.
pub fn strip_trailing_slashes(s: &str) -> &str {
    let mut out = s;
    while let Some(rest) = out.strip_suffix('/') {
        out = rest;
    }
    out
}

/// Normalizes a configured proxy path: `None` or `""` gives [`DEFAULT_PROXY_PATH`], trailing slashes are
/// stripped, and a path that strips to `""` (`"/"`, `"///"`) also gives the default (SPEC 1.14 GAP 5: without
/// this guard every request would match).
pub fn normalize_proxy_path(p: Option<&str>) -> String {
    let raw = match p {
        Some(s) if !s.is_empty() => s,
        _ => DEFAULT_PROXY_PATH,
    };
    match strip_trailing_slashes(raw) {
        "" => DEFAULT_PROXY_PATH.to_owned(),
        stripped => stripped.to_owned(),
    }
}

/// Whether `pathname` is handled by the proxy at `proxy_path` (already normalized): equal to it, or below it
/// at a `/` boundary. Case-sensitive; `/__clerk-admin` does not match `/__clerk`.
pub fn matches_proxy_path(pathname: &str, proxy_path: &str) -> bool {
    match pathname.strip_prefix(proxy_path) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// The path to request upstream: `pathname` without the `proxy_path` prefix, or `"/"` when nothing remains.
/// The caller has checked [`matches_proxy_path`]; on a non-matching input this returns `"/"`.
pub fn target_path<'a>(pathname: &'a str, proxy_path: &str) -> &'a str {
    match pathname.strip_prefix(proxy_path) {
        Some(rest) if !rest.is_empty() => rest,
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_any_number_of_trailing_slashes() {
        let cases = [
            ("", ""),
            ("/", ""),
            ("///", ""),
            ("/__clerk", "/__clerk"),
            ("/__clerk/", "/__clerk"),
            ("/__clerk///", "/__clerk"),
            ("/a/b/", "/a/b"),
            ("a/", "a"),
        ];
        for (input, want) in cases {
            assert_eq!(strip_trailing_slashes(input), want, "{input:?}");
        }
    }

    #[test]
    fn strip_is_linear_on_long_input() {
        let long = "/".repeat(100_000);
        assert_eq!(strip_trailing_slashes(&long), "");
    }

    #[test]
    fn normalizes_proxy_path() {
        let cases = [
            (None, "/__clerk"),
            (Some(""), "/__clerk"),
            (Some("/__clerk"), "/__clerk"),
            (Some("/__clerk/"), "/__clerk"),
            (Some("/custom-proxy"), "/custom-proxy"),
            (Some("/custom-proxy//"), "/custom-proxy"),
            // GAP-5 guard: a root path would otherwise match every request.
            (Some("/"), "/__clerk"),
            (Some("///"), "/__clerk"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_proxy_path(input), want, "{input:?}");
        }
    }

    /// SPEC 6 matchProxyPath checklist (pathname, configured proxyPath, expected).
    #[test]
    fn match_proxy_path_spec_vectors() {
        let cases: [(&str, Option<&str>, bool); 8] = [
            ("/__clerk/v1/client", None, true),
            ("/api/users", None, false),
            ("/custom-proxy/v1/client", Some("/custom-proxy"), true),
            ("/__clerk/v1/client", Some("/custom-proxy"), false),
            ("/__clerk", None, true),
            ("/__clerk/", None, true),
            ("/__clerk-admin/v1/client", None, false),
            ("/__clerk/v1/client", Some("/__clerk/"), true),
        ];
        for (pathname, configured, want) in cases {
            let p = normalize_proxy_path(configured);
            assert_eq!(
                matches_proxy_path(pathname, &p),
                want,
                "{pathname} vs {configured:?}"
            );
        }
    }

    #[test]
    fn match_is_case_sensitive_and_boundary_aware() {
        let cases = [
            ("/__CLERK/v1/client", false),
            ("/__clerkx", false),
            ("/__clerk//evil.com/steal", true),
            ("/", false),
            ("", false),
            ("/x/__clerk", false),
        ];
        for (pathname, want) in cases {
            assert_eq!(matches_proxy_path(pathname, "/__clerk"), want, "{pathname}");
        }
    }

    #[test]
    fn root_proxy_path_is_guarded() {
        let p = normalize_proxy_path(Some("/"));
        assert!(!matches_proxy_path("/api/users", &p));
        assert!(matches_proxy_path("/__clerk/v1/client", &p));
    }

    #[test]
    fn target_path_strips_prefix() {
        let cases = [
            ("/__clerk", "/__clerk", "/"),
            ("/__clerk/", "/__clerk", "/"),
            ("/__clerk/v1/client", "/__clerk", "/v1/client"),
            ("/__clerk//evil.com/steal", "/__clerk", "//evil.com/steal"),
            ("/custom-clerk/v1/client", "/custom-clerk", "/v1/client"),
            // Not a match: defined, never panics.
            ("/other", "/__clerk", "/"),
            ("/é", "/\u{e9}x", "/"),
        ];
        for (pathname, p, want) in cases {
            assert_eq!(target_path(pathname, p), want, "{pathname}");
        }
    }
}
