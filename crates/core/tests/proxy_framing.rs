//! Response framing, upload stalls and the connection bound at the streaming engine, against a raw TCP upstream
//! on 127.0.0.1 that writes hand-made HTTP bytes (an HTTP library would not produce these responses):
//!
//! - a Content-Length sent with Transfer-Encoding never reaches the caller (RFC 9112 §6.3);
//! - a 101 or a status outside 200-599 becomes a 502 JSON error head;
//! - 204 / 304 carry neither a body nor a Content-Length;
//! - an upstream that stops reading a streamed upload ends the exchange with 408 at `idleTimeoutMs`;
//! - `maxConnections` exchanges at once, the next one gets 503 `proxy_too_many_requests` with `Retry-After`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clerk_native_core::proxy::config::ConfigOption;
use clerk_native_core::proxy::{
    BodyInput, Exchange, IncomingRequest, ProxyConfig, ProxyOptions, ResponseHead,
};
use http::HeaderMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const IDLE_MS: u64 = 300;

/// A raw upstream: reads one request head per connection and answers with the bytes chosen by its path.
async fn start_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let path = text.split(' ').nth(1).unwrap_or("").to_string();
                let answer: &[u8] = match path.as_str() {
                    "/cl-te" => b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                    "/switching" => b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                    "/status-600" => b"HTTP/1.1 600 Weird\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    "/no-content" => b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
                    "/not-modified" => b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
                    "/no-read" | "/hang" => {
                        // Never read again, never answer; hold the socket until the peer gives up.
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        return;
                    }
                    _ => b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                };
                let _ = sock.write_all(answer).await;
                let _ = sock.flush().await;
                // Let the client read before the socket goes.
                tokio::time::sleep(Duration::from_millis(200)).await;
            });
        }
    });
    format!("http://{addr}")
}

fn config(base: &str, max_connections: Option<usize>) -> Arc<ProxyConfig> {
    Arc::new(ProxyConfig::new(&ProxyOptions {
        publishable_key: Some("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k".into()),
        secret_key: Some("sk_test_xxx".into()),
        fapi_url: Some(base.into()),
        idle_timeout_ms: Some(IDLE_MS),
        max_connections,
        ..Default::default()
    }))
}

fn start(config: &Arc<ProxyConfig>, path: &str, method: &str, body: BodyInput) -> Exchange {
    let url = format!("https://example.com/__clerk{path}");
    // A client per exchange: each #[tokio::test] has its own runtime, and pooled connections must not outlive it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Exchange::start_with_client(
        client,
        Arc::clone(config),
        IncomingRequest {
            method,
            url: &url,
            headers: HeaderMap::new(),
            remote_address: None,
        },
        body,
    )
}

async fn head_of(ex: &Exchange) -> ResponseHead {
    tokio::time::timeout(Duration::from_secs(10), ex.response())
        .await
        .expect("a head within 10 s")
}

async fn body_of(ex: &Exchange, head: &ResponseHead) -> Vec<u8> {
    let mut body = head.body.to_vec();
    if !head.done {
        while let Ok(Ok(Some(c))) = tokio::time::timeout(Duration::from_secs(10), ex.read()).await {
            body.extend_from_slice(&c);
        }
    }
    body
}

