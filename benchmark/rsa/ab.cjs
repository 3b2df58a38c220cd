// End-to-end A/B of two release builds of the addon: COLD verification (NativeVerifier.verifySync, jwtKey, distinct
// tokens, verified cache cleared) with each, and node:crypto.verify on the same key, interleaved bursts on one
// thread (each .node loaded with process.dlopen). Usage:
//   node ab.cjs <a.node> <b.node> [rounds=150] [burst=400]      e.g. a ring build and an aws-lc-rs build
const crypto = require('node:crypto')
const path = require('node:path')
const T = require('../../__test__/helpers/tokens.js')
const load = (f) => { const m = { exports: {} }; process.dlopen(m, path.resolve(f)); return m.exports }
const [A, B] = process.argv.slice(2, 4)
if (!A || !B) { console.error('usage: node ab.cjs <a.node> <b.node> [rounds] [burst]'); process.exit(2) }
const impls = { [path.basename(A)]: load(A), [path.basename(B)]: load(B) }
const key = T.rsaKey(2048, 'ins_ab')
const now = T.nowSec()
const N = 4000
const tokens = Array.from({ length: N }, (_, i) => T.signJwt(key, { ...T.sessionClaims({ sub: `user_${i}` }), iat: now, nbf: now - 10, exp: now + 3600, jti: `j${i}` }))
const pubKey = crypto.createPublicKey(key.publicPem)
const parts = tokens.map((t) => { const [h, p, s] = t.split('.'); return [Buffer.from(`${h}.${p}`), Buffer.from(s, 'base64url')] })
const verifiers = Object.fromEntries(Object.entries(impls).map(([k, b]) => [k, { b, v: new b.NativeVerifier({ jwtKey: key.publicPem }) }]))
for (const [k, { v }] of Object.entries(verifiers)) { const r = v.verifySync(tokens[0]); if (typeof r !== 'string') throw new Error(`${k}: ${JSON.stringify(r)}`) }
const rounds = Number(process.argv[4] ?? 150), burst = Number(process.argv[5] ?? 400)
const runs = {
  'node:crypto.verify (KeyObject, signature only)': (i) => crypto.verify('sha256', parts[i][0], pubKey, parts[i][1]),
  ...Object.fromEntries(Object.entries(verifiers).map(([k, { v }]) => [`addon COLD verifySync (${k})`, (i) => typeof v.verifySync(tokens[i]) === 'string'])),
}
const names = Object.keys(runs)
const s = Object.fromEntries(names.map((n) => [n, []]))
let idx = 0
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + r) % names.length]
    const fn = runs[name]
    if (idx + burst > N) { idx = 0 }
    for (const { b } of Object.values(verifiers)) b.clearCaches('verified')
    const t0 = process.hrtime.bigint(); let ok = true
    for (let j = 0; j < burst; j++) ok = fn(idx + j) && ok
    const ns = Number(process.hrtime.bigint() - t0) / burst
    if (!ok) throw new Error(`${name} failed`)
    s[name].push(ns)
  }
  idx += burst
}
const f = (ns) => `${(ns / 1e3).toFixed(2).padStart(6)} µs ${String(Math.round(1e9 / ns)).padStart(6)}/s`
console.log(`rounds ${rounds} x burst ${burst}; cpu ${require('os').cpus()[0].model}`)
for (const n of names) { const a = s[n].sort((x, y) => x - y); console.log(`${n.padEnd(48)} best ${f(a[0])}  p10 ${f(a[Math.floor(a.length / 10)])}  median ${f(a[a.length >> 1])}`) }
