import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientStore } from '../../libs/server/src/clients/client.store.js';
import { IN_PROCESS_REVOCATION_CHECK_INTERVAL } from '../../libs/server/src/embedding/in-process-resource.module.js';
import { DenyList } from '../../libs/server/src/token/deny-list.js';
import { basic, postForm } from '../support/http.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * The in-process guard asks the deny list and the client table about a token in use at most once per
 * `revocationCheckInterval` (ADR 0028): a revocation or a client deletion stored by another instance
 * (here: written straight to the shared store, as another instance or the operator CLI does) is refused
 * within that bound, and one made through this instance at once. The server clock is a FixedClock, so
 * "within the bound" is exact, not a race against the machine.
 */
describe('how late a revocation takes effect at the in-process guard', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  const statements = (token: string) =>
    fetch(`${t.baseUrl}/statements`, { headers: { authorization: `Bearer ${token}` } });
  const issue = async () => {
    const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', scope: 'statements:read' });
    const res = await postForm(
      t.tokenEndpoint,
      { grant_type: 'client_credentials' },
      basic(c.clientId, c.clientSecret),
    );
    expect(res.status).toBe(200);
    const token = res.json.access_token as string;
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { jti: string; exp: number };
    return { c, token, claims };
  };

  it('the demo guard checks a token in use once a second', () => {
    expect(IN_PROCESS_REVOCATION_CHECK_INTERVAL).toBe(1);
  });

  it('revoked by another instance → refused once the interval has passed, without a store read before', async () => {
    const { token, claims } = await issue();
    expect((await statements(token)).status).toBe(200);
    await t.app.get(DenyList).add(claims.jti, claims.exp); // the shared deny list, not through this instance

    // Within the bound the guard answers from what it last read (no store read per request)…
    t.clock.advance(IN_PROCESS_REVOCATION_CHECK_INTERVAL - 0.001);
    expect((await statements(token)).status).toBe(200);
    // …and once the bound is reached it asks again, and refuses.
    t.clock.advance(0.001);
    const refused = await statements(token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    t.clock.advance(IN_PROCESS_REVOCATION_CHECK_INTERVAL * 5);
    expect((await statements(token)).status, 'a revoked token stays refused').toBe(401);
  });

  it('client deleted by another instance → its tokens refused once the interval has passed', async () => {
    const { c, token } = await issue();
    expect((await statements(token)).status).toBe(200);
    expect(await t.app.get(ClientStore).delete(c.clientId)).toBe(true);
    t.clock.advance(IN_PROCESS_REVOCATION_CHECK_INTERVAL);
    expect((await statements(token)).status).toBe(401);
  });

  it('revoked through this instance (POST /revoke) → refused at once, with no time passing', async () => {
    const { c, token } = await issue();
    expect((await statements(token)).status).toBe(200);
    expect((await postForm(`${t.baseUrl}/revoke`, { token }, basic(c.clientId, c.clientSecret))).status).toBe(200);
    expect((await statements(token)).status).toBe(401);
  });

  it("client deleted through this instance's service → its tokens refused at once; others' are not", async () => {
    const a = await issue();
    const b = await issue();
    expect((await statements(a.token)).status).toBe(200);
    expect((await statements(b.token)).status).toBe(200);
    expect(await t.clients.delete(a.c.clientId)).toBe(true);
    expect((await statements(a.token)).status).toBe(401);
    expect((await statements(b.token)).status).toBe(200);
  });

  it('an expired token is refused at its exp (plus the skew) even when cached and recently checked', async () => {
    const { token, claims } = await issue();
    expect((await statements(token)).status).toBe(200);
    t.clock.set(claims.exp * 1000 + 30_000 - 1); // the guard's clock skew is 30 s
    expect((await statements(token)).status).toBe(200);
    t.clock.set(claims.exp * 1000 + 30_000);
    expect((await statements(token)).status).toBe(401);
    t.clock.set(Date.now());
  });
});
