/** Result of counting one request against a limit. */
export interface RateLimitResult {
  allowed: boolean;
  /** Seconds until the window resets (for `Retry-After`). */
  retryAfter: number;
}

/**
 * Fixed-window request counters. In memory for one instance; in Redis (`INCR` + `EXPIRE NX`)
 * when `redisUrl` is set, so that several instances share one budget.
 */
export abstract class RateLimiter {
  abstract hit(key: string, limit: number, windowSeconds: number): Promise<RateLimitResult>;
}
