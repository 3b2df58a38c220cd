'use strict'
// authenticateRequest (API.md §2, SPEC 3.5): the decision is made natively; this file reads the request's
// Authorization/Cookie headers and shapes Clerk's RequestState and auth objects.

const binding = require('../binding.js')
const { nativeVerifyOptions, instanceCache } = require('./token')

const authenticatorFor = instanceCache((n) => new binding.NativeAuthenticator(n))

function env(name) {
  return typeof process !== 'undefined' && process.env ? process.env[name] || undefined : undefined
}

/** Applies Clerk's environment fallbacks to authenticateRequest options. */
function resolveAuthOptions(options) {
  const o = options == null ? {} : options
  if (typeof o !== 'object') throw new TypeError('clerk-native: authenticateRequest options must be an object')
  return {
    ...o,
    secretKey: o.secretKey || env('CLERK_SECRET_KEY'),
    publishableKey: o.publishableKey || env('CLERK_PUBLISHABLE_KEY'),
    jwtKey: o.jwtKey || env('CLERK_JWT_KEY'),
    machineSecretKey: o.machineSecretKey || env('CLERK_MACHINE_SECRET_KEY'),
    apiUrl: o.apiUrl || env('CLERK_API_URL'),
    apiVersion: o.apiVersion || env('CLERK_API_VERSION'),
  }
}

function headerOf(headers, name) {
  if (headers == null) return undefined
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined
  const v = headers[name]
  if (Array.isArray(v)) return v.join(name === 'cookie' ? '; ' : ', ')
  return v == null ? undefined : String(v)
}

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

function signedInSessionAuth(claimsJson, token) {
  const auth = JSON.parse(binding.sessionAuthObject(claimsJson))
  auth.tokenType = 'session_token'
  auth.isAuthenticated = true
  auth.getToken = async () => token
  auth.has = (params) => binding.sessionHas(claimsJson, params || {})
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

/** Builds Clerk's RequestState from a native outcome. `toAuth()` and `headers` are computed on first use. */
function requestState(result, options) {
  const signedIn = result.signedIn
  const status = signedIn ? 'signed-in' : 'signed-out'
  const reason = signedIn ? null : result.reason
  const message = signedIn ? null : result.message
  let auth
  let headers
  const state = {
    status,
    reason,
    message,
    isSignedIn: signedIn,
    isAuthenticated: signedIn,
    token: signedIn ? result.token : null,
    tokenType: result.tokenType,
    publishableKey: options.publishableKey || '',
    proxyUrl: options.proxyUrl || '',
    isSatellite: false,
    domain: options.domain || '',
    signInUrl: options.signInUrl || '',
    signUpUrl: options.signUpUrl || '',
    afterSignInUrl: '',
    afterSignUpUrl: '',
    /** The verified session claims as JSON text (session tokens), for the identity cache. */
    claimsJson() {
      return signedIn && result.claims != null ? result.claims : null
    },
    toAuth() {
      if (auth === undefined) {
        if (!signedIn) auth = signedOutAuth(result.tokenType, reason, message)
        else if (result.claims != null) auth = signedInSessionAuth(result.claims, result.token)
        else auth = machineAuth(result.tokenType, result.machineData || '{}', result.token)
      }
      return auth
    },
  }
  Object.defineProperty(state, 'headers', {
    enumerable: true,
    get() {
      if (headers === undefined) {
        headers = new Headers()
        headers.set('x-clerk-auth-status', status)
        if (reason) headers.set('x-clerk-auth-reason', reason)
        if (message) {
          try {
            headers.set('x-clerk-auth-message', message)
          } catch {
            // a message that is not a valid header value is left out, as Clerk does
          }
        }
      }
      return headers
    },
  })
  return state
}

/**
 * `authenticateRequest(request, options)`: the token comes from `Authorization` (`Bearer <t>` or a bare token)
 * or the `__session` cookie; `acceptsToken` (default `'session_token'`) routes session JWTs and machine tokens.
 * Resolves to Clerk's RequestState (`status`, `reason`, `message`, `isAuthenticated`, `toAuth()`, ...).
 * @param {Request | { url?: string, method?: string, headers: object }} request
 * @param {import('../index').AuthenticateRequestOptions} [options]
 */
// Options objects are resolved (environment fallbacks, validation, native instance) once, on first use: apps
// and the middlewares pass the same object on every request. Pass a new object to change options.
const resolvedByOptions = new WeakMap()

function prepared(options) {
  const cacheable = options != null && typeof options === 'object'
  if (cacheable) {
    const hit = resolvedByOptions.get(options)
    if (hit !== undefined) return hit
  }
  const resolved = resolveAuthOptions(options)
  const entry = { resolved, authenticator: authenticatorFor(nativeVerifyOptions(resolved)) }
  if (cacheable) resolvedByOptions.set(options, entry)
  return entry
}

async function authenticateRequest(request, options) {
  if (request == null || typeof request !== 'object') throw new TypeError('clerk-native: authenticateRequest needs a request')
  const { resolved, authenticator } = prepared(options)
  const headers = request.headers
  const authorization = headerOf(headers, 'authorization') ?? null
  const cookie = headerOf(headers, 'cookie') ?? null
  const method = typeof request.method === 'string' ? request.method : 'GET'
  const now = authenticator.authenticateSync(authorization, cookie, method)
  const result = now != null ? now : await authenticator.authenticate(authorization, cookie, method)
  return requestState(result, resolved)
}

module.exports = { authenticateRequest, resolveAuthOptions }
