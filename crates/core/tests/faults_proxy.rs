//! Fault injection at the streaming engine, against a raw TCP upstream on 127.0.0.1 (no HTTP library on the
//! upstream side, so it can reset, stall, dribble bytes and send invalid HTTP): every fault gives the caller a
//! clear outcome (an error head or a body that fails, never a clean end of a truncated body), within the
//! configured timeouts, and nothing is left behind (upstream connections and live runtime tasks are back to
//! their baseline after a few hundred mixed rounds).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clerk_native_core::proxy::{
    BodyError, BodyInput, Exchange, IncomingRequest, ProxyConfig, ProxyOptions, ResponseHead,
};
use http::HeaderMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TIMEOUT_MS: u64 = 400;
const IDLE_MS: u64 = 300;

/// What the raw upstream observed.
#[derive(Default)]
struct Seen {
    /// Connections currently open at the upstream.
    open: AtomicUsize,
    /// Connections accepted in total.
    accepted: AtomicUsize,
    /// When each connection was seen closed by the peer (EOF or error), in order.
    peer_closed: Mutex<Vec<Instant>>,
    /// Request-body bytes received by `/count-upload` connections that later saw the peer go away.
    upload_bytes: AtomicUsize,
}

struct OpenGuard(Arc<Seen>);
impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Upstream {
    base: String,
    seen: Arc<Seen>,
}

async fn start_upstream() -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            s.open.fetch_add(1, Ordering::SeqCst);
            s.accepted.fetch_add(1, Ordering::SeqCst);
            let seen = s.clone();
            tokio::spawn(async move {
                let _guard = OpenGuard(seen.clone());
                let _ = tokio::time::timeout(Duration::from_secs(20), serve(sock, seen)).await;
            });
        }
    });
    Upstream {
        base: format!("http://{addr}"),
        seen,
    }
}

/// Reads until the end of the request head; returns (path, bytes already read past the head).
async fn read_head(sock: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::with_capacity(4096);
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..pos]).to_string();
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            return Some((path, buf[pos + 4..].to_vec()));
        }
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// Reads (and discards) until the peer closes; records when.
async fn until_peer_closes(sock: &mut TcpStream, seen: &Seen, counted: bool) {
    let mut tmp = [0u8; 16 * 1024];
    loop {
        match sock.read(&mut tmp).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if counted {
                    seen.upload_bytes.fetch_add(n, Ordering::SeqCst);
                }
            }
        }
    }
    seen.peer_closed.lock().unwrap().push(Instant::now());
}

fn reset(sock: TcpStream) {
    let _ = sock.set_zero_linger();
    drop(sock);
}

