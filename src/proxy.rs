//! `#[napi]` surface of the Frontend API proxy.

use std::sync::Arc;

use bytes::Bytes;
use clerk_native_core::proxy::{
    headers as proxy_headers, path, publishable_key, BodyError, BodyInput, Exchange,
    IncomingRequest, ProxyConfig, ProxyError, ProxyOptions, ReadInto, WriteOutcome,
};
use napi::bindgen_prelude::{within_runtime_if_available, Buffer, Either, PromiseRaw};
use napi::Env;
use napi_derive::napi;

use crate::headers::{from_flat, to_flat};

/// Options of the native proxy, already resolved against the environment by the JS layer.
#[napi(object)]
pub struct NativeProxyOptions {
    /// Mount path. Default `/__clerk`; `''` and `'/'` also mean `/__clerk`.
    pub proxy_path: Option<String>,
    /// Publishable key (presence checked; selects the FAPI host when `fapiUrl` is unset).
    pub publishable_key: Option<String>,
    /// Secret key sent upstream as `Clerk-Secret-Key`.
    pub secret_key: Option<String>,
    /// Explicit FAPI base URL.
    pub fapi_url: Option<String>,
    /// Milliseconds allowed for upstream response headers (after the request body is sent). Default 30000; 0 = none.
    pub timeout_ms: Option<u32>,
    /// Milliseconds a body may move no byte before both sides are aborted. Default 30000; 0 = none.
    pub idle_timeout_ms: Option<u32>,
    /// Trust client X-Forwarded-* / CF-Connecting-IP / X-Real-IP. Default true (Clerk's behaviour).
    pub trust_forwarded_headers: Option<bool>,
    /// Concurrent upstream exchanges allowed (default 512); more get 503 `proxy_too_many_requests`.
    pub max_connections: Option<u32>,
}

/// Status, headers and first body bytes of a proxied response.
#[napi(object)]
pub struct NativeResponseHead {
    /// HTTP status.
    pub status: u32,
    /// Reason phrase.
    pub status_text: String,
    /// Flat `[name, value, ...]`; each Set-Cookie is its own pair.
    pub headers: Vec<String>,
    /// Body bytes received so far (the whole body when `done`).
    pub body: Option<Buffer>,
    /// True when `body` is the complete body.
    pub done: bool,
}

/// A proxy configuration holding the resolved options; requests share the process-wide upstream pool.
#[napi]
pub struct NativeProxy {
    config: Arc<ProxyConfig>,
}

#[napi]
impl NativeProxy {
    /// Builds a proxy. Never throws for bad values: they become 500 `proxy_configuration_error` responses.
    #[napi(constructor, catch_unwind)]
    pub fn new(options: NativeProxyOptions) -> Self {
        let options = ProxyOptions {
            proxy_path: options.proxy_path,
            publishable_key: options.publishable_key,
            secret_key: options.secret_key,
            fapi_url: options.fapi_url,
            timeout_ms: options.timeout_ms.map(u64::from),
            idle_timeout_ms: options.idle_timeout_ms.map(u64::from),
            trust_forwarded_headers: options.trust_forwarded_headers,
            max_connections: options.max_connections.map(|n| n as usize),
        };
        NativeProxy {
            config: Arc::new(ProxyConfig::new(&options)),
        }
    }

    /// The first configuration problem as `[option, kind, message]` (`option`: `publishableKey`, `secretKey` or
    /// `fapiUrl`; `kind`: `missing` or `invalid`; `message`: the per-request error text, never the key), or
    /// null when the configuration is complete.
    #[napi(getter, catch_unwind)]
    pub fn config_problem(&self) -> Option<Vec<String>> {
        let (option, message) = self.config.configuration_problem()?;
        let (name, kind) = (option.option_name(), option.kind());
        Some(vec![name.to_string(), kind.to_string(), message])
    }

    /// The normalized proxy path.
    #[napi(getter, catch_unwind)]
    pub fn proxy_path(&self) -> String {
        self.config.proxy_path().to_string()
    }

    /// Starts proxying one request. `headers` is a flat `[name, value, ...]` list; `body` is the whole body
    /// when small, or `streaming` says it will be written to the returned exchange.
    #[napi(catch_unwind)]
    pub fn start(
        &self,
        method: String,
        url: String,
        headers: Vec<String>,
        remote_address: Option<String>,
        body: Option<Buffer>,
        streaming: bool,
    ) -> ProxyExchange {
        let body = body_input(body, streaming);
        let request = IncomingRequest {
            method: &method,
            url: &url,
            headers: from_flat(&headers),
            remote_address: remote_address.as_deref().filter(|s| !s.is_empty()),
        };
        let config = Arc::clone(&self.config);
        let inner = within_runtime_if_available(move || Exchange::start(config, request, body));
        ProxyExchange {
            inner: Arc::new(inner),
        }
    }
}

/// The request body: streamed, the whole body (copied before it reaches tokio), or none.
fn body_input(body: Option<Buffer>, streaming: bool) -> BodyInput {
    match (body, streaming) {
        (_, true) => BodyInput::Stream,
        (Some(b), false) if !b.is_empty() => BodyInput::Full(Bytes::copy_from_slice(&b)),
        _ => BodyInput::None,
    }
}

