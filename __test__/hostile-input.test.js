'use strict'
// Hostile input (SECURITY.md, "Hostile input"): one test per row of the table there, each asserting the row's
// expected outcome. Real servers on 127.0.0.1 (an upstream standing in for FAPI, a JWKS server that records
// every request, Express apps reached with node:http and raw sockets) and the release addon.
//
//   CLERK_NATIVE_SKIP_BUILD=1 node --test __test__/hostile-input.test.js

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const net = require('node:net')
const express = require('express')

const { startUpstream, withTimeout } = require('./helpers/upstream')
const T = require('./helpers/tokens')
const { proxyRequest, verifyToken, authenticateRequest, TokenVerificationError } = require('..')
const { clerkMiddleware } = require('../express')
const { resolveIdentity } = require('../lib/identity')
const { parseRawResponse } = require('./helpers/raw-http')

const PK = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k'
const SK = 'sk_test_HOSTILE_SECRET_0123456789'
const APP = 'http://app.test'

// ---------------------------------------------------------------------------------------------------------
// Helpers

const closers = []
after(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => {})
})

let up
before(async () => {
  up = await startUpstream()
  closers.push(() => up.close())
})

/** Requests that reached the upstream during `fn`. */
async function upstreamDuring(fn) {
  const n = up.requests.length
  const out = await fn()
  // Give a request that should not happen a moment to show up.
  await new Promise((r) => setTimeout(r, 20))
  return { out, requests: up.requests.slice(n) }
}

async function readAll(body) {
  if (!body) return ''
  const chunks = []
  for await (const c of body) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks).toString('utf8')
}

/** proxyRequest against the upstream; resolves { status, headers (lower-cased object, multi → array), body }. */
async function proxy(init, options = {}) {
  const res = await withTimeout(
    proxyRequest({ method: 'GET', url: `${APP}/__clerk/v1/client`, ...init }, { publishableKey: PK, secretKey: SK, fapiUrl: up.url, ...options }),
    10000,
    'proxyRequest',
  )
  const headers = {}
  for (const [k, v] of res.headers) {
    const name = k.toLowerCase()
    headers[name] = name in headers ? [].concat(headers[name], v) : v
  }
  return { status: res.status, headers, rawHeaders: res.headers, body: await readAll(res.body) }
}

function jsonError(res, status, code) {
  assert.equal(res.status, status, `status (body: ${res.body})`)
  assert.equal(res.headers['content-type'], 'application/json')
  assert.equal(res.headers['cache-control'], 'no-store')
  const body = JSON.parse(res.body)
  assert.equal(body.errors.length, 1)
  assert.deepEqual(Object.keys(body.errors[0]).sort(), ['code', 'message'])
  assert.equal(body.errors[0].code, code)
  return body.errors[0].message
}

/** No header name or value received upstream holds CR, LF or NUL, and no injected header arrived. */
function assertNoInjection(rec) {
  for (let i = 0; i < rec.rawHeaders.length; i++) assert.doesNotMatch(rec.rawHeaders[i], /[\r\n\0]/)
  assert.equal(rec.header('x-injected').length, 0, 'an injected header reached the upstream')
}

/** An Express app: clerkMiddleware(options), then routes; `next` counts requests that were not proxied. */
async function startExpress(options, routes) {
  const app = express()
  const state = { next: 0 }
  app.use(clerkMiddleware({ publishableKey: PK, secretKey: SK, fapiUrl: up.url, ...options }))
  if (routes) routes(app)
  app.use((req, res) => {
    state.next++
    res.status(299).json({ next: true, url: req.originalUrl })
  })
  const server = http.createServer(app)
  const sockets = new Set()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const close = () =>
    new Promise((r) => {
      for (const s of sockets) s.destroy()
      server.close(() => r())
    })
  closers.push(close)
  return { port: server.address().port, state, close }
}

function request(port, { method = 'GET', path = '/', headers = {}, body } = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    }),
    10000,
    `${method} ${path}`,
  )
}

/** Raw bytes on a socket; resolves { status, headers, body } once the server closes. */
function raw(port, data) {
  return withTimeout(
    new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1')
      const chunks = []
      sock.on('connect', () => sock.write(data))
      sock.on('data', (c) => chunks.push(c))
      sock.on('error', () => {})
      sock.on('close', () => {
        resolve(parseRawResponse(Buffer.concat(chunks).toString('latin1')))
      })
    }),
    10000,
    'raw request',
  )
}

async function expectReason(promise, reason) {
  const err = await T.rejectionOf(promise, 20000)
  assert.ok(err instanceof TokenVerificationError, `expected a TokenVerificationError, got ${err && err.stack}`)
  assert.equal(err.reason, reason, `reason (message: ${err.message})`)
  return err
}

