'use strict'
// Identity resolution through the Rust identity cache (SPEC §5): the key is built from validated claims only
// (required organization first, then the user; the session id is never part of it), then the app's
// `resolveUser(auth)` runs on a miss. Concurrent misses for one identity share one resolveUser call.

const binding = require('../binding.js')

const inFlight = new Map()
// Bumped by invalidateIdentity / clearCaches: a resolveUser call that started before an invalidation does not
// store its (possibly stale) value, and later requests do not join it.
let generation = 0

/** Called when identity entries are invalidated or cleared. */
function identityInvalidated() {
  generation++
  inFlight.clear()
}

const UNAUTHENTICATED_CODES = new Set(['missing_user_id', 'ambiguous_user_id', 'ambiguous_org_id'])

/**
 * An identity failure: `code` is `org_mismatch`, `missing_org_id` (403), `missing_user_id`,
 * `ambiguous_user_id` (`user_id` and `sub` name different users) or `ambiguous_org_id` (`org_id` and `o.id`
 * name different organizations; 401).
 */
class IdentityError extends Error {
  constructor(code, message, status) {
    super(message)
    this.name = 'IdentityError'
    this.code = code
    this.status = status || (UNAUTHENTICATED_CODES.has(code) ? 401 : 403)
  }
}

/**
 * Why an authenticated request is refused under a required organization (`organizationId`), as an
 * IdentityError, or null when it is allowed. Every token type is checked, and the check fails closed:
 * - session tokens: the organization is read by the core (token::identity), the same rule as the auth object's
 *   `orgId` and the identity cache key; claims naming two organizations or two users are refused;
 * - machine tokens: the organization they belong to (`orgId` of their auth object: an API key whose subject is
 *   an organization); machine-to-machine tokens and user-owned tokens have none, so they are refused.
 * @param {{ isAuthenticated: boolean, tokenType: string, claimsJson(): string | null, toAuth(): object }} state
 * @param {string} organizationId
 */
function organizationRefusal(state, organizationId) {
  if (!organizationId || !state.isAuthenticated) return null
  if (state.tokenType === 'session_token') {
    const claims = state.claimsJson()
    if (claims == null) return new IdentityError('missing_org_id', 'missing Clerk organization id', 403)
    const refusal = binding.identityCheck(claims, organizationId)
    return refusal == null ? null : new IdentityError(refusal.code, refusal.message, refusal.status)
  }
  const orgId = state.toAuth().orgId
  if (typeof orgId !== 'string' || orgId === '') return new IdentityError('missing_org_id', 'missing Clerk organization id', 403)
  if (orgId !== organizationId) return new IdentityError('org_mismatch', 'organization id does not match', 403)
  return null
}

/**
 * Resolves the app's user for a signed-in session state. Resolves to the cached or freshly resolved value
 * (`null` when resolveUser gave none, which is not cached), or rejects with an IdentityError before any lookup.
 * A pending session (`sts: "pending"`) is signed out, as in Clerk's `toAuth()`: it resolves to `null` without a
 * cache lookup or a resolveUser call, unless `treatPendingAsSignedOut: false`.
 * @param {{ claimsJson(): string | null, toAuth(opts?: object): object }} state
 * @param {(auth: object) => unknown} resolveUser
 * @param {string | undefined} organizationId  required organization, checked before any lookup
 * @param {{ treatPendingAsSignedOut?: boolean }} [options]
 */
async function resolveIdentity(state, resolveUser, organizationId, options) {
  const claimsJson = state.claimsJson()
  if (claimsJson == null) return null
  const authOptions = { treatPendingAsSignedOut: !(options != null && options.treatPendingAsSignedOut === false) }
  const auth = state.toAuth(authOptions)
  if (auth == null || auth.isAuthenticated === false) return null
  const org = organizationId || null
  const lookup = binding.identityGet(claimsJson, org)
  if (lookup.error) throw new IdentityError(lookup.error, lookup.message)
  if (lookup.value != null) return JSON.parse(lookup.value)
  const key = lookup.key
  let pending = inFlight.get(key)
  if (pending === undefined) {
    const started = generation
    // resolveUser runs in a later microtask, so a synchronous throw cannot settle (and unregister) the promise
    // before it is registered below.
    pending = Promise.resolve()
      .then(() => resolveUser(auth))
      .then((user) => {
        if (user === undefined || user === null) return null
        // Cached values are JSON: hand out the same JSON copy on this first request as on later cache hits, so
        // the app sees one shape. A value JSON cannot hold is returned as it is and not cached.
        let json
        try {
          json = JSON.stringify(user)
        } catch {
          return user
        }
        if (json === undefined) return user
        if (started === generation) binding.identitySet(claimsJson, org, json)
        return JSON.parse(json)
      })
      .finally(() => {
        if (inFlight.get(key) === pending) inFlight.delete(key)
      })
    inFlight.set(key, pending)
  }
  return pending
}

module.exports = { resolveIdentity, IdentityError, identityInvalidated, organizationRefusal }
