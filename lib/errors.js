'use strict'
// Error shapes shared by the proxy entry points (API.md §6).

const ERROR_HEADERS = [
  ['content-type', 'application/json'],
  ['cache-control', 'no-store'],
]

function errorBody(code, message) {
  return JSON.stringify({ errors: [{ code, message }] })
}

/** A JSON error as a Web Response (Cache-Control: no-store). */
function errorResponse(status, code, message) {
  return new Response(errorBody(code, message), { status, headers: ERROR_HEADERS })
}

/**
 * Writes a JSON error to a Node ServerResponse if nothing was sent yet; otherwise destroys it. `close` adds
 * `Connection: close` (Node then closes the connection after the response, e.g. when a request body was left
 * unread).
 */
function sendNodeError(res, status, code, message, close) {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (res.destroyed) return
  const body = errorBody(code, message)
  const headers = [...ERROR_HEADERS.flat(), 'content-length', String(Buffer.byteLength(body))]
  if (close) headers.push('connection', 'close')
  res.writeHead(status, headers)
  res.end(body)
}

const BODY_ERROR_MESSAGES = {
  proxy_body_idle_timeout: 'The proxied body moved no byte within idleTimeoutMs',
  proxy_upstream_body_error: 'The upstream connection failed while sending the response body',
  proxy_cancelled: 'The proxy exchange was cancelled',
}

/** A failure of a body after the response head was sent; `code` is stable. */
class ProxyBodyError extends Error {
  constructor(code) {
    super(BODY_ERROR_MESSAGES[code] || 'The proxied body failed')
    this.name = 'ProxyBodyError'
    this.code = code
  }
}

module.exports = { errorResponse, sendNodeError, ProxyBodyError, errorBody, ERROR_HEADERS }
