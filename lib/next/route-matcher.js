'use strict'
// createRouteMatcher as @clerk/nextjs 7.9.17's: a predicate over the request (`req.nextUrl.pathname`, else the
// URL's path) with Clerk's path matching (lib/path-pattern.js: path-to-regexp patterns or RegExps, decodeURI and
// `//` collapsing; a malformed encoding throws a MalformedURLError, which clerkMiddleware answers with 400).
// Clerk deprecates it in 7.9.17 (it logs a warning once); it is not deprecated here.

const { compilePathPatterns } = require('../path-pattern')

/**
 * @param {string | RegExp | Array<string | RegExp> | ((req: Request) => boolean)} routes
 * @returns {(req: Request & { nextUrl?: URL }) => boolean}
 */
function createRouteMatcher(routes) {
  if (typeof routes === 'function') return (req) => routes(req)
  const matcher = compilePathPatterns(routes)
  return (req) => matcher(req.nextUrl ? req.nextUrl.pathname : new URL(req.url).pathname)
}

module.exports = { createRouteMatcher }
