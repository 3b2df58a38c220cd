'use strict'
// Express parity with @clerk/express 2.1.70 (AUTH-PARITY §1C, issue 12 §3/§4): two real Express 5 servers on
// 127.0.0.1, one mounting @clerk/express's clerkMiddleware / getAuth / requireAuth, one mounting clerk-native's,
// get the same raw HTTP requests (same Host, cookies, Authorization, document vs fetch headers) and must answer
// the same: status, Location, Set-Cookie, Cache-Control, x-clerk-auth-*, Content-Type and body. Keys and options
// are the same on both (`createClerkClient({ secretKey, publishableKey, apiUrl, jwtKey })` style), so both run
// networkless except for the Backend API stand-in on 127.0.0.1 (API keys).


const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')

const express = require('express')
const T = require('./helpers/tokens')
const clerkExpress = require('@clerk/express')
const clerkBackend = require('@clerk/backend')
const native = require('../express')


const FAPI_HOST = 'clerk.example.com'
const PK = 'pk_test_' + Buffer.from(`${FAPI_HOST}$`).toString('base64')
const SK = 'sk_test_parity_secret_key_0000000000'
const HOST = 'app.example.test'
const key = T.rsaKey(2048, 'kid_parity')
const jwtKey = key.publicPem

const ENV_KEYS = [
  'CLERK_SECRET_KEY',
  'CLERK_JWT_KEY',
  'CLERK_PUBLISHABLE_KEY',
  'CLERK_MACHINE_SECRET_KEY',
  'CLERK_API_URL',
  'CLERK_API_VERSION',
  'CLERK_SIGN_IN_URL',
  'CLERK_DOMAIN',
  'CLERK_PROXY_URL',
  'CLERK_IS_SATELLITE',
  'CLERK_TELEMETRY_DISABLED',
]
const savedEnv = {}
for (const k of ENV_KEYS) {
  savedEnv[k] = process.env[k]
  delete process.env[k]
}
process.env.CLERK_TELEMETRY_DISABLED = '1'

const closers = []
let bapi
let clerkUrl
let nativeUrl

const session = (claims = {}) => T.signJwt(key, T.sessionClaims({ iss: `https://${FAPI_HOST}`, ...claims }))
const API_KEY = 'ak_parity_user_owned_0001'
const API_KEY_JSON = {
  object: 'api_key',
  id: 'ak_id_parity_1',
  type: 'api_key',
  name: 'CI key',
  subject: 'user_9',
  scopes: ['read'],
  claims: null,
  revoked: false,
  revocation_reason: null,
  expired: false,
  expiration: null,
  created_by: 'user_9',
  description: null,
  last_used_at: null,
  created_at: 1700000000000,
  updated_at: 1700000000000,
}

/** Auth-object fields a route returns as JSON (functions dropped). clerk-native's extra `features`/`plans` (B1) are named and left out. */
function plain(auth) {
  const out = {}
  for (const [k, v] of Object.entries(auth)) {
    if (typeof v === 'function' || k === 'features' || k === 'plans') continue
    out[k] = v
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** The same app on either implementation. */
function buildApp(impl, flavour) {
  const { clerkMiddleware, getAuth, requireAuth } = impl
  const options = () => ({
    clerkClient: (flavour === 'clerk' ? clerkBackend.createClerkClient : native.createClerkClient)({ secretKey: SK, publishableKey: PK, apiUrl: bapi.url, jwtKey }),
    secretKey: SK,
    publishableKey: PK,
    apiUrl: bapi.url,
    jwtKey,
  })
  const shared = options()
  const app = express()
  app.set('etag', false)
  const report = (req, res) =>
    res.json({
      auth: plain(getAuth(req)),
      apiKey: plain(getAuth(req, { acceptsToken: 'api_key' })),
      any: plain(getAuth(req, { acceptsToken: 'any' })),
      pendingOk: plain(getAuth(req, { treatPendingAsSignedOut: false })),
      reqAuthPendingOk: plain(req.auth({ treatPendingAsSignedOut: false })),
    })
  app.get('/require', requireAuth(shared), report)
  const fnApp = express.Router()
  fnApp.use(clerkMiddleware(async (req) => ({ ...options(), audience: req.get('x-audience') || undefined })))
  fnApp.get('/me', report)
  app.use('/fn', fnApp)
  // The Frontend API proxy on: authentication derives proxyUrl = <origin>/__clerk (the handshake goes there).
  const proxied = express.Router()
  proxied.use(clerkMiddleware({ ...shared, frontendApiProxy: { enabled: () => true } }))
  proxied.get('/page', report)
  app.use('/px', proxied)
  // A satellite whose options are functions of the request URL.
  const satellite = express.Router()
  satellite.use(
    clerkMiddleware({
      ...shared,
      isSatellite: (url) => url.hostname === HOST,
      domain: (url) => `sat.${url.hostname}`,
      signInUrl: 'https://primary.example.test/sign-in',
    }),
  )
  satellite.get('/page', report)
  app.use('/sat', satellite)
  const main = express.Router()
  main.use(clerkMiddleware(shared))
  main.get('/me', report)
  main.get('/page', report)
  app.use('/', main)
  app.use((err, req, res, _next) => res.status(500).json({ error: String(err && err.message) }))
  return app
}

function listen(app) {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', () => {
      closers.push(
        () =>
          new Promise((r) => {
            server.closeAllConnections?.()
            server.close(() => r())
          }),
      )
      resolve(`http://127.0.0.1:${server.address().port}`)
    })
    server.once('error', reject)
  })
}

