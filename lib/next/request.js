'use strict'
// Reading requests the way @clerk/nextjs does: the URL the client used (X-Forwarded-* first, as Clerk's
// `ClerkRequest.clerkUrl`), cookies, and Clerk's classification of page requests and server actions. Works on a
// Web Request / NextRequest, on `headers()` from next/headers, and on a Node IncomingMessage (Pages Router).

/** A `get(name)` over any header carrier: Headers-like (`get`) or a Node/plain record (lower-case names). */
function headerReader(headers) {
  if (headers == null) return () => null
  if (typeof headers.get === 'function') return (name) => headers.get(name)
  return (name) => {
    let v = headers[name]
    if (v === undefined) {
      for (const k of Object.keys(headers)) {
        if (k.toLowerCase() === name) {
          v = headers[k]
          break
        }
      }
    }
    if (Array.isArray(v)) return v.join(', ')
    return v == null ? null : String(v)
  }
}

// Clerk's ClerkRequest.deriveUrlFromHeaders: one implementation for every entry path (lib/auth.js).
const { clerkUrlOf } = require('../auth')

/** One cookie's value from a Cookie header (first occurrence; percent-decoded as the `cookie` package does). */
function cookieValue(cookieHeader, name) {
  if (!cookieHeader) return undefined
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() !== name) continue
    let v = part.slice(eq + 1).trim()
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
    try {
      return decodeURIComponent(v)
    } catch {
      return v
    }
  }
  return undefined
}

/** Clerk's `isServerActionRequest`: a `next-url` header and a server-action content type or `next-action`. */
function isServerActionRequest(get) {
  if (!get('next-url')) return false
  return !!(get('accept')?.includes('text/x-component') || get('content-type')?.includes('multipart/form-data') || get('next-action'))
}

/**
 * Clerk's `isPageRequest`: a document or iframe fetch, an `Accept` with text/html, an App Router navigation
 * (`next-url`, not a server action) or a Pages Router data request (`x-nextjs-data`).
 */
function isPageRequest(get) {
  const dest = get('sec-fetch-dest')
  return (
    dest === 'document' ||
    dest === 'iframe' ||
    !!get('accept')?.includes('text/html') ||
    (!!get('next-url') && !isServerActionRequest(get)) ||
    !!get('x-nextjs-data')
  )
}

module.exports = { headerReader, clerkUrlOf, cookieValue, isServerActionRequest, isPageRequest }
