import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertion, generateKey, type TestKey } from '../support/keys.js';
import {
  expectRegistrationError,
  registrationApi,
  startJwksServer,
  tokenWithAssertion,
  type JwksServer,
} from '../support/registration.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Client keys cost bounded CPU: RSA moduli of 2048–4096 bits with exponent 65537 only, at
 * registration (400 naming the key), on PUT, and from a jwks_uri (such keys are ignored, with an
 * audit event); at most one key is tried per assertion.
 */
const rsaJwk = (bits: number, kid: string): JWK => ({
  ...(generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' }) as JWK),
  kid,
  use: 'sig',
});
/** A JWK whose modulus has exactly `bits` bits (not a real key: the rule must refuse it before any import). */
const craftedRsa = (bits: number, kid: string, e = 'AQAB'): JWK => {
  const n = randomBytes(Math.ceil(bits / 8));
  n[0] = (1 << ((bits - 1) % 8)) | (n[0] & ((1 << ((bits - 1) % 8)) - 1));
  n[n.length - 1] |= 1;
  return { kty: 'RSA', n: n.toString('base64url'), e, kid, use: 'sig' };
};
const exponent = (value: bigint) =>
  Buffer.from(
    value.toString(16).padStart(value.toString(16).length + (value.toString(16).length % 2), '0'),
    'hex',
  ).toString('base64url');

describe('client keys: RSA 2048–4096 bits, exponent 65537', () => {
  let t: TestApp;
  let api: ReturnType<typeof registrationApi>;
  let ec: TestKey;
  let rsa2048: JWK;
  let rsa4096: JWK;

  beforeAll(async () => {
    t = await createTestApp();
    api = registrationApi(t);
    ec = await generateKey('ES256');
    rsa2048 = rsaJwk(2048, 'rsa-2048');
    rsa4096 = rsaJwk(4096, 'rsa-4096');
  });
  afterAll(async () => t?.close());

  const register = async (keys: JWK[]) => {
    const { token } = await t.initialTokens.create({ uses: 1 });
    return api.register({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys } }, token);
  };

  it('accepts RSA 2048 and 4096 with e = 65537', async () => {
    expect((await register([rsa2048])).status).toBe(201);
    expect((await register([ec.publicJwk, rsa4096])).status).toBe(201);
  });

  it.each([
    [
      'a 16384-bit modulus',
      () => craftedRsa(16_384, 'big'),
      /jwks key 1 \(kid "big"\).*2048 to 4096 bits \(this one has 16384\)/,
    ],
    ['a 4097-bit modulus', () => craftedRsa(4_097, 'big'), /jwks key 1 \(kid "big"\).*this one has 4097/],
    ['a 2047-bit modulus', () => craftedRsa(2_047, 'big'), /jwks key 1 \(kid "big"\).*this one has 2047/],
    [
      'a 2048-bit modulus padded with leading zero bytes to look longer',
      () => ({
        ...rsa2048,
        kid: 'big',
        n: Buffer.concat([Buffer.alloc(300), Buffer.from(rsa2048.n!, 'base64url')]).toString('base64url'),
      }),
      /jwks key 1 \(kid "big"\).*leading zero/,
    ],
    [
      'e = 2^64 - 1',
      () => ({ ...rsa2048, kid: 'big', e: exponent(2n ** 64n - 1n) }),
      /jwks key 1 \(kid "big"\).*exponent must be 65537/,
    ],
    ['e = 2^63 + 1', () => ({ ...rsa2048, kid: 'big', e: exponent(2n ** 63n + 1n) }), /exponent must be 65537/],
    ['e = 3', () => ({ ...rsa2048, kid: 'big', e: exponent(3n) }), /exponent must be 65537/],
    ['e = 65539', () => ({ ...rsa2048, kid: 'big', e: exponent(65_539n) }), /exponent must be 65537/],
  ])('refuses %s at registration: 400 invalid_client_metadata naming the key', async (_label, key, description) => {
    const res = await register([ec.publicJwk, key()]);
    expectRegistrationError(res, 400, 'invalid_client_metadata');
    expect(res.json.error_description).toMatch(description);
  });

  it('refuses such a key on PUT (RFC 7592) as well', async () => {
    const created = (await register([rsa2048])).json;
    const update = (keys: JWK[]) =>
      api.update(
        created.registration_client_uri,
        { client_id: created.client_id, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys } },
        created.registration_access_token,
      );
    const res = await update([rsa2048, craftedRsa(16_384, 'big')]);
    expectRegistrationError(res, 400, 'invalid_client_metadata');
    expect(res.json.error_description).toMatch(/jwks key 1 \(kid "big"\)/);
    expectRegistrationError(
      await update([{ ...rsa2048, e: exponent(2n ** 64n - 1n) }]),
      400,
      'invalid_client_metadata',
    );
  });
});

describe('keys from a jwks_uri that break the key rules are ignored, with an audit event', () => {
  let t: TestApp;
  let s: JwksServer;
  let good: TestKey;

  beforeAll(async () => {
    t = await createTestApp();
    s = await startJwksServer();
    good = await generateKey('ES256');
  });
  afterAll(async () => {
    await s?.stop();
    await t?.close();
  });

  it('a 16384-bit key and an e = 2^64 - 1 key beside a good one: the good one authenticates, the others are ignored and audited', async () => {
    const rsa = rsaJwk(2048, 'rsa-ok');
    s.keys = [craftedRsa(16_384, 'huge'), good.publicJwk, { ...rsa, kid: 'wide-e', e: exponent(2n ** 64n - 1n) }];
    const { token } = await t.initialTokens.create({ uses: 1 });
    const reg = await registrationApi(t).register(
      { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: s.url() },
      token,
    );
    expect(reg.status).toBe(201);
    const res = await tokenWithAssertion(
      t,
      await assertion(reg.json.client_id, good, t.issuer, { now: t.clock.nowSeconds() }),
    );
    expect(res.status, res.text).toBe(200);
    const ignored = t.audit.ofType('client.jwks_key_ignored');
    expect(ignored.map((e) => e.key)).toEqual(['0 (kid "huge")', '2 (kid "wide-e")']);
    expect(ignored[0]).toMatchObject({ jwksUri: s.url(), reason: expect.stringMatching(/2048 to 4096 bits/) });
    expect(ignored[1]).toMatchObject({ reason: expect.stringMatching(/exponent must be 65537/) });
  });

  it('a set with no usable key at all: invalid_client', async () => {
    s.route('/bad-only', (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [craftedRsa(8_192, 'only')] })),
    );
    const { token } = await t.initialTokens.create({ uses: 1 });
    const reg = await registrationApi(t).register(
      { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: s.url('/bad-only') },
      token,
    );
    const res = await tokenWithAssertion(
      t,
      await assertion(reg.json.client_id, good, t.issuer, { now: t.clock.nowSeconds() }),
    );
    expect({ status: res.status, error: res.json.error }).toEqual({ status: 401, error: 'invalid_client' });
  });
});
