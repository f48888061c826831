import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needs } from '../support/requirements.js';
import { HousekeepingService } from '@clavis/server';
import { assertion, generateKey, type TestKey } from '../support/keys.js';
import { tokenWithAssertion } from '../support/registration.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * An assertion is usable for at most ASSERTION_MAX_LIFETIME after it was made: by `iat` when
 * present (exp may lie further ahead), else by `exp` no more than the cap ahead; clock skew on both.
 * Its jti is remembered until the last moment it could be accepted, min(exp, iat + cap) + skew,
 * in the database (housekeeping purges only after that) and in Redis (the TTL set).
 * Exact boundaries: a doubled cap, or a jti kept until exp − skew, must fail here.
 */
const CAP = 300;
const SKEW = 30;

describe.each([
  ['defaults', {}, CAP, SKEW],
  ['ASSERTION_MAX_LIFETIME=60, CLOCK_SKEW=5', { ASSERTION_MAX_LIFETIME: '60', CLOCK_SKEW: '5' }, 60, 5],
] as const)('assertion lifetime boundaries (%s)', (_label, env, cap, skew) => {
  let t: TestApp;
  let key: TestKey;
  let client: { clientId: string };
  beforeAll(async () => {
    t = await createTestApp({ env });
    key = await generateKey('ES256');
    client = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
  });
  afterAll(async () => t?.close());

  const status = async (claims: Record<string, unknown>) =>
    (
      await tokenWithAssertion(
        t,
        await assertion(client.clientId, key, t.issuer, { now: t.clock.nowSeconds(), claims }),
      )
    ).status;
  const now = () => t.clock.nowSeconds();

  it('with iat: accepted up to cap + skew after iat, even with exp an hour ahead; refused 1 s later', async () => {
    expect(await status({ iat: now(), exp: now() + 3600 })).toBe(200);
    expect(await status({ iat: now() - cap, exp: now() + 3600 })).toBe(200);
    expect(await status({ iat: now() - cap - skew, exp: now() + 3600 })).toBe(200);
    expect(await status({ iat: now() - cap - skew - 1, exp: now() + 3600 })).toBe(401);
    expect(await status({ iat: now() - 2 * cap, exp: now() + 3600 })).toBe(401);
  });

  it('with iat: exp still ends it (exp + skew)', async () => {
    expect(await status({ iat: now() - 10, exp: now() - skew + 1 })).toBe(200);
    expect(await status({ iat: now() - 10, exp: now() - skew })).toBe(401);
  });

  it('with iat: iat up to skew in the future', async () => {
    expect(await status({ iat: now() + skew, exp: now() + 60 })).toBe(200);
    expect(await status({ iat: now() + skew + 1, exp: now() + 60 })).toBe(401);
  });

  it('without iat: exp at most cap + skew ahead; 1 s more is refused', async () => {
    expect(await status({ iat: undefined, exp: now() + cap })).toBe(200);
    expect(await status({ iat: undefined, exp: now() + cap + skew })).toBe(200);
    expect(await status({ iat: undefined, exp: now() + cap + skew + 1 })).toBe(401);
    expect(await status({ iat: undefined, exp: now() + 2 * cap })).toBe(401);
  });
});

