import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOAuthError } from '../support/http.js';
import { assertion, generateKey } from '../support/keys.js';
import {
  expectRegistrationError,
  registrationApi,
  tokenWithAssertion,
  tokenWithBasic,
  tokenWithPost,
} from '../support/registration.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const DAY = 86_400;

/** Every secret and registration token issued in this file, to check none reaches an audit event. */
const issued: string[] = [];

/**
 * A client registered over HTTP, and the credentials it holds now. `put()` does what a client
 * rotating its own secret does (RFC 7592 PUT of its metadata) and adopts what comes back.
 */
async function registered(t: TestApp, metadata: Record<string, unknown> = {}) {
  const api = registrationApi(t);
  const reg = await api.registerOk({ scope: 'statements:read', ...metadata });
  const keep = (body: any) => {
    for (const k of ['client_secret', 'registration_access_token'])
      if (typeof body[k] === 'string') issued.push(body[k]);
  };
  keep(reg);
  const state = {
    clientId: reg.client_id as string,
    uri: reg.registration_client_uri as string,
    secret: reg.client_secret as string,
    expiresAt: reg.client_secret_expires_at as number,
    token: reg.registration_access_token as string,
    metadata: { scope: 'statements:read', ...metadata },
    async put(extra: Record<string, unknown> = {}) {
      const res = await api.update(state.uri, { ...state.metadata, client_id: state.clientId, ...extra }, state.token);
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      keep(res.json);
      state.token = res.json.registration_access_token;
      if (res.json.client_secret) state.secret = res.json.client_secret;
      state.expiresAt = res.json.client_secret_expires_at;
      return res.json;
    },
  };
  return state;
}

function expectNoCredentialInAudit(t: TestApp): void {
  const recorded = JSON.stringify(t.audit.events);
  for (const c of issued) expect(recorded).not.toContain(c);
}