const key = T.rsaKey(2048, 'kid_hostile')
const attacker = T.rsaKey(2048, 'kid_attacker')

// ---------------------------------------------------------------------------------------------------------

describe('hostile input: header and option injection', () => {
  test('H01 CR/LF, NUL or a char above U+00FF in a header value (proxyRequest raw list): the header is dropped', async () => {
    const { out, requests } = await upstreamDuring(() =>
      proxy({
        headers: [
          ['x-crlf', 'v\r\nX-Injected: 1'],
          ['x-lf', 'v\nX-Injected: 1'],
          ['x-cr', 'v\rX-Injected: 1'],
          ['x-nul', 'a\u0000b'],
          ['x-wide', 'caf\u4e2d'],
          ['x-latin1', 'caf\u00e9'],
          ['x-ok', 'kept'],
        ],
      }),
    )
    assert.equal(out.status, 200)
    assert.equal(requests.length, 1)
    const rec = requests[0]
    assertNoInjection(rec)
    for (const name of ['x-crlf', 'x-lf', 'x-cr', 'x-nul', 'x-wide']) assert.equal(rec.header(name).length, 0, name)
    assert.deepEqual(rec.header('x-ok'), ['kept'])
    assert.deepEqual(rec.header('x-latin1'), ['caf\u00e9']) // a latin1 byte is a valid obs-text value
  })

  test('H02 CR/LF or NUL in secretKey: 500 proxy_configuration_error, key never echoed, nothing sent', async () => {
    for (const secretKey of [`${SK}\r\nX-Injected: 1`, `${SK}\n`, `${SK}\u0000`]) {
      const { out, requests } = await upstreamDuring(() => proxy({}, { secretKey }))
      const message = jsonError(out, 500, 'proxy_configuration_error')
      assert.match(message, /Invalid secretKey/)
      assert.ok(!out.body.includes('HOSTILE_SECRET'), 'secret echoed')
      assert.equal(requests.length, 0)
    }
    // The constructor path: refused when the instance is built (hardening round 2: options are validated at
    // construction), with an error that names the option and never carries the key.
    const { FrontendApiProxy } = require('..')
    assert.throws(
      () => new FrontendApiProxy({ publishableKey: PK, secretKey: `${SK}\r\n`, fapiUrl: up.url }),
      (err) => err.code === 'proxy_configuration_error' && /secretKey/.test(err.message) && !err.message.includes('HOSTILE_SECRET'),
    )
  })

  test('H03 CR/LF in fapiUrl: removed by WHATWG URL parsing or 500 "Invalid URL"; never a header, never another host', async () => {
    // Trailing CR/LF: the URL parser strips ASCII tab/newline (as `new URL` does in Clerk), so it is the same URL.
    const a = await upstreamDuring(() => proxy({}, { fapiUrl: `${up.url}/\r\n` }))
    assert.equal(a.out.status, 200)
    assert.equal(a.requests.length, 1)
    assertNoInjection(a.requests[0])
    assert.equal(a.requests[0].headers.host, `127.0.0.1:${up.port}`)
    // CR/LF followed by a header line: not a URL at all.
    const b = await upstreamDuring(() => proxy({}, { fapiUrl: `${up.url}\r\nX-Injected: 1` }))
    assert.equal(jsonError(b.out, 500, 'proxy_configuration_error'), 'Invalid URL')
    assert.equal(b.requests.length, 0)
    // In the middle of the host: stripped, the host is then something else that cannot be reached.
    const c = await upstreamDuring(() => proxy({}, { fapiUrl: `http://127.0.0.\r\n1:${up.port}` }))
    assert.equal(c.out.status, 200, 'CR/LF inside the host are stripped: 127.0.0.1 again')
    assertNoInjection(c.requests[0])
  })

  test('H04 CR/LF in proxyPath: nothing ever matches it (400 proxy_path_mismatch, JSON-escaped), nothing sent', async () => {
    const { out, requests } = await upstreamDuring(() => proxy({}, { proxyPath: '/__clerk\r\nX-Injected: 1' }))
    const message = jsonError(out, 400, 'proxy_path_mismatch')
    assert.match(message, /does not match proxy path/)
    assert.ok(out.body.includes('\\r\\n'), 'the path is JSON-escaped in the body')
    for (const [k, v] of out.rawHeaders) assert.doesNotMatch(`${k}${v}`, /[\r\n]/)
    assert.equal(requests.length, 0)
    // Express: the request is not proxied, it continues to the app.
    const app = await startExpress({ frontendApiProxy: { enabled: true, path: '/__clerk\r\nX-Injected: 1' } })
    const r = await upstreamDuring(() => request(app.port, { path: '/__clerk/v1/client' }))
    assert.equal(r.out.status, 299)
    assert.equal(r.requests.length, 0)
  })

  test('H05 CR/LF in publishableKey: only its presence counts; it is never sent anywhere', async () => {
    const { out, requests } = await upstreamDuring(() => proxy({}, { publishableKey: 'pk_test_x\r\nX-Injected: 1' }))
    assert.equal(out.status, 200)
    assert.equal(requests.length, 1)
    assertNoInjection(requests[0])
    for (const v of requests[0].rawHeaders) assert.ok(!v.includes('pk_test_x'), 'publishable key sent upstream')
    // Without fapiUrl an unparsable key selects the production FAPI constant (never a host taken from the key).
    const { fapiUrlFromPublishableKey } = require('..')
    assert.equal(fapiUrlFromPublishableKey('pk_test_x\r\nX-Injected: 1'), 'https://frontend-api.clerk.dev')
    assert.equal(fapiUrlFromPublishableKey(`pk_live_${Buffer.from('evil.com\r\n$').toString('base64')}`), 'https://frontend-api.clerk.dev')
  })

  test('H06 header names with invalid bytes: dropped, the valid ones forwarded', async () => {
    const { out, requests } = await upstreamDuring(() =>
      proxy({
        headers: [
          ['bad name', 'v'],
          ['x:colon', 'v'],
          ['', 'v'],
          ['x\u00e9', 'v'],
          ['x\r\ninjected', 'v'],
          ['(x)', 'v'],
          ['x-valid', 'v'],
        ],
      }),
    )
    assert.equal(out.status, 200)
    const rec = requests[0]
    assertNoInjection(rec)
    const names = []
    for (let i = 0; i < rec.rawHeaders.length; i += 2) names.push(rec.rawHeaders[i].toLowerCase())
    assert.ok(names.includes('x-valid'))
    for (const bad of ['bad name', 'x:colon', 'x\u00e9', '(x)', 'injected']) assert.ok(!names.some((n) => n.includes(bad)), bad)
  })

  test('H07 request headers over 64 KiB in total: 431 proxy_request_failed, nothing sent', async () => {
    const { out, requests } = await upstreamDuring(() => proxy({ headers: [['x-big', 'a'.repeat(40 * 1024)], ['x-big2', 'b'.repeat(30 * 1024)]] }))
    jsonError(out, 431, 'proxy_request_failed')
    assert.equal(requests.length, 0)
    // Just under the limit passes (to an upstream that accepts large heads; Node's default is 16 KiB).
    const big = http.createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => res.end(String(req.headers['x-big'].length)))
    await new Promise((r) => big.listen(0, '127.0.0.1', r))
    closers.push(() => new Promise((r) => { big.closeAllConnections(); big.close(() => r()) }))
    const ok = await proxy({ headers: [['x-big', 'a'.repeat(60 * 1024)]] }, { fapiUrl: `http://127.0.0.1:${big.address().port}` })
    assert.equal(ok.status, 200)
    assert.equal(ok.body, String(60 * 1024))
    // Through Express, Node's own parser limit (16 KiB by default) answers 431 before the proxy runs.
    const app = await startExpress({ frontendApiProxy: { enabled: true } })
    const r = await upstreamDuring(() => raw(app.port, `GET /__clerk/v1/client HTTP/1.1\r\nHost: app.test\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\nConnection: close\r\n\r\n`))
    assert.equal(r.out.status, 431)
    assert.equal(r.requests.length, 0)
  })

  test('H08 a token over 16 KiB: token-invalid, before any key lookup (no JWKS request)', async () => {
    const jwks = await T.startJwksServer({ keys: [key.jwk] })
    closers.push(() => jwks.close())
    const big = T.signJwt(key, T.sessionClaims({ pad: 'x'.repeat(17 * 1024) }))
    assert.ok(big.length > 16 * 1024)
    const err = await expectReason(verifyToken(big, { secretKey: T.unique('sk'), apiUrl: jwks.url }), 'token-invalid')
    assert.match(err.message, /longer than 16384 bytes/)
    await expectReason(verifyToken(big, { jwtKey: key.publicPem }), 'token-invalid')
    const state = await authenticateRequest(new Request('http://app.test/', { headers: { authorization: `Bearer ${big}` } }), {
      secretKey: T.unique('sk'),
      apiUrl: jwks.url,
    })
    assert.equal(state.isAuthenticated, false)
    assert.equal(state.reason, 'token-invalid')
    assert.equal(jwks.hits, 0)
  })
})

