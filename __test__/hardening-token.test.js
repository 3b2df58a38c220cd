'use strict'
// Token hardening (issue items 4, 5, 6 and the smaller points), through the public entry points against real
// servers on 127.0.0.1 (a JWKS server and a Backend API stand-in that count their calls; no mocked fetch).
//
//   4. padded spellings of one token: one verified-token cache entry, and invalidateToken ends all of them;
//   5. option sets memoised under collision-free keys (authorizedParties ['a\u0001b'] is not ['a', 'b']);
//   6. machine-token verification never follows a Backend API redirect, and a 429 with Retry-After makes the
//      instance fail fast until it passes;
//   +  messages echo at most 64 characters of any token field; a garbage jwtKey is refused with an error that
//      names the option, and "no key" says what to set.

const { test, describe, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const crypto = require('node:crypto')

const T = require('./helpers/tokens')
const { verifyToken, authenticateRequest, TokenVerificationError, cacheStats, clearCaches, configureCaches, invalidateToken } = require('..')

const DEFAULTS = {
  negative: { capacity: 10000, ttlMs: 30000 },
  verified: { capacity: 10000, ttlMs: 300000 },
  identity: { capacity: 10000, ttlMs: 300000, sidlessTtlMs: 60000 },
}
const CAT_TEMPLATE = 'cl_B7d4PD222AAA'
const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } })
const ver = () => cacheStats().verified
const servers = []

before(() => {
  clearCaches()
  configureCaches(DEFAULTS)
})
beforeEach(() => clearCaches())
after(async () => {
  configureCaches(DEFAULTS)
  clearCaches()
  for (const s of servers.splice(0)) await s.close().catch(() => {})
})

/** A plain HTTP server on 127.0.0.1 whose handler decides every answer; counts requests. */
async function startServer(handler) {
  const requests = []
  const sockets = new Set()
  const server = http.createServer((req, res) => {
    T.readBody(req, (raw, body) => {
      const rec = { method: req.method, url: req.url, headers: req.headers, body }
      requests.push(rec)
      const d = handler(rec)
      res.writeHead(d.status, { 'content-type': 'application/json', ...(d.headers || {}) })
      res.end(typeof d.body === 'string' ? d.body : JSON.stringify(d.body ?? {}))
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = server.address().port
  const s = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const x of sockets) x.destroy()
        server.close(() => resolve())
      }),
  }
  servers.push(s)
  return s
}

