'use strict'
// The server side of clerk-native/next: auth() and auth.protect() in server components, route handlers and server
// actions, currentUser(), the synchronous getAuth(req) of the Pages Router and API routes, and clerkClient().
// They read the signed hand-off clerkMiddleware leaves on the request (./handoff.js); without it they throw
// Clerk's "can't detect usage of clerkMiddleware()" error. `next/headers` is loaded on first use, so this module
// loads without Next.

const { AsyncLocalStorage } = require('node:async_hooks')
const cfg = require('./config')
const errors = require('./errors')
const { headerReader, cookieValue } = require('./request')
const { readHandoff } = require('./handoff')
const { createRedirect } = require('./redirect')
const { createProtect } = require('./protect')
const ao = require('./auth-objects')

/** The middleware's setup while its handler runs (clerkClient() inside the handler uses its keys). */
const middlewareStorage = new AsyncLocalStorage()

let nextHeaders
async function requestHeaders(helperName) {
  if (nextHeaders === undefined) {
    try {
      nextHeaders = require('next/headers').headers
    } catch (err) {
      throw errors.codedError('next_missing', `clerk-native: ${helperName}() needs Next.js (next/headers could not be loaded: ${err.message}); it works in server components, route handlers and server actions of a Next app`)
    }
  }
  return headerReader(await nextHeaders())
}

function payloadOfToken(token) {
  const part = token.split('.')[1]
  if (!part) return null
  try {
    return Buffer.from(part, 'base64url').toString('utf8')
  } catch {
    return null
  }
}

function signedOut(handoff) {
  return ao.signedOutSession(handoff?.reason ?? null, handoff?.message ?? null)
}

/**
 * Clerk's `getSessionAuthDataFromRequest`: session tokens only (a machine token or a refused token type is the
 * signed-out session object).
 */
function sessionAuthData(handoff, { acceptsToken = 'session_token', treatPendingAsSignedOut = true } = {}) {
  if (!ao.isTokenTypeAccepted('session_token', acceptsToken)) return signedOut(handoff)
  if (handoff.status !== 'signed-in' || handoff.tokenType !== 'session_token' || !handoff.token) return signedOut(handoff)
  const claims = payloadOfToken(handoff.token)
  if (claims === null) return signedOut(handoff)
  const { secretKey, apiUrl, apiVersion } = handoff.config
  return ao.sessionAuthObject(handoff.token, claims, { treatPendingAsSignedOut }, { secretKey, apiUrl, apiVersion })
}

/** Clerk's `getAuthDataFromRequest`: machine tokens by the accepted types, else {@link sessionAuthData}. */
function authData(handoff, opts = {}) {
  const acceptsToken = opts.acceptsToken || 'session_token'
  const machineToken = ao.isMachineType(handoff.tokenType)
  const onlySession = acceptsToken === 'session_token' || (Array.isArray(acceptsToken) && acceptsToken.length === 1 && acceptsToken[0] === 'session_token')
  if (machineToken && handoff.machine && !onlySession) {
    const raw = ao.machineAuthObject(handoff.machine, handoff.token)
    const filtered = ao.forAcceptedToken(raw, acceptsToken)
    return {
      ...filtered,
      getToken: () => Promise.resolve(filtered.isAuthenticated ? handoff.token : null),
      has: () => false,
    }
  }
  if (machineToken) return signedOut(handoff)
  if (handoff.token && handoff.tokenType && Array.isArray(acceptsToken) && !acceptsToken.includes('session_token')) {
    return ao.invalidTokenAuthObject()
  }
  return sessionAuthData(handoff, { ...opts, acceptsToken })
}

/** The redirect helpers of a server-side session auth object (Next's redirect, 307). */
function serverRedirects(handoff, get, authObject) {
  const make = (opts) => {
    const returnBackUrl = opts?.returnBackUrl === null ? '' : opts?.returnBackUrl || handoff.clerkUrl
    let devBrowserToken = null
    try {
      devBrowserToken = new URL(handoff.clerkUrl).searchParams.get('__clerk_db_jwt')
    } catch {}
    const redirect = createRedirect({
      redirectAdapter: (url) => {
        throw errors.redirectError(url)
      },
      devBrowserToken: devBrowserToken || cookieValue(get('cookie'), '__clerk_db_jwt'),
      baseUrl: handoff.clerkUrl,
      publishableKey: handoff.config.publishableKey || cfg.envPublishableKey(),
      signInUrl: handoff.config.signInUrl || cfg.envSignInUrl(),
      signUpUrl: handoff.config.signUpUrl || cfg.envSignUpUrl(),
      sessionStatus: authObject.tokenType === 'session_token' ? authObject.sessionStatus : null,
      isSatellite: handoff.config.isSatellite,
    })
    return [redirect, returnBackUrl]
  }
  return {
    redirectToSignIn: (opts = {}) => {
      const [r, returnBackUrl] = make(opts)
      return r.redirectToSignIn({ returnBackUrl })
    },
    redirectToSignUp: (opts = {}) => {
      const [r, returnBackUrl] = make(opts)
      return r.redirectToSignUp({ returnBackUrl })
    },
  }
}

