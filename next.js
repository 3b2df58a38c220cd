'use strict'
// clerk-native/next: the server layer of @clerk/nextjs (`@clerk/nextjs/server` 7.9.17) on clerk-native's core, for
// the Node.js runtime: clerkMiddleware (middleware.ts with runtime 'nodejs' on Next 15.5+, or Next 16's proxy.ts),
// createRouteMatcher, auth() / auth.protect() / currentUser() / clerkClient() in server components, route handlers
// and server actions, getAuth(req) for the Pages Router and API routes, and the Frontend API proxy handlers.
// The pieces live in lib/next/; this file is the public entry (types: next.d.ts).

require('./lib/native') // first: loads the native binding with a clear error when it cannot
const { envPublishableKey } = require('./lib/env')
const { authenticateRequest: coreAuthenticate } = require('./lib/auth')
const { resolveIdentity, organizationRefusal } = require('./lib/identity')
const { verifyToken } = require('./lib/token')
const { clerkFrontendApiProxy, createFrontendApiProxyHandlers, frontendApiProxyMiddleware } = require('./lib/next/proxy')
const { clerkMiddleware } = require('./lib/next/middleware')
const { createRouteMatcher } = require('./lib/next/route-matcher')
const { auth, currentUser, getAuthSync, clerkClient } = require('./lib/next/server')

/**
 * Next flavour of `authenticateRequest` for route handlers and Node.js-runtime middleware: `acceptsToken`
 * defaults to `'any'` (as clerkMiddleware verifies) and the publishable key also comes from
 * NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY. The JWT category check applies on every session path.
 * @param {Request} request
 * @param {import('./next').NextAuthenticateOptions} [options]
 */
function authenticateRequest(request, options = {}) {
  if (options == null || typeof options !== 'object') throw new TypeError('clerk-native: options must be an object')
  return coreAuthenticate(request, {
    ...options,
    acceptsToken: options.acceptsToken === undefined ? 'any' : options.acceptsToken,
    publishableKey: options.publishableKey || envPublishableKey('next'),
  })
}

// The options of Clerk's getAuth(req, opts). Any other option (jwtKey, resolveUser, organizationId, ...) selects
// the verifying form below.
const SYNC_GET_AUTH_OPTIONS = new Set(['acceptsToken', 'treatPendingAsSignedOut', 'secretKey'])

/**
 * `getAuth(req, opts?)`, two forms:
 * - Clerk's (opts absent or only `acceptsToken` / `treatPendingAsSignedOut` / `secretKey`): **synchronous**, the
 *   session auth object clerkMiddleware handed to the route (Pages Router `req`, API routes, route handlers);
 *   throws Clerk's "can't detect usage of clerkMiddleware()" error when the middleware did not run.
 * - the verifying form (any authenticateRequest option such as `jwtKey`, or `resolveUser` / `organizationId`):
 *   a Promise; authenticates the request itself, no middleware needed (clerk-native's earlier getAuth).
 * @param {Request | import('http').IncomingMessage} req
 * @param {object} [options]
 */
function getAuth(req, options) {
  if (options == null || Object.keys(options).every((k) => SYNC_GET_AUTH_OPTIONS.has(k))) return getAuthSync(req, options)
  return verifyAndGetAuth(req, options)
}

/**
 * The auth object of a request, verified here (no middleware needed). With `resolveUser: async (auth) => user`
 * the app's user is resolved through the identity cache into `auth.user` (`organizationId` makes an organization
 * required; a mismatch rejects with an IdentityError before any lookup).
 * @param {Request} request
 * @param {import('./next').NextAuthenticateOptions & { resolveUser?: Function, organizationId?: string }} [options]
 */
async function verifyAndGetAuth(request, options = {}) {
  const { resolveUser, organizationId, ...rest } = options || {}
  if (organizationId != null && typeof organizationId !== 'string') throw new TypeError('clerk-native: organizationId must be a string')
  const state = await authenticateRequest(request, rest)
  // organizationId is enforced for every authenticated request and token type, with or without resolveUser.
  const refusal = organizationRefusal(state, organizationId)
  if (refusal !== null) throw refusal
  const authObject = state.toAuth()
  if (resolveUser) {
    if (typeof resolveUser !== 'function') throw new TypeError('clerk-native: resolveUser must be a function (auth) => user')
    authObject.user = state.isAuthenticated && state.tokenType === 'session_token' ? await resolveIdentity(state, resolveUser, organizationId) : null
  }
  return authObject
}

/**
 * Clerk's `createClerkClient(options)`: @clerk/backend's Backend API client (an optional peer dependency) with
 * clerk-native's authenticateRequest.
 * @param {object} [options]
 */
function createClerkClient(options) {
  return require('./lib/client').createClerkClient(options)
}

module.exports = {
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
}
