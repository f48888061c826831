import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JSONWebKeySet, type JWK } from 'jose';
import {
  startFakeServer,
  type FakeHttpServer,
  type FakeResponse,
  type RecordedRequest,
} from '../test/fake-http-server.js';
import type { ClientAuth } from './auth/client-auth.js';
import { privateKeyJwt } from './auth/private-key-jwt.js';
import { ClavisClientError } from './errors.js';
import {
  RegistrationClient,
  type ClientMetadata,
  type ClientRegistration,
  type RegistrationClientOptions,
} from './registration-client.js';
import { TokenClient } from './token-client.js';

const INITIAL_ACCESS_TOKEN = 'iat-1';
/** The platform token the fake accepts for a federated client. */
const PLATFORM_TOKEN = 'platform-token';
const FORBIDDEN_IN_PUT = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
];

interface StoredClient {
  metadata: Record<string, unknown>;
  rat: string;
  secret?: string;
  secretExpiresAt: number;
}

/** An in-memory RFC 7591/7592 server with the registration and rotation rules of RFC 7591/7592 and the README, plus a token endpoint. */
class FakeRegistrationServer {
  clients = new Map<string, StoredClient>();
  rotateSecretOnUpdate = true;
  /** Answers the next registration request instead of the normal logic. */
  failNext?: FakeResponse;
  /** Rejects token requests whose assertion has this kid. */
  rejectKid?: string;
  http!: FakeHttpServer;
  #next = 0;

  async start() {
    this.http = await startFakeServer((r, url) => this.handle(r, url));
    return this;
  }

  get issuer() {
    return this.http.url;
  }

  async handle(r: RecordedRequest, issuer: string): Promise<FakeResponse | undefined> {
    if (r.path === '/token') return this.token(r, issuer);
    if (!r.path.startsWith('/register')) return undefined;
    if (this.failNext) {
      const answer = this.failNext;
      this.failNext = undefined;
      return answer;
    }
    const bearer = r.headers.authorization?.replace(/^Bearer /, '');
    const unauthorized = {
      status: 401,
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    };
    if (r.path === '/register' && r.method === 'POST') {
      if (bearer !== INITIAL_ACCESS_TOKEN) return unauthorized;
      const id = `client-${++this.#next}`;
      const { token_endpoint_auth_method = 'client_secret_basic', ...rest } = r.json as Record<string, unknown>;
      const stored: StoredClient = {
        metadata: {
          ...rest,
          token_endpoint_auth_method,
          grant_types: ['client_credentials'],
        },
        rat: secret(),
        secretExpiresAt: 0,
      };
      if (token_endpoint_auth_method !== 'private_key_jwt')
        [stored.secret, stored.secretExpiresAt] = [secret(), 2_000_000_000];
      this.clients.set(id, stored);
      return {
        status: 201,
        json: this.body(id, issuer, { secret: true, rat: true }),
        headers: { 'cache-control': 'no-store' },
      };
    }
    const id = r.path.slice('/register/'.length);
    const stored = this.clients.get(id);
    if (!stored || bearer !== stored.rat) return unauthorized;
    switch (r.method) {
      case 'GET':
        return { json: this.body(id, issuer, {}) };
      case 'PUT': {
        const body = r.json as Record<string, unknown>;
        if (body.client_id !== id) {
          return {
            status: 400,
            json: {
              error: 'invalid_request',
              error_description: 'client_id must match',
            },
          };
        }
        const forbidden = FORBIDDEN_IN_PUT.filter((name) => name in body);
        if (forbidden.length) {
          return {
            status: 400,
            json: {
              error: 'invalid_request',
              error_description: `forbidden: ${forbidden.join(' ')}`,
            },
          };
        }
        const { client_id: _, ...metadata } = body;
        stored.metadata = metadata;
        stored.rat = secret();
        // A move to a method without a secret: no secret is issued or shown (the server keeps the old one for the overlap).
        if (
          metadata.token_endpoint_auth_method === 'private_key_jwt' ||
          metadata.token_endpoint_auth_method === 'federated_jwt'
        )
          [stored.secret, stored.secretExpiresAt] = [undefined, 0];
        const rotate = this.rotateSecretOnUpdate && stored.secret !== undefined;
        if (rotate) {
          [stored.secret, stored.secretExpiresAt] = [secret(), stored.secretExpiresAt + 1];
        }
        return { json: this.body(id, issuer, { secret: rotate, rat: true }) };
      }
      case 'DELETE':
        this.clients.delete(id);
        return { status: 204 };
      default:
        return { status: 405 };
    }
  }

