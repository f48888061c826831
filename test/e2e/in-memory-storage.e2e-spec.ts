import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClavisServerModule, FixedClock, InitialAccessTokenService } from '@clavis/server';
import { CLAVIS_SERVER_OPTIONS } from '@clavis/server/testing';
import { inMemoryStorage, MemoryAuditSink } from '@clavis/server/testing';
import { basic, postForm } from '../support/http.js';
import { assertion, generateKey, JWT_BEARER, type TestKey } from '../support/keys.js';
import { jsonRequest } from '../support/registration.js';
import { freePort, TEST_KEK } from '../support/test-app.js';

/**
 * What a host's own e2e tests do: ClavisServerModule on the in-memory storage, in a Nest app with
 * no TypeORM (no TypeOrmModule, no DataSource, no database, no Redis), over real HTTP.
 */
describe('ClavisServerModule on inMemoryStorage(): no database, no TypeORM', () => {
  let app: INestApplication;
  let base: string;
  let initialToken: string;
  const clock = new FixedClock(Date.UTC(2026, 0, 1));
  const audit = new MemoryAuditSink();
  let key: TestKey;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClavisServerModule.forRoot({
          issuer: base,
          keyEncryptionKey: TEST_KEK,
          clock,
          auditSink: audit,
          storage: inMemoryStorage(),
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ bodyParser: false, logger: false });
    await app.listen(port, '127.0.0.1');
    initialToken = (await app.get(InitialAccessTokenService).create()).token;
    key = await generateKey('ES256');
  });
  afterAll(() => app?.close());

  const register = (metadata: Record<string, unknown>) =>
    jsonRequest(`${base}/register`, { token: initialToken, body: { scope: 'statements:read', ...metadata } });
  const tokenBasic = (clientId: string, secret: string) =>
    postForm(`${base}/token`, { grant_type: 'client_credentials' }, basic(clientId, secret));
  const tokenAssertion = (clientId: string, jwt: string) =>
    postForm(`${base}/token`, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: JWT_BEARER,
      client_assertion: jwt,
    });

  it('registration, client_secret_basic, rotation by PUT, revocation and introspection', async () => {
    const reg = await register({ token_endpoint_auth_method: 'client_secret_basic' });
    expect(reg.status, reg.text).toBe(201);
    const {
      client_id: clientId,
      client_secret: first,
      registration_client_uri: uri,
      registration_access_token: rat,
    } = reg.json;

    const issued = await tokenBasic(clientId, first);
    expect(issued.status, issued.text).toBe(200);
    expect(issued.json.token_type).toBe('Bearer');

    // RFC 7592 PUT rotates the secret; both work during the overlap; the old registration token is spent.
    const put = await jsonRequest(uri, {
      method: 'PUT',
      token: rat,
      body: { client_id: clientId, scope: 'statements:read', token_endpoint_auth_method: 'client_secret_basic' },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.json.client_secret).not.toBe(first);
    expect((await tokenBasic(clientId, put.json.client_secret)).status).toBe(200);
    expect((await tokenBasic(clientId, first)).status).toBe(200);
    expect((await tokenBasic(clientId, 'wrong')).status).toBe(401);
    const stale = await jsonRequest(uri, {
      method: 'PUT',
      token: rat,
      body: { client_id: clientId, scope: 'statements:read' },
    });
    expect(stale.status).toBe(401);

    // Revocation, then introspection says inactive.
    const secret = put.json.client_secret;
    const accessToken = issued.json.access_token;
    const before = await postForm(`${base}/introspect`, { token: accessToken }, basic(clientId, secret));
    expect(before.status, before.text).toBe(200);
    expect(before.json.active).toBe(true);
    expect((await postForm(`${base}/revoke`, { token: accessToken }, basic(clientId, secret))).status).toBe(200);
    const after = await postForm(`${base}/introspect`, { token: accessToken }, basic(clientId, secret));
    expect(after.json).toEqual({ active: false });
  });

  it('private_key_jwt: a token for a fresh assertion; the same assertion again is refused (replay)', async () => {
    const reg = await register({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    expect(reg.status, reg.text).toBe(201);
    const clientId = reg.json.client_id;
    const jwt = await assertion(clientId, key, base, { now: clock.nowSeconds() });
    const first = await tokenAssertion(clientId, jwt);
    expect(first.status, first.text).toBe(200);
    const again = await tokenAssertion(clientId, jwt);
    expect({ status: again.status, error: again.json.error }).toEqual({ status: 401, error: 'invalid_client' });
    expect(
      audit.ofType('client.authentication_failed').some((e) => e.clientId === clientId && /jti/i.test(e.reason)),
    ).toBe(true);
    // A new assertion (new jti) still works.
    expect(
      (await tokenAssertion(clientId, await assertion(clientId, key, base, { now: clock.nowSeconds() }))).status,
    ).toBe(200);
  });

  it('an initial access token with one use is spent by one registration (conditional update in memory)', async () => {
    const one = (await app.get(InitialAccessTokenService).create({ uses: 1 })).token;
    const results = await Promise.all(
      [0, 1, 2].map(() => jsonRequest(`${base}/register`, { token: one, body: { scope: 'statements:read' } })),
    );
    expect(results.map((r) => r.status).sort((a, b) => a - b)).toEqual([201, 401, 401]);
  });
});

describe('the storage option', () => {
  it('forRootAsync takes it too (options from a factory, storage static); it is not passed on as a server option', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClavisServerModule.forRootAsync({
          storage: inMemoryStorage(),
          useFactory: () => ({ issuer: 'http://127.0.0.1:1', keyEncryptionKey: TEST_KEK }),
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    expect((await app.get(InitialAccessTokenService).create()).token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    await app.close();
    const sync = await Test.createTestingModule({
      imports: [
        ClavisServerModule.forRoot({
          issuer: 'http://127.0.0.1:1',
          keyEncryptionKey: TEST_KEK,
          storage: inMemoryStorage(),
        }),
      ],
    }).compile();
    expect(sync.get(CLAVIS_SERVER_OPTIONS)).not.toHaveProperty('storage');
  });

  it('refuses redisUrl with the in-memory storage (it would not be used)', async () => {
    const moduleRef = Test.createTestingModule({
      imports: [
        ClavisServerModule.forRoot({
          issuer: 'http://127.0.0.1:1',
          keyEncryptionKey: TEST_KEK,
          redisUrl: 'redis://127.0.0.1:1',
          storage: inMemoryStorage(),
        }),
      ],
    });
    await expect(moduleRef.compile()).rejects.toThrow(/redisUrl cannot be used with the in-memory storage/);
  });

  it('without the storage option and without a DataSource, the module does not boot', async () => {
    await expect(
      Test.createTestingModule({
        imports: [ClavisServerModule.forRoot({ issuer: 'http://127.0.0.1:1', keyEncryptionKey: TEST_KEK })],
      }).compile(),
    ).rejects.toThrow(/DataSource/);
  });
});
