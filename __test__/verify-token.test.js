'use strict'
// verifyToken (SPEC §3.1-3.4, API.md §2) against real RSA keys and a real JWKS server on 127.0.0.1.
// Every reason code reachable from JS, Clerk's order of checks, clock-skew boundaries, key sizes, the JWKS
// cache (single-flight, kid cooldown, rotation, outage and recovery) and hostile tokens.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')

const T = require('./helpers/tokens')
const { verifyToken, TokenVerificationError } = require('..')

const MSG_FORM = 'Invalid JWT form. A JWT consists of three parts separated by dots.'
const MSG_DECODE = 'Invalid JWT form. The header, payload, or signature could not be decoded.'
const ENSURE_CLERK_JWT = 'Make sure that this is a valid Clerk-generated JWT.'
const SET_JWT_KEY_OR_SECRET_KEY =
  'Set jwtKey (CLERK_JWT_KEY) to the PEM public key of your Clerk instance, or secretKey (CLERK_SECRET_KEY) to fetch its JWKS. verifyToken reads only its options, never the environment.'
const FIX_JWT_KEY =
  'Set jwtKey (CLERK_JWT_KEY) to the PEM public key from the API keys page of the Clerk Dashboard (it starts with -----BEGIN PUBLIC KEY-----), or leave it unset to fetch the keys with secretKey (CLERK_SECRET_KEY).'
