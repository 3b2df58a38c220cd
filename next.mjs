import next from './next.js'

export const { clerkFrontendApiProxy, createFrontendApiProxyHandlers, frontendApiProxyMiddleware } = next
export default next
