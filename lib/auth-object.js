'use strict'
// The auth objects of Clerk's RequestState.toAuth(): signed-in session, signed-out, machine. Built from the native
// outcome (claims JSON or machine resource) by lib/auth.js; filtered per accepted token type by the adapters.

const binding = require('../binding.js')

const SIGNED_OUT_SESSION = Object.freeze({
  sessionClaims: null,
  sessionId: null,
  sessionStatus: null,
  actor: null,
  userId: null,
  orgId: null,
  orgRole: null,
  orgSlug: null,
  orgPermissions: null,
  factorVerificationAge: null,
})

const HAS_STRING_PARAMS = ['role', 'permission', 'feature', 'plan']

/**
 * `has(params)` of a signed-in session. As Clerk's: a parameter of the wrong type (a non-string `role`,
 * `permission`, `feature` or `plan`, a params value that is not an object) answers false, never a throw; any
 * other failure of the native check also answers false (fail closed).
 */
function sessionHas(claimsJson, params) {
  if (params == null || typeof params !== 'object') return false
  for (const name of HAS_STRING_PARAMS) {
    const v = params[name]
    if (v !== undefined && typeof v !== 'string') return false
  }
  try {
    return binding.sessionHas(claimsJson, params)
  } catch {
    return false
  }
}

function signedInSessionAuth(claimsJson, token) {
  const auth = JSON.parse(binding.sessionAuthObject(claimsJson))
  auth.tokenType = 'session_token'
  auth.isAuthenticated = true
  auth.getToken = async () => token
  auth.has = (params) => sessionHas(claimsJson, params)
  auth.debug = () => ({ userId: auth.userId, sessionId: auth.sessionId, orgId: auth.orgId })
  return auth
}

function signedOutAuth(tokenType, reason, message) {
  const base =
    tokenType === 'session_token'
      ? { ...SIGNED_OUT_SESSION }
      : { id: null, subject: null, name: null, scopes: null, claims: null, userId: null, orgId: null }
  return Object.assign(base, {
    tokenType,
    isAuthenticated: false,
    getToken: async () => null,
    has: () => false,
    debug: () => ({ reason, message }),
  })
}

function machineAuth(tokenType, machineJson, token) {
  const data = JSON.parse(machineJson)
  const subject = typeof data.subject === 'string' ? data.subject : null
  const auth = {
    ...data,
    tokenType,
    isAuthenticated: true,
    getToken: async () => token,
    has: () => false,
    debug: () => ({ id: data.id, subject }),
  }
  if (tokenType === 'api_key' || tokenType === 'oauth_token') {
    auth.userId = subject && subject.startsWith('user_') ? subject : auth.userId ?? null
    auth.orgId = subject && subject.startsWith('org_') ? subject : auth.orgId ?? null
  }
  return auth
}

module.exports = { signedInSessionAuth, signedOutAuth, machineAuth, sessionHas }
