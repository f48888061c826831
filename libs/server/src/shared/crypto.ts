import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A 256-bit random value, base64url (43 characters). Used for secrets and tokens. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * A random identifier (128 bits) in lowercase hex: safe in URLs, shells and command lines (a
 * base64url id may begin with `-`, which argument parsers read as an option).
 */
export function randomId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * SHA-256 of a high-entropy value, base64url. A fast hash is the right tool for 256-bit random
 * secrets: there is nothing to brute-force, and the hot path stays cheap.
 */
export function hashSecret(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** Constant-time equality of two strings (compares their SHA-256 digests, so lengths leak nothing). */
export function constantEquals(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/** Constant-time check of a presented secret against a stored `hashSecret()` value. */
export function secretMatchesHash(presented: string, storedHash: string): boolean {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  const stored = Buffer.from(storedHash, 'base64url');
  return stored.length === digest.length && timingSafeEqual(digest, stored);
}

/**
 * AES-256-GCM envelope with a key-encryption key (KEK). `context` is bound as additional
 * authenticated data, so a ciphertext moved to another row does not decrypt.
 * Format: `v1.<iv>.<ciphertext>.<tag>` (base64url parts).
 */
export class KeyEncryption {
  private readonly key: Buffer;

  constructor(kek: string) {
    this.key = parseKek(kek);
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  decrypt(envelope: string, context: string): string {
    const [v, iv, ct, tag] = envelope.split('.');
    if (v !== 'v1' || !iv || ct === undefined || !tag) throw new Error('unrecognised ciphertext format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** Parses a KEK: 32 bytes as base64url/base64 (43–44 chars) or hex (64 chars). */
export function parseKek(kek: string): Buffer {
  const trimmed = kek.trim();
  const buf = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64url');
  if (buf.length !== 32) throw new Error('keyEncryptionKey must be 32 bytes (base64url or hex)');
  return buf;
}
