'use strict'
// JS side of the Frontend API proxy: Web Request/Response and Node request/response glue over the native
// exchange. All header rules, URL building, timeouts and cancellation live in Rust; this file only moves
// bytes and maps shapes.

const binding = require('../binding.js')
const { resolveProxyOptions, validateProxyOptions, configurationError } = require('./options')
const { errorResponse, sendNodeError, ProxyBodyError } = require('./errors')

const DEFAULT_PROXY_PATH = '/__clerk'
const WRITE_FULL = 1
const WRITE_CLOSED = 2
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304])
const MAX_DEFAULT_INSTANCES = 32
const CANCELLED_MESSAGE = 'Failed to proxy request to Clerk FAPI: the request was cancelled'
const DEFAULT_IDLE_TIMEOUT_MS = 30000
const UPLOAD_IDLE_MESSAGE = 'The request body moved no byte within idleTimeoutMs'

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

/** Async iterable over the response body: the bytes that came with the head, then native reads. */
function bodyIterable(head, exchange) {
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
        if (!ended) safeCancel(exchange)
      }
    },
  }
}

function flattenHeaders(headers) {
  if (headers == null) return []
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) return headers.flat().map(String)
    return headers.map(String)
  }
  if (typeof headers.forEach === 'function' && typeof headers.get === 'function') {
    const out = []
    headers.forEach((value, name) => out.push(name, value))
    return out
  }
  const out = []
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (value == null) continue
    if (Array.isArray(value)) for (const v of value) out.push(name, String(v))
    else out.push(name, String(value))
  }
  return out
}

/**
 * A Frontend API proxy bound to one set of options (keys and environment are resolved once, at
 * construction). Instances share the process-wide upstream connection pool.
 */
class FrontendApiProxy {
  /** @param {import('../index').FrontendApiProxyOptions} [options] */
  constructor(options, flavour) {
    validateProxyOptions(options)
    const resolved = resolveProxyOptions(options || {}, flavour)
    this._native = new binding.NativeProxy(resolved)
    this._idleMs = resolved.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
    // An invalid fapiUrl throws now. Missing or invalid keys keep answering 500 per request here (existing
    // behaviour the test suite pins: hostile-input H02, proxy-core "proxyPath is normalized").
    assertConfiguration(this, options, flavour, CONSTRUCTOR_CHECKS)
    /** The normalized proxy path (e.g. `/__clerk`). */
    this.proxyPath = this._native.proxyPath
  }

  /**
   * Proxies a Web `Request`; resolves to a `Response` (never rejects for proxy failures).
   * @param {Request} request
   */
  async handle(request) {
    // An already-aborted request is not sent: starting it would reach the upstream although the caller is
    // told it failed.
    if (request.signal && request.signal.aborted) return errorResponse(502, 'proxy_request_failed', CANCELLED_MESSAGE)
    let exchange
    try {
      const body = request.body
      exchange = this._native.start(request.method, request.url, flattenHeaders(request.headers), null, null, body != null)
      if (body != null) pumpUpload(iterateWebStream(body), exchange)
    } catch (err) {
      return errorResponse(500, 'proxy_configuration_error', String((err && err.message) || err))
    }
    const signal = request.signal
    let detach = noop
    if (signal) {
      if (signal.aborted) safeCancel(exchange)
      else {
        const onAbort = () => safeCancel(exchange)
        signal.addEventListener('abort', onAbort, { once: true })
        // A Request built with `signal` follows it through a WeakRef to the Request's own controller: keep the
        // Request reachable until the exchange ends, or a GC would silently stop cancellation.
        let keepAlive = request
        detach = () => {
          keepAlive = null
          signal.removeEventListener('abort', onAbort)
        }
        detach.request = () => keepAlive
      }
    }
    let head
    try {
      head = await exchange.response()
    } catch (err) {
      detach()
      safeCancel(exchange)
      return errorResponse(502, 'proxy_request_failed', `Failed to proxy request to Clerk FAPI: ${(err && err.message) || err}`)
    }
    return toWebResponse(head, exchange, detach)
  }

