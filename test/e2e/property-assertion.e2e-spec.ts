import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flipSignatureBit, rawJws, type Signer } from '../support/jws.js';
import { generateKey, JWT_BEARER, type TestKey } from '../support/keys.js';
import {
  anyJson,
  anyText,
  b64url,
  encodeForm,
  expectOAuthResponse,
  fcParams,
  nextId,
  propertyTimeout,
  send,
} from '../support/property.js';
import { startJwksServer, type JwksServer } from '../support/registration.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Property-based tests of client assertions at POST /token (private_key_jwt, client_secret_jwt):
 * random header members, claims of the wrong type, bit-flipped signatures, truncated and extra
 * segments. A model predicts valid/invalid for each mutation; valid → a token, invalid → 401
 * invalid_client, never a 5xx.
 */
const RUNS = { privateKeyJwt: 250, clientSecretJwt: 100, chaos: 120 };
const RESERVED_HEADER = new Set(['alg', 'kid', 'typ', 'crit', 'b64', 'zip', 'enc', 'cty']);
const REGISTERED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);
const ACCEPTED_TYP = [
  'JWT',
  'jwt',
  'client-authentication+jwt',
  'Client-Authentication+JWT',
  'application/client-authentication+jwt',
];

type Json = unknown;
/** What to do to a valid assertion; `valid` is the model's prediction. */
interface Case {
  label: string;
  valid: boolean;
  header?: Record<string, Json>;
  /** Header members to remove. */
  dropHeader?: string[];
  claims?: Record<string, Json>;
  dropClaims?: string[];
  /** A raw (possibly non-JSON) payload instead of the claims. */
  rawPayload?: string;
  signer?: 'registered' | 'attacker' | 'none' | 'hmac-random' | 'hmac-public' | 'empty';
  /** Applied to the finished compact JWS. */
  post?:
    | { kind: 'flip'; bit: number }
    | { kind: 'truncate'; segment: number; by: number }
    | { kind: 'extra'; segments: string[] }
    | { kind: 'replace'; value: string };
}

