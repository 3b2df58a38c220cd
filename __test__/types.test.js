'use strict'
// Types as Clerk's (issue 12 §3): __test__/types/express-app.ts is a realistic Express app written against
// @clerk/express 2.1.70 (getAuth with and without acceptsToken, req.auth(), requireAuth, clerkClient,
// createClerkClient, verifyToken, authenticateRequest, sessionClaims.sub, has(), machine-token fields, the Express
// Request augmentation, and @ts-expect-error guards that fail if a declaration degrades to `any`). It is
// type-checked with the installed TypeScript under `--strict` twice: as it is (it must pass: valid Clerk code) and
// with its '@clerk/express' imports rewritten to 'clerk-native/express' (it must pass: the switch is a change of
// import). clerk-native is resolved as a consumer resolves it: through package.json `exports`, from
// __test__/types/node_modules/clerk-native (a symlink to this checkout that the test creates).
//
// Needs the type packages of __test__/types/package.json (@types/express, @types/node):
//   npm install --prefix __test__/types --no-audit --no-fund

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const DIR = path.join(__dirname, 'types')
const APP = path.join(DIR, 'express-app.ts')
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const INSTALL = 'npm install --prefix __test__/types --no-audit --no-fund'
const installed = fs.existsSync(path.join(DIR, 'node_modules', '@types', 'express', 'index.d.ts')) && fs.existsSync(path.join(DIR, 'node_modules', '@types', 'node'))
const generated = []

/** Writes a file that after() removes. */
function writeGenerated(name, text) {
  const file = path.join(DIR, name)
  fs.writeFileSync(file, text)
  generated.push(file)
  return file
}

/** `tsc -p` on a config extending __test__/types/tsconfig.json (strict, noEmit) with only `file`. */
function typeCheck(flavour, file) {
  const config = writeGenerated(`tsconfig.${flavour}.generated.json`, JSON.stringify({ extends: './tsconfig.json', files: [`./${path.basename(file)}`] }))
  const r = spawnSync(process.execPath, [TSC, '-p', config, '--pretty', 'false'], { cwd: DIR, encoding: 'utf8', timeout: 240_000 })
  return { status: r.status, output: `${r.stdout || ''}${r.stderr || ''}${r.error ? String(r.error) : ''}` }
}

before(() => {
  if (!installed) return
  // A consumer's view of the package: node_modules/clerk-native -> this checkout (resolved through `exports`).
  const link = path.join(DIR, 'node_modules', 'clerk-native')
  let stat = null
  try {
    stat = fs.lstatSync(link)
  } catch {}
  if (stat === null) fs.symlinkSync(path.relative(path.dirname(link), ROOT), link, 'dir')
  else assert.ok(stat.isSymbolicLink() && fs.realpathSync(link) === fs.realpathSync(ROOT), `${link} must be a symlink to this checkout`)
})

after(() => {
  for (const f of generated) fs.rmSync(f, { force: true })
})

test('types: the app type-checks against @clerk/express (tsc --strict): it is valid Clerk code', { skip: installed ? false : `type packages missing: ${INSTALL}` }, () => {
  const r = typeCheck('clerk', APP)
  assert.equal(r.status, 0, `tsc against @clerk/express failed:\n${r.output}`)
})

test("types: the same app with its imports rewritten to 'clerk-native/express' type-checks unchanged", { skip: installed ? false : `type packages missing: ${INSTALL}` }, () => {
  const source = fs.readFileSync(APP, 'utf8')
  const rewritten = source.replaceAll("from '@clerk/express'", "from 'clerk-native/express'")
  assert.ok(!/from '@clerk\/express'/.test(rewritten), 'every @clerk/express import is rewritten')
  assert.ok((rewritten.match(/from 'clerk-native\/express'/g) || []).length >= 2)
  const file = writeGenerated('express-app.native.generated.ts', rewritten)
  const r = typeCheck('native', file)
  assert.equal(r.status, 0, `tsc against clerk-native/express failed:\n${r.output}`)
})

test("types: clerk-native's own Express options and the 1.x-style req.auth field access type-check", { skip: installed ? false : `type packages missing: ${INSTALL}` }, () => {
  const r = typeCheck('native-extras', path.join(DIR, 'express-native-extras.ts'))
  assert.equal(r.status, 0, `tsc on express-native-extras.ts failed:\n${r.output}`)
})

test('types: a declaration that is wrong is caught (the check is not vacuous)', { skip: installed ? false : `type packages missing: ${INSTALL}` }, () => {
  const file = writeGenerated(
    'express-wrong.native.generated.ts',
    "import { getAuth } from 'clerk-native/express'\nimport type { Request } from 'express'\nexport const f = (req: Request): number => getAuth(req).userId\n",
  )
  const r = typeCheck('wrong', file)
  assert.notEqual(r.status, 0)
  assert.match(r.output, /TS2322/)
})
