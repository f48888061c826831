import { TypeOrmModule } from '@nestjs/typeorm';
import { ReplayStore } from '../../client-auth/replay.store.js';
import { ClientStore } from '../../clients/client.store.js';
import { EncryptedValueStore } from '../../key-encryption/encrypted-value.store.js';
import { SigningKeyStore } from '../../keys/signing-key.store.js';
import { SERVER_SETTINGS, type ServerSettings } from '../../options/server-settings.js';
import { InMemoryRateLimiter } from '../memory/in-memory-rate-limiter.js';
import { RateLimiter } from '../../rate-limit/rate-limiter.js';
import { InitialAccessTokenStore } from '../../registration/initial-access-token.store.js';
import { Clock } from '../../shared/clock.js';
import { DenyList } from '../../token/deny-list.js';
import { RedisRateLimiter } from '../redis/redis-rate-limiter.js';
import { RedisConnection, RedisDenyList, RedisReplayStore } from '../redis/redis-stores.js';
import type { ClavisStorage } from '../storage.js';
import { CredentialNoticeStore } from '../../expiry/credential-notice.store.js';
import { CredentialUsageStore } from '../../usage/credential-usage.store.js';
import { TypeOrmCredentialNoticeStore } from './typeorm-credential-notice.store.js';
import { TypeOrmCredentialUsageStore } from './typeorm-credential-usage.store.js';
import { StorageHealth, type StorageComponent } from '../../observability/storage-health.js';
import { CLAVIS_ENTITIES } from './index.js';
import { TypeOrmClientStore } from './typeorm-client.store.js';
import { TypeOrmConnection } from './typeorm-connection.js';
import { TypeOrmDenyList } from './typeorm-deny-list.js';
import { TypeOrmEncryptedValueStore } from './typeorm-encrypted-value.store.js';
import { TypeOrmInitialAccessTokenStore } from './typeorm-initial-access-token.store.js';
import { TypeOrmReplayStore } from './typeorm-replay.store.js';
import { TypeOrmSigningKeyStore } from './typeorm-signing-key.store.js';

/**
 * The default storage: Clavis's entities on the host's TypeORM DataSource (SQLite or PostgreSQL;
 * add `CLAVIS_ENTITIES` and `CLAVIS_MIGRATIONS` to it). With `redisUrl`, the replay store, the deny
 * list and the rate-limit counters live in Redis (shared by every instance); without it, the replay
 * store and the deny list are in the database and the counters in memory.
 * @see docs/adr/0019-storage-is-a-port.md
 */
export function typeOrmStorage(): ClavisStorage {
  return {
    name: 'typeorm',
    imports: [TypeOrmModule.forFeature(CLAVIS_ENTITIES)],
    providers: [
      TypeOrmConnection,
      { provide: ClientStore, useClass: TypeOrmClientStore },
      { provide: SigningKeyStore, useClass: TypeOrmSigningKeyStore },
      {
        provide: InitialAccessTokenStore,
        useClass: TypeOrmInitialAccessTokenStore,
      },
      { provide: EncryptedValueStore, useClass: TypeOrmEncryptedValueStore },
      { provide: CredentialUsageStore, useClass: TypeOrmCredentialUsageStore },
      { provide: CredentialNoticeStore, useClass: TypeOrmCredentialNoticeStore },
      TypeOrmReplayStore,
      TypeOrmDenyList,
      {
        provide: RedisConnection,
        inject: [SERVER_SETTINGS],
        useFactory: (s: ServerSettings) => new RedisConnection(s.redisUrl),
      },
      {
        provide: ReplayStore,
        inject: [RedisConnection, TypeOrmReplayStore, Clock],
        useFactory: (r: RedisConnection, db: TypeOrmReplayStore, clock: Clock) =>
          r.client ? new RedisReplayStore(r.client, () => clock.nowSeconds()) : db,
      },
      {
        provide: DenyList,
        inject: [RedisConnection, TypeOrmDenyList, Clock],
        useFactory: (r: RedisConnection, db: TypeOrmDenyList, clock: Clock) =>
          r.client ? new RedisDenyList(r.client, () => clock.nowSeconds()) : db,
      },
      {
        provide: StorageHealth,
        inject: [TypeOrmConnection, RedisConnection],
        useFactory: (db: TypeOrmConnection, r: RedisConnection) => new TypeOrmStorageHealth(db, r),
      },
      {
        provide: RateLimiter,
        inject: [RedisConnection, Clock],
        useFactory: (r: RedisConnection, clock: Clock) =>
          r.client ? new RedisRateLimiter(r.client) : new InMemoryRateLimiter(() => clock.now()),
      },
    ],
  };
}

/** The host's DataSource (`SELECT 1`) and, when configured, Redis (`PING`, which fails fast while it is down). */
class TypeOrmStorageHealth extends StorageHealth {
  constructor(
    private readonly db: TypeOrmConnection,
    private readonly redis: RedisConnection,
  ) {
    super();
  }

  components(): StorageComponent[] {
    const redis = this.redis.client;
    return [
      {
        name: 'database',
        ping: async () => {
          if (!this.db.dataSource.isInitialized) throw new Error('the DataSource is not initialized');
          await this.db.dataSource.query('SELECT 1');
        },
      },
      ...(redis ? [{ name: 'redis', ping: () => redis.ping() }] : []),
    ];
  }
}