const NOT_AN_RSA_PEM = /^Invalid jwtKey \(CLERK_JWT_KEY\): it is not an RSA public key PEM \(SPKI or PKCS#1\): .+\.$/
const CONTACT_SUPPORT = 'Contact support@clerk.com'
const KID_MISMATCH_ACTION =
  'Go to your Dashboard and validate your secret and public keys are correct. Contact support@clerk.com if the issue persists.'
const kidMismatchMessage = (kid) =>
  `Unable to find a signing key in JWKS that matches the kid='${kid}' of the provided session token. ` +
  'Please make sure that the __session cookie or the HTTP authorization header contain a Clerk-generated session JWT.'
const UTC = '[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT'

const servers = []
after(async () => {
  for (const s of servers.splice(0)) await s.close().catch(() => {})
})
async function jwksServer(opts) {
  const s = await T.startJwksServer(opts)
  servers.push(s)
  return s
}

/**
 * Asserts a TokenVerificationError with `reason` (and `code`), and `message`/`action` when given
 * (`action: null` = no action). `message` may be a RegExp.
 */
async function expectReason(promise, { reason, message, action }, label = reason) {
  const err = await T.rejectionOf(promise, 30000)
  assert.ok(err instanceof TokenVerificationError, `${label}: expected a TokenVerificationError, got ${err && err.stack}`)
  assert.ok(err instanceof Error, `${label}: is an Error`)
  assert.equal(err.name, 'TokenVerificationError')
  assert.equal(err.reason, reason, `${label}: reason (message: ${err.message})`)
  assert.equal(err.code, reason, `${label}: code`)
  if (message instanceof RegExp) assert.match(err.message, message, `${label}: message`)
  else if (message !== undefined) assert.equal(err.message, message, `${label}: message`)
  if (action === null) assert.equal(err.action, undefined, `${label}: no action`)
  else if (action !== undefined) assert.equal(err.action, action, `${label}: action`)
  return err
}

const key = T.rsaKey(2048, 'kid_main')
const other = T.rsaKey(2048, 'kid_other')
const jwtKey = key.publicPem

// ---------------------------------------------------------------------------------------------------------

describe('verifyToken: success and payload', () => {
  test('a valid RS256 session token resolves to its payload (jwtKey)', async () => {
    const claims = T.sessionClaims({ azp: 'https://app.example', custom: { a: [1, 2] } })
    const payload = await verifyToken(T.signJwt(key, claims), { jwtKey })
    assert.deepEqual(payload, claims)
  })

  test('a PKCS#1 PEM (BEGIN RSA PUBLIC KEY) and a PEM with literal \\n escapes are accepted', async () => {
    const token = T.signJwt(key, T.sessionClaims())
    assert.equal((await verifyToken(token, { jwtKey: key.pkcs1Pem })).sub, 'user_1')
    assert.equal((await verifyToken(token, { jwtKey: key.publicPem.replace(/\n/g, '\\n') })).sub, 'user_1')
  })
})

describe('verifyToken: RSA 2048/3072/4096 x RS256/384/512 via jwtKey (SPEC §3.3 GAP: real SPKI parsing)', () => {
  for (const bits of [2048, 3072, 4096]) {
    for (const alg of ['RS256', 'RS384', 'RS512']) {
      test(`RSA-${bits} ${alg}`, async () => {
        const k = T.rsaKey(bits, `kid_${bits}`)
        const claims = T.sessionClaims({ sub: `user_${bits}_${alg}` })
        const payload = await verifyToken(T.signJwt(k, claims, { alg }), { jwtKey: k.publicPem })
        assert.equal(payload.sub, `user_${bits}_${alg}`)
        // the same token with one signature byte flipped fails: the key really checks signatures
        const token = T.signJwt(k, claims, { alg })
        const sig = Buffer.from(token.split('.')[2], 'base64url')
        sig[sig.length - 1] ^= 1
        const bad = token.split('.').slice(0, 2).join('.') + '.' + sig.toString('base64url')
        await expectReason(verifyToken(bad, { jwtKey: k.publicPem }), { reason: 'token-invalid-signature' })
      })
    }
  }

  test('RSA-4096 RS512 via a remote JWKS (jwksUrl)', async () => {
    const k = T.rsaKey(4096, 'kid_4096')
    const jwks = await jwksServer({ keys: [k.jwk] })
    const payload = await verifyToken(T.signJwt(k, T.sessionClaims(), { alg: 'RS512' }), { jwksUrl: `${jwks.url}/jwks?s=${T.unique()}` })
    assert.equal(payload.sub, 'user_1')
  })

  test('an RSA-1024 jwtKey is refused (jwk-failed-to-resolve, naming the option), never accepted', async () => {
    const k = T.rsaKey(1024, 'kid_1024')
    await expectReason(verifyToken(T.signJwt(k, T.sessionClaims()), { jwtKey: k.publicPem }), {
      reason: 'jwk-failed-to-resolve',
      message: 'Invalid jwtKey (CLERK_JWT_KEY): it is not an RSA public key PEM (SPKI or PKCS#1): Unsupported RSA modulus size: 1024 bits (2048 to 8192 bits are supported).',
      action: FIX_JWT_KEY,
    })
  })
})

describe('verifyToken: reason codes (table-driven, jwtKey)', () => {
  const now = T.nowSec()
  const valid = () => T.sessionClaims()
  const h = (header) => T.b64url(header)
  const p = (payload) => T.b64url(payload)
  const goodHeader = { alg: 'RS256', typ: 'JWT', kid: key.kid }

  const cases = [
    // decode (SPEC §3.2 step 1)
    { name: 'one part', token: () => 'abc', reason: 'token-invalid', message: MSG_FORM, action: null },
    { name: 'two parts', token: () => 'abc.def', reason: 'token-invalid', message: MSG_FORM },
    { name: 'four parts', token: () => 'a.b.c.d', reason: 'token-invalid', message: MSG_FORM },
    { name: 'empty string', token: () => '', reason: 'token-invalid', message: MSG_FORM },
    { name: 'header not base64url', token: () => `!!!.${p(valid())}.AAAA`, reason: 'token-invalid', message: MSG_DECODE, action: null },
    { name: 'header not JSON', token: () => `${T.b64url('not json')}.${p(valid())}.AAAA`, reason: 'token-invalid', message: MSG_DECODE },
    { name: 'payload not JSON', token: () => `${h(goodHeader)}.${T.b64url('{"sub":')}.AAAA`, reason: 'token-invalid', message: MSG_DECODE },
    { name: 'signature not base64url', token: () => `${h(goodHeader)}.${p(valid())}.%%%`, reason: 'token-invalid', message: MSG_DECODE },
    // category (step 2)
    {
      name: 'cat = M2M category',
      token: () => T.signJwt(key, valid(), { header: { cat: 'cl_B7d4PD333AAA' } }),
      reason: 'token-invalid',
      message: 'Invalid session token category.',
      action: ENSURE_CLERK_JWT,
    },
    // typ (step 4)
    {
      name: 'typ at+jwt with the default headerType',
      token: () => T.signJwt(key, valid(), { header: { typ: 'at+jwt' } }),
      reason: 'token-invalid',
      message: 'Invalid JWT type "at+jwt". Expected "JWT".',
      action: ENSURE_CLERK_JWT,
    },
    {
      name: 'typ not in a headerType list',
      token: () => T.signJwt(key, valid(), { header: { typ: 'foo' } }),
      options: { headerType: ['JWT', 'at+jwt'] },
      reason: 'token-invalid',
      message: 'Invalid JWT type "foo". Expected "JWT, at+jwt".',
    },
    {
      name: 'typ absent while headerType is given',
      token: () => T.signJwt(key, valid(), { header: { typ: undefined } }),
      options: { headerType: 'JWT' },
      reason: 'token-invalid',
      message: 'Invalid JWT type undefined. Expected "JWT".',
    },
    // alg allow-list
    {
      name: 'alg none (empty signature)',
      token: () => T.noneJwt({ kid: key.kid }, valid()),
      reason: 'token-invalid-algorithm',
      message: 'Invalid JWT algorithm "none". Supported: RS256,RS384,RS512.',
      action: ENSURE_CLERK_JWT,
    },
    {
      name: 'alg HS256 signed with the public key PEM as the HMAC secret',
      token: () => T.hs256Jwt(key.publicPem, { kid: key.kid }, valid()),
      reason: 'token-invalid-algorithm',
      message: 'Invalid JWT algorithm "HS256". Supported: RS256,RS384,RS512.',
    },
    {
      name: 'alg ES256',
      token: () => T.es256Jwt({ kid: key.kid }, valid()),
      reason: 'token-invalid-algorithm',
      message: 'Invalid JWT algorithm "ES256". Supported: RS256,RS384,RS512.',
    },
    {
      name: 'alg PS256 (RSA-PSS is not in the allow-list)',
      token: () => T.signJwt(key, valid(), { alg: 'PS256', signAlg: 'RS256' }),
      reason: 'token-invalid-algorithm',
      message: 'Invalid JWT algorithm "PS256". Supported: RS256,RS384,RS512.',
    },
    {
      name: 'alg absent',
      token: () => T.signJwt(key, valid(), { header: { alg: undefined } }),
      reason: 'token-invalid-algorithm',
      message: 'Invalid JWT algorithm undefined. Supported: RS256,RS384,RS512.',
    },
    // signature (before claims)
    { name: 'signed by another key', token: () => T.signJwt(other, valid(), { header: { kid: key.kid } }), reason: 'token-invalid-signature', message: 'JWT signature is invalid.', action: null },
    {
      name: 'payload tampered after signing',
      token: () => {
        const [hh, , s] = T.signJwt(key, valid()).split('.')
        return `${hh}.${p({ ...valid(), sub: 'user_admin' })}.${s}`
      },
      reason: 'token-invalid-signature',
      message: 'JWT signature is invalid.',
    },
    { name: 'RS384 signature under an RS256 header', token: () => T.signJwt(key, valid(), { alg: 'RS256', signAlg: 'RS384' }), reason: 'token-invalid-signature' },
    { name: 'empty signature with alg RS256', token: () => `${h(goodHeader)}.${p(valid())}.`, reason: 'token-invalid-signature' },
    {
      name: 'signature is checked before claims: expired, no sub and bad azp, wrong key',
      token: () => T.signJwt(other, { exp: now - 3600, azp: 'https://evil.example' }, { header: { kid: key.kid } }),
      options: { authorizedParties: ['https://app.example'] },
      reason: 'token-invalid-signature',
    },
    // sub
    {
      name: 'sub missing',
      token: () => T.signJwt(key, { exp: now + 60 }),
      reason: 'token-verification-failed',
      message: 'Subject claim (sub) is required and must be a string. Received undefined.',
      action: ENSURE_CLERK_JWT,
    },
    {
      name: 'sub not a string',
      token: () => T.signJwt(key, { sub: 123, exp: now + 60 }),
      reason: 'token-verification-failed',
      message: 'Subject claim (sub) is required and must be a string. Received 123.',
    },
    // aud
    {
      name: 'aud string not in audience',
      token: () => T.signJwt(key, { ...valid(), aud: 'x' }),
      options: { audience: 'a' },
      reason: 'token-verification-failed',
      message: 'Invalid JWT audience claim (aud) "x". Is not included in "["a"]".',
      action: ENSURE_CLERK_JWT,
    },
    {
      name: 'aud array without an accepted value',
      token: () => T.signJwt(key, { ...valid(), aud: ['x', 'y'] }),
      options: { audience: ['a', 'b'] },
      reason: 'token-verification-failed',
      message: 'Invalid JWT audience claim array (aud) ["x","y"]. Is not included in "["a","b"]".',
    },
    { name: 'aud array intersecting the audience passes', token: () => T.signJwt(key, { ...valid(), aud: ['x', 'b'] }), options: { audience: ['a', 'b'] }, ok: true },
    { name: 'aud string in an audience array passes', token: () => T.signJwt(key, { ...valid(), aud: 'b' }), options: { audience: ['a', 'b'] }, ok: true },
    { name: 'audience set but no aud claim passes (Clerk: checked only when both are non-empty)', token: () => T.signJwt(key, valid()), options: { audience: 'a' }, ok: true },
    { name: 'aud claim without an audience option passes', token: () => T.signJwt(key, { ...valid(), aud: 'x' }), ok: true },
    // azp
    {
      name: 'azp not in authorizedParties',
      token: () => T.signJwt(key, { ...valid(), azp: 'https://evil.example' }),
      options: { authorizedParties: ['https://app.example', 'https://b.example'] },
      reason: 'token-invalid-authorized-parties',
      message: 'Invalid JWT Authorized party claim (azp) "https://evil.example". Expected "https://app.example,https://b.example".',
      action: null,
    },
    {
      name: 'azp missing while authorizedParties is given (required since the hardening)',
      token: () => T.signJwt(key, valid()),
      options: { authorizedParties: ['https://app.example'] },
      reason: 'token-invalid-authorized-parties',
      message: 'Invalid JWT Authorized party claim (azp) undefined. Expected "https://app.example".',
    },
    { name: 'azp in authorizedParties passes', token: () => T.signJwt(key, { ...valid(), azp: 'https://b.example' }), options: { authorizedParties: ['https://app.example', 'https://b.example'] }, ok: true },
    { name: 'azp not checked with an empty authorizedParties', token: () => T.signJwt(key, { ...valid(), azp: 'https://evil.example' }), options: { authorizedParties: [] }, ok: true },
    // exp / nbf / iat types
    {
      name: 'exp missing',
      token: () => T.signJwt(key, { sub: 'user_1' }),
      reason: 'token-verification-failed',
      message: 'Invalid JWT expiry date claim (exp) undefined. Expected number.',
      action: ENSURE_CLERK_JWT,
    },
    {
      name: 'exp a string',
      token: () => T.signJwt(key, { sub: 'user_1', exp: String(now + 60) }),
      reason: 'token-verification-failed',
      message: `Invalid JWT expiry date claim (exp) "${now + 60}". Expected number.`,
    },
    {
      name: 'nbf not a number',
      token: () => T.signJwt(key, { sub: 'user_1', exp: now + 60, nbf: 'soon' }),
      reason: 'token-verification-failed',
      message: 'Invalid JWT not before date claim (nbf) "soon". Expected number.',
    },
    {
      name: 'iat not a number',
      token: () => T.signJwt(key, { sub: 'user_1', exp: now + 60, iat: null }),
      reason: 'token-verification-failed',
      message: 'Invalid JWT issued at date claim (iat) null. Expected number.',
    },
    { name: 'expired long ago', token: () => T.signJwt(key, { sub: 'user_1', exp: now - 3600 }), reason: 'token-expired', action: null },
    { name: 'nbf far in the future', token: () => T.signJwt(key, { sub: 'user_1', exp: now + 7200, nbf: now + 3600 }), reason: 'token-not-active-yet', action: null },
    { name: 'iat far in the future', token: () => T.signJwt(key, { sub: 'user_1', exp: now + 7200, iat: now + 3600 }), reason: 'token-iat-in-the-future', action: null },
    // claim order: sub, aud, azp, exp, nbf, iat
    {
      name: 'order: sub before aud',
      token: () => T.signJwt(key, { aud: 'x', exp: now - 3600 }),
      options: { audience: 'a' },
      reason: 'token-verification-failed',
      message: /^Subject claim/,
    },
    {
      name: 'order: aud before azp and exp',
      token: () => T.signJwt(key, { sub: 'u', aud: 'x', azp: 'https://evil.example', exp: now - 3600 }),
      options: { audience: 'a', authorizedParties: ['https://app.example'] },
      reason: 'token-verification-failed',
      message: /audience/,
    },
    {
      name: 'order: azp before exp',
      token: () => T.signJwt(key, { sub: 'u', azp: 'https://evil.example', exp: now - 3600 }),
      options: { authorizedParties: ['https://app.example'] },
      reason: 'token-invalid-authorized-parties',
    },
    {
      name: 'order: exp before nbf and iat',
      token: () => T.signJwt(key, { sub: 'u', exp: now - 3600, nbf: now + 3600, iat: now + 3600 }),
      reason: 'token-expired',
    },
    {
      name: 'order: nbf before iat',
      token: () => T.signJwt(key, { sub: 'u', exp: now + 7200, nbf: now + 3600, iat: now + 3600 }),
      reason: 'token-not-active-yet',
    },
    // typ before alg before signature
    {
      name: 'order: typ before alg',
      token: () => T.noneJwt({ typ: 'nope' }, valid()),
      reason: 'token-invalid',
      message: 'Invalid JWT type "nope". Expected "JWT".',
    },
    {
      name: 'order: M2M category before typ and alg',
      token: () => T.noneJwt({ typ: 'nope', cat: 'cl_B7d4PD333AAA' }, valid()),
      reason: 'token-invalid',
      message: 'Invalid session token category.',
    },
    // key problems: a jwtKey that is not a usable RSA public key is refused when the options are resolved, with
    // an error naming the option (Clerk fails at the signature step with token-verification-failed, blaming the
    // token); no key at all keeps Clerk's reason and message, with an action naming the options
    {
      name: 'jwtKey of whitespace only',
      token: () => T.signJwt(key, valid()),
      options: { jwtKey: '   \n ' },
      reason: 'jwk-failed-to-resolve',
      message: 'Invalid jwtKey (CLERK_JWT_KEY): it is blank.',
      action: FIX_JWT_KEY,
    },
    {
      name: 'jwtKey that is not a PEM',
      token: () => T.signJwt(key, valid()),
      options: { jwtKey: 'definitely not a key' },
      reason: 'jwk-failed-to-resolve',
      message: 'Invalid jwtKey (CLERK_JWT_KEY): it is not an RSA public key PEM (SPKI or PKCS#1): Invalid PEM public key: bad base64 body.',
      action: FIX_JWT_KEY,
    },
    {
      name: 'jwtKey that is an EC public key',
      token: () => T.signJwt(key, valid()),
      options: () => ({
        jwtKey: require('node:crypto').generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).publicKey,
      }),
      reason: 'jwk-failed-to-resolve',
      message: NOT_AN_RSA_PEM,
      action: FIX_JWT_KEY,
    },
    {
      name: 'jwtKey that is a private key PEM',
      token: () => T.signJwt(key, valid()),
      options: () => ({ jwtKey: key.privateKey.export({ type: 'pkcs8', format: 'pem' }) }),
      reason: 'jwk-failed-to-resolve',
      message: NOT_AN_RSA_PEM,
      action: FIX_JWT_KEY,
    },
    {
      name: 'no key at all: jwk-failed-to-resolve',
      token: () => T.signJwt(key, valid()),
      options: { jwtKey: undefined },
      reason: 'jwk-failed-to-resolve',
      message: 'Failed to resolve JWK during verification.',
      action: SET_JWT_KEY_OR_SECRET_KEY,
    },
  ]

  for (const c of cases) {
    test(c.ok ? `passes: ${c.name}` : `${c.reason}: ${c.name}`, async () => {
      const extra = typeof c.options === 'function' ? c.options() : c.options || {}
      const options = { jwtKey, ...extra }
      const promise = verifyToken(c.token(), options)
      if (c.ok) {
        const payload = await T.within(promise, 10000, c.name)
        assert.equal(typeof payload.sub, 'string')
        return
      }
      await expectReason(promise, c, c.name)
    })
  }

  test('non-string tokens (number, undefined, null, object, array) reject with token-invalid, never throw synchronously', async () => {
    for (const bad of [123, undefined, null, {}, ['a', 'b', 'c'], true]) {
      let p
      assert.doesNotThrow(() => {
        p = verifyToken(bad, { jwtKey })
      })
      await expectReason(p, { reason: 'token-invalid', message: MSG_FORM }, `token ${JSON.stringify(bad)}`)
    }
  })

  test('missing or non-object options reject with a TypeError (not a crash)', async () => {
    const token = T.signJwt(key, valid())
    for (const bad of [undefined, null, 'pem']) {
      const err = await T.rejectionOf(verifyToken(token, bad))
      assert.ok(err instanceof TypeError, `options ${JSON.stringify(bad)}: ${err}`)
    }
    const err = await T.rejectionOf(verifyToken(token, { jwtKey, audience: 42 }))
    assert.ok(err instanceof TypeError)
  })

  test('token-expired message carries the expiry date (Clerk format)', async () => {
    const exp = now - 3600
    await expectReason(verifyToken(T.signJwt(key, { sub: 'u', exp }), { jwtKey }), {
      reason: 'token-expired',
      message: new RegExp(`^JWT is expired\\. Expiry date: ${new Date(exp * 1000).toUTCString()}, Current date: ${UTC}\\.$`),
    })
  })

  test('token-not-active-yet and token-iat-in-the-future messages (Clerk format)', async () => {
    const nbf = now + 3600
    await expectReason(verifyToken(T.signJwt(key, { sub: 'u', exp: now + 7200, nbf }), { jwtKey }), {
      reason: 'token-not-active-yet',
      message: new RegExp(
        `^JWT cannot be used prior to not before date claim \\(nbf\\)\\. Not before date: ${new Date(nbf * 1000).toUTCString()}; Current date: ${UTC};$`,
      ),
    })
    await expectReason(verifyToken(T.signJwt(key, { sub: 'u', exp: now + 7200, iat: nbf }), { jwtKey }), {
      reason: 'token-iat-in-the-future',
      message: new RegExp(
        `^JWT issued at date claim \\(iat\\) is in the future\\. Issued at date: ${new Date(nbf * 1000).toUTCString()}; Current date: ${UTC};$`,
      ),
    })
  })

  test('getFullMessage(): "<message> <action> (reason=..., token-carrier=undefined)"', async () => {
    const err = await expectReason(verifyToken(T.signJwt(key, valid(), { header: { cat: 'cl_B7d4PD333AAA' } }), { jwtKey }), { reason: 'token-invalid' })
    assert.equal(
      err.getFullMessage(),
      'Invalid session token category. Make sure that this is a valid Clerk-generated JWT. (reason=token-invalid, token-carrier=undefined)',
    )
    const sig = await expectReason(verifyToken(T.signJwt(other, valid(), { header: { kid: key.kid } }), { jwtKey }), { reason: 'token-invalid-signature' })
    assert.equal(sig.getFullMessage(), 'JWT signature is invalid. (reason=token-invalid-signature, token-carrier=undefined)')
  })
})

