import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postForm } from '../support/http.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/** Deleting a client ends its tokens everywhere Clavis answers for them: introspection and the in-process guard. */
describe('tokens of a deleted client', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const statements = (token: string) =>
    fetch(`${t.baseUrl}/statements`, { headers: { authorization: `Bearer ${token}` } });

  it('token → /statements 200 → DELETE /register/:id → /statements 401 invalid_token (and introspection inactive)', async () => {
    const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const observer = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const issued = await postForm(
      t.tokenEndpoint,
      { grant_type: 'client_credentials' },
      basic(c.clientId, c.clientSecret),
    );
    expect(issued.status).toBe(200);
    const token = issued.json.access_token as string;

    expect((await statements(token)).status).toBe(200);
    expect((await statements(token)).status, 'a second call (verified-token cache) is still 200').toBe(200);

    const del = await fetch(`${t.baseUrl}/register/${c.clientId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${c.registrationAccessToken}` },
    });
    expect(del.status).toBe(204);

    const after = await statements(token);
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    const introspected = await postForm(
      `${t.baseUrl}/introspect`,
      { token },
      basic(observer.clientId, observer.clientSecret),
    );
    expect(introspected.json).toEqual({ active: false });
  });

  it("another client's tokens keep working", async () => {
    const a = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const b = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const tokenOf = async (x: typeof a) =>
      (await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, basic(x.clientId, x.clientSecret))).json
        .access_token as string;
    const [ta, tb] = [await tokenOf(a), await tokenOf(b)];
    expect(await t.clients.delete(a.clientId)).toBe(true); // the operator path (service / CLI)
    expect((await statements(ta)).status).toBe(401);
    expect((await statements(tb)).status).toBe(200);
  });
});
