'use strict'
// The Frontend API proxy core against a REAL upstream (node:http on 127.0.0.1, see helpers/upstream.js): every
// line of SPEC §6 "fapiUrlFromPublishableKey", "matchProxyPath" and "clerkFrontendApiProxy" (Clerk's
// packages/backend/src/__tests__/proxy.test.ts @ e21ae9a4), then the GAPs of SPEC 1.14 / API.md §1.
//
// Clerk's tests look at a mocked fetch's URL (https://frontend-api.clerk.dev/...). We cannot reach FAPI, so the
// tests point `fapiUrl` (or CLERK_FAPI_URL) at the local upstream and assert what it actually received: the
// request target, the Host header and every other header as they arrived on the wire.

const { describe, it, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const http = require('node:http')
const { Readable } = require('node:stream')

const core = require('..')
const { clerkFrontendApiProxy, matchProxyPath, fapiUrlFromPublishableKey, proxyRequest, FrontendApiProxy, DEFAULT_PROXY_PATH } = core
const { startUpstream, withTimeout } = require('./helpers/upstream')
const { envKeys } = require('./helpers/env')

const PK = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k'
const SK = 'sk_test_xxx'
const T = { timeout: 20_000 }
const ENV_KEYS = ['CLERK_FAPI_URL', 'CLERK_PUBLISHABLE_KEY', 'CLERK_SECRET_KEY', 'NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY']
const env = envKeys(ENV_KEYS)

let up

before(async () => {
  env.save()
  up = await withTimeout(startUpstream(), 5000, 'start upstream')
})

after(async () => {
  env.restore()
  if (up) await withTimeout(up.close(), 5000, 'close upstream')
})

beforeEach(() => {
  // Clerk's fixture clears CLERK_FAPI_URL before each test; the keys too, so no test sees another's env.
  env.clear()
  up.requests.length = 0
  up.respond(null)
})

/** A URL on 127.0.0.1 where nothing listens (connection refused). */
async function closedPortUrl() {
  const s = http.createServer()
  await new Promise((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return `http://127.0.0.1:${port}`
}

/** clerkFrontendApiProxy with the fixture keys and the local upstream as FAPI, bounded. */
function proxy(url, init, options) {
  return withTimeout(
    clerkFrontendApiProxy(new Request(url, init), { publishableKey: PK, secretKey: SK, fapiUrl: up.url, ...options }),
    10_000,
    `proxy ${url}`,
  )
}

/** The one request the upstream received (asserts there was exactly one). */
function onlyRequest() {
  assert.equal(up.requests.length, 1, `upstream requests: ${up.requests.map((r) => r.method + ' ' + r.url).join(', ')}`)
  return up.requests[0]
}

/** Lets any (wrong) in-flight request reach the upstream before a test asserts that none did. */
async function assertNoUpstreamRequest() {
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(up.requests.length, 0, 'the upstream must not be contacted')
}

/** Asserts the JSON error format of SPEC 1.7 / API.md §6 and returns the error object. */
async function assertProxyError(res, status, code, message) {
  assert.equal(res.status, status)
  assert.equal(res.headers.get('content-type'), 'application/json')
  assert.equal(res.headers.get('cache-control'), 'no-store')
  const text = await withTimeout(res.text(), 5000, 'error body')
  const body = JSON.parse(text)
  assert.deepEqual(Object.keys(body), ['errors'])
  assert.equal(body.errors.length, 1)
  assert.deepEqual(Object.keys(body.errors[0]).sort(), ['code', 'message'])
  assert.equal(body.errors[0].code, code)
  if (message instanceof RegExp) assert.match(body.errors[0].message, message)
  else if (message !== undefined) assert.equal(body.errors[0].message, message)
  return { error: body.errors[0], text }
}

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex')

async function readAll(iterable, label = 'body') {
  const chunks = []
  await withTimeout(
    (async () => {
      for await (const c of iterable) chunks.push(Buffer.from(c))
    })(),
    15_000,
    label,
  )
  return Buffer.concat(chunks)
}

// ---------------------------------------------------------------------------------------------------------------

describe('fapiUrlFromPublishableKey (SPEC §6)', () => {
  const cases = [
    ['pk_live_Y2xlcmsuZXhhbXBsZS5jb20k', 'https://frontend-api.clerk.dev'],
    ['pk_test_bXlhcHAubGNsY2xlcmsuY29tJA==', 'https://frontend-api.lclclerk.com'],
    ['pk_test_Y2xlcmsuYWNjb3VudHNzdGFnZS5kZXYk', 'https://frontend-api.clerkstage.dev'],
    ['pk_test_Y2xlcmsuZXhhbXBsZS5sY2xjbGVyay5jb20k', 'https://frontend-api.clerk.dev'],
    ['invalid_key', 'https://frontend-api.clerk.dev'],
    // The other SPEC 1.4 vectors.
    ['pk_test_Zm9vLWJhci0xMy5jbGVyay5hY2NvdW50cy5kZXYk', 'https://frontend-api.clerk.dev'],
    ['pk_test_YXBwLmxjbHN0YWdlLmRldiQ=', 'https://frontend-api.lclclerk.com'],
    ['pk_test_Y2xlcmsuZXhhbXBsZS5sY2wuZGV2JA==', 'https://frontend-api.clerk.dev'],
  ]
  for (const [pk, expected] of cases) {
    it(`${pk} -> ${expected}`, () => {
      assert.equal(fapiUrlFromPublishableKey(pk), expected)
    })
  }
})

describe('matchProxyPath (SPEC §6)', () => {
  const cases = [
    ['https://example.com/__clerk/v1/client', undefined, true],
    ['https://example.com/api/users', undefined, false],
    ['https://example.com/custom-proxy/v1/client', '/custom-proxy', true],
    ['https://example.com/__clerk/v1/client', '/custom-proxy', false],
    ['https://example.com/__clerk', undefined, true],
    ['https://example.com/__clerk/', undefined, true],
    ['https://example.com/__clerk-admin/v1/client', undefined, false],
    ['https://example.com/__clerk/v1/client', '/__clerk/', true],
    // SPEC 1.6 details.
    ['https://example.com/__clerk?x=1', undefined, true],
    ['https://example.com/__CLERK/v1/client', undefined, false],
    ['https://example.com/__clerk/../admin', undefined, false],
    ['https://example.com/__clerk/%2e%2e/admin', undefined, false],
    // GAP 5: '/' and '' fall back to the default instead of matching everything.
    ['https://example.com/dashboard', '/', false],
    ['https://example.com/__clerk/v1/client', '/', true],
    ['https://example.com/dashboard', '', false],
  ]
  for (const [url, proxyPath, expected] of cases) {
    it(`${url} with proxyPath ${JSON.stringify(proxyPath)} -> ${expected}`, () => {
      const options = proxyPath === undefined ? undefined : { proxyPath }
      assert.equal(matchProxyPath(new Request(url), options), expected, 'Request')
      assert.equal(matchProxyPath(new URL(url), options), expected, 'URL')
      assert.equal(matchProxyPath(url, options), expected, 'string')
    })
  }
  it('DEFAULT_PROXY_PATH is /__clerk', () => {
    assert.equal(DEFAULT_PROXY_PATH, '/__clerk')
  })
  it('rejects a value that is not a Request, URL or string', () => {
    assert.throws(() => matchProxyPath(42), TypeError)
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('clerkFrontendApiProxy: configuration and path errors (SPEC §6)', () => {
  it('no publishableKey (sk only) -> 500 proxy_configuration_error naming publishableKey, Cache-Control no-store', T, async () => {
    const res = await withTimeout(clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/client'), { secretKey: SK, fapiUrl: up.url }))
    await assertProxyError(
      res,
      500,
      'proxy_configuration_error',
      'Missing publishableKey. Provide it in options or set CLERK_PUBLISHABLE_KEY environment variable.',
    )
    await assertNoUpstreamRequest()
  })

  it('no secretKey (pk only) -> 500 proxy_configuration_error naming secretKey', T, async () => {
    const res = await withTimeout(clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/client'), { publishableKey: PK, fapiUrl: up.url }))
    await assertProxyError(
      res,
      500,
      'proxy_configuration_error',
      'Missing secretKey. Provide it in options or set CLERK_SECRET_KEY environment variable.',
    )
    await assertNoUpstreamRequest()
  })

  it('/api/users with proxyPath /__clerk -> 400 proxy_path_mismatch', T, async () => {
    const res = await proxy('https://example.com/api/users', undefined, { proxyPath: '/__clerk' })
    await assertProxyError(res, 400, 'proxy_path_mismatch', 'Request path "/api/users" does not match proxy path "/__clerk"')
    await assertNoUpstreamRequest()
  })

  it('/__clerk-admin/v1/client -> 400 proxy_path_mismatch', T, async () => {
    const res = await proxy('https://example.com/__clerk-admin/v1/client')
    await assertProxyError(res, 400, 'proxy_path_mismatch', 'Request path "/__clerk-admin/v1/client" does not match proxy path "/__clerk"')
    await assertNoUpstreamRequest()
  })

  it('keys are checked before the path: a wrong path without keys is still a 500', T, async () => {
    const res = await withTimeout(clerkFrontendApiProxy(new Request('https://example.com/api/users'), { fapiUrl: up.url }))
    await assertProxyError(res, 500, 'proxy_configuration_error', /publishableKey/)
    await assertNoUpstreamRequest()
  })

  const badFapiUrls = [
    ['ftp://frontend-api.clerk.dev', 'FAPI URL must use http or https'],
    ['https://user:password@frontend-api.clerk.dev', 'FAPI URL must not include credentials, a query string, or a hash'],
    ['https://frontend-api.clerk.dev?env=staging', 'FAPI URL must not include credentials, a query string, or a hash'],
    ['https://frontend-api.clerk.dev#staging', 'FAPI URL must not include credentials, a query string, or a hash'],
  ]
  for (const [fapiUrl, message] of badFapiUrls) {
    it(`fapiUrl ${fapiUrl} -> 500 "${message}", no upstream request`, T, async () => {
      const res = await proxy('https://example.com/__clerk/v1/client', undefined, { fapiUrl })
      await assertProxyError(res, 500, 'proxy_configuration_error', message)
      await assertNoUpstreamRequest()
    })
  }

  it('the invalid-URL checks also hold for a local URL that would otherwise reach the upstream', T, async () => {
    for (const fapiUrl of [`${up.url}?env=staging`, `${up.url}/#x`, `http://u:p@127.0.0.1:${up.port}`]) {
      const res = await proxy('https://example.com/__clerk/v1/client', undefined, { fapiUrl })
      await assertProxyError(res, 500, 'proxy_configuration_error', 'FAPI URL must not include credentials, a query string, or a hash')
    }
    await assertNoUpstreamRequest()
  })

  it("env CLERK_FAPI_URL='not-a-url' -> 500 proxy_configuration_error 'Invalid URL', no upstream request", T, async () => {
    process.env.CLERK_FAPI_URL = 'not-a-url'
    const res = await withTimeout(clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/client'), { publishableKey: PK, secretKey: SK }))
    await assertProxyError(res, 500, 'proxy_configuration_error', /Invalid URL/)
    await assertNoUpstreamRequest()
  })

  it('option fapiUrl "not-a-url" -> 500 containing Invalid URL', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client', undefined, { fapiUrl: 'not-a-url' })
    await assertProxyError(res, 500, 'proxy_configuration_error', /Invalid URL/)
    await assertNoUpstreamRequest()
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('clerkFrontendApiProxy: URL, host and FAPI base (SPEC §6)', () => {
  it('/__clerk//evil.com/steal: the upstream gets path //evil.com/steal and the host never changes', T, async () => {
    const res = await proxy('https://example.com/__clerk//evil.com/steal')
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.url, '//evil.com/steal')
    assert.equal(rec.headers.host, `127.0.0.1:${up.port}`)
    assert.equal(rec.req.socket.localPort, up.port)
  })

  it('GET /__clerk/v1/client with User-Agent: one upstream request, /v1/client, Clerk-Proxy-Url, Clerk-Secret-Key, Host; 200', T, async () => {
    up.respond({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"response":"client"}' })
    const res = await proxy('https://example.com/__clerk/v1/client', { headers: { 'User-Agent': 'Mozilla/5.0 Test' } })
    assert.equal(res.status, 200)
    assert.equal(await withTimeout(res.text()), '{"response":"client"}')
    assert.equal(res.headers.get('content-type'), 'application/json')
    const rec = onlyRequest()
    assert.equal(rec.method, 'GET')
    assert.equal(rec.url, '/v1/client')
    assert.equal(rec.headers['clerk-proxy-url'], 'https://example.com/__clerk')
    assert.equal(rec.headers['clerk-secret-key'], SK)
    assert.equal(rec.headers.host, `127.0.0.1:${up.port}`)
    assert.equal(rec.headers['user-agent'], 'Mozilla/5.0 Test')
    assert.deepEqual(rec.header('host'), [`127.0.0.1:${up.port}`], 'exactly one Host header')
    assert.deepEqual(rec.header('clerk-secret-key'), [SK], 'exactly one Clerk-Secret-Key header')
  })

  it('/__clerk and /__clerk/ both target /', T, async () => {
    for (const path of ['/__clerk', '/__clerk/']) {
      up.requests.length = 0
      const res = await proxy(`https://example.com${path}`)
      assert.equal(res.status, 200)
      await res.arrayBuffer()
      assert.equal(onlyRequest().url, '/')
    }
  })

  it('option fapiUrl beats env CLERK_FAPI_URL (env points at a closed port)', T, async () => {
    process.env.CLERK_FAPI_URL = await closedPortUrl()
    const res = await proxy('https://example.com/__clerk/v1/client', undefined, { fapiUrl: `${up.url}/` })
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.url, '/v1/client')
    assert.equal(rec.headers.host, `127.0.0.1:${up.port}`)
  })

  it('only env CLERK_FAPI_URL (pointing at the upstream) -> used', T, async () => {
    process.env.CLERK_FAPI_URL = up.url
    const res = await withTimeout(clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/client'), { publishableKey: PK, secretKey: SK }))
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.url, '/v1/client')
    assert.equal(rec.headers.host, `127.0.0.1:${up.port}`)
  })

  it('only env CLERK_FAPI_URL pointing at a closed port -> 502 (the env is really what is used)', T, async () => {
    process.env.CLERK_FAPI_URL = await closedPortUrl()
    const res = await withTimeout(clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/client'), { publishableKey: PK, secretKey: SK }))
    await assertProxyError(res, 502, 'proxy_request_failed', /^Failed to proxy request to Clerk FAPI: /)
    await assertNoUpstreamRequest()
  })

  it('an empty fapiUrl option counts as unset: env CLERK_FAPI_URL applies', T, async () => {
    process.env.CLERK_FAPI_URL = up.url
    const res = await proxy('https://example.com/__clerk/v1/client', undefined, { fapiUrl: '' })
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(onlyRequest().url, '/v1/client')
  })

  it('keys from env CLERK_PUBLISHABLE_KEY / CLERK_SECRET_KEY', T, async () => {
    process.env.CLERK_PUBLISHABLE_KEY = PK
    process.env.CLERK_SECRET_KEY = 'sk_test_from_env'
    const res = await withTimeout(clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/client'), { fapiUrl: up.url }))
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(onlyRequest().headers['clerk-secret-key'], 'sk_test_from_env')
  })

  it('the core does not read NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY (only the Next flavour does)', T, async () => {
    process.env.NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY = PK
    const res = await withTimeout(clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/client'), { secretKey: SK, fapiUrl: up.url }))
    await assertProxyError(res, 500, 'proxy_configuration_error', /publishableKey/)
    await assertNoUpstreamRequest()
  })

  it('a fapiUrl path prefix is kept: <base>/base/ + /v1/x -> /base/v1/x', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/x?a=1', undefined, { fapiUrl: `${up.url}/base/` })
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(onlyRequest().url, '/base/v1/x?a=1')
  })

  it('/__clerk/v1/client?_clerk_js_version=5.0.0 keeps the query; the query is byte-for-byte, no fragment', T, async () => {
    let res = await proxy('https://example.com/__clerk/v1/client?_clerk_js_version=5.0.0')
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(onlyRequest().url, '/v1/client?_clerk_js_version=5.0.0')
    assert.match(onlyRequest().url, /_clerk_js_version=5\.0\.0/)

    up.requests.length = 0
    res = await proxy('https://example.com/__clerk/v1/client?b=2&a=%20x&&c#frag')
    await res.arrayBuffer()
    assert.equal(onlyRequest().url, '/v1/client?b=2&a=%20x&&c')
  })

  it('custom proxyPath /custom-clerk: /custom-clerk/v1/client -> /v1/client, Clerk-Proxy-Url https://example.com/custom-clerk', T, async () => {
    const res = await proxy('https://example.com/custom-clerk/v1/client', undefined, { proxyPath: '/custom-clerk' })
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.url, '/v1/client')
    assert.equal(rec.headers['clerk-proxy-url'], 'https://example.com/custom-clerk')
  })

  it("proxyPath '/' falls back to /__clerk (GAP 5): /__clerk/v1/client proxied, /dashboard -> 400", T, async () => {
    let res = await proxy('https://example.com/__clerk/v1/client', undefined, { proxyPath: '/' })
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(onlyRequest().url, '/v1/client')
    assert.equal(onlyRequest().headers['clerk-proxy-url'], 'https://example.com/__clerk')

    up.requests.length = 0
    res = await proxy('https://example.com/dashboard', undefined, { proxyPath: '/' })
    await assertProxyError(res, 400, 'proxy_path_mismatch', 'Request path "/dashboard" does not match proxy path "/__clerk"')
    res = await proxy('https://example.com/dashboard', undefined, { proxyPath: '' })
    await assertProxyError(res, 400, 'proxy_path_mismatch', 'Request path "/dashboard" does not match proxy path "/__clerk"')
    await assertNoUpstreamRequest()
  })

  it('dot segments are collapsed before matching: /__clerk/%2e%2e/admin -> 400 for /admin', T, async () => {
    const res = await proxy('https://example.com/__clerk/%2e%2e/admin')
    await assertProxyError(res, 400, 'proxy_path_mismatch', 'Request path "/admin" does not match proxy path "/__clerk"')
    await assertNoUpstreamRequest()
  })

  it("fapiUrl 'http://localhost:<port>/' -> /v1/client with Host localhost:<port>", T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client', undefined, { fapiUrl: `http://localhost:${up.port}/` })
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.url, '/v1/client')
    assert.equal(rec.headers.host, `localhost:${up.port}`)
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('clerkFrontendApiProxy: methods and bodies (SPEC §6)', () => {
  it('POST /__clerk/v1/sign_ups with a JSON body -> POST /v1/sign_ups with the body, 200', T, async () => {
    const json = JSON.stringify({ email_address: 'a@example.com' })
    up.respond({ status: 200, body: '{"object":"sign_up"}' })
    const res = await proxy('https://example.com/__clerk/v1/sign_ups', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: json,
    })
    assert.equal(res.status, 200)
    assert.equal(await withTimeout(res.text()), '{"object":"sign_up"}')
    const rec = onlyRequest()
    assert.equal(rec.method, 'POST')
    assert.equal(rec.url, '/v1/sign_ups')
    assert.equal(rec.headers['content-type'], 'application/json')
    assert.equal(rec.body.toString(), json)
  })

  it('DELETE /__clerk/v1/resource with a JSON body -> DELETE arrives with its body, 200', T, async () => {
    const json = JSON.stringify({ id: 'res_123' })
    const res = await proxy('https://example.com/__clerk/v1/resource', {
      method: 'DELETE',
      headers: { 'Content-Type': 'application/json' },
      body: json,
    })
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.method, 'DELETE')
    assert.equal(rec.url, '/v1/resource')
    assert.equal(rec.body.toString(), json)
  })

  it('PUT, PATCH, HEAD and OPTIONS pass through with their method', T, async () => {
    for (const method of ['PUT', 'PATCH', 'OPTIONS', 'HEAD']) {
      up.requests.length = 0
      const init = method === 'PUT' || method === 'PATCH' ? { method, body: `${method} body` } : { method }
      const res = await proxy('https://example.com/__clerk/v1/x', init)
      assert.equal(res.status, 200, method)
      await res.arrayBuffer()
      const rec = onlyRequest()
      assert.equal(rec.method, method)
      assert.equal(rec.body.toString(), init.body || '')
    }
  })

  it('GET without a body sends neither a body nor Transfer-Encoding/Content-Length', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client')
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.body.length, 0)
    assert.equal(rec.headers['transfer-encoding'], undefined)
    assert.equal(rec.headers['content-length'], undefined)
  })

  it('redirect: manual -> a 302 comes back to the caller and is not followed', T, async () => {
    up.respond((rec) => (rec.url === '/v1/redirect' ? { status: 302, headers: { location: '/v1/elsewhere' } } : { status: 200 }))
    const res = await proxy('https://example.com/__clerk/v1/redirect')
    assert.equal(res.status, 302)
    await res.arrayBuffer()
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(onlyRequest().url, '/v1/redirect')
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('clerkFrontendApiProxy: request headers (SPEC §6, 1.9)', () => {
  it('X-Forwarded-For: 192.168.1.1 -> upstream X-Forwarded-For 192.168.1.1', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client', { headers: { 'X-Forwarded-For': '192.168.1.1' } })
    await res.arrayBuffer()
    assert.equal(onlyRequest().headers['x-forwarded-for'], '192.168.1.1')
  })

  it('CF-Connecting-IP 10.0.0.1 beats X-Forwarded-For 192.168.1.1', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client', {
      headers: { 'CF-Connecting-IP': '10.0.0.1', 'X-Forwarded-For': '192.168.1.1' },
    })
    await res.arrayBuffer()
    assert.deepEqual(onlyRequest().header('x-forwarded-for'), ['10.0.0.1'])
  })

  it('X-Real-IP beats X-Forwarded-For; an XFF chain collapses to its first element; no IP header -> no XFF', T, async () => {
    let res = await proxy('https://example.com/__clerk/v1/client', {
      headers: { 'X-Real-IP': '172.16.0.9', 'X-Forwarded-For': '192.168.1.1' },
    })
    await res.arrayBuffer()
    assert.equal(onlyRequest().headers['x-forwarded-for'], '172.16.0.9')

    up.requests.length = 0
    res = await proxy('https://example.com/__clerk/v1/client', { headers: { 'X-Forwarded-For': ' 203.0.113.5 , 10.0.0.2, 10.0.0.3' } })
    await res.arrayBuffer()
    assert.equal(onlyRequest().headers['x-forwarded-for'], '203.0.113.5')

    up.requests.length = 0
    res = await proxy('https://example.com/__clerk/v1/client')
    await res.arrayBuffer()
    assert.equal(onlyRequest().headers['x-forwarded-for'], undefined)
  })

  it('Connection: keep-alive, Keep-Alive, Transfer-Encoding: chunked are stripped; User-Agent kept', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client', {
      headers: { Connection: 'keep-alive', 'Keep-Alive': 'timeout=5', 'Transfer-Encoding': 'chunked', 'User-Agent': 'Test' },
    })
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.headers.connection, undefined)
    assert.equal(rec.headers['keep-alive'], undefined)
    assert.equal(rec.headers['transfer-encoding'], undefined)
    assert.equal(rec.headers['user-agent'], 'Test')
  })

  it('Connection: keep-alive, X-Custom-Hop strips X-Custom-Hop too; User-Agent kept', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client', {
      headers: { Connection: 'keep-alive, X-Custom-Hop', 'X-Custom-Hop': 'some-value', 'User-Agent': 'Test' },
    })
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.headers.connection, undefined)
    assert.equal(rec.headers['x-custom-hop'], undefined)
    assert.equal(rec.headers['user-agent'], 'Test')
  })

  it('the rest of the static hop-by-hop set (TE, Trailer, Upgrade, Proxy-Authorization) is stripped', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client', {
      headers: { TE: 'trailers', Trailer: 'X-T', Upgrade: 'websocket', 'Proxy-Authorization': 'Basic eDp5', 'X-Kept': 'yes' },
    })
    await res.arrayBuffer()
    const rec = onlyRequest()
    for (const name of ['te', 'trailer', 'upgrade', 'proxy-authorization']) assert.equal(rec.headers[name], undefined, name)
    assert.equal(rec.headers['x-kept'], 'yes')
  })

  it('Accept-Encoding: gzip, deflate, br -> upstream Accept-Encoding identity (only)', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client', { headers: { 'Accept-Encoding': 'gzip, deflate, br' } })
    await res.arrayBuffer()
    assert.deepEqual(onlyRequest().header('accept-encoding'), ['identity'])
  })

  it('Cookie, Authorization, Origin, Accept and other headers are forwarded unchanged; client Host is replaced', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client', {
      headers: {
        Cookie: '__client_uat=1; __session=abc',
        Authorization: 'Bearer tok',
        Origin: 'https://example.com',
        Accept: 'application/json',
        'X-Custom': 'v1',
        Host: 'evil.example',
      },
    })
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.headers.cookie, '__client_uat=1; __session=abc')
    assert.equal(rec.headers.authorization, 'Bearer tok')
    assert.equal(rec.headers.origin, 'https://example.com')
    assert.equal(rec.headers.accept, 'application/json')
    assert.equal(rec.headers['x-custom'], 'v1')
    assert.deepEqual(rec.header('host'), [`127.0.0.1:${up.port}`])
  })

  it('client-supplied Clerk-Proxy-Url and Clerk-Secret-Key are overwritten', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client', {
      headers: { 'Clerk-Proxy-Url': 'https://attacker.example/__clerk', 'Clerk-Secret-Key': 'sk_attacker' },
    })
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.deepEqual(rec.header('clerk-proxy-url'), ['https://example.com/__clerk'])
    assert.deepEqual(rec.header('clerk-secret-key'), [SK])
  })

  it('plain https://example.com -> upstream X-Forwarded-Host example.com, X-Forwarded-Proto https', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client')
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.headers['x-forwarded-host'], 'example.com')
    assert.equal(rec.headers['x-forwarded-proto'], 'https')
  })

  it('X-Forwarded-Host keeps a non-default port of the request URL', T, async () => {
    const res = await proxy('http://localhost:3000/__clerk/v1/client')
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.headers['x-forwarded-host'], 'localhost:3000')
    assert.equal(rec.headers['x-forwarded-proto'], 'http')
    assert.equal(rec.headers['clerk-proxy-url'], 'http://localhost:3000/__clerk')
  })

  it('https://internal-server.local with XFH myapp.example.com and XFP https -> both preserved', T, async () => {
    const res = await proxy('https://internal-server.local/__clerk/v1/client', {
      headers: { 'X-Forwarded-Host': 'myapp.example.com', 'X-Forwarded-Proto': 'https' },
    })
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.deepEqual(rec.header('x-forwarded-host'), ['myapp.example.com'])
    assert.deepEqual(rec.header('x-forwarded-proto'), ['https'])
  })

  it('http://localhost:3000 with XFH myapp.example.com and XFP https -> Clerk-Proxy-Url https://myapp.example.com/__clerk', T, async () => {
    const res = await proxy('http://localhost:3000/__clerk/v1/client', {
      headers: { 'X-Forwarded-Host': 'myapp.example.com', 'X-Forwarded-Proto': 'https' },
    })
    await res.arrayBuffer()
    assert.equal(onlyRequest().headers['clerk-proxy-url'], 'https://myapp.example.com/__clerk')
  })

  it('no forwarded headers -> Clerk-Proxy-Url https://example.com/__clerk', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client')
    await res.arrayBuffer()
    assert.equal(onlyRequest().headers['clerk-proxy-url'], 'https://example.com/__clerk')
  })

  it('the public origin uses the first, trimmed element of XFP/XFH; the XFH sent upstream is not split', T, async () => {
    const res = await proxy('http://localhost:3000/__clerk/v1/client', {
      headers: { 'X-Forwarded-Host': ' a.example.com , b.example.com', 'X-Forwarded-Proto': 'https, http' },
    })
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.headers['clerk-proxy-url'], 'https://a.example.com/__clerk')
    assert.equal(rec.headers['x-forwarded-host'], 'a.example.com , b.example.com')
  })

  it('one forwarded header alone is ignored for Clerk-Proxy-Url (both are required)', T, async () => {
    let res = await proxy('http://localhost:3000/__clerk/v1/client', { headers: { 'X-Forwarded-Host': 'myapp.example.com' } })
    await res.arrayBuffer()
    assert.equal(onlyRequest().headers['clerk-proxy-url'], 'http://localhost:3000/__clerk')
    assert.equal(onlyRequest().headers['x-forwarded-proto'], 'http', 'XFP filled from the request URL')

    up.requests.length = 0
    res = await proxy('http://localhost:3000/__clerk/v1/client', { headers: { 'X-Forwarded-Proto': 'https' } })
    await res.arrayBuffer()
    assert.equal(onlyRequest().headers['clerk-proxy-url'], 'http://localhost:3000/__clerk')
    assert.equal(onlyRequest().headers['x-forwarded-host'], 'localhost:3000', 'XFH filled from the request URL')
  })

  it('GAP 2 hardening: a malformed XFH or an XFP other than http/https is not used for Clerk-Proxy-Url', T, async () => {
    const bad = [
      { 'X-Forwarded-Host': 'evil.example/path', 'X-Forwarded-Proto': 'https' },
      { 'X-Forwarded-Host': 'user@evil.example', 'X-Forwarded-Proto': 'https' },
      { 'X-Forwarded-Host': 'myapp.example.com', 'X-Forwarded-Proto': 'javascript' },
    ]
    for (const headers of bad) {
      up.requests.length = 0
      const res = await proxy('https://example.com/__clerk/v1/client', { headers })
      await res.arrayBuffer()
      assert.equal(onlyRequest().headers['clerk-proxy-url'], 'https://example.com/__clerk', JSON.stringify(headers))
    }
  })

  it('trustForwardedHeaders: false ignores spoofed XFF/XFH/XFP/CF-Connecting-IP/X-Real-IP and uses the request URL', T, async () => {
    up.respond({ status: 302, headers: { location: `${up.url}/v1/oauth/callback?code=1` } })
    const res = await proxy(
      'https://example.com/__clerk/v1/client',
      {
        headers: {
          'X-Forwarded-For': '6.6.6.6',
          'X-Forwarded-Host': 'evil.example',
          'X-Forwarded-Proto': 'http',
          'CF-Connecting-IP': '7.7.7.7',
          'X-Real-IP': '8.8.8.8',
          'User-Agent': 'kept',
        },
      },
      { trustForwardedHeaders: false },
    )
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), 'https://example.com/__clerk/v1/oauth/callback?code=1')
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.headers['clerk-proxy-url'], 'https://example.com/__clerk')
    assert.deepEqual(rec.header('x-forwarded-host'), ['example.com'])
    assert.deepEqual(rec.header('x-forwarded-proto'), ['https'])
    assert.equal(rec.headers['x-forwarded-for'], undefined, 'a Web Request has no peer address')
    assert.equal(rec.headers['cf-connecting-ip'], undefined)
    assert.equal(rec.headers['x-real-ip'], undefined)
    assert.equal(rec.headers['user-agent'], 'kept')
  })

  it('the same spoofed headers ARE used by default (trustForwardedHeaders defaults to true, Clerk parity)', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client', {
      headers: { 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'http' },
    })
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.headers['clerk-proxy-url'], 'http://evil.example/__clerk')
    assert.equal(rec.headers['x-forwarded-for'], '6.6.6.6')
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('clerkFrontendApiProxy: responses (SPEC §6, 1.11)', () => {
  it('upstream 401 "Unauthorized" -> 401 passed through with its body (not wrapped)', T, async () => {
    up.respond({ status: 401, headers: { 'content-type': 'text/plain' }, body: 'Unauthorized' })
    const res = await proxy('https://example.com/__clerk/v1/client')
    assert.equal(res.status, 401)
    assert.equal(await withTimeout(res.text()), 'Unauthorized')
    assert.equal(res.headers.get('content-type'), 'text/plain')
  })

  it('upstream 503 with a statusText is passed through unchanged', T, async () => {
    up.respond({ status: 503, statusText: 'Down For Maintenance', body: 'later' })
    const res = await proxy('https://example.com/__clerk/v1/client')
    assert.equal(res.status, 503)
    assert.equal(res.statusText, 'Down For Maintenance')
    assert.equal(await withTimeout(res.text()), 'later')
  })

  it('a successful response gets no Cache-Control, CORS or Vary header added', T, async () => {
    up.respond({ status: 200, headers: { 'content-type': 'application/json' }, body: '{}' })
    const res = await proxy('https://example.com/__clerk/v1/client', { headers: { Origin: 'https://example.com' } })
    await res.arrayBuffer()
    assert.equal(res.headers.get('cache-control'), null)
    assert.equal(res.headers.get('access-control-allow-origin'), null)
    assert.equal(res.headers.get('vary'), null)
  })

  it('3 Set-Cookie headers -> getSetCookie() returns all 3', T, async () => {
    const cookies = [
      '__client=abc123; Path=/; HttpOnly; Secure',
      '__client_uat=1234567890; Path=/; Secure',
      '__session=xyz789; Path=/; HttpOnly; Secure',
    ]
    up.respond({ status: 200, headers: cookies.map((c) => ['set-cookie', c]), body: '{}' })
    const res = await proxy('https://example.com/__clerk/v1/client')
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.deepEqual(res.headers.getSetCookie(), cookies)
  })

  it('upstream 302 to the FAPI host with XFH/XFP -> Location https://myapp.example.com/__clerk/v1/oauth/callback?code=123', T, async () => {
    up.respond({ status: 302, headers: { location: `${up.url}/v1/oauth/callback?code=123` } })
    const res = await proxy('http://localhost:3000/__clerk/v1/oauth/authorize', {
      headers: { 'X-Forwarded-Host': 'myapp.example.com', 'X-Forwarded-Proto': 'https' },
    })
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), 'https://myapp.example.com/__clerk/v1/oauth/callback?code=123')
    await res.arrayBuffer()
  })

  it('same 302, request https://example.com -> Location https://example.com/__clerk/v1/oauth/callback?code=123', T, async () => {
    up.respond({ status: 302, headers: { location: `${up.url}/v1/oauth/callback?code=123` } })
    const res = await proxy('https://example.com/__clerk/v1/oauth/authorize')
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), 'https://example.com/__clerk/v1/oauth/callback?code=123')
    await res.arrayBuffer()
  })

  it("fapiUrl 'http://localhost:<port>' and Location http://localhost:<port>/v1/oauth/callback?code=123 -> rewritten", T, async () => {
    up.respond({ status: 302, headers: { location: `http://localhost:${up.port}/v1/oauth/callback?code=123` } })
    const res = await proxy('https://example.com/__clerk/v1/oauth/authorize', undefined, { fapiUrl: `http://localhost:${up.port}` })
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), 'https://example.com/__clerk/v1/oauth/callback?code=123')
    await res.arrayBuffer()
  })

  it('external Location https://accounts.google.com/oauth/authorize -> unchanged, 302', T, async () => {
    up.respond({ status: 302, headers: { location: 'https://accounts.google.com/oauth/authorize?client_id=x' } })
    const res = await proxy('https://example.com/__clerk/v1/oauth/authorize')
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), 'https://accounts.google.com/oauth/authorize?client_id=x')
    await res.arrayBuffer()
  })

  it('a Location on the real FAPI host is external when fapiUrl is another host -> unchanged', T, async () => {
    up.respond({ status: 302, headers: { location: 'https://frontend-api.clerk.dev/v1/client' } })
    const res = await proxy('https://example.com/__clerk/v1/oauth/authorize')
    assert.equal(res.headers.get('location'), 'https://frontend-api.clerk.dev/v1/client')
    await res.arrayBuffer()
  })

  it('relative Location /v1/client -> https://example.com/__clerk/v1/client', T, async () => {
    up.respond({ status: 302, headers: { location: '/v1/client' } })
    const res = await proxy('https://example.com/__clerk/v1/oauth/authorize')
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), 'https://example.com/__clerk/v1/client')
    await res.arrayBuffer()
  })

  it('Location rewriting keeps search and hash, ignores the scheme, and applies to any status', T, async () => {
    up.respond((rec) => {
      if (rec.url === '/v1/a') return { status: 302, headers: { location: '/v1/x?a=1&b=2#frag' } }
      if (rec.url === '/v1/b') return { status: 307, headers: { location: `https://127.0.0.1:${up.port}/v1/y` } }
      return { status: 201, headers: { location: `${up.url}/v1/created` }, body: 'made' }
    })
    let res = await proxy('https://example.com/__clerk/v1/a')
    assert.equal(res.headers.get('location'), 'https://example.com/__clerk/v1/x?a=1&b=2#frag')
    await res.arrayBuffer()
    res = await proxy('https://example.com/__clerk/v1/b')
    assert.equal(res.status, 307)
    assert.equal(res.headers.get('location'), 'https://example.com/__clerk/v1/y')
    await res.arrayBuffer()
    res = await proxy('https://example.com/__clerk/v1/c')
    assert.equal(res.status, 201)
    assert.equal(res.headers.get('location'), 'https://example.com/__clerk/v1/created')
    assert.equal(await withTimeout(res.text()), 'made')
  })

  it('upstream gzip (real zlib) with Content-Encoding + Content-Length -> decoded bytes, no Content-Encoding/Length, Content-Type kept', T, async () => {
    const js = 'window.Clerk = { version: "5.0.0" };\n'.repeat(50)
    up.respond({ status: 200, headers: { 'content-type': 'application/javascript' }, body: js, gzip: true })
    const res = await proxy('https://example.com/__clerk/npm/@clerk/clerk-js@5/dist/clerk.browser.js')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-encoding'), null)
    assert.equal(res.headers.get('content-length'), null)
    assert.equal(res.headers.get('content-type'), 'application/javascript')
    assert.equal(await withTimeout(res.text()), js)
    // The upstream really sent gzip: the proxy asked for identity, and got gzip anyway.
    assert.equal(onlyRequest().headers['accept-encoding'], 'identity')
  })

  it('a large gzip body (> 64 KiB compressed, streamed path) is decoded too', T, async () => {
    const raw = Buffer.from(crypto.randomBytes(300 * 1024).toString('base64'))
    up.respond({ status: 200, headers: { 'content-type': 'text/plain' }, body: raw, gzip: true })
    const res = await proxy('https://example.com/__clerk/big.txt')
    assert.equal(res.headers.get('content-encoding'), null)
    assert.equal(res.headers.get('content-length'), null)
    const got = Buffer.from(await withTimeout(res.arrayBuffer(), 10_000))
    assert.equal(got.length, raw.length)
    assert.equal(sha256(got), sha256(raw))
  })

  it('a non-encoded response keeps its Content-Length', T, async () => {
    up.respond({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'hello' })
    const res = await proxy('https://example.com/__clerk/v1/x')
    assert.equal(res.headers.get('content-length'), '5')
    assert.equal(await withTimeout(res.text()), 'hello')
  })

  it('response hop-by-hop headers and the names listed in its own Connection header are stripped', T, async () => {
    up.respond((rec, res) => {
      res.setHeader('Connection', 'keep-alive, X-Resp-Hop')
      res.setHeader('Keep-Alive', 'timeout=5')
      res.setHeader('X-Resp-Hop', 'secret')
      res.setHeader('X-Kept', 'yes')
      res.setHeader('Content-Type', 'text/plain')
      res.end('body')
    })
    const res = await proxy('https://example.com/__clerk/v1/x')
    assert.equal(res.status, 200)
    assert.equal(await withTimeout(res.text()), 'body')
    assert.equal(res.headers.get('connection'), null)
    assert.equal(res.headers.get('keep-alive'), null)
    assert.equal(res.headers.get('x-resp-hop'), null)
    assert.equal(res.headers.get('transfer-encoding'), null)
    assert.equal(res.headers.get('x-kept'), 'yes')
  })

  it('repeated non-cookie response headers are joined with ", "', T, async () => {
    up.respond({ status: 200, headers: [['x-multi', 'a'], ['x-multi', 'b']], body: '' })
    const res = await proxy('https://example.com/__clerk/v1/x')
    assert.equal(res.headers.get('x-multi'), 'a, b')
    await res.arrayBuffer()
  })

  it('204 and 304 come back with a null body', T, async () => {
    for (const status of [204, 304]) {
      up.respond({ status })
      const res = await proxy('https://example.com/__clerk/v1/x')
      assert.equal(res.status, status)
      assert.equal(res.body, null)
    }
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('clerkFrontendApiProxy: failures, cancellation and timeouts (SPEC §6, 1.10, GAP 1)', () => {
  it('connection refused (fetch rejects) -> 502 proxy_request_failed with Cache-Control no-store', T, async () => {
    const res = await proxy('https://example.com/__clerk/v1/client', undefined, { fapiUrl: await closedPortUrl() })
    const { error } = await assertProxyError(res, 502, 'proxy_request_failed', /^Failed to proxy request to Clerk FAPI: ./)
    assert.ok(error.message.length > 'Failed to proxy request to Clerk FAPI: '.length)
  })

  it('missing pk -> 500 with Cache-Control no-store', T, async () => {
    const res = await withTimeout(clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/client'), { secretKey: SK }))
    assert.equal(res.status, 500)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    await res.arrayBuffer()
  })

  it('a request with an AbortSignal (not aborted) is proxied normally', T, async () => {
    const controller = new AbortController()
    const res = await proxy('https://example.com/__clerk/v1/client', { signal: controller.signal })
    assert.equal(res.status, 200)
    assert.equal(await withTimeout(res.text()), '{"ok":true}')
    assert.equal(onlyRequest().url, '/v1/client')
  })

  it('aborting the request signal mid-download closes the upstream connection', T, async () => {
    up.respond((rec, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(Buffer.alloc(16 * 1024, 1)) // then never end
    })
    const controller = new AbortController()
    const res = await proxy('https://example.com/__clerk/v1/stream', { signal: controller.signal })
    assert.equal(res.status, 200)
    const reader = res.body.getReader()
    const first = await withTimeout(reader.read(), 5000, 'first chunk')
    assert.equal(first.done, false)
    assert.ok(first.value.length > 0)
    const rec = onlyRequest()
    controller.abort()
    const closed = await withTimeout(rec.closed, 3000, 'upstream sees the connection close')
    assert.equal(closed.early, true)
  })

  it('after an abort mid-download the body errors: a truncated body never reads as complete', T, async () => {
    up.respond((rec, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(Buffer.alloc(16 * 1024, 1)) // then never end
    })
    const controller = new AbortController()
    const res = await proxy('https://example.com/__clerk/v1/stream', { signal: controller.signal })
    const reader = res.body.getReader()
    await withTimeout(reader.read(), 5000, 'first chunk')
    controller.abort()
    await withTimeout(onlyRequest().closed, 3000, 'upstream sees the connection close')
    // Fetch semantics: reading an aborted body rejects. A clean `done: true` here would hand the app a
    // truncated body as if it were the whole response.
    let outcome
    for (let i = 0; i < 10 && outcome === undefined; i++) {
      outcome = await withTimeout(reader.read(), 3000, 'read after abort').then(
        (r) => (r.done ? 'ended cleanly' : undefined),
        (e) => e,
      )
    }
    assert.ok(outcome instanceof Error, `expected the body to error after the abort, got: ${outcome}`)
  })

  it('cancelling the response body closes the upstream connection', T, async () => {
    up.respond((rec, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(Buffer.alloc(16 * 1024, 2))
    })
    const res = await proxy('https://example.com/__clerk/v1/stream')
    const reader = res.body.getReader()
    await withTimeout(reader.read(), 5000, 'first chunk')
    await withTimeout(reader.cancel(), 3000, 'cancel')
    const closed = await withTimeout(onlyRequest().closed, 3000, 'upstream sees the connection close')
    assert.equal(closed.early, true)
  })

  it('a signal aborted before the call -> 502 proxy_request_failed at once, and nothing is sent upstream', T, async () => {
    up.respond({ hang: true })
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController()
      controller.abort()
      const res = await proxy('https://example.com/__clerk/v1/client', { signal: controller.signal })
      await assertProxyError(res, 502, 'proxy_request_failed', /cancelled/)
    }
    // Give a wrongly started request time to land (it would arrive after the error response).
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(up.requests.length, 0, 'an aborted request must not reach the upstream')
  })

  it('timeoutMs: 300 with an upstream that never answers -> 504 proxy_request_failed within ~1 s; upstream connection closed', T, async () => {
    up.respond({ hang: true })
    const started = Date.now()
    const res = await proxy('https://example.com/__clerk/v1/client', undefined, { timeoutMs: 300 })
    const elapsed = Date.now() - started
    await assertProxyError(res, 504, 'proxy_request_failed', /timeoutMs/)
    assert.ok(elapsed >= 250, `answered after ${elapsed} ms, before the timeout`)
    assert.ok(elapsed < 1000, `answered after ${elapsed} ms`)
    const closed = await withTimeout(onlyRequest().closed, 2000, 'upstream sees the connection close')
    assert.equal(closed.early, true)
  })

  it('timeoutMs does not cut a slow-but-answering upstream', T, async () => {
    up.respond({ delayMs: 100, body: 'late but fine' })
    const res = await proxy('https://example.com/__clerk/v1/client', undefined, { timeoutMs: 2000 })
    assert.equal(res.status, 200)
    assert.equal(await withTimeout(res.text()), 'late but fine')
  })

  it('idleTimeoutMs: 300 with a body that stalls -> the body errors (proxy_body_idle_timeout) and the upstream is closed', T, async () => {
    up.respond((rec, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(Buffer.alloc(1024, 3))
    })
    const res = await proxy('https://example.com/__clerk/v1/stall', undefined, { idleTimeoutMs: 300 })
    assert.equal(res.status, 200)
    const err = await withTimeout(res.arrayBuffer().then(() => null, (e) => e), 5000, 'stalled body')
    assert.ok(err, 'the body must fail, not end as if complete')
    assert.equal(err.code, 'proxy_body_idle_timeout')
    const closed = await withTimeout(onlyRequest().closed, 2000, 'upstream sees the connection close')
    assert.equal(closed.early, true)
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('options validation (API.md §1)', () => {
  const badOptions = [
    [{ timeoutMs: 'x' }, /timeoutMs/],
    [{ timeoutMs: -1 }, /timeoutMs/],
    [{ idleTimeoutMs: Number.NaN }, /idleTimeoutMs/],
    [{ proxyPath: 5 }, /proxyPath/],
    [{ fapiUrl: 42 }, /fapiUrl/],
    [{ trustForwardedHeaders: 'no' }, /trustForwardedHeaders/],
  ]
  for (const [bad, re] of badOptions) {
    it(`clerkFrontendApiProxy with ${JSON.stringify(bad)} -> 500 JSON proxy_configuration_error`, T, async () => {
      const res = await withTimeout(
        clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/client'), { publishableKey: PK, secretKey: SK, fapiUrl: up.url, ...bad }),
      )
      await assertProxyError(res, 500, 'proxy_configuration_error', re)
      await assertNoUpstreamRequest()
    })
    it(`new FrontendApiProxy(${JSON.stringify(bad)}) throws a TypeError`, () => {
      assert.throws(() => new FrontendApiProxy({ publishableKey: PK, secretKey: SK, ...bad }), TypeError)
    })
  }

  it('proxyRequest with a bad option -> 500 proxy_configuration_error ProxyResponse', T, async () => {
    const r = await withTimeout(
      proxyRequest({ method: 'GET', url: 'https://example.com/__clerk/v1/client', headers: {} }, { publishableKey: PK, secretKey: SK, timeoutMs: 'x' }),
    )
    assert.equal(r.status, 500)
    const body = JSON.parse((await readAll(r.body)).toString())
    assert.equal(body.errors[0].code, 'proxy_configuration_error')
    await assertNoUpstreamRequest()
  })

  it('non-object options -> 500 (functional) / TypeError (constructor)', T, async () => {
    const res = await withTimeout(clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/client'), 'nope'))
    await assertProxyError(res, 500, 'proxy_configuration_error')
    assert.throws(() => new FrontendApiProxy('nope'), TypeError)
  })

  it('a secret key with CR/LF -> 500 proxy_configuration_error whose body does not contain the key; no upstream request', T, async () => {
    const secretKey = 'sk_live_SECRETVALUE123\r\nX-Injected: 1'
    const res = await withTimeout(
      clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/client'), { publishableKey: PK, secretKey, fapiUrl: up.url }),
    )
    const { text } = await assertProxyError(res, 500, 'proxy_configuration_error', /secretKey/)
    assert.ok(!text.includes('SECRETVALUE123'), text)
    assert.ok(!text.includes('X-Injected'), text)
    await assertNoUpstreamRequest()
  })

  it('FrontendApiProxy instance: handle(Request) and proxy(init) work, proxyPath is normalized', T, async () => {
    const p = new FrontendApiProxy({ publishableKey: PK, secretKey: SK, fapiUrl: up.url, proxyPath: '/custom/' })
    assert.equal(p.proxyPath, '/custom')
    const res = await withTimeout(p.handle(new Request('https://example.com/custom/v1/a')))
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    const r = await withTimeout(p.proxy({ method: 'GET', url: 'https://example.com/custom/v1/b', headers: {} }))
    assert.equal(r.status, 200)
    await readAll(r.body)
    assert.deepEqual(
      up.requests.map((x) => [x.url, x.headers['clerk-proxy-url']]),
      [
        ['/v1/a', 'https://example.com/custom'],
        ['/v1/b', 'https://example.com/custom'],
      ],
    )
    assert.equal(new FrontendApiProxy({ proxyPath: '/' }).proxyPath, '/__clerk')
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('proxyRequest(init): the Node-native path (API.md §1)', () => {
  const opts = () => ({ publishableKey: PK, secretKey: SK, fapiUrl: up.url })

  it('Node-style headers object (array values kept as repeats), response headers as pairs with every Set-Cookie', T, async () => {
    up.respond({
      status: 200,
      headers: [
        ['content-type', 'application/json'],
        ['set-cookie', 'a=1; Path=/'],
        ['set-cookie', 'b=2; Path=/'],
        ['set-cookie', 'c=3; Path=/'],
      ],
      body: '{"node":true}',
    })
    const r = await withTimeout(
      proxyRequest(
        {
          method: 'GET',
          url: 'https://example.com/__clerk/v1/client?q=1',
          headers: { host: 'example.com', 'user-agent': 'node-agent', 'x-multi': ['a', 'b'], cookie: 'k=v', 'x-undefined': undefined },
        },
        opts(),
      ),
    )
    assert.equal(r.status, 200)
    assert.equal(typeof r.statusText, 'string')
    assert.equal(typeof r.cancel, 'function')
    assert.ok(Array.isArray(r.headers))
    assert.deepEqual(
      r.headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v),
      ['a=1; Path=/', 'b=2; Path=/', 'c=3; Path=/'],
    )
    assert.equal((await readAll(r.body)).toString(), '{"node":true}')
    const rec = onlyRequest()
    assert.equal(rec.url, '/v1/client?q=1')
    assert.equal(rec.headers.host, `127.0.0.1:${up.port}`)
    assert.equal(rec.headers['user-agent'], 'node-agent')
    assert.equal(rec.headers['x-multi'], 'a, b')
    assert.equal(rec.headers.cookie, 'k=v')
    assert.equal(rec.headers['x-undefined'], undefined)
    assert.equal(rec.headers['clerk-proxy-url'], 'https://example.com/__clerk')
  })

  it('flat raw header list [name, value, ...] with repeated headers', T, async () => {
    const r = await withTimeout(
      proxyRequest(
        {
          method: 'GET',
          url: 'https://example.com/__clerk/v1/raw',
          headers: ['Host', 'example.com', 'User-Agent', 'raw-agent', 'X-Dup', '1', 'X-Dup', '2', 'Connection', 'X-Hop', 'X-Hop', 'h'],
        },
        opts(),
      ),
    )
    assert.equal(r.status, 200)
    await readAll(r.body)
    const rec = onlyRequest()
    assert.equal(rec.headers['user-agent'], 'raw-agent')
    assert.equal(rec.headers['x-dup'], '1, 2')
    assert.equal(rec.headers['x-hop'], undefined)
    assert.equal(rec.headers.connection, undefined)
  })

  it('a Readable body (POST) arrives whole', T, async () => {
    const r = await withTimeout(
      proxyRequest(
        {
          method: 'POST',
          url: 'https://example.com/__clerk/v1/sign_ins',
          headers: { 'content-type': 'text/plain' },
          body: Readable.from([Buffer.from('hello '), Buffer.from('from '), Buffer.from('a Readable')]),
        },
        opts(),
      ),
    )
    assert.equal(r.status, 200)
    await readAll(r.body)
    const rec = onlyRequest()
    assert.equal(rec.method, 'POST')
    assert.equal(rec.body.toString(), 'hello from a Readable')
    assert.equal(rec.headers['content-type'], 'text/plain')
  })

  it('a Uint8Array body (PUT) arrives whole', T, async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255])
    const r = await withTimeout(
      proxyRequest({ method: 'PUT', url: 'https://example.com/__clerk/v1/bytes', headers: {}, body: bytes }, opts()),
    )
    assert.equal(r.status, 200)
    await readAll(r.body)
    const rec = onlyRequest()
    assert.equal(rec.method, 'PUT')
    assert.deepEqual([...rec.body], [...bytes])
  })

  it('remoteAddress becomes X-Forwarded-For when no header names the client (GAP 3), and with trustForwardedHeaders: false', T, async () => {
    let r = await withTimeout(
      proxyRequest({ method: 'GET', url: 'https://example.com/__clerk/v1/ip', headers: {}, remoteAddress: '198.51.100.7' }, opts()),
    )
    await readAll(r.body)
    assert.equal(onlyRequest().headers['x-forwarded-for'], '198.51.100.7')

    up.requests.length = 0
    r = await withTimeout(
      proxyRequest(
        {
          method: 'GET',
          url: 'https://example.com/__clerk/v1/ip',
          headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' },
          remoteAddress: '198.51.100.7',
        },
        { ...opts(), trustForwardedHeaders: false },
      ),
    )
    await readAll(r.body)
    const rec = onlyRequest()
    assert.equal(rec.headers['x-forwarded-for'], '198.51.100.7')
    assert.equal(rec.headers['x-forwarded-host'], 'example.com')
    assert.equal(rec.headers['clerk-proxy-url'], 'https://example.com/__clerk')
  })

  it('a 204 has a null body; an error (connection refused) is a 502 ProxyResponse, not a rejection', T, async () => {
    up.respond({ status: 204 })
    let r = await withTimeout(proxyRequest({ method: 'GET', url: 'https://example.com/__clerk/v1/x', headers: {} }, opts()))
    assert.equal(r.status, 204)
    assert.equal(r.body, null)

    r = await withTimeout(
      proxyRequest({ method: 'GET', url: 'https://example.com/__clerk/v1/x', headers: {} }, { ...opts(), fapiUrl: await closedPortUrl() }),
    )
    assert.equal(r.status, 502)
    const body = JSON.parse((await readAll(r.body)).toString())
    assert.equal(body.errors[0].code, 'proxy_request_failed')
  })

  it('init without a url string rejects with a TypeError', T, async () => {
    await assert.rejects(withTimeout(proxyRequest({ method: 'GET', headers: {} }, opts())), TypeError)
    await assert.rejects(withTimeout(proxyRequest(null, opts())), TypeError)
  })

  it('aborting init.signal mid-download closes the upstream connection and fails the body (proxy_cancelled)', T, async () => {
    up.respond((rec, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(Buffer.alloc(8 * 1024, 4))
    })
    const controller = new AbortController()
    const r = await withTimeout(
      proxyRequest({ method: 'GET', url: 'https://example.com/__clerk/v1/s', headers: {}, signal: controller.signal }, opts()),
    )
    assert.equal(r.status, 200)
    const it = r.body[Symbol.asyncIterator]()
    const first = await withTimeout(it.next(), 5000, 'first chunk')
    assert.equal(first.done, false)
    controller.abort()
    const closed = await withTimeout(onlyRequest().closed, 3000, 'upstream sees the connection close')
    assert.equal(closed.early, true)
    // As for the Web path: the iteration must fail, not end as if the body were complete.
    let outcome
    for (let i = 0; i < 10 && outcome === undefined; i++) {
      outcome = await withTimeout(it.next(), 3000, 'read after abort').then(
        (r) => (r.done ? 'ended cleanly' : undefined),
        (e) => e,
      )
    }
    assert.ok(outcome instanceof Error, `expected the body to error after the abort, got: ${outcome}`)
    assert.equal(outcome.code, 'proxy_cancelled')
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('streaming 20 MB (never buffered whole)', () => {
  const SIZE = 20 * 1024 * 1024
  const CHUNK = 64 * 1024

  it('a 20 MB upload with a Web ReadableStream body (duplex: half) arrives intact and streams', { timeout: 60_000 }, async () => {
    const data = crypto.randomBytes(SIZE)
    let offset = 0
    let waitedForUpstream = false
    const body = new ReadableStream({
      async pull(controller) {
        if (offset >= SIZE) {
          controller.close()
          return
        }
        // Halfway, wait until the upstream has already received bytes: a proxy that buffers the whole upload
        // before connecting would deadlock here (and the test fails on the timeout).
        if (offset >= SIZE / 2 && !waitedForUpstream) {
          waitedForUpstream = true
          await withTimeout(
            (async () => {
              for (let i = 0; i < 500; i++) {
                if (up.requests.length > 0 && up.requests[0].bytesReceived > 0) return
                await new Promise((r) => setTimeout(r, 10))
              }
              throw new Error('upstream received nothing while half the upload was sent')
            })(),
            10_000,
            'upstream receives the first half',
          )
        }
        controller.enqueue(data.subarray(offset, offset + CHUNK))
        offset += CHUNK
      },
    })
    up.respond(async (rec) => ({ status: 200, body: sha256(rec.body) }))
    const res = await withTimeout(
      clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/upload', { method: 'POST', body, duplex: 'half' }), {
        publishableKey: PK,
        secretKey: SK,
        fapiUrl: up.url,
      }),
      40_000,
      '20 MB upload',
    )
    assert.equal(res.status, 200)
    assert.equal(await withTimeout(res.text()), sha256(data))
    const rec = onlyRequest()
    assert.equal(rec.body.length, SIZE)
    assert.equal(sha256(rec.body), sha256(data))
    assert.equal(rec.headers['transfer-encoding'], 'chunked')
    assert.ok(waitedForUpstream)
  })

  it('a 20 MB download streams through response.body intact', { timeout: 60_000 }, async () => {
    const data = crypto.randomBytes(SIZE)
    let release
    const clientGotFirstBytes = new Promise((r) => (release = r))
    up.respond((rec, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) })
      // First 1 MB, then wait until the client has read bytes: a proxy that buffers the whole response before
      // answering would deadlock here.
      res.write(data.subarray(0, 1024 * 1024))
      withTimeout(clientGotFirstBytes, 10_000, 'client reads the first bytes').then(
        () => Readable.from(chunks(data.subarray(1024 * 1024), CHUNK)).pipe(res),
        () => res.destroy(),
      )
    })
    const res = await proxy('https://example.com/__clerk/big.bin')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-length'), String(SIZE))
    const hash = crypto.createHash('sha256')
    const reader = res.body.getReader()
    let total = 0
    let reads = 0
    await withTimeout(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return
          reads++
          total += value.length
          hash.update(value)
          release()
        }
      })(),
      40_000,
      '20 MB download',
    )
    assert.equal(total, SIZE)
    assert.equal(hash.digest('hex'), sha256(data))
    assert.ok(reads > 1, `streamed in ${reads} reads`)
  })
})

function* chunks(buf, size) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size)
}
