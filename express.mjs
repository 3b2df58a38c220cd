import express from './express.js'

export const { clerkMiddleware, frontendApiProxy, getAuth, requireAuth, authenticateRequest, clerkClient, createClerkClient, verifyToken } = express
export default express
