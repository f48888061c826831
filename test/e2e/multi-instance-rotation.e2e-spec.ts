import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '@clavis/server';
import { basic, postForm } from '../support/http.js';
import { jsonRequest } from '../support/registration.js';
import { needs } from '../support/requirements.js';
import { createTestApp, freePort, type TestApp } from '../support/test-app.js';

/**
 * Secret rotation across two instances sharing PostgreSQL: a client rotates by RFC 7592 PUT at A;
 * B accepts the old and the new secret during the overlap, and only the new one after it.
 */
describe('secret rotation across two instances (PostgreSQL)', needs('postgres'), () => {
  const OVERLAP = 3600;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const portA = await freePort();
    const issuer = `http://127.0.0.1:${portA}`;
    const env = { ISSUER: issuer, SECRET_ROTATION_OVERLAP: String(OVERLAP) };
    const start = Date.now();
    a = await createTestApp({ port: portA, env, clock: new FixedClock(start) });
    b = await createTestApp({ env, clock: new FixedClock(start) });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const tokenAt = (t: TestApp, clientId: string, secret: string) =>
    postForm(`${t.baseUrl}/token`, { grant_type: 'client_credentials' }, basic(clientId, secret));
  const advanceBoth = (seconds: number) => {
    a.clock.advance(seconds);
    b.clock.advance(seconds);
  };

  it.each(['client_secret_basic', 'client_secret_post'] as const)(
    '%s: PUT at A → B takes old and new during the overlap, only new after',
    async (method) => {
      const { token: iat } = await a.initialTokens.create({ uses: 1 });
      const reg = (
        await jsonRequest(`${a.baseUrl}/register`, {
          method: 'POST',
          token: iat,
          body: { token_endpoint_auth_method: method, scope: 'statements:read' },
        })
      ).json;
      const send = (t: TestApp, secret: string) =>
        method === 'client_secret_basic'
          ? tokenAt(t, reg.client_id, secret)
          : postForm(`${t.baseUrl}/token`, {
              grant_type: 'client_credentials',
              client_id: reg.client_id,
              client_secret: secret,
            });
      const oldSecret = reg.client_secret as string;
      expect((await send(b, oldSecret)).status, 'B knows the client registered at A').toBe(200);

      const put = await jsonRequest(`${a.baseUrl}/register/${reg.client_id}`, {
        method: 'PUT',
        token: reg.registration_access_token,
        body: { client_id: reg.client_id, token_endpoint_auth_method: method, scope: 'statements:read' },
      });
      expect(put.status, put.text).toBe(200);
      const newSecret = put.json.client_secret as string;
      expect(newSecret).not.toBe(oldSecret);

      expect((await send(b, oldSecret)).status, 'old secret at B, right after the rotation').toBe(200);
      expect((await send(b, newSecret)).status, 'new secret at B, right after the rotation').toBe(200);
      advanceBoth(OVERLAP - 5);
      expect((await send(b, oldSecret)).status, 'old secret at B, 5 s before the overlap ends').toBe(200);
      expect((await send(a, oldSecret)).status).toBe(200);
      advanceBoth(10);
      expect((await send(b, oldSecret)).status, 'old secret at B after the overlap').toBe(401);
      expect((await send(a, oldSecret)).status, 'old secret at A after the overlap').toBe(401);
      expect((await send(b, newSecret)).status).toBe(200);
      expect((await send(a, newSecret)).status).toBe(200);
    },
  );

  it('an operator rotation with overlap 0 at B ends the old secret at A at once', async () => {
    const { token: iat } = await b.initialTokens.create({ uses: 1 });
    const reg = (
      await jsonRequest(`${b.baseUrl}/register`, {
        method: 'POST',
        token: iat,
        body: { token_endpoint_auth_method: 'client_secret_basic', scope: 'statements:read' },
      })
    ).json;
    expect((await tokenAt(a, reg.client_id, reg.client_secret)).status).toBe(200);
    const rotated = await b.clients.rotateSecret(reg.client_id, 0);
    expect((await tokenAt(a, reg.client_id, reg.client_secret)).status).toBe(401);
    expect((await tokenAt(a, reg.client_id, rotated.clientSecret!)).status).toBe(200);
  });
});
