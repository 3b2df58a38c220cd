'use strict'
// Pending sessions (`sts: "pending"`, AUTH-PARITY B2 and §2 item 5): signed out by default in toAuth(), as
// @clerk/backend 3.25.0's RequestState.toAuth({ treatPendingAsSignedOut = true }); `false` opts in. Side by side
// with Clerk's own authenticateRequest on the same token, and the identity cache never resolves a pending session.

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')

const clerk = require('@clerk/backend')
const T = require('./helpers/tokens')
const { authenticateRequest } = require('..')
const { resolveIdentity } = require('../lib/identity')
const { authObjectOf } = require('../lib/auth-object')

const key = T.rsaKey(2048, 'kid_auth_object_pending')
const jwtKey = key.publicPem
const PK = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k'
const SK = 'sk_test_auth_object_pending'

/** The data of an auth object: every non-function field, and the names of the function fields. */
function shape(auth) {
  const data = {}
  const fns = []
  for (const [k, v] of Object.entries(auth)) {
    if (typeof v === 'function') fns.push(k)
    else data[k] = v
  }
  return { data, fns: fns.sort() }
}

async function both(token, opts) {
  const headers = { authorization: `Bearer ${token}` }
  const ours = await authenticateRequest({ headers }, { jwtKey, secretKey: SK, publishableKey: PK })
  const client = clerk.createClerkClient({ secretKey: SK, publishableKey: PK, jwtKey })
  const theirs = await client.authenticateRequest(new Request('http://localhost:3000/', { headers }), {})
  return { ours, theirs, oursAuth: ours.toAuth(opts), theirsAuth: theirs.toAuth(opts) }
}

describe('pending sessions: toAuth() as Clerk 3.25.0', () => {
  for (const v of [1, 2]) {
    const org = v === 2 ? { v: 2, o: { id: 'org_1', rol: 'admin' } } : { org_id: 'org_1', org_role: 'org:admin', org_permissions: ['org:items:read'] }
    for (const opts of [undefined, {}, { treatPendingAsSignedOut: true }, { treatPendingAsSignedOut: undefined }]) {
      test(`v${v} pending, toAuth(${JSON.stringify(opts)}) is Clerk's signed-out object with sessionStatus 'pending'`, async () => {
        const token = T.signJwt(key, T.sessionClaims({ sts: 'pending', ...org }))
        const { ours, theirs, oursAuth, theirsAuth } = await both(token, opts)
        // The request stays signed in; only the auth object is signed out.
        assert.equal(ours.status, 'signed-in')
        assert.equal(theirs.status, 'signed-in')
        assert.deepEqual(shape(oursAuth), shape(theirsAuth))
        assert.equal(oursAuth.userId, null)
        assert.equal(oursAuth.isAuthenticated, false)
        assert.equal(oursAuth.sessionStatus, 'pending')
        assert.equal(oursAuth.tokenType, 'session_token')
        assert.equal(await oursAuth.getToken(), null)
        assert.equal(await oursAuth.getToken({ template: 'x' }), null)
        assert.equal(oursAuth.has({ role: 'org:admin' }), false)
        assert.equal(theirsAuth.has({ role: 'org:admin' }), false)
        assert.deepEqual(oursAuth.debug(), theirsAuth.debug())
      })
    }

    test(`v${v} pending, toAuth({ treatPendingAsSignedOut: false }) is the signed-in object`, async () => {
      const token = T.signJwt(key, T.sessionClaims({ sts: 'pending', ...org }))
      const { oursAuth, theirsAuth } = await both(token, { treatPendingAsSignedOut: false })
      assert.equal(oursAuth.userId, 'user_1')
      assert.equal(oursAuth.isAuthenticated, true)
      assert.equal(oursAuth.sessionStatus, 'pending')
      assert.equal(await oursAuth.getToken(), token)
      assert.equal(oursAuth.has({ role: 'org:admin' }), true)
      for (const k of ['userId', 'sessionId', 'sessionStatus', 'orgId', 'orgRole', 'isAuthenticated', 'tokenType']) {
        assert.deepEqual(oursAuth[k], theirsAuth[k], k)
      }
      assert.equal(theirsAuth.has({ role: 'org:admin' }), true)
    })
  }

  test("an active session (sts 'active', or no sts) stays signed in under the default", async () => {
    for (const claims of [{ sts: 'active' }, {}]) {
      const token = T.signJwt(key, T.sessionClaims(claims))
      const { oursAuth, theirsAuth } = await both(token)
      assert.equal(oursAuth.userId, 'user_1')
      assert.equal(theirsAuth.userId, 'user_1')
      assert.equal(oursAuth.sessionStatus, theirsAuth.sessionStatus)
    }
  })

  test('toAuth(opts) is memoised per treatPendingAsSignedOut value', async () => {
    const token = T.signJwt(key, T.sessionClaims({ sts: 'pending' }))
    const state = await authenticateRequest({ headers: { authorization: `Bearer ${token}` } }, { jwtKey })
    assert.equal(state.toAuth(), state.toAuth({}))
    assert.equal(state.toAuth(), state.toAuth({ treatPendingAsSignedOut: true }))
    assert.equal(state.toAuth({ treatPendingAsSignedOut: false }), state.toAuth({ treatPendingAsSignedOut: false }))
    assert.notEqual(state.toAuth(), state.toAuth({ treatPendingAsSignedOut: false }))
  })

  test('authObjectOf on a native outcome applies the same rule', () => {
    const claims = JSON.stringify(T.sessionClaims({ sts: 'pending' }))
    const result = { signedIn: true, tokenType: 'session_token', token: 't', claims }
    assert.equal(authObjectOf(result).userId, null)
    assert.equal(authObjectOf(result, {}).sessionStatus, 'pending')
    assert.equal(authObjectOf(result, { treatPendingAsSignedOut: false }).userId, 'user_1')
  })
})

describe('identity cache: a pending session is never resolved', () => {
  test('no resolveUser call and no cached value for a pending session; opting in resolves it', async () => {
    const sub = T.unique('user')
    const calls = []
    const resolveUser = async (auth) => {
      calls.push(auth.userId)
      return { id: auth.userId }
    }
    const stateOf = async (claims) =>
      authenticateRequest({ headers: { authorization: `Bearer ${T.signJwt(key, T.sessionClaims({ sub, ...claims }))}` } }, { jwtKey })
    // An active session of the user caches the user.
    assert.deepEqual(await resolveIdentity(await stateOf({ sts: 'active' }), resolveUser), { id: sub })
    assert.equal(calls.length, 1)
    // A pending session of the same user gets nothing: no cache hit, no call.
    assert.equal(await resolveIdentity(await stateOf({ sts: 'pending' }), resolveUser), null)
    assert.equal(await resolveIdentity(await stateOf({ sts: 'pending', sid: 'sess_other' }), resolveUser, undefined, {}), null)
    assert.equal(calls.length, 1)
    // Opted in: the pending session is a signed-in user (served from the cache here).
    assert.deepEqual(await resolveIdentity(await stateOf({ sts: 'pending' }), resolveUser, undefined, { treatPendingAsSignedOut: false }), { id: sub })
    // A pending session of a user never seen before: no call either.
    const fresh = await authenticateRequest(
      { headers: { authorization: `Bearer ${T.signJwt(key, T.sessionClaims({ sub: T.unique('user'), sts: 'pending' }))}` } },
      { jwtKey },
    )
    assert.equal(await resolveIdentity(fresh, resolveUser), null)
    assert.equal(calls.length, 1)
  })
})
