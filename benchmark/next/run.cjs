'use strict'
// The same Next.js app on @clerk/nextjs 7.9.17 and on clerk-native/next, under wrk: a page (`/`, a server component
// calling auth(), signed in with the session cookie) and a route handler (`/api/me`, auth(), signed in with
// `Authorization: Bearer`), one reused session token. The clerk-native app is example/next; the Clerk app is a copy
// of it with the imports swapped back to '@clerk/nextjs/server' (the migration diff, reversed), built in
// benchmark/next/.apps/clerk. Both run `next start` against the same Clerk stand-in (JWKS from its Backend API),
// one at a time (the machine has few cores), with NODE_ENV=production.
//
//   node benchmark/next/run.cjs            DURATION=10 CONNS=50 ROUNDS=2 (env knobs)
// Needs wrk and example/next's dependencies (npm install --prefix example/next).

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const http = require('node:http')
const { buildExample } = require('../../example/next/scripts/test-server')
const { startClerkStandIn } = require('../../example/next/scripts/clerk-stand-in')
const { exampleEnv, SECRET_KEY } = require('../../example/next/scripts/run')

const EXAMPLE = path.resolve(__dirname, '..', '..', 'example', 'next')
const CLERK_APP = path.join(__dirname, '.apps', 'clerk')
const DURATION = Number(process.env.DURATION || 10)
const CONNS = Number(process.env.CONNS || 50)
const ROUNDS = Number(process.env.ROUNDS || 2)

function copySources(from, to) {
  fs.rmSync(to, { recursive: true, force: true })
  fs.mkdirSync(to, { recursive: true })
  for (const name of ['app', 'middleware.ts', 'next.config.js', 'tsconfig.json', 'package.json']) fs.cpSync(path.join(from, name), path.join(to, name), { recursive: true })
  // hard links: same files, no copy (Turbopack wants node_modules inside its root)
  const r = spawnSync('cp', ['-al', path.join(from, 'node_modules'), path.join(to, 'node_modules')])
  if (r.status !== 0) fs.cpSync(path.join(from, 'node_modules'), path.join(to, 'node_modules'), { recursive: true })
  fs.rmSync(path.join(to, 'node_modules', 'clerk-native'), { recursive: true, force: true })
  const swap = (file) => {
    const text = fs.readFileSync(file, 'utf8')
    if (text.includes("'clerk-native/next'")) fs.writeFileSync(file, text.replaceAll("'clerk-native/next'", "'@clerk/nextjs/server'"))
  }
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (/\.tsx?$/.test(e.name)) swap(p)
    }
  }
  walk(path.join(to, 'app'))
  swap(path.join(to, 'middleware.ts'))
}

function nextBin(app) {
  return path.join(app, 'node_modules', 'next', 'dist', 'bin', 'next')
}

function runToEnd(cmd, args, opts) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

async function freePort() {
  const s = http.createServer()
  await new Promise((r) => s.listen(0, 'localhost', r))
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}

