#!/usr/bin/env node
'use strict'
// Makes sure `require('clerk-native')` has a native binary to load.
//
//   node scripts/ensure-native.js             used by the `install` script
//   node scripts/ensure-native.js --if-stale  used by `pretest`: also rebuilds when the Rust sources are newer
//                                             than the local .node
//   node scripts/ensure-native.js --force     always rebuild
//
// 1. If `binding.js` (the napi-rs loader) loads in a child process, we are done: a prebuilt platform package
//    (clerk-native-<platform>) or a local clerk-native.<platform>.node wins.
// 2. Otherwise build from source. That needs cargo. In a dev checkout (@napi-rs/cli installed) this runs the
//    package's `build` script (`napi build …`); in a consumer's node_modules (installed from the npm tarball,
//    no platform package for this machine) it runs `cargo build --release --lib` and copies the library next
//    to binding.js under the name the loader looks for.
// 3. Check again that it loads.
//
// Environment:
//   CLERK_NATIVE_BUILD=debug   debug build (the `build:debug` script) instead of release
//   CLERK_NATIVE_SKIP_BUILD=1  do nothing, exit 0 (you provide the binary some other way)
//   CLERK_NATIVE_VERBOSE=1     show the build output (also shown when CI=true or stderr is a terminal)
//   CLERK_NATIVE_FORCE_BUILD=1 same as --force (e.g. `CLERK_NATIVE_FORCE_BUILD=1 npm rebuild clerk-native`)
//   CARGO_TARGET_DIR           where a consumer's source build puts cargo's output. Unset, it goes to a fresh
//                              directory under the OS temp dir that is deleted afterwards: only the .node is
//                              left in node_modules/clerk-native, never a build tree.
//
// Plain Node, no dependencies: this file also runs inside consumers' installs.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const BINDING_JS = path.join(ROOT, 'binding.js')
const TAG = '[clerk-native]'

const argv = process.argv.slice(2)
const IF_STALE = argv.includes('--if-stale')
const FORCE = argv.includes('--force') || /^(1|true|yes)$/i.test(process.env.CLERK_NATIVE_FORCE_BUILD || '')
const PROFILE = /^debug$/i.test(process.env.CLERK_NATIVE_BUILD || '') ? 'debug' : 'release'
const IS_CI = /^(1|true|yes)$/i.test(process.env.CI || '')
const VERBOSE = IS_CI || /^(1|true|yes)$/i.test(process.env.CLERK_NATIVE_VERBOSE || '') || Boolean(process.stderr.isTTY)

const log = (msg) => console.log(`${TAG} ${msg}`)
const warn = (msg) => console.error(`${TAG} ${msg}`)

function fail(msg) {
  console.error(`\n${TAG} ERROR: ${msg}\n`)
  process.exit(1)
}

function readPackageJson() {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  } catch {
    return {}
  }
}

const PKG = readPackageJson()
const BINARY_NAME = (PKG.napi && PKG.napi.binaryName) || 'clerk-native'

// ---------------------------------------------------------------------------------------------------------------
// Platform naming, the same as napi-rs's generated loader (binding.js).

function isMusl() {
  if (process.platform !== 'linux') return false
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    // fall through
  }
  try {
    const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null
    if (report && report.header && report.header.glibcVersionRuntime) return false
    if (report && Array.isArray(report.sharedObjects)) {
      return report.sharedObjects.some((f) => f.includes('libc.musl-') || f.includes('ld-musl-'))
    }
  } catch {
    // fall through
  }
  return false
}