describe('secret rotation, default settings (overlap 24 h, no TTL, rotate on update)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());
  const ok = async (clientId: string, secret: string) =>
    expect((await tokenWithBasic(t, clientId, secret)).status).toBe(200);
  const fails = async (clientId: string, secret: string) =>
    expectOAuthError(await tokenWithBasic(t, clientId, secret), 401, 'invalid_client');

  it('PUT returns a new client_secret and client_secret_expires_at; the previous one works until the overlap ends', async () => {
    const c = await registered(t);
    const first = c.secret;
    const rotatedAt = t.clock.nowSeconds();
    const body = await c.put();
    issued.push(first, body.client_secret, body.registration_access_token);
    expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(body.client_secret).not.toBe(first);
    expect(body.client_secret_expires_at).toBe(0);
    await ok(c.clientId, first);
    await ok(c.clientId, c.secret);
    t.clock.advance(DAY - 1);
    await ok(c.clientId, first);
    t.clock.advance(1);
    await fails(c.clientId, first);
    await ok(c.clientId, c.secret);
    expect(t.audit.ofType('client.secret_rotated').filter((e) => e.clientId === c.clientId)).toEqual([
      { type: 'client.secret_rotated', clientId: c.clientId, previousSecretValidUntil: rotatedAt + DAY },
    ]);
  });

  it('well past the overlap, still only the new secret works', async () => {
    const c = await registered(t);
    const first = c.secret;
    await c.put();
    t.clock.advance(30 * DAY);
    await fails(c.clientId, first);
    await ok(c.clientId, c.secret);
  });

  it('at most two valid secrets: a second rotation inside the window retires the oldest at once', async () => {
    const c = await registered(t);
    const s1 = c.secret;
    await c.put();
    const s2 = c.secret;
    t.clock.advance(3600);
    await c.put();
    const s3 = c.secret;
    issued.push(s1, s2, s3);
    await fails(c.clientId, s1);
    await ok(c.clientId, s2);
    await ok(c.clientId, s3);
    // the overlap of s2 counts from the second rotation
    t.clock.advance(DAY - 1);
    await ok(c.clientId, s2);
    t.clock.advance(1);
    await fails(c.clientId, s2);
    await ok(c.clientId, s3);
    const found = await t.clients.findWithSecrets(c.clientId);
    expect(found!.secrets.length).toBeLessThanOrEqual(2);
  });

  it('three rotations in a row at the same instant: only the newest two work', async () => {
    const c = await registered(t);
    const secrets = [c.secret];
    for (let i = 0; i < 3; i++) secrets.push((await c.put()).client_secret);
    await fails(c.clientId, secrets[0]);
    await fails(c.clientId, secrets[1]);
    await ok(c.clientId, secrets[2]);
    await ok(c.clientId, secrets[3]);
  });

  it('client_secret_post rotates the same way', async () => {
    const c = await registered(t, { token_endpoint_auth_method: 'client_secret_post' });
    const first = c.secret;
    await c.put();
    expect((await tokenWithPost(t, c.clientId, first)).status).toBe(200);
    expect((await tokenWithPost(t, c.clientId, c.secret)).status).toBe(200);
    t.clock.advance(DAY);
    expectOAuthError(await tokenWithPost(t, c.clientId, first), 401, 'invalid_client');
    expect((await tokenWithPost(t, c.clientId, c.secret)).status).toBe(200);
  });

  it('client_secret_jwt: assertions signed with either secret verify during the overlap (HS256), only the new one after', async () => {
    const c = await registered(t, { token_endpoint_auth_method: 'client_secret_jwt' });
    const first = c.secret;
    await c.put();
    issued.push(first, c.secret);
    const signed = (secret: string) =>
      assertion(c.clientId, { privateKey: new TextEncoder().encode(secret), alg: 'HS256' }, t.issuer, {
        now: t.clock.nowSeconds(),
      });
    const withOld = await signed(first);
    const withNew = await signed(c.secret);
    issued.push(withOld, withNew);
    expect((await tokenWithAssertion(t, withOld)).status).toBe(200);
    expect((await tokenWithAssertion(t, withNew)).status).toBe(200);
    t.clock.advance(DAY);
    expectOAuthError(await tokenWithAssertion(t, await signed(first)), 401, 'invalid_client');
    expect((await tokenWithAssertion(t, await signed(c.secret))).status).toBe(200);
  });

  it('client_secret_jwt with HS512: both 64-byte secrets verify during the overlap', async () => {
    const c = await registered(t, {
      token_endpoint_auth_method: 'client_secret_jwt',
      token_endpoint_auth_signing_alg: 'HS512',
    });
    const first = c.secret;
    await c.put();
    const signed = (secret: string) =>
      assertion(c.clientId, { privateKey: new TextEncoder().encode(secret), alg: 'HS512' }, t.issuer, {
        now: t.clock.nowSeconds(),
      });
    expect((await tokenWithAssertion(t, await signed(first))).status).toBe(200);
    expect((await tokenWithAssertion(t, await signed(c.secret))).status).toBe(200);
  });

  it('the rotated secret is returned only once: GET shows neither secret', async () => {
    const c = await registered(t);
    const body = await c.put();
    const read = await registrationApi(t).read(c.uri, c.token);
    expect(read.status).toBe(200);
    expect(read.json.client_secret).toBeUndefined();
    expect(read.text).not.toContain(body.client_secret);
    expect(read.json.client_secret_expires_at).toBe(0);
  });

  it('a PUT on a private_key_jwt client issues no secret', async () => {
    const key = await generateKey('ES256');
    const c = await registered(t, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    const body = await c.put();
    expect(body.client_secret).toBeUndefined();
    expect(body.client_secret_expires_at).toBe(0);
    expect(t.audit.ofType('client.secret_rotated').filter((e) => e.clientId === c.clientId)).toEqual([]);
  });

  describe('operator rotation (service)', () => {
    it('rotateSecret: old and new work; retirePreviousSecret ends the overlap at once', async () => {
      const c = await registered(t);
      const first = c.secret;
      const now = t.clock.nowSeconds();
      const rotated = await t.clients.rotateSecret(c.clientId);
      issued.push(rotated.clientSecret!);
      expect(rotated.clientSecret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(rotated.clientSecretExpiresAt).toBe(0);
      expect(rotated.registrationAccessToken).toBeUndefined();
      await ok(c.clientId, first);
      await ok(c.clientId, rotated.clientSecret!);
      expect(t.audit.ofType('client.secret_rotated').filter((e) => e.clientId === c.clientId)).toEqual([
        { type: 'client.secret_rotated', clientId: c.clientId, previousSecretValidUntil: now + DAY },
      ]);

      expect(await t.clients.retirePreviousSecret(c.clientId)).toBe(true);
      await fails(c.clientId, first);
      await ok(c.clientId, rotated.clientSecret!);
      expect(t.audit.ofType('client.previous_secret_retired').filter((e) => e.clientId === c.clientId)).toEqual([
        { type: 'client.previous_secret_retired', clientId: c.clientId },
      ]);
      // nothing left to retire
      expect(await t.clients.retirePreviousSecret(c.clientId)).toBe(false);
      expect(t.audit.ofType('client.previous_secret_retired').filter((e) => e.clientId === c.clientId)).toHaveLength(1);
      // the registration access token is untouched by operator rotation
      expect((await registrationApi(t).read(c.uri, c.token)).status).toBe(200);
    });

    it('rotateSecret with overlap 0: the old secret stops at once', async () => {
      const c = await registered(t);
      const rotated = await t.clients.rotateSecret(c.clientId, 0);
      await fails(c.clientId, c.secret);
      await ok(c.clientId, rotated.clientSecret!);
      expect(t.audit.ofType('client.secret_rotated').filter((e) => e.clientId === c.clientId)).toEqual([
        { type: 'client.secret_rotated', clientId: c.clientId, previousSecretValidUntil: null },
      ]);
    });

    it('rotateSecret with a shorter overlap', async () => {
      const c = await registered(t);
      const rotated = await t.clients.rotateSecret(c.clientId, 60);
      t.clock.advance(59);
      await ok(c.clientId, c.secret);
      t.clock.advance(1);
      await fails(c.clientId, c.secret);
      await ok(c.clientId, rotated.clientSecret!);
    });

    it('client_secret_jwt: retirePreviousSecret stops the old HMAC key at once', async () => {
      const c = await registered(t, { token_endpoint_auth_method: 'client_secret_jwt' });
      const rotated = await t.clients.rotateSecret(c.clientId);
      const signed = (secret: string) =>
        assertion(c.clientId, { privateKey: new TextEncoder().encode(secret), alg: 'HS256' }, t.issuer, {
          now: t.clock.nowSeconds(),
        });
      expect((await tokenWithAssertion(t, await signed(c.secret))).status).toBe(200);
      await t.clients.retirePreviousSecret(c.clientId);
      expectOAuthError(await tokenWithAssertion(t, await signed(c.secret)), 401, 'invalid_client');
      expect((await tokenWithAssertion(t, await signed(rotated.clientSecret!))).status).toBe(200);
    });

    it('rotateSecret on a private_key_jwt client or an unknown client fails', async () => {
      const key = await generateKey('ES256');
      const c = await registered(t, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
      await expect(t.clients.rotateSecret(c.clientId)).rejects.toMatchObject({ code: 'invalid_client_metadata' });
      await expect(t.clients.rotateSecret('no-such-client')).rejects.toMatchObject({ name: 'ClientNotFoundError' });
      await expect(t.clients.retirePreviousSecret('no-such-client')).rejects.toMatchObject({
        name: 'ClientNotFoundError',
      });
    });

    it('a PUT right after an operator rotation keeps the two newest secrets', async () => {
      const c = await registered(t);
      const s1 = c.secret;
      const s2 = (await t.clients.rotateSecret(c.clientId)).clientSecret!;
      await c.put();
      await fails(c.clientId, s1);
      await ok(c.clientId, s2);
      await ok(c.clientId, c.secret);
    });
  });

  it('a PUT that fails validation rotates nothing', async () => {
    const c = await registered(t);
    const res = await registrationApi(t).update(c.uri, { client_id: c.clientId, scope: 'admin' }, c.token);
    expectRegistrationError(res, 400, 'invalid_client_metadata');
    const found = await t.clients.findWithSecrets(c.clientId);
    expect(found!.secrets).toHaveLength(1);
    await ok(c.clientId, c.secret);
  });

  it('no secret, registration token or assertion appears in any audit event', () => {
    expect(issued.length).toBeGreaterThan(5);
    expectNoCredentialInAudit(t);
  });
});

describe('SECRET_ROTATION_OVERLAP=0', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SECRET_ROTATION_OVERLAP: '0' } });
  });
  afterAll(() => t.close());

  it('PUT: the old secret fails immediately, the new one works', async () => {
    const c = await registered(t);
    const first = c.secret;
    await c.put();
    expectOAuthError(await tokenWithBasic(t, c.clientId, first), 401, 'invalid_client');
    expect((await tokenWithBasic(t, c.clientId, c.secret)).status).toBe(200);
    expect(t.audit.ofType('client.secret_rotated').filter((e) => e.clientId === c.clientId)).toEqual([
      { type: 'client.secret_rotated', clientId: c.clientId, previousSecretValidUntil: null },
    ]);
  });
  it('service rotation: the same', async () => {
    const c = await registered(t);
    const rotated = await t.clients.rotateSecret(c.clientId);
    expectOAuthError(await tokenWithBasic(t, c.clientId, c.secret), 401, 'invalid_client');
    expect((await tokenWithBasic(t, c.clientId, rotated.clientSecret!)).status).toBe(200);
  });
  it('client_secret_jwt: the old HMAC key fails immediately', async () => {
    const c = await registered(t, { token_endpoint_auth_method: 'client_secret_jwt' });
    const first = c.secret;
    await c.put();
    const signed = (secret: string) =>
      assertion(c.clientId, { privateKey: new TextEncoder().encode(secret), alg: 'HS256' }, t.issuer, {
        now: t.clock.nowSeconds(),
      });
    expectOAuthError(await tokenWithAssertion(t, await signed(first)), 401, 'invalid_client');
    expect((await tokenWithAssertion(t, await signed(c.secret))).status).toBe(200);
  });
});

