'use strict'
// Packaging: the npm tarballs (main + linux-x64-gnu platform package) install into an empty project with no
// Rust toolchain and load the prebuilt binary. The work is done by scripts/pack-test.sh; see its header.

const { test } = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const NODE_FILE = path.join(ROOT, 'clerk-native.linux-x64-gnu.node')
const TARGET_DIR = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target')
// `napi build` passes --target, so its output is target/<triple>/release; a plain cargo build uses target/release.
const RELEASE_LIBS = [
  path.join(TARGET_DIR, 'x86_64-unknown-linux-gnu', 'release', 'libclerk_native.so'),
  path.join(TARGET_DIR, 'release', 'libclerk_native.so'),
]

const { isMusl } = require('./helpers/platform')

/** Why the pack test cannot run here, or null when it can. */
function skipReason() {
  if (process.platform !== 'linux' || process.arch !== 'x64' || isMusl()) {
    return `the pack test covers linux-x64-gnu only (this is ${process.platform}-${process.arch}${isMusl() ? '-musl' : ''})`
  }
  if (!fs.existsSync(NODE_FILE)) return 'no release clerk-native.linux-x64-gnu.node in the repo root: run `npm run build` first'
  const node = fs.readFileSync(NODE_FILE)
  const isRelease = RELEASE_LIBS.some((lib) => {
    try {
      return fs.statSync(lib).size === node.length && fs.readFileSync(lib).equals(node)
    } catch {
      return false
    }
  })
  if (!isRelease) {
    return 'clerk-native.linux-x64-gnu.node is not the current release build (it differs from target/…/release/libclerk_native.so): run `npm run build`'
  }
  return null
}

test('npm tarballs install without cargo and load the binary from clerk-native-linux-x64-gnu', { timeout: 10 * 60 * 1000 }, (t) => {
  const reason = skipReason()
  if (reason) {
    t.skip(reason)
    return
  }
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'pack-test.sh')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 9 * 60 * 1000,
    maxBuffer: 64 * 1024 * 1024,
  })
  const output = `${r.stdout || ''}${r.stderr || ''}`
  assert.ifError(r.error)
  assert.strictEqual(r.status, 0, `scripts/pack-test.sh failed (status ${r.status}, signal ${r.signal}):\n${output.slice(-8000)}`)
  assert.match(output, /OK: clerk-native installed from tarballs without cargo/)
  assert.match(output, /node_modules\/clerk-native-linux-x64-gnu\/clerk-native\.linux-x64-gnu\.node/)
})
