'use strict'
// The three JS proxy entry paths share one exchange driver (lib/proxy/exchange.js). Regression tests for the two
// ways `proxyRequest()` differed from `handle()` and the Express path before that (structure review 2026-12 §1.4):
//   1. a throw from the native `start()` or `response()` (a Rust panic, say) rejected proxyRequest's promise,
//      although it "never rejects for proxy failures"; it now answers 500/502 JSON as the other paths do;
//   2. an AbortSignal passed to proxyRequest() kept one listener (and the exchange it holds) per request it ever
//      served; it is now detached when the exchange ends.
// Also: the JS fast path for the proxy-path match agrees with the core's rule (binding.matchProxyPath).

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFile } = require('node:child_process')

const binding = require('../binding.js')
const { proxyRequest, FrontendApiProxy } = require('..')
const { underProxyPath, matchesProxyTarget } = require('../lib/proxy')
const { startUpstream, withTimeout } = require('./helpers/upstream')

const PK = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k'
const SK = 'sk_test_xxx'
const T = { timeout: 20_000 }

/** Replaces `proto[name]` with `impl` for the duration of `fn`. */
async function patched(proto, name, impl, fn) {
  const original = proto[name]
  proto[name] = impl
  try {
    return await fn()
  } finally {
    proto[name] = original
  }
}

async function jsonOf(body) {
  const chunks = []
  for await (const c of body) chunks.push(Buffer.from(c))
  return JSON.parse(Buffer.concat(chunks).toString())
}

describe('proxyRequest answers native failures as handle() does (never rejects)', () => {
  let up
  let options
  before(async () => {
    up = await withTimeout(startUpstream(), 5000, 'start upstream')
    options = { publishableKey: PK, secretKey: SK, fapiUrl: up.url }
  })
  after(() => up && up.close())

  const init = () => ({ method: 'GET', url: 'http://localhost/__clerk/v1/client' })
  const request = () => new Request('http://localhost/__clerk/v1/client')
  const throwing = () => {
    throw new Error('clerk-native test panic (start)')
  }

  it('start() throws: proxyRequest resolves 500 proxy_configuration_error, like handle()', T, async () => {
    await patched(binding.NativeProxy.prototype, 'start', throwing, async () => {
      const r = await proxyRequest(init(), options)
      assert.equal(r.status, 500)
      assert.deepEqual(r.headers, [
        ['content-type', 'application/json'],
        ['cache-control', 'no-store'],
      ])
      const body = await jsonOf(r.body)
      assert.equal(body.errors[0].code, 'proxy_configuration_error')
      assert.match(body.errors[0].message, /test panic \(start\)/)
      const w = await new FrontendApiProxy(options).handle(request())
      assert.equal(w.status, 500)
      assert.deepEqual(await w.json(), body)
    })
  })

  for (const how of ['throws', 'rejects']) {
    it(`response() ${how}: proxyRequest resolves 502 proxy_request_failed, like handle(), and cancels the exchange`, T, async () => {
      let cancels = 0
      const cancel = binding.ProxyExchange.prototype.cancel
      const failing =
        how === 'throws'
          ? () => {
              throw new Error('clerk-native test panic (response)')
            }
          : () => Promise.reject(new Error('clerk-native test panic (response)'))
      await patched(binding.ProxyExchange.prototype, 'cancel', function () {
        cancels++
        return cancel.call(this)
      }, () =>
        patched(binding.ProxyExchange.prototype, 'response', failing, async () => {
          const r = await proxyRequest(init(), options)
          assert.equal(r.status, 502)
          const body = await jsonOf(r.body)
          assert.equal(body.errors[0].code, 'proxy_request_failed')
          assert.match(body.errors[0].message, /^Failed to proxy request to Clerk FAPI: .*test panic \(response\)/)
          assert.equal(cancels, 1)
          const w = await new FrontendApiProxy(options).handle(request())
          assert.equal(w.status, 502)
          assert.deepEqual(await w.json(), body)
        }),
      )
    })
  }

  it('a malformed init still rejects with a TypeError (nothing started)', T, async () => {
    await assert.rejects(proxyRequest({ url: 42 }, options), TypeError)
  })
})

describe('proxyRequest with one long-lived AbortSignal', () => {
  it('10,000 requests: the listener count is back to 0 and the heap after GC stays flat (child process)', { timeout: 60_000 }, async () => {
    const script = path.join(__dirname, 'fixtures', 'signal-listener-soak.js')
    const out = await new Promise((resolve, reject) => {
      execFile(process.execPath, ['--expose-gc', script, '10000'], { timeout: 55_000 }, (err, stdout, stderr) => {
        if (err && !stdout) reject(new Error(`${err.message}\n${stderr}`))
        else resolve(stdout)
      })
    })
    const r = JSON.parse(out.trim().split('\n').pop())
    assert.equal(r.error, undefined, r.error)
    assert.ok(r.requests >= 10000, `ran ${r.requests} requests`)
    assert.equal(r.listenersAfter, 0, 'abort listeners left on the signal')
    assert.ok(r.maxListeners <= 16, `at most one listener per request in flight (16), saw ${r.maxListeners}`)
    const [warm, half, end] = r.heaps
    const growth = end - warm
    // One retained exchange + listener per request was ~1 KB of heap each (10,000 requests: ~10 MB).
    assert.ok(growth < 2 * 1024 * 1024, `heap grew ${(growth / 1048576).toFixed(1)} MB over 9,000 requests (warm ${warm}, half ${half}, end ${end})`)
  })
})

describe('proxy-path match: the JS fast path equals binding.matchProxyPath', () => {
  const targets = [
    '/__clerk',
    '/__clerk/',
    '/__clerk/v1/client',
    '/__clerkx',
    '/__clerkx/v1',
    '//__clerk',
    '//__clerk/v1',
    '/__CLERK',
    '/__CLERK/v1',
    '/__clerk?x',
    '/__clerk?x=/y',
    '/__clerkx?/__clerk/',
    '/__clerk/%2e%2e/x',
    '/__clerk/%2E%2E',
    '/__clerk%2fv1',
    '/%5F%5Fclerk/v1',
    '/a/../__clerk/v1',
    '/__clerk/../x',
    '/__clerk/./v1',
    '/./__clerk',
    '/__clerk/..',
    '/a/%2e%2e/__clerk',
    '/\\__clerk',
    '/__clerk\\v1',
    '/',
    '/other',
    '/custom/__clerk',
  ]
  for (const proxyPath of ['/__clerk', '/custom/path']) {
    for (const raw of [...targets, ...targets.map((t) => t.replace('/__clerk', proxyPath))]) {
      it(`${JSON.stringify(raw)} under ${proxyPath}`, () => {
        const pathname = new URL(raw, 'http://localhost').pathname
        const core = binding.matchProxyPath(pathname, proxyPath)
        assert.equal(underProxyPath(pathname, proxyPath), core, 'underProxyPath(pathname)')
        // Express sees the raw target; `//host` targets are refused before any match, so compare origin-form ones.
        if (!raw.startsWith('//')) assert.equal(matchesProxyTarget(raw, proxyPath), core, 'matchesProxyTarget(target)')
      })
    }
  }
})
