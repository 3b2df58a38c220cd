'use strict'
// clerk-native/express: Express 4/5 middleware. The Frontend API proxy branch runs before anything else;
// authentication (authenticateRequest) comes after it and exposes `req.auth` / `getAuth(req)`.

require('./lib/native') // first: loads the native binding with a clear error when it cannot
const { defaultProxy, normalizeProxyPath, assertConfiguration, isValidHost, matchesProxyTarget, ALL_CHECKS } = require('./lib/proxy')
const { validateProxyOptions } = require('./lib/options')
const { sendNodeError } = require('./lib/errors')
const { authenticateRequest, resolveAuthOptions, clerkUrlOf } = require('./lib/auth')
const { getAuthObjectForAcceptedToken } = require('./lib/auth-object')
const { nativeVerifyOptions, verifyToken } = require('./lib/token')
const { resolveIdentity, organizationRefusal } = require('./lib/identity')
const { snapshotOf, matchesSnapshot } = require('./lib/memo')
const { env } = require('./lib/env')
const { createClerkClient, lazyClerkClient, isNativeClient } = require('./lib/client')
const { version } = require('./package.json')

const AUTH_BRAND = Symbol.for('clerk-native.express.auth')
// Options of clerkMiddleware that are not authenticateRequest options.
const NON_AUTH_OPTIONS = [
  'frontendApiProxy',
  'timeoutMs',
  'idleTimeoutMs',
  'trustForwardedHeaders',
  'maxConnections',
  'fapiUrl',
  'debug',
  'resolveUser',
  'organizationId',
  'unauthenticated',
]

function proxyOptionsOf(options, proxyPath) {
  return {
    proxyPath,
    publishableKey: options.publishableKey,
    secretKey: options.secretKey,
    fapiUrl: options.fapiUrl,
    timeoutMs: options.timeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    trustForwardedHeaders: options.trustForwardedHeaders,
    maxConnections: options.maxConnections,
  }
}

function validateFrontendApiProxy(cfg) {
  if (cfg == null) return
  if (typeof cfg !== 'object') throw new TypeError('clerk-native: frontendApiProxy must be an object { enabled, path? }')
  const e = cfg.enabled
  if (e != null && typeof e !== 'boolean' && typeof e !== 'function') {
    throw new TypeError('clerk-native: frontendApiProxy.enabled must be a boolean or a function (url: URL) => boolean')
  }
  if (cfg.path != null && typeof cfg.path !== 'string') throw new TypeError('clerk-native: frontendApiProxy.path must be a string')
}

/**
 * Creates the proxy handler shared by clerkMiddleware and frontendApiProxy. Returns a function
 * `(req, res) => boolean` that handles the request when it is for the proxy (true) or leaves it (false).
 */
function createProxyBranch(options, cfg) {
  const proxyPath = normalizeProxyPath(cfg.path)
  const enabled = cfg.enabled
  const proxyOptions = proxyOptionsOf(options, proxyPath)
  // Option types (TypeError) and, when the proxy can be on, missing keys / invalid secretKey / fapiUrl (Error
  // with code proxy_configuration_error), with environment fallbacks as they are now.
  const proxy = defaultProxy(proxyOptions)
  if (enabled) assertConfiguration(proxy, proxyOptions, undefined, ALL_CHECKS)
  return function proxyBranch(req, res) {
    if (!enabled) return false
    const target = req.originalUrl || req.url || '/'
    if (target.charCodeAt(0) !== 47 || target.charCodeAt(1) === 47) {
      // absolute-form, authority-form, '*' or '//host': never let the client pick where we connect.
      sendNodeError(res, 400, 'proxy_request_failed', 'Invalid request target')
      return true
    }
    const rawHost = req.headers.host
    const host = rawHost === undefined || rawHost === '' ? 'localhost' : rawHost
    const underProxyPath = matchesProxyTarget(target, proxyPath)
    if (underProxyPath === null) return false // not a path we could ever proxy
    if (!isValidHost(host)) {
      // Only the proxy answers for a bad Host; every other route is the app's business.
      if (!underProxyPath) return false
      sendNodeError(res, 400, 'proxy_request_failed', 'Invalid Host header')
      return true
    }
    if (typeof enabled === 'function') {
      let url
      try {
        url = new URL(target, 'http://' + host)
      } catch {
        if (!underProxyPath) return false
        sendNodeError(res, 400, 'proxy_request_failed', 'Invalid request target')
        return true
      }
      if (!enabled(url)) return false
    }
    if (!underProxyPath) return false
    const proto = req.protocol || (req.socket && req.socket.encrypted ? 'https' : 'http')
    defaultProxy(proxyOptions).pipeNode(req, res, `${proto}://${host}${target}`)
    return true
  }
}

