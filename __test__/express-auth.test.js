'use strict'
// clerk-native/express authentication (API.md §4, SPEC §2.1): a real Express 5 app on 127.0.0.1 with
// clerkMiddleware -> req.auth / getAuth / requireAuth; the proxy branch still wins for /__clerk paths; a twice
// mounted middleware authenticates once. Plus clerk-native/next getAuth/authenticateRequest on Web Requests.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')

const express = require('express')
const T = require('./helpers/tokens')
const { startUpstream } = require('./helpers/upstream')
const { clerkMiddleware, getAuth, requireAuth } = require('../express')
const next = require('../next')

const PK = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k'
const key = T.rsaKey(2048, 'kid_express')
const other = T.rsaKey(2048, 'kid_express_other')
const jwtKey = key.publicPem

const ENV_KEYS = ['CLERK_SECRET_KEY', 'CLERK_JWT_KEY', 'CLERK_PUBLISHABLE_KEY', 'CLERK_MACHINE_SECRET_KEY', 'CLERK_API_URL', 'CLERK_API_VERSION', 'CLERK_FAPI_URL', 'NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY']
const savedEnv = {}
for (const k of ENV_KEYS) {
  savedEnv[k] = process.env[k]
  delete process.env[k]
}

const closers = []
after(async () => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k]
    else process.env[k] = savedEnv[k]
  }
  for (const c of closers.splice(0).reverse()) await c().catch(() => {})
})

const session = (claims = {}, opts = {}) => T.signJwt(key, T.sessionClaims(claims), opts)
const plain = (o) => JSON.parse(JSON.stringify(o)) // drops functions

/** Starts `app` on 127.0.0.1:0; closed in after(). */
async function listen(app) {
  const server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
  })
  const close = () =>
    new Promise((resolve) => {
      server.closeAllConnections?.()
      server.close(() => resolve())
    })
  closers.push(close)
  return `http://127.0.0.1:${server.address().port}`
}

/** fetch with a 10 s bound, no redirects followed. */
async function get(url, headers = {}, init = {}) {
  const res = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(10000), ...init })
  const text = await res.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: res.status, headers: res.headers, text, json }
}

/** An Express app: `mw` mounted (array = mounted in order), with the routes the tests use. */
function appWith(mw, { before: pre } = {}) {
  const app = express()
  if (pre) app.use(pre)
  for (const m of [].concat(mw)) app.use(m)
  app.get('/me', (req, res) => {
    const a = req.auth()
    res.json({ fn: a.userId, field: req.auth.userId, getAuth: getAuth(req).userId, isAuthenticated: a.isAuthenticated, tokenType: a.tokenType, orgId: a.orgId ?? null })
  })
  app.get('/accepts', (req, res) => {
    const accepts = req.query.t.includes(',') ? req.query.t.split(',') : req.query.t
    res.json(plain(getAuth(req, { acceptsToken: accepts })))
  })
  app.get('/protected', requireAuth(), (req, res) => res.json({ ok: true, userId: getAuth(req).userId }))
  app.get('/page', requireAuth({ signInUrl: '/sign-in' }), (req, res) => res.json({ ok: true }))
  app.use((err, req, res, _next) => res.status(500).json({ error: err.message }))
  return app
}

// ---------------------------------------------------------------------------------------------------------

