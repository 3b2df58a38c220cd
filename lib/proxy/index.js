'use strict'
// JS side of the Frontend API proxy: the public classes and functions. Each entry path is a thin adapter over the
// shared exchange driver (./exchange.js): Web Request/Response (./web.js), proxyRequest(init) (./init.js) and Node
// req/res (./node.js). All header rules, URL building, timeouts and cancellation live in Rust.

const binding = require('../../binding.js')
const { resolveProxyOptions, validateProxyOptions, usesEnvironment, configurationError } = require('../options')
const { errorResponse, errorProxyResponse, ProxyBodyError } = require('../errors')
const { instanceMemo, memoByOptions } = require('../memo')
const { DEFAULT_PROXY_PATH } = require('./exchange')
const { handleWebRequest } = require('./web')
const { proxyInit } = require('./init')
const { pipeNode } = require('./node')

const MAX_DEFAULT_INSTANCES = 32
const DEFAULT_IDLE_TIMEOUT_MS = 30000

/**
 * A native proxy over options already resolved against the environment (no checks beyond the native ones; a
 * missing key answers 500 per request). The one construction path of every proxy instance.
 */
class NativeBackedProxy {
  /** @param {ReturnType<typeof resolveProxyOptions>} resolved */
  constructor(resolved) {
    this._native = new binding.NativeProxy(resolved)
    this._idleMs = resolved.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
    /** The normalized proxy path (e.g. `/__clerk`). */
    this.proxyPath = this._native.proxyPath
  }

  /**
   * Proxies a Web `Request`; resolves to a `Response` (never rejects for proxy failures).
   * @param {Request} request
   */
  handle(request) {
    return handleWebRequest(this._native, request)
  }

  /**
   * The Node-native path: no Web objects. Resolves when the response head arrives; never rejects for proxy
   * failures (a TypeError for a malformed `init`).
   * @param {import('../../index').ProxyRequestInit} init
   * @returns {Promise<import('../../index').ProxyResponse>}
   */
  proxy(init) {
    return proxyInit(this._native, init)
  }

  /**
   * Proxies a Node `IncomingMessage` straight into a `ServerResponse` (what the Express adapter uses).
   * @param {import('http').IncomingMessage} req
   * @param {import('http').ServerResponse} res
   * @param {string} url absolute URL as the app received it
   */
  pipeNode(req, res, url) {
    pipeNode(this._native, req, res, url, this._idleMs)
  }
}

/**
 * A Frontend API proxy bound to one set of options (keys and environment are resolved once, at
 * construction). Instances share the process-wide upstream connection pool.
 */
class FrontendApiProxy extends NativeBackedProxy {
  /** @param {import('../../index').FrontendApiProxyOptions} [options] */
  constructor(options) {
    validateProxyOptions(options)
    super(resolveProxyOptions(options || {}))
    // An invalid fapiUrl throws now. Missing or invalid keys keep answering 500 per request here (existing
    // behaviour the test suite pins: hostile-input H02, proxy-core "proxyPath is normalized").
    assertConfiguration(this, options, undefined, CONSTRUCTOR_CHECKS)
  }
}

// Default instances for the functional API, keyed by the resolved option set (env read per call, as Clerk).
const RESOLVED_FIELDS = Object.freeze(Object.keys(resolveProxyOptions({})))
const defaultFor = instanceMemo(MAX_DEFAULT_INSTANCES, RESOLVED_FIELDS, (r) => new NativeBackedProxy(r))

/**
 * The shared instance for `options` resolved now (environment included; `flavour: 'next'` also reads
 * NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY). Throws a TypeError for a wrong option type.
 * @param {import('../../index').FrontendApiProxyOptions} [options]
 * @param {'next'} [flavour]
 * @returns {NativeBackedProxy}
 */
function defaultProxy(options, flavour) {
  // An options object that names every key and the fapiUrl resolves the same on every call (no environment
  // fallback): its instance is memoised on the object (the Express branch asks once per request).
  if (options != null && typeof options === 'object' && !usesEnvironment(options)) {
    return (flavour === 'next' ? nextByOptions : coreByOptions)(options)
  }
  return defaultFor(resolveProxyOptions(options || {}, flavour))
}

const coreByOptions = memoByOptions((options) => defaultFor(resolveProxyOptions(options)))
const nextByOptions = memoByOptions((options) => defaultFor(resolveProxyOptions(options, 'next')))

// The last host that passed the core's grammar: one string comparison per request while the Host is unchanged.
let lastValidHost = 'localhost'

/**
 * True when `host` is a valid `host[:port]` by the core's grammar (`isValidHost` in the binding: the one used for
 * X-Forwarded-Host and for request URLs in Rust), so every entry path accepts the same hosts.
 * @param {string} host
 */
function isValidHost(host) {
  if (host === lastValidHost) return true
  if (typeof host !== 'string' || !binding.isValidHost(host)) return false
  lastValidHost = host
  return true
}

