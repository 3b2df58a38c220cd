/**
 * clerk-native: a fast, hardened native core for Clerk backends.
 *
 * This entry exposes the Frontend API proxy (a drop-in for `@clerk/backend/proxy`).
 * Framework adapters live in `clerk-native/express` and `clerk-native/next`.
 */

/** `'/__clerk'` */
export declare const DEFAULT_PROXY_PATH: '/__clerk'

/** Error codes of proxy failures (`errors[0].code` of a JSON error response). */
export type ProxyErrorCode = 'proxy_configuration_error' | 'proxy_path_mismatch' | 'proxy_request_failed' | 'proxy_too_many_requests'

/** One entry of a JSON error response body `{"errors":[{code, message}]}`. */
export interface ProxyError {
  code: ProxyErrorCode
  message: string
}

export interface FrontendApiProxyOptions {
  /** Mount path. Default `'/__clerk'`. Trailing slashes are stripped; `''` and `'/'` fall back to `'/__clerk'`. */
  proxyPath?: string
  /** Default: env `CLERK_PUBLISHABLE_KEY`. Only its presence is checked; it selects the FAPI host when `fapiUrl` is unset. */
  publishableKey?: string
  /** Default: env `CLERK_SECRET_KEY`. Sent upstream as `Clerk-Secret-Key`; never logged or echoed. */
  secretKey?: string
  /** Explicit Frontend API base URL (http/https, no credentials, query or hash). Default: env `CLERK_FAPI_URL`, else derived from the publishable key. */
  fapiUrl?: string
  /**
   * Milliseconds the upstream may take to send response headers, counted from the end of the request body.
   * Past it the caller gets 504 `proxy_request_failed` and the upstream request is cancelled. Default 30000; 0 disables.
   */
  timeoutMs?: number
  /**
   * Milliseconds a request or response body may move no byte before both sides are aborted. Default 30000; 0 disables.
   * Covers an upload the client stops sending (also a small one, ≤ 64 KiB, still being collected) and an upload the
   * upstream stops reading: 408 `proxy_request_failed` JSON when no response was sent yet. Covers a download the
   * upstream stops sending and one the client stops reading: the client connection is cut (Express) or the body
   * stream errors with `ProxyBodyError` code `proxy_body_idle_timeout`.
   */
  idleTimeoutMs?: number
  /**
   * Most upstream exchanges (each holds at most one upstream connection) this proxy runs at once; an integer from 1
   * to 1000000. Default 512. A request beyond it is not queued: it gets 503 JSON `proxy_too_many_requests` with
   * `Retry-After: 1` and `Cache-Control: no-store` at once, and opens no upstream connection. (Queueing would hold
   * the client's socket and body while the slow exchanges that filled the bound carry on; an immediate 503 keeps
   * memory bounded and tells the client when to retry.) Counted per option set: instances (and middlewares) built
   * with the same options share one bound.
   */
  maxConnections?: number
  /**
   * Default `true` (Clerk's behaviour): client X-Forwarded-Proto/Host decide `Clerk-Proxy-Url`, and
   * CF-Connecting-IP / X-Real-IP / X-Forwarded-For decide the client IP sent upstream. `false` ignores them and uses
   * the request URL and the socket peer (`remoteAddress`).
   */
  trustForwardedHeaders?: boolean
}

/**
 * Proxies a Web `Request` under the proxy path to Clerk's Frontend API and resolves to the upstream `Response`
 * (streamed). Never rejects for proxy failures: they come back as JSON error responses with
 * `Cache-Control: no-store` (500 `proxy_configuration_error`, 400 `proxy_path_mismatch`, 502/504 `proxy_request_failed`).
 * Aborting `request.signal` or cancelling the response body cancels the upstream request.
 */
export declare function clerkFrontendApiProxy(request: Request, options?: FrontendApiProxyOptions): Promise<Response>

/** True when the request's pathname is the proxy path or below it (query ignored, case-sensitive). */
export declare function matchProxyPath(request: Request | URL | string, options?: { proxyPath?: string }): boolean

/** The Clerk Frontend API URL for a publishable key; an invalid key selects `https://frontend-api.clerk.dev`. */
export declare function fapiUrlFromPublishableKey(publishableKey: string): string

