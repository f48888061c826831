import { decodeJwt } from 'jose';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needs } from '../support/requirements.js';
import { HousekeepingService } from '@clavis/server';
import { basic, postForm } from '../support/http.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * A revocation lasts until the token's `exp`, housekeeping included: a deny-list entry purged any
 * earlier (e.g. kept only until `iat`) would make the revoked token active again. Runs on the
 * database deny list (SQLite, or PostgreSQL with DATABASE_URL); Redis has its own check below.
 */
describe('revocation survives housekeeping until the token expires (database deny list)', () => {
  let t: TestApp;
  let c: { clientId: string; clientSecret: string };
  beforeAll(async () => {
    t = await createTestApp({ env: { REDIS_URL: undefined } });
    c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
  });
  afterAll(() => t.close());

  const newToken = async () =>
    (await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, basic(c.clientId, c.clientSecret))).json
      .access_token as string;
  const introspect = async (token: string) =>
    (await postForm(`${t.baseUrl}/introspect`, { token }, basic(c.clientId, c.clientSecret))).json;
  const statements = async (token: string) =>
    (await fetch(`${t.baseUrl}/statements`, { headers: { authorization: `Bearer ${token}` } })).status;

  it('revoke → clock to 1 s before exp → housekeeping → still inactive (and refused by the guard); purged only after exp', async () => {
    const revoked = await newToken();
    const control = await newToken();
    const { iat, exp } = decodeJwt(revoked) as { iat: number; exp: number };
    expect((await postForm(`${t.baseUrl}/revoke`, { token: revoked }, basic(c.clientId, c.clientSecret))).status).toBe(
      200,
    );
    expect(await introspect(revoked)).toEqual({ active: false });

    const housekeeping = t.app.get(HousekeepingService);
    // Housekeeping at several points of the token's life, the last one second before exp.
    for (const at of [iat + 1, Math.floor((iat + exp) / 2), exp - 1]) {
      t.clock.set(at * 1000);
      await housekeeping.runOnce();
      expect(await introspect(revoked), `introspection at iat+${at - iat}`).toEqual({ active: false });
      expect(await statements(revoked), `guard at iat+${at - iat}`).toBe(401);
      expect((await introspect(control)).active, 'an unrevoked token of the same age is still active').toBe(true);
    }

    // After exp the entry may go: the token is expired anyway.
    t.clock.set((exp + 1) * 1000);
    expect((await housekeeping.runOnce()).revoked).toBeGreaterThanOrEqual(1);
    expect(await introspect(revoked)).toEqual({ active: false });
  });
});

/** With Redis, the deny-list entry's TTL must reach the token's exp (Redis expires in real time; the test clock stands still). */
describe('revocation in Redis lasts until exp (TTL)', needs('redis'), () => {
  let t: TestApp;
  let redis: Redis;
  beforeAll(async () => {
    t = await createTestApp({ env: { REDIS_URL: process.env.REDIS_URL } });
    redis = new Redis(process.env.REDIS_URL!, { keyPrefix: 'clavis:', lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    await redis?.quit();
    await t?.close();
  });

  it('the revoked:<jti> key expires no earlier than exp − now', async () => {
    const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const token = (
      await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, basic(c.clientId, c.clientSecret))
    ).json.access_token as string;
    const { jti, exp } = decodeJwt(token) as { jti: string; exp: number };
    expect((await postForm(`${t.baseUrl}/revoke`, { token }, basic(c.clientId, c.clientSecret))).status).toBe(200);
    const ttl = await redis.ttl(`revoked:${jti}`);
    const expected = exp - t.clock.nowSeconds();
    expect(ttl).toBeGreaterThanOrEqual(expected - 2); // a second or two of real time may pass
    expect(ttl).toBeLessThanOrEqual(expected);
  });
});
