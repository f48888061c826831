import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { basic, expectOAuthError, postForm } from '../support/http.js';
import { rawJws } from '../support/jws.js';
import { assertion, generateKey, JWT_BEARER, type TestKey } from '../support/keys.js';
import { nextId } from '../support/property.js';
import {
  expectRegistrationError,
  jsonRequest,
  registrationApi,
  startJwksServer,
  tokenWithAssertion,
  type JwksServer,
} from '../support/registration.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * The server's limits, each answered with a clear 4xx (README "Limits"):
 *
 * | what                                   | limit            | answer                                   |
 * |----------------------------------------|------------------|------------------------------------------|
 * | /token, /introspect, /revoke body      | 16 KiB (16 384 B)| 413 invalid_request                      |
 * | /register, PUT /register/:id body      | 64 KiB (65 536 B)| 400 invalid_client_metadata              |
 * | form parameters (incl. empty/repeated) | 32               | 400 invalid_request                      |
 * | one parameter                          | body limit only  | the parameter's own error (no 5xx)       |
 * | client_assertion                       | 8 192 chars      | 401 invalid_client                       |
 * | keys in a registered jwks              | 16               | 400 invalid_client_metadata              |
 * | registration JSON nesting              | 16 levels        | 400 invalid_client_metadata              |
 * | jwks_uri response                      | 64 KiB, 16 keys  | 401 invalid_client at the token endpoint |
 * | jwks_uri fetch time (JWKS_FETCH_TIMEOUT)| 5 s (here 1 s)  | 401 invalid_client at the token endpoint |
 * | request line + headers (Node)          | 16 KiB           | 431 from Node, no body                   |
 */
const FORM = 'application/x-www-form-urlencoded';

/** One request with node:http: a body sent in chunks without Content-Length, or with one. */
function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; chunks?: (string | Buffer)[]; path?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path: opts.path ?? u.pathname + u.search,
        method: opts.method ?? 'POST',
        headers: opts.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    (async () => {
      for (const c of opts.chunks ?? []) {
        if (req.destroyed) return;
        req.write(c);
        await new Promise((r) => setImmediate(r));
      }
      req.end();
    })().catch(reject);
  });
}

const noStack = (text: string) => expect(text).not.toMatch(/\bat .*\.(js|ts):\d+|node_modules/);

