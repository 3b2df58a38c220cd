'use strict'
// The identity cache (SPEC §5, the mission-control lesson; API.md §3) through a real Express 5 app
// (`clerkMiddleware({ jwtKey, resolveUser, organizationId })`) on 127.0.0.1 and through the Next helper
// (`getAuth(request, { jwtKey, resolveUser })`), with RS256 session tokens signed by node:crypto.
//
// What is checked: one resolveUser call per identity (org + user, never sid), claims validated before any lookup
// (required org first, then the user), v1/v2 claims of one identity sharing an entry with orgRole `org:admin`,
// invalidateIdentity, single-flight on a cold cache, null not cached, errors not cached, TTLs (real time, short).
// Exact TTL edges under a manual clock: crates/core/tests/cache_identity.rs.
//
// A session token without `sub` never verifies ("Subject claim (sub) is required"), so "a token missing the
// user id never reads or writes the cache" is checked at the request level (no lookup happens for it) and
// directly on resolveIdentity with claims that lack a usable user id.

const { test, describe, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const { performance } = require('node:perf_hooks')

const express = require('express')
const T = require('./helpers/tokens')
const { listenApp, getMe } = require('./helpers/express-app')
const { clerkMiddleware } = require('../express')
const next = require('../next')
const { cacheStats, clearCaches, configureCaches, invalidateIdentity } = require('..')
const { resolveIdentity, IdentityError } = require('../lib/identity')

const DEFAULTS = {
  negative: { capacity: 10000, ttlMs: 30000 },
  verified: { capacity: 10000, ttlMs: 300000 },
  identity: { capacity: 10000, ttlMs: 300000, sidlessTtlMs: 60000 },
}
const restoreDefaults = () => configureCaches(DEFAULTS)
const idStats = () => cacheStats().identity

const key = T.rsaKey(2048, 'kid_identity')
const jwtKey = key.publicPem
const ENV_KEYS = ['CLERK_SECRET_KEY', 'CLERK_JWT_KEY', 'CLERK_PUBLISHABLE_KEY', 'CLERK_API_URL', 'CLERK_MACHINE_SECRET_KEY']
const savedEnv = {}

/** A session token for `claims` (over sessionClaims defaults; `sid: undefined` drops the session id). */
const tokenFor = (claims) => T.signJwt(key, T.sessionClaims(claims))

const apps = []
before(() => {
  for (const k of ENV_KEYS) {
    savedEnv[k] = process.env[k]
    delete process.env[k]
  }
  clearCaches()
  restoreDefaults()
})
beforeEach(() => clearCaches())
after(async () => {
  for (const a of apps.splice(0)) await a.close()
  restoreDefaults()
  clearCaches()
  for (const k of ENV_KEYS) if (savedEnv[k] !== undefined) process.env[k] = savedEnv[k]
})

/**
 * resolveUser stand-in: records the auth it is given and resolves to `{ id: 'db_<userId>', org }` (or `value(auth)`),
 * after `delayMs`.
 */
function resolver({ delayMs = 0, value } = {}) {
  const calls = []
  const fn = async (auth) => {
    calls.push({ userId: auth.userId, orgId: auth.orgId, orgRole: auth.orgRole, sessionId: auth.sessionId, isAdmin: auth.has({ role: 'org:admin' }) })
    if (delayMs) await T.sleep(delayMs)
    return value ? value(auth) : { id: `db_${auth.userId}`, org: auth.orgId, n: calls.length }
  }
  fn.calls = calls
  return fn
}

/** A real Express app with clerkMiddleware(options) and GET /me echoing what the middleware exposed. */
async function startApp(options) {
  const app = express()
  app.use(clerkMiddleware(options))
  app.get('/me', (req, res) => {
    const a = req.auth()
    const show = (v) => (v === undefined ? '<undefined>' : v)
    res.json({
      user: show(req.auth.user),
      fnUser: show(a.user),
      userId: a.userId,
      orgId: a.orgId,
      orgRole: a.orgRole,
      sessionId: a.sessionId,
      isAuthenticated: a.isAuthenticated,
    })
  })
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, _next) => res.status(500).json({ error: err.message }))
  return listenApp(app, apps)
}

