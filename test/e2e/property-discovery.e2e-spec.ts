import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyText, expectSafe, fcParams, headerSafe, propertyTimeout, send } from '../support/property.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Property-based tests of the public documents (RFC 8414 metadata, JWK Set) and of everything
 * around them: random query strings, headers, methods and paths. Never a 5xx or a stack trace;
 * GET answers the same document whatever the query or headers; other methods and paths are 404 JSON.
 */
const RUNS = { documents: 120, paths: 150 };
const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'PROPFIND',
  'SEARCH',
  'LOCK',
  'MKCOL',
  'PURGE',
  'REPORT',
];

describe('property: /.well-known/oauth-authorization-server, /jwks and random paths', () => {
  let t: TestApp;
  let metadata: unknown;
  let jwks: unknown;

  beforeAll(async () => {
    t = await createTestApp();
    metadata = (await send(`${t.baseUrl}/.well-known/oauth-authorization-server`)).json;
    jwks = (await send(`${t.baseUrl}/jwks`)).json;
  });
  afterAll(() => t.close());

  const randomHeaders = fc.dictionary(
    fc.constantFrom(
      'accept',
      'accept-encoding',
      'accept-language',
      'if-none-match',
      'if-modified-since',
      'range',
      'origin',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-http-method-override',
      'authorization',
      'content-type',
      'cookie',
      'forwarded',
      'x-original-url',
    ),
    fc.oneof(
      anyText(60).map(headerSafe),
      fc.constantFrom(
        '*',
        '*/*',
        'application/json',
        'text/html',
        'bytes=0-1',
        'bytes=-1',
        'gzip, br',
        'W/"x"',
        'DELETE',
        'Bearer x',
        '127.0.0.1',
        'https',
        'evil.example',
      ),
    ),
    { maxKeys: 5 },
  );
  const query = fc.oneof(
    fc.constant(''),
    fc.array(fc.tuple(anyText(20), anyText(40)), { maxLength: 6 }).map((e) => `?${new URLSearchParams(e).toString()}`),
    fc.constantFrom(
      '?',
      '?%',
      '?%E0%A4%A',
      '?a[b]=c',
      '?a[__proto__][x]=1',
      '?__proto__=1',
      '?a=1&a=2',
      '?#',
      `?${'x'.repeat(8_000)}`,
    ),
  );

  it(
    'GET/HEAD of the metadata and the JWK Set with random queries and headers: always the same document (or 304), never a 5xx; other methods → 404 JSON',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('/.well-known/oauth-authorization-server', '/jwks'),
          fc.constantFrom(...METHODS),
          query,
          randomHeaders,
          async (path, method, q, headers) => {
            const res = await send(`${t.baseUrl}${path}${q}`, {
              method,
              headers,
              body: method === 'GET' || method === 'HEAD' ? undefined : 'x=1',
            });
            expectSafe(res, { method });
            if (method === 'GET' || method === 'HEAD') {
              expect([200, 304], res.text).toContain(res.status);
              if (method === 'GET' && res.status === 200) expect(res.json).toEqual(path === '/jwks' ? jwks : metadata);
              expect(res.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
            } else {
              expect(res.status).toBe(404);
              if (method !== 'OPTIONS') expect(res.json).toMatchObject({ statusCode: 404 });
            }
          },
        ),
        fcParams(RUNS.documents),
      );
    },
    propertyTimeout(RUNS.documents),
  );

  it(
    'random paths and methods (below the documents, the endpoints and the root; dot segments, broken escapes, long paths): never a 5xx or a stack trace',
    async () => {
      const segment = fc.oneof(
        anyText(30).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '?'))),
        fc.constantFrom(
          '',
          '.',
          '..',
          '%2e',
          '%2e%2e',
          '%2F',
          '%00',
          '%',
          '%zz',
          '%E0%A4%A',
          '%C0%AF',
          '%FF',
          ';x=1',
          'jwks',
          'token',
          'register',
          '.well-known',
          'oauth-authorization-server',
          'openid-configuration',
          '*',
          '~',
          '@',
          '%5C..%5C',
        ),
        fc.integer({ min: 100, max: 12_000 }).map((n) => 'a'.repeat(n)),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(
            '',
            '/.well-known',
            '/.well-known/oauth-authorization-server',
            '/jwks',
            '/token',
            '/introspect',
            '/revoke',
            '/register',
            '/statements',
          ),
          fc.array(segment, { minLength: 1, maxLength: 4 }),
          fc.constantFrom(...METHODS),
          randomHeaders,
          async (base, segments, method, headers) => {
            const url = `${t.baseUrl}${base}/${segments.join('/')}`;
            const res = await send(url, { method, headers, body: ['GET', 'HEAD'].includes(method) ? undefined : '{}' });
            if (res.status === 431 || res.status === 414) {
              // Node's limit on the request line + headers (16 KiB, no body), or Fastify's on one path parameter (8 KiB, JSON).
              expect(res.text === '' || res.isJson, res.text.slice(0, 200)).toBe(true);
              expect(res.text).not.toMatch(/\bat .*\.(js|ts):\d+|node_modules/);
              return;
            }
            expect(res.status, `${method} ${url.slice(0, 200)}: ${res.text.slice(0, 200)}`).toBeLessThan(500);
            expect(res.text).not.toMatch(/\bat .*\.(js|ts):\d+|node_modules/);
            if (method !== 'HEAD' && method !== 'OPTIONS' && res.status !== 204 && res.status !== 304)
              expect(res.isJson, res.text.slice(0, 200)).toBe(true);
          },
        ),
        fcParams(RUNS.paths),
      );
    },
    propertyTimeout(RUNS.paths),
  );
});
