'use strict'
// What machine the packaging tests run on.

const fs = require('node:fs')

/** True on a musl libc (Alpine): the linux-x64-gnu package does not apply there. */
function isMusl() {
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    return false
  }
}

module.exports = { isMusl }
