'use strict'
// verifyWebhook (API.md §7): Clerk's `@clerk/backend/webhooks`, `@clerk/express/webhooks` and
// `@clerk/nextjs/webhooks`, with the HMAC-SHA256 and its constant-time comparison done natively
// (crates/core/src/webhook.rs). The JS side keeps Clerk's order of checks and its exact messages: secret present,
// svix headers present, body read, secret decodable, then timestamp and signature, then the payload parsed.

const binding = require('../binding.js')
const { env } = require('./env')

const SVIX_ID_HEADER = 'svix-id'
const SVIX_TIMESTAMP_HEADER = 'svix-timestamp'
const SVIX_SIGNATURE_HEADER = 'svix-signature'

/** Default cap on the body, in bytes (UTF-8): 1 MiB. Clerk's events are a few KiB; Clerk itself has no cap. */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
/** The largest `maxBodyBytes` accepted: 64 MiB. */
const MAX_BODY_BYTES_LIMIT = 64 * 1024 * 1024

// Clerk's messages go through @clerk/shared's errorThrower with packageName '@clerk/backend': kept as they are, so
// code (and logs) that look for them keep working after the change of import.
const CLERK_PREFIX = '@clerk/backend: '
const MISSING_SECRET =
  'Missing webhook signing secret. Set the CLERK_WEBHOOK_SIGNING_SECRET environment variable with the webhook secret from the Clerk Dashboard.'

function clerkError(message, code) {
  const err = new Error(CLERK_PREFIX + message)
  if (code) err.code = code
  return err
}

/** The body cap of `options`, validated (a bad value is a programming error: TypeError naming the option). */
function maxBodyBytesOf(options) {
  const v = options && options.maxBodyBytes
  if (v === undefined) return DEFAULT_MAX_BODY_BYTES
  if (!Number.isSafeInteger(v) || v < 1 || v > MAX_BODY_BYTES_LIMIT) {
    throw new TypeError(
      `clerk-native: verifyWebhook option maxBodyBytes must be an integer between 1 and ${MAX_BODY_BYTES_LIMIT} (default ${DEFAULT_MAX_BODY_BYTES}), got ${typeof v === 'number' ? v : typeof v}`,
    )
  }
  return v
}

function tooLarge(limit) {
  const err = new Error(
    `clerk-native: webhook body is larger than maxBodyBytes (${limit} bytes); raise the verifyWebhook option maxBodyBytes if such events are expected`,
  )
  err.code = 'webhook_body_too_large'
  return err
}

/**
 * The body text of a Web Request, as `request.text()` gives it (UTF-8, a leading BOM dropped, bad bytes as U+FFFD),
 * read up to `limit` bytes: a larger body stops the read and throws `webhook_body_too_large`.
 * @param {Request} request
 * @param {number} limit
 */
async function readBodyText(request, limit) {
  const declared = Number(request.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit)
  const body = request.body
  // No body, or one already read or locked: text() gives '' or the platform's own error, as for Clerk.
  if (!body || request.bodyUsed || body.locked) return request.text()
  const reader = body.getReader()
  const chunks = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      reader.cancel().catch(() => {})
      throw tooLarge(limit)
    }
    chunks.push(value)
  }
  return new TextDecoder().decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))
}

/**
 * Verifies a Web `Request` carrying a Clerk webhook (Standard Webhooks / svix signature) and resolves to the
 * event. Clerk's `@clerk/backend/webhooks` `verifyWebhook`, same checks, same order, same messages.
 * @param {Request} request
 * @param {{ signingSecret?: string, maxBodyBytes?: number }} [options]
 */