describe('item 4: trailing "=" padding does not give one token many cache entries', () => {
  const key = T.rsaKey(2048, 'kid_pad')
  const otherKey = T.rsaKey(2048, 'kid_pad_rotated')
  let jwks
  before(async () => {
    jwks = await T.startJwksServer({ keys: [key.jwk] })
    servers.push(jwks)
  })
  beforeEach(() => jwks.setKeys([key.jwk]))

  test('1,000 padded spellings of one token take one verified-token entry and evict no other user', async (t) => {
    t.after(() => configureCaches(DEFAULTS))
    configureCaches({ verified: { capacity: 300 } })
    const opts = { jwtKey: key.publicPem }
    const users = []
    for (let i = 0; i < 200; i++) {
      const token = T.signJwt(key, T.sessionClaims({ sub: `user_pad_${i}` }))
      users.push(token)
      assert.equal((await verifyToken(token, opts)).sub, `user_pad_${i}`)
    }
    const attacker = T.signJwt(key, T.sessionClaims({ sub: 'user_attacker' }))
    const before = ver()
    for (let n = 0; n <= 1000; n++) {
      assert.equal((await verifyToken(attacker + '='.repeat(n), opts)).sub, 'user_attacker')
    }
    const afterFlood = ver()
    assert.equal(afterFlood.inserts - before.inserts, 1, 'one entry for every spelling')
    assert.equal(afterFlood.evictions - before.evictions, 0, 'no other user evicted')
    assert.equal(afterFlood.hits - before.hits, 1000, 'every padded spelling is a hit on the one entry')
    // Every earlier user is still answered from the cache.
    for (let i = 0; i < users.length; i++) assert.equal((await verifyToken(users[i], opts)).sub, `user_pad_${i}`)
    assert.equal(ver().hits - afterFlood.hits, users.length)
  })

  test('the same through authenticateRequest (header and cookie): one entry per token', async () => {
    const opts = { jwtKey: key.publicPem }
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_pad_auth' }))
    const before = ver()
    for (let n = 0; n < 50; n++) {
      const state = await authenticateRequest(bearer(token + '='.repeat(n)), opts)
      assert.equal(state.toAuth().userId, 'user_pad_auth')
      const cookie = await authenticateRequest({ headers: { cookie: `__client_uat=1; __session=${token}${'='.repeat(n)}` } }, opts)
      assert.equal(cookie.toAuth().userId, 'user_pad_auth')
    }
    assert.equal(ver().inserts - before.inserts, 1)
  })

  test('after a key rotation, invalidateToken(t) ends every padded spelling of t (and invalidateToken(t + "==") ends t)', async () => {
    const opts = { secretKey: T.unique('sk_test_pad'), apiUrl: jwks.url }
    const t1 = T.signJwt(key, T.sessionClaims({ sub: 'user_rotated_1' }))
    const t2 = T.signJwt(key, T.sessionClaims({ sub: 'user_rotated_2' }))
    for (const s of [t1, t1 + '=', t1 + '==', t2, t2 + '===']) await verifyToken(s, opts)
    // Rotation: the instance's JWKS now holds another key only; clear the key cache.
    jwks.setKeys([otherKey.jwk])
    clearCaches('jwks')
    assert.ok(invalidateToken(t1) >= 1)
    for (const s of [t1, t1 + '=', t1 + '==', t1 + '====']) {
      const err = await T.rejectionOf(verifyToken(s, opts))
      assert.equal(err.reason, 'jwk-kid-mismatch', JSON.stringify(s.slice(-5)))
    }
    assert.ok(invalidateToken(t2 + '=') >= 1, 'a padded spelling invalidates the canonical entry')
    for (const s of [t2, t2 + '===']) assert.equal((await T.rejectionOf(verifyToken(s, opts))).reason, 'jwk-kid-mismatch')
  })

  test('"=" in the header or payload, or inside a segment, is not the same token (as Clerk: the signature covers the raw text)', async () => {
    const opts = { jwtKey: key.publicPem }
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_pad_parts' }))
    const [h, p, s] = token.split('.')
    assert.equal((await verifyToken(token, opts)).sub, 'user_pad_parts')
    // The cached canonical entry must not answer for spellings whose signed text differs.
    for (const bad of [`${h}=.${p}.${s}`, `${h}.${p}==.${s}`, `${h}==.${p}=.${s}=`]) {
      assert.equal((await T.rejectionOf(verifyToken(bad, opts))).reason, 'token-invalid-signature', bad.slice(0, 12))
      const state = await authenticateRequest(bearer(bad), opts)
      assert.equal(state.reason, 'token-invalid-signature')
    }
    for (const bad of [`${h}.${p}.${s.slice(0, 4)}=${s.slice(4)}`, `${h}.${p}.=${s}`]) {
      assert.equal((await T.rejectionOf(verifyToken(bad, opts))).reason, 'token-invalid')
    }
  })

  test('a padded JWT-template token is still refused on the session path, also after its plain spelling was tried', async () => {
    const opts = { jwtKey: key.publicPem }
    const template = T.signJwt(key, T.sessionClaims({ sub: 'user_template' }), { header: { cat: CAT_TEMPLATE } })
    for (const s of [template + '=', template, template + '==']) {
      const state = await authenticateRequest(bearer(s), opts)
      assert.equal(state.isAuthenticated, false, 'padded template token signed in')
      assert.equal(state.reason, 'token-type-mismatch')
    }
  })
})

