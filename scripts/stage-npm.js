#!/usr/bin/env node
'use strict'
// Stages the npm packages exactly as they are published (`npm run release:stage`), into dist/npm/:
//
//   dist/npm/<abi>/          one platform package per napi target (napi-rs layout: npm/<abi>/package.json +
//                            <binaryName>.<abi>.node), version = the main package's, plus LICENSE and, for
//                            linux-*-gnu, "clerkNative": { "glibc": "<floor>" } measured from the .node
//   dist/npm/clerk-native/   the main package as `npm pack` makes it, with "optionalDependencies" on every
//                            staged platform package pinned to the same version (what `napi pre-publish` adds),
//                            only the `install` script kept, and checks on what ships
//
// Binaries come from --artifacts DIR (GitHub Actions download layout: DIR/bindings-<triple>/<bin>.<abi>.node, or
// DIR/<bin>.<abi>.node) or else from the repo root (<bin>.<abi>.node, what `npm run build` writes).
//
// Options:
//   --out DIR            output dir (default dist/npm; emptied first)
//   --artifacts DIR      where the built .node files are
//   --targets a,b        ABIs to stage (default: every napi.targets entry)
//   --allow-missing      leave out targets with no .node (default: fail, as a release must ship all of them)
//   --version V          stage as version V (tests use prereleases; a release uses package.json's version)
//   --json               print a JSON summary on the last line
//
// `npm run release:publish` (scripts/publish-npm.js) then publishes dist/npm: platform packages first.

const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { glibcFloor } = require('./glibc-floor')

const ROOT = path.resolve(__dirname, '..')
const TAG = '[stage-npm]'

const TRIPLE_TO_ABI = {
  'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
  'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
  'x86_64-unknown-linux-musl': 'linux-x64-musl',
  'aarch64-unknown-linux-musl': 'linux-arm64-musl',
  'x86_64-apple-darwin': 'darwin-x64',
  'aarch64-apple-darwin': 'darwin-arm64',
  'x86_64-pc-windows-msvc': 'win32-x64-msvc',
}
const ABI_TO_TRIPLE = Object.fromEntries(Object.entries(TRIPLE_TO_ABI).map(([t, a]) => [a, t]))

function die(msg) {
  console.error(`${TAG} ERROR: ${msg}`)
  process.exit(1)
}

