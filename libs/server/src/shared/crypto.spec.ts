import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  constantEquals,
  hashSecret,
  KeyEncryption,
  KeyEncryptionKeyMismatchError,
  keyEncryptionKeyId,
  parseKek,
  parseKeks,
  randomToken,
  secretMatchesHash,
} from './crypto.js';

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
    expect(box).toMatch(/^v2\.[0-9a-f]{16}\./);
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

  describe('key-encryption key rotation (ADR 0013)', () => {
    const A = Buffer.alloc(32, 1).toString('base64url');
    const B = Buffer.alloc(32, 2).toString('hex');
    const idA = keyEncryptionKeyId(parseKek(A));
    const idB = keyEncryptionKeyId(parseKek(B));
    /** A value as the release before key ids wrote it: `v1.<iv>.<ct>.<tag>`, the context as AAD. */
    const legacyV1 = (key: string, plaintext: string, context: string) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', parseKek(key), iv);
      c.setAAD(Buffer.from(context, 'utf8'));
      const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return ['v1', iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
    };

    it('key ids: 16 hex characters, stable, distinct per key, domain-separated (not a plain SHA-256 prefix of the key)', () => {
      expect(idA).toMatch(/^[0-9a-f]{16}$/);
      expect(keyEncryptionKeyId(parseKek(A))).toBe(idA);
      expect(idB).not.toBe(idA);
      expect(hashSecret(A)).not.toContain(idA);
    });

    it('encrypts with the current (first) key and names it; a previous key still decrypts its values', () => {
      const old = new KeyEncryption(A).encrypt('s', 'ctx');
      expect(old.startsWith(`v2.${idA}.`)).toBe(true);
      const rotated = new KeyEncryption(`${B},${A}`);
      expect(rotated.keyIds).toEqual([idB, idA]);
      expect(rotated.decrypt(old, 'ctx')).toBe('s');
      expect(rotated.isCurrent(old)).toBe(false);
      const fresh = rotated.encrypt('t', 'ctx');
      expect(fresh.startsWith(`v2.${idB}.`)).toBe(true);
      expect(rotated.isCurrent(fresh)).toBe(true);
      const re = rotated.reEncrypt(old, 'ctx');
      expect(re.startsWith(`v2.${idB}.`)).toBe(true);
      expect(new KeyEncryption([B]).decrypt(re, 'ctx')).toBe('s');
    });

    it('a value under a key that is not configured: KeyEncryptionKeyMismatchError, one line, naming both key ids and never a key', () => {
      const box = new KeyEncryption(A).encrypt('secret', 'signing_key:k1');
      let error: unknown;
      try {
        new KeyEncryption(B).decrypt(box, 'signing_key:k1');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(KeyEncryptionKeyMismatchError);
      const e = error as KeyEncryptionKeyMismatchError;
      expect(e.dataKeyId).toBe(idA);
      expect(e.configuredKeyIds).toEqual([idB]);
      expect(e.message).not.toContain('\n');
      expect(e.message).toContain(idA);
      expect(e.message).toContain(idB);
      expect(e.message).toContain('signing_key:k1');
      expect(e.message).toMatch(/previous key/);
      for (const k of [A, B, parseKek(A).toString('hex'), parseKek(B).toString('base64url')])
        expect(e.message).not.toContain(k);
    });

    it('values written before key ids (v1) decrypt with whichever configured key opens them; none → mismatch with no key id', () => {
      const v1 = legacyV1(A, 'legacy', 'client_secret:c:1');
      expect(new KeyEncryption(A).decrypt(v1, 'client_secret:c:1')).toBe('legacy');
      const rotated = new KeyEncryption([B, A]);
      expect(rotated.decrypt(v1, 'client_secret:c:1')).toBe('legacy');
      expect(rotated.keyIdOf(v1, 'client_secret:c:1')).toBe(idA);
      expect(rotated.isCurrent(v1)).toBe(false);
      expect(rotated.reEncrypt(v1, 'client_secret:c:1').startsWith(`v2.${idB}.`)).toBe(true);
      // A v1 value under the current key is re-encrypted too (it gains a key id).
      expect(new KeyEncryption(A).isCurrent(v1)).toBe(false);
      expect(() => new KeyEncryption(B).decrypt(v1, 'client_secret:c:1')).toThrow(KeyEncryptionKeyMismatchError);
      expect(new KeyEncryption(B).keyIdOf(v1, 'client_secret:c:1')).toBeNull();
    });

    it("an altered value, another row's value, or a relabelled key id does not decrypt (and is not a key mismatch)", () => {
      const kek = new KeyEncryption([B, A]);
      const box = kek.encrypt('x', 'row:1');
      expect(() => kek.decrypt(box, 'row:2')).toThrow(/altered or belongs to another row/);
      const parts = box.split('.');
      parts[3] = Buffer.from('y').toString('base64url');
      expect(() => kek.decrypt(parts.join('.'), 'row:1')).toThrow(/altered/);
      // Claiming the other configured key (or the old format) does not open it either.
      const relabelled = box.replace(`v2.${idB}.`, `v2.${idA}.`);
      expect(() => kek.decrypt(relabelled, 'row:1')).toThrow(/altered/);
      const downgraded = `v1.${box.split('.').slice(2).join('.')}`;
      expect(() => kek.decrypt(downgraded, 'row:1')).toThrow(KeyEncryptionKeyMismatchError);
      expect(() => kek.decrypt('garbage', 'row:1')).toThrow(KeyEncryptionKeyMismatchError);
    });

    it('parseKeks: comma-separated or a list; refuses empty, malformed (by position, never echoing it), repeated, and more than 8 keys', () => {
      expect(parseKeks(`${A}, ${B}`)).toHaveLength(2);
      expect(parseKeks([A, B])).toHaveLength(2);
      expect(() => parseKeks('')).toThrow(/at least one key/);
      expect(() => parseKeks([])).toThrow(/at least one key/);
      expect(() => parseKeks(`${A},not-a-key`)).toThrow(/key 2 of 2 must be 32 bytes/);
      try {
        parseKeks(`${A},not-a-key`);
      } catch (e) {
        expect((e as Error).message).not.toContain('not-a-key');
        expect((e as Error).message).not.toContain(A);
      }
      expect(() => parseKeks([A, parseKek(A).toString('hex')])).toThrow(/key 2 repeats key 1/);
      expect(() => parseKeks(Array.from({ length: 9 }, () => randomBytes(32).toString('base64url')))).toThrow(
        /at most 8/,
      );
    });
  });
});