describe('hostile input: request targets', () => {
  test('H09 //evil.com after the proxy path: the upstream host stays FAPI; Express refuses a //host target (400)', async () => {
    const { out, requests } = await upstreamDuring(() => proxy({ url: `${APP}/__clerk//evil.com/steal?x=1` }))
    assert.equal(out.status, 200)
    assert.equal(requests.length, 1)
    assert.equal(requests[0].url, '//evil.com/steal?x=1')
    assert.equal(requests[0].headers.host, `127.0.0.1:${up.port}`)
    // A request URL that is itself protocol-relative or on another scheme is refused.
    for (const url of ['//evil.com/__clerk/v1', 'ftp://app.test/__clerk/v1', '/__clerk/v1', 'not a url']) {
      const r = await upstreamDuring(() => proxy({ url }))
      jsonError(r.out, 400, 'proxy_request_failed')
      assert.equal(r.requests.length, 0, url)
    }
    const app = await startExpress({ frontendApiProxy: { enabled: true } })
    const r = await upstreamDuring(() => raw(app.port, 'GET //evil.com/__clerk/v1 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n'))
    assert.equal(r.out.status, 400)
    assert.equal(JSON.parse(r.out.body).errors[0].message, 'Invalid request target')
    assert.equal(r.requests.length, 0)
  })

  test('H10 /__clerk/../admin and /__clerk/%2e%2e/admin: resolved before matching, not proxied', async () => {
    const targets = ['/__clerk/../admin', '/__clerk/%2e%2e/admin', '/__clerk/%2E%2e/admin', '/__clerk/.%2e/admin', '/__clerk/v1/../../admin', '/__clerk\\..\\admin']
    for (const t of targets) {
      const { out, requests } = await upstreamDuring(() => proxy({ url: `${APP}${t}` }))
      const message = jsonError(out, 400, 'proxy_path_mismatch')
      assert.doesNotMatch(message, /"\/__clerk\//, t)
      assert.equal(requests.length, 0, t)
    }
    const app = await startExpress({ frontendApiProxy: { enabled: true } })
    for (const t of targets.slice(0, 4)) {
      const r = await upstreamDuring(() => raw(app.port, `GET ${t} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`))
      assert.equal(r.out.status, 299, `${t} went to the app, not the proxy`)
      assert.equal(r.requests.length, 0, t)
    }
  })

  test('H11 percent-encoded dots and slashes that are not dot segments: proxied under the FAPI host, path kept', async () => {
    for (const [t, want] of [
      ['/__clerk/%2e%2e%2fadmin', '/%2e%2e%2fadmin'],
      ['/__clerk/v1/%2E%2E%5Cadmin', '/v1/%2E%2E%5Cadmin'],
      ['/__clerk/.../x', '/.../x'],
      ['/__clerk/..%2F../admin', '/..%2F../admin'],
    ]) {
      const { out, requests } = await upstreamDuring(() => proxy({ url: `${APP}${t}` }))
      assert.equal(out.status, 200, t)
      assert.equal(requests[0].url, want)
      assert.equal(requests[0].headers.host, `127.0.0.1:${up.port}`)
    }
  })

  test('H12 absolute-form, authority-form and * targets (raw socket to Express): 400 "Invalid request target"', async () => {
    const app = await startExpress({ frontendApiProxy: { enabled: true } })
    for (const line of [
      'GET http://evil.com/__clerk/v1/client HTTP/1.1',
      `GET http://127.0.0.1:${up.port}/__clerk/v1/client HTTP/1.1`,
      'OPTIONS * HTTP/1.1',
    ]) {
      const r = await upstreamDuring(() => raw(app.port, `${line}\r\nHost: app.test\r\nConnection: close\r\n\r\n`))
      assert.equal(r.out.status, 400, line)
      assert.equal(JSON.parse(r.out.body).errors[0].message, 'Invalid request target', line)
      assert.equal(r.requests.length, 0, line)
    }
    // A malformed Host header cannot smuggle a path or credentials into the request origin.
    for (const host of ['evil.com/x@y', 'a b', 'user@evil.com']) {
      const r = await upstreamDuring(() => raw(app.port, `GET /__clerk/v1/client HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`))
      assert.equal(r.out.status, 400, host)
      assert.equal(r.requests.length, 0, host)
    }
    // An invalid method token never reaches the upstream either (proxyRequest).
    const m = await upstreamDuring(() => proxy({ method: 'GE T' }))
    jsonError(m.out, 400, 'proxy_request_failed')
    assert.equal(m.requests.length, 0)
  })
})

describe('hostile input: Connection and forwarded headers', () => {
  test('H13 Connection listing clerk-secret-key, host, clerk-proxy-url (request): our values are still set', async () => {
    const { out, requests } = await upstreamDuring(() =>
      proxy({
        headers: [
          ['connection', 'clerk-secret-key, host, Clerk-Proxy-Url, accept-encoding, x-forwarded-host, x-custom-hop'],
          ['clerk-secret-key', 'sk_attacker'],
          ['host', 'evil.com'],
          ['clerk-proxy-url', 'https://evil.com/__clerk'],
          ['accept-encoding', 'gzip'],
          ['x-forwarded-host', 'evil.com'],
          ['x-custom-hop', '1'],
          ['x-kept', '1'],
        ],
      }),
    )
    assert.equal(out.status, 200)
    const rec = requests[0]
    assert.deepEqual(rec.header('clerk-secret-key'), [SK])
    assert.deepEqual(rec.header('host'), [`127.0.0.1:${up.port}`])
    assert.deepEqual(rec.header('clerk-proxy-url'), [`${APP}/__clerk`])
    assert.deepEqual(rec.header('accept-encoding'), ['identity'])
    assert.deepEqual(rec.header('x-forwarded-host'), ['app.test'], 'the Connection-listed client value is replaced by ours')
    assert.equal(rec.header('x-custom-hop').length, 0)
    assert.deepEqual(rec.header('x-kept'), ['1'])
    for (const v of rec.header('connection')) assert.doesNotMatch(v, /clerk|x-custom-hop/i)

    // The same through Express, with a real client connection.
    const app = await startExpress({ frontendApiProxy: { enabled: true } })
    const r = await upstreamDuring(() =>
      request(app.port, {
        path: '/__clerk/v1/client',
        headers: { connection: 'clerk-secret-key, host, x-custom-hop', 'clerk-secret-key': 'sk_attacker', 'x-custom-hop': '1' },
      }),
    )
    assert.equal(r.out.status, 200)
    assert.deepEqual(r.requests[0].header('clerk-secret-key'), [SK])
    assert.deepEqual(r.requests[0].header('host'), [`127.0.0.1:${up.port}`])
    assert.equal(r.requests[0].header('x-custom-hop').length, 0)
  })

  test('H14 Connection listing location (response): Location is dropped and not re-added by the rewrite', async () => {
    up.respond({
      status: 302,
      headers: [
        ['connection', 'Location, X-Up-Hop'],
        ['location', `${up.url}/v1/oauth/callback?code=1`],
        ['x-up-hop', '1'],
        ['x-up-kept', '1'],
      ],
      body: '',
    })
    try {
      const out = await proxy({})
      assert.equal(out.status, 302)
      assert.equal(out.headers.location, undefined)
      assert.equal(out.headers['x-up-hop'], undefined)
      assert.equal(out.headers['x-up-kept'], '1')
      const app = await startExpress({ frontendApiProxy: { enabled: true } })
      const r = await request(app.port, { path: '/__clerk/v1/client' })
      assert.equal(r.status, 302)
      assert.equal(r.headers.location, undefined)
      assert.equal(r.headers['x-up-hop'], undefined)
      // Control: without the Connection token the FAPI Location is rewritten to the proxy.
      up.respond({ status: 302, headers: { location: `${up.url}/v1/oauth/callback?code=1` }, body: '' })
      const c = await proxy({})
      assert.equal(c.headers.location, `${APP}/__clerk/v1/oauth/callback?code=1`)
    } finally {
      up.respond(null)
    }
  })

  test('H15 spoofed X-Forwarded-*, Forwarded, CF-Connecting-IP, X-Real-IP with trustForwardedHeaders: false: ignored', async () => {
    const spoofed = [
      ['x-forwarded-host', 'evil.com'],
      ['x-forwarded-proto', 'https'],
      ['x-forwarded-for', '6.6.6.6'],
      ['x-real-ip', '6.6.6.7'],
      ['cf-connecting-ip', '6.6.6.8'],
      ['forwarded', 'for=6.6.6.9;host=evil.com;proto=https'],
    ]
    up.respond({ status: 302, headers: { location: `${up.url}/v1/x` }, body: '' })
    try {
      const out = await upstreamDuring(() => proxy({ headers: spoofed, remoteAddress: '10.1.2.3' }, { trustForwardedHeaders: false }))
      const rec = out.requests[0]
      assert.deepEqual(rec.header('x-forwarded-host'), ['app.test'])
      assert.deepEqual(rec.header('x-forwarded-proto'), ['http'])
      assert.deepEqual(rec.header('x-forwarded-for'), ['10.1.2.3'])
      assert.deepEqual(rec.header('clerk-proxy-url'), [`${APP}/__clerk`])
      for (const h of ['x-real-ip', 'cf-connecting-ip', 'forwarded']) assert.equal(rec.header(h).length, 0, h)
      assert.equal(out.out.headers.location, `${APP}/__clerk/v1/x`, 'the Location rewrite uses the request origin')
      // Through Express: the socket peer, never the spoofed chain.
      const app = await startExpress({ frontendApiProxy: { enabled: true }, trustForwardedHeaders: false })
      const r = await upstreamDuring(() => request(app.port, { path: '/__clerk/v1/client', headers: Object.fromEntries(spoofed) }))
      const e = r.requests[0]
      assert.deepEqual(e.header('x-forwarded-for'), ['127.0.0.1'])
      assert.deepEqual(e.header('x-forwarded-host'), [`127.0.0.1:${app.port}`])
      assert.deepEqual(e.header('clerk-proxy-url'), [`http://127.0.0.1:${app.port}/__clerk`])
      for (const h of ['x-real-ip', 'cf-connecting-ip', 'forwarded']) assert.equal(e.header(h).length, 0, h)
      assert.equal(r.out.headers.location, `http://127.0.0.1:${app.port}/__clerk/v1/x`)
      // Default (trusted, Clerk's behaviour): well-formed values are used, malformed ones never.
      const t = await upstreamDuring(() =>
        proxy({ headers: [['x-forwarded-host', 'evil.com/path@x'], ['x-forwarded-proto', 'https']] }),
      )
      assert.deepEqual(t.requests[0].header('clerk-proxy-url'), [`${APP}/__clerk`])
    } finally {
      up.respond(null)
    }
  })
})

describe('hostile input: tokens', () => {
  let jwks
  before(async () => {
    jwks = await T.startJwksServer({ keys: [key.jwk] })
    closers.push(() => jwks.close())
  })

  test('H16 alg: none (with jwtKey and with remote JWKS): token-invalid-algorithm', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      const token = T.encodeJwt({ alg, typ: 'JWT', kid: key.kid }, T.sessionClaims(), '')
      await expectReason(verifyToken(token, { jwtKey: key.publicPem }), 'token-invalid-algorithm')
      await expectReason(verifyToken(token, { secretKey: T.unique('sk'), apiUrl: jwks.url }), 'token-invalid-algorithm')
    }
  })

  test('H17 HS256 signed with the public key (PEM and JWK n) as the HMAC secret: token-invalid-algorithm', async () => {
    for (const secret of [key.publicPem, key.pkcs1Pem, key.jwk.n, JSON.stringify(key.jwk)]) {
      const token = T.hs256Jwt(secret, { kid: key.kid }, T.sessionClaims())
      await expectReason(verifyToken(token, { jwtKey: key.publicPem }), 'token-invalid-algorithm')
      await expectReason(verifyToken(token, { secretKey: T.unique('sk'), apiUrl: jwks.url }), 'token-invalid-algorithm')
    }
  })

  test('H18 unknown crit header: ignored as Clerk does (only a token signed by the instance key can carry it)', async () => {
    const claims = T.sessionClaims({ sub: 'user_crit' })
    const signed = T.signJwt(key, claims, { header: { crit: ['urn:example:unknown'], 'urn:example:unknown': true } })
    assert.equal((await verifyToken(signed, { jwtKey: key.publicPem })).sub, 'user_crit')
    // crit never rescues a forgery: the signature is still checked with the instance key.
    const forged = T.signJwt(attacker, claims, { header: { kid: key.kid, crit: ['b64'], b64: false } })
    await expectReason(verifyToken(forged, { jwtKey: key.publicPem }), 'token-invalid-signature')
  })

  test('H19 kid path tricks: the JWKS request path never depends on kid', async () => {
    const kids = ['../../etc/passwd', '..%2f..%2fetc%2fpasswd', 'x'.repeat(8000), 'a\u0000b', 'https://evil.com/jwks', '?x=1#y', '\r\nX-Injected: 1']
    const sk = T.unique('sk')
    const before = jwks.hits
    for (const kid of kids) {
      const token = T.signJwt(key, T.sessionClaims(), { header: { kid } })
      await expectReason(verifyToken(token, { secretKey: sk, apiUrl: jwks.url, jwksCooldownMs: 0 }), 'jwk-kid-mismatch')
    }
    const seen = jwks.requests.slice(before)
    assert.ok(seen.length >= 1, 'the JWKS endpoint was asked')
    for (const r of seen) {
      assert.equal(r.url, '/v1/jwks', 'request target')
      assert.equal(r.method, 'GET')
      assert.equal(r.headers['x-injected'], undefined)
    }
    // Clerk's kid-mismatch message quotes the kid: a CR/LF kid never becomes a response header line.
    const crlf = T.signJwt(key, T.sessionClaims(), { header: { kid: 'k\r\nX-Injected: 1' } })
    const state = await authenticateRequest(new Request('http://app.test/', { headers: { authorization: `Bearer ${crlf}` } }), {
      secretKey: sk,
      apiUrl: jwks.url,
      jwksCooldownMs: 0,
    })
    assert.equal(state.reason, 'jwk-kid-mismatch')
    assert.equal(state.headers.get('x-clerk-auth-status'), 'signed-out')
    for (const [, v] of state.headers) assert.doesNotMatch(v, /[\r\n]/)
  })

  test('H20 jku / x5u / jwk headers pointing at a recording server: never fetched (0 hits), never trusted', async () => {
    const recorder = await T.startJwksServer({ keys: [attacker.jwk] })
    closers.push(() => recorder.close())
    const header = { jku: `${recorder.url}/jwks.json`, x5u: `${recorder.url}/cert.pem`, jwk: attacker.jwk, x5c: ['MIIB'] }
    // Signed by the real key: verifies with the real key, the URLs are ignored.
    const real = T.signJwt(key, T.sessionClaims({ sub: 'user_jku' }), { header })
    assert.equal((await verifyToken(real, { jwtKey: key.publicPem })).sub, 'user_jku')
    assert.equal((await verifyToken(real, { secretKey: T.unique('sk'), apiUrl: jwks.url })).sub, 'user_jku')
    // Signed by the attacker's key that the recorder serves: rejected.
    const forged = T.signJwt(attacker, T.sessionClaims(), { header: { ...header, kid: key.kid } })
    await expectReason(verifyToken(forged, { jwtKey: key.publicPem }), 'token-invalid-signature')
    await expectReason(verifyToken(forged, { secretKey: T.unique('sk'), apiUrl: jwks.url }), 'token-invalid-signature')
    const forgedKid = T.signJwt(attacker, T.sessionClaims(), { header })
    await expectReason(verifyToken(forgedKid, { secretKey: T.unique('sk'), apiUrl: jwks.url }), 'jwk-kid-mismatch')
    assert.equal(recorder.hits, 0)
  })

  test('H25 a Backend API redirect to another origin: followed without the secret key (Authorization stripped)', async () => {
    const recorder = await T.startJwksServer({ keys: [key.jwk] })
    closers.push(() => recorder.close())
    const seen = []
    const redirector = http.createServer((req, res) => {
      seen.push(req.headers)
      res.writeHead(302, { location: `${recorder.url}/v1/jwks` })
      res.end()
    })
    await new Promise((r) => redirector.listen(0, '127.0.0.1', r))
    closers.push(() => new Promise((r) => { redirector.closeAllConnections(); redirector.close(() => r()) }))
    const secretKey = T.unique('sk_test_redirect')
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_redirect' }))
    const payload = await verifyToken(token, { secretKey, apiUrl: `http://127.0.0.1:${redirector.address().port}` })
    assert.equal(payload.sub, 'user_redirect')
    assert.equal(seen[0].authorization, `Bearer ${secretKey}`, 'the Backend API itself gets the key')
    assert.equal(recorder.hits, 1)
    assert.equal(recorder.requests[0].headers.authorization, undefined, 'the secret key followed a redirect to another origin')
  })

  test('H21 exp / nbf / iat at exactly the clock-skew boundary', async () => {
    // Claims are whole seconds; clockSkewInMs moves the boundary onto "now". Time only moves forward between
    // Date.now() here and the check in Rust, so the "on the boundary" side is deterministic; the other side
    // has 1 s of slack. (The exact millisecond boundary is covered with a manual clock in prop_token.rs.)
    const sign = (claims) => T.signJwt(key, { sub: 'user_time', jti: T.unique('jti'), ...claims })
    const verify = (claims, skew) => verifyToken(sign(claims), { jwtKey: key.publicPem, clockSkewInMs: skew })
    const exp = T.nowSec() - 100
    // expired when exp*1000 <= now - skew
    await expectReason(verify({ exp }, Date.now() - exp * 1000), 'token-expired')
    assert.equal((await verify({ exp }, Date.now() - exp * 1000 + 1000)).sub, 'user_time')
    // not active when nbf*1000 > now + skew
    const nbf = T.nowSec() + 100
    assert.equal((await verify({ exp: nbf + 3600, nbf }, nbf * 1000 - Date.now())).sub, 'user_time')
    await expectReason(verify({ exp: nbf + 3600, nbf }, nbf * 1000 - Date.now() - 1000), 'token-not-active-yet')
    // issued in the future when iat*1000 > now + skew
    const iat = T.nowSec() + 100
    assert.equal((await verify({ exp: iat + 3600, iat }, iat * 1000 - Date.now())).sub, 'user_time')
    await expectReason(verify({ exp: iat + 3600, iat }, iat * 1000 - Date.now() - 1000), 'token-iat-in-the-future')
  })
})