function parseArgs(argv) {
  const o = { out: path.join(ROOT, 'dist', 'npm'), artifacts: null, targets: null, allowMissing: false, version: null, json: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value`)
      return argv[++i]
    }
    if (a === '--out') o.out = path.resolve(val())
    else if (a === '--artifacts') o.artifacts = path.resolve(val())
    else if (a === '--targets') o.targets = val().split(',').map((s) => s.trim()).filter(Boolean)
    else if (a === '--allow-missing') o.allowMissing = true
    else if (a === '--version') o.version = val()
    else if (a === '--json') o.json = true
    else die(`unknown option ${a}`)
  }
  return o
}

function readJson(p) {
  return JSON.parse(fs.readFileSync(p, 'utf8'))
}
function writeJson(p, v) {
  fs.writeFileSync(p, JSON.stringify(v, null, 2) + '\n')
}

function findBinary(opts, file, triple) {
  const candidates = []
  if (opts.artifacts) {
    candidates.push(path.join(opts.artifacts, `bindings-${triple}`, file), path.join(opts.artifacts, file))
  } else {
    candidates.push(path.join(ROOT, file))
  }
  return candidates.find((p) => fs.existsSync(p)) || null
}

function main() {
  const opts = parseArgs(process.argv.slice(2))
  const pkg = readJson(path.join(ROOT, 'package.json'))
  const version = opts.version || pkg.version
  const bin = (pkg.napi && pkg.napi.binaryName) || pkg.name
  const configured = ((pkg.napi && pkg.napi.targets) || []).map((t) => {
    const abi = TRIPLE_TO_ABI[t]
    if (!abi) die(`napi.targets has ${t}, which this script has no package name for (add it to TRIPLE_TO_ABI)`)
    return abi
  })
  const wanted = opts.targets || configured
  for (const abi of wanted) if (!configured.includes(abi)) die(`--targets ${abi}: not in package.json napi.targets`)

  fs.rmSync(opts.out, { recursive: true, force: true })
  fs.mkdirSync(opts.out, { recursive: true })

  // ---- platform packages
  const staged = []
  const missing = []
  for (const abi of wanted) {
    const triple = ABI_TO_TRIPLE[abi]
    const file = `${bin}.${abi}.node`
    const src = findBinary(opts, file, triple)
    if (!src) {
      missing.push(abi)
      continue
    }
    const templateDir = path.join(ROOT, 'npm', abi)
    if (!fs.existsSync(path.join(templateDir, 'package.json'))) die(`no npm/${abi}/package.json (run \`napi create-npm-dirs\`)`)
    const dir = path.join(opts.out, abi)
    fs.mkdirSync(dir, { recursive: true })
    const p = readJson(path.join(templateDir, 'package.json'))
    const expectedName = `${pkg.name}-${abi}`
    if (p.name !== expectedName) die(`npm/${abi}/package.json is named ${p.name}, expected ${expectedName}`)
    if (p.main !== file) die(`npm/${abi}/package.json main is ${p.main}, expected ${file}`)
    p.version = version
    for (const k of ['description', 'license', 'repository', 'homepage', 'bugs', 'engines', 'author']) {
      if (pkg[k] !== undefined) p[k] = pkg[k]
    }
    p.files = [file, 'README.md', 'LICENSE']
    const info = { abi, name: p.name, file, size: fs.statSync(src).size }
    if (abi.startsWith('linux-') && abi.endsWith('-gnu')) {
      const floor = glibcFloor(src)
      if (!floor) die(`${src}: no GLIBC_ symbol versions found (not a glibc ELF library?)`)
      p.clerkNative = { ...(p.clerkNative || {}), glibc: floor }
      info.glibc = floor
    }
    writeJson(path.join(dir, 'package.json'), p)
    fs.copyFileSync(src, path.join(dir, file))
    fs.copyFileSync(path.join(ROOT, 'LICENSE'), path.join(dir, 'LICENSE'))
    const readme = path.join(templateDir, 'README.md')
    fs.writeFileSync(
      path.join(dir, 'README.md'),
      fs.existsSync(readme)
        ? fs.readFileSync(readme, 'utf8').trimEnd() + `\n\nInstalled by npm as an optional dependency of \`${pkg.name}\`; do not depend on it directly.\n`
        : `# ${p.name}\n\nThe ${triple} binary of \`${pkg.name}\`.\n`,
    )
    staged.push(info)
    console.log(
      `${TAG} ${p.name}@${version}: ${file} ${(info.size / 1048576).toFixed(2)} MiB${info.glibc ? `, needs glibc >= ${info.glibc}` : ''} (from ${path.relative(ROOT, src)})`,
    )
  }
  if (missing.length) {
    const msg = `no binary for ${missing.join(', ')} (looked in ${opts.artifacts ? path.relative(ROOT, opts.artifacts) || '.' : 'the repo root'})`
    if (!opts.allowMissing) die(`${msg}: a release ships every napi target; pass --allow-missing to stage only what exists`)
    console.log(`${TAG} ${msg}: left out (--allow-missing)`)
  }

  // ---- main package: what `npm pack` puts in the tarball, then the published package.json
  const packDir = path.join(opts.out, '.pack')
  fs.mkdirSync(packDir, { recursive: true })
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], { cwd: ROOT, encoding: 'utf8' }),
  )[0]
  const mainDir = path.join(opts.out, pkg.name)
  fs.mkdirSync(mainDir, { recursive: true })
  execFileSync('tar', ['-xzf', path.join(packDir, packed.filename), '-C', mainDir, '--strip-components=1'])
  fs.rmSync(packDir, { recursive: true, force: true })

  const files = packed.files.map((f) => f.path)
  const nodes = files.filter((f) => f.endsWith('.node'))
  if (nodes.length) die(`the main package would ship .node files: ${nodes.join(', ')}`)
  for (const f of ['README.md', 'LICENSE', 'binding.js', 'scripts/ensure-native.js', 'Cargo.toml', 'Cargo.lock', '.cargo/config.toml']) {
    if (!files.includes(f)) die(`the main package lacks ${f} (check "files" in package.json)`)
  }
  const exportTargets = new Set()
  const walk = (v) => (typeof v === 'string' ? exportTargets.add(v.replace(/^\.\//, '')) : v && typeof v === 'object' && Object.values(v).forEach(walk))
  walk(pkg.exports || {})
  for (const f of exportTargets) if (!files.includes(f)) die(`package.json exports ./${f}, which the package lacks`)
  // Type files must only point at what ships.
  for (const f of files.filter((x) => x.endsWith('.d.ts'))) {
    const text = fs.readFileSync(path.join(mainDir, f), 'utf8')
    const m = /\b(API\.md|SPEC(?:\.md)?\b|DESIGN\.md|AUTH-PARITY\.md)/.exec(text)
    if (m) die(`${f} cites ${m[1]}, which is not in the package`)
  }
  // The README shipped is the user one (contributor material lives in CONTRIBUTING.md, not shipped).
  if (/^## Set up a checkout/m.test(fs.readFileSync(path.join(mainDir, 'README.md'), 'utf8'))) {
    die('README.md still has the contributor section "Set up a checkout"')
  }

  const mainPkg = readJson(path.join(mainDir, 'package.json'))
  mainPkg.version = version
  mainPkg.optionalDependencies = Object.fromEntries(staged.map((s) => [s.name, version]))
  // Consumers run `install` only; dev scripts (test, build, bench…) would only mislead.
  mainPkg.scripts = { install: pkg.scripts.install }
  delete mainPkg.devDependencies
  writeJson(path.join(mainDir, 'package.json'), mainPkg)
  const total = packed.files.reduce((n, f) => n + f.size, 0)
  console.log(
    `${TAG} ${pkg.name}@${version}: ${files.length} files, ${(total / 1024).toFixed(0)} KiB unpacked; optionalDependencies: ${
      staged.map((s) => s.name).join(', ') || '(none)'
    }`,
  )
  console.log(`${TAG} staged in ${path.relative(process.cwd(), opts.out) || '.'}; publish with \`npm run release:publish\``)
  if (opts.json) console.log(JSON.stringify({ version, out: opts.out, main: mainDir, platforms: staged, missing }))
}

main()
