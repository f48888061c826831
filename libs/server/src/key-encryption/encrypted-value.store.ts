/** What a stored encrypted value is: a server signing key's private JWK, or a `client_secret_jwt` secret. */
export type EncryptedValueKind = 'signing_key' | 'client_secret';

/** One value encrypted with a key-encryption key, as stored. */
export interface EncryptedValue {
  kind: EncryptedValueKind;
  /** The row's primary key (signing key `kid`, or client secret id). */
  id: string;
  /** The additional authenticated data it is bound to (see `signingKeyContext`, `clientSecretContext`). */
  context: string;
  ciphertext: string;
}

/** The authenticated-data context of a signing key's private JWK (as SigningKeyService binds it). */
export function signingKeyContext(kid: string): string {
  return `signing_key:${kid}`;
}

/** The authenticated-data context of a client secret: its client and its own id (as ClientService binds it). */
export function clientSecretContext(clientId: string, secretId: string): string {
  return `client_secret:${clientId}:${secretId}`;
}

/**
 * Every value encrypted with a key-encryption key, for re-encryption after a key rotation.
 * @see docs/adr/0013-key-encryption-key-rotation.md
 */
export abstract class EncryptedValueStore {
  /** Up to `limit` values of one kind, in primary-key order, after `after` (exclusive; null = from the start). */
  abstract page(kind: EncryptedValueKind, after: string | null, limit: number): Promise<EncryptedValue[]>;
  /**
   * Replaces the ciphertext of `value` with `ciphertext` only if the row still holds
   * `value.ciphertext` (compare-and-set): false when the row changed or vanished meanwhile.
   */
  abstract replace(value: EncryptedValue, ciphertext: string): Promise<boolean>;
}
