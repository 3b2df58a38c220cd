'use strict'
// The auth objects the Next layer hands out, built with lib/auth-object.js (the one place that shapes them) and
// filtered per accepted token type as Clerk's `getAuthObjectForAcceptedToken`.

const authObjects = require('../auth-object')

const MACHINE_TYPES = new Set(['api_key', 'm2m_token', 'oauth_token'])
const isMachineType = (type) => MACHINE_TYPES.has(type)

/** Clerk's `isTokenTypeAccepted`. */
function isTokenTypeAccepted(tokenType, acceptsToken) {
  if (!tokenType) return false
  if (acceptsToken === 'any') return true
  return (Array.isArray(acceptsToken) ? acceptsToken : [acceptsToken]).includes(tokenType)
}

/** Clerk's `invalidTokenAuthObject()` (an array `acceptsToken` the token is not in). */
function invalidTokenAuthObject() {
  return { isAuthenticated: false, tokenType: null, getToken: () => Promise.resolve(null), has: () => false, debug: () => ({}) }
}

/** Clerk's `unauthenticatedMachineObject(tokenType)`. */
function unauthenticatedMachineObject(tokenType, debug) {
  const base = { id: null, subject: null, scopes: null, has: () => false, getToken: () => Promise.resolve(null), debug: debug || (() => ({})), isAuthenticated: false }
  if (tokenType === 'api_key') return { ...base, tokenType, name: null, claims: null, scopes: null, userId: null, orgId: null }
  if (tokenType === 'm2m_token') return { ...base, tokenType, claims: null, scopes: null, machineId: null }
  return { ...base, tokenType, scopes: null, userId: null, clientId: null }
}

const signedOutSession = (reason, message) => authObjects.signedOutAuth('session_token', reason ?? null, message ?? null)

/**
 * Clerk's `getAuthObjectForAcceptedToken({ authObject, acceptsToken })`: lib/auth-object.js's when it has one,
 * else the same rule here.
 */
function forAcceptedToken(authObject, acceptsToken = 'session_token') {
  if (typeof authObjects.getAuthObjectForAcceptedToken === 'function') {
    return authObjects.getAuthObjectForAcceptedToken(authObject, acceptsToken)
  }
  if (acceptsToken === 'any') return authObject
  if (Array.isArray(acceptsToken)) return isTokenTypeAccepted(authObject.tokenType, acceptsToken) ? authObject : invalidTokenAuthObject()
  if (isTokenTypeAccepted(authObject.tokenType, acceptsToken)) return authObject
  if (isMachineType(acceptsToken)) return unauthenticatedMachineObject(acceptsToken, authObject.debug)
  return signedOutSession()
}

/**
 * The session auth object of a token the middleware verified (`claims` = its payload JSON text): lib/auth-object.js
 * `authObjectOf` with the pending rule and getToken's Backend API settings when it exists.
 * @param {string} token
 * @param {string} claims
 * @param {{ treatPendingAsSignedOut?: boolean }} opts
 * @param {{ apiUrl?: string, apiVersion?: string, secretKey?: string }} resolved
 */
function sessionAuthObject(token, claims, opts, resolved) {
  const result = { signedIn: true, tokenType: 'session_token', token, claims, machineData: null, reason: null, message: null }
  if (typeof authObjects.authObjectOf === 'function') {
    return authObjects.authObjectOf(result, { treatPendingAsSignedOut: opts.treatPendingAsSignedOut ?? true }, resolved)
  }
  const auth = authObjects.signedInSessionAuth(claims, token)
  if ((opts.treatPendingAsSignedOut ?? true) && auth.sessionStatus === 'pending') {
    return Object.assign(signedOutSession(), { sessionStatus: 'pending' })
  }
  return auth
}

/** A machine auth object handed over as data (Clerk's `makeAuthObjectSerializable`), with its functions again. */
function machineAuthObject(data, token) {
  return {
    ...data,
    getToken: () => Promise.resolve(data.isAuthenticated ? token : null),
    has: () => false,
    debug: () => ({ id: data.id ?? null, subject: data.subject ?? null }),
  }
}

/** Clerk's `makeAuthObjectSerializable`: the object without `debug`, `getToken`, `has`. */
function serializable(authObject) {
  const { debug, getToken, has, redirectToSignIn, redirectToSignUp, ...rest } = authObject
  return rest
}

module.exports = {
  isMachineType,
  isTokenTypeAccepted,
  invalidTokenAuthObject,
  unauthenticatedMachineObject,
  signedOutSession,
  forAcceptedToken,
  sessionAuthObject,
  machineAuthObject,
  serializable,
}