/** GET /me with `Bearer token` (or no Authorization); resolves to { status, body, contentType }. */
async function get(app, token) {
  const { status, body, res } = await getMe(app, token)
  return { status, body, contentType: res.headers.get('content-type'), cacheControl: res.headers.get('cache-control') }
}

// ---------------------------------------------------------------------------------------------------------

describe('identity cache through Express clerkMiddleware({ resolveUser })', () => {
  test('resolveUser runs once per identity; later requests are served from the cache; req.auth.user and req.auth().user', async () => {
    const resolveUser = resolver()
    const app = await startApp({ jwtKey, resolveUser })
    const s0 = idStats()
    const r1 = await get(app, tokenFor({ sub: 'user_a', org_id: 'org_1', org_role: 'org:member' }))
    assert.equal(r1.status, 200)
    assert.deepEqual(r1.body.user, { id: 'db_user_a', org: 'org_1', n: 1 })
    assert.deepEqual(r1.body.fnUser, r1.body.user)
    assert.equal(r1.body.userId, 'user_a')
    assert.deepEqual(resolveUser.calls, [{ userId: 'user_a', orgId: 'org_1', orgRole: 'org:member', sessionId: 'sess_1', isAdmin: false }])
    // a different token (new jti, other session) of the same identity: from the cache
    for (let i = 0; i < 3; i++) {
      const r = await get(app, tokenFor({ sub: 'user_a', org_id: 'org_1', sid: `sess_other_${i}` }))
      assert.deepEqual(r.body.user, { id: 'db_user_a', org: 'org_1', n: 1 })
      assert.deepEqual(r.body.fnUser, r.body.user)
    }
    assert.equal(resolveUser.calls.length, 1)
    const s1 = idStats()
    assert.deepEqual([s1.size - s0.size, s1.inserts - s0.inserts, s1.hits - s0.hits], [1, 1, 3])
    // another user: its own call
    const r2 = await get(app, tokenFor({ sub: 'user_b', org_id: 'org_1' }))
    assert.deepEqual(r2.body.user, { id: 'db_user_b', org: 'org_1', n: 2 })
    assert.equal(resolveUser.calls.length, 2)
    // the same user in another org, and as a personal account: other identities
    await get(app, tokenFor({ sub: 'user_a', org_id: 'org_2' }))
    await get(app, tokenFor({ sub: 'user_a' }))
    assert.equal(resolveUser.calls.length, 4)
    assert.equal(idStats().size, 4)
  })

  test('signed-out requests: user is null on req.auth and req.auth(), resolveUser not called, no lookup', async () => {
    const resolveUser = resolver()
    const app = await startApp({ jwtKey, resolveUser })
    const s0 = idStats()
    for (const token of [undefined, 'not-a-jwt', T.signJwt(T.rsaKey(2048, 'kid_identity_wrong'), T.sessionClaims(), { header: { kid: key.kid } })]) {
      const r = await get(app, token)
      assert.equal(r.status, 200)
      assert.equal(r.body.isAuthenticated, false)
      assert.equal(r.body.fnUser, null, `req.auth().user for ${token}`)
      assert.equal(r.body.user, null, `req.auth.user for ${token}`)
    }
    assert.equal(resolveUser.calls.length, 0)
    const s1 = idStats()
    assert.deepEqual([s1.hits, s1.misses, s1.inserts], [s0.hits, s0.misses, s0.inserts])
  })

  test('two sid-less users in the same org get their own users, never the other one', async () => {
    const resolveUser = resolver()
    const app = await startApp({ jwtKey, resolveUser })
    const u1 = () => tokenFor({ sub: 'user_1', org_id: 'org_shared', sid: undefined })
    const u2 = () => tokenFor({ sub: 'user_2', org_id: 'org_shared', sid: undefined })
    const seen = []
    for (let i = 0; i < 3; i++) {
      seen.push((await get(app, u1())).body.user.id, (await get(app, u2())).body.user.id)
    }
    assert.deepEqual(seen, ['db_user_1', 'db_user_2', 'db_user_1', 'db_user_2', 'db_user_1', 'db_user_2'])
    assert.deepEqual(
      resolveUser.calls.map((c) => [c.userId, c.sessionId]),
      [
        ['user_1', null],
        ['user_2', null],
      ],
    )
    assert.equal(idStats().size, 2)
  })

  test('sid and sid-less tokens of one user share one entry (sid is never part of the key)', async () => {
    const resolveUser = resolver()
    const app = await startApp({ jwtKey, resolveUser })
    const r1 = await get(app, tokenFor({ sub: 'user_s', org_id: 'org_1', sid: 'sess_a' }))
    const r2 = await get(app, tokenFor({ sub: 'user_s', org_id: 'org_1', sid: undefined }))
    const r3 = await get(app, tokenFor({ sub: 'user_s', org_id: 'org_1', sid: 'sess_b' }))
    assert.equal(resolveUser.calls.length, 1)
    assert.deepEqual(r2.body.user, r1.body.user)
    assert.deepEqual(r3.body.user, r1.body.user)
    assert.equal(r2.body.sessionId, null)
    assert.equal(r3.body.sessionId, 'sess_b')
    assert.equal(idStats().size, 1)
  })

  test("organizationId: 'org_1' rejects another org (403 org_mismatch) and a missing org (403 missing_org_id) before any lookup", async () => {
    const resolveUser = resolver()
    const app = await startApp({ jwtKey, resolveUser, organizationId: 'org_1' })
    const s0 = idStats()
    const cases = [
      [tokenFor({ sub: 'user_a', org_id: 'org_2' }), 'org_mismatch', 'organization id does not match'],
      [tokenFor({ sub: 'user_a', v: 2, o: { id: 'org_2', rol: 'admin' } }), 'org_mismatch', 'organization id does not match'],
      [tokenFor({ sub: 'user_a', org_id: 'org_1x' }), 'org_mismatch', 'organization id does not match'],
      [tokenFor({ sub: 'user_a', org_id: 'ORG_1' }), 'org_mismatch', 'organization id does not match'],
      [tokenFor({ sub: 'user_a' }), 'missing_org_id', 'missing Clerk organization id'],
      [tokenFor({ sub: 'user_a', org_id: '' }), 'missing_org_id', 'missing Clerk organization id'],
      [tokenFor({ sub: 'user_a', org_id: 1 }), 'missing_org_id', 'missing Clerk organization id'],
      [tokenFor({ sub: 'user_a', o: { rol: 'admin' } }), 'missing_org_id', 'missing Clerk organization id'],
    ]
    for (const [token, code, message] of cases) {
      const r = await get(app, token)
      assert.equal(r.status, 403, code)
      assert.match(r.contentType, /^application\/json/)
      assert.equal(r.cacheControl, 'no-store')
      assert.deepEqual(r.body, { errors: [{ code, message }] })
    }
    assert.equal(resolveUser.calls.length, 0, 'resolveUser never called')
    const s1 = idStats()
    assert.deepEqual([s1.hits, s1.misses, s1.inserts, s1.size], [s0.hits, s0.misses, s0.inserts, s0.size], 'no lookup at all')

    // Even with a cached entry for the other org's identity, the mismatch still wins (checked before lookup).
    const open = await startApp({ jwtKey, resolveUser })
    await get(open, tokenFor({ sub: 'user_a', org_id: 'org_2' }))
    assert.equal(resolveUser.calls.length, 1)
    const r = await get(app, tokenFor({ sub: 'user_a', org_id: 'org_2' }))
    assert.equal(r.status, 403)
    assert.equal(r.body.errors[0].code, 'org_mismatch')

    // the required org itself, v1 and v2 claims
    const ok1 = await get(app, tokenFor({ sub: 'user_a', org_id: 'org_1' }))
    assert.equal(ok1.status, 200)
    assert.equal(ok1.body.user.org, 'org_1')
    const ok2 = await get(app, tokenFor({ sub: 'user_b', v: 2, o: { id: 'org_1', rol: 'member' } }))
    assert.equal(ok2.status, 200)
    assert.equal(ok2.body.user.id, 'db_user_b')
  })

  test('v1 (org_id, org_role org:admin) and v2 (o: { id, rol: admin }) tokens of one identity share one entry; both are org:admin', async () => {
    const resolveUser = resolver()
    const app = await startApp({ jwtKey, resolveUser })
    // (Clerk's has({ role }) needs orgPermissions: v1 tokens carry org_permissions, v2 build them from o.per)
    const v1 = () => tokenFor({ sub: 'user_adm', org_id: 'org_1', org_role: 'org:admin', org_slug: 'acme', org_permissions: [] })
    const v2 = () => tokenFor({ sub: 'user_adm', v: 2, o: { id: 'org_1', rol: 'admin', slg: 'acme' } })
    const a = await get(app, v1())
    const b = await get(app, v2())
    assert.equal(resolveUser.calls.length, 1, 'the v2 token was served from the v1 entry')
    assert.deepEqual(b.body.user, a.body.user)
    assert.equal(a.body.orgRole, 'org:admin')
    assert.equal(b.body.orgRole, 'org:admin')
    assert.equal(idStats().size, 1)
    // now cold, v2 first: the auth given to resolveUser maps rol 'admin' to org:admin as well
    assert.equal(invalidateIdentity({ orgId: 'org_1', userId: 'user_adm' }), 1)
    await get(app, v2())
    await get(app, v1())
    assert.equal(resolveUser.calls.length, 2)
    assert.deepEqual(
      resolveUser.calls.map((c) => [c.orgId, c.orgRole, c.isAdmin]),
      [
        ['org_1', 'org:admin', true],
        ['org_1', 'org:admin', true],
      ],
    )
  })

  test('the user is sub (a user_id must agree), the org is the auth object\'s (the key follows the claims, the session id never)', async () => {
    const resolveUser = resolver()
    const app = await startApp({ jwtKey, resolveUser })
    // user_id that agrees with sub is the key
    await get(app, tokenFor({ sub: 'user_same', user_id: 'user_same', org_id: 'org_k' }))
    assert.equal(resolveUser.calls.length, 1)
    assert.equal(invalidateIdentity({ userId: 'user_same' }), 1, 'keyed by user_id = sub')
    // an empty or non-string user_id falls back to sub
    await get(app, tokenFor({ sub: 'user_sub', user_id: '', org_id: 'org_k' }))
    await get(app, tokenFor({ sub: 'user_sub', user_id: 42, org_id: 'org_k' }))
    assert.equal(resolveUser.calls.length, 2, 'both keyed by sub: one call')
    assert.equal(invalidateIdentity({ orgId: 'org_k', userId: 'user_sub' }), 1)
    // The org is the auth object's (v1 org_id, v2 o.id); a token whose org_id and o.id disagree is refused before
    // any lookup (hardening round 2, item 2: it used to be keyed under org_id while the auth object showed o.id).
    const mixed = await get(app, tokenFor({ sub: 'user_o', org_id: 'org_v1', o: { id: 'org_v2' } }))
    assert.equal(mixed.status, 401)
    assert.equal(mixed.body.errors[0].code, 'ambiguous_org_id')
    assert.equal(invalidateIdentity({ orgId: 'org_v2' }), 0)
    assert.equal(invalidateIdentity({ orgId: 'org_v1' }), 0)
    await get(app, tokenFor({ v: 2, sub: 'user_o', o: { id: 'org_v2' } }))
    assert.equal(invalidateIdentity({ orgId: 'org_v2' }), 1)
  })

  test('a token whose user_id differs from sub never hands another user their record (401 ambiguous_user_id)', async () => {
    // An app whose session token carries a custom `user_id` claim (e.g. from user-editable metadata): the key
    // would come from user_id while resolveUser resolves the session's user (sub). Refused before any lookup.
    const resolveUser = resolver()
    const app = await startApp({ jwtKey, resolveUser })
    const s0 = idStats()
    const attacker = await get(app, tokenFor({ sub: 'user_attacker', user_id: 'user_victim', org_id: 'org_1' }))
    assert.equal(attacker.status, 401)
    assert.equal(attacker.body.errors[0].code, 'ambiguous_user_id')
    assert.equal(resolveUser.calls.length, 0, 'resolveUser not called')
    assert.equal(idStats().inserts, s0.inserts, 'nothing cached')
    const victim = await get(app, tokenFor({ sub: 'user_victim', org_id: 'org_1' }))
    assert.equal(victim.body.userId, 'user_victim')
    assert.equal(victim.body.user.id, 'db_user_victim', "the victim gets their own record")
  })

  test('a session token without sub never verifies, so it is signed out and never reaches the identity cache', async () => {
    const resolveUser = resolver()
    const app = await startApp({ jwtKey, resolveUser })
    const claims = T.sessionClaims({ user_id: 'user_only_uid', org_id: 'org_1' })
    delete claims.sub
    const s0 = idStats()
    const r = await get(app, T.signJwt(key, claims))
    assert.equal(r.status, 200)
    assert.equal(r.body.isAuthenticated, false)
    assert.equal(r.body.user, null)
    assert.equal(resolveUser.calls.length, 0)
    const s1 = idStats()
    assert.deepEqual([s1.hits, s1.misses, s1.inserts], [s0.hits, s0.misses, s0.inserts])
  })

  test('invalidateIdentity({ orgId }), ({ userId }), ({ orgId, userId }) return counts and force resolveUser again', async () => {
    const resolveUser = resolver()
    const app = await startApp({ jwtKey, resolveUser })
    const idents = [
      { sub: 'user_a', org_id: 'org_1' },
      { sub: 'user_b', org_id: 'org_1' },
      { sub: 'user_a', org_id: 'org_2' },
      { sub: 'user_a' },
      { sub: 'user_c', org_id: 'org_2' },
    ]
    const warm = async () => {
      for (const c of idents) await get(app, tokenFor(c))
    }
    await warm()
    assert.equal(resolveUser.calls.length, 5)
    await warm()
    assert.equal(resolveUser.calls.length, 5, 'all cached')

    assert.equal(invalidateIdentity({}), 0, 'neither given: nothing')
    assert.equal(invalidateIdentity({ orgId: '', userId: '' }), 0)
    assert.equal(invalidateIdentity({ orgId: 'org_1', userId: 'user_a' }), 1)
    assert.equal(invalidateIdentity({ orgId: 'org_1', userId: 'user_a' }), 0, 'already gone')
    await get(app, tokenFor(idents[0]))
    assert.deepEqual(resolveUser.calls.slice(5).map((c) => [c.userId, c.orgId]), [['user_a', 'org_1']])

    assert.equal(invalidateIdentity({ orgId: 'org_1' }), 2, 'user_a and user_b of org_1')
    assert.equal(invalidateIdentity({ userId: 'user_a' }), 2, 'user_a in org_2 and as a personal account')
    assert.equal(idStats().size, 1, 'only user_c of org_2 left')
    await warm()
    assert.deepEqual(
      resolveUser.calls.slice(6).map((c) => [c.userId, c.orgId]),
      [
        ['user_a', 'org_1'],
        ['user_b', 'org_1'],
        ['user_a', 'org_2'],
        ['user_a', undefined], // a personal session: orgId undefined, as in Clerk's auth object
      ],
    )
    for (const bad of [undefined, null, 'org_1', { orgId: 1 }, { userId: {} }]) {
      assert.throws(() => invalidateIdentity(bad), TypeError, JSON.stringify(bad))
    }
    clearCaches('identity')
    assert.equal(idStats().size, 0)
    await get(app, tokenFor(idents[4]))
    assert.equal(resolveUser.calls.length, 11)
  })

  test('concurrent requests for one identity on a cold cache call resolveUser once', async () => {
    const resolveUser = resolver({ delayMs: 100 })
    const app = await startApp({ jwtKey, resolveUser })
    const t0 = performance.now()
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => get(app, tokenFor({ sub: 'user_conc', org_id: 'org_1', sid: `sess_${i % 3}` }))))
    const ms = performance.now() - t0
    assert.equal(resolveUser.calls.length, 1)
    for (const r of results) {
      assert.equal(r.status, 200)
      assert.deepEqual(r.body.user, { id: 'db_user_conc', org: 'org_1', n: 1 })
    }
    assert.ok(ms < 5000, `${ms} ms`)
    // two identities at once: one call each
    const mixed = await Promise.all(
      Array.from({ length: 10 }, (_, i) => get(app, tokenFor({ sub: i % 2 ? 'user_odd' : 'user_even', org_id: 'org_9' }))),
    )
    assert.equal(resolveUser.calls.length, 3)
    mixed.forEach((r, i) => assert.equal(r.body.user.id, i % 2 ? 'db_user_odd' : 'db_user_even'))
  })

  test('resolveUser returning null or undefined is not cached (asked again next time)', async () => {
    let answer = null
    const resolveUser = resolver({ value: () => answer })
    const app = await startApp({ jwtKey, resolveUser })
    const tok = () => tokenFor({ sub: 'user_null', org_id: 'org_1' })
    assert.equal((await get(app, tok())).body.user, null)
    assert.equal((await get(app, tok())).body.fnUser, null)
    answer = undefined
    const r = await get(app, tok())
    assert.equal(r.body.user, null, 'undefined becomes null')
    assert.equal(resolveUser.calls.length, 3)
    assert.equal(idStats().size, 0)
    // falsy but real values are cached
    answer = 0
    assert.equal((await get(app, tok())).body.user, 0)
    assert.equal((await get(app, tok())).body.user, 0)
    assert.equal(resolveUser.calls.length, 4)
  })

  test('resolveUser failures go to the error handler and are not cached (async rejection and synchronous throw)', async () => {
    let mode = 'reject'
    const calls = []
    const resolveUser = (auth) => {
      calls.push(mode)
      if (mode === 'throw') throw new Error('db down (sync)')
      if (mode === 'reject') return Promise.reject(new Error('db down'))
      return { id: `db_${auth.userId}` }
    }
    const app = await startApp({ jwtKey, resolveUser })
    const tok = () => tokenFor({ sub: 'user_err', org_id: 'org_1' })
    let r = await get(app, tok())
    assert.equal(r.status, 500)
    assert.deepEqual(r.body, { error: 'db down' })
    mode = 'ok'
    r = await get(app, tok())
    assert.equal(r.status, 200)
    assert.deepEqual(r.body.user, { id: 'db_user_err' })
    assert.equal(invalidateIdentity({ userId: 'user_err' }), 1)

    mode = 'throw'
    r = await get(app, tok())
    assert.equal(r.status, 500)
    assert.deepEqual(r.body, { error: 'db down (sync)' })
    mode = 'ok'
    r = await get(app, tok())
    assert.equal(r.status, 200, 'a synchronous throw is not remembered either')
    assert.deepEqual(r.body.user, { id: 'db_user_err' })
    assert.deepEqual(calls, ['reject', 'ok', 'throw', 'ok'])
    // a synchronous (non-promise) value is cached like an async one
    r = await get(app, tok())
    assert.equal(calls.length, 4)
  })

  test('invalidateIdentity while resolveUser is in flight: the stale value is not cached', async (t) => {
    let version = 1
    let release
    const gate = new Promise((r) => {
      release = r
    })
    t.after(() => release())
    const calls = []
    const resolveUser = async (auth) => {
      const seen = version // read the "database" before the update
      calls.push(seen)
      if (calls.length === 1) await gate
      return { id: `db_${auth.userId}`, version: seen }
    }
    const app = await startApp({ jwtKey, resolveUser })
    const tok = () => tokenFor({ sub: 'user_race', org_id: 'org_1' })
    const first = get(app, tok())
    for (let i = 0; i < 50 && calls.length === 0; i++) await T.sleep(10)
    assert.equal(calls.length, 1, 'resolveUser started')
    // the app updates the user and invalidates while the first lookup is still running
    version = 2
    invalidateIdentity({ userId: 'user_race' })
    const second = await get(app, tok())
    assert.equal(second.body.user.version, 2, 'a request after the invalidation does not join the stale lookup')
    release()
    assert.equal((await first).body.user.version, 1)
    const third = await get(app, tok())
    assert.equal(third.body.user.version, 2, 'the stale result did not overwrite the fresh entry')
    assert.equal(calls.length, 2)
  })

  test('TTLs: configureCaches({ identity: { ttlMs: 300, sidlessTtlMs: 150 } }) (real time)', async (t) => {
    t.after(restoreDefaults)
    configureCaches({ identity: { ttlMs: 300, sidlessTtlMs: 150 } })
    assert.equal(idStats().ttlMs, 300)
    const resolveUser = resolver()
    const app = await startApp({ jwtKey, resolveUser })
    const withSid = () => tokenFor({ sub: 'user_ttl_sid', org_id: 'org_1', sid: 'sess_1' })
    const sidless = () => tokenFor({ sub: 'user_ttl_nosid', org_id: 'org_1', sid: undefined })
    const count = (u) => resolveUser.calls.filter((c) => c.userId === u).length

    const t0 = performance.now()
    await get(app, withSid())
    await get(app, sidless())
    const t1 = performance.now() // both entries inserted within [t0, t1]
    await get(app, withSid())
    await get(app, sidless())
    assert.ok(performance.now() - t0 < 150, `precondition: repeats within the short TTL (${(performance.now() - t0).toFixed(0)} ms)`)
    assert.deepEqual([count('user_ttl_sid'), count('user_ttl_nosid')], [1, 1], 'both cached')

    await T.sleep(t1 + 160 - performance.now())
    await get(app, sidless()) // expired at <= t1 + 150: resolved again (and re-inserted)
    await get(app, withSid()) // lives until >= t0 + 300
    assert.ok(performance.now() - t0 < 300, `precondition: within the long TTL (${(performance.now() - t0).toFixed(0)} ms)`)
    assert.deepEqual([count('user_ttl_sid'), count('user_ttl_nosid')], [1, 2], 'the sid-less entry expired first')

    await T.sleep(t1 + 310 - performance.now())
    await get(app, withSid())
    assert.equal(count('user_ttl_sid'), 2, 'the sid entry expired after ttlMs')

    // the sid-less TTL never exceeds the main TTL
    configureCaches({ identity: { ttlMs: 150, sidlessTtlMs: 10000 } })
    const s0 = performance.now()
    const capped = () => tokenFor({ sub: 'user_ttl_cap', org_id: 'org_1', sid: undefined })
    await get(app, capped())
    await T.sleep(s0 + 200 - performance.now())
    await get(app, capped())
    assert.equal(count('user_ttl_cap'), 2, 'sid-less entry capped by ttlMs')

    restoreDefaults()
    assert.equal(idStats().ttlMs, 300000)
  })

  test('a capacity of 2 evicts the oldest identity', async (t) => {
    t.after(restoreDefaults)
    configureCaches({ identity: { capacity: 2 } })
    const resolveUser = resolver()
    const app = await startApp({ jwtKey, resolveUser })
    for (const u of ['user_1', 'user_2', 'user_3']) await get(app, tokenFor({ sub: u, org_id: 'org_cap' }))
    assert.equal(idStats().size, 2)
    await get(app, tokenFor({ sub: 'user_3', org_id: 'org_cap' }))
    await get(app, tokenFor({ sub: 'user_2', org_id: 'org_cap' }))
    assert.equal(resolveUser.calls.length, 3)
    await get(app, tokenFor({ sub: 'user_1', org_id: 'org_cap' }))
    assert.equal(resolveUser.calls.length, 4, 'user_1 was evicted')
  })

  test('without resolveUser no user field is set and the identity cache is not touched', async () => {
    const plain = await startApp({ jwtKey })
    const s0 = idStats()
    const r = await get(plain, tokenFor({ sub: 'user_plain', org_id: 'org_1' }))
    assert.equal(r.body.isAuthenticated, true)
    assert.equal(r.body.user, '<undefined>')
    assert.equal(r.body.fnUser, '<undefined>')
    const s1 = idStats()
    assert.deepEqual([s1.hits, s1.misses, s1.inserts, s1.size], [s0.hits, s0.misses, s0.inserts, 0])
  })
})

