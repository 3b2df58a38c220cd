'use strict'
// clerk-native: public core entry (CommonJS). See index.d.ts for the documented API.

require('./lib/native') // first: loads the native binding with a clear error when it cannot (glibc floor, missing package)
const proxy = require('./lib/proxy')
const token = require('./lib/token')
const auth = require('./lib/auth')
const caches = require('./lib/caches')
const client = require('./lib/client')
const binding = require('./binding.js')

module.exports = {
  DEFAULT_PROXY_PATH: proxy.DEFAULT_PROXY_PATH,
  FrontendApiProxy: proxy.FrontendApiProxy,
  ProxyBodyError: proxy.ProxyBodyError,
  clerkFrontendApiProxy: (request, options) => proxy.clerkFrontendApiProxy(request, options),
  proxyRequest: proxy.proxyRequest,
  matchProxyPath: proxy.matchProxyPath,
  fapiUrlFromPublishableKey: proxy.fapiUrlFromPublishableKey,
  stripTrailingSlashes,
  verifyToken: token.verifyToken,
  TokenVerificationError: token.TokenVerificationError,
  authenticateRequest: auth.authenticateRequest,
  // @clerk/backend's Backend API client (optional peer, loaded on first call) with our authenticateRequest
  createClerkClient: client.createClerkClient,
  cacheStats: caches.cacheStats,
  clearCaches: caches.clearCaches,
  configureCaches: caches.configureCaches,
  invalidateToken: caches.invalidateToken,
  invalidateIdentity: caches.invalidateIdentity,
  nativeStats: () => binding.nativeStats(),
}

/** Strips any number of trailing '/' (loop, no regex). */
function stripTrailingSlashes(s) {
  let end = s.length
  while (end > 0 && s.charCodeAt(end - 1) === 47) end--
  return s.slice(0, end)
}
