//! Property tests for the proxy's hostile-input surface (SECURITY.md, "Fuzzing"): request header hygiene,
//! response header filtering, Location rewriting, path matching / upstream URL building and publishable keys.
//!
//! The invariants live in `prop_support` and are shared with the cargo-fuzz targets in `fuzz/`. Each property
//! runs a short default number of cases under `cargo test`; the long run is
//! `PROPTEST_CASES=100000 cargo test -p clerk_native_core --release --test prop_proxy` (or `scripts/fuzz.sh`).

mod prop_support;

use clerk_native_core::proxy::fapi_url::normalize_fapi_url;
use clerk_native_core::proxy::path::{matches_proxy_path, normalize_proxy_path, target_path};
use clerk_native_core::proxy::publishable_key::{
    fapi_url_from_publishable_key, parse_publishable_key, InstanceType, LOCAL_FAPI_URL,
    PROD_FAPI_URL, STAGING_FAPI_URL,
};
use clerk_native_core::proxy::{IncomingRequest, ProxyConfig, ProxyOptions};
use http::{HeaderMap, HeaderValue};
use prop_support::*;
use proptest::prelude::*;
use proptest::sample::select;

/// `cases` unless `PROPTEST_CASES` is set (the long run).
fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

/// Text from dictionary words and arbitrary chars.
fn text(dict: &'static [&'static str], pieces: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => select(dict).prop_map(str::to_owned),
            1 => "\\PC{0,4}",
            1 => any::<char>().prop_map(String::from),
        ],
        0..pieces,
    )
    .prop_map(|v| v.concat())
}

fn raw_text(dict: &'static [&'static str], pieces: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => select(dict).prop_map(|s| s.as_bytes().to_vec()),
            1 => bytes(6),
        ],
        0..pieces,
    )
    .prop_map(|v| v.concat())
}

fn header_pairs(max: usize) -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
    prop::collection::vec(
        (
            prop_oneof![
                4 => select(HEADER_NAMES).prop_map(|s| s.as_bytes().to_vec()),
                1 => bytes(10),
            ],
            raw_text(HEADER_WORDS, 5),
        ),
        0..max,
    )
}

fn request_headers_case() -> impl Strategy<Value = RequestHeadersCase> {
    (
        header_pairs(14),
        prop_oneof![select(URLS).prop_map(str::to_owned), text(URL_WORDS, 8)],
        select(PROXY_PATHS),
        select(
            &[
                "frontend-api.clerk.dev",
                "localhost:8001",
                "[::1]:8001",
                "bad\nhost",
            ][..],
        ),
        select(SECRET_KEYS),
        proptest::option::of(text(&["127.0.0.1", "::1", "10.0.0.1", "\n", " "], 3)),
        any::<bool>(),
    )
        .prop_map(
            |(headers, url, proxy_path, fapi, sk, remote, trust)| RequestHeadersCase {
                headers,
                url,
                proxy_path: proxy_path.to_owned(),
                fapi_authority: fapi.to_owned(),
                secret_key: sk.as_bytes().to_vec(),
                remote,
                trust,
            },
        )
}

