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

/** How many key-encryption keys (current + previous) one configuration may hold. */
const MAX_KEY_ENCRYPTION_KEYS = 8;

/**
 * The public identifier of a key-encryption key: the first 8 bytes of SHA-256 over a
 * domain-separation label and the key, in hex (16 characters). It names a key in ciphertexts,
 * logs and error messages without revealing it (the key is 256 random bits: nothing to guess).
 * @see docs/adr/0013-key-encryption-key-rotation.md
 */
export function keyEncryptionKeyId(key: Buffer): string {
  return createHash('sha256')
    .update('clavis key-encryption key id v1\0', 'utf8')
    .update(key)
    .digest()
    .subarray(0, 8)
    .toString('hex');
}

/**
 * A stored value does not decrypt because it was encrypted with a key-encryption key that is not
 * configured. `dataKeyId` names that key (null for a value written before key ids, which no
 * configured key opens); the message is one line and names the way out. Never carries a key.
 */
export class KeyEncryptionKeyMismatchError extends Error {
  constructor(
    /** What the value is, e.g. `signing_key:<kid>` or `client_secret:<client_id>:<id>`. */
    readonly valueContext: string,
    readonly dataKeyId: string | null,
    /** The configured key ids, current first. */
    readonly configuredKeyIds: readonly string[],
  ) {
    const data = dataKeyId
      ? `key-encryption key ${dataKeyId}`
      : 'a key-encryption key that is not configured (the value predates key ids, and no configured key opens it)';
    const configured = configuredKeyIds.map((id, i) => `${id} (${i === 0 ? 'current' : 'previous'})`).join(', ');
    super(
      `the stored data was encrypted with another key-encryption key: ${valueContext} is under ${data}, but the configured keyEncryptionKey holds ${configured}. ` +
        `Configure the key${dataKeyId ? ` with id ${dataKeyId}` : ' it was written with'} (as the current key, or as a previous key after the current one), or start from an empty database.`,
    );
    this.name = 'KeyEncryptionKeyMismatchError';
  }
}

/**
 * AES-256-GCM envelopes under a list of key-encryption keys (KEKs): the first is the current key,
 * which encrypts; the others are previous keys, which only decrypt (during a rotation). `context`
 * is bound as additional authenticated data, so a ciphertext moved to another row does not decrypt.
 *
 * Format: `v2.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts; the version and key id are
 * authenticated too). Values written before key ids, `v1.<iv>.<ciphertext>.<tag>`, stay readable:
 * each configured key is tried, current first (GCM's tag tells a wrong key apart).
 * @see docs/adr/0013-key-encryption-key-rotation.md
 */
export class KeyEncryption {
  /** Key ids, current first. */
  readonly keyIds: readonly string[];
  private readonly keys: ReadonlyMap<string, Buffer>;

  /** `keys`: the current key first, then previous keys; a string may list them comma-separated. */
  constructor(keys: string | readonly string[]) {
    const parsed = parseKeks(keys);
    this.keys = new Map(parsed.map((k) => [keyEncryptionKeyId(k), k]));
    this.keyIds = Object.freeze([...this.keys.keys()]);
  }

  /** The id of the key that encrypts. */
  get currentKeyId(): string {
    return this.keyIds[0]!;
  }

  encrypt(plaintext: string, context: string): string {
    const keyId = this.currentKeyId;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(keyId)!, iv);
    cipher.setAAD(aadV2(keyId, context));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v2',
      keyId,
      iv.toString('base64url'),
      ct.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  /**
   * Decrypts with the key the envelope names. Throws `KeyEncryptionKeyMismatchError` when that key
   * is not configured, and a plain error when the value does not authenticate under a configured key
   * (altered, or moved to another row).
   */
  decrypt(envelope: string, context: string): string {
    const parts = envelope.split('.');
    if (parts[0] === 'v2' && parts.length === 5) {
      const [, keyId, iv, ct, tag] = parts as [string, string, string, string, string];
      const key = this.keys.get(keyId);
      if (!key) throw new KeyEncryptionKeyMismatchError(context, keyId, this.keyIds);
      const plaintext = open(key, iv, ct, tag, aadV2(keyId, context));
      if (plaintext === undefined)
        throw new Error(
          `${context} does not decrypt with key-encryption key ${keyId}: the stored value was altered or belongs to another row`,
        );
      return plaintext;
    }
    const opened = this.openV1(envelope, context);
    if (opened) return opened.plaintext;
    throw new KeyEncryptionKeyMismatchError(context, null, this.keyIds);
  }

