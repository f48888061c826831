import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, generateSigningKey, startFakeIssuer, type FakeIssuer } from '../test/fake-issuer.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { BearerTokenError } from './bearer-token.error.js';
import { resolveResourceOptions, type ClavisResourceOptions } from './resource-options.js';

const T0 = Date.UTC(2030, 0, 1);

function fixedClock(now = T0) {
  return { now: () => now, advance: (seconds: number) => void (now += seconds * 1000) };
}

async function failure(promise: Promise<unknown>) {
  const e = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(BearerTokenError);
  const error = e as BearerTokenError;
  return { status: error.getStatus(), code: error.code, detail: error.detail };
}

describe('AccessTokenVerifier', () => {
  let issuer: FakeIssuer;
  const verifier = (options: Partial<ClavisResourceOptions> = {}) =>
    new AccessTokenVerifier(
      resolveResourceOptions({ issuer: issuer.url, audience: AUDIENCE, keySource: issuer.keySource, ...options }),
    );

  beforeAll(async () => {
    issuer = await startFakeIssuer();
  });
  afterAll(() => issuer.close());

  it('returns frozen claims and serves a repeated token from the cache', async () => {
    const clock = fixedClock();
    const v = verifier({ clock });
    const token = await issuer.token({ now: T0 });
    const claims = await v.verify(token);
    expect(claims).toMatchObject({
      iss: issuer.url,
      sub: 'client-1',
      client_id: 'client-1',
      aud: AUDIENCE,
      scope: 'statements:read',
    });
    expect(Object.isFrozen(claims)).toBe(true);
    expect(await v.verify(token)).toBe(claims);
    clock.advance(300 + 30); // exp + skew: a cached token expires too
    expect(await failure(v.verify(token))).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('re-verifies every time without a cache', async () => {
    const v = verifier({ clock: fixedClock(), cacheMaxEntries: 0 });
    const token = await issuer.token({ now: T0 });
    expect(await v.verify(token)).not.toBe(await v.verify(token));
  });

  it('reads the key source once for concurrent first requests', async () => {
    const before = issuer.counts.keySource;
    const v = verifier({ clock: fixedClock() });
    const tokens = await Promise.all([1, 2, 3].map(() => issuer.token({ now: T0 })));
    await Promise.all(tokens.map((t) => v.verify(t)));
    expect(issuer.counts.keySource - before).toBe(1);
  });

  it('re-reads the key source for an unknown kid at most once per cooldown', async () => {
    const clock = fixedClock();
    const v = verifier({ clock, jwksCooldown: 10 });
    await v.verify(await issuer.token({ now: T0 }));
    const before = issuer.counts.keySource;
    const next = await generateSigningKey('verifier-next');
    const token = await issuer.token({ now: T0, key: next });

    expect(await failure(v.verify(token))).toMatchObject({
      status: 401,
      code: 'invalid_token',
      detail: expect.stringContaining('ERR_JWKS_NO_MATCHING_KEY'),
    });
    expect(issuer.counts.keySource - before).toBe(0); // read 0 s ago: cooling down
    clock.advance(10);
    issuer.publish(next);
    expect((await v.verify(token)).sub).toBe('client-1');
    expect(issuer.counts.keySource - before).toBe(1);
  });

  it('answers 503 when the key source fails, and recovers', async () => {
    let fail = true;
    const v = verifier({
      clock: fixedClock(),
      keySource: {
        getKeySet: async () => (fail ? Promise.reject(new Error('db down')) : issuer.keySource.getKeySet()),
      },
    });
    const token = await issuer.token({ now: T0 });
    expect(await failure(v.verify(token))).toEqual({
      status: 503,
      code: 'temporarily_unavailable',
      detail: 'the key source failed (db down)',
    });
    fail = false;
    expect((await v.verify(token)).jti).toBeTypeOf('string');
  });

  it('consults isRevoked on every call, after the cache', async () => {
    const revoked = new Set<string>();
    const v = verifier({ clock: fixedClock(), isRevoked: async (jti) => revoked.has(jti) });
    const token = await issuer.token({ now: T0 });
    const { jti } = await v.verify(token);
    revoked.add(jti);
    expect(await failure(v.verify(token))).toEqual({
      status: 401,
      code: 'invalid_token',
      detail: `jti ${jti} is revoked`,
    });
  });

  it('with revocationCheckInterval, asks isRevoked about a token in use at most once per interval', async () => {
    const revoked = new Set<string>();
    let asked = 0;
    const clock = fixedClock();
    const v = verifier({
      clock,
      revocationCheckInterval: 2,
      isRevoked: async (jti) => (asked++, revoked.has(jti)),
    });
    const token = await issuer.token({ now: T0 });
    const { jti } = await v.verify(token);
    await v.verify(token);
    expect(asked).toBe(1);
    revoked.add(jti);
    clock.advance(1.999);
    expect((await v.verify(token)).jti, 'within the bound: the last answer stands').toBe(jti);
    expect(asked).toBe(1);
    clock.advance(0.001);
    expect(await failure(v.verify(token))).toMatchObject({ status: 401, detail: `jti ${jti} is revoked` });
    expect(asked).toBe(2);
    clock.advance(10);
    expect(await failure(v.verify(token))).toMatchObject({ status: 401 });
    expect(asked, 'a revoked token is refused without asking again').toBe(2);
  });

  it('asks again at once when revocationGeneration changes, or when the clock goes back', async () => {
    const revoked = new Set<string>();
    let generation = 0;
    let asked = 0;
    const clock = fixedClock();
    const v = verifier({
      clock,
      revocationCheckInterval: 60,
      revocationGeneration: () => generation,
      isRevoked: async (jti) => (asked++, revoked.has(jti)),
    });
    const token = await issuer.token({ now: T0 });
    const { jti } = await v.verify(token);
    clock.advance(-1);
    await v.verify(token);
    expect(asked).toBe(2);
    revoked.add(jti);
    generation++;
    expect(await failure(v.verify(token))).toMatchObject({ status: 401, detail: `jti ${jti} is revoked` });
    expect(asked).toBe(3);
  });

  it('rejects a revocationCheckInterval outside 0..60', () => {
    expect(() => verifier({ revocationCheckInterval: 61 })).toThrow(/revocationCheckInterval/);
    expect(() => verifier({ revocationCheckInterval: 0.5 })).toThrow(/revocationCheckInterval/);
  });

  it('answers 503 when isRevoked fails (fails closed)', async () => {
    const v = verifier({ clock: fixedClock(), isRevoked: () => Promise.reject(new Error('redis down')) });
    expect(await failure(v.verify(await issuer.token({ now: T0 })))).toEqual({
      status: 503,
      code: 'temporarily_unavailable',
      detail: 'isRevoked failed: redis down',
    });
  });

  it.each([
    ['no jti', { jti: undefined }, 'missing required "jti" claim'],
    ['no iat', { iat: undefined }, 'missing required "iat" claim'],
    ['a numeric sub', { sub: 42 }, '"sub" claim must be a non-empty string'],
    ['an empty client_id', { client_id: '' }, '"client_id" claim must be a non-empty string'],
    ['a scope list', { scope: ['statements:read'] }, '"scope" claim must be a string'],
    ['an iat in the future', { iat: T0 / 1000 + 31 }, '"iat" claim is in the future'],
    ['an nbf in the future', { nbf: T0 / 1000 + 31 }, '"nbf" claim timestamp check failed'],
  ])('rejects a token with %s', async (_, claims, reason) => {
    const v = verifier({ clock: fixedClock() });
    const result = await failure(v.verify(await issuer.token({ now: T0, claims })));
    expect(result).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(result.detail).toContain(reason);
  });

  it('accepts a token for any of the configured audiences', async () => {
    const v = verifier({ clock: fixedClock(), audience: ['https://one.example', 'https://two.example'] });
    const claims = await v.verify(await issuer.token({ now: T0, claims: { aud: 'https://two.example' } }));
    expect(claims.aud).toBe('https://two.example');
    const other = await failure(v.verify(await issuer.token({ now: T0 })));
    expect(other.detail).toContain('unexpected "aud" claim value');
  });

  it('rejects typ JWT, alg none, HS256 and a signature by another key, for the right reason', async () => {
    const v = verifier({ clock: fixedClock() });
    const valid = await issuer.token({ now: T0 });
    const [, payload] = valid.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
    const hs256 = await issuer.token({
      now: T0,
      key: { kid: 'k1', alg: 'HS256', privateKey: new Uint8Array(32), jwk: {} },
    });
    const impostor = await issuer.token({ now: T0, key: await generateSigningKey('k1') });
    const cases: [string, string][] = [
      [await issuer.token({ now: T0, header: { typ: 'JWT' } }), 'unexpected "typ" JWT header value'],
      [none, 'ERR_JOSE_ALG_NOT_ALLOWED'],
      [hs256, 'ERR_JOSE_ALG_NOT_ALLOWED'],
      [impostor, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
      [await issuer.token({ now: T0, claims: { iss: 'https://evil.example' } }), 'unexpected "iss" claim value'],
      [await issuer.token({ now: T0 - 400_000 }), 'ERR_JWT_EXPIRED'],
    ];
    for (const [token, reason] of cases) {
      const result = await failure(v.verify(token));
      expect(result).toMatchObject({ status: 401, code: 'invalid_token' });
      expect(result.detail).toContain(reason);
    }
  });

  it('rejects what is not a JWT', async () => {
    expect(await failure(verifier().verify('abc'))).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  describe('remote keys', () => {
    const remote = (options: Partial<ClavisResourceOptions> = {}) =>
      verifier({ keySource: undefined, clock: fixedClock(), ...options });

    it('discovers the jwks_uri once and fetches the JWK Set once for concurrent requests', async () => {
      const before = { ...issuer.counts };
      const v = remote();
      const tokens = await Promise.all([1, 2, 3, 4].map(() => issuer.token({ now: T0 })));
      const claims = await Promise.all(tokens.map((t) => v.verify(t)));
      expect(claims.map((c) => c.sub)).toEqual(['client-1', 'client-1', 'client-1', 'client-1']);
      expect(issuer.counts.discovery - before.discovery).toBe(1);
      expect(issuer.counts.jwks - before.jwks).toBe(1);
    });

    it('skips discovery with an explicit jwksUri', async () => {
      const before = { ...issuer.counts };
      await remote({ jwksUri: `${issuer.url}/jwks` }).verify(await issuer.token({ now: T0 }));
      expect(issuer.counts.discovery - before.discovery).toBe(0);
      expect(issuer.counts.jwks - before.jwks).toBe(1);
    });

    it('answers 503 when the metadata names another issuer (RFC 8414 §3.3), retrying only after the cooldown', async () => {
      const clock = fixedClock();
      const v = remote({ clock });
      const token = await issuer.token({ now: T0 });
      const before = issuer.counts.discovery;
      issuer.metadata.issuer = 'https://evil.example';
      try {
        expect(await failure(v.verify(token))).toEqual({
          status: 503,
          code: 'temporarily_unavailable',
          detail: `${issuer.url}/.well-known/oauth-authorization-server: issuer does not match ${issuer.url}`,
        });
        expect(await failure(v.verify(token))).toMatchObject({ status: 503 });
        expect(issuer.counts.discovery - before).toBe(1);
      } finally {
        issuer.metadata.issuer = issuer.url;
      }
      clock.advance(10);
      expect((await v.verify(token)).sub).toBe('client-1');
      expect(issuer.counts.discovery - before).toBe(2);
    });

    it('answers 503 when the JWK Set cannot be fetched', async () => {
      const v = remote({ jwksUri: 'http://127.0.0.1:1/jwks', jwksTimeout: 1 });
      expect(await failure(v.verify(await issuer.token({ now: T0 })))).toMatchObject({
        status: 503,
        code: 'temporarily_unavailable',
      });
    });
  });
});