describe('SECRET_ROTATION_OVERLAP=600', () => {
  it('the configured overlap applies to PUT and to the service', async () => {
    const t = await createTestApp({ env: { SECRET_ROTATION_OVERLAP: '600' } });
    try {
      const a = await registered(t);
      const b = await registered(t);
      const firstA = a.secret;
      await a.put();
      const rotatedB = await t.clients.rotateSecret(b.clientId);
      t.clock.advance(599);
      expect((await tokenWithBasic(t, a.clientId, firstA)).status).toBe(200);
      expect((await tokenWithBasic(t, b.clientId, b.secret)).status).toBe(200);
      t.clock.advance(1);
      expectOAuthError(await tokenWithBasic(t, a.clientId, firstA), 401, 'invalid_client');
      expectOAuthError(await tokenWithBasic(t, b.clientId, b.secret), 401, 'invalid_client');
      expect((await tokenWithBasic(t, a.clientId, a.secret)).status).toBe(200);
      expect((await tokenWithBasic(t, b.clientId, rotatedB.clientSecret!)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('CLIENT_SECRET_TTL=3600', () => {
  let t: TestApp;
  const TTL = 3600;
  beforeAll(async () => {
    t = await createTestApp({ env: { CLIENT_SECRET_TTL: String(TTL) } });
  });
  afterAll(() => t.close());

  it('registration returns client_secret_expires_at; the secret works until then, invalid_client after', async () => {
    const issuedAt = t.clock.nowSeconds();
    const c = await registered(t);
    expect(c.expiresAt).toBe(issuedAt + TTL);
    expect((await registrationApi(t).read(c.uri, c.token)).json.client_secret_expires_at).toBe(issuedAt + TTL);
    t.clock.advance(TTL - 1);
    expect((await tokenWithBasic(t, c.clientId, c.secret)).status).toBe(200);
    t.clock.advance(1);
    expectOAuthError(await tokenWithBasic(t, c.clientId, c.secret), 401, 'invalid_client');
    const failures = t.audit.ofType('client.authentication_failed').filter((e) => e.clientId === c.clientId);
    expect(failures.at(-1)).toMatchObject({ reason: 'secret_mismatch' });
  });

  it('client_secret_post and client_secret_jwt secrets expire too', async () => {
    const post = await registered(t, { token_endpoint_auth_method: 'client_secret_post' });
    const jwt = await registered(t, { token_endpoint_auth_method: 'client_secret_jwt' });
    expect(post.expiresAt).toBe(t.clock.nowSeconds() + TTL);
    expect(jwt.expiresAt).toBe(t.clock.nowSeconds() + TTL);
    t.clock.advance(TTL);
    expectOAuthError(await tokenWithPost(t, post.clientId, post.secret), 401, 'invalid_client');
    const a = await assertion(
      jwt.clientId,
      { privateKey: new TextEncoder().encode(jwt.secret), alg: 'HS256' },
      t.issuer,
      { now: t.clock.nowSeconds() },
    );
    expectOAuthError(await tokenWithAssertion(t, a), 401, 'invalid_client');
  });

  it('a rotation gives the new secret a fresh expiry; the previous one never outlives its own', async () => {
    const start = t.clock.nowSeconds();
    const c = await registered(t);
    const first = c.secret;
    t.clock.advance(1800);
    const body = await c.put();
    expect(body.client_secret_expires_at).toBe(start + 1800 + TTL);
    // the overlap (24 h) is cut short by the first secret's own expiry
    t.clock.advance(1799);
    expect((await tokenWithBasic(t, c.clientId, first)).status).toBe(200);
    t.clock.advance(1);
    expectOAuthError(await tokenWithBasic(t, c.clientId, first), 401, 'invalid_client');
    expect((await tokenWithBasic(t, c.clientId, c.secret)).status).toBe(200);
    t.clock.advance(1800);
    expectOAuthError(await tokenWithBasic(t, c.clientId, c.secret), 401, 'invalid_client');
  });

  it('a client whose secret expired recovers with a PUT (its registration token still works)', async () => {
    const c = await registered(t);
    const first = c.secret;
    t.clock.advance(TTL + 10);
    expectOAuthError(await tokenWithBasic(t, c.clientId, first), 401, 'invalid_client');
    // the expired secret's expiry, in the past: never 0, which would mean "does not expire"
    expect((await registrationApi(t).read(c.uri, c.token)).json.client_secret_expires_at).toBe(c.expiresAt);
    expect(c.expiresAt).toBeLessThan(t.clock.nowSeconds());
    const body = await c.put();
    expect(body.client_secret_expires_at).toBe(t.clock.nowSeconds() + TTL);
    expect((await tokenWithBasic(t, c.clientId, c.secret)).status).toBe(200);
    expectOAuthError(await tokenWithBasic(t, c.clientId, first), 401, 'invalid_client');
  });

  it('retirePreviousSecret after the current secret expired keeps reporting that expiry (not 0 = never)', async () => {
    const c = await registered(t);
    const rotated = await t.clients.rotateSecret(c.clientId);
    t.clock.advance(TTL);
    expect(await t.clients.retirePreviousSecret(c.clientId)).toBe(true);
    expect(await t.clients.retirePreviousSecret(c.clientId)).toBe(false);
    expect((await registrationApi(t).read(c.uri, c.token)).json.client_secret_expires_at).toBe(
      rotated.clientSecretExpiresAt,
    );
    expectOAuthError(await tokenWithBasic(t, c.clientId, rotated.clientSecret!), 401, 'invalid_client');
  });

  it('operator rotation returns the expiry', async () => {
    const c = await registered(t);
    const rotated = await t.clients.rotateSecret(c.clientId);
    expect(rotated.clientSecretExpiresAt).toBe(t.clock.nowSeconds() + TTL);
  });

  it('a private_key_jwt client: client_secret_expires_at is 0', async () => {
    const key = await generateKey('ES256');
    const c = await registered(t, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    expect(c.expiresAt).toBe(0);
  });
});

describe('ROTATE_SECRET_ON_UPDATE=false', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { ROTATE_SECRET_ON_UPDATE: 'false' } });
  });
  afterAll(() => t.close());

  it('PUT returns no new secret, the old one keeps working, the registration token still rotates', async () => {
    const c = await registered(t, { client_name: 'before' });
    const oldToken = c.token;
    const first = c.secret;
    const body = await c.put({ client_name: 'after' });
    expect(body.client_secret).toBeUndefined();
    expect(body.client_secret_expires_at).toBe(0);
    expect(body.client_name).toBe('after');
    expect(c.secret).toBe(first);
    expect(body.registration_access_token).not.toBe(oldToken);
    expectRegistrationError(await registrationApi(t).read(c.uri, oldToken), 401, 'invalid_token');
    t.clock.advance(2 * DAY);
    expect((await tokenWithBasic(t, c.clientId, first)).status).toBe(200);
    expect(t.audit.ofType('client.secret_rotated').filter((e) => e.clientId === c.clientId)).toEqual([]);
  });

  it('the operator can still rotate', async () => {
    const c = await registered(t);
    const rotated = await t.clients.rotateSecret(c.clientId);
    expect((await tokenWithBasic(t, c.clientId, c.secret)).status).toBe(200);
    expect((await tokenWithBasic(t, c.clientId, rotated.clientSecret!)).status).toBe(200);
  });

  it('a change of secret kind still issues a fresh secret (a hash cannot become an HMAC key)', async () => {
    const c = await registered(t);
    const body = await c.put({ token_endpoint_auth_method: 'client_secret_jwt' });
    expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  });
});

describe('CLIENT_SECRET_TTL=3600 with ROTATE_SECRET_ON_UPDATE=false', () => {
  it('PUT keeps the secret and reports its expiry, also once it has passed (never 0)', async () => {
    const t = await createTestApp({ env: { CLIENT_SECRET_TTL: '3600', ROTATE_SECRET_ON_UPDATE: 'false' } });
    try {
      const c = await registered(t);
      const expiry = c.expiresAt;
      expect(expiry).toBe(t.clock.nowSeconds() + 3600);
      const body = await c.put();
      expect(body.client_secret).toBeUndefined();
      expect(body.client_secret_expires_at).toBe(expiry);
      t.clock.advance(3600);
      expect((await c.put()).client_secret_expires_at).toBe(expiry);
      expectOAuthError(await tokenWithBasic(t, c.clientId, c.secret), 401, 'invalid_client');
      const rotated = await t.clients.rotateSecret(c.clientId);
      expect(rotated.clientSecretExpiresAt).toBe(t.clock.nowSeconds() + 3600);
      expect((await tokenWithBasic(t, c.clientId, rotated.clientSecret!)).status).toBe(200);
      expect(await t.clients.secretExpiresAt(c.clientId)).toBe(t.clock.nowSeconds() + 3600);
    } finally {
      await t.close();
    }
  });
});
