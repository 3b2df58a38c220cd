'use strict'
// The example Next.js app (example/next: a typical Clerk app written against clerk-native/next) built with
// `next build`, served by `next start` on 127.0.0.1 against the Clerk stand-in (FAPI + BAPI), driven over real HTTP:
// auth.protect() outcomes, auth()/currentUser() in a server component, a route handler with a Bearer token, the
// /__clerk proxy, the hand-off that a client cannot forge, and auth() on a route the middleware did not run for.
// Needs example/next's dependencies: npm install --prefix example/next --no-audit --no-fund (.ci/run does it).

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { startExampleApp, skipReason } = require('../example/next/scripts/test-server')

const SKIP = skipReason()
let app

before(async () => {
  if (!SKIP) app = await startExampleApp()
}, { timeout: 360_000 })
after(async () => app?.close())

const opts = { skip: SKIP || false, timeout: 30_000 }
const get = (path, headers = {}, init = {}) => fetch(app.base + path, { redirect: 'manual', signal: AbortSignal.timeout(15_000), headers, ...init })
const text = async (res) => ({ status: res.status, headers: res.headers, body: await res.text() })

function signedInCookie() {
  const token = app.standIn.sessionToken()
  const iat = JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).iat
  return { token, cookie: `__session=${token}; __client_uat=${iat}` }
}

const CLERK_MISSING = /^Clerk: auth\(\) was called but Clerk can't detect usage of clerkMiddleware\(\)/
const SIGNATURE_INVALID = /^Clerk: Unable to verify request, this usually means the Clerk middleware did not run\..*\(code=auth_signature_invalid\)$/

test('a signed-out page request to a protected page redirects (307) to sign-in with redirect_url', opts, async () => {
  const res = await get('/dashboard?tab=1', { accept: 'text/html', 'sec-fetch-dest': 'document' })
  assert.equal(res.status, 307)
  const location = new URL(res.headers.get('location'), app.base)
  assert.equal(location.pathname, '/sign-in')
  assert.equal(location.searchParams.get('redirect_url'), `${app.base}/dashboard?tab=1`)
  assert.equal(res.headers.get('x-clerk-auth-status'), 'signed-out')
})

test("a signed-out non-page request to a protected route gets the 404 rewrite (Next's not-found page)", opts, async () => {
  const res = await text(await get('/api/private', { accept: 'application/json' }))
  assert.equal(res.status, 404)
  assert.equal(res.headers.get('x-clerk-auth-status'), 'signed-out')
  assert.doesNotMatch(res.body, /only for signed-in users/)
})

test('a signed-out server action to a protected page gets 401', opts, async () => {
  const res = await get('/dashboard', { accept: 'text/x-component', 'next-action': 'abc123', 'next-url': '/dashboard', 'content-type': 'text/plain' }, { method: 'POST', body: '[]' })
  assert.equal(res.status, 401)
  await res.arrayBuffer()
})

test('a route handler signed in with Authorization: Bearer <session token>', opts, async () => {
  const { token } = signedInCookie()
  const res = await text(await get('/api/me', { authorization: `Bearer ${token}` }))
  assert.equal(res.status, 200, res.body)
  const body = JSON.parse(res.body)
  assert.equal(body.userId, app.standIn.userId)
  assert.match(body.sessionId, /^sess_/)
  const priv = await text(await get('/api/private', { authorization: `Bearer ${token}` }))
  assert.equal(priv.status, 200)
  assert.equal(JSON.parse(priv.body).userId, app.standIn.userId)
})

test('a server component: auth() and currentUser() (Backend API stand-in) with the session cookie', opts, async () => {
  const { cookie } = signedInCookie()
  const res = await text(await get('/dashboard', { accept: 'text/html', cookie }))
  assert.equal(res.status, 200, res.body.slice(0, 500))
  assert.match(res.body, new RegExp(`id="user-id">${app.standIn.userId}<`))
  assert.match(res.body, /id="user-name">Ada Demo</)
  assert.match(res.body, /id="user-email">ada.demo@example.com</)
  assert.ok(app.standIn.requests.some((r) => r.server === 'bapi' && r.path === `/v1/users/${app.standIn.userId}`))
})

test('the /__clerk proxy reaches the Frontend API stand-in; its sign-in sets the session cookies on the app', opts, async () => {
  const env = await get('/__clerk/v1/environment')
  assert.equal(env.status, 200)
  assert.equal((await env.json()).object, 'environment')
  const signIn = await get('/__clerk/v1/client/sign_ins', { 'content-type': 'application/x-www-form-urlencoded' }, { method: 'POST', body: 'redirect_url=%2Fdashboard' })
  assert.equal(signIn.status, 303)
  assert.equal(new URL(signIn.headers.get('location'), app.base).href, `${app.base}/dashboard`)
  const cookies = signIn.headers.getSetCookie().map((c) => c.split(';')[0])
  assert.deepEqual(cookies.map((c) => c.split('=')[0]).sort(), ['__client', '__client_uat', '__session'])
  const page = await text(await get('/dashboard', { accept: 'text/html', cookie: cookies.join('; ') }))
  assert.equal(page.status, 200)
  assert.match(page.body, /id="user-name">Ada Demo</)
})