/** e.g. `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`; null when napi-rs has no name for this platform. */
function platformArchAbi() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const musl = isMusl()
    switch (arch) {
      case 'x64':
      case 'arm64':
      case 'loong64':
      case 'riscv64':
        return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
      case 'arm':
        return musl ? 'linux-arm-musleabihf' : 'linux-arm-gnueabihf'
      case 'ppc64':
      case 's390x':
        return `linux-${arch}-gnu`
      default:
        return null
    }
  }
  if (platform === 'darwin') return arch === 'x64' || arch === 'arm64' ? `darwin-${arch}` : null
  if (platform === 'win32') {
    if (arch === 'x64') {
      const v = (process.config && process.config.variables) || {}
      const gnu = v.shlib_suffix === 'dll.a' || v.node_target_type === 'shared_library'
      return gnu ? 'win32-x64-gnu' : 'win32-x64-msvc'
    }
    return arch === 'ia32' || arch === 'arm64' ? `win32-${arch}-msvc` : null
  }
  if (platform === 'freebsd') return ['x64', 'arm64', 'ppc64'].includes(arch) ? `freebsd-${arch}` : null
  if (platform === 'android') {
    if (arch === 'arm64') return 'android-arm64'
    if (arch === 'arm') return 'android-arm-eabi'
    return null
  }
  return null
}

const ABI = platformArchAbi()
const LOCAL_NODE = ABI ? path.join(ROOT, `${BINARY_NAME}.${ABI}.node`) : null
const PLATFORM = `${process.platform}-${process.arch}`

// ---------------------------------------------------------------------------------------------------------------
// Does the binding load? (in a child process: a broken .node must not take this script down)

