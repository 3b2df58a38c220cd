'use strict'
// Test helpers for token verification: real RSA keys, a JWT signer, a JWKS server and a Backend API stand-in,
// all on 127.0.0.1 (no mocked fetch).
//
//   const T = require('./helpers/tokens')
//   const key = T.rsaKey(2048, 'kid_a')        // { kid, bits, privateKey, publicKey, publicPem, pkcs1Pem, jwk }
//   T.rsaKey(2048, 'kid_a') === key            // keys are memoized by (bits, kid): 4096-bit generation is slow
//   const token = T.signJwt(key, { sub: 'user_1', exp: T.nowSec() + 60 }, { alg: 'RS384', header: { cat: '...' } })
//     header defaults to { alg, typ: 'JWT', kid: key.kid }; a header field set to undefined is removed
//   T.encodeJwt(header, payload, signature)    // raw assembly (signature: Buffer or base64url string)
//   T.hs256Jwt(secret, header, payload), T.es256Jwt(header, payload), T.noneJwt(header, payload)
//
//   const jwks = await T.startJwksServer({ keys: [key.jwk] })   // url, hits, requests, ...
//     jwks.url                   'http://127.0.0.1:<port>' (any path answers: use apiUrl = jwks.url or jwksUrl)
//     jwks.hits                  number of requests received (also while answering an error)
//     jwks.requests              [{ method, url, path, headers }]
//     jwks.setKeys(jwkArray)     serve { keys: jwkArray } (200)
//     jwks.setStatus(status, body?)  answer with that status and body (object → JSON, string as is)
//     jwks.setGarbage()          200 with a body that is not JSON
//     jwks.setDelay(ms)          delay every answer by ms (0 = none)
//     jwks.setHang(true)         never answer (sockets are destroyed by down()/close())
//     await jwks.down()          stop listening (connections refused) and cut open connections
//     await jwks.up()            listen again on the same port
//     jwks.reset()               back to serving the current keys, no delay, no hang
//     await jwks.close()         in after(): closes everything
//
//   const bapi = await T.startBackendApi({ secretKeys: ['sk_test_x'] })
//     every POST is recorded: bapi.requests [{ method, path, headers, body /* parsed JSON or raw string */ }]
//     routes: POST /oauth_applications/access_tokens/verify {access_token}, POST /api_keys/verify {secret}
//             (as @clerk/backend 3.25.0 calls it) and POST /v1/api_keys/verify {secret} (the older path),
//             POST /m2m_tokens/verify {token}; an unknown route answers 418 (so a wrong path cannot pass)
//     bapi.answer(token, { status, body })   per-token answer (body object → JSON); default: 404 not found
//     a request whose Bearer is not in secretKeys (when given) answers 401 clerk_key_invalid
//     await bapi.close()

const { within, sleep } = require('./wait')
const http = require('node:http')
const crypto = require('node:crypto')

const HASH = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' }

function b64url(input) {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(typeof input === 'string' ? input : JSON.stringify(input))
  return buf.toString('base64url')
}

const nowSec = () => Math.floor(Date.now() / 1000)

const keyCache = new Map()

/**
 * `crypto.generateKeyPairSync` whose KeyObjects are parsed from PEM, never the ones the key-generation job made.
 * Node 20 can deadlock on the job's own KeyObjects: `export({ format: 'jwk' })` holds the key's mutex while it
 * allocates strings, a GC at that moment finalizes the finished key-generation job, and the job's destructor
 * takes the same mutex (main thread blocked in `~KeyGenJob` under `ExportJWKRsaKey`; seen in a clean-clone CI run).
 */
function generateKeyPair(type, options) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync(type, {
    ...options,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  return { privateKey: crypto.createPrivateKey(privateKey), publicKey: crypto.createPublicKey(publicKey) }
}

/** An RSA key pair (memoized by bits and kid) with its SPKI PEM, PKCS#1 PEM and public JWK. */
function rsaKey(bits = 2048, kid = `kid_${bits}`) {
  const id = `${bits}:${kid}`
  let k = keyCache.get(id)
  if (k) return k
  const { privateKey, publicKey } = generateKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 })
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' }
  k = {
    kid,
    bits,
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }),
    pkcs1Pem: publicKey.export({ type: 'pkcs1', format: 'pem' }),
    jwk,
  }
  keyCache.set(id, k)
  return k
}

function cleanHeader(h) {
  const out = {}
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v
  return out
}

