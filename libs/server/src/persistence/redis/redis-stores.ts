import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { ReplayStore } from '../../client-auth/replay.store.js';
import { hashSecret } from '../../shared/crypto.js';
import { DenyList } from '../../token/deny-list.js';
import { TranslatesDriverFailures } from '../storage.js';
import { isRedisOutage } from './redis-failures.js';

/**
 * The Redis connection, when `redisUrl` is set. Commands fail fast while Redis is down (no offline
 * queue), so requests that need it answer 503 and recover by themselves when it returns. Commands
 * are auto-pipelined (docs/adr/0027-cross-instance-client-cache.md).
 */
export class RedisConnection implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly client?: Redis;
  private readonly logger = new Logger('ClavisRedis');

  constructor(url?: string) {
    if (!url) return;
    // ioredis is an optional peer dependency, loaded only when Redis is configured (ADR 0016).
    const { Redis } = loadIoredis();
    this.client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (times) => Math.min(times * 200, 2_000),
      keyPrefix: 'clavis:',
      // Commands issued in the same tick (the replay check and rate-limit hits of concurrent requests)
      // leave in one write: a write per command cost more server CPU than the command itself.
      enableAutoPipelining: true,
    });
    this.client.on('error', (e: Error) => this.logger.warn(`redis: ${e.message}`));
  }

  /**
   * Boot waits (up to the connect timeout) for the connection to be ready: without an offline queue,
   * a fresh instance would otherwise answer its first requests 503. Redis down at boot: serve anyway,
   * failing closed per request until it is back.
   */
  async onApplicationBootstrap(): Promise<void> {
    const client = this.client;
    if (!client || client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, 2_000);
      client.once('ready', done);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client && this.client.status !== 'end') await this.client.quit().catch(() => this.client?.disconnect());
  }
}

function loadIoredis(): typeof import('ioredis') {
  try {
    return createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  } catch (e) {
    throw new Error('redisUrl is set but the ioredis package cannot be loaded: npm install ioredis', { cause: e });
  }
}

/** Replay store in Redis: `SET key 1 EX ttl NX` is the atomic single-use check. */
@TranslatesDriverFailures('redis', isRedisOutage)
export class RedisReplayStore extends ReplayStore {
  constructor(
    private readonly redis: Redis,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    super();
  }

  async consume(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    const ttl = Math.max(1, expiresAt - this.now());
    const result = await this.redis.set(`jti:${hashSecret(clientId)}:${hashSecret(jti)}`, '1', 'EX', ttl, 'NX');
    return result === 'OK';
  }

  async purgeExpired(): Promise<number> {
    return 0; // Redis expires the keys itself
  }

  count(): Promise<number> {
    return countKeys(this.redis, 'jti:*');
  }
}

/** Deny list in Redis, each entry expiring with its token. */
@TranslatesDriverFailures('redis', isRedisOutage)
export class RedisDenyList extends DenyList {
  constructor(
    private readonly redis: Redis,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    super();
  }

  async add(jti: string, expiresAt: number): Promise<void> {
    const ttl = expiresAt - this.now();
    if (ttl > 0) await this.redis.set(`revoked:${jti}`, '1', 'EX', ttl);
  }

  async isRevoked(jti: string): Promise<boolean> {
    return (await this.redis.exists(`revoked:${jti}`)) === 1;
  }

  async purgeExpired(): Promise<number> {
    return 0;
  }

  count(): Promise<number> {
    return countKeys(this.redis, 'revoked:*');
  }
}

/** Keys under Clavis's prefix matching `pattern`, by SCAN (Redis keeps no count per prefix); callers cache it. */
async function countKeys(redis: Redis, pattern: string): Promise<number> {
  // SCAN's MATCH does not get ioredis's keyPrefix: add it.
  const match = `${redis.options.keyPrefix ?? ''}${pattern}`;
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}
