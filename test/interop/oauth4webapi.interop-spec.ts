import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

// oauth4webapi 3 (panva) as the client and as a resource server of a real Clavis: RFC 8414 discovery,
// the client credentials grant with each of its ClientAuth helpers, JWT access-token validation
// (RFC 9068, keys from jwks_uri), introspection (RFC 7662) and revocation (RFC 7009).
//
// Findings, checked below:
// - discoveryRequest() defaults to OpenID Connect discovery; Clavis serves RFC 8414 only: pass
//   `algorithm: 'oauth2'`. Every request to the http://127.0.0.1 issuer needs `[allowInsecureRequests]`.
// - ClientSecretJwt / PrivateKeyJwt put the issuer identifier, as a single string, in `aud`, which is
//   what Clavis requires by default. `modifyAssertion` can change it: the token endpoint URL is then
//   refused under the strict default and accepted with ASSERTION_AUDIENCE=legacy.

const insecure = { [oauth.allowInsecureRequests]: true } as const;
type Creds = { clientId: string; clientSecret: string };

describe('interop: oauth4webapi 3 against Clavis', () => {
  let t: TestApp;
  let as: oauth.AuthorizationServer;
  let sent: { path: string; body: URLSearchParams; headers: Headers }[];
  const recordingFetch = (url: string, init: RequestInit) => {
    sent.push({
      path: new URL(url).pathname,
      body: new URLSearchParams(
        typeof init.body === 'string' ? init.body : init.body instanceof URLSearchParams ? init.body : '',
      ),
      headers: new Headers(init.headers),
    });
    return fetch(url, init);
  };
  const options = () => ({ ...insecure, [oauth.customFetch]: recordingFetch });
  const lastTo = (path: string) => [...sent].reverse().find((r) => r.path === path)!;

  let basicClient: Creds;
  let postClient: Creds;
  let jwtClient: Creds;
  let pkClient: { clientId: string };
  let pkKey: oauth.PrivateKey;
  let pkPublicJwk: oauth.JWK;

  const methods: [string, () => { client: oauth.Client; auth: oauth.ClientAuth }][] = [
    [
      'client_secret_basic',
      () => ({ client: { client_id: basicClient.clientId }, auth: oauth.ClientSecretBasic(basicClient.clientSecret) }),
    ],
    [
      'client_secret_post',
      () => ({ client: { client_id: postClient.clientId }, auth: oauth.ClientSecretPost(postClient.clientSecret) }),
    ],
    [
      'client_secret_jwt',
      () => ({ client: { client_id: jwtClient.clientId }, auth: oauth.ClientSecretJwt(jwtClient.clientSecret) }),
    ],
    ['private_key_jwt', () => ({ client: { client_id: pkClient.clientId }, auth: oauth.PrivateKeyJwt(pkKey) })],
  ];

  async function grant(
    client: oauth.Client,
    auth: oauth.ClientAuth,
    parameters: Record<string, string> = {},
    server = as,
  ) {
    const response = await oauth.clientCredentialsGrantRequest(server, client, auth, parameters, options());
    return oauth.processClientCredentialsResponse(server, client, response);
  }
  const asResourceRequest = (token: string) =>
    new Request(`${t.baseUrl}/statements`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    t = await createTestApp();
    sent = [];
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    pkKey = { key: privateKey, kid: 'o4w-es256' };
    pkPublicJwk = { ...(await exportJWK(publicKey)), kid: pkKey.kid, use: 'sig' };
    basicClient = await createClient(t, {
      tokenEndpointAuthMethod: 'client_secret_basic',
      scope: 'statements:read statements:write',
    });
    postClient = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_post' });
    jwtClient = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_jwt' });
    pkClient = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [pkPublicJwk] } });
    const issuer = new URL(t.issuer);
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...options() }),
    );
  });
  afterAll(() => t.close());
  // oauth4webapi signs and validates with the wall clock; keep the server's FixedClock on it.
  beforeEach(() => t.clock.set(Date.now()));

  describe('discovery', () => {
    it('processDiscoveryResponse accepts the RFC 8414 document (issuer matches exactly)', () => {
      expect(as).toMatchObject({
        issuer: t.issuer,
        token_endpoint: `${t.issuer}/token`,
        jwks_uri: `${t.issuer}/jwks`,
        introspection_endpoint: `${t.issuer}/introspect`,
        revocation_endpoint: `${t.issuer}/revoke`,
        registration_endpoint: `${t.issuer}/register`,
      });
      expect(as.token_endpoint_auth_methods_supported).toEqual(
        expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt']),
      );
      expect(as.introspection_endpoint_auth_methods_supported).toEqual(as.token_endpoint_auth_methods_supported);
      expect(as.revocation_endpoint_auth_methods_supported).toEqual(as.token_endpoint_auth_methods_supported);
    });

    it('the default algorithm (oidc) finds no document', async () => {
      const issuer = new URL(t.issuer);
      const response = await oauth.discoveryRequest(issuer, insecure);
      expect(response.status).toBe(404);
      await expect(oauth.processDiscoveryResponse(issuer, response)).rejects.toThrow();
    });

    it('a different expected issuer is refused (RFC 8414 §3.3)', async () => {
      const response = await oauth.discoveryRequest(new URL(t.issuer), { algorithm: 'oauth2', ...insecure });
      await expect(oauth.processDiscoveryResponse(new URL('http://localhost:1/'), response)).rejects.toThrow();
    });
  });

  describe.each(methods)('clientCredentialsGrantRequest with %s', (method, make) => {
    it('gets an access token that validateJwtAccessToken accepts (keys from jwks_uri)', async () => {
      const { client, auth } = make();
      const tokens = await grant(client, auth);
      expect(tokens).toMatchObject({
        token_type: 'bearer',
        expires_in: 300,
        scope: expect.stringContaining('statements:read'),
      });
      const claims = await oauth.validateJwtAccessToken(as, asResourceRequest(tokens.access_token), t.issuer, insecure);
      expect(claims).toMatchObject({
        iss: t.issuer,
        sub: client.client_id,
        client_id: client.client_id,
        aud: t.issuer,
        scope: tokens.scope,
      });
      expect(claims.exp - claims.iat).toBe(300);
      expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });

      const request = lastTo('/token');
      expect(request.body.get('grant_type')).toBe('client_credentials');
      expect(request.headers.get('authorization')?.startsWith('Basic ') ?? false).toBe(
        method === 'client_secret_basic',
      );
    });

    it('the token opens the demo /statements (protectedResourceRequest)', async () => {
      const { client, auth } = make();
      const { access_token } = await grant(client, auth, { scope: 'statements:read' });
      const res = await oauth.protectedResourceRequest(
        access_token,
        'GET',
        new URL(`${t.baseUrl}/statements`),
        new Headers(),
        null,
        insecure,
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ client_id: client.client_id });
    });

    it('introspectionRequest authenticated the same way: active with the claims', async () => {
      const { client, auth } = make();
      const { access_token } = await grant(client, auth);
      const response = await oauth.introspectionRequest(as, client, auth, access_token, options());
      const result = await oauth.processIntrospectionResponse(as, client, response);
      expect(result).toMatchObject({
        active: true,
        client_id: client.client_id,
        sub: client.client_id,
        iss: t.issuer,
        aud: t.issuer,
        token_type: 'Bearer',
      });
      expect(lastTo('/introspect').body.get('token')).toBe(access_token);
    });

    it('revocationRequest: the token is then inactive, and refused by the demo resource', async () => {
      const { client, auth } = make();
      const { access_token } = await grant(client, auth);
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, access_token, options()));
      const result = await oauth.processIntrospectionResponse(
        as,
        client,
        await oauth.introspectionRequest(as, client, auth, access_token, options()),
      );
      expect(result).toEqual({ active: false });
      // A JWT stays verifiable on its own: only a resource that asks (the demo consults the deny list) sees the revocation.
      await expect(
        oauth.validateJwtAccessToken(as, asResourceRequest(access_token), t.issuer, insecure),
      ).resolves.toMatchObject({ client_id: client.client_id });
      await expect(
        oauth.protectedResourceRequest(
          access_token,
          'GET',
          new URL(`${t.baseUrl}/statements`),
          new Headers(),
          null,
          insecure,
        ),
      ).rejects.toMatchObject({
        code: oauth.WWW_AUTHENTICATE_CHALLENGE,
        status: 401,
        cause: [{ scheme: 'bearer', parameters: { error: 'invalid_token' } }],
      });
    });
  });

  describe('the assertions oauth4webapi signs', () => {
    it.each([
      ['client_secret_jwt', 'HS256'],
      ['private_key_jwt', 'ES256'],
    ])(
      '%s: aud = issuer identifier (a string), iss = sub = client_id, nbf/iat/exp, 60 s, fresh jti',
      async (method, alg) => {
        const { client, auth } = methods.find(([m]) => m === method)![1]();
        await grant(client, auth);
        const first = lastTo('/token').body;
        await grant(client, auth);
        const second = lastTo('/token').body;
        expect(first.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
        expect(first.get('client_id')).toBe(client.client_id);
        const header = decodeProtectedHeader(first.get('client_assertion')!);
        expect(header.alg).toBe(alg);
        if (method === 'private_key_jwt') expect(header.kid).toBe(pkKey.kid);
        const claims = decodeJwt(first.get('client_assertion')!);
        expect(claims).toMatchObject({ aud: t.issuer, iss: client.client_id, sub: client.client_id, nbf: claims.iat });
        expect(typeof claims.aud).toBe('string');
        expect(claims.exp! - claims.iat!).toBe(60);
        expect(decodeJwt(second.get('client_assertion')!).jti).not.toBe(claims.jti);
      },
    );
  });

  describe('private_key_jwt with other key types', () => {
    it.each(['RS256', 'PS384', 'ES512', 'Ed25519'])('%s', async (alg) => {
      const { privateKey, publicKey } = await generateKeyPair(alg);
      const kid = `o4w-${alg}`;
      const c = await createClient(t, {
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid }] },
      });
      const client = { client_id: c.clientId };
      const tokens = await grant(client, oauth.PrivateKeyJwt({ key: privateKey as CryptoKey, kid }));
      expect(decodeProtectedHeader(lastTo('/token').body.get('client_assertion')!)).toEqual({ alg, kid });
      await oauth.validateJwtAccessToken(as, asResourceRequest(tokens.access_token), t.issuer, insecure);
    });
  });

  describe('the assertion audience (modifyAssertion)', () => {
    const withAud = (aud: string | string[]): oauth.ModifyAssertionOptions => ({
      [oauth.modifyAssertion]: (_header, payload) => void (payload.aud = aud),
    });

    it('aud as a one-member array holding the issuer is accepted', async () => {
      const tokens = await grant({ client_id: pkClient.clientId }, oauth.PrivateKeyJwt(pkKey, withAud([t.issuer])));
      expect(decodeJwt(lastTo('/token').body.get('client_assertion')!).aud).toEqual([t.issuer]);
      expect(tokens.access_token).toBeTruthy();
    });

    it.each([
      ['the token endpoint URL', () => `${t.issuer}/token`],
      ['issuer and token endpoint together', () => [t.issuer, `${t.issuer}/token`]],
    ])('aud = %s → invalid_client under the strict default', async (_name, aud) => {
      const error = await grant(
        { client_id: jwtClient.clientId },
        oauth.ClientSecretJwt(jwtClient.clientSecret, withAud(aud())),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(oauth.ResponseBodyError);
      expect(error).toMatchObject({ error: 'invalid_client', status: 401 });
    });

    describe('a server with ASSERTION_AUDIENCE=legacy', () => {
      let legacy: TestApp;
      let legacyAs: oauth.AuthorizationServer;
      let pk: { clientId: string };
      let secretJwt: Creds;
      beforeAll(async () => {
        legacy = await createTestApp({ env: { ASSERTION_AUDIENCE: 'legacy' } });
        pk = await createClient(legacy, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [pkPublicJwk] } });
        secretJwt = await createClient(legacy, { tokenEndpointAuthMethod: 'client_secret_jwt' });
        const issuer = new URL(legacy.issuer);
        legacyAs = await oauth.processDiscoveryResponse(
          issuer,
          await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
        );
      });
      afterAll(() => legacy.close());
      beforeEach(() => legacy.clock.set(Date.now()));

      it('accepts the token endpoint URL as aud', async () => {
        const tokens = await grant(
          { client_id: pk.clientId },
          oauth.PrivateKeyJwt(pkKey, withAud(`${legacy.issuer}/token`)),
          {},
          legacyAs,
        );
        expect(decodeJwt(tokens.access_token).client_id).toBe(pk.clientId);
        const viaSecret = await grant(
          { client_id: secretJwt.clientId },
          oauth.ClientSecretJwt(secretJwt.clientSecret, withAud(`${legacy.issuer}/token`)),
          {},
          legacyAs,
        );
        expect(viaSecret.access_token).toBeTruthy();
      });

      it('still accepts the library default (aud = issuer)', async () => {
        await expect(
          grant({ client_id: pk.clientId }, oauth.PrivateKeyJwt(pkKey), {}, legacyAs),
        ).resolves.toMatchObject({ token_type: 'bearer' });
      });

      it('still refuses an aud that is neither', async () => {
        await expect(
          grant(
            { client_id: pk.clientId },
            oauth.PrivateKeyJwt(pkKey, withAud('https://elsewhere.example')),
            {},
            legacyAs,
          ),
        ).rejects.toMatchObject({ error: 'invalid_client' });
      });
    });
  });

  describe('errors', () => {
    it('a wrong secret (post) → ResponseBodyError invalid_client', async () => {
      await expect(grant({ client_id: postClient.clientId }, oauth.ClientSecretPost('wrong'))).rejects.toMatchObject({
        code: oauth.RESPONSE_BODY_ERROR,
        error: 'invalid_client',
        status: 401,
      });
    });

    it('a wrong secret (basic) → 401 with WWW-Authenticate: Basic, reported as a WWWAuthenticateChallengeError', async () => {
      // RFC 6749 §5.2 requires the challenge after Basic; oauth4webapi reports challenges before bodies.
      const error = (await grant({ client_id: basicClient.clientId }, oauth.ClientSecretBasic('wrong')).catch(
        (e: unknown) => e,
      )) as oauth.WWWAuthenticateChallengeError;
      expect(error).toMatchObject({
        code: oauth.WWW_AUTHENTICATE_CHALLENGE,
        status: 401,
        cause: [{ scheme: 'basic', parameters: { realm: t.issuer } }],
      });
      expect(await error.response.json()).toMatchObject({ error: 'invalid_client' });
    });

    it('a scope outside the registration → invalid_scope', async () => {
      await expect(
        grant({ client_id: postClient.clientId }, oauth.ClientSecretPost(postClient.clientSecret), {
          scope: 'statements:write',
        }),
      ).rejects.toMatchObject({ error: 'invalid_scope', status: 400 });
    });

    it('validateJwtAccessToken refuses a tampered token, and another expected audience', async () => {
      const { access_token } = await grant(
        { client_id: postClient.clientId },
        oauth.ClientSecretPost(postClient.clientSecret),
      );
      const [h, , s] = access_token.split('.');
      const widened = Buffer.from(
        JSON.stringify({ ...decodeJwt(access_token), scope: 'statements:read statements:write' }),
      ).toString('base64url');
      await expect(
        oauth.validateJwtAccessToken(as, asResourceRequest(`${h}.${widened}.${s}`), t.issuer, insecure),
      ).rejects.toThrow();
      await expect(
        oauth.validateJwtAccessToken(as, asResourceRequest(access_token), 'https://other-api.example', insecure),
      ).rejects.toThrow(/aud/);
    });
  });
});
