'use strict'
// A Backend API stand-in on 127.0.0.1 for the handshake family: `GET /v1/clients/handshake_payload?nonce=` and
// `POST /v1/sessions/{sid}/refresh`, answers set per nonce / session id, every request recorded.

const http = require('node:http')
/**
 * Starts the stand-in. `routes.payload.set(nonce, { status?, body })`, `routes.refresh.set(sid, { status?, body })`
 * (`body` may be a function of the parsed request body); unknown ones answer 404 `resource_not_found`.
 */
async function startHandshakeBapi() {
  const requests = []
  const routes = { payload: new Map(), refresh: new Map() }
  const server = http.createServer((req, res) => {
    let raw = ''
    req.on('data', (c) => (raw += c))
    req.on('end', () => {
      const u = new URL(req.url, 'http://x')
      requests.push({ method: req.method, path: u.pathname, query: u.search, headers: req.headers, raw })
      const send = (s, b) => { res.writeHead(s, { 'content-type': 'application/json' }); res.end(JSON.stringify(b)) }
      if (req.method === 'GET' && u.pathname === '/v1/clients/handshake_payload') {
        const a = routes.payload.get(u.searchParams.get('nonce'))
        return a ? send(a.status ?? 200, a.body) : send(404, { errors: [{ code: 'resource_not_found' }] })
      }
      const m = /^\/v1\/sessions\/([^/]+)\/refresh$/.exec(u.pathname)
      if (req.method === 'POST' && m) {
        const a = routes.refresh.get(m[1])
        return a ? send(a.status ?? 200, typeof a.body === 'function' ? a.body(JSON.parse(raw)) : a.body) : send(404, { errors: [{ code: 'resource_not_found' }] })
      }
      send(404, { errors: [{ code: 'unknown_route' }] })
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${server.address().port}`, requests, routes, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r) }) }
}
module.exports = { startHandshakeBapi }