describe('verifyToken: exp/nbf/iat exactly at the clockSkewInMs boundary (seconds truncated)', () => {
  // All tokens are built and verified inside one wall-clock second (aligned to its start), so `s` is the
  // current second for the verifier too: exp*1000 <= now - skew is expired; nbf/iat*1000 > now + skew fail.
  const cases = [
    { name: 'skew 0: exp = now (this second) is expired', skew: 0, claims: (s) => ({ exp: s }), reason: 'token-expired' },
    { name: 'skew 0: exp = now + 1 s is valid', skew: 0, claims: (s) => ({ exp: s + 1 }), ok: true },
    { name: 'skew 5000: exp = now - 5 s is expired', skew: 5000, claims: (s) => ({ exp: s - 5 }), reason: 'token-expired' },
    { name: 'skew 5000: exp = now - 4 s is valid', skew: 5000, claims: (s) => ({ exp: s - 4 }), ok: true },
    { name: 'default skew (5000): exp = now - 5 s is expired', skew: undefined, claims: (s) => ({ exp: s - 5 }), reason: 'token-expired' },
    { name: 'default skew (5000): exp = now - 4 s is valid', skew: undefined, claims: (s) => ({ exp: s - 4 }), ok: true },
    { name: 'skew NaN means 5000: exp = now - 4 s is valid', skew: NaN, claims: (s) => ({ exp: s - 4 }), ok: true },
    { name: 'skew Infinity means 5000: exp = now - 5 s is expired', skew: Infinity, claims: (s) => ({ exp: s - 5 }), reason: 'token-expired' },
    { name: "skew '10000' (a string) means 5000: exp = now - 5 s is expired", skew: '10000', claims: (s) => ({ exp: s - 5 }), reason: 'token-expired' },
    { name: 'negative skew -2000: exp = now + 2 s is expired', skew: -2000, claims: (s) => ({ exp: s + 2 }), reason: 'token-expired' },
    { name: 'negative skew -2000: exp = now + 3 s is valid', skew: -2000, claims: (s) => ({ exp: s + 3 }), ok: true },
    { name: 'skew 0: nbf = now is valid', skew: 0, claims: (s) => ({ nbf: s }), ok: true },
    { name: 'skew 0: nbf = now + 1 s is not active yet', skew: 0, claims: (s) => ({ nbf: s + 1 }), reason: 'token-not-active-yet' },
    { name: 'skew 5000: nbf = now + 5 s is valid', skew: 5000, claims: (s) => ({ nbf: s + 5 }), ok: true },
    { name: 'skew 5000: nbf = now + 6 s is not active yet', skew: 5000, claims: (s) => ({ nbf: s + 6 }), reason: 'token-not-active-yet' },
    { name: 'skew 0: iat = now is valid', skew: 0, claims: (s) => ({ iat: s }), ok: true },
    { name: 'skew 0: iat = now + 1 s is in the future', skew: 0, claims: (s) => ({ iat: s + 1 }), reason: 'token-iat-in-the-future' },
    { name: 'skew 5000: iat = now + 5 s is valid', skew: 5000, claims: (s) => ({ iat: s + 5 }), ok: true },
    { name: 'skew 5000: iat = now + 6 s is in the future', skew: 5000, claims: (s) => ({ iat: s + 6 }), reason: 'token-iat-in-the-future' },
    // truncation to whole seconds (JS setUTCSeconds)
    { name: 'skew 0: exp = now + 0.9 s truncates to now: expired', skew: 0, claims: (s) => ({ exp: s + 0.9 }), reason: 'token-expired' },
    { name: 'skew 0: nbf = now + 0.5 s truncates to now: valid', skew: 0, claims: (s) => ({ nbf: s + 0.5 }), ok: true },
    { name: 'skew 0: iat = now + 1.9 s truncates to now + 1: in the future', skew: 0, claims: (s) => ({ iat: s + 1.9 }), reason: 'token-iat-in-the-future' },
  ]

  let results
  before(async () => {
    for (let attempt = 0; attempt < 4; attempt++) {
      await T.alignToSecondStart(250)
      const s = T.nowSec()
      const tokens = cases.map((c) => T.signJwt(key, { sub: 'user_edge', exp: s + 60, ...c.claims(s) }))
      const out = []
      for (let i = 0; i < cases.length; i++) {
        const options = { jwtKey }
        if (cases[i].skew !== undefined) options.clockSkewInMs = cases[i].skew
        out.push(await verifyToken(tokens[i], options).then((payload) => ({ payload }), (err) => ({ err })))
      }
      if (T.nowSec() === s) {
        results = out
        return
      }
    }
    throw new Error('could not run the boundary table within one wall-clock second')
  })

  cases.forEach((c, i) => {
    test(c.name, () => {
      const r = results[i]
      if (c.ok) assert.ok(r.payload, `expected valid, got ${r.err && r.err.reason}: ${r.err && r.err.message}`)
      else {
        assert.ok(r.err instanceof TokenVerificationError, `expected ${c.reason}, got ${JSON.stringify(r.payload)}`)
        assert.equal(r.err.reason, c.reason, r.err.message)
        assert.equal(r.err.action, undefined)
      }
    })
  })
})

