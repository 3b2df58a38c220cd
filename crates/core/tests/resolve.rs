//! `auth::resolve` (the network half of the handshake) against a Backend API stand-in on 127.0.0.1 that records
//! method, path and query, headers and body.
//!
//! The exact requests are compared with what @clerk/backend 3.25.0 sends: `fixtures/capture-clerk-bapi.mjs` runs
//! Clerk's `createClerkClient({ secretKey, apiUrl }).clients.getHandshakePayload({ nonce })` and
//! `.sessions.refreshSession(sid, {...})` (with `suffixed_cookies` true and false) against a recording server and
//! prints what arrived; its output is committed as `fixtures/clerk-bapi-requests.json`
//! (`node crates/core/tests/fixtures/capture-clerk-bapi.mjs > crates/core/tests/fixtures/clerk-bapi-requests.json`
//! from the repository root regenerates it). Compared: method, path and query, `Authorization`,
//! `Clerk-API-Version`, `Content-Type`, and the body byte for byte. Not compared: `User-Agent` (ours is
//! `clerk-native/<version>`, Clerk's `@clerk/backend@<version>`) and the headers the HTTP stacks add themselves
//! (`accept-language`, `sec-fetch-mode`, `accept-encoding`, `connection`).
//!
//! `fixtures/capture-clerk-refresh.mjs` runs Clerk's own `authenticateRequest` (expired `__session_<suffix>`,
//! `__refresh_<suffix>` cookie, GET) once per canned answer of the refresh call and records the reason Clerk derived
//! (`session-token-expired-refresh-<code>`) and the refresh request it sent; its output is
//! `fixtures/clerk-refresh-reasons.json`, and [`refresh_codes_match_what_clerks_authenticate_request_derived`]
//! asserts our codes and our request (body byte for byte, `request_headers` from [`request_headers_of`]) against it.
//!
//! Then every failure mode: 4xx with `errors[0].code`, 5xx, invalid JSON, non-JSON bodies, 204, a redirect (not
//! followed), oversize bodies, connection refused and timeout, with the codes Clerk's `refreshToken` derives; and
//! the legacy handshake JWT with `jwtKey` and with the secret-key JWKS.

mod token_support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use clerk_native_core::auth::resolve::{
    handshake_headers, handshake_payload, refresh_session, refresh_session_id, request_headers_of,
    session_id_from_expired_token, session_token_from_directives, set_cookie_headers,
    verify_handshake_token, RefreshError, RefreshReason, RefreshRequest, ResolveError,
    ResolveErrorKind,
};
use clerk_native_core::clock::ManualClock;
use clerk_native_core::jwks::{JwksClient, JwksConfig};
use clerk_native_core::jwt::category;
use clerk_native_core::token::{Reason, Verifier, VerifyOptions};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use token_support::{jwks, now_secs, Signer};
use tokio::net::TcpListener;

const SK: &str = "sk_test_resolve_SECRET";
const EXPIRED: &str = "EXPIRED.TOKEN.VALUE";
const REFRESH: &str = "REFRESH_TOKEN_VALUE";
/// The secret key of `fixtures/capture-clerk-bapi.mjs`.
const CAPTURE_SK: &str = "sk_test_capture";

// ------------------------------------------------------------------------------------------------------------
// A recording Backend API stand-in whose replies set status, content type, body and delay.

#[derive(Clone, Debug)]
struct Reply {
    status: u16,
    content_type: Option<&'static str>,
    body: String,
    delay_ms: u64,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Self::typed(status, Some("application/json"), &body.to_string())
    }
    fn typed(status: u16, content_type: Option<&'static str>, body: &str) -> Self {
        Self {
            status,
            content_type,
            body: body.to_owned(),
            delay_ms: 0,
            headers: Vec::new(),
        }
    }
    fn delayed(mut self, ms: u64) -> Self {
        self.delay_ms = ms;
        self
    }
    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

