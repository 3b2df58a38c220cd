'use strict'
// Differential tests for the hardening round against Clerk's own @clerk/backend 3.25.0 (a devDependency): the
// same tokens, keys and parameters go to Clerk's functions and to ours, and the observable results must be
// equal. Where we are deliberately different, the test names the difference (README "Error codes" and
// SECURITY.md list them):
//   - has(null) throws inside Clerk (it reads params.role); ours answers false.
//   - a token whose org_id and o.id disagree: the auth object is Clerk's (o.id for v2, org_id for v1); only the
//     identity cache and organizationId refuse it (401 ambiguous_org_id), which Clerk has no counterpart for.

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')

const clerk = require('@clerk/backend')
const { signedInAuthObject } = require('@clerk/backend/internal')
const T = require('./helpers/tokens')
const { verifyToken, authenticateRequest, clearCaches } = require('..')

const key = T.rsaKey(2048, 'kid_parity_hardening')
const jwtKey = key.publicPem

/** Clerk's outcome of `fn()`: the value, or `throw:<reason or message>`. */
async function outcome(fn) {
  try {
    return await fn()
  } catch (err) {
    return `throw:${err.reason || err.message}`
  }
}

describe('has() with parameters of the wrong type (Clerk 3.25.0 side by side)', () => {
  const claimSets = [
    { sub: 'user_1', sid: 'sess_1', org_id: 'org_A', org_role: 'org:admin', org_permissions: ['org:items:read'] },
    { sub: 'user_1', sid: 'sess_1', v: 2, o: { id: 'org_A', rol: 'admin', per: 'read', fpm: '1' }, fea: 'o:items,u:export', pla: 'u:free' },
  ]
  const params = [
    { role: 'org:admin' },
    { role: 'admin' },
    { permission: 'org:items:read' },
    { feature: 'export' },
    { plan: 'free' },
    { role: 5 },
    { role: ['org:admin'] },
    { role: null },
    { permission: 1 },
    { permission: {} },
    { feature: 1 },
    { plan: null },
    { role: 'org:admin', permission: 7 },
    { reverification: 12 },
    { reverification: 'nope' },
    'org:admin',
    {},
  ]
  for (const [i, claimsIn] of claimSets.entries()) {
    test(`claims v${claimsIn.v || 1}: ${params.length} parameter sets answer as Clerk's has()`, async () => {
      const claims = T.sessionClaims(claimsIn)
      const token = T.signJwt(key, claims)
      const ours = (await authenticateRequest({ headers: { authorization: `Bearer ${token}` } }, { jwtKey })).toAuth()
      const theirs = signedInAuthObject({}, token, claims)
      for (const p of params) {
        const expected = await outcome(() => theirs.has(p))
        assert.equal(ours.has(p), expected, `set ${i}, has(${JSON.stringify(p)})`)
      }
      // Deliberate difference: Clerk's has(null) throws (it reads params.role); ours answers false.
      assert.match(await outcome(() => theirs.has(null)), /^throw:/)
      assert.equal(ours.has(null), false)
    })
  }
})

describe('trailing "=" padding (Clerk 3.25.0 verifyToken side by side)', () => {
  test('padded spellings are accepted or refused exactly as Clerk does, also after the plain one was cached', async () => {
    clearCaches('verified')
    const token = T.signJwt(key, T.sessionClaims({ sub: 'user_pad' }))
    const [h, p, s] = token.split('.')
    const spellings = [token, `${token}=`, `${token}==`, `${token}====`, `${h}=.${p}.${s}`, `${h}.${p}=.${s}`, `${h}.${p}.=${s}`, `${h}.${p}.${s.slice(0, 5)}=${s.slice(5)}`]
    // Verify the plain spelling first so that the cache is warm for the others.
    await verifyToken(token, { jwtKey })
    const seen = new Set()
    for (const t of spellings) {
      const theirs = await outcome(async () => (await clerk.verifyToken(t, { jwtKey })).sub)
      const ours = await outcome(async () => (await verifyToken(t, { jwtKey })).sub)
      assert.equal(ours, theirs, `spelling ${JSON.stringify(t.slice(-12))}`)
      seen.add(theirs === 'user_pad' ? 'accepted' : 'refused')
    }
    // The matrix holds both kinds, so a verifier that accepts (or refuses) everything fails here.
    assert.deepEqual([...seen].sort(), ['accepted', 'refused'])
  })
})

describe('the auth object of a token whose org claims disagree stays Clerk\'s', () => {
  for (const claimsIn of [
    { v: 2, sub: 'user_1', org_id: 'org_B', o: { id: 'org_A', rol: 'member' } },
    { sub: 'user_1', org_id: 'org_A', org_role: 'org:member', o: { id: 'org_B' } },
    { v: 2, sub: 'user_1', org_id: 'org_A' },
    { sub: 'user_1', o: { id: 'org_B' } },
  ]) {
    test(JSON.stringify(claimsIn), async () => {
      const claims = T.sessionClaims(claimsIn)
      const token = T.signJwt(key, claims)
      const ours = (await authenticateRequest({ headers: { authorization: `Bearer ${token}` } }, { jwtKey })).toAuth()
      const theirs = signedInAuthObject({}, token, claims)
      for (const field of ['userId', 'orgId', 'orgRole', 'orgSlug', 'orgPermissions']) {
        assert.deepEqual(ours[field], theirs[field], field)
      }
    })
  }
})
