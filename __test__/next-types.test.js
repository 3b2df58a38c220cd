'use strict'
// Types as @clerk/nextjs/server's: a typical Clerk Next.js server code base (example/next/type-check/clerk-app.ts,
// written against @clerk/nextjs/server 7.9.17) compiles under `tsc --strict` as it is, and again with its import
// swapped to clerk-native/next (next.d.ts, staged into example/next/node_modules/clerk-native); the declarations
// used are asserted not to be `any`.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const APP = path.resolve(__dirname, '..', 'example', 'next')
const DIR = path.join(APP, 'type-check')
const TSC = path.join(APP, 'node_modules', 'typescript', 'bin', 'tsc')
const SKIP = fs.existsSync(TSC) && fs.existsSync(path.join(APP, 'node_modules', '@clerk', 'nextjs')) ? false : 'example/next dependencies missing (npm install --prefix example/next)'

function tsc(project) {
  const r = spawnSync(process.execPath, [TSC, '-p', project], { cwd: APP, encoding: 'utf8', timeout: 180_000 })
  return { code: r.status, output: `${r.stdout}${r.stderr}` }
}

test('a Clerk-written Next server code base type-checks against @clerk/nextjs/server and, imports swapped, against clerk-native/next', { skip: SKIP, timeout: 240_000 }, () => {
  const clerk = tsc(path.join(DIR, 'tsconfig.json'))
  assert.equal(clerk.code, 0, `against @clerk/nextjs/server:\n${clerk.output}`)
  require('../example/next/scripts/stage-clerk-native').stageClerkNative()
  const source = fs.readFileSync(path.join(DIR, 'clerk-app.ts'), 'utf8')
  assert.match(source, /from '@clerk\/nextjs\/server'/)
  fs.writeFileSync(path.join(DIR, 'native-app.ts'), source.replaceAll("'@clerk/nextjs/server'", "'clerk-native/next'"))
  const config = JSON.parse(fs.readFileSync(path.join(DIR, 'tsconfig.json'), 'utf8'))
  config.files = ['native-app.ts']
  fs.writeFileSync(path.join(DIR, 'native-tsconfig.json'), JSON.stringify(config, null, 2))
  const native = tsc(path.join(DIR, 'native-tsconfig.json'))
  assert.equal(native.code, 0, `against clerk-native/next:\n${native.output}`)
})
