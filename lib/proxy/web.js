'use strict'
// Web adapter: a Fetch `Request` in, a `Response` out (FrontendApiProxy#handle, clerkFrontendApiProxy, Next).

const { errorResponse, ProxyFailure, ProxyBodyError } = require('../errors')
const { startExchange, responseHead, cancelledFailure, attachSignal, dropsBody, safeCancel, pumpUpload, iterateWebStream } = require('./exchange')
const { flattenHeaders, toWebHeaders } = require('./headers')

function failureResponse(f) {
  return errorResponse(f.status, f.code, f.message)
}

/**
 * Proxies a Web `Request` through `native`; resolves to a `Response` (never rejects for proxy failures).
 * @param {object} native a NativeProxy
 * @param {Request} request
 * @returns {Promise<Response>}
 */
async function handleWebRequest(native, request) {
  const signal = request.signal
  // An already-aborted request is not sent: starting it would reach the upstream although the caller is told it
  // failed.
  if (signal && signal.aborted) return failureResponse(cancelledFailure())
  const body = request.body
  const exchange = startExchange(native, request.method, request.url, flattenHeaders(request.headers), null, null, body != null)
  if (exchange instanceof ProxyFailure) return failureResponse(exchange)
  if (body != null) pumpUpload(iterateWebStream(body), exchange)
  const detach = attachSignal(signal, exchange, request)
  const head = await responseHead(exchange)
  if (head instanceof ProxyFailure) {
    detach()
    return failureResponse(head)
  }
  return toWebResponse(head, exchange, detach)
}

/** The response head and body stream as a Web Response; `detach` runs once the exchange ended. */
function toWebResponse(head, exchange, detach) {
  let body = null
  if (dropsBody(head, exchange)) detach()
  else if (head.done) {
    body = head.body || null
    detach()
  } else body = bodyStream(head.body, exchange, detach)
  try {
    return new Response(body, { status: head.status, statusText: head.statusText, headers: toWebHeaders(head.headers) })
  } catch (err) {
    safeCancel(exchange)
    detach()
    return errorResponse(502, 'proxy_request_failed', `Failed to proxy request to Clerk FAPI: invalid upstream response (${err.message})`)
  }
}

/** A pull-based ReadableStream: the bytes that came with the head, then native `read()`s. */
function bodyStream(first, exchange, detach) {
  return new ReadableStream(
    {
      async pull(controller) {
        if (first) {
          const f = first
          first = null
          controller.enqueue(f)
          return
        }
        const chunk = await exchange.read()
        if (chunk === null) {
          detach()
          controller.close()
        } else if (typeof chunk === 'string') {
          detach()
          controller.error(new ProxyBodyError(chunk))
        } else controller.enqueue(chunk)
      },
      cancel() {
        detach()
        safeCancel(exchange)
      },
    },
    { highWaterMark: 0 },
  )
}

module.exports = { handleWebRequest }
