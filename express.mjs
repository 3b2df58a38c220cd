import express from './express.js'

export const { clerkMiddleware, frontendApiProxy } = express
export default express
