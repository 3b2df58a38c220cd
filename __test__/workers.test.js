'use strict'
// Worker threads (hardening round 2, item 1): the second worker that loaded the addon used to die with SIGSEGV
// inside napi_register_module_v1 (mimalloc v3's main-thread heap was torn down with the first worker and adopted
// by the next thread that reused its id). Here a host process whose main thread does not load the addon runs
// workers one after another and several at once; each proxies, verifies through a JWKS fetch and calls the
// Backend API, then exits or is terminated with work in flight. The host must exit cleanly, with no fd growth
// and no native work left.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')

const T = require('./helpers/tokens')
const { startUpstream } = require('./helpers/upstream')

const HOST = path.join(__dirname, 'fixtures', 'worker-host.js')
const PKG = path.join(__dirname, '..')

let fapi
let jwks
let bapi
let key
before(async () => {
  key = T.rsaKey(2048, 'kid_workers')
  fapi = await startUpstream()
  fapi.respond((rec) => (rec.path.endsWith('/hang') ? { hang: true } : { status: 200, body: '{"ok":true}' }))
  jwks = await T.startJwksServer({ keys: [key.jwk] })
  bapi = await T.startBackendApi()
  bapi.answer('oat_workers_ok', { body: { id: 'oat_id', subject: 'user_workers', scopes: [] } })
  bapi.answer('oat_workers_slow', { delayMs: 30000, body: { id: 'oat_id2', subject: 'user_workers', scopes: [] } })
})
after(async () => {
  await fapi.close()
  await jwks.close()
  await bapi.close()
})

function runHost(config, timeoutMs = 90000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', HOST, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (c) => (out += c))
    child.stderr.on('data', (c) => (err += c))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`worker host timed out after ${timeoutMs} ms\n${out}\n${err}`))
    }, timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out, err })
    })
  })
}

function config(extra) {
  const now = T.nowSec()
  const token = T.signJwt(key, T.sessionClaims({ sub: 'user_workers', exp: now + 600 }))
  return {
    pkg: PKG,
    fapiUrl: fapi.url,
    jwksUrl: `${jwks.url}/.well-known/jwks.json`,
    bapiUrl: bapi.url,
    token,
    oat: 'oat_workers_ok',
    slowOat: 'oat_workers_slow',
    ...extra,
  }
}

test('workers load the addon one after another and at the same time, work, exit or are terminated: no crash, no leak', async () => {
  const r = await runHost(config({ sequential: 6, concurrent: 3, terminate: true }))
  assert.equal(r.signal, null, `host died with ${r.signal}\n${r.err}`)
  assert.equal(r.code, 0, `host exited ${r.code}\n${r.err}\n${r.out}`)
  const report = JSON.parse(r.out.trim().split('\n').pop())
  // fds: after the first workers settle (runtime threads, pooled connections), more workers add nothing.
  const settled = report.fdAfter[2]
  const last = report.fdAfter[report.fdAfter.length - 1]
  assert.ok(last <= settled + 4, `fds grew with workers: ${JSON.stringify(report)}`)
  assert.ok(report.fdEnd <= settled + 8, `fds at the end: ${JSON.stringify(report)}`)
  assert.equal(report.stats.exchangeTasks, 0, `native exchange tasks left: ${JSON.stringify(report.stats)}`)
  assert.equal(report.stats.exchangeHandles, 0, `native exchange handles left: ${JSON.stringify(report.stats)}`)
  // Every hanging proxied request was cut at the upstream when its worker went away.
  const hung = fapi.requests.filter((rec) => rec.path.endsWith('/hang'))
  assert.ok(hung.length >= 6 + 9, `hanging requests seen upstream: ${hung.length}`)
  const closed = await Promise.race([
    Promise.all(hung.map((rec) => rec.closed)).then(() => true),
    new Promise((res) => setTimeout(() => res(false), 5000)),
  ])
  assert.ok(closed, 'an upstream connection of a finished worker stayed open')
})

test('two workers in a row, each the first to load the addon (the original reproducer)', async () => {
  const r = await runHost(config({ sequential: 2, concurrent: 0, terminate: false }))
  assert.equal(r.signal, null, `host died with ${r.signal}\n${r.err}`)
  assert.equal(r.code, 0, `host exited ${r.code}\n${r.err}`)
})
