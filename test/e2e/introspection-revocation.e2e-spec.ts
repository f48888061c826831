import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertion, generateKey, JWT_BEARER } from '../support/keys.js';
import { basic, expectOAuthError, postForm } from '../support/http.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

describe('POST /introspect and POST /revoke', () => {
  let t: TestApp;
  let api: { clientId: string; clientSecret: string };
  let caller: { clientId: string; clientSecret: string };
  let other: { clientId: string; clientSecret: string };

  const token = async (c: { clientId: string; clientSecret: string }) =>
    (await postForm(`${t.baseUrl}/token`, { grant_type: 'client_credentials' }, basic(c.clientId, c.clientSecret))).json
      .access_token as string;
  const introspect = (tok: string, as = api) =>
    postForm(`${t.baseUrl}/introspect`, { token: tok }, basic(as.clientId, as.clientSecret));
  const revoke = (tok: string, as: { clientId: string; clientSecret: string }, extra: Record<string, string> = {}) =>
    postForm(`${t.baseUrl}/revoke`, { token: tok, ...extra }, basic(as.clientId, as.clientSecret));

  beforeAll(async () => {
    t = await createTestApp();
    api = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic', scope: '' });
    caller = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    other = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
  });
  afterAll(() => t.close());

  it('an active token introspects with its claims', async () => {
    const tok = await token(caller);
    const res = await introspect(tok);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json).toMatchObject({
      active: true,
      token_type: 'Bearer',
      client_id: caller.clientId,
      sub: caller.clientId,
      iss: t.issuer,
      aud: t.issuer,
      scope: 'statements:read',
    });
    expect(res.json.exp - res.json.iat).toBe(300);
  });

  it('a private_key_jwt client can introspect too', async () => {
    const key = await generateKey();
    const rs = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    const a = await assertion(rs.clientId, key, t.issuer, { now: t.clock.nowSeconds() });
    const res = await postForm(`${t.baseUrl}/introspect`, {
      token: await token(caller),
      client_assertion_type: JWT_BEARER,
      client_assertion: a,
    });
    expect(res.json.active).toBe(true);
  });

  it('garbage, tampered and foreign tokens are inactive', async () => {
    expect((await introspect('garbage')).json).toEqual({ active: false });
    const tok = await token(caller);
    const tampered = tok.slice(0, -4) + (tok.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await introspect(tampered)).json).toEqual({ active: false });
    const [h, , s] = tok.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ iss: t.issuer, sub: 'x', client_id: 'x', exp: 9e9, jti: 'j' })).toString('base64url')}.${s}`;
    expect((await introspect(forged)).json).toEqual({ active: false });
  });

  it('an expired token is inactive', async () => {
    const tok = await token(caller);
    t.clock.advance(301);
    try {
      expect((await introspect(tok)).json).toEqual({ active: false });
    } finally {
      t.clock.advance(-301);
    }
  });

  it('introspection requires client authentication', async () => {
    expectOAuthError(await postForm(`${t.baseUrl}/introspect`, { token: 'x' }), 401, 'invalid_client');
    expectOAuthError(await introspect('x', { clientId: api.clientId, clientSecret: 'wrong' }), 401, 'invalid_client');
  });

  it('missing token → invalid_request', async () => {
    expectOAuthError(
      await postForm(`${t.baseUrl}/introspect`, {}, basic(api.clientId, api.clientSecret)),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await postForm(`${t.baseUrl}/revoke`, {}, basic(api.clientId, api.clientSecret)),
      400,
      'invalid_request',
    );
  });

  it('a client revokes its own token: introspection then says inactive, and the guard refuses it', async () => {
    const tok = await token(caller);
    expect((await fetch(`${t.baseUrl}/statements`, { headers: { authorization: `Bearer ${tok}` } })).status).toBe(200);
    const res = await revoke(tok, caller, { token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    expect((await introspect(tok)).json).toEqual({ active: false });
    const guarded = await fetch(`${t.baseUrl}/statements`, { headers: { authorization: `Bearer ${tok}` } });
    expect(guarded.status).toBe(401);
    expect(guarded.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(t.audit.ofType('token.revoked').some((e) => e.clientId === caller.clientId)).toBe(true);
  });

  it("a client cannot revoke another client's token (same 200, token stays active)", async () => {
    const tok = await token(caller);
    const res = await revoke(tok, other);
    expect(res.status).toBe(200);
    expect((await introspect(tok)).json.active).toBe(true);
  });

  it('revoking garbage is a 200 no-op (RFC 7009 §2.2); an unknown hint is ignored (§2.1), also for a real token', async () => {
    expect((await revoke('garbage', caller)).status).toBe(200);
    expect((await revoke('garbage', caller, { token_type_hint: 'id_token' })).status).toBe(200);
    const tok = await token(caller);
    expect((await revoke(tok, caller, { token_type_hint: 'refresh_token' })).status).toBe(200);
    expect((await introspect(tok)).json).toEqual({ active: false });
  });

  it('tokens of a deleted client are inactive', async () => {
    const gone = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const tok = await token(gone);
    expect((await introspect(tok)).json.active).toBe(true);
    await t.clients.delete(gone.clientId);
    expect((await introspect(tok)).json).toEqual({ active: false });
  });

  it('a token signed by a key that is no longer published is inactive', async () => {
    const tok = await token(caller);
    await t.keys.rotate({ force: true });
    expect((await introspect(tok)).json.active).toBe(true); // the retired key is still published
    t.clock.advance(300 + 30 + 300 + 1);
    await t.app.get((await import('@clavis/server')).HousekeepingService).runOnce();
    expect((await introspect(tok)).json).toEqual({ active: false });
    t.clock.advance(-(300 + 30 + 300 + 1));
  });
});