describe('item 5: option sets are memoised under collision-free keys', () => {
  const key = T.rsaKey(2048, 'kid_opts')
  const tokenFor = (azp) => T.signJwt(key, T.sessionClaims({ sub: `user_azp_${azp}`, azp }))

  test('verifyToken: authorizedParties ["a\\u0001b"] is not ["a", "b"]', async () => {
    const jwtKey = key.publicPem
    assert.equal((await verifyToken(tokenFor('a'), { jwtKey, authorizedParties: ['a', 'b'] })).azp, 'a')
    const err = await T.rejectionOf(verifyToken(tokenFor('a'), { jwtKey, authorizedParties: ['a\u0001b'] }))
    assert.equal(err.reason, 'token-invalid-authorized-parties')
    assert.equal((await verifyToken(tokenFor('a\u0001b'), { jwtKey, authorizedParties: ['a\u0001b'] })).azp, 'a\u0001b')
  })

  test('verifyToken: audience and headerType lists, and a field boundary (\\u0000) do not collide', async () => {
    const jwtKey = key.publicPem
    const aud = T.signJwt(key, T.sessionClaims({ sub: 'user_aud', aud: 'x' }))
    assert.equal((await verifyToken(aud, { jwtKey, audience: ['x', 'y'] })).aud, 'x')
    assert.equal((await T.rejectionOf(verifyToken(aud, { jwtKey, audience: ['x\u0001y'] }))).reason, 'token-verification-failed')
    // audience ending in what used to be the field separator, against the next field.
    const azp = tokenFor('p')
    // Under the old key, audience ['q\u0000p'] with no authorizedParties and audience ['q'] with
    // authorizedParties ['p\u0000'] were the same text.
    assert.equal((await verifyToken(azp, { jwtKey, audience: ['q\u0000p'] })).azp, 'p')
    assert.equal((await T.rejectionOf(verifyToken(azp, { jwtKey, audience: ['q'], authorizedParties: ['p\u0000'] }))).reason, 'token-invalid-authorized-parties')
  })

  test('authenticateRequest: authorizedParties ["a\\u0001b"] is not ["a", "b"]', async () => {
    const jwtKey = key.publicPem
    const ok = await authenticateRequest(bearer(tokenFor('b')), { jwtKey, authorizedParties: ['a', 'b'] })
    assert.equal(ok.isAuthenticated, true)
    const state = await authenticateRequest(bearer(tokenFor('b')), { jwtKey, authorizedParties: ['a\u0001b'] })
    assert.equal(state.isAuthenticated, false)
    assert.equal(state.reason, 'token-invalid-authorized-parties')
  })
})

