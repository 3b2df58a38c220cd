'use strict'
// Option validation and environment resolution for the proxy (SPEC 1.2). Empty strings count as unset.

const { env, envPublishableKey } = require('./env')

const STRING_OPTIONS = ['proxyPath', 'publishableKey', 'secretKey', 'fapiUrl']
const MS_OPTIONS = ['timeoutMs', 'idleTimeoutMs']
const MAX_MS = 2 ** 32 - 1
/** Default bound on concurrent upstream exchanges (connections in use) per proxy instance. */
const DEFAULT_MAX_CONNECTIONS = 512
/** Largest accepted `maxConnections`. */
const MAX_CONNECTIONS_LIMIT = 1_000_000

/** Throws a TypeError naming the first option of the wrong type. */
function validateProxyOptions(options) {
  if (options == null) return {}
  if (typeof options !== 'object') throw new TypeError('clerk-native: proxy options must be an object')
  for (const key of STRING_OPTIONS) {
    const v = options[key]
    if (v != null && typeof v !== 'string') throw new TypeError(`clerk-native: option ${key} must be a string`)
  }
  for (const key of MS_OPTIONS) {
    const v = options[key]
    if (v != null && (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_MS)) {
      throw new TypeError(`clerk-native: option ${key} must be a number of milliseconds between 0 and ${MAX_MS}`)
    }
  }
  const max = options.maxConnections
  if (max != null && (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_CONNECTIONS_LIMIT)) {
    throw new TypeError(`clerk-native: option maxConnections must be an integer between 1 and ${MAX_CONNECTIONS_LIMIT} (default ${DEFAULT_MAX_CONNECTIONS})`)
  }
  const trust = options.trustForwardedHeaders
  if (trust != null && typeof trust !== 'boolean') {
    throw new TypeError('clerk-native: option trustForwardedHeaders must be a boolean')
  }
  return options
}

/**
 * Applies Clerk's fallbacks: option, then environment. `flavour: 'next'` also reads
 * NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY before CLERK_PUBLISHABLE_KEY.
 */
function resolveProxyOptions(options, flavour) {
  const o = validateProxyOptions(options)
  return {
    proxyPath: o.proxyPath || undefined,
    publishableKey: o.publishableKey || envPublishableKey(flavour),
    secretKey: o.secretKey || env('CLERK_SECRET_KEY'),
    fapiUrl: o.fapiUrl || env('CLERK_FAPI_URL'),
    timeoutMs: o.timeoutMs == null ? undefined : Math.floor(o.timeoutMs),
    idleTimeoutMs: o.idleTimeoutMs == null ? undefined : Math.floor(o.idleTimeoutMs),
    trustForwardedHeaders: o.trustForwardedHeaders,
    maxConnections: o.maxConnections == null ? undefined : o.maxConnections,
  }
}

/**
 * True when resolving `options` would read the environment (a key or fapiUrl left unset): its resolution can then
 * change between calls although the object did not.
 */
function usesEnvironment(options) {
  return !options.publishableKey || !options.secretKey || !options.fapiUrl
}

/**
 * A configuration problem reported by the native config, as an Error thrown at
 * construction: the message names the option (or the environment variable it came from) and the fix; `code` is
 * `proxy_configuration_error`. A secret key is never part of the message.
 * @param {string[] | null} problem `[option, nativeMessage, kind]` (kind: `missing` or `invalid`)
 * @param {object} options the caller's options (to tell an option from an environment fallback)
 * @param {string} [flavour] `'next'` also names NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY
 * @returns {Error | null}
 */
function configurationError(problem, options, flavour) {
  if (!problem) return null
  const [option, detail, kind] = problem
  const o = options || {}
  let message
  if (option === 'publishableKey') {
    const envs = flavour === 'next' ? 'NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY or CLERK_PUBLISHABLE_KEY' : 'CLERK_PUBLISHABLE_KEY'
    message = `clerk-native: publishableKey is missing; pass publishableKey in the options or set ${envs}`
  } else if (option === 'secretKey' && kind === 'missing') {
    message = 'clerk-native: secretKey is missing; pass secretKey in the options or set CLERK_SECRET_KEY'
  } else if (option === 'secretKey') {
    const source = o.secretKey ? 'secretKey' : 'secretKey (from CLERK_SECRET_KEY)'
    message = `clerk-native: ${source} contains a line break or another character not allowed in a header (CR/LF/NUL); copy the key again without it`
  } else {
    const source = o.fapiUrl ? 'fapiUrl' : env('CLERK_FAPI_URL') ? 'fapiUrl (from CLERK_FAPI_URL)' : 'fapiUrl (derived from the publishable key)'
    message = `clerk-native: ${source} is invalid (${detail}); give an absolute http(s) URL without credentials, query or hash, such as https://clerk.example.com`
  }
  const err = new Error(message)
  err.code = 'proxy_configuration_error'
  return err
}

module.exports = { validateProxyOptions, resolveProxyOptions, usesEnvironment, configurationError, DEFAULT_MAX_CONNECTIONS }
