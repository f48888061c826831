import { ClavisClientError } from '../errors.js';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { JWT_BEARER_ASSERTION_TYPE } from './assertion.js';
import { privateKeyJwt, type PrivateKey } from './private-key-jwt.js';

const issuer = 'https://as.example';
const now = Date.UTC(2030, 0, 1, 12);

async function sign(key: PrivateKey, options?: Parameters<typeof privateKeyJwt>[2]) {
  const { headers, body } = await privateKeyJwt('svc', key, options).authenticate({ issuer, now });
  expect(headers).toEqual({});
  expect(body).toMatchObject({
    client_id: 'svc',
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
  });
  return body.client_assertion;
}

async function verify(assertion: string, publicKey: CryptoKey | KeyObject): Promise<JWTPayload> {
  return (
    await jwtVerify(assertion, publicKey, {
      currentDate: new Date(now),
      issuer: 'svc',
      subject: 'svc',
      audience: issuer,
    })
  ).payload;
}

describe('privateKeyJwt', () => {
  it('signs with an ES256 CryptoKey: aud = issuer (a string), exp - iat ≤ 60, kid in the header', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const assertion = await sign(privateKey, { kid: 'k1' });
    expect(decodeProtectedHeader(assertion)).toEqual({
      alg: 'ES256',
      kid: 'k1',
    });
    const claims = await verify(assertion, publicKey);
    expect(claims.aud).toBe(issuer);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(60);
    expect(claims.iat).toBe(now / 1000);
  });

  it('gives every assertion a unique jti', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const auth = privateKeyJwt('svc', privateKey);
    const jtis = new Set<unknown>();
    for (let i = 0; i < 10; i++) {
      const { body } = await auth.authenticate({ issuer, now });
      jtis.add(JSON.parse(Buffer.from(body.client_assertion.split('.')[1], 'base64url').toString()).jti);
    }
    expect(jtis.size).toBe(10);
  });

  it('derives the algorithm from Node KeyObjects (RSA → RS256, P-384 → ES384, Ed25519 → EdDSA)', async () => {
    for (const [pair, alg] of [
      [generateKeyPairSync('rsa', { modulusLength: 2048 }), 'RS256'],
      [generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'ES384'],
      [generateKeyPairSync('ed25519'), 'EdDSA'],
    ] as const) {
      const assertion = await sign(pair.privateKey);
      expect(decodeProtectedHeader(assertion).alg).toBe(alg);
      await verify(assertion, pair.publicKey);
    }
  });

  it('derives the algorithm from CryptoKeys (PS384)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('PS384');
    const assertion = await sign(privateKey);
    expect(decodeProtectedHeader(assertion).alg).toBe('PS384');
    await verify(assertion, publicKey);
  });

  it('takes a private JWK, with its alg and kid', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', {
      extractable: true,
    });
    const jwk = {
      ...(await exportJWK(privateKey)),
      alg: 'ES256',
      kid: 'from-jwk',
    };
    const assertion = await sign(jwk);
    expect(decodeProtectedHeader(assertion)).toEqual({
      alg: 'ES256',
      kid: 'from-jwk',
    });
    await verify(assertion, publicKey);
    expect(decodeProtectedHeader(await sign(jwk, { kid: 'override' })).kid).toBe('override');
  });

  it('honours lifetime and audience', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const assertion = await sign(privateKey, {
      lifetime: 10,
      audience: 'https://as.example/token',
    });
    const { payload } = await jwtVerify(assertion, publicKey, {
      currentDate: new Date(now),
    });
    expect(payload.aud).toBe('https://as.example/token');
    expect(payload.exp! - payload.iat!).toBe(10);
  });

  it('refuses public keys, symmetric algorithms and long lifetimes', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', {
      extractable: true,
    });
    expect(() => privateKeyJwt('svc', publicKey)).toThrow(TypeError);
    const publicJwk = await exportJWK(publicKey);
    expect(() => privateKeyJwt('svc', publicJwk)).toThrow(TypeError);
    expect(() => privateKeyJwt('svc', privateKey, { alg: 'HS256' })).toThrow(TypeError);
    expect(() => privateKeyJwt('svc', privateKey, { lifetime: 120 })).toThrow(TypeError);
  });

  it('refuses a broken private JWK at construction with a ClavisClientError, not at the first request', async () => {
    const { privateKey } = await generateKeyPair('ES256', {
      extractable: true,
    });
    const jwk = await exportJWK(privateKey);
    for (const broken of [
      { ...jwk, d: 'not-a-scalar' },
      { ...jwk, x: 'AAAA' },
      { kty: 'RSA', n: 'AQAB', e: 'AQAB', d: 'AQAB' },
    ]) {
      let error: unknown;
      try {
        privateKeyJwt('svc', broken, {
          alg: broken.kty === 'RSA' ? 'RS256' : 'ES256',
        });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ClavisClientError);
      expect(error).toMatchObject({
        code: 'invalid_key',
        description: 'the private JWK cannot be imported',
      });
    }
  });
});