describe('item 6: machine-token verification against a misbehaving Backend API', () => {
  const SK = 'sk_test_hardening_machine'
  const RESOURCE = { id: 'ak_id_1', subject: 'user_1', scopes: ['read'], name: 'k' }
  const opts = (apiUrl, extra = {}) => ({ secretKey: SK, apiUrl, acceptsToken: 'any', ...extra })

  for (const status of [302, 307, 308]) {
    test(`a ${status} redirect to another origin is never followed: unexpected-error, the token and key never leave`, async () => {
      const evil = await startServer(() => ({ status: 200, body: RESOURCE }))
      const bapi = await startServer(() => ({ status, headers: { location: `${evil.url}/v1/api_keys/verify` }, body: {} }))
      const token = `ak_${crypto.randomBytes(8).toString('hex')}`
      const state = await authenticateRequest(bearer(token), opts(bapi.url))
      assert.equal(state.isAuthenticated, false)
      assert.equal(state.reason, 'unexpected-error')
      assert.equal(state.message, `Unexpected error (code=unexpected-error, status=${status})`)
      assert.equal(bapi.requests.length, 1)
      assert.equal(evil.requests.length, 0, 'the redirect target was contacted')
    })
  }

  test('a same-origin redirect is not followed either, and an oat_ token answered 3xx is never negative-cached', async () => {
    const bapi = await startServer((rec) =>
      rec.url.startsWith('/elsewhere') ? { status: 404, body: {} } : { status: 307, headers: { location: '/elsewhere' }, body: {} },
    )
    const token = `oat_${crypto.randomBytes(8).toString('hex')}`
    for (let i = 0; i < 3; i++) {
      const state = await authenticateRequest(bearer(token), opts(bapi.url))
      assert.equal(state.reason, 'unexpected-error')
      assert.match(state.message, /status=307/)
    }
    assert.equal(bapi.requests.length, 3, 'one call per verification, none to /elsewhere, none skipped by a cache')
    assert.ok(bapi.requests.every((r) => !r.url.startsWith('/elsewhere')))
    assert.equal(cacheStats().negative.size, 0)
  })

  test('429 with Retry-After (seconds): the instance fails fast until it passes, other instances are unaffected', async () => {
    let limited = true
    const bapi = await startServer(() => (limited ? { status: 429, headers: { 'retry-after': '2' }, body: { errors: [] } } : { status: 200, body: RESOURCE }))
    const token = `ak_${crypto.randomBytes(8).toString('hex')}`
    const first = await authenticateRequest(bearer(token), opts(bapi.url))
    assert.equal(first.reason, 'unexpected-error')
    assert.equal(first.message, 'Unexpected error (code=unexpected-error, status=429)')
    assert.equal(bapi.requests.length, 1)
    for (let i = 0; i < 20; i++) {
      const state = await authenticateRequest(bearer(`ak_${i}_${token}`), opts(bapi.url))
      assert.equal(state.isAuthenticated, false)
      assert.equal(state.reason, 'unexpected-error')
      assert.match(state.message, /^Rate limited by the Clerk Backend API: retry after \d+ s \(at .+ GMT\)\. \(code=unexpected-error, status=429\)$/)
    }
    assert.equal(bapi.requests.length, 1, 'no call while rate limited')
    // Another instance (other secret key) on the same Backend API is not blocked.
    limited = false
    const other = await authenticateRequest(bearer(token), opts(bapi.url, { secretKey: 'sk_test_other_instance' }))
    assert.equal(other.isAuthenticated, true)
    assert.equal(bapi.requests.length, 2)
    // Once Retry-After has passed, the instance calls again.
    await T.sleep(2100)
    const later = await authenticateRequest(bearer(token), opts(bapi.url))
    assert.equal(later.isAuthenticated, true)
    assert.equal(bapi.requests.length, 3)
  })

  test('Retry-After as an HTTP date is honoured; beyond 60 s it is capped; garbage and 0 are ignored', async () => {
    let retryAfter
    const bapi = await startServer(() => ({ status: 429, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter }, body: {} }))
    const sk = () => T.unique('sk_test_ra')
    const token = () => `ak_${crypto.randomBytes(8).toString('hex')}`
    const calls = async (secretKey, n) => {
      const start = bapi.requests.length
      let last
      for (let i = 0; i < n; i++) last = await authenticateRequest(bearer(token()), opts(bapi.url, { secretKey }))
      return { calls: bapi.requests.length - start, last }
    }
    // HTTP date 30 s ahead: one call, then fail fast with a wait of at most 30 s.
    retryAfter = new Date(Date.now() + 30000).toUTCString()
    let r = await calls(sk(), 5)
    assert.equal(r.calls, 1)
    const wait = Number(/retry after (\d+) s/.exec(r.last.message)[1])
    assert.ok(wait >= 28 && wait <= 30, `wait ${wait}`)
    // A day ahead, or more seconds than fit in 64 bits: capped at 60 s.
    for (const v of ['86400', '9'.repeat(40)]) {
      retryAfter = v
      r = await calls(sk(), 3)
      assert.equal(r.calls, 1)
      assert.ok(Number(/retry after (\d+) s/.exec(r.last.message)[1]) <= 60)
    }
    // Garbage, negative, zero, a past date or no header: nothing is blocked (every verification asks).
    for (const v of ['soon', '-5', '0', '1.5', 'Thu, 01 Jan 1970 00:00:00 GMT', 'Wed, 99 Foo 2026 25:00:00 GMT', undefined]) {
      retryAfter = v
      r = await calls(sk(), 3)
      assert.equal(r.calls, 3, `Retry-After ${JSON.stringify(v)}`)
      assert.equal(r.last.message, 'Unexpected error (code=unexpected-error, status=429)')
    }
  })
})

