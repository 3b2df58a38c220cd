'use strict'
// The `issuer` option (AUTH-PARITY A13) side by side with @clerk/backend 3.25.0: verifyToken and
// authenticateRequest (header and cookie) refuse a token whose `iss` is not an accepted issuer with Clerk's
// `token-invalid-issuer` reason, message and action, in Clerk's claim order (sub, aud, azp, iss, exp, nbf, iat).

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')

const clerk = require('@clerk/backend')
const T = require('./helpers/tokens')
const { verifyToken, authenticateRequest } = require('..')

const key = T.rsaKey(2048, 'kid_issuer')
const jwtKey = key.publicPem
// A production key: a development instance would sign cookie requests without a dev-browser token out first.
const PK = 'pk_live_Y2xlcmsuZXhhbXBsZS5jb20k'
const SK = 'sk_live_issuer'
const ISS = 'https://clerk.example.com'

/** `{ ok: sub }` or `{ reason, message, action }` of a verifyToken call. */
async function outcome(fn) {
  try {
    return { ok: (await fn()).sub }
  } catch (err) {
    return { reason: err.reason, message: err.message, action: err.action }
  }
}

const ISSUERS = [
  undefined,
  '',
  ISS,
  'https://other.example',
  [ISS],
  ['https://other.example', ISS],
  ['https://other.example'],
  [],
  ['', ISS],
  [''],
  `${ISS}/`,
]
const ISS_CLAIMS = [ISS, undefined, 'https://other.example', `${ISS}/`, 5, null, [ISS], '']

describe('issuer: verifyToken as Clerk 3.25.0', () => {
  test(`${ISSUERS.length} issuer options × ${ISS_CLAIMS.length} iss claims give Clerk's outcome`, async () => {
    const seen = new Set()
    for (const iss of ISS_CLAIMS) {
      const claims = T.sessionClaims()
      if (iss === undefined) delete claims.iss
      else claims.iss = iss
      const token = T.signJwt(key, claims)
      for (const issuer of ISSUERS) {
        const opts = issuer === undefined ? { jwtKey } : { jwtKey, issuer }
        const theirs = await outcome(() => clerk.verifyToken(token, opts))
        const ours = await outcome(() => verifyToken(token, opts))
        assert.deepEqual(ours, theirs, `iss ${JSON.stringify(iss)}, issuer ${JSON.stringify(issuer)}`)
        seen.add(theirs.ok ? 'ok' : theirs.reason)
      }
    }
    assert.deepEqual([...seen].sort(), ['ok', 'token-invalid-issuer'])
  })

  test("Clerk's claim order: azp before iss, iss before exp, nbf and iat", async () => {
    const now = T.nowSec()
    const cases = [
      [{ iss: 'https://bad.example', exp: now - 3600 }, {}],
      [{ iss: 'https://bad.example', nbf: now + 3600 }, {}],
      [{ iss: 'https://bad.example', iat: now + 3600 }, {}],
      [{ iss: 'https://bad.example', azp: 'https://evil.example' }, { authorizedParties: ['https://app.example'] }],
      [{ iss: 'https://bad.example', aud: 'x' }, { audience: 'y' }],
      [{ iss: 'https://bad.example', aud: ['x', 'z'] }, { audience: ['y'] }],
      [{ iss: 'https://bad.example', sub: 7 }, {}],
    ]
    for (const [claimsIn, extra] of cases) {
      const token = T.signJwt(key, T.sessionClaims(claimsIn))
      const opts = { jwtKey, issuer: ISS, ...extra }
      const theirs = await outcome(() => clerk.verifyToken(token, opts))
      const ours = await outcome(() => verifyToken(token, opts))
      assert.deepEqual(ours, theirs, JSON.stringify(claimsIn))
    }
  })

  test('a token verified (and cached) without issuer is refused under an issuer it does not match', async () => {
    const token = T.signJwt(key, T.sessionClaims({ iss: 'https://other.example' }))
    assert.equal((await verifyToken(token, { jwtKey })).iss, 'https://other.example')
    const e = await T.rejectionOf(verifyToken(token, { jwtKey, issuer: ISS }))
    assert.equal(e.reason, 'token-invalid-issuer')
    assert.equal(e.message, `Invalid JWT issuer claim (iss) "https://other.example". Expected "${ISS}".`)
    // And an options object changed in place is noticed.
    const opts = { jwtKey }
    await verifyToken(token, opts)
    opts.issuer = ISS
    assert.equal((await T.rejectionOf(verifyToken(token, opts))).reason, 'token-invalid-issuer')
  })

  test('an issuer that is not a string or a list of strings is a TypeError naming the option', async () => {
    for (const issuer of [5, { a: 1 }, [ISS, 5]]) {
      const e = await T.rejectionOf(verifyToken('x.y.z', { jwtKey, issuer }))
      assert.ok(e instanceof TypeError)
      assert.match(e.message, /issuer/)
    }
  })
})

describe('issuer: authenticateRequest as Clerk 3.25.0', () => {
  async function both(headers, issuer) {
    const ours = await authenticateRequest({ headers }, { jwtKey, secretKey: SK, publishableKey: PK, issuer })
    const client = clerk.createClerkClient({ secretKey: SK, publishableKey: PK, jwtKey })
    const theirs = await client.authenticateRequest(new Request('http://localhost:3000/api', { headers }), { issuer })
    return { ours, theirs }
  }

  for (const carrier of ['header', 'cookie']) {
    test(`${carrier} token: signed in with a matching issuer, token-invalid-issuer otherwise (status, reason, message)`, async () => {
      // A cookie whose iss is not this instance's Frontend API selects the suffixed cookies in Clerk (none here):
      // the cookie cases keep iss = the instance and vary the option.
      const cases = [
        [ISS, ISS],
        [ISS, ['https://other.example', ISS]],
        [ISS, 'https://other.example'],
        [ISS, ['https://a.example', 'https://b.example']],
        [undefined, [ISS]],
      ]
      if (carrier === 'header') cases.push(['https://other.example', ISS], ['https://other.example', undefined])
      for (const [iss, issuer] of cases) {
        const claims = T.sessionClaims()
        if (iss === undefined) delete claims.iss
        else claims.iss = iss
        const token = T.signJwt(key, claims)
        const headers =
          carrier === 'header' ? { authorization: `Bearer ${token}` } : { cookie: `__session=${token}; __client_uat=${claims.iat - 5}` }
        const { ours, theirs } = await both(headers, issuer)
        const label = `iss ${JSON.stringify(iss)}, issuer ${JSON.stringify(issuer)}`
        assert.equal(ours.status, theirs.status, label)
        assert.equal(ours.reason, theirs.reason, label)
        assert.equal(ours.message, theirs.message, label)
        assert.equal(ours.toAuth().userId, theirs.toAuth().userId, label)
      }
    })
  }
})
