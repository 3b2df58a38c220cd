/**
 * clerk-native: a fast, hardened native core for Clerk backends.
 *
 * This entry exposes the Frontend API proxy (a drop-in for `@clerk/backend/proxy`).
 * Framework adapters live in `clerk-native/express` and `clerk-native/next`.
 */

/** `'/__clerk'` */
export declare const DEFAULT_PROXY_PATH: '/__clerk'

/** Error codes of proxy failures (`errors[0].code` of a JSON error response). */
export type ProxyErrorCode = 'proxy_configuration_error' | 'proxy_path_mismatch' | 'proxy_request_failed'

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
  /** Milliseconds a request or response body may move no byte before both sides are aborted. Default 30000; 0 disables. */
  idleTimeoutMs?: number
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

/** Node-native proxy call (what the Express adapter uses). Never rejects for proxy failures (JSON error responses). */
export declare function proxyRequest(init: ProxyRequestInit, options?: FrontendApiProxyOptions): Promise<ProxyResponse>

/** A body that failed after the response head was sent. */
export declare class ProxyBodyError extends Error {
  readonly name: 'ProxyBodyError'
  /** `proxy_body_idle_timeout` | `proxy_upstream_body_error` | `proxy_cancelled` */
  readonly code: 'proxy_body_idle_timeout' | 'proxy_upstream_body_error' | 'proxy_cancelled'
}

/**
 * A proxy bound to one option set; keys and environment are resolved once, at construction.
 * Throws a `TypeError` for options of the wrong type. All instances share one upstream connection pool.
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
