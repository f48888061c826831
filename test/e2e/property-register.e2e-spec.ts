import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, type TestKey } from '../support/keys.js';
import {
  anyJson,
  anyText,
  contentType,
  expectRegistrationResponse,
  expectSafe,
  fcParams,
  headerSafe,
  hugeText,
  propertyTimeout,
  rawBytes,
  send,
  toJsonText,
  type RawResponse,
} from '../support/property.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Property-based tests of POST /register (RFC 7591) and GET/PUT/DELETE /register/:id (RFC 7592):
 * random JSON of every shape, client metadata with one member made invalid (wrong type, too long,
 * bad value, inconsistent), random and broken JWKs, random bearer tokens and ids. A model predicts
 * 201/200 or 400 for each body; never a 5xx, never a registration for invalid metadata.
 */
const RUNS = { randomJson: 150, metadata: 200, jwks: 120, update: 100, access: 150 };
const JSON_LIMIT = 65_536;
const MAX_DEPTH = 16;
const SERVER_SCOPES = ['statements:read', 'statements:write'];
const SECRET_METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt'];
const METHODS = [...SECRET_METHODS, 'private_key_jwt'] as const;
type Method = (typeof METHODS)[number];

/** Members the server reads (RFC 7591 §2 + RFC 7592 §2.2); everything else is ignored. */
const KNOWN = new Set([
  'client_name',
  'token_endpoint_auth_method',
  'token_endpoint_auth_signing_alg',
  'grant_types',
  'scope',
  'resources',
  'jwks',
  'jwks_uri',
  'contacts',
  'client_uri',
  'software_id',
  'software_version',
  'client_id',
  'client_secret',
  'software_statement',
]);
const SERVER_OWNED = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
];

type Body = Record<string, unknown>;

/** Objects that trip up object mappers (prototype-ish members at any depth). */
const TRICKY_JSON = [
  '{"a":{"constructor":1}}',
  '{"prototype":{"constructor":1}}',
  '{"x":[{"constructor":1}]}',
  '{"x":{"constructor":null}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '{"__proto__":{"client_name":5,"token_endpoint_auth_method":"none"}}',
  '{"a":{"__proto__":{"constructor":null}}}',
  '{"toString":1,"valueOf":{},"hasOwnProperty":[]}',
  '{"x_custom":{"constructor":{"name":"Object"},"__proto__":[]}}',
];
interface MetaCase {
  label: string;
  body: Body;
  /** null: valid (201 / 200). */
  error: null | 'invalid_client_metadata' | 'invalid_software_statement' | 'invalid_request';
}

/** Whether a JSON value nests deeper than `limit` (the server's rule). */
function nestingExceeds(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  return Object.values(value).some((v) => nestingExceeds(v, limit - 1));
}

