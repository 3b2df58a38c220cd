// node:crypto.verify on the same key, message and signature as benches/rsa.rs (RSA-2048 PKCS#1 v1.5 SHA-256).
// Usage: node node-verify.mjs [ms per round = 3000] [rounds = 5]
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
const fx = (f) => readFileSync(new URL(f.startsWith('rsa2048') ? `../../crates/core/tests/fixtures/${f}` : `./fixtures/${f}`, import.meta.url))
const priv = createPrivateKey({ key: fx('rsa2048.pk8.der'), format: 'der', type: 'pkcs8' })
const pub = createPublicKey(fx('rsa2048.pub.pem'))
const message = fx('message.txt')
const signature = sign('sha256', message, priv)
try {
  if (!fx('signature.bin').equals(signature)) throw new Error('signature differs from the Rust bench (not the same key/message?)')
} catch (e) { if (e.code !== 'ENOENT') throw e }
const bad = Buffer.from(signature); bad[10] ^= 1
if (!verify('sha256', message, pub, signature) || verify('sha256', message, pub, bad)) throw new Error('sanity')
const ms = Number(process.argv[2] ?? 3000), rounds = Number(process.argv[3] ?? 5)
const rows = []
for (const [name, fn] of [
  ['crypto.verify(KeyObject)', () => verify('sha256', message, pub, signature)],
  ['crypto.verify(PEM string)', () => verify('sha256', message, fx.pem ??= fx('rsa2048.pub.pem').toString(), signature)],
]) {
  for (let i = 0; i < 2000; i++) fn()
  const rates = []
  for (let r = 0; r < rounds; r++) {
    let n = 0; const t0 = process.hrtime.bigint(); const end = t0 + BigInt(ms) * 1000000n; let ok = true
    while (true) { for (let k = 0; k < 200; k++) ok = fn() && ok; n += 200; if (process.hrtime.bigint() >= end) break }
    if (!ok) throw new Error('failed verify')
    rates.push(n / (Number(process.hrtime.bigint() - t0) / 1e9))
  }
  rates.sort((a, b) => a - b)
  rows.push({ name, median: Math.round(rates[rates.length >> 1]), min: Math.round(rates[0]), max: Math.round(rates.at(-1)), usPerOp: +(1e6 / rates[rates.length >> 1]).toFixed(2) })
}
console.log(`node ${process.version}, OpenSSL ${process.versions.openssl}`)
console.table(rows)

// Interleaved bursts (the same method as src/bin/interleaved.rs): best / p10 / median of many short bursts.
{
  const rounds = Number(process.env.ROUNDS ?? 200), burst = Number(process.env.BURST ?? 500)
  const s = []
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint(); let ok = true
    for (let k = 0; k < burst; k++) ok = verify('sha256', message, pub, signature) && ok
    if (!ok) throw new Error('failed')
    s.push(Number(process.hrtime.bigint() - t0) / burst)
  }
  s.sort((a, b) => a - b)
  const f = (ns) => `${(ns / 1e3).toFixed(2)} us (${Math.round(1e9 / ns)}/s)`
  console.log(`rounds ${rounds} x burst ${burst}\n${'node:crypto.verify(KeyObject)'.padEnd(52)} best ${f(s[0])}  p10 ${f(s[Math.floor(s.length / 10)])}  median ${f(s[s.length >> 1])}`)
}
