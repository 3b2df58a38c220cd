//! The background task of one exchange: send the request (with the header deadline), build the client head,
//! then deliver the body: with the head when small, else through the bounded response channel.
//!
//! Every exit but a clean end of the body (including a panic) cancels the exchange, so that a reader never takes
//! the closed channel for a complete body.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::{mpsc, oneshot};
use tokio::time::sleep;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::config::{ConnectionSlot, PreparedRequest, ProxyConfig};
use super::error::{BodyError, ProxyError};
use super::exchange::Live;
use super::response::{client_response_head, ClientHead, ResponseHead};
use super::upload::{chain_has_upload_idle, UploadStream};

/// The request body as the task sends it.
pub(super) enum Upload {
    None,
    Full(Bytes),
    /// Streamed, with the signal that it ended cleanly (it starts the response-header timer).
    Stream(UploadStream, oneshot::Receiver<()>),
}

/// Everything the task owns; built by [`super::exchange::Exchange`].
pub(super) struct Task {
    pub(super) client: reqwest::Client,
    pub(super) config: Arc<ProxyConfig>,
    pub(super) prepared: PreparedRequest,
    pub(super) upload: Upload,
    pub(super) head_tx: oneshot::Sender<ResponseHead>,
    pub(super) chunk_tx: mpsc::Sender<Result<Bytes, BodyError>>,
    pub(super) cancel: CancellationToken,
    /// Fired when the upstream took no request-body byte for `idleTimeoutMs` (see
    /// [`super::exchange::Exchange::write`]); only for a streamed body.
    pub(super) upload_stalled: Option<CancellationToken>,
    /// Counted in [`super::exchange::exchange_counts`] until the task ends or is dropped.
    pub(super) live: Live,
    /// One of the config's `maxConnections` slots, held until the task ends.
    pub(super) slot: ConnectionSlot,
}

/// How the small-body step ended.
enum Inline {
    /// The whole body (or, when not small, nothing yet).
    Body(Bytes, bool),
    /// A failure before anything reached the client: answer this head instead.
    Failed(ProxyError),
    /// Cancelled: stop silently.
    Cancelled,
}

impl Task {
    /// Runs the exchange to its end.
    pub(super) async fn run(self) {
        // Counted and holding a connection slot until the task ends (or is dropped).
        let _held = (self.live, self.slot);
        let (cancel, config) = (self.cancel, self.config);
        let end_guard = cancel.clone().drop_guard();
        let PreparedRequest {
            method,
            target,
            headers,
            proxy_url,
        } = self.prepared;
        let builder = self.client.request(method, target).headers(headers);
        let (request, upload_done) = request(builder, self.upload);
        let timeout = config.timeout;
        let stalled = self.upload_stalled;
        let timer = crate::metrics::ProxyTimer::start();
        let Some(sent) = send(request, upload_done, timeout, &cancel, stalled).await else {
            return;
        };
        match sent.and_then(|r| head_of(&r, &config, &proxy_url).map(|head| (r, head))) {
            Ok((response, head)) => {
                timer.upstream(response.status().as_u16());
                let idle = config.idle_timeout;
                let (head_tx, chunk_tx) = (self.head_tx, self.chunk_tx);
                deliver(response, head, head_tx, chunk_tx, &cancel, idle, end_guard).await;
            }
            Err(err) => {
                timer.failed(err.status());
                let _ = self.head_tx.send(ResponseHead::from_error(&err));
            }
        }
    }
}

/// The client-facing head of an upstream response (see [`client_response_head`]).
fn head_of(
    response: &reqwest::Response,
    config: &ProxyConfig,
    proxy_url: &str,
) -> Result<ClientHead, ProxyError> {
    let reason = response.extensions().get::<hyper::ext::ReasonPhrase>();
    client_response_head(
        response.status(),
        reason.map(|r| r.as_bytes()),
        response.headers(),
        config.fapi(),
        proxy_url,
    )
}

/// The request with its body; for a streamed body also the signal that it was fully sent.
fn request(
    builder: reqwest::RequestBuilder,
    upload: Upload,
) -> (reqwest::RequestBuilder, Option<oneshot::Receiver<()>>) {
    match upload {
        Upload::None => (builder, None),
        Upload::Full(bytes) => (builder.body(bytes), None),
        Upload::Stream(stream, done) => {
            (builder.body(reqwest::Body::wrap_stream(stream)), Some(done))
        }
    }
}