// ---------------------------------------------------------------------------------------------------------

describe('resolveIdentity: claims are validated before any lookup', () => {
  const state = (claims) => ({ claimsJson: () => (claims == null ? null : JSON.stringify(claims)), toAuth: () => ({ userId: claims && claims.sub }) })

  test('claims without a usable user id reject with missing_user_id (401) and never read or write the cache', async () => {
    const resolveUser = resolver()
    const s0 = idStats()
    for (const claims of [{}, { sub: '' }, { sub: 123 }, { user_id: '', sub: null }, { sid: 'sess_1', org_id: 'org_1' }, { user_id: ['u'] }]) {
      const err = await T.rejectionOf(resolveIdentity(state(claims), resolveUser, undefined))
      assert.ok(err instanceof IdentityError, JSON.stringify(claims))
      assert.equal(err.code, 'missing_user_id')
      assert.equal(err.status, 401)
      assert.equal(err.message, 'missing Clerk user id')
    }
    assert.equal(resolveUser.calls.length, 0)
    const s1 = idStats()
    assert.deepEqual([s1.hits, s1.misses, s1.inserts, s1.size], [s0.hits, s0.misses, s0.inserts, s0.size])
  })

  test('the required org is checked before the user: a token missing both reports the org', async () => {
    const err = await T.rejectionOf(resolveIdentity(state({ sid: 's' }), resolver(), 'org_1'))
    assert.equal(err.code, 'missing_org_id')
    assert.equal(err.status, 403)
    const mismatch = await T.rejectionOf(resolveIdentity(state({ org_id: 'org_2' }), resolver(), 'org_1'))
    assert.equal(mismatch.code, 'org_mismatch')
  })

  test('a state without claims (machine token) resolves to null without calling resolveUser', async () => {
    const resolveUser = resolver()
    assert.equal(await resolveIdentity(state(null), resolveUser, undefined), null)
    assert.equal(resolveUser.calls.length, 0)
  })
})

