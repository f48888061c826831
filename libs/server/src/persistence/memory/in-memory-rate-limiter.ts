import { RateLimiter, type RateLimitResult } from '../../rate-limit/rate-limiter.js';

const MAX_KEYS = 100_000;

/** Counters in a Map, forgotten when their window ends (and bounded in number). */
export class InMemoryRateLimiter extends RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly now: () => number = () => Date.now()) {
    super();
  }

  async hit(key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      if (!w && this.windows.size >= MAX_KEYS) this.sweep(now);
      w = { count: 0, resetAt: now + windowSeconds * 1000 };
      this.windows.set(key, w);
    }
    w.count++;
    return { allowed: w.count <= limit, retryAfter: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    // Still full: drop the oldest half (an evicted counter only restarts its window).
    if (this.windows.size >= MAX_KEYS)
      for (const k of [...this.windows.keys()].slice(0, MAX_KEYS / 2)) this.windows.delete(k);
  }
}
