import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  DEFAULT_REQUEST_TIMEOUT,
  type ClavisFastifyOptions,
  type ClavisHttpOptions,
  type FastifyReply,
} from './clavis-http.options.js';
import { parseTrustProxy, trustProxyFunction, type TrustProxySetting } from './trust-proxy.js';

/**
 * Options of Nest's `FastifyAdapter` for Clavis (the demo server's HTTP adapter: Fastify, whose
 * per-request cost is a fraction of Express's; figures in docs/adr/0007-hot-path-costs.md).
 * `trustProxy` (TRUST_PROXY) makes `req.ip` the client's address.
 * @example new FastifyAdapter(clavisFastifyOptions())
 */
export function clavisFastifyOptions(opts: ClavisHttpOptions = {}): ClavisFastifyOptions {
  // TRUST_PROXY as a trust function: Fastify ignores a numeric hop count (it fails closed), so
  // every form is handed over as the same function Express gets (ADR 0012).
  const setting = parseTrustProxy(opts.trustProxy);
  const trustProxy = setting ? trustProxyFunction(setting) : undefined;
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
    frameworkErrors: (_error: unknown, _req: unknown, reply: FastifyReply) => {
      void reply
        .code(400)
        .header('cache-control', 'no-store')
        .send({ error: 'invalid_request', error_description: 'the request URL is malformed' });
    },
  };
}

/** Unparseable or too slow requests (bad request line, headers too large, REQUEST_TIMEOUT): a bodiless answer, then close. */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy();
  const status =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? '431 Request Header Fields Too Large'
      : err.code === 'HPE_URI_TOO_LONG'
        ? '414 URI Too Long'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * HTTP hardening of an Express host (optional; on Fastify see clavisFastifyOptions): no `X-Powered-By`, and
 * on Express production mode (its last-resort error pages carry no stack trace), the request timeout.
 * The host's body parsers stay: Clavis reads its own bodies anyway (docs/adr/0018).
 */
export function configureClavisHttp(app: INestApplication, opts: ClavisHttpOptions = {}): void {
  const adapter = app.getHttpAdapter();
  if (opts.maxConnectionsPerAddress)
    limitConnectionsPerAddress(
      app.getHttpServer() as Server,
      opts.maxConnectionsPerAddress,
      parseTrustProxy(opts.trustProxy),
    );
  if (adapter.getType() === 'fastify') {
    return;
  }
  const express = adapter.getInstance();
  const trust = parseTrustProxy(opts.trustProxy);
  if (trust) express.set('trust proxy', trustProxyFunction(trust));
  express.disable('x-powered-by');
  express.set('env', 'production');
  express.set('query parser', 'simple');
  const server = app.getHttpServer() as Server;
  server.requestTimeout = server.headersTimeout = (opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT) * 1000;
}

/**
 * MAX_CONNECTIONS_PER_ADDRESS: one peer address may hold at most `max` open connections (idle
 * keep-alive ones included); a connection beyond that is closed at once, before any byte is read.
 * Peers that are trusted proxies (TRUST_PROXY) are exempt: every client behind them shares their
 * address, and the proxy bounds its own connections. ADR 0012.
 */
export function limitConnectionsPerAddress(server: Server, max: number, trust?: TrustProxySetting): void {
  const trusted = trust ? trustProxyFunction(trust) : undefined;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address === undefined || trusted?.(address, 0)) return;
    const count = open.get(address) ?? 0;
    if (count >= max) return void socket.destroy();
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
