'use strict'
// The dimensions of the authenticateRequest parity matrix (__test__/parity-matrix.test.js) and the generator of
// its cases: full factorials over chosen subsets plus a seeded random sample over every dimension (mulberry32,
// fixed seed, so a failing case id always names the same inputs). A case is a plain object of dimension values;
// parity-run.js turns it into a Request, options and Backend API answers at run time (tokens are signed relative
// to the case's own `now`).

const crypto = require('node:crypto')

const FAPI = 'clerk.example.com'
const PK_TEST = 'pk_test_' + Buffer.from(`${FAPI}$`).toString('base64')
const PK_LIVE = 'pk_live_' + Buffer.from(`${FAPI}$`).toString('base64')

/** Clerk's cookie suffix: base64url(SHA-1(publishableKey))[0..8] (SH/keys.mjs getCookieSuffix). */
function cookieSuffix(pk) {
  return crypto.createHash('sha1').update(pk).digest('base64').replace(/\+/g, '-').replace(/\//g, '_').slice(0, 8)
}

const SIGN_IN = 'https://example.com/sign-in'

/**
 * Instances: keys, the app's origin, the issuer Clerk's FAPI would put in session tokens for it, and the options
 * that make the instance what it is (satellite, proxy).
 */
const INSTANCES = {
  dev: { pk: PK_TEST, sk: 'sk_test_parity', origin: 'https://example.com', iss: `https://${FAPI}`, opts: {} },
  prod: { pk: PK_LIVE, sk: 'sk_live_parity', origin: 'https://example.com', iss: `https://${FAPI}`, opts: {} },
  'sat-prod': {
    pk: PK_LIVE,
    sk: 'sk_live_parity',
    origin: 'https://sat.example.net',
    iss: 'https://clerk.sat.example.net',
    opts: { isSatellite: true, domain: 'sat.example.net', signInUrl: SIGN_IN },
  },
  'sat-dev': {
    pk: PK_TEST,
    sk: 'sk_test_parity',
    origin: 'https://sat.example.net',
    iss: `https://${FAPI}`,
    opts: { isSatellite: true, domain: 'sat.example.net', signInUrl: SIGN_IN },
  },
  'sat-prod-autosync': {
    pk: PK_LIVE,
    sk: 'sk_live_parity',
    origin: 'https://sat.example.net',
    iss: 'https://clerk.sat.example.net',
    opts: { isSatellite: true, domain: 'sat.example.net', signInUrl: SIGN_IN, satelliteAutoSync: true },
  },
  // Misconfigured satellites: Clerk's authenticateRequest throws (assertSignInUrlExists, assertProxyUrlOrDomain,
  // assertSignInUrlFormatAndOrigin).
  'sat-dev-no-signin': {
    pk: PK_TEST,
    sk: 'sk_test_parity',
    origin: 'https://sat.example.net',
    iss: `https://${FAPI}`,
    opts: { isSatellite: true, domain: 'sat.example.net' },
  },
  'sat-prod-no-domain': {
    pk: PK_LIVE,
    sk: 'sk_live_parity',
    origin: 'https://sat.example.net',
    iss: `https://${FAPI}`,
    opts: { isSatellite: true, signInUrl: SIGN_IN },
  },
  'sat-signin-same-origin': {
    pk: PK_LIVE,
    sk: 'sk_live_parity',
    origin: 'https://sat.example.net',
    iss: 'https://clerk.sat.example.net',
    opts: { isSatellite: true, domain: 'sat.example.net', signInUrl: 'https://sat.example.net/sign-in' },
  },
  proxy: {
    pk: PK_LIVE,
    sk: 'sk_live_parity',
    origin: 'https://example.com',
    iss: `https://${FAPI}`,
    opts: { proxyUrl: 'https://example.com/__clerk' },
  },
  'proxy-dev-rel': { pk: PK_TEST, sk: 'sk_test_parity', origin: 'https://example.com', iss: `https://${FAPI}`, opts: { proxyUrl: '/__clerk' } },
  'prod-urls': {
    pk: PK_LIVE,
    sk: 'sk_live_parity',
    origin: 'https://example.com',
    iss: `https://${FAPI}`,
    opts: { signInUrl: '/sign-in', signUpUrl: '/sign-up', afterSignInUrl: '/after-in', afterSignUpUrl: '/after-up' },
  },
}

/** Token states of the session token (cookie or header); machine opaque tokens are for the header. */
const TOKENS = [
  'valid',
  'v1-org',
  'v2-org',
  'expired',
  'expired-nosid',
  'nbf-future',
  'iat-future',
  'iat-before-uat',
  'pending',
  'wrong-azp',
  'no-azp',
  'foreign-iss',
  'machine-jwt',
  'oauth-jwt',
  'cat-other',
  'garbage',
  'ak-ok',
  'ak-404',
  'mt-ok',
  'oat-ok',
  'oat-404',
]

/** Cookie jars (besides the dev-browser, redirect-count and handshake cookies, which are their own dimensions). */
const COOKIES = [
  'none',
  'session-only',
  'uat-only',
  'both',
  'uat0',
  'uat0-only',
  'suffixed',
  'suffixed-and-older-unsuffixed',
  'unsuffixed-newer',
  'foreign-unsuffixed-and-suffixed',
  'both+refresh-ok',
  'both+refresh-bad',
  'both+refresh-unexpected',
  'both+refresh-badtoken',
  'both+unsuffixed-refresh',
  'both-quoted',
  'duplicate-session',
  'uat-garbage',
]

/** Request kinds: method and the headers that decide handshake eligibility. */
const KINDS = {
  document: { method: 'GET', headers: { 'sec-fetch-dest': 'document', accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } },
  iframe: { method: 'GET', headers: { 'sec-fetch-dest': 'iframe', accept: 'text/html,*/*;q=0.8' } },
  fetch: { method: 'GET', headers: { 'sec-fetch-dest': 'empty', accept: '*/*' } },
  'html-no-sfd': { method: 'GET', headers: { accept: 'text/html,application/xhtml+xml' } },
  post: { method: 'POST', headers: { 'sec-fetch-dest': 'document', accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' } },
  bearer: { method: 'GET', headers: { accept: '*/*' }, bearer: true },
  'bearer-document': { method: 'GET', headers: { 'sec-fetch-dest': 'document', accept: 'text/html' }, bearer: true },
  'bearer-post': { method: 'POST', headers: { accept: 'application/json' }, bearer: true },
  'bare-authorization': { method: 'GET', headers: { accept: '*/*' }, authorization: (t) => t },
  'basic-authorization': { method: 'GET', headers: { accept: 'text/html', 'sec-fetch-dest': 'document' }, authorization: () => 'Basic dXNlcjpwYXNz' },
  'bearer-lowercase': { method: 'GET', headers: { accept: '*/*' }, authorization: (t) => `bearer ${t}` },
}

const DEV_BROWSER = ['none', 'cookie', 'suffixed-cookie', 'query']
const REDIRECT_COUNT = [0, 1, 2, 3]
const REFERER = ['none', 'same-origin', 'cross-origin', 'fapi', 'accounts']
const PATHS = ['/dashboard', '/orgs/acme/settings', '/orgs/org_A', '/orgs/other', '/me', '/dashboard?a=1&b=%20x', '/orgs/ac%20me/', '/me/']
const QUERY = ['none', 'synced-true', 'synced-false', 'redirect-url']
const HANDSHAKE = ['none', 'nonce-ok', 'nonce-ok-cookie', 'nonce-404', 'nonce-nosession', 'hs-jwt', 'hs-jwt-expired-session', 'hs-jwt-badsig']
const ORIGIN_SOURCE = ['url', 'forwarded', 'host']
const ACCEPTS = [undefined, 'session_token', 'any', ['session_token', 'api_key'], ['api_key', 'm2m_token'], 'api_key', 'm2m_token', 'oauth_token']
const ORG_SYNC = ['none', 'slug', 'id']
const ISSUER = ['none', 'match', 'mismatch', 'array']
const AZP = ['none', 'match']

const DEFAULTS = {
  instance: 'prod',
  cookies: 'both',
  token: 'valid',
  kind: 'document',
  devBrowser: 'auto', // 'cookie' on development instances, 'none' elsewhere
  redirectCount: 0,
  referer: 'none',
  path: '/dashboard',
  query: 'none',
  handshake: 'none',
  originSource: 'url',
  acceptsToken: undefined,
  orgSync: 'none',
  issuer: 'none',
  authorizedParties: 'none',
}

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function product(dims) {
  let out = [{}]
  for (const [name, values] of Object.entries(dims)) {
    const next = []
    for (const o of out) for (const v of values) next.push({ ...o, [name]: v })
    out = next
  }
  return out
}

/**
 * The cases: `{ id, group, ...dimensions }`. Groups:
 *   F1 instance × kind × token (cookie jar `both`, dev-browser cookie on dev instances)
 *   F2 instance × cookie jar × kind ∈ {document, fetch, html-no-sfd} × token ∈ {valid, expired}
 *   F3 acceptsToken × header token (bearer fetch on prod)
 *   F4 redirect count × {expired document, uat without session document} × {prod, dev}
 *   F5 token ∈ {valid, wrong azp, no azp, foreign iss} × authorizedParties × issuer × {document cookie, bearer}
 *   F6 organizationSyncOptions × path × {no org, v1 org, v2 org claims} × {document, fetch}
 *   F7 referer × {prod, dev, prod satellite} × {document, fetch, POST} × redirect count {0, 1}
 *   F8 handshake resolution input (nonce, legacy JWT) × {prod, dev} × {document, fetch}
 *   F9 other Authorization spellings (bare token, Basic, lower-case bearer) × token × {no cookies, both}
 *   F10 misconfigured satellites (Clerk throws) × {document, bearer} × acceptsToken {default, m2m_token}
 *   F11 satellites (prod, prod with satelliteAutoSync, dev) × __clerk_synced × {no cookies, both} × {document, fetch}
 *   R  a seeded random sample over every dimension
 */
function generateCases({ seed = 0x5eed12, randomCount = 400 } = {}) {
  const cases = []
  const push = (group, c) => cases.push({ ...DEFAULTS, ...c, group, id: cases.length + 1 })
  const instNames = ['dev', 'prod', 'sat-prod', 'sat-dev', 'proxy']
  const sessionTokens = ['valid', 'v1-org', 'v2-org', 'expired', 'nbf-future', 'iat-future', 'iat-before-uat', 'pending', 'cat-other', 'garbage']
  for (const c of product({ instance: instNames, kind: ['document', 'iframe', 'fetch', 'html-no-sfd', 'post', 'bearer'], token: sessionTokens })) {
    push('F1', c)
  }
  for (const c of product({ instance: instNames, cookies: COOKIES, kind: ['document', 'fetch'], token: ['valid', 'expired'] })) {
    push('F2', c)
  }
  for (const c of product({
    acceptsToken: ACCEPTS,
    token: ['valid', 'machine-jwt', 'oauth-jwt', 'cat-other', 'ak-ok', 'ak-404', 'mt-ok', 'oat-ok', 'oat-404'],
  })) {
    push('F3', { ...c, kind: 'bearer', cookies: 'none' })
  }
  for (const c of product({ instance: ['prod', 'dev'], redirectCount: REDIRECT_COUNT, token: ['expired', 'valid'], cookies: ['both', 'uat-only'] })) {
    push('F4', c)
  }
  for (const c of product({
    token: ['valid', 'wrong-azp', 'no-azp', 'foreign-iss'],
    authorizedParties: AZP,
    issuer: ISSUER,
    kind: ['document', 'bearer'],
  })) {
    push('F5', c)
  }
  for (const c of product({ orgSync: ['slug', 'id'], path: PATHS, token: ['valid', 'v1-org', 'v2-org'], kind: ['document', 'fetch'] })) {
    push('F6', c)
  }
  for (const c of product({ referer: REFERER, instance: ['prod', 'dev', 'sat-prod'], kind: ['document', 'fetch', 'post'], redirectCount: [0, 1] })) {
    push('F7', c)
  }
  for (const c of product({ handshake: HANDSHAKE, instance: ['prod', 'dev'], kind: ['document', 'fetch'] })) {
    push('F8', c)
  }
  for (const c of product({
    kind: ['bare-authorization', 'basic-authorization', 'bearer-lowercase'],
    token: ['valid', 'expired', 'ak-ok'],
    cookies: ['none', 'both'],
  })) {
    push('F9', c)
  }
  for (const c of product({
    instance: ['sat-dev-no-signin', 'sat-prod-no-domain', 'sat-signin-same-origin'],
    kind: ['document', 'bearer'],
    acceptsToken: [undefined, 'm2m_token'],
  })) {
    push('F10', c)
  }
  for (const c of product({
    instance: ['sat-prod', 'sat-prod-autosync', 'sat-dev'],
    query: ['none', 'synced-true', 'synced-false'],
    cookies: ['none', 'both'],
    kind: ['document', 'fetch'],
  })) {
    push('F11', c)
  }
  const r = rng(seed)
  const pick = (arr) => arr[Math.floor(r() * arr.length)]
  const instAll = Object.keys(INSTANCES).filter((n) => !n.startsWith('sat-') || ['sat-prod', 'sat-dev', 'sat-prod-autosync'].includes(n))
  for (let i = 0; i < randomCount; i++) {
    push('R', {
      instance: pick(instAll),
      cookies: pick(COOKIES),
      token: pick(TOKENS),
      kind: pick(Object.keys(KINDS)),
      devBrowser: pick(['auto', ...DEV_BROWSER]),
      redirectCount: pick(REDIRECT_COUNT),
      referer: pick(REFERER),
      path: pick(PATHS),
      query: pick(QUERY),
      handshake: r() < 0.7 ? 'none' : pick(HANDSHAKE),
      originSource: pick(ORIGIN_SOURCE),
      acceptsToken: r() < 0.5 ? undefined : pick(ACCEPTS),
      orgSync: pick(ORG_SYNC),
      issuer: r() < 0.6 ? 'none' : pick(ISSUER),
      authorizedParties: pick(AZP),
    })
  }
  return cases
}

/** A one-line description of a case: every dimension that differs from the defaults. */
function describeCase(c) {
  const parts = [`#${c.id}`, c.group, c.instance, c.kind, `token=${c.token}`, `cookies=${c.cookies}`]
  for (const k of [
    'devBrowser',
    'redirectCount',
    'referer',
    'path',
    'query',
    'handshake',
    'originSource',
    'acceptsToken',
    'orgSync',
    'issuer',
    'authorizedParties',
  ]) {
    if (JSON.stringify(c[k]) !== JSON.stringify(DEFAULTS[k])) parts.push(`${k}=${JSON.stringify(c[k])}`)
  }
  return parts.join(' ')
}

module.exports = {
  FAPI,
  PK_TEST,
  PK_LIVE,
  SIGN_IN,
  INSTANCES,
  TOKENS,
  COOKIES,
  KINDS,
  DEV_BROWSER,
  REFERER,
  PATHS,
  HANDSHAKE,
  ACCEPTS,
  DEFAULTS,
  cookieSuffix,
  generateCases,
  describeCase,
  rng,
}
