//! The JS-facing handle of one proxied exchange: the request body goes in through a bounded channel
//! (backpressure: the caller waits when it is full), the response head comes back once, and the response body
//! through another bounded channel. Nothing is buffered whole. A [`CancellationToken`] (fired by the caller, or by
//! dropping the [`Exchange`]) ends the task (see [`super::task`]), which closes the upstream connection.
//!
//! The body is read with one of two protocols, never both on one exchange: [`Exchange::read`] (owned batches),
//! or [`Exchange::readable`] + [`Exchange::try_read_into`] (into a caller-owned buffer).

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::client::shared_client;
use super::config::{ConnectionSlot, IncomingRequest, PreparedRequest, ProxyConfig};
use super::error::{BodyError, ProxyError};
use super::response::ResponseHead;
use super::task::{with_idle, Task, Upload};
use super::upload::UploadStream;

/// Request-body chunks queued between the caller and the upstream connection.
const REQUEST_BODY_SLOTS: usize = 4;
/// Response-body chunks queued between the upstream connection and the caller.
const RESPONSE_BODY_SLOTS: usize = 4;
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

/// Which read protocol an exchange uses (fixed by the first read call).
const PROTOCOL_UNSET: u8 = 0;
const PROTOCOL_READ: u8 = 1;
const PROTOCOL_READ_INTO: u8 = 2;

/// Exchange handles alive now ([`Exchange`] values not yet dropped).
static LIVE_HANDLES: AtomicUsize = AtomicUsize::new(0);
/// Exchange tasks alive now (spawned and not yet finished or dropped).
pub(super) static LIVE_TASKS: AtomicUsize = AtomicUsize::new(0);