fn code_of(head: &ResponseHead) -> String {
    let v: serde_json::Value = serde_json::from_slice(&head.body).expect("JSON error body");
    v["errors"][0]["code"].as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn content_length_sent_with_transfer_encoding_is_dropped() {
    let base = start_upstream().await;
    let cfg = config(&base, None);
    let ex = start(&cfg, "/cl-te", "GET", BodyInput::None);
    let head = head_of(&ex).await;
    assert_eq!(head.status, 200);
    assert!(head.headers.get("content-length").is_none());
    assert!(head.headers.get("transfer-encoding").is_none());
    assert_eq!(body_of(&ex, &head).await, b"hello");
}

#[tokio::test]
async fn informational_and_out_of_range_statuses_become_502() {
    let base = start_upstream().await;
    let cfg = config(&base, None);
    for path in ["/switching", "/status-600"] {
        let ex = start(&cfg, path, "GET", BodyInput::None);
        let head = head_of(&ex).await;
        assert_eq!(head.status, 502, "{path}");
        assert!(head.done);
        assert_eq!(code_of(&head), "proxy_request_failed", "{path}");
    }
}

#[tokio::test]
async fn no_content_and_not_modified_have_no_body_and_no_content_length() {
    let base = start_upstream().await;
    let cfg = config(&base, None);
    for (path, status) in [("/no-content", 204), ("/not-modified", 304)] {
        let ex = start(&cfg, path, "GET", BodyInput::None);
        let head = head_of(&ex).await;
        assert_eq!(head.status, status);
        assert!(head.done && head.body.is_empty(), "{path}");
        assert!(head.headers.get("content-length").is_none(), "{path}");
    }
}

#[tokio::test]
async fn an_upstream_that_stops_reading_an_upload_ends_with_408_at_the_idle_timeout() {
    let base = start_upstream().await;
    let cfg = config(&base, None);
    let ex = Arc::new(start(&cfg, "/no-read", "POST", BodyInput::Stream));
    let writer = {
        let ex = Arc::clone(&ex);
        tokio::spawn(async move {
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            // Bounded: 256 MiB at most; the kernel buffers fill long before.
            for _ in 0..4096 {
                if !ex.write(chunk.clone()).await {
                    return false;
                }
            }
            true
        })
    };
    let t0 = Instant::now();
    let head = head_of(&ex).await;
    let took = t0.elapsed();
    assert_eq!(head.status, 408);
    assert_eq!(code_of(&head), "proxy_request_failed");
    assert!(
        took >= Duration::from_millis(IDLE_MS - 50) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let finished = tokio::time::timeout(Duration::from_secs(5), writer)
        .await
        .expect("the writer stops")
        .expect("no panic");
    assert!(!finished, "writes are refused once the upload stalled");
}

#[tokio::test]
async fn max_connections_bounds_concurrent_exchanges() {
    let base = start_upstream().await;
    let cfg = config(&base, Some(2));
    assert_eq!(cfg.max_connections(), 2);
    let a = start(&cfg, "/hang", "GET", BodyInput::None);
    let b = start(&cfg, "/hang", "GET", BodyInput::None);
    let c = start(&cfg, "/ok", "GET", BodyInput::None);
    let head = head_of(&c).await;
    assert_eq!(head.status, 503);
    assert_eq!(code_of(&head), "proxy_too_many_requests");
    assert_eq!(
        head.headers.get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    assert_eq!(
        head.headers.get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    a.cancel();
    // The cancelled task gives its slot back as soon as it ends.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ex = start(&cfg, "/ok", "GET", BodyInput::None);
        let head = head_of(&ex).await;
        if head.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no slot freed after cancel");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(b);
}

#[test]
fn configuration_problems_name_the_option() {
    let problem = |o: ProxyOptions| ProxyConfig::new(&o).configuration_problem().map(|p| p.0);
    let full = || ProxyOptions {
        publishable_key: Some("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k".into()),
        secret_key: Some("sk_test_xxx".into()),
        ..Default::default()
    };
    assert_eq!(problem(full()), None);
    let mut o = full();
    o.publishable_key = None;
    assert_eq!(problem(o), Some(ConfigOption::PublishableKeyMissing));
    let mut o = full();
    o.secret_key = Some(String::new());
    assert_eq!(problem(o), Some(ConfigOption::SecretKeyMissing));
    let mut o = full();
    o.secret_key = Some("sk_test_SECRET\r\nX: 1".into());
    let cfg = ProxyConfig::new(&o);
    let (kind, message) = cfg.configuration_problem().expect("a problem");
    assert_eq!(kind, ConfigOption::SecretKeyInvalid);
    assert!(!message.contains("SECRET"));
    let mut o = full();
    o.fapi_url = Some("not-a-url".into());
    assert_eq!(problem(o), Some(ConfigOption::FapiUrl));
}
