'use strict'
// Regression: a Web Request built with `signal` follows it through a WeakRef to the Request's own controller.
// If nothing kept the Request alive, a GC between the call and the abort silently stopped cancellation.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')

test('aborting the caller signal after a GC still closes the upstream connection', () => {
  const out = execFileSync(process.execPath, ['--expose-gc', path.join(__dirname, 'fixtures', 'abort-after-gc.js')], {
    encoding: 'utf8',
    timeout: 10_000,
  })
  assert.equal(out.trim(), 'closed')
})
