import type { Duplex } from 'node:stream';

/** The default request timeout of the HTTP helpers, in seconds (REQUEST_TIMEOUT's in the demo). */
export const DEFAULT_REQUEST_TIMEOUT = 10;

/** Options of `clavisFastifyOptions()` and `configureClavisHttp()`. */
export interface ClavisHttpOptions {
  /** Which proxies to trust for `req.ip` (rate limits): `'true'`, a hop count, or addresses/CIDRs, comma-separated. Default: none. */
  trustProxy?: string;
  /** Seconds a client gets to send its whole request, headers and body; a slower one gets 408 and is disconnected. Default 10. */
  requestTimeout?: number;
}

/** What `clavisFastifyOptions()` returns: options of Nest's `FastifyAdapter` (Fastify's server options). */
export interface ClavisFastifyOptions {
  requestTimeout: number;
  http: { headersTimeout: number; connectionsCheckingInterval: number };
  trustProxy?: boolean | string | string[];
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
