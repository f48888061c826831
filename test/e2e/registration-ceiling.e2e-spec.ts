import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOAuthError } from '../support/http.js';
import { generateKey } from '../support/keys.js';
import {
  expectRegistrationError,
  registrationApi,
  tokenWithBasic,
  type JsonResponse,
} from '../support/registration.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const A = 'https://a.example/';
const B = 'https://b.example/';
const READ = 'statements:read';
const BOTH = 'statements:read statements:write';

/**
 * What a client may hold — scopes, resources (audiences), authentication methods — has a ceiling
 * set by whoever admitted it: the operator, or the initial access token's policy. An RFC 7592 PUT
 * may narrow within it, never widen it; widening is an operator action (ADR 0010).
 */
describe('admission ceiling: a client cannot widen what it holds by itself', () => {
  let t: TestApp;
  let api: ReturnType<typeof registrationApi>;

  beforeAll(async () => {
    t = await createTestApp();
    api = registrationApi(t);
  });
  afterAll(() => t.close());

  /** The client's state after a successful PUT (adopts the new registration token). */
  async function put(
    state: { uri: string; clientId: string; token: string },
    body: Record<string, unknown>,
  ): Promise<JsonResponse> {
    const res = await api.update(state.uri, { client_id: state.clientId, ...body }, state.token);
    if (res.status === 200) state.token = res.json.registration_access_token;
    return res;
  }
  const stateOf = (reg: any) => ({
    uri: reg.registration_client_uri as string,
    clientId: reg.client_id as string,
    token: reg.registration_access_token as string,
    secret: reg.client_secret as string,
  });

  function expectOutside(res: JsonResponse, ...named: string[]): void {
    expectRegistrationError(res, 400, 'invalid_client_metadata');
    for (const n of named) expect(res.json.error_description).toContain(n);
  }

  describe('registered with an initial access token without a policy: the ceiling is what it registered', () => {
    it('a PUT adding a scope → 400 naming it; token not rotated, scope unchanged, no wider token', async () => {
      const c = stateOf(await api.registerOk({ scope: READ }));
      const mark = t.audit.events.length;
      expectOutside(await put(c, { scope: BOTH }), 'statements:write');
      const read = await api.read(c.uri, c.token); // the token was not rotated
      expect(read.status).toBe(200);
      expect(read.json.scope).toBe(READ);
      expectOAuthError(
        await tokenWithBasic(t, c.clientId, c.secret, { scope: 'statements:write' }),
        400,
        'invalid_scope',
      );
      expect(t.audit.events.slice(mark).map((e) => e.type)).not.toContain('client.updated');
      expect(t.audit.events.slice(mark)).toContainEqual(
        expect.objectContaining({ type: 'registration.denied', clientId: c.clientId }),
      );
    });

    it('a PUT adding a resource (audience) → 400 naming it; no token for it', async () => {
      const c = stateOf(await api.registerOk({ scope: READ, resources: [A] }));
      expectOutside(await put(c, { scope: READ, resources: [A, B] }), B);
      expect((await api.read(c.uri, c.token)).json.resources).toEqual([A]);
      expectOAuthError(await tokenWithBasic(t, c.clientId, c.secret, { resource: B }), 400, 'invalid_target');
    });

    it('narrowing is fine, and so is widening back up to the ceiling', async () => {
      const c = stateOf(await api.registerOk({ scope: BOTH, resources: [A, B] }));
      const narrowed = await put(c, { scope: READ, resources: [A] });
      expect(narrowed.status, narrowed.text).toBe(200);
      expect(narrowed.json.scope).toBe(READ);
      const back = await put(c, { scope: BOTH, resources: [B, A] });
      expect(back.status, back.text).toBe(200);
      expect(back.json.scope).toBe(BOTH);
      expect(
        (await tokenWithBasic(t, c.clientId, back.json.client_secret, { scope: 'statements:write', resource: B }))
          .status,
      ).toBe(200);
    });

    it('the authentication method is not bounded without a policy (a client may move to keys)', async () => {
      const c = stateOf(await api.registerOk({ scope: READ }));
      const key = await generateKey('ES256');
      const res = await put(c, {
        scope: READ,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [key.publicJwk] },
      });
      expect(res.status, res.text).toBe(200);
    });
  });

  describe("an initial access token's policy bounds registration and later updates", () => {
    it('registration outside the policy → 400 naming what is outside; the one-use token is not used up', async () => {
      const { token } = await t.initialTokens.create({
        uses: 1,
        allowedScope: READ,
        allowedResources: [A],
        allowedMethods: ['client_secret_basic', 'private_key_jwt'],
      });
      const mark = t.audit.events.length;
      expectOutside(await api.register({ scope: BOTH }, token), 'statements:write');
      expectOutside(await api.register({ scope: READ, resources: [B] }, token), B);
      expectOutside(
        await api.register({ scope: READ, token_endpoint_auth_method: 'client_secret_post' }, token),
        'client_secret_post',
      );
      expect(t.audit.events.slice(mark).filter((e) => e.type === 'registration.denied')).toHaveLength(3);
      expect(t.audit.events.slice(mark).map((e) => e.type)).not.toContain('client.registered');
      const ok = await api.register({ scope: READ, resources: [A] }, token);
      expect(ok.status, ok.text).toBe(201);
    });

    it('a client registered narrower than the policy may widen up to the policy by PUT, not beyond', async () => {
      const { token } = await t.initialTokens.create({ uses: 1, allowedScope: BOTH, allowedResources: [A, B] });
      const reg = await api.register({ scope: READ, resources: [A] }, token);
      expect(reg.status, reg.text).toBe(201);
      const c = stateOf(reg.json);
      const up = await put(c, { scope: BOTH, resources: [A, B] });
      expect(up.status, up.text).toBe(200);
      expect(up.json.scope).toBe(BOTH);
      expectOutside(await put(c, { scope: BOTH, resources: [A, B, 'https://c.example/'] }), 'https://c.example/');
    });

    it('a method policy: PUT switching to a method outside it → 400; within it → 200', async () => {
      const { token } = await t.initialTokens.create({
        uses: 1,
        allowedMethods: ['client_secret_basic', 'private_key_jwt'],
      });
      const reg = await api.register({ scope: READ }, token);
      expect(reg.status, reg.text).toBe(201);
      const c = stateOf(reg.json);
      expectOutside(
        await put(c, { scope: READ, token_endpoint_auth_method: 'client_secret_post' }),
        'client_secret_post',
      );
      const key = await generateKey('ES256');
      expect(
        (await put(c, { scope: READ, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } }))
          .status,
      ).toBe(200);
    });

    it('a policy naming a scope the server does not offer, a malformed resource or an unknown method is refused at creation', async () => {
      await expect(t.initialTokens.create({ allowedScope: 'admin' })).rejects.toMatchObject({
        code: 'invalid_request',
      });
      await expect(t.initialTokens.create({ allowedResources: ['not a uri'] })).rejects.toMatchObject({
        code: 'invalid_request',
      });
      await expect(t.initialTokens.create({ allowedMethods: ['none' as never] })).rejects.toMatchObject({
        code: 'invalid_request',
      });
    });
  });

  describe('widening is an operator action (service API)', () => {
    it('setCeiling widens: the client may then widen itself by PUT', async () => {
      const c = stateOf(await api.registerOk({ scope: READ }));
      expectOutside(await put(c, { scope: BOTH }), 'statements:write');
      await t.clients.setCeiling(c.clientId, { maxScope: BOTH, maxResources: [A] });
      const up = await put(c, { scope: BOTH, resources: [A] });
      expect(up.status, up.text).toBe(200);
    });

    it('setCeiling narrows: what the client holds outside is dropped at once', async () => {
      const c = stateOf(await api.registerOk({ scope: BOTH, resources: [A, B] }));
      const after = await t.clients.setCeiling(c.clientId, { maxScope: READ, maxResources: [A] });
      expect(after.scope).toBe(READ);
      expect(after.resources).toEqual([A]);
      expectOAuthError(
        await tokenWithBasic(t, c.clientId, c.secret, { scope: 'statements:write' }),
        400,
        'invalid_scope',
      );
      expectOAuthError(await tokenWithBasic(t, c.clientId, c.secret, { resource: B }), 400, 'invalid_target');
      expectOutside(await put(c, { scope: BOTH }), 'statements:write');
    });

    it('setCeiling refuses a method ceiling that excludes the method in use', async () => {
      const c = stateOf(await api.registerOk({ scope: READ }));
      await expect(t.clients.setCeiling(c.clientId, { allowedMethods: ['private_key_jwt'] })).rejects.toMatchObject({
        code: 'invalid_request',
      });
    });

    it('an operator update (no registration token) widens the ceiling to what it sets', async () => {
      const c = stateOf(await api.registerOk({ scope: READ }));
      const updated = await t.clients.update(c.clientId, { scope: BOTH, resources: [A] }, { rotateSecret: false });
      expect(updated.client).toMatchObject({ scope: BOTH, maxScope: BOTH, maxResources: [A] });
      expect((await put(c, { scope: BOTH, resources: [A] })).status).toBe(200);
    });

    it('an operator creating a client may give a wider ceiling than what it holds', async () => {
      const issued = await t.clients.create(
        { scope: READ },
        { withRegistrationToken: true, ceiling: { maxScope: BOTH } },
      );
      const c = {
        uri: `${t.issuer}/register/${issued.client.clientId}`,
        clientId: issued.client.clientId,
        token: issued.registrationAccessToken!,
      };
      expect((await put(c, { scope: BOTH })).status).toBe(200);
      expectOutside(await put(c, { scope: BOTH, resources: [A] }), A); // resources: the ceiling is what it was created with
      await expect(t.clients.create({ scope: BOTH }, { ceiling: { maxScope: READ } })).rejects.toMatchObject({
        code: 'invalid_client_metadata',
      });
    });

    it('a self-service update cannot set the ceiling', async () => {
      const c = stateOf(await api.registerOk({ scope: READ }));
      await expect(
        t.clients.update(
          c.clientId,
          { scope: BOTH },
          { registrationAccessToken: c.token, ceiling: { maxScope: BOTH } },
        ),
      ).rejects.toThrow(/ceiling/);
    });
  });
});
