/**
 * Remembers client-assertion `jti`s, per client, until their assertion can no longer be accepted
 * (min(exp, iat + cap) + skew: docs/adr/0011-one-key-per-assertion.md). `consume` must be atomic
 * (an insert that fails on a duplicate, or Redis `SET NX`), never check-then-write, and it must
 * forget by time, never by size: an evicted entry would let a still-valid assertion through again.
 */
export abstract class ReplayStore {
  /** Records the jti; false when it was already recorded for this client and has not expired. */
  abstract consume(clientId: string, jti: string, expiresAt: number): Promise<boolean>;
  /** Removes entries whose `expiresAt` is before `now`; returns how many. */
  abstract purgeExpired(now: number): Promise<number>;
  /** How many entries have not expired at `now` (for metrics; optional, may be approximate). */
  count?(now: number): Promise<number>;
}