/** Strips any number of trailing `/`. */
export declare function stripTrailingSlashes(s: string): string

/** Node-native request description for {@link proxyRequest}. */
export interface ProxyRequestInit {
  /** HTTP method, passed through unchanged. Default `'GET'`. */
  method?: string
  /** Absolute URL as the app received it, e.g. `http://localhost:3000/__clerk/v1/client?x=1`. */
  url: string
  /** A Node `IncomingHttpHeaders` object, a `Headers` object, or a flat raw list `[name, value, name, value, ...]` (repeats kept). */
  headers?: Record<string, string | string[] | undefined> | string[] | Headers
  /** The request body: a Node Readable, any AsyncIterable of bytes, a Web ReadableStream, bytes, or null. Streamed, never buffered whole. */
  body?: AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array> | Uint8Array | ArrayBuffer | string | null
  /** The socket peer address; used for X-Forwarded-For when no client IP header is present (or always, with `trustForwardedHeaders: false`). */
  remoteAddress?: string | null
  /** Aborting it cancels the upstream request. */
  signal?: AbortSignal
}

/** The upstream response, streaming. */
export interface ProxyResponse {
  status: number
  statusText: string
  /** Response headers; every Set-Cookie is its own entry. */
  headers: [string, string][]
  /** The body, streamed in chunks; `null` when there is none. A failure mid-body throws a {@link ProxyBodyError}. */
  body: AsyncIterable<Buffer> | null
  /** Cancels the exchange and closes the upstream connection. */
  cancel(): void
}

/**
 * Node-native proxy call (no Web objects). Never rejects for proxy failures: they resolve to JSON error responses
 * (500 `proxy_configuration_error`, 502 `proxy_request_failed`), as `clerkFrontendApiProxy` answers them. Rejects
 * only with a `TypeError` for a malformed `init` (before anything is sent). An `init.signal` is let go once the
 * exchange ends, so one long-lived signal may serve any number of requests.
 */
export declare function proxyRequest(init: ProxyRequestInit, options?: FrontendApiProxyOptions): Promise<ProxyResponse>

/** Codes of a proxied body that failed after the response head was sent. */
export type ProxyBodyErrorCode = 'proxy_body_idle_timeout' | 'proxy_upstream_body_error' | 'proxy_cancelled'

/** A body that failed after the response head was sent. */
export declare class ProxyBodyError extends Error {
  readonly name: 'ProxyBodyError'
  /** `proxy_body_idle_timeout` | `proxy_upstream_body_error` | `proxy_cancelled` */
  readonly code: ProxyBodyErrorCode
}

/**
 * A proxy bound to one option set; keys and environment are resolved once, at construction.
 * Throws a `TypeError` for options of the wrong type, and an `Error` with `code: 'proxy_configuration_error'` for an
 * invalid `fapiUrl` (or `CLERK_FAPI_URL`). Missing keys and an invalid `secretKey` still answer 500
 * `proxy_configuration_error` per request. All instances share one upstream connection pool.
 */
export declare class FrontendApiProxy {
  constructor(options?: FrontendApiProxyOptions)
  /** The normalized proxy path. */
  readonly proxyPath: string
  /** Web path: as {@link clerkFrontendApiProxy}. */
  handle(request: Request): Promise<Response>
  /** Node path: as {@link proxyRequest}. */
  proxy(init: ProxyRequestInit): Promise<ProxyResponse>
  /** Streams a Node request straight into a Node response. `url` is the absolute URL as received. */
  pipeNode(req: import('http').IncomingMessage, res: import('http').ServerResponse, url: string): void
}

// ---------------------------------------------------------------------------------------------------------
// Tokens

/** Clerk's `TokenVerificationErrorReason` values. */
export type TokenVerificationErrorReason =
  | 'token-expired'
  | 'token-invalid'
  | 'token-invalid-algorithm'
  | 'token-invalid-authorized-parties'
  | 'token-invalid-issuer'
  | 'token-invalid-signature'
  | 'token-not-active-yet'
  | 'token-iat-in-the-future'
  | 'token-verification-failed'
  | 'secret-key-invalid'
  | 'jwk-local-missing'
  | 'jwk-remote-failed-to-load'
  | 'jwk-remote-invalid'
  | 'jwk-remote-missing'
  | 'jwk-failed-to-resolve'
  | 'jwk-kid-mismatch'

