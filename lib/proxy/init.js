'use strict'
// Node-native adapter without Web objects: `proxyRequest(init)` / FrontendApiProxy#proxy resolve to a
// ProxyResponse `{ status, statusText, headers: [name, value][], body: AsyncIterable | null, cancel() }`.

const { errorProxyResponse, ProxyFailure, ProxyBodyError } = require('../errors')
const { startExchange, responseHead, cancelledFailure, attachSignal, dropsBody, safeCancel, pumpUpload, toBuffer, iterateWebStream } = require('./exchange')
const { flattenHeaders, toPairs } = require('./headers')

function failureResponse(f) {
  return errorProxyResponse(f.status, f.code, f.message)
}

/**
 * Checks `init` (a TypeError for a wrong shape: thrown before anything starts, so no request runs that the caller
 * was told failed) and returns its fields, the body split into `inline` bytes or a `stream` to upload.
 */
function readInit(init) {
  if (init == null || typeof init !== 'object') throw new TypeError('clerk-native: proxyRequest(init) needs an object')
  const { method = 'GET', url, headers, body = null, remoteAddress = null, signal } = init
  if (typeof url !== 'string') throw new TypeError('clerk-native: init.url must be an absolute URL string')
  if (typeof method !== 'string') throw new TypeError('clerk-native: init.method must be a string')
  if (headers != null && typeof headers !== 'object') {
    throw new TypeError('clerk-native: init.headers must be an object, a Headers, or an array of [name, value] pairs')
  }
  if (remoteAddress != null && typeof remoteAddress !== 'string') throw new TypeError('clerk-native: init.remoteAddress must be a string')
  if (signal != null && (typeof signal !== 'object' || typeof signal.addEventListener !== 'function' || typeof signal.aborted !== 'boolean')) {
    throw new TypeError('clerk-native: init.signal must be an AbortSignal')
  }
  let inline = null
  let stream = null
  if (body != null) {
    if (typeof body === 'string' || ArrayBuffer.isView(body) || body instanceof ArrayBuffer) inline = toBuffer(body)
    else if (typeof body[Symbol.asyncIterator] === 'function') stream = body
    else if (typeof body.getReader === 'function') stream = iterateWebStream(body)
    else throw new TypeError('clerk-native: init.body must be a Readable, AsyncIterable, Uint8Array or null')
  }
  return { method, url, headers, remoteAddress, signal, inline, stream }
}

/**
 * Proxies `init` through `native`. Rejects only for a malformed `init` (TypeError); proxy failures resolve to a
 * JSON error ProxyResponse (500 `proxy_configuration_error`, 502 `proxy_request_failed`), as the other paths answer.
 * @param {object} native a NativeProxy
 * @param {import('../../index').ProxyRequestInit} init
 * @returns {Promise<import('../../index').ProxyResponse>}
 */
async function proxyInit(native, init) {
  const r = readInit(init)
  if (r.signal && r.signal.aborted) return failureResponse(cancelledFailure())
  const exchange = startExchange(native, r.method, r.url, flattenHeaders(r.headers), r.remoteAddress || null, r.inline, r.stream !== null)
  if (exchange instanceof ProxyFailure) return failureResponse(exchange)
  if (r.stream !== null) pumpUpload(r.stream, exchange)
  const detach = attachSignal(r.signal, exchange, null)
  const head = await responseHead(exchange)
  if (head instanceof ProxyFailure) {
    detach()
    return failureResponse(head)
  }
  // As in the Web path: statuses that cannot carry a body (204, 304, ...) get `body: null`.
  const empty = dropsBody(head, exchange) || (head.done && !head.body)
  // A body that came whole with the head needs no cancellation: the signal is let go now.
  if (empty || head.done) detach()
  return {
    status: head.status,
    statusText: head.statusText,
    headers: toPairs(head.headers),
    body: empty ? null : bodyIterable(head, exchange, detach),
    cancel: () => {
      detach()
      exchange.cancel()
    },
  }
}

/** Async iterable over the response body: the bytes that came with the head, then native reads. */
function bodyIterable(head, exchange, detach) {
  return {
    async *[Symbol.asyncIterator]() {
      let ended = false
      try {
        if (head.body) yield head.body
        if (head.done) {
          ended = true
          return
        }
        for (;;) {
          const chunk = await exchange.read()
          if (chunk === null) {
            ended = true
            return
          }
          if (typeof chunk === 'string') throw new ProxyBodyError(chunk)
          yield chunk
        }
      } finally {
        detach()
        if (!ended) safeCancel(exchange)
      }
    },
  }
}

module.exports = { proxyInit }
