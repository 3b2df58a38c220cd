'use strict'
// The auth objects of Clerk's RequestState.toAuth() (@clerk/backend 3.25.0 src/tokens/authObjects.ts): signed-in
// session, signed-out session (also a pending session, by default), authenticated and unauthenticated machine
// objects, and the invalid-token object; built from the native outcome by `authObjectOf`, filtered per accepted
// token type by `getAuthObjectForAcceptedToken` (the adapters' `getAuth`/`auth()`).

const binding = require('../binding.js')

const SESSION_TOKEN = 'session_token'
const MACHINE_TOKEN_TYPES = new Set(['api_key', 'm2m_token', 'oauth_token'])

// The values createDebug cuts to their first 7 characters (Clerk's list, plus machineSecretKey: Clerk leaves it
// whole, which would put a secret into whatever logs debug()).
const DEBUG_CUT_KEYS = [
  'secretKey',
  'jwtKey',
  'sessionToken',
  'tokenInHeader',
  'sessionTokenInCookie',
  'refreshTokenInCookie',
  'devBrowserToken',
  'handshakeToken',
]

/**
 * Clerk's `createDebug(data)`: `debug()` returns a copy of the authenticate context with the keys and tokens
 * cut to 7 characters (`''` when absent).
 */
function createDebug(data) {
  return () => {
    const res = { ...data }
    for (const key of DEBUG_CUT_KEYS) res[key] = String(res[key] || '').substring(0, 7)
    if (res.machineSecretKey) res.machineSecretKey = String(res.machineSecretKey).substring(0, 7)
    return { ...res }
  }
}

const HAS_STRING_PARAMS = ['role', 'permission', 'feature', 'plan']

/**
 * `has(params)` of a signed-in session: Clerk's `createCheckAuthorization` (@clerk/shared 4.41.0), computed by
 * the core (`AuthObject::has`): every requested dimension (role and permission; feature and plan;
 * reverification) must pass, and reverification fails closed on a missing or invalid `fva`. As Clerk's, a
 * parameter of the wrong type (a non-string `role`, `permission`, `feature` or `plan`; a `reverification` that
 * is neither a preset name nor a `{ level, afterMinutes }` object) answers false, never a throw; a params value
 * that is not an object answers false too (Clerk throws there); any other failure of the native check also
 * answers false (fail closed).
 */
function sessionHas(claimsJson, params) {
  if (params == null || typeof params !== 'object') return false
  for (const name of HAS_STRING_PARAMS) {
    const v = params[name]
    if (v !== undefined && typeof v !== 'string') return false
  }
  const r = params.reverification
  if (r !== undefined && (r === null || (typeof r !== 'string' && typeof r !== 'object'))) return false
  try {
    return binding.sessionHas(claimsJson, params)
  } catch {
    return false
  }
}

/** Clerk's `signedInAuthObject(authenticateContext, sessionToken, sessionClaims)` from verified claims JSON. */
function signedInAuthObject(context, token, claimsJson) {
  const auth = JSON.parse(binding.sessionAuthObject(claimsJson))
  auth.tokenType = SESSION_TOKEN
  auth.isAuthenticated = true
  auth.getToken = async () => token
  auth.has = (params) => sessionHas(claimsJson, params)
  auth.debug = createDebug({ ...context, sessionToken: token })
  return auth
}

/** Clerk's `signedOutAuthObject(debugData, initialSessionStatus)`. */
function signedOutAuthObject(debugData, initialSessionStatus) {
  return {
    tokenType: SESSION_TOKEN,
    sessionClaims: null,
    sessionId: null,
    sessionStatus: initialSessionStatus ?? null,
    userId: null,
    actor: null,
    orgId: null,
    orgRole: null,
    orgSlug: null,
    orgPermissions: null,
    factorVerificationAge: null,
    getToken: () => Promise.resolve(null),
    has: () => false,
    debug: createDebug(debugData),
    isAuthenticated: false,
  }
}

