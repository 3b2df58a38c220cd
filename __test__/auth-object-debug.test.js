'use strict'
// debug() (AUTH-PARITY B5): Clerk's createDebug, a copy of the authenticate context with keys and tokens cut to
// 7 characters. Side by side with @clerk/backend 3.25.0 on the same request and options: every field we show
// has Clerk's value. Deliberate differences: request-derived fields of Clerk's AuthenticateContext (clerkRequest,
// clerkUrl, host, userAgent, cookie values, ...) appear only when the native outcome carries them
// (`result.context`); `machineSecretKey` is cut too (Clerk shows it whole).

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')

const clerk = require('@clerk/backend')
const T = require('./helpers/tokens')
const { authenticateRequest } = require('..')
const { authObjectOf, createDebug } = require('../lib/auth-object')

const key = T.rsaKey(2048, 'kid_auth_object_debug')
const jwtKey = key.publicPem
const PK = 'pk_live_Y2xlcmsuZXhhbXBsZS5jb20k'
const SK = 'sk_live_debug_0123456789abcdef'
const CUT = ['secretKey', 'jwtKey', 'sessionToken', 'tokenInHeader', 'sessionTokenInCookie', 'refreshTokenInCookie', 'devBrowserToken', 'handshakeToken']

async function both(headers, options = {}) {
  const ours = await authenticateRequest({ headers }, { jwtKey, secretKey: SK, publishableKey: PK, ...options })
  const client = clerk.createClerkClient({ secretKey: SK, publishableKey: PK, jwtKey })
  const theirs = await client.authenticateRequest(new Request('http://localhost:3000/api', { headers }), options)
  return { ours, theirs }
}

/**
 * Every field of ours has Clerk's value (plain values only; Clerk's objects like clerkRequest are left out). A cut
 * key that is '' in ours is a request-derived value our context does not carry (no `result.context`).
 */
function assertSubsetOfClerks(ours, theirs) {
  for (const [k, v] of Object.entries(ours)) {
    if (v === undefined || typeof v === 'function') continue
    if (CUT.includes(k) && v === '') continue
    assert.ok(k in theirs, `Clerk's debug() has ${k}`)
    assert.deepEqual(v, theirs[k], k)
  }
}

describe("debug() as Clerk's createDebug", () => {
  test('signed in: the options with keys cut to 7 characters, and the session token cut', async () => {
    const token = T.signJwt(key, T.sessionClaims())
    const { ours, theirs } = await both({ authorization: `Bearer ${token}` })
    const a = ours.toAuth().debug()
    const b = theirs.toAuth().debug()
    for (const k of CUT) assert.equal(typeof a[k], 'string', k)
    assert.equal(a.secretKey, SK.slice(0, 7))
    assert.equal(a.jwtKey, jwtKey.slice(0, 7))
    assert.equal(a.sessionToken, token.slice(0, 7))
    assert.equal(a.publishableKey, PK)
    assertSubsetOfClerks(a, b)
    // No field holds a whole secret or token.
    const text = JSON.stringify(a)
    assert.ok(!text.includes(SK))
    assert.ok(!text.includes(token))
  })

  test('signed out: status, reason and message besides the cut keys, as Clerk', async () => {
    const token = T.signJwt(key, T.sessionClaims({ exp: T.nowSec() - 3600, iat: T.nowSec() - 4000, nbf: T.nowSec() - 4000 }))
    for (const headers of [{}, { authorization: `Bearer ${token}` }]) {
      const { ours, theirs } = await both(headers)
      assert.equal(ours.reason, theirs.reason)
      const a = ours.toAuth().debug()
      const b = theirs.toAuth().debug()
      assert.equal(a.status, 'signed-out')
      assert.equal(a.reason, b.reason)
      // The message names the current date, which may tick between the two calls.
      const dateless = (m) => m.replace(/Current date: [^.]*\./, 'Current date: <now>.')
      assert.equal(dateless(a.message), dateless(b.message))
      assertSubsetOfClerks({ ...a, message: dateless(a.message) }, { ...b, message: dateless(b.message) })
    }
  })

  test('a pending session (signed out by default) shows only the cut keys, as Clerk', async () => {
    const token = T.signJwt(key, T.sessionClaims({ sts: 'pending' }))
    const { ours, theirs } = await both({ authorization: `Bearer ${token}` })
    assert.deepEqual(ours.toAuth().debug(), theirs.toAuth().debug())
    assert.deepEqual(Object.keys(ours.toAuth().debug()).sort(), [...CUT].sort())
  })

  test('machineSecretKey is cut too; result.context fields are shown (tokens cut)', () => {
    const context = { method: 'GET', tokenInHeader: 'eyJhbGciOiJSUzI1NiJ9.x.y', clientUat: 0 }
    const result = { signedIn: false, tokenType: 'session_token', reason: 'session-token-and-uat-missing', message: '', context }
    const d = authObjectOf(result, {}, { secretKey: SK, machineSecretKey: 'ak_machine_secret_123' }).debug()
    assert.deepEqual(authObjectOf({ ...result, context: () => context }, {}, { secretKey: SK }).debug().tokenInHeader, 'eyJhbGc')
    assert.equal(d.machineSecretKey, 'ak_mach')
    assert.equal(d.method, 'GET')
    assert.equal(d.tokenInHeader, 'eyJhbGc')
    assert.equal(d.clientUat, 0)
    assert.equal(d.reason, 'session-token-and-uat-missing')
  })

  test("createDebug copies, so a caller's change does not leak into the next call", () => {
    const debug = createDebug({ secretKey: SK, a: 1 })
    const first = debug()
    first.a = 2
    first.secretKey = SK
    assert.deepEqual(debug(), { ...Object.fromEntries(CUT.map((k) => [k, ''])), secretKey: SK.slice(0, 7), a: 1 })
  })
})
