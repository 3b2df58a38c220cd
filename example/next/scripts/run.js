'use strict'
// One command, no keys: stages the repo's clerk-native into node_modules, starts the Clerk stand-in (FAPI + BAPI on
// 127.0.0.1), builds the app if needed and serves it.
//   node scripts/run.js           build (when .next is missing or older than the sources) + next start
//   node scripts/run.js dev       next dev
//   node scripts/run.js build     next build only
// PORT (default 3000) and HOST (default 127.0.0.1) choose where the app listens.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { stageClerkNative } = require('./stage-clerk-native')
const { startClerkStandIn } = require('./clerk-stand-in')

const APP = path.resolve(__dirname, '..')
const NEXT_BIN = path.join(APP, 'node_modules', 'next', 'dist', 'bin', 'next')
/** Example keys: not Clerk's; the stand-in accepts this secret key, the publishable key names a FAPI host that the proxy never uses (CLERK_FAPI_URL wins). */
const PUBLISHABLE_KEY = `pk_live_${Buffer.from('clerk.example.test$').toString('base64')}`
const SECRET_KEY = 'sk_live_clerk_native_example_only'

/** The environment the app runs with against a stand-in. */
function exampleEnv(standIn) {
  return {
    NEXT_TELEMETRY_DISABLED: '1',
    NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY,
    CLERK_SECRET_KEY: SECRET_KEY,
    NEXT_PUBLIC_CLERK_SIGN_IN_URL: '/sign-in',
    ...(standIn ? { CLERK_API_URL: standIn.apiUrl, CLERK_FAPI_URL: standIn.fapiUrl } : {}),
  }
}

function newestMtime(dir) {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === '.next') continue
    const p = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs)
  }
  return newest
}

function runNext(args, env, { inherit = true } = {}) {
  return spawn(process.execPath, [NEXT_BIN, ...args], { cwd: APP, env: { ...process.env, ...env }, stdio: inherit ? 'inherit' : 'pipe' })
}

const exitCode = (child) => new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))))

async function main(mode = 'start') {
  if (!fs.existsSync(NEXT_BIN)) {
    console.error('example/next: dependencies are missing; run `npm install` in example/next first')
    process.exit(1)
  }
  stageClerkNative()
  if (mode === 'build') process.exit(await exitCode(runNext(['build'], exampleEnv(null))))
  const standIn = await startClerkStandIn({ secretKey: SECRET_KEY })
  const env = exampleEnv(standIn)
  const port = process.env.PORT || '3000'
  const host = process.env.HOST || '127.0.0.1'
  if (mode === 'start') {
    const built = path.join(APP, '.next', 'BUILD_ID')
    if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newestMtime(APP)) {
      const code = await exitCode(runNext(['build'], env))
      if (code !== 0) process.exit(code)
    }
  }
  console.log(`\nClerk stand-in: FAPI ${standIn.fapiUrl} (through the app's /__clerk proxy), BAPI ${standIn.apiUrl}`)
  console.log(`Open http://${host}:${port}/ and sign in as the demo user.\n`)
  const child = runNext([mode === 'dev' ? 'dev' : 'start', '-p', port, '-H', host], env)
  const stop = () => child.kill('SIGTERM')
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const code = await exitCode(child)
  await standIn.close()
  process.exit(code)
}

module.exports = { exampleEnv, PUBLISHABLE_KEY, SECRET_KEY }
if (require.main === module) main(process.argv[2]).catch((err) => (console.error(err), process.exit(1)))
