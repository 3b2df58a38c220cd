'use strict'
// clerkMiddleware for Next.js middleware running on the Node.js runtime (`middleware.ts` with
// `export const config = { runtime: 'nodejs' }` on Next 15.5+, or Next 16's `proxy.ts`), as @clerk/nextjs 7.9.17's:
// the `/__clerk` Frontend API proxy branch, authentication of every token type (`acceptsToken: 'any'`) with the
// handshake family (a state with a Location becomes a 307 carrying every other state header), the handler
// `(auth, req, event)` with auth(), auth.protect() and the redirect helpers, Clerk's control-flow outcomes, the
// state headers on the response, and the signed hand-off to routes (./handoff.js).

const { authenticateRequest } = require('../auth')
const { memoByOptions } = require('../memo')
const { underProxyPath, normalizeProxyPath } = require('../proxy')
const cfg = require('./config')
const errors = require('./errors')
const res = require('./response')
const { headerReader, clerkUrlOf, cookieValue } = require('./request')
const { createRedirect } = require('./redirect')
const { createProtect } = require('./protect')
const { forAcceptedToken, isTokenTypeAccepted, serializable } = require('./auth-objects')
const { register, handoffHeaders } = require('./handoff')
const { frontendApiProxyMiddleware } = require('./proxy')
const { middlewareStorage } = require('./server')

// Options clerkMiddleware reads itself; the rest goes to authenticateRequest.
const MIDDLEWARE_ONLY = new Set(['frontendApiProxy', 'debug', 'contentSecurityPolicy'])
const AUTO_PROXY_HOST_SUFFIXES = ['.vercel.app']

/**
 * The per-options part of the setup: keys (Clerk's errors when missing), the public configuration, the hand-off
 * registration, the proxy branch. Memoised per options object while its fields stay the same.
 */
const setupFor = memoByOptions((params) => {
  const publishableKey = params.publishableKey || cfg.envPublishableKey()
  if (!publishableKey) {
    throw errors.codedError(
      'missing_publishable_key',
      'clerk-native: publishableKey is missing; pass publishableKey to clerkMiddleware() or set NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY (as for @clerk/nextjs)',
    )
  }
  const secretKey = params.secretKey || cfg.envSecretKey()
  if (!secretKey && !(params.jwtKey || cfg.env('CLERK_JWT_KEY'))) {
    throw errors.codedError(
      'missing_secret_key',
      'clerk-native: secretKey is missing; pass secretKey to clerkMiddleware() or set CLERK_SECRET_KEY (or give jwtKey / CLERK_JWT_KEY for networkless session verification)',
    )
  }
  const signInUrl = params.signInUrl || cfg.envSignInUrl()
  const signUpUrl = params.signUpUrl || cfg.envSignUpUrl()
  const apiUrl = params.apiUrl || cfg.envApiUrl(publishableKey)
  const apiVersion = params.apiVersion || cfg.envApiVersion()
  const base = {}
  for (const key of Object.keys(params)) if (!MIDDLEWARE_ONLY.has(key)) base[key] = params[key]
  Object.assign(base, { publishableKey, secretKey, signInUrl, signUpUrl, apiUrl, apiVersion, acceptsToken: 'any' })
  const explicitProxy = params.frontendApiProxy
  const hasProxyOrDomain = params.proxyUrl || cfg.envProxyUrl() || params.domain || cfg.envDomain()
  const autoProxy =
    !explicitProxy && !hasProxyOrDomain && !cfg.isTruthy(cfg.env('CLERK_DISABLE_AUTO_PROXY')) && publishableKey.startsWith('pk_live_')
  let proxy = null
  let proxyPath = null
  let proxyEnabled = false
  if (explicitProxy || autoProxy) {
    const { enabled, path, ...proxyOptions } = explicitProxy || { enabled: true }
    proxyPath = normalizeProxyPath(path)
    proxyEnabled = enabled
    proxy = frontendApiProxyMiddleware({ ...proxyOptions, enabled: true, path: proxyPath, publishableKey, secretKey })
  }
  return {
    publishableKey,
    secretKey,
    base,
    proxy,
    proxyPath,
    proxyEnabled,
    autoProxy,
    dynamic: ['proxyUrl', 'isSatellite', 'domain'].some((k) => typeof params[k] === 'function'),
    authOptionsByOrigin: new Map(),
    entry: register({ secretKey, publishableKey, apiUrl, apiVersion }),
    clientConfig: Object.freeze({ secretKey, publishableKey, apiUrl, apiVersion }),
  }
})

/** True when the proxy branch is on for this URL (explicit `enabled`, or Clerk's auto-proxy on *.vercel.app). */
function proxyOnFor(setup, url) {
  if (!setup.proxy) return false
  if (setup.autoProxy) return AUTO_PROXY_HOST_SUFFIXES.some((s) => url.hostname.endsWith(s))
  return typeof setup.proxyEnabled === 'function' ? !!setup.proxyEnabled(url) : !!setup.proxyEnabled
}

