'use strict'
// A stand-in for Clerk's Frontend API (FAPI), for trying the proxy without a Clerk account.
//
// It answers a handful of FAPI-like endpoints well enough to watch the proxy at work: JSON bodies, several
// Set-Cookie headers, a redirect whose Location points back at this host (the proxy rewrites it), request
// bodies echoed back, a slowly streamed response, and a report of the proxy headers it received.
// It is NOT Clerk: no sign-in actually works.
//
//   node example/fake-fapi.js            (PORT env, default: a random free port)
//   const { start } = require('./fake-fapi'); const fapi = await start({ port: 0 }); … await fapi.close()

const http = require('node:http')

const MAX_ECHO_BYTES = 64 * 1024

function json(res, status, body, headers = {}) {
  const text = JSON.stringify(body, null, 2) + '\n'
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  })
  res.end(text)
}

/** What the proxy told us, without ever repeating a secret. */
function proxyHeadersSeen(req) {
  const h = req.headers
  const clerk = {}
  for (const [name, value] of Object.entries(h)) {
    if (!name.startsWith('clerk-')) continue
    clerk[name] = name === 'clerk-secret-key' ? '(present; value not shown)' : value
  }
  return {
    clerkHeaders: clerk,
    secretKeyReceived: typeof h['clerk-secret-key'] === 'string' && h['clerk-secret-key'].length > 0,
    proxyUrl: h['clerk-proxy-url'] || null,
    forwarded: {
      'x-forwarded-host': h['x-forwarded-host'] || null,
      'x-forwarded-proto': h['x-forwarded-proto'] || null,
      'x-forwarded-for': h['x-forwarded-for'] || null,
    },
    host: h.host || null,
    acceptEncoding: h['accept-encoding'] || null,
    // Present only if the proxy forgot to strip it.
    authorization: h.authorization ? '(present; value not shown)' : null,
    cookieNames: (h.cookie || '')
      .split(';')
      .map((c) => c.split('=')[0].trim())
      .filter(Boolean),
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let total = 0
    req.on('data', (c) => {
      total += c.length
      if (total <= MAX_ECHO_BYTES) chunks.push(c)
    })
    req.on('end', () => resolve({ body: Buffer.concat(chunks), total }))
    req.on('error', reject)
  })
}

function environment() {
  return {
    object: 'environment',
    id: 'env_fake_0000000000000000',
    auth_config: {
      object: 'auth_config',
      id: 'aac_fake_0000000000000000',
      single_session_mode: true,
      claimed_at: null,
    },
    display_config: {
      object: 'display_config',
      id: 'display_config_fake',
      instance_environment_type: 'development',
      application_name: 'clerk-native example (fake FAPI)',
      home_url: 'http://127.0.0.1:3000',
      sign_in_url: 'http://127.0.0.1:3000/sign-in',
      sign_up_url: 'http://127.0.0.1:3000/sign-up',
    },
    user_settings: {
      attributes: {
        email_address: { enabled: true, required: true, used_for_first_factor: true },
        password: { enabled: true, required: true },
      },
      social: {},
    },
    organization_settings: { enabled: false },
    maintenance_mode: false,
  }
}

function client() {
  return {
    response: {
      object: 'client',
      id: 'client_fake_0000000000000000',
      sessions: [],
      sign_in: null,
      sign_up: null,
      last_active_session_id: null,
      created_at: 1700000000000,
      updated_at: Date.now(),
    },
    client: null,
  }
}

