/** A stored server signing key (private JWK encrypted with the KEK). */
export interface SigningKeyRecord {
  kid: string;
  alg: string;
  state: 'next' | 'active' | 'retired';
  publicJwk: Record<string, unknown>;
  privateJwkEncrypted: string;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
  removeAt: number | null;
}

/** Storage port for server signing keys. */
export abstract class SigningKeyStore {
  /** Every key not yet removed (next, active, retired). */
  abstract list(): Promise<SigningKeyRecord[]>;
  /** Inserts a key; false when the database refused it (e.g. a second active key). */
  abstract insert(key: SigningKeyRecord): Promise<boolean>;
  /**
   * In one transaction: retires the active key `retire` (if given) and activates `activate`, only if
   * `retire` is still the active key. False when another instance rotated first.
   */
  abstract promote(activate: string, retire: { kid: string; removeAt: number } | null, now: number): Promise<boolean>;
  /** Deletes retired keys whose `removeAt` has passed; returns how many. */
  abstract purgeRetired(now: number): Promise<number>;
}
