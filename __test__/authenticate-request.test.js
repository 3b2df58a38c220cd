'use strict'
// authenticateRequest (SPEC §3.5-3.8, API.md §2): token carriers, Clerk's signed-out reasons, acceptsToken,
// the JWT category check on every session path, machine tokens against a Backend API stand-in on 127.0.0.1,
// RequestState, toAuth() for claims v1/v2 and has(), environment fallbacks.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')

const T = require('./helpers/tokens')
const { authenticateRequest } = require('..')

const key = T.rsaKey(2048, 'kid_auth')
const other = T.rsaKey(2048, 'kid_auth_other')
const jwtKey = key.publicPem
const SECRET = 'sk_test_auth_' + T.unique()
const MACHINE_SECRET = 'ak_machine_' + T.unique()
const CAT_SESSION = 'cl_B7d4PD111AAA'
const CAT_TEMPLATE = 'cl_B7d4PD222AAA'
const CAT_M2M = 'cl_B7d4PD333AAA'
const CAT_IGNORE = 'cl_I7d4PD111III'

// The environment must not leak keys into these tests; restored after.
const ENV_KEYS = ['CLERK_SECRET_KEY', 'CLERK_JWT_KEY', 'CLERK_PUBLISHABLE_KEY', 'CLERK_MACHINE_SECRET_KEY', 'CLERK_API_URL', 'CLERK_API_VERSION']
const savedEnv = {}
for (const k of ENV_KEYS) {
  savedEnv[k] = process.env[k]
  delete process.env[k]
}
function restoreEnv() {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k]
    else process.env[k] = savedEnv[k]
  }
}

const closers = []
after(async () => {
  restoreEnv()
  for (const c of closers.splice(0)) await c().catch(() => {})
})

const session = (claims = {}, opts = {}) => T.signJwt(key, T.sessionClaims(claims), opts)
const bearer = (token, extra = {}) => ({ headers: { authorization: `Bearer ${token}`, ...extra } })
const cookies = (pairs) => ({ headers: { cookie: Object.entries(pairs).map(([k, v]) => `${k}=${v}`).join('; ') } })
/** authenticateRequest bounded in time; with one argument the options are `{ jwtKey }` (pass `undefined` explicitly for none). */
const auth = (...args) => T.within(authenticateRequest(args[0], args.length > 1 ? args[1] : { jwtKey }), 15000, 'authenticateRequest')

function assertSignedIn(state, tokenType = 'session_token') {
  assert.equal(state.status, 'signed-in', `expected signed-in, got ${state.reason}: ${state.message}`)
  assert.equal(state.isAuthenticated, true)
  assert.equal(state.isSignedIn, true)
  assert.equal(state.reason, null)
  assert.equal(state.message, null)
  assert.equal(state.tokenType, tokenType)
  // Clerk's withDebugHeaders runs on signed-out and handshake states only: a signed-in state carries none.
  assert.equal(state.headers.get('x-clerk-auth-status'), null)
  assert.equal(state.headers.get('x-clerk-auth-reason'), null)
  const a = state.toAuth()
  assert.equal(a.isAuthenticated, true)
  assert.equal(a.tokenType, tokenType)
  return a
}

function assertSignedOut(state, { reason, message, tokenType = 'session_token', authTokenType = tokenType }) {
  assert.equal(state.status, 'signed-out')
  assert.equal(state.isAuthenticated, false)
  assert.equal(state.isSignedIn, false)
  assert.equal(state.token, null)
  assert.equal(state.reason, reason, `reason (message: ${state.message})`)
  assert.equal(state.tokenType, tokenType)
  if (message instanceof RegExp) assert.match(state.message, message)
  else if (message !== undefined) assert.equal(state.message, message)
  assert.equal(state.headers.get('x-clerk-auth-status'), 'signed-out')
  assert.equal(state.headers.get('x-clerk-auth-reason'), reason)
  if (state.message) assert.equal(state.headers.get('x-clerk-auth-message'), state.message)
  const a = state.toAuth()
  assert.equal(a.isAuthenticated, false)
  assert.equal(a.tokenType, authTokenType)
  // Clerk's typed null shapes: userId on session, api_key and oauth_token objects; none on m2m_token and
  // invalid-token objects.
  if (authTokenType === 'm2m_token' || authTokenType === null) assert.equal('userId' in a, false)
  else assert.equal(a.userId, null)
  assert.equal(a.has({ role: 'org:admin' }), false)
  return a
}

// ---------------------------------------------------------------------------------------------------------

