// Full-size fleet measurement for README "Running a fleet" (issue 15): four cluster workers behind one port,
// a real redis-server on 127.0.0.1, the Backend API stand-in and a users service that count calls.
//
//   node benchmark/fleet/run.mjs [--tokens 10000] [--replays 10] [--identities 500]
//
// Prints a markdown table. The CI-sized version with assertions is __test__/fleet.test.js.

import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import os from 'node:os'

const require = createRequire(import.meta.url)
const { startFleet, startUsers, percentile, userRef } = require('./harness.cjs')
const T = require('../../__test__/helpers/tokens.js')
const { startRedis } = require('../../__test__/helpers/redis.js')

const { values: args } = parseArgs({ options: { tokens: { type: 'string', default: '10000' }, replays: { type: 'string', default: '10' }, identities: { type: 'string', default: '500' } } })
const TOKENS = Number(args.tokens)
const REPLAYS = Number(args.replays)
const IDENTITIES = Number(args.identities)
const SECRET_KEY = 'sk_test_fleet_bench'

const redis = await startRedis({ password: 'bench' })
const bapi = await T.startBackendApi()
const users = await startUsers({ delayMs: 30 })
const key = T.rsaKey()
const rows = []
const row = (what, without, withTier) => rows.push(`| ${what} | ${without} | ${withTier} |`)
// Negative TTL 10 min (default 30 s) so that the replays, minutes apart at full size, measure sharing, not expiry.
const fleet = (shared, lookupTimeoutMs = 5) =>
  startFleet({ workers: 4, redisUrl: shared ? `${redis.url}/0` : null, lookupTimeoutMs, negativeTtlMs: 600000, secretKey: SECRET_KEY, bapiUrl: bapi.url, usersUrl: users.url, jwtKey: key.publicPem })
const us = (rs) => rs.map((r) => r.us)
const fmt = (n) => n.toLocaleString('en-US')

// 1. Invalid oat_ tokens, each replayed across the fleet (every round in the same order).
// Lookup budget 250 ms here: on a loaded machine a 5 ms budget lets lookups time out and fall through to the
// Backend API (fail-open, by design); this row measures sharing. Timeouts are reported.
const neg = {}
for (const shared of [false, true]) {
  const f = await fleet(shared, 250)
  const tokens = Array.from({ length: TOKENS }, (_, i) => `oat_bench_${shared}_${i}_${T.unique()}`)
  const before = bapi.requests.length
  const started = performance.now()
  const res = await f.load(Array.from({ length: REPLAYS }, () => tokens).flat(), 64)
  const secs = (performance.now() - started) / 1000
  const rejected = res.filter((r) => r.status === 200 && r.body && r.body.ok === false).length
  const stats = shared ? await Promise.all([0, 1, 2, 3].map((i) => f.ask(i, { cmd: 'stats' }))) : []
  const timeouts = stats.reduce((a, s) => a + s.shared.timeouts + s.shared.skipped, 0)
  neg[shared] = { calls: bapi.requests.length - before, secs, rejected, total: res.length, timeouts }
  await f.close()
}
row(`Backend API calls, ${fmt(TOKENS)} invalid \`oat_\` tokens × ${REPLAYS} replays (${fmt(TOKENS * REPLAYS)} requests, all rejected: ${neg[false].rejected === neg[false].total && neg[true].rejected === neg[true].total})`, fmt(neg[false].calls), `${fmt(neg[true].calls)} (Redis lookups over budget or skipped: ${neg[true].timeouts})`)
row('  wall time of that load (concurrency 64)', `${neg[false].secs.toFixed(1)} s`, `${neg[true].secs.toFixed(1)} s`)

// 2. resolveUser per identity, every identity requested 8 times at once across the fleet.
const ids = {}
for (const shared of [false, true]) {
  users.reset()
  const f = await fleet(shared, 50)
  const map = new Map()
  const tokens = Array.from({ length: IDENTITIES }, (_, i) => {
    const t = T.signJwt(key, T.sessionClaims({ sub: `user_bench_${shared}_${i}`, sid: `sess_${i}`, exp: T.nowSec() + 900 }))
    map.set(t, `user_bench_${shared}_${i}`)
    return t
  })
  const res = await f.load(Array.from({ length: 8 }, () => tokens).flat(), 64)
  const right = res.filter((r) => r.body && r.body.ok && r.body.user && r.body.user.ref === userRef(map.get(r.token))).length
  ids[shared] = { total: users.total(), max: Math.max(...users.calls.values()), right, n: res.length }
  await f.close()
}
row(`resolveUser calls, ${fmt(IDENTITIES)} identities × 8 concurrent requests (all with their own user: ${ids[false].right === ids[false].n && ids[true].right === ids[true].n})`, `${fmt(ids[false].total)} (max ${ids[false].max}/identity)`, `${fmt(ids[true].total)} (max ${ids[true].max}/identity)`)