function checkLoads() {
  if (!fs.existsSync(BINDING_JS)) {
    return { ok: false, reason: `${path.relative(ROOT, BINDING_JS) || 'binding.js'} does not exist` }
  }
  const code = `
    try {
      require(${JSON.stringify(BINDING_JS)})
      const nodes = Object.keys(require.cache).filter((k) => k.endsWith('.node'))
      process.stdout.write(nodes.join('\\n'))
    } catch (e) {
      const lines = []
      for (let c = e, n = 0; c && n < 8; c = c.cause, n++) {
        // napi's loader throws "Cannot find native binding. npm has a bug … remove package-lock.json …" with
        // the real errors as an array in .cause: keep those, drop its advice (wrong for this package).
        if (Array.isArray(c)) { for (const x of c) lines.push(String((x && x.message) || x).split('\\n')[0]); break }
        const first = String((c && c.message) || c).split('\\n')[0]
        if (!/^Cannot find native binding/.test(first)) lines.push(first)
      }
      process.stderr.write(lines.join('\\n    - ') || 'the loader found no binary')
      process.exit(1)
    }`
  const r = spawnSync(process.execPath, ['-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 120000 })
  if (r.error) return { ok: false, reason: `could not run node: ${r.error.message}` }
  if (r.status === 0) return { ok: true, from: (r.stdout || '').trim().split('\n').filter(Boolean)[0] || '' }
  const reason = (r.stderr || '').trim() || `exit status ${r.status}${r.signal ? ` (signal ${r.signal})` : ''}`
  return { ok: false, reason }
}

// ---------------------------------------------------------------------------------------------------------------
// Staleness: newest mtime of the Rust sources vs the local .node

const SOURCE_PATHS = ['src', 'crates/core/src', 'Cargo.toml', 'Cargo.lock', 'build.rs', 'crates/core/Cargo.toml']

function newestMtime(p, depth = 0) {
  let st
  try {
    st = fs.lstatSync(p)
  } catch {
    return 0
  }
  if (st.isDirectory() && depth < 32) {
    let newest = 0
    let entries = []
    try {
      entries = fs.readdirSync(p)
    } catch {
      return 0
    }
    for (const e of entries) newest = Math.max(newest, newestMtime(path.join(p, e), depth + 1))
    return newest
  }
  return st.isFile() ? st.mtimeMs : 0
}

function newestSourceMtime() {
  let newest = 0
  for (const s of SOURCE_PATHS) newest = Math.max(newest, newestMtime(path.join(ROOT, s)))
  return newest
}

function fileMtime(p) {
  try {
    return fs.statSync(p).mtimeMs
  } catch {
    return 0
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Why there is no prebuilt binary: the message a user sees before a source build (or instead of one).

const IN_NODE_MODULES = ROOT.split(path.sep).includes('node_modules')

/** { why, fix? }: why the prebuilt platform package did not provide a loading binary. */
function prebuiltStatus() {
  const name = `${PKG.name}-${ABI}`
  const optional = PKG.optionalDependencies || {}
  const published = Object.keys(optional)
    .filter((n) => n.startsWith(`${PKG.name}-`))
    .map((n) => n.slice(PKG.name.length + 1))
  if (!(name in optional)) {
    if (!IN_NODE_MODULES && published.length === 0) {
      return { why: `development checkout: the binary for ${ABI} is built from the sources here` }
    }
    return {
      why:
        `${PKG.name}@${PKG.version} publishes no prebuilt binary for this platform (${ABI}); ` +
        `prebuilt: ${published.join(', ') || 'none'}`,
    }
  }
  let installed = null
  try {
    installed = require.resolve(`${name}/package.json`, { paths: [ROOT] })
  } catch {
    // not installed
  }
  const want = optional[name]
  if (!installed) {
    return {
      why:
        `the prebuilt package ${name}@${want} for this platform is not installed (npm leaves optional ` +
        `dependencies out under --omit=optional / --no-optional, or when the registry it uses does not have it)`,
      fix: `install it: \`npm install ${name}@${want}\` (or reinstall without --omit=optional)`,
    }
  }
  let have = '?'
  try {
    have = JSON.parse(fs.readFileSync(installed, 'utf8')).version
  } catch {
    // keep '?'
  }
  if (have !== want) {
    return {
      why: `${name}@${have} is installed, but ${PKG.name}@${PKG.version} needs ${name}@${want}`,
      fix: `\`npm install ${name}@${want}\``,
    }
  }
  return { why: `the prebuilt package ${name}@${have} is installed, but its binary does not load on this machine` }
}

// ---------------------------------------------------------------------------------------------------------------
// Tools

function hasCargo() {
  const r = spawnSync('cargo', ['--version'], { encoding: 'utf8' })
  return !r.error && r.status === 0 ? (r.stdout || '').trim() : null
}

/** CMake builds mimalloc, the addon's allocator (crate mimalloc-safe); MSVC builds do without it. */
function hasCmake() {
  if (process.platform === 'win32') return true
  const r = spawnSync('cmake', ['--version'], { encoding: 'utf8' })
  return !r.error && r.status === 0
}

/** Path of the napi CLI's bin when this is a dev checkout (not inside some node_modules), else null. */
function napiCliBin() {
  if (ROOT.split(path.sep).includes('node_modules')) return null
  try {
    const pj = require.resolve('@napi-rs/cli/package.json', { paths: [ROOT] })
    const cli = JSON.parse(fs.readFileSync(pj, 'utf8'))
    const bin = typeof cli.bin === 'string' ? cli.bin : cli.bin && cli.bin.napi
    if (!bin) return null
    const p = path.resolve(path.dirname(pj), bin)
    return fs.existsSync(p) ? p : null
  } catch {
    return null
  }
}

/** Runs a command; shows its output live when VERBOSE, else keeps it and prints the tail on failure. */
function run(cmd, args, { captureStdout = false } = {}) {
  const shown = `${path.basename(cmd) === path.basename(process.execPath) ? 'node' : cmd} ${args.join(' ')}`
  log(`$ ${shown}`)
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['ignore', captureStdout || !VERBOSE ? 'pipe' : 'inherit', VERBOSE ? 'inherit' : 'pipe'],
    env: process.env,
  })
  if (r.error) fail(`could not start \`${shown}\`: ${r.error.message}`)
  if (r.status !== 0) {
    if (!VERBOSE) {
      const out = `${captureStdout ? '' : r.stdout || ''}${r.stderr || ''}`.trimEnd().split('\n')
      console.error(out.slice(-80).join('\n'))
      if (out.length > 80) console.error(`${TAG} (last 80 of ${out.length} lines shown; CLERK_NATIVE_VERBOSE=1 shows all)`)
    }
    fail(`\`${shown}\` failed with ${r.signal ? `signal ${r.signal}` : `exit status ${r.status}`}`)
  }
  return r.stdout || ''
}

// ---------------------------------------------------------------------------------------------------------------
// Builds

function buildWithNapi(napiBin) {
  const scriptName = PROFILE === 'debug' ? 'build:debug' : 'build'
  const fallback = ['build', '--platform', ...(PROFILE === 'release' ? ['--release'] : []), '--js', 'binding.js', '--dts', 'binding.d.ts']
  const script = PKG.scripts && PKG.scripts[scriptName]
  // The package.json script is the source of truth when it is a plain `napi …` command line.
  const args =
    typeof script === 'string' && /^napi\s/.test(script) && !/[|&;<>$`"'\\]/.test(script)
      ? script.trim().split(/\s+/).slice(1)
      : fallback
  run(process.execPath, [napiBin, ...args])
}

function buildWithCargo() {
  const args = ['build', '--lib', '--message-format=json-render-diagnostics']
  if (PROFILE === 'release') args.splice(1, 0, '--release')
  // Cargo's output (hundreds of MB) never goes inside node_modules: CARGO_TARGET_DIR when the user set one,
  // else a temp dir removed afterwards. Only the .node is copied next to binding.js.
  let tempTarget = null
  if (!process.env.CARGO_TARGET_DIR) {
    tempTarget = fs.mkdtempSync(path.join(os.tmpdir(), 'clerk-native-build-'))
    process.env.CARGO_TARGET_DIR = tempTarget
    log(`cargo output goes to ${tempTarget} (removed afterwards)`)
    // fail() exits the process without unwinding: remove the temp dir then too.
    process.on('exit', () => fs.rmSync(tempTarget, { recursive: true, force: true }))
  }
  try {
    buildWithCargoIn(args)
  } finally {
    if (tempTarget) {
      fs.rmSync(tempTarget, { recursive: true, force: true })
      delete process.env.CARGO_TARGET_DIR
    }
  }
}

function buildWithCargoIn(args) {
  const stdout = run('cargo', args, { captureStdout: true })
  const manifest = path.join(ROOT, 'Cargo.toml')
  let lib = null
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    let msg
    try {
      msg = JSON.parse(line)
    } catch {
      continue
    }
    if (msg.reason !== 'compiler-artifact' || !msg.target || !Array.isArray(msg.target.kind)) continue
    if (!msg.target.kind.includes('cdylib')) continue
    if (msg.manifest_path && path.resolve(msg.manifest_path) !== manifest) continue
    lib = (msg.filenames || []).find((f) => /\.(so|dylib|dll)$/.test(f)) || lib
  }
  if (!lib) {
    // Fall back to the conventional location.
    const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target')
    const crate = 'clerk_native'
    const file =
      process.platform === 'win32' ? `${crate}.dll` : process.platform === 'darwin' ? `lib${crate}.dylib` : `lib${crate}.so`
    lib = path.join(targetDir, PROFILE, file)
  }
  if (!fs.existsSync(lib)) fail(`cargo finished but the library ${lib} does not exist`)
  // Copy to a temp name then rename: never rewrite in place a .node some running process has mapped.
  const tmp = `${LOCAL_NODE}.${process.pid}.tmp`
  fs.copyFileSync(lib, tmp)
  fs.renameSync(tmp, LOCAL_NODE)
  log(`copied ${lib} -> ${path.basename(LOCAL_NODE)}`)
}

// ---------------------------------------------------------------------------------------------------------------

function main() {
  if (/^(1|true|yes)$/i.test(process.env.CLERK_NATIVE_SKIP_BUILD || '')) {
    log('CLERK_NATIVE_SKIP_BUILD is set: not checking or building the native binding')
    return
  }

  const first = checkLoads()
  let why = null
  if (FORCE) {
    why = '--force given'
  } else if (!first.ok) {
    why = `the native binding does not load:\n    ${first.reason}`
  } else if (IF_STALE) {
    const newest = newestSourceMtime()
    const localMtime = LOCAL_NODE ? fileMtime(LOCAL_NODE) : 0
    if (newest > 0 && localMtime > 0 && newest > localMtime) {
      if (hasCargo()) why = `Rust sources changed since ${path.basename(LOCAL_NODE)} was built`
      else warn(`Rust sources are newer than ${path.basename(LOCAL_NODE)}, but cargo is not on PATH: using the existing binary`)
    } else if (newest > 0 && localMtime === 0 && hasCargo()) {
      // A binary loads, but not one built from these sources (e.g. an installed platform package).
      why = `no local ${LOCAL_NODE ? path.basename(LOCAL_NODE) : '.node'} built from these sources (loaded: ${first.from || 'unknown'})`
    }
  }
  if (!why) {
    if (first.ok) log(`native binding OK${first.from ? ` (${path.relative(ROOT, first.from) || first.from})` : ''}`)
    return
  }

  log(`${why}`)
  if (!ABI) {
    fail(`no prebuilt binary exists for this platform (${PLATFORM}) and napi-rs has no binary name for it; cannot build.`)
  }
  const status = FORCE ? null : prebuiltStatus()
  if (status) log(status.why)

  const cargo = hasCargo()
  if (!cargo) {
    fail(
      `${status ? status.why : 'a source build was asked for'}; building from source needs the Rust toolchain, ` +
        `but \`cargo\` was not found on PATH.\n` +
        (status && status.fix ? `  Fix: ${status.fix}\n  Or: ` : '  Fix: ') +
        `install Rust with rustup (https://rustup.rs), make sure \`cargo\` is on PATH, then reinstall clerk-native.\n` +
        (first.ok ? '' : `  (load error: ${first.reason.split('\n').join(' / ')})`),
    )
  }
  if (!hasCmake()) {
    fail(
      `${status ? status.why : 'a source build was asked for'}; building from source needs CMake (it builds the ` +
        `mimalloc allocator), but \`cmake\` was not found on PATH.\n` +
        (status && status.fix ? `  Fix: ${status.fix}\n  Or: ` : '  Fix: ') +
        `install CMake (Debian/Ubuntu: apt-get install cmake; macOS: brew install cmake), then reinstall clerk-native.`,
    )
  }
  if (!fs.existsSync(path.join(ROOT, 'Cargo.toml'))) {
    fail(`no prebuilt binary for ${PLATFORM} and no Rust sources (Cargo.toml) in ${ROOT} to build from`)
  }
  log(`building it from source (${PROFILE}) for ${PLATFORM} (${ABI})…`)
  log(`using ${cargo}`)
  if (!VERBOSE) log('build output is hidden unless it fails (CLERK_NATIVE_VERBOSE=1 shows it); the first build takes a few minutes')

  const started = process.hrtime.bigint()
  const napiBin = napiCliBin()
  if (napiBin) buildWithNapi(napiBin)
  else if (LOCAL_NODE) buildWithCargo()
  // The .node must look newer than the sources even if the build tool kept an old mtime.
  if (LOCAL_NODE && fs.existsSync(LOCAL_NODE)) {
    const now = new Date()
    try {
      fs.utimesSync(LOCAL_NODE, now, now)
    } catch {
      // not fatal
    }
  }
  const secs = Number(process.hrtime.bigint() - started) / 1e9

  const after = checkLoads()
  if (!after.ok) fail(`built in ${secs.toFixed(1)}s, but the binding still does not load:\n    ${after.reason}`)
  log(`built ${PROFILE} binding in ${secs.toFixed(1)}s; it loads (${after.from ? path.relative(ROOT, after.from) || after.from : 'ok'})`)
}

try {
  main()
} catch (e) {
  fail(`unexpected failure: ${(e && e.stack) || e}`)
}