proptest! {
    #![proptest_config(config(1024))]

    /// Hop-by-hop and Connection-listed names never forwarded; Clerk-Secret-Key / Host / Clerk-Proxy-Url are
    /// ours; no value holds CR/LF/NUL; untrusted forwarding headers replaced; everything else passes unchanged.
    #[test]
    fn request_headers(case in request_headers_case()) {
        check_request_headers(&case);
    }

    /// The same invariants from fuzzer-style bytes (the decoder the fuzz target uses).
    #[test]
    fn request_headers_bytes(data in bytes(512)) {
        check_request_headers(&RequestHeadersCase::decode(&data));
    }

    /// Response side: hop-by-hop and Connection-listed names dropped (Location too), Set-Cookie kept one per
    /// value, nothing invented; a remaining Location is rewritten only for the FAPI host.
    #[test]
    fn response_headers(
        mut headers in header_pairs(12),
        fapi_base in select(FAPI_URLS),
        proxy_url in select(PROXY_URLS),
        location in proptest::option::of(raw_text(LOCATION_WORDS, 8)),
    ) {
        if let Some(l) = location {
            headers.push((b"location".to_vec(), l));
        }
        check_response(&ResponseCase {
            headers,
            fapi_base: fapi_base.to_owned(),
            proxy_url: proxy_url.to_owned(),
        });
    }

    /// Location: never panics, rewritten exactly when it resolves to the FAPI host, and a rewrite never leaves
    /// the proxy's origin or holds a control byte.
    #[test]
    fn location(
        fapi_base in select(FAPI_URLS),
        proxy_url in select(PROXY_URLS),
        location in prop_oneof![raw_text(LOCATION_WORDS, 10), bytes(40)],
    ) {
        check_location_case(&LocationCase {
            fapi_base: fapi_base.to_owned(),
            location,
            proxy_url: proxy_url.to_owned(),
        });
    }

    /// Absolute Locations on another host (including look-alikes and userinfo tricks) are never rewritten;
    /// on the FAPI host (any case, any scheme, default port spelled out) they always are.
    #[test]
    fn location_host_classes(
        scheme in select(&["https://", "http://", "HTTPS://", "//", "\\\\", "/\\", "https:/\\", "\t//"][..]),
        evil in select(&[
            "evil.com",
            "frontend-api.clerk.dev.evil.com",
            "evil.frontend-api.clerk.dev",
            "frontend-api.clerk.dev@evil.com",
            "frontend-api.clerk.dev%40evil.com",
            "frontend-api.clerk.dev:444",
            "evil.com\\@frontend-api.clerk.dev",
            "evil.com#@frontend-api.clerk.dev",
            "evil.com?@frontend-api.clerk.dev",
            "frontend-api.clerk.dev.",
            "frontend-api.clerk.de",
        ][..]),
        good in select(&[
            "frontend-api.clerk.dev",
            "FRONTEND-API.CLERK.DEV",
            "frontend-api.clerk.dev:443",
            "user@frontend-api.clerk.dev",
        ][..]),
        path in "(/[a-z0-9?#=&%]{0,12}){0,3}",
    ) {
        let fapi = normalize_fapi_url("https://frontend-api.clerk.dev").unwrap();
        let proxy = "https://example.com/__clerk";
        let bad = HeaderValue::from_str(&format!("{scheme}{evil}{path}")).unwrap();
        let out = check_location(&fapi, &bad, proxy);
        prop_assert!(out.is_none(), "rewrote {:?} to {:?}", bad, out);
        // `:443` is the default port of https only.
        let good = if scheme.to_ascii_lowercase().starts_with("http://") { good.trim_end_matches(":443") } else { good };
        let ok = HeaderValue::from_str(&format!("{scheme}{good}{path}")).unwrap();
        let out = check_location(&fapi, &ok, proxy);
        prop_assert!(out.is_some(), "did not rewrite {:?}", ok);
    }
}

