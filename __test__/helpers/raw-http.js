'use strict'
// Parsing what a raw TCP client received: `parseRawResponse(text)` -> { status, headers (lower-cased names, last
// value wins), body (text after the head, '' when there is no blank line) }.

/** @param {string} text the received bytes as latin1 text */
function parseRawResponse(text) {
  const sep = text.indexOf('\r\n\r\n')
  const head = sep === -1 ? text : text.slice(0, sep)
  const [statusLine, ...lines] = head.split('\r\n')
  const headers = {}
  for (const l of lines) {
    const i = l.indexOf(':')
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim()
  }
  const status = Number((/^HTTP\/1\.[01] (\d{3})/.exec(statusLine) || [])[1]) || 0
  return { status, headers, body: sep === -1 ? '' : text.slice(sep + 4) }
}

module.exports = { parseRawResponse }
