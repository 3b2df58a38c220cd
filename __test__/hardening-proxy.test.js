'use strict'
// Proxy hardening: response framing (Content-Length vs Transfer-Encoding, 1xx/odd statuses, 204/304), the three
// idleTimeoutMs gaps (small uploads, a client that never reads, an upstream that never reads), maxConnections,
// malformed Host headers, proxyRequest(init) validation and construction-time option checks.
//
// Real servers on 127.0.0.1 only: a raw `net` upstream that writes hand-made HTTP bytes (node:http cannot produce
// these responses), Express apps reached over raw sockets, the Web and proxyRequest paths. Every wait is bounded.
//
//   CLERK_NATIVE_SKIP_BUILD=1 node --test __test__/hardening-proxy.test.js

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const net = require('node:net')
const { performance } = require('node:perf_hooks')
const express = require('express')

const { startUpstream, withTimeout } = require('./helpers/upstream')
const { clerkFrontendApiProxy, proxyRequest, FrontendApiProxy } = require('..')
const { clerkMiddleware, frontendApiProxy } = require('../express')
const next = require('../next')
const { cleanupsAfter, sleep, waitFor } = require('./helpers/wait')

const PK = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k'
const SK = 'sk_test_HARDENING_0123456789'
const ENV_KEYS = ['CLERK_FAPI_URL', 'CLERK_PUBLISHABLE_KEY', 'CLERK_SECRET_KEY', 'NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY']
for (const k of ENV_KEYS) delete process.env[k]

const cleanups = cleanupsAfter()

// ---------------------------------------------------------------------------------------------------------
// A raw TCP upstream: the answer for each request path is a string of hand-made HTTP bytes, or a function
// (socket, head) that drives the socket itself. It answers one request per connection, so every answer says
// `Connection: close` (the proxy's pool must not reuse the connection).

const SMUGGLED = 'HTTP/1.1 200 OK\r\nSet-Cookie: __session=forged; Path=/\r\nContent-Length: 0\r\n\r\n'
const RAW = {
  // Both framings: the chunked body (5 bytes) is what hyper reads, the Content-Length (3) is stale.
  '/cl-te-short': 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  // A body longer than the stale Content-Length carrying a forged response after the declared bytes.
  '/cl-te-smuggle': (() => {
    const body = `abc${SMUGGLED}`
    return `HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`
  })(),
  '/switching': 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n\r\n',
  '/status-600': 'HTTP/1.1 600 Weird\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok',
  '/status-999': 'HTTP/1.1 999 Odd\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
  '/no-content': 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nSet-Cookie: b=2\r\nConnection: close\r\n\r\nhello',
  '/not-modified': 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: "x"\r\nConnection: close\r\n\r\n',
  '/ok': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok',
  '/hang': () => {},
  // Reads the request head, then stops reading the socket and never answers.
  '/no-read': (sock) => sock.pause(),
  // 32 MiB of chunked body as fast as the peer takes it.
  '/big': (sock) => {
    sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n')
    const chunk = Buffer.alloc(64 * 1024, 120)
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
    let left = 512
    const pump = () => {
      while (left > 0) {
        left--
        if (!sock.write(frame)) return sock.once('drain', pump)
      }
      sock.end('0\r\n\r\n')
    }
    pump()
  },
}

function startRawUpstream() {
  const conns = []
  const sockets = new Set()
  const server = net.createServer((sock) => {
    sockets.add(sock)
    const rec = { path: null, closed: false, bytesIn: 0 }
    conns.push(rec)
    sock.on('error', () => {})
    sock.on('close', () => {
      rec.closed = true
      sockets.delete(sock)
    })
    let head = ''
    const onData = (d) => {
      rec.bytesIn += d.length
      if (rec.path !== null) return
      head += d.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) return
      rec.path = head.split(' ')[1].split('?')[0]
      const answer = RAW[rec.path]
      if (typeof answer === 'string') sock.write(answer)
      else if (typeof answer === 'function') {
        rec.sock = sock
        answer(sock, head)
      }
      else sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
    }
    sock.on('data', onData)
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      resolve({
        url: `http://127.0.0.1:${port}`,
        conns,
        open: () => conns.filter((c) => !c.closed).length,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          }),
      })
    })
  })
}

