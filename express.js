'use strict'
// clerk-native/express: Express 4/5 middleware. The Frontend API proxy branch runs before anything else;
// authentication comes after it (not implemented yet: requests that are not proxied pass through untouched).

const { defaultProxy, normalizeProxyPath } = require('./lib/proxy')
const { validateProxyOptions } = require('./lib/options')
const { sendNodeError } = require('./lib/errors')

// RFC 3986 host (reg-name, IPv4, IP-literal) with an optional port: anything else cannot be a Host header.
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d*)?$/

function proxyOptionsOf(options, proxyPath) {
  return {
    proxyPath,
    publishableKey: options.publishableKey,
    secretKey: options.secretKey,
    fapiUrl: options.fapiUrl,
    timeoutMs: options.timeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    trustForwardedHeaders: options.trustForwardedHeaders,
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

/** Pathname of an origin-form target, with dot segments and %2e resolved as the WHATWG URL parser does. */
function pathnameOf(target) {
  const q = target.indexOf('?')
  const path = q === -1 ? target : target.slice(0, q)
  if (path.indexOf('.') === -1 && path.indexOf('%') === -1 && path.indexOf('\\') === -1) return path
  return new URL(target, 'http://localhost').pathname
}

/**
 * Creates the proxy handler shared by clerkMiddleware and frontendApiProxy. Returns a function
 * `(req, res) => boolean` that handles the request when it is for the proxy (true) or leaves it (false).
 */
function createProxyBranch(options, cfg) {
  const proxyPath = normalizeProxyPath(cfg.path)
  const enabled = cfg.enabled
  const proxyOptions = proxyOptionsOf(options, proxyPath)
  defaultProxy(proxyOptions) // validate option types now (throws TypeError)
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
    if (!VALID_HOST.test(host)) {
      sendNodeError(res, 400, 'proxy_request_failed', 'Invalid Host header')
      return true
    }
    if (typeof enabled === 'function' && !enabled(new URL(target, 'http://' + host))) return false
    const pathname = pathnameOf(target)
    if (pathname !== proxyPath && !pathname.startsWith(proxyPath + '/')) return false
    const proto = req.protocol || (req.socket && req.socket.encrypted ? 'https' : 'http')
    defaultProxy(proxyOptions).pipeNode(req, res, `${proto}://${host}${target}`)
    return true
  }
}

/**
 * `@clerk/express`-compatible middleware. With `frontendApiProxy: { enabled, path }`, requests under the
 * proxy path are streamed to Clerk's Frontend API before authentication.
 * @param {import('./express').ClerkMiddlewareOptions} [options]
 */
function clerkMiddleware(options = {}) {
  if (options == null || typeof options !== 'object') throw new TypeError('clerk-native: clerkMiddleware options must be an object')
  validateProxyOptions(proxyOptionsOf(options))
  validateFrontendApiProxy(options.frontendApiProxy)
  const proxyBranch = options.frontendApiProxy ? createProxyBranch(options, options.frontendApiProxy) : null
  return function clerkNativeMiddleware(req, res, next) {
    if (proxyBranch !== null && proxyBranch(req, res)) return
    next()
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

module.exports = { clerkMiddleware, frontendApiProxy }