/** Rejection of `verifyToken`: `reason` (and `code`, the same string) is one of Clerk's reasons. */
export declare class TokenVerificationError extends Error {
  readonly name: 'TokenVerificationError'
  readonly reason: TokenVerificationErrorReason
  readonly code: TokenVerificationErrorReason
  readonly action?: string
  tokenCarrier?: 'header' | 'cookie'
  /** `"<message> <action> (reason=<reason>, token-carrier=<carrier>)"` */
  getFullMessage(): string
}

/** A verified JWT payload. */
export interface JwtPayload {
  sub: string
  exp: number
  iat?: number
  nbf?: number
  sid?: string
  azp?: string
  iss?: string
  [claim: string]: unknown
}

export interface VerifyTokenOptions {
  /**
   * PEM public key (SPKI or PKCS#1; RSA of 2048-8192 bits; RS256/384/512). Networkless; takes precedence over remote
   * keys. A value that is not such a key is refused when the options are resolved: `verifyToken` rejects and
   * `authenticateRequest` / `clerkMiddleware` throw a {@link TokenVerificationError} with `code`
   * `'jwk-failed-to-resolve'` and a message starting `Invalid jwtKey (CLERK_JWT_KEY): `.
   */
  jwtKey?: string
  /** Fetches the instance JWKS from `{apiUrl}/{apiVersion}/jwks` (and authorizes machine-token calls). */
  secretKey?: string
  /** Backend API base. Default `'https://api.clerk.com'`. */
  apiUrl?: string
  /** Default `'v1'`. */
  apiVersion?: string
  /** Any JWKS endpoint (e.g. `https://<fapi>/.well-known/jwks.json`), fetched without credentials; preferred over `secretKey` for keys. */
  jwksUrl?: string
  /** Accepted `aud` values (checked when both this and the claim are non-empty). */
  audience?: string | string[]
  /** Accepted `azp` values; when non-empty, `azp` is required. */
  authorizedParties?: string[]
  /**
   * Accepted `iss` values (a string or a list; empty strings are ignored). When set, `iss` must be a string equal
   * to one of them, else `token-invalid-issuer` (checked after `azp`, before `exp`, as Clerk does).
   */
  issuer?: string | string[]
  /** Allowed clock skew in ms for exp/nbf/iat. Default 5000 (a non-finite value means 5000). */
  clockSkewInMs?: number
  /** Accepted `typ` values. Default `'JWT'`; a token without `typ` is accepted when this is unset. */
  headerType?: string | string[]
  /** Always refetch the JWKS (the result is still cached). */
  skipJwksCache?: boolean
  /** JWKS cache TTL in ms. Default 300000. */
  jwksCacheTtlMs?: number
  /** Minimum gap in ms between JWKS refetches caused by unknown `kid`s. Default 30000. A refetch because the TTL ran out is not limited. */
  jwksCooldownMs?: number
}

/**
 * Drop-in for `@clerk/backend`'s `verifyToken`: resolves to the payload or rejects with a
 * {@link TokenVerificationError}. With a known key (`jwtKey`, or JWKS keys already cached) it runs synchronously
 * on the calling thread; JWKS fetches are single-flight, never cached on failure, retried with backoff.
 */
export declare function verifyToken(token: string, options: VerifyTokenOptions): Promise<JwtPayload>

/** `acceptsToken` values. */
export type TokenType = 'session_token' | 'api_key' | 'm2m_token' | 'oauth_token'

/** Clerk's `MachineTokenVerificationErrorCode` values: the signed-out `reason` of a refused machine token. */
export type MachineErrorCode = 'token-invalid' | 'secret-key-invalid' | 'unexpected-error' | 'token-verification-failed'

/**
 * `code` of an `IdentityError` (an `organizationId` requirement or the identity cache refusing a session): 401
 * `missing_user_id` / `ambiguous_user_id` / `ambiguous_org_id`, 403 `missing_org_id` / `org_mismatch`.
 */