let raw
before(async () => {
  raw = await startRawUpstream()
  cleanups.push(() => raw.close())
})

const opts = (extra = {}) => ({ publishableKey: PK, secretKey: SK, fapiUrl: raw.url, ...extra })

// ---------------------------------------------------------------------------------------------------------
// Express app reached over raw sockets

function listen(server) {
  return new Promise((resolve) => {
    const sockets = new Set()
    server.on('connection', (s) => {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
    })
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      const close = () =>
        new Promise((done) => {
          for (const s of sockets) s.destroy()
          server.close(() => done())
        })
      cleanups.push(close)
      resolve({ port, server, sockets, close })
    })
  })
}

async function startExpress(mw) {
  const app = express()
  app.use(mw)
  app.get('/api/health', (req, res) => res.status(200).json({ healthy: true }))
  app.use((req, res) => res.status(299).json({ next: true }))
  return listen(http.createServer(app))
}

/**
 * Sends `text` on a raw socket and collects everything the server sends until it closes the connection or
 * `ms` pass. Resolves { data: Buffer, closed: boolean, ms }.
 */
function rawExchange(port, text, ms = 3000, { keepOpenAfter } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now()
    const chunks = []
    const sock = net.connect(port, '127.0.0.1', () => sock.write(text))
    let settled = false
    const finish = (closed) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      sock.destroy()
      resolve({ data: Buffer.concat(chunks), closed, ms: performance.now() - t0 })
    }
    sock.on('data', (d) => {
      chunks.push(d)
      if (keepOpenAfter && keepOpenAfter(Buffer.concat(chunks))) finish(false)
    })
    sock.on('error', () => finish(true))
    sock.on('close', () => finish(true))
    const timer = setTimeout(() => finish(false), ms)
  })
}

/**
 * Parses consecutive HTTP/1.1 responses from raw bytes. Each: { status, headers (lower-cased name -> [values]),
 * body (Buffer) }; `rest` is what is left unparsed (a complete, well-framed stream leaves nothing).
 */
function parseResponses(buf) {
  const out = []
  let i = 0
  while (i < buf.length) {
    const end = buf.indexOf('\r\n\r\n', i)
    if (end === -1) break
    const lines = buf.subarray(i, end).toString('latin1').split('\r\n')
    const status = Number(lines[0].split(' ')[1])
    const headers = {}
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':')
      const name = l.slice(0, c).trim().toLowerCase()
      ;(headers[name] = headers[name] || []).push(l.slice(c + 1).trim())
    }
    let j = end + 4
    let body = Buffer.alloc(0)
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      // no body
    } else if (headers['transfer-encoding']) {
      const parts = []
      for (;;) {
        const eol = buf.indexOf('\r\n', j)
        if (eol === -1) return { responses: out, rest: buf.subarray(i) }
        const size = parseInt(buf.subarray(j, eol).toString('latin1'), 16)
        j = eol + 2
        if (size === 0) {
          j += 2
          break
        }
        parts.push(buf.subarray(j, j + size))
        j += size + 2
      }
      body = Buffer.concat(parts)
    } else if (headers['content-length']) {
      const n = Number(headers['content-length'][0])
      body = buf.subarray(j, j + n)
      j += n
    } else {
      body = buf.subarray(j)
      j = buf.length
    }
    out.push({ status, headers, body })
    i = j
  }
  return { responses: out, rest: buf.subarray(i) }
}

async function readAll(body) {
  if (!body) return Buffer.alloc(0)
  const chunks = []
  for await (const c of body) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks)
}

function pairsGet(pairs, name) {
  return pairs.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v)
}

// ---------------------------------------------------------------------------------------------------------
// Item 7: framing