describe('Express clerkMiddleware({ jwtKey }): req.auth, getAuth, requireAuth', () => {
  let url
  before(async () => {
    url = await listen(appWith(clerkMiddleware({ jwtKey })))
  })

  test('a valid Bearer token: req.auth() and req.auth.userId and getAuth(req) agree', async () => {
    const r = await get(`${url}/me`, { authorization: `Bearer ${session({ sub: 'user_x', org_id: 'org_x', org_role: 'org:admin' })}` })
    assert.equal(r.status, 200)
    assert.deepEqual(r.json, { fn: 'user_x', field: 'user_x', getAuth: 'user_x', isAuthenticated: true, tokenType: 'session_token', orgId: 'org_x' })
  })

  test('the __session cookie (with __client_uat) authenticates too', async () => {
    const claims = T.sessionClaims({ sub: 'user_cookie' })
    const r = await get(`${url}/me`, { cookie: `__client_uat=${claims.iat}; __session=${T.signJwt(key, claims)}` })
    assert.equal(r.json.fn, 'user_cookie')
  })

  test('no token / a forged token: signed-out auth object (userId null), the route still runs', async () => {
    for (const headers of [{}, { authorization: `Bearer ${T.signJwt(other, T.sessionClaims(), { header: { kid: key.kid } })}` }, { authorization: 'Bearer garbage' }]) {
      const r = await get(`${url}/me`, headers)
      assert.equal(r.status, 200)
      assert.deepEqual(r.json, { fn: null, field: null, getAuth: null, isAuthenticated: false, tokenType: 'session_token', orgId: null })
    }
  })

  test("getAuth(req, { acceptsToken: 'api_key' }) for a session token -> signed-out api_key object", async () => {
    const token = session({ sub: 'user_acc' })
    const r = await get(`${url}/accepts?t=api_key`, { authorization: `Bearer ${token}` })
    assert.equal(r.json.tokenType, 'api_key')
    assert.equal(r.json.isAuthenticated, false)
    assert.equal(r.json.userId, null)
    assert.equal(r.json.id, null)
    for (const t of ['session_token', 'any', 'api_key,session_token']) {
      const ok = await get(`${url}/accepts?t=${t}`, { authorization: `Bearer ${token}` })
      assert.equal(ok.json.isAuthenticated, true, t)
      assert.equal(ok.json.userId, 'user_acc', t)
    }
    const m2m = await get(`${url}/accepts?t=m2m_token,oauth_token`, { authorization: `Bearer ${token}` })
    assert.equal(m2m.json.tokenType, 'm2m_token')
    assert.equal(m2m.json.isAuthenticated, false)
  })

  test('requireAuth(): 401 JSON for no token and for an invalid/expired token; next() for a valid one', async () => {
    const now = T.nowSec()
    const bad = [
      {},
      { authorization: 'Bearer garbage' },
      { authorization: `Bearer ${T.signJwt(other, T.sessionClaims(), { header: { kid: key.kid } })}` },
      { authorization: `Bearer ${session({ exp: now - 600, iat: now - 700, nbf: now - 700 })}` },
      { authorization: `Bearer ${session({}, { header: { cat: 'cl_B7d4PD222AAA' } })}` },
    ]
    for (const headers of bad) {
      const r = await get(`${url}/protected`, headers)
      assert.equal(r.status, 401, JSON.stringify(headers))
      assert.match(r.headers.get('content-type'), /^application\/json/)
      assert.deepEqual(r.json, { errors: [{ code: 'unauthenticated', message: 'Unauthenticated' }] })
    }
    const ok = await get(`${url}/protected`, { authorization: `Bearer ${session({ sub: 'user_ok' })}` })
    assert.equal(ok.status, 200)
    assert.deepEqual(ok.json, { ok: true, userId: 'user_ok' })
  })

  test("requireAuth({ signInUrl }) -> 302 to signInUrl when signed out; the route runs when signed in", async () => {
    const r = await get(`${url}/page`)
    assert.equal(r.status, 302)
    assert.equal(r.headers.get('location'), '/sign-in')
    const ok = await get(`${url}/page`, { authorization: `Bearer ${session()}` })
    assert.equal(ok.status, 200)
  })

  test('getAuth / requireAuth without clerkMiddleware: a clear error (500 via next(err)), not a silent pass', async () => {
    const bare = await listen(appWith([]))
    const r = await get(`${bare}/protected`, { authorization: `Bearer ${session()}` })
    assert.equal(r.status, 500)
    assert.match(r.json.error, /clerkMiddleware/)
    const m = await get(`${bare}/me`)
    assert.equal(m.status, 500)
  })

  test('a foreign (unbranded) req.auth set before clerkMiddleware is replaced', async () => {
    const u = await listen(
      appWith(clerkMiddleware({ jwtKey }), {
        before: (req, res, nxt) => {
          req.auth = () => ({ userId: 'user_spoofed', isAuthenticated: true })
          nxt()
        },
      }),
    )
    const r = await get(`${u}/me`)
    assert.equal(r.json.fn, null)
    assert.equal(r.json.isAuthenticated, false)
    const s = await get(`${u}/me`, { authorization: `Bearer ${session({ sub: 'user_real' })}` })
    assert.equal(s.json.fn, 'user_real')
  })
})

