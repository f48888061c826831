import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ClavisClientError,
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  privateKeyJwt,
  RegistrationClient,
  TokenClient,
  type ClientAuth,
  type ClientRegistration,
  type FetchLike,
} from '@clavis/client';
import { postForm } from '../support/http.js';
import { generateKey, type TestKey } from '../support/keys.js';
import { jsonRequest } from '../support/registration.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

// @clavis/client against a real Clavis (apps/auth-server over HTTP): the token client with each
// method, its cache and shared in-flight request, the bearer fetch helper against the demo
// /statements, and the registration client through a whole client lifecycle.

describe('@clavis/client against Clavis', () => {
  let t: TestApp;
  let statements: string;
  /** Requests the SDK sent, by URL path. */
  let requests: Map<string, number>;
  const countingFetch: FetchLike = (input, init) => {
    const path = new URL(String(input)).pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    return fetch(input, init);
  };
  const tokenRequests = () => requests.get('/token') ?? 0;

  beforeAll(async () => {
    t = await createTestApp();
    statements = `${t.baseUrl}/statements`;
  });
  afterAll(() => t.close());
  beforeEach(() => {
    requests = new Map();
    // The demo guard checks iat/exp against the wall clock; start each test on it.
    t.clock.set(Date.now());
  });

  /** A token client on the server's clock, counting its requests. */
  const tokenClient = (
    clientId: string,
    auth: ClientAuth,
    extra: Partial<ConstructorParameters<typeof TokenClient>[0]> = {},
  ) => new TokenClient({ issuer: t.issuer, clientId, auth, clock: t.clock, fetch: countingFetch, ...extra });

  /** POST /revoke authenticated by an SDK strategy (the same headers and form parameters as at /token). */
  async function revokeWith(auth: ClientAuth, token: string) {
    const { headers, body } = await auth.authenticate({ issuer: t.issuer, now: t.clock.now() });
    return postForm(`${t.baseUrl}/revoke`, { token, ...body }, headers);
  }

  describe('TokenClient', () => {
    const methods: [string, () => Promise<{ clientId: string; auth: () => ClientAuth }>][] = [
      [
        'client_secret_basic',
        async () => {
          const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
          return { clientId: c.clientId, auth: () => clientSecretBasic(c.clientId, c.clientSecret) };
        },
      ],
      [
        'client_secret_post',
        async () => {
          const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_post' });
          return { clientId: c.clientId, auth: () => clientSecretPost(c.clientId, c.clientSecret) };
        },
      ],
      [
        'client_secret_jwt',
        async () => {
          const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_jwt' });
          return { clientId: c.clientId, auth: () => clientSecretJwt(c.clientId, c.clientSecret) };
        },
      ],
      [
        'private_key_jwt',
        async () => {
          const key = await generateKey('ES256');
          const c = await createClient(t, {
            tokenEndpointAuthMethod: 'private_key_jwt',
            jwks: { keys: [key.publicJwk] },
          });
          return { clientId: c.clientId, auth: () => privateKeyJwt(c.clientId, key.privateKey, { kid: key.kid }) };
        },
      ],
    ];

    describe.each(methods)('%s', (_method, make) => {
      let client: { clientId: string; auth: () => ClientAuth };
      beforeAll(async () => {
        client = await make();
      });

      it('gets a token for the client (discovering the token endpoint once)', async () => {
        const tokens = tokenClient(client.clientId, client.auth());
        const response = await tokens.getTokenResponse();
        expect(response).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'statements:read' });
        expect(decodeJwt(response.access_token)).toMatchObject({
          iss: t.issuer,
          client_id: client.clientId,
          sub: client.clientId,
          aud: t.issuer,
        });
        expect(decodeProtectedHeader(response.access_token).typ).toBe('at+jwt');
        expect(requests.get('/.well-known/oauth-authorization-server')).toBe(1);
        await tokens.getToken();
        expect(requests.get('/.well-known/oauth-authorization-server')).toBe(1);
      });

      it('caches: two getToken calls → one token request, the same token', async () => {
        const tokens = tokenClient(client.clientId, client.auth());
        const first = await tokens.getToken();
        const second = await tokens.getToken();
        expect(second).toBe(first);
        expect(tokenRequests()).toBe(1);
      });

      it('concurrent callers share one in-flight request', async () => {
        const tokens = tokenClient(client.clientId, client.auth());
        const all = await Promise.all(Array.from({ length: 10 }, () => tokens.getToken()));
        expect(new Set(all).size).toBe(1);
        expect(tokenRequests()).toBe(1);
      });

      it('refreshes within refreshSkew (30 s) of exp, not before', async () => {
        const tokens = tokenClient(client.clientId, client.auth());
        const first = await tokens.getToken();
        t.clock.advance(269);
        expect(await tokens.getToken()).toBe(first);
        t.clock.advance(2);
        const renewed = await tokens.getToken();
        expect(renewed).not.toBe(first);
        expect(tokenRequests()).toBe(2);
      });

      it("tokenClient.fetch(`${base}/statements`) → 200 with the client's statements", async () => {
        const tokens = tokenClient(client.clientId, client.auth());
        const res = await tokens.fetch(statements);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ client_id: client.clientId, statements: expect.any(Array) });
        expect(requests.get('/statements')).toBe(1);
        expect(tokenRequests()).toBe(1);
      });

      it('fetch: after the cached token is revoked, one retry with a new token → 200', async () => {
        const auth = client.auth();
        const tokens = tokenClient(client.clientId, auth);
        const revoked = await tokens.getToken();
        expect((await revokeWith(auth, revoked)).status).toBe(200);
        const res = await tokens.fetch(statements);
        expect(res.status).toBe(200);
        expect(requests.get('/statements')).toBe(2); // the 401 invalid_token, then the retry
        expect(tokenRequests()).toBe(2);
        expect(await tokens.getToken()).not.toBe(revoked);
      });
    });

    it('a wrong secret → ClavisClientError invalid_client (401), nothing cached', async () => {
      const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
      const tokens = tokenClient(c.clientId, clientSecretBasic(c.clientId, 'not-the-secret'));
      await expect(tokens.getToken()).rejects.toMatchObject({
        name: 'ClavisClientError',
        code: 'invalid_client',
        status: 401,
      });
      tokens.setAuth(clientSecretBasic(c.clientId, c.clientSecret));
      await expect(tokens.getToken()).resolves.toEqual(expect.any(String));
      expect(tokenRequests()).toBe(2);
    });

    it('a scope outside the registration → ClavisClientError invalid_scope', async () => {
      const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_post' });
      await expect(
        tokenClient(c.clientId, clientSecretPost(c.clientId, c.clientSecret), { scope: 'statements:write' }).getToken(),
      ).rejects.toMatchObject({ code: 'invalid_scope', status: 400 });
    });

    it('a token without statements:read: fetch passes the 403 through without retrying', async () => {
      const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', scope: 'statements:write' });
      const res = await tokenClient(c.clientId, clientSecretBasic(c.clientId, c.clientSecret)).fetch(statements);
      expect(res.status).toBe(403);
      expect(tokenRequests()).toBe(1);
    });
  });

  describe('RegistrationClient', () => {
    const initialAccessToken = async () => (await t.initialTokens.create()).token;
    const registrationToken = async (registration: ClientRegistration) =>
      (await jsonRequest(registration.registration_client_uri, { token: registration.registration_access_token }))
        .status;

    describe('a client_secret_basic client: register, read, update, rotateSecret, delete', () => {
      const saved: ClientRegistration[] = [];
      let registrar: RegistrationClient;
      let registered: ClientRegistration;

      beforeAll(async () => {
        registrar = new RegistrationClient({ issuer: t.issuer, onCredentials: (r) => void saved.push(r) });
        registered = await registrar.register(
          {
            client_name: 'sdk e2e',
            token_endpoint_auth_method: 'client_secret_basic',
            grant_types: ['client_credentials'],
            scope: 'statements:read',
          },
          // The token's policy lets the client widen to statements:write later (the admission ceiling, ADR 0010).
          {
            initialAccessToken: (await t.initialTokens.create({ allowedScope: 'statements:read statements:write' }))
              .token,
          },
        );
      });

      it('register: RFC 7591 response adopted and handed to onCredentials', async () => {
        expect(registered).toMatchObject({
          client_id: expect.any(String),
          client_secret: expect.any(String),
          client_secret_expires_at: expect.any(Number),
          registration_access_token: expect.any(String),
          registration_client_uri: `${t.issuer}/register/${encodeURIComponent(registered.client_id)}`,
          client_name: 'sdk e2e',
          token_endpoint_auth_method: 'client_secret_basic',
          scope: 'statements:read',
        });
        expect(saved).toEqual([registered]);
        expect(registrar.registration).toEqual(registered);
        const res = await tokenClient(
          registered.client_id,
          clientSecretBasic(registered.client_id, registered.client_secret!),
        ).fetch(statements);
        expect(res.status).toBe(200);
      });

      it('register without a valid initial access token → ClavisClientError invalid_token (401)', async () => {
        const other = new RegistrationClient({ issuer: t.issuer });
        const error = await other
          .register({ token_endpoint_auth_method: 'client_secret_basic' }, { initialAccessToken: 'not-a-token' })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ClavisClientError);
        expect(error).toMatchObject({ code: 'invalid_token', status: 401 });
        expect(other.registration).toBeUndefined();
      });

      it("read: the server's view, credentials kept", async () => {
        const read = await registrar.read();
        expect(read).toMatchObject({
          client_id: registered.client_id,
          client_name: 'sdk e2e',
          scope: 'statements:read',
          client_secret: registered.client_secret,
        });
        expect(read.registration_access_token).toBe(registered.registration_access_token);
      });

      it('update: new metadata; the registration access token rotates and the old one stops working', async () => {
        const before = registrar.registration!;
        const updated = await registrar.update({
          client_name: 'sdk e2e (renamed)',
          scope: 'statements:read statements:write',
        });
        expect(updated).toMatchObject({
          client_id: registered.client_id,
          client_name: 'sdk e2e (renamed)',
          scope: 'statements:read statements:write',
        });
        expect(updated.registration_access_token).not.toBe(before.registration_access_token);
        expect(await registrationToken(before)).toBe(401);
        expect(await registrationToken(updated)).toBe(200);
        expect(saved.at(-1)).toEqual(updated);
        // RFC 7592 §2.2 lets the server issue a new secret on PUT; Clavis does by default, and the SDK adopts it.
        expect(updated.client_secret).not.toBe(before.client_secret);
        const tokens = tokenClient(updated.client_id, clientSecretBasic(updated.client_id, updated.client_secret!), {
          scope: 'statements:write',
        });
        expect(decodeJwt(await tokens.getToken()).scope).toBe('statements:write');
      });

      it('rotateSecret: the new secret works, the old one keeps working during the overlap; onCredentials got both new credentials', async () => {
        const before = registrar.registration!;
        const calls = saved.length;
        const rotated = await registrar.rotateSecret();
        expect(rotated.client_secret).not.toBe(before.client_secret);
        expect(rotated.client_secret_expires_at).toEqual(expect.any(Number));

        expect(saved).toHaveLength(calls + 1);
        const persisted = saved.at(-1)!;
        expect(persisted.client_secret).toBe(rotated.client_secret);
        expect(persisted.registration_access_token).not.toBe(before.registration_access_token);
        expect(registrar.registration).toEqual(persisted);
        expect(await registrationToken(before)).toBe(401);
        expect(await registrationToken(persisted)).toBe(200);

        const id = before.client_id;
        for (const secret of [rotated.client_secret, before.client_secret!]) {
          const res = await tokenClient(id, clientSecretBasic(id, secret)).fetch(statements);
          expect(res.status).toBe(200);
        }
        // At most two valid secrets: the one from the registration, two rotations ago, is refused.
        await expect(
          tokenClient(id, clientSecretBasic(id, registered.client_secret!)).getToken(),
        ).rejects.toMatchObject({ code: 'invalid_client' });
        // Once the overlap (24 h by default) is over, only the new one.
        t.clock.advance(86_400 + 1);
        try {
          await expect(tokenClient(id, clientSecretBasic(id, before.client_secret!)).getToken()).rejects.toMatchObject({
            code: 'invalid_client',
          });
          await expect(tokenClient(id, clientSecretBasic(id, rotated.client_secret)).getToken()).resolves.toEqual(
            expect.any(String),
          );
        } finally {
          t.clock.set(Date.now());
        }
      });

      it('onCredentials failing: the client keeps what the server issued and the error hands it over (ADR 0014)', async () => {
        const current = registrar.registration!;
        const failing = new RegistrationClient({
          issuer: t.issuer,
          registration: current,
          onCredentials: () => Promise.reject(new Error('vault down')),
        });
        const error = await failing.update({ client_name: 'adopted anyway' }).then(
          () => expect.unreachable('update resolved'),
          (e: ClavisClientError) => e,
        );
        expect(error).toMatchObject({ code: 'credentials_not_persisted', cause: new Error('vault down') });
        expect(error.registration).toMatchObject({ client_id: current.client_id, client_name: 'adopted anyway' });
        expect(failing.registration).toEqual(error.registration);
        // The server did rotate: the registration token the registrar holds is now stale, the adopted one works.
        expect(await registrationToken(current)).toBe(401);
        expect(await registrationToken(error.registration!)).toBe(200);
      });

      it('delete: the client is gone and its credentials stop working', async () => {
        // The previous test left the server ahead of `registrar`; start from what the server answered there.
        const fresh = new RegistrationClient({ issuer: t.issuer });
        const r = await fresh.register(
          { token_endpoint_auth_method: 'client_secret_post', scope: 'statements:read' },
          { initialAccessToken: await initialAccessToken() },
        );
        await fresh.delete();
        expect(fresh.registration).toBeUndefined();
        await expect(fresh.read()).rejects.toMatchObject({ code: 'not_registered' });
        expect(await registrationToken(r)).toBe(401);
        await expect(
          tokenClient(r.client_id, clientSecretPost(r.client_id, r.client_secret!)).getToken(),
        ).rejects.toMatchObject({ code: 'invalid_client', status: 401 });
      });
    });

    describe('rollKeys for a private_key_jwt client', () => {
      let oldKey: TestKey;
      let newKey: TestKey;
      const steps: { published: string[]; oldKey: string; newKey: string; tokenClient: number }[] = [];
      let tokens: TokenClient;
      let registrar: RegistrationClient;

      /** A token with `key`, from a fresh (uncached) token client: 'ok' or the error code. */
      const tryKey = async (clientId: string, key: TestKey) =>
        tokenClient(clientId, privateKeyJwt(clientId, key.privateKey, { kid: key.kid }))
          .getToken()
          .then(
            () => 'ok',
            (e: ClavisClientError) => e.code,
          );

      beforeAll(async () => {
        oldKey = await generateKey('ES256');
        newKey = await generateKey('ES256');
        registrar = new RegistrationClient({
          issuer: t.issuer,
          // Called after each server change, before the SDK adopts it: probe both keys and the token client there.
          onCredentials: async (r) => {
            if (!tokens) return;
            tokens.invalidate();
            const viaTokenClient = (await tokens.fetch(statements)).status;
            steps.push({
              published: r.jwks!.keys.map((k) => k.kid!),
              oldKey: await tryKey(r.client_id, oldKey),
              newKey: await tryKey(r.client_id, newKey),
              tokenClient: viaTokenClient,
            });
          },
        });
        const r = await registrar.register(
          {
            token_endpoint_auth_method: 'private_key_jwt',
            token_endpoint_auth_signing_alg: 'ES256',
            jwks: { keys: [oldKey.publicJwk] },
            scope: 'statements:read',
          },
          { initialAccessToken: await initialAccessToken() },
        );
        expect(r.client_secret).toBeUndefined();
        tokens = tokenClient(r.client_id, privateKeyJwt(r.client_id, oldKey.privateKey, { kid: oldKey.kid }));
      });

      it('publishes old + new, switches the token client, then drops the old key; tokens work at every step', async () => {
        expect((await tokens.fetch(statements)).status).toBe(200);
        const final = await registrar.rollKeys({
          newKey: { publicJwk: newKey.publicJwk, privateKey: newKey.privateKey, kid: newKey.kid },
          tokenClient: tokens,
        });

        expect(steps).toEqual([
          { published: [oldKey.kid, newKey.kid], oldKey: 'ok', newKey: 'ok', tokenClient: 200 },
          { published: [newKey.kid], oldKey: 'invalid_client', newKey: 'ok', tokenClient: 200 },
        ]);
        expect(final.jwks!.keys.map((k) => k.kid)).toEqual([newKey.kid]);
        expect((await registrar.read()).jwks!.keys.map((k) => k.kid)).toEqual([newKey.kid]);

        // The token client now signs with the new key.
        tokens.invalidate();
        expect((await tokens.fetch(statements)).status).toBe(200);
        expect(tokens.auth.method).toBe('private_key_jwt');
        expect(await tryKey(final.client_id, oldKey)).toBe('invalid_client');
      });
    });
  });
});
