'use strict'
// Error shapes (API.md §6) and the only writers of the JSON error body `{"errors":[{code, message}]}`: as a Web
// Response, on a Node ServerResponse, and as a ProxyResponse (proxyRequest).

const { proxyConstants } = require('../binding.js')

const ERROR_HEADERS = [
  ['content-type', 'application/json'],
  ['cache-control', 'no-store'],
]
const STATUS_TEXT = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 408: 'Request Timeout', 500: 'Internal Server Error', 502: 'Bad Gateway' }

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

/** A JSON error as a ProxyResponse (what `proxyRequest` resolves to). */
function errorProxyResponse(status, code, message) {
  const body = Buffer.from(errorBody(code, message))
  return {
    status,
    statusText: STATUS_TEXT[status] || '',
    headers: ERROR_HEADERS.map((pair) => pair.slice()),
    body: {
      async *[Symbol.asyncIterator]() {
        yield body
      },
    },
    cancel: () => {},
  }
}

/** A proxy failure before the response head (status, stable code, message), for any of the writers above. */
class ProxyFailure {
  constructor(status, code, message) {
    this.status = status
    this.code = code
    this.message = message
  }
}

// The body failures as the native side names them: code -> message (the core's BodyError text).
const BODY_ERROR_MESSAGES = Object.freeze(Object.fromEntries(proxyConstants().bodyErrors.map((e) => [e.code, e.message])))

/** A failure of a body after the response head was sent; `code` is stable. */
class ProxyBodyError extends Error {
  constructor(code) {
    super(BODY_ERROR_MESSAGES[code] || 'The proxied body failed')
    this.name = 'ProxyBodyError'
    this.code = code
  }
}

module.exports = { errorResponse, sendNodeError, errorProxyResponse, ProxyFailure, ProxyBodyError, errorBody, ERROR_HEADERS, BODY_ERROR_MESSAGES }