describe('property: /register and /register/:client_id', () => {
  let t: TestApp;
  let iat: string;
  let keys: Record<'es256a' | 'es256b' | 'es384' | 'rs256' | 'ps256' | 'ed25519', TestKey>;
  const endpoint = () => `${t.baseUrl}/register`;

  beforeAll(async () => {
    t = await createTestApp();
    iat = (await t.initialTokens.create()).token;
    const [es256a, es256b, es384, rs256, ps256, ed25519] = await Promise.all([
      generateKey('ES256'),
      generateKey('ES256'),
      generateKey('ES384'),
      generateKey('RS256'),
      generateKey('PS256'),
      generateKey('EdDSA'),
    ]);
    keys = { es256a, es256b, es384, rs256, ps256, ed25519 };
  }, 60_000);
  afterAll(() => t.close());

  const jsonPost = (
    body: string | Uint8Array,
    headers: Record<string, string | undefined> = {},
    url = endpoint(),
    method = 'POST',
  ) =>
    send(url, {
      method,
      body,
      headers: Object.fromEntries(
        Object.entries({ 'content-type': 'application/json', authorization: `Bearer ${iat}`, ...headers }).filter(
          ([, v]) => v !== undefined,
        ),
      ) as Record<string, string>,
    });

  /* ------------------------------------------------------------------ random JSON */

  /** The outcome for an arbitrary JSON text; 'unknown' when a known member carries a random value. */
  function predictRandom(text: string, value: unknown): 'valid' | 'invalid' | 'unknown' {
    if (Buffer.byteLength(text) > JSON_LIMIT) return 'invalid';
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'invalid';
    if (nestingExceeds(value, MAX_DEPTH)) return 'invalid';
    const own = Object.keys(value as Body);
    if (own.includes('software_statement')) return 'invalid';
    if (own.some((k) => KNOWN.has(k) && (value as Body)[k] !== null)) return 'unknown';
    return 'valid'; // only members the server ignores: a client_secret_basic client with defaults
  }

  it(
    'random JSON (primitives, arrays, objects, deep nesting, huge strings, __proto__ keys) and random bodies/content types: never a 5xx; objects of unknown members register with defaults, everything else is 400',
    async () => {
      const outcomes = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            {
              weight: 5,
              arbitrary: anyJson().map((v) => ({
                text: toJsonText(v),
                type: 'application/json' as string | undefined,
              })),
            },
            {
              weight: 1,
              arbitrary: fc
                .tuple(fc.oneof(anyText(200), rawBytes(70_000)), contentType('application/json'))
                .map(([b, type]) => ({ text: b, type })),
            },
            {
              weight: 1,
              arbitrary: fc
                .tuple(anyJson(), contentType('application/json'))
                .map(([v, type]) => ({ text: toJsonText(v), type })),
            },
            {
              weight: 1,
              arbitrary: fc
                .constantFrom(...TRICKY_JSON)
                .map((text) => ({ text, type: 'application/json' as string | undefined })),
            },
          ),
          async ({ text, type }) => {
            const res = await jsonPost(text, { 'content-type': type });
            let parsed: unknown;
            let parses = true;
            try {
              parsed = JSON.parse(typeof text === 'string' ? text : Buffer.from(text).toString('utf8'));
            } catch {
              parses = false;
            }
            const typeOk = (type ?? '').split(';')[0].trim().toLowerCase() === 'application/json';
            const predicted =
              !typeOk || !parses || typeof text !== 'string'
                ? typeOk && parses
                  ? 'unknown'
                  : 'invalid'
                : predictRandom(text, parsed);
            expectRegistrationResponse(res, 'POST', predicted === 'invalid' ? [] : [201]);
            if (predicted === 'valid') {
              expect(res.status, res.text.slice(0, 300)).toBe(201);
              expect(res.json).toMatchObject({
                token_endpoint_auth_method: 'client_secret_basic',
                grant_types: ['client_credentials'],
              });
              expect(res.json.client_name).toBeUndefined(); // nothing read from __proto__ or other members
            }
            if (predicted === 'invalid')
              expect({ status: res.status, error: res.json.error }).toEqual({
                status: 400,
                error:
                  parsed !== null &&
                  typeof parsed === 'object' &&
                  !Array.isArray(parsed) &&
                  'software_statement' in (parsed as Body) &&
                  typeOk &&
                  Buffer.byteLength(text as string) <= JSON_LIMIT &&
                  !nestingExceeds(parsed, MAX_DEPTH)
                    ? 'invalid_software_statement'
                    : 'invalid_client_metadata',
              });
            outcomes.set(`${predicted}:${res.status}`, (outcomes.get(`${predicted}:${res.status}`) ?? 0) + 1);
          },
        ),
        fcParams(RUNS.randomJson),
      );
      expect(outcomes.get('valid:201') ?? 0).toBeGreaterThan(3);
      expect(outcomes.get('invalid:400') ?? 0).toBeGreaterThan(RUNS.randomJson / 5);
    },
    propertyTimeout(RUNS.randomJson),
  );

  /* ------------------------------------------------------------------ metadata model */

  const noNul = (s: string) => !s.includes('\u0000');
  const shortText = (max: number) => fc.string({ unit: 'grapheme', maxLength: max }).filter(noNul);
  const httpsUrl = fc.oneof(
    fc.constantFrom(
      'https://client.example',
      'https://client.example/a?b=c',
      'https://[::1]:8443/x',
      'https://xn--bcher-kva.example/é',
    ),
    fc.webUrl({ validSchemes: ['https'], withQueryParameters: true, withFragments: false }),
  );

  /** Valid metadata for one method (optional members present or not, unknown members added). */
  function validMetadata(method: Method): fc.Arbitrary<Body> {
    const common = fc.record(
      {
        client_name: shortText(60),
        scope: fc.subarray(SERVER_SCOPES).map((s) => s.join(' ')),
        grant_types: fc.constantFrom(['client_credentials'], ['client_credentials', 'client_credentials']),
        resources: fc.array(httpsUrl, { maxLength: 3 }),
        contacts: fc.array(fc.emailAddress(), { maxLength: 3 }),
        client_uri: httpsUrl,
        software_id: shortText(40),
        software_version: fc.stringMatching(/^[0-9]{1,3}\.[0-9]{1,3}$/),
      },
      { requiredKeys: [] },
    );
    const unknown = fc.dictionary(
      fc.string({ maxLength: 12 }).filter((k) => !KNOWN.has(k) && !SERVER_OWNED.includes(k) && k !== '__proto__'),
      fc.jsonValue({ maxDepth: 3 }),
      { maxKeys: 3 },
    );
    let specific: fc.Arbitrary<Body>;
    if (method === 'private_key_jwt') {
      const groups: [string | undefined, TestKey[]][] = [
        [undefined, [keys.es256a, keys.es384, keys.rs256, keys.ps256, keys.ed25519]],
        ['ES256', [keys.es256a, keys.es256b]],
        ['ES384', [keys.es384]],
        ['RS256', [keys.rs256]],
        ['PS256', [keys.ps256]],
        ['EdDSA', [keys.ed25519]],
      ];
      specific = fc.oneof(
        fc.constantFrom(...groups).chain(([alg, pool]) =>
          fc
            .tuple(
              fc.subarray(pool, { minLength: 1 }),
              fc.option(
                fc.dictionary(
                  fc.constantFrom('constructor', 'toString', 'x_note', 'prototype'),
                  fc.jsonValue({ maxDepth: 2 }),
                  { maxKeys: 2 },
                ),
                { nil: undefined },
              ),
            )
            .map(([ks, extra]): Body => ({
              jwks: { keys: ks.map((k) => ({ ...k.publicJwk, ...extra })) },
              ...(alg ? { token_endpoint_auth_signing_alg: alg } : {}),
            })),
        ),
        fc
          .tuple(
            fc.constantFrom(
              'https://client.example/jwks',
              'http://127.0.0.1:9/jwks',
              'https://client.example/.well-known/jwks.json?v=2',
            ),
            fc.option(fc.constantFrom('ES256', 'RS256', 'PS384', 'EdDSA'), { nil: undefined }),
          )
          .map(([uri, alg]): Body => ({ jwks_uri: uri, ...(alg ? { token_endpoint_auth_signing_alg: alg } : {}) })),
      );
    } else if (method === 'client_secret_jwt')
      specific = fc
        .option(fc.constantFrom('HS256', 'HS384', 'HS512'), { nil: undefined })
        .map((alg): Body => (alg ? { token_endpoint_auth_signing_alg: alg } : {}));
    else specific = fc.constant({});
    return fc.tuple(common, specific, unknown, fc.boolean()).map(([c, s, u, explicit]) => ({
      ...u,
      ...c,
      ...s,
      ...(method !== 'client_secret_basic' || explicit ? { token_endpoint_auth_method: method } : {}),
    }));
  }

  const wrongTypeFor = (member: string): fc.Arbitrary<unknown> => {
    const scalar = fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.boolean(),
      fc.constant({}),
      fc.constant({ a: 'b' }),
    );
    if (['grant_types', 'resources', 'contacts'].includes(member))
      return fc.oneof(
        scalar,
        fc.constant('client_credentials'),
        fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.constant({}), fc.constant([])), {
          minLength: 1,
          maxLength: 3,
        }),
      );
    if (member === 'jwks')
      return fc.oneof(
        fc.integer(),
        fc.boolean(),
        fc.constant('{"keys":[]}'),
        fc.constant([]),
        fc.array(fc.jsonValue(), { minLength: 1, maxLength: 2 }),
      );
    return fc.oneof(scalar, fc.array(fc.string(), { maxLength: 2 }));
  };

  /** JWK breakages; each makes the key set invalid. */
  const brokenJwk = (): fc.Arbitrary<{ label: string; keys: unknown[] }> => {
    const K = (label: string, ks: unknown[]) => ({ label, keys: ks });
    const ec = () => ({ ...keys.es256a.publicJwk });
    const rsa = () => ({ ...keys.rs256.publicJwk });
    const badB64 = fc.tuple(fc.constantFrom('*', '!', '$', '~', 'é', '\u{1F600}', '"'), fc.nat()).map(
      ([c, i]) =>
        (s: string) =>
          s.slice(0, i % s.length) + c + s.slice((i % s.length) + 1),
    );
    return fc.oneof(
      fc
        .tuple(
          fc.constantFrom('d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'),
          fc.oneof(fc.constant('AQAB'), fc.jsonValue({ maxDepth: 1 })),
        )
        .map(([m, v]) => ({ label: `private member ${m}`, keys: [{ ...ec(), [m]: v }] })),
      fc
        .oneof(fc.constantFrom<unknown>('oct', 'EC ', 'ec', 'RSA', 'OKP', 'AKP', '', 5, null), anyText(8))
        .filter((k) => k !== 'EC')
        .map((kty) => ({ label: `EC key with kty ${JSON.stringify(kty)}`, keys: [{ ...ec(), kty }] })),
      fc.constant(K('kty missing', [(({ kty: _k, ...rest }) => rest)(ec())])),
      fc
        .oneof(fc.constantFrom<unknown>('P-384', 'P-521', 'secp256k1', 'Ed25519', 'p-256', '', 5, null), anyText(8))
        .filter((c) => c !== 'P-256')
        .map((crv) => ({ label: `crv ${JSON.stringify(crv)}`, keys: [{ ...ec(), crv, alg: undefined }] })),
      fc
        .tuple(fc.constantFrom('x', 'y'), badB64)
        .map(([m, f]) => ({ label: `bad base64url in ${m}`, keys: [{ ...ec(), [m]: f(String(ec()[m as 'x'])) }] })),
      fc
        .tuple(fc.constantFrom('x', 'y'), fc.integer({ min: 1, max: 20 }))
        .map(([m, by]) => ({ label: `${m} too short`, keys: [{ ...ec(), [m]: String(ec()[m as 'x']).slice(by) }] })),
      fc
        .tuple(fc.constantFrom('x', 'y'), fc.constantFrom<unknown>(5, null, [], {}, ''))
        .map(([m, v]) => ({ label: `${m} of the wrong type`, keys: [{ ...ec(), [m]: v }] })),
      fc.constantFrom('x', 'y').map((m) => ({
        label: `${m} missing`,
        keys: [(({ [m]: _drop, ...rest }) => rest)(ec() as Record<string, unknown>)],
      })),
      fc.integer({ min: 2_100, max: 6_000 }).map((bytes) => ({
        label: `huge RSA n (${bytes * 8} bits)`,
        keys: [{ ...rsa(), n: Buffer.alloc(bytes, 0xc7).toString('base64url') }],
      })),
      fc.integer({ min: 64, max: 255 }).map((bytes) => ({
        label: `RSA n of ${bytes * 8} bits`,
        keys: [{ ...rsa(), n: Buffer.from(String(rsa().n), 'base64url').subarray(0, bytes).toString('base64url') }],
      })),
      fc
        .constantFrom<unknown>('', 'AA', 'AAAA', 5, null, 'AQAB!')
        .map((e) => ({ label: `RSA e ${JSON.stringify(e)}`, keys: [{ ...rsa(), e }] })),
      badB64.map((f) => ({ label: 'bad base64url in n', keys: [{ ...rsa(), n: f(String(rsa().n)) }] })),
      fc
        .constantFrom<unknown>('enc', '', 'SIG', 5)
        .map((use) => ({ label: `use ${JSON.stringify(use)}`, keys: [{ ...ec(), use }] })),
      fc.constant(K('duplicate kid', [keys.es256a.publicJwk, { ...keys.es256b.publicJwk, kid: keys.es256a.kid }])),
      fc
        .constantFrom<unknown>('', 5, null, {}, [])
        .map((kid) => ({ label: `kid ${JSON.stringify(kid)}`, keys: [{ ...ec(), kid }] })),
      fc
        .constantFrom<unknown>('HS256', 'ES384', 'RS256', 'none', 'EdDSA', '', 5)
        .map((alg) => ({ label: `alg ${JSON.stringify(alg)} on a P-256 key`, keys: [{ ...ec(), alg }] })),
      fc
        .constantFrom<unknown>(['encrypt'], ['sign'], 'verify', [], [5])
        .map((key_ops) => ({ label: `key_ops ${JSON.stringify(key_ops)}`, keys: [{ ...ec(), key_ops }] })),
      fc.constant(K('no keys', [])),
      fc.integer({ min: 17, max: 120 }).map((n) => ({
        label: `${n} keys`,
        keys: Array.from({ length: n }, (_, i) => ({ ...keys.es256a.publicJwk, kid: `k${i}` })),
      })),
      fc
        .constantFrom<unknown>('key', 5, null, [], [keys.es256a.publicJwk])
        .map((k) => ({ label: `a key that is ${JSON.stringify(k)?.slice(0, 20)}`, keys: [k] })),
      fc.constant(
        K('a symmetric key', [{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA', kid: 's' }]),
      ),
    );
  };

  /** One member made invalid. */
  function invalidCase(method: Method): fc.Arbitrary<MetaCase> {
    const members = [
      'client_name',
      'token_endpoint_auth_method',
      'token_endpoint_auth_signing_alg',
      'grant_types',
      'scope',
      'resources',
      'jwks',
      'jwks_uri',
      'contacts',
      'client_uri',
      'software_id',
      'software_version',
      'client_id',
      'client_secret',
    ];
    const bad = (label: string, patch: Body): MetaCase => ({ label, body: patch, error: 'invalid_client_metadata' });
    const options: fc.Arbitrary<MetaCase>[] = [
      fc.constantFrom(...members).chain((m) => wrongTypeFor(m).map((v) => bad(`${m} of the wrong type`, { [m]: v }))),
      fc
        .constantFrom<[string, number]>(
          ['client_name', 256],
          ['software_id', 256],
          ['software_version', 256],
          ['client_id', 65],
          ['client_secret', 257],
          ['token_endpoint_auth_signing_alg', 17],
        )
        .chain(([m, n]) =>
          fc
            .integer({ min: n, max: n + 2_000 })
            .map((len) => bad(`${m} longer than ${n - 1}`, { [m]: 'x'.repeat(len) })),
        ),
      fc
        .integer({ min: 2_049, max: 8_000 })
        .map((len) => bad('scope longer than 2048', { scope: 'statements:read '.repeat(Math.ceil(len / 16)) })),
      fc
        .constantFrom('client_uri', 'jwks_uri')
        .chain((m) =>
          fc
            .integer({ min: 2_049, max: 9_000 })
            .map((len) => bad(`${m} longer than 2048`, { [m]: `https://client.example/${'a'.repeat(len)}` })),
        ),
      fc
        .integer({ min: 321, max: 2_000 })
        .map((len) => bad('a contact longer than 320', { contacts: [`${'a'.repeat(len)}@example.com`] })),
      fc
        .integer({ min: 2_049, max: 9_000 })
        .map((len) => bad('a resource longer than 2048', { resources: [`https://api.example/${'a'.repeat(len)}`] })),
      fc
        .constantFrom<[string, unknown, number]>(
          ['contacts', 'a@example.com', 21],
          ['resources', 'https://api.example/', 21],
          ['grant_types', 'client_credentials', 11],
        )
        .chain(([m, v, n]) =>
          fc
            .integer({ min: n, max: n + 100 })
            .map((count) => bad(`${count} ${m}`, { [m]: Array.from({ length: count }, () => v) })),
        ),
      fc
        .oneof(
          fc.constantFrom(
            'none',
            'tls_client_auth',
            'self_signed_tls_client_auth',
            'CLIENT_SECRET_BASIC',
            'client_secret_basic ',
            '',
          ),
          anyText(30),
        )
        .filter((v) => !(METHODS as readonly string[]).includes(v))
        .map((v) => bad('unknown token_endpoint_auth_method', { token_endpoint_auth_method: v })),
      fc
        .constantFrom<unknown[]>(
          [],
          ['authorization_code'],
          ['client_credentials', 'implicit'],
          ['refresh_token'],
          [''],
        )
        .map((g) => bad('grant_types other than client_credentials', { grant_types: g })),
      fc
        .oneof(
          fc.constantFrom(
            'admin',
            'statements:read admin',
            'a"b',
            'a\\b',
            'é',
            'statements:read\tstatements:write',
            'statements:read\n',
          ),
          anyText(20).filter(
            (s) => s.trim() !== '' && !s.split(' ').every((x) => x === '' || SERVER_SCOPES.includes(x)),
          ),
        )
        .map((s) => bad('scope not offered or malformed', { scope: s })),
      fc
        .constantFrom(
          ['relative/path'],
          ['https://api.example/#f'],
          ['not a url'],
          ['https://api.example/', '#'],
          ['//api.example'],
        )
        .map((r) => bad('resources not absolute URIs without a fragment', { resources: r })),
      fc
        .constantFrom('ftp://client.example', 'javascript:alert(1)', 'not a url', 'mailto:a@b.c', 'client.example')
        .map((u) => bad('client_uri not http(s)', { client_uri: u })),
      fc
        .constantFrom<[string, unknown]>(
          ['client_name', 'a\u0000b'],
          ['software_id', '\u0000'],
          ['software_version', '1.0\u0000'],
          ['client_uri', 'https://client.example/\u0000'],
          ['contacts', ['a\u0000@example.com']],
          ['resources', ['https://api.example/\u0000']],
        )
        .map(([m, v]) => bad(`NUL in ${m}`, { [m]: v })),
      fc.constant<MetaCase>({
        label: 'software_statement',
        body: { software_statement: 'eyJhbGciOiJub25lIn0.e30.' },
        error: 'invalid_software_statement',
      }),
      fc.jsonValue({ maxDepth: 2 }).map((v): MetaCase => ({
        label: 'software_statement (any value)',
        body: { software_statement: v },
        error: 'invalid_software_statement',
      })),
    ];
    if (method === 'private_key_jwt') {
      options.push(
        brokenJwk().map(({ label, keys: ks }) =>
          bad(`jwks: ${label}`, {
            jwks: { keys: ks },
            jwks_uri: undefined,
            token_endpoint_auth_signing_alg: undefined,
          }),
        ),
        fc
          .constantFrom<unknown>({}, { keys: 'x' }, { keys: {} }, { keys: null }, { key: [] })
          .map((j) => bad('jwks without a keys array', { jwks: j, jwks_uri: undefined })),
        fc.constant(bad('neither jwks nor jwks_uri', { jwks: undefined, jwks_uri: undefined })),
        fc.constant(bad('NUL in jwks_uri', { jwks: undefined, jwks_uri: 'https://client.example/jwks\u0000' })),
        fc.constant(
          bad('both jwks and jwks_uri', {
            jwks: { keys: [keys.es256a.publicJwk] },
            jwks_uri: 'https://client.example/jwks',
          }),
        ),
        fc
          .constantFrom(
            'http://client.example/jwks',
            'https://user:pw@client.example/jwks',
            'https://client.example/jwks#f',
            'not a url',
            'file:///etc/passwd',
            'ftp://client.example/jwks',
          )
          .map((u) => bad('jwks_uri not https', { jwks: undefined, jwks_uri: u })),
        fc
          .oneof(fc.constantFrom('HS256', 'none', 'es256', 'RSA-OAEP', 'A128KW'), anyText(10))
          .filter(
            (a) =>
              ![
                'RS256',
                'RS384',
                'RS512',
                'PS256',
                'PS384',
                'PS512',
                'ES256',
                'ES384',
                'ES512',
                'EdDSA',
                'Ed25519',
              ].includes(a),
          )
          .map((alg) =>
            bad('token_endpoint_auth_signing_alg not asymmetric', {
              token_endpoint_auth_signing_alg: alg,
              jwks: undefined,
              jwks_uri: 'https://client.example/jwks',
            }),
          ),
        fc.constant(
          bad('signing alg that no registered key fits', {
            token_endpoint_auth_signing_alg: 'RS256',
            jwks: { keys: [keys.es256a.publicJwk] },
            jwks_uri: undefined,
          }),
        ),
      );
    } else {
      options.push(
        fc.constant(bad('jwks on a secret method', { jwks: { keys: [keys.es256a.publicJwk] } })),
        fc.constant(bad('jwks_uri on a secret method', { jwks_uri: 'https://client.example/jwks' })),
        fc
          .constantFrom('ES256', 'RS256', 'none', 'HS1')
          .map((alg) => bad('signing alg for this method', { token_endpoint_auth_signing_alg: alg })),
      );
    }
    return fc.oneof(...options);
  }

  /** Valid metadata, or valid metadata with one member broken. */
  const metaCase: fc.Arbitrary<MetaCase> = fc.constantFrom(...METHODS).chain((method) =>
    fc.oneof(
      {
        weight: 2,
        arbitrary: validMetadata(method).map((body): MetaCase => ({ label: `valid ${method}`, body, error: null })),
      },
      {
        weight: 3,
        arbitrary: fc.tuple(validMetadata(method), invalidCase(method)).map(([base, c]): MetaCase => {
          const body: Body = {
            ...base,
            ...c.body,
            token_endpoint_auth_method:
              'token_endpoint_auth_method' in c.body ? c.body.token_endpoint_auth_method : method,
          };
          for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
          return { ...c, label: `${method}: ${c.label}`, body };
        }),
      },
    ),
  );

  it(
    'POST /register with jwks: one broken key among valid ones → 400 invalid_client_metadata; random key objects → never a 5xx, never a private or unusable key registered',
    async () => {
      const valid = () =>
        fc.subarray([keys.es256a, keys.es384, keys.rs256, keys.ps256, keys.ed25519].map((k) => k.publicJwk));
      const broken = fc.tuple(valid(), brokenJwk(), fc.nat()).map(([good, bad, at]): MetaCase => {
        // (an empty set stays empty: that is the breakage)
        const ks: unknown[] =
          bad.keys.length === 0
            ? []
            : good.filter((k) => !bad.keys.some((b) => (b as { kid?: unknown })?.kid === k.kid));
        ks.splice(at % (ks.length + 1), 0, ...bad.keys);
        return {
          label: `jwks: ${bad.label}`,
          body: { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: ks } },
          error: 'invalid_client_metadata',
        };
      });
      const member = fc.constantFrom(
        'kty',
        'crv',
        'x',
        'y',
        'n',
        'e',
        'd',
        'alg',
        'use',
        'kid',
        'key_ops',
        'ext',
        'x5c',
        'k',
      );
      const memberValue = fc.oneof(
        fc.constantFrom<unknown>('EC', 'RSA', 'OKP', 'oct', 'P-256', 'Ed25519', 'AQAB', 'ES256', 'RS256', 'sig', [
          'verify',
        ]),
        fc.uint8Array({ minLength: 1, maxLength: 600 }).map((b) => Buffer.from(b).toString('base64url')),
        fc.jsonValue({ maxDepth: 1 }),
      );
      const randomKey = fc.dictionary(member, memberValue, { minKeys: 1, maxKeys: 8 });
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            broken.map((c) => ({ c, random: false })),
            fc.array(randomKey, { minLength: 1, maxLength: 3 }).map((ks) => ({
              c: {
                label: 'random keys',
                body: { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: ks } },
                error: null,
              } as MetaCase,
              random: true,
            })),
          ),
          async ({ c, random }) => {
            const res = await jsonPost(JSON.stringify(c.body));
            if (!random) return expectOutcome(res, c, 'POST');
            expectRegistrationResponse(res, 'POST', [201]);
            if (res.status === 201) {
              for (const k of res.json.jwks.keys) {
                expect(['RSA', 'EC', 'OKP']).toContain(k.kty);
                for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) expect(k[m]).toBeUndefined();
                if (k.kty === 'RSA') expect(Buffer.from(k.n, 'base64url').length * 8).toBeLessThanOrEqual(16_384);
              }
            } else expect(res.json.error).toBe('invalid_client_metadata');
          },
        ),
        fcParams(RUNS.jwks),
      );
    },
    propertyTimeout(RUNS.jwks),
  );

  function expectOutcome(res: RawResponse, c: MetaCase, method: 'POST' | 'PUT') {
    const success = method === 'POST' ? 201 : 200;
    expectRegistrationResponse(res, method, c.error === null ? [success] : []);
    if (c.error === null) {
      expect(res.status, `${c.label}: ${res.text.slice(0, 400)}\n${JSON.stringify(c.body).slice(0, 400)}`).toBe(
        success,
      );
      const m = (c.body.token_endpoint_auth_method as string | undefined) ?? 'client_secret_basic';
      expect(res.json.token_endpoint_auth_method).toBe(m);
      expect(typeof res.json.client_secret === 'string').toBe(SECRET_METHODS.includes(m));
      expect(typeof res.json.registration_access_token).toBe('string');
      expect(res.json.grant_types).toEqual(['client_credentials']);
    } else {
      expect(
        { status: res.status, error: res.json?.error },
        `${c.label}\n${JSON.stringify(c.body).slice(0, 600)}`,
      ).toEqual({ status: 400, error: c.error });
    }
  }

  it(
    'POST /register: valid metadata (every method, optional members, unknown members) → 201; one invalid member (type, length, value, JWK) → 400 invalid_client_metadata',
    async () => {
      const outcomes = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(metaCase, async (c) => {
          const res = await jsonPost(JSON.stringify(c.body));
          expectOutcome(res, c, 'POST');
          outcomes.set(c.error ?? 'valid', (outcomes.get(c.error ?? 'valid') ?? 0) + 1);
        }),
        fcParams(RUNS.metadata),
      );
      expect(outcomes.get('valid') ?? 0).toBeGreaterThan(RUNS.metadata / 10);
      expect(outcomes.get('invalid_client_metadata') ?? 0).toBeGreaterThan(RUNS.metadata / 3);
    },
    propertyTimeout(RUNS.metadata),
  );

  it(
    'PUT /register/:id: valid metadata → 200 (registration access token rotated), one invalid member or a server-owned member or a wrong client_id → 400, never a 5xx',
    async () => {
      // No admission ceiling: this property is about metadata validation (the ceiling has its own tests).
      const c0 = await t.clients.create(
        { tokenEndpointAuthMethod: 'client_secret_basic' },
        { withRegistrationToken: true, ceiling: { maxScope: null, maxResources: null } },
      );
      const state = { clientId: c0.client.clientId, rat: c0.registrationAccessToken! };
      const putCase = fc.oneof(
        { weight: 4, arbitrary: metaCase.map((c) => ({ c, extra: {} as Body })) },
        // RFC 7592 §2.2: server-owned members are refused before anything else.
        {
          weight: 1,
          arbitrary: fc
            .tuple(metaCase, fc.constantFrom(...SERVER_OWNED), fc.jsonValue({ maxDepth: 1 }))
            .map(([c, m, v]) => ({
              c: { ...c, label: `${c.label} + ${m}`, error: 'invalid_request' as const },
              extra: { [m]: v } as Body,
            })),
        },
        // client_id must name the client being updated.
        {
          weight: 1,
          arbitrary: fc
            .tuple(
              metaCase.filter((c) => c.error === null),
              fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
            )
            .map(([c, id]) => ({
              c: { ...c, label: `${c.label}, client_id ${JSON.stringify(id)}`, error: 'invalid_request' as const },
              extra: { client_id: id ?? '$omit' } as Body,
            })),
        },
      );
      await fc.assert(
        fc.asyncProperty(putCase, async ({ c, extra }) => {
          const body: Body = {
            ...c.body,
            client_id: 'client_id' in c.body ? c.body.client_id : state.clientId,
            ...extra,
          };
          if (body.client_id === '$omit') delete body.client_id;
          const res = await jsonPost(
            JSON.stringify(body),
            { authorization: `Bearer ${state.rat}` },
            `${endpoint()}/${encodeURIComponent(state.clientId)}`,
            'PUT',
          );
          expectOutcome(res, c, 'PUT');
          if (res.status === 200) {
            const old = state.rat;
            state.rat = res.json.registration_access_token;
            expect(state.rat).not.toBe(old);
          }
        }),
        fcParams(RUNS.update),
      );
    },
    propertyTimeout(RUNS.update),
  );

  it(
    'random bearer tokens, ids, methods and bodies on /register and /register/:id: never a registration, read, update or delete; 401 invalid_token',
    async () => {
      const victim = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
      const bearer = fc.oneof(
        fc.constant(undefined),
        fc.constantFrom(
          'Bearer',
          'Bearer ',
          `Basic ${victim.registrationAccessToken}`,
          `bearer  ${victim.registrationAccessToken.slice(1)}`,
          `Bearer ${victim.registrationAccessToken}x`,
          `Bearer ${iat.slice(0, -1)}`,
          `Bearer ${victim.registrationAccessToken.toUpperCase()}`,
        ),
        fc.base64String({ maxLength: 200 }).map((s) => `Bearer ${s}`),
        anyText(120).map((s) => `Bearer ${headerSafe(s)}`),
        hugeText(1_000, 6_000).map((s) => `Bearer ${headerSafe(s)}`),
        anyText(80).map(headerSafe),
      );
      const id = fc.oneof(
        fc.constant(victim.clientId),
        fc.constantFrom(
          '',
          '.',
          '..',
          '%2e%2e',
          '%00',
          'a%00b',
          '%E0%A4%A',
          '%',
          '%zz',
          '%2F',
          'x/y',
          '?',
          '#',
          ';',
          '\\',
        ),
        anyText(80).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, 'x'))),
        hugeText(65, 1_500).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, 'x'))),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('GET', 'PUT', 'DELETE', 'POST', 'PATCH', 'HEAD', 'OPTIONS'),
          id,
          bearer,
          fc.option(
            fc.oneof(
              anyJson().map(toJsonText),
              validMetadata('client_secret_basic').map((b) => JSON.stringify({ ...b, client_id: victim.clientId })),
            ),
            { nil: undefined },
          ),
          async (method, rawId, authorization, body) => {
            const url = method === 'POST' && rawId === '' ? endpoint() : `${endpoint()}/${rawId}`;
            const res = await send(url, {
              method,
              headers: Object.fromEntries(
                Object.entries({ 'content-type': 'application/json', authorization }).filter(
                  ([, v]) => v !== undefined,
                ),
              ) as Record<string, string>,
              body: method === 'GET' || method === 'HEAD' ? undefined : body,
            });
            const path = new URL(url).pathname;
            let decodable = true;
            try {
              decodeURIComponent(path);
            } catch {
              decodable = false;
            }
            if (res.status === 431 || res.status === 414) {
              // Node's answer to a request line + headers over 16 KiB, or Fastify's to a path parameter over 8 KiB.
              expect(res.text === '' || res.isJson).toBe(true);
              expect(res.text).not.toMatch(/\bat .*\.(js|ts):\d+|node_modules/);
              return;
            }
            if (!decodable) {
              // Malformed percent-encoding in the path: the router (Fastify or Express) refuses it (400) before Clavis runs.
              expectSafe(res, { method });
              expect([400, 404]).toContain(res.status);
              return;
            }
            if (res.status === 404 || method === 'OPTIONS') {
              // A route that does not exist (e.g. PATCH, POST /register/x): Nest's JSON 404, or Express's OPTIONS answer.
              expect(res.status).toBeLessThan(500);
              expect(res.text).not.toMatch(/\bat .*\.(js|ts):\d+|node_modules/);
              return;
            }
            expectRegistrationResponse(res, method, []);
            if (path === '/register' || path === '/register/') expect([400, 401]).toContain(res.status);
            else expect(res.status, `${method} ${url.slice(0, 100)} ${authorization?.slice(0, 60)}`).toBe(401);
          },
        ),
        fcParams(RUNS.access),
      );
      // The victim is untouched: its own token still reads it.
      const res = await send(`${endpoint()}/${victim.clientId}`, {
        headers: { authorization: `Bearer ${victim.registrationAccessToken}` },
      });
      expect(res.status).toBe(200);
    },
    propertyTimeout(RUNS.access),
  );
});
