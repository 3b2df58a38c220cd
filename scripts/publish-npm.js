#!/usr/bin/env node
'use strict'
// Publishes what scripts/stage-npm.js staged (`npm run release:publish -- [options]`):
// every dist/npm/<abi> platform package first, then dist/npm/clerk-native, whose optionalDependencies pin them.
// A consumer's `npm install clerk-native` then finds each platform package it names.
//
// Options:
//   --dir DIR         staged dir (default dist/npm)
//   --registry URL    registry to publish to (default: npm's configured one). Tests pass http://127.0.0.1:<port>
//   --tag TAG         dist-tag (default latest)
//   --provenance      npm publish --provenance (GitHub Actions with `id-token: write` only)
//   --dry-run         npm publish --dry-run
// Credentials come from npm's own config (NODE_AUTH_TOKEN via .npmrc in CI, npm_config_userconfig in tests);
// this script never reads or prints them.

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const TAG = '[publish-npm]'

function die(msg) {
  console.error(`${TAG} ERROR: ${msg}`)
  process.exit(1)
}

const o = { dir: path.join(ROOT, 'dist', 'npm'), registry: null, tag: null, provenance: false, dryRun: false }
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]
  const val = () => (i + 1 < argv.length ? argv[++i] : die(`${a} needs a value`))
  if (a === '--dir') o.dir = path.resolve(val())
  else if (a === '--registry') o.registry = val()
  else if (a === '--tag') o.tag = val()
  else if (a === '--provenance') o.provenance = true
  else if (a === '--dry-run') o.dryRun = true
  else die(`unknown option ${a}`)
}

const rootName = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).name
const mainDir = path.join(o.dir, rootName)
if (!fs.existsSync(path.join(mainDir, 'package.json'))) die(`nothing staged in ${o.dir}: run \`npm run release:stage\` first`)
const main = JSON.parse(fs.readFileSync(path.join(mainDir, 'package.json'), 'utf8'))
const platformDirs = Object.keys(main.optionalDependencies || {}).map((name) => {
  const dir = path.join(o.dir, name.slice(rootName.length + 1))
  const p = path.join(dir, 'package.json')
  if (!fs.existsSync(p)) die(`${rootName} depends on ${name}, but ${path.relative(ROOT, dir)} is not staged`)
  const pkg = JSON.parse(fs.readFileSync(p, 'utf8'))
  if (pkg.name !== name || pkg.version !== main.optionalDependencies[name]) {
    die(`${path.relative(ROOT, dir)} is ${pkg.name}@${pkg.version}, but ${rootName} pins ${name}@${main.optionalDependencies[name]}`)
  }
  if (!fs.existsSync(path.join(dir, pkg.main))) die(`${path.relative(ROOT, dir)} lacks its binary ${pkg.main}`)
  return dir
})

function publish(dir) {
  const args = ['publish', dir, '--access', 'public']
  if (o.registry) args.push('--registry', o.registry)
  if (o.tag) args.push('--tag', o.tag)
  if (o.provenance) args.push('--provenance')
  if (o.dryRun) args.push('--dry-run')
  console.log(`${TAG} $ npm ${args.map((a) => path.relative(ROOT, a).startsWith('..') || !a.includes('/') ? a : path.relative(ROOT, a)).join(' ')}`)
  const r = spawnSync('npm', args, { stdio: 'inherit', env: process.env })
  if (r.error) die(`could not run npm: ${r.error.message}`)
  if (r.status !== 0) die(`npm publish ${path.basename(dir)} failed (exit ${r.status})`)
}

for (const dir of platformDirs) publish(dir)
publish(mainDir)
console.log(`${TAG} published ${platformDirs.length} platform package(s) and ${rootName}@${main.version}`)
