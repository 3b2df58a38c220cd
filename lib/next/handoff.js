'use strict'
// The middleware -> route hand-off. clerkMiddleware authenticates once and passes the outcome to route handlers,
// server components, server actions and API routes as request headers (Next's `x-middleware-override-headers`
// mechanism, as @clerk/nextjs does). A client cannot forge it:
//   - the middleware sets every hand-off header on every request it lets through, so a client's own copies are
//     replaced (Next rebuilds the request headers from the override list);
//   - `x-clerk-native-auth` (base64url JSON: status, reason, message, token type, the machine auth object, the
//     request URL, the public configuration) and the token in `x-clerk-auth-token` are covered by
//     `x-clerk-native-auth-signature`, an HMAC-SHA256 keyed from CLERK_ENCRYPTION_KEY or the secret key;
//     auth()/getAuth() check it in constant time and refuse anything else with Clerk's `auth_signature_invalid`;
//   - a route the middleware did not run for has no hand-off at all (or a forged one): auth() throws Clerk's
//     "auth() was called but Clerk can't detect usage of clerkMiddleware()" error.
// Clerk's own headers (`x-clerk-auth-status/-reason/-message/-token/-signature`, `x-clerk-clerk-url`, the
// signature being Clerk's HMAC-SHA1 of the token with the secret key) are set too, with Clerk's values, so code
// that reads them keeps working; clerk-native never trusts them.
// No secret travels in the headers. Options that routes need and the environment may lack (a secretKey passed
// only to clerkMiddleware) stay in this process, found by an id in the payload.

const crypto = require('node:crypto')
const { env, envSecretKey, envApiUrl, envApiVersion } = require('./config')
const { authAuthHeaderMissing, authSignatureInvalid } = require('./errors')

const H = {
  status: 'x-clerk-auth-status',
  reason: 'x-clerk-auth-reason',
  message: 'x-clerk-auth-message',
  token: 'x-clerk-auth-token',
  signature: 'x-clerk-auth-signature',
  url: 'x-clerk-clerk-url',
  handoff: 'x-clerk-native-auth',
  handoffSignature: 'x-clerk-native-auth-signature',
}
/** Every request header the middleware sets for routes (all of them on every decorated request). */
const HANDOFF_HEADERS = Object.values(H)
const VERSION = 'v1'
const KEY_LABEL = 'clerk-native/next hand-off v1'

// Derived MAC keys for the last few key materials (compared in memory; never logged, never a map key).
const derived = []
function macKey(material) {
  for (const d of derived) if (d.material === material) return d.key
  const key = crypto.createHmac('sha256', material).update(KEY_LABEL).digest()
  derived.unshift({ material, key })
  if (derived.length > 4) derived.pop()
  return key
}

// One random key per process for middlewares that have neither CLERK_ENCRYPTION_KEY nor a secret key (networkless
// `jwtKey` setups): routes in the same process find it through the registry.
let processKey = null
const processMaterial = () => (processKey ??= crypto.randomBytes(32).toString('hex'))

// id -> { key, secretKey, apiUrl, apiVersion, publishableKey }: what a route in this process needs from the
// middleware's options. Bounded; the id is a digest of those values (never the values themselves).
const registry = new Map()
const MAX_REGISTRY = 256

/**
 * The hand-off settings of one resolved middleware configuration: registered in this process, returned with its id.
 * @param {{ secretKey?: string, publishableKey?: string, apiUrl?: string, apiVersion?: string }} config
 */
function register(config) {
  const material = env('CLERK_ENCRYPTION_KEY') || config.secretKey || processMaterial()
  const entry = {
    key: macKey(material),
    secretKey: config.secretKey || undefined,
    publishableKey: config.publishableKey || undefined,
    apiUrl: config.apiUrl || undefined,
    apiVersion: config.apiVersion || undefined,
  }
  const id = crypto
    .createHash('sha256')
    .update(JSON.stringify([entry.key.toString('base64'), entry.apiUrl, entry.apiVersion, entry.publishableKey]))
    .digest('base64url')
    .slice(0, 22)
  if (!registry.has(id)) {
    if (registry.size >= MAX_REGISTRY) registry.delete(registry.keys().next().value)
    registry.set(id, entry)
  }
  entry.id = id
  return entry
}

const mac = (key, token, body) => crypto.createHmac('sha256', key).update(`${VERSION}\n${token}\n${body}`).digest('base64url')