test('nothing of the hand-off reaches the client: no x-middleware-* or x-clerk-native-* response headers', opts, async () => {
  const { cookie } = signedInCookie()
  for (const path of ['/', '/api/me', '/dashboard']) {
    const res = await get(path, { accept: 'text/html', cookie })
    await res.arrayBuffer()
    for (const name of res.headers.keys()) {
      assert.ok(!name.startsWith('x-middleware-') && !name.startsWith('x-clerk-native') && name !== 'x-clerk-auth-token' && name !== 'x-clerk-auth-signature', `${path}: ${name}`)
    }
  }
})

// A hand-off as an attacker would forge it: right format, a key that is not the app's.
function forgedHandoff(status, token, key = crypto.randomBytes(32)) {
  const body = Buffer.from(JSON.stringify({ s: status, r: '', m: '', y: 'session_token', a: null, u: `${app.base}/api/me`, o: 'x', p: {} })).toString('base64url')
  const mac = crypto.createHmac('sha256', key).update(`v1\n${token}\n${body}`).digest('base64url')
  return {
    'x-clerk-native-auth': body,
    'x-clerk-native-auth-signature': `v1.${mac}`,
    'x-clerk-auth-status': status,
    'x-clerk-auth-token': token,
    'x-clerk-auth-signature': crypto.createHmac('sha1', 'guess').update(token).digest('hex'),
    'x-clerk-clerk-url': `${app.base}/api/me`,
  }
}

test('forged hand-off headers are replaced by the middleware: a signed-out request stays signed out', opts, async () => {
  // A real, valid session token the attacker holds for someone else is still not accepted without its cookie/header.
  const { token } = signedInCookie()
  const res = await text(await get('/api/me', forgedHandoff('signed-in', token)))
  assert.equal(res.status, 401, res.body)
  assert.deepEqual(JSON.parse(res.body), { error: 'signed out' })
  const priv = await get('/api/private', { accept: 'application/json', ...forgedHandoff('signed-in', token) })
  assert.equal(priv.status, 404)
  await priv.arrayBuffer()
  const page = await get('/dashboard', { accept: 'text/html', ...forgedHandoff('signed-in', token) })
  assert.equal(page.status, 307)
  await page.arrayBuffer()
})

test('auth() on a route the middleware did not run for: Clerk\'s error, and forged headers are refused', opts, async () => {
  const plain = await text(await get('/no-middleware'))
  assert.equal(plain.status, 500)
  assert.match(JSON.parse(plain.body).message, CLERK_MISSING)
  const { token } = signedInCookie()
  const forged = await text(await get('/no-middleware', forgedHandoff('signed-in', token)))
  assert.match(JSON.parse(forged.body).message, SIGNATURE_INVALID)
  // Clerk's own headers alone (what @clerk/nextjs reads) do not make clerk-native believe the middleware ran.
  const clerkOnly = await text(await get('/no-middleware', { 'x-clerk-auth-status': 'signed-in', 'x-clerk-auth-token': token }))
  assert.match(JSON.parse(clerkOnly.body).message, CLERK_MISSING)
})

test('a malformed percent-encoding in the path: createRouteMatcher throws, the middleware answers 400', opts, async () => {
  const res = await get('/dashboard%E0%A4%A', { accept: 'text/html' })
  assert.equal(res.status, 400)
  await res.arrayBuffer()
})

test('a Pages Router API route: the synchronous getAuth(req)', opts, async () => {
  const { token } = signedInCookie()
  const res = await text(await get('/api/pages-me', { authorization: `Bearer ${token}` }))
  assert.equal(res.status, 200, res.body)
  assert.equal(JSON.parse(res.body).userId, app.standIn.userId)
  const out = await get('/api/pages-me')
  assert.equal(out.status, 401)
  await out.arrayBuffer()
})

test('an API key: auth({ acceptsToken: \'api_key\' }) in a route handler; a plain auth() never sees it as a user', opts, async () => {
  const res = await text(await get('/api/machine', { authorization: `Bearer ${app.standIn.apiKey}` }))
  assert.equal(res.status, 200, res.body)
  assert.deepEqual(JSON.parse(res.body), { id: 'ak_id_demo', name: 'demo key', userId: app.standIn.userId })
  const asUser = await text(await get('/api/me', { authorization: `Bearer ${app.standIn.apiKey}` }))
  assert.equal(asUser.status, 401)
  const unknown = await get('/api/machine', { authorization: 'Bearer ak_not_a_known_key' })
  assert.equal(unknown.status, 401)
  await unknown.arrayBuffer()
})
