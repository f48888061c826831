import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RegistrationClient, TokenClient, clientSecretBasic } from '@clavis/client';
import { expectOAuthError } from '../support/http.js';
import { assertion, generateKey, type TestKey } from '../support/keys.js';
import {
  expectRegistrationError,
  jsonRequest,
  registrationApi,
  tokenWithAssertion,
  tokenWithBasic,
  tokenWithPost,
} from '../support/registration.js';
import { createTestApp, freePort, type TestApp } from '../support/test-app.js';

const DAY = 86_400;

/** A client registered over HTTP with the credentials it holds, and `put()`: an RFC 7592 update adopting the answer. */
async function registered(t: TestApp, metadata: Record<string, unknown>) {
  const api = registrationApi(t);
  const reg = await api.registerOk({ scope: 'statements:read', ...metadata });
  const state = {
    clientId: reg.client_id as string,
    uri: reg.registration_client_uri as string,
    secret: reg.client_secret as string,
    token: reg.registration_access_token as string,
    async put(body: Record<string, unknown>) {
      const res = await api.update(
        state.uri,
        { scope: 'statements:read', client_id: state.clientId, ...body },
        state.token,
      );
      if (res.status === 200) state.token = res.json.registration_access_token;
      return res;
    },
  };
  return state;
}

const signed = (t: TestApp, clientId: string, key: TestKey) =>
  assertion(clientId, key, t.issuer, { now: t.clock.nowSeconds() });
const hmacSigned = (t: TestApp, clientId: string, secret: string) =>
  assertion(clientId, { privateKey: new TextEncoder().encode(secret), alg: 'HS256' }, t.issuer, {
    now: t.clock.nowSeconds(),
  });

