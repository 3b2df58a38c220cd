// clerk-native/express: the types of @clerk/express 2.1.70, so that code written against it compiles unchanged
// (`tsc --strict`). The auth-object, RequestState, Backend API client and resource types are @clerk/backend's own
// (type-only imports of the optional peer dependency `@clerk/backend`; install it for these types, as for
// `clerkClient`). No dependency on `@types/express`: requests are typed as `http.IncomingMessage`, which Express's
// `Request` extends.
import type { IncomingMessage, ServerResponse } from 'http'
import type { ClerkClient, ClerkOptions, VerifyTokenOptions, verifyToken as clerkVerifyToken } from '@clerk/backend'
import type { AuthenticateRequestOptions as ClerkAuthenticateRequestOptions, GetAuthFn, RequestState } from '@clerk/backend/internal'
import type { SessionAuthObject as NativeSessionAuthObject, FrontendApiProxyOptions } from './index'

/** Every type @clerk/express re-exports from @clerk/backend (`AuthObject`, `User`, `Organization`, `WebhookEvent`, …). */
export type * from '@clerk/backend'
/** The error-code unions of the core entry (`IdentityErrorCode` is the `code` of the `organizationId` refusals here). */
export type { IdentityErrorCode, ProxyErrorCode, ProxyBodyErrorCode, TokenVerificationErrorReason } from './index'

/** `{ treatPendingAsSignedOut }` of `req.auth(options)` and `getAuth(req, options)` (Clerk's `PendingSessionOptions`). */
export interface PendingSessionOptions {
  /** A pending session (`sts: "pending"`, unfinished session tasks) reads as signed out. Default `true`. */
  treatPendingAsSignedOut?: boolean
}

/**
 * An Express/Connect middleware. Assignable to Express's `RequestHandler` (its `Request`/`Response` extend these
 * Node types).
 */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse, next: (err?: any) => void) => void

/** `(url: URL) => boolean`: decides per request whether the proxy is on (receives the request URL). */
export type ShouldProxyFn = (url: URL) => boolean

export interface FrontendApiProxyConfig {
  /** Turn the proxy on, or decide per request. */
  enabled: boolean | ShouldProxyFn
  /** Mount path. Default `'/__clerk'`; `'/'` falls back to `'/__clerk'`. */
  path?: string
}

/** clerk-native's options on top of Clerk's (key sources, JWKS cache, proxy transport, identity cache). */
export interface NativeMiddlewareOptions extends Omit<FrontendApiProxyOptions, 'proxyPath' | 'publishableKey' | 'secretKey'> {
  /** A JWKS URL to verify session tokens against (instead of `{apiUrl}/{apiVersion}/jwks`). */
  jwksUrl?: string
  /** How long fetched JWKS keys are cached, in ms. */
  jwksCacheTtlMs?: number
  /** After an unknown `kid` triggered a JWKS fetch, no new fetch for that key set for this long, in ms. */
  jwksCooldownMs?: number
  /**
   * Resolves the app's user for a signed-in session (e.g. a database lookup), cached in the identity cache under
   * `org:<orgId>:user:<userId>` (built from validated claims; the session id is never part of it). Exposed as
   * `req.auth.user` (`null` when signed out, for machine tokens, or when it returned nothing; `null`/`undefined`
   * results are not cached). Cached values are JSON copies. Concurrent misses for one identity share one call.
   */
  resolveUser?: (auth: NativeSessionAuthObject) => unknown | Promise<unknown>
  /**
   * Requires this organization on every authenticated request, whatever the token type, before the route and any
   * identity lookup: a token of another org gets 403 `{"errors":[{"code":"org_mismatch"}]}`, one without an org 403
   * `missing_org_id`; a session token whose `org_id` and `o.id` claims disagree 401 `ambiguous_org_id`.
   * Signed-out requests pass as signed out (use `requireAuth` to refuse them).
   */
  organizationId?: string
}

