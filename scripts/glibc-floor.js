#!/usr/bin/env node
'use strict'
// The highest GLIBC_x.y symbol version an ELF file needs, i.e. the oldest glibc it loads on.
//   node scripts/glibc-floor.js clerk-native.linux-x64-gnu.node   -> prints e.g. "2.17"
// The version-need names (GLIBC_2.2.5, GLIBC_2.17, …) are NUL-terminated strings in .dynstr; reading them from
// the bytes needs no binutils (`objdump -T FILE | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1` agrees).

const fs = require('node:fs')

function cmp(a, b) {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0)
    if (d) return d
  }
  return 0
}

/** All GLIBC_ versions named in the file, ascending. */
function glibcVersions(file) {
  const text = fs.readFileSync(file).toString('latin1')
  const seen = new Set()
  for (const m of text.matchAll(/(?<=\0)GLIBC_(\d+\.\d+(?:\.\d+)?)(?=\0)/g)) seen.add(m[1])
  return [...seen].sort(cmp)
}

/** The highest GLIBC_ version, or null for a file that needs none (not glibc-linked). */
function glibcFloor(file) {
  const v = glibcVersions(file)
  return v.length ? v[v.length - 1] : null
}

module.exports = { glibcFloor, glibcVersions, compareVersions: cmp }

if (require.main === module) {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: node scripts/glibc-floor.js FILE')
    process.exit(2)
  }
  const floor = glibcFloor(file)
  if (!floor) {
    console.error(`${file}: no GLIBC_ symbol versions`)
    process.exit(1)
  }
  console.log(floor)
}
