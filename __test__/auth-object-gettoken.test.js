'use strict'
// getToken({ template, expiresInSeconds }) (AUTH-PARITY B4, §2 item 9): mints a token through the Backend API
// exactly as @clerk/backend 3.25.0's signedInAuthObject(...).getToken does. A Backend API stand-in on 127.0.0.1
// records the requests of both implementations (method, path, headers, body) and answers the same; the results
// and the errors (ClerkAPIResponseError: status, errors, clerkTraceId, retryAfter) must be equal.
// Deliberate differences: User-Agent is clerk-native/<version> (Clerk: @clerk/backend@3.25.0); the template
// name and session id are percent-encoded in the path (Clerk puts them in as they are).

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')

const { signedInAuthObject } = require('@clerk/backend/internal')
const { ClerkAPIResponseError: ClerksError } = require('@clerk/backend/errors')
const T = require('./helpers/tokens')
const { authenticateRequest } = require('..')
const { version } = require('../package.json')

const key = T.rsaKey(2048, 'kid_auth_object_gettoken')
const jwtKey = key.publicPem
const SK = 'sk_test_gettoken_secret'

async function startStandIn() {
  const requests = []
  let answer = () => ({ status: 200, body: { object: 'token', jwt: 'minted.jwt.value' } })
  const server = http.createServer((req, res) => {
    let raw = ''
    req.on('data', (c) => (raw += c))
    req.on('end', () => {
      const rec = { method: req.method, url: req.url, headers: { ...req.headers }, raw }
      requests.push(rec)
      const a = answer(rec)
      const headers = { 'content-type': 'application/json', ...(a.headers || {}) }
      res.writeHead(a.status, headers)
      res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body))
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    setAnswer: (fn) => (answer = fn),
    close: () => new Promise((r) => server.close(r)),
  }
}

/** The parts of a request both implementations must send alike (connection details left out). */
function comparable(rec) {
  const h = { ...rec.headers }
  for (const k of ['host', 'connection', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'sec-fetch-mode', 'content-length']) delete h[k]
  return { method: rec.method, url: rec.url, headers: h, body: rec.raw }
}

async function errorOf(promise) {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

describe('getToken({ template, expiresInSeconds }) as Clerk 3.25.0', () => {
  let bapi
  const claims = T.sessionClaims({ sid: 'sess_abc' })
  const token = T.signJwt(key, claims)
  before(async () => {
    bapi = await startStandIn()
  })
  after(() => bapi.close())

  async function ours(options = {}) {
    const state = await authenticateRequest({ headers: { authorization: `Bearer ${token}` } }, { jwtKey, secretKey: SK, apiUrl: bapi.url, ...options })
    return state.toAuth()
  }
  const theirs = (context = {}) => signedInAuthObject({ secretKey: SK, apiUrl: bapi.url, ...context }, token, claims)

  /** Runs `fn(authObject)` against ours and Clerk's; returns both outcomes and both recorded requests. */
  async function both(fn, context = {}) {
    const n = bapi.requests.length
    const a = await fn(await ours(context)).then((v) => ({ value: v }), (e) => ({ error: e }))
    const [ra, ...moreA] = bapi.requests.slice(n)
    const m = bapi.requests.length
    const b = await fn(theirs(context)).then((v) => ({ value: v }), (e) => ({ error: e }))
    const [rb, ...moreB] = bapi.requests.slice(m)
    assert.equal(moreA.length, 0)
    assert.equal(moreB.length, 0)
    return { a, b, ra, rb }
  }

  const calls = [
    ['{ template }', { template: 'supabase' }, '/v1/sessions/sess_abc/tokens/supabase', ''],
    ['{ template, expiresInSeconds }', { template: 'hasura', expiresInSeconds: 120 }, '/v1/sessions/sess_abc/tokens/hasura', '{"expires_in_seconds":120}'],
    ['{ expiresInSeconds } without a template', { expiresInSeconds: 30 }, '/v1/sessions/sess_abc/tokens', '{"expires_in_seconds":30}'],
    ['{ expiresInSeconds: 0 }', { expiresInSeconds: 0 }, '/v1/sessions/sess_abc/tokens', '{"expires_in_seconds":0}'],
  ]
  for (const [name, options, path, body] of calls) {
    test(`${name}: the same POST as Clerk's, resolving to the minted jwt`, async () => {
      bapi.setAnswer(() => ({ status: 200, body: { object: 'token', jwt: `jwt-for-${name}` } }))
      const { a, b, ra, rb } = await both((auth) => auth.getToken(options))
      assert.equal(b.value, `jwt-for-${name}`)
      assert.equal(a.value, b.value)
      assert.deepEqual(comparable(ra), comparable(rb))
      assert.equal(ra.method, 'POST')
      assert.equal(ra.url, path)
      assert.equal(ra.raw, body)
      assert.equal(ra.headers.authorization, `Bearer ${SK}`)
      assert.equal(ra.headers['clerk-api-version'], '2026-05-12')
      assert.equal(ra.headers['content-type'], 'application/json')
      assert.equal(ra.headers['user-agent'], `clerk-native/${version}`)
    })
  }

  test('apiVersion and an apiUrl with a trailing slash build the same URL as Clerk', async () => {
    bapi.setAnswer(() => ({ status: 200, body: { object: 'token', jwt: 'x' } }))
    const { ra, rb } = await both((auth) => auth.getToken({ template: 't' }), { apiUrl: `${bapi.url}/`, apiVersion: 'v1' })
    assert.equal(ra.url, rb.url)
    assert.equal(ra.url, '/v1/sessions/sess_abc/tokens/t')
  })

  test('without options (or an empty template): the request token, no Backend API call', async () => {
    for (const options of [undefined, {}, { template: '' }, { template: undefined, expiresInSeconds: undefined }]) {
      const { a, b, ra, rb } = await both((auth) => auth.getToken(options))
      assert.equal(b.value, token)
      assert.equal(a.value, token)
      assert.equal(ra, undefined)
      assert.equal(rb, undefined)
    }
  })

  test('a Backend API refusal rejects with the same ClerkAPIResponseError (status, errors, clerkTraceId, retryAfter)', async () => {
    const answers = [
      { status: 404, body: { errors: [{ code: 'resource_not_found', message: 'not found', long_message: 'No JWT template named supabase', meta: { param_name: 'template' } }], clerk_trace_id: 'trace_1' } },
      { status: 429, headers: { 'retry-after': '7', 'cf-ray': 'ray_9' }, body: { errors: [{ code: 'too_many_requests', message: 'slow down' }] } },
      { status: 401, body: { errors: [{ code: 'clerk_key_invalid', message: 'The provided Clerk Secret Key is invalid.' }] } },
      { status: 500, headers: { 'content-type': 'text/plain' }, body: 'upstream broke' },
    ]
    for (const answer of answers) {
      bapi.setAnswer(() => answer)
      const { a, b, ra, rb } = await both((auth) => auth.getToken({ template: 'supabase' }))
      assert.deepEqual(comparable(ra), comparable(rb))
      const ea = a.error
      const eb = b.error
      assert.ok(eb, 'Clerk rejects')
      assert.ok(ea instanceof ClerksError, "ours is @clerk/backend's ClerkAPIResponseError when it is installed")
      for (const k of ['name', 'message', 'status', 'clerkTraceId', 'retryAfter', 'code']) assert.deepEqual(ea[k], eb[k], `${answer.status} ${k}`)
      assert.deepEqual(JSON.parse(JSON.stringify(ea.errors)), JSON.parse(JSON.stringify(eb.errors)))
      assert.equal(ea.status, answer.status)
    }
  })

  test('an unreachable Backend API rejects as Clerk does (unexpected_error)', async () => {
    const { a, b } = await both((auth) => auth.getToken({ template: 'x' }), { apiUrl: 'http://127.0.0.1:1' })
    assert.equal(a.error.errors[0].code, 'unexpected_error')
    assert.equal(b.error.errors[0].code, 'unexpected_error')
    assert.equal(a.error.status, b.error.status)
  })

  test('no secret key: a clear error naming secretKey and CLERK_SECRET_KEY, no request, no secret in the message', async () => {
    const state = await authenticateRequest({ headers: { authorization: `Bearer ${token}` } }, { jwtKey, apiUrl: bapi.url })
    const n = bapi.requests.length
    const err = await errorOf(state.toAuth().getToken({ template: 'supabase' }))
    assert.match(err.message, /secretKey/)
    assert.match(err.message, /CLERK_SECRET_KEY/)
    assert.equal(bapi.requests.length, n)
    // The request token itself needs no key.
    assert.equal(await state.toAuth().getToken(), token)
    // A secret key never appears in an error.
    bapi.setAnswer(() => ({ status: 403, body: { errors: [{ code: 'x', message: 'no' }] } }))
    const e2 = await errorOf((await ours()).getToken({ template: 't' }))
    assert.ok(!String(e2.message).includes(SK))
    assert.ok(!String(e2.stack).includes(SK))
  })

  test('signed-out, pending and machine objects: getToken({ template }) is null or the machine token, no request', async () => {
    const n = bapi.requests.length
    const out = await authenticateRequest({ headers: {} }, { jwtKey, secretKey: SK, apiUrl: bapi.url })
    assert.equal(await out.toAuth().getToken({ template: 't' }), null)
    const pendingToken = T.signJwt(key, T.sessionClaims({ sts: 'pending' }))
    const pending = await authenticateRequest({ headers: { authorization: `Bearer ${pendingToken}` } }, { jwtKey, secretKey: SK, apiUrl: bapi.url })
    assert.equal(await pending.toAuth().getToken({ template: 't' }), null)
    assert.equal(bapi.requests.length, n)
  })

  test("without @clerk/backend: our own ClerkAPIResponseError with Clerk's fields", async () => {
    const { ClerkAPIResponseError } = require('../lib/auth-object')
    const e = new ClerkAPIResponseError('Not Found', { data: [{ code: 'c', message: 'm', long_message: 'l', meta: { param_name: 'p' } }], status: 404, clerkTraceId: 't', retryAfter: 3 })
    assert.equal(e.name, 'ClerkAPIResponseError')
    assert.equal(e.code, 'api_response_error')
    assert.equal(e.status, 404)
    assert.equal(e.clerkTraceId, 't')
    assert.equal(e.retryAfter, 3)
    assert.deepEqual({ ...e.errors[0], meta: { paramName: e.errors[0].meta.paramName } }, { code: 'c', message: 'm', longMessage: 'l', meta: { paramName: 'p' } })
    const theirs = new ClerksError('Not Found', { data: [{ code: 'c', message: 'm', long_message: 'l', meta: { param_name: 'p' } }], status: 404, clerkTraceId: 't', retryAfter: 3 })
    assert.deepEqual(JSON.parse(JSON.stringify(e.errors)), JSON.parse(JSON.stringify(theirs.errors)).map((x) => ({ ...x, meta: Object.fromEntries(Object.entries(x.meta).filter(([k]) => k in e.errors[0].meta)) })))
  })
})
