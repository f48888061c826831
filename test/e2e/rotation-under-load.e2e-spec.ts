import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientSecretBasic,
  privateKeyJwt,
  RegistrationClient,
  TokenClient,
  type ClientAuth,
  type Clock,
} from '@clavis/client';
import { expectOAuthError } from '../support/http.js';
import { assertion, generateKey, type TestKey } from '../support/keys.js';
import { startJwksServer, tokenWithAssertion, tokenWithBasic, type JwksServer } from '../support/registration.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Zero-downtime rotation, under load: a fleet of client instances requests tokens without pause
 * while the client rotates its credential and the instances switch one by one. Not one token
 * request may fail; after the overlap only the new credential works.
 */

const INSTANCES = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Instance {
  tokens: TokenClient;
  /** Which credential the instance uses now. */
  credential: 'old' | 'new';
  requests: { old: number; new: number };
  failures: { credential: string; error: string }[];
}

/**
 * N simulated instances, each an async loop around its own TokenClient that asks the server for a
 * fresh token every time (the cache is dropped before each call). Bounded: a per-instance cap.
 */
function startFleet(t: TestApp, clientId: string, auth: () => ClientAuth, cap = 5_000) {
  const clock: Clock = { now: () => t.clock.now() };
  const instances: Instance[] = Array.from({ length: INSTANCES }, () => ({
    tokens: new TokenClient({ issuer: t.issuer, tokenEndpoint: t.tokenEndpoint, clientId, auth: auth(), clock }),
    credential: 'old',
    requests: { old: 0, new: 0 },
    failures: [],
  }));
  let stopped = false;
  const loops = instances.map(async (inst) => {
    for (let i = 0; !stopped && i < cap; i++) {
      const credential = inst.credential;
      inst.tokens.invalidate();
      try {
        await inst.tokens.getToken();
        inst.requests[credential]++;
      } catch (e) {
        inst.requests[credential]++;
        inst.failures.push({ credential, error: (e as Error).message });
      }
    }
  });
  const total = () => instances.reduce((n, i) => n + i.requests.old + i.requests.new, 0);
  return {
    instances,
    total,
    failures: () => instances.flatMap((i) => i.failures),
    /** Waits until the fleet has made `n` more requests (bounded by a deadline). */
    async progress(n: number, deadlineMs = 10_000) {
      const target = total() + n;
      const end = Date.now() + deadlineMs;
      while (total() < target && Date.now() < end) await sleep(5);
      expect(total(), 'the fleet made no progress').toBeGreaterThanOrEqual(target);
    },
    /** Waits until instance `i` has made `n` more requests with the new credential. */
    async progressOf(i: number, n: number, deadlineMs = 10_000) {
      const target = instances[i].requests.new + n;
      const end = Date.now() + deadlineMs;
      while (instances[i].requests.new < target && Date.now() < end) await sleep(2);
      expect(instances[i].requests.new).toBeGreaterThanOrEqual(target);
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
    summary() {
      return {
        instances: INSTANCES,
        requests: total(),
        withOld: instances.reduce((n, i) => n + i.requests.old, 0),
        withNew: instances.reduce((n, i) => n + i.requests.new, 0),
        failures: instances.reduce((n, i) => n + i.failures.length, 0),
      };
    },
  };
}

describe('secret rotation through RFC 7592 under load (client_secret_basic)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('8 instances, rotation by PUT, switch one by one: zero failed token requests; after the overlap only the new secret works', async () => {
    const { token: initialAccessToken } = await t.initialTokens.create({ uses: 1 });
    const registrar = new RegistrationClient({ issuer: t.issuer, registrationEndpoint: `${t.issuer}/register` });
    const reg = await registrar.register(
      { token_endpoint_auth_method: 'client_secret_basic', scope: 'statements:read', client_name: 'fleet' },
      { initialAccessToken },
    );
    const oldSecret = reg.client_secret!;
    const fleet = startFleet(t, reg.client_id, () => clientSecretBasic(reg.client_id, oldSecret));
    await fleet.progress(80);

    // The rotation: one PUT (RegistrationClient.rotateSecret) while all instances keep using the old secret.
    const { client_secret: newSecret } = await registrar.rotateSecret();
    expect(newSecret).not.toBe(oldSecret);
    await fleet.progress(80);

    // The instances pick up the new secret one at a time; the others keep going with the old one.
    for (let i = 0; i < INSTANCES; i++) {
      fleet.instances[i].tokens.setAuth(clientSecretBasic(reg.client_id, newSecret));
      fleet.instances[i].credential = 'new';
      await fleet.progressOf(i, 10);
      await fleet.progress(16);
    }
    await fleet.progress(80);
    await fleet.stop();
    const summary = fleet.summary();
    console.log(`secret rotation under load: ${JSON.stringify(summary)}`);
    expect(fleet.failures()).toEqual([]);
    expect(summary.withOld).toBeGreaterThan(150);
    expect(summary.withNew).toBeGreaterThan(150);

    // Still inside the overlap both work; past it (86 400 s) only the new one.
    expect((await tokenWithBasic(t, reg.client_id, oldSecret)).status).toBe(200);
    t.clock.advance(86_400);
    expectOAuthError(await tokenWithBasic(t, reg.client_id, oldSecret), 401, 'invalid_client');
    expect((await tokenWithBasic(t, reg.client_id, newSecret)).status).toBe(200);
    // The registration access token that came with the rotation is the one that works now.
    expect((await registrar.read()).client_id).toBe(reg.client_id);
  }, 60_000);
});

