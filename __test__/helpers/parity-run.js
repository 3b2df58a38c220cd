'use strict'
// Runs one case of the authenticateRequest parity matrix against Clerk's @clerk/backend 3.25.0
// (`createClerkClient(opts).authenticateRequest(new Request(url, init), opts)`) and against ours
// (`authenticateRequest(new Request(url, init), opts)`), and turns each RequestState into a comparable snapshot:
// the state fields, every header (`Set-Cookie` as a list), the `toAuth()` object (every non-function key,
// `getToken()` without arguments and `has()` over a fixed probe list), `toAuth({ treatPendingAsSignedOut: false })`
// for signed-in sessions, and the Backend API calls the implementation made (attributed by case tag; Clerk's
// call runs to completion before ours starts, so the calls recorded before ours began are Clerk's).

const T = require('./tokens')
const P = require('./parity-cases')

const STATE_FIELDS = [
  'status',
  'reason',
  'message',
  'isSignedIn',
  'isAuthenticated',
  'token',
  'tokenType',
  'publishableKey',
  'proxyUrl',
  'isSatellite',
  'domain',
  'signInUrl',
  'signUpUrl',
  'afterSignInUrl',
  'afterSignUpUrl',
]

/** The fixed has() probe list (single dimensions and the combined probes of AUTH-PARITY.md §2 item 8). */
const HAS_PROBES = [
  { role: 'org:admin' },
  { role: 'admin' },
  { role: 'org:member' },
  { permission: 'org:items:read' },
  { permission: 'org:items:write' },
  { role: 'org:admin', permission: 'org:items:read' },
  { role: 'org:member', permission: 'org:items:read' },
  { feature: 'export' },
  { feature: 'u:export' },
  { feature: 'o:items' },
  { plan: 'pro' },
  { feature: 'export', plan: 'pro' },
  { feature: 'export', plan: 'free' },
  { reverification: 'strict' },
  { reverification: 'lax' },
  { reverification: { level: 'first_factor', afterMinutes: 10 } },
  { role: 'org:admin', reverification: 'lax' },
]

const CAT_SESSION = 'cl_B7d4PD111AAA'
const CAT_M2M = 'cl_B7d4PD333AAA'
const CAT_OTHER = 'cl_B7d4PD222AAA'

const ORG_SYNC = {
  none: undefined,
  slug: { organizationPatterns: ['/orgs/:slug', '/orgs/:slug/(.*)'], personalAccountPatterns: ['/me', '/me/(.*)'] },
  id: { organizationPatterns: ['/orgs/:id', '/orgs/:id/(.*)'] },
}

const CREATED = 1700000000000

function machineResource(token, tag) {
  if (token.startsWith('ak_')) {
    return {
      object: 'api_key',
      id: `ak_id_${tag}`,
      type: 'api_key',
      name: 'parity key',
      subject: 'user_9',
      scopes: ['read'],
      claims: { team: 'a' },
      revoked: false,
      revocation_reason: null,
      expired: false,
      expiration: null,
      created_by: 'user_9',
      description: null,
      last_used_at: null,
      created_at: CREATED,
      updated_at: CREATED,
    }
  }
  if (token.startsWith('mt_')) {
    return {
      object: 'machine_to_machine_token',
      id: `mt_id_${tag}`,
      subject: 'mch_1',
      scopes: ['mch_2'],
      claims: { a: 1 },
      revoked: false,
      revocation_reason: null,
      expired: false,
      expiration: null,
      created_at: CREATED,
      updated_at: CREATED,
    }
  }
  return {
    object: 'clerk_idp_oauth_access_token',
    id: `oat_id_${tag}`,
    client_id: 'client_1',
    type: 'oauth_token',
    subject: 'user_9',
    scopes: ['read'],
    revoked: false,
    revocation_reason: null,
    expired: false,
    expiration: null,
    created_at: CREATED,
    updated_at: CREATED,
  }
}

/**
 * Builds the request (url, init), the options and the Backend API answers of case `c` for the clock `now`
 * (seconds). Pure apart from JWT signing (RS256 with `key`).
 */
