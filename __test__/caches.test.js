'use strict'
// The negative cache (SPEC §4, PR #8519 improved) and the verified-token cache, exercised through the public API
// (authenticateRequest, verifyToken) against real servers on 127.0.0.1, plus the cache controls of API.md §3
// (cacheStats, clearCaches, configureCaches, invalidateToken).
//
// Exact TTL edges (+29,999 / +30,001 ms), re-cache keeping the eviction position and bytes per entry are tested in
// Rust under a manual clock (crates/core/tests/cache_negative.rs, cache_ttl.rs, cache_memory.rs). Here, the
// request-level behaviour: what is remembered, what is never remembered, scoping, controls, the flood, and real
// (short) TTLs.

const { test, describe, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const crypto = require('node:crypto')
const { performance } = require('node:perf_hooks')

const T = require('./helpers/tokens')
const { authenticateRequest, verifyToken, TokenVerificationError, cacheStats, clearCaches, configureCaches, invalidateToken } = require('..')

const SK_A = 'sk_test_caches_instance_a'
const SK_B = 'sk_test_caches_instance_b'
const OAT_NOT_FOUND = 'OAuth token not found (code=token-invalid, status=404)'
const DEFAULTS = {
  negative: { capacity: 10000, ttlMs: 30000 },
  verified: { capacity: 10000, ttlMs: 300000 },
  identity: { capacity: 10000, ttlMs: 300000, sidlessTtlMs: 60000 },
}
const STAT_FIELDS = ['capacity', 'evictions', 'hits', 'inserts', 'misses', 'size', 'ttlMs']

const restoreDefaults = () => configureCaches(DEFAULTS)
const req = (token) => ({ headers: { authorization: `Bearer ${token}` } })
const oat = () => `oat_${crypto.randomBytes(16).toString('hex')}`
const neg = () => cacheStats().negative
const ver = () => cacheStats().verified
/** Counter differences `b - a` for the numeric fields. */
const delta = (a, b) => Object.fromEntries(STAT_FIELDS.map((k) => [k, b[k] - a[k]]))

const servers = []
let bapi
/** Backend API calls that carried `token` (any of the three verify routes). */
const callsOf = (token, server = bapi) =>
  server.requests.filter((r) => r.body && typeof r.body === 'object' && Object.values(r.body).includes(token)).length

const optsA = () => ({ secretKey: SK_A, apiUrl: bapi.url, acceptsToken: 'oauth_token' })

before(async () => {
  clearCaches()
  restoreDefaults()
  bapi = await T.startBackendApi({ secretKeys: [SK_A, SK_B] })
  servers.push(bapi)
})
beforeEach(() => clearCaches())
after(async () => {
  restoreDefaults()
  clearCaches()
  for (const s of servers.splice(0)) await s.close().catch(() => {})
})

const OAUTH_200 = (subject = 'user_1') => ({ status: 200, body: { id: 'oat_id_1', subject, scopes: ['read'], client_id: 'client_1' } })

/** A small server whose answer per request is chosen by `mode`: 'reset' (destroy the socket), 'hang', or a status. */
async function startRawBackend() {
  const requests = []
  const sockets = new Set()
  let mode = 'reset'
  const server = http.createServer((rq, rs) => {
    const chunks = []
    rq.on('data', (c) => chunks.push(c))
    rq.on('end', () => {
      requests.push(Buffer.concat(chunks).toString('utf8'))
      if (mode === 'reset') return rq.socket.destroy()
      if (mode === 'hang') return
      const body = mode === 200 ? OAUTH_200().body : { errors: [{ code: 'x', message: 'x' }] }
      rs.writeHead(mode, { 'content-type': 'application/json' })
      rs.end(JSON.stringify(body))
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const s = {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    setMode(m) {
      mode = m
    },
    close() {
      for (const so of sockets) so.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  servers.push(s)
  return s
}

async function expectCachedRejection(token, options, label) {
  const s = await T.within(authenticateRequest(req(token), options), 10000, label)
  assert.equal(s.status, 'signed-out', label)
  assert.equal(s.reason, 'token-invalid', label)
  assert.equal(s.message, OAT_NOT_FOUND, label)
  assert.equal(s.tokenType, 'oauth_token', label)
  return s
}

// ---------------------------------------------------------------------------------------------------------

describe('cacheStats() shape and controls', () => {
  test('cacheStats() is exactly { jwks, negative, verified, identity } with numeric counters', () => {
    const s = cacheStats()
    assert.deepEqual(Object.keys(s).sort(), ['identity', 'jwks', 'negative', 'verified'])
    for (const name of ['negative', 'verified', 'identity']) {
      assert.deepEqual(Object.keys(s[name]).sort(), STAT_FIELDS, name)
    }
    for (const f of [...STAT_FIELDS, 'fetches', 'failures']) assert.ok(f in s.jwks, `jwks.${f}`)
    for (const [name, c] of Object.entries(s)) {
      for (const [k, v] of Object.entries(c)) assert.ok(Number.isFinite(v) && v >= 0, `${name}.${k} = ${v}`)
    }
    assert.deepEqual([s.negative.capacity, s.negative.ttlMs], [10000, 30000])
    assert.deepEqual([s.verified.capacity, s.verified.ttlMs], [10000, 300000])
    assert.deepEqual([s.identity.capacity, s.identity.ttlMs], [10000, 300000])
    assert.notEqual(cacheStats(), cacheStats(), 'a fresh object each call')
  })

  test('configureCaches rejects bad input with a TypeError and changes nothing', () => {
    const before = cacheStats()
    const bad = [
      undefined,
      null,
      42,
      'negative',
      { negative: { capacity: 0 } },
      { negative: { capacity: -1 } },
      { negative: { capacity: 1.5 } },
      { negative: { capacity: '10' } },
      { negative: { capacity: NaN } },
      { negative: { capacity: Infinity } },
      { negative: { capacity: 10000001 } },
      { negative: { ttlMs: 0 } },
      { verified: { ttlMs: -5 } },
      { identity: { sidlessTtlMs: 0 } },
      { identity: { sidlessTtlMs: 2.5 } },
      { negative: { ttl: 10 } },
      { negative: { sidlessTtlMs: 10 } },
      { jwks: { capacity: 5 } },
      { bogus: {} },
      { negative: 5 },
      { negative: 'x' },
      // all or nothing: a valid part next to an invalid one is not applied either
      { negative: { capacity: 5, ttlMs: 5 }, verified: { capacity: 0 } },
      { negative: { ttlMs: 7 }, identity: { capacity: 10000001 } },
      { verified: { capacity: 3 }, identity: { sidlessTtlMs: -1 } },
    ]
    for (const input of bad) {
      assert.throws(() => configureCaches(input), TypeError, `configureCaches(${JSON.stringify(input)})`)
    }
    const afterStats = cacheStats()
    for (const name of ['negative', 'verified', 'identity']) {
      assert.equal(afterStats[name].capacity, before[name].capacity, `${name}.capacity unchanged`)
      assert.equal(afterStats[name].ttlMs, before[name].ttlMs, `${name}.ttlMs unchanged`)
    }
  })

  test('configureCaches applies valid settings (and defaults restore them)', (t) => {
    t.after(restoreDefaults)
    configureCaches({ negative: { capacity: 123, ttlMs: 4567 }, verified: { ttlMs: 890 }, identity: { capacity: 77 } })
    const s = cacheStats()
    assert.deepEqual([s.negative.capacity, s.negative.ttlMs], [123, 4567])
    assert.deepEqual([s.verified.capacity, s.verified.ttlMs], [10000, 890])
    assert.deepEqual([s.identity.capacity, s.identity.ttlMs], [77, 300000])
    configureCaches({}) // nothing given: nothing changes
    configureCaches({ negative: undefined, verified: { capacity: undefined } })
    assert.deepEqual(cacheStats().negative.capacity, 123)
    restoreDefaults()
    const d = cacheStats()
    assert.deepEqual([d.negative.capacity, d.negative.ttlMs, d.verified.ttlMs, d.identity.capacity], [10000, 30000, 300000, 10000])
  })

  test('clearCaches(name) validates the name; invalidateToken needs a string', () => {
    for (const name of ['JWKS', 'negatives', '', null, 1]) {
      assert.throws(() => clearCaches(name), TypeError, `clearCaches(${JSON.stringify(name)})`)
    }
    for (const name of ['jwks', 'negative', 'verified', 'identity', undefined]) clearCaches(name)
    for (const v of [undefined, null, 1, {}]) assert.throws(() => invalidateToken(v), TypeError)
    assert.equal(invalidateToken('oat_never_seen'), 0)
  })
})

// ---------------------------------------------------------------------------------------------------------

describe('negative cache through authenticateRequest', () => {
  test('an oat_ token answered 404 is rejected from the cache afterwards, with zero Backend API calls', async () => {
    const token = oat()
    const s0 = neg()
    const live = await expectCachedRejection(token, optsA(), 'live 404')
    assert.equal(callsOf(token), 1)
    assert.equal(bapi.requests.at(-1).path, '/oauth_applications/access_tokens/verify')
    const s1 = neg()
    assert.equal(s1.size, s0.size + 1)
    assert.equal(s1.inserts, s0.inserts + 1)

    // The Backend API now knows the token: the cache still answers (as in PR #8519's first test).
    bapi.answer(token, OAUTH_200())
    const cached = await expectCachedRejection(token, optsA(), 'cached')
    assert.equal(callsOf(token), 1, 'no new Backend API call')
    assert.equal(neg().hits, s1.hits + 1)

    // Identical state to the live rejection.
    for (const k of ['status', 'reason', 'message', 'tokenType', 'isAuthenticated', 'token']) assert.deepEqual(cached[k], live[k], k)
    assert.deepEqual([...cached.headers], [...live.headers])
    assert.equal(cached.headers.get('x-clerk-auth-message'), OAT_NOT_FOUND)
    const auth = cached.toAuth()
    assert.equal(auth.isAuthenticated, false)
    assert.equal(auth.tokenType, 'oauth_token')
    // Clerk's unauthenticatedMachineObject debug(): reason and message (plus createDebug's cut keys, all '').
    assert.equal(auth.debug().reason, 'token-invalid')
    assert.equal(auth.debug().message, OAT_NOT_FOUND)

    for (let i = 0; i < 5; i++) await expectCachedRejection(token, optsA(), `repeat ${i}`)
    assert.equal(callsOf(token), 1)
  })

  test("acceptsToken 'any' and ['oauth_token', 'api_key'] consult the same cache", async () => {
    const token = oat()
    await expectCachedRejection(token, { ...optsA(), acceptsToken: 'any' }, 'live (any)')
    bapi.answer(token, OAUTH_200())
    await expectCachedRejection(token, { ...optsA(), acceptsToken: 'any' }, 'cached (any)')
    await expectCachedRejection(token, { ...optsA(), acceptsToken: ['oauth_token', 'api_key'] }, 'cached (list)')
    assert.equal(callsOf(token), 1)
    // a session-only authenticator never verifies machine tokens: an opaque one fails session verification as
    // token-invalid (as @clerk/backend 3.25.0), no call, no lookup
    const s = await authenticateRequest(req(token), { ...optsA(), acceptsToken: 'session_token' })
    assert.equal(s.reason, 'token-invalid')
    assert.equal(callsOf(token), 1)
  })

  test('a valid oat_ token is never cached: every request asks the Backend API', async () => {
    const token = oat()
    bapi.answer(token, OAUTH_200('user_valid'))
    const s0 = neg()
    for (let i = 0; i < 3; i++) {
      const s = await authenticateRequest(req(token), optsA())
      assert.equal(s.status, 'signed-in')
      assert.equal(s.toAuth().userId, 'user_valid')
    }
    assert.equal(callsOf(token), 3)
    const d = delta(s0, neg())
    assert.equal(d.size, 0)
    assert.equal(d.inserts, 0)
    // and when it later turns invalid, the next request sees the 404 at once (nothing positive was remembered)
    bapi.answer(token, { status: 404, body: { errors: [{ code: 'resource_not_found', message: 'gone' }] } })
    await expectCachedRejection(token, optsA(), 'revoked')
    assert.equal(callsOf(token), 4)
  })

  test('401 (secret-key-invalid) is not cached', async () => {
    const token = oat()
    const opts = { ...optsA(), secretKey: 'sk_test_not_accepted' }
    const s0 = neg()
    for (let i = 0; i < 2; i++) {
      const s = await authenticateRequest(req(token), opts)
      assert.equal(s.reason, 'secret-key-invalid')
      assert.equal(s.message, 'The provided Clerk Secret Key is invalid. (code=secret-key-invalid, status=401)')
    }
    assert.equal(callsOf(token), 2)
    assert.equal(delta(s0, neg()).inserts, 0)
  })

  test('5xx and other statuses (unexpected-error) are not cached', async () => {
    for (const status of [500, 502, 503, 429, 400, 403]) {
      const token = oat()
      bapi.answer(token, { status, body: { errors: [{ code: 'x', message: 'x' }] } })
      const s0 = neg()
      const s = await authenticateRequest(req(token), optsA())
      assert.equal(s.reason, 'unexpected-error', `status ${status}`)
      assert.equal(s.message, `Unexpected error (code=unexpected-error, status=${status})`)
      assert.equal(delta(s0, neg()).inserts, 0, `status ${status}`)
      bapi.answer(token, OAUTH_200())
      assert.equal((await authenticateRequest(req(token), optsA())).status, 'signed-in', `status ${status}: asked again`)
      assert.equal(callsOf(token), 2, `status ${status}`)
    }
  })

  test('a network error (connection reset, server down) is not cached', async () => {
    const raw = await startRawBackend()
    const token = oat()
    const opts = { secretKey: SK_A, apiUrl: raw.url, acceptsToken: 'oauth_token' }
    const s0 = neg()
    raw.setMode('reset')
    const s = await T.within(authenticateRequest(req(token), opts), 15000, 'reset')
    assert.equal(s.reason, 'unexpected-error')
    assert.match(s.message, /\(code=unexpected-error, status=n\/a\)$/)
    assert.ok(raw.requests.length >= 1)
    assert.equal(delta(s0, neg()).inserts, 0)
    raw.setMode(200)
    const n = raw.requests.length
    assert.equal((await authenticateRequest(req(token), opts)).status, 'signed-in')
    assert.equal(raw.requests.length, n + 1)

    // connection refused: a stand-in that is down
    const dead = await T.startBackendApi({ secretKeys: [SK_A] })
    await dead.close()
    const down = { secretKey: SK_A, apiUrl: dead.url, acceptsToken: 'oauth_token' }
    for (let i = 0; i < 2; i++) {
      const d = await T.within(authenticateRequest(req(token), down), 15000, 'refused')
      assert.equal(d.reason, 'unexpected-error')
    }
    assert.equal(delta(s0, neg()).inserts, 0)
    assert.equal(neg().size, 0)
  })

  test('a timeout is not cached (waits for the 5 s Backend API timeout)', async () => {
    const raw = await startRawBackend()
    const token = oat()
    const opts = { secretKey: SK_A, apiUrl: raw.url, acceptsToken: 'oauth_token' }
    raw.setMode('hang')
    const s0 = neg()
    const t0 = performance.now()
    const s = await T.within(authenticateRequest(req(token), opts), 12000, 'timeout')
    const ms = performance.now() - t0
    assert.equal(s.reason, 'unexpected-error')
    assert.equal(s.message, 'Unexpected error (code=unexpected-error, status=n/a)')
    assert.ok(ms >= 4900 && ms < 11000, `timed out after ${ms.toFixed(0)} ms`)
    assert.equal(delta(s0, neg()).inserts, 0)
    raw.setMode(200)
    assert.equal((await authenticateRequest(req(token), opts)).status, 'signed-in')
  })

  test('ak_ and mt_ tokens answered 404 are not cached', async () => {
    const opts = { ...optsA(), acceptsToken: 'any' }
    for (const [token, message, path] of [
      [`ak_${crypto.randomBytes(12).toString('hex')}`, 'API key not found (code=token-invalid, status=404)', '/api_keys/verify'],
      [`mt_${crypto.randomBytes(12).toString('hex')}`, 'Machine token not found (code=token-invalid, status=404)', '/m2m_tokens/verify'],
    ]) {
      const s0 = neg()
      for (let i = 0; i < 3; i++) {
        const s = await authenticateRequest(req(token), opts)
        assert.equal(s.reason, 'token-invalid', token)
        assert.equal(s.message, message)
      }
      assert.equal(callsOf(token), 3, `${token}: every request asked`)
      assert.equal(bapi.requests.at(-1).path, path)
      const d = delta(s0, neg())
      assert.equal(d.inserts, 0)
      assert.equal(d.hits + d.misses, 0, 'not even looked up')
    }
  })

  test('an OAuth JWT (at+jwt) that fails verification is not cached', async () => {
    const key = T.rsaKey(2048, 'kid_caches_oauth')
    const wrong = T.rsaKey(2048, 'kid_caches_oauth_wrong')
    const jwt = T.signJwt(wrong, { sub: 'user_1', client_id: 'c', exp: T.nowSec() + 60, iat: T.nowSec() - 1, jti: 'oat_like' }, { header: { typ: 'at+jwt', kid: key.kid } })
    const opts = { jwtKey: key.publicPem, acceptsToken: 'oauth_token' }
    const s0 = neg()
    for (let i = 0; i < 2; i++) {
      const s = await authenticateRequest(req(jwt), opts)
      assert.equal(s.status, 'signed-out')
      assert.equal(s.reason, 'token-verification-failed')
    }
    assert.equal(delta(s0, neg()).inserts, 0)
  })

  test('entries are scoped by instance: another secret key or apiUrl is not answered by them', async () => {
    const token = oat()
    await expectCachedRejection(token, optsA(), 'A live')
    bapi.answer(token, OAUTH_200('user_b'))
    // same apiUrl, other secret key: asks the API and is signed in
    const b = await authenticateRequest(req(token), { secretKey: SK_B, apiUrl: bapi.url, acceptsToken: 'oauth_token' })
    assert.equal(b.status, 'signed-in')
    assert.equal(callsOf(token), 2)
    // same secret key, another apiUrl (a second stand-in): asks that one
    const other = await T.startBackendApi({ secretKeys: [SK_A] })
    servers.push(other)
    other.answer(token, OAUTH_200('user_other'))
    const o = await authenticateRequest(req(token), { secretKey: SK_A, apiUrl: other.url, acceptsToken: 'oauth_token' })
    assert.equal(o.status, 'signed-in')
    assert.equal(callsOf(token, other), 1)
    // instance A still rejects from its entry
    await expectCachedRejection(token, optsA(), 'A cached')
    assert.equal(callsOf(token), 2)
    // and B's own 404 does not answer for A's other tokens
    const t2 = oat()
    await expectCachedRejection(t2, { secretKey: SK_B, apiUrl: bapi.url, acceptsToken: 'oauth_token' }, 'B live')
    bapi.answer(t2, OAUTH_200())
    assert.equal((await authenticateRequest(req(t2), optsA())).status, 'signed-in')
  })

  test('invalidateToken(token) removes the entry (in every instance); the next request asks again', async () => {
    const token = oat()
    const optsB = { secretKey: SK_B, apiUrl: bapi.url, acceptsToken: 'oauth_token' }
    await expectCachedRejection(token, optsA(), 'A live')
    await expectCachedRejection(token, optsB, 'B live')
    assert.equal(neg().size, 2)
    assert.equal(invalidateToken(token), 2)
    assert.equal(neg().size, 0)
    assert.equal(invalidateToken(token), 0, 'already gone')
    bapi.answer(token, OAUTH_200())
    assert.equal((await authenticateRequest(req(token), optsA())).status, 'signed-in')
    assert.equal((await authenticateRequest(req(token), optsB)).status, 'signed-in')
    assert.equal(callsOf(token), 4)
  })

  test("clearCaches('negative') drops every entry; clearCaches() too", async () => {
    const t1 = oat()
    const t2 = oat()
    await expectCachedRejection(t1, optsA(), 't1')
    await expectCachedRejection(t2, optsA(), 't2')
    assert.equal(neg().size, 2)
    clearCaches('verified')
    clearCaches('identity')
    clearCaches('jwks')
    assert.equal(neg().size, 2, 'other names leave it alone')
    clearCaches('negative')
    assert.equal(neg().size, 0)
    await expectCachedRejection(t1, optsA(), 't1 again')
    assert.equal(callsOf(t1), 2)
    clearCaches()
    assert.equal(neg().size, 0)
    await expectCachedRejection(t1, optsA(), 't1 third')
    assert.equal(callsOf(t1), 3)
  })

  test('configureCaches({ negative: { ttlMs: 300 } }): the entry expires and the API is asked again (real time)', async (t) => {
    t.after(restoreDefaults)
    configureCaches({ negative: { ttlMs: 300 } })
    assert.equal(neg().ttlMs, 300)
    const token = oat()
    const t0 = performance.now()
    await expectCachedRejection(token, optsA(), 'live')
    await expectCachedRejection(token, optsA(), 'cached')
    const cachedAt = performance.now() - t0
    assert.ok(cachedAt < 300, `precondition: the cached repeat ran within the TTL (${cachedAt.toFixed(0)} ms)`)
    assert.equal(callsOf(token), 1)
    await T.sleep(400 - (performance.now() - t0))
    await expectCachedRejection(token, optsA(), 'after TTL')
    assert.equal(callsOf(token), 2, 'asked again after the TTL')
    const s = neg()
    assert.ok(s.evictions >= 1, 'the expired entry counted as an eviction')
    restoreDefaults()
    assert.equal(neg().ttlMs, 30000)
  })

  test('capacity N + 1 evicts the oldest inserted entry (request level, capacity 3)', async (t) => {
    t.after(restoreDefaults)
    configureCaches({ negative: { capacity: 3 } })
    const toks = [oat(), oat(), oat(), oat()]
    for (const tk of toks) await expectCachedRejection(tk, optsA(), 'fill')
    const s = neg()
    assert.equal(s.size, 3)
    assert.equal(s.capacity, 3)
    for (const tk of toks.slice(1)) await expectCachedRejection(tk, optsA(), 'kept')
    assert.deepEqual(toks.map((tk) => callsOf(tk)), [1, 1, 1, 1])
    await expectCachedRejection(toks[0], optsA(), 'evicted')
    assert.equal(callsOf(toks[0]), 2, 'the oldest was evicted')
    // shrinking the capacity evicts at once
    configureCaches({ negative: { capacity: 1 } })
    assert.equal(neg().size, 1)
  })

  test('flood: 20,000 distinct oat_ tokens with capacity 10,000 stay at capacity; the newest 10,000 repeat for free', async (t) => {
    t.after(restoreDefaults)
    configureCaches({ negative: { capacity: 10000 } })
    const N = 10000
    const opts = optsA() // one options object: resolved once, as apps do
    const first = Array.from({ length: N }, oat)
    const last = Array.from({ length: N }, oat)
    const s0 = neg()
    const runAll = async (tokens, concurrency, check) => {
      let next = 0
      let bad = 0
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < tokens.length) {
            const s = await authenticateRequest(req(tokens[next++]), opts)
            if (!check(s)) bad++
          }
        }),
      )
      return bad
    }
    const isNotFound = (s) => s.reason === 'token-invalid' && s.message === OAT_NOT_FOUND
    const r0 = bapi.requests.length
    const f0 = performance.now()
    // Two phases, so every token of `first` is inserted before any of `last` (completion order is not start order).
    assert.equal(await T.within(runAll(first, 64, isNotFound), 60000, 'flood 1'), 0)
    assert.equal(await T.within(runAll(last, 64, isNotFound), 60000, 'flood 2'), 0)
    const floodMs = performance.now() - f0
    assert.equal(bapi.requests.length - r0, 2 * N, 'each distinct token cost one call')
    const s1 = neg()
    assert.equal(s1.size, 10000, 'at capacity')
    assert.equal(s1.capacity, 10000)
    const d1 = delta(s0, s1)
    assert.equal(d1.inserts, 2 * N)
    assert.equal(d1.evictions, N, 'the first 10,000 were evicted')

    // The newest 10,000 repeat with zero Backend API calls.
    const r1 = bapi.requests.length
    const c0 = performance.now()
    for (const tk of last) {
      const s = await authenticateRequest(req(tk), opts)
      if (!isNotFound(s)) assert.fail(`cached repeat: ${s.reason} ${s.message}`)
    }
    const cachedUs = ((performance.now() - c0) * 1000) / N
    assert.equal(bapi.requests.length - r1, 0, 'zero calls for repeats within the TTL')
    assert.equal(neg().hits - s1.hits, N)

    // The evicted ones cost a call again (sample of 200: each re-insert evicts one of `last`).
    const sample = first.slice(0, 200)
    const r2 = bapi.requests.length
    assert.equal(await runAll(sample, 1, isNotFound), 0)
    assert.equal(bapi.requests.length - r2, sample.length)
    assert.equal(neg().size, 10000)

    // Live 404 latency, sequential, for comparison.
    const live = Array.from({ length: 500 }, oat)
    const l0 = performance.now()
    assert.equal(await runAll(live, 1, isNotFound), 0)
    const liveUs = ((performance.now() - l0) * 1000) / live.length
    t.diagnostic(
      `flood 20,000 distinct tokens (64 concurrent): ${floodMs.toFixed(0)} ms; cached rejection ${cachedUs.toFixed(1)} µs/request ` +
        `sequential vs live 404 ${liveUs.toFixed(1)} µs/request (${(liveUs / cachedUs).toFixed(0)}x); ` +
        'bytes per entry: crates/core/tests/cache_memory.rs',
    )
    assert.ok(cachedUs < liveUs, `a cached rejection (${cachedUs.toFixed(1)} µs) is cheaper than a live one (${liveUs.toFixed(1)} µs)`)
  })
})

// ---------------------------------------------------------------------------------------------------------

describe('verified-token cache', () => {
  const key = T.rsaKey(2048, 'kid_caches_verified')
  const otherKey = T.rsaKey(2048, 'kid_caches_verified_other')
  const jwtKey = key.publicPem

  async function expectReason(promise, reason, label = reason) {
    const err = await T.rejectionOf(promise, 10000)
    assert.ok(err instanceof TokenVerificationError, `${label}: ${err && err.stack}`)
    assert.equal(err.reason, reason, `${label}: ${err.message}`)
    return err
  }

  test('verifyToken of the same token twice: the second is a cache hit with the same payload', async () => {
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_v1' }))
    const opts = { jwtKey }
    const s0 = ver()
    const p1 = await verifyToken(token, opts)
    const s1 = ver()
    assert.deepEqual([s1.misses - s0.misses, s1.hits - s0.hits, s1.inserts - s0.inserts], [1, 0, 1])
    const p2 = await verifyToken(token, opts)
    const s2 = ver()
    assert.deepEqual([s2.hits - s1.hits, s2.misses - s1.misses, s2.inserts - s1.inserts], [1, 0, 0])
    assert.deepEqual(p2, p1)
    assert.equal(p2.sub, 'user_v1')
    assert.notEqual(p2, p1, 'a fresh object per call (callers may mutate it)')
    p2.sub = 'mutated'
    assert.equal((await verifyToken(token, opts)).sub, 'user_v1', 'mutating a result does not touch the cache')
    // a new options object with equal values shares the entry
    await verifyToken(token, { jwtKey })
    assert.equal(ver().hits - s2.hits, 2)
  })

  test('authenticateRequest answers a repeat from the cache (its own entry, separate from verifyToken)', async () => {
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_v2' }))
    const opts = { jwtKey }
    const s0 = ver()
    const a1 = await authenticateRequest(req(token), opts)
    assert.equal(a1.status, 'signed-in')
    const a2 = await authenticateRequest(req(token), opts)
    assert.equal(a2.status, 'signed-in')
    assert.equal(a2.toAuth().userId, 'user_v2')
    const s1 = ver()
    assert.equal(s1.inserts - s0.inserts, 1)
    assert.ok(s1.hits - s0.hits >= 1)
    await verifyToken(token, opts)
    assert.equal(ver().inserts - s1.inserts, 1, 'verifyToken keeps its own entry')
    assert.equal(ver().size, 2)
  })

  test('an expired token is rejected with token-expired even though it was verified and cached (real time)', async () => {
    await T.alignToSecondStart(600)
    const exp = T.nowSec() + 2
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_exp', exp }))
    const opts = { jwtKey, clockSkewInMs: 0 }
    assert.equal((await verifyToken(token, opts)).sub, 'user_exp')
    const s0 = ver()
    await verifyToken(token, opts)
    assert.equal(ver().hits - s0.hits, 1, 'served from the cache while valid')
    const authOpts = { jwtKey, clockSkewInMs: 0 }
    assert.equal((await authenticateRequest(req(token), authOpts)).status, 'signed-in')
    assert.equal((await authenticateRequest(req(token), authOpts)).status, 'signed-in')
    const wait = exp * 1000 + 60 - Date.now()
    assert.ok(wait > 0 && wait < 2700, `wait ${wait} ms`)
    await T.sleep(wait)
    const s1 = ver()
    await expectReason(verifyToken(token, opts), 'token-expired')
    await expectReason(verifyToken(token, opts), 'token-expired', 'still expired')
    assert.equal(ver().hits - s1.hits, 0, 'never a hit past exp')
    const a = await authenticateRequest(req(token), authOpts)
    assert.equal(a.status, 'signed-out')
    assert.equal(a.reason, 'session-token-expired-refresh-non-eligible-no-refresh-cookie')
    const p = await authenticateRequest({ method: 'POST', headers: { authorization: `Bearer ${token}` } }, authOpts)
    assert.equal(p.reason, 'session-token-expired-refresh-non-eligible-non-get')
    assert.equal(ver().size, 0, 'expired entries are gone')
  })

  test('with the default 5 s skew, the cached entry serves until exp + skew, not beyond', async () => {
    // exp 3 s ago: still valid with 5 s skew, expired with 0 skew; both answers stay right when cached.
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_skew', iat: T.nowSec() - 30, nbf: T.nowSec() - 30, exp: T.nowSec() - 3 }))
    for (let i = 0; i < 2; i++) {
      assert.equal((await verifyToken(token, { jwtKey })).sub, 'user_skew')
      await expectReason(verifyToken(token, { jwtKey, clockSkewInMs: 0 }), 'token-expired', 'skew 0')
    }
  })

  test('invalidateToken(token) makes the next verification a miss', async () => {
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_inv' }))
    const opts = { jwtKey }
    await verifyToken(token, opts)
    await authenticateRequest(req(token), opts)
    const s0 = ver()
    assert.equal(s0.size, 2)
    assert.equal(invalidateToken(token), 2, 'both entries (verifyToken and authenticateRequest)')
    assert.equal(ver().size, 0)
    await verifyToken(token, opts)
    const s1 = ver()
    assert.deepEqual([s1.misses - s0.misses, s1.hits - s0.hits, s1.inserts - s0.inserts], [1, 0, 1])
    await verifyToken(token, opts)
    assert.equal(ver().hits - s1.hits, 1)
    clearCaches('verified')
    assert.equal(ver().size, 0)
    const s2 = ver()
    await verifyToken(token, opts)
    assert.equal(ver().misses - s2.misses, 1, "miss after clearCaches('verified')")
  })

  test('options that change the outcome do not share entries (authorizedParties, audience, key, skew)', async () => {
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_azp', azp: 'https://evil.example', aud: 'aud_x' }))
    // verified (and cached) without authorizedParties / audience
    assert.equal((await verifyToken(token, { jwtKey })).sub, 'user_azp')
    assert.equal((await verifyToken(token, { jwtKey })).sub, 'user_azp')
    await expectReason(verifyToken(token, { jwtKey, authorizedParties: ['https://app.example'] }), 'token-invalid-authorized-parties')
    await expectReason(verifyToken(token, { jwtKey, authorizedParties: ['https://app.example'] }), 'token-invalid-authorized-parties', 'again')
    await expectReason(verifyToken(token, { jwtKey, audience: 'aud_y' }), 'token-verification-failed', 'audience')
    await expectReason(verifyToken(token, { jwtKey: otherKey.publicPem }), 'token-invalid-signature', 'other key')
    // authenticateRequest as well
    const a = await authenticateRequest(req(token), { jwtKey })
    assert.equal(a.status, 'signed-in')
    const b = await authenticateRequest(req(token), { jwtKey, authorizedParties: ['https://app.example'] })
    assert.equal(b.status, 'signed-out')
    assert.equal(b.reason, 'token-invalid-authorized-parties')
    // the reverse: cached under a matching authorizedParties, still fine without
    const ok = await verifyToken(token, { jwtKey, authorizedParties: ['https://evil.example'] })
    assert.equal(ok.azp, 'https://evil.example')
  })

  test('headerType: a token cached under the default does not pass a stricter headerType', async () => {
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_typ' }), { header: { typ: undefined } })
    assert.equal((await verifyToken(token, { jwtKey })).sub, 'user_typ')
    await T.rejectionOf(verifyToken(token, { jwtKey, headerType: ['JWT'] }))
  })

  test('a JWT-template token (cat cl_B7d4PD222AAA) stays token-type-mismatch in authenticateRequest after verifyToken cached it', async () => {
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_tpl', sid: undefined }), { header: { cat: 'cl_B7d4PD222AAA' } })
    const opts = { jwtKey }
    assert.equal((await verifyToken(token, opts)).sub, 'user_tpl')
    assert.equal((await verifyToken(token, opts)).sub, 'user_tpl')
    assert.equal(ver().size, 1)
    for (const acceptsToken of [undefined, 'session_token', 'any', ['session_token', 'api_key']]) {
      for (let i = 0; i < 2; i++) {
        const s = await authenticateRequest(req(token), { jwtKey, acceptsToken })
        assert.equal(s.status, 'signed-out', `acceptsToken ${JSON.stringify(acceptsToken)}`)
        assert.equal(s.reason, 'token-type-mismatch')
      }
    }
    // the cookie path too
    const c = await authenticateRequest({ headers: { cookie: `__session=${token}; __client_uat=${T.nowSec() - 100}` } }, opts)
    assert.equal(c.reason, 'token-type-mismatch')
    assert.equal(ver().size, 1, 'authenticateRequest cached nothing for it')
  })

  test("configureCaches({ verified: { ttlMs: 300 } }) bounds entries by the TTL as well as exp (real time)", async (t) => {
    t.after(restoreDefaults)
    configureCaches({ verified: { ttlMs: 300 } })
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_ttl' }))
    const opts = { jwtKey }
    const t0 = performance.now()
    await verifyToken(token, opts)
    const s0 = ver()
    await verifyToken(token, opts)
    assert.ok(performance.now() - t0 < 300, 'precondition: within the TTL')
    assert.equal(ver().hits - s0.hits, 1)
    await T.sleep(400 - (performance.now() - t0))
    const s1 = ver()
    assert.equal((await verifyToken(token, opts)).sub, 'user_ttl')
    assert.equal(ver().misses - s1.misses, 1, 'a miss after the TTL; verified again')
  })

  test('warm verifyToken and authenticateRequest are answered without a thread hop (measured)', async (t) => {
    const N = 20000
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_warm' }))
    const opts = { jwtKey }
    await verifyToken(token, opts)
    await authenticateRequest(req(token), opts)
    const s0 = ver()
    let t0 = performance.now()
    for (let i = 0; i < N; i++) await verifyToken(token, opts)
    const warmVerify = ((performance.now() - t0) * 1000) / N
    const r = req(token)
    t0 = performance.now()
    for (let i = 0; i < N; i++) await authenticateRequest(r, opts)
    const warmAuth = ((performance.now() - t0) * 1000) / N
    assert.equal(ver().hits - s0.hits, 2 * N, 'every repeat was a hit')
    // cold: distinct tokens (each verified with the RSA key)
    const cold = Array.from({ length: 300 }, (_, i) => T.signJwt(key, T.sessionClaims({ sub: `user_cold_${i}` })))
    t0 = performance.now()
    for (const tk of cold) await verifyToken(tk, opts)
    const coldVerify = ((performance.now() - t0) * 1000) / cold.length
    t.diagnostic(
      `warm verifyToken ${warmVerify.toFixed(2)} µs, warm authenticateRequest ${warmAuth.toFixed(2)} µs, ` +
        `cold verifyToken (RS256, jwtKey) ${coldVerify.toFixed(1)} µs per sequential call`,
    )
    assert.ok(warmVerify < coldVerify, 'a hit is cheaper than a verification')
  })
})
