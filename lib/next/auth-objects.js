'use strict'
// The auth objects the Next layer hands out: lib/auth-object.js builds and filters them (the one place that shapes
// them); here the pieces the hand-off needs (a session from its token, a machine object from its data).

const authObjects = require('../auth-object')

const MACHINE_TYPES = new Set(['api_key', 'm2m_token', 'oauth_token'])
const isMachineType = (type) => MACHINE_TYPES.has(type)

/** Clerk's `isTokenTypeAccepted`. */
function isTokenTypeAccepted(tokenType, acceptsToken) {
  if (!tokenType) return false
  if (acceptsToken === 'any') return true
  return (Array.isArray(acceptsToken) ? acceptsToken : [acceptsToken]).includes(tokenType)
}

const signedOutSession = (reason, message) => authObjects.signedOutAuth('session_token', reason ?? null, message ?? null)

/** Clerk's `getAuthObjectForAcceptedToken({ authObject, acceptsToken })` (lib/auth-object.js). */
const forAcceptedToken = (authObject, acceptsToken = 'session_token') => authObjects.getAuthObjectForAcceptedToken(authObject, acceptsToken)

/**
 * The session auth object of a token the middleware verified (`claims` = its payload JSON text): lib/auth-object.js
 * `authObjectOf` (the pending rule; getToken's Backend API settings from `resolved`).
 * @param {string} token
 * @param {string} claims
 * @param {{ treatPendingAsSignedOut?: boolean }} opts
 * @param {{ apiUrl?: string, apiVersion?: string, secretKey?: string }} resolved
 */
function sessionAuthObject(token, claims, opts, resolved) {
  const result = { signedIn: true, tokenType: 'session_token', token, claims, machineData: null, reason: null, message: null }
  return authObjects.authObjectOf(result, { treatPendingAsSignedOut: opts.treatPendingAsSignedOut ?? true }, resolved)
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
  invalidTokenAuthObject: authObjects.invalidTokenAuthObject,
  signedOutSession,
  forAcceptedToken,
  sessionAuthObject,
  machineAuthObject,
  serializable,
}