describe('messages echo at most 64 characters of a token field', () => {
  const key = T.rsaKey(2048, 'kid_echo')
  let jwks
  before(async () => {
    jwks = await T.startJwksServer({ keys: [key.jwk] })
    servers.push(jwks)
  })

  test('a 10 KB kid: jwk-kid-mismatch message and x-clerk-auth-message stay short', async () => {
    const kid = 'K'.repeat(10000)
    const token = T.signJwt(key, T.sessionClaims(), { header: { kid } })
    const opts = { secretKey: T.unique('sk_test_echo'), apiUrl: jwks.url }
    const err = await T.rejectionOf(verifyToken(token, opts))
    assert.equal(err.reason, 'jwk-kid-mismatch')
    assert.ok(err.message.length < 400, `message of ${err.message.length} chars`)
    assert.ok(err.message.includes(`kid='${'K'.repeat(64)}...(10000 characters)'`), err.message.slice(0, 200))
    const state = await authenticateRequest(bearer(token), opts)
    const header = state.headers.get('x-clerk-auth-message')
    assert.ok(header && header.length < 700, `header of ${header && header.length} chars`)
    // A short kid is echoed exactly as Clerk does.
    const short = T.signJwt(key, T.sessionClaims(), { header: { kid: 'ins_short' } })
    const e2 = await T.rejectionOf(verifyToken(short, opts))
    assert.equal(
      e2.message,
      "Unable to find a signing key in JWKS that matches the kid='ins_short' of the provided session token. Please make sure that the __session cookie or the HTTP authorization header contain a Clerk-generated session JWT.",
    )
  })

  test('typ, alg, sub, aud, azp and exp of 10 KB are cut; short ones are byte-identical to Clerk', async () => {
    const big = 'x'.repeat(10000)
    const jwtKey = key.publicPem
    const claims = T.sessionClaims
    const cases = [
      {
        long: T.signJwt(key, claims(), { header: { typ: big } }),
        short: T.signJwt(key, claims(), { header: { typ: 'JOSE' } }),
        message: 'Invalid JWT type "JOSE". Expected "JWT".',
      },
      {
        long: T.noneJwt({ alg: big }, claims()),
        short: T.noneJwt({}, claims()),
        message: 'Invalid JWT algorithm "none". Supported: RS256,RS384,RS512.',
      },
      {
        long: T.signJwt(key, claims({ sub: { big } })),
        short: T.signJwt(key, claims({ sub: 5 })),
        message: 'Subject claim (sub) is required and must be a string. Received 5.',
      },
      {
        long: T.signJwt(key, claims({ aud: big })),
        short: T.signJwt(key, claims({ aud: 'b' })),
        opts: { audience: 'a' },
        message: 'Invalid JWT audience claim (aud) "b". Is not included in "["a"]".',
      },
      {
        long: T.signJwt(key, claims({ azp: big })),
        short: T.signJwt(key, claims({ azp: 'b' })),
        opts: { authorizedParties: ['a'] },
        message: 'Invalid JWT Authorized party claim (azp) "b". Expected "a".',
      },
      {
        long: T.signJwt(key, claims({ exp: big })),
        short: T.signJwt(key, claims({ exp: 'soon' })),
        message: 'Invalid JWT expiry date claim (exp) "soon". Expected number.',
      },
    ]
    for (const c of cases) {
      const err = await T.rejectionOf(verifyToken(c.long, { jwtKey, ...c.opts }))
      assert.ok(err.message.length < 300, `${err.reason}: message of ${err.message.length} chars`)
      assert.match(err.message, /\.\.\.\(\d+ characters\)/)
      const short = await T.rejectionOf(verifyToken(c.short, { jwtKey, ...c.opts }))
      assert.equal(short.message, c.message)
    }
  })
})

