import type { NestExpressApplication } from '@nestjs/platform-express';

/**
 * HTTP hardening shared by the server and the tests: no `X-Powered-By`, Express in production
 * mode (its last-resort error pages carry no stack trace), and nothing parses bodies before
 * Clavis does (it enforces content types, sizes and duplicate parameters itself).
 */
export function configureHttp(app: NestExpressApplication, opts: { trustProxy?: string } = {}): void {
  const express = app.getHttpAdapter().getInstance();
  if (opts.trustProxy) express.set('trust proxy', /^\d+$/.test(opts.trustProxy) ? Number(opts.trustProxy) : opts.trustProxy);
  express.disable('x-powered-by');
  express.set('env', 'production');
  express.set('query parser', 'simple');
}
