import fc from 'fast-check';
import { expect } from 'vitest';

/**
 * Shared pieces of the property-based tests (test/e2e/property-*.e2e-spec.ts).
 *
 * Every property runs with a fixed seed, so CI is reproducible; a failure prints the seed, the
 * path and the shrunk counterexample (fast-check's report). More iterations:
 *   FC_RUNS=5000 npx vitest run test/e2e/property-
 * Another seed: FC_SEED=123 …; replay a reported failure: FC_SEED=<seed> (and the same FC_RUNS).
 */
export const FC_SEED = Number(process.env.FC_SEED ?? 20261127);

/** fast-check parameters: the fixed seed, and `FC_RUNS` (when set) instead of the default run count. */
export function fcParams(defaultRuns: number): { seed: number; numRuns: number } {
  return { seed: FC_SEED, numRuns: runs(defaultRuns) };
}

/** The run count of a property: `FC_RUNS` when set, else its default. */
export function runs(defaultRuns: number): number {
  return process.env.FC_RUNS ? Number(process.env.FC_RUNS) : defaultRuns;
}

/** A vitest timeout for a property of `defaultRuns` runs: scales with FC_RUNS (≈ 40 ms a run, at least 60 s). */
export function propertyTimeout(defaultRuns: number, msPerRun = 40): number {
  return Math.max(60_000, runs(defaultRuns) * msPerRun * 3);
}

/** RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 8707 §2 codes (429/503: temporarily_unavailable). */
export const OAUTH_ERROR_CODES = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'unsupported_token_type',
  'temporarily_unavailable',
]);

/** RFC 7591 §3.2.2 codes, plus RFC 6750 invalid_token (401) and the rate limiter's code. */
export const REGISTRATION_ERROR_CODES = new Set([
  'invalid_client_metadata',
  'invalid_redirect_uri',
  'invalid_software_statement',
  'unapproved_software_statement',
  'invalid_request',
  'invalid_token',
  'temporarily_unavailable',
]);

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
  /** Whether the body parsed as JSON. */
  isJson: boolean;
}

/**
 * One request with fetch; a hang (no answer within `timeoutMs`) fails the property. Bodies may be
 * strings or raw bytes; headers are sent as given (the caller keeps them to what HTTP can carry).
 */
export async function send(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
  timeoutMs = 15_000,
): Promise<RawResponse> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: init.headers,
      body: init.body as BodyInit | undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const err = e as Error & { cause?: { message?: string } };
    throw new Error(
      `request ${init.method ?? 'GET'} ${url.slice(0, 200)} failed (hang or connection error): ${err.name}: ${err.message} ${err.cause?.message ?? ''}`,
    );
  }
  const text = await res.text();
  let json: any;
  let isJson = false;
  try {
    json = JSON.parse(text);
    isJson = true;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, isJson };
}

/** Text that would reveal a stack trace or server internals. */
const STACK = /\bat .*\.(js|ts|mjs|cjs):\d+|node_modules|Error: .*\n\s+at /;

/** What every response of every endpoint must satisfy. */
export function expectSafe(res: RawResponse, ctx: { method?: string } = {}): void {
  expect(res.status, `5xx: ${res.text.slice(0, 500)}`).toBeLessThan(500);
  expect(res.text, 'stack trace in the body').not.toMatch(STACK);
  const method = (ctx.method ?? 'GET').toUpperCase();
  const bodyless = res.status === 204 || res.status === 304 || method === 'HEAD';
  if (bodyless) expect(res.text).toBe('');
  // Express answers OPTIONS itself with the allowed methods as text; everything else is JSON.
  else if (method !== 'OPTIONS') expect(res.isJson, `not JSON (${res.status}): ${res.text.slice(0, 200)}`).toBe(true);
}

/**
 * The invariants of /token, /introspect and /revoke: safe; errors exactly `{error, error_description}`
 * with a known code; `Cache-Control: no-store`; no `access_token` unless `tokenAllowed`.
 */
export function expectOAuthResponse(res: RawResponse, opts: { tokenAllowed?: boolean } = {}): void {
  expectSafe(res, { method: 'POST' });
  expect(res.headers.get('cache-control'), 'Cache-Control').toBe('no-store');
  if (res.status >= 400) {
    expect(Object.keys(res.json ?? {}).sort(), res.text).toEqual(['error', 'error_description']);
    expect(OAUTH_ERROR_CODES.has(res.json.error), `unknown error code ${res.json.error}`).toBe(true);
    expect(typeof res.json.error_description).toBe('string');
    if (res.status === 401) expect(res.json.error).toBe('invalid_client');
  } else expect(res.status).toBe(200);
  if (!opts.tokenAllowed) expect(res.json?.access_token, 'an access token for invalid input').toBeUndefined();
}