  /**
   * The Node-native path: no Web objects. Resolves when the response head arrives.
   * @param {import('../index').ProxyRequestInit} init
   * @returns {Promise<import('../index').ProxyResponse>}
   */
  async proxy(init) {
    // Everything about `init` is checked before the upstream request starts: a throw after it would leave a
    // request running that the caller was told failed.
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
    let streaming = false
    if (body != null) {
      if (typeof body === 'string' || ArrayBuffer.isView(body) || body instanceof ArrayBuffer) inline = toBuffer(body)
      else if (typeof body[Symbol.asyncIterator] === 'function') streaming = true
      else if (typeof body.getReader === 'function') streaming = true
      else throw new TypeError('clerk-native: init.body must be a Readable, AsyncIterable, Uint8Array or null')
    }
    if (signal && signal.aborted) return errorProxyResponse(502, 'proxy_request_failed', CANCELLED_MESSAGE)
    const exchange = this._native.start(method, url, flattenHeaders(headers), remoteAddress || null, inline, streaming)
    if (streaming) pumpUpload(typeof body.getReader === 'function' ? iterateWebStream(body) : body, exchange)
    if (signal) {
      if (signal.aborted) safeCancel(exchange)
      else signal.addEventListener('abort', () => safeCancel(exchange), { once: true })
    }
    const head = await exchange.response()
    const pairs = []
    for (let i = 0; i < head.headers.length; i += 2) pairs.push([head.headers[i], head.headers[i + 1]])
    // As in the Web path: statuses that cannot carry a body (204, 304, ...) get `body: null`.
    const noBody = NULL_BODY_STATUS.has(head.status)
    if (noBody && !head.done) exchange.cancel()
    const empty = noBody || (head.done && !head.body)
    return {
      status: head.status,
      statusText: head.statusText,
      headers: pairs,
      body: empty ? null : bodyIterable(head, exchange),
      cancel: () => exchange.cancel(),
    }
  }

  /**
   * Proxies a Node `IncomingMessage` straight into a `ServerResponse` (what the Express adapter uses).
   * @param {import('http').IncomingMessage} req
   * @param {import('http').ServerResponse} res
   * @param {string} url absolute URL as the app received it
   */
  pipeNode(req, res, url) {
    const h = req.headers
    const hasBody = h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0')
    let inline = null
    let streaming = false
    if (hasBody) {
      // `req.complete` only says Node has parsed the whole message (true for a small body behind any async
      // middleware, unread); what matters is whether someone read the stream.
      if (req.readableEnded || req.readableDidRead) {
        // A body parser mounted before us consumed the stream: forward its raw bytes if it kept them.
        const raw = req.rawBody
        if (Buffer.isBuffer(raw) || typeof raw === 'string') inline = toBuffer(raw)
        else {
          sendNodeError(
            res,
            500,
            'proxy_configuration_error',
            'The request body was already consumed (a body parser runs before the Clerk proxy). Mount the proxy before body parsers.',
          )
          return
        }
      } else if (h['transfer-encoding'] === undefined && Number(h['content-length']) <= SMALL_UPLOAD_BYTES) {
        // A small declared body (Node's parser enforces the length) goes upstream in one write with the head.
        collectSmallBody(req, res, this._idleMs, (body) => this._startNode(req, res, url, body, false))
        return
      } else streaming = true
    }
    this._startNode(req, res, url, inline, streaming)
  }

  _startNode(req, res, url, inline, streaming) {
    if (res.destroyed) return
    let exchange
    try {
      exchange = this._native.start(req.method, url, req.rawHeaders, req.socket.remoteAddress || null, inline, streaming)
    } catch (err) {
      // Also reached from a request 'end' listener (small bodies), where a throw would be uncaught.
      sendNodeError(res, 500, 'proxy_configuration_error', String((err && err.message) || err))
      return
    }
    res.on('close', () => {
      if (!res.writableFinished) safeCancel(exchange)
    })
    if (streaming) uploadFromNode(req, exchange)
    let pending
    try {
      pending = exchange.response()
    } catch {
      failNode(exchange, res)
      return
    }
    pending
      .then(
        (head) => writeNodeHead(head, exchange, res, this._idleMs),
        () => sendNodeError(res, 502, 'proxy_request_failed', 'Failed to proxy request to Clerk FAPI'),
      )
      .catch(() => failNode(exchange, res))
  }
}

/** Bodies with a Content-Length up to this are collected and sent with the request head in one write. */
const SMALL_UPLOAD_BYTES = 64 * 1024

/**
 * Collects a body whose Content-Length is at most SMALL_UPLOAD_BYTES; calls back only if it completed. No byte
 * for `idleMs` (0 = never) answers 408 JSON and closes the connection, as the native upload idle timer does for
 * streamed bodies (nothing has gone upstream yet).
 */
