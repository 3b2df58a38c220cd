'use strict'
// Option validation and environment resolution for the proxy (SPEC 1.2). Empty strings count as unset.

const STRING_OPTIONS = ['proxyPath', 'publishableKey', 'secretKey', 'fapiUrl']
const MS_OPTIONS = ['timeoutMs', 'idleTimeoutMs']
const MAX_MS = 2 ** 32 - 1

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
  const trust = options.trustForwardedHeaders
  if (trust != null && typeof trust !== 'boolean') {
    throw new TypeError('clerk-native: option trustForwardedHeaders must be a boolean')
  }
  return options
}

function env(name) {
  return typeof process !== 'undefined' && process.env ? process.env[name] || undefined : undefined
}

/**
 * Applies Clerk's fallbacks: option, then environment. `flavour: 'next'` also reads
 * NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY before CLERK_PUBLISHABLE_KEY.
 */
function resolveProxyOptions(options, flavour) {
  const o = validateProxyOptions(options)
  return {
    proxyPath: o.proxyPath || undefined,
    publishableKey:
      o.publishableKey || (flavour === 'next' ? env('NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY') : undefined) || env('CLERK_PUBLISHABLE_KEY'),
    secretKey: o.secretKey || env('CLERK_SECRET_KEY'),
    fapiUrl: o.fapiUrl || env('CLERK_FAPI_URL'),
    timeoutMs: o.timeoutMs == null ? undefined : Math.floor(o.timeoutMs),
    idleTimeoutMs: o.idleTimeoutMs == null ? undefined : Math.floor(o.idleTimeoutMs),
    trustForwardedHeaders: o.trustForwardedHeaders,
  }
}

module.exports = { validateProxyOptions, resolveProxyOptions }
