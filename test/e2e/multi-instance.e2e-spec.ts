import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '@clavis/server';
import { IN_PROCESS_REVOCATION_CHECK_INTERVAL } from '../../libs/server/src/embedding/in-process-resource.module.js';
import { assertion, generateKey, JWT_BEARER, type TestKey } from '../support/keys.js';
import { basic, postForm } from '../support/http.js';
import { needs } from '../support/requirements.js';
import { createClient, createTestApp, freePort, type TestApp } from '../support/test-app.js';

/**
 * Two instances behind one issuer, sharing PostgreSQL (and Redis when REDIS_URL is set): they must
 * behave as one server. Several instances are a PostgreSQL deployment: SQLite is single-instance
 * (two connections to one file inside one Node process would block each other's event loop).
 */
describe('several instances behave as one server (PostgreSQL)', needs('postgres'), () => {
  let a: TestApp;
  let b: TestApp;
  let key: TestKey;
  let pk: { clientId: string };
  let sec: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    const portA = await freePort();
    const issuer = `http://127.0.0.1:${portA}`;
    const shared = { ISSUER: issuer };
    const start = Date.now();
    a = await createTestApp({ port: portA, env: shared, clock: new FixedClock(start) });
    b = await createTestApp({ env: shared, clock: new FixedClock(start) });
    key = await generateKey();
    pk = await createClient(a, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    sec = await createClient(b, { tokenEndpointAuthMethod: 'client_secret_basic', scope: 'statements:read' });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const tokenAt = (t: TestApp, params: Record<string, string>, headers: Record<string, string> = {}) =>
    postForm(`${t.baseUrl}/token`, { grant_type: 'client_credentials', ...params }, headers);

  it('one assertion sent to both at once → exactly one token', async () => {
    for (let round = 0; round < 5; round++) {
      const jwt = await assertion(pk.clientId, key, a.issuer, { now: a.clock.nowSeconds() });
      const params = { client_assertion_type: JWT_BEARER, client_assertion: jwt };
      const results = await Promise.all([
        tokenAt(a, params),
        tokenAt(b, params),
        tokenAt(a, params),
        tokenAt(b, params),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
    }
  });

  it('under concurrent load (40 assertions, each sent 3 times over both at once): exactly one token per jti', async () => {
    const jwts = await Promise.all(
      Array.from({ length: 40 }, () => assertion(pk.clientId, key, a.issuer, { now: a.clock.nowSeconds() })),
    );
    const results = await Promise.all(
      jwts.flatMap((jwt, i) =>
        [0, 1, 2].map((copy) =>
          tokenAt((i + copy) % 2 ? b : a, { client_assertion_type: JWT_BEARER, client_assertion: jwt }).then((r) => ({
            jwt,
            status: r.status,
          })),
        ),
      ),
    );
    expect(results.filter((r) => r.status !== 200 && r.status !== 401)).toEqual([]);
    const accepted = results.filter((r) => r.status === 200).map((r) => r.jwt);
    expect(accepted).toHaveLength(40);
    expect(new Set(accepted).size).toBe(40);
  });

  it("a client registered at A authenticates at B, and a token from A is active at B and accepted by B's guard", async () => {
    const tokA = (await tokenAt(a, {}, basic(sec.clientId, sec.clientSecret))).json.access_token;
    const intro = await postForm(`${b.baseUrl}/introspect`, { token: tokA }, basic(sec.clientId, sec.clientSecret));
    expect(intro.json).toMatchObject({ active: true, client_id: sec.clientId, iss: a.issuer });
    const res = await fetch(`${b.baseUrl}/statements`, { headers: { authorization: `Bearer ${tokA}` } });
    expect(res.status).toBe(200);
  });

  it("revoked at A → inactive at B at once, and refused by B's guard within its revocation check interval", async () => {
    const tokB = (await tokenAt(b, {}, basic(sec.clientId, sec.clientSecret))).json.access_token;
    expect((await fetch(`${b.baseUrl}/statements`, { headers: { authorization: `Bearer ${tokB}` } })).status).toBe(200);
    expect((await postForm(`${a.baseUrl}/revoke`, { token: tokB }, basic(sec.clientId, sec.clientSecret))).status).toBe(
      200,
    );
    expect(
      (await postForm(`${b.baseUrl}/introspect`, { token: tokB }, basic(sec.clientId, sec.clientSecret))).json,
    ).toEqual({ active: false });
    // B's guard checked this token a moment ago; it asks the shared deny list again once the bound has passed.
    b.clock.advance(IN_PROCESS_REVOCATION_CHECK_INTERVAL);
    expect((await fetch(`${b.baseUrl}/statements`, { headers: { authorization: `Bearer ${tokB}` } })).status).toBe(401);
  });

  it("client deleted at A → its tokens refused by B's guard within the revocation check interval", async () => {
    const gone = await createClient(a, { tokenEndpointAuthMethod: 'client_secret_basic', scope: 'statements:read' });
    const tok = (await tokenAt(b, {}, basic(gone.clientId, gone.clientSecret))).json.access_token;
    expect((await fetch(`${b.baseUrl}/statements`, { headers: { authorization: `Bearer ${tok}` } })).status).toBe(200);
    expect(await a.clients.delete(gone.clientId)).toBe(true);
    // The guard asks again once an interval has passed on B's clock; the client table's answer at B is
    // itself up to CLIENT_CACHE_STALENESS_MS (1 s, real time) old. So: one interval on B's clock per
    // attempt, and the refusal must come within the client cache's bound (plus slack for a loaded machine).
    const start = performance.now();
    for (;;) {
      b.clock.advance(IN_PROCESS_REVOCATION_CHECK_INTERVAL);
      const status = (await fetch(`${b.baseUrl}/statements`, { headers: { authorization: `Bearer ${tok}` } })).status;
      if (status === 401) break;
      expect(status).toBe(200);
      expect(performance.now() - start, 'still accepted past the client cache bound').toBeLessThan(1_000 + 4_000);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('a key rotation run by both at once → one active key; tokens from before still verify until they expire', async () => {
    const before = (await tokenAt(a, {}, basic(sec.clientId, sec.clientSecret))).json.access_token;
    const oldKid = decodeProtectedHeader(before).kid;
    const [ra, rb] = await Promise.all([a.keys.rotate({ force: true }), b.keys.rotate({ force: true })]);
    expect([ra.rotated, rb.rotated].filter(Boolean)).toHaveLength(1);
    expect(ra.activeKid).toBe(rb.activeKid);
    expect(ra.activeKid).not.toBe(oldKid);
    const records = await a.keys.list();
    expect(records.filter((k) => k.state === 'active')).toHaveLength(1);
    expect(records.filter((k) => k.state === 'next')).toHaveLength(0);

    for (const t of [a, b]) {
      const jwks = await (await fetch(`${t.baseUrl}/jwks`)).json();
      const kids = jwks.keys.map((k: { kid: string }) => k.kid);
      expect(kids).toEqual(expect.arrayContaining([oldKid, ra.activeKid]));
      await jwtVerify(before, createLocalJWKSet(jwks), { issuer: a.issuer, currentDate: t.clock.date() });
      const fresh = (await tokenAt(t, {}, basic(sec.clientId, sec.clientSecret))).json.access_token;
      expect(decodeProtectedHeader(fresh).kid).toBe(ra.activeKid);
      for (const tok of [before, fresh]) {
        expect((await fetch(`${a.baseUrl}/statements`, { headers: { authorization: `Bearer ${tok}` } })).status).toBe(
          200,
        );
        expect((await fetch(`${b.baseUrl}/statements`, { headers: { authorization: `Bearer ${tok}` } })).status).toBe(
          200,
        );
      }
    }
  });

  it('a second concurrent rotation round also leaves exactly one active key', async () => {
    const results = await Promise.all([
      a.keys.rotate({ force: true }),
      b.keys.rotate({ force: true }),
      a.keys.rotate({ force: true }),
    ]);
    expect(new Set(results.map((r) => r.activeKid)).size).toBeLessThanOrEqual(2);
    const records = await b.keys.list();
    expect(records.filter((k) => k.state === 'active')).toHaveLength(1);
  });
});