/// Sends the request. `None` = cancelled; `Some(Err)` = the failure to answer (upload stalled or idle, header
/// deadline passed, transport error).
async fn send(
    request: reqwest::RequestBuilder,
    upload_done: Option<oneshot::Receiver<()>>,
    timeout: Option<Duration>,
    cancel: &CancellationToken,
    upload_stalled: Option<CancellationToken>,
) -> Option<Result<reqwest::Response, ProxyError>> {
    // The response-header timer starts once the request body is fully sent: a slow but moving upload is
    // governed by the idle timeout, not by the header timeout.
    let header_deadline = async move {
        if let Some(done) = upload_done {
            let _ = done.await;
        }
        or_pending(timeout.map(sleep)).await
    };
    let upload_stalled = or_pending(upload_stalled.map(CancellationToken::cancelled_owned));
    let result = tokio::select! {
        biased;
        _ = cancel.cancelled() => return None,
        _ = upload_stalled => return Some(Err(ProxyError::upload_stalled())),
        r = request.send() => r,
        _ = header_deadline => return Some(Err(ProxyError::upstream_timeout())),
    };
    Some(result.map_err(|err| {
        if chain_has_upload_idle(&err) {
            ProxyError::upload_idle()
        } else {
            ProxyError::upstream_failed(&describe(&err.without_url()))
        }
    }))
}

/// Awaits `fut`, or forever when there is none.
async fn or_pending<F: std::future::Future>(fut: Option<F>) {
    match fut {
        Some(f) => {
            f.await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// Sends the head (with the whole body when it is small or absent), then streams the rest.
async fn deliver(
    mut response: reqwest::Response,
    head: ClientHead,
    head_tx: oneshot::Sender<ResponseHead>,
    chunk_tx: mpsc::Sender<Result<Bytes, BodyError>>,
    cancel: &CancellationToken,
    idle: Option<Duration>,
    end_guard: DropGuard,
) {
    if head.no_body {
        drop(response);
        let _ = head_tx.send(head.into_response_head(Bytes::new(), true));
        end_guard.disarm();
        return;
    }
    let (body, done) = if head.inline_body() {
        match collect_inline_body(&mut response, cancel, idle).await {
            Inline::Body(body, done) => (body, done),
            Inline::Failed(err) => {
                let _ = head_tx.send(ResponseHead::from_error(&err));
                return;
            }
            Inline::Cancelled => return,
        }
    } else {
        (Bytes::new(), false)
    };
    if head_tx.send(head.into_response_head(body, done)).is_err() {
        return;
    }
    if done || stream_body(response, &chunk_tx, cancel, idle).await {
        end_guard.disarm();
    }
}

/// Reads a small body whole (its declared length is at most the inline limit). Nothing has reached the client
/// yet, so a failure here is a clean JSON error, not a truncated response.
async fn collect_inline_body(
    response: &mut reqwest::Response,
    cancel: &CancellationToken,
    idle: Option<Duration>,
) -> Inline {
    let mut first = Bytes::new();
    let mut joined = BytesMut::new();
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Inline::Cancelled,
            r = with_idle(idle, response.chunk()) => r,
        };
        match next {
            Some(Ok(Some(chunk))) if joined.is_empty() && first.is_empty() => first = chunk,
            Some(Ok(Some(chunk))) => {
                if joined.is_empty() {
                    joined.extend_from_slice(&first);
                }
                joined.extend_from_slice(&chunk);
            }
            Some(Ok(None)) if joined.is_empty() => return Inline::Body(first, true),
            Some(Ok(None)) => return Inline::Body(joined.freeze(), true),
            Some(Err(e)) => {
                return Inline::Failed(ProxyError::body_failed(&describe(&e.without_url())))
            }
            None => return Inline::Failed(ProxyError::body_idle()),
        }
    }
}

/// Streams the body through the response channel. True when it ended cleanly.
async fn stream_body(
    mut response: reqwest::Response,
    chunk_tx: &mpsc::Sender<Result<Bytes, BodyError>>,
    cancel: &CancellationToken,
    idle: Option<Duration>,
) -> bool {
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => return false,
            r = with_idle(idle, response.chunk()) => r,
        };
        let item = match next {
            None => Err(BodyError::Idle),
            Some(Ok(None)) => return true,
            Some(Ok(Some(chunk))) => Ok(chunk),
            Some(Err(e)) => Err(BodyError::Upstream(describe(&e.without_url()))),
        };
        let is_err = item.is_err();
        let sent = tokio::select! {
            biased;
            _ = cancel.cancelled() => return false,
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
                return false;
            }
            // Receiver gone, or an error delivered: stop.
            _ => return false,
        }
    }
}

/// Runs `fut` with an optional idle limit; `None` = the limit passed.
pub(super) async fn with_idle<F: std::future::Future>(
    idle: Option<Duration>,
    fut: F,
) -> Option<F::Output> {
    match idle {
        None => Some(fut.await),
        Some(d) => tokio::time::timeout(d, fut).await.ok(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn with_idle_reports_the_limit() {
        assert_eq!(with_idle(None, async { 1 }).await, Some(1));
        assert_eq!(
            with_idle(Some(Duration::from_secs(5)), async { 2 }).await,
            Some(2)
        );
        let never = std::future::pending::<()>();
        assert_eq!(
            with_idle(Some(Duration::from_millis(10)), never).await,
            None
        );
    }

    #[test]
    fn describe_walks_the_chain_without_repeats() {
        let inner = std::io::Error::other("Connection refused");
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("error sending request")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(
            describe(&Outer(inner)),
            "error sending request: Connection refused"
        );
    }
}
