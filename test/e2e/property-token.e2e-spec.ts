import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../support/http.js';
import {
  anyText,
  authorizationHeader,
  contentType,
  encodeForm,
  expectOAuthResponse,
  fcParams,
  formEntries,
  headerSafe,
  propertyTimeout,
  rawBytes,
  rawFormText,
  send,
} from '../support/property.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Property-based tests of POST /token over real HTTP: random and mutated forms, content types,
 * raw bodies and Authorization headers. Fixed seed (FC_SEED), FC_RUNS for more iterations.
 */
const FORM = 'application/x-www-form-urlencoded';
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const RUNS = { randomForms: 150, rawBodies: 100, mutations: 200 };

describe('property: POST /token', () => {
  let t: TestApp;
  let basicClient: { clientId: string; clientSecret: string };
  let postClient: { clientId: string; clientSecret: string };
  const registeredScope = ['statements:read', 'statements:write'];
  const resources = ['https://api.example/', 'https://b.example/x'];
  let clientIds: string[];

  beforeAll(async () => {
    t = await createTestApp();
    basicClient = await createClient(t, {
      tokenEndpointAuthMethod: 'client_secret_basic',
      scope: registeredScope.join(' '),
      resources,
    });
    postClient = await createClient(t, {
      tokenEndpointAuthMethod: 'client_secret_post',
      scope: registeredScope.join(' '),
      resources,
    });
    const pk = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_jwt' });
    clientIds = [basicClient.clientId, postClient.clientId, pk.clientId];
  });
  afterAll(() => t.close());

  const post = (body: string | Uint8Array, headers: Record<string, string | undefined>) =>
    send(t.tokenEndpoint, {
      method: 'POST',
      body,
      headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>,
    });

  it(
    'random forms, content types and Authorization headers: never a token, never a 5xx, RFC 6749 errors',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          formEntries({ clientIds }),
          fc.oneof({ weight: 3, arbitrary: fc.constant(FORM) }, { weight: 1, arbitrary: contentType(FORM) }),
          authorizationHeader(clientIds),
          fc.option(
            fc.dictionary(
              fc.constantFrom(
                'accept',
                'x-forwarded-for',
                'origin',
                'dpop',
                'accept-charset',
                'x-http-method-override',
              ),
              anyText(40).map(headerSafe),
            ),
            { nil: undefined },
          ),
          async (entries, type, authorization, extra) => {
            const res = await post(encodeForm(entries), { ...extra, 'content-type': type, authorization });
            expectOAuthResponse(res);
            expect(res.status).not.toBe(200);
          },
        ),
        fcParams(RUNS.randomForms),
      );
    },
    propertyTimeout(RUNS.randomForms),
  );

  it(
    'raw bodies (random bytes, broken escapes, lone surrogates): never a token, never a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(rawFormText(), rawBytes()),
          fc.oneof({ weight: 3, arbitrary: fc.constant(FORM) }, { weight: 1, arbitrary: contentType(FORM) }),
          fc.oneof(
            fc.constant(basic(basicClient.clientId, basicClient.clientSecret).authorization),
            authorizationHeader(clientIds),
          ),
          async (body, type, authorization) => {
            const res = await post(body, { 'content-type': type, authorization });
            expectOAuthResponse(res);
            expect(res.status).not.toBe(200);
          },
        ),
        fcParams(RUNS.rawBodies),
      );
    },
    propertyTimeout(RUNS.rawBodies),
  );

  /* ---------------------------------------------------------------- mutated valid requests */

  type Method = 'basic' | 'post';
  type Mutation =
    | { kind: 'none' }
    | { kind: 'drop'; name: string }
    | { kind: 'empty'; name: string }
    | { kind: 'duplicate'; name: string }
    | { kind: 'replace'; name: string; value: string }
    | { kind: 'corrupt-secret'; position: number; char: string }
    | { kind: 'add-unknown'; name: string; value: string }
    | { kind: 'add-client-id'; value: string }
    | { kind: 'second-method'; name: 'client_secret' | 'client_assertion' | 'client_assertion_type' | 'basic' }
    | { kind: 'content-type'; value: string }
    | { kind: 'scheme'; value: string };

  const KNOWN = new Set([
    'grant_type',
    'scope',
    'resource',
    'client_id',
    'client_secret',
    'client_assertion',
    'client_assertion_type',
  ]);

  /** A near-valid or random replacement value. */
  const replacement = fc.oneof(
    anyText(60),
    fc.constantFrom(
      'client_credentials',
      'Client_Credentials',
      'client_credentials ',
      'statements:read',
      'statements:write statements:read',
      '  statements:read  ',
      'statements:read statements:read',
      'admin',
      'statements:read\tstatements:write',
      'https://api.example/',
      'https://api.example',
      'https://b.example/x#f',
      'https://b.example/x',
      'api.example',
      '',
      ' ',
    ),
  );

  const mutation = (method: Method): fc.Arbitrary<Mutation> => {
    const names =
      method === 'basic'
        ? ['grant_type', 'scope', 'resource']
        : ['grant_type', 'scope', 'resource', 'client_id', 'client_secret'];
    const name = fc.constantFrom(...names);
    return fc.oneof(
      fc.constant<Mutation>({ kind: 'none' }),
      name.map((n): Mutation => ({ kind: 'drop', name: n })),
      name.map((n): Mutation => ({ kind: 'empty', name: n })),
      name.map((n): Mutation => ({ kind: 'duplicate', name: n })),
      fc.tuple(name, replacement).map(([n, value]): Mutation => ({ kind: 'replace', name: n, value })),
      fc
        .tuple(fc.nat(), fc.constantFrom('A', 'z', '0', '-', '_', '%', ' ', '=', 'é'))
        .map(([position, char]): Mutation => ({ kind: 'corrupt-secret', position, char })),
      fc
        .tuple(
          anyText(20).filter((n) => n !== '' && !KNOWN.has(n)),
          anyText(40),
        )
        .map(([n, value]): Mutation => ({ kind: 'add-unknown', name: n, value })),
      ...(method === 'basic'
        ? [
            fc
              .oneof(fc.constant(basicClient.clientId), anyText(30))
              .map((value): Mutation => ({ kind: 'add-client-id', value })),
          ]
        : []),
      fc
        .constantFrom(
          ...(method === 'basic'
            ? (['client_secret', 'client_assertion', 'client_assertion_type'] as const)
            : (['basic', 'client_assertion', 'client_assertion_type'] as const)),
        )
        .map((n): Mutation => ({ kind: 'second-method', name: n })),
      fc
        .constantFrom(
          FORM,
          `${FORM}; charset=utf-8`,
          'Application/X-WWW-Form-Urlencoded',
          'application/json',
          'text/plain',
          'multipart/form-data',
          '',
        )
        .map((value): Mutation => ({ kind: 'content-type', value })),
      ...(method === 'basic'
        ? [
            fc
              .constantFrom('Basic', 'basic', 'BASIC', 'Bearer', 'Basic\t', 'Digest')
              .map((value): Mutation => ({ kind: 'scheme', value })),
          ]
        : []),
    );
  };

  interface Expected {
    status: number;
    error?: string;
  }

  /** The outcome the contract predicts for one mutation of a valid request. */
  function predict(method: Method, base: Map<string, string>, m: Mutation, secret: string): Expected {
    const ok = { status: 200 };
    const invalidRequest = { status: 400, error: 'invalid_request' };
    const invalidClient = { status: 401, error: 'invalid_client' };
    const omitted = (name: string): Expected => {
      if (name === 'grant_type') return invalidRequest;
      if (name === 'client_id' || name === 'client_secret') return invalidClient;
      return ok;
    };
    switch (m.kind) {
      case 'none':
        return ok;
      case 'drop':
      case 'empty':
        return omitted(m.name);
      case 'duplicate':
        return m.name === 'resource' ? ok : invalidRequest;
      case 'replace': {
        if (m.value === '') return omitted(m.name);
        if (m.name === 'grant_type')
          return m.value === 'client_credentials' ? ok : { status: 400, error: 'unsupported_grant_type' };
        if (m.name === 'client_id') return m.value === base.get('client_id') ? ok : invalidClient;
        if (m.name === 'client_secret') return m.value === secret ? ok : invalidClient;
        if (m.name === 'scope') {
          const tokens = m.value.split(' ').filter((s) => s !== '');
          return tokens.every((s) => SCOPE_TOKEN.test(s) && registeredScope.includes(s))
            ? ok
            : { status: 400, error: 'invalid_scope' };
        }
        // resource
        return resources.includes(m.value) ? ok : { status: 400, error: 'invalid_target' };
      }
      case 'corrupt-secret':
        return invalidClient; // the generator guarantees a different secret
      case 'add-unknown':
        return ok;
      case 'add-client-id':
        return m.value === '' || m.value === basicClient.clientId ? ok : invalidRequest;
      case 'second-method':
        return invalidRequest;
      case 'content-type':
        return m.value.split(';')[0].trim().toLowerCase() === FORM ? ok : invalidRequest;
      case 'scheme':
        return /^basic$/i.test(m.value) ? ok : invalidClient;
    }
  }

  function corrupt(secret: string, position: number, char: string): string {
    const i = position % secret.length;
    const replaced = secret.slice(0, i) + char + secret.slice(i + 1);
    return replaced === secret ? secret.slice(0, i) + (char === 'A' ? 'B' : 'A') + secret.slice(i + 1) : replaced;
  }

  it(
    'mutated valid requests (drop/duplicate/replace one parameter, corrupt the secret …): exactly the predicted outcome; valid → a token',
    async () => {
      const seen = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(
          fc
            .constantFrom<Method>('basic', 'post')
            .chain((method) => fc.tuple(fc.constant(method), mutation(method), fc.boolean(), fc.boolean())),
          async ([method, m, withScope, withResource]) => {
            const client = method === 'basic' ? basicClient : postClient;
            const base = new Map<string, string>([['grant_type', 'client_credentials']]);
            if (method === 'post') {
              base.set('client_id', client.clientId);
              base.set('client_secret', client.clientSecret);
            }
            // A mutation of scope/resource needs the parameter in the base request.
            if (
              withScope ||
              ((m.kind === 'drop' || m.kind === 'empty' || m.kind === 'duplicate' || m.kind === 'replace') &&
                m.name === 'scope')
            )
              base.set('scope', 'statements:read');
            if (
              withResource ||
              ((m.kind === 'drop' || m.kind === 'empty' || m.kind === 'duplicate' || m.kind === 'replace') &&
                m.name === 'resource')
            )
              base.set('resource', resources[0]);

            let entries: [string, string][] = [...base.entries()];
            let secret = client.clientSecret;
            let scheme = 'Basic';
            let type = FORM;
            switch (m.kind) {
              case 'drop':
                entries = entries.filter(([k]) => k !== m.name);
                break;
              case 'empty':
                entries = entries.map(([k, v]) => [k, k === m.name ? '' : v]);
                break;
              case 'duplicate':
                entries = entries.flatMap(
                  ([k, v]) =>
                    (k === m.name
                      ? [
                          [k, v],
                          [k, v],
                        ]
                      : [[k, v]]) as [string, string][],
                );
                break;
              case 'replace':
                entries = entries.map(([k, v]) => [k, k === m.name ? m.value : v]);
                break;
              case 'corrupt-secret':
                secret = corrupt(secret, m.position, m.char);
                entries = entries.map(([k, v]) => [k, k === 'client_secret' ? secret : v]);
                break;
              case 'add-unknown':
                entries.push([m.name, m.value]);
                break;
              case 'add-client-id':
                entries.push(['client_id', m.value]);
                break;
              case 'second-method':
                if (m.name === 'client_secret') entries.push(['client_secret', client.clientSecret]);
                if (m.name === 'client_assertion') entries.push(['client_assertion', 'a.b.c']);
                if (m.name === 'client_assertion_type')
                  entries.push(['client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer']);
                break;
              case 'content-type':
                type = m.value;
                break;
              case 'scheme':
                scheme = m.value;
                break;
            }
            const headers: Record<string, string | undefined> = { 'content-type': type || undefined };
            if (method === 'basic')
              headers.authorization = `${scheme} ${basic(client.clientId, secret).authorization.slice(6)}`;
            if (method === 'post' && m.kind === 'second-method' && m.name === 'basic')
              headers.authorization = basic(client.clientId, client.clientSecret).authorization;

            const expected = predict(method, base, m, client.clientSecret);
            const res = await post(encodeForm(entries), headers);
            expectOAuthResponse(res, { tokenAllowed: expected.status === 200 });
            expect({ status: res.status, error: res.json?.error }, `${method} ${JSON.stringify(m)}`).toEqual({
              status: expected.status,
              error: expected.error,
            });
            if (expected.status === 200) {
              expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
              expect(typeof res.json.access_token).toBe('string');
            }
            if (expected.status === 401 && method === 'basic' && /^\s*basic /i.test(headers.authorization ?? ''))
              expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
            const outcome = expected.status === 200 ? 'token' : `${expected.status} ${expected.error}`;
            seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
          },
        ),
        fcParams(RUNS.mutations),
      );
      // The generator is meaningful: it produces both valid requests (tokens) and each kind of failure.
      expect(seen.get('token') ?? 0).toBeGreaterThan(10);
      for (const outcome of [
        '400 invalid_request',
        '401 invalid_client',
        '400 invalid_scope',
        '400 invalid_target',
        '400 unsupported_grant_type',
      ])
        expect(seen.get(outcome) ?? 0, outcome).toBeGreaterThan(0);
    },
    propertyTimeout(RUNS.mutations),
  );
});