export type IdentityErrorCode = 'missing_user_id' | 'missing_org_id' | 'org_mismatch' | 'ambiguous_user_id' | 'ambiguous_org_id'

/**
 * `code` of an `Error` the native layer throws for a bad argument: `configureCaches` values and cache names
 * ({@link CacheErrorCode}), an unknown `acceptsToken` value (`invalid_accepts_token`), session claims that are not
 * an object or cannot make an auth object (`invalid_claims`), a value that is not JSON (`invalid_json`), and
 * `internal_error` (not expected).
 */
export type NativeErrorCode = CacheErrorCode | 'invalid_accepts_token' | 'invalid_claims' | 'invalid_json' | 'internal_error'

export interface AuthenticateRequestOptions extends VerifyTokenOptions {
  /** Default `'session_token'`. `'any'`, a type, or a list of types. Machine tokens are read from `Authorization` only. */
  acceptsToken?: TokenType | 'any' | Array<TokenType | 'any'>
  /** Authorizes `mt_` verification (falls back to `secretKey`). Default: env `CLERK_MACHINE_SECRET_KEY`. */
  machineSecretKey?: string
  /**
   * The instance's publishable key (default: env `CLERK_PUBLISHABLE_KEY`). A valid one (`pk_test_` = development,
   * `pk_live_` = production) turns on Clerk's handshake family: document requests that need a session sync get
   * `status: 'handshake'` with a 307 `Location` to the Frontend API, `__clerk_handshake_nonce` is resolved and
   * expired sessions are refreshed through the Backend API, suffixed cookies are read, and development instances
   * need a dev-browser token (`__clerk_db_jwt`). Without one, requests are only signed in or signed out.
   */
  publishableKey?: string
  /** The Frontend API proxy URL (absolute, or a path on this origin); the handshake goes there. Default: env `CLERK_PROXY_URL`. */
  proxyUrl?: string
  /** The satellite's domain (its Frontend API is `clerk.<domain>` in production). Default: env `CLERK_DOMAIN`. */
  domain?: string
  /** This app is a satellite (syncs its session from the primary domain). Default: env `CLERK_IS_SATELLITE`. */
  isSatellite?: boolean
  /** Sign-in URL (a development satellite redirects there to sync). Default: env `CLERK_SIGN_IN_URL`. */
  signInUrl?: string
  /** Reported on the state. Default: env `CLERK_SIGN_UP_URL`. */
  signUpUrl?: string
  /** Reported on the state. */
  afterSignInUrl?: string
  /** Reported on the state. */
  afterSignUpUrl?: string
  /** A satellite syncs on the first document request even without cookies. Default `false`. */
  satelliteAutoSync?: boolean
  /**
   * Activates the organization a path names (Clerk's `organizationSyncOptions`): on a signed-in document request
   * whose active organization differs, a handshake `active-organization-mismatch` with `organization_id`.
   * Patterns are path-to-regexp strings with `:id` or `:slug`.
   */
  organizationSyncOptions?: {
    organizationPatterns?: string[]
    personalAccountPatterns?: string[]
  }
}

/** Parameters of `has()`. */
export interface HasParams {
  role?: string
  permission?: string
  feature?: string
  plan?: string
  reverification?: 'strict_mfa' | 'strict' | 'moderate' | 'lax' | { level: 'first_factor' | 'second_factor' | 'multi_factor'; afterMinutes: number }
}

/** Options of `getToken()` on a session auth object. */
export interface GetTokenOptions {
  /**
   * A JWT template name (Clerk Dashboard → JWT templates): the token is minted by the Backend API
   * (`POST {apiUrl}/v1/sessions/{sessionId}/tokens/{template}`, authorized by `secretKey` / `CLERK_SECRET_KEY`).
   */
  template?: string
  /** Lifetime of a minted token in seconds (sent as `expires_in_seconds`); also mints without a template. */
  expiresInSeconds?: number
}