describe('migration from a secret method to private_key_jwt (default overlap 24 h)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('client_secret_basic → private_key_jwt: the old secret works with Basic only until the overlap ends; the key works at once', async () => {
    const c = await registered(t, { token_endpoint_auth_method: 'client_secret_basic' });
    const key = await generateKey('ES256');
    const migratedAt = t.clock.nowSeconds();
    const res = await c.put({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.token_endpoint_auth_method).toBe('private_key_jwt');
    expect(res.json.client_secret).toBeUndefined();
    expect(res.json.client_secret_expires_at).toBe(0);
    expect(t.audit.events).toContainEqual({
      type: 'client.method_migrated',
      clientId: c.clientId,
      from: 'client_secret_basic',
      to: 'private_key_jwt',
      previousSecretValidUntil: migratedAt + DAY,
    });

    expect((await tokenWithBasic(t, c.clientId, c.secret)).status).toBe(200);
    expectOAuthError(await tokenWithPost(t, c.clientId, c.secret), 401, 'invalid_client');
    expect((await tokenWithAssertion(t, await signed(t, c.clientId, key))).status).toBe(200);
    // A wrong secret with the previous method is still a failure.
    expectOAuthError(await tokenWithBasic(t, c.clientId, `${c.secret}x`), 401, 'invalid_client');

    t.clock.advance(DAY - 1);
    expect((await tokenWithBasic(t, c.clientId, c.secret)).status).toBe(200);
    t.clock.advance(1);
    expectOAuthError(await tokenWithBasic(t, c.clientId, c.secret), 401, 'invalid_client');
    expect((await tokenWithAssertion(t, await signed(t, c.clientId, key))).status).toBe(200);
    expect(t.audit.events.filter((e) => e.type === 'client.authentication_failed').at(-1)).toMatchObject({
      clientId: c.clientId,
      reason: 'method_mismatch',
    });
  });

  it('retire-previous-secret ends the overlap at once', async () => {
    const c = await registered(t, { token_endpoint_auth_method: 'client_secret_basic' });
    const key = await generateKey('ES256');
    expect(
      (await c.put({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } })).status,
    ).toBe(200);
    expect((await tokenWithBasic(t, c.clientId, c.secret)).status).toBe(200);
    expect(await t.clients.retirePreviousSecret(c.clientId)).toBe(true);
    expectOAuthError(await tokenWithBasic(t, c.clientId, c.secret), 401, 'invalid_client');
    expect((await tokenWithAssertion(t, await signed(t, c.clientId, key))).status).toBe(200);
    expect(await t.clients.retirePreviousSecret(c.clientId)).toBe(false);
  });

  it('client_secret_post → private_key_jwt: the old secret works in the form only', async () => {
    const c = await registered(t, { token_endpoint_auth_method: 'client_secret_post' });
    const key = await generateKey('RS256');
    expect(
      (await c.put({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } })).status,
    ).toBe(200);
    expect((await tokenWithPost(t, c.clientId, c.secret)).status).toBe(200);
    expectOAuthError(await tokenWithBasic(t, c.clientId, c.secret), 401, 'invalid_client');
    expect((await tokenWithAssertion(t, await signed(t, c.clientId, key))).status).toBe(200);
  });

  it('client_secret_jwt → private_key_jwt: HMAC assertions with the old secret and signed ones with the key both work during the overlap', async () => {
    const c = await registered(t, {
      token_endpoint_auth_method: 'client_secret_jwt',
      token_endpoint_auth_signing_alg: 'HS256',
    });
    const key = await generateKey('ES256');
    const res = await c.put({
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [key.publicJwk] },
    });
    expect(res.status, res.text).toBe(200);
    expect((await tokenWithAssertion(t, await hmacSigned(t, c.clientId, c.secret))).status).toBe(200);
    expect((await tokenWithAssertion(t, await signed(t, c.clientId, key))).status).toBe(200);
    expectOAuthError(await tokenWithBasic(t, c.clientId, c.secret), 401, 'invalid_client');
    // An HMAC assertion with another secret, and a key assertion replayed, still fail.
    expectOAuthError(
      await tokenWithAssertion(t, await hmacSigned(t, c.clientId, 'x'.repeat(64))),
      401,
      'invalid_client',
    );
    t.clock.advance(DAY);
    expectOAuthError(await tokenWithAssertion(t, await hmacSigned(t, c.clientId, c.secret)), 401, 'invalid_client');
    expect((await tokenWithAssertion(t, await signed(t, c.clientId, key))).status).toBe(200);
  });

  it('a later update that keeps the key method keeps the overlap; moving back to a secret issues a fresh secret and ends it', async () => {
    const c = await registered(t, { token_endpoint_auth_method: 'client_secret_basic' });
    const key = await generateKey('ES256');
    const second = await generateKey('ES256');
    const keyed = { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } };
    expect((await c.put(keyed)).status).toBe(200);
    expect((await c.put({ ...keyed, jwks: { keys: [key.publicJwk, second.publicJwk] } })).status).toBe(200);
    expect((await tokenWithBasic(t, c.clientId, c.secret)).status).toBe(200);
    expect((await tokenWithAssertion(t, await signed(t, c.clientId, second))).status).toBe(200);

    const back = await c.put({ token_endpoint_auth_method: 'client_secret_basic' });
    expect(back.status, back.text).toBe(200);
    expect(back.json.client_secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expectOAuthError(await tokenWithBasic(t, c.clientId, c.secret), 401, 'invalid_client');
    expect((await tokenWithBasic(t, c.clientId, back.json.client_secret)).status).toBe(200);
  });

  it('GET of a migrating client shows the new method and no secret expiry', async () => {
    const c = await registered(t, { token_endpoint_auth_method: 'client_secret_basic' });
    const key = await generateKey('ES256');
    expect(
      (await c.put({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } })).status,
    ).toBe(200);
    const read = await registrationApi(t).read(c.uri, c.token);
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', client_secret_expires_at: 0 });
    expect(read.json.client_secret).toBeUndefined();
  });

  it('RegistrationClient.migrateToPrivateKeyJwt: stores the registration before switching, then the token client uses the key', async () => {
    const saved: Record<string, unknown>[] = [];
    const registrar = new RegistrationClient({
      issuer: t.issuer,
      allowInsecureHttp: true,
      onCredentials: (r) => {
        saved.push(r);
      },
    });
    const { token } = await t.initialTokens.create({ uses: 1 });
    const reg = await registrar.register(
      { scope: 'statements:read', token_endpoint_auth_method: 'client_secret_basic' },
      { initialAccessToken: token },
    );
    const old = new TokenClient({
      issuer: t.issuer,
      clientId: reg.client_id,
      auth: clientSecretBasic(reg.client_id, reg.client_secret!),
      allowInsecureHttp: true,
      clock: { now: () => t.clock.nowSeconds() * 1000 },
    });
    const migrating = new TokenClient({
      issuer: t.issuer,
      clientId: reg.client_id,
      auth: clientSecretBasic(reg.client_id, reg.client_secret!),
      allowInsecureHttp: true,
      clock: { now: () => t.clock.nowSeconds() * 1000 },
    });
    const key = await generateKey('ES256');
    const order: string[] = [];
    const getToken = migrating.getToken.bind(migrating);
    migrating.getToken = (...args) => {
      order.push(`token with ${migrating.auth.method} after ${saved.length} saves`);
      return getToken(...args);
    };
    const after = await registrar.migrateToPrivateKeyJwt({
      newKey: { publicJwk: key.publicJwk, privateKey: key.privateKey, kid: key.kid },
      tokenClient: migrating,
    });
    expect(after.token_endpoint_auth_method).toBe('private_key_jwt');
    expect(after.client_secret).toBeUndefined();
    expect(saved.at(-1)).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [expect.objectContaining({ kid: key.kid })] },
    });
    expect(order).toEqual(['token with private_key_jwt after 2 saves']);
    expect(migrating.auth.method).toBe('private_key_jwt');
    // The instance not yet switched keeps working with the old secret during the overlap.
    old.invalidate();
    expect(await old.getToken()).toBeTruthy();
    migrating.invalidate();
    expect(await migrating.getToken()).toBeTruthy();
  });
});

