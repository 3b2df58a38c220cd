'use strict'
// clerk-native/express: Express 4/5 middleware. The Frontend API proxy branch runs before anything else;
// authentication (authenticateRequest) comes after it and exposes `req.auth` / `getAuth(req)`.

require('./lib/native') // first: loads the native binding with a clear error when it cannot
const { defaultProxy, normalizeProxyPath, assertConfiguration, isValidHost, matchesProxyTarget, ALL_CHECKS } = require('./lib/proxy')
const { validateProxyOptions } = require('./lib/options')
const { sendNodeError } = require('./lib/errors')
const { authenticateRequest, signedOutAuth, resolveAuthOptions } = require('./lib/auth')
const { nativeVerifyOptions } = require('./lib/token')
const { resolveIdentity, organizationRefusal } = require('./lib/identity')

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

/**
 * `@clerk/express`-compatible middleware. With `frontendApiProxy: { enabled, path }`, requests under the
 * proxy path are streamed to Clerk's Frontend API before authentication; every other request is authenticated
 * (`authenticateRequest`) and gets `req.auth` (callable, and carrying the auth object's fields) before `next()`.
 * @param {import('./express').ClerkMiddlewareOptions} [options]
 */
function clerkMiddleware(options = {}) {
  if (options == null || typeof options !== 'object') throw new TypeError('clerk-native: clerkMiddleware options must be an object')
  validateProxyOptions(proxyOptionsOf(options))
  validateFrontendApiProxy(options.frontendApiProxy)
  const proxyBranch = options.frontendApiProxy ? createProxyBranch(options, options.frontendApiProxy) : null
  const authOptions = { ...options }
  for (const key of NON_AUTH_OPTIONS) delete authOptions[key]
  // Validate now, environment fallbacks included (a garbage CLERK_JWT_KEY throws here, naming it).
  nativeVerifyOptions(resolveAuthOptions(authOptions))
  const { resolveUser, organizationId } = options
  if (resolveUser != null && typeof resolveUser !== 'function') throw new TypeError('clerk-native: resolveUser must be a function (auth) => user')
  if (organizationId != null && typeof organizationId !== 'string') throw new TypeError('clerk-native: organizationId must be a string')
  return function clerkNativeMiddleware(req, res, next) {
    if (proxyBranch !== null && proxyBranch(req, res)) return
    if (typeof req.auth === 'function' && req.auth[AUTH_BRAND]) {
      next()
      return
    }
    authenticateRequest(req, authOptions)
      .then((state) => {
        // organizationId is enforced on every authenticated request, every token type, before the route runs.
        const refusal = organizationRefusal(state, organizationId)
        if (refusal !== null) {
          sendIdentityError(res, refusal)
          return
        }
        const auth = attachAuth(req, state)
        if (!resolveUser || !state.isAuthenticated || state.tokenType !== 'session_token') {
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

/** Answers an IdentityError as JSON `{"errors":[{code, message}]}` with its status (401/403), never cached. */
function sendIdentityError(res, err) {
  sendNodeError(res, err.status, err.code, err.message)
}

/** `req.auth`: a function returning the auth object, which also carries its fields (legacy object access). */
function attachAuth(req, state) {
  const authObject = state.toAuth()
  const auth = () => authObject
  // defineProperty, not Object.assign: a function's own `name` and `length` are read-only, and machine auth
  // objects carry a `name` (Object.assign threw, as an unhandled rejection that took the process down).
  for (const k of Object.keys(authObject)) {
    Object.defineProperty(auth, k, { value: authObject[k], writable: true, enumerable: true, configurable: true })
  }
  auth[AUTH_BRAND] = true
  Object.defineProperty(req, 'auth', { value: auth, writable: true, configurable: true, enumerable: true })
  return authObject
}

/**
 * The auth object of a request that went through `clerkMiddleware()`. With `acceptsToken`, a token of another
 * type gives a signed-out object of the accepted type.
 * @param {import('http').IncomingMessage} req
 * @param {{ acceptsToken?: string | string[] }} [options]
 */
function getAuth(req, options) {
  if (!req || typeof req.auth !== 'function' || !req.auth[AUTH_BRAND]) {
    throw new Error('clerk-native: getAuth(req) needs clerkMiddleware() to run before it (mount it with app.use(clerkMiddleware())).')
  }
  const auth = req.auth()
  const accepts = options && options.acceptsToken
  if (accepts === undefined || accepts === 'any') return auth
  const list = Array.isArray(accepts) ? accepts : [accepts]
  if (list.includes('any') || list.includes(auth.tokenType)) return auth
  return signedOutOf(list[0])
}

function signedOutOf(tokenType) {
  // the same shape as the signed-out objects of authenticateRequest (lib/auth.js)
  return signedOutAuth(tokenType, 'token-type-mismatch', '')
}

/**
 * Rejects requests that are not authenticated: 401 JSON `{"errors":[{"code":"unauthenticated",...}]}` (APIs),
 * or a redirect to `signInUrl` when one is given.
 * @param {{ signInUrl?: string, acceptsToken?: string | string[] }} [options]
 */
function requireAuth(options = {}) {
  if (options == null || typeof options !== 'object') throw new TypeError('clerk-native: requireAuth options must be an object')
  const signInUrl = options.signInUrl
  if (signInUrl != null && typeof signInUrl !== 'string') throw new TypeError('clerk-native: requireAuth signInUrl must be a string')
  return function clerkNativeRequireAuth(req, res, next) {
    let auth
    try {
      auth = getAuth(req, options)
    } catch (err) {
      next(err)
      return
    }
    if (auth.isAuthenticated) {
      next()
      return
    }
    if (signInUrl) {
      res.statusCode = 302
      res.setHeader('location', signInUrl)
      res.setHeader('cache-control', 'no-store')
      res.end()
      return
    }
    sendNodeError(res, 401, 'unauthenticated', 'Unauthenticated')
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

module.exports = { clerkMiddleware, frontendApiProxy, getAuth, requireAuth }