describe('Express: the proxy branch wins for /__clerk paths (proxied requests are never authenticated)', () => {
  test('an invalid or unknown-kid Authorization on /__clerk/* is proxied with no auth work; other paths authenticate', async () => {
    const up = await startUpstream()
    closers.push(() => up.close())
    const jwks = await T.startJwksServer({ keys: [key.jwk] })
    closers.push(() => jwks.close())
    const secretKey = T.unique('sk_test_proxy')
    const url = await listen(
      appWith(clerkMiddleware({ secretKey, apiUrl: jwks.url, publishableKey: PK, fapiUrl: up.url, frontendApiProxy: { enabled: true } })),
    )
    // a token that would need a JWKS fetch if it were authenticated
    const token = T.signJwt(key, T.sessionClaims(), { header: { kid: key.kid } })
    for (const authorization of [`Bearer ${token}`, 'Bearer !!!not-a-token', 'Basic Zm9vOmJhcg==']) {
      const r = await get(`${url}/__clerk/v1/client?x=1`, { authorization })
      assert.equal(r.status, 200, authorization)
      assert.deepEqual(r.json, { ok: true })
    }
    assert.equal(up.requests.length, 3)
    assert.equal(up.requests[0].url, '/v1/client?x=1')
    assert.equal(jwks.hits, 0, 'no JWKS fetch: proxied requests are not authenticated')
    // the same token on an app path is authenticated (and needs the JWKS): the check above can fail
    const me = await get(`${url}/me`, { authorization: `Bearer ${token}` })
    assert.equal(me.json.isAuthenticated, true)
    assert.equal(jwks.hits, 1)
    assert.equal(up.requests.length, 3)
  })
})

describe('Express: clerkMiddleware mounted twice authenticates once', () => {
  test('the same middleware twice, and two instances: one authentication per request, req.auth kept', async () => {
    const jwks = await T.startJwksServer({ keys: [key.jwk] })
    closers.push(() => jwks.close())
    // skipJwksCache: every authentication fetches the JWKS, so the hit count is the number of authentications
    const options = { secretKey: T.unique('sk_twice'), apiUrl: jwks.url, skipJwksCache: true }
    const mw = clerkMiddleware(options)
    const app = express()
    const seen = []
    app.use(mw)
    app.use((req, res, nxt) => {
      seen.push(req.auth)
      nxt()
    })
    app.use(mw)
    app.use(clerkMiddleware({ ...options }))
    app.get('/x', (req, res) => res.json({ same: req.auth === seen.at(-1), userId: req.auth().userId }))
    const url = await listen(app)

    const r1 = await get(`${url}/x`, { authorization: `Bearer ${session({ sub: 'user_once' })}` })
    assert.deepEqual(r1.json, { same: true, userId: 'user_once' })
    assert.equal(jwks.hits, 1)
    const r2 = await get(`${url}/x`, { authorization: `Bearer ${session({ sub: 'user_twice' })}` })
    assert.deepEqual(r2.json, { same: true, userId: 'user_twice' })
    assert.equal(jwks.hits, 2)
  })
})

describe("Express with acceptsToken: machine tokens through clerkMiddleware", () => {
  test("acceptsToken 'api_key': no token, an unknown ak_ and a named API key all answer (auth objects with a 'name' field)", async () => {
    // req.auth is a function carrying the auth object's fields: a field called `name` (API key resources and
    // signed-out machine objects have one) must not break it (a function's `name` is read-only).
    const secretKey = T.unique('sk_test_named')
    const bapi = await T.startBackendApi({ secretKeys: [secretKey] })
    closers.push(() => bapi.close())
    const ak = T.unique('ak')
    bapi.answer(ak, { body: { id: 'ak_named', name: 'CI key', subject: 'user_named', scopes: [] } })
    const app = express()
    app.use(clerkMiddleware({ secretKey, apiUrl: bapi.url, acceptsToken: 'api_key' }))
    app.get('/k', (req, res) => res.json({ name: req.auth().name, field: req.auth.name, userId: req.auth.userId, ok: req.auth.isAuthenticated }))
    const url = await listen(app)
    assert.deepEqual((await get(`${url}/k`)).json, { name: null, field: null, userId: null, ok: false })
    assert.deepEqual((await get(`${url}/k`, { authorization: `Bearer ${T.unique('ak')}` })).json, { name: null, field: null, userId: null, ok: false })
    assert.deepEqual((await get(`${url}/k`, { authorization: `Bearer ${ak}` })).json, { name: 'CI key', field: 'CI key', userId: 'user_named', ok: true })
  })

  test("acceptsToken 'any': an ak_ token gives an api_key req.auth; getAuth filters by type", async () => {
    const secretKey = T.unique('sk_test_m')
    const bapi = await T.startBackendApi({ secretKeys: [secretKey] })
    closers.push(() => bapi.close())
    const ak = T.unique('ak')
    bapi.answer(ak, { body: { id: 'ak_id', subject: 'user_machine', scopes: ['read'] } })
    const url = await listen(appWith(clerkMiddleware({ secretKey, apiUrl: bapi.url, jwtKey, acceptsToken: 'any' })))
    const me = await get(`${url}/me`, { authorization: `Bearer ${ak}` })
    assert.equal(me.json.tokenType, 'api_key')
    assert.equal(me.json.isAuthenticated, true)
    assert.equal(me.json.fn, 'user_machine')
    const asKey = await get(`${url}/accepts?t=api_key`, { authorization: `Bearer ${ak}` })
    assert.equal(asKey.json.id, 'ak_id')
    assert.equal(asKey.json.isAuthenticated, true)
    const asSession = await get(`${url}/accepts?t=session_token`, { authorization: `Bearer ${ak}` })
    assert.equal(asSession.json.tokenType, 'session_token')
    assert.equal(asSession.json.isAuthenticated, false)
    assert.equal(bapi.requests.length, 3)
    assert.equal(bapi.requests[0].path, '/v1/api_keys/verify')

    // a type filtered out by getAuth gives the same signed-out shape as the middleware's own signed-out objects
    const keys = (o) => Object.keys(o).sort()
    const noToken = await get(`${url}/accepts?t=session_token`)
    assert.equal(noToken.json.isAuthenticated, false)
    assert.deepEqual(keys(asSession.json), keys(noToken.json))
    const unknownKey = await get(`${url}/accepts?t=api_key`, { authorization: `Bearer ${T.unique('ak')}` })
    assert.equal(unknownKey.json.isAuthenticated, false)
    const sessionAsKey = await get(`${url}/accepts?t=api_key`, { authorization: `Bearer ${session()}` })
    assert.equal(sessionAsKey.json.tokenType, 'api_key')
    assert.deepEqual(keys(sessionAsKey.json), keys(unknownKey.json))
  })
})

