import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { decodeJws, JwsFormatError } from './compact-jws.js';
import { verifyAsymmetric, verifyHmac } from './inline.jws-backend.js';

const keyPair = async (alg: string, opts: object = {}) => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...opts });
  return { privateKey, publicKey: createPublicKey({ key: (await exportJWK(publicKey)) as JsonWebKey, format: 'jwk' }) };
};
const sign = (alg: string, key: Parameters<SignJWT['sign']>[0], header: object = {}) =>
  new SignJWT({ sub: 'c' }).setProtectedHeader({ alg, ...header }).sign(key);

describe('inline JWS verification', () => {
  it.each(['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'PS512', 'EdDSA'])(
    '%s: a jose signature verifies; a flipped byte does not',
    async (alg) => {
      const { privateKey, publicKey } = await keyPair(alg);
      const jws = decodeJws(await sign(alg, privateKey));
      expect(verifyAsymmetric(alg, jws, publicKey)).toBe(true);
      jws.signature[5] ^= 1;
      expect(verifyAsymmetric(alg, jws, publicKey)).toBe(false);
    },
  );

  it('a key of the wrong type or curve never verifies (algorithm confusion)', async () => {
    const es256 = await keyPair('ES256');
    const es384 = await keyPair('ES384');
    const rsa = await keyPair('RS256');
    const token = decodeJws(await sign('ES256', es256.privateKey));
    expect(verifyAsymmetric('ES384', token, es256.publicKey)).toBe(false);
    expect(verifyAsymmetric('ES256', token, es384.publicKey)).toBe(false);
    expect(verifyAsymmetric('ES256', token, rsa.publicKey)).toBe(false);
    expect(verifyAsymmetric('RS256', decodeJws(await sign('RS256', rsa.privateKey)), es256.publicKey)).toBe(false);
    expect(verifyAsymmetric('HS256', token, es256.publicKey)).toBe(false);
    expect(verifyAsymmetric('none', token, es256.publicKey)).toBe(false);
  });

  it('HMAC: the right secret verifies, another does not, and an asymmetric alg is never HMAC', async () => {
    const secret = new TextEncoder().encode('s'.repeat(64));
    const jws = decodeJws(await sign('HS256', secret));
    expect(verifyHmac('HS256', jws, secret)).toBe(true);
    expect(verifyHmac('HS256', jws, new TextEncoder().encode('t'.repeat(64)))).toBe(false);
    expect(verifyHmac('HS384', jws, secret)).toBe(false);
    expect(verifyHmac('ES256', jws, secret)).toBe(false);
  });

  it('rejects malformed compact serialisations, crit and b64', async () => {
    const secret = new TextEncoder().encode('s'.repeat(64));
    const ok = await sign('HS256', secret);
    for (const bad of [
      'a.b',
      `${ok}.x`,
      ok.replace('.', '..'),
      `${ok.split('.')[0]}.%%%.${ok.split('.')[2]}`,
      `bnVsbA.${ok.split('.')[1]}.${ok.split('.')[2]}`,
      `W10.${ok.split('.')[1]}.${ok.split('.')[2]}`,
    ])
      expect(() => decodeJws(bad), bad).toThrow(JwsFormatError);
    const crit = Buffer.from(JSON.stringify({ alg: 'HS256', crit: ['exp'], exp: 1 })).toString('base64url');
    expect(() => decodeJws(`${crit}.${ok.split('.')[1]}.${ok.split('.')[2]}`)).toThrow(/crit/);
    const b64 = Buffer.from(JSON.stringify({ alg: 'HS256', b64: false })).toString('base64url');
    expect(() => decodeJws(`${b64}.${ok.split('.')[1]}.${ok.split('.')[2]}`)).toThrow(/b64/);
  });
});