describe('response framing: Content-Length never describes other bytes than those sent', () => {
  test('CL+TE upstream: Web path forwards no stale Content-Length (body is the 5 chunked bytes)', async () => {
    const res = await withTimeout(clerkFrontendApiProxy(new Request('http://app.test/__clerk/cl-te-short'), opts()), 5000, 'web')
    const body = Buffer.from(await withTimeout(res.arrayBuffer(), 5000, 'body'))
    const cl = res.headers.get('content-length')
    assert.ok(cl === null || Number(cl) === body.length, `content-length ${cl} with a ${body.length}-byte body`)
    assert.equal(body.toString(), 'hello')
    assert.deepEqual(res.headers.getSetCookie(), ['a=1'])
  })

  test('CL+TE upstream: proxyRequest forwards no stale Content-Length', async () => {
    const r = await withTimeout(proxyRequest({ url: 'http://app.test/__clerk/cl-te-short' }, opts()), 5000, 'proxyRequest')
    const body = await withTimeout(readAll(r.body), 5000, 'body')
    const cl = pairsGet(r.headers, 'content-length')
    assert.ok(cl.length === 0 || (cl.length === 1 && Number(cl[0]) === body.length), `content-length ${cl} with a ${body.length}-byte body`)
    assert.equal(body.toString(), 'hello')
  })

  test('CL+TE upstream on Express: one well-framed response on a keep-alive connection, no smuggled response', async () => {
    const app = await startExpress(frontendApiProxy(opts()))
    const { data } = await rawExchange(
      app.port,
      'GET /__clerk/cl-te-smuggle HTTP/1.1\r\nHost: app.test\r\nConnection: keep-alive\r\n\r\n',
      1500,
    )
    const { responses, rest } = parseResponses(data)
    assert.equal(responses.length, 1, `expected one response, got ${responses.length}: ${data.toString('latin1')}`)
    assert.equal(rest.length, 0, `bytes after the response: ${JSON.stringify(rest.toString('latin1'))}`)
    const [r] = responses
    assert.equal(r.status, 200)
    if (r.headers['content-length']) assert.equal(Number(r.headers['content-length'][0]), r.body.length)
    assert.equal(r.body.toString('latin1'), `abc${SMUGGLED}`)
    assert.deepEqual(r.headers['set-cookie'], ['a=1'])
  })

  test('Express res has strictContentLength on (a body longer than declared cuts the connection)', async () => {
    let seen = null
    const app = await startExpress((req, res, nextFn) => {
      const p = frontendApiProxy(opts())
      res.on('finish', () => (seen = res.strictContentLength))
      res.on('close', () => (seen = seen ?? res.strictContentLength))
      p(req, res, nextFn)
    })
    const { data } = await rawExchange(app.port, 'GET /__clerk/ok HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n', 3000)
    assert.match(data.toString('latin1'), /^HTTP\/1\.1 200/)
    assert.equal(seen, true)
  })

  for (const [path, label] of [
    ['/switching', '101 Switching Protocols'],
    ['/status-600', 'status 600'],
    ['/status-999', 'status 999'],
  ]) {
    test(`upstream ${label} -> 502 proxy_request_failed on the Web, proxyRequest and Express paths`, async () => {
      const res = await withTimeout(clerkFrontendApiProxy(new Request(`http://app.test/__clerk${path}`), opts()), 5000, 'web')
      assert.equal(res.status, 502)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assert.equal((await res.json()).errors[0].code, 'proxy_request_failed')

      const r = await withTimeout(proxyRequest({ url: `http://app.test/__clerk${path}` }, opts()), 5000, 'proxyRequest')
      assert.equal(r.status, 502)
      assert.equal(JSON.parse((await readAll(r.body)).toString()).errors[0].code, 'proxy_request_failed')

      const app = await startExpress(frontendApiProxy(opts()))
      const { data } = await rawExchange(app.port, `GET /__clerk${path} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`, 3000)
      const { responses } = parseResponses(data)
      assert.equal(responses.length, 1, data.toString('latin1'))
      assert.equal(responses[0].status, 502, data.toString('latin1'))
      assert.equal(JSON.parse(responses[0].body.toString()).errors[0].code, 'proxy_request_failed')
    })
  }

  for (const [path, status] of [
    ['/no-content', 204],
    ['/not-modified', 304],
  ]) {
    test(`upstream ${status} with a Content-Length and body bytes -> ${status} with neither, on every path`, async () => {
      const res = await withTimeout(clerkFrontendApiProxy(new Request(`http://app.test/__clerk${path}`), opts()), 5000, 'web')
      assert.equal(res.status, status)
      assert.equal(res.headers.get('content-length'), null)
      assert.equal(res.body, null)

      const r = await withTimeout(proxyRequest({ url: `http://app.test/__clerk${path}` }, opts()), 5000, 'proxyRequest')
      assert.equal(r.status, status)
      assert.deepEqual(pairsGet(r.headers, 'content-length'), [])
      assert.equal(r.body, null)

      const app = await startExpress(frontendApiProxy(opts()))
      const { data } = await rawExchange(
        app.port,
        `GET /__clerk${path} HTTP/1.1\r\nHost: app.test\r\n\r\nGET /api/health HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`,
        3000,
      )
      const { responses, rest } = parseResponses(data)
      assert.equal(responses.length, 2, data.toString('latin1'))
      assert.equal(rest.length, 0)
      assert.equal(responses[0].status, status)
      assert.equal(responses[0].headers['content-length'], undefined)
      assert.equal(responses[1].status, 200)
    })
  }
})

