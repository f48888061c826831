import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertion, generateKey, JWT_BEARER, type TestKey } from '../support/keys.js';
import { basic, postForm } from '../support/http.js';
import { needs } from '../support/requirements.js';
import { createClient, createTestApp, freePort, type TestApp } from '../support/test-app.js';

/** A private redis-server on its own port, so the test can stop and restart it. */
async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 50; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}`).then(
      () => true,
      (e: { cause?: { code?: string } }) => e.cause?.code !== 'ECONNREFUSED',
    );
    if (ok) return proc;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not start');
}

// The test runs its own redis-server (it stops and restarts it).
describe('Redis outage: fail closed with 503, recover without restart', needs('redis-server'), () => {
  let t: TestApp;
  let redis: ChildProcess;
  let port: number;
  let key: TestKey;
  let pk: { clientId: string };
  let sec: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    t = await createTestApp({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    key = await generateKey();
    pk = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    sec = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
  });
  afterAll(async () => {
    await t?.close();
    redis?.kill('SIGKILL');
  });

  const pkRequest = async () =>
    postForm(t.tokenEndpoint, {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: await assertion(pk.clientId, key, t.issuer, { now: t.clock.nowSeconds() }),
    });

  it('works while Redis is up, and the replay check lives in Redis', async () => {
    const jwt = await assertion(pk.clientId, key, t.issuer, { now: t.clock.nowSeconds() });
    const send = () =>
      postForm(t.tokenEndpoint, {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: jwt,
      });
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(401);
  });

  it('Redis down: assertion requests fail closed with a 503 JSON error (no stack), secret requests still work', async () => {
    redis.kill('SIGKILL');
    await new Promise((r) => redis.once('exit', r));
    const res = await pkRequest();
    expect(res.status).toBe(503);
    expect(res.json).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the service is temporarily unavailable',
    });
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.text).not.toMatch(/at .*\.(js|ts):\d+/);
    const basicRes = await postForm(
      t.tokenEndpoint,
      { grant_type: 'client_credentials' },
      basic(sec.clientId, sec.clientSecret),
    );
    expect(basicRes.status).toBe(200);
    // Revocation needs the deny list: 503 too, never a silent success.
    const revoke = await postForm(
      `${t.baseUrl}/revoke`,
      { token: basicRes.json.access_token },
      basic(sec.clientId, sec.clientSecret),
    );
    expect(revoke.status).toBe(503);
  });

  it('Redis back: service resumes without a restart', async () => {
    redis = await startRedis(port);
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await pkRequest()).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });
});
