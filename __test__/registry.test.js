'use strict'
// The publish flow, end to end, against a REAL npm registry (verdaccio) on 127.0.0.1:
//   1. `scripts/stage-npm.js` stages every platform package and the main package as a release would; the test
//      gives it this machine's release .node for linux-x64-gnu and, for the six other targets, decoys (copies
//      of the same file under the other names: never loaded, they only give npm real packages to choose from).
//      `scripts/publish-npm.js` publishes all eight to the local registry.
//   2. In an empty project with no cargo on PATH: `npm install clerk-native --registry <local>`. npm must pick
//      clerk-native-linux-x64-gnu by os/cpu/libc by itself (and none of the six others), the install script must
//      not build, and every entry point (CJS and ESM) must load the binary from that package.
//   3. The same release installed with --omit=optional and no cargo: the install fails, and says the platform
//      package was not installed and how to install it (not napi's "remove package-lock.json" advice).
//   4. A release with NO package for this platform (the six decoys only), no cargo: the install fails and says
//      that no prebuilt binary is published for linux-x64-gnu and that cargo is needed.
//   5. That release with cargo on PATH: the install script builds from the packaged sources (cold, in a temp
//      dir: 3-5 min on 2 cores), says why, and leaves only the .node inside node_modules (no build tree), and
//      the temp dir is gone. Skipped with CLERK_NATIVE_SKIP_SOURCE_BUILD_TEST=1.
// Needs verdaccio: npm install --prefix __test__/registry --no-audit --no-fund (.ci/run does it).

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const net = require('node:net')
const path = require('node:path')
const crypto = require('node:crypto')
const { spawn, spawnSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const VERDACCIO = path.join(__dirname, 'registry', 'node_modules', 'verdaccio', 'bin', 'verdaccio')
const ABI = 'linux-x64-gnu'
const NODE_FILE = path.join(ROOT, `clerk-native.${ABI}.node`)
const OTHER_ABIS = ['linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']
const VERSION = require('../package.json').version
const SRC_VERSION = `${VERSION}-nobinary.0` // the release without a package for this platform

const { isMusl } = require('./helpers/platform')

function skipReason() {
  if (process.platform !== 'linux' || process.arch !== 'x64' || isMusl()) return 'covers linux-x64-gnu only'
  if (!fs.existsSync(NODE_FILE)) return `no ${path.basename(NODE_FILE)}: run \`npm run build\``
  if (!fs.existsSync(VERDACCIO)) {
    const msg = 'verdaccio is not installed: npm install --prefix __test__/registry --no-audit --no-fund'
    if (/^(1|true)$/i.test(process.env.CI || '')) throw new Error(msg) // CI installs it: never skip there
    return msg
  }
  return null
}

let SKIP = null
let tmp
let registry // http://127.0.0.1:<port>/
let verdaccio
let verdaccioLog = ''
let npmrc // userconfig holding the test user's token (never printed)
let noCargoPath
let cargoPath

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function waitForPing(url, ms) {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      const r = await fetch(new URL('-/ping', url), { signal: AbortSignal.timeout(2000) })
      if (r.ok) return
    } catch {
      // not up yet
    }
    if (verdaccio.exitCode !== null) throw new Error(`verdaccio exited (${verdaccio.exitCode}):\n${verdaccioLog}`)
    if (Date.now() > deadline) throw new Error(`verdaccio did not answer /-/ping within ${ms} ms:\n${verdaccioLog}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Runs a command; returns { status, output, ms }. Never throws on a non-zero exit. */
function run(cmd, args, { cwd, env, timeout = 5 * 60 * 1000 } = {}) {
  const t0 = Date.now()
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 })
  if (r.error) throw r.error
  return { status: r.status, signal: r.signal, output: `${r.stdout || ''}${r.stderr || ''}`, ms: Date.now() - t0 }
}

/** The environment of a consumer: this registry, its own npm cache, and a PATH with or without cargo. */
function consumerEnv(withCargo, extra = {}) {
  const env = { ...process.env, ...extra }
  for (const k of ['NODE_PATH', 'CARGO', 'RUSTC', 'CARGO_TARGET_DIR', 'NAPI_RS_NATIVE_LIBRARY_PATH', 'CLERK_NATIVE_SKIP_BUILD', 'CLERK_NATIVE_FORCE_BUILD']) {
    delete env[k]
  }
  for (const k of Object.keys(env)) if (/^npm_/i.test(k)) delete env[k] // the outer `npm test`'s config
  env.PATH = withCargo ? cargoPath : noCargoPath
  env.npm_config_registry = registry
  env.npm_config_userconfig = npmrc
  env.npm_config_cache = path.join(tmp, 'npm-cache')
  env.npm_config_update_notifier = 'false'
  return env
}

const installerLines = (out) => out.split('\n').filter((l) => l.includes('[clerk-native]')).join('\n')

function newProject(name) {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }, null, 2))
  return dir
}

function listDir(dir) {
  try {
    return fs.readdirSync(dir).sort()
  } catch {
    return []
  }
}

function duBytes(p) {
  const st = fs.lstatSync(p)
  if (!st.isDirectory()) return st.size
  return fs.readdirSync(p).reduce((n, e) => n + duBytes(path.join(p, e)), 0)
}

function findDirsNamed(root, name, out = []) {
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    if (!e.isDirectory()) continue
    const p = path.join(root, e.name)
    if (e.name === name) out.push(p)
    else findDirsNamed(p, name, out)
  }
  return out
}

/** Loads every entry point in `dir` (CJS and ESM) and returns the .node files loaded. */
function loadEntries(dir, env) {
  const cjs = `
    const assert = require('assert')
    const core = require('clerk-native'); require('clerk-native/express'); require('clerk-native/next')
    for (const w of ['clerk-native/webhooks', 'clerk-native/express/webhooks', 'clerk-native/next/webhooks']) assert.strictEqual(typeof require(w).verifyWebhook, 'function', w)
    assert.strictEqual(core.fapiUrlFromPublishableKey('pk_test_Y2xlcmsuZXhhbXBsZS5jb20k'), 'https://frontend-api.clerk.dev')
    assert.strictEqual(typeof core.nativeStats().exchangeTasks, 'number')
    console.log('NODES=' + JSON.stringify(Object.keys(require.cache).filter((k) => k.endsWith('.node'))))`
  const esm = `
    import * as core from 'clerk-native'; import * as ex from 'clerk-native/express'; import * as nx from 'clerk-native/next'
    import * as w1 from 'clerk-native/webhooks'; import * as w2 from 'clerk-native/express/webhooks'; import * as w3 from 'clerk-native/next/webhooks'
    if (![w1, w2, w3].every((w) => typeof w.verifyWebhook === 'function')) throw new Error('missing webhook ESM exports')
    if (typeof core.verifyToken !== 'function' || typeof ex.clerkMiddleware !== 'function' || typeof nx.createFrontendApiProxyHandlers !== 'function') throw new Error('missing ESM exports')
    console.log('ESM_OK')`
  const a = run(process.execPath, ['-e', cjs], { cwd: dir, env })
  assert.equal(a.status, 0, `require() of the entry points failed:\n${a.output}`)
  const b = run(process.execPath, ['--input-type=module', '-e', esm], { cwd: dir, env })
  assert.equal(b.status, 0, `import of the entry points failed:\n${b.output}`)
  assert.match(b.output, /ESM_OK/)
  return JSON.parse(/NODES=(.*)/.exec(a.output)[1])
}

function stageAndPublish({ version, abis, tag }) {
  const artifacts = path.join(tmp, `artifacts-${version}`)
  const out = path.join(tmp, `stage-${version}`)
  for (const abi of abis) {
    const triple = {
      'linux-x64-gnu': 'x86_64-unknown-linux-gnu',
      'linux-arm64-gnu': 'aarch64-unknown-linux-gnu',
      'linux-x64-musl': 'x86_64-unknown-linux-musl',
      'linux-arm64-musl': 'aarch64-unknown-linux-musl',
      'darwin-x64': 'x86_64-apple-darwin',
      'darwin-arm64': 'aarch64-apple-darwin',
      'win32-x64-msvc': 'x86_64-pc-windows-msvc',
    }[abi]
    const d = path.join(artifacts, `bindings-${triple}`)
    fs.mkdirSync(d, { recursive: true })
    fs.copyFileSync(NODE_FILE, path.join(d, `clerk-native.${abi}.node`)) // the real one for linux-x64-gnu; decoys for the rest
  }
  const stage = run(process.execPath, [path.join(ROOT, 'scripts', 'stage-npm.js'), '--artifacts', artifacts, '--out', out, '--version', version, '--targets', abis.join(',')], { cwd: ROOT })
  assert.equal(stage.status, 0, `stage-npm.js failed:\n${stage.output}`)
  const main = JSON.parse(fs.readFileSync(path.join(out, 'clerk-native', 'package.json'), 'utf8'))
  assert.deepEqual(main.optionalDependencies, Object.fromEntries(abis.map((a) => [`clerk-native-${a}`, version])), 'optionalDependencies pinned to the same version')
  assert.deepEqual(Object.keys(main.scripts), ['install'])
  const env = { ...process.env, npm_config_userconfig: npmrc, npm_config_registry: registry }
  for (const k of Object.keys(env)) if (/^npm_(?!config_userconfig$|config_registry$)/i.test(k)) delete env[k]
  const pub = run(process.execPath, [path.join(ROOT, 'scripts', 'publish-npm.js'), '--dir', out, '--registry', registry, '--tag', tag], { cwd: ROOT, env })
  assert.equal(pub.status, 0, `publish-npm.js failed:\n${pub.output}`)
  return { stage: stage.output, publish: pub.output }
}

before(async () => {
  SKIP = skipReason()
  if (SKIP) return
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clerk-native-registry-'))
  // PATHs: one without cargo/rustc (stubs that fail shadow any that sit beside node), one with it.
  const nodeDir = path.dirname(process.execPath)
  const npmDir = path.dirname(run('bash', ['-c', 'command -v npm']).output.trim())
  const stubs = path.join(tmp, 'no-rust')
  fs.mkdirSync(stubs)
  for (const t of ['cargo', 'rustc', 'rustup']) {
    fs.writeFileSync(path.join(stubs, t), `#!/bin/sh\necho "${t} is blocked by registry.test.js" >&2\nexit 127\n`, { mode: 0o755 })
  }
  noCargoPath = [stubs, nodeDir, npmDir, '/usr/bin', '/bin'].join(':')
  const cargoDir = path.dirname(run('bash', ['-c', 'command -v cargo']).output.trim() || '/nonexistent/cargo')
  cargoPath = [nodeDir, npmDir, cargoDir, '/usr/local/bin', '/usr/bin', '/bin'].join(':')

  const port = await freePort()
  registry = `http://127.0.0.1:${port}/`
  const cfg = path.join(tmp, 'verdaccio.yaml')
  fs.writeFileSync(
    cfg,
    [
      `storage: ${path.join(tmp, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${path.join(tmp, 'htpasswd')}`,
      '    max_users: 10',
      'uplinks: {}', // nothing from the public registry: every package must come from this test's publishes
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      'web:',
      '  enable: false',
      'max_body_size: 100mb',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  )
  verdaccio = spawn(process.execPath, [VERDACCIO, '--config', cfg, '--listen', `127.0.0.1:${port}`], {
    cwd: tmp,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VERDACCIO_HANDLE_KILL_SIGNALS: 'true' },
  })
  verdaccio.stdout.on('data', (d) => (verdaccioLog = (verdaccioLog + d).slice(-20000)))
  verdaccio.stderr.on('data', (d) => (verdaccioLog = (verdaccioLog + d).slice(-20000)))
  await waitForPing(registry, 60_000)

  // A user on the local registry (verdaccio's htpasswd plugin creates it on first login); the token only
  // goes into a userconfig file for npm.
  const password = crypto.randomBytes(18).toString('base64url')
  const r = await fetch(new URL('-/user/org.couchdb.user:tester', registry), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'tester', password }),
    signal: AbortSignal.timeout(10_000),
  })
  assert.equal(r.status, 201, `could not create a user on the local registry: ${r.status}`)
  const { token } = await r.json()
  assert.ok(token, 'the local registry returned no token')
  npmrc = path.join(tmp, 'npmrc')
  fs.writeFileSync(npmrc, `//127.0.0.1:${port}/:_authToken=${token}\n`, { mode: 0o600 })
})

