'use strict'
// The short version of the soak (SECURITY.md, "Soak"): benchmark/soak.mjs with a few thousand operations, run
// exactly as the long one (a child-process Express app with clerkMiddleware, mixed proxied GET/POST, client
// aborts, warm/cold/invalid authentications). The script checks its own outcomes and exits 1 on an unexpected
// error, an fd or connection leak, RSS growth past its bound, or an upstream response still in flight; this test
// also reads the report it writes and checks the counts in it.
//
// Long run: `node benchmark/soak.mjs` (100,000 + 100,000).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')

const ROOT = path.join(__dirname, '..')

test('soak (short): mixed proxied and authenticated load, no unexpected error, no leak', { timeout: 180_000 }, async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'clerk-native-soak-')), 'soak.md')
  const env = {
    ...process.env,
    SOAK_REQUESTS: '3000',
    SOAK_AUTHS: '3000',
    SOAK_CONCURRENCY: '50',
    SOAK_WARMUP: '1000',
    // At this size the abort share is ~150 requests: enough to catch an abort that never reaches the upstream.
    SOAK_ABORT_RATE: '0.05',
    SOAK_MAX_S: '150',
    SOAK_OUT: out,
  }
  const child = spawn(process.execPath, [path.join(ROOT, 'benchmark', 'soak.mjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  // A hang (the script stops making progress) must fail with what the script printed, not as a bare test timeout.
  let killed = false
  const watchdog = setTimeout(() => {
    killed = true
    child.kill('SIGKILL')
  }, 165_000)
  const code = await new Promise((resolve) => child.on('close', resolve))
  clearTimeout(watchdog)
  assert.ok(!killed, `soak did not finish within 165 s (killed); its output so far:\n${output.slice(-4000) || '(none)'}`)
  assert.equal(code, 0, `soak failed (exit ${code}):\n${output.slice(-4000)}`)
  const report = fs.readFileSync(out, 'utf8')
  assert.match(report, /\*\*Result: PASS\*\* — 0 unexpected errors;/, report)
  assert.doesNotMatch(report, /^- \*\*FAILED\*\*/m, report)
  // Every client abort of the 4 MiB stream must have reached the upstream (it counts the responses the proxy cut).
  const aborted = /- ok: every client abort cut its upstream response: ([\d,]+) cut at the upstream, ([\d,]+) aborted by the client/.exec(report)
  assert.ok(aborted, `no abort check in the report:\n${report}`)
  const num = (s) => Number(s.replace(/,/g, ''))
  assert.ok(num(aborted[2]) > 0, 'the run aborted no request')
  assert.equal(num(aborted[1]), num(aborted[2]), 'an aborted request was not cut at the upstream')
  fs.rmSync(path.dirname(out), { recursive: true, force: true })
})
