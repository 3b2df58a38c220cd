'use strict'
// authenticateRequest (API.md §2, SPEC 3.5, AUTH-PARITY §2 item 3): the decision, handshake family included, is
// made natively; this file reads the request (headers, URL), passes the facts the decision needs, and shapes
// Clerk's RequestState.

const binding = require('../binding.js')
const { nativeVerifyOptions } = require('./token')
const { memoByOptions } = require('./memo')
const { env, envPublishableKey } = require('./env')
const { authObjectOf, signedOutAuth } = require('./auth-object')
const { matchPath } = require('./path-pattern')

/** Clerk's `isTruthy` (@clerk/shared/underscore), for `CLERK_IS_SATELLITE`. */
function isTruthy(value) {
  if (typeof value === 'boolean') return value
  if (value === undefined || value === null) return false
  if (typeof value === 'string') {
    if (value.toLowerCase() === 'true') return true
    if (value.toLowerCase() === 'false') return false
  }
  const number = parseInt(value, 10)
  return !Number.isNaN(number) && number > 0
}

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
    domain: o.domain || env('CLERK_DOMAIN') || '',
    proxyUrl: o.proxyUrl || env('CLERK_PROXY_URL') || '',
    isSatellite: o.isSatellite || isTruthy(env('CLERK_IS_SATELLITE')),
    signInUrl: o.signInUrl || env('CLERK_SIGN_IN_URL') || '',
    signUpUrl: o.signUpUrl || env('CLERK_SIGN_UP_URL') || '',
  }
}

/**
 * Clerk's `getAutoProxyUrlFromEnvironment`: a production instance on Vercel (`VERCEL_TARGET_ENV=production`, a
 * `*.vercel.app` `VERCEL_PROJECT_PRODUCTION_URL`) without `proxyUrl`/`domain` goes through `/__clerk` on the
 * request origin, unless `CLERK_DISABLE_AUTO_PROXY` is truthy.
 */
function autoProxyPath(resolved) {
  if (resolved.proxyUrl || resolved.domain) return ''
  const pk = resolved.publishableKey
  if (typeof pk !== 'string' || !(pk.startsWith('live_') || pk.startsWith('pk_live_'))) return ''
  if (isTruthy(env('CLERK_DISABLE_AUTO_PROXY'))) return ''
  if (env('VERCEL_TARGET_ENV') !== 'production') return ''
  const url = env('VERCEL_PROJECT_PRODUCTION_URL')
  if (!url) return ''
  let hostname
  if (url.startsWith('http://') || url.startsWith('https://')) {
    try {
      hostname = new URL(url).hostname
    } catch {
      hostname = ''
    }
  } else hostname = url.split('/')[0] || ''
  return hostname.endsWith('.vercel.app') ? '/__clerk' : ''
}

const MAX_AUTHENTICATORS = 64
const authenticators = new Map()

/** The native authenticator of a resolved option set (verification options + handshake options), memoised. */
function authenticatorFor(resolved) {
  const verify = nativeVerifyOptions(resolved)
  const handshake = {
    publishableKey: typeof resolved.publishableKey === 'string' ? resolved.publishableKey : undefined,
    domain: typeof resolved.domain === 'string' ? resolved.domain : undefined,
    proxyUrl: typeof resolved.proxyUrl === 'string' ? resolved.proxyUrl : undefined,
    isSatellite: !!resolved.isSatellite,
    signInUrl: typeof resolved.signInUrl === 'string' ? resolved.signInUrl : undefined,
    satelliteAutoSync: resolved.satelliteAutoSync === true,
  }
  const key = JSON.stringify([Object.entries(verify), Object.entries(handshake)])
  let inst = authenticators.get(key)
  if (inst === undefined) {
    if (authenticators.size >= MAX_AUTHENTICATORS) authenticators.delete(authenticators.keys().next().value)
    inst = new binding.NativeAuthenticator(verify, handshake)
    authenticators.set(key, inst)
  }
  return inst
}

