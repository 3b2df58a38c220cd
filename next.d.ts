// clerk-native/next: the types of `@clerk/nextjs/server` 7.9.17 for what clerk-native/next exports, so that code
// written against it compiles unchanged under `tsc --strict` after swapping the import. The auth-object, request
// state, Backend API client and resource types are @clerk/backend's own (type-only imports of the optional peer
// dependency `@clerk/backend`, which `currentUser()` / `clerkClient()` need anyway); Next's types come from `next`.
import type { ClerkClient, ClerkOptions, User, verifyToken as clerkVerifyToken } from '@clerk/backend'
import type {
  AuthenticateRequestOptions as ClerkAuthenticateRequestOptions,
  AuthenticatedMachineObject,
  GetAuthFnNoRequest,
  InferAuthObjectFromToken,
  InferAuthObjectFromTokenArray,
  RedirectFun,
  SignedInAuthObject,
  SignedOutAuthObject,
  TokenType as ClerkTokenType,
} from '@clerk/backend/internal'
import type { IncomingMessage } from 'http'
import type { NextFetchEvent, NextMiddleware, NextRequest } from 'next/server'
import type { AuthObject as NativeAuthObject, FrontendApiProxyOptions, RequestState } from './index'

/** The resource, JSON and webhook types @clerk/nextjs/server re-exports from @clerk/backend (`User`, `WebhookEvent`, …). */
export type * from '@clerk/backend'
/** The error-code unions of the core entry (`IdentityErrorCode` is the `code` of the `organizationId` refusals here). */
export type { IdentityErrorCode, ProxyErrorCode, ProxyBodyErrorCode, TokenVerificationErrorReason } from './index'

// ---------------------------------------------------------------------------------------------------------------
// Frontend API proxy

/**
 * As the core options (including `maxConnections`, default 512: concurrent upstream exchanges, more get 503
 * `proxy_too_many_requests`); the publishable key also falls back to `NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY`.
 */
export type NextFrontendApiProxyOptions = FrontendApiProxyOptions

type Handler = (request: Request) => Promise<Response>

/** Clerk's name for the route-handler set. */
export interface FrontendApiProxyHandlers {
  GET: Handler
  POST: Handler
  PUT: Handler
  DELETE: Handler
  PATCH: Handler
  HEAD: Handler
  OPTIONS: Handler
}

/** Next flavour of `clerkFrontendApiProxy` (keys also from `NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY`). */
export declare function clerkFrontendApiProxy(request: Request, options?: NextFrontendApiProxyOptions): Promise<Response>

/**
 * Route handlers for `app/%5F%5Fclerk/[[...path]]/route.ts` (Node.js runtime):
 * `export const { GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS } = createFrontendApiProxyHandlers()`.
 * Throws at construction (`Error`, `code: 'proxy_configuration_error'`) for a secret key holding CR/LF/NUL or an
 * invalid `fapiUrl`; missing keys answer 500 JSON per request (route modules are also evaluated by `next build`).
 * With clerkMiddleware's `frontendApiProxy` option no route file is needed.
 */
export declare function createFrontendApiProxyHandlers(options?: NextFrontendApiProxyOptions): FrontendApiProxyHandlers

export interface FrontendApiProxyMiddlewareOptions extends Omit<NextFrontendApiProxyOptions, 'proxyPath'> {
  /** Default `true`; a function receives the request URL (`nextUrl` when present). */
  enabled?: boolean | ((url: URL) => boolean)
  /** Mount path. Default `'/__clerk'`; `'/'` falls back to `'/__clerk'` (never proxies every path). */
  path?: string
}

/**
 * The proxy alone, for a middleware without clerkMiddleware: resolves to the proxied Response for requests under
 * the proxy path, or `undefined` so your middleware continues. A request URL whose host the proxy refuses gets 400
 * `Invalid Host header` under the proxy path and `undefined` elsewhere (never a rejection).
 */
