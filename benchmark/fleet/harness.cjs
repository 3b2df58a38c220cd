'use strict'
// A fleet for the shared-tier tests and benchmark: N worker processes behind one port (Node's cluster module),
// each an Express app with clerk-native's clerkMiddleware, a Backend API stand-in that counts calls, and a users
// service that counts resolveUser calls. Used by __test__/fleet.test.js (CI size) and benchmark/fleet/run.js.
//
//   const fleet = await startFleet({ redisUrl, workers: 4, lookupTimeoutMs, secretKey, bapiUrl, usersUrl, jwtKey })
//   await fleet.ask(0, { cmd: 'stats' })        // IPC to worker 0
//   const r = await fleet.load(requests, 32)    // [{ status, body, ms }]
//   await fleet.close()

const cluster = require('node:cluster')
const http = require('node:http')
const path = require('node:path')

const ROOT = path.join(__dirname, '..', '..')

// ---------------------------------------------------------------------------------------------------------
// Worker side.

function now() {
  return performance.timeOrigin + performance.now()
}

function runWorker() {
  const cfg = JSON.parse(process.env.CLERK_NATIVE_FLEET)
  const express = require(path.join(ROOT, 'node_modules', 'express'))
  const cn = require(ROOT)
  const { clerkMiddleware } = require(path.join(ROOT, 'express.js'))
  // A negative TTL longer than the run (when given), so a replay measures sharing, not expiry.
  if (cfg.negativeTtlMs) cn.configureCaches({ negative: { ttlMs: cfg.negativeTtlMs } })
  if (cfg.redisUrl) cn.configureCaches({ shared: { url: cfg.redisUrl, lookupTimeoutMs: cfg.lookupTimeoutMs, keyPrefix: cfg.keyPrefix } })
  const authOptions = { secretKey: cfg.secretKey, apiUrl: cfg.bapiUrl, jwtKey: cfg.jwtKey, acceptsToken: 'any' }
  const app = express()
  app.use(
    clerkMiddleware({
      ...authOptions,
      resolveUser: async (auth) => {
        const r = await fetch(`${cfg.usersUrl}/users/${encodeURIComponent(auth.userId)}?org=${encodeURIComponent(auth.orgId || '')}`)
        return r.json()
      },
    }),
  )
  app.get('/auth', (req, res) => {
    const a = req.auth()
    res.json({ ok: a.isAuthenticated === true, tokenType: a.tokenType, user: req.auth.user ?? null, pid: process.pid })
  })
  const server = app.listen(cfg.port, '127.0.0.1')
  server.keepAliveTimeout = 30000
  const auth = (token) => cn.authenticateRequest({ url: 'http://127.0.0.1/auth', method: 'GET', headers: { authorization: `Bearer ${token}` } }, authOptions)
  const commands = {
    stats: () => cn.cacheStats(),
    metrics: () => cn.metrics(),
    invalidateIdentity: ({ target }) => ({ t0: now(), removed: cn.invalidateIdentity(target) }),
    invalidateToken: ({ token }) => ({ t0: now(), removed: cn.invalidateToken(token) }),
    clearCaches: ({ name }) => ({ t0: now(), removed: cn.clearCaches(name) }),
    /** Resolves with the wall-clock time at which this process applied the next fleet invalidation. */
    watch: ({ timeoutMs = 3000 }) =>
      new Promise((resolve) => {
        const base = cn.cacheStats().shared.received
        const started = now()
        const timer = setInterval(() => {
          const t = now()
          if (cn.cacheStats().shared.received > base) {
            clearInterval(timer)
            resolve({ seen: t })
          } else if (t - started > timeoutMs) {
            clearInterval(timer)
            resolve({ seen: null })
          }
        }, 1)
      }),
    /** authenticateRequest on each token in turn: [{ ok, reason, us }]. */
    measure: async ({ tokens }) => {
      const out = []
      for (const t of tokens) {
        const s = performance.now()
        const state = await auth(t)
        out.push({ ok: state.isAuthenticated, reason: state.reason, us: Math.round((performance.now() - s) * 1000) })
      }
      return out
    },
  }
  process.on('message', async (msg) => {
    if (!msg || typeof msg.id !== 'number') return
    try {
      const result = await commands[msg.cmd](msg)
      process.send({ id: msg.id, result })
    } catch (err) {
      process.send({ id: msg.id, error: String((err && err.stack) || err) })
    }
  })
  server.on('listening', () => process.send({ ready: true }))
}