async fn serve(mut sock: TcpStream, seen: Arc<Seen>) {
    let Some((path, early)) = read_head(&mut sock).await else {
        return;
    };
    match path.as_str() {
        "/ok" => {
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .await;
            until_peer_closes(&mut sock, &seen, false).await;
        }
        "/reset-download" => {
            // Streamed path (Content-Length above the inline limit): 32 KiB arrive, then an RST.
            let _ = sock
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\n",
                )
                .await;
            let _ = sock.write_all(&[b'd'; 32 * 1024]).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            reset(sock);
        }
        "/reset-download-small" => {
            // Inline path (Content-Length <= 64 KiB is gathered with the head): half of it, then an RST.
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\nConnection: close\r\n\r\n")
                .await;
            let _ = sock.write_all(&[b'd'; 5000]).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            reset(sock);
        }
        "/reset-download-chunked" => {
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
                .await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            reset(sock);
        }
        "/reset-upload" => {
            // Reads 64 KiB of the request body, then resets before answering.
            let mut got = early.len();
            let mut tmp = [0u8; 16 * 1024];
            while got < 64 * 1024 {
                match sock.read(&mut tmp).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => got += n,
                }
            }
            reset(sock);
        }
        "/count-upload" => {
            // Never answers; counts the upload until the peer goes away.
            seen.upload_bytes.fetch_add(early.len(), Ordering::SeqCst);
            until_peer_closes(&mut sock, &seen, true).await;
        }
        "/close-before-headers" => {
            let _ = sock.shutdown().await;
            drop(sock);
        }
        "/stall-headers" => until_peer_closes(&mut sock, &seen, false).await,
        "/stall-body" => {
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
                .await;
            until_peer_closes(&mut sock, &seen, false).await;
        }
        "/stall-body-length" => {
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst")
                .await;
            until_peer_closes(&mut sock, &seen, false).await;
        }
        p if p.strip_prefix("/slow-bytes-").is_some() => {
            // The whole response one byte at a time, `gap` ms apart (each gap below the idle timeout).
            let gap: u64 = p
                .strip_prefix("/slow-bytes-")
                .and_then(|g| g.parse().ok())
                .unwrap_or(5);
            let body = b"0123456789abcdefghij";
            let mut all = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            let head_len = all.len();
            all.extend_from_slice(body);
            for (i, b) in all.iter().enumerate() {
                if sock.write_all(&[*b]).await.is_err() {
                    return;
                }
                // header bytes quickly (the header timeout is not what this tests), body bytes slowly
                let pause = if i < head_len { 1 } else { gap };
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            until_peer_closes(&mut sock, &seen, false).await;
        }
        p if p.strip_prefix("/invalid-").is_some() => {
            let reply: &[u8] = match p.strip_prefix("/invalid-").unwrap_or_default() {
                "garbage" => b"this is not http at all\r\n\r\n",
                "status" => b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
                "version" => b"HTTP/9.9 200 OK\r\nContent-Length: 0\r\n\r\n",
                "length" => b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello",
                "two-lengths" => {
                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
                }
                "header" => b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
                "nul" => b"HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n",
                "chunk" => {
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
                }
                _ => b"\x00\x01\x02\x03\r\n\r\n",
            };
            let _ = sock.write_all(reply).await;
            let _ = sock.shutdown().await;
            until_peer_closes(&mut sock, &seen, false).await;
        }
        "/big" => {
            // 4 MiB chunked, as fast as the proxy takes it.
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await;
            let chunk = [b'b'; 16 * 1024];
            let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(&chunk);
            frame.extend_from_slice(b"\r\n");
            for _ in 0..256 {
                if sock.write_all(&frame).await.is_err() {
                    return;
                }
            }
            let _ = sock.write_all(b"0\r\n\r\n").await;
            until_peer_closes(&mut sock, &seen, false).await;
        }
        _ => {
            let _ = sock
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
        }
    }
}

/// A client like the shared one (no proxy, no redirects), but owned by this test's runtime.
fn client() -> reqwest::Client {
    // The production proxy client (one builder for production and tests).
    clerk_native_core::transport::proxy_client().expect("proxy client")
}

fn config(base: &str) -> Arc<ProxyConfig> {
    Arc::new(ProxyConfig::new(&ProxyOptions {
        publishable_key: Some("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k".into()),
        secret_key: Some("sk_test_xxx".into()),
        fapi_url: Some(base.into()),
        timeout_ms: Some(TIMEOUT_MS),
        idle_timeout_ms: Some(IDLE_MS),
        ..Default::default()
    }))
}

fn start(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    body: BodyInput,
) -> Exchange {
    let url = format!("https://example.com/__clerk{path}");
    Exchange::start_with_client(
        client.clone(),
        config(base),
        IncomingRequest {
            method,
            url: &url,
            headers: HeaderMap::new(),
            remote_address: Some("10.1.2.3"),
        },
        body,
    )
}

/// Everything the caller saw of one exchange.
#[derive(Debug)]
struct Outcome {
    status: u16,
    body: Vec<u8>,
    /// None = clean end.
    failure: Option<BodyError>,
    took: Duration,
}