describe('key roll through jwks_uri under load (private_key_jwt)', () => {
  let t: TestApp;
  let jwks: JwksServer;
  let key1: TestKey;
  let key2: TestKey;
  beforeAll(async () => {
    t = await createTestApp();
    jwks = await startJwksServer();
    jwks.cacheControl = 'public, max-age=60';
    key1 = await generateKey('ES256');
    key2 = await generateKey('ES256');
  });
  afterAll(async () => {
    await t?.close();
    await jwks?.stop();
  });

  const COOLDOWN = 10; // the server's default unknown-kid refetch cooldown (s)
  const MAX_AGE = 60;

  async function registerPk(name: string) {
    jwks.keys = [key1.publicJwk];
    const { token: initialAccessToken } = await t.initialTokens.create({ uses: 1 });
    const registrar = new RegistrationClient({ issuer: t.issuer, registrationEndpoint: `${t.issuer}/register` });
    const uri = `${jwks.url()}?client=${name}`;
    const reg = await registrar.register(
      { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: uri, scope: 'statements:read', client_name: name },
      { initialAccessToken },
    );
    return reg.client_id;
  }
  const withKey = (clientId: string, key: TestKey) =>
    privateKeyJwt(clientId, key.privateKey, { kid: key.kid, alg: key.alg });

  /** After the roll: key1 assertions fail once the cached set expired, key2 assertions work. */
  async function expectOnlyKey2(clientId: string) {
    jwks.keys = [key2.publicJwk];
    t.clock.advance(MAX_AGE + 1);
    const now = t.clock.nowSeconds();
    expect((await tokenWithAssertion(t, await assertion(clientId, key2, t.issuer, { now }))).status).toBe(200);
    expectOAuthError(
      await tokenWithAssertion(t, await assertion(clientId, key1, t.issuer, { now })),
      401,
      'invalid_client',
    );
    expect((await tokenWithAssertion(t, await assertion(clientId, key2, t.issuer, { now }))).status).toBe(200);
  }

  it('publish key1+key2, wait out the cooldown, switch instances one by one: zero failures; after the cache expires only key2 works', async () => {
    const clientId = await registerPk('one-by-one');
    const fleet = startFleet(t, clientId, () => withKey(clientId, key1));
    await fleet.progress(60);

    // Publish old + new. The server still holds the set it fetched (fresh for max-age 60 s); an unknown kid
    // makes it refetch, at most once per cooldown after its last fetch. So the client waits one cooldown
    // after publishing before any instance signs with key2.
    jwks.keys = [key1.publicJwk, key2.publicJwk];
    await fleet.progress(30);
    t.clock.advance(COOLDOWN + 1);
    await fleet.progress(30);

    for (let i = 0; i < INSTANCES; i++) {
      fleet.instances[i].tokens.setAuth(withKey(clientId, key2));
      fleet.instances[i].credential = 'new';
      await fleet.progressOf(i, 6);
      await fleet.progress(10);
    }
    await fleet.progress(60);
    await fleet.stop();
    const summary = fleet.summary();
    console.log(
      `jwks_uri key roll (one by one) under load: ${JSON.stringify({ ...summary, jwksFetches: jwks.hits.get('/jwks') })}`,
    );
    expect(fleet.failures()).toEqual([]);
    expect(summary.withOld).toBeGreaterThan(80);
    expect(summary.withNew).toBeGreaterThan(80);

    // Drop key1 from the set; once the cached set expires (max-age 60 s) key1 fails and key2 works.
    await expectOnlyKey2(clientId);
  }, 60_000);

  it('the whole fleet switches to key2 at the same moment (concurrent unknown kids): still zero failures', async () => {
    const clientId = await registerPk('all-at-once');
    const fleet = startFleet(t, clientId, () => withKey(clientId, key1));
    await fleet.progress(60);
    jwks.keys = [key1.publicJwk, key2.publicJwk];
    t.clock.advance(COOLDOWN + 1);
    for (const inst of fleet.instances) {
      inst.tokens.setAuth(withKey(clientId, key2));
      inst.credential = 'new';
    }
    await fleet.progress(200);
    await fleet.stop();
    const summary = fleet.summary();
    console.log(`jwks_uri key roll (all at once) under load: ${JSON.stringify(summary)}`);
    expect(fleet.failures()).toEqual([]);
    expect(summary.withNew).toBeGreaterThan(150);
    await expectOnlyKey2(clientId);
  }, 60_000);
});
