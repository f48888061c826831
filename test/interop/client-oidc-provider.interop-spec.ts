import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
// @ts-expect-error oidc-provider ships no type declarations (and @types/oidc-provider is not installed)
import * as oidcProvider from 'oidc-provider';
import {
  ClavisClientError,
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  privateKeyJwt,
  TokenClient,
  type ClientAuth,
} from '@clavis/client';

/** The little of oidc-provider's API this test uses. */
interface OidcProviderModule {
  default: new (
    issuer: string,
    configuration: Record<string, unknown>,
  ) => { callback(): (req: IncomingMessage, res: ServerResponse) => void };
  errors: { InvalidClientAuth: new (detail: string) => Error };
}
const { default: Provider, errors } = oidcProvider as OidcProviderModule;

// @clavis/client against node-oidc-provider 9 (in-process, in-memory), one client per auth method.
// The provider is configured to accept only aud = issuer in client assertions, as Clavis does.

const SCOPE = 'statements:read';
const secret = (bytes = 32) => randomBytes(bytes).toString('base64url');
const secrets = { basic: secret(), post: secret(), jwt: secret(48) };

let server: Server;
let issuer: string;
let assertionKey: CryptoKey;
const assertionAudiences: unknown[] = [];

beforeAll(async () => {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const clientKeys = await generateKeyPair('ES256');
  assertionKey = clientKeys.privateKey;
  const serverKey = await generateKeyPair('RS256', { extractable: true });
  const common = {
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: SCOPE,
  };

  const provider = new Provider(issuer, {
    clients: [
      {
        ...common,
        client_id: 'basic-client',
        client_secret: secrets.basic,
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        ...common,
        client_id: 'post-client',
        client_secret: secrets.post,
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        ...common,
        client_id: 'jwt-client',
        client_secret: secrets.jwt,
        token_endpoint_auth_method: 'client_secret_jwt',
      },
      {
        ...common,
        client_id: 'pkjwt-client',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: {
          keys: [
            {
              ...(await exportJWK(clientKeys.publicKey)),
              kid: 'client-key-1',
              use: 'sig',
            },
          ],
        },
      },
    ],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'],
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
    },
    scopes: [SCOPE, 'admin'],
    ttl: { ClientCredentials: 600 },
    jwks: {
      keys: [
        {
          ...(await exportJWK(serverKey.privateKey)),
          kid: 'server-key-1',
          alg: 'RS256',
          use: 'sig',
        },
      ],
    },
    cookies: { keys: [secret()] },
    // Strict audience, as Clavis and draft-ietf-oauth-rfc7523bis require: the issuer, nothing else.
    async assertJwtClientAuthClaimsAndHeader(ctx: { oidc: { issuer: string } }, claims: { aud?: unknown }) {
      assertionAudiences.push(claims.aud);
      if (claims.aud !== ctx.oidc.issuer) throw new errors.InvalidClientAuth('aud must be the issuer identifier');
    },
  });
  handler = provider.callback();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const methods: [string, string, () => ClientAuth][] = [
  ['client_secret_basic', 'basic-client', () => clientSecretBasic('basic-client', secrets.basic)],
  ['client_secret_post', 'post-client', () => clientSecretPost('post-client', secrets.post)],
  ['client_secret_jwt', 'jwt-client', () => clientSecretJwt('jwt-client', secrets.jwt)],
  ['private_key_jwt', 'pkjwt-client', () => privateKeyJwt('pkjwt-client', assertionKey, { kid: 'client-key-1' })],
];

describe('@clavis/client against oidc-provider 9', () => {
  it.each(methods)('%s: discovers the token endpoint and gets an access token', async (_method, clientId, auth) => {
    const tokens = new TokenClient({
      issuer,
      clientId,
      auth: auth(),
      scope: SCOPE,
    });
    const response = await tokens.getTokenResponse();
    expect(response).toMatchObject({ token_type: 'Bearer', scope: SCOPE });
    expect(typeof response.access_token).toBe('string');
    expect(response.access_token.length).toBeGreaterThan(20);
    expect(response.expires_in).toBeGreaterThan(0);
    expect(await tokens.getToken()).toBe(response.access_token); // cached

    // a second request carries a fresh assertion (oidc-provider rejects a replayed jti)
    tokens.invalidate();
    expect(await tokens.getToken()).not.toBe(response.access_token);
  });

  it('sent aud = issuer as a single string in every assertion', () => {
    expect(assertionAudiences.length).toBeGreaterThanOrEqual(4);
    for (const aud of assertionAudiences) expect(aud).toBe(issuer);
  });

  it('reports a wrong secret as invalid_client with status 401', async () => {
    const tokens = new TokenClient({
      issuer,
      clientId: 'basic-client',
      auth: clientSecretBasic('basic-client', 'wrong'),
    });
    const error = await tokens.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClavisClientError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401 });
  });

  it('reports a scope the client may not have as invalid_scope', async () => {
    const tokens = new TokenClient({
      issuer,
      clientId: 'post-client',
      auth: clientSecretPost('post-client', secrets.post),
      scope: 'admin',
    });
    await expect(tokens.getToken()).rejects.toMatchObject({
      code: 'invalid_scope',
      status: 400,
    });
  });

  it('rejects an assertion whose aud is the token endpoint (strict audience on the server)', async () => {
    const tokens = new TokenClient({
      issuer,
      clientId: 'jwt-client',
      auth: clientSecretJwt('jwt-client', secrets.jwt, {
        audience: `${issuer}/token`,
      }),
    });
    await expect(tokens.getToken()).rejects.toMatchObject({
      code: 'invalid_client',
    });
  });
});
