'use strict'
// The handshake family through authenticateRequest (AUTH-PARITY §2 item 3, A4-A11, A16-A17), side by side with
// @clerk/backend 3.25.0's own createClerkClient().authenticateRequest on the same requests, keys and Backend API
// stand-in (127.0.0.1): status, reason, message and every header (Location byte for byte) must be equal, and so
// must the Backend API requests of nonce resolution and refresh. The 500-combination matrix is elsewhere
// (differential tests); these are targeted cases, one per trigger.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const http = require('node:http')

const T = require('./helpers/tokens.js')
const { startHandshakeBapi } = require('./helpers/handshake-bapi.js')
const { authenticateRequest } = require('../index.js')
const { createClerkClient } = require('@clerk/backend')

const key = T.rsaKey(2048)
const PK_LIVE = 'pk_live_' + Buffer.from('clerk.example.com$').toString('base64')
const PK_TEST = 'pk_test_' + Buffer.from('clerk.example.com$').toString('base64')
const suffixOf = (pk) =>
  crypto.createHash('sha1').update(pk).digest('base64').replace(/\+/g, '-').replace(/\//g, '_').slice(0, 8)
const S_LIVE = suffixOf(PK_LIVE)
const DOC = { 'sec-fetch-dest': 'document', accept: 'text/html,application/xhtml+xml' }
const now = () => Math.floor(Date.now() / 1000)
const claims = (o = {}) => T.sessionClaims({ iss: 'https://clerk.example.com', sid: 'sess_r', ...o })
const expiredToken = () => T.signJwt(key, claims({ iat: now() - 120, nbf: now() - 120, exp: now() - 60 }))
const validToken = (o) => T.signJwt(key, claims(o))

let bapi
test.before(async () => {
  bapi = await startHandshakeBapi()
})
test.after(async () => {
  await bapi.close()
})

// Clerk logs (console.log/warn/error) on loops, failed resolutions and clock skew; keep test output readable.
async function quietly(fn) {
  const saved = [console.log, console.warn, console.error]
  console.log = console.warn = console.error = () => {}
  try {
    return await fn()
  } finally {
    ;[console.log, console.warn, console.error] = saved
  }
}

const view = (s) => (s.error !== undefined ? s : { status: s.status, reason: s.reason, message: s.message, token: s.token, isSatellite: s.isSatellite, proxyUrl: s.proxyUrl, headers: [...s.headers] })

/** The same request to Clerk and to us: both states (viewed), and the Backend API requests each made. */
async function both(url, headers, opts = {}, init = {}) {
  const o = { jwtKey: key.publicPem, secretKey: 'sk_live_hs', publishableKey: PK_LIVE, apiUrl: bapi.url, ...opts }
  const run = async (fn) => {
    const from = bapi.requests.length
    let state
    try {
      state = view(await fn())
    } catch (e) {
      state = { error: e.message }
    }
    return { state, calls: bapi.requests.slice(from).map((r) => `${r.method} ${r.path}${r.query} ${r.raw}`) }
  }
  const clerk = await quietly(() => run(() => createClerkClient(o).authenticateRequest(new Request(url, { headers, ...init }), o)))
  const ours = await run(() => authenticateRequest(new Request(url, { headers, ...init }), o))
  return { clerk, ours }
}

async function same(url, headers, opts, init) {
  const { clerk, ours } = await both(url, headers, opts, init)
  assert.deepEqual(ours.state, clerk.state)
  assert.deepEqual(ours.calls, clerk.calls)
  return ours.state
}

test('expired session cookie: a document GET gets Clerk\'s 307 to the Frontend API, a fetch stays signed out', async () => {
  const jar = `__session=${expiredToken()}; __client_uat=${now() - 200}`
  const s = await same('https://app.example.com/dash?x=a%20b&y', { ...DOC, cookie: jar })
  assert.equal(s.status, 'handshake')
  const location = s.headers.find(([n]) => n === 'location')[1]
  assert.match(location, /^https:\/\/clerk\.example\.com\/v1\/client\/handshake\?redirect_url=https%3A%2F%2Fapp\.example\.com%2Fdash%3Fx%3Da%2Bb%26y%3D&__clerk_api_version=2026-05-12&suffixed_cookies=false&__clerk_hs_reason=session-token-expired-refresh-non-eligible-no-refresh-cookie&format=nonce&__session=/)
  assert.deepEqual(
    s.headers.filter(([n]) => n === 'cache-control' || n === 'set-cookie'),
    [['cache-control', 'no-store'], ['set-cookie', '__clerk_redirect_count=1; SameSite=Lax; HttpOnly; Max-Age=2']],
  )
  const f = await same('https://app.example.com/dash', { 'sec-fetch-dest': 'empty', cookie: jar })
  assert.equal(f.status, 'signed-out')
  await same('https://app.example.com/dash', { accept: 'text/html', cookie: jar })
  await same('https://app.example.com/dash', { ...DOC, cookie: jar }, {}, { method: 'POST' })
  await same('https://app.example.com/dash', { 'sec-fetch-dest': 'iframe', cookie: jar })
})

test('every cookie-state trigger, the loop guard and the signed-in headers', async () => {
  const v = validToken()
  const cases = [
    '',
    `__session=${v}`,
    `__client_uat=${now()}`,
    `__session=${v}; __client_uat=${now() + 100}`,
    `__session=${validToken({ nbf: now() + 600 })}; __client_uat=${now() - 100}`,
    `__session=${expiredToken()}; __client_uat=${now() - 200}; __clerk_redirect_count=3`,
    `__session=${expiredToken()}; __client_uat=${now() - 200}; __clerk_redirect_count=2`,
    `__session=not-a-jwt; __client_uat=1`,
  ]
  for (const cookie of cases) await same('https://app.example.com/', { ...DOC, cookie })
  const signedIn = await same('https://app.example.com/', { ...DOC, cookie: `__session=${v}; __client_uat=${now() - 100}` })
  assert.equal(signedIn.status, 'signed-in')
  assert.deepEqual(signedIn.headers, [], 'a signed-in state carries no x-clerk-auth-* headers')
})

test('expired header token on a document request handshakes as Clerk does', async () => {
  await same('https://app.example.com/', { ...DOC, authorization: `Bearer ${expiredToken()}` })
  await same('https://app.example.com/', { 'sec-fetch-dest': 'empty', authorization: `Bearer ${expiredToken()}` })
})

test('suffixed cookies chosen by Clerk\'s rule', async () => {
  const v = validToken()
  const other = T.signJwt(key, claims({ iss: 'https://clerk.other.example' }))
  const jars = [
    `__session_${S_LIVE}=${v}; __client_uat_${S_LIVE}=${now() - 100}`,
    `__session=${other}; __client_uat=${now() - 100}`,
    `__session=${other}; __client_uat=${now() - 100}; __session_${S_LIVE}=${v}; __client_uat_${S_LIVE}=${now() - 100}`,
    `__session=${v}; __client_uat=${now() - 100}; __client_uat_${S_LIVE}=0`,
    `__session_${S_LIVE}=${expiredToken()}; __client_uat_${S_LIVE}=${now() - 200}`,
  ]
  for (const cookie of jars) {
    await same('https://app.example.com/', { ...DOC, cookie })
    await same('https://app.example.com/', { 'sec-fetch-dest': 'empty', cookie })
  }
})

test('development instances: dev-browser missing (documents handshake, fetches sign out), sync, primary responds', async () => {
  const dev = { publishableKey: PK_TEST, secretKey: 'sk_test_hs' }
  const jar = `__session=${validToken()}; __client_uat=${now() - 100}`
  assert.equal((await same('https://app.example.com/', { ...DOC, cookie: jar }, dev)).reason, 'dev-browser-missing')
  assert.equal((await same('https://app.example.com/', { 'sec-fetch-dest': 'empty', cookie: jar }, dev)).status, 'signed-out')
  assert.equal((await same('https://app.example.com/', { cookie: `${jar}; __clerk_db_jwt=dvb_1` }, dev)).status, 'signed-in')
  await same('https://app.example.com/p?__clerk_db_jwt=dvb_q&__dev_session=x', { ...DOC, cookie: jar }, dev)
  await same('https://app.example.com/p?__clerk_redirect_url=https%3A%2F%2Fsat.example.net%2Fb%3Fq%3D1', { ...DOC, cookie: `${jar}; __clerk_db_jwt=dvb_1` }, dev)
  await same('https://app.example.com/', { ...DOC, cookie: `__clerk_db_jwt=dvb_2; __session=${expiredToken()}; __client_uat=${now() - 200}` }, dev)
})

test('satellites: sync handshake in production, sign-in redirect in development, Clerk\'s option errors', async () => {
  const sat = { isSatellite: true, domain: 'sat.example.net', signInUrl: 'https://app.example.com/sign-in' }
  await same('https://sat.example.net/a', DOC, sat)
  await same('https://sat.example.net/a?__clerk_synced=false', DOC, sat)
  await same('https://sat.example.net/a?__clerk_synced=true', DOC, sat)
  await same('https://sat.example.net/a', DOC, { ...sat, satelliteAutoSync: true })
  await same('https://sat.example.net/a?__clerk_synced=false', { ...DOC, cookie: '__clerk_db_jwt=dvb_1' }, { ...sat, publishableKey: PK_TEST, secretKey: 'sk_test_hs' })
  await same('https://sat.example.net/a?__clerk_synced=false', DOC, { ...sat, domain: undefined, proxyUrl: 'https://sat.example.net/__clerk' })
  const errors = [
    { isSatellite: true, signInUrl: 'https://app.example.com/sign-in' },
    { isSatellite: true, domain: 'sat.example.net', publishableKey: PK_TEST, secretKey: 'sk_test_hs' },
  ]
  for (const o of errors) {
    const { clerk, ours } = await both('https://sat.example.net/a', DOC, o)
    assert.ok(clerk.state.error, JSON.stringify(clerk.state))
    assert.equal(ours.state.error, clerk.state.error)
  }
  const { clerk, ours } = await both('https://sat.example.net/a', { ...DOC, origin: 'https://app.example.com' }, sat)
  assert.equal(ours.state.error, clerk.state.error)
  assert.match(ours.state.error, /different origin/)
})

test('primary-domain cross-origin sync, proxyUrl and forwarded headers', async () => {
  const jar = `__session=${validToken()}; __client_uat=${now() - 100}`
  for (const referer of ['https://elsewhere.example/x', 'https://app.example.com/b', 'https://accounts.example.com/sign-in', 'https://clerk.example.com/']) {
    await same('https://app.example.com/', { ...DOC, cookie: jar, referer })
  }
  const expired = `__session=${expiredToken()}; __client_uat=${now() - 200}`
  await same('http://localhost:3000/a?b=1', { ...DOC, cookie: expired, 'x-forwarded-host': 'app.example.com, edge', 'x-forwarded-proto': 'https' }, { proxyUrl: '/__clerk' })
  await same('https://app.example.com/a', { ...DOC, cookie: expired }, { proxyUrl: 'https://app.example.com/__clerk/' })
})

test('organization sync: active-organization-mismatch with organization_id, and organization_id on other handshakes', async () => {
  const orgSync = { organizationSyncOptions: { organizationPatterns: ['/orgs/:slug', '/orgs/:slug/(.*)', '/id/:id'], personalAccountPatterns: ['/me', '/me/(.*)'] } }
  const inOrg = `__session=${validToken({ org_id: 'org_1', org_slug: 'acme', org_role: 'admin' })}; __client_uat=${now() - 100}`
  for (const path of ['/orgs/acme/x', '/orgs/other/x', '/id/org_1', '/id/org_2', '/me/settings', '/elsewhere']) {
    await same(`https://app.example.com${path}`, { ...DOC, cookie: inOrg }, orgSync)
  }
  await same('https://app.example.com/orgs/other', { ...DOC, cookie: `${inOrg}; __clerk_redirect_count=3` }, orgSync)
  await same('https://app.example.com/orgs/acme/x', { ...DOC, cookie: `__session=${expiredToken()}; __client_uat=${now() - 200}` }, orgSync)
})

test('handshake nonce and legacy handshake token resolution against the Backend API stand-in', async () => {
  const fresh = validToken()
  bapi.routes.payload.set('n1', { body: { directives: [`__session=${fresh}; Path=/; Secure`, `__client_uat=${now()}; Path=/`] } })
  bapi.routes.payload.set('n2', { body: { directives: ['__client_uat=0; Path=/'] } })
  const signedIn = await same('https://app.example.com/a?__clerk_handshake_nonce=n1&x=1', DOC)
  assert.equal(signedIn.status, 'signed-in')
  assert.ok(signedIn.headers.some(([n, v]) => n === 'set-cookie' && v.startsWith(`__session=${fresh}`)))
  await same('https://app.example.com/a?x=1', { ...DOC, cookie: '__clerk_handshake_nonce=n1' }, { publishableKey: PK_TEST, secretKey: 'sk_test_hs' })
  await same('https://app.example.com/a?__clerk_handshake_nonce=n1&__clerk_db_jwt=d', DOC, { publishableKey: PK_TEST, secretKey: 'sk_test_hs' })
  await same('https://app.example.com/a?__clerk_handshake_nonce=unknown', DOC)
  await same('https://app.example.com/a?__clerk_handshake_nonce=n2', DOC)
  // Development: a resolved token past its expiry (clock skew) is retried with one day of skew.
  const skewed = T.signJwt(key, claims({ iat: now() - 3700, nbf: now() - 3700, exp: now() - 3600 }))
  bapi.routes.payload.set('n3', { body: { directives: [`__session=${skewed}; Path=/`] } })
  const dev = await same('https://app.example.com/a?__clerk_handshake_nonce=n3', DOC, { publishableKey: PK_TEST, secretKey: 'sk_test_hs' })
  assert.equal(dev.status, 'signed-in')
  await same('https://app.example.com/a?__clerk_handshake_nonce=n3', DOC)
  const legacy = T.signJwt(key, { handshake: [`__session=${fresh}; Path=/`] })
  await same(`https://app.example.com/a?__clerk_handshake=${legacy}`, DOC)
  await same('https://app.example.com/a?__clerk_handshake=abc', DOC, { publishableKey: PK_TEST, secretKey: 'sk_test_hs' })
})

test('refresh through __refresh_<suffix>: any GET, Set-Cookie on success, Clerk\'s reason on failure', async () => {
  const fresh = validToken()
  bapi.routes.refresh.set('sess_r', { body: { object: 'cookies', cookies: [`__session_${S_LIVE}=${fresh}; Path=/`, `__client_uat_${S_LIVE}=${now()}; Path=/`] } })
  const jar = () => `__session=${expiredToken()}; __client_uat=${now() - 200}; __refresh_${S_LIVE}=rt_1`
  const s = await same('https://app.example.com/a', { 'sec-fetch-dest': 'empty', cookie: jar() })
  assert.equal(s.status, 'signed-in')
  assert.deepEqual(s.headers.filter(([n]) => n === 'set-cookie').length, 2)
  await same('https://app.example.com/a', { ...DOC, cookie: jar() })
  bapi.routes.refresh.set('sess_r', { status: 401, body: { errors: [{ code: 'authentication_invalid', message: 'no' }] } })
  await same('https://app.example.com/a', { ...DOC, cookie: jar() })
  await same('https://app.example.com/a', { 'sec-fetch-dest': 'empty', cookie: jar() })
  await same('https://app.example.com/a', { ...DOC, cookie: jar() }, {}, { method: 'POST' })
  bapi.routes.refresh.set('sess_r', { body: { object: 'cookies', cookies: ['__session_x=garbage; Path=/'] } })
  await same('https://app.example.com/a', { 'sec-fetch-dest': 'empty', cookie: jar() })
})

test('a Node IncomingMessage: URL from Host / X-Forwarded-*, the same Location as Clerk\'s for the same request', async () => {
  const opts = { jwtKey: key.publicPem, secretKey: 'sk_live_hs', publishableKey: PK_LIVE, apiUrl: bapi.url }
  const server = http.createServer(async (req, res) => {
    const state = await authenticateRequest(req, opts)
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(view(state)))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const port = server.address().port
  try {
    const cookie = `__session=${expiredToken()}; __client_uat=${now() - 200}`
    const headers = { ...DOC, cookie, 'x-forwarded-host': 'app.example.com', 'x-forwarded-proto': 'https' }
    const got = await (await fetch(`http://127.0.0.1:${port}/p/q?r=1`, { headers })).json()
    const clerk = await quietly(() =>
      createClerkClient(opts).authenticateRequest(new Request(`http://127.0.0.1:${port}/p/q?r=1`, { headers: { ...headers, host: `127.0.0.1:${port}` } }), opts),
    )
    assert.equal(got.status, 'handshake')
    assert.deepEqual(got.headers, [...clerk.headers])
  } finally {
    server.close()
  }
})

test('edge cases as Clerk: invalid redirect URLs throw, encoded parameter names, dev Account Portal referrers, odd counters', async () => {
  const dev = { publishableKey: PK_TEST, secretKey: 'sk_test_hs' }
  const jar = `__clerk_db_jwt=d; __session=${validToken()}; __client_uat=${now() - 100}`
  const thrown = await both('https://app.example.com/a?__clerk_redirect_url=notaurl', { ...DOC, cookie: jar }, dev)
  assert.equal(thrown.clerk.state.error, 'Invalid URL')
  assert.equal(thrown.ours.state.error, 'Invalid URL')
  const badSignIn = await both('https://sat.example.net/a?__clerk_synced=false', DOC, { ...dev, isSatellite: true, domain: 'sat.example.net', signInUrl: 'not-a-url' })
  assert.equal(badSignIn.ours.state.error, badSignIn.clerk.state.error)
  await same('https://app.example.com/a?__clerk_db_jwt=', { ...DOC, cookie: jar }, dev)
  await same('https://app.example.com/a?%5F%5Fclerk_db_jwt=zz', { ...DOC, cookie: jar }, dev)
  for (const referer of ['https://foo-bar-13.accounts.dev/x', 'not a url', 'https://x.com']) {
    await same('https://app.example.com/a', { ...DOC, cookie: jar, referer }, dev)
  }
  await same('https://app.example.com/a', { ...DOC, cookie: `${jar}; __clerk_redirect_count=abc`, referer: 'https://x.com' }, dev)
  await same('https://app.example.com/a', { ...DOC, cookie: `__client_uat=${now()}; __clerk_redirect_count=2.5` })
})

test('Vercel auto-proxy: a production instance on *.vercel.app handshakes through /__clerk on the request origin', async () => {
  const saved = { ...process.env }
  Object.assign(process.env, { VERCEL_TARGET_ENV: 'production', VERCEL_PROJECT_PRODUCTION_URL: 'my-app.vercel.app' })
  try {
    const cookie = `__session=${expiredToken()}; __client_uat=${now() - 200}`
    const s = await same('https://my-app.vercel.app/x', { ...DOC, cookie }, { secretKey: 'sk_live_auto' })
    assert.equal(s.proxyUrl, 'https://my-app.vercel.app/__clerk')
    assert.match(s.headers.find(([n]) => n === 'location')[1], /^https:\/\/my-app\.vercel\.app\/__clerk\/v1\/client\/handshake\?/)
  } finally {
    for (const k of ['VERCEL_TARGET_ENV', 'VERCEL_PROJECT_PRODUCTION_URL']) if (!(k in saved)) delete process.env[k]
  }
})

test('non-string handshake directives: Clerk goes on with the request\'s own cookies', async () => {
  bapi.routes.payload.set('n_bad', { body: { directives: [123] } })
  const jar = `__session=${validToken()}; __client_uat=${now() - 100}`
  await same('https://app.example.com/a?__clerk_handshake_nonce=n_bad', { ...DOC, cookie: jar })
  const legacy = T.signJwt(key, { handshake: [1] })
  await same(`https://app.example.com/a?__clerk_handshake=${legacy}`, { ...DOC, cookie: `${jar}; __clerk_db_jwt=d` }, { publishableKey: PK_TEST, secretKey: 'sk_test_hs' })
})
