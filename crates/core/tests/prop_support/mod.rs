//! Shared by the property tests (`tests/prop_*.rs`, proptest) and the cargo-fuzz targets (`fuzz/fuzz_targets/`,
//! which include this file with `#[path]`): the input cases, a byte decoder that turns fuzzer bytes into cases,
//! and the invariants every case must satisfy. An invariant is an `assert!`: a violation is a panic, which
//! proptest shrinks and libFuzzer reports as a crash.
//!
//! Only `clerk_native_core`, `http`, `url`, `serde_json` and `ring` are used, so the fuzz crate can build it.
#![allow(dead_code)]

use std::sync::OnceLock;

use clerk_native_core::auth::extract::{cookie_value, token_from_authorization};
use clerk_native_core::auth::{AcceptsToken, AuthInput, AuthOutcome, Authenticator, Pending};
use clerk_native_core::cache::VerifiedCache;
use clerk_native_core::clock::SystemClock;
use clerk_native_core::codec::base64url;
use clerk_native_core::jwt::MAX_TOKEN_BYTES;
use clerk_native_core::proxy::config::MAX_REQUEST_HEADER_BYTES;
use clerk_native_core::proxy::fapi_url::{normalize_fapi_url, FapiBase};
use clerk_native_core::proxy::headers::{
    build_upstream_request_headers, filter_response_headers, RequestContext,
    UpstreamRequestHeaders, HOP_BY_HOP,
};
use clerk_native_core::proxy::location::rewrite_location;
use clerk_native_core::proxy::publishable_key::{
    api_url_from_publishable_key, fapi_url_from_publishable_key, parse_publishable_key,
    LOCAL_API_URL, LOCAL_FAPI_URL, PROD_API_URL, PROD_FAPI_URL, STAGING_API_URL, STAGING_FAPI_URL,
};
use clerk_native_core::proxy::{IncomingRequest, ProxyConfig, ProxyOptions};
use clerk_native_core::token::claims::decimal_low_bits;
use clerk_native_core::token::{
    decode_jwt, verify_with_key, AuthObject, HasParams, Reason, Reverification, Verifier,
    VerifierKey, VerifyOptions,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Map, Value};
use url::Url;

// ---------------------------------------------------------------------------------------------------------------
// Fuzzer bytes → structured values.
// ---------------------------------------------------------------------------------------------------------------

/// Reads structured values from fuzzer bytes. Running out of bytes yields zeros / empty values, so every byte
/// string decodes to some case.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// `0..n` (0 when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else if n <= 256 {
            usize::from(self.u8()) % n
        } else {
            usize::from(self.u16()) % n
        }
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Up to `max` raw bytes (a one-byte length, then the bytes).
    pub fn bytes(&mut self, max: usize) -> &'a [u8] {
        let want = if max > 255 {
            usize::from(self.u16()) % (max + 1)
        } else {
            usize::from(self.u8()) % (max + 1)
        };
        let n = want.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// Text built from up to `pieces` pieces, each a dictionary word or a few raw (lossy UTF-8) bytes.
    pub fn text(&mut self, dict: &[&str], pieces: usize) -> String {
        let n = self.below(pieces + 1);
        let mut out = String::new();
        for _ in 0..n {
            if self.u8() < 160 && !dict.is_empty() {
                out.push_str(self.pick(dict));
            } else {
                out.push_str(&String::from_utf8_lossy(self.bytes(12)));
            }
        }
        out
    }

    /// Raw bytes built like [`Input::text`], without the UTF-8 repair (header values are bytes).
    pub fn raw_text(&mut self, dict: &[&str], pieces: usize) -> Vec<u8> {
        let n = self.below(pieces + 1);
        let mut out = Vec::new();
        for _ in 0..n {
            if self.u8() < 160 && !dict.is_empty() {
                out.extend_from_slice(self.pick(dict).as_bytes());
            } else {
                out.extend_from_slice(self.bytes(12));
            }
        }
        out
    }

    pub fn option<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        if self.u8() < 200 {
            Some(f(self))
        } else {
            None
        }
    }

    pub fn rest_str(&mut self) -> String {
        let s = String::from_utf8_lossy(self.data).into_owned();
        self.data = &[];
        s
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Dictionaries (shared by the proptest strategies and the fuzz decoder).
// ---------------------------------------------------------------------------------------------------------------

pub const HEADER_NAMES: &[&str] = &[
    "connection",
    "Connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "Host",
    "expect",
    "clerk-secret-key",
    "Clerk-Secret-Key",
    "clerk-proxy-url",
    "accept-encoding",
    "x-forwarded-for",
    "x-forwarded-host",
    "X-Forwarded-Proto",
    "x-real-ip",
    "cf-connecting-ip",
    "forwarded",
    "cookie",
    "authorization",
    "user-agent",
    "content-type",
    "content-length",
    "content-encoding",
    "location",
    "set-cookie",
    "x-custom",
    "x-custom-hop",
    "vary",
    "bad name",
    "x\u{e9}",
    "",
];

pub const HEADER_WORDS: &[&str] = &[
    ", ",
    ",",
    " ",
    "\t",
    "\r\n",
    "\n",
    "\0",
    "\u{7f}",
    "close",
    "keep-alive",
    "clerk-secret-key",
    "host",
    "location",
    "Clerk-Proxy-Url",
    "accept-encoding",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "cookie",
    "authorization",
    "x-custom-hop",
    "https",
    "http",
    "javascript",
    "evil.com",
    "evil.com/path",
    "user@evil.com",
    "[::1]",
    "[2001:db8::1]:8443",
    ":443",
    ":99999",
    "1.2.3.4",
    "myapp.example.com",
    "__session=",
    "Bearer ",
    "sk_live_",
    "é",
    "\u{ff}",
];

pub const URLS: &[&str] = &[
    "https://example.com/__clerk/v1/client",
    "http://localhost:3000/__clerk",
    "http://[::1]:3000/__clerk/",
    "https://example.com/__clerk//evil.com/steal?x=1",
    "https://example.com/__clerk/../admin",
    "https://example.com/__clerk/%2e%2e/admin",
    "https://example.com/__clerk/%2E%2e/admin",
    "https://example.com/__clerk/.%2e/admin",
    "https://example.com/__clerk/%2f%2fevil.com",
    "https://example.com/__clerk\\..\\admin",
    "https://example.com/__clerk/\\evil.com",
    "https://example.com/__clerk@evil.com/x",
    "https://user:pass@example.com/__clerk/v1",
    "https://example.com:8443/__clerk?#frag",
    "https://example.com/__clerk-admin/x",
    "https://example.com/custom/v1",
    "ftp://example.com/__clerk",
    "file:///__clerk",
    "data:text/plain,__clerk",
    "//evil.com/__clerk",
    "/__clerk/v1",
    "http://exa mple.com/__clerk",
    "https://example.com/__clerk/\t/evil",
    "https://example.com/__clerk/\r\n/evil",
];

pub const URL_WORDS: &[&str] = &[
    "https://",
    "http://",
    "//",
    "/",
    "\\",
    "/__clerk",
    "/__clerk/",
    "/custom",
    "..",
    ".",
    "%2e",
    "%2E",
    "%2f",
    "%5c",
    "%00",
    "%0d%0a",
    "?",
    "#",
    "@",
    ":",
    "evil.com",
    "example.com",
    "frontend-api.clerk.dev",
    "localhost:8001",
    "[::1]",
    "v1/client",
    "\t",
    "\n",
    " ",
    "é",
];

pub const PROXY_PATHS: &[&str] = &[
    "",
    "/",
    "///",
    "/__clerk",
    "/__clerk/",
    "/custom",
    "/custom/",
    "/a/b",
    "__clerk",
    "/a\nb",
    "/a b",
    "/%2e%2e",
    "/..",
];

pub const FAPI_URLS: &[&str] = &[
    "https://frontend-api.clerk.dev",
    "http://localhost:8001/",
    "http://127.0.0.1:8001",
    "https://h/base",
    "https://h/base/",
    "https://h:443/base//",
    "http://[::1]:8001",
    "ftp://h",
    "https://user@h",
    "https://h?x",
    "https://h#y",
    "not-a-url",
    "",
];

pub const PUBLISHABLE_KEYS: &[&str] = &[
    "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k",
    "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k",
    "pk_test_bXlhcHAubGNsY2xlcmsuY29tJA==",
    "pk_test_Y2xlcmsuYWNjb3VudHNzdGFnZS5kZXYk",
    "pk_test_YXBwLmxjbHN0YWdlLmRldiQ=",
    "invalid_key",
    "",
];

pub const SECRET_KEYS: &[&str] = &[
    "sk_test_SECRETVALUE0123456789",
    "sk_live_SECRETVALUE0123456789",
    "sk_test_SECRET\r\nX-Injected: 1",
    "sk_test_SECRET\0nul",
    "sk_test_\u{e9}",
    "",
];

pub const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD", "CONNECT", "TRACE", "GE T", "",
    "get", "X-CUSTOM",
];