describe('authenticateRequest: where the token comes from (SPEC §3.5)', () => {
  test('Authorization: Bearer <jwt> -> signed-in; RequestState shape', async () => {
    const token = session({ sub: 'user_hdr' })
    const state = await auth(bearer(token))
    const a = assertSignedIn(state)
    assert.equal(state.token, token)
    assert.ok(state.headers instanceof Headers)
    assert.equal(typeof state.toAuth, 'function')
    assert.equal(a.userId, 'user_hdr')
    assert.equal(a.sessionId, 'sess_1')
    assert.equal(await a.getToken(), token)
    assert.equal(a.sessionClaims.sub, 'user_hdr')
    assert.equal(state.toAuth(), a, 'toAuth() is stable')
  })

  test('a bare Authorization value (no scheme) is the token', async () => {
    assertSignedIn(await auth({ headers: { authorization: session() } }))
  })

  test("other schemes ('bearer' lower-case, Basic) give no header token: the cookie path decides", async () => {
    const token = session()
    for (const authorization of [`bearer ${token}`, 'Basic dXNlcjpwYXNz', `Token ${token}`]) {
      assertSignedOut(await auth({ headers: { authorization } }), { reason: 'session-token-and-uat-missing', message: '' })
    }
    // ... and the cookie still counts when the header has another scheme
    const claims = T.sessionClaims()
    assertSignedIn(await auth({ headers: { authorization: 'Basic dXNlcjpwYXNz', cookie: `__session=${T.signJwt(key, claims)}; __client_uat=${claims.iat}` } }))
  })

  test('__session cookie with __client_uat <= iat -> signed-in (token from the cookie)', async () => {
    const claims = T.sessionClaims({ sub: 'user_cookie' })
    const token = T.signJwt(key, claims)
    const state = await auth(cookies({ other: 'x', __client_uat: claims.iat, __session: token }))
    assert.equal(assertSignedIn(state).userId, 'user_cookie')
    assert.equal(state.token, token)
    assertSignedIn(await auth(cookies({ __session: T.signJwt(key, T.sessionClaims()), __client_uat: claims.iat - 100 })))
  })

  test('state.token and getToken() are the exact token for every spelling of its source (header and cookie)', async () => {
    // The signed-in result crosses from Rust as offsets into the header it came from (src/token.rs,
    // compact_session_result); non-ASCII text before the token shifts byte offsets but not JS string indices.
    const claims = T.sessionClaims({ sub: 'user_spelling' })
    const token = T.signJwt(key, claims)
    const uat = `__client_uat=${claims.iat}`
    const cases = [
      { headers: { authorization: `Bearer ${token}` } },
      { headers: { authorization: token } },
      { headers: { Authorization: `Bearer ${token}` } },
      { headers: { authorization: `Bearer ${token}`, cookie: `__session=other; ${uat}` } },
      { headers: { cookie: `__session=${token}; ${uat}` } },
      // (a quoted `__session="…"` is read with its quotes, as Clerk's cookie parser does: handshake.test.js)
      { headers: { cookie: `caf\u00e9=cr\u00e8me; na\u00efve=\u00fc\u00ff;   __session=${token}  ; ${uat}` } },
      { headers: { cookie: `x=\u4e2d\u6587\ud83d\ude00; __session=${token}; ${uat}` } },
      { headers: { cookie: ['a=\u00e9', `__session=${token}`, uat] } },
      new Request('http://localhost/x', { headers: { cookie: `caf\u00e9=1; __session=${token}; ${uat}` } }),
      new Request('http://localhost/x', { headers: { authorization: `Bearer ${token}` } }),
    ]
    for (const req of cases) {
      const state = await auth(req)
      const a = assertSignedIn(state)
      assert.equal(state.token, token, JSON.stringify(req.headers))
      assert.equal(await a.getToken(), token)
      assert.equal(a.userId, 'user_spelling')
    }
    // ... and these went through the compact form (a string), not the object fallback.
    const native = new (require('../binding.js').NativeAuthenticator)({ jwtKey })
    for (const [authorization, cookie] of [[`Bearer ${token}`, null], [null, `caf\u00e9=1; __session=${token}; ${uat}`], [null, `x=\ud83d\ude00; __session=${token}; ${uat}`]]) {
      const out = native.authenticateSync(authorization, cookie, 'GET')
      assert.equal(typeof out, 'string', `compact form expected for ${authorization ? 'header' : cookie}`)
    }
  })

  test('the header wins over the cookie (an invalid header token is not rescued by a valid cookie)', async () => {
    const claims = T.sessionClaims({ sub: 'user_cookie' })
    const cookie = `__session=${T.signJwt(key, claims)}; __client_uat=${claims.iat}`
    const state = await auth({ headers: { authorization: `Bearer ${session({ sub: 'user_header' })}`, cookie } })
    assert.equal(assertSignedIn(state).userId, 'user_header')
    const bad = await auth({ headers: { authorization: `Bearer ${T.signJwt(other, T.sessionClaims(), { header: { kid: key.kid } })}`, cookie } })
    assertSignedOut(bad, { reason: 'token-invalid-signature', message: 'JWT signature is invalid. (reason=token-invalid-signature, token-carrier=header)' })
  })

  describe("cookie-path signed-out reasons (Clerk's AuthErrorReason)", () => {
    const iat = T.nowSec() - 10
    const tok = () => T.signJwt(key, T.sessionClaims({ iat }))
    const cases = [
      { name: 'no cookies', request: () => ({ headers: {} }), reason: 'session-token-and-uat-missing' },
      { name: '__client_uat=0 and no __session', request: () => cookies({ __client_uat: 0 }), reason: 'session-token-and-uat-missing' },
      { name: '__client_uat set, no __session', request: () => cookies({ __client_uat: iat }), reason: 'client-uat-but-no-session-token' },
      { name: '__client_uat set, empty __session', request: () => cookies({ __client_uat: iat, __session: '' }), reason: 'client-uat-but-no-session-token' },
      { name: '__session without __client_uat', request: () => cookies({ __session: tok() }), reason: 'session-token-but-no-client-uat' },
      { name: '__session with __client_uat=0', request: () => cookies({ __session: tok(), __client_uat: 0 }), reason: 'session-token-but-no-client-uat' },
      { name: 'session iat before __client_uat', request: () => cookies({ __session: tok(), __client_uat: iat + 1 }), reason: 'session-token-iat-before-client-uat' },
    ]
    for (const c of cases) {
      test(`${c.reason}: ${c.name}`, async () => {
        assertSignedOut(await auth(c.request()), { reason: c.reason, message: '' })
      })
    }
  })

  describe('verification failures: reason, and message "<...> (reason=<r>, token-carrier=header|cookie)"', () => {
    const now = T.nowSec()
    const cases = [
      {
        name: 'expired, GET',
        claims: { exp: now - 3600, iat: now - 7200, nbf: now - 7200 },
        reason: 'session-token-expired-refresh-non-eligible-no-refresh-cookie',
        tail: 'reason=token-expired',
      },
      {
        name: 'expired, POST',
        method: 'POST',
        claims: { exp: now - 3600, iat: now - 7200, nbf: now - 7200 },
        reason: 'session-token-expired-refresh-non-eligible-non-get',
        tail: 'reason=token-expired',
      },
      { name: 'nbf in the future', claims: { nbf: now + 3600, exp: now + 7200 }, reason: 'session-token-nbf', tail: 'reason=token-not-active-yet' },
      { name: 'iat in the future', claims: { iat: now + 3600, exp: now + 7200 }, reason: 'session-token-iat-in-the-future', tail: 'reason=token-iat-in-the-future' },
      { name: 'bad signature', sign: (c) => T.signJwt(other, c, { header: { kid: key.kid } }), reason: 'token-invalid-signature', tail: 'reason=token-invalid-signature' },
      { name: 'azp not authorized', claims: { azp: 'https://evil.example' }, options: { authorizedParties: ['https://app.example'] }, reason: 'token-invalid-authorized-parties', tail: 'reason=token-invalid-authorized-parties' },
      { name: 'alg none', sign: (c) => T.noneJwt({ kid: key.kid }, c), reason: 'token-invalid-algorithm', tail: 'reason=token-invalid-algorithm' },
    ]
    for (const carrier of ['header', 'cookie']) {
      for (const c of cases) {
        test(`${carrier}: ${c.name} -> ${c.reason}`, async () => {
          const claims = T.sessionClaims(c.claims || {})
          const token = c.sign ? c.sign(claims) : T.signJwt(key, claims)
          const headers =
            carrier === 'header' ? { authorization: `Bearer ${token}` } : { cookie: `__session=${token}; __client_uat=${Math.min(claims.iat, now - 7200)}` }
          const state = await auth({ method: c.method || 'GET', headers }, { jwtKey, ...(c.options || {}) })
          assertSignedOut(state, { reason: c.reason })
          assert.ok(state.message.endsWith(`(${c.tail}, token-carrier=${carrier})`), state.message)
          assert.equal(state.headers.get('x-clerk-auth-message'), state.message)
        })
      }
    }

    test('a malformed header token: token-invalid with the full message', async () => {
      assertSignedOut(await auth(bearer('not-a-jwt')), {
        reason: 'token-invalid',
        message: 'Invalid JWT form. A JWT consists of three parts separated by dots. (reason=token-invalid, token-carrier=header)',
      })
    })

    test('no key configured: jwk-failed-to-resolve with its action in the message', async () => {
      assertSignedOut(await auth(bearer(session()), {}), {
        reason: 'jwk-failed-to-resolve',
        message:
          'Failed to resolve JWK during verification. Set jwtKey (CLERK_JWT_KEY) to the PEM public key of your Clerk instance, or secretKey (CLERK_SECRET_KEY) to fetch its JWKS. verifyToken reads only its options, never the environment. (reason=jwk-failed-to-resolve, token-carrier=header)',
      })
    })
  })
})

