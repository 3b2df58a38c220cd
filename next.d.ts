import type { AuthObject, AuthenticateRequestOptions, FrontendApiProxyOptions, RequestState } from './index'

/** The error-code unions of the core entry (`IdentityErrorCode` is the `code` of the `organizationId` refusals here). */
export type { IdentityErrorCode, ProxyErrorCode, ProxyBodyErrorCode, TokenVerificationErrorReason } from './index'

/**
 * As the core options (including `maxConnections`, default 512: concurrent upstream exchanges, more get 503
 * `proxy_too_many_requests`); the publishable key also falls back to `NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY`.
 */
export type NextFrontendApiProxyOptions = FrontendApiProxyOptions

type Handler = (request: Request) => Promise<Response>

/** Next flavour of `clerkFrontendApiProxy` (keys also from `NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY`). */
export declare function clerkFrontendApiProxy(request: Request, options?: NextFrontendApiProxyOptions): Promise<Response>

/**
 * Route handlers for `app/%5F%5Fclerk/[[...path]]/route.ts` (Node.js runtime):
 * `export const { GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS } = createFrontendApiProxyHandlers()`.
 * Throws at construction (`Error`, `code: 'proxy_configuration_error'`) for a secret key holding CR/LF/NUL or an
 * invalid `fapiUrl`; missing keys answer 500 JSON per request (route modules are also evaluated by `next build`).
 */
export declare function createFrontendApiProxyHandlers(options?: NextFrontendApiProxyOptions): {
  GET: Handler
  POST: Handler
  PUT: Handler
  DELETE: Handler
  PATCH: Handler
  HEAD: Handler
  OPTIONS: Handler
}

export interface FrontendApiProxyMiddlewareOptions extends Omit<NextFrontendApiProxyOptions, 'proxyPath'> {
  /** Default `true`; a function receives the request URL (`nextUrl` when present). */
  enabled?: boolean | ((url: URL) => boolean)
  /** Mount path. Default `'/__clerk'`; `'/'` falls back to `'/__clerk'` (never proxies every path). */
  path?: string
}

/**
 * For `middleware.ts` with `export const config = { runtime: 'nodejs' }`: resolves to the proxied Response for
 * requests under the proxy path, or `undefined` so your middleware continues. A request URL whose host the proxy
 * refuses gets 400 `Invalid Host header` under the proxy path and `undefined` elsewhere (never a rejection).
 * Throws at construction as {@link createFrontendApiProxyHandlers} does.
 */
export declare function frontendApiProxyMiddleware(
  options?: FrontendApiProxyMiddlewareOptions,
): (request: Request & { nextUrl?: URL }) => Promise<Response | undefined>

/** Options of the Next flavour of `authenticateRequest` (`acceptsToken` defaults to `'any'`). */
export type NextAuthenticateOptions = AuthenticateRequestOptions

/** `authenticateRequest` for route handlers and Node.js-runtime middleware (`acceptsToken` default `'any'`). */
export declare function authenticateRequest(request: Request, options?: NextAuthenticateOptions): Promise<RequestState>

/**
 * The auth object of a request. With `resolveUser`, the app's user is resolved through the identity cache into
 * `auth.user`. `organizationId` requires an organization on every authenticated request and token type (with or
 * without `resolveUser`; machine tokens by the organization that owns them): a refusal rejects with an
 * `IdentityError` (`status` 403 `org_mismatch` / `missing_org_id`; 401 `missing_user_id` / `ambiguous_user_id` /
 * `ambiguous_org_id`), before any lookup.
 */
export declare function getAuth(
  request: Request,
  options?: NextAuthenticateOptions & { resolveUser?: (auth: AuthObject) => unknown; organizationId?: string },
): Promise<AuthObject & { user?: unknown }>