pub const LOCATION_WORDS: &[&str] = &[
    "https://",
    "http://",
    "HTTPS://",
    "//",
    "/",
    "\\",
    "/\\",
    "\\\\",
    "frontend-api.clerk.dev",
    "FRONTEND-API.CLERK.DEV",
    "frontend-api.clerk.dev.",
    "frontend-api.clerk.dev.evil.com",
    "evil.com",
    "evil.frontend-api.clerk.dev",
    "localhost:8001",
    "localhost:8002",
    "h",
    "@",
    ":",
    ":443",
    ":80",
    "?",
    "#",
    "%2e",
    "..",
    "v1/client",
    "/v1/oauth/callback?code=123",
    "/base",
    "/basement",
    "mailto:",
    "javascript:alert(1)",
    "\t",
    "\r\n",
    " ",
    "é",
    "\u{ff}",
];

// ---------------------------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------------------------

/// A HeaderMap from raw pairs, as the binding builds it: invalid names or values are dropped.
pub fn header_map(pairs: &[(Vec<u8>, Vec<u8>)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            map.append(n, v);
        }
    }
    map
}

/// WHATWG `url.host`.
pub fn authority(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    })
}

/// The tokens of the Connection headers, by an implementation independent of the one under test: split on
/// `,`, strip OWS (space, tab), lowercase, and keep those that are valid header names.
pub fn connection_tokens(map: &HeaderMap) -> Vec<HeaderName> {
    let mut out = Vec::new();
    for v in map.get_all("connection") {
        for tok in v.as_bytes().split(|b| *b == b',') {
            let start = tok.iter().position(|b| *b != b' ' && *b != b'\t');
            let Some(start) = start else { continue };
            let end = tok
                .iter()
                .rposition(|b| *b != b' ' && *b != b'\t')
                .unwrap_or(start);
            if let Ok(n) = HeaderName::from_bytes(&tok[start..=end].to_ascii_lowercase()) {
                out.push(n);
            }
        }
    }
    out
}

/// All values of `name` joined, as the proxy joins repeated request headers.
fn joined(map: &HeaderMap, name: &HeaderName) -> Vec<u8> {
    let sep: &[u8] = if name == "cookie" { b"; " } else { b", " };
    let mut out = Vec::new();
    for (i, v) in map.get_all(name).iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep);
        }
        out.extend_from_slice(v.as_bytes());
    }
    out
}

fn values<'m>(map: &'m HeaderMap, name: &str) -> Vec<&'m [u8]> {
    map.get_all(name)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect()
}

fn single<'m>(map: &'m HeaderMap, name: &str) -> Option<&'m [u8]> {
    let v = values(map, name);
    assert!(v.len() <= 1, "{name} has {} values", v.len());
    v.first().copied()
}

/// Every value is free of CR, LF and NUL (and every other control byte but TAB).
fn assert_clean_values(map: &HeaderMap) {
    for (name, value) in map {
        assert!(
            value
                .as_bytes()
                .iter()
                .all(|b| *b == b'\t' || (*b >= 0x20 && *b != 0x7f)),
            "{name}: control byte in {:?}",
            value.as_bytes()
        );
    }
}

/// Request headers that the proxy sets itself (possibly after the copy step).
pub const OWNED_REQUEST_HEADERS: [&str; 7] = [
    "clerk-secret-key",
    "host",
    "clerk-proxy-url",
    "accept-encoding",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-for",
];

const FORWARDING: [&str; 6] = [
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "cf-connecting-ip",
    "forwarded",
];

// ---------------------------------------------------------------------------------------------------------------
// Target 1: request header hygiene (`build_upstream_request_headers`).
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct RequestHeadersCase {
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub url: String,
    pub proxy_path: String,
    pub fapi_authority: String,
    pub secret_key: Vec<u8>,
    pub remote: Option<String>,
    pub trust: bool,
}

pub fn header_pairs(inp: &mut Input<'_>, max: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let n = inp.below(max + 1);
    (0..n)
        .map(|_| {
            let name = if inp.u8() < 200 {
                inp.pick(HEADER_NAMES).as_bytes().to_vec()
            } else {
                inp.bytes(10).to_vec()
            };
            (name, inp.raw_text(HEADER_WORDS, 4))
        })
        .collect()
}