describe('authenticateRequest: JWT category (cat) on every session path (SPEC §3.5, §3.8; closes Clerk GAP)', () => {
  const template = () => session({}, { header: { cat: CAT_TEMPLATE } })
  const claimsAndCookie = (header) => {
    const claims = T.sessionClaims()
    return { cookie: `__session=${T.signJwt(key, claims, { header })}; __client_uat=${claims.iat}` }
  }

  test("JWT-template category rejected under 'session_token' (header)", async () => {
    assertSignedOut(await auth(bearer(template()), { jwtKey }), { reason: 'token-type-mismatch', message: '' })
  })

  test("JWT-template category rejected under 'any' (header): Clerk lets it through, we do not", async () => {
    assertSignedOut(await auth(bearer(template()), { jwtKey, acceptsToken: 'any' }), { reason: 'token-type-mismatch' })
  })

  test("JWT-template category rejected under ['session_token', 'api_key'] and from the cookie", async () => {
    assertSignedOut(await auth(bearer(template()), { jwtKey, acceptsToken: ['session_token', 'api_key'] }), { reason: 'token-type-mismatch' })
    assertSignedOut(await auth({ headers: claimsAndCookie({ cat: CAT_TEMPLATE }) }, { jwtKey }), { reason: 'token-type-mismatch' })
    assertSignedOut(await auth({ headers: claimsAndCookie({ cat: CAT_TEMPLATE }) }, { jwtKey, acceptsToken: 'any' }), { reason: 'token-type-mismatch' })
  })

  test('M2M category on a session-shaped token: token-type-mismatch (header and cookie)', async () => {
    assertSignedOut(await auth(bearer(session({}, { header: { cat: CAT_M2M } })), { jwtKey }), { reason: 'token-type-mismatch' })
    assertSignedOut(await auth({ headers: claimsAndCookie({ cat: CAT_M2M }) }, { jwtKey }), { reason: 'token-type-mismatch' })
  })

  test('session category, "ignore" category and no cat are accepted (header, cookie, any)', async () => {
    for (const cat of [CAT_SESSION, CAT_IGNORE, undefined]) {
      assertSignedIn(await auth(bearer(session({}, { header: { cat } })), { jwtKey }))
      assertSignedIn(await auth(bearer(session({}, { header: { cat } })), { jwtKey, acceptsToken: 'any' }))
      assertSignedIn(await auth({ headers: claimsAndCookie({ cat }) }, { jwtKey }))
    }
  })

  test('an unknown or non-string cat is rejected', async () => {
    assertSignedOut(await auth(bearer(session({}, { header: { cat: 'cl_Zzzzzzzzzzzz' } })), { jwtKey }), { reason: 'token-type-mismatch' })
    assertSignedOut(await auth(bearer(session({}, { header: { cat: 7 } })), { jwtKey }), { reason: 'token-type-mismatch' })
  })
})

// ---------------------------------------------------------------------------------------------------------