  body(id: string, issuer: string, include: { secret?: boolean; rat?: boolean }) {
    const stored = this.clients.get(id)!;
    return {
      ...stored.metadata,
      client_id: id,
      client_id_issued_at: 1_900_000_000,
      client_secret_expires_at: stored.secretExpiresAt,
      ...(include.secret ? { client_secret: stored.secret } : {}),
      ...(include.rat ? { registration_access_token: stored.rat } : {}),
      registration_client_uri: `${issuer}/register/${id}`,
    };
  }

  async token(r: RecordedRequest, issuer: string): Promise<FakeResponse> {
    const invalid = {
      status: 401,
      json: {
        error: 'invalid_client',
        error_description: 'client authentication failed',
      },
    };
    const stored = this.clients.get(r.form.get('client_id') ?? '');
    if (!stored) return invalid;
    if (stored.metadata.token_endpoint_auth_method === 'federated_jwt')
      return r.form.get('client_assertion') === PLATFORM_TOKEN
        ? { json: { access_token: secret(), token_type: 'Bearer', expires_in: 300 } }
        : invalid;
    try {
      const assertion = r.form.get('client_assertion')!;
      const { protectedHeader } = await jwtVerify(assertion, createLocalJWKSet(stored.metadata.jwks as JSONWebKeySet), {
        audience: issuer,
      });
      if (protectedHeader.kid === this.rejectKid) return invalid;
    } catch {
      return invalid;
    }
    return {
      json: { access_token: secret(), token_type: 'Bearer', expires_in: 300 },
    };
  }

  /** Request bodies of the PUTs, in order. */
  puts(): Record<string, unknown>[] {
    return this.http.requests.filter((r) => r.method === 'PUT').map((r) => r.json as Record<string, unknown>);
  }
}

function secret() {
  return randomBytes(32).toString('base64url');
}

let as: FakeRegistrationServer;
beforeEach(async () => {
  as = await new FakeRegistrationServer().start();
});
afterEach(() => as.http.close());

function registrar(options: Partial<RegistrationClientOptions> = {}) {
  return new RegistrationClient({ issuer: as.issuer, ...options });
}

async function registered(
  metadata: ClientMetadata = { client_name: 'svc', scope: 'a b' },
  options: Partial<RegistrationClientOptions> = {},
) {
  const client = registrar(options);
  await client.register(metadata, { initialAccessToken: INITIAL_ACCESS_TOKEN });
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<ClavisClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClavisClientError);
  return error as ClavisClientError;
}

