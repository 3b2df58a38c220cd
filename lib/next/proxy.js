'use strict'
// The Frontend API proxy of clerk-native/next: route handlers (`createFrontendApiProxyHandlers`), the Next flavour
// of `clerkFrontendApiProxy`, and the middleware helper (also the `/__clerk` branch of clerkMiddleware).

const { clerkFrontendApiProxy: coreProxy, defaultProxy, normalizeProxyPath, assertConfiguration, isValidHost, underProxyPath, NEXT_CHECKS } = require('../proxy')
const { errorResponse } = require('../errors')

/**
 * Next flavour of `clerkFrontendApiProxy`: the publishable key also comes from
 * NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY.
 * @param {Request} request
 * @param {import('../../next').NextFrontendApiProxyOptions} [options]
 */
function clerkFrontendApiProxy(request, options) {
  return coreProxy(request, options, 'next')
}

/**
 * Route handlers for `app/%5F%5Fclerk/[[...path]]/route.ts` (the URL `/__clerk/*`: App Router folders starting with
 * `_` are private and never routed, `%5F` is the URL-encoded underscore):
 * `export const { GET, POST, ... } = createFrontendApiProxyHandlers()`.
 * @param {import('../../next').NextFrontendApiProxyOptions} [options]
 */
function createFrontendApiProxyHandlers(options) {
  // An invalid secretKey or fapiUrl throws now. Missing keys and bad option types keep answering 500 JSON per
  // request (next.test.js pins that; route modules are also evaluated by `next build`, where keys are often unset).
  let proxy = null
  try {
    proxy = defaultProxy(options, 'next')
  } catch {}
  if (proxy !== null) assertConfiguration(proxy, options, 'next', NEXT_CHECKS)
  const handler = (request) => clerkFrontendApiProxy(request, options)
  return { GET: handler, POST: handler, PUT: handler, DELETE: handler, PATCH: handler, HEAD: handler, OPTIONS: handler }
}

/**
 * For `middleware.ts` with `export const config = { runtime: 'nodejs' }`: returns a function that resolves
 * to the proxied Response for requests under the proxy path, or `undefined` so your middleware continues.
 * `path: '/'` falls back to `/__clerk` (it can never proxy every path).
 * @param {import('../../next').FrontendApiProxyMiddlewareOptions} [options]
 */
function frontendApiProxyMiddleware(options = {}) {
  if (options == null || typeof options !== 'object') throw new TypeError('clerk-native: options must be an object')
  const enabled = options.enabled === undefined ? true : options.enabled
  if (typeof enabled !== 'boolean' && typeof enabled !== 'function') {
    throw new TypeError('clerk-native: enabled must be a boolean or a function (url: URL) => boolean')
  }
  const rawPath = options.path ?? options.proxyPath
  if (rawPath != null && typeof rawPath !== 'string') throw new TypeError('clerk-native: path must be a string')
  const proxyPath = normalizeProxyPath(rawPath)
  const proxyOptions = { ...options, proxyPath }
  delete proxyOptions.enabled
  delete proxyOptions.path
  // Option types throw a TypeError now; an invalid secretKey or fapiUrl an Error with code
  // proxy_configuration_error. Missing keys stay a per-request 500 JSON (next.test.js pins that).
  const proxy = defaultProxy(proxyOptions, 'next')
  if (enabled) assertConfiguration(proxy, proxyOptions, 'next', NEXT_CHECKS)
  return async function clerkNativeProxyMiddleware(request) {
    if (!enabled) return undefined
    let href
    let url = null
    try {
      href = String(request.nextUrl ? request.nextUrl.href : request.url)
      url = new URL(href)
    } catch {}
    if (url === null || !isValidHost(url.host)) {
      // A URL (Host) the core would refuse: only the proxy path answers, with 400; other routes are left alone.
      const pathname = url !== null ? url.pathname : rawPathname(href)
      if (!underProxyPath(pathname, proxyPath)) return undefined
      return errorResponse(400, 'proxy_request_failed', 'Invalid Host header')
    }
    if (typeof enabled === 'function' && !enabled(url)) return undefined
    if (!underProxyPath(url.pathname, proxyPath)) return undefined
    try {
      return await defaultProxy(proxyOptions, 'next').handle(request)
    } catch (err) {
      return errorResponse(500, 'proxy_configuration_error', err.message)
    }
  }
}

/** The path of an absolute URL string that `new URL` refused (`/` when there is none). */
function rawPathname(href) {
  const m = typeof href === 'string' ? /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/.exec(href) : null
  return m && m[1] ? m[1] : '/'
}

module.exports = { clerkFrontendApiProxy, createFrontendApiProxyHandlers, frontendApiProxyMiddleware }
