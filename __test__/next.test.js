'use strict'
// clerk-native/next against a REAL upstream (helpers/upstream.js):
//   1. createFrontendApiProxyHandlers / clerkFrontendApiProxy (Next flavour) with real Request objects, every
//      method (SPEC §2.2, §6 "Next.js" line, API.md §5);
//   2. frontendApiProxyMiddleware (enabled, path, the '/' guard, nextUrl);
//   3. a REAL Next.js app (__test__/next-app: App Router route app/%5F%5Fclerk/[[...path]]/route.js) built with
//      `next build` and served by `next start`, proxying to the upstream. Runs only when the app's
//      dependencies are installed:
//          npm install --prefix __test__/next-app --no-audit --no-fund
//      Before building, the test copies this working tree's clerk-native (JS files + the built .node) into
//      __test__/next-app/node_modules/clerk-native: a real directory, because Next bundles a symlinked
//      (file:) package instead of keeping it external, and the .node cannot be bundled.

const { describe, it, before, after, beforeEach, test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const http = require('node:http')
const { spawn } = require('node:child_process')

const nextApi = require('../next.js')
const { createFrontendApiProxyHandlers, clerkFrontendApiProxy, frontendApiProxyMiddleware } = nextApi
const { startUpstream, withTimeout } = require('./helpers/upstream')
const { envKeys } = require('./helpers/env')

const PK = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k'
const SK = 'sk_test_xxx'
const T = { timeout: 20_000 }
const ENV_KEYS = ['CLERK_FAPI_URL', 'CLERK_PUBLISHABLE_KEY', 'CLERK_SECRET_KEY', 'NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY']
const env = envKeys(ENV_KEYS)

const ROOT = path.resolve(__dirname, '..')
const APP = path.join(__dirname, 'next-app')
const INSTALL_COMMAND = 'npm install --prefix __test__/next-app --no-audit --no-fund'

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
  env.clear()
  up.requests.length = 0
  up.respond(null)
})

function onlyRequest() {
  assert.equal(up.requests.length, 1, `upstream requests: ${up.requests.map((r) => r.method + ' ' + r.url).join(', ')}`)
  return up.requests[0]
}

async function assertNoUpstreamRequest() {
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(up.requests.length, 0, 'the upstream must not be contacted')
}

async function assertProxyError(res, status, code, message) {
  assert.ok(res instanceof Response, 'a Response')
  assert.equal(res.status, status)
  assert.equal(res.headers.get('content-type'), 'application/json')
  assert.equal(res.headers.get('cache-control'), 'no-store')
  const body = JSON.parse(await withTimeout(res.text()))
  assert.equal(body.errors.length, 1)
  assert.equal(body.errors[0].code, code)
  if (message instanceof RegExp) assert.match(body.errors[0].message, message)
  else if (message !== undefined) assert.equal(body.errors[0].message, message)
}

/** A Request that also carries `nextUrl`, as a NextRequest does. */
class RequestWithNextUrl extends Request {
  constructor(url, init, nextUrl) {
    super(url, init)
    this.nextUrl = new URL(nextUrl)
  }
}

// ---------------------------------------------------------------------------------------------------------------

