'use strict'
// Memory probes for the current process (Linux): VmRSS / VmHWM from /proc/self/status, and a peak reset
// (writing "5" to /proc/self/clear_refs resets VmHWM to the current RSS; Linux >= 4.0).

const fs = require('node:fs')

function readStatusKb(field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))
    return m ? Number(m[1]) * 1024 : null
  } catch {
    return null
  }
}

/** Resets the peak-RSS counter (VmHWM). Returns false when the kernel does not allow it. */
function resetPeak() {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

/** `{ rss, vmRss, vmHwm, heapUsed, external, arrayBuffers }` in bytes (vm* are null off Linux). */
function memory() {
  const m = process.memoryUsage()
  return {
    rss: m.rss,
    vmRss: readStatusKb('VmRSS'),
    vmHwm: readStatusKb('VmHWM'),
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  }
}

const MB = 1024 * 1024
const mb = (bytes) => (bytes == null ? 'n/a' : `${(bytes / MB).toFixed(1)} MB`)

module.exports = { memory, resetPeak, readStatusKb, MB, mb }
