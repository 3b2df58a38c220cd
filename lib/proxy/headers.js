'use strict'
// Header conversion, one function per direction and shape: into the native flat `[name, value, ...]` list, and
// from the flat list of a response head into a Web Headers, `[name, value]` pairs or a Node header object.

/**
 * Any header shape a caller may pass (Headers, a record, `[name, value]` pairs, a flat list) as a flat list.
 * @returns {string[]}
 */
function flattenHeaders(headers) {
  if (headers == null) return []
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) return headers.flat().map(String)
    return headers.map(String)
  }
  if (typeof headers.forEach === 'function' && typeof headers.get === 'function') {
    const out = []
    headers.forEach((value, name) => out.push(name, value))
    return out
  }
  const out = []
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (value == null) continue
    if (Array.isArray(value)) for (const v of value) out.push(name, String(v))
    else out.push(name, String(value))
  }
  return out
}

/** Flat list -> Web Headers (repeated names appended). */
function toWebHeaders(list) {
  const headers = new Headers()
  for (let i = 0; i < list.length; i += 2) headers.append(list[i], list[i + 1])
  return headers
}

/** Flat list -> `[name, value]` pairs (the ProxyResponse shape). */
function toPairs(list) {
  const pairs = []
  for (let i = 0; i < list.length; i += 2) pairs.push([list[i], list[i + 1]])
  return pairs
}

/**
 * Flat list -> { name: value | value[] } (first-seen name case, null prototype). Node 20's
 * writeHead(status, flatArray) calls setHeader per pair once a header was set (Express sets X-Powered-By),
 * so a repeated name such as Set-Cookie would keep only its last value.
 */
function toNodeHeaders(list) {
  const out = Object.create(null)
  const names = new Map()
  for (let i = 0; i < list.length; i += 2) {
    const lower = list[i].toLowerCase()
    const name = names.get(lower)
    if (name === undefined) {
      names.set(lower, list[i])
      out[list[i]] = list[i + 1]
    } else if (Array.isArray(out[name])) out[name].push(list[i + 1])
    else out[name] = [out[name], list[i + 1]]
  }
  return out
}

module.exports = { flattenHeaders, toWebHeaders, toPairs, toNodeHeaders }