describe('authenticateRequest: machine tokens against a Backend API stand-in (SPEC §3.6)', () => {
  let bapi
  const opts = (extra = {}) => ({ secretKey: SECRET, apiUrl: bapi.url, jwtKey, acceptsToken: 'any', ...extra })
  before(async () => {
    bapi = await T.startBackendApi({ secretKeys: [SECRET, MACHINE_SECRET] })
    closers.push(() => bapi.close())
  })
  const since = (n) => bapi.requests.slice(n)

  test('ak_: POST {apiUrl}/api_keys/verify (no version segment, as 3.25.0) {secret}, Bearer secretKey, Clerk-API-Version; auth object from the resource', async () => {
    const token = T.unique('ak')
    bapi.answer(token, {
      status: 200,
      body: {
        object: 'api_key',
        id: 'ak_id_1',
        type: 'api_key',
        name: 'CI key',
        subject: 'user_42',
        scopes: ['read', 'write'],
        claims: { team: 'x' },
        revoked: false,
        revocation_reason: null,
        expired: false,
        expiration: null,
        created_by: 'user_42',
        created_at: 1700000000000,
        updated_at: 1700000000001,
      },
    })
    const n = bapi.requests.length
    const state = await auth(bearer(token), opts())
    const a = assertSignedIn(state, 'api_key')
    assert.equal(state.token, token)
    const [r, ...more] = since(n)
    assert.equal(more.length, 0)
    assert.equal(r.method, 'POST')
    assert.equal(r.path, '/api_keys/verify')
    assert.deepEqual(r.body, { secret: token })
    assert.equal(r.headers.authorization, `Bearer ${SECRET}`)
    assert.equal(r.headers['clerk-api-version'], '2026-05-12')
    assert.match(r.headers['content-type'], /^application\/json/)
    assert.equal(a.id, 'ak_id_1')
    assert.equal(a.subject, 'user_42')
    assert.equal(a.userId, 'user_42')
    assert.equal(a.orgId, null)
    assert.equal(a.name, 'CI key')
    assert.deepEqual(a.scopes, ['read', 'write'])
    assert.deepEqual(a.claims, { team: 'x' })
    // Clerk's api_key auth object carries id, subject, name, claims, scopes, userId, orgId (not the other fields).
    assert.equal('createdAt' in a, false)
    assert.equal(a.machineId, undefined)
    assert.equal(await a.getToken(), token)
  })

  test('oat_: POST {apiUrl}/oauth_applications/access_tokens/verify {access_token}', async () => {
    const token = T.unique('oat')
    bapi.answer(token, {
      body: { object: 'oauth_access_token', id: 'oat_id_1', client_id: 'client_1', type: 'oauth_access_token', subject: 'user_7', scopes: ['profile', 'email'] },
    })
    const n = bapi.requests.length
    const a = assertSignedIn(await auth(bearer(token), opts({ acceptsToken: 'oauth_token' })), 'oauth_token')
    const [r] = since(n)
    assert.equal(r.path, '/oauth_applications/access_tokens/verify')
    assert.deepEqual(r.body, { access_token: token })
    assert.equal(r.headers.authorization, `Bearer ${SECRET}`)
    assert.equal(a.clientId, 'client_1')
    assert.equal(a.subject, 'user_7')
    assert.equal(a.userId, 'user_7')
    assert.deepEqual(a.scopes, ['profile', 'email'])
  })

  test('mt_: POST {apiUrl}/m2m_tokens/verify {token} with machineSecretKey as Bearer (secretKey when absent)', async () => {
    const token = T.unique('mt')
    bapi.answer(token, { body: { object: 'machine_to_machine_token', id: 'mt_id_1', subject: 'mch_1', scopes: ['mch_2'], claims: null, revoked: false, expired: false } })
    const n = bapi.requests.length
    const a = assertSignedIn(await auth(bearer(token), opts({ machineSecretKey: MACHINE_SECRET, acceptsToken: ['m2m_token'] })), 'm2m_token')
    const [r] = since(n)
    assert.equal(r.path, '/m2m_tokens/verify')
    assert.deepEqual(r.body, { token })
    assert.equal(r.headers.authorization, `Bearer ${MACHINE_SECRET}`)
    assert.equal(a.id, 'mt_id_1')
    assert.equal(a.subject, 'mch_1')
    assert.deepEqual(a.scopes, ['mch_2'])

    const m = bapi.requests.length
    assertSignedIn(await auth(bearer(token), opts({ acceptsToken: ['m2m_token'] })), 'm2m_token')
    assert.equal(since(m)[0].headers.authorization, `Bearer ${SECRET}`)
  })

  describe('Backend API errors -> signed-out with the machine code and "(code=..., status=...)"', () => {
    const kinds = [
      { prefix: 'oat', type: 'oauth_token', notFound: 'OAuth token not found' },
      { prefix: 'ak', type: 'api_key', notFound: 'API key not found' },
      { prefix: 'mt', type: 'm2m_token', notFound: 'Machine token not found' },
    ]
    for (const k of kinds) {
      test(`${k.prefix}_ 404 -> token-invalid "${k.notFound} (code=token-invalid, status=404)"`, async () => {
        assertSignedOut(await auth(bearer(T.unique(k.prefix)), opts()), {
          reason: 'token-invalid',
          tokenType: k.type,
          message: `${k.notFound} (code=token-invalid, status=404)`,
        })
      })
      test(`${k.prefix}_ 401 -> secret-key-invalid with the Backend API message`, async () => {
        assertSignedOut(await auth(bearer(T.unique(k.prefix)), opts({ secretKey: 'sk_test_wrong', machineSecretKey: undefined })), {
          reason: 'secret-key-invalid',
          tokenType: k.type,
          message: 'The provided Clerk Secret Key is invalid. (code=secret-key-invalid, status=401)',
        })
      })
      test(`${k.prefix}_ 500 -> unexpected-error "Unexpected error (code=unexpected-error, status=500)"`, async () => {
        const token = T.unique(k.prefix)
        bapi.answer(token, { status: 500, body: { errors: [{ code: 'internal', message: 'boom' }] } })
        assertSignedOut(await auth(bearer(token), opts()), {
          reason: 'unexpected-error',
          tokenType: k.type,
          message: 'Unexpected error (code=unexpected-error, status=500)',
        })
      })
    }

    test('401 without an error message -> "Invalid secret key (code=secret-key-invalid, status=401)"', async () => {
      const token = T.unique('ak')
      bapi.answer(token, { status: 401, body: {} })
      assertSignedOut(await auth(bearer(token), opts()), {
        reason: 'secret-key-invalid',
        tokenType: 'api_key',
        message: 'Invalid secret key (code=secret-key-invalid, status=401)',
      })
    })

    test('other 4xx (422) -> unexpected-error with that status', async () => {
      const token = T.unique('ak')
      bapi.answer(token, { status: 422, body: { errors: [{ code: 'form_param_invalid', message: 'x' }] } })
      assertSignedOut(await auth(bearer(token), opts()), { reason: 'unexpected-error', tokenType: 'api_key', message: 'Unexpected error (code=unexpected-error, status=422)' })
    })

    test('Backend API unreachable -> unexpected-error, status n/a, no crash', async () => {
      const dead = await T.startJwksServer()
      const url = dead.url
      await dead.close()
      assertSignedOut(await auth(bearer(T.unique('ak')), opts({ apiUrl: url })), {
        reason: 'unexpected-error',
        tokenType: 'api_key',
        message: 'Unexpected error (code=unexpected-error, status=n/a)',
      })
    })

    test('no secret key at all -> unexpected-error (never a request without credentials)', async () => {
      const n = bapi.requests.length
      assertSignedOut(await auth(bearer(T.unique('ak')), { apiUrl: bapi.url, acceptsToken: 'any' }), { reason: 'unexpected-error', tokenType: 'api_key' })
      assert.equal(bapi.requests.length, n)
    })
  })

  describe('acceptsToken routing (default, any, arrays)', () => {
    test("default ('session_token'): an opaque ak_/oat_/mt_ header token fails session verification (token-invalid, as Clerk 3.25.0), the Backend API is not called", async () => {
      const n = bapi.requests.length
      assertSignedOut(await auth(bearer(T.unique('ak')), { secretKey: SECRET, apiUrl: bapi.url, jwtKey }), { reason: 'token-invalid', tokenType: 'session_token' })
      assertSignedOut(await auth(bearer(T.unique('oat')), { secretKey: SECRET, apiUrl: bapi.url, jwtKey }), { reason: 'token-invalid' })
      assertSignedOut(await auth(bearer(T.unique('mt')), { secretKey: SECRET, apiUrl: bapi.url, jwtKey }), { reason: 'token-invalid' })
      assert.equal(bapi.requests.length, n)
    })

    test("'any' accepts a session JWT; ['api_key'] rejects it with Clerk's invalid-token state (tokenType null)", async () => {
      assertSignedIn(await auth(bearer(session()), opts()))
      assertSignedOut(await auth(bearer(session()), opts({ acceptsToken: ['api_key'] })), { reason: 'token-type-mismatch', tokenType: null, authTokenType: null })
      assertSignedOut(await auth(bearer(session()), opts({ acceptsToken: 'm2m_token' })), { reason: 'token-type-mismatch', tokenType: 'm2m_token' })
    })

    test("['session_token', 'api_key'] accepts both; a machine type outside the list is token-type-mismatch of its own type", async () => {
      const token = T.unique('ak')
      bapi.answer(token, { body: { id: 'ak_id_2', subject: 'org_9', scopes: [] } })
      const list = opts({ acceptsToken: ['session_token', 'api_key'] })
      assertSignedIn(await auth(bearer(session()), list))
      const a = assertSignedIn(await auth(bearer(token), list), 'api_key')
      assert.equal(a.orgId, 'org_9')
      assert.equal(a.userId, null)
      const n = bapi.requests.length
      assertSignedOut(await auth(bearer(T.unique('oat')), list), { reason: 'token-type-mismatch', tokenType: null, authTokenType: null })
      assertSignedOut(await auth(bearer(T.unique('mt')), opts({ acceptsToken: ['oauth_token'] })), { reason: 'token-type-mismatch', tokenType: null, authTokenType: null })
      assert.equal(bapi.requests.length, n)
    })

    test('an unknown acceptsToken value is refused (rejects, no crash)', async () => {
      const err = await T.rejectionOf(authenticateRequest(bearer(session()), { jwtKey, acceptsToken: 'bogus_token' }))
      assert.match(String(err.message), /acceptsToken/)
    })

    test('machine tokens are read from the header only: a machine token in __session is not verified', async () => {
      const token = T.unique('ak')
      bapi.answer(token, { body: { id: 'ak_id_3', subject: 'user_1' } })
      const n = bapi.requests.length
      const c = { headers: { cookie: `__session=${token}; __client_uat=${T.nowSec()}` } }
      assertSignedOut(await auth(c, opts({ acceptsToken: 'api_key' })), { reason: 'No token in header', tokenType: 'api_key', message: '' })
      const any = await auth(c, opts({ acceptsToken: 'any' }))
      assert.equal(any.status, 'signed-out')
      assert.equal(any.tokenType, 'session_token')
      assert.equal(bapi.requests.length, n, 'the Backend API was never asked about a cookie token')
    })
  })

  describe('machine JWTs are verified locally (no Backend API call)', () => {
    test("an M2M JWT (sub mch_) under 'any' -> signed-in m2m_token; under the default -> token-type-mismatch", async () => {
      const now = T.nowSec()
      const token = T.signJwt(key, { sub: 'mch_1', jti: 'mt_jti_1', scopes: 'mch_2 mch_3', iat: now - 5, exp: now + 60, custom: 'c' }, { header: { cat: CAT_M2M } })
      const n = bapi.requests.length
      const a = assertSignedIn(await auth(bearer(token), opts()), 'm2m_token')
      assert.equal(a.id, 'mt_jti_1')
      assert.equal(a.subject, 'mch_1')
      assert.deepEqual(a.scopes, ['mch_2', 'mch_3'])
      assert.equal(a.machineId, 'mch_1')
      assert.deepEqual(a.claims, { scopes: 'mch_2 mch_3', custom: 'c' })
      assertSignedOut(await auth(bearer(token), { jwtKey }), { reason: 'token-type-mismatch' })
      assert.equal(bapi.requests.length, n)
    })

    test('an M2M JWT with a non-M2M cat -> token-invalid "Invalid M2M JWT category."', async () => {
      const now = T.nowSec()
      const token = T.signJwt(key, { sub: 'mch_1', iat: now, exp: now + 60 }, { header: { cat: CAT_SESSION } })
      assertSignedOut(await auth(bearer(token), opts()), { reason: 'token-invalid', tokenType: 'm2m_token', message: 'Invalid M2M JWT category. (code=token-invalid, status=n/a)' })
    })

    test("an OAuth JWT (typ at+jwt) under 'any' -> oauth_token with scp scopes; bad signature -> token-verification-failed", async () => {
      const now = T.nowSec()
      const claims = { sub: 'user_5', client_id: 'client_9', jti: 'oat_jti', scp: ['read', 'write'], iat: now, exp: now + 60 }
      const a = assertSignedIn(await auth(bearer(T.signJwt(key, claims, { header: { typ: 'at+jwt' } })), opts()), 'oauth_token')
      assert.equal(a.subject, 'user_5')
      assert.equal(a.userId, 'user_5')
      assert.equal(a.clientId, 'client_9')
      assert.deepEqual(a.scopes, ['read', 'write'])
      const forged = T.signJwt(other, claims, { header: { typ: 'application/at+jwt', kid: key.kid } })
      assertSignedOut(await auth(bearer(forged), opts()), {
        reason: 'token-verification-failed',
        tokenType: 'oauth_token',
        message: 'JWT signature is invalid. (code=token-verification-failed, status=n/a)',
      })
    })
  })
})