after(async () => {
  if (verdaccio && verdaccio.exitCode === null) {
    verdaccio.kill('SIGTERM')
    await new Promise((resolve) => {
      const t = setTimeout(() => {
        verdaccio.kill('SIGKILL')
        resolve()
      }, 5000)
      verdaccio.once('exit', () => {
        clearTimeout(t)
        resolve()
      })
    })
  }
  if (tmp && !process.env.REGISTRY_TEST_KEEP) fs.rmSync(tmp, { recursive: true, force: true })
  else if (tmp) console.log(`kept ${tmp}`)
})

test('publish to a local registry, then `npm install clerk-native` picks the platform package by itself (no cargo)', { timeout: 8 * 60 * 1000 }, (t) => {
  if (SKIP) return t.skip(SKIP)
  const logs = stageAndPublish({ version: VERSION, abis: [ABI, ...OTHER_ABIS], tag: 'latest' })
  assert.match(logs.stage, new RegExp(`clerk-native-${ABI}@${VERSION.replace(/\./g, '\\.')}: .* MiB, needs glibc >= \\d+\\.\\d+`))
  assert.match(logs.publish, /published 7 platform package\(s\) and clerk-native@/)

  const app = newProject('consumer')
  const env = consumerEnv(false)
  assert.notEqual(run('bash', ['-c', 'cargo --version'], { env }).status, 0, 'cargo must not work in the consumer env')
  const r = run('npm', ['install', 'clerk-native', '--registry', registry, '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: app, env })
  t.diagnostic(`npm install clerk-native from the local registry took ${(r.ms / 1000).toFixed(1)} s`)
  assert.equal(r.status, 0, `npm install failed:\n${r.output}`)
  assert.match(r.output, /native binding OK/)
  assert.doesNotMatch(r.output, /building it from source/)

  const nm = path.join(app, 'node_modules')
  const installed = listDir(nm).filter((n) => n.startsWith('clerk-native'))
  assert.deepEqual(installed, ['clerk-native', `clerk-native-${ABI}`], 'npm installs exactly the matching platform package')
  assert.deepEqual(listDir(path.join(nm, 'clerk-native')).filter((f) => f.endsWith('.node')), [], 'no .node in the main package')
  const lock = JSON.parse(fs.readFileSync(path.join(app, 'package-lock.json'), 'utf8'))
  for (const abi of OTHER_ABIS) {
    // npm knows the other platform packages (they are in the lock, as optional), and skipped them by os/cpu/libc.
    assert.ok(lock.packages[`node_modules/clerk-native-${abi}`], `clerk-native-${abi} is in the consumer's lock`)
    assert.ok(!fs.existsSync(path.join(nm, `clerk-native-${abi}`)), `clerk-native-${abi} must not be installed`)
  }

  const nodes = loadEntries(app, env)
  assert.deepEqual(nodes, [path.join(fs.realpathSync(nm), `clerk-native-${ABI}`, `clerk-native.${ABI}.node`)])
  const pj = JSON.parse(fs.readFileSync(path.join(nm, `clerk-native-${ABI}`, 'package.json'), 'utf8'))
  assert.deepEqual([pj.os, pj.cpu, pj.libc], [['linux'], ['x64'], ['glibc']])
  assert.match(pj.clerkNative.glibc, /^2\.\d+$/)
})

test('the platform package left out (--omit=optional), no cargo: the error says so and how to fix it', { timeout: 3 * 60 * 1000 }, (t) => {
  if (SKIP) return t.skip(SKIP)
  const app = newProject('consumer-omit')
  const r = run('npm', ['install', `clerk-native@${VERSION}`, '--omit=optional', '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: app, env: consumerEnv(false) })
  assert.notEqual(r.status, 0, `the install must fail without the binary and without cargo:\n${r.output}`)
  t.diagnostic(installerLines(r.output))
  assert.match(r.output, new RegExp(`the prebuilt package clerk-native-${ABI}@${VERSION.replace(/\./g, '\\.')} for this platform is not installed`))
  assert.match(r.output, new RegExp(`npm install clerk-native-${ABI}@`))
  assert.match(r.output, /`cargo` was not found on PATH/)
  assert.doesNotMatch(r.output, /package-lock\.json/)
  assert.doesNotMatch(r.output, /no prebuilt .*exists for this platform/)
})

test('no platform package for this machine: without cargo a right error; with cargo a source build that leaves only the .node', { timeout: 20 * 60 * 1000 }, (t) => {
  if (SKIP) return t.skip(SKIP)
  stageAndPublish({ version: SRC_VERSION, abis: OTHER_ABIS, tag: 'nobinary' })
  const spec = `clerk-native@${SRC_VERSION}`

  const app1 = newProject('consumer-nobinary-nocargo')
  const a = run('npm', ['install', spec, '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: app1, env: consumerEnv(false) })
  assert.notEqual(a.status, 0, `the install must fail without a binary and without cargo:\n${a.output}`)
  t.diagnostic(installerLines(a.output))
  assert.match(a.output, new RegExp(`publishes no prebuilt binary for this platform \\(${ABI}\\); prebuilt: ${OTHER_ABIS.join(', ')}`))
  assert.match(a.output, /`cargo` was not found on PATH/)
  assert.doesNotMatch(a.output, /package-lock\.json/)

  if (/^(1|true)$/i.test(process.env.CLERK_NATIVE_SKIP_SOURCE_BUILD_TEST || '')) {
    return t.skip('CLERK_NATIVE_SKIP_SOURCE_BUILD_TEST=1: the source build (3-5 min) was not run')
  }
  const app2 = newProject('consumer-nobinary-cargo')
  const tmpdir = path.join(tmp, 'build-tmp') // the install's TMPDIR: where the temp cargo target dir goes
  fs.mkdirSync(tmpdir)
  const env = consumerEnv(true, { TMPDIR: tmpdir })
  const b = run('npm', ['install', spec, '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: app2, env, timeout: 18 * 60 * 1000 })
  t.diagnostic(`npm install with a source build took ${(b.ms / 1000).toFixed(1)} s`)
  assert.equal(b.status, 0, `the source build failed:\n${b.output.slice(-6000)}`)
  t.diagnostic(installerLines(b.output))
  assert.match(b.output, new RegExp(`publishes no prebuilt binary for this platform \\(${ABI}\\)`))
  assert.match(b.output, /building it from source \(release\)/)
  assert.match(b.output, /built release binding in/)

  const pkgDir = path.join(app2, 'node_modules', 'clerk-native')
  assert.deepEqual(listDir(pkgDir).filter((f) => f.endsWith('.node')), [`clerk-native.${ABI}.node`])
  assert.deepEqual(findDirsNamed(path.join(app2, 'node_modules'), 'target'), [], 'no cargo target dir inside node_modules')
  assert.deepEqual(listDir(tmpdir).filter((f) => f.startsWith('clerk-native-build-')), [], 'the temp build dir is removed')
  const mb = duBytes(path.join(app2, 'node_modules')) / 1048576
  t.diagnostic(`node_modules after the source build: ${mb.toFixed(1)} MiB`)
  assert.ok(mb < 40, `node_modules is ${mb.toFixed(1)} MiB: a build tree was left behind?`)
  const nodes = loadEntries(app2, consumerEnv(false))
  assert.deepEqual(nodes, [path.join(fs.realpathSync(pkgDir), `clerk-native.${ABI}.node`)])
})
