import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, useCliEnvironment } from '../support/cli.js';
import { expectOAuthError } from '../support/http.js';
import { assertion, generateKey, type TestKey } from '../support/keys.js';
import {
  expectRegistrationError,
  registrationApi,
  tokenWithAssertion,
  tokenWithBasic,
  tokenWithPost,
} from '../support/registration.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const SECRET = /^[A-Za-z0-9_-]{43,}$/;

/**
 * The operator CLI in-process against a temp SQLite file (PostgreSQL when DATABASE_URL is set);
 * a test app on the same database checks over HTTP that what the CLI did takes effect.
 */
describe('operator CLI (runCli)', () => {
  let env: ReturnType<typeof useCliEnvironment>;
  let t: TestApp;
  let key: TestKey;
  let jwksFile: string;

  beforeAll(async () => {
    env = useCliEnvironment();
    t = await createTestApp({ env: { SQLITE_PATH: env.sqlitePath, DATA_DIR: env.dir } });
    key = await generateKey('ES256');
    jwksFile = join(env.dir, 'client-jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));
  });
  afterAll(async () => {
    await t?.close();
    env.restore();
  });

  describe('usage (exit code 2) and help (0)', () => {
    it('no command → help on stdout, exit 2', async () => {
      const r = await cli();
      expect(r.code).toBe(2);
      expect(r.stdout).toContain('clients create --method');
    });
    it('help and --help → exit 0', async () => {
      expect((await cli('help')).code).toBe(0);
      const r = await cli('--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('initial-tokens create');
    });
    it('an unknown command → exit 2 with a message on stderr', async () => {
      const r = await cli('clients', 'frobnicate');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unknown command: clients frobnicate');
      expect(r.json).toBeUndefined();
    });
    it('an unknown option → exit 2', async () => {
      const r = await cli('clients', 'list', '--bogus');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/bogus/);
    });
    it('an option without its value → exit 2', async () => {
      const r = await cli('clients', 'create', '--method');
      expect(r.code).toBe(2);
    });
  });

  describe('clients create (exit 0) — each method', () => {
    it('client_secret_basic: prints the secret and registration token once; the secret works', async () => {
      const r = await cli(
        'clients',
        'create',
        '--method',
        'client_secret_basic',
        '--name',
        'Nightly export',
        '--scope',
        'statements:read statements:write',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toEqual({
        client_id: expect.stringMatching(/^[0-9a-f]{32}$/),
        client_name: 'Nightly export',
        token_endpoint_auth_method: 'client_secret_basic',
        token_endpoint_auth_signing_alg: null,
        scope: 'statements:read statements:write',
        resources: [],
        jwks_uri: null,
        jwks: null,
        client_id_issued_at: expect.any(Number),
        max_scope: 'statements:read statements:write',
        max_resources: [],
        allowed_methods: null,
        client_secret: expect.stringMatching(SECRET),
        client_secret_expires_at: 0,
        registration_access_token: expect.stringMatching(SECRET),
      });
      const token = await tokenWithBasic(t, r.json.client_id, r.json.client_secret);
      expect(token.status, token.text).toBe(200);
      expect(token.json.scope).toBe('statements:read statements:write');
      // the registration token printed by the CLI manages the client over HTTP
      const read = await registrationApi(t).read(
        `${t.issuer}/register/${r.json.client_id}`,
        r.json.registration_access_token,
      );
      expect(read.status).toBe(200);
      expect(read.json.client_name).toBe('Nightly export');
    });

    it('client_secret_post', async () => {
      const r = await cli('clients', 'create', '--method', 'client_secret_post', '--scope', 'statements:read');
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toMatchObject({
        token_endpoint_auth_method: 'client_secret_post',
        client_secret: expect.stringMatching(SECRET),
      });
      expect((await tokenWithPost(t, r.json.client_id, r.json.client_secret)).status).toBe(200);
    });

    it('client_secret_jwt with --alg HS512', async () => {
      const r = await cli(
        'clients',
        'create',
        '--method',
        'client_secret_jwt',
        '--alg',
        'HS512',
        '--scope',
        'statements:read',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toMatchObject({
        token_endpoint_auth_method: 'client_secret_jwt',
        token_endpoint_auth_signing_alg: 'HS512',
      });
      const a = await assertion(
        r.json.client_id,
        { privateKey: new TextEncoder().encode(r.json.client_secret), alg: 'HS512' },
        t.issuer,
        { now: t.clock.nowSeconds() },
      );
      expect((await tokenWithAssertion(t, a)).status).toBe(200);
    });

    it('private_key_jwt with --jwks-file: no secret printed; assertions work', async () => {
      const r = await cli(
        'clients',
        'create',
        '--method',
        'private_key_jwt',
        '--jwks-file',
        jwksFile,
        '--scope',
        'statements:read',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.client_secret).toBeUndefined();
      expect(r.json).toMatchObject({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [key.publicJwk] },
        client_secret_expires_at: 0,
      });
      const a = await assertion(r.json.client_id, key, t.issuer, { now: t.clock.nowSeconds() });
      expect((await tokenWithAssertion(t, a)).status).toBe(200);
    });

    it('private_key_jwt with --jwks-uri', async () => {
      const r = await cli(
        'clients',
        'create',
        '--method',
        'private_key_jwt',
        '--jwks-uri',
        'https://client.example.com/jwks.json',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toMatchObject({ jwks_uri: 'https://client.example.com/jwks.json', jwks: null });
    });

    it('--resource may repeat', async () => {
      const r = await cli(
        'clients',
        'create',
        '--method',
        'client_secret_basic',
        '--resource',
        'https://a.example/',
        '--resource',
        'https://b.example/',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.resources).toEqual(['https://a.example/', 'https://b.example/']);
    });
  });

  describe('clients create — errors (exit 2 for a wrong invocation, 1 for a refused request)', () => {
    it('no --method → exit 2', async () => {
      const r = await cli('clients', 'create');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: missing --method/);
    });
    it.each([
      ['an unsupported method', ['clients', 'create', '--method', 'none'], /token_endpoint_auth_method/],
      ['private_key_jwt without keys', ['clients', 'create', '--method', 'private_key_jwt'], /jwks/],
      [
        'a scope the server does not offer',
        ['clients', 'create', '--method', 'client_secret_basic', '--scope', 'admin'],
        /admin/,
      ],
      [
        'an http jwks_uri',
        ['clients', 'create', '--method', 'private_key_jwt', '--jwks-uri', 'http://client.example.com/jwks'],
        /https/,
      ],
      [
        'a jwks file that does not exist',
        ['clients', 'create', '--method', 'private_key_jwt', '--jwks-file', '/nonexistent/jwks.json'],
        /ENOENT|no such file/,
      ],
    ])('%s', async (_n, argv, message) => {
      const r = await cli(...(argv as string[]));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr).toMatch(message);
      expect(r.json).toBeUndefined();
    });

    it('a jwks file holding a private key', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const file = join(env.dir, 'private.json');
      writeFileSync(file, JSON.stringify({ keys: [await exportJWK(privateKey)] }));
      const r = await cli('clients', 'create', '--method', 'private_key_jwt', '--jwks-file', file);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/public keys only/);
      expect(r.stdout).not.toContain('"d"');
    });

    it('a jwks file that is not JSON', async () => {
      const file = join(env.dir, 'broken.json');
      writeFileSync(file, '{ not json');
      const r = await cli('clients', 'create', '--method', 'private_key_jwt', '--jwks-file', file);
      expect(r.code).toBe(1);
    });
  });

  describe('list, show', () => {
    let created: any;
    beforeAll(async () => {
      created = (await cli('clients', 'create', '--method', 'client_secret_basic', '--name', 'listed')).json;
    });

    it('clients list → the clients, no secrets or hashes', async () => {
      const r = await cli('clients', 'list');
      expect(r.code, r.stderr).toBe(0);
      expect(Array.isArray(r.json)).toBe(true);
      const mine = r.json.find((c: any) => c.client_id === created.client_id);
      expect(mine).toEqual({
        client_id: created.client_id,
        client_name: 'listed',
        token_endpoint_auth_method: 'client_secret_basic',
        token_endpoint_auth_signing_alg: null,
        scope: '',
        resources: [],
        jwks_uri: null,
        jwks: null,
        client_id_issued_at: created.client_id_issued_at,
        max_scope: '',
        max_resources: [],
        allowed_methods: null,
      });
      expect(r.stdout).not.toContain(created.client_secret);
      expect(r.stdout).not.toContain(created.registration_access_token);
      expect(r.stdout).not.toMatch(/"client_secret"|"registration_access_token"|[Hh]ash"|Encrypted"/);
    });

    it('clients show <id> → the client and client_secret_expires_at, no secret', async () => {
      const r = await cli('clients', 'show', created.client_id);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toEqual({
        client_id: created.client_id,
        client_name: 'listed',
        token_endpoint_auth_method: 'client_secret_basic',
        token_endpoint_auth_signing_alg: null,
        scope: '',
        resources: [],
        jwks_uri: null,
        jwks: null,
        client_id_issued_at: created.client_id_issued_at,
        max_scope: '',
        max_resources: [],
        allowed_methods: null,
        client_secret_expires_at: 0,
        credentials: [
          {
            type: 'client_secret',
            id: expect.stringMatching(/^[0-9a-f]{32}$/),
            status: 'current',
            created_at: created.client_id_issued_at,
            expires_at: null,
            last_used_at: null,
            use_count: 0,
            last_address: null,
          },
        ],
      });
      expect(r.stdout).not.toContain(created.client_secret);
    });

    it('clients show of an unknown client → exit 1', async () => {
      const r = await cli('clients', 'show', 'no-such-client');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no client no-such-client');
    });

    it('an id that begins with "-" is read as the id, not as an option (earlier builds issued such ids)', async () => {
      for (const args of [
        ['clients', 'show', '-R3xq'],
        ['clients', 'delete', '--Zq8'],
        ['clients', 'rotate-secret', '-Rq', '--overlap', '5'],
        ['clients', 'retire-previous-secret', '-x_'],
        ['clients', 'rotate-registration-token', '-R'],
      ]) {
        const r = await cli(...args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toContain(`no client ${args[2]}`);
      }
      const revoke = await cli('initial-tokens', 'revoke', '-abc');
      expect(revoke.stderr).not.toMatch(/Unknown option/);
      // A real option in the id's place is still a usage error.
      expect((await cli('clients', 'show', '--overlap')).code).toBe(2);
    });

    it('clients show without an id → exit 2', async () => {
      const r = await cli('clients', 'show');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('missing <client_id>');
    });
  });

  describe('rotate-secret, retire-previous-secret', () => {
    it('rotate-secret: prints a new secret; old and new both work; retire-previous-secret stops the old one', async () => {
      const c = (await cli('clients', 'create', '--method', 'client_secret_basic')).json;
      const r = await cli('clients', 'rotate-secret', c.client_id);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toEqual({
        client_id: c.client_id,
        client_secret: expect.stringMatching(SECRET),
        client_secret_expires_at: 0,
      });
      expect(r.json.client_secret).not.toBe(c.client_secret);
      expect((await tokenWithBasic(t, c.client_id, c.client_secret)).status).toBe(200);
      expect((await tokenWithBasic(t, c.client_id, r.json.client_secret)).status).toBe(200);

      const retire = await cli('clients', 'retire-previous-secret', c.client_id);
      expect(retire.code, retire.stderr).toBe(0);
      expect(retire.json).toEqual({ client_id: c.client_id, retired: true });
      expectOAuthError(await tokenWithBasic(t, c.client_id, c.client_secret), 401, 'invalid_client');
      expect((await tokenWithBasic(t, c.client_id, r.json.client_secret)).status).toBe(200);

      const again = await cli('clients', 'retire-previous-secret', c.client_id);
      expect(again.code).toBe(0);
      expect(again.json).toEqual({ client_id: c.client_id, retired: false });
    });

    it('rotate-secret --overlap 0: the old secret stops at once', async () => {
      const c = (await cli('clients', 'create', '--method', 'client_secret_post')).json;
      const r = await cli('clients', 'rotate-secret', c.client_id, '--overlap', '0');
      expect(r.code, r.stderr).toBe(0);
      expectOAuthError(await tokenWithPost(t, c.client_id, c.client_secret), 401, 'invalid_client');
      expect((await tokenWithPost(t, c.client_id, r.json.client_secret)).status).toBe(200);
    });

    it('rotate-secret of a client_secret_jwt client: both HMAC keys verify', async () => {
      const c = (await cli('clients', 'create', '--method', 'client_secret_jwt')).json;
      const r = await cli('clients', 'rotate-secret', c.client_id);
      const signed = (secret: string) =>
        assertion(c.client_id, { privateKey: new TextEncoder().encode(secret), alg: 'HS256' }, t.issuer, {
          now: t.clock.nowSeconds(),
        });
      expect((await tokenWithAssertion(t, await signed(c.client_secret))).status).toBe(200);
      expect((await tokenWithAssertion(t, await signed(r.json.client_secret))).status).toBe(200);
    });

    it.each([
      [
        'of a private_key_jwt client',
        async () => [
          'clients',
          'rotate-secret',
          (await cli('clients', 'create', '--method', 'private_key_jwt', '--jwks-file', jwksFile)).json.client_id,
        ],
      ],
      ['of an unknown client', async () => ['clients', 'rotate-secret', 'no-such-client']],
    ])('rotate-secret %s → exit 1', async (_n, argv) => {
      const r = await cli(...(await argv()));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: /);
    });

    it.each([
      ['without an id', async () => ['clients', 'rotate-secret']],
      [
        'with a non-numeric --overlap',
        async () => [
          'clients',
          'rotate-secret',
          (await cli('clients', 'create', '--method', 'client_secret_basic')).json.client_id,
          '--overlap',
          'soon',
        ],
      ],
      [
        'with a negative --overlap',
        async () => [
          'clients',
          'rotate-secret',
          (await cli('clients', 'create', '--method', 'client_secret_basic')).json.client_id,
          '--overlap=-5',
        ],
      ],
    ])('rotate-secret %s → exit 2 (usage)', async (_n, argv) => {
      const r = await cli(...(await argv()));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
      expect(r.json).toBeUndefined();
    });

    it('retire-previous-secret of an unknown client → exit 1', async () => {
      expect((await cli('clients', 'retire-previous-secret', 'no-such-client')).code).toBe(1);
    });
  });

  describe('rotate-registration-token', () => {
    it('prints a new registration token; the old one stops working', async () => {
      const c = (await cli('clients', 'create', '--method', 'client_secret_basic')).json;
      const r = await cli('clients', 'rotate-registration-token', c.client_id);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toEqual({ client_id: c.client_id, registration_access_token: expect.stringMatching(SECRET) });
      const uri = `${t.issuer}/register/${c.client_id}`;
      expectRegistrationError(await registrationApi(t).read(uri, c.registration_access_token), 401, 'invalid_token');
      expect((await registrationApi(t).read(uri, r.json.registration_access_token)).status).toBe(200);
    });
  });

  describe('delete', () => {
    it('deletes: the client can no longer authenticate; show and a second delete → exit 1', async () => {
      const c = (await cli('clients', 'create', '--method', 'client_secret_basic')).json;
      // The server has just authenticated (and, on SQLite, cached) the client: a delete by another
      // process must still take effect on its next request.
      expect((await tokenWithBasic(t, c.client_id, c.client_secret)).status).toBe(200);
      const r = await cli('clients', 'delete', c.client_id);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toEqual({ deleted: c.client_id });
      expectOAuthError(await tokenWithBasic(t, c.client_id, c.client_secret), 401, 'invalid_client');
      expectRegistrationError(
        await registrationApi(t).read(`${t.issuer}/register/${c.client_id}`, c.registration_access_token),
        401,
        'invalid_token',
      );
      expect((await cli('clients', 'show', c.client_id)).code).toBe(1);
      const again = await cli('clients', 'delete', c.client_id);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`no client ${c.client_id}`);
      expect((await cli('clients', 'list')).json.map((x: any) => x.client_id)).not.toContain(c.client_id);
    });
    it('delete without an id → exit 2', async () => {
      expect((await cli('clients', 'delete')).code).toBe(2);
    });
  });

  describe('initial-tokens', () => {
    it('create --uses 1 --expires-in --description: the token registers one client over HTTP', async () => {
      const before = Date.now();
      const r = await cli(
        'initial-tokens',
        'create',
        '--uses',
        '1',
        '--expires-in',
        '3600',
        '--description',
        'for the billing team',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toEqual({
        id: expect.any(String),
        initial_access_token: expect.stringMatching(SECRET),
        expires_at: expect.any(Number),
        uses: 1,
      });
      expect(r.json.expires_at).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 3600);
      expect(r.json.expires_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
      const api = registrationApi(t);
      const first = await api.register({ client_name: 'via CLI token' }, r.json.initial_access_token);
      expect(first.status, first.text).toBe(201);
      expectRegistrationError(
        await api.register({ client_name: 'again' }, r.json.initial_access_token),
        401,
        'invalid_token',
      );

      const list = await cli('initial-tokens', 'list');
      expect(list.code).toBe(0);
      const mine = list.json.find((x: any) => x.id === r.json.id);
      expect(mine).toMatchObject({ id: r.json.id, description: 'for the billing team', usesRemaining: 0 });
      expect(list.stdout).not.toContain(r.json.initial_access_token);
      expect(list.stdout).not.toMatch(/tokenHash/);
    });

    it('create without options: unlimited, no expiry', async () => {
      const r = await cli('initial-tokens', 'create');
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toMatchObject({ expires_at: null, uses: null });
      for (let i = 0; i < 3; i++)
        expect((await registrationApi(t).register({}, r.json.initial_access_token)).status).toBe(201);
    });

    it('revoke: the token stops working', async () => {
      const r = await cli('initial-tokens', 'create');
      const revoke = await cli('initial-tokens', 'revoke', r.json.id);
      expect(revoke.code, revoke.stderr).toBe(0);
      expect(revoke.json).toEqual({ id: r.json.id, revoked: true });
      expectRegistrationError(await registrationApi(t).register({}, r.json.initial_access_token), 401, 'invalid_token');
    });

    it.each([
      ['--uses abc', ['initial-tokens', 'create', '--uses', 'abc']],
      ['--expires-in 1.5', ['initial-tokens', 'create', '--expires-in', '1.5']],
      ['--uses -1', ['initial-tokens', 'create', '--uses=-1']],
    ])('create %s → exit 2 (usage)', async (_n, argv) => {
      const r = await cli(...argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/not a whole number/);
    });
  });

  it('the CLI writes secrets only to stdout, never to stderr', async () => {
    const r = await cli('clients', 'create', '--method', 'client_secret_basic');
    expect(r.stderr).not.toContain(r.json.client_secret);
    expect(r.stderr).toBe('');
  });
});