// The handshake-family options an adapter resolves against the request URL before authenticateRequest (CONTRACT:
// plain values there), and the options of clerkMiddleware that are not authenticateRequest options.
const CLERK_ONLY_OPTIONS = ['clerkClient', 'isSatellite', 'domain', 'proxyUrl']
const DEPRECATION_REQUIRE_AUTH = 'Use `clerkMiddleware()` with `getAuth()` instead. `requireAuth` will be removed in the next major version.'

let warnedForeignAuth = false
let warnedRequireAuth = false

/** Clerk's `handleValueOrFn`: a function is called with the URL, a defined value is used, else the default. */
function valueOrFn(value, url, fallback) {
  if (typeof value === 'function') return value(url)
  return value !== undefined ? value : fallback
}

/** Clerk's `isTruthy` for CLERK_IS_SATELLITE. */
function truthy(v) {
  if (v == null) return false
  const s = String(v).toLowerCase()
  if (s === 'true') return true
  if (s === 'false') return false
  const n = Number.parseInt(s, 10)
  return !Number.isNaN(n) && n > 0
}

/**
 * The request's absolute URL as Clerk's ClerkRequest derives it: origin from the first `X-Forwarded-Host` /
 * `X-Forwarded-Proto` value, else `Host` and the socket's protocol; path from `originalUrl || url`.
 */
function requestUrlOf(req) {
  const h = req.headers
  if (h != null && typeof h.get === 'function' && typeof req.url === 'string') {
    // A Web Request: its own URL, with the forwarded origin as Clerk's ClerkRequest derives it.
    return clerkUrlOf(req.url, (name) => h.get(name))
  }
  const first = (v) => (v == null ? undefined : String(Array.isArray(v) ? v[0] : v).split(',')[0])
  const host = first(h['x-forwarded-host']) ?? h.host
  const proto = first(h['x-forwarded-proto']) ?? (req.socket && req.socket.encrypted ? 'https' : 'http')
  const path = req.originalUrl || req.url || '/'
  const fallback = `${req.socket && req.socket.encrypted ? 'https' : 'http'}://clerk-dummy`
  try {
    return new URL(path, host && proto ? `${proto}://${host}` : fallback)
  } catch {
    return new URL(path.charCodeAt(0) === 47 && path.charCodeAt(1) !== 47 ? path : '/', fallback)
  }
}

/** Clerk's `absoluteProxyUrl`: a relative proxy URL (starting with '/') made absolute against the request URL. */
function absoluteProxyUrl(proxyUrl, url) {
  if (typeof proxyUrl !== 'string' || proxyUrl === '' || !proxyUrl.startsWith('/')) return proxyUrl
  return new URL(proxyUrl, url).toString()
}

/**
 * Builds the per-request resolution of the handshake-family options (function-valued `isSatellite`, `domain`,
 * `proxyUrl`; a relative `proxyUrl`; the proxy path as `proxyUrl` when the Frontend API proxy is on), or null when
 * nothing depends on the request and `base` can be used as it is. Results are reused per distinct value set.
 */