// ---------------------------------------------------------------------------------------------------------

describe('verifyToken: remote keys (secretKey + apiUrl, jwksUrl)', () => {
  let jwks
  before(async () => {
    jwks = await jwksServer({ keys: [key.jwk, other.jwk] })
  })

  test('secretKey: GET {apiUrl}/v1/jwks with Authorization Bearer and Clerk-API-Version; cached afterwards', async () => {
    const secretKey = T.unique('sk_test')
    const start = jwks.hits
    const token = T.signJwt(key, T.sessionClaims())
    assert.equal((await verifyToken(token, { secretKey, apiUrl: jwks.url })).sub, 'user_1')
    assert.equal(jwks.hits, start + 1)
    const r = jwks.requests.at(-1)
    assert.equal(r.method, 'GET')
    assert.equal(r.url, '/v1/jwks')
    assert.equal(r.headers.authorization, `Bearer ${secretKey}`)
    assert.equal(r.headers['clerk-api-version'], '2026-05-12')
    assert.equal(r.headers['content-type'], 'application/json')
    assert.ok(r.headers['user-agent'], 'a User-Agent is sent')
    // other tokens, the second key of the same JWKS: no new fetch
    for (let i = 0; i < 20; i++) await verifyToken(T.signJwt(key, T.sessionClaims()), { secretKey, apiUrl: jwks.url })
    await verifyToken(T.signJwt(other, T.sessionClaims()), { secretKey, apiUrl: jwks.url })
    assert.equal(jwks.hits, start + 1)
  })

  test('apiVersion and an apiUrl path prefix shape the JWKS path ({apiUrl path}/{apiVersion}/jwks)', async () => {
    const token = T.signJwt(key, T.sessionClaims())
    await verifyToken(token, { secretKey: T.unique('sk'), apiUrl: jwks.url, apiVersion: 'v2' })
    assert.equal(jwks.requests.at(-1).path, '/v2/jwks')
    await verifyToken(token, { secretKey: T.unique('sk'), apiUrl: `${jwks.url}/base/` })
    assert.equal(jwks.requests.at(-1).path, '/base/v1/jwks')
  })

  test('the cache is scoped by secret key: another secret key fetches again', async () => {
    const token = T.signJwt(key, T.sessionClaims())
    const start = jwks.hits
    await verifyToken(token, { secretKey: T.unique('sk_a'), apiUrl: jwks.url })
    await verifyToken(token, { secretKey: T.unique('sk_b'), apiUrl: jwks.url })
    assert.equal(jwks.hits, start + 2)
  })

  test('jwksUrl: fetched as given, without credentials, and preferred over secretKey', async () => {
    const path = `/.well-known/jwks.json?s=${T.unique()}`
    const start = jwks.hits
    const token = T.signJwt(key, T.sessionClaims())
    await verifyToken(token, { jwksUrl: jwks.url + path, secretKey: T.unique('sk') })
    assert.equal(jwks.hits, start + 1)
    const r = jwks.requests.at(-1)
    assert.equal(r.url, path)
    assert.equal(r.headers.authorization, undefined)
  })

  test('jwtKey takes precedence: no fetch, and no fallback to remote keys when jwtKey does not match', async () => {
    const start = jwks.hits
    const secretKey = T.unique('sk')
    assert.equal((await verifyToken(T.signJwt(key, T.sessionClaims()), { jwtKey, secretKey, apiUrl: jwks.url })).sub, 'user_1')
    await expectReason(verifyToken(T.signJwt(other, T.sessionClaims()), { jwtKey, secretKey, apiUrl: jwks.url }), {
      reason: 'token-invalid-signature',
    })
    assert.equal(jwks.hits, start)
  })

  test('the M2M category is refused before any key lookup (no JWKS fetch)', async () => {
    const start = jwks.hits
    await expectReason(verifyToken(T.signJwt(key, T.sessionClaims(), { header: { cat: 'cl_B7d4PD333AAA' } }), { secretKey: T.unique('sk'), apiUrl: jwks.url }), {
      reason: 'token-invalid',
      message: 'Invalid session token category.',
    })
    assert.equal(jwks.hits, start)
  })

  test('jwk-kid-mismatch: a kid absent from the JWKS (exact message and action)', async () => {
    const token = T.signJwt(key, T.sessionClaims(), { header: { kid: 'ins_unknown' } })
    await expectReason(verifyToken(token, { secretKey: T.unique('sk'), apiUrl: jwks.url }), {
      reason: 'jwk-kid-mismatch',
      message: kidMismatchMessage('ins_unknown'),
      action: KID_MISMATCH_ACTION,
    })
  })

  test("a JWK whose alg differs from the token's (RS256 JWK, RS384 token) is token-verification-failed", async () => {
    const k = T.rsaKey(2048, 'kid_alg_pinned')
    const s = await jwksServer({ keys: [{ ...k.jwk, alg: 'RS256' }] })
    const opts = { jwksUrl: `${s.url}/jwks` }
    assert.equal((await verifyToken(T.signJwt(k, T.sessionClaims(), { alg: 'RS256' }), opts)).sub, 'user_1')
    await expectReason(verifyToken(T.signJwt(k, T.sessionClaims(), { alg: 'RS384' }), opts), {
      reason: 'token-verification-failed',
      message: /^Error verifying JWT signature\. /,
    })
  })

  test('skipJwksCache: every verification fetches', async () => {
    const secretKey = T.unique('sk')
    const token = T.signJwt(key, T.sessionClaims())
    const start = jwks.hits
    // the same token three times: skipJwksCache also bypasses the verified-token cache
    for (let i = 0; i < 3; i++) await verifyToken(token, { secretKey, apiUrl: jwks.url, skipJwksCache: true })
    assert.equal(jwks.hits, start + 3)
    // the result was still written to the cache
    await verifyToken(T.signJwt(key, T.sessionClaims()), { secretKey, apiUrl: jwks.url })
    assert.equal(jwks.hits, start + 3)
  })

  test('jwksCacheTtlMs: keys are refetched once the TTL has run out (not before)', async () => {
    // distinct tokens each time: a repeat of one token may be answered by the verified-token cache
    const opts = { secretKey: T.unique('sk'), apiUrl: jwks.url, jwksCacheTtlMs: 300 }
    const token = () => T.signJwt(key, T.sessionClaims())
    const start = jwks.hits
    await verifyToken(token(), opts)
    await verifyToken(token(), opts)
    assert.equal(jwks.hits, start + 1)
    await T.sleep(400)
    await verifyToken(token(), opts)
    assert.equal(jwks.hits, start + 2)
  })
})

