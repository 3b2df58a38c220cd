//! The streaming engine against a real hyper upstream on 127.0.0.1: bodies both ways, backpressure,
//! timeouts, cancellation, decoding, keep-alive reuse and redirects.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clerk_native_core::proxy::{
    BodyError, BodyInput, Exchange, IncomingRequest, ProxyConfig, ProxyOptions, WriteOutcome,
};
use futures_util::stream;
use http::{HeaderMap, Request, Response};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

type Body = BoxBody<Bytes, Infallible>;

/// What the upstream observed.
#[derive(Default)]
struct Seen {
    /// Peer address of each request's connection.
    peers: Mutex<Vec<SocketAddr>>,
    /// Bytes of each request body, in order of completion.
    body_lens: Mutex<Vec<usize>>,
    /// Connections that ended (closed by the peer or on error).
    closed: AtomicUsize,
    /// Headers of the last request.
    last_headers: Mutex<HeaderMap>,
}

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).boxed()
}

/// A body of `total` bytes in `chunk`-sized frames, produced lazily.
fn generated(total: usize, chunk: usize) -> Body {
    let frames = (0..total.div_ceil(chunk)).map(move |i| {
        let n = chunk.min(total - i * chunk);
        Ok::<_, Infallible>(Frame::data(Bytes::from(vec![b'x'; n])))
    });
    StreamBody::new(stream::iter(frames)).boxed()
}

async fn route(req: Request<Incoming>, seen: Arc<Seen>) -> Response<Body> {
    *seen.last_headers.lock().unwrap() = req.headers().clone();
    let path = req.uri().path().to_string();
    match path.as_str() {
        "/small" => Response::builder()
            .header("content-type", "application/json")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .header("set-cookie", "c=3")
            .body(full(r#"{"ok":true}"#))
            .unwrap(),
        "/big" => Response::new(generated(8 * 1024 * 1024, 16 * 1024)),
        "/echo-count" => {
            let mut body = req.into_body();
            let mut n = 0usize;
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(f) => n += f.data_ref().map_or(0, |d| d.len()),
                    Err(_) => {
                        seen.body_lens.lock().unwrap().push(usize::MAX);
                        return Response::new(full("aborted"));
                    }
                }
            }
            seen.body_lens.lock().unwrap().push(n);
            Response::new(full(n.to_string()))
        }
        "/never" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Response::new(full("late"))
        }
        "/stall-body" => {
            let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(1);
            tokio::spawn(async move {
                let _ = tx.send(Ok(Frame::data(Bytes::from_static(b"first")))).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
                drop(tx);
            });
            let s = tokio_stream_from(rx);
            Response::new(StreamBody::new(s).boxed())
        }
        "/gzip" => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(b"hello gzip world").unwrap();
            let gz = enc.finish().unwrap();
            Response::builder()
                .header("content-encoding", "gzip")
                .header("content-length", gz.len())
                .header("content-type", "application/javascript")
                .body(full(gz))
                .unwrap()
        }
        "/redirect" => Response::builder()
            .status(302)
            .header("location", "/v1/client")
            .body(full(""))
            .unwrap(),
        "/conn-location" => Response::builder()
            .status(302)
            .header("connection", "location")
            .header("location", "/v1/client")
            .body(full(""))
            .unwrap(),
        "/reason" => {
            let mut r = Response::builder().status(503).body(full("down")).unwrap();
            r.extensions_mut()
                .insert(hyper::ext::ReasonPhrase::from_static(
                    b"Down For Maintenance",
                ));
            r
        }
        _ => Response::builder().status(404).body(full("nope")).unwrap(),
    }
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn start_upstream() -> (String, Arc<Seen>) {
    start_counting_upstream().await
}