export declare function frontendApiProxyMiddleware(
  options?: FrontendApiProxyMiddlewareOptions,
): (request: Request & { nextUrl?: URL }) => Promise<Response | undefined>

// ---------------------------------------------------------------------------------------------------------------
// clerkMiddleware

/** `clerkMiddleware`'s `frontendApiProxy` option (Clerk's), plus the proxy transport options of clerk-native. */
export interface ClerkMiddlewareFrontendApiProxyOptions extends Omit<NextFrontendApiProxyOptions, 'proxyPath' | 'publishableKey' | 'secretKey'> {
  /** Turn the `/__clerk` proxy branch on, or decide per request URL. */
  enabled: boolean | ((url: URL) => boolean)
  /** Mount path. Default `'/__clerk'`. */
  path?: string
}

/**
 * Options of `clerkMiddleware`: Clerk's `AuthenticateRequestOptions` without `acceptsToken` (the middleware
 * authenticates every token type; `auth({ acceptsToken })` filters), `isSatellite`/`domain`/`proxyUrl` as values or
 * functions of the request URL, `frontendApiProxy`, and clerk-native's key sources (`jwtKey`, `jwksUrl`).
 * Keys: `publishableKey` (env `NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY`), `secretKey` (env `CLERK_SECRET_KEY`; optional
 * when `jwtKey` / `CLERK_JWT_KEY` is given). `debug` and `contentSecurityPolicy` are accepted and not implemented.
 */
export interface ClerkMiddlewareOptions
  extends Omit<ClerkAuthenticateRequestOptions, 'acceptsToken' | 'isSatellite' | 'domain' | 'proxyUrl'> {
  /** A satellite application (or a function of the request URL). Env: `NEXT_PUBLIC_CLERK_IS_SATELLITE`. */
  isSatellite?: boolean | ((url: URL) => boolean)
  /** The satellite's domain (or a function of the request URL). Env: `NEXT_PUBLIC_CLERK_DOMAIN`. */
  domain?: string | ((url: URL) => string)
  /** The Frontend API proxy URL, absolute or relative to the request (or a function of the URL). Env: `NEXT_PUBLIC_CLERK_PROXY_URL`. */
  proxyUrl?: string | ((url: URL) => string)
  /** The `/__clerk` Frontend API proxy branch (answered before authentication). Auto-on for `pk_live` keys on `*.vercel.app`, as Clerk's. */
  frontendApiProxy?: ClerkMiddlewareFrontendApiProxyOptions
  /** A JWKS URL to verify session tokens against (instead of `{apiUrl}/{apiVersion}/jwks`). */
  jwksUrl?: string
  /** Accepted; Clerk's debug logging is not implemented. */
  debug?: boolean
  /** Accepted; Clerk's generated Content-Security-Policy is not implemented. */
  contentSecurityPolicy?: Record<string, unknown>
}

/** The session auth object `auth()` returns inside the middleware handler. */
export type ClerkMiddlewareSessionAuthObject = (SignedInAuthObject | SignedOutAuthObject) & {
  redirectToSignIn: RedirectFun<Response>
  redirectToSignUp: RedirectFun<Response>
}

type AuthProtectOptions = {
  /** The token type(s) to accept. Default `'session_token'`. */
  token?: ClerkAuthenticateRequestOptions['acceptsToken']
  /** Where an authorization failure (has() false) of a session redirects (307); default: the 404 rewrite. */
  unauthorizedUrl?: string
  /** Where a signed-out request redirects (307); default: sign-in for pages, 401 for server actions, else 404. */
  unauthenticatedUrl?: string
}

type HasParams = Parameters<SignedInAuthObject['has']>[0]

/**
 * `auth.protect(params?, options?)`: the auth object when the request is authenticated (and authorized), else
 * Clerk's outcomes: a page request redirects to sign-in, a server action gets 401, other requests the 404 rewrite;
 * machine tokens get 401 (OAuth with `WWW-Authenticate`).
 */
