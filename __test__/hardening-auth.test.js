'use strict'
// Hardening round 2 (authorization), through real Express 5 apps on 127.0.0.1, the Next helper and a Backend API
// stand-in for machine tokens:
//   item 2: one rule for the organization of a token (v2 `o.id`, v1 `org_id`) in the auth object, the identity key
//           and organizationId; a token whose org_id and o.id disagree is refused (401 ambiguous_org_id);
//   item 3: organizationId is enforced on every authenticated request (without resolveUser, machine tokens by
//           their org), fail closed, in Express and Next;
//   has() with a non-string role/permission answers false, as Clerk's.
// Each test failed on 4a5a4e8e (the ambiguous tokens were served another org's user or passed the org check; the
// org check ran only with resolveUser and only for session tokens; has() threw a napi type error).

const { test, describe, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')

const express = require('express')
const T = require('./helpers/tokens')
const { listenApp, getMe } = require('./helpers/express-app')
const { clerkMiddleware } = require('../express')
const next = require('../next')
const { clearCaches, authenticateRequest } = require('..')

const key = T.rsaKey(2048, 'kid_hardening_auth')
const jwtKey = key.publicPem
const tokenFor = (claims) => T.signJwt(key, T.sessionClaims(claims))
const ENV_KEYS = ['CLERK_SECRET_KEY', 'CLERK_JWT_KEY', 'CLERK_PUBLISHABLE_KEY', 'CLERK_API_URL', 'CLERK_MACHINE_SECRET_KEY']
const savedEnv = {}

const apps = []
let bapi
before(async () => {
  for (const k of ENV_KEYS) {
    savedEnv[k] = process.env[k]
    delete process.env[k]
  }
  bapi = await T.startBackendApi()
  bapi.answer('ak_org_A', { body: { id: 'ak_id_A', subject: 'org_A', scopes: [] } })
  bapi.answer('ak_org_B', { body: { id: 'ak_id_B', subject: 'org_B', scopes: [] } })
  bapi.answer('ak_user_1', { body: { id: 'ak_id_U', subject: 'user_1', scopes: [] } })
  bapi.answer('mt_machine_1', { body: { object: 'machine_to_machine_token', id: 'mt_id_1', subject: 'mch_1', scopes: [], claims: null, revoked: false, expired: false } })
  bapi.answer('oat_user_1', { body: { id: 'oat_id_1', subject: 'user_1', scopes: [] } })
})
beforeEach(() => clearCaches())
after(async () => {
  for (const a of apps.splice(0)) await a.close()
  await bapi.close()
  clearCaches()
  for (const k of ENV_KEYS) if (savedEnv[k] !== undefined) process.env[k] = savedEnv[k]
})

async function startApp(options) {
  const app = express()
  app.use(clerkMiddleware(options))
  app.get('/me', (req, res) => {
    const a = req.auth()
    res.json({ user: req.auth.user === undefined ? '<undefined>' : req.auth.user, userId: a.userId ?? null, orgId: a.orgId ?? null, tokenType: a.tokenType, isAuthenticated: a.isAuthenticated })
  })
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, _next) => res.status(500).json({ error: err.message }))
  return listenApp(app, apps)
}

async function get(app, token) {
  const { status, body } = await getMe(app, token)
  return { status, body }
}

const errCode = (r) => r.body && r.body.errors && r.body.errors[0] && r.body.errors[0].code

describe('item 2: one organization per token (auth object, identity key, organizationId)', () => {
  test('a user resolved for org_B is never served to a session whose auth object shows org_A', async () => {
    const resolveUser = async (auth) => ({ id: `db_${auth.userId}`, org: auth.orgId, role: auth.orgRole })
    const app = await startApp({ jwtKey, resolveUser })
    // org_B admin session (v1): resolved and cached under org_B.
    const adminB = await get(app, tokenFor({ sub: 'user_1', org_id: 'org_B', org_role: 'org:admin' }))
    assert.equal(adminB.status, 200)
    assert.deepEqual(adminB.body.user, { id: 'db_user_1', org: 'org_B', role: 'org:admin' })
    // The same user's org_A member session (v2), carrying a stale org_id of org_B: the auth object says org_A.
    const mixed = tokenFor({ v: 2, sub: 'user_1', org_id: 'org_B', o: { id: 'org_A', rol: 'member' } })
    const r = await get(app, mixed)
    assert.equal(r.status, 401, JSON.stringify(r.body))
    assert.equal(errCode(r), 'ambiguous_org_id')
    // A v2 session that agrees with itself is fine, and gets its own entry.
    const clean = await get(app, tokenFor({ v: 2, sub: 'user_1', o: { id: 'org_A', rol: 'member' } }))
    assert.equal(clean.status, 200)
    assert.deepEqual(clean.body.user, { id: 'db_user_1', org: 'org_A', role: 'org:member' })
  })

  test('an org_A requirement never passes for an org_B session or a session with no org, whatever org_id says', async () => {
    const app = await startApp({ jwtKey, organizationId: 'org_A', resolveUser: async (a) => ({ id: a.userId }) })
    const orgB = await get(app, tokenFor({ v: 2, sub: 'user_1', org_id: 'org_A', o: { id: 'org_B', rol: 'admin' } }))
    assert.equal(orgB.status, 401, JSON.stringify(orgB.body))
    assert.equal(errCode(orgB), 'ambiguous_org_id')
    const noOrg = await get(app, tokenFor({ v: 2, sub: 'user_1', org_id: 'org_A' }))
    assert.equal(noOrg.status, 401, JSON.stringify(noOrg.body))
    assert.equal(errCode(noOrg), 'ambiguous_org_id')
    const v1WithO = await get(app, tokenFor({ sub: 'user_1', o: { id: 'org_A' } }))
    assert.equal(v1WithO.status, 401)
    assert.equal(errCode(v1WithO), 'ambiguous_org_id')
    const good = await get(app, tokenFor({ v: 2, sub: 'user_1', o: { id: 'org_A', rol: 'member' } }))
    assert.equal(good.status, 200)
    assert.equal(good.body.orgId, 'org_A')
  })

  test('the auth object keeps Clerk\'s reading (v2 o.id, v1 org_id) and the Next helper refuses the same tokens', async () => {
    const mixed = tokenFor({ v: 2, sub: 'user_1', org_id: 'org_B', o: { id: 'org_A' } })
    const state = await authenticateRequest({ headers: { authorization: `Bearer ${mixed}` } }, { jwtKey })
    assert.equal(state.toAuth().orgId, 'org_A')
    const request = new Request('http://app.test/api', { headers: { authorization: `Bearer ${mixed}` } })
    await assert.rejects(next.getAuth(request, { jwtKey, organizationId: 'org_B' }), (err) => err.code === 'ambiguous_org_id' && err.status === 401)
    await assert.rejects(next.getAuth(request, { jwtKey, resolveUser: async () => ({}) }), (err) => err.code === 'ambiguous_org_id')
  })
})

