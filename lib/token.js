'use strict'
// verifyToken and its error (API.md §2). Verification runs natively; with a known key (jwtKey, or a JWKS
// already cached) it runs synchronously on this thread, so an await costs no thread hop.

const binding = require('../binding.js')
const { instanceMemo, memoByOptions } = require('./memo')

const MAX_VERIFIERS = 64

/** Clerk's TokenVerificationError: `reason` (also `code`) is one of Clerk's reason strings. */
class TokenVerificationError extends Error {
  constructor({ reason, message, action }) {
    super(message)
    this.name = 'TokenVerificationError'
    this.reason = reason
    this.code = reason
    if (action) this.action = action
    this.tokenCarrier = undefined
  }

  /** `"<message> <action> (reason=<reason>, token-carrier=<carrier>)"`, as Clerk formats it. */
  getFullMessage() {
    return `${[this.message, this.action].filter((m) => m).join(' ')} (reason=${this.reason}, token-carrier=${this.tokenCarrier})`
  }
}

function list(v, name) {
  if (v == null) return undefined
  if (typeof v === 'string') return [v]
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v
  throw new TypeError(`clerk-native: option ${name} must be a string or an array of strings`)
}

function str(v, name) {
  if (v == null || v === '') return undefined
  if (typeof v !== 'string') throw new TypeError(`clerk-native: option ${name} must be a string`)
  return v
}

function num(v, name) {
  if (v == null) return undefined
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`clerk-native: option ${name} must be a number`)
  return v
}

const MAX_CHECKED_KEYS = 64
// jwtKey value → null (usable) or the native failure, so a repeated options object costs a Map lookup.
const checkedKeys = new Map()

/**
 * A `jwtKey` that is not a usable RSA public key PEM is refused here, when the options are resolved, rather than
 * failing every request later with a reason that blames the token: throws a TokenVerificationError (an Error
 * whose `code` and `reason` are `jwk-failed-to-resolve`) whose message names the option and whose `action` says
 * how to fix it. The key is never part of the error.
 */
function checkJwtKey(pem) {
  if (pem === undefined) return pem
  let failure = checkedKeys.get(pem)
  if (failure === undefined) {
    failure = binding.validateJwtKey(pem) ?? null
    if (checkedKeys.size >= MAX_CHECKED_KEYS) checkedKeys.delete(checkedKeys.keys().next().value)
    checkedKeys.set(pem, failure)
  }
  if (failure !== null) throw new TokenVerificationError(failure)
  return pem
}

/**
 * Validates and converts `verifyToken` options to the native shape: throws a TypeError on bad types, and a
 * TokenVerificationError (`code` `jwk-failed-to-resolve`) for a `jwtKey` that is not a usable RSA public key PEM.
 */
function nativeVerifyOptions(options) {
  if (options == null || typeof options !== 'object') throw new TypeError('clerk-native: verifyToken options must be an object')
  const skew = options.clockSkewInMs
  return {
    jwtKey: checkJwtKey(str(options.jwtKey, 'jwtKey')),
    secretKey: str(options.secretKey, 'secretKey'),
    machineSecretKey: str(options.machineSecretKey, 'machineSecretKey'),
    apiUrl: str(options.apiUrl, 'apiUrl'),
    apiVersion: str(options.apiVersion, 'apiVersion'),
    jwksUrl: str(options.jwksUrl, 'jwksUrl'),
    audience: list(options.audience, 'audience'),
    authorizedParties: list(options.authorizedParties, 'authorizedParties'),
    issuer: list(options.issuer, 'issuer'),
    // Clerk: used when it is a finite number, else 5000.
    clockSkewInMs: typeof skew === 'number' && Number.isFinite(skew) ? skew : undefined,
    headerType: list(options.headerType, 'headerType'),
    skipJwksCache: options.skipJwksCache === true,
    jwksCacheTtlMs: num(options.jwksCacheTtlMs, 'jwksCacheTtlMs'),
    jwksCooldownMs: num(options.jwksCooldownMs, 'jwksCooldownMs'),
    acceptsToken: options.acceptsToken === undefined ? undefined : list(options.acceptsToken, 'acceptsToken'),
    // Clerk treats an array (even of one type) unlike a single string.
    acceptsTokenList: Array.isArray(options.acceptsToken) || undefined,
  }
}

// The fields of a resolved (native) option set that key its instance (see memo.js optionSetKey).
const NATIVE_FIELDS = Object.freeze([
  'jwtKey',
  'secretKey',
  'machineSecretKey',
  'apiUrl',
  'apiVersion',
  'jwksUrl',
  'audience',
  'authorizedParties',
  'issuer',
  'clockSkewInMs',
  'headerType',
  'skipJwksCache',
  'jwksCacheTtlMs',
  'jwksCooldownMs',
  'acceptsToken',
  'acceptsTokenList',
])

/** A bounded map of native instances keyed by their resolved options (oldest dropped first). */
function instanceCache(create) {
  return instanceMemo(MAX_VERIFIERS, NATIVE_FIELDS, create)
}

const verifierFor = instanceCache((n) => new binding.NativeVerifier(n))

function settle(result) {
  if (typeof result === 'string') return JSON.parse(result)
  throw new TokenVerificationError(result)
}

// An options object is resolved once and reused while its fields stay the same (see memo.js).
const verifierByOptions = memoByOptions((options) => verifierFor(nativeVerifyOptions(options)))

/**
 * Drop-in for `@clerk/backend`'s `verifyToken`: resolves to the payload or rejects with a
 * TokenVerificationError.
 * @param {string} token
 * @param {import('../index').VerifyTokenOptions} options
 */
async function verifyToken(token, options) {
  const verifier = verifierByOptions(options)
  if (typeof token !== 'string') {
    throw new TokenVerificationError({
      reason: 'token-invalid',
      message: 'Invalid JWT form. A JWT consists of three parts separated by dots.',
    })
  }
  const now = verifier.verifySync(token)
  return settle(now !== null && now !== undefined ? now : await verifier.verify(token))
}

module.exports = { verifyToken, TokenVerificationError, nativeVerifyOptions, instanceCache }