describe('verifyToken: JWKS failures (never cached, never a crash) and recovery', () => {
  test('500: jwk-remote-failed-to-load "Error loading Clerk JWKS from <url> with code=500", retried (bounded), not cached', async () => {
    const jwks = await jwksServer({ keys: [key.jwk] })
    jwks.setStatus(500, { errors: [{ code: 'internal', message: 'boom' }] })
    const opts = { secretKey: T.unique('sk'), apiUrl: jwks.url }
    const token = T.signJwt(key, T.sessionClaims())
    await expectReason(verifyToken(token, opts), {
      reason: 'jwk-remote-failed-to-load',
      message: `Error loading Clerk JWKS from ${jwks.url}/v1/jwks with code=500`,
      action: CONTACT_SUPPORT,
    })
    const first = jwks.hits
    assert.ok(first >= 2 && first <= 5, `a 500 is retried a bounded number of times (got ${first} attempts)`)
    // not cached: the next call fetches again, and succeeds once the server is fixed
    await expectReason(verifyToken(token, opts), { reason: 'jwk-remote-failed-to-load' })
    assert.ok(jwks.hits > first, 'the failure was not cached')
    jwks.reset()
    const before = jwks.hits
    assert.equal((await verifyToken(token, opts)).sub, 'user_1')
    assert.equal(jwks.hits, before + 1)
  })

  test('garbage (non-JSON) body: jwk-remote-failed-to-load, then recovery', async () => {
    const jwks = await jwksServer({ keys: [key.jwk] })
    jwks.setGarbage()
    const opts = { jwksUrl: `${jwks.url}/jwks?s=${T.unique()}` }
    const token = T.signJwt(key, T.sessionClaims())
    await expectReason(verifyToken(token, opts), {
      reason: 'jwk-remote-failed-to-load',
      message: new RegExp(`^Error loading Clerk JWKS from ${jwks.url.replace(/\./g, '\\.')}/jwks`),
      action: CONTACT_SUPPORT,
    })
    jwks.reset()
    assert.equal((await verifyToken(token, opts)).sub, 'user_1')
  })

  test('empty keys: "The JWKS endpoint did not contain any signing keys. Contact support@clerk.com." (not retried)', async () => {
    const jwks = await jwksServer({ keys: [] })
    const token = T.signJwt(key, T.sessionClaims())
    await expectReason(verifyToken(token, { secretKey: T.unique('sk'), apiUrl: jwks.url }), {
      reason: 'jwk-remote-failed-to-load',
      message: 'The JWKS endpoint did not contain any signing keys. Contact support@clerk.com.',
      action: CONTACT_SUPPORT,
    })
    assert.equal(jwks.hits, 1)
  })

  test('401 clerk_key_invalid: secret-key-invalid with the Backend API message', async () => {
    const jwks = await jwksServer({ keys: [key.jwk] })
    jwks.setStatus(401, { errors: [{ code: 'clerk_key_invalid', message: 'The provided Clerk Secret Key is invalid.' }] })
    await expectReason(verifyToken(T.signJwt(key, T.sessionClaims()), { secretKey: T.unique('sk'), apiUrl: jwks.url }), {
      reason: 'secret-key-invalid',
      message: 'The provided Clerk Secret Key is invalid.',
      action: CONTACT_SUPPORT,
    })
  })

  test('401 without clerk_key_invalid: jwk-remote-failed-to-load with code=401', async () => {
    const jwks = await jwksServer({ keys: [key.jwk] })
    jwks.setStatus(401, { errors: [{ code: 'authentication_invalid', message: 'nope' }] })
    await expectReason(verifyToken(T.signJwt(key, T.sessionClaims()), { secretKey: T.unique('sk'), apiUrl: jwks.url }), {
      reason: 'jwk-remote-failed-to-load',
      message: `Error loading Clerk JWKS from ${jwks.url}/v1/jwks with code=401`,
    })
  })

  test('outage then recovery without restart: down -> jwk-remote-failed-to-load, back up -> verifies', async () => {
    const jwks = await jwksServer({ keys: [key.jwk] })
    const opts = { secretKey: T.unique('sk'), apiUrl: jwks.url }
    const token = T.signJwt(key, T.sessionClaims())
    await jwks.down()
    await expectReason(verifyToken(token, opts), {
      reason: 'jwk-remote-failed-to-load',
      message: new RegExp(`^Error loading Clerk JWKS from ${jwks.url.replace(/\./g, '\\.')}/v1/jwks`),
      action: CONTACT_SUPPORT,
    })
    await jwks.up()
    assert.equal((await verifyToken(token, opts)).sub, 'user_1')
    assert.equal(jwks.hits, 1)
  })

  test('a delay below the fetch timeout still verifies', async () => {
    const jwks = await jwksServer({ keys: [key.jwk] })
    jwks.setDelay(400)
    const t0 = Date.now()
    assert.equal((await verifyToken(T.signJwt(key, T.sessionClaims()), { jwksUrl: `${jwks.url}/jwks` })).sub, 'user_1')
    assert.ok(Date.now() - t0 >= 350)
  })

  test('a JWKS slower than the fetch timeout: jwk-remote-failed-to-load (bounded), then recovery', { timeout: 60000 }, async () => {
    const jwks = await jwksServer({ keys: [key.jwk] })
    jwks.setHang(true)
    const opts = { jwksUrl: `${jwks.url}/jwks?s=${T.unique()}` }
    const token = T.signJwt(key, T.sessionClaims())
    const t0 = Date.now()
    await expectReason(verifyToken(token, opts), { reason: 'jwk-remote-failed-to-load', message: /timed out/ })
    const took = Date.now() - t0
    assert.ok(took < 30000, `bounded (took ${took} ms)`)
    jwks.setHang(false)
    assert.equal((await verifyToken(token, opts)).sub, 'user_1')
  })

  test('stale-if-error: after the TTL, a failed refresh keeps serving known kids; unknown kids fail', async () => {
    const jwks = await jwksServer({ keys: [key.jwk] })
    const opts = { jwksUrl: `${jwks.url}/jwks?s=${T.unique()}`, jwksCacheTtlMs: 200 }
    await verifyToken(T.signJwt(key, T.sessionClaims()), opts)
    jwks.setStatus(503)
    await T.sleep(300)
    assert.equal((await verifyToken(T.signJwt(key, T.sessionClaims()), opts)).sub, 'user_1')
    assert.ok(jwks.hits > 1, 'a refresh was attempted')
    await expectReason(verifyToken(T.signJwt(other, T.sessionClaims()), opts), { reason: 'jwk-remote-failed-to-load' })
    // recovery: the JWKS is back (now with a second key): the new kid verifies after one fetch
    jwks.setKeys([key.jwk, other.jwk])
    assert.equal((await verifyToken(T.signJwt(other, T.sessionClaims()), opts)).sub, 'user_1', 'new kid after recovery')
  })
})