describe('RegistrationClient.register', () => {
  it('POSTs the metadata as JSON to the discovered endpoint with the initial access token, adopting, then persisting', async () => {
    const seen: {
      persisted: ClientRegistration;
      stateDuringCallback: unknown;
    }[] = [];
    const client: RegistrationClient = registrar({
      onCredentials: (persisted) => void seen.push({ persisted, stateDuringCallback: client.registration }),
    });
    const result = await client.register(
      { client_name: 'svc', scope: 'a b' },
      { initialAccessToken: INITIAL_ACCESS_TOKEN },
    );

    const [discovery, post] = as.http.requests;
    expect(discovery.path).toBe('/.well-known/oauth-authorization-server');
    expect(post).toMatchObject({
      method: 'POST',
      path: '/register',
      json: { client_name: 'svc', scope: 'a b' },
    });
    expect(post.headers).toMatchObject({
      authorization: `Bearer ${INITIAL_ACCESS_TOKEN}`,
      'content-type': 'application/json',
    });

    expect(result).toMatchObject({
      client_id: 'client-1',
      client_secret: as.clients.get('client-1')!.secret,
      registration_access_token: as.clients.get('client-1')!.rat,
    });
    expect(seen).toEqual([{ persisted: result, stateDuringCallback: result }]);
    expect(client.registration).toEqual(result);
  });

  it('maps a 401 challenge without a body to invalid_token and stays unregistered', async () => {
    const client = registrar();
    const error = await rejection(client.register({ client_name: 'svc' }, { initialAccessToken: 'wrong' }));
    expect([error.code, error.status]).toEqual(['invalid_token', 401]);
    expect(client.registration).toBeUndefined();
  });

  it('passes invalid_client_metadata through with its description', async () => {
    as.failNext = {
      status: 400,
      json: {
        error: 'invalid_client_metadata',
        error_description: 'scope contains values this server does not offer: z',
      },
    };
    const error = await rejection(registrar().register({ scope: 'z' }, { initialAccessToken: INITIAL_ACCESS_TOKEN }));
    expect([error.code, error.status, error.description]).toEqual([
      'invalid_client_metadata',
      400,
      'scope contains values this server does not offer: z',
    ]);
  });

  it('rejects a response without registration_access_token as invalid_response', async () => {
    as.failNext = {
      status: 201,
      json: {
        client_id: 'x',
        registration_client_uri: `${as.issuer}/register/x`,
      },
    };
    expect((await rejection(registrar().register({}, { initialAccessToken: INITIAL_ACCESS_TOKEN }))).code).toBe(
      'invalid_response',
    );
  });
});

