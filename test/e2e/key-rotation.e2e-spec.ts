import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HousekeepingService } from '@clavis/server';
import { assertion, generateKey, JWT_BEARER } from '../support/keys.js';
import { basic, postForm } from '../support/http.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

describe('signing-key rotation schedule and housekeeping', () => {
  let t: TestApp;
  let housekeeping: HousekeepingService;
  let c: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    // Period 2 h, announce 1 h (the defaults for retain margin and TTL: 300 s each).
    t = await createTestApp({
      env: { KEY_ROTATION_PERIOD: '7200', KEY_ROTATION_ANNOUNCE: '3600', REDIS_URL: undefined },
    });
    housekeeping = t.app.get(HousekeepingService);
    c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
  });
  afterAll(() => t.close());

  const token = async () =>
    (await postForm(`${t.baseUrl}/token`, { grant_type: 'client_credentials' }, basic(c.clientId, c.clientSecret))).json
      .access_token as string;
  const jwks = async () => (await (await fetch(`${t.baseUrl}/jwks`)).json()) as { keys: { kid: string }[] };
  // Keys other tests left in a shared PostgreSQL database are ignored: only next/active, and the two kids followed here.
  const states = async () =>
    Object.fromEntries((await t.keys.list()).filter((k) => k.state !== 'retired').map((k) => [k.kid, k.state]));

  it('announces a next key before it signs, then promotes it and keeps the old one published until its tokens expire', async () => {
    await t.keys.rotate({ force: true }); // start from a key activated now (the database may be shared)
    const first = decodeProtectedHeader(await token()).kid!;
    // Before the announce point nothing happens.
    t.clock.advance(3599);
    expect((await housekeeping.runOnce()).rotated).toBe(false);
    expect(Object.values(await states())).toEqual(['active']);

    // Announce point: a next key appears in /jwks, but tokens are still signed by the active key.
    t.clock.advance(2);
    await housekeeping.runOnce();
    const next = Object.entries(await states()).find(([, s]) => s === 'next')?.[0];
    expect(next).toBeDefined();
    t.keys.invalidate();
    expect((await jwks()).keys.map((k) => k.kid)).toEqual(expect.arrayContaining([first, next]));
    expect(decodeProtectedHeader(await token()).kid).toBe(first);

    // Period reached: the next key becomes active, the old one is retired but still published.
    t.clock.advance(3599);
    const during = await token();
    expect(decodeProtectedHeader(during).kid).toBe(first);
    t.clock.advance(1);
    expect((await housekeeping.runOnce()).rotated).toBe(true);
    expect(await states()).toEqual({ [next!]: 'active' });
    expect((await t.keys.list()).find((k) => k.kid === first)?.state).toBe('retired');
    t.keys.invalidate();
    const after = await token();
    expect(decodeProtectedHeader(after).kid).toBe(next);
    const set = createLocalJWKSet(await jwks());
    await jwtVerify(during, set, { currentDate: t.clock.date() });
    await jwtVerify(after, set, { currentDate: t.clock.date() });

    // After every token of the old key expired (+ skew + margin) it is purged and unpublished.
    t.clock.advance(300 + 30 + 300 + 1);
    expect((await housekeeping.runOnce()).keys).toBeGreaterThanOrEqual(1);
    const published = (await jwks()).keys.map((k) => k.kid);
    expect(published).toContain(next);
    expect(published).not.toContain(first);
  });

  it('keeps the assertion-id and deny-list tables bounded under sustained use', async () => {
    const key = await generateKey();
    const pk = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    const ds = t.app.get(DataSource);
    // Only this test's rows: the database may be shared with other tests.
    const revoked: string[] = [];
    const usedJtis = async () =>
      Number(
        (
          await ds
            .createQueryBuilder()
            .select('COUNT(*)', 'n')
            .from('clavis_used_jti', 'u')
            .where('u.client_id = :id', { id: pk.clientId })
            .getRawOne()
        ).n,
      );
    const revokedRows = async () =>
      revoked.length
        ? Number(
            (
              await ds
                .createQueryBuilder()
                .select('COUNT(*)', 'n')
                .from('clavis_revoked_token', 'r')
                .where('r.jti IN (:...jtis)', { jtis: revoked })
                .getRawOne()
            ).n,
          )
        : 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 40; i++) {
        const a = await assertion(pk.clientId, key, t.issuer, { now: t.clock.nowSeconds() });
        const res = await postForm(`${t.baseUrl}/token`, {
          grant_type: 'client_credentials',
          client_assertion_type: JWT_BEARER,
          client_assertion: a,
        });
        expect(res.status).toBe(200);
        if (i % 4 === 0)
          revoked.push(JSON.parse(Buffer.from(res.json.access_token.split('.')[1], 'base64url').toString()).jti);
        if (i % 4 === 0)
          await postForm(`${t.baseUrl}/revoke`, {
            token: res.json.access_token,
            client_assertion_type: JWT_BEARER,
            client_assertion: await assertion(pk.clientId, key, t.issuer, { now: t.clock.nowSeconds() }),
          });
      }
      // 40 token requests + 10 revocations = 50 assertions per round; 10 revoked tokens.
      expect(await usedJtis()).toBe(50);
      expect(await revokedRows()).toBe(10);
      t.clock.advance(400); // past every assertion's exp + skew, and every token's exp
      const purged = await housekeeping.runOnce();
      expect(purged.jtis).toBeGreaterThanOrEqual(50);
      expect(purged.revoked).toBeGreaterThanOrEqual(10);
      expect(await usedJtis()).toBe(0);
      expect(await revokedRows()).toBe(0);
      revoked.length = 0;
    }
  });
});
