import { request as httpRequest } from 'node:http';
import { Body, Controller, Post } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, expectOAuthError, postForm } from '../support/http.js';
import { expectRegistrationError, jsonRequest } from '../support/registration.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/** A route of the host application, relying on its own body parser. */
@Controller('host')
class HostController {
  @Post('echo')
  echo(@Body() body: unknown): unknown {
    return { received: body ?? null };
  }
}

const FORM = 'application/x-www-form-urlencoded';
const paddedTokenBody = (bytes: number) => {
  const head = 'grant_type=client_credentials&pad=';
  return head + 'x'.repeat(bytes - head.length);
};

/** One POST with node:http: a chosen body and headers (no Content-Type when none is given), optionally chunked. */
function rawPost(
  url: string,
  headers: Record<string, string>,
  chunks: string[],
): Promise<{ status: number; headers: Record<string, unknown>; text: string; json: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

/**
 * A host that keeps Nest's default body parsing (`NestFactory.create(AppModule)`: JSON and
 * urlencoded parsers on every route), on Fastify and on Express: Clavis's endpoints keep their own
 * limits and RFC error shapes, and the host's own JSON route keeps working. With `bodyParser: false`
 * the same answers (docs/adr/0018).
 */
describe.each([
  ['fastify', 'on'],
  ['express', 'on'],
  ['fastify', 'off'],
  ['express', 'off'],
] as const)('a %s host with its body parser %s', (adapter, bodyParser) => {
  let t: TestApp;
  let client: { clientId: string; clientSecret: string; registrationAccessToken: string };
  let iat: string;

  beforeAll(async () => {
    t = await createTestApp({ adapter, bodyParser, hostControllers: [HostController] });
    client = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    iat = (await t.initialTokens.create()).token;
  });
  afterAll(() => t?.close());
  const auth = () => basic(client.clientId, client.clientSecret);

  it('a 20 KB token request → 413 invalid_request (the limit is 16 KiB)', async () => {
    const res = await postForm(t.tokenEndpoint, { grant_type: 'client_credentials', pad: 'x'.repeat(20_000) }, auth());
    expectOAuthError(res, 413, 'invalid_request');
    expect(res.json.error_description).toBe('the request body exceeds 16384 bytes');
  });

  it('a chunked 20 KB token request without Content-Length → 413 invalid_request', async () => {
    const res = await rawPost(t.tokenEndpoint, { 'content-type': FORM, ...auth() }, [
      'grant_type=client_credentials&pad=',
      ...Array.from({ length: 20 }, () => 'x'.repeat(1_024)),
    ]);
    expect({ status: res.status, body: res.json }).toEqual({
      status: 413,
      body: { error: 'invalid_request', error_description: 'the request body exceeds 16384 bytes' },
    });
  });

  it("a 2 MiB token request (past the host parser's own limit) → 413 invalid_request, not the framework's error", async () => {
    const res = await postForm(
      t.tokenEndpoint,
      { grant_type: 'client_credentials', pad: 'x'.repeat(2 * 1_048_576) },
      auth(),
    );
    expectOAuthError(res, 413, 'invalid_request');
  });

  it('exactly 16 KiB still gets a token', async () => {
    const res = await rawPost(t.tokenEndpoint, { 'content-type': FORM, ...auth() }, [paddedTokenBody(16_384)]);
    expect(res.status, res.text).toBe(200);
    expect(typeof res.json.access_token).toBe('string');
  });

  it('a repeated parameter → 400 invalid_request naming it', async () => {
    const res = await postForm(
      t.tokenEndpoint,
      [
        ['grant_type', 'client_credentials'],
        ['scope', 'statements:read'],
        ['scope', 'statements:read'],
      ],
      auth(),
    );
    expectOAuthError(res, 400, 'invalid_request');
    expect(res.json.error_description).toBe('parameter scope is repeated');
  });

  it('a bracketed parameter name is just an unknown parameter (no nested parsing)', async () => {
    const res = await postForm(
      t.tokenEndpoint,
      [
        ['grant_type', 'client_credentials'],
        ['scope[a]', 'b'],
      ],
      auth(),
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json.scope).toBe('statements:read');
  });

  it('a token request without Content-Type → 400 invalid_request (not a framework 415)', async () => {
    const res = await rawPost(t.tokenEndpoint, { ...auth(), 'content-length': '29' }, [
      'grant_type=client_credentials',
    ]);
    expect({ status: res.status, error: res.json?.error }).toEqual({ status: 400, error: 'invalid_request' });
  });

  it('a JSON token request → 400 invalid_request', async () => {
    const res = await rawPost(t.tokenEndpoint, { 'content-type': 'application/json', ...auth() }, [
      '{"grant_type":"client_credentials"}',
    ]);
    expect({ status: res.status, body: res.json }).toEqual({
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'the request body must be application/x-www-form-urlencoded',
      },
    });
  });

  it('malformed registration JSON → 400 invalid_client_metadata', async () => {
    const res = await jsonRequest(`${t.baseUrl}/register`, {
      method: 'POST',
      rawBody: '{"client_name": "x",',
      token: iat,
    });
    expectRegistrationError(res, 400, 'invalid_client_metadata');
    expect(res.json.error_description).toBe('the request body is not valid JSON');
  });

  it("a registration body over 64 KiB (under the host parser's limit) → 400 invalid_client_metadata", async () => {
    const res = await jsonRequest(`${t.baseUrl}/register`, {
      method: 'POST',
      rawBody: JSON.stringify({ client_name: 'x', x_pad: 'p'.repeat(70_000) }),
      token: iat,
    });
    expectRegistrationError(res, 400, 'invalid_client_metadata');
    expect(res.json.error_description).toBe('the request body exceeds 65536 bytes');
  });

  it('PUT /register/:id with malformed JSON → 400 invalid_client_metadata', async () => {
    const res = await jsonRequest(`${t.baseUrl}/register/${client.clientId}`, {
      method: 'PUT',
      rawBody: '[1,',
      token: client.registrationAccessToken,
    });
    expectRegistrationError(res, 400, 'invalid_client_metadata');
  });

  it('a well-formed registration → 201', async () => {
    const res = await jsonRequest(`${t.baseUrl}/register`, {
      method: 'POST',
      body: { client_name: 'host', token_endpoint_auth_method: 'client_secret_basic' },
      token: iat,
    });
    expect(res.status, res.text).toBe(201);
  });

  // Only where the host parses bodies (a declared variant, not a skip).
  if (bodyParser === 'on')
    it("the host's own JSON and form routes keep its parser", async () => {
      const json = await fetch(`${t.baseUrl}/host/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hello: 'host', n: [1, 2] }),
      });
      expect({ status: json.status, body: await json.json() }).toEqual({
        status: 201,
        body: { received: { hello: 'host', n: [1, 2] } },
      });
      const form = await fetch(`${t.baseUrl}/host/echo`, {
        method: 'POST',
        headers: { 'content-type': FORM },
        body: 'a=1&b=2',
      });
      expect({ status: form.status, body: await form.json() }).toEqual({
        status: 201,
        body: { received: { a: '1', b: '2' } },
      });
    });
});
