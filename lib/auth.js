'use strict'
// authenticateRequest (API.md §2, SPEC 3.5): the decision is made natively; this file reads the request's
// Authorization/Cookie headers and shapes Clerk's RequestState and auth objects.

const binding = require('../binding.js')
const { nativeVerifyOptions, instanceCache } = require('./token')
const { memoByOptions } = require('./memo')
const { env, envPublishableKey } = require('./env')
const { signedInSessionAuth, signedOutAuth, machineAuth } = require('./auth-object')

const authenticatorFor = instanceCache((n) => new binding.NativeAuthenticator(n))

/** Applies Clerk's environment fallbacks to authenticateRequest options. */
function resolveAuthOptions(options) {
  const o = options == null ? {} : options
  if (typeof o !== 'object') throw new TypeError('clerk-native: authenticateRequest options must be an object')
  return {
    ...o,
    secretKey: o.secretKey || env('CLERK_SECRET_KEY'),
    publishableKey: o.publishableKey || envPublishableKey(),
    jwtKey: o.jwtKey || env('CLERK_JWT_KEY'),
    machineSecretKey: o.machineSecretKey || env('CLERK_MACHINE_SECRET_KEY'),
    apiUrl: o.apiUrl || env('CLERK_API_URL'),
    apiVersion: o.apiVersion || env('CLERK_API_VERSION'),
  }
}

// `anyCase`: a plain record (not node's lower-cased IncomingMessage headers) may spell the name in any case.
function headerOf(headers, name, anyCase) {
  if (headers == null) return undefined
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined
  let v = headers[name]
  if (v === undefined && anyCase) {
    for (const k of Object.keys(headers)) {
      if (k.length === name.length && k.toLowerCase() === name) {
        v = headers[k]
        break
      }
    }
  }
  if (Array.isArray(v)) return v.join(name === 'cookie' ? '; ' : ', ')
  return v == null ? undefined : String(v)
}

/**
 * Clerk's RequestState from a native outcome. `toAuth()` (an own function, safe to destructure) and `headers`
 * (`x-clerk-auth-status`, `-reason`, `-message`) are computed on first use.
 */
class RequestState {
  constructor(result, options) {
    const signedIn = result.signedIn
    this.status = signedIn ? 'signed-in' : 'signed-out'
    this.reason = signedIn ? null : result.reason
    this.message = signedIn ? null : result.message
    this.isSignedIn = signedIn
    this.isAuthenticated = signedIn
    this.token = signedIn ? result.token : null
    this.tokenType = result.tokenType
    this.publishableKey = options.publishableKey || ''
    this.proxyUrl = options.proxyUrl || ''
    this.isSatellite = false
    this.domain = options.domain || ''
    this.signInUrl = options.signInUrl || ''
    this.signUpUrl = options.signUpUrl || ''
    this.afterSignInUrl = ''
    this.afterSignUpUrl = ''
    // toAuth(opts) is authObjectOf(result, opts, options), memoised per treatPendingAsSignedOut value.
    const auths = new Map()
    this.toAuth = (opts) => {
      const pending = opts == null || opts.treatPendingAsSignedOut !== false
      let auth = auths.get(pending)
      if (auth === undefined) {
        auth = require('./auth-object').authObjectOf(result, { treatPendingAsSignedOut: pending }, options)
        auths.set(pending, auth)
      }
      return auth
    }
    /** The verified session claims as JSON text (session tokens), for the identity cache. */
    this.claimsJson = () => (signedIn && result.claims != null ? result.claims : null)
  }

  get headers() {
    const headers = new Headers()
    headers.set('x-clerk-auth-status', this.status)
    if (this.reason) headers.set('x-clerk-auth-reason', this.reason)
    if (this.message) {
      try {
        headers.set('x-clerk-auth-message', this.message)
      } catch {
        // a message that is not a valid header value is left out, as Clerk does
      }
    }
    Object.defineProperty(this, 'headers', { value: headers, enumerable: true })
    return headers
  }
}

function requestState(result, options) {
  return new RequestState(result, options)
}

/**
 * `authenticateRequest(request, options)`: the token comes from `Authorization` (`Bearer <t>` or a bare token)
 * or the `__session` cookie; `acceptsToken` (default `'session_token'`) routes session JWTs and machine tokens.
 * Resolves to Clerk's RequestState (`status`, `reason`, `message`, `isAuthenticated`, `toAuth()`, ...).
 * @param {Request | { url?: string, method?: string, headers: object }} request
 * @param {import('../index').AuthenticateRequestOptions} [options]
 */
// Options objects are resolved (environment fallbacks, validation, native instance) on first use and reused
// while their fields stay the same (checked on every call); environment variables are read at that first use.
const prepared = memoByOptions((options) => {
  const resolved = resolveAuthOptions(options)
  return { resolved, authenticator: authenticatorFor(nativeVerifyOptions(resolved)) }
})

async function authenticateRequest(request, options) {
  if (request == null || typeof request !== 'object') throw new TypeError('clerk-native: authenticateRequest needs a request')
  const { resolved, authenticator } = prepared(options)
  const headers = request.headers
  const anyCase = !Array.isArray(request.rawHeaders)
  const authorization = headerOf(headers, 'authorization', anyCase) ?? null
  const cookie = headerOf(headers, 'cookie', anyCase) ?? null
  const method = typeof request.method === 'string' ? request.method : 'GET'
  const now = authenticator.authenticateSync(authorization, cookie, method)
  if (typeof now === 'string') return requestState(compactSessionResult(now, authorization, cookie), resolved)
  // A pending step (key fetch or Backend API call) continues where the synchronous part stopped.
  const result = typeof now.finish === 'function' ? await now.finish() : now
  return requestState(result, resolved)
}

// A signed-in session token from authenticateSync as `<source><start>,<end>:<claims JSON>` (src/token.rs,
// compact_session_result): the token is the Authorization ('h') or Cookie ('c') value sliced at [start, end).
function compactSessionResult(compact, authorization, cookie) {
  const colon = compact.indexOf(':')
  const comma = compact.indexOf(',')
  const start = Number(compact.slice(1, comma))
  const end = Number(compact.slice(comma + 1, colon))
  const from = compact.charCodeAt(0) === 104 /* h */ ? authorization : cookie
  return { signedIn: true, tokenType: 'session_token', token: from.slice(start, end), claims: compact.slice(colon + 1) }
}

module.exports = { authenticateRequest, resolveAuthOptions, signedOutAuth }