describe('migration with SECRET_ROTATION_OVERLAP=0', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SECRET_ROTATION_OVERLAP: '0' } });
  });
  afterAll(() => t.close());

  it('the previous secret stops at once', async () => {
    const c = await registered(t, { token_endpoint_auth_method: 'client_secret_basic' });
    const key = await generateKey('ES256');
    expect(
      (await c.put({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } })).status,
    ).toBe(200);
    expectOAuthError(await tokenWithBasic(t, c.clientId, c.secret), 401, 'invalid_client');
    expect((await tokenWithAssertion(t, await signed(t, c.clientId, key))).status).toBe(200);
  });
});

describe('operator policy ALLOWED_AUTH_METHODS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clavis-policy-'));
  const env = { SQLITE_PATH: join(dir, 'clavis.sqlite'), DATA_DIR: dir };
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('stops new secret clients while an existing one migrates to a key; the reverse is refused; metadata shows the policy', async () => {
    // Before the policy: a client_secret_basic client. Then a restart with the policy, same data, same address.
    const port = await freePort();
    t = await createTestApp({ env, port });
    const c = await registered(t, { token_endpoint_auth_method: 'client_secret_basic' });
    await t.close();

    t = await createTestApp({ env: { ...env, ALLOWED_AUTH_METHODS: 'private_key_jwt' }, port });
    const api = registrationApi(t);
    const meta = await jsonRequest(`${t.issuer}/.well-known/oauth-authorization-server`);
    expect(meta.json.token_endpoint_auth_methods_supported).toEqual(['private_key_jwt']);

    for (const method of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt']) {
      const { token } = await t.initialTokens.create({ uses: 1 });
      const refused = await api.register({ scope: 'statements:read', token_endpoint_auth_method: method }, token);
      expectRegistrationError(refused, 400, 'invalid_client_metadata');
      expect(refused.json.error_description).toContain(method);
      // The refused request did not use up the one-use token.
      expect(await t.initialTokens.isUsable(token)).toBe(true);
    }
    // Omitting the method means client_secret_basic (RFC 7591 §2): refused too.
    const { token: omitted } = await t.initialTokens.create({ uses: 1 });
    expectRegistrationError(await api.register({ scope: 'statements:read' }, omitted), 400, 'invalid_client_metadata');

    // The existing secret client keeps working, may update other metadata, and migrates to a key.
    expect((await tokenWithBasic(t, c.clientId, c.secret)).status).toBe(200);
    const renamed = await c.put({ token_endpoint_auth_method: 'client_secret_basic', client_name: 'billing' });
    expect(renamed.status, renamed.text).toBe(200);
    const secret = renamed.json.client_secret as string;
    const key = await generateKey('ES256');
    const moved = await c.put({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    expect(moved.status, moved.text).toBe(200);
    expect((await tokenWithBasic(t, c.clientId, secret)).status).toBe(200);
    expect((await tokenWithAssertion(t, await signed(t, c.clientId, key))).status).toBe(200);

    // Key → secret: the policy allows no secret method.
    const back = await c.put({ token_endpoint_auth_method: 'client_secret_post' });
    expectRegistrationError(back, 400, 'invalid_client_metadata');
    expect(back.json.error_description).toContain('client_secret_post');
    // Nor may the operator create one.
    await expect(t.clients.create({ tokenEndpointAuthMethod: 'client_secret_basic' })).rejects.toMatchObject({
      code: 'invalid_client_metadata',
    });
  });

  it('the admission ceiling (allowed_methods) still applies within the policy', async () => {
    t = await createTestApp({ env: { ...env, ALLOWED_AUTH_METHODS: 'client_secret_post,private_key_jwt' } });
    const { token } = await t.initialTokens.create({ uses: 2, allowedMethods: ['client_secret_post'] });
    const key = await generateKey('ES256');
    const api = registrationApi(t);
    const outside = await api.register(
      { scope: 'statements:read', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } },
      token,
    );
    expectRegistrationError(outside, 400, 'invalid_client_metadata');
    expect(outside.json.error_description).toContain("initial access token's");
    const ok = await api.register(
      { scope: 'statements:read', token_endpoint_auth_method: 'client_secret_post' },
      token,
    );
    expect(ok.status, ok.text).toBe(201);
    const meta = await jsonRequest(`${t.issuer}/.well-known/oauth-authorization-server`);
    expect(meta.json.token_endpoint_auth_methods_supported).toEqual(['client_secret_post', 'private_key_jwt']);
  });

  it('an unknown method name refuses to boot, naming it', async () => {
    await expect(
      createTestApp({ env: { ...env, ALLOWED_AUTH_METHODS: 'private_key_jwt,client_secret_magic' } }),
    ).rejects.toThrow(/ALLOWED_AUTH_METHODS.*client_secret_magic/);
  });
});