#[derive(Clone, Debug)]
struct Recorded {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Router = dyn Fn(&Recorded) -> Reply + Send + Sync;

struct Bapi {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    router: Arc<Mutex<Arc<Router>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Bapi {
    async fn start(reply: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let router: Arc<Mutex<Arc<Router>>> =
            Arc::new(Mutex::new(Arc::new(move |_: &Recorded| reply.clone())));
        let (reqs, rt) = (requests.clone(), router.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (reqs, rt) = (reqs.clone(), rt.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (reqs, rt) = (reqs.clone(), rt.clone());
                        async move {
                            let rec = Recorded {
                                method: req.method().to_string(),
                                path: req
                                    .uri()
                                    .path_and_query()
                                    .map(|p| p.to_string())
                                    .unwrap_or_default(),
                                headers: req
                                    .headers()
                                    .iter()
                                    .map(|(k, v)| {
                                        (k.to_string(), v.to_str().unwrap_or("").to_owned())
                                    })
                                    .collect(),
                                body: req
                                    .into_body()
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes().to_vec())
                                    .unwrap_or_default(),
                            };
                            let router = rt.lock().unwrap().clone();
                            let reply = router(&rec);
                            reqs.lock().unwrap().push(rec);
                            if reply.delay_ms > 0 {
                                tokio::time::sleep(Duration::from_millis(reply.delay_ms)).await;
                            }
                            let mut response = hyper::Response::builder().status(reply.status);
                            if let Some(ct) = reply.content_type {
                                response = response.header("content-type", ct);
                            }
                            for (k, v) in &reply.headers {
                                response = response.header(*k, v.as_str());
                            }
                            Ok::<_, Infallible>(
                                response.body(Full::new(Bytes::from(reply.body))).unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self {
            addr,
            requests,
            router,
            task,
        }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn set_reply(&self, reply: Reply) {
        *self.router.lock().unwrap() = Arc::new(move |_: &Recorded| reply.clone());
    }

    fn set_router(&self, router: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) {
        *self.router.lock().unwrap() = Arc::new(router);
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

impl Drop for Bapi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ------------------------------------------------------------------------------------------------------------
// Helpers

fn client(fetch_timeout_ms: u64, max_response_bytes: usize) -> Arc<JwksClient> {
    Arc::new(JwksClient::with_clock(
        JwksConfig {
            fetch_timeout_ms,
            max_attempts: 1,
            max_response_bytes,
            ..JwksConfig::default()
        },
        Arc::new(ManualClock::new(now_secs() * 1000)),
    ))
}

fn verifier_with(api_url: &str, options: VerifyOptions) -> Verifier {
    Verifier::with_client(
        VerifyOptions {
            api_url: api_url.to_owned(),
            ..options
        },
        client(1_000, 64 * 1024),
    )
}

fn verifier(api_url: &str) -> Verifier {
    verifier_sk(api_url, SK)
}

fn verifier_sk(api_url: &str, secret_key: &str) -> Verifier {
    verifier_with(
        api_url,
        VerifyOptions {
            secret_key: Some(secret_key.into()),
            ..VerifyOptions::default()
        },
    )
}

fn refresh_request(suffixed_cookies: bool) -> RefreshRequest {
    RefreshRequest {
        session_id: "sess_123".into(),
        expired_token: EXPIRED.into(),
        refresh_token: REFRESH.into(),
        request_origin: "https://app.example".into(),
        request_headers: request_headers_of([("Host", "app.example")]),
        suffixed_cookies,
    }
}

/// No secret (secret key, tokens, refresh token, nonce) in any rendering of an error.
fn assert_secret_free(rendered: &[String]) {
    for text in rendered {
        for secret in [SK, EXPIRED, REFRESH, "NONCE_SECRET"] {
            assert!(!text.contains(secret), "{secret} leaked into {text:?}");
        }
    }
}

fn refresh_rendered(e: &RefreshError) -> Vec<String> {
    vec![
        e.to_string(),
        format!("{e:?}"),
        e.cause.clone().unwrap_or_default(),
    ]
}

fn resolve_rendered(e: &ResolveError) -> Vec<String> {
    vec![e.to_string(), format!("{e:?}"), e.message.clone()]
}

fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/clerk-bapi-requests.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Compares one of our recorded requests with Clerk's captured one.
fn assert_same_request(ours: &Recorded, clerk: &Value) {
    assert_eq!(ours.method, clerk["method"].as_str().unwrap());
    assert_eq!(ours.path, clerk["path"].as_str().unwrap());
    for name in ["authorization", "clerk-api-version", "content-type"] {
        assert_eq!(
            ours.header(name),
            clerk["headers"][name].as_str(),
            "header {name}"
        );
    }
    assert_eq!(
        String::from_utf8(ours.body.clone()).unwrap(),
        clerk["body"].as_str().unwrap(),
        "body"
    );
    // Ours identifies itself; Clerk's says @clerk/backend.
    assert_eq!(
        ours.header("user-agent"),
        Some(concat!("clerk-native/", env!("CARGO_PKG_VERSION")))
    );
}

fn expect_refresh_err<T: std::fmt::Debug>(r: Result<T, RefreshError>) -> RefreshError {
    let e = r.expect_err("refresh should fail");
    assert_secret_free(&refresh_rendered(&e));
    e
}

fn expect_resolve_err<T: std::fmt::Debug>(r: Result<T, ResolveError>) -> ResolveError {
    let e = r.expect_err("handshake payload should fail");
    assert_secret_free(&resolve_rendered(&e));
    e
}

/// A port with nothing listening.
async fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

// ------------------------------------------------------------------------------------------------------------
// The requests, compared with Clerk's

#[tokio::test]
async fn handshake_payload_sends_clerks_request_and_returns_the_directives() {
    let clerk = fixture();
    assert_eq!(clerk["clerkBackendVersion"], "3.25.0");
    let bapi = Bapi::start(Reply::json(
        200,
        json!({"directives": ["__session=tok; Path=/", "__client_uat=1; Path=/", 5]}),
    ))
    .await;
    let v = verifier_sk(&bapi.base(), CAPTURE_SK);
    let directives = handshake_payload(&v, clerk["nonce"].as_str().unwrap())
        .await
        .unwrap();
    // Non-strings as String(x), as Headers.append would show them.
    assert_eq!(
        directives,
        vec!["__session=tok; Path=/", "__client_uat=1; Path=/", "5"]
    );
    let reqs = bapi.requests();
    assert_eq!(reqs.len(), 1);
    assert_same_request(&reqs[0], &clerk["requests"][0]);
    assert_eq!(reqs[0].header("content-length"), None);
}

#[tokio::test]
async fn refresh_session_sends_clerks_request_and_returns_the_cookies() {
    let clerk = fixture();
    let bapi = Bapi::start(Reply::json(
        200,
        json!({"object": "cookies", "cookies": ["__session=new; Path=/", "__client_uat=2; Path=/"]}),
    ))
    .await;
    let v = verifier_sk(&bapi.base(), CAPTURE_SK);
    // The same values the capture script passes to Clerk.
    let mut headers = request_headers_of([
        ("Host", "app.example"),
        ("Accept", "text/html"),
        ("Cookie", "__session=old; __refresh_abc=rt"),
        ("X-Multi", "a"),
        ("x-multi", "b"),
    ]);
    for (i, suffixed) in [(1, true), (2, false)] {
        let req = RefreshRequest {
            session_id: "sess_123".into(),
            expired_token: "e.x.p".into(),
            refresh_token: "r\"t\u{2028}".into(),
            request_origin: "https://app.example".into(),
            request_headers: std::mem::take(&mut headers),
            suffixed_cookies: suffixed,
        };
        headers = req.request_headers.clone();
        let cookies = refresh_session(&v, &req).await.unwrap();
        assert_eq!(
            cookies,
            vec!["__session=new; Path=/", "__client_uat=2; Path=/"]
        );
        let reqs = bapi.take();
        assert_eq!(reqs.len(), 1);
        assert_same_request(&reqs[0], &clerk["requests"][i]);
    }
}

#[tokio::test]
async fn urls_follow_api_url_and_api_version_as_joinpaths_does() {
    let bapi = Bapi::start(Reply::json(200, json!({"directives": []}))).await;
    let v = verifier_with(
        &format!("{}/base/", bapi.base()),
        VerifyOptions {
            secret_key: Some(SK.into()),
            api_version: "/v9/".into(),
            ..VerifyOptions::default()
        },
    );
    assert_eq!(
        handshake_payload(&v, "abc").await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        bapi.take()[0].path,
        "/base/v9/clients/handshake_payload?nonce=abc"
    );

    // An id that would leave its segment is encoded into it; a dot segment is refused before any request.
    bapi.set_reply(Reply::json(200, json!({"cookies": ["__session=x"]})));
    let v = verifier(&bapi.base());
    let mut req = refresh_request(true);
    req.session_id = "sess/x?y#z\\w".into();
    refresh_session(&v, &req).await.unwrap();
    assert_eq!(
        bapi.take()[0].path,
        "/v1/sessions/sess%2Fx%3Fy%23z%5Cw/refresh?suffixed_cookies=true"
    );
    // Clerk's joinPaths throws on these (also percent-encoded, also inside a longer id): no request.
    for sid in ["..", ".", "%2e%2e", "a/../b", "%252E"] {
        req.session_id = sid.into();
        let e = expect_refresh_err(refresh_session(&v, &req).await);
        assert_eq!(e.code(), "unexpected-bapi-error", "{sid}");
    }
    assert!(bapi.requests().is_empty());
}

// ------------------------------------------------------------------------------------------------------------
// Handshake payload failures

#[tokio::test]
async fn handshake_payload_failures() {
    let bapi = Bapi::start(Reply::json(200, json!({}))).await;
    let v = verifier(&bapi.base());
    let nonce = "NONCE_SECRET";
    let cases: Vec<(Reply, &str, Option<u16>)> = vec![
        (
            Reply::json(
                400,
                json!({"errors": [{"code": "handshake_nonce_invalid", "message": "bad"}]}),
            ),
            "handshake_nonce_invalid",
            Some(400),
        ),
        (
            Reply::json(401, json!({"errors": [{"code": "authentication_invalid"}]})),
            "authentication_invalid",
            Some(401),
        ),
        (
            Reply::json(500, json!({"errors": []})),
            "unexpected-bapi-error",
            Some(500),
        ),
        (
            Reply::typed(502, Some("text/html"), "<h1>bad gateway</h1>"),
            "unexpected-bapi-error",
            Some(502),
        ),
        (
            Reply::typed(503, Some("application/json"), "not json"),
            "fetch-error",
            Some(503),
        ),
        (
            Reply::typed(200, Some("application/json"), "{not json"),
            "fetch-error",
            Some(200),
        ),
        (
            Reply::json(200, json!({"cookies": []})),
            "unexpected-response",
            Some(200),
        ),
        (
            Reply::json(200, json!({"directives": "__session=x"})),
            "unexpected-response",
            Some(200),
        ),
        (
            Reply::typed(200, Some("text/plain"), r#"{"directives":[]}"#),
            "unexpected-response",
            Some(200),
        ),
        (
            Reply::json(307, json!({})).header("location", "http://127.0.0.1:9/elsewhere"),
            "unexpected-bapi-error",
            Some(307),
        ),
    ];
    for (reply, code, status) in cases {
        bapi.set_reply(reply.clone());
        let e = expect_resolve_err(handshake_payload(&v, nonce).await);
        assert_eq!((e.code(), e.status), (code, status), "{reply:?}");
    }
    // The redirect was not followed: one request per case.
    assert_eq!(bapi.take().len(), 10);

    // 204: no directives, no error (Clerk: no payload).
    bapi.set_reply(Reply::typed(204, None, ""));
    assert!(handshake_payload(&v, nonce).await.unwrap().is_empty());
    // A charset parameter is still JSON.
    bapi.set_reply(Reply::typed(
        200,
        Some("application/json; charset=utf-8"),
        r#"{"directives":["__session=a"]}"#,
    ));
    assert_eq!(
        handshake_payload(&v, nonce).await.unwrap(),
        vec!["__session=a"]
    );
}

#[tokio::test]
async fn handshake_payload_transport_failures() {
    let refused = closed_port().await;
    let e = expect_resolve_err(handshake_payload(&verifier(&refused), "NONCE_SECRET").await);
    assert_eq!(e.kind, ResolveErrorKind::FetchError);
    assert!(e.message.starts_with("connection failed"), "{}", e.message);

    let bapi = Bapi::start(Reply::json(200, json!({"directives": []})).delayed(3_000)).await;
    let e = expect_resolve_err(handshake_payload(&verifier(&bapi.base()), "NONCE_SECRET").await);
    assert_eq!(e.code(), "fetch-error");
    assert_eq!(e.message, "timed out after 1000 ms");

    bapi.set_reply(Reply::json(
        200,
        json!({"directives": ["x".repeat(70_000)]}),
    ));
    let e = expect_resolve_err(handshake_payload(&verifier(&bapi.base()), "NONCE_SECRET").await);
    assert_eq!(e.code(), "fetch-error");
    assert!(
        e.message.contains("larger than 65536 bytes"),
        "{}",
        e.message
    );

    let no_secret = verifier_with(&bapi.base(), VerifyOptions::default());
    let e = expect_resolve_err(handshake_payload(&no_secret, "n").await);
    assert_eq!(e.code(), "missing-secret-key");
    assert!(e.message.contains("secretKey"));

    let bad_url = verifier("not a url");
    let e = expect_resolve_err(handshake_payload(&bad_url, "n").await);
    assert_eq!(e.code(), "invalid-request");
}

// ------------------------------------------------------------------------------------------------------------
// Refresh failures, with Clerk's reasons

#[tokio::test]
async fn refresh_session_failures_carry_clerks_reasons() {
    let bapi = Bapi::start(Reply::json(200, json!({}))).await;
    let v = verifier(&bapi.base());
    let req = refresh_request(true);
    let cases: Vec<(Reply, &str, Option<u16>)> = vec![
        (
            Reply::json(
                401,
                json!({"errors": [{"code": "authentication_invalid", "message": "x", "long_message": REFRESH}]}),
            ),
            "authentication_invalid",
            Some(401),
        ),
        (
            Reply::json(404, json!({"errors": [{"code": "resource_not_found"}]})),
            "resource_not_found",
            Some(404),
        ),
        (
            Reply::json(
                422,
                json!({"errors": [{"code": "session_refresh_invalid"}, {"code": "other"}]}),
            ),
            "session_refresh_invalid",
            Some(422),
        ),
        (
            Reply::json(400, json!({"errors": [{"code": "unexpected_error"}]})),
            "fetch-error",
            Some(400),
        ),
        (
            Reply::json(400, json!({"errors": [{"message": "no code"}]})),
            "unexpected-sdk-error",
            Some(400),
        ),
        (
            Reply::json(400, json!({"errors": [{"code": ""}]})),
            "unexpected-sdk-error",
            Some(400),
        ),
        (
            Reply::json(400, json!({"errors": [null]})),
            "fetch-error",
            Some(400),
        ),
        (
            Reply::json(400, json!({"errors": null})),
            "fetch-error",
            Some(400),
        ),
        (
            Reply::json(500, json!({"errors": []})),
            "unexpected-bapi-error",
            Some(500),
        ),
        (
            Reply::json(500, json!({"message": "boom"})),
            "unexpected-bapi-error",
            Some(500),
        ),
        (
            Reply::typed(500, Some("application/json"), ""),
            "fetch-error",
            Some(500),
        ),
        (
            Reply::typed(502, Some("text/html"), "bad gateway"),
            "unexpected-bapi-error",
            Some(502),
        ),
        (
            Reply::json(308, json!({})).header("location", "http://127.0.0.1:9/x"),
            "unexpected-bapi-error",
            Some(308),
        ),
        (
            Reply::typed(204, None, ""),
            "unexpected-bapi-error",
            Some(204),
        ),
        (
            Reply::typed(200, Some("application/json"), "{"),
            "fetch-error",
            Some(200),
        ),
        (Reply::json(200, json!(null)), "fetch-error", Some(200)),
        (
            Reply::json(200, json!({"cookies": []})),
            "unexpected-sdk-error",
            Some(200),
        ),
        (
            Reply::json(200, json!({})),
            "unexpected-sdk-error",
            Some(200),
        ),
        (
            Reply::typed(200, Some("text/plain"), r#"{"cookies":["__session=x"]}"#),
            "unexpected-sdk-error",
            Some(200),
        ),
    ];
    let n = cases.len();
    for (reply, code, status) in cases {
        bapi.set_reply(reply.clone());
        let e = expect_refresh_err(refresh_session(&v, &req).await);
        assert_eq!((e.code(), e.status), (code, status), "{reply:?}");
        if let RefreshReason::Bapi(c) = &e.reason {
            // Clerk's message is the code itself.
            assert_eq!(&e.message, c);
        }
    }
    assert_eq!(
        bapi.take().len(),
        n,
        "one request per case, redirects not followed"
    );
}

#[tokio::test]
async fn refresh_session_transport_and_precondition_failures() {
    let refused = closed_port().await;
    let e = expect_refresh_err(refresh_session(&verifier(&refused), &refresh_request(false)).await);
    assert_eq!(e.code(), "fetch-error");
    assert_eq!(e.message, "Fetch unexpected error");
    assert!(e.cause.as_deref().unwrap().starts_with("connection failed"));

    let bapi =
        Bapi::start(Reply::json(200, json!({"cookies": ["__session=x"]})).delayed(3_000)).await;
    let e =
        expect_refresh_err(refresh_session(&verifier(&bapi.base()), &refresh_request(false)).await);
    assert_eq!(e.code(), "fetch-error");
    assert_eq!(e.cause.as_deref(), Some("timed out after 1000 ms"));
    bapi.take();

    let no_secret = verifier_with(&bapi.base(), VerifyOptions::default());
    let e = expect_refresh_err(refresh_session(&no_secret, &refresh_request(false)).await);
    assert_eq!(e.code(), "missing-api-client");
    assert_eq!(
        e.message,
        "An apiClient is needed to perform token refresh."
    );

    let v = verifier(&bapi.base());
    let mut req = refresh_request(false);
    req.expired_token.clear();
    assert_eq!(
        expect_refresh_err(refresh_session(&v, &req).await).code(),
        "missing-session-token"
    );
    let mut req = refresh_request(false);
    req.refresh_token.clear();
    assert_eq!(
        expect_refresh_err(refresh_session(&v, &req).await).code(),
        "missing-refresh-token"
    );
    let mut req = refresh_request(false);
    req.session_id.clear();
    assert_eq!(
        expect_refresh_err(refresh_session(&v, &req).await).code(),
        "expired-session-token-missing-sid-claim"
    );
    assert!(
        bapi.requests().is_empty(),
        "no request for a precondition failure"
    );

    // Debug of the request redacts both tokens.
    assert_secret_free(&[format!("{:?}", refresh_request(true))]);
}

#[test]
fn the_sid_comes_from_the_expired_token_as_clerk_reads_it() {
    let signer = Signer::load("rsa2048");
    let now = now_secs();
    let token = |claims: Value| signer.session("k1", &claims);
    let expired =
        token(json!({"sub": "user_1", "sid": "sess_9", "exp": now - 3600, "iat": now - 7200}));
    assert_eq!(session_id_from_expired_token(&expired).unwrap(), "sess_9");
    assert_eq!(
        refresh_session_id(Some(&expired), Some("rt")).unwrap(),
        "sess_9"
    );
    // Clerk's order: the expired token, then the refresh token, then decoding, then the claim.
    assert_eq!(
        refresh_session_id(None, None).unwrap_err().code(),
        "missing-session-token"
    );
    assert_eq!(
        refresh_session_id(Some("garbage"), None)
            .unwrap_err()
            .code(),
        "missing-refresh-token"
    );
    let e = refresh_session_id(Some("garbage"), Some("rt")).unwrap_err();
    assert_eq!(e.code(), "expired-session-token-decode-failed");
    assert_eq!(e.message, "Unable to decode the expired session token.");
    for claims in [
        json!({"sub": "u"}),
        json!({"sid": ""}),
        json!({"sid": null}),
        json!({"sid": 0}),
    ] {
        let e = session_id_from_expired_token(&token(claims.clone())).unwrap_err();
        assert_eq!(
            e.code(),
            "expired-session-token-missing-sid-claim",
            "{claims}"
        );
        assert_eq!(
            e.message,
            "Expired session token is missing the `sid` claim."
        );
    }
    assert_eq!(
        session_id_from_expired_token(&token(json!({"sid": 12}))).unwrap(),
        "12"
    );
}

#[test]
fn directives_to_headers_and_session_token() {
    let directives: Vec<String> = vec![
        "__client_uat_abc=1700000000; Path=/; SameSite=Lax".into(),
        "__session_abc=new.tok.en; Path=/; HttpOnly".into(),
        "__refresh_abc=rt; Path=/".into(),
    ];
    assert_eq!(
        session_token_from_directives(&directives).as_deref(),
        Some("new.tok.en")
    );
    let h = handshake_headers(&directives);
    assert_eq!(h[0], ("Access-Control-Allow-Origin", "null".to_owned()));
    assert_eq!(
        h[1],
        ("Access-Control-Allow-Credentials", "true".to_owned())
    );
    assert_eq!(h[2..], set_cookie_headers(&directives)[..]);
    assert_eq!(h.len(), 5);
    assert!(h[2..].iter().all(|(n, _)| *n == "Set-Cookie"));
}

// ------------------------------------------------------------------------------------------------------------
// The legacy handshake JWT

fn handshake_claims() -> Value {
    json!({"handshake": ["__session=a.b.c; Path=/", "__client_uat=1; Path=/"]})
}

#[tokio::test]
async fn handshake_token_with_jwt_key() {
    let signer = Signer::load("rsa2048");
    let other = Signer::load("rsa2048b");
    let v = verifier_with(
        "http://127.0.0.1:9",
        VerifyOptions {
            jwt_key: Some(signer.pem.clone()),
            secret_key: Some(SK.into()),
            ..VerifyOptions::default()
        },
    );
    let sign = |header: Value, payload: Value| signer.sign("RS256", &header, &payload);

    // A valid token; no claim is checked (no exp, sub or iat needed), typ may be absent.
    let ok = sign(
        json!({"alg": "RS256", "typ": "JWT", "kid": "ins_1"}),
        handshake_claims(),
    );
    assert_eq!(
        verify_handshake_token(&v, &ok).await.unwrap(),
        vec!["__session=a.b.c; Path=/", "__client_uat=1; Path=/"]
    );
    let no_typ = sign(
        json!({"alg": "RS256", "cat": category::SESSION}),
        json!({"handshake": ["x=1"], "exp": 1}),
    );
    assert_eq!(
        verify_handshake_token(&v, &no_typ).await.unwrap(),
        vec!["x=1"]
    );
    for alg in ["RS384", "RS512"] {
        let t = signer.sign(alg, &json!({"alg": alg, "typ": "JWT"}), &handshake_claims());
        assert_eq!(
            verify_handshake_token(&v, &t).await.unwrap().len(),
            2,
            "{alg}"
        );
    }
    // `handshake` not a list: no directives.
    let not_list = sign(json!({"alg": "RS256"}), json!({"handshake": "x=1"}));
    assert!(verify_handshake_token(&v, &not_list)
        .await
        .unwrap()
        .is_empty());

    let cases: Vec<(String, Reason, &str)> = vec![
        (
            sign(json!({"alg": "RS256", "typ": "at+jwt"}), handshake_claims()),
            Reason::TokenInvalid,
            r#"Invalid JWT type "at+jwt". Expected "JWT"."#,
        ),
        (
            format!(
                "{}.sig",
                sign(json!({"alg": "HS256", "typ": "JWT"}), handshake_claims())
                    .rsplit_once('.')
                    .unwrap()
                    .0
            ),
            Reason::TokenInvalidAlgorithm,
            r#"Invalid JWT algorithm "HS256". Supported: RS256,RS384,RS512."#,
        ),
        (
            sign(
                json!({"alg": "RS256", "cat": category::M2M}),
                handshake_claims(),
            ),
            Reason::TokenInvalid,
            "Invalid handshake token category.",
        ),
        (
            sign(json!({"alg": "RS256", "cat": null}), handshake_claims()),
            Reason::TokenInvalid,
            "Invalid handshake token category.",
        ),
        (
            other.sign(
                "RS256",
                &json!({"alg": "RS256", "typ": "JWT"}),
                &handshake_claims(),
            ),
            Reason::TokenInvalidSignature,
            "Handshake signature is invalid.",
        ),
        (
            "only.two".to_owned(),
            Reason::TokenInvalid,
            "Invalid JWT form. A JWT consists of three parts separated by dots.",
        ),
    ];
    for (token, reason, message) in cases {
        let e = verify_handshake_token(&v, &token).await.unwrap_err();
        assert_eq!((e.reason, e.message.as_str()), (reason, message));
    }
    // Category ignore is accepted.
    let ignore = sign(
        json!({"alg": "RS256", "cat": category::IGNORE}),
        handshake_claims(),
    );
    assert!(verify_handshake_token(&v, &ignore).await.is_ok());
}

#[tokio::test]
async fn handshake_token_with_the_secret_key_jwks() {
    let signer = Signer::load("rsa2048");
    let bapi = Bapi::start(Reply::json(200, json!({}))).await;
    let jwk = signer.jwk("ins_kid", None);
    bapi.set_router(move |r| {
        if r.path == "/v1/jwks" {
            Reply::json(200, jwks(std::slice::from_ref(&jwk)))
        } else {
            Reply::json(404, json!({}))
        }
    });
    let v = verifier(&bapi.base());
    let t = signer.sign(
        "RS256",
        &json!({"alg": "RS256", "typ": "JWT", "kid": "ins_kid"}),
        &handshake_claims(),
    );
    assert_eq!(verify_handshake_token(&v, &t).await.unwrap().len(), 2);
    let reqs = bapi.take();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {SK}").as_str())
    );

    // An unknown kid fails like a session token's.
    let unknown = signer.sign(
        "RS256",
        &json!({"alg": "RS256", "typ": "JWT", "kid": "nope"}),
        &handshake_claims(),
    );
    let e = verify_handshake_token(&v, &unknown).await.unwrap_err();
    assert_eq!(e.reason, Reason::JwkKidMismatch);

    // No key source at all: Clerk's handshake message.
    let none = verifier_with(&bapi.base(), VerifyOptions::default());
    let e = verify_handshake_token(&none, &t).await.unwrap_err();
    assert_eq!(e.reason, Reason::JwkFailedToResolve);
    assert_eq!(
        e.message,
        "Failed to resolve JWK during handshake verification."
    );
}

// ------------------------------------------------------------------------------------------------------------
// Differential: the reasons Clerk's own authenticateRequest derived (fixtures/capture-clerk-refresh.mjs)

#[tokio::test]
async fn refresh_codes_match_what_clerks_authenticate_request_derived() {
    let path = format!(
        "{}/tests/fixtures/clerk-refresh-reasons.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let clerk: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(clerk["clerkBackendVersion"], "3.25.0");
    let expired = clerk["expired"].as_str().unwrap();
    let input_headers: Vec<(&str, &str)> = clerk["requestHeaders"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
        .collect();
    // Built as hs builds it: the sid from the expired token, the headers as a Web Headers shows them.
    let req = RefreshRequest {
        session_id: refresh_session_id(Some(expired), Some("rt_value")).unwrap(),
        expired_token: expired.to_owned(),
        refresh_token: "rt_value".into(),
        request_origin: "https://app.example".into(),
        request_headers: request_headers_of(input_headers),
        suffixed_cookies: true,
    };
    let bapi = Bapi::start(Reply::json(200, json!({}))).await;
    let v = verifier_sk(&bapi.base(), "sk_live_capture");
    const PREFIX: &str = "session-token-expired-refresh-";
    let mut compared = 0;
    for result in clerk["results"].as_array().unwrap() {
        let name = result["name"].as_str().unwrap();
        let reason = result["reason"].as_str();
        let ours = match name {
            "expired-token-without-sid" => {
                session_id_from_expired_token(clerk["expiredNoSid"].as_str().unwrap())
                    .map(|_| vec![])
            }
            "connection-refused" => refresh_session(&verifier(&closed_port().await), &req).await,
            _ => {
                let reply = &result["reply"];
                let status = reply["status"].as_u64().unwrap() as u16;
                let ct = match reply["contentType"].as_str() {
                    Some("application/json") => Some("application/json"),
                    Some("text/html") => Some("text/html"),
                    Some("text/plain") => Some("text/plain"),
                    Some("application/json; charset=utf-8") => {
                        Some("application/json; charset=utf-8")
                    }
                    None => None,
                    Some(other) => panic!("content type {other}"),
                };
                bapi.set_reply(Reply::typed(status, ct, reply["body"].as_str().unwrap()));
                let r = refresh_session(&v, &req).await;
                assert_eq!(
                    bapi.take().len(),
                    result["requests"].as_u64().unwrap() as usize,
                    "{name}"
                );
                r
            }
        };
        match (name, ours) {
            ("ok", Ok(cookies)) => {
                assert_eq!(result["status"], "signed-in");
                assert!(session_token_from_directives(&cookies).is_some());
            }
            // Ours hands the cookies over; the caller's verification of the new __session gives Clerk's reason.
            ("ok-unverifiable-session", Ok(cookies)) => {
                assert_eq!(
                    reason,
                    Some("session-token-expired-refresh-invalid-session-token")
                );
                assert_eq!(
                    session_token_from_directives(&cookies).as_deref(),
                    Some("garbage")
                );
            }
            // Deliberate: a JSON media type with parameters is read as JSON (Clerk reads it as text).
            ("charset-json-200", Ok(_)) => {
                assert_eq!(
                    reason,
                    Some("session-token-expired-refresh-unexpected-sdk-error")
                );
            }
            (_, Err(e)) => {
                assert_secret_free(&refresh_rendered(&e));
                let clerk_code = reason.and_then(|r| r.strip_prefix(PREFIX));
                assert_eq!(Some(e.code()), clerk_code, "{name}");
            }
            (_, Ok(c)) => panic!("{name}: expected Clerk's {reason:?}, got Ok({c:?})"),
        }
        compared += 1;
    }
    assert_eq!(compared, 22);

    // The request Clerk sent in the "ok" run, byte for byte.
    bapi.set_reply(Reply::json(200, json!({"cookies": ["__session=x"]})));
    refresh_session(&v, &req).await.unwrap();
    let ours = &bapi.take()[0];
    assert_eq!(ours.path, clerk["refreshRequest"]["path"].as_str().unwrap());
    assert_eq!(
        String::from_utf8(ours.body.clone()).unwrap(),
        clerk["refreshRequest"]["body"].as_str().unwrap()
    );
}
