import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  type CryptoKey,
} from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

// openid-client 6 (panva) as the client of a real Clavis: discovery, the client credentials grant with
// each of its four client-authentication helpers, introspection, revocation, and a protected resource
// call. What it sends is recorded through its customFetch hook.
//
// Findings, checked below:
// - discovery() defaults to OpenID Connect discovery (/.well-known/openid-configuration), which Clavis
//   (an RFC 8414 authorization server, not an OpenID Provider) does not serve: pass
//   `algorithm: 'oauth2'`. The issuer is http://127.0.0.1:…, hence `execute: [allowInsecureRequests]`.
// - ClientSecretJwt / PrivateKeyJwt (oauth4webapi underneath) put the issuer identifier, as a single
//   string, in `aud`: what Clavis accepts by default. No `modifyAssertion` and no
//   ASSERTION_AUDIENCE=legacy are needed.

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: URLSearchParams;
}

describe('interop: openid-client 6 against Clavis', () => {
  let t: TestApp;
  let issuer: URL;
  const sent: Sent[] = [];
  const recordingFetch: client.CustomFetch = (url, options) => {
    sent.push({
      url,
      method: options.method,
      headers: { ...options.headers },
      body: new URLSearchParams(
        typeof options.body === 'string' || options.body instanceof URLSearchParams ? options.body : '',
      ),
    });
    return fetch(url, options as RequestInit);
  };
  const lastTo = (path: string) => [...sent].reverse().find((r) => new URL(r.url).pathname === path)!;

  let basicClient: { clientId: string; clientSecret: string };
  let postClient: { clientId: string; clientSecret: string };
  let jwtClient: { clientId: string; clientSecret: string };
  let pkClient: { clientId: string };
  let pkKey: { key: CryptoKey; kid: string };

  /** openid-client's own discovery of the issuer, bound to one client and one auth method. */
  const discover = (clientId: string, auth: client.ClientAuth, metadata: Partial<client.ClientMetadata> = {}) =>
    client.discovery(issuer, clientId, metadata, auth, {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
      [client.customFetch]: recordingFetch,
    });

  const methods: [string, () => Promise<{ config: client.Configuration; clientId: string }>][] = [
    [
      'client_secret_basic',
      async () => ({
        config: await discover(basicClient.clientId, client.ClientSecretBasic(basicClient.clientSecret)),
        clientId: basicClient.clientId,
      }),
    ],
    [
      'client_secret_post',
      async () => ({
        config: await discover(postClient.clientId, client.ClientSecretPost(postClient.clientSecret)),
        clientId: postClient.clientId,
      }),
    ],
    [
      'client_secret_jwt',
      async () => ({
        config: await discover(jwtClient.clientId, client.ClientSecretJwt(jwtClient.clientSecret)),
        clientId: jwtClient.clientId,
      }),
    ],
    [
      'private_key_jwt',
      async () => ({
        config: await discover(pkClient.clientId, client.PrivateKeyJwt(pkKey)),
        clientId: pkClient.clientId,
      }),
    ],
  ];

  beforeAll(async () => {
    t = await createTestApp();
    issuer = new URL(t.issuer);
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    pkKey = { key: privateKey, kid: 'oc-es256' };
    basicClient = await createClient(t, {
      tokenEndpointAuthMethod: 'client_secret_basic',
      scope: 'statements:read statements:write',
    });
    postClient = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_post' });
    jwtClient = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_jwt' });
    pkClient = await createClient(t, {
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: pkKey.kid, use: 'sig' }] },
    });
  });
  afterAll(() => t.close());
  // The libraries sign with the wall clock; keep the server's FixedClock on it.
  beforeEach(() => t.clock.set(Date.now()));

  async function verifyAccessToken(config: client.Configuration, token: string, clientId: string) {
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: t.issuer,
      audience: t.issuer,
      typ: 'at+jwt',
      currentDate: t.clock.date(),
    });
    expect(protectedHeader).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid: expect.any(String) });
    expect(payload).toMatchObject({ iss: t.issuer, sub: clientId, client_id: clientId, aud: t.issuer });
    return payload;
  }

  describe('discovery', () => {
    it('reads the RFC 8414 metadata with algorithm oauth2', async () => {
      const config = await discover(basicClient.clientId, client.ClientSecretBasic(basicClient.clientSecret));
      expect(lastTo('/.well-known/oauth-authorization-server').url).toBe(
        `${t.issuer}/.well-known/oauth-authorization-server`,
      );
      expect(config.serverMetadata()).toMatchObject({
        issuer: t.issuer,
        token_endpoint: `${t.issuer}/token`,
        jwks_uri: `${t.issuer}/jwks`,
        registration_endpoint: `${t.issuer}/register`,
        introspection_endpoint: `${t.issuer}/introspect`,
        revocation_endpoint: `${t.issuer}/revoke`,
        grant_types_supported: ['client_credentials'],
        scopes_supported: expect.arrayContaining(['statements:read']),
      });
      expect(config.serverMetadata().token_endpoint_auth_methods_supported).toEqual(
        expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt']),
      );
    });

    it('the default (OpenID Connect) discovery finds no document: Clavis is not an OpenID Provider', async () => {
      const failing = client.discovery(issuer, basicClient.clientId, basicClient.clientSecret, undefined, {
        execute: [client.allowInsecureRequests],
      });
      await expect(failing).rejects.toThrow();
      const res = await fetch(`${t.issuer}/.well-known/openid-configuration`);
      expect(res.status).toBe(404);
    });

    it('refuses the http issuer without allowInsecureRequests', async () => {
      await expect(
        client.discovery(issuer, basicClient.clientId, basicClient.clientSecret, undefined, { algorithm: 'oauth2' }),
      ).rejects.toThrow(/https/i);
    });
  });

  describe.each(methods)('clientCredentialsGrant with %s', (method, make) => {
    it('gets an RFC 9068 access token that verifies against /jwks', async () => {
      const { config, clientId } = await make();
      const tokens = await client.clientCredentialsGrant(config);
      expect(tokens).toMatchObject({
        token_type: 'bearer',
        expires_in: 300,
        scope: expect.stringContaining('statements:read'),
      });
      expect(tokens.expiresIn()).toBeGreaterThan(290);
      await verifyAccessToken(config, tokens.access_token, clientId);

      const request = lastTo('/token');
      expect(request.method).toBe('POST');
      expect(request.body.get('grant_type')).toBe('client_credentials');
      if (method === 'client_secret_basic') expect(request.headers.authorization).toMatch(/^Basic /);
      else expect(request.headers.authorization).toBeUndefined();
      if (method === 'client_secret_post') expect(request.body.get('client_secret')).toBeTruthy();
    });

    it('requests a scope', async () => {
      const { config, clientId } = await make();
      const tokens = await client.clientCredentialsGrant(config, { scope: 'statements:read' });
      expect(tokens.scope).toBe('statements:read');
      expect((await verifyAccessToken(config, tokens.access_token, clientId)).scope).toBe('statements:read');
    });

    it('the token opens the demo /statements (fetchProtectedResource)', async () => {
      const { config, clientId } = await make();
      const { access_token } = await client.clientCredentialsGrant(config);
      const res = await client.fetchProtectedResource(config, access_token, new URL(`${t.baseUrl}/statements`), 'GET');
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ client_id: clientId });
    });

    it('two grants in a row both succeed (a fresh jti per assertion)', async () => {
      const { config } = await make();
      await client.clientCredentialsGrant(config);
      await client.clientCredentialsGrant(config);
      if (method.endsWith('_jwt')) {
        const [a, b] = sent
          .filter((r) => new URL(r.url).pathname === '/token')
          .slice(-2)
          .map((r) => decodeJwt(r.body.get('client_assertion')!));
        expect(a.jti).not.toBe(b.jti);
      }
    });
  });

  describe('the assertions openid-client signs', () => {
    it.each([
      ['client_secret_jwt', 'HS256'],
      ['private_key_jwt', 'ES256'],
    ])('%s: aud is the issuer identifier as a string, iss = sub = client_id, 60 s', async (method, alg) => {
      const { config, clientId } = await methods.find(([m]) => m === method)![1]();
      await client.clientCredentialsGrant(config);
      const body = lastTo('/token').body;
      expect(body.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      expect(body.get('client_id')).toBe(clientId);
      const assertion = body.get('client_assertion')!;
      expect(decodeProtectedHeader(assertion).alg).toBe(alg);
      const claims = decodeJwt(assertion);
      expect(claims).toMatchObject({ aud: t.issuer, iss: clientId, sub: clientId, jti: expect.any(String) });
      expect(typeof claims.aud).toBe('string');
      expect(claims.exp! - claims.iat!).toBe(60);
    });
  });

  describe('private_key_jwt with other key types', () => {
    it.each([
      ['RS256', 'RS256'],
      ['PS256', 'PS256'],
      ['Ed25519', 'Ed25519'], // oauth4webapi names Ed25519 keys by the fully-specified alg (RFC 9864)
      ['ES384', 'ES384'],
    ])('%s key → header alg %s, accepted', async (genAlg, expectedAlg) => {
      const { privateKey, publicKey } = await generateKeyPair(genAlg);
      const kid = `oc-${genAlg}`;
      const c = await createClient(t, {
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid }] },
      });
      const config = await discover(c.clientId, client.PrivateKeyJwt({ key: privateKey, kid }));
      const tokens = await client.clientCredentialsGrant(config);
      expect(decodeProtectedHeader(lastTo('/token').body.get('client_assertion')!)).toEqual({ alg: expectedAlg, kid });
      await verifyAccessToken(config, tokens.access_token, c.clientId);
    });
  });

  describe('errors surface as openid-client errors', () => {
    it('a wrong secret with Basic → 401 with WWW-Authenticate: Basic, which openid-client reports as a challenge', async () => {
      // RFC 6749 §5.2: a 401 after Basic carries WWW-Authenticate; openid-client checks challenges before
      // the body, so the error is a WWWAuthenticateChallengeError (scheme basic), not a ResponseBodyError.
      const config = await discover(basicClient.clientId, client.ClientSecretBasic('not-the-secret'));
      const error = await client.clientCredentialsGrant(config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(client.WWWAuthenticateChallengeError);
      expect(error).toMatchObject({ status: 401, cause: [{ scheme: 'basic', parameters: { realm: t.issuer } }] });
      expect(await (error as client.WWWAuthenticateChallengeError).response.json()).toMatchObject({
        error: 'invalid_client',
      });
    });

    it('a wrong secret with client_secret_post → ResponseBodyError invalid_client, 401', async () => {
      const config = await discover(postClient.clientId, client.ClientSecretPost('not-the-secret'));
      const error = await client.clientCredentialsGrant(config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(client.ResponseBodyError);
      expect(error).toMatchObject({ error: 'invalid_client', status: 401 });
    });

    it('a method the client did not register → invalid_client', async () => {
      const config = await discover(basicClient.clientId, client.ClientSecretPost(basicClient.clientSecret));
      await expect(client.clientCredentialsGrant(config)).rejects.toMatchObject({
        error: 'invalid_client',
        status: 401,
      });
    });

    it('a key the client did not register → invalid_client', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const config = await discover(pkClient.clientId, client.PrivateKeyJwt({ key: privateKey, kid: pkKey.kid }));
      await expect(client.clientCredentialsGrant(config)).rejects.toMatchObject({
        error: 'invalid_client',
        status: 401,
      });
    });

    it('a scope outside the registration → invalid_scope, 400', async () => {
      const config = await discover(postClient.clientId, client.ClientSecretPost(postClient.clientSecret));
      await expect(client.clientCredentialsGrant(config, { scope: 'statements:write' })).rejects.toMatchObject({
        error: 'invalid_scope',
        status: 400,
      });
    });

    it('a tampered token at /statements → WWWAuthenticateChallengeError with error invalid_token', async () => {
      const { config } = await methods[0][1]();
      const { access_token } = await client.clientCredentialsGrant(config);
      const tampered = `${access_token.slice(0, -2)}${access_token.endsWith('AA') ? 'BB' : 'AA'}`;
      const error = await client
        .fetchProtectedResource(config, tampered, new URL(`${t.baseUrl}/statements`), 'GET')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(client.WWWAuthenticateChallengeError);
      const [challenge] = (error as client.WWWAuthenticateChallengeError).cause;
      expect(challenge).toMatchObject({ scheme: 'bearer', parameters: { realm: t.issuer, error: 'invalid_token' } });
    });
  });

  describe('introspection and revocation (tokenIntrospection, tokenRevocation)', () => {
    it.each(methods)('with %s: active, then revoked and inactive', async (_method, make) => {
      const { config, clientId } = await make();
      const { access_token } = await client.clientCredentialsGrant(config);
      const active = await client.tokenIntrospection(config, access_token);
      expect(active).toMatchObject({
        active: true,
        client_id: clientId,
        sub: clientId,
        iss: t.issuer,
        scope: expect.stringContaining('statements:read'),
      });

      await client.tokenRevocation(config, access_token);
      expect(await client.tokenIntrospection(config, access_token)).toEqual({ active: false });
      await expect(
        client.fetchProtectedResource(config, access_token, new URL(`${t.baseUrl}/statements`), 'GET'),
      ).rejects.toBeInstanceOf(client.WWWAuthenticateChallengeError);
    });

    it('an unknown token introspects as inactive; revoking it is a 200 no-op (RFC 7009 §2.2)', async () => {
      const { config } = await methods[1][1]();
      expect(await client.tokenIntrospection(config, 'no-such-token')).toEqual({ active: false });
      await expect(client.tokenRevocation(config, 'no-such-token')).resolves.toBeUndefined();
    });
  });
});
