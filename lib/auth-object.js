'use strict'
// The auth objects of Clerk's RequestState.toAuth() (@clerk/backend 3.25.0 src/tokens/authObjects.ts): signed-in
// session, signed-out session (also a pending session, by default), authenticated and unauthenticated machine
// objects, and the invalid-token object; built from the native outcome by `authObjectOf`, filtered per accepted
// token type by `getAuthObjectForAcceptedToken` (the adapters' `getAuth`/`auth()`).

const binding = require('../binding.js')

const { version: PACKAGE_VERSION } = require('../package.json')

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

/** Debug data computed when `debug()` is called (the context copy stays off the request path). */
class LazyDebugData {
  constructor(compute) {
    this.compute = compute
  }
}

/**
 * Clerk's `createDebug(data)`: `debug()` returns a copy of the authenticate context with the keys and tokens
 * cut to 7 characters (`''` when absent). `data` may be a LazyDebugData, computed at each call.
 */
function createDebug(data) {
  return () => {
    const res = data instanceof LazyDebugData ? { ...data.compute() } : { ...data }
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

// Backend API request defaults, as the core sends them (crates/core/src/transport.rs) and Clerk's buildRequest.
const DEFAULT_API_URL = 'https://api.clerk.com'
const DEFAULT_API_VERSION = 'v1'
const SUPPORTED_BAPI_VERSION = '2026-05-12'
const USER_AGENT = `clerk-native/${PACKAGE_VERSION}`

/**
 * The error of a refused Backend API call when `@clerk/backend` is not installed: the fields of Clerk's
 * `ClerkAPIResponseError` (`status`, `errors[{ code, message, longMessage, meta }]`, `clerkTraceId`,
 * `retryAfter`, `code: 'api_response_error'`).
 */
class ClerkAPIResponseError extends Error {
  constructor(message, { data, status, clerkTraceId, retryAfter }) {
    super(message)
    this.name = 'ClerkAPIResponseError'
    this.code = 'api_response_error'
    this.clerkError = true
    this.status = status
    this.clerkTraceId = clerkTraceId
    this.retryAfter = retryAfter
    this.errors = (data || []).map(apiErrorOf)
  }
}

/** Clerk's `ClerkAPIError` fields of one Backend API error (snake_case JSON → camelCase). */
function apiErrorOf(json) {
  const meta = json.meta || {}
  return {
    code: json.code,
    message: json.message,
    longMessage: json.long_message,
    meta: {
      paramName: meta.param_name,
      sessionId: meta.session_id,
      emailAddresses: meta.email_addresses,
      identifiers: meta.identifiers,
      zxcvbn: meta.zxcvbn,
      plan: meta.plan,
      isPlanUpgradePossible: meta.is_plan_upgrade_possible,
    },
  }
}

let responseErrorClass
/** `@clerk/backend`'s `ClerkAPIResponseError` (from `@clerk/shared/error`) when installed, else ours. */
function responseErrorClassOf() {
  if (responseErrorClass === undefined) {
    try {
      responseErrorClass = require('@clerk/backend/errors').ClerkAPIResponseError
    } catch {
      responseErrorClass = null
    }
    if (typeof responseErrorClass !== 'function') responseErrorClass = ClerkAPIResponseError
  }
  return responseErrorClass
}

/** Clerk's `joinPaths`: non-empty parts joined by `/`, repeated slashes (not after `:`) collapsed. */
function joinPaths(...parts) {
  return parts
    .filter((p) => p)
    .join('/')
    .replace(/(?<!:)\/{1,}/g, '/')
}

/**
 * Clerk's `SessionAPI.getToken(sessionId, template, expiresInSeconds)` as `getToken()` calls it: `POST
 * {apiUrl}/{apiVersion}/sessions/{sessionId}/tokens[/{template}]` with `{"expires_in_seconds": n}` only when
 * given, the Backend API headers, resolving to the response's `jwt`; a refusal rejects with a
 * `ClerkAPIResponseError` (status, errors, clerkTraceId, retryAfter), as Clerk's request layer throws it.
 */
async function mintSessionToken(context, sessionId, template, expiresInSeconds) {
  const secretKey = context.secretKey
  if (typeof secretKey !== 'string' || secretKey === '') {
    throw new Error(
      'clerk-native: getToken({ template, expiresInSeconds }) mints the token through the Backend API and needs a secret key: set the secretKey option (or CLERK_SECRET_KEY) of clerkMiddleware / authenticateRequest.',
    )
  }
  // Path segments are percent-encoded (Clerk puts the template name in the URL as it is).
  const path = ['sessions', encodeURIComponent(sessionId), 'tokens']
  if (template) path.push(encodeURIComponent(template))
  const url = joinPaths(context.apiUrl || DEFAULT_API_URL, context.apiVersion || DEFAULT_API_VERSION, ...path)
  const headers = {
    'Clerk-API-Version': SUPPORTED_BAPI_VERSION,
    'User-Agent': USER_AGENT,
    Authorization: `Bearer ${secretKey}`,
    'Content-Type': 'application/json',
  }
  const init = { method: 'POST', headers }
  if (expiresInSeconds !== undefined) init.body = JSON.stringify({ expires_in_seconds: expiresInSeconds })
  const ErrorClass = responseErrorClassOf()
  let res
  let body
  try {
    res = await fetch(new URL(url).href, init)
    body = res.headers.get('content-type') === 'application/json' ? await res.json() : await res.text()
  } catch (err) {
    const error = new ErrorClass('', { data: [], status: undefined, clerkTraceId: traceIdOf(err, res), retryAfter: undefined })
    error.errors = [{ code: 'unexpected_error', message: (err && err.message) || 'Unexpected error' }]
    throw error
  }
  if (!res.ok) {
    const data = body && typeof body === 'object' && Array.isArray(body.errors) ? body.errors : []
    throw new ErrorClass(res.statusText || '', { data, status: res.status, clerkTraceId: traceIdOf(body, res), retryAfter: retryAfterOf(res) })
  }
  return body == null ? body : body.jwt
}

function traceIdOf(data, res) {
  if (data && typeof data === 'object' && typeof data.clerk_trace_id === 'string') return data.clerk_trace_id
  return (res && res.headers.get('cf-ray')) || ''
}

function retryAfterOf(res) {
  const value = parseInt(res.headers.get('retry-after') || '', 10)
  return Number.isNaN(value) ? undefined : value
}

/**
 * Clerk's `createGetToken`: `getToken()` is the request's session token; `getToken({ template })` or
 * `getToken({ expiresInSeconds })` mints one through the Backend API; `null` without a session id.
 */
function createGetToken(context, sessionId, sessionToken) {
  return async (options = {}) => {
    if (!sessionId) return null
    const o = options == null ? {} : options
    if (o.template || o.expiresInSeconds !== undefined) return mintSessionToken(context, sessionId, o.template, o.expiresInSeconds)
    return sessionToken
  }
}

// Fields of Clerk's signed-in session object that are undefined when the token has no such claim.
const UNDEFINED_WHEN_ABSENT = ['actor', 'orgId', 'orgRole', 'orgSlug', 'orgPermissions']

/**
 * Clerk's `signedInAuthObject(authenticateContext, sessionToken, sessionClaims)` from verified claims JSON:
 * `options` (apiUrl, apiVersion, secretKey) serve getToken({ template }), `debugData` debug().
 */
function signedInAuthObject(options, token, claimsJson, debugData) {
  const auth = JSON.parse(binding.sessionAuthObject(claimsJson))
  // As Clerk's object: claims the token does not carry are undefined (not null) here, and our extra
  // `features` / `plans` (the parsed `fea` / `pla` claims) stay readable but out of Object.keys and JSON.
  for (const k of UNDEFINED_WHEN_ABSENT) if (auth[k] === null) auth[k] = undefined
  Object.defineProperty(auth, 'features', { value: auth.features, enumerable: false, writable: true, configurable: true })
  Object.defineProperty(auth, 'plans', { value: auth.plans, enumerable: false, writable: true, configurable: true })
  auth.tokenType = SESSION_TOKEN
  auth.isAuthenticated = true
  auth.getToken = createGetToken(options, auth.sessionId, token)
  auth.has = (params) => sessionHas(claimsJson, params)
  auth.debug = createDebug(debugData === undefined ? { ...options, sessionToken: token } : debugData)
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

/**
 * The authenticate context `debug()` shows (Clerk's `AuthenticateContext`): the resolved options, then the
 * request-derived fields the native outcome carries in `result.context` (an object, or a function returning one,
 * called when `debug()` is) when it has them (`method`,
 * `tokenInHeader`, `sessionTokenInCookie`, `clientUat`, `devBrowserToken`, `handshakeToken`, `instanceType`,
 * `frontendApi`, ...). createDebug cuts keys and tokens to 7 characters.
 */
function debugContext(options, result) {
  const context = { ...options }
  // Environment fallbacks resolve these to '' when unset; Clerk's context only has the ones that were given.
  for (const k of ['domain', 'proxyUrl', 'signInUrl', 'signUpUrl']) if (context[k] === '') delete context[k]
  const extra = typeof result.context === 'function' ? result.context() : result.context
  if (extra != null && typeof extra === 'object') Object.assign(context, extra)
  return context
}

/**
 * Clerk's auth object of an `authenticateRequest` outcome (`RequestState.toAuth(opts)`).
 * @param {{ signedIn: boolean, tokenType: string | null, token?: string | null, claims?: string | null,
 *   machineData?: string | null, reason?: string | null, message?: string | null, invalidToken?: boolean }} result
 *   the native outcome (`invalidToken`: Clerk's signedOutInvalidToken, an `acceptsToken` list refusing the request)
 * @param {{ treatPendingAsSignedOut?: boolean }} [opts] `treatPendingAsSignedOut` (default `true`): a pending
 *   session gives Clerk's signed-out object with `sessionStatus: 'pending'`; `false` gives the signed-in object
 * @param {object} [resolvedOptions] the resolved authenticateRequest options (apiUrl, apiVersion, secretKey, ...):
 *   `getToken({ template })` calls the Backend API with them, and `debug()` shows them (keys cut to 7 characters)
 *
 * `debug()` is Clerk's `createDebug`: a copy of the authenticate context (the resolved options, plus
 * `result.context` when given) with `secretKey`, `jwtKey`, `sessionToken`, `tokenInHeader`,
 * `sessionTokenInCookie`, `refreshTokenInCookie`, `devBrowserToken` and `handshakeToken` cut to their first 7
 * characters (`''` when absent; `machineSecretKey` too, which Clerk leaves whole). Signed in: plus `sessionToken`;
 * signed out: plus `status`, `reason`, `message`; a pending session signed out by default, a filtered object
 * (`getAuthObjectForAcceptedToken`) and an unauthenticated machine object show only the cut keys (the latter also
 * `reason`, `message`, `headers`); the invalid-token object shows `{}`.
 */
function authObjectOf(result, opts, resolvedOptions) {
  const options = resolvedOptions != null && typeof resolvedOptions === 'object' ? resolvedOptions : {}
  const tokenType = result.tokenType ?? null
  const message = result.message ?? ''
  if (!result.signedIn) {
    if (tokenType === null || result.invalidToken === true) return invalidTokenAuthObject()
    if (tokenType === SESSION_TOKEN) {
      const debugData = new LazyDebugData(() => ({ ...debugContext(options, result), status: 'signed-out', reason: result.reason, message }))
      return signedOutAuthObject(debugData)
    }
    return unauthenticatedMachineObject(tokenType, { reason: result.reason, message, headers: new Headers() })
  }
  if (tokenType === SESSION_TOKEN) {
    const debugData = new LazyDebugData(() => ({ ...debugContext(options, result), sessionToken: result.token }))
    const auth = signedInAuthObject(options, result.token, result.claims, debugData)
    // Clerk's toAuth: a pending session (`sts: "pending"`: session tasks left, e.g. choosing an organization) is
    // signed out unless the caller opts in with `treatPendingAsSignedOut: false`.
    if (auth.sessionStatus === 'pending' && !(opts != null && opts.treatPendingAsSignedOut === false)) {
      return signedOutAuthObject(undefined, 'pending')
    }
    return auth
  }
  const debugData = new LazyDebugData(() => debugContext(options, result))
  return authenticatedMachineObject(tokenType, result.token, JSON.parse(result.machineData || '{}'), debugData)
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
  ClerkAPIResponseError,
}
