'use strict'
// The exchange driver shared by the three proxy entry paths (Web Request, proxyRequest(init), Node req/res): start
// with failure mapping, the response head with failure mapping, abort-signal wiring, request-body upload from an
// async iterable, and the null-body decision. Header rules, URLs, timeouts and cancellation live in Rust.

const { proxyConstants } = require('../../binding.js')
const { ProxyFailure } = require('../errors')

const C = proxyConstants()
/** `write()` results and the `readInto()` end marker, as the binding defines them. */
const WRITE_FULL = C.writeFull
const WRITE_CLOSED = C.writeClosed
const READ_END = C.readEnd
/** `readInto()` failure result -> stable body-error code. */
const READ_FAILURES = Object.freeze(Object.fromEntries(C.bodyErrors.map((e) => [e.readResult, e.code])))
const DEFAULT_PROXY_PATH = C.defaultProxyPath
/** The core's text for an exchange cancelled before its head (`ProxyError::cancelled()`). */
const CANCELLED_MESSAGE = C.cancelledMessage
const FAILED_PREFIX = 'Failed to proxy request to Clerk FAPI'
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304])

function messageOf(err) {
  return String((err && err.message) || err)
}

/**
 * Starts one exchange on a native proxy. A throw (a Rust panic surfaces as one) becomes a ProxyFailure:
 * 500 `proxy_configuration_error`, as every entry path answers it.
 * @returns {object | ProxyFailure} the native exchange, or the failure to answer
 */
function startExchange(native, method, url, flatHeaders, remoteAddress, inline, streaming) {
  try {
    return native.start(method, url, flatHeaders, remoteAddress, inline, streaming)
  } catch (err) {
    return new ProxyFailure(500, 'proxy_configuration_error', messageOf(err))
  }
}

/**
 * Calls `onHead(head)` when the exchange's response head arrives, or `onFailure(failure)` when `response()` throws
 * or rejects (the exchange is then cancelled; the failure is 502 `proxy_request_failed`). One promise reaction,
 * no wrapper promise (the Node path runs it per request).
 * @returns {Promise<void>} settles after the callback ran; rejects only if a callback threw
 */
function onResponseHead(exchange, onHead, onFailure) {
  let pending
  try {
    pending = exchange.response()
  } catch (err) {
    return Promise.resolve(headFailure(exchange, err)).then(onFailure)
  }
  return pending.then(onHead, (err) => onFailure(headFailure(exchange, err)))
}

/**
 * The response head of an exchange, or a ProxyFailure (see `onResponseHead`). Never rejects.
 * @returns {Promise<object | ProxyFailure>}
 */
function responseHead(exchange) {
  return new Promise((resolve) => onResponseHead(exchange, resolve, resolve))
}

function headFailure(exchange, err) {
  safeCancel(exchange)
  return new ProxyFailure(502, 'proxy_request_failed', `${FAILED_PREFIX}: ${messageOf(err)}`)
}

/** The failure answered for a request whose signal was already aborted (it is never started). */
function cancelledFailure() {
  return new ProxyFailure(502, 'proxy_request_failed', CANCELLED_MESSAGE)
}

/**
 * Cancels the exchange when `signal` aborts, until the returned `detach()` is called (call it once the exchange
 * ended, or a long-lived signal keeps every exchange it ever served). `keep` stays reachable until then: a
 * Request built with `signal` follows it through a WeakRef to its own controller, so a GC would silently stop
 * cancellation.
 * @returns {() => void} detach
 */
function attachSignal(signal, exchange, keep) {
  if (!signal) return noop
  if (signal.aborted) {
    safeCancel(exchange)
    return noop
  }
  let kept = keep
  const onAbort = () => safeCancel(exchange)
  signal.addEventListener('abort', onAbort, { once: true })
  const detach = () => {
    kept = null
    signal.removeEventListener('abort', onAbort)
  }
  detach.kept = () => kept
  return detach
}

/**
 * True when the head's status cannot carry a body (1xx, 204, 205, 304); the exchange is then cancelled if the
 * upstream still had body bytes coming.
 */
function dropsBody(head, exchange) {
  if (!NULL_BODY_STATUS.has(head.status)) return false
  if (!head.done) safeCancel(exchange)
  return true
}

/**
 * Cancels an exchange from a context where a throw would be uncaught (event listeners, stream callbacks): a
 * Rust panic surfaces as a thrown JS Error and must not take the process down.
 */
function safeCancel(exchange) {
  try {
    exchange.cancel()
  } catch {}
}

/** Streams request-body chunks from an async iterable into the exchange, honouring its backpressure. */
async function pumpUpload(source, exchange) {
  try {
    for await (const chunk of source) {
      const buf = toBuffer(chunk)
      if (buf.length === 0) continue
      const r = exchange.write(buf)
      if (r === WRITE_CLOSED) return
      if (r === WRITE_FULL && !(await exchange.writeAsync(buf))) return
    }
    exchange.end()
  } catch {
    // The client's body failed (aborted upload): never send a truncated body as if it were complete.
    safeCancel(exchange)
  }
}

/** A body chunk as a Buffer (no copy for views); a TypeError for anything else. */
function toBuffer(chunk) {
  if (Buffer.isBuffer(chunk)) return chunk
  if (typeof chunk === 'string') return Buffer.from(chunk)
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk)
  throw new TypeError('clerk-native: request body chunks must be Uint8Array, Buffer or string')
}

/** Async iterator over a Web ReadableStream that cancels the stream when iteration stops early. */
async function* iterateWebStream(stream) {
  const reader = stream.getReader()
  let finished = false
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) {
        finished = true
        return
      }
      yield value
    }
  } finally {
    if (!finished) reader.cancel().catch(() => {})
    reader.releaseLock()
  }
}

function noop() {}

module.exports = {
  WRITE_FULL,
  WRITE_CLOSED,
  READ_END,
  READ_FAILURES,
  DEFAULT_PROXY_PATH,
  startExchange,
  onResponseHead,
  responseHead,
  cancelledFailure,
  attachSignal,
  dropsBody,
  safeCancel,
  pumpUpload,
  toBuffer,
  iterateWebStream,
}
