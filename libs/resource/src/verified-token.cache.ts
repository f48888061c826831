import { hash } from 'node:crypto';

/**
 * Verified access tokens by SHA-256 of the token, each kept until its `exp` (plus skew), at most
 * `maxEntries` of them: when full, the oldest entry goes. Eviction only costs a re-verification, so a
 * size bound is right here (unlike a replay store, which must forget by time only).
 */
export class VerifiedTokenCache<T extends { exp: number }> {
  private readonly entries = new Map<string, T>();

  constructor(
    private readonly maxEntries: number,
    private readonly skewSeconds: number,
  ) {}

  /** Cache key of a token: its SHA-256, so the cache never holds usable tokens. */
  static keyOf(token: string): string {
    return hash('sha256', token, 'base64url');
  }

  /** The cached value while `nowSeconds < exp + skew` (what `jwtVerify` accepts), else `undefined`. */
  get(key: string, nowSeconds: number): T | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (nowSeconds < entry.exp + this.skewSeconds) return entry;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: T): void {
    if (this.maxEntries === 0) return;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }
}
