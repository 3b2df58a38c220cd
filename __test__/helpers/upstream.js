'use strict'
// A REAL upstream HTTP server for proxy tests (no mocked fetch): node:http on 127.0.0.1, a free port.
//
//   const { startUpstream, withTimeout } = require('./helpers/upstream')
//   const up = await startUpstream()          // { url, port, requests, respond, waitForRequests, close, server }
//   up.url                                     // 'http://127.0.0.1:<port>' (no trailing slash)
//   up.respond({ status: 200, body: 'ok' })    // every later request gets this answer
//   up.respond((rec) => ({ status: 302, headers: { location: '/v1/client' } }))   // or decide per request
//   up.requests[0]                             // what arrived (see "request record" below)
//   await up.close()                           // in after()/t.after(): closes the server and every socket
//
// respond(handler): `handler` is a response descriptor or a function `(record, res) => descriptor`
// (may be async). It runs once the request body has been read completely (record.body is set). If the
// function returns undefined it must answer on `res` (a node:http ServerResponse) itself, e.g. to stream a
// body slowly. The handler applies to requests arriving after the call.
// Default (also after respond(null)): 200, content-type application/json, body {"ok":true}.
//
// Response descriptor (all fields optional):
//   status      number (200)          statusText  string (Node's default)
//   headers     object { name: value | value[] } or array of [name, value] pairs; repeat a name (or give an
//               array value) for several Set-Cookie headers
//   body        string | Buffer | Uint8Array | Readable | AsyncIterable<Buffer> (streamed, chunked)
//   gzip        true: the string/Buffer body is really gzip-compressed (zlib) and sent with
//               Content-Encoding: gzip and the compressed Content-Length
//   delayMs     wait this long before sending the head
//   hang        true: never answer (the socket stays open until the client or close() ends it)
//
// Request record (pushed to `requests` as soon as the head arrives, in arrival order):
//   method, url (the raw request target, e.g. '//evil.com/steal?x=1'), path (url without the query),
//   headers (node's lower-cased object; repeated headers joined), rawHeaders (flat [name, value, ...] exactly
//   as received), body (Buffer, set once the whole body is read; null before), bodyDone (Promise<Buffer>),
//   closed (Promise<{ early }>: resolves when the response/connection closes; early = true when the
//   connection closed before the response was completely written, e.g. the proxy cancelled),
//   req, res (the raw node:http objects).
//   bytesReceived (body bytes read so far, updated as they arrive: lets a test see streaming progress),
//   header(name): every raw value of that header (case-insensitive), in arrival order.
// up.waitForRequests(n, ms = 2000): resolves when at least n requests arrived, rejects after ms.
// Also exported: withTimeout(promise, ms, label) rejects if `promise` does not settle within ms (use it on
// every await that could hang).

const http = require('node:http')
const zlib = require('node:zlib')
const { pipeline } = require('node:stream')

const DEFAULT_RESPONSE = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' }

/** @returns {Promise<{url: string, port: number, requests: object[], respond: Function, close: Function, waitForRequests: Function}>} */
function startUpstream() {
  let handler = DEFAULT_RESPONSE
  const requests = []
  const sockets = new Set()
  const waiters = new Set()

  const server = http.createServer((req, res) => {
    const record = makeRecord(req, res)
    requests.push(record)
    for (const w of waiters) w()
    record.bodyDone.then(
      () => answer(record, req, res),
      () => res.destroy(),
    )
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  // Client errors (e.g. a proxy closing mid-request) must not crash the test process.
  server.on('clientError', (err, socket) => socket.destroy())

  async function answer(record, req, res) {
    try {
      const d = typeof handler === 'function' ? await handler(record, res) : handler
      if (d === undefined) return // the handler answers on res itself
      await send(d || DEFAULT_RESPONSE, res)
    } catch (err) {
      if (!res.headersSent) {
        res.writeHead(599, { 'content-type': 'text/plain' })
        res.end(`upstream helper: handler threw: ${err && err.stack}`)
      } else res.destroy()
    }
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        requests,
        server,
        respond(fn) {
          handler = fn == null ? DEFAULT_RESPONSE : fn
        },
        waitForRequests(n, ms = 2000) {
          if (requests.length >= n) return Promise.resolve(requests)
          return new Promise((ok, fail) => {
            const timer = setTimeout(() => {
              waiters.delete(check)
              fail(new Error(`upstream: expected ${n} request(s) within ${ms} ms, got ${requests.length}`))
            }, ms)
            const check = () => {
              if (requests.length < n) return
              clearTimeout(timer)
              waiters.delete(check)
              ok(requests)
            }
            waiters.add(check)
          })
        },
        close() {
          return new Promise((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
        },
      })
    })
  })
}

function makeRecord(req, res) {
  const q = req.url.indexOf('?')
  const record = {
    method: req.method,
    url: req.url,
    path: q === -1 ? req.url : req.url.slice(0, q),
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    body: null,
    bytesReceived: 0,
    bodyDone: null,
    closed: null,
    req,
    res,
    header(name) {
      const lower = name.toLowerCase()
      const out = []
      for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].toLowerCase() === lower) out.push(req.rawHeaders[i + 1])
      return out
    },
  }
  record.bodyDone = new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', (c) => {
      record.bytesReceived += c.length
      chunks.push(c)
    })
    req.once('end', () => {
      record.body = Buffer.concat(chunks)
      resolve(record.body)
    })
    req.once('error', reject)
    req.once('aborted', () => reject(new Error('request aborted')))
  })
  record.bodyDone.catch(() => {})
  record.closed = new Promise((resolve) => {
    res.once('close', () => resolve({ early: !res.writableFinished }))
  })
  return record
}

async function send(d, res) {
  if (d.delayMs) await new Promise((r) => setTimeout(r, d.delayMs))
  if (d.hang) return
  const headers = []
  const add = (name, value) => {
    if (Array.isArray(value)) for (const v of value) headers.push([name, String(v)])
    else headers.push([name, String(value)])
  }
  if (Array.isArray(d.headers)) for (const [n, v] of d.headers) add(n, v)
  else if (d.headers) for (const n of Object.keys(d.headers)) add(n, d.headers[n])

  let body = d.body
  if (typeof body === 'string' || body instanceof Uint8Array) {
    body = Buffer.from(body)
    if (d.gzip) {
      body = zlib.gzipSync(body)
      headers.push(['content-encoding', 'gzip'])
    }
    if (!headers.some(([n]) => n.toLowerCase() === 'content-length')) headers.push(['content-length', String(body.length)])
  }
  const status = d.status || 200
  const flat = headers.flat()
  if (d.statusText) res.writeHead(status, d.statusText, flat)
  else res.writeHead(status, flat)
  if (body == null) res.end()
  else if (Buffer.isBuffer(body)) res.end(body)
  else pipeline(body, res, () => {})
}

/** Rejects with a clear message if `promise` does not settle within `ms`. */
function withTimeout(promise, ms = 5000, label = 'operation') {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

module.exports = { startUpstream, withTimeout }