describe('RegistrationClient.update and rotateSecret', () => {
  it('PUTs the full merged metadata with client_id and without server-only fields, then adopts the new token and secret', async () => {
    const client = await registered({
      client_name: 'svc',
      scope: 'a b',
      contacts: ['ops@example.com'],
    });
    const before = client.registration!;
    const updated = await client.update({ scope: 'a', contacts: undefined });

    const put = as.http.requests.find((r) => r.method === 'PUT')!;
    expect(put.path).toBe('/register/client-1');
    expect(put.headers.authorization).toBe(`Bearer ${before.registration_access_token}`);
    expect(put.json).toEqual({
      client_id: 'client-1',
      client_name: 'svc',
      scope: 'a',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
    });

    const server = as.clients.get('client-1')!;
    expect(updated).toMatchObject({
      registration_access_token: server.rat,
      client_secret: server.secret,
      client_secret_expires_at: server.secretExpiresAt,
      scope: 'a',
    });
    expect(updated.client_secret).not.toBe(before.client_secret);
    expect(client.registration).toEqual(updated);
  });

  it('rotateSecret() returns the new secret and expiry, and keeps managing with the new registration token', async () => {
    const client = await registered();
    const old = client.registration!;
    const rotated = await client.rotateSecret();
    expect(rotated).toEqual({
      client_secret: as.clients.get('client-1')!.secret,
      client_secret_expires_at: old.client_secret_expires_at! + 1,
    });
    expect(client.registration).toMatchObject(rotated);
    expect(await client.read()).toMatchObject({ client_id: 'client-1' });
    // the old registration access token is dead on the server
    expect((await rejection(registrar({ registration: old }).read())).code).toBe('invalid_token');
  });

  it('keeps the old secret and its expiry together when the server issues no new secret', async () => {
    const client = await registered();
    const old = client.registration!;
    as.rotateSecretOnUpdate = false;
    const updated = await client.update({ client_name: 'renamed' });
    expect(updated).toMatchObject({
      client_secret: old.client_secret,
      client_secret_expires_at: old.client_secret_expires_at,
      client_name: 'renamed',
    });
    expect(updated.registration_access_token).not.toBe(old.registration_access_token);

    const error = await rejection(client.rotateSecret());
    expect(error.code).toBe('invalid_response');
    expect(client.registration!.registration_access_token).toBe(as.clients.get('client-1')!.rat); // adopted nonetheless
  });

  it('keeps the credentials the server issued when onCredentials fails, and hands them over on the error', async () => {
    const failure = new Error('vault down');
    let fail = false;
    const client = await registered(undefined, {
      onCredentials: () => {
        if (fail) throw failure;
      },
    });
    const before = client.registration!;
    fail = true;
    const error = await rejection(client.rotateSecret());
    const stored = as.clients.get(before.client_id)!;
    expect(error).toMatchObject({
      code: 'credentials_not_persisted',
      cause: failure,
    });
    // The server has replaced both: the old ones no longer work, the new ones are kept.
    expect(stored.rat).not.toBe(before.registration_access_token);
    expect(error.registration).toMatchObject({
      registration_access_token: stored.rat,
      client_secret: stored.secret,
    });
    expect(client.registration).toEqual(error.registration);
    // Not printed with the error: neither in its message nor by util.inspect / console.log.
    const { inspect } = await import('node:util');
    expect(`${error.message} ${inspect(error)}`).not.toContain(stored.rat);
    expect(`${error.message} ${inspect(error)}`).not.toContain(stored.secret!);
    fail = false;
    await client.read(); // still manageable with the new registration access token
    expect(as.http.requests.at(-1)!.headers.authorization).toBe(`Bearer ${stored.rat}`);
  });

  it('leaves the state unchanged when the server answers an error', async () => {
    const onCredentials = vi.fn();
    const client = await registered(undefined, { onCredentials });
    const before = client.registration;
    as.failNext = {
      status: 400,
      json: {
        error: 'invalid_client_metadata',
        error_description: 'bad scope',
      },
    };
    expect((await rejection(client.update({ scope: '!' }))).code).toBe('invalid_client_metadata');
    as.failNext = { status: 503, body: 'down' };
    expect((await rejection(client.rotateSecret())).code).toBe('http_error');
    expect(client.registration).toEqual(before);
    expect(onCredentials).toHaveBeenCalledTimes(1);
  });

  it('runs concurrent operations one after another, each with the latest registration token', async () => {
    const client = await registered();
    const results = await Promise.all([client.update({ client_name: 'x' }), client.rotateSecret(), client.read()]);
    expect(results[2]).toMatchObject({
      client_name: 'x',
      registration_access_token: as.clients.get('client-1')!.rat,
    });
    expect(as.puts()).toHaveLength(2);
  });
});

describe('RegistrationClient.read, delete and restore', () => {
  it('read() adopts the server metadata and keeps the secret the server no longer shows', async () => {
    const client = await registered();
    const secretBefore = client.registration!.client_secret;
    as.clients.get('client-1')!.metadata.client_name = 'changed by an operator';
    const read = await client.read();
    expect(read).toMatchObject({
      client_name: 'changed by an operator',
      client_secret: secretBefore,
    });
    expect(as.http.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: '/register/client-1',
    });
  });

  it('delete() removes the client and forgets it', async () => {
    const client = await registered();
    await client.delete();
    expect(as.clients.size).toBe(0);
    expect(client.registration).toBeUndefined();
    expect((await rejection(client.read())).code).toBe('not_registered');
  });

  it('manages a registration restored from storage', async () => {
    const saved = (await registered()).registration!;
    const restored = registrar({ registration: saved });
    expect(await restored.update({ client_name: 'restored' })).toMatchObject({
      client_id: saved.client_id,
      client_name: 'restored',
    });
    expect(() => registrar({ registration: { client_id: 'x' } as ClientRegistration })).toThrow(TypeError);
  });
});