proptest! {
    #![proptest_config(config(1024))]

    /// `ProxyConfig::prepare` with arbitrary options, URLs, methods and headers: the upstream target is on the
    /// FAPI host (never the request's) or the request is refused with one JSON error that never echoes the key.
    #[test]
    fn prepare(data in bytes(768)) {
        check_prepare(&PrepareCase::decode(&data));
    }

    /// Paths built from hostile pieces under a matching prefix: the target stays on the FAPI host and under its
    /// path prefix, and dot segments never leave the proxy path.
    #[test]
    fn prepare_paths(
        origin in select(&["https://example.com", "http://localhost:3000", "http://[::1]:8080"][..]),
        proxy_path in select(&["/__clerk", "/custom", "/a/b"][..]),
        fapi_url in select(&["https://frontend-api.clerk.dev", "http://localhost:8001", "https://h/base"][..]),
        tail in text(URL_WORDS, 10),
        trust in any::<bool>(),
    ) {
        let options = ProxyOptions {
            proxy_path: Some(proxy_path.to_owned()),
            publishable_key: Some("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k".into()),
            secret_key: Some("sk_test_SECRETVALUE0123456789".into()),
            fapi_url: Some(fapi_url.to_owned()),
            trust_forwarded_headers: Some(trust),
            ..Default::default()
        };
        check_prepare(&PrepareCase {
            options,
            method: "GET".into(),
            url: format!("{origin}{proxy_path}{tail}"),
            headers: vec![(b"x-forwarded-host".to_vec(), b"evil.com".to_vec())],
            remote: Some("127.0.0.1".into()),
        });
    }

    /// Matching is a boundary-aware prefix test; the target path is the rest (or "/").
    #[test]
    fn path_matching(pathname in text(&["/", "/__clerk", "__clerk", "-admin", "x", "//", "%2e"][..], 6),
                     configured in proptest::option::of(text(&["/", "/__clerk", "x", "//"][..], 3))) {
        let p = normalize_proxy_path(configured.as_deref());
        prop_assert!(!p.is_empty() && !p.ends_with('/'));
        let m = matches_proxy_path(&pathname, &p);
        let want = pathname == p || pathname.starts_with(&format!("{p}/"));
        prop_assert_eq!(m, want);
        let t = target_path(&pathname, &p);
        if m {
            let rest = &pathname[p.len()..];
            prop_assert_eq!(t, if rest.is_empty() { "/" } else { rest });
        }
    }

    /// The 431 limit counts names and values of what is forwarded.
    #[test]
    fn oversized_headers_are_refused(n in 1usize..40, size in 1usize..4096) {
        let cfg = ProxyConfig::new(&ProxyOptions {
            publishable_key: Some("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k".into()),
            secret_key: Some("sk_test_x".into()),
            ..Default::default()
        });
        let mut headers = HeaderMap::new();
        for i in 0..n {
            headers.append(
                http::HeaderName::from_bytes(format!("x-h{i}").as_bytes()).unwrap(),
                HeaderValue::from_str(&"a".repeat(size)).unwrap(),
            );
        }
        let total: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
        let r = cfg.prepare(IncomingRequest {
            method: "GET",
            url: "https://example.com/__clerk/v1",
            headers,
            remote_address: None,
        });
        match r {
            Ok(_) => prop_assert!(total <= 64 * 1024),
            Err(e) => {
                prop_assert!(total > 64 * 1024);
                prop_assert_eq!(e.status(), 431);
            }
        }
    }
}

proptest! {
    #![proptest_config(config(4096))]

    /// Any string: the FAPI/BAPI URLs are always one of the three constants, consistently; parsing never panics.
    #[test]
    fn publishable_key_any(pk in prop_oneof![
        "\\PC{0,40}",
        text(&["pk_live_", "pk_test_", "_", "$", "=", "Y2xlcmsu", "JA", "==", " ", "\n", "-"][..], 8),
    ]) {
        check_publishable_key(&pk);
    }

    /// Keys built the way Clerk builds them round-trip, and select the environment by host suffix.
    #[test]
    fn publishable_key_roundtrip(
        live in any::<bool>(),
        label in "[a-z0-9-]{1,20}",
        suffix in select(&[
            ".example.com",
            ".clerk.accounts.dev",
            ".lcl.dev",
            ".lclclerk.com",
            ".accounts.lclclerk.com",
            ".lclstage.dev",
            ".accountsstage.dev",
        ][..]),
        clerk_prefix in any::<bool>(),
        padded in any::<bool>(),
    ) {
        let host = format!("{}{label}{suffix}", if clerk_prefix { "clerk." } else { "" });
        let mut enc = btoa(&format!("{host}$")).unwrap();
        if !padded {
            enc = enc.trim_end_matches('=').to_owned();
        }
        let pk = format!("pk_{}_{enc}", if live { "live" } else { "test" });
        let parsed = parse_publishable_key(&pk);
        prop_assert_eq!(parsed.as_ref().map(|k| k.frontend_api.as_str()), Some(host.as_str()));
        prop_assert_eq!(
            parsed.map(|k| k.instance_type),
            Some(if live { InstanceType::Production } else { InstanceType::Development })
        );
        let want = if clerk_prefix && [".lcl.dev", ".lclstage.dev", ".lclclerk.com", ".accounts.lclclerk.com"].contains(&suffix) {
            PROD_FAPI_URL
        } else if host.ends_with(".lcl.dev") || host.ends_with("lclstage.dev") || host.ends_with(".lclclerk.com") {
            LOCAL_FAPI_URL
        } else if host.ends_with(".accountsstage.dev") {
            STAGING_FAPI_URL
        } else {
            PROD_FAPI_URL
        };
        prop_assert_eq!(fapi_url_from_publishable_key(&pk), want);
        check_publishable_key(&pk);
    }
}