// ---------------------------------------------------------------------------------------------------------

describe('authenticateRequest: inputs', () => {
  test('a Web Request (header and cookie), and its method (POST expired -> non-get)', async () => {
    assertSignedIn(await auth(new Request('http://localhost/api', { headers: { authorization: `Bearer ${session()}` } })))
    const claims = T.sessionClaims()
    assertSignedIn(await auth(new Request('http://localhost/', { headers: { cookie: `__client_uat=${claims.iat}; __session=${T.signJwt(key, claims)}` } })))
    const now = T.nowSec()
    const expired = session({ exp: now - 600, iat: now - 700, nbf: now - 700 })
    assertSignedOut(await auth(new Request('http://localhost/api', { method: 'POST', headers: { authorization: `Bearer ${expired}` } })), {
      reason: 'session-token-expired-refresh-non-eligible-non-get',
    })
  })

  test('a Node request-like { headers } (cookie as an array too) and { headers: Headers }', async () => {
    assertSignedIn(await auth({ headers: { authorization: `Bearer ${session()}` } }))
    const claims = T.sessionClaims()
    assertSignedIn(await auth({ headers: { cookie: [`__session=${T.signJwt(key, claims)}`, `__client_uat=${claims.iat}`] } }))
    assertSignedIn(await auth({ headers: new Headers({ Authorization: `Bearer ${session()}` }) }))
  })

  test('a plain { headers } record with capitalized names (Authorization, Cookie) is read case-insensitively', async () => {
    assertSignedIn(await auth({ headers: { Authorization: `Bearer ${session()}` } }))
    const claims = T.sessionClaims()
    assertSignedIn(await auth({ headers: { Cookie: `__session=${T.signJwt(key, claims)}; __client_uat=${claims.iat}` } }))
    // the lower-case name wins when both are present
    assertSignedIn(await auth({ headers: { authorization: `Bearer ${session()}`, Authorization: 'Bearer garbage' } }))
  })

  test('a real node:http IncomingMessage', async () => {
    const server = http.createServer(async (req, res) => {
      const state = await authenticateRequest(req, { jwtKey })
      res.end(JSON.stringify({ status: state.status, userId: state.toAuth().userId, reason: state.reason }))
    })
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    closers.push(() => new Promise((r) => server.close(r)))
    const url = `http://127.0.0.1:${server.address().port}/x`
    const signedIn = await T.within(fetch(url, { headers: { authorization: `Bearer ${session({ sub: 'user_node' })}` } }).then((r) => r.json()), 5000, 'fetch')
    assert.deepEqual(signedIn, { status: 'signed-in', userId: 'user_node', reason: null })
    const out = await T.within(fetch(url).then((r) => r.json()), 5000, 'fetch')
    assert.deepEqual(out, { status: 'signed-out', userId: null, reason: 'session-token-and-uat-missing' })
  })

  test('oversized tokens (header, cookie, > 16 KiB) are token-invalid; a kid that is no valid header value does not break headers', async () => {
    const big = session({ pad: 'x'.repeat(20000) })
    for (const [carrier, request] of [
      ['header', bearer(big)],
      ['cookie', cookies({ __session: big, __client_uat: 1 })],
      ['header', bearer('a.'.repeat(500000))],
    ]) {
      assertSignedOut(await auth(request, { jwtKey, acceptsToken: 'any' }), {
        reason: 'token-invalid',
        message: new RegExp(`^Invalid JWT form\\..*\\(reason=token-invalid, token-carrier=${carrier}\\)$`),
      })
    }
    const weird = T.signJwt(key, T.sessionClaims(), { header: { kid: "bad\nkid'\u{1F4A5}" } })
    const jwks = await T.startJwksServer({ keys: [key.jwk] })
    closers.push(() => jwks.close())
    const state = await auth(bearer(weird), { jwksUrl: `${jwks.url}/jwks` })
    assert.equal(state.reason, 'jwk-kid-mismatch')
    assert.equal(state.headers.get('x-clerk-auth-status'), 'signed-out')
    assert.equal(state.headers.get('x-clerk-auth-reason'), 'jwk-kid-mismatch')
  })

  test('a non-object request is a TypeError rejection', async () => {
    for (const bad of [null, undefined, 'GET /']) {
      const err = await T.rejectionOf(authenticateRequest(bad, { jwtKey }))
      assert.ok(err instanceof TypeError)
    }
  })
})

