/** Revoked access-token `jti`s, kept until the token's `exp`. */
export abstract class DenyList {
  abstract add(jti: string, expiresAt: number): Promise<void>;
  abstract isRevoked(jti: string): Promise<boolean>;
  /** Removes entries past their `expiresAt`; returns how many. */
  abstract purgeExpired(now: number): Promise<number>;
  /** How many entries have not expired at `now` (for metrics; optional, may be approximate). */
  count?(now: number): Promise<number>;
}
