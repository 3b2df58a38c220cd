'use strict'
// Memos for option sets: an options object resolved once and reused while its fields stay the same, and a bounded
// map of native instances keyed collision-free by a resolved option set.

/**
 * A flat snapshot of an options object's own fields (arrays copied), and whether the object still matches it:
 * a memo keyed by the object must notice a field changed in place (an added `authorizedParties`, a pushed
 * audience), or it would keep verifying with the old rules. A handful of comparisons per call.
 * @param {object} o
 * @returns {unknown[]}
 */
function snapshotOf(o) {
  const snap = []
  for (const k in o) {
    const v = o[k]
    snap.push(k, Array.isArray(v) ? v.slice() : v)
  }
  return snap
}

/** True while `o` has exactly the fields (and array items) `snap` recorded. */
function matchesSnapshot(snap, o) {
  let n = 0
  for (const k in o) {
    if (snap[n] !== k) return false
    const v = o[k]
    const w = snap[n + 1]
    if (Array.isArray(v)) {
      if (!Array.isArray(w) || w.length !== v.length) return false
      for (let i = 0; i < v.length; i++) if (v[i] !== w[i]) return false
    } else if (v !== w) return false
    n += 2
  }
  return n === snap.length
}

/**
 * `compute(options)` memoised per options object (a WeakMap) while the object matches its snapshot. A value that
 * is not an object is computed on every call.
 * @template T
 * @param {(options: any) => T} compute
 * @returns {(options: any) => T}
 */
function memoByOptions(compute) {
  const byObject = new WeakMap()
  return (options) => {
    if (options == null || typeof options !== 'object') return compute(options)
    const hit = byObject.get(options)
    if (hit !== undefined && matchesSnapshot(hit.snapshot, options)) return hit.value
    const value = compute(options)
    byObject.set(options, { value, snapshot: snapshotOf(options) })
    return value
  }
}

/**
 * The memo key of a resolved option set: `JSON.stringify` of the list of its field values (lists kept as arrays),
 * so no two different option sets share a key. (Keys made by joining values with `\u0000`/`\u0001` let
 * `authorizedParties: ['a\u0001b']` reuse the instance built for `['a', 'b']`.) Non-finite numbers become `null`
 * like an unset field, which the native side also reads as unset.
 * @param {object} resolved
 * @param {readonly string[]} fields
 */
function optionSetKey(resolved, fields) {
  return JSON.stringify(fields.map((f) => resolved[f]))
}

/**
 * A bounded map (oldest dropped first) of instances keyed by their resolved option set's `fields`.
 * @template T
 * @param {number} limit
 * @param {readonly string[]} fields
 * @param {(resolved: object) => T} create
 * @returns {(resolved: object) => T}
 */
function instanceMemo(limit, fields, create) {
  const map = new Map()
  return (resolved) => {
    const key = optionSetKey(resolved, fields)
    let inst = map.get(key)
    if (inst === undefined) {
      if (map.size >= limit) map.delete(map.keys().next().value)
      inst = create(resolved)
      map.set(key, inst)
    }
    return inst
  }
}

module.exports = { snapshotOf, matchesSnapshot, memoByOptions, optionSetKey, instanceMemo }