/** `header.payload.signature` from parts (objects JSON-encoded; strings used as given base64url). */
function encodeJwt(header, payload, signature = '') {
  const h = typeof header === 'string' ? header : b64url(header)
  const p = typeof payload === 'string' ? payload : b64url(payload)
  const s = Buffer.isBuffer(signature) ? b64url(signature) : signature
  return `${h}.${p}.${s}`
}

/**
 * Signs an RS256/384/512 JWT with `key` (from rsaKey). `opts.header` is merged over
 * `{ alg, typ: 'JWT', kid: key.kid }` (undefined values remove a field); `opts.alg` defaults to RS256.
 */
function signJwt(key, payload, opts = {}) {
  const alg = opts.alg || 'RS256'
  const header = cleanHeader({ alg, typ: 'JWT', kid: key.kid, ...(opts.header || {}) })
  const input = `${b64url(header)}.${b64url(payload)}`
  const hash = HASH[opts.signAlg || alg]
  if (!hash) throw new Error(`signJwt: cannot sign ${alg} with an RSA key (use signAlg)`)
  const sig = crypto.sign(hash, Buffer.from(input), { key: key.privateKey, padding: crypto.constants.RSA_PKCS1_PADDING })
  return `${input}.${b64url(sig)}`
}

/** HS256 JWT with `secret` (e.g. the RSA public key PEM: the classic key-confusion attack). */
function hs256Jwt(secret, header, payload) {
  const h = cleanHeader({ alg: 'HS256', typ: 'JWT', ...header })
  const input = `${b64url(h)}.${b64url(payload)}`
  return `${input}.${b64url(crypto.createHmac('sha256', secret).update(input).digest())}`
}

let ecKey
/** ES256 JWT signed with a fresh P-256 key. */
function es256Jwt(header, payload) {
  ecKey ||= generateKeyPair('ec', { namedCurve: 'P-256' })
  const h = cleanHeader({ alg: 'ES256', typ: 'JWT', ...header })
  const input = `${b64url(h)}.${b64url(payload)}`
  return `${input}.${b64url(crypto.sign('sha256', Buffer.from(input), { key: ecKey.privateKey, dsaEncoding: 'ieee-p1363' }))}`
}

/** `alg: none` JWT with an empty signature. */
function noneJwt(header, payload) {
  return encodeJwt(cleanHeader({ alg: 'none', typ: 'JWT', ...header }), payload, '')
}

let jtiCounter = 0
/**
 * Default session claims (v1) for `sub`, valid for a minute. Each call has a unique `jti`, so two tokens are never
 * byte-identical (the verified-token cache answers repeats of the same token without any key lookup).
 */
function sessionClaims(overrides = {}) {
  const now = nowSec()
  return { sub: 'user_1', sid: 'sess_1', iat: now - 10, nbf: now - 10, exp: now + 60, iss: 'https://clerk.example.test', jti: `jti_${++jtiCounter}`, ...overrides }
}

let uniq = 0
/** A unique string (for cache scopes: secret keys, jwksUrl query strings, tokens). */
const unique = (prefix = 'u') => `${prefix}_${process.pid}_${Date.now().toString(36)}_${++uniq}_${crypto.randomBytes(4).toString('hex')}`

function listenOn(server, port) {
  return new Promise((resolve, reject) => {
    const onError = (err) => reject(err)
    server.once('error', onError)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError)
      resolve(server.address().port)
    })
  })
}

function closeServer(server, sockets) {
  return new Promise((resolve) => {
    for (const s of sockets) s.destroy()
    if (!server.listening) return resolve()
    server.close(() => resolve())
  })
}

