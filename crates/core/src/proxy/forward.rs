//! The streaming engine: one tokio task per proxied exchange.
//!
//! Request bodies arrive from the caller through a bounded channel (backpressure: the caller waits when it is
//! full) and are streamed upstream; response bodies go back through another bounded channel. Nothing is
//! buffered whole. A [`CancellationToken`] (fired by the caller, or by dropping the [`Exchange`]) drops the
//! upstream request/response, which closes the upstream connection.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use http::header::{CONTENT_LENGTH, LOCATION, RETRY_AFTER, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep, Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::config::{ConnectionSlot, IncomingRequest, PreparedRequest, ProxyConfig};
use super::error::ProxyError;
use super::headers::filter_response_headers;
use super::location::rewrite_location;

/// Request-body chunks queued between the caller and the upstream connection.
const REQUEST_BODY_SLOTS: usize = 4;
/// Response-body chunks queued between the upstream connection and the caller.
const RESPONSE_BODY_SLOTS: usize = 4;
/// A response whose Content-Length is at most this is delivered whole with its head (one call from JS).
pub const INLINE_BODY_LIMIT: u64 = 64 * 1024;
/// At most this many bytes are returned by one [`Exchange::read`].
pub const READ_BATCH_LIMIT: usize = 256 * 1024;

/// Request body supplied by the caller.
#[derive(Debug)]
pub enum BodyInput {
    /// No body (GET, HEAD, ... or an empty body).
    None,
    /// The whole body, already in memory (small bodies).
    Full(Bytes),
    /// The body will be written with [`Exchange::try_write`] / [`Exchange::write`] and ended with
    /// [`Exchange::end`].
    Stream,
}

/// Status line, headers and the first body bytes of a response.
#[derive(Debug)]
pub struct ResponseHead {
    /// HTTP status code.
    pub status: u16,
    /// Reason phrase.
    pub status_text: String,
    /// Response headers; every Set-Cookie is its own entry.
    pub headers: HeaderMap,
    /// Body bytes already received (the whole body when `done`).
    pub body: Bytes,
    /// True when `body` is the complete body and [`Exchange::read`] need not be called.
    pub done: bool,
}

impl ResponseHead {
    /// The JSON error response for a proxy failure (`Cache-Control: no-store`).
    pub fn from_error(err: &ProxyError) -> Self {
        let mut headers = HeaderMap::new();
        for (name, value) in ProxyError::response_headers() {
            headers.insert(name, HeaderValue::from_static(value));
        }
        if matches!(err, ProxyError::TooManyRequests(_)) {
            headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        let status = err.status();
        let status_text = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
            .to_string();
        ResponseHead {
            status,
            status_text,
            headers,
            body: Bytes::from(err.to_json()),
            done: true,
        }
    }
}

/// Why a body stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// No byte moved for `idleTimeoutMs`.
    Idle,
    /// The upstream connection failed mid-body.
    Upstream(String),
    /// The exchange was cancelled.
    Cancelled,
}

impl BodyError {
    /// Stable code for JS (`err.code`).
    pub fn code(&self) -> &'static str {
        match self {
            BodyError::Idle => "proxy_body_idle_timeout",
            BodyError::Upstream(_) => "proxy_upstream_body_error",
            BodyError::Cancelled => "proxy_cancelled",
        }
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Idle => f.write_str("Proxied body moved no byte within idleTimeoutMs"),
            BodyError::Upstream(m) => write!(f, "Upstream body failed: {m}"),
            BodyError::Cancelled => f.write_str("Proxy exchange was cancelled"),
        }
    }
}

impl StdError for BodyError {}

/// Outcome of [`Exchange::try_read_into`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadInto {
    /// This many bytes were copied.
    Data(usize),
    /// Nothing available yet: wait with [`Exchange::readable`].
    Empty,
    /// The body ended cleanly.
    End,
    /// The body failed.
    Failed(BodyError),
}

/// Outcome of a non-blocking write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The chunk was queued.
    Accepted,
    /// The queue is full: the chunk was NOT taken; wait with [`Exchange::write`].
    Full,
    /// The upstream side no longer takes a body (finished, failed or cancelled): the chunk was dropped.
    Closed,
}

