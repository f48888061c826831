import { describe, expect, it } from 'vitest';
import { constantEquals, hashSecret, KeyEncryption, parseKek, randomToken, secretMatchesHash } from './crypto.js';

const KEK = Buffer.alloc(32, 7).toString('base64url');

describe('crypto helpers', () => {
  it('randomToken is 256 bits of base64url and never repeats', () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(new Set(Array.from({ length: 1000 }, () => randomToken())).size).toBe(1000);
  });

  it('hashSecret / secretMatchesHash', () => {
    const s = randomToken();
    const h = hashSecret(s);
    expect(h).not.toContain(s);
    expect(secretMatchesHash(s, h)).toBe(true);
    expect(secretMatchesHash(`${s}x`, h)).toBe(false);
    expect(secretMatchesHash(s, 'short')).toBe(false);
  });

  it('constantEquals', () => {
    expect(constantEquals('abc', 'abc')).toBe(true);
    expect(constantEquals('abc', 'abd')).toBe(false);
    expect(constantEquals('abc', 'abcd')).toBe(false);
  });

  it('KeyEncryption round-trips and binds the context', () => {
    const kek = new KeyEncryption(KEK);
    const box = kek.encrypt('the secret', 'client:1');
    expect(box).toMatch(/^v1\./);
    expect(box).not.toContain('the secret');
    expect(kek.decrypt(box, 'client:1')).toBe('the secret');
    expect(() => kek.decrypt(box, 'client:2')).toThrow();
    expect(() => new KeyEncryption(Buffer.alloc(32, 8).toString('base64url')).decrypt(box, 'client:1')).toThrow();
    expect(kek.encrypt('x', 'c')).not.toBe(kek.encrypt('x', 'c'));
  });

  it('parseKek accepts 32 bytes as base64url or hex only', () => {
    expect(parseKek(KEK)).toHaveLength(32);
    expect(parseKek('ab'.repeat(32))).toHaveLength(32);
    expect(() => parseKek('too-short')).toThrow(/32 bytes/);
  });
});