/// One in-flight proxied request. Dropping it (or `cancel()`) closes the upstream connection.
///
/// The async methods are sync functions that clone `inner` into the future they spawn: a future must never
/// borrow the JS-owned object, which is freed when its worker thread's environment is torn down while the
/// future may still run (that was a use-after-free that crashed the process when a worker exited with a
/// request in flight).
#[napi]
pub struct ProxyExchange {
    inner: Arc<Exchange>,
}

impl Drop for ProxyExchange {
    /// The JS object is gone (garbage-collected, or its worker's environment torn down): cancel the exchange so
    /// the futures still holding `inner` end at once and the upstream connection closes, as dropping the last
    /// handle did before the futures shared it.
    fn drop(&mut self) {
        self.inner.cancel();
    }
}

/// `write()` result: the chunk was queued.
pub const WRITE_ACCEPTED: u32 = 0;
/// `write()` result: the queue is full; the chunk was not taken (use `writeAsync`).
pub const WRITE_FULL: u32 = 1;
/// `write()` result: the upstream side takes no more body; the chunk was dropped.
pub const WRITE_CLOSED: u32 = 2;

#[napi]
impl ProxyExchange {
    /// Queues a request-body chunk without waiting: 0 accepted, 1 full (not taken), 2 closed.
    #[napi(catch_unwind)]
    pub fn write(&self, chunk: Buffer) -> u32 {
        match self.inner.try_write(Bytes::copy_from_slice(&chunk)) {
            WriteOutcome::Accepted => WRITE_ACCEPTED,
            WriteOutcome::Full => WRITE_FULL,
            WriteOutcome::Closed => WRITE_CLOSED,
        }
    }

    /// Queues a request-body chunk, resolving when there is room. Resolves false if the upstream side is gone.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn write_async<'env>(
        &self,
        env: &'env Env,
        chunk: Buffer,
    ) -> napi::Result<PromiseRaw<'env, bool>> {
        let bytes = Bytes::copy_from_slice(&chunk);
        let inner = Arc::clone(&self.inner);
        env.spawn_future(async move { Ok(inner.write(bytes).await) })
    }

    /// Ends the request body.
    #[napi(catch_unwind)]
    pub fn end(&self) {
        self.inner.end();
    }

    /// Cancels the exchange; the upstream connection is closed.
    #[napi(catch_unwind)]
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// Resolves with the response head (never rejects: failures are JSON error responses).
    #[napi(ts_return_type = "Promise<NativeResponseHead>")]
    pub fn response<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, NativeResponseHead>> {
        let inner = Arc::clone(&self.inner);
        env.spawn_future(async move { Ok(response_head(inner.response().await)) })
    }

    /// Copies available body bytes into `buf` without waiting (no allocation; for a caller-owned buffer pool).
    /// Returns the byte count (> 0), 0 when nothing is available yet (await `readable()`), -1 at the end, or a
    /// failure: -2 `proxy_body_idle_timeout`, -3 `proxy_upstream_body_error`, -4 `proxy_cancelled`.
    #[napi(catch_unwind)]
    pub fn read_into(&self, mut buf: Buffer) -> i64 {
        match self.inner.try_read_into(buf.as_mut()) {
            ReadInto::Data(n) => n as i64,
            ReadInto::Empty => 0,
            ReadInto::End => READ_END,
            ReadInto::Failed(BodyError::Idle) => READ_IDLE,
            ReadInto::Failed(BodyError::Upstream(_)) => READ_UPSTREAM,
            ReadInto::Failed(BodyError::Cancelled) => READ_CANCELLED,
        }
    }

    /// Resolves when `readInto` has data, the end, or a failure to report.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn readable<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let inner = Arc::clone(&self.inner);
        env.spawn_future(async move {
            inner.readable().await;
            Ok(())
        })
    }

    /// Resolves with the next body bytes, null at the end, or a string error code when the body failed:
    /// `proxy_body_idle_timeout`, `proxy_upstream_body_error` or `proxy_cancelled` (the JS layer turns it
    /// into an Error with that `code`).
    #[napi(ts_return_type = "Promise<Buffer | string | null>")]
    pub fn read<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, Option<Either<Buffer, &'static str>>>> {
        let inner = Arc::clone(&self.inner);
        env.spawn_future(async move {
            Ok(match inner.read().await {
                Ok(Some(bytes)) => Some(Either::A(Buffer::from(bytes.to_vec()))),
                Ok(None) => None,
                Err(e) => Some(Either::B(e.code())),
            })
        })
    }
}

fn response_head(head: clerk_native_core::proxy::ResponseHead) -> NativeResponseHead {
    NativeResponseHead {
        status: u32::from(head.status),
        status_text: head.status_text,
        headers: to_flat(&head.headers),
        body: if head.body.is_empty() {
            None
        } else {
            Some(Buffer::from(head.body.to_vec()))
        },
        done: head.done,
    }
}