/// A request URL: a known hostile one, an origin + mount path + hostile pieces, or pieces alone.
pub fn request_url(inp: &mut Input<'_>) -> String {
    match inp.u8() % 4 {
        0 => inp.pick(URLS).to_owned(),
        1 | 2 => format!(
            "{}{}{}",
            inp.pick(&[
                "https://example.com",
                "http://localhost:3000",
                "https://a.b:8443",
                "http://[::1]"
            ]),
            inp.pick(&["/__clerk", "/__clerk/", "/custom/", "/a/b/", "/", ""]),
            inp.text(URL_WORDS, 8)
        ),
        _ => inp.text(URL_WORDS, 8),
    }
}

impl RequestHeadersCase {
    pub fn decode(data: &[u8]) -> Self {
        let mut inp = Input::new(data);
        Self {
            trust: inp.bool(),
            url: request_url(&mut inp),
            proxy_path: inp.pick(PROXY_PATHS).to_owned(),
            fapi_authority: inp
                .pick(&[
                    "frontend-api.clerk.dev",
                    "localhost:8001",
                    "[::1]:8001",
                    "bad\nhost",
                ])
                .to_owned(),
            secret_key: inp.pick(SECRET_KEYS).as_bytes().to_vec(),
            remote: inp.option(|i| i.text(&["127.0.0.1", "::1", "10.0.0.1", "\n", " "], 2)),
            headers: header_pairs(&mut inp, 12),
        }
    }
}

/// Runs `build_upstream_request_headers` on the case and checks every invariant. Cases whose URL or secret the
/// proxy would refuse earlier are skipped (returns `None`).
pub fn check_request_headers(c: &RequestHeadersCase) -> Option<UpstreamRequestHeaders> {
    let url = Url::parse(&c.url).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let secret = HeaderValue::from_bytes(&c.secret_key).ok()?;
    let incoming = header_map(&c.headers);
    let ctx = RequestContext {
        request_url: &url,
        proxy_path: &c.proxy_path,
        secret_key: &secret,
        fapi_authority: &c.fapi_authority,
        remote_address: c.remote.as_deref(),
        trust_forwarded_headers: c.trust,
    };
    let out = build_upstream_request_headers(&incoming, &ctx);
    assert_upstream_headers(&incoming, &ctx, &out);
    Some(out)
}

