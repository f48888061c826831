import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postForm } from '../support/http.js';
import { assertion, generateKey, JWT_BEARER } from '../support/keys.js';
import { createLoggedTestApp, type LoggedTestApp } from '../support/logged-test-app.js';
import { expectRegistrationError, registrationApi } from '../support/registration.js';
import { createClient } from '../support/test-app.js';

/** Raw control, format and separator characters that must never reach a log line unescaped. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('log forging: URI members and logged values', () => {
  let t: LoggedTestApp;
  let api: ReturnType<typeof registrationApi>;
  beforeAll(async () => {
    t = await createLoggedTestApp();
    api = registrationApi(t);
  });
  afterAll(() => t.close());

  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
    y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  };

  describe('control characters and whitespace in a URI member are refused (400 invalid_client_metadata)', () => {
    const bad = [
      '\r\n',
      '\n[Nest] 1  - forged LOG',
      '\u001b[31m',
      '\u009b31m',
      ' ',
      '\t',
      '\u00a0',
      '\u2028',
      '\u202e',
      '\u0085',
    ];
    it.each(bad.map((s) => [JSON.stringify(s), s]))('jwks_uri with %s', async (_label, s) => {
      const { token } = await t.initialTokens.create({ uses: 1 });
      const res = await api.register(
        {
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: `https://keys.example.com/jwks${s}x`,
          scope: 'statements:read',
        },
        token,
      );
      expectRegistrationError(res, 400, 'invalid_client_metadata');
      expect(res.json.error_description).toBe('jwks_uri must not contain control characters or whitespace');
    });

    it.each([
      ['client_uri', { client_uri: 'https://example.com/\r\nabout' }],
      ['resources', { resources: ['https://api.example.com/\u001b[2J'] }],
      ['resources', { resources: ['https://api.example.com/ a'] }],
    ])('%s', async (name, member) => {
      const { token } = await t.initialTokens.create({ uses: 1 });
      const res = await api.register(
        { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] }, scope: 'statements:read', ...member },
        token,
      );
      expectRegistrationError(res, 400, 'invalid_client_metadata');
      expect(res.json.error_description).toBe(`${name} must not contain control characters or whitespace`);
    });
  });

  it('jwks_uri and client_uri are stored normalised (the WHATWG URL serialisation)', async () => {
    const reg = await api.registerOk({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'HTTPS://Keys.Example.COM:443/a/../jwks',
      client_uri: 'https://EXAMPLE.com',
      scope: 'statements:read',
    });
    expect(reg.jwks_uri).toBe('https://keys.example.com/jwks');
    expect(reg.client_uri).toBe('https://example.com/');
    expect((await t.clients.find(reg.client_id))?.jwksUri).toBe('https://keys.example.com/jwks');
  });

  it('an untrusted value that reaches a log line (an assertion header) is escaped there', async () => {
    const key = await generateKey('ES256');
    const c = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    const forged =
      'x\u2028[Nest] 1  - LOG [ClavisAudit] {"type":"client.registered"}\u009b31m\u202egnp.exe\u001b[0m\r\n';
    const jwt = await assertion(c.clientId, key, t.issuer, { header: { typ: forged }, now: t.clock.nowSeconds() });
    const res = await postForm(t.tokenEndpoint, {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: jwt,
    });
    expect(res.status).toBe(401);
    const lines = t.logs.entries.filter((e) => e.message.includes('gnp.exe'));
    expect(lines.length, 'the failure reaches the log').toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.message).not.toMatch(RAW_UNSAFE);
      expect(line.message).toMatch(/\\+u009b31m\\+u202egnp\.exe/); // escaped (twice when a host sink also logs)
      expect(line.message).not.toContain('\n');
    }
    // The events a host's own sink receives are escaped as well.
    const event = t.audit.events.find(
      (e) => e.type === 'client.authentication_failed' && e.detail?.includes('gnp.exe'),
    );
    expect(event).toMatchObject({ reason: 'assertion_typ_not_accepted' });
    expect(event && 'detail' in event ? event.detail : '').not.toMatch(RAW_UNSAFE);
  });

  it('a secret pasted into grant_type or scope is not copied into the audit detail or the log', async () => {
    const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const before = t.audit.events.length;
    const logBefore = t.logs.entries.length;
    const wrongGrant = await postForm(
      t.tokenEndpoint,
      { grant_type: c.clientSecret },
      basic(c.clientId, c.clientSecret),
    );
    expect(wrongGrant.json.error).toBe('unsupported_grant_type');
    const wrongScope = await postForm(
      t.tokenEndpoint,
      { grant_type: 'client_credentials', scope: `statements:read ${c.clientSecret} statements:write` },
      basic(c.clientId, c.clientSecret),
    );
    expect(wrongScope.json.error).toBe('invalid_scope');
    const events = t.audit.events.slice(before);
    expect(events.filter((e) => e.type === 'request.failed').map((e) => e.type === 'request.failed' && e.code)).toEqual(
      ['unsupported_grant_type', 'invalid_scope'],
    );
    const text =
      JSON.stringify(events) +
      t.logs.entries
        .slice(logBefore)
        .map((e) => e.message)
        .join('\n');
    expect(text).not.toContain(c.clientSecret);
    expect(text).not.toContain(c.clientSecret.slice(0, 16));
    // Scopes the server offers are still named (the operator can see what was asked for).
    expect(text).toContain('statements:write');
  });

  it('a secret sent as the client_id (fields swapped) is not copied into the audit event or the log', async () => {
    const c = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    const before = t.audit.events.length;
    const logBefore = t.logs.entries.length;
    expect(
      (await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, basic(c.clientSecret, c.clientId))).status,
    ).toBe(401);
    expect(
      (
        await postForm(t.tokenEndpoint, {
          grant_type: 'client_credentials',
          client_id: c.clientSecret,
          client_secret: c.clientId,
        })
      ).status,
    ).toBe(401);
    const events = t.audit.events.slice(before);
    expect(events.filter((e) => e.type === 'client.authentication_failed')).toHaveLength(2);
    const text =
      JSON.stringify(events) +
      t.logs.entries
        .slice(logBefore)
        .map((e) => e.message)
        .join('\n');
    expect(text).not.toContain(c.clientSecret.slice(0, 16));
    // A known client is still named.
    expect(
      (await postForm(t.tokenEndpoint, { grant_type: 'client_credentials' }, basic(c.clientId, 'wrong'))).status,
    ).toBe(401);
    expect(t.audit.events.at(-1)).toMatchObject({ type: 'client.authentication_failed', clientId: c.clientId });
  });
});