  /**
   * The id of the key an envelope is under, without decrypting when it carries one (a `v2` value:
   * configured or not); for a value without key id, the configured key that opens it, or null.
   */
  keyIdOf(envelope: string, context: string): string | null {
    const parts = envelope.split('.');
    if (parts[0] === 'v2' && parts.length === 5) return parts[1]!;
    return this.openV1(envelope, context)?.keyId ?? null;
  }

  /** Whether an envelope is in the current format under the current key (nothing to re-encrypt). */
  isCurrent(envelope: string): boolean {
    return envelope.startsWith(`v2.${this.currentKeyId}.`);
  }

  /** The same plaintext, encrypted with the current key (throws like `decrypt`). */
  reEncrypt(envelope: string, context: string): string {
    return this.encrypt(this.decrypt(envelope, context), context);
  }

  private openV1(envelope: string, context: string): { plaintext: string; keyId: string } | undefined {
    const [v, iv, ct, tag, extra] = envelope.split('.');
    if (v !== 'v1' || !iv || ct === undefined || !tag || extra !== undefined) return undefined;
    for (const [keyId, key] of this.keys) {
      const plaintext = open(key, iv, ct, tag, Buffer.from(context, 'utf8'));
      if (plaintext !== undefined) return { plaintext, keyId };
    }
    return undefined;
  }
}

function aadV2(keyId: string, context: string): Buffer {
  return Buffer.from(`v2.${keyId}.${context}`, 'utf8');
}

/** AES-256-GCM open; undefined when the tag does not verify. */
function open(key: Buffer, iv: string, ct: string, tag: string, aad: Buffer): string | undefined {
  const ivBytes = Buffer.from(iv, 'base64url');
  const tagBytes = Buffer.from(tag, 'base64url');
  if (ivBytes.length !== 12 || tagBytes.length !== 16) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: 16 });
  decipher.setAAD(aad);
  decipher.setAuthTag(tagBytes);
  try {
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** Parses a KEK: 32 bytes as base64url/base64 (43–44 chars) or hex (64 chars). */
export function parseKek(kek: string): Buffer {
  const trimmed = kek.trim();
  const buf = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64url');
  if (buf.length !== 32) throw new Error('keyEncryptionKey must be 32 bytes (base64url or hex)');
  return buf;
}

/**
 * Parses a list of KEKs, current first: an array, or one string with the keys separated by commas
 * (neither base64url nor hex contains one). Refuses an empty list, more than
 * `MAX_KEY_ENCRYPTION_KEYS`, a malformed key (named by position, never shown) and a repeated key.
 */
export function parseKeks(keks: string | readonly string[]): Buffer[] {
  const list = typeof keks === 'string' ? keks.split(',') : [...keks];
  if (list.every((k) => typeof k === 'string' && k.trim() === ''))
    throw new Error('keyEncryptionKey must hold at least one key');
  if (list.length > MAX_KEY_ENCRYPTION_KEYS)
    throw new Error(
      `keyEncryptionKey holds ${list.length} keys: at most ${MAX_KEY_ENCRYPTION_KEYS} (the current key and previous keys)`,
    );
  const keys = list.map((k, i) => {
    try {
      if (typeof k !== 'string') throw new Error();
      return parseKek(k);
    } catch {
      throw new Error(
        list.length === 1
          ? 'keyEncryptionKey must be 32 bytes (base64url or hex)'
          : `keyEncryptionKey: key ${i + 1} of ${list.length} must be 32 bytes (base64url or hex)`,
      );
    }
  });
  const ids = keys.map(keyEncryptionKeyId);
  const repeated = ids.findIndex((id, i) => ids.indexOf(id) !== i);
  if (repeated !== -1)
    throw new Error(`keyEncryptionKey: key ${repeated + 1} repeats key ${ids.indexOf(ids[repeated]!) + 1}`);
  return keys;
}
