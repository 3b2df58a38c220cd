'use strict'
// createClerkClient / clerkClient (API.md §7): the Backend API client is @clerk/backend's own (an optional peer
// dependency, loaded on first use), with its `authenticateRequest` replaced by clerk-native's. Shared by the root
// entry and clerk-native/express.

const { authenticateRequest } = require('./auth')
const { memoByOptions } = require('./memo')
const { env } = require('./env')
const { version } = require('../package.json')

const PEER = '@clerk/backend'
/** Marks clients built here: `clerkMiddleware({ clerkClient })` authenticates through their options. */
const CLIENT_BRAND = Symbol.for('clerk-native.clerkClient')

// The build-time options Clerk's createAuthenticateRequest merges into every authenticateRequest call
// (@clerk/backend `defaultOptions`), plus clerk-native's own key source `jwksUrl`.
const MERGED_KEYS = ['secretKey', 'machineSecretKey', 'jwtKey', 'proxyUrl', 'publishableKey', 'isSatellite', 'domain', 'audience', 'jwksUrl']

let backend
/**
 * `require('@clerk/backend')`, or an Error (code `missing_peer_dependency`) that names the missing peer and the
 * command that installs it. Any other load failure is rethrown as it is.
 */
function loadBackend() {
  if (backend !== undefined) return backend
  try {
    backend = require(PEER)
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(`'${PEER}'`)) {
      const e = new Error(
        `clerk-native: createClerkClient / clerkClient use ${PEER}'s Backend API client, an optional peer dependency that is not installed. ` +
          `Install it next to clerk-native: npm install ${PEER} (verifyToken, authenticateRequest and the middleware work without it).`,
      )
      e.code = 'missing_peer_dependency'
      e.cause = err
      throw e
    }
    throw err
  }
  return backend
}

/**
 * Clerk's `createClerkClient(options)`: `@clerk/backend`'s Backend API client (users, organizations, sessions, …)
 * whose `authenticateRequest(request, options)` is clerk-native's. As Clerk's, each call merges the client's
 * `secretKey`, `machineSecretKey`, `jwtKey`, `proxyUrl`, `publishableKey`, `isSatellite`, `domain`, `audience`
 * (and clerk-native's `jwksUrl`) under the call's own values, and always uses the client's `apiUrl`/`apiVersion`.
 * Throws an Error with code `missing_peer_dependency` when `@clerk/backend` is not installed.
 * @param {import('../index').ClerkClientOptions} [options]
 */
function createClerkClient(options = {}) {
  if (options == null || typeof options !== 'object') throw new TypeError('clerk-native: createClerkClient options must be an object')
  const { createClerkClient: createBackendClient } = loadBackend()
  const build = { ...options }
  const client = createBackendClient({
    ...build,
    sdkMetadata: build.sdkMetadata || { name: 'clerk-native', version, environment: env('NODE_ENV') },
  })
  // One merged object per caller options object (reused while its fields stay the same), so the options memo
  // of lib/auth.js keeps hitting when a caller passes the same object on every request.
  const mergedFor = memoByOptions((runtime) => {
    const merged = { ...runtime }
    for (const k of MERGED_KEYS) merged[k] = runtime[k] || build[k]
    merged.apiUrl = build.apiUrl
    merged.apiVersion = build.apiVersion
    return merged
  })
  const empty = {}
  /**
   * clerk-native's authenticateRequest with this client's options merged in (see createClerkClient).
   * @param {Request | import('http').IncomingMessage} request
   * @param {object} [runtimeOptions]
   */
  client.authenticateRequest = (request, runtimeOptions = empty) => authenticateRequest(request, mergedFor(runtimeOptions ?? empty))
  Object.defineProperty(client, CLIENT_BRAND, { value: true })
  return client
}

/** True for a client made by {@link createClerkClient} (not one made by @clerk/backend directly). */
function isNativeClient(client) {
  return client != null && typeof client === 'object' && client[CLIENT_BRAND] === true
}

/**
 * Clerk's lazy `clerkClient` singleton: built from the environment (`CLERK_SECRET_KEY`, `CLERK_PUBLISHABLE_KEY`,
 * `CLERK_MACHINE_SECRET_KEY`, `CLERK_API_URL` (default `https://api.clerk.com`), `CLERK_API_VERSION` (default
 * `v1`), `CLERK_JWT_KEY`, `CLERK_DOMAIN`, `CLERK_PROXY_URL`, `CLERK_IS_SATELLITE`) on the first property access,
 * and kept once `CLERK_SECRET_KEY` is set (as Clerk's Proxy: without a secret key every access builds afresh).
 * Read-only: assigning a property returns false (a TypeError in strict mode).
 * @param {string} userAgent
 */
function lazyClerkClient(userAgent) {
  let singleton = null
  const build = () => {
    const secretKey = env('CLERK_SECRET_KEY') || ''
    const isSatellite = String(env('CLERK_IS_SATELLITE') || '').toLowerCase()
    const client = createClerkClient({
      secretKey,
      machineSecretKey: env('CLERK_MACHINE_SECRET_KEY') || '',
      publishableKey: env('CLERK_PUBLISHABLE_KEY') || '',
      apiUrl: env('CLERK_API_URL') || 'https://api.clerk.com',
      apiVersion: env('CLERK_API_VERSION') || 'v1',
      jwtKey: env('CLERK_JWT_KEY') || '',
      domain: env('CLERK_DOMAIN') || '',
      proxyUrl: env('CLERK_PROXY_URL') || '',
      isSatellite: isSatellite === 'true' || (isSatellite !== 'false' && Number.parseInt(isSatellite, 10) > 0),
      userAgent,
    })
    if (secretKey) singleton = client
    return client
  }
  return new Proxy(
    {},
    {
      get(_target, property) {
        const client = singleton || build()
        return client[property]
      },
      has(_target, property) {
        return property in (singleton || build())
      },
      set() {
        return false
      },
    },
  )
}

module.exports = { createClerkClient, lazyClerkClient, isNativeClient, loadBackend }
