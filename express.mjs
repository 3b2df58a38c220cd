import express from './express.js'

export const { clerkMiddleware, frontendApiProxy, getAuth, requireAuth } = express
export default express
