'use strict'
// The configuration the Next layer reads: Next's environment variables (read on use, not at import, so tests and
// `next build` without keys work), publishable-key parsing as @clerk/shared's `parsePublishableKey`, and the
// Backend API URL Clerk derives from the publishable key.

const { env } = require('../env')

/** `NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY`, then `CLERK_PUBLISHABLE_KEY`. */
const envPublishableKey = () => env('NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY') || env('CLERK_PUBLISHABLE_KEY')
const envSecretKey = () => env('CLERK_SECRET_KEY')
const envSignInUrl = () => env('NEXT_PUBLIC_CLERK_SIGN_IN_URL') || env('CLERK_SIGN_IN_URL')
const envSignUpUrl = () => env('NEXT_PUBLIC_CLERK_SIGN_UP_URL') || env('CLERK_SIGN_UP_URL')
const envProxyUrl = () => env('NEXT_PUBLIC_CLERK_PROXY_URL') || env('CLERK_PROXY_URL')
const envDomain = () => env('NEXT_PUBLIC_CLERK_DOMAIN') || env('CLERK_DOMAIN')
const envIsSatellite = () => isTruthy(env('NEXT_PUBLIC_CLERK_IS_SATELLITE') || env('CLERK_IS_SATELLITE'))
const envApiVersion = () => env('CLERK_API_VERSION') || 'v1'

/** @clerk/shared `isTruthy`: booleans, 'true'/'false' in any case, else a positive integer. */
function isTruthy(value) {
  if (typeof value === 'boolean') return value
  if (value == null) return false
  if (typeof value === 'string') {
    if (value.toLowerCase() === 'true') return true
    if (value.toLowerCase() === 'false') return false
  }
  const n = parseInt(value, 10)
  return !Number.isNaN(n) && n > 0
}

function decodeKeyPart(part) {
  try {
    return Buffer.from(part, 'base64').toString('utf8')
  } catch {
    return null
  }
}

/**
 * @clerk/shared `parsePublishableKey(key, { proxyUrl, domain, isSatellite })` (non-fatal): `{ instanceType,
 * frontendApi }`, or null for a missing or invalid key.
 * @param {string | undefined} key
 * @param {{ proxyUrl?: string, domain?: string, isSatellite?: boolean }} [options]
 */
function parsePublishableKey(key, options = {}) {
  if (typeof key !== 'string' || !(key.startsWith('pk_live_') || key.startsWith('pk_test_'))) return null
  const parts = key.split('_')
  if (parts.length !== 3 || !parts[2]) return null
  const decoded = decodeKeyPart(parts[2])
  if (decoded === null || !decoded.endsWith('$')) return null
  const host = decoded.slice(0, -1)
  if (host.includes('$') || !host.includes('.')) return null
  const instanceType = key.startsWith('pk_live_') ? 'production' : 'development'
  let frontendApi = host
  if (options.proxyUrl) frontendApi = options.proxyUrl
  else if (instanceType !== 'development' && options.domain && options.isSatellite) frontendApi = `clerk.${options.domain}`
  return { instanceType, frontendApi }
}

const isDevelopmentFromSecretKey = (key) => typeof key === 'string' && key.startsWith('sk_test_')

const LEGACY_DEV_SUFFIXES = ['.lcl.dev', '.lclstage.dev', '.lclclerk.com']
const LOCAL_SUFFIXES = ['.lcl.dev', 'lclstage.dev', '.lclclerk.com', '.accounts.lclclerk.com']
const STAGING_SUFFIXES = ['.accountsstage.dev']

/** @clerk/shared `apiUrlFromPublishableKey`: the Backend API of the key's environment. */
function apiUrlFromPublishableKey(publishableKey) {
  const fapi = parsePublishableKey(publishableKey)?.frontendApi || ''
  const endsWithAny = (list) => list.some((suffix) => fapi.endsWith(suffix))
  if (fapi.startsWith('clerk.') && endsWithAny(LEGACY_DEV_SUFFIXES)) return 'https://api.clerk.com'
  if (endsWithAny(LOCAL_SUFFIXES)) return 'https://api.lclclerk.com'
  if (endsWithAny(STAGING_SUFFIXES)) return 'https://api.clerkstage.dev'
  return 'https://api.clerk.com'
}

/** `CLERK_API_URL`, else derived from the publishable key (as @clerk/nextjs does). */
function envApiUrl(publishableKey) {
  return env('CLERK_API_URL') || apiUrlFromPublishableKey(publishableKey || envPublishableKey())
}

/** @clerk/shared `buildAccountsBaseUrl`. */
function accountsBaseUrl(frontendApi) {
  if (!frontendApi) return ''
  return `https://${frontendApi.replace(/clerk\.accountsstage\./, 'accountsstage.').replace(/clerk\.accounts\.|clerk\./, 'accounts.')}`
}

const isHttpOrHttps = (url) => typeof url === 'string' && /^https?:\/\//.test(url)

/** @clerk/shared `handleValueOrFn(value, url, defaultValue)`. */
function valueOrFn(value, url, defaultValue) {
  if (typeof value === 'function') return value(url)
  if (typeof value !== 'undefined') return value
  if (typeof defaultValue !== 'undefined') return defaultValue
  return undefined
}

module.exports = {
  env,
  envPublishableKey,
  envSecretKey,
  envSignInUrl,
  envSignUpUrl,
  envProxyUrl,
  envDomain,
  envIsSatellite,
  envApiUrl,
  envApiVersion,
  isTruthy,
  parsePublishableKey,
  isDevelopmentFromSecretKey,
  apiUrlFromPublishableKey,
  accountsBaseUrl,
  isHttpOrHttps,
  valueOrFn,
}
