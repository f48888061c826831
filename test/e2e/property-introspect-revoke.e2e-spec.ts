import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic } from '../support/http.js';
import { flipSignatureBit } from '../support/jws.js';
import {
  anyText,
  authorizationHeader,
  b64url,
  contentType,
  encodeForm,
  expectOAuthResponse,
  fcParams,
  formEntries,
  propertyTimeout,
  rawBytes,
  rawFormText,
  send,
} from '../support/property.js';
import { createClient, createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Property-based tests of POST /introspect (RFC 7662) and POST /revoke (RFC 7009): random forms,
 * bodies and credentials never get past client authentication; random and mutated tokens are never
 * active and revoking them never touches a real token; real tokens are active until revoked.
 */
const FORM = 'application/x-www-form-urlencoded';
const RUNS = { randomRequests: 150, randomTokens: 150 };

describe('property: POST /introspect and POST /revoke', () => {
  let t: TestApp;
  let rs: { clientId: string; clientSecret: string };
  let owner: { clientId: string; clientSecret: string };
  let clientIds: string[];

  beforeAll(async () => {
    t = await createTestApp();
    rs = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    owner = await createClient(t, { tokenEndpointAuthMethod: 'client_secret_basic' });
    clientIds = [rs.clientId, owner.clientId];
  });
  afterAll(() => t.close());

  const url = (endpoint: 'introspect' | 'revoke') => `${t.baseUrl}/${endpoint}`;
  const post = (
    endpoint: 'introspect' | 'revoke',
    body: string | Uint8Array,
    headers: Record<string, string | undefined>,
  ) =>
    send(url(endpoint), {
      method: 'POST',
      body,
      headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>,
    });

  async function issueToken(): Promise<string> {
    const res = await send(t.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': FORM, ...basic(owner.clientId, owner.clientSecret) },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    return res.json.access_token;
  }
  const introspect = async (token: string) =>
    (
      await post('introspect', encodeForm([['token', token]]), {
        'content-type': FORM,
        ...basic(rs.clientId, rs.clientSecret),
      })
    ).json;

  it(
    'random forms, bodies, content types and credentials: never past client authentication, never active, never a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<'introspect' | 'revoke'>('introspect', 'revoke'),
          fc.oneof(
            { weight: 3, arbitrary: formEntries({ clientIds }).map(encodeForm) },
            { weight: 1, arbitrary: rawFormText() },
            { weight: 1, arbitrary: rawBytes(20_000) },
          ),
          fc.oneof({ weight: 3, arbitrary: fc.constant(FORM) }, { weight: 1, arbitrary: contentType(FORM) }),
          authorizationHeader(clientIds),
          async (endpoint, body, type, authorization) => {
            const res = await post(endpoint, body, { 'content-type': type, authorization });
            expectOAuthResponse(res);
            expect(res.status, res.text).not.toBe(200);
          },
        ),
        fcParams(RUNS.randomRequests),
      );
    },
    propertyTimeout(RUNS.randomRequests),
  );

  /** A token argument: random text, JWT-shaped junk, or a mutation of a real token. */
  type TokenCase =
    | { kind: 'random'; value: string }
    | { kind: 'flip'; bit: number }
    | { kind: 'truncate'; by: number }
    | { kind: 'resign-none' }
    | { kind: 'swap-payload'; claims: Record<string, unknown> }
    | { kind: 'real' };
  const tokenCase: fc.Arbitrary<TokenCase> = fc.oneof(
    fc
      .oneof(
        anyText(200),
        fc.constantFrom('', ' ', 'null', 'a.b.c', 'e30.e30.', 'e30.e30.e30', '....'),
        fc
          .tuple(fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }), fc.base64String({ maxLength: 100 }))
          .map(([h, p, s]) => `${b64url(h)}.${b64url(p)}.${s.replace(/=/g, '')}`),
      )
      .map((value): TokenCase => ({ kind: 'random', value })),
    fc.nat().map((bit): TokenCase => ({ kind: 'flip', bit })),
    fc.integer({ min: 1, max: 100 }).map((by): TokenCase => ({ kind: 'truncate', by })),
    fc.constant<TokenCase>({ kind: 'resign-none' }),
    fc
      .record({
        exp: fc.oneof(fc.integer(), fc.constant(9_999_999_999)),
        scope: fc.constantFrom('statements:read', 'admin'),
      })
      .map((claims): TokenCase => ({ kind: 'swap-payload', claims })),
    fc.constant<TokenCase>({ kind: 'real' }),
  );

  it(
    'authenticated callers with random or mutated tokens: {active:false} / 200 {} (revoking them never revokes the real token); real tokens are active until revoked',
    async () => {
      let realSeen = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<'introspect' | 'revoke'>('introspect', 'revoke'),
          tokenCase,
          fc.option(
            fc.oneof(fc.constantFrom('access_token', 'refresh_token', 'id_token', 'ACCESS_TOKEN', ''), anyText(20)),
            { nil: undefined },
          ),
          async (endpoint, tc, hint) => {
            const real = await issueToken();
            const [h, p, s] = real.split('.');
            let token: string;
            switch (tc.kind) {
              case 'random':
                token = tc.value;
                break;
              case 'flip':
                token = flipSignatureBit(real, tc.bit);
                break;
              case 'truncate':
                token = real.slice(0, real.length - tc.by);
                break;
              case 'resign-none':
                token = `${b64url({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), alg: 'none' })}.${p}.`;
                break;
              case 'swap-payload':
                token = `${h}.${b64url({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), ...tc.claims })}.${s}`;
                break;
              case 'real':
                token = real;
                realSeen++;
                break;
            }
            const entries: [string, string][] = [['token', token]];
            if (hint !== undefined) entries.push(['token_type_hint', hint]);
            const caller = endpoint === 'revoke' && tc.kind === 'real' ? owner : rs;
            const res = await post(endpoint, encodeForm(entries), {
              'content-type': FORM,
              ...basic(caller.clientId, caller.clientSecret),
            });
            expectOAuthResponse(res);

            // URLSearchParams turns lone surrogates into U+FFFD; the server sees a non-empty value whenever we sent one.
            const tokenOmitted = token === '';
            const hintGiven = hint !== undefined && hint !== '';
            if (endpoint === 'introspect') {
              if (tokenOmitted)
                expect({ status: res.status, error: res.json.error }).toEqual({
                  status: 400,
                  error: 'invalid_request',
                });
              else if (tc.kind === 'real')
                expect(res.json).toMatchObject({ active: true, client_id: owner.clientId, token_type: 'Bearer' });
              else
                expect({ status: res.status, body: res.json }, token).toEqual({ status: 200, body: { active: false } });
            } else {
              if (tokenOmitted)
                expect({ status: res.status, error: res.json.error }).toEqual({
                  status: 400,
                  error: 'invalid_request',
                });
              else {
                // token_type_hint, valid or not, never changes the outcome (RFC 7009 §2.1).
                expect({ status: res.status, body: res.json }).toEqual({ status: 200, body: {} });
                // A mutated token, or one revoked by another client, leaves the real token active; the owner's own revocation ends it.
                expect((await introspect(real)).active).toBe(tc.kind !== 'real');
              }
            }
          },
        ),
        fcParams(RUNS.randomTokens),
      );
      expect(realSeen).toBeGreaterThan(3);
    },
    propertyTimeout(RUNS.randomTokens, 80),
  );
});
