/**
 * clerk-native/webhooks: the drop-in for `@clerk/backend/webhooks`.
 *
 * Verifies Clerk webhooks (Standard Webhooks / svix signatures): headers `svix-id`, `svix-timestamp`,
 * `svix-signature`; HMAC-SHA256 over `"{id}.{timestamp}.{body}"` with the base64 key of a `whsec_…` secret,
 * compared in constant time, natively; timestamps within ±300 s; several space-separated `v1,<base64>` entries
 * per header, any one may match.
 */

/** What the request that caused the event looked like (Clerk's `event_attributes`). */
export interface WebhookEventAttributes {
  http_request: {
    client_ip: string
    user_agent: string
  }
}

/**
 * A verified event: the parsed payload's `type`, `data`, `event_attributes`, `timestamp` (ms since the epoch) and
 * `instance_id`, with `object: 'event'`. `data` is the resource as Clerk's Backend API serialises it
 * (`UserJSON`, `SessionJSON`, … in `@clerk/backend`'s types), typed loosely here.
 */
export interface Webhook<EvtType extends string = string, Data = WebhookEventData> {
  type: EvtType
  object: 'event'
  data: Data
  event_attributes: WebhookEventAttributes
  timestamp: number
  instance_id: string
}

/** The JSON object of a webhook event's `data` (Clerk's `…JSON` resource shapes). */
export interface WebhookEventData {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any
}

export type UserWebhookEvent = Webhook<'user.created' | 'user.updated' | 'user.deleted'>
export type EmailWebhookEvent = Webhook<'email.created'>
export type SMSWebhookEvent = Webhook<'sms.created'>
export type SessionWebhookEvent = Webhook<'session.created' | 'session.ended' | 'session.removed' | 'session.revoked'>
export type OrganizationWebhookEvent = Webhook<'organization.created' | 'organization.updated' | 'organization.deleted'>
export type OrganizationDomainWebhookEvent = Webhook<
  'organizationDomain.created' | 'organizationDomain.updated' | 'organizationDomain.deleted'
>
export type OrganizationMembershipWebhookEvent = Webhook<
  'organizationMembership.created' | 'organizationMembership.deleted' | 'organizationMembership.updated'
>
export type OrganizationInvitationWebhookEvent = Webhook<'organizationInvitation.created' | 'organizationInvitation.revoked'>
export type OrganizationInvitationAcceptedWebhookEvent = Webhook<'organizationInvitation.accepted'>
export type RoleWebhookEvent = Webhook<'role.created' | 'role.updated' | 'role.deleted'>
export type PermissionWebhookEvent = Webhook<'permission.created' | 'permission.updated' | 'permission.deleted'>
export type WaitlistEntryWebhookEvent = Webhook<'waitlistEntry.created' | 'waitlistEntry.updated'>
export type BillingPaymentAttemptWebhookEvent = Webhook<'paymentAttempt.created' | 'paymentAttempt.updated'>
export type BillingSubscriptionWebhookEvent = Webhook<
  'subscription.created' | 'subscription.updated' | 'subscription.active' | 'subscription.pastDue'
>
export type BillingSubscriptionItemWebhookEvent = Webhook<
  | 'subscriptionItem.created'
  | 'subscriptionItem.updated'
  | 'subscriptionItem.active'
  | 'subscriptionItem.canceled'
  | 'subscriptionItem.upcoming'
  | 'subscriptionItem.ended'
  | 'subscriptionItem.abandoned'
  | 'subscriptionItem.incomplete'
  | 'subscriptionItem.pastDue'
  | 'subscriptionItem.freeTrialEnding'
>

/** Every event `verifyWebhook` can resolve to, by `type` (the same list as `@clerk/backend` 3.25.0). */
export type WebhookEvent =
  | UserWebhookEvent
  | SessionWebhookEvent
  | EmailWebhookEvent
  | SMSWebhookEvent
  | OrganizationWebhookEvent
  | OrganizationDomainWebhookEvent
  | OrganizationMembershipWebhookEvent
  | OrganizationInvitationWebhookEvent
  | OrganizationInvitationAcceptedWebhookEvent
  | RoleWebhookEvent
  | PermissionWebhookEvent
  | WaitlistEntryWebhookEvent
  | BillingPaymentAttemptWebhookEvent
  | BillingSubscriptionWebhookEvent
  | BillingSubscriptionItemWebhookEvent

export type WebhookEventType = WebhookEvent['type']

/**
 * The `code` of an error `verifyWebhook` throws, when it has one (Clerk's errors have none; the message is
 * Clerk's either way):
 * - `webhook_secret_invalid`: the signing secret is not base64 (message from `@stablelib/base64`, not prefixed);
 * - `webhook_secret_empty`: the secret is `whsec_` and nothing else (`Secret can't be empty.`);
 * - `webhook_timestamp_invalid`: `svix-timestamp` is not a number (`… Invalid Signature Headers`);
 * - `webhook_timestamp_too_old` / `webhook_timestamp_too_new`: more than 300 s away from now;
 * - `webhook_signature_mismatch`: no `v1` entry of `svix-signature` matches (`… No matching signature found`);
 * - `webhook_payload_invalid`: the signed body is not a JSON object (JSON.parse's message);
 * - `webhook_body_too_large`: the body is larger than `maxBodyBytes` (clerk-native only).
 * The missing-secret and missing-header errors carry no code, as Clerk's.
 */
export type WebhookErrorCode =
  | 'webhook_secret_invalid'
  | 'webhook_secret_empty'
  | 'webhook_timestamp_invalid'
  | 'webhook_timestamp_too_old'
  | 'webhook_timestamp_too_new'
  | 'webhook_signature_mismatch'
  | 'webhook_payload_invalid'
  | 'webhook_body_too_large'

export interface VerifyWebhookOptions {
  /**
   * The signing secret of the endpoint (`whsec_…`, from the Clerk Dashboard). Default: env
   * `CLERK_WEBHOOK_SIGNING_SECRET`. Never echoed in errors.
   */
  signingSecret?: string
  /**
   * Largest body accepted, in bytes (UTF-8). Default 1048576 (1 MiB); at most 67108864 (64 MiB). A larger body
   * stops the read and throws `webhook_body_too_large`. clerk-native only: Clerk reads any size.
   */
  maxBodyBytes?: number
}

/**
 * Verifies a webhook request and resolves to its event. Drop-in for `@clerk/backend/webhooks`' `verifyWebhook`:
 * the same checks in the same order and the same error messages (prefixed `@clerk/backend: `, as Clerk's):
 * missing secret, missing `svix-*` headers (after trimming), then the body is read, then the secret is decoded,
 * then the timestamp (±300 s) and the signatures, then the body is parsed as JSON.
 *
 * @example
 * ```ts
 * import { verifyWebhook } from 'clerk-native/webhooks'
 *
 * export async function POST(request: Request) {
 *   try {
 *     const evt = await verifyWebhook(request)
 *     if (evt.type === 'user.created') console.log('new user', evt.data.id)
 *     return new Response('ok')
 *   } catch (err) {
 *     return new Response('Webhook verification failed', { status: 400 })
 *   }
 * }
 * ```
 */
export declare function verifyWebhook(request: Request, options?: VerifyWebhookOptions): Promise<WebhookEvent>