function requestOptionsResolver(options, base, proxyPath) {
  const { isSatellite, domain, proxyUrl, frontendApiProxy } = options
  const proxyEnabled = frontendApiProxy ? frontendApiProxy.enabled : false
  const deriveProxyUrl = !!proxyEnabled && !proxyUrl
  const dynamic =
    typeof isSatellite === 'function' ||
    typeof domain === 'function' ||
    typeof proxyUrl === 'function' ||
    (typeof proxyUrl === 'string' && proxyUrl.startsWith('/')) ||
    (proxyUrl === undefined && (env('CLERK_PROXY_URL') || '').startsWith('/')) ||
    deriveProxyUrl
  const secretKey = options.secretKey || env('CLERK_SECRET_KEY') || ''
  if (!dynamic) {
    // Static values: Clerk's satellite assertions are evaluated once; as Clerk's, a failing one fails each request
    // (next(err)), not the app's start.
    try {
      assertSatellite(isSatellite ?? truthy(env('CLERK_IS_SATELLITE')), proxyUrl || env('CLERK_PROXY_URL'), domain || env('CLERK_DOMAIN'), options.signInUrl || env('CLERK_SIGN_IN_URL'), secretKey)
    } catch (err) {
      return () => {
        throw err
      }
    }
    return null
  }
  const byKey = new Map()
  return function resolve(req) {
    const url = requestUrlOf(req)
    const sat = valueOrFn(isSatellite, url, truthy(env('CLERK_IS_SATELLITE')))
    const dom = valueOrFn(domain, url) || env('CLERK_DOMAIN') || ''
    let proxy = valueOrFn(proxyUrl, url, env('CLERK_PROXY_URL') || '')
    if (deriveProxyUrl && proxyEnabledFor(proxyEnabled, req)) proxy = proxyPath
    proxy = absoluteProxyUrl(proxy, url)
    assertSatellite(sat, proxy, dom, options.signInUrl || env('CLERK_SIGN_IN_URL'), secretKey)
    const key = `${sat ? 1 : 0}\u0000${dom}\u0000${proxy}`
    let o = byKey.get(key)
    if (o === undefined) {
      if (byKey.size >= 256) byKey.delete(byKey.keys().next().value)
      o = { ...base, isSatellite: !!sat, domain: dom || undefined, proxyUrl: proxy || undefined }
      byKey.set(key, o)
    }
    return o
  }
}

/**
 * Whether the Frontend API proxy is on for this request (for the derived `proxyUrl`): `enabled` itself, or its
 * function called with the request URL as the proxy branch builds it. A request whose URL cannot be built (a
 * malformed Host) derives nothing: it is not proxied either, and the route still runs.
 */
function proxyEnabledFor(enabled, req) {
  if (typeof enabled !== 'function') return !!enabled
  let url
  try {
    url = new URL(req.originalUrl || req.url || '/', 'http://' + (req.headers.host || 'localhost'))
  } catch {
    return false
  }
  return !!enabled(url)
}

/** Clerk's satellite assertions (messages as @clerk/express's). */
function assertSatellite(isSatellite, proxyUrl, domain, signInUrl, secretKey) {
  if (!isSatellite) return
  if (!proxyUrl && !domain) throw new Error('Missing domain and proxyUrl. A satellite application needs to specify a domain or a proxyUrl')
  if (!/^https?:\/\//.test(signInUrl || '') && (secretKey.startsWith('test_') || secretKey.startsWith('sk_test_'))) {
    throw new Error(
      '\nInvalid signInUrl. A satellite application requires a signInUrl for development instances.\nCheck if signInUrl is missing from your configuration or if it is not an absolute URL.',
    )
  }
}

/**
 * Appends every RequestState header to the response as Clerk's `setResponseHeaders` does (`Set-Cookie`s stay
 * separate headers) and answers 307 with an empty body when there is a `Location`. Returns true when the response
 * was ended, an Error for a handshake without a Location, else false.
 */
function applyStateHeaders(state, res) {
  const headers = state.headers
  let location = false
  if (headers) {
    headers.forEach((value, name) => {
      res.appendHeader(name, value)
      if (name === 'location') location = true
    })
  }
  if (location) {
    res.statusCode = 307
    res.end()
    return true
  }
  if (state.status === 'handshake') return new Error('Clerk: unexpected handshake without redirect')
  return false
}

/**
 * The per-request middleware of clerkMiddleware / requireAuth for one (object) options value: the proxy branch
 * first, then authentication with every token type accepted, the state's headers on the response, `req.auth`.
 */
