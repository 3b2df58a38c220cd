'use strict'
// The one place that reads Clerk's environment variables. Empty strings count as unset.

/**
 * The environment variable `name`, or undefined when unset or empty (or where there is no `process`).
 * @param {string} name
 */
function env(name) {
  return typeof process !== 'undefined' && process.env ? process.env[name] || undefined : undefined
}

/**
 * The publishable key from the environment: CLERK_PUBLISHABLE_KEY, and for `flavour: 'next'`
 * NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY before it.
 * @param {'next'} [flavour]
 */
function envPublishableKey(flavour) {
  return (flavour === 'next' ? env('NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY') : undefined) || env('CLERK_PUBLISHABLE_KEY')
}

module.exports = { env, envPublishableKey }
