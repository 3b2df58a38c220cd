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

/**
 * An identity failure: `code` is `org_mismatch`, `missing_org_id` (403), `missing_user_id` or
 * `ambiguous_user_id` (`user_id` and `sub` name different users; 401).
 */
class IdentityError extends Error {
  constructor(code, message) {
    super(message)
    this.name = 'IdentityError'
    this.code = code
    this.status = code === 'missing_user_id' || code === 'ambiguous_user_id' ? 401 : 403
  }
}

/**
 * Resolves the app's user for a signed-in session state. Resolves to the cached or freshly resolved value
 * (`null` when resolveUser gave none, which is not cached), or rejects with an IdentityError before any lookup.
 * @param {{ claimsJson(): string | null, toAuth(): object }} state
 * @param {(auth: object) => unknown} resolveUser
 * @param {string | undefined} organizationId  required organization, checked before any lookup
 */
async function resolveIdentity(state, resolveUser, organizationId) {
  const claimsJson = state.claimsJson()
  if (claimsJson == null) return null
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
      .then(() => resolveUser(state.toAuth()))
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

module.exports = { resolveIdentity, IdentityError, identityInvalidated }