/** Every configuration check (Express middlewares). */
const ALL_CHECKS = new Set(['publishableKey', 'secretKey', 'secretKeyInvalid', 'fapiUrl'])
/** What `new FrontendApiProxy()` checks: malformed values it was given (missing keys stay a per-request 500). */
const CONSTRUCTOR_CHECKS = new Set(['secretKeyInvalid', 'fapiUrl'])
/** What the Next helpers check (missing keys stay a per-request 500: see next.js). */
const NEXT_CHECKS = CONSTRUCTOR_CHECKS

/**
 * Throws the construction-time configuration error of `proxy` (see `configurationError`) if its kind is in
 * `checks`: `publishableKey` / `secretKey` (missing), `secretKeyInvalid`, `fapiUrl`.
 */
function assertConfiguration(proxy, options, flavour, checks) {
  const problem = proxy._native.configProblem
  if (!problem) return
  const kind = problem[0] === 'secretKey' && problem[1] !== 'missing' ? 'secretKeyInvalid' : problem[0]
  if (!checks.has(kind)) return
  throw configurationError([problem[0], problem[2], problem[1]], options, flavour)
}

/**
 * Drop-in for `@clerk/backend/proxy`'s `clerkFrontendApiProxy`: never rejects for proxy failures.
 * @param {Request} request
 * @param {import('../../index').FrontendApiProxyOptions} [options]
 * @param {'next'} [flavour] where the publishable key may come from (see `defaultProxy`)
 */
async function clerkFrontendApiProxy(request, options, flavour) {
  let proxy
  try {
    proxy = defaultProxy(options, flavour)
  } catch (err) {
    return errorResponse(500, 'proxy_configuration_error', err.message)
  }
  return proxy.handle(request)
}

/**
 * Node-native proxy call (no Web objects): never rejects for proxy failures.
 * @param {import('../../index').ProxyRequestInit} init
 * @param {import('../../index').FrontendApiProxyOptions} [options]
 */
function proxyRequest(init, options) {
  let proxy
  try {
    proxy = defaultProxy(options)
  } catch (err) {
    return Promise.resolve(errorProxyResponse(500, 'proxy_configuration_error', err.message))
  }
  return proxy.proxy(init)
}

/**
 * Whether `pathname` (a URL's normalized path) is the proxy path or under it: the core's rule
 * (`binding.matchProxyPath`, `proxy/path.rs matches_proxy_path`) as a JS fast path for a normalized `proxyPath`;
 * `__test__/proxy-path-parity.test.js` pins that both agree.
 * @param {string} pathname
 * @param {string} proxyPath normalized (see `normalizeProxyPath`)
 */
function underProxyPath(pathname, proxyPath) {
  return pathname === proxyPath || pathname.startsWith(proxyPath + '/')
}

/**
 * Whether an origin-form request target (`/path?query`) is under the proxy path, with dot segments and `%2e`
 * resolved as the WHATWG URL parser does; null when the target is no URL path at all.
 * @param {string} target
 * @param {string} proxyPath normalized
 * @returns {boolean | null}
 */
function matchesProxyTarget(target, proxyPath) {
  const q = target.indexOf('?')
  let pathname = q === -1 ? target : target.slice(0, q)
  if (pathname.indexOf('.') !== -1 || pathname.indexOf('%') !== -1 || pathname.indexOf('\\') !== -1) {
    try {
      pathname = new URL(target, 'http://localhost').pathname
    } catch {
      return null
    }
  }
  return underProxyPath(pathname, proxyPath)
}

/**
 * `matchProxyPath(request | URL | string, { proxyPath })` (SPEC 1.6). Strings may be absolute URLs or paths.
 */
function matchProxyPath(request, options) {
  const proxyPath = options && options.proxyPath
  let pathname
  if (typeof request === 'string') pathname = new URL(request, 'http://localhost').pathname
  else if (request instanceof URL) pathname = request.pathname
  else if (request && typeof request.url === 'string') pathname = new URL(request.url, 'http://localhost').pathname
  else throw new TypeError('clerk-native: matchProxyPath expects a Request, URL or string')
  return binding.matchProxyPath(pathname, proxyPath || null)
}

module.exports = {
  isValidHost,
  ALL_CHECKS,
  NEXT_CHECKS,
  assertConfiguration,
  DEFAULT_PROXY_PATH,
  FrontendApiProxy,
  ProxyBodyError,
  clerkFrontendApiProxy,
  proxyRequest,
  matchProxyPath,
  underProxyPath,
  matchesProxyTarget,
  defaultProxy,
  fapiUrlFromPublishableKey: (pk) => binding.fapiUrlFromPublishableKey(String(pk ?? '')),
  normalizeProxyPath: (p) => binding.normalizeProxyPath(p == null ? null : String(p)),
}