describe('property: client assertions at POST /token', () => {
  let t: TestApp;
  let pkKey: TestKey;
  let attacker: TestKey;
  let pkClient: { clientId: string };
  let uriClient: { clientId: string };
  let jwtClient: { clientId: string; clientSecret: string };
  let jwks: JwksServer;
  const now = () => t.clock.nowSeconds();

  beforeAll(async () => {
    t = await createTestApp();
    [pkKey, attacker] = await Promise.all([generateKey('ES256'), generateKey('ES256')]);
    pkClient = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [pkKey.publicJwk] } });
    jwks = await startJwksServer();
    jwks.keys = [pkKey.publicJwk];
    uriClient = await createClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: jwks.url() });
    jwtClient = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_jwt' });
  });
  afterAll(async () => {
    await jwks?.stop();
    await t?.close();
  });

  const withAssertion = (a: string) =>
    send(t.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: encodeForm([
        ['grant_type', 'client_credentials'],
        ['client_assertion_type', JWT_BEARER],
        ['client_assertion', a],
      ]),
    });

  /* ------------------------------------------------------------------ generators */

  const randomKey = fc.string({ minLength: 1, maxLength: 12 });
  const junkValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), anyText(40));
  const extraHeader = fc.dictionary(
    randomKey.filter((k) => !RESERVED_HEADER.has(k)),
    junkValue,
    { maxKeys: 4 },
  );
  const extraClaims = fc.dictionary(
    randomKey.filter((k) => !REGISTERED_CLAIMS.has(k)),
    junkValue,
    { maxKeys: 4 },
  );
  /** Values of the wrong JSON type for a NumericDate. */
  const notANumber = fc.oneof(fc.constantFrom<Json>('1', '', null, true, false, [], {}, [1], { v: 1 }), anyText(10));

  /** Valid assertions, varied within what the contract allows. */
  const validCase: fc.Arbitrary<Case> = fc
    .record({
      typ: fc.option(fc.constantFrom(...ACCEPTED_TYP), { nil: undefined }),
      kid: fc.boolean(),
      audArray: fc.boolean(),
      // Every valid case has iat (the default claims carry it): its life is bounded by iat, so exp may lie far ahead.
      exp: fc.oneof(
        fc.integer({ min: -29, max: 330 }),
        fc.double({ min: -29, max: 330, noNaN: true }),
        fc.integer({ min: 331, max: 100_000 }),
      ),
      iat: fc.option(fc.oneof(fc.integer({ min: -330, max: 30 }), fc.double({ min: -330, max: 30, noNaN: true })), {
        nil: undefined,
      }),
      nbf: fc.option(fc.integer({ min: -3_600, max: 30 }), { nil: undefined }),
      jtiLength: fc.oneof(fc.constant(undefined), fc.integer({ min: 40, max: 256 })),
      extraHeader,
      extraClaims,
      urls: fc.option(
        fc.record({
          jku: fc.constant('https://attacker.example/jwks'),
          x5u: fc.constant('https://attacker.example/x5u'),
        }),
        { nil: undefined },
      ),
    })
    .map((v) => ({
      label: 'valid',
      valid: true,
      header: { ...v.extraHeader, ...v.urls, ...(v.typ ? { typ: v.typ } : {}) },
      dropHeader: v.kid ? [] : ['kid'],
      claims: {
        ...v.extraClaims,
        exp: `now+${v.exp}`,
        ...(v.iat !== undefined ? { iat: `now+${v.iat}` } : {}),
        ...(v.nbf !== undefined ? { nbf: `now+${v.nbf}` } : {}),
        ...(v.audArray ? { aud: ['$issuer'] } : {}),
        ...(v.jtiLength ? { jti: `$jti:${v.jtiLength}` } : {}),
      },
      signer: 'registered',
    }));

  const invalid = (label: string, c: Omit<Case, 'label' | 'valid'>): Case => ({
    label,
    valid: false,
    signer: 'registered',
    ...c,
  });

  const headerCases: fc.Arbitrary<Case> = fc.oneof(
    fc.constant(invalid('alg none, unsigned', { header: { alg: 'none' }, signer: 'none' })),
    fc
      .constantFrom('HS256', 'HS384', 'HS512')
      .map((alg) => invalid(`alg ${alg} with a random key`, { header: { alg }, signer: 'hmac-random' })),
    fc.constant(
      invalid('HS256 keyed with the public JWK (alg confusion)', { header: { alg: 'HS256' }, signer: 'hmac-public' }),
    ),
    fc
      .constantFrom<Json>(
        'ES384',
        'ES512',
        'RS256',
        'PS256',
        'EdDSA',
        'Ed25519',
        'es256',
        'ES256 ',
        'ES256K',
        'A128KW',
        'dir',
        'RSA-OAEP',
        '',
        5,
        null,
        ['ES256'],
        { alg: 'ES256' },
      )
      .map((alg) => invalid(`alg ${JSON.stringify(alg)}`, { header: { alg } })),
    anyText(20)
      .filter((a) => a !== 'ES256')
      .map((alg) => invalid('alg random', { header: { alg } })),
    fc.constant(invalid('alg missing', { dropHeader: ['alg'] })),
    fc
      .oneof(anyText(40), fc.constantFrom<Json>(5, null, true, [], {}, ''))
      .filter((k) => k !== pkKey.kid)
      .map((kid) => invalid('kid unknown / wrong type', { header: { kid } })),
    fc
      .oneof(anyText(30), fc.constantFrom<Json>('at+jwt', 'JOSE', 'JWS', 'jwt ', '', 5, null, {}, ['JWT']))
      .filter(
        (typ) =>
          !(
            typeof typ === 'string' &&
            ['jwt', 'client-authentication+jwt', 'application/client-authentication+jwt'].includes(typ.toLowerCase())
          ),
      )
      .map((typ) => invalid('typ not accepted', { header: { typ } })),
    fc
      .constantFrom<Json>([], 'exp', ['exp'], ['kid'], ['alg'], ['x-unknown'], [''], [1], null, {}, ['x', 'x'], true)
      .map((crit) => invalid(`crit ${JSON.stringify(crit)}`, { header: { crit, 'x-unknown': 1 } })),
    fc
      .record({
        jku: fc.constantFrom('https://attacker.example/jwks', 'http://127.0.0.1:1/jwks'),
        x5u: fc.constant('https://attacker.example/cert'),
        embed: fc.boolean(),
        kid: fc.boolean(),
      })
      .map((v) =>
        invalid('signed by an attacker key advertised in jwk/jku/x5u', {
          header: {
            jku: v.jku,
            x5u: v.x5u,
            ...(v.embed ? { jwk: '$attacker-jwk' } : {}),
            ...(v.kid ? {} : { kid: 'attacker' }),
          },
          signer: 'attacker',
        }),
      ),
  );

  const claimCases: fc.Arbitrary<Case> = fc.oneof(
    notANumber.map((exp) => invalid('exp not a number', { claims: { exp } })),
    fc
      .oneof(
        fc.integer({ min: 331, max: 1_000_000 }),
        fc.double({ min: 330.5, max: 1e15, noNaN: true }),
        fc.constantFrom(1e300, 8.64e15),
      )
      .map((d) => invalid('exp too far ahead (no iat)', { claims: { exp: `now+${d}` }, dropClaims: ['iat'] })),
    fc
      .oneof(fc.integer({ min: 331, max: 1_000_000 }), fc.double({ min: 330.5, max: 1e12, noNaN: true }))
      .map((d) => invalid('iat more than the cap ago', { claims: { iat: `now+${-d}`, exp: 'now+3600' } })),
    fc
      .oneof(fc.integer({ min: -1_000_000, max: -30 }), fc.constantFrom(-1e300))
      .map((d) => invalid('exp in the past', { claims: { exp: `now+${d}` } })),
    fc.constantFrom<Json>(-1, 0, 1, 0.5).map((exp) => invalid('exp absolute small/negative', { claims: { exp } })),
    fc.constant(invalid('exp = 1e400 (Infinity)', { rawPayload: '$payload-with:"exp":1e400' })),
    fc.constant(invalid('exp = -1e400 (-Infinity)', { rawPayload: '$payload-with:"exp":-1e400' })),
    fc.constant(invalid('exp missing', { dropClaims: ['exp'] })),
    fc
      .constantFrom<Json>(
        { a: 1 },
        {},
        [],
        [1, 2],
        [1],
        [null],
        ['$issuer', '$issuer'],
        ['$issuer', 'https://evil.example'],
        '$token-endpoint',
        ['$token-endpoint'],
        '$issuer/',
        '',
        null,
        5,
        true,
      )
      .map((aud) => invalid(`aud ${JSON.stringify(aud)}`, { claims: { aud } })),
    anyText(40).map((aud) => invalid('aud random', { claims: { aud } })),
    fc.constant(invalid('aud missing', { dropClaims: ['aud'] })),
    fc
      .oneof(anyText(30), fc.constantFrom<Json>(5, null, [], {}, ''))
      .map((iss) => invalid('iss ≠ sub', { claims: { iss } })),
    fc
      .oneof(anyText(30), fc.constantFrom<Json>(5, null, [], {}, '$other-client'))
      .map((sub) => invalid('sub ≠ iss', { claims: { sub } })),
    fc
      .constantFrom<string[]>(['iss'], ['sub'], ['iss', 'sub'])
      .map((dropClaims) => invalid(`missing ${dropClaims.join('+')}`, { dropClaims })),
    fc
      .constantFrom<Json>('', 5, 0, null, true, [], {}, ['a'])
      .map((jti) => invalid(`jti ${JSON.stringify(jti)}`, { claims: { jti } })),
    fc.integer({ min: 257, max: 6_000 }).map((n) => invalid('jti longer than 256', { claims: { jti: `$jti:${n}` } })),
    fc.constant(invalid('jti missing', { dropClaims: ['jti'] })),
    fc
      .oneof(fc.integer({ min: 31, max: 10_000_000 }), fc.double({ min: 30.5, max: 1e12, noNaN: true }))
      .map((d) => invalid('iat in the future', { claims: { iat: `now+${d}` } })),
    notANumber.map((iat) => invalid('iat not a number', { claims: { iat } })),
    fc.integer({ min: 31, max: 10_000_000 }).map((d) => invalid('nbf in the future', { claims: { nbf: `now+${d}` } })),
    notANumber.map((nbf) => invalid('nbf not a number', { claims: { nbf } })),
    fc
      .oneof(
        fc.constantFrom('null', '[]', '"str"', '5', 'true', '{', '', '{"sub":"$client"', '[{"sub":"$client"}]'),
        anyText(50),
      )
      .map((rawPayload) => invalid('payload not a JSON object', { rawPayload })),
  );

  const structureCases: fc.Arbitrary<Case> = fc.oneof(
    fc.nat().map((bit) => invalid('signature bit flipped', { post: { kind: 'flip', bit } })),
    fc
      .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 200 }))
      .map(([segment, by]) => invalid('segment truncated', { post: { kind: 'truncate', segment, by } })),
    fc
      .array(
        fc.oneof(
          fc.constant(''),
          fc.base64String({ maxLength: 40 }).map((s) => s.replace(/=/g, '')),
          fc.constant('e30'),
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((segments) => invalid('extra segments', { post: { kind: 'extra', segments } })),
    fc.constant(invalid('empty signature', { signer: 'empty' })),
    fc
      .oneof(
        fc.constantFrom('', '.', '..', '...', 'a.b.c', 'e30.e30.', 'e30.e30.e30', '.e30.', 'eyJhbGciOiJub25lIn0..'),
        anyText(100),
      )
      .map((value) => invalid('garbage', { post: { kind: 'replace', value } })),
  );

  /* ------------------------------------------------------------------ building */

  /** Resolves the placeholders of a case and signs it. */
  async function build(
    c: Case,
    clientId: string,
    signing: { alg: string; kid?: string; registered: Signer },
  ): Promise<string> {
    const n = now();
    const resolve = (v: Json): Json => {
      if (typeof v === 'string') {
        if (v.startsWith('now+')) return n + Number(v.slice(4));
        if (v === '$issuer') return t.issuer;
        if (v === '$issuer/') return `${t.issuer}/`;
        if (v === '$token-endpoint') return t.tokenEndpoint;
        if (v === '$other-client') return jwtClient.clientId === clientId ? pkClient.clientId : jwtClient.clientId;
        if (v === '$attacker-jwk') return attacker.publicJwk;
        if (v.startsWith('$jti:')) return nextId('jti').padEnd(Number(v.slice(5)), 'x');
        if (v.includes('$client')) return v.replaceAll('$client', clientId);
        return v;
      }
      return Array.isArray(v) ? v.map(resolve) : v;
    };
    const header: Record<string, Json> = { alg: signing.alg, ...(signing.kid ? { kid: signing.kid } : {}) };
    for (const [k, v] of Object.entries(c.header ?? {})) header[k] = resolve(v);
    for (const k of c.dropHeader ?? []) delete header[k];
    const claims: Record<string, Json> = {
      iss: clientId,
      sub: clientId,
      aud: t.issuer,
      jti: nextId('jti'),
      iat: n,
      exp: n + 60,
    };
    for (const [k, v] of Object.entries(c.claims ?? {})) claims[k] = resolve(v);
    for (const k of c.dropClaims ?? []) delete claims[k];
    let payload: Json = claims;
    if (c.rawPayload !== undefined) {
      payload = c.rawPayload.startsWith('$payload-with:')
        ? `{"iss":${JSON.stringify(clientId)},"sub":${JSON.stringify(clientId)},"aud":${JSON.stringify(t.issuer)},"jti":${JSON.stringify(nextId('jti'))},${c.rawPayload.slice('$payload-with:'.length)}}`
        : (resolve(c.rawPayload) as string);
    }
    const signer: Signer =
      c.signer === 'attacker'
        ? { kind: 'ecdsa', key: attacker.privateKey, hash: 'SHA-256' }
        : c.signer === 'none' || c.signer === 'empty'
          ? { kind: 'none' }
          : c.signer === 'hmac-random'
            ? {
                kind: 'hmac',
                secret: crypto.getRandomValues(new Uint8Array(32)),
                hash:
                  ({ HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const)[header.alg as 'HS256'] ?? 'sha256',
              }
            : c.signer === 'hmac-public'
              ? { kind: 'hmac', secret: JSON.stringify(pkKey.publicJwk), hash: 'sha256' }
              : signing.registered;
    let jws = await rawJws(header, payload, signer);
    const p = c.post;
    if (p?.kind === 'flip') jws = flipSignatureBit(jws, p.bit);
    if (p?.kind === 'truncate') {
      const parts = jws.split('.');
      parts[p.segment] = parts[p.segment].slice(0, Math.max(0, parts[p.segment].length - p.by));
      jws = parts.join('.');
    }
    if (p?.kind === 'extra') jws = [jws, ...p.segments].join('.');
    if (p?.kind === 'replace') jws = p.value;
    return jws;
  }

  async function check(c: Case, a: string, outcomes: Map<string, number>) {
    const res = await withAssertion(a);
    expectOAuthResponse(res, { tokenAllowed: c.valid });
    if (c.valid) {
      expect(res.status, `${c.label}: ${res.text}\n${a}`).toBe(200);
      expect(typeof res.json.access_token).toBe('string');
    } else {
      expect({ status: res.status, error: res.json?.error }, `${c.label}\n${a}`).toEqual({
        status: 401,
        error: 'invalid_client',
      });
    }
    outcomes.set(c.valid ? 'valid' : 'invalid', (outcomes.get(c.valid ? 'valid' : 'invalid') ?? 0) + 1);
  }

  const es256 = (): Signer => ({ kind: 'ecdsa', key: pkKey.privateKey, hash: 'SHA-256' });

  it(
    'private_key_jwt (jwks and jwks_uri): each mutation of a valid assertion gets exactly the predicted outcome',
    async () => {
      const outcomes = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            { weight: 2, arbitrary: validCase },
            { weight: 2, arbitrary: headerCases },
            { weight: 3, arbitrary: claimCases },
            { weight: 1, arbitrary: structureCases },
          ),
          fc.boolean(),
          async (c, viaUri) => {
            const clientId = viaUri ? uriClient.clientId : pkClient.clientId;
            await check(c, await build(c, clientId, { alg: 'ES256', kid: pkKey.kid, registered: es256() }), outcomes);
          },
        ),
        fcParams(RUNS.privateKeyJwt),
      );
      expect(outcomes.get('valid') ?? 0).toBeGreaterThan(RUNS.privateKeyJwt / 10);
      expect(outcomes.get('invalid') ?? 0).toBeGreaterThan(RUNS.privateKeyJwt / 2);
    },
    propertyTimeout(RUNS.privateKeyJwt),
  );

  it('regression: NumericDates with a fraction (exp, iat, nbf) are valid — the replay store keeps whole seconds (was a 500 on PostgreSQL and Redis)', async () => {
    const n = now();
    for (const [exp, iat, nbf] of [
      [n + 60.5, n - 0.25, n - 1.75],
      [n + 0.001, n + 29.9, undefined],
      [n + 330, undefined, n + 30],
    ]) {
      const a = await rawJws(
        { alg: 'ES256', kid: pkKey.kid },
        { iss: pkClient.clientId, sub: pkClient.clientId, aud: t.issuer, jti: nextId(), exp, iat, nbf },
        es256(),
      );
      const res = await withAssertion(a);
      expectOAuthResponse(res, { tokenAllowed: true });
      expect(res.status, res.text).toBe(200);
    }
  });

  it(
    'client_secret_jwt: HS256/384/512 with the secret → token; any other key, alg or mutation → invalid_client',
    async () => {
      const outcomes = new Map<string, number>();
      const hmacAlg = fc.constantFrom('HS256', 'HS384', 'HS512');
      const secretCase = fc.oneof(
        fc.tuple(validCase, hmacAlg).map(([c, alg]) => ({ c, alg })),
        fc.tuple(fc.oneof(claimCases, structureCases), hmacAlg).map(([c, alg]) => ({ c, alg })),
        fc.tuple(hmacAlg, fc.constantFrom('wrong-secret', 'es256', 'none')).map(([alg, how]) => ({
          c:
            how === 'es256'
              ? invalid('ES256 for a secret client', { header: { alg: 'ES256' }, signer: 'attacker' })
              : how === 'none'
                ? invalid('alg none', { header: { alg: 'none' }, signer: 'none' })
                : invalid('wrong secret', { signer: 'hmac-random' }),
          alg,
        })),
      );
      await fc.assert(
        fc.asyncProperty(secretCase, async ({ c, alg }) => {
          const hash = ({ HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const)[alg as 'HS256'];
          const a = await build({ ...c, dropHeader: [...(c.dropHeader ?? []), 'kid'] }, jwtClient.clientId, {
            alg,
            registered: { kind: 'hmac', secret: jwtClient.clientSecret, hash },
          });
          await check(c, a, outcomes);
        }),
        fcParams(RUNS.clientSecretJwt),
      );
      expect(outcomes.get('valid') ?? 0).toBeGreaterThan(5);
      expect(outcomes.get('invalid') ?? 0).toBeGreaterThan(RUNS.clientSecretJwt / 3);
    },
    propertyTimeout(RUNS.clientSecretJwt),
  );

  it(
    'chaos: random header and claims (any JSON, any type) signed with an unregistered key → never a token, never a 5xx',
    async () => {
      const header = fc.oneof(
        fc.dictionary(
          fc.oneof(
            fc.constantFrom(
              'alg',
              'kid',
              'typ',
              'crit',
              'jku',
              'x5u',
              'jwk',
              'x5c',
              'b64',
              'zip',
              'enc',
              'cty',
              '__proto__',
            ),
            fc.string({ maxLength: 8 }),
          ),
          fc.oneof(fc.constantFrom<Json>('ES256', 'none', 'HS256', 'RS256', pkKey.kid), anyJson()),
          { maxKeys: 6 },
        ),
        anyJson(),
      );
      const claims = fc.oneof(
        fc.dictionary(
          fc.oneof(
            fc.constantFrom('iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', '__proto__'),
            fc.string({ maxLength: 8 }),
          ),
          fc.oneof(fc.constantFrom<Json>('$client', '$issuer', 'now+60'), anyJson()),
          { maxKeys: 8 },
        ),
        anyJson(),
      );
      const signer = fc.constantFrom<Signer['kind'] | 'attacker'>('attacker', 'none', 'hmac', 'bytes');
      await fc.assert(
        fc.asyncProperty(
          header,
          claims,
          signer,
          fc.constantFrom(pkClient, uriClient, jwtClient),
          fc.uint8Array({ maxLength: 600 }),
          async (h, cl, how, client, bytes) => {
            const n = now();
            const fix = (v: Json): Json =>
              v === '$client' ? client.clientId : v === '$issuer' ? t.issuer : v === 'now+60' ? n + 60 : v;
            const hh =
              h && typeof h === 'object' && !Array.isArray(h)
                ? Object.fromEntries(Object.entries(h).map(([k, v]) => [k, fix(v)]))
                : h;
            const cc =
              cl && typeof cl === 'object' && !Array.isArray(cl)
                ? Object.fromEntries(Object.entries(cl).map(([k, v]) => [k, fix(v)]))
                : cl;
            const s: Signer =
              how === 'attacker'
                ? { kind: 'ecdsa', key: attacker.privateKey, hash: 'SHA-256' }
                : how === 'hmac'
                  ? { kind: 'hmac', secret: 'not-the-secret', hash: 'sha256' }
                  : how === 'bytes'
                    ? { kind: 'bytes', bytes }
                    : { kind: 'none' };
            const a = await rawJws(
              typeof hh === 'string' ? JSON.stringify(hh) : (hh ?? null),
              typeof cc === 'string' ? JSON.stringify(cc) : (cc ?? null),
              s,
            );
            const res = await withAssertion(a);
            expectOAuthResponse(res);
            // Over the 16 KiB form limit the body is refused before authentication.
            const tooLarge =
              encodeForm([
                ['grant_type', 'client_credentials'],
                ['client_assertion_type', JWT_BEARER],
                ['client_assertion', a],
              ]).length > 16_384;
            expect({ status: res.status, error: res.json?.error }, a.slice(0, 300)).toEqual(
              tooLarge ? { status: 413, error: 'invalid_request' } : { status: 401, error: 'invalid_client' },
            );
          },
        ),
        fcParams(RUNS.chaos),
      );
      // sanity: the building blocks produce a valid assertion when nothing is random
      const ok = await rawJws(
        { alg: 'ES256', kid: pkKey.kid },
        { iss: pkClient.clientId, sub: pkClient.clientId, aud: t.issuer, jti: nextId(), exp: now() + 60 },
        es256(),
      );
      expect((await withAssertion(ok)).status).toBe(200);
      expect(b64url({})).toBe('e30');
    },
    propertyTimeout(RUNS.chaos),
  );
});
