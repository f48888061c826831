import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertion, generateKey, type TestKey } from '../support/keys.js';
import { basic, postForm } from '../support/http.js';
import { startJwksServer, tokenWithAssertion, tokenWithBasic, type JwksServer } from '../support/registration.js';
import { createClient, createTestApp, freePort, type TestApp } from '../support/test-app.js';

/**
 * The demo server's plugs for operators' tools, on the storage of the pass (SQLite, or PostgreSQL +
 * Redis with DATABASE_URL/REDIS_URL): `/health` (terminus with Clavis's indicator: 200 when the
 * database, Redis and a signing key are up, 503 with details when one is down) and `/metrics`
 * (prom-client text: token requests by method and outcome, authentication failures by reason,
 * latency per endpoint, jwks_uri fetches, store sizes and expiring secrets).
 */
const storage = process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite';
const withRedis = Boolean(process.env.REDIS_URL);

async function get(url: string) {
  const res = await fetch(url);
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The value of one sample of the Prometheus text (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

describe(`/health (${storage}${withRedis ? ' + Redis' : ''})`, () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close().catch(() => undefined);
    t = undefined;
  });

  it('200 with the database, Redis when configured, and the active signing key up', async () => {
    t = await createTestApp();
    const res = await get(`${t.baseUrl}/health`);
    expect(res.status, res.text).toBe(200);
    expect(res.json.status).toBe('ok');
    const clavis = res.json.info.clavis;
    expect(clavis.status).toBe('up');
    expect(clavis.database).toEqual({ status: 'up' });
    expect(clavis.signingKey).toEqual({ status: 'up', kid: (await t.keys.activeKey()).kid });
    if (withRedis) expect(clavis.redis).toEqual({ status: 'up' });
    else expect(clavis.redis).toBeUndefined();
  });

  it('503 with details when the database is gone', async () => {
    t = await createTestApp();
    await t.app.get(DataSource).destroy();
    const res = await get(`${t.baseUrl}/health`);
    expect(res.status, res.text).toBe(503);
    expect(res.json.status).toBe('error');
    expect(res.json.error.clavis.status).toBe('down');
    expect(res.json.error.clavis.database.status).toBe('down');
    expect(res.json.error.clavis.signingKey.status).toBe('up');
  });

  it('503 with details when Redis does not answer (a port where nothing listens)', async () => {
    t = await createTestApp({ env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}` } });
    const res = await get(`${t.baseUrl}/health`);
    expect(res.status, res.text).toBe(503);
    expect(res.json.error.clavis.redis.status).toBe('down');
    expect(res.json.error.clavis.database).toEqual({ status: 'up' });
    // No connection string, address or credential in the answer.
    expect(res.text).not.toMatch(/redis:\/\/|127\.0\.0\.1/);
  });
});

describe(`/metrics (${storage}${withRedis ? ' + Redis' : ''})`, () => {
  let t: TestApp;
  let jwks: JwksServer;
  let key: TestKey;
  const metrics = async () => {
    const res = await get(`${t.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text;
  };

  beforeAll(async () => {
    t = await createTestApp({ env: { CLIENT_SECRET_TTL: String(5 * 86_400) } });
    jwks = await startJwksServer();
    key = await generateKey();
    jwks.keys = [key.publicJwk];
  });
  afterAll(async () => {
    await t?.close();
    await jwks?.stop();
  });

  it('counts token requests by method and outcome, authentication failures by reason, latency per endpoint', async () => {
    const before = await metrics();
    const ok =
      sample(before, 'clavis_token_requests_total', { method: 'client_secret_basic', outcome: 'success' }) ?? 0;
    const bad =
      sample(before, 'clavis_token_requests_total', { method: 'client_secret_basic', outcome: 'invalid_client' }) ?? 0;
    const mismatch = sample(before, 'clavis_client_authentication_failures_total', { reason: 'secret_mismatch' });
    expect(mismatch).toBeDefined(); // every reason code is exported from the start, at 0
    const c = await createClient(t, {});
    expect((await tokenWithBasic(t, c.clientId, c.clientSecret)).status).toBe(200);
    expect((await tokenWithBasic(t, c.clientId, c.clientSecret)).status).toBe(200);
    expect((await tokenWithBasic(t, c.clientId, 'not-the-secret')).status).toBe(401);
    expect((await postForm(t.tokenEndpoint, { grant_type: 'password' })).status).toBe(400);
    const unknown = await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, basic('nobody', 'x'));
    expect(unknown.status).toBe(401);

    const after = await metrics();
    expect(sample(after, 'clavis_token_requests_total', { method: 'client_secret_basic', outcome: 'success' })).toBe(
      ok + 2,
    );
    expect(
      sample(after, 'clavis_token_requests_total', { method: 'client_secret_basic', outcome: 'invalid_client' }),
    ).toBe(bad + 2);
    expect(
      sample(after, 'clavis_token_requests_total', { method: 'none', outcome: 'unsupported_grant_type' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'clavis_client_authentication_failures_total', { reason: 'secret_mismatch' })).toBe(
      mismatch! + 1,
    );
    expect(
      sample(after, 'clavis_client_authentication_failures_total', { reason: 'client_unknown' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(after, 'clavis_http_request_duration_seconds_count', { endpoint: 'token', status: '200' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sample(after, 'clavis_http_request_duration_seconds_count', { endpoint: 'token', status: '401' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sample(after, 'clavis_http_request_duration_seconds_bucket', { endpoint: 'token', status: '200', le: '+Inf' }),
    ).toBeGreaterThanOrEqual(2);
    // Other endpoints are timed too.
    expect((await get(`${t.baseUrl}/jwks`)).status).toBe(200);
    expect(
      sample(await metrics(), 'clavis_http_request_duration_seconds_count', { endpoint: 'jwks', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
    // The host's registry carries the process metrics beside Clavis's.
    expect(after).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('counts jwks_uri fetches by outcome, and shows the replay store, deny list and expiring secrets (read on scrape, cached)', async () => {
    t.clock.advance(31); // past the sizes read by the scrapes above
    const before = await metrics();
    const fetched = sample(before, 'clavis_jwks_uri_fetches_total', { outcome: 'success' })!;
    const failed = sample(before, 'clavis_jwks_uri_fetches_total', { outcome: 'failure' })!;
    const replay = sample(before, 'clavis_replay_store_entries')!;
    const denied = sample(before, 'clavis_deny_list_entries')!;
    const expiring = sample(before, 'clavis_client_secrets_expiring')!;
    expect([fetched, failed, replay, denied, expiring].every(Number.isFinite)).toBe(true);

    const pk = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: jwks.url() });
    const down = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: jwks.url('/missing') });
    await createClient(t, {}); // its secret expires in 5 days (CLIENT_SECRET_TTL), within the 14-day lead
    const a = await assertion(pk.clientId, key, t.issuer);
    const token = await tokenWithAssertion(t, a);
    expect(token.status, token.text).toBe(200);
    expect((await tokenWithAssertion(t, await assertion(down.clientId, key, t.issuer))).status).toBe(401);
    const revoked = await postForm(`${t.baseUrl}/revoke`, {
      token: token.json.access_token,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(pk.clientId, key, t.issuer),
    });
    expect(revoked.status, revoked.text).toBe(200);

    // Store sizes are cached between scrapes: still the old figures until the cache ages out.
    const cached = await metrics();
    expect(sample(cached, 'clavis_deny_list_entries')).toBe(denied);
    expect(sample(cached, 'clavis_jwks_uri_fetches_total', { outcome: 'success' })).toBe(fetched + 1);
    expect(sample(cached, 'clavis_jwks_uri_fetches_total', { outcome: 'failure' })).toBe(failed + 1);
    t.clock.advance(31);
    const fresh = await metrics();
    expect(sample(fresh, 'clavis_replay_store_entries')).toBe(replay + 2);
    expect(sample(fresh, 'clavis_deny_list_entries')).toBe(denied + 1);
    expect(sample(fresh, 'clavis_client_secrets_expiring')).toBe(expiring + 1);
  });
});

describe('/metrics and /openapi.json with a route prefix, on both adapters', () => {
  for (const adapter of ['fastify', 'express'] as const)
    it(`${adapter}: the prefixed endpoints are measured; the document's server URL carries the prefix`, async () => {
      const port = await freePort();
      const t = await createTestApp({
        adapter,
        port,
        env: { ISSUER: `http://127.0.0.1:${port}/oauth`, ROUTE_PREFIX: '/oauth' },
      });
      try {
        const c = await createClient(t, {});
        expect(t.tokenEndpoint).toBe(`http://127.0.0.1:${port}/oauth/token`);
        expect((await tokenWithBasic(t, c.clientId, c.clientSecret)).status).toBe(200);
        const text = (await get(`${t.baseUrl}/metrics`)).text;
        expect(sample(text, 'clavis_token_requests_total', { method: 'client_secret_basic', outcome: 'success' })).toBe(
          1,
        );
        expect(sample(text, 'clavis_http_request_duration_seconds_count', { endpoint: 'token', status: '200' })).toBe(
          1,
        );
        const doc = (await get(`${t.baseUrl}/openapi.json`)).json;
        expect(doc.servers).toEqual([{ url: `http://127.0.0.1:${port}/oauth` }]);
      } finally {
        await t.close();
      }
    });
});
