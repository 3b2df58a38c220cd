'use strict'
// Cache controls (API.md §3, fixed names). The caches live in Rust; these calls only read or steer them.

const binding = require('../binding.js')
const { identityInvalidated, setSharedTier } = require('./identity')

const CACHE_NAMES = new Set(['jwks', 'negative', 'verified', 'identity'])
const SETTINGS = { negative: ['capacity', 'ttlMs'], verified: ['capacity', 'ttlMs'], identity: ['capacity', 'ttlMs', 'sidlessTtlMs'] }

/**
 * `{ jwks, negative, verified, identity, shared }`, each `{ size, capacity, ttlMs, hits, misses, inserts, evictions }`;
 * `shared` is present while the shared tier is on: its health (`connected`, `subscribed`, `breaker`,
 * `hits`, `misses`, `errors`, `timeouts`, ...; see index.d.ts `SharedTierStats`).
 */
function cacheStats() {
  return JSON.parse(binding.cacheStatsJson())
}

/** Clears one cache by name, or all of them. */
function clearCaches(name) {
  if (name !== undefined && !CACHE_NAMES.has(name)) {
    throw new TypeError(`clerk-native: clearCaches(name): name must be one of ${[...CACHE_NAMES].join(', ')}`)
  }
  binding.clearCaches(name ?? null)
  if (name === undefined || name === 'identity') identityInvalidated()
}

const SHARED_OPTIONS = { url: 'string', keyPrefix: 'string', lookupTimeoutMs: 'ms', lockLeaseMs: 'ms' }

/** Checks `shared` (an object, or null to turn the tier off); the URL is never echoed (it may hold a password). */
function sharedOption(shared) {
  if (shared === null) return null
  if (typeof shared !== 'object') throw new TypeError('clerk-native: configureCaches: shared must be { url, keyPrefix?, lookupTimeoutMs?, lockLeaseMs? } or null')
  const out = {}
  for (const key of Object.keys(shared)) {
    const kind = SHARED_OPTIONS[key]
    if (!kind) throw new TypeError(`clerk-native: configureCaches: unknown option shared.${key} (url, keyPrefix, lookupTimeoutMs, lockLeaseMs)`)
    const v = shared[key]
    if (v === undefined) continue
    if (kind === 'string' && typeof v !== 'string') throw new TypeError(`clerk-native: configureCaches: shared.${key} must be a string`)
    if (kind === 'ms' && (!Number.isSafeInteger(v) || v < 1)) throw new TypeError(`clerk-native: configureCaches: shared.${key} must be a positive integer (milliseconds), got ${v}`)
    out[key] = v
  }
  if (typeof out.url !== 'string') throw new TypeError('clerk-native: configureCaches: shared.url is required, e.g. redis://127.0.0.1:6379 (or rediss://, with :password@ and /db as needed)')
  return out
}

/**
 * `configureCaches({ negative?, verified?, identity?, shared? })` with `{ capacity?, ttlMs? }` (identity also
 * `sidlessTtlMs?`), and `shared: { url, keyPrefix?, lookupTimeoutMs?, lockLeaseMs? }` to put the shared Redis tier
 * under the negative and identity caches (`shared: null` turns it off). Everything is validated before anything
 * changes; bad values throw a TypeError.
 */
function configureCaches(options) {
  if (options == null || typeof options !== 'object') throw new TypeError('clerk-native: configureCaches needs an object')
  const out = {}
  for (const name of Object.keys(options)) {
    if (name === 'shared') {
      if (options.shared !== undefined) out.shared = sharedOption(options.shared)
      continue
    }
    const allowed = SETTINGS[name]
    if (!allowed) throw new TypeError(`clerk-native: configureCaches: unknown cache "${name}" (negative, verified, identity, shared)`)
    const settings = options[name]
    if (settings == null) continue
    if (typeof settings !== 'object') throw new TypeError(`clerk-native: configureCaches: ${name} must be an object`)
    out[name] = {}
    for (const key of Object.keys(settings)) {
      if (!allowed.includes(key)) throw new TypeError(`clerk-native: configureCaches: unknown option ${name}.${key}`)
      const v = settings[key]
      if (v === undefined) continue
      if (!Number.isSafeInteger(v) || v < 1) throw new TypeError(`clerk-native: configureCaches: ${name}.${key} must be a positive integer, got ${v}`)
      out[name][key] = v
    }
  }
  try {
    binding.configureCachesJson(JSON.stringify(out))
  } catch (err) {
    const e = new TypeError(`clerk-native: configureCaches: ${err.message}`)
    if (err.code !== undefined) e.code = err.code // invalid_cache_option | unknown_cache (CacheErrorCode)
    throw e
  }
  if (out.shared !== undefined) setSharedTier(out.shared !== null)
}

/**
 * The Prometheus text exposition (format 0.0.4) of clerk-native's counters: proxy requests, verification
 * outcomes, caches per tier, JWKS, Backend API calls, shared-tier health. Counted in Rust; this call renders.
 * Next to prom-client: `res.end((await register.metrics()) + '\n' + metrics())`.
 */
function metrics() {
  return binding.metrics()
}

/** Removes a token from the verified and negative caches; returns how many entries went. */
function invalidateToken(token) {
  if (typeof token !== 'string') throw new TypeError('clerk-native: invalidateToken(token) needs a string')
  return binding.invalidateToken(token)
}

/** Removes identity entries: `{ orgId }` every user of the org, `{ userId }` that user everywhere, both that one. */
function invalidateIdentity(target) {
  if (target == null || typeof target !== 'object') throw new TypeError('clerk-native: invalidateIdentity({ orgId?, userId? }) needs an object')
  const { orgId, userId } = target
  for (const [k, v] of [['orgId', orgId], ['userId', userId]]) {
    if (v != null && typeof v !== 'string') throw new TypeError(`clerk-native: invalidateIdentity: ${k} must be a string`)
  }
  const removed = binding.invalidateIdentity(orgId || null, userId || null)
  if (orgId || userId) identityInvalidated()
  return removed
}

module.exports = { cacheStats, clearCaches, configureCaches, invalidateToken, invalidateIdentity, metrics }