describe('limits', () => {
  let t: TestApp;
  let client: { clientId: string; clientSecret: string };
  let key: TestKey;
  let pkClient: { clientId: string };
  const servers: JwksServer[] = [];

  beforeAll(async () => {
    t = await createTestApp({ env: { JWKS_FETCH_TIMEOUT: '1' } });
    key = await generateKey('ES256');
    client = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    pkClient = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  afterAll(() => t.close());

  const auth = () => basic(client.clientId, client.clientSecret);
  /** grant_type=client_credentials padded with an ignored parameter to exactly `bytes` bytes. */
  const paddedTokenBody = (bytes: number) => {
    const head = 'grant_type=client_credentials&pad=';
    return head + 'x'.repeat(bytes - head.length);
  };

  describe('request body size of /token, /introspect, /revoke: 16 KiB → 413 invalid_request', () => {
    it('exactly 16 384 bytes is accepted', async () => {
      const body = paddedTokenBody(16_384);
      expect(Buffer.byteLength(body)).toBe(16_384);
      const res = await rawRequest(t.tokenEndpoint, {
        headers: { 'content-type': FORM, 'content-length': String(body.length), ...auth() },
        chunks: [body],
      });
      expect(res.status, res.text).toBe(200);
      expect(typeof res.json.access_token).toBe('string');
    });

    it('16 385 bytes (with Content-Length) → 413 invalid_request', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials', pad: 'x'.repeat(16_385 - 'grant_type=client_credentials&pad='.length) },
        auth(),
      );
      expectOAuthError(res, 413, 'invalid_request');
      expect(res.json.error_description).toBe('the request body exceeds 16384 bytes');
    });

    it('a chunked body without Content-Length that grows past 16 KiB → 413; the connection keeps working', async () => {
      const res = await rawRequest(t.tokenEndpoint, {
        headers: { 'content-type': FORM, ...auth() },
        chunks: ['grant_type=client_credentials&pad=', ...Array.from({ length: 40 }, () => 'x'.repeat(1_024))],
      });
      expect(res.status).toBe(413);
      expect(res.json).toEqual({ error: 'invalid_request', error_description: 'the request body exceeds 16384 bytes' });
      expect(res.headers['cache-control']).toBe('no-store');
      expect((await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, auth())).status).toBe(200);
    });

    it('a 1 MiB body is refused (413) without reading it all, and the server stays up', async () => {
      const started = Date.now();
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials', pad: 'x'.repeat(1_048_576) },
        auth(),
      );
      expectOAuthError(res, 413, 'invalid_request');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, auth())).status).toBe(200);
    });

    it.each(['introspect', 'revoke'])('/%s: 16 385 bytes → 413 invalid_request', async (endpoint) => {
      const res = await postForm(`${t.baseUrl}/${endpoint}`, { token: 'x'.repeat(16_385) }, auth());
      expectOAuthError(res, 413, 'invalid_request');
    });
  });

  describe('request body size of /register: 64 KiB → 400 invalid_client_metadata', () => {
    /** {"client_name":"limit","x_pad":"ppp…"} of exactly `bytes` bytes. */
    const paddedJson = (bytes: number) => {
      const empty = JSON.stringify({ client_name: 'limit', x_pad: '' });
      return JSON.stringify({ client_name: 'limit', x_pad: 'p'.repeat(bytes - empty.length) });
    };
    let iat: string;
    beforeAll(async () => {
      iat = (await t.initialTokens.create()).token;
    });
    const register = (raw: string) =>
      jsonRequest(`${t.baseUrl}/register`, { method: 'POST', rawBody: raw, token: iat });

    it('exactly 65 536 bytes is accepted (201)', async () => {
      const raw = paddedJson(65_536);
      expect(Buffer.byteLength(raw)).toBe(65_536);
      const res = await register(raw);
      expect(res.status, res.text).toBe(201);
    });

    it('65 537 bytes → 400 invalid_client_metadata', async () => {
      const res = await register(paddedJson(65_537));
      expectRegistrationError(res, 400, 'invalid_client_metadata');
      expect(res.json.error_description).toBe('the request body exceeds 65536 bytes');
    });

    it('a chunked body without Content-Length past 64 KiB → 400; 8 MiB → 400 without a hang', async () => {
      const res = await rawRequest(`${t.baseUrl}/register`, {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${iat}` },
        chunks: ['{"client_name":"x","pad":"', ...Array.from({ length: 80 }, () => 'p'.repeat(1_024)), '"}'],
      });
      expect({ status: res.status, body: res.json }).toEqual({
        status: 400,
        body: { error: 'invalid_client_metadata', error_description: 'the request body exceeds 65536 bytes' },
      });
      const started = Date.now();
      const big = await register(`{"pad":"${'p'.repeat(8 * 1_048_576)}"}`);
      expectRegistrationError(big, 400, 'invalid_client_metadata');
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    it('PUT /register/:id: over 64 KiB → 400 invalid_client_metadata', async () => {
      const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
      const res = await jsonRequest(`${t.baseUrl}/register/${c.clientId}`, {
        method: 'PUT',
        rawBody: paddedJson(70_000),
        token: c.registrationAccessToken,
      });
      expectRegistrationError(res, 400, 'invalid_client_metadata');
    });

    it('nesting deeper than 16 levels → 400 invalid_client_metadata (not a stack overflow)', async () => {
      const nested = (depth: number) => `{"x_custom":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      expect((await register(nested(15))).status).toBe(201);
      expectRegistrationError(await register(nested(16)), 400, 'invalid_client_metadata');
      expectRegistrationError(await register(nested(20_000)), 400, 'invalid_client_metadata');
    });
  });

  describe('number of form parameters: more than 32 → 400 invalid_request', () => {
    const withExtra = (n: number, name = (i: number) => `x${i}`, value = 'v') =>
      [['grant_type', 'client_credentials'], ...Array.from({ length: n }, (_, i) => [name(i), value])] as [
        string,
        string,
      ][];

    it('32 parameters are accepted', async () => {
      expect((await postForm(t.tokenEndpoint, withExtra(31), auth())).status).toBe(200);
    });
    it('33 parameters → 400 invalid_request', async () => {
      expectOAuthError(await postForm(t.tokenEndpoint, withExtra(32), auth()), 400, 'invalid_request');
    });
    it('empty values count too (33 → 400); 2 000 parameters → 400', async () => {
      expectOAuthError(
        await postForm(
          t.tokenEndpoint,
          withExtra(32, (i) => `e${i}`, ''),
          auth(),
        ),
        400,
        'invalid_request',
      );
      expectOAuthError(
        await postForm(
          t.tokenEndpoint,
          withExtra(2_000, (i) => `p${i}`, ''),
          auth(),
        ),
        400,
        'invalid_request',
      );
    });
    it('a repeated multi-valued parameter (resource) counts each time: 33 → 400', async () => {
      expectOAuthError(
        await postForm(
          t.tokenEndpoint,
          withExtra(32, () => 'resource', 'https://api.example/'),
          auth(),
        ),
        400,
        'invalid_request',
      );
    });
    it.each(['introspect', 'revoke'])('/%s: 33 parameters → 400 invalid_request', async (endpoint) => {
      const params = [['token', 'x'], ...Array.from({ length: 32 }, (_, i) => [`x${i}`, 'v'])] as [string, string][];
      expectOAuthError(await postForm(`${t.baseUrl}/${endpoint}`, params, auth()), 400, 'invalid_request');
    });
  });

  describe('parameter length: a 10 KB value gets the error of that parameter, never a 5xx', () => {
    const big = 'a'.repeat(10_000);
    it('scope → 400 invalid_scope', async () => {
      expectOAuthError(
        await postForm(t.tokenEndpoint, { grant_type: 'client_credentials', scope: big }, auth()),
        400,
        'invalid_scope',
      );
    });
    it('a 10 KB scope of registered tokens is just that scope (200)', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials', scope: 'statements:read '.repeat(625) },
        auth(),
      );
      expect(res.status).toBe(200);
      expect(res.json.scope).toBe('statements:read');
    });
    it('client_id (client_secret_post) → 401 invalid_client', async () => {
      expectOAuthError(
        await postForm(t.tokenEndpoint, { grant_type: 'client_credentials', client_id: big, client_secret: 'x' }),
        401,
        'invalid_client',
      );
    });
    it('client_id in Basic → 401 invalid_client with WWW-Authenticate: Basic', async () => {
      const res = await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, basic(big, 'secret'));
      expectOAuthError(res, 401, 'invalid_client');
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    });
    it('client_secret → 401 invalid_client', async () => {
      expectOAuthError(
        await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, basic(client.clientId, big)),
        401,
        'invalid_client',
      );
    });
    it('grant_type → 400 unsupported_grant_type', async () => {
      expectOAuthError(await postForm(t.tokenEndpoint, { grant_type: big }, auth()), 400, 'unsupported_grant_type');
    });
    it('resource → 400 invalid_target', async () => {
      expectOAuthError(
        await postForm(
          t.tokenEndpoint,
          { grant_type: 'client_credentials', resource: `https://api.example/${big}` },
          auth(),
        ),
        400,
        'invalid_target',
      );
    });
    it('client_assertion_type → 401 invalid_client', async () => {
      expectOAuthError(
        await postForm(t.tokenEndpoint, {
          grant_type: 'client_credentials',
          client_assertion_type: big,
          client_assertion: 'a.b.c',
        }),
        401,
        'invalid_client',
      );
    });
    it('token at /introspect → 200 {active:false}; a huge token_type_hint at /revoke is ignored → 200 (RFC 7009 §2.1)', async () => {
      const i = await postForm(`${t.baseUrl}/introspect`, { token: big }, auth());
      expect({ status: i.status, body: i.json }).toEqual({ status: 200, body: { active: false } });
      const r = await postForm(`${t.baseUrl}/revoke`, { token: 'x', token_type_hint: big }, auth());
      expect({ status: r.status, body: r.json }).toEqual({ status: 200, body: {} });
    });
    it('a parameter name of 10 KB is ignored like any unknown parameter (200)', async () => {
      expect((await postForm(t.tokenEndpoint, { grant_type: 'client_credentials', [big]: 'v' }, auth())).status).toBe(
        200,
      );
    });
  });

  describe('client assertion length: more than 8 192 characters → 401 invalid_client', () => {
    /** A correctly signed assertion of exactly `length` characters (padding in a claim and a header member). */
    async function assertionOfLength(length: number): Promise<string> {
      const n = t.clock.nowSeconds();
      const jti = nextId('len');
      const size = (o: object) => Math.ceil((Buffer.byteLength(JSON.stringify(o)) * 4) / 3); // base64url, no padding
      for (let h = 0; h < 4; h++) {
        const header = { alg: 'ES256', kid: key.kid, ...(h ? { x_pad: 'h'.repeat(h) } : {}) };
        for (let p = 0; p < length; p++) {
          const claims = {
            iss: pkClient.clientId,
            sub: pkClient.clientId,
            aud: t.issuer,
            jti,
            exp: n + 60,
            x_pad: 'p'.repeat(p),
          };
          const total = size(header) + 1 + size(claims) + 1 + 86; // ES256 signature: 64 bytes
          if (total > length) break;
          if (total === length) {
            const a = await rawJws(header, claims, { kind: 'ecdsa', key: key.privateKey, hash: 'SHA-256' });
            expect(a.length).toBe(length);
            return a;
          }
        }
      }
      throw new Error(`no assertion of length ${length}`);
    }

    it('exactly 8 192 characters is accepted', async () => {
      const res = await tokenWithAssertion(t, await assertionOfLength(8_192));
      expect(res.status, res.text).toBe(200);
    });
    it('8 193 characters → 401 invalid_client (reason "too long" in the audit event only)', async () => {
      t.audit.clear();
      expectOAuthError(await tokenWithAssertion(t, await assertionOfLength(8_193)), 401, 'invalid_client');
      expect(t.audit.ofType('client.authentication_failed').at(-1)).toMatchObject({
        clientId: pkClient.clientId,
        reason: 'assertion_too_long',
      });
    });
    it('a 15 000-character assertion (under the body limit) → 401; 20 000 → 413 (body limit first)', async () => {
      expectOAuthError(await tokenWithAssertion(t, await assertionOfLength(15_000)), 401, 'invalid_client');
      const res = await postForm(t.tokenEndpoint, {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: 'a'.repeat(20_000),
      });
      expectOAuthError(res, 413, 'invalid_request');
    });
  });

  describe('JWKS at registration: at most 16 keys, within the 64 KiB body', () => {
    const keysWithKids = (n: number) => Array.from({ length: n }, (_, i) => ({ ...key.publicJwk, kid: `k${i}` }));
    it('16 keys → 201', async () => {
      const res = await registrationApi(t).registerOk({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: keysWithKids(16) },
      });
      expect(res.jwks.keys).toHaveLength(16);
    });
    it.each([17, 100, 101, 1_000])('%i keys → 400 invalid_client_metadata', async (n) => {
      const { token } = await t.initialTokens.create({ uses: 1 });
      const res = await registrationApi(t).register(
        { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: keysWithKids(n) } },
        token,
      );
      expectRegistrationError(res, 400, 'invalid_client_metadata');
    });
    it('a key set over 64 KiB (one huge member) → 400 invalid_client_metadata', async () => {
      const { token } = await t.initialTokens.create({ uses: 1 });
      const res = await registrationApi(t).register(
        {
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ ...key.publicJwk, x5c: ['A'.repeat(70_000)] }] },
        },
        token,
      );
      expectRegistrationError(res, 400, 'invalid_client_metadata');
    });
    it('RSA modulus: 4096 bits → 201; more (costly to verify with) → 400 invalid_client_metadata', async () => {
      const rsa = await generateKey('RS256');
      const withN = (bytes: number) => ({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...rsa.publicJwk, n: Buffer.alloc(bytes, 0xc5).toString('base64url') }] },
      });
      await registrationApi(t).registerOk(withN(512));
      for (const bytes of [513, 2_048, 2_049, 4_096, 40_000]) {
        const { token } = await t.initialTokens.create({ uses: 1 });
        const res = await registrationApi(t).register(withN(bytes), token);
        expectRegistrationError(res, 400, 'invalid_client_metadata');
      }
    });
  });

  describe('jwks_uri: size, key count and time limits → invalid_client at the token endpoint', () => {
    async function publisher(
      handler: Parameters<JwksServer['route']>[1],
    ): Promise<{ clientId: string; server: JwksServer }> {
      const server = await startJwksServer();
      servers.push(server);
      server.route('/jwks', handler);
      const reg = await registrationApi(t).registerOk({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: server.url('/jwks'),
      });
      return { clientId: reg.client_id, server };
    }
    const tokenFor = async (clientId: string) =>
      tokenWithAssertion(t, await assertion(clientId, key, t.issuer, { now: t.clock.nowSeconds() }));
    const jwksBody = (size: number, keys = [key.publicJwk]) => {
      const empty = JSON.stringify({ keys, pad: '' });
      return JSON.stringify({ keys, pad: 'p'.repeat(size - empty.length) });
    };

    it('a 64 KiB response (exactly 65 536 bytes) is accepted', async () => {
      const { clientId } = await publisher((_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(jwksBody(65_536)),
      );
      const res = await tokenFor(clientId);
      expect(res.status, res.text).toBe(200);
    });
    it('65 537 bytes → 401 invalid_client', async () => {
      const { clientId } = await publisher((_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(jwksBody(65_537)),
      );
      expectOAuthError(await tokenFor(clientId), 401, 'invalid_client');
    });
    it('an endless chunked response → 401 invalid_client, promptly', async () => {
      const { clientId } = await publisher((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const timer = setInterval(() => res.write('x'.repeat(8_192)), 1);
        res.on('close', () => clearInterval(timer));
      });
      const started = Date.now();
      expectOAuthError(await tokenFor(clientId), 401, 'invalid_client');
      expect(Date.now() - started).toBeLessThan(3_000);
    });
    it('17 keys published → 401 invalid_client; 16 → 200', async () => {
      const many = (n: number) => [
        key.publicJwk,
        ...Array.from({ length: n - 1 }, (_, i) => ({ ...key.publicJwk, kid: `other-${i}` })),
      ];
      const a = await publisher((_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: many(17) })),
      );
      expectOAuthError(await tokenFor(a.clientId), 401, 'invalid_client');
      const b = await publisher((_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: many(16) })),
      );
      expect((await tokenFor(b.clientId)).status).toBe(200);
    });
    it('no answer within JWKS_FETCH_TIMEOUT (1 s) → 401 invalid_client after about 1 s', async () => {
      const { clientId } = await publisher(() => {
        /* never answers */
      });
      const started = Date.now();
      expectOAuthError(await tokenFor(clientId), 401, 'invalid_client');
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(4_000);
    });
    it('headers at once, then the body one byte every 200 ms (under the idle timeout, over the total) → 401 after about 1 s', async () => {
      const { clientId } = await publisher((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const body = JSON.stringify({ keys: [key.publicJwk] });
        let i = 0;
        const timer = setInterval(() => (i < body.length ? res.write(body[i++]) : res.end()), 200);
        res.on('close', () => clearInterval(timer));
      });
      const started = Date.now();
      expectOAuthError(await tokenFor(clientId), 401, 'invalid_client');
      expect(Date.now() - started).toBeLessThan(4_000);
    });
  });

  describe('headers', () => {
    it('a 20 KB header → 431 from Node (not a 5xx); the server keeps serving', async () => {
      const res = await fetch(t.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': FORM, 'x-pad': 'x'.repeat(20_000), ...auth() },
        body: 'grant_type=client_credentials',
      });
      expect(res.status).toBe(431);
      expect((await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, auth())).status).toBe(200);
    });
    it("a 12 KB Authorization header (under Node's limit) → 401 invalid_client", async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials' },
        { authorization: `Basic ${Buffer.from(`${'a'.repeat(9_000)}:b`).toString('base64')}` },
      );
      expectOAuthError(res, 401, 'invalid_client');
    });
    it('a 12 KB Bearer token at /register/:id → 401 invalid_token', async () => {
      const res = await jsonRequest(`${t.baseUrl}/register/${client.clientId}`, { token: 'a'.repeat(12_000) });
      expectRegistrationError(res, 401, 'invalid_token');
    });
  });

  describe('URL oddities: no 5xx', () => {
    it.each(['GET', 'PUT', 'DELETE'])(
      '%s /register/%%E0%%A4%%A (malformed percent-encoding) → 400 JSON from the router (Fastify or Express), no stack',
      async (method) => {
        const res = await rawRequest(`${t.baseUrl}/register/%E0%A4%A`, {
          method,
          headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
          chunks: method === 'PUT' ? ['{}'] : [],
        });
        expect(res.status).toBe(400);
        expect(res.json).toBeDefined();
        expect(res.json.access_token ?? res.json.registration_access_token).toBeUndefined();
        noStack(res.text);
      },
    );
    it('a 2 KB client id in the path → 401 invalid_token; a 20 KB path → 431', async () => {
      expectRegistrationError(
        await jsonRequest(`${t.baseUrl}/register/${'a'.repeat(2_000)}`, { token: 'x' }),
        401,
        'invalid_token',
      );
      expect((await fetch(`${t.baseUrl}/register/${'a'.repeat(20_000)}`)).status).toBe(431);
    });
    it.each([
      ['OPTIONS', '/token', 404],
      ['OPTIONS', '/register', 404],
      ['OPTIONS', '/jwks', 404],
      ['HEAD', '/token', 404],
      ['HEAD', '/jwks', 200],
      ['HEAD', '/.well-known/oauth-authorization-server', 200],
      ['GET', '/token', 404],
      ['GET', '//token', 404],
      ['POST', '/token/..%2f..%2fjwks', 404],
      ['TRACE', '/token', 404],
    ])('%s %s → %i, no stack', async (method, path, status) => {
      const res = await rawRequest(`${t.baseUrl}${path}`, {
        method,
        path,
        headers: { 'content-type': FORM },
        chunks: [],
      });
      expect(res.status).toBe(status);
      noStack(res.text);
    });
    it('HEAD /register/:id → 401 with WWW-Authenticate and no body', async () => {
      const res = await rawRequest(`${t.baseUrl}/register/${client.clientId}`, { method: 'HEAD' });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(res.text).toBe('');
    });
    it('parameters in the query string of POST /token are ignored (credentials only in the body or header)', async () => {
      const res = await postForm(
        `${t.tokenEndpoint}?client_id=${client.clientId}&client_secret=${client.clientSecret}`,
        { grant_type: 'client_credentials' },
      );
      expectOAuthError(res, 401, 'invalid_client');
      const ok = await postForm(
        `${t.tokenEndpoint}?grant_type=password&scope=admin`,
        { grant_type: 'client_credentials' },
        auth(),
      );
      expect(ok.status).toBe(200);
    });
  });
});
