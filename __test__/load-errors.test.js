'use strict'
// lib/native.js: what `require('clerk-native')` says when the binary cannot load (every entry point loads it
// first). The real old-glibc case runs in a Debian 11 root: scripts/old-glibc-smoke.sh.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')

function tryRequire(cwd, id, env = {}) {
  const code = `try { require(${JSON.stringify(id)}); console.log('LOADED') } catch (e) {
    console.log(JSON.stringify({ code: e.code, message: e.message, glibcRequired: e.glibcRequired })) }`
  const r = spawnSync(process.execPath, ['-e', code], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 })
  assert.equal(r.status, 0, r.stderr)
  const out = r.stdout.trim().split('\n').pop()
  return out === 'LOADED' ? null : JSON.parse(out)
}

test('no binary loads: ERR_CLERK_NATIVE_LOAD names the platform package and the fix, not napi\'s package-lock advice', () => {
  for (const entry of ['index.js', 'express.js', 'next.js']) {
    const e = tryRequire(ROOT, path.join(ROOT, entry), { NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/clerk-native.node' })
    assert.ok(e, `${entry} loaded with no binary`)
    assert.equal(e.code, 'ERR_CLERK_NATIVE_LOAD', entry)
    assert.match(e.message, /clerk-native-linux-|clerk-native-<platform>/)
    assert.match(e.message, /Cannot find module '\/nonexistent\/clerk-native\.node'/)
    assert.doesNotMatch(e.message, /package-lock|npm has a bug/)
  }
})

test('a platform package whose recorded glibc floor is above this system: ERR_CLERK_NATIVE_GLIBC names the floor', (t) => {
  if (process.platform !== 'linux' || !process.report.getReport().header.glibcVersionRuntime) return t.skip('glibc Linux only')
  if (process.arch !== 'x64' && process.arch !== 'arm64') return t.skip('x64/arm64 only')
  const abi = `linux-${process.arch}-gnu`
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clerk-native-floor-'))
  try {
    const pkg = path.join(tmp, 'node_modules', 'clerk-native')
    fs.mkdirSync(pkg, { recursive: true })
    for (const f of ['index.js', 'express.js', 'next.js', 'binding.js', 'package.json']) fs.copyFileSync(path.join(ROOT, f), path.join(pkg, f))
    fs.cpSync(path.join(ROOT, 'lib'), path.join(pkg, 'lib'), { recursive: true })
    const plat = path.join(tmp, 'node_modules', `clerk-native-${abi}`)
    fs.mkdirSync(plat)
    fs.writeFileSync(
      path.join(plat, 'package.json'),
      JSON.stringify({ name: `clerk-native-${abi}`, version: '0.0.0', main: `clerk-native.${abi}.node`, clerkNative: { glibc: '9.99' } }),
    )
    const e = tryRequire(tmp, 'clerk-native')
    assert.ok(e, 'loaded despite a glibc floor of 9.99')
    assert.equal(e.code, 'ERR_CLERK_NATIVE_GLIBC')
    assert.equal(e.glibcRequired, '9.99')
    assert.match(e.message, new RegExp(`needs glibc >= 9\\.99, but this system has glibc ${process.report.getReport().header.glibcVersionRuntime}`))
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
})