function authenticateAndDecorate(options) {
  validateProxyOptions(proxyOptionsOf(options))
  validateFrontendApiProxy(options.frontendApiProxy)
  const proxyPath = options.frontendApiProxy ? normalizeProxyPath(options.frontendApiProxy.path) : undefined
  const proxyBranch = options.frontendApiProxy ? createProxyBranch(options, options.frontendApiProxy) : null
  const authOptions = { ...options, acceptsToken: 'any' }
  for (const key of NON_AUTH_OPTIONS) delete authOptions[key]
  for (const key of CLERK_ONLY_OPTIONS) delete authOptions[key]
  if (typeof options.isSatellite !== 'function' && options.isSatellite !== undefined) authOptions.isSatellite = options.isSatellite
  if (typeof options.domain !== 'function' && options.domain !== undefined) authOptions.domain = options.domain
  if (typeof options.proxyUrl !== 'function' && options.proxyUrl !== undefined) authOptions.proxyUrl = options.proxyUrl
  // Validate now, environment fallbacks included (a garbage CLERK_JWT_KEY throws here, naming it).
  nativeVerifyOptions(resolveAuthOptions(authOptions))
  const perRequest = requestOptionsResolver(options, authOptions, proxyPath)
  const client = isNativeClient(options.clerkClient) ? options.clerkClient : null
  const authenticate = client !== null ? (req, o) => client.authenticateRequest(req, o) : authenticateRequest
  const { resolveUser, organizationId } = options
  if (resolveUser != null && typeof resolveUser !== 'function') throw new TypeError('clerk-native: resolveUser must be a function (auth) => user')
  if (organizationId != null && typeof organizationId !== 'string') throw new TypeError('clerk-native: organizationId must be a string')
  return function clerkNativeMiddleware(req, res, next) {
    if (proxyBranch !== null && proxyBranch(req, res)) return
    const existing = req.auth
    if (typeof existing === 'function' && existing[AUTH_BRAND]) {
      next()
      return
    }
    if (existing !== undefined && !warnedForeignAuth) {
      warnedForeignAuth = true
      console.warn(
        'clerk-native: another middleware has already set `req.auth` on this request. Clerk authentication will run anyway and overwrite it. To use another auth library alongside Clerk, configure it to store its state on a different request property.',
      )
    }
    let opts = authOptions
    if (perRequest !== null) {
      try {
        opts = perRequest(req)
      } catch (err) {
        next(err)
        return
      }
    }
    authenticate(req, opts)
      .then((state) => {
        const ended = applyStateHeaders(state, res)
        if (ended instanceof Error) return next(ended)
        if (ended || res.writableEnded) return
        // organizationId is enforced on every authenticated request, every token type, before the route runs.
        const refusal = organizationRefusal(state, organizationId)
        if (refusal !== null) {
          sendIdentityError(res, refusal)
          return
        }
        const auth = attachAuth(req, state)
        if (!resolveUser || !auth.isAuthenticated || state.tokenType !== 'session_token') {
          if (resolveUser) {
            auth.user = null
            req.auth.user = null
          }
          next()
          return
        }
        resolveIdentity(state, resolveUser, organizationId).then(
          (user) => {
            auth.user = user
            req.auth.user = user
            next()
          },
          (err) => {
            if (err && err.name === 'IdentityError') sendIdentityError(res, err)
            else next(err)
          },
        )
      })
      // Anything thrown while attaching or resolving goes to Express's error handling, never unhandled.
      .catch(next)
  }
}

/** Middlewares built for the option objects a `(req) => options` callback returned (a few, reused while equal). */
function handlersForCallback() {
  const recent = []
  return (options) => {
    for (const entry of recent) if (entry.options === options && matchesSnapshot(entry.snapshot, options)) return entry.handler
    for (const entry of recent) if (matchesSnapshot(entry.snapshot, options)) return entry.handler
    const handler = authenticateAndDecorate(options)
    if (recent.length >= 8) recent.shift()
    recent.push({ options, snapshot: snapshotOf(options), handler })
    return handler
  }
}

function checkOptionsObject(options, fn) {
  if (options == null || typeof options !== 'object') {
    throw new TypeError(`clerk-native: ${fn} options must be an object, or a function (req) => options | Promise<options>`)
  }
  return options
}

/**
 * `@clerk/express`'s `clerkMiddleware(options | (req) => options | Promise<options>)`. With
 * `frontendApiProxy: { enabled, path }`, requests under the proxy path are streamed to Clerk's Frontend API before
 * authentication; every other request is authenticated (every token type: `acceptsToken` is always `'any'`, as
 * Clerk's; filter with `getAuth(req, { acceptsToken })`), the RequestState's headers (`x-clerk-auth-*`,
 * `Set-Cookie`, `Location`) are appended to the response, a `Location` is answered 307, and `req.auth` (callable:
 * `req.auth({ treatPendingAsSignedOut })`, and carrying the default auth object's fields) is set before `next()`.
 * `debug` is accepted and ignored, as in @clerk/express 2.1.70.
 * @param {import('./express').ClerkMiddlewareOptions | import('./express').ClerkMiddlewareOptionsCallback} [options]
 */