async fn drive(ex: &Exchange) -> Outcome {
    let t0 = Instant::now();
    let head: ResponseHead = ex.response().await;
    let mut body = head.body.to_vec();
    let mut failure = None;
    if !head.done {
        loop {
            match ex.read().await {
                Ok(Some(c)) => body.extend_from_slice(&c),
                Ok(None) => break,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
    }
    Outcome {
        status: head.status,
        body,
        failure,
        took: t0.elapsed(),
    }
}

/// As [`drive`], through the caller-buffer path the Express adapter uses (`readable` + `try_read_into`).
async fn drive_into(ex: &Exchange) -> Outcome {
    use clerk_native_core::proxy::ReadInto;
    let t0 = Instant::now();
    let head: ResponseHead = ex.response().await;
    let mut body = head.body.to_vec();
    let mut failure = None;
    if !head.done {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match ex.try_read_into(&mut buf) {
                ReadInto::Data(n) => body.extend_from_slice(&buf[..n]),
                ReadInto::Empty => ex.readable().await,
                ReadInto::End => break,
                ReadInto::Failed(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
    }
    Outcome {
        status: head.status,
        body,
        failure,
        took: t0.elapsed(),
    }
}

fn error_code(o: &Outcome) -> String {
    let v: serde_json::Value = serde_json::from_slice(&o.body).unwrap_or_default();
    v["errors"][0]["code"].as_str().unwrap_or("").to_string()
}

async fn wait_for(mut cond: impl FnMut() -> bool, limit: Duration, what: &str) -> Duration {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

/// Writes `total` bytes in 16 KiB chunks until done or the exchange stops taking them; then ends the body.
fn spawn_upload(ex: Arc<Exchange>, total: usize) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut sent = 0;
        while sent < total {
            if !ex.write(Bytes::from(vec![b'u'; 16 * 1024])).await {
                return sent;
            }
            sent += 16 * 1024;
        }
        ex.end();
        sent
    })
}

// ---------------------------------------------------------------------------------------------------------
// One fault at a time: the outcome the caller sees

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_download_fails_the_body_never_a_clean_end() {
    let up = start_upstream().await;
    let c = client();
    for (path, into) in ["/reset-download", "/reset-download-chunked"]
        .into_iter()
        .flat_map(|p| [(p, false), (p, true)])
    {
        let ex = start(&c, &up.base, "GET", path, BodyInput::None);
        let o = if into {
            drive_into(&ex).await
        } else {
            drive(&ex).await
        };
        assert_eq!(o.status, 200, "{path}");
        assert!(
            matches!(o.failure, Some(BodyError::Upstream(_))),
            "{path}: {:?} after {} bytes",
            o.failure,
            o.body.len()
        );
        assert!(o.took < Duration::from_secs(2), "{path}: {:?}", o.took);
    }
    wait_for(
        || up.seen.open.load(Ordering::SeqCst) == 0,
        Duration::from_secs(2),
        "upstream closed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_upload_is_a_502_json_error() {
    let up = start_upstream().await;
    let c = client();
    let ex = Arc::new(start(
        &c,
        &up.base,
        "PUT",
        "/reset-upload",
        BodyInput::Stream,
    ));
    // More than the loopback socket buffers can absorb: the writer must be told to stop.
    let total = 256 * 1024 * 1024;
    let writer = spawn_upload(ex.clone(), total);
    let o = tokio::time::timeout(Duration::from_secs(3), drive(&ex))
        .await
        .expect("no hang");
    assert_eq!(o.status, 502, "{o:?}");
    assert_eq!(error_code(&o), "proxy_request_failed");
    let sent = tokio::time::timeout(Duration::from_secs(2), writer)
        .await
        .expect("writer stops")
        .unwrap();
    assert!(sent < total, "the writer was told to stop ({sent} bytes)");
    println!("reset mid-upload: the writer stopped after {sent} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_before_headers_is_a_502_json_error() {
    let up = start_upstream().await;
    let c = client();
    let ex = start(
        &c,
        &up.base,
        "GET",
        "/close-before-headers",
        BodyInput::None,
    );
    let o = drive(&ex).await;
    assert_eq!(o.status, 502, "{o:?}");
    assert_eq!(error_code(&o), "proxy_request_failed");
    assert!(o.took < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_before_headers_is_a_504_at_timeout_ms_and_the_connection_closes() {
    let up = start_upstream().await;
    let c = client();
    let ex = start(&c, &up.base, "GET", "/stall-headers", BodyInput::None);
    let o = drive(&ex).await;
    assert_eq!(o.status, 504, "{o:?}");
    assert_eq!(error_code(&o), "proxy_request_failed");
    let ms = o.took.as_millis() as u64;
    assert!(
        (TIMEOUT_MS - 20..TIMEOUT_MS + 600).contains(&ms),
        "504 after {ms} ms"
    );
    wait_for(
        || up.seen.open.load(Ordering::SeqCst) == 0,
        Duration::from_secs(1),
        "upstream closed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_body_that_fails_before_any_byte_reached_the_client_is_a_json_error() {
    // A body of at most 64 KiB with a Content-Length is gathered before the head goes out: when it fails,
    // the client has seen nothing yet and gets a clean error instead of a truncated 200.
    let up = start_upstream().await;
    let c = client();
    for (path, status) in [("/reset-download-small", 502), ("/stall-body-length", 504)] {
        let ex = start(&c, &up.base, "GET", path, BodyInput::None);
        let o = drive(&ex).await;
        assert_eq!(o.status, status, "{path}");
        assert_eq!(error_code(&o), "proxy_request_failed", "{path}");
        assert!(o.failure.is_none(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_mid_body_fails_with_idle_at_idle_timeout_ms() {
    let up = start_upstream().await;
    let c = client();
    for (path, into) in [("/stall-body", false), ("/stall-body", true)] {
        let ex = start(&c, &up.base, "GET", path, BodyInput::None);
        let o = if into {
            drive_into(&ex).await
        } else {
            drive(&ex).await
        };
        assert_eq!(o.status, 200, "{path}");
        assert_eq!(o.body, b"first", "{path}");
        assert_eq!(o.failure, Some(BodyError::Idle), "{path}");
        let ms = o.took.as_millis() as u64;
        assert!(
            (IDLE_MS - 20..IDLE_MS + 600).contains(&ms),
            "{path}: idle after {ms} ms"
        );
    }
    wait_for(
        || up.seen.open.load(Ordering::SeqCst) == 0,
        Duration::from_secs(1),
        "upstream closed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_byte_by_byte_answer_completes_even_past_the_idle_timeout_in_total() {
    let up = start_upstream().await;
    let c = client();
    // 20 body bytes, 50 ms apart: 1 s in total, more than IDLE_MS, but no gap reaches it.
    let ex = start(&c, &up.base, "GET", "/slow-bytes-50", BodyInput::None);
    let o = drive(&ex).await;
    assert_eq!(o.status, 200, "{o:?}");
    assert_eq!(o.failure, None);
    assert_eq!(o.body, b"0123456789abcdefghij");
    assert!(o.took > Duration::from_millis(IDLE_MS), "took {:?}", o.took);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_http_from_the_upstream_is_a_502_json_error() {
    let up = start_upstream().await;
    let c = client();
    for v in [
        "garbage",
        "status",
        "version",
        "length",
        "two-lengths",
        "header",
        "nul",
        "binary",
    ] {
        let ex = start(
            &c,
            &up.base,
            "GET",
            &format!("/invalid-{v}"),
            BodyInput::None,
        );
        let o = tokio::time::timeout(Duration::from_secs(3), drive(&ex))
            .await
            .expect("no hang");
        assert_eq!(o.status, 502, "invalid-{v}: {o:?}");
        assert_eq!(error_code(&o), "proxy_request_failed", "invalid-{v}");
    }
    // An invalid chunk size arrives after a valid head: the body fails (never a clean end).
    let ex = start(&c, &up.base, "GET", "/invalid-chunk", BodyInput::None);
    let o = drive(&ex).await;
    assert_eq!(o.status, 200);
    assert!(matches!(o.failure, Some(BodyError::Upstream(_))), "{o:?}");
}

// ---------------------------------------------------------------------------------------------------------
// The caller is the slow side

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stalls_past_idle_timeout_gets_a_failure_not_a_truncated_clean_end() {
    let up = start_upstream().await;
    let c = client();
    let ex = start(&c, &up.base, "GET", "/big", BodyInput::None);
    let head = ex.response().await;
    assert_eq!(head.status, 200);
    let mut got = head.body.len();
    // The caller stops reading for longer than the idle timeout while the upstream has more to send.
    tokio::time::sleep(Duration::from_millis(IDLE_MS * 3)).await;
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(3), ex.read())
            .await
            .expect("no hang")
        {
            Ok(Some(c)) => got += c.len(),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let total = 256 * 16 * 1024;
    assert!(
        got == total || end.is_some(),
        "the body ended cleanly after {got} of {total} bytes: a truncated body must fail, not end"
    );
    if got < total {
        assert_eq!(end, Some(BodyError::Idle), "after {got} of {total} bytes");
    }
    wait_for(
        || up.seen.open.load(Ordering::SeqCst) == 0,
        Duration::from_secs(2),
        "upstream closed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_on_the_read_into_path_also_gets_a_failure() {
    // The buffer-pool path the Express adapter uses (`readable` + `try_read_into`).
    use clerk_native_core::proxy::ReadInto;
    let up = start_upstream().await;
    let c = client();
    let ex = start(&c, &up.base, "GET", "/big", BodyInput::None);
    let head = ex.response().await;
    assert_eq!(head.status, 200);
    tokio::time::sleep(Duration::from_millis(IDLE_MS * 3)).await;
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = head.body.len();
    let end = loop {
        match ex.try_read_into(&mut buf) {
            ReadInto::Data(n) => got += n,
            ReadInto::Empty => tokio::time::timeout(Duration::from_secs(3), ex.readable())
                .await
                .expect("no hang"),
            ReadInto::End => break None,
            ReadInto::Failed(e) => break Some(e),
        }
    };
    let total = 256 * 16 * 1024;
    assert!(
        got < total,
        "the stall should have stopped the body ({got} bytes)"
    );
    assert_eq!(end, Some(BodyError::Idle), "after {got} of {total} bytes");
}

// ---------------------------------------------------------------------------------------------------------
// Cancellation measured at the upstream

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_closes_the_upstream_connection_within_100ms_at_every_stage() {
    let up = start_upstream().await;
    let c = client();
    let mut lat = Vec::new();
    for (i, path) in ["/stall-headers", "/stall-body", "/count-upload"]
        .iter()
        .cycle()
        .take(30)
        .enumerate()
    {
        let before = up.seen.peer_closed.lock().unwrap().len();
        let accepted = up.seen.accepted.load(Ordering::SeqCst);
        let upload = *path == "/count-upload";
        let ex = Arc::new(start(
            &c,
            &up.base,
            if upload { "PUT" } else { "GET" },
            path,
            if upload {
                BodyInput::Stream
            } else {
                BodyInput::None
            },
        ));
        let writer = upload.then(|| spawn_upload(ex.clone(), 64 * 1024 * 1024));
        wait_for(
            || up.seen.accepted.load(Ordering::SeqCst) > accepted,
            Duration::from_secs(2),
            "connected",
        )
        .await;
        if *path == "/stall-body" {
            let head = ex.response().await;
            assert_eq!(head.status, 200);
        } else if upload {
            wait_for(
                || up.seen.upload_bytes.load(Ordering::SeqCst) > 0,
                Duration::from_secs(2),
                "upload flowing",
            )
            .await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let t0 = Instant::now();
        ex.cancel();
        wait_for(
            || up.seen.peer_closed.lock().unwrap().len() > before,
            Duration::from_secs(2),
            &format!("round {i} {path}: upstream sees the close"),
        )
        .await;
        let at = *up.seen.peer_closed.lock().unwrap().last().unwrap();
        lat.push(at.saturating_duration_since(t0));
        if let Some(w) = writer {
            let _ = tokio::time::timeout(Duration::from_secs(2), w)
                .await
                .expect("writer stops");
        }
    }
    lat.sort();
    let p95 = lat[(lat.len() * 95).div_ceil(100) - 1];
    println!(
        "cancel -> upstream close: p50 {:?}, p95 {:?}, max {:?}",
        lat[lat.len() / 2],
        p95,
        lat[lat.len() - 1]
    );
    assert!(p95 <= Duration::from_millis(100), "p95 {p95:?}");
}

// ---------------------------------------------------------------------------------------------------------
// Many rounds: nothing is left behind

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_mixed_fault_rounds_leave_no_connection_and_no_task_behind() {
    let up = start_upstream().await;
    let c = client();
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline_tasks = metrics.num_alive_tasks();
    const FAULTS: [&str; 11] = [
        "/ok",
        "/reset-download",
        "/reset-download-small",
        "/reset-upload",
        "/close-before-headers",
        "/stall-headers",
        "/stall-body",
        "/slow-bytes-2",
        "/invalid-garbage",
        "/invalid-two-lengths",
        "/reset-download-chunked",
    ];
    let rounds = 300;
    let sem = Arc::new(tokio::sync::Semaphore::new(10));
    let mut handles = Vec::new();
    for i in 0..rounds {
        let path = FAULTS[i % FAULTS.len()];
        let permit = sem.clone().acquire_owned().await.unwrap();
        let c = c.clone();
        let base = up.base.clone();
        handles.push(tokio::spawn(async move {
            let _permit = permit;
            let upload = path == "/reset-upload";
            let ex = Arc::new(start(
                &c,
                &base,
                if upload { "PUT" } else { "GET" },
                path,
                if upload {
                    BodyInput::Stream
                } else {
                    BodyInput::None
                },
            ));
            let writer = upload.then(|| spawn_upload(ex.clone(), 1024 * 1024));
            // half the rounds read with `read`, half with `try_read_into` (the Express path)
            let o = if i % 2 == 0 {
                tokio::time::timeout(Duration::from_secs(5), drive(&ex)).await
            } else {
                tokio::time::timeout(Duration::from_secs(5), drive_into(&ex)).await
            };
            if let Some(w) = writer {
                let _ = tokio::time::timeout(Duration::from_secs(3), w).await;
            }
            (path, o)
        }));
    }
    let mut bad = Vec::new();
    for h in handles {
        let (path, o) = h.await.unwrap();
        let Ok(o) = o else {
            bad.push(format!("{path}: hung"));
            continue;
        };
        let ok = match path {
            "/ok" => o.status == 200 && o.body == b"ok" && o.failure.is_none(),
            "/slow-bytes-2" => {
                o.status == 200 && o.body == b"0123456789abcdefghij" && o.failure.is_none()
            }
            "/reset-download" | "/reset-download-chunked" => {
                o.status == 200 && matches!(o.failure, Some(BodyError::Upstream(_)))
            }
            "/reset-download-small" => o.status == 502 && error_code(&o) == "proxy_request_failed",
            "/stall-body" => o.status == 200 && o.failure == Some(BodyError::Idle),
            "/stall-headers" => o.status == 504,
            _ => o.status == 502 && error_code(&o) == "proxy_request_failed",
        };
        if !ok {
            bad.push(format!(
                "{path}: {} {:?} {:?}",
                o.status,
                o.failure,
                String::from_utf8_lossy(&o.body)
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} unexpected outcomes: {bad:#?}",
        bad.len()
    );
    wait_for(
        || up.seen.open.load(Ordering::SeqCst) == 0,
        Duration::from_secs(3),
        "every upstream connection closed",
    )
    .await;
    // Connection tasks of the client and the upstream's handlers end once their sockets close.
    let settle = wait_for(
        || metrics.num_alive_tasks() <= baseline_tasks,
        Duration::from_secs(3),
        "live runtime tasks back to the baseline",
    )
    .await;
    println!(
        "300 rounds: {} upstream connections, alive tasks {} -> {} (settled in {settle:?})",
        up.seen.accepted.load(Ordering::SeqCst),
        baseline_tasks,
        metrics.num_alive_tasks()
    );
}
