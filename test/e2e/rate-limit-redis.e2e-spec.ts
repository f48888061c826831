import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm } from '../support/http.js';
import { needs } from '../support/requirements.js';
import { createTestApp, freePort, type TestApp } from '../support/test-app.js';

/**
 * The Redis rate limiter, shared by two instances: the budget of an address is one budget, wherever
 * its requests land. Uses REDIS_URL when set, else a private redis-server (skipped, with a warning,
 * when there is neither).
 */

async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => 50,
    maxRetriesPerRequest: null,
  });
  probe.on('error', () => undefined); // refused until the server is up
  await probe.connect().catch(() => undefined);
  await probe.ping(); // waits (retrying) until the server answers
  await probe.quit();
  return proc;
}

describe('rate limits shared across two instances (Redis)', process.env.REDIS_URL ? {} : needs('redis-server'), () => {
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;
  let privateRedis: ChildProcess | undefined;
  const LIMIT = 4;

  beforeAll(async () => {
    let url = process.env.REDIS_URL;
    if (!url) {
      const port = await freePort();
      privateRedis = await startRedis(port);
      url = `redis://127.0.0.1:${port}`;
    }
    // TRUST_PROXY=1: the test names the client address in X-Forwarded-For, a fresh one per run, since
    // Redis counts in real time and keeps a window's counters across runs.
    const env = {
      REDIS_URL: url,
      TRUST_PROXY: '1',
      RATE_LIMIT_WINDOW: '60',
      RATE_LIMIT_TOKEN_PER_ADDRESS: String(LIMIT),
    };
    a = await createTestApp({ env });
    b = await createTestApp({ env: { ...env, ISSUER: a.issuer } });
    redis = new Redis(url, { keyPrefix: 'clavis:' });
  });
  afterAll(async () => {
    await redis?.quit();
    await a?.close();
    await b?.close();
    privateRedis?.kill('SIGKILL');
  });

  const from = (t: TestApp, address: string) =>
    postForm(`${t.baseUrl}/token`, { grant_type: 'client_credentials' }, { 'x-forwarded-for': address });
  const freshAddress = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

  it('one address alternating between A and B gets one budget: 429 after LIMIT requests in all', async () => {
    const address = freshAddress();
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) statuses.push((await from(i % 2 === 0 ? a : b, address)).status);
    // Per-instance counters would allow LIMIT at each (2 × LIMIT): no 429 at all here.
    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429, 429]);
    const last = await from(b, address);
    expect(last.status).toBe(429);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(last.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // Another address is not affected.
    expect((await from(a, freshAddress())).status).toBe(401);
  });

  it('the 429s come from the counter in Redis (its window set, and removing it restores the budget)', async () => {
    const address = freshAddress();
    for (let i = 0; i < LIMIT + 1; i++) await from(i % 2 === 0 ? a : b, address);
    const key = `rl:token:ip:${address}`;
    expect(Number(await redis.get(key))).toBe(LIMIT + 1);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect((await from(a, address)).status).toBe(429);
    await redis.del(key);
    expect((await from(b, address)).status).toBe(401);
  });
});