async function verifyWebhook(request, options = {}) {
  const secret = options.signingSecret ?? env('CLERK_WEBHOOK_SIGNING_SECRET')
  const limit = maxBodyBytesOf(options)
  if (!secret) throw clerkError(MISSING_SECRET)
  const webhookId = request.headers.get(SVIX_ID_HEADER)?.trim()
  const webhookTimestamp = request.headers.get(SVIX_TIMESTAMP_HEADER)?.trim()
  const webhookSignature = request.headers.get(SVIX_SIGNATURE_HEADER)?.trim()
  if (!webhookId || !webhookTimestamp || !webhookSignature) {
    const missing = []
    if (!webhookId) missing.push(SVIX_ID_HEADER)
    if (!webhookTimestamp) missing.push(SVIX_TIMESTAMP_HEADER)
    if (!webhookSignature) missing.push(SVIX_SIGNATURE_HEADER)
    throw clerkError(`Missing required webhook headers: ${missing.join(', ')}`)
  }
  const body = await readBodyText(request, limit)
  if (typeof secret !== 'string') throw new Error('Expected secret to be of type string')
  const refusal = binding.verifyWebhookSignature(
    secret,
    webhookId,
    webhookTimestamp,
    webhookSignature,
    body,
    Math.floor(Date.now() / 1000),
  )
  if (refusal) {
    if (refusal.secret) {
      // The secret's own errors escape Clerk's try/catch unwrapped (standardwebhooks' Webhook constructor).
      const err = new Error(refusal.message)
      err.code = refusal.code
      throw err
    }
    throw clerkError(`Unable to verify incoming webhook: ${refusal.message}`, refusal.code)
  }
  try {
    // standardwebhooks returns undefined for an empty body, and JSON.parse's own errors otherwise.
    const payload = body === '' ? undefined : JSON.parse(body)
    return {
      type: payload.type,
      object: 'event',
      data: payload.data,
      event_attributes: payload.event_attributes,
      timestamp: payload.timestamp,
      instance_id: payload.instance_id,
    }
  } catch (e) {
    throw clerkError(`Unable to verify incoming webhook: ${e instanceof Error ? e.message : 'Unknown error'}`, 'webhook_payload_invalid')
  }
}

/**
 * `@clerk/express/webhooks`' `verifyWebhook(req, options)`: the body is what a body parser left in `req.body`
 * (a string as is, a Buffer as UTF-8, null/undefined as '', anything else through JSON.stringify, so only
 * `express.raw()` or `express.text()` keep the signed bytes), the headers are `req.headers`.
 * @param {import('node:http').IncomingMessage & { body?: unknown, originalUrl?: string }} req
 * @param {{ signingSecret?: string, maxBodyBytes?: number }} [options]
 */
async function verifyExpressWebhook(req, options) {
  const webRequest = incomingMessageToRequest(req)
  let serializedBody
  if (typeof req.body === 'string') serializedBody = req.body
  else if (Buffer.isBuffer(req.body)) serializedBody = req.body.toString('utf8')
  else if (req.body === undefined || req.body === null) serializedBody = ''
  else {
    try {
      serializedBody = JSON.stringify(req.body)
    } catch (error) {
      throw new Error(`Failed to serialize request body: ${error instanceof Error ? error.message : 'Unknown error'}`)
    }
  }
  return verifyWebhook(new Request(webRequest, { body: serializedBody }), options)
}

/** `@clerk/express`'s conversion of a Node request to a Web Request (headers, method, a dummy origin). */
function incomingMessageToRequest(req) {
  const headers = Object.keys(req.headers).reduce((acc, key) => Object.assign(acc, { [key]: req?.headers[key] }), {})
  const protocol = req.connection?.encrypted ? 'https' : 'http'
  const dummyOriginReqUrl = new URL(req.originalUrl || req.url || '', `${protocol}://clerk-dummy`)
  return new Request(dummyOriginReqUrl, { method: req.method, headers: new Headers(headers) })
}

/**
 * `@clerk/nextjs/webhooks`' `verifyWebhook(request, options)`: a `NextRequest` or Web `Request` (App Router route
 * handlers, middleware) is verified as is; a Pages Router `NextApiRequest` is turned into a Web Request as Clerk
 * does (its parsed `req.body` through JSON.stringify).
 * @param {Request | (import('node:http').IncomingMessage & { body?: unknown })} request
 * @param {{ signingSecret?: string, maxBodyBytes?: number }} [options]
 */
async function verifyNextWebhook(request, options) {
  if (isRequestWebAPI(request)) return verifyWebhook(request, options)
  return verifyWebhook(nextApiRequestToWebRequest(request), options)
}

function isRequestWebAPI(val) {
  try {
    const { headers } = val || {}
    return typeof headers?.get === 'function'
  } catch {
    return false
  }
}

function nodeHeader(req, name) {
  return req.headers[name] || req.headers[name.toLowerCase()] || req.socket?._httpMessage?.getHeader(name)
}

function nextApiRequestToWebRequest(req) {
  const headers = new Headers()
  for (const name of [SVIX_ID_HEADER, SVIX_TIMESTAMP_HEADER, SVIX_SIGNATURE_HEADER]) headers.set(name, nodeHeader(req, name) || '')
  const protocol = req.headers['x-forwarded-proto'] || 'http'
  const host = req.headers.host || 'clerk-dummy'
  const url = new URL(req.url || '', `${protocol}://${host}`)
  const body = 'body' in req && req.body ? JSON.stringify(req.body) : undefined
  return new Request(url, { method: req.method || 'GET', headers, body })
}

module.exports = {
  verifyWebhook,
  verifyExpressWebhook,
  verifyNextWebhook,
  DEFAULT_MAX_BODY_BYTES,
  MAX_BODY_BYTES_LIMIT,
}