if (cluster.isWorker && process.env.CLERK_NATIVE_FLEET) runWorker()

// ---------------------------------------------------------------------------------------------------------
// Primary side.

function freePort() {
  return new Promise((resolve, reject) => {
    const s = require('node:net').createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** The app's reference for a user in the users service (what resolveUser returns, instead of the Clerk id). */
function userRef(userId) {
  return require('node:crypto').createHash('sha256').update(`app:${userId}`).digest('hex').slice(0, 24)
}

/**
 * A users service for resolveUser: `GET /users/:id` → `{ ref, name }` (the app's own reference, not the Clerk id)
 * after `delayMs`, counting calls per user.
 */
async function startUsers({ delayMs = 20 } = {}) {
  const calls = new Map()
  const server = http.createServer((req, res) => {
    const id = decodeURIComponent(req.url.split('?')[0].split('/')[2] || '')
    calls.set(id, (calls.get(id) || 0) + 1)
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ref: userRef(id), name: 'A. User', plan: 'pro' }))
    }, delayMs)
  })
  server.keepAliveTimeout = 30000
  const port = await new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port)))
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
    reset: () => calls.clear(),
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  }
}

/** Starts `workers` processes on one port; resolves once each listens. */
async function startFleet({ workers = 4, redisUrl = null, lookupTimeoutMs, keyPrefix, negativeTtlMs, secretKey, bapiUrl, usersUrl, jwtKey }) {
  const port = await freePort()
  const cfg = { port, redisUrl, lookupTimeoutMs, keyPrefix, negativeTtlMs, secretKey, bapiUrl, usersUrl, jwtKey }
  cluster.setupPrimary({ exec: __filename, execArgv: [], silent: true, args: [] })
  const list = []
  const pending = new Map()
  let nextId = 1
  await Promise.all(
    Array.from({ length: workers }, () => {
      const w = cluster.fork({ CLERK_NATIVE_FLEET: JSON.stringify(cfg) })
      let stderr = ''
      w.process.stderr.on('data', (d) => (stderr += d))
      w.process.stdout.resume()
      list.push(w)
      return new Promise((resolve, reject) => {
        w.on('message', (msg) => {
          if (msg && msg.ready) return resolve()
          const p = msg && pending.get(msg.id)
          if (!p) return
          pending.delete(msg.id)
          if (msg.error) p.reject(new Error(msg.error))
          else p.resolve(msg.result)
        })
        w.once('exit', (code) => reject(new Error(`worker exited (${code}): ${stderr}`)))
      })
    }),
  )
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const get = (token) =>
    new Promise((resolve) => {
      const s = performance.now()
      const req = http.get({ host: '127.0.0.1', port, path: '/auth', agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (text += d))
        res.on('end', () => {
          let body = null
          try {
            body = JSON.parse(text)
          } catch {}
          resolve({ status: res.statusCode, body, ms: performance.now() - s })
        })
      })
      req.on('error', (err) => resolve({ status: 0, body: null, error: String(err), ms: performance.now() - s }))
    })
  return {
    url: `http://127.0.0.1:${port}`,
    workers: list,
    /** IPC request to worker `i`. */
    ask(i, msg) {
      const id = nextId++
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject })
        list[i].send({ ...msg, id })
      })
    },
    /** GET /auth for every token, `concurrency` at a time, in order: [{ token, status, body, ms }]. */
    async load(tokens, concurrency = 32) {
      const out = new Array(tokens.length)
      let next = 0
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < tokens.length) {
            const i = next++
            out[i] = { token: tokens[i], ...(await get(tokens[i])) }
          }
        }),
      )
      return out
    },
    async close() {
      agent.destroy()
      await Promise.all(
        list.map(
          (w) =>
            new Promise((resolve) => {
              if (w.isDead()) return resolve()
              w.once('exit', resolve)
              w.kill('SIGKILL')
            }),
        ),
      )
    },
  }
}

/** p-th percentile (0..100) of numbers. */
function percentile(values, p) {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

module.exports = { startFleet, startUsers, percentile, freePort, userRef }