/** `subject` when it is a string starting with `prefix`, else null (Clerk's `subject.startsWith(prefix)`). */
function ownerOf(subject, prefix) {
  return typeof subject === 'string' && subject.startsWith(prefix) ? subject : null
}

/**
 * Clerk's `authenticatedMachineObject(tokenType, token, verificationResult, debugData)` from the verified
 * machine resource (the Backend API resource with camelCase keys, or the fields of a machine JWT):
 * - `api_key`: `id`, `subject`, `name`, `claims`, `scopes`, `userId`/`orgId` when the subject is a `user_`/`org_` id;
 * - `m2m_token`: `id`, `subject`, `claims`, `scopes`, `machineId` = subject;
 * - `oauth_token`: `id`, `subject`, `scopes`, `userId` = subject (always), `clientId`.
 */
function authenticatedMachineObject(tokenType, token, data, debugData) {
  const base = {
    id: data.id,
    subject: data.subject,
    getToken: () => Promise.resolve(token),
    has: () => false,
    debug: createDebug(debugData),
    isAuthenticated: true,
  }
  switch (tokenType) {
    case 'api_key':
      return {
        ...base,
        tokenType,
        name: data.name,
        claims: data.claims,
        scopes: data.scopes,
        userId: ownerOf(data.subject, 'user_'),
        orgId: ownerOf(data.subject, 'org_'),
      }
    case 'm2m_token':
      return { ...base, tokenType, claims: data.claims, scopes: data.scopes, machineId: data.subject }
    case 'oauth_token':
      return { ...base, tokenType, scopes: data.scopes, userId: data.subject, clientId: data.clientId }
    default:
      throw new Error(`Invalid token type: ${tokenType}`)
  }
}

/** Clerk's `unauthenticatedMachineObject(tokenType, debugData)`: the type's fields, all `null`. */
function unauthenticatedMachineObject(tokenType, debugData) {
  const base = {
    id: null,
    subject: null,
    scopes: null,
    has: () => false,
    getToken: () => Promise.resolve(null),
    debug: createDebug(debugData),
    isAuthenticated: false,
  }
  switch (tokenType) {
    case 'api_key':
      return { ...base, tokenType, name: null, claims: null, scopes: null, userId: null, orgId: null }
    case 'm2m_token':
      return { ...base, tokenType, claims: null, scopes: null, machineId: null }
    case 'oauth_token':
      return { ...base, tokenType, scopes: null, userId: null, clientId: null }
    default:
      throw new Error(`Invalid token type: ${tokenType}`)
  }
}

/** Clerk's `invalidTokenAuthObject()`: a token of a type the caller does not accept (`tokenType: null`). */
function invalidTokenAuthObject() {
  return {
    isAuthenticated: false,
    tokenType: null,
    getToken: () => Promise.resolve(null),
    has: () => false,
    debug: () => ({}),
  }
}

/** The authenticate context `debug()` shows: the resolved options (keys cut by createDebug). */
function debugContext(resolvedOptions) {
  return resolvedOptions == null || typeof resolvedOptions !== 'object' ? {} : { ...resolvedOptions }
}

/**
 * Clerk answers a request whose token type (the header token's, else `session_token`) is not in an `acceptsToken`
 * list with `signedOutInvalidToken()` (`tokenType: null`). The native outcome reports a type there; a
 * `token-type-mismatch` under a list is that case, except a session token whose category is refused (`cat`)
 * while the list accepts session tokens.
 */
function isArrayMismatch(result, acceptsToken) {
  if (!Array.isArray(acceptsToken) || result.reason !== 'token-type-mismatch') return false
  return !(result.tokenType === SESSION_TOKEN && acceptsToken.includes(SESSION_TOKEN))
}

