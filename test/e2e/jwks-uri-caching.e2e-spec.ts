import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { needs } from '../support/requirements.js';
import { FixedClock } from '@clavis/server';
import { assertion, generateKey, type TestKey } from '../support/keys.js';
import { registrationApi, startJwksServer, tokenWithAssertion, type JwksServer } from '../support/registration.js';
import { createTestApp, freePort, type TestApp } from '../support/test-app.js';

/**
 * How long the keys of a jwks_uri stay trusted, and caching across instances.
 * JWKS_STALE_MAX bounds the trust in keys that can no longer be fetched: after that long without a
 * successful fetch, assertions signed with them are refused (docs/adr/0011-one-key-per-assertion.md).
 */
describe('JWKS_STALE_MAX: keys of an unreachable jwks_uri are trusted for a bounded time', () => {
  const servers: JwksServer[] = [];
  let k1: TestKey;
  beforeAll(async () => {
    k1 = await generateKey('ES256');
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  async function setup(env: Record<string, string>, cacheControl = 'public, max-age=300') {
    const t = await createTestApp({ env });
    const s = await startJwksServer();
    servers.push(s);
    s.keys = [k1.publicJwk];
    s.cacheControl = cacheControl;
    const body = await registrationApi(t).registerOk({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: s.url(),
    });
    const status = async () =>
      (await tokenWithAssertion(t, await assertion(body.client_id, k1, t.issuer, { now: t.clock.nowSeconds() })))
        .status;
    return { t, s, status };
  }

  it('default (24 h): cached keys work through an outage of just under 24 h, and are refused after 24 h', async () => {
    const { t, s, status } = await setup({});
    try {
      expect(await status()).toBe(200);
      await s.stop();
      t.clock.advance(86_400 - 1);
      expect(await status()).toBe(200);
      t.clock.advance(2);
      expect(await status()).toBe(401);
      expect(t.audit.ofType('client.authentication_failed').at(-1)?.reason).toBe('keys_unavailable');
    } finally {
      await t.close();
    }
  });

  it('JWKS_STALE_MAX=600: refused 601 s after the last successful fetch; usable again once the jwks_uri answers', async () => {
    const { t, s, status } = await setup({ JWKS_STALE_MAX: '600' });
    try {
      expect(await status()).toBe(200);
      s.route('/jwks', (_req, res) => res.writeHead(503).end());
      t.clock.advance(400);
      expect(await status()).toBe(200);
      t.clock.advance(200);
      expect(await status()).toBe(200);
      t.clock.advance(1);
      expect(await status()).toBe(401);
      s.route('/jwks', (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' })
          .end(JSON.stringify({ keys: [k1.publicJwk] })),
      );
      t.clock.advance(11); // the refetch cooldown
      expect(await status()).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('a Cache-Control max-age longer than JWKS_STALE_MAX does not extend the trust: the set is refetched after JWKS_STALE_MAX', async () => {
    const { t, s, status } = await setup({ JWKS_STALE_MAX: '600' }, 'public, max-age=86400');
    try {
      expect(await status()).toBe(200);
      expect(s.hits.get('/jwks')).toBe(1);
      t.clock.advance(601);
      expect(await status()).toBe(200);
      expect(s.hits.get('/jwks')).toBe(2);
    } finally {
      await t.close();
    }
  });
});

/**
 * Two instances sharing one database (PostgreSQL: an in-memory SQLite cannot be shared). Each keeps
 * its own cache of a client's jwks_uri: both fetch once and then serve from cache, both learn a
 * rolled key through the unknown-kid refetch, and both stop trusting a removed key after max-age.
 */
describe('jwks_uri caching across two instances (PostgreSQL)', needs('postgres'), () => {
  let a: TestApp;
  let b: TestApp;
  let s: JwksServer;
  let k1: TestKey;
  let k2: TestKey;
  let clientId: string;

  beforeAll(async () => {
    const portA = await freePort();
    const shared = { ISSUER: `http://127.0.0.1:${portA}` };
    const start = Date.now();
    a = await createTestApp({ port: portA, env: shared, clock: new FixedClock(start) });
    b = await createTestApp({ env: shared, clock: new FixedClock(start) });
    [k1, k2] = await Promise.all([generateKey('ES256'), generateKey('ES256')]);
    s = await startJwksServer();
    s.keys = [k1.publicJwk];
    s.cacheControl = 'public, max-age=300';
    clientId = (
      await registrationApi(a).registerOk({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: s.url() })
    ).client_id;
  });
  afterAll(async () => {
    await s?.stop();
    await a?.close();
    await b?.close();
  });

  const status = async (t: TestApp, key: TestKey) =>
    (await tokenWithAssertion(t, await assertion(clientId, key, a.issuer, { now: t.clock.nowSeconds() }))).status;
  const advance = (seconds: number) => [a, b].forEach((t) => t.clock.advance(seconds));

  it('a client registered at A authenticates at both; each instance fetches the set once and then uses its cache', async () => {
    expect(await status(a, k1)).toBe(200);
    expect(await status(b, k1)).toBe(200);
    expect(s.hits.get('/jwks')).toBe(2);
    for (let i = 0; i < 3; i++) {
      expect(await status(a, k1)).toBe(200);
      expect(await status(b, k1)).toBe(200);
    }
    expect(s.hits.get('/jwks')).toBe(2);
  });

  it('a rolled key (new kid) is learnt by each instance through one refetch', async () => {
    s.keys = [k1.publicJwk, k2.publicJwk];
    advance(11); // past the unknown-kid cooldown
    expect(await status(a, k2)).toBe(200);
    expect(s.hits.get('/jwks')).toBe(3);
    expect(await status(b, k2)).toBe(200);
    expect(s.hits.get('/jwks')).toBe(4);
    expect(await status(a, k1)).toBe(200);
    expect(await status(b, k1)).toBe(200);
  });

  it('a removed key is refused by both once their cached sets expire (max-age)', async () => {
    s.keys = [k2.publicJwk];
    advance(301);
    expect(await status(a, k1)).toBe(401);
    expect(await status(b, k1)).toBe(401);
    expect(await status(a, k2)).toBe(200);
    expect(await status(b, k2)).toBe(200);
  });

  it('a jwks_uri changed by PUT at A is used by B', async () => {
    const other = await startJwksServer();
    try {
      const k3 = await generateKey('ES256');
      other.keys = [k3.publicJwk];
      const read = await registrationApi(a).registerOk({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: s.url(),
      });
      const at = async (t: TestApp, key: TestKey) =>
        (await tokenWithAssertion(t, await assertion(read.client_id, key, a.issuer, { now: t.clock.nowSeconds() })))
          .status;
      expect(await at(b, k2)).toBe(200);
      const put = await registrationApi(a).update(
        read.registration_client_uri,
        { client_id: read.client_id, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: other.url() },
        read.registration_access_token,
      );
      expect(put.status, put.text).toBe(200);
      expect(await at(b, k3)).toBe(200);
      expect(await at(b, k2)).toBe(401);
    } finally {
      await other.stop();
    }
  });
});