describe('item 3: organizationId is enforced on every authenticated request', () => {
  test('Express without resolveUser: another org\'s session is 403, no org 403, the right org 200, signed-out passes as signed out', async () => {
    const app = await startApp({ jwtKey, organizationId: 'org_A' })
    const b = await get(app, tokenFor({ sub: 'user_1', org_id: 'org_B' }))
    assert.equal(b.status, 403, JSON.stringify(b.body))
    assert.equal(errCode(b), 'org_mismatch')
    const none = await get(app, tokenFor({ sub: 'user_1' }))
    assert.equal(none.status, 403)
    assert.equal(errCode(none), 'missing_org_id')
    const a = await get(app, tokenFor({ sub: 'user_1', org_id: 'org_A' }))
    assert.equal(a.status, 200)
    assert.equal(a.body.orgId, 'org_A')
    const out = await get(app, null)
    assert.equal(out.status, 200)
    assert.equal(out.body.isAuthenticated, false)
  })

  test('Express machine tokens are checked by their organization (API keys of another org, user keys, M2M and OAuth tokens refused)', async () => {
    const app = await startApp({ secretKey: 'sk_test_hardening', apiUrl: bapi.url, jwtKey, organizationId: 'org_A', acceptsToken: 'any' })
    const okKey = await get(app, 'ak_org_A')
    assert.equal(okKey.status, 200, JSON.stringify(okKey.body))
    assert.equal(okKey.body.tokenType, 'api_key')
    for (const [token, code] of [
      ['ak_org_B', 'org_mismatch'],
      ['ak_user_1', 'missing_org_id'],
      ['mt_machine_1', 'missing_org_id'],
      ['oat_user_1', 'missing_org_id'],
    ]) {
      const r = await get(app, token)
      assert.equal(r.status, 403, `${token}: ${JSON.stringify(r.body)}`)
      assert.equal(errCode(r), code, token)
    }
  })

  test('Next getAuth: organizationId without resolveUser rejects another org\'s session and API key', async () => {
    const req = (token) => new Request('http://app.test/api', { headers: { authorization: `Bearer ${token}` } })
    await assert.rejects(next.getAuth(req(tokenFor({ sub: 'user_1', org_id: 'org_B' })), { jwtKey, organizationId: 'org_A' }), (e) => e.code === 'org_mismatch' && e.status === 403)
    const ok = await next.getAuth(req(tokenFor({ sub: 'user_1', org_id: 'org_A' })), { jwtKey, organizationId: 'org_A' })
    assert.equal(ok.orgId, 'org_A')
    const opts = { secretKey: 'sk_test_hardening', apiUrl: bapi.url, organizationId: 'org_A' }
    await assert.rejects(next.getAuth(req('ak_org_B'), opts), (e) => e.code === 'org_mismatch')
    assert.equal((await next.getAuth(req('ak_org_A'), opts)).tokenType, 'api_key')
  })
})

test('has() with a non-string role, permission, feature or plan answers false instead of throwing', async () => {
  const state = await authenticateRequest({ headers: { authorization: `Bearer ${tokenFor({ sub: 'user_1', org_id: 'org_A', org_role: 'org:admin', org_permissions: ['org:x:y'] })}` } }, { jwtKey })
  const auth = state.toAuth()
  assert.equal(auth.has({ role: 'org:admin' }), true)
  for (const params of [{ role: 5 }, { role: ['org:admin'] }, { permission: {} }, { permission: 1 }, { feature: 1 }, { plan: null }, { role: 'org:admin', permission: 7 }, null, 'org:admin', { reverification: 12 }]) {
    assert.equal(auth.has(params), false, JSON.stringify(params))
  }
})
