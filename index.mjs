import core from './index.js'

export const {
  DEFAULT_PROXY_PATH,
  FrontendApiProxy,
  ProxyBodyError,
  clerkFrontendApiProxy,
  proxyRequest,
  matchProxyPath,
  fapiUrlFromPublishableKey,
  stripTrailingSlashes,
  verifyToken,
  TokenVerificationError,
  authenticateRequest,
  createClerkClient,
  cacheStats,
  clearCaches,
  configureCaches,
  invalidateToken,
  invalidateIdentity,
  nativeStats,
} = core
export default core
