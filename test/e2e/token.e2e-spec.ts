import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertion, generateKey, JWT_BEARER, unsignedJwt, type TestKey } from '../support/keys.js';
import { basic, expectOAuthError, postForm } from '../support/http.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';
import type { ClientAuthFailure } from '@clavis/server';

describe('POST /token (client_credentials)', () => {
  let t: TestApp;
  let basicClient: { clientId: string; clientSecret: string };
  let postClient: { clientId: string; clientSecret: string };
  let jwtClient: { clientId: string; clientSecret: string };
  let pkClient: { clientId: string };
  let pkKey: TestKey;
  let otherKey: TestKey;
  const now = () => t.clock.nowSeconds();

  beforeAll(async () => {
    t = await createTestApp();
    pkKey = await generateKey('ES256');
    otherKey = await generateKey('ES256');
    basicClient = await createClient(t, {
      tokenEndpointAuthMethod: 'client_secret_basic',
      scope: 'statements:read statements:write',
    });
    postClient = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_post' });
    jwtClient = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_jwt' });
    pkClient = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [pkKey.publicJwk] } });
  });
  afterAll(() => t.close());

  const hmac = (secret: string) => ({ privateKey: new TextEncoder().encode(secret), alg: 'HS256' });
  const pkAssertion = (
    opts: Parameters<typeof assertion>[3] = {},
    aud: string | string[] = t.issuer,
    key: TestKey = pkKey,
  ) => assertion(pkClient.clientId, key, aud, { now: now(), ...opts });
  const withAssertion = (a: string, extra: Record<string, string> = {}) =>
    postForm(t.tokenEndpoint, {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: a,
      ...extra,
    });

  async function expectAccessToken(res: Awaited<ReturnType<typeof postForm>>, clientId: string, scope: string) {
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope });
    const jwks = await (await fetch(`${t.issuer}/jwks`)).json();
    const { payload, protectedHeader } = await jwtVerify(res.json.access_token, createLocalJWKSet(jwks), {
      issuer: t.issuer,
      typ: 'at+jwt',
      currentDate: t.clock.date(),
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: clientId, client_id: clientId, aud: t.issuer, scope });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(typeof payload.jti).toBe('string');
  }

  describe('each method succeeds', () => {
    it('client_secret_basic', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials' },
        basic(basicClient.clientId, basicClient.clientSecret),
      );
      await expectAccessToken(res, basicClient.clientId, 'statements:read statements:write');
    });
    it('client_secret_post', async () => {
      const res = await postForm(t.tokenEndpoint, {
        grant_type: 'client_credentials',
        client_id: postClient.clientId,
        client_secret: postClient.clientSecret,
      });
      await expectAccessToken(res, postClient.clientId, 'statements:read');
    });
    it('client_secret_jwt', async () => {
      const a = await assertion(jwtClient.clientId, hmac(jwtClient.clientSecret), t.issuer, { now: now() });
      await expectAccessToken(await withAssertion(a), jwtClient.clientId, 'statements:read');
    });
    it('private_key_jwt', async () => {
      await expectAccessToken(await withAssertion(await pkAssertion()), pkClient.clientId, 'statements:read');
    });
    it('private_key_jwt with typ client-authentication+jwt and aud as a one-member array', async () => {
      const a = await pkAssertion({ header: { typ: 'client-authentication+jwt' } }, [t.issuer]);
      await expectAccessToken(
        await withAssertion(a, { client_id: pkClient.clientId }),
        pkClient.clientId,
        'statements:read',
      );
    });
  });

  describe('scope', () => {
    it('grants a requested subset', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials', scope: 'statements:read' },
        basic(basicClient.clientId, basicClient.clientSecret),
      );
      await expectAccessToken(res, basicClient.clientId, 'statements:read');
    });
    it('rejects a scope outside the registered one with invalid_scope', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials', scope: 'statements:read admin' },
        basic(basicClient.clientId, basicClient.clientSecret),
      );
      expectOAuthError(res, 400, 'invalid_scope');
    });
  });

  describe('invalid_client, and no token', () => {
    /** 401 invalid_client with the fixed body; the stable reason code in the audit event only. */
    const expectFailure = (res: Parameters<typeof expectOAuthError>[0], reason: ClientAuthFailure) => {
      expectOAuthError(res, 401, 'invalid_client');
      expect(res.json.error_description).toBe('client authentication failed');
      expect(t.audit.ofType('client.authentication_failed').at(-1)?.reason).toBe(reason);
    };
    it('wrong secret (Basic) → 401 with WWW-Authenticate: Basic', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials' },
        basic(basicClient.clientId, 'not-the-secret'),
      );
      expectFailure(res, 'secret_mismatch');
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    });
    it("another client's secret", async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials' },
        basic(basicClient.clientId, postClient.clientSecret),
      );
      expectFailure(res, 'secret_mismatch');
    });
    it('unknown client', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials' },
        basic('nobody', basicClient.clientSecret),
      );
      expectFailure(res, 'client_unknown');
    });
    it('method mismatch: basic client using post (no WWW-Authenticate when Basic was not tried)', async () => {
      const res = await postForm(t.tokenEndpoint, {
        grant_type: 'client_credentials',
        client_id: basicClient.clientId,
        client_secret: basicClient.clientSecret,
      });
      expectFailure(res, 'method_mismatch');
      expect(res.headers.get('www-authenticate')).toBeNull();
    });
    it('method mismatch: post client using basic', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials' },
        basic(postClient.clientId, postClient.clientSecret),
      );
      expectFailure(res, 'method_mismatch');
    });
    it('method mismatch: secret_jwt client using its secret with basic', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials' },
        basic(jwtClient.clientId, jwtClient.clientSecret),
      );
      expectFailure(res, 'method_mismatch');
    });
    it('no credentials at all', async () => {
      expectFailure(
        await postForm(t.tokenEndpoint, { grant_type: 'client_credentials', client_id: basicClient.clientId }),
        'credentials_missing',
      );
    });
    it('alg: none', async () => {
      const a = unsignedJwt({
        iss: pkClient.clientId,
        sub: pkClient.clientId,
        aud: t.issuer,
        jti: 'none-1',
        exp: now() + 60,
      });
      expectFailure(await withAssertion(a), 'assertion_malformed');
    });
    it("HS256 keyed with the client's public key (algorithm confusion)", async () => {
      const a = await assertion(
        pkClient.clientId,
        { privateKey: new TextEncoder().encode(JSON.stringify(pkKey.publicJwk)), alg: 'HS256', kid: pkKey.kid },
        t.issuer,
        { now: now() },
      );
      expectFailure(await withAssertion(a), 'assertion_alg_not_allowed');
    });
    it('private_key_jwt client signing with HS256 and its own key material as x coordinate', async () => {
      const a = await assertion(
        pkClient.clientId,
        { privateKey: Buffer.from(String(pkKey.publicJwk.x), 'base64url'), alg: 'HS256' },
        t.issuer,
        { now: now() },
      );
      expectFailure(await withAssertion(a), 'assertion_alg_not_allowed');
    });
    it('client_secret_jwt client presenting an RS/ES-signed assertion', async () => {
      const a = await assertion(jwtClient.clientId, pkKey, t.issuer, { now: now() });
      expectFailure(await withAssertion(a), 'assertion_alg_not_allowed');
    });
    it('expired assertion', async () => {
      expectFailure(
        await withAssertion(await pkAssertion({ claims: { iat: now() - 400, exp: now() - 100 } })),
        'assertion_expired',
      );
    });
    it('exp beyond the 300 s cap (no iat)', async () => {
      expectFailure(
        await withAssertion(await pkAssertion({ claims: { iat: undefined, exp: now() + 3600 } })),
        'assertion_lifetime_exceeded',
      );
    });
    it('missing exp', async () => {
      expectFailure(await withAssertion(await pkAssertion({ claims: { exp: undefined } })), 'assertion_exp_missing');
    });
    it('missing jti', async () => {
      expectFailure(await withAssertion(await pkAssertion({ claims: { jti: undefined } })), 'assertion_jti_invalid');
    });
    it('nbf in the future', async () => {
      expectFailure(
        await withAssertion(await pkAssertion({ claims: { nbf: now() + 120 } })),
        'assertion_not_yet_valid',
      );
    });
    it('iat in the future', async () => {
      expectFailure(
        await withAssertion(await pkAssertion({ claims: { iat: now() + 120 } })),
        'assertion_not_yet_valid',
      );
    });
    it('replayed jti (sequential)', async () => {
      const a = await pkAssertion();
      expect((await withAssertion(a)).status).toBe(200);
      expectFailure(await withAssertion(a), 'jti_replayed');
    });
    it('replayed jti in a new assertion (same jti, different exp)', async () => {
      const jti = `reuse-${Math.random()}`;
      expect((await withAssertion(await pkAssertion({ claims: { jti } }))).status).toBe(200);
      expectFailure(await withAssertion(await pkAssertion({ claims: { jti, exp: now() + 90 } })), 'jti_replayed');
    });
    it('the same assertion sent 20 times concurrently → exactly one token', async () => {
      const a = await pkAssertion();
      const results = await Promise.all(Array.from({ length: 20 }, () => withAssertion(a)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 401 && r.json.error === 'invalid_client')).toHaveLength(19);
    });
    it('the same jti is single use per client only: another client may use it', async () => {
      const jti = `shared-${Math.random()}`;
      expect((await withAssertion(await pkAssertion({ claims: { jti } }))).status).toBe(200);
      const b = await assertion(jwtClient.clientId, hmac(jwtClient.clientSecret), t.issuer, {
        now: now(),
        claims: { jti },
      });
      expect((await withAssertion(b)).status).toBe(200);
    });
    it('aud = token endpoint URL under the strict default', async () => {
      expectFailure(await withAssertion(await pkAssertion({}, t.tokenEndpoint)), 'assertion_aud_not_issuer');
    });
    it('aud array with a second member', async () => {
      expectFailure(
        await withAssertion(await pkAssertion({}, [t.issuer, 'https://evil.example'])),
        'assertion_aud_not_issuer',
      );
    });
    it('aud of another server', async () => {
      expectFailure(await withAssertion(await pkAssertion({}, 'https://other.example')), 'assertion_aud_not_issuer');
    });
    it('iss ≠ sub', async () => {
      expectFailure(
        await withAssertion(await pkAssertion({ claims: { iss: basicClient.clientId } })),
        'assertion_subject_not_client',
      );
    });
    it('unknown kid', async () => {
      const a = await assertion(pkClient.clientId, { ...pkKey, kid: 'not-registered' }, t.issuer, { now: now() });
      expectFailure(await withAssertion(a), 'kid_unknown');
    });
    it("a key that is not the client's (same kid)", async () => {
      const a = await assertion(pkClient.clientId, { ...otherKey, kid: pkKey.kid }, t.issuer, { now: now() });
      expectFailure(await withAssertion(a), 'signature_invalid');
    });
    it('an assertion for another client (client_id ≠ sub)', async () => {
      const a = await pkAssertion();
      expectFailure(await withAssertion(a, { client_id: jwtClient.clientId }), 'client_id_mismatch');
    });
    it('an assertion signed by client A claiming to be client B', async () => {
      const a = await assertion(jwtClient.clientId, pkKey, t.issuer, { now: now(), header: { alg: 'ES256' } });
      expectFailure(await withAssertion(a), 'assertion_alg_not_allowed');
    });
    it('a typ other than JWT / client-authentication+jwt', async () => {
      expectFailure(
        await withAssertion(await pkAssertion({ header: { typ: 'at+jwt' } })),
        'assertion_typ_not_accepted',
      );
    });
    it('a wrong client_assertion_type', async () => {
      const res = await postForm(t.tokenEndpoint, {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:x',
        client_assertion: await pkAssertion(),
      });
      expectFailure(res, 'assertion_type_unsupported');
    });
    it('garbage assertion', async () => {
      expectFailure(await withAssertion('not.a.jwt'), 'assertion_malformed');
    });
    it('records the private reason as an audit event, never in the body', async () => {
      t.audit.clear();
      const res = await withAssertion(await pkAssertion({}, t.tokenEndpoint));
      expect(res.json.error_description).toBe('client authentication failed');
      const [event] = t.audit.ofType('client.authentication_failed');
      expect(event).toMatchObject({ clientId: pkClient.clientId, reason: 'assertion_aud_not_issuer' });
    });
  });

  describe('request validation', () => {
    it('unsupported_grant_type', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'password', username: 'a', password: 'b' },
        basic(basicClient.clientId, basicClient.clientSecret),
      );
      expectOAuthError(res, 400, 'unsupported_grant_type');
    });
    it('missing grant_type → invalid_request', async () => {
      expectOAuthError(
        await postForm(t.tokenEndpoint, {}, basic(basicClient.clientId, basicClient.clientSecret)),
        400,
        'invalid_request',
      );
    });
    it('duplicated parameter → invalid_request', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        [
          ['grant_type', 'client_credentials'],
          ['grant_type', 'client_credentials'],
        ],
        basic(basicClient.clientId, basicClient.clientSecret),
      );
      expectOAuthError(res, 400, 'invalid_request');
    });
    it('duplicated scope → invalid_request', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        [
          ['grant_type', 'client_credentials'],
          ['scope', 'statements:read'],
          ['scope', 'statements:write'],
        ],
        basic(basicClient.clientId, basicClient.clientSecret),
      );
      expectOAuthError(res, 400, 'invalid_request');
    });
    it('two authentication methods at once → invalid_request', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials', client_id: basicClient.clientId, client_secret: basicClient.clientSecret },
        basic(basicClient.clientId, basicClient.clientSecret),
      );
      expectOAuthError(res, 400, 'invalid_request');
    });
    it('JSON body → invalid_request', async () => {
      const res = await fetch(t.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...basic(basicClient.clientId, basicClient.clientSecret) },
        body: JSON.stringify({ grant_type: 'client_credentials' }),
      });
      expectOAuthError({ status: res.status, headers: res.headers, json: await res.json() }, 400, 'invalid_request');
    });
    it('no content type → invalid_request', async () => {
      const res = await fetch(t.tokenEndpoint, {
        method: 'POST',
        headers: basic(basicClient.clientId, basicClient.clientSecret),
        body: 'grant_type=client_credentials',
      });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_request');
    });
    it('oversized body → 413 invalid_request', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials', junk: 'x'.repeat(100_000) },
        basic(basicClient.clientId, basicClient.clientSecret),
      );
      expectOAuthError(res, 413, 'invalid_request');
    });
    it('malformed Basic header → invalid_client', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials' },
        { authorization: 'Basic %%%not-base64' },
      );
      expectOAuthError(res, 401, 'invalid_client');
    });
    it('resource the client is not allowed → invalid_target', async () => {
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials', resource: 'https://api.example/' },
        basic(basicClient.clientId, basicClient.clientSecret),
      );
      expectOAuthError(res, 400, 'invalid_target');
    });
  });

  describe('resource indicators (RFC 8707)', () => {
    it('an allowed resource becomes the aud', async () => {
      const c = await createClient(t, {
        tokenEndpointAuthMethod: 'client_secret_basic',
        resources: ['https://api.example/'],
      });
      const res = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials', resource: 'https://api.example/' },
        basic(c.clientId, c.clientSecret),
      );
      expect(res.status).toBe(200);
      const jwks = await (await fetch(`${t.issuer}/jwks`)).json();
      const { payload } = await jwtVerify(res.json.access_token, createLocalJWKSet(jwks), {
        currentDate: t.clock.date(),
      });
      expect(payload.aud).toBe('https://api.example/');
    });
  });

  describe('server key and metadata', () => {
    it('/jwks publishes the public signing key only', async () => {
      const res = await fetch(`${t.issuer}/jwks`);
      const jwks = await res.json();
      expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
      for (const k of jwks.keys) {
        expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
        expect(k.d).toBeUndefined();
      }
      const tokenRes = await postForm(
        t.tokenEndpoint,
        { grant_type: 'client_credentials' },
        basic(basicClient.clientId, basicClient.clientSecret),
      );
      expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(
        decodeProtectedHeader(tokenRes.json.access_token).kid,
      );
    });
    it('metadata is RFC 8414', async () => {
      const res = await fetch(`${t.issuer}/.well-known/oauth-authorization-server`);
      const md = await res.json();
      expect(md).toMatchObject({
        issuer: t.issuer,
        token_endpoint: `${t.issuer}/token`,
        jwks_uri: `${t.issuer}/jwks`,
        registration_endpoint: `${t.issuer}/register`,
        introspection_endpoint: `${t.issuer}/introspect`,
        revocation_endpoint: `${t.issuer}/revoke`,
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: [
          'client_secret_basic',
          'client_secret_post',
          'client_secret_jwt',
          'private_key_jwt',
        ],
        scopes_supported: ['statements:read', 'statements:write'],
      });
      expect(md.token_endpoint_auth_signing_alg_values_supported).not.toContain('none');
    });
    it('no X-Powered-By', async () => {
      const res = await fetch(`${t.issuer}/jwks`);
      expect(res.headers.get('x-powered-by')).toBeNull();
    });
  });
});
