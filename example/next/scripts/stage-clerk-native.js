'use strict'
// Copies the repo's clerk-native package (its JS, types and the built .node; no install script) into
// example/next/node_modules/clerk-native as a real directory. `npm install` links the `file:../..` dependency as a
// symlink, and Next bundles a symlinked package (its real path is outside node_modules) instead of leaving it to
// Node's require, which cannot work for the .node addon. Run before every `next build` / `next dev` (scripts/run.js
// does), so the example always uses the working tree's clerk-native.

const fs = require('node:fs')
const path = require('node:path')

const APP = path.resolve(__dirname, '..')
const ROOT = path.resolve(APP, '..', '..')

function stageClerkNative({ root = ROOT, app = APP } = {}) {
  const node = fs.readdirSync(root).filter((f) => /^clerk-native\..+\.node$/.test(f))
  if (node.length === 0) {
    throw new Error(`clerk-native: no built clerk-native.<platform>.node in ${root}; run \`npm install\` (or \`npm run build\`) at the repo root first`)
  }
  const dest = path.join(app, 'node_modules', 'clerk-native')
  fs.rmSync(dest, { recursive: true, force: true }) // a symlink from `npm install`, or an older copy
  fs.mkdirSync(dest, { recursive: true })
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
  const entries = new Set(['binding.js', 'lib', ...node])
  for (const f of pkg.files || []) {
    const name = f.replace(/\/$/, '')
    if (/\.(c?js|mjs|d\.ts)$/.test(name) || name === 'lib') entries.add(name)
  }
  for (const name of entries) {
    if (name.startsWith('scripts/')) continue
    const src = path.join(root, name)
    if (fs.existsSync(src)) fs.cpSync(src, path.join(dest, name), { recursive: true })
  }
  const { scripts, devDependencies, ...rest } = pkg
  fs.writeFileSync(path.join(dest, 'package.json'), JSON.stringify(rest, null, 2))
  return dest
}

module.exports = { stageClerkNative }
if (require.main === module) console.log(`clerk-native staged in ${path.relative(process.cwd(), stageClerkNative())}`)
