import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CredentialUsageService, FixedClock } from '@clavis/server';
import { CredentialUsageRecorder } from '../../libs/server/src/usage/credential-usage.recorder.js';
import { assertion, generateKey } from '../support/keys.js';
import { registrationApi, startJwksServer, tokenWithAssertion, tokenWithBasic } from '../support/registration.js';
import { needs } from '../support/requirements.js';
import { createClient, createTestApp, freePort, type TestApp } from '../support/test-app.js';

/** Every secret issued here: none may appear in a credentials view. */
const issued: string[] = [];

/** A client registered over HTTP that can rotate its own secret (RFC 7592 PUT) and read itself (GET). */
async function registered(t: TestApp, metadata: Record<string, unknown> = {}) {
  const api = registrationApi(t);
  const reg = await api.registerOk({ scope: 'statements:read', ...metadata });
  const keep = (...values: unknown[]) => values.forEach((v) => typeof v === 'string' && issued.push(v));
  keep(reg.client_secret, reg.registration_access_token);
  const state = {
    clientId: reg.client_id as string,
    uri: reg.registration_client_uri as string,
    secret: reg.client_secret as string,
    token: reg.registration_access_token as string,
    async put() {
      const res = await api.update(
        state.uri,
        { scope: 'statements:read', ...metadata, client_id: state.clientId },
        state.token,
      );
      expect(res.status, res.text).toBe(200);
      keep(res.json.client_secret, res.json.registration_access_token);
      state.token = res.json.registration_access_token;
      state.secret = res.json.client_secret;
      return res.json;
    },
    async credentials(): Promise<any[]> {
      const res = await api.read(state.uri, state.token);
      expect(res.status, res.text).toBe(200);
      for (const s of issued) expect(JSON.stringify(res.json.credentials)).not.toContain(s);
      return res.json.credentials;
    },
  };
  return state;
}

const ok = async (t: TestApp, clientId: string, secret: string) =>
  expect((await tokenWithBasic(t, clientId, secret)).status).toBe(200);

describe('per-credential usage on RFC 7592 GET', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it("after a PUT rotation, the previous secret's last_used_at advances while an old caller uses it and stands still once it stops", async () => {
    const c = await registered(t);
    const old = c.secret;
    const t0 = t.clock.nowSeconds();
    await ok(t, c.clientId, old);
    const [first] = await c.credentials();
    expect(first).toMatchObject({
      type: 'client_secret',
      status: 'current',
      created_at: t0,
      expires_at: null,
      last_used_at: t0,
      use_count: 1,
      last_address: expect.stringMatching(/127\.0\.0\.1/),
    });
    expect(first.id).toMatch(/^[0-9a-f]{32}$/);

    t.clock.advance(60);
    const rotatedAt = t.clock.nowSeconds();
    const put = await c.put();
    expect(put.credentials.map((x: any) => x.status)).toEqual(['current', 'previous']);
    let [current, previous] = await c.credentials();
    expect(previous).toMatchObject({ id: first.id, status: 'previous', expires_at: rotatedAt + 86_400, use_count: 1 });
    expect(current).toMatchObject({ status: 'current', last_used_at: null, use_count: 0, created_at: rotatedAt });

    // An old instance keeps calling with the previous secret: its last use advances.
    for (let i = 1; i <= 3; i++) {
      t.clock.advance(120);
      await ok(t, c.clientId, old);
      if (i === 2) await t.app.get(CredentialUsageRecorder).flush(); // stored and pending add up, never twice
      [current, previous] = await c.credentials();
      expect(previous).toMatchObject({ last_used_at: t.clock.nowSeconds(), use_count: 1 + i });
    }
    const lastOldUse = t.clock.nowSeconds();

    // It stops; only the new secret is used from now on: the previous one's last use stands still.
    for (let i = 0; i < 3; i++) {
      t.clock.advance(300);
      await ok(t, c.clientId, c.secret);
    }
    await t.app.get(CredentialUsageRecorder).flush();
    [current, previous] = await c.credentials();
    expect(previous).toMatchObject({ last_used_at: lastOldUse, use_count: 4 });
    expect(current).toMatchObject({ last_used_at: t.clock.nowSeconds(), use_count: 3 });
  });

  it('a failed authentication counts nowhere', async () => {
    const c = await registered(t);
    expect((await tokenWithBasic(t, c.clientId, `${c.secret}x`)).status).toBe(401);
    const [only] = await c.credentials();
    expect(only).toMatchObject({ last_used_at: null, use_count: 0 });
  });

  it('client_secret_jwt: the secret whose HMAC key verified the assertion is the one counted', async () => {
    const c = await registered(t, { token_endpoint_auth_method: 'client_secret_jwt' });
    const old = c.secret;
    await c.put();
    const hmac = (secret: string) => ({ privateKey: new TextEncoder().encode(secret), alg: 'HS256' });
    for (const secret of [old, old, c.secret]) {
      const jwt = await assertion(c.clientId, hmac(secret), t.issuer, { now: t.clock.nowSeconds() });
      expect((await tokenWithAssertion(t, jwt)).status).toBe(200);
    }
    const [current, previous] = await c.credentials();
    expect(current).toMatchObject({ status: 'current', use_count: 1 });
    expect(previous).toMatchObject({ status: 'previous', use_count: 2 });
  });

  it('private_key_jwt: each key id on its own, a key without kid by its JWK thumbprint', async () => {
    const a = await generateKey('ES256');
    const b = await generateKey('ES256');
    const noKid = await generateKey('EdDSA');
    const { kid: _ignored, ...anonymous } = noKid.publicJwk;
    const c = await registered(t, {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [a.publicJwk, b.publicJwk, anonymous] },
    });
    for (const key of [a, a, { ...noKid, kid: undefined }]) {
      const jwt = await assertion(c.clientId, key, t.issuer, { now: t.clock.nowSeconds() });
      expect((await tokenWithAssertion(t, jwt)).status).toBe(200);
    }
    const views = await c.credentials();
    expect(views).toHaveLength(3);
    expect(views[0]).toMatchObject({ type: 'jwk', kid: a.kid, status: 'current', use_count: 2 });
    expect(views[1]).toMatchObject({ type: 'jwk', kid: b.kid, use_count: 0, last_used_at: null });
    expect(views[2]).toMatchObject({ type: 'jwk', kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), use_count: 1 });
  });

  it('private_key_jwt with a jwks_uri: the keys that were used are listed, each with its own count', async () => {
    const a = await generateKey('ES256');
    const b = await generateKey('ES256');
    const jwks = await startJwksServer();
    try {
      jwks.keys = [a.publicJwk, b.publicJwk];
      const c = await registered(t, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwks.url() });
      expect(await c.credentials()).toEqual([]);
      for (const key of [b, b, b, a]) {
        const jwt = await assertion(c.clientId, key, t.issuer, { now: t.clock.nowSeconds() });
        expect((await tokenWithAssertion(t, jwt)).status).toBe(200);
      }
      const views = await c.credentials();
      expect(views).toHaveLength(2);
      expect(views).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'jwk', kid: b.kid, use_count: 3, created_at: null }),
          expect.objectContaining({ type: 'jwk', kid: a.kid, use_count: 1 }),
        ]),
      );
    } finally {
      await jwks.stop();
    }
  });
});