function route(req, res, base) {
  const url = new URL(req.url, base)
  const method = req.method || 'GET'
  const seen = proxyHeadersSeen(req)
  const p = url.pathname

  if (method === 'GET' && p === '/v1/environment') {
    return json(res, 200, { ...environment(), _fake_fapi: { note: 'served by example/fake-fapi.js', received: seen } })
  }

  if (method === 'GET' && p === '/v1/client') {
    // Several cookies in one response: a proxy that folds Set-Cookie into one header breaks sign-in.
    const exp = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString()
    res.setHeader('Set-Cookie', [
      `__client=fake_client_token_${Date.now()}; Path=/; Expires=${exp}; HttpOnly; SameSite=Lax`,
      '__client_uat=0; Path=/; Max-Age=31536000; SameSite=Lax',
      '__clerk_db_jwt=dvb_fake_dev_browser; Path=/; Max-Age=31536000; SameSite=Lax',
    ])
    return json(res, 200, { ...client(), _fake_fapi: { note: 'three Set-Cookie headers were sent', received: seen } })
  }

  if (method === 'GET' && p === '/v1/oauth/authorize') {
    // Redirect to a URL on this very host: the proxy rewrites such a Location to go through itself.
    const state = url.searchParams.get('state') || 'demo-state'
    const location = new URL(`/v1/oauth/callback?state=${encodeURIComponent(state)}&code=fake_code`, base).href
    res.writeHead(302, { Location: location, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' })
    return res.end(`Redirecting to ${location}\n`)
  }

  if (method === 'GET' && p === '/v1/oauth/callback') {
    return json(res, 200, {
      object: 'oauth_callback',
      state: url.searchParams.get('state'),
      code: url.searchParams.get('code'),
      _fake_fapi: { note: 'you followed the (rewritten) redirect', received: seen },
    })
  }

  if (method === 'GET' && p === '/v1/stream') {
    // A slow, chunked body: watch it arrive piece by piece through the proxy with `curl -N`.
    const chunks = Math.min(Math.max(Number(url.searchParams.get('chunks')) || 5, 1), 100)
    const delay = Math.min(Math.max(Number(url.searchParams.get('delay_ms')) || 300, 0), 5000)
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' })
    let i = 0
    const tick = () => {
      if (res.destroyed) return
      i += 1
      res.write(`chunk ${i}/${chunks} at ${new Date().toISOString()}\n`)
      if (i >= chunks) return res.end()
      timer = setTimeout(tick, delay)
    }
    let timer = setTimeout(tick, 0)
    res.on('close', () => clearTimeout(timer))
    return
  }

  if (method !== 'GET' && method !== 'HEAD') {
    // Any write request: echo what arrived, so you can see the body went through untouched.
    return readBody(req).then(
      ({ body, total }) =>
        json(res, 200, {
          object: 'echo',
          method,
          path: p,
          query: Object.fromEntries(url.searchParams),
          contentType: req.headers['content-type'] || null,
          bodyBytes: total,
          body: body.toString('utf8') + (total > MAX_ECHO_BYTES ? `… (${total - MAX_ECHO_BYTES} more bytes)` : ''),
          _fake_fapi: { received: seen },
        }),
      (err) => json(res, 400, { errors: [{ code: 'bad_request', message: String(err && err.message) }] }),
    )
  }

  if (method === 'HEAD' && (p === '/v1/environment' || p === '/v1/client')) {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' })
    return res.end()
  }

  return json(res, 404, {
    errors: [
      {
        code: 'resource_not_found',
        message: 'not found',
        long_message: `The fake FAPI has no ${method} ${p}. Try /v1/environment, /v1/client, /v1/oauth/authorize, /v1/stream or a POST.`,
      },
    ],
  })
}

/**
 * Starts the fake FAPI. Resolves to `{ server, port, url, close() }`.
 * @param {{ port?: number, host?: string }} [opts] port 0 (the default) picks a free port
 */
function start({ port = 0, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    let base = `http://${host}`
    const server = http.createServer((req, res) => {
      try {
        const r = route(req, res, base)
        if (r && typeof r.catch === 'function') r.catch((e) => res.destroy(e))
      } catch (e) {
        if (!res.headersSent) json(res, 500, { errors: [{ code: 'internal', message: String(e && e.message) }] })
        else res.destroy()
      }
    })
    server.keepAliveTimeout = 5000
    server.once('error', reject)
    server.listen(port, host, () => {
      server.removeListener('error', reject)
      const actual = server.address().port
      base = `http://${host}:${actual}`
      resolve({
        server,
        port: actual,
        url: base,
        close: () =>
          new Promise((done) => {
            server.close(() => done())
            if (typeof server.closeAllConnections === 'function') server.closeAllConnections()
          }),
      })
    })
  })
}

module.exports = { start }

if (require.main === module) {
  start({ port: Number(process.env.PORT || 0), host: process.env.HOST || '127.0.0.1' }).then(
    (fapi) => {
      const u = fapi.url
      console.log(`fake FAPI listening on ${u}`)
      console.log('Try:')
      console.log(`  curl -i ${u}/v1/environment`)
      console.log(`  curl -i ${u}/v1/client`)
      console.log(`  curl -i ${u}/v1/oauth/authorize`)
      console.log(`  curl -i -X POST --data 'identifier=jane@example.com' ${u}/v1/client/sign_ins`)
      console.log(`  curl -N ${u}/v1/stream`)
      const stop = () => fapi.close().then(() => process.exit(0))
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    },
    (err) => {
      console.error(`fake FAPI failed to start: ${err.message}`)
      process.exit(1)
    },
  )
}
