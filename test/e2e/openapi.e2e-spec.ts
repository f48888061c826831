import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clavisOpenApiDocument } from '@clavis/server';
import { assertion, generateKey, JWT_BEARER, type TestKey } from '../support/keys.js';
import { basic, postForm } from '../support/http.js';
import { registrationApi, tokenWithBasic } from '../support/registration.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * The OpenAPI 3.1 description (`/openapi.json`, `clavisOpenApiDocument`) is a valid OpenAPI 3.1
 * document by a real validator, and it describes what the server answers: representative requests
 * to every endpoint, successes and errors, each checked against the documented status codes,
 * media types, headers and response schemas (ajv, JSON Schema 2020-12).
 */
type Doc = Record<string, any>;

function pointer(doc: Doc, ref: string): any {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

describe('OpenAPI description', () => {
  let t: TestApp;
  let doc: Doc;
  let ajv: InstanceType<typeof Ajv2020>;
  const checked = new Set<string>();

  /** Checks one response against the operation's documented response for its status. */
  function conforms(path: string, method: string, res: { status: number; headers: Headers; text: string }) {
    const op = doc.paths[path]?.[method];
    expect(op, `${method} ${path} is documented`).toBeDefined();
    let documented = op.responses[String(res.status)];
    expect(documented, `${method.toUpperCase()} ${path} → ${res.status} is documented (${res.text})`).toBeDefined();
    if (documented.$ref) documented = pointer(doc, documented.$ref);
    for (const [name, header] of Object.entries<any>(documented.headers ?? {}))
      if (header.schema?.const) expect(res.headers.get(name), `${name} of ${method} ${path}`).toBe(header.schema.const);
    const contentType = res.headers.get('content-type')?.split(';')[0].trim();
    if (!documented.content) {
      expect(res.text, `${method} ${path} → ${res.status} has no body`).toBe('');
    } else {
      expect(Object.keys(documented.content), `media type of ${method} ${path} → ${res.status}`).toContain(contentType);
      const schemaPath = `#/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${res.status}`;
      const ref = documented === op.responses[String(res.status)] ? schemaPath : op.responses[String(res.status)].$ref;
      const validate = ajv.getSchema(`openapi.json${ref}/content/${contentType!.replace(/\//g, '~1')}/schema`)!;
      const body = JSON.parse(res.text);
      expect(validate(body), `${method} ${path} → ${res.status}: ${JSON.stringify(validate.errors)} ${res.text}`).toBe(
        true,
      );
    }
    checked.add(`${method} ${path} ${res.status}`);
  }

  beforeAll(async () => {
    t = await createTestApp();
    const served = await fetch(`${t.baseUrl}/openapi.json`);
    expect(served.status).toBe(200);
    doc = await served.json();
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(doc, 'openapi.json');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is a valid OpenAPI 3.1 document, the one @clavis/server exports, with the server’s endpoint base', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc).toEqual(clavisOpenApiDocument({ serverUrl: t.baseUrl }));
    // Every endpoint of the metadata document is described.
    const metadata = await (await fetch(`${t.baseUrl}/.well-known/oauth-authorization-server`)).json();
    for (const k of [
      'token_endpoint',
      'jwks_uri',
      'registration_endpoint',
      'introspection_endpoint',
      'revocation_endpoint',
    ])
      expect(Object.keys(doc.paths)).toContain(new URL(metadata[k]).pathname);
  });

  it('the validator refuses a broken document (the check can fail)', async () => {
    const broken = structuredClone(doc);
    broken.paths['/token'].post.responses = 'none';
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('describes the token, introspection and revocation answers (successes and errors)', async () => {
    const c = await createClient(t, {});
    const ok = await tokenWithBasic(t, c.clientId, c.clientSecret);
    conforms('/token', 'post', ok);
    conforms('/token', 'post', await tokenWithBasic(t, c.clientId, 'wrong'));
    conforms(
      '/token',
      'post',
      await postForm(t.tokenEndpoint, { grant_type: 'password' }, basic(c.clientId, c.clientSecret)),
    );
    conforms(
      '/token',
      'post',
      await postForm(t.tokenEndpoint, {
        grant_type: 'client_credentials',
        client_id: c.clientId,
        client_secret: c.clientSecret,
      }),
    );
    conforms(
      '/token',
      'post',
      await postForm(t.tokenEndpoint, { grant_type: 'client_credentials', pad: 'x'.repeat(100_000) }),
    );
    const key: TestKey = await generateKey();
    const pk = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
    conforms(
      '/token',
      'post',
      await postForm(t.tokenEndpoint, {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion(pk.clientId, key, t.issuer),
      }),
    );
    const introspect = (token: string, auth = basic(c.clientId, c.clientSecret)) =>
      postForm(`${t.baseUrl}/introspect`, { token }, auth);
    const active = await introspect(ok.json.access_token);
    expect(active.json.active).toBe(true);
    conforms('/introspect', 'post', active);
    conforms('/introspect', 'post', await introspect('not-a-token'));
    conforms('/introspect', 'post', await introspect(ok.json.access_token, basic(c.clientId, 'wrong')));
    conforms('/introspect', 'post', await postForm(`${t.baseUrl}/introspect`, {}, basic(c.clientId, c.clientSecret)));
    conforms(
      '/revoke',
      'post',
      await postForm(`${t.baseUrl}/revoke`, { token: ok.json.access_token }, basic(c.clientId, c.clientSecret)),
    );
    conforms('/revoke', 'post', await postForm(`${t.baseUrl}/revoke`, { token: 'x' }, basic(c.clientId, 'wrong')));
    conforms('/revoke', 'post', await postForm(`${t.baseUrl}/revoke`, {}, basic(c.clientId, c.clientSecret)));
  });

  it('describes registration and its management (RFC 7591/7592), successes and errors', async () => {
    const api = registrationApi(t);
    const { token } = await t.initialTokens.create({ uses: 1 });
    const created = await api.register({ client_name: 'openapi', scope: 'statements:read' }, token);
    expect(created.status, created.text).toBe(201);
    conforms('/register', 'post', created);
    conforms('/register', 'post', await api.register({ client_name: 'x' }, 'not-a-token'));
    const { token: t2 } = await t.initialTokens.create({ uses: 1 });
    conforms('/register', 'post', await api.register({ token_endpoint_auth_method: 'none' }, t2));
    const uri = created.json.registration_client_uri;
    const rat = created.json.registration_access_token;
    conforms('/register/{client_id}', 'get', await api.read(uri, rat));
    conforms('/register/{client_id}', 'get', await api.read(uri, 'wrong'));
    const {
      registration_access_token: _r,
      registration_client_uri: _u,
      client_secret_expires_at: _e,
      client_id_issued_at: _i,
      client_secret: _s,
      ...metadata
    } = created.json;
    const updated = await api.update(uri, { ...metadata, client_name: 'renamed' }, rat);
    expect(updated.status, updated.text).toBe(200);
    conforms('/register/{client_id}', 'put', updated);
    conforms(
      '/register/{client_id}',
      'put',
      await api.update(uri, { client_id: 'other' }, updated.json.registration_access_token),
    );
    conforms('/register/{client_id}', 'delete', await api.remove(uri, 'wrong'));
    const removed = await api.remove(uri, updated.json.registration_access_token);
    expect(removed.status).toBe(204);
    conforms('/register/{client_id}', 'delete', removed);
  });

  it('describes the JWK Set and the metadata', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${t.baseUrl}${path}`);
      return { status: res.status, headers: res.headers, text: await res.text() };
    };
    conforms('/jwks', 'get', await get('/jwks'));
    conforms('/.well-known/oauth-authorization-server', 'get', await get('/.well-known/oauth-authorization-server'));
    // Every operation was exercised with at least one documented answer.
    for (const [path, ops] of Object.entries<any>(doc.paths))
      for (const method of Object.keys(ops).filter((m) => m !== 'parameters'))
        expect(
          [...checked].some((c) => c.startsWith(`${method} ${path} `)),
          `${method} ${path}`,
        ).toBe(true);
  });
});
