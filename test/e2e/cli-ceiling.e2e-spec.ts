import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, useCliEnvironment } from '../support/cli.js';
import { expectOAuthError } from '../support/http.js';
import { expectRegistrationError, registrationApi, tokenWithBasic } from '../support/registration.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const A = 'https://a.example/';
const B = 'https://b.example/';

/**
 * The operator sets the admission ceiling from the CLI (ADR 0010): `--max-*` on `clients create`,
 * `clients set-ceiling`, and the policy of `initial-tokens create`; a test app on the same
 * database checks over HTTP that the client can narrow but not widen beyond it.
 */
describe('operator CLI: admission ceiling', () => {
  let env: ReturnType<typeof useCliEnvironment>;
  let t: TestApp;
  let api: ReturnType<typeof registrationApi>;

  beforeAll(async () => {
    env = useCliEnvironment();
    t = await createTestApp({ env: { SQLITE_PATH: env.sqlitePath, DATA_DIR: env.dir } });
    api = registrationApi(t);
  });
  afterAll(async () => {
    await t?.close();
    env.restore();
  });

  const uri = (id: string) => `${t.issuer}/register/${id}`;

  it('clients create without --max-*: the ceiling is what it is created with; a PUT widening → 400', async () => {
    const r = await cli('clients', 'create', '--method', 'client_secret_basic', '--scope', 'statements:read');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({
      scope: 'statements:read',
      max_scope: 'statements:read',
      max_resources: [],
      allowed_methods: null,
    });
    const res = await api.update(
      uri(r.json.client_id),
      { client_id: r.json.client_id, scope: 'statements:read statements:write' },
      r.json.registration_access_token,
    );
    expectRegistrationError(res, 400, 'invalid_client_metadata');
    expect(res.json.error_description).toContain('statements:write');
  });

  it('clients create --max-scope --max-resource --allowed-method: the client may widen up to it, not beyond', async () => {
    const r = await cli(
      'clients',
      'create',
      '--method',
      'client_secret_basic',
      '--scope',
      'statements:read',
      '--max-scope',
      'statements:read statements:write',
      '--max-resource',
      A,
      '--allowed-method',
      'client_secret_basic',
      '--allowed-method',
      'private_key_jwt',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({
      max_scope: 'statements:read statements:write',
      max_resources: [A],
      allowed_methods: ['client_secret_basic', 'private_key_jwt'],
    });
    const up = await api.update(
      uri(r.json.client_id),
      { client_id: r.json.client_id, scope: 'statements:read statements:write', resources: [A] },
      r.json.registration_access_token,
    );
    expect(up.status, up.text).toBe(200);
    const post = await api.update(
      uri(r.json.client_id),
      { client_id: r.json.client_id, token_endpoint_auth_method: 'client_secret_post' },
      up.json.registration_access_token,
    );
    expectRegistrationError(post, 400, 'invalid_client_metadata');
    expect(post.json.error_description).toContain('client_secret_post');
  });

  it('clients create with --max-scope narrower than --scope → exit 1 naming the scope', async () => {
    const r = await cli(
      'clients',
      'create',
      '--method',
      'client_secret_basic',
      '--scope',
      'statements:read statements:write',
      '--max-scope',
      'statements:read',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('statements:write');
  });

  it('clients set-ceiling widens (the client may then widen itself) and narrows (what lies outside is dropped)', async () => {
    const c = (await cli('clients', 'create', '--method', 'client_secret_basic', '--scope', 'statements:read')).json;
    const widened = await cli(
      'clients',
      'set-ceiling',
      c.client_id,
      '--scope',
      'statements:read statements:write',
      '--resource',
      A,
      '--resource',
      B,
    );
    expect(widened.code, widened.stderr).toBe(0);
    expect(widened.json).toMatchObject({
      scope: 'statements:read',
      max_scope: 'statements:read statements:write',
      max_resources: [A, B],
    });
    const up = await api.update(
      uri(c.client_id),
      { client_id: c.client_id, scope: 'statements:read statements:write', resources: [A, B] },
      c.registration_access_token,
    );
    expect(up.status, up.text).toBe(200);

    const narrowed = await cli('clients', 'set-ceiling', c.client_id, '--scope', 'statements:read', '--resource', A);
    expect(narrowed.code, narrowed.stderr).toBe(0);
    expect(narrowed.json).toMatchObject({
      scope: 'statements:read',
      resources: [A],
      max_scope: 'statements:read',
      max_resources: [A],
    });
    expectOAuthError(
      await tokenWithBasic(t, c.client_id, up.json.client_secret, { scope: 'statements:write' }),
      400,
      'invalid_scope',
    );
    expectOAuthError(
      await tokenWithBasic(t, c.client_id, up.json.client_secret, { resource: B }),
      400,
      'invalid_target',
    );
  });

  it('clients set-ceiling: usage errors → exit 2; an unknown client or a method in use excluded → exit 1', async () => {
    const c = (await cli('clients', 'create', '--method', 'client_secret_basic')).json;
    expect((await cli('clients', 'set-ceiling', c.client_id)).code).toBe(2);
    expect((await cli('clients', 'set-ceiling', c.client_id, '--method', 'private_key_jwt', '--any-method')).code).toBe(
      2,
    );
    expect((await cli('clients', 'set-ceiling', 'no-such-client', '--scope', '')).code).toBe(1);
    const excluded = await cli('clients', 'set-ceiling', c.client_id, '--method', 'private_key_jwt');
    expect(excluded.code).toBe(1);
    expect(excluded.stderr).toContain('client_secret_basic');
    const any = await cli('clients', 'set-ceiling', c.client_id, '--any-method');
    expect(any.code, any.stderr).toBe(0);
    expect(any.json.allowed_methods).toBeNull();
  });

  it('initial-tokens create --scope --resource --method: a policy that bounds registration and later PUTs', async () => {
    const r = await cli(
      'initial-tokens',
      'create',
      '--uses',
      '2',
      '--scope',
      'statements:read',
      '--resource',
      A,
      '--method',
      'client_secret_basic',
      '--method',
      'private_key_jwt',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toEqual({
      id: expect.any(String),
      initial_access_token: expect.any(String),
      expires_at: null,
      uses: 2,
      allowed_scope: 'statements:read',
      allowed_resources: [A],
      allowed_methods: ['client_secret_basic', 'private_key_jwt'],
    });
    const token = r.json.initial_access_token;
    const outside = await api.register({ scope: 'statements:read statements:write' }, token);
    expectRegistrationError(outside, 400, 'invalid_client_metadata');
    expect(outside.json.error_description).toContain('statements:write');
    expectRegistrationError(
      await api.register({ token_endpoint_auth_method: 'client_secret_post' }, token),
      400,
      'invalid_client_metadata',
    );
    const reg = await api.register({ scope: 'statements:read' }, token);
    expect(reg.status, reg.text).toBe(201);
    const widen = await api.update(
      reg.json.registration_client_uri,
      { client_id: reg.json.client_id, scope: 'statements:read', resources: [A, B] },
      reg.json.registration_access_token,
    );
    expectRegistrationError(widen, 400, 'invalid_client_metadata');
    expect(widen.json.error_description).toContain(B);
    // the token's uses were not spent by the refused registrations
    expect((await api.register({ scope: 'statements:read' }, token)).status).toBe(201);
  });

  it('initial-tokens create with a policy the server cannot honour → exit 1', async () => {
    expect((await cli('initial-tokens', 'create', '--scope', 'admin')).code).toBe(1);
    expect((await cli('initial-tokens', 'create', '--method', 'none')).code).toBe(1);
    expect((await cli('initial-tokens', 'create', '--resource', 'relative/path')).code).toBe(1);
  });

  it('clients create takes one --method', async () => {
    expect(
      (await cli('clients', 'create', '--method', 'client_secret_basic', '--method', 'client_secret_post')).code,
    ).toBe(2);
  });
});
