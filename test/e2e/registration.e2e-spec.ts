import { generateKeyPairSync } from 'node:crypto';
import { generateKeyPair, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOAuthError } from '../support/http.js';
import { assertion, generateKey, type TestKey } from '../support/keys.js';
import {
  expectRegistrationError,
  jsonRequest,
  registrationApi,
  tokenWithAssertion,
  tokenWithBasic,
  tokenWithPost,
  type JsonResponse,
} from '../support/registration.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/** RFC 7591 §3.2.1: server-issued members, then the registered metadata. */
const ISSUED_MEMBERS = ['client_id', 'client_id_issued_at', 'client_secret_expires_at', 'registration_client_uri'];

function expectCreated(res: JsonResponse): void {
  expect(res.status, res.text).toBe(201);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('pragma')).toBe('no-cache');
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

/** ≥ 256-bit base64url values. */
const SECRET = /^[A-Za-z0-9_-]{43,}$/;

describe('POST /register (RFC 7591)', () => {
  let t: TestApp;
  let api: ReturnType<typeof registrationApi>;
  /** An initial access token without a use limit, for the many validation cases. */
  let iat: string;
  /** Every secret, token and assertion handed out, to check none lands in an audit event. */
  const credentials: string[] = [];
  const now = () => t.clock.nowSeconds();

  beforeAll(async () => {
    t = await createTestApp();
    api = registrationApi(t);
    iat = (await t.initialTokens.create()).token;
    credentials.push(iat);
  });
  afterAll(() => t.close());

  const remember = (body: any) => {
    for (const k of ['client_secret', 'registration_access_token'])
      if (typeof body?.[k] === 'string') credentials.push(body[k]);
    return body;
  };

  describe('access control (initial access token, the default mode)', () => {
    const body = { client_name: 'gate' };

    it('no token → 401 invalid_token with WWW-Authenticate: Bearer', async () => {
      expectRegistrationError(await api.register(body), 401, 'invalid_token');
    });
    it('an unknown token → 401', async () => {
      expectRegistrationError(await api.register(body, 'x'.repeat(43)), 401, 'invalid_token');
    });
    it('a wrong or used-up token → 401 even when the body is invalid too (the token is checked first)', async () => {
      expectRegistrationError(await api.register({ grant_types: ['password'] }, 'x'.repeat(43)), 401, 'invalid_token');
      const { token } = await t.initialTokens.create({ uses: 1 });
      expectCreated(await api.register(body, token));
      expectRegistrationError(await api.register({ scope: 'admin' }, token), 401, 'invalid_token');
    });
    it('a token sent with another scheme (Basic) → 401', async () => {
      const res = await jsonRequest(api.endpoint, { method: 'POST', body, headers: { authorization: `Basic ${iat}` } });
      expectRegistrationError(res, 401, 'invalid_token');
    });
    it('a registration access token is no initial access token → 401', async () => {
      const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
      expectRegistrationError(await api.register(body, c.registrationAccessToken), 401, 'invalid_token');
    });
    it('uses: 1 → the first registration succeeds, the second gets 401', async () => {
      const { token } = await t.initialTokens.create({ uses: 1 });
      expectCreated(await api.register(body, token));
      expectRegistrationError(await api.register(body, token), 401, 'invalid_token');
    });
    it('uses: 2 → two registrations, then 401', async () => {
      const { token } = await t.initialTokens.create({ uses: 2 });
      expectCreated(await api.register(body, token));
      expectCreated(await api.register(body, token));
      expectRegistrationError(await api.register(body, token), 401, 'invalid_token');
    });
    it('expiresIn → works until it expires (FixedClock), 401 after', async () => {
      const { token } = await t.initialTokens.create({ expiresIn: 60 });
      t.clock.advance(59);
      expectCreated(await api.register(body, token));
      t.clock.advance(1);
      expectRegistrationError(await api.register(body, token), 401, 'invalid_token');
    });
    it('a rejected registration (400) does not use up a one-use token', async () => {
      const { token } = await t.initialTokens.create({ uses: 1 });
      expectRegistrationError(await api.register({ scope: 'admin' }, token), 400, 'invalid_client_metadata');
      expectRegistrationError(await api.register({ grant_types: ['password'] }, token), 400, 'invalid_client_metadata');
      expectRegistrationError(
        await jsonRequest(api.endpoint, { method: 'POST', rawBody: '{', token }),
        400,
        'invalid_client_metadata',
      );
      expectCreated(await api.register(body, token));
      expectRegistrationError(await api.register(body, token), 401, 'invalid_token');
    });
    it('concurrent registrations with a one-use token → exactly one 201', async () => {
      const { token } = await t.initialTokens.create({ uses: 1 });
      const results = await Promise.all(Array.from({ length: 8 }, () => api.register(body, token)));
      expect(results.map((r) => r.status).sort((a, b) => a - b)).toEqual([201, 401, 401, 401, 401, 401, 401, 401]);
    });
    it('every denial is an audit event', async () => {
      const mark = t.audit.events.length;
      await api.register(body);
      await api.register(body, 'y'.repeat(43));
      expect(t.audit.events.slice(mark).filter((e) => e.type === 'registration.denied')).toEqual([
        { type: 'registration.denied', reason: 'no initial access token' },
        { type: 'registration.denied', reason: 'initial access token unknown, expired or used up' },
      ]);
    });
  });

  describe('201 response (RFC 7591 §3.2.1)', () => {
    it('minimal request: defaults client_secret_basic, client_credentials; secret and registration token issued', async () => {
      const res = await api.register({}, iat);
      expectCreated(res);
      const b = remember(res.json);
      expect(b).toEqual({
        client_id: expect.any(String),
        client_secret: expect.stringMatching(SECRET),
        client_id_issued_at: now(),
        client_secret_expires_at: 0,
        registration_access_token: expect.stringMatching(SECRET),
        registration_client_uri: `${t.issuer}/register/${b.client_id}`,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        scope: '',
      });
      expect(b.client_secret).not.toBe(b.registration_access_token);
      const token = await tokenWithBasic(t, b.client_id, b.client_secret);
      expect(token.status).toBe(200);
    });

    it('full metadata is registered and echoed; unknown members are ignored', async () => {
      const res = await api.register(
        {
          client_name: 'Billing batch',
          token_endpoint_auth_method: 'client_secret_post',
          grant_types: ['client_credentials'],
          scope: 'statements:read statements:write',
          contacts: ['ops@example.com', 'sec@example.com'],
          client_uri: 'https://billing.example.com/',
          software_id: '4NRB1-0XZABZI9E6-5SM3R',
          software_version: '2.1.0',
          logo_uri: 'https://billing.example.com/logo.png',
          redirect_uris: ['https://billing.example.com/cb'],
          x_custom: { nested: [1, 2, 3] },
          client_name_fr: 'Lot de facturation',
        },
        iat,
      );
      expectCreated(res);
      const b = remember(res.json);
      expect(b).toEqual({
        client_id: expect.any(String),
        client_secret: expect.stringMatching(SECRET),
        client_id_issued_at: now(),
        client_secret_expires_at: 0,
        registration_access_token: expect.stringMatching(SECRET),
        registration_client_uri: `${t.issuer}/register/${b.client_id}`,
        client_name: 'Billing batch',
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['client_credentials'],
        scope: 'statements:read statements:write',
        contacts: ['ops@example.com', 'sec@example.com'],
        client_uri: 'https://billing.example.com/',
        software_id: '4NRB1-0XZABZI9E6-5SM3R',
        software_version: '2.1.0',
      });
      const token = await tokenWithPost(t, b.client_id, b.client_secret);
      expect(token.status).toBe(200);
      expect(token.json.scope).toBe('statements:read statements:write');
    });

    it('scope is normalised (repeated tokens and spaces collapse)', async () => {
      const res = await api.register({ scope: '  statements:read  statements:read ' }, iat);
      expectCreated(res);
      expect(remember(res.json).scope).toBe('statements:read');
    });

    it('client_secret_jwt: a secret long enough for HS512; HS256 assertions work; a registered alg is enforced', async () => {
      const res = await api.register(
        {
          token_endpoint_auth_method: 'client_secret_jwt',
          token_endpoint_auth_signing_alg: 'HS512',
          scope: 'statements:read',
        },
        iat,
      );
      expectCreated(res);
      const b = remember(res.json);
      expect(b).toMatchObject({
        token_endpoint_auth_method: 'client_secret_jwt',
        token_endpoint_auth_signing_alg: 'HS512',
        client_secret_expires_at: 0,
      });
      expect(Buffer.from(b.client_secret, 'base64url').length).toBeGreaterThanOrEqual(64);
      const key = (alg: string) => ({ privateKey: new TextEncoder().encode(b.client_secret), alg });
      const ok = await assertion(b.client_id, key('HS512'), t.issuer, { now: now() });
      credentials.push(ok);
      expect((await tokenWithAssertion(t, ok)).status).toBe(200);
      const wrongAlg = await assertion(b.client_id, key('HS256'), t.issuer, { now: now() });
      expectOAuthError(await tokenWithAssertion(t, wrongAlg), 401, 'invalid_client');
    });

    it('private_key_jwt with jwks: no client_secret, client_secret_expires_at 0, jwks echoed, assertions work', async () => {
      const key = await generateKey('ES256');
      const res = await api.register(
        { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, scope: 'statements:read' },
        iat,
      );
      expectCreated(res);
      const b = remember(res.json);
      expect(b).toEqual({
        client_id: expect.any(String),
        client_id_issued_at: now(),
        client_secret_expires_at: 0,
        registration_access_token: expect.stringMatching(SECRET),
        registration_client_uri: `${t.issuer}/register/${b.client_id}`,
        token_endpoint_auth_method: 'private_key_jwt',
        grant_types: ['client_credentials'],
        scope: 'statements:read',
        jwks: { keys: [key.publicJwk] },
      });
      expect((await tokenWithAssertion(t, await assertion(b.client_id, key, t.issuer, { now: now() }))).status).toBe(
        200,
      );
    });

    it.each([
      ['RS256', 'RS256'],
      ['PS384', 'PS384'],
      ['ES384', 'ES384'],
      ['EdDSA', 'EdDSA'],
    ])('private_key_jwt with token_endpoint_auth_signing_alg %s', async (alg, gen) => {
      const key = await generateKey(gen);
      const publicJwk = { ...key.publicJwk, alg };
      const res = await api.register(
        {
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: alg,
          jwks: { keys: [publicJwk] },
        },
        iat,
      );
      expectCreated(res);
      const b = remember(res.json);
      expect(b.token_endpoint_auth_signing_alg).toBe(alg);
      const a = await assertion(b.client_id, { privateKey: key.privateKey, alg, kid: key.kid }, t.issuer, {
        now: now(),
      });
      expect((await tokenWithAssertion(t, a)).status).toBe(200);
    });

    it('a charset parameter on application/json is fine', async () => {
      const res = await jsonRequest(api.endpoint, {
        method: 'POST',
        body: {},
        token: iat,
        contentType: 'application/json; charset=utf-8',
      });
      expectCreated(res);
      remember(res.json);
    });

    it('every member the response carries is a known one (nothing internal leaks)', async () => {
      const res = await api.register({ client_name: 'x', contacts: ['a@example.com'] }, iat);
      const allowed = [
        ...ISSUED_MEMBERS,
        'client_secret',
        'registration_access_token',
        'client_name',
        'token_endpoint_auth_method',
        'grant_types',
        'scope',
        'contacts',
      ];
      expect(Object.keys(remember(res.json)).filter((k) => !allowed.includes(k))).toEqual([]);
    });
  });

  describe('invalid metadata → 400 invalid_client_metadata, nothing registered', () => {
    let es256: TestKey;
    beforeAll(async () => {
      es256 = await generateKey('ES256');
    });

    async function expectRejected(body: unknown, error = 'invalid_client_metadata') {
      const before = t.audit.ofType('client.registered').length;
      const res = await api.register(body, iat);
      expectRegistrationError(res, 400, error);
      expect(t.audit.ofType('client.registered')).toHaveLength(before);
      return res;
    }

    it.each([
      ['authorization_code', ['authorization_code']],
      ['client_credentials + refresh_token', ['client_credentials', 'refresh_token']],
      ['implicit', ['implicit']],
      ['empty list', []],
      ['a string, not a list', 'client_credentials'],
      ['a list of non-strings', [1]],
    ])('grant_types: %s', async (_n, grantTypes) => {
      await expectRejected({ grant_types: grantTypes });
    });

    it.each(['none', 'tls_client_auth', 'self_signed_tls_client_auth', 'CLIENT_SECRET_BASIC', ''])(
      'token_endpoint_auth_method %j',
      async (method) => {
        await expectRejected({ token_endpoint_auth_method: method });
      },
    );

    it.each([
      ['a scope the server does not offer', 'admin'],
      ['one known, one unknown', 'statements:read statements:delete'],
      ['a malformed scope token', 'statements:read "quoted"'],
      ['not a string', ['statements:read']],
    ])('scope: %s', async (_n, scope) => {
      const res = await expectRejected({ scope });
      if (scope === 'admin') expect(res.json.error_description).toContain('admin');
    });

    it('private_key_jwt without jwks or jwks_uri', async () => {
      await expectRejected({ token_endpoint_auth_method: 'private_key_jwt' });
    });
    it('private_key_jwt with both jwks and jwks_uri', async () => {
      const res = await expectRejected({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [es256.publicJwk] },
        jwks_uri: 'https://client.example.com/jwks',
      });
      expect(res.json.error_description).toMatch(/mutually exclusive/);
    });
    it('jwks on a secret-based client', async () => {
      await expectRejected({ token_endpoint_auth_method: 'client_secret_basic', jwks: { keys: [es256.publicJwk] } });
    });
    it('jwks_uri on a secret-based client', async () => {
      await expectRejected({ jwks_uri: 'https://client.example.com/jwks' });
    });
    it('a private key in jwks (JWK with d)', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const res = await expectRejected({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'k' }] },
      });
      expect(res.json.error_description).toMatch(/public keys only/);
    });
    it('a private RSA key in jwks (d, p, q …)', async () => {
      const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
      await expectRejected({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [await exportJWK(privateKey)] },
      });
    });
    it('a public key next to a private one', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      await expectRejected({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [es256.publicJwk, { ...(await exportJWK(privateKey)), kid: 'other' }] },
      });
    });
    it('a symmetric key (kty oct) in jwks', async () => {
      await expectRejected({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ kty: 'oct', k: Buffer.alloc(32, 1).toString('base64url'), kid: 'h' }] },
      });
    });
    it('an RSA key under 2048 bits', async () => {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
      await expectRejected({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), alg: 'RS256' }] },
      });
    });
    it('an encryption key (use enc)', async () => {
      await expectRejected({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...es256.publicJwk, use: 'enc' }] },
      });
    });
    it('duplicate kids', async () => {
      const other = await generateKey('ES256');
      await expectRejected({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [es256.publicJwk, { ...other.publicJwk, kid: es256.kid }] },
      });
    });
    it.each([
      ['not an object', 'keys'],
      ['keys not a list', { keys: 'k' }],
      ['empty keys', { keys: [] }],
      ['a key that is not an object', { keys: ['k'] }],
      ['a null key', { keys: [null] }],
      ['a malformed EC key', { keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }] }],
    ])('jwks: %s', async (_n, jwks) => {
      await expectRejected({ token_endpoint_auth_method: 'private_key_jwt', jwks });
    });
    it('jwks: more keys than allowed (16)', async () => {
      await expectRejected({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: Array.from({ length: 17 }, (_, i) => ({ ...es256.publicJwk, kid: `k${i}` })) },
      });
    });

    describe('algorithm fit', () => {
      it('private_key_jwt with an HMAC alg', async () => {
        await expectRejected({
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'HS256',
          jwks: { keys: [es256.publicJwk] },
        });
      });
      it('private_key_jwt with alg none', async () => {
        await expectRejected({
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'none',
          jwks: { keys: [es256.publicJwk] },
        });
      });
      it('client_secret_jwt with an asymmetric alg', async () => {
        await expectRejected({
          token_endpoint_auth_method: 'client_secret_jwt',
          token_endpoint_auth_signing_alg: 'RS256',
        });
      });
      it('a signing alg on client_secret_basic', async () => {
        await expectRejected({
          token_endpoint_auth_method: 'client_secret_basic',
          token_endpoint_auth_signing_alg: 'HS256',
        });
      });
      it('an EC P-256 key with a registered RS256', async () => {
        const { alg: _a, ...noAlg } = es256.publicJwk;
        await expectRejected({
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'RS256',
          jwks: { keys: [noAlg] },
        });
      });
      it('an EC P-256 key with a registered ES384', async () => {
        const { alg: _a, ...noAlg } = es256.publicJwk;
        await expectRejected({
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'ES384',
          jwks: { keys: [noAlg] },
        });
      });
      it('a key whose own alg differs from the registered alg', async () => {
        const rsa = await generateKey('RS256');
        await expectRejected({
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'PS256',
          jwks: { keys: [rsa.publicJwk] },
        });
      });
      it('a key whose alg does not fit its type (EC key, alg RS256)', async () => {
        await expectRejected({
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ ...es256.publicJwk, alg: 'RS256' }] },
        });
      });
      it('an unknown alg', async () => {
        await expectRejected({
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'ES257',
          jwks: { keys: [es256.publicJwk] },
        });
      });
    });

    it.each([
      ['http on a host that is not allow-listed', 'http://client.example.com/jwks'],
      ['not a URL', 'jwks.json'],
      ['with credentials', 'https://user:pw@client.example.com/jwks'],
      ['with a fragment', 'https://client.example.com/jwks#k'],
      ['another scheme', 'file:///etc/passwd'],
    ])('jwks_uri %s', async (_n, jwksUri) => {
      await expectRejected({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUri });
    });

    it.each([
      ['client_name not a string', { client_name: 42 }],
      ['client_name too long', { client_name: 'n'.repeat(256) }],
      ['contacts not a list', { contacts: 'ops@example.com' }],
      ['contacts with a non-string', { contacts: [null] }],
      ['client_uri with a javascript: scheme', { client_uri: 'javascript:alert(1)' }],
      ['client_uri not a URL', { client_uri: 'not a url' }],
      ['software_id not a string', { software_id: { id: 1 } }],
      ['software_version not a string', { software_version: 2 }],
    ])('%s', async (_n, body) => {
      await expectRejected(body);
    });

    it('a software_statement → 400 invalid_software_statement', async () => {
      await expectRejected({ software_statement: 'eyJhbGciOiJub25lIn0.e30.' }, 'invalid_software_statement');
    });
  });

  describe('malformed requests → 400 invalid_client_metadata, never 500', () => {
    const post = (rawBody: string | undefined, contentType: string | null = 'application/json') =>
      jsonRequest(api.endpoint, { method: 'POST', rawBody, contentType, token: iat });

    it.each([
      ['truncated JSON', '{"client_name": "x"'],
      ['not JSON at all', 'client_name=x'],
      ['a JSON array', '[{"client_name": "x"}]'],
      ['JSON null', 'null'],
      ['a JSON string', '"client_name"'],
      ['a JSON number', '42'],
      ['an empty body', ''],
      ['invalid UTF-8 / control bytes', '{"client_name": "\u0000\u0001"'],
      ['trailing garbage', '{} {}'],
    ])('%s', async (_n, raw) => {
      expectRegistrationError(await post(raw), 400, 'invalid_client_metadata');
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
      ['application/jwt', 'application/jwt'],
      ['no content type', null],
    ])('content type %s (with a valid JSON body)', async (_n, type) => {
      expectRegistrationError(await post('{"client_name":"x"}', type), 400, 'invalid_client_metadata');
    });

    it('a body over the 64 KiB limit', async () => {
      expectRegistrationError(
        await post(JSON.stringify({ client_name: 'x', pad: 'p'.repeat(70_000) })),
        400,
        'invalid_client_metadata',
      );
    });

    it.each([
      ['__proto__ member', '{"__proto__": {"token_endpoint_auth_method": "none"}, "client_name": "p"}'],
      ['constructor member', '{"constructor": {"prototype": {"x": 1}}}'],
      ['jwks keys of arrays', '{"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[[1],[2]]}}'],
      ['number for a list', '{"contacts": 1e400}'],
    ])('odd JSON: %s → 201 or 400, never 5xx', async (_n, raw) => {
      const res = await post(raw);
      expect(res.status, res.text).toBeLessThan(500);
      if (res.status === 201) {
        remember(res.json);
        expect(res.json.token_endpoint_auth_method).toBe('client_secret_basic');
      } else expectRegistrationError(res, 400, 'invalid_client_metadata');
    });

    it.each([
      ['a deeply nested unknown member', `{"x_custom":${'['.repeat(3000)}${']'.repeat(3000)}}`],
      [
        'deeply nested jwks (arrays)',
        `{"token_endpoint_auth_method":"private_key_jwt","jwks":${'['.repeat(2000)}${']'.repeat(2000)}}`,
      ],
      [
        'deeply nested jwks keys',
        `{"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[${'['.repeat(3000)}${']'.repeat(3000)}]}}`,
      ],
      ['deeply nested jwks (objects)', `{"jwks":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`],
    ])('%s → 400, not a stack overflow (500)', async (_n, raw) => {
      expectRegistrationError(await post(raw), 400, 'invalid_client_metadata');
    });

    it('GET /register, unsupported method → 404 without a stack trace', async () => {
      const res = await jsonRequest(api.endpoint, { method: 'GET', token: iat });
      expect(res.status).toBe(404);
      expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    });
  });

  describe('registration modes', () => {
    it('open: no initial access token needed', async () => {
      const open = await createTestApp({ env: { REGISTRATION_MODE: 'open' } });
      try {
        const res = await registrationApi(open).register({ client_name: 'open' });
        expectCreated(res);
        expect(res.json.client_secret).toMatch(SECRET);
        expect((await tokenWithBasic(open, res.json.client_id, res.json.client_secret)).status).toBe(200);
        // still validated
        expectRegistrationError(
          await registrationApi(open).register({ grant_types: ['implicit'] }),
          400,
          'invalid_client_metadata',
        );
      } finally {
        await open.close();
      }
    });
    it('closed: 401 even with a valid initial access token', async () => {
      const closed = await createTestApp({ env: { REGISTRATION_MODE: 'closed' } });
      try {
        const { token } = await closed.initialTokens.create();
        expectRegistrationError(
          await registrationApi(closed).register({ client_name: 'closed' }, token),
          401,
          'invalid_token',
        );
        expectRegistrationError(
          await registrationApi(closed).register({ client_name: 'closed' }),
          401,
          'invalid_token',
        );
        expect(closed.audit.ofType('client.registered')).toHaveLength(0);
      } finally {
        await closed.close();
      }
    });
  });

  describe('RFC 7592: GET, PUT, DELETE /register/:client_id', () => {
    const full = {
      client_name: 'Reporting',
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'statements:read statements:write',
      contacts: ['ops@example.com'],
      client_uri: 'https://reporting.example.com/',
      software_id: 'reporting',
      software_version: '1.0.0',
    };
    /** What GET shows of a registration or update answer: no secret, no token; the `credentials` views (ADR 0024). */
    const withoutCredentials = ({
      client_secret: _s,
      registration_access_token: _r,
      credentials: _c,
      ...rest
    }: any) => ({
      ...rest,
      credentials: [expect.objectContaining({ type: 'client_secret', status: 'current' })],
    });

    describe('GET', () => {
      it('returns the registered metadata, client_secret_expires_at, and no secret or token', async () => {
        const reg = remember(await api.registerOk(full));
        const res = await api.read(reg.registration_client_uri, reg.registration_access_token);
        expect(res.status).toBe(200);
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(res.json).toEqual(withoutCredentials(reg));
        expect(res.json.client_secret).toBeUndefined();
        expect(res.json.registration_access_token).toBeUndefined();
        expect(res.json.client_secret_expires_at).toBe(0);
      });
      it('no token, a wrong token, or a token of another scheme → 401', async () => {
        const reg = remember(await api.registerOk(full));
        expectRegistrationError(await api.read(reg.registration_client_uri), 401, 'invalid_token');
        expectRegistrationError(
          await api.read(reg.registration_client_uri, `${reg.registration_access_token}x`),
          401,
          'invalid_token',
        );
        expectRegistrationError(await api.read(reg.registration_client_uri, reg.client_secret), 401, 'invalid_token');
        expectRegistrationError(await api.read(reg.registration_client_uri, iat), 401, 'invalid_token');
        const basicScheme = await jsonRequest(reg.registration_client_uri, {
          headers: { authorization: `Basic ${reg.registration_access_token}` },
        });
        expectRegistrationError(basicScheme, 401, 'invalid_token');
      });
      it('an over-long client_id → 401, not 500', async () => {
        const reg = remember(await api.registerOk(full));
        expectRegistrationError(
          await api.read(`${api.endpoint}/${'a'.repeat(5000)}`, reg.registration_access_token),
          401,
          'invalid_token',
        );
        expectRegistrationError(
          await api.read(`${api.endpoint}/%00`, reg.registration_access_token),
          401,
          'invalid_token',
        );
        // Invalid percent-encoding is refused by the router before Clavis sees it: a 400, never a 500.
        const undecodable = await api.read(`${api.endpoint}/%ff`, reg.registration_access_token);
        expect(undecodable.status).toBe(400);
        expect(undecodable.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
      });
    });

    it('ids no client can have (NUL byte, over-long) are unknown clients everywhere: 401, never 500', async () => {
      const reg = remember(await api.registerOk(full));
      for (const id of ['a%00b', encodeURIComponent('x'.repeat(65))]) {
        expectRegistrationError(
          await api.read(`${api.endpoint}/${id}`, reg.registration_access_token),
          401,
          'invalid_token',
        );
        expectRegistrationError(
          await api.update(
            `${api.endpoint}/${id}`,
            { client_id: decodeURIComponent(id) },
            reg.registration_access_token,
          ),
          401,
          'invalid_token',
        );
        expectRegistrationError(
          await api.remove(`${api.endpoint}/${id}`, reg.registration_access_token),
          401,
          'invalid_token',
        );
      }
      expectOAuthError(await tokenWithPost(t, 'a\u0000b', 'secret'), 401, 'invalid_client');
      expectOAuthError(await tokenWithBasic(t, 'a\u0000b', 'secret'), 401, 'invalid_client');
      expectOAuthError(await tokenWithBasic(t, `${reg.client_id}\u0000`, reg.client_secret), 401, 'invalid_client');
    });

    describe("client A's token on client B → 401 revealing nothing", () => {
      let a: any;
      let b: any;
      beforeAll(async () => {
        a = remember(await api.registerOk({ ...full, client_name: 'A' }));
        b = remember(await api.registerOk({ ...full, client_name: 'B' }));
      });
      const unknownUri = () => `${api.endpoint}/no-such-client`;
      const strip = (r: JsonResponse) => ({
        status: r.status,
        json: r.json,
        www: r.headers.get('www-authenticate'),
        cache: r.headers.get('cache-control'),
      });

      it('GET: same answer as for an unknown client', async () => {
        const other = await api.read(b.registration_client_uri, a.registration_access_token);
        expectRegistrationError(other, 401, 'invalid_token');
        expect(strip(other)).toEqual(strip(await api.read(unknownUri(), a.registration_access_token)));
        expect(strip(other)).toEqual(strip(await api.read(b.registration_client_uri, 'z'.repeat(43))));
        expect(other.text).not.toContain(b.client_id);
        expect(other.text).not.toContain('B');
      });
      it('PUT: 401, B unchanged, A unchanged', async () => {
        const other = await api.update(
          b.registration_client_uri,
          { client_id: b.client_id, client_name: 'hijacked' },
          a.registration_access_token,
        );
        expectRegistrationError(other, 401, 'invalid_token');
        expect(strip(other)).toEqual(
          strip(await api.update(unknownUri(), { client_id: 'no-such-client' }, a.registration_access_token)),
        );
        expect((await api.read(b.registration_client_uri, b.registration_access_token)).json.client_name).toBe('B');
        expect((await api.read(a.registration_client_uri, a.registration_access_token)).json.client_name).toBe('A');
        expect((await tokenWithBasic(t, b.client_id, b.client_secret)).status).toBe(200);
      });
      it('DELETE: 401, B still exists', async () => {
        const other = await api.remove(b.registration_client_uri, a.registration_access_token);
        expectRegistrationError(other, 401, 'invalid_token');
        expect(strip(other)).toEqual(strip(await api.remove(unknownUri(), a.registration_access_token)));
        expect((await tokenWithBasic(t, b.client_id, b.client_secret)).status).toBe(200);
      });
      it("A with its own client_id in the body on B's URI → 401, not a 400 that would confirm B exists", async () => {
        const res = await api.update(
          b.registration_client_uri,
          { client_id: a.client_id },
          a.registration_access_token,
        );
        expectRegistrationError(res, 401, 'invalid_token');
      });
    });

    describe('PUT', () => {
      it('replaces the metadata (omitted fields reset to defaults), rotates the secret and the registration token', async () => {
        const reg = remember(await api.registerOk(full));
        t.clock.advance(5);
        const res = await api.update(
          reg.registration_client_uri,
          { client_id: reg.client_id, scope: 'statements:read' },
          reg.registration_access_token,
        );
        expect(res.status, res.text).toBe(200);
        expect(res.headers.get('cache-control')).toBe('no-store');
        const up = remember(res.json);
        expect(up).toEqual({
          client_id: reg.client_id,
          client_secret: expect.stringMatching(SECRET),
          client_id_issued_at: reg.client_id_issued_at,
          client_secret_expires_at: 0,
          registration_access_token: expect.stringMatching(SECRET),
          registration_client_uri: reg.registration_client_uri,
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['client_credentials'],
          scope: 'statements:read',
          credentials: [
            expect.objectContaining({ type: 'client_secret', status: 'current', last_used_at: null }),
            expect.objectContaining({ type: 'client_secret', status: 'previous' }),
          ],
        });
        expect(up.client_secret).not.toBe(reg.client_secret);
        expect(up.registration_access_token).not.toBe(reg.registration_access_token);
        // GET with the new token shows the replaced metadata
        const read = await api.read(reg.registration_client_uri, up.registration_access_token);
        expect(read.json).toEqual({ ...withoutCredentials(up), credentials: up.credentials });
        // the registered scope now limits tokens
        const token = await tokenWithBasic(t, reg.client_id, up.client_secret);
        expect(token.json.scope).toBe('statements:read');
        expectOAuthError(
          await tokenWithBasic(t, reg.client_id, up.client_secret, { scope: 'statements:write' }),
          400,
          'invalid_scope',
        );
      });

      it('the old registration access token fails at once (GET, PUT, DELETE); the new one works', async () => {
        const reg = remember(await api.registerOk(full));
        const up = remember(
          (
            await api.update(
              reg.registration_client_uri,
              { ...full, client_id: reg.client_id },
              reg.registration_access_token,
            )
          ).json,
        );
        const old = reg.registration_access_token;
        expectRegistrationError(await api.read(reg.registration_client_uri, old), 401, 'invalid_token');
        expectRegistrationError(
          await api.update(reg.registration_client_uri, { ...full, client_id: reg.client_id }, old),
          401,
          'invalid_token',
        );
        expectRegistrationError(await api.remove(reg.registration_client_uri, old), 401, 'invalid_token');
        expect((await api.read(reg.registration_client_uri, up.registration_access_token)).status).toBe(200);
        // and a second PUT rotates again
        const up2 = remember(
          (
            await api.update(
              reg.registration_client_uri,
              { ...full, client_id: reg.client_id },
              up.registration_access_token,
            )
          ).json,
        );
        expectRegistrationError(
          await api.read(reg.registration_client_uri, up.registration_access_token),
          401,
          'invalid_token',
        );
        expect((await api.read(reg.registration_client_uri, up2.registration_access_token)).status).toBe(200);
      });

      it('client_id in the body must match: a different one or none → 400 invalid_request, nothing changes', async () => {
        const reg = remember(await api.registerOk(full));
        expectRegistrationError(
          await api.update(
            reg.registration_client_uri,
            { ...full, client_id: 'someone-else' },
            reg.registration_access_token,
          ),
          400,
          'invalid_request',
        );
        expectRegistrationError(
          await api.update(reg.registration_client_uri, { ...full }, reg.registration_access_token),
          400,
          'invalid_request',
        );
        expectRegistrationError(
          await api.update(reg.registration_client_uri, { ...full, client_id: 42 }, reg.registration_access_token),
          400,
          'invalid_client_metadata',
        );
        const read = await api.read(reg.registration_client_uri, reg.registration_access_token);
        expect(read.json).toEqual(withoutCredentials(reg));
      });

      it.each([
        ['registration_access_token', (r: any) => r.registration_access_token],
        ['registration_client_uri', (r: any) => r.registration_client_uri],
        ['client_secret_expires_at', () => 0],
        ['client_id_issued_at', (r: any) => r.client_id_issued_at],
      ])('sending %s → 400 invalid_request; the token is not rotated, nothing changes', async (member, value) => {
        const reg = remember(await api.registerOk(full));
        const mark = t.audit.events.length;
        const res = await api.update(
          reg.registration_client_uri,
          { ...full, client_name: 'changed', client_id: reg.client_id, [member]: value(reg) },
          reg.registration_access_token,
        );
        expectRegistrationError(res, 400, 'invalid_request');
        expect(res.json.error_description).toContain(member);
        const read = await api.read(reg.registration_client_uri, reg.registration_access_token);
        expect(read.status).toBe(200);
        expect(read.json.client_name).toBe('Reporting');
        expect(t.audit.events.slice(mark).filter((e) => e.type.startsWith('client.'))).toEqual([]);
      });

      it('a client_secret in the body must be a currently valid secret', async () => {
        const reg = remember(await api.registerOk(full));
        expectRegistrationError(
          await api.update(
            reg.registration_client_uri,
            { ...full, client_id: reg.client_id, client_secret: 'not-my-secret' },
            reg.registration_access_token,
          ),
          400,
          'invalid_client_metadata',
        );
        const other = remember(await api.registerOk(full));
        expectRegistrationError(
          await api.update(
            reg.registration_client_uri,
            { ...full, client_id: reg.client_id, client_secret: other.client_secret },
            reg.registration_access_token,
          ),
          400,
          'invalid_client_metadata',
        );
        // the failed attempts rotated nothing
        expect((await api.read(reg.registration_client_uri, reg.registration_access_token)).status).toBe(200);
        const ok = await api.update(
          reg.registration_client_uri,
          { ...full, client_id: reg.client_id, client_secret: reg.client_secret },
          reg.registration_access_token,
        );
        expect(ok.status, ok.text).toBe(200);
        const up = remember(ok.json);
        // the previous secret is still valid during the overlap: sending it is fine too
        const ok2 = await api.update(
          reg.registration_client_uri,
          { ...full, client_id: reg.client_id, client_secret: reg.client_secret },
          up.registration_access_token,
        );
        expect(ok2.status, ok2.text).toBe(200);
        remember(ok2.json);
      });

      it('a client_secret in the body of a private_key_jwt client is refused', async () => {
        const key = await generateKey('ES256');
        const reg = remember(
          await api.registerOk({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } }),
        );
        const res = await api.update(
          reg.registration_client_uri,
          {
            client_id: reg.client_id,
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: { keys: [key.publicJwk] },
            client_secret: 'anything',
          },
          reg.registration_access_token,
        );
        expectRegistrationError(res, 400, 'invalid_client_metadata');
      });

      it('invalid metadata → 400 invalid_client_metadata; token, secret and metadata unchanged', async () => {
        const reg = remember(await api.registerOk(full));
        for (const bad of [
          { scope: 'admin' },
          { grant_types: ['authorization_code'] },
          { token_endpoint_auth_method: 'private_key_jwt' },
          { jwks_uri: 'https://x.example/jwks' },
        ]) {
          expectRegistrationError(
            await api.update(
              reg.registration_client_uri,
              { ...full, client_id: reg.client_id, ...bad },
              reg.registration_access_token,
            ),
            400,
            'invalid_client_metadata',
          );
        }
        expect((await api.read(reg.registration_client_uri, reg.registration_access_token)).json).toEqual(
          withoutCredentials(reg),
        );
        expect((await tokenWithBasic(t, reg.client_id, reg.client_secret)).status).toBe(200);
      });

      it('malformed bodies → 400 invalid_client_metadata, never 500', async () => {
        const reg = remember(await api.registerOk(full));
        const put = (rawBody: string, contentType: string | null = 'application/json') =>
          jsonRequest(reg.registration_client_uri, {
            method: 'PUT',
            rawBody,
            contentType,
            token: reg.registration_access_token,
          });
        for (const raw of ['{', '[]', 'null', '"x"', ''])
          expectRegistrationError(await put(raw), 400, 'invalid_client_metadata');
        expectRegistrationError(
          await put(JSON.stringify({ client_id: reg.client_id }), 'text/plain'),
          400,
          'invalid_client_metadata',
        );
        expectRegistrationError(
          await put(JSON.stringify({ client_id: reg.client_id }), null),
          400,
          'invalid_client_metadata',
        );
        expect((await api.read(reg.registration_client_uri, reg.registration_access_token)).status).toBe(200);
      });

      it('switching client_secret_basic → private_key_jwt drops the secrets at once', async () => {
        const reg = remember(await api.registerOk(full));
        const key = await generateKey('ES256');
        const res = await api.update(
          reg.registration_client_uri,
          {
            client_id: reg.client_id,
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: { keys: [key.publicJwk] },
            scope: 'statements:read',
          },
          reg.registration_access_token,
        );
        expect(res.status, res.text).toBe(200);
        const up = remember(res.json);
        expect(up.client_secret).toBeUndefined();
        expect(up.client_secret_expires_at).toBe(0);
        expect(up.jwks).toEqual({ keys: [key.publicJwk] });
        expectOAuthError(await tokenWithBasic(t, reg.client_id, reg.client_secret), 401, 'invalid_client');
        expect(
          (await tokenWithAssertion(t, await assertion(reg.client_id, key, t.issuer, { now: now() }))).status,
        ).toBe(200);
      });

      it('switching private_key_jwt → client_secret_post issues a secret; the key stops working', async () => {
        const key = await generateKey('ES256');
        const reg = remember(
          await api.registerOk({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } }),
        );
        const res = await api.update(
          reg.registration_client_uri,
          { client_id: reg.client_id, token_endpoint_auth_method: 'client_secret_post' },
          reg.registration_access_token,
        );
        expect(res.status, res.text).toBe(200);
        const up = remember(res.json);
        expect(up.client_secret).toMatch(SECRET);
        expect(up.jwks).toBeUndefined();
        expect((await tokenWithPost(t, reg.client_id, up.client_secret)).status).toBe(200);
        expectOAuthError(
          await tokenWithAssertion(t, await assertion(reg.client_id, key, t.issuer, { now: now() })),
          401,
          'invalid_client',
        );
      });

      it('switching client_secret_basic → client_secret_jwt issues a fresh HMAC secret; the old one stops at once', async () => {
        const reg = remember(await api.registerOk(full));
        const res = await api.update(
          reg.registration_client_uri,
          { client_id: reg.client_id, token_endpoint_auth_method: 'client_secret_jwt' },
          reg.registration_access_token,
        );
        const up = remember(res.json);
        expect(up.client_secret).toMatch(SECRET);
        expectOAuthError(await tokenWithBasic(t, reg.client_id, reg.client_secret), 401, 'invalid_client');
        const a = await assertion(
          reg.client_id,
          { privateKey: new TextEncoder().encode(up.client_secret), alg: 'HS256' },
          t.issuer,
          { now: now() },
        );
        expect((await tokenWithAssertion(t, a)).status).toBe(200);
        const withOld = await assertion(
          reg.client_id,
          { privateKey: new TextEncoder().encode(reg.client_secret), alg: 'HS256' },
          t.issuer,
          { now: now() },
        );
        expectOAuthError(await tokenWithAssertion(t, withOld), 401, 'invalid_client');
      });

      it('concurrent PUTs with the same token → exactly one succeeds', async () => {
        const reg = remember(await api.registerOk(full));
        const results = await Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            api.update(
              reg.registration_client_uri,
              { ...full, client_id: reg.client_id, client_name: `n${i}` },
              reg.registration_access_token,
            ),
          ),
        );
        for (const r of results) remember(r.json);
        const ok = results.filter((r) => r.status === 200);
        expect(ok).toHaveLength(1);
        for (const r of results.filter((x) => x.status !== 200)) expect([400, 401]).toContain(r.status);
        const read = await api.read(reg.registration_client_uri, ok[0].json.registration_access_token);
        expect(read.json.client_name).toBe(ok[0].json.client_name);
      });
    });

    describe('DELETE', () => {
      it('→ 204 with no body; then the client cannot get tokens and its registration token is dead', async () => {
        const reg = remember(await api.registerOk(full));
        const res = await api.remove(reg.registration_client_uri, reg.registration_access_token);
        expect(res.status).toBe(204);
        expect(res.text).toBe('');
        expect(res.headers.get('cache-control')).toBe('no-store');
        expectOAuthError(await tokenWithBasic(t, reg.client_id, reg.client_secret), 401, 'invalid_client');
        expectRegistrationError(
          await api.read(reg.registration_client_uri, reg.registration_access_token),
          401,
          'invalid_token',
        );
        expectRegistrationError(
          await api.update(reg.registration_client_uri, { client_id: reg.client_id }, reg.registration_access_token),
          401,
          'invalid_token',
        );
        expectRegistrationError(
          await api.remove(reg.registration_client_uri, reg.registration_access_token),
          401,
          'invalid_token',
        );
        expect(await t.clients.find(reg.client_id)).toBeNull();
      });
      it('a private_key_jwt client: its assertions fail after deletion', async () => {
        const key = await generateKey('ES256');
        const reg = remember(
          await api.registerOk({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } }),
        );
        expect(
          (await tokenWithAssertion(t, await assertion(reg.client_id, key, t.issuer, { now: now() }))).status,
        ).toBe(200);
        expect((await api.remove(reg.registration_client_uri, reg.registration_access_token)).status).toBe(204);
        expectOAuthError(
          await tokenWithAssertion(t, await assertion(reg.client_id, key, t.issuer, { now: now() })),
          401,
          'invalid_client',
        );
      });
      it('a wrong token → 401 and the client lives on', async () => {
        const reg = remember(await api.registerOk(full));
        expectRegistrationError(await api.remove(reg.registration_client_uri), 401, 'invalid_token');
        expectRegistrationError(await api.remove(reg.registration_client_uri, 'w'.repeat(43)), 401, 'invalid_token');
        expect((await tokenWithBasic(t, reg.client_id, reg.client_secret)).status).toBe(200);
      });
    });

    it('lifecycle audit: registered, updated, secret rotated, registration token rotated, authentication failed, deleted', async () => {
      const mark = t.audit.events.length;
      const reg = remember(await api.registerOk(full));
      const up = remember(
        (
          await api.update(
            reg.registration_client_uri,
            { ...full, client_id: reg.client_id },
            reg.registration_access_token,
          )
        ).json,
      );
      await tokenWithBasic(t, reg.client_id, 'wrong-secret');
      expect((await api.remove(reg.registration_client_uri, up.registration_access_token)).status).toBe(204);
      await tokenWithBasic(t, reg.client_id, up.client_secret);
      const events = t.audit.events.slice(mark).filter((e) => e.type.startsWith('client.'));
      expect(events).toEqual([
        { type: 'client.registered', clientId: reg.client_id, method: 'client_secret_basic', via: 'http' },
        { type: 'client.updated', clientId: reg.client_id },
        { type: 'client.secret_rotated', clientId: reg.client_id, previousSecretValidUntil: now() + 86_400 },
        { type: 'client.registration_token_rotated', clientId: reg.client_id },
        {
          type: 'client.authentication_failed',
          clientId: reg.client_id,
          method: 'client_secret_basic',
          reason: 'secret_mismatch',
          detail: expect.any(String),
        },
        { type: 'client.deleted', clientId: reg.client_id },
        {
          type: 'client.authentication_failed',
          clientId: reg.client_id,
          method: 'client_secret_basic',
          reason: 'client_unknown',
          detail: expect.any(String),
        },
      ]);
    });
  });

  describe('audit', () => {
    it('client.registered names the client, the method and the channel', async () => {
      const mark = t.audit.events.length;
      const b = remember(await api.registerOk({ token_endpoint_auth_method: 'client_secret_post' }));
      expect(t.audit.events.slice(mark).filter((e) => e.type === 'client.registered')).toEqual([
        { type: 'client.registered', clientId: b.client_id, method: 'client_secret_post', via: 'http' },
      ]);
    });
    it('no secret, token or assertion appears in any recorded event', () => {
      const recorded = JSON.stringify(t.audit.events);
      expect(credentials.length).toBeGreaterThan(10);
      for (const c of credentials) expect(recorded).not.toContain(c);
    });
  });
});