describe('RegistrationClient.rollKeys', () => {
  async function keyPair(kid: string) {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return {
      privateKey,
      publicJwk: { ...(await exportJWK(publicKey)), kid } as JWK,
      kid,
    };
  }

  async function setup() {
    const old = await keyPair('old');
    const client = await registered({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [old.publicJwk] },
    });
    const id = client.registration!.client_id;
    const tokens = new TokenClient({
      issuer: as.issuer,
      clientId: id,
      auth: privateKeyJwt(id, old.privateKey, { kid: 'old' }),
    });
    await tokens.getToken();
    return { client, tokens, old, fresh: await keyPair('new') };
  }

  const kids = (body: Record<string, unknown>) => (body.jwks as JSONWebKeySet).keys.map((k) => k.kid);
  const assertionKid = (r: RecordedRequest) =>
    JSON.parse(Buffer.from(r.form.get('client_assertion')!.split('.')[0], 'base64url').toString()).kid;

  it('publishes old + new, switches the token client (proving the new key), then publishes only the new key', async () => {
    const { client, tokens, fresh } = await setup();
    const result = await client.rollKeys({
      newKey: fresh,
      tokenClient: tokens,
    });

    const steps = as.http.requests.filter((r) => r.method === 'PUT' || r.path === '/token').slice(1);
    expect(
      steps.map((r) =>
        r.method === 'PUT' ? `PUT ${kids(r.json as Record<string, unknown>).join('+')}` : `token ${assertionKid(r)}`,
      ),
    ).toEqual(['PUT old+new', 'token new', 'PUT new']);
    for (const body of as.puts()) expect(Object.keys(body).filter((k) => FORBIDDEN_IN_PUT.includes(k))).toEqual([]);
    expect(kids(result)).toEqual(['new']);
    expect(tokens.auth.method).toBe('private_key_jwt');
    tokens.invalidate();
    await tokens.getToken();
  });

  it('keeps the old key published and in use when the new key does not work', async () => {
    const { client, tokens, fresh } = await setup();
    const previousAuth = tokens.auth;
    as.rejectKid = 'new';
    expect((await rejection(client.rollKeys({ newKey: fresh, tokenClient: tokens }))).code).toBe('invalid_client');
    expect(tokens.auth).toBe(previousAuth);
    expect(as.puts()).toHaveLength(1);
    expect(kids(client.registration!)).toEqual(['old', 'new']);
    // retrying later converges without duplicating the new key
    as.rejectKid = undefined;
    expect(kids(await client.rollKeys({ newKey: fresh, tokenClient: tokens }))).toEqual(['new']);
    expect(kids(as.puts()[1])).toEqual(['old', 'new']);
  });

  it("refuses clients without inline jwks and a public key that is not the new private key's", async () => {
    const { client, fresh, old } = await setup();
    const mismatch = await rejection(client.rollKeys({ newKey: { ...fresh, publicJwk: old.publicJwk } }));
    expect(mismatch).toMatchObject({
      code: 'invalid_key',
      description: 'newKey.publicJwk is not the public key of newKey.privateKey',
    });
    const symmetric = await rejection(
      client.rollKeys({
        newKey: { ...fresh, publicJwk: { kty: 'oct', k: 'AAAA' } },
      }),
    );
    expect(symmetric.code).toBe('invalid_key');
    const secretClient = await registered();
    await expect(secretClient.rollKeys({ newKey: fresh })).rejects.toThrow(TypeError);
    expect(as.puts()).toHaveLength(0);
  });
});