/** Clerk's `createTokenSignature`: HMAC-SHA1 of the token keyed by the secret key, hex. */
const clerkTokenSignature = (token, secretKey) => crypto.createHmac('sha1', secretKey).update(token).digest('hex')

const isByteString = (s) => typeof s === 'string' && /^[\t\x20-\x7e\x80-\xff]*$/.test(s)

/**
 * The request headers clerkMiddleware hands to routes for one authenticated request.
 * @param {{ status: string, reason?: string | null, message?: string | null, token?: string | null, tokenType?: string | null }} state
 * @param {object | null} machine the machine auth object without functions (machine token types), else null
 * @param {string} clerkUrl
 * @param {{ id: string, key: Buffer, secretKey?: string }} entry from {@link register}
 * @param {{ publishableKey?: string, signInUrl?: string, signUpUrl?: string, isSatellite?: boolean, domain?: string, proxyUrl?: string }} pub
 * @returns {Record<string, string>}
 */
function handoffHeaders(state, machine, clerkUrl, entry, pub) {
  const token = state.token || ''
  const payload = {
    s: state.status,
    r: state.reason || '',
    m: state.message || '',
    y: state.tokenType || null,
    a: machine,
    u: clerkUrl,
    o: entry.id,
    p: pub,
  }
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url')
  return {
    [H.status]: state.status,
    [H.token]: token,
    [H.signature]: token && entry.secretKey ? clerkTokenSignature(token, entry.secretKey) : '',
    [H.message]: isByteString(state.message) ? state.message : '',
    [H.reason]: state.reason || '',
    [H.url]: clerkUrl,
    [H.handoff]: body,
    [H.handoffSignature]: `${VERSION}.${mac(entry.key, token, body)}`,
  }
}

function signatureMatches(key, token, body, signature) {
  const expected = Buffer.from(`${VERSION}.${mac(key, token, body)}`)
  const given = Buffer.from(signature)
  return given.length === expected.length && crypto.timingSafeEqual(given, expected)
}

let last = null // the last verified hand-off (auth() is often called several times for one request)

/**
 * Reads and checks the hand-off of a request. Throws Clerk's "can't detect usage of clerkMiddleware()" error when
 * there is none, and Clerk's `auth_signature_invalid` error when it does not verify (forged or altered).
 * @param {(name: string) => string | null} get header reader
 * @param {string} helperName for the error message (`auth`, `getAuth`, `currentUser`)
 * @returns {{ status: string, reason: string | null, message: string | null, tokenType: string | null, token: string | null,
 *   machine: object | null, clerkUrl: string, config: { publishableKey?: string, signInUrl?: string, signUpUrl?: string,
 *   isSatellite?: boolean, domain?: string, proxyUrl?: string, secretKey?: string, apiUrl: string, apiVersion: string } }}
 */
function readHandoff(get, helperName) {
  const body = get(H.handoff)
  if (!body) {
    const err = new Error(authAuthHeaderMissing(helperName))
    err.code = 'auth_middleware_missing'
    throw err
  }
  const signature = get(H.handoffSignature) || ''
  const token = get(H.token) || ''
  if (last !== null && last.body === body && last.signature === signature && last.token === token) return last.value
  let payload = null
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {}
  const entry = payload && typeof payload.o === 'string' ? registry.get(payload.o) : undefined
  const material = entry ? null : env('CLERK_ENCRYPTION_KEY') || envSecretKey()
  const key = entry ? entry.key : material ? macKey(material) : null
  if (payload === null || typeof payload !== 'object' || key === null || !signatureMatches(key, token, body, signature)) {
    const err = new Error(authSignatureInvalid)
    err.code = 'auth_signature_invalid'
    throw err
  }
  const pub = payload.p && typeof payload.p === 'object' ? payload.p : {}
  const value = Object.freeze({
    status: payload.s,
    reason: payload.r || null,
    message: payload.m || null,
    tokenType: payload.y || null,
    token: token || null,
    machine: payload.a || null,
    clerkUrl: payload.u,
    config: Object.freeze({
      ...pub,
      secretKey: entry?.secretKey || envSecretKey(),
      apiUrl: entry?.apiUrl || envApiUrl(pub.publishableKey),
      apiVersion: entry?.apiVersion || envApiVersion(),
    }),
  })
  last = { body, signature, token, value }
  return value
}

/** True when the request carries a hand-off header (checked or not). */
const hasHandoff = (get) => !!get(H.handoff)

module.exports = { HANDOFF_HEADERS, HEADERS: H, register, handoffHeaders, readHandoff, hasHandoff }