/** `OrganizationMatcher`: the patterns compiled once (an invalid one throws as Clerk's constructor does). */
function organizationMatcher(sync) {
  if (sync == null || typeof sync !== 'object') return null
  const org = sync.organizationPatterns
  const personal = sync.personalAccountPatterns
  const check = (pattern) => {
    if (!pattern) return null
    try {
      matchPath(pattern, '/')
    } catch (e) {
      throw new Error(`Invalid pattern "${pattern}": ${e}`)
    }
    return pattern
  }
  const orgPattern = check(org)
  const personalPattern = check(personal)
  if (!orgPattern && !personalPattern) return null
  // The target in the compact form of the native side: '' none, 'p' personal account, 'i<id>', 's<slug>'.
  return (pathname) => {
    if (orgPattern) {
      try {
        const m = matchPath(orgPattern, pathname)
        if (m && m.params) {
          if (m.params.id) return `i${m.params.id}`
          if (m.params.slug) return `s${m.params.slug}`
        }
      } catch {
        // Clerk logs "Failed to match organization pattern" and goes on
      }
    }
    if (personalPattern) {
      try {
        if (matchPath(personalPattern, pathname)) return 'p'
      } catch {
        // as above
      }
    }
    return ''
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

const ABSOLUTE_URL = /^[a-zA-Z][a-zA-Z0-9+.-]*:/

/**
 * The request URL before `X-Forwarded-*` (the native side applies them as Clerk's `deriveUrlFromHeaders`): a Web
 * `Request`'s `url`, else `http(s)://<Host><originalUrl || url>` (https when the socket is TLS).
 */
function rawUrlOf(request, headers, anyCase) {
  const u = typeof request.originalUrl === 'string' ? request.originalUrl : request.url
  if (typeof u === 'string' && ABSOLUTE_URL.test(u)) return u
  const path = typeof u === 'string' && u !== '' ? u : '/'
  const host = headerOf(headers, 'host', anyCase) || 'localhost'
  const tls = request.socket != null && request.socket.encrypted === true
  return `${tls ? 'https' : 'http'}://${host}${path}`
}

const present = (v) => (v === undefined ? '' : `=${v}`)

/** The request facts in the native compact form (see `RequestContext::parse_compact` in the core). */
function requestFacts(url, headers, anyCase, orgTargetOf) {
  let org = ''
  if (orgTargetOf !== null) {
    try {
      org = orgTargetOf(new URL(url).pathname)
    } catch {
      org = ''
    }
  }
  return [
    url,
    present(headerOf(headers, 'host', anyCase)),
    present(headerOf(headers, 'x-forwarded-host', anyCase)),
    present(headerOf(headers, 'x-forwarded-proto', anyCase)),
    present(headerOf(headers, 'sec-fetch-dest', anyCase)),
    present(headerOf(headers, 'accept', anyCase)),
    present(headerOf(headers, 'referer', anyCase)),
    org,
  ].join('\n')
}

/** Every request header as `[name, value, ...]` (sent with a session refresh). */
function headerList(headers) {
  const out = []
  if (headers == null) return out
  if (typeof headers.forEach === 'function' && typeof headers.get === 'function') {
    headers.forEach((value, name) => out.push(name, value))
    return out
  }
  for (const name of Object.keys(headers)) {
    const v = headers[name]
    if (v == null) continue
    out.push(name, Array.isArray(v) ? v.join(', ') : String(v))
  }
  return out
}

/**
 * Clerk's `ClerkRequest.deriveUrlFromHeaders`, the one implementation every entry path uses: the request URL with
 * the origin the client used (first `X-Forwarded-Host` / `X-Forwarded-Proto` value, else `Host` and the URL's
 * protocol). `get(name)` reads a request header (`null`/`undefined` when absent). Throws on an invalid `url`.
 * @param {string} url the request URL (absolute)
 * @param {(name: string) => string | null | undefined} get
 * @returns {URL}
 */
function clerkUrlOf(url, get) {
  const initial = new URL(url)
  const fh = get('x-forwarded-host') ?? undefined
  const fp = get('x-forwarded-proto') ?? undefined
  const host = fh !== undefined ? fh.split(',')[0] : get('host') ?? undefined
  const proto = fp !== undefined ? fp.split(',')[0] : initial.protocol.replace(/[:/]/, '')
  const origin = host && proto ? `${proto}://${host}` : initial.origin
  if (origin === initial.origin) return initial
  try {
    return new URL(initial.pathname + initial.search, origin)
  } catch {
    return initial
  }
}

/** The request origin after `X-Forwarded-*` (Clerk's `clerkUrl.origin`), for a relative `proxyUrl`. */
function derivedOrigin(url, headers, anyCase) {
  try {
    return clerkUrlOf(url, (name) => headerOf(headers, name, anyCase)).origin
  } catch {
    return ''
  }
}

/** Clerk's satellite option asserts (`assertSignInUrlExists`, `assertSignInUrlFormatAndOrigin`, `assertProxyUrlOrDomain`). */
function assertSatellite(resolved, originHeader) {
  const { signInUrl, secretKey } = resolved
  if (!signInUrl && typeof secretKey === 'string' && (secretKey.startsWith('test_') || secretKey.startsWith('sk_test_'))) {
    throw new Error('Missing signInUrl. Pass a signInUrl for dev instances if an app is satellite')
  }
  if (signInUrl && originHeader) {
    let u
    try {
      u = new URL(signInUrl)
    } catch {
      throw new Error('The signInUrl needs to have a absolute url format.')
    }
    if (u.origin === originHeader) {
      throw new Error('The signInUrl needs to be on a different origin than your satellite application.')
    }
  }
  if (!(resolved.proxyUrl || resolved.domain)) {
    throw new Error('Missing domain and proxyUrl. A satellite application needs to specify a domain or a proxyUrl')
  }
}

/**
 * Clerk's RequestState from a native outcome. `toAuth()` (an own function, safe to destructure) and `headers`
 * (Clerk's: `x-clerk-auth-status`, `-reason`, `-message` on signed-out and handshake states only, plus a
 * handshake's `Location`, `Cache-Control` and redirect-count cookie, or a resolved handshake's or refresh's
 * `Set-Cookie`s) are computed on first use.
 */
class RequestState {
  constructor(result, options, proxyUrl) {
    const signedIn = result.signedIn
    const handshake = result.handshake === true
    this.status = signedIn ? 'signed-in' : handshake ? 'handshake' : 'signed-out'
    this.reason = signedIn ? null : result.reason
    this.message = signedIn ? null : result.message
    this.isSignedIn = signedIn
    this.isAuthenticated = signedIn
    this.token = signedIn ? result.token : null
    this.tokenType = result.tokenType
    this.publishableKey = options.publishableKey || ''
    this.proxyUrl = proxyUrl
    this.isSatellite = options.isSatellite || false
    this.domain = options.domain || ''
    this.signInUrl = options.signInUrl || ''
    this.signUpUrl = options.signUpUrl || ''
    this.afterSignInUrl = options.afterSignInUrl || ''
    this.afterSignUpUrl = options.afterSignUpUrl || ''
    if (result.invalidToken === true) {
      // Clerk's signedOutInvalidToken(): an acceptsToken list that refuses the request's token type.
      this.tokenType = null
      this.publishableKey = ''
      this.proxyUrl = ''
      this.isSatellite = false
      this.domain = ''
      this.signInUrl = ''
      this.signUpUrl = ''
      this.afterSignInUrl = ''
      this.afterSignUpUrl = ''
    }
    // toAuth(opts) is authObjectOf(result, opts, options), memoised per treatPendingAsSignedOut value; a
    // handshake state's toAuth() returns null as Clerk's.
    let auth
    let authPendingSignedIn
    this.toAuth = (opts) => {
      if (handshake) return null
      if (opts != null && opts.treatPendingAsSignedOut === false) {
        if (authPendingSignedIn === undefined) authPendingSignedIn = authObjectOf(result, { treatPendingAsSignedOut: false }, options)
        return authPendingSignedIn
      }
      if (auth === undefined) auth = authObjectOf(result, { treatPendingAsSignedOut: true }, options)
      return auth
    }
    /** The verified session claims as JSON text (session tokens), for the identity cache. */
    this.claimsJson = () => (signedIn && result.claims != null ? result.claims : null)
    Object.defineProperty(this, 'nativeHeaders', { value: result.headers || null, enumerable: false })
  }

  get headers() {
    const headers = new Headers()
    const list = this.nativeHeaders
    if (list) for (let i = 0; i + 1 < list.length; i += 2) headers.append(list[i], list[i + 1])
    if (this.status !== 'signed-in') {
      // Clerk's withDebugHeaders: each set only when valid as a header value.
      for (const [name, value] of [
        ['x-clerk-auth-message', this.message],
        ['x-clerk-auth-reason', this.reason],
        ['x-clerk-auth-status', this.status],
      ]) {
        if (!value) continue
        try {
          headers.set(name, value)
        } catch {
          // left out, as Clerk does
        }
      }
    }
    Object.defineProperty(this, 'headers', { value: headers, enumerable: true })
    return headers
  }
}

// Options objects are resolved (environment fallbacks, validation, native instance) on first use and reused
// while their fields stay the same (checked on every call); environment variables are read at that first use.
const prepared = memoByOptions((options) => {
  const resolved = resolveAuthOptions(options)
  const autoProxy = autoProxyPath(resolved)
  if (autoProxy) resolved.proxyUrl = autoProxy
  const authenticator = authenticatorFor(resolved)
  const enabled = authenticator.handshakeEnabled
  const checkSatellite = resolved.isSatellite && resolved.acceptsToken !== 'm2m_token'
  return {
    resolved,
    authenticator,
    enabled,
    checkSatellite,
    orgTargetOf: enabled ? organizationMatcher(resolved.organizationSyncOptions) : null,
    relativeProxy: typeof resolved.proxyUrl === 'string' && resolved.proxyUrl.startsWith('/'),
  }
})

/**
 * `authenticateRequest(request, options)`: the token comes from `Authorization` (`Bearer <t>` or a bare token)
 * or the `__session` cookie (suffixed or not, as Clerk chooses); `acceptsToken` (default `'session_token'`) routes
 * session JWTs and machine tokens. With a publishable key, Clerk's handshake family applies: document requests
 * that need a session sync get `status: 'handshake'` with a `Location` to the Frontend API, handshake nonces are
 * resolved and expired sessions refreshed through the Backend API. Resolves to Clerk's RequestState (`status`,
 * `reason`, `message`, `isAuthenticated`, `headers`, `toAuth()`, ...).
 * @param {Request | { url?: string, method?: string, headers: object }} request
 * @param {import('../index').AuthenticateRequestOptions} [options]
 */
async function authenticateRequest(request, options) {
  if (request == null || typeof request !== 'object') throw new TypeError('clerk-native: authenticateRequest needs a request')
  const p = prepared(options)
  const headers = request.headers
  const anyCase = !Array.isArray(request.rawHeaders)
  if (p.checkSatellite) assertSatellite(p.resolved, headerOf(headers, 'origin', anyCase))
  const authorization = headerOf(headers, 'authorization', anyCase) ?? null
  const cookie = headerOf(headers, 'cookie', anyCase) ?? null
  const method = typeof request.method === 'string' ? request.method : 'GET'
  let url = null
  let facts = null
  if (p.enabled) {
    // The facts matter only to a request eligible for a handshake or one whose URL may carry a __clerk_* parameter
    // (checked on the raw URL or path, before building anything).
    const raw = typeof request.originalUrl === 'string' ? request.originalUrl : request.url
    let wanted = typeof raw === 'string' && raw.includes('?') && (raw.includes('clerk') || raw.includes('%'))
    if (!wanted && method === 'GET') {
      const dest = headerOf(headers, 'sec-fetch-dest', anyCase)
      if (dest) wanted = dest === 'document' || dest === 'iframe'
      else {
        const accept = headerOf(headers, 'accept', anyCase)
        wanted = typeof accept === 'string' && accept.startsWith('text/html')
      }
    }
    if (wanted) {
      url = rawUrlOf(request, headers, anyCase)
      facts = requestFacts(url, headers, anyCase, p.orgTargetOf)
    }
  }
  const now = p.authenticator.authenticateSync(authorization, cookie, method, facts ?? undefined)
  if (typeof now === 'string') return stateOf(compactSessionResult(now, authorization, cookie), p, request, url, headers, anyCase)
  // A pending step (key fetch or Backend API call) continues where the synchronous part stopped.
  let result = now
  if (typeof now.finish === 'function') {
    if (p.enabled && url === null) url = rawUrlOf(request, headers, anyCase)
    const allFacts = url === null ? undefined : facts ?? requestFacts(url, headers, anyCase, p.orgTargetOf)
    result = await now.finish(allFacts, url === null ? undefined : headerList(headers))
  }
  return stateOf(result, p, request, url, headers, anyCase)
}

function stateOf(result, p, request, url, headers, anyCase) {
  if (result.thrown != null) throw new Error(result.thrown)
  let proxyUrl = p.resolved.proxyUrl || ''
  if (p.relativeProxy) {
    const raw = url ?? rawUrlOf(request, headers, anyCase)
    proxyUrl = `${derivedOrigin(raw, headers, anyCase)}${proxyUrl}`
  }
  return new RequestState(result, p.resolved, proxyUrl)
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

module.exports = { authenticateRequest, resolveAuthOptions, signedOutAuth, clerkUrlOf }
