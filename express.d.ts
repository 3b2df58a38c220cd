import type { IncomingMessage, ServerResponse } from 'http'
import type { FrontendApiProxyOptions } from './index'

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

export interface ClerkMiddlewareOptions extends Omit<FrontendApiProxyOptions, 'proxyPath'> {
  /**
   * Requests under `path` are streamed to Clerk's Frontend API before authentication (every method with a
   * body, every Set-Cookie kept). Mount `clerkMiddleware` before body parsers.
   */
  frontendApiProxy?: FrontendApiProxyConfig
}

/**
 * `@clerk/express`-compatible middleware. The proxy branch runs first; requests it does not handle continue
 * with `next()`. (Authentication is not part of this release yet.)
 */
export declare function clerkMiddleware(options?: ClerkMiddlewareOptions): RequestHandler

export interface FrontendApiProxyMiddlewareOptions extends Omit<FrontendApiProxyOptions, 'proxyPath'> {
  /** Default `true`. */
  enabled?: boolean | ShouldProxyFn
  /** Mount path. Default `'/__clerk'`. */
  path?: string
}

/** The Frontend API proxy alone, as a middleware. */
export declare function frontendApiProxy(options?: FrontendApiProxyMiddlewareOptions): RequestHandler
