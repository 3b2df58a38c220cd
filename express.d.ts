import type { IncomingMessage, ServerResponse } from 'http'
import type { AuthObject, AuthenticateRequestOptions, FrontendApiProxyOptions, TokenType } from './index'

/** The error-code unions of the core entry (`IdentityErrorCode` is the `code` of the `organizationId` refusals here). */
export type { IdentityErrorCode, ProxyErrorCode, ProxyBodyErrorCode, TokenVerificationErrorReason } from './index'

/** An Express/Connect middleware (no dependency on `@types/express`). */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void

/** `(url: URL) => boolean`: decides per request whether the proxy is on (receives the request URL). */
export type ShouldProxyFn = (url: URL) => boolean

export interface FrontendApiProxyConfig {
  /** Turn the proxy on, or decide per request. */
  enabled: boolean | ShouldProxyFn
  /** Mount path. Default `'/__clerk'`; `'/'` falls back to `'/__clerk'`. */
  path?: string
}

export interface ClerkMiddlewareOptions extends Omit<FrontendApiProxyOptions, 'proxyPath'>, AuthenticateRequestOptions {
  /**
   * Requests under `path` are streamed to Clerk's Frontend API before authentication (every method with a
   * body, every Set-Cookie kept). Mount `clerkMiddleware` before body parsers.
   */
  frontendApiProxy?: FrontendApiProxyConfig
  /**
   * Resolves the app's user for a signed-in session (e.g. a database lookup), cached in the identity cache under
   * `org:<orgId>:user:<userId>` (built from validated claims; the session id is never part of it). Exposed as
   * `req.auth.user` (`null` when signed out, for machine tokens, or when it returned nothing; `null`/`undefined`
   * results are not cached). Cached values are JSON copies. Concurrent misses for one identity share one call.
   */
  resolveUser?: (auth: AuthObject) => unknown | Promise<unknown>
  /**
   * Requires this organization on every authenticated request, whatever the token type, before the route and any
   * identity lookup (with or without `resolveUser`): a token of another org gets 403
   * `{"errors":[{"code":"org_mismatch"}]}`, one without an org 403 `missing_org_id` (machine tokens count by the
   * organization that owns them: an org's API key passes, M2M, OAuth and user-owned tokens have none). A session
   * token whose `org_id` and `o.id` claims name different organizations gets 401 `ambiguous_org_id`. Signed-out
   * requests pass as signed out (use `requireAuth` to refuse them).
   */
  organizationId?: string
}

/**
 * `@clerk/express`-compatible middleware. The proxy branch runs first; every other request is authenticated and
 * gets `req.auth` (callable, and carrying the auth object's fields) before `next()`.
 *
 * With `frontendApiProxy` enabled (or a function), throws at construction, with environment fallbacks applied, an
 * `Error` whose `code` is `proxy_configuration_error` and whose message names the option and the fix, when the
 * publishable key or secret key is missing, the secret key holds CR/LF/NUL, or `fapiUrl` is invalid. A malformed
 * `Host` header gets 400 `Invalid Host header` on proxy paths only; other routes continue with `next()`.
 * `maxConnections` (default 512) bounds the proxy's concurrent upstream exchanges (503 `proxy_too_many_requests`).
 */
export declare function clerkMiddleware(options?: ClerkMiddlewareOptions): RequestHandler

export interface FrontendApiProxyMiddlewareOptions extends Omit<FrontendApiProxyOptions, 'proxyPath'> {
  /** Default `true`. */
  enabled?: boolean | ShouldProxyFn
  /** Mount path. Default `'/__clerk'`. */
  path?: string
}

/**
 * The Frontend API proxy alone, as a middleware. Throws at construction as {@link clerkMiddleware} does for
 * missing keys, an invalid secret key or an invalid `fapiUrl`.
 */
export declare function frontendApiProxy(options?: FrontendApiProxyMiddlewareOptions): RequestHandler

/** The auth object of a request that went through `clerkMiddleware()` (throws otherwise). */
export declare function getAuth(req: IncomingMessage, options?: { acceptsToken?: TokenType | 'any' | Array<TokenType | 'any'> }): AuthObject

/** Answers 401 JSON `{"errors":[{"code":"unauthenticated"}]}` for unauthenticated requests, or redirects to `signInUrl`. */
export declare function requireAuth(options?: { signInUrl?: string; acceptsToken?: TokenType | 'any' | Array<TokenType | 'any'> }): RequestHandler

declare module 'http' {
  interface IncomingMessage {
    /** Set by `clerkMiddleware()`: call it (or read its fields) for the auth object. */
    auth?: (() => AuthObject & { user?: unknown }) & AuthObject & { user?: unknown }
  }
}