/**
 * authenticateRequest's options for a request, as Clerk's `createAuthenticateRequestOptions` +
 * `handleMultiDomainAndProxy`: a proxyUrl derived from the proxy branch (`origin + path`), relative proxy URLs
 * resolved against the request, function-valued `isSatellite`/`domain`/`proxyUrl` resolved, satellite checks.
 * Cached per origin unless an option is a function.
 */
function authOptionsFor(setup, clerkUrl, requestUrl) {
  const cacheKey = setup.dynamic ? null : clerkUrl.origin
  if (cacheKey !== null) {
    const hit = setup.authOptionsByOrigin.get(cacheKey)
    if (hit !== undefined) return hit
  }
  const o = setup.base
  let proxyUrlOption = o.proxyUrl
  if (!proxyUrlOption && setup.proxy && proxyOnFor(setup, clerkUrl)) proxyUrlOption = `${clerkUrl.origin}${setup.proxyPath}`
  const relOrAbs = cfg.valueOrFn(proxyUrlOption, clerkUrl, cfg.envProxyUrl())
  const proxyUrl = relOrAbs && !cfg.isHttpOrHttps(relOrAbs) ? new URL(relOrAbs, clerkUrl).toString() : relOrAbs
  const isSatellite = !!cfg.valueOrFn(o.isSatellite, requestUrl, cfg.envIsSatellite())
  const domain = cfg.valueOrFn(o.domain, requestUrl, cfg.envDomain())
  if (isSatellite && !proxyUrl && !domain) throw new Error(errors.missingDomainAndProxy)
  if (isSatellite && !cfg.isHttpOrHttps(o.signInUrl) && cfg.isDevelopmentFromSecretKey(setup.secretKey)) {
    throw new Error(errors.missingSignInUrlInDev)
  }
  const options = { ...o, proxyUrl: proxyUrl || undefined, isSatellite, domain: domain || undefined }
  if (cacheKey !== null) {
    if (setup.authOptionsByOrigin.size >= 64) setup.authOptionsByOrigin.clear()
    setup.authOptionsByOrigin.set(cacheKey, options)
  }
  return options
}

/** Clerk's `redirectAdapter`: a 307 marked so a dev-browser token can be added on cross-origin targets. */
const redirectAdapter = (url) => res.redirect(url, { headers: { 'x-clerk-redirect-to': 'true' } })

/** Clerk's `serverRedirectWithAuth`: cross-origin redirects of development instances carry the dev-browser token. */
function withDevBrowser(response, clerkUrl, get, secretKey) {
  const location = response.headers.get('location')
  if (response.headers.get('x-clerk-redirect-to') !== 'true' || !location || !cfg.isDevelopmentFromSecretKey(secretKey)) return response
  let target
  try {
    target = new URL(location)
  } catch {
    return response
  }
  if (target.origin === clerkUrl.origin) return response
  target.searchParams.set('__clerk_db_jwt', cookieValue(get('cookie'), '__clerk_db_jwt') || '')
  return res.redirect(target.href, response)
}

/** Clerk's `handleControlFlowErrors`: protect()/redirect/notFound/unauthorized errors as responses. */
function controlFlowResponse(e, { request, clerkUrl, state }) {
  if (errors.isMalformedURLError(e)) return res.empty(400, 'Bad Request')
  if (errors.isUnauthorizedError(e)) {
    const response = res.empty(401)
    if (state.toAuth()?.tokenType === 'oauth_token') {
      const fapi = cfg.parsePublishableKey(state.publishableKey)?.frontendApi
      response.headers.set('WWW-Authenticate', `Bearer resource_metadata="https://${fapi}/.well-known/oauth-protected-resource"`)
    }
    return response
  }
  if (errors.isNotFoundError(e)) {
    // An internal rewrite to a path that does not exist, so Next answers with its 404 page (as Clerk's).
    const response = res.rewrite(new URL(`/clerk_${Date.now()}`, request.url))
    response.headers.set('x-clerk-auth-reason', 'protect-rewrite')
    return response
  }
  const toSignIn = errors.isRedirectToSignInError(e)
  if (toSignIn || errors.isRedirectToSignUpError(e)) {
    const redirect = createRedirect({
      redirectAdapter,
      baseUrl: clerkUrl,
      signInUrl: state.signInUrl,
      signUpUrl: state.signUpUrl,
      publishableKey: state.publishableKey,
      sessionStatus: state.toAuth()?.sessionStatus,
      isSatellite: state.isSatellite,
    })
    return redirect[toSignIn ? 'redirectToSignIn' : 'redirectToSignUp']({ returnBackUrl: e.returnBackUrl })
  }
  if (errors.isRedirectError(e)) return redirectAdapter(errors.redirectTarget(e))
  throw e
}

