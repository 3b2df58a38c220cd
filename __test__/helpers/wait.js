'use strict'
// Bounded waits and end-of-file cleanups shared by the test files.
//
//   const { sleep, within, waitFor, cleanupsAfter } = require('./helpers/wait')
//   const cleanups = cleanupsAfter()            // push async fns; they run in reverse order in after()
//   await within(promise, 5000, 'what')         // rejects after ms
//   await waitFor(() => cond && value, 2000, 'what' [, pollMs = 10])

const { after } = require('node:test')

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Rejects if `promise` does not settle within `ms`. */
function within(promise, ms, what = 'operation') {
  let timer
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/** Resolves with `pred()`'s (awaited) value once truthy, polling every `pollMs`; rejects after `ms`. */
async function waitFor(pred, ms, what, pollMs = 10) {
  const deadline = performance.now() + ms
  for (;;) {
    const v = await pred()
    if (v) return v
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(pollMs)
  }
}

/** An array of cleanup functions run (last first, errors ignored) in this file's `after()`. */
function cleanupsAfter() {
  const cleanups = []
  after(async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn()
      } catch {}
    }
  })
  return cleanups
}

module.exports = { sleep, within, waitFor, cleanupsAfter }
