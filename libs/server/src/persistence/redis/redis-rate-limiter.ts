import type { Redis } from 'ioredis';
import { RateLimiter, type RateLimitResult } from '../../rate-limit/rate-limiter.js';
import { TranslatesDriverFailures } from '../storage.js';
import { isRedisOutage } from './redis-failures.js';

/** Shared counters in Redis: one `INCR` and an `EXPIRE … NX` per request, in one round trip. */
@TranslatesDriverFailures('redis', isRedisOutage)
export class RedisRateLimiter extends RateLimiter {
  constructor(private readonly redis: Redis) {
    super();
  }

  async hit(key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
    const results = await this.redis
      .multi()
      .incr(`rl:${key}`)
      .expire(`rl:${key}`, windowSeconds, 'NX')
      .ttl(`rl:${key}`)
      .exec();
    const count = Number(results?.[0]?.[1] ?? 0);
    const ttl = Number(results?.[2]?.[1] ?? windowSeconds);
    return { allowed: count <= limit, retryAfter: Math.max(1, ttl) };
  }
}