/// The request-side invariants (SPEC 1.9 as hardened; SECURITY.md "What the proxy never forwards").
pub fn assert_upstream_headers(
    incoming: &HeaderMap,
    ctx: &RequestContext<'_>,
    out: &UpstreamRequestHeaders,
) {
    let h = &out.headers;
    let listed = connection_tokens(incoming);
    assert_clean_values(h);

    // Never forwarded: hop-by-hop, Expect; Host only as ours.
    for name in HOP_BY_HOP {
        assert!(!h.contains_key(name), "hop-by-hop {name} forwarded");
    }
    assert!(!h.contains_key("expect"), "expect forwarded");

    // Ours, always exactly one value.
    assert_eq!(
        values(h, "clerk-secret-key"),
        vec![ctx.secret_key.as_bytes()],
        "clerk-secret-key is not ours"
    );
    assert!(h
        .get("clerk-secret-key")
        .is_some_and(HeaderValue::is_sensitive));
    match HeaderValue::from_str(ctx.fapi_authority) {
        Ok(_) => assert_eq!(
            values(h, "host"),
            vec![ctx.fapi_authority.as_bytes()],
            "host"
        ),
        Err(_) => assert!(!h.contains_key("host"), "host kept a client value"),
    }
    assert_eq!(values(h, "accept-encoding"), vec![&b"identity"[..]]);
    match HeaderValue::from_str(&out.proxy_url) {
        Ok(_) => assert_eq!(
            values(h, "clerk-proxy-url"),
            vec![out.proxy_url.as_bytes()],
            "clerk-proxy-url"
        ),
        Err(_) => assert!(
            !h.contains_key("clerk-proxy-url"),
            "client clerk-proxy-url kept"
        ),
    }
    for name in ["cookie", "authorization"] {
        if let Some(v) = h.get(name) {
            assert!(v.is_sensitive(), "{name} not marked sensitive");
        }
    }

    // Clerk-Proxy-Url: our proxy path behind either the request origin or a well-formed forwarded origin.
    let request_origin = ctx.request_url.origin().ascii_serialization();
    let origin = out
        .proxy_url
        .strip_suffix(ctx.proxy_path)
        .expect("proxy_url ends with the proxy path");
    if !ctx.trust_forwarded_headers {
        assert_eq!(origin, request_origin, "untrusted forwarded origin used");
    } else if origin != request_origin {
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .unwrap_or_else(|| panic!("forwarded origin with a bad scheme: {origin:?}"));
        assert!(
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b)),
            "forwarded origin with a bad host: {origin:?}"
        );
        assert!(
            incoming.contains_key("x-forwarded-proto") && incoming.contains_key("x-forwarded-host"),
            "forwarded origin without both forwarded headers"
        );
    }

    let request_authority = authority(ctx.request_url).expect("request host");
    let ours_xfh = HeaderValue::from_str(&request_authority).ok();
    let remote = ctx
        .remote_address
        .and_then(|r| HeaderValue::from_str(r).ok());

    if !ctx.trust_forwarded_headers {
        for name in ["x-real-ip", "cf-connecting-ip", "forwarded"] {
            assert!(!h.contains_key(name), "untrusted {name} forwarded");
        }
        assert_eq!(
            single(h, "x-forwarded-host"),
            ours_xfh.as_ref().map(HeaderValue::as_bytes),
            "untrusted x-forwarded-host"
        );
        assert_eq!(
            single(h, "x-forwarded-proto"),
            Some(ctx.request_url.scheme().as_bytes()),
            "untrusted x-forwarded-proto"
        );
        assert_eq!(
            single(h, "x-forwarded-for"),
            remote.as_ref().map(HeaderValue::as_bytes),
            "untrusted x-forwarded-for"
        );
    } else {
        single(h, "x-forwarded-for");
        for (name, ours) in [
            (
                "x-forwarded-host",
                ours_xfh.as_ref().map(HeaderValue::as_bytes),
            ),
            (
                "x-forwarded-proto",
                Some(ctx.request_url.scheme().as_bytes()),
            ),
        ] {
            let client = HeaderName::from_static(name);
            let want = if incoming.contains_key(&client) && !listed.contains(&client) {
                Some(joined(incoming, &client))
            } else {
                ours.map(<[u8]>::to_vec)
            };
            assert_eq!(single(h, name).map(<[u8]>::to_vec), want, "{name}");
        }
    }

    // Connection-listed names never forwarded (those we set ourselves carry our value, checked above).
    for name in &listed {
        if !OWNED_REQUEST_HEADERS.contains(&name.as_str()) {
            assert!(!h.contains_key(name), "Connection-listed {name} forwarded");
        }
    }

    // Everything else passes unchanged, joined; nothing is invented.
    for name in incoming.keys() {
        let excluded = HOP_BY_HOP.contains(&name.as_str())
            || listed.contains(name)
            || name == "host"
            || name == "expect"
            || OWNED_REQUEST_HEADERS.contains(&name.as_str())
            || (!ctx.trust_forwarded_headers && FORWARDING.contains(&name.as_str()));
        if !excluded {
            assert_eq!(
                values(h, name.as_str()),
                vec![&joined(incoming, name)[..]],
                "{name} not passed through"
            );
        }
    }
    for name in h.keys() {
        assert!(
            incoming.contains_key(name) || OWNED_REQUEST_HEADERS.contains(&name.as_str()),
            "{name} invented"
        );
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Target 2: response header filtering + Location rewriting.
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct ResponseCase {
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub fapi_base: String,
    pub proxy_url: String,
}

pub const PROXY_URLS: &[&str] = &[
    "https://example.com/__clerk",
    "http://localhost:3000/__clerk",
    "https://myapp.example.com:8443/custom",
    "http://[::1]:3000/__clerk",
];

impl ResponseCase {
    pub fn decode(data: &[u8]) -> Self {
        let mut inp = Input::new(data);
        // Once a "body decoded" flag of the filter (removed: reqwest strips those headers itself); the byte is
        // still read so that the stored corpus decodes as before.
        let _ = inp.bool();
        let fapi_base = inp.pick(FAPI_URLS).to_owned();
        let proxy_url = inp.pick(PROXY_URLS).to_owned();
        let mut headers = header_pairs(&mut inp, 10);
        if inp.bool() {
            headers.push((b"location".to_vec(), inp.raw_text(LOCATION_WORDS, 8)));
        }
        Self {
            headers,
            fapi_base,
            proxy_url,
        }
    }
}

pub fn check_response(c: &ResponseCase) -> HeaderMap {
    let upstream = header_map(&c.headers);
    let out = filter_response_headers(&upstream);
    let listed = connection_tokens(&upstream);
    assert_clean_values(&out);
    for name in HOP_BY_HOP {
        assert!(!out.contains_key(name), "hop-by-hop {name} passed back");
    }
    for name in &listed {
        assert!(
            !out.contains_key(name),
            "Connection-listed {name} passed back"
        );
    }
    for name in upstream.keys() {
        let excluded = HOP_BY_HOP.contains(&name.as_str()) || listed.contains(name);
        if excluded {
            continue;
        }
        if name == "set-cookie" {
            assert_eq!(
                values(&out, "set-cookie"),
                values(&upstream, "set-cookie"),
                "set-cookie values merged or lost"
            );
        } else {
            assert_eq!(
                values(&out, name.as_str()),
                vec![&joined(&upstream, name)[..]],
                "{name}"
            );
        }
    }
    for name in out.keys() {
        assert!(upstream.contains_key(name), "{name} invented");
    }
    // As the streaming engine does: rewrite a remaining Location.
    if let (Some(loc), Ok(fapi)) = (out.get("location"), normalize_fapi_url(&c.fapi_base)) {
        check_location(&fapi, loc, &c.proxy_url);
    }
    out
}

#[derive(Debug, Clone)]
pub struct LocationCase {
    pub fapi_base: String,
    pub location: Vec<u8>,
    pub proxy_url: String,
}

impl LocationCase {
    pub fn decode(data: &[u8]) -> Self {
        let mut inp = Input::new(data);
        Self {
            fapi_base: inp.pick(FAPI_URLS).to_owned(),
            proxy_url: inp.pick(PROXY_URLS).to_owned(),
            location: inp.raw_text(LOCATION_WORDS, 10),
        }
    }
}

pub fn check_location_case(c: &LocationCase) -> Option<String> {
    let fapi = normalize_fapi_url(&c.fapi_base).ok()?;
    let value = HeaderValue::from_bytes(&c.location).ok()?;
    check_location(&fapi, &value, &c.proxy_url)
}

/// Location invariants: rewritten exactly when the value resolves (against the FAPI base) to the FAPI host; a
/// rewrite is `proxy_url` + path/query/fragment, so it keeps the proxy's host and holds no control byte.
pub fn check_location(fapi: &FapiBase, location: &HeaderValue, proxy_url: &str) -> Option<String> {
    let out = rewrite_location(location, fapi, proxy_url);
    let resolves_to_fapi = std::str::from_utf8(location.as_bytes())
        .ok()
        .and_then(|raw| Url::parse(&format!("{}/", fapi.base)).ok()?.join(raw).ok())
        .and_then(|u| authority(&u))
        .is_some_and(|a| a == fapi.authority);
    assert_eq!(
        out.is_some(),
        resolves_to_fapi,
        "rewrite decision for {:?} on {}",
        location,
        fapi.base
    );
    if let Some(s) = &out {
        let rest = s
            .strip_prefix(proxy_url)
            .unwrap_or_else(|| panic!("rewrite {s:?} does not start with {proxy_url:?}"));
        assert!(
            rest.is_empty() || rest.starts_with(['/', '?', '#']),
            "rewrite continues the proxy authority: {s:?}"
        );
        assert!(
            rest.bytes().all(|b| (0x21..=0x7e).contains(&b)),
            "rewrite holds a control, space or non-ASCII byte: {s:?}"
        );
        if let Ok(p) = Url::parse(proxy_url) {
            let r = Url::parse(s).unwrap_or_else(|e| panic!("rewrite {s:?} unparsable: {e}"));
            assert_eq!(
                (r.scheme(), r.host_str(), r.port()),
                (p.scheme(), p.host_str(), p.port()),
                "rewrite left the proxy origin: {s:?}"
            );
            assert!(
                HeaderValue::from_str(s).is_ok(),
                "rewrite is no header value"
            );
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Target 3: path matching and upstream URL building (`ProxyConfig::prepare`).
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct PrepareCase {
    pub options: ProxyOptions,
    pub method: String,
    pub url: String,
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub remote: Option<String>,
}

impl PrepareCase {
    pub fn decode(data: &[u8]) -> Self {
        let mut inp = Input::new(data);
        // Mostly usable options, so most cases reach URL building; the rest exercise the error paths.
        let options = ProxyOptions {
            proxy_path: inp.option(|i| i.pick(PROXY_PATHS).to_owned()),
            publishable_key: Some(if inp.u8() < 230 {
                inp.pick(&PUBLISHABLE_KEYS[..5]).to_owned()
            } else {
                inp.pick(PUBLISHABLE_KEYS).to_owned()
            }),
            secret_key: Some(if inp.u8() < 200 {
                inp.pick(&SECRET_KEYS[..2]).to_owned()
            } else {
                inp.pick(SECRET_KEYS).to_owned()
            }),
            fapi_url: if inp.u8() < 100 {
                Some(inp.pick(FAPI_URLS).to_owned())
            } else {
                None
            },
            timeout_ms: None,
            idle_timeout_ms: None,
            trust_forwarded_headers: inp.option(Input::bool),
            max_connections: None,
        };
        let method = inp.pick(METHODS).to_owned();
        let remote = inp.option(|i| i.pick(&["127.0.0.1", "::1", "bad\nip"]).to_owned());
        let url = request_url(&mut inp);
        let mut headers = header_pairs(&mut inp, 8);
        if inp.u8() == 255 {
            // Oversized: more than 64 KiB in total.
            headers.push((b"x-big".to_vec(), vec![b'a'; 70 * 1024]));
        }
        Self {
            options,
            method,
            url,
            headers,
            remote,
        }
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

pub fn check_prepare(c: &PrepareCase) {
    let cfg = ProxyConfig::new(&c.options);
    let incoming = header_map(&c.headers);
    let result = cfg.prepare(IncomingRequest {
        method: &c.method,
        url: &c.url,
        headers: incoming.clone(),
        remote_address: c.remote.as_deref(),
    });
    match result {
        Ok(p) => {
            let fapi = cfg.fapi().expect("prepared without a FAPI base");
            // The host is the configured FAPI host (or one of the three PK-derived ones): never the request's.
            let expected = match non_empty(&c.options.fapi_url) {
                Some(raw) => Url::parse(raw).expect("prepared with an unparsable fapiUrl"),
                None => {
                    let pk = non_empty(&c.options.publishable_key).unwrap_or("");
                    let base = fapi_url_from_publishable_key(pk);
                    assert!([PROD_FAPI_URL, STAGING_FAPI_URL, LOCAL_FAPI_URL].contains(&base));
                    Url::parse(base).expect("constant")
                }
            };
            let t = &p.target;
            assert_eq!(
                (t.scheme(), t.host_str(), t.port_or_known_default()),
                (
                    expected.scheme(),
                    expected.host_str(),
                    expected.port_or_known_default()
                ),
                "target {t} left the FAPI host"
            );
            assert_eq!(authority(t).as_deref(), Some(fapi.authority.as_str()));
            assert!(t.username().is_empty() && t.password().is_none() && t.fragment().is_none());
            assert!(
                t.path().starts_with(&fapi.path_prefix),
                "target {t} escaped the FAPI path prefix {}",
                fapi.path_prefix
            );
            let req = Url::parse(&c.url).expect("prepared an unparsable URL");
            let pp = cfg.proxy_path();
            assert!(
                req.path() == pp || req.path().starts_with(&format!("{pp}/")),
                "{} proxied under {pp}",
                req.path()
            );
            assert_eq!(t.query(), req.query().filter(|q| !q.is_empty()), "query");
            assert_eq!(p.method.as_str().as_bytes(), c.method.as_bytes());
            let size: usize = incoming
                .iter()
                .map(|(n, v)| n.as_str().len() + v.len() + 4)
                .sum();
            assert!(size <= MAX_REQUEST_HEADER_BYTES);
            let sk = HeaderValue::from_str(non_empty(&c.options.secret_key).expect("secret"))
                .expect("prepared with an invalid secret");
            let ctx = RequestContext {
                request_url: &req,
                proxy_path: pp,
                secret_key: &sk,
                fapi_authority: &fapi.authority,
                remote_address: c.remote.as_deref(),
                trust_forwarded_headers: c.options.trust_forwarded_headers.unwrap_or(true),
            };
            assert_upstream_headers(
                &incoming,
                &ctx,
                &UpstreamRequestHeaders {
                    headers: p.headers,
                    proxy_url: p.proxy_url,
                },
            );
        }
        Err(e) => {
            assert!(
                [400, 431, 500].contains(&e.status()),
                "unexpected status {}",
                e.status()
            );
            let body: Value = serde_json::from_str(&e.to_json()).expect("error body is JSON");
            let errors = body["errors"].as_array().expect("errors array");
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].as_object().map(Map::len), Some(2));
            assert_eq!(errors[0]["code"], e.code());
            if let Some(sk) = non_empty(&c.options.secret_key) {
                let leaked =
                    |s: &str| s.contains("SECRETVALUE") || (sk.len() >= 12 && s.contains(sk));
                if !leaked(&c.url) {
                    assert!(!leaked(&e.to_json()), "secret echoed: {}", e.to_json());
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Target 4: publishable keys.
// ---------------------------------------------------------------------------------------------------------------

pub fn check_publishable_key(pk: &str) {
    let fapi = fapi_url_from_publishable_key(pk);
    assert!(
        [PROD_FAPI_URL, STAGING_FAPI_URL, LOCAL_FAPI_URL].contains(&fapi),
        "{fapi}"
    );
    let api = api_url_from_publishable_key(pk);
    assert!([PROD_API_URL, STAGING_API_URL, LOCAL_API_URL].contains(&api));
    // FAPI and BAPI environments agree.
    let env_of = |u: &str| {
        if u.contains("lclclerk") {
            2
        } else if u.contains("clerkstage") {
            1
        } else {
            0
        }
    };
    assert_eq!(env_of(fapi), env_of(api), "{pk}");
    match parse_publishable_key(pk) {
        Some(k) => {
            assert!(pk.starts_with("pk_live_") || pk.starts_with("pk_test_"));
            assert!(!k.frontend_api.contains('$') && k.frontend_api.contains('.'));
            assert_eq!(pk.split('_').count(), 3);
        }
        None => assert_eq!(fapi, PROD_FAPI_URL, "an unparsable key selects PROD"),
    }
}

/// WHATWG `btoa` of latin1 text.
pub fn btoa(s: &str) -> Option<String> {
    const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = s
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect::<Option<_>>()?;
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(STD[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------------------------
// Target 5: JWT decoding, claims and the fpm bitmasks.
// ---------------------------------------------------------------------------------------------------------------

/// The fixture signing key (RSA-2048) and a few tokens signed with it, made once per process.
pub struct Keys {
    pair: ring::signature::RsaKeyPair,
    pub pem: String,
    pub key: VerifierKey,
    /// (token, sub): genuine session tokens for distinct users, valid for a year.
    pub genuine: Vec<(String, String)>,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pair =
            ring::signature::RsaKeyPair::from_pkcs8(include_bytes!("../fixtures/rsa2048.pk8.der"))
                .expect("fixture key");
        let pem = include_str!("../fixtures/rsa2048.pub.pem").to_owned();
        let key = VerifierKey::from_pem(&pem).expect("fixture pem");
        let mut keys = Keys {
            pair,
            pem,
            key,
            genuine: Vec::new(),
        };
        let now = now_secs();
        for (i, sub) in ["user_alice", "user_bob", "user_carol"].iter().enumerate() {
            let mut claims = json!({"sub": sub, "iat": now - 10, "nbf": now - 10, "exp": now + 365 * 86400,
                "azp": "https://app.example.com", "v": 2, "fea": "o:f1", "o": {"id": "org_1", "rol": "admin", "per": "read,manage", "fpm": "3"}});
            // The third user is sid-less (a JWT-template-like token).
            if i < 2 {
                claims["sid"] = json!(format!("sess_{i}"));
            }
            let t = keys.sign(&json!({"alg": "RS256", "typ": "JWT", "kid": "k1"}), &claims);
            keys.genuine.push((t, (*sub).to_owned()));
        }
        keys
    })
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Keys {
    pub fn sign(&self, header: &Value, payload: &Value) -> String {
        let input = format!(
            "{}.{}",
            base64url::encode(header.to_string().as_bytes()),
            base64url::encode(payload.to_string().as_bytes())
        );
        self.sign_raw(&input)
    }

    pub fn sign_raw(&self, input: &str) -> String {
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .expect("sign");
        format!("{input}.{}", base64url::encode(&sig))
    }

    /// The signing input (`header.payload`) of `token` if it verifies... by construction, only ours do.
    fn genuine_signing_input(&self, signing_input: &str) -> Option<&str> {
        self.genuine
            .iter()
            .find(|(t, _)| t.rsplit_once('.').map(|(si, _)| si) == Some(signing_input))
            .map(|(_, sub)| sub.as_str())
    }
}

pub const JWT_WORDS: &[&str] = &[
    ".",
    "eyJ",
    "eyJhbGciOiJub25lIn0",    // {"alg":"none"}
    "eyJhbGciOiJIUzI1NiJ9",   // {"alg":"HS256"}
    "eyJhbGciOiJSUzI1NiJ9",   // {"alg":"RS256"}
    "eyJzdWIiOiJ1c2VyXzEifQ", // {"sub":"user_1"}
    "e30",                    // {}
    "W10",                    // []
    "bnVsbA",                 // null
    "=",
    "==",
    "-",
    "_",
    "+",
    "/",
    "AAAA",
    " ",
    "\0",
];

pub fn decode_token(data: &[u8]) -> String {
    let mut inp = Input::new(data);
    let k = keys();
    match inp.u8() % 4 {
        // A genuine token with a mutation at some position.
        0 => {
            let (t, _) = &k.genuine[inp.below(k.genuine.len())];
            let mut bytes = t.as_bytes().to_vec();
            let at = inp.below(bytes.len().min(65535));
            match inp.u8() % 3 {
                0 => bytes[at] = inp.u8(),
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, inp.u8()),
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        // A token built from a JSON header and payload given by the input (unsigned / garbage signature).
        1 => {
            let header = inp.text(
                &[
                    "{",
                    "}",
                    "\"alg\":",
                    "\"none\"",
                    "\"HS256\"",
                    "\"RS256\"",
                    "\"kid\":",
                    "\"../../etc/passwd\"",
                    "\"crit\":[\"exp\"]",
                    ",",
                    "\"jku\":\"http://127.0.0.1:1/\"",
                ],
                8,
            );
            let payload = inp.text(
                &[
                    "{",
                    "}",
                    "\"sub\":",
                    "\"user_1\"",
                    "\"exp\":",
                    "1e400",
                    "-1",
                    "99999999999999999999",
                    ",",
                    "\"v\":2",
                    "\"o\":",
                    "\"fpm\":",
                    "\"per\":",
                ],
                10,
            );
            format!(
                "{}.{}.{}",
                base64url::encode(header.as_bytes()),
                base64url::encode(payload.as_bytes()),
                String::from_utf8_lossy(inp.bytes(40))
            )
        }
        _ => inp.text(JWT_WORDS, 12),
    }
}

/// Decode invariants plus: the real key never accepts a token whose signed part we did not sign.
pub fn check_jwt(token: &str) {
    check_jwt_signed(token, None)
}

/// As [`check_jwt`]; `signed` is one more signing input (`header.payload`) the caller signed itself.
pub fn check_jwt_signed(token: &str, signed: Option<&str>) {
    let k = keys();
    match decode_jwt(token) {
        Ok(j) => {
            assert!(token.len() <= MAX_TOKEN_BYTES);
            assert_eq!(token.split('.').count(), 3);
            assert_eq!(
                j.signing_input,
                format!("{}.{}", j.raw_header, j.raw_payload)
            );
            assert!(token.starts_with(j.signing_input));
            let _ = (j.kid(), j.typ(), j.cat(), j.sub());
            check_claims(&j.payload);
        }
        Err(e) => assert_eq!(e.reason, Reason::TokenInvalid, "{e:?}"),
    }
    let now_ms = now_secs() * 1000;
    let result = verify_with_key(token, &k.key, &VerifyOptions::default(), now_ms);
    if let Ok(payload) = result {
        let signing_input = token.rsplit_once('.').map(|(si, _)| si).unwrap_or("");
        if signed == Some(signing_input) {
            return;
        }
        let sub = k
            .genuine_signing_input(signing_input)
            .unwrap_or_else(|| panic!("forged token accepted: {token:?}"));
        assert_eq!(payload.get("sub").and_then(Value::as_str), Some(sub));
    }
}

/// `AuthObject::from_claims` never panics; `has()` never panics; permissions match the reference.
pub fn check_claims(payload: &Map<String, Value>) {
    let Ok(auth) = AuthObject::from_claims(payload) else {
        return;
    };
    assert_eq!(
        auth.user_id.as_deref(),
        payload.get("sub").and_then(Value::as_str)
    );
    if payload.get("v").and_then(Value::as_f64) == Some(2.0) {
        if let Some(o) = payload.get("o").and_then(Value::as_object) {
            let want = reference_permissions(
                payload.get("fea").and_then(Value::as_str).unwrap_or(""),
                o.get("per").and_then(Value::as_str),
                o.get("fpm").and_then(Value::as_str),
            );
            assert_eq!(auth.org_permissions.as_ref(), Some(&want), "{payload:?}");
        }
    }
    for params in [
        HasParams {
            role: Some("org:admin".into()),
            ..Default::default()
        },
        HasParams {
            permission: Some("org:f1:read".into()),
            ..Default::default()
        },
        HasParams {
            feature: Some("o:f1".into()),
            ..Default::default()
        },
        HasParams {
            plan: Some("u:x".into()),
            reverification: Some(Reverification::Preset("strict_mfa".into())),
            ..Default::default()
        },
    ] {
        let _ = auth.has(&params);
    }
}

/// Reference for v2 org permissions (SPEC 3.7), written independently: bits by repeated halving of the decimal
/// string (schoolbook), features and permissions by plain splitting (Clerk's `splitByScope`: a feature is
/// everything after the element's first colon).
pub fn reference_permissions(fea: &str, per: Option<&str>, fpm: Option<&str>) -> Vec<String> {
    let (Some(per), Some(fpm)) = (per, fpm) else {
        return Vec::new();
    };
    let features: Vec<String> = if fea.is_empty() {
        Vec::new()
    } else {
        fea.split(',')
            .map(|e| e.trim())
            .filter_map(|e| {
                let (scope, rest) = e.split_once(':')?;
                ["o", "ou", "uo"].contains(&scope).then(|| rest.to_owned())
            })
            .collect()
    };
    let perms: Vec<&str> = if per.is_empty() {
        Vec::new()
    } else {
        per.split(',').map(str::trim).collect()
    };
    if perms.is_empty() || fpm.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (feature, mask) in features.iter().zip(fpm.split(',').map(str::trim)) {
        let Some(bits) = reference_bits(mask, perms.len()) else {
            continue;
        };
        for (j, p) in perms.iter().enumerate() {
            if bits[j] {
                out.push(format!("org:{feature}:{p}"));
            }
        }
    }
    out
}

/// The low `width` bits (LSB first) of a decimal string, by repeated division by two; `None` if not all digits.
pub fn reference_bits(mask: &str, width: usize) -> Option<Vec<bool>> {
    if mask.is_empty() || !mask.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits: Vec<u8> = mask.bytes().map(|b| b - b'0').collect();
    let mut bits = Vec::with_capacity(width);
    for _ in 0..width {
        bits.push(digits.last().is_some_and(|d| d % 2 == 1));
        let mut rem = 0u8;
        for d in digits.iter_mut() {
            let cur = rem * 10 + *d;
            *d = cur / 2;
            rem = cur % 2;
        }
    }
    Some(bits)
}

/// JSON for claims from fuzzer bytes: objects keyed by claim names, odd numbers and strings.
pub fn json_value(inp: &mut Input<'_>, depth: u8) -> Value {
    const KEYS: &[&str] = &[
        "sub",
        "sid",
        "sts",
        "act",
        "v",
        "o",
        "id",
        "rol",
        "slg",
        "per",
        "fpm",
        "fea",
        "pla",
        "fva",
        "org_id",
        "org_role",
        "org_permissions",
        "exp",
        "nbf",
        "iat",
        "azp",
        "aud",
        "x",
    ];
    const STRS: &[&str] = &[
        "",
        "o:f1",
        "u:f2",
        "ou:f3",
        "o:f1,o:f2",
        "o",
        ":",
        "read,manage",
        "read",
        "2",
        "3",
        "18446744073709551616",
        "340282366920938463463374607431768211457",
        "1e3",
        "-1",
        " 7 ",
        "0x1",
        "org:admin",
        "admin",
        "user_1",
    ];
    match inp.u8() % if depth == 0 { 6 } else { 8 } {
        0 => Value::Null,
        1 => Value::Bool(inp.bool()),
        2 => json!(i64::from(inp.u16()) - 32768),
        3 => json!(inp.pick(&[2.0, 1e300, -0.0, 0.5, 9007199254740993.0, 8.64e12, f64::MAX])),
        4 => json!(inp.pick(STRS)),
        5 => {
            // A long decimal or comma list, for the fpm masks.
            let n = inp.below(400);
            let digit = inp.u8();
            let s: String = (0..n)
                .map(|i| char::from(b'0' + ((usize::from(digit) + i * 7) % 10) as u8))
                .collect();
            Value::String(if inp.bool() {
                s
            } else {
                format!("{s},{}", inp.text(STRS, 3))
            })
        }
        6 => Value::Array(
            (0..inp.below(5))
                .map(|_| json_value(inp, depth - 1))
                .collect(),
        ),
        _ => {
            let mut m = Map::new();
            for _ in 0..inp.below(8) {
                let k = inp.pick(KEYS).to_owned();
                m.insert(k, json_value(inp, depth - 1));
            }
            Value::Object(m)
        }
    }
}

/// A claims object from fuzzer bytes (mostly v2 with an `o` object).
pub fn claims_from_bytes(data: &[u8]) -> Map<String, Value> {
    let mut inp = Input::new(data);
    let mut m = match json_value(&mut inp, 3) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if inp.u8() < 200 {
        m.insert("v".into(), json!(2));
    }
    if inp.u8() < 200 {
        let mut o = Map::new();
        for k in ["id", "rol", "per", "fpm"] {
            o.insert(k.into(), json_value(&mut inp, 0));
        }
        m.insert("o".into(), Value::Object(o));
        m.insert("fea".into(), json_value(&mut inp, 0));
    }
    m
}

/// `decimal_low_bits` against the reference.
pub fn check_decimal_low_bits(s: &str, width: usize) {
    let got = decimal_low_bits(s, width);
    let want = reference_bits(s, width);
    assert_eq!(got.is_some(), want.is_some(), "{s:?}");
    if let (Some(limbs), Some(bits)) = (got, want) {
        assert!(limbs.len() * 64 >= width);
        for (j, bit) in bits.iter().enumerate() {
            assert_eq!((limbs[j / 64] >> (j % 64)) & 1 == 1, *bit, "{s:?} bit {j}");
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Target 6: token extraction and `Authenticator::start`.
// ---------------------------------------------------------------------------------------------------------------

pub fn check_authorization(value: &str) {
    let got = token_from_authorization(value);
    if let Some(t) = got {
        assert!(!t.is_empty());
        assert!(
            t == value && !value.contains(' ') || value.strip_prefix("Bearer ") == Some(t),
            "{value:?} -> {t:?}"
        );
    } else {
        assert!(
            value.is_empty()
                || value == "Bearer "
                || (value.contains(' ') && !value.starts_with("Bearer ")),
            "{value:?} gave no token"
        );
    }
}

pub fn check_cookie(header: &str, name: &str) {
    if let Some(v) = cookie_value(header, name) {
        // A slice of the header itself.
        let start = v.as_ptr() as usize - header.as_ptr() as usize;
        assert!(start + v.len() <= header.len());
        assert!(!v.contains(';'));
        // The name really is a cookie name in the header.
        assert!(header
            .split(';')
            .any(|p| p.split_once('=').is_some_and(|(k, _)| k.trim() == name)));
    }
}

#[derive(Debug, Clone)]
pub struct AuthCase {
    pub authorization: Option<String>,
    pub cookie: Option<String>,
    pub method: String,
    /// 0: PEM key, 1: secret key (JWKS, never fetched here), 2: no key.
    pub key_mode: u8,
    pub accepts: Vec<String>,
    pub cached: bool,
}

pub const ACCEPTS: &[&str] = &[
    "session_token",
    "any",
    "api_key",
    "m2m_token",
    "oauth_token",
];

pub const AUTH_WORDS: &[&str] = &[
    "Bearer ",
    "bearer ",
    "Basic ",
    " ",
    "oat_",
    "ak_",
    "mt_",
    "{T0}",
    "{T1}",
    "{T2}",
    ".",
    "eyJ",
    "__session=",
    "__client_uat=",
    "1700000000",
    "0",
    "-1",
    "99999999999999999999",
    ";",
    "\"",
    "=",
    "\u{ff}",
];

impl AuthCase {
    pub fn decode(data: &[u8]) -> Self {
        let mut inp = Input::new(data);
        Self {
            key_mode: inp.u8() % 3,
            cached: inp.bool(),
            accepts: (0..inp.below(3))
                .map(|_| inp.pick(ACCEPTS).to_owned())
                .collect(),
            method: inp.pick(METHODS).to_owned(),
            authorization: inp.option(|i| i.text(AUTH_WORDS, 6)),
            cookie: inp.option(|i| i.text(AUTH_WORDS, 10)),
        }
    }
}

/// `{T0}`..`{T2}` in the case's strings stand for the genuine tokens.
fn expand(s: &str) -> String {
    let k = keys();
    let mut out = s.to_owned();
    for (i, (t, _)) in k.genuine.iter().enumerate() {
        out = out.replace(&format!("{{T{i}}}"), t);
    }
    out
}

/// A process-wide verified-token cache shared by the authentication checks.
pub fn verified_cache() -> &'static VerifiedCache {
    static CACHE: OnceLock<VerifiedCache> = OnceLock::new();
    CACHE.get_or_init(|| VerifiedCache::new(std::sync::Arc::new(SystemClock)))
}

/// `Authenticator::start` never panics; signed in only with a genuine token, and then as that token's user
/// (also when answered from the shared verified-token cache).
pub fn check_auth(c: &AuthCase) {
    let k = keys();
    let options = match c.key_mode {
        0 => VerifyOptions {
            jwt_key: Some(k.pem.clone()),
            ..Default::default()
        },
        1 => VerifyOptions {
            secret_key: Some("sk_test_prop".into()),
            api_url: "http://127.0.0.1:9".into(),
            ..Default::default()
        },
        _ => VerifyOptions::default(),
    };
    let Ok(accepts) = AcceptsToken::parse(&c.accepts) else {
        return;
    };
    let mut verifier = Verifier::new(options);
    if c.cached {
        verifier = verifier.with_verified_cache(verified_cache(), b"prop");
    }
    let auth = Authenticator::new(verifier, accepts);
    let authorization = c.authorization.as_deref().map(expand);
    let cookie = c.cookie.as_deref().map(expand);
    let input = AuthInput {
        authorization: authorization.as_deref(),
        cookie: cookie.as_deref(),
        method: &c.method,
    };
    match auth.start(&input) {
        Ok(AuthOutcome::SignedIn { token, claims, .. }) => {
            // Compared by signed part: trailing `=` padding is accepted (loose base64url, as Clerk), so a
            // genuine token has equivalent spellings with the same signed header and payload.
            let signing_input = token.rsplit_once('.').map(|(si, _)| si).unwrap_or("");
            let sub = k
                .genuine_signing_input(signing_input)
                .unwrap_or_else(|| panic!("signed in with a token we did not sign: {token:?}"));
            let claims: Value =
                serde_json::from_str(claims.as_deref().expect("session claims")).expect("json");
            assert_eq!(claims["sub"].as_str(), Some(sub), "identity crossed");
            assert_eq!(c.key_mode, 0, "signed in without a key");
        }
        Ok(AuthOutcome::SignedOut { reason, .. }) => assert!(!reason.is_empty()),
        Err(Pending::Session { token, .. }) | Err(Pending::Machine { token, .. }) => {
            assert!(!token.is_empty());
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// One entry point per fuzz target (used by fuzz/fuzz_targets/*.rs and by tests/prop_corpus.rs).
// ---------------------------------------------------------------------------------------------------------------

/// The fuzz target names, in the order `scripts/fuzz.sh` runs them.
pub const TARGETS: [&str; 9] = [
    "request_headers",
    "response_headers",
    "location",
    "prepare",
    "publishable_key",
    "jwt",
    "claims",
    "extract",
    "authenticate",
];

/// Runs fuzz target `target` on `data`; panics on an invariant violation.
pub fn fuzz_one(target: &str, data: &[u8]) {
    match target {
        "request_headers" => {
            check_request_headers(&RequestHeadersCase::decode(data));
        }
        "response_headers" => {
            check_response(&ResponseCase::decode(data));
        }
        "location" => {
            check_location_case(&LocationCase::decode(data));
        }
        "prepare" => check_prepare(&PrepareCase::decode(data)),
        "publishable_key" => check_publishable_key(&String::from_utf8_lossy(data)),
        "jwt" => check_jwt(&decode_token(data)),
        "claims" => {
            check_claims(&claims_from_bytes(data));
            let mut inp = Input::new(data);
            let width = inp.below(300);
            check_decimal_low_bits(&inp.rest_str(), width);
        }
        "extract" => {
            let mut inp = Input::new(data);
            let name = inp.pick(&["__session", "__client_uat", "", "a"]);
            let value = inp.text(AUTH_WORDS, 8);
            check_authorization(&value);
            check_cookie(&value, name);
            check_authorization(&String::from_utf8_lossy(data));
        }
        "authenticate" => check_auth(&AuthCase::decode(data)),
        other => panic!("unknown fuzz target {other}"),
    }
}