/// Counts one live object in its counter for as long as it is held.
pub(super) struct Live(&'static AtomicUsize);

impl Live {
    pub(super) fn new(counter: &'static AtomicUsize) -> Live {
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
    ended: AtomicBool,
    /// The read protocol in use (`PROTOCOL_*`), fixed by the first read call.
    protocol: AtomicU8,
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
    /// A client that could not be built answers 502 `proxy_request_failed`.
    pub fn start(config: Arc<ProxyConfig>, req: IncomingRequest<'_>, body: BodyInput) -> Exchange {
        let client = shared_client()
            .cloned()
            .map_err(|e| ProxyError::upstream_failed(&e.to_string()));
        Self::start_inner(client, config, req, body)
    }

    /// As [`Exchange::start`], with an explicit client (tests).
    pub fn start_with_client(
        client: reqwest::Client,
        config: Arc<ProxyConfig>,
        req: IncomingRequest<'_>,
        body: BodyInput,
    ) -> Exchange {
        Self::start_inner(Ok(client), config, req, body)
    }

    fn start_inner(
        client: Result<reqwest::Client, ProxyError>,
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
        match client.and_then(|client| prepare(&config, req).map(|p| (client, p))) {
            Err(err) => {
                let _ = head_tx.send(ResponseHead::from_error(&err));
            }
            Ok((client, (prepared, slot))) => {
                let (upload, tx) = upload(body, idle, &cancel);
                body_tx = tx;
                let task = Task {
                    client,
                    config,
                    prepared,
                    upload,
                    head_tx,
                    chunk_tx,
                    cancel: cancel.clone(),
                    upload_stalled: upload_stalled.clone(),
                    live: Live::new(&LIVE_TASKS),
                    slot,
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
            ended: AtomicBool::new(false),
            protocol: AtomicU8::new(PROTOCOL_UNSET),
            cancel,
            upload_stalled,
            idle,
            _live: Live::new(&LIVE_HANDLES),
        }
    }

    /// Fixes the read protocol on first use. Mixing the two on one exchange is a caller bug: `read` would
    /// skip a chunk `readable` parked for `try_read_into` (which is why `read` drains it first anyway).
    fn use_protocol(&self, protocol: u8) {
        let prev = self
            .protocol
            .compare_exchange(
                PROTOCOL_UNSET,
                protocol,
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .unwrap_or_else(|p| p);
        debug_assert!(
            prev == PROTOCOL_UNSET || prev == protocol,
            "read protocol mixed on one exchange: read() vs readable()/try_read_into()"
        );
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
        let cancelled = || ResponseHead::from_error(&ProxyError::cancelled());
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
        self.use_protocol(PROTOCOL_READ);
        let mut rx = self.body_rx.lock().await;
        if let Some(e) = self.pending_error.lock().ok().and_then(|mut g| g.take()) {
            return Err(e);
        }
        if let Some(chunk) = self.pending_chunk.lock().ok().and_then(|mut g| g.take()) {
            return Ok(Some(chunk));
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
        self.use_protocol(PROTOCOL_READ_INTO);
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
            None => self.ended.store(true, Ordering::Release),
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
            || self.ended.load(Ordering::Acquire)
    }

    /// Copies available body bytes into `dst` without waiting: `Data(n)`, `Empty` (wait with
    /// [`Exchange::readable`]), `End`, or `Failed`. Never allocates.
    pub fn try_read_into(&self, dst: &mut [u8]) -> ReadInto {
        self.use_protocol(PROTOCOL_READ_INTO);
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
                        self.ended.store(true, Ordering::Release);
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
        if self.ended.load(Ordering::Acquire) {
            return ReadInto::End;
        }
        ReadInto::Empty
    }
}

/// Validates the request and takes a connection slot (or the error to answer with).
fn prepare(
    config: &ProxyConfig,
    req: IncomingRequest<'_>,
) -> Result<(PreparedRequest, ConnectionSlot), ProxyError> {
    let prepared = config.prepare(req)?;
    match config.try_acquire_slot() {
        Some(slot) => Ok((prepared, slot)),
        None => Err(ProxyError::too_many_requests(config.max_connections())),
    }
}

/// The task's side of the request body, and for a streamed body the caller's sender.
fn upload(
    body: BodyInput,
    idle: Option<Duration>,
    cancel: &CancellationToken,
) -> (Upload, Option<mpsc::Sender<Bytes>>) {
    match body {
        BodyInput::None => (Upload::None, None),
        BodyInput::Full(bytes) => (Upload::Full(bytes), None),
        BodyInput::Stream => {
            let (tx, rx) = mpsc::channel(REQUEST_BODY_SLOTS);
            let (done_tx, done_rx) = oneshot::channel();
            let stream = UploadStream::new(rx, idle, done_tx, cancel.clone());
            (Upload::Stream(stream, done_rx), Some(tx))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::ProxyOptions;

    fn exchange(options: ProxyOptions, body: BodyInput) -> Exchange {
        let config = Arc::new(ProxyConfig::new(&options));
        let req = IncomingRequest {
            method: "POST",
            url: "https://app.example/__clerk/v1/client",
            headers: http::HeaderMap::new(),
            remote_address: None,
        };
        Exchange::start(config, req, body)
    }

    #[tokio::test]
    async fn a_preparation_error_is_the_head_and_no_body_is_taken() {
        let ex = exchange(ProxyOptions::default(), BodyInput::Stream);
        assert_eq!(ex.try_write(Bytes::from_static(b"x")), WriteOutcome::Closed);
        let head = ex.response().await;
        assert_eq!(head.status, 500);
        assert!(head.done);
        // The head is delivered once; a second call gets the cancelled head.
        assert_eq!(ex.response().await.status, 502);
    }

    #[tokio::test]
    async fn cancel_ends_reads_with_cancelled() {
        let ex = exchange(ProxyOptions::default(), BodyInput::None);
        ex.cancel();
        assert_eq!(ex.read().await, Err(BodyError::Cancelled));
        // A head already delivered still wins over the cancellation.
        assert_eq!(ex.response().await.status, 500);
    }

    #[cfg(debug_assertions)]
    #[tokio::test]
    #[should_panic(expected = "read protocol mixed")]
    async fn mixing_the_read_protocols_is_a_bug() {
        let ex = exchange(ProxyOptions::default(), BodyInput::None);
        let mut buf = [0u8; 8];
        let _ = ex.try_read_into(&mut buf);
        let _ = ex.read().await;
    }
}