// ---------------------------------------------------------------------------------------------------------

describe('Next getAuth(request, { jwtKey, resolveUser })', () => {
  const request = (token) => new Request('http://localhost/api/me', { headers: token ? { authorization: `Bearer ${token}` } : {} })

  test('sets auth.user through the identity cache', async () => {
    const resolveUser = resolver()
    const opts = { jwtKey, resolveUser }
    const a1 = await next.getAuth(request(tokenFor({ sub: 'user_next', org_id: 'org_1', org_role: 'org:admin' })), opts)
    assert.equal(a1.isAuthenticated, true)
    assert.deepEqual(a1.user, { id: 'db_user_next', org: 'org_1', n: 1 })
    const a2 = await next.getAuth(request(tokenFor({ sub: 'user_next', v: 2, o: { id: 'org_1', rol: 'admin' }, sid: undefined })), opts)
    assert.deepEqual(a2.user, a1.user)
    assert.equal(a2.orgRole, 'org:admin')
    assert.equal(resolveUser.calls.length, 1)
    // shares the process-wide cache with Express
    const app = await startApp({ jwtKey, resolveUser })
    const r = await get(app, tokenFor({ sub: 'user_next', org_id: 'org_1' }))
    assert.deepEqual(r.body.user, a1.user)
    assert.equal(resolveUser.calls.length, 1)
  })

  test('signed out: auth.user is null and resolveUser is not called; without resolveUser, no user field', async () => {
    const resolveUser = resolver()
    const a = await next.getAuth(request(undefined), { jwtKey, resolveUser })
    assert.equal(a.isAuthenticated, false)
    assert.equal(a.user, null)
    const b = await next.getAuth(request(tokenFor({ sub: 'user_plain' })), { jwtKey })
    assert.equal(b.isAuthenticated, true)
    assert.equal('user' in b, false)
    assert.equal(resolveUser.calls.length, 0)
  })

  test('organizationId mismatch rejects with an IdentityError before any lookup', async () => {
    const resolveUser = resolver()
    const s0 = idStats()
    const err = await T.rejectionOf(next.getAuth(request(tokenFor({ sub: 'user_n', org_id: 'org_2' })), { jwtKey, resolveUser, organizationId: 'org_1' }))
    assert.equal(err.name, 'IdentityError')
    assert.equal(err.code, 'org_mismatch')
    assert.equal(err.status, 403)
    const missing = await T.rejectionOf(next.getAuth(request(tokenFor({ sub: 'user_n' })), { jwtKey, resolveUser, organizationId: 'org_1' }))
    assert.equal(missing.code, 'missing_org_id')
    assert.equal(resolveUser.calls.length, 0)
    const s1 = idStats()
    assert.deepEqual([s1.misses, s1.inserts], [s0.misses, s0.inserts])
    const ok = await next.getAuth(request(tokenFor({ sub: 'user_n', org_id: 'org_1' })), { jwtKey, resolveUser, organizationId: 'org_1' })
    assert.equal(ok.user.id, 'db_user_n')
  })
})