export interface AuthProtect {
  (params?: HasParams, options?: AuthProtectOptions): Promise<SignedInAuthObject>
  (params?: (has: SignedInAuthObject['has']) => boolean, options?: AuthProtectOptions): Promise<SignedInAuthObject>
  <T extends ClerkTokenType>(options?: AuthProtectOptions & { token: T }): Promise<
    InferAuthObjectFromToken<T, SignedInAuthObject, AuthenticatedMachineObject>
  >
  <T extends ClerkTokenType[]>(options?: AuthProtectOptions & { token: T }): Promise<
    InferAuthObjectFromTokenArray<T, SignedInAuthObject, AuthenticatedMachineObject>
  >
  (options?: AuthProtectOptions & { token: 'any' }): Promise<SignedInAuthObject | AuthenticatedMachineObject>
  (options?: AuthProtectOptions): Promise<SignedInAuthObject>
}

/** The session auth object of `auth()` on the server: with `redirectToSignIn()` / `redirectToSignUp()` (they throw Next's redirect). */
export type SessionAuthWithRedirect = (SignedInAuthObject | SignedOutAuthObject) & {
  redirectToSignIn: RedirectFun<never>
  redirectToSignUp: RedirectFun<never>
}

/** `auth(options?)` with `auth.protect`: in the middleware handler and in server code. */
export type AuthFn = GetAuthFnNoRequest<SessionAuthWithRedirect, true> & { protect: AuthProtect }
/** The `auth` argument of the clerkMiddleware handler. */
export type ClerkMiddlewareAuth = AuthFn

type NextMiddlewareRequestParam = Parameters<NextMiddleware>[0]
type NextMiddlewareEvtParam = Parameters<NextMiddleware>[1]
type NextMiddlewareReturn = ReturnType<NextMiddleware>
type ClerkMiddlewareHandler = (auth: ClerkMiddlewareAuth, request: NextMiddlewareRequestParam, event: NextMiddlewareEvtParam) => NextMiddlewareReturn
type ClerkMiddlewareOptionsCallback = (req: NextRequest) => ClerkMiddlewareOptions | Promise<ClerkMiddlewareOptions>

export interface ClerkMiddleware {
  (handler: ClerkMiddlewareHandler, options?: ClerkMiddlewareOptions): NextMiddleware
  (handler: ClerkMiddlewareHandler, options?: ClerkMiddlewareOptionsCallback): NextMiddleware
  (options?: ClerkMiddlewareOptions | ClerkMiddlewareOptionsCallback): NextMiddleware
  (request: NextMiddlewareRequestParam, event: NextMiddlewareEvtParam): NextMiddlewareReturn
}

/**
 * Clerk's middleware for the Node.js runtime: `export default clerkMiddleware(async (auth, req) => { ... })` in
 * `middleware.ts` with `export const config = { runtime: 'nodejs', matcher: [...] }` (Next 15.5+), or
 * `export const proxy = clerkMiddleware(...)` in Next 16's `proxy.ts`. Proxies `/__clerk` when `frontendApiProxy`
 * is on, authenticates every token type (a handshake becomes a 307 carrying Clerk's headers), runs the handler,
 * puts the state headers on the response and hands the outcome to routes in signed request headers (a client's
 * own copies are replaced; auth()/getAuth() refuse anything not signed by this app).
 * Throws (per request) when the publishable key is missing, or the secret key when there is no `jwtKey` either.
 */
export declare const clerkMiddleware: ClerkMiddleware

/** Patterns of `createRouteMatcher`: path-to-regexp strings (`'/dashboard(.*)'`, `'/org/:slug'`), RegExps, or a predicate. */
export type RouteMatcherParam = Array<RegExp | string> | RegExp | string | ((req: NextRequest) => boolean)

/**
 * Clerk's `createRouteMatcher`: a predicate over `req.nextUrl.pathname` (percent-decoded with `decodeURI`, `//`
 * collapsed; a malformed encoding throws, which clerkMiddleware answers with 400). An invalid pattern throws now.
 */