/// The process-wide upstream client: keep-alive pool, no redirects, no system proxy, identity encoding
/// requested by the caller's headers, gzip/deflate/br decoded if the upstream sends them anyway.
pub fn shared_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new())
    })
}

/// Exchange handles alive now ([`Exchange`] values not yet dropped).
static LIVE_HANDLES: AtomicUsize = AtomicUsize::new(0);
/// Exchange tasks alive now (spawned and not yet finished or dropped).
static LIVE_TASKS: AtomicUsize = AtomicUsize::new(0);

/// Counts one live object in its counter for as long as it is held.
struct Live(&'static AtomicUsize);

impl Live {
    fn new(counter: &'static AtomicUsize) -> Live {
        counter.fetch_add(1, Ordering::Relaxed);
        Live(counter)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How many exchanges exist in this process: handles (an [`Exchange`], i.e. a JS `ProxyExchange` not yet
/// garbage-collected) and tasks (the background work of an exchange: connecting, sending the body, reading the
/// response). A task ends when its response ends, fails, times out or is cancelled, whether or not its handle is
/// still referenced, so `tasks` back at 0 after traffic means nothing was left running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeCounts {
    /// [`Exchange`] values alive.
    pub handles: usize,
    /// Exchange tasks alive.
    pub tasks: usize,
}

/// The current [`ExchangeCounts`].
pub fn exchange_counts() -> ExchangeCounts {
    ExchangeCounts {
        handles: LIVE_HANDLES.load(Ordering::Relaxed),
        tasks: LIVE_TASKS.load(Ordering::Relaxed),
    }
}

/// One proxied request/response pair, driven by a background task.
pub struct Exchange {
    body_tx: Mutex<Option<mpsc::Sender<Bytes>>>,
    head_rx: tokio::sync::Mutex<Option<oneshot::Receiver<ResponseHead>>>,
    body_rx: tokio::sync::Mutex<mpsc::Receiver<Result<Bytes, BodyError>>>,
    pending_error: Mutex<Option<BodyError>>,
    /// A chunk taken from the channel but not yet (fully) copied out by [`Exchange::try_read_into`].
    pending_chunk: Mutex<Option<Bytes>>,
    /// The body ended cleanly (seen by [`Exchange::readable`]).
    ended: std::sync::atomic::AtomicBool,
    cancel: CancellationToken,
    /// Fired by [`Exchange::write`] when the upstream took no request-body byte for `idleTimeoutMs` (only for a
    /// streamed body: no allocation on the GET path).
    upload_stalled: Option<CancellationToken>,
    /// The body idle limit (`idleTimeoutMs`).
    idle: Option<Duration>,
    _live: Live,
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange").finish_non_exhaustive()
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl Exchange {
    /// Prepares the request and spawns its task. Must be called inside a tokio runtime context.
    /// Errors in preparation become an immediate JSON error response (see [`ResponseHead::from_error`]).
    pub fn start(config: Arc<ProxyConfig>, req: IncomingRequest<'_>, body: BodyInput) -> Exchange {
        Self::start_with_client(shared_client().clone(), config, req, body)
    }

    /// As [`Exchange::start`], with an explicit client (tests).
    pub fn start_with_client(
        client: reqwest::Client,
        config: Arc<ProxyConfig>,
        req: IncomingRequest<'_>,
        body: BodyInput,
    ) -> Exchange {
        let (head_tx, head_rx) = oneshot::channel();
        let (chunk_tx, chunk_rx) = mpsc::channel(RESPONSE_BODY_SLOTS);
        let cancel = CancellationToken::new();
        let upload_stalled = matches!(body, BodyInput::Stream).then(CancellationToken::new);
        let idle = config.idle_timeout;
        let mut body_tx = None;
        let prepared = config.prepare(req).and_then(|p| match config.try_acquire_slot() {
            Some(slot) => Ok((p, slot)),
            None => Err(ProxyError::TooManyRequests(format!(
                "Too many concurrent requests to Clerk FAPI through this proxy (maxConnections = {}); retry shortly",
                config.max_connections()
            ))),
        });
        match prepared {
            Err(err) => {
                let _ = head_tx.send(ResponseHead::from_error(&err));
            }
            Ok((prepared, slot)) => {
                let (upload, upload_done) = match body {
                    BodyInput::None => (Upload::None, None),
                    BodyInput::Full(bytes) => (Upload::Full(bytes), None),
                    BodyInput::Stream => {
                        let (tx, rx) = mpsc::channel(REQUEST_BODY_SLOTS);
                        body_tx = Some(tx);
                        let (done_tx, done_rx) = oneshot::channel();
                        let stream =
                            UploadStream::new(rx, config.idle_timeout, done_tx, cancel.clone());
                        (Upload::Stream(stream), Some(done_rx))
                    }
                };
                let task = Task {
                    client,
                    config,
                    prepared,
                    upload,
                    upload_done,
                    head_tx,
                    chunk_tx,
                    cancel: cancel.clone(),
                    upload_stalled: upload_stalled.clone(),
                    live: Live::new(&LIVE_TASKS),
                    _slot: slot,
                };
                tokio::spawn(task.run());
            }
        }
        Exchange {
            body_tx: Mutex::new(body_tx),
            head_rx: tokio::sync::Mutex::new(Some(head_rx)),
            body_rx: tokio::sync::Mutex::new(chunk_rx),
            pending_error: Mutex::new(None),
            pending_chunk: Mutex::new(None),
            ended: std::sync::atomic::AtomicBool::new(false),
            cancel,
            upload_stalled,
            idle,
            _live: Live::new(&LIVE_HANDLES),
        }
    }

    fn sender(&self) -> Option<mpsc::Sender<Bytes>> {
        self.body_tx.lock().ok().and_then(|g| g.clone())
    }

    /// Queues a request-body chunk without waiting.
    pub fn try_write(&self, chunk: Bytes) -> WriteOutcome {
        let Ok(guard) = self.body_tx.lock() else {
            return WriteOutcome::Closed;
        };
        match guard.as_ref() {
            None => WriteOutcome::Closed,
            Some(tx) => match tx.try_send(chunk) {
                Ok(()) => WriteOutcome::Accepted,
                Err(mpsc::error::TrySendError::Full(_)) => WriteOutcome::Full,
                Err(mpsc::error::TrySendError::Closed(_)) => WriteOutcome::Closed,
            },
        }
    }

    /// Queues a request-body chunk, waiting for room. Returns false if the upstream side is gone.
    ///
    /// Waiting here means the upstream takes no body bytes (the queue only drains as they are sent): after
    /// `idleTimeoutMs` without room the exchange ends with 408 JSON (if no response head came yet) and the
    /// upstream connection is closed.
    pub async fn write(&self, chunk: Bytes) -> bool {
        let Some(tx) = self.sender() else {
            return false;
        };
        tokio::select! {
            r = with_idle(self.idle, tx.send(chunk)) => match r {
                Some(r) => r.is_ok(),
                None => {
                    if let Some(stalled) = &self.upload_stalled {
                        stalled.cancel();
                    }
                    false
                }
            },
            _ = self.cancel.cancelled() => false,
        }
    }

    /// Ends the request body.
    pub fn end(&self) {
        if let Ok(mut guard) = self.body_tx.lock() {
            guard.take();
        }
    }

    /// Cancels the exchange: the upstream connection is dropped, a streamed request body fails (it never
    /// ends as if complete) and pending reads end with [`BodyError::Cancelled`].
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Waits for the response head. Called once; later calls (or a cancelled exchange) get a 502 error head.
    pub async fn response(&self) -> ResponseHead {
        let rx = self.head_rx.lock().await.take();
        let cancelled = || {
            ResponseHead::from_error(&ProxyError::RequestFailed {
                status: 502,
                message: "Failed to proxy request to Clerk FAPI: the request was cancelled"
                    .to_string(),
            })
        };
        let Some(rx) = rx else {
            return cancelled();
        };
        tokio::select! {
            biased;
            r = rx => r.unwrap_or_else(|_| cancelled()),
            _ = self.cancel.cancelled() => cancelled(),
        }
    }

    /// Reads the next body bytes (up to [`READ_BATCH_LIMIT`], joining chunks already queued).
    /// `Ok(None)` = end of body.
    pub async fn read(&self) -> Result<Option<Bytes>, BodyError> {
        let mut rx = self.body_rx.lock().await;
        if let Some(e) = self.pending_error.lock().ok().and_then(|mut g| g.take()) {
            return Err(e);
        }
        let first = tokio::select! {
            biased;
            r = rx.recv() => r,
            _ = self.cancel.cancelled() => return Err(BodyError::Cancelled),
        };
        let first = match first {
            // The task drops its sender when cancelled: that is not a clean end.
            None if self.cancel.is_cancelled() => return Err(BodyError::Cancelled),
            None => return Ok(None),
            Some(r) => r?,
        };
        if first.len() >= READ_BATCH_LIMIT {
            return Ok(Some(first));
        }
        let mut batch: Option<BytesMut> = None;
        while let Ok(next) = rx.try_recv() {
            match next {
                Ok(next) => {
                    let buf = batch.get_or_insert_with(|| {
                        let mut b = BytesMut::with_capacity(first.len() + next.len());
                        b.extend_from_slice(&first);
                        b
                    });
                    buf.extend_from_slice(&next);
                    if buf.len() >= READ_BATCH_LIMIT {
                        break;
                    }
                }
                // Data first, the failure on the next call (a closed channel would otherwise read as a clean end).
                Err(e) => {
                    if let Ok(mut g) = self.pending_error.lock() {
                        *g = Some(e);
                    }
                    break;
                }
            }
        }
        Ok(Some(batch.map(BytesMut::freeze).unwrap_or(first)))
    }

    /// Waits until [`Exchange::try_read_into`] has something to report (data, end or failure). Used with a
    /// caller-owned buffer pool so that no allocation is made per chunk.
    pub async fn readable(&self) {
        if self.has_pending() {
            return;
        }
        let mut rx = self.body_rx.lock().await;
        let next = tokio::select! {
            biased;
            r = rx.recv() => r,
            _ = self.cancel.cancelled() => None,
        };
        match next {
            Some(Ok(chunk)) => {
                if let Ok(mut g) = self.pending_chunk.lock() {
                    *g = Some(chunk);
                }
            }
            Some(Err(e)) => {
                if let Ok(mut g) = self.pending_error.lock() {
                    *g = Some(e);
                }
            }
            None if self.cancel.is_cancelled() => {
                if let Ok(mut g) = self.pending_error.lock() {
                    *g = Some(BodyError::Cancelled);
                }
            }
            None => self.ended.store(true, std::sync::atomic::Ordering::Release),
        }
    }

    fn has_pending(&self) -> bool {
        self.pending_chunk
            .lock()
            .map(|g| g.is_some())
            .unwrap_or(false)
            || self
                .pending_error
                .lock()
                .map(|g| g.is_some())
                .unwrap_or(false)
            || self.ended.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Copies available body bytes into `dst` without waiting: `Data(n)`, `Empty` (wait with
    /// [`Exchange::readable`]), `End`, or `Failed`. Never allocates.
    pub fn try_read_into(&self, dst: &mut [u8]) -> ReadInto {
        let mut filled = 0;
        let Ok(mut pending) = self.pending_chunk.lock() else {
            return ReadInto::Failed(BodyError::Cancelled);
        };
        // Until `readable` saw the end, the channel lock is only contended by a concurrent `readable`.
        let mut rx = self.body_rx.try_lock().ok();
        while filled < dst.len() {
            let chunk = match pending.take() {
                Some(c) => c,
                None => match rx.as_mut().map(|rx| rx.try_recv()) {
                    Some(Ok(Ok(c))) => c,
                    Some(Ok(Err(e))) => {
                        if filled > 0 {
                            if let Ok(mut g) = self.pending_error.lock() {
                                *g = Some(e);
                            }
                            break;
                        }
                        return ReadInto::Failed(e);
                    }
                    Some(Err(mpsc::error::TryRecvError::Disconnected)) if filled == 0 => {
                        // A failure already taken from the channel comes first (the task cancels on exit).
                        if let Some(e) = self.pending_error.lock().ok().and_then(|mut g| g.take()) {
                            return ReadInto::Failed(e);
                        }
                        if self.cancel.is_cancelled() {
                            return ReadInto::Failed(BodyError::Cancelled);
                        }
                        self.ended.store(true, std::sync::atomic::Ordering::Release);
                        break;
                    }
                    _ => break,
                },
            };
            let n = chunk.len().min(dst.len() - filled);
            dst[filled..filled + n].copy_from_slice(&chunk[..n]);
            filled += n;
            if n < chunk.len() {
                *pending = Some(chunk.slice(n..));
            }
        }
        if filled > 0 {
            return ReadInto::Data(filled);
        }
        if let Some(e) = self.pending_error.lock().ok().and_then(|mut g| g.take()) {
            return ReadInto::Failed(e);
        }
        if self.ended.load(std::sync::atomic::Ordering::Acquire) {
            return ReadInto::End;
        }
        ReadInto::Empty
    }
}

enum Upload {
    None,
    Full(Bytes),
    Stream(UploadStream),
}

struct Task {
    client: reqwest::Client,
    config: Arc<ProxyConfig>,
    prepared: PreparedRequest,
    upload: Upload,
    upload_done: Option<oneshot::Receiver<()>>,
    head_tx: oneshot::Sender<ResponseHead>,
    chunk_tx: mpsc::Sender<Result<Bytes, BodyError>>,
    cancel: CancellationToken,
    /// Fired when the upstream took no request-body byte for `idleTimeoutMs` (see [`Exchange::write`]); only
    /// for a streamed body.
    upload_stalled: Option<CancellationToken>,
    /// Counted in [`exchange_counts`] until the task ends or is dropped.
    live: Live,
    /// One of the config's `maxConnections` slots, held until the task ends.
    _slot: ConnectionSlot,
}

/// Errors put into the upload stream so that an unfinished body is never sent as complete.
#[derive(Debug)]
enum UploadError {
    /// The client stopped sending for `idleTimeoutMs`.
    Idle,
    /// The exchange was cancelled (client gone).
    Cancelled,
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UploadError::Idle => f.write_str("request body moved no byte within idleTimeoutMs"),
            UploadError::Cancelled => f.write_str("request body cancelled by the client"),
        }
    }
}

impl StdError for UploadError {}

fn failed(status: u16, message: String) -> ResponseHead {
    ResponseHead::from_error(&ProxyError::RequestFailed { status, message })
}

/// The error text of a failed upstream request, without the URL (it may carry query parameters), walking
/// the cause chain for the useful part ("Connection refused", ...).
fn describe(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

fn chain_has_upload_idle(err: &(dyn StdError + 'static)) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if matches!(e.downcast_ref::<UploadError>(), Some(UploadError::Idle)) {
            return true;
        }
        cur = e.source();
    }
    false
}

impl Task {
    async fn run(self) {
        let Task {
            client,
            config,
            prepared,
            upload,
            upload_done,
            head_tx,
            chunk_tx,
            cancel,
            upload_stalled,
            live: _live,
            _slot,
        } = self;
        // Every exit but a clean end of the body (including a panic) cancels the exchange, so that a reader
        // never takes the closed channel for a complete body.
        let end_guard = cancel.clone().drop_guard();
        let PreparedRequest {
            method,
            target,
            headers,
            proxy_url,
        } = prepared;
        let mut builder = client.request(method, target).headers(headers);
        builder = match upload {
            Upload::None => builder,
            Upload::Full(bytes) => builder.body(bytes),
            Upload::Stream(stream) => builder.body(reqwest::Body::wrap_stream(stream)),
        };
        let timeout = config.timeout;
        // The response-header timer starts once the request body is fully sent: a slow but moving upload is
        // governed by the idle timeout, not by the header timeout.
        let header_deadline = async move {
            if let Some(done) = upload_done {
                let _ = done.await;
            }
            match timeout {
                Some(t) => sleep(t).await,
                None => std::future::pending::<()>().await,
            }
        };
        let send = builder.send();
        let upload_stalled = async move {
            match upload_stalled {
                Some(t) => t.cancelled_owned().await,
                None => std::future::pending::<()>().await,
            }
        };
        let result = tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            _ = upload_stalled => {
                let _ = head_tx.send(failed(
                    408,
                    "The request body moved no byte within idleTimeoutMs (the upstream stopped reading it)".to_string(),
                ));
                return;
            }
            r = send => r,
            _ = header_deadline => {
                let _ = head_tx.send(failed(
                    504,
                    "Failed to proxy request to Clerk FAPI: the upstream did not send response headers within timeoutMs".to_string(),
                ));
                return;
            }
        };
        let mut response = match result {
            Ok(r) => r,
            Err(err) => {
                let head = if chain_has_upload_idle(&err) {
                    failed(
                        408,
                        "The request body moved no byte within idleTimeoutMs".to_string(),
                    )
                } else {
                    let err = err.without_url();
                    failed(
                        502,
                        format!("Failed to proxy request to Clerk FAPI: {}", describe(&err)),
                    )
                };
                let _ = head_tx.send(head);
                return;
            }
        };

        let status = response.status();
        let code = status.as_u16();
        // A final status we can forward: 2xx-5xx. hyper consumes 100/102/103 itself; a 101 (an upgrade nobody
        // asked for) or 600-999 cannot be passed to a client as an ordinary response.
        if !(200..=599).contains(&code) {
            let _ = head_tx.send(failed(
                502,
                format!("Failed to proxy request to Clerk FAPI: the upstream answered with status {code}, which is not forwarded"),
            ));
            return;
        }
        // 204 and 304 never carry a body (RFC 9110 §15.3.5, §15.4.5).
        let no_body = code == 204 || code == 304;
        let mut out_headers = filter_response_headers(response.headers(), false);
        // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, so a Content-Length sent with it does not
        // describe the body hyper decodes; forwarding it would let a client (or a pooling front proxy) frame the
        // stream differently from us. Without Transfer-Encoding hyper reads exactly Content-Length bytes or fails.
        if no_body || response.headers().contains_key(TRANSFER_ENCODING) {
            out_headers.remove(CONTENT_LENGTH);
        }
        if let (Some(loc), Some(fapi)) = (out_headers.get(LOCATION), config.fapi()) {
            if let Some(new) = rewrite_location(loc, fapi, &proxy_url) {
                if let Ok(v) = HeaderValue::from_str(&new) {
                    out_headers.insert(LOCATION, v);
                }
            }
        }
        // The upstream's own reason phrase (hyper keeps non-canonical ones), else the canonical one.
        let status_text = response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .and_then(|r| std::str::from_utf8(r.as_bytes()).ok())
            .or_else(|| status.canonical_reason())
            .unwrap_or("")
            .to_string();
        let idle = config.idle_timeout;

        if no_body {
            drop(response);
            let _ = head_tx.send(ResponseHead {
                status: code,
                status_text,
                headers: out_headers,
                body: Bytes::new(),
                done: true,
            });
            end_guard.disarm();
            return;
        }

        // Small bodies with a known length are delivered with the head (one JS call per request).
        let small = out_headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n <= INLINE_BODY_LIMIT);
        let mut initial = Bytes::new();
        let mut done = false;
        if small {
            let mut buf = BytesMut::new();
            loop {
                let next = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => return,
                    r = with_idle(idle, response.chunk()) => r,
                };
                match next {
                    Some(Ok(Some(chunk))) => {
                        if buf.is_empty() && initial.is_empty() {
                            initial = chunk;
                        } else {
                            if buf.is_empty() {
                                buf.extend_from_slice(&initial);
                            }
                            buf.extend_from_slice(&chunk);
                        }
                    }
                    Some(Ok(None)) => {
                        done = true;
                        break;
                    }
                    // Nothing has reached the client yet: a failure here is a clean JSON error, not a
                    // truncated response.
                    Some(Err(e)) => {
                        let _ = head_tx.send(failed(
                            502,
                            format!(
                                "Failed to proxy request to Clerk FAPI: the upstream failed while sending the body: {}",
                                describe(&e.without_url())
                            ),
                        ));
                        return;
                    }
                    None => {
                        let _ = head_tx.send(failed(
                            504,
                            "Failed to proxy request to Clerk FAPI: the upstream body moved no byte within idleTimeoutMs"
                                .to_string(),
                        ));
                        return;
                    }
                }
            }
            if !buf.is_empty() {
                initial = buf.freeze();
            }
        }
        let head = ResponseHead {
            status: status.as_u16(),
            status_text,
            headers: out_headers,
            body: initial,
            done,
        };
        if head_tx.send(head).is_err() {
            return;
        }
        if done {
            end_guard.disarm();
            return;
        }

        loop {
            let next = tokio::select! {
                biased;
                _ = cancel.cancelled() => return,
                r = with_idle(idle, response.chunk()) => r,
            };
            let item = match next {
                None => Err(BodyError::Idle),
                Some(Ok(None)) => {
                    end_guard.disarm();
                    return;
                }
                Some(Ok(Some(chunk))) => Ok(chunk),
                Some(Err(e)) => Err(BodyError::Upstream(describe(&e.without_url()))),
            };
            let is_err = item.is_err();
            let sent = tokio::select! {
                biased;
                _ = cancel.cancelled() => return,
                r = with_idle(idle, chunk_tx.send(item)) => r,
            };
            match sent {
                Some(Ok(())) if !is_err => {}
                // The caller read nothing for `idleTimeoutMs` while the body had more: close the upstream now
                // and report the failure when the caller reads again (a clean end would pass a truncated body
                // off as complete).
                None if !is_err => {
                    drop(response);
                    tokio::select! {
                        biased;
                        _ = cancel.cancelled() => {}
                        _ = chunk_tx.send(Err(BodyError::Idle)) => {}
                    }
                    return;
                }
                // Receiver gone, or an error delivered: stop.
                _ => return,
            }
        }
    }
}

/// Runs `fut` with an optional idle limit; `None` = the limit passed.
async fn with_idle<F: std::future::Future>(idle: Option<Duration>, fut: F) -> Option<F::Output> {
    match idle {
        None => Some(fut.await),
        Some(d) => tokio::time::timeout(d, fut).await.ok(),
    }
}

/// The request body as a stream for reqwest, with an idle limit, a completion signal, and cancellation that
/// fails the body (so hyper aborts the request instead of finishing it).
struct UploadStream {
    rx: mpsc::Receiver<Bytes>,
    idle: Option<Duration>,
    timer: Option<Pin<Box<Sleep>>>,
    done: Option<oneshot::Sender<()>>,
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
    failed: bool,
}

impl UploadStream {
    fn new(
        rx: mpsc::Receiver<Bytes>,
        idle: Option<Duration>,
        done: oneshot::Sender<()>,
        cancel: CancellationToken,
    ) -> Self {
        UploadStream {
            rx,
            idle,
            timer: idle.map(|d| Box::pin(sleep(d))),
            done: Some(done),
            cancelled: Box::pin(cancel.cancelled_owned()),
            failed: false,
        }
    }

    fn fail(&mut self, e: UploadError) -> Poll<Option<Result<Bytes, UploadError>>> {
        self.failed = true;
        self.timer = None;
        Poll::Ready(Some(Err(e)))
    }
}

impl Stream for UploadStream {
    type Item = Result<Bytes, UploadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.failed {
            return Poll::Ready(None);
        }
        if this.cancelled.as_mut().poll(cx).is_ready() {
            return this.fail(UploadError::Cancelled);
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(chunk)) => {
                if let (Some(timer), Some(d)) = (this.timer.as_mut(), this.idle) {
                    timer.as_mut().reset(Instant::now() + d);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) => {
                if let Some(done) = this.done.take() {
                    let _ = done.send(());
                }
                this.timer = None;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let expired = match this.timer.as_mut() {
                    Some(timer) => timer.as_mut().poll(cx).is_ready(),
                    None => false,
                };
                if expired {
                    this.fail(UploadError::Idle)
                } else {
                    Poll::Pending
                }
            }
        }
    }
}
