'use strict'
// has() side by side with Clerk's (AUTH-PARITY B3 and §2 item 8): @clerk/shared 4.41.0 `createCheckAuthorization`
// through @clerk/backend 3.25.0's `signedInAuthObject`, on generated claims (v1 and v2; org role/permission
// prefixes; fea/pla scopes, malformed elements, JavaScript whitespace; fva variants) × generated parameters
// (every dimension alone and combined; reverification presets, objects and invalid values). Every answer must be
// equal. Deliberate difference (tested in parity-hardening.test.js): has(null) throws inside Clerk; ours is false.

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')

const { signedInAuthObject } = require('@clerk/backend/internal')
const { createCheckAuthorization } = require('@clerk/shared/authorization')
const T = require('./helpers/tokens')
const { authenticateRequest } = require('..')
const { authObjectOf } = require('../lib/auth-object')

const key = T.rsaKey(2048, 'kid_has_parity')
const jwtKey = key.publicPem

/** Clerk's answer: the boolean, or `throw` when Clerk's has() throws. */
function clerkHas(claims, params) {
  try {
    return signedInAuthObject({}, 'token', claims).has(params)
  } catch {
    return 'throw'
  }
}

function oursOf(claims) {
  return authObjectOf({ signedIn: true, tokenType: 'session_token', token: 'token', claims: JSON.stringify(claims) }, { treatPendingAsSignedOut: false })
}

// A small deterministic generator (xorshift32), so a failure names a reproducible case.
function rng(seed) {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 0x100000000
  }
}
const pick = (r, list) => list[Math.floor(r() * list.length)]

const ORGS_V1 = [
  {},
  { org_id: 'org_1', org_role: 'org:admin', org_permissions: ['org:items:read', 'org:items:manage'] },
  { org_id: 'org_1', org_role: 'org:admin' },
  { org_id: 'org_1', org_permissions: ['org:items:read'] },
  { org_role: 'org:admin', org_permissions: ['org:items:read'] },
  { org_id: 'org_1', org_role: 'admin', org_permissions: ['items:read'] },
  { org_id: 'org_1', org_role: 'org:', org_permissions: [] },
  { org_id: '', org_role: 'org:admin', org_permissions: ['org:items:read'] },
  { org_id: 'org_1', org_role: 'org:org:admin', org_permissions: ['org:items:read', 7] },
  { org_id: 'org_1', org_role: 'org:member', org_permissions: 'org:items:read' },
]
const ORGS_V2 = [
  { v: 2 },
  { v: 2, o: { id: 'org_1', rol: 'admin', per: 'read,manage', fpm: '1,3' } },
  { v: 2, o: { id: 'org_1', rol: 'admin' } },
  { v: 2, o: { id: 'org_1', per: 'read', fpm: '1' } },
  { v: 2, o: { id: 'org_1', rol: '', per: 'read', fpm: '1' } },
  { v: 2, o: { rol: 'admin', per: 'read', fpm: '1' } },
]
// fea claims; v2 tokens need their org features (the `o:` ones) to build permissions, and throw on malformed ones
const FEAS = [
  undefined,
  '',
  'o:items,u:export',
  'o:items,o:memberships,u:export',
  'ou:items',
  'uo:items,u:a:b',
  'x:items,u:export',
  ' o:items , \ufeffu:export\ufeff',
  'u:export\u0085',
  'o:items,broken',
  'o:org',
]
const PLAS = [undefined, '', 'u:free,o:pro', 'o:pro', 'u:free', 'pro', 'ou:team']
const FVAS = [undefined, null, [0, 0], [5, -1], [-1, 5], [-1, -1], [20, 5], [5, 20], [11, 9], [1], [1, 2, 3], ['1', 2], [0.5, 100], [-2, 1], 'x', [1500, 1500], [59, 61]]
const SUBS = ['user_1', 'user_1', 'user_1', '']
const STSS = [undefined, 'active', 'pending']

