import { generateKeyPair, exportJWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '@clavis/server';
import { ClientJwksFetcher } from '../../libs/server/src/client-auth/client-jwks.fetcher.js';
import { resolveServerOptions } from '../../libs/server/src/options/resolve-server-options.js';
import { expectOAuthError } from '../support/http.js';
import { assertion, generateKey, type TestKey } from '../support/keys.js';
import {
  expectRegistrationError,
  registrationApi,
  startJwksServer,
  tokenWithAssertion,
  type JwksServer,
} from '../support/registration.js';
import { createTestApp, TEST_KEK, type TestApp } from '../support/test-app.js';

/** Everything signed in this file, to check no assertion reaches an audit event. */
const assertions: string[] = [];

describe('private_key_jwt with jwks_uri at the token endpoint', () => {
  let t: TestApp;
  let k1: TestKey;
  let k2: TestKey;
  let k3: TestKey;
  const servers: JwksServer[] = [];

  beforeAll(async () => {
    t = await createTestApp(); // JWKS_ALLOWED_HOSTS=localhost,127.0.0.1
    [k1, k2, k3] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES256')]);
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  afterAll(() => t.close());

  async function jwksServer(keys: TestKey[] = [k1]): Promise<JwksServer> {
    const s = await startJwksServer();
    s.keys = keys.map((k) => k.publicJwk);
    servers.push(s);
    return s;
  }

  /** Registers over HTTP with a jwks_uri; asserts the 201. */
  async function register(
    jwksUri: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ clientId: string; uri: string; token: string }> {
    const body = await registrationApi(t).registerOk({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: jwksUri,
      scope: 'statements:read',
      ...extra,
    });
    return { clientId: body.client_id, uri: body.registration_client_uri, token: body.registration_access_token };
  }

  async function tokenWith(clientId: string, key: TestKey) {
    const a = await assertion(clientId, key, t.issuer, { now: t.clock.nowSeconds() });
    assertions.push(a);
    return tokenWithAssertion(t, a);
  }
  const accepted = async (clientId: string, key: TestKey) => {
    const res = await tokenWith(clientId, key);
    expect(res.status, res.text).toBe(200);
  };
  const rejected = async (clientId: string, key: TestKey) =>
    expectOAuthError(await tokenWith(clientId, key), 401, 'invalid_client');
  const lastFailure = (clientId: string) =>
    t.audit
      .ofType('client.authentication_failed')
      .filter((e) => e.clientId === clientId)
      .at(-1);

  it('a client registered with jwks_uri gets tokens; the set is fetched once, on first use, and cached', async () => {
    const s = await jwksServer();
    const body = await registrationApi(t).registerOk({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: s.url(),
      scope: 'statements:read',
    });
    expect(body).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: s.url(),
      client_secret_expires_at: 0,
    });
    expect(body.client_secret).toBeUndefined();
    expect(body.jwks).toBeUndefined();
    expect(s.hits.get('/jwks')).toBeUndefined(); // registration does not fetch
    for (let i = 0; i < 3; i++) await accepted(body.client_id, k1);
    expect(s.hits.get('/jwks')).toBe(1);
    expect(
      (await registrationApi(t).read(body.registration_client_uri, body.registration_access_token)).json.jwks_uri,
    ).toBe(s.url());
  });

  it('a client created through the service with a jwks_uri works the same', async () => {
    const s = await jwksServer();
    const { client } = await t.clients.create({
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwksUri: s.url('/jwks'),
      scope: 'statements:read',
    });
    await accepted(client.clientId, k1);
  });

  it('key rollover by publishing: a new kid is accepted after a refetch, at most one refetch per 10 s cooldown', async () => {
    const s = await jwksServer([k1]);
    const c = await register(s.url());
    await accepted(c.clientId, k1);
    expect(s.hits.get('/jwks')).toBe(1);

    s.keys = [k1.publicJwk, k2.publicJwk];
    // fetched 0 s ago: the unknown kid does not refetch yet
    await rejected(c.clientId, k2);
    expect(s.hits.get('/jwks')).toBe(1);
    t.clock.advance(10);
    await accepted(c.clientId, k2);
    expect(s.hits.get('/jwks')).toBe(2);
    await accepted(c.clientId, k1);

    // a kid nobody published: at most one refetch per cooldown, however many requests
    for (let i = 0; i < 5; i++) await rejected(c.clientId, k3);
    expect(s.hits.get('/jwks')).toBe(2);
    t.clock.advance(10);
    for (let i = 0; i < 5; i++) await rejected(c.clientId, k3);
    expect(s.hits.get('/jwks')).toBe(3);
    expect(lastFailure(c.clientId)).toMatchObject({ method: 'jwt', reason: 'kid_unknown' });
  });

  it('dropping a key by publishing: once the cached set expires (max-age 300), the removed key is rejected', async () => {
    const s = await jwksServer([k1, k2]);
    const c = await register(s.url());
    await accepted(c.clientId, k1);
    s.keys = [k2.publicJwk];
    t.clock.advance(299);
    await accepted(c.clientId, k1); // still within max-age
    expect(s.hits.get('/jwks')).toBe(1);
    t.clock.advance(1);
    await rejected(c.clientId, k1);
    await accepted(c.clientId, k2);
    expect(s.hits.get('/jwks')).toBe(2);
  });

  it('Cache-Control max-age is honoured within bounds (max-age=120)', async () => {
    const s = await jwksServer([k1]);
    s.cacheControl = 'max-age=120';
    const c = await register(s.url());
    await accepted(c.clientId, k1);
    t.clock.advance(119);
    await accepted(c.clientId, k1);
    expect(s.hits.get('/jwks')).toBe(1);
    t.clock.advance(1);
    await accepted(c.clientId, k1);
    expect(s.hits.get('/jwks')).toBe(2);
  });

  it.each([
    ['max-age=5 (raised to the 60 s minimum)', 'max-age=5', 60],
    ['no-store (cached for the 60 s minimum)', 'no-store', 60],
    ['max-age=31536000 (capped at 86400 s)', 'public, max-age=31536000', 86_400],
    ['no Cache-Control (300 s)', '', 300],
  ])('Cache-Control %s', async (_n, header, ttl) => {
    const s = await jwksServer([k1]);
    s.cacheControl = header;
    const c = await register(s.url());
    await accepted(c.clientId, k1);
    t.clock.advance(ttl - 1);
    await accepted(c.clientId, k1);
    expect(s.hits.get('/jwks')).toBe(1);
    t.clock.advance(1);
    await accepted(c.clientId, k1);
    expect(s.hits.get('/jwks')).toBe(2);
  });

  it('the JWKS server goes down: cached keys keep working, also long after max-age (up to JWKS_STALE_MAX)', async () => {
    const s = await jwksServer([k1]);
    const c = await register(s.url());
    await accepted(c.clientId, k1);
    await s.stop();
    t.clock.advance(301);
    await accepted(c.clientId, k1);
    t.clock.advance(86_400 - 400);
    await accepted(c.clientId, k1);
    // but nothing new can be learnt
    t.clock.advance(10);
    await rejected(c.clientId, k2);
  });

  it('the JWKS server starts failing (500, garbage, oversize, redirect): cached keys keep working', async () => {
    const s = await jwksServer([k1]);
    const c = await register(s.url());
    await accepted(c.clientId, k1);
    const failures: [string, (res: import('node:http').ServerResponse) => void][] = [
      ['500', (res) => res.writeHead(500).end('{}')],
      ['garbage', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>')],
      [
        'oversize',
        (res) =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ keys: [k1.publicJwk], pad: 'p'.repeat(100_000) })),
      ],
      ['redirect', (res) => res.writeHead(302, { location: s.url('/elsewhere') }).end()],
      ['empty set', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}')],
    ];
    for (const [, handler] of failures) {
      s.route('/jwks', (_req, res) => handler(res));
      const before = s.hits.get('/jwks')!;
      t.clock.advance(301);
      await accepted(c.clientId, k1);
      expect(s.hits.get('/jwks')).toBe(before + 1);
    }
    expect(s.hits.get('/elsewhere')).toBeUndefined();
  });

  describe('fetch refused → invalid_client', () => {
    it('a redirect (302) is not followed', async () => {
      const s = await jwksServer([k1]);
      s.route('/moved', (_req, res) => res.writeHead(302, { location: s.url('/jwks') }).end());
      const c = await register(s.url('/moved'));
      await rejected(c.clientId, k1);
      expect(s.hits.get('/moved')).toBe(1);
      expect(s.hits.get('/jwks')).toBeUndefined();
      await expect(t.app.get(ClientJwksFetcher).fetchJwks(s.url('/moved'))).rejects.toThrow(
        /302.*redirects are not followed/,
      );
    });

    it.each([301, 303, 307, 308])('a %i redirect is not followed either', async (status) => {
      const s = await jwksServer([k1]);
      s.route('/moved', (_req, res) => res.writeHead(status, { location: s.url('/jwks') }).end());
      const c = await register(s.url('/moved'));
      await rejected(c.clientId, k1);
      expect(s.hits.get('/jwks')).toBeUndefined();
    });

    it('an oversize response (> 64 KiB)', async () => {
      const s = await jwksServer([k1]);
      s.route('/big', (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ keys: [k1.publicJwk], pad: 'p'.repeat(70_000) })),
      );
      const c = await register(s.url('/big'));
      await rejected(c.clientId, k1);
      await expect(t.app.get(ClientJwksFetcher).fetchJwks(s.url('/big'))).rejects.toThrow(/exceeds 65536 bytes/);
    });

    it('an oversize response without Content-Length (chunked, endless)', async () => {
      const s = await jwksServer([k1]);
      s.route('/stream', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = 'x'.repeat(16_384);
        const timer = setInterval(() => {
          if (!res.write(chunk)) return;
        }, 1);
        res.on('close', () => clearInterval(timer));
      });
      await expect(t.app.get(ClientJwksFetcher).fetchJwks(s.url('/stream'))).rejects.toThrow(/exceeds 65536 bytes/);
    });

    it.each([
      ['a 404', (res: import('node:http').ServerResponse) => res.writeHead(404).end()],
      ['a 500', (res: import('node:http').ServerResponse) => res.writeHead(500).end()],
      ['not JSON', (res: import('node:http').ServerResponse) => res.writeHead(200).end('keys')],
      ['a JSON array', (res: import('node:http').ServerResponse) => res.writeHead(200).end('[]')],
    ])('%s', async (_n, handler) => {
      const s = await jwksServer([k1]);
      s.route('/bad', (_req, res) => handler(res));
      const c = await register(s.url('/bad'));
      await rejected(c.clientId, k1);
    });

    it('a published set holding a private key is refused as a whole', async () => {
      const s = await jwksServer([k1]);
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      s.keys = [k1.publicJwk, { ...(await exportJWK(privateKey)), kid: 'leaked' }];
      const c = await register(s.url());
      await rejected(c.clientId, k1);
      await expect(t.app.get(ClientJwksFetcher).fetchJwks(s.url())).rejects.toThrow(/public keys only/);
    });

    it('a failing jwks_uri is not refetched on every request: at most once per cooldown', async () => {
      const s = await jwksServer([k1]);
      s.route('/down', (_req, res) => res.writeHead(503).end());
      const c = await register(s.url('/down'));
      for (let i = 0; i < 5; i++) await rejected(c.clientId, k1);
      expect(s.hits.get('/down')).toBe(1);
      t.clock.advance(10);
      await rejected(c.clientId, k1);
      expect(s.hits.get('/down')).toBe(2);
      // once it recovers, the next attempt after the cooldown succeeds
      s.route('/down', (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [k1.publicJwk] })),
      );
      t.clock.advance(10);
      await accepted(c.clientId, k1);
      expect(s.hits.get('/down')).toBe(3);
    });

    it('the failure reason goes to the audit event, never to the response', async () => {
      const s = await jwksServer([k1]);
      s.route('/moved', (_req, res) => res.writeHead(302, { location: s.url('/jwks') }).end());
      const c = await register(s.url('/moved'));
      const res = await tokenWith(c.clientId, k1);
      expect(res.json).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
      expect(lastFailure(c.clientId)).toMatchObject({
        type: 'client.authentication_failed',
        clientId: c.clientId,
        method: 'jwt',
        reason: 'keys_unavailable',
      });
    });

    it('a slow server: the fetch times out', async () => {
      const s = await jwksServer([k1]);
      s.route('/hang', () => {
        /* never answers */
      });
      const settings = resolveServerOptions({
        issuer: 'http://localhost:3000',
        keyEncryptionKey: TEST_KEK,
        jwksFetch: { timeout: 1, allowedHosts: ['127.0.0.1'] },
      });
      const fetcher = new ClientJwksFetcher(settings, new FixedClock());
      const started = Date.now();
      await expect(fetcher.fetchJwks(s.url('/hang'))).rejects.toThrow(/timed out/);
      expect(Date.now() - started).toBeLessThan(4_000);
    });
  });

  describe('addresses that are not allow-listed', () => {
    it.each([
      ['127.0.0.2 (loopback, not on the list)', 'https://127.0.0.2/jwks'],
      ['http to 127.0.0.2', 'http://127.0.0.2/jwks'],
      ['a private address', 'https://10.1.2.3/jwks'],
      ['the metadata service', 'https://169.254.169.254/latest/meta-data'],
      ['IPv6 loopback', 'https://[::1]/jwks'],
      ['IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/jwks'],
      ['0.0.0.0', 'https://0.0.0.0/jwks'],
      ['loopback as a decimal number (127.0.0.2)', 'https://2130706434/jwks'],
      ['loopback in hex notation (127.0.0.3)', 'https://0x7f000003/jwks'],
      ['carrier-grade NAT', 'https://100.64.0.1/jwks'],
      ['IPv6 unique local', 'https://[fd00::1]/jwks'],
    ])('%s is refused before connecting', async (_n, uri) => {
      await expect(t.app.get(ClientJwksFetcher).fetchJwks(uri)).rejects.toThrow(/non-public address|must be https/);
    });
  });

  describe('key rollover by PUT of a new jwks', () => {
    it('takes effect at once: the old key is rejected, the new one accepted', async () => {
      const body = await registrationApi(t).registerOk({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [k1.publicJwk] },
      });
      const api = registrationApi(t);
      await accepted(body.client_id, k1);
      const up = await api.update(
        body.registration_client_uri,
        { client_id: body.client_id, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [k2.publicJwk] } },
        body.registration_access_token,
      );
      expect(up.status, up.text).toBe(200);
      expect(up.json.jwks).toEqual({ keys: [k2.publicJwk] });
      await rejected(body.client_id, k1);
      await accepted(body.client_id, k2);
    });

    it('the SDK sequence: publish old+new, switch, drop old', async () => {
      const api = registrationApi(t);
      const body = await api.registerOk({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [k1.publicJwk] },
      });
      let token = body.registration_access_token;
      const put = async (keys: TestKey[]) => {
        const res = await api.update(
          body.registration_client_uri,
          {
            client_id: body.client_id,
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: { keys: keys.map((k) => k.publicJwk) },
          },
          token,
        );
        expect(res.status, res.text).toBe(200);
        token = res.json.registration_access_token;
      };
      await put([k1, k2]);
      await accepted(body.client_id, k1);
      await accepted(body.client_id, k2);
      await put([k2]);
      await rejected(body.client_id, k1);
      await accepted(body.client_id, k2);
    });

    it('a PUT moving from jwks to a jwks_uri uses the published keys at once', async () => {
      const s = await jwksServer([k3]);
      const api = registrationApi(t);
      const body = await api.registerOk({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [k1.publicJwk] },
      });
      const res = await api.update(
        body.registration_client_uri,
        { client_id: body.client_id, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: s.url() },
        body.registration_access_token,
      );
      expect(res.status, res.text).toBe(200);
      expect(res.json.jwks).toBeUndefined();
      await rejected(body.client_id, k1);
      await accepted(body.client_id, k3);
    });

    it('a PUT moving to another jwks_uri uses the new set at once', async () => {
      const a = await jwksServer([k1]);
      const b = await jwksServer([k2]);
      const c = await register(a.url());
      await accepted(c.clientId, k1);
      const res = await registrationApi(t).update(
        c.uri,
        { client_id: c.clientId, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: b.url() },
        c.token,
      );
      expect(res.status, res.text).toBe(200);
      await rejected(c.clientId, k1);
      await accepted(c.clientId, k2);
    });
  });

  it('no assertion appears in any audit event', () => {
    const recorded = JSON.stringify(t.audit.events);
    expect(assertions.length).toBeGreaterThan(20);
    for (const a of assertions) expect(recorded).not.toContain(a);
  });
});