describe('verifyToken: single-flight, kid flood, rotation', () => {
  test('1,000 concurrent verifications on a cold cache cause exactly 1 JWKS fetch', { timeout: 60000 }, async () => {
    const jwks = await jwksServer({ keys: [key.jwk] })
    jwks.setDelay(200)
    const opts = { secretKey: T.unique('sk_flight'), apiUrl: jwks.url }
    const tokens = Array.from({ length: 10 }, (_, i) => T.signJwt(key, T.sessionClaims({ sub: `user_${i}` })))
    const results = await T.within(
      Promise.all(Array.from({ length: 1000 }, (_, i) => verifyToken(tokens[i % 10], opts))),
      30000,
      '1000 verifications',
    )
    assert.equal(results.length, 1000)
    results.forEach((p, i) => assert.equal(p.sub, `user_${i % 10}`))
    assert.equal(jwks.hits, 1)
  })

  test('1,000 concurrent verifications on a cold cache against a failing JWKS share one (retried) fetch', { timeout: 60000 }, async () => {
    const jwks = await jwksServer({ keys: [key.jwk] })
    jwks.setStatus(500)
    const opts = { secretKey: T.unique('sk_flight_fail'), apiUrl: jwks.url }
    const token = T.signJwt(key, T.sessionClaims())
    const settled = await T.within(Promise.allSettled(Array.from({ length: 1000 }, () => verifyToken(token, opts))), 30000, '1000 failing')
    assert.ok(settled.every((s) => s.status === 'rejected' && s.reason.reason === 'jwk-remote-failed-to-load'))
    assert.ok(jwks.hits >= 1 && jwks.hits <= 5, `one fetch (with its retries), got ${jwks.hits} hits`)
  })

  test('kid flood: 200 tokens with random kids cause at most 1 refetch per jwksCooldownMs', { timeout: 30000 }, async () => {
    const jwks = await jwksServer({ keys: [key.jwk] })
    const opts = { secretKey: T.unique('sk_flood'), apiUrl: jwks.url, jwksCooldownMs: 1500 }
    await verifyToken(T.signJwt(key, T.sessionClaims()), opts)
    assert.equal(jwks.hits, 1)
    const flood = () => Array.from({ length: 200 }, () => T.signJwt(key, T.sessionClaims(), { header: { kid: T.unique('kid') } }))

    // within the cooldown of the first fetch: no refetch at all
    const a = await Promise.allSettled(flood().map((t) => verifyToken(t, opts)))
    assert.ok(a.every((s) => s.status === 'rejected' && s.reason.reason === 'jwk-kid-mismatch'))
    assert.equal(jwks.hits, 1)

    // past the cooldown: 200 concurrent unknown kids share exactly one refetch, then 200 sequential ones none
    await T.sleep(1600)
    const b = await Promise.allSettled(flood().map((t) => verifyToken(t, opts)))
    assert.ok(b.every((s) => s.status === 'rejected' && s.reason.reason === 'jwk-kid-mismatch'))
    assert.equal(jwks.hits, 2)
    for (const t of flood()) await expectReason(verifyToken(t, opts), { reason: 'jwk-kid-mismatch' })
    assert.equal(jwks.hits, 2)
    // the known kid is still served from the cache throughout
    assert.equal((await verifyToken(T.signJwt(key, T.sessionClaims()), opts)).sub, 'user_1')
    assert.equal(jwks.hits, 2)
  })

  test('key rotation: the JWKS switches from kid A to kid B; a kid-B token triggers one refetch and verifies', async () => {
    const A = T.rsaKey(2048, 'kid_rot_a')
    const B = T.rsaKey(2048, 'kid_rot_b')
    const jwks = await jwksServer({ keys: [A.jwk] })
    const opts = { jwksUrl: `${jwks.url}/jwks?s=${T.unique()}`, jwksCooldownMs: 100 }
    assert.equal((await verifyToken(T.signJwt(A, T.sessionClaims({ sub: 'a' })), opts)).sub, 'a')
    assert.equal(jwks.hits, 1)
    jwks.setKeys([B.jwk])
    await T.sleep(150)
    assert.equal((await verifyToken(T.signJwt(B, T.sessionClaims({ sub: 'b' })), opts)).sub, 'b')
    assert.equal(jwks.hits, 2)
    // further kid-B tokens and the old kid A (merged until expiry, as Clerk does) need no fetch
    assert.equal((await verifyToken(T.signJwt(B, T.sessionClaims({ sub: 'b2' })), opts)).sub, 'b2')
    assert.equal((await verifyToken(T.signJwt(A, T.sessionClaims({ sub: 'a2' })), opts)).sub, 'a2')
    assert.equal(jwks.hits, 2)
  })

  test('key rotation within the cooldown of the last fetch: kid-mismatch without a refetch (documented trade-off)', async () => {
    const A = T.rsaKey(2048, 'kid_rot_a')
    const B = T.rsaKey(2048, 'kid_rot_b')
    const jwks = await jwksServer({ keys: [A.jwk] })
    const opts = { jwksUrl: `${jwks.url}/jwks?s=${T.unique()}` } // default cooldown 30 s
    await verifyToken(T.signJwt(A, T.sessionClaims()), opts)
    jwks.setKeys([A.jwk, B.jwk])
    await expectReason(verifyToken(T.signJwt(B, T.sessionClaims()), opts), { reason: 'jwk-kid-mismatch', message: kidMismatchMessage('kid_rot_b') })
    assert.equal(jwks.hits, 1)
  })
})

