import { generateKeyPairSync } from 'node:crypto';
import { errors, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { ClientKeySet } from './client-key-set.js';

const ec = (extra: object = {}): JWK => ({
  ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as JWK),
  ...extra,
});
const rsa = (extra: object = {}): JWK => ({
  ...(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as JWK),
  ...extra,
});

describe('ClientKeySet.key: at most one key per assertion', () => {
  it('by kid when the header names one', () => {
    const [a, b] = [ec({ kid: 'a' }), ec({ kid: 'b' })];
    const set = new ClientKeySet({ keys: [a, b] });
    expect(set.key({ alg: 'ES256', kid: 'b' }).export({ format: 'jwk' }).x).toBe(b.x);
    expect(() => set.key({ alg: 'ES256', kid: 'c' })).toThrow(errors.JWKSNoMatchingKey);
    expect(() => set.key({ alg: 'ES256', kid: 5 })).toThrow(errors.JWKSNoMatchingKey);
  });

  it('without kid only when exactly one key fits the alg', () => {
    const set = new ClientKeySet({ keys: [ec({ kid: 'a' }), ec({ kid: 'b' }), rsa()] });
    expect(() => set.key({ alg: 'ES256' })).toThrow(errors.JWKSMultipleMatchingKeys);
    expect(set.key({ alg: 'RS256' }).asymmetricKeyType).toBe('rsa');
    expect(set.key({ alg: 'PS256' }).asymmetricKeyType).toBe('rsa');
    expect(() => set.key({ alg: 'ES384' })).toThrow(errors.JWKSNoMatchingKey);
  });

  it("a JWK's own alg, use and key_ops narrow the choice", () => {
    const set = new ClientKeySet({ keys: [rsa({ alg: 'PS256' }), rsa({ key_ops: ['encrypt'] }), rsa({ use: 'enc' })] });
    expect(() => set.key({ alg: 'RS256' })).toThrow(errors.JWKSNoMatchingKey);
    expect(set.key({ alg: 'PS256' }).asymmetricKeyType).toBe('rsa');
  });

  it('imports each key once', () => {
    const set = new ClientKeySet({ keys: [ec()] });
    expect(set.key({ alg: 'ES256' })).toBe(set.key({ alg: 'ES256' }));
  });
});
