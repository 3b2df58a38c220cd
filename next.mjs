import next from './next.js'

export const { clerkFrontendApiProxy, createFrontendApiProxyHandlers, frontendApiProxyMiddleware, authenticateRequest, getAuth } = next
export default next