/**
 * Clerk's auth object of an `authenticateRequest` outcome (`RequestState.toAuth(opts)`).
 * @param {{ signedIn: boolean, tokenType: string | null, token?: string | null, claims?: string | null,
 *   machineData?: string | null, reason?: string | null, message?: string | null }} result the native outcome
 * @param {{ treatPendingAsSignedOut?: boolean }} [opts] `treatPendingAsSignedOut` (default `true`): a pending
 *   session gives Clerk's signed-out object with `sessionStatus: 'pending'`; `false` gives the signed-in object
 * @param {object} [resolvedOptions] the resolved authenticateRequest options (apiUrl, apiVersion, secretKey, ...)
 */
function authObjectOf(result, opts, resolvedOptions) {
  const context = debugContext(resolvedOptions)
  const tokenType = result.tokenType ?? null
  if (!result.signedIn) {
    if (tokenType === null || isArrayMismatch(result, context.acceptsToken)) return invalidTokenAuthObject()
    if (tokenType === SESSION_TOKEN) {
      return signedOutAuthObject({ ...context, status: 'signed-out', reason: result.reason, message: result.message ?? '' })
    }
    return unauthenticatedMachineObject(tokenType, { reason: result.reason, message: result.message ?? '', headers: new Headers() })
  }
  if (tokenType === SESSION_TOKEN) {
    const auth = signedInAuthObject(context, result.token, result.claims)
    // Clerk's toAuth: a pending session (`sts: "pending"`: session tasks left, e.g. choosing an organization) is
    // signed out unless the caller opts in with `treatPendingAsSignedOut: false`.
    if (auth.sessionStatus === 'pending' && !(opts != null && opts.treatPendingAsSignedOut === false)) {
      return signedOutAuthObject(undefined, 'pending')
    }
    return auth
  }
  return authenticatedMachineObject(tokenType, result.token, JSON.parse(result.machineData || '{}'), context)
}

function isTokenTypeAccepted(tokenType, acceptsToken) {
  if (!tokenType) return false
  if (acceptsToken === 'any') return true
  const types = Array.isArray(acceptsToken) ? acceptsToken : [acceptsToken]
  return types.includes(tokenType)
}

/**
 * Clerk's `getAuthObjectForAcceptedToken({ authObject, acceptsToken })`: `'any'` → the object as is; a list
 * without the object's type → the invalid-token object (`tokenType: null`); a single machine type that does not
 * match → an unauthenticated machine object of the requested type; `'session_token'` (the default) that does
 * not match → a signed-out session object.
 * @param {object} authObject
 * @param {'session_token' | 'api_key' | 'm2m_token' | 'oauth_token' | 'any' | string[]} [acceptsToken]
 */
function getAuthObjectForAcceptedToken(authObject, acceptsToken = SESSION_TOKEN) {
  if (acceptsToken === 'any') return authObject
  if (Array.isArray(acceptsToken)) {
    return isTokenTypeAccepted(authObject.tokenType, acceptsToken) ? authObject : invalidTokenAuthObject()
  }
  if (!isTokenTypeAccepted(authObject.tokenType, acceptsToken)) {
    if (MACHINE_TOKEN_TYPES.has(acceptsToken)) return unauthenticatedMachineObject(acceptsToken, authObject.debug)
    return signedOutAuthObject(authObject.debug)
  }
  return authObject
}

/**
 * A signed-out auth object of `tokenType` (kept for the adapters): a session or a machine type's null shape,
 * whose `debug()` shows `reason` and `message`.
 */
function signedOutAuth(tokenType, reason, message) {
  if (tokenType === null || tokenType === undefined) return invalidTokenAuthObject()
  if (tokenType === SESSION_TOKEN) return signedOutAuthObject({ status: 'signed-out', reason, message })
  return unauthenticatedMachineObject(tokenType, { reason, message, headers: new Headers() })
}

module.exports = {
  authObjectOf,
  getAuthObjectForAcceptedToken,
  signedOutAuth,
  signedInAuthObject,
  signedOutAuthObject,
  authenticatedMachineObject,
  unauthenticatedMachineObject,
  invalidTokenAuthObject,
  createDebug,
  sessionHas,
}
