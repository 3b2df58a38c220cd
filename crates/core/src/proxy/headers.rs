//! Header hygiene: the request headers sent upstream (SPEC 1.9, with GAPs 2 and 3 of 1.14) and the response
//! headers passed back to the client (SPEC 1.11).

use http::header::{AUTHORIZATION, CONNECTION, COOKIE, EXPECT, HOST, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::fapi_url::authority_of;

/// The static hop-by-hop header names, never forwarded in either direction.
pub const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Client-supplied forwarding headers, dropped when forwarded headers are not trusted.
const FORWARDING_HEADERS: [&str; 6] = [
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "cf-connecting-ip",
    "forwarded",
];

const CLERK_PROXY_URL: HeaderName = HeaderName::from_static("clerk-proxy-url");
const CLERK_SECRET_KEY: HeaderName = HeaderName::from_static("clerk-secret-key");
const ACCEPT_ENCODING: HeaderName = HeaderName::from_static("accept-encoding");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Tokens of every Connection header value: split on ',', trimmed, lowercased, empties dropped; invalid names
/// skipped, never panics.
pub fn connection_listed(headers: &HeaderMap) -> Vec<HeaderName> {
    let mut out: Vec<HeaderName> = Vec::new();
    for value in headers.get_all(CONNECTION) {
        for token in value.as_bytes().split(|b| *b == b',') {
            let token = token.trim_ascii();
            if token.is_empty() {
                continue;
            }
            if let Ok(name) = HeaderName::from_bytes(&token.to_ascii_lowercase()) {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// Per-request inputs to [`build_upstream_request_headers`].
pub struct RequestContext<'a> {
    /// The URL as the app received it (scheme, host, path, query).
    pub request_url: &'a url::Url,
    /// Normalized proxy path, e.g. "/__clerk".
    pub proxy_path: &'a str,
    /// The `Clerk-Secret-Key` value, already validated.
    pub secret_key: &'a HeaderValue,
    /// The `Host` to send: the FAPI authority, e.g. "frontend-api.clerk.dev" or "localhost:8001".
    pub fapi_authority: &'a str,
    /// The socket peer IP, if known (used for `X-Forwarded-For` when no header names the client).
    pub remote_address: Option<&'a str>,
    /// Whether the client's X-Forwarded-*, X-Real-IP, CF-Connecting-IP and Forwarded headers are believed.
    pub trust_forwarded_headers: bool,
}

/// The result of [`build_upstream_request_headers`].
#[derive(Debug, Clone)]
pub struct UpstreamRequestHeaders {
    /// The headers to send upstream (`Clerk-Secret-Key`, `Cookie` and `Authorization` are marked sensitive).
    pub headers: HeaderMap,
    /// publicOrigin + proxy_path, e.g. `https://myapp.example.com/__clerk`: the Clerk-Proxy-Url value and the
    /// Location rewrite base.
    pub proxy_url: String,
}

/// SPEC 1.9 steps 1-8 in order. `incoming` is the request's headers (possibly multi-valued).
///
/// 1. Copy every header except the static hop-by-hop set, the Connection-listed names, `host` and `expect`
///    (plus the forwarding headers when `trust_forwarded_headers` is false); repeated values become one value
///    joined with `"; "` for `cookie` and `", "` otherwise.
/// 2. `Clerk-Proxy-Url` = publicOrigin + proxy path, where publicOrigin is `<XFP>://<XFH>` (first comma values,
///    both required, proto http/https and a syntactically valid `host[:port]`; only when trusted) or else the
///    request URL's origin.
/// 3. `Clerk-Secret-Key`; 4. `Host` = FAPI authority; 5. `Accept-Encoding: identity` (all overwrite).
/// 6. / 7. `X-Forwarded-Host` / `X-Forwarded-Proto` from the request URL, only if absent.
/// 8. `X-Forwarded-For` = CF-Connecting-IP, X-Real-IP or the first X-Forwarded-For element (trusted only),
///    else the socket peer address (GAP 3), else left as copied.
pub fn build_upstream_request_headers(
    incoming: &HeaderMap,
    ctx: &RequestContext<'_>,
) -> UpstreamRequestHeaders {
    let trust = ctx.trust_forwarded_headers;

    // Step 1: copy.
    let dynamic = connection_listed(incoming);
    let mut headers = HeaderMap::with_capacity(incoming.keys_len() + 6);
    for name in incoming.keys() {
        if is_hop_by_hop(name)
            || dynamic.contains(name)
            || name == HOST
            || name == EXPECT
            || (!trust && FORWARDING_HEADERS.contains(&name.as_str()))
        {
            continue;
        }
        if let Some(mut value) = joined_value(incoming, name) {
            if name == COOKIE || name == AUTHORIZATION {
                value.set_sensitive(true);
            }
            headers.insert(name.clone(), value);
        }
    }

    // Step 2: Clerk-Proxy-Url.
    let request_origin = ctx.request_url.origin().ascii_serialization();
    let public_origin = if trust {
        forwarded_origin(incoming).unwrap_or(request_origin)
    } else {
        request_origin
    };
    let proxy_url = format!("{public_origin}{}", ctx.proxy_path);
    set_or_remove(&mut headers, CLERK_PROXY_URL, &proxy_url);

    // Step 3: Clerk-Secret-Key.
    let mut secret = ctx.secret_key.clone();
    secret.set_sensitive(true);
    headers.insert(CLERK_SECRET_KEY, secret);

    // Step 4: Host.
    set_or_remove(&mut headers, HOST, ctx.fapi_authority);

    // Step 5: Accept-Encoding.
    headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));

    // Steps 6 and 7: X-Forwarded-Host / -Proto, only if absent.
    if !headers.contains_key(X_FORWARDED_HOST) {
        if let Some(host) = authority_of(ctx.request_url) {
            if let Ok(value) = HeaderValue::from_str(&host) {
                headers.insert(X_FORWARDED_HOST, value);
            }
        }
    }
    if !headers.contains_key(X_FORWARDED_PROTO) {
        if let Ok(value) = HeaderValue::from_str(ctx.request_url.scheme()) {
            headers.insert(X_FORWARDED_PROTO, value);
        }
    }

    // Step 8: X-Forwarded-For.
    let header_ip = if trust { client_ip(incoming) } else { None };
    let ip_value = header_ip
        .as_deref()
        .or(ctx.remote_address)
        .and_then(|ip| HeaderValue::from_str(ip).ok());
    if let Some(value) = ip_value {
        headers.insert(X_FORWARDED_FOR, value);
    }

    UpstreamRequestHeaders { headers, proxy_url }
}

/// SPEC 1.11: copy response headers except static hop-by-hop and the response's own Connection-listed names.
/// Every Set-Cookie stays its own entry. (Content-Encoding/Content-Length of a body reqwest decoded never reach
/// here: reqwest removes them itself.)
///
/// Other repeated headers are joined into one value with `", "`, as Fetch `Headers` does.
pub fn filter_response_headers(upstream: &HeaderMap) -> HeaderMap {
    let dynamic = connection_listed(upstream);
    let mut out = HeaderMap::with_capacity(upstream.keys_len());
    for name in upstream.keys() {
        if is_hop_by_hop(name) || dynamic.contains(name) {
            continue;
        }
        if name == SET_COOKIE {
            for value in upstream.get_all(name) {
                out.append(name.clone(), value.clone());
            }
        } else if let Some(value) = joined_value(upstream, name) {
            out.insert(name.clone(), value);
        }
    }
    out
}

/// Whether `name` is in [`HOP_BY_HOP`].
fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

/// All values of `name` as one value: the single value as-is, or the values joined with `"; "` (`cookie`) or
/// `", "` (everything else). `None` if absent.
fn joined_value(map: &HeaderMap, name: &HeaderName) -> Option<HeaderValue> {
    let mut values = map.get_all(name).iter();
    let first = values.next()?;
    let Some(second) = values.next() else {
        return Some(first.clone());
    };
    let separator: &[u8] = if name == COOKIE { b"; " } else { b", " };
    let mut bytes = first.as_bytes().to_vec();
    for value in std::iter::once(second).chain(values) {
        bytes.extend_from_slice(separator);
        bytes.extend_from_slice(value.as_bytes());
    }
    // Joining valid values with a valid separator is valid; an error here would only drop the header.
    let mut joined = HeaderValue::from_bytes(&bytes).ok()?;
    joined.set_sensitive(map.get_all(name).iter().any(HeaderValue::is_sensitive));
    Some(joined)
}

/// Fetch `headers.get(name)`: all values joined with `", "`, as text; `None` if absent or not visible ASCII.
fn header_text(map: &HeaderMap, name: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for value in map.get_all(name) {
        let text = value.to_str().ok()?;
        match out.as_mut() {
            Some(joined) => {
                joined.push_str(", ");
                joined.push_str(text);
            }
            None => out = Some(text.to_owned()),
        }
    }
    out
}

/// The first comma-separated element of header `name`, trimmed; `None` if absent, empty or not ASCII.
fn first_element(map: &HeaderMap, name: &str) -> Option<String> {
    let text = header_text(map, name)?;
    let first = text.split(',').next().unwrap_or_default().trim();
    (!first.is_empty()).then(|| first.to_owned())
}

/// The client IP named by the request headers: CF-Connecting-IP, then X-Real-IP, then the first element of
/// X-Forwarded-For (SPEC 1.9 step 8).
fn client_ip(map: &HeaderMap) -> Option<String> {
    for name in ["cf-connecting-ip", "x-real-ip"] {
        if let Some(text) = header_text(map, name) {
            let ip = text.trim();
            if !ip.is_empty() {
                return Some(ip.to_owned());
            }
        }
    }
    first_element(map, "x-forwarded-for")
}

/// `<proto>://<host>` from X-Forwarded-Proto and X-Forwarded-Host (first elements, both required), if the proto
/// is http or https and the host is a syntactically valid `host[:port]` (SPEC 1.14 GAP 2 hardening).
fn forwarded_origin(map: &HeaderMap) -> Option<String> {
    let proto = first_element(map, "x-forwarded-proto")?.to_ascii_lowercase();
    let host = first_element(map, "x-forwarded-host")?;
    if !matches!(proto.as_str(), "http" | "https") || !is_valid_authority(&host) {
        return None;
    }
    Some(format!("{proto}://{host}"))
}

/// A syntactically valid `host[:port]`: a reg-name/IPv4 of letters, digits, `-`, `.`, `_`, or a bracketed IPv6
/// literal, and an optional port of 1-5 digits up to 65535. Rejects `/`, `@`, `%`, whitespace and anything else.
///
/// The one host grammar of the proxy: X-Forwarded-Host, the request URL's host (see
/// [`ProxyConfig::prepare`](super::config::ProxyConfig::prepare)) and, through the binding, the `Host` header
/// checked by the Express and Next adapters.
pub fn is_valid_authority(authority: &str) -> bool {
    if authority.len() > 261 {
        return false;
    }
    let (host_ok, port) = if let Some(rest) = authority.strip_prefix('[') {
        let Some((inner, after)) = rest.split_once(']') else {
            return false;
        };
        let inner_ok = inner.contains(':')
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        (inner_ok, port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        (host_ok, port)
    };
    let port_ok = match port {
        None => true,
        Some(port) => {
            !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u32>().is_ok_and(|n| n <= 65_535)
        }
    };
    host_ok && port_ok
}

/// The host part of [`is_valid_authority`] alone (no port): a reg-name/IPv4 of letters, digits, `-`, `.`, `_`, or
/// a bracketed IPv6 literal. No allocation.
pub fn is_valid_host_name(host: &str) -> bool {
    if host.is_empty() || host.len() > 255 {
        return false;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return inner.contains(':')
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    }
    host.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// Inserts `value` under `name`, or removes any copied value if `value` is not a valid header value.
fn set_or_remove(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(value) => {
            headers.insert(name, value);
        }
        Err(_) => {
            headers.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list of (name, raw value) request or response headers.
    type Pairs = &'static [(&'static str, &'static [u8])];

    const SK: &str = "sk_test_xxx";
    const FAPI: &str = "frontend-api.clerk.dev";

    fn map(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (name, value) in pairs {
            m.append(
                HeaderName::from_bytes(name.as_bytes()).expect("test header name"),
                HeaderValue::from_bytes(value).expect("test header value"),
            );
        }
        m
    }

    struct Req<'a> {
        url: &'a str,
        proxy_path: &'a str,
        remote: Option<&'a str>,
        trust: bool,
        fapi: &'a str,
    }

    impl Default for Req<'_> {
        fn default() -> Self {
            Req {
                url: "https://example.com/__clerk/v1/client",
                proxy_path: "/__clerk",
                remote: None,
                trust: true,
                fapi: FAPI,
            }
        }
    }

    fn build(req: Req<'_>, incoming: &[(&str, &[u8])]) -> UpstreamRequestHeaders {
        let url = url::Url::parse(req.url).expect("test url");
        let sk = HeaderValue::from_static(SK);
        let ctx = RequestContext {
            request_url: &url,
            proxy_path: req.proxy_path,
            secret_key: &sk,
            fapi_authority: req.fapi,
            remote_address: req.remote,
            trust_forwarded_headers: req.trust,
        };
        build_upstream_request_headers(&map(incoming), &ctx)
    }

    fn get<'m>(h: &'m HeaderMap, name: &str) -> Option<&'m str> {
        assert!(
            h.get_all(name).iter().count() <= 1,
            "{name} is multi-valued"
        );
        h.get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn connection_tokens() {
        let cases: [(&[&[u8]], &[&str]); 7] = [
            (
                &[b"keep-alive, X-Custom-Hop"],
                &["keep-alive", "x-custom-hop"],
            ),
            (&[b"close"], &["close"]),
            (&[b" , ,, "], &[]),
            (&[b"A", b"b, a"], &["a", "b"]),
            (&[b"bad name, (x), ok"], &["ok"]),
            (&[b"\xff\xfe, X-Ok\t"], &["x-ok"]),
            (&[], &[]),
        ];
        for (values, want) in cases {
            let mut m = HeaderMap::new();
            for v in values {
                m.append(CONNECTION, HeaderValue::from_bytes(v).expect("value"));
            }
            let got: Vec<String> = connection_listed(&m)
                .iter()
                .map(|n| n.as_str().to_owned())
                .collect();
            assert_eq!(got, *want, "{values:?}");
        }
    }

    /// SPEC 6: GET with User-Agent -> Clerk-Proxy-Url, Clerk-Secret-Key, Host.
    #[test]
    fn basic_get() {
        let out = build(Req::default(), &[("user-agent", b"Test")]);
        let h = &out.headers;
        assert_eq!(out.proxy_url, "https://example.com/__clerk");
        assert_eq!(
            get(h, "clerk-proxy-url"),
            Some("https://example.com/__clerk")
        );
        assert_eq!(get(h, "clerk-secret-key"), Some(SK));
        assert_eq!(get(h, "host"), Some(FAPI));
        assert_eq!(get(h, "user-agent"), Some("Test"));
        assert_eq!(get(h, "accept-encoding"), Some("identity"));
        assert_eq!(get(h, "x-forwarded-host"), Some("example.com"));
        assert_eq!(get(h, "x-forwarded-proto"), Some("https"));
        assert_eq!(get(h, "x-forwarded-for"), None);
        assert_eq!(h.len(), 7);
    }

    #[test]
    fn host_is_fapi_authority_with_port() {
        let out = build(
            Req {
                fapi: "localhost:8001",
                ..Req::default()
            },
            &[("host", b"example.com")],
        );
        assert_eq!(get(&out.headers, "host"), Some("localhost:8001"));
    }

    #[test]
    fn custom_proxy_path_in_proxy_url() {
        let out = build(
            Req {
                url: "https://example.com/custom-clerk/v1/client",
                proxy_path: "/custom-clerk",
                ..Req::default()
            },
            &[],
        );
        assert_eq!(
            get(&out.headers, "clerk-proxy-url"),
            Some("https://example.com/custom-clerk")
        );
    }

    /// SPEC 6: hop-by-hop stripping, static and Connection-listed.
    #[test]
    fn strips_hop_by_hop() {
        let cases: [&[(&str, &[u8])]; 2] = [
            &[
                ("connection", b"keep-alive"),
                ("keep-alive", b"timeout=5"),
                ("transfer-encoding", b"chunked"),
                ("user-agent", b"Test"),
            ],
            &[
                ("connection", b"keep-alive, X-Custom-Hop"),
                ("x-custom-hop", b"some-value"),
                ("user-agent", b"Test"),
            ],
        ];
        for incoming in cases {
            let h = build(Req::default(), incoming).headers;
            for gone in [
                "connection",
                "keep-alive",
                "transfer-encoding",
                "x-custom-hop",
            ] {
                assert!(!h.contains_key(gone), "{gone} forwarded");
            }
            assert_eq!(get(&h, "user-agent"), Some("Test"));
        }
        let all: Vec<(&str, &[u8])> = HOP_BY_HOP.iter().map(|n| (*n, &b"x"[..])).collect();
        let h = build(Req::default(), &all).headers;
        for name in HOP_BY_HOP {
            assert!(!h.contains_key(name), "{name} forwarded");
        }
    }

    #[test]
    fn drops_host_and_expect_and_keeps_the_rest() {
        let h = build(
            Req::default(),
            &[
                ("host", b"example.com"),
                ("expect", b"100-continue"),
                ("content-type", b"application/json"),
                ("content-length", b"3"),
                ("authorization", b"Bearer t"),
                ("origin", b"https://example.com"),
                ("accept", b"*/*"),
            ],
        )
        .headers;
        assert!(!h.contains_key("expect"));
        assert_eq!(get(&h, "host"), Some(FAPI));
        assert_eq!(get(&h, "content-type"), Some("application/json"));
        assert_eq!(get(&h, "content-length"), Some("3"));
        assert_eq!(get(&h, "authorization"), Some("Bearer t"));
        assert_eq!(get(&h, "origin"), Some("https://example.com"));
        assert_eq!(get(&h, "accept"), Some("*/*"));
    }

    /// Connection may list the names we set ourselves: they are set after stripping, so they survive.
    #[test]
    fn connection_cannot_remove_headers_we_set() {
        let h = build(
            Req::default(),
            &[
                (
                    "connection",
                    b"clerk-secret-key, host, clerk-proxy-url, accept-encoding, x-forwarded-host, x-forwarded-proto",
                ),
                ("clerk-secret-key", b"sk_live_spoofed"),
                ("clerk-proxy-url", b"https://evil.com/__clerk"),
                ("host", b"example.com"),
            ],
        )
        .headers;
        assert_eq!(get(&h, "clerk-secret-key"), Some(SK));
        assert_eq!(
            get(&h, "clerk-proxy-url"),
            Some("https://example.com/__clerk")
        );
        assert_eq!(get(&h, "host"), Some(FAPI));
        assert_eq!(get(&h, "accept-encoding"), Some("identity"));
        assert_eq!(get(&h, "x-forwarded-host"), Some("example.com"));
        assert_eq!(get(&h, "x-forwarded-proto"), Some("https"));
    }

    #[test]
    fn client_clerk_headers_are_overwritten() {
        let h = build(
            Req::default(),
            &[
                ("clerk-secret-key", b"sk_live_spoofed"),
                ("clerk-proxy-url", b"https://evil.com/__clerk"),
                ("accept-encoding", b"gzip, deflate, br"),
            ],
        )
        .headers;
        assert_eq!(get(&h, "clerk-secret-key"), Some(SK));
        assert_eq!(
            get(&h, "clerk-proxy-url"),
            Some("https://example.com/__clerk")
        );
        assert_eq!(get(&h, "accept-encoding"), Some("identity"));
    }

    #[test]
    fn repeated_values_are_joined() {
        let h = build(
            Req::default(),
            &[
                ("cookie", b"a=1"),
                ("cookie", b"b=2"),
                ("accept", b"text/html"),
                ("accept", b"*/*"),
                ("x-custom", b"\xe9"),
                ("x-custom", b"z"),
            ],
        )
        .headers;
        assert_eq!(get(&h, "cookie"), Some("a=1; b=2"));
        assert_eq!(get(&h, "accept"), Some("text/html, */*"));
        assert_eq!(
            h.get("x-custom").map(HeaderValue::as_bytes),
            Some(&b"\xe9, z"[..])
        );
    }

    #[test]
    fn secrets_are_sensitive() {
        let out = build(
            Req::default(),
            &[("cookie", b"__session=s"), ("authorization", b"Bearer t")],
        );
        for name in ["clerk-secret-key", "cookie", "authorization"] {
            assert!(
                out.headers.get(name).is_some_and(HeaderValue::is_sensitive),
                "{name}"
            );
        }
        let debug = format!("{out:?}");
        assert!(!debug.contains(SK) && !debug.contains("__session") && !debug.contains("Bearer"));
    }

    /// SPEC 6: X-Forwarded-For precedence and collapsing.
    #[test]
    fn client_ip_precedence() {
        let cases: [(Pairs, Option<&str>, Option<&str>); 12] = [
            (
                &[("x-forwarded-for", b"192.168.1.1")],
                None,
                Some("192.168.1.1"),
            ),
            (
                &[
                    ("cf-connecting-ip", b"10.0.0.1"),
                    ("x-forwarded-for", b"192.168.1.1"),
                ],
                None,
                Some("10.0.0.1"),
            ),
            (
                &[
                    ("x-real-ip", b"10.0.0.2"),
                    ("x-forwarded-for", b"192.168.1.1"),
                ],
                None,
                Some("10.0.0.2"),
            ),
            (
                &[
                    ("cf-connecting-ip", b"10.0.0.1"),
                    ("x-real-ip", b"10.0.0.2"),
                ],
                None,
                Some("10.0.0.1"),
            ),
            (
                &[("x-forwarded-for", b" 1.1.1.1 , 2.2.2.2, 3.3.3.3")],
                None,
                Some("1.1.1.1"),
            ),
            (
                &[
                    ("x-forwarded-for", b"1.1.1.1"),
                    ("x-forwarded-for", b"2.2.2.2"),
                ],
                None,
                Some("1.1.1.1"),
            ),
            // Empty first element: no IP found, left as copied.
            (
                &[("x-forwarded-for", b" , 2.2.2.2")],
                None,
                Some(" , 2.2.2.2"),
            ),
            // ... unless the socket peer is known (GAP 3).
            (
                &[("x-forwarded-for", b" , 2.2.2.2")],
                Some("127.0.0.9"),
                Some("127.0.0.9"),
            ),
            (&[], None, None),
            (&[], Some("127.0.0.9"), Some("127.0.0.9")),
            (
                &[("x-forwarded-for", b"192.168.1.1")],
                Some("127.0.0.9"),
                Some("192.168.1.1"),
            ),
            // Non-ASCII CF-Connecting-IP is treated as absent.
            (
                &[("cf-connecting-ip", b"\xff"), ("x-real-ip", b"10.0.0.2")],
                None,
                Some("10.0.0.2"),
            ),
        ];
        for (incoming, remote, want) in cases {
            let h = build(
                Req {
                    remote,
                    ..Req::default()
                },
                incoming,
            )
            .headers;
            assert_eq!(get(&h, "x-forwarded-for"), want, "{incoming:?} {remote:?}");
        }
    }

    /// SPEC 6: X-Forwarded-Host / -Proto from the request URL unless present.
    #[test]
    fn forwarded_host_and_proto() {
        let cases: [(&str, Pairs, &str, &str); 5] = [
            (
                "https://example.com/__clerk/v1/client",
                &[],
                "example.com",
                "https",
            ),
            (
                "http://localhost:3000/__clerk/v1/client",
                &[],
                "localhost:3000",
                "http",
            ),
            ("http://[::1]:3000/__clerk", &[], "[::1]:3000", "http"),
            (
                "https://internal-server.local/__clerk/v1/client",
                &[
                    ("x-forwarded-host", b"myapp.example.com"),
                    ("x-forwarded-proto", b"https"),
                ],
                "myapp.example.com",
                "https",
            ),
            // Kept as-is, not split.
            (
                "https://example.com/__clerk",
                &[
                    ("x-forwarded-host", b"a.example.com, b.example.com"),
                    ("x-forwarded-proto", b"http"),
                ],
                "a.example.com, b.example.com",
                "http",
            ),
        ];
        for (url, incoming, xfh, xfp) in cases {
            let h = build(
                Req {
                    url,
                    ..Req::default()
                },
                incoming,
            )
            .headers;
            assert_eq!(get(&h, "x-forwarded-host"), Some(xfh), "{url}");
            assert_eq!(get(&h, "x-forwarded-proto"), Some(xfp), "{url}");
        }
    }

    /// SPEC 6: Clerk-Proxy-Url from X-Forwarded-Proto + X-Forwarded-Host, with GAP 2 syntax hardening.
    #[test]
    fn proxy_url_from_forwarded_headers() {
        const LOCAL: &str = "http://localhost:3000/__clerk";
        let cases: [(Pairs, &str); 15] = [
            (
                &[
                    ("x-forwarded-host", b"myapp.example.com"),
                    ("x-forwarded-proto", b"https"),
                ],
                "https://myapp.example.com/__clerk",
            ),
            (&[], LOCAL),
            (&[("x-forwarded-host", b"myapp.example.com")], LOCAL),
            (&[("x-forwarded-proto", b"https")], LOCAL),
            (
                &[
                    ("x-forwarded-host", b" myapp.example.com , proxy.internal"),
                    ("x-forwarded-proto", b"HTTPS , http"),
                ],
                "https://myapp.example.com/__clerk",
            ),
            (
                &[
                    ("x-forwarded-host", b"myapp.example.com:8443"),
                    ("x-forwarded-proto", b"https"),
                ],
                "https://myapp.example.com:8443/__clerk",
            ),
            (
                &[
                    ("x-forwarded-host", b"[2001:db8::1]:8443"),
                    ("x-forwarded-proto", b"http"),
                ],
                "http://[2001:db8::1]:8443/__clerk",
            ),
            (
                &[("x-forwarded-host", b""), ("x-forwarded-proto", b"https")],
                LOCAL,
            ),
            (
                &[
                    ("x-forwarded-host", b"evil.com/path"),
                    ("x-forwarded-proto", b"https"),
                ],
                LOCAL,
            ),
            (
                &[
                    ("x-forwarded-host", b"user@evil.com"),
                    ("x-forwarded-proto", b"https"),
                ],
                LOCAL,
            ),
            (
                &[
                    ("x-forwarded-host", b"ev il.com"),
                    ("x-forwarded-proto", b"https"),
                ],
                LOCAL,
            ),
            (
                &[
                    ("x-forwarded-host", b"evil.com:99999"),
                    ("x-forwarded-proto", b"https"),
                ],
                LOCAL,
            ),
            (
                &[
                    ("x-forwarded-host", b"myapp.example.com"),
                    ("x-forwarded-proto", b"javascript"),
                ],
                LOCAL,
            ),
            (
                &[
                    ("x-forwarded-host", b"\xe9vil.com"),
                    ("x-forwarded-proto", b"https"),
                ],
                LOCAL,
            ),
            (
                &[
                    ("x-forwarded-host", b"a::1"),
                    ("x-forwarded-proto", b"https"),
                ],
                LOCAL,
            ),
        ];
        for (incoming, want) in cases {
            let out = build(
                Req {
                    url: "http://localhost:3000/__clerk/v1/client",
                    ..Req::default()
                },
                incoming,
            );
            assert_eq!(out.proxy_url, want, "{incoming:?}");
            assert_eq!(
                get(&out.headers, "clerk-proxy-url"),
                Some(want),
                "{incoming:?}"
            );
        }
    }

    #[test]
    fn authority_syntax() {
        let valid = [
            "a",
            "a.b",
            "a-b_c.d",
            "a:1",
            "a:65535",
            "[::1]",
            "[::1]:80",
            "[::ffff:1.2.3.4]",
            "1.2.3.4:5",
        ];
        let invalid = [
            "", ":80", "a:", "a:65536", "a:123456", "a:x", "a:1:2", "[::1", "[::1]x", "[::1]:",
            "[]", "[g::1]", "a/b", "a@b", "a b", "a\tb", "a?b", "a#b", "a\\b", "é.com",
        ];
        for a in valid {
            assert!(is_valid_authority(a), "{a}");
        }
        for a in invalid {
            assert!(!is_valid_authority(a), "{a}");
        }
        assert!(!is_valid_authority(&"a".repeat(300)));
    }

    /// trust_forwarded_headers = false: spoofed forwarding headers never reach FAPI or Clerk-Proxy-Url.
    #[test]
    fn untrusted_forwarded_headers_are_replaced() {
        let spoofed: &[(&str, &[u8])] = &[
            ("x-forwarded-host", b"evil.com"),
            ("x-forwarded-proto", b"http"),
            ("x-forwarded-for", b"6.6.6.6"),
            ("x-real-ip", b"6.6.6.7"),
            ("cf-connecting-ip", b"6.6.6.8"),
            ("forwarded", b"for=6.6.6.9;host=evil.com;proto=http"),
            ("user-agent", b"Test"),
        ];
        for (remote, xff) in [(Some("127.0.0.9"), Some("127.0.0.9")), (None, None)] {
            let out = build(
                Req {
                    trust: false,
                    remote,
                    ..Req::default()
                },
                spoofed,
            );
            let h = &out.headers;
            assert_eq!(out.proxy_url, "https://example.com/__clerk");
            assert_eq!(
                get(h, "clerk-proxy-url"),
                Some("https://example.com/__clerk")
            );
            assert_eq!(get(h, "x-forwarded-host"), Some("example.com"));
            assert_eq!(get(h, "x-forwarded-proto"), Some("https"));
            assert_eq!(get(h, "x-forwarded-for"), xff);
            assert!(!h.contains_key("x-real-ip"));
            assert!(!h.contains_key("cf-connecting-ip"));
            assert!(!h.contains_key("forwarded"));
            assert_eq!(get(h, "user-agent"), Some("Test"));
        }
    }

    #[test]
    fn odd_bytes_never_panic() {
        let garbage: &[(&str, &[u8])] = &[
            ("connection", b"\xff\x80, ,\t"),
            ("x-forwarded-host", b"\x80\x81"),
            ("x-forwarded-proto", b"\xff"),
            ("x-forwarded-for", b"\xfe"),
            ("cf-connecting-ip", b""),
            ("x-real-ip", b"   "),
            ("cookie", b"\xff"),
        ];
        for trust in [true, false] {
            let out = build(
                Req {
                    trust,
                    remote: Some("bad\nvalue"),
                    ..Req::default()
                },
                garbage,
            );
            assert_eq!(out.proxy_url, "https://example.com/__clerk");
            assert_eq!(get(&out.headers, "host"), Some(FAPI));
        }
        let weird_path = build(
            Req {
                proxy_path: "/a\nb",
                ..Req::default()
            },
            &[("clerk-proxy-url", b"https://evil.com")],
        );
        assert!(!weird_path.headers.contains_key("clerk-proxy-url"));
    }

    /// SPEC 6: a response Connection header listing Location drops it.
    #[test]
    fn response_connection_listed_dropped() {
        let upstream = map(&[
            ("connection", b"close, Location"),
            ("location", b"https://frontend-api.clerk.dev/v1/client"),
            ("keep-alive", b"timeout=5"),
            ("transfer-encoding", b"chunked"),
            ("trailer", b"x"),
            ("upgrade", b"h2c"),
            ("proxy-authenticate", b"Basic"),
            ("content-type", b"application/json"),
        ]);
        let out = filter_response_headers(&upstream);
        assert_eq!(out.len(), 1);
        assert_eq!(get(&out, "content-type"), Some("application/json"));
    }

    /// SPEC 6: three Set-Cookie values stay three entries, in order.
    #[test]
    fn response_set_cookies_kept() {
        let cookies: [&[u8]; 3] = [
            b"__client=abc123; Path=/; HttpOnly; Secure",
            b"__client_uat=1234567890; Path=/; Secure",
            b"__session=xyz789; Path=/; HttpOnly; Secure",
        ];
        let upstream = map(&[
            ("set-cookie", cookies[0]),
            ("set-cookie", cookies[1]),
            ("set-cookie", cookies[2]),
            ("vary", b"Origin"),
            ("vary", b"Cookie"),
        ]);
        let out = filter_response_headers(&upstream);
        let got: Vec<&[u8]> = out
            .get_all("set-cookie")
            .iter()
            .map(HeaderValue::as_bytes)
            .collect();
        assert_eq!(got, cookies);
        assert_eq!(get(&out, "vary"), Some("Origin, Cookie"));
    }

    /// SPEC 6: Content-Encoding / Content-Length are kept as given. A body reqwest decoded arrives without them
    /// (reqwest removes both; `tests/proxy_upstream.rs` `gzip_from_upstream_is_decoded_without_encoding_headers`).
    #[test]
    fn response_encoding_headers() {
        let upstream = map(&[
            ("content-encoding", b"gzip"),
            ("content-length", b"500"),
            ("content-type", b"application/javascript"),
        ]);
        let raw = filter_response_headers(&upstream);
        assert_eq!(get(&raw, "content-encoding"), Some("gzip"));
        assert_eq!(get(&raw, "content-length"), Some("500"));
        assert_eq!(get(&raw, "content-type"), Some("application/javascript"));
    }
}