/// Starts the upstream; `seen.closed` counts connections that ended.
async fn start_counting_upstream() -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, peer)) = listener.accept().await else {
                return;
            };
            let seen = s.clone();
            tokio::spawn(async move {
                let inner = seen.clone();
                let svc = service_fn(move |req| {
                    inner.peers.lock().unwrap().push(peer);
                    let inner = inner.clone();
                    async move { Ok::<_, Infallible>(route(req, inner).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(sock), svc)
                    .await;
                seen.closed.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn config(fapi: &str, tweak: impl FnOnce(&mut ProxyOptions)) -> Arc<ProxyConfig> {
    let mut o = ProxyOptions {
        publishable_key: Some("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k".into()),
        secret_key: Some("sk_test_xxx".into()),
        fapi_url: Some(fapi.into()),
        ..Default::default()
    };
    tweak(&mut o);
    Arc::new(ProxyConfig::new(&o))
}

fn request<'a>(method: &'a str, url: &'a str) -> IncomingRequest<'a> {
    IncomingRequest {
        method,
        url,
        headers: HeaderMap::new(),
        remote_address: Some("10.1.2.3"),
    }
}

async fn read_all(ex: &Exchange) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    while let Some(chunk) = ex.read().await? {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

async fn wait_for(mut cond: impl FnMut() -> bool, limit: Duration) -> Duration {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < limit,
            "condition not met within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_response_arrives_with_its_head_and_keeps_every_set_cookie() {
    let (up, seen) = start_upstream().await;
    let ex = Exchange::start(
        config(&up, |_| {}),
        request("GET", "https://example.com/__clerk/small"),
        BodyInput::None,
    );
    let head = ex.response().await;
    assert_eq!(head.status, 200);
    assert!(
        head.done,
        "a small body with Content-Length comes with the head"
    );
    assert_eq!(&head.body[..], br#"{"ok":true}"#);
    assert_eq!(head.headers.get_all("set-cookie").iter().count(), 3);
    let h = seen.last_headers.lock().unwrap().clone();
    assert_eq!(h["clerk-secret-key"], "sk_test_xxx");
    assert_eq!(h["clerk-proxy-url"], "https://example.com/__clerk");
    assert_eq!(h["accept-encoding"], "identity");
    assert_eq!(h["x-forwarded-for"], "10.1.2.3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_download_streams_in_bounded_batches() {
    let (up, _) = start_upstream().await;
    let ex = Exchange::start(
        config(&up, |_| {}),
        request("GET", "https://example.com/__clerk/big"),
        BodyInput::None,
    );
    let head = ex.response().await;
    assert!(!head.done);
    let mut total = head.body.len();
    while let Some(chunk) = ex.read().await.unwrap() {
        // Batching stops at READ_BATCH_LIMIT; one hyper chunk can add up to its ~400 KiB read buffer.
        assert!(chunk.len() < clerk_native_core::proxy::exchange::READ_BATCH_LIMIT + 512 * 1024);
        total += chunk.len();
    }
    assert_eq!(total, 8 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_upload_arrives_whole_with_backpressure() {
    let (up, seen) = start_upstream().await;
    let ex = Arc::new(Exchange::start(
        config(&up, |_| {}),
        request("POST", "https://example.com/__clerk/echo-count"),
        BodyInput::Stream,
    ));
    let chunk = Bytes::from(vec![7u8; 64 * 1024]);
    let mut fulls = 0;
    for _ in 0..160 {
        match ex.try_write(chunk.clone()) {
            WriteOutcome::Accepted => {}
            WriteOutcome::Full => {
                fulls += 1;
                assert!(ex.write(chunk.clone()).await);
            }
            WriteOutcome::Closed => panic!("closed early"),
        }
    }
    ex.end();
    let head = ex.response().await;
    assert_eq!(head.status, 200);
    assert_eq!(
        read_all(&ex).await.unwrap_or_default().len() + head.body.len(),
        8
    );
    assert_eq!(seen.body_lens.lock().unwrap()[0], 160 * 64 * 1024);
    assert!(fulls > 0, "a bounded queue must push back on a fast writer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_timeout_gives_504_and_closes_the_upstream_connection() {
    let (up, seen) = start_counting_upstream().await;
    let ex = Exchange::start(
        config(&up, |o| o.timeout_ms = Some(200)),
        request("GET", "https://example.com/__clerk/never"),
        BodyInput::None,
    );
    let started = Instant::now();
    let head = ex.response().await;
    assert_eq!(head.status, 504);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(head.headers["cache-control"], "no-store");
    let body = String::from_utf8(head.body.to_vec()).unwrap();
    assert!(body.contains("proxy_request_failed"), "{body}");
    wait_for(
        || seen.closed.load(Ordering::SeqCst) == 1,
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_before_headers_closes_the_upstream_connection_promptly() {
    let (up, seen) = start_counting_upstream().await;
    let ex = Exchange::start(
        config(&up, |_| {}),
        request("GET", "https://example.com/__clerk/never"),
        BodyInput::None,
    );
    wait_for(
        || !seen.peers.lock().unwrap().is_empty(),
        Duration::from_secs(2),
    )
    .await;
    ex.cancel();
    let took = wait_for(
        || seen.closed.load(Ordering::SeqCst) == 1,
        Duration::from_secs(2),
    )
    .await;
    assert!(took < Duration::from_millis(500), "took {took:?}");
    assert_eq!(ex.response().await.status, 502);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_exchange_mid_download_closes_the_upstream_connection() {
    let (up, seen) = start_counting_upstream().await;
    let ex = Exchange::start(
        config(&up, |_| {}),
        request("GET", "https://example.com/__clerk/big"),
        BodyInput::None,
    );
    let _ = ex.response().await;
    let _ = ex.read().await;
    drop(ex);
    wait_for(
        || seen.closed.load(Ordering::SeqCst) == 1,
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_mid_upload_aborts_the_upstream_request() {
    let (up, seen) = start_counting_upstream().await;
    let ex = Exchange::start(
        config(&up, |_| {}),
        request("PUT", "https://example.com/__clerk/echo-count"),
        BodyInput::Stream,
    );
    assert!(ex.write(Bytes::from(vec![1u8; 1024])).await);
    wait_for(
        || !seen.peers.lock().unwrap().is_empty(),
        Duration::from_secs(2),
    )
    .await;
    ex.cancel();
    wait_for(
        || seen.closed.load(Ordering::SeqCst) == 1,
        Duration::from_secs(2),
    )
    .await;
    // The upstream never saw a complete body (hyper may drop the handler instead of reporting an error).
    assert!(seen
        .body_lens
        .lock()
        .unwrap()
        .iter()
        .all(|&n| n == usize::MAX));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_upstream_body_ends_in_an_error_not_a_clean_end() {
    let (up, seen) = start_counting_upstream().await;
    let ex = Exchange::start(
        config(&up, |o| o.idle_timeout_ms = Some(200)),
        request("GET", "https://example.com/__clerk/stall-body"),
        BodyInput::None,
    );
    let head = ex.response().await;
    assert_eq!(head.status, 200);
    let started = Instant::now();
    let mut got = head.body.to_vec();
    let err = loop {
        match ex.read().await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) => panic!("a stalled body must not end cleanly"),
            Err(e) => break e,
        }
    };
    assert_eq!(err, BodyError::Idle);
    assert_eq!(got, b"first");
    assert!(started.elapsed() < Duration::from_secs(2));
    wait_for(
        || seen.closed.load(Ordering::SeqCst) == 1,
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_client_upload_gets_408() {
    let (up, _) = start_upstream().await;
    let ex = Exchange::start(
        config(&up, |o| o.idle_timeout_ms = Some(200)),
        request("POST", "https://example.com/__clerk/echo-count"),
        BodyInput::Stream,
    );
    assert!(ex.write(Bytes::from_static(b"partial")).await);
    let head = tokio::time::timeout(Duration::from_secs(3), ex.response())
        .await
        .expect("no hang");
    assert_eq!(head.status, 408);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_from_upstream_is_decoded_without_encoding_headers() {
    let (up, _) = start_upstream().await;
    let ex = Exchange::start(
        config(&up, |_| {}),
        request("GET", "https://example.com/__clerk/gzip"),
        BodyInput::None,
    );
    let head = ex.response().await;
    let mut body = head.body.to_vec();
    if !head.done {
        body.extend(read_all(&ex).await.unwrap());
    }
    assert_eq!(body, b"hello gzip world");
    assert!(head.headers.get("content-encoding").is_none());
    assert!(head.headers.get("content-length").is_none());
    assert_eq!(head.headers["content-type"], "application/javascript");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_returned_and_rewritten_never_followed() {
    let (up, seen) = start_upstream().await;
    let ex = Exchange::start(
        config(&up, |_| {}),
        request("GET", "https://example.com/__clerk/redirect"),
        BodyInput::None,
    );
    let head = ex.response().await;
    assert_eq!(head.status, 302);
    assert_eq!(
        head.headers["location"],
        "https://example.com/__clerk/v1/client"
    );
    assert_eq!(seen.peers.lock().unwrap().len(), 1, "not followed");

    let ex = Exchange::start(
        config(&up, |_| {}),
        request("GET", "https://example.com/__clerk/conn-location"),
        BodyInput::None,
    );
    let head = ex.response().await;
    assert!(
        head.headers.get("location").is_none(),
        "a Connection-listed Location is not re-added"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_requests_reuse_one_keep_alive_connection() {
    let (up, seen) = start_upstream().await;
    let cfg = config(&up, |_| {});
    for _ in 0..5 {
        let ex = Exchange::start(
            cfg.clone(),
            request("GET", "https://example.com/__clerk/small"),
            BodyInput::None,
        );
        assert_eq!(ex.response().await.status, 200);
    }
    let peers = seen.peers.lock().unwrap().clone();
    assert_eq!(peers.len(), 5);
    assert!(peers.iter().all(|p| *p == peers[0]), "{peers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_a_502_json_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let ex = Exchange::start(
        config(&format!("http://127.0.0.1:{port}"), |_| {}),
        request(
            "GET",
            "https://example.com/__clerk/v1/client?__clerk_db_jwt=secret",
        ),
        BodyInput::None,
    );
    let head = ex.response().await;
    assert_eq!(head.status, 502);
    let body = String::from_utf8(head.body.to_vec()).unwrap();
    assert!(
        body.contains("Failed to proxy request to Clerk FAPI"),
        "{body}"
    );
    assert!(
        !body.contains("secret"),
        "the URL (and its query) is not echoed: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_body_is_sent_with_its_length() {
    let (up, seen) = start_upstream().await;
    let ex = Exchange::start(
        config(&up, |_| {}),
        request("DELETE", "https://example.com/__clerk/echo-count"),
        BodyInput::Full(Bytes::from_static(b"{\"id\":1}")),
    );
    assert_eq!(ex.response().await.status, 200);
    assert_eq!(seen.body_lens.lock().unwrap()[0], 8);
    assert_eq!(seen.last_headers.lock().unwrap()["content-length"], "8");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_reason_phrase_is_passed_through() {
    let (up, _) = start_upstream().await;
    let ex = Exchange::start(
        config(&up, |_| {}),
        request("GET", "https://example.com/__clerk/reason"),
        BodyInput::None,
    );
    let head = ex.response().await;
    assert_eq!(
        (head.status, head.status_text.as_str()),
        (503, "Down For Maintenance")
    );
    let ex = Exchange::start(
        config(&up, |_| {}),
        request("GET", "https://example.com/__clerk/small"),
        BodyInput::None,
    );
    assert_eq!(ex.response().await.status_text, "OK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_download_never_reads_as_a_clean_end() {
    let (up, _) = start_upstream().await;
    let ex = Exchange::start(
        config(&up, |_| {}),
        request("GET", "https://example.com/__clerk/stall-body"),
        BodyInput::None,
    );
    let head = ex.response().await;
    assert!(!head.done);
    ex.cancel();
    // Whatever was queued may still come out, but the body must end in an error.
    let end = loop {
        match ex.read().await {
            Ok(Some(_)) => continue,
            other => break other,
        }
    };
    assert_eq!(end, Err(BodyError::Cancelled));
}