describe('verifyToken: hostile tokens', () => {
  test('jku / x5u / jwk headers pointing at an attacker server are never fetched nor used', async () => {
    const attacker = T.rsaKey(2048, 'kid_attacker')
    const legit = await jwksServer({ keys: [key.jwk] })
    const evil = await jwksServer({ keys: [attacker.jwk] })
    const hostile = (kid) => ({
      kid,
      jku: `${evil.url}/jku.json`,
      x5u: `${evil.url}/x5u.pem`,
      jwk: attacker.jwk,
      x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'],
    })
    const forged = (kid) => T.signJwt(attacker, T.sessionClaims(), { header: hostile(kid) })
    const remote = { secretKey: T.unique('sk'), apiUrl: legit.url }
    await expectReason(verifyToken(forged(key.kid), remote), { reason: 'token-invalid-signature' })
    await expectReason(verifyToken(forged('kid_attacker'), remote), { reason: 'jwk-kid-mismatch' })
    await expectReason(verifyToken(forged(key.kid), { jwtKey }), { reason: 'token-invalid-signature' })
    await expectReason(verifyToken(forged(key.kid), { jwksUrl: `${legit.url}/jwks?s=${T.unique()}` }), { reason: 'token-invalid-signature' })
    // a genuine token carrying the same headers verifies (they are ignored, not an error)
    const genuine = T.signJwt(key, T.sessionClaims(), { header: hostile(key.kid) })
    assert.equal((await verifyToken(genuine, remote)).sub, 'user_1')
    await T.sleep(100)
    assert.equal(evil.hits, 0, 'the attacker server was never contacted')
  })

  test('an oversized token (> 16 KiB) is token-invalid with no JWKS fetch; a 15 KiB token verifies', async () => {
    const jwks = await jwksServer({ keys: [key.jwk] })
    const opts = { secretKey: T.unique('sk'), apiUrl: jwks.url }
    const big = T.signJwt(key, T.sessionClaims({ pad: 'x'.repeat(20000) }))
    await expectReason(verifyToken(big, opts), { reason: 'token-invalid', message: /^Invalid JWT form\./ })
    await expectReason(verifyToken('a'.repeat(5 * 1024 * 1024), opts), { reason: 'token-invalid' })
    await expectReason(verifyToken(`${'a'.repeat(100000)}.${'b'.repeat(100000)}.c`, opts), { reason: 'token-invalid' })
    assert.equal(jwks.hits, 0)
    const fits = T.signJwt(key, T.sessionClaims({ pad: 'x'.repeat(11000) }))
    assert.ok(fits.length > 14000 && fits.length < 16384, `token length ${fits.length}`)
    assert.equal((await verifyToken(fits, opts)).pad.length, 11000)
  })

  test('binary junk, unicode and huge JSON nesting never crash the process', async () => {
    const deep = '['.repeat(100000) + ']'.repeat(100000)
    const junk = [
      '\u0000.\u0000.\u0000',
      '💥.💥.💥',
      `${T.b64url(deep.slice(0, 8000))}.${T.b64url('{}')}.AA`,
      `${T.b64url('{"alg":"RS256"}')}.${T.b64url('['.repeat(5000))}.AA`,
      `${T.b64url('{"alg":"RS256","kid":{"a":1}}')}.${T.b64url('{"sub":"u","exp":1e309}')}.AA`,
    ]
    for (const j of junk) {
      const err = await T.rejectionOf(verifyToken(j, { jwtKey }))
      assert.ok(err instanceof TokenVerificationError, String(err))
      assert.ok(['token-invalid', 'token-invalid-signature', 'token-invalid-algorithm'].includes(err.reason), err.reason)
    }
  })
})

