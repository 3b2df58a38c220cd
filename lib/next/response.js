'use strict'
// Middleware responses: Next's NextResponse when `next` is installed (always, in a Next app), else Web Responses
// with the same middleware headers (`x-middleware-next`, `x-middleware-rewrite`, `Location`), so the module loads
// and can be tested without Next. Also Clerk's `setRequestHeadersOnNextResponse`.

let nextResponse // undefined: not tried yet; null: next/server not installed
function NextResponseClass() {
  if (nextResponse === undefined) {
    try {
      nextResponse = require('next/server').NextResponse
    } catch {
      nextResponse = null
    }
  }
  return nextResponse
}

function next() {
  const NR = NextResponseClass()
  return NR ? NR.next() : new Response(null, { headers: { 'x-middleware-next': '1' } })
}

function redirect(url, init) {
  const NR = NextResponseClass()
  if (NR) return NR.redirect(url, init)
  const headers = new Headers(init?.headers)
  headers.set('location', new URL(String(url)).toString())
  return new Response(null, { status: 307, headers })
}

function rewrite(url) {
  const NR = NextResponseClass()
  return NR ? NR.rewrite(url) : new Response(null, { headers: { 'x-middleware-rewrite': String(url) } })
}

function empty(status, statusText) {
  const NR = NextResponseClass()
  return NR ? new NR(null, { status, statusText }) : new Response(null, { status, statusText })
}

const OVERRIDE_HEADERS = 'x-middleware-override-headers'
const REQUEST_HEADER_PREFIX = 'x-middleware-request'

/**
 * Sets request headers for the route (Next's override mechanism): the first call lists every incoming request
 * header, so Next rebuilds the request from the list; each new header is added (a name the client also sent gets
 * the new value).
 * @param {Response} res
 * @param {Headers} requestHeaders
 * @param {Record<string, string>} newHeaders
 */
function setRequestHeaders(res, requestHeaders, newHeaders) {
  if (!res.headers.get(OVERRIDE_HEADERS)) {
    res.headers.set(OVERRIDE_HEADERS, [...requestHeaders.keys()].join(','))
    requestHeaders.forEach((value, key) => res.headers.set(`${REQUEST_HEADER_PREFIX}-${key}`, value))
  }
  const listed = new Set(res.headers.get(OVERRIDE_HEADERS).split(',').map((s) => s.trim()))
  for (const [key, value] of Object.entries(newHeaders)) {
    if (!listed.has(key)) {
      res.headers.set(OVERRIDE_HEADERS, `${res.headers.get(OVERRIDE_HEADERS)},${key}`)
      listed.add(key)
    }
    res.headers.set(`${REQUEST_HEADER_PREFIX}-${key}`, value)
  }
}

module.exports = { next, redirect, rewrite, empty, setRequestHeaders }
