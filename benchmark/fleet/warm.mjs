// The warm local path with and without the shared tier, in one process, alternating (issue 15: "no change to
// the warm local path"): authenticateRequest on invalid `oat_` tokens already in the local negative cache, and
// on session JWTs already in the local verified-token cache. Prints p50/p99 per mode over all rounds.
//
//   node benchmark/fleet/warm.mjs [--rounds 6]

import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'

const require = createRequire(import.meta.url)
const cn = require('../../index.js')
const T = require('../../__test__/helpers/tokens.js')
const { startRedis } = require('../../__test__/helpers/redis.js')
const { percentile } = require('./harness.cjs')

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '6' } } })
const redis = await startRedis()
const bapi = await T.startBackendApi()
const key = T.rsaKey()
const options = { secretKey: 'sk_test_warm', apiUrl: bapi.url, jwtKey: key.publicPem, acceptsToken: 'any' }
const req = (t) => ({ url: 'http://localhost/', method: 'GET', headers: { authorization: `Bearer ${t}` } })
const oats = Array.from({ length: 2000 }, (_, i) => `oat_warm_${i}_${T.unique()}`)
const jwts = Array.from({ length: 2000 }, (_, i) => T.signJwt(key, T.sessionClaims({ sub: `user_warm_${i}`, exp: T.nowSec() + 900 })))
for (const t of [...oats, ...jwts]) await cn.authenticateRequest(req(t), options) // local caches warm
const times = { off: { oat: [], jwt: [] }, on: { oat: [], jwt: [] } }
for (let r = 0; r < Number(args.rounds); r++) {
  for (const mode of r % 2 ? ['on', 'off'] : ['off', 'on']) {
    cn.configureCaches({ shared: mode === 'on' ? { url: redis.url } : null })
    for (const [kind, list] of [['oat', oats], ['jwt', jwts]]) {
      for (const t of list) {
        const s = process.hrtime.bigint()
        await cn.authenticateRequest(req(t), options)
        times[mode][kind].push(Number(process.hrtime.bigint() - s) / 1000)
      }
    }
  }
}
cn.configureCaches({ shared: null })
const p = (xs) => `p50 ${percentile(xs, 50).toFixed(1)} µs / p99 ${percentile(xs, 99).toFixed(1)} µs`
console.log('| warm local hit | tier off | tier on |\n|---|---|---|')
console.log(`| invalid \`oat_\` (negative cache) | ${p(times.off.oat)} | ${p(times.on.oat)} |`)
console.log(`| session JWT (verified-token cache) | ${p(times.off.jwt)} | ${p(times.on.jwt)} |`)
console.log(`\nnegative-cache misses during the rounds (must be 0): ${cn.cacheStats().negative.misses - 2000}`)
await redis.close()
await bapi.close()