function collectSmallBody(req, res, idleMs, done) {
  const chunks = []
  let size = 0
  let timer = null
  const onData = (chunk) => {
    if (timer !== null) timer.refresh()
    size += chunk.length
    if (size <= SMALL_UPLOAD_BYTES) chunks.push(chunk)
  }
  const onEnd = () => {
    stopTimer()
    done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))
  }
  const stopTimer = () => {
    if (timer !== null) clearTimeout(timer)
    timer = null
    res.removeListener('close', stopTimer)
  }
  req.on('data', onData)
  req.once('end', onEnd)
  if (idleMs > 0) {
    timer = setTimeout(() => {
      timer = null
      res.removeListener('close', stopTimer)
      req.removeListener('data', onData)
      req.removeListener('end', onEnd)
      chunks.length = 0
      sendNodeError(res, 408, 'proxy_request_failed', UPLOAD_IDLE_MESSAGE, true)
    }, idleMs)
    res.once('close', stopTimer)
  }
}

function noop() {}

/** A native call failed mid-exchange (a Rust panic is a thrown JS Error): 502 JSON if nothing was sent, else cut. */
function failNode(exchange, res) {
  safeCancel(exchange)
  sendNodeError(res, 502, 'proxy_request_failed', 'Failed to proxy request to Clerk FAPI')
}

function uploadFromNode(req, exchange) {
  const stop = () => {
    req.removeListener('data', onData)
    req.resume() // discard what is left
  }
  const fail = () => {
    stop()
    safeCancel(exchange)
  }
  const onData = (chunk) => {
    try {
      const r = exchange.write(chunk)
      if (r === WRITE_FULL) {
        req.pause()
        exchange.writeAsync(chunk).then((ok) => (ok ? req.resume() : stop()), fail)
      } else if (r === WRITE_CLOSED) stop()
    } catch {
      fail()
    }
  }
  req.on('data', onData)
  req.once('end', () => {
    try {
      exchange.end()
    } catch {
      safeCancel(exchange)
    }
  })
  req.once('error', () => safeCancel(exchange))
  req.once('aborted', () => safeCancel(exchange))
}

/**
 * Flat [name, value, …] -> { name: value | value[] } (first-seen name case, null prototype). Node 20's
 * writeHead(status, flatArray) calls setHeader per pair once a header was set (Express sets X-Powered-By),
 * so a repeated name such as Set-Cookie would keep only its last value.
 */
function nodeHeaderObject(list) {
  const out = Object.create(null)
  const names = new Map()
  for (let i = 0; i < list.length; i += 2) {
    const lower = list[i].toLowerCase()
    const name = names.get(lower)
    if (name === undefined) {
      names.set(lower, list[i])
      out[list[i]] = list[i + 1]
    } else if (Array.isArray(out[name])) out[name].push(list[i + 1])
    else out[name] = [out[name], list[i + 1]]
  }
  return out
}

function writeNodeHead(head, exchange, res, idleMs) {
  if (res.destroyed) {
    exchange.cancel()
    return
  }
  // Node refuses (throws, and we cut the connection) a body longer or shorter than the Content-Length sent.
  res.strictContentLength = true
  try {
    const headers = nodeHeaderObject(head.headers)
    if (head.statusText) res.writeHead(head.status, head.statusText, headers)
    else res.writeHead(head.status, headers)
  } catch (err) {
    exchange.cancel()
    sendNodeError(res, 502, 'proxy_request_failed', `Failed to proxy request to Clerk FAPI: invalid upstream response (${err.code || err.message})`)
    return
  }
  if (head.done) {
    res.end(head.body || undefined)
    return
  }
  if (head.body) res.write(head.body)
  pumpDownload(exchange, res, idleMs).catch(() => failNode(exchange, res))
}

// Download buffers for the Node path: Rust copies body bytes into these (no allocation per chunk), and a
// buffer returns to the pool once the socket has flushed it. Allocating a fresh Buffer per chunk left tens of
// MB of garbage for V8 to find on a large download; the pool keeps peak memory flat.
const POOL_BUFFER_BYTES = 64 * 1024
const POOL_MAX_FREE = 64
const freeBuffers = []
const READ_FAILURES = { '-2': 'proxy_body_idle_timeout', '-3': 'proxy_upstream_body_error', '-4': 'proxy_cancelled' }