describe('RegistrationClient.rollKeys key hygiene', () => {
  it('publishes only the public members of an RSA key whose JWK still carries p, q, dp, dq, qi (only d removed)', async () => {
    const old = await generateKeyPair('ES256');
    const client = await registered({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(old.publicKey)), kid: 'old' }] },
    });
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const { d: _, ...leaky } = await exportJWK(rsa.privateKey);
    expect(Object.keys(leaky)).toEqual(expect.arrayContaining(['p', 'q', 'dp', 'dq', 'qi']));
    await client.rollKeys({
      newKey: {
        publicJwk: {
          ...leaky,
          use: 'sig',
          alg: 'RS256',
          key_ops: ['sign'],
          ext: true,
        } as JWK,
        privateKey: rsa.privateKey,
        kid: 'rsa',
      },
    });
    for (const put of as.puts()) {
      for (const key of (put.jwks as JSONWebKeySet).keys.filter((k) => k.kid === 'rsa'))
        expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    }
    expect(as.puts()).toHaveLength(2);
  });

  it('refuses a new public key that does not match the new private key, before publishing anything', async () => {
    const old = await generateKeyPair('ES256');
    const client = await registered({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(old.publicKey)), kid: 'old' }] },
    });
    const [a, b] = await Promise.all([generateKeyPair('ES256'), generateKeyPair('RS256')]);
    for (const publicKey of [old.publicKey, b.publicKey]) {
      const error = await rejection(
        client.rollKeys({
          newKey: {
            publicJwk: await exportJWK(publicKey),
            privateKey: a.privateKey,
            kid: 'new',
          },
        }),
      );
      expect(error).toMatchObject({
        code: 'invalid_key',
        description: 'newKey.publicJwk is not the public key of newKey.privateKey',
      });
    }
    expect(as.puts()).toHaveLength(0);
  });
});

describe('RegistrationClient response checks', () => {
  it('does not adopt a registration access token or secret with CR/LF, and never shows it', async () => {
    const client = registrar();
    for (const [member, value] of [
      ['registration_access_token', 'rat\r\nX-Injected: 1'],
      ['client_secret', 'secret\r\nX-Injected: 1'],
    ] as const) {
      as.failNext = {
        status: 201,
        json: {
          client_id: 'c9',
          registration_access_token: 'rat-ok',
          client_secret: 'secret-ok',
          registration_client_uri: `${as.issuer}/register/c9`,
          [member]: value,
        },
      };
      const error = await rejection(client.register({}, { initialAccessToken: INITIAL_ACCESS_TOKEN }));
      expect(error.code).toBe('invalid_response');
      expect(error.description).toContain(member);
      expect(error.message).not.toContain(value);
      expect(client.registration).toBeUndefined();
    }
  });

  it('refuses an initial access token that would break the Authorization header, without showing it', async () => {
    await expect(registrar().register({}, { initialAccessToken: 'iat\r\nX-Injected: 1' })).rejects.toThrow(
      new TypeError('initialAccessToken must be a string of visible ASCII'),
    );
    expect(as.http.requests).toHaveLength(0);
  });

  it('abandons a registration response larger than maxResponseBytes', async () => {
    as.failNext = {
      status: 201,
      json: { client_id: 'c9', padding: 'x'.repeat(70_000) },
    };
    expect((await rejection(registrar().register({}, { initialAccessToken: INITIAL_ACCESS_TOKEN }))).code).toBe(
      'response_too_large',
    );
  });
});