interface AuthCommon {
  isAuthenticated: boolean
  tokenType: TokenType | null
  /**
   * The request's own token (machine objects: the machine token), `null` when not authenticated. Session objects:
   * with `template` or `expiresInSeconds`, a token minted by the Backend API; rejects with a
   * `ClerkAPIResponseError` (`status`, `errors`, `clerkTraceId`) when the Backend API refuses.
   */
  getToken(options?: GetTokenOptions): Promise<string | null>
  /**
   * Clerk's authorization check (session objects; machine objects always answer `false`): every requested
   * dimension must pass (role and permission; feature and plan; reverification, which fails closed).
   */
  has(params: HasParams): boolean
  /**
   * The authenticate context as Clerk's `createDebug` shows it: the resolved options (keys and tokens cut to
   * their first 7 characters), plus `status`/`reason`/`message` on signed-out objects. See README "debug()".
   */
  debug(): Record<string, unknown>
}

/** The auth object of a session: signed in, or signed out (`userId: null`, e.g. a pending session by default). */
export interface SessionAuthObject extends AuthCommon {
  tokenType: 'session_token'
  userId: string | null
  sessionId: string | null
  sessionStatus: 'active' | 'pending' | null
  actor: Record<string, unknown> | null
  orgId: string | null
  orgRole: string | null
  orgSlug: string | null
  orgPermissions: string[] | null
  factorVerificationAge: [number, number] | null
  features?: string
  plans?: string
  sessionClaims: JwtPayload | null
}

/** Fields every machine auth object has (`null` when not authenticated). */
interface MachineAuthCommon extends AuthCommon {
  id: string | null
  subject: string | null
  scopes: string[] | null
}

/** An API key: `userId`/`orgId` when its subject is a `user_`/`org_` id. */
export interface ApiKeyAuthObject extends MachineAuthCommon {
  tokenType: 'api_key'
  name: string | null
  claims: Record<string, unknown> | null
  userId: string | null
  orgId: string | null
}

/** A machine-to-machine token: `machineId` is its subject. */
export interface M2MAuthObject extends MachineAuthCommon {
  tokenType: 'm2m_token'
  claims: Record<string, unknown> | null
  machineId: string | null
}

/** An OAuth access token: `userId` is its subject (always), `clientId` the OAuth application. */
export interface OAuthAuthObject extends MachineAuthCommon {
  tokenType: 'oauth_token'
  userId: string | null
  clientId: string | null
}

/** The auth object of a machine token. */
export type MachineAuthObject = ApiKeyAuthObject | M2MAuthObject | OAuthAuthObject

/** A token of a type an `acceptsToken` list does not include (Clerk's `invalidTokenAuthObject()`). */
export interface InvalidTokenAuthObject {
  isAuthenticated: false
  tokenType: null
  getToken(): Promise<null>
  has(params: HasParams): false
  debug(): Record<string, never>
}

export type AuthObject = SessionAuthObject | MachineAuthObject | InvalidTokenAuthObject

/** Clerk's RequestState. */
export interface RequestState {
  /** `handshake`: answer with a 307 to `headers.get('location')` (never signed in). */
  status: 'signed-in' | 'signed-out' | 'handshake'
  /**
   * Clerk's reason (signed out, handshake): a token verification reason or e.g. `session-token-and-uat-missing`,
   * `token-type-mismatch`, `session-token-expired-refresh-<refresh error>`, `dev-browser-missing`.
   */
  reason: string | null
  message: string | null
  isSignedIn: boolean
  isAuthenticated: boolean
  token: string | null
  /** `null` on Clerk's invalid-token state (an `acceptsToken` array that refuses the request's token type). */
  tokenType: TokenType | null
  publishableKey: string
  proxyUrl: string
  isSatellite: boolean
  domain: string
  signInUrl: string
  signUpUrl: string
  afterSignInUrl: string
  afterSignUpUrl: string
  /**
   * Clerk's: `x-clerk-auth-status`, `x-clerk-auth-reason`, `x-clerk-auth-message` on signed-out and handshake
   * states; a handshake's `Location`, `Cache-Control: no-store` and `Set-Cookie: __clerk_redirect_count=…`; a
   * resolved handshake's or refresh's `Set-Cookie`s (also on signed-in states). Copy them all onto the response.
   */
  headers: Headers
  /**
   * Clerk's auth object of this state. `treatPendingAsSignedOut` (default `true`): a pending session
   * (`sts: "pending"`, session tasks left) gives the signed-out object with `sessionStatus: 'pending'`; `false`
   * gives the signed-in object. The result is memoised per `treatPendingAsSignedOut` value. On a handshake state it
   * is `null`, as Clerk's (adapters answer the 307 before reading it).
   */
  toAuth(opts?: { treatPendingAsSignedOut?: boolean }): AuthObject | null
}