export declare function createRouteMatcher(routes: RouteMatcherParam): (req: NextRequest) => boolean

// ---------------------------------------------------------------------------------------------------------------
// Server side

/**
 * `await auth()` in server components, route handlers and server actions (reads `headers()`): the session auth
 * object by default (`acceptsToken` filters as Clerk's), with `redirectToSignIn()`/`redirectToSignUp()`;
 * `auth.protect()` as in the middleware. Throws Clerk's "auth() was called but Clerk can't detect usage of
 * clerkMiddleware()" error on a route the middleware did not run for, and Clerk's `auth_signature_invalid` error
 * for a hand-off this app did not sign.
 */
export declare const auth: AuthFn

/** `currentUser()`: the signed-in user through `clerkClient().users.getUser(userId)`, or `null`. */
export declare function currentUser(opts?: { treatPendingAsSignedOut?: boolean }): Promise<User | null>

/** The requests `getAuth` reads: a NextRequest / Request, a Pages Router `req`, or a Node `IncomingMessage`. */
export type RequestLike = NextRequest | Request | IncomingMessage

/** Clerk's `getAuth` options. */
export type GetAuthOptions = {
  acceptsToken?: ClerkAuthenticateRequestOptions['acceptsToken']
  treatPendingAsSignedOut?: boolean
  secretKey?: string
}

/** Options of the Next flavour of `authenticateRequest` (`acceptsToken` defaults to `'any'`). */
export type NextAuthenticateOptions = import('./index').AuthenticateRequestOptions

/** The verifying form of getAuth: authenticates the request itself (no middleware needed). */
export type VerifyingGetAuthOptions = NextAuthenticateOptions & {
  resolveUser?: (auth: NativeAuthObject) => unknown
  organizationId?: string
}

/**
 * `getAuth(req, opts?)`:
 * - Clerk's form (no options, or only `acceptsToken` / `treatPendingAsSignedOut` / `secretKey`): **synchronous**,
 *   the session auth object clerkMiddleware handed to this request (Pages Router pages and API routes, route
 *   handlers); throws Clerk's "can't detect usage of clerkMiddleware()" error without the middleware.
 * - the verifying form (an authenticateRequest option such as `jwtKey`, or `resolveUser` / `organizationId`): a
 *   Promise; verifies the request itself, no middleware needed. With `resolveUser`, the app's user is resolved
 *   through the identity cache into `auth.user`; `organizationId` requires that organization (403
 *   `org_mismatch` / `missing_org_id`, 401 `missing_user_id` / `ambiguous_user_id` / `ambiguous_org_id`).
 */
export declare function getAuth(req: RequestLike, opts?: GetAuthOptions): SignedInAuthObject | SignedOutAuthObject
export declare function getAuth(request: Request, options: VerifyingGetAuthOptions): Promise<NativeAuthObject & { user?: unknown }>

/**
 * `await clerkClient()`: @clerk/backend's Backend API client (optional peer dependency; a clear error names it when
 * missing) with the middleware's keys (in its handler, and in routes it handed off to), else from the environment
 * (`CLERK_SECRET_KEY`, `CLERK_API_URL` (default derived from the publishable key), `CLERK_API_VERSION`).
 */
export declare function clerkClient(): Promise<ClerkClient>

/** Clerk's `createClerkClient(options)`: @clerk/backend's client with clerk-native's `authenticateRequest`. */
export declare function createClerkClient(options: ClerkOptions): ClerkClient

/** `verifyToken(token, options)` as @clerk/backend's (clerk-native's native verifier). */
export declare const verifyToken: typeof clerkVerifyToken

/** `authenticateRequest` for route handlers and Node.js-runtime middleware (`acceptsToken` default `'any'`). */
export declare function authenticateRequest(request: Request, options?: NextAuthenticateOptions): Promise<RequestState>

export type { NextFetchEvent }
