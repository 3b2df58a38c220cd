/**
 * clerk-native/next/webhooks: the drop-in for `@clerk/nextjs/webhooks`.
 *
 * App Router route handlers pass their `Request` / `NextRequest`; a Pages Router API route may pass its
 * `NextApiRequest` (its parsed `req.body` is re-serialised with `JSON.stringify`, as Clerk does).
 */
import type { VerifyWebhookOptions, WebhookEvent } from '../webhooks'

export * from '../webhooks'

/** A Pages Router API request (`NextApiRequest`): a Node request with the parsed body. */
export interface NextApiWebhookRequest {
  headers: { [name: string]: string | string[] | undefined }
  method?: string
  url?: string
  body?: unknown
  socket?: unknown
}

/**
 * Verifies the webhook a route received and resolves to its event (Clerk's messages and order of checks; see
 * `clerk-native/webhooks`).
 *
 * @example
 * ```ts
 * // app/api/webhooks/route.ts
 * import { verifyWebhook } from 'clerk-native/next/webhooks'
 *
 * export async function POST(req: Request) {
 *   try {
 *     const evt = await verifyWebhook(req)
 *     return new Response('ok')
 *   } catch {
 *     return new Response('Webhook verification failed', { status: 400 })
 *   }
 * }
 * ```
 */
export declare function verifyWebhook(
  request: Request | NextApiWebhookRequest,
  options?: VerifyWebhookOptions,
): Promise<WebhookEvent>