/**
 * The invariants of /register and /register/:id: safe; errors exactly `{error, error_description}`
 * with an RFC 7591/7592/6750 code; 401 with `WWW-Authenticate: Bearer error="invalid_token"`;
 * `Cache-Control: no-store`; `allowed` lists the success statuses acceptable for this input.
 */
export function expectRegistrationResponse(res: RawResponse, method: string, allowed: number[] = []): void {
  expectSafe(res, { method });
  if (method !== 'OPTIONS') expect(res.headers.get('cache-control'), 'Cache-Control').toBe('no-store');
  if (res.status >= 400 && method === 'HEAD') {
    if (res.status === 401) expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  } else if (res.status >= 400) {
    expect(Object.keys(res.json ?? {}).sort(), res.text).toEqual(['error', 'error_description']);
    expect(REGISTRATION_ERROR_CODES.has(res.json.error), `unknown error code ${res.json.error}`).toBe(true);
    expect(typeof res.json.error_description).toBe('string');
    if (res.status === 401) expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  } else expect(allowed, `unexpected success ${res.status}: ${res.text.slice(0, 300)}`).toContain(res.status);
}

/* ------------------------------------------------------------------ arbitraries */

/** Text of every kind: ASCII, full Unicode (incl. lone surrogates), control characters. */
export const anyText = (maxLength = 64): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({
      unit: fc.constantFrom(
        '%',
        '&',
        '=',
        '+',
        ';',
        ' ',
        '\0',
        '\r',
        '\n',
        '"',
        '\\',
        'é',
        '☃',
        '\u{1F600}',
        '\uD800',
        'a',
        '0',
        '.',
        ':',
        '/',
      ),
      maxLength,
    }),
  );

/** A huge string (up to `max` characters, of one repeated unit or random). */
export const hugeText = (min = 1_000, max = 20_000): fc.Arbitrary<string> =>
  fc.oneof(
    fc
      .tuple(fc.constantFrom('a', 'é', '☃', '%', '\u{1F600}', ' ', '=', '&'), fc.integer({ min, max }))
      .map(([c, n]) => c.repeat(Math.ceil(n / c.length))),
    fc.string({ minLength: min, maxLength: Math.min(max, min + 2_000) }),
  );

/** A header value HTTP (and fetch) can carry: Latin-1 without CR, LF, NUL; trimmed. */
export function headerSafe(s: string): string {
  return s.replace(/[^\x20-\x7e\x80-\xff\t]/g, (c) => String.fromCharCode(0x21 + (c.codePointAt(0)! % 94))).trim();
}

/** application/x-www-form-urlencoded encoding that never throws (lone surrogates become U+FFFD). */
export function formEncode(s: string): string {
  return new URLSearchParams([['', s]]).toString().slice(1);
}

/** Random `Authorization` header values: malformed Basic and Bearer, random schemes, random base64. */
export function authorizationHeader(clientIds: string[] = []): fc.Arbitrary<string | undefined> {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const idArb = fc.oneof(fc.constantFrom(...(clientIds.length ? clientIds : ['nobody'])), anyText(40));
  return fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(
      'Basic',
      'Basic ',
      'Basic =',
      'Basic ====',
      'Basic Og==',
      'Basic OjpkOg==',
      'basic  %%%',
      'Bearer',
      'Bearer ',
      'Digest username="x"',
      'Basic YTpi, Basic YTpi',
      'BASIC YWJjOmRlZg==',
      ' Basic   YTpi  ',
    ),
    fc.tuple(idArb, anyText(80)).map(([id, secret]) => `Basic ${b64(`${id}:${secret}`)}`),
    fc.tuple(idArb, anyText(80)).map(([id, secret]) => `Basic ${b64(`${formEncode(id)}:${formEncode(secret)}`)}`),
    anyText(80).map((s) => `Basic ${b64(s)}`),
    anyText(80).map((s) => `Basic ${headerSafe(s)}`),
    fc.uint8Array({ maxLength: 120 }).map((b) => `Basic ${Buffer.from(b).toString('base64')}`),
    anyText(200).map((s) => `Bearer ${headerSafe(s)}`),
    fc.base64String({ maxLength: 400 }).map((s) => `Bearer ${s}`),
    fc
      .tuple(fc.constantFrom('Basic', 'Bearer', 'DPoP', 'Negotiate', 'x'), anyText(100))
      .map(([scheme, s]) => `${scheme} ${headerSafe(s)}`),
    anyText(120).map(headerSafe),
    hugeText(2_000, 8_000).map((s) => `Basic ${b64(s)}`.slice(0, 8_000)),
  );
}