/// True when `pathname` is the proxy path or below it (SPEC 1.6). `proxyPath` is normalized first.
#[napi(catch_unwind)]
pub fn match_proxy_path(pathname: String, proxy_path: Option<String>) -> bool {
    let p = path::normalize_proxy_path(proxy_path.as_deref());
    path::matches_proxy_path(&pathname, &p)
}

/// True when `host` is a valid `host[:port]` by the proxy's one host grammar (letters, digits, `-`, `.`, `_`, or a
/// bracketed IPv6 literal; a port of 1-5 digits up to 65535), the one used for X-Forwarded-Host and request URLs.
#[napi(catch_unwind)]
pub fn is_valid_host(host: String) -> bool {
    proxy_headers::is_valid_authority(&host)
}

/// Normalizes a proxy path: trailing slashes stripped; unset, `''` and `'/'` give `/__clerk`.
#[napi(catch_unwind)]
pub fn normalize_proxy_path(proxy_path: Option<String>) -> String {
    path::normalize_proxy_path(proxy_path.as_deref())
}

/// The Clerk Frontend API URL for a publishable key (SPEC 1.4); an invalid key selects production.
#[napi(catch_unwind)]
pub fn fapi_url_from_publishable_key(publishable_key: String) -> String {
    publishable_key::fapi_url_from_publishable_key(&publishable_key).to_string()
}

/// Live native work of the proxy, for leak checks and monitoring (`nativeStats()`).
#[napi(object)]
pub struct NativeStats {
    /// Proxied exchanges whose background task is still running (connecting, uploading, or reading the
    /// response). Back to 0 once traffic stops: a finished, failed, timed-out or cancelled exchange ends its task.
    pub exchange_tasks: u32,
    /// Exchange handles not yet released (a handle is freed when its JS object is garbage-collected).
    pub exchange_handles: u32,
    /// Tasks alive on the addon's tokio runtime (exchange tasks, pooled upstream connections, key fetches).
    pub runtime_tasks: u32,
}

/// Counters of live native proxy work (see [`NativeStats`]).
#[napi(catch_unwind)]
pub fn native_stats() -> NativeStats {
    let counts = clerk_native_core::proxy::exchange_counts();
    let runtime_tasks = within_runtime_if_available(|| {
        tokio::runtime::Handle::try_current()
            .map(|h| h.metrics().num_alive_tasks())
            .unwrap_or(0)
    });
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    NativeStats {
        exchange_tasks: clamp(counts.tasks),
        exchange_handles: clamp(counts.handles),
        runtime_tasks: clamp(runtime_tasks),
    }
}

/// `readInto()` result: the body ended.
pub const READ_END: i64 = -1;
/// `readInto()` result: the body failed with `proxy_body_idle_timeout`.
pub const READ_IDLE: i64 = -2;
/// `readInto()` result: the body failed with `proxy_upstream_body_error`.
pub const READ_UPSTREAM: i64 = -3;
/// `readInto()` result: the body failed with `proxy_cancelled`.
pub const READ_CANCELLED: i64 = -4;

/// One body failure: its stable code and the core's message for it.
#[napi(object)]
pub struct NativeBodyErrorInfo {
    /// `readInto()` result for it (-2, -3 or -4).
    pub read_result: i64,
    /// Stable code (`proxy_body_idle_timeout`, `proxy_upstream_body_error`, `proxy_cancelled`).
    pub code: String,
    /// The core's `BodyError` message (without the cause, for an upstream failure).
    pub message: String,
}

/// Values the JS layer shares with the native side, so it never re-types them.
#[napi(object)]
pub struct NativeProxyConstants {
    /// The proxy path used when none is configured (`/__clerk`).
    pub default_proxy_path: String,
    /// `write()` result: queued.
    pub write_accepted: u32,
    /// `write()` result: queue full, chunk not taken.
    pub write_full: u32,
    /// `write()` result: upstream takes no more body.
    pub write_closed: u32,
    /// `readInto()` result: the end of the body.
    pub read_end: i64,
    /// The body failures `read()`/`readInto()` report.
    pub body_errors: Vec<NativeBodyErrorInfo>,
    /// The message of the 502 answered for an exchange cancelled before its response head (the core's
    /// `ProxyError::cancelled()`), also used by JS for a request whose signal was already aborted.
    pub cancelled_message: String,
}

/// The shared constants (see [`NativeProxyConstants`]).
#[napi(catch_unwind)]
pub fn proxy_constants() -> NativeProxyConstants {
    let info = |read_result: i64, e: BodyError| NativeBodyErrorInfo {
        read_result,
        code: e.code().to_owned(),
        message: e.to_string().trim_end_matches([':', ' ']).to_owned(),
    };
    NativeProxyConstants {
        default_proxy_path: path::DEFAULT_PROXY_PATH.to_owned(),
        write_accepted: WRITE_ACCEPTED,
        write_full: WRITE_FULL,
        write_closed: WRITE_CLOSED,
        read_end: READ_END,
        body_errors: vec![
            info(READ_IDLE, BodyError::Idle),
            info(READ_UPSTREAM, BodyError::Upstream(String::new())),
            info(READ_CANCELLED, BodyError::Cancelled),
        ],
        cancelled_message: ProxyError::cancelled().to_string(),
    }
}