describe('jwks_uri when loopback is not allow-listed (JWKS_ALLOWED_HOSTS empty)', () => {
  let t: TestApp;
  let s: JwksServer;
  let key: TestKey;

  beforeAll(async () => {
    t = await createTestApp({ env: { JWKS_ALLOWED_HOSTS: '' } });
    key = await generateKey('ES256');
    s = await startJwksServer();
    s.keys = [key.publicJwk];
  });
  afterAll(async () => {
    await s.stop();
    await t.close();
  });

  const tokenWith = async (clientId: string) =>
    tokenWithAssertion(t, await assertion(clientId, key, t.issuer, { now: t.clock.nowSeconds() }));

  it('registration refuses an http jwks_uri', async () => {
    const { token } = await t.initialTokens.create({ uses: 1 });
    const res = await registrationApi(t).register(
      { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `http://127.0.0.1:${s.port}/jwks` },
      token,
    );
    expectRegistrationError(res, 400, 'invalid_client_metadata');
    expect(res.json.error_description).toMatch(/https/);
  });

  it('https to a loopback IP literal: registered, but the fetch is refused without connecting → invalid_client', async () => {
    const body = await registrationApi(t).registerOk({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: `https://127.0.0.1:${s.port}/jwks`,
    });
    expectOAuthError(await tokenWith(body.client_id), 401, 'invalid_client');
    expect(s.connections).toBe(0);
  });

  it('a host name that resolves to loopback (localhost), created through the service: refused without connecting → invalid_client', async () => {
    const { client } = await t.clients.create({
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwksUri: `https://localhost:${s.port}/jwks`,
    });
    expectOAuthError(await tokenWith(client.clientId), 401, 'invalid_client');
    expect(s.connections).toBe(0);
  });

  it('the fetcher itself says why', async () => {
    const fetcher = t.app.get(ClientJwksFetcher);
    await expect(fetcher.fetchJwks(`https://127.0.0.1:${s.port}/jwks`)).rejects.toThrow(
      /127\.0\.0\.1 resolves to a non-public address and is not allow-listed/,
    );
    await expect(fetcher.fetchJwks(`https://localhost:${s.port}/jwks`)).rejects.toThrow(
      /localhost resolves to a non-public address and is not allow-listed/,
    );
    await expect(fetcher.fetchJwks(`https://2130706433:${s.port}/jwks`)).rejects.toThrow(
      /127\.0\.0\.1 resolves to a non-public address/,
    );
    await expect(fetcher.fetchJwks(`http://127.0.0.1:${s.port}/jwks`)).rejects.toThrow(/must be https/);
    expect(s.connections).toBe(0);
  });
});
