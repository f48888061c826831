import type { Duplex } from 'node:stream';

/** The default request timeout of the HTTP helpers, in seconds (REQUEST_TIMEOUT's in the demo). */
export const DEFAULT_REQUEST_TIMEOUT = 10;

/** Options of `clavisFastifyOptions()` and `configureClavisHttp()`. */
export interface ClavisHttpOptions {
  /**
   * Which `X-Forwarded-For` hops to believe for `req.ip` (rate limits): comma-separated addresses/CIDRs
   * (or `loopback`, `linklocal`, `uniquelocal`), a hop count 1–32, or `'true'`. Same meaning on Fastify
   * and Express; any other value throws. Default: none.
   */
  trustProxy?: string;
  /** `configureClavisHttp()`: at most this many open connections per peer address (trusted proxies exempt), on either adapter; 0/undefined = no cap. */
  maxConnectionsPerAddress?: number;
  /** Seconds a client gets to send its whole request, headers and body; a slower one gets 408 and is disconnected. Default 10. */
  requestTimeout?: number;
}

/** What `clavisFastifyOptions()` returns: options of Nest's `FastifyAdapter` (Fastify's server options). */
export interface ClavisFastifyOptions {
  requestTimeout: number;
  http: { headersTimeout: number; connectionsCheckingInterval: number };
  trustProxy?: (address: string, hop: number) => boolean;
  routerOptions: { maxParamLength: number };
  clientErrorHandler: (error: Error & { code?: string }, socket: Duplex) => void;
  frameworkErrors: (...args: any[]) => void;
}

/** The part of Fastify's reply the helpers use (this package does not depend on Fastify). */
export interface FastifyReply {
  code(status: number): FastifyReply;
  header(name: string, value: string): FastifyReply;
  send(payload: unknown): unknown;
}