/**
 * `auth(options?)` in server components, route handlers and server actions (see next.d.ts).
 * @param {{ acceptsToken?: any, treatPendingAsSignedOut?: boolean }} [options]
 */
async function auth(options) {
  const get = await requestHeaders('auth')
  const handoff = readHandoff(get, 'auth')
  const authObject = authData(handoff, { acceptsToken: options?.acceptsToken ?? 'session_token', treatPendingAsSignedOut: options?.treatPendingAsSignedOut })
  if (authObject.tokenType === 'session_token') return Object.assign(authObject, serverRedirects(handoff, get, authObject))
  return authObject
}

/** `auth.protect(params?, options?)` on the server: Next's redirect / notFound / unauthorized errors. */
auth.protect = async (...args) => {
  const get = await requestHeaders('auth')
  const requestedToken = args[0]?.token || args[1]?.token || 'session_token'
  const authObject = await auth({ acceptsToken: requestedToken })
  return createProtect({
    get,
    authObject,
    redirectToSignIn: authObject.redirectToSignIn,
    redirect: (url) => {
      throw errors.redirectError(url)
    },
    notFound: () => {
      throw errors.notFoundError()
    },
    unauthorized: () => {
      throw errors.unauthorizedError()
    },
  })(...args)
}

/**
 * `currentUser(opts?)`: the signed-in user (`clerkClient().users.getUser(userId)`), or null.
 * @param {{ treatPendingAsSignedOut?: boolean }} [opts]
 */
async function currentUser(opts) {
  const { userId } = await auth({ treatPendingAsSignedOut: opts?.treatPendingAsSignedOut })
  if (!userId) return null
  return (await clerkClient()).users.getUser(userId)
}

/**
 * Clerk's synchronous `getAuth(req, opts?)` for the Pages Router and API routes (and route handlers): the session
 * auth object from the middleware's hand-off.
 * @param {Request | import('http').IncomingMessage | { headers: any }} req
 * @param {{ acceptsToken?: any, treatPendingAsSignedOut?: boolean }} [opts]
 */
function getAuthSync(req, opts) {
  if (req == null || typeof req !== 'object') throw new TypeError('clerk-native: getAuth(req) needs the request')
  const handoff = readHandoff(headerReader(req.headers), 'getAuth')
  return sessionAuthData(handoff, { acceptsToken: opts?.acceptsToken, treatPendingAsSignedOut: opts?.treatPendingAsSignedOut })
}

// Clients by configuration (fields compared in memory; the secret key is never a map key).
const clients = []
async function clerkClient() {
  let config = middlewareStorage.getStore()
  if (!config) {
    try {
      const get = await requestHeaders('clerkClient')
      config = readHandoff(get, 'clerkClient').config
    } catch {
      config = null
    }
  }
  const publishableKey = config?.publishableKey || cfg.envPublishableKey() || ''
  const wanted = {
    secretKey: config?.secretKey || cfg.envSecretKey() || '',
    publishableKey,
    apiUrl: config?.apiUrl || cfg.envApiUrl(publishableKey),
    apiVersion: config?.apiVersion || cfg.envApiVersion(),
  }
  for (const c of clients) {
    if (c.secretKey === wanted.secretKey && c.publishableKey === wanted.publishableKey && c.apiUrl === wanted.apiUrl && c.apiVersion === wanted.apiVersion) {
      return c.client
    }
  }
  const { createClerkClient } = require('../client')
  const client = createClerkClient({ ...wanted, userAgent: 'clerk-native/next' })
  clients.unshift({ ...wanted, client })
  if (clients.length > 8) clients.pop()
  return client
}

module.exports = { auth, currentUser, getAuthSync, clerkClient, middlewareStorage, authData, sessionAuthData }