async function start(app, env) {
  const port = await freePort()
  // -H localhost, not 127.0.0.1: @clerk/nextjs turns NextResponse.next() into a rewrite to the request URL, which Next
  // then fetches at http://localhost:<port> (the URL middleware sees); with the server bound to 127.0.0.1 only
  // that connection fails where localhost resolves to ::1 and every request answers 500.
  const child = spawn(process.execPath, [nextBin(app), 'start', '-p', String(port), '-H', 'localhost'], {
    cwd: app,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const base = `http://localhost:${port}`
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`next start exited:\n${out}`)
    const ok = await fetch(`${base}/sign-in`).then((r) => r.arrayBuffer().then(() => true), () => false)
    if (ok) break
    if (i > 150) throw new Error(`next start not ready:\n${out}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    base,
    pgid: child.pid,
    output: () => out,
    stop: async () => {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {}
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)))
    },
  }
}

/** CPU time (ms) used so far by every process in a process group (the next start tree), from /proc. */
function groupCpuMs(pgid) {
  let ticks = 0
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]) // pgrp, utime, stime
    } catch {}
  }
  return (ticks * 1000) / 100 // USER_HZ = 100
}

function parseWrk(text) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1])
  const p99m = /\s99%\s+([\d.]+)(us|ms|s)/.exec(text)
  const p99 = p99m ? Number(p99m[1]) * { us: 0.001, ms: 1, s: 1000 }[p99m[2]] : NaN
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] || 0)
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] || 0)
  return { rps, p99, non2xx, requests }
}

function wrk(url, headers, pgid) {
  const cpu0 = pgid ? groupCpuMs(pgid) : 0
  const args = ['-t2', `-c${CONNS}`, `-d${DURATION}s`, '--latency']
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`)
  args.push(url)
  const r = parseWrk(runToEnd('wrk', args))
  // server CPU per request: robust against other jobs on the machine (req/s is not)
  r.cpuMsPerReq = pgid && r.requests ? (groupCpuMs(pgid) - cpu0) / r.requests : NaN
  return r
}

async function check(base, pathname, headers, expect) {
  const res = await fetch(base + pathname, { headers, redirect: 'manual' })
  const body = await res.text()
  if (res.status !== 200 || !body.includes(expect)) throw new Error(`${pathname}: ${res.status} ${body.slice(0, 300)}`)
}

/**
 * The middleware alone, in process: the same NextRequest (Bearer session token, handler awaiting auth()) through
 * @clerk/nextjs's clerkMiddleware and through clerk-native's, 50 in flight, for DURATION/2 seconds each.
 */
async function middlewareInProcess(standIn, token) {
  process.env.CLERK_ENCRYPTION_KEY ||= 'benchmark-encryption-key'
  Object.assign(process.env, exampleEnv(standIn))
  const { createRequire } = require('node:module')
  const req = createRequire(path.join(EXAMPLE, 'package.json'))
  const clerk = req('@clerk/nextjs/server')
  const { NextRequest } = req('next/server')
  const ours = require('../../next.js')
  const handler = async (auth) => {
    const { userId } = await auth()
    if (!userId) throw new Error('not signed in')
  }
  const out = {}
  for (const [name, mw] of [
    ['@clerk/nextjs 7.9.17', clerk.clerkMiddleware(handler)],
    ['clerk-native/next', ours.clerkMiddleware(handler)],
  ]) {
    const one = () => mw(new NextRequest('http://localhost:3000/api/me', { headers: { authorization: `Bearer ${token}` } }), {})
    for (let i = 0; i < 200; i++) await one() // warm-up (JIT, JWKS)
    const until = performance.now() + (DURATION * 1000) / 2
    let n = 0
    const lat = []
    await Promise.all(
      Array.from({ length: CONNS }, async () => {
        while (performance.now() < until) {
          const t0 = performance.now()
          await one()
          lat.push(performance.now() - t0)
          n++
        }
      }),
    )
    lat.sort((a, b) => a - b)
    out[name] = { rps: n / (DURATION / 2), p99: lat[Math.floor(lat.length * 0.99)] }
    console.error(`in process ${name}: ${out[name].rps.toFixed(0)} calls/s p99 ${out[name].p99.toFixed(2)} ms`)
  }
  return out
}

async function main() {
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install -y wrk)')
  console.error('building the clerk-native app (example/next) ...')
  await buildExample()
  console.error('building the @clerk/nextjs copy (benchmark/next/.apps/clerk) ...')
  copySources(EXAMPLE, CLERK_APP)
  runToEnd(process.execPath, [nextBin(CLERK_APP), 'build'], { cwd: CLERK_APP, env: { ...process.env, ...exampleEnv(null), NEXT_TELEMETRY_DISABLED: '1' } })

  const standIn = await startClerkStandIn({ secretKey: SECRET_KEY })
  const token = standIn.sessionToken({ expiresIn: 3600 })
  const iat = JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).iat
  const page = { accept: 'text/html', cookie: `__session=${token}; __client_uat=${iat}` }
  const api = { authorization: `Bearer ${token}` }
  const env = { ...exampleEnv(standIn), CLERK_ENCRYPTION_KEY: 'benchmark-encryption-key', CLERK_JWT_KEY: '' }
  const apps = [
    ['@clerk/nextjs 7.9.17', CLERK_APP],
    ['clerk-native/next', EXAMPLE],
  ]
  const results = {}
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, dir] of apps) {
      const server = await start(dir, env)
      try {
        try {
          await check(server.base, '/', page, `Signed in as ${standIn.userId}`)
          await check(server.base, '/api/me', api, standIn.userId)
        } catch (err) {
          err.message += `\n${name} server output:\n${server.output()}`
          throw err
        }
        wrk(`${server.base}/api/me`, api) // warm-up (JIT, JWKS)
        const r = { page: wrk(`${server.base}/`, page, server.pgid), api: wrk(`${server.base}/api/me`, api, server.pgid) }
        ;(results[name] ||= []).push(r)
        console.error(`round ${round + 1} ${name}: page ${r.page.rps.toFixed(0)} req/s p99 ${r.page.p99.toFixed(1)} ms ${r.page.cpuMsPerReq.toFixed(2)} CPU ms/req; route handler ${r.api.rps.toFixed(0)} req/s p99 ${r.api.p99.toFixed(1)} ms ${r.api.cpuMsPerReq.toFixed(2)} CPU ms/req`)
        if (r.page.non2xx || r.api.non2xx) throw new Error(`${name}: non-2xx responses under load: page ${r.page.non2xx}, api ${r.api.non2xx}`)
      } finally {
        await server.stop()
      }
    }
  }
  const inProcess = await middlewareInProcess(standIn, token)
  await standIn.close()
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const row = (name, kind) => {
    const rs = results[name].map((r) => r[kind])
    return { rps: median(rs.map((r) => r.rps)), p99: median(rs.map((r) => r.p99)), cpu: median(rs.map((r) => r.cpuMsPerReq)) }
  }
  const cpu = os.cpus()[0]?.model || 'unknown CPU'
  const lines = [
    `Next ${require(path.join(EXAMPLE, 'node_modules', 'next', 'package.json')).version}, Node ${process.version}, ${cpu} (${os.cpus().length} cores), wrk -t2 -c${CONNS} -d${DURATION}s, median of ${ROUNDS} round(s)`,
    '',
    '| route | @clerk/nextjs req/s | p99 ms | CPU ms/req | clerk-native req/s | p99 ms | CPU ms/req | req/s ratio |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const [kind, label] of [
    ['page', 'page `/` (server component, auth(), session cookie)'],
    ['api', 'route handler `/api/me` (auth(), Bearer)'],
  ]) {
    const c = row('@clerk/nextjs 7.9.17', kind)
    const n = row('clerk-native/next', kind)
    lines.push(`| ${label} | ${c.rps.toFixed(0)} | ${c.p99.toFixed(1)} | ${c.cpu.toFixed(2)} | ${n.rps.toFixed(0)} | ${n.p99.toFixed(1)} | ${n.cpu.toFixed(2)} | ${(n.rps / c.rps).toFixed(2)}x |`)
  }
  const c = inProcess['@clerk/nextjs 7.9.17']
  const n = inProcess['clerk-native/next']
  lines.push(`| clerkMiddleware alone, in process (Bearer, handler awaits auth()) | ${c.rps.toFixed(0)} | ${c.p99.toFixed(2)} | | ${n.rps.toFixed(0)} | ${n.p99.toFixed(2)} | | ${(n.rps / c.rps).toFixed(2)}x |`)
  console.log(lines.join('\n'))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