describe('a garbage jwtKey is refused when the options are built, naming the option', () => {
  const key = T.rsaKey(2048, 'kid_badkey')
  const token = () => T.signJwt(key, T.sessionClaims())
  const bad = {
    'not a PEM': 'definitely not a key',
    'blank': '   \n ',
    'an EC public key': () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).publicKey,
    'a private key': () => key.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    'a 1024-bit RSA key': () => crypto.generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).publicKey,
  }
  for (const [name, value] of Object.entries(bad)) {
    test(`verifyToken rejects with jwk-failed-to-resolve naming jwtKey: ${name}`, async () => {
      const jwtKey = typeof value === 'function' ? value() : value
      const err = await T.rejectionOf(verifyToken(token(), { jwtKey }))
      assert.ok(err instanceof TokenVerificationError)
      assert.equal(err.reason, 'jwk-failed-to-resolve')
      assert.equal(err.code, 'jwk-failed-to-resolve')
      assert.match(err.message, /^Invalid jwtKey \(CLERK_JWT_KEY\): /)
      assert.doesNotMatch(err.message, /Make sure that this is a valid Clerk-generated JWT/)
      assert.match(err.action, /PEM public key/)
      assert.ok(!err.message.includes(jwtKey.trim().slice(0, 40)) || jwtKey.trim() === '', 'the key is not echoed')
    })
    test(`authenticateRequest throws (code jwk-failed-to-resolve) instead of answering 401s: ${name}`, async () => {
      const jwtKey = typeof value === 'function' ? value() : value
      const err = await T.rejectionOf(authenticateRequest(bearer(token()), { jwtKey }))
      assert.equal(err.code, 'jwk-failed-to-resolve')
      assert.match(err.message, /^Invalid jwtKey \(CLERK_JWT_KEY\): /)
    })
  }

  test('clerkMiddleware throws when it is built with a garbage jwtKey', () => {
    const { clerkMiddleware } = require('../express')
    assert.throws(() => clerkMiddleware({ jwtKey: 'garbage' }), (e) => e.code === 'jwk-failed-to-resolve' && /jwtKey/.test(e.message))
  })

  test('CLERK_JWT_KEY of garbage: authenticateRequest throws naming it; clerkMiddleware() throws when built; a middleware built before the variable was set sends each request to the error handler (never a 401 that blames the token)', async (t) => {
    const saved = process.env.CLERK_JWT_KEY
    delete process.env.CLERK_JWT_KEY
    t.after(() => {
      if (saved === undefined) delete process.env.CLERK_JWT_KEY
      else process.env.CLERK_JWT_KEY = saved
    })
    const express = require('express')
    const { clerkMiddleware } = require('../express')
    const builtBefore = clerkMiddleware()
    process.env.CLERK_JWT_KEY = 'garbage from the environment'
    const err = await T.rejectionOf(authenticateRequest(bearer(token()), {}))
    assert.equal(err.code, 'jwk-failed-to-resolve')
    assert.match(err.message, /^Invalid jwtKey \(CLERK_JWT_KEY\): /)
    assert.throws(() => clerkMiddleware(), (e) => e.code === 'jwk-failed-to-resolve' && /^Invalid jwtKey \(CLERK_JWT_KEY\): /.test(e.message))
    const app = express()
    app.use(builtBefore)
    app.get('/', (req, res) => res.json({ userId: req.auth().userId }))
    app.use((e, req, res, next) => res.status(500).json({ code: e.code, message: e.message }))
    const server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
    })
    t.after(() => new Promise((resolve) => server.close(resolve)))
    const res = await T.within(fetch(`http://127.0.0.1:${server.address().port}/`, { headers: { authorization: `Bearer ${token()}` } }), 5000, 'request')
    assert.equal(res.status, 500)
    const body = await res.json()
    assert.equal(body.code, 'jwk-failed-to-resolve')
    assert.match(body.message, /^Invalid jwtKey \(CLERK_JWT_KEY\): /)
  })

  test('a good key in SPKI and PKCS#1 form still verifies', async () => {
    for (const jwtKey of [key.publicPem, key.pkcs1Pem]) assert.equal((await verifyToken(token(), { jwtKey })).sub, 'user_1')
  })

  test('no key at all: the action says which options to set and that verifyToken reads no environment variable', async () => {
    const err = await T.rejectionOf(verifyToken(token(), {}))
    assert.equal(err.reason, 'jwk-failed-to-resolve')
    assert.equal(err.message, 'Failed to resolve JWK during verification.')
    assert.equal(
      err.action,
      'Set jwtKey (CLERK_JWT_KEY) to the PEM public key of your Clerk instance, or secretKey (CLERK_SECRET_KEY) to fetch its JWKS. verifyToken reads only its options, never the environment.',
    )
  })
})