function clerkMiddleware(options = {}) {
  if (typeof options === 'function') {
    const handlerFor = handlersForCallback()
    return function clerkNativeMiddleware(req, res, next) {
      Promise.resolve()
        .then(() => options(req))
        .then((o) => handlerFor(checkOptionsObject(o ?? {}, 'clerkMiddleware'))(req, res, next))
        .catch(next)
    }
  }
  return authenticateAndDecorate(checkOptionsObject(options, 'clerkMiddleware'))
}

/** Answers an IdentityError as JSON `{"errors":[{code, message}]}` with its status (401/403), never cached. */
function sendIdentityError(res, err) {
  sendNodeError(res, err.status, err.code, err.message)
}

/**
 * `req.auth`: a branded function `(options?) => state.toAuth(options)` (`treatPendingAsSignedOut`, default true),
 * which also carries the default auth object's fields (the @clerk/express 1.x `req.auth.userId` style).
 */
function attachAuth(req, state) {
  const authObject = state.toAuth()
  const auth = (opts) => (opts == null ? authObject : state.toAuth(opts))
  // defineProperty, not Object.assign: a function's own `name` and `length` are read-only, and machine auth
  // objects carry a `name` (Object.assign threw, as an unhandled rejection that took the process down).
  for (const k of Object.keys(authObject)) {
    Object.defineProperty(auth, k, { value: authObject[k], writable: true, enumerable: true, configurable: true })
  }
  // The function's own `name` ('auth') is not an auth-object field: only a machine object's `name` shows there.
  if (!Object.prototype.hasOwnProperty.call(authObject, 'name')) Object.defineProperty(auth, 'name', { value: undefined, configurable: true })
  auth[AUTH_BRAND] = true
  Object.defineProperty(req, 'auth', { value: auth, writable: true, configurable: true, enumerable: true })
  return authObject
}

/**
 * `@clerk/express`'s `getAuth(req, { acceptsToken = 'session_token', treatPendingAsSignedOut = true })`: the auth
 * object of a request that went through `clerkMiddleware()` or `requireAuth()` (throws otherwise), filtered by
 * Clerk's `getAuthObjectForAcceptedToken`: a token of another type gives a signed-out session object
 * (`'session_token'`), an unauthenticated machine object of the requested type, or (arrays) an invalid-token
 * object with `tokenType: null`. A plain `getAuth(req)` therefore never returns an API key or M2M token.
 * @param {import('http').IncomingMessage} req
 * @param {{ acceptsToken?: string | string[], treatPendingAsSignedOut?: boolean }} [options]
 */
function getAuth(req, options) {
  if (!req || typeof req.auth !== 'function' || !req.auth[AUTH_BRAND]) {
    throw new Error('clerk-native: getAuth(req) needs clerkMiddleware() (or requireAuth()) to run before it: mount it with app.use(clerkMiddleware()).')
  }
  return getAuthObjectForAcceptedToken(req.auth(options), options == null ? undefined : options.acceptsToken)
}

