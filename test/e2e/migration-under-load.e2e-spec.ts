import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientSecretBasic, privateKeyJwt, RegistrationClient, TokenClient, type Clock } from '@clavis/client';
import { expectOAuthError } from '../support/http.js';
import { generateKey } from '../support/keys.js';
import { tokenWithBasic } from '../support/registration.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Zero-downtime migration between authentication methods, under load: 8 instances of a
 * client_secret_basic service ask for tokens without pause; one RFC 7592 PUT
 * (`RegistrationClient.migrateToPrivateKeyJwt`) moves the client to private_key_jwt, then the
 * instances switch to the key one at a time. Not one token request may fail; after the overlap
 * (or retire-previous-secret) the secret is refused.
 */

const INSTANCES = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a fleet of 8 migrates from client_secret_basic to private_key_jwt under continuous load', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('one instance at a time: 0 failed token requests; afterwards Basic is refused and the key works', async () => {
    const { token: initialAccessToken } = await t.initialTokens.create({ uses: 1 });
    const registrar = new RegistrationClient({ issuer: t.issuer, registrationEndpoint: `${t.issuer}/register` });
    const reg = await registrar.register(
      { token_endpoint_auth_method: 'client_secret_basic', scope: 'statements:read', client_name: 'fleet' },
      { initialAccessToken },
    );
    const secret = reg.client_secret!;
    const key = await generateKey('ES256');
    const keyAuth = () => privateKeyJwt(reg.client_id, key.privateKey, { kid: key.kid, alg: key.alg });

    const clock: Clock = { now: () => t.clock.now() };
    const instances = Array.from({ length: INSTANCES }, () => ({
      tokens: new TokenClient({
        issuer: t.issuer,
        tokenEndpoint: t.tokenEndpoint,
        clientId: reg.client_id,
        auth: clientSecretBasic(reg.client_id, secret),
        clock,
      }),
      method: 'client_secret_basic' as 'client_secret_basic' | 'private_key_jwt',
      requests: { client_secret_basic: 0, private_key_jwt: 0 },
      failures: [] as string[],
    }));
    let stopped = false;
    const loops = instances.map(async (inst) => {
      for (let i = 0; !stopped && i < 5_000; i++) {
        const method = inst.method;
        inst.tokens.invalidate();
        try {
          await inst.tokens.getToken();
        } catch (e) {
          inst.failures.push(`${method}: ${(e as Error).message}`);
        }
        inst.requests[method]++;
      }
    });
    const total = () => instances.reduce((n, i) => n + i.requests.client_secret_basic + i.requests.private_key_jwt, 0);
    const progress = async (n: number) => {
      const target = total() + n;
      const end = Date.now() + 20_000;
      while (total() < target && Date.now() < end) await sleep(5);
      expect(total(), 'the fleet made no progress').toBeGreaterThanOrEqual(target);
    };

    await progress(80);
    // Instance 0 runs the migration: the key goes to the server and is stored, then it switches.
    await registrar.migrateToPrivateKeyJwt({
      newKey: { publicJwk: key.publicJwk, privateKey: key.privateKey, kid: key.kid },
      tokenClient: instances[0].tokens,
    });
    instances[0].method = 'private_key_jwt';
    await progress(40);
    // The others switch one at a time, each while the rest keep going with the old secret.
    for (let i = 1; i < INSTANCES; i++) {
      const before = instances[i].requests.private_key_jwt;
      instances[i].tokens.setAuth(keyAuth());
      instances[i].method = 'private_key_jwt';
      const end = Date.now() + 20_000;
      while (instances[i].requests.private_key_jwt < before + 10 && Date.now() < end) await sleep(2);
      await progress(16);
    }
    await progress(80);
    stopped = true;
    await Promise.all(loops);

    const withSecret = instances.reduce((n, i) => n + i.requests.client_secret_basic, 0);
    const withKey = instances.reduce((n, i) => n + i.requests.private_key_jwt, 0);
    const failures = instances.flatMap((i) => i.failures);
    console.log(
      `migration under load: ${JSON.stringify({ instances: INSTANCES, requests: total(), withSecret, withKey, failures: failures.length })}`,
    );
    expect(failures).toEqual([]);
    expect(withSecret).toBeGreaterThan(150);
    expect(withKey).toBeGreaterThan(150);
    for (const inst of instances) expect(inst.requests.private_key_jwt).toBeGreaterThanOrEqual(10);

    // Inside the overlap the secret still works with Basic; after it, refused.
    expect((await tokenWithBasic(t, reg.client_id, secret)).status).toBe(200);
    t.clock.advance(86_400);
    expectOAuthError(await tokenWithBasic(t, reg.client_id, secret), 401, 'invalid_client');
    instances[3].tokens.invalidate();
    expect(await instances[3].tokens.getToken()).toBeTruthy();
    expect((await registrar.read()).token_endpoint_auth_method).toBe('private_key_jwt');
  }, 120_000);
});
