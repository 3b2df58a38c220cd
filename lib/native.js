'use strict'
// Loads the native binding (binding.js, napi-rs's generated loader) once, before any other module needs it, so
// that a failure says what is wrong and what to do instead of napi's generic "Cannot find native binding" (whose
// advice to delete package-lock.json is wrong for this package). Every entry point (index.js, express.js,
// next.js) requires this file first; lib/*.js then get binding.js from the require cache.
//
// Checks, in order:
//   1. glibc floor (Linux, glibc): a prebuilt platform package records the highest GLIBC_ symbol version its
//      .node needs (package.json "clerkNative": { "glibc": "2.17" }, written by scripts/stage-npm.js). Below it,
//      loading would fail inside dlopen with "version `GLIBC_x.y' not found"; we fail first, naming the floor.
//   2. require('../binding.js'); on failure, an error naming the platform package and the fix. The original
//      error is kept as `cause`.

const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const PKG_NAME = 'clerk-native'
const BINARY_NAME = 'clerk-native'

function glibcRuntime() {
  if (process.platform !== 'linux') return null
  try {
    const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null
    const v = report && report.header && report.header.glibcVersionRuntime
    return typeof v === 'string' && /^\d+\.\d+/.test(v) ? v : null
  } catch {
    return null
  }
}

function compareVersions(a, b) {
  const pa = String(a).split('.').map(Number)
  const pb = String(b).split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0)
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return 0
}

/** `linux-x64-gnu` etc. for glibc Linux x64/arm64 (the only case the floor applies to), else null. */
function gnuAbi() {
  if (process.platform !== 'linux' || !glibcRuntime()) return null
  if (process.arch !== 'x64' && process.arch !== 'arm64') return null
  return `linux-${process.arch}-gnu`
}

function glibcError(floor, runtime, where) {
  const err = new Error(
    `clerk-native: the native binary ${where} needs glibc >= ${floor}, but this system has glibc ${runtime}. ` +
      `Run on a distribution with glibc ${floor} or newer, or build clerk-native from source on this machine ` +
      `(install Rust from https://rustup.rs, then reinstall clerk-native with CLERK_NATIVE_FORCE_BUILD=1).`,
  )
  err.code = 'ERR_CLERK_NATIVE_GLIBC'
  err.glibcRequired = floor
  err.glibcRuntime = runtime
  return err
}

function checkGlibcFloor() {
  const abi = gnuAbi()
  if (!abi) return
  const runtime = glibcRuntime()
  // binding.js tries the local file first; a local build was made on this machine, so it fits its glibc.
  if (fs.existsSync(path.join(ROOT, `${BINARY_NAME}.${abi}.node`))) return
  if (process.env.NAPI_RS_NATIVE_LIBRARY_PATH) return
  let pj
  try {
    pj = require.resolve(`${PKG_NAME}-${abi}/package.json`, { paths: [ROOT] })
  } catch {
    return
  }
  let floor = null
  try {
    const meta = JSON.parse(fs.readFileSync(pj, 'utf8')).clerkNative
    floor = meta && typeof meta.glibc === 'string' ? meta.glibc : null
  } catch {
    return
  }
  if (floor && compareVersions(runtime, floor) < 0) throw glibcError(floor, runtime, `in ${PKG_NAME}-${abi}`)
}

function messages(e) {
  const out = []
  for (let c = e, n = 0; c && n < 8; c = c.cause, n++) {
    out.push(String((c && c.message) || c))
    if (Array.isArray(c && c.cause)) {
      for (const x of c.cause) out.push(String((x && x.message) || x))
      break
    }
  }
  return out
}

function loadError(e) {
  const all = messages(e)
  const runtime = glibcRuntime()
  for (const m of all) {
    const g = /GLIBC_(\d+\.\d+(?:\.\d+)?)' not found/.exec(m)
    if (g && runtime) {
      // dlopen names the first missing version only: the real floor may be higher still.
      const err = glibcError(g[1], runtime, 'found')
      err.message += ` (from the loader: ${m.split('\n')[0]})`
      err.cause = e
      return err
    }
  }
  const abi = gnuAbi() || `${process.platform}-${process.arch}`
  const details = all
    .map((m) => m.split('\n')[0].trim()) // first lines only: no "Require stack" noise
    .filter((l) => l && !/npm has a bug|package-lock\.json|Cannot find native binding/.test(l))
  const err = new Error(
    `clerk-native: no native binary loads on this platform (${abi}, Node ${process.version}). ` +
      `The prebuilt binary comes from the optional dependency ${PKG_NAME}-<platform> ` +
      `(here: ${PKG_NAME}-${abi} if it is published for it); check that it is installed (installs with ` +
      `--omit=optional or --no-optional skip it) and that its version equals clerk-native's. Without one, ` +
      `clerk-native's install script builds the binary from source, which needs Rust (https://rustup.rs): ` +
      `reinstall clerk-native with cargo on PATH.` +
      (details.length ? `\n  load errors:\n    - ${details.slice(0, 6).join('\n    - ')}` : ''),
  )
  err.code = 'ERR_CLERK_NATIVE_LOAD'
  err.cause = e
  return err
}

checkGlibcFloor()
let binding
try {
  binding = require('../binding.js')
} catch (e) {
  throw loadError(e)
}

module.exports = binding