function materialize(c, now, key, apiUrl) {
  const inst = P.INSTANCES[c.instance]
  const sfx = P.cookieSuffix(inst.pk)
  const tag = `c${c.id}z`
  const sid = `sess_${tag}`
  let jti = 0
  const base = (over = {}) => ({
    sub: 'user_1',
    sid,
    iat: now - 10,
    nbf: now - 10,
    exp: now + 120,
    iss: inst.iss,
    azp: inst.origin,
    jti: `jti_${tag}_${++jti}`,
    ...over,
  })
  const sign = (claims, header) => T.signJwt(key, claims, header ? { header } : {})
  const uat = String(now - 300)

  function tokenFor(state) {
    switch (state) {
      case 'valid':
        return sign(base())
      case 'v1-org':
        return sign(base({ org_id: 'org_A', org_role: 'org:admin', org_slug: 'acme', org_permissions: ['org:items:read'] }))
      case 'v2-org':
        return sign(
          base({
            v: 2,
            o: { id: 'org_A', rol: 'admin', slg: 'acme', per: 'read', fpm: '1' },
            fea: 'o:items,u:export',
            pla: 'u:pro',
            fva: [5, -1],
            sts: 'active',
          }),
          { cat: CAT_SESSION },
        )
      case 'expired':
        return sign(base({ iat: now - 200, nbf: now - 200, exp: now - 100 }))
      case 'expired-nosid': {
        const cl = base({ iat: now - 200, nbf: now - 200, exp: now - 100 })
        delete cl.sid
        return sign(cl)
      }
      case 'nbf-future':
        return sign(base({ nbf: now + 100, exp: now + 200 }))
      case 'iat-future':
        return sign(base({ iat: now + 100, exp: now + 200 }))
      case 'iat-before-uat':
        return sign(base({ iat: now - 600, nbf: now - 600 }))
      case 'pending':
        return sign(base({ v: 2, sts: 'pending', fva: [5, 5] }))
      case 'wrong-azp':
        return sign(base({ azp: 'https://evil.example' }))
      case 'no-azp': {
        const cl = base()
        delete cl.azp
        return sign(cl)
      }
      case 'foreign-iss':
        return sign(base({ iss: 'https://clerk.other.dev' }))
      case 'machine-jwt':
        return sign(
          { sub: 'mch_1', jti: `mt_jwt_${tag}`, iat: now - 10, nbf: now - 10, exp: now + 120, iss: inst.iss, scopes: 'mch_2 mch_3' },
          { cat: CAT_M2M },
        )
      case 'oauth-jwt':
        return sign(
          {
            sub: 'user_9',
            client_id: 'client_1',
            scope: 'read write',
            jti: `oat_jwt_${tag}`,
            iat: now - 10,
            nbf: now - 10,
            exp: now + 120,
            iss: inst.iss,
          },
          { typ: 'at+jwt' },
        )
      case 'cat-other':
        return sign(base(), { cat: CAT_OTHER })
      case 'garbage':
        return 'not-a-jwt'
      case 'ak-ok':
        return `ak_ok_${tag}`
      case 'ak-404':
        return `ak_404_${tag}`
      case 'mt-ok':
        return `mt_ok_${tag}`
      case 'oat-ok':
        return `oat_ok_${tag}`
      case 'oat-404':
        return `oat_404_${tag}`
      default:
        throw new Error(`unknown token state ${state}`)
    }
  }

  const token = tokenFor(c.token)
  let freshMemo
  const fresh = () => (freshMemo ||= sign(base({ iat: now - 5, nbf: now - 5 })))
  const olderValid = () => sign(base({ iat: now - 60, nbf: now - 60 }))

  // Cookie jar
  const jar = []
  const S = (v) => jar.push(['__session', v])
  const U = (v) => jar.push(['__client_uat', v])
  const Ss = (v) => jar.push([`__session_${sfx}`, v])
  const Us = (v) => jar.push([`__client_uat_${sfx}`, v])
  switch (c.cookies) {
    case 'none':
      break
    case 'session-only':
      S(token)
      break
    case 'uat-only':
      U(uat)
      break
    case 'both':
      S(token)
      U(uat)
      break
    case 'uat0':
      S(token)
      U('0')
      break
    case 'uat0-only':
      U('0')
      break
    case 'suffixed':
      Ss(token)
      Us(uat)
      break
    case 'suffixed-and-older-unsuffixed':
      S(olderValid())
      U(uat)
      Ss(token)
      Us(uat)
      break
    case 'unsuffixed-newer':
      S(token)
      U(uat)
      Ss(sign(base({ iat: now - 250, nbf: now - 250 })))
      Us(uat)
      break
    case 'foreign-unsuffixed-and-suffixed':
      S(sign(base({ iss: 'https://clerk.other.dev', sub: 'user_other' })))
      U(uat)
      Ss(token)
      Us(uat)
      break
    case 'both+refresh-ok':
    case 'both+refresh-bad':
    case 'both+refresh-unexpected':
    case 'both+refresh-badtoken':
      S(token)
      U(uat)
      jar.push([`__refresh_${sfx}`, `rt_${c.cookies.slice('both+refresh-'.length)}_${tag}`])
      break
    case 'both-quoted':
      S(`"${token}"`)
      U(`"${uat}"`)
      break
    case 'duplicate-session':
      S(token)
      S(sign(base({ sub: 'user_second' })))
      U(uat)
      break
    case 'uat-garbage':
      S(token)
      U('abc')
      break
    case 'both+unsuffixed-refresh':
      S(token)
      U(uat)
      jar.push(['__refresh', `rt_ok_${tag}`])
      break
    default:
      throw new Error(`unknown cookie state ${c.cookies}`)
  }
  const db = c.devBrowser === 'auto' ? (inst.pk.startsWith('pk_test_') ? 'cookie' : 'none') : c.devBrowser
  if (db === 'cookie') jar.push(['__clerk_db_jwt', `dvb_${tag}`])
  if (db === 'suffixed-cookie') jar.push([`__clerk_db_jwt_${sfx}`, `dvb_${tag}`])
  if (c.redirectCount > 0) jar.push(['__clerk_redirect_count', String(c.redirectCount)])

  // Handshake resolution inputs
  const directives = (sessionToken) => [
    `__session=${sessionToken}; Path=/; Secure; HttpOnly; SameSite=Lax`,
    `__client_uat=${now}; Path=/; Secure; SameSite=Lax; Max-Age=31536000`,
  ]
  const query = []
  switch (c.handshake) {
    case 'none':
      break
    case 'nonce-ok':
      query.push(['__clerk_handshake_nonce', `hn_ok_${tag}`])
      break
    case 'nonce-ok-cookie':
      jar.push(['__clerk_handshake_nonce', `hn_ok_${tag}`])
      break
    case 'nonce-404':
      query.push(['__clerk_handshake_nonce', `hn_404_${tag}`])
      break
    case 'nonce-nosession':
      query.push(['__clerk_handshake_nonce', `hn_nosession_${tag}`])
      break
    case 'hs-jwt':
      query.push(['__clerk_handshake', sign({ handshake: directives(fresh()) })])
      break
    case 'hs-jwt-expired-session':
      query.push(['__clerk_handshake', sign({ handshake: directives(sign(base({ iat: now - 200, nbf: now - 200, exp: now - 100 }))) })])
      break
    case 'hs-jwt-badsig': {
      const t = sign({ handshake: directives(fresh()) })
      query.push(['__clerk_handshake', t.slice(0, -6) + (t.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA')])
      break
    }
    default:
      throw new Error(`unknown handshake state ${c.handshake}`)
  }
  if (db === 'query') query.push(['__clerk_db_jwt', `dvb_${tag}`])
  if (c.query === 'synced-true') query.push(['__clerk_synced', 'true'])
  if (c.query === 'synced-false') query.push(['__clerk_synced', 'false'])
  if (c.query === 'redirect-url') query.push(['__clerk_redirect_url', 'https://sat.example.net/return?x=1'])

  // URL and headers
  const kind = P.KINDS[c.kind]
  const headers = { ...kind.headers, 'user-agent': 'parity-matrix/1' }
  const originHost = new URL(inst.origin).host
  let urlBase = inst.origin
  if (c.originSource === 'forwarded') {
    urlBase = 'http://localhost:3000'
    headers['x-forwarded-host'] = `${originHost}, proxy.internal`
    headers['x-forwarded-proto'] = 'https'
  } else if (c.originSource === 'host') {
    urlBase = 'http://localhost:3000'
    headers.host = originHost
  }
  const u = new URL(c.path, urlBase)
  for (const [k, v] of query) u.searchParams.append(k, v)
  if (kind.bearer) headers.authorization = `Bearer ${token}`
  if (kind.authorization) headers.authorization = kind.authorization(token)
  if (jar.length) headers.cookie = jar.map(([k, v]) => `${k}=${v}`).join('; ')
  const referers = {
    none: undefined,
    'same-origin': `${inst.origin}/previous`,
    'cross-origin': 'https://other.example.org/page',
    fapi: `https://${P.FAPI}/v1/client`,
    accounts: 'https://accounts.example.com/sign-in',
  }
  if (referers[c.referer]) headers.referer = referers[c.referer]

  // Options (a fresh object per call)
  const options = () => {
    const o = { secretKey: inst.sk, publishableKey: inst.pk, jwtKey: key.publicPem, apiUrl, ...inst.opts }
    if (c.acceptsToken !== undefined) o.acceptsToken = Array.isArray(c.acceptsToken) ? [...c.acceptsToken] : c.acceptsToken
    if (ORG_SYNC[c.orgSync]) o.organizationSyncOptions = structuredClone(ORG_SYNC[c.orgSync])
    if (c.issuer === 'match') o.issuer = inst.iss
    if (c.issuer === 'mismatch') o.issuer = 'https://wrong.example'
    if (c.issuer === 'array') o.issuer = ['https://wrong.example', inst.iss]
    if (c.authorizedParties === 'match') o.authorizedParties = [inst.origin]
    return o
  }

  // Backend API answers
  const handlers = {
    refresh(rec) {
      const rt = String(rec.body && rec.body.refresh_token)
      const suffixed = rec.query.suffixed_cookies === 'true'
      if (rt.startsWith('rt_ok_')) {
        return {
          body: {
            object: 'cookies',
            cookies: [
              `${suffixed ? `__session_${sfx}` : '__session'}=${fresh()}; Path=/; Secure; HttpOnly; SameSite=Lax`,
              `${suffixed ? `__client_uat_${sfx}` : '__client_uat'}=${now}; Path=/; Secure; SameSite=Lax`,
            ],
          },
        }
      }
      if (rt.startsWith('rt_bad_'))
        return { status: 422, body: { errors: [{ code: 'refresh_token_invalid', message: 'The refresh token is invalid.' }] } }
      if (rt.startsWith('rt_unexpected_')) return { status: 500, body: { errors: [{ code: 'unexpected_error', message: 'Something went wrong' }] } }
      if (rt.startsWith('rt_badtoken_')) return { body: { object: 'cookies', cookies: ['__session=not-a-jwt; Path=/'] } }
      return { status: 404, body: { errors: [{ code: 'resource_not_found', message: 'not found' }] } }
    },
    handshakePayload(rec) {
      const n = String(rec.query.nonce)
      if (n.startsWith('hn_ok_')) return { body: { directives: directives(fresh()) } }
      if (n.startsWith('hn_nosession_')) return { body: { directives: ['__client_uat=0; Path=/; Secure; SameSite=Lax'] } }
      return { status: 404, body: { errors: [{ code: 'resource_not_found', message: 'not found' }] } }
    },
    machine(rec) {
      const b = rec.body || {}
      const t = String(b.secret ?? b.token ?? b.access_token)
      if (/^(ak|mt|oat)_ok_/.test(t)) return { body: machineResource(t, tag) }
      return { status: 404, body: { errors: [{ code: 'resource_not_found', message: 'not found' }] } }
    },
  }

  const init = { method: kind.method, headers }
  return {
    inst,
    url: u.href,
    init,
    options,
    handlers,
    display: abbreviateJwts(`${kind.method} ${u.href} ${JSON.stringify(headers)}`),
  }
}

/** JWTs in printed requests and diffs as `<jwt {claims}>` (the claims say more than the base64 does). */
function abbreviateJwts(text) {
  let prev
  for (let i = 0; i < 3 && prev !== text; i++) {
    prev = text
    text = abbreviateOnce(text)
  }
  return text
}

function abbreviateOnce(text) {
  return text.replace(/eyJ[A-Za-z0-9_-]+\.(eyJ[A-Za-z0-9_-]*)\.[A-Za-z0-9_-]+/g, (_, p) => {
    try {
      const c = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
      const { iss, azp, jti, ...rest } = c
      return `<jwt ${JSON.stringify(rest)}>`
    } catch {
      return '<jwt ?>'
    }
  })
}

const UNDEF = '<undefined>'

/** JSON-comparable copy (class instances become plain objects, undefined is kept visible as '<undefined>'). */
function plain(v) {
  if (v === undefined) return UNDEF
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map(plain)
  const out = {}
  for (const k of Object.keys(v).sort()) if (typeof v[k] !== 'function') out[k] = plain(v[k])
  return out
}

function headersOf(h) {
  if (h == null) return null
  if (typeof h.forEach !== 'function' || typeof h.get !== 'function') return { '<not Headers>': plain(h) }
  const out = {}
  h.forEach((value, name) => {
    if (name !== 'set-cookie') out[name] = value
  })
  const sc = typeof h.getSetCookie === 'function' ? h.getSetCookie() : h.get('set-cookie') ? [h.get('set-cookie')] : []
  if (sc.length) out['set-cookie'] = sc
  return out
}

async function authSnapshot(a) {
  if (a === null) return null
  if (a === undefined) return UNDEF
  if (typeof a !== 'object') return { '<not an object>': String(a) }
  const out = { fields: plain(a) }
  try {
    out.getToken = typeof a.getToken === 'function' ? plain(await a.getToken()) : '<no getToken>'
  } catch (err) {
    out.getToken = `throw:${err && err.message}`
  }
  out.has = HAS_PROBES.map((p) => {
    try {
      return typeof a.has === 'function' ? a.has(p) : '<no has>'
    } catch (err) {
      return `throw:${err && err.message}`
    }
  })
  return out
}

/** A comparable snapshot of what `fn()` (an authenticateRequest call) resolves to. */
async function snapshot(fn) {
  let state
  try {
    state = await fn()
  } catch (err) {
    return { threw: String((err && err.message) || err).split('\n')[0] }
  }
  const out = {}
  for (const k of STATE_FIELDS) out[k] = plain(state[k])
  out.headers = headersOf(state.headers)
  try {
    out.auth = await authSnapshot(state.toAuth())
  } catch (err) {
    out.auth = `throw:${err && err.message}`
  }
  if (state.status === 'signed-in' && state.tokenType === 'session_token') {
    try {
      out.authPendingOptIn = await authSnapshot(state.toAuth({ treatPendingAsSignedOut: false }))
    } catch (err) {
      out.authPendingOptIn = `throw:${err && err.message}`
    }
  }
  return out
}

/** Flattens a snapshot into path → JSON text (the unit of comparison and of the printed diff). */
function flatten(s) {
  const out = {}
  if (s.threw !== undefined) {
    out.threw = JSON.stringify(true)
    return out
  }
  for (const k of STATE_FIELDS) out[`state.${k}`] = JSON.stringify(s[k])
  const h = s.headers || {}
  for (const k of Object.keys(h)) out[`header.${k}`] = JSON.stringify(h[k])
  for (const which of ['auth', 'authPendingOptIn']) {
    const a = s[which]
    if (a === undefined) continue
    if (a === null || typeof a !== 'object' || !a.fields) {
      out[which] = JSON.stringify(a)
      continue
    }
    for (const k of Object.keys(a.fields)) out[`${which}.${k}`] = JSON.stringify(a.fields[k])
    out[`${which}.getToken()`] = JSON.stringify(a.getToken)
    a.has.forEach((v, i) => {
      out[`${which}.has(${JSON.stringify(HAS_PROBES[i])})`] = JSON.stringify(v)
    })
  }
  out.bapi = JSON.stringify(s.bapi || [])
  return out
}

/** The differing paths of two snapshots: [{ path, clerk, ours }] (missing = undefined). */
function diff(clerk, ours, omit = () => false) {
  const a = flatten(clerk)
  const b = flatten(ours)
  const out = []
  for (const p of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (omit(p)) continue
    if (a[p] !== b[p]) out.push({ path: p, clerk: a[p], ours: b[p] })
  }
  return out
}

const short = (v, n = 240) => {
  if (v === undefined) return '(absent)'
  const a = abbreviateJwts(v)
  return a.length > n ? `${a.slice(0, n)}…(${a.length})` : a
}

/** A short, case-independent description of a flattened value (for category names). */
function desc(v) {
  if (v === undefined) return 'absent'
  let x
  try {
    x = JSON.parse(v)
  } catch {
    return 'text'
  }
  if (x === UNDEF) return 'undefined'
  if (typeof x === 'number' && Math.abs(x) >= 1e9) return 'number'
  if (x === null || typeof x === 'boolean' || typeof x === 'number') return String(x)
  if (typeof x === 'string') return x.length <= 48 && !/c\d+z|eyJ/.test(x) ? JSON.stringify(x) : 'string'
  return Array.isArray(x) ? `array(${x.length})` : 'object'
}

function outcome(s) {
  return s.threw !== undefined ? 'throw' : `${s.status}${s.reason ? ` ${s.reason}` : ''}`
}

/**
 * The mismatch categories of one case (a case can fall into several): a different throw/status/reason is one
 * category (its field differences follow from it); otherwise one category per differing field, with Clerk's and
 * our value described without case-specific data.
 */
function categories(clerk, ours, diffs) {
  if (!diffs.length) return []
  if (clerk.threw !== undefined || ours.threw !== undefined || clerk.status !== ours.status || clerk.reason !== ours.reason) {
    return [`outcome: clerk ${outcome(clerk)} | ours ${outcome(ours)}`]
  }
  const out = new Set()
  // toAuth() null on one side and an object on the other: one category, not one per field.
  const shapeOf = (a) => (a === null ? 'null' : a === undefined ? 'absent' : typeof a === 'object' && a.fields ? 'object' : String(a))
  const whole = new Set()
  for (const which of ['auth', 'authPendingOptIn']) {
    const [x, y] = [shapeOf(clerk[which]), shapeOf(ours[which])]
    if (x !== y && (x !== 'object' || y !== 'object')) {
      whole.add(which)
      out.add(`[${clerk.status}] ${which} (toAuth()): clerk ${x} | ours ${y}`)
    }
  }
  for (const d of diffs) {
    if (whole.has(d.path.split(/[.(]/)[0])) continue
    if (d.path.includes('.has(')) out.add(`[${clerk.status}] ${d.path.split('.')[0]}.has() answers`)
    else if (d.path === 'bapi') out.add(`[${clerk.status}] Backend API calls`)
    else if (
      d.path.endsWith('getToken()') ||
      d.path.endsWith('.sessionClaims') ||
      d.path === 'state.token' ||
      d.path === 'header.set-cookie' ||
      d.path === 'header.location'
    ) {
      out.add(`[${clerk.status}] ${d.path} differs`)
    } else out.add(`[${clerk.status}] ${d.path}: clerk ${desc(d.clerk)} | ours ${desc(d.ours)}`)
  }
  return [...out].sort()
}

/**
 * The area a category belongs to (for the summary by area; a heuristic, the categories themselves are exact).
 */
function areaOf(category) {
  if (category.startsWith('outcome:')) {
    const [clerk, ours] = category.slice('outcome: clerk '.length).split(' | ours ')
    if (clerk === 'throw' || ours === 'throw' || ours.startsWith('throw')) return 'outcome: thrown errors'
    if (clerk.startsWith('handshake') && !ours.startsWith('handshake')) return 'outcome: Clerk hands shake, we do not'
    if (ours.startsWith('handshake') && !clerk.startsWith('handshake')) return 'outcome: we hand shake, Clerk does not'
    if (/dev-browser|satellite|primary-|active-organization|session-token-missing/.test(`${clerk} ${ours}`))
      return 'outcome: handshake-family reasons (dev browser, satellite, org sync, handshake resolution)'
    if (/refresh-(?!non-eligible)/.test(`${clerk} ${ours}`) || (clerk === 'signed-in' && /expired-refresh/.test(ours)))
      return 'outcome: session refresh (refresh cookie)'
    if (/issuer|authorized-parties/.test(`${clerk} ${ours}`)) return 'outcome: issuer / authorizedParties'
    if (/No token in header|token-type-mismatch|token-invalid\b|unexpected-error/.test(`${clerk} ${ours}`))
      return 'outcome: token routing (acceptsToken, machine tokens, mismatch reasons)'
    return 'outcome: other (cookie selection, suffixed cookies, ...)'
  }
  if (category.includes('Backend API calls')) return 'Backend API calls'
  if (/\] (auth|authPendingOptIn)[. ]/.test(category)) return 'toAuth() object fields, has(), getToken()'
  if (/\] header\./.test(category)) return 'RequestState headers'
  if (/\] state\./.test(category)) return 'RequestState fields'
  return 'other'
}

/** The first category of a case (the test's failure title). */
function categorize(clerk, ours, diffs) {
  return categories(clerk, ours, diffs)[0] || null
}

function formatDiff(r, diffs) {
  const lines = [`case ${P.describeCase(r.case)}`, `  request: ${r.request}`]
  if (r.clerk.threw !== undefined || r.ours.threw !== undefined) {
    const side = (s) => (s.threw !== undefined ? `throw: ${s.threw}` : `${s.status} reason=${s.reason} message=${JSON.stringify(s.message)}`)
    lines.push(`  clerk: ${side(r.clerk)}`, `  ours:  ${side(r.ours)}`)
    return lines.join('\n')
  }
  for (const d of diffs.slice(0, 25)) {
    // Location and Set-Cookie in full; raw JWTs where the abbreviations would hide the difference.
    const n = d.path === 'header.location' || d.path === 'header.set-cookie' ? 2000 : 240
    const raw = d.clerk !== undefined && d.ours !== undefined && abbreviateJwts(d.clerk) === abbreviateJwts(d.ours)
    const show = (v) => (raw ? v : short(v, n))
    lines.push(`  ${d.path}\n    clerk: ${show(d.clerk)}\n    ours:  ${show(d.ours)}`)
  }
  if (diffs.length > 25) lines.push(`  … ${diffs.length - 25} more differences`)
  return lines.join('\n')
}

const CURRENT_DATE = /Current date: ([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)/g

/**
 * Verification messages carry the wall clock to the second ("Current date: <UTC>"), so two calls made a few
 * milliseconds apart can straddle a second. A date within [now - 1 s, now + 5 s] of the case's clock is replaced by
 * `<case clock>` on both sides; any other date stays as is (and is compared).
 */
function normalizeClock(snap, now) {
  const fix = (text) =>
    typeof text === 'string'
      ? text.replace(CURRENT_DATE, (all, date) => {
          const t = Date.parse(date) / 1000
          return t >= now - 1 && t <= now + 5 ? 'Current date: <case clock>' : all
        })
      : text
  if (snap.threw !== undefined) return
  snap.message = fix(snap.message)
  if (snap.headers && snap.headers['x-clerk-auth-message'] !== undefined)
    snap.headers['x-clerk-auth-message'] = fix(snap.headers['x-clerk-auth-message'])
}

/**
 * Runs case `c`: Clerk first (to completion, so the Backend API calls recorded so far are Clerk's), then ours, with
 * the same request, options and clock (`now` taken once; token lifetimes keep ≥ 60 s away from every boundary).
 */
async function runCase(c, env) {
  const now = T.nowSec()
  const m = materialize(c, now, env.key, env.bapi.url)
  env.bapi.register(c.id, m.handlers)
  const n0 = env.bapi.callsOf(c.id).length
  const clerk = await snapshot(() => env.clerkClient(m.inst).authenticateRequest(new Request(m.url, m.init), m.options()))
  const nClerk = env.bapi.callsOf(c.id).length
  const ours = await snapshot(() => env.ours(new Request(m.url, m.init), m.options(), m.inst))
  normalizeClock(clerk, now)
  normalizeClock(ours, now)
  const calls = env.bapi.callsOf(c.id)
  clerk.bapi = calls.slice(n0, nClerk)
  ours.bapi = calls.slice(nClerk)
  return { case: c, request: m.display, clerk, ours }
}

module.exports = {
  abbreviateJwts,
  HAS_PROBES,
  STATE_FIELDS,
  materialize,
  snapshot,
  runCase,
  diff,
  categories,
  categorize,
  areaOf,
  formatDiff,
  flatten,
}
