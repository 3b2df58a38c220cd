'use strict'
// Identity resolution through the Rust identity cache (SPEC §5): the key is built from validated claims only
// (required organization first, then the user; the session id is never part of it), then the app's
// `resolveUser(auth)` runs on a miss. Concurrent misses for one identity share one resolveUser call.

const binding = require('../binding.js')

const inFlight = new Map()

/** An identity failure: `code` is `org_mismatch`, `missing_org_id` or `missing_user_id`; `status` 403 or 401. */
class IdentityError extends Error {
  constructor(code, message) {
    super(message)
    this.name = 'IdentityError'
    this.code = code
    this.status = code === 'missing_user_id' ? 401 : 403
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
    pending = (async () => {
      try {
        const user = await resolveUser(state.toAuth())
        if (user !== undefined && user !== null) binding.identitySet(claimsJson, org, JSON.stringify(user))
        return user ?? null
      } finally {
        inFlight.delete(key)
      }
    })()
    inFlight.set(key, pending)
  }
  return pending
}

module.exports = { resolveIdentity, IdentityError }