/** A raw GET with exactly these headers (Host included). Resolves to the fields compared. */
function rawGet(base, path, headers) {
  const u = new URL(base)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, method: 'GET', headers: { host: HOST, connection: 'close', ...headers }, setHost: false }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const h = res.headers
        let body = Buffer.concat(chunks).toString('utf8')
        try {
          body = JSON.parse(body)
        } catch {}
        resolve({
          status: res.statusCode,
          location: h.location ?? null,
          setCookie: h['set-cookie'] ?? [],
          cacheControl: h['cache-control'] ?? null,
          contentType: h['content-type'] ?? null,
          authStatus: h['x-clerk-auth-status'] ?? null,
          authReason: h['x-clerk-auth-reason'] ?? null,
          authMessage: h['x-clerk-auth-message'] ?? null,
          body,
        })
      })
    })
    req.setTimeout(10000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

const DOCUMENT = { accept: 'text/html,application/xhtml+xml', 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' }
const FETCH = { accept: '*/*', 'sec-fetch-dest': 'empty', 'sec-fetch-mode': 'cors' }
const uat = () => String(T.nowSec() - 3600)
const DEV_BROWSER = '__clerk_db_jwt=dvb_parity_dev_browser'

const CASES = [
  // A development instance (pk_test_): clerk-js always holds a dev browser token (`__clerk_db_jwt`), so the
  // requests carry one; its absence is a case of its own.
  { name: 'no credentials (fetch)', path: '/me', headers: () => ({ ...FETCH, cookie: DEV_BROWSER }) },
  { name: 'no credentials (document)', path: '/page', headers: () => ({ ...DOCUMENT, cookie: DEV_BROWSER }) },
  { name: 'no credentials and no dev browser cookie (fetch)', path: '/me', headers: () => ({ ...FETCH }) },
  { name: 'valid Bearer session', path: '/me', headers: () => ({ ...FETCH, authorization: `Bearer ${session()}` }) },
  { name: 'invalid Bearer token', path: '/me', headers: () => ({ ...FETCH, authorization: 'Bearer not.a.jwt' }) },
  {
    name: 'valid cookie session (dev browser cookie present)',
    path: '/me',
    headers: () => ({ ...FETCH, cookie: `__session=${session()}; __client_uat=${uat()}; ${DEV_BROWSER}` }),
  },
  {
    name: 'cookie session without the dev browser cookie (fetch)',
    path: '/me',
    headers: () => ({ ...FETCH, cookie: `__session=${session()}; __client_uat=${uat()}` }),
  },
  {
    name: 'expired cookie on a document GET: handshake 307', clerkStatus: 307,
    // the message names the current second: both requests within one second
    sameSecond: true,
    path: '/page?x=1',
    headers: () => ({ ...DOCUMENT, cookie: `__session=${expired()}; __client_uat=${uat()}; ${DEV_BROWSER}` }),
  },
  {
    name: 'expired cookie on a fetch GET: signed-out',
    // the message names the current second: both requests within one second
    sameSecond: true,
    path: '/me',
    headers: () => ({ ...FETCH, cookie: `__session=${expired()}; __client_uat=${uat()}; ${DEV_BROWSER}` }),
  },
  {
    name: 'frontendApiProxy on, expired cookie on a document GET: handshake through the derived proxyUrl', clerkStatus: 307,
    path: '/px/page',
    sameSecond: true,
    headers: () => ({ ...DOCUMENT, cookie: `__session=${expired()}; __client_uat=${uat()}; ${DEV_BROWSER}` }),
  },
  { name: 'satellite (function options), document GET with __clerk_synced=false', clerkStatus: 307, path: '/sat/page?__clerk_synced=false', headers: () => ({ ...DOCUMENT, cookie: DEV_BROWSER }) },
  { name: 'satellite (function options), fetch GET without cookies', path: '/sat/page', headers: () => ({ ...FETCH }) },
  { name: 'pending session', path: '/me', headers: () => ({ ...FETCH, authorization: `Bearer ${session({ sts: 'pending' })}` }) },
  { name: 'API key (user-owned)', path: '/me', headers: () => ({ ...FETCH, authorization: `Bearer ${API_KEY}` }) },
  { name: 'unknown API key', path: '/me', headers: () => ({ ...FETCH, authorization: 'Bearer ak_parity_unknown_0002' }) },
  { name: 'requireAuth without credentials: 302 to /', clerkStatus: 302, path: '/require', headers: () => ({ ...FETCH, cookie: DEV_BROWSER }) },
  { name: 'requireAuth without credentials, document: 302 to /', clerkStatus: 302, path: '/require', headers: () => ({ ...DOCUMENT, cookie: DEV_BROWSER }) },
  { name: 'requireAuth without credentials, CLERK_SIGN_IN_URL', clerkStatus: 302, path: '/require', env: { CLERK_SIGN_IN_URL: 'https://accounts.example.test/sign-in' }, headers: () => ({ ...FETCH, cookie: DEV_BROWSER }) },
  { name: 'requireAuth with a valid session', path: '/require', headers: () => ({ ...FETCH, authorization: `Bearer ${session()}` }) },
  { name: 'requireAuth with a pending session: redirected', clerkStatus: 302, path: '/require', headers: () => ({ ...FETCH, authorization: `Bearer ${session({ sts: 'pending' })}` }) },
  { name: 'requireAuth with a user-owned API key', clerkStatus: 200, path: '/require', headers: () => ({ ...FETCH, authorization: `Bearer ${API_KEY}` }) },
  { name: 'clerkMiddleware((req) => options)', path: '/fn/me', headers: () => ({ ...FETCH, authorization: `Bearer ${session()}` }) },
  { name: 'clerkMiddleware((req) => options), no credentials', path: '/fn/me', headers: () => ({ ...FETCH, cookie: DEV_BROWSER }) },
]

function expired() {
  const now = T.nowSec()
  return session({ iat: now - 600, nbf: now - 600, exp: now - 300 })
}

before(async () => {
  bapi = await T.startBackendApi()
  bapi.answer(API_KEY, { status: 200, body: API_KEY_JSON })
  closers.push(() => bapi.close())
  clerkUrl = await listen(buildApp(clerkExpress, 'clerk'))
  nativeUrl = await listen(buildApp(native, 'native'))
})

after(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => {})
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k]
    else process.env[k] = savedEnv[k]
  }
})

describe('Express parity: @clerk/express 2.1.70 and clerk-native/express answer the same requests the same', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      for (const [k, v] of Object.entries(c.env || {})) process.env[k] = v
      try {
        const headers = c.headers() // one token for both servers
        if (c.sameSecond) await T.alignToSecondStart(500)
        const clerk = await rawGet(clerkUrl, c.path, headers)
        const ours = await rawGet(nativeUrl, c.path, headers)
        // the case shows what it claims on Clerk's side (a handshake is a 307, requireAuth's redirect a 302)
        if (c.clerkStatus !== undefined) assert.equal(clerk.status, c.clerkStatus, 'Clerk answered otherwise: the case does not test what it names')
        assert.deepEqual(ours, clerk)
      } finally {
        for (const k of Object.keys(c.env || {})) delete process.env[k]
      }
    })
  }
})
