import type { Redis } from 'ioredis';
import { RateLimiter, type RateLimitResult } from '../../rate-limit/rate-limiter.js';
import { TranslatesDriverFailures } from '../storage.js';
import { isRedisOutage } from './redis-failures.js';

/**
 * One hit on a fixed-window counter, atomically: count it, start the window on the first hit (an
 * existing expiry is kept), and answer the count and the seconds left.
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
return { count, redis.call('TTL', KEYS[1]) }
`;

type ScriptedRedis = Redis & { clavisRateLimitHit(key: string, windowSeconds: number): Promise<[number, number]> };

/**
 * Shared counters in Redis: one script call per request (`EVALSHA`, loaded once by ioredis), which
 * the connection's auto-pipelining sends in the same write as the other commands of that tick. A
 * `MULTI` of `INCR`, `EXPIRE … NX` and `TTL` did the same in five commands and a write of its own.
 */
@TranslatesDriverFailures('redis', isRedisOutage)
export class RedisRateLimiter extends RateLimiter {
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis) {
    super();
    if (!('clavisRateLimitHit' in redis))
      redis.defineCommand('clavisRateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.redis = redis as ScriptedRedis;
  }

  async hit(key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
    const [count, ttl] = await this.redis.clavisRateLimitHit(`rl:${key}`, windowSeconds);
    return { allowed: Number(count) <= limit, retryAfter: Math.max(1, Number(ttl) > 0 ? Number(ttl) : windowSeconds) };
  }
}