/**
 * Authenticates a Web `Request`, a Node `IncomingMessage` or a request-like `{ method?, url?, headers }`: the
 * token comes from `Authorization` (`Bearer <t>` or a bare token) or the `__session` cookie (with `__client_uat`;
 * suffixed or not, as Clerk chooses). With a publishable key, Clerk's handshake family applies (see
 * `AuthenticateRequestOptions.publishableKey`). Keys fall back to env `CLERK_SECRET_KEY`, `CLERK_JWT_KEY`,
 * `CLERK_PUBLISHABLE_KEY`, `CLERK_API_URL`, `CLERK_API_VERSION`. Throws Clerk's errors for a satellite without
 * `domain`/`proxyUrl` or (development) `signInUrl`.
 */
export declare function authenticateRequest(
  request: Request | { method?: string; url?: string; headers: Headers | Record<string, string | string[] | undefined> },
  options?: AuthenticateRequestOptions,
): Promise<RequestState>

/**
 * `@clerk/backend`'s `createClerkClient(options)` (the Backend API client: users, organizations, sessions, …) whose
 * `authenticateRequest(request, options)` is clerk-native's, with the client's `secretKey`, `machineSecretKey`,
 * `jwtKey`, `proxyUrl`, `publishableKey`, `isSatellite`, `domain`, `audience` (and `jwksUrl`) merged under each
 * call's options and its `apiUrl`/`apiVersion` always used, as Clerk's. `@clerk/backend` is an optional peer
 * dependency: without it this throws an Error with `code` `missing_peer_dependency` naming the install command.
 */
export declare function createClerkClient(
  options: import('@clerk/backend').ClerkOptions & { jwksUrl?: string },
): import('./express').NativeClerkClient

// ---------------------------------------------------------------------------------------------------------
// Caches. All caches live in Rust, are bounded, and are consulted without a JS call per lookup.

/** Counters of one cache. */
export interface CacheStatsEntry {
  /** Entries held (JWKS: instance scopes). */
  size: number
  capacity: number
  /** Default entry lifetime in ms. */
  ttlMs: number
  hits: number
  misses: number
  inserts: number
  /** Entries removed for capacity or expiry (explicit invalidations and clears are not counted). */
  evictions: number
}

export interface CacheStats {
  /** Remote JWKS keys by (apiUrl or jwksUrl, apiVersion, secret key); adds fetch counters. */
  jwks: CacheStatsEntry & { fetches: number; failures: number }
  /** `oat_` tokens the Backend API answered 404 (10,000 entries, 30 s by default). */
  negative: CacheStatsEntry
  /** Verified session tokens (never served past `exp`; 10,000 entries, 5 min by default). */
  verified: CacheStatsEntry
  /** Apps' resolved users by `org:<orgId>:user:<userId>` (10,000 entries, 5 min; 60 s for tokens without `sid`). */
  identity: CacheStatsEntry
  /** The shared Redis tier's health and counters; absent while it is off (see {@link SharedTierOptions}). */
  shared?: SharedTierStats
}

/** `cacheStats().shared`: health and counters of this process's shared tier. */
export interface SharedTierStats {
  /** The last call reached Redis (false after a failed call, until one succeeds). */
  connected: boolean
  /** The fleet invalidation subscription (`<keyPrefix>invalidate`) is live. */
  subscribed: boolean
  /** Circuit breaker: `open` = Redis is skipped (3 failures in a row), `half-open` = the background health check is probing. */
  breaker: 'closed' | 'open' | 'half-open'
  /** Lookups answered by Redis (negative entries, resolved users). */
  hits: number
  /** Lookups Redis did not answer. */
  misses: number
  /** Failed calls (connection, protocol, unexpected reply) and malformed fleet messages. */
  errors: number
  /** Lookups over `lookupTimeoutMs` (the request went on with local state). */
  timeouts: number
  /** Calls skipped while the breaker was open. */
  skipped: number
  /** Times the breaker opened. */
  breakerOpens: number
  /** Entries written. */
  writes: number
  /** Invalidations sent to the fleet. */
  published: number
  /** Invalidations received from other processes and applied. */
  received: number
  /** `resolveUser` calls that waited for another process's result instead of running. */
  lockWaits: number
  /** The lookup budget in ms. */
  lookupTimeoutMs: number
}