// ---------------------------------------------------------------------------------------------------------

describe('toAuth(): claims v1 and v2, has() (SPEC §3.7)', () => {
  const FIELDS = ['userId', 'sessionId', 'orgId', 'orgRole', 'orgSlug', 'orgPermissions', 'actor', 'sessionStatus', 'factorVerificationAge']
  const pick = (a) => Object.fromEntries(FIELDS.map((f) => [f, a[f]]))
  const signIn = async (claims) => assertSignedIn(await auth(bearer(T.signJwt(key, T.sessionClaims(claims)))))

  const common = { sub: 'user_2', sid: 'sess_2', act: { sub: 'user_admin', iss: 'https://dashboard.clerk.com' }, sts: 'active', fva: [5, 15] }
  const SPEC_PERMS = ['org:impersonation:read', 'org:memberships:read', 'org:memberships:manage']
  const v1 = { ...common, org_id: 'org_1', org_role: 'org:admin', org_slug: 'acme', org_permissions: SPEC_PERMS }
  const v2 = {
    ...common,
    v: 2,
    fea: 'o:impersonation,o:memberships',
    o: { id: 'org_1', slg: 'acme', rol: 'admin', per: 'read,manage', fpm: '1,3' },
  }

  test('v1 and v2 claims of the same identity give equal auth objects', async () => {
    const a1 = await signIn(v1)
    const a2 = await signIn(v2)
    assert.deepEqual(pick(a2), pick(a1))
    assert.deepEqual(pick(a1), {
      userId: 'user_2',
      sessionId: 'sess_2',
      orgId: 'org_1',
      orgRole: 'org:admin',
      orgSlug: 'acme',
      orgPermissions: SPEC_PERMS,
      actor: { sub: 'user_admin', iss: 'https://dashboard.clerk.com' },
      sessionStatus: 'active',
      factorVerificationAge: [5, 15],
    })
  })

  test('personal account (v1 without org_*, v2 without o): equal, org fields empty', async () => {
    const p1 = pick(await signIn({ sub: 'user_3', sid: 'sess_3' }))
    const p2 = pick(await signIn({ sub: 'user_3', sid: 'sess_3', v: 2, fea: 'u:export' }))
    assert.deepEqual(p2, p1)
    for (const f of ['orgId', 'orgRole', 'orgSlug', 'orgPermissions', 'actor', 'sessionStatus', 'factorVerificationAge']) assert.equal(p1[f] ?? null, null, f)
  })

  test('SPEC §3.7 fpm example via has({ permission })', async () => {
    const a = await signIn(v2)
    assert.deepEqual(a.orgPermissions, SPEC_PERMS)
    assert.equal(a.has({ permission: 'org:impersonation:read' }), true)
    assert.equal(a.has({ permission: 'org:memberships:read' }), true)
    assert.equal(a.has({ permission: 'org:memberships:manage' }), true)
    assert.equal(a.has({ permission: 'org:impersonation:manage' }), false)
    assert.equal(a.has({ permission: 'org:billing:read' }), false)
  })

  test('a 54-permission mask (beyond 2^53) via has({ permission })', async () => {
    const per = Array.from({ length: 54 }, (_, i) => `p${i}`)
    const bits = [0, 1, 31, 32, 52, 53]
    const mask = bits.reduce((m, b) => m | (1n << BigInt(b)), 0n)
    const all = (1n << 54n) - 1n
    assert.ok(mask > BigInt(Number.MAX_SAFE_INTEGER), 'the mask is not representable as a JS number')
    const a = await signIn({
      sub: 'user_54',
      v: 2,
      fea: 'o:big,u:userfeat,o:all,o:none',
      o: { id: 'org_54', rol: 'member', per: per.join(','), fpm: `${mask},${all},0` },
    })
    for (let i = 0; i < 54; i++) {
      assert.equal(a.has({ permission: `org:big:p${i}` }), bits.includes(i), `org:big:p${i}`)
      assert.equal(a.has({ permission: `org:all:p${i}` }), true, `org:all:p${i}`)
      assert.equal(a.has({ permission: `org:none:p${i}` }), false, `org:none:p${i}`)
    }
    assert.deepEqual(
      a.orgPermissions,
      [...bits.map((b) => `org:big:p${b}`), ...per.map((p) => `org:all:${p}`)],
    )
    // Number(mask) would round the low bits away: the exact decimal string matters
    assert.notEqual(BigInt(Number(mask)), mask)
  })

  test('has({ role }) with and without the org: prefix; no org -> false', async () => {
    const a = await signIn(v2)
    assert.equal(a.has({ role: 'admin' }), true)
    assert.equal(a.has({ role: 'org:admin' }), true)
    assert.equal(a.has({ role: 'member' }), false)
    assert.equal(a.has({ role: 'org:member' }), false)
    const b = await signIn(v1)
    assert.equal(b.has({ role: 'admin' }), true)
    assert.equal(b.has({ role: 'org:admin' }), true)
    const personal = await signIn({ sub: 'user_p' })
    assert.equal(personal.has({ role: 'admin' }), false)
    assert.equal(personal.has({ role: 'org:admin' }), false)
    assert.equal(personal.has({ permission: 'org:memberships:read' }), false)
  })

  test('has({ feature | plan }) with scopes (o/org/organization, u/user; unknown scope fails closed)', async () => {
    const a = await signIn({ sub: 'user_f', v: 2, fea: 'o:impersonation,u:export,ou:shared', pla: 'u:free_user,o:pro', o: { id: 'org_f', rol: 'admin' } })
    const yes = [
      { feature: 'impersonation' },
      { feature: 'o:impersonation' },
      { feature: 'org:impersonation' },
      { feature: 'organization:impersonation' },
      { feature: 'export' },
      { feature: 'u:export' },
      { feature: 'user:export' },
      { feature: 'org:shared' },
      { feature: 'user:shared' },
      { plan: 'pro' },
      { plan: 'org:pro' },
      { plan: 'free_user' },
      { plan: 'user:free_user' },
    ]
    const no = [
      { feature: 'user:impersonation' },
      { feature: 'org:export' },
      { feature: 'x:impersonation' },
      { feature: 'missing' },
      { plan: 'user:pro' },
      { plan: 'org:free_user' },
      { plan: 'enterprise' },
      { plan: 'team:pro' },
    ]
    for (const p of yes) assert.equal(a.has(p), true, JSON.stringify(p))
    for (const p of no) assert.equal(a.has(p), false, JSON.stringify(p))
    const none = await signIn({ sub: 'user_nf' })
    assert.equal(none.has({ feature: 'export' }), false)
    assert.equal(none.has({ plan: 'pro' }), false)
  })

  test('has({ reverification }) presets and custom levels against fva', async () => {
    const check = async (fva, params) => (await signIn({ sub: 'user_r', ...(fva ? { fva } : {}) })).has(params)
    // fva [5, 15]: first factor 5 min ago, second factor 15 min ago
    assert.equal(await check([5, 15], { reverification: 'strict_mfa' }), false)
    assert.equal(await check([5, 15], { reverification: 'strict' }), false)
    assert.equal(await check([5, 15], { reverification: 'moderate' }), true)
    assert.equal(await check([5, 15], { reverification: 'lax' }), true)
    // fva [5, 5]: everything within 10 min
    assert.equal(await check([5, 5], { reverification: 'strict_mfa' }), true)
    assert.equal(await check([5, 5], { reverification: 'strict' }), true)
    // no second factor configured (-1): second_factor falls back to the first factor
    assert.equal(await check([5, -1], { reverification: 'strict' }), true)
    assert.equal(await check([20, -1], { reverification: 'strict' }), false)
    assert.equal(await check([20, -1], { reverification: 'moderate' }), true)
    assert.equal(await check([2000, 2000], { reverification: 'lax' }), false)
    // custom
    assert.equal(await check([5, 15], { reverification: { level: 'second_factor', afterMinutes: 16 } }), true)
    assert.equal(await check([5, 15], { reverification: { level: 'second_factor', afterMinutes: 15 } }), false)
    assert.equal(await check([5, 15], { reverification: { level: 'first_factor', afterMinutes: 6 } }), true)
    // no fva claim: undetermined -> false
    assert.equal(await check(null, { reverification: 'lax' }), false)
  })

  test('has() combines role and reverification (both must hold when both are determined)', async () => {
    const a = await signIn({ ...v2, fva: [5, 15] })
    assert.equal(a.has({ role: 'admin', reverification: 'moderate' }), true)
    assert.equal(a.has({ role: 'admin', reverification: 'strict' }), false)
    assert.equal(a.has({ role: 'member', reverification: 'moderate' }), false)
  })
})