describe('hostile input: cache isolation', () => {
  test('H22 verified-token cache: two users\u2019 tokens, interleaved and repeated, each get their own payload', async () => {
    const a = T.signJwt(key, T.sessionClaims({ sub: 'user_a', sid: 'sess_a' }))
    const b = T.signJwt(key, T.sessionClaims({ sub: 'user_b', sid: undefined }))
    const opts = { jwtKey: key.publicPem }
    for (let i = 0; i < 5; i++) {
      const [pa, pb] = await Promise.all([verifyToken(a, opts), verifyToken(b, opts)])
      assert.equal(pa.sub, 'user_a')
      assert.equal(pb.sub, 'user_b')
      for (const [token, sub] of [
        [a, 'user_a'],
        [b, 'user_b'],
      ]) {
        const viaHeader = await authenticateRequest(new Request('http://app.test/', { headers: { authorization: `Bearer ${token}` } }), opts)
        assert.equal(viaHeader.toAuth().userId, sub)
        const viaCookie = await authenticateRequest(new Request('http://app.test/', { headers: { cookie: `__session=${token}; __client_uat=1` } }), opts)
        assert.equal(viaCookie.toAuth().userId, sub)
      }
    }
  })

  test('H23 identity cache (Express resolveUser): two sid-less users in one organization get their own users', async () => {
    const org = T.unique('org')
    const calls = []
    const app = await startExpress({ jwtKey: key.publicPem, organizationId: org, resolveUser: async (auth) => {
      calls.push(auth.userId)
      return { id: `db_${auth.userId}` }
    } }, (a) => a.get('/me', (req, res) => res.json({ userId: req.auth.userId, user: req.auth.user })))
    const tokenFor = (sub) => T.signJwt(key, { sub, org_id: org, iat: T.nowSec() - 5, exp: T.nowSec() + 60, jti: T.unique('jti') })
    for (let round = 0; round < 3; round++) {
      const [ra, rb] = await Promise.all([
        request(app.port, { path: '/me', headers: { authorization: `Bearer ${tokenFor('user_x')}` } }),
        request(app.port, { path: '/me', headers: { authorization: `Bearer ${tokenFor('user_y')}` } }),
      ])
      assert.deepEqual(JSON.parse(ra.body), { userId: 'user_x', user: { id: 'db_user_x' } })
      assert.deepEqual(JSON.parse(rb.body), { userId: 'user_y', user: { id: 'db_user_y' } })
    }
    assert.deepEqual(calls.sort(), ['user_x', 'user_y'], 'one resolveUser per user, then the cache answers')
    // A token of another organization is refused before any lookup.
    const other = T.signJwt(key, { sub: 'user_x', org_id: `${org}_other`, exp: T.nowSec() + 60 })
    const r = await request(app.port, { path: '/me', headers: { authorization: `Bearer ${other}` } })
    assert.equal(r.status, 403)
  })

  test('H24 identity cache: ids containing ":user:" never share a resolveUser result (concurrent misses)', async () => {
    // org "a" + user "b:user:c" and org "a:user:b" + user "c" have the same readable key text
    // "org:a:user:b:user:c"; the Rust cache keeps them apart (it keys on where the org id ends), and so must
    // the in-flight de-duplication of resolveUser calls.
    const tag = T.unique('t')
    const mk = (org, sub) => {
      const claims = { sub, org_id: org, exp: T.nowSec() + 60 }
      return { claimsJson: () => JSON.stringify(claims), toAuth: () => ({ userId: sub, orgId: org }) }
    }
    const A = mk(`${tag}`, 'b:user:c')
    const B = mk(`${tag}:user:b`, 'c')
    const resolveUser = async (auth) => {
      await new Promise((r) => setTimeout(r, 20))
      return { org: auth.orgId, user: auth.userId }
    }
    const [ua, ub] = await Promise.all([resolveIdentity(A, resolveUser), resolveIdentity(B, resolveUser)])
    assert.deepEqual(ua, { org: tag, user: 'b:user:c' })
    assert.deepEqual(ub, { org: `${tag}:user:b`, user: 'c' }, 'user B received user A\u2019s identity')
  })
})
