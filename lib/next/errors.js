'use strict'
// Clerk's Next.js error messages (@clerk/nextjs 7.9.17 server/errors.js, word for word, so searches for them find
// Clerk's docs) and the control-flow errors auth.protect() and the redirect helpers throw. Those carry Next's own
// `digest` formats, so Next handles them in server components, route handlers and server actions exactly as it
// handles `redirect()`, `notFound()` and `unauthorized()`, and clerkMiddleware turns them into responses.

const REDIRECT = 'NEXT_REDIRECT'
const HTTP_FALLBACK = 'NEXT_HTTP_ERROR_FALLBACK'
const CLERK_DIGEST = {
  REDIRECT_TO_URL: 'CLERK_PROTECT_REDIRECT_TO_URL',
  REDIRECT_TO_SIGN_IN: 'CLERK_PROTECT_REDIRECT_TO_SIGN_IN',
  REDIRECT_TO_SIGN_UP: 'CLERK_PROTECT_REDIRECT_TO_SIGN_UP',
}

/** Clerk's "auth() was called but Clerk can't detect usage of clerkMiddleware()" message. */
function authAuthHeaderMissing(helperName = 'auth', prefixSteps, fileReference = 'middleware or proxy') {
  return `Clerk: ${helperName}() was called but Clerk can't detect usage of clerkMiddleware(). Please ensure the following:
- ${prefixSteps ? [...prefixSteps, ''].join('\n- ') : ''}clerkMiddleware() is used in your Next.js ${fileReference} file.
- Your ${fileReference} matcher is configured to match this route or page.
- If you are using the src directory, make sure the ${fileReference} file is inside of it.

If you've verified your configuration and are still seeing this error, there may be a runtime issue or a problem communicating with Clerk.

For more details, see https://clerk.com/err/auth-middleware
`
}

const authSignatureInvalid =
  "Clerk: Unable to verify request, this usually means the Clerk middleware did not run. Ensure Clerk's middleware is properly integrated and matches the current route. For more information, see: https://clerk.com/docs/reference/nextjs/clerk-middleware. (code=auth_signature_invalid)"

const missingDomainAndProxy = `
Missing domain and proxyUrl. A satellite application needs to specify a domain or a proxyUrl.

1) With middleware
   e.g. export default clerkMiddleware({domain:'YOUR_DOMAIN',isSatellite:true});
2) With environment variables e.g.
   NEXT_PUBLIC_CLERK_DOMAIN='YOUR_DOMAIN'
   NEXT_PUBLIC_CLERK_IS_SATELLITE='true'
   `

const missingSignInUrlInDev = `
Invalid signInUrl. A satellite application requires a signInUrl for development instances.
Check if signInUrl is missing from your configuration or if it is not an absolute URL

1) With middleware
   e.g. export default clerkMiddleware({signInUrl:'SOME_URL', isSatellite:true});
2) With environment variables e.g.
   NEXT_PUBLIC_CLERK_SIGN_IN_URL='SOME_URL'
   NEXT_PUBLIC_CLERK_IS_SATELLITE='true'`

/** An Error with `code` (our own errors; Clerk's messages above stay plain Errors as Clerk throws them). */
function codedError(code, message) {
  const err = new Error(message)
  err.code = code
  return err
}

/** Next's redirect error (`redirect(url)` from next/navigation), 307, with Clerk's extra fields. */
function redirectError(url, extra) {
  const error = new Error(REDIRECT)
  error.digest = `${REDIRECT};replace;${url};307;`
  error.clerk_digest = CLERK_DIGEST.REDIRECT_TO_URL
  Object.assign(error, extra)
  return error
}

const returnBack = (url, returnBackUrl) => (returnBackUrl === null ? '' : returnBackUrl || url)

const redirectToSignInError = (url, returnBackUrl) =>
  redirectError(url, { clerk_digest: CLERK_DIGEST.REDIRECT_TO_SIGN_IN, returnBackUrl: returnBack(url, returnBackUrl) })
const redirectToSignUpError = (url, returnBackUrl) =>
  redirectError(url, { clerk_digest: CLERK_DIGEST.REDIRECT_TO_SIGN_UP, returnBackUrl: returnBack(url, returnBackUrl) })

/** Next's `unauthorized()` (401) and `notFound()` (404) errors. */
function httpAccessError(status) {
  const error = new Error(HTTP_FALLBACK)
  error.digest = `${HTTP_FALLBACK};${status}`
  return error
}

function httpAccessStatus(error) {
  if (typeof error !== 'object' || error === null || typeof error.digest !== 'string') return undefined
  const [prefix, status] = error.digest.split(';')
  if (prefix !== HTTP_FALLBACK) return undefined
  const n = Number(status)
  return n === 401 || n === 403 || n === 404 ? n : undefined
}

const isNotFoundError = (e) => (typeof e === 'object' && e !== null && e.digest === 'NEXT_NOT_FOUND') || httpAccessStatus(e) === 404
const isUnauthorizedError = (e) => httpAccessStatus(e) === 401

/** A Next redirect error with a 307 (as Clerk's `isNextjsRedirectError`); `redirectUrl` is its target. */
function isRedirectError(error) {
  if (typeof error !== 'object' || error === null || typeof error.digest !== 'string') return false
  const digest = error.digest.split(';')
  const [code, type] = digest
  return code === REDIRECT && (type === 'replace' || type === 'push') && Number(digest.at(-2)) === 307
}

/** The target of a Next redirect error. */
function redirectTarget(error) {
  if (error.redirectUrl) return error.redirectUrl
  return error.digest.split(';').slice(2, -2).join(';')
}

const isRedirectToSignInError = (e) => isRedirectError(e) && e.clerk_digest === CLERK_DIGEST.REDIRECT_TO_SIGN_IN
const isRedirectToSignUpError = (e) => isRedirectError(e) && e.clerk_digest === CLERK_DIGEST.REDIRECT_TO_SIGN_UP
const isMalformedURLError = (e) => e instanceof Error && e.name === 'MalformedURLError'

module.exports = {
  authAuthHeaderMissing,
  authSignatureInvalid,
  missingDomainAndProxy,
  missingSignInUrlInDev,
  codedError,
  redirectError,
  redirectToSignInError,
  redirectToSignUpError,
  unauthorizedError: () => httpAccessError(401),
  notFoundError: () => httpAccessError(404),
  isNotFoundError,
  isUnauthorizedError,
  isRedirectError,
  redirectTarget,
  isRedirectToSignInError,
  isRedirectToSignUpError,
  isMalformedURLError,
}
