/**
 * clerk-native/express/webhooks: the drop-in for `@clerk/express/webhooks`.
 *
 * `req.body` must hold the signed bytes: mount the route with `express.raw({ type: 'application/json' })` or
 * `express.text({ type: 'application/json' })`. A string body is used as is, a Buffer as UTF-8, no body as '',
 * anything else (e.g. what `express.json()` parsed) through `JSON.stringify`, as Clerk does: a re-serialised body
 * rarely matches its signature.
 */
import type { VerifyWebhookOptions, WebhookEvent } from '../webhooks'

export * from '../webhooks'

/** An Express (or plain Node `IncomingMessage`) request after a body parser: `req.body` as the parser left it. */
export interface WebhookRequest {
  headers: { [name: string]: string | string[] | undefined }
  method?: string
  url?: string
  originalUrl?: string
  body?: unknown
  socket?: unknown
  connection?: unknown
}

/**
 * Verifies the webhook an Express route received and resolves to its event (Clerk's messages and order of checks;
 * see `clerk-native/webhooks`).
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { verifyWebhook } from 'clerk-native/express/webhooks'
 *
 * app.post('/api/webhooks', express.raw({ type: 'application/json' }), async (req, res) => {
 *   try {
 *     const evt = await verifyWebhook(req)
 *     res.send('Webhook received')
 *   } catch (err) {
 *     res.status(400).send('Webhook verification failed')
 *   }
 * })
 * ```
 */
export declare function verifyWebhook(req: WebhookRequest, options?: VerifyWebhookOptions): Promise<WebhookEvent>