/** A JWKS HTTP server on 127.0.0.1 that counts its hits and can be switched between behaviours. */
async function startJwksServer({ keys = [] } = {}) {
  let currentKeys = keys
  let mode = { kind: 'keys' }
  let delayMs = 0
  let hang = false
  const requests = []
  const sockets = new Set()
  const waiters = new Set()

  const server = http.createServer((req, res) => {
    const q = req.url.indexOf('?')
    requests.push({ method: req.method, url: req.url, path: q === -1 ? req.url : req.url.slice(0, q), headers: req.headers })
    for (const w of waiters) w()
    req.resume()
    req.on('end', async () => {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs))
      if (hang || res.destroyed) return
      if (mode.kind === 'keys') {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ keys: currentKeys }))
      } else if (mode.kind === 'garbage') {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"keys": [ this is not json')
      } else {
        const body = typeof mode.body === 'string' ? mode.body : JSON.stringify(mode.body ?? { errors: [{ code: 'x', message: 'x' }] })
        res.writeHead(mode.status, { 'content-type': 'application/json' })
        res.end(body)
      }
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  server.on('clientError', (err, s) => s.destroy())
  const port = await listenOn(server, 0)

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get hits() {
      return requests.length
    },
    setKeys(k) {
      currentKeys = k
      mode = { kind: 'keys' }
    },
    setStatus(status, body) {
      mode = { kind: 'status', status, body }
    },
    setGarbage() {
      mode = { kind: 'garbage' }
    },
    setDelay(ms) {
      delayMs = ms
    },
    setHang(v) {
      hang = !!v
    },
    reset() {
      mode = { kind: 'keys' }
      delayMs = 0
      hang = false
    },
    down() {
      return closeServer(server, sockets)
    },
    async up() {
      if (!server.listening) await listenOn(server, port)
    },
    waitForHits(n, ms = 2000) {
      if (requests.length >= n) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`jwks: expected ${n} hit(s) within ${ms} ms, got ${requests.length}`))
        }, ms)
        const check = () => {
          if (requests.length < n) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve()
        }
        waiters.add(check)
      })
    },
    close() {
      hang = false
      return closeServer(server, sockets)
    },
  }
}

const BAPI_ROUTES = {
  '/oauth_applications/access_tokens/verify': 'access_token',
  '/api_keys/verify': 'secret',
  '/v1/api_keys/verify': 'secret',
  '/m2m_tokens/verify': 'token',
}

/** Reads a request body, then calls `done(raw, body)`: `body` is the parsed JSON, or the raw text if it is not JSON. */
function readBody(req, done) {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8')
    let body = raw
    try {
      body = JSON.parse(raw)
    } catch {}
    done(raw, body)
  })
}

/** A Backend API stand-in for machine-token verification: records requests and answers per token. */
async function startBackendApi({ secretKeys } = {}) {
  const requests = []
  const answers = new Map()
  const sockets = new Set()
  const server = http.createServer((req, res) => {
    readBody(req, (raw, body) => {
      const q = req.url.indexOf('?')
      const path = q === -1 ? req.url : req.url.slice(0, q)
      const rec = { method: req.method, path, url: req.url, headers: req.headers, body, raw }
      requests.push(rec)
      const send = (status, payload) => {
        const text = typeof payload === 'string' ? payload : JSON.stringify(payload)
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(text)
      }
      const field = BAPI_ROUTES[path]
      if (req.method !== 'POST' || !field) return send(418, { errors: [{ code: 'unknown_route', message: `${req.method} ${path}` }] })
      const bearer = (req.headers.authorization || '').replace(/^Bearer /, '')
      if (secretKeys && !secretKeys.includes(bearer)) {
        return send(401, { errors: [{ code: 'clerk_key_invalid', message: 'The provided Clerk Secret Key is invalid.' }] })
      }
      const token = body && typeof body === 'object' ? body[field] : undefined
      const a = answers.get(token)
      if (!a) return send(404, { errors: [{ code: 'resource_not_found', message: 'not found' }] })
      const d = typeof a === 'function' ? a(rec) : a
      if (d.delayMs) setTimeout(() => send(d.status ?? 200, d.body ?? {}), d.delayMs)
      else send(d.status ?? 200, d.body ?? {})
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const port = await listenOn(server, 0)
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    answer(token, d) {
      answers.set(token, d)
    },
    close() {
      return closeServer(server, sockets)
    },
  }
}

/** Resolves to the rejection of `promise` (fails if it resolves), bounded by `ms`. */
async function rejectionOf(promise, ms = 10000) {
  let value
  try {
    value = await within(promise, ms, 'rejection')
  } catch (err) {
    return err
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(value)}`)
}

/**
 * Waits until the current millisecond-in-second is below `maxMs` (so a short test runs within one wall-clock
 * second: needed to hit exp/nbf/iat boundaries exactly despite the truncation to seconds).
 */
async function alignToSecondStart(maxMs = 300) {
  for (let i = 0; i < 3; i++) {
    const ms = Date.now() % 1000
    if (ms < maxMs) return
    await sleep(1000 - ms + 5)
  }
}

module.exports = {
  b64url,
  nowSec,
  rsaKey,
  generateKeyPair,
  encodeJwt,
  signJwt,
  hs256Jwt,
  es256Jwt,
  noneJwt,
  sessionClaims,
  unique,
  startJwksServer,
  startBackendApi,
  readBody,
  within,
  rejectionOf,
  sleep,
  alignToSecondStart,
}
