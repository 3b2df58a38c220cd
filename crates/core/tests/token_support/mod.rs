//! Shared helpers for the `token_*` integration tests: fixture keys, a token signer (ring, from PKCS#8 DER), and a
//! scriptable HTTP server on 127.0.0.1 that counts and records its requests (JWKS endpoint / Backend API stand-in).
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use clerk_native_core::codec::base64url;
use clerk_native_core::token::VerifierKey;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512};
use serde_json::{json, Value};
use tokio::net::TcpListener;

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

pub fn fixture_str(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("utf-8 fixture")
}

/// A test signing key: `name` is the fixture stem (`rsa2048`, `rsa3072`, `rsa4096`, `rsa2048b`).
pub struct Signer {
    pub name: &'static str,
    pub pair: RsaKeyPair,
    pub pem: String,
    pub key: VerifierKey,
}

impl Signer {
    pub fn load(name: &'static str) -> Self {
        let pair = RsaKeyPair::from_pkcs8(&fixture(&format!("{name}.pk8.der"))).expect("pkcs8");
        let pem = fixture_str(&format!("{name}.pub.pem"));
        let key = VerifierKey::from_pem(&pem).expect("pem");
        Self {
            name,
            pair,
            pem,
            key,
        }
    }

    /// Sign `header` and `payload` (JSON values) with `alg` (RS256/384/512).
    pub fn sign(&self, alg: &str, header: &Value, payload: &Value) -> String {
        let h = base64url::encode(header.to_string().as_bytes());
        let p = base64url::encode(payload.to_string().as_bytes());
        self.sign_raw(alg, &format!("{h}.{p}"))
    }

    /// Sign an arbitrary signing input `h.p`.
    pub fn sign_raw(&self, alg: &str, input: &str) -> String {
        let enc = match alg {
            "RS256" => &RSA_PKCS1_SHA256,
            "RS384" => &RSA_PKCS1_SHA384,
            "RS512" => &RSA_PKCS1_SHA512,
            other => panic!("test signer: unsupported alg {other}"),
        };
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        self.pair
            .sign(
                enc,
                &ring::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .expect("sign");
        format!("{input}.{}", base64url::encode(&sig))
    }

    /// A session token: RS256, `typ: JWT`, `kid`, and the given claims.
    pub fn session(&self, kid: &str, claims: &Value) -> String {
        self.sign(
            "RS256",
            &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
            claims,
        )
    }

    /// The public JWK, with `kid` and optionally `alg`.
    pub fn jwk(&self, kid: &str, alg: Option<&str>) -> Value {
        let mut j = json!({
            "kty": "RSA",
            "use": "sig",
            "kid": kid,
            "n": base64url::encode(self.key.modulus()),
            "e": base64url::encode(self.key.exponent()),
        });
        if let Some(a) = alg {
            j["alg"] = json!(a);
        }
        j
    }
}

/// Seconds since the epoch now.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Typical valid session claims at `now` (seconds).
pub fn claims_at(now: i64) -> Value {
    json!({
        "sub": "user_1", "sid": "sess_1", "azp": "https://app.example", "iss": "https://clerk.app.example",
        "iat": now - 10, "nbf": now - 10, "exp": now + 60,
    })
}

/// What the server answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay_ms: u64,
    /// Extra response headers (e.g. `Location`, `Retry-After`).
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: body.to_string(),
            delay_ms: 0,
            headers: Vec::new(),
        }
    }
    pub fn raw(status: u16, body: &str) -> Self {
        Self {
            status,
            body: body.to_owned(),
            delay_ms: 0,
            headers: Vec::new(),
        }
    }
    pub fn delayed(mut self, ms: u64) -> Self {
        self.delay_ms = ms;
        self
    }
    /// The same reply with one more response header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// A recorded request.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Router = dyn Fn(&Recorded) -> Reply + Send + Sync;

struct ServerState {
    hits: AtomicUsize,
    requests: Mutex<Vec<Recorded>>,
    router: Mutex<Arc<Router>>,
}

/// A loopback HTTP/1 server that counts hits and answers with a replaceable router.
pub struct TestServer {
    pub addr: SocketAddr,
    state: Arc<ServerState>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start(reply: Reply) -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap(), reply).await
    }

    pub async fn start_on(addr: SocketAddr, reply: Reply) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let router: Arc<Router> = Arc::new(move |_: &Recorded| reply.clone());
        let state = Arc::new(ServerState {
            hits: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            router: Mutex::new(router),
        });
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let st = st.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let st = st.clone();
                        async move { Ok::<_, Infallible>(handle(req, st).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self { addr, state, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn set_reply(&self, reply: Reply) {
        *self.state.router.lock().unwrap() = Arc::new(move |_: &Recorded| reply.clone());
    }

    pub fn set_router(&self, router: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) {
        *self.state.router.lock().unwrap() = Arc::new(router);
    }

    /// Stop accepting (existing connections are dropped with the runtime's tasks).
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    req: hyper::Request<hyper::body::Incoming>,
    st: Arc<ServerState>,
) -> hyper::Response<Full<Bytes>> {
    st.hits.fetch_add(1, Ordering::SeqCst);
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    let rec = Recorded {
        method,
        path,
        headers,
        body,
    };
    let router = st.router.lock().unwrap().clone();
    let reply = router(&rec);
    st.requests.lock().unwrap().push(rec);
    if reply.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(reply.delay_ms)).await;
    }
    let mut response = hyper::Response::builder()
        .status(reply.status)
        .header("content-type", "application/json");
    for (name, value) in &reply.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    response.body(Full::new(Bytes::from(reply.body))).unwrap()
}

/// A JWKS document with the given JWKs.
pub fn jwks(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}