/**
 * `configureCaches({ shared })`: the shared tier on Redis, under the local negative and identity caches, for the
 * whole process. Only hashes are written (the same SHA-256 keys as locally plus the instance scope); `resolveUser`
 * values must be JSON (a value `JSON.stringify` cannot hold is returned as is and cached nowhere).
 */
export interface SharedTierOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS, system roots). Never echoed in errors. */
  url: string
  /** Prefix of every key and of the invalidation channel. Default `'clerk-native:'`. */
  keyPrefix?: string
  /** Budget of one lookup on a local miss, in ms; over it the request goes on with local state. Default 5. */
  lookupTimeoutMs?: number
  /** Lease of the cross-process `resolveUser` lock of one identity, in ms (a dead holder blocks no longer). Default 2000. */
  lockLeaseMs?: number
}

export type CacheName = 'jwks' | 'negative' | 'verified' | 'identity'

/** `code` of a cache-control error: a setting out of range or unknown, or a cache name that does not exist. */
export type CacheErrorCode = 'invalid_cache_option' | 'unknown_cache'

/** Counters and sizes of every cache. */
export declare function cacheStats(): CacheStats

/** Live native work, for leak checks and monitoring. */
export interface NativeStats {
  /**
   * Proxied exchanges whose native task is still running (connecting, uploading or reading the response). It
   * returns to 0 once traffic stops: finished, failed, timed-out and cancelled exchanges all end their task.
   */
  exchangeTasks: number
  /** Native exchange handles not yet released; each is freed when its JS object is garbage-collected. */
  exchangeHandles: number
  /** Tasks alive on the addon's tokio runtime (exchange tasks, pooled upstream connections, key fetches). */
  runtimeTasks: number
}

/** Counters of live native proxy work (see {@link NativeStats}). */
export declare function nativeStats(): NativeStats

/** Clears one cache, or all of them (with the shared tier on: in Redis and in every process of the fleet too). */
export declare function clearCaches(name?: CacheName): void

export interface CacheSettings {
  /** Maximum entries (1 to 10,000,000); shrinking evicts the oldest at once. */
  capacity?: number
  /** Entry lifetime in ms (≥ 1); applies to later inserts. */
  ttlMs?: number
}

/**
 * Changes capacities and lifetimes. Everything is validated before anything changes; bad values throw a TypeError
 * (with `code` {@link CacheErrorCode} when the native validation refuses them).
 */
export declare function configureCaches(options: {
  negative?: CacheSettings
  verified?: CacheSettings
  identity?: CacheSettings & { sidlessTtlMs?: number }
  /** The shared Redis tier (`null` turns it off). */
  shared?: SharedTierOptions | null
}): void

/**
 * The Prometheus text exposition (format 0.0.4; serve it as `text/plain; version=0.0.4`) of clerk-native's
 * counters, every family prefixed `clerk_native_`: proxy requests by outcome and status, upstream latency,
 * verification outcomes by reason, cache hits/misses/inserts/evictions/size per cache and tier, JWKS fetches and
 * failures, Backend API calls and latency, shared-tier health. Counted in Rust; only this call renders.
 * Next to prom-client: `res.end((await register.metrics()) + '\n' + metrics())`.
 */
export declare function metrics(): string

/**
 * Removes a token from the verified and negative caches (under every instance and option set); with the shared
 * tier on, also from Redis and from every process of the fleet (pub/sub, a few ms). Returns how many local entries
 * went. A JWT is matched in every spelling verification accepts for it (with or without trailing `=` padding).
 */
export declare function invalidateToken(token: string): number

/**
 * Removes identity entries: `{ orgId }` every user of that org, `{ userId }` that user in every org, both: that one
 * entry. With the shared tier on, also in Redis and in every process of the fleet. Returns how many local entries went.
 */
export declare function invalidateIdentity(target: { orgId?: string; userId?: string }): number