describe('createFrontendApiProxyHandlers (SPEC §2.2, §6 Next line)', () => {
  it('returns GET, POST, PUT, DELETE, PATCH, HEAD and OPTIONS handlers', () => {
    const handlers = createFrontendApiProxyHandlers({ publishableKey: PK, secretKey: SK, fapiUrl: up.url })
    assert.deepEqual(Object.keys(handlers).sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'])
    for (const fn of Object.values(handlers)) assert.equal(typeof fn, 'function')
  })

  it("GET https://example.com/__clerk/v1/client with fapiUrl 'http://localhost:<port>' -> upstream /v1/client", T, async () => {
    const { GET } = createFrontendApiProxyHandlers({ publishableKey: PK, secretKey: SK, fapiUrl: `http://localhost:${up.port}` })
    const res = await withTimeout(GET(new Request('https://example.com/__clerk/v1/client')))
    assert.equal(res.status, 200)
    assert.equal(await withTimeout(res.text()), '{"ok":true}')
    const rec = onlyRequest()
    assert.equal(rec.method, 'GET')
    assert.equal(rec.url, '/v1/client')
    assert.equal(rec.headers.host, `localhost:${up.port}`)
    assert.equal(rec.headers['clerk-secret-key'], SK)
    assert.equal(rec.headers['clerk-proxy-url'], 'https://example.com/__clerk')
  })

  it('every method reaches the upstream with its method; bodies of POST/PUT/PATCH/DELETE arrive', T, async () => {
    const handlers = createFrontendApiProxyHandlers({ publishableKey: PK, secretKey: SK, fapiUrl: up.url })
    up.respond((rec) => ({ status: 200, headers: { 'x-method': rec.method }, body: `echo:${rec.body.toString()}` }))
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']) {
      up.requests.length = 0
      const hasBody = ['POST', 'PUT', 'DELETE', 'PATCH'].includes(method)
      const init = { method, headers: { 'content-type': 'application/json' } }
      if (hasBody) init.body = JSON.stringify({ method })
      const res = await withTimeout(handlers[method](new Request(`https://example.com/__clerk/v1/things?m=${method}`, init)), 10_000, method)
      assert.equal(res.status, 200, method)
      assert.equal(res.headers.get('x-method'), method)
      const text = await withTimeout(res.text())
      const rec = onlyRequest()
      assert.equal(rec.method, method)
      assert.equal(rec.url, `/v1/things?m=${method}`)
      if (hasBody) {
        assert.equal(rec.body.toString(), JSON.stringify({ method }), `${method} body`)
        assert.equal(text, `echo:${JSON.stringify({ method })}`)
      } else {
        assert.equal(rec.body.length, 0, `${method} has no body`)
        assert.equal(text, method === 'HEAD' ? '' : 'echo:')
      }
    }
  })

  it('keeps every Set-Cookie and rewrites a FAPI Location', T, async () => {
    const { GET } = createFrontendApiProxyHandlers({ publishableKey: PK, secretKey: SK, fapiUrl: up.url })
    const cookies = ['__client=abc123; Path=/; HttpOnly; Secure', '__client_uat=1234567890; Path=/; Secure', '__session=xyz789; Path=/; HttpOnly; Secure']
    up.respond({ status: 302, headers: [['location', `${up.url}/v1/oauth/callback?code=123`], ...cookies.map((c) => ['set-cookie', c])] })
    const res = await withTimeout(GET(new Request('https://example.com/__clerk/v1/oauth/authorize')))
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), 'https://example.com/__clerk/v1/oauth/callback?code=123')
    assert.deepEqual(res.headers.getSetCookie(), cookies)
    await res.arrayBuffer()
  })

  it('NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY (with CLERK_SECRET_KEY from env) is enough for the Next flavour', T, async () => {
    process.env.NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY = PK
    process.env.CLERK_SECRET_KEY = 'sk_test_env'
    const { GET } = createFrontendApiProxyHandlers({ fapiUrl: up.url })
    const res = await withTimeout(GET(new Request('https://example.com/__clerk/v1/client')))
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(onlyRequest().headers['clerk-secret-key'], 'sk_test_env')

    up.requests.length = 0
    const direct = await withTimeout(clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/direct'), { fapiUrl: up.url }))
    assert.equal(direct.status, 200)
    await direct.arrayBuffer()
    assert.equal(onlyRequest().url, '/v1/direct')
  })

  it('CLERK_FAPI_URL from env is used when no fapiUrl is given', T, async () => {
    process.env.CLERK_FAPI_URL = up.url
    const { POST } = createFrontendApiProxyHandlers({ publishableKey: PK, secretKey: SK })
    const res = await withTimeout(POST(new Request('https://example.com/__clerk/v1/sign_ins', { method: 'POST', body: 'a=1' })))
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(onlyRequest().url, '/v1/sign_ins')
    assert.equal(onlyRequest().body.toString(), 'a=1')
  })

  it('missing keys -> 500 JSON proxy_configuration_error (not a throw); no upstream request', T, async () => {
    let { GET } = createFrontendApiProxyHandlers({ fapiUrl: up.url })
    await assertProxyError(await withTimeout(GET(new Request('https://example.com/__clerk/v1/client'))), 500, 'proxy_configuration_error', /publishableKey/)

    process.env.NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY = PK
    ;({ GET } = createFrontendApiProxyHandlers({ fapiUrl: up.url }))
    await assertProxyError(await withTimeout(GET(new Request('https://example.com/__clerk/v1/client'))), 500, 'proxy_configuration_error', /secretKey/)
    await assertNoUpstreamRequest()
  })

  it('the default proxyPath is /__clerk: a route under /api/__clerk needs proxyPath (Clerk doc quirk)', T, async () => {
    let { GET } = createFrontendApiProxyHandlers({ publishableKey: PK, secretKey: SK, fapiUrl: up.url })
    await assertProxyError(
      await withTimeout(GET(new Request('https://example.com/api/__clerk/v1/client'))),
      400,
      'proxy_path_mismatch',
      'Request path "/api/__clerk/v1/client" does not match proxy path "/__clerk"',
    )
    ;({ GET } = createFrontendApiProxyHandlers({ publishableKey: PK, secretKey: SK, fapiUrl: up.url, proxyPath: '/api/__clerk' }))
    const res = await withTimeout(GET(new Request('https://example.com/api/__clerk/v1/client')))
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(onlyRequest().url, '/v1/client')
    assert.equal(onlyRequest().headers['clerk-proxy-url'], 'https://example.com/api/__clerk')
  })

  it('a bad option type comes back as a 500 JSON proxy_configuration_error from the handler', T, async () => {
    const { GET } = createFrontendApiProxyHandlers({ publishableKey: PK, secretKey: SK, fapiUrl: up.url, timeoutMs: 'x' })
    await assertProxyError(await withTimeout(GET(new Request('https://example.com/__clerk/v1/client'))), 500, 'proxy_configuration_error', /timeoutMs/)
    await assertNoUpstreamRequest()
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('frontendApiProxyMiddleware (SPEC §2.2, API.md §5)', () => {
  const keys = () => ({ publishableKey: PK, secretKey: SK, fapiUrl: up.url })

  it('enabled: true proxies /__clerk/v1/client and returns undefined for other paths', T, async () => {
    const mw = frontendApiProxyMiddleware({ enabled: true, ...keys() })
    const res = await withTimeout(mw(new Request('https://myapp.example.com/__clerk/v1/client?_clerk_js_version=5.0.0')))
    assert.ok(res instanceof Response)
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    const rec = onlyRequest()
    assert.equal(rec.url, '/v1/client?_clerk_js_version=5.0.0')
    assert.equal(rec.headers['clerk-proxy-url'], 'https://myapp.example.com/__clerk')

    up.requests.length = 0
    for (const url of ['https://myapp.example.com/dashboard', 'https://myapp.example.com/__clerk-admin/x', 'https://myapp.example.com/']) {
      assert.equal(await withTimeout(mw(new Request(url))), undefined, url)
    }
    await assertNoUpstreamRequest()
  })

  it('enabled defaults to true when omitted', T, async () => {
    const mw = frontendApiProxyMiddleware(keys())
    const res = await withTimeout(mw(new Request('https://myapp.example.com/__clerk/v1/client')))
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(onlyRequest().url, '/v1/client')
  })

  it('enabled: false -> undefined even on the proxy path', T, async () => {
    const mw = frontendApiProxyMiddleware({ enabled: false, ...keys() })
    assert.equal(await withTimeout(mw(new Request('https://myapp.example.com/__clerk/v1/client'))), undefined)
    await assertNoUpstreamRequest()
  })

  it('enabled as a function receives a URL of the request and decides', T, async () => {
    const seen = []
    const mw = frontendApiProxyMiddleware({
      enabled: (url) => {
        seen.push(url)
        return url.hostname.endsWith('.replit.app')
      },
      ...keys(),
    })
    const res = await withTimeout(mw(new Request('https://myapp.replit.app/__clerk/v1/client?x=1')))
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(await withTimeout(mw(new Request('https://myapp.com/__clerk/v1/client'))), undefined)
    assert.equal(seen.length, 2)
    assert.ok(seen[0] instanceof URL, 'enabled receives a URL')
    assert.equal(seen[0].href, 'https://myapp.replit.app/__clerk/v1/client?x=1')
    assert.equal(seen[1].hostname, 'myapp.com')
    assert.equal(onlyRequest().url, '/v1/client?x=1')
  })

  it("custom path '/custom-proxy': /custom-proxy/v1/client is proxied, /__clerk/v1/client is not", T, async () => {
    const mw = frontendApiProxyMiddleware({ enabled: true, path: '/custom-proxy', ...keys() })
    const res = await withTimeout(mw(new Request('https://myapp.example.com/custom-proxy/v1/client')))
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(await withTimeout(mw(new Request('https://myapp.example.com/__clerk/v1/client'))), undefined)
    const rec = onlyRequest()
    assert.equal(rec.url, '/v1/client')
    assert.equal(rec.headers['clerk-proxy-url'], 'https://myapp.example.com/custom-proxy')
  })

  it("path: '/' is guarded: /dashboard -> undefined, /__clerk/v1/client proxied", T, async () => {
    const mw = frontendApiProxyMiddleware({ enabled: true, path: '/', ...keys() })
    assert.equal(await withTimeout(mw(new Request('https://myapp.example.com/dashboard'))), undefined)
    assert.equal(await withTimeout(mw(new Request('https://myapp.example.com/'))), undefined)
    await assertNoUpstreamRequest()
    const res = await withTimeout(mw(new Request('https://myapp.example.com/__clerk/v1/client')))
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(onlyRequest().url, '/v1/client')
  })

  it('a nextUrl-bearing request: detection uses nextUrl (raw URL 127.0.0.1, nextUrl on *.vercel.app)', T, async () => {
    const seen = []
    const mw = frontendApiProxyMiddleware({
      enabled: (url) => {
        seen.push(url.href)
        return url.hostname.endsWith('.vercel.app')
      },
      ...keys(),
    })
    const req = new RequestWithNextUrl('http://127.0.0.1:3000/__clerk/v1/client', undefined, 'https://myapp-abc123.vercel.app/__clerk/v1/client')
    const res = await withTimeout(mw(req))
    assert.ok(res instanceof Response, 'proxied because nextUrl is on vercel.app')
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.deepEqual(seen, ['https://myapp-abc123.vercel.app/__clerk/v1/client'])
    assert.equal(onlyRequest().url, '/v1/client')
    // Without nextUrl the same raw request is not on vercel.app: not proxied.
    assert.equal(await withTimeout(mw(new Request('http://127.0.0.1:3000/__clerk/v1/client'))), undefined)
  })

  it('a nextUrl on a non-proxy path -> undefined even if the raw URL is on the proxy path', T, async () => {
    const mw = frontendApiProxyMiddleware({ enabled: true, ...keys() })
    const req = new RequestWithNextUrl('http://127.0.0.1:3000/__clerk/v1/client', undefined, 'https://myapp.example.com/dashboard')
    assert.equal(await withTimeout(mw(req)), undefined)
    await assertNoUpstreamRequest()
  })

  it('missing keys -> the middleware answers 500 JSON proxy_configuration_error', T, async () => {
    const mw = frontendApiProxyMiddleware({ enabled: true, fapiUrl: up.url })
    await assertProxyError(await withTimeout(mw(new Request('https://myapp.example.com/__clerk/v1/client'))), 500, 'proxy_configuration_error', /publishableKey/)
    await assertNoUpstreamRequest()
  })

  it('keys from NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY / CLERK_SECRET_KEY', T, async () => {
    process.env.NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY = PK
    process.env.CLERK_SECRET_KEY = 'sk_test_mw_env'
    const mw = frontendApiProxyMiddleware({ enabled: true, fapiUrl: up.url })
    const res = await withTimeout(mw(new Request('https://myapp.example.com/__clerk/v1/client')))
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.equal(onlyRequest().headers['clerk-secret-key'], 'sk_test_mw_env')
  })

  it('bad options throw a TypeError when the middleware is created', () => {
    assert.throws(() => frontendApiProxyMiddleware({ enabled: 'yes' }), TypeError)
    assert.throws(() => frontendApiProxyMiddleware({ enabled: true, timeoutMs: 'x' }), TypeError)
    assert.throws(() => frontendApiProxyMiddleware({ enabled: true, path: 5 }), TypeError)
    assert.throws(() => frontendApiProxyMiddleware(null), TypeError)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// A real Next.js app.

/** Why the real-app test cannot run, or null. */
function nextAppSkipReason() {
  if (!fs.existsSync(path.join(APP, 'node_modules', 'next', 'package.json'))) {
    return `Next.js is not installed for the test app (__test__/next-app/node_modules/next is missing); install it with: ${INSTALL_COMMAND}`
  }
  if (!fs.readdirSync(ROOT).some((f) => /^clerk-native\..+\.node$/.test(f))) {
    return 'no built clerk-native.<platform>.node in the repo root (run npm run build)'
  }
  return null
}

/** Copies this working tree's package (JS + .node, no build scripts) into the app's node_modules/clerk-native. */
function stageClerkNative() {
  const dest = path.join(APP, 'node_modules', 'clerk-native')
  try {
    const st = fs.lstatSync(dest)
    if (st.isSymbolicLink()) fs.unlinkSync(dest)
    else fs.rmSync(dest, { recursive: true, force: true })
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
  }
  fs.mkdirSync(dest, { recursive: true })
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const entries = new Set(['binding.js', 'lib'])
  for (const f of pkg.files || []) {
    const name = f.replace(/\/$/, '')
    if (/\.(c?js|mjs|d\.ts)$/.test(name) || name === 'lib') entries.add(name)
  }
  for (const f of fs.readdirSync(ROOT)) if (/^clerk-native\..+\.node$/.test(f)) entries.add(f)
  for (const name of entries) {
    if (name.startsWith('scripts/')) continue
    const src = path.join(ROOT, name)
    if (fs.existsSync(src)) fs.cpSync(src, path.join(dest, name), { recursive: true })
  }
  const { scripts, devDependencies, ...rest } = pkg // no install script: nothing to build in the copy
  fs.writeFileSync(path.join(dest, 'package.json'), JSON.stringify(rest, null, 2))
}

/** Runs a command to completion (bounded); resolves { code, signal, output }. */
function run(cmd, args, options, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const timer = setTimeout(() => {
      killGroup(child)
      reject(new Error(`${cmd} ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output })
    })
  })
}

/** Ends a process group this test started (spawned with detached: true), by its id. */
function killGroup(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {}
  }
}

async function freePort() {
  const s = http.createServer()
  await new Promise((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}

test('a real Next.js app (next build + next start) proxies through clerk-native/next', { timeout: 300_000 }, async (t) => {
  const reason = nextAppSkipReason()
  if (reason) {
    t.diagnostic(reason)
    t.skip(reason)
    return
  }
  const nextBin = path.join(APP, 'node_modules', 'next', 'dist', 'bin', 'next')
  const childEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', CI: '1' }
  for (const k of ENV_KEYS) delete childEnv[k]

  const t0 = Date.now()
  stageClerkNative()
  const build = await run(process.execPath, [nextBin, 'build'], { cwd: APP, env: childEnv }, 240_000)
  assert.equal(build.code, 0, `next build failed:\n${build.output}`)
  assert.match(build.output, /\/__clerk\/\[\[\.\.\.path\]\]/, `the /__clerk route was not built:\n${build.output}`)
  const buildMs = Date.now() - t0

  const port = await freePort()
  const server = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: APP,
    env: { ...childEnv, CLERK_FAPI_URL: up.url, NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY: PK, CLERK_SECRET_KEY: SK },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let serverOutput = ''
  server.stdout.on('data', (d) => (serverOutput += d))
  server.stderr.on('data', (d) => (serverOutput += d))
  const exited = new Promise((r) => server.once('exit', r))
  t.after(async () => {
    killGroup(server)
    const gone = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))])
    if (!gone) killGroup(server, 'SIGKILL')
  })

  const base = `http://127.0.0.1:${port}`
  const startedAt = Date.now()
  for (let ready = false, i = 0; !ready; i++) {
    assert.ok(i < 150, `next start did not answer within 30 s:\n${serverOutput}`)
    assert.equal(server.exitCode, null, `next start exited:\n${serverOutput}`)
    ready = await fetch(`${base}/`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.arrayBuffer().then(() => true),
      () => false,
    )
    if (!ready) await new Promise((r) => setTimeout(r, 200))
  }
  const startMs = Date.now() - startedAt
  const f = (p, init) => withTimeout(fetch(base + p, { redirect: 'manual', signal: AbortSignal.timeout(10_000), ...init }), 12_000, p)

  await t.test('GET with a query string', async () => {
    up.requests.length = 0
    up.respond({ status: 200, headers: { 'content-type': 'application/json', 'x-upstream': 'yes' }, body: '{"object":"client"}' })
    const res = await f('/__clerk/v1/client?_clerk_js_version=5.0.0', { headers: { 'user-agent': 'next-e2e' } })
    const text = await withTimeout(res.text())
    assert.equal(res.status, 200, `${text}\n${serverOutput}`)
    assert.equal(text, '{"object":"client"}')
    assert.equal(res.headers.get('x-upstream'), 'yes')
    const rec = onlyRequest()
    assert.equal(rec.method, 'GET')
    assert.equal(rec.url, '/v1/client?_clerk_js_version=5.0.0')
    assert.equal(rec.headers.host, `127.0.0.1:${up.port}`)
    assert.equal(rec.headers['clerk-secret-key'], SK)
    assert.equal(rec.headers['accept-encoding'], 'identity')
    assert.equal(rec.headers['user-agent'], 'next-e2e')
    assert.equal(rec.headers['clerk-proxy-url'], `${base}/__clerk`)
  })

  await t.test('POST with a JSON body', async () => {
    up.requests.length = 0
    up.respond((rec) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ got: rec.body.toString() }) }))
    const json = JSON.stringify({ identifier: 'user@example.com', strategy: 'password' })
    const res = await f('/__clerk/v1/client/sign_ins', { method: 'POST', headers: { 'content-type': 'application/json' }, body: json })
    assert.equal(res.status, 200)
    assert.deepEqual(JSON.parse(await withTimeout(res.text())), { got: json })
    const rec = onlyRequest()
    assert.equal(rec.method, 'POST')
    assert.equal(rec.url, '/v1/client/sign_ins')
    assert.equal(rec.headers['content-type'], 'application/json')
    assert.equal(rec.body.toString(), json)
  })

  await t.test('PUT, PATCH and DELETE with bodies, OPTIONS', async () => {
    up.respond((rec) => ({ status: 200, body: `${rec.method}:${rec.body.toString()}` }))
    for (const method of ['PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      up.requests.length = 0
      const init = { method }
      if (method !== 'OPTIONS') init.body = `${method.toLowerCase()}-body`
      const res = await f('/__clerk/v1/me', init)
      assert.equal(res.status, 200, method)
      assert.equal(await withTimeout(res.text()), `${method}:${init.body || ''}`)
      assert.equal(onlyRequest().method, method)
    }
  })

  await t.test('3 Set-Cookie headers survive Next', async () => {
    up.requests.length = 0
    const cookies = ['__client=abc123; Path=/; HttpOnly; Secure', '__client_uat=1234567890; Path=/; Secure', '__session=xyz789; Path=/; HttpOnly; Secure']
    up.respond({ status: 200, headers: cookies.map((c) => ['set-cookie', c]), body: '{}' })
    const res = await f('/__clerk/v1/client')
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.deepEqual(res.headers.getSetCookie(), cookies)
  })

  await t.test('a 302 to the FAPI host is rewritten (also with X-Forwarded-Host/Proto)', async () => {
    up.respond({ status: 302, headers: { location: `${up.url}/v1/oauth/callback?code=123` } })
    let res = await f('/__clerk/v1/oauth/authorize')
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), `${base}/__clerk/v1/oauth/callback?code=123`)
    await res.arrayBuffer()

    res = await f('/__clerk/v1/oauth/authorize', { headers: { 'x-forwarded-host': 'myapp.example.com', 'x-forwarded-proto': 'https' } })
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), 'https://myapp.example.com/__clerk/v1/oauth/callback?code=123')
    await res.arrayBuffer()

    up.respond({ status: 302, headers: { location: 'https://accounts.google.com/o/oauth2/auth' } })
    res = await f('/__clerk/v1/oauth/authorize')
    assert.equal(res.headers.get('location'), 'https://accounts.google.com/o/oauth2/auth')
    await res.arrayBuffer()
  })

  await t.test('an upstream 401 passes through', async () => {
    up.respond({ status: 401, headers: { 'content-type': 'text/plain' }, body: 'Unauthorized' })
    const res = await f('/__clerk/v1/client')
    assert.equal(res.status, 401)
    assert.equal(await withTimeout(res.text()), 'Unauthorized')
  })

  t.diagnostic(`next build ${buildMs} ms, next start ready in ${startMs} ms, requests ${Date.now() - startedAt - startMs} ms`)
})
