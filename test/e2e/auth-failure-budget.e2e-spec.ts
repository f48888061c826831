import { request } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertion, generateKey, JWT_BEARER, type TestKey } from '../support/keys.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Failed client authentications have their own budget per source address: a flood of bad
 * assertions from one address gets 429 before its assertions are verified, while other addresses,
 * and the good client's own budget, are untouched. Other source addresses come from binding the
 * client socket to 127.0.0.2 / 127.0.0.3 (loopback is a /8 on Linux): no proxy, no TRUST_PROXY.
 * With REDIS_URL set the counters live in Redis.
 */
const BUDGET = 5;
const ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

/** POST /token as a form, from a chosen local address. */
function tokenFrom(
  localAddress: string,
  url: string,
  form: Record<string, string>,
): Promise<{ status: number; json: any; retryAfter?: string }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'),
            retryAfter: res.headers['retry-after'] as string | undefined,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('a separate per-address budget for failed client authentications', () => {
  let t: TestApp;
  let key: TestKey;
  let wrongKey: TestKey;
  let good: { clientId: string };
  let other: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    if (process.env.REDIS_URL) {
      // Counters in Redis outlive an app (real-time windows): start this test's addresses from zero.
      const redis = new Redis(process.env.REDIS_URL, { keyPrefix: 'clavis:' });
      await redis.del(...ADDRESSES.map((a) => `rl:authfail:ip:${a}`), ...ADDRESSES.map((a) => `rl:token:ip:${a}`));
      await redis.quit();
    }
    t = await createTestApp({
      env: {
        RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: String(BUDGET),
        RATE_LIMIT_WINDOW: '60',
        RATE_LIMIT_TOKEN_PER_ADDRESS: '1000',
        RATE_LIMIT_TOKEN_PER_CLIENT: '1000',
      },
    });
    [key, wrongKey] = await Promise.all([generateKey('ES256'), generateKey('ES256')]);
    good = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    other = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_post' });
  });
  afterAll(async () => t?.close());

  const goodForm = async () => ({
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: await assertion(good.clientId, key, t.issuer, { now: t.clock.nowSeconds() }),
  });
  // Signed with a key the client does not hold, without kid: the server must verify before it can refuse.
  const badForm = async () => ({
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: await assertion(good.clientId, { ...wrongKey, kid: undefined }, t.issuer, {
      now: t.clock.nowSeconds(),
    }),
  });

  it('a flood of failing assertions from one address gets 429 once the budget is spent, before verification', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < BUDGET + 1; i++)
      statuses.push((await tokenFrom('127.0.0.1', t.tokenEndpoint, await badForm())).status);
    expect(statuses).toEqual(Array(BUDGET + 1).fill(401));
    const verifiedBefore = t.audit.ofType('client.authentication_failed').length;
    for (let i = 0; i < 20; i++) {
      const res = await tokenFrom('127.0.0.1', t.tokenEndpoint, await badForm());
      expect(res.status).toBe(429);
      expect(res.json).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'too many requests; retry later',
      });
      expect(Number(res.retryAfter)).toBeGreaterThan(0);
    }
    // Refused before the credentials were looked at: no further authentication was attempted.
    expect(t.audit.ofType('client.authentication_failed').length).toBe(verifiedBefore);
    // The flooding address is refused for good requests too, until its window ends.
    expect((await tokenFrom('127.0.0.1', t.tokenEndpoint, await goodForm())).status).toBe(429);
  });

  it('another address still gets tokens, for the same client and for another client', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await tokenFrom('127.0.0.2', t.tokenEndpoint, await goodForm());
      expect(res.status, JSON.stringify(res.json)).toBe(200);
    }
    const res = await tokenFrom('127.0.0.3', t.tokenEndpoint, {
      grant_type: 'client_credentials',
      client_id: other.clientId,
      client_secret: other.clientSecret,
    });
    expect(res.status).toBe(200);
  });

  it('successful authentications do not spend the failure budget', async () => {
    for (let i = 0; i < BUDGET * 3; i++)
      expect((await tokenFrom('127.0.0.2', t.tokenEndpoint, await goodForm())).status).toBe(200);
  });

  it('after the window the address may try again', async () => {
    t.clock.advance(61);
    if (process.env.REDIS_URL) {
      // Redis windows run in real time: end this one by hand.
      const redis = new Redis(process.env.REDIS_URL, { keyPrefix: 'clavis:' });
      await redis.del('rl:authfail:ip:127.0.0.1');
      await redis.quit();
    }
    expect((await tokenFrom('127.0.0.1', t.tokenEndpoint, await goodForm())).status).toBe(200);
  });
});