/**
 * The options of `clerkMiddleware` and `requireAuth`: Clerk's `AuthenticateRequestOptions` (`publishableKey`,
 * `secretKey`, `jwtKey`, `machineSecretKey`, `apiUrl`, `apiVersion`, `audience`, `authorizedParties`,
 * `clockSkewInMs`, `issuer`, `headerType`, `skipJwksCache`, `signInUrl`, `signUpUrl`, `afterSignInUrl`,
 * `afterSignUpUrl`, `satelliteAutoSync`, `organizationSyncOptions`, …), `isSatellite` / `domain` / `proxyUrl` as
 * values or functions of the request URL, `debug` (accepted and ignored, as in @clerk/express 2.1.70),
 * `clerkClient`, `frontendApiProxy`, and clerk-native's own options. `acceptsToken` is ignored: the middleware
 * always authenticates every token type (as Clerk's); filter with `getAuth(req, { acceptsToken })`.
 */
export type ClerkMiddlewareOptions = Omit<ClerkAuthenticateRequestOptions, 'isSatellite' | 'domain' | 'proxyUrl'> &
  NativeMiddlewareOptions & {
    /** A satellite application (or a function of the request URL). Env: `CLERK_IS_SATELLITE`. */
    isSatellite?: boolean | ((url: URL) => boolean)
    /** The satellite's domain (or a function of the request URL). Env: `CLERK_DOMAIN`. */
    domain?: string | ((url: URL) => string)
    /** The Frontend API proxy URL, absolute or relative to the request (or a function of the request URL). Env: `CLERK_PROXY_URL`. */
    proxyUrl?: string | ((url: URL) => string)
    /** Accepted and ignored, as in @clerk/express 2.1.70. Use `getAuth(req).debug()` / `req.auth().debug()`. */
    debug?: boolean
    /** A client from `createClerkClient()`: its options are merged under these for authentication. */
    clerkClient?: ClerkClient
    /**
     * Requests under `path` are streamed to Clerk's Frontend API before authentication (every method with a body,
     * every Set-Cookie kept); other requests then use `proxyUrl = <origin><path>` for handshakes, as Clerk's.
     * Mount `clerkMiddleware` before body parsers.
     */
    frontendApiProxy?: FrontendApiProxyConfig
  }

/** `clerkMiddleware((req) => options)`: options per request (e.g. per-domain keys), sync or async. */
export type ClerkMiddlewareOptionsCallback = (req: any) => ClerkMiddlewareOptions | Promise<ClerkMiddlewareOptions>

/** `requireAuth` options: every `clerkMiddleware` option, plus clerk-native's `unauthenticated`. */
export type RequireAuthOptions = ClerkMiddlewareOptions & {
  /**
   * What a request without a `userId` gets. `'redirect'` (default, as Clerk): Express's `res.redirect` (302) to
   * `signInUrl`, else `CLERK_SIGN_IN_URL`, else `/`. `'json'`: 401 `{"errors":[{"code":"unauthenticated",
   * "message":"Unauthenticated"}]}` with `Cache-Control: no-store` (for APIs).
   */
  unauthenticated?: 'redirect' | 'json'
}

/** `req.auth`: `req.auth(options?)` returns the auth object; set by `clerkMiddleware()` and `requireAuth()`. */
export type RequestAuth = (options?: PendingSessionOptions) => import('@clerk/backend').AuthObject

/**
 * What `req.auth` is at run time in clerk-native: the function, also carrying the default auth object's fields
 * (the @clerk/express 1.x `req.auth.userId` style) and `user` (from `resolveUser`). Declare `auth: LegacyRequestAuth`
 * on Express's `Request` instead of {@link RequestAuth} to type that access.
 */
export type LegacyRequestAuth = RequestAuth & import('@clerk/backend').AuthObject & { user?: unknown }

/** An Express request after `clerkMiddleware()` (as @clerk/express's `ExpressRequestWithAuth`). */
export type ExpressRequestWithAuth<R extends IncomingMessage = IncomingMessage> = R & { auth: RequestAuth }

