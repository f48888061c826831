import { exportJWK, generateKeyPair, jwtVerify, type CryptoKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { createJwsBackend } from './create-jws-backend.js';
import { resolveCryptoMode } from './jws-backend.js';

describe('access-token JWS signer', () => {
  it.each(['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'])(
    '%s: inline and threadpool tokens verify with jose',
    async (alg) => {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const jwk = await exportJWK(privateKey);
      for (const mode of ['inline', 'threadpool'] as const) {
        const signer = createJwsBackend(mode).signer(alg, jwk, privateKey as CryptoKey);
        const token = await signer({ alg, kid: 'k1', typ: 'at+jwt' }, { sub: 'c', scope: 'a b', exp: 2_000_000_000 });
        const { payload, protectedHeader } = await jwtVerify(token, publicKey, { typ: 'at+jwt' });
        expect(protectedHeader).toEqual({ alg, kid: 'k1', typ: 'at+jwt' });
        expect(payload).toEqual({ sub: 'c', scope: 'a b', exp: 2_000_000_000 });
        // a flipped signature byte is rejected
        const [h, p, sig] = token.split('.');
        const bytes = Buffer.from(sig, 'base64url');
        bytes[10] ^= 0x01;
        const bad = `${h}.${p}.${bytes.toString('base64url')}`;
        await expect(jwtVerify(bad, publicKey)).rejects.toThrow();
      }
    },
  );
  it('auto follows the available parallelism', () => {
    expect(['inline', 'threadpool']).toContain(resolveCryptoMode('auto'));
    expect(resolveCryptoMode('inline')).toBe('inline');
  });
});