const ROLES = [undefined, 'admin', 'org:admin', 'org:org:admin', 'member', 'org:member', '']
const PERMISSIONS = [undefined, 'org:items:read', 'items:read', 'org:items:manage', 'org:items:write', 'org:memberships:read', 'org:org:items:read', '']
const FEATURES = [undefined, 'items', 'o:items', 'org:items', 'organization:items', 'u:items', 'user:export', 'export', 'u:export', 'team:export', 'a:b', 'u:a', 'org:', 'nope', '']
const PLANS = [undefined, 'pro', 'o:pro', 'u:pro', 'free', 'user:free', 'team', 'x:pro', '']
const REVERIFICATIONS = [
  undefined,
  'strict',
  'strict_mfa',
  'moderate',
  'lax',
  'bogus',
  '',
  { level: 'first_factor', afterMinutes: 10 },
  { level: 'second_factor', afterMinutes: 6 },
  { level: 'multi_factor', afterMinutes: 30 },
  { level: 'multi_factor', afterMinutes: 1 },
  { level: 'x', afterMinutes: 1 },
  { level: 'second_factor', afterMinutes: 0 },
  { level: 'second_factor', afterMinutes: -5 },
  { level: 'second_factor', afterMinutes: Infinity },
  { level: 'second_factor', afterMinutes: Number.NaN },
  { level: 'second_factor', afterMinutes: '10' },
  { level: 'second_factor' },
  null,
  12,
  true,
  [],
]

function claimsFrom(r) {
  const v2 = r() < 0.4
  const claims = { sub: pick(r, SUBS), sid: 'sess_1', ...(v2 ? pick(r, ORGS_V2) : pick(r, ORGS_V1)) }
  const fea = pick(r, FEAS)
  if (fea !== undefined) claims.fea = fea
  const pla = pick(r, PLAS)
  if (pla !== undefined) claims.pla = pla
  const fva = pick(r, FVAS)
  if (fva !== undefined) claims.fva = fva
  const sts = pick(r, STSS)
  if (sts !== undefined) claims.sts = sts
  return claims
}

function paramsFrom(r) {
  const p = {}
  // Each dimension asked with probability 1/2, so combined checks dominate.
  for (const [name, values] of [
    ['role', ROLES],
    ['permission', PERMISSIONS],
    ['feature', FEATURES],
    ['plan', PLANS],
    ['reverification', REVERIFICATIONS],
  ]) {
    if (r() < 0.5) p[name] = pick(r, values.slice(1))
  }
  return p
}

/** Claims the native auth object can be built from (Clerk's parser throws on them too: v2 malformed fea). */
function buildable(claims) {
  try {
    oursOf(claims)
    return true
  } catch {
    return false
  }
}

const show = (v) => JSON.stringify(v, (k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x))