// ---------------------------------------------------------------------------------------------------------
// Item 8: idleTimeoutMs gaps and maxConnections

const IDLE_MS = 300
// Upper bound for "ends at idleTimeoutMs" on a loaded 2-core machine; the unfixed behaviour is >= 20-30 s.
const IDLE_CAP_MS = 4000

describe('idleTimeoutMs covers small uploads, clients that never read and upstreams that never read', () => {
  test('a small upload (<= 64 KiB) that stalls -> 408 JSON at idleTimeoutMs and the connection closes (Express)', async () => {
    const app = await startExpress(frontendApiProxy(opts({ idleTimeoutMs: IDLE_MS })))
    const { data, closed, ms } = await rawExchange(
      app.port,
      'POST /__clerk/small-stall HTTP/1.1\r\nHost: app.test\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789',
      IDLE_CAP_MS,
    )
    const { responses } = parseResponses(data)
    assert.equal(responses.length, 1, `no answer within ${IDLE_CAP_MS} ms`)
    assert.equal(responses[0].status, 408)
    assert.equal(JSON.parse(responses[0].body.toString()).errors[0].code, 'proxy_request_failed')
    assert.equal(responses[0].headers['cache-control'][0], 'no-store')
    assert.ok(closed, 'connection closed after the 408')
    assert.ok(ms >= IDLE_MS - 50, `answered after ${ms} ms, before idleTimeoutMs`)
    // nothing reached the upstream: the body never completed
    assert.ok(!raw.conns.some((c) => c.path === '/small-stall'), 'no upstream request')
  })

  test('a client that never reads its download is disconnected at idleTimeoutMs (Express)', async () => {
    const app = await startExpress(frontendApiProxy(opts({ idleTimeoutMs: IDLE_MS })))
    const before = app.sockets.size
    const sock = net.connect(app.port, '127.0.0.1')
    cleanups.push(() => sock.destroy())
    await new Promise((r) => sock.once('connect', r))
    sock.on('error', () => {})
    sock.write('GET /__clerk/big HTTP/1.1\r\nHost: app.test\r\n\r\n')
    sock.pause() // never read
    await waitFor(() => app.sockets.size > before, 2000, 'server-side socket')
    const t0 = performance.now()
    await waitFor(() => app.sockets.size === before, IDLE_CAP_MS, 'the proxy to cut the client that never reads')
    const ms = performance.now() - t0
    assert.ok(ms < IDLE_CAP_MS, `${ms} ms`)
  })

  test('an upstream that stops reading an upload -> the exchange ends at idleTimeoutMs with 408 JSON (Express)', async () => {
    const app = await startExpress(frontendApiProxy(opts({ idleTimeoutMs: IDLE_MS })))
    const t0 = performance.now()
    const sock = net.connect(app.port, '127.0.0.1')
    cleanups.push(() => sock.destroy())
    sock.on('error', () => {})
    const chunks = []
    sock.on('data', (d) => chunks.push(d))
    await new Promise((r) => sock.once('connect', r))
    sock.write('POST /__clerk/no-read HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n')
    const frame = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 97), Buffer.from('\r\n')])
    let stop = false
    ;(async () => {
      for (let i = 0; i < 4096 && !stop && !sock.destroyed; i++) {
        if (!sock.write(frame)) await new Promise((r) => sock.once('drain', r))
      }
    })().catch(() => {})
    try {
      await waitFor(() => Buffer.concat(chunks).includes('\r\n\r\n'), IDLE_CAP_MS + 1000, 'a response while the upstream reads nothing')
    } finally {
      stop = true
    }
    const ms = performance.now() - t0
    const text = Buffer.concat(chunks).toString('latin1')
    assert.match(text, /^HTTP\/1\.1 408 /)
    assert.match(text, /proxy_request_failed/)
    assert.ok(ms < IDLE_CAP_MS + 1000, `${ms} ms`)
    // A paused socket notices no FIN: read what is queued, then the proxy's close shows.
    for (const c of raw.conns) if (c.path === '/no-read' && c.sock) c.sock.resume()
    await waitFor(() => raw.conns.filter((c) => c.path === '/no-read').every((c) => c.closed), 5000, 'the upstream connection to close')
  })

  test('an upstream that stops reading an upload: proxyRequest answers 408 at idleTimeoutMs too', async () => {
    async function* body() {
      for (let i = 0; i < 4096; i++) yield Buffer.alloc(64 * 1024, 98)
    }
    const t0 = performance.now()
    const r = await withTimeout(
      proxyRequest({ method: 'POST', url: 'http://app.test/__clerk/no-read', body: body() }, opts({ idleTimeoutMs: IDLE_MS })),
      IDLE_CAP_MS + 1000,
      'proxyRequest with an upstream that never reads',
    )
    assert.equal(r.status, 408)
    assert.equal(JSON.parse((await readAll(r.body)).toString()).errors[0].code, 'proxy_request_failed')
    assert.ok(performance.now() - t0 >= IDLE_MS - 50)
  })
})

