import type { INestApplication } from '@nestjs/common';
import type { Duplex } from 'node:stream';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { DEFAULT_REQUEST_TIMEOUT } from './config/app-config.js';

/**
 * The HTTP adapter of the demo server: Fastify. Measured on this machine kind (one pinned core),
 * a bare Nest route costs ~61 µs per request on Fastify and ~330 µs on Express — more than all
 * of the token endpoint's own work. `trustProxy` (TRUST_PROXY) makes `req.ip` the client's address.
 */
export function createHttpAdapter(opts: { trustProxy?: string; requestTimeout?: number } = {}): FastifyAdapter {
  // Fastify's trustProxy: true, a hop count, or addresses/CIDRs (comma-separated).
  const raw = opts.trustProxy;
  const trustProxy = raw === undefined ? undefined : raw === 'true' ? true : /^\d+$/.test(raw) ? (Number(raw) as unknown as string) : raw.split(',').map((s) => s.trim());
  // A client gets REQUEST_TIMEOUT seconds to send its whole request, headers and body: one that
  // trickles bytes (slowloris, a body that never comes) is answered 408 and disconnected instead of
  // holding a socket. Node enforces it on a sweep, run every second here (its default: 30 s).
  const requestTimeoutMs = (opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT) * 1000;
  return new FastifyAdapter({
    requestTimeout: requestTimeoutMs,
    http: { headersTimeout: requestTimeoutMs, connectionsCheckingInterval: 1000 },
    trustProxy,
    routerOptions: { maxParamLength: 8192 },
    clientErrorHandler: answerClientError,
    // A malformed percent-encoding in the path: an RFC 6749-shaped 400, like every other bad request.
    frameworkErrors: (_error: unknown, _req: unknown, reply: FastifyReply) => {
      void reply.code(400).header('cache-control', 'no-store').send({ error: 'invalid_request', error_description: 'the request URL is malformed' });
    },
  });
}

const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/;

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
 * HTTP hardening shared by the server and the tests: nothing parses request bodies before Clavis
 * does (it enforces content types, sizes and repeated parameters itself), no `X-Powered-By`, and
 * on Express production mode (its last-resort error pages carry no stack trace).
 */
export function configureHttp(app: INestApplication, opts: { trustProxy?: string } = {}): void {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    const fastify = adapter.getInstance();
    // Leave every body unread: Clavis's controllers read the raw stream themselves.
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', (_req: unknown, _payload: unknown, done: (err: null) => void) => done(null));
    // Fastify answers a missing, empty or malformed Content-Type with its own 415 before any route
    // runs. Reduce it to its essence (Clavis ignores parameters; bodies are UTF-8), or to
    // application/octet-stream, so that the route's own validation answers with a proper error body.
    fastify.addHook('onRequest', (req: { headers: Record<string, string | string[] | undefined> }, _reply: unknown, done: () => void) => {
      const value = req.headers['content-type'];
      const essence = typeof value === 'string' ? value.split(';')[0].trim().toLowerCase() : '';
      req.headers['content-type'] = MEDIA_TYPE.test(essence) ? essence : 'application/octet-stream';
      done();
    });
    return;
  }
  const express = adapter.getInstance();
  if (opts.trustProxy) express.set('trust proxy', /^\d+$/.test(opts.trustProxy) ? Number(opts.trustProxy) : opts.trustProxy);
  express.disable('x-powered-by');
  express.set('env', 'production');
  express.set('query parser', 'simple');
}
