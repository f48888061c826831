import type { INestApplication } from '@nestjs/common';
import type { Duplex } from 'node:stream';
import type { Server } from 'node:http';

/** The default request timeout of the HTTP helpers, in seconds. */
export const DEFAULT_REQUEST_TIMEOUT = 10;

/** Options of {@link clavisFastifyOptions} and {@link configureClavisHttp}. */
export interface ClavisHttpOptions {
  /**
   * Seconds a client gets to send its whole request, headers and body; a slower one (slowloris, a
   * body that never comes) is answered 408 and disconnected. Default 10.
   */
  requestTimeout?: number;
  /**
   * Which proxies to trust for the client's address (`req.ip`, used by rate limits): `'true'`, a
   * hop count (`'1'`), or addresses/CIDRs separated by commas. Default: none.
   */
  trustProxy?: string;
}

/**
 * Options for Nest's `FastifyAdapter` that Clavis's endpoints rely on: a request timeout (Fastify
 * has none by default), bodiless 400/408/414/431 answers to unparseable or too slow requests, an
 * RFC 6749-shaped 400 for a malformed URL, and route parameters long enough for any client id.
 * Nothing here touches the host's body parsing: Clavis reads its own bodies (docs/adr/0018).
 * @example
 * const app = await NestFactory.create(AppModule, new FastifyAdapter(clavisFastifyOptions()));
 */
export function clavisFastifyOptions(opts: ClavisHttpOptions = {}) {
  // Fastify's trustProxy: true, a hop count, or addresses/CIDRs (comma-separated).
  const raw = opts.trustProxy;
  const trustProxy = raw === undefined ? undefined : raw === 'true' ? true : /^\d+$/.test(raw) ? (Number(raw) as unknown as string) : raw.split(',').map((s) => s.trim());
  // A client gets REQUEST_TIMEOUT seconds to send its whole request, headers and body: one that
  // trickles bytes (slowloris, a body that never comes) is answered 408 and disconnected instead of
  // holding a socket. Node enforces it on a sweep, run every second here (its default: 30 s).
  const requestTimeoutMs = (opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT) * 1000;
  return {
    requestTimeout: requestTimeoutMs,
    http: { headersTimeout: requestTimeoutMs, connectionsCheckingInterval: 1000 },
    trustProxy,
    routerOptions: { maxParamLength: 8192 },
    clientErrorHandler: answerClientError,
    // A malformed percent-encoding in the path: an RFC 6749-shaped 400, like every other bad request.
    frameworkErrors: (_error: unknown, _req: unknown, reply: { code(status: number): { header(name: string, value: string): { send(...body: never[]): unknown } } }) => {
      void reply.code(400).header('cache-control', 'no-store').send(...([{ error: 'invalid_request', error_description: 'the request URL is malformed' }] as never[]));
    },
  };
}

/** Unparseable or too slow requests (bad request line, headers too large, REQUEST_TIMEOUT): a bodiless answer, then close. */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy();
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
    : err.code === 'HPE_URI_TOO_LONG' ? '414 URI Too Long'
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout'
    : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Optional hardening of the host's HTTP server, for Express what {@link clavisFastifyOptions} is
 * for Fastify: the request timeout, the proxies to trust, no `X-Powered-By`, and production mode (Express's last-resort error
 * pages then carry no stack trace). It leaves the host's
 * body parsers alone (Clavis reads its own bodies without it) and does nothing on Fastify, whose
 * settings are constructor options.
 * @example
 * const app = await NestFactory.create(AppModule);
 * configureClavisHttp(app, { requestTimeout: 10 });
 */
export function configureClavisHttp(app: INestApplication, opts: ClavisHttpOptions = {}): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() !== 'express') return;
  const express = adapter.getInstance();
  if (opts.trustProxy) express.set('trust proxy', /^\d+$/.test(opts.trustProxy) ? Number(opts.trustProxy) : opts.trustProxy === 'true' ? true : opts.trustProxy);
  express.disable('x-powered-by');
  // Express's last-resort error pages (a malformed URL, say) carry a stack trace outside production.
  express.set('env', 'production');
  const server = app.getHttpServer() as Server;
  const requestTimeoutMs = (opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT) * 1000;
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = requestTimeoutMs;
}