describe('maxConnections bounds the upstream connections of one proxy', () => {
  test('over the bound -> 503 proxy_too_many_requests with Retry-After; freed slots are reused', async () => {
    const p = new FrontendApiProxy(opts({ maxConnections: 2 }))
    const opened = raw.conns.length
    const a = new AbortController()
    const b = new AbortController()
    const first = p.proxy({ url: 'http://app.test/__clerk/hang', signal: a.signal })
    const second = p.proxy({ url: 'http://app.test/__clerk/hang', signal: b.signal })
    await waitFor(() => raw.conns.length - opened >= 2, 3000, 'two upstream connections')
    const third = await withTimeout(p.proxy({ url: 'http://app.test/__clerk/ok' }), 3000, 'third request')
    assert.equal(third.status, 503)
    assert.deepEqual(pairsGet(third.headers, 'retry-after'), ['1'])
    assert.deepEqual(pairsGet(third.headers, 'cache-control'), ['no-store'])
    assert.equal(JSON.parse((await readAll(third.body)).toString()).errors[0].code, 'proxy_too_many_requests')
    await sleep(50)
    assert.equal(raw.conns.length - opened, 2, 'the refused request opened no upstream connection')
    a.abort()
    await first.catch(() => {})
    await waitFor(async () => {
      const r = await p.proxy({ url: 'http://app.test/__clerk/ok' })
      await readAll(r.body)
      return r.status === 200
    }, 3000, 'a slot to free up after the abort')
    b.abort()
    await second.catch(() => {})
  })

  test('maxConnections is validated (positive integer) at construction', () => {
    for (const bad of [0, -1, 1.5, 'x', Number.NaN, 2 ** 32]) {
      assert.throws(() => new FrontendApiProxy(opts({ maxConnections: bad })), /maxConnections/, String(bad))
      assert.throws(() => frontendApiProxy(opts({ maxConnections: bad })), /maxConnections/, String(bad))
    }
  })
})

// ---------------------------------------------------------------------------------------------------------
// Item 9: malformed Host

const BAD_HOSTS = ['a:99999999', '%', 'a%00b', 'a b', 'a/b', 'user@a']