describe('verifyToken: repeating one token never changes its outcome (verified-token cache)', () => {
  test(
    'an options object changed after its first use is honoured (Clerk reads options per call)',
    async () => {
      const opts = { jwtKey }
      assert.equal((await verifyToken(T.signJwt(key, T.sessionClaims({ azp: 'https://evil.example' })), opts)).azp, 'https://evil.example')
      opts.authorizedParties = ['https://app.example']
      await expectReason(verifyToken(T.signJwt(key, T.sessionClaims({ azp: 'https://evil.example' })), opts), { reason: 'token-invalid-authorized-parties' })
    },
  )

  test('a token accepted under one option set is judged afresh under stricter options or another key', async () => {
    const token = T.signJwt(key, T.sessionClaims({ aud: 'aud_1', azp: 'https://app.example' }))
    assert.equal((await verifyToken(token, { jwtKey })).sub, 'user_1')
    assert.equal((await verifyToken(token, { jwtKey })).sub, 'user_1')
    await expectReason(verifyToken(token, { jwtKey, authorizedParties: ['https://other.example'] }), { reason: 'token-invalid-authorized-parties' })
    await expectReason(verifyToken(token, { jwtKey, audience: 'aud_2' }), { reason: 'token-verification-failed' })
    await expectReason(verifyToken(token, { jwtKey: other.publicPem }), { reason: 'token-invalid-signature' })
    await expectReason(verifyToken(token, { jwtKey, clockSkewInMs: -120000 }), { reason: 'token-expired' })
    await expectReason(verifyToken(token, { jwtKey, headerType: 'at+jwt' }), { reason: 'token-invalid' })
    // and accepted again under the first options
    assert.equal((await verifyToken(token, { jwtKey })).sub, 'user_1')
  })

  test('a token accepted from one JWKS is not accepted for another instance (apiUrl / secret key / jwksUrl)', async () => {
    const good = await jwksServer({ keys: [key.jwk] })
    const revoked = await jwksServer({ keys: [key.jwk] })
    revoked.setStatus(401, { errors: [{ code: 'clerk_key_invalid', message: 'The provided Clerk Secret Key is invalid.' }] })
    const empty = await jwksServer({ keys: [other.jwk] })
    const token = T.signJwt(key, T.sessionClaims())
    const secretKey = T.unique('sk')
    assert.equal((await verifyToken(token, { secretKey, apiUrl: good.url })).sub, 'user_1')
    await expectReason(verifyToken(token, { secretKey, apiUrl: revoked.url }), { reason: 'secret-key-invalid' })
    await expectReason(verifyToken(token, { jwksUrl: `${empty.url}/jwks` }), { reason: 'jwk-kid-mismatch' })
    await expectReason(verifyToken(token, {}), { reason: 'jwk-failed-to-resolve' })
  })

  test('a verified token stops verifying once it expires (never served past exp)', { timeout: 15000 }, async () => {
    const exp = T.nowSec() + 2
    const token = T.signJwt(key, T.sessionClaims({ exp }))
    const opts = { jwtKey, clockSkewInMs: 0 }
    assert.equal((await verifyToken(token, opts)).exp, exp)
    assert.equal((await verifyToken(token, opts)).exp, exp)
    await T.sleep(exp * 1000 - Date.now() + 50)
    await expectReason(verifyToken(token, opts), { reason: 'token-expired' })
  })
})