// 3. Latency of one authenticateRequest in a worker: local miss answered by Redis, and the warm local path.
{
  const tokens = Array.from({ length: 2000 }, (_, i) => `oat_lat_${i}_${T.unique()}`)
  const on = await fleet(true, 5)
  await on.ask(0, { cmd: 'measure', tokens })
  await T.sleep(300)
  const miss = await on.ask(1, { cmd: 'measure', tokens })
  const warmOn = await on.ask(1, { cmd: 'measure', tokens })
  await on.close()
  const off = await fleet(false)
  const live = await off.ask(1, { cmd: 'measure', tokens })
  const warmOff = await off.ask(1, { cmd: 'measure', tokens })
  await off.close()
  const p = (rs) => `p50 ${percentile(us(rs), 50)} µs / p99 ${percentile(us(rs), 99)} µs`
  row('`oat_` on a local miss: Backend API call (without) vs Redis hit (with)', p(live), p(miss))
  row('warm local hit (the common path)', p(warmOff), p(warmOn))
}

// 4. Invalidation latency across the fleet.
{
  const f = await fleet(true)
  const t = T.signJwt(key, T.sessionClaims({ sub: 'user_bench_inv', exp: T.nowSec() + 900 }))
  await f.load([t, t, t, t, t, t, t, t], 8)
  const lat = []
  for (let k = 0; k < 20; k++) {
    const watchers = [1, 2, 3].map((i) => f.ask(i, { cmd: 'watch' }))
    await T.sleep(10)
    const { t0 } = await f.ask(0, k % 2 ? { cmd: 'invalidateToken', token: t } : { cmd: 'invalidateIdentity', target: { userId: 'user_bench_inv' } })
    const seen = await Promise.all(watchers)
    lat.push(Math.max(...seen.map((s) => (s.seen === null ? Infinity : s.seen - t0))))
  }
  await f.close()
  row('invalidation reaching all 3 other processes (20 trials)', 'never (each process keeps its entry up to its TTL)', `p50 ${percentile(lat, 50).toFixed(1)} ms / max ${Math.max(...lat).toFixed(1)} ms`)
}

// 5. Outage: the same mixed load with Redis up, then with SIGSTOP 1 s / SIGCONT / kill 1 s / restart.
{
  const f = await fleet(true, 5)
  const map = new Map()
  const valid = Array.from({ length: 200 }, (_, i) => {
    const t = T.signJwt(key, T.sessionClaims({ sub: `user_out_${i}`, exp: T.nowSec() + 900 }))
    map.set(t, `user_out_${i}`)
    return t
  })
  const good = Array.from({ length: 50 }, (_, i) => {
    const t = `oat_out_good_${i}_${T.unique()}`
    bapi.answer(t, { status: 200, body: { id: 'oat_id', subject: 'user_m', scopes: [], client_id: 'c' } })
    return t
  })
  const bad = Array.from({ length: 500 }, (_, i) => `oat_out_bad_${i}_${T.unique()}`)
  const mix = Array.from({ length: 20000 }, (_, i) => (i % 5 < 3 ? valid[i % 200] : i % 5 === 3 ? good[i % 50] : bad[i % 500]))
  const base = await f.load(mix, 32)
  const faults = (async () => {
    await T.sleep(500)
    redis.pause()
    await T.sleep(1000)
    redis.resume()
    await T.sleep(500)
    await redis.stop()
    await T.sleep(1000)
    await redis.restart()
  })()
  const [res] = await Promise.all([f.load(mix, 32), faults])
  const pass = new Set([...valid, ...good])
  const failed = res.filter((r) => pass.has(r.token) && !(r.body && r.body.ok && (!map.has(r.token) || r.body.user.ref === userRef(map.get(r.token))))).length
  const wrong = res.filter((r) => !pass.has(r.token) && !(r.body && r.body.ok === false)).length
  const stats = await Promise.all([0, 1, 2, 3].map((i) => f.ask(i, { cmd: 'stats' })))
  await f.close()
  const p = (rs) => `p50 ${percentile(rs.map((r) => r.ms), 50).toFixed(1)} ms / p99 ${percentile(rs.map((r) => r.ms), 99).toFixed(1)} ms`
  row(`20,000 mixed requests (sessions + valid/invalid \`oat_\`), concurrency 32: Redis up / paused 1 s, killed 1 s, restarted`, p(base), `${p(res)}; ${failed} failed that should pass, ${wrong} passed that should fail; breaker opened ${stats.reduce((a, s) => a + s.shared.breakerOpens, 0)}×`)
}

await redis.close()
await bapi.close()
await users.close()
console.log(`\n${os.cpus().length} CPUs (${os.cpus()[0].model}), Node ${process.version}, ${new Date().toISOString()}\n`)
console.log('| measurement | without the shared tier | with the shared tier |\n|---|---|---|')
console.log(rows.join('\n'))