/** `@clerk/express`'s `AuthenticateRequestParams`. */
export interface AuthenticateRequestParams {
  clerkClient: ClerkClient
  request: IncomingMessage
  options?: ClerkMiddlewareOptions
}

/**
 * `@clerk/express`-compatible middleware: `clerkMiddleware(options)` or `clerkMiddleware((req) => options)`. The
 * proxy branch runs first; every other request is authenticated (every token type), the RequestState's headers
 * (`x-clerk-auth-*`, `Set-Cookie`) are appended to the response, a `Location` (handshake) is answered 307, and
 * `req.auth` is set before `next()`.
 *
 * With `frontendApiProxy` enabled (or a function), throws at construction, with environment fallbacks applied, an
 * `Error` whose `code` is `proxy_configuration_error` when the publishable key or secret key is missing, the secret
 * key holds CR/LF/NUL, or `fapiUrl` is invalid.
 */
export declare const clerkMiddleware: (options?: ClerkMiddlewareOptions | ClerkMiddlewareOptionsCallback) => RequestHandler

export interface FrontendApiProxyMiddlewareOptions extends Omit<FrontendApiProxyOptions, 'proxyPath'> {
  /** Default `true`. */
  enabled?: boolean | ShouldProxyFn
  /** Mount path. Default `'/__clerk'`. */
  path?: string
}

/**
 * The Frontend API proxy alone, as a middleware (clerk-native only). Throws at construction as
 * {@link clerkMiddleware} does for missing keys, an invalid secret key or an invalid `fapiUrl`.
 */
export declare function frontendApiProxy(options?: FrontendApiProxyMiddlewareOptions): RequestHandler

/**
 * The auth object of a request that went through `clerkMiddleware()` or `requireAuth()` (throws otherwise),
 * filtered as Clerk's: `acceptsToken` defaults to `'session_token'`, so a machine token gives a signed-out session
 * object; `treatPendingAsSignedOut` defaults to `true`.
 */
export declare const getAuth: GetAuthFn<IncomingMessage>

/**
 * Deprecated in @clerk/express (use `clerkMiddleware()` with `getAuth()`), kept as Clerk's: authenticates when
 * `clerkMiddleware()` did not run, lets requests with a `userId` through, redirects the others (302) to
 * `signInUrl` / `CLERK_SIGN_IN_URL` / `/`, or answers 401 JSON with `unauthenticated: 'json'`.
 */
export declare const requireAuth: (options?: RequireAuthOptions) => RequestHandler

/**
 * `authenticateRequest({ clerkClient, request, options })` as @clerk/express exports it, or clerk-native's
 * `authenticateRequest(request, options)`. Resolves to the RequestState; sets nothing on the response.
 */
export declare const authenticateRequest: {
  (opts: AuthenticateRequestParams): Promise<RequestState<'session_token'>>
  (request: IncomingMessage | Request, options?: ClerkMiddlewareOptions): Promise<RequestState<any>>
}

/** A Backend API client whose `authenticateRequest` also takes a Node request. */
export type NativeClerkClient = ClerkClient & {
  authenticateRequest: ClerkClient['authenticateRequest'] &
    ((request: IncomingMessage, options?: Parameters<ClerkClient['authenticateRequest']>[1]) => ReturnType<ClerkClient['authenticateRequest']>)
}

/**
 * @clerk/backend's `createClerkClient(options)` with clerk-native's `authenticateRequest` inside. Throws an Error
 * with code `missing_peer_dependency` when `@clerk/backend` is not installed.
 */
export declare function createClerkClient(options: ClerkOptions & { jwksUrl?: string }): NativeClerkClient

/** The lazy Backend API client built from the environment on first use (needs `@clerk/backend`). */
export declare const clerkClient: NativeClerkClient

/** Drop-in for `verifyToken` (resolves to the payload; rejects with a TokenVerificationError). */
export declare const verifyToken: (
  token: string,
  options: VerifyTokenOptions & { jwksUrl?: string; jwksCacheTtlMs?: number; jwksCooldownMs?: number },
) => ReturnType<typeof clerkVerifyToken>
