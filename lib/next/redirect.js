'use strict'
// redirectToSignIn / redirectToSignUp URLs as @clerk/backend 3.25.0 `createRedirect` builds them: the sign-in
// (sign-up) URL or the Account Portal's, `redirect_url=<return back URL>`, the dev-browser token on cross-origin
// redirects of development instances, `/tasks` for pending sessions, `__clerk_synced=false` for satellites.

const { parsePublishableKey, accountsBaseUrl } = require('./config')

function buildUrl(base, target, returnBackUrl, devBrowserToken, isSatellite) {
  if (base === '') return legacyBuildUrl(String(target), returnBackUrl == null ? undefined : String(returnBackUrl))
  const baseUrl = new URL(base)
  const back = returnBackUrl ? new URL(returnBackUrl, baseUrl) : undefined
  const res = new URL(target, baseUrl)
  const crossOrigin = `${baseUrl.hostname}:${baseUrl.port}` !== `${res.hostname}:${res.port}`
  if (back) {
    if (crossOrigin && isSatellite) back.searchParams.set('__clerk_synced', 'false')
    res.searchParams.set('redirect_url', back.toString())
  }
  if (crossOrigin && devBrowserToken) res.searchParams.set('__clerk_db_jwt', devBrowserToken)
  return res.toString()
}

function legacyBuildUrl(target, redirectUrl) {
  let url
  if (!target.startsWith('http')) {
    if (!redirectUrl || !redirectUrl.startsWith('http')) throw new Error('destination url or return back url should be an absolute path url!')
    url = new URL(target, new URL(redirectUrl).origin)
  } else {
    url = new URL(target)
  }
  if (redirectUrl) url.searchParams.set('redirect_url', redirectUrl)
  return url.toString()
}

/**
 * `createRedirect(params)`: `{ redirectToSignIn({ returnBackUrl }), redirectToSignUp({ returnBackUrl }) }`, each
 * passing the target URL to `redirectAdapter` (which returns a response or throws Next's redirect error).
 * @param {{ redirectAdapter: (url: string) => any, baseUrl: string | URL, signInUrl?: string, signUpUrl?: string,
 *   publishableKey?: string, devBrowserToken?: string | null, sessionStatus?: string | null, isSatellite?: boolean }} params
 */
function createRedirect(params) {
  const { redirectAdapter, signInUrl, signUpUrl, publishableKey, sessionStatus, isSatellite } = params
  const baseUrl = params.baseUrl == null ? '' : String(params.baseUrl)
  const parsed = parsePublishableKey(publishableKey)
  const devBrowserToken = parsed?.instanceType === 'development' ? params.devBrowserToken : null
  const accounts = accountsBaseUrl(parsed?.frontendApi)
  const missingKey = () => {
    throw new Error('clerk-native: cannot build the sign-in URL: pass signInUrl (or set NEXT_PUBLIC_CLERK_SIGN_IN_URL) or a valid publishableKey')
  }
  const go = (target, returnBackUrl) =>
    redirectAdapter(buildUrl(baseUrl, sessionStatus === 'pending' ? `${target}/tasks` : target, returnBackUrl, devBrowserToken, isSatellite))
  const redirectToSignIn = ({ returnBackUrl } = {}) => {
    if (!signInUrl && !accounts) missingKey()
    return go(signInUrl || `${accounts}/sign-in`, returnBackUrl)
  }
  const redirectToSignUp = ({ returnBackUrl } = {}) => {
    if (!signUpUrl && !accounts) missingKey()
    let fromSignIn
    if (signInUrl) {
      const url = new URL(signInUrl, baseUrl || undefined)
      url.pathname = `${url.pathname}/create`
      fromSignIn = url.toString()
    }
    return go(signUpUrl || fromSignIn || `${accounts}/sign-up`, returnBackUrl)
  }
  return { redirectToSignIn, redirectToSignUp }
}

module.exports = { createRedirect }