/** Express's `res.redirect(url)` (302, `Found. Redirecting to …`), or the same by hand outside Express. */
function redirect(res, url) {
  if (typeof res.redirect === 'function') {
    res.redirect(url)
    return
  }
  const body = `Found. Redirecting to ${url}`
  res.writeHead(302, { location: encodeURI(url), 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/**
 * `@clerk/express`'s (deprecated) `requireAuth(options)`: authenticates by itself when `clerkMiddleware()` did not
 * run (every clerkMiddleware option, handshake 307 included), then lets requests with a `userId` through (a user's
 * API key too; pending sessions and M2M tokens have none) and redirects the others with Express's `res.redirect`
 * (302) to `signInUrl`, else `CLERK_SIGN_IN_URL`, else `/`. Logs Clerk's deprecation warning once (not when
 * NODE_ENV is `test` or `production`, as Clerk).
 *
 * clerk-native extra: `unauthenticated: 'json'` answers 401 `{"errors":[{"code":"unauthenticated",...}]}` with
 * `Cache-Control: no-store` instead of the redirect (for APIs).
 * @param {import('./express').RequireAuthOptions} [options]
 */
function requireAuth(options = {}) {
  checkOptionsObject(options, 'requireAuth')
  const { unauthenticated, ...middlewareOptions } = options
  if (unauthenticated !== undefined && unauthenticated !== 'redirect' && unauthenticated !== 'json') {
    throw new TypeError("clerk-native: requireAuth option unauthenticated must be 'redirect' (default, as Clerk) or 'json' (401 JSON)")
  }
  if (options.signInUrl != null && typeof options.signInUrl !== 'string') throw new TypeError('clerk-native: requireAuth option signInUrl must be a string')
  const authMiddleware = authenticateAndDecorate(middlewareOptions)
  return function clerkNativeRequireAuth(req, res, next) {
    if (!warnedRequireAuth) {
      warnedRequireAuth = true
      const nodeEnv = env('NODE_ENV')
      if (nodeEnv !== 'test' && nodeEnv !== 'production') {
        console.warn(`Clerk - DEPRECATION WARNING: "requireAuth" is deprecated and will be removed in the next major release.\n${DEPRECATION_REQUIRE_AUTH}`)
      }
    }
    authMiddleware(req, res, (err) => {
      if (err) return next(err)
      let userId
      try {
        userId = req.auth().userId
      } catch (e) {
        return next(e)
      }
      if (userId) return next()
      if (unauthenticated === 'json') return sendNodeError(res, 401, 'unauthenticated', 'Unauthenticated')
      redirect(res, options.signInUrl || env('CLERK_SIGN_IN_URL') || '/')
    })
  }
}

/**
 * `authenticateRequest` as `@clerk/express` exports it, `({ clerkClient, request, options })`, and as clerk-native's
 * core, `(request, options)`. Resolves function-valued `isSatellite`/`domain`/`proxyUrl` against the request URL and
 * applies Clerk's environment fallbacks, then authenticates (through `clerkClient` when it is one of
 * clerk-native's clients). Resolves to the RequestState; sets nothing on the response.
 */
function expressAuthenticateRequest(requestOrParams, maybeOptions) {
  let request = requestOrParams
  let options = maybeOptions
  let client = null
  if (requestOrParams != null && typeof requestOrParams === 'object' && 'request' in requestOrParams && !('headers' in requestOrParams)) {
    request = requestOrParams.request
    options = requestOrParams.options
    client = isNativeClient(requestOrParams.clerkClient) ? requestOrParams.clerkClient : null
  }
  try {
    const o = options == null ? {} : checkOptionsObject(options, 'authenticateRequest')
    if (client === null && isNativeClient(o.clerkClient)) client = o.clerkClient
    const base = { ...o }
    for (const key of NON_AUTH_OPTIONS) delete base[key]
    for (const key of CLERK_ONLY_OPTIONS) delete base[key]
    const resolve = requestOptionsResolver({ ...o, frontendApiProxy: undefined }, base, undefined)
    let resolved = base
    if (resolve !== null) resolved = resolve(request)
    else {
      for (const key of ['isSatellite', 'domain', 'proxyUrl']) if (o[key] !== undefined) resolved[key] = o[key]
    }
    return client !== null ? client.authenticateRequest(request, resolved) : authenticateRequest(request, resolved)
  } catch (err) {
    return Promise.reject(err)
  }
}

/**
 * The Frontend API proxy alone, as a middleware (`enabled` defaults to true).
 * @param {import('./express').FrontendApiProxyMiddlewareOptions} [options]
 */
function frontendApiProxy(options = {}) {
  if (options == null || typeof options !== 'object') throw new TypeError('clerk-native: frontendApiProxy options must be an object')
  const cfg = { enabled: options.enabled === undefined ? true : options.enabled, path: options.path ?? options.proxyPath }
  validateFrontendApiProxy(cfg)
  const proxyBranch = createProxyBranch(options, cfg)
  return function clerkNativeProxy(req, res, next) {
    if (!proxyBranch(req, res)) next()
  }
}

/**
 * `@clerk/express`'s lazy `clerkClient`: @clerk/backend's Backend API client built from the environment on first
 * property access (see lib/client.js); needs the optional peer `@clerk/backend`.
 */
const clerkClient = lazyClerkClient(`clerk-native@${version}`)

module.exports = {
  clerkMiddleware,
  frontendApiProxy,
  getAuth,
  requireAuth,
  authenticateRequest: expressAuthenticateRequest,
  clerkClient,
  createClerkClient,
  verifyToken,
}