/** Content types, valid and not. */
export function contentType(valid: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(
      valid,
      valid.toUpperCase(),
      `${valid}; charset=utf-8`,
      `${valid};charset=ISO-8859-1`,
      ` ${valid} `,
      `${valid};`,
    ),
    fc.constantFrom(
      'application/json',
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/jwt',
      '*/*',
      '',
      ';',
      'application/json; charset=utf-16',
      'application/x-www-form-urlencodedx',
      'application/jsonx',
      'application/merge-patch+json',
    ),
    anyText(60).map(headerSafe),
  );
}

/** Names of the token-endpoint parameters, to make random forms hit real code paths. */
export const FORM_NAMES = [
  'grant_type',
  'scope',
  'resource',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'token',
  'token_type_hint',
  'audience',
  'username',
  'password',
  'code',
  'refresh_token',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'toString',
];

const FORM_VALUES = [
  'client_credentials',
  'password',
  'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  'statements:read',
  'statements:read statements:write',
  'https://api.example/',
  'access_token',
  'refresh_token',
  'null',
  'undefined',
  '[]',
  '{}',
  'a.b.c',
  'eyJhbGciOiJub25lIn0.e30.',
  '%',
  '%E0%A4%A',
];

/** A random form: names and values from the known set, random text, empty or huge; names may repeat. */
export function formEntries(
  opts: { clientIds?: string[]; maxEntries?: number } = {},
): fc.Arbitrary<[string, string][]> {
  const name = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...FORM_NAMES) },
    { weight: 2, arbitrary: anyText(30) },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: hugeText(500, 3_000) },
  );
  const value = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...FORM_VALUES, ...(opts.clientIds ?? [])) },
    { weight: 3, arbitrary: anyText(80) },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: hugeText(500, 12_000) },
  );
  return fc.array(fc.tuple(name, value), { maxLength: opts.maxEntries ?? 40 });
}

/** Encodes entries as application/x-www-form-urlencoded. */
export function encodeForm(entries: [string, string][]): string {
  const p = new URLSearchParams();
  for (const [k, v] of entries) p.append(k, v);
  return p.toString();
}

/** A raw "form-ish" body: random text built from the form syntax characters and broken escapes. */
export const rawFormText = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc
      .array(
        fc.constantFrom(
          'grant_type',
          'client_credentials',
          '=',
          '&',
          '%',
          '%2',
          '%zz',
          '%E0%A4%A',
          '%C0%AF',
          '%00',
          '+',
          ';',
          '[]',
          '[a]',
          'scope',
          'client_id',
          'é',
          '\u{1F600}',
          '\uD800',
          '\0',
        ),
        { maxLength: 60 },
      )
      .map((a) => a.join('')),
    fc.string({ unit: 'binary', maxLength: 300 }),
  );

/** Random bytes (up to `max`). */
export const rawBytes = (max = 20_000): fc.Arbitrary<Uint8Array> =>
  fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 1_000, maxLength: max }));

/** Base64url of a JSON value or a string. */
export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');
}

/** A JSON value of any kind, incl. deep nesting, huge strings and prototype-ish keys. */
export function anyJson(): fc.Arbitrary<unknown> {
  const key = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'valueOf',
      'hasOwnProperty',
      'keys',
      'length',
      '0',
      '',
    ),
  );
  return fc.oneof(
    { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    {
      weight: 2,
      arbitrary: fc.anything({
        maxDepth: 3,
        key,
        values: [fc.boolean(), fc.integer(), fc.double(), fc.string({ unit: 'grapheme' }), fc.constant(null)],
      }),
    },
    { weight: 1, arbitrary: fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 8 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 60 }).map((d) => nest(d)) },
    { weight: 1, arbitrary: hugeText(1_000, 80_000) },
  );
}

/** An object nested `depth` levels deep (alternating objects and arrays). */
export function nest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** JSON.stringify that keeps `undefined` out and can serialise a value JSON cannot (e.g. a bigint) as a string. */
export function toJsonText(value: unknown): string {
  try {
    const s = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    return s === undefined ? 'null' : s;
  } catch {
    return 'null';
  }
}

/** A strictly increasing counter, to keep `jti`s unique across runs. */
let counter = 0;
export function nextId(prefix = 'id'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