describe('has(): Clerk 4.41.0 createCheckAuthorization, side by side', () => {
  test('10 combined probes (role+permission, role+reverification, feature+plan, org+billing, billing+reverification) answer false as Clerk', () => {
    const v1 = { sub: 'user_1', sid: 'sess_1', org_id: 'org_1', org_role: 'org:admin', org_permissions: ['org:items:read'], fea: 'u:export', pla: 'u:free', fva: [5, -1] }
    const noFva = { ...v1 }
    delete noFva.fva
    const probes = [
      [v1, { role: 'org:member', permission: 'org:items:read' }],
      [v1, { role: 'org:admin', permission: 'org:items:write' }],
      [noFva, { role: 'org:admin', reverification: 'strict' }],
      [{ ...v1, fva: [-1, -1] }, { role: 'org:admin', reverification: 'strict' }],
      [v1, { role: 'org:admin', reverification: 'bogus' }],
      [v1, { feature: 'export', plan: 'pro' }],
      [v1, { feature: 'nope', plan: 'free' }],
      [v1, { feature: 'export', role: 'org:member' }],
      [v1, { permission: 'org:items:read', plan: 'pro' }],
      [{ ...v1, fva: [20, -1] }, { feature: 'export', reverification: 'strict' }],
    ]
    for (const [claims, params] of probes) {
      const theirs = clerkHas(claims, params)
      assert.equal(theirs, false, `Clerk answers false for ${show(params)}`)
      assert.equal(oursOf(claims).has(params), theirs, `${show(claims)} ${show(params)}`)
    }
    // And the passing combinations pass.
    for (const params of [
      { role: 'org:admin', permission: 'org:items:read' },
      { role: 'admin', reverification: 'strict' },
      { feature: 'export', plan: 'free' },
      { permission: 'items:read', feature: 'user:export', plan: 'u:free', reverification: { level: 'first_factor', afterMinutes: 6 } },
    ]) {
      assert.equal(clerkHas(v1, params), true)
      assert.equal(oursOf(v1).has(params), true, show(params))
    }
  })

  test('every single parameter value against every org, fea, pla and fva variant (v1 and v2)', () => {
    let n = 0
    const singles = [
      ...ROLES.slice(1).map((role) => ({ role })),
      ...PERMISSIONS.slice(1).map((permission) => ({ permission })),
      ...FEATURES.slice(1).map((feature) => ({ feature })),
      ...PLANS.slice(1).map((plan) => ({ plan })),
      ...REVERIFICATIONS.slice(1).map((reverification) => ({ reverification })),
      {},
      { role: undefined },
    ]
    const claimSets = []
    for (const org of [...ORGS_V1, ...ORGS_V2]) claimSets.push({ sub: 'user_1', sid: 's', ...org, fea: 'o:items,u:export', pla: 'u:free,o:pro', fva: [5, -1] })
    for (const fea of FEAS) claimSets.push({ sub: 'user_1', fea, pla: 'o:pro' })
    for (const pla of PLAS) claimSets.push({ sub: 'user_1', pla })
    for (const fva of FVAS) claimSets.push({ sub: 'user_1', fva })
    claimSets.push({ sid: 's', org_id: 'org_1', org_role: 'org:admin' })
    for (const claims of claimSets) {
      if (!buildable(claims)) continue
      const ours = oursOf(claims)
      for (const params of singles) {
        const theirs = clerkHas(claims, params)
        assert.notEqual(theirs, 'throw', `Clerk threw on ${show(claims)} ${show(params)}`)
        assert.equal(ours.has(params), theirs, `${show(claims)} has(${show(params)})`)
        n++
      }
    }
    assert.ok(n > 2000, `${n} combinations`)
  })

  test('5,000 generated claims × combined parameters answer as Clerk', () => {
    const r = rng(0x5eed12)
    let n = 0
    let trueAnswers = 0
    for (let i = 0; i < 5000; i++) {
      const claims = claimsFrom(r)
      if (!buildable(claims)) continue
      const ours = oursOf(claims)
      for (let j = 0; j < 3; j++) {
        const params = paramsFrom(r)
        const theirs = clerkHas(claims, params)
        if (theirs === 'throw') continue
        assert.equal(ours.has(params), theirs, `case ${i}.${j}: ${show(claims)} has(${show(params)})`)
        if (theirs) trueAnswers++
        n++
      }
    }
    assert.ok(n > 10000, `${n} combinations`)
    assert.ok(trueAnswers > 200, `${trueAnswers} true answers: the generator reaches passing combinations`)
  })

  test("createCheckAuthorization itself (the function Clerk's auth objects use) gives the same answers", () => {
    const r = rng(77)
    for (let i = 0; i < 500; i++) {
      const claims = claimsFrom(r)
      if (!buildable(claims)) continue
      const ours = oursOf(claims)
      const check = createCheckAuthorization({
        userId: ours.userId,
        orgId: ours.orgId,
        orgRole: ours.orgRole,
        orgPermissions: ours.orgPermissions,
        factorVerificationAge: ours.factorVerificationAge,
        features: claims.fea || '',
        plans: claims.pla || '',
      })
      const params = paramsFrom(r)
      let theirs
      try {
        theirs = check(params)
      } catch {
        continue
      }
      assert.equal(ours.has(params), theirs, `${show(claims)} has(${show(params)})`)
    }
  })

  test('through authenticateRequest: a signed token answers as Clerk (v1 and v2)', async () => {
    const r = rng(4242)
    for (let i = 0; i < 40; i++) {
      const claims = T.sessionClaims(claimsFrom(r))
      if (claims.sub === '') claims.sub = 'user_1'
      if (!buildable(claims)) continue
      const token = T.signJwt(key, claims)
      const auth = (await authenticateRequest({ headers: { authorization: `Bearer ${token}` } }, { jwtKey })).toAuth({ treatPendingAsSignedOut: false })
      const theirs = signedInAuthObject({}, token, claims)
      assert.deepEqual(auth.factorVerificationAge, theirs.factorVerificationAge ?? null)
      for (let j = 0; j < 10; j++) {
        const params = paramsFrom(r)
        assert.equal(auth.has(params), theirs.has(params), `${show(claims)} has(${show(params)})`)
      }
    }
  })
})
