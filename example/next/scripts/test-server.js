'use strict'
// For the repo's tests (__test__/next-server-app.test.js, __test__/next-browser.test.js) and the benchmark: build the
// example once (again only when its sources or the staged clerk-native changed: a content stamp in .next), then
// start the Clerk stand-in and `next start` on 127.0.0.1 and a free port.
//
//   const { startExampleApp, skipReason } = require('../example/next/scripts/test-server')
//   const app = await startExampleApp()   // { base, standIn, output(), close() }

const { spawn } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { stageClerkNative } = require('./stage-clerk-native')
const { startClerkStandIn } = require('./clerk-stand-in')
const { exampleEnv, SECRET_KEY } = require('./run')

const APP = path.resolve(__dirname, '..')
const ROOT = path.resolve(APP, '..', '..')
const NEXT_BIN = path.join(APP, 'node_modules', 'next', 'dist', 'bin', 'next')
const STAMP = path.join(APP, '.next', 'clerk-native-stamp')
const INSTALL_COMMAND = 'npm install --prefix example/next --no-audit --no-fund'

/** Why the example cannot run here (dependencies or the built addon missing), or null. */
function skipReason() {
  if (!fs.existsSync(NEXT_BIN)) return `example/next's dependencies are not installed; run: ${INSTALL_COMMAND}`
  if (!fs.readdirSync(ROOT).some((f) => /^clerk-native\..+\.node$/.test(f))) return 'no built clerk-native.<platform>.node in the repo root (run npm run build)'
  return null
}

function hashTree(hash, dir, skip) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (skip.has(entry.name)) continue
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) hashTree(hash, p, skip)
    else if (entry.name.endsWith('.node')) hash.update(`${p}:${fs.statSync(p).size}:${fs.statSync(p).mtimeMs}\n`)
    else hash.update(`${p}\n`).update(fs.readFileSync(p))
  }
  return hash
}

/** A digest of what a build depends on: the app's sources and the staged clerk-native. */
function sourceStamp() {
  const hash = crypto.createHash('sha256')
  hashTree(hash, APP, new Set(['node_modules', '.next', 'next-env.d.ts', 'tsconfig.tsbuildinfo', 'type-check', '.gitignore', 'README.md']))
  hashTree(hash, path.join(APP, 'node_modules', 'clerk-native'), new Set())
  return hash.digest('hex')
}

function run(args, env, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [NEXT_BIN, ...args], { cwd: APP, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
      reject(new Error(`next ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else reject(new Error(`next ${args.join(' ')} failed (exit ${code}):\n${output}`))
    })
  })
}

/** Stages clerk-native and runs `next build` unless the last build had the same inputs. Returns whether it built. */
async function buildExample() {
  stageClerkNative()
  const stamp = sourceStamp()
  if (fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === stamp && fs.existsSync(path.join(APP, '.next', 'BUILD_ID'))) return false
  const env = exampleEnv(null)
  for (const k of ['CLERK_API_URL', 'CLERK_FAPI_URL', 'CLERK_JWT_KEY', 'CLERK_PUBLISHABLE_KEY']) env[k] = ''
  await run(['build'], env, 300_000)
  fs.writeFileSync(STAMP, stamp)
  return true
}

async function freePort() {
  const s = http.createServer()
  await new Promise((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}

/**
 * Builds (if needed) and starts the example against a fresh stand-in. `close()` stops both.
 * @param {{ env?: Record<string, string> }} [options]
 */
async function startExampleApp({ env: extra = {} } = {}) {
  await buildExample()
  const standIn = await startClerkStandIn({ secretKey: SECRET_KEY })
  const port = await freePort()
  const env = { ...process.env, CLERK_JWT_KEY: '', CLERK_PUBLISHABLE_KEY: '', ...exampleEnv(standIn), ...extra }
  const child = spawn(process.execPath, [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'], { cwd: APP, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise((r) => child.once('exit', r))
  const base = `http://127.0.0.1:${port}`
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {}
      const gone = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))])
      if (!gone) {
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch {}
      }
    }
    await standIn.close()
  }
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) {
      await close()
      throw new Error(`next start exited:\n${output}`)
    }
    const ready = await fetch(`${base}/sign-in`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.arrayBuffer().then(() => true),
      () => false,
    )
    if (ready) break
    if (i > 150) {
      await close()
      throw new Error(`next start did not answer within 30 s:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { base, port, standIn, output: () => output, close }
}

module.exports = { startExampleApp, buildExample, skipReason, INSTALL_COMMAND }