// ---------------------------------------------------------------------------------------------------------

describe('authenticateRequest: environment fallbacks', () => {
  const withEnv = async (vars, fn) => {
    const saved = {}
    for (const k of Object.keys(vars)) {
      saved[k] = process.env[k]
      process.env[k] = vars[k]
    }
    try {
      return await fn()
    } finally {
      for (const k of Object.keys(vars)) {
        if (saved[k] === undefined) delete process.env[k]
        else process.env[k] = saved[k]
      }
    }
  }

  test('CLERK_JWT_KEY is used when no jwtKey option is given; an option wins over it; restored after', async () => {
    await withEnv({ CLERK_JWT_KEY: jwtKey, CLERK_PUBLISHABLE_KEY: 'pk_test_env' }, async () => {
      const state = await auth(bearer(session({ sub: 'user_env' })), undefined)
      assert.equal(assertSignedIn(state).userId, 'user_env')
      assert.equal(state.publishableKey, 'pk_test_env')
      assertSignedOut(await auth(bearer(session()), { jwtKey: other.publicPem }), { reason: 'token-invalid-signature' })
    })
    assert.equal(process.env.CLERK_JWT_KEY, undefined)
    assertSignedOut(await auth(bearer(session()), undefined), { reason: 'jwk-failed-to-resolve' })
  })

  test('CLERK_SECRET_KEY + CLERK_API_URL: the JWKS is fetched from the env API URL with the env secret', async () => {
    const jwks = await T.startJwksServer({ keys: [key.jwk] })
    closers.push(() => jwks.close())
    const secret = T.unique('sk_env')
    await withEnv({ CLERK_SECRET_KEY: secret, CLERK_API_URL: jwks.url }, async () => {
      assertSignedIn(await auth(bearer(session()), {}))
    })
    assert.equal(jwks.hits, 1)
    assert.equal(jwks.requests[0].path, '/v1/jwks')
    assert.equal(jwks.requests[0].headers.authorization, `Bearer ${secret}`)
    assert.equal(process.env.CLERK_SECRET_KEY, undefined)
  })
})