function takeBuffer() {
  return freeBuffers.pop() || Buffer.allocUnsafeSlow(POOL_BUFFER_BYTES)
}

function giveBack(buf) {
  if (freeBuffers.length < POOL_MAX_FREE) freeBuffers.push(buf)
}

async function pumpDownload(exchange, res, idleMs) {
  for (;;) {
    const buf = takeBuffer()
    let n = exchange.readInto(buf)
    if (n === 0) {
      await exchange.readable()
      n = exchange.readInto(buf)
    }
    if (n > 0) {
      if (res.destroyed) {
        giveBack(buf)
        exchange.cancel()
        return
      }
      const ok = res.write(n === buf.length ? buf : buf.subarray(0, n), () => giveBack(buf))
      if (!ok) {
        await drainOrClose(res, idleMs)
        if (res.destroyed) {
          exchange.cancel()
          return
        }
      }
      continue
    }
    giveBack(buf)
    if (n === 0) continue
    if (n === -1) {
      res.end()
      return
    }
    res.destroy(new ProxyBodyError(READ_FAILURES[n] || 'proxy_upstream_body_error'))
    return
  }
}

/**
 * Resolves on 'drain' or 'close'. A client that takes no byte for `idleMs` (0 = never) is cut: `res` is
 * destroyed with a `proxy_body_idle_timeout` ProxyBodyError (the caller then cancels the exchange).
 */
