'use strict'
// Machine auth objects (AUTH-PARITY B6, B7, §2 item 6) side by side with @clerk/backend 3.25.0: the same `ak_`,
// `mt_` and `oat_` tokens go to Clerk's authenticateRequest and to ours, both verified by one Backend API
// stand-in on 127.0.0.1 answering the same resources; the auth objects (authenticated and unauthenticated) and
// getAuthObjectForAcceptedToken's answers for every acceptsToken value must have the same keys and values.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')

const clerk = require('@clerk/backend')
const clerkInternal = require('@clerk/backend/internal')
const T = require('./helpers/tokens')
const { authenticateRequest } = require('..')
const { getAuthObjectForAcceptedToken, authObjectOf } = require('../lib/auth-object')

const PK = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k'
const SK = 'sk_test_auth_object_machine'

// POST verify routes of both implementations (Clerk 3.25.0 calls /api_keys/verify without a version segment).
const ROUTES = {
  '/api_keys/verify': 'secret',
  '/v1/api_keys/verify': 'secret',
  '/m2m_tokens/verify': 'token',
  '/oauth_applications/access_tokens/verify': 'access_token',
}

async function startStandIn() {
  const answers = new Map()
  const requests = []
  const server = http.createServer((req, res) => {
    let raw = ''
    req.on('data', (c) => (raw += c))
    req.on('end', () => {
      const path = req.url.split('?')[0]
      requests.push({ method: req.method, path })
      let body = {}
      try {
        body = JSON.parse(raw)
      } catch {}
      const field = ROUTES[path]
      const resource = field ? answers.get(body[field]) : undefined
      res.writeHead(resource ? 200 : 404, { 'content-type': 'application/json' })
      res.end(JSON.stringify(resource || { errors: [{ code: 'resource_not_found', message: 'not found' }] }))
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    answer: (token, resource) => answers.set(token, resource),
    close: () => new Promise((r) => server.close(r)),
  }
}

const apiKey = (subject, extra = {}) => ({
  object: 'api_key',
  id: T.unique('ak_id'),
  type: 'api_key',
  name: 'CI key',
  subject,
  scopes: ['read', 'write'],
  claims: { team: 'a' },
  revoked: false,
  revocation_reason: null,
  expired: false,
  expiration: null,
  created_by: 'user_admin',
  description: 'for CI',
  last_used_at: null,
  created_at: 1700000000000,
  updated_at: 1700000000000,
  ...extra,
})
const m2mToken = (subject) => ({
  object: 'machine_to_machine_token',
  id: T.unique('mt_id'),
  subject,
  scopes: ['mch_other'],
  claims: { env: 'prod' },
  revoked: false,
  revocation_reason: null,
  expired: false,
  expiration: null,
  created_at: 1700000000000,
  updated_at: 1700000000000,
})
const oauthToken = (subject) => ({
  object: 'clerk_idp_oauth_access_token',
  id: T.unique('oat_id'),
  client_id: 'client_abc',
  type: 'oauth:access_token',
  subject,
  scopes: ['email', 'profile'],
  revoked: false,
  revocation_reason: null,
  expired: false,
  expiration: null,
  created_at: 1700000000000,
  updated_at: 1700000000000,
})

/** Every non-function field of an auth object, and the names of its function fields. */
function shape(auth) {
  const data = {}
  const fns = []
  for (const [k, v] of Object.entries(auth)) {
    if (typeof v === 'function') fns.push(k)
    else data[k] = v
  }
  return { keys: Object.keys(auth).sort(), data, fns: fns.sort() }
}

const ACCEPTS = ['any', 'session_token', 'api_key', 'm2m_token', 'oauth_token', ['api_key'], ['session_token', 'm2m_token'], ['oauth_token', 'api_key'], undefined]

describe('machine auth objects as Clerk 3.25.0', () => {
  let bapi
  before(async () => {
    bapi = await startStandIn()
  })
  after(() => bapi.close())

  async function both(token, acceptsToken = 'any') {
    const headers = { authorization: `Bearer ${token}` }
    const ours = await authenticateRequest({ headers }, { secretKey: SK, publishableKey: PK, apiUrl: bapi.url, acceptsToken })
    const client = clerk.createClerkClient({ secretKey: SK, publishableKey: PK, apiUrl: bapi.url })
    const theirs = await client.authenticateRequest(new Request('http://localhost:3000/api', { headers }), { acceptsToken })
    return { ours, theirs }
  }

  const cases = [
    ['api_key owned by a user', 'ak', apiKey('user_9'), { userId: 'user_9', orgId: null }],
    ['api_key owned by an organization', 'ak', apiKey('org_3'), { userId: null, orgId: 'org_3' }],
    ['api_key of a machine', 'ak', apiKey('mch_1'), { userId: null, orgId: null }],
    ['api_key without name or claims', 'ak', apiKey('user_2', { name: undefined, claims: null }), { userId: 'user_2' }],
    ['m2m_token', 'mt', m2mToken('mch_1'), { machineId: 'mch_1' }],
    ['oauth_token of a user', 'oat', oauthToken('user_1'), { userId: 'user_1', clientId: 'client_abc' }],
    ['oauth_token whose subject is not a user_ id (userId = subject)', 'oat', oauthToken('mch_5'), { userId: 'mch_5' }],
  ]
  for (const [name, prefix, resource, expected] of cases) {
    test(`${name}: authenticated object and its filtering equal Clerk's`, async () => {
      const token = T.unique(prefix)
      bapi.answer(token, JSON.parse(JSON.stringify(resource)))
      const { ours, theirs } = await both(token)
      assert.equal(theirs.status, 'signed-in', `Clerk: ${theirs.reason} ${theirs.message}`)
      assert.equal(ours.status, 'signed-in', `ours: ${ours.reason} ${ours.message}`)
      const a = ours.toAuth()
      const b = theirs.toAuth()
      assert.deepEqual(shape(a), shape(b))
      for (const [k, v] of Object.entries(expected)) assert.equal(a[k], v, k)
      assert.equal(a.id, resource.id)
      assert.equal(await a.getToken(), token)
      assert.equal(a.has({ role: 'org:admin' }), false)
      assert.equal(a.tokenType === 'oauth_token' ? 'orgId' in a : false, false, 'no orgId on OAuth objects')
      for (const accepts of ACCEPTS) {
        const fa = getAuthObjectForAcceptedToken(a, accepts)
        const fb = clerkInternal.getAuthObjectForAcceptedToken({ authObject: b, acceptsToken: accepts })
        assert.deepEqual(shape(fa), shape(fb), `acceptsToken ${JSON.stringify(accepts)}`)
        if (fa !== a) {
          assert.deepEqual(fa.debug(), fb.debug(), `debug() under acceptsToken ${JSON.stringify(accepts)}`)
          assert.equal(await fa.getToken(), null)
        }
      }
    })
  }

  for (const [prefix, type] of [
    ['ak', 'api_key'],
    ['mt', 'm2m_token'],
    ['oat', 'oauth_token'],
  ]) {
    test(`${type} the Backend API does not know: the unauthenticated object equals Clerk's (debug() too)`, async () => {
      const token = T.unique(prefix)
      const { ours, theirs } = await both(token)
      assert.equal(theirs.status, 'signed-out')
      assert.equal(ours.status, 'signed-out')
      assert.equal(ours.reason, theirs.reason)
      const a = ours.toAuth()
      const b = theirs.toAuth()
      assert.deepEqual(shape(a), shape(b))
      assert.equal(a.tokenType, type)
      assert.equal(a.isAuthenticated, false)
      assert.equal(await a.getToken(), null)
      const da = a.debug()
      const db = b.debug()
      assert.deepEqual(Object.keys(da).sort(), Object.keys(db).sort())
      assert.equal(da.reason, db.reason)
      assert.equal(da.message, db.message)
      assert.ok(da.headers instanceof Headers)
      for (const accepts of ACCEPTS) {
        const fa = getAuthObjectForAcceptedToken(a, accepts)
        const fb = clerkInternal.getAuthObjectForAcceptedToken({ authObject: b, acceptsToken: accepts })
        assert.deepEqual(shape(fa), shape(fb), `acceptsToken ${JSON.stringify(accepts)}`)
      }
    })
  }

  test('a single accepted machine type: the same token under that type gives the same object as Clerk', async () => {
    const token = T.unique('ak')
    bapi.answer(token, apiKey('user_4'))
    const { ours, theirs } = await both(token, 'api_key')
    assert.deepEqual(shape(ours.toAuth()), shape(theirs.toAuth()))
  })

  test('an acceptsToken list without the token type: the invalid-token object (tokenType null), as Clerk', async () => {
    const token = T.unique('mt')
    bapi.answer(token, m2mToken('mch_1'))
    const { ours, theirs } = await both(token, ['api_key', 'oauth_token'])
    assert.equal(theirs.tokenType, null)
    assert.equal(theirs.reason, 'token-type-mismatch')
    assert.equal(ours.reason, 'token-type-mismatch')
    const a = ours.toAuth()
    assert.deepEqual(shape(a), shape(theirs.toAuth()))
    assert.equal(a.tokenType, null)
    assert.deepEqual(a.debug(), {})
  })
})

describe('getAuthObjectForAcceptedToken on session objects, as Clerk', () => {
  const key = T.rsaKey(2048, 'kid_auth_object_machine')
  const jwtKey = key.publicPem

  test('signed-in, pending and signed-out session objects under every acceptsToken value', async () => {
    const tokens = [T.signJwt(key, T.sessionClaims()), T.signJwt(key, T.sessionClaims({ sts: 'pending' })), null]
    for (const token of tokens) {
      const headers = token ? { authorization: `Bearer ${token}` } : {}
      const ours = await authenticateRequest({ headers }, { jwtKey, secretKey: SK, publishableKey: PK })
      const client = clerk.createClerkClient({ secretKey: SK, publishableKey: PK, jwtKey })
      const theirs = await client.authenticateRequest(new Request('http://localhost:3000/', { headers }))
      const a = ours.toAuth()
      const b = theirs.toAuth()
      for (const accepts of ACCEPTS) {
        const fa = getAuthObjectForAcceptedToken(a, accepts)
        const fb = clerkInternal.getAuthObjectForAcceptedToken({ authObject: b, acceptsToken: accepts })
        const sa = shape(fa)
        const sb = shape(fb)
        // The session's claims (iat/exp/jti) and the debug context are compared elsewhere; here the filtering.
        assert.deepEqual(sa.keys.filter((k) => k !== 'features' && k !== 'plans'), sb.keys, `acceptsToken ${JSON.stringify(accepts)}`)
        assert.equal(fa.tokenType, fb.tokenType)
        assert.equal(fa.isAuthenticated, fb.isAuthenticated)
        assert.equal(fa.userId, fb.userId)
        assert.equal(fa === a, fb === b)
      }
    }
  })

  test('default acceptsToken is session_token: an API key never passes as a user', () => {
    const api = authObjectOf(
      { signedIn: true, tokenType: 'api_key', token: 'ak_x', machineData: JSON.stringify({ id: 'ak_id', subject: 'user_1', scopes: [], claims: null, name: 'n' }) },
      {},
      {},
    )
    assert.equal(api.userId, 'user_1')
    const filtered = getAuthObjectForAcceptedToken(api)
    assert.equal(filtered.userId, null)
    assert.equal(filtered.tokenType, 'session_token')
    assert.equal(filtered.isAuthenticated, false)
    assert.equal(getAuthObjectForAcceptedToken(api, 'api_key'), api)
    assert.equal(getAuthObjectForAcceptedToken(api, 'any'), api)
  })
})
