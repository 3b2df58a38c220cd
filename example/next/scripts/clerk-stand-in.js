'use strict'
// A local stand-in for Clerk's Frontend API (FAPI) and Backend API (BAPI), so the example runs with no Clerk
// account and no keys. It is NOT Clerk: it knows one demo user and answers just what this app needs.
//
// FAPI (reached through the app's /__clerk proxy, so its cookies land on the app's domain):
//   POST /v1/client/sign_ins            form `redirect_url`: signs the demo user in (Set-Cookie __client,
//                                       __session, __client_uat) and answers 303 to redirect_url
//   POST /v1/client/sign_outs           clears them, 303 to redirect_url (default /)
//   GET  /v1/client/handshake           Clerk's handshake (nonce format): a new session token for the browser's
//                                       __client (or a signed-out answer), kept under a one-time nonce; 307 back
//                                       to redirect_url with __clerk_handshake_nonce
//   GET  /v1/environment, /v1/client    small JSON answers
// BAPI (the app's CLERK_API_URL; every call needs `Authorization: Bearer <secret key>`):
//   GET  /v1/jwks                       the signing key
//   GET  /v1/clients/handshake_payload  ?nonce=: { directives: [Set-Cookie strings] } (once per nonce)
//   GET  /v1/users/:id                  the demo user (Clerk's UserJSON)
//   POST /v1/sessions/:sid/tokens       a fresh session token
//   POST /api_keys/verify               {secret}: the demo API key (DEMO_API_KEY), else 404
//
//   const { startClerkStandIn } = require('./clerk-stand-in')
//   const s = await startClerkStandIn({ secretKey })   // { fapiUrl, apiUrl, sessionToken(), close(), ... }
// Session tokens live 60 s (as Clerk's), so an open page left a minute goes through the handshake on reload.

const http = require('node:http')
const crypto = require('node:crypto')

const DEMO_USER_ID = 'user_demo_2f7Qp'
/** The one API key the stand-in knows (owned by the demo user). */
const DEMO_API_KEY = 'ak_demo_standin_key_0001'
const SESSION_TTL_S = 60

function b64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
}

function demoUser() {
  const now = Date.now()
  return {
    object: 'user',
    id: DEMO_USER_ID,
    username: 'demo',
    first_name: 'Ada',
    last_name: 'Demo',
    image_url: 'https://img.clerk.com/placeholder',
    has_image: false,
    primary_email_address_id: 'idn_demo_email',
    primary_phone_number_id: null,
    primary_web3_wallet_id: null,
    password_enabled: true,
    two_factor_enabled: false,
    totp_enabled: false,
    backup_code_enabled: false,
    email_addresses: [
      {
        object: 'email_address',
        id: 'idn_demo_email',
        email_address: 'ada.demo@example.com',
        reserved: false,
        verification: { object: 'verification_otp', status: 'verified', strategy: 'email_code', attempts: 1, expire_at: null },
        linked_to: [],
        created_at: now,
        updated_at: now,
      },
    ],
    phone_numbers: [],
    web3_wallets: [],
    external_accounts: [],
    saml_accounts: [],
    enterprise_accounts: [],
    passkeys: [],
    public_metadata: { plan: 'demo' },
    private_metadata: {},
    unsafe_metadata: {},
    external_id: null,
    last_sign_in_at: now,
    banned: false,
    locked: false,
    lockout_expires_in_seconds: null,
    verification_attempts_remaining: 100,
    created_at: now - 86_400_000,
    updated_at: now,
    last_active_at: now,
    create_organization_enabled: true,
    create_organizations_limit: null,
    delete_self_enabled: true,
    legal_accepted_at: null,
  }
}

function json(res, status, body, headers = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

function readForm(req) {
  return new Promise((resolve) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c) => {
      if (body.length < 16_384) body += c
    })
    req.on('end', () => resolve(new URLSearchParams(body)))
    req.on('error', () => resolve(new URLSearchParams()))
  })
}

