//! The streamed request body as reqwest sees it: chunks from the caller's bounded channel, with an idle limit,
//! a completion signal (it starts the response-header timer) and cancellation that fails the body, so hyper
//! aborts the request instead of sending an unfinished body as complete.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep, Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Errors put into the upload stream so that an unfinished body is never sent as complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UploadError {
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

/// True when `err` (or a cause of it) is the upload stream's idle failure.
pub(super) fn chain_has_upload_idle(err: &(dyn StdError + 'static)) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if matches!(e.downcast_ref::<UploadError>(), Some(UploadError::Idle)) {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The request body as a stream for reqwest (see the module docs).
pub(super) struct UploadStream {
    rx: mpsc::Receiver<Bytes>,
    idle: Option<Duration>,
    timer: Option<Pin<Box<Sleep>>>,
    done: Option<oneshot::Sender<()>>,
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
    failed: bool,
}

impl UploadStream {
    /// `done` fires when the body ended cleanly; `cancel` fails the body.
    pub(super) fn new(
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

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn stream(
        idle: Option<Duration>,
    ) -> (
        mpsc::Sender<Bytes>,
        oneshot::Receiver<()>,
        CancellationToken,
        UploadStream,
    ) {
        let (tx, rx) = mpsc::channel(4);
        let (done_tx, done_rx) = oneshot::channel();
        let cancel = CancellationToken::new();
        let s = UploadStream::new(rx, idle, done_tx, cancel.clone());
        (tx, done_rx, cancel, s)
    }

    #[tokio::test]
    async fn chunks_then_a_clean_end_signals_done() {
        let (tx, mut done, _cancel, mut s) = stream(Some(Duration::from_secs(5)));
        tx.send(Bytes::from_static(b"ab")).await.unwrap();
        drop(tx);
        assert_eq!(s.next().await, Some(Ok(Bytes::from_static(b"ab"))));
        assert!(done.try_recv().is_err(), "not done before the end");
        assert_eq!(s.next().await, None);
        assert!(done.try_recv().is_ok());
    }

    #[tokio::test]
    async fn idle_fails_the_body_once() {
        let (_tx, mut done, _cancel, mut s) = stream(Some(Duration::from_millis(20)));
        assert_eq!(s.next().await, Some(Err(UploadError::Idle)));
        assert_eq!(s.next().await, None);
        assert!(done.try_recv().is_err(), "a failed body is never done");
    }

    #[tokio::test]
    async fn cancellation_fails_the_body_even_with_data_queued() {
        let (tx, _done, cancel, mut s) = stream(None);
        tx.send(Bytes::from_static(b"x")).await.unwrap();
        cancel.cancel();
        assert_eq!(s.next().await, Some(Err(UploadError::Cancelled)));
        assert_eq!(s.next().await, None);
    }

    #[test]
    fn idle_is_found_in_a_cause_chain() {
        #[derive(Debug)]
        struct Wrap(UploadError);
        impl fmt::Display for Wrap {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("wrapped")
            }
        }
        impl StdError for Wrap {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        assert!(chain_has_upload_idle(&Wrap(UploadError::Idle)));
        assert!(!chain_has_upload_idle(&Wrap(UploadError::Cancelled)));
    }
}