describe('authenticateRequest: repeated requests keep their outcomes (verified and negative caches)', () => {
  test(
    'an options object changed after its first use is honoured (Clerk reads options per call)',
    async () => {
      const o = { jwtKey }
      assertSignedIn(await auth(bearer(session({ azp: 'https://evil.example' })), o))
      o.authorizedParties = ['https://app.example']
      assertSignedOut(await auth(bearer(session({ azp: 'https://evil.example' })), o), { reason: 'token-invalid-authorized-parties' })
    },
  )

  test('a session cookie accepted once is still judged against __client_uat on the next request', async () => {
    const claims = T.sessionClaims()
    const token = T.signJwt(key, claims)
    assertSignedIn(await auth(cookies({ __session: token, __client_uat: claims.iat })))
    assertSignedIn(await auth(cookies({ __session: token, __client_uat: claims.iat })))
    assertSignedOut(await auth(cookies({ __session: token, __client_uat: claims.iat + 1 })), { reason: 'session-token-iat-before-client-uat' })
    assertSignedOut(await auth(cookies({ __session: token })), { reason: 'session-token-but-no-client-uat' })
  })

  test('a session token accepted once is not accepted by an authenticator with other rules', async () => {
    const token = session({ azp: 'https://app.example' })
    assertSignedIn(await auth(bearer(token), { jwtKey }))
    assertSignedIn(await auth(bearer(token), { jwtKey }))
    assertSignedOut(await auth(bearer(token), { jwtKey, acceptsToken: ['api_key'] }), { reason: 'token-type-mismatch', tokenType: null, authTokenType: null })
    assertSignedOut(await auth(bearer(token), { jwtKey, authorizedParties: ['https://other.example'] }), { reason: 'token-invalid-authorized-parties' })
    assertSignedOut(await auth(bearer(token), { jwtKey: other.publicPem }), { reason: 'token-invalid-signature' })
  })

  test('a JWT-template token accepted by verifyToken is still token-type-mismatch for authenticateRequest', async () => {
    const { verifyToken } = require('..')
    const token = session({}, { header: { cat: CAT_TEMPLATE } })
    assert.equal((await verifyToken(token, { jwtKey })).sub, 'user_1')
    assertSignedOut(await auth(bearer(token), { jwtKey }), { reason: 'token-type-mismatch' })
    assertSignedOut(await auth(bearer(token), { jwtKey, acceptsToken: 'any' }), { reason: 'token-type-mismatch' })
  })

  test('1,000 concurrent requests on a cold JWKS cache: exactly 1 fetch, all signed in', { timeout: 60000 }, async () => {
    const jwks = await T.startJwksServer({ keys: [key.jwk] })
    closers.push(() => jwks.close())
    jwks.setDelay(150)
    const opts = { secretKey: T.unique('sk_flight'), apiUrl: jwks.url }
    const states = await T.within(
      Promise.all(Array.from({ length: 1000 }, (_, i) => authenticateRequest(bearer(session({ sub: `user_${i}` })), opts))),
      30000,
      '1000 requests',
    )
    states.forEach((st, i) => assert.equal(st.toAuth().userId, `user_${i}`))
    assert.equal(jwks.hits, 1)
  })

  test('SPEC §4: an oat_ the Backend API answered 404 is rejected again without asking; ak_/mt_ 404s are asked again', async () => {
    const bapi = await T.startBackendApi({ secretKeys: [SECRET] })
    closers.push(() => bapi.close())
    const opts = { secretKey: SECRET, apiUrl: bapi.url, acceptsToken: 'any' }
    const oat = T.unique('oat')
    const expected = { reason: 'token-invalid', tokenType: 'oauth_token', message: 'OAuth token not found (code=token-invalid, status=404)' }
    assertSignedOut(await auth(bearer(oat), opts), expected)
    assert.equal(bapi.requests.length, 1)
    bapi.answer(oat, { body: { id: 'oat_id', subject: 'user_1', scopes: [] } })
    assertSignedOut(await auth(bearer(oat), opts), expected)
    assert.equal(bapi.requests.length, 1, 'answered from the negative cache')
    // another instance (secret key) is not answered from this instance's entry
    assertSignedOut(await auth(bearer(oat), { ...opts, secretKey: 'sk_test_other_instance' }), { reason: 'secret-key-invalid', tokenType: 'oauth_token' })
    assert.equal(bapi.requests.length, 2)
    for (const prefix of ['ak', 'mt']) {
      const t = T.unique(prefix)
      const n = bapi.requests.length
      assert.equal((await auth(bearer(t), opts)).reason, 'token-invalid')
      assert.equal((await auth(bearer(t), opts)).reason, 'token-invalid')
      assert.equal(bapi.requests.length, n + 2, `${prefix}_ 404s are not cached`)
    }
    // a 401 and a 500 are not cached either
    const flaky = T.unique('oat')
    bapi.answer(flaky, { status: 500, body: {} })
    assert.equal((await auth(bearer(flaky), opts)).reason, 'unexpected-error')
    bapi.answer(flaky, { body: { id: 'oat_ok', subject: 'user_1', scopes: [] } })
    assertSignedIn(await auth(bearer(flaky), opts), 'oauth_token')
  })
})