describe('a used jti is kept until min(exp, iat + cap) + skew: replay after housekeeping is refused (database store)', () => {
  let t: TestApp;
  let key: TestKey;
  let client: { clientId: string };
  beforeAll(async () => {
    // The database replay store (SQLite, or PostgreSQL with DATABASE_URL), also when REDIS_URL is set.
    t = await createTestApp({ env: { REDIS_URL: undefined } });
    key = await generateKey('ES256');
    client = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
  });
  afterAll(async () => t?.close());

  const replayAfter = async (claims: (now: number) => Record<string, unknown>, advance: number) => {
    const jwt = await assertion(client.clientId, key, t.issuer, {
      now: t.clock.nowSeconds(),
      claims: claims(t.clock.nowSeconds()),
    });
    expect((await tokenWithAssertion(t, jwt)).status).toBe(200);
    t.clock.advance(advance);
    await t.app.get(HousekeepingService).runOnce();
    return (await tokenWithAssertion(t, jwt)).status;
  };

  it('exp-bound (no iat): replay 1 s before exp + skew, after housekeeping → refused', async () => {
    expect(await replayAfter((n) => ({ iat: undefined, exp: n + 60 }), 60 + SKEW - 1)).toBe(401);
  });

  it('exp-bound (iat now, exp + 60): replay 1 s before exp + skew, after housekeeping → refused', async () => {
    expect(await replayAfter((n) => ({ iat: n, exp: n + 60 }), 60 + SKEW - 1)).toBe(401);
  });

  it('iat-bound (iat now, exp + 3600): replay 1 s before iat + cap + skew, after housekeeping → refused', async () => {
    expect(await replayAfter((n) => ({ iat: n, exp: n + 3600 }), CAP + SKEW - 1)).toBe(401);
  });

  it('housekeeping does purge a jti once its assertion can no longer be accepted', async () => {
    const jwt = await assertion(client.clientId, key, t.issuer, {
      now: t.clock.nowSeconds(),
      claims: { iat: t.clock.nowSeconds(), exp: t.clock.nowSeconds() + 3600 },
    });
    expect((await tokenWithAssertion(t, jwt)).status).toBe(200);
    t.clock.advance(CAP + SKEW + 1);
    expect((await t.app.get(HousekeepingService).runOnce()).jtis).toBeGreaterThanOrEqual(1);
    // …and the assertion itself is refused by its age.
    expect((await tokenWithAssertion(t, jwt)).status).toBe(401);
  });
});

describe('a used jti is kept until min(exp, iat + cap) + skew: the TTL set in Redis', needs('redis'), () => {
  let t: TestApp;
  let key: TestKey;
  let client: { clientId: string };
  let redis: Redis;
  beforeAll(async () => {
    t = await createTestApp();
    redis = new Redis(process.env.REDIS_URL!, { keyPrefix: 'clavis:' });
    key = await generateKey('ES256');
    client = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
  });
  afterAll(async () => {
    await redis?.quit();
    await t?.close();
  });

  const h = (v: string) => createHash('sha256').update(v, 'utf8').digest('base64url');
  /** The TTL (ms) Redis holds for the jti of a freshly accepted assertion. */
  const ttlOf = async (claims: (now: number) => Record<string, unknown>) => {
    const jti = randomUUID();
    const jwt = await assertion(client.clientId, key, t.issuer, {
      now: t.clock.nowSeconds(),
      claims: { ...claims(t.clock.nowSeconds()), jti },
    });
    expect((await tokenWithAssertion(t, jwt)).status).toBe(200);
    return redis.pttl(`jti:${h(client.clientId)}:${h(jti)}`);
  };
  // The server's clock stands still, Redis's runs: the TTL set is exact, what is left is a few ms less.
  const expectTtl = (ms: number, seconds: number) => {
    expect(ms).toBeLessThanOrEqual(seconds * 1000);
    expect(ms).toBeGreaterThan(seconds * 1000 - 5_000);
  };

  it('no iat, exp + 60 → TTL exp + skew − now = 90 s', async () =>
    expectTtl(await ttlOf((n) => ({ iat: undefined, exp: n + 60 })), 60 + SKEW));
  it('iat now, exp + 60 → 90 s', async () => expectTtl(await ttlOf((n) => ({ iat: n, exp: n + 60 })), 60 + SKEW));
  it('iat now, exp + 3600 → iat + cap + skew − now = 330 s', async () =>
    expectTtl(await ttlOf((n) => ({ iat: n, exp: n + 3600 })), CAP + SKEW));
  it('iat 100 s ago, exp + 3600 → 230 s', async () =>
    expectTtl(await ttlOf((n) => ({ iat: n - 100, exp: n + 3600 })), CAP + SKEW - 100));
  it('a fractional exp is rounded up', async () =>
    expectTtl(await ttlOf((n) => ({ iat: undefined, exp: n + 60.2 })), 61 + SKEW));
});
