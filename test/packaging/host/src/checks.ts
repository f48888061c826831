import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { ClavisClientError, RegistrationClient, TokenClient, clientSecretBasic, privateKeyJwt } from '@clavis/client';
import { ClavisClientModule } from '@clavis/client/nest';
import { MemoryAuditSink } from '@clavis/server/testing';

/** One check of the packaging test. */
export interface Check {
  name: string;
  run: () => Promise<void>;
}

export interface Target {
  /** Where the host listens, e.g. http://127.0.0.1:4100. */
  base: string;
  /** Clavis's issuer: the host's origin plus the route prefix /oauth. */
  issuer: string;
  initialAccessToken: string;
}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function json(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
}

async function expectOAuthError(res: Response, status: number, error: string): Promise<void> {
  const body = await json(res);
  expect(
    res.status === status && body.error === error,
    `expected ${status} ${error}, got ${res.status} ${JSON.stringify(body).slice(0, 200)}`,
  );
}

/** What a host needs from the three packages, over HTTP against the running host. */
export function checks(t: Target): Check[] {
  const state: { basic?: RegistrationClient; basicTokens?: TokenClient; oldSecret?: string } = {};
  const guarded = `${t.base}/notes/mine`;

  return [
    {
      name: 'subpath exports load (@clavis/server/testing, @clavis/client/nest)',
      run: async () => {
        expect(
          typeof MemoryAuditSink === 'function' && typeof ClavisClientModule === 'function',
          'subpath exports missing',
        );
      },
    },
    {
      name: 'metadata under the route prefix names the issuer',
      run: async () => {
        const res = await fetch(`${t.issuer}/.well-known/oauth-authorization-server`);
        const body = await json(res);
        expect(
          res.status === 200 && body.issuer === t.issuer,
          `metadata: ${res.status} ${JSON.stringify(body).slice(0, 200)}`,
        );
      },
    },
    {
      name: 'registration with the initial access token (client_secret_basic), token, guarded host route',
      run: async () => {
        const registrar = new RegistrationClient({ issuer: t.issuer });
        const reg = await registrar.register(
          {
            client_name: 'packaging basic',
            token_endpoint_auth_method: 'client_secret_basic',
            grant_types: ['client_credentials'],
            scope: 'notes:read',
          },
          { initialAccessToken: t.initialAccessToken },
        );
        expect(reg.client_secret, 'no client_secret issued');
        const tokens = new TokenClient({
          issuer: t.issuer,
          clientId: reg.client_id,
          auth: clientSecretBasic(reg.client_id, reg.client_secret),
          scope: 'notes:read',
        });
        const res = await tokens.fetch(guarded);
        const body = await json(res);
        expect(
          res.status === 200 && body.client_id === reg.client_id && body.scope === 'notes:read',
          `guarded route: ${res.status} ${JSON.stringify(body)}`,
        );
        Object.assign(state, { basic: registrar, basicTokens: tokens, oldSecret: reg.client_secret });
      },
    },
    {
      name: 'guarded host route without a token: 401 with a Bearer challenge',
      run: async () => {
        const res = await fetch(guarded);
        expect(
          res.status === 401 && (res.headers.get('www-authenticate') ?? '').startsWith('Bearer'),
          `no token: ${res.status} ${res.headers.get('www-authenticate')}`,
        );
      },
    },
    {
      name: 'wrong client secret: 401 invalid_client',
      run: async () => {
        const reg = state.basic?.registration;
        expect(reg, 'needs the registered client');
        const res = await fetch(`${t.issuer}/token`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${btoa(`${reg.client_id}:wrong`)}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: 'grant_type=client_credentials',
        });
        await expectOAuthError(res, 401, 'invalid_client');
      },
    },
    {
      name: 'RFC 7592 secret rotation: the new secret works, the previous one keeps working in the overlap window',
      run: async () => {
        const registrar = state.basic;
        expect(registrar?.registration && state.oldSecret, 'needs the registered client');
        const { client_secret } = await registrar.rotateSecret();
        expect(client_secret !== state.oldSecret, 'secret unchanged');
        const clientId = registrar.registration.client_id;
        for (const secret of [client_secret, state.oldSecret]) {
          const tokens = new TokenClient({ issuer: t.issuer, clientId, auth: clientSecretBasic(clientId, secret) });
          expect((await tokens.getToken()).split('.').length === 3, 'no JWT');
        }
        const read = await registrar.read(); // with the rotated registration access token
        expect(read.client_id === clientId, 'RFC 7592 read failed');
      },
    },
    {
      name: 'private_key_jwt: registration with a JWK Set, token, guarded host route',
      run: async () => {
        const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const kid = randomUUID();
        const registrar = new RegistrationClient({ issuer: t.issuer });
        const reg = await registrar.register(
          {
            client_name: 'packaging pkjwt',
            token_endpoint_auth_method: 'private_key_jwt',
            grant_types: ['client_credentials'],
            scope: 'notes:read',
            jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] },
          },
          { initialAccessToken: t.initialAccessToken },
        );
        const tokens = new TokenClient({
          issuer: t.issuer,
          clientId: reg.client_id,
          auth: privateKeyJwt(reg.client_id, privateKey, { kid }),
        });
        const res = await tokens.fetch(guarded);
        expect(res.status === 200, `guarded route with a private_key_jwt token: ${res.status}`);
      },
    },
    {
      name: "the host's own JSON route (its body parser)",
      run: async () => {
        const res = await fetch(`${t.base}/notes`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'hello' }),
        });
        const body = await json(res);
        expect(
          res.status === 201 && (body.received as { text?: unknown })?.text === 'hello',
          `host JSON route: ${res.status} ${JSON.stringify(body)}`,
        );
      },
    },
    {
      name: 'the SDK reports a failed discovery as a ClavisClientError',
      run: async () => {
        const tokens = new TokenClient({
          issuer: `${t.base}/nowhere`,
          clientId: 'x',
          auth: clientSecretBasic('x', 'y'),
        });
        const error = await tokens.getToken().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error instanceof ClavisClientError, `expected ClavisClientError, got ${String(error)}`);
      },
    },
    // The embedding respects the host: its body parser stays on, and the issuer has a path.
    {
      name: 'host body parser on: a 20 KB token request gets 413 invalid_request',
      run: async () => {
        const res = await fetch(`${t.issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `grant_type=client_credentials&pad=${'a'.repeat(20 * 1024)}`,
        });
        await expectOAuthError(res, 413, 'invalid_request');
      },
    },
    {
      name: 'host body parser on: malformed registration JSON gets 400 invalid_client_metadata',
      run: async () => {
        const res = await fetch(`${t.issuer}/register`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.initialAccessToken}`, 'content-type': 'application/json' },
          body: '{"client_name": ',
        });
        await expectOAuthError(res, 400, 'invalid_client_metadata');
      },
    },
    {
      name: 'path issuer: metadata at the RFC 8414 §3.1 location /.well-known/oauth-authorization-server/oauth',
      run: async () => {
        const res = await fetch(`${t.base}/.well-known/oauth-authorization-server/oauth`);
        const body = await json(res);
        expect(
          res.status === 200 && body.issuer === t.issuer,
          `RFC 8414 §3.1 location: ${res.status} ${JSON.stringify(body).slice(0, 200)}`,
        );
      },
    },
  ];
}
