'use strict'
// A Backend API stand-in on 127.0.0.1 for the parity matrix (__test__/parity-matrix.test.js). Both
// implementations (Clerk's @clerk/backend and ours) call it with the same apiUrl. Every request is recorded and
// attributed to a matrix case by the case tag `c<id>z` that each case puts into every value that reaches the
// Backend API (session id, refresh token, handshake nonce, machine token), so cases can run concurrently.
//
//   const bapi = await startParityBackendApi()
//   bapi.register(caseId, { refresh(rec) → {status, body}, handshakePayload(rec) → ..., machine(rec) → ... })
//   bapi.callsOf(caseId)          → [{ method, path, query, body, authorization, clerkApiVersion, contentType }]
//   await bapi.close()
//
// Routes (as @clerk/backend 3.25.0 calls them; any other route answers 418 so a wrong path cannot pass):
//   POST /v1/sessions/:sid/refresh                 → handlers.refresh
//   GET  /v1/clients/handshake_payload?nonce=…     → handlers.handshakePayload
//   POST /api_keys/verify {secret}                 → handlers.machine
//   POST /m2m_tokens/verify {token}                → handlers.machine
//   POST /oauth_applications/access_tokens/verify {access_token} → handlers.machine
// A case without a handler for the route answers 404 resource_not_found.

const http = require('node:http')
const { readBody } = require('./tokens')

const TAG = /c(\d+)z/

const ROUTES = [
  { method: 'POST', re: /^\/v1\/sessions\/[^/]+\/refresh$/, handler: 'refresh' },
  { method: 'GET', re: /^\/v1\/clients\/handshake_payload$/, handler: 'handshakePayload' },
  { method: 'POST', re: /^\/api_keys\/verify$/, handler: 'machine' },
  { method: 'POST', re: /^\/m2m_tokens\/verify$/, handler: 'machine' },
  { method: 'POST', re: /^\/oauth_applications\/access_tokens\/verify$/, handler: 'machine' },
]

async function startParityBackendApi() {
  const handlers = new Map()
  const calls = new Map()
  const untagged = []
  const sockets = new Set()
  const server = http.createServer((req, res) => {
    readBody(req, (raw, body) => {
      const u = new URL(req.url, 'http://127.0.0.1')
      const rec = {
        method: req.method,
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        body: raw === '' ? null : body,
        authorization: req.headers.authorization || null,
        clerkApiVersion: req.headers['clerk-api-version'] || null,
        contentType: req.headers['content-type'] || null,
      }
      const m = TAG.exec(`${req.url} ${raw}`)
      const id = m ? Number(m[1]) : null
      if (id == null) untagged.push(rec)
      else {
        if (!calls.has(id)) calls.set(id, [])
        calls.get(id).push(rec)
      }
      const send = (status, payload) => {
        const text = typeof payload === 'string' ? payload : JSON.stringify(payload)
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(text)
      }
      const route = ROUTES.find((r) => r.method === req.method && r.re.test(u.pathname))
      if (!route) return send(418, { errors: [{ code: 'unknown_route', message: `${req.method} ${u.pathname}` }] })
      const h = id == null ? undefined : handlers.get(id)?.[route.handler]
      if (!h) return send(404, { errors: [{ code: 'resource_not_found', message: 'not found' }] })
      let answer
      try {
        answer = h(rec)
      } catch (err) {
        answer = { status: 500, body: { errors: [{ code: 'stand_in_error', message: String(err && err.message) }] } }
      }
      send(answer.status ?? 200, answer.body ?? {})
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const port = server.address().port
  return {
    url: `http://127.0.0.1:${port}`,
    untagged,
    register(id, h) {
      handlers.set(id, h)
    },
    callsOf(id) {
      return (calls.get(id) || []).slice()
    },
    close() {
      return new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
    },
  }
}

module.exports = { startParityBackendApi }