// ---------------------------------------------------------------------------------------------------------

describe('clerk-native/next: getAuth(request, { jwtKey }) and authenticateRequest on Web Requests', () => {
  test('getAuth with a Web Request: signed-in (header and cookie) and signed-out', async () => {
    const a = await T.within(next.getAuth(new Request('https://app.example/api/me', { headers: { authorization: `Bearer ${session({ sub: 'user_next' })}` } }), { jwtKey }), 10000, 'getAuth')
    assert.equal(a.userId, 'user_next')
    assert.equal(a.isAuthenticated, true)
    assert.equal(a.tokenType, 'session_token')
    const claims = T.sessionClaims({ sub: 'user_next_cookie' })
    const c = await next.getAuth(new Request('https://app.example/', { headers: { cookie: `__session=${T.signJwt(key, claims)}; __client_uat=${claims.iat}` } }), { jwtKey })
    assert.equal(c.userId, 'user_next_cookie')
    const out = await next.getAuth(new Request('https://app.example/api/me'), { jwtKey })
    assert.equal(out.userId, null)
    assert.equal(out.isAuthenticated, false)
    assert.equal(out.has({ role: 'admin' }), false)
  })

  test("Next defaults to acceptsToken 'any', with the category check still applied (JWT template rejected)", async () => {
    const secretKey = T.unique('sk_test_next')
    const bapi = await T.startBackendApi({ secretKeys: [secretKey] })
    closers.push(() => bapi.close())
    const ak = T.unique('ak')
    bapi.answer(ak, { body: { id: 'ak_next', subject: 'user_k', scopes: [] } })
    const opts = { jwtKey, secretKey, apiUrl: bapi.url }
    const state = await next.authenticateRequest(new Request('https://app.example/api', { headers: { authorization: `Bearer ${ak}` } }), opts)
    assert.equal(state.status, 'signed-in')
    assert.equal(state.tokenType, 'api_key')
    const tpl = await next.authenticateRequest(
      new Request('https://app.example/api', { headers: { authorization: `Bearer ${session({}, { header: { cat: 'cl_B7d4PD222AAA' } })}` } }),
      opts,
    )
    assert.equal(tpl.status, 'signed-out')
    assert.equal(tpl.reason, 'token-type-mismatch')
    const strict = await next.authenticateRequest(new Request('https://app.example/api', { headers: { authorization: `Bearer ${ak}` } }), { ...opts, acceptsToken: 'session_token' })
    assert.equal(strict.reason, 'token-type-mismatch')
  })

  test('Next: the publishable key falls back to NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY (restored after)', async () => {
    process.env.NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY = PK
    try {
      const state = await next.authenticateRequest(new Request('https://app.example/'), { jwtKey })
      assert.equal(state.publishableKey, PK)
    } finally {
      delete process.env.NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY
    }
  })
})
