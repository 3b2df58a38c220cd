import next from './next.js'

export const {
  clerkMiddleware,
  createRouteMatcher,
  auth,
  currentUser,
  getAuth,
  clerkClient,
  createClerkClient,
  verifyToken,
  authenticateRequest,
  clerkFrontendApiProxy,
  createFrontendApiProxyHandlers,
  frontendApiProxyMiddleware,
} = next
export default next