describe('malformed Host with an enabled(url) function', () => {
  for (const [label, make] of [
    ['clerkMiddleware({ frontendApiProxy })', () => clerkMiddleware({ ...opts(), frontendApiProxy: { enabled: () => true } })],
    ['frontendApiProxy(options)', () => frontendApiProxy({ ...opts(), enabled: () => true })],
  ]) {
    test(`${label}: non-proxy routes pass to next(), proxy paths get 400 "Invalid Host header", no stack trace`, async () => {
      const app = await startExpress(make())
      for (const host of BAD_HOSTS) {
        const health = await rawExchange(app.port, `GET /api/health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 3000)
        const text = health.data.toString('latin1')
        assert.match(text, /^HTTP\/1\.1 200 /, `${host}: ${text}`)
        assert.ok(!/\bat \S+ \(/.test(text), `stack trace for ${host}`)
        const px = await rawExchange(app.port, `GET /__clerk/ok HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 3000)
        const ptext = px.data.toString('latin1')
        const { responses } = parseResponses(px.data)
        assert.equal(responses[0] && responses[0].status, 400, `${host}: ${ptext}`)
        assert.deepEqual(JSON.parse(responses[0].body.toString()).errors[0], { code: 'proxy_request_failed', message: 'Invalid Host header' })
        assert.ok(!/\bat \S+ \(/.test(ptext), `stack trace for ${host}`)
      }
      // A good Host still works.
      const ok = await rawExchange(app.port, 'GET /__clerk/ok HTTP/1.1\r\nHost: app.test:8080\r\nConnection: close\r\n\r\n', 3000)
      assert.match(ok.data.toString('latin1'), /^HTTP\/1\.1 200 /)
    })
  }

  test('Next frontendApiProxyMiddleware: an unparsable request URL never rejects; proxy path -> 400, others -> undefined', async () => {
    const mw = next.frontendApiProxyMiddleware({ ...opts(), enabled: () => true })
    const fake = (url) => ({ url, method: 'GET', headers: new Headers(), signal: null, body: null })
    assert.equal(await withTimeout(mw(fake('http://a%00b/api/health')), 3000, 'mw'), undefined)
    assert.equal(await withTimeout(mw(fake('http://a:99999999/api/health')), 3000, 'mw'), undefined)
    const res = await withTimeout(mw(fake('http://a:99999999/__clerk/v1/client')), 3000, 'mw')
    assert.equal(res.status, 400)
    assert.deepEqual((await res.json()).errors[0], { code: 'proxy_request_failed', message: 'Invalid Host header' })
  })
})

// ---------------------------------------------------------------------------------------------------------
// proxyRequest(init) validation before anything starts

describe('proxyRequest(init) is validated before any upstream request', () => {
  let up
  before(async () => {
    up = await startUpstream()
    cleanups.push(() => up.close())
  })
  const bad = [
    ['a signal without addEventListener', { signal: { aborted: false } }],
    ['a signal that is a string', { signal: 'abort' }],
    ['a non-string method', { method: 5 }],
    ['headers that are a number', { headers: 42 }],
    ['a body of the wrong type', { method: 'POST', body: 42 }],
    ['a remoteAddress that is not a string', { remoteAddress: 7 }],
  ]
  for (const [label, init] of bad) {
    test(`${label} -> TypeError, no upstream request`, async () => {
      const before = up.requests.length
      await assert.rejects(
        proxyRequest({ url: 'http://app.test/__clerk/v1/client', ...init }, { publishableKey: PK, secretKey: SK, fapiUrl: up.url }),
        TypeError,
      )
      await sleep(100)
      assert.equal(up.requests.length, before)
    })
  }
  test('a non-string url -> TypeError', async () => {
    await assert.rejects(proxyRequest({ url: new URL('http://app.test/__clerk/v1') }, { publishableKey: PK, secretKey: SK, fapiUrl: up.url }), TypeError)
  })
})

// ---------------------------------------------------------------------------------------------------------
// Construction-time option checks

function assertConfigThrow(fn, re, secret) {
  let err
  try {
    fn()
  } catch (e) {
    err = e
  }
  assert.ok(err, 'expected a throw at construction')
  assert.equal(err.code, 'proxy_configuration_error')
  assert.match(err.message, re)
  assert.match(err.message, /^clerk-native: /)
  if (secret) assert.ok(!err.message.includes(secret), 'secret echoed')
}

describe('proxy options are checked when the middleware / instance is built', () => {
  const cases = [
    ['no publishableKey', { secretKey: SK }, /publishableKey is missing.*CLERK_PUBLISHABLE_KEY/],
    ['no secretKey', { publishableKey: PK }, /secretKey is missing.*CLERK_SECRET_KEY/],
    ['a secretKey with a line break', { publishableKey: PK, secretKey: `${SK}\r\nX-Injected: 1` }, /secretKey contains a line break/],
    ['a fapiUrl that is not a URL', { publishableKey: PK, secretKey: SK, fapiUrl: 'not-a-url' }, /fapiUrl.*Invalid URL/],
    ['an ftp fapiUrl', { publishableKey: PK, secretKey: SK, fapiUrl: 'ftp://x.example' }, /fapiUrl.*http or https/],
  ]
  for (const [label, o, re] of cases) {
    test(`Express clerkMiddleware / frontendApiProxy: ${label} -> throws at construction`, () => {
      assertConfigThrow(() => clerkMiddleware({ ...o, frontendApiProxy: { enabled: true } }), re, 'HARDENING')
      assertConfigThrow(() => frontendApiProxy(o), re, 'HARDENING')
    })
  }

  test('Express: environment fallbacks are honoured at construction; a disabled proxy is not checked', () => {
    assert.doesNotThrow(() => clerkMiddleware({ frontendApiProxy: { enabled: false } }))
    process.env.CLERK_PUBLISHABLE_KEY = PK
    process.env.CLERK_SECRET_KEY = SK
    process.env.CLERK_FAPI_URL = 'http://127.0.0.1:1'
    try {
      assert.doesNotThrow(() => clerkMiddleware({ frontendApiProxy: { enabled: true } }))
      assert.doesNotThrow(() => frontendApiProxy({}))
      process.env.CLERK_FAPI_URL = 'not-a-url'
      assertConfigThrow(() => frontendApiProxy({}), /CLERK_FAPI_URL.*Invalid URL/)
    } finally {
      for (const k of ENV_KEYS) delete process.env[k]
    }
  })

  test('new FrontendApiProxy / Next helpers: an invalid fapiUrl or secretKey throws at construction', () => {
    assertConfigThrow(() => new FrontendApiProxy({ publishableKey: PK, secretKey: SK, fapiUrl: 'not-a-url' }), /fapiUrl.*Invalid URL/)
    assertConfigThrow(() => new FrontendApiProxy({ publishableKey: PK, secretKey: `${SK}\r\n` }), /secretKey contains a line break/, 'HARDENING')
    assertConfigThrow(() => next.createFrontendApiProxyHandlers({ publishableKey: PK, secretKey: SK, fapiUrl: 'not-a-url' }), /fapiUrl/)
    assertConfigThrow(() => next.frontendApiProxyMiddleware({ publishableKey: PK, secretKey: SK, fapiUrl: 'https://u:p@x.example' }), /fapiUrl.*credentials/)
    assertConfigThrow(() => next.createFrontendApiProxyHandlers({ publishableKey: PK, secretKey: `${SK}\n` }), /secretKey contains a line break/, 'HARDENING')
    assertConfigThrow(() => next.frontendApiProxyMiddleware({ publishableKey: PK, secretKey: `${SK}\u0000` }), /secretKey contains a line break/, 'HARDENING')
  })

  test('the functional clerkFrontendApiProxy still never rejects: 500 JSON per call', async () => {
    const res = await withTimeout(clerkFrontendApiProxy(new Request('http://app.test/__clerk/v1'), { fapiUrl: 'not-a-url' }), 3000, 'functional')
    assert.equal(res.status, 500)
    assert.equal((await res.json()).errors[0].code, 'proxy_configuration_error')
  })
})

describe('option sets are memoised under collision-free keys (item 5)', () => {
  test('two option sets whose fields join to the same text get their own proxy instances', async () => {
    const up = await startUpstream()
    cleanups.push(() => up.close())
    // Joined with \u0000 these were the same key: the second call reused the first instance (and its secret key).
    const a = { publishableKey: `${PK}\u0000sk_test_A`, secretKey: 'sk_test_B', fapiUrl: up.url }
    const b = { publishableKey: PK, secretKey: 'sk_test_A\u0000sk_test_B', fapiUrl: up.url }
    const ra = await withTimeout(proxyRequest({ url: 'http://app.test/__clerk/v1/a' }, a), 5000, 'a')
    assert.equal(ra.status, 200)
    assert.equal(up.requests[0].headers['clerk-secret-key'], 'sk_test_B')
    const rb = await withTimeout(proxyRequest({ url: 'http://app.test/__clerk/v1/b' }, b), 5000, 'b')
    assert.equal(rb.status, 500, 'the NUL-bearing secret key of b is its own, refused: not a reuse of a')
    assert.equal(up.requests.length, 1)
  })
})
