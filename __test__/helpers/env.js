'use strict'
// Saves, clears and restores environment variables around a test file.
//
//   const env = envKeys(['CLERK_SECRET_KEY', ...])
//   before(() => env.save())     // remembers the values and deletes them
//   beforeEach(() => env.clear())
//   after(() => env.restore())

/** @param {string[]} keys */
function envKeys(keys) {
  const saved = {}
  const clear = () => {
    for (const k of keys) delete process.env[k]
  }
  return {
    save() {
      for (const k of keys) saved[k] = process.env[k]
      clear()
    },
    clear,
    restore() {
      for (const k of keys) {
        if (saved[k] === undefined) delete process.env[k]
        else process.env[k] = saved[k]
      }
    },
  }
}

module.exports = { envKeys }
