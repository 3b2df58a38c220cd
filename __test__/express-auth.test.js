'use strict'
// clerk-native/express authentication (API.md §4, SPEC §2.1): a real Express 5 app on 127.0.0.1 with
// clerkMiddleware -> req.auth / getAuth / requireAuth; the proxy branch still wins for /__clerk paths; a twice
// mounted middleware authenticates once. Plus clerk-native/next getAuth/authenticateRequest on Web Requests.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')

const express = require('express')
const T = require('./helpers/tokens')
const { startUpstream } = require('./helpers/upstream')
const { clerkMiddleware, getAuth, requireAuth, createClerkClient } = require('../express')
const next = require('../next')

const PK = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k'
const key = T.rsaKey(2048, 'kid_express')
const other = T.rsaKey(2048, 'kid_express_other')
const jwtKey = key.publicPem

const ENV_KEYS = ['CLERK_SIGN_IN_URL', 'CLERK_DOMAIN', 'CLERK_PROXY_URL', 'CLERK_IS_SATELLITE', 'CLERK_SECRET_KEY', 'CLERK_JWT_KEY', 'CLERK_PUBLISHABLE_KEY', 'CLERK_MACHINE_SECRET_KEY', 'CLERK_API_URL', 'CLERK_API_VERSION', 'CLERK_FAPI_URL', 'NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY']
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
  app.get('/protected', requireAuth({ jwtKey, unauthenticated: 'json' }), (req, res) => res.json({ ok: true, userId: getAuth(req).userId }))
  app.get('/page', requireAuth({ jwtKey, signInUrl: '/sign-in' }), (req, res) => res.json({ ok: true }))
  app.get('/home', requireAuth({ jwtKey }), (req, res) => res.json({ ok: true }))
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
    // an array without the token's type: Clerk's invalidTokenAuthObject (tokenType null)
    const m2m = await get(`${url}/accepts?t=m2m_token,oauth_token`, { authorization: `Bearer ${token}` })
    assert.deepEqual(m2m.json, { isAuthenticated: false, tokenType: null })
  })

  test("requireAuth({ unauthenticated: 'json' }): 401 JSON for no token and for an invalid/expired token; next() for a valid one", async () => {
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

  test("requireAuth({ signInUrl }) -> 302 to signInUrl when signed out (Express's res.redirect); the route runs when signed in", async () => {
    const r = await get(`${url}/page`)
    assert.equal(r.status, 302)
    assert.equal(r.headers.get('location'), '/sign-in')
    assert.equal(r.text, 'Found. Redirecting to /sign-in')
    const ok = await get(`${url}/page`, { authorization: `Bearer ${session()}` })
    assert.equal(ok.status, 200)
  })

  test('requireAuth() -> 302 to CLERK_SIGN_IN_URL, else /, as Clerk', async () => {
    const r = await get(`${url}/home`)
    assert.equal(r.status, 302)
    assert.equal(r.headers.get('location'), '/')
    process.env.CLERK_SIGN_IN_URL = 'https://accounts.example.test/sign-in'
    try {
      const e = await get(`${url}/home`)
      assert.equal(e.status, 302)
      assert.equal(e.headers.get('location'), 'https://accounts.example.test/sign-in')
    } finally {
      delete process.env.CLERK_SIGN_IN_URL
    }
  })

  test('getAuth without clerkMiddleware: a clear error (500 via next(err)), not a silent pass; requireAuth authenticates by itself', async () => {
    const bare = await listen(appWith([]))
    const m = await get(`${bare}/accepts?t=any`)
    assert.equal(m.status, 500)
    assert.match(m.json.error, /clerkMiddleware/)
    const r = await get(`${bare}/protected`, { authorization: `Bearer ${session({ sub: 'user_standalone' })}` })
    assert.equal(r.status, 200)
    assert.deepEqual(r.json, { ok: true, userId: 'user_standalone' })
    const no = await get(`${bare}/protected`)
    assert.equal(no.status, 401)
    assert.equal(no.headers.get('x-clerk-auth-status'), 'signed-out')
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
  test("API keys: no token, an unknown ak_ and a named API key all answer (auth objects with a 'name' field)", async () => {
    // req.auth is a function carrying the auth object's fields: a field called `name` (API key resources and
    // signed-out machine objects have one) must not break it (a function's `name` is read-only).
    const secretKey = T.unique('sk_test_named')
    const bapi = await T.startBackendApi({ secretKeys: [secretKey] })
    closers.push(() => bapi.close())
    const ak = T.unique('ak')
    bapi.answer(ak, { body: { id: 'ak_named', name: 'CI key', subject: 'user_named', scopes: [] } })
    const app = express()
    // acceptsToken is ignored by the middleware (every token type is authenticated, as Clerk's); getAuth filters.
    app.use(clerkMiddleware({ secretKey, apiUrl: bapi.url, acceptsToken: 'api_key' }))
    app.get('/k', (req, res) =>
      res.json({ name: getAuth(req, { acceptsToken: 'api_key' }).name, field: req.auth.name ?? null, userId: req.auth.userId, ok: req.auth.isAuthenticated }),
    )
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
    assert.match(bapi.requests[0].path, /^(\/v1)?\/api_keys\/verify$/)

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

describe('Express: the rest of @clerk/express 2.1.70 (function options, state headers, clients, exports)', () => {
  test('clerkMiddleware((req) => options) and async callbacks: options per request; a throwing or non-object callback goes to next(err)', async () => {
    const other2 = T.rsaKey(2048, 'kid_express_tenant_b')
    const app = express()
    app.use(
      clerkMiddleware(async (req) => {
        if (req.get('x-tenant') === 'boom') throw new Error('tenant lookup failed')
        if (req.get('x-tenant') === 'none') return 'not options'
        return { jwtKey: req.get('x-tenant') === 'b' ? other2.publicPem : jwtKey }
      }),
    )
    app.get('/me', (req, res) => res.json({ userId: getAuth(req).userId }))
    app.use((err, req, res, _next) => res.status(500).json({ error: err.message }))
    const url = await listen(app)
    const a = T.signJwt(key, T.sessionClaims({ sub: 'user_a' }))
    const b = T.signJwt(other2, T.sessionClaims({ sub: 'user_b' }))
    assert.equal((await get(`${url}/me`, { authorization: `Bearer ${a}` })).json.userId, 'user_a')
    assert.equal((await get(`${url}/me`, { authorization: `Bearer ${b}`, 'x-tenant': 'b' })).json.userId, 'user_b')
    assert.equal((await get(`${url}/me`, { authorization: `Bearer ${a}`, 'x-tenant': 'b' })).json.userId, null)
    const boom = await get(`${url}/me`, { 'x-tenant': 'boom' })
    assert.equal(boom.status, 500)
    assert.equal(boom.json.error, 'tenant lookup failed')
    const none = await get(`${url}/me`, { 'x-tenant': 'none' })
    assert.equal(none.status, 500)
    assert.match(none.json.error, /clerkMiddleware options must be an object, or a function/)
  })

  test('signed-out responses carry x-clerk-auth-status / -reason as Clerk sets them; debug: true is accepted (and ignored) and debug() answers', async () => {
    const app = express()
    app.use(clerkMiddleware({ jwtKey, debug: true }))
    app.get('/me', (req, res) => res.json({ debug: typeof getAuth(req).debug() }))
    const url = await listen(app)
    const r = await get(`${url}/me`)
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('x-clerk-auth-status'), 'signed-out')
    assert.equal(r.headers.get('x-clerk-auth-reason'), 'session-token-and-uat-missing')
    assert.deepEqual(r.json, { debug: 'object' })
    const bad = await get(`${url}/me`, { authorization: `Bearer ${T.signJwt(other, T.sessionClaims(), { header: { kid: key.kid } })}` })
    assert.equal(bad.headers.get('x-clerk-auth-status'), 'signed-out')
    assert.ok(bad.headers.get('x-clerk-auth-reason'))
  })

  test('x-clerk-auth-message never turns a hostile token into a 500: a message Node cannot send as a header is left out', async () => {
    const app = express()
    app.use(clerkMiddleware({ jwtKey }))
    app.get('/me', (req, res) => res.json({ userId: getAuth(req).userId }))
    app.use((err, req, res, _next) => res.status(500).json({ error: err.message }))
    const url = await listen(app)
    for (const header of [{ alg: 'RS\u2603' }, { typ: 'J\u2603T' }, { alg: 'RS256\u00e9' }, { alg: 'x'.repeat(5000) }]) {
      const token = T.encodeJwt({ typ: 'JWT', kid: key.kid, alg: 'RS256', ...header }, T.sessionClaims(), 'sig')
      const r = await get(`${url}/me`, { authorization: `Bearer ${token}` })
      assert.equal(r.status, 200, JSON.stringify(header).slice(0, 40))
      assert.deepEqual(r.json, { userId: null })
      assert.equal(r.headers.get('x-clerk-auth-status'), 'signed-out')
      const message = r.headers.get('x-clerk-auth-message')
      if (message !== null) assert.ok(message.length < 400, 'capped')
    }
  })

  test('every RequestState header is appended (Set-Cookie kept as separate headers); a Location answers 307 with no body; a handshake without Location goes to next(err)', async () => {
    // A real client of ours whose authenticateRequest adds what a refresh or handshake would (hs owns producing them).
    const client = createClerkClient({ jwtKey })
    const real = client.authenticateRequest
    client.authenticateRequest = async (req, opts) => {
      const state = await real(req, opts)
      const mode = req.headers['x-mode']
      if (mode === 'cookies' || mode === 'redirect') {
        state.headers.append('set-cookie', '__session=new; Path=/; HttpOnly')
        state.headers.append('set-cookie', '__client_uat=1; Path=/')
      }
      if (mode === 'redirect') {
        state.headers.set('location', 'https://clerk.example.com/v1/client/handshake?redirect_url=x')
        state.headers.set('cache-control', 'no-store')
      }
      if (mode === 'broken-handshake') state.status = 'handshake'
      return state
    }
    const app = express()
    app.use(clerkMiddleware({ clerkClient: client }))
    app.get('/me', (req, res) => res.json({ userId: getAuth(req).userId }))
    app.use((err, req, res, _next) => res.status(500).json({ error: err.message }))
    const url = await listen(app)
    const token = session({ sub: 'user_hdr' })
    const rawCookies = (r) => r.headers.getSetCookie()
    const c = await get(`${url}/me`, { authorization: `Bearer ${token}`, 'x-mode': 'cookies' })
    assert.equal(c.status, 200)
    assert.deepEqual(rawCookies(c), ['__session=new; Path=/; HttpOnly', '__client_uat=1; Path=/'])
    assert.equal(c.json.userId, 'user_hdr')
    const r = await get(`${url}/me`, { authorization: `Bearer ${token}`, 'x-mode': 'redirect' })
    assert.equal(r.status, 307)
    assert.equal(r.headers.get('location'), 'https://clerk.example.com/v1/client/handshake?redirect_url=x')
    assert.equal(r.headers.get('cache-control'), 'no-store')
    assert.equal(rawCookies(r).length, 2)
    assert.equal(r.text, '')
    const h = await get(`${url}/me`, { 'x-mode': 'broken-handshake' })
    assert.equal(h.status, 500)
    assert.equal(h.json.error, 'Clerk: unexpected handshake without redirect')
  })

  test('function-valued isSatellite / domain / proxyUrl are resolved against the request URL (X-Forwarded-* first) before authenticateRequest; frontendApiProxy derives proxyUrl', async () => {
    const seen = []
    const client = createClerkClient({ jwtKey, publishableKey: PK, secretKey: 'sk_test_fn_options' })
    const real = client.authenticateRequest
    client.authenticateRequest = (req, opts) => {
      seen.push({ isSatellite: opts.isSatellite, domain: opts.domain, proxyUrl: opts.proxyUrl, acceptsToken: opts.acceptsToken })
      return real(req, opts)
    }
    const app = express()
    const fnApp = express.Router()
    fnApp.use(
      clerkMiddleware({
        clerkClient: client,
        jwtKey,
        signInUrl: 'https://primary.example.com/sign-in',
        isSatellite: (url) => url.hostname.startsWith('sat.'),
        domain: (url) => url.hostname,
        proxyUrl: (url) => (url.hostname.startsWith('sat.') ? '/__proxy' : ''),
      }),
    )
    fnApp.get('/x', (req, res) => res.json({ ok: true }))
    app.use('/fn', fnApp)
    const proxied = express.Router()
    proxied.use(clerkMiddleware({ clerkClient: client, jwtKey, publishableKey: PK, secretKey: 'sk_test_fn_options', frontendApiProxy: { enabled: true, path: '/__clerk' } }))
    proxied.get('/y', (req, res) => res.json({ ok: true }))
    app.use('/px', proxied)
    const url = await listen(app)
    await get(`${url}/fn/x`, { 'x-forwarded-host': 'sat.example.net, proxy.internal', 'x-forwarded-proto': 'https' })
    await get(`${url}/fn/x`, { 'x-forwarded-host': 'app.example.org' })
    await get(`${url}/px/y`, { 'x-forwarded-host': 'shop.example.com', 'x-forwarded-proto': 'https' })
    assert.deepEqual(seen, [
      { isSatellite: true, domain: 'sat.example.net', proxyUrl: 'https://sat.example.net/__proxy', acceptsToken: 'any' },
      { isSatellite: false, domain: 'app.example.org', proxyUrl: undefined, acceptsToken: 'any' },
      { isSatellite: false, domain: undefined, proxyUrl: 'https://shop.example.com/__clerk', acceptsToken: 'any' },
    ])
  })

  test("a satellite without domain/proxyUrl, or a development satellite without an absolute signInUrl: Clerk's error through next(err) on each request", async () => {
    const app = express()
    app.get('/a', clerkMiddleware({ jwtKey, isSatellite: true }), (req, res) => res.json({ ok: true }))
    app.get('/b', clerkMiddleware({ jwtKey, isSatellite: (url) => url.pathname === '/b', domain: 'sat.example.net', secretKey: 'sk_test_sat' }), (req, res) => res.json({ ok: true }))
    app.get('/c', clerkMiddleware({ jwtKey, isSatellite: true, domain: 'sat.example.net', secretKey: 'sk_test_sat', signInUrl: 'https://primary.example.com/sign-in' }), (req, res) => res.json({ ok: true }))
    app.use((err, req, res, _next) => res.status(500).json({ error: err.message }))
    const url = await listen(app)
    const a = await get(`${url}/a`)
    assert.equal(a.status, 500)
    assert.equal(a.json.error, 'Missing domain and proxyUrl. A satellite application needs to specify a domain or a proxyUrl')
    const b = await get(`${url}/b`)
    assert.equal(b.status, 500)
    assert.match(b.json.error, /Invalid signInUrl\. A satellite application requires a signInUrl for development instances/)
    assert.equal((await get(`${url}/c`)).status, 200)
  })

  test("authenticateRequest as @clerk/express exports it ({ clerkClient, request, options }) and as the core's (request, options)", async () => {
    const { authenticateRequest } = require('../express')
    const client = createClerkClient({ jwtKey })
    const app = express()
    app.get('/a', async (req, res, nxt) => {
      try {
        const s1 = await authenticateRequest({ clerkClient: client, request: req, options: { domain: (u) => u.hostname } })
        const s2 = await authenticateRequest(req, { jwtKey })
        res.json({ s1: s1.toAuth().userId, s1domain: s1.domain, s2: s2.toAuth().userId, status: s2.status })
      } catch (err) {
        nxt(err)
      }
    })
    const url = await listen(app)
    const r = await get(`${url}/a`, { authorization: `Bearer ${session({ sub: 'user_ar' })}`, 'x-forwarded-host': 'tenant.example.com' })
    assert.deepEqual(r.json, { s1: 'user_ar', s1domain: 'tenant.example.com', s2: 'user_ar', status: 'signed-in' })
    const web = await authenticateRequest(new Request('https://x.example.com/', { headers: { authorization: `Bearer ${session({ sub: 'user_web' })}` } }), { jwtKey })
    assert.equal(web.toAuth().userId, 'user_web')
  })

  test("createClerkClient: @clerk/backend's Backend API client with our authenticateRequest, the client's options merged as Clerk merges them", async () => {
    const bapiSeen = []
    const bapiServer = require('node:http').createServer((req, res) => {
      bapiSeen.push({ method: req.method, url: req.url, auth: req.headers.authorization })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ object: 'user', id: 'user_api', email_addresses: [], phone_numbers: [], web3_wallets: [], external_accounts: [], saml_accounts: [], enterprise_accounts: [], public_metadata: {}, private_metadata: {}, unsafe_metadata: {} }))
    })
    await new Promise((r) => bapiServer.listen(0, '127.0.0.1', r))
    closers.push(() => new Promise((r) => bapiServer.close(() => r())))
    const apiUrl = `http://127.0.0.1:${bapiServer.address().port}`
    const client = createClerkClient({ secretKey: 'sk_test_client_secret', apiUrl, jwtKey })
    const user = await client.users.getUser('user_api')
    assert.equal(user.id, 'user_api')
    assert.deepEqual(bapiSeen, [{ method: 'GET', url: '/v1/users/user_api', auth: 'Bearer sk_test_client_secret' }])
    // our authenticateRequest: a Node-style request works, the client's jwtKey is used
    const state = await client.authenticateRequest({ headers: { authorization: `Bearer ${session({ sub: 'user_cc' })}` } })
    assert.equal(state.toAuth().userId, 'user_cc')
    const web = await client.authenticateRequest(new Request('https://a.example.com/', { headers: { authorization: `Bearer ${session({ sub: 'user_web' })}` } }), { acceptsToken: 'any' })
    assert.equal(web.toAuth().userId, 'user_web')
    assert.equal(typeof client.organizations.getOrganization, 'function')
    assert.equal(require('..').createClerkClient, createClerkClient)
  })

  test('clerkClient: a lazy singleton built from the environment on first property access, read-only', async () => {
    const { clerkClient } = require('../express')
    process.env.CLERK_SECRET_KEY = 'sk_test_lazy_singleton'
    try {
      const users = clerkClient.users
      assert.equal(typeof users.getUser, 'function')
      assert.equal(clerkClient.users, users, 'kept once CLERK_SECRET_KEY is set')
      assert.equal(typeof clerkClient.authenticateRequest, 'function')
      assert.throws(() => {
        'use strict'
        clerkClient.users = null
      }, TypeError)
    } finally {
      delete process.env.CLERK_SECRET_KEY
    }
  })

  test('without @clerk/backend installed: createClerkClient and clerkClient throw an error naming the peer and the install command; the rest loads', () => {
    const fs = require('node:fs')
    const os = require('node:os')
    const path = require('node:path')
    const { spawnSync } = require('node:child_process')
    const root = path.join(__dirname, '..')
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clerk-native-nopeer-'))
    closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }))
    for (const f of ['package.json', 'index.js', 'express.js', 'binding.js']) fs.copyFileSync(path.join(root, f), path.join(dir, f))
    for (const f of fs.readdirSync(root)) if (f.endsWith('.node')) fs.copyFileSync(path.join(root, f), path.join(dir, f))
    fs.cpSync(path.join(root, 'lib'), path.join(dir, 'lib'), { recursive: true })
    const script = `
      const out = {}
      const x = require(${JSON.stringify(path.join(dir, 'express.js'))})
      out.loaded = typeof x.clerkMiddleware
      for (const [name, fn] of [['createClerkClient', () => x.createClerkClient({})], ['clerkClient', () => x.clerkClient.users], ['root', () => require(${JSON.stringify(path.join(dir, 'index.js'))}).createClerkClient({})]]) {
        try { fn(); out[name] = 'no error' } catch (e) { out[name] = { code: e.code, message: e.message } }
      }
      process.stdout.write(JSON.stringify(out))
    `
    const r = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8', timeout: 30000, env: { ...process.env, NODE_PATH: '' } })
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.equal(out.loaded, 'function')
    for (const name of ['createClerkClient', 'clerkClient', 'root']) {
      assert.equal(out[name].code, 'missing_peer_dependency', name)
      assert.match(out[name].message, /@clerk\/backend/)
      assert.match(out[name].message, /npm install @clerk\/backend/)
    }
  })

  test('ESM: clerk-native/express exports what @clerk/express exports (and frontendApiProxy)', async () => {
    const esm = await import('../express.mjs')
    for (const name of ['clerkMiddleware', 'getAuth', 'requireAuth', 'clerkClient', 'createClerkClient', 'verifyToken', 'authenticateRequest', 'frontendApiProxy']) {
      assert.ok(esm[name] !== undefined, name)
    }
    const root = await import('../index.mjs')
    assert.equal(typeof root.createClerkClient, 'function')
  })
})

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
    // an opaque API key under session_token fails session verification, as @clerk/backend 3.25.0
    assert.equal(strict.reason, 'token-invalid')
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
