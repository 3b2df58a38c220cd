'use strict'
// Node adapter: an `IncomingMessage` streamed straight into a `ServerResponse` (the Express path). Uploads follow
// Node stream events; downloads go through `readInto()` into pooled buffers.

const { sendNodeError, ProxyFailure, ProxyBodyError } = require('../errors')
const { startExchange, onResponseHead, safeCancel, toBuffer, WRITE_FULL, WRITE_CLOSED, READ_END, READ_FAILURES } = require('./exchange')
const { toNodeHeaders } = require('./headers')

/** Bodies with a Content-Length up to this are collected and sent with the request head in one write. */
const SMALL_UPLOAD_BYTES = 64 * 1024
const UPLOAD_IDLE_MESSAGE = 'The request body moved no byte within idleTimeoutMs'
const CONSUMED_MESSAGE =
  'The request body was already consumed (a body parser runs before the Clerk proxy). Mount the proxy before body parsers.'

function sendFailure(res, f) {
  sendNodeError(res, f.status, f.code, f.message)
}

/**
 * Proxies a Node request into a Node response through `native`. Never throws for proxy failures: they are
 * answered as JSON errors (or cut the response once its head was sent).
 * @param {object} native a NativeProxy
 * @param {import('http').IncomingMessage} req
 * @param {import('http').ServerResponse} res
 * @param {string} url absolute URL as the app received it
 * @param {number} idleMs the proxy's idle timeout (0 = none)
 */
function pipeNode(native, req, res, url, idleMs) {
  const h = req.headers
  const te = h['transfer-encoding']
  const cl = h['content-length']
  if (te === undefined && (cl === undefined || cl === '0')) return startNode(native, req, res, url, idleMs, null, false)
  // `req.complete` only says Node has parsed the whole message (true for a small body behind any async
  // middleware, unread); what matters is whether someone read the stream.
  if (req.readableEnded || req.readableDidRead) {
    // A body parser mounted before us consumed the stream: forward its raw bytes if it kept them.
    const raw = req.rawBody
    if (Buffer.isBuffer(raw) || typeof raw === 'string') return startNode(native, req, res, url, idleMs, toBuffer(raw), false)
    return sendNodeError(res, 500, 'proxy_configuration_error', CONSUMED_MESSAGE)
  }
  if (te === undefined && Number(cl) <= SMALL_UPLOAD_BYTES) {
    // A small declared body (Node's parser enforces the length) goes upstream in one write with the head.
    return collectSmallBody(req, res, idleMs, (body) => startNode(native, req, res, url, idleMs, body, false))
  }
  startNode(native, req, res, url, idleMs, null, true)
}

function startNode(native, req, res, url, idleMs, inline, streaming) {
  if (res.destroyed) return
  const exchange = startExchange(native, req.method, url, req.rawHeaders, req.socket.remoteAddress || null, inline, streaming)
  // Also reached from a request 'end' listener (small bodies), where a throw would be uncaught.
  if (exchange instanceof ProxyFailure) return sendFailure(res, exchange)
  res.on('close', () => {
    if (!res.writableFinished) safeCancel(exchange)
  })
  if (streaming) uploadFromNode(req, exchange)
  onResponseHead(
    exchange,
    (head) => writeNodeHead(head, exchange, res, idleMs),
    (failure) => sendFailure(res, failure),
  ).catch(() => failNode(exchange, res))
}

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

/** A native call failed mid-exchange (a Rust panic is a thrown JS Error): 502 JSON if nothing was sent, else cut. */
function failNode(exchange, res) {
  safeCancel(exchange)
  sendNodeError(res, 502, 'proxy_request_failed', 'Failed to proxy request to Clerk FAPI')
}

/** Streams the request body into the exchange on Node stream events, pausing while the native queue is full. */
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

function writeNodeHead(head, exchange, res, idleMs) {
  if (res.destroyed) {
    exchange.cancel()
    return
  }
  // Node refuses (throws, and we cut the connection) a body longer or shorter than the Content-Length sent.
  res.strictContentLength = true
  try {
    const headers = toNodeHeaders(head.headers)
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
    if (n === READ_END) {
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

module.exports = { pipeNode }