/** The `auth` handed to the handler: `auth(opts)`, `auth.protect(...)`. */
function middlewareAuth(state, clerkUrl, get) {
  const url = clerkUrl.toString()
  const redirectToSignIn = (opts = {}) => {
    throw errors.redirectToSignInError(url, opts.returnBackUrl)
  }
  const redirectToSignUp = (opts = {}) => {
    throw errors.redirectToSignUpError(url, opts.returnBackUrl)
  }
  const auth = async (options) => {
    const accepts = options?.acceptsToken ?? 'session_token'
    const authObject = forAcceptedToken(state.toAuth({ treatPendingAsSignedOut: options?.treatPendingAsSignedOut }), accepts)
    if (authObject.tokenType === 'session_token' && isTokenTypeAccepted('session_token', accepts)) {
      return Object.assign(authObject, { redirectToSignIn, redirectToSignUp })
    }
    return authObject
  }
  auth.protect = async (params, options) => {
    const requestedToken = params?.token || options?.token || 'session_token'
    return createProtect({
      get,
      authObject: forAcceptedToken(state.toAuth(), requestedToken),
      redirectToSignIn,
      redirect: (target) => {
        throw errors.redirectError(target, { redirectUrl: target })
      },
      notFound: () => {
        throw errors.notFoundError()
      },
      unauthorized: () => {
        throw errors.unauthorizedError()
      },
    })(params, options)
  }
  return auth
}

/** Clerk's `decorateRequest`: the hand-off request headers on `next()` and same-origin rewrites. */
function decorate(response, request, clerkUrl, state, setup) {
  if (response.headers.get('location')) return response
  const rewrite = response.headers.get('x-middleware-rewrite')
  if (rewrite) {
    let target
    try {
      target = new URL(rewrite)
    } catch {
      return response
    }
    if (target.origin !== new URL(request.url).origin) return response
  } else if (response.headers.get('x-middleware-next') !== '1') {
    return response // a response of the handler's own: no route runs
  }
  const authObject = state.toAuth()
  const machine = authObject && authObject.tokenType !== 'session_token' ? serializable(authObject) : null
  const pub = {
    publishableKey: state.publishableKey || setup.publishableKey,
    signInUrl: state.signInUrl || undefined,
    signUpUrl: state.signUpUrl || undefined,
    isSatellite: state.isSatellite || undefined,
    domain: state.domain || undefined,
    proxyUrl: state.proxyUrl || undefined,
  }
  res.setRequestHeaders(response, request.headers, handoffHeaders(state, machine, clerkUrl.toString(), setup.entry, pub))
  return response
}

async function run(request, event, handler, params) {
  const resolvedParams = typeof params === 'function' ? await params(request) : params
  if (resolvedParams == null || typeof resolvedParams !== 'object') {
    throw new TypeError('clerk-native: clerkMiddleware options must be an object, or a function (req) => options')
  }
  const setup = setupFor(resolvedParams)
  const requestUrl = new URL(request.nextUrl ? request.nextUrl.href : request.url)
  if (setup.proxy && proxyOnFor(setup, requestUrl) && underProxyPath(requestUrl.pathname, setup.proxyPath)) {
    const proxied = await setup.proxy(request)
    if (proxied) return proxied
  }
  const get = headerReader(request.headers)
  const clerkUrl = clerkUrlOf(request.url, get)
  const state = await authenticateRequest(request, authOptionsFor(setup, clerkUrl, requestUrl))

  const location = state.headers.get('location')
  if (location) {
    const response = res.redirect(location)
    state.headers.forEach((value, key) => {
      if (key !== 'location') response.headers.append(key, value)
    })
    return response
  }
  if (state.status === 'handshake') throw new Error('Clerk: handshake status without redirect')

  let result = res.next()
  try {
    const returned = handler && (await middlewareStorage.run(setup.clientConfig, () => handler(middlewareAuth(state, clerkUrl, get), request, event)))
    result = returned || result
  } catch (e) {
    result = controlFlowResponse(e, { request, clerkUrl, state })
  }
  state.headers.forEach((value, key) => result.headers.append(key, value))
  if (result.headers.get('location')) return withDevBrowser(result, clerkUrl, get, setup.secretKey)
  return decorate(result, request, clerkUrl, state, setup)
}

/**
 * `clerkMiddleware(handler?, options?)` for Node.js-runtime middleware (see next.d.ts). Also callable directly as
 * `clerkMiddleware(request, event)`, as Clerk's.
 */
function clerkMiddleware(...args) {
  const direct = args[0] instanceof Request
  const handler = typeof args[0] === 'function' ? args[0] : undefined
  const params = (args.length === 2 ? args[1] : typeof args[0] === 'function' ? {} : args[0]) || {}
  if (params != null && typeof params !== 'object' && typeof params !== 'function') {
    throw new TypeError('clerk-native: clerkMiddleware options must be an object, or a function (req) => options')
  }
  const middleware = (request, event) => run(request, event, handler, direct ? {} : params)
  if (direct && args[1]) return middleware(args[0], args[1])
  return middleware
}

module.exports = { clerkMiddleware }
