import { ReplayStore } from '../../client-auth/replay.store.js';
import { ClientStore } from '../../clients/client.store.js';
import { EncryptedValueStore } from '../../key-encryption/encrypted-value.store.js';
import { SigningKeyStore } from '../../keys/signing-key.store.js';
import { ClavisConfigurationError } from '../../options/resolve-server-options.js';
import { SERVER_SETTINGS, type ServerSettings } from '../../options/server-settings.js';
import { RateLimiter } from '../../rate-limit/rate-limiter.js';
import { InitialAccessTokenStore } from '../../registration/initial-access-token.store.js';
import { Clock } from '../../shared/clock.js';
import { DenyList } from '../../token/deny-list.js';
import type { ClavisStorage } from '../storage.js';
import { CredentialNoticeStore } from '../../expiry/credential-notice.store.js';
import { CredentialUsageStore } from '../../usage/credential-usage.store.js';
import { InMemoryCredentialNoticeStore, InMemoryCredentialUsageStore } from './in-memory-usage-stores.js';
import { InMemoryRateLimiter } from './in-memory-rate-limiter.js';
import {
  InMemoryClientStore,
  InMemoryDenyList,
  InMemoryEncryptedValueStore,
  InMemoryInitialAccessTokenStore,
  InMemoryReplayStore,
  InMemorySigningKeyStore,
  InMemoryTables,
} from './in-memory-stores.js';

export interface InMemoryStorageOptions {
  /** The tables to use: pass the same to several apps to stand for one database behind several instances. Default: new ones. */
  tables?: InMemoryTables;
}

/**
 * Every storage port in memory, for tests and examples: no database, no TypeORM, no Redis. Same
 * semantics as the database adapters (conditional writes, single-use assertion ids, expiry by the
 * Clock); nothing survives a restart. Not for production.
 * @example ClavisServerModule.forRoot({ issuer, keyEncryptionKey, storage: inMemoryStorage() })
 */
export function inMemoryStorage(options: InMemoryStorageOptions = {}): ClavisStorage {
  return {
    name: 'memory',
    providers: [
      options.tables ? { provide: InMemoryTables, useValue: options.tables } : InMemoryTables,
      { provide: ClientStore, useClass: InMemoryClientStore },
      { provide: SigningKeyStore, useClass: InMemorySigningKeyStore },
      { provide: InitialAccessTokenStore, useClass: InMemoryInitialAccessTokenStore },
      { provide: EncryptedValueStore, useClass: InMemoryEncryptedValueStore },
      { provide: ReplayStore, useClass: InMemoryReplayStore },
      { provide: DenyList, useClass: InMemoryDenyList },
      { provide: CredentialUsageStore, useClass: InMemoryCredentialUsageStore },
      { provide: CredentialNoticeStore, useClass: InMemoryCredentialNoticeStore },
      {
        provide: RateLimiter,
        inject: [SERVER_SETTINGS, Clock],
        useFactory: (s: ServerSettings, clock: Clock) => {
          // Redis would hold the replay store and deny list too: silently ignoring it would be a lie.
          if (s.redisUrl) throw new ClavisConfigurationError(['redisUrl cannot be used with the in-memory storage']);
          return new InMemoryRateLimiter(() => clock.now());
        },
      },
    ],
  };
}