function cookiesOf(req) {
  const out = {}
  for (const part of (req.headers.cookie || '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) out[part.slice(0, eq).trim()] ??= part.slice(eq + 1).trim()
  }
  return out
}

async function listen(server, port = 0) {
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  return server.address().port
}

/**
 * Starts the FAPI and BAPI stand-ins on 127.0.0.1.
 * @param {{ secretKey: string, fapiPort?: number, apiPort?: number, issuer?: string }} options
 */
async function startClerkStandIn({ secretKey, fapiPort = 0, apiPort = 0, issuer = 'https://clerk.example.test' }) {
  if (!secretKey) throw new Error('clerk-stand-in: secretKey is required')
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = `ins_standin_${crypto.randomBytes(4).toString('hex')}`
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }
  const clients = new Map() // __client value -> { sessionId }
  const nonces = new Map() // nonce -> directives
  const requests = [] // { server: 'fapi' | 'bapi', method, path }

  /** A session token for the demo user (`expiresIn` seconds from now; negative: already expired). */
  function sessionToken({ sessionId = 'sess_demo', expiresIn = SESSION_TTL_S, iat } = {}) {
    const now = Math.floor(Date.now() / 1000)
    const issuedAt = iat ?? now - 1
    const payload = { sub: DEMO_USER_ID, sid: sessionId, iss: issuer, iat: issuedAt, nbf: issuedAt, exp: now + expiresIn, v: 2, sts: 'active', jti: crypto.randomUUID() }
    const input = `${b64url({ alg: 'RS256', typ: 'JWT', kid })}.${b64url(payload)}`
    return `${input}.${crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
  }

  /** A signed-in client: its __client value (the FAPI's own cookie). */
  function newClient() {
    const id = `client_${crypto.randomBytes(12).toString('hex')}`
    clients.set(id, { sessionId: `sess_${crypto.randomBytes(8).toString('hex')}` })
    return id
  }

  const sessionCookies = (client, token) => {
    const uat = Math.floor(Date.now() / 1000) - 1
    return [
      `__client=${client}; Path=/; HttpOnly; SameSite=Lax; Max-Age=604800`,
      `__session=${token}; Path=/; SameSite=Lax`,
      `__client_uat=${uat}; Path=/; SameSite=Lax; Max-Age=315360000`,
    ]
  }
  const signedOutCookies = () => ['__session=; Path=/; Max-Age=0', '__client_uat=0; Path=/; SameSite=Lax; Max-Age=315360000']

  const safeRedirect = (value, fallback) => {
    try {
      const u = new URL(value)
      return u.protocol === 'http:' || u.protocol === 'https:' ? u : fallback
    } catch {
      return fallback
    }
  }

  // Where the browser is: relative redirect URLs resolve against the app's origin (the /__clerk proxy sends
  // Clerk-Proxy-Url and X-Forwarded-*), as FAPI resolves them against the app's domain.
  const appOrigin = (req) => {
    try {
      if (req.headers['clerk-proxy-url']) return new URL(req.headers['clerk-proxy-url']).origin
    } catch {}
    const host = req.headers['x-forwarded-host'] || req.headers.host
    return `${req.headers['x-forwarded-proto'] || 'http'}://${host}`
  }
  const absolute = (req, value) => {
    try {
      return new URL(value || '/', appOrigin(req)).toString()
    } catch {
      return appOrigin(req) + '/'
    }
  }

  const fapi = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://fapi.local')
    requests.push({ server: 'fapi', method: req.method, path: url.pathname })
    const cookies = cookiesOf(req)
    const p = url.pathname
    if (req.method === 'POST' && p === '/v1/client/sign_ins') {
      const form = await readForm(req)
      const back = absolute(req, form.get('redirect_url') || url.searchParams.get('redirect_url'))
      const client = newClient()
      const token = sessionToken({ sessionId: clients.get(client).sessionId })
      res.writeHead(303, { location: back, 'set-cookie': sessionCookies(client, token), 'cache-control': 'no-store' })
      return res.end()
    }
    if (req.method === 'POST' && p === '/v1/client/sign_outs') {
      const form = await readForm(req)
      if (cookies.__client) clients.delete(cookies.__client)
      res.writeHead(303, { location: absolute(req, form.get('redirect_url')), 'set-cookie': [...signedOutCookies(), '__client=; Path=/; Max-Age=0'], 'cache-control': 'no-store' })
      return res.end()
    }
    if (req.method === 'GET' && p === '/v1/client/handshake') {
      const back = safeRedirect(url.searchParams.get('redirect_url'), null)
      if (!back) return json(res, 400, { errors: [{ code: 'form_param_missing', message: 'redirect_url is missing or invalid' }] })
      const known = cookies.__client && clients.get(cookies.__client)
      const directives = known ? sessionCookies(cookies.__client, sessionToken({ sessionId: known.sessionId })) : signedOutCookies()
      const nonce = crypto.randomBytes(18).toString('base64url')
      nonces.set(nonce, directives)
      back.searchParams.set('__clerk_handshake_nonce', nonce)
      res.writeHead(307, { location: back.toString(), 'cache-control': 'no-store' })
      return res.end()
    }
    if (req.method === 'GET' && p === '/v1/environment') return json(res, 200, { object: 'environment', id: 'env_standin', auth_config: { single_session_mode: true } })
    if (req.method === 'GET' && p === '/v1/client') {
      const known = cookies.__client && clients.get(cookies.__client)
      return json(res, 200, { response: { object: 'client', id: known ? cookies.__client : null, sessions: known ? [{ id: known.sessionId, user: { id: DEMO_USER_ID } }] : [] } })
    }
    return json(res, 404, { errors: [{ code: 'resource_not_found', message: `stand-in FAPI has no ${req.method} ${p}` }] })
  })

  const bapi = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://bapi.local')
    requests.push({ server: 'bapi', method: req.method, path: url.pathname })
    let body = ''
    if (req.method === 'POST') {
      req.setEncoding('utf8')
      for await (const chunk of req) if (body.length < 16_384) body += chunk
    } else req.resume()
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      return json(res, 401, { errors: [{ code: 'authentication_invalid', message: 'Unauthorized request', long_message: 'The secret key is not the stand-in\'s' }] })
    }
    const p = url.pathname
    if (req.method === 'GET' && p === '/v1/jwks') return json(res, 200, { keys: [jwk] })
    if (req.method === 'GET' && p === '/v1/clients/handshake_payload') {
      const directives = nonces.get(url.searchParams.get('nonce') || '')
      if (!directives) return json(res, 404, { errors: [{ code: 'resource_not_found', message: 'unknown nonce' }] })
      nonces.delete(url.searchParams.get('nonce'))
      return json(res, 200, { directives })
    }
    if (req.method === 'GET' && p === `/v1/users/${DEMO_USER_ID}`) return json(res, 200, demoUser())
    if (req.method === 'GET' && p.startsWith('/v1/users/')) return json(res, 404, { errors: [{ code: 'resource_not_found', message: 'not found' }] })
    if (req.method === 'POST' && (p === '/api_keys/verify' || p === '/v1/api_keys/verify')) {
      let secret = null
      try {
        secret = JSON.parse(body).secret
      } catch {}
      if (secret !== DEMO_API_KEY) return json(res, 404, { errors: [{ code: 'resource_not_found', message: 'API key not found' }] })
      const now = Date.now()
      return json(res, 200, {
        object: 'api_key', id: 'ak_id_demo', type: 'api_key', name: 'demo key', subject: DEMO_USER_ID, scopes: ['read'], claims: null,
        revoked: false, revocation_reason: null, expired: false, expiration: null, created_by: DEMO_USER_ID, description: null,
        last_used_at: null, created_at: now - 60_000, updated_at: now - 60_000,
      })
    }
    const tokens = /^\/v1\/sessions\/([^/]+)\/tokens$/.exec(p)
    if (req.method === 'POST' && tokens) return json(res, 200, { object: 'token', jwt: sessionToken({ sessionId: tokens[1] }) })
    return json(res, 404, { errors: [{ code: 'resource_not_found', message: `stand-in BAPI has no ${req.method} ${p}` }] })
  })

  const sockets = new Set()
  for (const s of [fapi, bapi]) s.on('connection', (c) => (sockets.add(c), c.on('close', () => sockets.delete(c))))
  const fPort = await listen(fapi, fapiPort)
  const aPort = await listen(bapi, apiPort)
  return {
    fapiUrl: `http://127.0.0.1:${fPort}`,
    apiUrl: `http://127.0.0.1:${aPort}`,
    userId: DEMO_USER_ID,
    apiKey: DEMO_API_KEY,
    requests,
    sessionToken,
    newClient,
    close: () =>
      new Promise((resolve) => {
        for (const c of sockets) c.destroy()
        let open = 2
        const done = () => --open === 0 && resolve()
        fapi.close(done)
        bapi.close(done)
      }),
  }
}

module.exports = { startClerkStandIn, DEMO_USER_ID, DEMO_API_KEY }