function drainOrClose(res, idleMs) {
  return new Promise((resolve) => {
    let timer = null
    const done = () => {
      if (timer !== null) clearTimeout(timer)
      res.removeListener('drain', done)
      res.removeListener('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
    if (idleMs > 0) {
      timer = setTimeout(() => {
        timer = null
        res.destroy(new ProxyBodyError('proxy_body_idle_timeout'))
        done()
      }, idleMs)
    }
  })
}

function toWebResponse(head, exchange, detach) {
  const headers = new Headers()
  const list = head.headers
  for (let i = 0; i < list.length; i += 2) headers.append(list[i], list[i + 1])
  let body = null
  if (NULL_BODY_STATUS.has(head.status)) {
    if (!head.done) exchange.cancel()
    detach()
  } else if (head.done) {
    body = head.body || null
    detach()
  } else {
    let first = head.body
    body = new ReadableStream(
      {
        async pull(controller) {
          if (first) {
            const f = first
            first = null
            controller.enqueue(f)
            return
          }
          const chunk = await exchange.read()
          if (chunk === null) {
            detach()
            controller.close()
          } else if (typeof chunk === 'string') {
            detach()
            controller.error(new ProxyBodyError(chunk))
          } else controller.enqueue(chunk)
        },
        cancel() {
          detach()
          safeCancel(exchange)
        },
      },
      { highWaterMark: 0 },
    )
  }
  try {
    return new Response(body, { status: head.status, statusText: head.statusText, headers })
  } catch (err) {
    exchange.cancel()
    detach()
    return errorResponse(502, 'proxy_request_failed', `Failed to proxy request to Clerk FAPI: invalid upstream response (${err.message})`)
  }
}

// Default instances for the functional API, keyed by the resolved option set (env read per call, as Clerk).
const defaults = new Map()

function defaultProxy(options, flavour) {
  const r = resolveProxyOptions(options || {}, flavour)
  // JSON of the field list: collision-free whatever the values contain (a separator-joined key let
  // `publishableKey: 'a\u0000b'` + `secretKey: 'c'` reuse the instance of `'a'` + `'b\u0000c'`).
  const key = JSON.stringify([r.proxyPath, r.publishableKey, r.secretKey, r.fapiUrl, r.timeoutMs, r.idleTimeoutMs, r.trustForwardedHeaders, r.maxConnections])
  let proxy = defaults.get(key)
  if (proxy === undefined) {
    if (defaults.size >= MAX_DEFAULT_INSTANCES) defaults.delete(defaults.keys().next().value)
    proxy = Object.create(FrontendApiProxy.prototype)
    proxy._native = new binding.NativeProxy(r)
    proxy._idleMs = r.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
    proxy.proxyPath = proxy._native.proxyPath
    defaults.set(key, proxy)
  }
  return proxy
}

// The last host that passed the core's grammar: one string comparison per request while the Host is unchanged.
let lastValidHost = 'localhost'

/**
 * True when `host` is a valid `host[:port]` by the core's grammar (`isValidHost` in the binding: the one used for
 * X-Forwarded-Host and for request URLs in Rust), so every entry path accepts the same hosts.
 * @param {string} host
 */
function isValidHost(host) {
  if (host === lastValidHost) return true
  if (typeof host !== 'string' || !binding.isValidHost(host)) return false
  lastValidHost = host
  return true
}

/** Every configuration check (Express middlewares). */
const ALL_CHECKS = new Set(['publishableKey', 'secretKey', 'secretKeyInvalid', 'fapiUrl'])
/** What `new FrontendApiProxy()` checks: malformed values it was given (missing keys stay a per-request 500). */
const CONSTRUCTOR_CHECKS = new Set(['secretKeyInvalid', 'fapiUrl'])
/** What the Next helpers check (missing keys stay a per-request 500: see next.js). */
const NEXT_CHECKS = new Set(['secretKeyInvalid', 'fapiUrl'])

/**
 * Throws the construction-time configuration error of `proxy` (see `configurationError`) if its kind is in
 * `checks`: `publishableKey` / `secretKey` (missing), `secretKeyInvalid`, `fapiUrl`.
 */
function assertConfiguration(proxy, options, flavour, checks) {
  const problem = proxy._native.configProblem
  if (!problem) return
  const kind = problem[0] === 'secretKey' && problem[1] !== 'missing' ? 'secretKeyInvalid' : problem[0]
  if (!checks.has(kind)) return
  throw configurationError([problem[0], problem[2], problem[1]], options, flavour)
}

/**
 * Drop-in for `@clerk/backend/proxy`'s `clerkFrontendApiProxy`: never rejects for proxy failures.
 * @param {Request} request
 * @param {import('../index').FrontendApiProxyOptions} [options]
 */
async function clerkFrontendApiProxy(request, options, flavour) {
  let proxy
  try {
    proxy = defaultProxy(options, flavour)
  } catch (err) {
    return errorResponse(500, 'proxy_configuration_error', err.message)
  }
  return proxy.handle(request)
}

/**
 * Node-native proxy call (no Web objects).
 * @param {import('../index').ProxyRequestInit} init
 * @param {import('../index').FrontendApiProxyOptions} [options]
 */
function proxyRequest(init, options) {
  let proxy
  try {
    proxy = defaultProxy(options)
  } catch (err) {
    return Promise.resolve(configErrorResponse(err.message))
  }
  return proxy.proxy(init)
}

function configErrorResponse(message) {
  return errorProxyResponse(500, 'proxy_configuration_error', message)
}

/** A JSON error as a ProxyResponse (the Node-native path's shape). */
function errorProxyResponse(status, code, message) {
  const body = Buffer.from(JSON.stringify({ errors: [{ code, message }] }))
  return {
    status,
    statusText: status === 500 ? 'Internal Server Error' : 'Bad Gateway',
    headers: [
      ['content-type', 'application/json'],
      ['cache-control', 'no-store'],
    ],
    body: {
      async *[Symbol.asyncIterator]() {
        yield body
      },
    },
    cancel: noop,
  }
}

/**
 * `matchProxyPath(request | URL | string, { proxyPath })` (SPEC 1.6). Strings may be absolute URLs or paths.
 */
function matchProxyPath(request, options) {
  const proxyPath = options && options.proxyPath
  let pathname
  if (typeof request === 'string') pathname = new URL(request, 'http://localhost').pathname
  else if (request instanceof URL) pathname = request.pathname
  else if (request && typeof request.url === 'string') pathname = new URL(request.url, 'http://localhost').pathname
  else throw new TypeError('clerk-native: matchProxyPath expects a Request, URL or string')
  return binding.matchProxyPath(pathname, proxyPath || null)
}

module.exports = {
  isValidHost,
  ALL_CHECKS,
  NEXT_CHECKS,
  assertConfiguration,
  DEFAULT_PROXY_PATH,
  FrontendApiProxy,
  ProxyBodyError,
  clerkFrontendApiProxy,
  proxyRequest,
  matchProxyPath,
  defaultProxy,
  fapiUrlFromPublishableKey: (pk) => binding.fapiUrlFromPublishableKey(String(pk ?? '')),
  normalizeProxyPath: (p) => binding.normalizeProxyPath(p == null ? null : String(p)),
}
