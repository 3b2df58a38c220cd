'use strict'
// auth.protect() as @clerk/nextjs 7.9.17 `createProtect`: the same outcomes for the same inputs.
//   token type not accepted / machine token not authenticated / has() or the predicate fails -> "unauthorized":
//     machine tokens (or a requested token type without session_token) -> unauthorized() (401);
//     unauthorizedUrl -> redirect; otherwise notFound() (404).
//   session pending or without userId -> "unauthenticated": unauthenticatedUrl -> redirect; page request ->
//     redirectToSignIn(); server action -> unauthorized() (401); otherwise notFound().
//   otherwise the auth object.
// The outcomes are thrown (Next control-flow errors) or returned as the callers' adapters decide.

const { isTokenTypeAccepted } = require('./auth-objects')
const { isPageRequest, isServerActionRequest } = require('./request')

const AUTH_PARAM_KEYS = ['role', 'permission', 'feature', 'plan', 'reverification']

function authorizationParams(arg) {
  if (!arg) return undefined
  if (typeof arg === 'function') return arg
  const params = {}
  for (const key of AUTH_PARAM_KEYS) if (arg[key] !== undefined) params[key] = arg[key]
  return Object.keys(params).length === 0 ? undefined : params
}

/**
 * @param {{ get: (name: string) => string | null, authObject: any, redirectToSignIn: () => any,
 *   redirect: (url: string) => any, notFound: () => any, unauthorized: () => any }} opts
 * @returns {(params?: any, options?: any) => Promise<any>}
 */
function createProtect({ get, authObject, redirectToSignIn, redirect, notFound, unauthorized }) {
  return async (...args) => {
    const paramsOrFunction = authorizationParams(args[0])
    const unauthenticatedUrl = args[0]?.unauthenticatedUrl || args[1]?.unauthenticatedUrl
    const unauthorizedUrl = args[0]?.unauthorizedUrl || args[1]?.unauthorizedUrl
    const requestedToken = args[0]?.token || args[1]?.token || 'session_token'

    const handleUnauthenticated = () => {
      if (unauthenticatedUrl) return redirect(unauthenticatedUrl)
      if (isPageRequest(get)) return redirectToSignIn()
      if (isServerActionRequest(get)) return unauthorized()
      return notFound()
    }
    const handleUnauthorized = () => {
      if (authObject.tokenType !== 'session_token' || !isTokenTypeAccepted('session_token', requestedToken)) return unauthorized()
      if (unauthorizedUrl) return redirect(unauthorizedUrl)
      return notFound()
    }

    if (!isTokenTypeAccepted(authObject.tokenType, requestedToken)) return handleUnauthorized()
    if (authObject.tokenType !== 'session_token') {
      if (!authObject.isAuthenticated) return handleUnauthorized()
    } else {
      if (authObject.sessionStatus === 'pending') return handleUnauthenticated()
      if (!authObject.userId) return handleUnauthenticated()
    }
    if (!paramsOrFunction) return authObject
    if (typeof paramsOrFunction === 'function') return paramsOrFunction(authObject.has) ? authObject : handleUnauthorized()
    return authObject.has(paramsOrFunction) ? authObject : handleUnauthorized()
  }
}

module.exports = { createProtect }