/** Rows in the usage table, read straight from the database. */
async function storedUses(t: TestApp, clientId: string): Promise<number> {
  const db = t.app.get(DataSource);
  const param = db.options.type === 'postgres' ? '$1' : '?';
  const rows = await db.query(`SELECT use_count FROM clavis_credential_usage WHERE client_id = ${param}`, [clientId]);
  return rows.reduce((n: number, r: { use_count: string | number }) => n + Number(r.use_count), 0);
}

/**
 * Two instances on one database: each counts in memory and writes nothing per request; their
 * flushes add up (counts) and keep the latest use (time and address), whoever flushes last.
 */
function acrossInstances(env: () => Record<string, string>) {
  let a: TestApp;
  let b: TestApp;
  afterEach(async () => {
    await a?.close();
    await b?.close();
  });

  it('no write per request; flushes of two instances add up, the latest use wins', async () => {
    const port = await freePort();
    const start = Date.now();
    a = await createTestApp({
      port,
      env: { ...env(), ISSUER: `http://127.0.0.1:${port}` },
      clock: new FixedClock(start),
    });
    b = await createTestApp({ env: { ...env(), ISSUER: a.issuer }, clock: new FixedClock(start) });
    const c = await createClient(a, { tokenEndpointAuthMethod: 'client_secret_basic' });
    issued.push(c.clientSecret);
    a.clock.advance(10);
    b.clock.advance(20);
    for (let i = 0; i < 3; i++) await ok(a, c.clientId, c.clientSecret);
    for (let i = 0; i < 2; i++) await ok(b, c.clientId, c.clientSecret);
    expect(await storedUses(a, c.clientId)).toBe(0); // nothing written yet: counted in memory only

    // B flushes first, then A (whose uses are older): the latest use stays B's.
    await b.app.get(CredentialUsageRecorder).flush();
    await a.app.get(CredentialUsageRecorder).flush();
    expect(await storedUses(a, c.clientId)).toBe(5);
    const api = registrationApi(a);
    const read = await api.read(`${a.issuer}/register/${c.clientId}`, c.registrationAccessToken);
    expect(read.json.credentials).toEqual([
      expect.objectContaining({ status: 'current', use_count: 5, last_used_at: Math.floor(start / 1000) + 20 }),
    ]);
    // A second flush with nothing new changes nothing.
    await a.app.get(CredentialUsageRecorder).flush();
    expect(await storedUses(b, c.clientId)).toBe(5);
  });

  it('shutdown flushes what was counted; a restarted instance reads it', async () => {
    const start = Date.now();
    a = await createTestApp({ env: env(), clock: new FixedClock(start) });
    const c = await createClient(a, { tokenEndpointAuthMethod: 'client_secret_basic' });
    issued.push(c.clientSecret);
    for (let i = 0; i < 4; i++) await ok(a, c.clientId, c.clientSecret);
    expect(await storedUses(a, c.clientId)).toBe(0);
    await a.close();
    a = undefined as unknown as TestApp;
    b = await createTestApp({ env: env(), clock: new FixedClock(start) });
    expect(await storedUses(b, c.clientId)).toBe(4);
    expect(await credentialsOf(b, c.clientId)).toEqual([
      expect.objectContaining({ use_count: 4, last_used_at: Math.floor(start / 1000) }),
    ]);
  });
}

function credentialsOf(t: TestApp, clientId: string) {
  return t.app.get(CredentialUsageService).credentialsOf(clientId);
}

describe('usage across instances on one SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clavis-usage-'));
  let n = 0;
  let file = '';
  acrossInstances(() => {
    // One file per test; both instances of a test share it.
    if (!file) file = join(dir, `usage-${++n}.sqlite`);
    return { SQLITE_PATH: file, DATABASE_URL: '' };
  });
  afterEach(() => {
    file = '';
  });
});

describe('usage across instances on PostgreSQL', needs('postgres'), () => {
  acrossInstances(() => ({}));
});