describe('RegistrationClient.migrateToPrivateKeyJwt and migrateToFederated', () => {
  const federatedAuth = (clientId: string, token = PLATFORM_TOKEN): ClientAuth => ({
    method: 'federated_jwt' as ClientAuth['method'],
    clientId,
    authenticate: async () => ({
      headers: {},
      body: {
        client_id: clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: token,
      },
    }),
  });

  async function secretClient(saved: ClientRegistration[]) {
    const client = await registered(
      { client_name: 'svc', scope: 'a', token_endpoint_auth_method: 'client_secret_basic' },
      { onCredentials: (r) => void saved.push(r) },
    );
    const id = client.registration!.client_id;
    const tokens = new TokenClient({ issuer: as.issuer, clientId: id, auth: federatedAuth(id, 'not-yet') });
    return { client, id, tokens };
  }

  it('migrateToPrivateKeyJwt: one PUT with the method and the public key, stored before the token client switches and proves it', async () => {
    const saved: ClientRegistration[] = [];
    const { client, id, tokens } = await secretClient(saved);
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const publicJwk = await exportJWK(publicKey);
    const getToken = tokens.getToken.bind(tokens);
    const seen: string[] = [];
    tokens.getToken = (...args) => {
      seen.push(`${tokens.auth.method} after ${saved.length} saves`);
      return getToken(...args);
    };
    const result = await client.migrateToPrivateKeyJwt({
      newKey: { publicJwk, privateKey, kid: 'k1' },
      tokenClient: tokens,
    });
    expect(as.puts()).toHaveLength(1);
    const put = as.puts()[0];
    expect(put).toMatchObject({ client_id: id, token_endpoint_auth_method: 'private_key_jwt', client_name: 'svc' });
    expect((put.jwks as JSONWebKeySet).keys).toEqual([expect.objectContaining({ kid: 'k1', kty: 'EC' })]);
    expect((put.jwks as JSONWebKeySet).keys[0]).not.toHaveProperty('d');
    expect(seen).toEqual(['private_key_jwt after 2 saves']);
    expect(tokens.auth.method).toBe('private_key_jwt');
    // The stored registration carries the new method and no longer the secret.
    expect(result.client_secret).toBeUndefined();
    expect(saved.at(-1)).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt' });
    expect(saved.at(-1)!.client_secret).toBeUndefined();
    expect(saved.at(-1)!.client_secret_expires_at).toBeUndefined();
  });

  it("migrateToPrivateKeyJwt refuses a public key that is not the private key's, before any request", async () => {
    const { client } = await secretClient([]);
    const a = await generateKeyPair('ES256');
    const b = await generateKeyPair('ES256');
    const error = await rejection(
      client.migrateToPrivateKeyJwt({
        newKey: { publicJwk: await exportJWK(b.publicKey), privateKey: a.privateKey, kid: 'k' },
      }),
    );
    expect(error.code).toBe('invalid_key');
    expect(as.puts()).toHaveLength(0);
  });

  it('migrateToFederated: one PUT with the method and the credentials (no keys), stored, then the token client switches', async () => {
    const saved: ClientRegistration[] = [];
    const { client, id, tokens } = await secretClient(saved);
    const credentials = [
      { issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:acme/billing:ref:refs/heads/main' },
    ];
    const result = await client.migrateToFederated({
      federatedCredentials: credentials,
      tokenClient: tokens,
      auth: federatedAuth(id),
    });
    const put = as.puts()[0];
    expect(put).toMatchObject({
      client_id: id,
      token_endpoint_auth_method: 'federated_jwt',
      federated_credentials: credentials,
    });
    expect(put).not.toHaveProperty('jwks');
    expect(put).not.toHaveProperty('jwks_uri');
    expect(result).toMatchObject({ token_endpoint_auth_method: 'federated_jwt', federated_credentials: credentials });
    expect(saved.at(-1)).toMatchObject({ token_endpoint_auth_method: 'federated_jwt' });
    expect(saved.at(-1)!.client_secret).toBeUndefined();
    expect(tokens.auth.clientId).toBe(id);
    expect(tokens.auth.method).toBe('federated_jwt');
  });

  it('migrateToFederated puts the previous authentication back when the platform token is refused', async () => {
    const { client, id, tokens } = await secretClient([]);
    const previous = tokens.auth;
    const error = await rejection(
      client.migrateToFederated({
        federatedCredentials: [{ issuer: 'https://issuer.example', subject: 'system:serviceaccount:ns:sa' }],
        tokenClient: tokens,
        auth: federatedAuth(id, 'wrong'),
      }),
    );
    expect(error.code).toBe('invalid_client');
    expect(tokens.auth).toBe(previous);
    // The server was told; the stored state says so.
    expect(client.registration!.token_endpoint_auth_method).toBe('federated_jwt');
  });

  it('migrateToFederated checks its arguments before any request', async () => {
    const { client, tokens } = await secretClient([]);
    await expect(client.migrateToFederated({ federatedCredentials: [] })).rejects.toThrow(TypeError);
    await expect(
      client.migrateToFederated({ federatedCredentials: [{ issuer: 'https://i', subject: '' }] }),
    ).rejects.toThrow(TypeError);
    await expect(
      client.migrateToFederated({ federatedCredentials: [{ issuer: 'https://i', subject: 's' }], tokenClient: tokens }),
    ).rejects.toThrow(/auth/);
    expect(as.puts()).toHaveLength(0);
  });
});
